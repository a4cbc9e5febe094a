"""The donation form, the hand-off to Stripe Checkout, and the thanks page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from membership.auth import signed_in_supporter
from membership.blueprints import app_config
from membership.caching import no_store
from membership.config import Config
from membership.currencies import currency
from membership.extensions import db, limiter, payments
from membership.forms.support import SupportForm
from membership.models import Frequency
from membership.rate_limits import limits_must_hold
from membership.services.checkout import (
    DonationChoice,
    confirm_gift,
    count_support_click,
    create_intent,
    pending_choice,
    start_checkout,
    support_options,
)
from membership.services.errors import ServiceError

bp = Blueprint("donate", __name__)

INTENT_KEY = "donation_intent_id"


@dataclass(frozen=True)
class Notice:
    """A line above the form; `kind` ("info" or "error") chooses its style."""

    text: str
    kind: str = "info"


def _frequency(value: str | None) -> Frequency:
    """The chosen frequency; anything else reads as a one-off gift."""
    try:
        return Frequency(value or "once")
    except ValueError:
        return Frequency.ONCE


def _chosen_cents(value: str | None) -> int | None:
    """A preset amount picked on the form, in cents; None for "other" or anything else."""
    return int(value) if value and value.isdecimal() else None


def _form(config: Config, **kwargs: object) -> SupportForm:
    return SupportForm(
        min_cents=config.min_amount_cents,
        max_cents=config.max_amount_cents,
        currency=config.currency,
        locale=config.locale,
        **kwargs,
    )


def _render(
    form: SupportForm, config: Config, *, status: int = 200, notice: Notice | None = None
) -> ResponseReturnValue:
    options = support_options(
        db.session(),
        config,
        frequency=_frequency(form.frequency.data),
        chosen_cents=_chosen_cents(form.amount_choice.data),
    )
    return (
        render_template(
            "donate/support.html",
            form=form,
            options=options,
            notice=notice,
            fee_percent=config.fee_percent,
            fee_fixed=config.fee_fixed_cents,
            per_unit=currency(config.currency).per_unit,
            digits=currency(config.currency).display_digits,
            step=currency(config.currency).step,
        ),
        status,
    )


def _intent_id() -> int | None:
    intent_id = session.get(INTENT_KEY)
    return intent_id if isinstance(intent_id, int) else None


@bp.get("/support")
def support() -> ResponseReturnValue:
    config = app_config()
    source = request.args.get("source", default="", type=str)[:120]
    variant_id = request.args.get("variant", type=int)
    if count_support_click(
        db.session(),
        variant_id=variant_id,
        source_slug=source,
        day=datetime.now(config.zone).date(),
    ):
        db.session().commit()
    amount = request.args.get("amount", type=int)
    data = {
        "frequency": _frequency(request.args.get("frequency", "once")).value,
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
@limits_must_hold
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
            session_db,
            payments.gateway,
            intent,
            config,
            source_slug=choice.source_slug,
            supporter=signed_in_supporter(),
        )
    except ServiceError as error:
        # Nothing half-recorded: the intent goes with the rollback.
        session_db.rollback()
        return _render(form, config, status=503, notice=Notice(error.message, "error"))
    session_db.commit()
    session[INTENT_KEY] = intent.id
    return redirect(url, code=303)


@bp.get("/support/cancelled")
def cancelled() -> ResponseReturnValue:
    """Back from Checkout without paying: nothing was taken; the form is filled in again."""
    config = app_config()
    intent_id = _intent_id()
    choice = pending_choice(db.session(), intent_id) if intent_id is not None else None
    data: dict[str, str] = {"frequency": "once"}
    if choice is not None:
        data = {
            "frequency": choice.frequency.value,
            "amount_choice": str(choice.amount_cents),
            "email": choice.email or "",
            "source": choice.source_slug or "",
            "variant": str(choice.variant_id or ""),
        }
    form = _form(config, data=data, formdata=None)
    if choice is not None and choice.cover_fee:
        form.cover_fee.data = True
    return _render(
        form, config, notice=Notice("No money was taken. You can change your gift and try again.")
    )


@bp.get("/support/thanks")
@no_store
def thanks() -> ResponseReturnValue:
    """Shows the gift once a verified webhook recorded it; never trusts the query string."""
    return render_template("donate/thanks.html", gift=confirm_gift(db.session(), _intent_id()))
