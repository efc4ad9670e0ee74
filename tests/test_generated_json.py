"""The fast JSON path gives the bytes ``json.dumps`` gives, on both back ends."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, UnwritableError
from collectrules.model.decision import Decision, _record
from collectrules.policy import load_policy
from collectrules.testing import strategies as kit
from test_generated import SHIPPED, make_case

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")
_ENGINES: dict[tuple[str, str], Engine] = {}


def _plain_json(decision: Decision) -> str:
    """What ``Decision.to_json`` gave before the fast path: ``json.dumps``."""
    return json.dumps(decision.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_decision_json_is_the_json_dumps_bytes(
    name: str, backend: str, data: st.DataObject
) -> None:
    key = (name, backend)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(load_policy(name), backend=backend)  # type: ignore[arg-type]
    engine = _ENGINES[key]
    case = data.draw(kit.cases(engine.policy, as_of=AS_OF, with_events=True))
    try:
        decision = engine.decide(case, as_of=AS_OF)
    except CollectRulesError:
        return
    assert decision.to_json() == _plain_json(decision)
    parts = [
        decision.policy,
        *decision.levels.values(),
        *decision.allowed,
        *decision.blocked,
        *decision.trace,
        *decision.regulatory,
        *decision.buckets,
    ]
    for part in parts:  # the fast conversion is attrs.asdict's, value for value
        assert _record(part) == attrs.asdict(part)
    assert decision.to_json(indent=2) == json.dumps(
        decision.to_dict(), sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": ")
    )


def test_the_fast_conversion_keeps_attrs_asdict_semantics() -> None:
    @attrs.frozen
    class Inner:
        a: tuple[int, ...]

    @attrs.frozen
    class Outer:
        inner: Inner
        many: tuple[Inner, ...]
        table: dict[str, Any]
        kinds: frozenset[str]
        other: Any

    value = Outer(
        Inner((1, 2)), (Inner(()),), {"k": Inner((3,)), "l": [Inner((4,))]}, frozenset({"x"}),
        pendulum.datetime(2026, 1, 1),
    )  # fmt: skip
    assert _record(value) == attrs.asdict(value)


@pytest.mark.parametrize(
    "value",
    [1e-05, 0.00012, 3.5e-09, 1e16, 1e300, -0.0, 2**64 + 1, -(2**63) - 5, "\ud800", "1e-05"],
)
def test_values_orjson_writes_differently_fall_back_to_json_dumps(value: Any) -> None:
    engine = Engine("default", backend="python")
    decision = engine.decide(make_case(), as_of=AS_OF)
    odd = attrs.evolve(decision, facts={**decision.facts, "odd": value, "nested": [value]})
    assert odd.to_json() == _plain_json(odd)
    if value == "\ud800":  # text UTF-8 cannot hold, named at its first place
        with pytest.raises(UnwritableError, match=r"facts\.nested\[0\]: text UTF-8"):
            odd.to_json_bytes()
    else:
        assert odd.to_json_bytes() == odd.to_json().encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.text(),
    )
)
def test_any_float_integer_or_text_in_a_decision_gives_the_json_dumps_bytes(value: Any) -> None:
    engine = Engine("default", backend="python")
    decision = engine.decide(make_case(), as_of=AS_OF)
    odd = attrs.evolve(decision, facts={**decision.facts, "odd": value})
    assert odd.to_json() == _plain_json(odd)
