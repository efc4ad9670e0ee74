"""The verifier explores the case inputs that the regulation packs read.

A pack's fact may turn on case fields that no condition reads: the ``reage`` pack of
us_regf reads ``opened_on`` and ``consecutive_minimum_payments`` (without them
``us_reage`` is ``unknown``, never ``eligible``), and the five-level ladder of
cn_bank_loan reads the debtor's shares (its cross-default floor) and ``restructured``
events (its restructuring hold). The verifier varies them on either side of each pack's
figures, so that a contradiction that only they produce is found, with a case that
carries them and that the engine reproduces.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest

from collectrules import Case, Engine, load_policy
from collectrules.authoring.verify import (
    REFERENCE_AS_OF,
    Finding,
    FindingKind,
    VerificationReport,
    build_case,
    reproduces,
    verify,
)
from collectrules.authoring.verify._space import _Context
from collectrules.compliance.regulatory import whole_months
from verified_reports import VerifiedReports

POLICIES = Path(__file__).parent / "policies"
REAGE = POLICIES / "reage_investigate.toml"
CN = POLICIES / "cn_pack_inputs.toml"
TODAY = dt.date.fromisoformat(REFERENCE_AS_OF[:10])


def _of_rule(report: VerificationReport, kind: FindingKind, rule_id: str) -> list[Finding]:
    return [f for f in report.of_kind(kind) if rule_id in f.rule_ids]


def _envelopes(report: VerificationReport, rule_id: str) -> dict[str, Finding]:
    """The rule's envelope findings by quadrant, each with a case; the rule is not
    called unreachable (as it was while the verifier never set the pack's inputs)."""
    assert not _of_rule(report, FindingKind.UNREACHABLE, rule_id)
    out: dict[str, Finding] = {}
    for finding in _of_rule(report, FindingKind.ENVELOPE, rule_id):
        assert finding.counterexample is not None
        out[finding.counterexample.expect["quadrant"]] = finding
    return out


def _case(finding: Finding) -> dict[str, Any]:
    assert finding.counterexample is not None
    return dict(finding.counterexample.case)


def _reproduced(finding: Finding, target: Path, backend: str = "python") -> bool:
    return reproduces(finding, Engine(load_policy(target), backend=backend))  # type: ignore[arg-type]


def _dpd(case: dict[str, Any]) -> int:
    return (TODAY - dt.date.fromisoformat(case["due_date"])).days


def test_reage_eligibility_is_explored(verified: VerifiedReports) -> None:
    # R-INVESTIGATE-REAGEABLE allows an asset investigation for a card that may be
    # re-aged, whatever the quadrant: only a case with opened_on at least 9 months back
    # and at least 3 consecutive minimum payments is eligible. Before, the verifier never
    # set them, found us_reage always 'unknown' and called the rule unreachable.
    report = verified(REAGE)
    found = _envelopes(report, "R-INVESTIGATE-REAGEABLE")
    assert set(found) == {"Q1", "Q2"}
    policy = load_policy(REAGE)
    for finding in found.values():
        case = _case(finding)
        assert case["product"] == "credit_card"
        opened = dt.date.fromisoformat(case["opened_on"])
        assert whole_months(opened, TODAY) >= 9
        assert case["consecutive_minimum_payments"] >= 3
        built = Case.from_dict(case, signal_kinds=tuple(policy.signals))
        decision = Engine(policy, backend="python").decide(built, as_of=REFERENCE_AS_OF)
        assert decision.facts["us_reage"] == "eligible"
        assert _reproduced(finding, REAGE)


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_cross_default_floor_is_explored(verified: VerifiedReports, backend: str) -> None:
    # R-INVESTIGATE-CROSS-DEFAULT allows an asset investigation for a loan classed
    # substandard at 60 days past due or less: only the cross-default floor gives that,
    # for a debtor whose share passes its figure.
    found = _envelopes(verified(CN), "R-INVESTIGATE-CROSS-DEFAULT")
    assert set(found) == {"Q1", "Q2"}
    figures = {"debtor_npl_share": Decimal("0.1"), "debtor_90dpd_share_all_banks": Decimal("0.2")}
    for finding in found.values():
        case = _case(finding)
        assert _dpd(case) <= 60
        assert any(Decimal(case[k]) > v for k, v in figures.items() if k in case)
        assert _reproduced(finding, CN, backend)


def test_restructuring_hold_is_explored(verified: VerifiedReports) -> None:
    # R-REVIEW-RESTRUCTURED allows an internal review for a loan classed special mention
    # with nothing past due: only the observation period after a restructured event
    # gives that.
    found = _envelopes(verified(CN), "R-REVIEW-RESTRUCTURED")
    assert "Q1" in found
    for finding in found.values():
        case = _case(finding)
        assert _dpd(case) == 0
        assert [e["kind"] for e in case["events"]] == ["restructured"]
        assert _reproduced(finding, CN)


def test_coherence_is_checked_under_the_floor(verified: VerifiedReports) -> None:
    # R-NO-REMIND-CROSS-DEFAULT blocks reminders under the floor, while the loan's
    # timeline calls for its reminder steps: a contradiction with the timeline that
    # only cases with a share past its figure show.
    report = verified(CN)
    found = [
        f for f in report.of_kind(FindingKind.COHERENCE) if "R-NO-REMIND-CROSS-DEFAULT" in f.message
    ]
    assert {f.counterexample.expect["step"] for f in found if f.counterexample} == {
        "L-DUE",
        "L-24H",
    }
    for finding in found:
        case = _case(finding)
        assert "debtor_90dpd_share_all_banks" in case or "debtor_npl_share" in case
        assert _reproduced(finding, CN)


def test_the_policies_they_derive_from_stay_clean(verified: VerifiedReports) -> None:
    # The same exploration finds nothing in the shipped policies, and the warning names
    # the inputs it varied.
    for name, inputs in (
        ("us_regf", "(opened_on, consecutive_minimum_payments)"),
        ("cn_bank_loan", "(debtor_npl_share, debtor_90dpd_share_all_banks)"),
    ):
        report = verified(name)
        assert report.ok, [str(f) for f in report.errors]
        (warning,) = [
            f
            for f in report.of_kind(FindingKind.UNVERIFIED)
            if "computed by the policy's" in f.message
        ]
        assert f"the case inputs the regulation packs read {inputs}" in warning.message
        restructured = "with a restructured event at the instant decided" in warning.message
        assert restructured is (name == "cn_bank_loan")


def test_every_reage_value_the_conditions_tell_apart_is_explored(tmp_path: Path) -> None:
    # With a rule on each of the three values, the search reaches each for a card: none
    # of the inputs (unknown), too few payments (not eligible), and both at the figures.
    path = tmp_path / "reage_values.toml"
    rules = "".join(
        f"""
[[remedies.rules]]
id = "R-{value.upper()}"
effect = "allow"
remedies = ["remind"]
when = "us_reage == '{value}'"
reason = "Remind."
cites = ["US-REAGE"]
"""
        for value in ("eligible", "not_eligible", "unknown")
    )
    path.write_text(f'extends = "us_regf"\nid = "reage-values"\nversion = "1"\n{rules}')
    ctx = _Context(load_policy(path), REFERENCE_AS_OF)
    group = ctx.group_var({})
    assert group is not None
    cards = {d["us_reage"]: d for d in group.domain if d["product"] == "credit_card"}
    assert set(cards) == {"eligible", "not_eligible", "unknown"}
    assert "opened_on" not in cards["unknown"]
    assert cards["not_eligible"]["consecutive_minimum_payments"] == 2
    assert cards["eligible"]["consecutive_minimum_payments"] == 3
    report = verify(path)
    assert report.ok, [str(f) for f in report.errors]


def test_build_case_carries_the_pack_inputs() -> None:
    policy = load_policy("cn_bank_loan")
    as_of = pendulum.parse(REFERENCE_AS_OF)
    witness = {
        "dpd": 5,
        "opened_on": dt.date(2025, 4, 15),
        "consecutive_minimum_payments": 3,
        "debtor_npl_share": Decimal("0.11"),
        "debtor_90dpd_share_all_banks": "0.2",
        "restructured": True,
    }
    case = build_case(policy, as_of, witness)
    assert case["opened_on"] == "2025-04-15"
    assert case["consecutive_minimum_payments"] == 3
    assert case["debtor_npl_share"] == "0.11"
    assert case["debtor_90dpd_share_all_banks"] == "0.2"
    assert case["events"] == [{"kind": "restructured", "at": "2026-01-15T12:00:00+00:00"}]
    built = Case.from_dict(case, signal_kinds=tuple(policy.signals))
    assert built.debtor_npl_share == Decimal("0.11")
    # nothing set: none of them
    plain = build_case(policy, as_of, {"dpd": 5})
    assert not {"opened_on", "consecutive_minimum_payments", "debtor_npl_share"} & set(plain)
    assert plain["events"] == []
