"""A payment or a promise of less than one minor unit of the case's currency is none.

A payment of ``0.004`` CNY cured a refusal (Q3 became Q1, litigation no longer
granted) and restarted a limitation period that had ended; a promise of ``0`` was kept
at once and cured the refusal too. Each test here failed before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, Event, EventKind
from collectrules.model.case import is_promise, minor_unit, pays
from collectrules.testing.strategies import cases

AS_OF = "2026-06-20T12:00:00+08:00"
REFUSED = {"kind": "refused_to_pay", "observed_at": "2026-06-01T10:00:00+08:00"}


def _case(currency: str = "CNY", events: list[dict[str, Any]] | None = None, **extra: Any) -> Case:
    data: dict[str, Any] = {
        "case_id": "NOTHING",
        "product": "loan",
        "currency": currency,
        "principal": "20000",
        "overdue_amount": "1500",
        "due_date": "2026-05-20",
        "timezone": "Asia/Shanghai",
        "signals": [REFUSED],
        "events": events or [],
        **extra,
    }
    return Case.from_dict(data)


def _payment(amount: str, at: str = "2026-06-05T10:00:00+08:00") -> dict[str, Any]:
    return {"kind": "payment", "at": at, "amount": amount}


def _promise(amount: str) -> dict[str, Any]:
    return {
        "kind": "promise_made",
        "at": "2026-06-02T10:00:00+08:00",
        "amount": amount,
        "promised_date": "2026-06-10",
    }


@pytest.mark.parametrize(
    ("currency", "amount", "counts"),
    [
        ("CNY", "0", False),
        ("CNY", "0.004", False),
        ("CNY", "0.00000001", False),
        ("CNY", "0.01", True),
        ("JPY", "0.4", False),
        ("JPY", "1", True),
        ("KWD", "0.0009", False),
        ("KWD", "0.001", True),
    ],
)
@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_payment_cures_a_refusal_only_from_one_minor_unit(
    currency: str, amount: str, counts: bool, backend: str
) -> None:
    decision = Engine("default", backend=backend).decide(
        _case(currency, [_payment(amount)]), as_of=AS_OF
    )
    fired = [f.rule_id for f in decision.trace]
    assert ("W-PAYMENT" in fired) is counts
    assert decision.quadrant.value == ("Q1" if counts else "Q3")
    assert ("litigate" in {a.remedy for a in decision.allowed}) is not counts


@pytest.mark.parametrize(("amount", "kept"), [("0", False), ("0.004", False), ("0.01", True)])
def test_a_promise_of_less_than_one_minor_unit_is_no_promise(amount: str, kept: bool) -> None:
    case = _case("CNY", [_promise(amount), _payment(amount)])
    decision = Engine("default").decide(case, as_of=AS_OF)
    fired = [f.rule_id for f in decision.trace]
    assert ("W-PROMISE-KEPT" in fired) is kept
    assert decision.facts["promises_made"] == (1 if kept else 0)
    assert decision.quadrant.value == ("Q1" if kept else "Q3")


def test_a_promise_of_nothing_is_not_broken_either() -> None:
    # Unpaid past its promised day: a promise of one fen is broken, one of nothing is
    # no evidence either way.
    for amount, broken in (("0.004", False), ("0.01", True)):
        decision = Engine("default").decide(_case("CNY", [_promise(amount)]), as_of=AS_OF)
        assert decision.facts["promise_broken"] == (1 if broken else 0)


@pytest.mark.parametrize(("amount", "expired"), [("0.004", True), ("0", True), ("0.01", False)])
def test_a_payment_of_nothing_restarts_no_limitation_period(amount: str, expired: bool) -> None:
    # Due in 2021: the three-year period ended in 2024; a payment in 2023 restarts it.
    case = _case("CNY", [_payment(amount, "2023-06-01T10:00:00+08:00")], due_date="2021-01-01")
    decision = Engine("default").decide(case, as_of="2024-06-01T12:00:00+08:00")
    assert decision.facts["limitation_expired"] is expired


@pytest.mark.parametrize(("amount", "expired"), [("0.004", True), ("0", True), ("0.01", False)])
def test_a_promise_of_nothing_restarts_no_limitation_period(amount: str, expired: bool) -> None:
    # A promise to pay is the debtor agreeing to pay (CN-LIMITATION-INTERRUPT); a promise
    # of less than one minor unit is none.
    promise = {
        "kind": "promise_made",
        "at": "2023-06-01T10:00:00+08:00",
        "amount": amount,
        "promised_date": "2023-06-10",
    }
    case = _case("CNY", [promise], due_date="2021-01-01")
    decision = Engine("default").decide(case, as_of="2024-06-01T12:00:00+08:00")
    assert decision.facts["limitation_expired"] is expired


@pytest.mark.parametrize(("amount", "barred"), [("0.004", True), ("0", True), ("0.01", False)])
def test_the_time_bar_guardrail_and_the_decision_agree_on_a_payment_of_nothing(
    amount: str, barred: bool
) -> None:
    case = Case.from_dict(
        {
            "case_id": "US-BAR",
            "product": "credit_card",
            "currency": "USD",
            "principal": "5000",
            "overdue_amount": "900",
            "due_date": "2021-01-01",
            "timezone": "America/New_York",
            "events": [_payment(amount, "2023-06-01T10:00:00-04:00")],
        }
    )
    decision = Engine("us_regf").decide(case, as_of="2024-06-01T12:00:00-04:00")
    assert decision.facts["time_barred"] is barred
    assert ("litigate" in {b.remedy for b in decision.blocked}) is barred


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_unit(c) for c in ("CNY", "JPY", "KWD", "CLF")] == [
        Decimal("0.01"),
        Decimal("1"),
        Decimal("0.001"),
        Decimal("0.0001"),
    ]
    at = pendulum.datetime(2026, 6, 5, 10, tz="Asia/Shanghai")
    payment = Event(kind=EventKind.PAYMENT, at=at, amount=Decimal("0.01"))
    assert pays(payment, "CNY")
    assert not pays(payment, "JPY")
    assert not is_promise(payment, "CNY")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cases("default", as_of=AS_OF, with_events=True),
    fraction=st.decimals(min_value=0, max_value=Decimal("0.99"), places=2),
    hours=st.integers(min_value=1, max_value=24 * 400),
)
def test_a_payment_of_nothing_changes_no_decision(
    case: Case, fraction: Decimal, hours: int
) -> None:
    """Added to any case, a payment of less than one minor unit changes nothing the
    decision grants, blocks or classifies."""
    engine = Engine("default")
    amount = minor_unit(case.currency) * fraction
    before = engine.decide(case, as_of=AS_OF)
    at = before.as_of.subtract(hours=hours)
    payment = Event(kind=EventKind.PAYMENT, at=at, amount=amount)
    after = engine.decide(attrs.evolve(case, events=(*case.events, payment)), as_of=AS_OF)
    assert after.quadrant == before.quadrant
    assert [(a.remedy, a.rule_id) for a in after.allowed] == [
        (a.remedy, a.rule_id) for a in before.allowed
    ]
    assert [(b.remedy, b.rule_id) for b in after.blocked] == [
        (b.remedy, b.rule_id) for b in before.blocked
    ]
    assert [f.rule_id for f in after.trace] == [f.rule_id for f in before.trace]
