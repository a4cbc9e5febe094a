"""The OpenAPI 3.1 document of /api/v1 and of our outgoing webhooks, generated from the API's
collections and the representations that write every response and payload."""

from __future__ import annotations

from typing import Any

from membership.services.integrations import representations as reps
from membership.services.integrations.api_queries import COLLECTIONS, MAX_PAGE
from membership.services.integrations.endpoints import EVENT_TYPES

Schema = dict[str, Any]

ERROR_SCHEMA: Schema = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
            "additionalProperties": False,
        }
    },
    "required": ["error"],
    "additionalProperties": False,
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


ERRORS = {
    "400": _error("A query parameter could not be used"),
    "401": _error("No token, or an unknown, revoked or expired one"),
    "403": _error("The token lacks the scope this resource needs"),
    "429": _error("Too many requests with this token; see Retry-After"),
}


def _param(name: str, description: str, schema: Schema) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _page_schema(item: str) -> Schema:
    return {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass as `cursor` for the next page; null on the last page",
            },
        },
        "required": ["data", "next_cursor"],
        "additionalProperties": False,
    }


def _event_data_schema(event_type: str) -> Schema:
    family = event_type.split(".")[0]
    supporter = {"anyOf": [_ref("Supporter"), {"type": "null"}]}
    if family == "donation":
        properties = {"donation": _ref("Donation"), "supporter": supporter}
    elif family == "subscription":
        properties = {"subscription": _ref("Subscription"), "supporter": supporter}
    elif family == "supporter":
        properties = {"supporter": _ref("Supporter")}
    else:
        properties = {"subscriber": _ref("Subscriber")}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def event_schema(event_type: str) -> Schema:
    """A Standard Webhooks payload: type, timestamp, data."""
    return {
        "type": "object",
        "properties": {
            "type": {"const": event_type},
            "timestamp": reps.TIME,
            "data": _event_data_schema(event_type),
        },
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
    }


def _paths() -> Schema:
    paths: Schema = {}
    for collection in COLLECTIONS:
        item = collection.representation.name
        parameters = [
            _param(
                "limit",
                f"rows per page, 1-{MAX_PAGE}",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
            ),
            _param("cursor", "the next_cursor of the previous page", {"type": "string"}),
            _param(
                "updated_since",
                "only rows changed at or after this time (ISO 8601)",
                {"type": "string", "format": "date-time"},
            ),
            _param("status", "only rows with this status", reps.enum_of(collection.statuses)),
            _param(
                "from",
                f"{collection.date_name} at or after (ISO 8601)",
                {"type": "string", "format": "date-time"},
            ),
            _param(
                "to",
                f"{collection.date_name} before (ISO 8601)",
                {"type": "string", "format": "date-time"},
            ),
        ]
        paths[f"/{collection.name}"] = {
            "get": {
                "operationId": "list_" + collection.name.replace("/", "_").replace("-", "_"),
                "summary": collection.summary,
                "description": f"Needs the scope `{collection.scope}`. Pages in id order.",
                "security": [{"bearerAuth": [collection.scope]}],
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "One page",
                        "content": {"application/json": {"schema": _ref(f"{item}Page")}},
                    },
                    **ERRORS,
                },
            }
        }
    paths["/reports/money"] = {
        "get": {
            "operationId": "money_report",
            "summary": "Money figures by period, as on the staff reports",
            "description": "Needs the scope `reports:read`. Periods are local to the newsroom's time zone.",
            "security": [{"bearerAuth": ["reports:read"]}],
            "parameters": [
                {**_param("start", "first local date", reps.DAY), "required": True},
                {**_param("end", "last local date (inclusive)", reps.DAY), "required": True},
                _param("group", "period length", reps.enum_of(["day", "week", "month"])),
            ],
            "responses": {
                "200": {
                    "description": "One row per period",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "data": {"type": "array", "items": _ref("MoneyPeriod")}
                                },
                                "required": ["data"],
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                **ERRORS,
            },
        }
    }
    return paths


def _webhooks() -> Schema:
    return {
        event_type: {
            "post": {
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "summary": description,
                "description": "Signed per Standard Webhooks: headers webhook-id, webhook-timestamp, webhook-signature.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": event_schema(event_type)}},
                },
                "responses": {"200": {"description": "Any 2xx acknowledges the delivery"}},
            }
        }
        for event_type, description in EVENT_TYPES.items()
    }


def openapi_document(base_url: str) -> Schema:
    schemas: Schema = {rep.name: rep.schema() for rep in reps.ALL}
    for collection in COLLECTIONS:
        name = collection.representation.name
        schemas[f"{name}Page"] = _page_schema(name)
    schemas["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Membership API",
            "version": "1",
            "description": "Read-only access for CRMs. Money is in minor units with a currency; times are ISO 8601 UTC.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": _paths(),
        "webhooks": _webhooks(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
