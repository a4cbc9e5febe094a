"""Emails of signing in: the one-time link."""

from __future__ import annotations

from membership.config import Config
from membership.emails.render import ComposedEmail, compose_email


def sign_in_email(config: Config, *, to: str, token: str) -> ComposedEmail:
    """The email that carries a one-time sign-in link for `token` (it opens
    `GET /account/sign-in/<token>`)."""
    return compose_email(
        config,
        "sign_in",
        kind="sign_in",
        to=to,
        subject=f"Your sign-in link for {config.publication_name}",
        link=f"{config.base_url.rstrip('/')}/account/sign-in/{token}",
        minutes=config.sign_in_link_minutes,
        publication=config.publication_name,
        address=config.publication_address,
    )
