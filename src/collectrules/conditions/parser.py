"""The string front end: a safe parser of ``"dpd > 30 and promise_broken >= 1"``.

It reads the text with :func:`ast.parse`, which never runs code, and accepts only names,
constants, comparisons and ``and``/``or``/``not``."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Mapping
from typing import Any

from collectrules._arguments import require_mapping
from collectrules._json import unheld
from collectrules.conditions.check import ParameterTypeError, check_value
from collectrules.conditions.ir import (
    MAX_TEXT,
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
    Value,
)
from collectrules.errors import ConditionError, did_you_mean, quote

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
    ast.Set: "a set (write a tuple: '(…)')",
    ast.BinOp: "arithmetic",
    ast.UnaryOp: "an operator",
}

_BOOL_NAMES = {"true": True, "false": False, "True": True, "False": False}


def parse(
    text: str,
    *,
    schema: Mapping[str, FieldSpec] | None = None,
    params: Mapping[str, Scalar] | None = None,
    named: Mapping[str, Condition] | None = None,
) -> Condition:
    """Parse a condition string into the IR, without ever executing it.

    With ``schema``, every name must be a field of it or a parameter in ``params``
    (an unknown one is an error with a did-you-mean suggestion), and comparisons are
    type-checked. An empty text is :class:`Always`.

    ``named`` maps the names of a policy's named conditions (``[conditions]``) to their
    conditions: a bare name of one (``impaired``, ``not impaired``) stands for its
    condition, expanded in place, so the result holds only fields and parameters.
    """
    if not isinstance(text, str):
        msg = f"a condition must be a string, got {type(text).__name__}"
        raise ConditionError(msg)
    for name, value in (("schema", schema), ("params", params), ("named", named)):
        if value is not None:
            require_mapping(value, name, "a mapping or None")
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
    builder = _Builder(text.strip(), schema, params, named)
    _check_written(builder, tree)
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


#: A number as the grammar writes it: decimal digits, a fraction and an exponent.
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?")


def _check_written(builder: _Builder, tree: ast.Expression) -> None:
    """Refuse what Python reads that the grammar does not list: a comment (``#``, which
    would drop the rest of the condition without a word), a line continuation, a number
    written in hexadecimal or with ``_``, and a name that Python reads as another (a
    fullwidth ``ｄｐｄ`` is ``dpd`` once folded)."""
    text = builder.text
    comment = _comment_at(text)
    if comment is not None:
        msg = "'#' is not allowed in a condition: as a comment it would drop the rest of it"
        raise ConditionError(msg, text=text, column=comment + 1)
    if re.search(r"\\[ \t]*\r?\n", text):
        raise ConditionError("a line continuation ('\\') is not allowed in a condition", text=text)
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Name):
            written = ast.get_source_segment(text, node)
            if written is not None and written != node.id:
                raise builder.fail(
                    node, f"{quote(written)}: write a name in ASCII letters, as {quote(node.id)}"
                )
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            written = ast.get_source_segment(text, node)
            if written is not None and _DECIMAL.fullmatch(written) is None:
                raise builder.fail(
                    node, f"{quote(written)}: write a number in decimal digits, without '_'"
                )


def _comment_at(text: str) -> int | None:
    """The offset of a comment (``#`` outside a string literal) in ``text``, or None:
    as Python's tokenizer finds it, string prefixes and triple quotes included."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                return starts[row - 1] + col
    except (tokenize.TokenError, SyntaxError):  # not reached: ast.parse read the text
        return None
    return None


_DANGLING = re.compile(r"(<=|>=|==|!=|<|>|\bnot in|\bin|\band|\bor|\bnot|\()\s*$")


def _syntax_message(text: str, exc: SyntaxError) -> tuple[str, int | None]:
    """A syntax error in the language's own terms where it can tell what is missing."""
    stripped = text.strip()
    column = max(exc.offset, 1) if exc.offset is not None else None
    dangling = _DANGLING.search(stripped)
    if dangling is not None:
        token = dangling.group(1)
        return f"syntax error: nothing follows {quote(token)}", dangling.start(1) + 1
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
        named: Mapping[str, Condition] | None = None,
    ) -> None:
        self.text = text
        self.schema = schema
        self.params = params or {}
        self.named: Mapping[str, Condition] = named or {}

    def _held(self, node: ast.Constant) -> None:
        """A float constant that a float does not hold as written is refused, as one too
        large (``1e999``) is: one that is not zero but reads as 0.0 (``1e-400``), and
        one with more digits than a float keeps (``0.10000000000000000001``)."""
        if type(node.value) is float:
            written = ast.get_source_segment(self.text, node) or ""
            problem = unheld(written, node.value) if written else None
            if problem is not None:
                raise self.fail(node, problem)

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
            group = All if isinstance(node.op, ast.And) else AnyOf
            parts: list[Condition] = []
            for value in node.values:
                part = self.build(value)
                if isinstance(value, ast.Name) and value.id in self.named and type(part) is group:
                    parts.extend(part.parts)  # a named 'a or b' inside 'x or …': one group
                else:
                    parts.append(part)
            return group(tuple(parts))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            if node.id in _BOOL_NAMES:
                raise self.fail(node, "a bare constant is not a condition")
            if node.id in self.named and (self.schema is None or node.id not in self.schema):
                return self.named[node.id]
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
            name = self.field(mid, compared=True)
            lo, hi = self.value(low, name), self.value(high, name)
            self.check_numeric(mid, name, "a range")
            # Both bounds are type-checked like any comparison: '3' <= dpd is an error.
            self.check_compare(low, name, Op.GE, lo)
            self.check_compare(high, name, Op.LE, hi)
            return Between(name, lo, hi)
        if len(ops) != 1:
            raise self.fail(node, "chain comparisons only as low <= field <= high")
        op_node, left, right = ops[0], operands[0], operands[1]
        if isinstance(op_node, ast.In | ast.NotIn):
            name = self.field(left, compared=True)
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
        # With a schema, a known field on the right makes an unknown name on the left
        # the value side: 'extension_max_dpdd < dpd' is a misspelt parameter.
        if self.is_field(left) and (self.is_known_field(left) or not self.is_known_field(right)):
            name, value_node = self.field(left, compared=True), right
        elif self.is_field(right):
            name, value_node, op = self.field(right, compared=True), left, op.flipped()
        else:
            # No field on either side: constants, or a parameter (``extension_max_dpd > 3``).
            sides = (left, right)
            param = next(
                (n.id for n in sides if isinstance(n, ast.Name) and n.id in self.params), None
            )
            why = (
                f": {quote(param)} is a parameter of the policy, not a fact field" if param else ""
            )
            raise self.fail(node, f"a comparison needs a field on one side{why}")
        if self.is_field(value_node):
            assert isinstance(value_node, ast.Name)  # is_field holds only of a name
            if not self.is_known_field(value_node) and self.schema is not None:
                if value_node.id in self.named:
                    self.field(value_node)  # raises: a named condition is not a value
                raise self.unknown_value(value_node, name)
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

    def is_known_field(self, node: ast.expr) -> bool:
        """Whether ``node`` names a field of the schema (never true without one)."""
        return self.schema is not None and isinstance(node, ast.Name) and node.id in self.schema

    def unknown_value(self, node: ast.Name, field: str) -> ConditionError:
        """The error of a name compared with ``field`` that is neither a parameter nor a
        field: most often a misspelt parameter (``dpd > extension_max_dpdd``). The
        closest parameter or field is suggested."""
        name = node.id
        fields = self.schema if self.schema is not None else {}
        suggestion = did_you_mean(name, [*self.params, *fields])
        return self.fail(
            node,
            f"unknown name {quote(name)}: neither a parameter of the policy nor a fact field; "
            f"expected a constant or a parameter to compare {quote(field)} with",
            field=name,
            suggestion=suggestion,
        )

    def field(self, node: ast.expr, *, compared: bool = False) -> str:
        """The field that ``node`` names. An unknown name is an error that suggests the
        closest field, parameter or named condition; one ``compared`` with a value
        (``extension_max_dpdd > 3``) may be a misspelt parameter as well as a misspelt
        field, and says so, suggesting the closest field or parameter."""
        if not isinstance(node, ast.Name):
            if type(node) in _FORBIDDEN:
                raise self.fail(node, f"{_FORBIDDEN[type(node)]} is not allowed in a condition")
            raise self.fail(node, "expected a field name")
        name = node.id
        if name in self.named and (self.schema is None or name not in self.schema):
            raise self.fail(
                node,
                f"{quote(name)} is a named condition, true or false: use it alone "
                f"({name}, not {name}), not in a comparison",
                field=name,
            )
        if self.schema is not None and name not in self.schema:
            known = [*self.schema, *self.params]
            if compared:
                what = "neither a fact field nor a parameter of the policy"
                message = f"unknown name {quote(name)}: {what}"
            else:
                known += self.named
                message = f"unknown field {quote(name)}"
            raise self.fail(node, message, field=name, suggestion=did_you_mean(name, known))
        return name

    def value(self, node: ast.expr, field: str) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
            self._held(node)
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            self._held(node.operand)
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
                    f"unknown parameter {quote(node.id)}",
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
            raise self.fail(node, f"{what} needs a numeric field; {quote(name)} is {spec.type}")

    def check_bool_field(self, node: ast.AST, name: str) -> None:
        spec = self.spec(name)
        if spec is not None and spec.type is not FieldType.BOOL:
            raise self.fail(
                node,
                f"field {quote(name)} is {spec.type}, not bool; compare it: {name} > 0",
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
            if isinstance(value, Param):
                col = getattr(node, "col_offset", None)
                raise ParameterTypeError(
                    f"parameter {quote(value.name)}: {exc.reason}",
                    parameter=value.name,
                    text=self.text,
                    column=None if col is None else col + 1,
                    field=name,
                ) from None
            raise self.fail(node, exc.reason, field=name) from None
