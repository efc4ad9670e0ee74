"""The condition language: one small IR, two front ends, two back ends.

Front ends:

* a Python builder, ``F.dpd > 30``, ``(F.dpd > 30) & (F.promise_broken >= 1)``
  (:mod:`collectrules.conditions.builder`);
* a safe string parser, ``parse("dpd > 30 and promise_broken >= 1")``
  (:mod:`collectrules.conditions.parser`). It reads the text with :func:`ast.parse`,
  which never runs code, and accepts only names, constants, comparisons and
  ``and``/``or``/``not``; anything else is a :class:`~collectrules.ConditionError` that
  gives the column.

Both front ends are checked against a policy's fact schema
(:mod:`collectrules.conditions.check`).

Back ends: :meth:`Condition.evaluate` and the compiled :func:`predicate`
(:mod:`collectrules.conditions.python`) on a flat fact dict, and :func:`to_durable`
(:mod:`collectrules.conditions.durable_json`), which emits durable_rules' JSON condition
syntax.

Semantics of absence: a field that a case does not have (a measured signal never
observed) makes every comparison on it false; ``not`` is plain negation of the result.
Both back ends implement exactly this.
"""

from __future__ import annotations

from collectrules.conditions.builder import F
from collectrules.conditions.check import check, check_value
from collectrules.conditions.durable_json import to_durable
from collectrules.conditions.ir import (
    MAX_CONSTANT,
    MAX_DEPTH,
    MAX_PARTS,
    MAX_TEXT,
    MONEY_SCALE,
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Not,
    Op,
    Param,
    Scalar,
    Truth,
    compare,
)
from collectrules.conditions.parser import parse
from collectrules.conditions.python import compile_condition, predicate

__all__ = [
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_PARTS",
    "MAX_TEXT",
    "MONEY_SCALE",
    "All",
    "Always",
    "AnyOf",
    "Between",
    "Compare",
    "Condition",
    "F",
    "FieldSpec",
    "FieldType",
    "In",
    "Not",
    "Op",
    "Param",
    "Scalar",
    "Truth",
    "check",
    "check_value",
    "compare",
    "compile_condition",
    "parse",
    "predicate",
    "to_durable",
]
