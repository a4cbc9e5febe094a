"""Supporter accounts: sign-in links and passwords, giving history, statements, recurring gifts."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import render_template
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.dates import add_months
from membership.formatting import decimal_amount, format_money
from membership.frequency import frequency_of, frequency_words
from membership.models import (
    AccountKind,
    BillingInterval,
    Donation,
    DonationStatus,
    EmailMessage,
    EmailStatus,
    SignInToken,
    StaffMember,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments.gateway import StripeGateway
from membership.services.checkout import processing_fee
from membership.services.outbox import enqueue_email
from membership.services.sql import insert_or_ignore
from membership.services.supporters import normalize_email

Account = Supporter | StaffMember

MAX_NEXT_LENGTH = 500
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_RECEIPT_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
# Subscriptions a supporter can still change; the others are shown but not offered actions.
MANAGEABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
SHOWN = (*MANAGEABLE, SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED)
PAUSE_MONTHS = (1, 2, 3)


class AccountError(ValueError):
    """The account action cannot go ahead; the message is for the person."""


class SignInLinkInvalid(AccountError):
    """Unknown, tampered, used or expired: one message for all, so nothing is revealed."""

    def __init__(self) -> None:
        super().__init__(
            "This sign-in link has expired or has already been used. Links work once, for "
            "10 minutes. Ask for a new one below."
        )


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_browser_nonce() -> str:
    return secrets.token_urlsafe(24)


def safe_next_path(raw: str | None) -> str | None:
    """`raw` if it is a path on this site ("/account/..."), else None: never another origin."""
    if not raw or len(raw) > MAX_NEXT_LENGTH:
        return None
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return raw


# Sign-in by emailed link


def _active_staff(session: Session, address: str) -> StaffMember | None:
    return session.scalar(
        select(StaffMember).where(StaffMember.email == address, StaffMember.active.is_(True))
    )


def _supporter_by_email(session: Session, address: str) -> Supporter | None:
    return session.scalar(select(Supporter).where(Supporter.email == address))


def request_sign_in_link(
    session: Session,
    *,
    email: str,
    browser_nonce: str,
    next_path: str | None,
    config: Config,
    now: datetime,
) -> None:
    """Store a new link's hash and queue the email with the link.

    The same work happens whether or not anyone has this address, so neither the answer nor
    its timing tells a stranger who has an account. An unknown address gets a working link
    too: its supporter row is created when the link is used, once the address is proven.
    """
    address = normalize_email(email)
    staff = _active_staff(session, address)
    supporter = None if staff is not None else _supporter_by_email(session, address)
    token = secrets.token_urlsafe(32)
    row = SignInToken(
        token_hash=hash_secret(token),
        kind=AccountKind.STAFF if staff is not None else AccountKind.SUPPORTER,
        email=address,
        supporter_id=supporter.id if supporter is not None else None,
        staff_id=staff.id if staff is not None else None,
        browser_hash=hash_secret(browser_nonce),
        next_path=safe_next_path(next_path) or "",
        created_at=now,
        expires_at=now + timedelta(minutes=config.sign_in_link_minutes),
    )
    session.add(row)
    session.flush()
    link = f"{config.base_url.rstrip('/')}/account/sign-in/{token}"
    context = {
        "link": link,
        "minutes": config.sign_in_link_minutes,
        "publication": config.publication_name,
        "address": config.publication_address,
    }
    enqueue_email(
        session,
        kind="sign_in",
        to=address,
        subject=f"Your sign-in link for {config.publication_name}",
        text=render_template("emails/sign_in.txt", **context),
        html=render_template("emails/sign_in.html", **context),
        dedupe_key=f"sign_in:{row.id}",
        now=now,
    )


@dataclass(frozen=True)
class LinkCheck:
    same_browser: bool
    kind: AccountKind


def check_sign_in_link(
    session: Session, token: str, *, browser_nonce: str | None, now: datetime
) -> LinkCheck:
    """Whether a link can still be used, without using it (mail scanners open links too)."""
    row = _usable_token(session, token, now)
    same = browser_nonce is not None and secrets.compare_digest(
        row.browser_hash, hash_secret(browser_nonce)
    )
    return LinkCheck(same_browser=same, kind=row.kind)


def _usable_token(session: Session, token: str, now: datetime) -> SignInToken:
    if not _TOKEN_RE.match(token):
        raise SignInLinkInvalid()
    row = session.scalar(select(SignInToken).where(SignInToken.token_hash == hash_secret(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise SignInLinkInvalid()
    return row


def use_sign_in_link(session: Session, token: str, *, now: datetime) -> tuple[Account, str]:
    """Spend the link: the account it signs in, and where to go next.

    One conditional UPDATE marks it used, so two clicks at the same moment sign in once.
    """
    if not _TOKEN_RE.match(token):
        raise SignInLinkInvalid()
    token_id = session.execute(
        update(SignInToken)
        .where(
            SignInToken.token_hash == hash_secret(token),
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if token_id is None:
        raise SignInLinkInvalid()
    row = session.get(SignInToken, token_id)
    if row is None:  # pragma: no cover - updated just above in this transaction
        raise SignInLinkInvalid()
    _forget_link_in_outbox(session, row.id)
    account: Account | None
    if row.kind is AccountKind.STAFF:
        account = session.get(StaffMember, row.staff_id) if row.staff_id else None
        if account is None or not account.active:
            raise AccountError("This staff account is closed. Ask an admin to reopen it.")
    else:
        account = _supporter_for_proven_address(session, row)
        account.last_sign_in_at = now
    session.flush()
    return account, row.next_path


def _supporter_for_proven_address(session: Session, row: SignInToken) -> Supporter:
    supporter = session.get(Supporter, row.supporter_id) if row.supporter_id else None
    if supporter is None:
        supporter = _supporter_by_email(session, row.email)
    if supporter is None:
        # The address is proven now: a reader who never gave may keep preferences here. The
        # insert ignores a concurrent one (e.g. a webhook creating the same person).
        insert_or_ignore(session, Supporter, {"email": row.email, "name": ""}, ["email"])
        supporter = _supporter_by_email(session, row.email)
    if supporter is None or not supporter.active:
        raise AccountError("This account is closed.")
    return supporter


def _forget_link_in_outbox(session: Session, token_id: int) -> None:
    """The sent email's body holds the raw link; once used it is worthless, so drop it."""
    session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.dedupe_key == f"sign_in:{token_id}",
            EmailMessage.status == EmailStatus.SENT,
        )
        .values(text_body="(sign-in link: used)", html_body=None)
        .execution_options(synchronize_session=False)
    )


def purge_sign_in_links(session: Session, *, config: Config, now: datetime) -> int:
    """Blank the bodies of sign-in emails whose links expired, and drop day-old token rows."""
    expired_before = now - timedelta(minutes=config.sign_in_link_minutes)
    result = session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.kind == "sign_in",
            EmailMessage.created_at < expired_before,
            EmailMessage.status.in_([EmailStatus.SENT, EmailStatus.FAILED]),
            EmailMessage.html_body.is_not(None),
        )
        .values(text_body="(sign-in link: expired)", html_body=None)
        .execution_options(synchronize_session=False)
    )
    old = session.scalars(
        select(SignInToken).where(SignInToken.expires_at < now - timedelta(days=1))
    ).all()
    for row in old:
        session.delete(row)
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0) + len(old)


# Passwords (optional)

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def sign_in_with_password(session: Session, *, email: str, password: str) -> Account:
    """The account whose password this is; one message for every failure, and an argon2
    verification even for unknown addresses so the timing says nothing either."""
    address = normalize_email(email)
    account: Account | None = _active_staff(session, address)
    if account is None:
        supporter = _supporter_by_email(session, address)
        account = supporter if supporter is not None and supporter.active else None
    stored = account.password_hash if account is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or stored is None:
        raise AccountError(
            "That email address and password don't match. You can always sign in with an "
            "emailed link instead."
        )
    if _hasher.check_needs_rehash(stored):
        account.password_hash = _hasher.hash(password)
    if isinstance(account, Supporter):
        account.last_sign_in_at = datetime.now(UTC)
    session.flush()
    return account


def set_password(session: Session, supporter: Supporter, password: str) -> None:
    if not 10 <= len(password) <= 200:
        raise AccountError("Choose a password of at least 10 characters.")
    supporter.password_hash = _hasher.hash(password)
    session.flush()


def remove_password(session: Session, supporter: Supporter) -> None:
    supporter.password_hash = None
    session.flush()


def sign_out_everywhere(session: Session, account: Account) -> None:
    """Every session signed in before now stops working (the user loader checks the epoch)."""
    account.login_epoch = (account.login_epoch or 0) + 1
    session.flush()


# Giving history


def net_cents(donation: Donation) -> int:
    """What a payment gave in the end: gift plus covered fee, minus refunds; nothing while a
    dispute holds the money or after the bank reversed it."""
    if donation.status is DonationStatus.DISPUTED:
        return 0
    return max(donation.total_cents - donation.refunded_cents, 0)


STATUS_LABELS = {
    DonationStatus.SUCCEEDED: "Paid",
    DonationStatus.REFUNDED: "Refunded",
    DonationStatus.PARTIALLY_REFUNDED: "Partly refunded",
    DonationStatus.DISPUTED: "Disputed",
    DonationStatus.FAILED: "Failed",
}


def status_label(donation: Donation) -> str:
    if donation.status is DonationStatus.DISPUTED and donation.dispute_status == "won":
        return "Paid (dispute resolved)"
    return STATUS_LABELS.get(donation.status, donation.status.value)


@dataclass(frozen=True)
class RecurringGift:
    subscription: Subscription
    next_payment: datetime | None
    manageable: bool

    @property
    def every(self) -> str:
        return "month" if self.subscription.interval is BillingInterval.MONTH else "year"


@dataclass(frozen=True)
class Overview:
    lifetime: dict[str, int]
    gifts: list[Donation]
    recurring: list[RecurringGift]
    years: list[int]
    frequency_of: dict[int, str] = field(default_factory=dict)


def next_payment(subscription: Subscription) -> datetime | None:
    """When the card is next charged: the period end, or the first one after a pause."""
    if subscription.cancel_at_period_end or subscription.current_period_end is None:
        return None
    when = subscription.current_period_end
    step = 1 if subscription.interval is BillingInterval.MONTH else 12
    if subscription.paused_until is not None:
        # Renewals before the pause ends are skipped (their invoices are voided).
        for _ in range(48):
            if when >= subscription.paused_until:
                break
            when = add_months(when, step)
    return when


def account_overview(session: Session, supporter: Supporter, *, zone: ZoneInfo) -> Overview:
    gifts = list(
        session.scalars(
            select(Donation)
            .where(Donation.supporter_id == supporter.id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc())
        )
    )
    lifetime: dict[str, int] = {}
    for donation in gifts:
        lifetime[donation.currency] = lifetime.get(donation.currency, 0) + net_cents(donation)
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.supporter_id == supporter.id, Subscription.status.in_(SHOWN))
        .order_by(Subscription.started_at.desc())
    ).all()
    recurring = [RecurringGift(s, next_payment(s), s.status in MANAGEABLE) for s in subscriptions]
    intervals: dict[int, BillingInterval] = {
        row.id: row.interval
        for row in session.execute(
            select(Subscription.id, Subscription.interval).where(
                Subscription.supporter_id == supporter.id
            )
        )
    }
    frequency_of = {d.id: _frequency_label(d, intervals.get(d.subscription_id or 0)) for d in gifts}
    years = sorted({d.paid_at.astimezone(zone).year for d in gifts}, reverse=True)
    return Overview(lifetime, gifts, recurring, years, frequency_of)


def _frequency_label(donation: Donation, interval: BillingInterval | None) -> str:
    return frequency_words(frequency_of(donation.kind, interval)).label


def receipt_for(session: Session, supporter: Supporter, receipt_number: str) -> Donation | None:
    """The supporter's own donation with this receipt number; None for anyone else's."""
    if not _RECEIPT_RE.match(receipt_number):
        return None
    return session.scalar(
        select(Donation).where(
            Donation.receipt_number == receipt_number, Donation.supporter_id == supporter.id
        )
    )


def donation_frequency(session: Session, donation: Donation) -> str:
    interval = (
        session.scalar(
            select(Subscription.interval).where(Subscription.id == donation.subscription_id)
        )
        if donation.subscription_id
        else None
    )
    return _frequency_label(donation, interval)


@dataclass(frozen=True)
class StatementTotals:
    gift: int = 0
    fee: int = 0
    refunded: int = 0
    net: int = 0


@dataclass(frozen=True)
class Statement:
    year: int
    donations: list[Donation]
    totals: dict[str, StatementTotals]


def yearly_statement(
    session: Session, supporter: Supporter, year: int, *, zone: ZoneInfo
) -> Statement:
    """Every payment in one calendar year of the publication's time zone, oldest first."""
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    donations = list(
        session.scalars(
            select(Donation)
            .where(
                Donation.supporter_id == supporter.id,
                Donation.paid_at >= start,
                Donation.paid_at < end,
            )
            .order_by(Donation.paid_at, Donation.id)
        )
    )
    totals: dict[str, StatementTotals] = {}
    for d in donations:
        t = totals.get(d.currency, StatementTotals())
        totals[d.currency] = StatementTotals(
            gift=t.gift + d.amount_cents,
            fee=t.fee + d.fee_cents,
            refunded=t.refunded + d.refunded_cents,
            net=t.net + net_cents(d),
        )
    return Statement(year, donations, totals)


def statement_csv(statement: Statement, *, zone: ZoneInfo, frequencies: dict[int, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["date", "receipt_number", "kind", "status", "gift", "fee_covered", "refunded",
         "counted", "currency"]
    )  # fmt: skip
    for d in statement.donations:
        writer.writerow(
            [
                d.paid_at.astimezone(zone).date().isoformat(),
                d.receipt_number or "",
                frequencies.get(d.id, ""),
                status_label(d),
                decimal_amount(d.amount_cents, d.currency),
                decimal_amount(d.fee_cents, d.currency),
                decimal_amount(d.refunded_cents, d.currency),
                decimal_amount(net_cents(d), d.currency),
                d.currency.upper(),
            ]
        )
    for currency, t in sorted(statement.totals.items()):
        writer.writerow(
            ["total", "", "", "", decimal_amount(t.gift, currency), decimal_amount(t.fee, currency),
             decimal_amount(t.refunded, currency), decimal_amount(t.net, currency), currency.upper()]
        )  # fmt: skip
    return out.getvalue()


# Recurring gifts: Stripe first, our row follows from the webhook


@dataclass(frozen=True)
class PendingChange:
    """What a change should look like once Stripe's webhook has updated our row."""

    subscription_id: int
    expect: dict[str, Any]

    def reflected_in(self, subscription: Subscription) -> bool:
        if subscription.status is SubscriptionStatus.CANCELED:
            return True
        for key, wanted in self.expect.items():
            if key == "paused_until":
                actual: Any = (
                    int(subscription.paused_until.timestamp())
                    if subscription.paused_until
                    else None
                )
            elif key == "interval":
                actual = subscription.interval.value
            else:
                actual = getattr(subscription, key)
            if actual != wanted:
                return False
        return True


def owned_subscription(
    session: Session, supporter: Supporter, subscription_id: int
) -> Subscription | None:
    """The supporter's own subscription; None for anyone else's (the view answers 404)."""
    return session.scalar(
        select(Subscription).where(
            Subscription.id == subscription_id, Subscription.supporter_id == supporter.id
        )
    )


def _require_manageable(subscription: Subscription) -> None:
    if subscription.status not in MANAGEABLE:
        raise AccountError("This recurring gift has ended, so it can no longer be changed.")


def change_gift(
    session: Session,
    gateway: StripeGateway,
    subscription: Subscription,
    *,
    gift_cents: int,
    interval: BillingInterval,
    cover_fee: bool,
    config: Config,
) -> PendingChange:
    """New amount and/or interval from the next payment on (proration off)."""
    _require_manageable(subscription)
    if not config.min_amount_cents <= gift_cents <= config.max_amount_cents:
        raise AccountError(
            f"Choose an amount between {format_money(config.min_amount_cents, config.currency)} "
            f"and {format_money(config.max_amount_cents, config.currency)}."
        )
    fee = processing_fee(gift_cents, config.fee_percent, config.fee_fixed_cents) if cover_fee else 0
    total = gift_cents + fee
    if (total, fee, interval) == (
        subscription.amount_cents,
        subscription.fee_cents,
        subscription.interval,
    ):
        raise AccountError("That is already your gift: nothing to change.")
    remote = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    if remote.item_id is None or remote.product_id is None:
        raise AccountError("We couldn't change this gift. Please write to us.")
    # Stripe restarts the billing cycle (and charges at once) when the interval changes; a trial
    # until the paid period ends keeps "from the next payment on" true for that switch too.
    period_end = remote.current_period_end
    switching = remote.interval is not None and remote.interval != interval.value
    gateway.change_subscription_price(
        subscription.stripe_subscription_id,
        item_id=remote.item_id,
        product_id=remote.product_id,
        amount_cents=total,
        currency=subscription.currency,
        interval=interval.value,
        metadata={"gift_cents": str(gift_cents), "fee_cents": str(fee)},
        trial_end=int(period_end.timestamp()) if switching and period_end else None,
    )
    return PendingChange(
        subscription.id, {"amount_cents": total, "fee_cents": fee, "interval": interval.value}
    )


def pause_gift(
    gateway: StripeGateway, subscription: Subscription, *, months: int, now: datetime
) -> PendingChange:
    """Skip the payments of the next 1-3 months; collection resumes by itself afterwards."""
    _require_manageable(subscription)
    if months not in PAUSE_MONTHS:
        raise AccountError("Choose a pause of one, two or three months.")
    if subscription.interval is not BillingInterval.MONTH:
        raise AccountError("Only monthly gifts can be paused.")
    if subscription.paused_until is not None:
        raise AccountError("This gift is already paused.")
    resumes_at = int(add_months(now, months).timestamp())
    gateway.pause_subscription(subscription.stripe_subscription_id, resumes_at=resumes_at)
    return PendingChange(subscription.id, {"paused_until": resumes_at})


def resume_gift(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    _require_manageable(subscription)
    if subscription.paused_until is None:
        raise AccountError("This gift is not paused.")
    gateway.resume_subscription(subscription.stripe_subscription_id)
    return PendingChange(subscription.id, {"paused_until": None})


def cancel_gift_at_period_end(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    _require_manageable(subscription)
    if subscription.cancel_at_period_end:
        raise AccountError("This gift already ends at the end of the current period.")
    gateway.set_cancel_at_period_end(subscription.stripe_subscription_id, True)
    return PendingChange(subscription.id, {"cancel_at_period_end": True})


def keep_gift(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    """Undo a cancellation before the period ends."""
    _require_manageable(subscription)
    if not subscription.cancel_at_period_end:
        raise AccountError("This gift is not set to end.")
    gateway.set_cancel_at_period_end(subscription.stripe_subscription_id, False)
    return PendingChange(subscription.id, {"cancel_at_period_end": False})


def card_update_url(
    gateway: StripeGateway, supporter: Supporter, subscription: Subscription, *, return_url: str
) -> str:
    """Stripe's billing portal for this gift's customer: the card is changed there, never here."""
    customer = supporter.stripe_customer_id
    if customer is None:
        customer = gateway.retrieve_subscription(subscription.stripe_subscription_id).customer_id
    if not customer:
        raise AccountError("We couldn't open the card page for this gift. Please write to us.")
    url = gateway.create_billing_portal_session(customer, return_url=return_url).url
    if url is None:
        raise AccountError("We couldn't open the card page for this gift. Please try again.")
    return url


# Preferences


def update_preferences(
    session: Session, supporter: Supporter, *, receipts: bool, renewal_reminders: bool
) -> None:
    supporter.receipt_emails = receipts
    supporter.renewal_reminders = renewal_reminders
    session.flush()


def suggested_amounts(subscription: Subscription, *, min_cents: int) -> list[int]:
    """Lower amounts to offer someone about to cancel: about half and a quarter of today's gift,
    in whole currency units, never below the minimum."""
    gift = subscription.gift_cents
    candidates = {max(min_cents, share // 100 * 100) for share in (gift // 2, gift // 4)}
    return sorted(c for c in candidates if c < gift)


# The banner


def is_current_supporter(
    session: Session, supporter: Supporter, *, quiet_days: int, now: datetime
) -> bool:
    """A live recurring gift, or a gift in the last `quiet_days`: thank them, don't ask."""
    live = session.scalar(
        select(Subscription.id)
        .where(Subscription.supporter_id == supporter.id, Subscription.status.in_(MANAGEABLE))
        .limit(1)
    )
    if live is not None:
        return True
    recent = session.scalar(
        select(Donation.id)
        .where(
            Donation.supporter_id == supporter.id,
            Donation.paid_at >= now - timedelta(days=quiet_days),
            Donation.status.in_([DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED]),
        )
        .limit(1)
    )
    return recent is not None
