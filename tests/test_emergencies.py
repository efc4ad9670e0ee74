"""Emergencies (DOMAIN.md §10): the escalation plan on the timeline, the steps it pauses
or stops, the facts the decision reads, the derived E-ABSCOND, load errors, and the
urgency of a case, which an emergency never lowers."""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    EmergencyKind,
    Engine,
    PolicyError,
    StepStatus,
    Urgency,
    load_policy,
)
from collectrules.policy import policy_from_dict

SH = "Asia/Shanghai"
AS_OF = pendulum.datetime(2026, 4, 3, 12, tz=SH)
GOLDEN = Path(__file__).parent / "golden" / "default" / "golden_emergencies.toml"


@cache
def engine(backend: str = "python", policy: str = "default") -> Engine:
    return Engine(policy, backend=backend)  # type: ignore[arg-type]


def case(events: list[dict[str, Any]], *, due: str = "2026-04-01", **extra: Any) -> Case:
    return Case.from_dict(
        {
            "case_id": "E-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "20000",
            "due_date": due,
            "timezone": SH,
            "signals": [
                {"kind": "refused_to_pay", "observed_at": "2026-04-01T10:00:00+08:00"},
                {"kind": "cash_coverage", "observed_at": "2026-04-01T10:00:00+08:00", "value": 1.5},
            ],
            "events": events,
            **extra,
        }
    )


def ev(kind: str, when: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "at": f"{when}:00+08:00".replace(" ", "T"), **extra}


THREAT = ev("threat_to_staff", "2026-04-02 15:00", staff="wang")


# --------------------------------------------------------------------------- the timeline


def test_an_emergency_opens_its_plan_on_the_timeline() -> None:
    c = case([THREAT, ev("emergency_reported", "2026-04-02 16:00")])
    t = engine().timeline(c, as_of=AS_OF)
    (emergency,) = t.emergencies
    assert emergency.kind is EmergencyKind.THREAT_TO_STAFF
    assert emergency.open
    assert not emergency.derived
    assert t.emergency_open
    report = t.step("threat_to_staff:E-REPORT")
    assert report.status is StepStatus.DONE
    assert report.on_time
    assert report.owner == "collector"
    assert report.due_at == pendulum.datetime(2026, 4, 2, 17, tz=SH)
    meeting = t.step("threat_to_staff:E-MEETING")
    assert meeting.status is StepStatus.OPEN
    assert meeting.owner == "supervisor"
    assert meeting.due_at == pendulum.datetime(2026, 4, 4, 15, tz=SH)
    assert meeting.limit_at == pendulum.datetime(2026, 4, 7, 15, tz=SH)
    legal = t.step("threat_to_staff:E-LEGAL")
    assert legal.owner == "legal"
    assert legal.cites == ("E-RESPONSE", "CH-LAW", "E-THREAT", "CONDUCT")
    assert "threat_to_staff:E-MEETING" in [s.id for s in t.next_actions]
    data = t.to_dict()
    assert data["emergencies"][0]["kind"] == "threat_to_staff"
    assert data["emergencies"][0]["stops"] == ["visit"]


def test_late_and_breached_emergency_steps() -> None:
    c = case([THREAT])
    later = engine().timeline(c, as_of=pendulum.datetime(2026, 4, 3, 12, tz=SH))
    assert later.step("threat_to_staff:E-REPORT").status is StepStatus.LATE
    much_later = engine().timeline(c, as_of=pendulum.datetime(2026, 4, 20, 12, tz=SH))
    assert much_later.step("threat_to_staff:E-REPORT").status is StepStatus.BREACHED
    assert much_later.step("threat_to_staff:E-LEGAL").status is StepStatus.BREACHED


def test_a_threat_stops_the_visit_step_for_good() -> None:
    plain = engine().timeline(case([]), as_of=AS_OF)
    assert plain.step("L-3D").status is StepStatus.OPEN
    assert plain.emergencies == ()
    assert "emergencies" not in plain.to_dict()
    assert all("held" not in s for s in plain.to_dict()["steps"])
    done = [
        THREAT,
        ev("emergency_reported", "2026-04-02 16:00"),
        ev("emergency_meeting", "2026-04-02 18:00"),
        ev("escalation_decided", "2026-04-02 19:00"),
    ]
    t = engine().timeline(case(done), as_of=AS_OF)
    assert not t.emergency_open
    visit = t.step("L-3D")
    assert visit.status is StepStatus.SKIPPED
    assert visit.held is StepStatus.OPEN
    assert "stopped by the emergency E-THREAT" in (visit.reason or "")
    assert t.to_dict()["steps"][[s.id for s in t.steps].index("L-3D")]["held"] == "open"
    assert t.step("L-24H").held is None  # a phone step goes on


def test_a_court_proceeding_pauses_visits_while_it_is_open() -> None:
    opened = [ev("court_proceeding", "2026-04-02 09:00", party="third_party")]
    t = engine().timeline(case(opened), as_of=AS_OF)
    assert t.step("L-3D").status is StepStatus.PAUSED
    assert t.step("L-3D").held is StepStatus.OPEN
    closed = [
        *opened,
        ev("emergency_reported", "2026-04-02 10:00"),
        ev("emergency_meeting", "2026-04-02 11:00"),
        ev("escalation_decided", "2026-04-02 12:00"),
    ]
    after = engine().timeline(case(closed), as_of=AS_OF)
    assert after.step("L-3D").status is StepStatus.OPEN
    assert after.step("L-3D").held is None


def test_an_emergency_after_as_of_does_not_count() -> None:
    c = case([ev("threat_to_staff", "2026-04-05 10:00")])
    t = engine().timeline(c, as_of=AS_OF)
    assert t.emergencies == ()
    assert engine().decide(c, as_of=AS_OF).facts["emergency_open"] is False


def test_prolonged_unreachability_derives_absconded() -> None:
    attempts = [ev("contact_attempt", "2026-03-21 10:00", outcome="reached", note="talked")]
    attempts += [
        ev("contact_attempt", f"2026-03-{22 + i:02d} 10:00", outcome="no_answer") for i in range(10)
    ]
    t = engine().timeline(case(attempts), as_of=AS_OF)
    (emergency,) = t.emergencies
    assert emergency.kind is EmergencyKind.ABSCONDED
    assert emergency.derived
    assert emergency.at == pendulum.datetime(2026, 3, 31, 10, tz=SH)  # the tenth failure
    nine = engine().timeline(case(attempts[:-1]), as_of=AS_OF)
    assert nine.emergencies == ()
    reached_again = [*attempts, ev("contact_attempt", "2026-04-01 10:00", outcome="reached")]
    still = engine().timeline(case(reached_again), as_of=AS_OF)
    assert still.emergencies[0].derived  # it was derived; its plan is still to be done
    explicit = engine().timeline(
        case([ev("absconded", "2026-03-25 10:00"), *attempts]), as_of=AS_OF
    )
    assert not explicit.emergencies[0].derived
    assert explicit.emergencies[0].at == pendulum.datetime(2026, 3, 25, 10, tz=SH)


def test_the_timeline_is_deterministic() -> None:
    c = case([THREAT, ev("court_proceeding", "2026-04-01 09:00")])
    first = engine().timeline(c, as_of=AS_OF).to_json()
    assert first == engine().timeline(c, as_of=AS_OF).to_json()
    assert [e.kind.value for e in engine().timeline(c, as_of=AS_OF).emergencies] == [
        "court_proceeding",
        "threat_to_staff",
    ]


# --------------------------------------------------------------------------- the decision


def test_the_decision_reads_the_latest_open_emergency() -> None:
    c = case([ev("court_proceeding", "2026-04-01 09:00"), THREAT])
    facts = engine().decide(c, as_of=AS_OF).facts
    assert facts["emergency_open"] is True
    assert facts["emergency_kind"] == "threat_to_staff"
    none = engine().decide(case([]), as_of=AS_OF).facts
    assert (none["emergency_open"], none["emergency_kind"]) == (False, "none")


def test_no_review_or_asset_search_without_an_emergency() -> None:
    d = engine().decide(case([]), as_of=AS_OF)
    assert d.grant("internal_review") is None
    assert d.grant("investigate_assets") is None
    threat = engine().decide(case([THREAT]), as_of=AS_OF)
    grant = threat.grant("internal_review")
    assert grant is not None
    assert grant.rule_id == "R-EMERGENCY-REVIEW"
    assert "threat_to_staff" in grant.reason
    block = threat.block("visit")
    assert block is not None
    assert block.rule_id == "R-E-THREAT-NO-VISIT"


def _golden_cases() -> list[dict[str, Any]]:
    data = tomllib.loads(GOLDEN.read_text(encoding="utf-8"))
    return [{"case_id": c["id"], **c["input"]} for c in data["cases"]]


@pytest.mark.parametrize("raw", _golden_cases(), ids=lambda r: r["case_id"])
def test_both_back_ends_decide_emergencies_alike(raw: dict[str, Any]) -> None:
    c = Case.from_dict(raw)
    python = engine("python").decide(c, as_of=AS_OF).to_json()
    assert python == engine("durable").decide(c, as_of=AS_OF).to_json()


# --------------------------------------------------------------------------- load errors


def _with(change: dict[str, Any]) -> dict[str, Any]:
    data = load_policy("default").data
    section = {**data["emergencies"], **change}
    return {"extends": "default", "id": "bad", "emergencies": section}


STEP = {
    "id": "X",
    "action": "do it",
    "role": "collector",
    "within": "2 hours",
    "completed_by": ["emergency_reported"],
}


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            {"kinds": {"riot": {"plan": "response"}}},
            "emergencies.kinds.riot",
            "unknown emergency kind",
        ),
        (
            {"kinds": {"absconded": {"plan": "respons"}}},
            "emergencies.kinds.absconded.plan",
            "unknown plan",
        ),
        (
            {"kinds": {"absconded": {"plan": "response", "stops": ["vist"]}}},
            "emergencies.kinds.absconded.stops",
            "unknown channel 'vist'",
        ),
        (
            {"plans": {"response": [{**STEP, "role": "boss"}]}},
            "emergencies.plans.response[X].role",
            "collector, supervisor, legal",
        ),
        (
            {"plans": {"response": [{**STEP, "within": "2 hourz"}]}},
            "emergencies.plans.response[X].within",
            "unknown unit",
        ),
        (
            {"plans": {"response": [{**STEP, "limit": "1 hour"}]}},
            "emergencies.plans.response[X].limit",
            "comes before the due time",
        ),
        (
            {"plans": {"response": [{**STEP, "completed_by": ["emergency_report"]}]}},
            "emergencies.plans.response[X].completed_by",
            "unknown event kind",
        ),
        (
            {"plans": {"response": [{k: v for k, v in STEP.items() if k != "within"}]}},
            "emergencies.plans.response[X].within",
            "required",
        ),
        (
            {"unreachable_attempts": "absconded_after"},
            "emergencies.unreachable_attempts",
            "unknown parameter",
        ),
        ({"unreachable_attempts": 0}, "emergencies.unreachable_attempts", "from 1 to 1000"),
        ({"kinds": {}}, "emergencies.unreachable_attempts", "no [emergencies.kinds.absconded]"),
        ({"plan": {}}, "emergencies.plan", "unknown key"),
    ],
)
def test_bad_emergency_sections_are_refused_with_their_path(
    change: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(_with(change))
    problems = [p for p in info.value.problems if p.path == path]
    assert problems, [str(p) for p in info.value.problems]
    assert words in problems[0].message
    assert info.value.problems[0].source is not None or info.value.problems[0].line is None


# --------------------------------------------------------------------------- urgency


def test_urgency_orders_breached_then_hard_limit_then_emergency_then_amount() -> None:
    e = engine()
    breached = e.urgency(case([], due="2026-03-01"), as_of=AS_OF)
    fresh = e.urgency(case([], due="2026-04-03"), as_of=AS_OF)
    assert breached.breached
    assert not fresh.breached
    assert breached.key < fresh.key
    threat = e.urgency(case([THREAT], due="2026-04-03"), as_of=AS_OF)
    assert threat.emergency
    assert threat.at_least_as_urgent_as(fresh)
    big = e.urgency(case([], due="2026-04-03", overdue_amount="90000"), as_of=AS_OF)
    assert big.key < fresh.key  # the same steps, more at risk
    assert big.to_dict()["amount_at_risk"] == "90000"
    ordered = sorted([fresh, threat, breached, big], key=lambda u: u.key)
    assert ordered[0] is breached


KINDS = [k.value for k in EmergencyKind]
DONE = ["emergency_reported", "emergency_meeting", "escalation_decided"]


@st.composite
def cases_and_emergencies(draw: st.DrawFn) -> tuple[Case, Case]:
    product = draw(st.sampled_from(["loan", "receivable", "property_fee", "credit_card"]))
    due = AS_OF.date() - dt.timedelta(days=draw(st.integers(min_value=-5, max_value=400)))
    events: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        hours = draw(st.integers(min_value=1, max_value=24 * 60))
        outcome = draw(st.sampled_from(["reached", "no_answer", "invalid_number", "refused"]))
        when = AS_OF.subtract(hours=hours)
        events.append({"kind": "contact_attempt", "at": when.isoformat(), "outcome": outcome})
    base = {
        "case_id": "P-1",
        "product": product,
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": str(draw(st.integers(min_value=0, max_value=10**6))),
        "due_date": due.isoformat(),
        "timezone": SH,
        "events": events,
    }
    kind = draw(st.sampled_from(KINDS))
    start = AS_OF.subtract(hours=draw(st.integers(min_value=0, max_value=24 * 40)))
    added = [{"kind": kind, "at": start.isoformat(), "staff": "wang"}]
    for done in draw(st.lists(st.sampled_from(DONE), unique=True)):
        later = start.add(hours=draw(st.integers(min_value=0, max_value=24 * 20)))
        if later <= AS_OF:
            added.append({"kind": done, "at": later.isoformat()})
    return Case.from_dict(base), Case.from_dict({**base, "events": [*events, *added]})


@settings(max_examples=150, deadline=None)
@given(pair=cases_and_emergencies())
def test_an_emergency_never_lowers_the_urgency_of_a_case(pair: tuple[Case, Case]) -> None:
    before, after = pair
    calm: Urgency = engine().urgency(before, as_of=AS_OF)
    alarmed: Urgency = engine().urgency(after, as_of=AS_OF)
    assert alarmed.at_least_as_urgent_as(calm), (calm, alarmed)
    assert alarmed.breached >= calm.breached
