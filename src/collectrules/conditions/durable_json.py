"""The durable_rules back end: conditions as durable_rules' JSON expressions.

This module emits data only; it never imports durable_rules. It also measures what it
emits (:func:`shape`): durable_rules' limits (DURABLE_RULES.md #3, #4 and error 113)
apply to the expressions it really gets, after ``in`` lists, ``or`` alternatives,
negations and absent-field alternatives are expanded, not to the condition as written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from collectrules._arguments import require_instance, require_mapping, require_texts
from collectrules.conditions.ir import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    In,
    Not,
    Op,
    Scalar,
    Truth,
    _plain,
)
from collectrules.errors import ConditionError

__all__ = ["DurableShape", "durable_nodes", "shape", "to_durable"]

# --------------------------------------------------------------------------- durable

_DURABLE_OPS = {Op.LT: "$lt", Op.LE: "$lte", Op.GT: "$gt", Op.GE: "$gte", Op.NE: "$neq"}
_GROUPS = ("$and", "$or")


def to_durable(
    cond: Condition,
    optional: frozenset[str] = frozenset(),
    lowered: Mapping[Condition, str] | None = None,
) -> dict[str, Any] | None:
    """Translate a resolved condition into durable_rules' JSON expression syntax.

    Negation is pushed to the leaves. durable_rules matches nothing on a missing
    property, even ``$neq``; so where a field is ``optional`` the negated leaf also
    accepts its absence (``$nex``), which keeps the two back ends in exact agreement.
    A part listed in ``lowered`` is not sent as an expression: the adapter computes it
    on the Python side and posts it as the boolean fact named there, so the expression
    is a single test of that fact. Returns ``None`` for :class:`Always`.
    """
    require_instance(cond, Condition, "cond", "a Condition")
    if lowered is not None:
        require_mapping(lowered, "lowered", "a mapping of conditions to fact names")
    if not isinstance(optional, frozenset | set):
        optional = frozenset(require_texts(optional, "optional", "a set of field names"))
    if isinstance(cond, Always):
        return None
    return _durable(cond, negate=False, optional=optional, lowered=lowered or {})


def durable_nodes(
    cond: Condition,
    optional: frozenset[str] = frozenset(),
    lowered: Mapping[Condition, str] | None = None,
) -> Iterator[tuple[Condition, dict[str, Any]]]:
    """Every part of ``cond`` (depth first) with the expression durable_rules gets for it,
    in the polarity in which it appears (a part under ``not`` is emitted negated)."""
    low = lowered or {}
    stack: list[tuple[Condition, bool]] = [(cond, False)]
    while stack:
        node, negate = stack.pop()
        if isinstance(node, Always):
            continue
        yield node, _durable(node, negate=negate, optional=optional, lowered=low)
        if node in low:
            continue
        if isinstance(node, Not):
            stack.append((node.part, not negate))
        elif isinstance(node, All | AnyOf):
            stack.extend((p, negate) for p in reversed(node.parts))


def _leaf(field: str, op: Op, value: Scalar) -> dict[str, Any]:
    if op is Op.EQ:
        return {field: value}
    return {_DURABLE_OPS[op]: {field: value}}


def _distinct(values: list[Scalar]) -> list[Scalar]:
    """The values without repeats (``1`` and ``1.0`` are one value): durable_rules would
    otherwise match one fact once per copy, and ``in`` means membership."""
    return list(dict.fromkeys(values))


def _durable(
    cond: Condition, *, negate: bool, optional: frozenset[str], lowered: Mapping[Condition, str]
) -> dict[str, Any]:
    name = lowered.get(cond) if lowered else None
    if name is not None:
        # Computed on the Python side and always posted: no absence to allow for.
        return {name: not negate}
    if isinstance(cond, Not):
        return _durable(cond.part, negate=not negate, optional=optional, lowered=lowered)
    if isinstance(cond, All | AnyOf):
        parts = [_durable(p, negate=negate, optional=optional, lowered=lowered) for p in cond.parts]
        conj = isinstance(cond, All) != negate
        if len(parts) == 1:
            return parts[0]
        return {"$and": parts} if conj else {"$or": parts}
    if isinstance(cond, Truth):
        if not negate:
            return {cond.field: True}
        return {"$or": [{"$neq": {cond.field: True}}, {"$nex": {cond.field: 1}}]}
    if isinstance(cond, Always):
        msg = "an always-true condition cannot be nested"
        raise ConditionError(msg)
    assert isinstance(cond, Compare | Between | In)
    field = cond.field
    if isinstance(cond, Compare):
        positive: list[tuple[Op, Scalar]] = [(cond.op, _plain(cond.value))]
        conj = True
    elif isinstance(cond, Between):
        positive = [(Op.GE, _plain(cond.low)), (Op.LE, _plain(cond.high))]
        conj = True
    else:
        positive = [(Op.EQ, v) for v in _distinct([_plain(v) for v in cond.values])]
        conj = False
    if not negate:
        leaves = [_leaf(field, op, v) for op, v in positive]
        if len(leaves) == 1:
            return leaves[0]
        return {"$and": leaves} if conj else {"$or": leaves}
    leaves = [_leaf(field, op.negated(), v) for op, v in positive]
    body: dict[str, Any] = (
        leaves[0] if len(leaves) == 1 else ({"$or": leaves} if conj else {"$and": leaves})
    )
    if field in optional:
        return {"$or": [body, {"$nex": {field: 1}}]}
    return body


# --------------------------------------------------------------------------- measuring


@attrs.frozen
class DurableShape:
    """What one durable_rules expression costs.

    ``alternatives``: the conjunctions it expands to (each ``or`` alternative is one;
    an ``and`` of ``or`` groups counts their product, an upper bound) — DURABLE_RULES.md
    #3 counts these. ``at_once``: how many of them one fact can match at the same time
    (an ``in`` list matches at most one; an absent-field alternative excludes the
    others) — #4 counts these. ``groups``: its ``$and``/``$or`` groups — durable_rules
    refuses a rule with 16 of them (error 113, measured).
    """

    alternatives: int
    at_once: int
    groups: int


def shape(expr: Mapping[str, Any] | None) -> DurableShape:
    """The :class:`DurableShape` of an expression emitted by :func:`to_durable`."""
    if expr is None:
        return DurableShape(1, 1, 0)
    (key, value), *_ = expr.items()
    if key not in _GROUPS:
        return DurableShape(1, 1, 0)
    parts = [shape(p) for p in value]
    groups = 1 + sum(p.groups for p in parts)
    if key == "$and":
        alternatives = at_once = 1
        for p in parts:
            alternatives *= p.alternatives
            at_once *= p.at_once
        return DurableShape(alternatives, at_once, groups)
    alternatives = sum(p.alternatives for p in parts)
    if _one_field_equalities(value):
        at_once = 1
    elif _absent_alternative(value):
        at_once = max(
            1, sum(p.at_once for p, e in zip(parts, value, strict=True) if "$nex" not in e)
        )
    else:
        at_once = sum(p.at_once for p in parts)
    return DurableShape(alternatives, at_once, groups)


def _one_field_equalities(parts: list[Mapping[str, Any]]) -> bool:
    """``{f: v1}, {f: v2} …`` with distinct values: at most one holds for a fact."""
    fields = {next(iter(p)) for p in parts}
    return (
        len(fields) == 1
        and not next(iter(fields)).startswith("$")
        and all(len(p) == 1 for p in parts)
    )


def _absent_alternative(parts: list[Mapping[str, Any]]) -> bool:
    """``[body, {"$nex": {f: 1}}]``: the absence alternative excludes the body, which
    reads only ``f`` and so needs it present."""
    nex = [p for p in parts if "$nex" in p]
    if len(nex) != 1 or len(parts) != 2:
        return False
    field = next(iter(nex[0]["$nex"]))
    body = next(p for p in parts if "$nex" not in p)
    return _reads(body) == {field}


def _reads(expr: Mapping[str, Any]) -> set[str]:
    (key, value), *_ = expr.items()
    if key in _GROUPS:
        found: set[str] = set()
        for p in value:
            found |= _reads(p)
        return found
    if key.startswith("$"):
        return set(value)
    return {key}
