"""The timeline's state cache: cases of a batch share a state, never a wrong one.

Without events, a case's timeline state (each step's status, the plan flags, the phase)
is a function of its product, due date, zone, ``as_of``, days past due and whether each
stage's condition holds. Cases that agree on those share one cached state even when a
stage condition reads a fact of their own (an amount): deciding them one after another
must give what each gives alone, on an empty cache.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Engine, load_policy
from collectrules.model.case import Case
from collectrules.testing import strategies as cst

AS_OF = "2026-03-15T10:00:00+08:00"
TIMELINE_POLICIES = ("default", "uk", "us_regf")


def _empty_caches(engine: Engine) -> None:
    for name in ("timeline_state_cache", "timeline_stage_times"):
        engine.policy.memo(name, dict).clear()


@pytest.mark.parametrize("name", TIMELINE_POLICIES)
@pytest.mark.parametrize("backend", ["durable", "python"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_shared_state_is_the_state_each_case_has_alone(
    name: str, backend: str, data: st.DataObject
) -> None:
    policy = load_policy(name)
    engine = Engine(policy, backend=backend)
    batch = data.draw(st.lists(cst.cases(policy, as_of=AS_OF), min_size=2, max_size=6))
    # One due date, product and zone for all, so that they meet in the cache; amounts,
    # signals and the rest stay each case's own.
    first = batch[0]
    batch = [
        attrs.evolve(c, due_date=first.due_date, product=first.product, timezone=first.timezone)
        for c in batch
    ]
    _empty_caches(engine)
    together = [engine.decide(c, as_of=AS_OF).to_json() for c in batch]
    for case, shared in zip(batch, together, strict=True):
        _empty_caches(engine)
        assert engine.decide(case, as_of=AS_OF).to_json() == shared


def test_cases_either_side_of_a_stage_condition_get_their_own_state() -> None:
    # The default policy's receivable plan sues (AR-4) only when ``overdue_amount > 0``:
    # two cases alike but for that amount must not share a state.
    policy = load_policy("default")
    engine = Engine(policy, backend="python")
    case = Case.from_dict(
        {
            "case_id": "C1",
            "product": "receivable",
            "currency": "CNY",
            "due_date": "2025-12-01",
            "principal": "10000",
            "overdue_amount": "2500",
            "timezone": "Asia/Shanghai",
        }
    )
    nothing_owed = attrs.evolve(case, case_id="C2", overdue_amount=case.overdue_amount * 0)
    _empty_caches(engine)
    owed_facts = engine.derive(case, as_of=AS_OF).facts
    zero_facts = engine.derive(nothing_owed, as_of=AS_OF).facts
    _empty_caches(engine)
    alone = engine.derive(nothing_owed, as_of=AS_OF).facts
    assert zero_facts == alone
    differing = {k for k in owed_facts if owed_facts[k] != zero_facts.get(k)}
    assert "overdue_amount" in differing
    assert differing - {"overdue_amount"}, "a stage condition on the amount changes the state"
    cache = policy.memo("timeline_state_cache", dict)

    def steps() -> int:
        return sum(key[0] == "steps" for key in cache)

    assert steps() == 1
    engine.derive(attrs.evolve(case, case_id="C3"), as_of=AS_OF)
    doubled = attrs.evolve(case, case_id="C4", overdue_amount=case.overdue_amount * 2)
    engine.derive(doubled, as_of=AS_OF)
    assert steps() == 2, "cases on one side of every stage condition share a state"
