"""durable_rules' measured limits, checked before durable is ever called.

See DURABLE_RULES.md #3–#5. Every figure is counted on the expressions durable_rules
really gets (:func:`collectrules.conditions.durable_json.to_durable`): an ``in`` list
of n values is n alternatives, every ``or`` alternative is one, a negation is pushed to
the leaves (``not (a and b)`` is two), and a negated test of a field that may be absent
gains a ``$nex`` alternative.

A policy is either sure to run on durable as written, or it is compiled into a form
that is: the parts that would break a limit (the largest ``in`` lists and ``or`` groups
first) are *lowered*, that is evaluated on the Python side of the adapter and posted
with the stage fact as one boolean each, so that durable tests a single fact instead.
The answer is the same, since the Python side evaluates the very same compiled
condition; only what durable has to expand changes. What lowering cannot fix (too many
rules in one layer, or in all) is refused at load with an :class:`EngineLimitError`
that names the rule, the count and the limit.

The engine compiles each layer into a stage fact of its own, so only one stage's rules
(and its resolver) can match one fact at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from collectrules.conditions import Always, Condition, FieldSpec
from collectrules.conditions.durable_json import DurableShape, durable_nodes, shape, to_durable
from collectrules.conditions.python import compile_condition
from collectrules.errors import EngineLimitError, quote

if TYPE_CHECKING:
    from collectrules.policy.model import Layer, LayerRule, Policy, RemedyRule

__all__ = [
    "MAX_GROUPS_PER_RULE",
    "MAX_MATCHES_AT_ONCE",
    "MAX_PROPERTIES",
    "MAX_TOP_LEVEL_RULES",
    "DurablePlan",
    "check_policy",
    "durable_plan",
]

#: durable_rules fails with error 303 when more than 64 conditions match one fact at once.
MAX_MATCHES_AT_ONCE = 64
#: durable_rules hangs for ever at 512 top-level conditions; stay well clear of it.
MAX_TOP_LEVEL_RULES = 480
#: durable_rules fails with error 302 past about 253 properties in one message.
MAX_PROPERTIES = 240
#: Properties the engine adds to every fact: type tag, message id, session id.
ENGINE_PROPERTIES = 3
#: durable_rules refuses a rule whose condition has 16 ``$and``/``$or`` groups (error 113,
#: measured with flat, nested and mixed groups); the stage tag adds one to each rule.
MAX_GROUPS_PER_RULE = 15


@attrs.frozen
class DurablePlan:
    """How a policy is compiled for durable_rules, and what it then costs.

    ``stages`` groups layer indices (the remedies are the last stage, after them);
    ``conditions`` are the rules' compiled conditions by rule id; ``lowered`` maps each
    part evaluated on the Python side to the boolean fact that carries it, and
    ``stage_lowered`` lists those facts per stage (remedies last). ``alternatives`` is
    the ruleset's count of top-level conditions, resolvers included; ``at_once`` the
    most that one stage fact can match.
    """

    stages: tuple[tuple[int, ...], ...]
    conditions: Mapping[str, Condition]
    lowered: Mapping[Condition, str]
    stage_lowered: tuple[tuple[tuple[str, Condition], ...], ...]
    alternatives: int
    at_once: tuple[int, ...]
    notes: tuple[str, ...] = ()


@attrs.define
class _Unit:
    """One rule being planned."""

    rule: LayerRule | RemedyRule
    scope: str
    cond: Condition
    shape: DurableShape = attrs.field(factory=lambda: DurableShape(1, 1, 0))


class _Planner:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        schema = policy.schema()
        self.schema: dict[str, FieldSpec] = schema
        self.optional = frozenset(n for n, s in schema.items() if s.optional)
        params = policy.parameter_values
        self.lowered: dict[Condition, str] = {}
        self.notes: list[str] = []
        self.layers: list[list[_Unit]] = [
            [_Unit(r, layer.id, compile_condition(r.when, params, schema)) for r in layer.rules]
            for layer in policy.layers
        ]
        self.remedies = [
            _Unit(r, "remedies", compile_condition(r.when, params, schema))
            for r in policy.remedy_rules
        ]
        self.units = [u for units in self.layers for u in units] + self.remedies
        for unit in self.units:
            self.measure(unit)

    def measure(self, unit: _Unit) -> None:
        body = to_durable(unit.cond, self.optional, self.lowered)
        s = shape(body)
        # The rule's expression is {"$and": [stage tag, body]}: one group more.
        unit.shape = DurableShape(s.alternatives, s.at_once, s.groups + (body is not None))

    def fact_name(self) -> str:
        n = len(self.lowered)
        while f"_py{n}" in self.schema:
            n += 1
        return f"_py{n}"

    def lower_one(self, units: Sequence[_Unit], metric: Callable[[DurableShape], int]) -> bool:
        """Lower the part of ``units`` that costs most by ``metric``; False if none helps."""
        best: tuple[tuple[int, int, int, int], _Unit, Condition] | None = None
        for u_index, unit in enumerate(units):
            if isinstance(unit.cond, Always):
                continue
            nodes = durable_nodes(unit.cond, self.optional, self.lowered)
            for position, (node, expr) in enumerate(nodes):
                if next(iter(expr)) not in ("$and", "$or"):
                    continue
                s = shape(expr)
                gain = metric(s)
                if gain <= 1 and metric is not _groups:
                    continue
                key = (-gain, s.groups, u_index, position)
                if best is None or key < best[0]:
                    best = (key, unit, node)
        if best is None:
            return False
        _, unit, node = best
        name = self.fact_name()
        self.lowered[node] = name
        for other in self.units:
            self.measure(other)
        self.notes.append(
            f"rule {quote(unit.rule.id)}: {_describe(node)} is evaluated on the Python side "
            f"and posted to durable_rules as the boolean fact {quote(name)}"
        )
        return True


def _groups(s: DurableShape) -> int:
    return s.groups


def _at_once(s: DurableShape) -> int:
    return s.at_once


def _alternatives(s: DurableShape) -> int:
    return s.alternatives


def _describe(node: Condition) -> str:
    text = node.to_text()
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _plan(policy: Policy) -> DurablePlan:
    planner = _Planner(policy)
    # 1. error 113: too many groups in one rule.
    for unit in planner.units:
        while unit.shape.groups > MAX_GROUPS_PER_RULE:
            planner.lower_one([unit], _groups)
    # 2. #4: one layer's (or the remedies') rules matching one fact at once.
    scopes: list[tuple[str, list[_Unit]]] = [
        (layer.id, units) for layer, units in zip(policy.layers, planner.layers, strict=True)
    ]
    scopes.append(("remedies", planner.remedies))
    for scope, units in scopes:
        # Each stage also has its resolver rule, which matches the same fact.
        while sum(u.shape.at_once for u in units) + 1 > MAX_MATCHES_AT_ONCE:
            if not planner.lower_one(units, _at_once):
                _too_many_at_once(policy, scope, units)
    # 3. stages: a layer joins the current stage unless it reads an output of it, or
    # would push it past the matches-at-once limit.
    stages = _group_stages(
        policy.layers, [sum(u.shape.at_once for u in us) for us in planner.layers]
    )
    # 4. #3: top-level conditions of the whole ruleset, resolvers included.
    resolvers = len(stages)
    while sum(u.shape.alternatives for u in planner.units) + resolvers > MAX_TOP_LEVEL_RULES:
        if not planner.lower_one(planner.units, _alternatives):
            _too_many_alternatives(policy, planner.units, resolvers)
    per_stage = [sum(u.shape.at_once for i in group for u in planner.layers[i]) for group in stages]
    per_stage.append(sum(u.shape.at_once for u in planner.remedies))
    at_once = tuple(n + 1 for n in per_stage)
    # 5. #5: properties of every stage fact.
    stage_units = [[u for i in group for u in planner.layers[i]] for group in stages]
    stage_units.append(planner.remedies)
    stage_lowered: list[tuple[tuple[str, Condition], ...]] = []
    for index, units in enumerate(stage_units):
        found: dict[str, Condition] = {}
        for unit in units:
            for node, expr in durable_nodes(unit.cond, planner.optional, planner.lowered):
                name = planner.lowered.get(node)
                if name is not None and next(iter(expr)) == name:
                    found[name] = node
        stage_lowered.append(tuple(sorted(found.items())))
        reads = {f for u in units for f in u.rule.when.fields()}
        properties = len(reads) + len(found) + ENGINE_PROPERTIES
        if properties > MAX_PROPERTIES:
            what = "the remedies" if index == len(stages) else f"stage {index}"
            msg = (
                f"policy {quote(policy.id)}: the fact of {what} needs {properties} properties; "
                f"durable_rules fails past about 253 (DURABLE_RULES.md #5), and collectrules "
                f"refuses more than {MAX_PROPERTIES}"
            )
            raise EngineLimitError(
                msg, limit="properties per fact", value=properties, maximum=MAX_PROPERTIES
            )
    return DurablePlan(
        stages=tuple(tuple(g) for g in stages),
        conditions={u.rule.id: u.cond for u in planner.units},
        lowered=dict(planner.lowered),
        stage_lowered=tuple(stage_lowered),
        alternatives=sum(u.shape.alternatives for u in planner.units) + resolvers,
        at_once=at_once,
        notes=tuple(planner.notes),
    )


def _too_many_at_once(policy: Policy, scope: str, units: list[_Unit]) -> None:
    total = sum(u.shape.at_once for u in units) + 1
    running = 1
    culprit = units[-1].rule.id
    for unit in units:
        running += unit.shape.at_once
        if running > MAX_MATCHES_AT_ONCE:
            culprit = unit.rule.id
            break
    what = "the remedy rules" if scope == "remedies" else f"layer {quote(scope)}"
    msg = (
        f"policy {quote(policy.id)}: {what} can match one fact {total} times at once (its "
        f"{len(units)} rules and the stage's resolver), from rule {quote(culprit)} on past the "
        f"limit; durable_rules fails when more than {MAX_MATCHES_AT_ONCE} conditions match "
        f"one fact at once (DURABLE_RULES.md #4), so a layer may hold at most "
        f"{MAX_MATCHES_AT_ONCE - 1} rules; split it into layers"
    )
    raise EngineLimitError(msg, limit="matches at once", value=total, maximum=MAX_MATCHES_AT_ONCE)


def _too_many_alternatives(policy: Policy, units: list[_Unit], resolvers: int) -> None:
    total = sum(u.shape.alternatives for u in units) + resolvers
    running = resolvers
    culprit = units[-1].rule.id if units else ""
    for unit in units:
        running += unit.shape.alternatives
        if running > MAX_TOP_LEVEL_RULES:
            culprit = unit.rule.id
            break
    msg = (
        f"policy {quote(policy.id)} compiles to {total} top-level conditions ({len(units)} rules "
        f"and {resolvers} stage resolvers), past the limit from rule {quote(culprit)} on; "
        f"durable_rules hangs at 512 top-level conditions (DURABLE_RULES.md #3), and "
        f"collectrules refuses more than {MAX_TOP_LEVEL_RULES}"
    )
    raise EngineLimitError(msg, limit="top-level rules", value=total, maximum=MAX_TOP_LEVEL_RULES)


def _group_stages(layers: Sequence[Layer], at_once: Sequence[int]) -> list[list[int]]:
    stages: list[list[int]] = []
    current: list[int] = []
    count = 1  # the resolver
    for index, layer in enumerate(layers):
        outputs = {layers[i].output for i in current}
        if current and (layer.inputs() & outputs or count + at_once[index] > MAX_MATCHES_AT_ONCE):
            stages.append(current)
            current, count = [], 1
        current.append(index)
        count += at_once[index]
    if current:
        stages.append(current)
    return stages


def durable_plan(policy: Policy) -> DurablePlan:
    """The policy's :class:`DurablePlan`, computed once per policy object.

    Raises :class:`EngineLimitError` when no compiled form fits durable_rules' limits.
    """
    plan: DurablePlan = policy.memo("durable_plan", lambda: _plan(policy))
    return plan


def check_policy(policy: Policy) -> None:
    """Raise :class:`EngineLimitError` if no compiled form of the policy fits durable_rules.

    Also checks the width of the fact schema (DURABLE_RULES.md #5): a stage fact carries
    only the fields its rules read, but the whole schema must fit one message.
    """
    properties = len(policy.schema()) + ENGINE_PROPERTIES
    if properties > MAX_PROPERTIES:
        msg = (
            f"policy {quote(policy.id)} needs {properties} "
            "properties per fact; durable_rules fails "
            f"past about 253 (DURABLE_RULES.md #5), and collectrules refuses more than "
            f"{MAX_PROPERTIES}; use fewer signal kinds or fields"
        )
        raise EngineLimitError(
            msg, limit="properties per fact", value=properties, maximum=MAX_PROPERTIES
        )
    durable_plan(policy)
