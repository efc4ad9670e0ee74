"""Whether the debtor can be reached is one fact: the decision's ``unreachable`` fact, the
timeline's step anchored on ``unreachable`` (L-UNREACHABLE) and the third-party rule
that needs the debtor unreachable (CN-THIRD-PARTY) read the same evidence: a manual
``unreachable`` signal, or the sign unanswered attempts in a row to the debtor or an
invalid number derive, until the debtor is reached again or another cure lifts it."""

from __future__ import annotations

from functools import cache
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Contact, Engine, Guardrails, StepStatus, load_policy
from collectrules.compliance import guardrails as gr
from collectrules.timeline.stages import AnchorKind, TimelineSection, step_field

BACKENDS = ("python", "durable")
SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")


def _anchored(policy: str, product: str) -> tuple[str, ...]:
    section = load_policy(policy).sections.get("timeline")
    if not isinstance(section, TimelineSection):
        return ()
    plan = section.plan_for(product)
    if plan is None:
        return ()
    return tuple(s.id for s in plan.stages if s.anchor.kind is AnchorKind.UNREACHABLE)


def _third_party_rules(policy: str) -> tuple[str, ...]:
    section = load_policy(policy).sections.get("guardrails")
    rules = getattr(section, "rules", ())
    return tuple(r.id for r in rules if isinstance(r, gr.ThirdPartyRule) and r.requires_unreachable)


#: The shipped policies with a step anchored on unreachable in the loan plan.
TIMELINE_POLICIES = tuple(p for p in SHIPPED if _anchored(p, "loan"))
#: The shipped policies with a third-party rule that needs the debtor unreachable.
GUARD_POLICIES = tuple(p for p in SHIPPED if _third_party_rules(p))


def test_the_shipped_policies_that_read_unreachability() -> None:
    # us_regf replaces the loan plan with its own (the validation notice first)
    assert TIMELINE_POLICIES == ("default", "cn_bank_loan", "cn_credit_card", "uk", "ifrs9")
    assert GUARD_POLICIES == ("cn_bank_loan", "cn_credit_card")
    assert _third_party_rules("cn_bank_loan") == ("CN-THIRD-PARTY",)


@cache
def engine(policy: str, backend: str) -> Engine:
    return Engine(policy, backend=backend)  # type: ignore[arg-type]


@cache
def guard(policy: str) -> Guardrails:
    return Guardrails(policy)


ZONES = ("Asia/Shanghai", "America/New_York")
OUTCOMES = ("reached", "no_answer", "invalid_number", "refused", "unreachable")


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime]:
    """A loan due on 1 March 2026, decided some days later, with contact attempts (to
    the debtor and to others), cures (payments, promises, retractions, commitments) and
    manual signals before and after ``as_of``, on whole minutes."""
    zone = draw(st.sampled_from(ZONES))
    start = pendulum.datetime(2026, 2, 25, 9, tz=zone)
    as_of = start.add(days=draw(st.integers(2, 20)), hours=draw(st.integers(0, 12)))
    minutes = st.integers(0, 26 * 24 * 60)
    events: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 12))):
        at = start.add(minutes=draw(minutes)).isoformat()
        kind = draw(
            st.sampled_from(
                ["contact_attempt"] * 6
                + ["payment", "promise_made", "retraction", "commitment_signed"]
            )
        )
        event: dict[str, Any] = {"kind": kind, "at": at}
        if kind == "contact_attempt":
            event["outcome"] = draw(st.sampled_from(OUTCOMES))
            party = draw(st.sampled_from([None, None, "debtor", "guarantor"]))
            if party is not None:
                event["party"] = party
        elif kind == "payment":
            event["amount"] = "10"
        elif kind == "promise_made":
            event.update(amount="100", promised_date="2026-04-30")
        elif kind == "retraction" and draw(st.booleans()):
            event["retracts"] = draw(st.sampled_from(["unreachable", "refused_to_pay"]))
        events.append(event)
    signals = [
        {
            "kind": draw(st.sampled_from(["unreachable", "unreachable", "partial_payment"])),
            "observed_at": start.add(minutes=draw(minutes)).isoformat(),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    case = Case.from_dict(
        {
            "case_id": "U-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "5000",
            "due_date": "2026-03-01",
            "timezone": zone,
            "events": events,
            "signals": signals,
        }
    )
    return case, as_of


#: The statuses of a step that is to be done now or later: it applies.
ACTIVE = {
    StepStatus.UPCOMING,
    StepStatus.OPEN,
    StepStatus.LATE,
    StepStatus.BREACHED,
    StepStatus.PAUSED,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), policy=st.sampled_from(TIMELINE_POLICIES), backend=st.sampled_from(BACKENDS))
def test_the_timeline_finds_the_debtor_unreachable_when_the_decision_does(
    drawn: tuple[Case, pendulum.DateTime], policy: str, backend: str
) -> None:
    case, as_of = drawn
    if policy == "ifrs9":  # the EU materiality threshold is set in EUR
        case = attrs.evolve(case, currency="EUR")
    decided = engine(policy, backend).decide(case, as_of=as_of)
    unreachable = decided.facts["unreachable"] >= 1
    timeline = engine(policy, backend).timeline(case, as_of=as_of)
    for stage_id in _anchored(policy, "loan"):
        step = timeline.step(stage_id)
        # the decision's own record of the step is the timeline's
        assert decided.facts[step_field(stage_id)] == step.status.value
        if step.status in ACTIVE:
            assert unreachable
        if unreachable:
            # to be done, or done already: another contact was reached since
            assert step.status in ACTIVE or step.status is StepStatus.DONE
            if step.anchor_at is None:  # it counts from the first day overdue
                assert step.status is StepStatus.UPCOMING
                assert step.reason == "waits for the first day overdue"
        else:
            assert step.status in (StepStatus.SKIPPED, StepStatus.DONE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), policy=st.sampled_from(GUARD_POLICIES), backend=st.sampled_from(BACKENDS))
def test_a_third_party_may_be_asked_exactly_when_the_decision_finds_the_debtor_unreachable(
    drawn: tuple[Case, pendulum.DateTime], policy: str, backend: str
) -> None:
    case, as_of = drawn
    decided = engine(policy, backend).decide(case, as_of=as_of)
    unreachable = decided.facts["unreachable"] >= 1
    # A second after as_of: the events are on whole minutes, so the contact reads what
    # the decision at as_of reads (only what comes strictly before a contact counts).
    contact = Contact("phone", "family", as_of.add(seconds=1), purpose="locate")
    verdict = guard(policy).check(case, contact)
    for rule_id in _third_party_rules(policy):
        (reason,) = (r for r in verdict.reasons if r.rule_id == rule_id)
        if unreachable:
            assert reason.effect is gr.ReasonEffect.CONDITION
            assert "cannot be reached" in reason.message
        else:
            assert reason.effect is gr.ReasonEffect.BLOCK
            assert "can still be reached" in reason.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_manual_unreachable_signal_opens_the_step_and_third_parties(backend: str) -> None:
    # Before, the decision counted the signal, while L-UNREACHABLE was skipped ("not been
    # found unreachable") and CN-THIRD-PARTY blocked the contact, both reading only the
    # contact attempts.
    as_of = pendulum.datetime(2026, 4, 5, 12, tz="Asia/Shanghai")
    case = Case.from_dict(
        {
            "case_id": "U-2",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "5000",
            "due_date": "2026-03-31",
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": "unreachable", "observed_at": "2026-04-02T10:00:00+08:00"}],
        }
    )
    cn = engine("cn_bank_loan", backend)
    decided = cn.decide(case, as_of=as_of)
    assert decided.facts["unreachable"] == 1
    step = cn.timeline(case, as_of=as_of).step("L-UNREACHABLE")
    assert step.status is StepStatus.BREACHED
    assert step.anchor_at == pendulum.datetime(2026, 4, 2, 10, tz="Asia/Shanghai")
    assert decided.facts[step_field("L-UNREACHABLE")] == "breached"
    verdict = guard("cn_bank_loan").check(case, Contact("phone", "family", as_of, purpose="locate"))
    assert verdict.allowed
    (third,) = (r for r in verdict.reasons if r.rule_id == "CN-THIRD-PARTY")
    assert "an unreachable signal, in force since 2026-04-02T10:00:00+08:00" in third.message
