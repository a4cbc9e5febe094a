"""The read-only JSON API under /api/v1: bearer tokens with scopes (no cookies, no CORS), rate
limited per token, errors as `{"error": {"code", "message"}}`, and its OpenAPI 3.1 document
built from the same collections and representations that serve it."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from membership.blueprints.api.openapi import openapi_document
from membership.config import Config
from membership.extensions import csrf, db, limiter
from membership.models import utcnow
from membership.services.integrations import api_queries, api_tokens

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return json_error(error.status, error.code, error.message)


@bp.errorhandler(api_queries.ApiInputError)
def input_error(error: api_queries.ApiInputError) -> Response:
    return json_error(400, "invalid_parameter", str(error))


def _token_key() -> str:
    """Rate limits count per token (the hash of what was presented), else per address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "api-ip:" + get_remote_address()


def _api_rate_limit() -> str:
    config: Config = current_app.config["MEMBERSHIP"]
    return config.api_rate_limit


limiter.limit(_api_rate_limit, key_func=_token_key)(bp)


@bp.before_request
def authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    scope: str | None = getattr(view, "api_scope", None)
    if scope is None:
        return  # the OpenAPI document is public
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
    now = utcnow()
    session = db.session()
    try:
        token = api_tokens.authenticate(session, secret.strip(), now=now)
    except api_tokens.ApiAuthError:
        raise ApiError(401, "unauthorized", "This token is unknown, revoked or expired.") from None
    if scope not in token.scopes:
        raise ApiError(403, "forbidden", f"This token lacks the scope {scope}.")
    api_tokens.record_use(
        session, token, request.url_rule.rule if request.url_rule else "", now=now
    )
    session.commit()
    g.api_token = token


@bp.after_request
def api_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    # Tokens, not cookies: nothing the API answers may set one.
    response.headers.pop("Set-Cookie", None)
    response.vary.discard("Cookie")
    return response


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    config: Config = current_app.config["MEMBERSHIP"]
    return jsonify(openapi_document(config.base_url))


def _register_collections() -> None:
    for collection in api_queries.COLLECTIONS:

        def list_view(collection: api_queries.Collection = collection) -> ResponseReturnValue:
            query = api_queries.parse_page_query(collection, request.args)
            page = api_queries.page(db.session(), collection, query)
            return jsonify(data=page.items, next_cursor=page.next_cursor)

        list_view.api_scope = collection.scope  # type: ignore[attr-defined]
        endpoint = collection.name.replace("/", "_").replace("-", "_")
        bp.add_url_rule(f"/{collection.name}", endpoint, list_view, methods=["GET"])


_register_collections()


@bp.get("/reports/money")
def money_report() -> ResponseReturnValue:
    config: Config = current_app.config["MEMBERSHIP"]
    rows = api_queries.money_report(
        db.session(), request.args, zone=config.zone, currency=config.currency
    )
    return jsonify(data=rows)


money_report.api_scope = "reports:read"  # type: ignore[attr-defined]
