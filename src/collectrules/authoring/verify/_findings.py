"""What the verifier reports: findings, their kinds and severities, counterexamples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from collectrules._choice import Choice
from collectrules.errors import FieldProblem, InputError, quote

#: The instant at which counterexample cases are decided, unless ``verify`` is given one.
REFERENCE_AS_OF = "2026-01-15T12:00:00+00:00"


#: The search gives up on a layer (with an ``unverified`` warning) past this many steps.
MAX_STEPS = 2_000_000

#: The search gives up (with an ``unverified`` warning) past this many ways through the
#: layers, over the whole verification: each outcome a step of a layer's search finds,
#: and each situation that reaches a layer, once for each of its ways through it. Neither
#: is a step (:data:`MAX_STEPS`: a layer's outcomes are searched once and kept), and
#: both grow with the product of a policy's rules (a ``collect_sum`` layer of rules
#: scored 1, 2, 4 … has a running score for every subset of its rules).
MAX_WAYS = 2_000_000

#: The search gives up (with an ``unverified`` warning) when more than this many
#: distinct situations reach one layer: each is held until the layer is searched.
MAX_SITUATIONS = 200_000

#: How many partial results a layer's search may hold at once (each reachable summary of
#: each memoised step, and the rules still pending there), and how many ways through the
#: layers the verification may keep for the situations that reach them: the memory the
#: search takes grows with these, not with its steps (two layers of eight rules over
#: eight measured signals kept 131,076 ways and took 690 MiB; the shipped policies keep
#: at most 4,477). Past it the search stops with an ``unverified`` warning.
MAX_HELD = 100_000


class FindingKind(Choice):
    """What a finding is about."""

    GAP = "gap"
    OVERLAP = "overlap"
    UNREACHABLE = "unreachable"
    CONFLICT = "conflict"
    CITATION = "citation"
    DEAD_PARAMETER = "dead_parameter"
    DEAD_SIGNAL = "dead_signal"
    UNUSED_CONDITION = "unused_condition"
    MONOTONICITY = "monotonicity"
    ORDERING = "ordering"
    ENVELOPE = "envelope"
    COHERENCE = "coherence"
    UNVERIFIED = "unverified"


class Severity(Choice):
    """``error`` makes ``collectrules check`` fail; ``warning`` is reported only."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Counterexample:
    """A case that shows a finding, with the instant to decide it at.

    ``case`` is JSON-ready (``Case.from_dict`` reads it); ``expect`` says what deciding
    it shows. For a monotonicity finding, ``before`` is the case before the change and
    ``case`` the case after it.
    """

    case: Mapping[str, Any]
    as_of: str
    expect: Mapping[str, Any]
    before: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The counterexample as plain JSON-ready data."""
        out: dict[str, Any] = {
            "case": dict(self.case),
            "as_of": self.as_of,
            "expect": dict(self.expect),
        }
        if self.before is not None:
            out["before"] = dict(self.before)
        return out


def _counterexample(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Counterexample):
        msg = f"expected a Counterexample or None, got {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)])


@attrs.frozen
class Finding:
    """One problem the verifier found; a ``counterexample`` that is no
    :class:`Counterexample` is an :class:`~collectrules.errors.InputError`."""

    kind: FindingKind
    severity: Severity
    message: str
    rule_ids: tuple[str, ...] = ()
    counterexample: Counterexample | None = attrs.field(default=None, validator=_counterexample)
    layer: str | None = None

    def __str__(self) -> str:
        return f"{self.severity}: [{self.kind}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain JSON-ready data."""
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "message": self.message,
            "rule_ids": list(self.rule_ids),
            "layer": self.layer,
            "counterexample": None
            if self.counterexample is None
            else self.counterexample.to_dict(),
        }


@attrs.frozen
class VerificationReport:
    """Every finding about one policy, errors first."""

    policy: str
    findings: tuple[Finding, ...]
    stats: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity ``error``."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity ``warning``."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Whether the policy has no error."""
        return not self.errors

    def of_kind(self, kind: FindingKind | str) -> tuple[Finding, ...]:
        """The findings of one kind."""
        return tuple(f for f in self.findings if f.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {
            "policy": self.policy,
            "ok": self.ok,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": dict(self.stats),
        }
