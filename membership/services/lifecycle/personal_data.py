"""Lifecycle rows about a supporter in "download my data" and "delete my account"."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from membership.models import LifecycleMessage, LifecycleOptOut, Supporter
from membership.services.privacy import Row, register_personal_data, row_dict


def export_lifecycle_data(session: Session, supporter: Supporter) -> dict[str, list[Row]]:
    messages = session.scalars(
        select(LifecycleMessage)
        .where(LifecycleMessage.supporter_id == supporter.id)
        .order_by(LifecycleMessage.id)
    )
    opt_outs = session.scalars(
        select(LifecycleOptOut).where(LifecycleOptOut.supporter_id == supporter.id)
    )
    return {
        "lifecycle_message": [row_dict(m) for m in messages],
        "lifecycle_opt_out": [row_dict(o) for o in opt_outs],
    }


def erase_lifecycle_data(session: Session, supporter: Supporter) -> None:
    """Which lifecycle emails went to them, and which they declined, are forgotten (the erased
    supporter has no address and is inactive, so nothing more is sent)."""
    session.execute(delete(LifecycleMessage).where(LifecycleMessage.supporter_id == supporter.id))
    session.execute(delete(LifecycleOptOut).where(LifecycleOptOut.supporter_id == supporter.id))
    session.flush()


register_personal_data(export_lifecycle_data, erase_lifecycle_data)
