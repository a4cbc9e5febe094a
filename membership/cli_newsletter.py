"""More `flask newsletter` commands: scheduled sends and the suppression list import."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from membership.cli import newsletter_cli
from membership.extensions import db
from membership.models import utcnow


@newsletter_cli.command("send-scheduled")
def newsletter_send_scheduled() -> None:
    """Send every scheduled issue whose time has come (run every minute or so)."""
    from membership.services.newsletter.schedule import send_scheduled_job

    reports = send_scheduled_job(
        db.session(), current_app.config["MEMBERSHIP"], now=utcnow(), commit=db.session.commit
    )
    click.echo(
        f"{len(reports)} scheduled issue(s) sent, {sum(r.queued for r in reports)} emails queued."
    )


@newsletter_cli.command("suppress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--reason",
    type=click.Choice(["bounce", "complaint"]),
    default=None,
    help="for files without a reason column",
)
def newsletter_suppress(path: Path, reason: str | None) -> None:
    """Import an email provider's bounce/complaint list (CSV: email[,reason]): never mailed again."""
    from membership.services.newsletter.suppression_import import (
        SuppressionError,
        import_suppressions,
    )

    try:
        report = import_suppressions(
            db.session(), path.read_bytes(), default_reason=reason, now=utcnow()
        )
    except SuppressionError as error:
        db.session().rollback()
        raise click.ClickException(error.message) from None
    db.session().commit()
    click.echo(f"{report.added} address(es) suppressed, {report.already} already were.")
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
