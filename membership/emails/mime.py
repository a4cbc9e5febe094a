"""Outgoing messages as SMTP-ready bytes, written directly for the shape the outbox sends.

`email.message.EmailMessage` parses and folds every header through its header registry: that
cost more per message than handing it to the mail server. Our messages are always the same
shape (a few headers, a text part and maybe an HTML alternative, UTF-8), so they are written
here with the standard library's codecs (a part that is not short-lined ASCII goes as base64);
anything outside the plain case (an address header
that is not ASCII, a line no encoding can keep under the limit) goes through `EmailMessage`.
The result parses to the same headers and decoded bodies either way (tests compare them).
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Callable, Iterable
from email.header import Header

MAX_LINE = 78  # RFC 5322's recommended limit; 998 is the hard one
HARD_LIMIT = 998
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "sender", "reply-to"})


class NeedsFullBuilder(Exception):
    """This message is not the plain case: build it with `EmailMessage`."""


def message_bytes(
    headers: Iterable[tuple[str, str]],
    text: str,
    html: str | None,
    *,
    boundary: Callable[[], str] | None = None,
) -> bytes:
    """The whole message, CRLF line ends, ready for `smtplib.SMTP.sendmail`.

    Raises `NeedsFullBuilder` when a header or body needs what only the email package does.
    """
    text = _normalised(text)
    html = None if html is None else _normalised(html)
    lines = [_header(name, value) for name, value in headers]
    lines.append("MIME-Version: 1.0")
    if html is None:
        lines += _part_headers("plain", text)
        lines += ["", _body(text)]
    else:
        mark = (boundary or _boundary)()
        lines.append(f'Content-Type: multipart/alternative; boundary="{mark}"')
        lines += ["", f"--{mark}"]
        lines += _part_headers("plain", text)
        lines += ["", _body(text), f"--{mark}"]
        lines += _part_headers("html", html)
        lines += ["", _body(html), f"--{mark}--", ""]
    try:
        return "\r\n".join(lines).encode("ascii")
    except UnicodeEncodeError as error:  # a header `Header` left in UTF-8
        raise NeedsFullBuilder(str(error)) from error


def _boundary() -> str:
    return f"==============={secrets.randbelow(10**19):019d}=="


def _header(name: str, value: str) -> str:
    if value.isascii() and value.isprintable():
        line = f"{name}: {value}"
        return line if len(line) <= MAX_LINE else _fold(line)
    if name.lower() in ADDRESS_HEADERS:
        raise NeedsFullBuilder(f"{name} is not plain ASCII")
    if not value.isprintable():
        raise NeedsFullBuilder(f"{name} holds control characters")
    # An unstructured header (Subject, List-Id...) in UTF-8: RFC 2047 encoded words.
    encoded = Header(value, "utf-8", header_name=name, maxlinelen=MAX_LINE).encode("\r\n")
    return f"{name}: {encoded}"


def _fold(line: str) -> str:
    """Break a long header line before spaces; a single word longer than the line stays whole."""
    out: list[str] = []
    name, _space, rest = line.partition(" ")
    first, *words = rest.split(" ")
    current = f"{name} {first}"  # never a break between the name and its value's first word
    for word in words:
        if current and len(current) + 1 + len(word) > MAX_LINE:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    if any(len(part) + 1 > HARD_LIMIT for part in out):
        raise NeedsFullBuilder("a header word longer than SMTP allows")
    return "\r\n ".join(out)


def _normalised(body: str) -> str:
    """Newlines only, and a last one: what the email package makes of a body, too."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    return body if body.endswith("\n") else body + "\n"


def _part_headers(subtype: str, body: str) -> list[str]:
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        f"Content-Transfer-Encoding: {'7bit' if _seven_bit(body) else 'base64'}",
    ]


def _seven_bit(body: str) -> bool:
    return body.isascii() and all(len(line) <= MAX_LINE for line in body.split("\n"))


def _body(body: str) -> str:
    """A text part, its lines joined by CRLF and ending with one, as the email package's do:
    as it is when it is short-lined ASCII, else base64 of its UTF-8 in 76-character lines."""
    if _seven_bit(body):
        return body[:-1].replace("\n", "\r\n") + "\r\n"
    data = body.encode("utf-8")
    return "".join(
        binascii.b2a_base64(data[start : start + 57], newline=False).decode("ascii") + "\r\n"
        for start in range(0, len(data), 57)
    )
