"""While an absconded debtor (E-ABSCOND) or a court proceeding (E-LITIGATION) is open, the
guardrails, the decision and the timeline agree that no field visit is made: the
``[emergencies]`` section pauses the visit steps, ``R-E-NO-VISIT`` blocks ``visit``, and
the ``E-HOLD-VISITS`` guardrail (``emergency_hold``) blocks every visit contact until the
escalation plan is done, from one reading of the events (:mod:`collectrules.model.emergency`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Contact, Guardrails, Remedy
from collectrules.compliance.guardrails import ReasonEffect
from collectrules.errors import PolicyError
from collectrules.model.case import Case
from collectrules.policy import load_policy, policy_from_dict
from collectrules.testing.strategies import cases, events
from collectrules.timeline.emergencies import EmergencyKind
from helpers import shared_engine
from test_coherence_emergencies import AS_OF, SETTINGS, SHIPPED, _refused_loan, emergency_cases

BEGUN = "2026-05-01T10:00:00+08:00"
WHEN = pendulum.parse("2026-05-06T10:00:00+08:00")
#: The kinds E-HOLD-VISITS enforces in the default policy.
HELD = (EmergencyKind.ABSCONDED, EmergencyKind.COURT_PROCEEDING)


def _case(policy: str, kind: str, *done: tuple[str, str]) -> Case:
    """A refused loan (Q3/Q4) with an emergency of ``kind``, a visit arranged, and the
    events ``done``."""
    return _refused_loan(
        policy, (kind, BEGUN), ("visit_arranged", "2026-05-02T10:00:00+08:00"), *done
    )


@pytest.mark.parametrize("policy", SHIPPED)
@pytest.mark.parametrize("kind", ["absconded", "court_proceeding"])
def test_the_guardrail_and_the_decision_agree_no_visit_while_the_emergency_is_open(
    policy: str, kind: str
) -> None:
    case = _case(policy, kind)
    decision = shared_engine(policy).decide(case, as_of=AS_OF)
    assert decision.facts["visit_held"] is True
    assert decision.block(Remedy.VISIT) is not None
    verdict = Guardrails(policy).check(case, Contact("visit", "debtor", WHEN))
    assert not verdict.allowed
    (block,) = [r for r in verdict.blocks if r.rule_id == "E-HOLD-VISITS"]
    clause = "E-ABSCOND" if kind == "absconded" else "E-LITIGATION"
    assert clause in block.cites
    assert f"{clause} ({kind} on 2026-05-01T10:00:00+08:00)" in block.message
    # the plan is not done on the history: no later time lifts the hold
    assert block.until is None
    # a phone call is not held back
    call = Guardrails(policy).check(case, Contact("phone", "debtor", WHEN))
    assert "E-HOLD-VISITS" not in [r.rule_id for r in call.blocks]


@pytest.mark.parametrize("kind", ["absconded", "court_proceeding"])
def test_the_hold_lifts_when_the_escalation_plan_is_done(kind: str) -> None:
    done = "2026-05-08T09:00:00+08:00"
    case = _case(
        "default",
        kind,
        ("emergency_reported", "2026-05-01T11:00:00+08:00"),
        ("emergency_meeting", "2026-05-03T10:00:00+08:00"),
        ("escalation_decided", done),
    )
    guard = Guardrails("default")
    verdict = guard.check(case, Contact("visit", "debtor", WHEN))
    (block,) = [r for r in verdict.blocks if r.rule_id == "E-HOLD-VISITS"]
    assert block.until == pendulum.parse(done)
    assert f"next allowed from {done}" in block.message
    # the decision at the instant the plan is done reads the emergency closed, and so
    # does the guardrail: a visit then is not held back
    at_done = shared_engine("default").decide(case, as_of=done)
    assert at_done.facts["visit_held"] is False
    after = guard.check(case, Contact("visit", "debtor", pendulum.parse(done)))
    assert "E-HOLD-VISITS" not in [r.rule_id for r in after.blocks]
    nxt = guard.next_allowed(case, "visit", "debtor", after=WHEN)
    assert nxt == pendulum.parse(done)


def _default_data() -> dict[str, Any]:
    text = (resources.files("collectrules.policies") / "default.toml").read_text("utf-8")
    return tomllib.loads(text)


def _hold_rule(data: dict[str, Any]) -> dict[str, Any]:
    (rule,) = [r for r in data["guardrails"]["CHANNELS"]["rules"] if r["id"] == "E-HOLD-VISITS"]
    return rule


def test_a_policy_may_hold_every_kind_it_lists() -> None:
    # Without ``emergencies`` the rule enforces every kind the section lists: a threat to
    # staff stops visits for good (no ``until``), as the timeline stops the visit steps.
    data = _default_data()
    del _hold_rule(data)["emergencies"]
    guard = Guardrails(policy_from_dict(data))
    case = _case("default", "threat_to_staff")
    verdict = guard.check(case, Contact("visit", "debtor", WHEN))
    (block,) = [r for r in verdict.blocks if r.rule_id == "E-HOLD-VISITS"]
    assert "E-THREAT" in block.cites
    assert "stops visit contacts for good" in block.message
    assert block.until is None


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        (["absconded", "abscond"], "emergencies", "unknown value 'abscond'"),
        ([], "emergencies", "expected at least one emergency kind"),
        ("visit", "emergencies", "unknown value 'visit'"),
    ],
)
def test_bad_emergencies_are_refused_at_load(value: object, field: str, expected: str) -> None:
    data = _default_data()
    _hold_rule(data)["emergencies"] = value
    with pytest.raises(PolicyError, match=expected) as info:
        policy_from_dict(data)
    paths = [p.path for p in info.value.problems]
    assert any(p.endswith(f"E-HOLD-VISITS].{field}") for p in paths), paths


def test_a_hold_on_kinds_the_policy_does_not_list_is_refused() -> None:
    data = _default_data()
    del data["emergencies"]["kinds"]["court_proceeding"]
    with pytest.raises(PolicyError, match="court_proceeding, which") as info:
        Guardrails(policy_from_dict(data))
    assert info.value.problems[0].path == "guardrails.CHANNELS.rules[E-HOLD-VISITS].emergencies"


def test_a_hold_without_an_emergencies_section_is_refused() -> None:
    data = _default_data()
    del data["emergencies"]
    data["remedies"]["rules"] = [  # without the rules that read the section's facts
        r for r in data["remedies"]["rules"] if not r["id"].startswith(("R-E-", "R-EMERGENCY"))
    ]
    with pytest.raises(PolicyError, match="has none"):
        Guardrails(policy_from_dict(data))


def _with_hold(policy: str) -> bool:
    rules = {r.id for p in Guardrails(policy).section.packs for r in p.rules}
    return "E-HOLD-VISITS" in rules


@pytest.mark.parametrize("policy", SHIPPED)
@SETTINGS
@given(data=st.data())
def test_the_guardrail_blocks_a_visit_exactly_while_the_timeline_holds_it(
    policy: str, data: st.DataObject
) -> None:
    assert _with_hold(policy)
    case = data.draw(emergency_cases(policy))
    engine = shared_engine(policy)
    decision = engine.decide(case, as_of=AS_OF)
    timeline = engine.timeline(case, as_of=AS_OF)
    guard = Guardrails(load_policy(policy))
    verdict = guard.check(case, Contact("visit", "debtor", AS_OF))
    holds = [r for r in verdict.blocks if r.rule_id == "E-HOLD-VISITS"]
    holding = [
        e
        for e in timeline.emergencies
        if e.kind in HELD and e.open and "visit" in {c.value for c in e.spec.pauses}
    ]
    # the guardrail blocks for an emergency exactly when the timeline shows one open
    assert bool(holds) is bool(holding), (holds, timeline.emergencies)
    for reason in holds:
        for emergency in holding:
            assert emergency.cite in reason.cites
            assert emergency.describe().split(" (")[0] in reason.message
    # whenever the decision holds visits back for an emergency, no visit is allowed
    if decision.facts["visit_held"]:
        emergency_blocks = {r.rule_id for r in verdict.blocks} & {
            "E-HOLD-VISITS",
            "E-THREAT-VISITS",
        }
        assert emergency_blocks, verdict.blocks
        assert decision.grant(Remedy.VISIT) is None
    if holds:
        assert decision.facts["visit_held"] is True
        assert decision.block(Remedy.VISIT) is not None
    # where the hold names when it lifts, the decision then reads no emergency holding
    # the visit of these kinds
    (reason,) = holds or (None,)
    if reason is not None and reason.until is not None:
        assert reason.effect is ReasonEffect.BLOCK
        later = engine.decide(case, as_of=reason.until)
        assert not any(later.facts[f"{k.value}_open"] for k in HELD)
        after = guard.check(case, Contact("visit", "debtor", reason.until))
        assert "E-HOLD-VISITS" not in [r.rule_id for r in after.blocks]


#: The shipped policies with a limitation guardrail (``time_barred``).
TIME_BARRED = [
    p for p in SHIPPED if any(r.kind.value == "time_barred" for r in Guardrails(p).section.rules)
]


@pytest.mark.parametrize("policy", TIME_BARRED)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_contact_through_the_court_on_a_debt_the_decision_will_not_sue_on(
    policy: str, data: st.DataObject
) -> None:
    # The decision blocks litigate on a time-barred debt (time_barred, which the
    # limitation guardrail gives); the guardrail then blocks a contact through the
    # court, a suit itself, whatever it says of suits; and only then.
    case = data.draw(
        cases(policy, as_of=AS_OF, max_kinds=2).flatmap(
            lambda c: st.builds(
                lambda due, history: attrs.evolve(c, due_date=due, events=tuple(history)),
                st.dates(dt.date(2012, 1, 1), dt.date(2026, 4, 1)),
                st.lists(
                    events(
                        policy,
                        as_of=AS_OF,
                        kinds=("payment", "debtor_acknowledged"),
                        timezone=c.timezone,
                    ),
                    max_size=2,
                ),
            )
        )
    )
    decision = shared_engine(policy).decide(case, as_of=AS_OF)
    verdict = Guardrails(policy).check(case, Contact("court", "debtor", AS_OF))
    barred = [r for r in verdict.blocks if "time-barred" in r.message]
    assert bool(barred) is (decision.facts["time_barred"] is True), (barred, decision.facts)
    if barred:
        assert decision.grant(Remedy.LITIGATE) is None
