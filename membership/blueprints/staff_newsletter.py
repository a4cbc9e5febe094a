"""Staff pages for the newsletter: the list, export, import, and writing and sending issues."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice

from membership.auth import signed_in_staff, staff_required
from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff_newsletter import (
    ImportSubscribersForm,
    IssueForm,
    SendIssueForm,
    SubscriberFilterForm,
)
from membership.models import NewsletterIssue, StaffMember, StaffRole, Subscriber, SubscriberStatus
from membership.services.newsletter import issues as issues_service
from membership.services.newsletter import list_admin as list_service
from membership.services.newsletter import list_import, subscriptions
from membership.services.newsletter.consent import consent_history
from membership.services.newsletter.send_job import send_issue_job

bp = Blueprint("staff_newsletter", __name__, url_prefix="/staff/newsletter")

MAX_IMPORT_BYTES = 2 * 1024 * 1024


bp.after_request(set_no_store)


def _staff() -> StaffMember:
    member = signed_in_staff()
    if member is None:  # pragma: no cover - staff_required ran first
        abort(403)
    return member


def _filters(form: SubscriberFilterForm) -> list_service.ListFilter:
    status_text = form.status.data or ""
    known = {status.value for status in SubscriberStatus}
    status = SubscriberStatus(status_text) if status_text in known else None
    return list_service.ListFilter(
        query=(form.q.data or "").strip()[:320],
        status=status,
        source=(form.source.data or "").strip()[:120],
    )


@bp.get("")
@staff_required(StaffRole.EDITOR)
def index() -> ResponseReturnValue:
    session = db.session()
    form = SubscriberFilterForm(request.args)
    form.source.choices = [SelectChoice("", "Any source")] + [
        SelectChoice(source, source) for source in list_service.source_choices(session)
    ]
    form.validate()
    filters = _filters(form)
    page = list_service.list_subscribers(
        session, filters, page=request.args.get("page", default=1, type=int) or 1
    )
    growth = list_service.growth_by_month(session)
    return render_template(
        "staff/newsletter/index.html",
        form=form,
        page=page,
        counts=list_service.status_counts(session),
        growth=growth,
        growth_max=max([1, *(max(m.joined, m.left) for m in growth)]),
        filters=filters,
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.get("/export.csv")
@staff_required(StaffRole.EDITOR)
def export() -> Response:
    filters = _filters(SubscriberFilterForm(request.args))
    session = db.session()

    def rows() -> Iterator[str]:
        # The body is written after the view returned, when the request's own teardown has
        # already run: release the connection here, also when the download is cut short.
        try:
            yield from list_service.export_csv(session, filters)
        finally:
            session.close()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="newsletter-subscribers.csv"'
    return response


@bp.get("/subscribers/<int:subscriber_id>")
@staff_required(StaffRole.EDITOR)
def subscriber(subscriber_id: int) -> ResponseReturnValue:
    found = db.session().get(Subscriber, subscriber_id)
    if found is None:
        abort(404)
    return render_template(
        "staff/newsletter/subscriber.html",
        subscriber=found,
        history=consent_history(db.session(), found.id),
        form=ConfirmForm(),
    )


@bp.post("/subscribers/<int:subscriber_id>/unsubscribe")
@staff_required(StaffRole.EDITOR)
def unsubscribe_subscriber(subscriber_id: int) -> ResponseReturnValue:
    """For requests that arrive by mail (the List-Unsubscribe mailto) or by phone."""
    form = ConfirmForm()
    found = db.session().get(Subscriber, subscriber_id)
    if found is None:
        abort(404)
    if not form.validate():
        abort(400)
    subscriptions.unsubscribe(db.session(), found, source=f"staff:{_staff().id}", ip_hash=None)
    db.session().commit()
    return redirect(url_for("staff_newsletter.subscriber", subscriber_id=found.id), code=303)


@bp.route("/import", methods=["GET", "POST"])
@staff_required(StaffRole.EDITOR)
def import_subscribers() -> ResponseReturnValue:
    form = ImportSubscribersForm()
    if request.method == "GET":
        return render_template("staff/newsletter/import.html", form=form, report=None)
    if not form.validate():
        return render_template("staff/newsletter/import.html", form=form, report=None), 400
    upload: FileStorage = form.file.data
    data = upload.read(MAX_IMPORT_BYTES + 1)
    apply = request.form.get("action") == "import"
    error = None
    report = None
    if len(data) > MAX_IMPORT_BYTES:
        error = "The file is larger than 2 MB; split it, or use `flask newsletter import`."
    else:
        try:
            if apply:
                report = list_import.import_subscribers(
                    db.session(),
                    data,
                    basis=form.basis.data or "",
                    source=f"import:{(upload.filename or 'upload.csv')[-100:]}",
                    staff_member_id=_staff().id,
                )
                db.session().commit()
            else:
                report = list_import.check_import(db.session(), data)
        except list_import.ImportFileError as problem:
            db.session().rollback()
            error = str(problem)
    status = 400 if error else 200
    return (
        render_template("staff/newsletter/import.html", form=form, report=report, error=error),
        status,
    )


@bp.get("/issues")
@staff_required(StaffRole.EDITOR)
def issues() -> ResponseReturnValue:
    return render_template(
        "staff/newsletter/issues.html",
        issues=issues_service.all_issues(db.session()),
        form=IssueForm(),
    )


@bp.post("/issues")
@staff_required(StaffRole.EDITOR)
def create_issue() -> ResponseReturnValue:
    form = IssueForm()
    if not form.validate():
        return (
            render_template(
                "staff/newsletter/issues.html",
                issues=issues_service.all_issues(db.session()),
                form=form,
            ),
            400,
        )
    issue = issues_service.save_issue(
        db.session(),
        subject=form.subject.data or "",
        body_markdown=form.body.data or "",
        staff_member_id=_staff().id,
    )
    db.session().commit()
    return redirect(url_for("staff_newsletter.issue", issue_id=issue.id), code=303)


def _issue_or_404(issue_id: int) -> NewsletterIssue:
    issue = db.session().get(NewsletterIssue, issue_id)
    if issue is None:
        abort(404)
    return issue


def _issue_page(
    issue: NewsletterIssue,
    *,
    form: IssueForm | None = None,
    send_form: SendIssueForm | None = None,
    notice: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    preview = issues_service.preview_issue(app_config(), issue)
    return (
        render_template(
            "staff/newsletter/issue.html",
            issue=issue,
            form=form or IssueForm(data={"subject": issue.subject, "body": issue.body_markdown}),
            send_form=send_form or SendIssueForm(),
            test_form=ConfirmForm(),
            preview_text=preview.text,
            confirmed=issues_service.confirmed_count(db.session()),
            progress=issues_service.issue_progress(db.session(), issue.id),
            notice=notice,
        ),
        status,
    )


@bp.get("/issues/<int:issue_id>")
@staff_required(StaffRole.EDITOR)
def issue(issue_id: int) -> ResponseReturnValue:
    notice = {
        "saved": "Saved.",
        "test": f"A test copy is on its way to {_staff().email}.",
        "sent": "The issue is queued for every confirmed subscriber. Progress is below.",
    }.get(request.args.get("done", ""), "")
    return _issue_page(_issue_or_404(issue_id), notice=notice)


@bp.post("/issues/<int:issue_id>")
@staff_required(StaffRole.EDITOR)
def save_issue(issue_id: int) -> ResponseReturnValue:
    issue = _issue_or_404(issue_id)
    form = IssueForm()
    if not form.validate():
        return _issue_page(issue, form=form, status=400)
    try:
        issues_service.save_issue(
            db.session(),
            subject=form.subject.data or "",
            body_markdown=form.body.data or "",
            issue=issue,
        )
    except issues_service.IssueError as error:
        db.session().rollback()
        return _issue_page(_issue_or_404(issue_id), form=form, notice=str(error), status=409)
    db.session().commit()
    return redirect(url_for("staff_newsletter.issue", issue_id=issue.id, done="saved"), code=303)


@bp.get("/issues/<int:issue_id>/preview.html")
@staff_required(StaffRole.EDITOR)
def preview_html(issue_id: int) -> Response:
    preview = issues_service.preview_issue(
        app_config(), _issue_or_404(issue_id), link_stand_in="preview"
    )
    return Response(preview.html, mimetype="text/html")


@bp.post("/issues/<int:issue_id>/test")
@staff_required(StaffRole.EDITOR)
def send_test(issue_id: int) -> ResponseReturnValue:
    issue = _issue_or_404(issue_id)
    if not ConfirmForm().validate():
        abort(400)
    issues_service.send_test(db.session(), app_config(), issue, to=_staff().email)
    db.session().commit()
    return redirect(url_for("staff_newsletter.issue", issue_id=issue.id, done="test"), code=303)


@bp.post("/issues/<int:issue_id>/send")
@staff_required(StaffRole.EDITOR)
def send(issue_id: int) -> ResponseReturnValue:
    """Queues the whole send in this request, batch by batch. If it is cut short (a timeout, a
    deploy), the issue stays "sending" and the same button resumes it; nobody gets two copies."""
    issue = _issue_or_404(issue_id)
    form = SendIssueForm()
    if not form.validate():
        return _issue_page(issue, send_form=form, status=400)
    session = db.session()
    try:
        send_issue_job(session, app_config(), issue, commit=session.commit)
    except issues_service.IssueError as error:
        session.rollback()
        return _issue_page(_issue_or_404(issue_id), notice=str(error), status=409)
    return redirect(url_for("staff_newsletter.issue", issue_id=issue_id, done="sent"), code=303)
