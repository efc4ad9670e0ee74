"""What a policy change changes: the rules (:func:`diff_policies`) and the decisions
(:func:`impact`).

``diff_policies(old, new)`` lists the parameters, signals, layers and rules that were
added, removed or changed, key by key, after ``extends`` is resolved on both sides. A
rule that moved within a ``first`` layer is a change too: order decides there.

``impact(old, new, cases, as_of=…)`` decides the same cases under both policies (the
champion and the challenger) and reports how many change quadrant, as a from→to
matrix, which remedies are gained and lost and how often, and a sample of changed
cases with both traces. Nothing here reads the clock: ``as_of`` is an input.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from collectrules._arguments import require_instance, require_int, wrong_kind
from collectrules._decimal import exact
from collectrules.engine import Backend, Engine, UnknownSignals
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    OutOfMemoryError,
    quote,
)
from collectrules.io import Row
from collectrules.io.arrow import refuse_table
from collectrules.io.repeats import CaseIds, repeated_case
from collectrules.model.case import Case
from collectrules.model.decision import Decision, Quadrant
from collectrules.model.remedies import RemedySpec
from collectrules.model.time import require_aware
from collectrules.policy import HitPolicy, Layer, LayerRule, Policy, RemedyRule

__all__ = [
    "CaseChange",
    "Change",
    "ImpactReport",
    "PolicyDiff",
    "diff_policies",
    "impact",
]


@attrs.frozen
class Change:
    """One added, removed or changed item of a policy.

    ``what`` is ``policy``, ``parameter``, ``signal``, ``condition`` (a named
    condition), ``remedy`` or ``product`` (an entry of the policy's own catalogue),
    ``layer``, ``rule`` (a layer rule), ``remedy_rule`` or ``section``; ``fields`` lists
    ``(key, old, new)`` for a change.
    """

    what: str
    id: str
    change: str
    fields: tuple[tuple[str, Any, Any], ...] = ()
    where: str = ""

    def __str__(self) -> str:
        head = f"{self.change} {self.what} {self.id}" + (f" ({self.where})" if self.where else "")
        details = self.details()
        return f"{head}: {details}" if details else head

    def details(self) -> str:
        """The keys that changed, as text: ``key = value`` for an added or removed item,
        ``key: old -> new`` for a changed one; empty when there are none."""
        if self.change == "added":
            return "; ".join(f"{k} = {_show(n)}" for k, _, n in self.fields)
        if self.change == "removed":
            return "; ".join(f"{k} = {_show(o)}" for k, o, _ in self.fields)
        return "; ".join(f"{k}: {_show(o)} -> {_show(n)}" for k, o, n in self.fields)

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready data."""
        return {
            "what": self.what,
            "id": self.id,
            "change": self.change,
            "where": self.where,
            "fields": [{"key": k, "old": _plain(o), "new": _plain(n)} for k, o, n in self.fields],
        }


@attrs.frozen
class PolicyDiff:
    """Every difference between two resolved policies."""

    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def identical(self) -> bool:
        """Whether nothing that decides a case differs."""
        return not self.changes

    def of(self, what: str) -> tuple[Change, ...]:
        """The changes to one kind of item."""
        return tuple(c for c in self.changes if c.what == what)

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain JSON-ready data."""
        return {
            "old": self.old,
            "new": self.new,
            "identical": self.identical,
            "changes": [c.to_dict() for c in self.changes],
        }


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[tuple[str, Any, Any], ...]:
    return tuple(
        (k, old.get(k), new.get(k)) for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)
    )


def _rule_view(rule: LayerRule, layer: Layer, position: int) -> dict[str, Any]:
    view: dict[str, Any] = {
        "layer": layer.id,
        "when": rule.when.to_text(),
        "reason": rule.reason,
        "cites": rule.cites,
    }
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        view["score"] = rule.score
    else:
        view["value"] = rule.value
    if layer.hit_policy is HitPolicy.PRIORITY:
        view["priority"] = rule.priority
    if layer.hit_policy is HitPolicy.FIRST:
        view["position"] = position + 1
    # A presumption marks the decision's level and its labels (docs/evidence.md).
    view["presumed"] = rule.presumed
    return view


def _remedy_view(rule: RemedyRule) -> dict[str, Any]:
    return {
        "effect": rule.effect.value,
        "remedies": tuple(map(str, rule.remedies)),
        "when": rule.when.to_text(),
        "reason": rule.reason,
        "conditions": rule.conditions,
        "cites": rule.cites,
    }


def _remedy_spec_view(spec: RemedySpec) -> dict[str, Any]:
    return {
        "label_en": spec.label_en,
        "label_zh": spec.label_zh,
        "category": spec.category.value,
        "coercive": spec.coercive,
        "envelopes": spec.envelopes,
        "cites": spec.cites,
    }


def _layer_view(layer: Layer) -> dict[str, Any]:
    return {
        "output": layer.output,
        "values": layer.values,
        "hit_policy": layer.hit_policy.value,
        "default": layer.default,
        "bands": tuple(f"{v} from {m:g}" for m, v in layer.bands),
        # The decision's labels of each level.
        "labels": tuple(f"{v}: {en} / {zh}" for v, (en, zh) in sorted(layer.labels.items())),
        "cites": layer.cites,
    }


def _shown(value: Any) -> bool:
    """Whether an added or removed item shows a key: not when it is empty or a flag
    left off (``presumed = False``)."""
    return value is not False and value not in (None, (), "")


def _compare(
    what: str,
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    where: Mapping[str, str],
) -> list[Change]:
    out: list[Change] = []
    for key in old:
        if key not in new:
            shown = tuple((k, v, None) for k, v in old[key].items() if _shown(v))
            out.append(Change(what, key, "removed", shown, where.get(key, "")))
    for key, view in new.items():
        if key not in old:
            shown = tuple((k, None, v) for k, v in view.items() if _shown(v))
            out.append(Change(what, key, "added", shown, where.get(key, "")))
            continue
        fields = _fields(old[key], view)
        if fields:
            out.append(Change(what, key, "changed", fields, where.get(key, "")))
    return out


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """The differences between two policies, after ``extends`` on both sides."""
    require_instance(old, Policy, "old", "a Policy")
    require_instance(new, Policy, "new", "a Policy")
    changes: list[Change] = []
    ident = _fields(
        {"id": old.id, "version": old.version, "title": old.title},
        {"id": new.id, "version": new.version, "title": new.title},
    )
    if ident:
        changes.append(Change("policy", new.id, "changed", ident))
    changes += _compare(
        "parameter",
        {
            n: {"value": p.value, "cites": p.cites, "status": p.status, "chosen": p.chosen}
            for n, p in old.parameters.items()
        },
        {
            n: {"value": p.value, "cites": p.cites, "status": p.status, "chosen": p.chosen}
            for n, p in new.parameters.items()
        },
        {},
    )
    changes += _compare(
        "signal",
        {k: {"dimension": s.dimension, "polarity": s.polarity} for k, s in old.signals.items()},
        {k: {"dimension": s.dimension, "polarity": s.polarity} for k, s in new.signals.items()},
        {},
    )
    changes += _compare(
        "condition",
        {n: {"when": c.when.to_text(), "cites": c.cites} for n, c in old.named_conditions.items()},
        {n: {"when": c.when.to_text(), "cites": c.cites} for n, c in new.named_conditions.items()},
        {},
    )
    changes += _compare(
        "remedy",
        {n: _remedy_spec_view(r) for n, r in old.remedies.items() if not r.standard},
        {n: _remedy_spec_view(r) for n, r in new.remedies.items() if not r.standard},
        {},
    )
    changes += _compare(
        "product",
        {
            n: {"label_en": p.label_en, "label_zh": p.label_zh, "category": p.category}
            for n, p in old.products.items()
            if not p.standard
        },
        {
            n: {"label_en": p.label_en, "label_zh": p.label_zh, "category": p.category}
            for n, p in new.products.items()
            if not p.standard
        },
        {},
    )
    changes += _compare(
        "layer",
        {la.id: _layer_view(la) for la in old.layers},
        {la.id: _layer_view(la) for la in new.layers},
        {},
    )
    old_rules = {r.id: _rule_view(r, la, i) for la in old.layers for i, r in enumerate(la.rules)}
    new_rules = {r.id: _rule_view(r, la, i) for la in new.layers for i, r in enumerate(la.rules)}
    where = {r.id: f"layer {la.id}" for la in (*old.layers, *new.layers) for r in la.rules}
    changes += _compare("rule", old_rules, new_rules, where)
    if old.conflict is not new.conflict:
        changes.append(
            Change(
                "remedies",
                "conflict",
                "changed",
                (("conflict", old.conflict.value, new.conflict.value),),
            )
        )
    changes += _compare(
        "remedy_rule",
        {r.id: _remedy_view(r) for r in old.remedy_rules},
        {r.id: _remedy_view(r) for r in new.remedy_rules},
        {},
    )
    for key in sorted(set(old.sections) | set(new.sections)):
        a, b = old.data.get(key), new.data.get(key)
        if a != b:
            state = "added" if a is None else "removed" if b is None else "changed"
            changes.append(Change("section", key, state))
    return PolicyDiff(old.ref, new.ref, tuple(changes))


# --------------------------------------------------------------------------- impact


@attrs.frozen
class CaseChange:
    """One case whose decision differs between the two policies, with both traces."""

    case_id: str
    where: str
    old_quadrant: str
    new_quadrant: str
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    old_trace: tuple[str, ...]
    new_trace: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready data."""
        return {
            "case_id": self.case_id,
            "where": self.where,
            "old_quadrant": self.old_quadrant,
            "new_quadrant": self.new_quadrant,
            "gained": list(self.gained),
            "lost": list(self.lost),
            "old_trace": list(self.old_trace),
            "new_trace": list(self.new_trace),
        }


@attrs.frozen
class ImpactReport:
    """What changes when ``new`` replaces ``old`` on a set of cases.

    ``matrix`` counts cases by (old quadrant, new quadrant), unchanged ones included;
    ``gained`` and ``lost`` count, per remedy, the cases in which it became allowed or
    stopped being allowed. ``errors`` lists the rows that could not be decided, with the
    side (``old``, ``new`` or ``input``) and the reason.

    When the two policies' signal vocabularies differ, a signal that only one of them
    knows is ignored by the other, never a reason to drop the row: ``ignored`` counts,
    for each side (``old``, ``new``) and signal kind, the cases whose signals of that
    kind the side ignored.
    """

    old: str
    new: str
    as_of: str
    total: int
    decided: int
    matrix: Mapping[tuple[str, str], int]
    gained: Mapping[str, int]
    lost: Mapping[str, int]
    changed: int
    sample: tuple[CaseChange, ...]
    errors: tuple[tuple[str, str, str], ...] = ()
    ignored: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)

    @property
    def quadrant_changes(self) -> int:
        """How many cases change quadrant."""
        return sum(n for (a, b), n in self.matrix.items() if a != b)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {
            "old": self.old,
            "new": self.new,
            "as_of": self.as_of,
            "total": self.total,
            "decided": self.decided,
            "changed": self.changed,
            "quadrant_changes": self.quadrant_changes,
            "matrix": [
                {"from": a, "to": b, "cases": n} for (a, b), n in sorted(self.matrix.items())
            ],
            "gained": dict(sorted(self.gained.items())),
            "lost": dict(sorted(self.lost.items())),
            "sample": [c.to_dict() for c in self.sample],
            "errors": [{"where": w, "side": s, "error": e} for w, s, e in self.errors],
            "ignored": {
                side: dict(sorted(kinds.items())) for side, kinds in sorted(self.ignored.items())
            },
        }


def _trace(decision: Decision) -> tuple[str, ...]:
    return tuple(f"{f.rule_id}: {f.outcome}" for f in decision.trace)


def _one_line(exc: CollectRulesError) -> str:
    if isinstance(exc, InputError):
        return "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)
    return str(exc).replace("\n", " ")


@exact
def impact(
    old: Policy | str,
    new: Policy | str,
    cases: Iterable[Row | Case | Mapping[str, Any]],
    *,
    as_of: dt.datetime | str,
    sample: int = 5,
    backend: Backend = "python",
    unknown_signals: UnknownSignals = "error",
) -> ImpactReport:
    """Decide ``cases`` under both policies at ``as_of`` and compare the decisions.

    ``cases`` holds :class:`~collectrules.io.Row` objects (as
    :func:`~collectrules.io.read_rows` gives them), cases, or plain dicts. A row that
    cannot be read or decided is counted in ``errors``, never dropped silently. A
    signal whose kind only one policy knows is ignored by the other and counted in
    :attr:`ImpactReport.ignored`. A failure that is no
    :class:`~collectrules.errors.CollectRulesError` (a section plug-in's own bug) is
    that row's error on that side (``internal error: …``), never the end of the run.
    A signal whose kind neither policy knows makes its
    row an ``input`` error, unless ``unknown_signals="ignore"``: then both sides ignore
    it, and count it. ``sample`` is how many changed cases to keep, a whole number from 0.
    Each case id is compared once: a later row for an id already decided under both
    policies is an ``input`` error (``case 'C-1' appears twice (decided at
    cases.jsonl:1)``).
    """
    if unknown_signals not in ("error", "ignore"):
        msg = f"expected 'error' or 'ignore', got {quote(unknown_signals)}"
        raise InputError([FieldProblem("unknown_signals", msg)])
    when = require_aware(as_of)
    require_int(sample, "sample", minimum=0)
    refuse_table(cases, "cases", frames=False)
    if isinstance(cases, str | bytes | Mapping) or not isinstance(cases, Iterable):
        raise wrong_kind("cases", cases, "an iterable of rows, cases or mappings")
    champion = Engine(old, backend=backend, unknown_signals="ignore")
    challenger = Engine(new, backend=backend, unknown_signals="ignore")
    kinds = tuple(dict.fromkeys([*champion.policy.signals, *challenger.policy.signals]))
    matrix: Counter[tuple[str, str]] = Counter()
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    errors: list[tuple[str, str, str]] = []
    ignored: dict[str, Counter[str]] = {"old": Counter(), "new": Counter()}
    picked: list[CaseChange] = []
    total = decided = changed = 0
    seen = CaseIds()  # each case id is compared once, as a batch run decides it once
    for index, item in enumerate(cases):
        total += 1
        where = f"case {index + 1}"
        try:
            case = _structure(item, kinds, ignore=unknown_signals == "ignore")
        except CollectRulesError as exc:
            where = item.where if isinstance(item, Row) else where
            errors.append((where, "input", _one_line(exc)))
            continue
        if isinstance(item, Row):
            where = item.where
        results: list[Decision] = []
        for side, engine in (("old", champion), ("new", challenger)):
            try:
                results.append(engine.decide(case, as_of=when))
            except MemoryError as exc:  # the process's, not the row's
                raise OutOfMemoryError.of(exc) from exc
            except CollectRulesError as exc:
                errors.append((where, side, _one_line(exc)))
                continue
            except Exception as exc:  # a section plug-in's bug: this row's error only
                errors.append((where, side, _one_line(EngineError.internal(exc))))
                continue
            if results[-1].ignored_signals:
                known = engine.policy.signals
                ignored[side].update({s.kind for s in case.signals if s.kind not in known})
        if len(results) != 2:
            continue
        if isinstance(item, Row):
            first = seen.claim(case.case_id, item.source, item.line, item.index)
        else:
            first = seen.claim(case.case_id, "cases", None, index)
        if first is not None:
            errors.append((where, "input", _one_line(repeated_case(case.case_id, first))))
            continue
        decided += 1
        before, after = results
        matrix[(before.quadrant.value, after.quadrant.value)] += 1
        was = set(map(str, before.allowed_remedies))
        now = set(map(str, after.allowed_remedies))
        for r in now - was:
            gained[r] += 1
        for r in was - now:
            lost[r] += 1
        if before.quadrant is not after.quadrant or was != now:
            changed += 1
            if len(picked) < sample:
                picked.append(
                    CaseChange(
                        case.case_id,
                        where,
                        before.quadrant.value,
                        after.quadrant.value,
                        tuple(sorted(now - was)),
                        tuple(sorted(was - now)),
                        _trace(before),
                        _trace(after),
                    )
                )
    return ImpactReport(
        champion.policy.ref,
        challenger.policy.ref,
        when.isoformat(),
        total,
        decided,
        dict(matrix),
        dict(gained),
        dict(lost),
        changed,
        tuple(picked),
        tuple(errors),
        {side: dict(kinds) for side, kinds in ignored.items() if kinds},
    )


def _structure(item: Row | Case | Mapping[str, Any], kinds: Sequence[str], *, ignore: bool) -> Case:
    """A case from one item; with ``ignore``, the item's own signal kinds are let through
    (both engines then ignore those neither policy knows, and count them)."""
    if isinstance(item, Case):
        return item
    source: str | None = None
    data: Mapping[str, Any]
    if isinstance(item, Row):
        if item.error is not None:
            raise item.error
        if item.data is None:
            raise InputError([], subject=item.where)
        source, data = item.where, item.data
    else:
        data = item
    allowed = list(kinds)
    items = data.get("signals") if isinstance(data, Mapping) else None
    if ignore and isinstance(items, list):
        allowed += [
            i["kind"] for i in items if isinstance(i, Mapping) and isinstance(i.get("kind"), str)
        ]
    return Case.from_dict(data, signal_kinds=tuple(dict.fromkeys(allowed)), source=source)


#: The quadrants in order, for printing matrices.
QUADRANTS: tuple[str, ...] = tuple(q.value for q in Quadrant)
