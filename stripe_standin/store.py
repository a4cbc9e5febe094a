"""The core of the simulated Stripe account: objects by id, events and their delivery, lists.

Every method expects the caller to hold :attr:`Store.lock`. Objects are plain JSON-ready dicts in
their Stripe shape (API version 2026-10-28); the resource modules (``customers``, ``checkout``,
``subscriptions``...) are functions that take this store and create or change those dicts.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_standin.clock import now
from stripe_standin.errors import StripeError, not_found
from stripe_standin.ids import new_id
from stripe_standin.params import as_int
from stripe_standin.webhooks import Deliverer, Delivery, DeliveryResult

JSON = dict[str, Any]

API_VERSION = "2026-10-28.endive"

# Stripe's list filter ``created[op]`` -> how an object's ``created`` compares with the bound.
_CREATED_CHECKS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda c, b: c > b,
    "gte": lambda c, b: c >= b,
    "lt": lambda c, b: c < b,
    "lte": lambda c, b: c <= b,
    "eq": lambda c, b: c == b,
}


def diff_top_level(before: JSON, after: JSON) -> JSON:
    """Old values of the top-level fields that changed (``previous_attributes``)."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


@dataclass
class IdempotentEntry:
    """A stored 2xx answer, replayed for a request that repeats its ``Idempotency-Key``."""

    method: str
    path: str
    fingerprint: str
    status: int
    body: str


class Store:
    """All simulated Stripe state. Guard every use with ``store.lock``."""

    def __init__(
        self,
        public_url: str,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.public_url = public_url.rstrip("/")
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.deliveries_enabled = True
        self.deliverer = deliverer or Deliverer()
        self.deliverer.on_result = self._delivered
        self.latency_ms = 0
        self.fail_next = 0
        self.reset()

    def reset(self) -> None:
        self.objects: dict[str, JSON] = {}
        self.by_kind: dict[str, list[str]] = defaultdict(list)
        self.events: list[JSON] = []
        self.idempotency: dict[str, IdempotentEntry] = {}
        # Private (non-Stripe) data per object id.
        self.private: dict[str, JSON] = defaultdict(dict)
        self.latency_ms = 0
        self.fail_next = 0
        self.deliveries_enabled = True

    # -- storage ------------------------------------------------------------------------------
    def add(self, obj: JSON) -> JSON:
        self.objects[obj["id"]] = obj
        self.by_kind[obj["object"]].append(obj["id"])
        return obj

    def get(self, kind: str, object_id: str, param: str = "id") -> JSON:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            raise not_found(kind, object_id, param)
        return obj

    def all(self, kind: str) -> list[JSON]:
        return [self.objects[i] for i in self.by_kind.get(kind, [])]

    def base(self, kind: str, prefix: str, *, metadata: JSON | None = None) -> JSON:
        obj: JSON = {"id": new_id(prefix), "object": kind, "created": now(), "livemode": False}
        if metadata is not None:
            obj["metadata"] = metadata
        return obj

    # -- events & webhooks ----------------------------------------------------------------------
    def emit(self, event_type: str, obj: JSON, previous: JSON | None = None) -> JSON:
        data: JSON = {"object": _without_unexpanded(copy.deepcopy(obj), [])}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        targets = self._targets(event_type) if self.deliveries_enabled else []
        event: JSON = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self.events.append(event)
        self.objects[event["id"]] = event
        self._send(event, targets)
        return event

    def emit_changes(self, event_type: str, obj: JSON, before: JSON) -> None:
        """Emit ``event_type`` with ``previous_attributes`` if ``obj`` differs from ``before``."""
        previous = diff_top_level(before, obj)
        if previous:
            self.emit(event_type, obj, previous)

    def _targets(self, event_type: str) -> list[tuple[str, str]]:
        """(url, secret) of the endpoint set by the admin API, and of every enabled
        ``/v1/webhook_endpoints`` endpoint that wants this type, each with its own secret."""
        targets = []
        if self.webhook_url and self.webhook_secret:
            targets.append((self.webhook_url, self.webhook_secret))
        for endpoint in self.all("webhook_endpoint"):
            wanted = endpoint["enabled_events"]
            if endpoint["status"] == "enabled" and ("*" in wanted or event_type in wanted):
                targets.append((endpoint["url"], self.private[endpoint["id"]]["secret"]))
        return targets

    def _send(self, event: JSON, targets: list[tuple[str, str]]) -> None:
        event["pending_webhooks"] += len(targets)
        body = json.dumps(event, indent=2)
        for url, secret in targets:
            self.deliverer.enqueue(Delivery(event["id"], url, secret, body))

    def _delivered(self, result: DeliveryResult) -> None:
        """Delivery-thread callback: a delivered event no longer has a pending webhook."""
        if result.ok:
            with self.lock:
                event = self.objects.get(result.event_id)
                if event is not None and event.get("pending_webhooks"):
                    event["pending_webhooks"] -= 1

    def deliver(self, event: JSON) -> bool:
        """Queue one event again for the configured endpoints; False if there is none."""
        targets = self._targets(event["type"])
        self._send(event, targets)
        return bool(targets)

    # -- listing & expansion --------------------------------------------------------------------
    def list_objects(
        self,
        items: list[JSON],
        params: JSON,
        url: str,
        where: Callable[[JSON], bool] | None = None,
    ) -> JSON:
        """Stripe list semantics: newest first, created filters, cursor paging, limit."""
        limit = as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise StripeError("Invalid limit: must be between 1 and 100", param="limit")
        bounds = _created_bounds(params.get("created"))
        selected = [
            obj
            for obj in reversed(items)
            if (where is None or where(obj))
            and all(
                _CREATED_CHECKS[op](obj["created"], b)
                for op, b in bounds.items()
                if op in _CREATED_CHECKS
            )
        ]
        start_after = params.get("starting_after")
        end_before = params.get("ending_before")
        ids = [obj["id"] for obj in selected]
        if start_after:
            index = self._cursor_index(ids, start_after, "starting_after")
            selected = [] if index is None else selected[index + 1 :]
            page, has_more = selected[:limit], len(selected) > limit
        elif end_before:
            index = self._cursor_index(ids, end_before, "ending_before")
            selected = [] if index is None else selected[:index]
            page, has_more = selected[-limit:], len(selected) > limit
        else:
            page, has_more = selected[:limit], len(selected) > limit
        expand = [p[5:] for p in self.expand_paths(params) if p.startswith("data.")]
        data = [self.render(obj, expand) for obj in page]
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def _cursor_index(self, ids: list[str], cursor: Any, param: str) -> int | None:
        """Where the cursor object is in the list; None if it exists but is not listed here."""
        if cursor in ids:
            return ids.index(cursor)
        if cursor not in self.objects:
            raise not_found("object", str(cursor), param)
        return None

    @staticmethod
    def expand_paths(params: JSON) -> list[str]:
        raw = params.get("expand", [])
        if isinstance(raw, str):
            raw = [raw]
        if isinstance(raw, dict):
            raw = list(raw.values())
        return [p for p in raw if isinstance(p, str)]

    def render(self, obj: JSON, expand: list[str] | None = None) -> JSON:
        """A deep copy of ``obj`` with the requested ``expand`` paths replaced by objects."""
        out = _without_unexpanded(copy.deepcopy(obj), expand or [])
        for path in expand or []:
            out = self._expand(out, path.split("."))
        return out

    def _expand(self, value: Any, parts: list[str]) -> Any:
        if isinstance(value, list):
            return [self._expand(v, parts) for v in value]
        if not isinstance(value, dict) or not parts:
            return value
        key, rest = parts[0], parts[1:]
        if key not in value:
            return value
        child = value[key]
        if isinstance(child, str) and child in self.objects:
            child = copy.deepcopy(self.objects[child])
        value[key] = self._expand(child, rest) if rest else child
        return value


# Fields Stripe includes only when expanded (`includable`), by object type.
_INCLUDABLE = {"invoice": ("payments",)}


def _without_unexpanded(obj: JSON, expand: list[str]) -> JSON:
    """Drop the fields Stripe sends only when asked (an invoice's ``payments``, since
    2025-03-31): webhook payloads never carry them."""
    for field in _INCLUDABLE.get(str(obj.get("object")), ()):
        if field not in expand:
            obj.pop(field, None)
    return obj


def _created_bounds(created: Any) -> dict[str, int]:
    """``created`` as a list filter: ``created=ts`` or ``created[gte]=ts``..."""
    if isinstance(created, dict):
        return {op: as_int(v, f"created[{op}]") for op, v in created.items()}
    if created not in (None, ""):
        return {"eq": as_int(created, "created")}
    return {}
