"""Where the optional policy sections feed the core decision.

The timeline turns promises to pay into derived ``promise_kept`` / ``promise_broken``
signals; the regulatory packs add class and bucket fields to the flat facts. Both are
looked up here, by section, so that the core never imports them at module load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from collectrules.facts import Case, Signal
from collectrules.policy import Policy

__all__ = ["derived_signals", "extra_facts"]


def derived_signals(case: Case, as_of: pendulum.DateTime, policy: Policy) -> tuple[Signal, ...]:
    """Signals derived from the case's events (kept and broken promises)."""
    return ()


def extra_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """Fact fields that the policy's optional sections add."""
    return {}


def classify(case: Case, derived: Any, policy: Policy) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The regulatory classes and delinquency buckets the policy's packs give."""
    return (), ()
