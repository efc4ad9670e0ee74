"""The condition IR compiled to Spark Column expressions, each hit policy to columns.

The same semantics as :mod:`collectrules.frame._compile`: a fact a case lacks is
null, every leaf is false where its field is null, ``not`` negates the result. Every
expression is native Spark SQL (``when``, boolean algebra, ``array`` and ``filter``):
no Python runs on the executors.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import attrs
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from collectrules.conditions import (
    Condition,
)
from collectrules.conditions.python import compile_condition
from collectrules.frame._compile import lower_condition, remedy_flags
from collectrules.model.decision import Quadrant
from collectrules.policy import HitPolicy, Layer, Policy

__all__ = ["SparkCompiled", "compile_spark", "condition_column"]


def _leaf(column: Column) -> Column:
    return F.coalesce(column, F.lit(False))


def _lit(value: Any) -> Column:
    return F.lit(value)


def _col(name: str) -> Column:
    return F.col(name)


def condition_column(cond: Condition) -> Column:
    """A resolved condition as a boolean Spark column, never null (the same lowering
    as the columnar engine's, :func:`collectrules.frame._compile.lower_condition`)."""
    return lower_condition(cond, _col, _lit, _leaf)


def _any(columns: Sequence[Column]) -> Column:
    return functools.reduce(operator.or_, columns) if columns else F.lit(False)


def _ids(entries: Sequence[tuple[Column, str]]) -> Column:
    """An array column of the ids whose flag holds, in order."""
    if not entries:
        return F.array().cast("array<string>")
    parts = F.array(*(F.when(flag, F.lit(i)) for flag, i in entries))
    return F.filter(parts, lambda x: x.isNotNull())


@attrs.frozen
class SparkCompiled:
    """A policy as Spark columns; :meth:`apply` adds the layers, the remedies, the
    trace ids (``__fired``) and ``__undecided`` (rows the per-case engine must decide)."""

    policy: Policy
    layer_conds: tuple[tuple[Condition, ...], ...]
    remedy_conds: tuple[Condition, ...]

    def apply(self, frame: DataFrame) -> DataFrame:
        """The frame with the decision's columns added."""
        undecided: list[Column] = []
        fired: list[tuple[Column, str]] = []
        matches: list[str] = []
        for li, (layer, conds) in enumerate(zip(self.policy.layers, self.layer_conds, strict=True)):
            names = [f"__m{li}_{ri}" for ri in range(len(conds))]
            matches.extend(names)
            frame = frame.withColumns(
                {n: condition_column(c) for c, n in zip(conds, names, strict=True)}
            )
            value, bad = _layer(layer, names)
            frame = frame.withColumns({layer.output: value, f"__bad{li}": bad})
            undecided.append(F.col(f"__bad{li}"))
            fired.extend(_entries(layer, names))
        quadrant = self.policy.layer("quadrant").output
        undecided.append(
            F.coalesce(~F.col(quadrant).isin([q.value for q in Quadrant]), F.lit(True))
        )
        rnames = [f"__r{ri}" for ri in range(len(self.remedy_conds))]
        matches.extend(rnames)
        frame = frame.withColumns(
            {n: condition_column(c) for c, n in zip(self.remedy_conds, rnames, strict=True)}
        )
        allowed, blocked = _remedies(self.policy, rnames)
        fired.extend(
            (F.col(n), rule.id) for rule, n in zip(self.policy.remedy_rules, rnames, strict=True)
        )
        return frame.withColumns(
            {
                "allowed": _ids(allowed),
                "blocked": _ids(blocked),
                "__fired": _ids(fired),
                "__undecided": _any(undecided),
            }
        ).drop(*matches)


def _entries(layer: Layer, names: Sequence[str]) -> list[tuple[Column, str]]:
    matched = [F.col(n) for n in names]
    entries = [(m, rule.id) for rule, m in zip(layer.rules, matched, strict=True)]
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        entries.append((F.lit(True), f"{layer.id}.resolve"))
    else:
        entries.append((~_any(matched), f"{layer.id}.default"))
    return entries


def _layer(layer: Layer, names: Sequence[str]) -> tuple[Column, Column]:
    rules = layer.rules
    matched = [F.col(n) for n in names]
    default = F.lit(layer.default).cast("string")
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        score: Column = F.lit(0.0)
        for rule, m in zip(rules, matched, strict=True):
            score = score + F.when(m, F.lit(float(rule.score))).otherwise(F.lit(0.0))
        chain: Any = None
        for minimum, band in sorted(layer.bands, reverse=True):
            test = score >= F.lit(float(minimum))
            chain = F.when(test, F.lit(band)) if chain is None else chain.when(test, F.lit(band))
        value = default if chain is None else chain.otherwise(default)
        return value, value.isNull()
    order = list(zip(rules, matched, strict=True))
    if layer.hit_policy is HitPolicy.PRIORITY:
        position = {r.id: i for i, r in enumerate(rules)}
        order.sort(key=lambda rm: (-rm[0].priority, position[rm[0].id]))
    chain = None
    for rule, m in order:
        lit = F.lit(rule.value)
        chain = F.when(m, lit) if chain is None else chain.when(m, lit)
    value = default if chain is None else chain.otherwise(default)
    bad = ~_any(matched) & F.lit(layer.default is None)
    if layer.hit_policy is HitPolicy.UNIQUE and len(matched) > 1:
        count = functools.reduce(operator.add, (m.cast("int") for m in matched))
        bad = bad | (count > 1)
    return value, bad


def _remedies(
    policy: Policy, names: Sequence[str]
) -> tuple[list[tuple[Column, str]], list[tuple[Column, str]]]:
    """The allowed and blocked remedies as flags (see :func:`remedy_flags`)."""
    return remedy_flags(policy, names, F.col, _any)


def compile_spark(policy: Policy) -> SparkCompiled:
    """Compile ``policy``'s conditions (parameters resolved, types checked) for Spark."""
    params = policy.parameter_values
    schema = policy.schema()
    layers = tuple(
        tuple(compile_condition(r.when, params, schema) for r in layer.rules)
        for layer in policy.layers
    )
    remedies = tuple(compile_condition(r.when, params, schema) for r in policy.remedy_rules)
    return SparkCompiled(policy, layers, remedies)
