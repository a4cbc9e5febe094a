"""Queueing a newsletter issue for 100,000 confirmed subscribers, against a bulk insert of as many rows.

The baseline, measured in the same run on the same database: inserting the same number of rows
carrying the same payload (address, subject, text and HTML bodies) into a scratch table, in the
same batch size, one commit per batch, with no logic at all. A second, barer baseline (id and
address only) is printed for scale. Goal: send / baseline <= 2, and peak memory flat between 10k,
50k and 100k queued (tracemalloc runs in a separate pass, because it slows Python down).

    .venv/bin/python bench/newsletter_send.py [--subscribers 100000] [--database-url URL]
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

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from membership import create_app  # noqa: E402
from membership.config import Config  # noqa: E402
from membership.emails.newsletter import issue_email  # noqa: E402
from membership.extensions import db  # noqa: E402
from membership.models import NewsletterIssue, Subscriber, SubscriberStatus  # noqa: E402
from membership.services.newsletter import issues as issues_service  # noqa: E402
from membership.services.newsletter.links import UnsubscribeSigner  # noqa: E402
from membership.services.newsletter.send_job import send_issue_job  # noqa: E402

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


def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


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


def baseline(count: int, batch: int, config: Config, issue_id: int, *, payload: bool) -> float:
    """Bulk-insert `count` rows into a scratch table, batch by batch, no logic."""
    metadata = MetaData()
    columns = [Column("id", Integer, primary_key=True), Column("to_address", String(320))]
    if payload:
        columns += [
            Column("subject", String(500)),
            Column("text_body", Text),
            Column("html_body", Text),
        ]
    scratch = Table(f"bench_baseline_{'payload' if payload else 'bare'}", metadata, *columns)
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    issue = db.session.get(NewsletterIssue, issue_id)
    assert issue is not None
    rendered = issue_email(config, issue)
    url = UnsubscribeSigner(config).url(1, "reader1@example.org")
    text_body, html_body = rendered.bodies(url)
    started = time.perf_counter()
    for start in range(0, count, batch):
        rows: list[dict[str, object]] = []
        for i in range(start, min(start + batch, count)):
            row: dict[str, object] = {"to_address": f"reader{i}@example.org"}
            if payload:
                row.update(subject=rendered.subject, text_body=text_body, html_body=html_body)
            rows.append(row)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    count: int = args.subscribers
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(args.database_url, Path(folder))
        config = Config(
            app_env="test",
            secret_key="bench-secret-key-that-is-long-enough-for-checks",  # noqa: S106
            database_url=url,
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
            timed = issues_service.save_issue(db.session(), subject="Week 48", body_markdown=BODY)
            traced = issues_service.save_issue(db.session(), subject="Week 49", body_markdown=BODY)
            db.session.commit()
            batch = config.newsletter_send_batch
            dialect = db.engine.dialect.name

            base_payload = baseline(count, batch, config, timed.id, payload=True)
            base_bare = baseline(count, batch, config, timed.id, payload=False)
            elapsed = send(config, timed.id, db.session.commit)

            # Second pass with tracemalloc on (it slows Python, so it is not the timed pass).
            peaks: dict[int, int] = {}
            batches = {"n": 0}

            def commit_and_measure() -> None:
                db.session.commit()
                queued = batches["n"] * batch
                batches["n"] += 1
                for mark in CHECKPOINTS:
                    if queued >= mark and mark not in peaks:
                        peaks[mark] = tracemalloc.get_traced_memory()[1]

            tracemalloc.start()
            send(config, traced.id, commit_and_measure)
            peaks.setdefault(count, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

        print(f"database: {dialect}, {count:,} confirmed subscribers, batch {batch}")
        print(f"baseline, same payload, bulk insert: {base_payload:7.2f} s")
        print(f"baseline, bare rows (id, address):   {base_bare:7.2f} s")
        print(f"send_issue_job (emails, deliveries):  {elapsed:7.2f} s")
        print(f"ratio send / payload baseline:       {elapsed / base_payload:7.2f}  (goal <= 2)")
        print(f"ratio send / bare-row baseline:      {elapsed / base_bare:7.2f}  (for scale)")
        for mark in sorted(peaks):
            print(f"peak traced memory after {mark:>7,} queued: {peaks[mark] / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
