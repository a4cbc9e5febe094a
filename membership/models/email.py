"""The email outbox: messages queued in the business transaction that causes them, sent by workers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, str_enum, utcnow


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class EmailMessage(Base):
    """One email to one recipient; `services.outbox` queues, claims and records it."""

    __tablename__ = "email_message"
    __table_args__ = (
        # The worker's query: due queued messages, and sending ones whose lease ran out.
        Index("ix_email_message_status_next_attempt_at", "status", "next_attempt_at"),
        # One kind's emails: the staff page's counts per status (the newsletter welcome has no
        # other record) and the purge of expired sign-in links.
        Index("ix_email_message_kind_status", "kind", "status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    # Empty when `render_data` is set: `membership.emails.deferred` renders the bodies from it
    # (by `kind`) when the message is sent or shown, so the queueing transaction does not.
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    render_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Extra headers such as List-Unsubscribe, name -> value.
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[EmailStatus] = mapped_column(str_enum(EmailStatus), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The lease: a worker that dies mid-batch loses its claim when this passes.
    claimed_until: Mapped[datetime | None]
    # Which claim holds the message, so a worker whose lease ran out cannot overwrite a newer claim.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The business event that caused the email ("receipt:in_123"); the same event never queues twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<EmailMessage {self.id} {self.kind} {self.status.value}>"


class EmailSuppression(Base):
    """An address we stop sending newsletters and lifecycle email to: it bounced (an SMTP 5xx),
    or an email provider's bounce or complaint list named it (`flask newsletter suppress`).
    Receipts and sign-in links are still attempted: a person may need them to fix their address."""

    __tablename__ = "email_suppression"

    # Lower-cased and trimmed, like subscriber and supporter addresses, so the joins use indexes.
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))  # bounce, complaint
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
