"""Decisions of cases with events make sense as a whole (docs/coherence.md, docs/evidence.md).

An event's ``party`` names who it concerns when it is not the debtor (a guarantor, by its
``id``). The evidence model reads only what concerns the debtor: reaching a guarantor
does not reach the debtor (L-UNREACHABLE), and the contact guardrails count the
debtor's own communications (US-REGF-VALIDATION). The stage plan acts on the debtor too:
an event that concerns another party neither starts nor completes one of its steps, but
for the step that is itself about the other contacts (anchored on ``unreachable``).
These properties check that the decision, the timeline and the guardrails read the
same events the same way, on every shipped policy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine
from collectrules.compliance.guardrails import Guardrails
from collectrules.timeline.evaluate import build_timeline
from collectrules.timeline.stages import AnchorKind
from helpers import shared_engine

SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
CURRENCY = {"us_regf": "USD", "uk": "GBP", "ifrs9": "EUR"}
ZONE = {"us_regf": "America/New_York", "uk": "Europe/London", "ifrs9": "Europe/Berlin"}
#: Events that concern a party: what a guarantor's copy of them must not stand in for.
PARTY_KINDS = (
    "contact_attempt",
    "visit",
    "demand_letter_signed",
    "notice_sent",
    "demand_delivered",
    "validation_notice_sent",
    "debtor_acknowledged",
    "promise_made",
)
OUTCOMES = ("reached", "no_answer", "refused", "invalid_number", "unreachable")

engine = shared_engine


def _event(kind: str, at: pendulum.DateTime, draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"kind": kind, "at": at.isoformat()}
    if kind == "contact_attempt":
        event["outcome"] = draw(st.sampled_from(OUTCOMES))
    if kind == "promise_made":
        event["promised_date"] = (
            at.date() + dt.timedelta(days=draw(st.integers(0, 5)))
        ).isoformat()
        event["amount"] = "8500.00"
    return event


@st.composite
def with_guarantor_events(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[dict[str, Any]], Any]:
    """A policy, a case of it with the debtor's own events, events that concern its
    guarantor, and an instant: the guarantor's events at the same instants as some of
    the debtor's, or at as_of itself."""
    name = draw(st.sampled_from(SHIPPED))
    policy = engine(name).policy
    zone = ZONE.get(name, "Asia/Shanghai")
    due = dt.date(2026, 1, 5) + dt.timedelta(days=draw(st.integers(0, 60)))
    midnight = pendulum.datetime(due.year, due.month, due.day, tz=zone)

    def instant() -> pendulum.DateTime:
        return midnight.add(days=draw(st.integers(0, 40)), hours=draw(st.integers(8, 20)))

    own = [
        _event(draw(st.sampled_from(PARTY_KINDS)), instant(), draw)
        for _ in range(draw(st.integers(0, 4)))
    ]
    as_of = midnight.add(days=draw(st.integers(1, 60)), hours=draw(st.integers(0, 23)))
    theirs = [
        {
            **_event(
                draw(st.sampled_from(PARTY_KINDS)), draw(st.sampled_from([instant(), as_of])), draw
            ),
            "party": "G1",
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    data = {
        "case_id": "PARTY",
        "product": draw(st.sampled_from([str(p) for p in policy.products])),
        "currency": CURRENCY.get(name, "CNY"),
        "principal": "200000.00",
        "overdue_amount": "8500.00",
        "due_date": due.isoformat(),
        "timezone": zone,
        "guarantors": [{"id": "G1"}],
        "events": own,
    }
    return name, data, theirs, as_of


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=with_guarantor_events())
def test_property_a_guarantors_events_are_not_the_debtors(
    drawn: tuple[str, dict[str, Any], list[dict[str, Any]], Any],
) -> None:
    # Whether the debtor was contacted, and where each step of the debtor's plan stands,
    # do not change when the guarantor is reached, visited or sent a notice.
    name, data, theirs, as_of = drawn
    policy = engine(name).policy
    alone = Case.from_dict(data)
    both = Case.from_dict({**data, "events": [*data["events"], *theirs]})
    before, after = (engine(name).decide(c, as_of=as_of) for c in (alone, both))
    assert after.facts["debtor_contacted"] == before.facts["debtor_contacted"], theirs
    # Nor are the guarantor's promises the debtor's: kept, broken, standing or counted.
    for fact in ("promises_made", "promise_standing", "promise_kept", "promise_broken"):
        assert after.facts.get(fact) == before.facts.get(fact), (fact, theirs)
    steps = {
        s.id: s.status
        for s in build_timeline(alone, as_of=as_of, policy=policy).steps
        if s.stage.anchor.kind is not AnchorKind.UNREACHABLE
    }
    for step in build_timeline(both, as_of=as_of, policy=policy).steps:
        if step.id in steps:
            assert step.status == steps[step.id], (step.id, theirs)
            fact = "step_" + step.id.lower().replace("-", "_")
            if fact in after.facts:
                assert after.facts[fact] == step.status.value, (fact, theirs)


def _loan(events: list[dict[str, Any]]) -> Case:
    return Case.from_dict(
        {
            "case_id": "G-REACHED",
            "product": "loan",
            "currency": "CNY",
            "principal": "200000.00",
            "overdue_amount": "8500.00",
            "due_date": "2026-03-01",
            "timezone": "Asia/Shanghai",
            "guarantors": [{"id": "G1"}],
            "events": events,
        }
    )


def _attempt(day: int, outcome: str, party: str | None = None) -> dict[str, Any]:
    event = {
        "kind": "contact_attempt",
        "at": f"2026-03-{day:02d}T10:00:00+08:00",
        "outcome": outcome,
    }
    return {**event, "party": party} if party else event


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_reaching_the_guarantor_of_an_unreachable_debtor_is_not_contact(backend: str) -> None:
    # Three unanswered calls make the debtor unreachable; the guarantor then answers.
    # The decision must not hold the debtor unreachable and in contact at once: past
    # the escalation point, still silent, willingness is presumed impaired (P3), and
    # the first contact with the customer (L-24H) is not done, while the step of
    # reaching the other contacts (L-UNREACHABLE) is.
    as_of = "2026-04-03T12:00:00+08:00"
    events = [_attempt(2, "no_answer"), _attempt(3, "no_answer"), _attempt(4, "no_answer")]
    reached = _loan([*events, _attempt(5, "reached", "G1")])
    d = engine("default", backend).decide(reached, as_of=as_of)
    assert d.facts["unreachable"] == 1
    assert d.facts["debtor_contacted"] is False
    assert d.levels["presumption"].value == "silent_past_escalation"
    timeline = build_timeline(reached, as_of=as_of, policy=engine().policy)
    assert timeline.step("L-24H").status.value == "breached"
    assert d.facts["step_l_24h"] == "breached"
    assert timeline.step("L-UNREACHABLE").status.value == "done"


#: What the validation property draws: calls (of any outcome), the letters that are a
#: communication with the consumer, the validation notice, and an event that is none.
VALIDATION_KINDS = (
    "contact_attempt",
    "contact_attempt",
    "validation_notice_sent",
    "validation_notice_sent",
    "notice_sent",
    "demand_delivered",
    "lawyer_letter_sent",
    "demand_letter_signed",
    "report_filed",
)


def _us(events: list[dict[str, Any]]) -> Case:
    return Case.from_dict(
        {
            "case_id": "US-PARTY",
            "product": "loan",
            "currency": "USD",
            "principal": "20000.00",
            "overdue_amount": "850.00",
            "due_date": "2026-03-02",
            "timezone": "America/New_York",
            "guarantors": [{"id": "G1"}],
            "events": events,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_the_validation_step_and_its_guardrail_agree(data: st.DataObject) -> None:
    # US-REGF-VALIDATION: the notice is due after the first communication with the
    # consumer (a call that reached them, or a notice or letter), and met by a notice to
    # the consumer, in that first communication or after it. The timeline's step and
    # the guardrail's obligation read the same history the same way: a letter that is
    # the first communication, and a notice sent with it or before it (the notice is
    # then itself the first communication), included.
    start = pendulum.datetime(2026, 3, 3, 9, tz="America/New_York")
    events = []
    for _ in range(data.draw(st.integers(1, 4))):
        at = start.add(days=data.draw(st.integers(0, 20)), hours=data.draw(st.integers(0, 10)))
        kind = data.draw(st.sampled_from(VALIDATION_KINDS))
        event: dict[str, Any] = {"kind": kind, "at": at.isoformat()}
        if kind == "contact_attempt":
            event["outcome"] = data.draw(st.sampled_from(["reached", "refused", "no_answer"]))
        party = data.draw(st.sampled_from([None, "debtor", "G1"]))
        events.append({**event, "party": party} if party else event)
    case = _us(events)
    as_of = start.add(days=data.draw(st.integers(0, 30)), hours=data.draw(st.integers(0, 12)))
    step = build_timeline(case, as_of=as_of, policy=engine("us_regf").policy).step("US-VALIDATION")
    (duty,) = (
        r
        for r in Guardrails("us_regf").obligations(case, as_of=as_of)
        if r.rule_id == "REGF-VALIDATION"
    )
    if "was sent" in duty.message:
        assert step.status.value == "done", (duty.message, events)
    elif duty.message.startswith("no communication with the debtor yet"):
        assert step.status.value == "upcoming", (duty.message, events)
    else:
        assert step.status.value in ("open", "late", "breached"), (duty.message, events)
        assert step.deadline is not None
        assert duty.due is not None
        assert step.deadline == duty.due, (duty.message, events)


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_guarantors_broken_promise_is_not_the_debtors(backend: str) -> None:
    # W-SIGN reads the debtor's own promises: a guarantor's promise that was not kept
    # neither makes the debtor unwilling nor counts as contact with the debtor.
    base = {
        "case_id": "G-PROMISE",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-01-05",
        "timezone": "Asia/Shanghai",
        "guarantors": [{"id": "G1"}],
    }
    promise = {
        "kind": "promise_made",
        "at": "2026-01-06T08:00:00+08:00",
        "promised_date": "2026-01-08",
        "amount": "5000",
    }
    engine = Engine(backend=backend)
    own = engine.decide(
        Case.from_dict({**base, "events": [promise]}), as_of="2026-01-20T00:00:00+08:00"
    )
    theirs = engine.decide(
        Case.from_dict({**base, "events": [{**promise, "party": "G1"}]}),
        as_of="2026-01-20T00:00:00+08:00",
    )
    assert own.facts["promise_broken"] == 1
    assert "W-PROMISE-BROKEN" in [t.rule_id for t in own.trace]
    assert theirs.facts["promise_broken"] == 0
    assert theirs.facts["promises_made"] == 0
    assert theirs.facts["debtor_contacted"] is False
    assert "W-PROMISE-BROKEN" not in [t.rule_id for t in theirs.trace]
