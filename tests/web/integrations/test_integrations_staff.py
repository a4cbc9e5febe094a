"""The staff integrations page and the command line: one service behind both."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from helpers.api import api_get
from helpers.clients import csrf_token_from
from helpers.factories import count, make_donation, only
from helpers.staff import make_staff, staff_client
from helpers.webhooks import Receiver, deliver
from membership.extensions import db
from membership.models import (
    ApiToken,
    AuditEntry,
    DeliveryStatus,
    StaffRole,
    WebhookDelivery,
    WebhookEndpoint,
)
from membership.services.integrations import events

pytestmark = pytest.mark.usefixtures("app_context")


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(app: Flask) -> None:
    client = staff_client(app, make_staff(StaffRole.ADMIN))
    page = client.get("/staff/integrations")
    assert page.status_code == 200
    csrf = csrf_token_from(page.get_data(as_text=True))
    created = client.post(
        "/staff/integrations/tokens",
        data={
            "csrf_token": csrf,
            "name": "HubSpot sync",
            "scopes": ["donations:read"],
            "expires": "90d",
        },
    )
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    secret = re.search(r"<code>(mbr_[A-Za-z0-9_-]+)</code>", html)
    assert secret is not None
    assert (
        "Set-Cookie" not in created.headers or secret.group(1) not in created.headers["Set-Cookie"]
    )
    api = app.test_client()
    assert api_get(api, "/api/v1/donations", secret.group(1)).status_code == 200
    # The list shows the token without its secret.
    again = client.get("/staff/integrations").get_data(as_text=True)
    assert "HubSpot sync" in again and secret.group(1) not in again
    token = only(ApiToken)
    revoked = client.post(
        f"/staff/integrations/tokens/{token.id}/revoke", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 303
    assert api_get(api, "/api/v1/donations", secret.group(1)).status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["api_token.created", "api_token.revoked"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["donations:read"]}, "This field is required"),
        ({"name": "crm"}, "Choose at least one scope"),
        ({"name": "crm", "scopes": ["everything:write"]}, "is not a valid choice"),
        ({"name": "<script>", "scopes": ["donations:read"]}, "letters, digits"),
    ],
)
def test_bad_token_forms_answer_400_with_a_message(
    app: Flask, data: dict[str, object], message: str
) -> None:
    client = staff_client(app, make_staff(StaffRole.ADMIN))
    csrf = csrf_token_from(client.get("/staff/integrations").get_data(as_text=True))
    response = client.post(
        "/staff/integrations/tokens", data={"csrf_token": csrf, "expires": "", **data}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(ApiToken) == 0


def test_an_admin_adds_an_endpoint_sees_deliveries_and_resends_one(
    app: Flask, receiver: Receiver
) -> None:
    client = staff_client(app, make_staff(StaffRole.ADMIN))
    csrf = csrf_token_from(client.get("/staff/integrations").get_data(as_text=True))
    refused = client.post(
        "/staff/integrations/webhooks",
        data={"csrf_token": csrf, "url": "ftp://crm.example/", "events": ["donation.created"]},
    )
    assert refused.status_code == 400 and "http:// or https://" in refused.get_data(as_text=True)
    added = client.post(
        "/staff/integrations/webhooks",
        data={
            "csrf_token": csrf,
            "url": receiver.url,
            "events": ["donation.created"],
            "description": "CRM",
        },
    )
    assert added.status_code == 200
    assert re.search(r"<code>whsec_[A-Za-z0-9+/=]+</code>", added.get_data(as_text=True))
    events.donation_event(db.session(), "donation.created", make_donation(None))
    db.session.commit()
    receiver.statuses = [500]
    deliver(app)
    listing = client.get("/staff/integrations").get_data(as_text=True)
    assert "donation.created" in listing and "queued" in listing and "500" in listing
    delivery = only(WebhookDelivery)
    receiver.statuses = [200]
    resent = client.post(
        f"/staff/integrations/deliveries/{delivery.id}/resend", data={"csrf_token": csrf}
    )
    assert resent.status_code == 303
    deliver(app)
    db.session.expire_all()
    assert only(WebhookDelivery).status is DeliveryStatus.DELIVERED
    endpoint = only(WebhookEndpoint)
    removed = client.post(
        f"/staff/integrations/webhooks/{endpoint.id}/remove", data={"csrf_token": csrf}
    )
    assert removed.status_code == 303 and count(WebhookEndpoint) == 0


def test_finance_and_editors_cannot_open_integrations(app: Flask) -> None:
    for role in (StaffRole.FINANCE, StaffRole.EDITOR):
        client = staff_client(app, make_staff(role))
        assert client.get("/staff/integrations").status_code == 403


def test_the_command_line_creates_lists_and_revokes_tokens(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "api-tokens",
            "create",
            "zapier",
            "--scope",
            "donations:read",
            "--scope",
            "reports:read",
            "--expires",
            "90d",
        ]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("mbr_")
    assert (
        api_get(
            app.test_client(), "/api/v1/reports/money", secret, start="2026-01-01", end="2026-01-31"
        ).status_code
        == 200
    )
    listed = runner.invoke(args=["api-tokens", "list"])
    assert "zapier" in listed.output and "donations:read,reports:read" in listed.output
    assert secret not in listed.output and "active" in listed.output
    assert (
        runner.invoke(
            args=["api-tokens", "create", "zapier", "--scope", "donations:read"]
        ).exit_code
        == 1
    )
    assert (
        runner.invoke(
            args=["api-tokens", "create", "x", "--scope", "donations:read", "--expires", "soon"]
        ).exit_code
        == 1
    )
    assert runner.invoke(args=["api-tokens", "revoke", "zapier"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["api-tokens", "list"]).output
    assert runner.invoke(args=["api-tokens", "revoke", "nobody"]).exit_code == 1


def test_the_command_line_adds_lists_and_removes_endpoints(app: Flask, receiver: Receiver) -> None:
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "webhooks",
            "add",
            receiver.url,
            "--event",
            "donation.created",
            "--event",
            "donation.refunded",
        ]
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.strip().startswith("whsec_")
    listed = runner.invoke(args=["webhooks", "list"]).output
    assert receiver.url in listed and "donation.created,donation.refunded" in listed
    assert (
        runner.invoke(
            args=["webhooks", "add", receiver.url, "--event", "donation.created"]
        ).exit_code
        == 1
    )
    assert runner.invoke(args=["webhooks", "remove", receiver.url]).exit_code == 0
    assert count(WebhookEndpoint) == 0
    assert runner.invoke(args=["webhooks", "remove", receiver.url]).exit_code == 1
