"""Policy invariants for a user's own tests: completeness, monotonic severity, the
quadrant envelopes and coherence with the timeline.

``check_complete(policy)`` fails when some case gets no value from a single-result
layer (a *gap*: no rule matches and the layer has no default) or matches several
rules of a ``unique`` layer (an *overlap*). ``check_monotonic(policy)`` fails when
making a case worse (one more negative willingness signal, one more negative ability
signal, or a measured ability signal moving the bad way) yields a softer quadrant or
allows fewer coercive remedies.

Both fail with an :class:`InvariantViolation` (an ``AssertionError``) that holds a
concrete counterexample: a case, as JSON-ready data, that reproduces the problem
through ``Engine.decide`` at the given ``as_of``. Each counterexample is run through
the engine before it is reported.

How they search: every field the rules read is cut at every threshold they mention,
which splits its range into classes that every rule treats alike (see
:func:`collectrules.testing.strategies.boundary_values` for the values at the edges).
The checks then walk the layers in order. A layer's inputs are combined class by class,
exhaustively; its output replaces them, so that the next layer only sees the distinct
outcomes. This is exact and quick for layered policies such as the shipped ones. Where
one layer's inputs would combine into more than ``max_cells`` cells, that layer is
checked on a fixed pseudo-random sample of ``max_cells`` cells instead, and a clean
result is then evidence, not proof.

When the verifier (:mod:`collectrules.authoring.verify`) is installed, its findings of the same
kinds are reported too.

``check_coherent(policy)`` fails when a timeline step that performs a remedy (the lawsuit
step, a visit, a reminder) is open, late or breached while the decision of the same case
at the same ``as_of`` does not allow that remedy; ``check_envelopes(policy)`` when a rule
not marked ``overrides_quadrant`` grants a remedy outside the envelope of the case's
quadrant. Both are the verifier's checks (:func:`~collectrules.authoring.verify.
verify_coherence`), each finding with its case and ``as_of``; see docs/coherence.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from collectrules._arguments import require_instance, require_mapping, wrong_kind
from collectrules._decimal import exact
from collectrules.authoring.verify import (
    REFERENCE_AS_OF,
    VerificationReport,
    verify,
    verify_coherence,
)
from collectrules.engine import display_facts
from collectrules.engine.compiled import CompiledPolicy, resolve_remedies
from collectrules.errors import CollectRulesError, FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import Case
from collectrules.model.decision import Decision, Quadrant
from collectrules.model.time import require_aware
from collectrules.policy import HitPolicy, Layer, Policy
from collectrules.testing import _space
from collectrules.testing._policies import engine_for, resolve_policy

__all__ = [
    "MEASURED_WORSE",
    "CheckResult",
    "Counterexample",
    "InvariantViolation",
    "check_coherent",
    "check_complete",
    "check_envelopes",
    "check_monotonic",
]

#: Which way each measured signal of the default vocabulary gets worse.
MEASURED_WORSE: Mapping[str, Literal["lower", "higher"]] = {
    "cash_coverage": "lower",
    "recovery_months": "higher",
}

PolicyLike = Policy | str | Path
Key = tuple[Any, ...]
Witness = tuple[tuple[str, Any], ...]
Cell = tuple[Key, Witness]
Pairs = dict[tuple[Key, Key], tuple[Witness, Witness, str]]
Method = Literal["both", "search", "verifier"]

_MAX_REPORTED = 5


# --------------------------------------------------------------------------- results


@attrs.frozen
class Counterexample:
    """One violation, with a case that reproduces it.

    ``case`` is the case as plain data (``Case.from_dict`` reads it back); for a
    monotonicity violation it is the case before the change and ``worse`` the case
    after it. ``facts`` are the facts the offending layer read (for a monotonicity
    violation, the non-zero parts of the case before the change). ``case`` is ``None``
    only when the violation needs a fact that no case controls. ``source`` says which
    search found it: ``"testing"`` (the kit's own) or ``"verify"`` (the verifier).
    """

    kind: str
    message: str
    as_of: str
    case: Mapping[str, Any] | None
    worse: Mapping[str, Any] | None = None
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    source: str = "testing"

    def describe(self) -> str:
        """The violation and its case(s), as text."""
        lines = [f"[{self.kind}] {self.message}"]
        if self.facts:
            lines.append("  facts: " + ", ".join(f"{k}={v}" for k, v in sorted(self.facts.items())))
        if self.case is not None:
            label = "case before" if self.worse is not None else "case"
            lines.append(f"  {label} (decide at {self.as_of}):")
            lines.append(_indent(json.dumps(self.case, indent=2, ensure_ascii=False)))
        if self.worse is not None:
            lines.append("  case after:")
            lines.append(_indent(json.dumps(self.worse, indent=2, ensure_ascii=False)))
        return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


@attrs.frozen
class CheckResult:
    """What a passing check covered: ``exhaustive`` is false when some layer was sampled
    (see ``max_cells``); ``cells`` counts the combinations evaluated."""

    policy: str
    exhaustive: bool
    cells: int


class InvariantViolation(AssertionError):
    """A policy invariant does not hold; ``counterexamples`` say where."""

    def __init__(
        self,
        what: str,
        policy: Policy,
        counterexamples: Sequence[Counterexample],
        *,
        exhaustive: bool,
    ) -> None:
        self.policy = require_instance(policy, Policy, "policy", "a Policy")
        if isinstance(counterexamples, str | bytes) or not isinstance(counterexamples, Iterable):
            raise wrong_kind("counterexamples", counterexamples, "a list of Counterexample")
        self.counterexamples = tuple(
            require_instance(c, Counterexample, "counterexamples[]", "a Counterexample")
            for c in counterexamples
        )
        self.exhaustive = exhaustive
        shown = self.counterexamples[:_MAX_REPORTED]
        more = len(self.counterexamples) - len(shown)
        shown_what = what if isinstance(what, str) else quote(what)
        lines = [
            f"policy {policy.ref} is not {shown_what}: {len(self.counterexamples)} violation(s)"
        ]
        lines += [c.describe() for c in shown]
        if more:
            lines.append(f"… and {more} more")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- the search


@attrs.define
class _Group:
    """Reachable combinations of some variables and layer outputs, each with a witness."""

    names: tuple[str, ...]
    table: dict[Key, Witness]
    pairs: Pairs = attrs.field(factory=dict)


@attrs.frozen
class _Step:
    """A change that makes a case worse: from class ``src`` to class ``dst`` of a variable."""

    var: str
    src: Any
    dst: Any
    before: Any
    after: Any
    label: str


class _Search:
    def __init__(
        self,
        policy: Policy,
        *,
        steps: Sequence[_Step] = (),
        final: bool,
        max_cells: int,
        fold: bool = True,
    ) -> None:
        self.policy = policy
        self.use_fold = fold
        self.vars = _space.variables(policy)
        self.field_var = _space.field_var(self.vars)
        self.outputs = {layer.output for layer in policy.layers}
        self.compiled = CompiledPolicy(policy)
        self.steps = steps
        self.final = final
        self.max_cells = max_cells
        self.exhaustive = True
        self.cells = 0
        self.rng = random.Random(0)
        self.findings: list[tuple[str, Layer, Witness, Mapping[str, Any], str]] = []
        self.final_group: _Group | None = None
        self.groups: list[_Group] = []
        self.fact_cache: dict[tuple[str, Any], dict[str, Any]] = {}
        self.counts: dict[tuple[str, str], int] = {}
        # The outcome of a monotonicity check (the quadrant and the coercive remedies
        # allowed) depends only on the remedy rules that name a coercive remedy: remedies
        # resolve one by one, so the others can be left out of the final stage.
        self.final_rules = [
            (rule, test)
            for rule, test in self.compiled.remedies
            if set(rule.remedies) & policy.coercive_remedies
        ]

    # -- names

    def names_of(self, fields: frozenset[str]) -> set[str]:
        names: set[str] = set()
        for field in fields:
            if field in self.outputs:
                names.add(field)
            elif field in self.field_var:
                names.add(self.field_var[field])
        return names

    def stage_inputs(self) -> list[set[str]]:
        stages = [
            self.names_of(frozenset().union(*(r.when.fields() for r in layer.rules)))
            for layer in self.policy.layers
        ]
        if self.final:
            fields = frozenset().union(*(r.when.fields() for r, _ in self.final_rules))
            stages.append(self.names_of(fields) | {"quadrant"})
        return stages

    def singleton(self, name: str) -> _Group:
        var = self.vars[name]
        table: dict[Key, Witness] = {(v,): ((name, v),) for v in var.domain}
        pairs: Pairs = {
            ((s.src,), (s.dst,)): (((name, s.before),), ((name, s.after),), s.label)
            for s in self.steps
            if s.var == name
        }
        return _Group((name,), table, pairs)

    # -- combining

    def combos(self, tables: Sequence[Sequence[Cell]]) -> Iterator[tuple[Cell, ...]]:
        size = 1
        for t in tables:
            size *= len(t)
        if size <= self.max_cells:
            self.cells += size
            yield from itertools.product(*tables)
            return
        self.exhaustive = False
        self.cells += self.max_cells
        for _ in range(self.max_cells):
            yield tuple(self.rng.choice(t) for t in tables)

    def run(self) -> None:
        groups: list[_Group] = []
        stages = self.stage_inputs()
        for index, inputs in enumerate(stages):
            later = set().union(*stages[index + 1 :]) if index + 1 < len(stages) else set()
            if self.final and index < len(stages) - 1:
                later.add("quadrant")
            touching = [g for g in groups if set(g.names) & inputs]
            present = {n for g in groups for n in g.names}
            touching += [self.singleton(n) for n in sorted(inputs - present) if n in self.vars]
            groups = [g for g in groups if g not in touching]
            if index < len(self.policy.layers):
                layer_index = index
                groups.append(self.stage(touching, later, layer_index))
            else:
                self.final_group = self.merge_final(touching)
        self.groups = groups

    def fill(self, witness: Witness) -> dict[str, Any]:
        """Values for the variables ``witness`` leaves out, taken from cells that every
        layer resolved, so that a counterexample fails only where it should."""
        named = {name for name, _ in witness}
        out: dict[str, Any] = {}
        for group in self.groups:
            cell = next(iter(group.table.values()), ())
            out.update((name, value) for name, value in cell if name not in named)
        return out

    def combine(
        self,
        groups: Sequence[_Group],
        evaluate: Callable[[Key, Callable[[], Witness]], Key | None],
    ) -> _Group:
        """Combine ``groups`` cell by cell, map each cell through ``evaluate``, and keep
        one witness per distinct result, and per distinct pair of results of a step."""
        tables = [list(g.table.items()) for g in groups]
        offsets: list[int] = []
        total = 0
        for g in groups:
            offsets.append(total)
            total += len(g.names)
        by_src: list[dict[Key, list[tuple[Key, Witness, Witness, str]]]] = []
        for g in groups:
            index: dict[Key, list[tuple[Key, Witness, Witness, str]]] = {}
            for (src, dst), (wsrc, wdst, label) in g.pairs.items():
                index.setdefault(src, []).append((dst, wsrc, wdst, label))
            by_src.append(index)
        table: dict[Key, Witness] = {}
        pairs: Pairs = {}
        chain = itertools.chain.from_iterable
        for parts in self.combos(tables):
            key = tuple(chain(k for k, _ in parts))

            def witness(parts: tuple[Cell, ...] = parts) -> Witness:
                return tuple(w for _, ws in parts for w in ws)

            out = evaluate(key, witness)
            if out is None:
                continue
            if out not in table:
                table[out] = witness()
            for i, (part, _) in enumerate(parts):
                for dst, wsrc, wdst, label in by_src[i].get(part, ()):
                    start, stop = offsets[i], offsets[i] + len(part)
                    after = key[:start] + dst + key[stop:]

                    def swapped(w: Witness, parts: tuple[Cell, ...] = parts, i: int = i) -> Witness:
                        return tuple(
                            x for j, (_, ws) in enumerate(parts) for x in (w if j == i else ws)
                        )

                    def after_witness(
                        w: Witness = wdst, f: Callable[[Witness], Witness] = swapped
                    ) -> Witness:
                        return f(w)

                    out_after = evaluate(after, after_witness)
                    if out_after is None or out_after == out or (out, out_after) in pairs:
                        continue
                    pairs[(out, out_after)] = (swapped(wsrc), swapped(wdst), label)
        return _Group((), table, pairs)

    def stage(self, groups: Sequence[_Group], keep: set[str], layer_index: int) -> _Group:
        layer, rules = self.compiled.layers[layer_index]
        names = tuple(n for g in groups for n in g.names)
        kept = [i for i, n in enumerate(names) if n in keep]
        owners = self.owners(groups, [rule for rule, _ in rules])
        if self.use_fold and owners is not None:
            return self.fold(groups, layer_index, owners, keep)
        memo: dict[Key, Key | None] = {}

        def evaluate(key: Key, witness: Callable[[], Witness]) -> Key | None:
            if key in memo:
                return memo[key]
            facts = self.facts(names, key)
            matched = [rule for rule, test in rules if test(facts)]
            value = self.resolve(layer, matched, facts, witness)
            out = None if value is None else (*(key[i] for i in kept), value)
            memo[key] = out
            return out

        group = self.combine(groups, evaluate)
        group.names = (*(names[i] for i in kept), layer.output)
        return group

    # -- folding a layer whose rules each read one group

    def owners(self, groups: Sequence[_Group], rules: Sequence[Any]) -> list[int | None] | None:
        """For each rule, the one group it reads (``None``: it reads nothing), or ``None``
        when some rule reads several groups."""
        out: list[int | None] = []
        for rule in rules:
            read = self.names_of(rule.when.fields())
            found = {i for i, g in enumerate(groups) if read & set(g.names)}
            if len(found) > 1:
                return None
            out.append(found.pop() if found else None)
        return out

    def fold(
        self,
        groups: Sequence[_Group],
        layer_index: int,
        owners: Sequence[int | None],
        keep: set[str],
    ) -> _Group:
        """Evaluate a layer group by group, keeping only a summary of the matches.

        The outcome of a layer depends on its matched rules only through a summary that
        combines across groups: the score of ``collect_sum``, the first match of
        ``first``, the best of ``priority``, the (up to two) matches of ``unique``. So
        the groups never multiply; their few distinct summaries do. A state is the
        values of the variables a later stage still reads (``keep``) with that summary,
        so those variables pass through the layer as they are.
        """
        layer, rules = self.compiled.layers[layer_index]
        algebra = _Summary(layer)
        start: Any = algebra.zero
        for index, (rule, test) in enumerate(rules):
            if owners[index] is None and test({}):
                start = algebra.add(start, index, rule)
        State = tuple[Key, Any]
        table: dict[State, Witness] = {((), start): ()}
        pairs: dict[tuple[State, State], tuple[Witness, Witness, str]] = {}

        def join(a: State, b: State) -> State:
            return (a[0] + b[0], algebra.combine(a[1], b[1]))

        for gi, group in enumerate(groups):
            local = [(i, rule, test) for i, (rule, test) in enumerate(rules) if owners[i] == gi]
            held = [i for i, n in enumerate(group.names) if n in keep]

            def summary(
                key: Key,
                group: _Group = group,
                local: list[tuple[int, Any, Any]] = local,
                held: list[int] = held,
            ) -> State:
                facts = self.facts(group.names, key)
                state = algebra.zero
                for i, rule, test in local:
                    if test(facts):
                        state = algebra.add(state, i, rule)
                return (tuple(key[i] for i in held), state)

            own: dict[State, Witness] = {}
            self.cells += len(group.table)
            for key, witness in group.table.items():
                own.setdefault(summary(key), witness)
            own_pairs: dict[tuple[State, State], tuple[Witness, Witness, str]] = {}
            for (src, dst), (wsrc, wdst, label) in group.pairs.items():
                sb, sa = summary(src), summary(dst)
                if sb != sa:
                    own_pairs.setdefault((sb, sa), (wsrc, wdst, label))
            new_table: dict[State, Witness] = {}
            new_pairs: dict[tuple[State, State], tuple[Witness, Witness, str]] = {}
            for state, witness in table.items():
                for other, owitness in own.items():
                    new_table.setdefault(join(state, other), witness + owitness)
                for (sb, sa), (wb, wa, label) in own_pairs.items():
                    b, a = join(state, sb), join(state, sa)
                    if b != a:
                        new_pairs.setdefault((b, a), (witness + wb, witness + wa, label))
            for (sb, sa), (wb, wa, label) in pairs.items():
                for other, owitness in own.items():
                    b, a = join(sb, other), join(sa, other)
                    if b != a:
                        new_pairs.setdefault((b, a), (wb + owitness, wa + owitness, label))
            table, pairs = new_table, new_pairs
        values: dict[State, str | None] = {}
        out_table: dict[Key, Witness] = {}
        for state, witness in table.items():
            value = self.resolve_summary(layer, algebra, state[1], witness)
            values[state] = value
            if value is not None:
                out_table.setdefault((*state[0], value), witness)
        out_pairs: Pairs = {}
        for (sb, sa), (wb, wa, label) in pairs.items():
            vb = values[sb] if sb in values else self.resolve_summary(layer, algebra, sb[1], wb)
            va = values[sa] if sa in values else self.resolve_summary(layer, algebra, sa[1], wa)
            after, before = (*sa[0], va), (*sb[0], vb)
            if vb is not None and va is not None and before != after:
                out_pairs.setdefault((before, after), (wb, wa, label))
        kept = tuple(n for g in groups for n in g.names if n in keep)
        return _Group((*kept, layer.output), out_table, out_pairs)

    def resolve_summary(
        self, layer: Layer, algebra: _Summary, state: Any, witness: Witness
    ) -> str | None:
        matched = algebra.matched(state)
        names = tuple(name for name, _ in witness)
        facts = self.facts(names, tuple(value for _, value in witness))
        if layer.hit_policy is HitPolicy.COLLECT_SUM:
            return self.resolve(layer, [], facts, lambda: witness, score=float(state))
        return self.resolve(layer, matched, facts, lambda: witness)

    def merge_final(self, groups: Sequence[_Group]) -> _Group:
        """Combine the final stage's inputs into outcomes: each key is a distinct
        ``(quadrant, coercive remedies allowed)``, each pair a distinct change of it."""
        names = tuple(n for g in groups for n in g.names)
        memo: dict[Key, Key] = {}

        def evaluate(key: Key, witness: Callable[[], Witness]) -> Key:
            out = memo.get(key)
            if out is None:
                out = memo[key] = self.outcome(names, key)
            return out

        group = self.combine(groups, evaluate)
        group.names = ("quadrant", "coercive")
        return group

    # -- evaluating

    def facts(self, names: Sequence[str], key: Key) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        cache = self.fact_cache
        for name, value in zip(names, key, strict=True):
            part = cache.get((name, value))
            if part is None:
                var = self.vars.get(name)
                part = var.facts(value) if var is not None else {name: value}
                cache[(name, value)] = part
            facts.update(part)
        return facts

    def resolve(
        self,
        layer: Layer,
        matched: Sequence[Any],
        facts: Mapping[str, Any],
        witness: Callable[[], Witness],
        *,
        score: float | None = None,
    ) -> str | None:
        if layer.hit_policy is HitPolicy.COLLECT_SUM:
            if score is None:
                score = sum(r.score for r in matched)
            value = layer.default
            for minimum, band in sorted(layer.bands):
                if score >= minimum:
                    value = band
            if value is None:
                self.found(
                    "gap",
                    layer,
                    witness,
                    facts,
                    f"score {score:g} reaches no band and there is no default",
                )
            return value
        if not matched:
            if layer.default is None:
                self.found(
                    "gap", layer, witness, facts, "no rule matches and the layer has no default"
                )
            return layer.default
        if layer.hit_policy is HitPolicy.UNIQUE and len(matched) > 1:
            ids = ", ".join(r.id for r in matched)
            self.found("overlap", layer, witness, facts, f"several rules match: {ids}")
            return None
        if layer.hit_policy is HitPolicy.PRIORITY:
            order = {r.id: i for i, r in enumerate(layer.rules)}
            winner = max(matched, key=lambda r: (r.priority, -order[r.id]))
            return str(winner.value)
        return str(matched[0].value)

    def found(
        self,
        kind: str,
        layer: Layer,
        witness: Callable[[], Witness],
        facts: Mapping[str, Any],
        detail: str,
    ) -> None:
        # A few cells of each kind and layer are enough to report (and to confirm).
        count = self.counts.get((kind, layer.id), 0)
        if count < 3:
            self.findings.append((kind, layer, witness(), dict(facts), detail))
        self.counts[(kind, layer.id)] = count + 1

    def outcome(self, names: Sequence[str], key: Key) -> tuple[Quadrant, frozenset[str]]:

        facts = self.facts(names, key)
        matched = [rule for rule, test in self.final_rules if test(facts)]
        allowed, _, _ = resolve_remedies(self.policy, matched)
        coercive = frozenset(g.remedy for g in allowed if g.remedy in self.policy.coercive_remedies)
        return Quadrant(facts["quadrant"]), coercive


class _Summary:
    """What a layer's outcome needs to know of its matched rules, for one hit policy."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.hit = layer.hit_policy
        self.rules = layer.rules
        self.zero: Any = {
            HitPolicy.COLLECT_SUM: 0.0,
            HitPolicy.FIRST: len(layer.rules),
            HitPolicy.PRIORITY: None,
            HitPolicy.UNIQUE: (),
        }[self.hit]

    def add(self, state: Any, index: int, rule: Any) -> Any:
        if self.hit is HitPolicy.COLLECT_SUM:
            return state + float(rule.score)
        if self.hit is HitPolicy.FIRST:
            return min(state, index)
        if self.hit is HitPolicy.PRIORITY:
            return self.combine(state, (rule.priority, -index))
        return self.combine(state, (index,))

    def combine(self, a: Any, b: Any) -> Any:
        if self.hit is HitPolicy.COLLECT_SUM:
            return a + b
        if self.hit is HitPolicy.FIRST:
            return min(a, b)
        if self.hit is HitPolicy.PRIORITY:
            if a is None or b is None:
                return b if a is None else a
            return max(a, b)
        return tuple(sorted(set(a) | set(b)))[:2]

    def matched(self, state: Any) -> list[Any]:
        """Rules standing for the matches (all that matter to the outcome)."""
        if self.hit is HitPolicy.COLLECT_SUM:
            return []
        if self.hit is HitPolicy.FIRST:
            return [] if state >= len(self.rules) else [self.rules[state]]
        if self.hit is HitPolicy.PRIORITY:
            return [] if state is None else [self.rules[-state[1]]]
        return [self.rules[i] for i in state]


# --------------------------------------------------------------------------- helpers


def _layer_facts(policy: Policy, layer: Layer, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the layer reads, money back in major units."""
    read = frozenset().union(*(r.when.fields() for r in layer.rules))
    return display_facts(policy, {k: v for k, v in facts.items() if k in read})


def _case_data(
    policy: Policy, witness: Witness, as_of: dt.datetime, fill: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The witness as case data; ``fill`` gives the variables the witness leaves out."""
    case = _space.build_case(policy, {**(fill or {}), **dict(witness)}, as_of=as_of)
    return None if case is None else case.to_dict()


def _reproduces(
    policy: Policy, data: Mapping[str, Any] | None, as_of: dt.datetime, test: Callable[[Any], bool]
) -> bool:
    """Whether the engine confirms the violation on ``data`` (``None``: cannot tell)."""
    if data is None:
        return True
    case = Case.from_dict(data, signal_kinds=tuple(policy.signals))
    try:
        decision = engine_for(policy).decide(case, as_of=as_of)
    except CollectRulesError as exc:
        return test(exc)
    return test(decision)


def _softer(before: Decision, after: Decision, coercive: frozenset[str]) -> bool:
    """Whether ``after`` is softer than ``before``: a quadrant or coercive remedies lost."""
    qb, qa = before.quadrant, after.quadrant
    lost = (before.allowed_remedies - after.allowed_remedies) & coercive
    return (qa.willing and not qb.willing) or (qa.able and not qb.able) or bool(lost)


def _confirm_softer(
    policy: Policy,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    as_of: dt.datetime,
) -> bool:
    """Whether the engine confirms that the worse case is decided more softly."""
    if before is None or after is None:
        return True
    kinds = tuple(policy.signals)
    engine = engine_for(policy)
    try:
        return _softer(
            engine.decide(Case.from_dict(before, signal_kinds=kinds), as_of=as_of),
            engine.decide(Case.from_dict(after, signal_kinds=kinds), as_of=as_of),
            policy.coercive_remedies,
        )
    except CollectRulesError:  # the case fails elsewhere (a gap): not this violation
        return False


@functools.lru_cache(maxsize=16)
def _report(policy: Policy, as_of: str) -> VerificationReport:
    """The verifier's report, shared by both checks of one policy at one instant."""

    return verify(policy, as_of=as_of)


def _verifier_findings(
    policy: Policy, kinds: frozenset[str], as_of: str, covered: set[tuple[str, str | None]]
) -> list[Counterexample]:
    """The verifier's findings of ``kinds``, except those the search already reported
    (same kind and layer; for monotonicity, same kind)."""
    out: list[Counterexample] = []
    for finding in _report(policy, as_of).findings:
        kind = finding.kind.value
        layer = None if kind == "monotonicity" else finding.layer
        if kind not in kinds or (kind, layer) in covered:
            continue
        example = finding.counterexample
        case = worse = None
        if example is not None:
            case, worse = dict(example.case), None
            if example.before is not None:  # the verifier's `case` is the case after
                case, worse = dict(example.before), dict(example.case)
        out.append(
            Counterexample(
                kind=kind,
                message=finding.message,
                as_of=as_of,
                case=case,
                worse=worse,
                source="verify",
            )
        )
    return out


def _check_args(max_cells: int, as_of: dt.datetime | str | None, method: str) -> dt.datetime:
    if method not in ("both", "search", "verifier"):
        msg = f"expected 'both', 'search' or 'verifier', got {quote(method)}"
        raise InputError([FieldProblem("method", msg)])
    if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
        raise InputError(
            [FieldProblem("max_cells", f"expected a positive whole number, got {quote(max_cells)}")]
        )
    when: dt.datetime = _space.DEFAULT_AS_OF if as_of is None else require_aware(as_of)
    return when


# --------------------------------------------------------------------------- the checks


@exact
def check_complete(
    policy: PolicyLike,
    *,
    as_of: dt.datetime | str | None = None,
    max_cells: int = 200_000,
    method: Method = "both",
) -> CheckResult:
    """Fail unless every case gets exactly one value from every single-result layer.

    A *gap* is a case for which a layer with no default matches no rule (or, for a
    ``collect_sum`` layer with no default, scores below every band); an *overlap* is a
    case that matches several rules of a ``unique`` layer. Each is reported with a
    case that reproduces it through ``Engine.decide`` at ``as_of``.

    ``method`` is ``"search"`` (the kit's own search), ``"verifier"`` (the findings of
    :func:`collectrules.authoring.verify.verify`) or ``"both"``, the default: two independent
    searches, each finding reported once.

    Raises :class:`InvariantViolation`; returns a :class:`CheckResult` when the policy
    is complete.
    """
    when = _check_args(max_cells, as_of, method)
    resolved = resolve_policy(policy)
    found: list[Counterexample] = []
    covered: set[tuple[str, str | None]] = set()
    exhaustive, cells = True, 0
    if method != "verifier":
        search = _Search(resolved, final=False, max_cells=max_cells)
        search.run()
        exhaustive, cells = search.exhaustive, search.cells
        by_place: dict[tuple[str, str], list[tuple[Layer, Witness, Mapping[str, Any], str]]] = {}
        for kind, layer, witness, facts, detail in search.findings:
            by_place.setdefault((kind, layer.id), []).append((layer, witness, facts, detail))
        for (kind, layer_id), candidates in by_place.items():
            named = f"layer {quote(layer_id)}"

            def shows(result: Any, named: str = named) -> bool:
                return isinstance(result, CollectRulesError) and named in str(result)

            # The first cell whose case the engine stops at this very layer; failing
            # that (another layer fails first on every one), the first cell, said so.
            chosen, note = candidates[0], " (the case shown stops at another layer first)"
            for cell in candidates:
                if _reproduces(
                    resolved, _case_data(resolved, cell[1], when, search.fill(cell[1])), when, shows
                ):
                    chosen, note = cell, ""
                    break
            layer, witness, facts, detail = chosen
            covered.add((kind, layer_id))
            article = "a" if kind == "gap" else "an"
            message = (
                f"{named} (hit policy {layer.hit_policy.value}) has {article} {kind}: "
                f"{detail}{note}"
            )
            found.append(
                Counterexample(
                    kind=kind,
                    message=message,
                    as_of=when.isoformat(),
                    case=_case_data(resolved, witness, when, search.fill(witness)),
                    facts=_layer_facts(resolved, layer, facts),
                )
            )
    if method != "search":
        found += _verifier_findings(
            resolved, frozenset({"gap", "overlap"}), when.isoformat(), covered
        )
    if found:
        raise InvariantViolation("complete", resolved, found, exhaustive=exhaustive)
    return CheckResult(resolved.ref, exhaustive, cells)


def _steps(
    policy: Policy, variables: Mapping[str, _space.Var], worse: Mapping[str, str]
) -> list[_Step]:
    steps: list[_Step] = []
    for name, var in variables.items():
        spec = policy.signals.get(name)
        if spec is None:
            continue
        if var.kind == "count" and spec.polarity == "negative":
            for i in range(len(var.domain) - 1):
                steps.append(
                    _Step(
                        name,
                        var.domain[i],
                        var.domain[i + 1],
                        var.upper[i],
                        var.domain[i + 1],
                        f"one more {quote(name)} signal",
                    )
                )
        elif var.kind == "measured" and name in worse and spec.dimension == "ability":
            present = var.domain[1:]
            for i, low in enumerate(present):
                for high in present[i + 1 :]:
                    src, dst = (high, low) if worse[name] == "lower" else (low, high)
                    steps.append(
                        _Step(name, src, dst, src, dst, f"{name} moves from {src} to {dst}")
                    )
    return steps


@exact
def check_monotonic(
    policy: PolicyLike,
    *,
    as_of: dt.datetime | str | None = None,
    measured_worse: Mapping[str, Literal["lower", "higher"]] | None = None,
    max_cells: int = 200_000,
    method: Method = "both",
) -> CheckResult:
    """Fail if making a case worse ever softens its quadrant or its coercive remedies.

    A case gets worse by one more negative willingness signal, one more negative
    ability signal, or a measured ability signal moving the bad way:
    ``measured_worse`` maps a measured kind to ``"lower"`` or ``"higher"`` (default:
    :data:`MEASURED_WORSE`; kinds it does not name are left alone). Worse must never
    mean a softer quadrant (turning willing, or turning able) nor fewer coercive
    remedies allowed (pressure, litigation, asset investigation, outsourcing,
    transfer, write-off).

    Raises :class:`InvariantViolation` with the case before and after the change;
    returns a :class:`CheckResult` when the policy is monotonic.
    """
    when = _check_args(max_cells, as_of, method)
    resolved = resolve_policy(policy)
    if measured_worse is not None:
        expected = "a mapping of kinds to 'lower' or 'higher'"
        require_mapping(measured_worse, "measured_worse", expected)
    worse = dict(MEASURED_WORSE if measured_worse is None else measured_worse)
    bad = [k for k, v in worse.items() if v not in ("lower", "higher")]
    if bad:
        raise InputError(
            [FieldProblem(f"measured_worse.{k}", "expected 'lower' or 'higher'") for k in bad]
        )
    if measured_worse is not None:
        _check_measured(resolved, worse)
    found: list[Counterexample] = []
    exhaustive, cells = True, 0
    if method != "verifier":
        variables = _space.variables(resolved)
        search = _Search(
            resolved, steps=_steps(resolved, variables, worse), final=True, max_cells=max_cells
        )
        search.run()
        exhaustive, cells = search.exhaustive, search.cells
        found += _monotonic_findings(search, resolved, when)
    if method != "search":
        covered: set[tuple[str, str | None]] = {("monotonicity", None)} if found else set()
        found += _verifier_findings(
            resolved, frozenset({"monotonicity"}), when.isoformat(), covered
        )
    if found:
        raise InvariantViolation("monotonic", resolved, found, exhaustive=exhaustive)
    return CheckResult(resolved.ref, exhaustive, cells)


def _check_measured(policy: Policy, worse: Mapping[str, str]) -> None:
    """Refuse a kind of ``measured_worse`` that is not a measured ability signal of
    ``policy``: it would be left alone, and the check could then pass whatever the
    policy does with the kind meant (a misspelt ``cash_coverag``)."""
    measured = sorted(
        kind
        for kind, spec in policy.signals.items()
        if spec.measured and spec.dimension == "ability"
    )
    problems = []
    for kind in worse:
        if kind in measured:
            continue
        spec = policy.signals.get(kind)
        got = (
            "no signal of the policy"
            if spec is None
            else f"a {spec.polarity} {spec.dimension} signal"
        )
        problems.append(
            FieldProblem(
                f"measured_worse.{kind}",
                f"expected a measured ability signal of policy {quote(policy.id)} "
                f"({', '.join(measured) or 'it has none'}), got {got}",
                suggestion=did_you_mean(kind, measured) if spec is None else None,
            )
        )
    if problems:
        raise InputError(problems)


def _without_facts(witness: Witness) -> Witness:
    return tuple((k, v) for k, v in witness if not k.startswith("fact:"))


def _monotonic_findings(search: _Search, policy: Policy, when: dt.datetime) -> list[Counterexample]:
    found: list[Counterexample] = []
    confirmed: set[tuple[Witness, Witness]] = set()
    group = search.final_group
    if group is None:
        return found
    for ((qb, cb), (qa, ca)), (wb, wa, label) in group.pairs.items():
        problems = []
        if (qa.willing and not qb.willing) or (qa.able and not qb.able):
            problems.append(f"quadrant softens from {qb.value} to {qa.value}")
        lost = sorted(map(str, cb - ca))
        if lost:
            problems.append(f"coercive remedies no longer allowed: {', '.join(lost)}")
        if not problems:
            continue
        # Pairs that differ only in facts a case cannot set (an open emergency, assets
        # found) are confirmed on the same built cases: confirm each once.
        plain_pair = (_without_facts(wb), _without_facts(wa))
        if plain_pair in confirmed:
            continue
        confirmed.add(plain_pair)
        fill = search.fill(wb)
        before, after = _case_data(policy, wb, when, fill), _case_data(policy, wa, when, fill)
        if before is None or after is None:
            # A field a section computes (a bucket, a deadline, a step) was set freely:
            # the case built without it has the section compute it; keep that case when
            # the engine shows the violation on it.
            plain = {k: v for k, v in fill.items() if not k.startswith("fact:")}
            b2 = _case_data(policy, _without_facts(wb), when, plain)
            a2 = _case_data(policy, _without_facts(wa), when, plain)
            if b2 is not None and a2 is not None and _confirm_softer(policy, b2, a2, when):
                before, after = b2, a2
        if not _confirm_softer(policy, before, after, when):
            continue
        shown = {k: v for k, v in wb if v not in (0, None)}
        found.append(
            Counterexample(
                kind="monotonicity",
                message=f"{label}: {'; '.join(problems)}",
                as_of=when.isoformat(),
                case=before,
                worse=after,
                facts=shown,
            )
        )
    return found


# --------------------------------------------------------------------------- decision contents


def _contents_check(
    policy: PolicyLike, as_of: dt.datetime | str | None, *, envelopes: bool, what: str
) -> CheckResult:
    resolved = resolve_policy(policy)
    stamp = REFERENCE_AS_OF if as_of is None else require_aware(as_of).isoformat()
    report = verify_coherence(resolved, as_of=stamp, envelopes=envelopes, timeline=not envelopes)
    kind = "envelope" if envelopes else "coherence"
    found = [
        Counterexample(
            kind=kind,
            message=f.message,
            as_of=stamp if f.counterexample is None else f.counterexample.as_of,
            case=None if f.counterexample is None else dict(f.counterexample.case),
            facts={} if f.counterexample is None else dict(f.counterexample.expect),
            source="verify",
        )
        for f in report.findings
        if f.kind.value == kind
    ]
    if found:
        raise InvariantViolation(what, resolved, found, exhaustive=True)
    return CheckResult(resolved.ref, True, len(report.findings))


@exact
def check_coherent(policy: PolicyLike, *, as_of: dt.datetime | str | None = None) -> CheckResult:
    """Fail unless the decision never contradicts the timeline.

    Whenever a step of the stage plan that performs a remedy (its stage's ``remedy``)
    is open, late or breached, the decision of the same case at the same ``as_of`` must
    allow that remedy; a step held back (paused by a promise, skipped by its condition)
    shows its own reason and calls for nothing. Cases are built for every product whose
    plan has such a step, at every days-past-due value where a step or a fact changes,
    with the signals of each quadrant; ``as_of`` defaults to the verifier's reference
    instant.

    Raises :class:`InvariantViolation`, each counterexample with its case and ``as_of``
    (``facts`` names the step, its status and the remedy).
    """
    return _contents_check(policy, as_of, envelopes=False, what="coherent with its timeline")


@exact
def check_envelopes(policy: PolicyLike, *, as_of: dt.datetime | str | None = None) -> CheckResult:
    """Fail when a rule not marked ``overrides_quadrant`` grants a remedy outside the
    envelope of the case's quadrant (``[envelopes]``), and no block takes it away.

    Raises :class:`InvariantViolation`, each counterexample a case of that quadrant that
    gets the remedy (``facts`` names the quadrant and the remedy).
    """
    return _contents_check(policy, as_of, envelopes=True, what="inside its quadrant envelopes")
