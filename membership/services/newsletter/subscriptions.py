"""Joining and leaving the list: double opt-in, unsubscribes, and a supporter's own switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import already_subscribed_email, confirmation_email
from membership.models import (
    ConsentKind,
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    Subscriber,
    SubscriberStatus,
    Supporter,
    utcnow,
)
from membership.services.integrations import events
from membership.services.newsletter.consent import (
    CURRENT_WORDING,
    confirm,
    consent_wording,
    hash_ip,
    last_request,
    record_consent,
)
from membership.services.newsletter.links import (
    confirm_url,
    confirmation_expired,
    confirmation_token,
    subscriber_of_confirmation,
    subscriber_of_unsubscribe,
)
from membership.services.newsletter.welcome import queue_newsletter_welcome
from membership.services.outbox import queue_email
from membership.services.sql import insert_or_ignore
from membership.services.supporters import normalize_email


@dataclass(frozen=True)
class LinkPage:
    """What the page behind a confirmation or unsubscribe link shows: whose it is and whether
    there is anything left to do."""

    address: str
    done: bool


def _find_or_create_subscriber(
    session: Session, address: str, *, source: str, now: datetime
) -> Subscriber:
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        # Two requests for a new address at once both insert; the constraint keeps one row.
        insert_or_ignore(
            session,
            Subscriber,
            {
                "email": address,
                "status": SubscriberStatus.PENDING,
                "source": source[:120],
                "created_at": now,
            },
            ["email"],
        )
        subscriber = session.scalars(select(Subscriber).where(Subscriber.email == address)).one()
    if subscriber.supporter_id is None:
        subscriber.supporter_id = session.scalar(
            select(Supporter.id).where(Supporter.email == address)
        )
    return subscriber


def request_subscription(
    session: Session,
    config: Config,
    *,
    email: str,
    source: str,
    wording_version: str,
    ip: str | None,
    now: datetime | None = None,
) -> None:
    """Someone asked to subscribe this address. Returns nothing on purpose: the caller must answer
    the same way whether the address is new, pending, confirmed or unsubscribed.

    Pending and unsubscribed addresses get a (new) confirmation email and stay as they are until
    its link is followed, so nothing else reaches them. A confirmed address gets a short note
    saying it is already on the list, which helps the person and tells a stranger nothing.
    """
    when = now or utcnow()
    address = normalize_email(email)
    subscriber = _find_or_create_subscriber(session, address, source=source, now=when)
    session.flush()
    if subscriber.status is SubscriberStatus.CONFIRMED:
        queue_email(session, already_subscribed_email(config, to=address), now=when)
        return
    record_consent(
        session,
        subscriber,
        ConsentKind.SUBSCRIBE,
        source=source,
        now=when,
        wording_version=wording_version,
        ip_hash=hash_ip(config, ip),
    )
    subscriber.confirmation_sent_at = when
    composed = confirmation_email(
        config,
        to=address,
        confirm_url=confirm_url(config, confirmation_token(config, subscriber)),
        wording=consent_wording(config, wording_version),
    )
    queue_email(session, composed, now=when)
    session.flush()


def _confirmable(session: Session, config: Config, token: str) -> Subscriber:
    subscriber, issued = subscriber_of_confirmation(session, config, token)
    # A link mailed before the person unsubscribed must not sign them up again.
    if (
        subscriber.unsubscribed_at is not None
        and subscriber.status is SubscriberStatus.UNSUBSCRIBED
        and issued < subscriber.unsubscribed_at.replace(microsecond=0)
    ):
        raise confirmation_expired("issued before the last unsubscribe")
    return subscriber


def confirmation_page(session: Session, config: Config, token: str) -> LinkPage:
    """The page a confirmation link opens; raises NewsletterTokenError for a link that won't do."""
    subscriber = _confirmable(session, config, token)
    return LinkPage(subscriber.email, subscriber.status is SubscriberStatus.CONFIRMED)


def confirm_subscription(
    session: Session,
    config: Config,
    token: str,
    *,
    ip: str | None,
    now: datetime | None = None,
) -> Subscriber:
    """Complete the double opt-in. Confirming twice is harmless and records nothing new."""
    subscriber = _confirmable(session, config, token)
    if subscriber.status is SubscriberStatus.CONFIRMED:
        return subscriber
    asked = last_request(session, subscriber)
    when = now or utcnow()
    confirm(
        session,
        subscriber,
        source=asked.source if asked else "confirmation-link",
        wording_version=asked.wording_version if asked else CURRENT_WORDING,
        ip_hash=hash_ip(config, ip),
        now=when,
    )
    queue_newsletter_welcome(session, config, subscriber, now=when)
    return subscriber


def _masked(address: str) -> str:
    """Enough of the address to recognise it; a forwarded email's link shows no one else's."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def unsubscribe_page(session: Session, config: Config, token: str) -> LinkPage:
    """The page an unsubscribe link opens, with the address masked; raises NewsletterTokenError
    (TestEmailLink for a staff test copy)."""
    subscriber = subscriber_of_unsubscribe(session, config, token)
    return LinkPage(_masked(subscriber.email), subscriber.status is SubscriberStatus.UNSUBSCRIBED)


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    *,
    source: str,
    ip_hash: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the address off the list at once; True if it was on it. Issue emails still waiting for
    this person (as delivery rows or in the outbox) are cancelled, so an unsubscribe wins over a
    send in progress."""
    when = now or utcnow()
    if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = when
    record_consent(
        session, subscriber, ConsentKind.UNSUBSCRIBE, source=source, now=when, ip_hash=ip_hash
    )
    # Rows still waiting for their message first: on PostgreSQL this waits for a worker making
    # this person's copy right now, so the update of queued messages below then sees that copy.
    session.execute(
        update(IssueDelivery)
        .where(
            IssueDelivery.subscriber_id == subscriber.id,
            IssueDelivery.email_message_id.is_(None),
            IssueDelivery.not_sent_reason.is_(None),
        )
        .values(not_sent_reason="not sent: the reader unsubscribed")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.status == EmailStatus.QUEUED,
            EmailMessage.id.in_(
                select(IssueDelivery.email_message_id).where(
                    IssueDelivery.subscriber_id == subscriber.id
                )
            ),
        )
        .values(status=EmailStatus.FAILED, last_error="not sent: the reader unsubscribed")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    events.subscriber_event(session, "subscriber.unsubscribed", subscriber, now=when)
    return True


def unsubscribe_with_token(
    session: Session,
    config: Config,
    token: str,
    *,
    ip: str | None,
    source: str = "list-unsubscribe",
    now: datetime | None = None,
) -> Subscriber:
    """RFC 8058 one-click or the page's button: the signed link is the authorisation."""
    subscriber = subscriber_of_unsubscribe(session, config, token)
    unsubscribe(session, subscriber, source=source, ip_hash=hash_ip(config, ip), now=now)
    return subscriber


def link_supporter(session: Session, supporter: Supporter) -> Subscriber | None:
    """Hook for whoever creates a supporter: attach the subscriber with the same address."""
    if not supporter.email:
        return None
    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.email == normalize_email(supporter.email))
    )
    if subscriber is not None and subscriber.supporter_id is None:
        subscriber.supporter_id = supporter.id
        session.flush()
    return subscriber


def supporter_subscription(session: Session, supporter: Supporter) -> SubscriberStatus | None:
    """For the supporter's preferences page: their list status, None if never on the list."""
    if not supporter.email:
        return None
    return session.scalar(
        select(Subscriber.status).where(Subscriber.email == normalize_email(supporter.email))
    )


def set_supporter_subscription(
    session: Session,
    supporter: Supporter,
    subscribed: bool,
    source: str = "account",
    *,
    ip_hash: str | None = None,
    now: datetime | None = None,
) -> Subscriber | None:
    """A signed-in supporter switched the newsletter on or off in their preferences.

    Signing in proved they own the address (the magic link is the second opt-in), so switching on
    confirms at once; the consent event records the current wording and the account as source.
    """
    when = now or utcnow()
    if not supporter.email:
        return None
    address = normalize_email(supporter.email)
    if not subscribed:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
        if subscriber is not None:
            unsubscribe(session, subscriber, source=source, ip_hash=ip_hash, now=when)
        return subscriber
    subscriber = _find_or_create_subscriber(session, address, source=source, now=when)
    subscriber.supporter_id = supporter.id
    session.flush()
    confirm(
        session,
        subscriber,
        source=source,
        wording_version=CURRENT_WORDING,
        ip_hash=ip_hash,
        now=when,
        basis="switched on in the supporter's account (address verified by sign-in)",
    )
    return subscriber
