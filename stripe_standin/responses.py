"""JSON responses shared by the API and the admin endpoints."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, indent=2), status=status, mimetype="application/json", headers=headers
    )
