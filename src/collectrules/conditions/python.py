"""The Python back end: conditions compiled to predicates over flat facts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from collectrules._arguments import require_instance, require_mapping, wrong_kind
from collectrules._decimal import exact
from collectrules.conditions.ir import (
    MONEY_SCALE,
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    Facts,
    FieldSpec,
    FieldType,
    In,
    Not,
    Op,
    Scalar,
    Truth,
    _plain,
)
from collectrules.errors import ConditionError, quote


def predicate(cond: Condition) -> Callable[[Facts], bool]:
    """Compile a resolved condition into a fast Python predicate on flat facts.

    It agrees with :meth:`Condition.evaluate` on every input, errors included: facts
    that are no mapping, or a fact whose value does not compare with its leaf's
    constant, are a :class:`~collectrules.errors.ConditionError` naming the field. No
    ``eval`` is involved, only nested closures.
    """
    test = unchecked_predicate(cond)

    def checked(facts: Facts) -> bool:
        if type(facts) is dict or isinstance(facts, Mapping):
            try:
                return test(facts)
            except (TypeError, ArithmeticError):
                pass
        cond.evaluate(facts)  # the reference: raises the error naming the field
        msg = f"cannot evaluate {quote(cond.to_text())} on these facts"
        raise ConditionError(msg)

    return checked


def unchecked_predicate(cond: Condition) -> Callable[[Facts], bool]:
    """:func:`predicate` without its check: a fact that does not compare raises Python's
    own ``TypeError``. For the engine's evaluators, whose facts are typed by the
    derivation."""
    if isinstance(cond, Always):
        return lambda facts: True
    if isinstance(cond, Compare):
        name, value, op = cond.field, _plain(cond.value), cond.op
        if op is Op.GT:
            return lambda f: name in f and f[name] > value
        if op is Op.GE:
            return lambda f: name in f and f[name] >= value
        if op is Op.LT:
            return lambda f: name in f and f[name] < value
        if op is Op.LE:
            return lambda f: name in f and f[name] <= value
        if op is Op.EQ:
            return lambda f: name in f and f[name] == value
        return lambda f: name in f and f[name] != value
    if isinstance(cond, Between):
        name, low, high = cond.field, _plain(cond.low), _plain(cond.high)
        return lambda f: name in f and low <= f[name] <= high
    if isinstance(cond, In):
        name = cond.field
        allowed = tuple(_plain(v) for v in cond.values)
        return lambda f: name in f and f[name] in allowed
    if isinstance(cond, Truth):
        name = cond.field
        return lambda f: f.get(name) is True
    if isinstance(cond, All):
        parts = tuple(unchecked_predicate(p) for p in cond.parts)
        return lambda f: all(p(f) for p in parts)
    if isinstance(cond, AnyOf):
        parts = tuple(unchecked_predicate(p) for p in cond.parts)
        return lambda f: any(p(f) for p in parts)
    if isinstance(cond, Not):
        inner = unchecked_predicate(cond.part)
        return lambda f: not inner(f)
    msg = f"not a condition: {quote(cond)}"
    raise ConditionError(msg)


def compile_condition(
    cond: Condition, params: Mapping[str, Scalar], schema: Mapping[str, FieldSpec]
) -> Condition:
    """Resolve parameters and scale money constants to the facts' integer units."""
    require_instance(cond, Condition, "cond", "a Condition")
    require_mapping(params, "params", "a mapping of parameter names to values")
    require_mapping(schema, "schema", "a mapping of field names to FieldSpec")
    resolved = cond.resolve(params)
    return _scale_money(resolved, schema)


@exact
def _scale(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        scaled = Decimal(repr(value)) * MONEY_SCALE
        return int(scaled) if scaled == scaled.to_integral_value() else float(scaled)
    return value


def _scale_money(cond: Condition, schema: Mapping[str, FieldSpec]) -> Condition:
    def money(name: str) -> bool:
        spec = schema.get(name)
        if spec is not None and not isinstance(spec, FieldSpec):
            raise wrong_kind(f"schema[{quote(name)}]", spec, "a FieldSpec")
        return spec is not None and spec.type is FieldType.MONEY

    if isinstance(cond, Compare) and money(cond.field):
        return Compare(cond.field, cond.op, _scale(cond.value))
    if isinstance(cond, Between) and money(cond.field):
        return Between(cond.field, _scale(cond.low), _scale(cond.high))
    if isinstance(cond, In) and money(cond.field):
        return In(cond.field, tuple(_scale(v) for v in cond.values))
    if isinstance(cond, All):
        return All(tuple(_scale_money(p, schema) for p in cond.parts))
    if isinstance(cond, AnyOf):
        return AnyOf(tuple(_scale_money(p, schema) for p in cond.parts))
    if isinstance(cond, Not):
        return Not(_scale_money(cond.part, schema))
    return cond
