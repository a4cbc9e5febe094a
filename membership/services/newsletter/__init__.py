"""The newsletter: its list, the consent ledger, issues and their sends, one module per job.

    links          signed confirmation and unsubscribe links
    consent        the wording readers agree to, the consent ledger, confirming a subscriber
    subscriptions  double opt-in, unsubscribes, a supporter's own switch
    personal_data  the list's rows in "download my data" and "delete my account"
    list_admin     staff search, filters, counts, growth and the streamed CSV export
    list_import    reading a CSV of addresses and importing it on a declared basis
    issues         drafts, preview, test copies and a send's progress
    send_job       the batched send: delivery rows only (a job: it commits batch by batch)
    delivery       each reader's copy, made by the outbox worker when it reaches their row

Other parts of the service (accounts, supporter records) use the names re-exported here, so the
inside of this package can change without touching them. Importing the package also registers
the list's rows with the privacy features.
"""

from __future__ import annotations

from membership.services.newsletter import personal_data
from membership.services.newsletter.consent import ConsentHistoryLine, consent_history, hash_ip
from membership.services.newsletter.subscriptions import (
    link_supporter,
    set_supporter_subscription,
    supporter_subscription,
)

__all__ = [
    "ConsentHistoryLine",
    "consent_history",
    "hash_ip",
    "link_supporter",
    "personal_data",
    "set_supporter_subscription",
    "supporter_subscription",
]
