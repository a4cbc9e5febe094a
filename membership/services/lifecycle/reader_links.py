"""What a reader's click on a lifecycle email does: follow a link (noting, once, that the
message's link was opened) or unsubscribe from that kind of email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import LifecycleMessage
from membership.services.errors import ServiceError
from membership.services.lifecycle.links import read_tracked_link, read_unsubscribe_link
from membership.services.lifecycle.sending import opt_out, opted_out

GROUP_TITLES = {
    "welcome": "the welcome note",
    "upgrade_ask": "invitations to give monthly",
    "win_back": "invitations to support us again",
    "dunning": "reminders about a failed payment",
    "card_expiring": "notes about an expiring card",
    "year_in_review": "the yearly review of your giving",
}


class LifecycleLinkError(ServiceError):
    """A link we did not sign (or mangled by a mail program)."""


def follow_link(session: Session, config: Config, token: str, *, now: datetime) -> str:
    """Where the link goes; the message's first opening is recorded (no more than that)."""
    link = read_tracked_link(config, token)
    if link is None:
        raise LifecycleLinkError("That link is not complete. Copy the whole link from the email.")
    message_id, target = link
    session.execute(
        update(LifecycleMessage)
        .where(LifecycleMessage.id == message_id, LifecycleMessage.link_opened_at.is_(None))
        .values(link_opened_at=now)
        .execution_options(synchronize_session=False)
    )
    return target


@dataclass(frozen=True)
class Unsubscribe:
    what: str  # "reminders about a failed payment"
    done: bool


def _request(config: Config, token: str) -> tuple[int, str]:
    request = read_unsubscribe_link(config, token)
    if request is None or request.group not in GROUP_TITLES:
        raise LifecycleLinkError(
            "That unsubscribe link is not complete. Copy the whole link from the email."
        )
    return request.supporter_id, request.group


def unsubscribe_page(session: Session, config: Config, token: str) -> Unsubscribe:
    supporter_id, group = _request(config, token)
    return Unsubscribe(GROUP_TITLES[group], opted_out(session, supporter_id, group))


def unsubscribe(session: Session, config: Config, token: str, *, now: datetime) -> Unsubscribe:
    supporter_id, group = _request(config, token)
    opt_out(session, supporter_id, group, now=now)
    return Unsubscribe(GROUP_TITLES[group], True)
