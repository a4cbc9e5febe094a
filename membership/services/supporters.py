"""Finding and creating supporters by email address or Stripe customer."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from membership.models import Supporter, SupporterCustomer
from membership.services.sql import dialect_insert, insert_or_ignore


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
        keys.append(Supporter.id.in_(_holder_of(stripe_customer_id)))
    if address:
        keys.append(Supporter.email == address)
    if not keys:
        return None
    # One look-up by either key; the customer's own record wins over an address match.
    found = session.scalars(select(Supporter).where(or_(*keys)).order_by(Supporter.id)).all()
    # The look-up includes the customer's holder: when it found nobody, there is none.
    holder = (
        session.scalar(_holder_of(stripe_customer_id)) if stripe_customer_id and found else None
    )
    supporter = next(
        (
            s
            for s in found
            if stripe_customer_id is not None
            and (s.id == holder or s.stripe_customer_id == stripe_customer_id)
        ),
        found[0] if found else None,
    )
    if supporter is None and address:
        # Nobody holds the customer (the look-up found nobody): the new row takes it at once.
        created = insert_or_ignore(
            session,
            Supporter,
            {"email": address, "name": name[:200], "stripe_customer_id": stripe_customer_id},
            ["email"],
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
    if stripe_customer_id and holder is None:
        record_customer(session, supporter, stripe_customer_id)
    changed = bool(name and not supporter.name)
    if changed:
        supporter.name = name[:200]
    session.flush()
    if changed and supporter in found:
        # Imported here, not at the top: the events module imports the newsletter models' users.
        from membership.services.integrations import events

        events.supporter_event(session, "supporter.updated", supporter)
    return supporter


def _holder_of(stripe_customer_id: str) -> Select[int]:
    return select(SupporterCustomer.supporter_id).where(
        SupporterCustomer.stripe_customer_id == stripe_customer_id
    )


def record_customer(session: Session, supporter: Supporter, stripe_customer_id: str) -> None:
    """Remember a Stripe customer of this supporter (once; the first holder keeps it)."""
    session.execute(
        dialect_insert(session, SupporterCustomer.__table__).on_conflict_do_nothing(
            index_elements=["stripe_customer_id"]
        ),
        {"supporter_id": supporter.id, "stripe_customer_id": stripe_customer_id},
    )


def customer_ids(session: Session, supporter: Supporter) -> list[str]:
    """Every Stripe customer seen for this supporter, oldest first."""
    recorded = session.scalars(
        select(SupporterCustomer.stripe_customer_id)
        .where(SupporterCustomer.supporter_id == supporter.id)
        .order_by(SupporterCustomer.id)
    ).all()
    first = [supporter.stripe_customer_id] if supporter.stripe_customer_id else []
    return list(dict.fromkeys([*first, *recorded]))


def checkout_customer(session: Session, supporter: Supporter | None) -> str | None:
    """The customer to give Checkout for a signed-in supporter (their newest), so a new gift
    does not make yet another customer; None for a reader we do not know."""
    if supporter is None or supporter.erased_at is not None:
        return None
    known = customer_ids(session, supporter)
    return known[-1] if known else None
