"""Type checking: a condition's fields and constants against a policy's fact schema."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from collectrules._arguments import require_instance, require_mapping
from collectrules.conditions.ir import (
    MAX_CONSTANT,
    MONEY_SCALE,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Op,
    Param,
    Scalar,
    Truth,
    _Leaf,
    _leaf_values,
)
from collectrules.errors import ConditionError, did_you_mean, quote


class ParameterTypeError(ConditionError):
    """A parameter whose value does not fit the field a condition compares it with.

    ``parameter`` names it, so that the policy loader can report the problem where the
    parameter is set, with every rule that uses it.
    """

    def __init__(self, message: str, *, parameter: str, **kw: Any) -> None:
        self.parameter = parameter
        super().__init__(message, **kw)


def check_value(spec: FieldSpec, op: Op, value: object) -> None:
    """Type-check ``field op value`` against the field's type.

    durable_rules would match ``'3' > 1.5``; this refuses it (DURABLE_RULES.md #14).
    """
    require_instance(spec, FieldSpec, "spec", "a FieldSpec")
    kind = spec.type
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = (
                f"field {quote(spec.name)} is {kind}; compare it with a number, not {_show(value)}"
            )
            raise ConditionError(msg, field=spec.name)
        if isinstance(value, float) and not math.isfinite(value):
            msg = f"{quote(value)} is not a finite number"
            raise ConditionError(msg, field=spec.name)
        scale = MONEY_SCALE if kind is FieldType.MONEY else 1
        if not abs(value) * scale <= MAX_CONSTANT:
            limit = "2**53" if scale == 1 else f"2**53 / {MONEY_SCALE}"
            msg = (
                f"field {quote(spec.name)}: {_show(value)} is too large to compare exactly; "
                f"constants are limited to ±{limit}"
            )
            raise ConditionError(msg, field=spec.name)
        return
    if kind is FieldType.BOOL:
        if not isinstance(value, bool):
            msg = (
                f"field {quote(spec.name)} is bool; compare "
                f"it with true or false, not {_show(value)}"
            )
            raise ConditionError(msg, field=spec.name)
        if op not in (Op.EQ, Op.NE):
            msg = f"field {quote(spec.name)} is bool; only == and != apply"
            raise ConditionError(msg, field=spec.name)
        return
    if not isinstance(value, str):
        msg = f"field {quote(spec.name)} is {kind}; compare it with a string, not {_show(value)}"
        raise ConditionError(msg, field=spec.name)
    if op not in (Op.EQ, Op.NE):
        msg = f"field {quote(spec.name)} is {kind}; only ==, != and 'in' apply"
        raise ConditionError(msg, field=spec.name)
    if kind is FieldType.ENUM and spec.choices and value not in spec.choices:
        msg = (
            f"{_show(value)} is not a value of {quote(spec.name)}; "
            f"expected one of {', '.join(spec.choices)}"
        )
        raise ConditionError(msg, field=spec.name, suggestion=did_you_mean(value, spec.choices))


def _show(value: object) -> str:
    """A constant as an error quotes it: at most 60 characters of it."""
    return quote(value, limit=60)


def check(cond: Condition, schema: Mapping[str, FieldSpec], params: Mapping[str, Scalar]) -> None:
    """Check a condition built in Python against a schema, as ``parse`` does for text."""
    require_instance(cond, Condition, "cond", "a Condition")
    require_mapping(schema, "schema", "a mapping of field names to FieldSpec")
    require_mapping(params, "params", "a mapping of parameter names to values")
    for node in cond.walk():
        if not isinstance(node, _Leaf):
            continue
        if node.field not in schema:
            msg = f"unknown field {quote(node.field)}"
            raise ConditionError(msg, field=node.field, suggestion=did_you_mean(node.field, schema))
        spec = schema[node.field]
        if isinstance(node, Between) and not spec.numeric:
            msg = f"a range needs a numeric field; {quote(node.field)} is {spec.type}"
            raise ConditionError(msg, field=node.field)
        if isinstance(node, Truth) and spec.type is not FieldType.BOOL:
            msg = f"field {quote(node.field)} is {spec.type}, not bool"
            raise ConditionError(msg, field=node.field)
        op = node.op if isinstance(node, Compare) else Op.EQ if isinstance(node, In) else Op.GE
        for v in _leaf_values(node):
            if not isinstance(v, Param):
                check_value(spec, op, v)
                continue
            if v.name not in params:
                msg = f"unknown parameter {quote(v.name)}"
                raise ConditionError(msg, field=v.name, suggestion=did_you_mean(v.name, params))
            try:
                check_value(spec, op, params[v.name])
            except ConditionError as exc:
                msg = f"parameter {quote(v.name)}: {exc.reason}"
                raise ParameterTypeError(msg, parameter=v.name, field=node.field) from None
