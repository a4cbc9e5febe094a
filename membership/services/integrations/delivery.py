"""Delivering webhooks from the outbox: claim due deliveries, sign them (Standard Webhooks),
POST them, record the answer; retry with exponential backoff for three days, then fail. An
endpoint that has failed for three days is disabled and the admins are emailed."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from membership.config import Config
from membership.emails.alerts import webhook_disabled_email
from membership.models import (
    DeliveryStatus,
    StaffMember,
    StaffRole,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from membership.services.integrations import transport
from membership.services.outbox import queue_email

logger = logging.getLogger("membership.webhooks")

RETRY_WINDOW = timedelta(days=3)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=12)
LEASE = timedelta(seconds=120)
USER_AGENT = "membership-webhooks/1"
DISABLED = "not sent: the endpoint was disabled"


@dataclass(frozen=True)
class WebhookReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.failed

    def __add__(self, other: WebhookReport) -> WebhookReport:
        return WebhookReport(
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.failed + other.failed,
        )


@dataclass(frozen=True)
class _Claimed:
    id: int
    endpoint_id: int
    token: str
    url: str
    secret: str
    message_id: str
    body: str


def retry_delay(attempts: int) -> timedelta:
    """30 seconds after the first failure, doubling, at most 12 hours between tries."""
    doubled: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(doubled, MAX_RETRY)


def signed_headers(secret: str, message_id: str, body: str, when: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, when.astimezone(UTC), body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def body_of(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)


def claim_deliveries(session: Session, *, limit: int, now: datetime) -> list[_Claimed]:
    """Take due deliveries of active endpoints for this worker (SKIP LOCKED on PostgreSQL)."""
    token = uuid.uuid4().hex[:16]
    due = or_(
        and_(
            WebhookDelivery.status == DeliveryStatus.QUEUED, WebhookDelivery.next_attempt_at <= now
        ),
        and_(
            WebhookDelivery.status == DeliveryStatus.SENDING, WebhookDelivery.claimed_until <= now
        ),
    )
    candidates = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(due, WebhookEndpoint.active.is_(True))
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    rows = session.scalars(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(candidates))
        .values(
            status=DeliveryStatus.SENDING,
            claimed_until=now + LEASE,
            claimed_by=token,
            attempts=WebhookDelivery.attempts + 1,
        )
        .returning(WebhookDelivery)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    claimed = []
    for delivery in sorted(rows, key=lambda row: row.id):
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is not None:
            claimed.append(
                _Claimed(
                    delivery.id,
                    delivery.endpoint_id,
                    token,
                    endpoint.url,
                    endpoint.secret,
                    delivery.message_id,
                    body_of(delivery),
                )
            )
    return claimed


def deliver_due_webhooks_job(
    session: Session, config: Config, *, batch_size: int = 20, now: datetime | None = None
) -> WebhookReport:
    """Claim a batch, post each delivery outside any transaction, record each answer at once.

    A job, so it commits in steps: the claim before the slow network, each result as it comes.
    """
    claimed = claim_deliveries(session, limit=batch_size, now=now or utcnow())
    session.commit()
    report = WebhookReport()
    for item in claimed:
        sent_at = now or utcnow()
        if not _endpoint_active(session, item.endpoint_id):
            # Disabled by a failure earlier in this batch: nothing more goes to it.
            report += _record(session, config, item, None, DISABLED, sent_at)
            session.commit()
            continue
        try:
            answer: transport.Answer | None = transport.post(
                item.url,
                item.body.encode(),
                signed_headers(item.secret, item.message_id, item.body, sent_at),
                allow_private=config.webhooks_allow_private,
                require_https=config.is_production,
            )
            error = None
        except (transport.UnsafeUrl, transport.DeliveryFailed) as failure:
            answer, error = None, str(failure)
        report += _record(session, config, item, answer, error, now or utcnow())
        session.commit()
    return report


def _record(
    session: Session,
    config: Config,
    item: _Claimed,
    answer: transport.Answer | None,
    error: str | None,
    now: datetime,
) -> WebhookReport:
    delivery = session.get(WebhookDelivery, item.id)
    if delivery is None or delivery.claimed_by != item.token:
        logger.warning("webhook delivery %s: lease lost before its result was recorded", item.id)
        return WebhookReport()
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    delivery.last_attempt_at = now
    delivery.claimed_until = None
    delivery.claimed_by = None
    delivery.response_status = answer.status if answer else None
    delivery.response_body = answer.body[: transport.MAX_RESPONSE_BYTES] if answer else None
    if answer is not None and 200 <= answer.status < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = None
        if endpoint is not None:
            endpoint.failing_since = None
        session.flush()
        return WebhookReport(delivered=1)
    delivery.last_error = error or f"the receiver answered HTTP {answer.status if answer else '?'}"
    logger.warning("webhook %s to %s not delivered: %s", item.id, item.url, delivery.last_error)
    next_attempt = now + retry_delay(delivery.attempts)
    if next_attempt - delivery.created_at > RETRY_WINDOW:
        delivery.status = DeliveryStatus.FAILED
        report = WebhookReport(failed=1)
    else:
        delivery.status = DeliveryStatus.QUEUED
        delivery.next_attempt_at = next_attempt
        report = WebhookReport(retried=1)
    if endpoint is not None:
        _note_endpoint_failure(session, config, endpoint, now)
    if endpoint is None or not endpoint.active:
        delivery.status = DeliveryStatus.FAILED
        report = WebhookReport(failed=1)
    session.flush()
    return report


def _endpoint_active(session: Session, endpoint_id: int) -> bool:
    return bool(
        session.scalar(select(WebhookEndpoint.active).where(WebhookEndpoint.id == endpoint_id))
    )


def _note_endpoint_failure(
    session: Session, config: Config, endpoint: WebhookEndpoint, now: datetime
) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        return
    if not endpoint.active or now - endpoint.failing_since < RETRY_WINDOW:
        return
    endpoint.active = False
    endpoint.disabled_at = now
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.QUEUED,
        )
        .values(status=DeliveryStatus.FAILED, last_error=DISABLED)
        .execution_options(synchronize_session=False)
    )
    admins = session.scalars(
        select(StaffMember.email).where(
            StaffMember.role == StaffRole.ADMIN, StaffMember.active.is_(True)
        )
    ).all()
    for address in admins:
        queue_email(
            session,
            webhook_disabled_email(config, endpoint, to=address),
            dedupe_key=f"webhook-disabled:{endpoint.id}:{now:%Y%m%d%H%M}:{address}"[:200],
            now=now,
        )
    logger.warning("webhook endpoint %s disabled after 3 days of failures", endpoint.url)


def resend(session: Session, delivery: WebhookDelivery, *, now: datetime) -> None:
    """Queue the same message again (same webhook-id, so receivers can tell it is a repeat)."""
    delivery.status = DeliveryStatus.QUEUED
    delivery.next_attempt_at = now
    delivery.created_at = now  # a fresh three days of retries
    delivery.claimed_until = None
    delivery.claimed_by = None
    session.flush()


def recent_deliveries(
    session: Session, *, endpoint_id: int | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(session.scalars(stmt))
