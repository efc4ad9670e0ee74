"""Policies are checked fully at load: parameters have types and ranges, and conditions
are type-checked entirely, range bounds included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from collectrules import Engine, PolicyError
from collectrules.cli import app
from collectrules.policy import ParameterSpec, load_policy, policy_from_dict
from collectrules.policy.model import CORE_PARAMETERS
from collectrules.timeline.stages import TIMELINE_PARAMETERS
from helpers import make_case

AS_OF = "2026-09-01T12:00:00+08:00"


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),  # crashed every decision
        (True, "True"),  # silently meant one day
        (2**64, str(2**64)),  # overflowed
        (0, "0"),
        (-3, "-3"),
        (1.5, "1.5"),
        (36_501, "36501"),
    ],
)
def test_lookback_days_is_a_positive_whole_number_up_to_a_bound(value: Any, shown: str) -> None:
    found = problems({"extends": "default", "parameters": {"lookback_days": value}})
    assert len(found) == 1
    assert "parameters.lookback_days: expected a positive whole number up to 36500" in found[0]
    assert f"got {shown}" in found[0]
    assert "read by the engine" in found[0]


def test_a_whole_lookback_written_as_a_float_is_read_as_a_whole_number() -> None:
    policy = policy_from_dict({"extends": "default", "parameters": {"lookback_days": 30.0}})
    by_durable = Engine(policy).decide(make_case(("refused_to_pay", None)), as_of=AS_OF)
    by_python = Engine(policy, backend="python").decide(
        make_case(("refused_to_pay", None)), as_of=AS_OF
    )
    assert by_durable.to_json() == by_python.to_json()


def test_timeline_parameters_are_checked_without_a_timeline_section() -> None:
    # Promises are judged with them whether or not the policy has a [timeline] table.
    found = problems({"extends": "default", "parameters": {"promise_grace_days": "x"}})
    assert any(
        "parameters.promise_grace_days: expected a non-negative whole number" in p for p in found
    )
    assert any("read by the timeline" in p for p in found)


def test_every_parameter_read_by_name_has_a_spec() -> None:
    for name, spec in {**CORE_PARAMETERS, **TIMELINE_PARAMETERS}.items():
        assert isinstance(spec, ParameterSpec), name
        if spec.default is not None:
            assert spec.accepts(spec.default), name
        assert not spec.accepts(True), name


def test_a_wrong_parameter_is_reported_at_its_file_and_line_with_its_uses(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "default"\nid = "mine"\n\n'
        '[parameters]\ncoverage_able = "abc"\nlookback_days = true\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    by_path = {p.path: p for p in info.value.problems}
    coverage = by_path["parameters.coverage_able"]
    assert (coverage.source, coverage.line) == (str(path), 5)
    assert "compare it with a number, not 'abc'" in coverage.message
    assert "'A-COVERED', 'A-SHORT', 'A-LONG-ESTIMATED', 'A-LONG'" in coverage.message
    lookback = by_path["parameters.lookback_days"]
    assert (lookback.source, lookback.line) == (str(path), 6)
    # `check` reports the same, and fails.
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:5: parameters.coverage_able" in result.output
    assert f"{path}:6: parameters.lookback_days" in result.output


def _with_when(when: str) -> dict[str, Any]:
    rule = {"id": "R-Z", "effect": "allow", "remedy": "visit", "reason": "r", "when": when}
    return {"extends": "default", "id": "z", "remedies": {"rules": [rule]}}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # Loaded; then python and the verifier raised TypeError, durable silently fired.
        ("'3' <= dpd <= 90", "compare it with a number, not '3'"),
        ("3 <= dpd <= '90'", "compare it with a number, not '90'"),
        ("true <= dpd <= 90", "compare it with a number, not True"),
        ("1 <= product <= 3", "a range needs a numeric field"),
        (f"0 <= dpd <= {2**64}", "too large to compare exactly"),
    ],
)
def test_range_bounds_are_type_checked(when: str, expected: str) -> None:
    found = problems(_with_when(when))
    assert any("remedies[R-Z].when" in p and expected in p for p in found), found


def test_a_parameter_used_as_a_range_bound_is_type_checked() -> None:
    data = _with_when("low_dpd <= dpd <= 90")
    data["parameters"] = {"low_dpd": "3"}
    found = problems(data)
    assert any("parameters.low_dpd: rule 'R-Z' cannot use it" in p for p in found), found


def test_conditions_built_in_python_are_checked_the_same_way() -> None:
    from collectrules.conditions import Between, Param

    data = _with_when("dpd > 0")
    data["parameters"] = {"low_dpd": "3"}
    data["remedies"]["rules"][0]["when"] = Between("dpd", Param("low_dpd"), 90)
    found = problems(data)
    assert any("parameters.low_dpd: rule 'R-Z' cannot use it" in p for p in found), found
    data["remedies"]["rules"][0]["when"] = Between("dpd", "3", 90)
    found = problems(data)
    assert any("not '3'" in p for p in found), found
