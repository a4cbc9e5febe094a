"""The welcome email a reader gets when they confirm their subscription: staff's copy (the
"Newsletter welcome" kind at /staff/lifecycle), once per address, with the newsletter's own
unsubscribe link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.lifecycle import lifecycle_email
from membership.models import Subscriber
from membership.services.lifecycle.kinds import KINDS
from membership.services.lifecycle.settings import setting_for
from membership.services.newsletter.links import UnsubscribeSigner
from membership.services.outbox import queue_email
from membership.services.suppression import is_suppressed


def queue_newsletter_welcome(
    session: Session, config: Config, subscriber: Subscriber, *, now: datetime
) -> bool:
    setting = setting_for(session, KINDS["newsletter_welcome"])
    if not setting.enabled or is_suppressed(session, subscriber.email):
        return False
    values = {
        "first_name": "friend",
        "publication_name": config.publication_name,
        "account_link": f"{config.base_url.rstrip('/')}/account",
        "newsletter_name": config.newsletter_name,
    }
    email = lifecycle_email(
        config,
        setting.copy,
        kind="newsletter_welcome",
        to=subscriber.email,
        values=values,
        unsubscribe_url=UnsubscribeSigner(config).url(subscriber.id, subscriber.email),
    )
    return (
        queue_email(session, email, dedupe_key=f"newsletter_welcome:{subscriber.id}", now=now)
        is not None
    )
