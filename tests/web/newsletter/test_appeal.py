"""The appeal block: non-supporters get the running campaign's appeal at the end of an issue,
supporters do not; a click on it followed by a gift is counted under the issue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.factories import make_donation, make_supporter, make_variant
from helpers.lifecycle import text_of
from helpers.live_server import LiveServer
from helpers.newsletter import deliver
from helpers.payments import give, pay, session_id_from
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    DonationIntent,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.markdown import render_markdown
from membership.services.newsletter.send_job import send_issue_job
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")

CLICK = re.compile(r"(https?://[^\s\"<>)]+/newsletter/c/[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)")
SOURCE = re.compile(r'name="source"[^>]*value="([^"]*)"')


def test_appeal_goes_to_non_supporters_and_its_gift_counts_under_the_issue(
    app: Flask,
    client: FlaskClient,
    live_server: LiveServer,
    standin: StandinServer,
    smtp: SmtpCapture,
) -> None:
    make_variant(
        "winter", headline="Winter drive", body="Keep us reporting.", amounts={"once": [700, 1500]}
    )
    supporter = make_supporter("giver@example.org")
    make_donation(supporter, paid_at=utcnow() - timedelta(days=3))
    for address in ("giver@example.org", "reader@example.org"):
        db.session.add(Subscriber(email=address, status=SubscriberStatus.CONFIRMED))
    body = "This week's reporting."
    issue = NewsletterIssue(subject="Weekly", body_markdown=body, body_html=render_markdown(body))
    db.session.add(issue)
    db.session.commit()
    send_issue_job(db.session(), app.config["MEMBERSHIP"], issue, commit=db.session.commit)
    deliver(smtp)
    mails = {str(m["To"]): m for m in smtp.messages}
    assert "Winter drive" not in text_of(mails["giver@example.org"])
    appeal = text_of(mails["reader@example.org"])
    assert "Winter drive" in appeal and "Keep us reporting." in appeal
    assert "source=newsletter" not in appeal  # the links go through the click counter

    give_7 = CLICK.search(appeal.split("Give $7:", 1)[1])
    assert give_7 is not None
    followed = client.get("/" + give_7.group(1).split("/", 3)[3])
    assert followed.status_code == 303
    target = followed.headers["Location"]
    assert target.endswith(f"/support?amount=700&source=newsletter-{issue.id}")
    form = client.get("/" + target.split("/", 3)[3]).get_data(as_text=True)
    source = SOURCE.search(form)
    assert source is not None and source.group(1) == f"newsletter-{issue.id}"
    pay(
        standin,
        session_id_from(
            give(client, amount="700", email="reader@example.org", source=source.group(1))
        ),
    )

    db.session.expire_all()
    intent = db.session.query(DonationIntent).one()
    assert intent.source_issue_id == issue.id
    page = staff_client(app, make_staff(StaffRole.EDITOR)).get(
        f"/staff/newsletter/issues/{issue.id}"
    )
    gifts = page.get_data(as_text=True).split('id="issue-gifts"')[1].split("</p>")[0]
    assert "<strong>1</strong> payment," in gifts and "<strong>$7" in gifts
    # ... and under the issue in the staff reports.
    # Three days around today, whatever the newsroom's zone.
    start, end = ((utcnow() + timedelta(days=n)).date().isoformat() for n in (-1, 1))
    report = staff_client(app, make_staff(StaffRole.FINANCE)).get(
        f"/staff/reports?start={start}&end={end}&group=day"
    )
    issues = report.get_data(as_text=True).split('id="issues-table"')[1].split("</table>")[0]
    assert '<th scope="row">Weekly</th>' in issues and "$7" in issues
