"""collectrules: a rules engine for collecting overdue debt.

It classifies each overdue debtor into the four quadrants of willingness and ability to
pay, derives the remedies the lender may and may not use (each with its reason and
citations), and explains every decision with a trace of the rules that fired.

Quick start::

    import collectrules as cr

    engine = cr.Engine()                      # the embedded default policy
    case = cr.Case.from_dict({...})
    decision = engine.decide(case, as_of="2026-04-03T12:00:00+08:00")
    decision.quadrant, decision.allowed, decision.blocked, decision.trace
"""

from __future__ import annotations

from collectrules.conditions import F, parse
from collectrules.decision import (
    SCHEMA_VERSION,
    Decision,
    Firing,
    LevelResult,
    PolicyRef,
    Quadrant,
    RemedyBlock,
    RemedyGrant,
)
from collectrules.derive import Derived, days_past_due
from collectrules.engine import BatchResult, Engine
from collectrules.errors import (
    CollectRulesError,
    ConditionError,
    EngineError,
    EngineLimitError,
    EngineUnavailableError,
    FieldProblem,
    InputError,
    PolicyError,
    RuleActionError,
)
from collectrules.facts import Case, ContactOutcome, Event, EventKind, Guarantor, Product, Signal
from collectrules.policy import Policy, available_policies, load_policy
from collectrules.remedies import Remedy

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "BatchResult",
    "Case",
    "CollectRulesError",
    "ConditionError",
    "ContactOutcome",
    "Decision",
    "Derived",
    "Engine",
    "EngineError",
    "EngineLimitError",
    "EngineUnavailableError",
    "Event",
    "EventKind",
    "F",
    "FieldProblem",
    "Firing",
    "Guarantor",
    "InputError",
    "LevelResult",
    "Policy",
    "PolicyError",
    "PolicyRef",
    "Product",
    "Quadrant",
    "Remedy",
    "RemedyBlock",
    "RemedyGrant",
    "RuleActionError",
    "Signal",
    "available_policies",
    "days_past_due",
    "load_policy",
    "parse",
]
