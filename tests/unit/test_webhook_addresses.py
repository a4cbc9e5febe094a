"""Where webhooks may go: public HTTPS addresses in production, nothing private (SSRF)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from membership.config import Config, ConfigError
from membership.services.integrations.transport import UnsafeUrl, check_url


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="private, loopback or link-local"):
        check_url(url, allow_private=False, require_https=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/hook", "HTTPS"),
        ("ftp://93.184.215.14/hook", "http:// or https://"),
        ("https://user:pw@93.184.215.14/hook", "no user name"),
        ("not a url", "http:// or https://"),
        ("https://93.184.215.14:99999/", "not a URL"),
        ("https://" + "a" * 2000 + ".example/", "too long"),
    ],
)
def test_other_unsafe_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        check_url(url, allow_private=False, require_https=True)


def test_a_public_https_address_is_accepted_and_pinned() -> None:
    target = check_url("https://93.184.215.14:8443/in?x=1", allow_private=False, require_https=True)
    assert (target.host, target.port, target.path, target.address) == (
        "93.184.215.14",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )


def test_loopback_is_allowed_only_when_asked_for() -> None:
    target = check_url("http://127.0.0.1:9000/", allow_private=True, require_https=False)
    assert target.address == "127.0.0.1"


def test_production_refuses_to_allow_private_webhooks(tmp_path: Path) -> None:
    environ = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WEBHOOKS_ALLOW_PRIVATE": "1",
    }
    with pytest.raises(ConfigError, match="WEBHOOKS_ALLOW_PRIVATE"):
        Config.from_env(environ, tmp_path)
    del environ["WEBHOOKS_ALLOW_PRIVATE"]
    assert Config.from_env(environ, tmp_path).webhooks_allow_private is False
