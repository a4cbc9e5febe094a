"""Finding and creating supporters by email address or Stripe customer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import Supporter
from membership.services.sql import insert_or_ignore


def normalize_email(email: str) -> str:
    """Addresses are compared case-insensitively: we store them trimmed and lower-cased."""
    return email.strip().lower()


def find_or_create_supporter(
    session: Session,
    *,
    email: str | None,
    stripe_customer_id: str | None = None,
    name: str = "",
) -> Supporter | None:
    """The supporter for this customer or address, created if new; None without either.

    Safe when two webhooks about one person arrive at once: the insert ignores the conflict and
    both read the one row.
    """
    supporter = None
    if stripe_customer_id:
        supporter = session.scalar(
            select(Supporter).where(Supporter.stripe_customer_id == stripe_customer_id)
        )
    address = normalize_email(email) if email else None
    if supporter is None and address:
        supporter = session.scalar(select(Supporter).where(Supporter.email == address))
        if supporter is None:
            created = insert_or_ignore(
                session, Supporter, {"email": address, "name": name[:200]}, ["email"]
            )
            supporter = session.scalar(select(Supporter).where(Supporter.email == address))
            if created is not None and supporter is not None:
                # Imported here, not at the top: the newsletter service imports this module.
                from membership.services.newsletter import link_supporter

                link_supporter(session, supporter)
    if supporter is None:
        return None
    if stripe_customer_id and supporter.stripe_customer_id is None:
        taken = session.scalar(
            select(Supporter.id).where(Supporter.stripe_customer_id == stripe_customer_id)
        )
        if taken is None:
            supporter.stripe_customer_id = stripe_customer_id
    if name and not supporter.name:
        supporter.name = name[:200]
    session.flush()
    return supporter
