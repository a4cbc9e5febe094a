"""Messages rendered when they are sent, not when they are queued.

A money handler runs inside the webhook's transaction; rendering a receipt's text and HTML there
made every payment wait for Jinja. Such a message is queued with its template's name and a JSON
context of plain values (formatted when it is queued, so the words do not depend on when it is
sent), and `render_deferred` turns that into the same bodies `compose_email` would have made.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from membership.emails.render import TEMPLATES, ComposedEmail
from membership.models import EmailMessage


def deferred_email(
    name: str, *, kind: str, to: str, subject: str, context: dict[str, Any]
) -> ComposedEmail:
    """A message for the outbox whose bodies are rendered from `emails/<name>.*` at delivery.

    `context` must be JSON: strings, numbers, booleans, lists and objects of those.
    """
    return ComposedEmail(
        kind, to, subject, "", None, {}, render_data={"template": name, "context": context}
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # No config globals: everything a deferred template shows is in its stored context.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_deferred(data: Mapping[str, Any]) -> tuple[str, str | None]:
    """The text and HTML bodies of a message queued by `deferred_email`."""
    env = _environment()
    name = str(data["template"])
    context = dict(data["context"])
    text = env.get_template(f"{name}.txt").render(**context)
    html_name = f"{name}.html"
    if html_name not in _templates(env):
        return text, None
    return text, env.get_template(html_name).render(**context)


@lru_cache(maxsize=1)
def _templates(env: Environment) -> frozenset[str]:
    return frozenset(env.list_templates())


def message_bodies(message: EmailMessage) -> tuple[str, str | None]:
    """A queued message's text and HTML, rendered now when it was queued to be rendered later:
    for the staff and privacy views that show what was (or will be) sent."""
    if message.render_data is None:
        return message.text_body, message.html_body
    return render_deferred(message.render_data)
