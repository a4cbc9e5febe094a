from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from helpers.factories import make_article, make_variant
from membership.extensions import db
from membership.models import Article, ArticleStatus, BannerVariant, Base

pytestmark = pytest.mark.usefixtures("app_context")


def test_migrations_build_exactly_the_models_schema(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_slug_is_unique() -> None:
    make_article(slug="same-slug")
    db.session.add(Article(slug="same-slug", title="Another", status=ArticleStatus.DRAFT))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_timestamps_come_back_timezone_aware_utc() -> None:
    published = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    article = make_article(published_at=published)
    db.session.expire_all()
    loaded = db.session.get(Article, article.id)
    assert loaded is not None
    assert loaded.published_at == published
    assert loaded.published_at.tzinfo is not None
    assert loaded.updated_at.tzinfo is not None


def test_naive_datetimes_are_refused() -> None:
    article = make_article()
    article.published_at = datetime(2026, 1, 1)  # noqa: DTZ001 (deliberately naive)
    with pytest.raises(Exception, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_enums_are_stored_as_their_values() -> None:
    make_article(slug="draft-one", status=ArticleStatus.DRAFT)
    stored = db.session.execute(
        text("SELECT status FROM article WHERE slug = 'draft-one'")
    ).scalar()
    assert stored == "draft"
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE article SET status = 'bogus' WHERE slug = 'draft-one'"))
    db.session.rollback()


def test_banner_weight_cannot_be_negative() -> None:
    variant = make_variant()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE banner_variant SET weight = -1 WHERE id = :id"), {"id": variant.id}
        )
    db.session.rollback()


def test_banner_amounts_round_trip_as_json() -> None:
    variant = make_variant(amounts={"once": [100, 250], "annual": [5000]})
    db.session.expire_all()
    loaded = db.session.get(BannerVariant, variant.id)
    assert loaded is not None
    assert loaded.amounts == {"once": [100, 250], "annual": [5000]}
