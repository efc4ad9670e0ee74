"""The decision and its trace, with a stable, versioned JSON schema.

``Decision.to_json()`` gives the same bytes for the same case, ``as_of`` and policy:
keys are sorted, lists keep their meaningful order (the trace in firing order, remedies
in the order of the :class:`~collectrules.model.remedies.Remedy` enum), and nothing depends on
the clock, the process or the machine.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

import attrs
import pendulum

from collectrules.model.remedies import Remedy

__all__ = [
    "SCHEMA_VERSION",
    "BucketResult",
    "Decision",
    "Firing",
    "LevelResult",
    "PolicyRef",
    "Quadrant",
    "RegulatoryClass",
    "RemedyBlock",
    "RemedyGrant",
]

#: The version of the decision's JSON schema (docs/decision-schema.md).
SCHEMA_VERSION = "1"


class Quadrant(enum.StrEnum):
    """The four types of overdue customer (DOMAIN.md §1)."""

    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"
    Q4 = "Q4"

    @property
    def label_en(self) -> str:
        """English label."""
        return _QUADRANT_LABELS[self][0]

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return _QUADRANT_LABELS[self][1]

    @property
    def willing(self) -> bool:
        """Whether the debtor is willing to pay in this quadrant."""
        return self in (Quadrant.Q1, Quadrant.Q2)

    @property
    def able(self) -> bool:
        """Whether the debtor is able to pay in this quadrant."""
        return self in (Quadrant.Q1, Quadrant.Q3)


_QUADRANT_LABELS = {
    Quadrant.Q1: ("willing and able", "第一类：有还款意愿，有还款能力"),
    Quadrant.Q2: ("willing and unable", "第二类：有还款意愿，还款能力不足"),
    Quadrant.Q3: ("unwilling and able", "第三类：还款意愿差，有还款能力"),
    Quadrant.Q4: ("unwilling, ability weakened or lost", "第四类：无还款意愿，还款能力减弱或丧失"),
}


@attrs.frozen
class PolicyRef:
    """Which policy decided: its id, version and content hash."""

    id: str
    version: str
    content_hash: str


@attrs.frozen
class Firing:
    """One rule that fired, in firing order, with what it concluded and why."""

    rule_id: str
    layer: str
    outcome: str
    reason: str
    cites: tuple[str, ...]
    origin: str = ""


@attrs.frozen
class LevelResult:
    """The value one layer gave (willingness, ability …), with what produced it.

    ``presumed`` is true when the value is a presumption drawn from silence (a rule
    marked ``presumed``), not read from evidence; the labels then say so. ``in_force``
    names each negative sign that the level read and that is in force, uncured, with the
    instant since which it is (ISO 8601): see docs/evidence.md.
    """

    layer: str
    value: str
    rules: tuple[str, ...]
    signals: tuple[str, ...]
    score: float | None = None
    defaulted: bool = False
    label_en: str = ""
    label_zh: str = ""
    presumed: bool = False
    in_force: Mapping[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class RemedyGrant:
    """A remedy the lender may use (or, when ``required``, must use)."""

    remedy: Remedy
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    required: bool = False


@attrs.frozen
class RemedyBlock:
    """A remedy the lender may not use, with the reason.

    ``rule_id`` and ``reason`` are those of the first rule (in file order) that blocks
    it; ``rules`` lists every rule that blocks it, and ``cites`` every citation of those
    rules, in the same order, each once.
    """

    remedy: Remedy
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    rules: tuple[str, ...] = ()


@attrs.frozen
class RegulatoryClass:
    """The class a regulatory pack gives the case, and when the next, worse one begins."""

    pack: str
    value: str
    label_en: str
    label_zh: str
    rule_id: str
    cites: tuple[str, ...]
    next_value: str | None = None
    next_on: str | None = None
    notes: tuple[str, ...] = ()
    reason: str = ""
    fact: str = ""


@attrs.frozen
class BucketResult:
    """The delinquency bucket of a case in one bucket set, with its treatments."""

    bucket_set: str
    bucket: str
    label: str
    treatments: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()


def _iso(value: pendulum.DateTime) -> str:
    return value.isoformat()


@attrs.frozen
class Decision:
    """What the policy decided for one case at ``as_of``, and why.

    ``levels`` maps each layer output (``willingness``, ``ability``, ``quadrant`` …)
    to its result; ``trace`` lists every rule that fired, in firing order.
    """

    case_id: str
    as_of: pendulum.DateTime
    policy: PolicyRef
    quadrant: Quadrant
    levels: Mapping[str, LevelResult]
    allowed: tuple[RemedyGrant, ...]
    blocked: tuple[RemedyBlock, ...]
    trace: tuple[Firing, ...]
    facts: Mapping[str, Any]
    regulatory: tuple[RegulatoryClass, ...] = ()
    buckets: tuple[BucketResult, ...] = ()
    engine: str = "durable"

    @property
    def willingness(self) -> LevelResult:
        """The willingness level."""
        return self.levels["willingness"]

    @property
    def ability(self) -> LevelResult:
        """The ability level."""
        return self.levels["ability"]

    @property
    def allowed_remedies(self) -> frozenset[Remedy]:
        """The remedies allowed, as a set."""
        return frozenset(g.remedy for g in self.allowed)

    @property
    def blocked_remedies(self) -> frozenset[Remedy]:
        """The remedies blocked, as a set."""
        return frozenset(b.remedy for b in self.blocked)

    def grant(self, remedy: Remedy | str) -> RemedyGrant | None:
        """The grant of ``remedy``, if it is allowed."""
        for g in self.allowed:
            if g.remedy == remedy:
                return g
        return None

    def block(self, remedy: Remedy | str) -> RemedyBlock | None:
        """The block of ``remedy``, if it is blocked."""
        for b in self.blocked:
            if b.remedy == remedy:
                return b
        return None

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain data, in the documented schema (docs/decision-schema.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "case_id": self.case_id,
            "as_of": _iso(self.as_of),
            "policy": attrs.asdict(self.policy),
            "quadrant": {
                "value": self.quadrant.value,
                "label_en": self.quadrant.label_en,
                "label_zh": self.quadrant.label_zh,
            },
            "levels": {name: attrs.asdict(level) for name, level in sorted(self.levels.items())},
            "allowed": [
                {
                    **attrs.asdict(g),
                    "remedy": g.remedy.value,
                    "label_en": g.remedy.label_en,
                    "label_zh": g.remedy.label_zh,
                }
                for g in self.allowed
            ],
            "blocked": [
                {
                    **attrs.asdict(b),
                    "remedy": b.remedy.value,
                    "label_en": b.remedy.label_en,
                    "label_zh": b.remedy.label_zh,
                }
                for b in self.blocked
            ],
            "trace": [attrs.asdict(f) for f in self.trace],
            "facts": dict(sorted(self.facts.items())),
            "regulatory": [attrs.asdict(r) for r in self.regulatory],
            "buckets": [attrs.asdict(b) for b in self.buckets],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The decision as JSON: identical inputs give identical bytes."""
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            ensure_ascii=False,
            indent=indent,
            separators=(",", ":") if indent is None else (",", ": "),
        )
