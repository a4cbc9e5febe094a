"""The newsletter, for editors: the list, its export and import, and writing and sending issues."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice

from membership.addresses import CONTROL_RE
from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import (
    EDITOR,
    commit_and_redirect,
    csv_download,
    opened_from_this_site,
    require_confirmation,
)
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff_newsletter import (
    ImportSubscribersForm,
    IssueForm,
    ScheduleIssueForm,
    SendIssueForm,
    SubscriberFilterForm,
)
from membership.models import IssueStatus, NewsletterIssue, Subscriber, SubscriberStatus, utcnow
from membership.services.newsletter import issues as issues_service
from membership.services.newsletter import list_admin as list_service
from membership.services.newsletter import list_import, subscriptions
from membership.services.newsletter import schedule as schedule_service
from membership.services.newsletter.appeal import issue_gifts
from membership.services.newsletter.audiences import AUDIENCES, audience_counts
from membership.services.newsletter.clicks import issue_clicks
from membership.services.newsletter.schedule import choose_audience
from membership.services.newsletter.send_job import send_issue_job

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")

MAX_IMPORT_BYTES = 2 * 1024 * 1024
FILTER_ARGS = ("q", "status", "source")


def _filters(form: SubscriberFilterForm) -> list_service.ListFilter:
    status_text = form.status.data or ""
    known = {status.value for status in SubscriberStatus}
    status = SubscriberStatus(status_text) if status_text in known else None
    # Control characters (a NUL above all, which PostgreSQL cannot compare) match nothing we
    # store: they are dropped from the search rather than sent to the database.
    return list_service.ListFilter(
        query=CONTROL_RE.sub("", form.q.data or "").strip()[:320],
        status=status,
        source=CONTROL_RE.sub("", form.source.data or "").strip()[:120],
    )


@bp.get("")
@staff_required(EDITOR)
@opened_from_this_site
def index() -> ResponseReturnValue:
    session = db.session()
    form = SubscriberFilterForm(request.args)
    form.source.choices = [SelectChoice("", "Any source")] + [
        SelectChoice(source, source) for source in list_service.source_choices(session)
    ]
    form.validate()
    filters = _filters(form)
    page = list_service.list_subscribers(
        session,
        filters,
        actor=acting_member(),
        page=request.args.get("page", default=1, type=int) or 1,
    )
    session.commit()  # the audit entry for listing addresses
    growth = list_service.growth_by_month(session)
    return render_template(
        "staff/newsletter/index.html",
        form=form,
        page=page,
        counts=list_service.status_counts(session),
        growth=growth,
        growth_max=max([1, *(max(m.joined, m.left) for m in growth)]),
        filters=filters,
        # Only the filters go into the page's links: url_for takes no unknown arguments.
        args={k: v for k, v in request.args.items() if k in FILTER_ARGS},
    )


@bp.post("/export.csv")
@staff_required(EDITOR)
def export() -> Response:
    """A POST with the page's CSRF token: a link on another site cannot start (and audit) it."""
    filters = _filters(SubscriberFilterForm(request.form))
    chunks = list_service.export_for_staff(db.session(), acting_member(), filters)
    db.session().commit()  # the audit entry, before the first byte
    return csv_download(chunks, "newsletter-subscribers.csv")


@bp.get("/subscribers/<int:subscriber_id>")
@staff_required(EDITOR)
@opened_from_this_site
def subscriber(subscriber_id: int) -> ResponseReturnValue:
    found = db.get_or_404(Subscriber, subscriber_id)
    history = list_service.subscriber_record(db.session(), acting_member(), found)
    db.session().commit()  # the audit entry for viewing personal data
    return render_template(
        "staff/newsletter/subscriber.html",
        subscriber=found,
        history=history,
        form=ConfirmForm(),
    )


@bp.post("/subscribers/<int:subscriber_id>/unsubscribe")
@staff_required(EDITOR)
def unsubscribe_subscriber(subscriber_id: int) -> ResponseReturnValue:
    """For requests that arrive by mail (the List-Unsubscribe mailto) or by phone."""
    found = db.get_or_404(Subscriber, subscriber_id)
    require_confirmation()
    subscriptions.unsubscribe(
        db.session(), found, source=f"staff:{acting_member().id}", ip_hash=None
    )
    return commit_and_redirect("staff.newsletter.subscriber", subscriber_id=found.id)


@bp.route("/import", methods=["GET", "POST"])
@staff_required(EDITOR)
def import_subscribers() -> ResponseReturnValue:
    form = ImportSubscribersForm()
    if request.method == "GET":
        return _import_page(form)
    if not form.validate():
        return _import_page(form, status=400)
    upload: FileStorage = form.file.data
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        error = "The file is larger than 2 MB; split it, or use `flask newsletter import`."
        return _import_page(form, error=error, status=400)
    try:
        if request.form.get("action") == "import":
            report = list_import.import_subscribers(
                db.session(),
                data,
                basis=form.basis.data or "",
                source=f"import:{(upload.filename or 'upload.csv')[-100:]}",
                staff_member_id=acting_member().id,
            )
        else:  # a check of the file: nothing is written
            report = list_import.check_import(db.session(), data)
    except list_import.ImportFileError as problem:
        db.session().rollback()
        return _import_page(form, error=str(problem), status=400)
    db.session().commit()
    return _import_page(form, report=report)


def _import_page(
    form: ImportSubscribersForm,
    *,
    report: list_import.ImportReport | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template("staff/newsletter/import.html", form=form, report=report, error=error),
        status,
    )


@bp.get("/issues")
@staff_required(EDITOR)
def issues() -> ResponseReturnValue:
    return render_template(
        "staff/newsletter/issues.html",
        issues=issues_service.all_issues(db.session()),
        form=IssueForm(),
    )


@bp.post("/issues")
@staff_required(EDITOR)
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
        staff_member_id=acting_member().id,
    )
    return commit_and_redirect("staff.newsletter.issue", issue_id=issue.id)


def _issue_page(
    issue: NewsletterIssue,
    *,
    form: IssueForm | None = None,
    send_form: SendIssueForm | None = None,
    schedule_form: ScheduleIssueForm | None = None,
    notice: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    config = app_config()
    preview = issues_service.preview_issue(config, issue)
    return (
        render_template(
            "staff/newsletter/issue.html",
            issue=issue,
            form=form or IssueForm(data={"subject": issue.subject, "body": issue.body_markdown}),
            send_form=send_form or SendIssueForm(data={"audience": issue.audience}),
            schedule_form=schedule_form or ScheduleIssueForm(data={"audience": issue.audience}),
            audiences=AUDIENCES,
            audience_counts=audience_counts(
                db.session(), quiet_days=config.supporter_banner_quiet_days, now=utcnow()
            ),
            test_form=ConfirmForm(),
            preview_text=preview.text,
            confirmed=issues_service.confirmed_count(db.session()),
            progress=issues_service.issue_progress(db.session(), issue.id),
            clicks=issue_clicks(db.session(), issue.id),
            gifts=issue_gifts(db.session(), issue.id),
            notice=notice,
        ),
        status,
    )


@bp.get("/issues/<int:issue_id>")
@staff_required(EDITOR)
def issue(issue_id: int) -> ResponseReturnValue:
    notice = {
        "saved": "Saved.",
        "test": f"A test copy is on its way to {acting_member().email}.",
        "sent": "The issue is queued for its audience. Progress is below.",
        "scheduled": "Scheduled. It goes out by itself at that time; you can cancel until then.",
        "cancelled": "The schedule is cancelled: the issue is a draft again.",
    }.get(request.args.get("done", ""), "")
    return _issue_page(db.get_or_404(NewsletterIssue, issue_id), notice=notice)


@bp.post("/issues/<int:issue_id>")
@staff_required(EDITOR)
def save_issue(issue_id: int) -> ResponseReturnValue:
    issue = db.get_or_404(NewsletterIssue, issue_id)
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
        return _issue_page(
            db.get_or_404(NewsletterIssue, issue_id), form=form, notice=str(error), status=409
        )
    return commit_and_redirect("staff.newsletter.issue", issue_id=issue.id, done="saved")


@bp.get("/issues/<int:issue_id>/preview.html")
@staff_required(EDITOR)
def preview_html(issue_id: int) -> Response:
    preview = issues_service.preview_issue(
        app_config(), db.get_or_404(NewsletterIssue, issue_id), link_stand_in="preview"
    )
    return Response(preview.html, mimetype="text/html")


@bp.post("/issues/<int:issue_id>/test")
@staff_required(EDITOR)
def send_test(issue_id: int) -> ResponseReturnValue:
    issue = db.get_or_404(NewsletterIssue, issue_id)
    require_confirmation()
    issues_service.send_test(db.session(), app_config(), issue, to=acting_member().email)
    return commit_and_redirect("staff.newsletter.issue", issue_id=issue.id, done="test")


@bp.post("/issues/<int:issue_id>/send")
@staff_required(EDITOR)
def send(issue_id: int) -> ResponseReturnValue:
    """Queues the whole send in this request, batch by batch. If it is cut short (a timeout, a
    deploy), the issue stays "sending" and the same button resumes it; nobody gets two copies."""
    issue = db.get_or_404(NewsletterIssue, issue_id)
    form = SendIssueForm()
    if not form.validate():
        return _issue_page(issue, send_form=form, status=400)
    session = db.session()
    try:
        if issue.status is IssueStatus.DRAFT:
            choose_audience(session, app_config(), issue, form.audience.data, now=utcnow())
        send_issue_job(session, app_config(), issue, commit=session.commit, actor=acting_member())
    except issues_service.IssueError as error:
        session.rollback()
        return _issue_page(db.get_or_404(NewsletterIssue, issue_id), notice=str(error), status=409)
    return redirect(url_for("staff.newsletter.issue", issue_id=issue_id, done="sent"), code=303)


@bp.post("/issues/<int:issue_id>/schedule")
@staff_required(EDITOR)
def schedule(issue_id: int) -> ResponseReturnValue:
    issue = db.get_or_404(NewsletterIssue, issue_id)
    form = ScheduleIssueForm()
    if not form.validate() or form.send_at.data is None:
        return _issue_page(issue, schedule_form=form, status=400)
    try:
        schedule_service.schedule_issue(
            db.session(),
            app_config(),
            issue,
            audience=form.audience.data,
            local_time=form.send_at.data,
            now=utcnow(),
        )
    except issues_service.IssueError as error:
        db.session().rollback()
        form.send_at.errors = [*form.send_at.errors, error.message]
        return _issue_page(db.get_or_404(NewsletterIssue, issue_id), schedule_form=form, status=400)
    return commit_and_redirect("staff.newsletter.issue", issue_id=issue_id, done="scheduled")


@bp.post("/issues/<int:issue_id>/cancel-schedule")
@staff_required(EDITOR)
def cancel_schedule(issue_id: int) -> ResponseReturnValue:
    issue = db.get_or_404(NewsletterIssue, issue_id)
    require_confirmation()
    try:
        schedule_service.cancel_schedule(db.session(), issue)
    except issues_service.IssueError as error:
        db.session().rollback()
        return _issue_page(issue, notice=error.message, status=409)
    return commit_and_redirect("staff.newsletter.issue", issue_id=issue_id, done="cancelled")
