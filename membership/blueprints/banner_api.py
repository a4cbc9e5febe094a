"""Per-reader parts of the banner, kept out of the cacheable article page.

The article's HTML carries the control variant for readers without JavaScript; the page's script asks
this endpoint which variant this reader sees (sticky by cookie), whether to show it at all, and the
answer counts one impression.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from membership.auth import signed_in_supporter
from membership.blueprints import app_config
from membership.caching import no_store
from membership.extensions import db, limiter
from membership.formatting import format_money
from membership.models import Article, utcnow
from membership.services.banner import (
    BannerCopy,
    active_variants,
    choose_variant,
    count_banner_event,
    variant_exists,
)
from membership.services.giving_history import is_current_supporter

bp = Blueprint("banner_api", __name__)

VARIANT_COOKIE = "obs_variant"
HIDDEN_COOKIE = "obs_banner_hidden_until"
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _article_id(slug: str | None) -> int | None:
    if not slug or len(slug) > 120:
        return None
    return db.session().scalar(select(Article.id).where(Article.slug == slug))


def _hidden_until() -> float:
    raw = request.cookies.get(HIDDEN_COOKIE, "")
    try:
        return float(raw) / 1000.0
    except ValueError:
        return 0.0


def _today() -> datetime:
    return datetime.now(app_config().zone)


@bp.get("/api/banner")
@no_store
@limiter.limit("120/minute")
def banner() -> Response:
    config = app_config()
    supporter = signed_in_supporter()
    if supporter is not None and is_current_supporter(
        db.session(), supporter, quiet_days=config.supporter_banner_quiet_days, now=utcnow()
    ):
        # The article page stays the same cached page for everyone; only this answer differs.
        return jsonify(
            show=False,
            reason="supporter",
            thanks={
                "headline": "Thank you for supporting us",
                "body": f"Readers like you keep {config.publication_name} independent. "
                "Your support is why this article is free for everyone.",
            },
        )
    if _hidden_until() > time.time():
        return jsonify(show=False, reason="dismissed")
    sticky = request.cookies.get(VARIANT_COOKIE, type=int)
    variant = choose_variant(active_variants(db.session()), sticky)
    if variant is None:
        return jsonify(show=False, reason="no_variant")
    copy = BannerCopy.of(variant)
    count_banner_event(
        db.session(),
        day=_today().date(),
        variant_id=copy.id,
        article_id=_article_id(request.args.get("article")),
        impressions=1,
    )
    db.session().commit()
    response = jsonify(
        show=True,
        dismiss_days=config.banner_dismiss_days,
        variant={
            "id": copy.id,
            "headline": copy.headline,
            "body": copy.body,
            "amounts": copy.amounts,
            # Shown as the page shows them (currency, locale): the script formats no money.
            "amount_labels": {
                frequency: [
                    format_money(cents, config.currency, locale=config.locale) for cents in amounts
                ]
                for frequency, amounts in copy.amounts.items()
            },
            "default_frequency": copy.default_frequency,
        },
    )
    response.set_cookie(
        VARIANT_COOKIE,
        str(copy.id),
        max_age=90 * 86400,
        secure=config.session_cookie_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/api/banner/pixel.gif")
@no_store
@limiter.limit("120/minute")
def pixel() -> Response:
    """Counts an impression of the control variant for readers without JavaScript."""
    variant_id = request.args.get("variant", type=int)
    if variant_id is not None and variant_exists(db.session(), variant_id):
        count_banner_event(
            db.session(),
            day=_today().date(),
            variant_id=variant_id,
            article_id=_article_id(request.args.get("article")),
            impressions=1,
        )
        db.session().commit()
    return Response(_PIXEL, mimetype="image/gif")
