"""Integers with more digits than Python writes or reads as text (4,300 by default), and
rates too small to move a payment: each is a ``CollectRulesError`` naming its place, or
an answer, never Python's own ``ValueError`` or ``decimal.DivisionByZero``."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from collectrules import Decision
from collectrules.calendars import BusinessCalendar
from collectrules.errors import InputError, PolicyError
from collectrules.money import add_months, build_schedule
from collectrules.policy import load_policy

BIG = "1" + "0" * 5000

POLICIES = {
    "q.toml": f'schema_version = "1"\nid = "x"\nextends = "default"\n'
    f"[parameters]\ndpd_severe = {{ value = {BIG} }}\n",
    "q.yaml": 'schema_version: "1"\nid: x\nextends: default\n'
    f"parameters:\n  dpd_severe:\n    value: {BIG}\n",
    "q.json": '{"schema_version": "1", "id": "x", "extends": "default",\n'
    f' "parameters": {{"dpd_severe": {{"value": {BIG}}}}}}}',
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_policy_with_a_too_long_integer_names_its_line(name: str, tmp_path: Path) -> None:
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_text(POLICIES[name], encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    problem = info.value.problems[0]
    text = POLICIES[name]
    assert problem.line == text[: text.index(BIG)].count("\n") + 1
    assert "5,001 digits" in str(info.value)


def test_a_decision_with_a_too_long_integer_is_an_input_error() -> None:
    with pytest.raises(InputError, match="5,000 digits"):
        Decision.from_json('{"schema_version": ' + "1" * 5000 + "}")
    with pytest.raises(InputError, match=r"schema_version: expected '2', got <integer of"):
        Decision.from_dict({"schema_version": 10**5000})


def test_calendar_and_plan_counts_past_the_digit_limit_are_input_errors() -> None:
    calendar = BusinessCalendar("CN")
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with pytest.raises(InputError, match=r"count: expected at most .* got <integer of"):
        calendar.add_working_days(dt.date(2026, 1, 5), 10**5000)
    with pytest.raises(InputError, match="count: must not be negative, got <negative"):
        calendar.add_working_days(dt.date(2026, 1, 5), -(10**5000))
    with pytest.raises(InputError, match="count: expected at most"):
        calendar.add_business_days(at, 10**5000, "Asia/Shanghai")
    with pytest.raises(InputError, match="months: 2026-01-31 plus <integer of"):
        add_months(dt.date(2026, 1, 31), 10**5000)


def test_figure_writes_counts_with_separators_and_quotes_huge_ones() -> None:
    from collectrules.errors import figure

    assert figure(1_000_001) == "1,000,001"
    assert figure(-12) == "-12"
    assert figure(10**5000).startswith("<integer of about 5001 digits")


def test_a_rate_too_small_to_move_a_payment_splits_the_principal_equally() -> None:
    start = dt.date(2026, 5, 1)
    # 1E-12, the smallest rate a plan may hold (a case's rate): far too small to move a fen.
    tiny = build_schedule(Decimal("10000"), Decimal("1e-12"), 6, currency="CNY", start=start)
    none = build_schedule(Decimal("10000"), Decimal("0"), 6, currency="CNY", start=start)
    assert [(i.payment, i.principal, i.interest) for i in tiny] == [
        (i.payment, i.principal, i.interest) for i in none
    ]
    assert sum(i.principal for i in tiny) == Decimal("10000")


@pytest.mark.parametrize("limit", [640, 1000])
def test_a_lowered_digit_limit_is_an_input_error_at_the_number(limit: int) -> None:
    """An application may lower Python's limit (``sys.set_int_max_str_digits``): a
    number past the limit in force is an InputError naming its digits, not ValueError."""
    digits = limit + 60
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        with pytest.raises(InputError, match=f"{digits:,} digits"):
            Decision.from_json('{"schema_version": ' + "1" * digits + "}")
    finally:
        sys.set_int_max_str_digits(old)
