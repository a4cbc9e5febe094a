"""Outbox delivery to an SMTP server on loopback, against `smtplib` sending the same prepared
messages over one connection.

The server is aiosmtpd in its own process, accepting every message and keeping none. The same
N queued messages are delivered in every round: half receipts (queued with their data, rendered by
the worker when it sends them) and half newsletter-like messages queued with their bodies and
List-Unsubscribe headers.

- baseline: each message already built as bytes (the email package, before the clock starts),
  then one `smtplib.SMTP` connection and `sendmail` for each; nothing else.
- app: `services.outbox.deliver_due_job` with the app's `SmtpSender` until nothing is due: claim
  a batch (FOR UPDATE SKIP LOCKED on PostgreSQL), build each message, send it, record each result.

Rounds alternate (baseline, app, baseline, ...) and the median rate of each counts. Goal: app /
baseline >= 0.5, with one SMTP connection per claimed batch.

    .venv/bin/python -m bench.outbox_delivery [--messages 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

from sqlalchemy import update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.article_page import free_port  # noqa: E402
from bench.databases import fresh_database  # noqa: E402
from bench.webhooks import wait_for_port  # noqa: E402
from membership import create_app  # noqa: E402
from membership.config import Config  # noqa: E402
from membership.emails.receipts import receipt_email  # noqa: E402
from membership.emails.render import ComposedEmail  # noqa: E402
from membership.emails.sender import (  # noqa: E402
    MailConnection,
    OutgoingEmail,
    SmtpSender,
    build_mime,
)
from membership.extensions import db  # noqa: E402
from membership.models import (  # noqa: E402
    Donation,
    DonationKind,
    EmailMessage,
    EmailStatus,
    Frequency,
)
from membership.services.outbox import queue_checked_emails  # noqa: E402
from membership.services.outbox_delivery import deliver_due_job  # noqa: E402

NEWSLETTER_TEXT = "\n\n".join(
    f"Story {n}. A paragraph of reporting about the world, long enough to look like a real "
    f"newsletter item: https://observatory.example/articles/story-{n}"
    for n in range(8)
)
NEWSLETTER_HTML = "".join(
    f"<p><strong>Story {n}.</strong> A paragraph of reporting about the world, long enough to "
    f'look like a real newsletter item, <a href="https://observatory.example/articles/story-{n}">'
    f"read it</a>.</p>\n"
    for n in range(8)
)


def serve(port: int) -> None:
    """The SMTP server: accepts everything, keeps nothing."""
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


def queue_messages(config: Config, count: int) -> None:
    now = datetime.now(UTC)
    emails: list[tuple[ComposedEmail, str]] = []
    for n in range(count):
        to = f"reader{n}@example.org"
        if n % 2 == 0:
            donation = Donation(
                id=n + 1,
                amount_cents=500 + n,
                fee_cents=n % 3 * 20,
                currency="usd",
                kind=DonationKind.ONE_OFF,
                paid_at=now,
                receipt_number=f"OBS-{now.year}-{n + 1:06d}",
            )
            email = receipt_email(config, donation, to=to, frequency=Frequency.ONCE)
        else:
            unsubscribe = f"https://observatory.example/newsletter/unsubscribe/{n:08d}.signature"
            email = ComposedEmail(
                kind="newsletter",
                to=to,
                subject="The Observatory, week 48",
                text=f"{NEWSLETTER_TEXT}\n\nUnsubscribe: {unsubscribe}\n",
                html=f'{NEWSLETTER_HTML}<p><a href="{unsubscribe}">Unsubscribe</a></p>\n',
                headers={
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        emails.append((email, f"bench:{n}"))
    for start in range(0, count, 1000):
        queue_checked_emails(db.session(), emails[start : start + 1000], now=now)
    db.session.commit()


def prepared_messages(config: Config) -> list[tuple[str, bytes]]:
    """Every queued message as the bytes a plain `smtplib` program would send."""
    prepared = []
    for message in db.session.scalars(db.select(EmailMessage).order_by(EmailMessage.id)):
        outgoing = OutgoingEmail(
            id=message.id,
            to=message.to_address,
            subject=message.subject,
            text=message.text_body,
            html=message.html_body,
            headers=dict(message.headers),
            created_at=message.created_at,
            render_data=message.render_data,
        )
        mime = build_mime(outgoing, mail_from=config.mail_from)
        prepared.append((message.to_address, mime.as_bytes(policy=policy.SMTP)))
    db.session.rollback()
    return prepared


def requeue_all() -> None:
    db.session.execute(
        update(EmailMessage).values(
            status=EmailStatus.QUEUED,
            attempts=0,
            next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
            sent_at=None,
            claimed_until=None,
            claimed_by=None,
        )
    )
    db.session.commit()


def run_baseline(port: int, envelope_from: str, prepared: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    try:
        for to, data in prepared:
            client.sendmail(envelope_from, [to], data)
    finally:
        client.quit()
    return len(prepared) / (time.perf_counter() - started)


class CountingSender(SmtpSender):
    """The app's sender, counting the connections it opens."""

    opened = 0

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        CountingSender.opened += 1
        with super().connect() as connection:
            yield connection


def run_app(sender: SmtpSender, config: Config, batch: int, count: int) -> float:
    started = time.perf_counter()
    sent = 0
    while True:
        report = deliver_due_job(
            db.session(),
            sender,
            batch_size=batch,
            max_attempts=config.outbox_max_attempts,
            lease_seconds=config.outbox_lease_seconds,
        )
        sent += report.sent
        if report.claimed == 0:
            break
    elapsed = time.perf_counter() - started
    if sent != count:
        raise SystemExit(f"the app sent {sent} of {count} messages")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50, help="the worker's claim size")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.outbox_delivery", "--serve", str(port)], cwd=ROOT
    )
    try:
        wait_for_port(port, 60)
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
                mail_url=f"smtp://127.0.0.1:{port}",
            )
            app = create_app(config)
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                queue_messages(config, args.messages)
                prepared = prepared_messages(config)
                sender = CountingSender.from_url(config.mail_url, mail_from=config.mail_from)
                envelope_from = sender.mail_from.rpartition("<")[2].rstrip(">")
                rates: dict[str, list[float]] = {"baseline": [], "app": []}
                connections = []
                for _round in range(args.rounds):
                    rates["baseline"].append(run_baseline(port, envelope_from, prepared))
                    requeue_all()
                    CountingSender.opened = 0
                    rates["app"].append(run_app(sender, config, args.batch, args.messages))
                    connections.append(CountingSender.opened)
    finally:
        server.terminate()
        server.wait(timeout=10)

    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{args.messages} messages (half receipts rendered at delivery), {database}, "
        f"batches of {args.batch}, {args.rounds} alternating rounds"
    )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, values in rates.items():
        every = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:>9}: {medians[name]:8.1f} messages/s (median of {every})")
    batches = -(-args.messages // args.batch)
    print(f"SMTP connections per app round: {connections} for {batches} batches")
    print(f"ratio app/baseline: {medians['app'] / medians['baseline']:.2f} (goal >= 0.50)")


if __name__ == "__main__":
    main()
