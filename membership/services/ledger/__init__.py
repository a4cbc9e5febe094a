"""The ledger: verified Stripe objects turned into our rows (donations, subscriptions, refunds).

Every `record_*`/`apply_*` function is idempotent by the Stripe object it touches (unique
constraints on payment intent, invoice, charge and subscription ids, inserted with
`insert_or_ignore`, never "check then insert") and tolerant of event order: a subscription's
state comes from the object's own fields, and an older snapshot never overwrites a newer one.
"""

from __future__ import annotations


class EventNotReady(RuntimeError):
    """An event refers to something we have not recorded yet; Stripe should deliver it again."""
