"""Staff accounts: created from the CLI, managed by admins in the staff area (audited)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.addresses import is_mailable
from membership.models import StaffMember, StaffRole
from membership.services.errors import ServiceError
from membership.services.staff import audit


class StaffError(ServiceError):
    """A staff account could not be created or changed; the message says why."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_or_update_staff(
    session: Session, *, email: str, role: str, name: str = ""
) -> StaffMember:
    address = normalize_email(email)
    if not is_mailable(address):
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


# Managing accounts from the staff area (admins only); every change is audited.


def list_staff(session: Session) -> list[StaffMember]:
    return list(
        session.scalars(select(StaffMember).order_by(StaffMember.active.desc(), StaffMember.email))
    )


def _other_active_admins(session: Session, member: StaffMember) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                StaffMember.role == StaffRole.ADMIN,
                StaffMember.active.is_(True),
                StaffMember.id != member.id,
            )
        )
        or 0
    )


def add_staff(
    session: Session, actor: StaffMember, *, email: str, role: str, name: str = ""
) -> StaffMember:
    address = normalize_email(email)
    if session.scalar(select(StaffMember.id).where(StaffMember.email == address)) is not None:
        raise StaffError(f"{address} already has a staff account; change its role instead.")
    member = create_or_update_staff(session, email=address, role=role, name=name)
    audit.record(
        session,
        actor,
        "staff.created",
        target_type="staff",
        target_id=member.id,
        details={"email": member.email, "role": member.role.value},
    )
    return member


def change_staff(
    session: Session, actor: StaffMember, member: StaffMember, *, role: str, active: bool
) -> StaffMember:
    """Change a member's role and/or whether they may sign in. The last active admin stays an
    active admin, so nobody can lock the newsroom out of its own staff area."""
    try:
        new_role = StaffRole(role)
    except ValueError:
        raise StaffError(f"Role must be one of {', '.join(r.value for r in StaffRole)}.") from None
    losing_admin = member.role is StaffRole.ADMIN and member.active
    if (
        losing_admin
        and (new_role is not StaffRole.ADMIN or not active)
        and not _other_active_admins(session, member)
    ):
        raise StaffError("This is the last active admin: make someone else an admin first.")
    if member.role is not new_role:
        audit.record(
            session,
            actor,
            "staff.role_changed",
            target_type="staff",
            target_id=member.id,
            details={"email": member.email, "from": member.role.value, "to": new_role.value},
        )
        member.role = new_role
    if member.active != active:
        audit.record(
            session,
            actor,
            "staff.reactivated" if active else "staff.deactivated",
            target_type="staff",
            target_id=member.id,
            details={"email": member.email},
        )
        member.active = active
    session.flush()
    return member
