"""Link clicks, privately: links in a sent issue go through our signed redirect, which counts
clicks per issue and link and records nothing about the reader; no open pixel."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from helpers.lifecycle import text_of
from helpers.newsletter import deliver
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    IssueLinkClick,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
)
from membership.services.markdown import render_markdown
from membership.services.newsletter.send_job import send_issue_job

pytestmark = pytest.mark.usefixtures("app_context")

CLICK = re.compile(r"https?://[^\s\"<>)]+/newsletter/c/[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
BODY = "Read [the report](https://example.org/report?a=1&b=2) and https://example.org/other."


def test_clicks_are_counted_per_link_and_nobody_is_tracked(app: Flask, smtp: SmtpCapture) -> None:
    for n in range(2):
        db.session.add(Subscriber(email=f"r{n}@example.org", status=SubscriberStatus.CONFIRMED))
    issue = NewsletterIssue(subject="Links", body_markdown=BODY, body_html=render_markdown(BODY))
    db.session.add(issue)
    db.session.commit()
    send_issue_job(db.session(), app.config["MEMBERSHIP"], issue, commit=db.session.commit)
    deliver(smtp)
    first, second = smtp.messages
    html = first.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = first.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://example.org/report" not in html and "<img" not in html
    assert "https://example.org/report" not in text
    # The text part reads as words, not Markdown: the link's words with its address beside them.
    assert "[the report]" not in text and "Read the report (" in text
    # The issue's two links come first (the appeal block's follow, for these non-supporters);
    # bare URLs are linked in the text part only.
    text_links = CLICK.findall(text)
    assert CLICK.findall(html)[0] == text_links[0]
    links_a = text_links[:2]
    # Every reader gets the same click links: they cannot tell one reader from another.
    assert CLICK.findall(text_of(second)) == text_links
    client = app.test_client()
    for link in (links_a[0], links_a[0], links_a[1]):
        response = client.get("/" + link.split("/", 3)[3])
        assert response.status_code == 303
    assert response.headers["Location"] == "https://example.org/other"
    db.session.expire_all()
    counts = {row.url: row.clicks for row in db.session.query(IssueLinkClick)}
    assert counts == {"https://example.org/report?a=1&b=2": 2, "https://example.org/other": 1}
    page = staff_client(app, make_staff(StaffRole.EDITOR)).get(
        f"/staff/newsletter/issues/{issue.id}"
    )
    assert 'id="link-clicks"' in page.get_data(as_text=True)
    assert client.get("/newsletter/c/forged.token").status_code == 400
