"""Money facts are shown in major units: integer arithmetic gives Decimal's text."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from collectrules.engine.engine import MONEY_EXPONENT, _major_units


def _reference(value: int) -> str:
    text = format(Decimal(value).scaleb(-MONEY_EXPONENT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@given(
    st.one_of(
        st.integers(-(10**6), 10**6),
        st.integers(-(10**30), 10**30),
        st.sampled_from([10**24 - 1, 10**24, -(10**24), -(10**24) + 1, 0, True, False]),
    )
)
def test_major_units_are_the_decimal_text(value: int) -> None:
    assert _major_units(value) == _reference(value)


def test_examples() -> None:
    assert [_major_units(v) for v in (150, -20000, 0, 1, -5, 123456789)] == [
        "0.015",
        "-2",
        "0",
        "0.0001",
        "-0.0005",
        "12345.6789",
    ]
