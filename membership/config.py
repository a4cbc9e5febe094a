"""Typed configuration read once from the environment; fails fast on missing secrets in production."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from membership.currencies import UnknownCurrency, currency

ENVIRONMENTS = ("production", "development", "test")
LOG_FORMATS = ("text", "json")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service; the message names the variable."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _parse_float(name: str, raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _parse_amounts(name: str, raw: str) -> tuple[int, ...]:
    try:
        amounts = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a comma-separated list of amounts in cents") from None
    if not amounts or any(a <= 0 for a in amounts):
        raise ConfigError(f"{name} must list positive amounts in cents, e.g. 100,500,1000")
    return amounts


@dataclass(frozen=True)
class Config:
    """Everything the service reads from its environment.

    Environment variable names are the upper-cased field names; see README.md.
    """

    app_env: str = "production"
    secret_key: str = ""
    database_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    publication_name: str = "The Observatory"
    publication_address: str = "The Observatory, 1 Example Street, Springfield"
    publication_email: str = "support@observatory.example"
    staff_notification_email: str = "newsroom@observatory.example"
    timezone: str = "UTC"
    currency: str = "usd"
    locale: str = "en_US"
    default_amounts: tuple[int, ...] = (100, 500, 1000)
    min_amount_cents: int = 100
    max_amount_cents: int = 1_000_000
    fee_percent: float = 2.9
    fee_fixed_cents: int = 30
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    # The billing portal configuration `flask stripe setup` made (bpc_...): card and invoices only.
    stripe_portal_configuration: str = ""
    stripe_timeout_seconds: float = 10.0
    stripe_max_network_retries: int = 0
    receipt_prefix: str = "OBS"
    support_rate_limit: str = "3/minute;10/day"
    mail_url: str = ""
    mail_from: str = "The Observatory <support@observatory.example>"
    outbox_max_attempts: int = 8
    outbox_lease_seconds: int = 600
    # Empty means "not set": production refuses to start without it; elsewhere memory:// is used.
    ratelimit_storage_uri: str = ""
    ratelimit_enabled: bool = True
    session_cookie_secure: bool = True
    articles_per_page: int = 10
    article_cache_seconds: int = 60
    article_version_seconds: float = 2.0
    banner_dismiss_days: int = 14
    # Banner clicks counted per client address (one per reader, variant and day in any case).
    banner_click_rate_limit: str = "30/hour"
    # After this many views of the appeal in a week without a click, it collapses to one line.
    banner_collapse_after: int = 5
    sign_in_link_minutes: int = 10
    sign_in_rate_limit_ip: str = "10 per minute;60 per hour"
    sign_in_rate_limit_address: str = "3 per 10 minutes;10 per day"
    sign_in_emails_per_hour: int = 5
    sign_in_emails_per_day: int = 20
    staff_session_idle_minutes: int = 30
    staff_session_max_hours: int = 12
    supporter_banner_quiet_days: int = 60
    renewal_reminder_days: int = 14
    upgrade_ask_days: int = 30
    newsletter_name: str = "The Observatory Weekly"
    # Where the mailto of List-Unsubscribe points; empty means PUBLICATION_EMAIL.
    newsletter_unsubscribe_email: str = ""
    newsletter_ip_rate_limit: str = "10/minute;60/hour"
    newsletter_address_rate_limit: str = "3/hour;6/day"
    newsletter_send_batch: int = 1000
    # Requests per API token (Flask-Limiter syntax).
    api_rate_limit: str = "120/minute;5000/hour"
    # Webhooks to private, loopback and link-local addresses: tests and the demo only.
    webhooks_allow_private: bool = False
    # How many reverse proxies we trust in front of the app (nginx alone: 1). More than there
    # really are lets a client choose its own address with a forged X-Forwarded-For.
    proxy_hops: int = 0
    log_format: str = "text"
    # Bearer token for /metrics; empty keeps /metrics switched off.
    metrics_token: str = ""
    instance_path: str = ""

    @property
    def debug(self) -> bool:
        return self.app_env == "development"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], instance_path: str | Path) -> Config:
        """Build the configuration from environment variables, then validate it."""
        instance = Path(instance_path)
        values: dict[str, object] = {"instance_path": str(instance)}
        for f in fields(cls):
            if f.name == "instance_path":
                continue
            env_name = f.name.upper()
            if env_name not in environ:
                continue
            raw = environ[env_name]
            default = f.default
            if isinstance(default, bool):
                values[f.name] = _parse_bool(env_name, raw)
            elif isinstance(default, int):
                values[f.name] = _parse_int(env_name, raw)
            elif isinstance(default, float):
                values[f.name] = _parse_float(env_name, raw)
            elif isinstance(default, tuple):
                values[f.name] = _parse_amounts(env_name, raw)
            else:
                values[f.name] = raw.strip()
        if "currency" in values:
            values["currency"] = str(values["currency"]).lower()
        app_env = str(values.get("app_env", cls.app_env)).lower()
        values["app_env"] = app_env
        if app_env not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}")
        if app_env != "production":
            values.setdefault("session_cookie_secure", False)
            if not values.get("secret_key"):
                values["secret_key"] = _development_secret(instance)
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{instance / 'membership.sqlite3'}"
        if app_env != "production" and not values.get("ratelimit_storage_uri"):
            values["ratelimit_storage_uri"] = "memory://"
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        """Refuse configurations that would run insecurely or not at all."""
        if self.is_production:
            for name in ("secret_key", "stripe_secret_key", "stripe_webhook_secret"):
                if not getattr(self, name):
                    raise ConfigError(
                        f"{name.upper()} is not set: it is required when APP_ENV=production. "
                        "Set it in the environment (see README.md, Configuration)."
                    )
            _check_secret_key(self.secret_key)
            if self.webhooks_allow_private:
                raise ConfigError(
                    "WEBHOOKS_ALLOW_PRIVATE is for tests and the demo: production webhooks only "
                    "go to public HTTPS addresses."
                )
            if not self.ratelimit_storage_uri:
                raise ConfigError(
                    "RATELIMIT_STORAGE_URI is not set: it is required when APP_ENV=production. "
                    "Use redis://host:6379/0 when several processes serve the site, or write "
                    "memory:// out for a single process."
                )
        if self.ratelimit_storage_uri and "://" not in self.ratelimit_storage_uri:
            raise ConfigError(
                f"RATELIMIT_STORAGE_URI must be a URL like redis://host:6379/0 or memory://, "
                f"not {self.ratelimit_storage_uri!r}"
            )
        if not 0 <= self.proxy_hops <= 5:
            raise ConfigError("PROXY_HOPS must be between 0 and 5 (the number of proxies in front)")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.metrics_token and len(self.metrics_token) < 16:
            raise ConfigError("METRICS_TOKEN is too short: use at least 16 random characters.")
        if not self.database_url:
            raise ConfigError("DATABASE_URL is empty: give a SQLAlchemy URL, or leave it unset.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"TIMEZONE {self.timezone!r} is not a known time zone") from None
        if self.stripe_portal_configuration and not self.stripe_portal_configuration.startswith(
            "bpc_"
        ):
            raise ConfigError(
                "STRIPE_PORTAL_CONFIGURATION must be a billing portal configuration id (bpc_...),"
                " as `flask stripe setup` prints it"
            )
        self._validate_money()
        if not 0 <= self.fee_percent < 50 or self.fee_fixed_cents < 0:
            raise ConfigError("FEE_PERCENT must be between 0 and 50, FEE_FIXED_CENTS not negative")
        if self.articles_per_page < 1:
            raise ConfigError("ARTICLES_PER_PAGE must be at least 1")
        if self.outbox_max_attempts < 1:
            raise ConfigError("OUTBOX_MAX_ATTEMPTS must be at least 1")
        if not 1 <= self.newsletter_send_batch <= 10_000:
            raise ConfigError("NEWSLETTER_SEND_BATCH must be between 1 and 10000")
        if not self.api_rate_limit.strip():
            raise ConfigError("API_RATE_LIMIT is empty: give a limit like 120/minute;5000/hour")
        if self.outbox_lease_seconds < 30:
            raise ConfigError("OUTBOX_LEASE_SECONDS must be at least 30")
        if not 1 <= self.sign_in_link_minutes <= 60:
            raise ConfigError("SIGN_IN_LINK_MINUTES must be between 1 and 60")
        if not 1 <= self.sign_in_emails_per_hour <= self.sign_in_emails_per_day:
            raise ConfigError(
                "SIGN_IN_EMAILS_PER_HOUR must be at least 1 and not above SIGN_IN_EMAILS_PER_DAY"
            )
        if not 1 <= self.staff_session_idle_minutes <= 24 * 60:
            raise ConfigError("STAFF_SESSION_IDLE_MINUTES must be between 1 and 1440")
        if not 1 <= self.staff_session_max_hours <= 7 * 24:
            raise ConfigError("STAFF_SESSION_MAX_HOURS must be between 1 and 168")
        if not 1 <= self.banner_collapse_after <= 100:
            raise ConfigError("BANNER_COLLAPSE_AFTER must be between 1 and 100")
        if self.supporter_banner_quiet_days < 0 or self.renewal_reminder_days < 1:
            raise ConfigError(
                "SUPPORTER_BANNER_QUIET_DAYS must not be negative, RENEWAL_REMINDER_DAYS at least 1"
            )

        if not 1 <= self.upgrade_ask_days <= 365:
            raise ConfigError("UPGRADE_ASK_DAYS must be between 1 and 365")

    def _validate_money(self) -> None:
        try:
            table = currency(self.currency)
        except UnknownCurrency:
            raise ConfigError(
                f"CURRENCY {self.currency!r} is not a currency Stripe charges in: give its "
                "lower-case ISO code, such as usd, eur, gbp or jpy (see README.md, Configuration)."
            ) from None
        if table.code != self.currency:
            raise ConfigError(f"CURRENCY must be lower case: {table.code!r}, not {self.currency!r}")
        try:
            Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise ConfigError(
                f"LOCALE {self.locale!r} is not a known locale: use one like en_US, en_GB or de_DE"
            ) from None
        if self.min_amount_cents < 1 or self.max_amount_cents < self.min_amount_cents:
            raise ConfigError("MIN_AMOUNT_CENTS must be positive and not above MAX_AMOUNT_CENTS")
        amounts = {
            "MIN_AMOUNT_CENTS": (self.min_amount_cents,),
            "MAX_AMOUNT_CENTS": (self.max_amount_cents,),
            "DEFAULT_AMOUNTS": self.default_amounts,
        }
        for name, values in amounts.items():
            if not all(table.chargeable(value) for value in values):
                raise ConfigError(
                    f"{name} must be amounts Stripe can charge in {table.code.upper()}: "
                    f"multiples of {table.step} (amounts are in its smallest unit, "
                    f"{table.per_unit} to one {table.code.upper()})"
                )

    def with_overrides(self, **changes: object) -> Config:
        """A copy with some fields changed, validated again (used by tests and the CLI)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        config = type(self)(**current)
        config.validate()
        return config


SECRET_KEY_MIN_BITS = 128
HOW_TO_GENERATE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _check_secret_key(key: str) -> None:
    """Production keys sign sessions and links: refuse one an attacker could guess."""
    from membership.secret_strength import estimated_bits

    if len(key) < 32:
        raise ConfigError(
            "SECRET_KEY is too short: use at least 32 random characters (about 128 bits). "
            f"Generate one with: {HOW_TO_GENERATE_A_KEY}"
        )
    bits = estimated_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        raise ConfigError(
            f"SECRET_KEY is guessable: about {bits:.0f} bits estimated, at least "
            f"{SECRET_KEY_MIN_BITS} bits needed. Generate a random one with: {HOW_TO_GENERATE_A_KEY}"
        )


def instance_path_from_env(environ: Mapping[str, str], package_dir: Path) -> Path:
    """Where instance files live (the SQLite file and development secret of a default setup):
    INSTANCE_PATH when set, else instance/ in a checkout, else instance/ in the working directory
    (an installed package must never write into site-packages)."""
    explicit = environ.get("INSTANCE_PATH", "").strip()
    if explicit:
        return Path(explicit).resolve()
    checkout = package_dir.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "membership").is_dir():
        return checkout / "instance"
    return Path.cwd() / "instance"


def _development_secret(instance: Path) -> str:
    """Outside production a random key is generated once and kept in instance/."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
