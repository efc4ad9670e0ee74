"""The library computes the same whatever decimal context its caller has set.

Every operation on a ``Decimal`` rounds to the thread's current context. An
application that lowers the precision, changes the rounding or traps ``Inexact``
changed what the library computed: a policy's money thresholds scaled to the facts'
units, a case's amounts in its facts, the payments counted on a timeline, a plan's
instalments, a KPI's rates; or it raised ``decimal.Rounded`` from inside the library.
Each entry point here runs inside such contexts and must give the bytes it gives in
Python's default one, and leave the caller's context as it was: no flag raised in it.
"""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from collectrules import Case, Engine, load_policy
from collectrules.batch import run_batch
from collectrules.cli import main
from collectrules.money import PlanTerms, build_schedule, propose_plan
from collectrules.money.charges import amounts_due
from collectrules.policy import policy_from_dict
from collectrules.policy.model import NO_CONTRIBUTION, Contribution
from collectrules.policy.section import BaseSection, installed_sections
from collectrules.testing import boundary_values

ROOT = Path(__file__).parent.parent
CASES = sorted((ROOT / "examples" / "cases").glob("*.json"))
TIMELINE_CASE = ROOT / "examples" / "timeline_case.json"
AS_OF = "2026-04-11T09:00:00+08:00"
POLICIES = ["default", "cn_bank_loan", "cn_credit_card", "uk", "us_regf", "ifrs9"]
PLAN = ["--kind", "extend", "--months", "7", "--rate", "0.0735"]
#: The currency a policy's packs hold thresholds in (CNY for the others).
CURRENCIES = {"ifrs9": "EUR", "uk": "GBP", "us_regf": "USD"}
#: A loan with contract terms (rate, penalty, a fee) and a part payment: amounts due,
#: reductions, the payments a timeline counts.
TERMS = {
    "case_id": "TERMS-1",
    "product": "loan",
    "currency": "CNY",
    "principal": "123456.78",
    "overdue_amount": "36500.33",
    "due_date": "2026-03-01",
    "timezone": "Asia/Shanghai",
    "annual_rate": "0.0735",
    "penalty_rate": "0.1025",
    "fees": [{"kind": "late_fee", "amount": "50.05", "charged_on": "2026-03-05"}],
    "events": [
        {"kind": "payment", "at": "2026-03-20T10:00:00+08:00", "amount": "1234.56"},
        {"kind": "payment", "at": "2026-04-02T10:00:00+08:00", "amount": "0.07"},
    ],
}


def _contexts() -> list[decimal.Context]:
    """Contexts an application may set: each changes an operation's result, or traps it."""
    return [
        decimal.Context(prec=3, rounding=decimal.ROUND_DOWN, capitals=0),
        decimal.Context(prec=2, rounding=decimal.ROUND_CEILING, traps=[decimal.Inexact]),
        decimal.Context(prec=28, Emax=6, Emin=-6, traps=[decimal.Overflow, decimal.Subnormal]),
    ]


def _case_dicts() -> list[dict[str, Any]]:
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in CASES]
    return [*cases, json.loads(TIMELINE_CASE.read_text(encoding="utf-8")), TERMS]


def _same_in_every_context(work: Callable[[], object]) -> None:
    """``work()`` gives what it gives in the default context in each of :func:`_contexts`,
    and raises no flag in the caller's context."""
    with decimal.localcontext(decimal.Context()):
        expected = work()
    for context in _contexts():
        with decimal.localcontext(context) as caller:
            got = work()
            flags = [name for name, raised in caller.flags.items() if raised]
        assert got == expected, f"differs in {context}"
        assert not flags, f"{flags} raised in the caller's context {context}"


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("backend", ["python", "durable"])
def test_decisions_and_timelines_do_not_depend_on_the_callers_context(
    policy: str, backend: str
) -> None:
    engine = Engine(policy, backend=backend)
    currency = CURRENCIES.get(policy, "CNY")
    cases = [Case.from_dict({**c, "currency": currency}) for c in _case_dicts()]

    def work() -> list[str]:
        out = []
        for case in cases:
            decision = engine.decide(case, as_of=AS_OF)
            out += [decision.to_json(), engine.timeline(case, as_of=AS_OF).to_json()]
        return out

    _same_in_every_context(work)


def test_a_policy_compiled_in_the_callers_context_keeps_its_thresholds() -> None:
    """The policy's money constants are scaled to the facts' units when it is first
    used, and the compiled policy keeps them for every later decision: scaled in the
    caller's context, a threshold lost its digits past that context's precision."""
    cases = [Case.from_dict(c) for c in _case_dicts()]
    data = dict(load_policy("cn_bank_loan").data)

    def decided(context: decimal.Context) -> list[str]:
        policy = policy_from_dict(data)  # a fresh object: nothing compiled yet
        with decimal.localcontext(context):
            engine = Engine(policy, backend="python")
            engine.decide(cases[0], as_of=AS_OF)  # compiles in the caller's context
        return [engine.decide(c, as_of=AS_OF).to_json() for c in cases]

    expected = decided(decimal.Context())
    for context in _contexts():
        assert decided(context) == expected


def test_money_does_not_depend_on_the_callers_context() -> None:
    policy = load_policy("cn_bank_loan")
    engine = Engine(policy, backend="python")
    terms_case = Case.from_dict(TERMS)
    q2 = Case.from_dict(json.loads((ROOT / "examples/cases/q2_health_short.json").read_text()))
    plan_terms = PlanTerms(months=7, annual_rate="0.0735", principal="10000.01")

    def work() -> list[Any]:
        decision = engine.decide(q2, as_of=AS_OF)
        plan = propose_plan(
            q2, decision, kind="extend", as_of=AS_OF, terms=plan_terms, policy=policy
        )
        schedule = build_schedule(
            Decimal("10000.01"), Decimal("0.0735"), 7, currency="CNY", start=plan.start
        )
        due = amounts_due(terms_case, AS_OF, policy=policy)
        return [
            plan.to_dict(),
            plan.total_interest,
            plan.total_payment,
            [i.to_dict() for i in schedule],
            due.to_dict(),
            due.total,
        ]

    _same_in_every_context(work)


def test_amounts_written_as_text_do_not_depend_on_the_callers_context() -> None:
    """``str()`` of a ``Decimal`` in exponent form follows the context's ``capitals``
    (``1E+5`` or ``1e+5``), and a formatted amount (``{:,.2f}``) its rounding: a case's
    data, a plan's figures and a promise's description were written in the caller's."""
    engine = Engine("cn_bank_loan", backend="python")
    data = {**TERMS, "principal": "1.2345678E+5", "overdue_amount": "3.65E+4"}
    data["events"] = [
        *TERMS["events"],
        {
            "kind": "promise_made",
            "at": "2026-04-01T09:40:00+08:00",
            "promised_date": "2026-04-08",
            "amount": "2E+3",
        },
    ]

    def work() -> list[Any]:
        case = Case.from_dict(data)
        return [
            json.dumps(case.to_dict()),
            engine.decide(case, as_of=AS_OF).to_json(),
            engine.timeline(case, as_of=AS_OF).to_json(),
        ]

    assert '"overdue_amount": "3.65E+4"' in work()[0]
    _same_in_every_context(work)


def test_the_testing_kits_boundary_values_do_not_depend_on_the_callers_context() -> None:
    _same_in_every_context(lambda: boundary_values("cn_bank_loan"))


def test_the_command_line_does_not_depend_on_the_callers_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in _case_dicts()), encoding="utf-8")
    decisions = tmp_path / "decisions.jsonl"
    run_batch([source], engine=Engine("cn_bank_loan"), out=decisions, as_of=AS_OF)
    q2 = str(ROOT / "examples/cases/q2_health_short.json")
    commands = [
        ["decide", str(source), "--policy", "cn_bank_loan", "--as-of", AS_OF, "--format", "json"],
        ["timeline", str(TIMELINE_CASE), "--as-of", AS_OF],
        ["plan", q2, *PLAN, "--as-of", AS_OF, "--format", "json"],
        ["kpis", str(decisions), "--format", "json"],
        ["worklist", str(source), "--as-of", AS_OF, "--format", "jsonl"],
    ]

    def work() -> list[tuple[int, str]]:
        out = []
        for command in commands:
            status = main(command)
            out.append((status, capsys.readouterr().out))
        return out

    _same_in_every_context(work)


def test_threads_started_by_the_library_do_not_take_the_processes_default_context(
    tmp_path: Path,
) -> None:
    """A thread's context starts as a copy of ``decimal.DefaultContext``, which an
    application may change: the columnar batch decides on threads of its own."""
    pytest.importorskip("polars")
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in _case_dicts()), encoding="utf-8")
    parquet = tmp_path / "cases.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{k: v for k, v in c.items() if k != "events"} for c in _case_dicts()]
    for row in rows:
        row.setdefault("signals", [])
        for name in ("annual_rate", "penalty_rate", "fees", "guarantors"):
            row.pop(name, None)
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    launcher = (
        "import decimal, sys\n"
        "d = decimal.DefaultContext\n"
        "d.prec, d.rounding = 3, decimal.ROUND_DOWN\n"
        "d.traps[decimal.Inexact] = True\n"
        "decimal.setcontext(decimal.Context())\n"
        "from collectrules.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    outputs = {}
    for name, prefix in (("plain", []), ("hostile", [sys.executable, "-c", launcher])):
        out = tmp_path / f"{name}.parquet"
        command = prefix or [sys.executable, "-m", "collectrules"]
        args = ["batch", str(parquet), "--out", str(out), "--as-of", AS_OF]
        args += ["--policy", "cn_bank_loan", "--engine", "columnar"]
        done = subprocess.run(
            [*command, *args], capture_output=True, text=True, env=os.environ, check=False
        )
        assert done.returncode == 0, done.stderr
        outputs[name] = out.read_bytes()
    assert outputs["hostile"] == outputs["plain"]


def test_no_generator_is_run_in_the_librarys_context() -> None:
    """``exact`` restores the caller's context when the call returns: a generator's body
    runs after that, in whatever context its reader has."""
    import importlib
    import inspect
    import pkgutil

    import collectrules

    wrapped: dict[int, Any] = {}
    for info in pkgutil.walk_packages(collectrules.__path__, "collectrules."):
        if info.name.endswith("__main__"):  # runs the command line when imported
            continue
        if info.name.startswith(("collectrules.spark", "collectrules.frame")):
            pytest.importorskip("polars")
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra's module (pyspark)
            continue
        for owner in [module, *(v for v in vars(module).values() if inspect.isclass(v))]:
            for value in vars(owner).values():
                func = value.fget if isinstance(value, property) else value
                code = getattr(func, "__code__", None)
                if code is not None and code.co_qualname == "exact.<locals>.in_context":
                    wrapped[id(func)] = func.__wrapped__
    assert len(wrapped) >= 40
    running = [f.__qualname__ for f in wrapped.values() if inspect.isgeneratorfunction(f)]
    assert not running


def test_a_thunk_runs_in_the_librarys_context_and_gives_the_callers_back() -> None:
    """``exact_thunk`` (the engine's per-decision closures: a decision's lazy parts, its
    outline) computes in the library's context, whatever the caller's, and restores the
    caller's on return and on error."""
    from collectrules._decimal import exact_thunk

    third = exact_thunk(lambda: Decimal(1) / Decimal(3))
    with decimal.localcontext(decimal.Context(prec=3, traps=[decimal.Inexact])) as caller:
        assert third() == Decimal("0.3333333333333333333333333333")
        assert decimal.getcontext() is caller
        assert not caller.flags[decimal.Inexact]

        def failing() -> Decimal:
            raise LookupError("from the thunk")

        with pytest.raises(LookupError):
            exact_thunk(failing)()
        assert decimal.getcontext() is caller


class _Precision(BaseSection):
    """A section that records the decimal precision its ``contribute`` runs in."""

    key = "precision"

    def __init__(self, own: bool) -> None:
        self.own_decimal_context = own
        self.seen: list[int] = []

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        return raw, {}

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: Any, policy: Any
    ) -> Contribution:
        self.seen.append(decimal.getcontext().prec)
        return NO_CONTRIBUTION


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_sections_contribution_runs_in_the_librarys_context_unless_it_enters_its_own(
    backend: str,
) -> None:
    text = (ROOT / "src" / "collectrules" / "policies" / "default.toml").read_text("utf-8")
    case = Case.from_dict(TERMS)
    for own, expected in ((False, 28), (True, 3)):
        section = _Precision(own)
        policy = policy_from_dict(tomllib.loads(text), sections=(*installed_sections(), section))
        engine = Engine(policy, backend=backend)
        plain = Case.from_dict({k: v for k, v in TERMS.items() if k != "events"} | {"fees": []})
        with decimal.localcontext(decimal.Context(prec=3)):
            engine.decide(case, as_of=AS_OF)
            engine.decide(plain, as_of=AS_OF)
            assert decimal.getcontext().prec == 3
        assert section.seen == [expected, expected], own


def test_the_money_section_enters_the_librarys_context_itself() -> None:
    # What lets the engine call it as it is: its amounts in a caller's context of 3
    # digits are those of the default context (test_decisions_and_timelines_... above
    # compares whole decisions).
    policy = load_policy("default")
    (money,) = [p for p in policy.plugins if p.key == "money"]
    assert money.own_decimal_context is True
    case = Case.from_dict(TERMS)
    with decimal.localcontext(decimal.Context()):
        expected = Engine(policy, backend="python").decide(case, as_of=AS_OF).amounts
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        got = Engine(policy, backend="python").decide(case, as_of=AS_OF).amounts
    assert got == expected
    assert expected["total_due"] == "35729.88"  # 7 digits: 3 would round them
