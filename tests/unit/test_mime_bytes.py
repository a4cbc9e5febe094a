"""The outbox writes messages itself (`emails.mime`); a mail reader must see exactly what the
email package's message would show: the same headers, the same decoded text and HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membership.emails.mime import NeedsFullBuilder, message_bytes
from membership.emails.sender import OutgoingEmail, build_mime, message_data

MAIL_FROM = "The Observer <news@example.org>"
WHEN = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)


def _parse(raw: bytes) -> EmailMessage:
    # As a mail reader (and tests/helpers/smtp_capture.py) does: SMTP's CRLF read as newlines.
    parsed = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(parsed, EmailMessage)
    return parsed


def _seen(message: EmailMessage) -> tuple[dict[str, str], str, str | None]:
    """What a reader sees: headers by name (MIME plumbing aside) and the decoded parts."""
    headers = {
        name: str(value)
        for name, value in message.items()
        if name.lower() not in {"content-type", "content-transfer-encoding", "mime-version"}
    }
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage)
    html = rich.get_content() if isinstance(rich, EmailMessage) else None
    return headers, plain.get_content(), html


def _both(email: OutgoingEmail) -> tuple[EmailMessage, EmailMessage]:
    fast = _parse(message_data(email, mail_from=MAIL_FROM))
    full = _parse(build_mime(email, mail_from=MAIL_FROM).as_bytes(policy=policy.SMTP))
    return fast, full


def _email(**fields: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "id": 7,
        "to": "reader@example.org",
        "subject": "Your receipt from The Observer (OBS-2026-000007)",
        "text": "Thank you.\n",
        "html": "<p>Thank you.</p>\n",
        "created_at": WHEN,
    }
    values.update(fields)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "email",
    [
        _email(),
        _email(html=None),
        _email(subject="Merci, Zoë — votre reçu", text="Déjà reçu: 12,00 €\n"),
        _email(text="a line " * 40 + "\n\n.leading dot\nFrom here\ntrailing space \n"),
        _email(
            headers={
                "List-Unsubscribe": "<https://example.org/u/"
                + "x" * 120
                + ">, <mailto:u@example.org>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        ),
        _email(text="no final line break", html="<p>no final line break</p>"),
        _email(text="crlf\r\nline ends\r\n"),
    ],
)
def test_written_messages_read_as_the_email_package_writes_them(email: OutgoingEmail) -> None:
    fast, full = _both(email)
    assert _seen(fast) == _seen(full)
    assert fast.get_content_type() == full.get_content_type()


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(min_size=1, max_size=400),
    html=st.none() | st.text(min_size=1, max_size=400),
    subject=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=120),
)
def test_any_text_reads_back_the_same(text: str, html: str | None, subject: str) -> None:
    email = _email(text=text, html=html, subject=subject)
    try:
        fast_raw = message_data(email, mail_from=MAIL_FROM)
    except NeedsFullBuilder:
        return  # the sender falls back to the email package for these
    for line in fast_raw.split(b"\r\n"):
        assert len(line) <= 998
    fast = _parse(fast_raw)
    full = _parse(build_mime(email, mail_from=MAIL_FROM).as_bytes(policy=policy.SMTP))
    assert _seen(fast) == _seen(full)


def test_an_address_that_is_not_ascii_goes_to_the_email_package() -> None:
    with pytest.raises(NeedsFullBuilder):
        message_bytes([("To", "zoë@example.org")], "x", None)
