"""Logging: one line per request and per job run, as text or JSON, each carrying a request id.

The request id comes from the proxy's `X-Request-ID` when it looks like one (nginx sends
`$request_id`), else it is made here. It is kept in a context variable for the length of the
request (or job run), so the Stripe gateway and the webhook ledger can quote it without every
function passing it along, and it is echoed in the response's `X-Request-ID` header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from membership.config import Config

REQUEST_LOG = logging.getLogger("membership.requests")
_REQUEST_ID: ContextVar[str | None] = ContextVar("membership_request_id", default=None)
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_HANDLER_MARK = "_membership_handler"
# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def current_request_id() -> str | None:
    """The id of the request (or job run) this code is serving, if any."""
    return _REQUEST_ID.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_id_scope(request_id: str) -> Iterator[str]:
    """Everything logged (and sent to Stripe) inside carries this id."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        _REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(config: Config) -> None:
    """Give the root logger our handler once per process (a second app only changes its format).

    A process whose root logger already has handlers someone else installed (pytest, a host
    application) keeps them; our records still reach them.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]
    if ours:
        handler = ours[0]
    elif root.handlers:
        handler = None
    else:
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    if handler is not None:
        handler.setFormatter(
            JsonFormatter() if config.log_format == "json" else logging.Formatter(TEXT_FORMAT)
        )
    # Request lines and job runs are INFO: the service's own loggers say that much.
    logging.getLogger("membership").setLevel(logging.INFO)


class RequestLogMiddleware:
    """Outside Flask and the page cache, so cached article pages are logged too.

    A cached page costs well under a millisecond, so the line is made without the parts of
    `Logger.info` it does not need (no caller look-up: the logger is always this one).
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else new_request_id()
        started = time.perf_counter()
        token = _REQUEST_ID.set(request_id)
        status_seen: list[str] = []

        def logged_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            status_seen.append(status)
            if any(k.lower() == "x-request-id" for k, _ in headers):
                headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, *args)

        try:
            return self.app(environ, logged_start_response)
        finally:
            if REQUEST_LOG.isEnabledFor(logging.INFO):
                log_request(environ, status_seen[0] if status_seen else "500", started)
            _REQUEST_ID.reset(token)


def log_request(environ: dict[str, Any], status_line: str, started: float) -> None:
    status = int(status_line[:3])
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    method, path = environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "-")
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "remote_addr": environ.get("REMOTE_ADDR"),
    }
    record = REQUEST_LOG.makeRecord(
        REQUEST_LOG.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %s %.1fms",
        (method, path, status, duration_ms),
        None,
        extra=fields,
    )
    REQUEST_LOG.handle(record)
