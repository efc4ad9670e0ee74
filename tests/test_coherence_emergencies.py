"""An open emergency (DOMAIN.md §10) reads the same in the decision, the timeline and the
worklist, on every shipped policy and on both back ends (docs/howto-emergencies.md).

The cases come from the testing kit (``collectrules.testing.strategies.cases``: days past
due, amounts and signals pinned at each policy's thresholds); their events from its
``events`` strategy, restricted to the five emergency kinds, the events that complete an
escalation plan's steps, visits and contact attempts, so that emergencies open, close
and overlap.
"""

from __future__ import annotations

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Remedy, StepStatus
from collectrules.operations.worklist import PlannedCase, work_items
from collectrules.testing.strategies import cases, events
from collectrules.timeline.emergencies import EmergencyKind, open_field
from collectrules.timeline.evaluate import ACTIONABLE
from collectrules.timeline.stages import step_field
from helpers import shared_engine

SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
AS_OF = pendulum.datetime(2026, 5, 6, 12, tz="Asia/Shanghai")
KINDS = (
    *(k.value for k in EmergencyKind),
    "emergency_reported",
    "emergency_meeting",
    "escalation_decided",
    "visit",
    "contact_attempt",
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def emergency_cases(draw: st.DrawFn, policy: str) -> Case:
    """A kit case of ``policy`` with a few emergencies and plan steps in its history."""
    case = draw(cases(policy, as_of=AS_OF, max_kinds=3))
    history = draw(
        st.lists(
            events(policy, as_of=AS_OF, kinds=KINDS, timezone=case.timezone),
            min_size=1,
            max_size=6,
        )
    )
    return attrs.evolve(case, events=tuple(history))


def _planned(policy: str, data: st.DataObject) -> PlannedCase:
    """A drawn emergency case of ``policy`` with its decision and timeline at ``AS_OF``."""
    case = data.draw(emergency_cases(policy))
    engine = shared_engine(policy)
    decision = engine.decide(case, as_of=AS_OF)
    return PlannedCase(case=case, decision=decision, timeline=engine.timeline(case, as_of=AS_OF))


@pytest.mark.parametrize("policy", SHIPPED)
@SETTINGS
@given(data=st.data())
def test_a_step_an_emergency_holds_is_never_due_nor_listed(
    policy: str, data: st.DataObject
) -> None:
    planned = _planned(policy, data)
    decision, timeline = planned.decision, planned.timeline
    held = {s.id for s in timeline.steps if s.held is not None}
    for step in timeline.steps:
        if step.id in held:
            # the work displaced is kept in ``held``, never reported as due or breached
            assert step.status in (StepStatus.PAUSED, StepStatus.SKIPPED), step
            assert step.reason
            assert "emergency" in step.reason
    # the decision's step facts count the steps as the timeline shows them
    plan = [s for s in timeline.steps if not s.stage.plan.startswith("emergency:")]
    for status in (StepStatus.OPEN, StepStatus.LATE, StepStatus.BREACHED):
        counted = decision.facts.get(f"steps_{status.value}")
        assert counted in (None, sum(s.status is status for s in plan)), status
    for step in plan:
        assert decision.facts.get(step_field(step.id), step.status.value) == step.status.value
    lines = work_items(planned, as_of=AS_OF, guardrails=None)
    assert not held & {line.step_id for line in lines}
    assert {line.step_id for line in lines} == {
        s.id for s in timeline.steps if s.status in ACTIONABLE
    }


@pytest.mark.parametrize("policy", SHIPPED)
@SETTINGS
@given(data=st.data())
def test_the_decision_reads_every_open_emergency_the_timeline_shows(
    policy: str, data: st.DataObject
) -> None:
    planned = _planned(policy, data)
    decision, timeline = planned.decision, planned.timeline
    opened = [e for e in timeline.emergencies if e.open]
    facts = decision.facts
    assert facts["emergency_open"] is bool(opened)
    assert facts["emergency_kind"] == (opened[-1].kind.value if opened else "none")
    for kind in EmergencyKind:  # each kind open, whichever came last
        assert facts[open_field(kind)] is any(e.kind is kind for e in opened), kind
    if opened:
        # E-RESPONSE: the supervisor's meeting reviews the case while any is open
        grant = decision.grant(Remedy.INTERNAL_REVIEW)
        assert grant is not None, decision.block(Remedy.INTERNAL_REVIEW)
    # A visit step the timeline holds back is a visit the decision does not allow.
    if any(s.held is not None and s.stage.channel.value == "visit" for s in timeline.steps):
        assert decision.grant(Remedy.VISIT) is None
    if any(e.kind is EmergencyKind.THREAT_TO_STAFF for e in opened):
        # E-THREAT: no field visit while the threat is open, whichever came last
        block = decision.block(Remedy.VISIT)
        assert block is not None
        assert "R-E-THREAT-NO-VISIT" in block.rules, block
    if any(e.kind is EmergencyKind.COURT_PROCEEDING for e in opened):
        # E-LITIGATION, CH-LAW: while the court hears the case it is neither handed to an
        # agency nor sold on, whichever emergency came last.
        for remedy in (Remedy.OUTSOURCE, Remedy.TRANSFER):
            assert decision.grant(remedy) is None, (remedy, decision.grant(remedy))
            block = decision.block(remedy)
            assert block is not None, remedy
            assert block.cites, remedy


@pytest.mark.parametrize("policy", SHIPPED)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_both_back_ends_decide_an_emergency_alike(policy: str, data: st.DataObject) -> None:
    case = data.draw(emergency_cases(policy))
    python = shared_engine(policy, "python").decide(case, as_of=AS_OF)
    durable = shared_engine(policy, "durable").decide(case, as_of=AS_OF)
    assert python.to_dict() == durable.to_dict()


def test_a_court_proceeding_holds_the_case_back_from_an_agency_after_a_later_emergency() -> None:
    # A court proceeding, then a refusal a day later: both open. The latest open kind is
    # the refusal, and the court proceeding still holds outsourcing and sale (E-LITIGATION).
    case = Case.from_dict(
        {
            "case_id": "E-COURT",
            "product": "loan",
            "currency": "CNY",
            "principal": "500000",
            "overdue_amount": "150000",
            "due_date": "2026-01-31",
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-02-03T10:00:00+08:00"}],
            "events": [
                {"kind": "court_proceeding", "at": "2026-05-01T10:00:00+08:00"},
                {"kind": "emergency_refusal", "at": "2026-05-02T10:00:00+08:00"},
            ],
        }
    )
    for backend in ("python", "durable"):
        decision = shared_engine("cn_bank_loan", backend).decide(case, as_of=AS_OF)
        assert decision.facts["emergency_kind"] == "emergency_refusal"
        assert decision.facts["court_proceeding_open"] is True
        for remedy in (Remedy.OUTSOURCE, Remedy.TRANSFER):
            block = decision.block(remedy)
            assert block is not None, remedy
            assert block.rule_id == "R-E-LITIGATION-HOLD", remedy


def _refused_loan(policy: str, *events: tuple[str, str]) -> Case:
    return Case.from_dict(
        {
            "case_id": "E-LATER",
            "product": "loan",
            "currency": "EUR" if policy == "ifrs9" else "CNY",  # EU-DEFAULT's threshold
            "principal": "500000",
            "overdue_amount": "150000",
            "due_date": "2026-01-31",
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-02-03T10:00:00+08:00"}],
            "events": [{"kind": kind, "at": at} for kind, at in events],
        }
    )


@pytest.mark.parametrize("policy", SHIPPED)
def test_an_absconded_debtors_assets_are_looked_for_after_a_later_emergency(policy: str) -> None:
    # The debtor absconds, then refuses through a relative a day later: both open. The
    # latest open kind is the refusal; E-ABSCOND still has the assets looked for.
    case = _refused_loan(
        policy,
        ("absconded", "2026-05-01T10:00:00+08:00"),
        ("emergency_refusal", "2026-05-02T10:00:00+08:00"),
    )
    for backend in ("python", "durable"):
        decision = shared_engine(policy, backend).decide(case, as_of=AS_OF)
        assert decision.facts["emergency_kind"] == "emergency_refusal"
        assert decision.facts["absconded_open"] is True
        assert decision.quadrant.value in ("Q3", "Q4")
        fired = {f.rule_id for f in decision.trace}
        assert "R-E-ABSCOND-ASSETS" in fired, policy


@pytest.mark.parametrize("policy", SHIPPED)
def test_a_threat_to_staff_keeps_its_reason_after_a_later_emergency(policy: str) -> None:
    case = _refused_loan(
        policy,
        ("threat_to_staff", "2026-05-01T10:00:00+08:00"),
        ("emergency_refusal", "2026-05-02T10:00:00+08:00"),
    )
    for backend in ("python", "durable"):
        decision = shared_engine(policy, backend).decide(case, as_of=AS_OF)
        block = decision.block(Remedy.VISIT)
        assert block is not None
        assert "R-E-THREAT-NO-VISIT" in block.rules, block
