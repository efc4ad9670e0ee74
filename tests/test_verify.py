"""The verifier: broken policies are caught, shipped ones are clean, and every finding's
counterexample reproduces through ``engine.decide``, on both back ends."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.policy_strategies import AS_OF, case_dicts, policies

from collectrules import Case, Engine, EngineError, Policy, available_policies, load_policy
from collectrules.authoring.verify import (
    REFERENCE_AS_OF,
    Finding,
    FindingKind,
    Severity,
    VerificationReport,
    _checks,
    reproduces,
    verify,
)
from collectrules.authoring.verify._checks import run_checks
from collectrules.authoring.verify._space import _integer_points, _real_points
from collectrules.authoring.verify._values import _subst
from collectrules.authoring.verify._verifier import _Verifier
from collectrules.model.remedies import COERCIVE_REMEDIES, Remedy
from collectrules.policy import policy_from_dict
from verified_reports import VerifiedReports

POLICIES = Path(__file__).parent / "policies"

# file, kind, a substring of the message, the rule ids the finding names
BROKEN = [
    (
        "gap.toml",
        FindingKind.GAP,
        "layer 'quadrant': no rule matches and the layer has no default "
        "(presumption = none, willingness = unwilling, ability = unable)",
        (),
    ),
    (
        "overlap.toml",
        FindingKind.OVERLAP,
        "layer 'quadrant' is unique, but rules 'QUAD-Q1' and 'QUAD-Q2' both match",
        ("QUAD-Q1", "QUAD-Q2"),
    ),
    (
        "shadowed.toml",
        FindingKind.UNREACHABLE,
        "layer 'ability': rule 'A-NO-COVERAGE' is shadowed: whenever it matches, an earlier "
        "rule takes the case: 'A-SHORT', 'A-LONG-ESTIMATED', 'A-LONG'",
        ("A-NO-COVERAGE", "A-SHORT", "A-LONG-ESTIMATED", "A-LONG"),
    ),
    (
        "conflict.toml",
        FindingKind.CONFLICT,
        "remedies[R-NEGOTIATE] allows and remedies[R-Q4-NO-NEGOTIATE] blocks negotiate for the "
        "same cases (quadrant = Q4)",
        ("R-NEGOTIATE", "R-Q4-NO-NEGOTIATE"),
    ),
    (
        "unknown_citation.toml",
        FindingKind.CITATION,
        "remedies[R-Q4-OUTSOURCE].cites: unknown clause 'Q5'",
        ("R-Q4-OUTSOURCE",),
    ),
    (
        "far_dpd.toml",
        FindingKind.UNREACHABLE,
        "remedies[R-SUE-THE-ANCIENT]: the rule can never fire: its condition holds for no case",
        ("R-SUE-THE-ANCIENT",),
    ),
    (
        "many_refusals.toml",
        FindingKind.UNREACHABLE,
        "remedies[R-SUE-AFTER-MANY-REFUSALS]: the rule can never fire: its condition holds "
        "for no case",
        ("R-SUE-AFTER-MANY-REFUSALS",),
    ),
    (
        "litigate_q1.toml",
        FindingKind.ORDERING,
        "remedies[R-SUE-EVERYONE] allows litigation for a Q1 debtor",
        ("R-SUE-EVERYONE",),
    ),
    (
        "not_monotonic.toml",
        FindingKind.MONOTONICITY,
        "adding one 'unreachable' signal softens the quadrant from Q3 to Q1 and takes away the "
        "coercive remedies pressure_guarantor, litigate",
        (),
    ),
]


@pytest.fixture(scope="module")
def reports(verified: VerifiedReports) -> dict[str, VerificationReport]:
    found = verified.many([POLICIES / name for name, *_ in BROKEN])
    return {name: found[POLICIES / name] for name, *_ in BROKEN}


def _errors(report: VerificationReport) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize(("name", "kind", "text", "rule_ids"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_policy_is_reported_with_the_right_message(
    reports: dict[str, VerificationReport],
    name: str,
    kind: FindingKind,
    text: str,
    rule_ids: tuple[str, ...],
) -> None:
    report = reports[name]
    assert not report.ok
    matching = [f for f in report.of_kind(kind) if text in f.message]
    assert matching, [str(f) for f in report.findings]
    assert matching[0].severity is Severity.ERROR
    assert matching[0].rule_ids == rule_ids
    # the policy's only errors are of this kind (nothing cascades from the one mistake);
    # suing every account also sues willing Q2 debtors, outside the Q2 envelope, and
    # that is reported on its own (litigation for Q1 is the ordering finding only)
    also = [f for f in _errors(report) if f.kind is FindingKind.ENVELOPE]
    if name == "litigate_q1.toml":
        assert [
            (f.rule_ids, f.counterexample.expect if f.counterexample else None) for f in also
        ] == [(("R-SUE-EVERYONE",), {"quadrant": "Q2", "allowed": "litigate"})]
    else:
        assert not also
    assert {f.kind for f in _errors(report)} - {FindingKind.ENVELOPE} == {kind}


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_every_counterexample_reproduces_through_engine_decide(
    reports: dict[str, VerificationReport], backend: str
) -> None:
    checked = 0
    for name, report in reports.items():
        engine = Engine(load_policy(POLICIES / name), backend=backend)  # type: ignore[arg-type]
        for finding in report.findings:
            if finding.counterexample is None:
                continue
            assert reproduces(finding, engine), (name, str(finding))
            checked += 1
    assert checked >= 6


def test_a_gap_counterexample_makes_the_engine_fail_naming_the_layer(
    reports: dict[str, VerificationReport],
) -> None:
    (gap,) = reports["gap.toml"].of_kind(FindingKind.GAP)
    assert gap.counterexample is not None
    policy = load_policy(POLICIES / "gap.toml")
    case = Case.from_dict(gap.counterexample.case, signal_kinds=tuple(policy.signals))
    with pytest.raises(EngineError, match="layer 'quadrant': no rule matched"):
        Engine(policy, backend="python").decide(case, as_of=gap.counterexample.as_of)


def test_a_monotonicity_counterexample_is_a_before_and_after_pair(
    reports: dict[str, VerificationReport],
) -> None:
    # The finding that takes away litigation: one past due (in phase P1, before anything
    # is past due, neither case may be sued).
    found = reports["not_monotonic.toml"].of_kind(FindingKind.MONOTONICITY)
    finding = next(f for f in found if "litigate" in f.message)
    cx = finding.counterexample
    assert cx is not None
    assert cx.before is not None
    engine = Engine(load_policy(POLICIES / "not_monotonic.toml"), backend="python")
    kinds = tuple(engine.policy.signals)
    before = engine.decide(Case.from_dict(cx.before, signal_kinds=kinds), as_of=cx.as_of)
    after = engine.decide(Case.from_dict(cx.case, signal_kinds=kinds), as_of=cx.as_of)
    added = [s["kind"] for s in cx.case["signals"]]
    for s in cx.before["signals"]:
        added.remove(s["kind"])
    assert added == ["unreachable"]
    assert (before.quadrant.value, after.quadrant.value) == ("Q3", "Q1")
    assert Remedy.LITIGATE in before.allowed_remedies - after.allowed_remedies


@pytest.mark.parametrize("name", available_policies())
def test_shipped_policies_verify_clean(name: str, verified: VerifiedReports) -> None:
    report = verified(name)
    assert report.ok, [str(f) for f in report.errors]
    assert not [f for f in report.findings if "verifier defect" in f.message]
    assert not report.of_kind(FindingKind.DEAD_PARAMETER)
    assert not report.of_kind(FindingKind.DEAD_SIGNAL)


def test_the_default_policy_has_no_finding_at_all(verified: VerifiedReports) -> None:
    # Its remedy rules read the timeline's state, which the verifier can only probe from
    # cases without events, and the emergency and asset facts, which only events give
    # and which it explores as free values, confirming a finding that needs them on a
    # case carrying a history of events: said once each, the only findings.
    report = verified("default")
    warning, free = report.findings
    assert warning.kind is FindingKind.UNVERIFIED
    assert free.kind is FindingKind.UNVERIFIED
    assert free.message.startswith(
        "remedies: reads absconded_open, assets_cover_claim, court_proceeding_open, "
        "emergency_open, threat_to_staff_open, visit_held, which only events give"
    )
    fields, _, rest = warning.message.partition(": ")
    assert set(fields.split(", ")) == {
        "guarantee_days_left",
        "guarantee_running",
        "limitation_days_left",
        "limitation_expired",
        "phase",
        "plan_litigate",
        "plan_remind",
        "plan_visit",
    }
    assert rest.startswith("computed by the policy's sections from the case")
    # The reachable combinations of what the remedy rules read: willingness (3 values)
    # and ability (4), the presumption (4), the product (4), the days-past-due cells of
    # the rules' thresholds, the timeline's phase (P1, P2, P3: the presumption reads it,
    # and the verifier explores it with the days past due that give it), and whether
    # hardship documents were provided (the Q2 fraud guard). Measured once the
    # presumption read the phase (1,040 when it restated the escalation points in days);
    # a change here means the remedy rules read something new.
    assert report.stats["final_situations"] == 1888


def test_report_is_json_ready(reports: dict[str, VerificationReport]) -> None:
    data = reports["conflict.toml"].to_dict()
    text = json.dumps(data)
    back = json.loads(text)
    assert back["ok"] is False
    (error,) = back["errors"]
    assert error["kind"] == "conflict"
    assert error["counterexample"]["as_of"] == REFERENCE_AS_OF
    assert Case.from_dict(
        error["counterexample"]["case"], signal_kinds=tuple(load_policy("default").signals)
    )


# --------------------------------------------------------------------------- unit


def _policy(**changes: Any) -> Policy:
    """A small standalone policy: one count, one measured kind, three layers."""
    data: dict[str, Any] = {
        "id": "t",
        "version": "1",
        "parameters": {},
        "signals": {
            "refused": {"dimension": "willingness", "polarity": "negative"},
            "cover": {"dimension": "ability", "polarity": "measured"},
        },
        "layers": [
            {
                "id": "willingness",
                "values": ["willing", "unwilling"],
                "default": "willing",
                "rules": [{"id": "W-1", "when": "refused >= 1", "value": "unwilling"}],
            },
            {
                "id": "ability",
                "values": ["able", "unable"],
                "default": "able",
                "rules": [{"id": "A-1", "when": "cover < 1", "value": "unable"}],
            },
            {
                "id": "quadrant",
                "values": ["Q1", "Q2", "Q3", "Q4"],
                "hit_policy": "unique",
                "rules": [
                    {
                        "id": "Q-1",
                        "when": "willingness == 'willing' and ability == 'able'",
                        "value": "Q1",
                    },
                    {
                        "id": "Q-2",
                        "when": "willingness == 'willing' and ability == 'unable'",
                        "value": "Q2",
                    },
                    {
                        "id": "Q-3",
                        "when": "willingness == 'unwilling' and ability == 'able'",
                        "value": "Q3",
                    },
                    {
                        "id": "Q-4",
                        "when": "willingness == 'unwilling' and ability == 'unable'",
                        "value": "Q4",
                    },
                ],
            },
        ],
        "remedies": {"conflict": "block_wins", "rules": []},
    }
    for key, value in changes.items():
        if key == "rules":
            data["remedies"]["rules"] = value
        elif key == "layer":
            index, layer = value
            data["layers"][index] = layer
        else:
            data[key] = value
    return policy_from_dict(data, source="<test>")


def _kinds(report: VerificationReport) -> list[tuple[str, str]]:
    return [(f.kind.value, f.severity.value) for f in report.findings]


def test_a_clean_small_policy() -> None:
    assert verify(_policy()).findings == ()


def test_money_thresholds_are_scaled_and_split_exactly() -> None:
    # overdue_amount > limit (5000.5) blocks extend; 5000.5 itself does not.
    rules = [
        {
            "id": "R-A",
            "effect": "allow",
            "remedies": ["extend"],
            "when": "quadrant == 'Q2'",
            "reason": "r",
        },
        {
            "id": "R-B",
            "effect": "block",
            "remedies": ["extend"],
            "when": "overdue_amount > limit",
            "reason": "r",
        },
    ]
    policy = _policy(
        remedies={"conflict": "unspecified", "rules": rules},
        parameters={"limit": {"value": 5000.5}},
    )
    (conflict,) = verify(policy).of_kind(FindingKind.CONFLICT)
    assert "overdue_amount = 5000.5001" in conflict.message
    assert conflict.counterexample is not None
    assert conflict.counterexample.case["overdue_amount"] == "5000.5001"
    assert reproduces(conflict, Engine(policy, backend="python"))


def test_an_absent_measured_value_is_its_own_cell() -> None:
    # 'not (cover >= 1)' holds when cover was never measured; 'cover < 1' does not.
    layer = {
        "id": "ability",
        "values": ["able", "unable"],
        "rules": [
            {"id": "A-1", "when": "cover < 1", "value": "unable"},
            {"id": "A-2", "when": "cover >= 1", "value": "able"},
        ],
    }
    report = verify(_policy(layer=(1, layer)))
    (gap,) = report.of_kind(FindingKind.GAP)
    assert "cover absent" in gap.message
    assert gap.counterexample is not None
    assert not [s for s in gap.counterexample.case["signals"] if s["kind"] == "cover"]


def test_dpd_above_zero_needs_an_overdue_amount() -> None:
    # A case with nothing overdue has dpd 0, so this rule can never match.
    rules = [
        {
            "id": "R-X",
            "effect": "allow",
            "remedies": ["visit"],
            "when": "dpd > 0 and overdue_amount == 0",
            "reason": "r",
        }
    ]
    report = verify(_policy(rules=rules))
    (finding,) = report.of_kind(FindingKind.UNREACHABLE)
    assert finding.rule_ids == ("R-X",)
    assert "can never fire" in finding.message


def test_priority_shadowing_names_the_winner() -> None:
    layer = {
        "id": "ability",
        "values": ["able", "unable"],
        "hit_policy": "priority",
        "default": "able",
        "rules": [
            {"id": "A-1", "when": "cover < 1", "value": "unable", "priority": 1},
            {"id": "A-2", "when": "cover < 0.5", "value": "able", "priority": 0},
            {"id": "A-3", "when": "cover < 0.5", "value": "able", "priority": 2},
        ],
    }
    report = verify(_policy(layer=(1, layer)))
    (finding,) = report.of_kind(FindingKind.UNREACHABLE)
    assert finding.rule_ids == ("A-2", "A-3")
    assert "a rule of higher priority" in finding.message
    assert reproduces(finding, Engine(_policy(layer=(1, layer)), backend="python"))


def test_collect_sum_without_default_reports_the_score() -> None:
    layer = {
        "id": "willingness",
        "values": ["willing", "unwilling"],
        "hit_policy": "collect_sum",
        "bands": [{"min": 0, "value": "willing"}, {"min": 2, "value": "unwilling"}],
        "rules": [
            {"id": "W-1", "when": "refused >= 1", "score": 3},
            {"id": "W-2", "when": "refused >= 2", "score": -4.5},
        ],
    }
    report = verify(_policy(layer=(0, layer)))
    (gap,) = report.of_kind(FindingKind.GAP)
    assert "a score of -1.5 reaches no band" in gap.message
    assert gap.counterexample is not None
    assert len(gap.counterexample.case["signals"]) == 2
    assert reproduces(gap, Engine(_policy(layer=(0, layer)), backend="python"))


def test_all_overlapping_pairs_of_a_unique_layer_are_reported() -> None:
    layer = {
        "id": "quadrant",
        "values": ["Q1", "Q2", "Q3", "Q4"],
        "hit_policy": "unique",
        "default": "Q1",
        "rules": [
            {"id": "Q-A", "when": "dpd >= 0", "value": "Q1"},
            {"id": "Q-B", "when": "dpd > 30", "value": "Q2"},
            {"id": "Q-C", "when": "dpd > 60", "value": "Q3"},
        ],
    }
    report = verify(_policy(layer=(2, layer)))
    pairs = {f.rule_ids for f in report.of_kind(FindingKind.OVERLAP)}
    assert pairs == {("Q-A", "Q-B"), ("Q-A", "Q-C"), ("Q-B", "Q-C")}
    engine = Engine(_policy(layer=(2, layer)), backend="python")
    for finding in report.of_kind(FindingKind.OVERLAP):
        assert reproduces(finding, engine)


def test_a_value_no_case_gets_is_a_warning() -> None:
    layer = {
        "id": "ability",
        "values": ["able", "unable", "doomed"],
        "default": "able",
        "rules": [{"id": "A-1", "when": "cover < 1", "value": "unable"}],
    }
    report = verify(_policy(layer=(1, layer)))
    assert _kinds(report) == [("unreachable", "warning")]
    assert "value 'doomed' is never given" in report.findings[0].message


def test_dead_parameters_and_signals_are_warnings() -> None:
    report = verify(
        _policy(
            parameters={"limit": {"value": 1}, "unused": {"value": 3}},
            signals={
                "refused": {"dimension": "willingness", "polarity": "negative"},
                "cover": {"dimension": "ability", "polarity": "measured"},
                "ignored": {"dimension": "ability", "polarity": "negative"},
            },
        )
    )
    kinds = {(f.kind, f.message.split(":")[0]) for f in report.findings}
    assert kinds == {
        (FindingKind.DEAD_PARAMETER, "parameters.limit"),
        (FindingKind.DEAD_PARAMETER, "parameters.unused"),
        (FindingKind.DEAD_SIGNAL, "signals.ignored"),
    }
    assert report.ok


def test_policy_clauses_count_as_known_citations() -> None:
    report = verify(
        _policy(
            clauses={"ACME-1": "A clause of the lender's own"},
            rules=[
                {
                    "id": "R-1",
                    "effect": "allow",
                    "remedies": ["remind"],
                    "when": "",
                    "reason": "r",
                    "cites": ["ACME-1", "ACME-2", "Q1"],
                }
            ],
        )
    )
    (finding,) = report.of_kind(FindingKind.CITATION)
    assert "unknown clause 'ACME-2' (did you mean 'ACME-1'?)" in finding.message


def test_conflicts_are_not_reported_when_the_policy_says_which_wins() -> None:
    rules = [
        {"id": "R-A", "effect": "allow", "remedies": ["visit"], "when": "", "reason": "r"},
        {
            "id": "R-B",
            "effect": "block",
            "remedies": ["visit"],
            "when": "quadrant == 'Q4'",
            "reason": "r",
        },
    ]
    for conflict, expected in (("block_wins", 0), ("allow_wins", 0), ("unspecified", 1)):
        report = verify(_policy(remedies={"conflict": conflict, "rules": rules}))
        assert len(report.of_kind(FindingKind.CONFLICT)) == expected


def test_ordering_respects_a_blocking_rule() -> None:
    allow = {
        "id": "R-SUE",
        "effect": "allow",
        "remedies": ["litigate"],
        "when": "dpd > 90",
        "reason": "r",
    }
    block = {
        "id": "R-NO",
        "effect": "block",
        "remedies": ["litigate"],
        "when": "quadrant == 'Q1'",
        "reason": "r",
    }
    assert verify(_policy(rules=[allow, block])).ok
    report = verify(_policy(rules=[allow]))
    (finding,) = report.of_kind(FindingKind.ORDERING)
    assert "dpd = 91" in finding.message


def test_worsening_a_measured_ability_value_must_not_soften() -> None:
    # A coverage below 0.2 counts as 'able' again, but that is a better ability, not a
    # worse one: moving between the cells never softens the quadrant.
    layer = {
        "id": "ability",
        "values": ["able", "unable"],
        "default": "able",
        "rules": [
            {"id": "A-0", "when": "cover < 0.2", "value": "able"},
            {"id": "A-1", "when": "cover < 1", "value": "unable"},
        ],
    }
    assert verify(_policy(layer=(1, layer))).of_kind(FindingKind.MONOTONICITY) == ()
    # Litigation for Q3 only: a worse coverage (Q3 -> Q4) takes it away.
    rules = [
        {
            "id": "R-L",
            "effect": "allow",
            "remedies": ["litigate"],
            "when": "quadrant == 'Q3'",
            "reason": "r",
        }
    ]
    report = verify(_policy(rules=rules))
    messages = [f.message for f in report.of_kind(FindingKind.MONOTONICITY)]
    assert any(
        m.startswith("changing 'cover' from")
        and "(ability able -> unable)" in m
        and "takes away the coercive remedies litigate" in m
        for m in messages
    ), messages
    for finding in report.of_kind(FindingKind.MONOTONICITY):
        assert reproduces(finding, Engine(_policy(rules=rules), backend="python"))


def test_fields_a_section_computes_are_probed(verified: VerifiedReports) -> None:
    report = verified("cn_bank_loan")
    assert report.ok
    warning, free = report.findings
    assert warning.kind is FindingKind.UNVERIFIED
    assert free.message.startswith(
        "remedies: reads absconded_open, assets_cover_claim, court_proceeding_open"
    )
    fields, _, rest = warning.message.partition(": ")
    assert rest.startswith("computed by the policy's sections")
    # the pack's classes and buckets, and the timeline's state that remedy rules read
    assert {"cn5_class", "npl_bucket", "limitation_expired", "plan_litigate"} <= set(
        fields.split(", ")
    )


def test_a_finding_on_a_probed_field_comes_with_a_real_case(tmp_path: Path) -> None:
    path = tmp_path / "cn.toml"
    path.write_text(
        """
extends = "cn_bank_loan"
disable = ["R-Q12-NO-SUIT"]

[[remedies.rules]]
id = "R-SUE-LOSS"
effect = "allow"
remedies = ["litigate"]
when = "cn5_class == 'loss'"
reason = "Sue every loss-class loan."
cites = ["CN-5LVL"]
""",
        encoding="utf-8",
    )
    policy = load_policy(path)
    report = verify(policy)
    found = {f.rule_ids: f for f in report.of_kind(FindingKind.ORDERING)}
    # R-NPL-6M-LEGAL is inside the Q3 and Q4 envelopes now: only the new rule sues Q1
    assert set(found) == {("R-SUE-LOSS",)}
    loss = found[("R-SUE-LOSS",)]
    assert "(cn5_class = 'loss')" in loss.message
    assert loss.counterexample is not None
    engine = Engine(policy)
    assert reproduces(loss, engine)
    decision = engine.decide(
        Case.from_dict(loss.counterexample.case, signal_kinds=tuple(policy.signals)),
        as_of=loss.counterexample.as_of,
    )
    assert decision.facts["dpd"] == 361  # the class of loss begins after 360 days


def test_fields_only_events_give_are_free_and_confirmed_with_events(tmp_path: Path) -> None:
    path = tmp_path / "calls.toml"
    path.write_text(
        """
extends = "default"
disable = ["R-P1-REMIND-ONLY"]

[remedies]
conflict = "unspecified"

[[remedies.rules]]
id = "R-VISIT"
effect = "allow"
remedies = ["visit"]
reason = "Visit."

[[remedies.rules]]
id = "R-NO-VISIT-AFTER-CALLS"
effect = "block"
remedies = ["visit"]
when = "contact_attempts >= 3"
reason = "Enough calls."
""",
        encoding="utf-8",
    )
    report = verify(path)
    # The conflict needs three contact attempts: a case carrying them shows it (before,
    # no built case carried an event, and the conflict was only an unverified warning).
    # (The default's emergency rules that hold visits back conflict with R-VISIT too,
    # shown on cases carrying an emergency.)
    conflicts = {f.rule_ids: f for f in report.of_kind(FindingKind.CONFLICT)}
    assert ("R-VISIT", "R-E-THREAT-NO-VISIT") in conflicts
    conflict = conflicts["R-VISIT", "R-NO-VISIT-AFTER-CALLS"]
    assert conflict.counterexample is not None
    events = conflict.counterexample.case["events"]
    assert [e["kind"] for e in events] == ["contact_attempt"] * 3
    assert reproduces(conflict, Engine(load_policy(path), backend="python"))
    messages = [f.message for f in report.of_kind(FindingKind.UNVERIFIED)]
    assert not any("possible finding(s)" in m and "contact_attempts" in m for m in messages)
    assert any(
        m.startswith("remedies: reads")
        and "contact_attempts" in m.split(", which")[0]
        and "only events give" in m
        for m in messages
    )


def test_verify_takes_an_explicit_as_of() -> None:
    report = verify(POLICIES / "gap.toml", as_of="2030-06-01T09:00:00+08:00")
    (gap,) = report.of_kind(FindingKind.GAP)
    assert gap.counterexample is not None
    assert gap.counterexample.as_of == "2030-06-01T09:00:00+08:00"
    with pytest.raises(ValueError, match="naive"):
        verify("default", as_of="2030-06-01T09:00:00")


def test_points_cover_every_cell() -> None:
    assert _integer_points([1], minimum=0) == [0, 1, 2]
    assert _integer_points([2.5], minimum=0) == [0, 1, 2, 3, 4]
    assert _integer_points([], minimum=None) == [0]
    assert _real_points([1, 24]) == [0, 1, 12.5, 24, 25]
    assert _real_points([-1]) == [-2, -1, 0]


def test_partial_evaluation_keeps_absence_semantics() -> None:
    from collectrules.conditions import parse

    cond = parse("not (cover >= 1) and refused > 0")
    assert _subst(cond, {"refused": 1, "cover": 1.5}) is False
    absent = _subst(cond, {"refused": 1, "cover": _absent()})
    assert absent is True
    residual = _subst(cond, {"refused": 1})
    assert residual == parse("not (cover >= 1)")


def _absent() -> Any:
    from collectrules.authoring.verify._values import ABSENT

    return ABSENT


# --------------------------------------------------------------------------- properties


def _decide(engine: Engine, data: dict[str, Any]) -> Any:
    case = Case.from_dict(data, signal_kinds=tuple(engine.policy.signals))
    try:
        return engine.decide(case, as_of=AS_OF)
    except EngineError as exc:
        return exc


def _coercive(decision: Any) -> frozenset[Remedy]:
    return frozenset(decision.allowed_remedies & COERCIVE_REMEDIES)


def _softer(before: Any, after: Any) -> bool:
    return bool(
        (after.quadrant.willing and not before.quadrant.willing)
        or (after.quadrant.able and not before.quadrant.able)
    )


def _with_signal(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return {**data, "signals": [*data["signals"], {"kind": kind, "observed_at": AS_OF}]}


def _fired(decision: Any) -> Iterator[str]:
    yield from (f.rule_id for f in decision.trace)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=policies(), cases=st.lists(case_dicts(), min_size=8, max_size=8))
def test_the_verifier_agrees_with_the_engine(
    data: dict[str, Any], cases: list[dict[str, Any]]
) -> None:
    """Sound: every counterexample reproduces. Exact: whatever the engine shows on a case
    (a gap, an overlap, a conflict, litigation for Q1, a softer quadrant after a worse
    sign, a rule firing), the verifier has said so (or has not said the opposite)."""
    policy = policy_from_dict(data, source="<random>")
    report = verify(policy)
    assert not report.of_kind(FindingKind.UNVERIFIED)  # every finding was confirmed
    engine = Engine(policy, backend="python")
    for finding in report.findings:
        if finding.counterexample is not None:
            assert reproduces(finding, engine), str(finding)
    never = {
        rid
        for f in report.of_kind(FindingKind.UNREACHABLE)
        for rid in f.rule_ids[:1]
        if "can never fire" in f.message
    }
    shadowed = {
        f.rule_ids[0] for f in report.of_kind(FindingKind.UNREACHABLE) if "shadowed" in f.message
    }
    gaps = {f.layer for f in report.of_kind(FindingKind.GAP)}
    overlaps = {f.rule_ids for f in report.of_kind(FindingKind.OVERLAP)}
    conflicts = {f.rule_ids for f in report.of_kind(FindingKind.CONFLICT)}
    unspecified = policy.conflict.value == "unspecified"
    for case in cases:
        result = _decide(engine, case)
        if isinstance(result, EngineError):
            text = str(result)
            if "several rules matched" in text:
                matched = text.split("several rules matched: ")[1].split(", ")
                assert any(set(pair) <= set(matched) for pair in overlaps), text
            else:
                layer = text.split("'")[1]
                assert layer in gaps, text
            continue
        fired = set(_fired(result))
        assert not fired & never
        for level in result.levels.values():
            assert not set(level.rules) & shadowed
        if unspecified:
            for a in policy.remedy_rules:
                for b in policy.remedy_rules:
                    if (
                        a.effect.value != "block"
                        and b.effect.value == "block"
                        and {a.id, b.id} <= fired
                        and set(a.remedies) & set(b.remedies)
                    ):
                        assert (a.id, b.id) in conflicts
        if result.quadrant.value == "Q1" and Remedy.LITIGATE in result.allowed_remedies:
            assert report.of_kind(FindingKind.ORDERING)
        for kind in ("k_neg", "a_neg"):
            after = _decide(engine, _with_signal(case, kind))
            if isinstance(after, EngineError):
                continue
            if _softer(result, after) or _coercive(result) - _coercive(after):
                assert any(
                    f"'{kind}'" in f.message for f in report.of_kind(FindingKind.MONOTONICITY)
                ), (kind, case)


@pytest.mark.parametrize("paired", [False, True])
def test_a_finding_whose_witness_no_case_can_carry_is_unverified_not_raised(
    paired: bool,
) -> None:
    """A witness whose dates fall outside the years a case holds cannot be built (the
    builder raises InputError); the finding is held as one the verifier could not
    confirm, named by the field, and the run goes on (the InputError stopped it)."""
    from collectrules.authoring.verify._findings import FindingKind, Severity
    from collectrules.authoring.verify._verifier import _Verifier

    vf = _Verifier(load_policy("default"), AS_OF, confirm=True)
    vf.report(
        FindingKind.GAP,
        Severity.ERROR,
        "layer 'ability': no rule matches",
        layer="ability",
        witness={"dpd": 900_000},
        expect={"error": "gap", "layer": "ability"},
        paired=paired,
    )
    assert vf.findings == []
    assert vf.unconfirmed == {("ability", "dpd"): ["gap: layer 'ability': no rule matches"]}


class _Forgetful(dict[Hashable, Any]):
    """A verifier's cache that stores what a monotonicity run keeps for its own kind (the
    outcomes of a layer, or the remedies, that read the kind) but never gives it back,
    so that every use searches again."""

    def get(self, key: Hashable, default: Any = None) -> Any:
        assert isinstance(key, tuple)
        if key[1] == "varied" or (key[0] == "remedies" and len(key) == 3):
            return default
        return super().get(key, default)


def _kinds_read_everywhere() -> list[Policy]:
    """Policies whose monotonicity runs reuse searches: a kind read by two layers, a
    measured kind, and a kind read by a coercive remedy rule."""
    sue_while_reachable = {
        "id": "R-U",
        "effect": "allow",
        "remedies": ["litigate"],
        "when": "refused >= 1 and quadrant == 'Q3'",
        "reason": "r",
    }
    sue_for_q3 = {**sue_while_reachable, "when": "quadrant == 'Q3'"}
    return [
        load_policy(POLICIES / "not_monotonic.toml"),
        _policy(rules=[sue_for_q3]),
        _policy(rules=[sue_while_reachable]),
    ]


@pytest.mark.parametrize(
    "policy", _kinds_read_everywhere(), ids=["two-layers", "measured", "remedy"]
)
def test_outcomes_kept_for_the_varied_kind_are_those_searched_again(policy: Policy) -> None:
    # Kept outcomes give the same findings as a search run again, and count the steps of
    # that search: the report, search_steps included, does not depend on what is kept.
    kept = verify(policy)
    vf = _Verifier(policy, REFERENCE_AS_OF, confirm=True)
    vf._cache = _Forgetful()  # type: ignore[assignment]
    vf._remedy_cache = _Forgetful()  # type: ignore[assignment]
    searched = run_checks(vf)
    assert kept.to_dict() == searched.to_dict()
    assert kept.stats["search_steps"] > 0


@pytest.mark.parametrize(
    "policy", _kinds_read_everywhere(), ids=["two-layers", "measured", "remedy"]
)
def test_two_worlds_searched_from_the_first_layer_give_the_same_report(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The two-world searches start at the first layer that reads their kind, from the
    # one-world search; started at the first layer, they find the same.
    shortcut = verify(policy)
    monkeypatch.setattr(_checks, "_first_reader", lambda vf, kind: 0)
    assert verify(policy).to_dict() == shortcut.to_dict()
