from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from membership.extensions import db


def test_factory_registers_the_blueprints(app: Flask) -> None:
    assert {"articles", "banner_api", "donate", "health"} <= set(app.blueprints)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/", "/articles/<slug>", "/support", "/healthz", "/api/banner"} <= rules


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    for path in ["/", "/healthz", "/no-such-page", "/support"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_settings(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_is_secure_outside_development(config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from membership import create_app

    production = config.with_overrides(
        app_env="production",
        session_cookie_secure=True,
        stripe_secret_key="sk_test_1",
        stripe_webhook_secret="whsec_1",
    )
    app = create_app(production)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    with app.app_context():
        db.engine.dispose()


def test_csrf_is_enforced_on_posts(app: Flask) -> None:
    app.add_url_rule("/_form", "form", lambda: "form accepted", methods=["POST"])
    response = app.test_client().post("/_form", data={"name": "x"})
    assert response.status_code == 400
    assert b"Your form expired" in response.data
    assert b"form accepted" not in response.data


def test_not_found_is_a_friendly_page(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-story")
    assert response.status_code == 404
    assert b"We couldn&#39;t find that page" in response.data
    assert b"<main" in response.data


def test_unexpected_errors_render_the_error_page(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/_broken", "broken", broken)
    response = app.test_client().get("/_broken")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.data
    assert b"boom" not in response.data
    assert b"Traceback" not in response.data


def test_method_not_allowed_is_a_page_not_a_crash(client: FlaskClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
