"""The condition language: one small IR, two front ends, two back ends.

Front ends:

* a Python builder, ``F.dpd > 30``, ``(F.dpd > 30) & (F.promise_broken >= 1)``;
* a safe string parser, ``parse("dpd > 30 and promise_broken >= 1")``. It reads the
  text with :func:`ast.parse`, which never runs code, and accepts only names,
  constants, comparisons and ``and``/``or``/``not``; anything else (attribute access,
  calls, subscripts, lambdas, comprehensions) is a :class:`ConditionError` that gives
  the column.

Back ends: :meth:`Condition.evaluate` (and the compiled :func:`predicate`) on a flat fact
dict, and :func:`to_durable`, which emits durable_rules' JSON condition syntax.

Semantics of absence: a field that a case does not have (a measured signal never
observed) makes every comparison on it false; ``not`` is plain negation of the result.
Both back ends implement exactly this.
"""

from __future__ import annotations

import ast
import enum
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from collectrules.errors import ConditionError, did_you_mean

__all__ = [
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
    "Truth",
    "check",
    "check_value",
    "compare",
    "parse",
    "predicate",
    "to_durable",
]

#: Money facts are integers in units of 10^-4 of the currency's major unit: exact for
#: every ISO 4217 currency, and safe for durable_rules, which has no decimal type.
MONEY_SCALE = 10_000

Scalar: TypeAlias = int | float | str | bool
Facts: TypeAlias = Mapping[str, Any]
MAX_TEXT = 4_000


class FieldType(enum.StrEnum):
    """The type of a fact field, which decides what it may be compared with."""

    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    BOOL = "bool"
    ENUM = "enum"
    STR = "str"


@attrs.frozen
class FieldSpec:
    """One field of the fact schema that conditions may read.

    ``optional`` fields may be absent from a case's facts (a measured signal never
    observed); ``choices`` lists an enum field's values.
    """

    name: str
    type: FieldType
    doc: str = ""
    optional: bool = False
    choices: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        """Whether the field holds a number."""
        return self.type in (FieldType.INT, FieldType.NUMBER, FieldType.MONEY)


class Op(enum.StrEnum):
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


@attrs.frozen
class Param:
    """A reference to a policy parameter, resolved to its value when compiled."""

    name: str


Value: TypeAlias = Scalar | Param


# --------------------------------------------------------------------------- the IR


class Condition:
    """The base of every IR node. Combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

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
        """Evaluate on a flat fact dict (the reference semantics)."""
        return _evaluate(self, facts)

    def to_text(self) -> str:
        """The condition in the string language; ``parse`` reads it back equal."""
        return _to_text(self, top=True)


@attrs.frozen(repr=False)
class Always(Condition):
    """The condition that always holds: a rule with no ``when``."""

    def __repr__(self) -> str:
        return "Always()"


@attrs.frozen
class Compare(Condition):
    """``field op value``."""

    field: str
    op: Op
    value: Value


@attrs.frozen
class Between(Condition):
    """``low <= field <= high``, both ends included."""

    field: str
    low: Value
    high: Value


@attrs.frozen
class In(Condition):
    """``field in (v1, v2, ...)``."""

    field: str
    values: tuple[Value, ...]


@attrs.frozen
class Truth(Condition):
    """A bare boolean field: ``has_recovery_months``."""

    field: str


@attrs.frozen
class All(Condition):
    """Every part holds (``and``)."""

    parts: tuple[Condition, ...]


@attrs.frozen
class AnyOf(Condition):
    """At least one part holds (``or``)."""

    parts: tuple[Condition, ...]


@attrs.frozen
class Not(Condition):
    """The part does not hold."""

    part: Condition


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


# --------------------------------------------------------------------------- parser

_CMP_OPS: dict[type[ast.cmpop], Op] = {
    ast.Lt: Op.LT, ast.LtE: Op.LE, ast.Gt: Op.GT, ast.GtE: Op.GE, ast.Eq: Op.EQ, ast.NotEq: Op.NE,
}  # fmt: skip

_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Call: "a function call",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.NamedExpr: "an assignment expression",
    ast.Starred: "a starred expression",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "an f-string",
    ast.IfExp: "a conditional expression",
    ast.Dict: "a dict",
    ast.BinOp: "arithmetic",
    ast.UnaryOp: "an operator",
}

_BOOL_NAMES = {"true": True, "false": False, "True": True, "False": False}


def parse(
    text: str,
    *,
    schema: Mapping[str, FieldSpec] | None = None,
    params: Mapping[str, Scalar] | None = None,
) -> Condition:
    """Parse a condition string into the IR, without ever executing it.

    With ``schema``, every name must be a field of it or a parameter in ``params``
    (an unknown one is an error with a did-you-mean suggestion), and comparisons are
    type-checked. An empty text is :class:`Always`.
    """
    if not isinstance(text, str):
        msg = f"a condition must be a string, got {type(text).__name__}"
        raise ConditionError(msg)
    if len(text) > MAX_TEXT:
        msg = f"condition longer than {MAX_TEXT} characters"
        raise ConditionError(msg, text=text[:60] + "…")
    if not text.strip():
        return Always()
    try:
        with warnings.catch_warnings():
            # An invalid escape such as '\d' is a warning in Python; here it is an error.
            warnings.simplefilter("error", SyntaxWarning)
            warnings.simplefilter("error", DeprecationWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxWarning, DeprecationWarning) as exc:
        raise ConditionError(f"invalid text: {exc}", text=text) from None
    except SyntaxError as exc:
        message, col = _syntax_message(text, exc)
        raise ConditionError(message, text=text, column=col) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ConditionError(f"cannot parse: {type(exc).__name__}", text=text) from None
    builder = _Builder(text.strip(), schema, params)
    for node in sorted(
        (n for n in ast.walk(tree.body) if type(n) in _FORBIDDEN),
        key=lambda n: (getattr(n, "col_offset", 0), -getattr(n, "end_col_offset", 0)),
    ):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            continue
        raise builder.fail(node, f"{_FORBIDDEN[type(node)]} is not allowed in a condition")
    try:
        cond = builder.build(tree.body)
    except RecursionError:
        raise ConditionError("condition nested too deeply", text=text) from None
    return cond


_DANGLING = re.compile(r"(<=|>=|==|!=|<|>|\bnot in|\bin|\band|\bor|\bnot|\()\s*$")


def _syntax_message(text: str, exc: SyntaxError) -> tuple[str, int | None]:
    """A syntax error in the language's own terms where it can tell what is missing."""
    stripped = text.strip()
    column = max(exc.offset, 1) if exc.offset is not None else None
    dangling = _DANGLING.search(stripped)
    if dangling is not None:
        token = dangling.group(1)
        return f"syntax error: nothing follows {token!r}", dangling.start(1) + 1
    if stripped.count("(") != stripped.count(")"):
        return "syntax error: unbalanced parentheses", column
    if re.search(r"(?<![<>=!])=(?!=)", stripped):
        return "syntax error: '=' is not a comparison; use '=='", column
    return f"syntax error: {exc.msg}", column


class _Builder:
    def __init__(
        self,
        text: str,
        schema: Mapping[str, FieldSpec] | None,
        params: Mapping[str, Scalar] | None,
    ) -> None:
        self.text = text
        self.schema = schema
        self.params = params or {}

    def fail(self, node: ast.AST, message: str, **kw: Any) -> ConditionError:
        col = getattr(node, "col_offset", None)
        return ConditionError(
            message, text=self.text, column=None if col is None else col + 1, **kw
        )

    def build(self, node: ast.expr) -> Condition:
        for kind, what in _FORBIDDEN.items():
            if isinstance(node, kind):
                if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                    return Not(self.build(node.operand))
                if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                    break
                raise self.fail(node, f"{what} is not allowed in a condition")
        if isinstance(node, ast.BoolOp):
            parts = tuple(self.build(v) for v in node.values)
            return All(parts) if isinstance(node.op, ast.And) else AnyOf(parts)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            if node.id in _BOOL_NAMES:
                raise self.fail(node, "a bare constant is not a condition")
            name = self.field(node)
            self.check_bool_field(node, name)
            return Truth(name)
        raise self.fail(node, f"{type(node).__name__.lower()} is not allowed in a condition")

    def compare(self, node: ast.Compare) -> Condition:
        operands = [node.left, *node.comparators]
        ops = node.ops
        if len(ops) == 2 and all(isinstance(o, ast.Lt | ast.LtE) for o in ops):
            # low <= field <= high
            low, mid, high = operands
            if not all(isinstance(o, ast.LtE) for o in ops):
                raise self.fail(node, "a range must use <= at both ends: low <= field <= high")
            name = self.field(mid)
            lo, hi = self.value(low, name), self.value(high, name)
            self.check_numeric(mid, name, "a range")
            return Between(name, lo, hi)
        if len(ops) != 1:
            raise self.fail(node, "chain comparisons only as low <= field <= high")
        op_node, left, right = ops[0], operands[0], operands[1]
        if isinstance(op_node, ast.In | ast.NotIn):
            name = self.field(left)
            if not isinstance(right, ast.Tuple | ast.List | ast.Set):
                raise self.fail(right, "'in' needs a list of constants: x in ('a', 'b')")
            values = tuple(self.value(e, name) for e in right.elts)
            if not values:
                raise self.fail(right, "'in' needs at least one value")
            for e, v in zip(right.elts, values, strict=True):
                self.check_compare(e, name, Op.EQ, v)
            cond: Condition = In(name, values)
            return Not(cond) if isinstance(op_node, ast.NotIn) else cond
        if type(op_node) not in _CMP_OPS:
            raise self.fail(node, f"operator {type(op_node).__name__} is not allowed")
        op = _CMP_OPS[type(op_node)]
        if self.is_field(left):
            name, value_node = self.field(left), right
        elif self.is_field(right):
            name, value_node, op = self.field(right), left, op.flipped()
        else:
            if isinstance(left, ast.Name) and left.id not in _BOOL_NAMES:
                self.field(left)  # raises with a suggestion
            raise self.fail(node, "a comparison needs a field on one side")
        if self.is_field(value_node):
            raise self.fail(
                value_node, "compare a field with a constant or a parameter, not with another field"
            )
        value = self.value(value_node, name)
        self.check_compare(value_node, name, op, value)
        return Compare(name, op, value)

    def is_field(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Name) or node.id in _BOOL_NAMES:
            return False
        is_param = node.id in self.params
        return not (is_param and (self.schema is None or node.id not in self.schema))

    def field(self, node: ast.expr) -> str:
        if not isinstance(node, ast.Name):
            if type(node) in _FORBIDDEN:
                raise self.fail(node, f"{_FORBIDDEN[type(node)]} is not allowed in a condition")
            raise self.fail(node, "expected a field name")
        name = node.id
        if self.schema is not None and name not in self.schema:
            known = list(self.schema) + list(self.params)
            raise self.fail(
                node,
                f"unknown field {name!r}",
                field=name,
                suggestion=did_you_mean(name, known),
            )
        return name

    def value(self, node: ast.expr, field: str) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            return -node.operand.value
        if isinstance(node, ast.Name):
            if node.id in _BOOL_NAMES:
                return _BOOL_NAMES[node.id]
            if node.id in self.params:
                return Param(node.id)
            if self.schema is not None:
                known = list(self.params)
                raise self.fail(
                    node,
                    f"unknown parameter {node.id!r}",
                    field=node.id,
                    suggestion=did_you_mean(node.id, known),
                )
            return Param(node.id)
        if type(node) in _FORBIDDEN:
            raise self.fail(node, f"{_FORBIDDEN[type(node)]} is not allowed in a condition")
        raise self.fail(node, "expected a constant or a parameter")

    def spec(self, name: str) -> FieldSpec | None:
        return None if self.schema is None else self.schema.get(name)

    def check_numeric(self, node: ast.AST, name: str, what: str) -> None:
        spec = self.spec(name)
        if spec is not None and not spec.numeric:
            raise self.fail(node, f"{what} needs a numeric field; {name!r} is {spec.type}")

    def check_bool_field(self, node: ast.AST, name: str) -> None:
        spec = self.spec(name)
        if spec is not None and spec.type is not FieldType.BOOL:
            raise self.fail(
                node,
                f"field {name!r} is {spec.type}, not bool; compare it: {name} > 0",
                field=name,
            )

    def check_compare(self, node: ast.AST, name: str, op: Op, value: Value) -> None:
        spec = self.spec(name)
        if spec is None:
            return
        actual: object = self.params.get(value.name) if isinstance(value, Param) else value
        try:
            check_value(spec, op, actual)
        except ConditionError as exc:
            raise self.fail(node, exc.reason, field=name) from None


def check_value(spec: FieldSpec, op: Op, value: object) -> None:
    """Type-check ``field op value`` against the field's type.

    durable_rules would match ``'3' > 1.5``; this refuses it (DURABLE_RULES.md #14).
    """
    kind = spec.type
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"field {spec.name!r} is {kind}; compare it with a number, not {value!r}"
            raise ConditionError(msg, field=spec.name)
        if kind is FieldType.INT and isinstance(value, float) and not value.is_integer():
            return
        return
    if kind is FieldType.BOOL:
        if not isinstance(value, bool):
            msg = f"field {spec.name!r} is bool; compare it with true or false, not {value!r}"
            raise ConditionError(msg, field=spec.name)
        if op not in (Op.EQ, Op.NE):
            msg = f"field {spec.name!r} is bool; only == and != apply"
            raise ConditionError(msg, field=spec.name)
        return
    if not isinstance(value, str):
        msg = f"field {spec.name!r} is {kind}; compare it with a string, not {value!r}"
        raise ConditionError(msg, field=spec.name)
    if op not in (Op.EQ, Op.NE):
        msg = f"field {spec.name!r} is {kind}; only ==, != and 'in' apply"
        raise ConditionError(msg, field=spec.name)
    if kind is FieldType.ENUM and spec.choices and value not in spec.choices:
        msg = (
            f"{value!r} is not a value of {spec.name!r}; expected one of {', '.join(spec.choices)}"
        )
        raise ConditionError(msg, field=spec.name, suggestion=did_you_mean(value, spec.choices))


def check(cond: Condition, schema: Mapping[str, FieldSpec], params: Mapping[str, Scalar]) -> None:
    """Check a condition built in Python against a schema, as ``parse`` does for text."""
    for node in cond.walk():
        if isinstance(node, _Leaf):
            if node.field not in schema:
                msg = f"unknown field {node.field!r}"
                raise ConditionError(
                    msg, field=node.field, suggestion=did_you_mean(node.field, schema)
                )
            spec = schema[node.field]
            for v in _leaf_values(node):
                if isinstance(v, Param) and v.name not in params:
                    msg = f"unknown parameter {v.name!r}"
                    raise ConditionError(msg, field=v.name, suggestion=did_you_mean(v.name, params))
                actual = params[v.name] if isinstance(v, Param) else v
                op = Op.EQ if isinstance(node, In) else Op.GE
                if isinstance(node, Compare):
                    op = node.op
                check_value(spec, op, actual)
            if isinstance(node, Truth) and spec.type is not FieldType.BOOL:
                msg = f"field {node.field!r} is {spec.type}, not bool"
                raise ConditionError(msg, field=node.field)


# --------------------------------------------------------------------------- semantics


def _resolve(node: Condition, params: Mapping[str, Scalar]) -> Condition:
    def val(v: Value) -> Value:
        if isinstance(v, Param):
            if v.name not in params:
                msg = f"unknown parameter {v.name!r}"
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
    """``a op b``: the one implementation of the comparison operators."""
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


def _evaluate(node: Condition, facts: Facts) -> bool:
    if isinstance(node, Compare):
        if node.field not in facts:
            return False
        return compare(node.op, facts[node.field], _plain(node.value))
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
        return all(_evaluate(p, facts) for p in node.parts)
    if isinstance(node, AnyOf):
        return any(_evaluate(p, facts) for p in node.parts)
    if isinstance(node, Not):
        return not _evaluate(node.part, facts)
    if isinstance(node, Always):
        return True
    msg = f"not a condition: {node!r}"
    raise ConditionError(msg)


def _plain(v: Value) -> Any:
    if isinstance(v, Param):
        msg = f"unresolved parameter {v.name!r}; call resolve() first"
        raise ConditionError(msg, field=v.name)
    return v


def predicate(cond: Condition) -> Callable[[Facts], bool]:
    """Compile a resolved condition into a fast Python predicate on flat facts.

    It agrees with :meth:`Condition.evaluate` on every input; no ``eval`` is involved,
    only nested closures.
    """
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
        parts = tuple(predicate(p) for p in cond.parts)
        return lambda f: all(p(f) for p in parts)
    if isinstance(cond, AnyOf):
        parts = tuple(predicate(p) for p in cond.parts)
        return lambda f: any(p(f) for p in parts)
    if isinstance(cond, Not):
        inner = predicate(cond.part)
        return lambda f: not inner(f)
    msg = f"not a condition: {cond!r}"
    raise ConditionError(msg)


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
    msg = f"not a condition: {node!r}"
    raise ConditionError(msg)
