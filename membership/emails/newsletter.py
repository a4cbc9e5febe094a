"""The newsletter's emails: the opt-in confirmation, "already subscribed", and each issue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.config import Config
from membership.emails.render import ComposedEmail, render_email
from membership.models import NewsletterIssue
from membership.services.markdown import markdown_to_text

# Stands for each reader's own unsubscribe link in an issue rendered once for a whole send.
UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"


def list_unsubscribe_headers(config: Config, url: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (HTTPS first, then mailto) and RFC 8058 one-click."""
    mailbox = config.newsletter_unsubscribe_email or config.publication_email
    return {
        "List-Unsubscribe": f"<{url}>, <mailto:{mailbox}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{config.newsletter_name} <newsletter.{mailbox.rpartition('@')[2]}>",
    }


def _compose(config: Config, kind: str, *, to: str, subject: str, **context: Any) -> ComposedEmail:
    """A message whose kind is also the name of its templates."""
    text, html = render_email(config, kind, **context)
    return ComposedEmail(kind=kind, to=to, subject=subject, text=text, html=html)


def confirmation_email(config: Config, *, to: str, confirm_url: str, wording: str) -> ComposedEmail:
    """The double opt-in: a link to a page with a button, and the words the reader agrees to.
    No List-Unsubscribe: nothing but this reaches an address that has not confirmed."""
    return _compose(
        config,
        "newsletter_confirm",
        to=to,
        subject=f"Please confirm your subscription to {config.newsletter_name}",
        confirm_url=confirm_url,
        wording=wording,
    )


def already_subscribed_email(config: Config, *, to: str) -> ComposedEmail:
    """The answer to a sign-up for a confirmed address: helps the person, tells a stranger nothing."""
    return _compose(
        config,
        "newsletter_already",
        to=to,
        subject=f"You're already subscribed to {config.newsletter_name}",
    )


@dataclass(frozen=True)
class IssueEmail:
    """An issue rendered once, with UNSUBSCRIBE_PLACEHOLDER where each reader's link goes: a send
    renders the templates once and fills in one link per reader."""

    config: Config
    kind: str
    subject: str
    text: str
    html: str

    def bodies(self, unsubscribe_url: str) -> tuple[str, str]:
        """(text, html) with this unsubscribe link in the footer."""
        return (
            self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
            self.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )

    def for_reader(self, to: str, unsubscribe_url: str) -> ComposedEmail:
        """The message one reader gets: their link in both parts and in the List-Unsubscribe headers."""
        text, html = self.bodies(unsubscribe_url)
        return ComposedEmail(
            kind=self.kind,
            to=to,
            subject=self.subject,
            text=text,
            html=html,
            headers=list_unsubscribe_headers(self.config, unsubscribe_url),
        )


@dataclass(frozen=True)
class Appeal:
    """The support appeal at the end of an issue for readers who do not support us yet: the
    current campaign's copy, and links (label, URL) that attribute a gift to the issue."""

    headline: str
    body: str
    links: tuple[tuple[str, str], ...]


def issue_email(
    config: Config, issue: NewsletterIssue, *, test: bool = False, appeal: Appeal | None = None
) -> IssueEmail:
    """The issue as readers get it; a test copy says so in its subject and first line."""
    text, html = render_email(
        config,
        "newsletter_issue",
        issue=issue,
        body_text=markdown_to_text(issue.body_markdown),
        unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER,
        test=test,
        appeal=appeal,
    )
    if html is None:  # pragma: no cover - the HTML template ships with the app
        raise LookupError("templates/emails/newsletter_issue.html is missing")
    return IssueEmail(
        config=config,
        kind="newsletter_test" if test else "newsletter",
        subject=f"[Test] {issue.subject}" if test else issue.subject,
        text=text,
        html=html,
    )
