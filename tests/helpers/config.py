"""The settings every test app runs with: test-only secrets, no secure cookie, rate limits in memory."""

from __future__ import annotations

from pathlib import Path

from membership.config import Config

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"
WEBHOOK_SECRET = "whsec_test_membership_suite"


def make_config(database_url: str, instance: Path, **overrides: object) -> Config:
    config = Config(
        app_env="test",
        secret_key=TEST_SECRET,
        database_url=database_url,
        base_url="http://127.0.0.1",
        stripe_secret_key="sk_test_membership_suite",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_timeout_seconds=5.0,
        session_cookie_secure=False,
        instance_path=str(instance),
        ratelimit_storage_uri="memory://",
        # Pages check their version on every request in tests; the page cache has its own tests.
        article_version_seconds=0,
    )
    return config.with_overrides(**overrides) if overrides else config
