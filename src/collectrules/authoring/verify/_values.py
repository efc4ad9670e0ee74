"""Values of the search: absent fields, substitution into conditions, exact numbers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from collectrules.conditions import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    In,
    Not,
    Truth,
    compare,
)
from collectrules.errors import quote


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
    msg = f"not a leaf: {quote(leaf)}"
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
    msg = f"not a condition: {quote(cond)}"
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
