"""The `reports` commands: the daily summary the staff reports read."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import AppGroup

from membership.config import Config
from membership.extensions import db
from membership.services.reports import summary

reports_cli = AppGroup("reports", help="Staff reports: the daily summary they read.")


@reports_cli.command("rebuild-summary")
@click.option(
    "--zone",
    "zone_name",
    default="",
    help="Time zone of the local days (default: the TIMEZONE setting, which the pages use).",
)
def reports_rebuild_summary(zone_name: str) -> None:
    """Recompute the daily summary from the raw donations, refunds and disputes (idempotent).

    Run it once after upgrading and after changing TIMEZONE; until it has run for a zone, the
    reports read the raw rows for that zone (same figures, slower)."""
    config: Config = current_app.config["MEMBERSHIP"]
    try:
        zone = ZoneInfo(zone_name) if zone_name else config.zone
    except (ZoneInfoNotFoundError, ValueError):
        raise click.ClickException(f"{zone_name!r} is not a known time zone") from None
    began = time.perf_counter()
    rows = summary.rebuild(db.session(), zone)
    db.session().commit()
    click.echo(
        f"Daily summary for {zone.key}: {rows} rows from the raw rows "
        f"in {time.perf_counter() - began:.1f} s."
    )
