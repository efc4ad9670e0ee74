"""A condition built in Python nests at most ``MAX_DEPTH`` levels: a deeper one is a
``ConditionError`` when it is built, and one at the limit goes through every walk over
it (evaluation, text, equality, pickling, both back ends) without reaching Python's
recursion limit, even called from a deep stack."""

from __future__ import annotations

import contextlib
import copy
import pickle
import tomllib
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import attrs
import pytest

from collectrules import Engine
from collectrules.conditions import (
    MAX_DEPTH,
    All,
    AnyOf,
    Compare,
    Condition,
    Not,
    Op,
    Truth,
    check,
    compile_condition,
    parse,
    predicate,
    to_durable,
)
from collectrules.errors import CollectRulesError, ConditionError, PolicyError
from collectrules.policy import load_policy, policy_from_dict
from helpers import AS_OF, make_case

LEAF = Compare("dpd", Op.GT, 30)


def _negations(depth: int) -> Condition:
    cond: Condition = LEAF
    for _ in range(depth - 1):
        cond = Not(cond)
    return cond


def _groups(depth: int) -> Condition:
    cond: Condition = LEAF
    for level in range(depth - 1):
        if level % 2:
            cond = All((cond, Truth("debtor_contacted")))
        else:
            cond = AnyOf((cond, Compare("dpd", Op.LT, 5)))
    return cond


def _deep_stack(frames: int, call: Callable[[], Any]) -> Any:
    """``call()`` from ``frames`` frames further down: an application's own stack."""
    if frames == 0:
        return call()
    return _deep_stack(frames - 1, call)


@pytest.mark.parametrize("build", [_negations, _groups])
def test_a_condition_one_level_past_the_limit_is_a_condition_error(
    build: Callable[[int], Condition],
) -> None:
    assert build(MAX_DEPTH) is not None
    with pytest.raises(ConditionError, match=f"more than {MAX_DEPTH} levels deep"):
        build(MAX_DEPTH + 1)


def test_a_condition_nested_thousands_deep_is_refused_as_it_grows() -> None:
    cond: Condition = LEAF
    levels = 1
    with contextlib.suppress(ConditionError):
        for _ in range(10_000):
            cond = ~cond
            levels += 1
    assert levels == MAX_DEPTH


def test_a_group_of_parts_that_are_not_conditions_is_a_condition_error() -> None:
    with pytest.raises(ConditionError, match="part 1: expected a condition"):
        All((LEAF, "dpd > 30"))  # type: ignore[arg-type]
    with pytest.raises(ConditionError, match="expected the parts as a tuple"):
        AnyOf(LEAF)  # type: ignore[arg-type]
    with pytest.raises(ConditionError, match=r"Not\.part: expected a condition"):
        Not(None)  # type: ignore[arg-type]
    assert All([LEAF, LEAF]) == All((LEAF, LEAF))  # a list is read as the tuple


def _walks(cond: Condition) -> Iterator[tuple[str, Callable[[], Any]]]:
    policy = load_policy("default")
    schema = policy.schema()
    facts = {"dpd": 40, "debtor_contacted": True}
    expected = cond.evaluate(facts)
    yield "evaluate", lambda: cond.evaluate(facts) is expected
    yield "text", lambda: parse(cond.to_text(), schema=schema) == cond
    yield "walk", lambda: sum(1 for _ in cond.walk()) >= MAX_DEPTH
    yield "fields", lambda: cond.fields() <= {"dpd", "debtor_contacted"}
    yield "resolve", lambda: cond.resolve({}) == cond
    yield "repr", lambda: repr(cond).startswith(type(cond).__name__)
    yield "hash", lambda: hash(cond) == hash(copy.copy(cond))
    yield "pickle", lambda: pickle.loads(pickle.dumps(cond)) == cond
    yield "deepcopy", lambda: copy.deepcopy(cond) is cond
    yield "check", lambda: check(cond, schema, {}) is None
    yield "predicate", lambda: predicate(compile_condition(cond, {}, schema))(facts) is expected
    yield "durable", lambda: isinstance(to_durable(cond, schema), dict)


@pytest.mark.parametrize("build", [_negations, _groups])
def test_every_walk_over_a_condition_at_the_limit_returns_from_a_deep_stack(
    build: Callable[[int], Condition],
) -> None:
    cond = build(MAX_DEPTH)
    for name, walk in _walks(cond):
        assert _deep_stack(300, walk), name


@pytest.mark.parametrize("build", [_negations, _groups])
def test_both_back_ends_decide_a_policy_holding_a_condition_at_the_limit(
    build: Callable[[int], Condition],
) -> None:
    policy = load_policy("default")
    rule = policy.remedy_rules[0]
    changed = attrs.evolve(
        policy,
        remedy_rules=(attrs.evolve(rule, when=build(MAX_DEPTH)), *policy.remedy_rules[1:]),
        content_hash=f"deep-{build.__name__}",
    )
    python = Engine(changed, backend="python")
    assert python._generated is not None
    assert python._generated.fallback is None
    durable = Engine(changed)
    for due in ("2026-04-10", "2026-03-01", "2025-02-01"):  # 0, 33 and 426 days past due
        case = make_case(("promise_broken", None), due_date=due)
        assert (
            python.decide(case, as_of=AS_OF).to_json()
            == durable.decide(case, as_of=AS_OF).to_json()
        )


def test_a_policy_dict_holding_a_condition_object_too_deep_for_a_policy_is_a_policy_error() -> None:
    raw = resources.files("collectrules.policies").joinpath("default.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    data["layers"][0]["rules"][0]["when"] = _negations(MAX_DEPTH)
    with pytest.raises(PolicyError) as caught:
        policy_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == "layers[presumption].rules[PRESUME-LATE].when"
    assert "more than 32 levels deep" in problem.message


def test_a_condition_error_is_a_collectrules_error() -> None:
    assert issubclass(ConditionError, CollectRulesError)
