"""The policy verifier: gaps, overlaps, shadowed rules, conflicts, citations, invariants.

:func:`verify` checks a loaded policy without running any case through the engine
first. It works on the condition IR, and it is exact over interval and enum
constraints:

1. **Cells.** Every field is partitioned at every threshold that any condition of the
   policy mentions (parameters resolved, money scaled to the facts' integer units).
   Two values of a field that every condition treats alike fall in one cell, and one
   representative value stands for the cell. A measured signal also has an *absent*
   cell, and a count only takes the values its thresholds tell apart (0, 1, …).
2. **Layers, in order.** The fact space is explored one layer at a time. A layer's
   rules read some base fields and some upstream outputs; only those fields are
   enumerated, and fields that no later layer reads are summarised away, so the
   reachable *situations* handed to the next layer stay few (six for the default
   policy after its ability layer). Inside a layer the search splits on one field at
   a time, simplifies every condition as it goes, and folds the rules already decided
   into a small summary of the hit policy (the first match, the best priority, the
   running score), memoising on that summary and on what is left to decide. Rules on
   unrelated fields therefore never multiply.
3. **Checks.** On every reachable cell of every layer: a single-result layer with no
   match and no default (*gap*), two matches in a ``unique`` layer (*overlap*), a rule
   that never gives the layer's value under ``first`` or ``priority`` (*unreachable*),
   a remedy both allowed and blocked when ``remedies.conflict = "unspecified"``
   (*conflict*), litigation allowed for Q1 (*ordering*), and monotonic severity: adding
   one negative signal of any counted kind, or changing a measured ability value so
   that the ``ability`` layer worsens, must never soften the quadrant nor take away an
   allowed coercive remedy (*monotonicity*). Citations are checked against the clause
   registry, and parameters and signal kinds that no rule reads are reported.

Every finding that a case can show comes with a counterexample: a real case, built from
the cell, and the ``as_of`` to decide it at. The verifier decides it with the engine
before reporting it; :func:`reproduces` does the same for any engine, which is how the
test suite checks both back ends.

Fields that the verifier cannot set from a case it builds (fields added by an optional
section, for instance) are still enumerated; a finding that depends on them is kept only
if the case built without them reproduces it, and is otherwise reported as an
``unverified`` warning.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import itertools
import math
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from collectrules.conditions import (
    MONEY_SCALE,
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Not,
    Op,
    Truth,
    compare,
)
from collectrules.conditions.python import compile_condition
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, EngineError, InputError, PolicyError
from collectrules.model.case import Case, Product
from collectrules.model.decision import Decision, Quadrant
from collectrules.model.remedies import COERCIVE_REMEDIES, Remedy
from collectrules.model.time import require_aware
from collectrules.policy import ConflictRule, HitPolicy, Layer, Policy, RemedyEffect, load_policy
from collectrules.policy import clauses as _clauses
from collectrules.policy.derive import derive
from collectrules.policy.loader import _parse_text, _read_text

__all__ = [
    "REFERENCE_AS_OF",
    "Counterexample",
    "Finding",
    "FindingKind",
    "Severity",
    "VerificationReport",
    "reproduces",
    "verify",
]

#: The instant at which counterexample cases are decided, unless ``verify`` is given one.
REFERENCE_AS_OF = "2026-01-15T12:00:00+00:00"

#: The search gives up on a layer (with an ``unverified`` warning) past this many steps.
MAX_STEPS = 2_000_000


class FindingKind(enum.StrEnum):
    """What a finding is about."""

    GAP = "gap"
    OVERLAP = "overlap"
    UNREACHABLE = "unreachable"
    CONFLICT = "conflict"
    CITATION = "citation"
    DEAD_PARAMETER = "dead_parameter"
    DEAD_SIGNAL = "dead_signal"
    MONOTONICITY = "monotonicity"
    ORDERING = "ordering"
    UNVERIFIED = "unverified"


class Severity(enum.StrEnum):
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


@attrs.frozen
class Finding:
    """One problem the verifier found."""

    kind: FindingKind
    severity: Severity
    message: str
    rule_ids: tuple[str, ...] = ()
    counterexample: Counterexample | None = None
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


# --------------------------------------------------------------------------- values


class _Absent:
    """The value of an optional field that a case does not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
_DEAD: Any = object()


def _leaf_holds(leaf: Condition, value: Any) -> bool:
    """A leaf on one value, with the condition language's semantics of absence."""
    if isinstance(leaf, Truth):
        return value is True
    if value is ABSENT:
        return False
    if isinstance(leaf, Compare):
        return compare(leaf.op, value, leaf.value)
    if isinstance(leaf, Between):
        return bool(leaf.low <= value <= leaf.high)
    if isinstance(leaf, In):
        return value in leaf.values
    msg = f"not a leaf: {leaf!r}"
    raise TypeError(msg)


_LEAVES = (Compare, Between, In, Truth)


def _subst(cond: Condition, env: Mapping[str, Any]) -> bool | Condition:
    """Partially evaluate ``cond``: leaves on fields of ``env`` become True or False."""
    if isinstance(cond, _LEAVES):
        if cond.field in env:
            return _leaf_holds(cond, env[cond.field])
        return cond
    if isinstance(cond, All | AnyOf):
        conj = isinstance(cond, All)
        parts: list[Condition] = []
        changed = False
        for part in cond.parts:
            r = _subst(part, env)
            if r is True or r is False:
                if r is not conj:
                    return not conj
                changed = True
                continue
            assert isinstance(r, Condition)
            changed = changed or r is not part
            parts.append(r)
        if not parts:
            return conj
        if not changed:
            return cond
        if len(parts) == 1:
            return parts[0]
        return All(tuple(parts)) if conj else AnyOf(tuple(parts))
    if isinstance(cond, Not):
        r = _subst(cond.part, env)
        if r is True or r is False:
            return not r
        assert isinstance(r, Condition)
        return cond if r is cond.part else Not(r)
    if isinstance(cond, Always):
        return True
    msg = f"not a condition: {cond!r}"
    raise TypeError(msg)


def _rename(cond: Condition, mapping: Mapping[str, str]) -> Condition:
    if not mapping:
        return cond
    if isinstance(cond, Compare):
        return Compare(mapping.get(cond.field, cond.field), cond.op, cond.value)
    if isinstance(cond, Between):
        return Between(mapping.get(cond.field, cond.field), cond.low, cond.high)
    if isinstance(cond, In):
        return In(mapping.get(cond.field, cond.field), cond.values)
    if isinstance(cond, Truth):
        return Truth(mapping.get(cond.field, cond.field))
    if isinstance(cond, All):
        return All(tuple(_rename(p, mapping) for p in cond.parts))
    if isinstance(cond, AnyOf):
        return AnyOf(tuple(_rename(p, mapping) for p in cond.parts))
    if isinstance(cond, Not):
        return Not(_rename(cond.part, mapping))
    return cond


def _leaves(cond: Condition) -> Iterator[Condition]:
    for node in cond.walk():
        if isinstance(node, _LEAVES):
            yield node


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _dec(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# --------------------------------------------------------------------------- folds
# A fold summarises the rules decided so far. ``add`` folds one decided rule in (or
# returns _DEAD to cut the branch); ``relevant`` says whether a pending rule can still
# change the summary. Every fold here is commutative, so the search may decide rules
# in any order.


class _Fold(abc.ABC):
    @abc.abstractmethod
    def start(self) -> Hashable:
        """The summary before any rule is decided."""

    @abc.abstractmethod
    def add(self, s: Any, i: int, hit: bool) -> Any:
        """Fold rule ``i`` (matched or not) into summary ``s``."""

    def relevant(self, s: Any, i: int) -> bool:
        return True


class _FirstFold(_Fold):
    """``first``: the lowest matching index wins."""

    def start(self) -> Hashable:
        return None

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if hit and (s is None or i < s):
            return i
        return s

    def relevant(self, s: Any, i: int) -> bool:
        return s is None or i < s


class _PriorityFold(_Fold):
    """``priority``: the highest priority wins; ties go to the earlier rule."""

    def __init__(self, priorities: Sequence[int]) -> None:
        self.keys = [(p, -i) for i, p in enumerate(priorities)]

    def start(self) -> Hashable:
        return None

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if hit and (s is None or self.keys[i] > self.keys[s]):
            return i
        return s

    def relevant(self, s: Any, i: int) -> bool:
        return s is None or self.keys[i] > self.keys[s]


class _UniqueFold(_Fold):
    """``unique``: the matching indices, up to two (two is already an overlap)."""

    def start(self) -> Hashable:
        return ()

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return tuple(sorted((*s, i)))[:2] if hit else s

    def relevant(self, s: Any, i: int) -> bool:
        return len(s) < 2


class _SumFold(_Fold):
    """``collect_sum``: the exact sum of the matching rules' scores.

    Scores are scaled to integers by the common denominator of their exact binary
    values, so that sums are exact and cheap to hash.
    """

    def __init__(self, scores: Sequence[float]) -> None:
        exact = [Fraction(s) for s in scores]
        self.scale = math.lcm(1, *(f.denominator for f in exact))
        self.scores = [int(f * self.scale) for f in exact]

    def start(self) -> Hashable:
        return 0

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return s + self.scores[i] if hit else s

    def value(self, s: int) -> Fraction:
        """The sum as a number."""
        return Fraction(s, self.scale)


class _SatFold(_Fold):
    """Every condition must come out as wanted."""

    def __init__(self, wants: Sequence[bool]) -> None:
        self.wants = list(wants)

    def start(self) -> Hashable:
        return True

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return s if hit == self.wants[i] else _DEAD


class _RemedyFold(_Fold):
    """Remedies granted and blocked, restricted to the remedies of interest."""

    def __init__(self, rules: Sequence[tuple[bool, frozenset[Remedy]]]) -> None:
        self.rules = list(rules)

    def start(self) -> Hashable:
        return (frozenset(), frozenset())

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if not hit:
            return s
        grants, remedies = self.rules[i]
        granted, blocked = s
        if grants:
            return (granted | remedies, blocked)
        return (granted, blocked | remedies)


class _Parts(_Fold):
    """Several folds side by side, each over its own block of indices."""

    def __init__(self, folds: Sequence[tuple[_Fold, int]]) -> None:
        self.folds = [f for f, _ in folds]
        self.where: list[tuple[int, int]] = []
        for part, (_, size) in enumerate(folds):
            self.where += [(part, local) for local in range(size)]

    def start(self) -> Hashable:
        return tuple(f.start() for f in self.folds)

    def add(self, s: Any, i: int, hit: bool) -> Any:
        part, local = self.where[i]
        new = self.folds[part].add(s[part], local, hit)
        if new is _DEAD:
            return _DEAD
        if new is s[part]:
            return s
        return (*s[:part], new, *s[part + 1 :])

    def relevant(self, s: Any, i: int) -> bool:
        part, local = self.where[i]
        return self.folds[part].relevant(s[part], local)


class _Budget(CollectRulesError):
    """The search of one layer went past MAX_STEPS."""


# --------------------------------------------------------------------------- variables


@attrs.frozen
class _Var:
    """A unit of search: one or more linked fields, and their feasible joint values."""

    fields: tuple[str, ...]
    domain: tuple[Mapping[str, Any], ...]


@attrs.frozen
class _Varied:
    """The signal kind that a monotonicity run changes between its two worlds."""

    kind: str
    fields: tuple[str, ...]
    domain: tuple[Mapping[str, Any], ...]
    ability_worse: bool


@attrs.frozen
class _Situation:
    """A reachable combination of live fields and layer outputs, with a witness."""

    env: Mapping[str, Any]
    witness: Mapping[str, Any]


# Base fields the verifier can set on a case it builds, and how.
_INT_FIELDS = {"dpd", "guarantors"}
_MONEY_FIELDS = {"principal", "overdue_amount"}
_CURRENCY_FILLERS = ("CNY", "USD", "EUR", "GBP", "JPY", "HKD")
_W1 = "@1"


class _Context:
    """A policy compiled for verification: resolved conditions, fields and their cells."""

    def __init__(self, policy: Policy, as_of: str) -> None:
        self.policy = policy
        self.as_of = as_of
        self.as_of_dt = require_aware(as_of)
        self.schema: dict[str, FieldSpec] = policy.schema()
        params = policy.parameter_values
        self.layers: list[Layer] = list(policy.layers)
        self.outputs = [layer.output for layer in self.layers]
        self.layer_conds: list[list[Condition]] = [
            [compile_condition(r.when, params, self.schema) for r in layer.rules]
            for layer in self.layers
        ]
        self.remedy_conds: list[Condition] = [
            compile_condition(r.when, params, self.schema) for r in policy.remedy_rules
        ]
        lookback = policy.parameters.get("lookback_days")
        self.window_open = lookback is None or _as_int(lookback.value) > 0
        self.signals = dict(policy.signals)
        self.kinds: dict[str, str] = {}  # field -> role
        for name in self.schema:
            self.kinds[name] = self._role(name)
        self.leaves: dict[str, list[Condition]] = {}
        for cond in itertools.chain(*self.layer_conds, self.remedy_conds):
            for leaf in _leaves(cond):
                self.leaves.setdefault(leaf.field, []).append(leaf)  # type: ignore[attr-defined]
        self.field_order: dict[str, int] = {}
        for cond in itertools.chain(*self.layer_conds, self.remedy_conds):
            for leaf in _leaves(cond):
                self.field_order.setdefault(leaf.field, len(self.field_order))  # type: ignore[attr-defined]
        self.links: dict[str, str] = {}
        for kind, spec in self.signals.items():
            if spec.measured:
                self.links[kind] = f"has_{kind}"
                self.links[f"has_{kind}"] = kind
        self.links["dpd"] = "overdue_amount"
        self.links["overdue_amount"] = "dpd"
        self.links["days_to_maturity"] = "has_maturity_date"
        self.links["has_maturity_date"] = "days_to_maturity"
        self._cells: dict[str, tuple[Any, ...]] = {}
        self.steps = 0
        self.varied: _Varied | None = None
        # Fields that an optional section computes from the case (a pack's class, a
        # bucket, time_barred) are set by probing: the verifier builds the case from
        # dpd, the product and the other case fields the policy reads, and derives them.
        # They move together as one group.
        # A field that no probe changes (a count of contact attempts, which only events
        # give) stays a free value instead.
        self.probed: tuple[str, ...] = tuple(
            sorted(
                f
                for f in self.leaves
                if self.kinds.get(f) == "unsupported" and f in policy.extra_fields
            )
        )
        self.probe_base: tuple[str, ...] = ()
        self._probes: dict[tuple[tuple[str, Any], ...], dict[str, Any] | None] = {}
        self._breaks: list[int] | None = None
        self._seen: dict[str, set[Any]] = {f: set() for f in self.probed}
        if self.probed:
            self.probe_base = ("dpd", "product", *(f for f in _PROBE_FIELDS if f in self.leaves))
            self.breaks()
            self.probed = tuple(f for f in self.probed if len(self._seen[f]) > 1)
            if not self.probed:
                self.probe_base = ()
            for name in self.probed:
                self.kinds[name] = "probed"
        self.group = frozenset(self.probe_base) | frozenset(self.probed)
        # stage i (layers, then the remedies) -> base fields that stages after i read
        stage_reads = [self._base_reads(conds) for conds in self.layer_conds]
        stage_reads.append(self._base_reads(self.remedy_conds))
        self.live_after: list[frozenset[str]] = []
        for i in range(len(stage_reads)):
            later: set[str] = set()
            for reads in stage_reads[i + 1 :]:
                later |= reads
            closed = set(later)
            if closed & self.group:
                closed |= self.group
            for name in list(closed):
                if name in self.links:
                    closed.add(self.links[name])
            self.live_after.append(frozenset(closed))

    # -- fields

    def _role(self, name: str) -> str:
        if name in self.outputs:
            return "output"
        if name in self.signals:
            return "measured" if self.signals[name].measured else "count"
        if name.startswith("has_") and name[4:] in self.signals and self.signals[name[4:]].measured:
            return "has"
        if name in _INT_FIELDS:
            return "int"
        if name in _MONEY_FIELDS:
            return "money"
        if name == "product":
            return "product"
        if name == "currency":
            return "currency"
        if name in ("has_maturity_date", "debtor_contacted"):
            return "bool"
        if name == "days_to_maturity":
            return "maturity"
        return "unsupported"

    def _base_reads(self, conds: Iterable[Condition]) -> frozenset[str]:
        out: set[str] = set()
        for cond in conds:
            out |= {f for f in cond.fields() if self.kinds.get(f) != "output"}
        return frozenset(out)

    def unsupported(self, names: Iterable[str]) -> list[str]:
        """The fields among ``names`` that a built case cannot set."""
        return sorted({_base(n) for n in names if self.kinds.get(_base(n)) == "unsupported"})

    def cells(self, name: str) -> tuple[Any, ...]:
        """One representative value per cell of ``name``, simplest first."""
        if name not in self._cells:
            self._cells[name] = self._dedupe(name, self._candidates(name))
        return self._cells[name]

    def _dedupe(self, name: str, candidates: Iterable[Any]) -> tuple[Any, ...]:
        # Besides the conditions, the links between fields tell values apart: absence
        # (has_<kind>, has_maturity_date) and a zero amount or dpd (dpd > 0 needs an
        # amount overdue).
        leaves = [*self.leaves.get(name, []), *_LINK_LEAVES.get(name, ())]
        seen: set[tuple[Any, ...]] = set()
        out: list[Any] = []
        for value in candidates:
            sig: tuple[Any, ...] = (value is ABSENT, *(_leaf_holds(leaf, value) for leaf in leaves))
            if name in self.probe_base:
                sig += self.profile(name, value)
            if sig not in seen:
                seen.add(sig)
                out.append(value)
        return tuple(out)

    def _constants(self, name: str) -> list[Any]:
        out: list[Any] = []
        for leaf in self.leaves.get(name, []):
            if isinstance(leaf, Compare):
                out.append(leaf.value)
            elif isinstance(leaf, Between):
                out += [leaf.low, leaf.high]
            elif isinstance(leaf, In):
                out += list(leaf.values)
        return out

    def _numbers(self, name: str) -> list[int | float]:
        return [
            c
            for c in self._constants(name)
            if isinstance(c, int | float) and not isinstance(c, bool)
        ]

    def _candidates(self, name: str) -> list[Any]:
        role = self.kinds.get(name, "unsupported")
        spec = self.schema.get(name)
        if role == "count" and not self.window_open:
            return [0]
        if role in ("has",) and not self.window_open:
            return [False]
        if role == "measured" and not self.window_open:
            return [ABSENT]
        if name == "dpd" and self.probed:
            points = set(_integer_points(self._numbers(name), minimum=0))
            for b in self.breaks():
                points |= {b - 1, b}
            return sorted(points)
        if role in ("count", "int", "money"):
            return _integer_points(self._numbers(name), minimum=0)
        if role == "maturity":
            return [ABSENT, *_integer_points(self._numbers(name), minimum=None)]
        if role == "measured":
            return [ABSENT, *_real_points(self._numbers(name))]
        if role in ("has", "bool"):
            return [False, True]
        if role == "product":
            return [p.value for p in Product]
        if role == "currency":
            consts = sorted(
                {
                    c
                    for c in self._constants(name)
                    if isinstance(c, str) and re.match(r"^[A-Z]{3}$", c)
                }
            )
            filler = next(c for c in _CURRENCY_FILLERS if c not in consts)
            return [filler, *consts]
        # unsupported: a free variable over its own thresholds
        if spec is not None and spec.type is FieldType.ENUM and spec.choices:
            values: list[Any] = list(spec.choices)
        elif spec is not None and spec.type is FieldType.BOOL:
            values = [False, True]
        elif spec is not None and spec.numeric:
            values = _real_points(self._numbers(name))
        else:
            consts = sorted({c for c in self._constants(name) if isinstance(c, str)})
            values = [*consts, "\x00other"]
        if spec is None or spec.optional:
            values = [ABSENT, *values]
        return values

    # -- feasibility of linked fields

    def feasible(self, env: Mapping[str, Any], changed: Iterable[str]) -> bool:
        for name in changed:
            base, world = _split(name)
            partner = self.links.get(base)
            if partner is None:
                continue
            other = partner + world
            if other not in env:
                continue
            a, b = env[name], env[other]
            if base == "dpd" and not _dpd_ok(a, b):
                return False
            if base == "overdue_amount" and not _dpd_ok(b, a):
                return False
            is_flag = base == "has_maturity_date" or self.kinds.get(base) == "has"
            if is_flag and a is not (b is not ABSENT):
                return False
            is_value = base == "days_to_maturity" or self.kinds.get(base) == "measured"
            if is_value and b is not (a is not ABSENT):
                return False
        return True

    def variables(self, needed: Iterable[str], fixed: Mapping[str, Any]) -> dict[str, _Var]:
        """The search variables covering ``needed``, linked fields joined."""
        needed = sorted(set(needed) - set(fixed), key=lambda n: (self.order(n), n))
        out: dict[str, _Var] = {}
        varied = self.varied
        if self.probed and any(n in self.probed for n in needed):
            var = self.group_var(fixed)
            if var is not None:
                for f in var.fields:
                    out[f] = var
        for name in needed:
            if name in out:
                continue
            if varied is not None and name in varied.fields:
                domain = tuple(d for d in varied.domain if self.feasible({**fixed, **d}, d))
                var = _Var(varied.fields, domain)
            else:
                group = [name]
                partner = self.links.get(name)
                if partner is not None and partner in needed:
                    group.append(partner)
                combos = itertools.product(*(self.cells(g) for g in group))
                domain = tuple(
                    d
                    for d in (dict(zip(group, c, strict=True)) for c in combos)
                    if self.feasible({**fixed, **d}, d)
                )
                var = _Var(tuple(group), domain)
            for f in var.fields:
                out[f] = var
        return out

    # -- probing the fields a section computes

    def probe(self, assignment: Mapping[str, Any]) -> dict[str, Any] | None:
        """The probed fields of the case built from ``assignment`` (``None``: no case)."""
        key = tuple(sorted(assignment.items()))
        if key in self._probes:
            cached = self._probes[key]
            return None if cached is None else {f: cached[f] for f in self.probed}

        data = build_case(self.policy, self.as_of_dt, assignment, case_id="probe")
        try:
            case = Case.from_dict(data, signal_kinds=tuple(self.policy.signals))
            facts = derive(case, self.as_of_dt, self.policy).facts
        except CollectRulesError:
            found: dict[str, Any] | None = None
        else:
            found = {f: facts.get(f, ABSENT) for f in self.probed}
            for f, v in found.items():
                self._seen.setdefault(f, set()).add(v)
        self._probes[key] = found
        return None if found is None else dict(found)

    def profile(self, name: str, value: Any) -> tuple[Any, ...]:
        """What the probed fields do as ``name`` takes ``value`` (part of a signature)."""
        refs: list[dict[str, Any]]
        if name == "dpd":
            refs = [{"product": p.value} for p in Product]
        else:
            refs = [{"dpd": d} for d in (0, *self.breaks())]
        out: list[Any] = []
        for ref in refs:
            found = self.probe({**ref, name: value})
            out.append(None if found is None else tuple(found.values()))
        return tuple(out)

    def breaks(self) -> list[int]:
        """The dpd values at which some probed field changes, for some product."""
        if self._breaks is not None:
            return self._breaks
        grid: set[int] = set(range(0, 32))
        grid |= {30 * k + d for k in range(1, 41) for d in (-1, 0, 1)}
        grid |= {365 * y + d for y in range(1, 26) for d in (-1, 0, 1, 2)}
        for c in _section_numbers(self.policy):
            if 0 <= c <= 20_000:
                grid |= {c - 1, c, c + 1}
        points = sorted(g for g in grid if g >= 0)
        found: set[int] = set()
        for product in Product:

            def at(d: int, product: Product = product) -> Any:
                return self.probe({"dpd": d, "product": product.value})

            values = [at(d) for d in points]
            for (a, va), (b, vb) in itertools.pairwise(zip(points, values, strict=True)):
                lo, hi, vlo = a, b, va
                while vlo != vb:
                    # the first change after lo, found by bisection
                    x, y = lo, hi
                    while y - x > 1:
                        mid = (x + y) // 2
                        if at(mid) == vlo:
                            x = mid
                        else:
                            y = mid
                    found.add(y)
                    lo, vlo = y, at(y)
        self._breaks = sorted(found)
        return self._breaks

    def group_var(self, fixed: Mapping[str, Any]) -> _Var | None:
        """The joint values of the probe group, consistent with ``fixed``."""
        base = self.probe_base
        cells = [self.cells(f) if f not in fixed else (fixed[f],) for f in base]
        if math.prod(len(c) for c in cells) > MAX_PROBES:
            return None
        domain: list[dict[str, Any]] = []
        for combo in itertools.product(*cells):
            entry = dict(zip(base, combo, strict=True))
            if not self.feasible({**fixed, **entry}, entry):
                continue
            found = self.probe(entry)
            if found is None:
                continue
            if any(f in fixed and fixed[f] != v for f, v in found.items()):
                continue
            domain.append({**entry, **found})
        return _Var(tuple(base) + self.probed, tuple(domain))

    def order(self, name: str) -> int:
        return self.field_order.get(_base(name), len(self.field_order))

    def order_key(self, name: str) -> tuple[int, str]:
        return (self.order(name), name)

    # -- the search

    def explore(
        self, conds: Sequence[tuple[int, Condition]], fold: _Fold, fixed: Mapping[str, Any]
    ) -> dict[Hashable, dict[str, Any]]:
        """Every reachable summary of ``fold`` over ``conds``, each with a witness."""
        s = fold.start()
        pending: list[tuple[int, Condition]] = []
        for i, cond in conds:
            r = _subst(cond, fixed)
            if r is True or r is False:
                s = fold.add(s, i, r)
                if s is _DEAD:
                    return {}
            else:
                assert isinstance(r, Condition)
                pending.append((i, r))
        start = tuple(p for p in pending if fold.relevant(s, p[0]))
        needed: set[str] = set()
        for _, cond in start:
            needed |= cond.fields()
        var_of = self.variables(needed, fixed)
        memo: dict[tuple[Any, tuple[tuple[int, Condition], ...]], dict[Hashable, Any]] = {}
        first_only = isinstance(fold, _SatFold)

        # A witness is built as a chain (assignment, rest) and flattened at the end.
        def rec(s: Any, pending: tuple[tuple[int, Condition], ...]) -> dict[Hashable, Any]:
            if not pending:
                return {s: None}
            key = (s, pending)
            found = memo.get(key)
            if found is not None:
                return found
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise _Budget("search budget exhausted")
            first = min(pending[0][1].fields(), key=self.order_key)
            var = var_of[first]
            out: dict[Hashable, Any] = {}
            for assignment in var.domain:
                s2 = s
                nxt: list[tuple[int, Condition]] = []
                for i, cond in pending:
                    r = _subst(cond, assignment)
                    if r is True or r is False:
                        s2 = fold.add(s2, i, r)
                        if s2 is _DEAD:
                            break
                    else:
                        nxt.append((i, r))
                if s2 is _DEAD:
                    continue
                rest = tuple(p for p in nxt if fold.relevant(s2, p[0]))
                for result, chain in rec(s2, rest).items():
                    if result not in out:
                        out[result] = (assignment, chain)
                if first_only and out:
                    break
            memo[key] = out
            return out

        flat: dict[Hashable, dict[str, Any]] = {}
        for result, chain in rec(s, start).items():
            witness: dict[str, Any] = {}
            while chain is not None:
                witness.update(chain[0])
                chain = chain[1]
            flat[result] = witness
        return flat

    def sat(
        self, wants: Sequence[tuple[Condition, bool]], fixed: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """A witness under which every condition comes out as wanted, or ``None``."""
        found = self.explore(
            list(enumerate(c for c, _ in wants)), _SatFold([w for _, w in wants]), fixed
        )
        return next(iter(found.values()), None)

    def combos(self, names: Iterable[str], fixed: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every feasible joint value of ``names`` (the outer enumeration)."""
        var_of = self.variables(names, fixed)
        variables = list({id(v): v for v in var_of.values()}.values())
        for parts in itertools.product(*(v.domain for v in variables)):
            merged: dict[str, Any] = {}
            for part in parts:
                merged.update(part)
            if self.feasible({**fixed, **merged}, merged):
                yield merged


#: Case fields that join dpd and the product in a probe when the policy reads them.
_PROBE_FIELDS = (
    "overdue_amount",
    "principal",
    "currency",
    "guarantors",
    "days_to_maturity",
    "has_maturity_date",
)
#: At most this many probes make one probe group; past it, the fields stay free.
MAX_PROBES = 5_000

_LINK_LEAVES: Mapping[str, tuple[Condition, ...]] = {
    "dpd": (Compare("dpd", Op.GT, 0),),
    "overdue_amount": (Compare("overdue_amount", Op.GT, 0),),
}


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    return 1


def _dpd_ok(dpd: Any, overdue: Any) -> bool:
    return not (isinstance(dpd, int) and dpd > 0 and overdue == 0)


def _split(name: str) -> tuple[str, str]:
    if name.endswith(_W1):
        return name[: -len(_W1)], _W1
    return name, ""


def _base(name: str) -> str:
    return _split(name)[0]


def _integer_points(constants: Iterable[int | float], *, minimum: int | None) -> list[int]:
    points: set[int] = set()
    for c in constants:
        for x in {math.floor(c), math.ceil(c)}:
            points |= {x - 1, x, x + 1}
    if minimum is not None:
        points.add(minimum)
        points = {p for p in points if p >= minimum}
    if not points:
        points = {0}
    return sorted(points, key=lambda p: (abs(p), p))


def _real_points(constants: Iterable[int | float]) -> list[int | float]:
    values = sorted({_dec(c) for c in constants})
    if not values:
        return [1]
    points: list[Decimal] = []
    below = Decimal(0) if values[0] > 0 else values[0] - 1
    points.append(below)
    for i, v in enumerate(values):
        points.append(v)
        if i + 1 < len(values):
            points.append((v + values[i + 1]) / 2)
    points.append(values[-1] + 1)
    return [_number(p) for p in points]


# --------------------------------------------------------------------------- verifying


class _Verifier:
    def __init__(self, policy: Policy, as_of: str, *, confirm: bool) -> None:
        self.policy = policy
        self.ctx = _Context(policy, as_of)
        self.confirm = confirm
        self.findings: list[Finding] = []
        self.unconfirmed: dict[tuple[str, str], list[str]] = {}
        self.seen: set[tuple[Any, ...]] = set()
        self.counter = 0
        self._engine: Engine | None = None
        self._engine_failed = False
        self.situation_counts: list[int] = []
        self.failed_layers: set[int] = set()
        self.winners: list[set[int]] = []
        self.values: list[set[str]] = []
        self._cache: dict[Hashable, list[tuple[dict[str, Any], dict[str, Any], Any]]] = {}
        self._folds: dict[str, _Fold] = {}
        self._remedy_cache: dict[Hashable, dict[Hashable, dict[str, Any]]] = {}

    # -- engine and cases

    def engine(self) -> Engine | None:
        if self._engine is None and not self._engine_failed:
            try:
                self._engine = Engine(self.policy, backend="python")
            except CollectRulesError:
                self._engine_failed = True
        return self._engine

    def case_dict(self, witness: Mapping[str, Any], world: str = "") -> dict[str, Any]:
        """A JSON-ready case whose flat facts at ``as_of`` are the witness's values."""
        self.counter += 1
        return build_case(
            self.policy, self.ctx.as_of_dt, witness, world, case_id=f"verify-{self.counter}"
        )

    def decide(self, case: Mapping[str, Any]) -> Decision | CollectRulesError | None:
        engine = self.engine()
        if engine is None:
            return None
        return _decide(engine, case, self.ctx.as_of)

    # -- reporting

    def report(
        self,
        kind: FindingKind,
        severity: Severity,
        message: str,
        *,
        rule_ids: Sequence[str] = (),
        layer: str | None = None,
        witness: Mapping[str, Any] | None = None,
        expect: Mapping[str, Any] | None = None,
        paired: bool = False,
        dedupe: Hashable = None,
    ) -> None:
        key = (kind, tuple(rule_ids), layer, message if dedupe is None else dedupe)
        if key in self.seen:
            return
        self.seen.add(key)
        cx: Counterexample | None = None
        if witness is not None and expect is not None:
            if paired:
                before = self.case_dict(witness, "")
                after = self.case_dict(witness, _W1)
                after["case_id"] = before["case_id"] + "-after"
                cx = Counterexample(after, self.ctx.as_of, expect, before)
            else:
                cx = Counterexample(self.case_dict(witness), self.ctx.as_of, expect)
            tainted = self.ctx.unsupported(witness) + sorted(
                f for f in witness if _base(f) in self.ctx.probed
            )
            if self.confirm and self.engine() is not None:
                confirmed = _check(self.policy, cx, self.decide)
                if not confirmed:
                    # Only a field the verifier cannot set should make this happen; if
                    # not, it is a defect of the verifier, reported rather than raised.
                    fields = ", ".join(tainted) if tainted else "(none: a verifier defect)"
                    where = (layer or "remedies", fields)
                    self.unconfirmed.setdefault(where, []).append(f"{kind}: {message}")
                    return
        self.findings.append(Finding(kind, severity, message, tuple(rule_ids), cx, layer))

    # -- static checks

    def check_citations(self) -> None:
        try:
            known = _clauses.registry(self.policy)
        except PolicyError as exc:
            for p in exc.problems:
                self.report(FindingKind.CITATION, Severity.ERROR, f"{p.path}: {p.message}")
            known = _clauses.registry(None)
        for path, cid, rid in _clauses.citations(self.policy.data):
            if cid in known:
                continue
            hint = known.suggest(cid)
            tail = f" (did you mean {hint!r}?)" if hint else ""
            self.report(
                FindingKind.CITATION,
                Severity.ERROR,
                f"{path}: unknown clause {cid!r}{tail}; cite an id of DOMAIN.md or "
                "REGULATION.md, or declare it in the policy's [clauses] table",
                rule_ids=(rid,) if rid else (),
            )

    def check_dead(self) -> None:
        policy = self.policy
        conds = [r.when for layer in policy.layers for r in layer.rules]
        conds += [r.when for r in policy.remedy_rules]
        used_params: set[str] = set()
        read: set[str] = set()
        for cond in conds:
            used_params |= cond.params()
            read |= cond.fields()
        words = _section_words(policy.data)
        consumed = _consumed_parameters(policy)
        own_params = _own_names(policy, "parameters")
        own_signals = _own_names(policy, "signals")
        for name in policy.parameters:
            if name in used_params or name in consumed or name in words:
                continue
            if own_params is not None and name not in own_params:
                continue  # inherited: the base policy's business
            self.report(
                FindingKind.DEAD_PARAMETER,
                Severity.WARNING,
                f"parameters.{name}: no rule uses parameter {name!r}",
            )
        for kind in policy.signals:
            if kind in read or f"has_{kind}" in read or kind in words:
                continue
            if own_signals is not None and kind not in own_signals:
                continue
            self.report(
                FindingKind.DEAD_SIGNAL,
                Severity.WARNING,
                f"signals.{kind}: no rule reads signal kind {kind!r}; cases that "
                "carry it are decided as if it were absent",
            )

    # -- the layered search

    def run(self, worlds: int) -> tuple[list[list[_Situation]], list[_Situation]] | None:
        """Propagate the reachable situations through every layer.

        Returns the situations that reach each layer and those that leave the last one,
        or ``None`` when the search budget ran out.
        """
        ctx = self.ctx
        per_layer: list[list[_Situation]] = []
        situations = [_Situation({}, {})]
        for li, layer in enumerate(ctx.layers):
            per_layer.append(situations)
            conds = ctx.layer_conds[li]
            live = ctx.live_after[li]
            keep_outputs = set(ctx.outputs[: li + 1])
            reads: set[str] = set()
            for cond in conds:
                reads |= cond.fields()
            nxt: dict[Hashable, _Situation] = {}
            try:
                for sit in situations:
                    for env, wit, outcomes in self.layer_outcomes(
                        li, layer, conds, reads, sit, worlds
                    ):
                        if outcomes is None:
                            continue
                        new_env = {
                            k: v
                            for k, v in env.items()
                            if _base(k) in live or _base(k) in keep_outputs
                        }
                        for w, value in enumerate(outcomes):
                            new_env[layer.output + (_W1 if w else "")] = value
                        key = frozenset(new_env.items())
                        if key not in nxt:
                            nxt[key] = _Situation(new_env, {**sit.witness, **wit})
            except _Budget:
                self.report(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"layer {layer.id!r}: the search went past {MAX_STEPS} steps; "
                    "the layer and those after it were not verified",
                    layer=layer.id,
                )
                return None
            situations = list(nxt.values())
            if worlds == 1:
                self.situation_counts.append(len(situations))
        return per_layer, situations

    def layer_outcomes(
        self,
        li: int,
        layer: Layer,
        conds: Sequence[Condition],
        reads: set[str],
        sit: _Situation,
        worlds: int,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any], tuple[str, ...] | None]]:
        """For one situation: every reachable outcome of the layer, per world."""
        ctx = self.ctx
        live = ctx.live_after[li]
        varied = ctx.varied
        differs = worlds == 2 and (
            any(sit.env.get(o) != sit.env.get(o + _W1) for o in ctx.outputs if o in reads)
            or (varied is not None and any(_base(f) in reads for f in varied.fields))
        )
        world_conds: list[list[Condition]] = [list(conds)]
        if differs:
            w1 = self._w1_mapping()
            world_conds.append([_rename(c, w1) for c in conds])
        n = len(conds)
        # The outcomes depend only on the values of the fields the layer reads (and their
        # linked fields), so they are shared between situations, and between the
        # monotonicity runs of kinds that the layer does not read.
        near = reads | {ctx.links[f] for f in reads if f in ctx.links}
        key: Hashable = None
        if not differs:
            key = (li, frozenset((k, v) for k, v in sit.env.items() if k in near))
        elif varied is None or not any(_base(f) in reads for f in varied.fields):
            key = (li, "pair", frozenset((k, v) for k, v in sit.env.items() if _base(k) in near))
        cached = self._cache.get(key) if key is not None else None
        if cached is None:
            all_reads: set[str] = set()
            for wc in world_conds:
                for c in wc:
                    all_reads |= c.fields()
            outer = {f for f in all_reads if f not in sit.env and _base(f) in live}
            fold = _Parts([(self.layer_fold(layer), n) for _ in world_conds])
            indexed = [(w * n + i, c) for w, wc in enumerate(world_conds) for i, c in enumerate(wc)]
            cached = []
            for combo in ctx.combos(outer, sit.env):
                env = {**sit.env, **combo}
                for summary, wit in ctx.explore(indexed, fold, env).items():
                    cached.append((combo, wit, summary))
            if key is not None:
                self._cache[key] = cached
        for combo, wit, summary in cached:
            env = {**sit.env, **combo}
            assert isinstance(summary, tuple)
            outcomes: list[str] = []
            failed = False
            for s in summary:
                outcome = self.resolve(layer, s)
                if isinstance(outcome, str):
                    outcomes.append(outcome)
                    continue
                failed = True
                if worlds == 1:
                    self.failed_layers.add(li)
                    self.report_failure(
                        layer,
                        conds,
                        outcome,
                        env,
                        {**sit.witness, **combo, **wit},
                        {**sit.witness, **combo},
                    )
            if failed:
                yield env, {**combo, **wit}, None
                continue
            if worlds == 1:
                self.values[li].add(outcomes[0])
                ordered = layer.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY)
                if ordered and summary[0] is not None:
                    self.winners[li].add(summary[0])
            if not differs and worlds == 2:
                outcomes.append(outcomes[0])
            yield env, {**combo, **wit}, tuple(outcomes)

    def layer_fold(self, layer: Layer) -> _Fold:
        fold = self._folds.get(layer.id)
        if fold is not None:
            return fold
        hit = layer.hit_policy
        if hit is HitPolicy.FIRST:
            fold = _FirstFold()
        elif hit is HitPolicy.PRIORITY:
            fold = _PriorityFold([r.priority for r in layer.rules])
        elif hit is HitPolicy.UNIQUE:
            fold = _UniqueFold()
        else:
            fold = _SumFold([r.score for r in layer.rules])
        self._folds[layer.id] = fold
        return fold

    def resolve(self, layer: Layer, s: Any) -> str | tuple[str, ...]:
        """A layer's value from its summary, or ``("gap",)`` / ``("overlap", a, b)``."""
        hit = layer.hit_policy
        if hit is HitPolicy.COLLECT_SUM:
            fold = self.layer_fold(layer)
            assert isinstance(fold, _SumFold)
            total = fold.value(s)
            value = layer.default
            for minimum, band in sorted(layer.bands):
                if total >= Fraction(minimum):
                    value = band
            return ("gap", f"{float(total):g}") if value is None else value
        if hit is HitPolicy.UNIQUE:
            if len(s) >= 2:
                return ("overlap", layer.rules[s[0]].id, layer.rules[s[1]].id)
            if len(s) == 1:
                return str(layer.rules[s[0]].value)
            return ("gap",) if layer.default is None else layer.default
        if s is None:
            return ("gap",) if layer.default is None else layer.default
        return str(layer.rules[s].value)

    def report_failure(
        self,
        layer: Layer,
        conds: Sequence[Condition],
        outcome: tuple[str, ...],
        env: Mapping[str, Any],
        witness: Mapping[str, Any],
        base_witness: Mapping[str, Any],
    ) -> None:
        if outcome[0] == "gap":
            region = _describe(env, witness, self.ctx, conds)
            if layer.hit_policy is HitPolicy.COLLECT_SUM:
                message = (
                    f"layer {layer.id!r}: a score of {outcome[1]} reaches no band and the "
                    f"layer has no default ({region})"
                )
            else:
                message = (
                    f"layer {layer.id!r}: no rule matches and the layer has no default ({region})"
                )
            self.report(
                FindingKind.GAP,
                Severity.ERROR,
                message,
                layer=layer.id,
                witness=witness,
                expect={"error": "gap", "layer": layer.id},
                dedupe=("gap", layer.id),
            )
            return
        # an overlap in a unique layer: find every overlapping pair
        n = len(conds)
        for i in range(n):
            for j in range(i + 1, n):
                key = (FindingKind.OVERLAP, (layer.rules[i].id, layer.rules[j].id), layer.id)
                if any(k[:3] == key for k in self.seen):
                    continue
                wit = self.ctx.sat([(conds[i], True), (conds[j], True)], env)
                if wit is None:
                    continue
                a, b = layer.rules[i].id, layer.rules[j].id
                full = {**base_witness, **wit}
                self.report(
                    FindingKind.OVERLAP,
                    Severity.ERROR,
                    f"layer {layer.id!r} is unique, but rules {a!r} and {b!r} both match "
                    f"({_describe(env, full, self.ctx, (conds[i], conds[j]))})",
                    rule_ids=(a, b),
                    layer=layer.id,
                    witness=full,
                    expect={"error": "overlap", "layer": layer.id, "rules": [a, b]},
                    dedupe=key[1],
                )

    def unreachable(self, situations_per_layer: list[list[_Situation]]) -> None:
        ctx = self.ctx
        cut = min(self.failed_layers, default=len(ctx.layers))
        for li, layer in enumerate(ctx.layers):
            if li > cut:
                break  # what follows a failing layer only sees the cases that got through
            conds = ctx.layer_conds[li]
            before = situations_per_layer[li]
            hit = layer.hit_policy
            for i, rule in enumerate(layer.rules):
                if hit in (HitPolicy.FIRST, HitPolicy.PRIORITY) and i in self.winners[li]:
                    continue
                candidates: list[tuple[_Situation, dict[str, Any], int]] = []
                takers: set[int] = set()
                holds = False
                for sit in before:
                    if hit in (HitPolicy.FIRST, HitPolicy.PRIORITY):
                        fold = _Parts([(_SatFold([True]), 1), (self.layer_fold(layer), len(conds))])
                        indexed = [(0, conds[i]), *((1 + k, c) for k, c in enumerate(conds))]
                        for summary, wit in ctx.explore(indexed, fold, sit.env).items():
                            assert isinstance(summary, tuple)
                            holds = True
                            winner = summary[1]
                            if winner is not None and winner != i:
                                takers.add(winner)
                                candidates.append((sit, wit, winner))
                    elif ctx.sat([(conds[i], True)], sit.env) is not None:
                        holds = True
                        break
                if hit in (HitPolicy.COLLECT_SUM, HitPolicy.UNIQUE) and holds:
                    continue
                if not candidates:
                    self.report(
                        FindingKind.UNREACHABLE,
                        Severity.ERROR,
                        f"layer {layer.id!r}: rule {rule.id!r} can never fire: its "
                        "condition holds for no case that reaches the layer",
                        rule_ids=(rule.id,),
                        layer=layer.id,
                    )
                    continue
                names = [layer.rules[k].id for k in sorted(takers)]
                why = (
                    "an earlier rule"
                    if hit is HitPolicy.FIRST
                    else "a rule of higher priority (or equal priority and earlier)"
                )
                message = (
                    f"layer {layer.id!r}: rule {rule.id!r} is shadowed: whenever it "
                    f"matches, {why} takes the case: {', '.join(repr(n) for n in names)}"
                )
                # A case that shows it must also get through the layers after this one.
                shown: tuple[dict[str, Any], int] | None = None
                for sit, wit, winner in candidates:
                    outputs = {k: v for k, v in sit.env.items() if k in ctx.outputs}
                    start = {**sit.witness, **wit}
                    done = self.complete(
                        li + 1, {**start, **outputs, layer.output: layer.rules[winner].value}, start
                    )
                    if done is not None:
                        shown = (done, winner)
                        break
                if shown is None:
                    self.report(
                        FindingKind.UNREACHABLE,
                        Severity.ERROR,
                        message + " (and no case it matches gets through the later "
                        "layers, so no case can show it)",
                        rule_ids=(rule.id, *names),
                        layer=layer.id,
                    )
                    continue
                self.report(
                    FindingKind.UNREACHABLE,
                    Severity.ERROR,
                    message,
                    rule_ids=(rule.id, *names),
                    layer=layer.id,
                    witness=shown[0],
                    expect={
                        "shadowed": rule.id,
                        "layer": layer.id,
                        "output": layer.output,
                        "used": layer.rules[shown[1]].id,
                    },
                )
            if self.values[li]:
                for value in layer.values:
                    if value not in self.values[li]:
                        self.report(
                            FindingKind.UNREACHABLE,
                            Severity.WARNING,
                            f"layer {layer.id!r}: value {value!r} is never given to any case",
                            layer=layer.id,
                        )

    def complete(
        self, li: int, env: dict[str, Any], witness: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Extend ``witness`` through layers ``li`` onwards without failing, or ``None``."""
        ctx = self.ctx
        if li >= len(ctx.layers):
            return witness
        layer = ctx.layers[li]
        conds = ctx.layer_conds[li]
        results = ctx.explore(list(enumerate(conds)), self.layer_fold(layer), env)
        for summary, wit in results.items():
            outcome = self.resolve(layer, summary)
            if not isinstance(outcome, str):
                continue
            done = self.complete(li + 1, {**env, **wit, layer.output: outcome}, {**witness, **wit})
            if done is not None:
                return done
        return None

    # -- remedies

    def remedies(self, situations: Sequence[_Situation]) -> None:
        ctx = self.ctx
        rules = self.policy.remedy_rules
        conds = ctx.remedy_conds
        satisfiable: set[int] = set()
        for sit in situations:
            for i in range(len(rules)):
                if i in satisfiable:
                    continue
                if ctx.sat([(conds[i], True)], sit.env) is not None:
                    satisfiable.add(i)
        for i, rule in enumerate(rules):
            if i not in satisfiable and situations and not self.failed_layers:
                self.report(
                    FindingKind.UNREACHABLE,
                    Severity.ERROR,
                    f"remedies[{rule.id}]: the rule can never fire: its condition holds "
                    "for no case",
                    rule_ids=(rule.id,),
                    layer="remedies",
                )
        grants = [i for i, r in enumerate(rules) if r.effect is not RemedyEffect.BLOCK]
        blocks = [i for i, r in enumerate(rules) if r.effect is RemedyEffect.BLOCK]
        if self.policy.conflict is ConflictRule.UNSPECIFIED:
            for a in grants:
                for b in blocks:
                    shared = sorted(
                        set(rules[a].remedies) & set(rules[b].remedies), key=list(Remedy).index
                    )
                    if not shared:
                        continue
                    for sit in situations:
                        wit = ctx.sat([(conds[a], True), (conds[b], True)], sit.env)
                        if wit is None:
                            continue
                        names = ", ".join(r.value for r in shared)
                        region = _describe(
                            sit.env, {**sit.witness, **wit}, ctx, (conds[a], conds[b])
                        )
                        self.report(
                            FindingKind.CONFLICT,
                            Severity.ERROR,
                            f"remedies[{rules[a].id}] {rules[a].effect.value}s and "
                            f"remedies[{rules[b].id}] blocks {names} for the same cases "
                            f"({region}), and "
                            "remedies.conflict is 'unspecified'; say which wins "
                            "(block_wins or allow_wins) or make the conditions disjoint",
                            rule_ids=(rules[a].id, rules[b].id),
                            layer="remedies",
                            witness={**sit.witness, **wit},
                            expect={
                                "conflict": [rules[a].id, rules[b].id],
                                "remedy": shared[0].value,
                            },
                        )
                        break
        # ordering: litigation is never allowed for Q1
        lit = [i for i in grants if Remedy.LITIGATE in rules[i].remedies]
        lit_blocks = [i for i in blocks if Remedy.LITIGATE in rules[i].remedies]
        for sit in situations:
            if sit.env.get("quadrant") != Quadrant.Q1.value:
                continue
            for a in lit:
                wants = [(conds[a], True)]
                if self.policy.conflict is not ConflictRule.ALLOW_WINS:
                    wants += [(conds[b], False) for b in lit_blocks]
                wit = ctx.sat(wants, sit.env)
                if wit is None:
                    continue
                self.report(
                    FindingKind.ORDERING,
                    Severity.ERROR,
                    f"remedies[{rules[a].id}] allows litigation for a Q1 debtor (willing and "
                    "able); litigation is the last stage and must never be allowed for Q1 "
                    f"({_describe(sit.env, {**sit.witness, **wit}, ctx, (conds[a],))})",
                    rule_ids=(rules[a].id,),
                    layer="remedies",
                    witness={**sit.witness, **wit},
                    expect={"quadrant": "Q1", "allowed": Remedy.LITIGATE.value},
                )

    # -- monotonicity

    def _w1_mapping(self) -> dict[str, str]:
        mapping = {o: o + _W1 for o in self.ctx.outputs}
        if self.ctx.varied is not None:
            for f in self.ctx.varied.fields:
                if not f.endswith(_W1):
                    mapping[f] = f + _W1
        return mapping

    def monotonicity(self) -> None:
        ctx = self.ctx
        if "quadrant" not in ctx.outputs:
            return
        read: set[str] = set()
        for cond in itertools.chain(*ctx.layer_conds, ctx.remedy_conds):
            read |= cond.fields()
        ability_layer = next((la for la in ctx.layers if la.output == "ability"), None)
        for kind, spec in self.policy.signals.items():
            if spec.measured:
                if spec.dimension != "ability" or ability_layer is None:
                    continue
                if kind not in read and f"has_{kind}" not in read:
                    continue
                varied = self._measured_pairs(kind)
            else:
                if spec.polarity != "negative" or kind not in read:
                    continue
                varied = self._count_pairs(kind)
            ctx.varied = varied
            try:
                result = self.run(worlds=2)
                if result is not None:
                    self.check_pairs(result[1], varied, ability_layer)
            finally:
                ctx.varied = None

    def _count_pairs(self, kind: str) -> _Varied:
        ctx = self.ctx
        cells = ctx.cells(kind)
        leaves = ctx.leaves.get(kind, [])
        seen: set[tuple[tuple[bool, ...], tuple[bool, ...]]] = set()
        domain: list[dict[str, Any]] = []
        if ctx.window_open:
            points = sorted({p for c in cells for p in (c - 1, c) if isinstance(c, int) and p >= 0})
            for v in points:
                sig = (
                    tuple(_leaf_holds(x, v) for x in leaves),
                    tuple(_leaf_holds(x, v + 1) for x in leaves),
                )
                if sig not in seen:
                    seen.add(sig)
                    domain.append({kind: v, kind + _W1: v + 1})
        return _Varied(kind, (kind, kind + _W1), tuple(domain), ability_worse=False)

    def _measured_pairs(self, kind: str) -> _Varied:
        ctx = self.ctx
        cells = ctx.cells(kind)
        has = f"has_{kind}"
        domain = [
            {kind: a, has: a is not ABSENT, kind + _W1: b, has + _W1: b is not ABSENT}
            for a in cells
            for b in cells
            if a != b
        ]
        return _Varied(kind, (kind, has, kind + _W1, has + _W1), tuple(domain), ability_worse=True)

    def check_pairs(
        self, finals: Sequence[_Situation], varied: _Varied, ability_layer: Layer | None
    ) -> None:
        ctx = self.ctx
        rules = self.policy.remedy_rules
        coercive_rules = [
            (i, rules[i]) for i in range(len(rules)) if set(rules[i].remedies) & COERCIVE_REMEDIES
        ]
        w1 = self._w1_mapping()
        allow_wins = self.policy.conflict is ConflictRule.ALLOW_WINS
        remedy_reads: set[str] = set()
        for i, _ in coercive_rules:
            remedy_reads |= ctx.remedy_conds[i].fields()
        remedy_reads |= {ctx.links[f] for f in remedy_reads if f in ctx.links}
        for sit in finals:
            q0, q1 = sit.env.get("quadrant"), sit.env.get("quadrant" + _W1)
            if q0 not in Quadrant.__members__ or q1 not in Quadrant.__members__:
                continue
            if varied.ability_worse:
                assert ability_layer is not None
                a0, a1 = sit.env.get("ability"), sit.env.get("ability" + _W1)
                order = list(ability_layer.values)
                if a0 not in order or a1 not in order or order.index(a1) <= order.index(a0):
                    continue
            spec = [
                (r.effect is not RemedyEffect.BLOCK, frozenset(r.remedies) & COERCIVE_REMEDIES)
                for _, r in coercive_rules
            ]
            n = len(coercive_rules)
            fold = _Parts([(_RemedyFold(spec), n), (_RemedyFold(spec), n)])
            indexed = [(k, ctx.remedy_conds[i]) for k, (i, _) in enumerate(coercive_rules)]
            indexed += [
                (n + k, _rename(ctx.remedy_conds[i], w1)) for k, (i, _) in enumerate(coercive_rules)
            ]
            nothing: tuple[frozenset[Remedy], frozenset[Remedy]] = (frozenset(), frozenset())
            reads_varied = any(_base(f) in remedy_reads for f in varied.fields)
            key = (
                None
                if reads_varied
                else (
                    "remedies",
                    frozenset((k, v) for k, v in sit.env.items() if _base(k) in remedy_reads),
                )
            )
            results = self._remedy_cache.get(key) if key is not None else None
            if results is None:
                results = ctx.explore(indexed, fold, sit.env) if n else {(nothing, nothing): {}}
                if key is not None:
                    self._remedy_cache[key] = results
            for summary, wit in results.items():
                assert isinstance(summary, tuple)
                eff = [g if allow_wins else g - b for g, b in summary]
                softer = _softer(Quadrant(str(q0)), Quadrant(str(q1)))
                lost = sorted(eff[0] - eff[1], key=list(Remedy).index)
                if not softer and not lost:
                    continue
                witness = {**sit.witness, **wit}
                if varied.ability_worse:
                    old, new = witness.get(varied.kind), witness.get(varied.kind + _W1)
                    change = (
                        f"changing {varied.kind!r} from {_show(old)} to {_show(new)} "
                        f"(ability {sit.env.get('ability')} -> "
                        f"{sit.env.get('ability' + _W1)})"
                    )
                else:
                    change = f"adding one {varied.kind!r} signal"
                what = []
                if softer:
                    what.append(f"softens the quadrant from {q0} to {q1}")
                if lost:
                    what.append(
                        "takes away the coercive remedies " + ", ".join(r.value for r in lost)
                    )
                self.report(
                    FindingKind.MONOTONICITY,
                    Severity.ERROR,
                    f"{change} {' and '.join(what)}; a worse sign must never soften the treatment",
                    rule_ids=(),
                    layer="quadrant" if softer else "remedies",
                    witness=witness,
                    paired=True,
                    expect={
                        "before": {"quadrant": q0, "coercive": sorted(r.value for r in eff[0])},
                        "after": {"quadrant": q1, "coercive": sorted(r.value for r in eff[1])},
                    },
                    dedupe=("monotonicity", varied.kind, q0, q1, tuple(lost)),
                )

    # -- the whole run

    def verify(self) -> VerificationReport:
        self.check_citations()
        self.check_dead()
        ctx = self.ctx
        if "quadrant" not in ctx.outputs:
            self.report(
                FindingKind.GAP,
                Severity.ERROR,
                "the policy has no layer whose output is 'quadrant'; no case can be decided",
            )
        self.winners = [set() for _ in ctx.layers]
        self.values = [set() for _ in ctx.layers]
        per_layer = self.run(worlds=1)
        if per_layer is not None:
            situations_per_layer, finals = per_layer
            phases: list[tuple[str, Callable[[], None]]] = [
                ("unreachable rules", lambda: self.unreachable(situations_per_layer)),
                ("remedies", lambda: self.remedies(finals)),
                ("monotonicity", self.monotonicity),
            ]
            for phase, run in phases:
                try:
                    run()
                except _Budget:
                    self.report(
                        FindingKind.UNVERIFIED,
                        Severity.WARNING,
                        f"{phase}: the search went past {MAX_STEPS} steps; this check "
                        "was not completed",
                    )
        for (layer, fields), notes in sorted(self.unconfirmed.items()):
            shown = "; ".join(notes[:3]) + (
                f"; and {len(notes) - 3} more" if len(notes) > 3 else ""
            )
            self.findings.append(
                Finding(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"{layer}: {len(notes)} possible finding(s) depend on field(s) {fields}, which "
                    f"the verifier cannot set on a case it builds, and could not be confirmed: "
                    f"{shown}",
                    (),
                    None,
                    layer,
                )
            )
        if ctx.probed:
            extra = [f for f in ctx.probe_base if f not in ("dpd", "product")]
            by = ", ".join(["dpd", "the product", *extra])
            self.findings.append(
                Finding(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"{', '.join(ctx.probed)}: computed by the policy's sections from the case; "
                    f"the verifier explored the values that cases without events give them (by "
                    f"{by}), so a combination that only events can produce is not checked",
                    (),
                    None,
                    None,
                )
            )
        for layer_id, fields in self.unsupported_layers():
            self.findings.append(
                Finding(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"{layer_id}: reads {fields}, which the verifier cannot set on a case it "
                    "builds; "
                    "these fields were explored as free values, and findings that need them are "
                    "kept only when a built case reproduces them",
                    (),
                    None,
                    layer_id,
                )
            )
        order = {Severity.ERROR: 0, Severity.WARNING: 1}
        findings = sorted(self.findings, key=lambda f: order[f.severity])
        stats = {
            "layers": len(ctx.layers),
            "remedy_rules": len(self.policy.remedy_rules),
            "fields": len(ctx.leaves),
            "search_steps": ctx.steps,
            "final_situations": self.situation_counts[-1] if self.situation_counts else 0,
        }
        return VerificationReport(self.policy.ref, tuple(findings), stats)

    def unsupported_layers(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        ctx = self.ctx
        for li, layer in enumerate(ctx.layers):
            bad = ctx.unsupported(
                set().union(*(c.fields() for c in ctx.layer_conds[li]))
                if ctx.layer_conds[li]
                else set()
            )
            if bad:
                out.append((f"layer {layer.id!r}", ", ".join(bad)))
        bad = ctx.unsupported(
            set().union(*(c.fields() for c in ctx.remedy_conds)) if ctx.remedy_conds else set()
        )
        if bad:
            out.append(("remedies", ", ".join(bad)))
        return out


def build_case(
    policy: Policy,
    as_of: Any,
    witness: Mapping[str, Any],
    world: str = "",
    *,
    case_id: str = "verify",
) -> dict[str, Any]:
    """A JSON-ready case whose flat facts at ``as_of`` have the witness's values.

    Fields the witness does not set take neutral values: a loan in CNY, 100,000 lent,
    10,000 overdue, no guarantor, no maturity date, no signal.
    """
    get = _world_getter(witness, world)
    when = as_of.in_timezone("UTC")
    today = when.date()
    dpd = get("dpd", 0)
    dpd = dpd if isinstance(dpd, int) and dpd > 0 else 0
    overdue = get("overdue_amount", 10_000 * MONEY_SCALE)
    principal = get("principal", 100_000 * MONEY_SCALE)
    case: dict[str, Any] = {
        "case_id": case_id,
        "product": get("product", Product.LOAN.value),
        "currency": get("currency", "CNY"),
        "principal": _money_text(principal),
        "overdue_amount": _money_text(overdue),
        "due_date": (today - dt.timedelta(days=dpd)).isoformat(),
        "timezone": "UTC",
    }
    dtm = get("days_to_maturity", ABSENT)
    if dtm is not ABSENT and isinstance(dtm, int):
        case["maturity_date"] = (today + dt.timedelta(days=dtm)).isoformat()
    elif get("has_maturity_date", False) is True:
        case["maturity_date"] = (today + dt.timedelta(days=365)).isoformat()
    guarantors = get("guarantors", 0)
    if isinstance(guarantors, int) and guarantors > 0:
        case["guarantors"] = [{"id": f"G{i + 1}"} for i in range(guarantors)]
    observed = when.isoformat()
    signals: list[dict[str, Any]] = []
    for kind, spec in policy.signals.items():
        if spec.measured:
            value = get(kind, ABSENT)
            if value is ABSENT and get(f"has_{kind}", False) is True:
                value = 1
            if value is not ABSENT:
                signals.append({"kind": kind, "observed_at": observed, "value": value})
        else:
            count = get(kind, 0)
            if isinstance(count, int):
                signals += [{"kind": kind, "observed_at": observed}] * count
    case["signals"] = signals
    # The debtor reached at as_of (on or after the due date): debtor_contacted.
    reached = get("debtor_contacted", False) is True
    case["events"] = (
        [{"kind": "contact_attempt", "at": observed, "outcome": "reached"}] if reached else []
    )
    return case


def _world_getter(witness: Mapping[str, Any], world: str) -> Any:
    def get(name: str, default: Any) -> Any:
        if world and name + world in witness:
            return witness[name + world]
        return witness.get(name, default)

    return get


def _money_text(scaled: Any) -> str:
    value = Decimal(int(scaled)) / Decimal(MONEY_SCALE) if isinstance(scaled, int) else Decimal(0)
    return format(value.normalize(), "f")


def _show(value: Any) -> str:
    return "absent" if value is ABSENT or value is None else repr(value)


def _softer(before: Quadrant, after: Quadrant) -> bool:
    return (after.willing and not before.willing) or (after.able and not before.able)


def _describe(
    env: Mapping[str, Any], witness: Mapping[str, Any], ctx: _Context, conds: Iterable[Condition]
) -> str:
    """A short description of a region: the values of the fields ``conds`` read."""
    reads: set[str] = set()
    for cond in conds:
        reads |= cond.fields()
    parts: list[str] = []
    for name in ctx.outputs:
        if name in reads and name in env:
            parts.append(f"{name} = {env[name]}")
    values = {**witness, **{k: v for k, v in env.items() if k not in ctx.outputs}}
    for name in sorted(reads, key=ctx.order_key):
        if name in ctx.outputs or name not in values:
            continue
        value = values[name]
        role = ctx.kinds.get(name)
        if value is ABSENT:
            parts.append(f"{name} absent")
        elif role == "money" and isinstance(value, int):
            parts.append(f"{name} = {_money_text(value)}")
        else:
            parts.append(f"{name} = {value!r}")
    return ", ".join(parts) if parts else "every case"


def _own_names(policy: Policy, table: str) -> set[str] | None:
    """The names a policy that ``extends`` another defines itself in ``table``.

    ``None`` when the policy extends nothing, or its file cannot be read again: then
    every name is its own.
    """

    source = policy.source
    if source is None:
        return None
    ref = source[1:-1] if source.startswith("<") and source.endswith(">") else source
    try:
        text, label, path = _read_text(ref)
        raw = _parse_text(text, label, path)
    except CollectRulesError:
        return None
    if "extends" not in raw:
        return None
    names = raw.get(table)
    return set(names) if isinstance(names, Mapping) else set()


def _section_numbers(policy: Policy) -> set[int]:
    """Whole numbers in the optional sections and the parameters: likely thresholds."""
    core = {"layers", "remedies", "signals", "clauses", "notes"}
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            found.add(int(node))

    for key, value in policy.data.items():
        if key not in core:
            walk(value)
    return found


def _consumed_parameters(policy: Policy) -> frozenset[str]:
    """Parameters that the library reads by name: the lookback window, the sections'."""
    names = {"lookback_days"}
    for plugin in policy.plugins:
        names |= plugin.parameters
    return frozenset(names)


def _section_words(data: Mapping[str, Any]) -> set[str]:
    core = {
        "id",
        "version",
        "title",
        "description",
        "notes",
        "extends",
        "parameters",
        "signals",
        "layers",
        "remedies",
        "disable",
        "schema_version",
        "clauses",
    }
    words: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                words.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node))

    for key, value in data.items():
        if key not in core:
            walk(value)
    return words


# --------------------------------------------------------------------------- reproduction


def _decide(engine: Engine, case: Mapping[str, Any], as_of: str) -> Decision | CollectRulesError:

    built = Case.from_dict(case, signal_kinds=tuple(engine.policy.signals))
    try:
        return engine.decide(built, as_of=as_of)
    except (EngineError, InputError) as exc:
        return exc


def _coercive(decision: Decision) -> list[str]:
    return sorted(r.value for r in decision.allowed_remedies & COERCIVE_REMEDIES)


def _check(policy: Policy, cx: Counterexample, decide: Any) -> bool:
    expect = cx.expect
    result = decide(cx.case)
    if "error" in expect:
        if not isinstance(result, EngineError):
            return False
        text = str(result)
        if f"layer {expect['layer']!r}" not in text:
            return False
        if expect["error"] == "gap":
            return "no rule matched" in text or "reaches no band" in text
        return "several rules matched" in text and all(r in text for r in expect["rules"])
    if isinstance(result, CollectRulesError) or result is None:
        return False
    if "shadowed" in expect:
        fired = {f.rule_id for f in result.trace}
        level = result.levels.get(expect["output"])
        return (
            expect["shadowed"] in fired and level is not None and level.rules == (expect["used"],)
        )
    if "conflict" in expect:
        fired = {f.rule_id for f in result.trace}
        remedy = Remedy(expect["remedy"])
        both = all(r in fired for r in expect["conflict"])
        if policy.conflict is ConflictRule.ALLOW_WINS:
            return both and remedy in result.allowed_remedies
        return both and remedy in result.blocked_remedies
    if "allowed" in expect:
        return (
            result.quadrant.value == expect["quadrant"]
            and Remedy(expect["allowed"]) in result.allowed_remedies
        )
    if "before" in expect and cx.before is not None:
        before = decide(cx.before)
        if isinstance(before, CollectRulesError) or before is None:
            return False
        return bool(
            before.quadrant.value == expect["before"]["quadrant"]
            and result.quadrant.value == expect["after"]["quadrant"]
            and _coercive(before) == expect["before"]["coercive"]
            and _coercive(result) == expect["after"]["coercive"]
        )
    return False


def reproduces(finding: Finding, engine: Engine) -> bool:
    """Whether ``engine`` shows ``finding`` on its counterexample.

    A gap or an overlap shows as the engine's error naming the layer (and the rules); a
    shadowed rule as a decision in whose trace it matched while another rule gave the
    layer's value; a conflict as both rules firing on one case; an ordering violation as
    litigation allowed for a Q1 case; a monotonicity violation as the two decisions of
    the case before and after the change. A finding without a counterexample never
    reproduces.
    """
    cx = finding.counterexample
    if cx is None:
        return False

    def decide(case: Mapping[str, Any]) -> Decision | CollectRulesError:
        return _decide(engine, case, cx.as_of)

    return _check(engine.policy, cx, decide)


def verify(
    policy: Policy | str | Path,
    *,
    as_of: dt.datetime | str = REFERENCE_AS_OF,
    confirm: bool = True,
) -> VerificationReport:
    """Verify a policy (a :class:`Policy`, a shipped name or a path).

    ``as_of`` is the instant at which counterexample cases are decided; with
    ``confirm`` (the default), every counterexample is decided with the compiled
    evaluator before it is reported.
    """
    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    when = as_of if isinstance(as_of, str) else require_aware(as_of).isoformat()
    require_aware(when)
    return _Verifier(loaded, when, confirm=confirm).verify()
