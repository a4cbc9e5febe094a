"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, parsed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from helpers.live_server import free_port


@dataclass(frozen=True)
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpCapture:
    """Start, stop and start again on the same port, to play a mail server that goes down and back."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.received: list[CapturedMail] = []
        # Recipients the server answers 550 for, to play a mailbox that does not exist.
        self.refuse: set[str] = set()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [mail.message for mail in self.received]

    def start(self) -> SmtpCapture:
        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """For tests whose sender runs in another process: wait until `count` messages arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: Any = envelope.original_content or envelope.content
        # SMTP lines end in CRLF; a mail reader shows them as plain newlines, and so do we.
        raw = bytes(content).replace(b"\r\n", b"\n")
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.received.append(
                CapturedMail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
            )
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
