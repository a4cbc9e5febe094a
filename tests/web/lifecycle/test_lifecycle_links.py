"""Reader-facing lifecycle links with bad input: clear 400 pages, never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.factories import count, make_supporter
from membership.models import LifecycleOptOut

pytestmark = pytest.mark.usefixtures("app_context")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%"),
        min_size=1,
        max_size=300,
    )
)
def test_any_token_is_a_clear_answer(client: FlaskClient, token: str) -> None:
    for method, path in (
        ("GET", f"/lifecycle/go/{token}"),
        ("GET", f"/lifecycle/unsubscribe/{token}"),
        ("POST", f"/lifecycle/unsubscribe/{token}"),
    ):
        response = client.open(path, method=method)
        assert response.status_code in (400, 404), (method, path, response.status_code)


def test_unsubscribing_twice_or_after_erasure_is_calm(client: FlaskClient, config) -> None:  # type: ignore[no-untyped-def]
    from membership.services.lifecycle.links import unsubscribe_link

    supporter = make_supporter("calm@example.org")
    path = "/" + unsubscribe_link(config, supporter.id, "win_back").split("/", 3)[3]
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.post(path).status_code == 200
    assert count(LifecycleOptOut) == 1
    gone = "/" + unsubscribe_link(config, 999_999, "win_back").split("/", 3)[3]
    assert client.post(gone).status_code == 200
    assert count(LifecycleOptOut) == 1
    unknown_group = "/" + unsubscribe_link(config, supporter.id, "newsletter").split("/", 3)[3]
    assert client.get(unknown_group).status_code == 400
