"""The worker's loop: claim and run due periodic jobs, make the next newsletter copies, send one
outbox batch, wait, repeat.

Each step commits its own work (jobs through their lease, the outbox per message), so the loop
holds no transaction while it waits. A database that stops answering is waited out with a
backoff (1 s doubling to a minute): queued mail stays queued and unclaimed periods stay due, so
nothing is lost. SIGTERM or Ctrl-C lets the current batch or job finish, then the loop ends.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.sender import Sender
from membership.logs import new_request_id, request_id_scope
from membership.models import utcnow
from membership.payments.gateway import StripeGateway
from membership.services import job_leases
from membership.services.integrations.delivery import WebhookReport, deliver_due_webhooks_job
from membership.services.newsletter.delivery import IssueCopies, make_issue_messages_job
from membership.services.outbox_delivery import DeliveryReport, deliver_due_job
from membership.worker.registry import Job, JobContext, registered_jobs

log = logging.getLogger("membership.jobs")

MAX_DATABASE_BACKOFF = 60.0


@dataclass(frozen=True)
class JobRun:
    name: str
    outcome: str  # "ok" or "failed"
    summary: str


@dataclass(frozen=True)
class TickReport:
    jobs: tuple[JobRun, ...]
    outbox: DeliveryReport
    outbox_full: bool  # a full batch: more mail (or webhooks) may be due right away
    webhooks: WebhookReport = WebhookReport()


class Worker:
    def __init__(
        self,
        session: Callable[[], Session],
        config: Config,
        gateway: StripeGateway,
        sender: Sender,
        *,
        batch_size: int = 50,
        jobs: list[Job] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.config = config
        self.gateway = gateway
        self.sender = sender
        self.batch_size = batch_size
        self.jobs = registered_jobs() if jobs is None else jobs
        self.clock = clock
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}"
        self.issue_copies = IssueCopies(config)

    def tick(self) -> TickReport:
        """Run every job whose period is due and unclaimed, make up to a batch of newsletter
        copies, then one outbox batch of email and one of webhooks."""
        runs = []
        for job in self.jobs:
            run = self.run_job_if_due(job)
            if run is not None:
                runs.append(run)
        made = make_issue_messages_job(
            self.session(),
            self.config,
            limit=self.batch_size,
            now=self.clock(),
            copies=self.issue_copies,
        )
        report = deliver_due_job(
            self.session(),
            self.sender,
            batch_size=self.batch_size,
            max_attempts=self.config.outbox_max_attempts,
            lease_seconds=self.config.outbox_lease_seconds,
            now=self.clock(),
            worker=self.name,
        )
        if report.claimed:
            log.info(
                "outbox: sent %s, will retry %s, failed %s",
                report.sent,
                report.retried,
                report.failed,
                extra={"job": "outbox", "sent": report.sent, "failed": report.failed},
            )
        hooks = deliver_due_webhooks_job(
            self.session(), self.config, batch_size=self.batch_size, now=self.clock()
        )
        if hooks.claimed:
            log.info(
                "webhooks: delivered %s, will retry %s, failed %s",
                hooks.delivered,
                hooks.retried,
                hooks.failed,
                extra={"job": "webhooks", "sent": hooks.delivered, "failed": hooks.failed},
            )
        full = max(made, report.claimed, hooks.claimed) >= self.batch_size
        return TickReport(tuple(runs), report, full, hooks)

    def run_job_if_due(self, job: Job) -> JobRun | None:
        session = self.session()
        now = self.clock()
        token = f"{uuid.uuid4().hex[:12]}:{self.name}"
        claim = job_leases.claim_job(
            session, job.name, every=job.every, lease=job.lease, now=now, token=token
        )
        session.commit()
        if claim is None:
            return None
        with request_id_scope(new_request_id()):
            return self._run(job, claim, now)

    def _run(self, job: Job, claim: job_leases.Claim, now: datetime) -> JobRun:
        session = self.session()
        started = time.perf_counter()
        context = JobContext(
            session=session,
            config=self.config,
            gateway=self.gateway,
            now=now,
            commit=session.commit,
            rollback=session.rollback,
        )
        try:
            summary = job.run(context)
            session.commit()
        except (OperationalError, DBAPIError):
            session.rollback()
            raise  # the database is gone: the loop backs off; the lease runs out and is retried
        except Exception as error:  # noqa: BLE001 - one failing job must not stop the others
            session.rollback()
            log.exception(
                "job %s failed: %s",
                job.name,
                error,
                extra=_fields(job, "failed", started),
            )
            job_leases.record_failure(
                session, claim, now=self.clock(), error=f"{type(error).__name__}: {error}"
            )
            session.commit()
            return JobRun(job.name, "failed", str(error))
        job_leases.record_success(session, claim, now=self.clock(), summary=summary)
        session.commit()
        log.info("job %s ok: %s", job.name, summary, extra=_fields(job, "ok", started))
        return JobRun(job.name, "ok", summary)

    def run(self, stop: threading.Event, *, poll: float = 2.0) -> None:
        """Tick until `stop` is set; wait `poll` seconds when there was nothing to send."""
        backoff = 1.0
        while not stop.is_set():
            try:
                report = self.tick()
            except (OperationalError, DBAPIError) as error:
                self.session().rollback()
                log.warning(
                    "database unavailable, retrying in %.0f s: %s",
                    backoff,
                    str(error).splitlines()[0],
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_DATABASE_BACKOFF)
                continue
            backoff = 1.0
            if not report.outbox_full:
                stop.wait(poll)


def _fields(job: Job, outcome: str, started: float) -> dict[str, object]:
    return {
        "job": job.name,
        "outcome": outcome,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }


@contextmanager
def stop_on_signals(stop: threading.Event, *, enabled: bool = True) -> Iterator[None]:
    """Let the current batch finish on SIGTERM/SIGINT: its claims are then recorded, not abandoned."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
