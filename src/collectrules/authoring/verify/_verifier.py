"""The search: the fact space explored one layer at a time, and how findings are kept."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from collectrules.authoring.verify._cases import (
    build_case,
)
from collectrules.authoring.verify._findings import (
    MAX_SITUATIONS,
    Counterexample,
    Finding,
    FindingKind,
    Severity,
)
from collectrules.authoring.verify._folds import (
    _Budget,
    _FirstFold,
    _Fold,
    _Parts,
    _PriorityFold,
    _SumFold,
    _UniqueFold,
)
from collectrules.authoring.verify._reproduce import (
    _check,
    _decide,
)
from collectrules.authoring.verify._space import (
    _W1,
    _base,
    _Context,
    _describe,
    _in_any_world,
    _Situation,
)
from collectrules.authoring.verify._values import (
    _rename,
)
from collectrules.conditions import (
    Condition,
)
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, InputError, quote
from collectrules.model.decision import Decision
from collectrules.model.remedies import Remedy
from collectrules.policy import HitPolicy, Layer, Policy

#: At most this many cases carrying a history of events are decided to confirm one
#: finding whose facts only events give (:meth:`._space._Context.realizations`).
MAX_REALIZED = 24


def _taken(items: list[_Situation]) -> Iterator[_Situation]:
    """The items in order, each taken out of the list as it is given."""
    items.reverse()
    while items:
        yield items.pop()


@attrs.frozen
class _LayerPlan:
    """What a layer reads, what its outcomes depend on, and what outlives it."""

    #: The fields the layer's conditions read.
    reads: frozenset[str]
    #: The upstream outputs among them, which may differ between two worlds.
    outputs_read: tuple[str, ...]
    #: The reads and their linked fields.
    near: frozenset[str]
    #: The same, in either world.
    near_any: frozenset[str]
    #: Every field of a situation that the layer's search can depend on, in either world:
    #: the reads, their linked fields, and the probe group when the layer reads one of
    #: its fields (a probe joins them all).
    depends: frozenset[str]
    #: The fields a situation carries past the layer, in either world.
    kept: frozenset[str]

    @classmethod
    def of(cls, ctx: _Context, li: int) -> _LayerPlan:
        reads: set[str] = set()
        for cond in ctx.layer_conds[li]:
            reads |= cond.fields()
        near = reads | {ctx.links[f] for f in reads if f in ctx.links}
        depends = set(near)
        if depends & ctx.group:
            depends |= ctx.group | {ctx.links[f] for f in ctx.group if f in ctx.links}
        return cls(
            reads=frozenset(reads),
            outputs_read=tuple(o for o in ctx.outputs if o in reads),
            near=frozenset(near),
            near_any=_in_any_world(near),
            depends=_in_any_world(depends),
            kept=_in_any_world(ctx.live_after[li] | set(ctx.outputs[: li + 1])),
        )


@attrs.frozen
class _Way:
    """One way through a layer from a situation: what it adds to the situation."""

    #: The live fields that the layer's search set, then the layer's value per world.
    env: Mapping[str, Any]
    #: The same, as a set of items (situations are told apart by their items).
    items: frozenset[tuple[str, Any]]
    #: The values that the search chose, for the witness.
    witness: Mapping[str, Any]

    @classmethod
    def of(
        cls, live: Mapping[str, Any], values: Mapping[str, str], witness: Mapping[str, Any]
    ) -> _Way:
        env = {**live, **values}
        return cls(env, frozenset(env.items()), witness)


@attrs.frozen
class _LayerOutcomes:
    """A layer searched from the values of the fields it reads."""

    #: Every (joint value of the outer fields, witness, summary per world) found.
    found: tuple[tuple[Mapping[str, Any], Mapping[str, Any], tuple[Any, ...]], ...]
    #: The steps the search took.
    steps: int
    #: Per entry of ``found``: the layer's value (or failure) per world.
    values: tuple[tuple[str | tuple[str, ...], ...], ...]
    #: Per entry of ``found``, searched in one world: its way through, ``None`` when the
    #: layer fails (empty when searched in two worlds).
    single: tuple[_Way | None, ...]
    #: The distinct ways through in two worlds, in order, failures left out.
    paired: tuple[_Way, ...]


@attrs.frozen
class _RemedyOutcomes:
    """The coercive remedies that the two worlds allow, searched from the values of the
    fields the coercive rules read."""

    #: Every (remedies allowed per world, remedies the worse world loses, witness).
    every: tuple[tuple[tuple[frozenset[Remedy], ...], tuple[Remedy, ...], Mapping[str, Any]], ...]
    #: Those that lose a remedy.
    losing: tuple[tuple[tuple[frozenset[Remedy], ...], tuple[Remedy, ...], Mapping[str, Any]], ...]
    #: The steps the search took.
    steps: int

    @classmethod
    def of(
        cls, found: Mapping[Hashable, Mapping[str, Any]], *, allow_wins: bool, steps: int
    ) -> _RemedyOutcomes:
        """From the search's summaries (remedies granted and blocked, per world)."""
        order = list(Remedy)
        every = []
        for summary, wit in found.items():
            assert isinstance(summary, tuple)
            allowed = tuple(g if allow_wins else g - b for g, b in summary)
            lost = tuple(sorted(allowed[0] - allowed[1], key=order.index))
            every.append((allowed, lost, wit))
        return cls(tuple(every), tuple(e for e in every if e[1]), steps)


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
        self.plans = [_LayerPlan.of(self.ctx, li) for li in range(len(self.ctx.layers))]
        self._cache: dict[Hashable, _LayerOutcomes] = {}
        #: Each layer's conditions renamed to the worse world, per renaming.
        self._renamed: dict[tuple[int, tuple[tuple[str, str], ...]], list[Condition]] = {}
        self._folds: dict[str, _Fold] = {}
        self._remedy_cache: dict[Hashable, _RemedyOutcomes] = {}

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
            try:
                cx = self._counterexample(witness, expect, paired=paired)
            except InputError as exc:
                # A witness no case can carry (a date outside the years a case holds,
                # more signals than a case carries): no case confirms the finding, so it
                # is held as unconfirmed, as one a case refused is.
                fields = ", ".join(sorted({p.path.removeprefix("witness.") for p in exc.problems}))
                where = (layer or "remedies", fields)
                self.unconfirmed.setdefault(where, []).append(f"{kind}: {message}")
                return
            tainted = (
                self.ctx.unsupported(witness)
                + self.ctx.event_fields(witness)
                + sorted(f for f in witness if _base(f) in self.ctx.probed)
            )
            if self.confirm and self.engine() is not None:
                confirmed = _check(self.policy, cx, self.decide)
                if not confirmed:
                    # Facts that only events give were chosen freely: a case carrying a
                    # history of events that gives them shows the finding, if one does.
                    realized = itertools.islice(self.ctx.realizations(witness), MAX_REALIZED)
                    for full in realized:
                        try:
                            shown = self._counterexample(full, expect, paired=paired)
                        except InputError:
                            continue
                        if _check(self.policy, shown, self.decide):
                            cx, confirmed = shown, True
                            break
                if not confirmed:
                    # Only a field the verifier cannot set should make this happen; if
                    # not, it is a defect of the verifier, reported rather than raised.
                    fields = ", ".join(tainted) if tainted else "(none: a verifier defect)"
                    where = (layer or "remedies", fields)
                    self.unconfirmed.setdefault(where, []).append(f"{kind}: {message}")
                    return
        self.findings.append(Finding(kind, severity, message, tuple(rule_ids), cx, layer))

    def _counterexample(
        self, witness: Mapping[str, Any], expect: Mapping[str, Any], *, paired: bool
    ) -> Counterexample:
        """The case (a pair of cases, when ``paired``) carrying the witness's values."""
        if paired:
            before = self.case_dict(witness, "")
            after = self.case_dict(witness, _W1)
            after["case_id"] = before["case_id"] + "-after"
            return Counterexample(after, self.ctx.as_of, expect, before)
        return Counterexample(self.case_dict(witness), self.ctx.as_of, expect)

    def run(
        self,
        worlds: int,
        *,
        start: tuple[int, Sequence[_Situation]] | None = None,
    ) -> tuple[list[list[_Situation]], list[_Situation]] | None:
        """Propagate the reachable situations through every layer.

        ``start`` is the first layer to search and the situations that reach it (by
        default: every layer, from one situation that knows nothing). Returns the
        situations that reach each layer from there on (in one world; in two, nothing
        keeps them, and each is let go as soon as its ways through the layer are taken,
        so that the search holds little more than one layer) and those that leave the
        last one, or ``None`` when the search budget ran out.
        """
        ctx = self.ctx
        per_layer: list[list[_Situation]] = []
        first, reaching = start if start is not None else (0, [_Situation({}, {})])
        situations = list(reaching)
        for li in range(first, len(ctx.layers)):
            layer = ctx.layers[li]
            per_layer.append(situations if worlds == 1 else [])
            kept = self.plans[li].kept
            nxt: dict[Hashable, _Situation] = {}
            try:
                for sit in situations if worlds == 1 else _taken(situations):
                    # What a situation carries past the layer is the same for each of its
                    # ways through it; a way adds the fields it set and the layer's value.
                    env, carried_items = sit.env, sit.items
                    dropped = env.keys() - kept
                    if dropped:
                        env = {k: v for k, v in env.items() if k in kept}
                        carried_items = carried_items.difference((k, sit.env[k]) for k in dropped)
                    for way in self.layer_outcomes(li, sit, worlds):
                        ctx.take_ways(1)
                        items = carried_items | way.items
                        if items not in nxt:
                            if len(nxt) >= MAX_SITUATIONS:
                                raise _Budget(f"{MAX_SITUATIONS} situations reaching one layer")
                            nxt[items] = _Situation(
                                {**env, **way.env}, {**sit.witness, **way.witness}, items
                            )
            except _Budget as exc:
                self.report(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"layer {quote(layer.id)}: the search went past {exc.what}; "
                    "the layer and those after it were not verified",
                    layer=layer.id,
                )
                return None
            situations = list(nxt.values())
            if worlds == 1:
                self.situation_counts.append(len(situations))
        return per_layer, situations

    def layer_outcomes(self, li: int, sit: _Situation, worlds: int) -> Iterator[_Way]:
        """For one situation: every way through the layer, with the layer's value per
        world (those that fail the layer are reported, in one world, and left out)."""
        ctx = self.ctx
        plan = self.plans[li]
        layer = ctx.layers[li]
        conds = ctx.layer_conds[li]
        env = sit.env
        varied = ctx.varied
        reads_varied = (
            worlds == 2
            and varied is not None
            and any(_base(f) in plan.reads for f in varied.fields)
        )
        differs = reads_varied or (
            worlds == 2 and any(env.get(o) != env.get(o + _W1) for o in plan.outputs_read)
        )
        # The outcomes depend only on the values of the fields the layer reads (and their
        # linked fields), so they are shared between situations, and between the
        # monotonicity runs of kinds that the layer does not read. Those of a layer that
        # reads the run's kind are shared within the run, and each use of them counts
        # the steps their search took (``_Context.charge``), as a search for each
        # situation would.
        key: Hashable
        if not differs:
            key = (li, frozenset((k, env[k]) for k in plan.near if k in env))
        elif not reads_varied:
            key = (li, "pair", frozenset((k, env[k]) for k in plan.near_any if k in env))
        else:
            assert varied is not None
            key = (
                li,
                "varied",
                varied.kind,
                frozenset((k, env[k]) for k in plan.depends if k in env),
            )
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self.search_layer(li, env, differs=differs)
        elif reads_varied:
            ctx.charge(cached.steps)
        if worlds == 2:
            yield from cached.paired
            return
        for (combo, wit, summary), values, way in zip(
            cached.found, cached.values, cached.single, strict=True
        ):
            if way is None:
                self.failed_layers.add(li)
                for value in values:
                    if not isinstance(value, str):
                        self.report_failure(
                            layer,
                            conds,
                            value,
                            {**env, **combo},
                            {**sit.witness, **combo, **wit},
                            {**sit.witness, **combo},
                        )
                continue
            value = values[0]
            assert isinstance(value, str)
            self.values[li].add(value)
            ordered = layer.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY)
            if ordered and summary[0] is not None:
                self.winners[li].add(summary[0])
            yield way

    def search_layer(self, li: int, env: Mapping[str, Any], *, differs: bool) -> _LayerOutcomes:
        """Search layer ``li`` from ``env``: in both worlds when they ``differs`` there
        (the conditions renamed to the worse world), else in one."""
        ctx = self.ctx
        layer = ctx.layers[li]
        conds = ctx.layer_conds[li]
        steps = ctx.steps
        world_conds: list[list[Condition]] = [list(conds)]
        if differs:
            w1 = self._w1_mapping()
            renamed_key = (li, tuple(sorted(w1.items())))
            renamed = self._renamed.get(renamed_key)
            if renamed is None:
                renamed = self._renamed[renamed_key] = [_rename(c, w1) for c in conds]
            world_conds.append(renamed)
        n = len(conds)
        all_reads: set[str] = set()
        for wc in world_conds:
            for c in wc:
                all_reads |= c.fields()
        live = ctx.live_after[li]
        outer = {f for f in all_reads if f not in env and _base(f) in live}
        fold = _Parts([(self.layer_fold(layer), n) for _ in world_conds])
        indexed = [(w * n + i, c) for w, wc in enumerate(world_conds) for i, c in enumerate(wc)]
        found: list[tuple[dict[str, Any], dict[str, Any], tuple[Any, ...]]] = []
        for combo in ctx.combos(outer, env):
            for summary, wit in ctx.explore(indexed, fold, {**env, **combo}).items():
                assert isinstance(summary, tuple)
                found.append((combo, wit, summary))
                ctx.keep_outcomes(1)
        # Each way once, as the situations of the next layer take it: the live fields
        # the search set, then the layer's value, in each world.
        kept = self.plans[li].kept
        values = [tuple(self.resolve(layer, s) for s in summary) for _, _, summary in found]
        single: list[_Way | None] = []
        paired: dict[frozenset[tuple[str, Any]], _Way] = {}
        for (combo, wit, _), outcome in zip(found, values, strict=True):
            names = [v for v in outcome if isinstance(v, str)]
            if len(names) < len(outcome):
                if not differs:
                    single.append(None)
                continue
            live_set = {k: v for k, v in combo.items() if k in kept}
            witness = {**combo, **wit}
            if not differs:
                single.append(_Way.of(live_set, {layer.output: names[0]}, witness))
                names.append(names[0])
            way = _Way.of(live_set, {layer.output: names[0], layer.output + _W1: names[1]}, witness)
            paired.setdefault(way.items, way)
        return _LayerOutcomes(
            tuple(found),
            ctx.steps - steps,
            tuple(values),
            tuple(single),
            tuple(paired.values()),
        )

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
                    f"layer {quote(layer.id)}: a score of {outcome[1]} reaches no band and the "
                    f"layer has no default ({region})"
                )
            else:
                message = (
                    f"layer {quote(layer.id)}: no rule matches "
                    f"and the layer has no default ({region})"
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
                    f"layer {quote(layer.id)} is unique, but "
                    f"rules {quote(a)} and {quote(b)} both match "
                    f"({_describe(env, full, self.ctx, (conds[i], conds[j]))})",
                    rule_ids=(a, b),
                    layer=layer.id,
                    witness=full,
                    expect={"error": "overlap", "layer": layer.id, "rules": [a, b]},
                    dedupe=key[1],
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

    def _w1_mapping(self) -> dict[str, str]:
        mapping = {o: o + _W1 for o in self.ctx.outputs}
        if self.ctx.varied is not None:
            for f in self.ctx.varied.fields:
                if not f.endswith(_W1):
                    mapping[f] = f + _W1
        return mapping

    def unsupported_layers(self, *, events: bool = False) -> list[tuple[str, str]]:
        """Per layer (and the remedies), the fields it reads that a built case cannot
        set; with ``events``, those that only a history of events sets."""
        out: list[tuple[str, str]] = []
        ctx = self.ctx
        pick = ctx.event_fields if events else ctx.unsupported
        stages = [
            (f"layer {quote(la.id)}", ctx.layer_conds[li]) for li, la in enumerate(ctx.layers)
        ]
        stages.append(("remedies", ctx.remedy_conds))
        for name, conds in stages:
            bad = pick(set().union(*(c.fields() for c in conds)) if conds else set())
            if bad:
                out.append((name, ", ".join(bad)))
        return out
