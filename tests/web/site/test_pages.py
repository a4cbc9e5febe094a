from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.factories import make_article, make_variant
from membership.extensions import db
from membership.models import ArticleStatus
from membership.services.articles import ArticleDraft, save_article

pytestmark = pytest.mark.usefixtures("app_context")


def test_front_page_lists_published_articles_newest_first(client: FlaskClient) -> None:
    make_article(title="Older story", published_at=datetime(2026, 11, 1, tzinfo=UTC))
    make_article(title="Newer story", published_at=datetime(2026, 11, 5, tzinfo=UTC))
    make_article(title="Unpublished draft", status=ArticleStatus.DRAFT)
    page = client.get("/").get_data(as_text=True)
    assert page.index("Newer story") < page.index("Older story")
    assert "Unpublished draft" not in page
    assert "<title>The Observatory: latest world news</title>" in page
    assert '<main id="main"' in page


def test_front_page_is_paginated(app: Flask, client: FlaskClient) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for n in range(12):
        make_article(title=f"Item {n:02d}", published_at=start + timedelta(days=n))
    first = client.get("/").get_data(as_text=True)
    assert "Item 11" in first and "Item 02" in first and "Item 01" not in first
    assert 'href="/?page=2"' in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert "Item 01" in second and "Item 00" in second and "Item 02" not in second
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=0").status_code == 404
    assert client.get("/?page=-1").status_code == 404
    # A malformed page number falls back to the first page rather than failing.
    assert client.get("/?page=abc").status_code == 200


def test_empty_front_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No articles have been published yet." in response.get_data(as_text=True)


def test_article_page_shows_the_story_and_the_banner_from_the_database(
    client: FlaskClient,
) -> None:
    make_variant(
        "control",
        headline="Fund the desk that wrote this",
        body="One dollar keeps a reporter on the road.",
        amounts={"once": [100, 500, 1000]},
    )
    make_article(slug="river-pact", title="River pact signed", body="The **river** deal.")
    response = client.get("/articles/river-pact")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>River pact signed</h1>" in html
    assert "<strong>river</strong>" in html
    assert "Fund the desk that wrote this" in html
    assert "One dollar keeps a reporter on the road." in html
    for cents, label in [(100, "$1"), (500, "$5"), (1000, "$10")]:
        assert (
            f'href="/support?amount={cents}&amp;frequency=once&amp;source=river-pact&amp;variant='
            in html
        )
        assert f">{label}</a>" in html
    assert "Other amount" in html
    assert '<script type="module" src="/static/js/banner.js?v=' in html


def test_banner_copy_and_amounts_are_configuration(client: FlaskClient) -> None:
    make_variant("control", headline="First words", amounts={"once": [700, 1500]})
    make_article(slug="s")
    assert "$7</a>" in client.get("/articles/s").get_data(as_text=True)
    make_variant("control", headline="Second words", amounts={"once": [2500]})
    html = client.get("/articles/s").get_data(as_text=True)
    assert "Second words" in html and "$25</a>" in html and "$7</a>" not in html


def test_article_without_any_banner_variant_still_renders(client: FlaskClient) -> None:
    make_article(slug="quiet")
    response = client.get("/articles/quiet")
    assert response.status_code == 200
    assert "data-banner" not in response.get_data(as_text=True)


def test_drafts_and_unknown_articles_are_404(client: FlaskClient) -> None:
    make_article(slug="secret-draft", status=ArticleStatus.DRAFT)
    assert client.get("/articles/secret-draft").status_code == 404
    assert client.get("/articles/nothing-here").status_code == 404
    assert client.get("/articles/" + "x" * 5000).status_code == 404


def test_article_is_cacheable_and_answers_304(client: FlaskClient) -> None:
    make_variant()
    make_article(slug="cached")
    first = client.get("/articles/cached")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert "Set-Cookie" not in first.headers
    assert "Cookie" not in first.headers.get("Vary", "")
    again = client.get("/articles/cached", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get("/articles/cached", headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_article_or_banner_changes(client: FlaskClient) -> None:
    make_variant("control", headline="Before")
    make_article(slug="changing", body="First version.")
    etag = client.get("/articles/changing").headers["ETag"]
    save_article(
        db.session(),
        ArticleDraft(slug="changing", title="Story", body_markdown="Corrected version."),
    )
    db.session.commit()
    edited = client.get("/articles/changing", headers={"If-None-Match": etag})
    assert edited.status_code == 200
    assert "Corrected version." in edited.get_data(as_text=True)
    etag = edited.headers["ETag"]
    make_variant("control", headline="After")
    rebannered = client.get("/articles/changing", headers={"If-None-Match": etag})
    assert rebannered.status_code == 200
    assert "After" in rebannered.get_data(as_text=True)


def test_saving_unchanged_content_keeps_the_etag(client: FlaskClient) -> None:
    article = make_article(slug="stable", title="Stable", body="Same.")
    etag = client.get("/articles/stable").headers["ETag"]
    save_article(
        db.session(),
        ArticleDraft(
            slug="stable",
            title="Stable",
            body_markdown="Same.",
            standfirst="What happened, in one sentence.",
            author="Test Reporter",
            published_at=article.published_at,
        ),
    )
    db.session.commit()
    assert client.get("/articles/stable", headers={"If-None-Match": etag}).status_code == 304


def test_article_page_for_a_signed_in_looking_reader_is_the_same_page(
    client: FlaskClient,
) -> None:
    """Cookies a reader carries do not change the cacheable page."""
    make_variant()
    make_article(slug="same-for-all")
    plain = client.get("/articles/same-for-all").get_data()
    client.set_cookie("obs_variant", "99")
    client.set_cookie("session", "anything")
    assert client.get("/articles/same-for-all").get_data() == plain
