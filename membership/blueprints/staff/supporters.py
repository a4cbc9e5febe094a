"""Supporters, for finance: search, one supporter's record, refunds through Stripe, resent receipts."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import (
    FINANCE,
    commit_and_redirect,
    require_confirmation,
)
from membership.extensions import db, payments
from membership.formatting import format_money
from membership.forms import ConfirmForm
from membership.forms.staff import RefundForm, SearchForm
from membership.models import Donation, Supporter, utcnow
from membership.services.errors import PaymentUnavailable
from membership.services.staff.supporters import (
    RefundError,
    refundable_cents,
    request_refund,
    resend_receipt,
    search_supporters,
    supporter_record,
)

bp = Blueprint("supporters", __name__)


def _donation_or_404(supporter_id: int, donation_id: int) -> Donation:
    """One of this supporter's payments; 404 for a payment of anyone else."""
    donation: Donation = db.first_or_404(
        select(Donation).where(Donation.id == donation_id, Donation.supporter_id == supporter_id)
    )
    return donation


@bp.get("/supporters")
@staff_required(FINANCE)
def index() -> ResponseReturnValue:
    form = SearchForm(request.args)
    if not form.validate():
        return render_template("staff/supporters.html", form=form, rows=[]), 400
    rows = search_supporters(db.session(), form.q.data or "")
    return render_template("staff/supporters.html", form=form, rows=rows)


@bp.get("/supporters/<int:supporter_id>")
@staff_required(FINANCE)
def show(supporter_id: int) -> ResponseReturnValue:
    supporter = db.get_or_404(Supporter, supporter_id)
    record = supporter_record(db.session(), supporter, acting_member())
    db.session().commit()  # the audit entry for viewing personal data
    return render_template("staff/supporter.html", record=record, action=ConfirmForm())


@bp.route(
    "/supporters/<int:supporter_id>/donations/<int:donation_id>/refund", methods=["GET", "POST"]
)
@staff_required(FINANCE)
def refund(supporter_id: int, donation_id: int) -> ResponseReturnValue:
    donation = _donation_or_404(supporter_id, donation_id)
    available = refundable_cents(donation)
    currency = donation.currency
    if request.method == "GET":
        form = RefundForm.offering(available, currency)
        return render_template(
            "staff/refund.html", form=form, donation=donation, available=available
        )
    form = RefundForm(currency=currency)
    status = 400
    if form.validate():
        try:
            request_refund(
                db.session(),
                payments.gateway,
                donation,
                amount_cents=form.amount_cents,
                reason=form.reason.data,
                nonce=form.nonce.data,
                actor=acting_member(),
            )
        except RefundError as error:
            form.amount.errors = [*form.amount.errors, error.message]
        except PaymentUnavailable as error:
            # Finance acts on Stripe's own words (the reader-facing message hides them).
            refusal = f"Stripe refused: {error.detail or error.message}"
            form.amount.errors = [*form.amount.errors, refusal]
            status = 502
        else:
            notice = (
                f"Refund of {format_money(form.amount_cents, currency, locale=app_config().locale)} sent to Stripe. It shows "
                "here once Stripe confirms it (usually within a minute)."
            )
            return commit_and_redirect(
                "staff.supporters.show", notice=notice, supporter_id=supporter_id
            )
    return (
        render_template("staff/refund.html", form=form, donation=donation, available=available),
        status,
    )


@bp.post("/supporters/<int:supporter_id>/donations/<int:donation_id>/resend")
@staff_required(FINANCE)
def resend(supporter_id: int, donation_id: int) -> ResponseReturnValue:
    require_confirmation()
    donation = _donation_or_404(supporter_id, donation_id)
    queued = resend_receipt(
        db.session(), donation, actor=acting_member(), config=app_config(), now=utcnow()
    )
    notice = (
        f"Receipt {donation.receipt_number} queued again."
        if queued
        else "That receipt was just queued (or the supporter has no email address): nothing sent."
    )
    return commit_and_redirect("staff.supporters.show", notice=notice, supporter_id=supporter_id)
