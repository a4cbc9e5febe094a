"""The integration commands: `api-tokens` and `webhooks`, for automation; the staff pages call
the same services. `webhooks listen` is a small receiver for the demo that prints verified
deliveries."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click
from flask import current_app
from flask.cli import AppGroup
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from membership.config import Config
from membership.extensions import db
from membership.models import utcnow
from membership.services.integrations import api_tokens, endpoints

api_tokens_cli = AppGroup("api-tokens", help="Tokens for the read-only API at /api/v1.")
webhooks_cli = AppGroup("webhooks", help="Signed outgoing webhooks (Standard Webhooks).")


@api_tokens_cli.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(api_tokens.SCOPES)),
    help="What the token may read (repeat for several).",
)
@click.option("--expires", default="", help="Lifetime like 90d or 12h; default: never.")
def api_tokens_create(name: str, scopes: tuple[str, ...], expires: str) -> None:
    """Create a token and print it once (only its hash is kept)."""
    now = utcnow()
    try:
        new = api_tokens.create_token(
            db.session(),
            name=name,
            scopes=list(scopes),
            expires_at=api_tokens.parse_expiry(expires, now),
            created_by="command line",
            now=now,
        )
    except api_tokens.ApiTokenError as error:
        db.session().rollback()
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(new.secret)
    click.echo(
        f"Token {new.token.name!r} ({', '.join(new.token.scopes)}) created; it is shown only now.",
        err=True,
    )


@api_tokens_cli.command("list")
def api_tokens_list() -> None:
    """Name, scopes, state, expiry and last use of every token."""
    now = utcnow()
    for token in api_tokens.list_tokens(db.session()):
        click.echo(
            f"{token.name}\t{token.prefix}…\t{','.join(token.scopes)}\t"
            f"{api_tokens.token_state(token, now)}\t"
            f"expires {token.expires_at.isoformat() if token.expires_at else 'never'}\t"
            f"last used {token.last_used_at.isoformat() if token.last_used_at else 'never'}"
        )


@api_tokens_cli.command("revoke")
@click.argument("name")
def api_tokens_revoke(name: str) -> None:
    """Revoke a token at once."""
    try:
        api_tokens.revoke_token(db.session(), name, now=utcnow())
    except api_tokens.ApiTokenError as error:
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(f"Token {name!r} revoked.")


@webhooks_cli.command("add")
@click.argument("url")
@click.option(
    "--event",
    "event_types",
    multiple=True,
    required=True,
    type=click.Choice(sorted(endpoints.EVENT_TYPES)),
    help="An event to send (repeat for several).",
)
@click.option("--description", default="", help="What receives it (shown to staff).")
def webhooks_add(url: str, event_types: tuple[str, ...], description: str) -> None:
    """Add an endpoint and print its signing secret once."""
    config: Config = current_app.config["MEMBERSHIP"]
    try:
        new = endpoints.add_endpoint(
            db.session(),
            config,
            url=url,
            events=list(event_types),
            description=description,
            now=utcnow(),
        )
    except endpoints.EndpointError as error:
        db.session().rollback()
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(new.secret)
    click.echo(f"Endpoint {new.endpoint.url} added; its secret is shown only now.", err=True)


@webhooks_cli.command("list")
def webhooks_list() -> None:
    """Every endpoint with its events and state."""
    for endpoint in endpoints.list_endpoints(db.session()):
        state = "active" if endpoint.active else "disabled"
        click.echo(f"{endpoint.url}\t{','.join(endpoint.events)}\t{state}\t{endpoint.description}")


@webhooks_cli.command("remove")
@click.argument("url")
def webhooks_remove(url: str) -> None:
    """Remove an endpoint and its delivery history."""
    try:
        endpoints.remove_endpoint(db.session(), url)
    except endpoints.EndpointError as error:
        raise click.ClickException(str(error)) from None
    db.session().commit()
    click.echo(f"Endpoint {url} removed.")


@webhooks_cli.command("listen")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--secret", envvar="WEBHOOK_LISTEN_SECRET", required=True, help="The whsec_ secret.")
def webhooks_listen(port: int, secret: str) -> None:
    """A demo receiver on 127.0.0.1: prints each delivery whose signature verifies."""
    try:
        verifier = Webhook(secret)
    except Exception as error:  # the library raises several kinds for a malformed secret
        raise click.ClickException(f"That is not a whsec_ secret: {error}") from None
    server = ThreadingHTTPServer(("127.0.0.1", port), _receiver(verifier))
    click.echo(f"Listening on http://127.0.0.1:{port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _receiver(verifier: Webhook) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server protocol)
            length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
            body = self.rfile.read(length)
            try:
                payload = verifier.verify(body, dict(self.headers.items()))
            except (WebhookVerificationError, ValueError) as error:
                click.echo(f"refused a delivery: {error}", err=True)
                self.send_response(400)
                self.end_headers()
                return
            click.echo(f"verified {self.headers['webhook-id']}: {json.dumps(payload, indent=2)}")
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Receiver
