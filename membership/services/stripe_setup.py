"""`flask stripe setup`: make a Stripe account (test or live) ready for us, idempotently.

One webhook endpoint at BASE_URL/webhooks/stripe with exactly the events we handle, pinned to
the API version our parsers read; one billing portal configuration limited to changing the card
and seeing invoices. A second run changes nothing that is already right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from membership.config import Config
from membership.payments.account_setup import PORTAL_FEATURES, AccountSetup
from membership.services.errors import payment_provider_calls
from membership.services.stripe_webhooks import HANDLERS


@dataclass
class SetupReport:
    mode: str  # "test" or "live"
    webhook_url: str
    endpoint_id: str = ""
    endpoint_action: str = ""  # created, updated, unchanged, recreated
    webhook_secret: str | None = None  # only when the endpoint was (re)created: shown once
    portal_configuration_id: str = ""
    portal_action: str = ""  # created, updated
    notes: list[str] = field(default_factory=list)


def key_mode(secret_key: str) -> str:
    """Whether a key moves real money: Stripe's keys say so in their prefix."""
    if secret_key.startswith(("sk_live_", "rk_live_")):
        return "live"
    if secret_key.startswith(("sk_test_", "rk_test_")):
        return "test"
    return "unknown"


def handled_events() -> list[str]:
    return sorted(HANDLERS)


def set_up_stripe(setup: AccountSetup, config: Config) -> SetupReport:
    """Raises `PaymentUnavailable` when Stripe refuses or cannot be reached."""
    report = SetupReport(
        mode=key_mode(config.stripe_secret_key),
        webhook_url=f"{config.base_url.rstrip('/')}/webhooks/stripe",
    )
    with payment_provider_calls():
        _webhook_endpoint(setup, report)
        _portal_configuration(setup, config, report)
    return report


def _webhook_endpoint(setup: AccountSetup, report: SetupReport) -> None:
    events = handled_events()
    version = setup.library_api_version()
    ours = [e for e in setup.webhook_endpoints() if e.url == report.webhook_url]
    current = next((e for e in ours if e.api_version == version), None)
    for stale in ours:
        if stale is not current:
            # An endpoint's API version cannot change: payloads in another version would not
            # read as ours do. It goes; the new one has a new secret.
            setup.delete_webhook_endpoint(stale.id)
            report.notes.append(
                f"deleted webhook endpoint {stale.id} (API version {stale.api_version})"
            )
    if current is None:
        created = setup.create_webhook_endpoint(report.webhook_url, events)
        report.endpoint_id, report.webhook_secret = created.id, created.secret
        report.endpoint_action = "recreated" if ours else "created"
    elif sorted(current.enabled_events) != events or current.status != "enabled":
        report.endpoint_id = setup.update_webhook_endpoint(current.id, events).id
        report.endpoint_action = "updated"
    else:
        report.endpoint_id, report.endpoint_action = current.id, "unchanged"


def _portal_configuration(setup: AccountSetup, config: Config, report: SetupReport) -> None:
    ours = next((c for c in setup.portal_configurations() if c.ours), None)
    saved = setup.save_portal_configuration(
        ours.id if ours else None,
        return_url=f"{config.base_url.rstrip('/')}/account",
        headline=f"{config.publication_name}: your card and your receipts",
    )
    wanted = tuple(name for name, on in PORTAL_FEATURES.items() if on["enabled"])
    if saved.enabled_features != wanted:
        report.notes.append(
            f"portal configuration {saved.id} enables {', '.join(saved.enabled_features)}"
        )
    report.portal_configuration_id = saved.id
    report.portal_action = "updated" if ours else "created"
