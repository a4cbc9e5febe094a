from __future__ import annotations

import random
import time
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpers.factories import make_article, make_variant
from membership.extensions import db
from membership.models import BannerStat, BannerVariant
from membership.services.banner import choose_variant, count_banner_event

pytestmark = pytest.mark.usefixtures("app_context")


def totals() -> tuple[int, int]:
    row = db.session.execute(
        select(
            func.coalesce(func.sum(BannerStat.impressions), 0),
            func.coalesce(func.sum(BannerStat.clicks), 0),
        )
    ).one()
    return int(row[0]), int(row[1])


def test_api_picks_a_variant_counts_an_impression_and_sticks(client: FlaskClient) -> None:
    make_variant("a", headline="Variant A")
    make_article(slug="story")
    response = client.get("/api/banner?article=story")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert body["show"] is True
    assert body["variant"]["headline"] == "Variant A"
    assert body["variant"]["amounts"]["once"] == [100, 500, 1000]
    # The script shows the server's labels, in the configured currency and locale.
    assert body["variant"]["amount_labels"]["once"] == ["$1", "$5", "$10"]
    assert totals() == (1, 0)
    cookie = client.get_cookie("obs_variant")
    assert cookie is not None and cookie.value == str(body["variant"]["id"])
    assert cookie.http_only


def test_sticky_variant_is_kept_while_active(client: FlaskClient) -> None:
    a = make_variant("a", headline="A")
    b = make_variant("b", headline="B")
    client.set_cookie("obs_variant", str(b.id))
    for _ in range(5):
        assert client.get("/api/banner").get_json()["variant"]["id"] == b.id
    make_variant("b", headline="B", active=False)
    assert client.get("/api/banner").get_json()["variant"]["id"] == a.id


def test_weights_split_readers_and_zero_weight_is_never_shown() -> None:
    heavy = make_variant("heavy", weight=3)
    light = make_variant("light", weight=1)
    off = make_variant("off", weight=0)
    variants = list(db.session.scalars(select(BannerVariant)))
    rng = random.Random(1234)
    picks = [choose_variant(variants, None, rng) for _ in range(4000)]
    counts = {
        v.id: sum(1 for p in picks if p is not None and p.id == v.id) for v in (heavy, light, off)
    }
    assert counts[off.id] == 0
    assert 2800 < counts[heavy.id] < 3200
    assert 800 < counts[light.id] < 1200


def test_no_active_variant_means_no_banner(client: FlaskClient) -> None:
    make_variant("a", active=False)
    assert client.get("/api/banner").get_json() == {"show": False, "reason": "no_variant"}
    assert totals() == (0, 0)


def test_a_dismissed_banner_stays_dismissed(client: FlaskClient) -> None:
    make_variant()
    until_ms = int((time.time() + 3600) * 1000)
    client.set_cookie("obs_banner_hidden_until", str(until_ms))
    assert client.get("/api/banner").get_json() == {"show": False, "reason": "dismissed"}
    assert totals() == (0, 0)
    client.set_cookie("obs_banner_hidden_until", str(int((time.time() - 1) * 1000)))
    assert client.get("/api/banner").get_json()["show"] is True
    client.set_cookie("obs_banner_hidden_until", "garbage")
    assert client.get("/api/banner").get_json()["show"] is True


def test_pixel_counts_an_impression_for_readers_without_javascript(client: FlaskClient) -> None:
    variant = make_variant()
    make_article(slug="story")
    response = client.get(f"/api/banner/pixel.gif?variant={variant.id}&article=story")
    assert response.status_code == 200
    assert response.mimetype == "image/gif"
    assert totals() == (1, 0)
    assert client.get("/api/banner/pixel.gif?variant=99999").status_code == 200
    assert client.get("/api/banner/pixel.gif?variant=abc").status_code == 200
    assert totals() == (1, 0)


def test_following_a_banner_link_counts_a_click(client: FlaskClient) -> None:
    variant = make_variant()
    article = make_article(slug="story")
    response = client.get(
        f"/support?amount=500&frequency=monthly&source=story&variant={variant.id}"
    )
    assert response.status_code == 200
    stat = db.session.scalar(select(BannerStat))
    assert stat is not None
    assert (stat.variant_id, stat.article_id, stat.clicks, stat.impressions) == (
        variant.id,
        article.id,
        1,
        0,
    )
    # Made-up variants or sources are not counted and do not fail.
    assert client.get("/support?variant=424242&source=<script>").status_code == 200
    assert totals() == (0, 1)


def test_counters_add_up_in_one_row_per_day_variant_and_article() -> None:
    variant = make_variant()
    for _ in range(3):
        count_banner_event(
            db.session(),
            day=date(2026, 11, 2),
            variant_id=variant.id,
            article_id=None,
            impressions=1,
        )
    count_banner_event(
        db.session(), day=date(2026, 11, 2), variant_id=variant.id, article_id=None, clicks=2
    )
    count_banner_event(
        db.session(), day=date(2026, 11, 3), variant_id=variant.id, article_id=None, impressions=1
    )
    db.session.commit()
    rows = db.session.scalars(select(BannerStat).order_by(BannerStat.day)).all()
    assert [(r.day, r.impressions, r.clicks) for r in rows] == [
        (date(2026, 11, 2), 3, 2),
        (date(2026, 11, 3), 1, 0),
    ]
