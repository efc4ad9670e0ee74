"""The generated evaluator: agreement with the reference and durable, and safe source."""

from __future__ import annotations

import ast
import json
import math
import re
from decimal import Decimal
from importlib import resources
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case
from collectrules.cli import main
from collectrules.conditions import (
    MAX_TEXT,
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
from collectrules.engine import Engine
from collectrules.engine import generated as generated_module
from collectrules.engine.compiled import CompiledPolicy, holds_placeholders
from collectrules.engine.generated import (
    GeneratedPolicy,
    generate_source,
    generated_policy,
    label_function,
    label_source,
)
from collectrules.errors import CollectRulesError, ConditionError, EngineError
from collectrules.policy import Layer, Policy, load_policy
from collectrules.testing import strategies as kit

SHIPPED = sorted(
    p.name.removesuffix(".toml")
    for p in resources.files("collectrules.policies").iterdir()
    if p.name.endswith(".toml")
)
AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")

_ENGINES: dict[str, tuple[Engine, Engine, CompiledPolicy]] = {}


def _engines(name: str) -> tuple[Engine, Engine, CompiledPolicy]:
    if name not in _ENGINES:
        policy = load_policy(name)
        _ENGINES[name] = (
            Engine(policy),
            Engine(policy, backend="python"),
            CompiledPolicy(policy),
        )
    return _ENGINES[name]


def _outcome_json(run: Any) -> str:
    try:
        return str(run())
    except CollectRulesError as exc:
        return f"error {type(exc).__name__}: {exc}"


@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_reference_and_durable_give_the_same_decision_json(
    name: str, data: st.DataObject
) -> None:
    durable, generated, reference = _engines(name)
    case: Case = data.draw(kit.cases(durable.policy, as_of=AS_OF, with_events=True))

    def by(engine: Engine) -> str:
        try:
            return engine.decide(case, as_of=AS_OF).to_json()
        except CollectRulesError as exc:
            return f"error {type(exc).__name__}: {exc}"

    by_durable, by_generated = by(durable), by(generated)
    assert by_generated == by_durable
    try:
        derived = generated.derive(case, as_of=AS_OF)
    except CollectRulesError:
        return  # both back ends gave the same error above
    by_reference = generated._decision(case, derived, reference.run(derived.facts)).to_json()
    assert by_generated == by_reference
    # the outcome itself, before it becomes a decision: levels, firings, remedies
    ours = generated_policy(durable.policy).run(derived.facts)
    assert ours == reference.run(derived.facts)
    # its hint that no reason holds a placeholder is right (it skips filling them)
    assert ours.plain is not holds_placeholders(ours.allowed, ours.blocked)


def test_the_same_policy_is_generated_once() -> None:
    first = generated_policy(load_policy("default"))
    assert generated_policy(load_policy("default")) is first
    other = attrs.evolve(load_policy("default"), source="elsewhere.toml")
    assert generated_policy(other) is not first


def test_hit_policy_errors_are_the_reference_errors() -> None:
    policy = load_policy("default")
    quadrant = policy.layer("quadrant")
    everything = Layer(
        quadrant.id,
        quadrant.output,
        quadrant.values,
        quadrant.hit_policy,
        tuple(attrs.evolve(r, when=All(())) for r in quadrant.rules),
        quadrant.default,
    )
    broken = attrs.evolve(
        policy,
        layers=tuple(everything if la.id == quadrant.id else la for la in policy.layers),
        content_hash="0" * 64,
    )
    facts = Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts
    with pytest.raises(EngineError) as ours:
        GeneratedPolicy(broken).run(facts)
    with pytest.raises(EngineError) as theirs:
        CompiledPolicy(broken).run(facts)
    assert str(ours.value) == str(theirs.value)
    assert "unique" in str(ours.value)


def make_case() -> Case:
    return Case.from_dict(
        {
            "case_id": "G-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "10000",
            "overdue_amount": "500",
            "due_date": "2026-05-01",
            "timezone": "Asia/Shanghai",
        }
    )


# --------------------------------------------------------------------------- injection

INJECTION = [
    "'",
    '"',
    "'''",
    '"""',
    "\\",
    "x'); __import__('os').system('echo pwned'); ('",
    '"; import os; os.system("echo pwned") #',
    "\n__import__('os')\n",
    "\r\nexec('1')",
    "__import__",
    "__builtins__",
    "__class__.__mro__",
    "eval",
    "_M",
    "facts",
    "\\u0027; x = 1",
    "\u2028\u2029\x00\x1b",
    "\\N{APOSTROPHE}",
    "{facts}",
    "#",
    "a" * 5_000,
    "é中文' + '",
]

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign,
    ast.If, ast.Return, ast.Expr, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Name,
    ast.Load, ast.Store, ast.Constant, ast.Call, ast.Attribute, ast.Subscript, ast.Tuple,
    ast.List, ast.Starred, ast.Add, ast.And, ast.Or, ast.Not, ast.BitOr, ast.Is, ast.IsNot, ast.In,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.USub,
)  # fmt: skip
_FREE = {"_M", "_L", "_R", "_layer", "_remedies", "_Outcome", "True", "False"}


def _check_source(source: str, constants: set[Any]) -> None:
    """Only the expected nodes; names generated; every string constant from the IR."""
    tree = ast.parse(source)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert len(tree.body) == 1
    assert len(functions) == 1
    assert functions[0].name in ("run", "label")
    assert not functions[0].decorator_list
    for node in ast.walk(tree):
        assert isinstance(node, _ALLOWED_NODES), ast.dump(node)
        if isinstance(node, ast.Name):
            assert (
                node.id in _FREE
                or node.id in {"facts", "get", "km", "rm"}
                or (node.id[0] in "xkrsc" and node.id[1:].isdigit())
            ), node.id
        if isinstance(node, ast.Attribute):
            assert node.attr in {"get", "value"}, node.attr
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name | ast.Attribute)
            if isinstance(node.func, ast.Name):
                assert node.func.id in {"get", "_layer", "_remedies", "_Outcome"}
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value in constants, node.value[:80]


def _ir_constants(policy: Policy) -> set[Any]:
    """Every field name and constant of the policy's resolved conditions, and the values
    its layers give (a layer's output is a typed string of its declared values)."""
    out: set[Any] = set(policy.schema())
    for layer in policy.layers:
        out.update(layer.values)
    rules = [r for la in policy.layers for r in la.rules] + list(policy.remedy_rules)
    for rule in rules:
        resolved = compile_condition(rule.when, policy.parameter_values, policy.schema())
        for node in resolved.walk():
            if isinstance(node, Compare):
                out.update((node.field, node.value))
            elif isinstance(node, Between):
                out.update((node.field, node.low, node.high))
            elif isinstance(node, In):
                out.update((node.field, *node.values))
            elif isinstance(node, Truth):
                out.add(node.field)
    return out


def _injected(policy: Policy, text: str) -> tuple[Policy, set[Any]]:
    """``policy`` with ``text`` in its id, rule ids, values, reasons and constants."""
    constants: set[Any] = _ir_constants(policy)
    constant = text[:MAX_TEXT]  # a leaf's text constant holds at most MAX_TEXT characters
    layers = []
    for la in policy.layers:
        rules = []
        for i, rule in enumerate(la.rules):
            when: Condition = rule.when
            if i == 0:
                when = AnyOf((when, Compare("product", Op.EQ, constant)))
                constants.add(constant)
            if i == 1:
                when = All((when, Not(In(text, (constant, 1, 2.5, True)))))
                constants.add(text)
            rules.append(
                attrs.evolve(rule, id=f"{text}{i}", reason=text, when=when, when_text=text)
            )
        labels = dict.fromkeys(la.values, (text, text))
        layers.append(attrs.evolve(la, id=f"{la.id}{text}", rules=tuple(rules), labels=labels))
    remedies = tuple(
        attrs.evolve(
            r,
            id=f"{text}r{i}",
            reason=text,
            when=AnyOf((r.when, Truth(text), Between(f"{text}n", -1, 1))),
        )
        for i, r in enumerate(policy.remedy_rules)
    )
    constants.update({text, f"{text}n"})
    injected = attrs.evolve(
        policy,
        id=text,
        title=text,
        layers=tuple(layers),
        remedy_rules=remedies,
        content_hash=text,
        source=text,
    )
    return injected, constants


@pytest.mark.parametrize("text", INJECTION)
def test_policy_text_reaches_the_source_only_as_constants(text: str) -> None:
    policy = load_policy("default")
    injected, constants = _injected(policy, text)
    source = generate_source(injected)
    _check_source(source, constants)
    # ids, reasons, labels never appear; constants only as their repr
    for line in source.splitlines():
        assert not line.lstrip().startswith(("import", "from", "exec", "eval", "__"))
    # and it runs, agreeing with the reference, with the injected text as a value
    facts = dict(Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts)
    facts[text] = text
    assert GeneratedPolicy(injected).run(facts) == CompiledPolicy(injected).run(facts)


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.text(),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ),
    probe=st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans()),
    op=st.sampled_from(list(Op)),
)
def test_any_constant_compiles_to_its_repr_and_compares_as_the_reference(
    value: Any, probe: Any, op: Op
) -> None:
    policy = load_policy("default")
    rule = policy.remedy_rules[0]
    same_type = type(value) is type(probe) or (
        isinstance(value, int | float)
        and isinstance(probe, int | float)
        and not isinstance(value, bool)
        and not isinstance(probe, bool)
    )
    cond: Condition = Compare("probe", op if same_type else Op.EQ, value)
    changed = attrs.evolve(
        policy,
        remedy_rules=(attrs.evolve(rule, when=cond), *policy.remedy_rules[1:]),
        content_hash="probe",
    )
    source = generate_source(changed)
    _check_source(source, {*_ir_constants(changed), "probe", value})
    facts = dict(Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts)
    facts["probe"] = probe
    assert GeneratedPolicy(changed).run(facts) == CompiledPolicy(changed).run(facts)


def _forced(value: Any) -> Compare:
    """``dpd == value`` with a ``value`` its constructor refuses, set past it: compiling
    the condition rebuilds it, which refuses or normalises the value again, and the
    generator checks each constant it writes besides."""
    cond = Compare("dpd", Op.EQ, 0)
    object.__setattr__(cond, "value", value)
    return cond


@pytest.mark.parametrize(
    "value", [Decimal("1.5"), math.inf, math.nan, None, (1, 2), b"bytes", ["x"]]
)
def test_constants_of_other_types_are_refused(value: Any) -> None:
    with pytest.raises(ConditionError):
        Compare("dpd", Op.EQ, value)
    policy = load_policy("default")
    rule = policy.remedy_rules[0]
    changed = attrs.evolve(
        policy,
        remedy_rules=(attrs.evolve(rule, when=_forced(value)),),
        content_hash="refused",
    )
    with pytest.raises(CollectRulesError):
        generate_source(changed)


@pytest.mark.parametrize("value", [Decimal("1.5"), math.inf, None, (1, 2), "x".__class__])
def test_the_generator_writes_no_constant_of_another_type(value: Any) -> None:
    # Its own check, behind the conditions' (which no condition gets past): a value
    # whose repr is not a Python literal of the four types never reaches the source.
    with pytest.raises(EngineError, match="remedy rule 0: a constant must be"):
        generated_module._constant(value, "remedy rule 0")


def test_a_str_subclass_is_held_as_plain_text_and_refused_if_forced_in() -> None:
    class Sneaky(str):
        def __repr__(self) -> str:
            return "__import__('os')"

    held = Compare("product", Op.EQ, Sneaky("loan"))
    assert type(held.value) is str
    assert repr(held.value) == "'loan'"
    policy = load_policy("default")
    rule = policy.remedy_rules[0]
    changed = attrs.evolve(
        policy,
        remedy_rules=(attrs.evolve(rule, when=_forced(Sneaky("loan"))),),
        content_hash="sneaky",
    )
    source = generate_source(changed)
    assert "__import__" not in source
    assert "== 'loan')" in source
    _check_source(source, {*_ir_constants(policy), "loan"})


# --------------------------------------------------------------------------- shared tests


def _with_remedy_tests(policy: Policy, *conds: Condition) -> Policy:
    """``policy`` with its first remedy rule repeated, under each of ``conds``."""
    rule = policy.remedy_rules[0]
    rules = tuple(attrs.evolve(rule, id=f"{rule.id}-{i}", when=c) for i, c in enumerate(conds))
    return attrs.evolve(policy, remedy_rules=rules, content_hash=repr(conds))


def test_a_sub_expression_rules_share_is_evaluated_once() -> None:
    policy = load_policy("default")
    q2 = Compare("quadrant", Op.EQ, "Q2")
    late = Compare("probe", Op.GT, 30)
    changed = _with_remedy_tests(policy, All((late, q2)), q2, All((q2, late)), Not(q2))
    source = generate_source(changed)
    remedies = source[source.index("# remedies") :]
    # the quadrant test and the dpd test, each written once, then read by name
    assert remedies.count("== 'Q2'") == 1
    assert remedies.count("> 30") == 1
    assert re.search(r"^    c\d+ = ", remedies, re.MULTILINE)
    # the quadrant is a layer's output: it is never missing, so it is not checked
    quadrant = source[source.index("# remedies") :].split("== 'Q2'")[0].rsplit("(", 1)[1]
    assert "is not _M" not in quadrant
    facts = dict(Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts)
    for probe in (0, 30, 31, "thirty"):
        facts["probe"] = probe
        assert _run(GeneratedPolicy(changed), facts) == _run(CompiledPolicy(changed), facts)


def _run(evaluator: GeneratedPolicy | CompiledPolicy, facts: dict[str, Any]) -> object:
    """The outcome, or the error raised as its type and message."""
    try:
        return evaluator.run(facts)
    except TypeError as exc:
        return (type(exc), str(exc))


@pytest.mark.parametrize("value", ["thirty", None, (1,)])
def test_a_shared_test_that_could_raise_is_not_evaluated_where_the_reference_skips_it(
    value: Any,
) -> None:
    # "probe > 30" on a text raises TypeError; behind "product == 'none'" (false) the
    # reference never evaluates it, so the generated function must not either
    policy = load_policy("default")
    guarded = All((Compare("product", Op.EQ, "none"), Compare("probe", Op.GT, 30)))
    changed = _with_remedy_tests(policy, guarded, guarded, AnyOf((Always(), guarded)))
    facts = dict(Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts)
    facts["probe"] = value
    assert GeneratedPolicy(changed).run(facts) == CompiledPolicy(changed).run(facts)
    # where the reference does evaluate it, both raise
    exposed = _with_remedy_tests(policy, Compare("probe", Op.GT, 30), guarded)
    with pytest.raises(TypeError):
        CompiledPolicy(exposed).run(facts)
    with pytest.raises(TypeError):
        GeneratedPolicy(exposed).run(facts)


# --------------------------------------------------------------------------- the CLI


def test_show_compiled_prints_the_generated_source(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["show", "cn_bank_loan", "--compiled"])
    out = capsys.readouterr().out
    assert code == 0
    source = generate_source(load_policy("cn_bank_loan"))
    assert source.rstrip("\n") in out
    assert "legend:" in out
    assert "km (remedies): 1=" in out
    # the printed source is the one the engine runs
    assert generated_policy(load_policy("cn_bank_loan")).source == source


def test_show_compiled_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["show", "default", "--compiled", "--format", "json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    policy = load_policy("default")
    assert payload["policy"] == policy.ref
    assert payload["source"] == generate_source(policy)
    assert payload["legend"]["layers"][0]["rules"] == [r.id for r in policy.layers[0].rules]


@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_benchmark_label_function_gives_the_quadrant(name: str, data: st.DataObject) -> None:
    _, generated, _ = _engines(name)
    case: Case = data.draw(kit.cases(generated.policy, as_of=AS_OF))
    try:
        decision = generated.decide(case, as_of=AS_OF)
    except CollectRulesError:
        return
    facts = generated.derive(case, as_of=AS_OF).facts
    assert label_function(generated.policy)(facts) == decision.quadrant.value
    _check_source(label_source(generated.policy), _ir_constants(generated.policy))


def test_a_policy_whose_source_cannot_be_generated_runs_on_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Conditions nest at most MAX_DEPTH levels, within Python's parser and recursion
    # limits; a Python with lower limits would fail while writing or compiling the
    # source, and the reference evaluator then runs.
    policy = load_policy("default")
    changed = attrs.evolve(policy, content_hash="no-source")

    def too_deep(policy: Policy) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("collectrules.engine.generated.generate_source", too_deep)
    generated = GeneratedPolicy(changed)
    assert generated.fallback == "RecursionError: maximum recursion depth exceeded"
    assert generated.source == ""
    facts = Engine(policy, backend="python").derive(make_case(), as_of=AS_OF).facts
    for dpd in (0, 31):
        changed_facts = {**facts, "dpd": dpd}
        assert generated.run(changed_facts) == CompiledPolicy(changed).run(changed_facts)
    monkeypatch.undo()
    assert GeneratedPolicy(policy).fallback is None
