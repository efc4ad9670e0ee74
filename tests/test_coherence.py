"""The decision and the timeline agree (issue 9 §2, §4, §5 products): the timeline's state
as facts, the limitation period, the guarantee period, coherence as a checked invariant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, InputError, PolicyError, load_policy
from collectrules.authoring.verify import FindingKind, reproduces, verify_coherence
from collectrules.model.remedies import Remedy
from collectrules.policy import policy_from_dict
from collectrules.testing import InvariantViolation, check_coherent, dated_cases
from collectrules.timeline.evaluate import ACTIONABLE, build_timeline
from helpers import shared_engine

AS_OF = "2026-04-03T12:00:00+08:00"
OBSERVED = "2026-04-01T10:00:00+08:00"
PROFILES: dict[str, list[dict[str, Any]]] = {
    "Q1": [{"kind": "documents_provided"}, {"kind": "cash_coverage", "value": "1.5"}],
    "Q2": [
        {"kind": "documents_provided"},
        {"kind": "income_loss"},
        {"kind": "recovery_months", "value": "12"},
    ],
    "Q3": [{"kind": "refused_to_pay"}, {"kind": "cash_coverage", "value": "1.5"}],
    "Q4": [
        {"kind": "asset_transfer"},
        {"kind": "income_loss"},
        {"kind": "recovery_months", "value": "36"},
    ],
}
engine = shared_engine


def case(
    quadrant: str,
    due: str,
    *,
    product: str = "loan",
    currency: str = "CNY",
    tz: str = "Asia/Shanghai",
    guarantors: int = 0,
    events: list[dict[str, Any]] | None = None,
) -> Case:
    data: dict[str, Any] = {
        "case_id": f"{quadrant}-{product}-{due}",
        "product": product,
        "currency": currency,
        "principal": "200000.00",
        "overdue_amount": "8500.00",
        "due_date": due,
        "timezone": tz,
        "signals": [{**s, "observed_at": OBSERVED} for s in PROFILES[quadrant]],
        "guarantors": [{"id": f"G{i + 1}"} for i in range(guarantors)],
        "events": events or [],
    }
    return Case.from_dict(data)


def due_for(dpd: int) -> str:
    return (dt.date(2026, 4, 3) - dt.timedelta(days=dpd)).isoformat()


# --------------------------------------------------------------------------- facts


def test_the_timeline_state_becomes_facts() -> None:
    d = engine().decide(case("Q1", due_for(40), product="receivable"), as_of=AS_OF)
    assert d.facts["step_ar_4"] == "open"
    assert d.facts["step_ar_1"] == "breached"
    assert d.facts["step_l_24h"] == "none"  # not in the receivable plan
    assert d.facts["plan_litigate"] is True
    assert d.facts["phase"] == "P3"
    assert d.facts["steps_open"] >= 1


@pytest.mark.parametrize(("dpd", "phase"), [(0, "P1"), (14, "P2"), (15, "P3")])
def test_the_phase_turns_p3_once_the_recovery_plan_is_past_due(dpd: int, phase: str) -> None:
    # L-2W is due 14 days after the first overdue day: strong collection after it.
    c = case("Q1", due_for(dpd))
    if dpd == 0:
        c = Case.from_dict({**c.to_dict(), "overdue_amount": "0"})
    assert engine().decide(c, as_of=AS_OF).facts["phase"] == phase


def test_the_timeline_is_not_computed_for_a_policy_that_does_not_read_it() -> None:
    data = load_policy("default").data

    def lean_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        words = ("plan_", "limitation_", "guarantee_", "step_", "phase")
        return [r for r in rules if not any(w in str(r.get("when", "")) for w in words)]

    layers = [{**layer, "rules": lean_rules(layer["rules"])} for layer in data["layers"]]
    remedies = {**data["remedies"], "rules": lean_rules(data["remedies"]["rules"])}
    lean = policy_from_dict({**data, "id": "lean", "layers": layers, "remedies": remedies})
    d = Engine(lean, backend="python").decide(case("Q1", due_for(40)), as_of=AS_OF)
    assert "phase" not in d.facts
    assert "limitation_expired" not in d.facts
    assert "contact_attempts" in d.facts  # the timeline's own event facts stay


def test_a_stage_remedy_must_be_a_known_remedy() -> None:
    data = load_policy("default").data
    plans = data["timeline"]["plans"]
    bad = [{**plans["loan"][0], "remedy": "litigat"}, *plans["loan"][1:]]
    raw = {**data, "timeline": {**data["timeline"], "plans": {**plans, "loan": bad}}}
    with pytest.raises(PolicyError) as err:
        policy_from_dict(raw)
    problem = err.value.problems[0]
    assert problem.path == "timeline.plans.loan[L-DUE].remedy"
    assert "unknown remedy 'litigat'" in problem.message
    assert problem.suggestion == "litigate"


def test_a_placeholder_must_name_a_fact_field() -> None:
    data = load_policy("default").data
    rules = [dict(r) for r in data["remedies"]["rules"]]
    rules[0]["reason"] = "ends on {limitation_lastday}"
    raw = {**data, "remedies": {**data["remedies"], "rules": rules}}
    with pytest.raises(PolicyError) as err:
        policy_from_dict(raw)
    problem = err.value.problems[0]
    assert "{limitation_lastday} names no fact field or parameter" in problem.message
    assert problem.suggestion == "limitation_last_day"


# --------------------------------------------------------------------------- legal steps


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize(
    ("product", "dpd", "step"), [("receivable", 40, "AR-4"), ("property_fee", 200, "PF-4")]
)
def test_a_due_lawsuit_step_and_the_decision_agree(
    backend: str, product: str, dpd: int, step: str
) -> None:
    c = case("Q1", due_for(dpd), product=product)
    decision = engine(backend=backend).decide(c, as_of=AS_OF)
    timeline = build_timeline(c, as_of=AS_OF, policy=engine().policy)
    assert timeline.step(step).status in ACTIONABLE
    grant = decision.grant(Remedy.LITIGATE)
    assert grant is not None
    assert grant.rule_id == "R-PLAN-LITIGATE"
    assert any("Q12-NO-THREATS" in c for c in grant.conditions)


def test_before_the_legal_step_a_willing_customer_is_not_sued() -> None:
    c = case("Q2", due_for(175), product="property_fee")
    block = engine().decide(c, as_of=AS_OF).block(Remedy.LITIGATE)
    assert block is not None
    assert block.rule_id == "R-Q12-NO-SUIT"


# --------------------------------------------------------------------------- limitation


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_an_expired_claim_is_litigated_only_with_the_time_bar_condition(backend: str) -> None:
    d = engine(backend=backend).decide(case("Q3", "2022-04-01"), as_of=AS_OF)
    assert d.facts["limitation_expired"] is True
    grant = d.grant(Remedy.LITIGATE)
    assert grant is not None
    assert grant.rule_id == "R-LIMITATION-EXPIRED"
    assert "CN-LIMITATION-EXPIRED" in grant.cites
    last = d.facts["limitation_last_day"]
    assert any("may raise the time bar" in c and last in c for c in grant.conditions)


def test_the_last_day_before_expiry_is_not_expired() -> None:
    policy = engine().policy
    c = case("Q3", "2023-04-03")
    deadline = build_timeline(c, as_of=AS_OF, policy=policy).deadline("limitation")
    assert deadline.last_day is not None
    on_last_day = pendulum.datetime(
        deadline.last_day.year,
        deadline.last_day.month,
        deadline.last_day.day,
        23,
        tz="Asia/Shanghai",
    )
    d = engine().decide(c, as_of=on_last_day)
    assert d.facts["limitation_expired"] is False
    assert d.facts["limitation_days_left"] == 1
    assert d.grant(Remedy.LITIGATE).rule_id == "R-Q3-LITIGATE"  # type: ignore[union-attr]
    after = engine().decide(c, as_of=on_last_day.add(hours=2))
    assert after.facts["limitation_expired"] is True
    assert after.grant(Remedy.LITIGATE).rule_id == "R-LIMITATION-EXPIRED"  # type: ignore[union-attr]


@pytest.mark.parametrize(("left", "interrupting"), [(90, True), (91, False)])
def test_a_closing_limitation_period_allows_the_interrupting_demand(
    left: int, interrupting: bool
) -> None:
    c = case("Q4", "2023-06-01")
    deadline = build_timeline(c, as_of=AS_OF, policy=engine().policy).deadline("limitation")
    assert deadline.last_day is not None
    day = deadline.last_day - dt.timedelta(days=left - 1)
    when = pendulum.datetime(day.year, day.month, day.day, 12, tz="Asia/Shanghai")
    d = engine().decide(c, as_of=when)
    assert d.facts["limitation_days_left"] == left
    grant = d.grant(Remedy.REMIND)
    assert grant is not None
    assert (grant.rule_id == "R-LIMITATION-INTERRUPT") is interrupting
    if interrupting:
        assert "CN-LIMITATION-INTERRUPT" in grant.cites
        assert deadline.last_day.isoformat() in grant.reason
        assert any(deadline.last_day.isoformat() in c for c in grant.conditions)


def test_uk_cites_its_own_limitation_rule() -> None:
    d = engine("uk").decide(
        case("Q3", "2020-01-10", currency="GBP", tz="Europe/London"), as_of=AS_OF
    )
    grant = d.grant(Remedy.LITIGATE)
    assert grant is not None
    assert grant.cites[0] == "UK-LIMITATION"


def test_us_keeps_the_time_bar_of_its_guardrail() -> None:
    d = engine("us_regf").decide(
        case("Q3", "2022-04-01", currency="USD", tz="America/New_York"), as_of=AS_OF
    )
    assert d.block(Remedy.LITIGATE).rule_id == "R-US-TIMEBARRED"  # type: ignore[union-attr]
    assert "limitation_expired" not in d.facts


# --------------------------------------------------------------------------- guarantors


@pytest.mark.parametrize("quadrant", ["Q1", "Q2", "Q3", "Q4"])
def test_the_claim_on_the_guarantor_is_open_to_every_quadrant(quadrant: str) -> None:
    d = engine().decide(case(quadrant, "2026-03-01", guarantors=1), as_of=AS_OF)
    grant = d.grant(Remedy.CLAIM_GUARANTOR)
    assert grant is not None
    assert grant.cites == ("CN-GUARANTEE-PERIOD",)
    assert d.facts["guarantee_last_day"] in grant.reason
    assert not grant.required
    pressured = Remedy.PRESSURE_GUARANTOR in d.allowed_remedies
    assert pressured is (quadrant in ("Q3", "Q4"))  # Q12-NO-THREATS


@pytest.mark.parametrize(("left", "required"), [(30, True), (31, False)])
def test_the_claim_is_required_once_few_days_are_left(left: int, required: bool) -> None:
    c = case("Q2", "2025-10-20", guarantors=1)
    deadline = build_timeline(c, as_of=AS_OF, policy=engine().policy).deadline("guarantee", "G1")
    assert deadline.last_day is not None
    day = deadline.last_day - dt.timedelta(days=left - 1)
    d = engine().decide(
        c, as_of=pendulum.datetime(day.year, day.month, day.day, 12, tz="Asia/Shanghai")
    )
    assert d.facts["guarantee_days_left"] == left
    assert d.grant(Remedy.CLAIM_GUARANTOR).required is required  # type: ignore[union-attr]


def test_no_claim_once_the_guarantee_period_is_over_or_satisfied() -> None:
    expired = engine().decide(case("Q1", "2025-09-01", guarantors=1), as_of=AS_OF)
    assert expired.facts["guarantee_running"] is False
    assert Remedy.CLAIM_GUARANTOR not in expired.allowed_remedies
    claimed = case(
        "Q1",
        "2026-03-01",
        guarantors=1,
        events=[{"kind": "demand_delivered", "at": "2026-03-20T10:00:00+08:00", "party": "G1"}],
    )
    assert Remedy.CLAIM_GUARANTOR not in engine().decide(claimed, as_of=AS_OF).allowed_remedies


def test_claim_guarantor_has_bilingual_labels_and_is_not_pressure() -> None:
    from collectrules.model.remedies import COERCIVE_REMEDIES

    assert Remedy.CLAIM_GUARANTOR.label_zh == "向保证人主张保证责任"
    assert Remedy.CLAIM_GUARANTOR not in COERCIVE_REMEDIES


# --------------------------------------------------------------------------- products


def test_a_promise_within_three_days_holds_the_visit_and_the_decision_follows() -> None:
    promise = {
        "kind": "promise_made",
        "at": "2026-04-02T10:00:00+08:00",
        "promised_date": "2026-04-04",
        "amount": "8500.00",
    }
    c = case("Q1", due_for(2), events=[promise])
    step = build_timeline(c, as_of=AS_OF, policy=engine().policy).step("L-3D")
    assert step.status.value in ("skipped", "paused")
    d = engine().decide(c, as_of=AS_OF)
    assert d.facts["plan_visit"] is False
    assert Remedy.VISIT not in d.allowed_remedies


def test_credit_cards_get_no_day_three_visit() -> None:
    d = engine().decide(case("Q1", due_for(2), product="credit_card"), as_of=AS_OF)
    assert d.facts["plan_visit"] is False
    assert Remedy.VISIT not in d.allowed_remedies
    loan = engine().decide(case("Q1", due_for(2)), as_of=AS_OF)
    assert loan.grant(Remedy.VISIT).rule_id == "R-PLAN-VISIT"  # type: ignore[union-attr]


def test_card_hardship_instalments_under_the_card_pack() -> None:
    d = engine("cn_credit_card").decide(case("Q2", due_for(40), product="credit_card"), as_of=AS_OF)
    assert Remedy.REPLAN in d.allowed_remedies
    firing = next(f for f in d.trace if f.rule_id == "R-CARD-HARDSHIP")
    assert firing.cites == ("CN-CARD-HARDSHIP",)
    for remedy in (Remedy.EXTEND, Remedy.REFINANCE, Remedy.RESTRUCTURE):
        assert d.block(remedy).rule_id == "R-CARD-NO-LOAN-REMEDIES"  # type: ignore[union-attr]


def test_property_fees_get_pf_prin_remedies_not_loan_ones() -> None:
    d = engine().decide(case("Q2", due_for(60), product="property_fee"), as_of=AS_OF)
    assert d.grant(Remedy.REPLAN).rule_id == "R-PF-INSTALMENTS"  # type: ignore[union-attr]
    assert d.grant(Remedy.REDUCE).cites == ("PF-PRIN",)  # type: ignore[union-attr]
    for remedy in (Remedy.EXTEND, Remedy.REFINANCE, Remedy.RESTRUCTURE):
        assert d.block(remedy).rule_id == "R-PF-NO-LOAN-REMEDIES"  # type: ignore[union-attr]


def test_uk_blocks_refinancing_like_asset_sales() -> None:
    d = engine("uk").decide(
        case("Q2", due_for(60), currency="GBP", tz="Europe/London"), as_of=AS_OF
    )
    block = d.block(Remedy.REFINANCE)
    assert block is not None
    assert block.rule_id == "R-UK-NO-PRESSURE"
    assert d.block(Remedy.DISPOSE_ASSETS).rule_id == "R-UK-NO-PRESSURE"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the invariant


@pytest.mark.parametrize(
    "name", ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
)
def test_every_shipped_policy_is_coherent(name: str) -> None:
    assert check_coherent(name).policy.startswith(name + "@")


def _without_the_legal_step_rule() -> Any:
    data = load_policy("default").data
    rules = [r for r in data["remedies"]["rules"] if r["id"] != "R-PLAN-LITIGATE"]
    return policy_from_dict(
        {**data, "id": "broken", "remedies": {**data["remedies"], "rules": rules}}
    )


def test_a_contradiction_is_reported_with_a_case_and_as_of() -> None:
    broken = _without_the_legal_step_rule()
    with pytest.raises(InvariantViolation) as err:
        check_coherent(broken)
    example = err.value.counterexamples[0]
    assert example.kind == "coherence"
    assert example.facts["remedy"] == "litigate"
    assert example.facts["step"] in ("AR-4", "PF-4")
    assert example.case is not None
    c = Case.from_dict(example.case)
    step = build_timeline(c, as_of=example.as_of, policy=broken).step(example.facts["step"])
    assert step.status in ACTIONABLE
    assert (
        Remedy.LITIGATE
        not in Engine(broken, backend="python").decide(c, as_of=example.as_of).allowed_remedies
    )


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_the_verifier_finding_reproduces_on_both_back_ends(backend: str) -> None:
    broken = _without_the_legal_step_rule()
    report = verify_coherence(broken)
    findings = report.of_kind(FindingKind.COHERENCE)
    assert findings
    assert not report.ok
    assert all(reproduces(f, Engine(broken, backend=backend)) for f in findings)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["python", "durable"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_the_decision_never_contradicts_the_timeline(
    backend: str, data: st.DataObject
) -> None:
    name = data.draw(
        st.sampled_from(["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"])
    )
    policy = engine(name).policy
    c, when = data.draw(dated_cases(policy, max_kinds=4))
    try:
        decision = engine(name, backend).decide(c, as_of=when)
    except InputError:  # a case the pack cannot classify (no figure for its currency)
        return
    timeline = build_timeline(c, as_of=when, policy=policy)
    for step in timeline.steps:
        if step.stage.remedy is not None and step.status in ACTIONABLE:
            assert step.stage.remedy in decision.allowed_remedies, (step.id, step.status)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("name", ["default", "uk"])
def test_the_lawsuit_step_and_the_decision_agree_around_every_month_end(
    backend: str, name: str
) -> None:
    # AR-4 opens one calendar month after the first overdue day: 28 to 31 days. A
    # receivable due on 31 January was once decided with the step open on 1 March (day
    # 29) while the presumption, counting 30 days, still blocked litigation.
    policy = engine(name).policy
    checked = 0
    for due in ("2021-01-31", "2021-02-28", "2024-02-29", "2021-04-30", "2021-07-31"):
        base = case("Q1", dt.date.fromisoformat(due))
        # Nothing known: willingness is unknown, so the phase decides (R-P2-NO-LEGAL).
        silent = {"product": "receivable", "signals": [], "events": []}
        c = Case.from_dict({**base.to_dict(), **silent})
        for days in range(26, 35):
            for clock in ("T00:00:00+08:00", "T12:00:00+08:00"):
                day = dt.date.fromisoformat(due) + dt.timedelta(days=days)
                when = pendulum.parse(day.isoformat() + clock)
                decision = engine(name, backend).decide(c, as_of=when)
                steps = build_timeline(c, as_of=when, policy=policy).steps
                ar4 = next(s for s in steps if s.id == "AR-4")
                opened = ar4.status in ACTIONABLE
                assert (decision.facts["phase"] == "P3") == opened, (due, days, clock)
                assert ("litigate" in decision.allowed_remedies) == opened, (due, days, clock)
                checked += opened
    assert checked > 0
