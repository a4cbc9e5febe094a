"""Queueing one lifecycle email: only when its kind is on, the supporter can be mailed (an address,
not bouncing or suppressed) and has not unsubscribed from it; once per (supporter, kind, period), however often or concurrently asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.lifecycle import lifecycle_email
from membership.models import LifecycleMessage, LifecycleOptOut, Supporter
from membership.services.lifecycle.kinds import KINDS
from membership.services.lifecycle.links import tracked_link, unsubscribe_link
from membership.services.lifecycle.settings import setting_for
from membership.services.outbox import queue_email_or_record_failure
from membership.services.sql import insert_or_ignore
from membership.services.suppression import is_suppressed


def first_name(supporter: Supporter) -> str:
    parts = supporter.name.split()
    return parts[0] if parts else "friend"


def opted_out(session: Session, supporter_id: int, group: str) -> bool:
    return session.get(LifecycleOptOut, (supporter_id, group)) is not None


def opt_out(session: Session, supporter_id: int, group: str, *, now: datetime) -> bool:
    """Record the unsubscribe; False when it was recorded before (or the supporter is gone)."""
    if session.get(Supporter, supporter_id) is None:
        return False
    row = insert_or_ignore(
        session,
        LifecycleOptOut,
        {"supporter_id": supporter_id, "kind_group": group, "created_at": now},
        ["supporter_id", "kind_group"],
    )
    return row is not None


def set_opt_outs(
    session: Session, supporter_id: int, groups: Sequence[str], *, opted_out: bool, now: datetime
) -> None:
    """The account page's switches: each group declined, or all of them wanted again."""
    if opted_out:
        for group in groups:
            opt_out(session, supporter_id, group, now=now)
    else:
        session.execute(
            delete(LifecycleOptOut).where(
                LifecycleOptOut.supporter_id == supporter_id,
                LifecycleOptOut.kind_group.in_(groups),
            )
        )


def opted_out_groups(session: Session, supporter_id: int) -> set[str]:
    return set(
        session.scalars(
            select(LifecycleOptOut.kind_group).where(LifecycleOptOut.supporter_id == supporter_id)
        )
    )


def queue_lifecycle(
    session: Session,
    kind_name: str,
    supporter: Supporter,
    period: str,
    *,
    values: Mapping[str, str],
    links: Mapping[str, str],
    config: Config,
    now: datetime,
) -> LifecycleMessage | None:
    """Queue the email, or None when it is off, not wanted, not deliverable or already sent.
    An address the mailer refuses is recorded as a failed email (the webhook that queues day 0
    must not fail over it, nor a daily run over one supporter).

    `links` are placeholders whose targets go through our signed redirect, which notes when the
    message's link was first opened (the staff page's "opened the link").
    """
    kind = KINDS[kind_name]
    setting = setting_for(session, kind)
    email = supporter.email
    if not setting.enabled or email is None or not supporter.active:
        return None
    if opted_out(session, supporter.id, kind.group) or is_suppressed(session, email):
        return None
    message = insert_or_ignore(
        session,
        LifecycleMessage,
        {"supporter_id": supporter.id, "kind": kind.name, "period": period, "created_at": now},
        ["supporter_id", "kind", "period"],
    )
    if message is None:
        return None
    base = config.base_url.rstrip("/")
    targets = {"account_link": f"{base}/account", **links}
    filled = {
        "first_name": first_name(supporter),
        "publication_name": config.publication_name,
        **values,
        **{name: tracked_link(config, message.id, url) for name, url in targets.items()},
    }
    queued = queue_email_or_record_failure(
        session,
        lifecycle_email(
            config,
            setting.copy,
            kind=kind.name,
            to=email,
            values=filled,
            unsubscribe_url=unsubscribe_link(config, supporter.id, kind.group),
        ),
        dedupe_key=f"lifecycle:{kind.name}:{supporter.id}:{period}"[:200],
        now=now,
    )
    message.email_message_id = queued.id if queued is not None else None
    session.flush()
    return message
