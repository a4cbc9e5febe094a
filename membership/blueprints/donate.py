"""The donation form, the hand-off to Stripe Checkout, and the thanks page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from membership.blueprints import app_config
from membership.caching import no_store
from membership.config import Config
from membership.extensions import db, limiter, payments
from membership.forms.support import SupportForm
from membership.models import Article, DonationIntent, Frequency, IntentStatus
from membership.payments.gateway import PaymentProviderError
from membership.services.banner import control_variant, count_banner_event, variant_exists
from membership.services.donations import (
    DonationChoice,
    DonationError,
    confirmed_gift_for_intent,
    create_intent,
    processing_fee,
    start_checkout,
)

bp = Blueprint("donate", __name__)

INTENT_KEY = "donation_intent_id"
FREQUENCY_WORDS = {"once": "once", "monthly": "every month", "annual": "every year"}


def _presets(frequency: str, config: Config) -> list[int]:
    banner = control_variant(db.session())
    presets = banner.amounts_for(frequency) if banner else []
    return presets or list(config.default_amounts)


def _form(config: Config, **kwargs: object) -> SupportForm:
    return SupportForm(
        min_cents=config.min_amount_cents,
        max_cents=config.max_amount_cents,
        currency=config.currency,
        **kwargs,
    )


def _render(
    form: SupportForm, config: Config, *, status: int = 200, notice: str = ""
) -> ResponseReturnValue:
    frequency = form.frequency.data if form.frequency.data in FREQUENCY_WORDS else "once"
    presets = _presets(frequency, config)
    chosen = form.amount_choice.data
    if chosen and chosen.isdigit() and int(chosen) not in presets:
        presets = sorted({*presets, int(chosen)})
    fees = {c: processing_fee(c, config.fee_percent, config.fee_fixed_cents) for c in presets}
    return (
        render_template(
            "donate/support.html",
            form=form,
            presets=presets,
            fees=fees,
            frequency=frequency,
            notice=notice,
            fee_percent=config.fee_percent,
            fee_fixed=config.fee_fixed_cents,
        ),
        status,
    )


def _count_click(config: Config, variant_id: int | None, source: str) -> None:
    if variant_id is None or not variant_exists(db.session(), variant_id):
        return
    article_id = db.session().scalar(select(Article.id).where(Article.slug == source))
    count_banner_event(
        db.session(),
        day=datetime.now(config.zone).date(),
        variant_id=variant_id,
        article_id=article_id,
        clicks=1,
    )
    db.session().commit()


@bp.get("/support")
def support() -> ResponseReturnValue:
    config = app_config()
    source = request.args.get("source", default="", type=str)[:120]
    variant_id = request.args.get("variant", type=int)
    _count_click(config, variant_id, source)
    frequency = request.args.get("frequency", "once")
    if frequency not in FREQUENCY_WORDS:
        frequency = "once"
    amount = request.args.get("amount", type=int)
    data = {
        "frequency": frequency,
        "source": source,
        "variant": str(variant_id or ""),
        # No usable amount (the banner's "Other amount"): the reader types their own.
        "amount_choice": str(amount) if amount and amount > 0 else "other",
    }
    form = _form(config, data=data, formdata=None)
    return _render(form, config)


def _limit_value() -> str:
    return app_config().support_rate_limit


def _created_checkout(response: Response) -> bool:
    return response.status_code == 303


@bp.post("/support")
# Card testers love a $1 minimum: only a limited number of Checkout Sessions per address...
@limiter.limit(_limit_value, deduct_when=_created_checkout)
# ...and a looser cap on attempts of any kind.
@limiter.limit("30/minute")
def start_donation() -> ResponseReturnValue:
    config = app_config()
    form = _form(config)
    if not form.validate():
        return _render(form, config, status=400)
    if form.amount_cents is None:  # pragma: no cover - set by validate_amount_choice
        return _render(form, config, status=400)
    choice = DonationChoice(
        amount_cents=form.amount_cents,
        frequency=Frequency(form.frequency.data),
        cover_fee=bool(form.cover_fee.data),
        email=(form.email.data or "").strip() or None,
        source_slug=form.source.data or None,
        variant_id=int(form.variant.data) if form.variant.data else None,
    )
    session_db = db.session()
    try:
        intent = create_intent(session_db, choice, config)
        url = start_checkout(
            session_db, payments.gateway, intent, config, source_slug=choice.source_slug
        )
    except (PaymentProviderError, DonationError) as error:
        # Nothing half-recorded: the intent goes with the rollback.
        session_db.rollback()
        message = error.message if isinstance(error, PaymentProviderError) else str(error)
        return _render(form, config, status=503, notice=message)
    session_db.commit()
    session[INTENT_KEY] = intent.id
    return redirect(url, code=303)


@bp.get("/support/cancelled")
def cancelled() -> ResponseReturnValue:
    """Back from Checkout without paying: nothing was taken; the form is filled in again."""
    config = app_config()
    intent_id = session.get(INTENT_KEY)
    intent = db.session().get(DonationIntent, intent_id) if isinstance(intent_id, int) else None
    data: dict[str, str] = {"frequency": "once"}
    if intent is not None and intent.status is IntentStatus.PENDING:
        source = (
            db.session().scalar(select(Article.slug).where(Article.id == intent.source_article_id))
            if intent.source_article_id
            else ""
        )
        data = {
            "frequency": intent.frequency.value,
            "amount_choice": str(intent.amount_cents),
            "email": intent.email or "",
            "source": source or "",
            "variant": str(intent.variant_id or ""),
        }
    form = _form(config, data=data, formdata=None)
    if intent is not None and intent.fee_cents:
        form.cover_fee.data = True
    return _render(
        form, config, notice="No money was taken. You can change your gift and try again."
    )


@bp.get("/support/thanks")
@no_store
def thanks() -> ResponseReturnValue:
    """Shows the gift once a verified webhook recorded it; never trusts the query string."""
    intent_id = session.get(INTENT_KEY)
    intent = db.session().get(DonationIntent, intent_id) if isinstance(intent_id, int) else None
    donation, subscription = (
        confirmed_gift_for_intent(db.session(), intent.id) if intent is not None else (None, None)
    )
    confirmed = donation is not None or subscription is not None
    processing = intent is not None and not confirmed and intent.status is IntentStatus.PENDING
    return render_template(
        "donate/thanks.html",
        intent=intent,
        confirmed=confirmed,
        donation=donation,
        subscription=subscription,
        processing=processing,
        frequency_words=FREQUENCY_WORDS,
    )
