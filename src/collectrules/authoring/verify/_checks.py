"""The checks: citations, dead items, unreachable rules, remedies, monotonic severity."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from collectrules.authoring.verify._cases import (
    _show,
    _softer,
)
from collectrules.authoring.verify._coherence import check_coherence, check_envelopes
from collectrules.authoring.verify._findings import (
    Finding,
    FindingKind,
    Severity,
    VerificationReport,
)
from collectrules.authoring.verify._folds import (
    _Budget,
    _Parts,
    _RemedyFold,
    _SatFold,
)
from collectrules.authoring.verify._inventory import (
    _consumed_parameters,
    _own_names,
    _section_words,
)
from collectrules.authoring.verify._space import (
    _W1,
    _base,
    _Context,
    _describe,
    _in_any_world,
    _Situation,
    _Varied,
)
from collectrules.authoring.verify._values import (
    ABSENT,
    _leaf_holds,
    _rename,
)
from collectrules.authoring.verify._verifier import (
    _RemedyOutcomes,
    _Verifier,
)
from collectrules.errors import PolicyError, did_you_mean, quote
from collectrules.model.decision import Quadrant
from collectrules.model.remedies import Remedy
from collectrules.policy import ConflictRule, HitPolicy, Layer, Policy, RemedyEffect
from collectrules.policy import clauses as _clauses
from collectrules.policy.loader import PLACEHOLDER, locate


def check_citations(vf: _Verifier) -> None:
    try:
        known = _clauses.registry(vf.policy)
    except PolicyError as exc:
        for p in exc.problems:
            vf.report(FindingKind.CITATION, Severity.ERROR, str(p))
        known = _clauses.registry(None)
    for path, cid, rid in _clauses.citations(vf.policy.data):
        if cid in known:
            continue
        hint = known.suggest(cid)
        tail = f" (did you mean {quote(hint)}?)" if hint else ""
        # The file and line that write the citation, as a load error names them: a
        # rule's ``cites`` by its id, a table's by its path.
        key = path.rsplit(".", 1)[-1]
        in_rule = rid is not None and f"[{rid}]." in path
        source, line = locate(
            vf.policy, path, rule_id=rid if in_rule else None, key=key if in_rule else None
        )
        where = "" if source is None else f"{source}:{line}: " if line else f"{source}: "
        vf.report(
            FindingKind.CITATION,
            Severity.ERROR,
            f"{where}{path}: unknown clause {quote(cid)}{tail}; cite an id of DOMAIN.md or "
            "REGULATION.md, or declare it in the policy's [clauses] table",
            rule_ids=(rid,) if rid else (),
        )


def check_dead(vf: _Verifier) -> None:
    policy = vf.policy
    conds = [r.when for layer in policy.layers for r in layer.rules]
    conds += [r.when for r in policy.remedy_rules]
    used_params: set[str] = set()
    read: set[str] = set()
    for cond in conds:
        used_params |= cond.params()
        read |= cond.fields()
    for rule in policy.remedy_rules:  # a parameter a reason or condition shows, {name}
        for text in (rule.reason, *rule.conditions):
            used_params |= set(PLACEHOLDER.findall(text))
    words = _section_words(policy.data)
    consumed = _consumed_parameters(policy)
    own_params = _own_names(policy, "parameters")
    own_signals = _own_names(policy, "signals")
    for name in policy.parameters:
        if name in used_params or name in consumed or name in words:
            continue
        if own_params is not None and name not in own_params:
            continue  # inherited: the base policy's business
        inherited = [p for p in policy.parameters if own_params is not None and p not in own_params]
        close = did_you_mean(name, inherited)
        if close is not None:
            # A new parameter that nothing reads, a letter or two from one the base
            # policy has: a misspelt override, which leaves the base's value in force.
            vf.report(
                FindingKind.DEAD_PARAMETER,
                Severity.ERROR,
                f"parameters.{name}: no rule uses parameter {quote(name)}, and the base "
                f"policy has {quote(close)}, whose value stays in force (did you mean "
                f"{quote(close)}?)",
            )
            continue
        vf.report(
            FindingKind.DEAD_PARAMETER,
            Severity.WARNING,
            f"parameters.{name}: no rule uses parameter {quote(name)}",
        )
    for kind in policy.signals:
        if kind in read or f"has_{kind}" in read or kind in words:
            continue
        if own_signals is not None and kind not in own_signals:
            continue
        vf.report(
            FindingKind.DEAD_SIGNAL,
            Severity.WARNING,
            f"signals.{kind}: no rule reads signal kind {quote(kind)}; cases that "
            "carry it are decided as if it were absent",
        )


def unused_conditions(policy: Policy) -> tuple[str, ...]:
    """The named conditions that no rule or stage uses, directly or through another
    named condition that one uses, in file order."""
    named = policy.named_conditions
    used: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, nc in named.items():
            if name in used:
                continue
            for user in nc.used_by:
                inner = user.removeprefix("conditions.")
                if user == inner or inner in used:
                    used.add(name)
                    changed = True
                    break
    return tuple(name for name in named if name not in used)


def check_unused_conditions(vf: _Verifier) -> None:
    own = _own_names(vf.policy, "conditions")
    for name in unused_conditions(vf.policy):
        if own is not None and name not in own:
            continue  # inherited: the base policy's business
        vf.report(
            FindingKind.UNUSED_CONDITION,
            Severity.WARNING,
            f"conditions.{name}: no rule or stage uses the named condition {quote(name)}",
        )


def unreachable(vf: _Verifier, situations_per_layer: list[list[_Situation]]) -> None:
    ctx = vf.ctx
    cut = min(vf.failed_layers, default=len(ctx.layers))
    for li, layer in enumerate(ctx.layers):
        if li > cut:
            break  # what follows a failing layer only sees the cases that got through
        conds = ctx.layer_conds[li]
        before = situations_per_layer[li]
        hit = layer.hit_policy
        for i, rule in enumerate(layer.rules):
            if hit in (HitPolicy.FIRST, HitPolicy.PRIORITY) and i in vf.winners[li]:
                continue
            candidates: list[tuple[_Situation, dict[str, Any], int]] = []
            takers: set[int] = set()
            holds = False
            for sit in before:
                if hit in (HitPolicy.FIRST, HitPolicy.PRIORITY):
                    fold = _Parts([(_SatFold([True]), 1), (vf.layer_fold(layer), len(conds))])
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
                vf.report(
                    FindingKind.UNREACHABLE,
                    Severity.ERROR,
                    f"layer {quote(layer.id)}: rule {quote(rule.id)} can never fire: its "
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
                f"layer {quote(layer.id)}: rule {quote(rule.id)} is shadowed: whenever it "
                f"matches, {why} takes the case: {', '.join(repr(n) for n in names)}"
            )
            # A case that shows it must also get through the layers after this one.
            shown: tuple[dict[str, Any], int] | None = None
            for sit, wit, winner in candidates:
                outputs = {k: v for k, v in sit.env.items() if k in ctx.outputs}
                start = {**sit.witness, **wit}
                done = vf.complete(
                    li + 1, {**start, **outputs, layer.output: layer.rules[winner].value}, start
                )
                if done is not None:
                    shown = (done, winner)
                    break
            if shown is None:
                vf.report(
                    FindingKind.UNREACHABLE,
                    Severity.ERROR,
                    message + " (and no case it matches gets through the later "
                    "layers, so no case can show it)",
                    rule_ids=(rule.id, *names),
                    layer=layer.id,
                )
                continue
            vf.report(
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
        if vf.values[li]:
            for value in layer.values:
                if value not in vf.values[li]:
                    vf.report(
                        FindingKind.UNREACHABLE,
                        Severity.WARNING,
                        f"layer {quote(layer.id)}: value {quote(value)} is never given to any case",
                        layer=layer.id,
                    )


def remedies(vf: _Verifier, situations: Sequence[_Situation]) -> None:
    ctx = vf.ctx
    rules = vf.policy.remedy_rules
    conds = ctx.remedy_conds
    satisfiable: set[int] = set()
    for sit in situations:
        for i in range(len(rules)):
            if i in satisfiable:
                continue
            if ctx.sat([(conds[i], True)], sit.env) is not None:
                satisfiable.add(i)
    for i, rule in enumerate(rules):
        if i not in satisfiable and situations and not vf.failed_layers:
            vf.report(
                FindingKind.UNREACHABLE,
                Severity.ERROR,
                f"remedies[{rule.id}]: the rule can never fire: its condition holds for no case",
                rule_ids=(rule.id,),
                layer="remedies",
            )
    grants = [i for i, r in enumerate(rules) if r.effect is not RemedyEffect.BLOCK]
    blocks = [i for i, r in enumerate(rules) if r.effect is RemedyEffect.BLOCK]
    if vf.policy.conflict is ConflictRule.UNSPECIFIED:
        for a in grants:
            for b in blocks:
                order = list(vf.policy.remedies)
                shared = sorted(set(rules[a].remedies) & set(rules[b].remedies), key=order.index)
                if not shared:
                    continue
                for sit in situations:
                    wit = ctx.sat([(conds[a], True), (conds[b], True)], sit.env)
                    if wit is None:
                        continue
                    names = ", ".join(map(str, shared))
                    region = _describe(sit.env, {**sit.witness, **wit}, ctx, (conds[a], conds[b]))
                    vf.report(
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
                            "remedy": str(shared[0]),
                        },
                    )
                    break
    # ordering: litigation is never allowed for Q1, except by a rule that overrides the
    # quadrant's envelope and cites why (the stage plan's legal step)
    lit = [
        i
        for i in grants
        if Remedy.LITIGATE in rules[i].remedies and not rules[i].overrides_quadrant
    ]
    lit_blocks = [i for i in blocks if Remedy.LITIGATE in rules[i].remedies]
    for sit in situations:
        if sit.env.get("quadrant") != Quadrant.Q1.value:
            continue
        for a in lit:
            wants = [(conds[a], True)]
            if vf.policy.conflict is not ConflictRule.ALLOW_WINS:
                wants += [(conds[b], False) for b in lit_blocks]
            wit = ctx.sat(wants, sit.env)
            if wit is None:
                continue
            vf.report(
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


def monotonicity(
    vf: _Verifier, starts: Mapping[int, Sequence[_Situation]], finals: Sequence[_Situation]
) -> None:
    """Each kind's two worlds, searched from the one-world search: the situations that
    reach the first layer that reads the kind (``starts``, for each of
    :func:`_first_readers`), or ``finals`` when no layer reads it."""
    ctx = vf.ctx
    if "quadrant" not in ctx.outputs:
        return
    read: set[str] = set()
    for cond in itertools.chain(*ctx.layer_conds, ctx.remedy_conds):
        read |= cond.fields()
    ability_layer = next((la for la in ctx.layers if la.output == "ability"), None)
    for kind, spec in vf.policy.signals.items():
        if spec.measured:
            if spec.dimension != "ability" or ability_layer is None:
                continue
            if kind not in read and f"has_{kind}" not in read:
                continue
            varied = _measured_pairs(vf, kind)
        else:
            if spec.polarity != "negative" or kind not in read:
                continue
            varied = _count_pairs(vf, kind)
        ctx.varied = varied
        try:
            result = vf.run(worlds=2, start=_same_worlds(vf, varied, starts, finals))
            if result is not None:
                check_pairs(vf, result[1], varied, ability_layer)
        finally:
            ctx.varied = None


def _first_reader(vf: _Verifier, kind: str) -> int:
    """The first layer that reads signal ``kind`` (its count or value, or whether it is
    there), or the number of layers when none does."""
    fields = {kind, f"has_{kind}"}
    return next(
        (li for li, plan in enumerate(vf.plans) if not plan.reads.isdisjoint(fields)),
        len(vf.plans),
    )


def _first_readers(vf: _Verifier) -> set[int]:
    """The layers that a monotonicity run may start at: the first reader of each kind."""
    return {li for kind in vf.policy.signals if (li := _first_reader(vf, kind)) < len(vf.plans)}


def _same_worlds(
    vf: _Verifier,
    varied: _Varied,
    starts: Mapping[int, Sequence[_Situation]],
    finals: Sequence[_Situation],
) -> tuple[int, list[_Situation]]:
    """The first layer that reads the varied kind, and the situations of two worlds that
    reach it: up to it the worlds agree, and the two-world search is the one-world
    search with each output copied to the worse world (the same situations, in the same
    order, with the same witnesses)."""
    first = _first_reader(vf, varied.kind)
    reaching = starts[first] if first < len(vf.plans) else finals
    outputs = frozenset(vf.ctx.outputs[:first])
    copied: list[_Situation] = []
    for sit in reaching:
        env: dict[str, Any] = {}
        worse: list[tuple[str, Any]] = []
        for name, value in sit.env.items():
            env[name] = value
            if name in outputs:
                env[name + _W1] = value
                worse.append((name + _W1, value))
        copied.append(_Situation(env, sit.witness, sit.items.union(worse)))
    return first, copied


def _count_pairs(vf: _Verifier, kind: str) -> _Varied:
    ctx = vf.ctx
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


def _measured_pairs(vf: _Verifier, kind: str) -> _Varied:
    ctx = vf.ctx
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
    vf: _Verifier, finals: Sequence[_Situation], varied: _Varied, ability_layer: Layer | None
) -> None:
    ctx = vf.ctx
    rules = vf.policy.remedy_rules
    coercive_rules = [
        (i, rules[i])
        for i in range(len(rules))
        if set(rules[i].remedies) & vf.policy.coercive_remedies
    ]
    w1 = vf._w1_mapping()
    allow_wins = vf.policy.conflict is ConflictRule.ALLOW_WINS
    remedy_reads: set[str] = set()
    for i, _ in coercive_rules:
        remedy_reads |= ctx.remedy_conds[i].fields()
    remedy_reads |= {ctx.links[f] for f in remedy_reads if f in ctx.links}
    remedy_reads_any = _in_any_world(remedy_reads)
    # The same for every situation: the coercive rules, once as they are and once renamed
    # to the worse world.
    spec = [
        (r.effect is not RemedyEffect.BLOCK, frozenset(r.remedies) & vf.policy.coercive_remedies)
        for _, r in coercive_rules
    ]
    n = len(coercive_rules)
    fold = _Parts([(_RemedyFold(spec), n), (_RemedyFold(spec), n)])
    indexed = [(k, ctx.remedy_conds[i]) for k, (i, _) in enumerate(coercive_rules)]
    indexed += [
        (n + k, _rename(ctx.remedy_conds[i], w1)) for k, (i, _) in enumerate(coercive_rules)
    ]
    nothing: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    # The remedies depend only on the fields the coercive rules read, so they are shared
    # between situations, and between the runs of kinds that the rules do not read. Those
    # of a kind the rules read are shared within its run, and each use of them counts the
    # steps of their search (``_Context.charge``), as a search for each situation would.
    reads_varied = any(_base(f) in remedy_reads for f in varied.fields)
    depends = remedy_reads
    if reads_varied and depends & ctx.group:
        depends = depends | ctx.group | {ctx.links[f] for f in ctx.group if f in ctx.links}
    depends_any = _in_any_world(depends)
    order = list(ability_layer.values) if ability_layer is not None else []
    softer_of: dict[tuple[str, str], bool] = {}
    for sit in finals:
        q0, q1 = sit.env.get("quadrant"), sit.env.get("quadrant" + _W1)
        if q0 not in Quadrant.__members__ or q1 not in Quadrant.__members__:
            continue
        if varied.ability_worse:
            assert ability_layer is not None
            a0, a1 = sit.env.get("ability"), sit.env.get("ability" + _W1)
            if a0 not in order or a1 not in order or order.index(a1) <= order.index(a0):
                continue
        key: Hashable = (
            ("remedies", varied.kind, frozenset(i for i in sit.items if i[0] in depends_any))
            if reads_varied
            else ("remedies", frozenset(i for i in sit.items if i[0] in remedy_reads_any))
        )
        outcomes = vf._remedy_cache.get(key)
        if outcomes is None:
            steps = ctx.steps
            results = ctx.explore(indexed, fold, sit.env) if n else {(nothing, nothing): {}}
            outcomes = vf._remedy_cache[key] = _RemedyOutcomes.of(
                results, allow_wins=allow_wins, steps=ctx.steps - steps
            )
        elif reads_varied:
            ctx.charge(outcomes.steps)
        pair = (str(q0), str(q1))
        softer = softer_of.get(pair)
        if softer is None:
            softer = softer_of[pair] = _softer(Quadrant(pair[0]), Quadrant(pair[1]))
        for eff, lost, wit in outcomes.every if softer else outcomes.losing:
            witness = {**sit.witness, **wit}
            if varied.ability_worse:
                old, new = witness.get(varied.kind), witness.get(varied.kind + _W1)
                change = (
                    f"changing {quote(varied.kind)} from {_show(old)} to {_show(new)} "
                    f"(ability {sit.env.get('ability')} -> "
                    f"{sit.env.get('ability' + _W1)})"
                )
            else:
                change = f"adding one {quote(varied.kind)} signal"
            what = []
            if softer:
                what.append(f"softens the quadrant from {q0} to {q1}")
            if lost:
                what.append("takes away the coercive remedies " + ", ".join(r.value for r in lost))
            vf.report(
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


def run_checks(vf: _Verifier) -> VerificationReport:
    check_citations(vf)
    check_dead(vf)
    check_unused_conditions(vf)
    ctx = vf.ctx
    if "quadrant" not in ctx.outputs:
        vf.report(
            FindingKind.GAP,
            Severity.ERROR,
            "the policy has no layer whose output is 'quadrant'; no case can be decided",
        )
    vf.winners = [set() for _ in ctx.layers]
    vf.values = [set() for _ in ctx.layers]
    per_layer = vf.run(worlds=1)
    if per_layer is not None:
        situations_per_layer, finals = per_layer
        # The two-world searches start from the situations of the layers that first read
        # a signal kind; those of the other layers are let go once the unreachable rules
        # are checked (the searches allocate much, and a smaller heap is quicker for the
        # garbage collector to go through).
        starts = {li: situations_per_layer[li] for li in _first_readers(vf)}
        phases: list[tuple[str, Callable[[], None]]] = [
            ("unreachable rules", functools.partial(unreachable, vf, situations_per_layer)),
            ("remedies", lambda: remedies(vf, finals)),
            ("monotonicity", lambda: monotonicity(vf, starts, finals)),
            ("envelopes", lambda: check_envelopes(vf, finals)),
            ("coherence with the timeline", lambda: check_coherence(vf, finals)),
        ]
        del per_layer, situations_per_layer
        while phases:
            phase, run = phases.pop(0)
            try:
                run()
            except _Budget as exc:
                vf.report(
                    FindingKind.UNVERIFIED,
                    Severity.WARNING,
                    f"{phase}: the search went past {exc.what}; this check was not completed",
                )
    for (layer, fields), notes in sorted(vf.unconfirmed.items()):
        shown = "; ".join(notes[:3]) + (f"; and {len(notes) - 3} more" if len(notes) > 3 else "")
        vf.findings.append(
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
        vf.findings.append(
            Finding(
                FindingKind.UNVERIFIED,
                Severity.WARNING,
                f"{', '.join(ctx.probed)}: computed by the policy's sections from the case; "
                f"{_probed_scope(ctx)}",
                (),
                None,
                None,
            )
        )
    for layer_id, fields in vf.unsupported_layers():
        vf.findings.append(
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
    for layer_id, fields in vf.unsupported_layers(events=True):
        vf.findings.append(
            Finding(
                FindingKind.UNVERIFIED,
                Severity.WARNING,
                f"{layer_id}: reads {fields}, which only events give; these fields were "
                "explored as free values, and a finding that needs them is kept only when "
                "a built case carrying a history of events that gives them (contact "
                "attempts, promises, payments, a visit, an emergency, an asset found) "
                "reproduces it",
                (),
                None,
                layer_id,
            )
        )
    order = {Severity.ERROR: 0, Severity.WARNING: 1}
    findings = sorted(vf.findings, key=lambda f: order[f.severity])
    stats = {
        "layers": len(ctx.layers),
        "remedy_rules": len(vf.policy.remedy_rules),
        "fields": len(ctx.leaves),
        "search_steps": ctx.steps,
        "final_situations": vf.situation_counts[-1] if vf.situation_counts else 0,
    }
    return VerificationReport(vf.policy.ref, tuple(findings), stats)


def _probed_scope(ctx: _Context) -> str:
    """What the verifier explored of the fields the policy's sections compute, and
    what it did not."""
    by = ", ".join(
        ["dpd", "the product", *(f for f in ctx.probe_base if f not in ("dpd", "product"))]
    )
    fields = [f for f in ctx.input_fields if f != "restructured"]
    if fields:
        by += (
            f", and the case inputs the regulation packs read ({', '.join(fields)}), each "
            "missing or on either side of each pack's figure"
        )
    if "restructured" in ctx.input_fields:
        return (
            f"the verifier explored the values that cases give them (by {by}), without an "
            "event or with a restructured event at the instant decided, so a combination "
            "that only other events can produce (a payment, a promise, a contact, a re-age, "
            "an earlier restructuring) is not checked"
        )
    return (
        f"the verifier explored the values that cases without events give them (by {by}), "
        "so a combination that only events can produce (a payment, a promise, a contact, a "
        "re-age, a restructuring) is not checked"
    )
