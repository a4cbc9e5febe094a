"""Stripe objects as small frozen dataclasses, parsed defensively in this one place.

Stripe's JSON changes shape between API versions (fields move, nested objects come back null,
ids arrive expanded into objects), so nothing outside `membership.payments` reads it. A missing
optional field becomes None; a missing field we cannot do without raises `StripeDataError`
instead of an `AttributeError` deep inside a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from membership.payments.fields import Fields, StripeDataError

__all__ = [
    "CheckoutSession",
    "Charge",
    "Customer",
    "GiftMetadata",
    "Invoice",
    "Page",
    "PaymentSummary",
    "PortalSession",
    "Refund",
    "StripeDataError",
    "SubscriptionSnapshot",
]


@dataclass(frozen=True)
class GiftMetadata:
    """What our Checkout Sessions and subscriptions carry in `metadata`: the intent they came
    from and the donor's split of each payment into gift and covered fee."""

    intent_id: int | None = None
    gift_cents: int | None = None
    fee_cents: int | None = None

    @classmethod
    def parse(cls, fields: Fields) -> GiftMetadata:
        return cls(fields.whole("intent_id"), fields.whole("gift_cents"), fields.whole("fee_cents"))


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    mode: str | None  # "payment" or "subscription"
    status: str | None
    payment_status: str | None  # "paid" once the money is there
    amount_total: int | None  # set whenever payment_status is "paid" in payment mode
    currency: str | None
    customer_id: str | None
    payer_email: str | None  # what the payer typed on Stripe's page, else the prefilled address
    payer_name: str | None
    client_reference_id: str | None
    gift: GiftMetadata
    payment_intent_id: str | None
    subscription_id: str | None
    url: str | None
    created: datetime | None

    @property
    def paid_one_off(self) -> bool:
        return self.mode == "payment" and self.payment_status == "paid"

    @classmethod
    def parse(cls, data: object) -> CheckoutSession:
        f = Fields(data, "checkout session")
        details = f.nested("customer_details")
        session = cls(
            id=f.required_text("id"),
            mode=f.text("mode"),
            status=f.text("status"),
            payment_status=f.text("payment_status"),
            amount_total=f.whole("amount_total"),
            currency=f.text("currency"),
            customer_id=f.reference("customer"),
            payer_email=details.text("email") or f.text("customer_email"),
            payer_name=details.text("name"),
            client_reference_id=f.text("client_reference_id"),
            gift=GiftMetadata.parse(f.nested("metadata")),
            payment_intent_id=f.reference("payment_intent"),
            subscription_id=f.reference("subscription"),
            url=f.text("url"),
            created=f.timestamp("created"),
        )
        if session.paid_one_off and session.amount_total is None:
            raise StripeDataError(f"checkout session {session.id} is paid but has no amount_total")
        return session


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A subscription as Stripe had it when the object was read; its first item is the gift."""

    id: str
    status: str | None
    customer_id: str | None
    currency: str | None
    amount_cents: int | None  # charged each interval, fee included
    interval: str | None  # "month", "year" (or Stripe's others, which we do not sell)
    item_id: str | None
    product_id: str | None
    price_id: str | None
    schedule_id: str | None  # a subscription schedule managing it (a change at next renewal)
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    paused_until: datetime | None  # pause_collection.resumes_at
    start_date: datetime | None
    created: datetime | None
    gift: GiftMetadata

    @classmethod
    def parse(cls, data: object) -> SubscriptionSnapshot:
        f = Fields(data, "subscription")
        items = f.items("items")
        item = items[0] if items else Fields({}, "subscription item")
        # Current prices carry unit_amount and recurring.interval; plans (older shapes) carry
        # amount and interval.
        price = item.nested("price") if item.has("price") else item.nested("plan")
        amount = price.whole("unit_amount")
        return cls(
            id=f.required_text("id"),
            status=f.text("status"),
            customer_id=f.reference("customer"),
            currency=f.text("currency"),
            amount_cents=amount if amount is not None else price.whole("amount"),
            interval=price.nested("recurring").text("interval") or price.text("interval"),
            item_id=item.text("id"),
            product_id=price.reference("product"),
            price_id=price.text("id"),
            schedule_id=f.reference("schedule"),
            # On the item since API version 2025-03-31, on the subscription before.
            current_period_end=item.timestamp("current_period_end")
            or f.timestamp("current_period_end"),
            cancel_at_period_end=f.flag("cancel_at_period_end"),
            canceled_at=f.timestamp("canceled_at"),
            ended_at=f.timestamp("ended_at"),
            paused_until=f.nested("pause_collection").timestamp("resumes_at"),
            start_date=f.timestamp("start_date"),
            created=f.timestamp("created"),
            gift=GiftMetadata.parse(f.nested("metadata")),
        )


@dataclass(frozen=True)
class Invoice:
    id: str
    status: str | None
    billing_reason: str | None  # "subscription_create" for a subscription's first payment
    amount_paid: int
    currency: str | None
    customer_id: str | None
    customer_email: str | None
    customer_name: str | None
    subscription_id: str | None
    subscription_gift: GiftMetadata  # the subscription's metadata as the invoice saw it
    payment_intent_id: str | None  # None unless `payments` was expanded (or an older shape)
    hosted_invoice_url: str | None
    attempt_count: int | None
    next_payment_attempt: datetime | None
    paid_at: datetime | None
    created: datetime | None

    @classmethod
    def parse(cls, data: object) -> Invoice:
        f = Fields(data, "invoice")
        # Since 2025-03-31 the subscription is under parent.subscription_details; before, it was
        # `subscription` with `subscription_details` beside it. Either may be null.
        details = f.nested("parent").nested("subscription_details")
        legacy = f.nested("subscription_details")
        metadata = (
            GiftMetadata.parse(details.nested("metadata"))
            if details.has("metadata")
            else GiftMetadata.parse(legacy.nested("metadata"))
        )
        return cls(
            id=f.required_text("id"),
            status=f.text("status"),
            billing_reason=f.text("billing_reason"),
            amount_paid=f.whole("amount_paid") or 0,
            currency=f.text("currency"),
            customer_id=f.reference("customer"),
            customer_email=f.text("customer_email"),
            customer_name=f.text("customer_name"),
            subscription_id=details.reference("subscription") or f.reference("subscription"),
            subscription_gift=metadata,
            payment_intent_id=_invoice_payment_intent(f),
            hosted_invoice_url=f.text("hosted_invoice_url"),
            attempt_count=f.whole("attempt_count"),
            next_payment_attempt=f.timestamp("next_payment_attempt"),
            paid_at=f.nested("status_transitions").timestamp("paid_at"),
            created=f.timestamp("created"),
        )


def _invoice_payment_intent(invoice: Fields) -> str | None:
    for payment in invoice.items("payments"):
        inner = payment.nested("payment")
        if inner.text("type") == "payment_intent" and inner.reference("payment_intent"):
            return inner.reference("payment_intent")
    return invoice.reference("payment_intent")


@dataclass(frozen=True)
class Refund:
    id: str
    status: str | None  # pending, requires_action, succeeded, failed, canceled
    amount: int | None
    charge_id: str | None
    payment_intent_id: str | None
    created: datetime | None
    failure_reason: str | None  # set when a refund failed: lost_or_stolen_card, declined, ...

    @classmethod
    def parse(cls, data: object) -> Refund:
        return cls._from(Fields(data, "refund"))

    @classmethod
    def _from(cls, f: Fields) -> Refund:
        return cls(
            id=f.required_text("id"),
            status=f.text("status"),
            amount=f.whole("amount"),
            charge_id=f.reference("charge"),
            payment_intent_id=f.reference("payment_intent"),
            created=f.timestamp("created"),
            failure_reason=f.text("failure_reason"),
        )


@dataclass(frozen=True)
class PaymentSummary:
    """A payment intent as the ledger needs it: its charge, and when that charge was made."""

    id: str
    charge_id: str | None
    charged_at: datetime | None

    @classmethod
    def parse(cls, data: object) -> PaymentSummary:
        f = Fields(data, "payment intent")
        charge = f.nested("latest_charge") if isinstance(f.raw("latest_charge"), Mapping) else None
        return cls(
            id=f.required_text("id"),
            charge_id=f.reference("latest_charge"),
            charged_at=charge.timestamp("created") if charge is not None else None,
        )


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent_id: str | None
    amount: int | None
    amount_refunded: int
    currency: str | None
    customer_id: str | None
    refunds: tuple[Refund, ...]  # as listed on the charge (often only when expanded)

    @classmethod
    def parse(cls, data: object) -> Charge:
        f = Fields(data, "charge")
        return cls(
            id=f.required_text("id"),
            payment_intent_id=f.reference("payment_intent"),
            amount=f.whole("amount"),
            amount_refunded=f.whole("amount_refunded") or 0,
            currency=f.text("currency"),
            customer_id=f.reference("customer"),
            refunds=tuple(Refund._from(refund) for refund in f.items("refunds")),
        )


@dataclass(frozen=True)
class Customer:
    id: str
    email: str | None
    name: str | None

    @classmethod
    def parse(cls, data: object) -> Customer:
        f = Fields(data, "customer")
        return cls(id=f.required_text("id"), email=f.text("email"), name=f.text("name"))


@dataclass(frozen=True)
class CardExpiry:
    """When the card that pays a subscription expires: the subscription's own default payment
    method, else its customer's (`invoice_settings.default_payment_method`), both expanded.
    Month and year are None when there is no card on file."""

    subscription_id: str
    month: int | None
    year: int | None

    @classmethod
    def parse(cls, data: object) -> CardExpiry:
        f = Fields(data, "subscription")
        card = f.nested("default_payment_method").nested("card")
        if not card.has("exp_month"):
            customer = f.nested("customer").nested("invoice_settings")
            card = customer.nested("default_payment_method").nested("card")
        return cls(
            subscription_id=f.required_text("id"),
            month=card.whole("exp_month"),
            year=card.whole("exp_year"),
        )


@dataclass(frozen=True)
class PortalSession:
    """A billing portal session: Stripe's hosted page where a supporter changes their card."""

    id: str
    url: str | None
    customer_id: str | None

    @classmethod
    def parse(cls, data: object) -> PortalSession:
        f = Fields(data, "billing portal session")
        return cls(id=f.required_text("id"), url=f.text("url"), customer_id=f.reference("customer"))


@dataclass(frozen=True)
class Page:
    """One page of a Stripe list: its raw items (parsed by the caller) and whether more follow."""

    items: list[Mapping[str, Any]]
    has_more: bool
    last_id: str | None

    @classmethod
    def parse(cls, data: object) -> Page:
        f = Fields(data, "list")
        raw = f.objects("data")
        last_id = Fields(raw[-1], "list item").text("id") if raw else None
        return cls(items=raw, has_more=f.flag("has_more"), last_id=last_id)
