"""Values quoted in error messages: one line, bounded, and the same from run to run. A
frame's repr runs over many lines and a plain object's holds its memory address: both
are named by their type."""

from __future__ import annotations

import attrs
import pandas as pd
import polars as pl

from collectrules._arguments import wrong_kind
from collectrules.errors import QUOTE_LIMIT, FieldProblem, quote


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


def test_an_attrs_object_is_quoted_field_by_field_bounded() -> None:
    # attrs' own repr writes each field whole: a list held a thousand times in a field
    # is a billion numbers to write. quote bounds each field as any value.
    shared = [[[1] * 1000] * 1000] * 1000
    problem = FieldProblem(shared, "bad")  # type: ignore[arg-type]
    text = quote(problem)
    assert text.startswith("FieldProblem(path=[[[")
    assert len(text) <= QUOTE_LIMIT + 1
    # a small one reads as its own repr
    assert quote(FieldProblem("a", "b")) == repr(FieldProblem("a", "b"))


def test_an_attrs_field_that_cannot_be_read_is_quoted_as_unknown() -> None:
    @attrs.define
    class Broken:
        value: int

        def __getattribute__(self, name: str) -> object:
            if name == "value":
                raise RuntimeError("unreadable")
            return object.__getattribute__(self, name)

    assert quote(Broken(1)).endswith(".<locals>.Broken(value=<?>)")
