"""The flask CLI groups: demo, staff, articles, stripe, outbox, newsletter, lifecycle (api-tokens
and webhooks live in `cli_integrations`, reports in `cli_reports`)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from membership import cli_integrations as integration_commands
from membership import cli_reports
from membership.config import Config, ConfigError
from membership.emails.sender import sender_from_config
from membership.extensions import db, payments
from membership.models import NewsletterIssue, SubscriberStatus, utcnow
from membership.payments.account_setup import AccountSetup
from membership.services import articles as article_service
from membership.services import demo as demo_service
from membership.services import outbox_delivery
from membership.services.appeal_reminders import queue_due_reminders
from membership.services.errors import PaymentUnavailable
from membership.services.integrations.delivery import deliver_due_webhooks_job
from membership.services.newsletter import list_admin, list_import
from membership.services.newsletter.delivery import IssueCopies, make_issue_messages_job
from membership.services.newsletter.issues import IssueError
from membership.services.newsletter.send_job import send_issue_job
from membership.services.reminders import queue_renewal_reminders
from membership.services.reports import summary as report_summary
from membership.services.staff import accounts as staff_service
from membership.services.stripe_setup import set_up_stripe
from membership.services.stripe_sync import sync_from_stripe
from membership.worker.loop import Worker, stop_on_signals

demo_cli = AppGroup("demo", help="Demo content for trying the service.")
staff_cli = AppGroup("staff", help="Newsroom staff accounts.")
articles_cli = AppGroup("articles", help="Articles.")
stripe_cli = AppGroup("stripe", help="Stripe: set up the account, recover missed webhooks.")
outbox_cli = AppGroup("outbox", help="Queued email.")
reminders_cli = AppGroup("reminders", help="Reminders to supporters.")
accounts_cli = AppGroup("accounts", help="Supporter accounts.")
newsletter_cli = AppGroup("newsletter", help="The newsletter list and its issues.")
lifecycle_cli = AppGroup("lifecycle", help="Lifecycle email: welcome, asks, dunning, statements.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Add the demo articles, banner variants and staff account (safe to run again)."""
    summary = demo_service.seed_demo(db.session())
    # The staff reports read the daily summary of the publication's zone (built once here;
    # the money writers keep it from then on).
    config: Config = current_app.config["MEMBERSHIP"]
    if not report_summary.covers(db.session(), config.zone):
        report_summary.rebuild(db.session(), config.zone)
    db.session().commit()
    click.echo(
        f"Demo ready: {summary.articles} articles, {summary.variants} banner variants, "
        f"staff account {summary.admin_email} (admin)."
    )
    if summary.donations_added:
        click.echo(
            f"Added a year of history: {summary.donations_added} donations, "
            f"{summary.subscriptions_added} recurring supporters."
        )


@staff_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "editor", "finance"]),
    required=True,
    help="What this person may do.",
)
@click.option("--name", default="", help="Display name.")
def staff_create(email: str, role: str, name: str) -> None:
    """Create a staff account, or change the role of an existing one."""
    try:
        member = staff_service.create_or_update_staff(
            db.session(), email=email, role=role, name=name
        )
    except staff_service.StaffError as error:
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(f"{member.email} is now {member.role.value}.")


@articles_cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def articles_import(path: Path) -> None:
    """Import Markdown files with front matter (a file or a folder of *.md)."""
    try:
        imported = article_service.import_articles(db.session(), path)
    except article_service.ArticleError as error:
        db.session().rollback()
        raise click.ClickException(str(error)) from None
    db.session().commit()
    for article in imported:
        click.echo(f"imported {article.slug} ({article.status.value})")


@stripe_cli.command("setup")
def stripe_setup() -> None:
    """Create or update the webhook endpoint and billing portal configuration (idempotent)."""
    config = current_app.config["MEMBERSHIP"]
    if not config.stripe_secret_key:
        raise click.ClickException("STRIPE_SECRET_KEY is not set: put your secret key there.")
    try:
        report = set_up_stripe(AccountSetup(payments.gateway), config)
    except PaymentUnavailable as error:
        raise click.ClickException(
            f"Stripe did not answer: {error.detail or error.message}"
        ) from None
    money = {"live": "LIVE mode: real money", "test": "test mode: no real money"}
    click.echo(f"Stripe account in {money.get(report.mode, 'an unknown mode (key prefix?)')}.")
    click.echo(
        f"Webhook endpoint {report.endpoint_id} ({report.endpoint_action}): {report.webhook_url}"
    )
    click.echo(
        f"Billing portal configuration {report.portal_configuration_id} ({report.portal_action})"
    )
    for note in report.notes:
        click.echo(f"  note: {note}")
    click.echo("\nPut these in the environment (.env or your service manager):")
    if report.webhook_secret:
        click.echo(f"  STRIPE_WEBHOOK_SECRET={report.webhook_secret}   # shown this once")
    else:
        click.echo("  STRIPE_WEBHOOK_SECRET=<unchanged: the secret you saved when it was created>")
    click.echo(f"  STRIPE_PORTAL_CONFIGURATION={report.portal_configuration_id}")


@stripe_cli.command("sync")
@click.option(
    "--since",
    "since_text",
    default=None,
    help="ISO date-time (UTC unless it says otherwise); default: 3 days ago.",
)
def stripe_sync(since_text: str | None) -> None:
    """Apply every Stripe event (and paid object) since then that we have not applied yet."""
    if since_text:
        try:
            since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter("use an ISO date-time like 2026-11-01T00:00") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    else:
        since = datetime.now(UTC) - timedelta(days=3)
    config = current_app.config["MEMBERSHIP"]
    try:
        # A job: it commits after each event (see sync_from_stripe).
        report = sync_from_stripe(
            db.session(),
            payments.gateway,
            config,
            since=since,
            now=utcnow(),
            commit=db.session.commit,
            rollback=db.session.rollback,
        )
    except PaymentUnavailable as error:
        db.session.rollback()
        raise click.ClickException(
            f"Stripe did not answer: {error.detail or error.message}"
        ) from None
    click.echo(
        f"events: {report.events_seen} seen, {report.events_applied} applied, "
        f"{report.events_skipped} already applied, {report.events_failed} failed; "
        f"reconciled {report.donations_reconciled} donations, "
        f"{report.subscriptions_reconciled} subscriptions"
    )
    for line in report.errors:
        click.echo(f"  ! {line}", err=True)
    if report.events_failed:
        raise SystemExit(1)


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--batch", default=50, show_default=True, type=click.IntRange(1, 1000), help="Emails per claim."
)
@click.option(
    "--poll",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds to wait when nothing is due.",
)
def outbox_work(once: bool, batch: int, poll: float) -> None:
    """Send queued email; several workers may run at once. Stops cleanly on SIGTERM or Ctrl-C."""
    config: Config = current_app.config["MEMBERSHIP"]
    try:
        sender = sender_from_config(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    stop = threading.Event()
    copies = IssueCopies(config)
    with stop_on_signals(stop, enabled=not once):
        while not stop.is_set():
            made = make_issue_messages_job(db.session(), config, limit=batch, copies=copies)
            report = outbox_delivery.deliver_due_job(
                db.session(),
                sender,
                batch_size=batch,
                max_attempts=config.outbox_max_attempts,
                lease_seconds=config.outbox_lease_seconds,
            )
            if report.claimed:
                click.echo(
                    f"outbox: sent {report.sent}, will retry {report.retried}, "
                    f"failed {report.failed}"
                )
            # Outgoing webhooks share the outbox worker (and whatever runs it).
            hooks = deliver_due_webhooks_job(db.session(), config, batch_size=batch)
            if hooks.claimed:
                click.echo(
                    f"webhooks: delivered {hooks.delivered}, will retry {hooks.retried}, "
                    f"failed {hooks.failed}"
                )
            # A full batch means more may be due right away; a short one means the queue is drained.
            if max(made, report.claimed, hooks.claimed) < batch:
                if once:
                    break
                stop.wait(poll)


@newsletter_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--basis",
    default="",
    help="How these people agreed to get the newsletter (recorded with each address).",
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; change nothing.")
def newsletter_import(path: Path, basis: str, dry_run: bool) -> None:
    """Add the addresses in a CSV file as confirmed subscribers (never re-adds unsubscribed ones)."""
    data = path.read_bytes()
    try:
        if dry_run:
            report = list_import.check_import(db.session(), data)
        else:
            report = list_import.import_subscribers(
                db.session(), data, basis=basis, source=f"import:{path.name[:100]}"
            )
            db.session().commit()
    except list_import.ImportFileError as error:
        db.session().rollback()
        raise click.ClickException(str(error)) from None
    verb = "imported" if report.applied else "would import"
    click.echo(
        f"{report.rows} rows: {verb} {len(report.valid)}, invalid {len(report.invalid)}, "
        f"repeated {len(report.duplicates)}, already on the list {len(report.already_subscribed)}, "
        f"unsubscribed (left out) {len(report.already_unsubscribed)}"
    )
    for line in report.invalid[:50]:
        click.echo(f"  line {line.line}: {line.value!r}: {line.reason}", err=True)


@newsletter_cli.command("export")
@click.option(
    "--status",
    type=click.Choice(["pending", "confirmed", "unsubscribed"]),
    default=None,
    help="Only addresses with this status.",
)
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout."
)
def newsletter_export(status: str | None, output: TextIO) -> None:
    """Write the list as CSV, streamed in batches."""
    filters = list_admin.ListFilter(status=SubscriberStatus(status) if status else None)
    for chunk in list_admin.export_csv(db.session(), filters):
        output.write(chunk)


@newsletter_cli.command("send")
@click.argument("issue_id", type=int)
def newsletter_send(issue_id: int) -> None:
    """Queue an issue for every confirmed subscriber (resumes an interrupted send)."""
    issue = db.session().get(NewsletterIssue, issue_id)
    if issue is None:
        raise click.ClickException(f"There is no issue {issue_id}.")
    try:
        report = send_issue_job(
            db.session(), current_app.config["MEMBERSHIP"], issue, commit=db.session.commit
        )
    except IssueError as error:
        db.session().rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"queued {report.queued} emails in {report.batches} batches")


@reminders_cli.command("send")
def reminders_send() -> None:
    """Queue renewal reminders for annual gifts renewing soon, and the due "remind me later"
    emails (safe to run again)."""
    config = current_app.config["MEMBERSHIP"]
    queued = queue_renewal_reminders(db.session(), config=config, now=utcnow())
    appeals = queue_due_reminders(db.session(), config=config, now=utcnow())
    db.session().commit()
    click.echo(f"{queued} renewal reminder(s) and {appeals} appeal reminder(s) queued.")


@lifecycle_cli.command("run")
def lifecycle_run() -> None:
    """Queue every lifecycle email due now (run daily or hourly; nothing is sent twice)."""
    from membership.services.lifecycle.run import card_expiry_from, run

    config = current_app.config["MEMBERSHIP"]
    summary = run(
        db.session(), utcnow(), config=config, card_expiry=card_expiry_from(payments.gateway)
    )
    db.session().commit()
    click.echo(", ".join(f"{kind}: {count}" for kind, count in summary.items()) + " queued.")


@accounts_cli.command("purge-links")
def accounts_purge_links() -> None:
    """Blank expired sign-in links in sent mail and drop old link records (run daily)."""
    from membership.services.sign_in import purge_sign_in_links

    config = current_app.config["MEMBERSHIP"]
    purged = purge_sign_in_links(db.session(), config=config, now=datetime.now(UTC))
    db.session().commit()
    click.echo(f"{purged} expired sign-in link record(s) cleaned.")


@click.command("worker")
@click.option(
    "--batch", default=50, show_default=True, type=click.IntRange(1, 1000), help="Emails per claim."
)
@click.option(
    "--poll",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds to wait when nothing is due.",
)
@click.option("--once", is_flag=True, help="Run what is due now (jobs and one batch), then exit.")
def worker(batch: int, poll: float, once: bool) -> None:
    """Send queued email and run every periodic job on its schedule (run one or several)."""
    config: Config = current_app.config["MEMBERSHIP"]
    try:
        sender = sender_from_config(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    runner = Worker(db.session, config, payments.gateway, sender, batch_size=batch)
    click.echo(f"worker: outbox and jobs {', '.join(job.name for job in runner.jobs)}")
    if once:
        runner.tick()
        return
    stop = threading.Event()
    with stop_on_signals(stop):
        runner.run(stop, poll=poll)
    click.echo("worker: stopped")


@click.command("static-folder")
def static_folder() -> None:
    """Print the folder of the static files, for the proxy that serves them (deploy/nginx.conf)."""
    click.echo(current_app.static_folder)


def register(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(static_folder)
    from membership import cli_newsletter  # noqa: F401 (adds its commands to newsletter_cli)

    for group in (
        demo_cli,
        staff_cli,
        articles_cli,
        stripe_cli,
        outbox_cli,
        reminders_cli,
        accounts_cli,
        newsletter_cli,
        lifecycle_cli,
        integration_commands.api_tokens_cli,
        integration_commands.webhooks_cli,
        cli_reports.reports_cli,
    ):
        app.cli.add_command(group)
