"""The ``/v1`` endpoint: API keys, injected faults, form parameters, idempotent replay, dispatch.

Which handler answers which method and path is in :mod:`stripe_standin.routes`.
"""

from __future__ import annotations

import hashlib
import json
import time

from flask import Flask, Response, request

from stripe_standin.errors import StripeError
from stripe_standin.forms import FormError, parse_nested
from stripe_standin.ids import new_id
from stripe_standin.responses import json_response
from stripe_standin.routes import find_route
from stripe_standin.store import IdempotentEntry, Store


def _error_response(exc: StripeError) -> Response:
    return json_response(exc.body(), exc.status, {"Request-Id": new_id("req", 14)})


def _refuse_key(request_id: str) -> Response | None:
    """A 401 unless the request carries a test-mode secret or restricted key."""
    auth = request.headers.get("Authorization", "")
    key = auth[7:] if auth.startswith("Bearer ") else ""
    if key.startswith(("sk_test_", "rk_test_")):
        return None
    message = (
        "You did not provide an API key."
        if not key
        else f"Invalid API Key provided: {key[:12]}****"
    )
    return json_response(
        {"error": {"type": "invalid_request_error", "message": message}},
        401,
        {"Request-Id": request_id, "WWW-Authenticate": 'Bearer realm="Stripe"'},
    )


def _injected_fault(store: Store, request_id: str) -> Response | None:
    """Apply the admin-set latency; a 500 while ``fail_next`` lasts."""
    with store.lock:
        latency = store.latency_ms
        fail = store.fail_next > 0
        if fail:
            store.fail_next -= 1
    if latency > 0:
        time.sleep(latency / 1000)
    if not fail:
        return None
    body = {
        "error": {
            "type": "api_error",
            "message": "Simulated server error (stand-in fault injection).",
        }
    }
    return json_response(body, 500, {"Request-Id": request_id})


def _replay(
    store: Store, idem_key: str, path: str, fingerprint: str, headers: dict[str, str]
) -> Response | None:
    """The stored answer for a repeated ``Idempotency-Key``, or Stripe's error for a misuse."""
    entry = store.idempotency.get(idem_key)
    if entry is None:
        return None
    if entry.method != request.method or entry.path != path:
        return _error_response(
            StripeError(
                "Keys for idempotent requests can only be used for the same "
                "endpoint they were first used for.",
                type="idempotency_error",
            )
        )
    if entry.fingerprint != fingerprint:
        return _error_response(
            StripeError(
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other "
                f"than '{idem_key}' if you meant to execute a different "
                "request.",
                type="idempotency_error",
            )
        )
    headers["Idempotent-Replayed"] = "true"
    return Response(entry.body, entry.status, mimetype="application/json", headers=headers)


def register(app: Flask, store: Store) -> None:
    """Serve Stripe's REST API at ``/v1/...`` from ``store``."""

    @app.route("/v1/<path:path>", methods=["GET", "POST", "DELETE"])
    def api(path: str) -> Response:
        request_id = new_id("req", 14)
        refused = _refuse_key(request_id) or _injected_fault(store, request_id)
        if refused is not None:
            return refused
        try:
            pairs = list(request.args.items(multi=True))
            if request.method == "POST":
                pairs += list(request.form.items(multi=True))
            params = parse_nested(pairs)
        except FormError as exc:
            return _error_response(StripeError(str(exc), param=exc.param))
        found = find_route(request.method, path)
        if found is None:
            return _error_response(
                StripeError(f"Unrecognized request URL ({request.method}: /v1/{path}).", status=404)
            )
        handler, groups = found
        idem_key = request.headers.get("Idempotency-Key")
        if request.method == "GET":
            idem_key = None
        fingerprint = hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()
        headers = {"Request-Id": request_id}
        if idem_key:
            headers["Idempotency-Key"] = idem_key
        with store.lock:
            if idem_key:
                replayed = _replay(store, idem_key, path, fingerprint, headers)
                if replayed is not None:
                    return replayed
            try:
                status, body = handler(store, params, *groups)
            except StripeError as exc:
                return _error_response(exc)
            text = json.dumps(body, indent=2)
            if idem_key and 200 <= status < 300:
                store.idempotency[idem_key] = IdempotentEntry(
                    request.method, path, fingerprint, status, text
                )
        return Response(text, status, mimetype="application/json", headers=headers)
