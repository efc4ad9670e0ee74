"""Times in the case's zone compare as instants, in the hour the clocks repeat too.

Python compares two datetimes that share one zone object by their wall clocks, ignoring
``fold`` and the UTC offset (pendulum keeps that for ``<``, ``==``, ``min``, ``max`` and
``sorted``): on the night New York's clocks go back, 01:30-04:00 reads as after
01:10-05:00, which is 40 minutes later, and 01:30-04:00 as equal to 01:30-05:00. The
timeline computes its times in the case's zone (``in_timezone``, ``add``, local
midnights), and so compared the steps' times with ``as_of``, with each other, and
sorted the emergencies and promises, by wall clock.

Each test below drives a public entry point with a case whose times fall in a repeated
hour (New York and London at 01:00-02:00, Havana and the Azores at 00:00-01:00), and
failed before the times were compared as instants.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine
from collectrules.calendars import ContactWindow
from collectrules.model import Event
from collectrules.timeline import StepStatus
from collectrules.timeline.stages import step_field
from timeline_helpers import default, stage, with_plan

NY = "America/New_York"
HAVANA = "America/Havana"

#: The zones, and the local days on which their clocks go back, in 2026.
FALL_BACK = {
    NY: dt.date(2026, 11, 1),  # 02:00 EDT -> 01:00 EST
    "Europe/London": dt.date(2026, 10, 25),  # 02:00 BST -> 01:00 GMT
    HAVANA: dt.date(2026, 11, 1),  # 01:00 CDT -> 00:00 CST
    "Atlantic/Azores": dt.date(2026, 10, 25),  # 01:00 -00 -> 00:00 -01
}


def _engine(policy: Any = None) -> Engine:
    return Engine(default() if policy is None else policy, backend="python")


def _case(tz: str, *events: dict[str, Any], due: str = "2026-10-29", **more: Any) -> Case:
    data: dict[str, Any] = {
        "case_id": "FB-1",
        "product": "loan",
        "currency": "USD",
        "principal": "1000",
        "overdue_amount": "100",
        "due_date": due,
        "timezone": tz,
        "events": list(events),
    }
    data.update(more)
    return Case.from_dict(data)


def _instant(value: dt.datetime) -> float:
    return value.timestamp()


# --------------------------------------------------------------------------- as_of


def test_a_step_due_in_the_first_pass_is_breached_in_the_second() -> None:
    # Unreachable at 01:30 EDT on the 31st: L-UNREACHABLE is due 24 hours later, at
    # 01:30 EDT on the 1st. At 01:10 EST, 40 minutes after, it is breached (no limit);
    # by wall clock 01:10 came before 01:30, and it read as open.
    case = _case(NY, {"kind": "contact_attempt", "outcome": "invalid_number",
                      "at": "2026-10-31T01:30:00-04:00"})  # fmt: skip
    as_of = "2026-11-01T01:10:00-05:00"
    engine = _engine()
    step = engine.timeline(case, as_of=as_of).step("L-UNREACHABLE")
    assert step.due_at is not None
    assert step.due_at.isoformat() == "2026-11-01T01:30:00-04:00"
    assert step.status is StepStatus.BREACHED
    facts = engine.decide(case, as_of=as_of).facts
    assert facts[step_field("L-UNREACHABLE")] == "breached"


def test_a_step_due_at_the_first_midnight_is_late_at_the_second() -> None:
    # Havana: 00:00 comes twice on 2026-11-01. L-24H is due 24 hours after 00:00 on the
    # 31st, at the first 00:00 (-04:00); at the second (-05:00) it is late, not open.
    case = _case(HAVANA, due="2026-10-30")
    as_of = "2026-11-01T00:00:00-05:00"
    engine = _engine()
    timeline = engine.timeline(case, as_of=as_of)
    step = timeline.step("L-24H")
    assert step.due_at is not None
    assert step.due_at.isoformat() == "2026-11-01T00:00:00-04:00"
    assert step.status is StepStatus.LATE
    assert engine.decide(case, as_of=as_of).facts[step_field("L-24H")] == "late"


# --------------------------------------------------------------------------- times


def test_a_due_time_is_never_before_the_opening() -> None:
    # "1 day" after 01:30 EDT on the 31st is 01:30 EST on the 1st, "24 hours" after it
    # 01:30 EDT: the due time is pushed to the opening, an hour later, not left before.
    policy = with_plan(stage(id="S-1", anchor="visit", after="1 day", within="24 hours"))
    case = _case(NY, {"kind": "visit", "at": "2026-10-31T01:30:00-04:00"})
    step = _engine(policy).timeline(case, as_of="2026-10-31T12:00:00-04:00").step("S-1")
    assert step.opens_at is not None
    assert step.due_at is not None
    assert step.opens_at.isoformat() == "2026-11-01T01:30:00-05:00"
    assert step.due_at.isoformat() == "2026-11-01T01:30:00-05:00"


def _two_steps() -> tuple[Engine, Case]:
    # S-A due at 01:30 EDT (05:30Z), S-B at 01:10 EST (06:10Z): S-A is due first.
    policy = with_plan(
        stage(id="S-B", anchor="report_filed", within="25 hours", completed_by=["plan_issued"]),
        stage(id="S-A", anchor="visit", within="24 hours", completed_by=["plan_issued"]),
    )
    case = _case(
        NY,
        {"kind": "visit", "at": "2026-10-31T01:30:00-04:00"},
        {"kind": "report_filed", "at": "2026-10-31T01:10:00-04:00"},
    )
    return _engine(policy), case


def test_next_actions_are_soonest_due_first() -> None:
    engine, case = _two_steps()
    timeline = engine.timeline(case, as_of="2026-11-01T00:30:00-04:00")
    assert [s.id for s in timeline.next_actions] == ["S-A", "S-B"]
    assert json.loads(timeline.to_json())["next_actions"] == ["S-A", "S-B"]


def test_the_urgency_is_the_earliest_hard_limit() -> None:
    engine, case = _two_steps()
    urgency = engine.urgency(case, as_of="2026-11-01T00:30:00-04:00")
    assert urgency.hard_limit is not None
    assert urgency.hard_limit.isoformat() == "2026-11-01T01:30:00-04:00"


# --------------------------------------------------------------------------- emergencies


def test_emergencies_are_in_time_order_and_the_latest_open_one_counts() -> None:
    # The threat at 01:30 EDT came 40 minutes before the court proceeding at 01:10 EST:
    # the latest open emergency is the court proceeding, and visits are not blocked for
    # a threat (R-E-THREAT-NO-VISIT reads emergency_kind).
    case = _case(
        NY,
        {"kind": "threat_to_staff", "at": "2026-11-01T01:30:00-04:00"},
        {"kind": "court_proceeding", "at": "2026-11-01T01:10:00-05:00"},
    )
    as_of = "2026-11-01T03:00:00-05:00"
    engine = _engine()
    timeline = engine.timeline(case, as_of=as_of)
    assert [e.kind.value for e in timeline.emergencies] == ["threat_to_staff", "court_proceeding"]
    assert engine.decide(case, as_of=as_of).facts["emergency_kind"] == "court_proceeding"


# --------------------------------------------------------------------------- promises


def test_a_promise_superseded_in_the_repeated_hour_pauses_from_when_it_was_made() -> None:
    # A promise at 01:30 EDT (05:30Z), superseded by another at 01:10 EST (06:10Z): the
    # pause runs from 01:30 EDT. A step anchored on the invalid number, due at 01:05 EST
    # (06:05Z), was not breached when the pause began, and is paused. By wall clock the
    # first promise ended (01:10) before it was made (01:30) and made no pause, the
    # pause began at 01:10 EST, and the step, due at "01:05", was breached before it.
    case = _case(
        NY,
        {"kind": "contact_attempt", "outcome": "invalid_number", "at": "2026-10-31T02:05:00-04:00"},
        {"kind": "promise_made", "at": "2026-11-01T01:30:00-04:00", "amount": "100",
         "promised_date": "2026-11-03"},
        {"kind": "promise_made", "at": "2026-11-01T01:10:00-05:00", "amount": "100",
         "promised_date": "2026-11-05"},
    )  # fmt: skip
    as_of = "2026-11-01T03:00:00-05:00"
    policy = with_plan(
        stage(id="S-INVALID", anchor="contact_attempt:invalid_number", within="24 hours")
    )
    engine = _engine(policy)
    timeline = engine.timeline(case, as_of=as_of)
    assert [p.status.value for p in timeline.promises] == ["superseded", "standing"]
    assert timeline.step("S-INVALID").status is StepStatus.PAUSED
    assert engine.decide(case, as_of=as_of).facts[step_field("S-INVALID")] == "paused"
    # The promise reached the debtor: the decision no longer counts the debtor
    # unreachable, and the default policy's L-UNREACHABLE, which reads the same fact, is
    # skipped rather than paused.
    default_engine = _engine()
    decided = default_engine.decide(case, as_of=as_of)
    assert decided.facts["unreachable"] == 0
    assert decided.facts[step_field("L-UNREACHABLE")] == "skipped"
    assert default_engine.timeline(case, as_of=as_of).step("L-UNREACHABLE").status is (
        StepStatus.SKIPPED
    )


def test_a_promise_made_at_the_second_midnight_ends_no_earlier() -> None:
    # Havana: a promise made at the second 00:00 of 2026-11-01 to pay by the 30th (and
    # the policy's grace day, the 31st) ends when it is made, not at the first 00:00,
    # an hour before it.
    case = _case(
        HAVANA,
        {"kind": "promise_made", "at": "2026-11-01T00:00:00-05:00", "amount": "100",
         "promised_date": "2026-10-30"},
        due="2026-10-30",
    )  # fmt: skip
    timeline = _engine().timeline(case, as_of="2026-11-01T06:00:00-05:00")
    (promise,) = timeline.promises
    assert promise.ends_at.isoformat() == "2026-11-01T00:00:00-05:00"


# --------------------------------------------------------------------------- contact window


def test_a_contact_window_in_the_repeated_hour_is_feasible() -> None:
    # No policy's whole-hour offsets make such a window: the class is public.
    first = pendulum.datetime(2026, 11, 1, 1, 40, tz=NY, fold=0)  # 05:40Z
    last = pendulum.datetime(2026, 11, 1, 1, 10, tz=NY, fold=1)  # 06:10Z
    assert first.tzinfo is last.tzinfo
    assert ContactWindow(first, last).feasible
    assert not ContactWindow(last, first).feasible


# --------------------------------------------------------------------------- properties

KINDS = ("contact_attempt", "visit", "promise_made", "payment", "report_filed",
         "threat_to_staff", "court_proceeding", "emergency_reported")  # fmt: skip
OUTCOMES = ("reached", "no_answer", "invalid_number")


@st.composite
def _near_the_fold(draw: st.DrawFn, tz: str) -> pendulum.DateTime:
    """An instant within two days of the repeated hour of ``tz``, often in or near it."""
    day = FALL_BACK[tz]
    if draw(st.booleans()):
        # Around the repeated hour, or the same wall times a day before.
        hour = 1 if tz in (NY, "Europe/London") else 0
        base = pendulum.datetime(day.year, day.month, day.day, hour, tz=tz, fold=0)
        base = base.subtract(hours=24 * draw(st.integers(0, 1)))
        minutes = draw(st.sampled_from([-30, 0, 10, 30, 50, 60, 70, 90, 120, 150]))
        return base.add(minutes=minutes).in_timezone(tz)
    start = pendulum.datetime(day.year, day.month, day.day, tz=tz).subtract(hours=48)
    return start.add(minutes=draw(st.integers(0, 4 * 24 * 60))).in_timezone(tz)


@st.composite
def _fall_back_cases(draw: st.DrawFn) -> tuple[Case, Case, pendulum.DateTime]:
    """The same case twice: its instants at the named zone, and at fixed offsets; and
    an ``as_of`` at the named zone."""
    tz = draw(st.sampled_from(sorted(FALL_BACK)))
    day = FALL_BACK[tz]
    due = day - dt.timedelta(days=draw(st.integers(1, 3)))
    events: list[Event] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(KINDS))
        when = draw(_near_the_fold(tz))
        fields: dict[str, Any] = {}
        if kind == "contact_attempt":
            fields["outcome"] = draw(st.sampled_from(OUTCOMES))
        if kind in ("payment", "promise_made"):
            fields["amount"] = Decimal(draw(st.sampled_from([0, 50, 100])))
        if kind == "promise_made":
            fields["promised_date"] = when.date() + dt.timedelta(days=draw(st.integers(-1, 3)))
        events.append(Event(kind=kind, at=when, **fields))
    as_of = draw(_near_the_fold(tz))

    def build(fixed: bool) -> Case:
        return Case.from_dict(
            {
                "case_id": "FB-P",
                "product": "loan",
                "currency": "USD",
                "principal": "1000",
                "overdue_amount": "100",
                "due_date": due.isoformat(),
                "timezone": tz,
                "events": [
                    {
                        "kind": e.kind.value,
                        # the instant in the zone itself, or as ISO text (a fixed offset)
                        "at": e.at.isoformat() if fixed else _zoned(e.at, tz),
                        **({"outcome": e.outcome.value} if e.outcome is not None else {}),
                        **({"amount": str(e.amount)} if e.amount is not None else {}),
                        **(
                            {"promised_date": e.promised_date.isoformat()}
                            if e.promised_date is not None
                            else {}
                        ),
                    }
                    for e in events
                ],
            }
        )

    return build(False), build(True), as_of


def _zoned(at: dt.datetime, tz: str) -> pendulum.DateTime:
    return pendulum.instance(at).in_timezone(tz)


def _status(now: float, opens: float, due: float | None, limit: float | None) -> str:
    if now < opens:
        return "upcoming"
    if due is None or now <= due:
        return "open"
    if limit is not None and now <= limit:
        return "late"
    return "breached"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_fall_back_cases())
def test_the_timeline_reads_instants_in_a_fall_back_zone(
    drawn: tuple[Case, Case, pendulum.DateTime],
) -> None:
    zoned, fixed, as_of = drawn
    engine = _engine()
    timeline = engine.timeline(zoned, as_of=as_of)
    text = timeline.to_json()
    # The same instants at fixed offsets, and as_of at its offset, give the same bytes.
    assert engine.timeline(fixed, as_of=as_of.isoformat()).to_json() == text
    decision = engine.decide(zoned, as_of=as_of).to_json()
    assert engine.decide(fixed, as_of=as_of.isoformat()).to_json() == decision
    now = _instant(as_of)
    facts = engine.decide(zoned, as_of=as_of).facts
    for step in timeline.steps:
        times = [t for t in (step.opens_at, step.due_at, step.limit_at) if t is not None]
        # opens <= due <= limit, as instants.
        assert [_instant(t) for t in times] == sorted(_instant(t) for t in times)
        if step.status in (StepStatus.OPEN, StepStatus.LATE, StepStatus.BREACHED):
            assert step.opens_at is not None
            expected = _status(
                now,
                _instant(step.opens_at),
                None if step.due_at is None else _instant(step.due_at),
                None if step.limit_at is None else _instant(step.limit_at),
            )
            assert step.status.value == expected
        if ":" not in step.id:  # a plan step: the decision reads its status
            assert facts[step_field(step.id)] == step.status.value
    # The orders the timeline promises: soonest due first; emergencies in time order.
    due = [_instant(s.deadline) for s in timeline.next_actions if s.deadline is not None]
    assert due == sorted(due)
    began = [_instant(e.at) for e in timeline.emergencies]
    assert began == sorted(began)
    made = [_instant(p.made_at) for p in timeline.promises]
    assert made == sorted(made)


@pytest.mark.parametrize("tz", sorted(FALL_BACK))
def test_the_fall_back_days_are_right(tz: str) -> None:
    # The premise of the tests above: that day's 00:00 or 01:00 comes twice.
    day = FALL_BACK[tz]
    hour = 1 if tz in (NY, "Europe/London") else 0
    first = pendulum.datetime(day.year, day.month, day.day, hour, 30, tz=tz, fold=0)
    second = pendulum.datetime(day.year, day.month, day.day, hour, 30, tz=tz, fold=1)
    assert second.timestamp() - first.timestamp() == 3600
    assert first == second  # one zone object: equal by wall clock
