"""Reader pages: the front page and articles (cacheable: the same HTML for every reader)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, make_response, render_template, request
from sqlalchemy import select

from membership.blueprints import app_config
from membership.caching import public_page
from membership.extensions import db
from membership.models import Article, ArticleStatus
from membership.services import articles as article_service
from membership.services.banner import banner_version_columns, control_variant

bp = Blueprint("articles", __name__)

# Changes with every deploy of templates or code that shape the page.
_BUILD = hashlib.sha256(__file__.encode()).hexdigest()[:8]


@bp.get("/")
@public_page
def index() -> str:
    config = app_config()
    number = request.args.get("page", default=1, type=int)
    page = article_service.published_page(db.session(), number, config.articles_per_page)
    if page is None:
        abort(404)
    return render_template("articles/index.html", page=page)


@bp.get("/articles/<slug>")
@public_page
def article(slug: str) -> Response:
    config = app_config()
    # The cheap question first: has anything this page shows changed since the reader's copy?
    row = (
        db.session()
        .execute(
            select(Article.id, Article.updated_at, *banner_version_columns()).where(
                Article.slug == slug, Article.status == ArticleStatus.PUBLISHED
            )
        )
        .first()
    )
    if row is None:
        abort(404)
    article_id, updated_at, banner_updated, banner_count = row
    etag = hashlib.sha256(
        f"{_BUILD}:{article_id}:{updated_at.isoformat()}:{banner_updated}:{banner_count}".encode()
    ).hexdigest()[:32]
    cache_control = f"public, max-age={config.article_cache_seconds}"
    if request.if_none_match.contains(etag):
        not_modified = Response(status=304)
        not_modified.set_etag(etag)
        not_modified.headers["Cache-Control"] = cache_control
        return not_modified
    article = db.session().get(Article, article_id)
    if article is None:
        abort(404)
    banner = control_variant(db.session())
    response = make_response(
        render_template("articles/article.html", article=article, banner=banner)
    )
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response
