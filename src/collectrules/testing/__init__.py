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

if TYPE_CHECKING:
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

#: Where each public name lives. Every name is imported on first use: the pytest plugin
#: (loaded in every pytest run of the environment) imports this package, and must not
#: pay for the engine, the invariants or hypothesis (the strategies) until they are used.
_LAZY: dict[str, str] = {
    "DEFAULT_AS_OF": "collectrules.testing._space",
    "TIMEZONES": "collectrules.testing._space",
    "DecisionMismatch": "collectrules.testing.assertions",
    "Expectation": "collectrules.testing.assertions",
    "assert_decision": "collectrules.testing.assertions",
    "format_decision": "collectrules.testing.assertions",
    "MEASURED_WORSE": "collectrules.testing.invariants",
    "CheckResult": "collectrules.testing.invariants",
    "Counterexample": "collectrules.testing.invariants",
    "InvariantViolation": "collectrules.testing.invariants",
    "check_coherent": "collectrules.testing.invariants",
    "check_complete": "collectrules.testing.invariants",
    "check_envelopes": "collectrules.testing.invariants",
    "check_monotonic": "collectrules.testing.invariants",
    **dict.fromkeys(
        ("as_ofs", "boundary_values", "cases", "dated_cases", "events", "signals"),
        "collectrules.testing.strategies",
    ),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'collectrules.testing' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
