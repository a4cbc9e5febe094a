"""The audit log: one entry per staff action worth answering for, written in the action's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.models import AuditEntry, StaffMember, utcnow

# What the log records; the page and the tests read these names.
ACTIONS = {
    "article.created": "created an article",
    "article.updated": "edited an article",
    "article.published": "published an article",
    "article.unpublished": "unpublished an article",
    "banner.created": "created a banner variant",
    "banner.updated": "changed a banner variant",
    "banner.started": "started a banner variant",
    "banner.stopped": "stopped a banner variant",
    "campaign.created": "created a campaign",
    "campaign.updated": "changed a campaign",
    "refund.requested": "asked Stripe for a refund",
    "receipt.resent": "resent a receipt",
    "report.exported": "downloaded a report",
    "supporter.viewed": "viewed a supporter's details",
    "supporters.searched": "listed or searched supporters",
    "subscriber.viewed": "viewed a newsletter subscriber",
    "newsletter.listed": "listed newsletter subscribers",
    "newsletter.exported": "downloaded the newsletter list",
    "newsletter.imported": "imported newsletter subscribers",
    "newsletter.sent": "sent a newsletter issue",
    "staff.created": "created a staff account",
    "staff.role_changed": "changed a staff member's role",
    "staff.deactivated": "deactivated a staff account",
    "lifecycle.changed": "changed a lifecycle email",
    "staff.reactivated": "reactivated a staff account",
    "api_token.created": "created an API token",
    "api_token.revoked": "revoked an API token",
    "webhook.added": "added a webhook endpoint",
    "webhook.removed": "removed a webhook endpoint",
    "webhook.enabled": "re-enabled a webhook endpoint",
    "webhook.resent": "resent a webhook delivery",
}


def record(
    session: Session,
    actor: StaffMember,
    action: str,
    *,
    target_type: str = "",
    target_id: object = "",
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        created_at=now or utcnow(),
        actor_id=actor.id,
        actor_email=actor.email,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:80],
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int
    pages: int


def audit_page(
    session: Session, number: int, per_page: int = 50, action: str | None = None
) -> AuditPage | None:
    """Newest first; None when the page does not exist."""
    condition = AuditEntry.action == action if action else None
    count_query = select(func.count()).select_from(AuditEntry)
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if condition is not None:
        count_query = count_query.where(condition)
        query = query.where(condition)
    total = session.scalar(count_query) or 0
    pages = max(1, -(-total // per_page))
    if number < 1 or number > pages:
        return None
    entries = session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    return AuditPage(entries=list(entries), number=number, pages=pages)
