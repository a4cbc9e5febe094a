"""Response headers every page gets: a strict CSP without inline code, and friends."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from membership.config import Config


def checkout_origin(config: Config) -> str:
    """Where POST /support redirects to; CSP form-action must allow that redirect."""
    if config.stripe_api_base:
        parts = urlsplit(config.stripe_api_base)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"


def content_security_policy(config: Config) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {checkout_origin(config)} https://billing.stripe.com",
            "frame-ancestors 'none'",
        ]
    )


def install_security_headers(app: Flask, config: Config) -> None:
    csp = content_security_policy(config)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if config.is_production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
