"""The signed links in lifecycle emails: a redirect that notes the message's link was opened, and
the per-kind unsubscribe link. Signed, so nobody can make our domain redirect elsewhere or
unsubscribe someone else."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from membership.config import Config
from membership.services.signed_links import read_pair, sign_pair

_LINK_SALT = "lifecycle-link"
_UNSUBSCRIBE_SALT = "lifecycle-unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    supporter_id: int
    group: str


def _serializer(config: Config, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(config.secret_key, salt=salt)


def _base(config: Config) -> str:
    return config.base_url.rstrip("/")


def tracked_link(config: Config, message_id: int, target: str) -> str:
    return f"{_base(config)}/lifecycle/go/{sign_pair(config.secret_key, _LINK_SALT, message_id, target)}"


def read_tracked_link(config: Config, token: str) -> tuple[int, str] | None:
    """(message id, where to go), or None for a token we did not sign."""
    return read_pair(config.secret_key, _LINK_SALT, token)


def unsubscribe_link(config: Config, supporter_id: int, group: str) -> str:
    token = _serializer(config, _UNSUBSCRIBE_SALT).dumps([supporter_id, group])
    return f"{_base(config)}/lifecycle/unsubscribe/{token}"


def read_unsubscribe_link(config: Config, token: str) -> UnsubscribeRequest | None:
    try:
        data = _serializer(config, _UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or not isinstance(data[1], str)
    ):
        return None
    return UnsubscribeRequest(data[0], data[1])
