"""The one "remind me later" email a reader asked for from the appeal."""

from __future__ import annotations

from membership.config import Config
from membership.emails.render import ComposedEmail, compose_email


def appeal_reminder_email(config: Config, *, to: str, cancel_url: str) -> ComposedEmail:
    support_url = f"{config.base_url.rstrip('/')}/support"
    return compose_email(
        config,
        "appeal_reminder",
        kind="appeal_reminder",
        to=to,
        subject=f"Your reminder to support {config.publication_name}",
        headers={"List-Unsubscribe": f"<{cancel_url}>"},
        support_url=support_url,
        cancel_url=cancel_url,
    )
