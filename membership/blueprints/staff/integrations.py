"""Integrations, for admins: API tokens (created, shown once, revoked) and webhook endpoints
with their deliveries (resend, re-enable). The command line calls the same services."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import ADMIN, commit_and_redirect, require_confirmation
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff_integrations import ApiTokenForm, WebhookEndpointForm
from membership.models import ApiToken, WebhookDelivery, WebhookEndpoint, utcnow
from membership.services.integrations import api_tokens, endpoints
from membership.services.integrations.delivery import recent_deliveries, resend
from membership.services.staff.audit import record

bp = Blueprint("integrations", __name__)
PAGE = "staff.integrations.index"


def _page(
    token_form: ApiTokenForm | None = None,
    endpoint_form: WebhookEndpointForm | None = None,
    *,
    status: int = 200,
    shown_once: str = "",
    shown_once_label: str = "",
) -> tuple[str, int]:
    session = db.session()
    tokens = api_tokens.list_tokens(session)
    return (
        render_template(
            "staff/integrations.html",
            tokens=tokens,
            usage={token.id: api_tokens.usage(session, token)[:5] for token in tokens},
            token_state=lambda token: api_tokens.token_state(token, utcnow()),
            endpoint_list=endpoints.list_endpoints(session),
            deliveries=recent_deliveries(session, limit=50),
            token_form=token_form or ApiTokenForm(formdata=None),
            endpoint_form=endpoint_form or WebhookEndpointForm(formdata=None),
            confirm=ConfirmForm(),
            shown_once=shown_once,
            shown_once_label=shown_once_label,
        ),
        status,
    )


@bp.get("/integrations")
@staff_required(ADMIN)
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/integrations/tokens")
@staff_required(ADMIN)
def create_token() -> ResponseReturnValue:
    form = ApiTokenForm()
    if not form.validate():
        return _page(token_form=form, status=400)
    now, actor = utcnow(), acting_member()
    try:
        new = api_tokens.create_token(
            db.session(),
            name=form.name.data,
            scopes=list(form.scopes.data),
            expires_at=api_tokens.parse_expiry(form.expires.data or "", now),
            created_by=actor.email,
            now=now,
        )
    except api_tokens.ApiTokenError as error:
        form.name.errors = [*form.name.errors, str(error)]
        return _page(token_form=form, status=400)
    record(db.session(), actor, "api_token.created", target_type="api_token", target_id=new.token.id,
           details={"name": new.token.name, "scopes": new.token.scopes}, now=now)  # fmt: skip
    db.session().commit()
    # Shown in this response only: never flashed, since the session cookie is signed, not secret.
    return _page(shown_once=new.secret, shown_once_label=f"API token {new.token.name}")


@bp.post("/integrations/tokens/<int:token_id>/revoke")
@staff_required(ADMIN)
def revoke_token(token_id: int) -> ResponseReturnValue:
    require_confirmation()
    token = db.get_or_404(ApiToken, token_id)
    api_tokens.revoke_token(db.session(), token.name, now=utcnow())
    record(db.session(), acting_member(), "api_token.revoked", target_type="api_token",
           target_id=token.id, details={"name": token.name})  # fmt: skip
    return commit_and_redirect(PAGE, notice=f"Token {token.name} revoked.")


@bp.post("/integrations/webhooks")
@staff_required(ADMIN)
def add_endpoint() -> ResponseReturnValue:
    form = WebhookEndpointForm()
    if not form.validate():
        return _page(endpoint_form=form, status=400)
    try:
        new = endpoints.add_endpoint(
            db.session(),
            app_config(),
            url=form.url.data,
            events=list(form.events.data),
            description=form.description.data or "",
            now=utcnow(),
        )
    except endpoints.EndpointError as error:
        form.url.errors = [*form.url.errors, str(error)]
        return _page(endpoint_form=form, status=400)
    record(db.session(), acting_member(), "webhook.added", target_type="webhook_endpoint",
           target_id=new.endpoint.id, details={"url": new.endpoint.url, "events": new.endpoint.events})  # fmt: skip
    db.session().commit()
    return _page(shown_once=new.secret, shown_once_label=f"signing secret of {new.endpoint.url}")


@bp.post("/integrations/webhooks/<int:endpoint_id>/enable")
@staff_required(ADMIN)
def enable_endpoint(endpoint_id: int) -> ResponseReturnValue:
    require_confirmation()
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    endpoints.reenable_endpoint(db.session(), endpoint)
    record(db.session(), acting_member(), "webhook.enabled", target_type="webhook_endpoint",
           target_id=endpoint_id, details={"url": endpoint.url})  # fmt: skip
    return commit_and_redirect(PAGE, notice=f"Webhooks to {endpoint.url} enabled again.")


@bp.post("/integrations/deliveries/<int:delivery_id>/resend")
@staff_required(ADMIN)
def resend_delivery(delivery_id: int) -> ResponseReturnValue:
    require_confirmation()
    delivery = db.get_or_404(WebhookDelivery, delivery_id)
    resend(db.session(), delivery, now=utcnow())
    record(db.session(), acting_member(), "webhook.resent", target_type="webhook_delivery",
           target_id=delivery_id, details={"message_id": delivery.message_id})  # fmt: skip
    return commit_and_redirect(PAGE, notice=f"{delivery.event_type} queued again.")


@bp.post("/integrations/webhooks/<int:endpoint_id>/remove")
@staff_required(ADMIN)
def remove_endpoint(endpoint_id: int) -> ResponseReturnValue:
    require_confirmation()
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    url = endpoint.url
    endpoints.remove_endpoint(db.session(), url)
    record(db.session(), acting_member(), "webhook.removed", target_type="webhook_endpoint",
           target_id=endpoint_id, details={"url": url})  # fmt: skip
    return commit_and_redirect(PAGE, notice=f"Webhooks to {url} removed.")
