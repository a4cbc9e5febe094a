"""Banner experiments as editors run them: edit a variant's copy, amounts and weight, start, stop
(audited)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import BannerVariant, Frequency, Placement, StaffMember
from membership.services.appeal_copy import copy_promise_problem
from membership.services.errors import ServiceError
from membership.services.staff import audit


class BannerError(ServiceError):
    """A variant could not be saved; the message says why, `field` which answer it is about."""

    def __init__(self, message: str, *, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class VariantChange:
    name: str
    headline: str
    body: str
    amounts: dict[str, list[int]]
    default_frequency: Frequency
    weight: int
    active: bool
    placement: Placement = Placement.ARTICLE
    article_count_threshold: int | None = None


def all_variants(session: Session) -> list[BannerVariant]:
    return list(session.scalars(select(BannerVariant).order_by(BannerVariant.id)))


def save_variant(
    session: Session, actor: StaffMember, change: VariantChange, *, variant: BannerVariant | None
) -> BannerVariant:
    """Create (`variant` None) or change a variant; names are unique, so reports can tell them
    apart. The audit entry of a change lists what changed."""
    clash = session.scalar(select(BannerVariant).where(BannerVariant.name == change.name))
    if clash is not None and clash is not variant:
        raise BannerError(f"Another variant is already called {change.name!r}.")
    problem = copy_promise_problem(
        f"{change.headline} {change.body}", change.amounts, change.default_frequency
    )
    if problem:
        raise BannerError(problem, field="body")
    before = _snapshot(variant) if variant is not None else None
    if variant is None:
        variant = BannerVariant(name=change.name)
        session.add(variant)
    variant.name = change.name
    variant.headline = change.headline
    variant.body = change.body
    variant.amounts = {k: list(v) for k, v in change.amounts.items()}
    variant.default_frequency = change.default_frequency
    variant.weight = change.weight
    variant.active = change.active
    variant.placement = change.placement
    variant.article_count_threshold = change.article_count_threshold
    session.flush()
    after = _snapshot(variant)
    if before is None:
        audit.record(session, actor, "banner.created", target_type="banner_variant",
                     target_id=variant.id, details=after)  # fmt: skip
    elif before != after:
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        audit.record(session, actor, "banner.updated", target_type="banner_variant",
                     target_id=variant.id, details=changed)  # fmt: skip
    return variant


def set_running(
    session: Session, actor: StaffMember, variant: BannerVariant, running: bool
) -> BannerVariant:
    if variant.active != running:
        variant.active = running
        session.flush()
        audit.record(
            session,
            actor,
            "banner.started" if running else "banner.stopped",
            target_type="banner_variant",
            target_id=variant.id,
            details={"name": variant.name},
        )
    return variant


def _snapshot(variant: BannerVariant) -> dict[str, object]:
    return {
        "name": variant.name,
        "headline": variant.headline,
        "body": variant.body,
        "amounts": {k: list(v) for k, v in sorted(variant.amounts.items())},
        "default_frequency": variant.default_frequency.value,
        "weight": variant.weight,
        "active": variant.active,
        "placement": variant.placement.value,
        "article_count_threshold": variant.article_count_threshold,
    }
