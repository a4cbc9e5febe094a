"""Staff actions through the real parts: refunds through the Stripe stand-in confirmed by its
webhook, resent receipts in the outbox, articles, banner variants, staff accounts, and the audit
entries each of them leaves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from helpers.clients import csrf_token_from
from helpers.factories import make_article, make_donation, make_supporter, make_variant
from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    Article,
    ArticleStatus,
    AuditEntry,
    BannerVariant,
    Donation,
    DonationRefund,
    DonationStatus,
    EmailMessage,
    StaffMember,
    StaffRole,
    Supporter,
)
from membership.models.audit import AuditLogIsAppendOnly
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def audit_actions() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return [
        (e.actor_email, e.action, e.target_id)
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def as_role(app: Flask, role: StaffRole) -> FlaskClient:
    return staff_client(app, make_staff(role))


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """Submit a form the way a browser would: the CSRF token comes from the page it is on."""
    html = client.get(page or url).get_data(as_text=True)
    hidden = dict(re.findall(r'name="(nonce)" type="hidden" value="([0-9a-f]+)"', html))
    return client.post(url, data={"csrf_token": csrf_token_from(html), **hidden, **data})


@pytest.fixture
def paid_gift(client: FlaskClient, live_server: LiveServer, standin: StandinServer) -> Donation:
    """A real $10 one-off gift (+ 61 cents of fee) paid through the stand-in."""
    response = give(client, amount="1000", cover_fee=True, email="giver@example.org")
    pay(standin, session_id_from(response))
    db.session.expire_all()
    donation = db.session.scalars(select(Donation)).one()
    assert donation.total_cents == 1061
    return donation


def test_finance_refunds_through_stripe_and_the_webhook_confirms(
    app: Flask, paid_gift: Donation, standin: StandinServer
) -> None:
    finance = as_role(app, StaffRole.FINANCE)
    supporter_id = paid_gift.supporter_id
    page = finance.get(f"/staff/supporters/{supporter_id}").get_data(as_text=True)
    assert "giver@example.org" in page and paid_gift.receipt_number in page
    refund_url = f"/staff/supporters/{supporter_id}/donations/{paid_gift.id}/refund"
    confirm_page = finance.get(refund_url).get_data(as_text=True)
    assert 'value="10.61"' in confirm_page  # the whole payment is offered by default
    # Without the confirmation box nothing happens.
    unconfirmed = post_form(finance, refund_url, {"amount": "4", "reason": "duplicate"})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    too_much = post_form(
        finance, refund_url, {"amount": "11", "reason": "duplicate", "confirm": "y"}
    )
    assert too_much.status_code == 400 and "Refund between" in too_much.get_data(as_text=True)
    page = finance.get(refund_url).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token_from(page),
        "nonce": re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', page).group(1),  # type: ignore[union-attr]
        "amount": "4.00",
        "reason": "requested_by_customer",
        "confirm": "y",
    }
    assert finance.post(refund_url, data=form).status_code == 303
    # Our books change only when Stripe's charge.refunded webhook arrives.
    assert standin.flush(10)
    # A double submit of the same page, even after the webhook: one idempotency key, one refund.
    assert finance.post(refund_url, data=form).status_code == 303
    assert standin.flush(10)
    db.session.expire_all()
    donation = db.session.get(Donation, paid_gift.id)
    assert donation is not None
    assert (donation.refunded_cents, donation.status) == (400, DonationStatus.PARTIALLY_REFUNDED)
    refund = db.session.scalars(select(DonationRefund)).one()
    assert refund.amount_cents == 400
    after = finance.get(refund_url).get_data(as_text=True)
    assert 'value="6.61"' in after  # what is left
    entries = [a for a in audit_actions() if a[1] == "refund.requested"]
    assert entries[0] == ("finance@newsroom.example", "refund.requested", str(paid_gift.id))
    assert ("finance@newsroom.example", "supporter.viewed", str(supporter_id)) in audit_actions()


def test_a_refund_stripe_refuses_says_why_and_records_nothing(app: Flask) -> None:
    # A payment recorded here that Stripe has never heard of: Stripe refuses to refund it.
    donation = make_donation(make_supporter("giver@example.org"))
    finance = as_role(app, StaffRole.FINANCE)
    url = f"/staff/supporters/{donation.supporter_id}/donations/{donation.id}/refund"
    refused = post_form(finance, url, {"amount": "5", "reason": "duplicate", "confirm": "y"})
    assert refused.status_code == 502
    html = refused.get_data(as_text=True)
    assert "Stripe refused" in html and donation.stripe_payment_intent_id in html
    assert refused.headers["Cache-Control"] == "private, no-store"
    assert "refund.requested" not in [action for _, action, _ in audit_actions()]
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).refunded_cents == 0  # type: ignore[union-attr]


def test_editors_cannot_refund(app: Flask, paid_gift: Donation) -> None:
    editor = as_role(app, StaffRole.EDITOR)
    url = f"/staff/supporters/{paid_gift.supporter_id}/donations/{paid_gift.id}/refund"
    assert editor.get(url).status_code == 403


@pytest.fixture
def mid_minute() -> Iterator[None]:
    """A frozen clock, 10 seconds into the next minute (later than now, so sessions stay valid)."""
    target = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=10, microsecond=0)
    with time_machine.travel(target, tick=False):
        yield


def test_resend_receipt_queues_one_more_email(
    app: Flask, paid_gift: Donation, mid_minute: None
) -> None:
    finance = as_role(app, StaffRole.FINANCE)
    page = f"/staff/supporters/{paid_gift.supporter_id}"
    url = f"{page}/donations/{paid_gift.id}/resend"
    assert post_form(finance, url, {}, page).status_code == 303
    # A double click in the same minute sends nothing more.
    assert post_form(finance, url, {}, page).status_code == 303
    db.session.expire_all()
    receipts = db.session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "receipt").order_by(EmailMessage.id)
    ).all()
    assert [m.dedupe_key.split(":resend:")[0] for m in receipts if m.dedupe_key] == [
        f"receipt:{paid_gift.id}",
        f"receipt:{paid_gift.id}",
    ]
    assert receipts[0].subject == receipts[1].subject
    history = finance.get(page).get_data(as_text=True)
    assert history.count(receipts[0].subject) == 2  # both listed under "Emails sent"
    assert [a[1] for a in audit_actions()].count("receipt.resent") == 1


def test_supporter_search_by_email_or_name(app: Flask) -> None:
    for email, name in (("ana@example.org", "Ana Lima"), ("bo@example.net", "Bo 100%")):
        db.session.add(Supporter(email=email, name=name))
    db.session.commit()
    finance = as_role(app, StaffRole.FINANCE)

    def found(query: str) -> list[str]:
        html = finance.get("/staff/supporters", query_string={"q": query}).get_data(as_text=True)
        return [e for e in ("ana@example.org", "bo@example.net") if e in html]

    assert found("ANA") == ["ana@example.org"]
    assert found("lima") == ["ana@example.org"]
    assert found("example") == ["ana@example.org", "bo@example.net"]
    assert found("%") == ["bo@example.net"]  # a literal percent sign, not a wildcard
    assert found("_") == []
    assert finance.get("/staff/supporters", query_string={"q": "x" * 300}).status_code == 400


def test_editor_writes_previews_and_publishes_an_article(app: Flask) -> None:
    editor = as_role(app, StaffRole.EDITOR)
    fields = {
        "title": "Harbour reopens",
        "slug": "harbour-reopens",
        "standfirst": "After the storm.",
        "author": "A. Writer",
        "body": "## Day one\n\n<script>alert(1)</script> **Boats** are back.",
        "status": "draft",
    }
    preview = post_form(editor, "/staff/articles/new", {**fields, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<strong>Boats</strong>" in html and "<script>alert" not in html
    assert db.session.scalars(select(Article)).all() == []  # a preview saves nothing
    saved = post_form(editor, "/staff/articles/new", {**fields, "action": "save"})
    assert saved.status_code == 303
    article = db.session.scalars(select(Article)).one()
    assert article.status is ArticleStatus.DRAFT
    assert app.test_client().get("/articles/harbour-reopens").status_code == 404
    assert (
        post_form(
            editor, f"/staff/articles/{article.id}/publish", {}, "/staff/articles"
        ).status_code
        == 303
    )
    assert app.test_client().get("/articles/harbour-reopens").status_code == 200
    assert (
        post_form(
            editor, f"/staff/articles/{article.id}/unpublish", {}, "/staff/articles"
        ).status_code
        == 303
    )
    assert app.test_client().get("/articles/harbour-reopens").status_code == 404
    assert [a[1] for a in audit_actions()] == [
        "article.created",
        "article.published",
        "article.unpublished",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Not A Slug"}, "lower-case letters"),
        ({"slug": "taken"}, "already uses the address"),
        ({"title": ""}, "Give the article a title"),
        ({"status": "scheduled"}, "Not a valid choice"),
        ({"body": "x" * 200_001}, "The body is too long"),
    ],
)
def test_bad_article_forms_are_refused(app: Flask, changes: dict[str, str], message: str) -> None:
    make_article(slug="taken")
    editor = as_role(app, StaffRole.EDITOR)
    fields = {"title": "T", "slug": "fresh", "body": "b", "status": "draft", "action": "save"}
    response = post_form(editor, "/staff/articles/new", {**fields, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_article_donations_page(app: Flask, paid_gift: Donation) -> None:
    article = make_article(slug="with-money")
    donation = db.session.get(Donation, paid_gift.id)
    assert donation is not None
    donation.source_article_id = article.id
    db.session.commit()
    editor = as_role(app, StaffRole.EDITOR)
    html = editor.get(f"/staff/articles/{article.id}/donations").get_data(as_text=True)
    assert "1 payments attributed to this article, $10.61 in all" in html
    assert "giver@example.org" not in html  # editors do not need to know who gave


def test_editor_changes_a_banner_variant(app: Flask) -> None:
    variant = make_variant("control", amounts={"once": [100, 500]})
    editor = as_role(app, StaffRole.EDITOR)
    url = f"/staff/banner/{variant.id}"
    fields = {
        "name": "control",
        "headline": "Readers fund this newsroom",
        "body": "Give as little as $1.",
        "amounts_once": "2, 7.50, 20",
        "amounts_monthly": "3,5",
        "amounts_annual": "",
        "default_frequency": "monthly",
        "weight": "3",
        "active": "y",
    }
    assert post_form(editor, url, fields).status_code == 303
    db.session.expire_all()
    saved = db.session.get(BannerVariant, variant.id)
    assert saved is not None
    assert saved.amounts == {"once": [200, 750, 2000], "monthly": [300, 500]}
    assert (saved.weight, saved.default_frequency.value) == (3, "monthly")
    assert post_form(editor, f"{url}/stop", {}, "/staff/banner").status_code == 303
    db.session.expire_all()
    assert db.session.get(BannerVariant, variant.id).active is False  # type: ignore[union-attr]
    entries = [e for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [e.action for e in entries] == ["banner.updated", "banner.stopped"]
    assert entries[0].details["amounts"] == {
        "from": {"once": [100, 500]},
        "to": {"monthly": [300, 500], "once": [200, 750, 2000]},
    }
    for bad, message in (
        ({"amounts_once": "1, two"}, "List amounts separated by commas"),
        ({"amounts_once": "", "amounts_monthly": ""}, "Give at least one set"),
        ({"weight": "-1"}, "from 0 to 1000"),
        ({"headline": ""}, "Write a headline"),
    ):
        response = post_form(editor, url, {**fields, **bad})
        assert response.status_code == 400, bad
        assert message in response.get_data(as_text=True)


def test_admin_manages_staff_and_cannot_lock_everyone_out(app: Flask) -> None:
    admin = as_role(app, StaffRole.ADMIN)
    added = post_form(
        admin, "/staff/accounts", {"email": "New@Newsroom.example", "name": "N", "role": "editor"}
    )
    assert added.status_code == 303
    member = db.session.scalars(
        select(StaffMember).where(StaffMember.email == "new@newsroom.example")
    ).one()
    prefix = f"m{member.id}"
    changed = post_form(
        admin,
        f"/staff/accounts/{member.id}",
        {f"{prefix}-role": "finance", f"{prefix}-active": "y"},
        "/staff/accounts",
    )
    assert changed.status_code == 303
    off = post_form(
        admin, f"/staff/accounts/{member.id}", {f"{prefix}-role": "finance"}, "/staff/accounts"
    )
    assert off.status_code == 303
    me = db.session.scalars(select(StaffMember).where(StaffMember.role == StaffRole.ADMIN)).one()
    demote_me = post_form(
        admin,
        f"/staff/accounts/{me.id}",
        {f"m{me.id}-role": "editor", f"m{me.id}-active": "y"},
        "/staff/accounts",
    )
    assert demote_me.status_code == 400
    assert "last active admin" in demote_me.get_data(as_text=True)
    duplicate = post_form(
        admin, "/staff/accounts", {"email": "new@newsroom.example", "role": "admin"}
    )
    assert duplicate.status_code == 400
    assert [a[1] for a in audit_actions()] == [
        "staff.created",
        "staff.role_changed",
        "staff.deactivated",
    ]
    log = admin.get("/staff/audit").get_data(as_text=True)
    assert "changed a staff member&#39;s role" in log or "changed a staff member's role" in log
    assert admin.get("/staff/audit?action=staff.created").status_code == 200
    assert admin.get("/staff/audit?action=nope").status_code == 400
    assert admin.get("/staff/audit?page=99").status_code == 404


def test_audit_entries_cannot_be_changed(app: Flask) -> None:
    admin = make_staff(StaffRole.ADMIN)
    from membership.services.staff import audit

    entry = audit.record(db.session(), admin, "report.exported", target_id="money")
    db.session.commit()
    entry.action = "staff.created"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    # The database refuses too, whoever asks.
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE audit_entry SET action = 'x'"))
    db.session.rollback()
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db.session(), admin, "made.up")


def test_a_supporters_page_shows_their_newsletter_consent_history(app: Flask) -> None:
    from membership.services import newsletter

    supporter = Supporter(email="listed@example.org", name="Lee")
    db.session.add(supporter)
    db.session.commit()
    newsletter.set_supporter_subscription(db.session(), supporter, True)
    newsletter.set_supporter_subscription(db.session(), supporter, False)
    db.session.commit()
    finance = as_role(app, StaffRole.FINANCE)
    html = finance.get(f"/staff/supporters/{supporter.id}").get_data(as_text=True)
    section = html.split("Newsletter consent", 1)[1]
    assert "On the list: <strong>unsubscribed</strong>" in section
    assert section.index("<td>confirm</td>") < section.index("<td>unsubscribe</td>")
    assert "switched on in the supporter&#39;s account" in section
