"""Policy authoring: the verifier, and what a policy change changes (diff and impact)."""

from __future__ import annotations

from collectrules.authoring.changes import (
    CaseChange,
    ImpactReport,
    PolicyDiff,
    diff_policies,
    impact,
)
from collectrules.authoring.verify import (
    Counterexample,
    Finding,
    FindingKind,
    Severity,
    VerificationReport,
    verify,
)

__all__ = [
    "CaseChange",
    "Counterexample",
    "Finding",
    "FindingKind",
    "ImpactReport",
    "PolicyDiff",
    "Severity",
    "VerificationReport",
    "diff_policies",
    "impact",
    "verify",
]
