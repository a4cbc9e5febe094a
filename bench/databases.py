"""The database a bench runs on: a new SQLite file in its folder, or the PostgreSQL database it
was given with its public schema dropped and made again (everything in it is lost)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text


def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
