"""Webhook endpoints (``/v1/webhook_endpoints``): where Stripe sends which events, signed with
each endpoint's own secret, shown once when the endpoint is created.

The endpoint's ``api_version`` is fixed when it is created (Stripe has no way to change it
after); the stand-in speaks only its own version, so it refuses others.
"""

from __future__ import annotations

import secrets

from stripe_standin.errors import StripeError
from stripe_standin.params import as_str, merge_metadata
from stripe_standin.store import API_VERSION, JSON, Store


def _events(params: JSON) -> list[str]:
    raw = params.get("enabled_events")
    if isinstance(raw, dict):  # form encoding: enabled_events[0]=...
        raw = [raw[k] for k in sorted(raw, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if not isinstance(raw, list) or not raw or not all(isinstance(e, str) and e for e in raw):
        raise StripeError("Missing required param: enabled_events.", param="enabled_events")
    return list(raw)


def create(store: Store, params: JSON) -> JSON:
    url = as_str(params.get("url") or "", "url")
    if not url.startswith(("http://", "https://")):
        raise StripeError("Invalid URL: must be an http or https URL.", param="url")
    version = params.get("api_version") or API_VERSION
    if version != API_VERSION:
        raise StripeError(f"Invalid api_version: {version}", param="api_version")
    endpoint = store.base(
        "webhook_endpoint", "we", metadata=merge_metadata({}, params.get("metadata", {}))
    )
    endpoint.update(
        {
            "api_version": version,
            "application": None,
            "description": params.get("description") or None,
            "enabled_events": _events(params),
            "secret": f"whsec_{secrets.token_urlsafe(24)}",
            "status": "enabled",
            "url": url,
        }
    )
    store.add(endpoint)
    answer = dict(endpoint)
    store.private[endpoint["id"]]["secret"] = endpoint.pop("secret")  # shown once
    return answer


def update(store: Store, endpoint: JSON, params: JSON) -> JSON:
    if "api_version" in params:
        raise StripeError("Received unknown parameter: api_version", param="api_version")
    if "enabled_events" in params:
        endpoint["enabled_events"] = _events(params)
    if params.get("url"):
        endpoint["url"] = as_str(params["url"], "url")
    if "disabled" in params:
        endpoint["status"] = "disabled" if params["disabled"] in (True, "true") else "enabled"
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    return endpoint


def delete(store: Store, endpoint: JSON) -> JSON:
    store.objects.pop(endpoint["id"], None)
    store.by_kind["webhook_endpoint"].remove(endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
