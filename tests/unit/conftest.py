"""Unit tests run with no app, no server and no database: their `config` is the test settings
alone (the shared `config` fixture would start the stand-in and migrate a database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.config import make_config
from membership.config import Config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # A database URL nothing opens: composing an email or checking a rule never connects.
    return make_config("sqlite:///:memory:", tmp_path)
