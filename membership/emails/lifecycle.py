"""Lifecycle emails: staff's Markdown copy with its placeholders filled, as text and HTML, with
an unsubscribe link for that kind (in the footer and as RFC 8058 one-click headers). The text part
is the Markdown read as plain text: a link shows its words with the address beside them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from membership.config import Config
from membership.emails.render import ComposedEmail, render_email
from membership.services.markdown import markdown_to_text, render_markdown

_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
# Characters that would make a supporter's name (or any value) into Markdown syntax.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>#!|{}~])")


@dataclass(frozen=True)
class LifecycleCopy:
    subject: str
    body: str  # Markdown with {placeholders}


def fill(text: str, values: Mapping[str, str], *, markdown: bool) -> str:
    """Each {placeholder} replaced by its value; in Markdown, values that are not links are
    escaped so a name like "*Ada*" stays text. Unknown placeholders were refused on save; one
    left here (a kind lost a placeholder) is shown as it is rather than failing the send."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        raw = values[name]
        if not markdown or name.endswith("_link"):
            return raw
        return _MARKDOWN_SPECIAL.sub(r"\\\1", raw)

    return _PLACEHOLDER.sub(value, text)


def lifecycle_email(
    config: Config,
    copy: LifecycleCopy,
    *,
    kind: str,
    to: str,
    values: Mapping[str, str],
    unsubscribe_url: str,
) -> ComposedEmail:
    body = fill(copy.body, values, markdown=True)
    text, html = render_email(
        config,
        "lifecycle",
        body_text=markdown_to_text(body),
        body_html=render_markdown(body),
        unsubscribe_url=unsubscribe_url,
    )
    return ComposedEmail(
        kind=kind,
        to=to,
        subject=fill(copy.subject, values, markdown=False),
        text=text,
        html=html,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
