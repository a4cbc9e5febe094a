"""Renders email templates without a Flask app or request: the worker, CLI and webhooks all mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from membership.config import Config
from membership.formatting import format_date, format_money
from membership.frequency import frequency_words

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


@dataclass(frozen=True)
class ComposedEmail:
    """One message ready for the outbox: who, what, and the kind staff and preferences know it by."""

    kind: str
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Set for a message rendered when it is sent (`membership.emails.deferred`): text and html
    # are empty then, and this holds the template's name and its JSON context.
    render_data: dict[str, Any] | None = None


@lru_cache(maxsize=8)
def _environment(config: Config) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["money"] = lambda cents, currency=config.currency: format_money(
        cents, currency, locale=config.locale
    )
    env.filters["local_date"] = lambda when: format_date(when, config.zone)
    env.globals.update(config=config, publication_name=config.publication_name)
    env.globals["frequency_words"] = frequency_words
    return env


def render_email(config: Config, name: str, **context: Any) -> tuple[str, str | None]:
    """The text part of `emails/<name>.txt` and, when the template exists, `emails/<name>.html`."""
    env = _environment(config)
    text = env.get_template(f"{name}.txt").render(**context)
    try:
        html_template = env.get_template(f"{name}.html")
    except TemplateNotFound:
        return text, None
    return text, html_template.render(**context)


def compose_email(
    config: Config,
    name: str,
    *,
    kind: str,
    to: str,
    subject: str,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> ComposedEmail:
    """`emails/<name>.txt` (and `.html` when it exists) rendered with `context`, ready to queue."""
    text, html = render_email(config, name, **context)
    return ComposedEmail(kind, to, subject, text, html, dict(headers or {}))
