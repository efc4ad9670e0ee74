"""The fact model: construction, validation with every error reported, round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings

from collectrules import Case, Event, InputError, Signal
from collectrules.model.case import Product, to_minor_units
from helpers import SEEN, case_dict
from strategies import cases


def test_from_dict_builds_a_frozen_case() -> None:
    case = Case.from_dict(case_dict(("health_issue", None), ("recovery_months", 12)))
    assert case.product is Product.LOAN
    assert case.principal == Decimal("100000")
    assert case.due_date == dt.date(2026, 3, 31)
    assert case.signals[1].value == Decimal(12)
    assert case.signals[0].observed_at == pendulum.parse(SEEN)
    with pytest.raises(AttributeError):
        case.case_id = "x"  # type: ignore[misc]


def test_to_dict_round_trips_exactly() -> None:
    data = case_dict(("cash_coverage", 1.5), ("refused_to_pay", None))
    data["events"] = [
        {"kind": "promise_made", "at": SEEN, "promised_date": "2026-04-05", "amount": "300.50"},
        {"kind": "contact_attempt", "at": SEEN, "outcome": "no_answer", "channel": "phone"},
    ]
    data["guarantors"] = [{"id": "G1", "name": "Li Lei"}]
    data["maturity_date"] = "2027-03-31"
    case = Case.from_dict(data)
    again = case.to_dict()
    assert again == data
    assert Case.from_dict(again) == case


@settings(max_examples=60, deadline=None)
@given(cases())
def test_round_trip_property(case: Case) -> None:
    assert Case.from_dict(case.to_dict()) == case


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "naive datetime",
        {"signals": [{"kind": "health_issue", "observed_at": "2026-04-02T10:00:00"}]},
        "signals[0].observed_at: naive datetime; give an offset or a zone",
    ),
    (
        "bad date",
        {"due_date": "2026-02-30"},
        "due_date: expected a date as YYYY-MM-DD, got '2026-02-30'",
    ),
    ("negative amount", {"overdue_amount": "-1"}, "overdue_amount: must not be negative, got -1"),
    ("unknown field", {"principle": "1"}, "principle: unknown field (did you mean 'principal'?)"),
    ("unknown product", {"product": "Mortgage"}, "product: unknown value 'Mortgage'"),
    (
        "unknown signal",
        {"signals": [{"kind": "helth_issue", "observed_at": SEEN}]},
        "(did you mean 'health_issue'?)",
    ),
    (
        "unknown zone",
        {"timezone": "Asia/Shanghia"},
        "timezone: unknown IANA time zone 'Asia/Shanghia'",
    ),
    ("bad currency", {"currency": "yuan"}, "currency: expected an ISO 4217 code"),
    (
        "string for number",
        {"signals": [{"kind": "cash_coverage", "observed_at": SEEN, "value": "x"}]},
        "signals[0].value: expected a number in plain decimal notation (ASCII digits,"
        " optional sign, fraction and exponent), got 'x'",
    ),
    ("missing field", {"case_id": None}, "case_id: required field missing"),
    (
        "promise without date",
        {"events": [{"kind": "promise_made", "at": SEEN, "amount": "1"}]},
        "events[0].promised_date: required for a 'promise_made' event",
    ),
    (
        "unknown event",
        {"events": [{"kind": "phoned", "at": SEEN}]},
        "events[0].kind: unknown value 'phoned'",
    ),
    (
        "unknown outcome",
        {"events": [{"kind": "contact_attempt", "at": SEEN, "outcome": "busy"}]},
        "events[0].outcome: unknown value 'busy'",
    ),
]


@pytest.mark.parametrize(("label", "change", "expected"), INVALID, ids=[r[0] for r in INVALID])
def test_invalid_input_names_path_and_expectation(
    label: str, change: dict[str, Any], expected: str
) -> None:
    data = case_dict()
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    with pytest.raises(InputError) as info:
        Case.from_dict(data)
    assert expected in str(info.value)


def test_every_invalid_field_is_reported() -> None:
    data = case_dict(
        principal=-3,
        due_date="31/03/2026",
        zzz=1,
        signals=[
            {"kind": "health_issue", "observed_at": SEEN},
            {"kind": "health_issue", "observed_at": SEEN},
            {"kind": "health_issue", "observed_at": "2026-04-02 10:00"},
        ],
    )
    with pytest.raises(InputError) as info:
        Case.from_dict(data, source="cases.json")
    paths = info.value.paths
    assert set(paths) == {"principal", "due_date", "zzz", "signals[2].observed_at"}
    assert str(info.value).count("cases.json") == 4
    assert "signals[2].observed_at: naive datetime; give an offset or a zone" in str(info.value)


def test_unknown_signal_kind_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        Case.from_dict(case_dict(("late_again", None)))
    message = str(info.value)
    assert "unknown signal kind 'late_again'" in message
    assert "refused_to_pay" in message
    assert "cash_coverage" in message


def test_extra_signal_kinds_can_be_allowed() -> None:
    case = Case.from_dict(case_dict(("gambling", None)), signal_kinds={"gambling"})
    assert case.signals[0].kind == "gambling"


def test_direct_construction_validates() -> None:
    with pytest.raises(InputError, match="naive datetime"):
        Signal(kind="health_issue", observed_at=dt.datetime(2026, 4, 2, 10))
    with pytest.raises(InputError, match="must not be negative"):
        Event(kind="payment", at=pendulum.parse(SEEN), amount=Decimal(-5))
    with pytest.raises(InputError, match="required for a 'payment' event"):
        Event(kind="payment", at=pendulum.parse(SEEN))


def test_minor_units_follow_the_currency() -> None:
    assert to_minor_units(Decimal("12.345"), "CNY") == 1235
    assert to_minor_units(Decimal("12"), "JPY") == 12
    assert to_minor_units(Decimal("1.2345"), "KWD") == 1235
