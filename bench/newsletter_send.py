"""Queueing a newsletter issue for 100,000 confirmed subscribers, against a bulk insert of the same rows.

A send queues one `issue_delivery` row per reader in one INSERT ... SELECT per batch; the outbox
worker makes each reader's copy later. The baseline, measured in the same run on the same
database: the same delivery rows (issue, subscriber, appeal flag, time), read into Python
beforehand, bulk-inserted into the same table (same keys and indexes) in the same batch size,
one commit per batch, with no logic at all. Goal: send / baseline <= 1.5, and peak memory flat
between 10k, 50k and 100k queued (tracemalloc runs in a separate pass, because it slows Python).

For scale it also prints the baseline of the earlier bench (rows carrying a whole message:
address, subject, text and HTML bodies), and what the worker then spends making the copies
(render, sign the unsubscribe link, queue the outbox row), which moved out of the send.

    .venv/bin/python bench/newsletter_send.py [--subscribers 100000] [--postgres-url URL]
        [--copies 10000]

SQLite always runs; PostgreSQL too when given a URL (its public schema is dropped first).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database  # noqa: E402
from membership import create_app  # noqa: E402
from membership.config import Config  # noqa: E402
from membership.emails.newsletter import issue_email  # noqa: E402
from membership.extensions import db  # noqa: E402
from membership.models import IssueDelivery, NewsletterIssue, Subscriber, SubscriberStatus  # noqa: E402
from membership.services.newsletter import issues as issues_service  # noqa: E402
from membership.services.newsletter.delivery import (  # noqa: E402
    IssueCopies,
    make_issue_messages,
)
from membership.services.newsletter.links import UnsubscribeSigner  # noqa: E402
from membership.services.newsletter.send_job import send_issue_job  # noqa: E402

GOAL = 1.5
BODY = (
    "## This week\n\n"
    + "\n\n".join(
        f"**Story {n}.** A paragraph of reporting about the world, long enough to look like a "
        f"real newsletter item, with [a link](https://observatory.example/articles/story-{n})."
        for n in range(8)
    )
    + "\n\nThank you for reading.\n"
)
CHECKPOINTS = (10_000, 50_000, 100_000)
WORKER_BATCH = 50  # the worker's default outbox batch


def add_subscribers(count: int) -> None:
    now = datetime.now(UTC)
    table = Subscriber.__table__
    for start in range(0, count, 10_000):
        db.session.execute(
            table.insert(),
            [
                {
                    "email": f"reader{i}@example.org",
                    "status": SubscriberStatus.CONFIRMED,
                    "source": "bench",
                    "created_at": now,
                    "confirmed_at": now,
                }
                for i in range(start, min(start + 10_000, count))
            ],
        )
        db.session.commit()


def same_rows_baseline(issue_id: int, batch: int) -> float:
    """The send's own rows, bulk-inserted from Python into `issue_delivery` itself."""
    ids = list(db.session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
    now = datetime.now(UTC)
    table = IssueDelivery.__table__
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        rows = [
            {"issue_id": issue_id, "subscriber_id": sid, "appeal": True, "queued_at": now}
            for sid in ids[start : start + batch]
        ]
        db.session.execute(table.insert(), rows)
        db.session.commit()
    return time.perf_counter() - started


def payload_baseline(count: int, batch: int, config: Config, issue_id: int) -> float:
    """The earlier bench's baseline: rows carrying a whole message, into a scratch table."""
    metadata = MetaData()
    scratch = Table(
        "bench_baseline_payload",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("to_address", String(320)),
        Column("subject", String(500)),
        Column("text_body", Text),
        Column("html_body", Text),
    )
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    issue = db.session.get(NewsletterIssue, issue_id)
    assert issue is not None
    rendered = issue_email(config, issue)
    text_body, html_body = rendered.bodies(UnsubscribeSigner(config).url(1, "reader1@example.org"))
    started = time.perf_counter()
    for start in range(0, count, batch):
        rows = [
            {
                "to_address": f"reader{i}@example.org",
                "subject": rendered.subject,
                "text_body": text_body,
                "html_body": html_body,
            }
            for i in range(start, min(start + batch, count))
        ]
        db.session.execute(scratch.insert(), rows)
        db.session.commit()
    elapsed = time.perf_counter() - started
    metadata.drop_all(db.engine)
    return elapsed


def send(config: Config, issue_id: int, commit: Callable[[], None]) -> float:
    issue = db.session.get(NewsletterIssue, issue_id)
    assert issue is not None
    started = time.perf_counter()
    send_issue_job(db.session(), config, issue, commit=commit)
    return time.perf_counter() - started


def make_copies(config: Config, copies: int) -> float:
    """The worker's side: make `copies` reader copies, a worker batch at a time, committing."""
    kept = IssueCopies(config)  # as the worker keeps one
    started = time.perf_counter()
    made = 0
    while made < copies:
        limit = min(WORKER_BATCH, copies - made)
        made += make_issue_messages(db.session(), config, limit=limit, copies=kept)
        db.session.commit()
    return time.perf_counter() - started


def run(url: str | None, count: int, copies: int) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        config = Config(
            app_env="test",
            secret_key="bench-secret-key-that-is-long-enough-for-checks",  # noqa: S106
            database_url=fresh_database(url, Path(folder)),
            base_url="https://observatory.example",
            instance_path=folder,
            stripe_secret_key="sk_test_bench",  # noqa: S106
            stripe_webhook_secret="whsec_bench",  # noqa: S106
        )
        app = create_app(config)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            add_subscribers(count)
            issues = [
                issues_service.save_issue(db.session(), subject=f"Week {n}", body_markdown=BODY)
                for n in (47, 48, 49)
            ]
            db.session.commit()
            baseline_id, timed_id, traced_id = (issue.id for issue in issues)
            batch = config.newsletter_send_batch
            dialect = db.engine.dialect.name

            base_rows = same_rows_baseline(baseline_id, batch)
            base_payload = payload_baseline(count, batch, config, baseline_id)
            elapsed = send(config, timed_id, db.session.commit)
            queued = issues_service.recipient_count(db.session(), timed_id)
            assert queued == count, (queued, count)

            # Second pass with tracemalloc on (it slows Python, so it is not the timed pass).
            peaks: dict[int, int] = {}
            commits = {"n": 0}

            def commit_and_measure() -> None:
                db.session.commit()
                done = commits["n"] * batch  # the first commit only marks the issue sending
                commits["n"] += 1
                for mark in CHECKPOINTS:
                    if done >= mark and mark not in peaks:
                        peaks[mark] = tracemalloc.get_traced_memory()[1]

            tracemalloc.start()
            send(config, traced_id, commit_and_measure)
            peaks.setdefault(count, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

            made = min(copies, count)
            copy_seconds = make_copies(config, made) if made else 0.0

        ratio = elapsed / base_rows
        lines = [
            f"database: {dialect}, {count:,} confirmed subscribers, batch {batch}",
            f"baseline, the same delivery rows bulk-inserted: {base_rows:7.2f} s",
            f"send_issue_job (delivery rows, INSERT...SELECT): {elapsed:7.2f} s",
            f"ratio send / same-rows baseline:                {ratio:7.2f}  (goal <= {GOAL}) "
            + ("MET" if ratio <= GOAL else "NOT MET"),
            f"earlier baseline, rows with whole messages:      {base_payload:7.2f} s  "
            f"(send / it: {elapsed / base_payload:.2f}, for scale)",
        ]
        lines += [
            f"peak traced memory after {mark:>7,} queued: {peaks[mark] / 1e6:6.2f} MB"
            for mark in sorted(peaks)
        ]
        if made:
            lines.append(
                f"worker side, making {made:,} copies in batches of {WORKER_BATCH}: "
                f"{copy_seconds:.2f} s ({copy_seconds / made * 1e3:.2f} ms a copy)"
            )
        return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--postgres-url", default=None, help="also run on this PostgreSQL URL")
    parser.add_argument("--copies", type=int, default=10_000, help="copies the worker makes")
    args = parser.parse_args()
    report = run(None, args.subscribers, args.copies)
    if args.postgres_url:
        report += ["", *run(args.postgres_url, args.subscribers, args.copies)]
    print("\n".join(report))


if __name__ == "__main__":
    main()
