"""A case with nothing past due is in phase P1: remind and educate (DOMAIN.md §2).

Nothing is past due when the due date is still ahead (or is today), or when the overdue
amount is 0: days past due are 0 either way. For every shipped policy, such a case gets

- no step of its plan that calls for a remedy while it is open, late or breached, but
  the due-date reminder (L-DUE, C-DUE) on the due date itself; a case with nothing owed
  gets no open step at all, each step skipped with the reason;
- no remedy allowed but `remind`, the P1 treatment, save an internal review while an
  emergency is open (R-EMERGENCY-REVIEW, E-RESPONSE): the remedies of the quadrants,
  the packs' severity, bad-loan and forbearance remedies all presume a missed payment,
  and `R-P1-REMIND-ONLY` blocks them with its reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, InputError
from collectrules.batch.compact import compact_row
from collectrules.model.remedies import Remedy
from collectrules.testing.strategies import cases
from collectrules.timeline.evaluate import ACTIONABLE, NOTHING_OVERDUE, Timeline, build_timeline
from helpers import shared_engine

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "uk", "us_regf", "ifrs9")
CURRENCY = {"uk": "GBP", "us_regf": "USD", "ifrs9": "EUR"}
AS_OF = "2026-04-03T12:00:00+08:00"
OBSERVED = "2026-03-01T10:00:00+08:00"
REFUSED = [{"kind": "refused_to_pay", "observed_at": OBSERVED}]
#: The remedies a case with nothing past due may get, and the rule that may give each
#: one beyond `remind`: an internal review while an emergency is open (E-RESPONSE).
P1_TREATMENT = frozenset({Remedy.REMIND})
EXCEPTIONS = {Remedy.INTERNAL_REVIEW: ("R-EMERGENCY-REVIEW", "E-RESPONSE")}
#: The steps that remind on the due date itself (L-DUE, C-DUE): the P1 reminder.
DUE_DAY_REMINDERS = frozenset({"L-DUE", "C-DUE"})
ESCALATION = (
    Remedy.LITIGATE,
    Remedy.PRESSURE_GUARANTOR,
    Remedy.NEGOTIATE,
    Remedy.VISIT,
    Remedy.OUTSOURCE,
    Remedy.TRANSFER,
    Remedy.DISPOSE_ASSETS,
    Remedy.WRITE_OFF,
)

engine = shared_engine


def case(policy: str, due: str, overdue: str, **extra: Any) -> Case:
    data: dict[str, Any] = {
        "case_id": f"P1-{due}-{overdue}",
        "product": "loan",
        "currency": CURRENCY.get(policy, "CNY"),
        "principal": "200000.00",
        "overdue_amount": overdue,
        "due_date": due,
        "timezone": "Asia/Shanghai",
        **extra,
    }
    return Case.from_dict(data)


def assert_p1(c: Case, as_of: Any, policy: str, backend: str) -> None:
    """The invariant: what a case with nothing past due may get."""
    decision = engine(policy, backend).decide(c, as_of=as_of)
    timeline = build_timeline(c, as_of=as_of, policy=engine(policy).policy)
    assert decision.facts["dpd"] == 0
    assert decision.facts.get("phase", "P1") == "P1"
    assert_steps(c, timeline)
    for grant in decision.allowed:
        assert grant.rule_id, grant
        assert grant.cites, grant
        if grant.remedy in P1_TREATMENT:
            continue
        rule, cite = EXCEPTIONS.get(grant.remedy, ("", ""))
        assert (grant.rule_id, cite in grant.cites) == (rule, True), (grant.remedy, grant.rule_id)


def assert_steps(c: Case, timeline: Timeline) -> None:
    plan = {s.id for s in timeline.steps if s.stage.plan == timeline.plan}
    for step in timeline.steps:
        if step.id not in plan:
            continue  # an emergency's response
        if c.overdue_amount <= 0:
            assert step.status not in ACTIONABLE, (step.id, step.status)
            if step.status.value == "skipped":
                assert step.reason == NOTHING_OVERDUE
        elif step.status in ACTIONABLE and step.stage.remedy is not None:
            assert step.id in DUE_DAY_REMINDERS, (step.id, step.status)
            assert step.stage.remedy is Remedy.REMIND
    for step in timeline.next_actions:
        assert step.stage.remedy in (None, Remedy.REMIND), step.id


@st.composite
def nothing_past_due(draw: st.DrawFn, policy: str) -> tuple[Case, pendulum.DateTime]:
    """A case of ``policy`` with nothing past due at the instant drawn with it: settled
    (overdue amount 0, due any time), or due today or later."""
    as_of = pendulum.parse(draw(st.sampled_from([AS_OF, "2026-06-30T23:30:00-04:00"])))
    assert isinstance(as_of, pendulum.DateTime)
    drawn = draw(
        cases(engine(policy).policy, as_of=as_of, with_events=draw(st.booleans()), max_kinds=4)
    )
    data = drawn.to_dict()
    if draw(st.booleans()):
        data["overdue_amount"] = "0"
    else:
        today = as_of.in_timezone(drawn.timezone).date()
        data["due_date"] = (today + dt.timedelta(days=draw(st.integers(0, 45)))).isoformat()
        if Decimal(data["overdue_amount"]) <= 0:
            data["overdue_amount"] = "1.00"
    data.pop("maturity_date", None)
    return Case.from_dict(data), as_of


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", SHIPPED)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_nothing_past_due_is_remind_and_educate(
    policy: str, backend: str, data: st.DataObject
) -> None:
    c, as_of = data.draw(nothing_past_due(policy))
    try:
        assert_p1(c, as_of, policy, backend)
    except InputError:  # a case the pack cannot classify (no figure for its currency)
        return


@pytest.mark.parametrize("policy", SHIPPED)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_the_backends_agree_with_nothing_past_due(
    policy: str, data: st.DataObject
) -> None:
    c, as_of = data.draw(nothing_past_due(policy))
    try:
        python = engine(policy).decide(c, as_of=as_of)
    except InputError:
        return
    durable = engine(policy, "durable").decide(c, as_of=as_of)
    assert compact_row(durable) == compact_row(python)


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", SHIPPED)
def test_a_settled_refuser_is_neither_visited_nor_sued(policy: str, backend: str) -> None:
    settled = case(policy, "2026-01-05", "0", signals=REFUSED)
    decision = engine(policy, backend).decide(settled, as_of=AS_OF)
    assert decision.willingness.value == "unwilling"  # the sign is still on record
    for remedy in ESCALATION:
        assert remedy not in decision.allowed_remedies, remedy
    block = decision.block(Remedy.LITIGATE)
    assert block is not None
    assert (block.rule_id, block.cites) == ("R-P1-REMIND-ONLY", ("P1",))
    assert decision.allowed_remedies == {Remedy.REMIND}
    assert decision.grant(Remedy.REMIND).rule_id == "R-P1-REMIND"  # type: ignore[union-attr]
    assert_p1(settled, AS_OF, policy, backend)


@pytest.mark.parametrize("product", ["loan", "property_fee", "receivable", "credit_card"])
def test_a_settled_case_has_no_open_step(product: str) -> None:
    settled = case("default", "2025-10-01", "0", product=product)
    timeline = build_timeline(settled, as_of=AS_OF, policy="default")
    assert timeline.steps
    assert all(s.status.value == "skipped" for s in timeline.steps)
    assert {s.reason for s in timeline.steps} == {NOTHING_OVERDUE}
    assert timeline.next_actions == ()
    facts = engine("default").decide(settled, as_of=AS_OF).facts
    assert not any(v is True for k, v in facts.items() if k.startswith("plan_"))
    assert facts["steps_open"] == facts["steps_late"] == facts["steps_breached"] == 0


def test_the_visit_and_the_property_visit_are_skipped_when_settled() -> None:
    loan = build_timeline(case("default", "2026-03-20", "0"), as_of=AS_OF, policy="default")
    fee = build_timeline(
        case("default", "2026-01-01", "0", product="property_fee"), as_of=AS_OF, policy="default"
    )
    for step in (loan.step("L-3D"), fee.step("PF-3")):
        assert step.status.value == "skipped"
        assert step.reason == NOTHING_OVERDUE
        assert step.due_at is not None  # the times are still given


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_refuser_before_the_due_date_waits_for_the_miss(backend: str) -> None:
    ahead = case("default", "2026-04-20", "8500.00", signals=REFUSED)
    early = engine("default", backend).decide(ahead, as_of=AS_OF)
    assert early.quadrant.value == "Q3"  # the type is known before the miss
    assert early.allowed_remedies == {Remedy.REMIND}
    for remedy in (Remedy.LITIGATE, Remedy.PRESSURE_GUARANTOR, Remedy.NEGOTIATE):
        assert early.block(remedy).rule_id == "R-P1-REMIND-ONLY"  # type: ignore[union-attr]
    # The first day overdue, the Q3 treatment applies.
    missed = engine("default", backend).decide(ahead, as_of="2026-04-21T12:00:00+08:00")
    assert missed.facts["dpd"] == 1
    assert missed.grant(Remedy.NEGOTIATE).rule_id == "R-Q3-NEGOTIATE"  # type: ignore[union-attr]
    assert Remedy.LITIGATE in missed.allowed_remedies


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_unknown_willingness_is_not_negotiated_before_the_miss(backend: str) -> None:
    ahead = case("default", "2026-04-20", "8500.00")
    early = engine("default", backend).decide(ahead, as_of=AS_OF)
    assert early.willingness.value == "unknown"
    assert Remedy.NEGOTIATE not in early.allowed_remedies
    assert "R-P2-FIND-OUT" not in {g.rule_id for g in early.allowed}
    assert early.block(Remedy.NEGOTIATE).rule_id == "R-P1-REMIND-ONLY"  # type: ignore[union-attr]
    later = engine("default", backend).decide(ahead, as_of="2026-04-22T12:00:00+08:00")
    assert later.grant(Remedy.NEGOTIATE).rule_id == "R-P2-FIND-OUT"  # type: ignore[union-attr]


def test_the_due_date_reminder_is_the_one_step_of_p1() -> None:
    due_today = case("default", "2026-04-03", "8500.00")
    timeline = build_timeline(due_today, as_of=AS_OF, policy="default")
    assert [s.id for s in timeline.next_actions] == ["L-DUE"]
    decision = engine("default").decide(due_today, as_of=AS_OF)
    assert decision.grant(Remedy.REMIND).rule_id == "R-PLAN-REMIND"  # type: ignore[union-attr]
    assert decision.allowed_remedies == {Remedy.REMIND}
    # Paid before the due date: nothing to remind of.
    paid = case("default", "2026-04-03", "0")
    assert build_timeline(paid, as_of=AS_OF, policy="default").step("L-DUE").reason == (
        NOTHING_OVERDUE
    )


def test_an_open_emergency_still_gets_its_review() -> None:
    threatened = case(
        "default",
        "2026-01-05",
        "0",
        events=[{"kind": "threat_to_staff", "at": "2026-04-01T10:00:00+08:00"}],
    )
    decision = engine("default").decide(threatened, as_of=AS_OF)
    assert decision.facts["emergency_open"] is True
    review = decision.grant(Remedy.INTERNAL_REVIEW)
    assert review is not None
    assert review.rule_id == "R-EMERGENCY-REVIEW"
    assert_p1(threatened, AS_OF, "default", "python")


def test_the_columns_agree_when_only_the_amount_tells() -> None:
    pl = pytest.importorskip("polars")
    from collectrules import frame

    # Due on as_of's date: the days past due are 0 for both; only the amount says
    # whether the due-date reminder is open.
    rows = [
        {
            "case_id": f"D-{i}",
            "product": product,
            "currency": "CNY",
            "principal": "1000",
            "overdue_amount": amount,
            "due_date": due,
            "timezone": "Asia/Shanghai",
        }
        for i, (product, amount, due) in enumerate(
            (p, a, d)
            for p in ("loan", "credit_card", "receivable")
            for a in ("0", "120.50")
            for d in ("2026-04-03", "2026-03-01", "2026-05-01")
        )
    ]
    result = frame.decide(pl.DataFrame(rows), policy="default", as_of=AS_OF)
    assert result.summary.columnar == len(rows)
    by_row = {row.pop("row"): row for row in result.decisions.to_dicts()}
    for index, raw in enumerate(rows):
        expected = compact_row(engine("default").decide(Case.from_dict(raw), as_of=AS_OF))
        got = by_row[index]
        for name in ("classes", "buckets"):
            got[name] = [(p["key"], p["value"]) for p in got[name]]
        assert got == expected, raw
