"""Repayment plans: golden schedules, month-end dates, refusals, outputs, properties."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectrules.money as money
from collectrules import BusinessCalendar, Case, Engine, InputError, load_policy
from collectrules.cli import main
from collectrules.model.case import currency_exponent
from collectrules.money import (
    Method,
    PlanRefusedError,
    PlanTerms,
    add_months,
    build_schedule,
    propose_plan,
)

CASES = Path(__file__).parent.parent / "examples" / "cases"
AS_OF = "2026-05-01T09:00:00+08:00"


def _case(name: str, **changes: object) -> Case:
    data = json.loads((CASES / name).read_text(encoding="utf-8"))
    data.update(changes)
    return Case.from_dict(data)


@pytest.fixture(scope="module")
def bank() -> Engine:
    return Engine(load_policy("cn_bank_loan"), backend="python")


# --------------------------------------------------------------------------- reference


def _cents(x: Fraction) -> int:
    """Round a fraction of a yuan to whole fen, half up (positive amounts)."""
    scaled = x * 100
    whole = scaled.numerator // scaled.denominator
    return whole + (1 if scaled - whole >= Fraction(1, 2) else 0)


def _floor_cents(x: Fraction) -> int:
    scaled = x * 100
    return scaled.numerator // scaled.denominator


def reference_annuity(principal: int, rate: Fraction, n: int) -> list[tuple[int, int, int]]:
    """(payment, principal, interest) in fen, computed with exact fractions."""
    r = rate / 12
    level = _cents(Fraction(principal) * r / (1 - (1 + r) ** -n))
    balance = principal * 100
    rows = []
    for k in range(1, n + 1):
        interest = _floor_cents(Fraction(balance, 100) * r)
        part = balance if k == n else level - interest
        balance -= part
        rows.append((part + interest, part, interest))
    return rows


def _fen(rows: tuple[money.Instalment, ...]) -> list[tuple[int, int, int]]:
    return [(int(i.payment * 100), int(i.principal * 100), int(i.interest * 100)) for i in rows]


def test_a_12_month_annuity_on_100000_at_6_percent_matches_the_reference() -> None:
    rows = build_schedule(
        Decimal("100000.00"), Decimal("0.06"), 12, currency="CNY", start=dt.date(2026, 1, 15)
    )
    assert _fen(rows) == reference_annuity(100000, Fraction(6, 100), 12)
    # The textbook level payment of 100,000 at 6 % over 12 months is 8,606.64.
    assert {i.payment for i in rows[:-1]} == {Decimal("8606.64")}
    assert rows[0].interest == Decimal("500.00")
    assert sum(i.principal for i in rows) == Decimal("100000.00")
    assert rows[-1].balance == 0


def test_an_equal_principal_plan_puts_the_residue_on_the_last_instalment() -> None:
    rows = build_schedule(
        Decimal("100000.00"),
        Decimal("0.06"),
        12,
        currency="CNY",
        start=dt.date(2026, 1, 15),
        method=Method.EQUAL_PRINCIPAL,
    )
    assert [i.principal for i in rows] == [Decimal("8333.33")] * 11 + [Decimal("8333.37")]
    balance = 10_000_000
    for i in rows:  # interest: the balance before the instalment x 0.5 %, rounded down
        assert int(i.interest * 100) == balance * 5 // 1000
        balance -= int(i.principal * 100)
    assert rows[0].payment == Decimal("8833.33")
    assert rows[-1].interest == Decimal("41.66")


def test_interest_only_pays_the_principal_at_the_end() -> None:
    rows = build_schedule(
        Decimal("1200"), Decimal("0.12"), 3, currency="JPY", start=dt.date(2026, 1, 1),
        method=Method.INTEREST_ONLY,
    )  # fmt: skip
    assert [(i.principal, i.interest) for i in rows] == [
        (Decimal(0), Decimal(12)),
        (Decimal(0), Decimal(12)),
        (Decimal(1200), Decimal(12)),
    ]


def test_a_custom_plan_must_sum_to_the_principal() -> None:
    rows = build_schedule(
        Decimal("300.00"), Decimal(0), 3, currency="CNY", start=dt.date(2026, 1, 1),
        method=Method.CUSTOM, custom_principal=[Decimal(50), Decimal(100), Decimal(150)],
    )  # fmt: skip
    assert [i.payment for i in rows] == [Decimal(50), Decimal(100), Decimal(150)]
    with pytest.raises(InputError, match=r"terms.custom_principal: the amounts sum to 299"):
        build_schedule(
            Decimal("300.00"), Decimal(0), 3, currency="CNY", start=dt.date(2026, 1, 1),
            method=Method.CUSTOM, custom_principal=[Decimal(50), Decimal(100), Decimal(149)],
        )  # fmt: skip


def test_due_dates_are_month_end_safe() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    rows = build_schedule(
        Decimal("400.00"), Decimal("0.05"), 4, currency="CNY", start=dt.date(2023, 12, 31)
    )
    assert [i.due_date for i in rows] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
    ]


def test_due_dates_move_to_the_next_working_day_on_the_policy_calendar() -> None:
    section = money.money_section(load_policy("cn_bank_loan"))
    assert section is not None
    rows = build_schedule(
        Decimal("200.00"), Decimal(0), 2, currency="CNY", start=dt.date(2026, 8, 1),
        calendar=section.calendar,
    )  # fmt: skip
    # 2026-10-01 is National Day: the instalment falls due after the Golden Week.
    assert rows[1].nominal_date == dt.date(2026, 10, 1)
    assert rows[1].due_date > dt.date(2026, 10, 7)
    assert section.calendar is not None
    assert section.calendar.is_working_day(rows[1].due_date)


def test_money_has_exact_decimals_per_currency() -> None:
    rows = build_schedule(
        Decimal("1000"), Decimal("0.1"), 3, currency="JPY", start=dt.date(2026, 1, 1)
    )
    assert all(i.payment == i.payment.to_integral_value() for i in rows)
    with pytest.raises(InputError, match="more decimals than JPY allows"):
        build_schedule(Decimal("10.5"), Decimal(0), 1, currency="JPY", start=dt.date(2026, 1, 1))


# --------------------------------------------------------------------------- propose


def test_an_allowed_extension_is_built_with_its_grant_and_checks(bank: Engine) -> None:
    case = _case("q2_health_short.json")
    decision = bank.decide(case, as_of=AS_OF)
    plan = propose_plan(
        case,
        decision,
        kind="extend",
        as_of=AS_OF,
        terms=PlanTerms(months=12, annual_rate="0.06", penalty_rate="0.078"),
        policy=bank.policy,
    )
    assert plan.principal == case.principal
    assert plan.grant.rule_id == "R-Q2-EXTEND"
    assert sum(i.principal for i in plan.instalments) == case.principal
    assert {c.rule for c in plan.checks} == {"Q2-SHORT", "CN-PRIVATE-RATE-CAP", "CN-PENALTY"}
    assert all(c.passed for c in plan.checks)
    # Without policy=, the shipped policy named by the decision is used.
    again = propose_plan(
        case, decision, kind="extend", as_of=AS_OF,
        terms=PlanTerms(months=12, annual_rate="0.06", penalty_rate="0.078"),
    )  # fmt: skip
    assert again == plan


def test_a_replan_finances_the_overdue_amount(bank: Engine) -> None:
    case = _case("q2_health_short.json")
    plan = propose_plan(
        case, bank.decide(case, as_of=AS_OF), kind="replan", as_of=AS_OF,
        terms=PlanTerms(months=6, annual_rate="0.05", method="equal_principal"),
    )  # fmt: skip
    assert plan.principal == Decimal("8500.00")
    assert plan.method is Method.EQUAL_PRINCIPAL


@pytest.mark.parametrize(
    ("kind", "field", "changes"),
    [
        ("replan", "overdue_amount", {"currency": "JPY", "overdue_amount": "8500.5"}),
        ("extend", "principal", {"currency": "JPY", "principal": "60000.5"}),
    ],
)
def test_a_case_amount_finer_than_its_currency_is_named_as_the_case_field(
    bank: Engine, kind: str, field: str, changes: dict[str, str]
) -> None:
    # The plan's principal defaults to the case's amount: the error names that field of
    # the case, not terms.principal, which the caller never gave.
    case = _case("q2_health_short.json", **changes)
    with pytest.raises(InputError) as info:
        propose_plan(
            case, bank.decide(case, as_of=AS_OF), kind=kind, as_of=AS_OF,
            terms=PlanTerms(months=6, annual_rate="0.05"),
        )  # fmt: skip
    [problem] = info.value.problems
    assert problem.path == field
    assert "more decimals than JPY allows" in problem.message
    assert "give terms.principal" in problem.message


@pytest.mark.parametrize(
    ("start", "refused"),
    [(dt.date(2000, 1, 1), True), (dt.date(2026, 4, 30), True), (dt.date(2026, 5, 1), False)],
)
def test_a_proposed_plan_starts_no_earlier_than_the_day_it_is_proposed(
    bank: Engine, start: dt.date, refused: bool
) -> None:
    # A start in 2000 made every instalment overdue at once, and its recovery horizon
    # check (Q2-SHORT) counted -292 months against 24 and passed.
    case = _case("q2_health_short.json")
    decision = bank.decide(case, as_of=AS_OF)
    terms = PlanTerms(months=24, annual_rate="0.06", start=start)
    if not refused:
        plan = propose_plan(case, decision, kind="extend", as_of=AS_OF, terms=terms)
        assert plan.start == start
        assert all(c.figure >= 0 for c in plan.checks)
        return
    with pytest.raises(InputError) as info:
        propose_plan(case, decision, kind="extend", as_of=AS_OF, terms=terms)
    [problem] = info.value.problems
    assert problem.path == "terms.start"
    assert f"{start.isoformat()} is before 2026-05-01" in problem.message


def test_a_blocked_remedy_is_refused_with_the_blocking_rule(bank: Engine) -> None:
    case = _case("q4_moving_assets.json")
    decision = bank.decide(case, as_of=AS_OF)
    block = decision.block("extend")
    assert block is not None
    with pytest.raises(PlanRefusedError) as info:
        propose_plan(
            case, decision, kind="extend", as_of=AS_OF,
            terms=PlanTerms(months=6, annual_rate="0.05"),
        )  # fmt: skip
    assert info.value.rule_id == block.rule_id
    assert block.rule_id in str(info.value)


def test_a_remedy_the_decision_does_not_allow_is_refused(bank: Engine) -> None:
    case = _case("q1_travelling.json")
    decision = bank.decide(case, as_of=AS_OF)
    assert decision.grant("restructure") is None
    assert decision.block("restructure") is None
    with pytest.raises(PlanRefusedError, match="does not allow restructure") as info:
        propose_plan(
            case, decision, kind="restructure", as_of=AS_OF,
            terms=PlanTerms(months=6, annual_rate="0.05", principal=1000),
        )  # fmt: skip
    assert info.value.rule_id is None


@pytest.mark.parametrize("later", ["2026-07-01T09:00:00+08:00", "2026-12-01T09:00:00+08:00"])
def test_a_plan_rests_on_the_decision_at_its_own_as_of(bank: Engine, later: str) -> None:
    # The extension is allowed on 1 May; by 1 December the signs are out of the window
    # and the case is presumed Q4, whose decision blocks it. A plan dated later cannot
    # rest on the decision of 1 May, whatever that later decision says.
    case = _case("q2_health_short.json")
    early = bank.decide(case, as_of=AS_OF)
    assert early.grant("extend") is not None
    assert bank.decide(case, as_of="2026-12-01T09:00:00+08:00").block("extend") is not None
    terms = PlanTerms(months=6, annual_rate="0.05")
    with pytest.raises(InputError, match=r"decision: the decision was made at 2026-05-01T09:00"):
        propose_plan(case, early, kind="extend", as_of=later, terms=terms)
    # The same instant at another offset is the same as_of.
    plan = propose_plan(case, early, kind="extend", as_of="2026-05-01T01:00:00+00:00", terms=terms)
    assert plan.grant == early.grant("extend")


@pytest.mark.parametrize(
    ("terms", "rule", "figure", "cap"),
    [
        (PlanTerms(months=25, annual_rate="0.05"), "Q2-SHORT", "25", "24"),
        (PlanTerms(months=12, annual_rate="0.121"), "CN-PRIVATE-RATE-CAP", "0.121", "0.12"),
        (
            PlanTerms(months=12, annual_rate="0.06", penalty_rate="0.0781"),
            "CN-PENALTY",
            "0.0781",
            "0.0780",
        ),
        (
            PlanTerms(months=12, annual_rate="0.1", penalty_rate="0.125"),
            "CN-PRIVATE-RATE-CAP",
            "0.125",
            "0.12",
        ),
    ],
)
def test_a_plan_over_a_cap_is_refused_with_the_rule_the_figure_and_the_cap(
    bank: Engine, terms: PlanTerms, rule: str, figure: str, cap: str
) -> None:
    case = _case("q2_health_short.json")
    with pytest.raises(PlanRefusedError) as info:
        propose_plan(case, bank.decide(case, as_of=AS_OF), kind="extend", as_of=AS_OF, terms=terms)
    assert (info.value.rule_id, info.value.figure, info.value.cap) == (
        rule,
        Decimal(figure),
        Decimal(cap),
    )
    assert rule in str(info.value)
    assert figure in str(info.value)


def test_a_card_hardship_plan_is_bounded_by_its_own_rule_not_the_loan_horizon() -> None:
    card = Engine(load_policy("cn_credit_card"), backend="python")
    case = _case("q2_health_short.json", product="credit_card")
    decision = card.decide(case, as_of=AS_OF)
    plan = propose_plan(
        case, decision, kind="replan", as_of=AS_OF,
        terms=PlanTerms(months=60, annual_rate="0.05", principal="8500.00"),
    )  # fmt: skip
    assert len(plan.instalments) == 60
    with pytest.raises(PlanRefusedError) as info:
        propose_plan(
            case, decision, kind="replan", as_of=AS_OF,
            terms=PlanTerms(months=61, annual_rate="0.05", principal="8500.00"),
        )  # fmt: skip
    assert (info.value.rule_id, info.value.figure, info.value.cap) == (
        "CN-CARD-HARDSHIP",
        Decimal(61),
        Decimal(60),
    )


def test_bad_input_is_an_input_error_naming_the_field(bank: Engine) -> None:
    case = _case("q2_health_short.json")
    decision = bank.decide(case, as_of=AS_OF)
    with pytest.raises(InputError, match="kind"):
        propose_plan(case, decision, kind="litigate", as_of=AS_OF, terms=PlanTerms(1, "0"))
    with pytest.raises(InputError, match=r"terms.principal: required for a restructuring"):
        propose_plan(case, decision, kind="restructure", as_of=AS_OF, terms=PlanTerms(1, "0"))
    with pytest.raises(InputError, match="policy"):
        propose_plan(
            case, decision, kind="extend", as_of=AS_OF, terms=PlanTerms(1, "0"),
            policy=load_policy("default"),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"months": 0, "annual_rate": "0.05"}, "terms.months"),
        ({"months": 601, "annual_rate": "0.05"}, "terms.months"),
        ({"months": 12, "annual_rate": "-0.01"}, "terms.annual_rate"),
        ({"months": 12, "annual_rate": "0.05", "principal": "0"}, "terms.principal"),
        ({"months": 12, "annual_rate": "0.05", "penalty_rate": "-1"}, "terms.penalty_rate"),
        ({"months": 2, "annual_rate": "0", "method": "custom"}, "terms.custom_principal"),
        ({"months": 1, "annual_rate": "0", "custom_principal": [1]}, "terms.custom_principal"),
        ({"months": 12, "annual_rate": "0.05", "principal": "1e30"}, "terms.principal"),
        ({"months": 12, "annual_rate": "0.05", "method": "nope"}, "terms.method"),
        ({"months": 12, "annual_rate": "0.05", "start": dt.date(9999, 6, 1)}, "terms.start"),
    ],
)
def test_invalid_terms_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        PlanTerms(**kwargs)  # type: ignore[arg-type]
    assert [p.path for p in info.value.problems] == [field]


# --------------------------------------------------------------------------- outputs


def test_the_outputs_carry_the_schedule_terms_breach_terms_and_signatures(bank: Engine) -> None:
    case = _case(
        "q2_health_short.json",
        guarantors=[{"id": "G1", "name": "<script>alert(1)</script> | Li"}],
    )
    plan = propose_plan(
        case, bank.decide(case, as_of=AS_OF), kind="extend", as_of=AS_OF,
        terms=PlanTerms(months=3, annual_rate="0.06", penalty_rate="0.07"),
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(plan.to_csv())))
    assert [r["payment"] for r in rows] == [str(i.payment) for i in plan.instalments]
    assert sum(Decimal(r["principal"]) for r in rows) == plan.principal
    data = plan.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["instalments"][0]["due_date"] == "2026-06-01"
    md = plan.to_markdown()
    for text in ("还款协议", "等额本息", "违约条款", "书面确认", "7 % a year", "Borrower / 借款人"):
        assert text in md
    assert "with added guarantees or security" in md  # the grant's conditions
    assert "<script>" not in md  # no markup leaks into Markdown
    assert "&lt;script&gt;" in md
    page = plan.to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | Li" in page
    assert page.startswith("<!DOCTYPE html>")
    assert "签字" in page


def test_the_public_names_are_sorted_and_exist() -> None:
    assert money.__all__ == sorted(
        money.__all__, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(money, n) for n in money.__all__)


# --------------------------------------------------------------------------- properties

_METHODS = st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY])
_RATES = st.decimals(min_value=0, max_value=Decimal("0.36"), places=4)
_STARTS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**11),
    rate=_RATES,
    months=st.integers(min_value=1, max_value=120),
    method=_METHODS,
    start=_STARTS,
    currency=st.sampled_from(["CNY", "JPY", "KWD"]),
)
def test_every_schedule_repays_the_principal_exactly_on_valid_dates(
    principal: int, rate: Decimal, months: int, method: Method, start: dt.date, currency: str
) -> None:
    amount = Decimal(principal).scaleb(-currency_exponent(currency))
    rows = build_schedule(amount, rate, months, currency=currency, start=start, method=method)
    assert len(rows) == months
    assert sum(i.principal for i in rows) == amount
    assert all(i.principal >= 0 and i.interest >= 0 for i in rows)
    assert rows[-1].balance == 0
    for k, i in enumerate(rows, start=1):
        months_from_start = start.month - 1 + k
        year, month = start.year + months_from_start // 12, months_from_start % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        assert i.due_date == dt.date(year, month, day)
    # The realised rate never exceeds the nominal rate: discounted at the nominal
    # monthly rate, the payments are worth at most the principal.
    r = Fraction(rate) / 12
    pv = sum(Fraction(i.payment) / (1 + r) ** i.number for i in rows)
    assert pv <= Fraction(amount)


@settings(max_examples=60, deadline=None)
@given(
    rate=_RATES,
    penalty=st.none() | _RATES,
    months=st.integers(min_value=1, max_value=36),
    method=_METHODS,
)
def test_an_accepted_plan_never_exceeds_the_caps(
    bank_engine: Engine, rate: Decimal, penalty: Decimal | None, months: int, method: Method
) -> None:
    case = _case("q2_health_short.json")
    decision = bank_engine.decide(case, as_of=AS_OF)
    terms = PlanTerms(months=months, annual_rate=rate, penalty_rate=penalty, method=method)
    refused: PlanRefusedError | None = None
    try:
        plan = propose_plan(case, decision, kind="extend", as_of=AS_OF, terms=terms)
    except PlanRefusedError as exc:
        refused = exc
    if refused is not None:  # refused only when a figure really is over its cap
        assert refused.figure is not None
        assert refused.cap is not None
        assert Decimal(refused.figure) > Decimal(refused.cap)
        return
    cap = Fraction(3, 100) * 4
    assert Fraction(plan.annual_rate) <= cap
    if penalty is not None:
        assert Fraction(penalty) <= cap
        assert Fraction(penalty) <= Fraction(rate) * Fraction(13, 10)
    r = Fraction(rate) / 12
    pv = sum(Fraction(i.payment) / (1 + r) ** i.number for i in plan.instalments)
    assert pv <= Fraction(plan.principal)


@pytest.fixture(scope="module")
def bank_engine() -> Engine:
    return Engine(load_policy("cn_bank_loan"), backend="python")


# --------------------------------------------------------------------------- command


def _plan_argv(*extra: str) -> list[str]:
    return [
        "plan",
        str(CASES / "q2_health_short.json"),
        "--policy",
        "cn_bank_loan",
        "--as-of",
        AS_OF,
        *extra,
    ]


def test_the_plan_command_prints_the_draft_and_writes_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_plan_argv("--kind", "extend", "--months", "12", "--rate", "0.06")) == 0
    assert "还款协议" in capsys.readouterr().out
    for fmt in ("html", "csv", "json"):
        out = tmp_path / f"plan.{fmt}"
        argv = _plan_argv("--kind", "replan", "--months", "3", "--rate", "0.06")
        assert main([*argv, "--format", fmt, "--out", str(out)]) == 0
        assert out.is_file()
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["principal"] == "8500.00"
    assert [r["principal"] for r in data["instalments"]] == ["2819.21", "2833.31", "2847.48"]
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8").count("\n") == 4


_ON = ("--kind", "extend", "--months", "6", "--rate", "0.06")

#: What ``plan`` was given, and the option its error names, with what the error says.
_PLAN_ERRORS = {
    "months out of range": (
        ("--kind", "extend", "--months", "0", "--rate", "0.06"),
        "--months",
        "expected 1 to 600 months, got 0",
    ),
    "a negative rate": (
        ("--kind", "extend", "--months", "6", "--rate", "-1"),
        "--rate",
        "expected an annual rate as a fraction from 0 (0.06 is 6 %), got -1",
    ),
    "a rate that is no number": (
        ("--kind", "extend", "--months", "6", "--rate", "six"),
        "--rate",
        "expected a number in plain decimal notation",
    ),
    "a principal past the yuan's fen": (
        (*_ON, "--principal", "100.001"),
        "--principal",
        "100.001 has more decimals than CNY allows: expected a multiple of 0.01",
    ),
    "a negative principal": ((*_ON, "--principal", "-5"), "--principal", "expected a positive"),
    "a penalty rate that is no number": (
        (*_ON, "--penalty-rate", "x"),
        "--penalty-rate",
        "expected a number in plain decimal notation",
    ),
    "a start before as-of": (
        (*_ON, "--start", "2026-04-01"),
        "--start",
        "2026-04-01 is before 2026-05-01, the date of --as-of in the case's zone",
    ),
    "a start as an ISO week date": (
        (*_ON, "--start", "2026-W23-1"),
        "--start",
        "expected a date as YYYY-MM-DD, got '2026-W23-1'",
    ),
    "a start in the basic form": (
        (*_ON, "--start", "20260601"),
        "--start",
        "expected a date as YYYY-MM-DD, got '20260601'",
    ),
    "a start as a basic week date": (
        (*_ON, "--start", "2026W231"),
        "--start",
        "expected a date as YYYY-MM-DD, got '2026W231'",
    ),
    "a start past the calendar": (
        (*_ON, "--start", "9990-01-01"),
        "--start",
        "date 9990-01-01 is outside the years",
    ),
    "custom amounts for another method": (
        (*_ON, "--custom", "1,2,3"),
        "--custom",
        "only for method 'custom'",
    ),
    "custom amounts of the wrong sum": (
        ("--kind", "extend", "--months", "3", "--rate", "0.06", "--method", "custom",
         "--custom", "1,2,3"),
        "--custom",
        "the amounts sum to 6, not 200000.00",
    ),
    "custom amounts that are no numbers": (
        ("--kind", "extend", "--months", "3", "--rate", "0.06", "--method", "custom",
         "--custom", "1,x,3"),
        "--custom",
        "expected a number in plain decimal notation",
    ),
    "a restructuring without a principal": (
        ("--kind", "restructure", "--months", "6", "--rate", "0.06"),
        "--principal",
        "required for a restructuring",
    ),
    "an unknown remedy": (
        ("--kind", "extnd", "--months", "6", "--rate", "0.06"),
        "--kind",
        "expected one of extend, replan, restructure, got 'extnd'",
    ),
    "a rate over the cap": (
        ("--kind", "extend", "--months", "6", "--rate", "0.9"),
        "--rate",
        "the plan's annual rate is 0.9, over the cap",
    ),
    "a penalty rate over the cap": (
        (*_ON, "--penalty-rate", "0.9"),
        "--penalty-rate",
        "the plan's penalty rate is 0.9, over the cap",
    ),
    "too many months": (
        ("--kind", "extend", "--months", "30", "--rate", "0.06"),
        "--months",
        "the plan's months to the last instalment is 30, over the cap 24 of rule Q2-SHORT",
    ),
}  # fmt: skip


@pytest.mark.parametrize("given", _PLAN_ERRORS.values(), ids=list(_PLAN_ERRORS))
def test_every_plan_error_names_the_option(
    given: tuple[tuple[str, ...], str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The errors of ``plan`` named the library's fields (``terms.principal``,
    ``terms.annual_rate``, ``kind``) or none, and spoke of ``as_of``: the option typed
    is named, with what was expected."""
    args, option, says = given
    assert main(_plan_argv(*args)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}: "), err
    assert says in err
    assert "terms." not in err
    assert "as_of" not in err


def test_a_blocked_remedy_names_the_kind_option(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", str(CASES / "q3_refuses.json"), "--policy", "cn_bank_loan", "--as-of", AS_OF]
    assert main([*argv, *_ON]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --kind: extend is blocked by rule R-UNWILLING-NO-EXTEND: ")


def test_a_principal_defaulting_to_a_bad_amount_names_the_case_file_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((CASES / "q2_health_short.json").read_text(encoding="utf-8"))
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**data, "overdue_amount": "8500.005"}), encoding="utf-8")
    argv = ["plan", str(path), "--policy", "cn_bank_loan", "--as-of", AS_OF]
    assert main([*argv, "--kind", "replan", "--months", "6", "--rate", "0.06"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: overdue_amount: 8500.005 has more decimals than CNY")
    assert err.rstrip().endswith("the plan's principal defaults to it; give --principal")


def test_the_plan_command_refuses_with_the_rule_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_plan_argv("--kind", "extend", "--months", "30", "--rate", "0.06")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Q2-SHORT" in err
    assert err.count("\n") == 1
    assert main(_plan_argv("--kind", "extend", "--months", "3", "--rate", "0.06",
                           "--start", "2026-13-01")) == 2  # fmt: skip
    assert "--start" in capsys.readouterr().err


_CN = BusinessCalendar(country="CN")


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2028, 12, 31)),
    months=st.integers(min_value=1, max_value=24),
)
def test_on_a_business_calendar_every_due_date_is_a_working_day_on_or_after_its_date(
    start: dt.date, months: int
) -> None:
    rows = build_schedule(
        Decimal("1000.00"), Decimal("0.05"), months, currency="CNY", start=start, calendar=_CN
    )
    for i in rows:
        assert i.nominal_date == add_months(start, i.number)
        assert i.due_date >= i.nominal_date
        assert _CN.is_working_day(i.due_date)
        assert (i.due_date - i.nominal_date).days <= 10  # the longest holiday run in CN


def test_a_plan_says_which_years_its_calendar_computed_by_rule(bank: Engine) -> None:
    section = money.money_section(bank.policy)
    assert section is not None
    assert section.calendar is not None
    known = section.calendar.known_years
    assert known is not None  # CN working days are decreed year by year
    case = _case("q2_health_short.json")
    decision = bank.decide(case, as_of=AS_OF)
    terms = PlanTerms(months=24, annual_rate="0.06", penalty_rate="0.078")
    plan = propose_plan(case, decision, kind="extend", as_of=AS_OF, terms=terms)
    years = sorted({i.nominal_date.year for i in plan.instalments} - known)
    assert years, "a two-year plan must reach past the published years"
    assert plan.warnings == tuple(
        f"calendar CN for {y} not published; computed by rule (instalment due dates)" for y in years
    )
    assert plan.to_dict()["warnings"] == list(plan.warnings)
    # Within the published years there is nothing to warn about.
    short = propose_plan(
        case, decision, kind="extend", as_of=AS_OF,
        terms=PlanTerms(months=1, annual_rate="0.06", penalty_rate="0.078"),
    )  # fmt: skip
    assert {i.nominal_date.year for i in short.instalments} <= known
    assert short.warnings == ()
    assert "Dates to confirm" not in short.to_markdown()
    for warning in plan.warnings:
        assert warning in plan.to_markdown()
        assert warning in plan.to_html()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"months": 0}, "terms.months"),  # was a DivisionByZero
        ({"months": 10**7}, "terms.months"),  # was unbounded time
        ({"principal": Decimal(-1000)}, "terms.principal"),  # was a schedule of debts
        ({"principal": Decimal("1e30")}, "terms.principal"),  # was an InvalidOperation
        ({"annual_rate": Decimal("Infinity")}, "terms.annual_rate"),  # InvalidOperation
        ({"currency": "ZZZ"}, "terms.currency"),  # was read as two decimals
        ({"start": dt.date(9999, 6, 1)}, "terms.start"),  # was a ValueError
        ({"method": "nope"}, "terms.method"),  # was a ValueError
        ({"method": Method.CUSTOM, "custom_principal": [Decimal(1)]}, "terms.custom_principal"),
    ],
    ids=repr,
)
def test_build_schedule_checks_its_arguments_as_plan_terms_does(
    changes: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "principal": Decimal(1000),
        "annual_rate": Decimal("0.05"),
        "months": 12,
        "currency": "CNY",
        "start": dt.date(2026, 1, 1),
        **changes,
    }
    with pytest.raises(InputError) as info:
        build_schedule(**arguments)  # type: ignore[arg-type]
    assert [p.path for p in info.value.problems] == [field]


@pytest.mark.parametrize("months", [10**9, -(10**6)])
def test_add_months_past_the_calendar_is_an_input_error(months: int) -> None:
    with pytest.raises(InputError, match="outside the calendar's years 1 to 9999"):
        add_months(dt.date(2026, 1, 31), months)
