"""The Python front end of the condition language: ``F.dpd > 30``."""

from __future__ import annotations

import enum
from decimal import Decimal

from collectrules.conditions.ir import (
    Between,
    Compare,
    In,
    Op,
    Param,
    Truth,
    Value,
)
from collectrules.errors import ConditionError

# --------------------------------------------------------------------------- builder


class _FieldRef:
    """``F.name``: a field reference that builds comparisons."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"F.{self._name}"

    def _cmp(self, op: Op, other: object) -> Compare:
        if isinstance(other, _FieldRef):
            msg = "compare a field with a constant or a parameter, not with another field"
            raise ConditionError(msg, field=self._name)
        return Compare(self._name, op, _const(other))

    def __lt__(self, other: object) -> Compare:
        return self._cmp(Op.LT, other)

    def __le__(self, other: object) -> Compare:
        return self._cmp(Op.LE, other)

    def __gt__(self, other: object) -> Compare:
        return self._cmp(Op.GT, other)

    def __ge__(self, other: object) -> Compare:
        return self._cmp(Op.GE, other)

    def __eq__(self, other: object) -> Compare:  # type: ignore[override]
        return self._cmp(Op.EQ, other)

    def __ne__(self, other: object) -> Compare:  # type: ignore[override]
        return self._cmp(Op.NE, other)

    __hash__ = None  # type: ignore[assignment]

    def between(self, low: object, high: object) -> Between:
        """``low <= field <= high``."""
        return Between(self._name, _const(low), _const(high))

    def isin(self, *values: object) -> In:
        """``field in (values...)``."""
        return In(self._name, tuple(_const(v) for v in values))

    def is_true(self) -> Truth:
        """The boolean field holds."""
        return Truth(self._name)


def _const(value: object) -> Value:
    if isinstance(value, Param):
        return value
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        return value.value
    msg = f"expected a number, a string, a boolean or a Param, got {type(value).__name__}"
    raise ConditionError(msg)


class _FieldBuilder:
    """``F.dpd``, ``F["dpd"]``: the entry point of the Python builder."""

    def __getattr__(self, name: str) -> _FieldRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return _FieldRef(name)

    def __getitem__(self, name: str) -> _FieldRef:
        return _FieldRef(name)


F = _FieldBuilder()
