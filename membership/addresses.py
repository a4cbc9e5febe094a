"""Email addresses we can mail: one rule for forms, imports and the mailer."""

from __future__ import annotations

import re
from email.utils import parseaddr

# Control characters never belong in an address (and PostgreSQL refuses NUL in text).
EMAIL_RE = re.compile(
    r"^[^@\s<>\"'\x00-\x1f\x7f]{1,64}@[^@\s<>\"'\x00-\x1f\x7f]+\.[^@\s<>\"'.\x00-\x1f\x7f]{2,}$"
)

CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def address_problem(raw: str) -> str | None:
    """Why this is not an address we can mail, in plain words; None when it is fine."""
    address = raw.strip().lower()
    if not address:
        return "empty"
    if len(address) > 254:
        return "too long to be an email address"
    # The outbox refuses what parseaddr would read differently; refuse it here, at the door.
    if (
        not EMAIL_RE.match(address)
        or parseaddr(address)[1] != address
        or any(ord(ch) < 32 or ord(ch) == 127 or ch in ",;:()[]\\" for ch in address)
    ):
        return "not an email address"
    return None
