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


def security_headers(config: Config) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", content_security_policy(config)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if config.is_production:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def install_security_headers(app: Flask, config: Config) -> None:
    defaults = security_headers(config)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in defaults:
            if name not in headers:
                headers.add(name, value)
        return response
