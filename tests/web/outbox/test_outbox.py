"""The email outbox: queued in the caller's transaction, delivered over real SMTP, retried, never twice."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpers.factories import BASE_TIME, make_email
from helpers.smtp_capture import SmtpCapture
from membership.config import Config, ConfigError
from membership.emails.render import ComposedEmail
from membership.emails.sender import (
    ConsoleSender,
    InvalidEmailError,
    MailConnection,
    MailDeliveryError,
    OutgoingEmail,
    Sender,
    SmtpSender,
    sender_from_config,
)
from membership.extensions import db
from membership.models import EmailMessage, EmailStatus, EmailSuppression
from membership.services.outbox import (
    claim_batch,
    enqueue_email,
    queue_checked_emails,
    retry_delay,
)
from membership.services.outbox_delivery import DeliveryReport, deliver_due_job

pytestmark = pytest.mark.usefixtures("app_context")

NOW = BASE_TIME
MAIL_FROM = "The Observatory <support@observatory.example>"


def deliver(
    sender: Sender,
    now: datetime = NOW,
    *,
    session: Session | None = None,
    batch: int = 50,
    max_attempts: int | None = None,
) -> DeliveryReport:
    config: Config = current_app.config["MEMBERSHIP"]
    return deliver_due_job(
        session or db.session(),
        sender,
        batch_size=batch,
        max_attempts=max_attempts or config.outbox_max_attempts,
        lease_seconds=config.outbox_lease_seconds,
        now=now,
    )


def smtp_sender(capture: SmtpCapture) -> SmtpSender:
    return SmtpSender.from_url(capture.url, mail_from=MAIL_FROM)


def stored(message_id: int) -> EmailMessage:
    db.session.expire_all()
    message = db.session.get(EmailMessage, message_id)
    assert message is not None
    return message


def count_messages() -> int:
    return db.session.scalar(select(func.count()).select_from(EmailMessage)) or 0


def skip_unless_postgres() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers and FOR UPDATE SKIP LOCKED")


def text_and_html(message: MimeMessage) -> tuple[str, str | None]:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None
    return (
        text_part.get_content(),
        html_part.get_content() if html_part is not None else None,
    )


# Queueing


def test_enqueue_stores_a_queued_message() -> None:
    message = make_email(1, html="<p>Thank you</p>", headers={"X-Campaign": "autumn"})
    loaded = stored(message.id)
    assert loaded.status is EmailStatus.QUEUED
    assert loaded.attempts == 0
    assert loaded.next_attempt_at == NOW == loaded.created_at
    assert loaded.headers == {"X-Campaign": "autumn"}
    assert loaded.html_body == "<p>Thank you</p>"
    assert (loaded.claimed_until, loaded.claimed_by, loaded.sent_at) == (None, None, None)


def test_the_same_business_event_queues_once() -> None:
    first = make_email(1)
    again = enqueue_email(
        db.session(),
        kind="receipt",
        to=first.to_address,
        subject="Again",
        text="Again",
        dedupe_key="test:1",
    )
    db.session.commit()
    assert again is None
    assert stored(first.id).subject == "Message 1"
    for _ in range(2):  # no dedupe key: nothing to deduplicate on
        enqueue_email(db.session(), kind="newsletter", to="a@example.org", subject="News", text="…")
    db.session.commit()
    assert count_messages() == 3


def test_a_batch_queues_each_dedupe_key_once_and_says_which_it_queued() -> None:
    def composed(n: int) -> ComposedEmail:
        return ComposedEmail(
            kind="newsletter",
            to=f"r{n}@example.org",
            subject="News",
            text="…",
            html="<p>…</p>",
            headers={"List-Id": "News <news.example.org>"},
        )

    first = queue_checked_emails(
        db.session(), [(composed(n), f"news:{n}") for n in (1, 2)], now=NOW
    )
    again = queue_checked_emails(
        db.session(), [(composed(n), f"news:{n}") for n in (2, 3)], now=NOW
    )
    db.session.commit()
    assert sorted(key for _, key in first) == ["news:1", "news:2"]
    assert [key for _, key in again] == ["news:3"]
    assert count_messages() == 3
    third = stored(again[0][0])
    assert (third.to_address, third.status, third.headers) == (
        "r3@example.org",
        EmailStatus.QUEUED,
        {"List-Id": "News <news.example.org>"},
    )
    assert queue_checked_emails(db.session(), [], now=NOW) == []


def test_enqueue_belongs_to_the_callers_transaction() -> None:
    enqueue_email(db.session(), kind="receipt", to="a@example.org", subject="S", text="T")
    db.session.rollback()
    assert count_messages() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": "not-an-address"}, "not an address we can send to"),
        ({"to": "a@example.org, b@example.org"}, "not an address we can send to"),
        # The support form used to take it; the mailer never did.
        ({"to": "a,b@example.com"}, "not an address we can send to"),
        ({"subject": "Hi\r\nBcc: everyone@example.org"}, "line breaks"),
        ({"headers": {"X-Note": "a\nb"}}, "line breaks"),
        ({"headers": {"Bcc": "spy@example.org"}}, "set by the sender"),
        ({"headers": {"Content-Type": "text/evil"}}, "not an allowed header"),
        ({"headers": {"Bad Header": "x"}}, "not an allowed header"),
    ],
)
def test_unsendable_email_is_refused_when_queued(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "kind": "receipt",
        "to": "a@example.org",
        "subject": "S",
        "text": "T",
    }
    values.update(fields)
    with pytest.raises(InvalidEmailError, match=message):
        enqueue_email(db.session(), **values)  # type: ignore[arg-type]
    assert count_messages() == 0


@pytest.mark.postgres_only
def test_concurrent_duplicates_end_in_one_row() -> None:
    skip_unless_postgres()
    engine = db.engine
    start = threading.Barrier(8)
    results: list[bool] = []

    def enqueue_same_event() -> None:
        with Session(engine) as session:
            start.wait()
            queued = enqueue_email(
                session,
                kind="receipt",
                to="a@example.org",
                subject="Receipt",
                text="Thanks",
                dedupe_key="receipt:in_race",
            )
            session.commit()
            results.append(queued is not None)

    run_threads(enqueue_same_event, 8)
    assert sorted(results) == [False] * 7 + [True]
    assert count_messages() == 1


# Delivery over real SMTP


def test_worker_sends_real_mime(smtp: SmtpCapture) -> None:
    message = make_email(
        1,
        to="zoe@example.org",
        subject="Merci, Zoë — your receipt",
        text="Thank you for your support.\nhttps://observatory.example/account\n",
        html="<p>Thank you for your <strong>support</strong>.</p>",
        headers={
            "List-Unsubscribe": "<https://observatory.example/newsletter/unsubscribe/tok>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    report = deliver(smtp_sender(smtp))
    assert report == DeliveryReport(sent=1)

    [mail] = smtp.received
    assert mail.mail_from == "support@observatory.example"
    assert mail.rcpt_tos == ["zoe@example.org"]
    mime = mail.message
    assert mime["From"] == MAIL_FROM
    assert mime["To"] == "zoe@example.org"
    assert mime["Subject"] == "Merci, Zoë — your receipt"
    assert mime["Date"].datetime == NOW
    assert mime["Message-ID"].startswith(f"<outbox.{message.id}.")
    assert mime["Message-ID"].endswith("@observatory.example>")
    assert mime["List-Unsubscribe"] == "<https://observatory.example/newsletter/unsubscribe/tok>"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mime.get_content_type() == "multipart/alternative"
    text, html = text_and_html(mime)
    assert text == "Thank you for your support.\nhttps://observatory.example/account\n"
    assert html == "<p>Thank you for your <strong>support</strong>.</p>\n"

    sent = stored(message.id)
    assert sent.status is EmailStatus.SENT
    assert sent.sent_at == NOW
    assert sent.attempts == 1
    assert (sent.claimed_until, sent.claimed_by, sent.last_error) == (None, None, None)
    assert deliver(smtp_sender(smtp), NOW + timedelta(days=1)) == DeliveryReport()
    assert len(smtp.received) == 1


def test_text_only_email_is_a_single_plain_part(smtp: SmtpCapture) -> None:
    make_email(1, text="Plain words.")
    deliver(smtp_sender(smtp))
    [mime] = smtp.messages
    assert mime.get_content_type() == "text/plain"
    assert text_and_html(mime) == ("Plain words.\n", None)


def test_messages_not_yet_due_wait(smtp: SmtpCapture) -> None:
    make_email(1, now=NOW + timedelta(minutes=5))
    assert deliver(smtp_sender(smtp), NOW) == DeliveryReport()
    assert deliver(smtp_sender(smtp), NOW + timedelta(minutes=5)) == DeliveryReport(sent=1)


def test_a_refused_recipient_does_not_hold_up_the_batch_and_is_marked_bouncing(
    smtp: SmtpCapture,
) -> None:
    first, refused, last = make_email(1), make_email(2), make_email(3)
    smtp.refuse.add(refused.to_address)
    # A 5xx for the recipient is permanent: failed at once (no retry), the address bouncing.
    assert deliver(smtp_sender(smtp)) == DeliveryReport(sent=2, failed=1)
    assert sorted(m["To"] for m in smtp.messages) == [first.to_address, last.to_address]
    kept = stored(refused.id)
    assert kept.status is EmailStatus.FAILED
    assert kept.last_error is not None and "550" in kept.last_error
    suppression = db.session.get(EmailSuppression, refused.to_address)
    assert suppression is not None and suppression.reason == "bounce"
    assert "550" in suppression.detail


# Faults and retries


def test_smtp_down_keeps_the_mail_and_retries_later(smtp: SmtpCapture) -> None:
    message = make_email(1)
    smtp.stop()
    assert deliver(smtp_sender(smtp)) == DeliveryReport(retried=1)
    kept = stored(message.id)
    assert kept.status is EmailStatus.QUEUED
    assert kept.attempts == 1
    assert kept.last_error is not None and "cannot connect to mail server" in kept.last_error
    assert kept.next_attempt_at == NOW + timedelta(minutes=1)
    assert (kept.claimed_until, kept.claimed_by) == (None, None)

    smtp.start()
    assert deliver(smtp_sender(smtp), NOW + timedelta(seconds=30)) == DeliveryReport()
    assert smtp.received == []
    assert deliver(smtp_sender(smtp), NOW + timedelta(seconds=61)) == DeliveryReport(sent=1)
    assert deliver(smtp_sender(smtp), NOW + timedelta(hours=12)) == DeliveryReport()
    assert len(smtp.received) == 1
    sent = stored(message.id)
    assert sent.status is EmailStatus.SENT and sent.attempts == 2


def test_backoff_doubles_from_one_minute_up_to_six_hours() -> None:
    delays = [retry_delay(attempts) for attempts in (1, 2, 3, 4, 9, 10, 100)]
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(minutes=256),
        timedelta(hours=6),
        timedelta(hours=6),
    ]


def test_gives_up_after_the_last_attempt(smtp: SmtpCapture) -> None:
    message = make_email(1)
    smtp.stop()
    now = NOW
    reports = []
    for _ in range(3):
        reports.append(deliver(smtp_sender(smtp), now, max_attempts=3))
        now = stored(message.id).next_attempt_at
    assert reports == [
        DeliveryReport(retried=1),
        DeliveryReport(retried=1),
        DeliveryReport(failed=1),
    ]
    failed = stored(message.id)
    assert failed.status is EmailStatus.FAILED
    assert failed.attempts == 3
    assert failed.last_error is not None
    smtp.start()
    assert deliver(smtp_sender(smtp), now + timedelta(days=7), max_attempts=3) == DeliveryReport()
    assert smtp.received == []


def test_default_attempts_come_from_config(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(outbox_max_attempts=2)
    assert app.config["MEMBERSHIP"].outbox_max_attempts == 2
    with pytest.raises(ConfigError, match="OUTBOX_MAX_ATTEMPTS"):
        app_factory(outbox_max_attempts=0)


def test_an_expired_lease_is_claimed_again(smtp: SmtpCapture) -> None:
    message = make_email(1)
    lease = current_app.config["MEMBERSHIP"].outbox_lease_seconds
    # A worker claims the message and dies before sending it.
    claim_batch(db.session(), limit=10, now=NOW, lease_seconds=lease, max_attempts=8)
    db.session.commit()
    assert stored(message.id).status is EmailStatus.SENDING
    assert deliver(smtp_sender(smtp), NOW + timedelta(seconds=lease - 1)) == DeliveryReport()
    assert deliver(smtp_sender(smtp), NOW + timedelta(seconds=lease)) == DeliveryReport(sent=1)
    assert len(smtp.received) == 1
    assert stored(message.id).attempts == 2


def test_a_message_that_kills_its_workers_runs_out_of_attempts(smtp: SmtpCapture) -> None:
    message = make_email(1)
    lease = current_app.config["MEMBERSHIP"].outbox_lease_seconds
    now = NOW
    for _ in range(2):  # two workers die holding it
        claim_batch(db.session(), limit=10, now=now, lease_seconds=lease, max_attempts=2)
        db.session.commit()
        now += timedelta(seconds=lease)
    assert deliver(smtp_sender(smtp), now, max_attempts=2) == DeliveryReport()
    failed = stored(message.id)
    assert failed.status is EmailStatus.FAILED
    assert failed.last_error == "the worker sending it stopped before recording a result"
    assert smtp.received == []


class FlakySender:
    """Fails every message; before failing, lets `before_send` play another worker."""

    def __init__(self, before_send: Callable[[], None]) -> None:
        self.before_send = before_send

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        yield self

    def send(self, email: OutgoingEmail) -> None:
        self.before_send()
        raise MailDeliveryError("451 try again later")


def test_a_worker_that_lost_its_lease_does_not_overwrite_the_new_claim() -> None:
    message = make_email(1)
    lease = current_app.config["MEMBERSHIP"].outbox_lease_seconds
    engine = db.engine
    later = NOW + timedelta(seconds=lease)

    def second_worker_claims() -> None:
        with Session(engine) as session:
            claim_batch(session, limit=10, now=later, lease_seconds=lease, max_attempts=8)
            session.commit()

    assert deliver(FlakySender(second_worker_claims)) == DeliveryReport()
    current = stored(message.id)
    assert current.status is EmailStatus.SENDING
    assert current.claimed_until == later + timedelta(seconds=lease)
    assert current.last_error is None


# Several workers at once


def test_four_workers_deliver_every_message_exactly_once(app: Flask, smtp: SmtpCapture) -> None:
    # On SQLite too: there the single writer, not row locks, keeps workers apart.
    for n in range(200):
        enqueue_email(
            db.session(),
            kind="newsletter",
            to=f"reader{n}@example.org",
            subject=f"Message {n}",
            text="News",
            dedupe_key=f"news:{n}",
            now=NOW,
        )
    db.session.commit()
    engine = db.engine
    start = threading.Barrier(4)
    sent_by_worker: list[int] = []

    def worker() -> None:
        sender = smtp_sender(smtp)
        total = DeliveryReport()
        with Session(engine) as session:
            start.wait()
            while True:
                report = deliver(sender, NOW, session=session, batch=10)
                total += report
                if report.claimed == 0:
                    break
        assert total.failed == total.retried == 0
        sent_by_worker.append(total.sent)

    run_threads(worker, 4, app=app)
    subjects = Counter(message["Subject"] for message in smtp.messages)
    assert len(subjects) == 200
    assert set(subjects.values()) == {1}
    assert sum(sent_by_worker) == 200
    assert sum(1 for sent in sent_by_worker if sent) >= 2, sent_by_worker
    statuses = db.session.scalars(select(EmailMessage.status)).all()
    assert Counter(statuses) == {EmailStatus.SENT: 200}


def run_threads(target: Callable[[], None], count: int, app: Flask | None = None) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            if app is None:
                target()
            else:
                with app.app_context():
                    target()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


# Senders and configuration


def test_console_sender_prints_the_whole_message(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="membership.outbox")
    make_email(1, subject="Your sign-in link", text="Open https://observatory.example/account/x")
    assert deliver(ConsoleSender(mail_from=MAIL_FROM)) == DeliveryReport(sent=1)
    out = capsys.readouterr().out
    assert "Subject: Your sign-in link" in out
    assert "To: reader1@example.org" in out
    assert "Open https://observatory.example/account/x" in out
    assert any("Your sign-in link" in record.getMessage() for record in caplog.records)


def test_console_sender_prints_decoded_text_with_whole_links(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Demo emails are read in the terminal: a long link must not wrap with quoted-printable `=`
    (whose first half opened an "expired link" page), and non-ASCII text reads as itself."""
    link = "https://observatory.example/account/sign-in/" + "Abc123_-" * 12
    make_email(1, subject="Your sign-in link", text=f"Café reader, open {link} within 10 minutes.")
    assert deliver(ConsoleSender(mail_from=MAIL_FROM)) == DeliveryReport(sent=1)
    out = capsys.readouterr().out
    assert link in out
    assert "Café reader" in out
    assert "=\n" not in out and "=3D" not in out


def test_sender_from_config(config: Config) -> None:
    assert isinstance(sender_from_config(config), ConsoleSender)
    url = "smtp+starttls://news%40observatory.example:p%40ss@mail.example:2587"
    sender = sender_from_config(config.with_overrides(mail_url=url))
    assert isinstance(sender, SmtpSender)
    assert (sender.host, sender.port, sender.security) == ("mail.example", 2587, "starttls")
    assert (sender.username, sender.password) == ("news@observatory.example", "p@ss")
    assert "p@ss" not in repr(sender)
    tls = SmtpSender.from_url("smtps://u:p@mail.example", mail_from=MAIL_FROM)
    assert (tls.port, tls.security) == (465, "tls")
    assert SmtpSender.from_url("smtp://127.0.0.1", mail_from=MAIL_FROM).port == 25
    with pytest.raises(ConfigError, match="MAIL_URL must start with"):
        sender_from_config(config.with_overrides(mail_url="http://mail.example"))
    with pytest.raises(ConfigError, match="MAIL_URL is not set"):
        sender_from_config(
            config.with_overrides(
                app_env="production", stripe_secret_key="sk", stripe_webhook_secret="whsec"
            )
        )
