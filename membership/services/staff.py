"""Staff accounts."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import StaffMember, StaffRole

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class StaffError(ValueError):
    """A staff account could not be created; the message says why."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_or_update_staff(
    session: Session, *, email: str, role: str, name: str = ""
) -> StaffMember:
    address = normalize_email(email)
    if not EMAIL_RE.match(address) or len(address) > 320:
        raise StaffError(f"{email!r} is not an email address.")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise StaffError(f"Role must be one of {', '.join(r.value for r in StaffRole)}.") from None
    member = session.scalar(select(StaffMember).where(StaffMember.email == address))
    if member is None:
        member = StaffMember(email=address, role=staff_role, name=name)
        session.add(member)
    member.role = staff_role
    if name:
        member.name = name
    member.active = True
    session.flush()
    return member
