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

import logging as _logging
from importlib import metadata as _metadata

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
    PolicyError,
    RuleActionError,
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

# The library's logger (docs/logging.md): silent until the application configures logging.
_logging.getLogger("collectrules").addHandler(_logging.NullHandler())

#: The installed version, read from the package metadata (one source: pyproject.toml).
__version__ = _metadata.version("collectrules")

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
