"""A case with events is derived fast, with the same facts.

What the fast path of a case with events adds, each checked against what it replaces:

* the legal deadlines' facts are remembered under a key that holds, of the events, only
  those a deadline reads and only the fields it reads (``deadline_reads``): two cases
  with the same key have the same facts, and a case whose events change in any field
  gets the facts computed afresh, never another case's;
* a case whose events no deadline reads shares the entry of the cases without events;
* the events are sorted, and the promises judged, once per derivation (remembered for
  the latest case and ``as_of`` only, by identity): deriving cases in any order, the
  same case at other instants, or equal cases, gives what a fresh policy gives;
* the promise signals and contact facts are what ``evaluate_promises`` and
  ``timeline_facts`` give, computed afresh;
* emergencies are looked for only when an event can open one, with the same result.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pendulum.tz import fixed_timezone

from collectrules import Case, Engine, Event, Guarantor, Policy, load_policy
from collectrules.conditions import MONEY_SCALE
from collectrules.errors import CollectRulesError, InputError
from collectrules.model.case import EventKind
from collectrules.policy.derive import derive
from collectrules.timeline import DeadlineStatus
from collectrules.timeline._case import case_events
from collectrules.timeline.deadlines import (
    deadline_facts,
    deadline_kinds,
    deadline_reads,
    legal_deadlines,
)
from collectrules.timeline.emergencies import emergencies_of, open_emergencies
from collectrules.timeline.evaluate import (
    derived_promise_signals,
    promise_rules,
    state_facts,
    timeline_facts,
    timeline_section,
)
from collectrules.timeline.promises import evaluate_promises, promise_signals
from collectrules.timeline.stages import state_fields

ZONES = ("Asia/Shanghai", "America/New_York", "America/Havana", "UTC")
KINDS = tuple(k.value for k in EventKind if k is not EventKind.RETRACTION)
PARTIES = (None, "debtor", "G-1", "Guarantor One", "G-2", "a neighbour")
#: Every field of an event, as a mutation changes it (``at`` in three ways).
FIELDS = (
    "kind", "at", "at_fixed", "at_fold", "outcome", "amount", "promised_date", "channel",
    "party", "note", "staff", "asset_class", "retracts", "drop", "add",
)  # fmt: skip


@cache
def _policy(name: str) -> Policy:
    return load_policy(name)


def _reference(case: Case, as_of: pendulum.DateTime, policy: Policy) -> dict[str, Any]:
    """The deadline facts read off ``legal_deadlines`` (the timeline's deadlines)."""
    today = case.local_date(as_of)
    out: dict[str, Any] = {"limitation_expired": False, "guarantee_running": False}
    first = None
    for deadline in legal_deadlines(case, as_of, timeline_section(policy)):
        last = deadline.last_day
        if deadline.kind.value == "limitation" and last is not None:
            expired = deadline.status is DeadlineStatus.EXPIRED
            out["limitation_expired"] = expired
            out["limitation_days_left"] = 0 if expired else max(0, (last - today).days + 1)
            out["limitation_last_day"] = last.isoformat()
        elif (
            deadline.kind.value == "guarantee"
            and deadline.status is DeadlineStatus.RUNNING
            and last is not None
            and (first is None or last < first)
        ):
            first = last
    if first is not None:
        out["guarantee_running"] = True
        out["guarantee_days_left"] = max(0, (first - today).days + 1)
        out["guarantee_last_day"] = first.isoformat()
    return out


def _event(
    draw: st.DrawFn, due: pendulum.DateTime, kind: str | None = None, days: int = 4 * 366
) -> Event:
    at = due.add(minutes=draw(st.integers(min_value=-5 * 24 * 60, max_value=days * 24 * 60)))
    kind = kind or draw(st.sampled_from(KINDS))
    fields: dict[str, Any] = {}
    if kind == "contact_attempt":
        fields["outcome"] = draw(st.sampled_from(["reached", "no_answer", "refused"]))
    if kind in ("payment", "promise_made", "asset_found") or draw(st.booleans()):
        fields["amount"] = Decimal(draw(st.sampled_from([0, 1, 5000])))
    if kind == "promise_made":
        fields["promised_date"] = at.date() + dt.timedelta(days=draw(st.integers(0, 5)))
    if kind == "asset_found":
        fields["asset_class"] = "real_estate"
    party = draw(st.sampled_from(PARTIES))
    if party is not None:
        fields["party"] = party
    return Event(kind=kind, at=at, **fields)


def _fixed(at: pendulum.DateTime) -> pendulum.DateTime:
    offset = at.utcoffset()
    assert offset is not None
    return at.in_timezone(fixed_timezone(int(offset.total_seconds())))


def _mutated(draw: st.DrawFn, case: Case, due: pendulum.DateTime) -> Case:
    """``case`` with one field of one event changed (or an event dropped or added)."""
    events = list(case.events)
    field = draw(st.sampled_from(FIELDS))
    if field == "add" or not events:
        events.insert(draw(st.integers(0, len(events))), _event(draw, due))
        return attrs.evolve(case, events=tuple(events))
    index = draw(st.integers(0, len(events) - 1))
    old = events[index]
    if field == "drop":
        del events[index]
        return attrs.evolve(case, events=tuple(events))
    new: Event | None = None
    try:
        if field == "kind":
            new = _event(draw, due, draw(st.sampled_from(KINDS)))
            new = attrs.evolve(new, at=old.at, party=old.party)
        elif field == "at":
            new = attrs.evolve(old, at=old.at.add(minutes=draw(st.sampled_from([-1, 1, 600]))))
        elif field == "at_fixed":
            new = attrs.evolve(old, at=_fixed(old.at))
        elif field == "at_fold":
            new = attrs.evolve(old, at=old.at.replace(fold=1 - old.at.fold))
        elif field == "outcome" and old.kind is EventKind.CONTACT_ATTEMPT:
            new = attrs.evolve(old, outcome=draw(st.sampled_from(["reached", "invalid_number"])))
        elif field == "amount":
            new = attrs.evolve(old, amount=Decimal(draw(st.sampled_from([0, 2, 7000]))))
        elif field == "promised_date" and old.kind is EventKind.PROMISE_MADE:
            assert old.promised_date is not None
            new = attrs.evolve(old, promised_date=old.promised_date + dt.timedelta(days=1))
        elif field == "retracts":
            new = Event(kind="retraction", at=old.at, retracts="refused_to_pay", party=old.party)
        elif field == "party":
            new = attrs.evolve(old, party=draw(st.sampled_from(PARTIES)))
        elif field == "channel":
            new = attrs.evolve(old, channel="letter")
        elif field == "note":
            new = attrs.evolve(old, note="a note")
        elif field == "staff":
            new = attrs.evolve(old, staff="collector-2")
        elif field == "asset_class":
            new = attrs.evolve(old, asset_class="vehicle")
    except CollectRulesError:
        new = None  # an event that cannot be: keep the old one
    if new is not None:
        events[index] = new
    return attrs.evolve(case, events=tuple(events))


@st.composite
def _pairs(draw: st.DrawFn, name: str) -> tuple[Case, Case, pendulum.DateTime]:
    zone = draw(st.sampled_from(ZONES))
    due_date = dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 700)))
    due = pendulum.datetime(due_date.year, due_date.month, due_date.day, tz=zone)
    events = [_event(draw, due) for _ in range(draw(st.integers(0, 5)))]
    if draw(st.booleans()):
        events = [attrs.evolve(e, at=_fixed(e.at)) for e in events]
    guarantors = draw(
        st.sampled_from(
            [
                (),
                (Guarantor("G-1", name="Guarantor One"),),
                (Guarantor("G-1", agreed_period_months=3), Guarantor("G-2")),
            ]
        )
    )
    maturity = (
        due_date + dt.timedelta(days=draw(st.sampled_from([0, 200])))
        if draw(st.booleans())
        else None
    )
    case = Case(
        case_id="EF-1",
        product="loan",
        currency={"us_regf": "USD", "uk": "GBP", "ifrs9": "EUR"}.get(name, "CNY"),
        principal=Decimal(100000),
        overdue_amount=Decimal(5000),
        due_date=due_date,
        timezone=zone,
        events=tuple(events),
        guarantors=guarantors,
        maturity_date=maturity,
    )
    other = _mutated(draw, case, due)
    as_of = due.add(days=draw(st.integers(min_value=0, max_value=4 * 366)), hours=13)
    return case, other, as_of


def _key(case: Case, as_of: pendulum.DateTime, policy: Policy) -> tuple[Any, ...]:
    events = sorted((e for e in case.events if e.at <= as_of), key=lambda e: e.at)
    return (
        case.due_date,
        case.maturity_date,
        case.timezone,
        tuple((g.id, g.name, g.agreed_period_months) for g in case.guarantors),
        deadline_reads(case, events, timeline_section(policy)),
    )


@pytest.mark.parametrize("name", ["default", "cn_bank_loan", "us_regf"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_deadline_key_holds_all_that_the_deadlines_read(name: str, data: st.DataObject) -> None:
    policy = _policy(name)
    assert "loan" in policy.products, f"{name}: the cases drawn here are loans"
    case, other, as_of = data.draw(_pairs(name))
    section = timeline_section(policy)
    deadline_fields = ("limitation_", "guarantee_")
    needed = frozenset(n for n in state_fields(section.plans) if n.startswith(deadline_fields))
    try:
        first = _reference(case, as_of, policy)
        second = _reference(other, as_of, policy)
    except CollectRulesError:
        return  # such as a calendar without the year: nothing to remember
    # Equal keys, equal facts: the key leaves out nothing a deadline reads.
    if _key(case, as_of, policy) == _key(other, as_of, policy):
        assert first == second
    # The facts without their words are the deadlines' facts.
    assert deadline_facts(case, as_of, section) == first
    # Through the cache, the one case after the other: each gets its own facts.
    # (Only deadline fields are needed: the steps, which read the facts, are left out.)
    for one, expected in ((case, first), (other, second), (case, first)):
        assert state_facts(one, as_of, policy, {}, needed) == expected


@pytest.mark.parametrize("name", ["default", "cn_bank_loan", "us_regf", "uk"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_deadline_kinds_pass_over_only_what_no_deadline_reads(
    name: str, data: st.DataObject
) -> None:
    policy = _policy(name)
    if "loan" not in policy.products:
        pytest.skip(f"{name} has no loan product")
    case, _, as_of = data.draw(_pairs(name))
    section = timeline_section(policy)
    events = sorted((e for e in case.events if e.at <= as_of), key=lambda e: e.at)
    kinds = deadline_kinds(section)
    assert deadline_reads(case, events, section, kinds=kinds) == deadline_reads(
        case, events, section
    )


def test_a_case_whose_events_no_deadline_reads_shares_the_entry() -> None:
    policy = load_policy("default")
    section = timeline_section(policy)
    needed = frozenset({"limitation_days_left", "guarantee_running"})
    as_of = pendulum.datetime(2026, 6, 1, 12, tz="Asia/Shanghai")
    quiet = Case(
        case_id="EF-2",
        product="loan",
        currency="CNY",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2026, 3, 31),
        timezone="Asia/Shanghai",
    )
    busy = attrs.evolve(
        quiet,
        events=(
            Event("contact_attempt", as_of.subtract(days=9), outcome="no_answer"),
            Event("visit", as_of.subtract(days=5)),
            Event("payment", as_of.subtract(days=3), amount=Decimal(0)),  # pays nothing
            Event("demand_delivered", as_of.add(days=1)),  # after as_of
        ),
    )
    interrupted = attrs.evolve(
        quiet, events=(Event("payment", as_of.subtract(days=3), amount=Decimal(5)),)
    )
    assert deadline_reads(busy, [e for e in busy.events if e.at <= as_of], section) == ()
    cache: dict[Any, Any] = policy.memo("timeline_state_cache", dict)
    cache.clear()
    # (Only deadline fields are needed: the steps, which read the facts, are left out.)
    facts = state_facts(quiet, as_of, policy, {}, needed)
    assert len(cache) == 1
    assert state_facts(busy, as_of, policy, {}, needed) == facts
    assert len(cache) == 1  # the same entry
    moved = state_facts(interrupted, as_of, policy, {}, needed)
    assert len(cache) == 2
    assert moved["limitation_days_left"] > facts["limitation_days_left"]  # restarted
    assert moved == _reference(interrupted, as_of, policy)


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    due_date = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 200)))
    due = pendulum.datetime(due_date.year, due_date.month, due_date.day, tz=zone)
    events = [_event(draw, due, days=300) for _ in range(draw(st.integers(0, 5)))]
    return Case(
        case_id=f"EF-{draw(st.integers(0, 9))}",
        product=draw(st.sampled_from(["loan", "receivable", "credit_card", "property_fee"])),
        currency="CNY",
        principal=Decimal(100000),
        overdue_amount=Decimal(draw(st.sampled_from([0, 5000]))),
        due_date=due_date,
        timezone=zone,
        events=tuple(events),
        guarantors=(Guarantor("G-1"),) if draw(st.booleans()) else (),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=st.lists(_cases(), min_size=1, max_size=4),
    offsets=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=3),
)
def test_what_one_derivation_remembers_serves_that_derivation_alone(
    cases: list[Case], offsets: list[int]
) -> None:
    # One engine decides the cases in turn, each at several instants, the same case
    # object again and an equal one; a fresh engine decides each alone. Same bytes.
    engine = Engine(load_policy("default"), backend="python")
    base = pendulum.datetime(2026, 2, 1, 9, tz="UTC")
    order = [(c, base.add(days=d)) for d in offsets for c in cases]
    order += [(attrs.evolve(c), at) for c, at in order[:2]]
    for case, as_of in order:
        try:
            got = engine.decide(case, as_of=as_of).to_json()
        except CollectRulesError as error:
            with pytest.raises(type(error)):
                Engine(load_policy("default"), backend="python").decide(case, as_of=as_of)
            continue
        fresh = Engine(load_policy("default"), backend="python")
        assert got == fresh.decide(case, as_of=as_of).to_json()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases(), days=st.integers(min_value=0, max_value=300), data=st.data())
def test_promises_contact_facts_and_emergencies_are_what_they_were(
    case: Case, days: int, data: st.DataObject
) -> None:
    policy = load_policy("default")
    as_of = pendulum.datetime(2026, 2, 1, 9, tz="UTC").add(days=days)
    if case.events and data.draw(st.booleans()):
        # Shortly after one of its events: promises stand, attempts are fresh.
        event = data.draw(st.sampled_from(case.events))
        as_of = event.at.add(hours=data.draw(st.integers(min_value=0, max_value=72)))
    rules = promise_rules(policy)
    derived = derive(case, as_of, policy)  # remembers this case's events and promises
    assert derived_promise_signals(case, as_of, policy) == promise_signals(
        evaluate_promises(case, as_of, rules)
    )
    expected = timeline_facts(case, as_of, rules)
    assert {k: derived.facts[k] for k in expected} == expected
    section = emergencies_of(policy)
    assert section is not None
    found = open_emergencies(case, as_of, section)
    # Looked for on every event, as before the quick look at the kinds.
    events = sorted((e for e in case.events if e.at <= as_of), key=lambda e: e.at)
    opened = {e.kind.value for e in events} & {k.value for k in section.kinds}
    assert {e.kind.value for e in found if not e.derived} == opened


def test_the_events_remembered_are_those_of_this_case_at_this_instant() -> None:
    policy = load_policy("default")
    case = Case(
        case_id="EF-4",
        product="loan",
        currency="CNY",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2026, 3, 31),
        timezone="Asia/Shanghai",
        events=(
            Event("visit", pendulum.datetime(2026, 4, 3, tz="Asia/Shanghai")),
            Event("payment", pendulum.datetime(2026, 4, 2, tz="UTC"), amount=Decimal(5)),
        ),
    )
    early = pendulum.datetime(2026, 4, 2, 12, tz="UTC")
    late = pendulum.datetime(2026, 4, 5, tz="UTC")
    assert [e.kind.value for e in case_events(policy, case, early).events] == ["payment"]
    assert [e.kind.value for e in case_events(policy, case, late).events] == ["payment", "visit"]
    # An equal instant, another object: its own entry (comparisons with it may differ).
    again = pendulum.datetime(2026, 4, 5, tz="UTC")
    assert case_events(policy, case, again) is not case_events(policy, case, late)
    other = attrs.evolve(case)
    assert case_events(policy, other, late).case is other


def test_a_standing_promise_is_in_the_facts() -> None:
    policy = load_policy("default")
    made = pendulum.datetime(2026, 4, 2, 10, tz="Asia/Shanghai")
    case = Case(
        case_id="EF-5",
        product="loan",
        currency="CNY",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2026, 3, 31),
        timezone="Asia/Shanghai",
        events=(
            Event("promise_made", made, amount=Decimal(100), promised_date=dt.date(2026, 4, 4)),
            Event("payment", made.add(hours=1), amount=Decimal(10)),
        ),
    )
    facts = derive(case, made.add(days=1), policy).facts
    assert (facts["promise_standing"], facts["promise_days"]) == (True, 2)
    assert facts["paid_since_due"] == 10 * MONEY_SCALE
    broken = derive(case, made.add(days=5), policy)
    assert broken.facts["promise_standing"] is False
    assert [s.kind for s in broken.derived_signals if s.kind.startswith("promise")] == [
        "promise_broken"
    ]


def test_absconded_counts_the_attempts_before_the_quick_look_gives_up() -> None:
    policy = load_policy("default")
    section = emergencies_of(policy)
    assert section is not None
    assert section.unreachable_attempts == 10
    as_of = pendulum.datetime(2026, 6, 1, tz="Asia/Shanghai")
    attempts = [
        Event("contact_attempt", as_of.subtract(hours=i + 1), outcome="no_answer")
        for i in range(10)
    ]
    case = Case(
        case_id="EF-3",
        product="loan",
        currency="CNY",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2026, 3, 31),
        timezone="Asia/Shanghai",
        events=tuple(attempts[:9]),
    )
    assert open_emergencies(case, as_of, section) == ()
    found = open_emergencies(attrs.evolve(case, events=tuple(attempts)), as_of, section)
    assert [(e.kind.value, e.derived) for e in found] == [("absconded", True)]


_KINDS = st.one_of(
    st.sampled_from(["partial_payment", "unreachable", "promise_kept", "commitment_signed"]),
    st.text(max_size=70),
)
_AT = st.one_of(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))]),
    ).map(pendulum.instance),
    st.datetimes(min_value=dt.datetime(1899, 12, 30), max_value=dt.datetime(2201, 1, 2)),
)
_NOTES = st.one_of(st.text(max_size=50), st.text(min_size=1990, max_size=2100))


@settings(max_examples=300, deadline=None)
@given(kind=_KINDS, at=_AT, note=_NOTES)
def test_a_derived_signal_is_the_signal_the_constructor_makes_or_its_error(
    kind: str, at: dt.datetime, note: str
) -> None:
    from collectrules.model.case import Signal, derived_signal

    refused: str | None = None
    try:
        expected = Signal(kind, at, note=note)  # type: ignore[arg-type]
    except InputError as exc:
        refused = str(exc)
    if refused is not None:
        with pytest.raises(InputError) as info:
            derived_signal(kind, at, note)  # type: ignore[arg-type]
        assert str(info.value) == refused
        return
    made = derived_signal(kind, at, note)  # type: ignore[arg-type]
    assert made == expected
    assert type(made.observed_at) is type(expected.observed_at)
    assert made.observed_at.isoformat() == expected.observed_at.isoformat()
