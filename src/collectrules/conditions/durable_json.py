"""The durable_rules back end: conditions as durable_rules' JSON expressions.

This module emits data only; it never imports durable_rules."""

from __future__ import annotations

from typing import Any

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

# --------------------------------------------------------------------------- durable

_DURABLE_OPS = {Op.LT: "$lt", Op.LE: "$lte", Op.GT: "$gt", Op.GE: "$gte", Op.NE: "$neq"}


def to_durable(cond: Condition, optional: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """Translate a resolved condition into durable_rules' JSON expression syntax.

    Negation is pushed to the leaves. durable_rules matches nothing on a missing
    property, even ``$neq``; so where a field is ``optional`` the negated leaf also
    accepts its absence (``$nex``), which keeps the two back ends in exact agreement.
    Returns ``None`` for :class:`Always`.
    """
    if isinstance(cond, Always):
        return None
    return _durable(cond, negate=False, optional=optional)


def _leaf(field: str, op: Op, value: Scalar) -> dict[str, Any]:
    if op is Op.EQ:
        return {field: value}
    return {_DURABLE_OPS[op]: {field: value}}


def _durable(cond: Condition, *, negate: bool, optional: frozenset[str]) -> dict[str, Any]:
    if isinstance(cond, Not):
        return _durable(cond.part, negate=not negate, optional=optional)
    if isinstance(cond, All | AnyOf):
        parts = [_durable(p, negate=negate, optional=optional) for p in cond.parts]
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
        positive = [(Op.EQ, _plain(v)) for v in cond.values]
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
