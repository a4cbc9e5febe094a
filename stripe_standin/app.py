"""The Flask app: Stripe-shaped REST API, simulated hosted pages, admin endpoints."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request

from stripe_standin import pages
from stripe_standin.errors import CardDeclined, StripeError
from stripe_standin.forms import FormError, parse_nested
from stripe_standin.ids import new_id
from stripe_standin.money import format_amount
from stripe_standin.params import as_str
from stripe_standin.state import Store
from stripe_standin.store import JSON, IdempotentEntry

EXTENSION = "stripe_standin"


@dataclass
class StandinConfig:
    """``public_url`` is where the stand-in is reachable (used in hosted page URLs)."""

    public_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


def get_store(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION]
    return store


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, indent=2), status=status, mimetype="application/json", headers=headers
    )


# -- API handlers -------------------------------------------------------------------------------
# Each handler gets (store, params, *url groups) and returns (status, body).
Handler = Callable[..., tuple[int, JSON]]


def _retrieve(kind: str) -> Handler:
    def handler(store: Store, params: JSON, object_id: str) -> tuple[int, JSON]:
        return 200, store.render(store.get(kind, object_id), store.expand_paths(params))

    return handler


def _customers_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(store.create_customer(params))


def _customers_update(store: Store, params: JSON, cid: str) -> tuple[int, JSON]:
    cust = store.get("customer", cid)
    params = {k: v for k, v in params.items() if k != "expand"}
    return 200, store.render(store.update_customer(cust, params), store.expand_paths(params))


def _customers_list(store: Store, params: JSON) -> tuple[int, JSON]:
    email = params.get("email")

    def where(c: JSON) -> bool:
        return email is None or c["email"] == email

    return 200, store.list_objects(store.all("customer"), params, "/v1/customers", where)


def _sessions_create(store: Store, params: JSON) -> tuple[int, JSON]:
    session = store.create_checkout_session(params)
    return 200, store.render(session, store.expand_paths(params))


def _sessions_list(store: Store, params: JSON) -> tuple[int, JSON]:
    filters = {
        k: params[k]
        for k in ("status", "customer", "payment_intent", "subscription")
        if params.get(k)
    }

    def where(s: JSON) -> bool:
        return all(s.get(k) == v for k, v in filters.items())

    url = "/v1/checkout/sessions"
    return 200, store.list_objects(store.all("checkout.session"), params, url, where)


def _sessions_expire(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, store.render(store.expire_session(store.get("checkout.session", sid)))


def _sessions_line_items(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, store.session_line_items(store.get("checkout.session", sid))


def _subscriptions_list(store: Store, params: JSON) -> tuple[int, JSON]:
    customer = params.get("customer")
    status = params.get("status")
    price = params.get("price")

    def where(s: JSON) -> bool:
        if customer and s["customer"] != customer:
            return False
        if price and store.first_item(s)["price"]["id"] != price:
            return False
        if status == "all":
            return True
        if status:
            return bool(s["status"] == status)
        return bool(s["status"] != "canceled")

    return 200, store.list_objects(store.all("subscription"), params, "/v1/subscriptions", where)


def _subscriptions_update(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    sub = store.update_subscription(store.get("subscription", sid), params)
    return 200, store.render(sub, store.expand_paths(params))


def _subscriptions_cancel(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, store.render(store.cancel_subscription(store.get("subscription", sid)))


def _invoices_list(store: Store, params: JSON) -> tuple[int, JSON]:
    sub = params.get("subscription")
    customer = params.get("customer")
    status = params.get("status")

    def where(inv: JSON) -> bool:
        return (
            (not sub or store.invoice_subscription(inv) == sub)
            and (not customer or inv["customer"] == customer)
            and (not status or inv["status"] == status)
        )

    return 200, store.list_objects(store.all("invoice"), params, "/v1/invoices", where)


def _invoices_pay(store: Store, params: JSON, iid: str) -> tuple[int, JSON]:
    invoice = store.get("invoice", iid)
    pm_id = params.get("payment_method") or None
    if pm_id is None:
        sub_id = store.invoice_subscription(invoice)
        if sub_id and sub_id in store.objects:
            pm_id = store.default_pm_for(store.objects[sub_id])
    if pm_id is None:
        cust = store.objects[invoice["customer"]]
        pm_id = cust["invoice_settings"]["default_payment_method"]
    if not store.pay_invoice(invoice, pm_id):
        raise CardDeclined()
    return 200, store.render(invoice, store.expand_paths(params))


def _refunds_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(store.create_refund(params))


def _refunds_list(store: Store, params: JSON) -> tuple[int, JSON]:
    charge = params.get("charge")
    pi = params.get("payment_intent")

    def where(r: JSON) -> bool:
        return (not charge or r["charge"] == charge) and (not pi or r["payment_intent"] == pi)

    return 200, store.list_objects(store.all("refund"), params, "/v1/refunds", where)


def _charges_list(store: Store, params: JSON) -> tuple[int, JSON]:
    customer = params.get("customer")
    pi = params.get("payment_intent")

    def where(c: JSON) -> bool:
        return (not customer or c["customer"] == customer) and (not pi or c["payment_intent"] == pi)

    return 200, store.list_objects(store.all("charge"), params, "/v1/charges", where)


def _portal_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(store.create_portal_session(params))


def _events_list(store: Store, params: JSON) -> tuple[int, JSON]:
    types: list[str] = []
    if params.get("type"):
        types.append(as_str(params["type"], "type"))
    raw_types = params.get("types")
    if isinstance(raw_types, list):
        types.extend(t for t in raw_types if isinstance(t, str))

    def matches(event_type: str, pattern: str) -> bool:
        if pattern.endswith(".*"):
            return event_type.startswith(pattern[:-1])
        return event_type == pattern

    def where(e: JSON) -> bool:
        return not types or any(matches(e["type"], t) for t in types)

    return 200, store.list_objects(store.events, params, "/v1/events", where)


# Stripe's REST collection name -> object type (for generic retrieval).
COLLECTIONS = {
    "customers": "customer",
    "checkout/sessions": "checkout.session",
    "subscriptions": "subscription",
    "subscription_items": "subscription_item",
    "invoices": "invoice",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "prices": "price",
    "products": "product",
    "payment_methods": "payment_method",
    "setup_intents": "setup_intent",
    "billing_portal/sessions": "billing_portal.session",
    "events": "event",
}

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def _route(method: str, pattern: str, handler: Handler) -> None:
    ROUTES.append((method, re.compile(f"^{pattern}$"), handler))


_ID = r"([A-Za-z0-9_]+)"
_route("POST", "customers", _customers_create)
_route("GET", "customers", _customers_list)
_route("POST", f"customers/{_ID}", _customers_update)
_route("POST", "checkout/sessions", _sessions_create)
_route("GET", "checkout/sessions", _sessions_list)
_route("POST", f"checkout/sessions/{_ID}/expire", _sessions_expire)
_route("GET", f"checkout/sessions/{_ID}/line_items", _sessions_line_items)
_route("GET", "subscriptions", _subscriptions_list)
_route("POST", f"subscriptions/{_ID}", _subscriptions_update)
_route("DELETE", f"subscriptions/{_ID}", _subscriptions_cancel)
_route("GET", "invoices", _invoices_list)
_route("POST", f"invoices/{_ID}/pay", _invoices_pay)
_route("POST", "refunds", _refunds_create)
_route("GET", "refunds", _refunds_list)
_route("GET", "charges", _charges_list)
_route("POST", "billing_portal/sessions", _portal_create)
_route("GET", "events", _events_list)
for _collection, _kind in COLLECTIONS.items():
    _route("GET", f"{_collection}/{_ID}", _retrieve(_kind))


def _find_route(method: str, path: str) -> tuple[Handler, tuple[str, ...]] | None:
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return handler, match.groups()
    return None


# -- app factory --------------------------------------------------------------------------------
def create_standin_app(config: StandinConfig) -> Flask:
    """Build the stand-in Flask app. State lives in ``app.extensions["stripe_standin"]``."""
    app = Flask("stripe_standin")
    store = Store(config.public_url, config.webhook_url, config.webhook_secret)
    app.extensions[EXTENSION] = store

    def error_response(exc: StripeError) -> Response:
        return _json(exc.body(), exc.status, {"Request-Id": new_id("req", 14)})

    @app.route("/v1/<path:path>", methods=["GET", "POST", "DELETE"])
    def api(path: str) -> Response:
        request_id = new_id("req", 14)
        auth = request.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if not key.startswith(("sk_test_", "rk_test_")):
            message = (
                "You did not provide an API key."
                if not key
                else f"Invalid API Key provided: {key[:12]}****"
            )
            return _json(
                {"error": {"type": "invalid_request_error", "message": message}},
                401,
                {"Request-Id": request_id, "WWW-Authenticate": 'Bearer realm="Stripe"'},
            )
        with store.lock:
            latency = store.latency_ms
            fail = store.fail_next > 0
            if fail:
                store.fail_next -= 1
        if latency > 0:
            time.sleep(latency / 1000)
        if fail:
            body = {
                "error": {
                    "type": "api_error",
                    "message": "Simulated server error (stand-in fault injection).",
                }
            }
            return _json(body, 500, {"Request-Id": request_id})
        try:
            pairs = list(request.args.items(multi=True))
            if request.method == "POST":
                pairs += list(request.form.items(multi=True))
            params = parse_nested(pairs)
        except FormError as exc:
            return error_response(StripeError(str(exc), param=exc.param))
        found = _find_route(request.method, path)
        if found is None:
            return error_response(
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
                entry = store.idempotency.get(idem_key)
                if entry is not None:
                    if entry.method != request.method or entry.path != path:
                        return error_response(
                            StripeError(
                                "Keys for idempotent requests can only be used for the same "
                                "endpoint they were first used for.",
                                type="idempotency_error",
                            )
                        )
                    if entry.fingerprint != fingerprint:
                        return error_response(
                            StripeError(
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with. Try using a key other "
                                f"than '{idem_key}' if you meant to execute a different "
                                "request.",
                                type="idempotency_error",
                            )
                        )
                    headers["Idempotent-Replayed"] = "true"
                    return Response(
                        entry.body, entry.status, mimetype="application/json", headers=headers
                    )
            try:
                status, body = handler(store, params, *groups)
            except StripeError as exc:
                return error_response(exc)
            text = json.dumps(body, indent=2)
            if idem_key and 200 <= status < 300:
                store.idempotency[idem_key] = IdempotentEntry(
                    request.method, path, fingerprint, status, text
                )
        return Response(text, status, mimetype="application/json", headers=headers)

    _register_pages(app, store)
    _register_admin(app, store)
    return app


# -- hosted pages ---------------------------------------------------------------------------------
def _register_pages(app: Flask, store: Store) -> None:
    def html(text: str, status: int = 200) -> Response:
        return Response(text, status, mimetype="text/html")

    def render_checkout(
        session: JSON, status: int = 200, error: str | None = None, email: str | None = None
    ) -> Response:
        summary = store.session_summary(session)
        customer_email = None
        if session["customer"]:
            customer_email = store.objects[session["customer"]]["email"]
        prefill = email or session["customer_email"] or customer_email or ""
        success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        text = pages.checkout_page(
            session=session,
            summary=summary,
            error=error,
            email=prefill,
            email_required=not (session["customer_email"] or session["customer"]),
            pay_url=f"/checkout/{session['id']}/pay",
            success_url=success_url,
        )
        return html(text, status)

    def not_found_page(what: str) -> Response:
        return html(
            f"<!doctype html><title>Not found</title><p>Simulated page: no such {what}.</p>", 404
        )

    @app.get("/checkout/<sid>")
    def checkout(sid: str) -> Response:
        with store.lock:
            session = store.objects.get(sid)
            if not session or session["object"] != "checkout.session":
                return not_found_page("checkout session")
            return render_checkout(session)

    @app.post("/checkout/<sid>/pay")
    def checkout_pay(sid: str) -> Response:
        card = request.form.get("card", "success")
        email = request.form.get("email", "")
        with store.lock:
            session = store.objects.get(sid)
            if not session or session["object"] != "checkout.session":
                return not_found_page("checkout session")
            try:
                store.pay_session(session, card, email)
            except CardDeclined:
                return render_checkout(
                    session, 402, "Your card was declined. Try another card.", email
                )
            except StripeError as exc:
                return render_checkout(session, 400, exc.message, email)
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return Response("", 303, headers={"Location": target})

    def render_portal(
        portal: JSON, status: int = 200, error: str | None = None, notice: str | None = None
    ) -> Response:
        customer = store.objects[portal["customer"]]
        subs = []
        for sub in store.all("subscription"):
            if sub["customer"] != customer["id"]:
                continue
            price = store.first_item(sub)["price"]
            subs.append(
                {
                    "amount": format_amount(price["unit_amount"], price["currency"]),
                    "interval": price["recurring"]["interval"],
                    "status": sub["status"],
                    "cancel_at_period_end": sub["cancel_at_period_end"],
                }
            )
        pm_id = customer["invoice_settings"]["default_payment_method"]
        current = None
        if pm_id and pm_id in store.objects:
            current = f"Visa ending {store.objects[pm_id]['card']['last4']}"
        text = pages.portal_page(
            customer=customer,
            subscriptions=subs,
            current_card=current,
            card_url=f"/portal/{portal['id']}/card",
            return_url=portal["return_url"],
            error=error,
            notice=notice,
        )
        return html(text, status)

    @app.get("/portal/<pid>")
    def portal_page(pid: str) -> Response:
        with store.lock:
            portal = store.objects.get(pid)
            if not portal or portal["object"] != "billing_portal.session":
                return not_found_page("portal session")
            return render_portal(portal)

    @app.post("/portal/<pid>/card")
    def portal_card(pid: str) -> Response:
        card = request.form.get("card", "success")
        with store.lock:
            portal = store.objects.get(pid)
            if not portal or portal["object"] != "billing_portal.session":
                return not_found_page("portal session")
            customer = store.objects[portal["customer"]]
            try:
                pm, _seti = store.save_card(customer, card, None, {})
            except CardDeclined:
                return render_portal(portal, 402, "Your card was declined. Try another card.")
            except StripeError as exc:
                return render_portal(portal, 400, exc.message)
            store.recover_subscriptions(customer, pm, None)
            return render_portal(portal, notice="Card saved.")

    def render_invoice(invoice: JSON, status: int = 200, error: str | None = None) -> Response:
        text = pages.invoice_page(
            invoice=invoice,
            amount=format_amount(invoice["amount_due"], invoice["currency"]),
            pay_url=f"/invoice/{invoice['id']}/pay",
            error=error,
            notice="Paid. Thank you." if invoice["status"] == "paid" else None,
        )
        return html(text, status)

    @app.get("/invoice/<iid>")
    def invoice_page(iid: str) -> Response:
        with store.lock:
            invoice = store.objects.get(iid)
            if not invoice or invoice["object"] != "invoice":
                return not_found_page("invoice")
            return render_invoice(invoice)

    @app.post("/invoice/<iid>/pay")
    def invoice_pay(iid: str) -> Response:
        card = request.form.get("card", "success")
        with store.lock:
            invoice = store.objects.get(iid)
            if not invoice or invoice["object"] != "invoice":
                return not_found_page("invoice")
            try:
                customer = store.objects[invoice["customer"]]
                pm = store.create_payment_method(card, customer["id"], customer["email"])
                if not store.pay_invoice(invoice, pm["id"]):
                    return render_invoice(invoice, 402, "Your card was declined. Try another card.")
            except StripeError as exc:
                return render_invoice(invoice, 400, exc.message)
            return render_invoice(invoice)


# -- admin ----------------------------------------------------------------------------------------
def _register_admin(app: Flask, store: Store) -> None:
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
                return _json(exc.body(), exc.status)
            if isinstance(result, Response):
                return result
            return _json(result)

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
        return _json({"ok": done, "pending": store.deliverer.pending}, 200 if done else 504)

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
        result = store.renew(store.get("subscription", sid))
        return store.render(result)

    def fail_renewal(sid: str) -> JSON:
        return store.render(store.renew(store.get("subscription", sid), fail=True))

    def dispute(cid: str) -> JSON:
        return store.render(store.create_dispute(store.get("charge", cid), body()))

    def close_dispute(did: str) -> JSON:
        status = str(body().get("status", ""))
        return store.render(store.close_dispute(store.get("dispute", did), status))

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
            store.pay_session(session, str(data.get("card", "success")), data.get("email"))
        except StripeError as exc:
            return _json(exc.body(), exc.status)
        return _json(store.render(session))

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
    add("disputes/<did>/close", close_dispute)
    add("faults", faults)
    add("events", events, ("GET",))
    add("checkout/<sid>/pay", pay_checkout)
