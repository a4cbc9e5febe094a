"""The worker: every periodic job once per period however many workers run, failures retried
after a backoff, a lost webhook healed by the hourly Stripe sync, the database waited out."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpers.factories import make_email
from helpers.payments import give, pay, session_id_from
from helpers.smtp_capture import SmtpCapture
from membership.emails.sender import OutgoingEmail, SmtpSender, sender_from_config
from membership.extensions import db, payments
from membership.models import Donation, EmailMessage, EmailStatus, JobLease
from membership.services import job_leases
from membership.worker import registry
from membership.worker.loop import Worker, stop_on_signals
from membership.worker.registry import Job, JobContext, periodic_job, registered_jobs
from stripe_standin import StandinServer

START = datetime(2026, 12, 2, 10, 15, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _counting_job(name: str, every: timedelta, runs: list[str], *, fail: int = 0) -> Job:
    failures = [fail]

    def run(ctx: JobContext) -> str:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("the job's service said no")
        runs.append(f"{name}@{ctx.now:%H:%M}")
        return "done"

    return Job(name, every, run, lease=timedelta(minutes=5))


def _worker(app: Flask, smtp: SmtpCapture, clock: Clock, jobs: list[Job] | None = None) -> Worker:
    config = app.config["MEMBERSHIP"].with_overrides(mail_url=smtp.url)
    return Worker(
        db.session, config, payments.gateway, sender_from_config(config), jobs=jobs, clock=clock
    )


def test_the_builtin_jobs_are_registered_with_their_schedules() -> None:
    schedule = {job.name: job.every for job in registered_jobs()}
    assert schedule["renewal_reminders"] == timedelta(days=1)
    assert schedule["purge_sign_in_links"] == timedelta(days=1)
    assert schedule["stripe_sync"] == timedelta(hours=1)


def test_registering_a_job_is_one_decorator() -> None:
    @periodic_job("test_only_job", every=timedelta(minutes=15))
    def test_only_job(ctx: JobContext) -> str:
        return "nothing"

    try:
        assert any(job.name == "test_only_job" for job in registered_jobs())
    finally:
        registry._JOBS.pop("test_only_job")


def test_several_workers_run_each_job_once_per_period(
    app: Flask, app_context: None, smtp: SmtpCapture
) -> None:
    runs: list[str] = []
    jobs = [
        _counting_job("hourly", timedelta(hours=1), runs),
        _counting_job("daily", timedelta(days=1), runs),
    ]
    clock = Clock(START)
    workers = [_worker(app, smtp, clock, jobs) for _ in range(3)]
    for worker in workers:
        worker.tick()
    assert sorted(runs) == ["daily@10:15", "hourly@10:15"]
    clock.now = START + timedelta(minutes=40)  # 10:55: same hour, same day
    for worker in workers:
        worker.tick()
    assert len(runs) == 2
    clock.now = START + timedelta(minutes=50)  # 11:05: a new hour
    for worker in workers:
        worker.tick()
    assert sorted(runs) == ["daily@10:15", "hourly@10:15", "hourly@11:05"]
    clock.now = START + timedelta(days=1)
    for worker in workers:
        worker.tick()
    assert runs.count("daily@10:15") == 2 and len(runs) == 5


def test_concurrent_claims_of_one_period_have_one_winner(app: Flask, app_context: None) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)
    engine = db.engine

    def claim(n: int) -> None:
        with Session(engine) as session:
            barrier.wait()
            won = job_leases.claim_job(
                session,
                "contended",
                every=timedelta(hours=1),
                lease=timedelta(minutes=5),
                now=START,
                token=f"worker-{n}",
            )
            session.commit()
            if won is not None:
                winners.append(won.token)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1


def test_a_failed_run_is_retried_in_the_same_period_after_a_backoff(
    app: Flask, app_context: None, smtp: SmtpCapture
) -> None:
    runs: list[str] = []
    clock = Clock(START)
    worker = _worker(app, smtp, clock, [_counting_job("flaky", timedelta(days=1), runs, fail=2)])
    assert [run.outcome for run in worker.tick().jobs] == ["failed"]
    lease = db.session.get(JobLease, "flaky")
    assert lease is not None and "the job's service said no" in (lease.last_error or "")
    clock.now = START + timedelta(seconds=59)
    assert worker.tick().jobs == ()  # backing off: one minute after the first failure
    clock.now = START + timedelta(seconds=60)
    assert [run.outcome for run in worker.tick().jobs] == ["failed"]
    clock.now = START + timedelta(seconds=60 + 119)
    assert worker.tick().jobs == ()  # two minutes after the second
    clock.now = START + timedelta(seconds=60 + 120)
    assert [run.outcome for run in worker.tick().jobs] == ["ok"]
    db.session.expire_all()
    lease = db.session.get(JobLease, "flaky")
    assert lease is not None and lease.failures == 0 and lease.last_error is None
    assert lease.last_succeeded_at == clock.now


def test_a_run_whose_worker_died_is_taken_over_when_its_lease_ends(
    app: Flask, app_context: None, smtp: SmtpCapture
) -> None:
    runs: list[str] = []
    job = _counting_job("long", timedelta(days=1), runs)
    claim = job_leases.claim_job(
        db.session(), "long", every=job.every, lease=job.lease, now=START, token="dead-worker"
    )
    db.session.commit()
    assert claim is not None
    clock = Clock(START + timedelta(minutes=4))
    worker = _worker(app, smtp, clock, [job])
    assert worker.tick().jobs == ()
    clock.now = START + timedelta(minutes=5)
    assert [run.outcome for run in worker.tick().jobs] == ["ok"]


def test_a_lost_webhook_is_healed_by_the_hourly_sync(
    app: Flask, client: FlaskClient, smtp: SmtpCapture, standin: StandinServer
) -> None:
    # No live server: the stand-in has nowhere to deliver its webhook, so it is lost.
    worker_clock = Clock(datetime.now(UTC))
    with app.app_context():
        worker = _worker(app, smtp, worker_clock)
        sync_runs = [run.name for run in worker.tick().jobs]
        assert "stripe_sync" in sync_runs
    started = give(client, amount="100", email="lost.hook@example.org")
    pay(standin, session_id_from(started), email="lost.hook@example.org")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Donation)) == 0
        assert worker.tick().jobs == ()  # this hour's sync already ran
    # An hour later (the stand-in's clock moves too: its events keep their real order).
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1), tick=True):
        worker_clock.now = datetime.now(UTC)
        with app.app_context():
            runs = worker.tick().jobs
            assert ("stripe_sync", "ok") in [(run.name, run.outcome) for run in runs]
            donation = db.session.scalar(select(Donation))
            assert donation is not None and donation.amount_cents == 100
            receipt = db.session.scalar(select(EmailMessage).where(EmailMessage.kind == "receipt"))
            assert receipt is not None
            worker_clock.now = datetime.now(UTC)
            worker.tick()  # the next outbox batch sends the receipt
            db.session.expire_all()
            assert db.session.get(EmailMessage, receipt.id).status is EmailStatus.SENT  # type: ignore[union-attr]
    assert [m["To"] for m in smtp.messages] == ["lost.hook@example.org"]


def test_the_worker_waits_out_a_database_that_is_down(
    app_factory: Callable[..., Flask], smtp: SmtpCapture
) -> None:
    down = app_factory(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    stop = threading.Event()
    waits: list[float] = []

    class CountingStop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            if len(waits) == 4:
                stop.set()
            return stop.is_set()

        def is_set(self) -> bool:
            return stop.is_set()

    with down.app_context():
        worker = _worker(down, smtp, Clock(START), [])
        worker.run(CountingStop(), poll=0.01)
    assert waits == [1.0, 2.0, 4.0, 8.0]


class _SigtermAfterFirst:
    """The real SMTP sender, plus a SIGTERM to this process once the first message is sent."""

    def __init__(self, inner: SmtpSender) -> None:
        self.inner = inner

    @contextmanager
    def connect(self) -> Iterator[object]:
        with self.inner.connect() as connection:

            class Connection:
                sent = 0

                def send(self, email: OutgoingEmail) -> None:
                    connection.send(email)
                    Connection.sent += 1
                    if Connection.sent == 1:
                        os.kill(os.getpid(), signal.SIGTERM)

            yield Connection()


def test_sigterm_lets_the_current_batch_finish(
    app: Flask, app_context: None, smtp: SmtpCapture
) -> None:
    for n in range(3):
        make_email(n, now=None)
    config = app.config["MEMBERSHIP"].with_overrides(mail_url=smtp.url)
    sender = _SigtermAfterFirst(SmtpSender.from_url(smtp.url, mail_from=config.mail_from))
    worker = Worker(db.session, config, payments.gateway, sender, jobs=[])  # type: ignore[arg-type]
    stop = threading.Event()
    with stop_on_signals(stop):
        worker.run(stop, poll=0.01)
    # The signal came after the first message; the other two of the batch were still sent.
    assert stop.is_set()
    assert sorted(m["Subject"] for m in smtp.messages) == [f"Message {n}" for n in range(3)]
    db.session.expire_all()
    statuses = db.session.scalars(select(EmailMessage.status)).all()
    assert statuses == [EmailStatus.SENT] * 3
