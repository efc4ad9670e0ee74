"""The semantics shared by both back ends: hit policies, remedy resolution, the outcome.

The durable back end calls these from inside its rule actions; the compiled Python back
end calls them directly. Both therefore resolve matches identically; they differ only in
how matches are found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from collectrules._arguments import require_instance
from collectrules.conditions.python import compile_condition, unchecked_predicate
from collectrules.errors import EngineError, quote
from collectrules.model.decision import Firing, RemedyBlock, RemedyGrant
from collectrules.policy import (
    ConflictRule,
    HitPolicy,
    Layer,
    LayerRule,
    Policy,
    RemedyEffect,
    RemedyRule,
)

__all__ = [
    "MEMO_LIMIT",
    "CompiledPolicy",
    "LayerOutcome",
    "LayerResult",
    "Outcome",
    "RemedyResult",
    "fill_firings",
    "fill_placeholders",
    "layer_result",
    "remedy_result",
    "resolve_layer",
    "resolve_remedies",
]


@attrs.frozen
class LayerOutcome:
    """The value a layer resolved to, and the rules that produced it."""

    layer: Layer
    value: str
    score: float | None
    used: tuple[str, ...]
    defaulted: bool


@attrs.define
class Outcome:
    """Everything one evaluation found, before it becomes a Decision."""

    levels: list[LayerOutcome] = attrs.field(factory=list)
    firings: list[Firing] = attrs.field(factory=list)
    allowed: tuple[RemedyGrant, ...] = ()
    blocked: tuple[RemedyBlock, ...] = ()
    #: True when it is known that no grant or block holds a ``{field}`` placeholder
    #: (the generated evaluator works it out once per remedy match set); False: look.
    #: A hint, not a part of what was found: outcomes compare without it.
    plain: bool = attrs.field(default=False, eq=False)


def resolve_layer(layer: Layer, matched: Sequence[LayerRule]) -> LayerOutcome:
    """Apply the layer's hit policy to the rules that matched, in file order."""
    hit = layer.hit_policy
    if hit is HitPolicy.COLLECT_SUM:
        score = float(sum(r.score for r in matched))
        value = layer.default
        for minimum, band_value in sorted(layer.bands):
            if score >= minimum:
                value = band_value
        if value is None:
            msg = (
                f"layer {quote(layer.id)}: score {score:g} "
                "reaches no band and the layer has no default"
            )
            raise EngineError(msg)
        return LayerOutcome(
            layer, value, score, tuple(r.id for r in matched), defaulted=not matched
        )
    if not matched:
        if layer.default is None:
            msg = f"layer {quote(layer.id)}: no rule matched and the layer has no default"
            raise EngineError(msg)
        return LayerOutcome(layer, layer.default, None, (), defaulted=True)
    if hit is HitPolicy.UNIQUE and len(matched) > 1:
        ids = ", ".join(r.id for r in matched)
        msg = f"layer {quote(layer.id)} is unique, but several rules matched: {ids}"
        raise EngineError(msg)
    if hit is HitPolicy.PRIORITY:
        order = {r.id: i for i, r in enumerate(layer.rules)}
        winner = max(matched, key=lambda r: (r.priority, -order[r.id]))
    else:
        winner = matched[0]
    assert winner.value is not None
    return LayerOutcome(layer, winner.value, None, (winner.id,), defaulted=False)


def layer_firings(outcome: LayerOutcome, matched: Sequence[LayerRule]) -> list[Firing]:
    """The trace entries of one layer: each matched rule, in firing order."""
    layer = outcome.layer
    out: list[Firing] = []
    for rule in matched:
        if layer.hit_policy is HitPolicy.COLLECT_SUM:
            text = f"{layer.output} score {rule.score:+g}"
        elif rule.id in outcome.used:
            text = f"{layer.output} = {outcome.value}"
        else:
            text = f"matched; {layer.output} taken from {outcome.used[0]} ({layer.hit_policy})"
        out.append(Firing(rule.id, layer.id, text, rule.reason, rule.cites, rule.origin))
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        text = f"{layer.output} = {outcome.value} (score {outcome.score:g})"
        out.append(
            Firing(
                f"{layer.id}.resolve",
                layer.id,
                text,
                f"collect_sum over {len(matched)} rule(s)",
                layer.cites,
                "",
            )
        )
    elif outcome.defaulted:
        out.append(
            Firing(
                f"{layer.id}.default",
                layer.id,
                f"{layer.output} = {outcome.value}",
                "no rule matched; the layer's default applies",
                layer.cites,
                "",
            )
        )
    return out


def remedy_order(policy: Policy) -> Mapping[str, int]:
    """Each remedy's place in the policy's catalogue: the order decisions list them in."""
    order: Mapping[str, int] = policy.memo(
        "remedy_order", lambda: {name: i for i, name in enumerate(policy.remedies)}
    )
    return order


_RuleResults = tuple[Firing, tuple[RemedyGrant, ...], tuple[RemedyBlock, ...]]


def _labels(policy: Policy, remedy: str) -> tuple[str, str]:
    spec = policy.remedies.get(remedy)
    return ("", "") if spec is None else (spec.label_en, spec.label_zh)


def _remedy_results(policy: Policy) -> dict[str, _RuleResults]:
    """What each remedy rule contributes when it fires: it never depends on the case."""
    out: dict[str, _RuleResults] = {}
    for rule in policy.remedy_rules:
        names = ", ".join(map(str, rule.remedies))
        firing = Firing(
            rule.id,
            "remedies",
            f"{rule.effect.value} {names}",
            rule.reason,
            rule.cites,
            rule.origin,
        )
        if rule.effect is RemedyEffect.BLOCK:
            blocks = tuple(
                RemedyBlock(r, rule.id, rule.reason, rule.cites, (rule.id,), *_labels(policy, r))
                for r in rule.remedies
            )
            out[rule.id] = (firing, (), blocks)
        else:
            required = rule.effect is RemedyEffect.REQUIRE
            grants = tuple(
                RemedyGrant(
                    r,
                    rule.id,
                    rule.reason,
                    rule.cites,
                    rule.conditions,
                    required,
                    *_labels(policy, r),
                )
                for r in rule.remedies
            )
            out[rule.id] = (firing, grants, ())
    return out


def resolve_remedies(
    policy: Policy, matched: Sequence[RemedyRule]
) -> tuple[tuple[RemedyGrant, ...], tuple[RemedyBlock, ...], list[Firing]]:
    """Combine the matched remedy rules into allowed and blocked remedies.

    The first rule (in file order) that allows a remedy gives its grant; the first that
    blocks it gives its block's rule and reason, and the block lists every blocking rule
    and all their citations. When a remedy is both allowed and blocked, the policy's
    ``remedies.conflict`` decides; ``unspecified`` blocks, as the safer reading, and
    ``collectrules check`` reports the conflict.
    """
    grants: dict[str, RemedyGrant] = {}
    blocks: dict[str, RemedyBlock] = {}
    firings: list[Firing] = []
    results: dict[str, _RuleResults] = policy.memo(
        "remedy_results", lambda: _remedy_results(policy)
    )
    for rule in matched:
        firing, rule_grants, rule_blocks = results[rule.id]
        for block in rule_blocks:
            prior_block = blocks.get(block.remedy)
            if prior_block is None:
                blocks[block.remedy] = block
            else:  # every blocking rule and citation is kept, the first reason shown
                cites = prior_block.cites + tuple(
                    c for c in block.cites if c not in prior_block.cites
                )
                blocks[block.remedy] = attrs.evolve(
                    prior_block, cites=cites, rules=(*prior_block.rules, block.rule_id)
                )
        for grant in rule_grants:
            prior = grants.get(grant.remedy)
            if prior is None or (grant.required and not prior.required):
                grants[grant.remedy] = grant
        firings.append(firing)
    for remedy in set(grants) & set(blocks):
        if policy.conflict is ConflictRule.ALLOW_WINS:
            del blocks[remedy]
        else:
            del grants[remedy]
    order = remedy_order(policy)
    allowed = tuple(sorted(grants.values(), key=lambda g: order[g.remedy]))
    blocked = tuple(sorted(blocks.values(), key=lambda b: order[b.remedy]))
    return allowed, blocked, firings


#: How many distinct match sets each layer (and the remedies) remembers, in either back
#: end; past it, a new match set is resolved each time it occurs, never stored, so
#: memory stays bounded.
MEMO_LIMIT = 16_384

#: What a layer's match set resolves to: the layer's outcome and its trace entries.
LayerResult = tuple[LayerOutcome, tuple[Firing, ...]]

#: What the remedy rules' match set resolves to: the grants, the blocks, the trace
#: entries, and whether no grant or block holds a ``{field}`` placeholder.
RemedyResult = tuple[tuple[RemedyGrant, ...], tuple[RemedyBlock, ...], tuple[Firing, ...], bool]


def layer_result(
    layer: Layer,
    matched: Sequence[LayerRule],
    keep: Callable[[Sequence[Firing]], tuple[Firing, ...]] = tuple,
) -> LayerResult:
    """What ``layer`` resolves to when the rules ``matched`` (file order) matched, for
    a back end to remember per match set; ``keep`` makes the trace entries' tuple."""
    outcome = resolve_layer(layer, matched)
    return outcome, keep(layer_firings(outcome, matched))


def remedy_result(
    policy: Policy,
    matched: Sequence[RemedyRule],
    keep: Callable[[Sequence[Firing]], tuple[Firing, ...]] = tuple,
) -> RemedyResult:
    """What the remedy rules ``matched`` (file order) resolve to, for a back end to
    remember per match set; ``keep`` makes the trace entries' tuple."""
    allowed, blocked, firings = resolve_remedies(policy, matched)
    return allowed, blocked, keep(firings), not holds_placeholders(allowed, blocked)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _fill(text: str, facts: Mapping[str, Any]) -> str:
    if "{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        value = facts.get(match.group(1))
        return "(unknown)" if value is None else str(value)

    return _PLACEHOLDER.sub(one, text)


def fill_firings(firings: Sequence[Firing], facts: Mapping[str, Any]) -> tuple[Firing, ...]:
    """The firings with each ``{field}`` of their reasons replaced by the case's fact or
    the parameter's value, as :func:`fill_placeholders` does for grants and blocks."""
    return tuple(
        attrs.evolve(f, reason=_fill(f.reason, facts)) if "{" in f.reason else f for f in firings
    )


def holds_placeholders(allowed: tuple[RemedyGrant, ...], blocked: tuple[RemedyBlock, ...]) -> bool:
    """Whether a grant's reason or condition, or a block's reason, holds a ``{``."""
    return any(map(_grant_placeholders, allowed)) or any("{" in b.reason for b in blocked)


def fill_placeholders(
    allowed: tuple[RemedyGrant, ...],
    blocked: tuple[RemedyBlock, ...],
    facts: Mapping[str, Any],
    *,
    plain: bool = False,
) -> tuple[tuple[RemedyGrant, ...], tuple[RemedyBlock, ...]]:
    """The grants and blocks with each ``{field}`` of their reasons and conditions
    replaced by the case's fact (a deadline's last day, the days left): the same case
    and ``as_of`` give the same text on both back ends. ``plain`` says that none holds
    a placeholder (:attr:`Outcome.plain`): they are returned as they are."""
    if plain:
        return allowed, blocked
    if any(map(_grant_placeholders, allowed)):
        allowed = tuple(
            attrs.evolve(
                g,
                reason=_fill(g.reason, facts),
                conditions=tuple(_fill(c, facts) for c in g.conditions),
            )
            if _grant_placeholders(g)
            else g
            for g in allowed
        )
    if any("{" in b.reason for b in blocked):
        blocked = tuple(
            attrs.evolve(b, reason=_fill(b.reason, facts)) if "{" in b.reason else b
            for b in blocked
        )
    return allowed, blocked


def _grant_placeholders(grant: RemedyGrant) -> bool:
    """Whether the grant's reason or one of its conditions holds a ``{``."""
    return "{" in grant.reason or "{" in "".join(grant.conditions)


class CompiledPolicy:
    """A policy compiled to Python predicates: the fast back end.

    It agrees with the durable back end on every case; the test suite checks that
    with hypothesis over generated cases.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = require_instance(policy, Policy, "policy", "a Policy")
        params = policy.parameter_values
        schema = policy.schema()
        self.layers: list[tuple[Layer, list[tuple[LayerRule, Callable[[Any], bool]]]]] = [
            (
                layer,
                [
                    (r, unchecked_predicate(compile_condition(r.when, params, schema)))
                    for r in layer.rules
                ],
            )
            for layer in policy.layers
        ]
        self.remedies: list[tuple[RemedyRule, Callable[[Any], bool]]] = [
            (r, unchecked_predicate(compile_condition(r.when, params, schema)))
            for r in policy.remedy_rules
        ]

    def run(self, facts: Mapping[str, Any]) -> Outcome:
        """Evaluate every layer, then the remedies, on the flat facts."""
        outcome = Outcome()
        current = dict(facts)
        for layer, rules in self.layers:
            matched = [rule for rule, test in rules if test(current)]
            resolved = resolve_layer(layer, matched)
            outcome.levels.append(resolved)
            outcome.firings.extend(layer_firings(resolved, matched))
            current[layer.output] = resolved.value
        matched_remedies = [rule for rule, test in self.remedies if test(current)]
        allowed, blocked, firings = resolve_remedies(self.policy, matched_remedies)
        outcome.allowed, outcome.blocked = allowed, blocked
        outcome.firings.extend(firings)
        return outcome
