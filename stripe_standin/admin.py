"""Admin endpoints (``/_standin/...``, no auth, JSON): reset, webhooks, faults, simulated time.

They drive what a real Stripe account does on its own: renewals, disputes, a customer paying.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from stripe_standin import checkout, disputes, portal, renewals
from stripe_standin.errors import StripeError
from stripe_standin.responses import json_response
from stripe_standin.store import JSON, Store


def register(app: Flask, store: Store) -> None:
    """Serve the ``/_standin/...`` endpoints that tests and the demo use to drive ``store``."""

    def body() -> JSON:
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            return data
        return dict(request.form.items())

    def admin(fn: Callable[..., Any], locked: bool) -> Callable[..., Response]:
        def wrapper(**kwargs: Any) -> Response:
            try:
                if locked:
                    with store.lock:
                        result = fn(**kwargs)
                else:
                    result = fn(**kwargs)
            except StripeError as exc:
                return json_response(exc.body(), exc.status)
            if isinstance(result, Response):
                return result
            return json_response(result)

        wrapper.__name__ = f"admin_{fn.__name__}"
        return wrapper

    def add(
        rule: str,
        fn: Callable[..., Any],
        methods: tuple[str, ...] = ("POST",),
        *,
        locked: bool = True,
    ) -> None:
        view = admin(fn, locked)
        app.add_url_rule(f"/_standin/{rule}", view_func=view, methods=list(methods))

    def reset() -> JSON:
        store.reset()
        return {"ok": True}

    def flush() -> Response:
        timeout = float(body().get("timeout", 10))
        done = store.deliverer.flush(timeout)
        return json_response({"ok": done, "pending": store.deliverer.pending}, 200 if done else 504)

    def webhooks() -> JSON:
        data = body()
        if "url" in data:
            store.webhook_url = data["url"] or None
        if "secret" in data:
            store.webhook_secret = data["secret"] or None
        return {"url": store.webhook_url, "secret_set": bool(store.webhook_secret)}

    def deliveries() -> JSON:
        data = body()
        if "enabled" in data:
            value = data["enabled"]
            store.deliveries_enabled = value if isinstance(value, bool) else value == "true"
        return {"enabled": store.deliveries_enabled}

    def resend(eid: str) -> JSON:
        event = store.get("event", eid)
        if not store.deliver(event):
            raise StripeError("No webhook endpoint is configured.", param="webhook_url")
        return {"ok": True, "event": eid}

    def renew(sid: str) -> JSON:
        result = renewals.renew(store, store.get("subscription", sid))
        return store.render(result)

    def fail_renewal(sid: str) -> JSON:
        return store.render(renewals.renew(store, store.get("subscription", sid), fail=True))

    def dispute(cid: str) -> JSON:
        return store.render(disputes.create(store, store.get("charge", cid), body()))

    def update_dispute(did: str) -> JSON:
        status = str(body().get("status", ""))
        return store.render(disputes.update(store, store.get("dispute", did), status))

    def close_dispute(did: str) -> JSON:
        status = str(body().get("status", ""))
        return store.render(disputes.close(store, store.get("dispute", did), status))

    def portal_default() -> JSON:
        """What saving the portal settings in Stripe's Dashboard does: a default configuration
        (payment methods and invoice history only, unless the body says otherwise)."""
        data = body()
        features = data.get("features") or {
            "payment_method_update": {"enabled": True},
            "invoice_history": {"enabled": True},
        }
        return store.render(
            portal.create_configuration(store, {"features": features}, default=True)
        )

    def faults() -> JSON:
        data = body()
        if "latency_ms" in data:
            store.latency_ms = max(0, int(data["latency_ms"]))
        if "fail_next" in data:
            store.fail_next = max(0, int(data["fail_next"]))
        return {"latency_ms": store.latency_ms, "fail_next": store.fail_next}

    def events() -> JSON:
        return {"object": "list", "data": store.render({"d": store.events})["d"]}

    def pay_checkout(sid: str) -> Response:
        data = body()
        session = store.get("checkout.session", sid)
        try:
            checkout.pay(store, session, str(data.get("card", "success")), data.get("email"))
        except StripeError as exc:
            return json_response(exc.body(), exc.status)
        return json_response(store.render(session))

    def deliveries_log() -> JSON:
        results = [vars(r) for r in store.deliverer.results]
        return {"object": "list", "data": results}

    add("reset", reset)
    add("flush", flush, locked=False)  # never block the API while waiting
    add("webhooks", webhooks)
    add("deliveries", deliveries)
    add("deliveries/log", deliveries_log, ("GET",))
    add("events/<eid>/resend", resend)
    add("subscriptions/<sid>/renew", renew)
    add("subscriptions/<sid>/fail_renewal", fail_renewal)
    add("charges/<cid>/dispute", dispute)
    add("disputes/<did>/update", update_dispute)
    add("disputes/<did>/close", close_dispute)
    add("faults", faults)
    add("portal/default", portal_default)
    add("events", events, ("GET",))
    add("checkout/<sid>/pay", pay_checkout)
