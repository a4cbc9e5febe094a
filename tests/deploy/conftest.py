"""Fixtures of the deployment tests: the wheel installed once a session, processes stopped after
each test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from psycopg import sql

from helpers.factories import make_article, make_variant
from helpers.installed import InstalledWheel, Processes, build_and_install
from helpers.live_server import LiveServer, free_port
from helpers.nginx import Nginx


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """`pip wheel --no-deps .`, then `pip install` of that file into a new virtualenv."""
    return build_and_install(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    yield running
    running.stop_all()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    base = (
        os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = base.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    name = f"membership_deploy_{os.getpid()}"
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not answering ({error}); .ci/run starts it")
    with connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def behind_nginx(
    app_factory: Callable[..., Flask], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Nginx]:
    """nginx in front of the app; PROXY_HOPS=1 unless the test asks otherwise (indirect)."""
    hops = getattr(request, "param", 1)
    app_port = free_port()
    folder = tmp_path / "nginx"
    folder.mkdir()
    probe = app_factory()
    nginx = Nginx(folder, upstream=f"127.0.0.1:{app_port}", static_folder=str(probe.static_folder))
    # One Checkout Session a minute per reader, so a shared bucket would show at the second.
    app = app_factory(proxy_hops=hops, base_url=nginx.origin, support_rate_limit="1/minute")
    with app.app_context():
        make_variant()
        make_article(slug="harbour", body="The harbour reopened.")
    with LiveServer(app, port=app_port), nginx:
        yield nginx
