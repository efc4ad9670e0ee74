"""The timeline's contact counts count the debtor's attempts (docs/reference-stages.md).

``contact_attempts``, ``contact_reached``, ``contact_no_answer``,
``contact_invalid_number``, ``contact_refused`` and ``contact_unanswered_streak`` say
"the debtor", and read a contact attempt as the evidence model does
(``concerns_debtor``): an attempt that names another ``party`` (a guarantor) counts in
none of them and does not break the debtor's unanswered streak. So the decision's counts
never contradict its ``debtor_contacted`` or its ``unreachable`` sign, a stage anchored on
a condition of the counts is not started by a guarantor reached, and the KPI contact rate
is the same right-party rate from the events as from the decisions' facts
(docs/kpis.md). These properties check that on every shipped policy.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from typing import Any

import attrs
import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Policy
from collectrules.model.time import local_midnight
from collectrules.money.kpis import Ratio, compute_kpis, events_from_rows, portfolio_from_rows
from collectrules.policy.derive import DEFAULT_UNREACHABLE_ATTEMPTS, derive
from collectrules.timeline.evaluate import build_timeline, state_facts, timeline_section
from collectrules.timeline.stages import state_fields, step_field
from helpers import shared_engine
from timeline_helpers import stage, with_plan

SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
CURRENCY = {"us_regf": "USD", "uk": "GBP", "ifrs9": "EUR"}
ZONE = {"us_regf": "America/New_York", "uk": "Europe/London", "ifrs9": "Europe/Berlin"}
OUTCOMES = ("reached", "no_answer", "refused", "invalid_number", "unreachable")
#: The contact count facts, and the outcome each one counts (``None``: every attempt).
COUNTS = {
    "contact_attempts": None,
    "contact_reached": "reached",
    "contact_no_answer": "no_answer",
    "contact_invalid_number": "invalid_number",
    "contact_refused": "refused",
}
FIELDS = (*COUNTS, "contact_unanswered_streak")

engine = shared_engine


def _expected(attempts: list[dict[str, Any]], as_of: pendulum.DateTime) -> dict[str, int]:
    """The counts and the streak, recomputed from the debtor's own attempts (no party,
    or ``"debtor"``) at or before ``as_of``: what the descriptions of the facts say."""
    own = sorted(
        (
            (pendulum.parse(a["at"]), a["outcome"])
            for a in attempts
            if a.get("party", "debtor") == "debtor" and pendulum.parse(a["at"]) <= as_of
        ),
        key=lambda pair: pair[0],
    )
    out = {
        name: sum(outcome is None or o == outcome for _, o in own)
        for name, outcome in COUNTS.items()
    }
    streak = 0
    for _, outcome in own:
        if outcome in ("reached", "refused"):
            streak = 0
        elif outcome in ("no_answer", "unreachable"):
            streak += 1
    out["contact_unanswered_streak"] = streak
    return out


@st.composite
def mixed_party_attempts(
    draw: st.DrawFn,
) -> tuple[str, dict[str, Any], list[dict[str, Any]], pendulum.DateTime]:
    """A shipped policy, a case of it with the debtor's own contact attempts, attempts on
    its guarantor (some at the same instants as the debtor's, some at ``as_of``), and an
    instant ``as_of``. Attempts may come before the due date, or after ``as_of``."""
    name = draw(st.sampled_from(SHIPPED))
    policy = engine(name).policy
    zone = ZONE.get(name, "Asia/Shanghai")
    due = dt.date(2026, 1, 5) + dt.timedelta(days=draw(st.integers(0, 60)))
    midnight = pendulum.datetime(due.year, due.month, due.day, tz=zone)
    as_of = midnight.add(days=draw(st.integers(1, 45)), hours=draw(st.integers(0, 23)))

    def attempt(at: pendulum.DateTime, party: str | None) -> dict[str, Any]:
        out = {
            "kind": "contact_attempt",
            "at": at.isoformat(),
            "outcome": draw(st.sampled_from(OUTCOMES)),
        }
        return {**out, "party": party} if party else out

    def instant() -> pendulum.DateTime:
        return midnight.add(days=draw(st.integers(-3, 40)), hours=draw(st.integers(8, 20)))

    own = [
        attempt(instant(), draw(st.sampled_from([None, "debtor"])))
        for _ in range(draw(st.integers(0, 6)))
    ]
    shared = [pendulum.parse(a["at"]) for a in own] + [as_of]
    theirs = [
        attempt(draw(st.sampled_from(shared)) if draw(st.booleans()) else instant(), "G1")
        for _ in range(draw(st.integers(1, 5)))
    ]
    data = {
        "case_id": "COUNTS",
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


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=mixed_party_attempts(), order=st.randoms(use_true_random=False))
def test_property_the_contact_counts_are_the_debtors(drawn: Any, order: Any) -> None:
    name, data, theirs, as_of = drawn
    mixed = [*data["events"], *theirs]
    order.shuffle(mixed)  # the case's order of its events is not their time order
    alone = Case.from_dict(data)
    both = Case.from_dict({**data, "events": mixed})
    before, after = (engine(name).decide(c, as_of=as_of) for c in (alone, both))
    counted = {f: after.facts[f] for f in FIELDS}
    # Attempts on the guarantor change none of the counts, nor the streak...
    assert counted == {f: before.facts[f] for f in FIELDS}, theirs
    # ...which are those of the debtor's own attempts up to as_of.
    assert counted == _expected(mixed, as_of), mixed
    # The debtor reached since the due date is the debtor contacted: contact_reached
    # counts from any time, debtor_contacted from the due date on.
    due_start = local_midnight(alone.due_date, alone.timezone)
    earlier = _expected([a for a in mixed if pendulum.parse(a["at"]) < due_start], as_of)
    if counted["contact_reached"] - earlier["contact_reached"] > 0:
        assert after.facts["debtor_contacted"] is True, mixed
    # The unanswered streak and the unreachable sign read the same attempts: a streak at
    # the policy's unreachable_attempts makes the debtor unreachable.
    parameter = engine(name).policy.parameters.get("unreachable_attempts")
    needed = DEFAULT_UNREACHABLE_ATTEMPTS if parameter is None else parameter.value
    if counted["contact_unanswered_streak"] >= needed:
        assert after.facts["unreachable"] >= 1, mixed


@cache
def _counting_plan() -> Policy:
    """The default policy with a loan plan whose stages start when a count of the
    debtor's attempts comes to hold."""
    return with_plan(
        stage(
            id="S-SILENT",
            anchor="condition",
            when="contact_unanswered_streak >= 2",
            reason="Only while the debtor does not answer.",
            within="2 days",
            completed_by=["visit"],
        ),
        stage(
            id="S-REACHED",
            anchor="condition",
            when="contact_reached >= 1",
            reason="Only once the debtor was reached.",
            within="3 days",
            completed_by=["plan_issued"],
        ),
        stage(
            id="S-TRIED",
            anchor="condition",
            when="contact_attempts >= 2",
            reason="Only after two attempts.",
            within="1 day",
            completed_by=["notice_sent"],
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=mixed_party_attempts(), in_zone=st.booleans())
def test_property_a_stage_on_the_counts_is_not_started_by_a_guarantor(
    drawn: Any, in_zone: bool
) -> None:
    # The timeline (build_timeline) and the state facts that remedy rules read (computed
    # without the timeline) agree, and neither moves when the guarantor is tried; with
    # the events in the case's zone too (not at the fixed offsets read from JSON).
    _, data, theirs, as_of = drawn
    policy = _counting_plan()
    section = timeline_section(policy)
    needed = frozenset(state_fields(section.plans))
    data = {**data, "product": "loan"}

    def case(events: list[dict[str, Any]]) -> Case:
        read = Case.from_dict({**data, "events": events})
        if not in_zone:
            return read
        zone = pendulum.timezone(read.timezone)
        moved = tuple(attrs.evolve(e, at=e.at.in_timezone(zone)) for e in read.events)
        return attrs.evolve(read, events=moved)

    seen = {}
    for events in (data["events"], [*data["events"], *theirs]):
        c = case(events)
        timeline = build_timeline(c, as_of=as_of, policy=policy)
        facts = state_facts(c, as_of, policy, derive(c, as_of, policy).facts, needed)
        statuses = {s.id: s.status.value for s in timeline.steps}
        for step_id, status in statuses.items():
            assert facts[step_field(step_id)] == status, (step_id, events)
        seen[len(events)] = (statuses, {s.id: s.anchor_at for s in timeline.steps})
    (without, with_theirs) = seen.values()
    assert with_theirs == without, theirs


def test_a_guarantor_reached_does_not_break_the_debtors_unanswered_streak() -> None:
    # Three unanswered calls to the debtor, the guarantor answering between the second
    # and the third: the debtor is unreachable, never reached, and the facts say so.
    as_of = "2026-04-03T12:00:00+08:00"

    def call(day: int, outcome: str, party: str | None = None) -> dict[str, Any]:
        out = {"kind": "contact_attempt", "at": f"2026-03-{day:02d}T10:00:00+08:00"}
        return {**out, "outcome": outcome, **({"party": party} if party else {})}

    case = Case.from_dict(
        {
            "case_id": "STREAK",
            "product": "loan",
            "currency": "CNY",
            "principal": "200000.00",
            "overdue_amount": "8500.00",
            "due_date": "2026-03-01",
            "timezone": "Asia/Shanghai",
            "guarantors": [{"id": "G1"}],
            "events": [
                call(2, "no_answer"),
                call(3, "no_answer"),
                call(4, "reached", "G1"),
                call(5, "no_answer"),
            ],
        }
    )
    for backend in ("python", "durable"):
        d = engine("default", backend).decide(case, as_of=as_of)
        assert d.facts["unreachable"] == 1
        assert d.facts["debtor_contacted"] is False
        assert d.facts["contact_reached"] == 0
        assert d.facts["contact_attempts"] == 3
        assert d.facts["contact_no_answer"] == 3
        assert d.facts["contact_unanswered_streak"] == 3


# --------------------------------------------------------------------------- KPIs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(mixed_party_attempts(), min_size=1, max_size=3))
def test_property_the_contact_rate_is_the_same_from_events_and_facts(drawn: Any) -> None:
    # A period with attempts on guarantors: the contact rate from --events (attempts in
    # the period) and from the closing decisions' facts count the same attempts, the
    # debtor's: a right-party contact rate.
    close = pendulum.datetime(2026, 5, 1, 12, tz="UTC")
    rows, events = [], []
    reached = tried = 0
    for index, (name, data, theirs, _) in enumerate(drawn):
        case_id = f"K-{index}"
        # Each case decided under its policy (every one has a timeline) at one closing
        # instant: the period is everything up to the close (no opening decisions).
        mixed = [*data["events"], *theirs]
        case = Case.from_dict({**data, "case_id": case_id, "events": mixed})
        decision = engine(name).decide(case, as_of=close)
        rows.append((f"decisions.jsonl:{index + 1}", json.loads(decision.to_json())))
        events.extend({"case_id": case_id, **e} for e in mixed)
        expected = _expected(mixed, close)
        reached += expected["contact_reached"]
        tried += expected["contact_attempts"]
    closing = portfolio_from_rows(rows)
    by_case = events_from_rows((f"events.jsonl:{i + 1}", e) for i, e in enumerate(events))
    from_facts = compute_kpis(closing).total.contact_rate
    from_events = compute_kpis(closing, events=by_case).total.contact_rate
    right_party = Ratio(Decimal(reached), Decimal(tried))
    assert from_facts == right_party
    assert from_events == right_party


def test_a_guarantor_reached_does_not_raise_the_contact_rate() -> None:
    close = "2026-05-01T00:00:00+00:00"
    events = [
        {"case_id": "A", "kind": "contact_attempt", "at": "2026-04-05T09:00:00+00:00",
         "outcome": "no_answer"},
        {"case_id": "A", "kind": "contact_attempt", "at": "2026-04-06T09:00:00+00:00",
         "outcome": "reached", "party": "G1"},
        {"case_id": "A", "kind": "contact_attempt", "at": "2026-04-07T09:00:00+00:00",
         "outcome": "reached", "party": "debtor"},
    ]  # fmt: skip
    decision = {
        "case_id": "A",
        "as_of": close,
        "quadrant": {"value": "Q2"},
        "facts": {
            "dpd": 30,
            "currency": "CNY",
            "overdue_amount": "100.00",
            "principal": "1000.00",
            "contact_attempts": 2,
            "contact_reached": 1,
        },
    }
    closing = portfolio_from_rows([("d:1", decision)])
    by_case = events_from_rows((f"e:{i}", e) for i, e in enumerate(events, 1))
    rate = compute_kpis(closing, events=by_case).total.contact_rate
    assert rate == Ratio(Decimal(1), Decimal(2))
    assert rate == compute_kpis(closing).total.contact_rate
