"""The bytes a row's hash is taken over never change: msgspec writes exactly what
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` wrote when the chain
began, for any text (control characters, quotes, accents, emoji, line separators)."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pharmacist_tool.records import chain


def _as_first_written(table: str, values: dict[str, object]) -> bytes:
    body = {
        name: chain._canonical_value(value)
        for name, value in values.items()
        if name not in chain.HASH_EXCLUDED and value is not None
    }
    body["_table"] = table
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefghij_", min_size=1, max_size=8),
        st.one_of(
            text,
            st.integers(-(2**62), 2**62),
            st.booleans(),
            st.none(),
            st.binary(max_size=64),
            st.datetimes(timezones=st.just(dt.UTC)),
            st.dates(),
        ),
        max_size=12,
    )
)
def test_canonical_bytes_are_the_bytes_the_chain_began_with(values: dict[str, object]) -> None:
    assert chain.canonical_bytes("records", values) == _as_first_written("records", values)
