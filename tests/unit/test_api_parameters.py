"""The API's query parameters: any text either parses or is refused with ApiInputError (a 400),
never another exception (a 500); cursors round-trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from membership.services.integrations.api_queries import (
    COLLECTIONS,
    ApiInputError,
    PageQuery,
    decode_cursor,
    encode_cursor,
    parse_page_query,
)

PARAMETERS = ("limit", "cursor", "updated_since", "status", "from", "to")


@given(st.dictionaries(st.sampled_from(PARAMETERS), st.text(max_size=60)))
def test_any_parameters_parse_or_are_refused_cleanly(args: dict[str, str]) -> None:
    for collection in COLLECTIONS:
        try:
            query = parse_page_query(collection, args)
        except ApiInputError as error:
            assert str(error).split(":")[0] in PARAMETERS
        else:
            assert isinstance(query, PageQuery) and 1 <= query.limit <= 500


@given(st.integers(min_value=0, max_value=2**62))
def test_cursors_round_trip(after: int) -> None:
    assert decode_cursor(encode_cursor(after)) == after
