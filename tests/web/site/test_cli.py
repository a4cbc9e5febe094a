from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from helpers.factories import count, only
from membership.extensions import db
from membership.models import (
    Article,
    BannerVariant,
    Campaign,
    Donation,
    StaffMember,
    StaffRole,
    utcnow,
)


def test_demo_seed_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (count(Article), count(BannerVariant), count(StaffMember), count(Donation))
        updated = db.session.scalar(select(func.max(Article.updated_at)))
    # Staff: the admin, an editor and a finance person; a year of donations, added once.
    assert counts[0] >= 8 and counts[1] == 2 and counts[2] == 3 and counts[3] > 3000
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert (count(Article), count(BannerVariant), count(StaffMember), count(Donation)) == counts
        assert db.session.scalar(select(func.max(Article.updated_at))) == updated
        admin = db.session.scalar(
            select(StaffMember).where(StaffMember.email == "admin@observatory.example")
        )
        assert admin is not None and admin.role is StaffRole.ADMIN
        articles = db.session.scalars(select(Article)).all()
        assert all("fictional" in a.body_markdown for a in articles)
        # The demo shows a running campaign with a $500 goal, counted from the seed on.
        campaign = only(Campaign)
        assert (campaign.slug, campaign.goal_cents) == ("spring-drive", 50000)
        assert campaign.starts_at <= utcnow() < campaign.ends_at
        assert all(a.published_at is not None for a in articles)
    page = app.test_client().get("/support/spring-drive").get_data(as_text=True)
    assert "$0</strong> raised of our $500 goal" in page


ARTICLE = """---
title: Harbour reopens after storm
slug: harbour-reopens
standfirst: Boats are back.
author: A. Writer
published_at: 2026-11-20T07:30:00Z
---

The harbour **reopened** on Tuesday.
"""


def test_articles_import_file_and_folder(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text(ARTICLE)
    (tmp_path / "two.md").write_text("\ufeff" + ARTICLE.replace("harbour-reopens", "second-story"))
    result = app.test_cli_runner().invoke(args=["articles", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "imported harbour-reopens (published)" in result.output
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "harbour-reopens"))
        assert article is not None
        assert article.title == "Harbour reopens after storm"
        assert article.author == "A. Writer"
        assert "<strong>reopened</strong>" in article.body_html
        assert article.published_at is not None and article.published_at.hour == 7
        assert count(Article) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("no front matter", "must start with a '---'"),
        ("---\ntitle: x\n", "not closed"),
        ("---\ntitle: x\n---\nbody", "needs a 'slug'"),
        ("---\ntitle: x\nslug: Bad Slug\n---\nbody", "lower-case letters"),
        ("---\ntitle: x\nslug: ok\npublished_at: yesterday\n---\n", "ISO 8601"),
        ("---\ntitle: x\nslug: ok\ncolour: red\n---\n", "expected one of"),
        ("---\ntitle: x\nslug: ok\nstatus: maybe\n---\n", "draft' or 'published"),
    ],
)
def test_bad_article_files_are_explained_and_nothing_is_imported(
    app: Flask, tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "a-good.md").write_text(ARTICLE)
    (tmp_path / "b-bad.md").write_text(content)
    result = app.test_cli_runner().invoke(args=["articles", "import", str(tmp_path)])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert count(Article) == 0


def test_import_of_a_missing_path(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["articles", "import", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "no such file or folder" in result.output


def test_staff_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "Editor@Example.org", "--role", "editor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["staff", "create", "editor@example.org", "--role", "finance"])
    assert "editor@example.org is now finance" in result.output
    with app.app_context():
        assert count(StaffMember) == 1
    bad = runner.invoke(args=["staff", "create", "not-an-address", "--role", "admin"])
    assert bad.exit_code != 0 and "is not an email address" in bad.output
    wrong_role = runner.invoke(args=["staff", "create", "a@b.org", "--role", "owner"])
    assert wrong_role.exit_code != 0
