"""Rule reasons may carry parameter values: ``{extension_max_dpd}`` is filled in every
decision, in the remedies and in the trace; an unknown placeholder is a policy error
with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectrules import Case, Engine, PolicyError, load_policy

ROOT = Path(__file__).parent.parent
LENDER = ROOT / "examples" / "custom_policy" / "policy.toml"
AS_OF = "2026-09-03T12:00:00+08:00"  # Q2-HEALTH's due date is 2026-03-31: past 90 days


def _case() -> Case:
    return Case.from_dict(
        json.loads((ROOT / "examples" / "cases" / "q2_health_short.json").read_text("utf-8"))
    )


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_parameter_in_a_reason_is_filled_with_its_value(backend: str) -> None:
    decision = Engine(load_policy(str(LENDER)), backend=backend).decide(_case(), as_of=AS_OF)
    (block,) = [b for b in decision.blocked if b.rule_id == "R-EXAMPLE-NO-EXTEND-LATE"]
    assert "more than 90 days past due" in block.reason
    (firing,) = [f for f in decision.trace if f.rule_id == "R-EXAMPLE-NO-EXTEND-LATE"]
    assert "more than 90 days past due" in firing.reason
    assert "{" not in firing.reason


def test_a_layer_rules_reason_is_filled_in_the_trace(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(
        'extends = "default"\nid = "p"\nversion = "1"\n'
        "[[layers]]\n"
        'id = "watch"\noutput = "watch"\nvalues = ["yes", "no"]\nhit_policy = "first"\n'
        'default = "no"\n'
        "[[layers.rules]]\n"
        'id = "WATCH-LONG"\nwhen = "dpd > 30"\nvalue = "yes"\n'
        'reason = "More than {lookback_days} days past due ({dpd} days)."\n',
        encoding="utf-8",
    )
    loaded = load_policy(str(policy))
    decision = Engine(loaded, backend="python").decide(_case(), as_of=AS_OF)
    (firing,) = [f for f in decision.trace if f.rule_id == "WATCH-LONG"]
    lookback = loaded.parameters["lookback_days"].value
    assert firing.reason == f"More than {lookback} days past due ({decision.facts['dpd']} days)."


def test_an_unknown_placeholder_is_a_policy_error_with_file_and_line(tmp_path: Path) -> None:
    text = LENDER.read_text(encoding="utf-8").replace(
        "{extension_max_dpd} days", "{extension_max_dpdd} days"
    )
    policy = tmp_path / "lender.toml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(str(policy))
    (problem,) = info.value.problems
    assert "{extension_max_dpdd} names no fact field or parameter" in problem.message
    assert problem.suggestion == "extension_max_dpd"
    assert problem.source == str(policy)
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "{extension_max_dpdd}" in t)
    assert problem.line == line
