"""Who may open what: every staff route in app.url_map, walked as anonymous, supporter, editor,
finance and admin, with GET and with POST (a valid CSRF token, so only the role decides)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.clients import csrf_token_from
from helpers.factories import make_article, make_variant
from helpers.staff import make_staff, sign_in_staff, sign_in_supporter
from membership.auth import staff_required
from membership.extensions import db
from membership.models import (
    Donation,
    DonationKind,
    Frequency,
    NewsletterIssue,
    StaffMember,
    StaffRole,
    Subscriber,
    SubscriberStatus,
    Supporter,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from membership.services.campaigns import CampaignChange, save_campaign
from membership.services.integrations.api_tokens import create_token

pytestmark = pytest.mark.usefixtures("app_context")

ROLES = ("anonymous", "supporter", "editor", "finance", "admin")


@pytest.fixture
def records(app: Flask) -> dict[str, int]:
    supporter = Supporter(email="reader@example.org", name="Reader")
    db.session.add(supporter)
    db.session.flush()
    donation = Donation(
        amount_cents=500,
        fee_cents=0,
        currency="usd",
        kind=DonationKind.ONE_OFF,
        supporter_id=supporter.id,
        stripe_payment_intent_id="pi_access",
        receipt_number="OBS-2026-000001",
        paid_at=utcnow(),
    )
    db.session.add(donation)
    db.session.commit()
    members = {role: make_staff(role) for role in ("editor", "finance", "admin")}
    subscriber = Subscriber(email="listed@example.org", status=SubscriberStatus.CONFIRMED)
    issue = NewsletterIssue(subject="This week", body_markdown="Hello.", body_html="<p>Hello.</p>")
    db.session.add_all([subscriber, issue])
    db.session.commit()
    token = create_token(db.session(), name="walked", scopes=["donations:read"], expires_at=None,
                         created_by="test", now=utcnow()).token  # fmt: skip
    endpoint = WebhookEndpoint(url="https://crm.example/hook", events=["donation.created"],
                               secret="whsec_" + "A" * 32)  # fmt: skip
    db.session.add(endpoint)
    db.session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, message_id="msg_walked",
                               event_type="donation.created", payload={})  # fmt: skip
    db.session.add(delivery)
    db.session.commit()
    return {
        "token_id": token.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "subscriber_id": subscriber.id,
        "issue_id": issue.id,
        "article_id": make_article(slug="walked").id,
        "variant_id": make_variant("walked").id,
        "campaign_id": make_walked_campaign(),
        "supporter_id": supporter.id,
        "donation_id": donation.id,
        "member_id": members["editor"].id,
        "name": "welcome",  # a lifecycle kind
        **{f"staff:{role}": m.id for role, m in members.items()},
    }


def make_walked_campaign() -> int:
    now = utcnow()
    campaign = save_campaign(
        db.session(),
        CampaignChange(
            slug="walked",
            name="Walked",
            headline="A drive",
            body="Give.",
            amounts={"once": [500]},
            default_frequency=Frequency.ONCE,
            starts_at=now,
            ends_at=now + timedelta(days=7),
            goal_cents=10000,
        ),
    )
    db.session.commit()
    return campaign.id


def client_as(app: Flask, role: str, records: dict[str, int]) -> FlaskClient:
    client = app.test_client()
    if role == "supporter":
        sign_in_supporter(client, records["supporter_id"])
    elif role != "anonymous":
        member = db.session.get(StaffMember, records[f"staff:{role}"])
        assert member is not None
        sign_in_staff(client, member)
    return client


def staff_rules(app: Flask) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")]


def test_every_staff_route_declares_its_roles(app: Flask) -> None:
    rules = staff_rules(app)
    assert len(rules) >= 20
    for rule in rules:
        assert rule.endpoint.startswith("staff."), rule
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "staff_roles"), f"{rule.rule} is not protected by staff_required"


def allowed(role: str, roles: tuple[StaffRole, ...]) -> bool:
    if role in ("anonymous", "supporter"):
        return False
    return role == "admin" or StaffRole(role) in roles


@pytest.mark.parametrize("role", ROLES)
def test_url_map_walk(app: Flask, records: dict[str, int], role: str) -> None:
    client = client_as(app, role, records)
    token = csrf_token_from(client.get("/support").get_data(as_text=True))
    checked = 0
    for rule in staff_rules(app):
        url = rule.build({k: records[k] for k in rule.arguments}, append_unknown=False)[1]
        roles = app.view_functions[rule.endpoint].staff_roles
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = (
                client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
            )
            where = f"{role} {method} {url} -> {response.status_code}"
            if role == "anonymous":
                assert response.status_code == 302, where
                assert "/account/sign-in" in response.headers["Location"], where
            elif not allowed(role, roles):
                assert response.status_code == 403, where
            elif method == "GET":
                assert response.status_code == 200, where
                assert "no-store" in response.headers["Cache-Control"], where
            elif response.mimetype == "text/csv":
                # A CSV export is a POST (with CSRF); the newsletter's needs no fields.
                assert response.status_code == 200, where
                response.close()
            else:
                # An empty form: refused with a message (400) or done and redirected (303).
                assert response.status_code in (303, 400), where
                assert "no-store" in response.headers["Cache-Control"], where
            checked += 1
    assert checked >= 25


def test_the_gate_refuses_a_staff_view_that_declares_no_roles(
    app_factory: Callable[..., Flask], records: dict[str, int]
) -> None:
    """Default deny: a view added to a staff family without @staff_required, as a forgotten
    decorator leaves it, is refused to every role, admins included; anonymous visitors are sent to
    sign in. The same view declared for editors opens to editors (and admins) only."""
    app = app_factory()
    # A fresh app, before its first request: both views join the reports family's endpoints, so
    # the staff blueprints' hooks run for them as for a view written in that module.
    app.add_url_rule(
        "/staff/reports/forgotten", endpoint="staff.reports.forgotten", view_func=lambda: "figures"
    )
    app.add_url_rule(
        "/staff/reports/declared",
        endpoint="staff.reports.declared",
        view_func=staff_required(StaffRole.EDITOR)(lambda: "figures"),
    )
    for role in ROLES:
        with app.app_context():
            client = client_as(app, role, records)
            forgotten = client.get("/staff/reports/forgotten")
            declared = client.get("/staff/reports/declared")
        for response in (forgotten, declared):
            assert response.headers["Cache-Control"] == "private, no-store", role
        if role == "anonymous":
            assert forgotten.status_code == declared.status_code == 302
            assert "/account/sign-in" in forgotten.headers["Location"]
            continue
        assert forgotten.status_code == 403, role
        assert "figures" not in forgotten.get_data(as_text=True)
        opened = role in ("editor", "admin")
        assert declared.status_code == (200 if opened else 403), role


def dashboard_as(app: Flask, role: str, records: dict[str, int]) -> str:
    # A fresh app context per visitor: Flask-Login caches the user in `g`, which would otherwise
    # outlive the request inside the test's own app context.
    with app.app_context():
        return client_as(app, role, records).get("/staff").get_data(as_text=True)


def test_roles_see_only_their_links(app: Flask, records: dict[str, int]) -> None:
    editor = dashboard_as(app, "editor", records)
    assert "/staff/articles" in editor and "/staff/banner" in editor
    assert "/staff/reports" not in editor and "Monthly recurring revenue" not in editor
    finance = dashboard_as(app, "finance", records)
    assert "/staff/reports" in finance and "Monthly recurring revenue" in finance
    assert "/staff/articles" not in finance and "/staff/audit" not in finance
    admin = dashboard_as(app, "admin", records)
    for link in ("/staff/reports", "/staff/articles", "/staff/audit", "/staff/accounts"):
        assert link in admin


def test_a_deactivated_member_is_signed_out(app: Flask, records: dict[str, int]) -> None:
    client = client_as(app, "finance", records)
    with app.app_context():
        assert client.get("/staff/reports").status_code == 200
    member = db.session.get(StaffMember, records["staff:finance"])
    assert member is not None
    member.active = False
    db.session.commit()
    with app.app_context():
        assert client.get("/staff/reports").status_code == 302
