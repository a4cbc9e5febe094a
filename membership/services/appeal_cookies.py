"""The appeal's signed cookies: what they may say, and nothing personal.

- The impression cookie says "this browser saw variant V" under a random reader id: a click on a
  banner link counts only with it, once per reader, variant and day.
- The recent-donor cookie says "this browser gave, once or recurring": the appeal turns into a
  thank-you for a while. It names no person, amount or gift.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

IMPRESSION_COOKIE = "obs_impression"
RECENT_DONOR_COOKIE = "obs_gave"
IMPRESSION_SECONDS = 86400
_IMPRESSION_SALT = "banner-impression"
_DONOR_SALT = "recent-donor"
_READER_LENGTH = 32
_KINDS = ("once", "recurring")


@dataclass(frozen=True)
class Impression:
    reader: str  # random hex, made for this browser by /api/banner or the no-script pixel
    variant_id: int


def new_reader() -> str:
    return secrets.token_hex(_READER_LENGTH // 2)


def impression_cookie(secret: str, impression: Impression) -> str:
    serializer = URLSafeTimedSerializer(secret, salt=_IMPRESSION_SALT)
    return str(serializer.dumps([impression.reader, impression.variant_id]))


def read_impression(secret: str, value: str | None) -> Impression | None:
    """The impression a cookie vouches for; None when it is missing, forged or a day old."""
    if not value or len(value) > 200:
        return None
    try:
        data = URLSafeTimedSerializer(secret, salt=_IMPRESSION_SALT).loads(
            value, max_age=IMPRESSION_SECONDS
        )
    except BadData:
        return None
    if (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], str)
        and len(data[0]) == _READER_LENGTH
        and isinstance(data[1], int)
    ):
        return Impression(reader=data[0], variant_id=data[1])
    return None


def recent_donor_cookie(secret: str, *, recurring: bool) -> str:
    serializer = URLSafeTimedSerializer(secret, salt=_DONOR_SALT)
    return str(serializer.dumps("recurring" if recurring else "once"))


def read_recent_donor(secret: str, value: str | None, *, quiet_days: int) -> str | None:
    """ "once" or "recurring" while the cookie is younger than `quiet_days`; else None."""
    if not value or len(value) > 200 or quiet_days <= 0:
        return None
    try:
        kind = URLSafeTimedSerializer(secret, salt=_DONOR_SALT).loads(
            value, max_age=quiet_days * 86400
        )
    except BadData:
        return None
    return kind if kind in _KINDS else None
