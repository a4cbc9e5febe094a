"""Friendly error pages: no request shows a traceback or a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from membership.extensions import db

log = logging.getLogger(__name__)

_TITLES = {
    400: "That request did not make sense to us",
    403: "You can't open this page",
    404: "We couldn't find that page",
    405: "That isn't something this page can do",
    413: "That was too much to send",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "We're briefly unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz"))


_API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    if request.path.startswith("/api/v1/"):
        code = _API_CODES.get(status, "error")
        return jsonify(error={"code": code, "message": message}), status
    if _wants_json():
        return jsonify(error=message, status=status), status
    title = _TITLES.get(status, "Something went wrong")
    return render_template("errors/error.html", status=status, title=title, message=message), status


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        return error_response(
            400,
            "Your form expired or came from somewhere else. Please go back, reload the page "
            "and try again; nothing was saved.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        status = error.code or 500
        if status < 400:
            return error
        if status == 429:
            message = (
                "You've tried this several times in a short while. Please wait a few minutes "
                "and try again."
            )
        elif status == 404:
            message = "The page may have moved, or the link may be mistyped."
        else:
            message = error.description or "Please go back and try again."
        response, code = error_response(status, message)
        if isinstance(response, Response) and error.get_response().headers.get("Retry-After"):
            response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
        return response, code

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error: Exception) -> tuple[Response | str, int]:
        log.exception("database error while serving %s", request.path)
        db.session().rollback()
        return error_response(
            503, "We can't reach our database right now. Nothing was saved; please try again soon."
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error while serving %s", request.path)
        db.session().rollback()
        return error_response(500, "We've logged the problem. Please try again in a moment.")
