"""Reader pages: the front page and articles (cacheable: the same HTML for every reader)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import select

from membership.blueprints import app_config
from membership.caching import public_page
from membership.config import Config
from membership.extensions import db
from membership.models import Article, ArticleStatus, Placement, utcnow
from membership.page_cache import PageCache, PageVersion
from membership.services import articles as article_service
from membership.services.banner import banner_version_columns, control_variant

bp = Blueprint("articles", __name__)


@bp.get("/")
@public_page
def index() -> str:
    config = app_config()
    number = request.args.get("page", default=1, type=int)
    page = article_service.published_page(db.session(), number, config.articles_per_page)
    if page is None:
        abort(404)
    banner = control_variant(db.session(), utcnow(), Placement.FRONT)
    return render_template("articles/index.html", page=page, banner=banner)


def _page_cache() -> PageCache:
    cache = current_app.extensions["article_page_cache"]
    if not isinstance(cache, PageCache):
        raise RuntimeError("the app was not built by create_app()")
    return cache


def _load_version(slug: str) -> PageVersion | None:
    """The cheap question: which version of this page is current? One small query."""
    row = (
        db.session()
        .execute(
            select(Article.id, Article.updated_at, *banner_version_columns(utcnow())).where(
                Article.slug == slug, Article.status == ArticleStatus.PUBLISHED
            )
        )
        .first()
    )
    if row is None:
        return None
    article_id, updated_at, *banner_version = row
    etag = hashlib.sha256(
        f"{current_app.config['BUILD_FINGERPRINT']}:{article_id}:{updated_at.isoformat()}:{banner_version}".encode()
    ).hexdigest()[:32]
    return PageVersion(etag=etag, article_id=article_id)


def _render_article(article_id: int) -> bytes:
    article = db.session().get(Article, article_id)
    if article is None:
        abort(404)
    now = utcnow()
    banner = control_variant(db.session(), now)
    sticky = control_variant(db.session(), now, Placement.STICKY)
    return render_template(
        "articles/article.html", article=article, banner=banner, sticky=sticky
    ).encode()


@bp.get("/articles/<slug>")
@public_page
def article(slug: str) -> Response:
    cache = _page_cache()
    version = cache.version(slug, lambda: _load_version(slug))
    if version is None:
        abort(404)
    if request.if_none_match.contains(version.etag):
        response = Response(status=304)
    else:
        body = cache.page(version.etag, lambda: _render_article(version.article_id))
        response = Response(body, mimetype="text/html")
    response.set_etag(version.etag)
    response.headers["Cache-Control"] = article_cache_control(app_config())
    return response


def article_cache_control(config: Config) -> str:
    return f"public, max-age={config.article_cache_seconds}"
