"""Health check for load balancers and monitors."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from membership.caching import no_store
from membership.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@no_store
def healthz() -> tuple[Response, int]:
    try:
        db.session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("health check: database unavailable", exc_info=True)
        db.session().rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok"), 200


@bp.get("/healthz/ready")
@no_store
def ready() -> tuple[Response, int]:
    """Ready to serve: the database answers and so does the rate-limit storage (without it the
    support, sign-in and newsletter forms refuse). Load balancers take a 503 out of rotation."""
    checks = {"database": "ok", "rate_limit_storage": "ok"}
    try:
        db.session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("readiness: database unavailable", exc_info=True)
        db.session().rollback()
        checks["database"] = "unreachable"
    if not _limit_storage_answers():
        log.warning("readiness: rate-limit storage unavailable")
        checks["rate_limit_storage"] = "unreachable"
    ok = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ok else "unavailable", **checks), 200 if ok else 503


def _limit_storage_answers() -> bool:
    try:
        return bool(limiter.storage.check())
    except Exception:  # noqa: BLE001 - any failure of the storage client means "not ready"
        return False


limiter.exempt(ready)
limiter.exempt(healthz)
