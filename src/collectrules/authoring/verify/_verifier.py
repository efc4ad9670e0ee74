"""The search: the fact space explored one layer at a time, and how findings are kept."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

from collectrules.authoring.verify._cases import (
    build_case,
)
from collectrules.authoring.verify._findings import (
    MAX_STEPS,
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
from collectrules.policy import HitPolicy, Layer, Policy


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
        #: Each layer's conditions renamed to the worse world, per renaming.
        self._renamed: dict[tuple[int, tuple[tuple[str, str], ...]], list[Condition]] = {}
        self._folds: dict[str, _Fold] = {}
        self._remedy_cache: dict[Hashable, dict[Hashable, dict[str, Any]]] = {}

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
            kept = _in_any_world(live | set(ctx.outputs[: li + 1]))
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
                        new_env = {k: v for k, v in env.items() if k in kept}
                        for w, value in enumerate(outcomes):
                            new_env[layer.output + (_W1 if w else "")] = value
                        key = frozenset(new_env.items())
                        if key not in nxt:
                            nxt[key] = _Situation(new_env, {**sit.witness, **wit})
            except _Budget:
                self.report(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"layer {quote(layer.id)}: the search went past {MAX_STEPS} steps; "
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
            renamed_key = (li, tuple(sorted(w1.items())))
            renamed = self._renamed.get(renamed_key)
            if renamed is None:
                renamed = self._renamed[renamed_key] = [_rename(c, w1) for c in conds]
            world_conds.append(renamed)
        n = len(conds)
        # The outcomes depend only on the values of the fields the layer reads (and their
        # linked fields), so they are shared between situations, and between the
        # monotonicity runs of kinds that the layer does not read.
        near = reads | {ctx.links[f] for f in reads if f in ctx.links}
        key: Hashable = None
        if not differs:
            key = (li, frozenset((k, v) for k, v in sit.env.items() if k in near))
        elif varied is None or not any(_base(f) in reads for f in varied.fields):
            near_any = _in_any_world(near)
            key = (li, "pair", frozenset((k, v) for k, v in sit.env.items() if k in near_any))
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
                out.append((f"layer {quote(layer.id)}", ", ".join(bad)))
        bad = ctx.unsupported(
            set().union(*(c.fields() for c in ctx.remedy_conds)) if ctx.remedy_conds else set()
        )
        if bad:
            out.append(("remedies", ", ".join(bad)))
        return out
