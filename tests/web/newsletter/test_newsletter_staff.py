"""Staff newsletter tools: access, the list, streamed export, import edge cases, writing and sending
issues (idempotent under a crash), and what readers receive over real SMTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage as Mime
from email.utils import parseaddr
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpers.clients import csrf_token_from
from helpers.exports import export_newsletter
from helpers.factories import count
from helpers.newsletter import (
    UNSUBSCRIBE_LINK,
    deliver,
    make_staff,
    path_of,
    subscriber,
)
from helpers.smtp_capture import SmtpCapture
from helpers.staff import sign_in_staff, sign_in_supporter
from membership.extensions import db
from membership.models import (
    ConsentEvent,
    ConsentKind,
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
)
from membership.services.newsletter import issues as issues_service
from membership.services.newsletter import list_admin, list_import, subscriptions
from membership.services.newsletter.consent import record_consent
from membership.services.newsletter.delivery import make_issue_messages
from membership.services.newsletter.links import UnsubscribeSigner
from membership.services.newsletter.send_job import send_issue_job
from membership.services.supporters import find_or_create_supporter

pytestmark = pytest.mark.usefixtures("app_context")


def add_subscribers(
    n: int, status: SubscriberStatus = SubscriberStatus.CONFIRMED, prefix: str = "reader"
) -> list[Subscriber]:
    now = datetime.now(UTC)
    rows = [
        Subscriber(
            email=f"{prefix}{i}@example.org",
            status=status,
            source="footer:/",
            created_at=now,
            confirmed_at=now if status is SubscriberStatus.CONFIRMED else None,
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def make_issue(
    subject: str = "This week", body: str = "## Hello\n\nNews *here*."
) -> NewsletterIssue:
    issue = issues_service.save_issue(db.session(), subject=subject, body_markdown=body)
    db.session.commit()
    return issue


def staff_client(app_factory: Callable[..., Flask], role: StaffRole) -> FlaskClient:
    """A client of a second app on the same database. Requests from a client of the test's own app
    would share the test's app context, and with it Flask-Login's cached user in `g`."""
    client = app_factory().test_client()
    sign_in_staff(client, make_staff(role))
    return client


@pytest.fixture
def editor_client(app_factory: Callable[..., Flask]) -> FlaskClient:
    return staff_client(app_factory, StaffRole.EDITOR)


STAFF_PAGES = [
    "/staff/newsletter",
    "/staff/newsletter/import",
    "/staff/newsletter/issues",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_need_an_editor_or_admin(
    app: Flask, app_factory: Callable[..., Flask], path: str
) -> None:
    anonymous = app_factory().test_client()
    response = anonymous.get(path)
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]
    for role, expected in (
        (StaffRole.FINANCE, 403),
        (StaffRole.EDITOR, 200),
        (StaffRole.ADMIN, 200),
    ):
        page = staff_client(app_factory, role).get(path)
        page.close()  # a streamed export holds its request context until closed
        assert page.status_code == expected, (role, path)
        if expected == 200:
            assert page.headers["Cache-Control"] == "private, no-store"
    supporter = find_or_create_supporter(db.session(), email="fan@example.org")
    db.session.commit()
    assert supporter is not None
    client = app_factory().test_client()
    sign_in_supporter(client, supporter.id)
    assert client.get(path).status_code == 403


def test_the_list_searches_filters_and_counts(editor_client: FlaskClient) -> None:
    add_subscribers(3)
    add_subscribers(2, SubscriberStatus.UNSUBSCRIBED, prefix="gone")
    add_subscribers(1, SubscriberStatus.PENDING, prefix="maybe")
    special = subscriber("reader1@example.org")
    special.source = "article:harbour"
    db.session.commit()
    html = editor_client.get("/staff/newsletter").get_data(as_text=True)
    assert "6 addresses" in html
    assert "Growth over the last 12 months" in html and "<svg" in html
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert f'<th scope="row">{this_month}</th>' in html
    found = editor_client.get("/staff/newsletter?q=GONE").get_data(as_text=True)
    assert "2 addresses match" in found and "gone0@example.org" in found
    assert "reader0@example.org" not in found
    by_status = editor_client.get("/staff/newsletter?status=pending").get_data(as_text=True)
    assert "1 address match" in by_status and "maybe0@example.org" in by_status
    by_source = editor_client.get("/staff/newsletter?source=article").get_data(as_text=True)
    assert "1 address match" in by_source and "reader1@example.org" in by_source
    # Odd input is a normal page, not an error.
    for query in (
        "?status=bogus",
        "?page=-3",
        "?page=abc",
        "?q=%25_%27%22",
        "?source=" + "x" * 999,
        "?source=%00&q=GONE%00",  # PostgreSQL cannot compare a NUL: dropped, not sent to it
    ):
        assert editor_client.get("/staff/newsletter" + query).status_code == 200, query
    nul = editor_client.get("/staff/newsletter?q=GONE%00").get_data(as_text=True)
    assert "2 addresses match" in nul


def test_growth_counts_joins_and_leaves_per_month(app: Flask) -> None:
    [reader] = add_subscribers(1)
    now = datetime.now(UTC)
    for kind in (ConsentKind.CONFIRM, ConsentKind.IMPORT, ConsentKind.UNSUBSCRIBE):
        record_consent(db.session(), reader, kind, source="x", now=now)
    record_consent(
        db.session(), reader, ConsentKind.CONFIRM, source="x", now=datetime(2001, 1, 1, tzinfo=UTC)
    )
    db.session.commit()
    growth = list_admin.growth_by_month(db.session(), now=now)
    assert len(growth) == 12
    assert (growth[-1].month, growth[-1].joined, growth[-1].left) == (now.strftime("%Y-%m"), 2, 1)
    assert sum(month.joined for month in growth) == 2


def test_export_is_streamed_and_safe_for_spreadsheets(editor_client: FlaskClient) -> None:
    add_subscribers(2503)
    odd = subscriber("reader7@example.org")
    odd.email = "=cmd@example.org"
    db.session.commit()
    response = export_newsletter(editor_client, status="confirmed")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 4  # header + one chunk per 1000 rows
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode()
            )
        )
    )
    assert rows[0] == list(list_admin.EXPORT_COLUMNS)
    assert len(rows) == 2504
    assert rows[8][:2] == ["'=cmd@example.org", "confirmed"]
    empty = export_newsletter(editor_client, status="unsubscribed")
    assert empty.get_data(as_text=True).strip() == ",".join(list_admin.EXPORT_COLUMNS)
    empty.close()


def _import(
    client: FlaskClient,
    data: bytes,
    *,
    action: str = "check",
    basis: str = "Signed up at the book fair",
) -> str:
    token = csrf_token_from(client.get("/staff/newsletter/import").get_data(as_text=True))
    response = client.post(
        "/staff/newsletter/import",
        data={
            "csrf_token": token,
            "basis": basis,
            "action": action,
            "file": (io.BytesIO(data), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    return f"{response.status_code}\n" + response.get_data(as_text=True)


def test_import_dry_run_then_import(editor_client: FlaskClient) -> None:
    add_subscribers(1, SubscriberStatus.UNSUBSCRIBED, prefix="left")
    add_subscribers(1, SubscriberStatus.PENDING, prefix="waiting")
    fan = find_or_create_supporter(db.session(), email="fan@example.org")
    db.session.commit()
    data = (
        "\ufeffName;E-Mail;City\n"
        "Ann;ann@example.org;Oslo\n"
        "Ann again;ANN@Example.org;Oslo\n"
        "Bob;not an address;Rome\n"
        ";;\n"
        "Left;LEFT0@example.org;Lima\n"
        "Wait;waiting0@example.org;Kyiv\n"
        "Fan;fan@example.org;Lagos\n"
        'Evil;=HYPERLINK("x")@example.org;\n'
    ).encode()
    report = _import(editor_client, data)
    assert report.startswith("200")
    assert "Dry run: nothing was changed" in report
    assert count(Subscriber) == 2
    parsed = list_import.check_import(db.session(), data)
    assert [line.value for line in parsed.valid] == ["ann@example.org", "fan@example.org"]
    assert [(line.line, line.reason) for line in parsed.invalid] == [
        (4, "not an email address"),
        (9, "not an email address"),
    ]
    assert [(line.line, line.reason) for line in parsed.duplicates] == [
        (3, "same address as line 2")
    ]
    assert [line.value for line in parsed.already_unsubscribed] == ["left0@example.org"]
    assert [line.value for line in parsed.already_subscribed] == ["waiting0@example.org"]

    done = _import(editor_client, data, action="import")
    assert "Imported 2 addresses" in done
    ann = subscriber("ann@example.org")
    assert ann.status is SubscriberStatus.CONFIRMED and ann.source == "import:list.csv"
    assert subscriber("fan@example.org").supporter_id == (fan.id if fan else None)
    # Never resubscribed by an import; pending ones are left alone too.
    assert subscriber("left0@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert subscriber("waiting0@example.org").status is SubscriberStatus.PENDING
    event = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == ann.id)
    ).one()
    assert event.kind is ConsentKind.IMPORT
    assert event.basis == "Signed up at the book fair"
    assert event.staff_member_id is not None
    # The same file again adds nobody.
    again = list_import.check_import(db.session(), data)
    assert again.valid == [] and len(again.already_subscribed) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"name,city\nAnn,Oslo\n", "No email column found"),
        ("email\nann@example.org\n".encode("utf-16"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    ],
)
def test_import_refuses_unreadable_files_clearly(
    editor_client: FlaskClient, data: bytes, message: str
) -> None:
    report = _import(editor_client, data)
    assert report.startswith("400") and message in report
    assert count(Subscriber) == 0


def test_import_needs_a_consent_basis(editor_client: FlaskClient) -> None:
    report = _import(editor_client, b"email\nann@example.org\n", action="import", basis="  ok ")
    assert report.startswith("400") and "on what basis" in report
    assert count(Subscriber) == 0
    with pytest.raises(list_import.ImportFileError):
        list_import.import_subscribers(
            db.session(), b"email\na@example.org\n", basis="", source="x"
        )


def test_import_of_ten_thousand_rows(app: Flask) -> None:
    lines = ["email"] + [f"Person{i}@Example.org" for i in range(10_000)]
    lines[500] = lines[400].upper()  # an upper-case duplicate
    lines[700] = "broken@"
    data = ("\r\n".join(lines) + "\r\n").encode()
    report = list_import.import_subscribers(
        db.session(), data, basis="Old list, double opt-in", source="import:big.csv"
    )
    db.session.commit()
    assert report.rows == 10_000
    assert len(report.duplicates) == 1 and len(report.invalid) == 1
    assert report.imported == 9_998
    assert count(Subscriber) == 9_998
    assert count(ConsentEvent) == 9_998


def test_cli_import_and_export(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_bytes(b"email;name\nann@example.org;Ann\nbad;Bob\n")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["newsletter", "import", str(source), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import 1, invalid 1" in dry.output
    assert count(Subscriber) == 0
    refused = runner.invoke(args=["newsletter", "import", str(source)])
    assert refused.exit_code != 0 and "on what basis" in refused.output
    done = runner.invoke(
        args=["newsletter", "import", str(source), "--basis", "Paper forms at the 2026 fair"]
    )
    assert done.exit_code == 0, done.output
    assert "imported 1" in done.output
    exported = runner.invoke(args=["newsletter", "export", "--status", "confirmed"])
    assert exported.exit_code == 0
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[1][:3] == ["ann@example.org", "confirmed", "import:people.csv"]


def test_staff_write_preview_and_test_an_issue(
    editor_client: FlaskClient, smtp: SmtpCapture
) -> None:
    page = editor_client.get("/staff/newsletter/issues").get_data(as_text=True)
    token = csrf_token_from(page)
    empty = editor_client.post(
        "/staff/newsletter/issues", data={"csrf_token": token, "subject": " "}
    )
    assert empty.status_code == 400 and "Give the issue a subject line." in empty.get_data(
        as_text=True
    )
    created = editor_client.post(
        "/staff/newsletter/issues",
        data={
            "csrf_token": token,
            "subject": "Week 48: the river pact",
            "body": "## The pact\n\nSigned at last. <script>alert(1)</script>\n\n[More](https://example.org)",
        },
    )
    assert created.status_code == 303
    issue_page = editor_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "<h2>The pact</h2>" in issue_page
    assert "<script>alert(1)</script>" not in issue_page
    assert "Signed at last." in issue_page  # the text preview
    assert "/newsletter/unsubscribe/" in issue_page
    issue = db.session.scalars(select(NewsletterIssue)).one()
    preview = editor_client.get(f"/staff/newsletter/issues/{issue.id}/preview.html")
    assert preview.status_code == 200 and "<h2>The pact</h2>" in preview.get_data(as_text=True)

    test = editor_client.post(
        f"/staff/newsletter/issues/{issue.id}/test",
        data={"csrf_token": csrf_token_from(issue_page)},
    )
    assert test.status_code == 303
    deliver(smtp)
    [mail] = smtp.messages
    assert mail["To"] == "editor@observatory.example"
    assert mail["Subject"] == "[Test] Week 48: the river pact"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = UNSUBSCRIBE_LINK.search(mail["List-Unsubscribe"])
    assert link is not None
    # The test copy's link belongs to nobody: it says so and changes nothing.
    followed = editor_client.post(path_of(link.group(0)))
    assert followed.status_code == 200 and "test email" in followed.get_data(as_text=True)
    assert db.session.get(NewsletterIssue, issue.id).status is IssueStatus.DRAFT  # type: ignore[union-attr]


def check_newsletter_mime(mail: Mime, expected_to: str) -> str:
    """The checks a mailbox provider makes on a bulk message; returns the HTTPS unsubscribe URL."""
    assert mail["To"] == expected_to
    assert parseaddr(mail["From"])[1] == "support@observatory.example"
    assert mail["Message-ID"] and mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    header = mail["List-Unsubscribe"]
    https_part, mailto_part = (part.strip() for part in header.split(","))
    assert https_part.startswith("<http") and https_part.endswith(">")
    assert mailto_part.startswith("<mailto:") and mailto_part.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Id"]
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    url = https_part[1:-1]
    # The same personal link appears in the footer of both parts.
    assert url in str(text.get_content()) and url in str(html.get_content())
    return url


def test_send_to_confirmed_subscribers_only_with_real_headers(
    app: Flask, editor_client: FlaskClient, smtp: SmtpCapture
) -> None:
    add_subscribers(5)
    add_subscribers(2, SubscriberStatus.UNSUBSCRIBED, prefix="gone")
    add_subscribers(2, SubscriberStatus.PENDING, prefix="maybe")
    issue = make_issue()
    page = editor_client.get(f"/staff/newsletter/issues/{issue.id}").get_data(as_text=True)
    assert "Send to 5 subscribers" in page
    token = csrf_token_from(page)
    unconfirmed = editor_client.post(
        f"/staff/newsletter/issues/{issue.id}/send", data={"csrf_token": token}
    )
    assert unconfirmed.status_code == 400
    assert count(EmailMessage) == 0
    sent = editor_client.post(
        f"/staff/newsletter/issues/{issue.id}/send", data={"csrf_token": token, "confirm": "y"}
    )
    assert sent.status_code == 303
    progress = editor_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Sending progress" in progress
    assert issues_service.issue_progress(db.session(), issue.id).queued == 5

    assert deliver(smtp).sent == 5
    received = sorted(smtp.messages, key=lambda m: str(m["To"]))
    assert [m["To"] for m in received] == [f"reader{i}@example.org" for i in range(5)]
    urls = {check_newsletter_mime(m, f"reader{i}@example.org") for i, m in enumerate(received)}
    assert len(urls) == 5  # a personal link each
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.recipients, progress.sent, progress.waiting, progress.failed) == (5, 5, 0, 0)
    assert db.session.get(NewsletterIssue, issue.id).status is IssueStatus.SENT  # type: ignore[union-attr]

    # The link in the delivered email works as RFC 8058 one-click, with no cookies.
    provider = app.test_client(use_cookies=False)
    url = check_newsletter_mime(received[0], "reader0@example.org")
    response = provider.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriber("reader0@example.org").status is SubscriberStatus.UNSUBSCRIBED
    # Sending again is refused; nobody gets a second copy.
    again = editor_client.post(
        f"/staff/newsletter/issues/{issue.id}/send", data={"csrf_token": token, "confirm": "y"}
    )
    assert again.status_code == 409
    assert count(EmailMessage) == 5


class Crash(RuntimeError):
    pass


def crashing_commit(after: int) -> Callable[[], None]:
    """Commits like the session does, then dies (like a killed process) at commit number `after`."""
    calls = {"n": 0}

    def commit() -> None:
        calls["n"] += 1
        if calls["n"] == after:
            raise Crash(f"injected crash at commit {after}")
        db.session.commit()

    return commit


def test_a_crash_mid_send_resumes_without_sending_anyone_twice(
    app: Flask, smtp: SmtpCapture
) -> None:
    add_subscribers(23)
    add_subscribers(4, SubscriberStatus.UNSUBSCRIBED, prefix="gone")
    config = app.config["MEMBERSHIP"]
    issue = make_issue()
    issue_id = issue.id
    # Commit 1 marks the issue sending; 2 and 3 are batches; the 4th (third batch) dies.
    with pytest.raises(Crash):
        send_issue_job(db.session(), config, issue, commit=crashing_commit(4), batch_size=5)
    db.session.rollback()
    # Two batches were committed: their delivery rows; the worker makes each copy later.
    assert count(IssueDelivery) == 10 and count(EmailMessage) == 0
    # The workers may already deliver what was queued before the crash.
    assert deliver(smtp).sent == 10
    # Someone unsubscribes between the crash and the resume: they must not get it.
    subscriptions.unsubscribe(db.session(), subscriber("reader20@example.org"), source="test")
    db.session.commit()
    issue = db.session.get(NewsletterIssue, issue_id)
    assert issue is not None and issue.status is IssueStatus.SENDING
    report = send_issue_job(db.session(), config, issue, commit=db.session.commit, batch_size=5)
    assert report.queued == 12
    # Finished now: another send is refused rather than repeated.
    with pytest.raises(issues_service.IssueError):
        send_issue_job(db.session(), config, issue, commit=db.session.commit)
    deliver(smtp)
    received = [str(m["To"]) for m in smtp.messages]
    expected = {f"reader{i}@example.org" for i in range(23)} - {"reader20@example.org"}
    assert sorted(received) == sorted(expected)  # each exactly once
    assert not any(address.startswith("gone") for address in received)
    per_subscriber = db.session.execute(
        select(IssueDelivery.subscriber_id, func.count())
        .group_by(IssueDelivery.subscriber_id)
        .having(func.count() > 1)
    ).all()
    assert per_subscriber == []


def test_a_sent_issue_is_not_sent_again(app: Flask) -> None:
    add_subscribers(3)
    issue = make_issue()
    config = app.config["MEMBERSHIP"]
    send_issue_job(db.session(), config, issue, commit=db.session.commit)
    with pytest.raises(issues_service.IssueError):
        send_issue_job(db.session(), config, issue, commit=db.session.commit)
    with pytest.raises(issues_service.IssueError):
        issues_service.save_issue(db.session(), subject="x", body_markdown="y", issue=issue)
    assert count(IssueDelivery) == 3


def test_unsubscribing_cancels_an_issue_still_waiting_for_its_copy(
    app: Flask, smtp: SmtpCapture
) -> None:
    add_subscribers(3)
    issue = make_issue()
    config = app.config["MEMBERSHIP"]
    send_issue_job(db.session(), config, issue, commit=db.session.commit)
    reader = subscriber("reader1@example.org")
    url = UnsubscribeSigner(config).url(reader.id, reader.email)
    assert app.test_client().post(path_of(url)).status_code == 200
    deliver(smtp)
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "reader0@example.org",
        "reader2@example.org",
    ]
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.recipients, progress.sent, progress.failed, progress.waiting) == (3, 2, 1, 0)
    cancelled = db.session.scalars(
        select(IssueDelivery).where(IssueDelivery.subscriber_id == reader.id)
    ).one()
    assert cancelled.email_message_id is None
    assert "unsubscribed" in (cancelled.not_sent_reason or "")
    assert count(EmailMessage) == 2


def test_unsubscribing_cancels_an_issue_copy_already_in_the_outbox(
    app: Flask, smtp: SmtpCapture
) -> None:
    add_subscribers(3)
    issue = make_issue()
    config = app.config["MEMBERSHIP"]
    send_issue_job(db.session(), config, issue, commit=db.session.commit)
    # The worker made every copy, then stopped before sending them.
    assert make_issue_messages(db.session(), config, limit=100) == 3
    db.session.commit()
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.queued, progress.sent, progress.failed) == (3, 0, 0)
    reader = subscriber("reader1@example.org")
    url = UnsubscribeSigner(config).url(reader.id, reader.email)
    assert app.test_client().post(path_of(url)).status_code == 200
    deliver(smtp)
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "reader0@example.org",
        "reader2@example.org",
    ]
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.sent, progress.failed) == (2, 1)
    cancelled = db.session.scalars(
        select(EmailMessage).where(EmailMessage.to_address == "reader1@example.org")
    ).one()
    assert cancelled.status is EmailStatus.FAILED
    assert "unsubscribed" in (cancelled.last_error or "")


def test_staff_can_unsubscribe_someone_who_asked_by_mail(editor_client: FlaskClient) -> None:
    [reader] = add_subscribers(1)
    page = editor_client.get(f"/staff/newsletter/subscribers/{reader.id}").get_data(as_text=True)
    assert "Consent history" in page
    response = editor_client.post(
        f"/staff/newsletter/subscribers/{reader.id}/unsubscribe",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 303
    assert subscriber("reader0@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert editor_client.get("/staff/newsletter/subscribers/999999").status_code == 404


def test_cli_send(app: Flask) -> None:
    add_subscribers(4)
    issue = make_issue()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["newsletter", "send", str(issue.id)])
    assert result.exit_code == 0, result.output
    assert "queued 4 emails" in result.output
    missing = runner.invoke(args=["newsletter", "send", "999"])
    assert missing.exit_code != 0 and "no issue 999" in missing.output
