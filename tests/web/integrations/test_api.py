"""The read-only API: scoped bearer tokens, cursor pages stable while gifts arrive, JSON errors,
and every response checked against the OpenAPI document the app serves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select, update

from helpers.api import ServedSchema, api_get, make_token
from helpers.factories import make_donation, make_supporter, make_variant
from helpers.webhooks import Receiver, add_test_endpoint
from membership.extensions import db
from membership.models import (
    ApiToken,
    ApiTokenUse,
    BillingInterval,
    ConsentEvent,
    ConsentKind,
    Donation,
    DonationRefund,
    DonationStatus,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    WebhookDelivery,
    utcnow,
)
from membership.services.history import HistorySpec, insert_history
from membership.services.integrations import events
from membership.services.integrations.api_tokens import revoke_token

pytestmark = pytest.mark.usefixtures("app_context")


def test_paging_over_a_seeded_year_has_no_duplicates_or_gaps_while_gifts_arrive(
    client: FlaskClient,
) -> None:
    since = utcnow() - timedelta(seconds=1)
    insert_history(
        db.session(),
        HistorySpec(now=utcnow(), subscriptions=20, one_off=400, with_banner_stats=False),
    )
    db.session.commit()
    token = make_token("donations:read")
    schema = ServedSchema(client)
    seen: list[int] = []
    cursor = ""
    arrived = 0
    while True:
        params = {"updated_since": since.isoformat(), "limit": "150"}
        if cursor:
            params["cursor"] = cursor
        response = api_get(client, "/api/v1/donations", token, **params)
        assert response.status_code == 200, response.get_json()
        schema.check("/donations", response)
        body = response.get_json()
        seen.extend(item["id"] for item in body["data"])
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
        # A new gift arrives between two pages: it comes later in the walk, once.
        make_donation(None, paid_at=utcnow())
        arrived += 1
    assert arrived >= 3
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert seen == list(db.session.scalars(select(Donation.id).order_by(Donation.id)))


def test_updated_since_brings_rows_that_changed_and_leaves_out_the_rest(
    client: FlaskClient,
) -> None:
    token = make_token("donations:read")
    old, refunded = make_donation(None), make_donation(None)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(update(Donation).values(updated_at=long_ago))
    db.session.commit()
    cutoff = utcnow() - timedelta(seconds=1)
    row = db.session.get(Donation, refunded.id)
    assert row is not None
    row.refunded_cents = 200
    row.status = DonationStatus.PARTIALLY_REFUNDED
    db.session.add(DonationRefund(donation_id=row.id, amount_cents=200, refunded_at=utcnow()))
    db.session.commit()
    body = api_get(client, "/api/v1/donations", token, updated_since=cutoff.isoformat()).get_json()
    assert [item["id"] for item in body["data"]] == [refunded.id]
    assert body["data"][0]["refunds"][0]["amount"] == 200
    everything = api_get(client, "/api/v1/donations", token).get_json()
    assert [item["id"] for item in everything["data"]] == [old.id, refunded.id]
    partial = api_get(client, "/api/v1/donations", token, status="partially_refunded").get_json()
    assert [item["id"] for item in partial["data"]] == [refunded.id]


def test_a_token_without_the_scope_gets_403_json(client: FlaskClient) -> None:
    token = make_token("newsletter:read")
    response = api_get(client, "/api/v1/donations", token)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {"code": "forbidden", "message": "This token lacks the scope donations:read."}
    }
    ServedSchema(client).check("/donations", response)
    assert api_get(client, "/api/v1/newsletter/subscribers", token).status_code == 200


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer mbr_unknown", "Basic abc", "Token x"])
def test_missing_or_unknown_tokens_get_401_json(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/supporters", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_stop_working(client: FlaskClient) -> None:
    token = make_token("supporters:read")
    assert api_get(client, "/api/v1/supporters", token).status_code == 200
    revoke_token(db.session(), "crm", now=utcnow())
    db.session.commit()
    assert api_get(client, "/api/v1/supporters", token).status_code == 401
    expiring = make_token("supporters:read", name="short")
    db.session.execute(update(ApiToken).where(ApiToken.name == "short").values(expires_at=utcnow()))
    db.session.commit()
    assert api_get(client, "/api/v1/supporters", expiring).status_code == 401


def test_every_use_is_counted_and_no_cookie_or_cors_header_is_sent(client: FlaskClient) -> None:
    token = make_token("supporters:read")
    for _ in range(2):
        response = client.get(
            "/api/v1/supporters",
            headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
        )
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert not any(name.lower().startswith("access-control-") for name, _ in response.headers)
        assert response.headers["Cache-Control"] == "no-store"
    stored = db.session.scalar(select(ApiToken))
    assert stored is not None and stored.last_used_at is not None
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    use = db.session.scalar(select(ApiTokenUse))
    assert use is not None and (use.route, use.count) == ("/api/v1/supporters", 2)


def test_the_rate_limit_is_per_token_and_answers_429_json(
    app_factory: Callable[..., Flask],
) -> None:
    limited = app_factory(api_rate_limit="2/minute").test_client()
    first, second = make_token("supporters:read"), make_token("supporters:read", name="other")
    codes = [api_get(limited, "/api/v1/supporters", first).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = api_get(limited, "/api/v1/supporters", first)
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert api_get(limited, "/api/v1/supporters", second).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJhZnRlciI6IC0xfQ"},
        {"updated_since": "yesterday"},
        {"status": "<script>"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ],
)
def test_bad_parameters_get_400_json_naming_them(
    client: FlaskClient, params: dict[str, str]
) -> None:
    token = make_token("donations:read")
    response = api_get(client, "/api/v1/donations", token, **params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].split(":")[0] in params
    ServedSchema(client).check("/donations", response)


def test_unknown_paths_and_methods_answer_json(client: FlaskClient) -> None:
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    response = client.post("/api/v1/donations")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_the_served_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert set(document["paths"]) == {
        "/supporters",
        "/donations",
        "/subscriptions",
        "/newsletter/subscribers",
        "/banner-variants",
        "/reports/money",
    }
    assert "donation.created" in document["webhooks"]


def test_every_resource_answers_as_its_schema_says(client: FlaskClient) -> None:
    token = make_token("supporters:read", "donations:read", "newsletter:read", "reports:read")
    schema = ServedSchema(client)
    supporter = make_supporter("ada@example.org", name="Ada")
    make_donation(supporter, fee_cents=46, paid_at=datetime(2026, 3, 5, tzinfo=UTC))
    make_variant()
    db.session.add(
        Subscription(
            stripe_subscription_id="sub_api",
            supporter_id=supporter.id,
            amount_cents=500,
            fee_cents=0,
            currency="usd",
            interval=BillingInterval.MONTH,
            status=SubscriptionStatus.ACTIVE,
        )
    )
    subscriber = Subscriber(
        email="ada@example.org", status=SubscriberStatus.CONFIRMED, source="footer"
    )
    db.session.add(subscriber)
    db.session.flush()
    db.session.add(
        ConsentEvent(subscriber_id=subscriber.id, kind=ConsentKind.CONFIRM, source="footer")
    )
    db.session.commit()
    for path in (
        "/supporters",
        "/donations",
        "/subscriptions",
        "/newsletter/subscribers",
        "/banner-variants",
    ):
        response = api_get(client, f"/api/v1{path}", token)
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["data"]) == 1
        schema.check(path, response)
    consent = api_get(client, "/api/v1/newsletter/subscribers", token).get_json()["data"][0]
    assert consent["consent"][0]["kind"] == "confirm"
    report = api_get(
        client, "/api/v1/reports/money", token, start="2026-01-01", end="2026-12-31", group="month"
    )
    assert report.status_code == 200
    schema.check("/reports/money", report)
    months = report.get_json()["data"]
    assert len(months) == 12
    assert (months[2]["gross"], months[2]["fees_covered"], months[2]["currency"]) == (
        546,
        46,
        "usd",
    )


def test_webhook_payloads_match_the_documented_schemas(
    client: FlaskClient, app: Flask, receiver: Receiver
) -> None:
    add_test_endpoint(
        app, receiver.url, "donation.created", "supporter.updated", "subscriber.confirmed"
    )
    supporter = make_supporter("bo@example.org")
    events.donation_event(db.session(), "donation.created", make_donation(supporter))
    events.supporter_event(db.session(), "supporter.updated", supporter)
    db.session.commit()
    schema = ServedSchema(client)
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    assert len(deliveries) == 2
    for delivery in deliveries:
        webhook = schema.document["webhooks"][delivery.event_type]["post"]
        body_schema = webhook["requestBody"]["content"]["application/json"]["schema"]
        schema.check_schema(body_schema, delivery.payload)
