"""The timeline's state facts agree with the timeline itself.

``state_facts`` (what remedy rules read: each step's status, the plan flags, the step
counts and the phase; the legal deadlines' days) is computed without building the
timeline: for a case without events, from the step times alone; for a case with events,
without the builder or its steps, and with the deadline facts remembered under the
events they read. Whatever the case, its facts must be what ``build_timeline`` (the
full steps and deadlines, as ``Engine.timeline`` and the worklist give them) says: on
cases with and without events (of every kind, with parties, amounts of nothing,
retractions, times at fixed offsets as read from JSON or in the case's zone), promises
and emergencies, guarantors and maturity dates, in zones with daylight-saving changes
(``as_of`` in either fold of a repeated hour), under every shipped policy with a
``[timeline]`` and a plan with every kind of offset and anchor.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pendulum.tz import fixed_timezone

from collectrules import Case, Event, Guarantor, Policy, Signal, load_policy
from collectrules.conditions import parse as parse_condition
from collectrules.errors import CollectRulesError
from collectrules.model.case import EVENT_REQUIRED_FIELDS, EventKind, zone
from collectrules.model.time import local_midnight
from collectrules.policy.derive import derive
from collectrules.timeline import Deadline, DeadlineKind, DeadlineStatus, Timeline
from collectrules.timeline._case import events_until, in_zone
from collectrules.timeline.evaluate import (
    ACTIONABLE,
    Step,
    StepStatus,
    _condition_anchor,
    _step_facts,
    build_timeline,
    state_facts,
    timeline_facts,
    timeline_section,
)
from collectrules.timeline.stages import Anchor, AnchorKind, Stage, state_fields, step_field
from timeline_helpers import OUTCOMES, stage, with_plan

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
CURRENCY = {"us_regf": "USD", "uk": "GBP", "ifrs9": "EUR"}

#: Zones with daylight-saving changes (two at midnight: Santiago, Havana), and two
#: without.
ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "UTC",
)

#: Event kinds with the fields they need drawn below, emergencies included.
KINDS = (
    "payment", "contact_attempt", "visit", "demand_letter_signed", "report_filed",
    "plan_issued", "notice_sent", "lawyer_letter_sent", "demand_delivered", "promise_made",
    "debtor_acknowledged", "suit_filed", "emergency_refusal", "absconded",
    "court_proceeding", "agreement_ended", "threat_to_staff", "emergency_reported",
    "emergency_meeting", "escalation_decided",
)  # fmt: skip


@cache
def _every_offset() -> Policy:
    """The default policy with a loan plan of every offset unit and anchor kind."""
    return with_plan(
        stage(id="S-BD", anchor="due_date", after="2 business days", within="5 business days"),
        stage(id="S-H", within="30 hours", limit="3 business days", escalation=True),
        stage(id="S-W", after="1 week", within="2 weeks", limit="1 month"),
        stage(id="S-MO", anchor="due_date", after="1 month", within="2 months"),
        stage(id="S-EV", anchor="promise_made", within="72 hours"),
        stage(id="S-REACH", anchor="contact_attempt:reached", after="1 day", within="2 days"),
        stage(
            id="S-COND",
            anchor="condition",
            when="contact_attempts == 0",
            reason="Only while no attempt was made.",
            within="48 hours",
            escalation=True,
        ),
        stage(id="S-24", within="24 hours", limit="48 hours", escalation=True),
        stage(
            id="S-OWED",
            after="2 days",
            when="overdue_amount > 0",
            reason="Only while something is owed.",
        ),
    )


@cache
def _policy(name: str) -> Policy:
    return _every_offset() if name == "every_offset" else load_policy(name)


#: Who an event may name: nobody, the debtor, the guarantor by id or by name, another.
PARTIES = (None, "debtor", "G-1", "Guarantor One", "a neighbour")


@st.composite
def _events(draw: st.DrawFn, due: pendulum.DateTime, retractable: tuple[str, ...] = ()) -> Event:
    # Now and then at a midnight: at the due date's, the first day overdue's, or later.
    minutes = st.integers(min_value=-3 * 24 * 60, max_value=80 * 24 * 60)
    at = due.add(minutes=draw(minutes | st.sampled_from([0, 24 * 60, 3 * 24 * 60])))
    if draw(st.booleans()):
        # As a case read from JSON has it: the same instant at a fixed offset.
        offset = at.utcoffset()
        assert offset is not None
        at = at.in_timezone(fixed_timezone(int(offset.total_seconds())))
    # Mostly the kinds a timeline reads; any kind at all, now and then.
    kind = draw(
        st.sampled_from(KINDS)
        | st.sampled_from([k.value for k in EventKind if k is not EventKind.RETRACTION])
    )
    if retractable and draw(st.integers(min_value=0, max_value=9)) == 0:
        kind = "retraction"
    fields: dict[str, Any] = {}
    if kind == "contact_attempt":
        fields["outcome"] = draw(st.sampled_from((*OUTCOMES, "unreachable")))
    if kind in ("payment", "asset_found") or (kind != "promise_made" and draw(st.booleans())):
        # An amount on any event now and then; a payment of nothing too.
        fields["amount"] = Decimal(draw(st.sampled_from([0, 1, 250, 6000])))
    if kind == "promise_made":
        fields["amount"] = Decimal(draw(st.integers(min_value=0, max_value=6000)))
        days = draw(st.integers(min_value=0, max_value=10))
        fields["promised_date"] = at.date() + dt.timedelta(days=days)
    if kind == "asset_found":
        fields["asset_class"] = "real_estate"
    if kind == "retraction":
        fields["retracts"] = draw(st.sampled_from(retractable))
    if kind == "threat_to_staff" or draw(st.booleans()):
        fields["staff"] = "collector-1"
    party = draw(st.sampled_from(PARTIES))
    if party is not None:
        fields["party"] = party
    assert set(EVENT_REQUIRED_FIELDS.get(EventKind(kind), ())) <= set(fields)
    return Event(kind=kind, at=at, **fields)


@cache
def _repeated_hour(zone: str, year: int) -> pendulum.DateTime | None:
    """The first instant of the hour a zone repeats in ``year`` (fold 0), if any."""
    start = pendulum.datetime(year, 1, 1, tz="UTC")
    previous = start.in_timezone(zone).utcoffset()
    for hours in range(0, 366 * 24, 1):
        local = start.add(hours=hours).in_timezone(zone)
        offset = local.utcoffset()
        if previous is not None and offset is not None and offset < previous:
            return local.subtract(hours=1)
        previous = offset
    return None


@cache
def _changes(zone: str, year: int) -> tuple[dt.date, ...]:
    """The local dates on which ``zone`` changes its UTC offset in ``year``."""
    start = pendulum.datetime(year, 1, 1, tz="UTC")
    found: list[dt.date] = []
    previous = start.in_timezone(zone).utcoffset()
    for hours in range(366 * 24):
        local = start.add(hours=hours).in_timezone(zone)
        if local.utcoffset() != previous:
            found.append(local.date())
        previous = local.utcoffset()
    return tuple(found)


@st.composite
def _near_a_change(draw: st.DrawFn, zone: str) -> tuple[dt.date, pendulum.DateTime] | None:
    """A due date a few days before an offset change of ``zone``, and an instant within
    an hour and a half of a midnight a few days after it: where elapsed hours and
    calendar days part."""
    changes = _changes(zone, 2026)
    if not changes:
        return None
    change = draw(st.sampled_from(changes))
    due_date = change - dt.timedelta(days=draw(st.integers(min_value=0, max_value=3)))
    day = due_date + dt.timedelta(days=draw(st.integers(min_value=1, max_value=5)))
    midnight = pendulum.datetime(day.year, day.month, day.day, tz=zone)
    return due_date, midnight.add(minutes=draw(st.integers(min_value=-90, max_value=90)))


@st.composite
def _scenarios(draw: st.DrawFn, name: str) -> tuple[Case, pendulum.DateTime]:
    policy = _policy(name)
    section = timeline_section(policy)
    zone = draw(st.sampled_from(ZONES))
    repeated = _repeated_hour(zone, 2026)
    near = draw(_near_a_change(zone)) if draw(st.booleans()) else None
    if near is not None:
        due_date, as_of = near
    elif repeated is not None and draw(st.booleans()):
        # ``as_of`` in either fold of the repeated hour, the due date shortly before.
        minute = draw(st.integers(min_value=0, max_value=59))
        wall = repeated.add(minutes=minute)
        fold = draw(st.sampled_from([0, 1]))
        as_of = pendulum.datetime(
            wall.year, wall.month, wall.day, wall.hour, wall.minute, tz=zone, fold=fold
        )
        due_date = wall.date() - dt.timedelta(days=draw(st.integers(min_value=-2, max_value=40)))
    else:
        due_date = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
        start = pendulum.datetime(due_date.year, due_date.month, due_date.day, tz=zone)
        as_of = start.add(
            minutes=draw(st.integers(min_value=-2 * 24 * 60, max_value=200 * 24 * 60))
        )
    due = pendulum.datetime(due_date.year, due_date.month, due_date.day, tz=zone)
    retractable = tuple(sorted(policy.signals))
    happened = draw(st.lists(_events(due, retractable), max_size=6)) if draw(st.booleans()) else []
    maturity = (
        due_date + dt.timedelta(days=draw(st.sampled_from([-30, 0, 90, 400])))
        if draw(st.booleans())
        else None
    )
    guarantors = draw(
        st.sampled_from(
            [
                (),
                (Guarantor("G-1"),),
                (Guarantor("G-1", name="Guarantor One", agreed_period_months=2),),
                (Guarantor("G-2", agreed_period_months=1), Guarantor("G-1", name="Guarantor One")),
            ]
        )
    )
    case = Case(
        case_id="F-1",
        product=draw(st.sampled_from(sorted(section.products))),
        currency=CURRENCY.get(name, "CNY"),
        principal=Decimal(100000),
        overdue_amount=Decimal(draw(st.sampled_from([0, 5000]))),
        due_date=due_date,
        timezone=zone,
        events=tuple(happened),
        guarantors=guarantors,
        maturity_date=maturity,
    )
    return case, as_of


def _expected(case: Case, as_of: pendulum.DateTime, policy: Policy) -> dict[str, Any]:
    """The state facts, read off ``build_timeline``'s steps."""
    derived = derive(case, as_of, policy)
    timeline = build_timeline(case, as_of=as_of, policy=policy, derived=derived)
    plan = timeline_section(policy).plan_for(case.product)
    stages = () if plan is None else plan.stages
    steps = timeline.steps[: len(stages)]
    out: dict[str, Any] = {}
    flags: dict[str, bool] = {}
    escalated = False
    for stage_, step in zip(stages, steps, strict=True):
        assert step.stage is stage_
        out[step_field(stage_.id)] = step.status.value
        if stage_.remedy is not None:
            flags[f"plan_{stage_.remedy}"] = flags.get(f"plan_{stage_.remedy}", False) or (
                step.status in ACTIONABLE
            )
        escalated = escalated or (stage_.escalation and _escalation_passed(step, timeline.as_of))
    out.update({k: v for k, v in flags.items() if v})
    out["steps_open"] = sum(s.status is StepStatus.OPEN for s in steps)
    out["steps_late"] = sum(s.status is StepStatus.LATE for s in steps)
    out["steps_breached"] = sum(s.status is StepStatus.BREACHED for s in steps)
    dpd = derived.facts.get("dpd", 0)
    out["phase"] = "P1" if not dpd else ("P3" if escalated else "P2")
    return out


def _expected_deadlines(case: Case, timeline: Timeline) -> dict[str, Any]:
    """The deadline facts, read off ``build_timeline``'s deadlines."""
    today = timeline.as_of.date()
    out: dict[str, Any] = {"limitation_expired": False, "guarantee_running": False}
    guarantee: Deadline | None = None
    for deadline in timeline.deadlines:
        last = deadline.last_day
        if deadline.kind is DeadlineKind.LIMITATION and last is not None:
            expired = deadline.status is DeadlineStatus.EXPIRED
            out["limitation_expired"] = expired
            out["limitation_days_left"] = 0 if expired else max(0, (last - today).days + 1)
            out["limitation_last_day"] = last.isoformat()
        elif (
            deadline.kind is DeadlineKind.GUARANTEE
            and deadline.status is DeadlineStatus.RUNNING
            and last is not None
            and (guarantee is None or guarantee.last_day is None or last < guarantee.last_day)
        ):
            guarantee = deadline
    if guarantee is not None and guarantee.last_day is not None:
        out["guarantee_running"] = True
        out["guarantee_days_left"] = max(0, (guarantee.last_day - today).days + 1)
        out["guarantee_last_day"] = guarantee.last_day.isoformat()
    assert today == case.local_date(timeline.as_of)
    return out


def _check(name: str, case: Case, as_of: pendulum.DateTime) -> None:
    policy = _policy(name)
    section = timeline_section(policy)
    try:
        expected = _expected(case, as_of, policy)
    except CollectRulesError as error:
        # The same error from the state facts (such as a calendar without the year).
        with pytest.raises(type(error)):
            _step_facts(case, as_of, policy, section, derive(case, as_of, policy).facts)
        return
    facts = _step_facts(case, as_of, policy, section, derive(case, as_of, policy).facts)
    got = {k: v for k, v in facts.items() if k in expected or (k.startswith("plan_") and v)}
    assert got == expected


def _check_state(name: str, case: Case, as_of: pendulum.DateTime) -> None:
    """All of ``state_facts`` (steps and deadlines, through their caches) against the
    timeline; the same error when the timeline has one."""
    policy = _policy(name)
    section = timeline_section(policy)
    needed = frozenset(state_fields(section.plans))
    try:
        derived = derive(case, as_of, policy)
        timeline = build_timeline(case, as_of=as_of, policy=policy, derived=derived)
        expected = {**_expected(case, as_of, policy), **_expected_deadlines(case, timeline)}
    except CollectRulesError as error:
        with pytest.raises(type(error)):
            state_facts(case, as_of, policy, derive(case, as_of, policy).facts, needed)
        return
    for _ in range(2):  # afresh, then (for a case without events) from the cache
        facts = state_facts(case, as_of, policy, derived.facts, needed)
        got = {k: v for k, v in facts.items() if k in expected or (k.startswith("plan_") and v)}
        assert got == expected
        assert not {k for k in facts if k.startswith(("limitation_", "guarantee_"))} - set(expected)


@pytest.mark.parametrize("name", [*SHIPPED, "every_offset"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_state_facts_are_what_the_timeline_says(name: str, data: st.DataObject) -> None:
    case, as_of = data.draw(_scenarios(name))
    _check(name, case, as_of)


@pytest.mark.parametrize("name", [*SHIPPED, "every_offset"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_all_the_state_facts_are_what_the_timeline_says(name: str, data: st.DataObject) -> None:
    case, as_of = data.draw(_scenarios(name))
    _check_state(name, case, as_of)


@pytest.mark.parametrize("name", [*SHIPPED, "every_offset"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_cases_without_events_too(name: str, data: st.DataObject) -> None:
    case, as_of = data.draw(_scenarios(name))
    _check(name, attrs.evolve(case, events=()), as_of)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
@pytest.mark.parametrize("days", [0, 1])
def test_an_event_at_the_anchor_completes_the_step(zone: str, days: int) -> None:
    # Reached at 00:00 of the due date (L-DUE's anchor) or of the first day overdue
    # (L-24H's), read from JSON at a fixed offset or in the zone: done, either way.
    due_date = dt.date(2026, 3, 31)
    midnight = pendulum.datetime(2026, 3, 31, tz=zone).add(days=days)
    for at in (midnight, midnight.in_timezone(fixed_timezone(3600))):
        case = Case(
            case_id="F-3",
            product="loan",
            currency="CNY",
            principal=Decimal(100000),
            overdue_amount=Decimal(5000),
            due_date=due_date,
            timezone=zone,
            events=(Event(kind="contact_attempt", at=at, outcome="reached"),),
        )
        as_of = midnight.add(hours=30)
        _check("default", case, as_of)
        facts = _step_facts(
            case,
            as_of,
            _policy("default"),
            timeline_section(_policy("default")),
            derive(case, as_of, _policy("default")).facts,
        )
        assert facts["step_l_24h" if days else "step_l_due"] == "done"


@pytest.mark.parametrize("fold", [0, 1])
@pytest.mark.parametrize("minute", [0, 29, 59])
def test_either_fold_of_the_repeated_hour(fold: int, minute: int) -> None:
    # New York repeats 01:00-02:00 on 2026-11-01; a 24-hour stage from the first day
    # overdue, due at 00:00 on 2026-11-01 in wall time, is seen from both folds.
    as_of = pendulum.datetime(2026, 11, 1, 1, minute, tz="America/New_York", fold=fold)
    for due_date in (dt.date(2026, 10, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 1)):
        case = Case(
            case_id="F-2",
            product="loan",
            currency="CNY",
            principal=Decimal(100000),
            overdue_amount=Decimal(5000),
            due_date=due_date,
            timezone="America/New_York",
        )
        for name in ("default", "every_offset"):
            _check(name, case, as_of)


def _escalation_passed(step: Step, at: pendulum.DateTime) -> bool:
    """Whether the escalation point of ``step`` has passed at ``at`` (the reference): its
    deadline for a stage with one, else the moment it opens."""
    # As instants: the step's times and the timeline's ``as_of`` share the case's zone
    # object, which compares them by wall clock in the hour the clocks repeat.
    if step.stage.within is not None:
        return step.due_at is not None and at.timestamp() > step.due_at.timestamp()
    return step.opens_at is not None and at.timestamp() >= step.opens_at.timestamp()


# --------------------------------------------------------------------------- condition anchors
#
# A case whose events all lie at or before ``as_of``, each at a fixed offset (as read from
# JSON), has its condition anchors found on prefixes of its sorted events rather than on
# the events sorted again at each instant: the same anchor, by the definition.

#: Fixed offsets as the events of a case may carry them: pendulum's, the standard
#: library's, and UTC (pendulum's zone, which has no repeated hour either).
_OFFSETS = (
    fixed_timezone(8 * 3600),
    fixed_timezone(-5 * 3600),
    dt.timezone(dt.timedelta(hours=1)),
    pendulum.UTC,
)
_OUTCOME_KINDS = ("reached", "no_answer", "invalid_number", "refused", "unreachable")


@st.composite
def _anchor_cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime]:
    zone = draw(st.sampled_from(ZONES))
    due = pendulum.datetime(2026, 3, 6, tz=zone)
    events = []
    # Few distinct instants, so that events often share one (at different offsets).
    instants = [due.add(hours=h) for h in (-30, 0, 20, 24, 30, 47, 48, 75, 200)]
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        at = draw(st.sampled_from(instants)).in_timezone(draw(st.sampled_from(_OFFSETS)))
        kind = draw(st.sampled_from(("contact_attempt", "contact_attempt", "payment", "visit")))
        if kind == "contact_attempt":
            events.append(Event(kind=kind, at=at, outcome=draw(st.sampled_from(_OUTCOME_KINDS))))
        elif kind == "payment":
            events.append(Event(kind=kind, at=at, amount=Decimal(draw(st.integers(0, 900)))))
        else:
            events.append(Event(kind=kind, at=at))
    case = Case(
        case_id="F-4",
        product="loan",
        currency="CNY",
        principal=Decimal(100000),
        overdue_amount=Decimal(5000),
        due_date=due.date(),
        timezone=zone,
        events=tuple(events),
    )
    as_of = due.add(hours=draw(st.sampled_from([10, 24, 30, 47, 48, 100, 300])))
    if draw(st.booleans()):
        as_of = as_of.in_timezone(draw(st.sampled_from(_OFFSETS)))
    return case, as_of


def _reference_anchor(
    case: Case, anchored: Stage, overdue_start: pendulum.DateTime, as_of: pendulum.DateTime
) -> pendulum.DateTime | None:
    """The first instant from ``overdue_start`` on at which the stage's condition holds
    on the facts of the events at or before that instant: by the definition."""
    rules = timeline_section(_policy("default")).promises
    test = anchored.when.evaluate
    if overdue_start <= as_of and test(timeline_facts(case, overdue_start, rules, standing=False)):
        return overdue_start
    for event in events_until(case, as_of):
        if event.at > overdue_start and test(timeline_facts(case, event.at, rules, standing=False)):
            return event.at.in_timezone(case.timezone)
    return None


@settings(max_examples=400, deadline=None)
@given(drawn=_anchor_cases(), threshold=st.integers(min_value=0, max_value=3))
def test_a_condition_anchor_is_found_on_the_sorted_events(
    drawn: tuple[Case, pendulum.DateTime], threshold: int
) -> None:
    case, as_of = drawn
    section = timeline_section(_policy("default"))
    plan = section.plan_for("loan")
    assert plan is not None
    # L-UNREACHABLE as it read before it read the decision's unreachable fact: a stage
    # anchored on a condition of the events.
    (base,) = (s for s in plan.stages if s.id == "L-UNREACHABLE")
    unreachable = attrs.evolve(
        base,
        anchor=Anchor(AnchorKind.CONDITION),
        when=parse_condition("contact_invalid_number >= 1 or contact_unanswered_streak >= 3"),
    )
    stages = [
        unreachable,
        attrs.evolve(unreachable, when=parse_condition(f"contact_attempts >= {threshold}")),
        attrs.evolve(unreachable, when=parse_condition(f"paid_since_due > {threshold * 100}")),
        # Conditions that a later event can make false again.
        attrs.evolve(unreachable, when=parse_condition(f"contact_attempts == {threshold}")),
        attrs.evolve(unreachable, when=parse_condition("contact_unanswered_streak >= 1")),
    ]
    overdue_start = local_midnight(case.due_date + dt.timedelta(days=1), case.timezone)
    local = as_of.in_timezone(case.timezone)
    for anchored in stages:
        got = _condition_anchor(
            case, events_until(case, as_of), anchored, overdue_start, local, section.promises
        )
        expected = _reference_anchor(case, anchored, overdue_start, local)
        assert got == expected
        if got is not None and expected is not None:
            assert (got.isoformat(), got.fold, got.tzinfo) == (
                expected.isoformat(),
                expected.fold,
                expected.tzinfo,
            )


# --------------------------------------------------------------------------- instants in a zone


#: Days with a daylight-saving change in New York or London (in their wall time too).
_CHANGES = tuple(
    pendulum.datetime(*day, tz="UTC")
    for day in ((2026, 3, 8), (2026, 3, 29), (2026, 10, 25), (2026, 11, 1), (2027, 11, 7))
)


@settings(max_examples=500, deadline=None)
@given(
    start=st.sampled_from([pendulum.datetime(2025, 1, 1, tz="UTC"), *_CHANGES]),
    minutes=st.integers(min_value=0, max_value=12 * 60) | st.integers(0, 4 * 366 * 24 * 60),
    source=st.sampled_from([*_OFFSETS, *ZONES, "fixed-stdlib", "zoneinfo"]),
    target=st.sampled_from(ZONES),
    fold=st.integers(min_value=0, max_value=1),
)
def test_an_instant_in_a_zone_is_what_pendulum_gives(
    start: pendulum.DateTime, minutes: int, source: Any, target: str, fold: int
) -> None:
    # Around the daylight-saving changes of 2025-2028, either fold, from a zone, a
    # pendulum offset, UTC, or a standard-library offset or zone.
    at = start.add(minutes=minutes)
    if source in ("fixed-stdlib", "zoneinfo"):
        # The wall time in a tzinfo of the standard library's, kept as it is (pendulum's
        # replace would swap it for its own); in a zone of its, pendulum reads fold 1.
        tzinfo = (
            dt.timezone(dt.timedelta(hours=-3))
            if source == "fixed-stdlib"
            else ZoneInfo("America/New_York")
        )
        fields = (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)
        at = pendulum.DateTime(*fields, tzinfo=tzinfo, fold=fold)
    else:
        at = at.in_timezone(source).replace(fold=fold)
    tz = zone(target)
    got, expected = in_zone(at, tz), at.in_timezone(tz)
    assert type(got) is type(expected)
    assert got == expected
    assert (got.isoformat(), got.fold, got.tzinfo) == (
        expected.isoformat(),
        expected.fold,
        expected.tzinfo,
    )


#: The default policy's L-UNREACHABLE as it ships, with a limit and a remedy it performs,
#: and as an escalation stage: a step anchored on the instant of an unreachable sign.
_UNREACHABLE_VARIANTS = {
    "ships": "",
    "limited": 'limit = "48 hours"\nremedy = "visit"\n',
    "escalating": 'escalation = true\nlimit = "3 days"\n',
}


@cache
def _unreachable_policy(variant: str) -> Policy:
    import collectrules

    text = (Path(collectrules.__file__).parent / "policies" / "default.toml").read_text(
        encoding="utf-8"
    )
    anchor = 'anchor = "unreachable"\nwithin = "24 hours"\n'
    assert anchor in text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{variant}.toml"
        path.write_text(text.replace(anchor, anchor + _UNREACHABLE_VARIANTS[variant]), "utf-8")
        return load_policy(path)


@pytest.mark.parametrize("variant", sorted(_UNREACHABLE_VARIANTS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_step_anchored_on_an_unreachable_sign_is_what_the_timeline_says(
    variant: str, data: st.DataObject
) -> None:
    # Cases without events: the step counts from the sign's instant (seconds either side
    # of its 24 hours, its 48-hour limit and its escalation), judged for the case alone
    # on top of the entry the cases of one key share; afresh, then through the cache.
    policy = _unreachable_policy(variant)
    section = timeline_section(policy)
    tz = data.draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"]))
    as_of = pendulum.datetime(2026, 6, 30, 12, tz=tz)
    hours = st.sampled_from([-200.0, -72, -49, -48, -47, -25, -24, -23, -1, 0]) | st.floats(
        -300, 0, allow_nan=False
    )
    seconds = st.sampled_from([-1, 0, 1])
    signals = [
        Signal(
            kind="unreachable",
            observed_at=as_of.add(seconds=round(data.draw(hours) * 3600) + data.draw(seconds)),
        )
        for _ in range(data.draw(st.integers(0, 2)))
    ]
    if data.draw(st.booleans()):
        kind = data.draw(st.sampled_from(["commitment_signed", "refused_to_pay"]))
        signals.append(Signal(kind=kind, observed_at=as_of.subtract(hours=data.draw(hours) * -1)))
    case = Case(
        case_id="UN-1",
        product=data.draw(st.sampled_from(["loan", "credit_card"])),
        currency="CNY",
        principal=Decimal(100_000),
        overdue_amount=Decimal(data.draw(st.sampled_from([0, 800]))),
        due_date=as_of.date().subtract(days=data.draw(st.sampled_from([-1, 0, 1, 2, 3, 40]))),
        timezone=tz,
        signals=tuple(signals),
    )
    expected = _expected(case, as_of, policy)
    derived = derive(case, as_of, policy)
    facts = _step_facts(case, as_of, policy, section, derived.facts)
    assert {k: v for k, v in facts.items() if k in expected or (k.startswith("plan_") and v)} == (
        expected
    )
    needed = frozenset(state_fields(section.plans))
    for _ in range(2):
        facts = state_facts(case, as_of, policy, derived.facts, needed)
        got = {k: v for k, v in facts.items() if k in expected or (k.startswith("plan_") and v)}
        assert got == expected
