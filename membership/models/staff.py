"""Newsroom staff accounts and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, LoginMixin, str_enum, utcnow


class StaffRole(enum.StrEnum):
    EDITOR = "editor"
    FINANCE = "finance"
    ADMIN = "admin"


class StaffMember(LoginMixin, Base):
    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: addresses are compared case-insensitively.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the signed-in id: raising it signs this person out on every device.
    login_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def get_id(self) -> str:
        return f"staff:{self.id}:{self.login_epoch or 0}"
