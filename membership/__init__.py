"""The membership service: reader revenue for a small independent newsroom."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from membership.caching import PublicPageAwareSessionInterface, content_fingerprint
from membership.config import Config, instance_path_from_env
from membership.logs import RequestLogMiddleware, configure_logging

# Templates, static files and migrations live inside the package, so an installed wheel has
# them wherever it is installed and whatever the working directory is.
PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
STATIC_DIR = PACKAGE_DIR / "static"


def create_app(config: Config | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI."""
    if config is None:
        instance = instance_path_from_env(os.environ, PACKAGE_DIR)
        config = Config.from_env(os.environ, instance)
    config.validate()
    app = Flask(__name__, instance_path=str(Path(config.instance_path or "instance").resolve()))
    _apply_config(app, config)
    # Computed once at start: article ETags change with every deploy of templates, CSS or JS.
    app.config["BUILD_FINGERPRINT"] = content_fingerprint(
        [os.path.join(app.root_path, app.template_folder or ""), app.static_folder or ""],
        _version(),
    )
    app.session_interface = PublicPageAwareSessionInterface()
    configure_logging(config)

    from membership import auth, cli, errors, security
    from membership.extensions import csrf, db, limiter, login_manager, migrate, payments

    db.init_app(app)
    if config.database_url.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    # No context processor: it would read the session on every page and break caching.
    login_manager.init_app(app, add_context_processor=False)
    login_manager.session_protection = "strong"

    from membership.payments.gateway import StripeGateway

    payments.init_app(app, StripeGateway(config))

    from membership.blueprints import (
        account,
        api,
        articles,
        banner_api,
        donate,
        gifts,
        health,
        lifecycle,
        metrics,
        newsletter,
        reminders,
        sign_in,
        staff,
        webhooks,
    )

    app.register_blueprint(sign_in.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(gifts.bp)
    app.register_blueprint(articles.bp)
    app.register_blueprint(banner_api.bp)
    app.register_blueprint(donate.bp)
    app.register_blueprint(reminders.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(newsletter.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(api.bp)

    security.install_security_headers(app, config)
    _install_page_cache(app, config)
    app.wsgi_app = RequestLogMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    if config.proxy_hops:
        # Outermost: the page cache, the request log and Flask all see the reader's address
        # and scheme as the trusted proxies reported them.
        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    errors.install_error_handlers(app)
    cli.register(app)
    _install_template_helpers(app, config)
    del auth  # imported for its user loader
    return app


def _apply_config(app: Flask, config: Config) -> None:
    app.config.update(
        MEMBERSHIP=config,
        SECRET_KEY=config.secret_key,
        DEBUG=config.debug,
        TESTING=config.app_env == "test",
        SQLALCHEMY_DATABASE_URI=config.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(config.database_url),
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        RATELIMIT_STORAGE_URI=config.ratelimit_storage_uri or "memory://",
        RATELIMIT_ENABLED=config.ratelimit_enabled,
        RATELIMIT_HEADERS_ENABLED=True,
        # Swallowed here so reading pages never depend on the storage; the forms that must not
        # run unlimited (support, sign-in, newsletter) fail closed (`rate_limits.limits_must_hold`).
        RATELIMIT_SWALLOW_ERRORS=True,
    )


def _version() -> str:
    try:
        return metadata.version("membership")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        # A busy timeout lets concurrent writers wait instead of failing at once.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}


def _install_page_cache(app: Flask, config: Config) -> None:
    from membership.blueprints.articles import article_cache_control
    from membership.page_cache import PageCache, PublicPageMiddleware
    from membership.security import security_headers

    cache = PageCache(version_seconds=config.article_version_seconds)
    app.extensions["article_page_cache"] = cache
    app.wsgi_app = PublicPageMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        cache,
        headers=security_headers(config),
        cache_control=article_cache_control(config),
    )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers work while one writer commits; NORMAL sync is safe with WAL (a power cut
    can lose the last commits, never corrupt the file). PostgreSQL is the production database."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _install_template_helpers(app: Flask, config: Config) -> None:
    from membership.formatting import currency_words, format_date, format_datetime, format_money
    from membership.forms import amount_example
    from membership.frequency import frequency_words

    app.jinja_env.globals.update(
        publication_name=config.publication_name, config_=config, frequency_words=frequency_words
    )
    app.jinja_env.filters["money"] = lambda cents, currency=None: format_money(
        cents, currency or config.currency, locale=config.locale
    )
    # The support form's preset amounts for every frequency, labelled as the server labels them,
    # so support.js shows the same text when it switches them.
    app.jinja_env.filters["preset_labels"] = lambda by_frequency: {
        str(cents): format_money(cents, config.currency, locale=config.locale)
        for presets in by_frequency.values()
        for cents in presets
    }
    app.jinja_env.globals["currency_words"] = currency_words(config.currency, config.locale)
    app.jinja_env.globals["amount_example"] = amount_example(config.currency)
    app.jinja_env.filters["local_date"] = lambda when: format_date(when, config.zone)
    app.jinja_env.filters["local_datetime"] = lambda when: format_datetime(when, config.zone)

    @app.url_defaults
    def fingerprint_static(endpoint: str, values: dict[str, Any]) -> None:
        # ?v= changes with every deploy, so the proxy may cache these URLs as immutable.
        if endpoint == "static":
            values.setdefault("v", app.config["BUILD_FINGERPRINT"])
