"""Turns queued emails into MIME messages and delivers them over SMTP, or prints them in development."""

from __future__ import annotations

import functools
import logging
import re
import smtplib
import ssl
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from jinja2 import TemplateError

from membership.addresses import address_problem
from membership.config import Config, ConfigError
from membership.emails.deferred import render_deferred
from membership.emails.mime import NeedsFullBuilder, message_bytes

logger = logging.getLogger("membership.outbox")

SMTP_TIMEOUT_SECONDS = 10.0
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# Headers the sender writes itself; a queued email may not replace them.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender"}
)
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")


class MailDeliveryError(Exception):
    """A message could not be handed to the mail server; the text says why, for `last_error`."""


class RecipientRejected(MailDeliveryError):
    """The mail server refused the recipient for good (an SMTP 5xx): retrying cannot help, and
    the address is marked as bouncing."""


class InvalidEmailError(ValueError):
    """An email that could never be sent: bad address, header injection, reserved header."""


@dataclass(frozen=True)
class OutgoingEmail:
    """What the sender needs of one queued email, detached from the database session."""

    id: int
    to: str
    subject: str
    text: str
    created_at: datetime
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Queued to be rendered now (`emails.deferred`): text and html are empty until then.
    render_data: Mapping[str, Any] | None = None


def check_email_fields(to: str, subject: str, headers: Mapping[str, str]) -> None:
    """Refuse, when the email is queued, what would make every delivery attempt fail."""
    problem = address_problem(to)
    if problem is not None:
        raise InvalidEmailError(f"{to!r} is not an address we can send to: {problem}")
    for text in (to, subject, *headers.values()):
        if "\r" in text or "\n" in text:
            raise InvalidEmailError("email headers may not contain line breaks")
    for name in headers:
        if not HEADER_NAME.match(name) or name.lower().startswith("content-"):
            raise InvalidEmailError(f"{name!r} is not an allowed header name")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidEmailError(f"the {name} header is set by the sender, not the queue")


def build_mime(email: OutgoingEmail, *, mail_from: str) -> MimeMessage:
    """A standards-conforming message: text, plus an HTML alternative when there is one."""
    message = MimeMessage()
    for name, value in _headers(email, mail_from):
        message[name] = value
    text, html = _bodies(email)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def message_data(email: OutgoingEmail, *, mail_from: str) -> bytes:
    """The message as SMTP-ready bytes, written without the email package's header machinery
    (`emails.mime`); raises `NeedsFullBuilder` when only `build_mime` can write it."""
    text, html = _bodies(email)
    return message_bytes(_headers(email, mail_from), text, html)


def _headers(email: OutgoingEmail, mail_from: str) -> list[tuple[str, str]]:
    return [
        ("From", mail_from),
        ("To", email.to),
        ("Subject", email.subject),
        # Date and Message-ID come from the queued row, so a retry is recognisably the same message.
        ("Date", format_datetime(email.created_at)),
        ("Message-ID", message_id(email, mail_from=mail_from)),
        *email.headers.items(),
    ]


def _bodies(email: OutgoingEmail) -> tuple[str, str | None]:
    if email.render_data is None:
        return email.text, email.html
    return render_deferred(email.render_data)


def message_id(email: OutgoingEmail, *, mail_from: str) -> str:
    return f"<outbox.{email.id}.{email.created_at:%Y%m%d%H%M%S}@{_domain(mail_from)}>"


@functools.lru_cache(maxsize=8)
def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


class MailConnection(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Deliver one email or raise MailDeliveryError."""


class Sender(Protocol):
    def connect(self) -> AbstractContextManager[MailConnection]:
        """Open a connection for a batch; raises MailDeliveryError when the server is unreachable."""


@dataclass(frozen=True)
class SmtpSender:
    """SMTP over `smtp://host:port`, `smtp+starttls://user:pass@host:587` or `smtps://user:pass@host:465`."""

    host: str
    port: int
    mail_from: str
    security: str = "none"  # "none", "starttls" or "tls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_url(cls, url: str, *, mail_from: str) -> SmtpSender:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ConfigError(
                f"MAIL_URL must start with smtp://, smtp+starttls:// or smtps://, not {scheme!r}"
            )
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ConfigError("MAIL_URL has a port that is not a number") from None
        if not parts.hostname:
            raise ConfigError("MAIL_URL names no host, e.g. smtp://127.0.0.1:1025")
        return cls(
            host=parts.hostname,
            port=port,
            mail_from=mail_from,
            security={"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[scheme],
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        client = self._open_client()
        try:
            yield _SmtpConnection(client, self.mail_from)
        finally:
            _close_quietly(client)

    def _open_client(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        client: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                context = ssl.create_default_context()
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as error:
            if client is not None:
                _close_quietly(client)
            raise MailDeliveryError(
                f"cannot connect to mail server {where}: {_describe(error)}"
            ) from error
        return client


class _SmtpConnection:
    def __init__(self, client: smtplib.SMTP, mail_from: str) -> None:
        self.client = client
        self.mail_from = mail_from
        self.envelope_from = parseaddr(mail_from)[1]

    def send(self, email: OutgoingEmail) -> None:
        try:
            data = _data_or_explain(email, self.mail_from)
        except NeedsFullBuilder:
            data = None
        try:
            if data is not None:
                self.client.sendmail(self.envelope_from, [email.to], data)
            else:
                mime = _build_or_explain(email, self.mail_from)
                self.client.send_message(mime, from_addr=self.envelope_from, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _reply in error.recipients.values()]
            failure = RecipientRejected if codes and min(codes) >= 500 else MailDeliveryError
            raise failure(f"sending to {email.to} failed: {_describe(error)}") from error
        except (OSError, smtplib.SMTPException) as error:
            raise MailDeliveryError(f"sending to {email.to} failed: {_describe(error)}") from error


@dataclass(frozen=True)
class ConsoleSender:
    """Development without MAIL_URL: the whole message goes to the log and to stdout."""

    mail_from: str

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        yield self

    def send(self, email: OutgoingEmail) -> None:
        text = readable(_build_or_explain(email, self.mail_from))
        # The body goes to stdout only: the demo's terminal shows each message once.
        logger.info(
            "email %s to %s (%s) printed, not sent: MAIL_URL is not set",
            email.id,
            email.to,
            email.subject,
        )
        sys.stdout.write(f"----- email {email.id} (MAIL_URL is not set) -----\n{text}\n")
        sys.stdout.flush()


def readable(message: MimeMessage) -> str:
    """The message as a person reads it: headers, then the decoded text part. `as_string()` would
    print quoted-printable, whose soft line breaks cut links in two (a `=` at the end of a line)."""
    headers = "".join(f"{name}: {value}\n" for name, value in message.items())
    text_part = message.get_body(preferencelist=("plain",))
    body = text_part.get_content() if isinstance(text_part, MimeMessage) else ""
    html_note = "(an HTML version goes with it)\n" if message.is_multipart() else ""
    return f"{headers}\n{body.rstrip()}\n{html_note}"


def sender_from_config(config: Config) -> SmtpSender | ConsoleSender:
    if config.mail_url:
        return SmtpSender.from_url(config.mail_url, mail_from=config.mail_from)
    if config.is_production:
        # Failing closed: in production a missing MAIL_URL would silently turn mail into log lines.
        raise ConfigError(
            "MAIL_URL is not set: it is required to send email when APP_ENV=production"
        )
    return ConsoleSender(mail_from=config.mail_from)


def _data_or_explain(email: OutgoingEmail, mail_from: str) -> bytes:
    try:
        return message_data(email, mail_from=mail_from)
    except NeedsFullBuilder:
        raise
    except (ValueError, TypeError, KeyError, TemplateError) as error:
        raise MailDeliveryError(f"cannot build email {email.id}: {error}") from error


def _build_or_explain(email: OutgoingEmail, mail_from: str) -> MimeMessage:
    try:
        return build_mime(email, mail_from=mail_from)
    except (ValueError, TypeError, KeyError, TemplateError) as error:
        # A message that cannot be built must fail its attempt, not crash the worker.
        raise MailDeliveryError(f"cannot build email {email.id}: {error}") from error


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{who}: {code} {reply.decode(errors='replace')}"
            for who, (code, reply) in error.recipients.items()
        )
    return str(error) or type(error).__name__


def _close_quietly(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        pass  # The server went away first; closing our end below is all that is left to do.
    finally:
        client.close()
