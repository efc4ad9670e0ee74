"""The fuzz suite: hostile case data and instants at every entry point.

Each example must end in a decision (or timeline, or verdict) or a ``CollectRulesError``,
never another exception; within 2 seconds; and the durable and python back ends must
give the same decision JSON, or the same error class and message.

It runs a few hundred examples by default (sized for CI); ``pytest --fuzz-long
tests/test_fuzz.py`` runs thousands. The counts and times are in docs/reliability.md.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    CollectRulesError,
    Contact,
    Engine,
    Guardrails,
    bucket_history,
    days_past_due,
)
from fuzz_strategies import (
    AS_OF,
    edge_case_dicts,
    hostile_as_ofs,
    hostile_case_dicts,
    tiny_measures,
    valid_case_dicts,
)

#: The most CPU time one example may take (this process's, so that other jobs on the
#: machine do not count): a bound against runaway work, not a speed target.
TIME_BOUND_SECONDS = 2.0

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

Outcome = tuple[str, str]


def outcome(call: Callable[[], str]) -> Outcome:
    """``("ok", json)`` or ``("error", "Class: message")``; any other exception escapes."""
    try:
        return "ok", call()
    except CollectRulesError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def _decision_json(engine: Engine, case: Case, as_of: Any) -> str:
    return engine.decide(case, as_of=as_of).to_json()


@pytest.fixture(scope="module")
def guardrails() -> Guardrails:
    return Guardrails("cn_bank_loan")


def _check(
    data: Any,
    as_of: Any,
    python_engine: Engine,
    durable_engine: Engine,
    guardrails: Guardrails,
) -> str:
    """Check one example; return ``decided`` (a decision on both back ends) or
    ``refused`` (a CollectRulesError, the same on both)."""
    start = time.process_time()
    kinds = tuple(python_engine.policy.signals)
    built = outcome(lambda: repr(Case.from_dict(data, signal_kinds=kinds)))
    on_python: Outcome = ("error", "")
    if built[0] == "ok":
        case = Case.from_dict(data, signal_kinds=kinds)
        on_python = outcome(lambda: _decision_json(python_engine, case, as_of))
        on_durable = outcome(lambda: _decision_json(durable_engine, case, as_of))
        assert on_python == on_durable
        outcome(lambda: python_engine.timeline(case, as_of=as_of).to_json())
        outcome(lambda: str(days_past_due(case, as_of)))
        outcome(lambda: guardrails.check(case, Contact("phone", "debtor", as_of)).to_json())
        outcome(lambda: str(guardrails.obligations(case, as_of=as_of)))
        outcome(
            lambda: str(bucket_history(case, [as_of], policy=guardrails.policy, bucket_set="M"))
        )
    else:
        assert len(built[1]) < 5_000, "an error message must stay short"
    elapsed = time.process_time() - start
    assert elapsed < TIME_BOUND_SECONDS, f"{elapsed:.2f} s for one example"
    return "decided" if built[0] == "ok" and on_python[0] == "ok" else "refused"


def _report(name: str, tally: Counter[str], fuzz_examples: int) -> None:
    """Print the tally (``pytest -s`` shows it) and check the examples really ran."""
    print(f"\n{name}: {tally.total()} examples, {tally['decided']} decided, "
          f"{tally['refused']} refused")  # fmt: skip
    assert tally.total() >= fuzz_examples // 2, "hypothesis ran too few examples"


def test_fuzz_hostile_cases(
    fuzz_examples: int, python_engine: Engine, durable_engine: Engine, guardrails: Guardrails
) -> None:
    @settings(max_examples=fuzz_examples, deadline=None, suppress_health_check=_SUPPRESS)
    @given(data=hostile_case_dicts(), as_of=st.just(AS_OF))
    def run(data: dict[str, Any], as_of: Any) -> None:
        tally[_check(data, as_of, python_engine, durable_engine, guardrails)] += 1

    tally: Counter[str] = Counter()
    run()
    _report("hostile cases", tally, fuzz_examples)


def test_fuzz_edge_cases(
    fuzz_examples: int, python_engine: Engine, durable_engine: Engine, guardrails: Guardrails
) -> None:
    @settings(max_examples=fuzz_examples, deadline=None, suppress_health_check=_SUPPRESS)
    @given(data=edge_case_dicts(), as_of=st.just(AS_OF))
    def run(data: dict[str, Any], as_of: Any) -> None:
        tally[_check(data, as_of, python_engine, durable_engine, guardrails)] += 1

    tally: Counter[str] = Counter()
    run()
    _report("edge cases", tally, fuzz_examples)


def test_fuzz_hostile_instants(
    fuzz_examples: int, python_engine: Engine, durable_engine: Engine, guardrails: Guardrails
) -> None:
    @settings(max_examples=fuzz_examples, deadline=None, suppress_health_check=_SUPPRESS)
    @given(data=valid_case_dicts(), as_of=hostile_as_ofs())
    def run(data: dict[str, Any], as_of: Any) -> None:
        tally[_check(data, as_of, python_engine, durable_engine, guardrails)] += 1

    tally: Counter[str] = Counter()
    run()
    _report("hostile instants", tally, fuzz_examples)


def test_fuzz_junk_at_the_top(
    fuzz_examples: int, python_engine: Engine, durable_engine: Engine, guardrails: Guardrails
) -> None:
    junk = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )

    @settings(max_examples=fuzz_examples, deadline=None, suppress_health_check=_SUPPRESS)
    @given(data=junk)
    def run(data: Any) -> None:
        tally[_check(data, AS_OF, python_engine, durable_engine, guardrails)] += 1

    tally: Counter[str] = Counter()
    run()
    _report("junk at the top", tally, fuzz_examples)


def test_fuzz_tiny_measured_values_agree_on_both_back_ends(
    python_engine: Engine, durable_engine: Engine
) -> None:
    @settings(max_examples=30, deadline=None, suppress_health_check=_SUPPRESS)
    @given(value=tiny_measures())
    def run(value: Any) -> None:
        data = {
            "case_id": "TINY",
            "product": "loan",
            "currency": "CNY",
            "principal": "10000",
            "overdue_amount": "500",
            "due_date": "2026-02-01",
            "timezone": "Asia/Shanghai",
            "signals": [
                {
                    "kind": "cash_coverage",
                    "observed_at": "2026-03-20T10:00:00+08:00",
                    "value": value,
                }
            ],
        }
        case = Case.from_dict(data)
        on_python = outcome(lambda: _decision_json(python_engine, case, AS_OF))
        on_durable = outcome(lambda: _decision_json(durable_engine, case, AS_OF))
        assert on_python == on_durable

    run()


def test_a_measured_value_of_0_00009_decides_on_python() -> None:
    # The python back end decides 0.00009 (written 9e-05); durable agrees (the adapter
    # writes numbers in plain digits), which the test above checks.
    case = Case.from_dict(
        {
            "case_id": "TINY",
            "product": "loan",
            "currency": "CNY",
            "principal": "10000",
            "overdue_amount": "500",
            "due_date": "2026-02-01",
            "timezone": "Asia/Shanghai",
            "signals": [
                {
                    "kind": "cash_coverage",
                    "observed_at": "2026-03-20T10:00:00+08:00",
                    "value": 9e-05,
                }
            ],
        }
    )
    decision = Engine("default", backend="python").decide(case, as_of=AS_OF)
    assert decision.facts["cash_coverage"] == 9e-05
