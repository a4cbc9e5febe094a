"""Finding 7: every export or view of personal data by staff writes an audit entry, and no
audit-writing read can be set off by a link on another site: exports are POSTs with a CSRF token,
and a record opened from another site shows a button first (no data, no entry) until staff
choose to open it."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.clients import csrf_token_from
from helpers.exports import export_newsletter, export_report
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    AuditEntry,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
    Supporter,
)

pytestmark = pytest.mark.usefixtures("app_context")


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def editor(app: Flask) -> FlaskClient:
    return staff_client(app, make_staff(StaffRole.EDITOR))


@pytest.fixture
def finance(app: Flask) -> FlaskClient:
    return staff_client(app, make_staff(StaffRole.FINANCE))


def listed(email: str = "listed@example.org") -> Subscriber:
    row = Subscriber(email=email, status=SubscriberStatus.CONFIRMED, source="footer")
    db.session.add(row)
    db.session.commit()
    return row


def test_report_exports_start_from_a_post_with_a_csrf_token(finance: FlaskClient) -> None:
    query = {"report": "donations", "start": "2026-01-01", "end": "2026-01-31", "group": "month"}
    assert finance.get("/staff/reports.csv", query_string=query).status_code == 405
    assert finance.post("/staff/reports.csv", data=query).status_code == 400  # no CSRF token
    assert actions() == []
    response = export_report(finance, report="donations", start="2026-01-01", end="2026-01-31")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert actions() == ["report.exported"]


def test_the_report_page_offers_exports_as_forms(finance: FlaskClient) -> None:
    page = finance.get("/staff/reports?start=2026-01-01&end=2026-01-31&group=month")
    html = page.get_data(as_text=True)
    assert 'method="post" action="/staff/reports.csv"' in html
    assert 'href="/staff/reports.csv' not in html


def test_the_newsletter_export_is_audited_and_a_post(editor: FlaskClient) -> None:
    """The reproduction: the newsletter export wrote no audit entry, and a GET link started it."""
    listed()
    assert editor.get("/staff/newsletter/export.csv").status_code == 405
    response = export_newsletter(editor, status="confirmed")
    assert "listed@example.org" in response.get_data(as_text=True)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "newsletter.exported")
    ).one()
    assert entry.details["filters"]["status"] == "confirmed"
    page = editor.get("/staff/newsletter").get_data(as_text=True)
    assert 'method="post" action="/staff/newsletter/export.csv"' in page


def test_the_newsletter_import_is_audited(editor: FlaskClient) -> None:
    token = csrf_token_from(editor.get("/staff/newsletter/import").get_data(as_text=True))
    response = editor.post(
        "/staff/newsletter/import",
        data={
            "csrf_token": token,
            "basis": "Signed up at the book fair",
            "action": "import",
            "file": (io.BytesIO(b"email\nann@example.org\n"), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "newsletter.imported" in actions()


def test_sending_an_issue_is_audited(editor: FlaskClient) -> None:
    listed()
    issue = NewsletterIssue(subject="This week", body_markdown="Hi.", body_html="<p>Hi.</p>")
    db.session.add(issue)
    db.session.commit()
    page = editor.get(f"/staff/newsletter/issues/{issue.id}").get_data(as_text=True)
    sent = editor.post(
        f"/staff/newsletter/issues/{issue.id}/send",
        data={"csrf_token": csrf_token_from(page), "confirm": "y"},
    )
    assert sent.status_code == 303
    assert "newsletter.sent" in actions()


def test_viewing_a_subscriber_and_the_lists_is_audited(
    editor: FlaskClient, finance: FlaskClient
) -> None:
    row = listed()
    assert editor.get(f"/staff/newsletter/subscribers/{row.id}").status_code == 200
    assert editor.get("/staff/newsletter?q=listed").status_code == 200
    assert finance.get("/staff/supporters?q=reader").status_code == 200
    assert actions() == ["subscriber.viewed", "newsletter.listed", "supporters.searched"]


CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}


def test_a_link_from_another_site_shows_no_record_and_writes_no_entry(
    editor: FlaskClient, finance: FlaskClient
) -> None:
    row = listed()
    supporter = Supporter(email="reader@example.org", name="Reader")
    db.session.add(supporter)
    db.session.commit()
    for client, path in (
        (editor, f"/staff/newsletter/subscribers/{row.id}"),
        (editor, "/staff/newsletter?q=listed"),
        (finance, f"/staff/supporters/{supporter.id}"),
        (finance, "/staff/supporters?q=reader"),
    ):
        for headers in (CROSS_SITE, {"Referer": "https://evil.example/page"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert "@example.org" not in html, path
            assert f'href="{path}"' in html.replace("&amp;", "&"), path
    assert actions() == []
    opened = editor.get(
        f"/staff/newsletter/subscribers/{row.id}", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert "listed@example.org" in opened.get_data(as_text=True)
    assert actions() == ["subscriber.viewed"]
