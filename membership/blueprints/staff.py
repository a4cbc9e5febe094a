"""The staff area: dashboard, reports and exports, banner experiments, articles, supporters, audit, accounts.

Every route checks the role (`staff_required`); every response is `Cache-Control: no-store`.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from membership import charts
from membership.auth import signed_in_staff, staff_may, staff_required
from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.dates import add_months, first_of_month
from membership.extensions import db, payments
from membership.formatting import decimal_amount, format_money
from membership.forms import ConfirmForm
from membership.forms.staff import (
    ArticleForm,
    ExportForm,
    RefundForm,
    ReportForm,
    SearchForm,
    StaffAddForm,
    StaffChangeForm,
    VariantForm,
)
from membership.models import (
    Article,
    ArticleStatus,
    BannerVariant,
    Frequency,
    StaffMember,
    StaffRole,
    utcnow,
)
from membership.payments.gateway import PaymentProviderError
from membership.services import article_admin, audit, banner_admin, reports, supporter_admin
from membership.services import staff as staff_service
from membership.services.articles import ArticleDraft, ArticleError
from membership.services.markdown import render_markdown

bp = Blueprint("staff", __name__, url_prefix="/staff")

EDITOR, FINANCE, ADMIN = StaffRole.EDITOR, StaffRole.FINANCE, StaffRole.ADMIN


bp.after_request(set_no_store)


@bp.context_processor
def staff_context() -> dict[str, Any]:
    member = signed_in_staff()

    def may(*roles: StaffRole) -> bool:
        return member is not None and staff_may(member, roles)

    return {
        "staff_member": member,
        "may": may,
        "EDITOR": EDITOR,
        "FINANCE": FINANCE,
        "ADMIN": ADMIN,
    }


def _me() -> StaffMember:
    member = signed_in_staff()
    if member is None:  # pragma: no cover - staff_required ran first
        abort(403)
    return member


def _money(cents: int | float) -> str:
    return format_money(int(round(cents)), app_config().currency)


def _now() -> datetime:
    return utcnow()


def _today() -> date:
    return _now().astimezone(app_config().zone).date()


# Dashboard


@bp.get("")
@staff_required(EDITOR, FINANCE)
def dashboard() -> ResponseReturnValue:
    member = _me()
    config = app_config()
    sees_money = staff_may(member, (FINANCE,))
    context: dict[str, Any] = {"member": member, "sees_money": sees_money}
    if sees_money:
        now = _now()
        board = reports.dashboard(db.session(), config.zone, now)
        first = first_of_month(_today(), -11)
        starts = [reports.local_midnight(add_months(first, k), config.zone) for k in range(12)]
        instants = [*starts[1:], now]
        trend = reports.mrr_at(db.session(), instants)
        labels = [add_months(first, k).strftime("%b %Y") for k in range(12)]
        context.update(
            board=board,
            trend=list(zip(labels, trend, strict=True)),
            trend_chart=charts.line_chart(
                "mrr-trend",
                "Monthly recurring revenue at the end of each month",
                "MRR over the last twelve months; the table beside it has the figures.",
                labels,
                [charts.Series("MRR", [mrr / 100 for mrr, _ in trend])],
                lambda v: _money(v * 100),
            ),
        )
    return render_template("staff/dashboard.html", **context)


# Reports


def _default_range() -> dict[str, Any]:
    today = _today()
    return {
        "start": first_of_month(today, -11),
        "end": today,
        "group": "month",
    }


def _report_form(form_class: type[ReportForm] = ReportForm) -> ReportForm:
    if not request.args:
        return form_class(data=_default_range(), formdata=None)
    return form_class(request.args)


@bp.get("/reports")
@staff_required(FINANCE)
def report() -> ResponseReturnValue:
    form = _report_form()
    if not form.validate():
        return render_template("staff/reports.html", form=form, result=None), 400
    config = app_config()
    try:
        result = reports.full_report(
            db.session(),
            reports.ReportRequest(form.start.data, form.end.data, form.group.data),
            config.zone,
            _now(),
        )
    except reports.ReportError as error:
        form.end.errors = [*form.end.errors, str(error)]
        return render_template("staff/reports.html", form=form, result=None), 400
    labels = [b.short_label for b in result.buckets]
    money_chart = charts.bar_chart(
        "money-chart",
        "Gross and net by period",
        "Bars of gross and net revenue for each period; the table below has the figures.",
        labels,
        [
            charts.Series("Gross", [r.gross / 100 for r in result.money]),
            charts.Series("Net", [max(0, r.net) / 100 for r in result.money]),
        ],
        lambda v: _money(v * 100),
    )
    mrr_chart = charts.line_chart(
        "mrr-chart",
        "MRR at the end of each period",
        "Monthly recurring revenue at the end of each period; the movements table has the figures.",
        labels,
        [charts.Series("MRR", [r.mrr_end / 100 for r in result.movements])],
        lambda v: _money(v * 100),
    )
    query = {
        "start": form.start.data.isoformat(),
        "end": form.end.data.isoformat(),
        "group": form.group.data,
    }
    return render_template(
        "staff/reports.html",
        form=form,
        result=result,
        money_chart=money_chart,
        mrr_chart=mrr_chart,
        query=query,
        money_columns=reports.MONEY_COLUMNS,
        money_fields=reports.MONEY_FIELDS,
        movement_columns=reports.MOVEMENT_COLUMNS,
        movement_money=reports.MOVEMENT_MONEY_FIELDS,
        funnel_columns=reports.FUNNEL_COLUMNS,
        cell=reports.cell,
    )


def _csv_money(cents: int | None) -> str:
    return "" if cents is None else decimal_amount(cents, app_config().currency)


def _csv_value(value: Any, money: bool) -> str:
    if value is None:
        return ""
    if money:
        return _csv_money(int(value))
    return str(value)


def _table_rows(
    columns: Sequence[tuple[str, str]], money: set[str], rows: Iterable[object]
) -> Iterator[list[str]]:
    yield [title for _, title in columns]
    for row in rows:
        yield [_csv_value(reports.cell(row, name), name in money) for name, _ in columns]


def _export_rows(form: ExportForm) -> Iterator[list[str]]:
    """The rows of one export, computed lazily inside the streamed response."""
    config = app_config()
    session = db.session()
    kind = form.report.data
    request_ = reports.ReportRequest(form.start.data, form.end.data, form.group.data)
    if kind == "donations":
        starts = reports.local_midnight(request_.start, config.zone)
        ends = reports.local_midnight(request_.end + timedelta(days=1), config.zone)
        yield list(reports.DONATION_EXPORT_HEADER)
        for row in reports.donation_rows(session, starts, ends):
            (id_, paid_at, receipt, kind_, status, currency, gift, fee, refunded, *rest) = row
            yield [
                str(id_),
                paid_at.isoformat(),
                receipt or "",
                str(kind_),
                str(status),
                currency,
                _csv_money(gift),
                _csv_money(fee),
                _csv_money(refunded),
                *("" if v is None else str(v) for v in rest),
            ]
        return
    buckets = reports.make_buckets(request_.start, request_.end, request_.grouping, config.zone)
    if kind == "money":
        rows = reports.money_by_bucket(session, buckets)
        yield from _table_rows(
            reports.MONEY_COLUMNS, reports.MONEY_FIELDS, [*rows, reports.money_total(rows)]
        )
    elif kind == "movements":
        rows_m = reports.movements(
            session, reports.movement_instants(buckets, _now()), [b.label for b in buckets]
        )
        yield from _table_rows(reports.MOVEMENT_COLUMNS, reports.MOVEMENT_MONEY_FIELDS, rows_m)
    elif kind == "cohorts":
        cohort_rows = reports.cohorts(session, request_.start, request_.end, config.zone, _now())
        width = max((len(c.retained) for c in cohort_rows), default=0)
        yield ["Cohort", "Supporters", *(f"Month {k}" for k in range(width))]
        for c in cohort_rows:
            yield [c.label, str(c.size), *(str(n) for n in c.retained)]
    else:
        funnel_rows = reports.funnel(
            session, "article" if kind == "articles" else "variant", request_.start,
            request_.end, config.zone,
        )  # fmt: skip
        yield from _table_rows(reports.FUNNEL_COLUMNS, {"revenue"}, funnel_rows)


@bp.get("/reports.csv")
@staff_required(FINANCE)
def report_csv() -> ResponseReturnValue:
    form = _report_form(ExportForm)
    if not form.validate():
        messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return Response(f"Cannot export: {messages}\n", status=400, mimetype="text/plain")
    try:
        # Fail before the first byte rather than in the middle of the stream.
        reports.make_buckets(form.start.data, form.end.data, form.group.data, app_config().zone)
    except reports.ReportError as error:
        return Response(f"Cannot export: {error}\n", status=400, mimetype="text/plain")
    audit.record(
        db.session(),
        _me(),
        "report.exported",
        target_type="report",
        target_id=form.report.data,
        details={
            "start": form.start.data.isoformat(),
            "end": form.end.data.isoformat(),
            "group": form.group.data,
        },
    )
    db.session().commit()

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in _export_rows(form):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    filename = f"{form.report.data}-{form.start.data.isoformat()}-{form.end.data.isoformat()}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Banner experiments


def _variant_form_data(variant: BannerVariant) -> dict[str, Any]:
    def dollars(cents: list[int]) -> str:
        return ", ".join(_csv_money(c).removesuffix(".00") for c in cents)

    return {
        "name": variant.name,
        "headline": variant.headline,
        "body": variant.body,
        "amounts_once": dollars(variant.amounts_for(Frequency.ONCE)),
        "amounts_monthly": dollars(variant.amounts_for(Frequency.MONTHLY)),
        "amounts_annual": dollars(variant.amounts_for(Frequency.ANNUAL)),
        "default_frequency": variant.default_frequency.value,
        "weight": variant.weight,
        "active": variant.active,
    }


@bp.get("/banner")
@staff_required(EDITOR)
def banner() -> ResponseReturnValue:
    form = _report_form()
    if not form.validate():
        form = ReportForm(data=_default_range(), formdata=None)
    results = reports.funnel(
        db.session(), "variant", form.start.data, form.end.data, app_config().zone, limit=None
    )
    return render_template(
        "staff/banner.html",
        variants=banner_admin.all_variants(db.session()),
        results=results,
        form=form,
        action=ConfirmForm(),
    )


def _variant_page(
    form: VariantForm, variant: BannerVariant | None, status: int = 200
) -> tuple[str, int]:
    return render_template("staff/variant_form.html", form=form, variant=variant), status


@bp.route("/banner/new", methods=["GET", "POST"])
@bp.route("/banner/<int:variant_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit_variant(variant_id: int | None = None) -> ResponseReturnValue:
    variant = db.session().get(BannerVariant, variant_id) if variant_id is not None else None
    if variant_id is not None and variant is None:
        abort(404)
    if request.method == "GET":
        data = _variant_form_data(variant) if variant else {"weight": 1, "active": False}
        return _variant_page(VariantForm(data=data, formdata=None), variant)
    form = VariantForm()
    if not form.validate():
        return _variant_page(form, variant, 400)
    change = banner_admin.VariantChange(
        name=form.name.data.strip(),
        headline=form.headline.data.strip(),
        body=form.body.data.strip(),
        amounts=form.amounts,
        default_frequency=Frequency(form.default_frequency.data),
        weight=int(form.weight.data),
        active=bool(form.active.data),
    )
    try:
        saved = banner_admin.save_variant_as_staff(
            db.session(), _me(), change, variant_id=variant_id
        )
    except banner_admin.BannerError as error:
        db.session().rollback()
        form.name.errors = [*form.name.errors, str(error)]
        return _variant_page(form, variant, 400)
    db.session().commit()
    flash(f"Saved the variant “{saved.name}”.")
    return redirect(url_for("staff.banner"), code=303)


@bp.post("/banner/<int:variant_id>/start")
@staff_required(EDITOR)
def start_variant(variant_id: int) -> ResponseReturnValue:
    return _set_running(variant_id, True)


@bp.post("/banner/<int:variant_id>/stop")
@staff_required(EDITOR)
def stop_variant(variant_id: int) -> ResponseReturnValue:
    return _set_running(variant_id, False)


def _set_running(variant_id: int, running: bool) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400, "The form expired; reload the page and try again.")
    try:
        variant = banner_admin.set_running(db.session(), _me(), variant_id, running)
    except banner_admin.BannerError:
        abort(404)
    db.session().commit()
    flash(f"“{variant.name}” is {'running' if running else 'stopped'}.")
    return redirect(url_for("staff.banner"), code=303)


# Articles


@bp.get("/articles")
@staff_required(EDITOR)
def articles() -> ResponseReturnValue:
    return render_template(
        "staff/articles.html", rows=article_admin.all_articles(db.session()), action=ConfirmForm()
    )


def _article_page(
    form: ArticleForm, article: Article | None, *, preview: Markup | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template("staff/article_form.html", form=form, article=article, preview=preview),
        status,
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit_article(article_id: int | None = None) -> ResponseReturnValue:
    article = db.session().get(Article, article_id) if article_id is not None else None
    if article_id is not None and article is None:
        abort(404)
    if request.method == "GET":
        data = (
            {
                "title": article.title,
                "slug": article.slug,
                "standfirst": article.standfirst,
                "author": article.author,
                "body": article.body_markdown,
                "status": article.status.value,
            }
            if article
            else {}
        )
        return _article_page(ArticleForm(data=data, formdata=None), article)
    form = ArticleForm()
    if not form.validate():
        return _article_page(form, article, status=400)
    if request.form.get("action") == "preview":
        # Rendered by the same sanitizer as the saved article; nothing is stored.
        return _article_page(
            form,
            article,
            preview=Markup(render_markdown(form.body.data or "")),  # noqa: S704 (sanitized by nh3)
        )
    draft = ArticleDraft(
        slug=form.slug.data,
        title=form.title.data,
        body_markdown=form.body.data or "",
        standfirst=form.standfirst.data or "",
        author=form.author.data or "",
        status=ArticleStatus(form.status.data),
    )
    try:
        saved = article_admin.save_as_staff(db.session(), _me(), draft, article_id=article_id)
    except ArticleError as error:
        db.session().rollback()
        form.slug.errors = [*form.slug.errors, str(error)]
        return _article_page(form, article, status=400)
    db.session().commit()
    flash(f"Saved “{saved.title}”.")
    return redirect(url_for("staff.edit_article", article_id=saved.id), code=303)


@bp.post("/articles/<int:article_id>/publish")
@staff_required(EDITOR)
def publish_article(article_id: int) -> ResponseReturnValue:
    return _set_published(article_id, True)


@bp.post("/articles/<int:article_id>/unpublish")
@staff_required(EDITOR)
def unpublish_article(article_id: int) -> ResponseReturnValue:
    return _set_published(article_id, False)


def _set_published(article_id: int, published: bool) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400, "The form expired; reload the page and try again.")
    try:
        article = article_admin.set_published(db.session(), _me(), article_id, published)
    except ArticleError:
        abort(404)
    db.session().commit()
    flash(f"“{article.title}” is {'published' if published else 'a draft again'}.")
    return redirect(url_for("staff.articles"), code=303)


@bp.get("/articles/<int:article_id>/donations")
@staff_required(EDITOR)
def article_donations(article_id: int) -> ResponseReturnValue:
    article = db.session().get(Article, article_id)
    if article is None:
        abort(404)
    money = article_admin.article_donations(db.session(), article_id)
    return render_template("staff/article_donations.html", article=article, money=money)


# Supporters


@bp.get("/supporters")
@staff_required(FINANCE)
def supporters() -> ResponseReturnValue:
    form = SearchForm(request.args)
    if not form.validate():
        return render_template("staff/supporters.html", form=form, rows=[]), 400
    rows = supporter_admin.search_supporters(db.session(), form.q.data or "")
    return render_template("staff/supporters.html", form=form, rows=rows)


@bp.get("/supporters/<int:supporter_id>")
@staff_required(FINANCE)
def supporter(supporter_id: int) -> ResponseReturnValue:
    record = supporter_admin.supporter_record(db.session(), supporter_id, _me())
    if record is None:
        abort(404)
    db.session().commit()  # the audit entry for viewing
    return render_template(
        "staff/supporter.html",
        record=record,
        action=ConfirmForm(),
        refundable=supporter_admin.refundable_cents,
    )


@bp.route(
    "/supporters/<int:supporter_id>/donations/<int:donation_id>/refund", methods=["GET", "POST"]
)
@staff_required(FINANCE)
def refund(supporter_id: int, donation_id: int) -> ResponseReturnValue:
    donation = supporter_admin.find_donation(db.session(), supporter_id, donation_id)
    if donation is None:
        abort(404)
    available = supporter_admin.refundable_cents(donation)
    if request.method == "GET":
        form = RefundForm(
            data={"amount": _csv_money(available), "nonce": secrets.token_hex(16)}, formdata=None
        )
        return render_template(
            "staff/refund.html", form=form, donation=donation, available=available
        )
    form = RefundForm()
    status = 400
    if form.validate():
        try:
            supporter_admin.request_refund(
                db.session(),
                payments.gateway,
                donation,
                amount_cents=form.amount_cents,
                reason=form.reason.data,
                nonce=form.nonce.data,
                actor=_me(),
            )
        except supporter_admin.SupporterAdminError as error:
            form.amount.errors = [*form.amount.errors, str(error)]
        except PaymentProviderError as error:
            db.session().rollback()
            form.amount.errors = [
                *form.amount.errors,
                f"Stripe refused: {error.detail or error.message}",
            ]
            status = 502
        else:
            db.session().commit()
            flash(
                f"Refund of {_money(form.amount_cents)} sent to Stripe. It shows here once Stripe "
                "confirms it (usually within a minute)."
            )
            return redirect(url_for("staff.supporter", supporter_id=supporter_id), code=303)
    return (
        render_template("staff/refund.html", form=form, donation=donation, available=available),
        status,
    )


@bp.post("/supporters/<int:supporter_id>/donations/<int:donation_id>/resend")
@staff_required(FINANCE)
def resend_receipt(supporter_id: int, donation_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400, "The form expired; reload the page and try again.")
    donation = supporter_admin.find_donation(db.session(), supporter_id, donation_id)
    if donation is None:
        abort(404)
    queued = supporter_admin.resend_receipt(
        db.session(), donation, actor=_me(), config=app_config(), now=_now()
    )
    db.session().commit()
    flash(
        f"Receipt {donation.receipt_number} queued again."
        if queued
        else "That receipt was just queued (or the supporter has no email address): nothing sent."
    )
    return redirect(url_for("staff.supporter", supporter_id=supporter_id), code=303)


# Audit log and staff accounts (admins)


@bp.get("/audit")
@staff_required(ADMIN)
def audit_log() -> ResponseReturnValue:
    number = request.args.get("page", default=1, type=int)
    action = request.args.get("action", default="", type=str)
    if action and action not in audit.ACTIONS:
        abort(400, "There is no such action in the audit log.")
    page = audit.audit_page(db.session(), number, action=action or None)
    if page is None:
        abort(404)
    return render_template("staff/audit.html", page=page, actions=audit.ACTIONS, action=action)


@bp.get("/accounts")
@staff_required(ADMIN)
def accounts() -> ResponseReturnValue:
    return _accounts_page(StaffAddForm(formdata=None))


def _accounts_page(add_form: StaffAddForm, status: int = 200, error: str = "") -> tuple[str, int]:
    members = staff_service.list_staff(db.session())
    forms = {
        m.id: StaffChangeForm(
            data={"role": m.role.value, "active": m.active}, formdata=None, prefix=f"m{m.id}"
        )
        for m in members
    }
    return (
        render_template(
            "staff/accounts.html", members=members, forms=forms, add_form=add_form, error=error
        ),
        status,
    )


@bp.post("/accounts")
@staff_required(ADMIN)
def add_account() -> ResponseReturnValue:
    form = StaffAddForm()
    if not form.validate():
        return _accounts_page(form, 400)
    try:
        member = staff_service.add_staff(
            db.session(),
            _me(),
            email=form.email.data,
            role=form.role.data,
            name=form.name.data or "",
        )
    except staff_service.StaffError as error:
        db.session().rollback()
        form.email.errors = [*form.email.errors, str(error)]
        return _accounts_page(form, 400)
    db.session().commit()
    flash(f"{member.email} can now sign in as {member.role.value}.")
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/accounts/<int:member_id>")
@staff_required(ADMIN)
def change_account(member_id: int) -> ResponseReturnValue:
    form = StaffChangeForm(prefix=f"m{member_id}")
    if not form.validate():
        return _accounts_page(StaffAddForm(formdata=None), 400, "Choose a role from the list.")
    try:
        member = staff_service.change_staff(
            db.session(), _me(), member_id, role=form.role.data, active=bool(form.active.data)
        )
    except staff_service.StaffError as error:
        db.session().rollback()
        return _accounts_page(StaffAddForm(formdata=None), 400, str(error))
    db.session().commit()
    flash(f"{member.email}: {member.role.value}, {'active' if member.active else 'deactivated'}.")
    return redirect(url_for("staff.accounts"), code=303)
