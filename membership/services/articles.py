"""Writing, publishing, listing and importing articles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.models import Article, ArticleStatus, utcnow
from membership.services.markdown import render_markdown

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT_MATTER_FIELDS = {"title", "slug", "standfirst", "author", "published_at", "status"}


class ArticleError(ValueError):
    """An article could not be saved or imported; the message says why, for a person."""


@dataclass(frozen=True)
class ArticleDraft:
    slug: str
    title: str
    body_markdown: str
    standfirst: str = ""
    author: str = ""
    published_at: datetime | None = None
    status: ArticleStatus = ArticleStatus.PUBLISHED


@dataclass(frozen=True)
class Page:
    items: list[Article]
    number: int
    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def save_article(session: Session, draft: ArticleDraft) -> Article:
    """Create or update the article with this slug; the HTML is rendered here, once."""
    if not SLUG_RE.match(draft.slug) or len(draft.slug) > 120:
        raise ArticleError(
            f"Slug {draft.slug!r} must be lower-case letters, digits and single hyphens."
        )
    if not draft.title.strip():
        raise ArticleError(f"Article {draft.slug!r} needs a title.")
    article = session.scalar(select(Article).where(Article.slug == draft.slug))
    if article is None:
        article = Article(slug=draft.slug)
        session.add(article)
    published_at = article.published_at
    if draft.status is ArticleStatus.PUBLISHED:
        published_at = draft.published_at or published_at or utcnow()
    else:
        published_at = draft.published_at
    changes = {
        "title": draft.title.strip(),
        "standfirst": draft.standfirst.strip(),
        "author": draft.author.strip(),
        "body_markdown": draft.body_markdown,
        "body_html": render_markdown(draft.body_markdown),
        "status": draft.status,
        "published_at": published_at,
    }
    # Only a real change moves updated_at, which feeds the page's ETag.
    if any(getattr(article, name) != value for name, value in changes.items()):
        for name, value in changes.items():
            setattr(article, name, value)
        article.updated_at = utcnow()
    session.flush()
    return article


def published_page(session: Session, number: int, per_page: int) -> Page | None:
    """One page of published articles, newest first; None when the page does not exist."""
    published = Article.status == ArticleStatus.PUBLISHED
    total = session.scalar(select(func.count()).select_from(Article).where(published)) or 0
    pages = max(1, -(-total // per_page))
    if number < 1 or number > pages:
        return None
    items = session.scalars(
        select(Article)
        .where(published)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return Page(items=list(items), number=number, total=total, per_page=per_page)


def published_article(session: Session, slug: str) -> Article | None:
    return session.scalar(
        select(Article).where(Article.slug == slug, Article.status == ArticleStatus.PUBLISHED)
    )


def parse_front_matter(text: str, source: str) -> ArticleDraft:
    """Parse a Markdown file that starts with `---` / `key: value` lines / `---`."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError(f"{source}: the file must start with a '---' front matter block.")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise ArticleError(f"{source}: the front matter block is not closed by '---'.") from None
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in _FRONT_MATTER_FIELDS:
            raise ArticleError(
                f"{source}:{number}: expected one of {sorted(_FRONT_MATTER_FIELDS)}."
            )
        meta[key] = value.strip()
    for required in ("title", "slug"):
        if not meta.get(required):
            raise ArticleError(f"{source}: front matter needs a {required!r}.")
    published_at = None
    if meta.get("published_at"):
        try:
            published_at = datetime.fromisoformat(meta["published_at"].replace("Z", "+00:00"))
        except ValueError:
            raise ArticleError(f"{source}: published_at is not an ISO 8601 date-time.") from None
        if published_at.tzinfo is None:
            published_at = published_at.replace(tzinfo=UTC)
    try:
        status = ArticleStatus(meta.get("status", "published").lower())
    except ValueError:
        raise ArticleError(f"{source}: status must be 'draft' or 'published'.") from None
    return ArticleDraft(
        slug=meta["slug"],
        title=meta["title"],
        standfirst=meta.get("standfirst", ""),
        author=meta.get("author", ""),
        published_at=published_at,
        status=status,
        body_markdown="\n".join(lines[end + 1 :]).strip() + "\n",
    )


def import_articles(session: Session, path: Path) -> list[Article]:
    """Import one Markdown file or every `*.md` file in a folder; all or nothing."""
    if path.is_dir():
        files = sorted(path.glob("*.md"))
    elif path.is_file():
        files = [path]
    else:
        raise ArticleError(f"{path}: no such file or folder.")
    if not files:
        raise ArticleError(f"{path}: no Markdown (.md) files found.")
    drafts = [parse_front_matter(f.read_text(encoding="utf-8"), str(f)) for f in files]
    return [save_article(session, draft) for draft in drafts]
