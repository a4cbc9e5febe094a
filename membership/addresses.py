"""Email addresses we can mail: one rule (the maintained `email-validator` library, no DNS
look-ups) for every form, the imports and the mailer."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def address_problem(raw: str) -> str | None:
    """Why this is not an address we can mail, in plain words; None when it is fine.

    Refused: anything but one plain address (no display name, no list, no quoting), addresses
    our SMTP mailer cannot send to (non-ASCII local parts), and reserved domains.
    """
    address = raw.strip()
    if not address:
        return "empty"
    if len(address) > 254:
        return "too long to be an email address"
    if CONTROL_RE.search(address):
        return "not an email address"
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return "not an email address"
    return None


def is_mailable(raw: str) -> bool:
    return address_problem(raw) is None
