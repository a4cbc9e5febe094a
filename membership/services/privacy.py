"""Privacy self-service: everything we hold about a supporter as JSON, and erasing them.

Other parts of the service that keep rows about a person (the newsletter's consent ledger, for
one) add an exporter and an eraser with `register_personal_data`, so both features cover them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from membership.emails.deferred import message_bodies
from membership.models import (
    AccountSession,
    Base,
    Donation,
    DonationIntent,
    EmailMessage,
    PasswordFailure,
    SignInToken,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
    Supporter,
    SupporterCustomer,
)
from membership.payments import customers as stripe_customers
from membership.payments.gateway import StripeGateway
from membership.payments.objects import Customer
from membership.services.account_sessions import revoke_all_sessions
from membership.services.errors import payment_provider_calls
from membership.services.integrations import events as webhook_events
from membership.services.supporters import customer_ids

Row = dict[str, Any]
Exporter = Callable[[Session, Supporter], dict[str, list[Row]]]
Eraser = Callable[[Session, Supporter], None]

# Columns that are secrets, not data about the person: never exported.
SECRET_COLUMNS = {"password_hash", "token_hash", "browser_hash"}
_LIVE = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
    SubscriptionStatus.INCOMPLETE,
)


@dataclass(frozen=True)
class _Extension:
    exporter: Exporter
    eraser: Eraser


_EXTENSIONS: list[_Extension] = []


def register_personal_data(exporter: Exporter, eraser: Eraser) -> None:
    """Let another module's tables take part in "download my data" and "delete my account"."""
    _EXTENSIONS.append(_Extension(exporter, eraser))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_dict(obj: Base) -> Row:
    """A model row as JSON-ready data, secrets left out."""
    table = obj.__table__
    return {
        column.key: _plain(getattr(obj, column.key))
        for column in table.columns
        if column.key not in SECRET_COLUMNS
    }


def _events_about(session: Session, supporter: Supporter) -> list[StripeEvent]:
    """Stored Stripe events whose payload names this person's address or customer.

    The database narrows by the quoted JSON string (so "ann@x.org" does not match
    "joann@x.org"); each candidate is then checked value by value.
    """
    names = [supporter.email, *_customers_of(session, supporter)]
    return _events_mentioning(session, {n.lower() for n in names if n})


def _customers_of(session: Session, supporter: Supporter) -> list[str]:
    """Every Stripe customer we have seen for this person: recorded for the supporter, or on
    their donations and subscriptions (Checkout makes one per session)."""
    on_rows = session.scalars(
        select(Donation.stripe_customer_id)
        .where(Donation.supporter_id == supporter.id, Donation.stripe_customer_id.is_not(None))
        .union(
            select(Subscription.stripe_customer_id).where(
                Subscription.supporter_id == supporter.id,
                Subscription.stripe_customer_id.is_not(None),
            )
        )
    ).all()
    seen = sorted(c for c in on_rows if c)
    return list(dict.fromkeys([*customer_ids(session, supporter), *seen]))


def _events_mentioning(session: Session, needles: set[str]) -> list[StripeEvent]:
    if not needles:
        return []
    text = func.lower(cast(StripeEvent.payload, Text))
    candidates = session.scalars(
        select(StripeEvent)
        .where(or_(*(text.contains(f'"{n}"', autoescape=True) for n in needles)))
        .order_by(StripeEvent.created, StripeEvent.id)
    )
    return [event for event in candidates if _mentions(event.payload, needles)]


def _mentions(value: Any, needles: set[str]) -> bool:
    if isinstance(value, dict):
        return any(_mentions(item, needles) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, needles) for item in value)
    return isinstance(value, str) and value.lower() in needles


def _intents_of(session: Session, supporter: Supporter) -> list[DonationIntent]:
    linked = select(Donation.intent_id).where(Donation.supporter_id == supporter.id)
    linked_subs = select(Subscription.intent_id).where(Subscription.supporter_id == supporter.id)
    conditions: list[ColumnElement[bool]] = [
        DonationIntent.id.in_(linked),
        DonationIntent.id.in_(linked_subs),
    ]
    if supporter.email:
        conditions.append(DonationIntent.email == supporter.email)
    return list(
        session.scalars(select(DonationIntent).where(or_(*conditions)).order_by(DonationIntent.id))
    )


def _emails_to(session: Session, address: str | None) -> list[EmailMessage]:
    if not address:
        return []
    return list(
        session.scalars(
            select(EmailMessage)
            .where(func.lower(EmailMessage.to_address) == address.lower())
            .order_by(EmailMessage.id)
        )
    )


def _email_row(message: EmailMessage) -> Row:
    """An email as the reader got it: one queued to be rendered at delivery is rendered now."""
    row = row_dict(message)
    row["text_body"], row["html_body"] = message_bodies(message)
    return row


def _owned_rows(
    session: Session,
    model: type[Donation | Subscription | SupporterCustomer | AccountSession],
    supporter: Supporter,
) -> list[Row]:
    """The rows of a table that point at this supporter, oldest first."""
    query = select(model).where(model.supporter_id == supporter.id).order_by(model.id)
    return [row_dict(row) for row in session.scalars(query)]


def export_personal_data(session: Session, supporter: Supporter, *, now: datetime) -> Row:
    """Every row we hold about this supporter, by table, and nobody else's."""
    tables: dict[str, list[Row]] = {
        "supporter": [dict(row_dict(supporter), has_password=supporter.password_hash is not None)],
        "donation": _owned_rows(session, Donation, supporter),
        "subscription": _owned_rows(session, Subscription, supporter),
        "donation_intent": [row_dict(i) for i in _intents_of(session, supporter)],
        "email_message": [_email_row(m) for m in _emails_to(session, supporter.email)],
        "sign_in_token": [
            row_dict(t)
            for t in session.scalars(
                select(SignInToken)
                .where(
                    or_(
                        SignInToken.supporter_id == supporter.id,
                        SignInToken.email == (supporter.email or ""),
                    )
                )
                .order_by(SignInToken.id)
            )
        ],
        "stripe_event": [row_dict(e) for e in _events_about(session, supporter)],
        "supporter_customer": _owned_rows(session, SupporterCustomer, supporter),
        "account_session": _owned_rows(session, AccountSession, supporter),
        "password_failure": [
            row_dict(f)
            for f in session.scalars(
                select(PasswordFailure).where(PasswordFailure.email == (supporter.email or ""))
            )
        ],
    }
    for extension in _EXTENSIONS:
        for name, rows in extension.exporter(session, supporter).items():
            tables.setdefault(name, []).extend(rows)
    return {
        "exported_at": now.isoformat(),
        "about": (
            "Everything we store about you, table by table. Card details "
            "are held by our payment provider, Stripe, never by us."
        ),
        "tables": tables,
    }


# Erasure

_PERSONAL_KEYS = {
    "email",
    "customer_email",
    "receipt_email",
    "customer_name",
    "customer_phone",
    "customer_address",
    "customer_shipping",
    "phone",
    "shipping",
    "address",
}
_PERSON_OBJECTS = {"customer_details", "billing_details", "shipping_details"}


def scrub_payload(value: Any, email: str | None) -> Any:
    """A Stripe payload with the person's details blanked; amounts, ids and dates stay."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key in _PERSON_OBJECTS and isinstance(item, dict):
                result[key] = {k: None for k in item}
            elif key == "previous_attributes" and isinstance(item, dict):
                # An update event's old values: a blanked customer's old name and address.
                result[key] = {
                    k: None if k in _PERSONAL_KEYS or k == "name" else scrub_payload(v, email)
                    for k, v in item.items()
                }
            elif key in _PERSONAL_KEYS or (key == "name" and value.get("object") == "customer"):
                result[key] = None
            else:
                result[key] = scrub_payload(item, email)
        return result
    if isinstance(value, list):
        return [scrub_payload(item, email) for item in value]
    if isinstance(value, str) and email and value.lower() == email.lower():
        return None
    return value


@payment_provider_calls()
def delete_account(
    session: Session, gateway: StripeGateway, supporter: Supporter, *, now: datetime
) -> None:
    """Erase the person, keep the money's record.

    Stripe first: live subscriptions are cancelled (no further charges) and the customer's
    personal fields blanked; if Stripe fails (PaymentUnavailable), the caller rolls back and
    nothing here changed.
    Then our rows: the supporter keeps its id (donations and subscriptions still point at it,
    so every report adds up as before) but loses address, name, password and preferences;
    intents lose their address; emails to them are deleted; stored Stripe events are scrubbed.
    """
    address = supporter.email
    for subscription in session.scalars(
        select(Subscription).where(
            Subscription.supporter_id == supporter.id, Subscription.status.in_(_LIVE)
        )
    ):
        remote = gateway.retrieve_subscription(subscription.stripe_subscription_id)
        if remote.status != "canceled":
            gateway.cancel_subscription_now(subscription.stripe_subscription_id)
    # Every customer we recorded: Stripe's email filter is case-sensitive, so a look-up by our
    # lower-cased address misses a customer whose address was typed "Ann@Example.org".
    customers = dict.fromkeys(_customers_of(session, supporter))
    if address:
        customers.update(dict.fromkeys(stripe_customers.customer_ids_for_email(gateway, address)))
    for customer in customers:
        stripe_customers.blank_customer(gateway, customer)

    events = _events_about(session, supporter)
    for event in events:
        event.payload = scrub_payload(event.payload, address)
    if address:
        webhook_events.forget_address_in_deliveries(session, address)
        session.execute(
            update(DonationIntent)
            .where(DonationIntent.email == address)
            .values(email=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(EmailMessage)
            .where(func.lower(EmailMessage.to_address) == address.lower())
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(PasswordFailure)
        .where(PasswordFailure.email == (address or ""))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(SignInToken)
        .where(or_(SignInToken.supporter_id == supporter.id, SignInToken.email == (address or "")))
        .execution_options(synchronize_session=False)
    )
    for extension in _EXTENSIONS:
        extension.eraser(session, supporter)
    supporter.email = None
    supporter.name = ""
    supporter.password_hash = None
    supporter.active = False
    supporter.erased_at = now
    supporter.receipt_emails = False
    supporter.renewal_reminders = False
    supporter.login_epoch = (supporter.login_epoch or 0) + 1
    revoke_all_sessions(session, supporter, now)
    session.flush()
    webhook_events.supporter_event(session, "supporter.erased", supporter, now=now)


def scrub_events_of_blanked_customer(session: Session, customer: Customer) -> None:
    """A customer whose address is gone (we blank it when its person deletes their account):
    Stripe's customer.updated event still carries the old address and name in
    `previous_attributes`, so scrub every stored event about that customer. This keys on the
    customer's own state, not on our supporter row, because the event may arrive before the
    deletion has committed here."""
    if customer.email or customer.name:
        return
    for event in _events_mentioning(session, {customer.id.lower()}):
        event.payload = scrub_payload(event.payload, None)
    session.flush()
