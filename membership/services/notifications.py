"""Emails that money events cause, queued in the outbox in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from membership.config import Config
from membership.formatting import format_date, format_money
from membership.frequency import frequency_of, frequency_words
from membership.models import Donation, Subscription, Supporter
from membership.services.outbox import enqueue_email


def _frequency_label(donation: Donation, session: Session) -> str:
    subscription = session.get(Subscription, donation.subscription_id or 0)
    interval = subscription.interval if subscription is not None else None
    return frequency_words(frequency_of(donation.kind, interval)).gift


def queue_receipt(
    session: Session, donation: Donation, config: Config, *, dedupe_key: str | None = None
) -> bool:
    """Queue the receipt email; False when there is nobody to send it to or `dedupe_key` (by
    default receipt:<id>, one receipt per donation) was already used."""
    supporter = session.get(Supporter, donation.supporter_id) if donation.supporter_id else None
    # A supporter may turn receipts off (their yearly statement stays on the account page).
    if supporter is None or not supporter.email or not supporter.receipt_emails:
        return False
    context: dict[str, Any] = {
        "donation": donation,
        "publication": config.publication_name,
        "address": config.publication_address,
        "gift": format_money(donation.amount_cents, donation.currency, always_cents=True),
        "fee": format_money(donation.fee_cents, donation.currency, always_cents=True),
        "total": format_money(donation.total_cents, donation.currency, always_cents=True),
        "date": format_date(donation.paid_at, config.zone),
        "frequency": _frequency_label(donation, session),
        "account_url": f"{config.base_url.rstrip('/')}/account",
    }
    queued = enqueue_email(
        session,
        kind="receipt",
        to=supporter.email,
        subject=f"Your receipt from {config.publication_name} ({donation.receipt_number})",
        text=render_template("emails/receipt.txt", **context),
        html=render_template("emails/receipt.html", **context),
        dedupe_key=dedupe_key or f"receipt:{donation.id}",
    )
    return queued is not None


def queue_payment_failed(
    session: Session,
    *,
    to: str,
    subscription: Subscription,
    fix_url: str,
    attempt: int,
    next_attempt: datetime | None,
    invoice_id: str,
    config: Config,
) -> None:
    context: dict[str, Any] = {
        "publication": config.publication_name,
        "amount": format_money(subscription.amount_cents, subscription.currency, always_cents=True),
        "interval": "month" if subscription.interval.value == "month" else "year",
        "fix_url": fix_url,
        "next_attempt": format_date(next_attempt, config.zone) if next_attempt else None,
        "address": config.publication_address,
    }
    enqueue_email(
        session,
        kind="payment_failed",
        to=to,
        subject=f"Your support for {config.publication_name}: the payment didn't go through",
        text=render_template("emails/payment_failed.txt", **context),
        html=render_template("emails/payment_failed.html", **context),
        dedupe_key=f"payment_failed:{invoice_id}:{attempt}",
    )


def queue_dispute_alert(
    session: Session, donation: Donation, dispute: dict[str, Any], config: Config
) -> None:
    context: dict[str, Any] = {
        "donation": donation,
        "dispute": dispute,
        "amount": format_money(
            int(dispute.get("amount") or donation.total_cents), donation.currency, always_cents=True
        ),
        "reason": str(dispute.get("reason") or "not given").replace("_", " "),
        "due": format_date(
            datetime.fromtimestamp(int(dispute["evidence_details"]["due_by"]), tz=config.zone)
            if (dispute.get("evidence_details") or {}).get("due_by")
            else None,
            config.zone,
        ),
        "publication": config.publication_name,
    }
    enqueue_email(
        session,
        kind="dispute",
        to=config.staff_notification_email,
        subject=f"Dispute opened on receipt {donation.receipt_number}: respond in Stripe",
        text=render_template("emails/dispute_alert.txt", **context),
        dedupe_key=f"dispute:{dispute.get('id')}",
    )
