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

import importlib as _importlib
import logging as _logging
import typing as _typing

if _typing.TYPE_CHECKING:
    from collectrules.assets import AssetPlan
    from collectrules.authoring.verify import Finding, FindingKind, VerificationReport, verify
    from collectrules.calendars import BusinessCalendar, ContactHours, ContactWindow
    from collectrules.compliance.buckets import (
        BucketHistory,
        BucketObservation,
        BucketSpan,
        bucket_history,
    )
    from collectrules.compliance.guardrails import (
        Contact,
        ContactChannel,
        Guardrails,
        Party,
        Purpose,
        Reason,
        ReasonEffect,
        Verdict,
    )
    from collectrules.conditions import F, parse
    from collectrules.engine import BatchResult, Engine
    from collectrules.engine.session import CaseSession, Change
    from collectrules.errors import (
        CollectRulesError,
        ConditionError,
        EngineError,
        EngineLimitError,
        EngineUnavailableError,
        FieldProblem,
        InputError,
        OutOfMemoryError,
        OutputError,
        PolicyError,
        RuleActionError,
        UnwritableError,
    )
    from collectrules.model.case import (
        Case,
        ContactOutcome,
        Event,
        EventKind,
        Guarantor,
        Product,
        Signal,
    )
    from collectrules.model.decision import (
        SCHEMA_VERSION,
        BucketResult,
        Decision,
        Firing,
        LevelResult,
        PolicyRef,
        Quadrant,
        RegulatoryClass,
        RemedyBlock,
        RemedyGrant,
        TreatmentResult,
    )
    from collectrules.model.remedies import Remedy
    from collectrules.model.time import days_past_due
    from collectrules.policy import Policy, available_policies, load_policy
    from collectrules.policy.derive import Derived
    from collectrules.sections import SECTIONS
    from collectrules.timeline import (
        TIMELINE_SCHEMA_VERSION,
        Step,
        StepStatus,
        Timeline,
        build_timeline,
    )
    from collectrules.timeline.deadlines import Deadline, DeadlineKind, DeadlineStatus
    from collectrules.timeline.emergencies import Emergency, EmergencyKind
    from collectrules.timeline.promises import Promise, PromiseStatus
    from collectrules.timeline.stages import Stage, StagePlan
    from collectrules.timeline.urgency import Urgency

#: Where each public name lives. ``import collectrules`` loads none of these modules:
#: each is imported the first time one of its names is used (PEP 562), so a plain
#: decide never loads the verifier, the guardrails or pyarrow.
_LAZY: dict[str, str] = {
    "AssetPlan": "collectrules.assets",
    "Emergency": "collectrules.timeline.emergencies",
    "EmergencyKind": "collectrules.timeline.emergencies",
    "Urgency": "collectrules.timeline.urgency",
    "Finding": "collectrules.authoring.verify",
    "FindingKind": "collectrules.authoring.verify",
    "VerificationReport": "collectrules.authoring.verify",
    "verify": "collectrules.authoring.verify",
    "BusinessCalendar": "collectrules.calendars",
    "ContactHours": "collectrules.calendars",
    "ContactWindow": "collectrules.calendars",
    "BucketHistory": "collectrules.compliance.buckets",
    "BucketObservation": "collectrules.compliance.buckets",
    "BucketSpan": "collectrules.compliance.buckets",
    "bucket_history": "collectrules.compliance.buckets",
    "Contact": "collectrules.compliance.guardrails",
    "ContactChannel": "collectrules.compliance.guardrails",
    "Guardrails": "collectrules.compliance.guardrails",
    "Party": "collectrules.compliance.guardrails",
    "Purpose": "collectrules.compliance.guardrails",
    "Reason": "collectrules.compliance.guardrails",
    "ReasonEffect": "collectrules.compliance.guardrails",
    "Verdict": "collectrules.compliance.guardrails",
    "F": "collectrules.conditions",
    "parse": "collectrules.conditions",
    "BatchResult": "collectrules.engine",
    "Engine": "collectrules.engine",
    "CaseSession": "collectrules.engine.session",
    "Change": "collectrules.engine.session",
    "CollectRulesError": "collectrules.errors",
    "ConditionError": "collectrules.errors",
    "EngineError": "collectrules.errors",
    "EngineLimitError": "collectrules.errors",
    "EngineUnavailableError": "collectrules.errors",
    "FieldProblem": "collectrules.errors",
    "InputError": "collectrules.errors",
    "OutOfMemoryError": "collectrules.errors",
    "OutputError": "collectrules.errors",
    "PolicyError": "collectrules.errors",
    "RuleActionError": "collectrules.errors",
    "UnwritableError": "collectrules.errors",
    "Case": "collectrules.model.case",
    "ContactOutcome": "collectrules.model.case",
    "Event": "collectrules.model.case",
    "EventKind": "collectrules.model.case",
    "Guarantor": "collectrules.model.case",
    "Product": "collectrules.model.case",
    "Signal": "collectrules.model.case",
    "SCHEMA_VERSION": "collectrules.model.decision",
    "BucketResult": "collectrules.model.decision",
    "Decision": "collectrules.model.decision",
    "Firing": "collectrules.model.decision",
    "LevelResult": "collectrules.model.decision",
    "PolicyRef": "collectrules.model.decision",
    "Quadrant": "collectrules.model.decision",
    "RegulatoryClass": "collectrules.model.decision",
    "RemedyBlock": "collectrules.model.decision",
    "RemedyGrant": "collectrules.model.decision",
    "TreatmentResult": "collectrules.model.decision",
    "Remedy": "collectrules.model.remedies",
    "days_past_due": "collectrules.model.time",
    "Policy": "collectrules.policy",
    "available_policies": "collectrules.policy",
    "load_policy": "collectrules.policy",
    "Derived": "collectrules.policy.derive",
    "SECTIONS": "collectrules.sections",
    "TIMELINE_SCHEMA_VERSION": "collectrules.timeline",
    "Step": "collectrules.timeline",
    "StepStatus": "collectrules.timeline",
    "Timeline": "collectrules.timeline",
    "build_timeline": "collectrules.timeline",
    "Deadline": "collectrules.timeline.deadlines",
    "DeadlineKind": "collectrules.timeline.deadlines",
    "DeadlineStatus": "collectrules.timeline.deadlines",
    "Promise": "collectrules.timeline.promises",
    "PromiseStatus": "collectrules.timeline.promises",
    "Stage": "collectrules.timeline.stages",
    "StagePlan": "collectrules.timeline.stages",
}

# The library's logger (docs/logging.md): silent until the application configures logging.
_logging.getLogger("collectrules").addHandler(_logging.NullHandler())


def __getattr__(name: str) -> _typing.Any:
    """Import a public name's module on first use, and keep the name (PEP 562)."""
    if name == "__version__":
        # The installed version, read from the package metadata (one source:
        # pyproject.toml); importlib.metadata is slow to import, so only when asked.
        from importlib import metadata

        value: _typing.Any = metadata.version("collectrules")
    elif name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'collectrules' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"__version__"})


__all__ = [
    "SCHEMA_VERSION",
    "SECTIONS",
    "TIMELINE_SCHEMA_VERSION",
    "AssetPlan",
    "BatchResult",
    "BucketHistory",
    "BucketObservation",
    "BucketResult",
    "BucketSpan",
    "BusinessCalendar",
    "Case",
    "CaseSession",
    "Change",
    "CollectRulesError",
    "ConditionError",
    "Contact",
    "ContactChannel",
    "ContactHours",
    "ContactOutcome",
    "ContactWindow",
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "Decision",
    "Derived",
    "Emergency",
    "EmergencyKind",
    "Engine",
    "EngineError",
    "EngineLimitError",
    "EngineUnavailableError",
    "Event",
    "EventKind",
    "F",
    "FieldProblem",
    "Finding",
    "FindingKind",
    "Firing",
    "Guarantor",
    "Guardrails",
    "InputError",
    "LevelResult",
    "OutOfMemoryError",
    "OutputError",
    "Party",
    "Policy",
    "PolicyError",
    "PolicyRef",
    "Product",
    "Promise",
    "PromiseStatus",
    "Purpose",
    "Quadrant",
    "Reason",
    "ReasonEffect",
    "RegulatoryClass",
    "Remedy",
    "RemedyBlock",
    "RemedyGrant",
    "RuleActionError",
    "Signal",
    "Stage",
    "StagePlan",
    "Step",
    "StepStatus",
    "Timeline",
    "TreatmentResult",
    "UnwritableError",
    "Urgency",
    "Verdict",
    "VerificationReport",
    "available_policies",
    "bucket_history",
    "build_timeline",
    "days_past_due",
    "load_policy",
    "parse",
    "verify",
]
