"""Articles as editors see them: every article with its money, saving and publishing (audited)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.models import Article, ArticleStatus, Donation, DonationStatus, StaffMember
from membership.services.articles import ArticleDraft, ArticleError, save_article
from membership.services.staff import audit


def all_articles(session: Session) -> list[tuple[Article, int, int]]:
    """Every article, newest first, with the number and total of donations attributed to it."""
    totals = (
        select(
            Donation.source_article_id.label("aid"),
            func.count().label("n"),
            func.sum(Donation.amount_cents + Donation.fee_cents).label("total"),
        )
        .where(Donation.status != DonationStatus.FAILED)
        .group_by(Donation.source_article_id)
        .subquery()
    )
    rows = session.execute(
        select(Article, func.coalesce(totals.c.n, 0), func.coalesce(totals.c.total, 0))
        .outerjoin(totals, totals.c.aid == Article.id)
        .order_by(Article.created_at.desc(), Article.id.desc())
    )
    return [(article, int(n), int(total)) for article, n, total in rows]


def save_as_staff(
    session: Session, actor: StaffMember, draft: ArticleDraft, *, existing: Article | None
) -> Article:
    """Create (`existing` None) or update an article. The slug may not collide with another
    article; publishing or unpublishing through the form is audited as such."""
    clash = session.scalar(select(Article).where(Article.slug == draft.slug))
    if clash is not None and clash is not existing:
        raise ArticleError(f"Another article already uses the address {draft.slug!r}.")
    was_status = existing.status if existing is not None else None
    if existing is not None and existing.slug != draft.slug:
        existing.slug = draft.slug
        session.flush()
    if existing is not None:
        # Keep the original publication time when an already published article is edited.
        draft = replace(draft, published_at=draft.published_at or existing.published_at)
    article = save_article(session, draft)
    action = "article.created" if existing is None else "article.updated"
    audit.record(session, actor, action, target_type="article", target_id=article.id,
                 details={"slug": article.slug, "title": article.title})  # fmt: skip
    if was_status is not article.status and article.status is ArticleStatus.PUBLISHED:
        audit.record(session, actor, "article.published", target_type="article",
                     target_id=article.id, details={"slug": article.slug})  # fmt: skip
    elif was_status is ArticleStatus.PUBLISHED and article.status is ArticleStatus.DRAFT:
        audit.record(session, actor, "article.unpublished", target_type="article",
                     target_id=article.id, details={"slug": article.slug})  # fmt: skip
    return article


def set_published(
    session: Session, actor: StaffMember, article: Article, published: bool
) -> Article:
    status = ArticleStatus.PUBLISHED if published else ArticleStatus.DRAFT
    if article.status is status:
        return article
    saved = save_article(
        session,
        ArticleDraft(
            slug=article.slug,
            title=article.title,
            body_markdown=article.body_markdown,
            standfirst=article.standfirst,
            author=article.author,
            published_at=article.published_at if published else None,
            status=status,
        ),
    )
    audit.record(
        session,
        actor,
        "article.published" if published else "article.unpublished",
        target_type="article",
        target_id=saved.id,
        details={"slug": saved.slug},
    )
    return saved


@dataclass(frozen=True)
class ArticleMoney:
    count: int
    total: int
    recent: list[Donation]


def article_donations(session: Session, article: Article, limit: int = 50) -> ArticleMoney:
    """The money attributed to one article: how many payments, their total, the latest ones."""
    counted = (Donation.source_article_id == article.id, Donation.status != DonationStatus.FAILED)
    count, total = session.execute(
        select(
            func.count(), func.coalesce(func.sum(Donation.amount_cents + Donation.fee_cents), 0)
        ).where(*counted)
    ).one()
    recent = session.scalars(
        select(Donation).where(*counted).order_by(Donation.paid_at.desc()).limit(limit)
    ).all()
    return ArticleMoney(int(count), int(total), list(recent))
