"""deploy/: the backup script's dump restores into an empty database; the environment file
example is a configuration the app accepts."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy import text

from helpers.factories import make_article
from helpers.nginx import PROJECT_ROOT
from membership.config import Config
from membership.extensions import db

DEPLOY = PROJECT_ROOT / "deploy"


def test_a_nightly_backup_restores_into_an_empty_database(
    app_factory: Callable[..., Flask], postgres_database: str, tmp_path: Path
) -> None:
    source = app_factory(database_url=postgres_database)
    with source.app_context():
        from flask_migrate import upgrade

        upgrade()
        make_article(slug="kept-in-the-backup", body="Still here.")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    backups = tmp_path / "backups"
    done = subprocess.run(
        [str(DEPLOY / "backup.sh")],
        env={**os.environ, "DATABASE_URL": postgres_database, "BACKUP_DIR": str(backups)},
        capture_output=True,
        text=True,
        check=True,
    )
    dump = Path(done.stdout.strip())
    assert dump.parent == backups and dump.stat().st_mode & 0o077 == 0
    restored = postgres_database + "_restored"
    plain = restored.replace("postgresql+psycopg://", "postgresql://")
    admin = plain.rsplit("/", 1)[0] + "/postgres"
    name = plain.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={plain}", str(dump)],
            check=True,
            capture_output=True,
        )
        copy = app_factory(database_url=restored)
        with copy.app_context():
            slugs = db.session.scalars(text("SELECT slug FROM article")).all()
            version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.remove()
            db.engine.dispose()
        assert slugs == ["kept-in-the-backup"]
        assert version
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_environment_file_example_is_a_valid_production_configuration(
    tmp_path: Path,
) -> None:
    environ = {}
    for line in (DEPLOY / "membership.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            environ[key] = value
    config = Config.from_env(environ, tmp_path)
    assert config.is_production and config.proxy_hops == 1
    assert config.ratelimit_storage_uri.startswith("redis://")
