"""Every public entry point answers an argument of the wrong kind with its result or a
``CollectRulesError``, within a few seconds: never Python's own ``TypeError``,
``AttributeError`` or ``ValueError``, never a hang.

The walk covers every callable in the ``__all__`` of ``collectrules`` and of each public
subpackage (not the command line or the benchmark), and every public method of the
main objects. It also covers every name that the Python of the documentation uses from
a public module (the ``python`` blocks of ``docs/`` and ``README.md``, and
``examples/``, read with :mod:`ast`): imported (``from collectrules.money.kpis import
compute_kpis``) or read from a module it bound (``import collectrules.x as y`` then
``y.name``, ``import collectrules.x`` then ``collectrules.x.name``, ``from collectrules
import x`` then ``x.name``; see :class:`_Uses`), by that name alone: such a module's
``__all__`` also holds helpers that are no entry point. Each is called once per
parameter and per value of the wrong kind, with every other parameter valid (from
:data:`SAMPLES`, by parameter name). What cannot be sampled is listed in
:data:`UNSAMPLED`, with the reason.

The documented entry points that take structures (rows, mappings by case id, owners, a
team; see :func:`_nested`) are also called with each value of the wrong kind put inside
a valid argument, one place at a time: in place of each item and value at any depth,
added to each list, as a new key of each mapping, and in place of each field of each
attrs object (a ``PortfolioCase`` of the KPIs, a ``DecisionRow`` of the report, a
``Target``, an ``Event``), the object rebuilt as its class builds it (see
:func:`_places`); and so is every other argument whose sample is a structure (see
:func:`_structured`).

The same entry points are also given values of the right kind and the wrong content,
one leaf at a time (see :func:`_contents`): text that is no known value, numbers out of
range, a naive time. Each gives a sound result (no rate below 0 or above 1) or an
``InputError`` naming a field; where the entry point reads a closed set (a quadrant, a
currency, a step status) or a count or an amount (see :data:`READ`), it refuses the
value, as missing evidence is unknown and never silently good.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import enum
import functools
import importlib
import importlib.util
import inspect
import io
import json
import re
import signal
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectrules as cr
from collectrules.batch.compact import compact_row
from collectrules.conditions.ir import FieldType, Op
from collectrules.errors import CollectRulesError, quote
from collectrules.money.charges import amounts_due
from collectrules.money.kpis import COUNT_FACTS, portfolio_from_rows
from collectrules.money.terms import MoneyFigure
from collectrules.operations import Owner
from helpers import AS_OF, case_dict

#: The public packages walked: the root and each public subpackage but the command
#: line (``cli``) and the benchmark (``bench``), and the report module.
PACKAGES = (
    "collectrules",
    "collectrules.assets",
    "collectrules.authoring",
    "collectrules.batch",
    "collectrules.calendars",
    "collectrules.compliance",
    "collectrules.conditions",
    "collectrules.engine",
    "collectrules.frame",
    "collectrules.io",
    "collectrules.model",
    "collectrules.money",
    "collectrules.operations",
    "collectrules.policy",
    "collectrules.spark",
    "collectrules.testing",
    "collectrules.timeline",
    # Public modules whose names their package does not re-export: the CLI's report,
    # and the compact decision table (rebuilding a decision from its row).
    "collectrules.operations.report",
    "collectrules.batch.compact",
)

#: The most seconds one call may take.
TIME_BOUND = 5.0

#: Entry points that do seconds of work on valid arguments (they search a policy's
#: whole space): an argument of the wrong kind must still be refused at once, but a
#: value of the right kind (a ``max_cells`` of 5) starts the work, which is cut at
#: :data:`HEAVY_BOUND` seconds and counts as accepted.
HEAVY = frozenset(
    {
        "collectrules.verify",
        "collectrules.testing.check_complete",
        "collectrules.testing.check_monotonic",
    }
)
HEAVY_BOUND = 1.0


class _Other:
    """Stands for "an object of the library of another kind" in :data:`GARBAGE`."""

    def __repr__(self) -> str:
        return "<another library object>"


OTHER = _Other()

#: A list that holds one list a thousand times, which holds one list of a thousand
#: numbers a thousand times: small in memory, a billion numbers to a walk that goes down
#: every place (a walk must visit each list once, or stop early).
_SHARED = [[[1] * 1000] * 1000] * 1000

#: Values of the wrong kind, one of which replaces one argument at a time.
GARBAGE: tuple[Any, ...] = (
    5,
    -1,
    None,
    object(),
    "\x00 not-a-thing",
    b"\xff\xfe",
    [],
    {},
    float("nan"),
    float("inf"),
    10**400,
    OTHER,
    _SHARED,
)

#: Callables, methods and parameters that the walk cannot call, each with the reason.
UNSAMPLED: dict[str, str] = {
    "collectrules.spark.decide": "needs a Spark session; the kinds of its tables and its"
    " policy are checked before one starts (test_spark_decide_checks_its_arguments below)",
    "Decision.lazily": "the engine's own constructor of a decision built on first use:"
    " its arguments are the engine's internals",
}


@functools.cache
def _objects() -> dict[str, Any]:
    """The valid objects the samples and the method walk are built from."""
    from collectrules.calendars import BusinessCalendar, ContactHours
    from collectrules.engine.session import CaseSession
    from collectrules.money import PlanTerms, propose_plan
    from collectrules.operations import team_from_dict
    from collectrules.operations.changes import read_run
    from collectrules.testing import Expectation

    policy = cr.load_policy("default")
    if importlib.util.find_spec("polars") is not None:
        # The policy as a process that used the columnar engine holds it, whatever ran
        # before: with its compiled expressions, which hold the policy (a value that
        # holds itself, where a walk may put it).
        importlib.import_module("collectrules.frame._compile").compile_frame(policy)
    engine = cr.Engine(policy, backend="python")
    case = cr.Case.from_dict(case_dict(("income_loss", None)))
    decision = engine.decide(case, as_of=AS_OF)
    terms = PlanTerms(months=6, annual_rate=Decimal("0.05"), principal=Decimal("5000"))
    plan = None
    if "restructure" in {g.remedy for g in decision.allowed}:
        plan = propose_plan(case, decision, kind="restructure", as_of=AS_OF, terms=terms)
    team = team_from_dict({"owner": [{"id": "ana", "capacity": 10}]})
    contact = cr.Contact(channel="phone", party="debtor", at=AS_OF)
    line = json.loads(decision.to_json_bytes(extra={"input": case.to_dict()}))
    decision_rows, _ = read_run([("line 1", line)])
    return {
        "remedy": "restructure",
        "policy": policy,
        "engine": engine,
        "case": case,
        "decision": decision,
        "terms": terms,
        "plan": plan,
        "team": team,
        "contact": contact,
        "guardrails": cr.Guardrails(policy),
        "timeline": cr.build_timeline(case, as_of=AS_OF, policy=policy),
        "calendar": BusinessCalendar("CN"),
        "hours": ContactHours(8, 20),
        "session": CaseSession(engine, case),
        "bank": (bank := cr.load_policy("cn_bank_loan")),
        "history": cr.bucket_history(case, [AS_OF], policy=bank, bucket_set="M"),
        "verify_report": cr.VerificationReport(
            policy="default", findings=(cr.Finding(kind="gap", severity="error", message="m"),)
        ),
        "expectation": Expectation(),
        "decision_rows": decision_rows,
    }


def _frame() -> Any:
    import polars as pl

    data = case_dict()
    del data["signals"]
    return pl.DataFrame([data])


def _cases_file() -> str:
    """A file of one case in the current directory (each test's own), by name."""
    path = Path("cases.jsonl")
    path.write_text(json.dumps(case_dict()) + "\n", encoding="utf-8")
    return path.name


def _column_map() -> str:
    """A column map in the current directory, by name."""
    path = Path("columns.toml")
    path.write_text('[columns]\nid = "case_id"\n', encoding="utf-8")
    return path.name


def _samples() -> dict[str, Callable[[], Any]]:
    """Valid values by parameter name, or by ``qualname.parameter`` where a name means
    different things in different places. Each is built anew for each call."""
    o = _objects()
    day = dt.date(2026, 4, 3)
    at = dt.datetime(2026, 4, 3, 12, tzinfo=dt.UTC)
    return {
        "case": lambda: o["case"],
        "as_of": lambda: AS_OF,
        "policy": lambda: o["policy"],
        "decision": lambda: o["decision"],
        "cases": lambda: [o["case"]],
        "rows": lambda: [o["case"]],
        "collectrules.io.case_files.paths": lambda: [ROOT / "examples" / "cases"],
        "contact": lambda: o["contact"],
        "channel": lambda: "phone",
        "party": lambda: "debtor",
        "after": lambda: AS_OF,
        "at": lambda: at,
        "day": lambda: day,
        "start": lambda: day,
        "end": lambda: dt.date(2026, 5, 3),
        "count": lambda: 3,
        "timezone": lambda: "Asia/Shanghai",
        "year": lambda: 2026,
        "years": lambda: [2026],
        "fired": lambda: [],
        "remedy": lambda: o["remedy"],
        "name": lambda: "lookback_days",
        "output": lambda: "quadrant",
        "key": lambda: "k",
        "build": lambda: lambda: 1,
        "stage_id": lambda: o["timeline"].steps[0].stage.id,
        "kind": lambda: "installment_plan",
        "data": lambda: case_dict(),
        "text": lambda: "dpd > 30",
        "old": lambda: o["policy"],
        "new": lambda: o["policy"],
        "terms": lambda: o["terms"],
        "principal": lambda: Decimal("1000"),
        "annual_rate": lambda: Decimal("0.05"),
        "months": lambda: 6,
        "currency": lambda: "CNY",
        "country": lambda: "CN",
        "quadrant": lambda: "Q1",
        "buckets": lambda: {},
        "amount": lambda: Decimal("100"),
        "step_role": lambda: "agent",
        "raw": lambda: {"owner": [{"id": "x"}]},
        "problems": lambda: [cr.FieldProblem("x", "bad")],
        "message": lambda: "bad",
        "opens_at": lambda: at,
        "due_at": lambda: None,
        "event": lambda: cr.Event(kind="contact_attempt", at=at, outcome="no_answer"),
        "signal": lambda: cr.Signal(kind="income_loss", observed_at=at),
        "parameters": lambda: o["policy"].parameters,
        "cond": lambda: cr.parse("dpd > 30"),
        "schema": lambda: o["policy"].schema(),
        "params": lambda: {},
        "op": lambda: "<",
        "a": lambda: 1,
        "b": lambda: 2,
        "field": lambda: "dpd",
        "value": lambda: 1,
        "spec": lambda: o["policy"].schema()["dpd"],
        "collectrules.conditions.FieldSpec.name": lambda: "dpd",
        "collectrules.conditions.FieldSpec.type": lambda: FieldType.INT,
        "collectrules.conditions.FieldSpec.doc": lambda: "days past due",
        "collectrules.conditions.FieldSpec.optional": lambda: False,
        "collectrules.conditions.FieldSpec.choices": lambda: (),
        "facts": lambda: {},
        "decisions": lambda: o["decision_rows"],
        "encoding": lambda: "utf-8",
        "guardrails": lambda: o["guardrails"],
        "remedies": lambda: None,
        "collectrules.Urgency.case_id": lambda: "C-1",
        "collectrules.Urgency.breached": lambda: 0,
        "collectrules.Urgency.hard_limit": lambda: None,
        "collectrules.Urgency.emergency": lambda: False,
        "collectrules.Urgency.amount_at_risk": lambda: Decimal("100"),
        "collectrules.Urgency.steps": lambda: (),
        "day_count": lambda: 3,
        "signals": lambda: [],
        "collectrules.bucket_history.policy": lambda: o["bank"],
        "collectrules.bucket_history.as_of": lambda: [AS_OF],
        "Engine.worklist.cases": lambda: [o["case"]],
        "collectrules.frame.decide.cases": _frame,
        "collectrules.authoring.impact.cases": lambda: [o["case"]],
        "Timeline.deadline.kind": lambda: (
            o["timeline"].deadlines[0].kind if o["timeline"].deadlines else "limitation"
        ),
        **{
            f"collectrules.Decision.{a.name}": functools.partial(getattr, o["decision"], a.name)
            for a in attrs.fields(cr.Decision)
            if a.init
        },
        "Decision.from_json.text": lambda: o["decision"].to_json(),
        "Decision.from_dict.data": lambda: o["decision"].to_dict(),
        "collectrules.BusinessCalendar.country": lambda: "CN",
        "collectrules.ContactHours.start": lambda: 8,
        "collectrules.ContactHours.end": lambda: 20,
        "collectrules.money.propose_plan.kind": lambda: o["remedy"],
        "collectrules.operations.Team.owners": lambda: (Owner(id="x"),),
        "collectrules.operations.Team.source": lambda: "team.toml",
        "collectrules.operations.Team.step_role_lines": lambda: (3,),
        "product": lambda: "loan",
        "case_id": lambda: "T-1",
        "overdue_amount": lambda: Decimal("5000"),
        "due_date": lambda: day,
        "cites": lambda: (),
        "engine": lambda: o["engine"],
        "limit": lambda: "rules",
        "maximum": lambda: 10,
        "id": lambda: "g1",
        "rule_id": lambda: "r1",
        "reason": lambda: "why",
        "cause": lambda: "boom",
        "observed_at": lambda: at,
        "exc": lambda: OSError(28, "no space"),
        "planned": lambda: [],
        "expectation": lambda: o["expectation"],
        "counterexamples": lambda: [],
        "what": lambda: "coherence",
        "exhaustive": lambda: True,
        "ContactHours.parse.start": lambda: "08:00",
        "ContactHours.parse.end": lambda: "20:00",
        "ContactHours.window_on.day": lambda: day,
        "BusinessCalendar.add_working_days.day": lambda: day,
        "collectrules.money.add_months.start": lambda: day,
        "collectrules.money.build_schedule.start": lambda: day,
        "VerificationReport.of_kind.kind": lambda: "gap",
        "inputs": lambda: [_cases_file()],
        "out": lambda: "decisions.jsonl",
        "errors": lambda: "decisions.errors.jsonl",
        "collectrules.batch.OutputError.path": lambda: Path("decisions.jsonl"),
        "collectrules.OutputError.path": lambda: Path("decisions.jsonl"),
        "collectrules.io.read_rows.paths": lambda: [_cases_file()],
        "collectrules.io.load_column_map.path": _column_map,
        "collectrules.frame.decide_rows.cases": lambda: _frame().with_row_index("__row"),
        "collectrules.frame.decide_rows.signals": lambda: None,
        "collectrules.frame.decide_rows.events": lambda: None,
        "row": lambda: compact_row(o["decision"]),
        "fields": lambda: None,
        "fh": io.BytesIO,
        "sink": io.BytesIO,
        "finding": lambda: cr.Finding(kind="gap", severity="error", message="m"),
        "amounts": lambda: amounts_due(o["case"], AS_OF, policy=o["policy"]),
        "collectrules.model.decision.Template.part": lambda: o["decision"].trace[0],
        "collectrules.model.decision.Template.name": lambda: "outcome",
        "collectrules.model.schema.shipped_model_schema.kind": lambda: "case",
        "collectrules.money.kpis.compute_kpis.decisions": lambda: portfolio_from_rows(
            [("line 1", o["decision"].to_dict())]
        ),
        "collectrules.operations.changes.compare_runs.old": lambda: [
            ("line 1", o["decision"].to_dict())
        ],
        "collectrules.operations.changes.compare_runs.new": lambda: o["decision_rows"],
        "collectrules.Finding.kind": lambda: "gap",
        "collectrules.Finding.severity": lambda: "error",
        "collectrules.conditions.Compare.op": lambda: Op.LT,
        "collectrules.conditions.Between.low": lambda: 1,
        "collectrules.conditions.Between.high": lambda: 2,
        "collectrules.conditions.In.values": lambda: (1, 2),
        "collectrules.money.terms.Target.id": lambda: "overdue_recovery",
        "collectrules.money.terms.Target.basis": lambda: "overdue_amount",
        "collectrules.money.terms.Target.rate": lambda: MoneyFigure(Decimal("0.5")),
    }


def _is_plain_record(obj: object) -> bool:
    """An attrs class that takes any value: no validator, converter or post-init."""
    if not (inspect.isclass(obj) and attrs.has(obj)):
        return False
    if hasattr(obj, "__attrs_post_init__") or hasattr(obj, "__attrs_pre_init__"):
        return False
    init = getattr(obj, "__init__", None)
    code = getattr(init, "__code__", None)
    if code is None or "attrs generated" not in code.co_filename:
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(obj))


#: Whether the ``spark`` extra is installed: without pyspark, ``collectrules.spark``
#: cannot be imported, and is not walked (``tests/test_spark.py`` is skipped alike).
HAS_SPARK = importlib.util.find_spec("pyspark") is not None


def _walked_packages() -> tuple[str, ...]:
    return tuple(p for p in PACKAGES if HAS_SPARK or p != "collectrules.spark")


#: The root of the repository, whose documentation names the documented entry points.
ROOT = Path(__file__).resolve().parent.parent

#: The info words of a Markdown code fence whose block is Python.
PYTHON_FENCES = frozenset({"python", "py", "python3"})

#: A line opening or closing a Markdown code fence: its indent, its fence and its info.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


def _documentation() -> list[Path]:
    """The files whose Python names the documented entry points: the docs, the README
    and the examples (their Markdown and their Python)."""
    examples = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".md", ".py"))
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *examples]


def _python_blocks(path: Path) -> Iterator[tuple[str, str]]:
    """The Python of ``path`` as ``(where, code)``: a ``.py`` file whole; each fenced
    ``python`` block of a Markdown file, less its fence's indent (a block in a list)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        yield path.name, text
        return
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        opening = _FENCE.match(lines[number])
        number += 1
        if opening is None:
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].split()
        first = number
        while number < len(lines):
            closing = _FENCE.match(lines[number])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            number += 1
        body = [line.removeprefix(indent) for line in lines[first:number]]
        number += 1
        if info and info[0].lower() in PYTHON_FENCES:
            yield f"{path.name}:{first + 1}", "\n".join(body)


def _submodule(module: str, name: str) -> str | None:
    """The real name of the module that ``name`` of ``module`` is (``from module import
    name``, ``module.name``), or ``None`` when it is not a module: an attribute wins
    over a submodule of the same name, as in Python (``collectrules.frame.decide`` is
    the function, not the module ``collectrules/frame/decide.py``)."""
    try:
        value = getattr(importlib.import_module(module), name, None)
    except ImportError:  # collectrules.spark without pyspark
        value = None
    if isinstance(value, types.ModuleType):
        return value.__name__
    if value is not None:
        return None
    try:
        spec = importlib.util.find_spec(f"{module}.{name}")
    except ImportError:
        return None
    return None if spec is None else spec.name


class _Uses(ast.NodeVisitor):
    """The names of collectrules that one piece of Python code uses, as ``(module,
    name)`` with the module's real path: imported (``from collectrules.x import name``),
    or read as an attribute of a module it bound (``import collectrules.x as y`` then
    ``y.name``; ``import collectrules.x`` then ``collectrules.x.name``; ``from
    collectrules import x`` then ``x.name``; ``cr.x.name`` through a submodule)."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # a local name bound to a module of collectrules
        self.found: set[tuple[str, str]] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            if alias.name.split(".")[0] != "collectrules":
                self.modules.pop(local, None)
            else:
                self.modules[local] = alias.name if alias.asname else "collectrules"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        ours = node.level == 0 and module.split(".")[0] == "collectrules"
        for alias in node.names:
            local = alias.asname or alias.name
            self.modules.pop(local, None)
            if not ours or alias.name == "*":
                continue
            if (sub := _submodule(module, alias.name)) is not None:
                self.modules[local] = sub
            else:
                self.found.add((module, alias.name))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.insert(0, base.attr)
            base = base.value
        if not (isinstance(base, ast.Name) and base.id in self.modules):
            self.generic_visit(node)
            return
        module = self.modules[base.id]
        for name in chain:
            if (sub := _submodule(module, name)) is None:
                self.found.add((module, name))
                return
            module = sub


@attrs.frozen
class _Scan:
    """What the scan of the documentation read: the names used, the code blocks read
    and those that do not parse (each by file and line)."""

    names: frozenset[tuple[str, str]]
    read: tuple[str, ...]
    unparsed: tuple[str, ...]


def _scan_files(paths: list[Path]) -> _Scan:
    """The names of collectrules that the Python of ``paths`` uses (see :class:`_Uses`).
    The blocks of a file are read in order, as one program (``tests/test_docs.py`` runs
    them so): a module bound in one block is known in the next. A block that does not
    parse is counted and left out."""
    names: set[tuple[str, str]] = set()
    read: list[str] = []
    unparsed: list[str] = []
    for path in paths:
        uses = _Uses()
        for where, code in _python_blocks(path):
            try:
                tree = ast.parse(code, filename=where)
            except SyntaxError:
                unparsed.append(where)
                continue
            uses.visit(tree)
            read.append(where)
        names |= uses.found
    return _Scan(frozenset(names), tuple(read), tuple(unparsed))


@functools.cache
def _scan() -> _Scan:
    return _scan_files(_documentation())


@functools.cache
def _documented() -> tuple[tuple[str, str], ...]:
    """Each public ``(module, name)`` that the Python of the docs, the README and the
    examples uses (see :class:`_Uses`): not a private module (a segment starting with
    ``_``) nor a private name."""
    return tuple(
        sorted(
            (module, name)
            for module, name in _scan().names
            if not name.startswith("_")
            and not any(segment.startswith("_") for segment in module.split("."))
        )
    )


def _public_callables() -> dict[str, Any]:
    """Every callable in the walked ``__all__``, then every documented callable that is
    not walked already under another name (see :func:`_documented`), once each, by its
    first dotted name."""
    found: dict[str, Any] = {}
    seen: set[int] = set()

    def add(target: str, value: Any) -> None:
        if callable(value) and id(value) not in seen:
            seen.add(id(value))
            found[target] = value

    for package in _walked_packages():
        module = importlib.import_module(package)
        for name in module.__all__:
            add(f"{package}.{name}", getattr(module, name))
    for module_name, name in _documented():
        if module_name == "collectrules.spark" and not HAS_SPARK:
            continue
        add(f"{module_name}.{name}", getattr(importlib.import_module(module_name), name))
    return found


#: The objects whose public methods are walked, by the name of their class.
METHOD_OWNERS = (
    "engine",
    "decision",
    "case",
    "policy",
    "guardrails",
    "timeline",
    "calendar",
    "hours",
    "team",
    "plan",
    "session",
    "history",
    "verify_report",
)


def _public_methods() -> dict[str, Any]:
    """The public methods of the main objects, by ``Class.method``."""
    found: dict[str, Any] = {}
    objects = _objects()
    for owner in METHOD_OWNERS:
        instance = objects[owner]
        if instance is None:
            continue
        cls = type(instance)
        for name in dir(cls):
            if name.startswith("_") or any(hasattr(base, name) for base in (str, tuple, int)):
                continue
            value = getattr(instance, name)
            if not callable(value) or inspect.isclass(value):
                continue
            found[f"{cls.__name__}.{name}"] = value
    return found


def _targets() -> list[str]:
    return sorted(_public_callables()) + sorted(_public_methods())


def _resolve(target: str) -> Any:
    return {**_public_callables(), **_public_methods()}[target]


class _TimeBoundError(BaseException):
    """Raised into a call that outlived :data:`TIME_BOUND` (a BaseException, so that no
    ``except Exception`` in the library swallows it)."""


@functools.cache
def _on_alarm() -> None:
    def handler(signum: int, frame: types.FrameType | None) -> None:
        if frame is not None and frame.f_code.co_name == "gc_callback":
            return  # an exception there is swallowed; the alarm repeats in 50 ms
        raise _TimeBoundError

    signal.signal(signal.SIGALRM, handler)


def _outcome(call: Callable[[], Any], *, heavy: bool = False) -> str | None:
    """``None`` when ``call`` returns or raises a CollectRulesError in time (or, when
    ``heavy``, is still at work at :data:`HEAVY_BOUND`); else what went wrong.

    The alarm repeats every 50 ms once due: one that lands in a garbage collector's
    callback (hypothesis keeps one) is let pass, and the next one stops the call."""
    _on_alarm()
    try:
        signal.setitimer(signal.ITIMER_REAL, HEAVY_BOUND if heavy else TIME_BOUND, 0.05)
        try:
            result = call()
            if isinstance(result, Iterator):  # a lazy answer: its errors come on reading
                for _ in zip(range(3), result, strict=False):
                    pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CollectRulesError:
        return None
    except _TimeBoundError:
        return None if heavy else f"took more than {TIME_BOUND:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:160]}"
    return None


def _garbage_for(parameter: str, value: Any) -> Any:
    if value is OTHER:  # a Policy where anything else is expected, a Case for a policy
        return _objects()["case" if parameter in ("policy", "old", "new") else "policy"]
    return value


def _calls(target: str, func: Any) -> Iterator[tuple[str, Callable[[], Any]]]:
    """For each parameter and each value in GARBAGE, a label and the call."""
    if inspect.isclass(func) and issubclass(func, enum.Enum):
        for value in GARBAGE:
            yield f"{quote(value)}", functools.partial(func, _garbage_for("value", value))
        return
    try:
        sig = inspect.signature(func)
    except ValueError:  # an exception class with no signature of its own
        for value in GARBAGE:
            yield f"{quote(value)}", functools.partial(func, _garbage_for("", value))
        return
    params, sample = _sampler(target, func, sig)
    for p in params:
        for value in GARBAGE:
            if value is None and p.default is None:  # None is this parameter's default
                continue
            call = _call_with(func, params, sample, p, _garbage_for(p.name, value))
            yield f"{p.name}={quote(value)}", call


def _sampler(
    target: str, func: Any, sig: inspect.Signature
) -> tuple[list[inspect.Parameter], Callable[[inspect.Parameter], Any]]:
    """The parameters of ``func`` that the walk gives, and a valid value for each."""
    samples = _samples()
    plain = _is_plain_record(func)
    params = [
        p
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not p.name.startswith("_")
    ]
    qual = target.rsplit(".", 2)[-2:] if not target.startswith("collectrules") else [target]

    def sample(p: inspect.Parameter) -> Any:
        for key in (f"{'.'.join(qual)}.{p.name}", p.name):
            if key in samples:
                return samples[key]()
        if plain:
            return "x"
        msg = f"no sample for {target}({p.name}); add one to _samples or to UNSAMPLED"
        raise LookupError(msg)

    return params, sample


def _call_with(
    func: Any,
    params: list[inspect.Parameter],
    sample: Callable[[inspect.Parameter], Any],
    p: inspect.Parameter,
    value: Any,
) -> Callable[[], Any]:
    """``func`` called with ``value`` for ``p`` and a valid value for each other
    parameter without a default."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for q in params:
        if q is p:
            given_value = value
        elif q.default is not q.empty:
            continue
        else:
            given_value = sample(q)
        if q.kind is q.POSITIONAL_ONLY:
            args.append(given_value)
        else:
            kwargs[q.name] = given_value
    return functools.partial(func, *args, **kwargs)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls given a text as a path write, if at all, into a fresh directory."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("target", [t for t in _targets() if t not in UNSAMPLED])
def test_a_wrong_kind_of_argument_is_a_collectrules_error(target: str) -> None:
    func = _resolve(target)
    bad = [
        f"{label}: {problem}"
        for label, call in _calls(target, func)
        if (problem := _outcome(call, heavy=target in HEAVY)) is not None
    ]
    assert not bad, f"{target}:\n" + "\n".join(bad)


def test_the_lists_of_exceptions_name_only_real_targets() -> None:
    named = set(UNSAMPLED) if HAS_SPARK else set(UNSAMPLED) - {"collectrules.spark.decide"}
    assert named <= set(_targets())


def test_the_documented_names_are_found_in_the_docs() -> None:
    documented = set(_documented())
    assert ("collectrules.money.kpis", "compute_kpis") in documented
    assert ("collectrules.policy.clauses", "registry") in documented
    # Used only as attributes of a module: `from collectrules import frame` then
    # `frame.decide`, `from collectrules import spark as crspark` then `crspark.decide`,
    # `import collectrules as cr` then `cr.BusinessCalendar`.
    assert {
        ("collectrules.frame", "decide"),
        ("collectrules.spark", "decide"),
        ("collectrules", "BusinessCalendar"),
    } <= documented
    assert not any("._" in module or name.startswith("_") for module, name in documented)
    assert {"collectrules.money.kpis.compute_kpis", "collectrules.model.decision.Template"} <= set(
        _targets()
    )


def test_the_scan_reads_the_python_of_every_page_that_has_some() -> None:
    scan = _scan()
    with_python = {
        path.name
        for path in _documentation()
        if path.suffix == ".py"
        or any(
            (m := _FENCE.match(line)) and m["info"].split()[:1] in (["python"], ["py"])
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    }
    read_from = {where.split(":")[0] for where in scan.read}
    assert "README.md" in with_python
    assert with_python == read_from, f"no block read from {sorted(with_python - read_from)}"
    assert len(scan.read) > 10 * len(scan.unparsed), f"unparsed: {scan.unparsed}"


def test_the_scan_resolves_each_way_of_importing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "\n".join(
            [
                "```python",
                "import collectrules.money.kpis as k",
                "import collectrules.operations.changes",
                "from collectrules import frame",
                "from collectrules.money import charges as ch",
                "from collectrules.policy.clauses import registry",
                "k.compute_kpis({})",
                "collectrules.operations.changes.read_run([])",
                "frame.decide(None, as_of=None)",
                "print(ch.amounts_due)",
                "```",
                "",
                "- in a list:",
                "",
                "  ```py",
                "  import collectrules as cr",
                "  cr.money.kpis.events_from_rows([])",
                "  cr.Case.from_dict({})",
                "  ```",
                "",
                "```python",
                "this is not( Python",
                "```",
                "",
                "```toml",
                "from collectrules.io import read_rows",
                "```",
                "",
                "```python",
                "k.portfolio_from_rows([])",
                "import json as cr",
                "cr.dumps({})",
                "```",
            ]
        ),
        encoding="utf-8",
    )
    example = tmp_path / "example.py"
    example.write_text(
        "from collectrules import testing as kit\nkit.check_complete\n", encoding="utf-8"
    )
    scan = _scan_files([page, example])
    assert scan.names == {
        ("collectrules.money.kpis", "compute_kpis"),
        ("collectrules.operations.changes", "read_run"),
        ("collectrules.frame", "decide"),
        ("collectrules.money.charges", "amounts_due"),
        ("collectrules.policy.clauses", "registry"),
        ("collectrules.money.kpis", "events_from_rows"),
        ("collectrules.money.kpis", "portfolio_from_rows"),
        ("collectrules", "Case"),
        ("collectrules.testing", "check_complete"),
    }
    assert scan.read == ("page.md:2", "page.md:16", "page.md:30", "example.py")
    assert scan.unparsed == ("page.md:22",)


@pytest.mark.parametrize(
    ("row", "path"),
    [
        (5, "rows[0]"),
        ("ab", "rows[0]"),
        (("a", "b", "c"), "rows[0]"),
        ((5, {}), "rows[0][0]"),
        (("line 1", 5), "rows[0][1]"),
        (["line 1", []], "rows[0][1]"),
    ],
)
def test_a_row_of_another_shape_is_an_input_error_naming_it(row: Any, path: str) -> None:
    from collectrules.errors import InputError
    from collectrules.money.kpis import events_from_rows, timelines_from_rows
    from collectrules.operations.changes import read_run

    for read in (read_run, portfolio_from_rows, events_from_rows, timelines_from_rows):
        with pytest.raises(InputError) as caught:
            read([row])
        assert [p.path for p in caught.value.problems] == [path]


# -- inside the documented structures -------------------------------------------------


@attrs.frozen
class _Unbuilt:
    """A place the walk could not fill: the attrs class of the object refused the value
    with an exception that is no ``CollectRulesError`` (``problem`` says which)."""

    problem: str


def _rebuilt(instance: Any, field: attrs.Attribute[Any], value: Any) -> Any:
    """``instance`` (an attrs object) with ``value`` as its ``field``, built as the class
    builds it (``attrs.evolve`` runs its converters and validators): ``None`` when the
    class refuses the value with a ``CollectRulesError`` (such an object cannot exist),
    an :class:`_Unbuilt` when it refuses it with another exception."""
    try:
        return attrs.evolve(instance, **{field.alias: value})
    except CollectRulesError:
        return None
    except Exception as error:
        return _Unbuilt(f"{type(instance).__name__}({field.alias}=…): {type(error).__name__}")


def _fields(instance: Any) -> Iterator[attrs.Attribute[Any]]:
    """The fields of an attrs object that its class takes as arguments."""
    yield from (f for f in attrs.fields(type(instance)) if f.init)


def _wrapped(nested: Any, wrap: Callable[[Any], Any]) -> Any:
    """``wrap(nested)``, but an :class:`_Unbuilt` or refused place (``None``) as it is."""
    return nested if nested is None or isinstance(nested, _Unbuilt) else wrap(nested)


def _inside(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """What :func:`_places` yields, less the places whose object refused its value."""
    return ((label, new) for label, new in _places(value, where) if new is not None)


#: A mapping field of an attrs object with more keys than this is walked at some of
#: them (:func:`_walked_keys`): a decision's ``facts`` hold about a hundred, and each
#: call of the report takes tens of milliseconds.
MAX_KEYS_INSIDE = 12

#: The facts of a decision that the KPIs and the report read, walked always.
READ_FACTS = frozenset({*COUNT_FACTS, "dpd", "currency", "overdue_amount", "principal"})


def _walked_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    """The keys of ``mapping`` (a field of an attrs object) that the walk goes into: all
    of them when there are at most :data:`MAX_KEYS_INSIDE`, else the facts read
    (:data:`READ_FACTS`), two ``step_`` facts, and the others evenly spaced."""
    keys = list(mapping)
    if len(keys) <= MAX_KEYS_INSIDE:
        return keys
    read = [k for k in keys if k in READ_FACTS]
    steps = [k for k in keys if isinstance(k, str) and k.startswith("step_")][:2]
    rest = sorted((k for k in keys if k not in read and k not in steps), key=repr)
    room = max(1, MAX_KEYS_INSIDE - len(read) - len(steps))
    return [*read, *steps, *rest[:: max(1, len(rest) // room)][:room]]


def _places(value: Any, where: str, keys: list[Any] | None = None) -> Iterator[tuple[str, Any]]:
    """Each way to put one value of :data:`GARBAGE` inside ``value``, a structure of
    mappings, lists, tuples and attrs objects, as ``(where it went, the new value)``: in
    place of each item and each value at any depth, added to each list and tuple
    (``[+]``), as a new key of each mapping (``{key}``, holding the value of its first
    key), and in place of each field of each attrs object (``.field``, the object
    rebuilt by :func:`_rebuilt`; a value its class refuses with a ``CollectRulesError``
    gives ``None``, which :func:`_inside` leaves out, and one it refuses otherwise an
    :class:`_Unbuilt`; a mapping field is walked at :func:`_walked_keys`). A mapping is
    walked only at ``keys`` when they are given. ``value`` itself is left to the walk
    above."""
    if isinstance(value, Mapping):
        for key in value if keys is None else keys:
            item = value[key]
            place = f"{where}[{quote(key)}]"
            for garbage in GARBAGE:
                yield f"{place}={quote(garbage)}", {**value, key: _garbage_for("", garbage)}
            for label, new in _places(item, place):
                yield label, _wrapped(new, lambda n, key=key: {**value, key: n})
        first = next(iter(value.values()), None)
        for garbage in GARBAGE:
            key = _garbage_for("", garbage)
            if isinstance(key, list | dict) or key in value:
                continue
            yield f"{where}{{key {quote(garbage)}}}", {**value, key: first}
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            place = f"{where}[{index}]"
            for garbage in GARBAGE:
                new = [*value[:index], _garbage_for("", garbage), *value[index + 1 :]]
                yield f"{place}={quote(garbage)}", type(value)(new)
            for label, nested in _places(item, place):
                yield (
                    label,
                    _wrapped(
                        nested,
                        lambda n, i=index: type(value)([*value[:i], n, *value[i + 1 :]]),
                    ),
                )
        for garbage in GARBAGE:
            yield f"{where}[+]={quote(garbage)}", type(value)([*value, _garbage_for("", garbage)])
    elif attrs.has(type(value)):
        for field in _fields(value):
            place = f"{where}.{field.name}"
            for garbage in GARBAGE:
                new = _rebuilt(value, field, _garbage_for(field.name, garbage))
                if new is not None:
                    yield f"{place}={quote(garbage)}", new
            inner = getattr(value, field.name)
            walked = _walked_keys(inner) if isinstance(inner, Mapping) else None
            for label, nested in _places(inner, place, walked):
                yield label, _wrapped(nested, lambda n, f=field: _rebuilt(value, f, n))


def _problem_of(value: Any, call: Callable[[], Any], *, heavy: bool = False) -> str | None:
    """What went wrong building ``value`` (an :class:`_Unbuilt`) or in ``call``."""
    if isinstance(value, _Unbuilt):
        return f"refused by its class: {value.problem}"
    return _outcome(call, heavy=heavy)


def _nested() -> dict[str, tuple[Callable[..., Any], dict[str, Any], tuple[str, ...]]]:
    """The documented entry points whose arguments are structures (rows, mappings by
    case id, owners, a team): each with valid keyword arguments, taken together, and the
    parameters the walk puts garbage inside, one place at a time."""
    from collectrules.money.kpis import (
        compute_kpis,
        events_from_rows,
        timelines_from_rows,
    )
    from collectrules.money.terms import Target
    from collectrules.operations import team_from_dict
    from collectrules.operations.changes import compare_runs, read_run
    from collectrules.operations.report import build_report

    o = _objects()
    # A decision of the bank's policy, which puts the case in buckets.
    banked = cr.Engine(o["bank"], backend="python").decide(o["case"], as_of=AS_OF)
    decision = banked.to_dict()
    line = json.loads(banked.to_json_bytes(extra={"input": o["case"].to_dict()}))
    case_id = o["case"].case_id
    event = {"case_id": case_id, "kind": "payment", "at": "2026-04-01T00:00:00+00:00"}
    timeline = json.loads(o["timeline"].to_json())
    portfolio = portfolio_from_rows([("line 1", decision)])
    return {
        "compute_kpis": (
            compute_kpis,
            {
                "decisions": portfolio,
                "previous": portfolio,
                "events": {
                    case_id: list(events_from_rows([("e", {**event, "amount": "9"})])[case_id])
                },
                "timelines": {case_id: ["done", "breached"]},
                "owners": {case_id: "ana"},
                "by": "owner",
                "targets": [
                    Target("overdue_recovery", "overdue_amount", MoneyFigure(Decimal("0.5")))
                ],
            },
            ("decisions", "previous", "events", "timelines", "owners", "targets"),
        ),
        "portfolio_from_rows": (portfolio_from_rows, {"rows": [("line 1", decision)]}, ("rows",)),
        "events_from_rows": (
            events_from_rows,
            {"rows": [("e", {**event, "amount": "9"})]},
            ("rows",),
        ),
        "timelines_from_rows": (timelines_from_rows, {"rows": [("t", timeline)]}, ("rows",)),
        "read_run": (read_run, {"rows": [("line 1", line)]}, ("rows",)),
        "compare_runs": (
            compare_runs,
            {"old": [("line 1", line)], "new": [("line 1", line)]},
            ("old", "new"),
        ),
        "build_report": (
            build_report,
            {"decisions": o["decision_rows"], "previous": o["decision_rows"]},
            ("decisions", "previous"),
        ),
        "team_from_dict": (
            team_from_dict,
            {
                "raw": {
                    "owner": [
                        {
                            "id": "ana",
                            "role": "agent",
                            "capacity": 10,
                            "quadrants": ["Q1", "Q2"],
                            "step_roles": ["agent"],
                            "channels": ["phone"],
                            "buckets": {"M": ["M1"]},
                            "min_amount": "1",
                            "max_amount": "90000",
                        }
                    ]
                }
            },
            ("raw",),
        ),
    }


@pytest.mark.parametrize("name", sorted(_nested()))
def test_garbage_inside_a_documented_structure_is_a_collectrules_error(name: str) -> None:
    func, valid, parameters = _nested()[name]
    bad = []
    for parameter in parameters:
        for where, value in _inside(valid[parameter], parameter):
            call = functools.partial(func, **{**valid, parameter: value})
            if (problem := _problem_of(value, call)) is not None:
                bad.append(f"{where}: {problem}")
    assert not bad, f"{name}: {len(bad)} calls\n" + "\n".join(bad)


#: The attrs classes whose objects, given whole as an argument, the walk does not go
#: into, with the reason: the insides of each are walked where they are read.
WHOLE_ONLY: dict[str, str] = {
    "Policy": "some 70,000 places; its insides are walked through policy_from_dict",
    "Decision": "some 5,000 places; its insides are walked through Decision.from_dict",
}


def _structured() -> list[tuple[str, str]]:
    """Each walked target and parameter whose valid sample is a structure (a non-empty
    mapping, list or tuple) or an attrs object (but those of :data:`WHOLE_ONLY`), whose
    insides the walk can fill with garbage, but those that :func:`_nested` walks
    already. The samples
    that are files are made in a scratch directory, removed after."""
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        return _structured_here()


def _unwrapped(func: Any) -> Any:
    """The function behind a bound method, or ``func``."""
    return getattr(func, "__func__", func)


def _structured_here() -> list[tuple[str, str]]:
    # What the walk of the documented structures covers already is left out.
    nested = {(_unwrapped(f), p) for f, _, params in _nested().values() for p in params}
    found = []
    for target in _targets():
        if target in UNSAMPLED:
            continue
        func = _resolve(target)
        try:
            sig = inspect.signature(func)
        except ValueError:
            continue
        params, sample = _sampler(target, func, sig)
        for p in params:
            try:
                value = sample(p)
            except LookupError:
                continue
            structure = isinstance(value, Mapping | list | tuple) and bool(value)
            record = attrs.has(type(value)) and type(value).__name__ not in WHOLE_ONLY
            if (
                (structure or record)
                and not _is_plain_record(func)
                and (_unwrapped(func), p.name) not in nested
            ):
                found.append((target, p.name))
    return found


@pytest.mark.parametrize(("target", "parameter"), _structured())
def test_garbage_inside_any_sampled_structure_is_a_collectrules_error(
    target: str, parameter: str
) -> None:
    func = _resolve(target)
    params, sample = _sampler(target, func, inspect.signature(func))
    (p,) = (p for p in params if p.name == parameter)
    bad = [
        f"{where}: {problem}"
        for where, value in _inside(sample(p), parameter)
        if (
            problem := _problem_of(
                value, _call_with(func, params, sample, p, value), heavy=target in HEAVY
            )
        )
        is not None
    ]
    assert not bad, f"{target}: {len(bad)} calls\n" + "\n".join(bad)


def test_spark_decide_checks_its_arguments() -> None:
    pytest.importorskip("pyspark")
    from collectrules.spark import decide

    for value in (5, None, object(), "x", [], {}):
        with pytest.raises(CollectRulesError):
            decide(value, as_of=AS_OF)


# -- a property: garbage of any shape, at the main entry points -----------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.decimals(allow_nan=True),
    st.dates(),
    st.datetimes(),
)
GARBAGE_VALUES = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=12,
)


def _field_garbage(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``template`` with one key's value replaced by garbage, or a key added."""
    keys = st.sampled_from(sorted(template)) | st.text(max_size=12)
    return st.builds(lambda k, v: {**template, k: v}, keys, GARBAGE_VALUES)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(value=GARBAGE_VALUES)
def test_garbage_anywhere_at_the_main_entry_points_is_a_collectrules_error(value: Any) -> None:
    o = _objects()
    calls: list[Callable[[], Any]] = [
        lambda: o["engine"].decide(value, as_of=AS_OF),
        lambda: o["engine"].decide(o["case"], as_of=value),
        lambda: cr.Case.from_dict(value),
        lambda: cr.Decision.from_dict(value),
        lambda: cr.Decision.from_json(value),
        lambda: o["guardrails"].check(o["case"], value),
        lambda: o["guardrails"].check(value, o["contact"]),
        lambda: cr.build_timeline(value, as_of=AS_OF, policy=o["policy"]),
        lambda: cr.build_timeline(o["case"], as_of=value, policy=o["policy"]),
    ]
    for call in calls:
        assert _outcome(call) is None


@_SETTINGS
@given(value=GARBAGE_VALUES)
def test_garbage_in_an_option_of_the_main_entry_points_is_a_collectrules_error(
    value: Any,
) -> None:
    o = _objects()
    calls: list[Callable[[], Any]] = [
        lambda: cr.Case.from_dict(case_dict(), signal_kinds=value),
        lambda: cr.Case.from_dict(case_dict(), products=value),
        lambda: cr.Decision.from_dict(_decision_dict(), remedies=value),
        lambda: cr.Decision.from_json(o["decision"].to_json(), source=value),
        lambda: o["decision"].to_json(indent=value),
        lambda: o["timeline"].to_json(indent=value),
        lambda: o["timeline"].deadline(value),
        lambda: o["timeline"].step(value),
        lambda: o["engine"].replay(o["case"], as_of=AS_OF, fired=value),
        lambda: o["engine"].decide_many(value, as_of=AS_OF),
        lambda: o["guardrails"].next_allowed(o["case"], value, "debtor", after=AS_OF),
        lambda: o["guardrails"].next_allowed(o["case"], "phone", value, after=AS_OF),
        lambda: o["policy"].param(value),
        lambda: o["case"].local_date(value),
        lambda: cr.bucket_history(o["case"], value, policy=o["bank"], bucket_set="M"),
    ]
    for call in calls:
        assert _outcome(call) is None


@_SETTINGS
@given(data=_field_garbage(case_dict(("income_loss", None))))
def test_a_case_with_one_field_of_garbage_is_a_case_or_an_input_error(
    data: dict[str, Any],
) -> None:
    assert _outcome(lambda: cr.Case.from_dict(data)) is None


@functools.cache
def _decision_dict() -> dict[str, Any]:
    return _objects()["decision"].to_dict()


@_SETTINGS
@given(data=st.deferred(lambda: _field_garbage(_decision_dict())))
def test_a_decision_with_one_field_of_garbage_is_a_decision_or_an_input_error(
    data: dict[str, Any],
) -> None:
    assert _outcome(lambda: cr.Decision.from_dict(data)) is None


# -- values of the right kind and the wrong content -----------------------------------

#: Texts that are no known value of any field.
WRONG_TEXTS: tuple[str, ...] = ("no-such-value", "", "x" * 10_000, "no\x00such")

#: Numbers out of the range of a count or an amount, by the kind of number they replace.
WRONG_NUMBERS: dict[type, tuple[Any, ...]] = {
    int: (-1, 0, 10**30, float("nan"), float("inf")),
    float: (-1.0, 0.0, 1e30, float("nan"), float("inf")),
    Decimal: (Decimal(-1), Decimal(0), Decimal(10**30), Decimal("NaN"), Decimal("Infinity")),
}

_COUNTS = "|".join(COUNT_FACTS)

#: The places of a decision's row that are read, as a pattern: its quadrant, currency
#: and ``as_of``, and (``step``) the statuses of its steps. (A row holds much that the
#: KPIs and the report do not read, such as its trace.)
_ROW = r"^\w+\[\d+\]\[1\]"
_ROW_TEXT = rf"{_ROW}\['quadrant'\]\['value'\]$|{_ROW}\['facts'\]\['currency'\]$|{_ROW}\['as_of'\]$"
_ROW_STEP = rf"{_ROW}\['facts'\]\['step_\w+'\]$"
_ROW_QUANTITY = rf"{_ROW}\['facts'\]\['(dpd|overdue_amount|principal|{_COUNTS})'\]$"
_CASE_TEXT = r"\.(quadrant|currency|as_of)$"
_CASE_QUANTITY = rf"\.(dpd|overdue_amount|principal)$|\.facts\['({_COUNTS})'\]$"

#: For each entry point of :func:`_nested`, the places it reads whose text is one of a
#: closed set (a quadrant, a currency, a step status, a basis...) or a time, and those
#: that hold a count or an amount (a number, or a number as text). Any of
#: :data:`WRONG_TEXTS` at either, a naive datetime at the first, and a negative or not
#: finite number at the second must be refused: not counted, not grouped under.
READ: dict[str, tuple[str, str]] = {
    "compute_kpis": (
        rf"^(decisions|previous)\[[^]]*\]{_CASE_TEXT}|^timelines\[[^]]*\]\[\d+\]$"
        r"|^events\[[^]]*\]\[\d+\]\.(kind|at|outcome)$|^targets\[\d+\]\.basis$",
        rf"^(decisions|previous)\[[^]]*\]({_CASE_QUANTITY})"
        r"|^events\[[^]]*\]\[\d+\]\.amount$|^targets\[\d+\]\.rate\.value$",
    ),
    "portfolio_from_rows": (_ROW_TEXT, _ROW_QUANTITY),
    "read_run": (f"{_ROW_TEXT}|{_ROW_STEP}", _ROW_QUANTITY),
    "compare_runs": (f"{_ROW_TEXT}|{_ROW_STEP}", _ROW_QUANTITY),
    "build_report": (
        rf"^\w+\[[^]]*\]\.case{_CASE_TEXT}|^\w+\[[^]]*\]\.steps\[[^]]*\]$",
        rf"^\w+\[[^]]*\]\.case({_CASE_QUANTITY})",
    ),
    "events_from_rows": (rf"{_ROW}\['(kind|at|outcome)'\]$", rf"{_ROW}\['amount'\]$"),
    "timelines_from_rows": (rf"{_ROW}\['steps'\]\[\d+\]\['status'\]$", "$^"),
    "team_from_dict": (
        r"\['quadrants'\]\[\d+\]$",
        r"\['(capacity|min_amount|max_amount)'\]$",
    ),
}


def _leaf_values(leaf: Any) -> tuple[Any, ...]:
    """The values of the wrong content for ``leaf``: none for a value that is no leaf."""
    if isinstance(leaf, bool):
        return ()
    if isinstance(leaf, str):
        return WRONG_TEXTS
    if isinstance(leaf, dt.datetime):
        return (leaf.replace(tzinfo=None),) if leaf.tzinfo is not None else ()
    return WRONG_NUMBERS.get(type(leaf), ())


def _contents(value: Any, where: str, keys: list[Any] | None = None) -> Iterator[tuple[str, Any]]:
    """Each way to put one value of the wrong content in place of one leaf of ``value``
    (see :func:`_leaf_values`), as ``(where it went=the value put, the new value)``: in
    mappings (not their keys; only at ``keys`` when given), lists, tuples and the fields
    of attrs objects (rebuilt as :func:`_places` rebuilds them, a mapping field walked
    at :func:`_walked_keys`), at any depth. A place whose object refused the value with
    a ``CollectRulesError`` gives ``None``."""
    if isinstance(value, Mapping):
        for key in value if keys is None else keys:
            for label, new in _contents(value[key], f"{where}[{quote(key)}]"):
                yield label, _wrapped(new, lambda n, key=key: {**value, key: n})
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            for label, nested in _contents(item, f"{where}[{index}]"):
                yield (
                    label,
                    _wrapped(
                        nested,
                        lambda n, i=index: type(value)([*value[:i], n, *value[i + 1 :]]),
                    ),
                )
    elif attrs.has(type(value)):
        for field in _fields(value):
            inner = getattr(value, field.name)
            walked = _walked_keys(inner) if isinstance(inner, Mapping) else None
            for label, nested in _contents(inner, f"{where}.{field.name}", walked):
                yield label, _wrapped(nested, lambda n, f=field: _rebuilt(value, f, n))
    else:
        for wrong in _leaf_values(value):
            yield f"{where}={quote(wrong, limit=48)}", wrong


def _must_refuse(name: str, label: str) -> bool:
    """Whether the wrong content of ``label`` (``place=value``) given to the entry point
    ``name`` must be refused (see :data:`READ`)."""
    place, _, shown = label.rpartition("=")
    closed, quantity = READ[name]
    if re.search(closed, place):
        return True
    if re.search(quantity, place):
        return not shown.startswith(("0", "Decimal('0')", "100000", "1e+30", "Decimal('1000"))
    return False


def _problems_of(result: Any) -> Any:
    """The rows a result reports as refused: ``read_run`` gives them second, and
    ``compare_runs`` as ``problems``."""
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], list):
        return result[1]
    return getattr(result, "problems", None)


def _ratios(value: Any) -> Iterator[Any]:
    """Each :class:`~collectrules.money.kpis.Ratio` in a result, at any depth."""
    from collectrules.money.kpis import Ratio

    if isinstance(value, Ratio):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _ratios(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _ratios(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _ratios(getattr(value, field.name))


def _content_outcome(call: Callable[[], Any], *, refuse: bool) -> str | None:
    """``None`` when ``call`` gives a sound result (each rate within 0 and 1 of finite
    parts; when ``refuse``, only a result that reports the row refused) or an InputError
    naming a field."""
    from collectrules.errors import InputError

    _on_alarm()
    try:
        signal.setitimer(signal.ITIMER_REAL, TIME_BOUND, 0.05)
        try:
            result = call()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except InputError as error:
        if not any(p.path for p in error.problems):
            return f"an InputError that names no field: {str(error)[:160]}"
        return None
    except CollectRulesError as error:
        return f"a {type(error).__name__} that names no field: {str(error)[:160]}"
    except _TimeBoundError:
        return f"took more than {TIME_BOUND:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:160]}"
    if refuse and not _problems_of(result):
        return f"accepted: {quote(result, limit=80)}"
    for ratio in _ratios(result):
        n, d = ratio.numerator, ratio.denominator
        if not (n.is_finite() and d.is_finite() and 0 <= n <= d):
            return f"accepted, and counted it: a rate of {n} / {d}"
    return None


@pytest.mark.parametrize("name", sorted(_nested()))
def test_wrong_content_inside_a_documented_structure_is_refused_or_not_counted(
    name: str,
) -> None:
    """At each leaf of a valid structure, text that is no known value or a number out of
    range gives a sound result or an InputError naming the field; where the text is one
    of a closed set, or the number a count or an amount, it is refused."""
    func, valid, parameters = _nested()[name]
    bad = []
    for parameter in parameters:
        for where, value in _contents(valid[parameter], parameter):
            if value is None:
                continue  # the object's own class refused it
            call = functools.partial(func, **{**valid, parameter: value})
            if isinstance(value, _Unbuilt):
                problem: str | None = f"refused by its class: {value.problem}"
            else:
                problem = _content_outcome(call, refuse=_must_refuse(name, where))
            if problem is not None:
                bad.append(f"{where}: {problem}")
    assert not bad, f"{name}: {len(bad)} calls\n" + "\n".join(bad)
