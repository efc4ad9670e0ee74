"""The generated evaluator: each policy compiled to Python source, then to bytecode.

``Engine(policy, backend="python")`` evaluates with a :class:`GeneratedPolicy`. Its
``run(facts)`` gives exactly what :meth:`CompiledPolicy.run
<collectrules.engine.compiled.CompiledPolicy.run>` (the reference evaluator, kept as
such) gives: the same levels, the same firings in the same order, the same allowed and
blocked remedies. The test suite proves the agreement with hypothesis over every
shipped policy, against the reference and the durable back end.

How the source is made, and why it is safe:

* Only the condition IR reaches the source. Every identifier in it is generated
  (``x0``, ``k1`` …); rule ids, policy ids, reasons and labels never appear. Field
  names and constants appear only as ``repr`` of a ``str``, ``int``, ``float`` or
  ``bool`` (exact types; a finite float); anything else is refused with an
  :class:`~collectrules.errors.EngineError`.
* A source Python cannot compile (a condition nested past the parser's limit of 200
  parentheses) is not an error: the policy then runs on the reference evaluator, and
  ``GeneratedPolicy.fallback`` says why.
* Facts become locals, read once each with ``facts.get(name, _M)``; a missing field
  makes every comparison on it false, as in the reference semantics.
* A sub-expression several rules of one layer (or of the remedies) share is evaluated
  once, into a generated local (``c0``, ``c1`` …), and only where the rules' own
  order of evaluation would have evaluated it, or where it cannot raise; a layer's
  output is never missing, so its tests skip that check (see :class:`_Tests`).
* Each layer's matches become one integer (bit *i* set when rule *i* matched), and
  the hit policy is resolved from it: the layer's outcome and trace entries depend
  only on which rules matched, so they are computed once per distinct match set by
  the reference functions (:func:`~collectrules.engine.compiled.resolve_layer`,
  :func:`~collectrules.engine.compiled.layer_firings`,
  :func:`~collectrules.engine.compiled.resolve_remedies`) and reused. Errors (two
  matches in a ``unique`` layer, no default) are raised by the same functions, with
  the same messages.

The source is compiled with ``compile()`` and never executed as a module: the function
is built from its code object (``types.FunctionType``), with generated globals and no
builtins. A policy is generated and compiled once per cache key, the same key as the durable
back end's ruleset (content hash, source, rule origins, sections, field types).
"""

from __future__ import annotations

import math
import threading
import types
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from collectrules.conditions import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    In,
    Not,
    Op,
    Truth,
)
from collectrules.conditions.python import compile_condition
from collectrules.engine._durable import ruleset_key
from collectrules.engine.compiled import (
    MEMO_LIMIT,
    CompiledPolicy,
    LayerResult,
    Outcome,
    RemedyResult,
    layer_result,
    remedy_result,
)
from collectrules.errors import EngineError, quote
from collectrules.model.decision import Firing
from collectrules.policy import HitPolicy, Layer, Policy

__all__ = [
    "GeneratedPolicy",
    "generate_source",
    "generated_policy",
    "label_function",
    "label_source",
]

_MODULE_NAME = "collectrules_generated"


_OPS = {Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">=", Op.EQ: "==", Op.NE: "!="}


def _constant(value: object, where: str) -> str:
    """The source text of one constant: ``repr`` of an exact int, float, str or bool."""
    kind = type(value)
    if kind is bool or kind is int or kind is str:
        return repr(value)
    if kind is float:
        assert isinstance(value, float)
        if not math.isfinite(value):
            msg = f"{where}: a constant must be a finite number, got {quote(value)}"
            raise EngineError(msg)
        return repr(value)
    msg = f"{where}: a constant must be an int, float, str or bool, got a {type(value).__name__}"
    raise EngineError(msg)


class _Writer:
    """Turns resolved conditions into Python expressions over generated locals."""

    def __init__(self) -> None:
        self.locals: dict[str, str] = {}

    def local(self, field: str) -> str:
        if type(field) is not str:
            msg = f"a field name must be a str, got a {type(field).__name__}"
            raise EngineError(msg)
        name = self.locals.get(field)
        if name is None:
            name = self.locals[field] = f"x{len(self.locals)}"
        return name

    def expr(
        self,
        cond: Condition,
        where: str,
        part: Callable[[Condition, bool], str] | None = None,
        assigned: Collection[str] = (),
    ) -> str:
        """The source of ``cond``. Its operands' source is ``part(operand, first)``
        (``first``: the operand is evaluated whenever ``cond`` is), this method's own
        by default; a local in ``assigned`` never holds ``_M``, so its tests skip that
        check."""
        if part is None:

            def part(operand: Condition, first: bool) -> str:
                return self.expr(operand, where)

        if isinstance(cond, Always):
            return "True"
        if isinstance(cond, Compare | Between | In):
            x = self.local(cond.field)
            guard = "" if x in assigned else f"{x} is not _M and "
            if isinstance(cond, Compare):
                return f"({guard}{x} {_OPS[cond.op]} {_constant(cond.value, where)})"
            if isinstance(cond, Between):
                low, high = _constant(cond.low, where), _constant(cond.high, where)
                return f"({guard}{low} <= {x} <= {high})"
            values = "".join(f"{_constant(v, where)}, " for v in cond.values)
            return f"({guard}{x} in ({values}))"
        if isinstance(cond, Truth):
            return f"({self.local(cond.field)} is True)"
        if isinstance(cond, All | AnyOf):
            if not cond.parts:
                return "True" if isinstance(cond, All) else "False"
            word = " and " if isinstance(cond, All) else " or "
            return "(" + word.join(part(p, i == 0) for i, p in enumerate(cond.parts)) + ")"
        if isinstance(cond, Not):
            return f"(not {part(cond.part, True)})"
        msg = f"{where}: not a condition node: {type(cond).__name__}"
        raise EngineError(msg)


def _conditions(policy: Policy) -> tuple[list[list[Condition]], list[Condition]]:
    params = policy.parameter_values
    schema = policy.schema()
    layers = [
        [compile_condition(r.when, params, schema) for r in layer.rules] for layer in policy.layers
    ]
    remedies = [compile_condition(r.when, params, schema) for r in policy.remedy_rules]
    return layers, remedies


def _cannot_raise(cond: Condition) -> bool:
    """Whether evaluating ``cond`` can never raise: equality, membership and identity
    tests on any values (an ordering comparison raises on values of unlike types)."""
    if isinstance(cond, Compare):
        return cond.op is Op.EQ or cond.op is Op.NE
    if isinstance(cond, All | AnyOf):
        return all(_cannot_raise(p) for p in cond.parts)
    if isinstance(cond, Not):
        return _cannot_raise(cond.part)
    return isinstance(cond, In | Truth | Always)


class _Tests:
    """The rule tests of ``run``, each sub-expression met twice evaluated once.

    The rules of one layer (or the remedies) are one group: within it no local is
    reassigned, so a sub-expression whose text recurs has one value. At its first
    occurrence it is assigned to a generated local (``c0``, ``c1`` …) before that
    rule's ``if``, and read from it after. It is hoisted only where it was evaluated
    anyway (a whole test, the first operand of an ``and`` or ``or``, the operand of a
    ``not``, recursively) or where evaluating it cannot raise (:func:`_cannot_raise`),
    so ``run`` gives the same outcomes and raises the same errors as without. A local
    a layer has assigned never holds ``_M``, so its tests skip that check.
    """

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.assigned: set[str] = set()
        self.hoisted = 0
        self._keys: dict[int, str] = {}
        self._counts: dict[str, int] = {}
        self._cache: dict[str, str] = {}

    def group(self, conds: Sequence[Condition], where: str) -> None:
        """Start a group of rule tests: count each sub-expression's occurrences."""
        self._keys, self._counts, self._cache = {}, {}, {}
        for ri, cond in enumerate(conds):
            self._count(cond, f"{where} {ri}")

    def test(self, cond: Condition, where: str, lines: list[str]) -> str:
        """The source of one rule's test; hoisted sub-expressions go to ``lines``."""
        return self._emit(cond, where, lines, definite=True)

    def _count(self, cond: Condition, where: str) -> str:
        key = self._build(cond, where, lambda part, _definite: self._count(part, where))
        self._keys[id(cond)] = key
        self._counts[key] = self._counts.get(key, 0) + 1
        return key

    def _emit(self, cond: Condition, where: str, lines: list[str], *, definite: bool) -> str:
        key = self._keys[id(cond)]
        name = self._cache.get(key)
        if name is not None:
            return name

        def part(operand: Condition, first: bool) -> str:
            return self._emit(operand, where, lines, definite=definite and first)

        text = self._build(cond, where, part)
        if self._counts[key] < 2 or text in ("True", "False"):
            return text
        if not (definite or _cannot_raise(cond)):
            return text
        name = self._cache[key] = f"c{self.hoisted}"
        self.hoisted += 1
        lines.append(f"    {name} = {text}")
        return name

    def _build(self, cond: Condition, where: str, part: Callable[[Condition, bool], str]) -> str:
        """The source of ``cond``, its operands' from ``part`` (see :meth:`_Writer.expr`)."""
        return self.writer.expr(cond, where, part, self.assigned)


def generate_source(policy: Policy) -> str:
    """The Python source of ``policy``'s evaluator: one function, ``run(facts)``.

    Its free names are bound by :class:`GeneratedPolicy`: ``_M`` (the missing-field
    marker), ``_L`` (per layer, the remembered outcomes by match set), ``_layer`` (the
    resolver of a new match set), ``_R`` and ``_remedies`` (the same for remedies) and
    ``_Outcome``. Sub-expressions a layer's rules share are evaluated once (see
    :class:`_Tests`).
    """
    layer_conds, remedy_conds = _conditions(policy)
    writer = _Writer()
    tests = _Tests(writer)
    body: list[str] = []
    levels: list[str] = []
    firings: list[str] = []
    for li, (layer, conds) in enumerate(zip(policy.layers, layer_conds, strict=True)):
        body.append(f"    # layer {li}: hit policy {layer.hit_policy.value}, {len(conds)} rule(s)")
        body.append(f"    k{li} = 0")
        tests.group(conds, f"layer {li} rule")
        for ri, cond in enumerate(conds):
            test = tests.test(cond, f"layer {li} rule {ri}", body)
            body.append(f"    if {test}:")
            body.append(f"        k{li} |= {1 << ri}")
        body.append(f"    r{li} = _L[{li}].get(k{li})")
        body.append(f"    if r{li} is None:")
        body.append(f"        r{li} = _layer({li}, k{li})")
        out = writer.local(layer.output)
        body.append(f"    {out} = r{li}[0].value")
        tests.assigned.add(out)
        levels.append(f"r{li}[0]")
        firings.append(f"*r{li}[1]")
    body.append(f"    # remedies: {len(remedy_conds)} rule(s)")
    body.append("    km = 0")
    tests.group(remedy_conds, "remedy rule")
    for ri, cond in enumerate(remedy_conds):
        test = tests.test(cond, f"remedy rule {ri}", body)
        body.append(f"    if {test}:")
        body.append(f"        km |= {1 << ri}")
    body.append("    rm = _R.get(km)")
    body.append("    if rm is None:")
    body.append("        rm = _remedies(km)")
    firings.append("*rm[2]")
    head = ["def run(facts):", "    get = facts.get"]
    for field, name in writer.locals.items():
        head.append(f"    {name} = get({_constant(field, 'field name')}, _M)")
    tail = [
        f"    return _Outcome([{', '.join(levels)}], [{', '.join(firings)}], rm[0], rm[1], rm[3])",
        "",
    ]
    return "\n".join([*head, *body, *tail])


def label_source(policy: Policy) -> str:
    """The source of ``label(facts)``: the quadrant (or the last layer's value) only.

    The limit the benchmark compares with: the same conditions, each layer's hit policy
    resolved to a value inline, no trace, no remedies. Errors (a ``unique`` layer with two
    matches, no default) are not checked.
    """
    layer_conds, _ = _conditions(policy)
    writer = _Writer()
    body: list[str] = []
    for li, (layer, conds) in enumerate(zip(policy.layers, layer_conds, strict=True)):
        out = writer.local(layer.output)
        where = f"layer {li}"
        default = _constant(layer.default, where) if layer.default is not None else "None"
        rules = list(zip(layer.rules, conds, strict=True))
        if layer.hit_policy is HitPolicy.COLLECT_SUM:
            body.append(f"    s{li} = 0")
            for rule, cond in rules:
                body.append(f"    if {writer.expr(cond, where)}:")
                body.append(f"        s{li} += {_constant(rule.score, where)}")
            body.append(f"    {out} = {default}")
            for minimum, value in sorted(layer.bands):
                body.append(f"    if s{li} >= {_constant(minimum, where)}:")
                body.append(f"        {out} = {_constant(value, where)}")
            continue
        if layer.hit_policy is HitPolicy.PRIORITY:
            order = {r.id: i for i, r in enumerate(layer.rules)}
            rules.sort(key=lambda rc: (-rc[0].priority, order[rc[0].id]))
        for i, (rule, cond) in enumerate(rules):
            word = "if" if i == 0 else "elif"
            body.append(f"    {word} {writer.expr(cond, where)}:")
            body.append(f"        {out} = {_constant(rule.value, where)}")
        body.append("    else:" if rules else "    if True:")
        body.append(f"        {out} = {default}")
    outputs = [layer.output for layer in policy.layers]
    target = "quadrant" if "quadrant" in outputs else (outputs[-1] if outputs else None)
    last = writer.local(target) if target is not None else "None"
    head = ["def label(facts):", "    get = facts.get"]
    head += [f"    {n} = get({_constant(f, 'field name')}, _M)" for f, n in writer.locals.items()]
    return "\n".join([*head, *body, f"    return {last}", ""])


def label_function(policy: Policy) -> Callable[[Mapping[str, Any]], Any]:
    """``label(facts)`` compiled from :func:`label_source`."""
    namespace: dict[str, Any] = {"__builtins__": {}, "_M": _MISSING}
    label: Callable[[Mapping[str, Any]], Any] = _function(label_source(policy), "label", namespace)
    return label


def _function(source: str, name: str, namespace: dict[str, Any]) -> Any:
    """The function ``name`` defined by ``source``, its globals ``namespace``.

    The module is compiled, never run: the function is made from its code object, so
    no statement of the module other than the function's body can ever execute.
    """
    code = compile(source, f"<{_MODULE_NAME} {name}>", "exec")
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return types.FunctionType(const, namespace, name)
    msg = f"the generated source defines no function {quote(name)}"
    raise EngineError(msg)


def _bits(mask: int, count: int) -> list[int]:
    return [i for i in range(count) if mask >> i & 1]


class GeneratedPolicy:
    """A policy compiled to a generated Python function; see the module docstring."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._layer_memo: list[dict[int, LayerResult]] = [{} for _ in policy.layers]
        self._remedy_memo: dict[int, RemedyResult] = {}
        self._firings: dict[Firing, Firing] = {}
        namespace: dict[str, Any] = {
            "__builtins__": {"True": True, "False": False},
            "__name__": _MODULE_NAME,
            "_M": _MISSING,
            "_L": self._layer_memo,
            "_R": self._remedy_memo,
            "_layer": self._resolve_layer,
            "_remedies": self._resolve_remedies,
            "_Outcome": Outcome,
        }
        #: Why the reference evaluator runs instead of the generated source, or None.
        self.fallback: str | None = None
        self.run: Callable[[Mapping[str, Any]], Outcome]
        #: The generated source ("" when it could not be written).
        self.source = ""
        try:
            self.source = generate_source(policy)
            self.run = _function(self.source, "run", namespace)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            # Python's parser and compiler have limits (200 nested parentheses, the
            # recursion limit) that a deeply nested condition could pass on some Python
            # (conditions nest at most MAX_DEPTH levels): the reference evaluator gives
            # the same outcomes.
            self.fallback = f"{type(exc).__name__}: {exc}"
            self.run = CompiledPolicy(policy).run

    def _intern(self, firings: Sequence[Firing]) -> tuple[Firing, ...]:
        """The firings, each shared with its equals, so remembered match sets stay small."""
        with self._lock:
            if len(self._firings) >= MEMO_LIMIT:
                return tuple(firings)
            return tuple(self._firings.setdefault(f, f) for f in firings)

    def _resolve_layer(self, index: int, mask: int) -> LayerResult:
        layer: Layer = self.policy.layers[index]
        matched = [layer.rules[i] for i in _bits(mask, len(layer.rules))]
        result = layer_result(layer, matched, self._intern)
        memo = self._layer_memo[index]
        with self._lock:
            if len(memo) < MEMO_LIMIT:
                memo[mask] = result
        return result

    def _resolve_remedies(self, mask: int) -> RemedyResult:
        rules: Sequence[Any] = self.policy.remedy_rules
        matched = [rules[i] for i in _bits(mask, len(rules))]
        result = remedy_result(self.policy, matched, self._intern)
        with self._lock:
            if len(self._remedy_memo) < MEMO_LIMIT:
                self._remedy_memo[mask] = result
        return result


class _Missing:
    """The marker of a field the facts do not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()

_CACHE: dict[str, GeneratedPolicy] = {}
_CACHE_LOCK = threading.Lock()


def generated_policy(policy: Policy) -> GeneratedPolicy:
    """The generated evaluator of ``policy``, generated and compiled once per cache key."""
    key = ruleset_key(policy)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None:
        built = GeneratedPolicy(policy)
        with _CACHE_LOCK:
            cached = _CACHE.setdefault(key, built)
    return cached
