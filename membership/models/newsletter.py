"""The newsletter: subscribers, their consent history, issues and who each issue was queued for."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, str_enum, utcnow


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"  # asked to subscribe, has not followed the confirmation link
    CONFIRMED = "confirmed"  # receives the newsletter
    UNSUBSCRIBED = "unsubscribed"  # left; never mailed again unless they confirm again


class ConsentKind(enum.StrEnum):
    SUBSCRIBE = "subscribe"  # asked through a form; a confirmation email went out
    CONFIRM = "confirm"  # followed the confirmation link (double opt-in complete)
    UNSUBSCRIBE = "unsubscribe"
    RESUBSCRIBE = "resubscribe"  # confirmed again after having unsubscribed
    IMPORT = "import"  # added by staff from a file, on the consent basis recorded with it


class IssueStatus(enum.StrEnum):
    DRAFT = "draft"
    SENDING = "sending"  # being queued; a crash leaves it here and sending resumes
    SENT = "sent"  # a delivery row queued for every subscriber in its audience


class Subscriber(Base):
    """One address on the list. Addresses are stored trimmed and lower-cased, so the unique
    constraint is case-insensitive on every database (the check constraint keeps it that way)."""

    __tablename__ = "subscriber"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        Index("ix_subscriber_status_id", "status", "id"),
        Index("ix_subscriber_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[SubscriberStatus] = mapped_column(
        str_enum(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporter.id", ondelete="SET NULL"), index=True
    )
    # Where the address first came from ("footer:/articles/x", "newsletter-page", "import:x.csv").
    source: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmation_sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # When anything in the row last changed: the API's `updated_since` filter reads it.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} {self.status.value}>"


class ConsentEvent(Base):
    """The consent ledger: one row per thing a subscriber (or staff, for imports) did. Rows are only
    ever added, never changed, so the history can always be shown to the person or a regulator."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_subscriber_id_id", "subscriber_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"))
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The page or channel: "article:harbour-reopens", "footer:/", "list-unsubscribe", "account".
    source: Mapped[str] = mapped_column(String(120), default="")
    # The version of the consent wording the person saw (services.newsletter.consent.CONSENT_WORDINGS).
    wording_version: Mapped[str | None] = mapped_column(String(40))
    # HMAC of the IP address with the app's secret: comparable between events, not reversible.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # For imports: the consent basis staff declared; for others an optional note.
    basis: Mapped[str | None] = mapped_column(Text)
    staff_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )


class NewsletterIssue(Base):
    """One edition, written in Markdown by staff; rendered to HTML and text when saved."""

    __tablename__ = "newsletter_issue"
    __table_args__ = (
        CheckConstraint("length(subject) > 0", name="subject_not_empty"),
        # The scheduler's query: drafts whose time has come.
        Index("ix_newsletter_issue_status_scheduled_at", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IssueStatus] = mapped_column(str_enum(IssueStatus), default=IssueStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    send_started_at: Mapped[datetime | None]
    send_finished_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Who gets it (services.newsletter.audiences.AUDIENCES), and when it goes out by itself: a
    # draft with a time is scheduled; clearing the time cancels it until the send starts.
    audience: Mapped[str] = mapped_column(String(30), default="everyone", server_default="everyone")
    scheduled_at: Mapped[datetime | None]


class IssueDelivery(Base):
    """This issue is queued for this subscriber. The unique key is what makes sending idempotent:
    a resumed send skips everyone who already has a row.

    A send writes only these rows (one INSERT ... SELECT per batch); the outbox worker renders
    each reader's message, with their own unsubscribe link, when it hands the row to the outbox
    (`services.newsletter.delivery`) and records the message here. A row without a message and
    without `not_sent_reason` is still waiting."""

    __tablename__ = "issue_delivery"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_issue_delivery_issue_subscriber"),
        # The worker's query: rows still waiting for their message, oldest first. Partial, so it
        # holds only the rows of sends in progress.
        Index(
            "ix_issue_delivery_waiting",
            "id",
            sqlite_where=text("email_message_id IS NULL AND not_sent_reason IS NULL"),
            postgresql_where=text("email_message_id IS NULL AND not_sent_reason IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("newsletter_issue.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    email_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_message.id", ondelete="SET NULL"), index=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Decided when the issue was queued: the reader was not a current supporter, so their copy
    # ends with the support appeal.
    appeal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Why no message was made for this row ("the reader unsubscribed"); it never will be.
    not_sent_reason: Mapped[str | None] = mapped_column(String(200))


class IssueLinkClick(Base):
    """How many times a link in an issue was followed, counted through our signed redirect: an
    aggregate per issue and link, with no record of who clicked."""

    __tablename__ = "issue_link_click"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("newsletter_issue.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
