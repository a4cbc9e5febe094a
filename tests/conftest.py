"""Fixtures every test folder shares: a real database (SQLite file or PostgreSQL) built by the
migrations, the Stripe stand-in, the app and its one kind of test client, a real WSGI server in a
thread, and a real SMTP server. Chromium's fixtures live in `tests/browser/conftest.py`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from helpers.clients import use_fresh_context_clients
from helpers.config import WEBHOOK_SECRET, make_config
from helpers.live_server import LiveServer, free_port
from helpers.smtp_capture import SmtpCapture
from membership import create_app
from membership.config import Config
from membership.extensions import db, limiter
from membership.models import Base
from membership.payments.account_setup import PORTAL_FEATURES
from stripe_standin import StandinServer
from stripe_standin.portal import create_configuration

# Examples are checked for what they do, not how fast: on a loaded two-core machine a 200 ms
# deadline fails tests whose code is fine.
settings.register_profile("house", deadline=None)
settings.load_profile("house")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that opens the test database carries the `database` marker: the PostgreSQL pass
    (`make pytest-postgres`) runs those, the others gain nothing from a second run."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh database whose schema is built by running every migration."""
    url = os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'membership-test.sqlite3'}"
    )
    if is_postgres(url):
        url = worker_database(url)
    app = create_app(make_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def worker_database(url: str) -> str:
    """A new, empty PostgreSQL database for this test process, named after the one in
    TEST_DATABASE_URL (`test` -> `test_gw0` under pytest-xdist, `test_main` without it).

    It is dropped and made again with FORCE, so whatever an earlier run left connected to it (a
    server killed halfway, an idle transaction) can neither block this run nor leak into it.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER") or "main"
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    maintenance = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        # A test database need not survive a power cut: commits do not wait for the disk.
        connection.execute(text(f'ALTER DATABASE "{own.database}" SET synchronous_commit = off'))
    maintenance.dispose()
    return own.render_as_string(hide_password=False)


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        empty_postgres(tables)
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our own table names)
    db.session.commit()


RESTART_SEQUENCES = text(
    "SELECT setval(c.oid, 1, false) FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
)


def empty_postgres(tables: list[str]) -> None:
    """DELETE, children first, and every sequence back to 1: what TRUNCATE ... RESTART IDENTITY
    does, at a few per cent of its cost on a test's handful of rows (TRUNCATE makes new files for
    all 36 tables and waits for the disk: about half a second per test).

    A connection a test left open (a server thread still answering, a transaction never closed)
    could hold a row lock: the DELETE waits 30 s, then says who held it, ends those connections
    and tries again."""

    def delete_all() -> None:
        db.session.execute(text("SET LOCAL lock_timeout = '30s'"))
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our own table names)
        db.session.execute(RESTART_SEQUENCES)

    try:
        delete_all()
    except OperationalError:
        db.session.rollback()
        holders = db.session.execute(
            text(
                "SELECT pid, state, left(query, 200) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        sys.stderr.write(f"\nEmptying the tables waited 30 s on these, ending them: {holders}\n")
        db.session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        delete_all()


@pytest.fixture(scope="session")
def standin() -> Iterator[StandinServer]:
    """The offline Stripe stand-in, started once; reset before each test that uses the app."""
    with StandinServer(webhook_secret=WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture
def server_port() -> int:
    """The port the live server will take, known before the app is built (for BASE_URL)."""
    return free_port()


@pytest.fixture
def config(database_url: str, tmp_path: Path, standin: StandinServer, server_port: int) -> Config:
    standin.reset()
    standin.store.webhook_url = None
    with standin.store.lock:
        # The account as `flask stripe setup` leaves it: a portal configuration of its own.
        portal_configuration = create_configuration(standin.store, {"features": PORTAL_FEATURES})
    return make_config(
        database_url,
        tmp_path,
        base_url=f"http://127.0.0.1:{server_port}",
        stripe_api_base=standin.url,
        stripe_portal_configuration=portal_configuration["id"],
    )


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    app = use_fresh_context_clients(create_app(config))
    limiter.reset()
    yield app
    app.extensions["stripe_gateway"].close()
    with app.app_context():
        db.session.remove()
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_factory(app: Flask, config: Config) -> Iterator[Callable[..., Flask]]:
    """Another app on the same test database, with some settings changed; cleaned up like `app`."""
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        other = use_fresh_context_clients(create_app(config.with_overrides(**overrides)))
        made.append(other)
        return other

    yield factory
    for other in made:
        other.extensions["stripe_gateway"].close()
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The test client. Every client a test makes (`app.test_client()`, on `app` or on an app from
    `app_factory`) is the same kind: each request in its own app context, as in production."""
    return app.test_client()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def live_server(app: Flask, server_port: int, standin: StandinServer) -> Iterator[LiveServer]:
    """The app on a real WSGI server; the stand-in delivers its signed webhooks there."""
    with LiveServer(app, port=server_port) as server:
        standin.store.webhook_url = f"{server.url}/webhooks/stripe"
        yield server
        standin.flush(10)
        standin.store.webhook_url = None


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    """A real SMTP server on a free loopback port, collecting what it receives."""
    with SmtpCapture() as capture:
        yield capture
