"""The fact and result model: cases, signals, events, remedies, decisions, time helpers.

Everything here is a frozen attrs class or an enum, validated on construction, against
the limits of :mod:`collectrules.model.limits`. The model imports nothing of the rest of
the package but its errors.
"""

from __future__ import annotations

from collectrules.model.case import (
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Guarantor,
    Product,
    ProductSpec,
    Signal,
    parse_as_of,
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
from collectrules.model.remedies import COERCIVE_REMEDIES, Remedy, RemedyCategory, RemedySpec
from collectrules.model.time import days_past_due, local_midnight, require_aware, require_case

__all__ = [
    "COERCIVE_REMEDIES",
    "SCHEMA_VERSION",
    "BucketResult",
    "Case",
    "ContactOutcome",
    "Decision",
    "Event",
    "EventKind",
    "Firing",
    "Guarantor",
    "LevelResult",
    "PolicyRef",
    "Product",
    "ProductSpec",
    "Quadrant",
    "RegulatoryClass",
    "Remedy",
    "RemedyBlock",
    "RemedyCategory",
    "RemedyGrant",
    "RemedySpec",
    "Signal",
    "TreatmentResult",
    "days_past_due",
    "local_midnight",
    "parse_as_of",
    "require_aware",
    "require_case",
]
