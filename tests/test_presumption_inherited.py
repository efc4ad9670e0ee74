"""A level drawn from a presumed level is a presumption too.

Past ``presume_over_dpd`` days with no sign of willingness, willingness is presumed
impaired (``W-PRESUMED-LATE``, marked ``presumed``). The quadrant read from it is then
no more than a presumption, even when the rule that gives it (``QUAD-Q4``) is the one an
evidenced unwilling debtor meets: the quadrant's level is marked presumed and its labels
say so, on both back ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, InputError
from collectrules.cli import main
from collectrules.policy import Policy
from collectrules.testing import dated_cases
from helpers import AS_OF as HELPER_AS_OF
from helpers import case_dict, shared_engine

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
CURRENCY = {"uk": "GBP", "us_regf": "USD", "ifrs9": "EUR"}
AS_OF = "2026-04-03T12:00:00+08:00"


def late_and_unable(policy: str) -> Case:
    """A loan 123 days past due, with an accident two days ago that it will take three years
    to recover from, and no sign of willingness."""
    data: dict[str, Any] = {
        "case_id": f"P-{policy}",
        "product": "loan",
        "currency": CURRENCY.get(policy, "CNY"),
        "principal": "200000.00",
        "overdue_amount": "8500.00",
        "due_date": "2025-12-01",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": "accident", "observed_at": "2026-04-01T10:00:00+08:00"},
            # recovery estimated beyond the horizon: ability is evidence, not presumed
            {"kind": "recovery_months", "observed_at": "2026-04-01T10:00:00+08:00", "value": 36},
        ],
    }
    return Case.from_dict(data)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", SHIPPED)
def test_a_quadrant_read_from_a_presumed_willingness_is_presumed(policy: str, backend: str) -> None:
    decision = shared_engine(policy, backend).decide(late_and_unable(policy), as_of=AS_OF)
    willingness = decision.levels["willingness"]
    assert (willingness.rules, willingness.presumed) == (("W-PRESUMED-LATE",), True)
    assert decision.levels["ability"].presumed is False
    quadrant = decision.levels["quadrant"]
    # QUAD-Q4 is not itself marked presumed: the presumption comes from willingness.
    assert (decision.quadrant.value, quadrant.rules) == ("Q4", ("QUAD-Q4",))
    assert quadrant.presumed is True
    assert quadrant.label_en.endswith("(presumed)")
    assert quadrant.label_zh.endswith("（推定）")
    assert Decision.from_json(decision.to_json()).levels["quadrant"] == quadrant


def test_an_evidenced_quadrant_from_the_same_rule_is_not_presumed() -> None:
    """The mark follows the levels read, not the rule: QUAD-Q4 on a refusal is evidence."""
    data = {**late_and_unable("default").to_dict()}
    data["signals"] = [
        *data["signals"],
        {"kind": "refused_to_pay", "observed_at": "2026-04-02T10:00:00+08:00"},
    ]
    decision = shared_engine("default").decide(Case.from_dict(data), as_of=AS_OF)
    assert decision.levels["willingness"].presumed is False
    assert decision.levels["quadrant"].rules == ("QUAD-Q4",)
    assert decision.levels["quadrant"].presumed is False
    assert not decision.levels["quadrant"].label_en.endswith("(presumed)")


@pytest.mark.parametrize(
    ("lang", "marked", "unmarked"),
    [
        ("en", "Q4 unwilling, ability weakened or lost (presumed)", "Q3 unwilling and able"),
        ("zh", "第四类：无还款意愿，还款能力减弱或丧失（推定）", "Q3 第三类"),
    ],
)
def test_the_cli_marks_a_presumed_quadrant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, marked: str, unmarked: str
) -> None:
    """``explain`` and ``decide`` print the quadrant with its presumption, as they print
    the willingness it was read from; an evidenced quadrant is printed unmarked."""
    late = tmp_path / "late.json"
    late.write_text(json.dumps(late_and_unable("default").to_dict()), encoding="utf-8")
    assert main(["explain", str(late), "--as-of", AS_OF, "--lang", lang]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert marked in header
    refuses = Path(__file__).parent.parent / "examples" / "cases" / "q3_refuses.json"
    assert main(["explain", str(refuses), "--as-of", AS_OF, "--lang", lang]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert unmarked in header
    assert "(presumed)" not in header
    assert "（推定）" not in header


def test_the_decide_table_marks_a_presumed_quadrant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = tmp_path / "late.json"
    late.write_text(json.dumps(late_and_unable("default").to_dict()), encoding="utf-8")
    assert main(["decide", str(late), "--as-of", AS_OF]) == 0
    # the table folds a long cell over lines: the quadrant column's pieces, joined
    cells = [line.split("│") for line in capsys.readouterr().out.splitlines()]
    quadrant = " ".join(c[3].strip() for c in cells if len(c) > 3 and c[3].strip())
    assert quadrant == "Q4 unwilling, ability weakened or lost (presumed)"


def expected_presumed(policy: Policy, decision: Decision) -> dict[str, bool]:
    """Each level's mark, worked out from the policy alone: a rule it used is marked
    ``presumed``, or reads the output of a level already marked, in layer order."""
    marked: dict[str, bool] = {}
    for layer in policy.layers:
        level = decision.levels.get(layer.output)
        if level is None or level.layer != layer.id:
            continue
        rules = {rule.id: rule for rule in layer.rules}
        used = [rules[rule_id] for rule_id in level.rules]
        marked[layer.output] = any(rule.presumed for rule in used) or any(
            marked.get(field, False) for rule in used for field in rule.when.fields()
        )
    return marked


@pytest.mark.parametrize("backend", ["python", "durable"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_a_presumption_carries_to_every_level_that_reads_it(
    backend: str, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(SHIPPED))
    engine = shared_engine(name, backend)
    c, when = data.draw(dated_cases(engine.policy, max_kinds=4))
    try:
        decision = engine.decide(c, as_of=when)
    except InputError:  # a case the pack cannot classify (no figure for its currency)
        return
    marked = expected_presumed(engine.policy, decision)
    shown = {output: decision.levels[output].presumed for output in marked}
    assert shown == marked
    for output, presumed in shown.items():
        assert decision.levels[output].label_en.endswith("(presumed)") is presumed


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", SHIPPED)
def test_an_impairment_with_no_recovery_estimate_is_a_presumed_lasting_inability(
    policy: str, backend: str
) -> None:
    """Q2-LONG is recovery unlikely or beyond the horizon. With no estimate at all, the
    default presumes it (A-LONG, marked presumed) and the quadrant read from it is a
    presumption too; an estimate beyond the horizon is evidence (A-LONG-ESTIMATED), and
    one within it gives a temporary inability (A-SHORT)."""
    engine = shared_engine(policy, backend)
    expected = {
        None: ("A-LONG", "unable", True),
        36: ("A-LONG-ESTIMATED", "unable", False),
        12: ("A-SHORT", "temporarily_unable", False),
    }
    for months, (rule, value, presumed) in expected.items():
        signals = [("documents_provided", None), ("health_issue", None)]
        if months is not None:
            signals.append(("recovery_months", months))
        data = case_dict(*signals, currency=CURRENCY.get(policy, "CNY"))
        decision = engine.decide(Case.from_dict(data), as_of=HELPER_AS_OF)
        ability = decision.levels["ability"]
        assert (ability.rules, ability.value, ability.presumed) == ((rule,), value, presumed)
        assert ability.label_en.endswith("(presumed)") is presumed
        assert decision.levels["willingness"].presumed is False
        assert decision.quadrant.value == "Q2"
        assert decision.levels["quadrant"].presumed is presumed
        reason = next(f.reason for f in decision.trace if f.rule_id == rule)
        assert ("no estimate" in reason) is (months is None)
