"""The testing kit for policy authors: strategies, assertions, invariants, golden cases.

* :func:`assert_decision` decides a case and checks its quadrant and remedies; a
  failure shows a readable diff and the trace of the rules that fired.
* :func:`check_complete`, :func:`check_monotonic`, :func:`check_coherent` (the decision
  never contradicts the timeline) and :func:`check_envelopes` (no remedy outside its
  quadrant's envelope) check a whole policy and fail with a counterexample case.
* :func:`cases`, :func:`signals`, :func:`events` and :func:`as_ofs` are hypothesis
  strategies for valid, policy-aware facts that hit every threshold the policy
  mentions. They need hypothesis (``pip install 'collectrules[testing]'``); the rest of
  the kit does not, and they are imported only when first used.
* The pytest plugin (:mod:`collectrules.testing.plugin`, registered by entry point)
  collects golden-case files, ``golden_*.toml`` and ``golden_*.json``: one test per
  case. See ``docs/testing-kit.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from collectrules.testing._space import DEFAULT_AS_OF, TIMEZONES
from collectrules.testing.assertions import (
    DecisionMismatch,
    Expectation,
    assert_decision,
    format_decision,
)
from collectrules.testing.invariants import (
    MEASURED_WORSE,
    CheckResult,
    Counterexample,
    InvariantViolation,
    check_coherent,
    check_complete,
    check_envelopes,
    check_monotonic,
)

if TYPE_CHECKING:
    from collectrules.testing.strategies import (
        as_ofs,
        boundary_values,
        cases,
        dated_cases,
        events,
        signals,
    )

__all__ = [
    "DEFAULT_AS_OF",
    "MEASURED_WORSE",
    "TIMEZONES",
    "CheckResult",
    "Counterexample",
    "DecisionMismatch",
    "Expectation",
    "InvariantViolation",
    "as_ofs",
    "assert_decision",
    "boundary_values",
    "cases",
    "check_coherent",
    "check_complete",
    "check_envelopes",
    "check_monotonic",
    "dated_cases",
    "events",
    "format_decision",
    "signals",
]

_STRATEGIES = frozenset({"as_ofs", "boundary_values", "cases", "dated_cases", "events", "signals"})


def __getattr__(name: str) -> Any:
    # The strategies import hypothesis, which only tests need: load them on first use.
    if name in _STRATEGIES:
        module = importlib.import_module("collectrules.testing.strategies")
        return getattr(module, name)
    msg = f"module 'collectrules.testing' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | _STRATEGIES)
