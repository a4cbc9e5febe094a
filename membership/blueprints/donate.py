"""The donation form (and a campaign's landing page), the hand-off to Stripe Checkout, and the
thank-you page with its status check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from limits import parse_many

from membership.auth import signed_in_supporter
from membership.blueprints import app_config
from membership.blueprints.banner_api import reader_impressions, remember_recent_donor
from membership.caching import no_store
from membership.config import Config
from membership.currencies import currency
from membership.extensions import db, limiter, payments
from membership.forms import ConfirmForm
from membership.forms.support import SupportForm
from membership.models import Campaign, Frequency, utcnow
from membership.rate_limits import limits_must_hold
from membership.services.campaigns import campaign_by_slug, campaign_progress
from membership.services.checkout import (
    DonationChoice,
    confirm_gift,
    count_support_click,
    create_intent,
    monthly_choice,
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


def _variant_id(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) <= 12 else None


def _form(config: Config, **kwargs: object) -> SupportForm:
    return SupportForm(
        min_cents=config.min_amount_cents,
        max_cents=config.max_amount_cents,
        currency=config.currency,
        locale=config.locale,
        **kwargs,
    )


def _render(
    form: SupportForm,
    config: Config,
    *,
    status: int = 200,
    notice: Notice | None = None,
    campaign: Campaign | None = None,
) -> ResponseReturnValue:
    if campaign is None and form.campaign.data:
        campaign = campaign_by_slug(db.session(), str(form.campaign.data))
    options = support_options(
        db.session(),
        config,
        frequency=_frequency(form.frequency.data),
        chosen_cents=_chosen_cents(form.amount_choice.data),
        variant_id=_variant_id(form.variant.data),
        campaign=campaign,
    )
    progress = campaign_progress(db.session(), campaign, utcnow()) if campaign else None
    return (
        render_template(
            "donate/support.html",
            form=form,
            options=options,
            notice=notice,
            campaign=campaign,
            progress=progress,
            running=campaign is not None and campaign.starts_at <= utcnow() < campaign.ends_at,
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


def _click_counts_for_this_address(config: Config) -> bool:
    """BANNER_CLICK_RATE_LIMIT: a generous cap on clicks counted per network address (the page is
    served either way; only the counting stops)."""
    if not config.ratelimit_enabled:
        return True
    return all(
        limiter.limiter.hit(item, "banner-click", get_remote_address())
        for item in parse_many(config.banner_click_rate_limit)
    )


def _form_from_link(config: Config, campaign: Campaign | None) -> ResponseReturnValue:
    source = request.args.get("source", default="", type=str)[:120]
    variant_id = _variant_id(request.args.get("variant"))
    impressions = reader_impressions()
    if (
        variant_id is not None
        and impressions
        and _click_counts_for_this_address(config)
        and count_support_click(
            db.session(),
            variant_id=variant_id,
            source_slug=source,
            day=datetime.now(config.zone).date(),
            impressions=impressions,
        )
    ):
        db.session().commit()
    amount = request.args.get("amount", type=int)
    data = {
        "frequency": _frequency(
            request.args.get("frequency")
            or (campaign.default_frequency.value if campaign else "once")
        ).value,
        "source": source,
        "variant": str(variant_id or ""),
        "campaign": campaign.slug if campaign else "",
        # No usable amount (the banner's "Other amount"): the reader types their own.
        "amount_choice": str(amount) if amount and amount > 0 else "other",
    }
    form = _form(config, data=data, formdata=None)
    return _render(form, config, campaign=campaign)


@bp.get("/support")
def support() -> ResponseReturnValue:
    return _form_from_link(app_config(), None)


@bp.get("/support/<slug>")
def campaign(slug: str) -> ResponseReturnValue:
    """A campaign's landing page: its appeal, its progress toward the goal, the form."""
    found = campaign_by_slug(db.session(), slug)
    if found is None:
        abort(404)
    return _form_from_link(app_config(), found)


def _limit_value() -> str:
    return app_config().support_rate_limit


def _created_checkout(response: Response) -> bool:
    return response.status_code == 303


def _checkout(config: Config, choice: DonationChoice, form: SupportForm) -> ResponseReturnValue:
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


@bp.post("/support")
# Card testers love a $1 minimum: only a limited number of Checkout Sessions per address...
@limiter.limit(_limit_value, deduct_when=_created_checkout)
# ...and a looser cap on attempts of any kind.
@limiter.limit("30/minute")
@limits_must_hold
def start_donation() -> ResponseReturnValue:
    config = app_config()
    form = _form(config)
    if request.form.get("action") == "amounts":
        # Without JavaScript, "Show amounts" brings the chosen frequency's presets.
        words = _frequency(form.frequency.data).value
        return _render(form, config, notice=Notice(f"Showing the amounts for {words} gifts."))
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
    return _checkout(config, choice, form)


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
    """Shows the gift once a verified webhook recorded it; never trusts the query string. The
    confirmed page leaves the recent-donor cookie: the appeal says thank you for a while."""
    gift = confirm_gift(db.session(), _intent_id())
    response = Response(
        render_template(
            "donate/thanks.html",
            gift=gift,
            make_monthly=ConfirmForm(),
            share_url=app_config().base_url.rstrip("/")
            + (f"/articles/{gift.source.slug}" if gift.source else "/"),
        )
    )
    if gift.confirmed:
        remember_recent_donor(response, recurring=gift.subscription is not None)
    return response


@bp.get("/support/thanks/status")
@no_store
@limiter.limit("240/minute")
def thanks_status() -> ResponseReturnValue:
    """What the thank-you page's script polls: has the webhook confirmed this reader's gift?"""
    return jsonify(state=confirm_gift(db.session(), _intent_id()).state)


@bp.post("/support/thanks/monthly")
@limiter.limit(_limit_value, deduct_when=_created_checkout)
@limiter.limit("30/minute")
@limits_must_hold
def make_it_monthly() -> ResponseReturnValue:
    """One click from a confirmed one-off gift to a new Checkout for the same amount monthly."""
    config = app_config()
    if not ConfirmForm().validate():
        abort(400)
    choice = monthly_choice(db.session(), _intent_id())
    if choice is None:
        return redirect("/support?frequency=monthly", code=303)
    form = _form(
        config,
        data={"frequency": "monthly", "amount_choice": str(choice.amount_cents)},
        formdata=None,
    )
    return _checkout(config, choice, form)
