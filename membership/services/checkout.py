"""The reader's side of giving: the form's amounts and fee, the intent, Stripe Checkout, thanks.

Nothing here makes a gift real: only a verified webhook does (`membership.services.ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.currencies import currency_or_default
from membership.frequency import FREQUENCY_OF, INTERVAL_OF, FrequencyWords, frequency_words
from membership.models import (
    Article,
    Donation,
    DonationIntent,
    Frequency,
    IntentStatus,
    Subscription,
    Supporter,
)
from membership.payments.gateway import CheckoutRequest, StripeGateway
from membership.services.banner import control_variant, count_banner_event, variant_exists
from membership.services.errors import ServiceError, payment_provider_calls
from membership.services.supporters import checkout_customer, normalize_email


class DonationError(ServiceError):
    """The donation cannot go ahead as asked; the message is for the reader."""


# Choosing a gift


def processing_fee(
    amount_cents: int, percent: float, fixed_cents: int, currency: str = "usd"
) -> int:
    """What to add so that, after the processor takes `percent` + `fixed` of the total, the whole
    gift arrives: total = ceil((gift + fixed) / (1 - percent/100)), rounded up to an amount the
    currency can be charged in (whole krónur for ISK); fee = total - gift."""
    if percent <= 0 and fixed_cents <= 0:
        return 0
    rate = Decimal(str(percent)) / Decimal(100)
    total = (Decimal(amount_cents + fixed_cents) / (Decimal(1) - rate)).to_integral_value(
        rounding=ROUND_CEILING
    )
    return currency_or_default(currency).round_up(int(total)) - amount_cents


@dataclass(frozen=True)
class GiftTotal:
    """A chosen amount and what it comes to when the reader covers the card fee."""

    gift_cents: int
    fee_cents: int

    @property
    def with_fee_cents(self) -> int:
        return self.gift_cents + self.fee_cents


@dataclass(frozen=True)
class SupportOptions:
    """What the donation form shows besides the form itself."""

    frequency: Frequency
    words: FrequencyWords  # "every month" after the total
    presets: list[int]
    total: GiftTotal | None  # of the chosen amount, when one is chosen

    @property
    def legend(self) -> str:
        """The amounts' legend: "Amount each month" for a monthly gift, "Amount" for a one-off."""
        return f"Amount {self.words.each}".rstrip()


def support_options(
    session: Session, config: Config, *, frequency: Frequency, chosen_cents: int | None
) -> SupportOptions:
    """The preset amounts (the control banner's, else the configured ones, plus the chosen one)
    and the total of the chosen amount with and without the fee."""
    banner = control_variant(session)
    presets = (banner.amounts_for(frequency.value) if banner else []) or list(
        config.default_amounts
    )
    total = None
    if chosen_cents is not None:
        if chosen_cents not in presets:
            presets = sorted({*presets, chosen_cents})
        total = GiftTotal(
            chosen_cents,
            processing_fee(
                chosen_cents, config.fee_percent, config.fee_fixed_cents, config.currency
            ),
        )
    return SupportOptions(frequency, frequency_words(frequency), presets, total)


def count_support_click(
    session: Session, *, variant_id: int | None, source_slug: str, day: date
) -> bool:
    """A reader followed a banner to the form: the banner's funnel counts the click (True)."""
    if variant_id is None or not variant_exists(session, variant_id):
        return False
    count_banner_event(
        session,
        day=day,
        variant_id=variant_id,
        article_id=_article_id(session, source_slug),
        clicks=1,
    )
    return True


def _article_id(session: Session, slug: str | None) -> int | None:
    if not slug:
        return None
    return session.scalar(select(Article.id).where(Article.slug == slug))


@dataclass(frozen=True)
class DonationChoice:
    amount_cents: int
    frequency: Frequency
    cover_fee: bool
    email: str | None = None
    source_slug: str | None = None
    variant_id: int | None = None


def create_intent(session: Session, choice: DonationChoice, config: Config) -> DonationIntent:
    if not config.min_amount_cents <= choice.amount_cents <= config.max_amount_cents:
        raise DonationError("That amount is outside what we can accept.")
    fee = (
        processing_fee(
            choice.amount_cents, config.fee_percent, config.fee_fixed_cents, config.currency
        )
        if choice.cover_fee
        else 0
    )
    variant_id = choice.variant_id
    if variant_id is not None and not variant_exists(session, variant_id):
        variant_id = None
    intent = DonationIntent(
        amount_cents=choice.amount_cents,
        fee_cents=fee,
        currency=config.currency,
        frequency=choice.frequency,
        email=normalize_email(choice.email) if choice.email else None,
        source_article_id=_article_id(session, choice.source_slug),
        variant_id=variant_id,
    )
    session.add(intent)
    session.flush()
    return intent


def pending_choice(session: Session, intent_id: int) -> DonationChoice | None:
    """What the reader chose for an attempt they abandoned on Stripe's page, to choose again."""
    intent = session.get(DonationIntent, intent_id)
    if intent is None or intent.status is not IntentStatus.PENDING:
        return None
    source = (
        session.scalar(select(Article.slug).where(Article.id == intent.source_article_id))
        if intent.source_article_id
        else None
    )
    return DonationChoice(
        amount_cents=intent.amount_cents,
        frequency=intent.frequency,
        cover_fee=intent.fee_cents > 0,
        email=intent.email,
        source_slug=source,
        variant_id=intent.variant_id,
    )


# Checkout


def _product_name(frequency: Frequency, publication: str) -> str:
    if frequency is Frequency.MONTHLY:
        return f"Monthly support for {publication}"
    if frequency is Frequency.ANNUAL:
        return f"Annual support for {publication}"
    return f"A gift to {publication}"


def start_checkout(
    session: Session,
    gateway: StripeGateway,
    intent: DonationIntent,
    config: Config,
    *,
    source_slug: str | None,
    supporter: Supporter | None = None,
) -> str:
    """Create the Stripe Checkout Session for an intent; the URL to send the reader to. A
    signed-in supporter's own customer is passed, so Checkout does not make another.

    Raises `PaymentUnavailable` when Stripe fails; the caller rolls back, so nothing stays.
    """
    metadata = {
        "intent_id": str(intent.id),
        "frequency": intent.frequency.value,
        "gift_cents": str(intent.amount_cents),
        "fee_cents": str(intent.fee_cents),
        "source": source_slug or "",
        "variant_id": str(intent.variant_id or ""),
    }
    base = config.base_url.rstrip("/")
    interval = INTERVAL_OF.get(intent.frequency)
    with payment_provider_calls():
        checkout = gateway.create_checkout_session(
            CheckoutRequest(
                # Stable per intent: a retried request cannot create a second session.
                idempotency_key=f"intent-{intent.id}-{int(intent.created_at.timestamp() * 1000)}",
                mode="payment" if intent.frequency is Frequency.ONCE else "subscription",
                amount_cents=intent.total_cents,
                currency=intent.currency,
                interval=interval.value if interval is not None else None,
                product_name=_product_name(intent.frequency, config.publication_name),
                success_url=f"{base}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
                cancel_url=f"{base}/support/cancelled",
                metadata=metadata,
                customer_email=intent.email,
                customer_id=checkout_customer(session, supporter),
                client_reference_id=str(intent.id),
            )
        )
    intent.checkout_session_id = checkout.id
    session.flush()
    if checkout.url is None:
        raise DonationError("The payment page could not be opened.")
    return checkout.url


# Back from Checkout


@dataclass(frozen=True)
class GiftConfirmation:
    """What the thanks page shows: read from our database, never from the query string."""

    intent: DonationIntent | None
    donation: Donation | None  # the first payment
    subscription: Subscription | None  # for a recurring gift

    @property
    def confirmed(self) -> bool:
        return self.donation is not None or self.subscription is not None

    @property
    def processing(self) -> bool:
        """Paid on Stripe's page, perhaps, but no verified webhook yet: the page refreshes."""
        return (
            self.intent is not None
            and not self.confirmed
            and self.intent.status is IntentStatus.PENDING
        )

    @property
    def per(self) -> str:
        """After a recurring gift's amount: "a month" or "a year"."""
        if self.subscription is None:
            return ""
        return frequency_words(FREQUENCY_OF[self.subscription.interval]).per


def confirm_gift(session: Session, intent_id: int | None) -> GiftConfirmation:
    intent = session.get(DonationIntent, intent_id) if intent_id is not None else None
    if intent is None:
        return GiftConfirmation(None, None, None)
    donation = session.scalar(
        select(Donation).where(Donation.intent_id == intent.id).order_by(Donation.id).limit(1)
    )
    subscription = session.scalar(select(Subscription).where(Subscription.intent_id == intent.id))
    return GiftConfirmation(intent, donation, subscription)
