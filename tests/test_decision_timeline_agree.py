"""The decision and the timeline (and the guardrails) of one policy agree on the same case:
no field visit while the timeline holds the visit steps back for an emergency; no
contact at an hour the timeline's contact windows leave out; no deferral for a lasting
inability under the five-level policy."""

from __future__ import annotations

from functools import cache
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Contact, Engine, Guardrails, StepStatus

SH = "Asia/Shanghai"
BACKENDS = ("python", "durable")
POLICIES = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")


@cache
def engine(policy: str, backend: str = "python") -> Engine:
    return Engine(policy, backend=backend)  # type: ignore[arg-type]


def ev(kind: str, when: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "at": f"{when}:00+08:00".replace(" ", "T"), **extra}


def case(events: list[dict[str, Any]], **extra: Any) -> Case:
    """A large refused loan 95 days past due: severe, Q3 or Q4, with a visit allowed
    unless something holds it back."""
    return Case.from_dict(
        {
            "case_id": "V-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "500000",
            "overdue_amount": "150000",
            "due_date": "2026-01-31",
            "timezone": SH,
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-02-03T10:00:00+08:00"}],
            "events": events,
            **extra,
        }
    )


AS_OF = pendulum.datetime(2026, 5, 6, 12, tz=SH)
PLAN_DONE = [
    ev("emergency_reported", "2026-05-01 11:00"),
    ev("emergency_meeting", "2026-05-01 12:00"),
    ev("escalation_decided", "2026-05-01 13:00"),
]


# --------------------------------------------------------------------------- visits


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("policy", ["default", "cn_bank_loan", "cn_credit_card"])
@pytest.mark.parametrize(
    ("events", "status", "rule"),
    [
        pytest.param([ev("court_proceeding", "2026-05-01 10:00")], "paused", "R-E-NO-VISIT",
                     id="court-open"),
        pytest.param([ev("absconded", "2026-05-01 10:00")], "paused", "R-E-NO-VISIT",
                     id="absconded-open"),
        pytest.param([ev("threat_to_staff", "2026-05-01 10:00", staff="wang")], "skipped",
                     "R-E-THREAT-NO-VISIT", id="threat-open"),
        # the threat's plan done: no emergency open, and still no visit, for good
        pytest.param([ev("threat_to_staff", "2026-05-01 10:00", staff="wang"), *PLAN_DONE],
                     "skipped", "R-E-NO-VISIT", id="threat-closed"),
        # a threat, then another emergency open: the latest open kind is not the threat
        pytest.param([ev("threat_to_staff", "2026-05-01 10:00", staff="wang"), *PLAN_DONE,
                      ev("emergency_refusal", "2026-05-02 10:00")], "skipped", "R-E-NO-VISIT",
                     id="threat-then-refusal"),
    ],
)  # fmt: skip
def test_no_visit_while_an_emergency_holds_the_visit_step(
    policy: str, backend: str, events: list[dict[str, Any]], status: str, rule: str
) -> None:
    c = case(events)
    d = engine(policy, backend).decide(c, as_of=AS_OF)
    step = engine(policy, backend).timeline(c, as_of=AS_OF).step("L-3D")
    assert step.status.value == status
    assert d.facts["visit_held"] is True
    assert d.grant("visit") is None
    block = d.block("visit")
    assert block is not None
    assert block.rule_id == rule


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
def test_a_closed_court_proceeding_lets_the_visit_go_ahead_again(policy: str) -> None:
    c = case([ev("court_proceeding", "2026-05-01 10:00"), *PLAN_DONE])
    d = engine(policy).decide(c, as_of=AS_OF)
    assert engine(policy).timeline(c, as_of=AS_OF).step("L-3D").status is not StepStatus.PAUSED
    assert d.facts["visit_held"] is False
    assert d.block("visit") is None


_KINDS = ["court_proceeding", "absconded", "threat_to_staff", "emergency_refusal",
          "agreement_ended", "emergency_reported", "emergency_meeting", "escalation_decided",
          "visit"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(["default", "cn_bank_loan", "cn_credit_card", "ifrs9"]),
    events=st.lists(
        st.tuples(st.sampled_from(_KINDS), st.integers(min_value=0, max_value=8 * 24)),
        max_size=6,
    ),
)
def test_a_visit_is_allowed_only_when_the_timeline_does_not_hold_the_visit_step(
    policy: str, events: list[tuple[str, int]]
) -> None:
    start = pendulum.datetime(2026, 4, 28, 0, tz=SH)
    raw = [
        {"kind": k, "at": start.add(hours=h).isoformat(), **({"staff": "wang"} if "threat" in k
                                                               else {})}
        for k, h in events
    ]  # fmt: skip
    c = case(raw, currency="EUR" if policy == "ifrs9" else "CNY")
    d = engine(policy).decide(c, as_of=AS_OF)
    step = engine(policy).timeline(c, as_of=AS_OF).step("L-3D")
    held = step.status in (StepStatus.PAUSED, StepStatus.SKIPPED) and step.held is not None
    if step.status is not StepStatus.DONE:  # a visit made is done, held back or not
        assert d.facts["visit_held"] is held, (step.status, step.held)
    if d.facts["visit_held"]:
        assert d.grant("visit") is None, d.grant("visit")


# --------------------------------------------------------------------------- hours


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_refuses_a_call_at_an_hour_its_contact_windows_leave_out(
    policy: str,
) -> None:
    c = case([], currency="EUR" if policy == "ifrs9" else "CNY")
    night = pendulum.datetime(2026, 5, 6, 3, tz=SH)
    timeline = engine(policy).timeline(c, as_of=night)
    start, end = (pendulum.parse(t).time() for t in timeline.contact_hours.split("–"))
    assert not start <= night.time() <= end
    guard = Guardrails(policy)
    verdict = guard.check(c, Contact("phone", "debtor", night.isoformat()), history=[])
    assert not verdict.allowed
    # one rule speaks for the hours
    assert len([b for b in verdict.blocks if b.rule_id.endswith("HOURS")]) == 1
    following = guard.next_allowed(c, "phone", "debtor", after=night.isoformat(), history=[])
    assert following is not None
    assert following.time() == start
    windows = [s.contact_window for s in timeline.steps if s.contact_window is not None]
    assert all((w.first_at.time(), w.last_at.time()) == (start, end) for w in windows)
    assert windows or policy == "us_regf"  # its plan has no contact step
    evening = night.replace(hour=end.hour, minute=end.minute)
    late = evening.add(seconds=1)
    assert guard.check(c, Contact("phone", "debtor", evening.isoformat()), history=[]).allowed
    assert not guard.check(c, Contact("phone", "debtor", late.isoformat()), history=[]).allowed


# --------------------------------------------------------------------------- deferral


def _q2(signals: list[dict[str, Any]]) -> Case:
    return Case.from_dict(
        {
            "case_id": "RP-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "500000",
            "overdue_amount": "50000",
            "due_date": "2026-01-31",
            "timezone": SH,
            "signals": [
                {"kind": k, "observed_at": "2026-03-01T10:00:00+08:00", **extra}
                for k, extra in signals
            ],
        }
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("policy", ["cn_bank_loan", "cn_credit_card"])
def test_a_lasting_inability_gets_no_deferral(policy: str, backend: str) -> None:
    c = _q2([("commitment_signed", {}), ("health_issue", {})])
    d = engine(policy, backend).decide(c, as_of="2026-03-12T12:00:00+08:00")
    assert (d.quadrant.value, d.ability.value) == ("Q2", "unable")
    assert d.levels["severity"].value == "moderate"
    assert d.grant("replan") is None
    assert d.block("extend") is not None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_short_unverified_hardship_gets_a_plan_only_after_verification(backend: str) -> None:
    c = _q2([("commitment_signed", {}), ("health_issue", {}), ("recovery_months", {"value": 6})])
    d = engine("cn_bank_loan", backend).decide(c, as_of="2026-03-12T12:00:00+08:00")
    assert (d.quadrant.value, d.ability.value) == ("Q2", "temporarily_unable")
    grant = d.grant("replan")
    assert grant is not None
    assert grant.conditions[0] == "verify the hardship evidence first"
    verified = _q2(
        [
            ("commitment_signed", {}),
            ("health_issue", {}),
            ("recovery_months", {"value": 6}),
            ("hardship_verified", {}),
        ]
    )
    d2 = engine("cn_bank_loan", backend).decide(verified, as_of="2026-03-12T12:00:00+08:00")
    grant2 = d2.grant("replan")
    assert grant2 is not None
    assert "verify the hardship evidence first" not in grant2.conditions


# --------------------------------------------------------------------------- limitation


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("as_of", "expired", "days_left"),
    [
        pytest.param("2026-02-24T23:59:59+08:00", False, 1, id="the-last-second"),
        pytest.param("2026-02-25T00:00:00+08:00", True, 0, id="24:00-of-the-last-day"),
        pytest.param("2026-02-25T00:00:01+08:00", True, 0, id="after"),
    ],
)
def test_the_limitation_period_has_expired_from_24_00_of_its_last_day(
    backend: str, as_of: str, expired: bool, days_left: int
) -> None:
    c = Case.from_dict(
        {
            "case_id": "L-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "10000",
            "overdue_amount": "500",
            "due_date": "2023-02-16",
            "timezone": SH,
            "signals": [{"kind": "refused_to_pay", "observed_at": "2025-01-01T10:00:00+08:00"}],
        }
    )
    d = engine("default", backend).decide(c, as_of=as_of)
    assert d.facts["limitation_last_day"] == "2026-02-24"
    assert (d.facts["limitation_expired"], d.facts["limitation_days_left"]) == (expired, days_left)
    deadline = engine("default", backend).timeline(c, as_of=as_of).deadline("limitation")
    assert deadline.expires_at == pendulum.datetime(2026, 2, 25, tz=SH)
    assert (deadline.status.value == "expired") is expired
    litigate = d.grant("litigate")
    assert litigate is not None
    assert (litigate.rule_id == "R-LIMITATION-EXPIRED") is expired
    remind = d.grant("remind")
    assert remind is not None
    # a demand to interrupt the period is asked for only while it runs
    assert (remind.rule_id == "R-LIMITATION-INTERRUPT") is not expired
    # an acknowledgment at 24:00 of the last day comes too late to restart the period
    late = Case.from_dict(
        {
            **c.to_dict(),
            "events": [{"kind": "debtor_acknowledged", "at": "2026-02-25T00:00:00+08:00"}],
        }
    )
    if expired:
        assert engine("default", backend).decide(late, as_of=as_of).facts["limitation_expired"]
