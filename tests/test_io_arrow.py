"""``collectrules.io.arrow``: Arrow values as the plain data ``Case.from_dict`` reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from collectrules.io.arrow import plain


def _reference(value: Any) -> Any:
    """:func:`plain` without its fast paths: the general rule, case by case."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _reference(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _reference(v) for k, v in value if v is not None}
        return [_reference(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


_LEAVES = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(dt.UTC))),
    st.times(),
    st.decimals(allow_nan=False),
    st.binary(max_size=4),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers()), inner, max_size=3),
        st.lists(st.tuples(st.text(max_size=3), inner), max_size=3),  # an Arrow map
        st.lists(st.tuples(inner, inner, inner), max_size=2),
        st.tuples(inner, inner),
    ),
    max_leaves=12,
)


@given(_VALUES)
def test_plain_gives_what_the_general_rule_gives(value: Any) -> None:
    # By repr: True stays True, 1.0 stays 1.0, and NaN compares.
    assert repr(plain(value)) == repr(_reference(value))


def test_plain_reads_a_row_of_nested_signals() -> None:
    row = {
        "kind": "promise_made",
        "at": dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        "amount": Decimal("10.50"),
        "items": [{"a": None, "b": 1}, None],
        "pairs": [("k", dt.date(2026, 1, 2))],
    }
    assert plain(row) == {
        "kind": "promise_made",
        "at": "2026-06-01T00:00:00+00:00",
        "amount": "10.50",
        "items": [{"b": 1}, None],
        "pairs": {"k": "2026-01-02"},
    }
