"""The newsletter list: double opt-in, the consent ledger, unsubscribes and supporter links."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    URLSafeTimedSerializer,
    want_bytes,
)
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import (
    ConsentEvent,
    ConsentKind,
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    Subscriber,
    SubscriberStatus,
    Supporter,
    utcnow,
)
from membership.services.outbox import enqueue_email
from membership.services.privacy import Row, register_personal_data, row_dict
from membership.services.sql import insert_or_ignore
from membership.services.supporters import normalize_email

# The exact words a reader agrees to, by version. A version is never edited once used: change the
# wording by adding a version and pointing CURRENT_WORDING at it. Forms send the version they
# showed, so a page cached before a change still records the words that reader actually saw.
CONSENT_WORDINGS = {
    "2026-11-a": (
        "Email me {newsletter}, the newsletter of {publication}, about once a week. "
        "I can unsubscribe at any time with the link in every email."
    ),
}
CURRENT_WORDING = "2026-11-a"
CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
_CONFIRM_SALT = "newsletter-confirm"
_UNSUBSCRIBE_SALT = "newsletter-unsubscribe"


class NewsletterTokenError(ValueError):
    """A confirmation or unsubscribe link that is not ours, was altered, or no longer applies."""


class TestEmailLink(NewsletterTokenError):
    """A genuine unsubscribe link from a staff test send (subscriber 0): there is nothing to do."""


class ConfirmationExpired(NewsletterTokenError):
    """A genuine confirmation link that is too old, or older than the person's last unsubscribe."""


def consent_wording(config: Config, version: str = CURRENT_WORDING) -> str:
    return CONSENT_WORDINGS[version].format(
        newsletter=config.newsletter_name, publication=config.publication_name
    )


def hash_ip(config: Config, ip: str | None) -> str | None:
    """Keyed with the secret, so the hash cannot be reversed by trying all IPv4 addresses."""
    if not ip:
        return None
    digest = hmac.new(config.secret_key.encode(), f"ip:{ip}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _address_tag(config: Config, email: str) -> str:
    """Binds a token to the address it was made for, without putting the address in the link."""
    digest = _tag_hmac(config.secret_key).copy()
    digest.update(f"addr:{email}".encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def _tag_hmac(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


class _KeyCachingSigner(Signer):
    """itsdangerous derives the signing key from the secret and salt on every signature; a send
    signs one link per subscriber, so derive it once per secret and salt. Same tokens."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        cache_key = (secret, want_bytes(self.salt), self.key_derivation, self.digest_method)
        key = _DERIVED_KEYS.get(cache_key)
        if key is None:
            key = super().derive_key(secret)
            if len(_DERIVED_KEYS) > 16:
                _DERIVED_KEYS.clear()
            _DERIVED_KEYS[cache_key] = key
        return key


_DERIVED_KEYS: dict[tuple[bytes, bytes, str, object], bytes] = {}


def confirmation_token(config: Config, subscriber: Subscriber) -> str:
    serializer = URLSafeTimedSerializer(config.secret_key, salt=_CONFIRM_SALT)
    return str(serializer.dumps([subscriber.id, _address_tag(config, subscriber.email)]))


class UnsubscribeSigner:
    """Makes unsubscribe tokens "<id>-<address tag>.<signature>" with itsdangerous's Signer, and no
    expiry: a link in a years-old email must still work. A plain signed string rather than a
    serialized one, and one instance per send, because a send signs a link per subscriber."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.signer = _KeyCachingSigner(config.secret_key, salt=_UNSUBSCRIBE_SALT)

    def token(self, subscriber_id: int, email: str) -> str:
        return self.signer.sign(f"{subscriber_id}-{_address_tag(self.config, email)}").decode()

    def url(self, subscriber_id: int, email: str) -> str:
        return unsubscribe_url(self.config, self.token(subscriber_id, email))

    def load(self, token: str) -> tuple[int, str]:
        """(subscriber id, address tag); raises NewsletterTokenError when not genuine."""
        if len(token) > 300:
            raise NewsletterTokenError("link too long")
        try:
            value = self.signer.unsign(token).decode()
        except BadSignature:
            raise NewsletterTokenError("bad signature") from None
        raw_id, _, tag = value.partition("-")
        if not raw_id.isdigit() or len(raw_id) > 12 or not tag:
            raise NewsletterTokenError("unexpected payload")
        return int(raw_id), tag


def unsubscribe_url(config: Config, token: str) -> str:
    return f"{config.base_url.rstrip('/')}/newsletter/unsubscribe/{token}"


def confirm_url(config: Config, token: str) -> str:
    return f"{config.base_url.rstrip('/')}/newsletter/confirm/{token}"


def list_unsubscribe_headers(config: Config, url: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (HTTPS first, then mailto) and RFC 8058 one-click."""
    mailbox = config.newsletter_unsubscribe_email or config.publication_email
    return {
        "List-Unsubscribe": f"<{url}>, <mailto:{mailbox}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{config.newsletter_name} <newsletter.{mailbox.rpartition('@')[2]}>",
    }


def _load_token(
    config: Config, token: str, *, salt: str, max_age: int
) -> tuple[int, str, datetime]:
    if len(token) > 300:
        raise NewsletterTokenError("link too long")
    try:
        payload, issued = URLSafeTimedSerializer(config.secret_key, salt=salt).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise ConfirmationExpired("link expired") from None
    except BadSignature:
        raise NewsletterTokenError("bad signature") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise NewsletterTokenError("unexpected payload")
    return payload[0], payload[1], issued


def _subscriber_for(session: Session, config: Config, subscriber_id: int, tag: str) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or not hmac.compare_digest(tag, _address_tag(config, subscriber.email)):
        raise NewsletterTokenError("no such subscriber")
    return subscriber


def record_consent(
    session: Session,
    subscriber: Subscriber,
    kind: ConsentKind,
    *,
    source: str,
    now: datetime,
    wording_version: str | None = None,
    ip_hash: str | None = None,
    basis: str | None = None,
    staff_member_id: int | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        subscriber_id=subscriber.id,
        kind=kind,
        occurred_at=now,
        source=source[:120],
        wording_version=wording_version,
        ip_hash=ip_hash,
        basis=basis,
        staff_member_id=staff_member_id,
    )
    session.add(event)
    return event


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
        context = {"config": config, "manage_url": f"{config.base_url.rstrip('/')}/newsletter"}
        enqueue_email(
            session,
            kind="newsletter_already",
            to=address,
            subject=f"You're already subscribed to {config.newsletter_name}",
            text=render_template("emails/newsletter_already.txt", **context),
            now=when,
        )
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
    url = confirm_url(config, confirmation_token(config, subscriber))
    context = {"config": config, "confirm_url": url, "wording": consent_wording(config)}
    enqueue_email(
        session,
        kind="newsletter_confirm",
        to=address,
        subject=f"Please confirm your subscription to {config.newsletter_name}",
        text=render_template("emails/newsletter_confirm.txt", **context),
        html=render_template("emails/newsletter_confirm.html", **context),
        now=when,
    )
    session.flush()


def subscriber_for_confirmation(session: Session, config: Config, token: str) -> Subscriber:
    """The subscriber a confirmation link is for; raises when it is forged, altered or stale."""
    subscriber_id, tag, issued = _load_token(
        config, token, salt=_CONFIRM_SALT, max_age=CONFIRM_MAX_AGE_SECONDS
    )
    subscriber = _subscriber_for(session, config, subscriber_id, tag)
    # A link mailed before the person unsubscribed must not sign them up again.
    if (
        subscriber.unsubscribed_at is not None
        and subscriber.status is SubscriberStatus.UNSUBSCRIBED
        and issued < subscriber.unsubscribed_at.replace(microsecond=0)
    ):
        raise ConfirmationExpired("issued before the last unsubscribe")
    return subscriber


def confirm_subscription(
    session: Session,
    config: Config,
    token: str,
    *,
    ip: str | None,
    now: datetime | None = None,
) -> Subscriber:
    """Complete the double opt-in. Confirming twice is harmless and records nothing new."""
    when = now or utcnow()
    subscriber = subscriber_for_confirmation(session, config, token)
    if subscriber.status is SubscriberStatus.CONFIRMED:
        return subscriber
    came_back = subscriber.status is SubscriberStatus.UNSUBSCRIBED or (
        subscriber.confirmed_at is not None
    )
    asked = session.scalar(
        select(ConsentEvent)
        .where(
            ConsentEvent.subscriber_id == subscriber.id,
            ConsentEvent.kind == ConsentKind.SUBSCRIBE,
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = when
    subscriber.unsubscribed_at = None
    record_consent(
        session,
        subscriber,
        ConsentKind.RESUBSCRIBE if came_back else ConsentKind.CONFIRM,
        source=asked.source if asked else "confirmation-link",
        now=when,
        wording_version=asked.wording_version if asked else CURRENT_WORDING,
        ip_hash=hash_ip(config, ip),
    )
    session.flush()
    return subscriber


def subscriber_for_unsubscribe(session: Session, config: Config, token: str) -> Subscriber:
    subscriber_id, tag = UnsubscribeSigner(config).load(token)
    if subscriber_id == 0:
        raise TestEmailLink("from a test send")
    return _subscriber_for(session, config, subscriber_id, tag)


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    *,
    source: str,
    ip_hash: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the address off the list at once; True if it was on it. Issue emails still waiting in
    the outbox for this person are cancelled, so an unsubscribe wins over a send in progress."""
    when = now or utcnow()
    if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = when
    record_consent(
        session, subscriber, ConsentKind.UNSUBSCRIBE, source=source, now=when, ip_hash=ip_hash
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
    subscriber = subscriber_for_unsubscribe(session, config, token)
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
    if subscriber.status is not SubscriberStatus.CONFIRMED:
        came_back = subscriber.status is SubscriberStatus.UNSUBSCRIBED
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.confirmed_at = when
        subscriber.unsubscribed_at = None
        record_consent(
            session,
            subscriber,
            ConsentKind.RESUBSCRIBE if came_back else ConsentKind.CONFIRM,
            source=source,
            now=when,
            wording_version=CURRENT_WORDING,
            ip_hash=ip_hash,
            basis="switched on in the supporter's account (address verified by sign-in)",
        )
    session.flush()
    return subscriber


@dataclass(frozen=True)
class ConsentHistoryLine:
    kind: str
    occurred_at: datetime
    source: str
    wording_version: str | None
    basis: str | None


def consent_history(session: Session, subscriber_id: int) -> list[ConsentHistoryLine]:
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber_id)
        .order_by(ConsentEvent.id)
    )
    return [
        ConsentHistoryLine(e.kind.value, e.occurred_at, e.source, e.wording_version, e.basis)
        for e in events
    ]


def _subscribers_of(session: Session, supporter: Supporter) -> list[Subscriber]:
    keys = [Subscriber.supporter_id == supporter.id]
    if supporter.email:
        keys.append(Subscriber.email == normalize_email(supporter.email))
    return list(session.scalars(select(Subscriber).where(or_(*keys)).order_by(Subscriber.id)))


def export_newsletter_data(session: Session, supporter: Supporter) -> dict[str, list[Row]]:
    """The list rows about a supporter, for "download my data"."""
    subscribers = _subscribers_of(session, supporter)
    ids = [s.id for s in subscribers]
    consent = session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id.in_(ids)).order_by(ConsentEvent.id)
    )
    deliveries = session.scalars(
        select(IssueDelivery).where(IssueDelivery.subscriber_id.in_(ids)).order_by(IssueDelivery.id)
    )
    return {
        "subscriber": [row_dict(s) for s in subscribers],
        "consent_event": [row_dict(e) for e in consent],
        "issue_delivery": [row_dict(d) for d in deliveries],
    }


def erase_newsletter_data(session: Session, supporter: Supporter) -> None:
    """ "Delete my account" takes them off the list and forgets the list's rows about them.
    Deleted explicitly, child rows first: SQLite does not enforce ON DELETE CASCADE here."""
    ids = [s.id for s in _subscribers_of(session, supporter)]
    if not ids:
        return
    session.execute(delete(IssueDelivery).where(IssueDelivery.subscriber_id.in_(ids)))
    session.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id.in_(ids)))
    session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    session.flush()


register_personal_data(export_newsletter_data, erase_newsletter_data)
