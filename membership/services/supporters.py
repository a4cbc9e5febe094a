"""Finding and creating supporters by email address or Stripe customer."""

from __future__ import annotations

from sqlalchemy import or_, select
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
    address = normalize_email(email) if email else None
    keys = []
    if stripe_customer_id:
        keys.append(Supporter.stripe_customer_id == stripe_customer_id)
    if address:
        keys.append(Supporter.email == address)
    if not keys:
        return None
    # One look-up by either key; the customer's own record wins over an address match.
    found = session.scalars(select(Supporter).where(or_(*keys))).all()
    supporter = next(
        (s for s in found if stripe_customer_id and s.stripe_customer_id == stripe_customer_id),
        found[0] if found else None,
    )
    if supporter is None and address:
        created = insert_or_ignore(
            session, Supporter, {"email": address, "name": name[:200]}, ["email"]
        )
        supporter = created or session.scalar(select(Supporter).where(Supporter.email == address))
        if created is not None:
            # Imported here, not at the top: the newsletter service imports this module.
            from membership.services.newsletter import link_supporter

            link_supporter(session, created)
    if supporter is None:
        return None
    # Link the customer unless another supporter holds it (the look-up above would have found it).
    if (
        stripe_customer_id
        and supporter.stripe_customer_id is None
        and not any(s.stripe_customer_id == stripe_customer_id for s in found)
    ):
        supporter.stripe_customer_id = stripe_customer_id
    changed = bool(name and not supporter.name)
    if changed:
        supporter.name = name[:200]
    session.flush()
    if changed and supporter in found:
        # Imported here, not at the top: the events module imports the newsletter models' users.
        from membership.services.integrations import events

        events.supporter_event(session, "supporter.updated", supporter)
    return supporter
