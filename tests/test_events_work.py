"""Deriving a case with events leaves out the work that cannot change its facts.

Each shortcut is held here to what it replaces:

* a step that does not apply (its condition fails, nothing is owed, or the debtor can
  be reached for a step anchored on ``unreachable``) and that none of the case's events
  can complete is skipped without working out its anchor or its times: no search for
  the first instant the debtor was unreachable;
* the legal deadlines match an event against a tuple of matchers with two set look-ups
  (``_matching``, remembered by the tuple's identity, bounded), never asking each
  matcher in turn, and answer as the matchers do;
* the open emergencies are worked out once per derivation: the emergency facts and the
  steps' holds read the same;
* two times of one zone object at one UTC offset are compared by their wall clocks
  (``same_clock``), as instants; ``as_of`` is compared with the steps' times at the
  standard library's fixed offset (``stdlib_fixed``), as the same instant.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Case, Event, Policy, load_policy
from collectrules.model.case import EVENT_REQUIRED_FIELDS, ContactOutcome, EventKind, fixed_offset
from collectrules.model.time import stdlib_fixed
from collectrules.policy.derive import derive
from collectrules.timeline import emergencies, evaluate
from collectrules.timeline._case import instant, later, same_clock
from collectrules.timeline.deadlines import (
    _MATCHINGS_SIZE,
    _matching,
    deadline_facts,
    deadline_kinds,
    deadline_reads,
)
from collectrules.timeline.evaluate import build_timeline, timeline_section
from collectrules.timeline.promises import Promise, PromiseStatus, pause_spans
from collectrules.timeline.stages import EventMatcher
from timeline_helpers import stage, with_plan

AS_OF = pendulum.datetime(2026, 3, 20, 15, 0, tz="Asia/Shanghai")
DUE = dt.date(2026, 2, 1)
#: Zones whose clocks change (Havana at midnight), and one whose clocks do not.
ZONES = ("America/New_York", "America/Havana", "Europe/London", "Asia/Shanghai")


@cache
def _policy(name: str) -> Policy:
    return load_policy(name)


def _at(days: int, hours: int = 10) -> pendulum.DateTime:
    """An instant ``days`` after the due date, at a fixed offset (as read from JSON)."""
    local = pendulum.datetime(DUE.year, DUE.month, DUE.day, tz="Asia/Shanghai")
    return fixed_offset(local.add(days=days, hours=hours))


def _loan(*events: Event) -> Case:
    return Case(
        case_id="W-1",
        product="loan",
        currency="CNY",
        principal=Decimal(100000),
        overdue_amount=Decimal(5000),
        due_date=DUE,
        timezone="Asia/Shanghai",
        events=events,
    )


def _statuses(case: Case, policy: Policy) -> dict[str, str]:
    timeline = build_timeline(case, as_of=AS_OF, policy=policy)
    return {s.stage.id: s.status.value for s in timeline.steps}


# --------------------------------------------------------------- steps that do not apply


def test_a_step_that_does_not_apply_and_nothing_completes_reads_no_anchor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """L-UNREACHABLE is anchored on the first instant the debtor was unreachable; with
    the debtor reachable it does not apply, and with no reached contact attempt nothing
    can complete it: skipped, without looking for that instant."""
    policy = _policy("default")
    case = _loan(
        Event(EventKind.CONTACT_ATTEMPT, _at(3), outcome=ContactOutcome.NO_ANSWER),
        Event(EventKind.PAYMENT, _at(5), amount=Decimal(100)),
        Event(EventKind.VISIT, _at(6)),
    )
    expected = _statuses(case, policy)
    assert expected["L-UNREACHABLE"] == "skipped"

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the anchor of a step that cannot be completed was looked for")

    monkeypatch.setattr(evaluate, "first_unreachable", refuse)
    monkeypatch.setattr(evaluate, "unreachable_signs", refuse)
    monkeypatch.setattr(evaluate, "_plain_times", refuse_unreachable_times(evaluate._plain_times))
    facts = derive(case, AS_OF, policy).facts
    assert facts["step_l_unreachable"] == "skipped"
    assert facts["step_l_3d"] == expected["L-3D"]


def refuse_unreachable_times(times: Any) -> Any:
    """``_plain_times`` that refuses to work out the times of L-UNREACHABLE."""

    def checked(stage: Any, *args: Any) -> Any:
        if stage.id == "L-UNREACHABLE":
            raise AssertionError("the times of a step that cannot be completed were worked out")
        return times(stage, *args)

    return checked


@pytest.mark.parametrize("reached_days", [-20, 2, 40])
def test_a_step_that_does_not_apply_is_still_done_by_an_event(reached_days: int) -> None:
    """With a reached contact attempt (before the anchor, after it, or before the due
    date) the anchor decides whether the step that does not apply is done or skipped:
    as the timeline says."""
    policy = _policy("default")
    case = _loan(
        Event(EventKind.CONTACT_ATTEMPT, _at(1), outcome=ContactOutcome.NO_ANSWER),
        Event(EventKind.CONTACT_ATTEMPT, _at(2), outcome=ContactOutcome.NO_ANSWER),
        Event(EventKind.CONTACT_ATTEMPT, _at(3), outcome=ContactOutcome.INVALID_NUMBER),
        Event(EventKind.CONTACT_ATTEMPT, _at(reached_days), outcome=ContactOutcome.REACHED),
    )
    facts = derive(case, AS_OF, policy).facts
    expected = _statuses(case, policy)
    assert facts["step_l_unreachable"] == expected["L-UNREACHABLE"]
    assert facts["step_l_24h"] == expected["L-24H"]


@pytest.mark.parametrize(
    ("keys", "quiet"),
    [
        ({}, True),
        ({"after": "2 days", "limit": "1 month"}, True),
        ({"within": "48 hours"}, True),
        ({"escalation": True}, False),
        ({"within": "2 business_days"}, False),
        ({"after": "1 business_days", "within": "5 days"}, False),
        ({"limit": "3 business_days"}, False),
    ],
)
def test_a_skipped_step_is_judged_from_its_times_when_they_can_matter(
    keys: dict[str, Any], quiet: bool
) -> None:
    """A stage that is an escalation point, or any of whose offsets counts business
    days, is never judged without its times when it does not apply (they decide the
    phase, or a calendar without the year raises)."""
    policy = with_plan(stage(**keys))
    (only,) = timeline_section(policy).plans["loan"].stages
    assert evaluate._quiet_when_skipped(only) is quiet


# ---------------------------------------------------------------- deadlines' matchers

_MATCHERS = st.builds(
    EventMatcher,
    st.sampled_from(list(EventKind)),
    st.none(),
) | st.builds(
    EventMatcher, st.just(EventKind.CONTACT_ATTEMPT), st.sampled_from(list(ContactOutcome))
)
_EVENTS = st.builds(
    lambda kind, outcome: Event(
        kind,
        _at(1),
        outcome=outcome if kind is EventKind.CONTACT_ATTEMPT else None,
        amount=Decimal(10) if "amount" in EVENT_REQUIRED_FIELDS.get(kind, ()) else None,
        promised_date=DUE if kind is EventKind.PROMISE_MADE else None,
        retracts="x" if kind is EventKind.RETRACTION else None,
        asset_class="land" if kind is EventKind.ASSET_FOUND else None,
    ),
    st.sampled_from(list(EventKind)),
    st.sampled_from(list(ContactOutcome)),
)


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(_MATCHERS, max_size=6),
    second=st.lists(_MATCHERS, max_size=6),
    events=st.lists(_EVENTS, min_size=1, max_size=6),
)
def test_matching_answers_as_the_matchers_do(
    first: list[EventMatcher], second: list[EventMatcher], events: list[Event]
) -> None:
    """Each tuple of matchers gets its own answer (remembered by identity: an equal
    tuple that is another object, or a tuple that differs in any matcher, is never
    answered with another's)."""
    # (each ``tuple`` of a list is a new object: the first and the third are equal)
    tuples = (tuple(first), tuple(second), tuple(first))
    for matchers in (*tuples, *tuples):
        matched = _matching(matchers)
        for event in events:
            assert matched(event) == any(m.matches(event) for m in matchers)


def test_matchings_are_bounded() -> None:
    kinds = list(EventKind)
    for i in range(_MATCHINGS_SIZE * 2 + 3):
        matchers = (EventMatcher(kinds[i % len(kinds)]),) * (1 + i // len(kinds))
        assert _matching(matchers)(Event(EventKind.VISIT, _at(1))) == (
            kinds[i % len(kinds)] is EventKind.VISIT
        )
        assert len(_matching.entries) <= _MATCHINGS_SIZE


def test_the_deadlines_ask_no_matcher_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy("default")
    section = timeline_section(policy)
    case = _loan(
        Event(EventKind.PAYMENT, _at(3), amount=Decimal(100)),
        Event(EventKind.PROMISE_MADE, _at(4), amount=Decimal(100), promised_date=DUE),
        Event(EventKind.CONTACT_ATTEMPT, _at(5), outcome=ContactOutcome.REACHED),
        Event(EventKind.DEMAND_DELIVERED, _at(6)),
        Event(EventKind.JUDGMENT_EFFECTIVE, _at(7)),
        Event(EventKind.PAYMENT, _at(8), amount=Decimal(200)),
    )
    events = tuple(sorted(case.events, key=lambda e: e.at))
    facts = deadline_facts(case, AS_OF, section, events)
    reads = deadline_reads(case, events, section, kinds=deadline_kinds(section))

    def refuse(self: EventMatcher, event: Event) -> bool:
        raise AssertionError("a matcher was asked in turn")

    monkeypatch.setattr(EventMatcher, "matches", refuse)
    assert deadline_facts(case, AS_OF, section, events) == facts
    assert deadline_reads(case, events, section, kinds=deadline_kinds(section)) == reads
    assert len(reads) >= 4


# ------------------------------------------------------------------------- emergencies


def test_the_emergencies_are_worked_out_once_per_derivation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = _policy("default")
    case = _loan(
        Event(EventKind.CONTACT_ATTEMPT, _at(2), outcome=ContactOutcome.NO_ANSWER),
        Event(EventKind.COURT_PROCEEDING, _at(3)),
        Event(EventKind.VISIT, _at(4)),
    )
    expected = derive(case, AS_OF, policy).facts
    statuses = _statuses(case, policy)
    calls: list[object] = []
    original = emergencies.open_emergencies

    def counted(*args: Any) -> Any:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(emergencies, "open_emergencies", counted)
    monkeypatch.setattr(evaluate, "open_emergencies", counted)
    facts = derive(_loan(*case.events), AS_OF, policy).facts
    assert len(calls) == 1
    assert facts == expected
    assert facts["emergency_open"] is True
    assert facts["step_l_3d"] == statuses["L-3D"]


# ------------------------------------------------------------------- comparing times


@st.composite
def _times(draw: st.DrawFn) -> pendulum.DateTime:
    """A time around a change of the clocks, in a zone or at a fixed offset."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from([dt.date(2026, 3, 8), dt.date(2026, 11, 1), dt.date(2026, 3, 29)]))
    minutes = draw(st.integers(min_value=-26 * 60, max_value=26 * 60))
    base = pendulum.datetime(day.year, day.month, day.day, 1, 30, tz=zone)
    at = pendulum.instance(base).add(minutes=minutes)
    at = pendulum.datetime(
        at.year, at.month, at.day, at.hour, at.minute, tz=zone, fold=draw(st.sampled_from([0, 1]))
    )
    return fixed_offset(at) if draw(st.booleans()) else at


@settings(max_examples=500, deadline=None)
@given(first=_times(), second=_times())
def test_same_clock_compares_as_instants(
    first: pendulum.DateTime, second: pendulum.DateTime
) -> None:
    a, b = instant(first), instant(second)
    if same_clock(first, second):
        assert (first < second) == (a < b)
        assert (first <= second) == (a <= b)
        assert (first >= second) == (a >= b)
    assert later(first, second) is (second if b > a else first)
    now = stdlib_fixed(a)
    assert now == a
    assert (now < second, now <= second, now > second) == (a < b, a <= b, a > b)


def _old_pause_spans(promises: list[Promise]) -> list[tuple[Any, Any, Promise]]:
    """``pause_spans`` as it was written, every time compared as an instant."""
    spans: list[tuple[Any, Any, Promise]] = []
    for promise in sorted(promises, key=lambda p: instant(p.made_at)):
        start, end = promise.made_at, promise.pause_until
        if instant(end) <= start:
            continue
        if spans and instant(start) <= spans[-1][1]:
            last = spans[-1]
            if instant(end) >= last[1]:
                spans[-1] = (last[0], end, promise)
            continue
        spans.append((start, end, promise))
    return spans


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.tuples(_times(), _times()), min_size=1, max_size=4),
    superseded=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_pause_spans_merge_as_instants(
    times: list[tuple[pendulum.DateTime, pendulum.DateTime]], superseded: list[bool]
) -> None:
    promises = []
    for (made, end), gone in zip(times, superseded, strict=False):
        event = Event(
            EventKind.PROMISE_MADE, fixed_offset(made), amount=Decimal(10), promised_date=DUE
        )
        promises.append(
            Promise(
                event=event,
                made_at=made,
                promised_date=DUE,
                amount=Decimal(10),
                currency="CNY",
                ends_at=end,
                status=PromiseStatus.SUPERSEDED if gone else PromiseStatus.STANDING,
                resolved_at=end if gone else None,
                paid=Decimal(0),
                threshold=Decimal(10),
            )
        )
    got = [(s.start, s.end, s.promise) for s in pause_spans(promises)]
    want = _old_pause_spans(promises)
    assert len(got) == len(want)
    for (start, end, promise), (old_start, old_end, old_promise) in zip(got, want, strict=True):
        assert start is old_start
        assert end is old_end
        assert promise is old_promise


@pytest.mark.parametrize("party", [None, "G1"])
def test_a_step_that_does_not_apply_is_not_done_by_another_partys_event(
    party: str | None,
) -> None:
    """The shortcut for a step that does not apply looks for the events that complete
    it as the step does: a guarantor reached does not complete a step on the debtor,
    so the step is skipped (the debtor reached: done), as the timeline says."""
    policy = with_plan(stage(when="dpd > 100000", reason="Not yet."))  # no case meets it
    case = _loan(
        Event(EventKind.CONTACT_ATTEMPT, _at(2), outcome=ContactOutcome.REACHED, party=party),
    )
    facts = derive(case, AS_OF, policy).facts
    expected = _statuses(case, policy)
    assert expected["S-1"] == ("done" if party is None else "skipped")
    assert facts["step_s_1"] == expected["S-1"]
