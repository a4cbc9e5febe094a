"""Signed newsletter links: confirmation (expires) and unsubscribe (never does), bound to an address.

A token carries the subscriber's id and a keyed tag of their address, never the address itself,
so a forwarded link tells nobody whose it is, and a link stops working if the row's address
changes. Errors carry the words a reader sees for that kind of link.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import datetime

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    URLSafeTimedSerializer,
    want_bytes,
)
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Subscriber
from membership.services.errors import ServiceError

CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_TOKEN_LENGTH = 300
_CONFIRM_SALT = "newsletter-confirm"
_UNSUBSCRIBE_SALT = "newsletter-unsubscribe"


class NewsletterTokenError(ServiceError):
    """A confirmation or unsubscribe link that is not ours, was altered, or no longer applies."""


class TestEmailLink(NewsletterTokenError):
    """A genuine unsubscribe link from a staff test send (subscriber 0): there is nothing to do."""


class ConfirmationExpired(NewsletterTokenError):
    """A genuine confirmation link that is too old, or older than the person's last unsubscribe."""


def _incomplete(link: str, detail: str) -> NewsletterTokenError:
    return NewsletterTokenError(
        f"That {link} link is not complete. Copy the whole link from the email.", detail=detail
    )


def confirmation_expired(detail: str) -> ConfirmationExpired:
    return ConfirmationExpired(
        "That confirmation link has expired. Sign up again and we'll send a fresh one.",
        detail=detail,
    )


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


def confirm_url(config: Config, token: str) -> str:
    return f"{config.base_url.rstrip('/')}/newsletter/confirm/{token}"


def unsubscribe_url(config: Config, token: str) -> str:
    return f"{config.base_url.rstrip('/')}/newsletter/unsubscribe/{token}"


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
        if len(token) > MAX_TOKEN_LENGTH:
            raise _incomplete("unsubscribe", "link too long")
        try:
            value = self.signer.unsign(token).decode()
        except BadSignature:
            raise _incomplete("unsubscribe", "bad signature") from None
        raw_id, _, tag = value.partition("-")
        if not raw_id.isdigit() or len(raw_id) > 12 or not tag:
            raise _incomplete("unsubscribe", "unexpected payload")
        return int(raw_id), tag


def _load_confirmation(config: Config, token: str) -> tuple[int, str, datetime]:
    """(subscriber id, address tag, when the link was issued) of a genuine, unexpired link."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise _incomplete("confirmation", "link too long")
    try:
        payload, issued = URLSafeTimedSerializer(config.secret_key, salt=_CONFIRM_SALT).loads(
            token, max_age=CONFIRM_MAX_AGE_SECONDS, return_timestamp=True
        )
    except SignatureExpired:
        raise confirmation_expired("link expired") from None
    except BadSignature:
        raise _incomplete("confirmation", "bad signature") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise _incomplete("confirmation", "unexpected payload")
    return payload[0], payload[1], issued


def _subscriber_for(
    session: Session, config: Config, subscriber_id: int, tag: str, *, link: str
) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or not hmac.compare_digest(tag, _address_tag(config, subscriber.email)):
        raise _incomplete(link, "no such subscriber")
    return subscriber


def subscriber_of_confirmation(
    session: Session, config: Config, token: str
) -> tuple[Subscriber, datetime]:
    """The subscriber a confirmation link is for, and when it was issued; raises when forged,
    altered or expired."""
    subscriber_id, tag, issued = _load_confirmation(config, token)
    return _subscriber_for(session, config, subscriber_id, tag, link="confirmation"), issued


def subscriber_of_unsubscribe(session: Session, config: Config, token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for; raises when forged or altered, and
    TestEmailLink for the link in a staff test copy."""
    subscriber_id, tag = UnsubscribeSigner(config).load(token)
    if subscriber_id == 0:
        raise TestEmailLink(
            "This link came from a test copy of the newsletter. Nothing was changed.",
            detail="from a test send",
        )
    return _subscriber_for(session, config, subscriber_id, tag, link="unsubscribe")
