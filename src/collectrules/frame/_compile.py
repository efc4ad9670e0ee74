"""The condition IR compiled to Polars expressions, and each hit policy to columns.

A fact is a column; a fact a case does not have is null. Every leaf of a condition
is filled with ``False`` where its field is null, so that a missing field makes every
comparison on it false and ``not`` is plain negation of the result: the reference
semantics of :mod:`collectrules.conditions.ir`.

Nothing here evaluates Python per row: every expression is a native Polars one
(``when/then`` chains, boolean algebra, ``concat_list``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs
import polars as pl

from collectrules.conditions import (
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
    Truth,
)
from collectrules.conditions.python import compile_condition
from collectrules.errors import EngineError, quote
from collectrules.model.decision import Quadrant
from collectrules.policy import ConflictRule, HitPolicy, Layer, Policy, RemedyEffect

__all__ = [
    "DTYPES",
    "SEPARATOR",
    "CompiledFrame",
    "compile_frame",
    "condition_expr",
    "dtype_of",
    "ids_text",
    "lower_condition",
]

#: The Polars type of each fact field type.
DTYPES: Mapping[FieldType, Any] = {
    FieldType.INT: pl.Int64,
    FieldType.NUMBER: pl.Float64,
    FieldType.MONEY: pl.Int64,
    FieldType.BOOL: pl.Boolean,
    FieldType.ENUM: pl.String,
    FieldType.STR: pl.String,
}


def dtype_of(spec: FieldSpec) -> Any:
    """The Polars type of a fact field."""
    return DTYPES[spec.type]


class _Column(Protocol):
    """A column of either engine, as the condition IR is lowered to it: a Polars
    expression or a Spark column (each operator gives a column of the same engine)."""

    def __lt__(self, other: Any, /) -> Any: ...
    def __le__(self, other: Any, /) -> Any: ...
    def __gt__(self, other: Any, /) -> Any: ...
    def __ge__(self, other: Any, /) -> Any: ...
    def __eq__(self, other: Any, /) -> Any: ...
    def __ne__(self, other: Any, /) -> Any: ...
    def __and__(self, other: Any, /) -> Any: ...
    def __or__(self, other: Any, /) -> Any: ...
    def __invert__(self) -> Any: ...


C = TypeVar("C", bound=_Column)


def _compare(column: C, op: Op, value: C) -> C:
    result: C
    if op is Op.LT:
        result = column < value
    elif op is Op.LE:
        result = column <= value
    elif op is Op.GT:
        result = column > value
    elif op is Op.GE:
        result = column >= value
    elif op is Op.EQ:
        result = column == value
    else:
        result = column != value
    return result


def lower_condition(
    cond: Condition,
    col: Callable[[str], C],
    lit: Callable[[Any], C],
    leaf: Callable[[C], C],
) -> C:
    """A resolved condition as a boolean column of one engine, never null: ``col``
    names a fact's column, ``lit`` makes a literal and ``leaf`` makes a comparison
    false where its field is null (Polars here, Spark in :mod:`collectrules.spark`).
    A fact a case lacks is null, so ``not`` is plain negation, as in the reference
    semantics."""

    def lower(node: Condition) -> C:
        if isinstance(node, Always):
            return lit(True)
        if isinstance(node, Compare):
            return leaf(_compare(col(node.field), node.op, lit(node.value)))
        if isinstance(node, Between):
            column = col(node.field)
            low: C = column >= lit(node.low)
            high: C = column <= lit(node.high)
            return leaf(low & high)
        if isinstance(node, In):
            if not node.values:
                return lit(False)
            column = col(node.field)
            equal: list[C] = [column == lit(v) for v in node.values]
            return leaf(functools.reduce(operator.or_, equal))
        if isinstance(node, Truth):
            truth: C = col(node.field) == lit(True)
            return leaf(truth)
        if isinstance(node, All):
            if not node.parts:
                return lit(True)
            return functools.reduce(operator.and_, (lower(p) for p in node.parts))
        if isinstance(node, AnyOf):
            if not node.parts:
                return lit(False)
            return functools.reduce(operator.or_, (lower(p) for p in node.parts))
        if isinstance(node, Not):
            negated: C = ~lower(node.part)
            return negated
        msg = f"not a condition node: {type(node).__name__}"
        raise EngineError(msg)

    return lower(cond)


def _leaf(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null(value=False)


def _lit(value: Any) -> pl.Expr:
    return pl.lit(value)


def condition_expr(cond: Condition) -> pl.Expr:
    """A resolved condition as a boolean Polars expression, never null."""
    return lower_condition(cond, pl.col, _lit, _leaf)


def _any(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return functools.reduce(operator.or_, exprs) if exprs else pl.lit(value=False)


def _ids(entries: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    """A list column of the ids whose flag holds, in order (see :func:`ids_text`)."""
    if not entries:
        return pl.lit([], dtype=pl.List(pl.String))
    text = ids_text(entries)
    return (
        pl.when(text.is_null())
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(text.str.split(SEPARATOR))
    )


def ids_text(entries: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    """The ids whose flag holds, in order, as one text joined by :data:`SEPARATOR`
    (null when none holds).

    The flags are taken eight at a time as a byte; a table made once per policy gives
    each byte's ids as one string, the strings are joined and split again. Every step
    is a native Polars one, and much faster than building a list from a column per id.
    """
    if not entries:
        return pl.lit(None, dtype=pl.String)
    parts = []
    for start in range(0, len(entries), 8):
        chunk = entries[start : start + 8]
        byte = functools.reduce(
            operator.add,
            (flag.cast(pl.Int64) * (1 << i) for i, (flag, _) in enumerate(chunk)),
        )
        table = {
            value: SEPARATOR.join(i for bit, (_, i) in enumerate(chunk) if value >> bit & 1) or None
            for value in range(1 << len(chunk))
        }
        parts.append(byte.replace_strict(table, return_dtype=pl.String))
    text = pl.concat_str(parts, separator=SEPARATOR, ignore_nulls=True)
    return pl.when(text == "").then(pl.lit(None, dtype=pl.String)).otherwise(text)


#: Joins the ids of a trace held as one text (no id holds it).
SEPARATOR = "\x1f"


@attrs.frozen
class CompiledFrame:
    """A policy as Polars expressions, applied in stages by :meth:`apply`.

    ``apply`` adds, for each layer, the matches of its rules, its value (the layer's
    output column), and a flag for rows the layer cannot decide (two matches in a
    ``unique`` layer, no match and no default, a score in no band, a quadrant outside
    Q1–Q4): the per-case engine gives those rows their error. Then it adds the
    allowed and blocked remedies as list columns in the order of the policy's remedy catalogue, and
    ``__fired``, the ids of the trace's layer and remedy entries, in firing order, as
    one text (:func:`ids_text`).

    The expressions of every stage are built once, by :func:`compile_frame`, and the
    same ones are applied to every chunk of a run (a Polars expression holds no data).
    """

    policy: Policy
    stages: tuple[tuple[pl.Expr, ...], ...]
    drop: tuple[str, ...]

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The frame with the layers, remedies, trace ids and ``__undecided`` added (a
        plan: the caller selects what it keeps and collects it once)."""
        for stage in self.stages:
            frame = frame.with_columns(stage)
        return frame.drop(self.drop)


def _stages(
    policy: Policy,
    layer_conds: Sequence[Sequence[Condition]],
    remedy_conds: Sequence[Condition],
) -> CompiledFrame:
    """The stages of :class:`CompiledFrame`: each layer's matches, then its value and
    undecided flag; the remedies' matches; ``__undecided``; the lists."""
    stages: list[tuple[pl.Expr, ...]] = []
    undecided: list[pl.Expr] = []
    matches: list[str] = []
    for li, (layer, conds) in enumerate(zip(policy.layers, layer_conds, strict=True)):
        names = [f"__m{li}_{ri}" for ri in range(len(conds))]
        matches.extend(names)
        stages.append(tuple(condition_expr(c).alias(n) for c, n in zip(conds, names, strict=True)))
        value, bad = _layer(layer, names)
        stages.append((value.alias(layer.output), bad.alias(f"__bad{li}")))
        undecided.append(pl.col(f"__bad{li}"))
    quadrant = policy.layer("quadrant").output
    undecided.append(~pl.col(quadrant).is_in([q.value for q in Quadrant]).fill_null(value=True))
    rnames = [f"__r{ri}" for ri in range(len(remedy_conds))]
    matches.extend(rnames)
    stages.append(
        tuple(condition_expr(c).alias(n) for c, n in zip(remedy_conds, rnames, strict=True))
    )
    stages.append((_any(undecided).alias("__undecided"),))
    stages.append(tuple(_lists(policy, rnames)))
    return CompiledFrame(policy, tuple(stages), tuple(matches))


def _lists(policy: Policy, rnames: Sequence[str]) -> list[pl.Expr]:
    fired: list[tuple[pl.Expr, str]] = []
    for li, layer in enumerate(policy.layers):
        names = [f"__m{li}_{ri}" for ri in range(len(layer.rules))]
        fired.extend(_entries(layer, names))
    allowed, blocked = _remedies(policy, rnames)
    fired.extend((pl.col(n), rule.id) for rule, n in zip(policy.remedy_rules, rnames, strict=True))
    return [
        _ids(allowed).alias("allowed"),
        _ids(blocked).alias("blocked"),
        ids_text(fired).alias("__fired"),
    ]


def _entries(layer: Layer, names: Sequence[str]) -> list[tuple[pl.Expr, str]]:
    """A layer's trace entries, each a flag and an id: each matched rule, then
    ``.resolve`` for a ``collect_sum`` layer, or ``.default`` when nothing matched."""
    matched = [pl.col(n) for n in names]
    entries = [(m, rule.id) for rule, m in zip(layer.rules, matched, strict=True)]
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        entries.append((pl.lit(value=True), f"{layer.id}.resolve"))
    else:
        entries.append((~_any(matched), f"{layer.id}.default"))
    return entries


def _layer(layer: Layer, names: Sequence[str]) -> tuple[pl.Expr, pl.Expr]:
    """A layer's value and its undecided flag."""
    rules = layer.rules
    matched = [pl.col(n) for n in names]
    default = pl.lit(layer.default, dtype=pl.String)
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        score: pl.Expr = pl.lit(0.0)
        for rule, m in zip(rules, matched, strict=True):
            score = score + pl.when(m).then(pl.lit(float(rule.score))).otherwise(pl.lit(0.0))
        chain: Any = None
        for minimum, band in sorted(layer.bands, reverse=True):
            test = score >= pl.lit(float(minimum))
            chain = (
                pl.when(test).then(pl.lit(band))
                if chain is None
                else chain.when(test).then(pl.lit(band))
            )
        value = default if chain is None else chain.otherwise(default)
        return value, value.is_null()
    anything = _any(matched)
    order = list(zip(rules, matched, strict=True))
    if layer.hit_policy is HitPolicy.PRIORITY:
        position = {r.id: i for i, r in enumerate(rules)}
        order.sort(key=lambda rm: (-rm[0].priority, position[rm[0].id]))
    chain = None
    for rule, m in order:
        chain = (
            pl.when(m).then(pl.lit(rule.value))
            if chain is None
            else chain.when(m).then(pl.lit(rule.value))
        )
    value = default if chain is None else chain.otherwise(default)
    bad = ~anything & pl.lit(layer.default is None)
    if layer.hit_policy is HitPolicy.UNIQUE and len(matched) > 1:
        count = functools.reduce(operator.add, (m.cast(pl.Int32) for m in matched))
        bad = bad | (count > 1)
    return value, bad


def remedy_flags(
    policy: Policy,
    names: Sequence[str],
    col: Callable[[str], C],
    any_of: Callable[[Sequence[C]], C],
) -> tuple[list[tuple[C, str]], list[tuple[C, str]]]:
    """The allowed and blocked remedies as (flag, remedy) pairs, in the order of the
    policy's remedy catalogue: one flag per remedy from the columns ``names`` of the
    remedy rules, with the policy's conflict rule applied. ``col`` and ``any_of`` make
    the columns of one engine (Polars here, Spark in :mod:`collectrules.spark`)."""
    grants: dict[str, list[C]] = {}
    blocks: dict[str, list[C]] = {}
    for rule, name in zip(policy.remedy_rules, names, strict=True):
        target = blocks if rule.effect is RemedyEffect.BLOCK else grants
        for remedy in rule.remedies:
            target.setdefault(remedy, []).append(col(name))
    allowed: list[tuple[C, str]] = []
    blocked: list[tuple[C, str]] = []
    allow_wins = policy.conflict is ConflictRule.ALLOW_WINS
    for remedy in policy.remedies:  # the catalogue's order: standard, then the policy's own
        granted = any_of(grants.get(remedy, []))
        barred = any_of(blocks.get(remedy, []))
        if remedy in grants:
            keep = granted if allow_wins or remedy not in blocks else granted & ~barred
            allowed.append((keep, str(remedy)))
        if remedy in blocks:
            keep = barred if not allow_wins or remedy not in grants else barred & ~granted
            blocked.append((keep, str(remedy)))
    return allowed, blocked


def _remedies(
    policy: Policy, names: Sequence[str]
) -> tuple[list[tuple[pl.Expr, str]], list[tuple[pl.Expr, str]]]:
    """The allowed and blocked remedies as list parts (see :func:`remedy_flags`)."""
    return remedy_flags(policy, names, pl.col, _any)


def compile_frame(policy: Policy) -> CompiledFrame:
    """Compile ``policy``'s layer and remedy conditions (parameters resolved, types
    checked) for :meth:`CompiledFrame.apply`, once per policy."""
    compiled: CompiledFrame = policy.memo("frame_compiled", lambda: _compile_frame(policy))
    return compiled


def _compile_frame(policy: Policy) -> CompiledFrame:
    params = policy.parameter_values
    schema = policy.schema()
    layers = tuple(
        tuple(compile_condition(r.when, params, schema) for r in layer.rules)
        for layer in policy.layers
    )
    remedies = tuple(compile_condition(r.when, params, schema) for r in policy.remedy_rules)
    ids = [r.id for layer in policy.layers for r in layer.rules]
    ids += [layer.id for layer in policy.layers] + [r.id for r in policy.remedy_rules]
    if any(SEPARATOR in i or not i for i in ids):
        msg = f"policy {quote(policy.id)}: a rule or layer id is empty or holds a control character"
        raise EngineError(msg)
    return _stages(policy, layers, remedies)
