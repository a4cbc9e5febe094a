"""The API as a client sees it: tokens, bearer requests, and responses checked against the
OpenAPI document the app serves."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from membership.extensions import db
from membership.models import utcnow
from membership.services.integrations.api_tokens import create_token


def make_token(*scopes: str, name: str = "crm") -> str:
    new = create_token(
        db.session(),
        name=name,
        scopes=list(scopes),
        expires_at=None,
        created_by="test",
        now=utcnow(),
    )
    db.session.commit()
    return new.secret


def api_get(client: FlaskClient, path: str, token: str | None, **params: str) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, query_string=params)


class ServedSchema:
    """Validates bodies against a response schema of the served /api/v1/openapi.json."""

    def __init__(self, client: FlaskClient) -> None:
        self.document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()

    def check(self, path: str, response: TestResponse) -> None:
        operation = self.document["paths"][path]["get"]
        content = operation["responses"][str(response.status_code)]["content"]
        schema = content["application/json"]["schema"]
        self.check_schema(schema, response.get_json())

    def check_schema(self, schema: dict[str, Any], body: Any) -> None:
        root = {**schema, "components": self.document["components"]}
        Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
            body
        )
