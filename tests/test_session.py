"""Stateful case sessions: facts arrive and leave over time, and the decision follows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pendulum
import pytest

from collectrules import CaseSession, Engine, Event, InputError, Quadrant, Remedy, Signal
from helpers import make_case


def at(text: str) -> pendulum.DateTime:
    value = pendulum.parse(text)
    assert isinstance(value, pendulum.DateTime)
    return value


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_decision_follows_asserted_and_retracted_facts(backend: str) -> None:
    engine = Engine(backend=backend)  # type: ignore[arg-type]
    session = engine.session(make_case())
    assert isinstance(session, CaseSession)

    first = session.decide(as_of="2026-04-03T12:00:00+08:00")
    assert first.previous is None
    assert first.decision.quadrant is Quadrant.Q1
    assert Remedy.REMIND in first.gained
    # nothing yet establishes willingness: Q1 while finding out, without a grace period
    assert Remedy.GRACE_PERIOD not in first.decision.allowed_remedies

    refusal = Signal(kind="refused_to_pay", observed_at=at("2026-04-05T09:00:00+08:00"))
    session.assert_signal(
        refusal,
        Signal(
            kind="cash_coverage", observed_at=at("2026-04-05T09:00:00+08:00"), value=Decimal("1.5")
        ),
    )
    second = session.decide(as_of="2026-04-06T12:00:00+08:00")
    assert second.quadrant_changed
    assert second.decision.quadrant is Quadrant.Q3
    assert Remedy.LITIGATE in second.gained
    # remind stays, as the plan's reminder steps call for it
    assert Remedy.REMIND not in second.lost
    assert Remedy.EXTEND in second.newly_blocked

    session.retract_signal(refusal)
    third = session.decide(as_of="2026-04-06T12:00:00+08:00")
    assert third.decision.quadrant is Quadrant.Q1
    assert Remedy.LITIGATE in third.lost

    unchanged = session.decide(as_of="2026-04-06T13:00:00+08:00")
    assert not unchanged.changed
    assert session.last is unchanged.decision


def test_events_change_the_decision_through_promises() -> None:
    """A broken promise (a promise_made event with no payment) becomes a signal."""
    session = Engine(backend="python").session(make_case())
    session.assert_event(
        Event(
            kind="promise_made",
            at=at("2026-04-02T10:00:00+08:00"),
            promised_date=pendulum.date(2026, 4, 5),
            amount=Decimal("5000"),
        )
    )
    later = session.decide(as_of="2026-05-20T12:00:00+08:00")
    assert later.decision.facts["promise_broken"] == 1
    assert later.decision.willingness.value == "unwilling"


def test_bad_facts_are_refused() -> None:
    session = Engine(backend="python").session(make_case())
    with pytest.raises(InputError, match="unknown signal kind 'gambling'"):
        session.assert_signal(Signal(kind="gambling", observed_at=at("2026-04-02T10:00:00+08:00")))
    with pytest.raises(InputError, match="no such signal in the case"):
        session.retract_signal(
            Signal(kind="uncooperative", observed_at=at("2026-04-02T10:00:00+08:00"))
        )
    with pytest.raises(InputError, match="naive"):
        session.decide(as_of="2026-04-03T12:00:00")


@pytest.mark.parametrize("engine", [5, None, "default", object()])
def test_a_session_refuses_an_engine_of_another_kind_when_made(engine: object) -> None:
    with pytest.raises(InputError, match="engine: expected an Engine"):
        CaseSession(engine, make_case())  # type: ignore[arg-type]


@pytest.mark.parametrize("case", [5, None, {"case_id": "C-1"}])
def test_a_session_refuses_a_case_of_another_kind_when_made(case: object) -> None:
    with pytest.raises(InputError, match="case: expected a Case"):
        CaseSession(Engine(backend="python"), case)  # type: ignore[arg-type]


def test_a_session_takes_any_engine_with_a_policy_and_decide() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.inner = Engine(backend="python")

        @property
        def policy(self) -> Any:
            return self.inner.policy

        def decide(self, case: Any, *, as_of: Any) -> Any:
            return self.inner.decide(case, as_of=as_of)

    session = CaseSession(Recorder(), make_case())
    assert session.decide(as_of="2026-04-03T12:00:00+08:00").previous is None
