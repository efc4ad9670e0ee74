"""Promises to pay: kept, broken, superseded; derived signals; paused and resumed steps."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    Engine,
    Promise,
    PromiseStatus,
    StepStatus,
    Timeline,
    build_timeline,
)
from collectrules.policy import policy_from_dict
from collectrules.timeline.evaluate import derived_promise_signals, timeline_facts
from collectrules.timeline.promises import evaluate_promises, pause_spans, promise_signals
from collectrules.timeline.stages import PromiseRules
from timeline_helpers import at, default, event, loan

RULES = PromiseRules(grace_days=1, tolerance_pct=Decimal(5))  # the default policy's


def promise(when: str, by: str, amount: str = "5000") -> dict[str, Any]:
    return event("promise_made", when, promised_date=by, amount=amount)


def pay(when: str, amount: str) -> dict[str, Any]:
    return event("payment", when, amount=amount)


def judge(case: Case, when: str) -> tuple[Promise, ...]:
    return evaluate_promises(case, at(when), RULES)


def timeline(case: Case, when: str) -> Timeline:
    return build_timeline(case, as_of=at(when), policy=default())


def test_default_policy_promise_rules() -> None:
    section = default().sections["timeline"]
    assert section.promises == RULES
    assert RULES.threshold(Decimal(5000)) == Decimal(4750)


def test_a_promise_stands_until_the_end_of_its_grace() -> None:
    case = loan(promise("2026-04-01 10:00", "2026-04-03"))
    (p,) = judge(case, "2026-04-02 12:00")
    assert p.status is PromiseStatus.STANDING
    assert p.ends_at == at("2026-04-05 00:00")  # 2026-04-03 + 1 grace day, at 24:00
    assert p.resolved_at is None
    assert judge(case, "2026-04-04 23:59:59")[0].status is PromiseStatus.STANDING
    broken = judge(case, "2026-04-05 00:00")[0]
    assert (broken.status, broken.resolved_at) == (PromiseStatus.BROKEN, at("2026-04-05 00:00"))
    assert p.describe() == "the promise made on 2026-04-01 to pay CNY 5,000.00 by 2026-04-03"


@pytest.mark.parametrize(
    ("payments", "status", "resolved"),
    [
        ([("2026-04-04 20:00", "4750")], PromiseStatus.KEPT, "2026-04-04 20:00"),  # 5% short
        ([("2026-04-04 20:00", "4749.99")], PromiseStatus.BROKEN, "2026-04-05 00:00"),
        (
            [("2026-04-02 09:00", "2000"), ("2026-04-03 09:00", "2750")],
            PromiseStatus.KEPT,
            "2026-04-03 09:00",
        ),
        ([("2026-04-01 09:00", "5000")], PromiseStatus.BROKEN, "2026-04-05 00:00"),  # before it
        ([("2026-04-05 00:00", "5000")], PromiseStatus.KEPT, "2026-04-05 00:00"),  # at its end
        ([("2026-04-05 00:00:01", "5000")], PromiseStatus.BROKEN, "2026-04-05 00:00"),  # after
    ],
)
def test_kept_or_broken(
    payments: list[tuple[str, str]], status: PromiseStatus, resolved: str
) -> None:
    case = loan(promise("2026-04-01 10:00", "2026-04-03"), *(pay(w, a) for w, a in payments))
    (p,) = judge(case, "2026-04-10 12:00")
    assert (p.status, p.resolved_at) == (status, at(resolved))


def test_a_kept_promise_is_kept_as_soon_as_paid() -> None:
    case = loan(promise("2026-04-01 10:00", "2026-04-03"), pay("2026-04-02 09:00", "5000"))
    assert judge(case, "2026-04-02 08:00")[0].status is PromiseStatus.STANDING
    assert judge(case, "2026-04-02 09:00")[0].status is PromiseStatus.KEPT


def test_a_new_promise_on_or_before_the_promised_date_supersedes() -> None:
    renegotiated = loan(
        promise("2026-04-01 10:00", "2026-04-05"), promise("2026-04-05 18:00", "2026-04-10")
    )
    first, second = judge(renegotiated, "2026-04-20 12:00")
    assert (first.status, first.resolved_at) == (PromiseStatus.SUPERSEDED, at("2026-04-05 18:00"))
    assert second.status is PromiseStatus.BROKEN
    assert [s.kind for s in promise_signals((first, second))] == ["promise_broken"]
    (span,) = pause_spans((first, second))
    assert (span.start, span.end) == (at("2026-04-01 10:00"), at("2026-04-12 00:00"))

    too_late = loan(
        promise("2026-04-01 10:00", "2026-04-05"), promise("2026-04-06 18:00", "2026-04-10")
    )  # during the grace day
    first, _ = judge(too_late, "2026-04-20 12:00")
    assert (first.status, first.resolved_at) == (PromiseStatus.BROKEN, at("2026-04-07 00:00"))


def test_derived_signals_reach_the_decision() -> None:
    engine = Engine(default(), backend="python")
    broken = loan(promise("2026-04-01 10:00", "2026-04-03"))
    standing = engine.decide(broken, as_of=at("2026-04-04 12:00"))
    assert standing.facts["promise_broken"] == 0
    # A standing promise is neither kept nor broken: nothing yet says which way it goes.
    assert standing.levels["willingness"].value == "unknown"
    decided = engine.decide(broken, as_of=at("2026-04-05 12:00"))
    assert decided.facts["promise_broken"] == 1
    assert decided.levels["willingness"].value == "unwilling"
    assert "W-PROMISE-BROKEN" in decided.levels["willingness"].rules
    assert "promise_broken" in decided.levels["willingness"].signals

    kept = loan(promise("2026-04-01 10:00", "2026-04-03"), pay("2026-04-03 10:00", "5000"))
    decided = engine.decide(kept, as_of=at("2026-04-05 12:00"))
    assert decided.facts["promise_kept"] == 1
    assert decided.facts["promise_broken"] == 0


def test_the_durable_engine_sees_the_derived_signals_too() -> None:
    engine = Engine(default())
    decided = engine.decide(
        loan(promise("2026-04-01 10:00", "2026-04-03")), as_of=at("2026-04-05 12:00")
    )
    assert decided.levels["willingness"].value == "unwilling"


def test_signals_without_a_timeline_section_use_the_parameters() -> None:
    text = (resources.files("collectrules") / "policies" / "default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    del data["timeline"]
    # without a timeline there is no timeline state: the rules that read it go too
    state = ("plan_", "limitation_", "guarantee_", "phase")
    data["remedies"]["rules"] = [
        r for r in data["remedies"]["rules"] if not any(w in r.get("when", "") for w in state)
    ]
    for layer in data["layers"]:
        layer["rules"] = [r for r in layer["rules"] if not any(w in r["when"] for w in state)]
    data["parameters"]["promise_grace_days"] = {"value": 3}
    bare = policy_from_dict(data)
    assert "timeline" not in bare.sections
    case = loan(promise("2026-04-01 10:00", "2026-04-03"))
    assert derived_promise_signals(case, at("2026-04-06 12:00"), bare) == ()  # grace: 3 days
    (signal,) = derived_promise_signals(case, at("2026-04-07 00:00"), bare)
    assert (signal.kind, signal.observed_at) == ("promise_broken", at("2026-04-07 00:00"))


def test_promise_facts() -> None:
    case = loan(promise("2026-04-01 10:00", "2026-04-03"))
    facts = timeline_facts(case, at("2026-04-02 12:00"), RULES)
    assert facts["promises_made"] == 1
    assert (facts["promise_standing"], facts["promise_days"]) == (True, 2)
    later = timeline_facts(case, at("2026-04-06 12:00"), RULES)
    assert later["promise_standing"] is False
    assert "promise_days" not in later


# --------------------------------------------------------------------------- pausing steps


def test_a_promise_pauses_the_contact_steps_and_they_resume_after_the_break() -> None:
    # Promised on the due date to pay on 2026-04-02: standing until 2026-04-04 00:00.
    case = loan(promise("2026-03-31 15:00", "2026-04-02"))
    tl = timeline(case, "2026-04-01 10:00")
    l24 = tl.step("L-24H")
    assert l24.status is StepStatus.PAUSED
    assert l24.paused_until == at("2026-04-04 00:00")
    assert l24.reason == (
        "paused while the promise made on 2026-03-31 to pay CNY 5,000.00 by 2026-04-02 stands; "
        "contact resumes at 2026-04-04 00:00 unless it is kept"
    )
    assert tl.step("L-3D").status is StepStatus.SKIPPED  # promised within 3 days: L-PROMISE3
    assert "L-PROMISE3" in (tl.step("L-3D").reason or "")
    assert tl.step("L-4-7D").status is StepStatus.UPCOMING  # not a contact step
    assert tl.step("L-2W").status is StepStatus.OPEN

    tl = timeline(case, "2026-04-04 12:00")
    l24 = tl.step("L-24H")
    assert l24.status is StepStatus.OPEN
    assert (l24.opens_at, l24.due_at, l24.limit_at) == (
        at("2026-04-04 00:00"),
        at("2026-04-05 00:00"),
        at("2026-04-06 00:00"),
    )
    assert l24.reason == (
        "resumed at 2026-04-04 00:00, after the promise made on 2026-03-31 to pay "
        "CNY 5,000.00 by 2026-04-02 was broken"
    )
    l3d = tl.step("L-3D")
    assert (l3d.status, l3d.due_at) == (StepStatus.OPEN, at("2026-04-07 00:00"))
    assert tl.step("L-4-7D").due_at == at("2026-04-08 00:00")  # unmoved
    assert timeline(case, "2026-04-05 00:00:01").step("L-24H").status is StepStatus.LATE


def test_a_step_keeps_the_time_it_had_left_rounded_up_to_whole_days() -> None:
    case = loan(promise("2026-04-01 10:05", "2026-04-08"))
    tl = timeline(case, "2026-04-03 12:00")
    l24 = tl.step("L-24H")
    assert l24.status is StepStatus.PAUSED  # the promise pauses the first contact
    assert l24.paused_until == at("2026-04-10 00:00")
    resumed = timeline(case, "2026-04-10 09:00").step("L-24H")
    # Held 8 days 13 h 55 min, rounded up to 9 days: due 2026-04-02 + 9 days.
    assert (resumed.opens_at, resumed.due_at) == (at("2026-04-10 00:00"), at("2026-04-11 00:00"))
    assert resumed.limit_at == at("2026-04-12 00:00")
    assert resumed.status is StepStatus.OPEN
    window = resumed.contact_window
    assert window is not None
    assert (window.first_at, window.last_at) == (at("2026-04-10 08:00"), at("2026-04-10 22:00"))


def test_a_promise_beyond_three_days_does_not_defer_the_visit() -> None:
    # L-PROMISE3: only a promise to pay within 3 days lets the visit wait. Promised in 7
    # days, the promise is recorded, but the visit stays due on day 3, then is breached.
    case = loan(
        event("contact_attempt", "2026-04-01 10:00", outcome="reached"),
        promise("2026-04-01 10:05", "2026-04-08"),
    )
    tl = timeline(case, "2026-04-03 12:00")
    l3d = tl.step("L-3D")
    assert (l3d.status, l3d.due_at, l3d.reason) == (
        StepStatus.OPEN,
        at("2026-04-04 00:00"),
        None,
    )
    assert [p.status for p in tl.promises] == [PromiseStatus.STANDING]
    assert timeline(case, "2026-04-05 12:00").step("L-3D").status is StepStatus.BREACHED
    within = loan(promise("2026-04-01 10:05", "2026-04-04"))
    assert timeline(within, "2026-04-03 12:00").step("L-3D").status is StepStatus.SKIPPED


def test_a_kept_promise_still_pauses_until_its_end() -> None:
    case = loan(promise("2026-03-31 15:00", "2026-04-02"), pay("2026-04-01 09:00", "5000"))
    step = timeline(case, "2026-04-02 12:00").step("L-24H")
    assert step.status is StepStatus.PAUSED
    assert step.reason == (
        "paused: the promise made on 2026-03-31 to pay CNY 5,000.00 by 2026-04-02 was kept; "
        "contact resumes at 2026-04-04 00:00"
    )
    after = timeline(case, "2026-04-04 12:00").step("L-24H")
    assert after.reason is not None
    assert after.reason.endswith("was kept")


def test_contact_during_the_pause_completes_the_step() -> None:
    case = loan(
        promise("2026-03-31 15:00", "2026-04-02"),
        event("contact_attempt", "2026-04-02 11:00", outcome="reached"),
    )
    step = timeline(case, "2026-04-02 12:00").step("L-24H")
    assert (step.status, step.on_time) == (StepStatus.DONE, True)


def test_a_step_breached_before_the_promise_stays_breached() -> None:
    case = loan(promise("2026-04-06 10:00", "2026-04-20"))
    tl = timeline(case, "2026-04-07 12:00")
    assert tl.step("L-24H").status is StepStatus.BREACHED
    assert tl.step("L-24H").reason is None


def test_the_example_file_tells_the_promise_story() -> None:
    import json
    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / "timeline_case.json"
    case = Case.from_dict(json.loads(path.read_text(encoding="utf-8")))
    tl = timeline(case, "2026-04-11 09:00")
    (p,) = tl.promises
    assert p.status is PromiseStatus.BROKEN
    assert p.paid == Decimal(3000)
    # Promised on 1 April for 8 April: not within 3 days, so the visit was never
    # deferred (L-PROMISE3), and it is now breached.
    assert tl.step("L-3D").status is StepStatus.BREACHED
    assert [s.id for s in tl.next_actions] == ["L-3D", "L-2W"]


# --------------------------------------------------------------------------- properties


@settings(max_examples=100, deadline=None)
@given(
    payments=st.lists(
        st.tuples(
            st.integers(min_value=-2 * 24 * 60, max_value=8 * 24 * 60),
            st.integers(min_value=0, max_value=3000),
        ),
        max_size=5,
    ),
    offset=st.integers(min_value=0, max_value=10 * 24 * 60),
)
def test_kept_exactly_when_payments_from_the_promise_reach_the_threshold(
    payments: list[tuple[int, int]], offset: int
) -> None:
    made = at("2026-04-01 10:00")
    events = [promise("2026-04-01 10:00", "2026-04-04", "4000")] + [
        {"kind": "payment", "at": made.add(minutes=m).isoformat(), "amount": str(a)}
        for m, a in payments
    ]
    as_of = made.add(minutes=offset)
    (p,) = evaluate_promises(loan(*events), as_of, RULES)
    ends = at("2026-04-06 00:00")
    counted = sum(a for m, a in payments if m >= 0 and made.add(minutes=m) <= min(as_of, ends))
    if counted >= 3800:
        assert p.status is PromiseStatus.KEPT
        assert p.resolved_at is not None
        assert p.resolved_at <= min(as_of, ends)
    elif as_of >= ends:
        assert p.status is PromiseStatus.BROKEN
    else:
        assert p.status is PromiseStatus.STANDING
    signals = promise_signals((p,))
    assert len(signals) == (p.status in (PromiseStatus.KEPT, PromiseStatus.BROKEN))
    assert all(s.observed_at <= as_of for s in signals)
