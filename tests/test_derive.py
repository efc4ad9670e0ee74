"""Derived facts at an explicit as_of: days past due, signal counts and values."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from collectrules import Case, InputError, days_past_due
from collectrules.policy import Policy
from collectrules.policy.derive import derive
from helpers import case_dict, make_case


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-03-31T23:59:59+08:00", 0),  # the due date itself
        ("2026-04-01T00:00:00+08:00", 1),  # day 1 overdue is the day after
        ("2026-03-31T16:00:00+00:00", 1),  # 00:00 in Shanghai, given in UTC
        ("2026-03-31T15:59:59+00:00", 0),
        ("2026-04-30T12:00:00+08:00", 30),
    ],
)
def test_days_past_due_counts_in_the_case_zone(as_of: str, expected: int) -> None:
    assert days_past_due(make_case(), pendulum.parse(as_of)) == expected


def test_nothing_overdue_is_zero_days() -> None:
    case = make_case(overdue_amount="0")
    assert days_past_due(case, pendulum.parse("2026-06-01T00:00:00+08:00")) == 0


def test_naive_as_of_is_an_error(default_policy: Policy) -> None:
    with pytest.raises(InputError, match="as_of: naive datetime"):
        derive(make_case(), dt.datetime(2026, 4, 3, 12), default_policy)


def test_signals_after_as_of_do_not_count(default_policy: Policy) -> None:
    data = case_dict()
    data["signals"] = [
        {"kind": "promise_broken", "observed_at": "2026-04-02T10:00:00+08:00"},
        {"kind": "promise_broken", "observed_at": "2026-04-03T12:00:01+08:00"},
        {"kind": "cash_coverage", "observed_at": "2026-04-02T10:00:00+08:00", "value": 0.5},
        {"kind": "cash_coverage", "observed_at": "2026-04-04T10:00:00+08:00", "value": 3},
    ]
    facts = derive(
        Case.from_dict(data), pendulum.parse("2026-04-03T12:00:00+08:00"), default_policy
    ).facts
    assert facts["promise_broken"] == 1
    assert facts["cash_coverage"] == 0.5
    assert facts["has_cash_coverage"] is True
    assert "recovery_months" not in facts
    assert facts["has_recovery_months"] is False


def test_lookback_window_is_a_parameter(default_policy: Policy) -> None:
    window = default_policy.param("lookback_days")
    assert window == 180
    as_of = pendulum.parse("2026-12-01T00:00:00+08:00")
    inside = as_of.subtract(days=179).isoformat()
    outside = as_of.subtract(days=181).isoformat()
    data = case_dict()
    data["signals"] = [
        {"kind": "documents_provided", "observed_at": inside},
        {"kind": "documents_provided", "observed_at": outside},
        {"kind": "uncooperative", "observed_at": inside},
        {"kind": "uncooperative", "observed_at": outside},
    ]
    facts = derive(Case.from_dict(data), as_of, default_policy).facts
    assert facts["documents_provided"] == 1  # a good sign goes stale
    assert facts["uncooperative"] == 2  # an uncured negative sign does not


def test_latest_measured_value_wins(default_policy: Policy) -> None:
    data = case_dict()
    data["signals"] = [
        {"kind": "recovery_months", "observed_at": "2026-04-02T10:00:00+08:00", "value": 36},
        {"kind": "recovery_months", "observed_at": "2026-04-01T10:00:00+08:00", "value": 6},
    ]
    facts = derive(
        Case.from_dict(data), pendulum.parse("2026-04-03T00:00:00+08:00"), default_policy
    ).facts
    assert facts["recovery_months"] == 36


def test_unknown_kind_for_the_policy_lists_known(default_policy: Policy) -> None:
    case = Case.from_dict(case_dict(("gambling", None)), signal_kinds={"gambling"})
    with pytest.raises(InputError, match="unknown signal kind 'gambling' for policy 'default'"):
        derive(case, pendulum.parse("2026-04-03T00:00:00+08:00"), default_policy)


def test_window_edges_are_exact_to_the_microsecond(default_policy: Policy) -> None:
    data = case_dict()
    data["signals"] = [
        {"kind": "promise_broken", "observed_at": "2026-04-03T12:00:00.000001+08:00"},
        {"kind": "promise_broken", "observed_at": "2026-04-03T12:00:00+08:00"},
        {"kind": "raising_funds", "observed_at": "2025-10-05T12:00:00+08:00"},  # 180 days
        {"kind": "raising_funds", "observed_at": "2025-10-05T04:00:00.000001+00:00"},
    ]
    as_of = pendulum.parse("2026-04-03T12:00:00+08:00")
    facts = derive(Case.from_dict(data), as_of, default_policy).facts
    assert facts["promise_broken"] == 1  # at as_of counts; a microsecond after does not
    assert facts["raising_funds"] == 1  # exactly 180 days before is outside the window
