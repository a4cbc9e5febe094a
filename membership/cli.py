"""The flask CLI groups: demo, staff, articles."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from membership.extensions import db
from membership.services import articles as article_service
from membership.services import demo as demo_service
from membership.services import staff as staff_service

demo_cli = AppGroup("demo", help="Demo content for trying the service.")
staff_cli = AppGroup("staff", help="Newsroom staff accounts.")
articles_cli = AppGroup("articles", help="Articles.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Add the demo articles, banner variants and staff account (safe to run again)."""
    summary = demo_service.seed_demo(db.session())
    db.session().commit()
    click.echo(
        f"Demo ready: {summary.articles} articles, {summary.variants} banner variants, "
        f"staff account {summary.admin_email} (admin)."
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


def register(app: Flask) -> None:
    for group in (demo_cli, staff_cli, articles_cli):
        app.cli.add_command(group)
