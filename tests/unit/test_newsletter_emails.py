"""The newsletter's emails composed with no Flask app or request, as the worker and CLI compose them."""

from __future__ import annotations

from flask import has_app_context

from membership.config import Config
from membership.emails.newsletter import (
    UNSUBSCRIBE_PLACEHOLDER,
    already_subscribed_email,
    confirmation_email,
    issue_email,
)
from membership.models import NewsletterIssue
from membership.services.markdown import render_markdown

UNSUBSCRIBE = "https://observatory.example/newsletter/unsubscribe/7-tag.sig"


def an_issue(
    subject: str = "Week 48 <b>and</b> more", body: str = "## The pact\n\nSigned."
) -> NewsletterIssue:
    return NewsletterIssue(subject=subject, body_markdown=body, body_html=render_markdown(body))


def test_confirmation_and_already_subscribed_need_no_app(config: Config) -> None:
    assert not has_app_context()
    confirm = confirmation_email(
        config,
        to="reader@example.org",
        confirm_url="https://observatory.example/newsletter/confirm/abc",
        wording="Email me the newsletter.",
    )
    assert (confirm.kind, confirm.to) == ("newsletter_confirm", "reader@example.org")
    assert config.newsletter_name in confirm.subject
    assert confirm.html is not None
    for part in (confirm.text, confirm.html):
        assert "https://observatory.example/newsletter/confirm/abc" in part
        assert "Email me the newsletter." in part
    # Nothing but the confirmation reaches an unconfirmed address: no unsubscribe headers.
    assert confirm.headers == {}

    already = already_subscribed_email(config, to="reader@example.org")
    assert already.kind == "newsletter_already"
    assert "already subscribed" in already.subject and already.html is None
    assert config.newsletter_name in already.text


def test_an_issue_is_rendered_once_and_personalised_per_reader(config: Config) -> None:
    assert not has_app_context()
    rendered = issue_email(config, an_issue())
    assert rendered.text.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    email = rendered.for_reader("reader@example.org", UNSUBSCRIBE)
    assert (email.kind, email.to, email.subject) == (
        "newsletter",
        "reader@example.org",
        "Week 48 <b>and</b> more",
    )
    assert email.html is not None
    assert UNSUBSCRIBE in email.text and UNSUBSCRIBE in email.html
    assert UNSUBSCRIBE_PLACEHOLDER not in email.text + email.html
    assert "<h2>The pact</h2>" in email.html
    # The subject is text: escaped in the HTML part, never markup.
    assert "Week 48 &lt;b&gt;and&lt;/b&gt; more" in email.html
    assert email.headers["List-Unsubscribe"].startswith(f"<{UNSUBSCRIBE}>, <mailto:")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert config.newsletter_name in email.headers["List-Id"]


def test_a_test_copy_says_so(config: Config) -> None:
    email = issue_email(config, an_issue(subject="Week 49"), test=True).for_reader(
        "editor@observatory.example", UNSUBSCRIBE
    )
    assert (email.kind, email.subject) == ("newsletter_test", "[Test] Week 49")
    assert email.text.startswith("[This is a test copy.")
    reader_copy = issue_email(config, an_issue(subject="Week 49"))
    assert "test copy" not in reader_copy.text and "test copy" not in reader_copy.html
