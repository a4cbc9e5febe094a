from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from membership import create_app
from membership.config import Config, ConfigError

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "STRIPE_SECRET_KEY": "sk_test_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_123",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
}


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != name}


def test_production_config_with_everything_set(tmp_path: Path) -> None:
    config = Config.from_env(PRODUCTION, tmp_path)
    assert config.is_production
    assert config.session_cookie_secure is True
    assert config.database_url == f"sqlite:///{tmp_path / 'membership.sqlite3'}"
    assert config.publication_name == "The Observatory"
    assert config.currency == "usd"


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "RATELIMIT_STORAGE_URI"]
)
def test_production_refuses_to_start_without_a_secret(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env(without(name), tmp_path)


def test_production_is_the_default_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env({}, tmp_path)


def test_create_app_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(Config(app_env="production", instance_path=str(tmp_path)))


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too short"):
        Config.from_env({**PRODUCTION, "SECRET_KEY": "short"}, tmp_path)


def test_development_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    first = Config.from_env({"APP_ENV": "development"}, tmp_path)
    second = Config.from_env({"APP_ENV": "development"}, tmp_path)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.session_cookie_secure is False
    assert first.debug


# ISK is counted in hundredths that must be 00: 150 would be 1.50 ISK.
def test_an_isk_amount_with_hundredths_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="DEFAULT_AMOUNTS must be amounts Stripe can charge in ISK"
    ):
        Config.from_env({**PRODUCTION, "CURRENCY": "isk", "DEFAULT_AMOUNTS": "150,500"}, tmp_path)


def test_currency_is_read_in_any_case(tmp_path: Path) -> None:
    config = Config.from_env({**PRODUCTION, "CURRENCY": "JPY", "LOCALE": "ja_JP"}, tmp_path)
    assert (config.currency, config.locale) == ("jpy", "ja_JP")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("APP_ENV", "staging", "APP_ENV must be one of"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("CURRENCY", "dollars", "CURRENCY"),
        # Three letters, but no currency Stripe charges in: refused at start, not at checkout.
        ("CURRENCY", "xyz", "CURRENCY 'xyz' is not a currency Stripe charges in"),
        ("LOCALE", "xx_YY", "LOCALE 'xx_YY' is not a known locale"),
        ("RATELIMIT_ENABLED", "perhaps", "RATELIMIT_ENABLED must be true or false"),
        ("MAX_AMOUNT_CENTS", "lots", "MAX_AMOUNT_CENTS must be a whole number"),
        ("DEFAULT_AMOUNTS", "1,x", "DEFAULT_AMOUNTS"),
        ("DEFAULT_AMOUNTS", "100,-5", "DEFAULT_AMOUNTS"),
        ("FEE_PERCENT", "70", "FEE_PERCENT"),
        ("MIN_AMOUNT_CENTS", "0", "MIN_AMOUNT_CENTS"),
        ("RATELIMIT_STORAGE_URI", "localhost:6379", "RATELIMIT_STORAGE_URI must be a URL"),
        ("PROXY_HOPS", "-1", "PROXY_HOPS must be between 0 and 5"),
        ("PROXY_HOPS", "one", "PROXY_HOPS must be a whole number"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be text or json"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN is too short"),
    ],
)
def test_bad_values_are_explained(tmp_path: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env({**PRODUCTION, variable: value}, tmp_path)


def test_values_are_parsed_by_type(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            **PRODUCTION,
            "PUBLICATION_NAME": "The Lantern",
            "DEFAULT_AMOUNTS": "200, 700",
            "FEE_PERCENT": "2.2",
            "MAX_AMOUNT_CENTS": "50000",
            "RATELIMIT_ENABLED": "off",
            "TIMEZONE": "Europe/Lisbon",
        },
        tmp_path,
    )
    assert config.publication_name == "The Lantern"
    assert config.default_amounts == (200, 700)
    assert config.fee_percent == 2.2
    assert config.max_amount_cents == 50000
    assert config.ratelimit_enabled is False
    assert config.zone.key == "Europe/Lisbon"


def test_every_setting_is_documented_in_the_readme() -> None:
    """The README's configuration table names every environment variable the app reads."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    settings = [f.name.upper() for f in fields(Config) if f.name != "instance_path"]
    assert settings
    assert [name for name in settings if f"`{name}`" not in table] == []


def test_rate_limit_storage_message_says_what_to_choose(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env(without("RATELIMIT_STORAGE_URI"), tmp_path)
    assert "redis://" in str(refused.value) and "memory://" in str(refused.value)
    assert Config.from_env({"APP_ENV": "development"}, tmp_path).ratelimit_storage_uri == (
        "memory://"
    )
