"""Staff's copy and switch per lifecycle kind: read (the shipped copy until staff save their own),
checked (unknown placeholders are refused, by name), saved, previewed with a sample supporter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.lifecycle import LifecycleCopy, fill, lifecycle_email
from membership.models import LifecycleSetting, StaffMember
from membership.services.errors import ServiceError
from membership.services.lifecycle.kinds import KINDS, SAMPLE_COMMON, Kind
from membership.services.markdown import render_markdown
from membership.services.staff import audit

PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
MAX_SUBJECT = 300
MAX_BODY = 20_000


class TemplateError(ServiceError):
    """The copy cannot be saved; the message says why (e.g. which placeholders are unknown)."""


@dataclass(frozen=True)
class KindSetting:
    kind: Kind
    enabled: bool
    copy: LifecycleCopy
    customised: bool


def setting_for(session: Session, kind: Kind) -> KindSetting:
    row = session.get(LifecycleSetting, kind.name)
    if row is None:
        return KindSetting(kind, True, LifecycleCopy(kind.subject, kind.body), False)
    return KindSetting(kind, row.enabled, LifecycleCopy(row.subject, row.body_markdown), True)


def all_settings(session: Session) -> list[KindSetting]:
    rows = {row.kind: row for row in session.scalars(select(LifecycleSetting))}
    settings = []
    for kind in KINDS.values():
        row = rows.get(kind.name)
        if row is None:
            settings.append(KindSetting(kind, True, LifecycleCopy(kind.subject, kind.body), False))
        else:
            copy = LifecycleCopy(row.subject, row.body_markdown)
            settings.append(KindSetting(kind, row.enabled, copy, True))
    return settings


def unknown_placeholders(kind: Kind, text: str) -> list[str]:
    """Placeholders in `text` this kind cannot fill, in order of first appearance."""
    unknown: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in kind.allowed and name not in unknown:
            unknown.append(name)
    return unknown


def check_copy(kind: Kind, subject: str, body: str) -> LifecycleCopy:
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise TemplateError("Give the email a subject and a body.")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise TemplateError(
            f"The subject may have {MAX_SUBJECT} characters and the body {MAX_BODY:,}."
        )
    if "\n" in subject or "\r" in subject:
        raise TemplateError("The subject must be one line.")
    unknown = unknown_placeholders(kind, f"{subject}\n{body}")
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in kind.allowed)
        raise TemplateError(
            f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {names}. "
            f"This email can use {known}."
        )
    return LifecycleCopy(subject, body + "\n")


def save_setting(
    session: Session,
    kind: Kind,
    *,
    enabled: bool,
    subject: str,
    body: str,
    actor: StaffMember,
    now: datetime,
) -> KindSetting:
    copy = check_copy(kind, subject, body)
    row = session.get(LifecycleSetting, kind.name)
    before = {"enabled": row.enabled, "subject": row.subject} if row else None
    if row is None:
        row = LifecycleSetting(kind=kind.name)
        session.add(row)
    row.enabled, row.subject, row.body_markdown = enabled, copy.subject, copy.body
    row.updated_at, row.updated_by_id = now, actor.id
    audit.record(
        session,
        actor,
        "lifecycle.changed",
        target_type="lifecycle_kind",
        target_id=kind.name,
        details={"before": before, "after": {"enabled": enabled, "subject": copy.subject}},
        now=now,
    )
    session.flush()
    return KindSetting(kind, enabled, copy, True)


@dataclass(frozen=True)
class Preview:
    """The email a sample supporter would get: subject, text part, and the HTML of its body
    (the staff page shows that part; the whole HTML email carries styles our CSP keeps out)."""

    subject: str
    text: str
    body_html: str


def preview(config: Config, kind: Kind, subject: str, body: str) -> Preview:
    """The email as a sample supporter would get it (raises TemplateError like a save would)."""
    copy = check_copy(kind, subject, body)
    values = {**SAMPLE_COMMON, "publication_name": config.publication_name, **kind.sample}
    email = lifecycle_email(
        config,
        copy,
        kind=kind.name,
        to="ada@example.org",
        values=values,
        unsubscribe_url=f"{config.base_url.rstrip('/')}/lifecycle/unsubscribe/sample",
    )
    return Preview(
        email.subject, email.text, render_markdown(fill(copy.body, values, markdown=True))
    )
