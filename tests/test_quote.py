"""Values quoted in error messages: one line, bounded, and the same from run to run. A
frame's repr runs over many lines and a plain object's holds its memory address: both
are named by their type."""

from __future__ import annotations

import pandas as pd
import polars as pl

from collectrules._arguments import wrong_kind
from collectrules.errors import quote


class Plain:
    pass


class Shown:
    def __repr__(self) -> str:
        return "Shown(1)"


class Long:
    def __repr__(self) -> str:
        return "L" * 10_000


def test_a_foreign_object_is_named_by_its_type_when_its_repr_is_not_one_steady_line() -> None:
    assert quote(pd.DataFrame({"a": [1, 2]})) == "<DataFrame>"
    assert quote(pl.DataFrame({"a": [1]})) == "<DataFrame>"
    assert quote(Plain()) == "<Plain>"
    assert quote([Plain(), 1]) == "[<Plain>, 1]"


def test_a_foreign_object_with_a_short_repr_is_quoted_with_it() -> None:
    assert quote(Shown()) == "Shown(1)"
    assert len(quote(Long(), limit=50)) <= 53


def test_a_wrong_kind_names_an_object_once_and_the_same_each_time() -> None:
    message = str(wrong_kind("skip", pd.DataFrame({"a": [1]}), "a count"))
    assert message == "skip: expected a count, got DataFrame"
    first, second = (str(wrong_kind("skip", Plain(), "a count")) for _ in range(2))
    assert first == second == "skip: expected a count, got Plain"
    assert str(wrong_kind("skip", "x", "a count")) == "skip: expected a count, got str 'x'"
