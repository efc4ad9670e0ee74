"""A condition built in Python holds only constants a condition can hold, and evaluating
one on facts that do not fit it is a ``ConditionError`` naming the field, never
Python's own ``TypeError``: from ``evaluate``, from ``predicate``'s function and from
``compare``, which agree with each other on every input."""

from __future__ import annotations

import enum
import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules.conditions import (
    All,
    AnyOf,
    Between,
    Compare,
    Condition,
    F,
    In,
    Not,
    Op,
    Param,
    Truth,
    compare,
    parse,
    predicate,
)
from collectrules.errors import ConditionError


class _Level(enum.IntEnum):
    HIGH = 3


class _Phase(enum.StrEnum):
    P3 = "P3"


NOT_CONSTANTS = [
    None,
    object(),
    b"P3",
    [1],
    {"a": 1},
    Decimal("1.5"),
    float("nan"),
    float("inf"),
    10**101,
    -(10**5000),
    "\ud800",
    "x" * 4001,
]


@pytest.mark.parametrize("value", NOT_CONSTANTS, ids=range(len(NOT_CONSTANTS)))
def test_a_leaf_refuses_what_is_no_constant(value: Any) -> None:
    for build in (
        lambda: Compare("dpd", Op.GT, value),
        lambda: Between("dpd", value, 5),
        lambda: Between("dpd", 0, value),
        lambda: In("dpd", (1, value)),
    ):
        with pytest.raises(ConditionError):
            build()


def test_a_membership_test_needs_its_values_as_a_tuple() -> None:
    with pytest.raises(ConditionError, match="expected the values as a tuple"):
        In("dpd", 5)  # type: ignore[arg-type]
    with pytest.raises(ConditionError, match="expected the values as a tuple"):
        In("phase", "P3")  # type: ignore[arg-type]
    assert In("dpd", [1, 2]) == In("dpd", (1, 2))


def test_a_constant_of_a_subclass_is_held_as_its_plain_type() -> None:
    cond = Compare("dpd", Op.GE, _Level.HIGH)
    assert type(cond.value) is int
    assert cond.to_text() == "dpd >= 3"
    phase = In("phase", (_Phase.P3,))
    assert type(phase.values[0]) is str
    assert parse(phase.to_text()) == phase


#: Decimals the builder cannot hold as a constant, and why.
BUILDER_DECIMALS = [
    ("sNaN", "is not a finite number"),
    ("-sNaN", "is not a finite number"),
    ("NaN", "is not a finite number"),
    ("Infinity", "is not a finite number"),
    ("-Infinity", "is not a finite number"),
    ("1E+999999", "at most 100 digits"),
    ("-1.5E+200", "at most 100 digits"),
    ("1E+101", "at most 100 digits"),
    ("1E-400", "too small to hold"),
    ("1E-999999", "too small to hold"),
    ("0.10000000000000000001", "more digits than a float keeps"),
]


@pytest.mark.parametrize(("text", "why"), BUILDER_DECIMALS, ids=[t for t, _ in BUILDER_DECIMALS])
def test_the_builder_refuses_a_decimal_no_constant_holds(text: str, why: str) -> None:
    value = Decimal(text)
    for build in (
        lambda: F.dpd > value,
        lambda: F.dpd.between(value, 5),
        lambda: F.dpd.between(0, value),
        lambda: F.dpd.isin(1, value),
    ):
        with pytest.raises(ConditionError, match=why):
            build()


def test_the_builder_holds_a_decimal_as_a_whole_number_or_the_float_written() -> None:
    assert (F.dpd > Decimal("30")).value == 30
    assert type((F.dpd > Decimal("30.0")).value) is int
    assert (F.dpd > Decimal("0E+999999")).value == 0
    assert (F.dpd > Decimal("-0")).value == 0
    assert (F.dpd > Decimal("1E+100")).value == 10**100
    assert (F.dpd > Decimal("0.1")).value == 0.1
    assert (F.dpd > Decimal("1.5")) == parse("dpd > 1.5")


def test_a_parameter_needs_a_name() -> None:
    for name in ("", 5, None):
        with pytest.raises(ConditionError, match="expected a parameter's name"):
            Param(name)  # type: ignore[arg-type]
    assert Compare("dpd", Op.GT, Param("presume_over_dpd")).to_text() == "dpd > presume_over_dpd"


def test_the_largest_integer_a_leaf_holds_is_written_and_read_back() -> None:
    cond = Compare("dpd", Op.LT, 10**100)
    assert parse(cond.to_text()) == cond
    assert pickle.loads(pickle.dumps(cond)) == cond


@pytest.mark.parametrize("facts", [5, None, "dpd", [("dpd", 40)]])
def test_facts_that_are_no_mapping_are_a_condition_error(facts: Any) -> None:
    cond = Compare("dpd", Op.GT, 30)
    for run in (cond.evaluate, predicate(cond)):
        with pytest.raises(ConditionError, match="expected the facts as a mapping"):
            run(facts)


def test_a_fact_that_does_not_compare_is_named() -> None:
    cond = All((Truth("debtor_contacted"), Compare("dpd", Op.GT, 30)))
    facts = {"debtor_contacted": True, "dpd": "forty"}
    for run in (cond.evaluate, predicate(cond)):
        with pytest.raises(ConditionError) as caught:
            run(facts)
        assert caught.value.field == "dpd"
        assert "cannot evaluate 'dpd > 30'" in str(caught.value)
        assert "'forty' (str)" in str(caught.value)


def test_compare_refuses_an_operator_that_is_no_op_and_values_that_do_not_compare() -> None:
    with pytest.raises(ConditionError, match="expected an Op"):
        compare(5, 1, 2)  # type: ignore[arg-type]
    with pytest.raises(ConditionError, match="does not compare"):
        compare(Op.LT, "x", 1)
    with pytest.raises(ConditionError, match="does not compare"):
        compare(Op.GT, Decimal("NaN"), Decimal(1))
    assert compare(Op.NE, "x", 1) is True
    assert compare(Op.LE, 1, 1.0) is True


_FIELDS = ("a", "b")
_VALUES = st.one_of(
    st.integers(-5, 5), st.sampled_from(["x", "y"]), st.booleans(), st.none(), st.just(1.5)
)


def _conditions() -> st.SearchStrategy[Condition]:
    ops = st.sampled_from(list(Op))
    constants = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "y"]), st.booleans())
    leaves = st.one_of(
        st.builds(Compare, st.sampled_from(_FIELDS), ops, constants),
        st.builds(Between, st.sampled_from(_FIELDS), constants, constants),
        st.builds(In, st.sampled_from(_FIELDS), st.lists(constants, max_size=3).map(tuple)),
        st.builds(Truth, st.sampled_from(_FIELDS)),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.lists(inner, min_size=1, max_size=3).map(lambda p: All(tuple(p))),
            st.lists(inner, min_size=1, max_size=3).map(lambda p: AnyOf(tuple(p))),
        ),
        max_leaves=6,
    )


def _outcome(run: Any, facts: dict[str, Any]) -> object:
    try:
        return run(facts)
    except ConditionError as exc:
        return ("error", exc.field, str(exc))


@settings(max_examples=400, deadline=None)
@given(
    cond=_conditions(),
    facts=st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=2),
)
def test_evaluate_and_predicate_agree_on_any_facts_errors_included(
    cond: Condition, facts: dict[str, Any]
) -> None:
    assert _outcome(cond.evaluate, facts) == _outcome(predicate(cond), facts)
