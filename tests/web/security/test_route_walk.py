"""Also (issue 13): a hypothesis walk of every route in app.url_map, as every role (anonymous,
supporter, editor, finance, admin), with random methods, query strings and form bodies (with and
without a valid CSRF token): no 500, and no staff route grants anything beyond the role table
(`staff_required` on each view)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from helpers.clients import csrf_token_from
from helpers.staff import make_staff, sign_in_staff, sign_in_supporter
from membership.extensions import db
from membership.models import StaffRole, Supporter

pytestmark = pytest.mark.usefixtures("app_context")

ROLES = ("anonymous", "supporter", "editor", "finance", "admin")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
_FIELDS = st.sampled_from(
    ["email", "password", "confirm", "next", "amount", "frequency", "q", "status", "start", "end",
     "group", "report", "role", "active", "subject", "body", "name", "title", "slug", "action",
     "reason", "nonce", "basis", "page", "x"]
)  # fmt: skip
_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1e9", "admin", "editor", "y", "on", "monthly", "2026-01-01",
                     "0001-01-01", "javascript:alert(1)", "<script>", "' OR 1=1 --", "\x00"]),
)  # fmt: skip
_PAIRS = st.lists(st.tuples(_FIELDS, _VALUES), max_size=4)


def _client(app: Flask, role: str, supporter_id: int) -> FlaskClient:
    client = app.test_client()
    if role == "supporter":
        sign_in_supporter(client, supporter_id)
    elif role != "anonymous":
        member = make_staff(StaffRole(role), f"{role}.walker@newsroom.example")
        sign_in_staff(client, member)
    return client


def _granted(app: Flask, endpoint: str, role: str) -> bool:
    """The role table: who may open a staff view (admins: any view opened to someone)."""
    roles: tuple[StaffRole, ...] = getattr(app.view_functions[endpoint], "staff_roles", ())
    if role in ("anonymous", "supporter") or not roles:
        return False
    return role == "admin" or StaffRole(role) in roles


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    role=st.sampled_from(ROLES),
    method=st.sampled_from(METHODS),
    query=_PAIRS,
    form=_PAIRS,
    with_token=st.booleans(),
)
def test_every_route_as_every_role_never_500_and_never_beyond_the_role_table(
    app: Flask,
    data: Any,
    role: str,
    method: str,
    query: list[tuple[str, str]],
    form: list[tuple[str, str]],
    with_token: bool,
) -> None:
    supporter = db.session.query(Supporter).filter_by(email="walked@example.org").one_or_none()
    if supporter is None:
        supporter = Supporter(email="walked@example.org", name="Walked")
        db.session.add(supporter)
        db.session.commit()
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule
    )
    rule = data.draw(st.sampled_from(rules), label="route")
    path = rule.build({name: supporter.id for name in rule.arguments}, append_unknown=False)[1]
    client = _client(app, role, supporter.id)
    body = list(form)
    if with_token and method != "GET":
        body.append(("csrf_token", csrf_token_from(client.get("/support").get_data(as_text=True))))
    response = client.open(path, method=method, query_string=query, data=MultiDict(body))
    where = f"{role} {method} {path} -> {response.status_code}"
    assert response.status_code < 500, where
    if rule.rule.startswith("/staff") and not _granted(app, rule.endpoint, role):
        if role == "anonymous" and response.status_code == 302:
            assert "/account/sign-in" in response.headers["Location"], where
        else:
            # Refused by the gate (403), the CSRF check (400) or the method (405): never served.
            assert response.status_code in (400, 403, 405), where
    response.close()
