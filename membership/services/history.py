"""A realistic, reproducible history of giving (supporters, subscriptions with churn and pauses,
one-off gifts, refunds, disputes, checkouts, banner counters) for the demo, tests and benchmarks.

Rows are generated from a seeded RNG and inserted in batches with executemany, in constant memory,
so the same function fills a demo database with thousands of rows or a benchmark with millions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from membership.dates import add_months
from membership.models import (
    BannerStat,
    BillingInterval,
    DisputeMovement,
    Donation,
    DonationIntent,
    DonationRefund,
    MrrSpan,
    Subscription,
    Supporter,
)
from membership.services.checkout import processing_fee
from membership.services.mrr import monthly_cents
from membership.services.reports import summary

Row = dict[str, Any]
DISPUTE_FEE = 1500  # what Stripe charges per dispute (US), in cents
MARKER = "HIST"  # receipt numbers of generated donations start with it
MONTHLY = (300, 500, 500, 1000, 1000, 1500, 2500)
ANNUAL = (2500, 5000, 5000, 10000, 12000)
ONE_OFF = (100, 300, 500, 500, 1000, 1000, 2000, 2500, 5000, 10000)
NAMES = ("Ada", "Bo", "Chen", "Dara", "Emeka", "Farah", "Gus", "Hana", "Ines", "Jon", "Kai",
         "Lena", "Mo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tove")  # fmt: skip


@dataclass(frozen=True)
class HistorySpec:
    now: datetime
    subscriptions: int = 300
    one_off: int = 3000
    days: int = 365
    seed: int = 7
    currency: str = "usd"
    article_ids: Sequence[int] = ()
    variant_ids: Sequence[int] = ()
    with_intents: bool = True
    with_banner_stats: bool = True


@dataclass
class HistoryCounts:
    supporters: int = 0
    subscriptions: int = 0
    donations: int = 0
    refunds: int = 0
    disputes: int = 0
    intents: int = 0


class _Ids:
    """Explicit primary keys, continuing after what the tables hold."""

    def __init__(self, session: Session) -> None:
        def top(model: Any) -> int:
            return int(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)

        self.next = {
            m.__tablename__: top(m) + 1
            for m in (
                Supporter,
                Subscription,
                Donation,
                DonationRefund,
                DisputeMovement,
                MrrSpan,
                DonationIntent,
            )
        }

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def generate(
    session: Session, spec: HistorySpec, counts: HistoryCounts, batch: int = 5000
) -> Iterator[tuple[Any, list[Row]]]:
    """Batches of (model, rows) in foreign-key order; ids are assigned here."""
    rng = random.Random(spec.seed)  # noqa: S311 (reproducible data, not secrets)
    ids = _Ids(session)
    start = spec.now - timedelta(days=spec.days)
    articles: list[int | None] = [*spec.article_ids] or [None]
    variants: list[int | None] = [*spec.variant_ids] or [None]
    order = [Supporter, DonationIntent, Subscription, MrrSpan, Donation, DonationRefund,
             DisputeMovement]  # fmt: skip
    pending: dict[Any, list[Row]] = {m: [] for m in order}

    def flush(force: bool = False) -> Iterator[tuple[Any, list[Row]]]:
        # Parents before children, so foreign keys hold at every batch.
        if force or any(len(rows) >= batch for rows in pending.values()):
            for model in order:
                if pending[model]:
                    yield model, pending[model]
                    pending[model] = []

    def supporter(when: datetime) -> int:
        sid = ids.take("supporter")
        counts.supporters += 1
        name = f"{rng.choice(NAMES)} {rng.choice(NAMES)}son"
        pending[Supporter].append({"id": sid, "email": f"reader{sid}@example.org",
                                   "name": name, "active": True, "created_at": when})  # fmt: skip
        return sid

    def when_between(a: datetime, b: datetime) -> datetime:
        # Growth: later days are a little more likely than earlier ones.
        fraction = rng.random() ** 0.8
        moment: datetime = a + (b - a) * fraction
        return moment.replace(microsecond=0)

    def donation(**values: Any) -> int:
        did = ids.take("donation")
        paid_at: datetime = values["paid_at"]
        row: Row = {
            "id": did,
            "currency": spec.currency,
            "status": "succeeded",
            "refunded_cents": 0,
            "dispute_id": None,
            "dispute_status": None,
            "disputed_at": None,
            "stripe_payment_intent_id": f"pi_hist_{did}",
            "stripe_invoice_id": None,
            "stripe_charge_id": None,
            "stripe_checkout_session_id": None,
            "subscription_id": None,
            "intent_id": None,
            "receipt_number": f"{MARKER}-{paid_at.year}-{did:07d}",
            "created_at": paid_at,
        }
        row.update(values)
        total = int(row["amount_cents"]) + int(row["fee_cents"])
        roll = rng.random()
        if roll < 0.015:
            refund_at = min(paid_at + timedelta(days=rng.randint(1, 20)), spec.now)
            amount = total if rng.random() < 0.66 else max(1, total // rng.choice((2, 3, 4)))
            row["refunded_cents"] = amount
            row["status"] = "refunded" if amount == total else "partially_refunded"
            pending[DonationRefund].append({"id": ids.take("donation_refund"), "donation_id": did,
                                            "amount_cents": amount, "refunded_at": refund_at})  # fmt: skip
        elif roll < 0.0165 or (row["kind"] == "one_off" and not counts.disputes and roll < 0.2):
            counts.disputes += 1
            outcome = rng.choice(("needs_response", "won", "lost"))
            row["dispute_id"] = f"dp_hist_{did}"
            row["dispute_status"] = outcome
            row["disputed_at"] = min(paid_at + timedelta(days=rng.randint(5, 30)), spec.now)
            row["status"] = "succeeded" if outcome == "won" else "disputed"
            # Stripe withdraws the money and its dispute fee; a won dispute gives the money back.
            moves = [(total, DISPUTE_FEE, row["disputed_at"])]
            if outcome == "won":
                moves.append((-total, 0, min(row["disputed_at"] + timedelta(days=60), spec.now)))
            for amount, fee, moved_at in moves:
                mid = ids.take("dispute_movement")
                pending[DisputeMovement].append({"id": mid, "donation_id": did,
                                                 "stripe_dispute_id": row["dispute_id"],
                                                 "stripe_balance_transaction_id": f"txn_hist_{mid}",
                                                 "amount_cents": amount, "fee_cents": fee,
                                                 "moved_at": moved_at})  # fmt: skip
        pending[Donation].append(row)
        counts.donations += 1
        return did

    def intent(created: datetime, amount: int, fee: int, frequency: str, status: str,
               article: int | None, variant: int | None) -> int:  # fmt: skip
        iid = ids.take("donation_intent")
        pending[DonationIntent].append({
            "id": iid, "amount_cents": amount, "fee_cents": fee, "currency": spec.currency,
            "frequency": frequency, "email": None, "source_article_id": article,
            "variant_id": variant, "status": status, "checkout_session_id": None,
            "created_at": created, "completed_at": created if status == "completed" else None,
        })  # fmt: skip
        counts.intents += 1
        return iid

    # Recurring supporters: start, pay each period, sometimes pause, change amount or leave.
    for _ in range(spec.subscriptions):
        started = when_between(start, spec.now)
        yearly = rng.random() < 0.12
        gift = rng.choice(ANNUAL if yearly else MONTHLY)
        fee = processing_fee(gift, 2.9, 30) if rng.random() < 0.35 else 0
        article, variant = rng.choice(articles), rng.choice(variants)
        sid = supporter(started)
        sub_id = ids.take("subscription")
        counts.subscriptions += 1
        intent_id = None
        if spec.with_intents:
            intent_id = intent(started - timedelta(minutes=3), gift, fee,
                               "annual" if yearly else "monthly", "completed", article, variant)  # fmt: skip
        step = 12 if yearly else 1
        interval = BillingInterval.YEAR if yearly else BillingInterval.MONTH
        churn_hazard = 0.25 if yearly else 0.045
        pause_at = rng.randint(2, 9) if not yearly and rng.random() < 0.06 else None
        pause_months = rng.randint(1, 2)
        change_at = rng.randint(2, 8) if not yearly and rng.random() < 0.05 else None
        amount_gift, amount_fee = gift, fee
        spans: list[tuple[datetime, datetime | None, int]] = []
        span_start: datetime | None = started
        status, ended, paused_until, canceled = "active", None, None, None
        cancel_at_end = False
        k = 0
        while True:
            due = add_months(started, k * step)
            if due > spec.now:
                break
            if pause_at is not None and k == pause_at:
                resume = add_months(started, (k + pause_months) * step)
                if span_start is not None:
                    spans.append(
                        (span_start, due, monthly_cents(amount_gift + amount_fee, interval))
                    )
                if resume > spec.now:
                    status, paused_until, span_start = "paused", resume, None
                    break
                span_start = resume
                k += pause_months
                continue
            if change_at is not None and k == change_at:
                if span_start is not None:
                    spans.append(
                        (span_start, due, monthly_cents(amount_gift + amount_fee, interval))
                    )
                amount_gift = rng.choice([a for a in MONTHLY if a != amount_gift])
                amount_fee = processing_fee(amount_gift, 2.9, 30) if amount_fee else 0
                span_start = due
            donation(amount_cents=amount_gift, fee_cents=amount_fee, kind="recurring",
                     paid_at=due, supporter_id=sid, subscription_id=sub_id,
                     intent_id=intent_id if k == 0 else None, source_article_id=article,
                     variant_id=variant)  # fmt: skip
            k += 1
            if rng.random() < churn_hazard:
                period_end = add_months(started, k * step)
                canceled = min(period_end - timedelta(days=rng.randint(0, 20)), spec.now)
                if period_end <= spec.now:
                    ended, status = period_end, "canceled"
                else:  # cancelled, but paid up until the period ends
                    cancel_at_end = True
                break
        if span_start is not None:
            spans.append((span_start, ended, monthly_cents(amount_gift + amount_fee, interval)))
        if status == "active" and rng.random() < 0.03:
            status = "past_due"
        pending[Subscription].append({
            "id": sub_id, "stripe_subscription_id": f"sub_hist_{sub_id}", "supporter_id": sid,
            "intent_id": intent_id, "amount_cents": amount_gift + amount_fee,
            "fee_cents": amount_fee, "currency": spec.currency,
            "interval": "year" if yearly else "month", "status": status,
            "current_period_end": add_months(started, k * step), "cancel_at_period_end": cancel_at_end,
            "canceled_at": canceled, "ended_at": ended, "paused_until": paused_until,
            "source_article_id": article, "variant_id": variant, "started_at": started,
            "stripe_updated_at": None,
        })  # fmt: skip
        for begins, ends, mrr in spans:
            if ends is not None and ends <= begins:
                continue
            pending[MrrSpan].append({"id": ids.take("mrr_span"), "subscription_id": sub_id,
                                     "mrr_cents": mrr, "starts_at": begins, "ends_at": ends})  # fmt: skip
        yield from flush()
    # One-off gifts, some from returning supporters; a third of checkouts are abandoned.
    donors: list[int] = []
    for _ in range(spec.one_off):
        paid = when_between(start, spec.now)
        if donors and rng.random() < 0.25:
            sid = rng.choice(donors)
        else:
            sid = supporter(paid)
            if len(donors) < 5000:
                donors.append(sid)
        gift = rng.choice(ONE_OFF) if rng.random() < 0.9 else rng.randint(100, 20000)
        fee = processing_fee(gift, 2.9, 30) if rng.random() < 0.3 else 0
        article, variant = rng.choice(articles), rng.choice(variants)
        intent_id = None
        if spec.with_intents:
            intent_id = intent(
                paid - timedelta(minutes=2), gift, fee, "once", "completed", article, variant
            )
            if rng.random() < 0.5:
                intent(paid - timedelta(hours=rng.randint(1, 48)), gift, 0, "once",
                       rng.choice(("expired", "expired", "failed")), article, variant)  # fmt: skip
        donation(amount_cents=gift, fee_cents=fee, kind="one_off", paid_at=paid, supporter_id=sid,
                 intent_id=intent_id, source_article_id=article, variant_id=variant)  # fmt: skip
        yield from flush()
    yield from flush(force=True)
    if spec.with_banner_stats and spec.variant_ids:
        stats: list[Row] = []
        first_day = start.date()
        for offset in range(spec.days + 1):
            day = first_day + timedelta(days=offset)
            for v_index, variant in enumerate(spec.variant_ids):
                for article in [0, *spec.article_ids]:
                    impressions = rng.randint(80, 600) if article else rng.randint(10, 60)
                    # The second variant converts a little better: the demo has a winner.
                    rate = 0.018 + 0.006 * v_index
                    clicks = sum(1 for _ in range(impressions) if rng.random() < rate)
                    stats.append({"day": day, "variant_id": variant, "article_id": article,
                                  "impressions": impressions, "clicks": clicks})  # fmt: skip
        yield BannerStat, stats


def insert_history(session: Session, spec: HistorySpec, batch: int = 5000) -> HistoryCounts:
    """Generate and insert; the caller commits. Sequences are moved past the explicit ids."""
    counts = HistoryCounts()
    for model, rows in generate(session, spec, counts, batch):
        session.execute(insert(model), rows)
    if session.get_bind().dialect.name == "postgresql":
        for table in ("supporter", "subscription", "donation", "donation_refund",
                      "dispute_movement", "mrr_span", "donation_intent", "banner_stat"):  # fmt: skip
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (our names)
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            )
    session.flush()
    # Rows inserted in bulk, around the writers: the summary of each kept zone is recomputed.
    for zone in summary.summary_zones(session):
        summary.rebuild(session, ZoneInfo(zone))
    return counts


def generated_history_exists(session: Session) -> bool:
    return (
        session.scalar(
            select(Donation.id).where(Donation.receipt_number.like(f"{MARKER}-%")).limit(1)
        )
        is not None
    )


def today_in(zone: Any, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()
