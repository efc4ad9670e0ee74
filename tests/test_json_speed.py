"""The per-case path from a dict to the decision's JSON, made cheaper, gives the same
facts and the same bytes: the timeline's state read without merging every fact, on
every shipped policy and both back ends."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules.batch.bench import generate_events
from collectrules.bench import generate_cases
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError
from collectrules.model.case import Case
from collectrules.policy import Policy, load_policy
from collectrules.testing import strategies as kit
from collectrules.timeline.evaluate import (
    _overlaid_state_facts,
    current_timeline_facts,
    state_facts,
)
from collectrules.timeline.section import _state_reads
from collectrules.timeline.stages import TimelineSection
from test_generated import SHIPPED

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")
WITH_TIMELINE = [
    name
    for name in SHIPPED
    if isinstance(load_policy(name).sections.get("timeline"), TimelineSection)
]
_ENGINES: dict[tuple[str, str], Engine] = {}


def _engine(name: str, backend: str = "python") -> Engine:
    key = (name, backend)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(load_policy(name), backend=backend)  # type: ignore[arg-type]
    return _ENGINES[key]


def _reference_json(data: dict[str, Any]) -> bytes:
    """The decision's JSON as ``json.dumps`` writes its dict: the reference bytes."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _currency(policy: Policy) -> str:
    """A currency the policy decides cases in (a regulatory pack may set its threshold
    in one currency only)."""
    engine = Engine(policy, backend="python")
    case = generate_cases(policy, 1)[0]
    for currency in ("CNY", "EUR", "GBP", "USD"):
        try:
            engine.decide(attrs.evolve(case, currency=currency), as_of=AS_OF)
        except CollectRulesError:
            continue
        return currency
    raise AssertionError(f"no currency decides a case of {policy.id}")


def _portfolio(name: str, count: int) -> list[dict[str, Any]]:
    """The benchmark's cases as dicts, one in three with events, and a few with text
    beyond ASCII and an unreachable sign (the steps anchored on it)."""
    policy = load_policy(name)
    rng = random.Random(f"json-speed {name}")
    currency = _currency(policy)
    out = []
    for i, case in enumerate(generate_cases(policy, count, seed=7)):
        data = {**case.to_dict(), "currency": currency}
        if i % 3 == 0:
            data["events"] = generate_events(rng)
        if i % 7 == 0:
            data["case_id"] = f"案件-{i}-é"
        if i % 5 == 0 and "unreachable" in policy.signals:
            data["signals"] = [
                *data.get("signals", []),
                {"kind": "unreachable", "observed_at": "2026-05-01T09:00:00+08:00"},
            ]
        out.append(data)
    return out


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("name", SHIPPED)
def test_the_benchmark_portfolio_gives_the_reference_bytes(name: str, backend: str) -> None:
    engine = _engine(name, backend)
    kinds = tuple(engine.policy.signals)
    decided = 0
    for data in _portfolio(name, 150):
        try:
            decision = engine.decide(Case.from_dict(data, signal_kinds=kinds), as_of=AS_OF)
        except CollectRulesError:
            continue
        decided += 1
        written = decision.to_json_bytes()
        assert written == _reference_json(decision.to_dict()), data["case_id"]
        assert decision.to_json() == written.decode("utf-8")
    assert decided >= 100


@pytest.mark.parametrize("name", WITH_TIMELINE)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_state_read_without_merging_is_the_state_of_the_merged_facts(
    name: str, data: st.DataObject
) -> None:
    engine = _engine(name)
    policy = engine.policy
    case = data.draw(kit.cases(policy, as_of=AS_OF, with_events=True))
    try:
        facts = dict(engine.derive(case, as_of=AS_OF).facts)
    except CollectRulesError:
        return
    own = current_timeline_facts(case, AS_OF, policy)
    needed = _state_reads(policy)
    # The timeline's own facts may disagree with those given: the overlay wins.
    flipped = {k: (not v if type(v) is bool else v) for k, v in own.items()}
    for given_own in (own, flipped, {}):
        merged = {**facts, **given_own}
        for cold in (False, True):
            if cold:
                policy.memo("timeline_state_cache", dict).clear()
            got = _overlaid_state_facts(case, AS_OF, policy, facts, given_own, needed)
            want = state_facts(case, AS_OF, policy, merged, needed)
            assert list(got.items()) == list(want.items())


def test_a_stage_reading_a_promise_reads_the_timeline_own_fact() -> None:
    """A stage condition reading ``promise_standing`` (the default policy's timeline
    has one, and the policies built on it) reads the timeline's own value, not a
    stale one among the facts given."""
    moved = 0
    for name, product in itertools.product(
        WITH_TIMELINE, ("loan", "credit_card", "receivable", "property_fee")
    ):
        policy = load_policy(name)
        engine = Engine(policy, backend="python")
        needed = _state_reads(policy)
        case = Case.from_dict(
            {
                "case_id": "P-1",
                "product": product,
                "currency": _currency(policy),
                "principal": "10000",
                "overdue_amount": "500",
                "due_date": "2026-05-01",
                "timezone": "Asia/Shanghai",
            }
        )
        try:
            facts = dict(engine.derive(case, as_of=AS_OF).facts)
        except CollectRulesError:
            continue
        own = current_timeline_facts(case, AS_OF, policy)
        outs = []
        for standing in (False, True):
            given_own = {**own, "promise_standing": standing, "promise_days": 3}
            stale = {**facts, "promise_standing": not standing, "promise_days": 3}
            got = _overlaid_state_facts(case, AS_OF, policy, stale, given_own, needed)
            assert got == state_facts(case, AS_OF, policy, {**stale, **given_own}, needed)
            outs.append(got)
        moved += outs[0] != outs[1]
    assert moved  # a promise moves a step: the value read matters
