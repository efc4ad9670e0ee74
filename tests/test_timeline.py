"""The timeline: stage plans as policy data, exact times, statuses, windows, properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    Engine,
    Event,
    Policy,
    PolicyError,
    Step,
    StepStatus,
    Timeline,
    build_timeline,
)
from collectrules.policy.derive import first_unreachable
from collectrules.timeline.evaluate import NOTHING_OVERDUE
from collectrules.timeline.stages import AnchorKind, Offset, OffsetUnit, Semantic
from timeline_helpers import (
    NY,
    SH,
    as_ofs,
    at,
    cases,
    default,
    event,
    loan,
    stage,
    variant,
    with_plan,
)

ROOT = Path(__file__).parent.parent


def timeline(case: Case, when: str, policy: Any = None) -> Timeline:
    return build_timeline(case, as_of=at(when), policy=policy or default())


def times(step: Step) -> tuple[str | None, str | None, str | None]:
    def fmt(value: pendulum.DateTime | None) -> str | None:
        return None if value is None else value.format("YYYY-MM-DD HH:mm Z")

    return fmt(step.opens_at), fmt(step.due_at), fmt(step.limit_at)


# --------------------------------------------------------------------------- the worked example


def test_worked_example_loan_due_2026_03_31_in_shanghai() -> None:
    tl = timeline(loan(), "2026-04-01 12:00")
    assert tl.overdue_start == at("2026-04-01 00:00")
    assert tl.overdue_start.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert times(tl.step("L-DUE")) == ("2026-03-31 00:00 +08:00", "2026-04-01 00:00 +08:00", None)
    assert times(tl.step("L-24H")) == (
        "2026-04-01 00:00 +08:00",
        "2026-04-02 00:00 +08:00",
        "2026-04-03 00:00 +08:00",
    )
    assert times(tl.step("L-3D"))[1] == "2026-04-04 00:00 +08:00"
    assert times(tl.step("L-4-7D"))[:2] == ("2026-04-04 00:00 +08:00", "2026-04-08 00:00 +08:00")
    assert times(tl.step("L-2W"))[1] == "2026-04-15 00:00 +08:00"
    assert tl.step("L-4-7D").semantic is Semantic.WINDOW
    assert tl.step("L-24H").semantic is Semantic.WITHIN


def test_worked_example_receivables() -> None:
    tl = timeline(loan(product="receivable"), "2026-04-01 12:00")
    assert tl.plan == "receivable"
    assert times(tl.step("AR-1"))[1] == "2026-04-08 00:00 +08:00"
    assert times(tl.step("AR-2"))[1] == "2026-04-15 00:00 +08:00"
    assert times(tl.step("AR-3")) == ("2026-04-22 00:00 +08:00", None, None)
    assert times(tl.step("AR-4")) == ("2026-05-01 00:00 +08:00", None, None)
    assert tl.step("AR-3").semantic is Semantic.AFTER


def test_property_fee_plan_uses_the_policys_chosen_offsets() -> None:
    tl = timeline(loan(product="property_fee"), "2026-04-01 12:00")
    assert [s.id for s in tl.steps] == ["PF-1", "PF-2", "PF-3", "PF-4"]
    assert all(s.stage.chosen for s in tl.steps)
    assert times(tl.step("PF-1"))[1] == "2026-04-16 00:00 +08:00"
    assert times(tl.step("PF-2"))[:2] == ("2026-05-01 00:00 +08:00", "2026-06-01 00:00 +08:00")
    assert times(tl.step("PF-3"))[:2] == ("2026-06-01 00:00 +08:00", "2026-07-01 00:00 +08:00")
    assert times(tl.step("PF-4"))[0] == "2026-10-01 00:00 +08:00"


def test_credit_cards_follow_the_card_plan_with_no_visit() -> None:
    tl = timeline(loan(product="credit_card"), "2026-04-01 12:00")
    assert tl.plan == "credit_card"
    assert tl.step("C-24H").due_at == at("2026-04-02 00:00")
    assert all(s.channel != "visit" for s in tl.steps)  # CARD: no day-3 home visit


def test_a_month_from_the_31st_is_the_last_day_of_the_next_month() -> None:
    policy = with_plan(stage(id="S-MO", anchor="due_date", after="1 month", within=None))
    tl = timeline(loan(due_date="2026-01-31"), "2026-02-01 12:00", policy)
    assert tl.step("S-MO").opens_at == at("2026-02-28 00:00")  # 2026-01-31 + 1 month


def test_a_month_overdue_counts_from_the_due_date() -> None:
    # AR-4, "over one month overdue": the day after 2026-01-30 + 1 month (2026-02-28), not
    # 2026-01-31 (the first day overdue) + 1 month, which is 2026-02-28 itself.
    tl = timeline(loan(product="receivable", due_date="2026-01-30"), "2026-02-01 12:00")
    assert tl.step("AR-4").opens_at == at("2026-03-01 00:00")


# --------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2026-03-31 23:59:59", StepStatus.UPCOMING),
        ("2026-04-01 00:00", StepStatus.OPEN),
        ("2026-04-02 00:00", StepStatus.OPEN),  # due_at is the last on-time instant
        ("2026-04-02 00:00:01", StepStatus.LATE),
        ("2026-04-03 00:00", StepStatus.LATE),
        ("2026-04-03 00:00:01", StepStatus.BREACHED),
    ],
)
def test_l24h_status_at_each_boundary(when: str, status: StepStatus) -> None:
    assert timeline(loan(), when).step("L-24H").status is status


@pytest.mark.parametrize(
    ("stage_id", "when", "status"),
    [
        ("L-DUE", "2026-03-31 00:00", StepStatus.OPEN),
        ("L-DUE", "2026-04-01 00:00:01", StepStatus.BREACHED),
        ("L-3D", "2026-04-04 00:00", StepStatus.OPEN),
        ("L-3D", "2026-04-04 00:00:01", StepStatus.BREACHED),  # no limit: past due is breached
        ("L-4-7D", "2026-04-03 23:59:59", StepStatus.UPCOMING),
        ("L-4-7D", "2026-04-04 00:00", StepStatus.OPEN),
        ("L-4-7D", "2026-04-08 00:00", StepStatus.OPEN),
        ("L-4-7D", "2026-04-08 00:00:01", StepStatus.BREACHED),
        ("L-2W", "2026-04-15 00:00", StepStatus.OPEN),
        ("L-2W", "2026-04-15 00:00:01", StepStatus.BREACHED),
    ],
)
def test_loan_plan_boundaries(stage_id: str, when: str, status: StepStatus) -> None:
    assert timeline(loan(), when).step(stage_id).status is status


@pytest.mark.parametrize(
    ("stage_id", "when", "status"),
    [
        ("AR-3", "2026-04-21 23:59", StepStatus.UPCOMING),
        ("AR-3", "2026-04-22 00:00", StepStatus.OPEN),
        ("AR-3", "2027-04-22 00:00", StepStatus.OPEN),  # no deadline: open until done
        ("AR-4", "2026-04-30 23:59:59", StepStatus.UPCOMING),
        ("AR-4", "2026-05-01 00:00", StepStatus.OPEN),
    ],
)
def test_receivables_boundaries(stage_id: str, when: str, status: StepStatus) -> None:
    assert timeline(loan(product="receivable"), when).step(stage_id).status is status


def test_done_says_whether_it_was_on_time() -> None:
    on_time = loan(event("contact_attempt", "2026-04-02 00:00", outcome="reached"))
    step = timeline(on_time, "2026-04-05 12:00").step("L-24H")
    assert step.status is StepStatus.DONE
    assert step.on_time is True
    assert step.done_at == at("2026-04-02 00:00")
    assert step.done_by is not None
    assert step.done_by.kind.value == "contact_attempt"
    late = loan(event("contact_attempt", "2026-04-02 10:00", outcome="reached"))
    assert timeline(late, "2026-04-05 12:00").step("L-24H").on_time is False


def test_completing_events_count_from_the_anchor_and_only_up_to_as_of() -> None:
    case = loan(
        event("contact_attempt", "2026-03-31 15:00", outcome="reached"),  # the due-date reminder
        event("contact_attempt", "2026-04-01 10:00", outcome="no_answer"),
        event("visit", "2026-04-03 10:00"),
    )
    tl = timeline(case, "2026-04-02 12:00")
    assert tl.step("L-DUE").status is StepStatus.DONE
    assert tl.step("L-24H").status is StepStatus.LATE  # the reminder came before overdue_start
    assert tl.step("L-3D").status is StepStatus.OPEN  # the visit is after as_of
    assert timeline(case, "2026-04-03 12:00").step("L-3D").status is StepStatus.DONE


def test_contact_windows_of_contact_steps() -> None:
    tl = timeline(loan(), "2026-04-01 12:00")
    window = tl.step("L-24H").contact_window
    assert window is not None
    assert (window.first_at, window.last_at) == (at("2026-04-01 08:00"), at("2026-04-01 22:00"))
    visit = tl.step("L-3D").contact_window
    assert visit is not None
    assert visit.last_at == at("2026-04-03 22:00")
    assert tl.step("L-4-7D").contact_window is None  # a report is not a contact
    assert tl.step("L-2W").contact_window is None
    assert tl.contact_hours == "08:00–22:00"


def test_unreachable_step_anchors_on_the_attempt_that_made_the_debtor_unreachable() -> None:
    tl = timeline(loan(), "2026-04-05 12:00")
    assert tl.step("L-UNREACHABLE").status is StepStatus.SKIPPED
    assert "not been found unreachable" in (tl.step("L-UNREACHABLE").reason or "")

    invalid = loan(event("contact_attempt", "2026-04-02 10:00", outcome="invalid_number"))
    step = timeline(invalid, "2026-04-02 12:00").step("L-UNREACHABLE")
    assert (step.status, step.opens_at, step.due_at) == (
        StepStatus.OPEN,
        at("2026-04-02 10:00"),
        at("2026-04-03 10:00"),
    )

    unanswered = [
        event("contact_attempt", f"2026-04-0{d} 10:00", outcome="no_answer") for d in (1, 2, 3)
    ]
    step = timeline(loan(*unanswered), "2026-04-03 12:00").step("L-UNREACHABLE")
    assert step.opens_at == at("2026-04-03 10:00")
    assert step.status is StepStatus.OPEN
    assert (
        timeline(loan(*unanswered), "2026-04-04 10:00:01").step("L-UNREACHABLE").status
        is StepStatus.BREACHED
    )

    reached = loan(*unanswered, event("contact_attempt", "2026-04-03 15:00", outcome="reached"))
    assert timeline(reached, "2026-04-05 12:00").step("L-UNREACHABLE").status is StepStatus.DONE

    interrupted = loan(
        *unanswered[:2],
        event("contact_attempt", "2026-04-02 15:00", outcome="reached"),
        unanswered[2],
    )
    assert (
        timeline(interrupted, "2026-04-05 12:00").step("L-UNREACHABLE").status is StepStatus.SKIPPED
    )


def test_stage_condition_skips_with_its_reason() -> None:
    step = timeline(loan(), "2026-04-03 12:00").step("L-UNREACHABLE")
    assert step.status is StepStatus.SKIPPED
    assert step.reason.startswith("The customer has not been found unreachable")


def test_every_step_is_skipped_when_nothing_is_overdue() -> None:
    settled = loan(product="receivable", overdue_amount="0")
    step = timeline(settled, "2026-05-02 12:00").step("AR-4")
    assert step.status is StepStatus.SKIPPED
    assert step.reason == NOTHING_OVERDUE
    assert step.opens_at == at("2026-05-01 00:00")  # the times are still given
    steps = timeline(settled, "2026-05-02 12:00").steps
    assert {(s.status, s.reason) for s in steps} == {(StepStatus.SKIPPED, NOTHING_OVERDUE)}


def test_event_anchor_waits_for_its_event() -> None:
    policy = with_plan(
        stage(
            id="S-J",
            anchor="judgment_effective",
            within="10 business days",
            channel="legal",
            completed_by=["suit_filed"],
        )
    )
    tl = timeline(loan(), "2026-04-10 12:00", policy)
    step = tl.step("S-J")
    assert (step.status, step.opens_at, step.reason) == (
        StepStatus.UPCOMING,
        None,
        "waits for the first judgment_effective event",
    )
    judged = loan(event("judgment_effective", "2026-09-24 16:00"))
    step = timeline(judged, "2026-10-01 12:00", policy).step("S-J")
    assert step.opens_at == at("2026-09-24 16:00")
    # Working days from Thursday 24 September: the 25th is Mid-Autumn Festival, the National
    # Day week is off, and Saturday 10 October is a working day.
    assert step.due_at == at("2026-10-15 16:00")
    holiday = loan(event("judgment_effective", "2026-09-25 16:00"))
    # Anchored on a holiday, counting starts at 00:00 of the next working day (Monday 28th).
    assert timeline(holiday, "2026-10-01 12:00", policy).step("S-J").due_at == at(
        "2026-10-16 00:00"
    )


def test_next_actions_are_open_late_and_breached_steps_soonest_first() -> None:
    tl = timeline(loan(), "2026-04-02 12:00")
    assert [s.id for s in tl.next_actions] == ["L-DUE", "L-24H", "L-3D", "L-2W"]
    assert [s.status for s in tl.next_actions][:2] == [StepStatus.BREACHED, StepStatus.LATE]
    ar = timeline(loan(product="receivable"), "2026-05-02 12:00")
    assert [s.id for s in ar.next_actions] == ["AR-1", "AR-2", "AR-3", "AR-4"]


def test_engine_timeline_delegates() -> None:
    engine = Engine(default(), backend="python")
    case = loan(event("contact_attempt", "2026-04-01 09:00", outcome="reached"))
    assert engine.timeline(case, as_of="2026-04-02T12:00:00+08:00") == build_timeline(
        case, as_of=at("2026-04-02 12:00"), policy=default()
    )


def test_timeline_json_is_stable_and_complete() -> None:
    case = loan(
        event("contact_attempt", "2026-04-01 09:00", outcome="reached"), guarantors=[{"id": "G-1"}]
    )
    tl = timeline(case, "2026-04-02 12:00")
    text = tl.to_json()
    assert text == timeline(case, "2026-04-02 12:00").to_json()
    data = json.loads(text)
    assert data["schema_version"] == "1"
    assert data["plan"] == "loan"
    assert data["overdue_start"] == "2026-04-01T00:00:00+08:00"
    first = data["steps"][1]
    assert first["id"] == "L-24H"
    assert first["status"] == "done"
    assert first["contact_window"] == {
        "first_at": "2026-04-01T08:00:00+08:00",
        "last_at": "2026-04-01T22:00:00+08:00",
        "feasible": True,
    }
    assert data["next_actions"] == [s.id for s in tl.next_actions]
    assert [d["kind"] for d in data["deadlines"]] == ["limitation", "guarantee", "enforcement"]


def test_as_of_must_be_aware() -> None:
    from collectrules import InputError

    with pytest.raises(InputError, match="naive"):
        build_timeline(loan(), as_of="2026-04-02T12:00:00", policy=default())


def test_a_policy_without_a_timeline_section_is_a_clear_error() -> None:
    from collectrules.policy import policy_from_dict

    data = {
        "id": "bare",
        "layers": [
            {
                "id": "quadrant",
                "values": ["Q1"],
                "default": "Q1",
                "hit_policy": "first",
                "rules": [],
            }
        ],
    }
    with pytest.raises(PolicyError, match=r"has no \[timeline\] section"):
        build_timeline(loan(), as_of=at("2026-04-02 12:00"), policy=policy_from_dict(data))


def test_a_product_without_a_plan_has_no_steps_but_its_deadlines() -> None:
    # A policy's own product that no plan names (plans merge by name with the base's,
    # so every standard product keeps a plan).
    policy = variant(
        catalogue={"products": {"mortgage": {"label_en": "mortgage", "label_zh": "按揭贷款"}}}
    )
    tl = timeline(loan(product="mortgage"), "2026-04-02 12:00", policy)
    assert (tl.plan, tl.steps) == (None, ())
    assert tl.deadlines


def test_bad_events_are_clear_errors() -> None:
    from collectrules import InputError

    with pytest.raises(InputError) as info:
        loan(
            {"kind": "vist", "at": "2026-04-01T10:00:00+08:00"},
            {"kind": "contact_attempt", "at": "2026-04-01T10:00:00+08:00"},
            {"kind": "payment", "at": "2026-04-01T10:00:00", "amount": "1"},
            {"kind": "promise_made", "at": "2026-04-01T10:00:00+08:00", "amount": "1"},
        )
    assert set(info.value.paths) == {
        "events[0].kind",
        "events[1].outcome",
        "events[2].at",
        "events[3].promised_date",
    }
    assert "(did you mean 'visit'?)" in str(info.value)


@pytest.mark.parametrize(
    ("fields", "path", "text"),
    [
        ({"kind": "vist"}, "kind", "unknown value 'vist'"),
        ({"kind": "contact_attempt", "outcome": "no_anser"}, "outcome", "unknown value"),
        ({"kind": "contact_attempt"}, "outcome", "required for a 'contact_attempt' event"),
        ({"kind": "payment"}, "amount", "required for a 'payment' event"),
        ({"kind": "promise_made", "amount": 5}, "promised_date", "required for a 'promise_made'"),
    ],
)
def test_events_built_in_python_are_checked_too(
    fields: dict[str, Any], path: str, text: str
) -> None:
    from collectrules import InputError

    with pytest.raises(InputError) as info:
        Event(at=at("2026-04-01 10:00"), **fields)
    (problem,) = info.value.problems
    assert problem.path == path
    assert text in problem.message


def test_a_timeline_off_the_calendar_is_a_clear_error() -> None:
    from collectrules import InputError

    with pytest.raises(
        InputError, match="due_date: date 9999-12-20 is outside the years 1900–2200"
    ):
        timeline(loan(due_date="9999-12-20"), "2026-04-01 12:00")
    with pytest.raises(InputError, match="did you mean 'limitation'"):
        timeline(loan(), "2026-04-01 12:00").deadline("limitaton")


# --------------------------------------------------------------------------- the policy format


def test_offsets_read_long_and_short_forms() -> None:
    assert Offset.parse("24 hours") == Offset(24, OffsetUnit.HOURS)
    assert Offset.parse("24h") == Offset(24, OffsetUnit.HOURS)
    assert Offset.parse("5 business days") == Offset(5, OffsetUnit.BUSINESS_DAYS)
    assert Offset.parse("5bd") == Offset(5, OffsetUnit.BUSINESS_DAYS)
    assert Offset.parse("2 weeks") == Offset(2, OffsetUnit.WEEKS)
    assert Offset.parse("1 month") == Offset(1, OffsetUnit.MONTHS)
    assert str(Offset(1, OffsetUnit.MONTHS)) == "1 month"
    assert str(Offset(5, OffsetUnit.BUSINESS_DAYS)) == "5 business days"


def problems_of(policy_thunk: Any) -> list[str]:
    with pytest.raises(PolicyError) as info:
        policy_thunk()
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            stage(id="L-3D", anchor="overdue_strat"),
            "timeline.plans.loan[L-3D].anchor: unknown anchor 'overdue_strat' "
            "(did you mean 'overdue_start'?)",
        ),
        (
            stage(within="3 dayz"),
            "timeline.plans.loan[S-1].within: unknown unit 'dayz' in "
            "offset '3 dayz'; use hours, days, business days, weeks or months "
            "(did you mean 'days'?)",
        ),
        (stage(within="soon"), "timeline.plans.loan[S-1].within: cannot read offset 'soon'"),
        (
            stage(within="99999 months"),
            "timeline.plans.loan[S-1].within: offset '99999 months' is too long: "
            "at most 120 months (ten years)",
        ),
        (
            stage(after="4000 days"),
            "timeline.plans.loan[S-1].after: offset '4000 days' is too long",
        ),
        (stage(within=3), "timeline.plans.loan[S-1].within: expected an offset"),
        (
            stage(within="24 hours", limit="24 hours"),
            "timeline.plans.loan[S-1].limit: the limit (24 hours) must come after the deadline",
        ),
        (
            stage(after="7 days", within="3 days"),
            "timeline.plans.loan[S-1].within: the window closes (3 days) before it opens (7 days)",
        ),
        (stage(within=None), "timeline.plans.loan[S-1]: a stage needs 'within'"),
        (
            stage(within=None, after="1 day", limit="2 days"),
            "timeline.plans.loan[S-1].limit: a limit needs a deadline",
        ),
        (
            stage(channel="phnoe"),
            "timeline.plans.loan[S-1].channel: unknown channel 'phnoe' (did you mean 'phone'?)",
        ),
        (stage(channel=None), "timeline.plans.loan[S-1].channel: required: one of phone"),
        (
            stage(completed_by=["vist"]),
            "timeline.plans.loan[S-1].completed_by: unknown event kind 'vist' "
            "(did you mean 'visit'?)",
        ),
        (
            stage(completed_by=["visit:reached"]),
            "completed_by: only contact_attempt events have an outcome, not 'visit'",
        ),
        (stage(completed_by=["contact_attempt:answered"]), "unknown contact outcome 'answered'"),
        (stage(completed_by=[]), "timeline.plans.loan[S-1].completed_by: required"),
        (
            stage(withn="3 days"),
            "timeline.plans.loan[S-1].withn: unknown key (did you mean 'within'?)",
        ),
        (stage(action=None), "timeline.plans.loan[S-1].action: required"),
        (
            stage(when="contact_atempts >= 2", reason="r"),
            "timeline.plans.loan[S-1].when: unknown name 'contact_atempts': neither a fact field "
            "nor a parameter of the policy",
        ),
        (
            stage(when="contact_attempts >= 2"),
            "timeline.plans.loan[S-1].reason: a stage with a condition needs a reason",
        ),
        (
            stage(anchor="condition"),
            "timeline.plans.loan[S-1].anchor: anchor 'condition' needs a 'when' condition",
        ),
        (
            stage(anchor="condition", when="dpd > 3", reason="r"),
            "with anchor 'condition', the condition may read only fields that events change",
        ),
        (
            stage(pauses_on_promise="yes"),
            "timeline.plans.loan[S-1].pauses_on_promise: expected true or false",
        ),
        ({"anchor": "due_date"}, "timeline.plans.loan[0].id: required"),
    ],
)
def test_bad_stages_are_reported_with_their_key_path(table: dict[str, Any], expected: str) -> None:
    found = problems_of(lambda: with_plan(table))
    assert any(expected in p for p in found), found


def test_duplicate_stage_ids() -> None:
    found = problems_of(lambda: with_plan(stage(), stage()))
    assert any("duplicate stage id 'S-1' in plan 'loan'" in p for p in found), found


@pytest.mark.parametrize(
    ("timeline_table", "expected"),
    [
        (
            {"calendar": {"country": "XX"}},
            "timeline.calendar.country: the holidays package has no calendar for country 'XX'",
        ),
        (
            {"calendar": {"country": "US", "subdivision": "NYY"}},
            "timeline.calendar.subdivision: country 'US' has no subdivision 'NYY'",
        ),
        (
            {"calendar": {"country": "CN", "extra_holidays": ["2026-13-01"]}},
            "timeline.calendar.extra_holidays: expected a date as YYYY-MM-DD",
        ),
        (
            {"calendar": {"contry": "CN", "country": "CN"}},
            "timeline.calendar.contry: unknown key (did you mean 'country'?)",
        ),
        (
            {"products": {"loans": "loan"}},
            "timeline.products.loans: unknown product 'loans' (did you mean 'loan'?)",
        ),
        (
            {"products": {"credit_card": "lon"}},
            "timeline.products.credit_card: no plan named 'lon' (did you mean 'loan'?)",
        ),
        (
            {"contact_channels": ["phone", "fax"]},
            "timeline.contact_channels: unknown channel 'fax'",
        ),
        (
            {"deadlines": {"limitation": {"interrupted_by": ["demand_deliverd"]}}},
            "timeline.deadlines.limitation.interrupted_by: unknown event kind 'demand_deliverd' "
            "(did you mean 'demand_delivered'?)",
        ),
        (
            {"deadlines": {"warning_days": -1}},
            "timeline.deadlines.warning_days: expected a non-negative whole number",
        ),
        ({"plans": {"Loan": [stage()]}}, "timeline.plans.Loan: a plan name must be snake_case"),
        ({"plans": {"loan": []}}, "timeline.plans.loan: expected an array of stages"),
        ({"plan": {}}, "timeline.plan: unknown key (did you mean 'plans'?)"),
    ],
)
def test_bad_timeline_sections_are_reported(timeline_table: dict[str, Any], expected: str) -> None:
    found = problems_of(lambda: variant(timeline=timeline_table))
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"contact_hours_start": "8am"}, "parameters.contact_hours_start: expected a local time"),
        ({"contact_hours_end": "07:00"}, "must start before they end"),
        ({"limitation_years": 0}, "parameters.limitation_years: expected a positive whole number"),
        ({"enforcement_years": 500}, "parameters.enforcement_years: expected a positive whole"),
        ({"promise_grace_days": 10**7}, "parameters.promise_grace_days: expected a non-negative"),
        ({"promise_grace_days": -1}, "parameters.promise_grace_days: expected a non-negative"),
        ({"promise_tolerance_pct": 100}, "parameters.promise_tolerance_pct: expected a percentage"),
    ],
)
def test_bad_timeline_parameters_are_reported(parameters: dict[str, Any], expected: str) -> None:
    found = problems_of(lambda: variant(parameters=parameters))
    assert any(expected in p for p in found), found


def test_errors_in_a_policy_file_carry_the_line(tmp_path: Path) -> None:
    from collectrules import load_policy

    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "default"\nid = "mine"\n\n'
        "[[timeline.plans.loan]]\n"
        'id = "L-3D"\n'
        'anchor = "overdue_strat"\n'
        'within = "3 days"\n'
        'action = "Visit."\nchannel = "visit"\nowner = "account_manager"\n'
        'completed_by = ["visit"]\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == 6
    assert str(problem).endswith(
        "mine.toml:6: timeline.plans.loan[L-3D].anchor: unknown anchor 'overdue_strat' "
        "(did you mean 'overdue_start'?)"
    )


def test_stage_conditions_read_timeline_facts_and_parameters() -> None:
    policy = with_plan(
        stage(
            id="S-2ND",
            when="contact_attempts >= unreachable_attempts",
            reason="fewer attempts than unreachable_attempts",
        )
    )
    few = loan(event("contact_attempt", "2026-04-01 10:00", outcome="no_answer"))
    assert timeline(few, "2026-04-02 12:00", policy).step("S-2ND").status is StepStatus.SKIPPED
    many = loan(
        *[event("contact_attempt", f"2026-04-01 1{h}:00", outcome="no_answer") for h in range(3)]
    )
    assert timeline(many, "2026-04-02 12:00", policy).step("S-2ND").status is StepStatus.OPEN


def test_timeline_fields_join_the_decision_schema() -> None:
    schema = default().schema()
    for name in (
        "contact_attempts",
        "contact_unanswered_streak",
        "promise_standing",
        "promise_days",
        "paid_since_due",
    ):
        assert name in schema
    engine = Engine(default(), backend="python")
    case = loan(
        event("contact_attempt", "2026-04-01 10:00", outcome="invalid_number"),
        event("payment", "2026-04-01 11:00", amount="1200.50"),
    )
    facts = engine.derive(case, as_of=at("2026-04-02 12:00")).facts
    assert facts["contact_attempts"] == 1
    assert facts["contact_invalid_number"] == 1
    assert facts["paid_since_due"] == 12_005_000  # money facts are in 10^-4 units
    assert facts["promise_standing"] is False
    assert "promise_days" not in facts


def test_every_shipped_policy_with_a_timeline_computes_one() -> None:
    from collectrules import available_policies, load_policy

    for name in available_policies():
        policy = load_policy(name)
        if "timeline" not in policy.sections:
            continue
        # EUR: a currency every shipped pack has its thresholds in.
        case = loan(currency="EUR")
        tl = build_timeline(case, as_of=at("2026-04-20 12:00"), policy=policy)
        assert tl.steps or tl.deadlines, name
        json.loads(tl.to_json())


# --------------------------------------------------------------------------- properties


def _nominal_anchor(
    step: Step, tl: Timeline, case: Case, policy: Policy
) -> pendulum.DateTime | None:
    """The instant the stage's anchor names, found without the timeline's own code (an
    ``unreachable`` anchor from the derivation's reading of the signs)."""
    anchor = step.stage.anchor
    if anchor.kind is AnchorKind.DUE_DATE:
        due = case.due_date
        return pendulum.datetime(due.year, due.month, due.day, tz=case.timezone)
    if anchor.kind is AnchorKind.OVERDUE_START:
        return tl.overdue_start
    if anchor.kind is AnchorKind.EVENT:
        assert anchor.events
        known = sorted(e.at for e in case.events if e.at <= tl.as_of and anchor.matches(e))
        return known[0] if known else None
    if anchor.kind is AnchorKind.UNREACHABLE:
        assert tl.overdue_start is not None
        return first_unreachable(case, tl.overdue_start, tl.as_of, policy)
    return tl.overdue_start  # condition: from overdue_start on


@settings(max_examples=60, deadline=None)
@given(case=cases(), when=as_ofs(), business=st.booleans())
def test_no_time_precedes_its_anchor(case: Case, when: pendulum.DateTime, business: bool) -> None:
    policy = _business_policy() if business else default()
    tl = build_timeline(case, as_of=when, policy=policy)
    for step in tl.steps:
        nominal = _nominal_anchor(step, tl, case, policy)
        if step.anchor_at is None:
            assert step.status in (StepStatus.UPCOMING, StepStatus.SKIPPED)
            if step.stage.anchor.kind is AnchorKind.EVENT:
                assert nominal is None  # it waits for an event that has not happened
            continue
        assert nominal is not None
        assert step.anchor_at >= nominal  # a promise may move it later, never earlier
        if not step.reason and step.stage.anchor.kind is not AnchorKind.CONDITION:
            assert step.anchor_at == nominal  # not moved by a promise
        assert step.opens_at is not None
        assert step.opens_at >= step.anchor_at
        if step.due_at is not None:
            assert step.due_at >= step.anchor_at
            assert step.due_at >= step.opens_at
        if step.limit_at is not None:
            assert step.due_at is not None
            assert step.limit_at >= step.due_at


BUSINESS_PLAN = (
    stage(id="B-1", within="1 business day"),
    stage(id="B-3", within="3 business days", limit="5 business days"),
    stage(
        id="B-W",
        after="2 business days",
        within="10 business days",
        channel="letter",
        completed_by=["notice_sent"],
    ),
    stage(id="B-E", anchor="promise_made", within="2 business days"),
)


@settings(max_examples=60, deadline=None)
@given(
    case=cases(product="loan"),
    when=as_ofs(days=400),
    due=st.dates(min_value=pendulum.date(2025, 12, 1), max_value=pendulum.date(2026, 12, 31)),
)
def test_business_day_stages_land_on_working_days(
    case: Case, when: pendulum.DateTime, due: Any
) -> None:
    policy = _business_policy()
    case = attrs.evolve(case, due_date=due)
    calendar = policy.sections["timeline"].calendar
    tl = build_timeline(case, as_of=when, policy=policy)
    checked = 0
    for step in tl.steps:
        stage_ = step.stage
        for offset, moment in (
            (stage_.after, step.opens_at),
            (stage_.within, step.due_at),
            (stage_.limit, step.limit_at),
        ):
            if offset is None or offset.unit is not OffsetUnit.BUSINESS_DAYS or moment is None:
                continue
            # Resumed steps too: a time pushed to the end of a promise stays on a working day.
            assert calendar.is_working_day(moment.in_timezone(SH).date()), (step.id, moment)
            checked += 1
    assert checked >= 5  # B-1 due, B-3 due and limit, B-W opens and due, at least


def test_a_business_day_step_resuming_after_a_promise_stays_on_working_days() -> None:
    # B-3 (due in 3 business days, limit 5) is late when the promise is made on Wednesday
    # 8 April. The promise ends at 00:00 on Sunday 12 April: the step resumes then, and its
    # deadline, pushed to the resumption, moves on to Monday 13 April.
    case = loan(
        event("promise_made", "2026-04-08 10:00", promised_date="2026-04-10", amount="5000")
    )
    step = timeline(case, "2026-04-12 12:00", _business_policy()).step("B-3")
    assert step.opens_at == at("2026-04-12 00:00")
    assert step.due_at == at("2026-04-13 00:00")
    assert step.limit_at == at("2026-04-14 00:00")
    assert step.status is StepStatus.OPEN
    assert step.reason is not None
    assert step.reason.startswith("resumed at 2026-04-12 00:00")


@cache
def _business_policy() -> Policy:
    return with_plan(*BUSINESS_PLAN)


@st.composite
def completing_events(draw: st.DrawFn, steps: tuple[Step, ...]) -> Event:
    """An event that completes one of the plan's stages."""
    step = draw(st.sampled_from(steps))
    matcher = draw(st.sampled_from(step.stage.completed_by))
    minutes = draw(st.integers(min_value=0, max_value=40 * 24 * 60))
    when = pendulum.datetime(2026, 3, 31, tz=SH).add(minutes=minutes)
    outcome = None if matcher.outcome is None else matcher.outcome.value
    if matcher.kind.value == "contact_attempt" and outcome is None:
        outcome = "reached"
    return Event(
        kind=matcher.kind,
        at=when,
        outcome=outcome,
        amount=1000 if matcher.kind.value == "payment" else None,
    )


@settings(max_examples=80, deadline=None)
@given(data=st.data(), case=cases(), when=as_ofs())
def test_a_completing_event_never_moves_another_step_earlier(
    data: st.DataObject, case: Case, when: pendulum.DateTime
) -> None:
    before = build_timeline(case, as_of=when, policy=default())
    if not before.steps:
        return
    added = data.draw(completing_events(before.steps))
    after = build_timeline(
        attrs.evolve(case, events=(*case.events, added)), as_of=when, policy=default()
    )
    for old, new in zip(before.steps, after.steps, strict=True):
        if old.stage.completed_by_event(added):
            continue
        for name in ("anchor_at", "opens_at", "due_at", "limit_at"):
            a, b = getattr(old, name), getattr(new, name)
            if a is not None and b is not None:
                assert b >= a, (old.id, name, a, b)


@settings(max_examples=40, deadline=None)
@given(day=st.integers(min_value=0, max_value=20), zone=st.sampled_from([NY, SH, "Europe/London"]))
def test_24_hours_are_24_elapsed_hours_across_dst(day: int, zone: str) -> None:
    # New York springs forward on 2026-03-08, London on 2026-03-29.
    due = pendulum.date(2026, 2, 28).add(days=day)
    case = loan(due_date=due.isoformat(), timezone=zone)
    step = build_timeline(case, as_of=at("2026-03-20 12:00", zone), policy=default()).step("L-24H")
    assert step.opens_at is not None
    assert step.due_at is not None
    assert step.limit_at is not None
    assert step.due_at.timestamp() - step.opens_at.timestamp() == 24 * 3600
    assert step.limit_at.timestamp() - step.opens_at.timestamp() == 48 * 3600


def test_us_case_across_the_2026_03_08_change() -> None:
    case = loan(due_date="2026-03-07", timezone=NY)
    tl = build_timeline(case, as_of=at("2026-03-08 12:00", NY), policy=default())
    step = tl.step("L-24H")
    assert step.opens_at == at("2026-03-08 00:00", NY)  # still EST, -05:00
    assert step.opens_at is not None
    assert step.opens_at.utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]
    assert step.due_at == at("2026-03-09 01:00", NY)  # 24 elapsed hours: 01:00 EDT
    assert tl.step("L-3D").due_at == at("2026-03-11 00:00", NY)  # calendar days keep 00:00
    window = step.contact_window
    assert window is not None
    assert window.last_at == at("2026-03-08 22:00", NY)


# --------------------------------------------------------------------------- machine time zone

_SUBRUN = "COLLECTRULES_TZ_SUBRUN"
_MODULES = [
    "tests/test_timeline.py",
    "tests/test_calendars.py",
    "tests/test_deadlines.py",
    "tests/test_promises.py",
]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_results_do_not_depend_on_the_machines_time_zone(zone: str) -> None:
    if os.environ.get(_SUBRUN):
        # Inside the re-run: the machine's local zone is the one the parent asked for.
        wanted = os.environ[_SUBRUN]
        offset = time.localtime(1_775_000_000).tm_gmtoff  # 2026-03-31
        assert offset == {"UTC": 0, "Asia/Shanghai": 8 * 3600}[wanted]
        return
    env = {**os.environ, "TZ": zone, _SUBRUN: zone}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *_MODULES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_build_timeline_takes_a_policy_by_name_or_path_as_the_engine_does() -> None:
    """A name gave an ``AttributeError``; it is read as ``load_policy`` reads it."""
    case = loan()
    by_object = build_timeline(case, as_of=at("2026-04-02 10:00"), policy=default())
    by_name = build_timeline(case, as_of=at("2026-04-02 10:00"), policy="default")
    assert by_name == by_object
    with pytest.raises(PolicyError, match="got int"):
        build_timeline(case, as_of=at("2026-04-02 10:00"), policy=5)  # type: ignore[arg-type]


def test_a_step_anchored_on_unreachable_counts_from_the_sign_not_the_first_day_overdue() -> None:
    # Hypothesis found it: an invalid number recorded at the instant the debtor was
    # reached is a sign in force from that instant (the later record wins), so the
    # L-UNREACHABLE step counts from 00:01, not from the first day overdue's 00:00.
    case = Case.from_dict(
        {
            "case_id": "H-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "0",
            "due_date": "2026-03-31",
            "timezone": "Asia/Shanghai",
            "events": [
                {"kind": "contact_attempt", "at": "2026-04-01T00:01:00+08:00", "outcome": o}
                for o in ("reached", "invalid_number")
            ],
        }
    )
    when = pendulum.parse("2026-04-02T00:01:00+08:00")
    assert isinstance(when, pendulum.DateTime)
    policy = default()
    tl = build_timeline(case, as_of=when, policy=policy)
    steps = [s for s in tl.steps if s.stage.anchor.kind is AnchorKind.UNREACHABLE]
    assert steps
    for step in steps:
        assert step.anchor_at == pendulum.parse("2026-04-01T00:01:00+08:00")
        assert step.anchor_at == _nominal_anchor(step, tl, case, policy)
