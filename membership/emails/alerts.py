"""Alerts to the newsroom's staff: a dispute (chargeback) to answer in Stripe; a webhook endpoint disabled."""

from __future__ import annotations

from membership.config import Config
from membership.emails.render import ComposedEmail, compose_email
from membership.formatting import format_date, format_money
from membership.models import Donation, WebhookEndpoint
from membership.payments.disputes import Dispute


def dispute_alert_email(config: Config, donation: Donation, dispute: Dispute) -> ComposedEmail:
    return compose_email(
        config,
        "dispute_alert",
        kind="dispute",
        to=config.staff_notification_email,
        subject=f"Dispute opened on receipt {donation.receipt_number}: respond in Stripe",
        donation=donation,
        dispute=dispute,
        amount=format_money(
            dispute.amount or donation.total_cents, donation.currency, always_cents=True
        ),
        reason=(dispute.reason or "not given").replace("_", " "),
        due=format_date(dispute.evidence_due_by, config.zone),
    )


def webhook_disabled_email(config: Config, endpoint: WebhookEndpoint, *, to: str) -> ComposedEmail:
    return compose_email(
        config,
        "webhook_disabled",
        kind="webhook_disabled",
        to=to,
        subject=f"Webhooks to {endpoint.url[:80]} stopped: failing for 3 days",
        endpoint=endpoint,
        staff_url=f"{config.base_url.rstrip('/')}/staff/integrations",
    )
