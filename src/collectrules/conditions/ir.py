"""The condition IR: fields, constants, comparisons, and, or, not, in, between.

The reference semantics (:meth:`Condition.evaluate`) and the text form live here too.

Semantics of absence: a field that a case does not have (a measured signal never
observed) makes every comparison on it false; ``not`` is plain negation of the result.
Both back ends implement exactly this.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

import attrs

from collectrules._choice import Choice
from collectrules.errors import ConditionError, did_you_mean, quote
from collectrules.model.limits import check_text

__all__ = [
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_TEXT",
    "MONEY_SCALE",
    "All",
    "Always",
    "AnyOf",
    "Between",
    "Compare",
    "Condition",
    "Facts",
    "FieldSpec",
    "FieldType",
    "In",
    "Not",
    "Op",
    "Param",
    "Scalar",
    "Truth",
    "Value",
    "compare",
]

#: Money facts are integers in units of 10^-4 of the currency's major unit: exact for
#: every ISO 4217 currency, and safe for durable_rules, which has no decimal type.
MONEY_SCALE = 10_000

#: The largest magnitude a numeric constant may have (money constants in the facts'
#: units): every integer up to it is exact as a double, so both back ends compare it
#: exactly, and durable_rules, which reads 64-bit integers and doubles, reads it as is.
MAX_CONSTANT = 2**53

#: How deeply a condition may nest (``and``, ``or`` and ``not`` each add a level, a leaf
#: is one): a deeper one is a :class:`~collectrules.errors.ConditionError` when it is
#: built. Every walk over a condition (its evaluation, its text, its equality, the
#: evaluators compiled from it) goes down the tree level by level, and Python's
#: recursion limit ends one that goes a thousand levels down. A policy allows fewer
#: (32, ``MAX_CONDITION_DEPTH`` of the loader).
MAX_DEPTH = 100

#: How many parts a condition may hold once written out (each group, negation and leaf
#: counts one): a larger one is a :class:`~collectrules.errors.ConditionError` when it
#: is built. A named condition stands for its condition wherever it is named, so a few
#: names that each name the next twice (``c0 = "c1 and c1"``, ``c1 = "c2 and c2"`` …)
#: would write out a condition of millions of parts from a short file, which every walk
#: over it (evaluation, text, compiled evaluators) would then go through.
MAX_PARTS = 10_000

Scalar: TypeAlias = int | float | str | bool
Facts: TypeAlias = Mapping[str, Any]
MAX_TEXT = 4_000


class FieldType(Choice):
    """The type of a fact field, which decides what it may be compared with."""

    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    BOOL = "bool"
    ENUM = "enum"
    STR = "str"


def _field_type(value: object) -> None:
    """A field's type is a :class:`FieldType`."""
    if not isinstance(value, FieldType):
        known = ", ".join(t.value for t in FieldType)
        msg = f"FieldSpec.type: expected a FieldType ({known}), got {quote(value)}"
        raise ConditionError(msg)


@attrs.frozen
class FieldSpec:
    """One field of the fact schema that conditions may read.

    ``optional`` fields may be absent from a case's facts (a measured signal never
    observed); ``choices`` lists an enum field's values.
    """

    name: str
    type: FieldType = attrs.field(validator=lambda _, __, v: _field_type(v))
    doc: str = ""
    optional: bool = False
    choices: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        """Whether the field holds a number."""
        return self.type in (FieldType.INT, FieldType.NUMBER, FieldType.MONEY)


class Op(Choice):
    """A comparison operator."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="

    def flipped(self) -> Op:
        """The operator with its operands swapped: ``3 < x`` is ``x > 3``."""
        return {Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE}.get(self, self)

    def negated(self) -> Op:
        """The complementary operator: not ``x < 3`` is ``x >= 3`` (for present fields)."""
        return {
            Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT, Op.EQ: Op.NE, Op.NE: Op.EQ,
        }[self]  # fmt: skip


def _param_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A parameter's name is a non-empty text."""
    if not isinstance(value, str) or not value:
        msg = f"Param.{attribute.name}: expected a parameter's name, got {quote(value)}"
        raise ConditionError(msg)


@attrs.frozen
class Param:
    """A reference to a policy parameter, resolved to its value when compiled."""

    name: str = attrs.field(validator=_param_name)


Value: TypeAlias = Scalar | Param


# --------------------------------------------------------------------------- the IR


class Condition:
    """The base of every IR node. Combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    #: The levels of the condition, its own included (set when a group is built).
    _depth: int = 1
    #: The parts the condition holds written out, itself included (set when a group is
    #: built; a leaf is one).
    _size: int = 1

    def __copy__(self) -> Condition:
        return self  # immutable

    def __deepcopy__(self, memo: Any) -> Condition:
        return self  # immutable: a copy would walk the tree for nothing

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))

    def __invert__(self) -> Condition:
        return Not(self)

    def fields(self) -> frozenset[str]:
        """The names of the fields the condition reads."""
        return frozenset(n.field for n in self.walk() if isinstance(n, _Leaf))

    def params(self) -> frozenset[str]:
        """The names of the parameters the condition refers to."""
        found: set[str] = set()
        for node in self.walk():
            for v in _leaf_values(node):
                if isinstance(v, Param):
                    found.add(v.name)
        return frozenset(found)

    def walk(self) -> Iterator[Condition]:
        """Every node of the condition, depth first."""
        yield self
        for child in _children(self):
            yield from child.walk()

    def resolve(self, params: Mapping[str, Scalar]) -> Condition:
        """The condition with every parameter replaced by its value."""
        return _resolve(self, params)

    def evaluate(self, facts: Facts) -> bool:
        """Evaluate on a flat fact dict (the reference semantics). Facts that are no
        mapping, or a fact whose value does not compare with its leaf's constant (a text
        where a number is compared), are a :class:`~collectrules.errors.ConditionError`
        naming the field."""
        if not isinstance(facts, Mapping):
            msg = f"expected the facts as a mapping of field names to values, got {quote(facts)}"
            raise ConditionError(msg)
        return _evaluate(self, facts)

    def to_text(self) -> str:
        """The condition in the string language; ``parse`` reads it back equal."""
        return _to_text(self, top=True)


@attrs.frozen(repr=False)
class Always(Condition):
    """The condition that always holds: a rule with no ``when``."""

    def __repr__(self) -> str:
        return "Always()"


def _field_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A leaf's field is a field's name: a non-empty text."""
    if not isinstance(value, str) or not value:
        msg = f"{type(instance).__name__}.{attribute.name}: expected a field's name, got"
        raise ConditionError(f"{msg} {quote(value)}")


def _op(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A comparison's operator is an :class:`Op`."""
    if not isinstance(value, Op):
        msg = f"{type(instance).__name__}.{attribute.name}: expected an Op, got {quote(value)}"
        raise ConditionError(msg)


#: The largest magnitude of an integer constant a leaf holds: far past any a comparison
#: could hold exactly (a policy refuses more than :data:`MAX_CONSTANT`), and short enough
#: to be written as text (Python refuses to write an integer of more than 4,300 digits).
_MAX_INTEGER = 10**100


def _constant(value: object) -> Value:
    """A leaf's constant as the IR holds it: a number, a text, ``True`` or ``False``, or
    a :class:`Param`; a subclass (an ``IntEnum``, a ``str`` enum) is read as its plain
    type. Anything else is a :class:`~collectrules.errors.ConditionError`."""
    if isinstance(value, Param):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        if -_MAX_INTEGER <= value <= _MAX_INTEGER:
            return int(value)
        msg = f"expected a number of at most 100 digits, got {quote(value)}"
    elif isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        msg = f"{quote(value)} is not a finite number"
    elif isinstance(value, str):
        try:
            return check_text(str(value), maximum=MAX_TEXT, what="text")
        except ValueError as exc:
            msg = str(exc)
    else:
        msg = f"expected a number, a text, true or false, or a Param, got {quote(value)}"
    raise ConditionError(msg)


def _constants(value: object) -> tuple[Value, ...]:
    """The constants of a membership test: a tuple (or list), each read by :func:`_constant`."""
    if not isinstance(value, tuple | list):
        msg = f"expected the values as a tuple, got {quote(value)}"
        raise ConditionError(msg)
    return tuple(map(_constant, value))


@attrs.frozen
class Compare(Condition):
    """``field op value``; a ``field`` that is no name, an ``op`` that is no :class:`Op`,
    or a ``value`` that is no constant (a number, a text, ``True``, ``False`` or a
    :class:`Param`; a float finite) is a :class:`~collectrules.errors.ConditionError`."""

    field: str = attrs.field(validator=_field_name)
    op: Op = attrs.field(validator=_op)
    value: Value = attrs.field(converter=_constant)


@attrs.frozen
class Between(Condition):
    """``low <= field <= high``, both ends included; the ends are constants as a
    :class:`Compare`'s value is."""

    field: str = attrs.field(validator=_field_name)
    low: Value = attrs.field(converter=_constant)
    high: Value = attrs.field(converter=_constant)


@attrs.frozen
class In(Condition):
    """``field in (v1, v2, ...)``; the values are constants as a :class:`Compare`'s
    value is (a list is read as a tuple)."""

    field: str = attrs.field(validator=_field_name)
    values: tuple[Value, ...] = attrs.field(converter=_constants)


@attrs.frozen
class Truth(Condition):
    """A bare boolean field: ``has_recovery_months``."""

    field: str = attrs.field(validator=_field_name)


def _parts(value: object) -> tuple[Condition, ...]:
    """A group's parts: a tuple (or list) of conditions."""
    if not isinstance(value, tuple | list):
        msg = f"expected the parts as a tuple of conditions, got {quote(value)}"
        raise ConditionError(msg)
    for index, part in enumerate(value):
        if not isinstance(part, Condition):
            msg = f"part {index}: expected a condition, got {quote(part)}"
            raise ConditionError(msg)
    return tuple(value)


def _part(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A negation's part is a condition."""
    if not isinstance(value, Condition):
        msg = f"{type(instance).__name__}.{attribute.name}: expected a condition, got"
        raise ConditionError(f"{msg} {quote(value)}")


def _set_depth(node: All | AnyOf | Not, parts: tuple[Condition, ...]) -> None:
    """Give a group its depth, one more than its deepest part's, and its size, the parts
    it holds written out (itself included); past :data:`MAX_DEPTH` or
    :data:`MAX_PARTS` it is a :class:`ConditionError`."""
    depth = 1 + max((p._depth for p in parts), default=0)
    if depth > MAX_DEPTH:
        msg = (
            f"the condition nests more than {MAX_DEPTH} levels deep ('and', 'or', 'not'):"
            " simplify it"
        )
        raise ConditionError(msg)
    size = 1 + sum(p._size for p in parts)
    if size > MAX_PARTS:
        msg = (
            f"the condition holds more than {MAX_PARTS:,} parts once its named conditions"
            " are written out: simplify it"
        )
        raise ConditionError(msg)
    object.__setattr__(node, "_depth", depth)
    object.__setattr__(node, "_size", size)


@attrs.frozen
class All(Condition):
    """Every part holds (``and``). ``parts`` are conditions; a group nested more than
    :data:`MAX_DEPTH` levels deep is a :class:`~collectrules.errors.ConditionError`."""

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)
    _depth: int = attrs.field(init=False, repr=False, eq=False, hash=False)
    _size: int = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _set_depth(self, self.parts)


@attrs.frozen
class AnyOf(Condition):
    """At least one part holds (``or``); its parts as those of :class:`All`."""

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)
    _depth: int = attrs.field(init=False, repr=False, eq=False, hash=False)
    _size: int = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _set_depth(self, self.parts)


@attrs.frozen
class Not(Condition):
    """The part does not hold; its depth is bounded as that of :class:`All`."""

    part: Condition = attrs.field(validator=_part)
    _depth: int = attrs.field(init=False, repr=False, eq=False, hash=False)
    _size: int = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _set_depth(self, (self.part,))


_Leaf = Compare | Between | In | Truth


def _children(node: Condition) -> tuple[Condition, ...]:
    if isinstance(node, All | AnyOf):
        return node.parts
    if isinstance(node, Not):
        return (node.part,)
    return ()


def _leaf_values(node: Condition) -> tuple[Value, ...]:
    if isinstance(node, Compare):
        return (node.value,)
    if isinstance(node, Between):
        return (node.low, node.high)
    if isinstance(node, In):
        return node.values
    return ()


# --------------------------------------------------------------------------- semantics


def _resolve(node: Condition, params: Mapping[str, Scalar]) -> Condition:
    def val(v: Value) -> Value:
        if isinstance(v, Param):
            if v.name not in params:
                msg = f"unknown parameter {quote(v.name)}"
                raise ConditionError(msg, field=v.name, suggestion=did_you_mean(v.name, params))
            return params[v.name]
        return v

    if isinstance(node, Compare):
        return Compare(node.field, node.op, val(node.value))
    if isinstance(node, Between):
        return Between(node.field, val(node.low), val(node.high))
    if isinstance(node, In):
        return In(node.field, tuple(val(v) for v in node.values))
    if isinstance(node, All):
        return All(tuple(_resolve(p, params) for p in node.parts))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(_resolve(p, params) for p in node.parts))
    if isinstance(node, Not):
        return Not(_resolve(node.part, params))
    return node


def compare(op: Op, a: Any, b: Any) -> bool:
    """``a op b``: the one implementation of the comparison operators. An ``op`` that is
    no :class:`Op`, or values that do not compare (a text with a number), is a
    :class:`~collectrules.errors.ConditionError`."""
    if not isinstance(op, Op):
        raise ConditionError(f"expected an Op, got {quote(op)}")
    try:
        return _compared(op, a, b)
    except (TypeError, ArithmeticError):  # ArithmeticError: decimal's InvalidOperation
        msg = f"{quote(a)} does not compare with {quote(b)} by {op.value}"
        raise ConditionError(msg) from None


def _evaluate(node: Condition, facts: Facts) -> bool:
    try:
        return _evaluated(node, facts)
    except (TypeError, ArithmeticError):
        pass
    # A fact whose value does not compare with its leaf's constant: named, leaf by leaf.
    for leaf in node.walk():
        if not isinstance(leaf, _Leaf):
            continue
        try:
            _evaluated(leaf, facts)
        except (TypeError, ArithmeticError):
            value = facts[leaf.field]
            msg = (
                f"cannot evaluate {quote(leaf.to_text())}: the fact holds {quote(value)}"
                f" ({type(value).__name__}), which does not compare with it"
            )
            raise ConditionError(msg, field=leaf.field) from None
    raise ConditionError(f"cannot evaluate {quote(node.to_text())} on these facts")


def _evaluated(node: Condition, facts: Facts) -> bool:
    if isinstance(node, Compare):
        if node.field not in facts:
            return False
        return _compared(node.op, facts[node.field], _plain(node.value))
    if isinstance(node, Between):
        if node.field not in facts:
            return False
        x = facts[node.field]
        return bool(_plain(node.low) <= x <= _plain(node.high))
    if isinstance(node, In):
        if node.field not in facts:
            return False
        return facts[node.field] in tuple(_plain(v) for v in node.values)
    if isinstance(node, Truth):
        return facts.get(node.field) is True
    if isinstance(node, All):
        return all(_evaluated(p, facts) for p in node.parts)
    if isinstance(node, AnyOf):
        return any(_evaluated(p, facts) for p in node.parts)
    if isinstance(node, Not):
        return not _evaluated(node.part, facts)
    if isinstance(node, Always):
        return True
    msg = f"not a condition: {quote(node)}"
    raise ConditionError(msg)


def _compared(op: Op, a: Any, b: Any) -> bool:
    """``a op b`` for an :class:`Op`, raising what the comparison raises."""
    if op is Op.LT:
        return bool(a < b)
    if op is Op.LE:
        return bool(a <= b)
    if op is Op.GT:
        return bool(a > b)
    if op is Op.GE:
        return bool(a >= b)
    if op is Op.EQ:
        return bool(a == b)
    return bool(a != b)


def _plain(v: Value) -> Any:
    if isinstance(v, Param):
        msg = f"unresolved parameter {quote(v.name)}; call resolve() first"
        raise ConditionError(msg, field=v.name)
    return v


# --------------------------------------------------------------------------- printing


def _fmt(v: Value) -> str:
    if isinstance(v, Param):
        return v.name
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _to_text(node: Condition, *, top: bool = False) -> str:
    if isinstance(node, Always):
        return ""
    if isinstance(node, Compare):
        return f"{node.field} {node.op.value} {_fmt(node.value)}"
    if isinstance(node, Between):
        return f"{_fmt(node.low)} <= {node.field} <= {_fmt(node.high)}"
    if isinstance(node, In):
        inner = ", ".join(_fmt(v) for v in node.values)
        if len(node.values) == 1:
            inner += ","
        return f"{node.field} in ({inner})"
    if isinstance(node, Truth):
        return node.field
    if isinstance(node, Not):
        return f"not ({_to_text(node.part)})"
    if isinstance(node, All | AnyOf):
        word = " and " if isinstance(node, All) else " or "
        text = word.join(_to_text(p) for p in node.parts)
        return text if top else f"({text})"
    msg = f"not a condition: {quote(node)}"
    raise ConditionError(msg)
