"""Money figures agree with each other: a KPI's parts count the same cases."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from collectrules import Case, Engine, load_policy
from collectrules.model.case import currency_exponent
from collectrules.money import Method, PlanTerms, build_schedule, propose_plan
from collectrules.money.kpis import PortfolioCase, compute_kpis
from collectrules.money.terms import MoneyFigure, Target

OPEN = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
CLOSE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CASES = Path(__file__).parent.parent / "examples" / "cases"
AS_OF = "2026-05-01T09:00:00+08:00"


def _case(case_id: str, at: dt.datetime, currency: str, overdue: str) -> PortfolioCase:
    amount = Decimal(overdue)
    return PortfolioCase(case_id, at, "Q2", currency, amount, amount, 10, {}, {})


def test_a_target_is_taken_over_the_cases_recovery_counts() -> None:
    # B's currency differs between its decisions: recovery leaves it out, with a note,
    # and so must the target's basis, or the target asks for B's amount while the actual
    # can never hold it (a gap of 2,000.00 on a recovery rate of 100 %).
    opening = {"A": _case("A", OPEN, "CNY", "1000.00"), "B": _case("B", OPEN, "CNY", "5000.00")}
    closing = {"A": _case("A", CLOSE, "CNY", "0.00"), "B": _case("B", CLOSE, "JPY", "10")}
    for basis in ("overdue_amount", "principal"):
        target = Target("t", basis, MoneyFigure(Decimal("0.5")))
        k = compute_kpis(closing, previous=opening, targets=[target]).total
        assert k.recovery_rate_amount is not None
        rate = k.recovery_rate_amount["CNY"]
        assert (rate.numerator, rate.denominator) == (Decimal("1000.00"), Decimal("1000.00"))
        assert any("currency differs" in n for n in k.notes)
        [result] = k.targets
        assert (result.currency, result.target_amount, result.actual, result.gap) == (
            "CNY",
            Decimal("500.00"),
            Decimal("1000.00"),
            Decimal("-500.00"),
        )


# --------------------------------------------------------------------------- plans


@pytest.mark.parametrize(
    ("currency", "spelt", "written"),
    [
        ("CNY", "1E+5", "100000.00"),
        ("CNY", "100000", "100000.00"),
        ("JPY", "1000.0", "1000"),
        ("JPY", "1E+3", "1000"),
        ("KWD", "10.5", "10.500"),
    ],
)
def test_a_schedule_writes_every_amount_with_the_currency_s_minor_unit(
    currency: str, spelt: str, written: str
) -> None:
    exponent = currency_exponent(currency)
    for method, custom in (
        (Method.ANNUITY, ()),
        (Method.EQUAL_PRINCIPAL, ()),
        (Method.INTEREST_ONLY, ()),
        (Method.CUSTOM, (Decimal(spelt),)),
    ):
        months = 1 if custom else 3
        rows = build_schedule(
            Decimal(spelt), Decimal("0.06"), months, currency=currency,
            start=dt.date(2026, 1, 31), method=method, custom_principal=custom,
        )  # fmt: skip
        assert sum(r.principal for r in rows) == Decimal(written)
        for row in rows:
            for amount in (row.payment, row.principal, row.interest, row.balance):
                assert amount.as_tuple().exponent == -exponent, (method, row)


def test_a_plan_writes_its_principal_with_the_currency_s_minor_unit() -> None:
    engine = Engine(load_policy("cn_bank_loan"), backend="python")
    data = json.loads((CASES / "q2_health_short.json").read_text(encoding="utf-8"))
    case = Case.from_dict(data)
    decision = engine.decide(case, as_of=AS_OF)
    drafts = set()
    for spelt in ("1E+5", "100000", "100000.0", "100000.00"):
        plan = propose_plan(
            case, decision, kind="extend", as_of=AS_OF,
            terms=PlanTerms(months=3, annual_rate="0.06", principal=spelt),
        )  # fmt: skip
        assert plan.to_dict()["principal"] == "100000.00"
        drafts.add((plan.to_markdown(), plan.to_csv(), json.dumps(plan.to_dict())))
    assert len(drafts) == 1  # the same plan, byte for byte, however the principal is spelt
