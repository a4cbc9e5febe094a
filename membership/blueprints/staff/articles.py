"""Articles, for editors: the list with each article's money, writing with a preview, publishing."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from membership.auth import staff_required
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import EDITOR, commit_and_redirect, require_confirmation
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff import ArticleForm
from membership.models import Article
from membership.services.articles import ArticleError
from membership.services.markdown import render_markdown
from membership.services.staff.articles import (
    all_articles,
    article_donations,
    save_as_staff,
    set_published,
)

bp = Blueprint("articles", __name__)


@bp.get("/articles")
@staff_required(EDITOR)
def index() -> ResponseReturnValue:
    return render_template(
        "staff/articles.html", rows=all_articles(db.session()), action=ConfirmForm()
    )


def _article_page(
    form: ArticleForm, article: Article | None, *, preview: Markup | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template("staff/article_form.html", form=form, article=article, preview=preview),
        status,
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit(article_id: int | None = None) -> ResponseReturnValue:
    article = None if article_id is None else db.get_or_404(Article, article_id)
    if request.method == "GET":
        return _article_page(ArticleForm.of_article(article), article)
    form = ArticleForm()
    if not form.validate():
        return _article_page(form, article, status=400)
    if request.form.get("action") == "preview":
        # Rendered by the same sanitizer as the saved article; nothing is stored.
        return _article_page(
            form,
            article,
            preview=Markup(render_markdown(form.body.data or "")),  # noqa: S704 (sanitized by nh3)
        )
    try:
        saved = save_as_staff(db.session(), acting_member(), form.draft(), existing=article)
    except ArticleError as error:
        # The slug of an existing article may have been flushed already: show it as it was.
        db.session().rollback()
        form.slug.errors = [*form.slug.errors, str(error)]
        return _article_page(form, article, status=400)
    notice = f"Saved “{saved.title}”."
    return commit_and_redirect("staff.articles.edit", notice=notice, article_id=saved.id)


@bp.get("/articles/<int:article_id>/donations")
@staff_required(EDITOR)
def donations(article_id: int) -> ResponseReturnValue:
    article = db.get_or_404(Article, article_id)
    money = article_donations(db.session(), article)
    return render_template("staff/article_donations.html", article=article, money=money)


@bp.post("/articles/<int:article_id>/publish")
@staff_required(EDITOR)
def publish(article_id: int) -> ResponseReturnValue:
    return _set_published(article_id, True)


@bp.post("/articles/<int:article_id>/unpublish")
@staff_required(EDITOR)
def unpublish(article_id: int) -> ResponseReturnValue:
    return _set_published(article_id, False)


def _set_published(article_id: int, published: bool) -> ResponseReturnValue:
    require_confirmation()
    article = set_published(
        db.session(), acting_member(), db.get_or_404(Article, article_id), published
    )
    notice = f"“{article.title}” is {'published' if published else 'a draft again'}."
    return commit_and_redirect("staff.articles.index", notice=notice)
