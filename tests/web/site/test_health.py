from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from membership import create_app
from membership.config import Config
from membership.extensions import db


def test_health_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "unreachable",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
        "sqlite:////nonexistent-folder/for/membership.sqlite3",
    ],
)
def test_health_503_when_database_is_down(config: Config, tmp_path: Path, unreachable: str) -> None:
    app = create_app(config.with_overrides(database_url=unreachable))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    # Pages that need the database answer 503 with a readable page, not a 500.
    page = client.get("/")
    assert page.status_code == 503
    assert b"briefly unavailable" in page.data
    with app.app_context():
        db.engine.dispose()
