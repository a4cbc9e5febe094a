"""Link clicks in issues, privately: each link in an issue goes through our own signed redirect,
which adds one to a counter per issue and link. Nothing says who clicked, and there is no open
pixel (Apple Mail Privacy Protection opens every image, so opens mean nothing anyway)."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import IssueEmail
from membership.models import IssueLinkClick
from membership.services.errors import ServiceError
from membership.services.signed_links import read_pair, sign_pair
from membership.services.sql import dialect_insert

_SALT = "newsletter-click"
MAX_URL = 2000
_HREF = re.compile(r'href="(https?://[^"]+)"')
# A URL in the text part, without the sentence's full stop or comma after it.
_TEXT_URL = re.compile(r"https?://[^\s<>()\[\]\"']*[^\s<>()\[\]\"'.,;:!?]")


class ClickLinkError(ServiceError):
    """A click link we did not sign (or one a mail program cut short)."""


def click_url(config: Config, issue_id: int, url: str) -> str:
    token = sign_pair(config.secret_key, _SALT, issue_id, url)
    return f"{config.base_url.rstrip('/')}/newsletter/c/{token}"


def track_links(email: IssueEmail, config: Config, issue_id: int) -> IssueEmail:
    """The issue with every web link (in both parts) going through the click counter; links to
    our own unsubscribe page are left alone."""
    own = f"{config.base_url.rstrip('/')}/newsletter/unsubscribe/"

    def wrap(url: str) -> str:
        if url.startswith(own) or len(url) > MAX_URL:
            return url
        return click_url(config, issue_id, url)

    html = _HREF.sub(lambda m: f'href="{wrap(m.group(1).replace("&amp;", "&"))}"', email.html)
    text = _TEXT_URL.sub(lambda m: wrap(m.group(0)), email.text)
    return dataclasses.replace(email, html=html, text=text)


def record_click(session: Session, config: Config, token: str) -> str:
    """Count the click; where to send the reader."""
    link = read_pair(config.secret_key, _SALT, token)
    if link is None:
        raise ClickLinkError("That link is not complete. Copy the whole link from the email.")
    issue_id, url = link
    table = IssueLinkClick.__table__
    statement = dialect_insert(session, table).values(issue_id=issue_id, url=url, clicks=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["issue_id", "url"], set_={"clicks": table.c.clicks + 1}
        )
    )
    return url


def issue_clicks(session: Session, issue_id: int) -> list[tuple[str, int]]:
    return [
        (row.url, row.clicks)
        for row in session.scalars(
            select(IssueLinkClick)
            .where(IssueLinkClick.issue_id == issue_id)
            .order_by(IssueLinkClick.clicks.desc(), IssueLinkClick.url)
        )
    ]
