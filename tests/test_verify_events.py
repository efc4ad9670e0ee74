"""The verifier explores the events a case carries.

Contact attempts and their outcomes, promises (standing, kept, broken), payments,
visits, emergencies and assets found give facts that no case without events shows
(``contact_refused``, ``promises_made``, ``promise_standing`` …). The verifier gives
such facts free values in its search, and confirms a finding that needs them on a case
carrying a history of events that gives them: before, no built case carried an event,
so such a finding was only an ``unverified`` warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from collectrules import Case, Engine, load_policy
from collectrules.authoring.verify import (
    REFERENCE_AS_OF,
    Finding,
    FindingKind,
    build_case,
    reproduces,
)
from collectrules.authoring.verify._space import _Context
from collectrules.conditions import MONEY_SCALE
from collectrules.policy.derive import derive
from verified_reports import VerifiedReports

POLICIES = Path(__file__).parent / "policies"
EVENTFUL = POLICIES / "event_envelopes.toml"
AS_OF = pendulum.parse(REFERENCE_AS_OF)


def _envelopes(findings: tuple[Finding, ...], rule_id: str) -> dict[str, Finding]:
    return {
        f.counterexample.expect["quadrant"]: f
        for f in findings
        if f.kind is FindingKind.ENVELOPE and rule_id in f.rule_ids and f.counterexample
    }


def _events(finding: Finding) -> list[dict[str, Any]]:
    assert finding.counterexample is not None
    return list(finding.counterexample.case["events"])


def test_a_contradiction_of_contact_outcomes_is_found(verified: VerifiedReports) -> None:
    # R-INVESTIGATE-REFUSERS allows an asset investigation after two refusals on the
    # phone, whatever the quadrant. Before, the finding needed contact_refused >= 2,
    # which no built case gave: an unverified warning, no error.
    report = verified(EVENTFUL)
    found = _envelopes(report.errors, "R-INVESTIGATE-REFUSERS")
    assert set(found) == {"Q1", "Q2"}
    for finding in found.values():
        events = _events(finding)
        assert [(e["kind"], e.get("outcome")) for e in events] == [
            ("contact_attempt", "refused")
        ] * 2
    assert not [f for f in report.warnings if "possible finding" in f.message]


def test_a_contradiction_of_a_promise_no_longer_standing_is_found(
    verified: VerifiedReports,
) -> None:
    report = verified(EVENTFUL)
    found = _envelopes(report.errors, "R-INVESTIGATE-PROMISERS")
    assert set(found) == {"Q1", "Q2"}
    for finding in found.values():
        kinds = [e["kind"] for e in _events(finding)]
        assert kinds[0] == "promise_made"
        # a broken promise makes the debtor unwilling (W-SIGNS): a willing debtor's
        # promise that no longer stands was kept, paid in full
        assert kinds == ["promise_made", "payment"]


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_the_counterexamples_carry_their_events_and_reproduce(
    verified: VerifiedReports, backend: str
) -> None:
    report = verified(EVENTFUL)
    engine = Engine(load_policy(EVENTFUL), backend=backend)  # type: ignore[arg-type]
    shown = [f for f in report.errors if f.counterexample is not None]
    assert len(shown) == 4
    for finding in shown:
        assert finding.counterexample is not None
        assert finding.counterexample.case["events"]
        assert reproduces(finding, engine)
        # the case's facts are those the rule reads
        case = Case.from_dict(
            finding.counterexample.case, signal_kinds=tuple(engine.policy.signals)
        )
        facts = derive(case, AS_OF, engine.policy).facts
        assert facts["contact_refused"] >= 2 or (
            facts["promises_made"] >= 1 and not facts["promise_standing"]
        )


def test_histories_sit_on_either_side_of_the_policy_figures() -> None:
    # A rule reading the contact attempts of us_regf: the histories try the count on
    # either side of the rule's threshold and of the 7-in-7 cap (REGF-7IN7), and a call
    # that reached a guarantor, not the debtor.
    from collectrules.authoring.verify._events import EVENTS, event_patterns

    policy = load_policy("us_regf")
    ctx = _Context(policy, REFERENCE_AS_OF)
    leaves = {**ctx.leaves, "contact_attempts": []}
    counts = set()
    parties = set()
    for pattern in event_patterns(policy, leaves):
        events = [dict(e) for e in pattern[EVENTS]]
        if {e["kind"] for e in events} == {"contact_attempt"}:
            if {e["outcome"] for e in events} == {"no_answer"}:
                counts.add(len(events))
            parties |= {e.get("party") for e in events}
    assert {6, 7, 8} <= counts
    assert "G1" in parties


def test_a_history_becomes_the_case_s_events() -> None:
    from collectrules.authoring.verify._events import EVENTS

    policy = load_policy("default")
    history = (
        (("hours", 2), ("kind", "contact_attempt"), ("outcome", "no_answer")),
        (("hours", 1), ("kind", "payment"), ("share", "0.5")),
    )
    witness = {"dpd": 3, "overdue_amount": 20_000 * MONEY_SCALE, EVENTS: history}
    case = build_case(policy, AS_OF, witness)
    assert case["events"] == [
        {"kind": "contact_attempt", "at": "2026-01-15T10:00:00+00:00", "outcome": "no_answer"},
        {"kind": "payment", "at": "2026-01-15T11:00:00+00:00", "amount": "10000"},
    ]
