"""A supporter's recurring gift: its page, and changing, pausing, resuming, cancelling (after
an offer of a lower amount), keeping it, and updating its card on Stripe's page.

Every action goes to Stripe first; the subscription row follows when the webhook lands, so this
browser remembers the change in its session and the pages say "updating" until the row shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from membership.auth import supporter_required
from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.extensions import db, payments
from membership.forms import ConfirmForm, amount_field_value
from membership.forms.account import ChangeGiftForm, PauseForm
from membership.frequency import INTERVAL_OF
from membership.models import Frequency, Subscription, Supporter, utcnow
from membership.notices import Notice
from membership.services import recurring_gifts
from membership.services.errors import PaymentUnavailable, ServiceError
from membership.services.recurring_gifts import PendingChange, RecurringGift

bp = Blueprint("gifts", __name__)

PENDING_KEY = "account_pending"

# Gift pages are about one person: no shared cache may keep them.
bp.after_request(set_no_store)


def now() -> datetime:
    return utcnow()


# The changes this browser asked Stripe for, until the webhook brings them to our rows


def _remember_pending(change: PendingChange) -> None:
    pending = dict(session.get(PENDING_KEY) or {})
    pending[str(change.subscription_id)] = change.remembered(now=now())
    session[PENDING_KEY] = pending


def with_pending_changes(gifts: Sequence[RecurringGift]) -> list[RecurringGift]:
    """The gifts, each marked updating (or late) while a change asked for here is not in its
    row yet; changes the rows now show are forgotten."""
    stored = session.get(PENDING_KEY)
    if not isinstance(stored, dict) or not stored:
        return list(gifts)
    shown, keep = recurring_gifts.settle_pending(stored, gifts, now=now())
    if keep != stored:
        session[PENDING_KEY] = keep
    return shown


# The gift's page


def _owned(supporter: Supporter, subscription_id: int) -> Subscription:
    subscription = recurring_gifts.owned_subscription(db.session(), supporter, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _change_form(subscription: Subscription, *, formdata: bool) -> ChangeGiftForm:
    config = app_config()
    kwargs: dict[str, Any] = {}
    if not formdata:
        gift = recurring_gifts.recurring_gift(subscription)
        kwargs = {
            "formdata": None,
            "data": {
                "amount": amount_field_value(subscription.gift_cents, subscription.currency),
                "frequency": gift.frequency.value,
                "cover_fee": gift.covers_fee,
            },
        }
    return ChangeGiftForm(
        min_cents=config.min_amount_cents,
        max_cents=config.max_amount_cents,
        currency=subscription.currency,
        locale=config.locale,
        **kwargs,
    )


@dataclass(frozen=True)
class LowerAmount:
    """A lower amount offered before cancelling, and how the change form's field spells it."""

    cents: int
    field_value: str


def _render_gift(
    subscription: Subscription,
    *,
    status: int = 200,
    change_form: ChangeGiftForm | None = None,
    pause_form: PauseForm | None = None,
    notice: Notice | None = None,
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    [gift] = with_pending_changes([recurring_gifts.recurring_gift(subscription)])
    suggestions = recurring_gifts.suggested_amounts(
        subscription, min_cents=app_config().min_amount_cents
    )
    return (
        render_template(
            template,
            subscription=subscription,
            gift=gift,
            change_form=change_form or _change_form(subscription, formdata=False),
            pause_form=pause_form or PauseForm(formdata=None, data={"months": "1"}),
            confirm_form=ConfirmForm(),
            lower_amounts=[
                LowerAmount(c, amount_field_value(c, subscription.currency)) for c in suggestions
            ],
            notice=notice,
        ),
        status,
    )


def _refused(
    subscription: Subscription, error: ServiceError, *, template: str = "account/gift.html"
) -> ResponseReturnValue:
    """The page again, saying why: 400 when the change cannot be made, 503 when Stripe failed."""
    status = 503 if isinstance(error, PaymentUnavailable) else 400
    return _render_gift(
        subscription, status=status, notice=Notice.error(error.message), template=template
    )


def _apply(
    subscription: Subscription,
    action: Callable[[], PendingChange],
    *,
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    """Ask Stripe for the change; remember it until the webhook lands, or say why not."""
    try:
        change = action()
    except ServiceError as error:
        db.session.rollback()
        return _refused(subscription, error, template=template)
    db.session.commit()  # a change noted for the next payment (`services.next_change`)
    _remember_pending(change)
    return redirect(url_for("gifts.show", subscription_id=subscription.id), code=303)


@bp.get("/account/gifts/<int:subscription_id>")
@supporter_required
def show(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _render_gift(_owned(supporter, subscription_id))


@bp.get("/account/gifts/<int:subscription_id>/cancel")
@supporter_required
def cancel_offer(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    """Before cancelling: a lower amount, or a pause, may suit better."""
    return _render_gift(_owned(supporter, subscription_id), template="account/cancel.html")


@bp.post("/account/gifts/<int:subscription_id>/change")
@supporter_required
def change(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    form = _change_form(subscription, formdata=True)
    if not form.validate() or form.amount_cents is None:
        return _render_gift(subscription, status=400, change_form=form)
    gift_cents = form.amount_cents
    return _apply(
        subscription,
        lambda: recurring_gifts.change_gift(
            db.session(),
            payments.gateway,
            subscription,
            gift_cents=gift_cents,
            interval=INTERVAL_OF[Frequency(form.frequency.data)],
            cover_fee=bool(form.cover_fee.data),
            config=app_config(),
        ),
    )


@bp.post("/account/gifts/<int:subscription_id>/pause")
@supporter_required
def pause(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    form = PauseForm()
    if not form.validate():
        return _render_gift(subscription, status=400, pause_form=form)
    months = int(form.months.data)
    return _apply(
        subscription,
        lambda: recurring_gifts.pause_gift(
            payments.gateway, subscription, months=months, now=now()
        ),
    )


def _confirmed_action(
    supporter: Supporter,
    subscription_id: int,
    action: Callable[..., PendingChange],  # (gateway, subscription) -> the change asked for
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    """A button's action (resume, cancel, keep): the CSRF token is the whole form."""
    subscription = _owned(supporter, subscription_id)
    if not ConfirmForm().validate():
        abort(400)
    return _apply(subscription, lambda: action(payments.gateway, subscription), template=template)


@bp.post("/account/gifts/<int:subscription_id>/resume")
@supporter_required
def resume(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(supporter, subscription_id, recurring_gifts.resume_gift)


@bp.post("/account/gifts/<int:subscription_id>/cancel")
@supporter_required
def cancel(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(
        supporter,
        subscription_id,
        recurring_gifts.cancel_gift_at_period_end,
        template="account/cancel.html",
    )


@bp.post("/account/gifts/<int:subscription_id>/keep")
@supporter_required
def keep(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(supporter, subscription_id, recurring_gifts.keep_gift)


@bp.post("/account/gifts/<int:subscription_id>/card")
@supporter_required
def update_card(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    if not ConfirmForm().validate():
        abort(400)
    return_url = app_config().base_url.rstrip("/") + url_for(
        "gifts.show", subscription_id=subscription.id
    )
    try:
        url = recurring_gifts.card_update_url(payments.gateway, subscription, return_url=return_url)
    except ServiceError as error:
        return _refused(subscription, error)
    return redirect(url, code=303)
