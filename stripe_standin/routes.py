"""Stripe's REST routes: which handler answers each method and path.

Each handler gets ``(store, params, *url groups)`` and returns ``(status, body)``; the resource
modules do the work, the handlers read list filters and render the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stripe_standin import (
    checkout,
    customers,
    invoices,
    portal,
    refunds,
    schedules,
    subscriptions,
    webhook_endpoints,
)
from stripe_standin.errors import CardDeclined
from stripe_standin.params import as_str
from stripe_standin.store import JSON, Store

Handler = Callable[..., tuple[int, JSON]]


def _list_matching(kind: str, url: str, fields: tuple[str, ...]) -> Handler:
    """A list whose filters each match one field exactly (an empty filter is ignored)."""

    def handler(store: Store, params: JSON) -> tuple[int, JSON]:
        filters = {k: params[k] for k in fields if params.get(k)}

        def where(obj: JSON) -> bool:
            return all(obj.get(k) == v for k, v in filters.items())

        return 200, store.list_objects(store.all(kind), params, url, where)

    return handler


def _retrieve(kind: str) -> Handler:
    def handler(store: Store, params: JSON, object_id: str) -> tuple[int, JSON]:
        return 200, store.render(store.get(kind, object_id), store.expand_paths(params))

    return handler


def _customers_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(customers.create(store, params))


def _customers_update(store: Store, params: JSON, cid: str) -> tuple[int, JSON]:
    cust = store.get("customer", cid)
    params = {k: v for k, v in params.items() if k != "expand"}
    return 200, store.render(customers.update(store, cust, params), store.expand_paths(params))


def _customers_list(store: Store, params: JSON) -> tuple[int, JSON]:
    email = params.get("email")

    def where(c: JSON) -> bool:
        return email is None or c["email"] == email

    return 200, store.list_objects(store.all("customer"), params, "/v1/customers", where)


def _sessions_create(store: Store, params: JSON) -> tuple[int, JSON]:
    session = checkout.create(store, params)
    return 200, store.render(session, store.expand_paths(params))


def _sessions_expire(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, store.render(checkout.expire(store, store.get("checkout.session", sid)))


def _sessions_line_items(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, checkout.list_line_items(store, store.get("checkout.session", sid))


def _subscriptions_list(store: Store, params: JSON) -> tuple[int, JSON]:
    customer = params.get("customer")
    status = params.get("status")
    price = params.get("price")

    def where(s: JSON) -> bool:
        if customer and s["customer"] != customer:
            return False
        if price and subscriptions.first_item(s)["price"]["id"] != price:
            return False
        if status == "all":
            return True
        if status:
            return bool(s["status"] == status)
        return bool(s["status"] != "canceled")

    return 200, store.list_objects(store.all("subscription"), params, "/v1/subscriptions", where)


def _subscriptions_update(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    sub = subscriptions.update(store, store.get("subscription", sid), params)
    return 200, store.render(sub, store.expand_paths(params))


def _subscriptions_cancel(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    return 200, store.render(subscriptions.cancel(store, store.get("subscription", sid)))


def _invoices_list(store: Store, params: JSON) -> tuple[int, JSON]:
    sub = params.get("subscription")
    customer = params.get("customer")
    status = params.get("status")

    def where(inv: JSON) -> bool:
        return (
            (not sub or invoices.subscription_id(inv) == sub)
            and (not customer or inv["customer"] == customer)
            and (not status or inv["status"] == status)
        )

    return 200, store.list_objects(store.all("invoice"), params, "/v1/invoices", where)


def _invoices_pay(store: Store, params: JSON, iid: str) -> tuple[int, JSON]:
    invoice = store.get("invoice", iid)
    pm_id = params.get("payment_method") or None
    if pm_id is None:
        sub_id = invoices.subscription_id(invoice)
        if sub_id and sub_id in store.objects:
            pm_id = subscriptions.default_payment_method(store, store.objects[sub_id])
    if pm_id is None:
        cust = store.objects[invoice["customer"]]
        pm_id = cust["invoice_settings"]["default_payment_method"]
    if not invoices.pay(store, invoice, pm_id):
        raise CardDeclined()
    return 200, store.render(invoice, store.expand_paths(params))


def _refunds_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(refunds.create(store, params))


def _portal_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(portal.create(store, params))


def _portal_configuration_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(portal.create_configuration(store, params))


def _portal_configuration_update(store: Store, params: JSON, cid: str) -> tuple[int, JSON]:
    configuration = store.get("billing_portal.configuration", cid)
    return 200, store.render(portal.update_configuration(store, configuration, params))


def _webhook_endpoint_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, webhook_endpoints.create(store, params)


def _webhook_endpoint_update(store: Store, params: JSON, wid: str) -> tuple[int, JSON]:
    endpoint = store.get("webhook_endpoint", wid)
    return 200, store.render(webhook_endpoints.update(store, endpoint, params))


def _webhook_endpoint_delete(store: Store, params: JSON, wid: str) -> tuple[int, JSON]:
    return 200, webhook_endpoints.delete(store, store.get("webhook_endpoint", wid))


def _schedule_create(store: Store, params: JSON) -> tuple[int, JSON]:
    return 200, store.render(schedules.create(store, params))


def _schedule_update(store: Store, params: JSON, sid: str) -> tuple[int, JSON]:
    schedule = store.get("subscription_schedule", sid)
    return 200, store.render(schedules.update(store, schedule, params))


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
    "billing_portal/configurations": "billing_portal.configuration",
    "webhook_endpoints": "webhook_endpoint",
    "subscription_schedules": "subscription_schedule",
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
_route(
    "GET",
    "checkout/sessions",
    _list_matching(
        "checkout.session",
        "/v1/checkout/sessions",
        ("status", "customer", "payment_intent", "subscription"),
    ),
)
_route("POST", f"checkout/sessions/{_ID}/expire", _sessions_expire)
_route("GET", f"checkout/sessions/{_ID}/line_items", _sessions_line_items)
_route("GET", "subscriptions", _subscriptions_list)
_route("POST", f"subscriptions/{_ID}", _subscriptions_update)
_route("DELETE", f"subscriptions/{_ID}", _subscriptions_cancel)
_route("GET", "invoices", _invoices_list)
_route("POST", f"invoices/{_ID}/pay", _invoices_pay)
_route("POST", "refunds", _refunds_create)
_route("GET", "refunds", _list_matching("refund", "/v1/refunds", ("charge", "payment_intent")))
_route("GET", "charges", _list_matching("charge", "/v1/charges", ("customer", "payment_intent")))
_route("GET", "disputes", _list_matching("dispute", "/v1/disputes", ("charge", "payment_intent")))
_route("POST", "billing_portal/sessions", _portal_create)
_route("GET", "events", _events_list)
_route("POST", "billing_portal/configurations", _portal_configuration_create)
_route(
    "GET",
    "billing_portal/configurations",
    _list_matching("billing_portal.configuration", "/v1/billing_portal/configurations", ()),
)
_route("POST", f"billing_portal/configurations/{_ID}", _portal_configuration_update)
_route("POST", "subscription_schedules", _schedule_create)
_route("POST", f"subscription_schedules/{_ID}", _schedule_update)
_route("POST", "webhook_endpoints", _webhook_endpoint_create)
_route("GET", "webhook_endpoints", _list_matching("webhook_endpoint", "/v1/webhook_endpoints", ()))
_route("POST", f"webhook_endpoints/{_ID}", _webhook_endpoint_update)
_route("DELETE", f"webhook_endpoints/{_ID}", _webhook_endpoint_delete)
for _collection, _kind in COLLECTIONS.items():
    _route("GET", f"{_collection}/{_ID}", _retrieve(_kind))


def find_route(method: str, path: str) -> tuple[Handler, tuple[str, ...]] | None:
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return handler, match.groups()
    return None
