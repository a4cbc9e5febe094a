"""Per-reader parts of the appeal, kept out of the cacheable pages.

The article's HTML carries the control variant for readers without JavaScript; the page's script
asks this endpoint which variant this reader sees (sticky by cookie), whether to show it at all
(recent donors and signed-in supporters get a thank-you), and the answer counts one impression
and leaves a signed impression cookie, without which a click on the appeal does not count.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import select

from membership.auth import signed_in_supporter
from membership.blueprints import app_config
from membership.caching import no_store
from membership.extensions import db, limiter
from membership.formatting import format_money
from membership.models import Article, Placement, utcnow
from membership.services.appeal_cookies import (
    IMPRESSION_COOKIE,
    IMPRESSION_SECONDS,
    RECENT_DONOR_COOKIE,
    Impression,
    impression_cookie,
    new_reader,
    read_impression,
    read_recent_donor,
    recent_donor_cookie,
)
from membership.services.banner import (
    BannerCopy,
    active_variants,
    choose_variant,
    count_banner_event,
    variant_exists,
)
from membership.services.campaigns import running_campaign
from membership.services.giving_history import is_current_supporter

bp = Blueprint("banner_api", __name__)

HIDDEN_COOKIE = "obs_banner_hidden_until"
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _suffix(placement: Placement) -> str:
    return "" if placement is Placement.ARTICLE else f"_{placement.value}"


def variant_cookie_name(placement: Placement) -> str:
    return "obs_variant" + _suffix(placement)


def impression_cookie_name(placement: Placement) -> str:
    return IMPRESSION_COOKIE + _suffix(placement)


def reader_impressions() -> list[Impression]:
    """The signed impressions this browser carries, one per placement it saw."""
    secret = app_config().secret_key
    found = (
        read_impression(secret, request.cookies.get(impression_cookie_name(p))) for p in Placement
    )
    return [impression for impression in found if impression is not None]


def _placement() -> Placement:
    try:
        return Placement(request.args.get("placement", "article"))
    except ValueError:
        return Placement.ARTICLE


def _remember_impression(response: Response, placement: Placement, variant_id: int) -> None:
    known = reader_impressions()
    reader = known[0].reader if known else new_reader()
    config = app_config()
    response.set_cookie(
        impression_cookie_name(placement),
        impression_cookie(config.secret_key, Impression(reader, variant_id)),
        max_age=IMPRESSION_SECONDS,
        secure=config.session_cookie_secure,
        httponly=True,
        samesite="Lax",
    )


def remember_recent_donor(response: Response, *, recurring: bool) -> None:
    """Set on the confirmed thank-you page: the appeal says thank you for a while."""
    config = app_config()
    response.set_cookie(
        RECENT_DONOR_COOKIE,
        recent_donor_cookie(config.secret_key, recurring=recurring),
        max_age=config.supporter_banner_quiet_days * 86400,
        secure=config.session_cookie_secure,
        httponly=True,
        samesite="Lax",
    )


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


def _thanks(reason: str, *, upgrade: bool) -> Response:
    config = app_config()
    thanks: dict[str, object] = {
        "headline": "Thank you for supporting us",
        "body": f"Readers like you keep {config.publication_name} independent. "
        "Your support is why this article is free for everyone.",
    }
    if upgrade:
        thanks["upgrade"] = {
            "text": "Make it monthly",
            "body": "A small monthly gift lets us plan our reporting.",
            "href": url_for("donate.support", frequency="monthly"),
        }
    return jsonify(show=False, reason=reason, thanks=thanks)


def _support_url(copy: BannerCopy) -> str:
    if copy.campaign_slug:
        return url_for("donate.campaign", slug=copy.campaign_slug)
    return url_for("donate.support")


@bp.get("/api/banner")
@no_store
@limiter.limit("120/minute")
def banner() -> Response:
    config = app_config()
    recent = read_recent_donor(
        config.secret_key,
        request.cookies.get(RECENT_DONOR_COOKIE),
        quiet_days=config.supporter_banner_quiet_days,
    )
    if recent is not None:
        # The article page stays the same cached page for everyone; only this answer differs.
        return _thanks("recent_donor", upgrade=recent == "once")
    supporter = signed_in_supporter()
    if supporter is not None and is_current_supporter(
        db.session(), supporter, quiet_days=config.supporter_banner_quiet_days, now=utcnow()
    ):
        return _thanks("supporter", upgrade=False)
    if _hidden_until() > time.time():
        return jsonify(show=False, reason="dismissed")
    placement = _placement()
    sticky = request.cookies.get(variant_cookie_name(placement), type=int)
    variant = choose_variant(active_variants(db.session(), placement), sticky)
    if variant is None:
        return jsonify(show=False, reason="no_variant")
    copy = BannerCopy.of(variant, running_campaign(db.session(), utcnow()))
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
        collapse_after=config.banner_collapse_after,
        variant={
            "id": copy.id,
            "placement": copy.placement,
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
            "article_count_threshold": copy.article_count_threshold,
            "matching_text": copy.matching_text,
            "support_url": _support_url(copy),
        },
    )
    response.set_cookie(
        variant_cookie_name(placement),
        str(copy.id),
        max_age=90 * 86400,
        secure=config.session_cookie_secure,
        httponly=True,
        samesite="Lax",
    )
    _remember_impression(response, placement, copy.id)
    return response


@bp.get("/api/banner/pixel.gif")
@no_store
@limiter.limit("120/minute")
def pixel() -> Response:
    """Counts an impression of the control variant for readers without JavaScript, and leaves the
    impression cookie their click on the appeal needs to count."""
    response = Response(_PIXEL, mimetype="image/gif")
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
        _remember_impression(response, _placement(), variant_id)
    return response
