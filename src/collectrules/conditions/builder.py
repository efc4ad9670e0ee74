"""The Python front end of the condition language: ``F.dpd > 30``."""

from __future__ import annotations

import enum
from decimal import Decimal

from collectrules._json import unheld
from collectrules.conditions.ir import (
    Between,
    Compare,
    In,
    Op,
    Param,
    Truth,
    Value,
)
from collectrules.errors import ConditionError, quote

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
        return _decimal(value)
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        return value.value
    msg = f"expected a number, a string, a boolean or a Param, got {type(value).__name__}"
    raise ConditionError(msg)


#: A whole number past this exponent is past what a leaf holds (10**100), and is refused
#: before ``int`` writes out its digits.
_MAX_DIGITS = 100


def _decimal(value: Decimal) -> int | float:
    """A decimal constant as the IR holds it: a whole number as an ``int``, any other as
    the float that holds it as written. A NaN or an infinity, a whole number of more
    than 100 digits (``1E+999999``, which ``int`` would take minutes to write out), and
    a number a float does not hold (``1E-400``, read as 0.0) are a ConditionError."""
    if not value.is_finite():  # before any arithmetic, which a signalling NaN traps
        raise ConditionError(f"{quote(value)} is not a finite number")
    if value.is_zero():
        return 0  # 0E+999999 too, and -0
    if value == value.to_integral_value():
        if value.adjusted() > _MAX_DIGITS:  # the IR's own bound checks the others exactly
            raise ConditionError(f"expected a number of at most 100 digits, got {quote(value)}")
        return int(value)
    number = float(value)
    problem = unheld(str(value), number)
    if problem is not None:
        raise ConditionError(problem)
    return number


class _FieldBuilder:
    """``F.dpd``, ``F["dpd"]``: the entry point of the Python builder."""

    def __getattr__(self, name: str) -> _FieldRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return _FieldRef(name)

    def __getitem__(self, name: str) -> _FieldRef:
        return _FieldRef(name)


F = _FieldBuilder()
