"""What the API answers and what webhooks carry, field by field. Each field knows its JSON Schema
and how to read it, so the OpenAPI document is generated from the very code that writes the JSON.

Money is an integer in the currency's minor unit beside an ISO currency code; times are ISO 8601
in UTC ("2026-11-20T07:30:00Z"). An erased supporter's email and name are null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from membership.models import (
    BannerVariant,
    ConsentEvent,
    Donation,
    DonationRefund,
    Subscriber,
    Subscription,
    Supporter,
)
from membership.services.reports.money import MoneyRow
from membership.services.reports.periods import Bucket

T = TypeVar("T")
Schema = dict[str, Any]


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def nullable(schema: Schema) -> Schema:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


INTEGER: Schema = {"type": "integer"}
STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
DAY: Schema = {"type": "string", "format": "date"}
MONEY: Schema = {"type": "integer", "description": "in the currency's minor unit (cents)"}
CURRENCY: Schema = {
    "type": "string",
    "pattern": "^[a-z]{3}$",
    "description": "ISO 4217, lower case",
}


def enum_of(values: Sequence[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


@dataclass(frozen=True)
class Field(Generic[T]):
    name: str
    schema: Schema
    read: Callable[[T], Any]


@dataclass(frozen=True)
class Representation(Generic[T]):
    name: str
    description: str
    fields: Sequence[Field[T]] = field(default_factory=tuple)

    def dump(self, obj: T) -> dict[str, Any]:
        return {f.name: f.read(obj) for f in self.fields}

    def schema(self) -> Schema:
        return {
            "type": "object",
            "description": self.description,
            "properties": {f.name: f.schema for f in self.fields},
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
        }


def nested(rep: Representation[Any]) -> Schema:
    return {"$ref": f"#/components/schemas/{rep.name}"}


# --- supporters -----------------------------------------------------------------------------

SUPPORTER: Representation[Supporter] = Representation(
    "Supporter",
    "A person who gave. After erasure only the id and dates remain.",
    (
        Field("id", INTEGER, lambda s: s.id),
        Field("email", nullable(STRING), lambda s: None if s.erased_at else s.email),
        Field("name", nullable(STRING), lambda s: None if s.erased_at else (s.name or None)),
        Field("erased", BOOLEAN, lambda s: s.erased_at is not None),
        Field("created_at", TIME, lambda s: iso(s.created_at)),
        Field("updated_at", TIME, lambda s: iso(s.updated_at)),
        Field("erased_at", nullable(TIME), lambda s: iso(s.erased_at)),
    ),
)

# --- donations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DonationView:
    donation: Donation
    refunds: Sequence[DonationRefund]


REFUND: Representation[DonationRefund] = Representation(
    "Refund",
    "Money given back, dated when the payment provider reported it.",
    (
        Field("amount", MONEY, lambda r: r.amount_cents),
        Field("refunded_at", TIME, lambda r: iso(r.refunded_at)),
    ),
)


def _dispute(d: Donation) -> dict[str, Any] | None:
    if d.dispute_status is None and d.disputed_at is None:
        return None
    return {"status": d.dispute_status, "opened_at": iso(d.disputed_at)}


DISPUTE_SCHEMA: Schema = {
    "type": ["object", "null"],
    "properties": {"status": nullable(STRING), "opened_at": nullable(TIME)},
    "required": ["status", "opened_at"],
    "additionalProperties": False,
}

DONATION: Representation[DonationView] = Representation(
    "Donation",
    "One payment received: a one-off gift or one payment of a recurring gift.",
    (
        Field("id", INTEGER, lambda v: v.donation.id),
        Field("amount", MONEY, lambda v: v.donation.amount_cents),
        Field("fee_covered", MONEY, lambda v: v.donation.fee_cents),
        Field("total", MONEY, lambda v: v.donation.total_cents),
        Field("currency", CURRENCY, lambda v: v.donation.currency),
        Field("kind", enum_of(["one_off", "recurring"]), lambda v: v.donation.kind.value),
        Field(
            "status",
            enum_of(["succeeded", "refunded", "partially_refunded", "disputed", "failed"]),
            lambda v: v.donation.status.value,
        ),
        Field("refunded", MONEY, lambda v: v.donation.refunded_cents),
        Field(
            "refunds",
            {"type": "array", "items": nested(REFUND)},
            lambda v: [REFUND.dump(r) for r in v.refunds],
        ),
        Field("dispute", DISPUTE_SCHEMA, lambda v: _dispute(v.donation)),
        Field("receipt_number", nullable(STRING), lambda v: v.donation.receipt_number),
        Field("supporter_id", nullable(INTEGER), lambda v: v.donation.supporter_id),
        Field("subscription_id", nullable(INTEGER), lambda v: v.donation.subscription_id),
        Field("variant_id", nullable(INTEGER), lambda v: v.donation.variant_id),
        Field("article_id", nullable(INTEGER), lambda v: v.donation.source_article_id),
        Field("paid_at", TIME, lambda v: iso(v.donation.paid_at)),
        Field("created_at", TIME, lambda v: iso(v.donation.created_at)),
        Field("updated_at", TIME, lambda v: iso(v.donation.updated_at)),
    ),
)

# --- subscriptions --------------------------------------------------------------------------

SUBSCRIPTION: Representation[Subscription] = Representation(
    "Subscription",
    "A recurring gift; each payment is a Donation.",
    (
        Field("id", INTEGER, lambda s: s.id),
        Field("status", STRING, lambda s: s.status.value),
        Field("amount", MONEY, lambda s: s.amount_cents),
        Field("fee_covered", MONEY, lambda s: s.fee_cents),
        Field("currency", CURRENCY, lambda s: s.currency),
        Field("interval", enum_of(["month", "year"]), lambda s: s.interval.value),
        Field("supporter_id", nullable(INTEGER), lambda s: s.supporter_id),
        Field("variant_id", nullable(INTEGER), lambda s: s.variant_id),
        Field("started_at", TIME, lambda s: iso(s.started_at)),
        Field("current_period_end", nullable(TIME), lambda s: iso(s.current_period_end)),
        Field("cancel_at_period_end", BOOLEAN, lambda s: s.cancel_at_period_end),
        Field("canceled_at", nullable(TIME), lambda s: iso(s.canceled_at)),
        Field("ended_at", nullable(TIME), lambda s: iso(s.ended_at)),
        Field("paused_until", nullable(TIME), lambda s: iso(s.paused_until)),
        Field("updated_at", TIME, lambda s: iso(s.updated_at)),
    ),
)

# --- newsletter -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberView:
    subscriber: Subscriber
    consent: Sequence[ConsentEvent]


CONSENT: Representation[ConsentEvent] = Representation(
    "ConsentEvent",
    "One entry of the consent ledger (the wording version the person saw, where, when).",
    (
        Field(
            "kind",
            enum_of(["subscribe", "confirm", "unsubscribe", "resubscribe", "import"]),
            lambda c: c.kind.value,
        ),
        Field("occurred_at", TIME, lambda c: iso(c.occurred_at)),
        Field("source", STRING, lambda c: c.source),
        Field("wording_version", nullable(STRING), lambda c: c.wording_version),
        Field("basis", nullable(STRING), lambda c: c.basis),
    ),
)

SUBSCRIBER: Representation[SubscriberView] = Representation(
    "Subscriber",
    "A newsletter address with its status and consent history.",
    (
        Field("id", INTEGER, lambda v: v.subscriber.id),
        Field("email", STRING, lambda v: v.subscriber.email),
        Field(
            "status",
            enum_of(["pending", "confirmed", "unsubscribed"]),
            lambda v: v.subscriber.status.value,
        ),
        Field("source", STRING, lambda v: v.subscriber.source),
        Field("supporter_id", nullable(INTEGER), lambda v: v.subscriber.supporter_id),
        Field("created_at", TIME, lambda v: iso(v.subscriber.created_at)),
        Field("confirmed_at", nullable(TIME), lambda v: iso(v.subscriber.confirmed_at)),
        Field("unsubscribed_at", nullable(TIME), lambda v: iso(v.subscriber.unsubscribed_at)),
        Field("updated_at", TIME, lambda v: iso(v.subscriber.updated_at)),
        Field(
            "consent",
            {"type": "array", "items": nested(CONSENT)},
            lambda v: [CONSENT.dump(c) for c in v.consent],
        ),
    ),
)

# --- banner variants and report figures ------------------------------------------------------

VARIANT: Representation[BannerVariant] = Representation(
    "BannerVariant",
    "A version of the support appeal; donations and subscriptions point at it by variant_id.",
    (
        Field("id", INTEGER, lambda v: v.id),
        Field("name", STRING, lambda v: v.name),
        Field("headline", STRING, lambda v: v.headline),
        Field("active", BOOLEAN, lambda v: v.active),
        Field("weight", INTEGER, lambda v: v.weight),
        Field(
            "amounts",
            {"type": "object", "additionalProperties": {"type": "array", "items": MONEY}},
            lambda v: v.amounts,
        ),
        Field("created_at", TIME, lambda v: iso(v.created_at)),
        Field("updated_at", TIME, lambda v: iso(v.updated_at)),
    ),
)


@dataclass(frozen=True)
class MoneyPeriod:
    bucket: Bucket
    row: MoneyRow
    currency: str


def _day(value: date) -> str:
    return value.isoformat()


MONEY_PERIOD: Representation[MoneyPeriod] = Representation(
    "MoneyPeriod",
    "The money figures staff see in the reports, for one period (see README, Staff reports).",
    (
        Field("first_day", DAY, lambda p: _day(p.bucket.first_day)),
        Field("last_day", DAY, lambda p: _day(p.bucket.last_day)),
        Field("starts_at", TIME, lambda p: iso(p.bucket.starts)),
        Field("ends_at", TIME, lambda p: iso(p.bucket.ends)),
        Field("currency", CURRENCY, lambda p: p.currency),
        Field("donations", INTEGER, lambda p: p.row.donations),
        Field("gross", MONEY, lambda p: p.row.gross),
        Field("fees_covered", MONEY, lambda p: p.row.fees),
        Field("gifts", MONEY, lambda p: p.row.gifts),
        Field("refunds", MONEY, lambda p: p.row.refunds),
        Field("disputes", MONEY, lambda p: p.row.disputes),
        Field("net", MONEY, lambda p: p.row.net),
        Field("one_off_count", INTEGER, lambda p: p.row.one_off_count),
        Field("one_off_gross", MONEY, lambda p: p.row.one_off_gross),
        Field("recurring_count", INTEGER, lambda p: p.row.recurring_count),
        Field("recurring_gross", MONEY, lambda p: p.row.recurring_gross),
        Field("average_gift", MONEY, lambda p: p.row.average_gift),
    ),
)

ALL: tuple[Representation[Any], ...] = (
    SUPPORTER,
    REFUND,
    DONATION,
    SUBSCRIPTION,
    CONSENT,
    SUBSCRIBER,
    VARIANT,
    MONEY_PERIOD,
)
