"""Defects found in the policy authors' entry points: the testing kit, ``diff`` and
``impact``, the golden command and the section plug-ins."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pendulum
import pytest

import collectrules.policy.loader as loader_module
import collectrules.policy.section as section_module
from collectrules.authoring.changes import diff_policies, impact
from collectrules.cli import main
from collectrules.errors import InputError, PolicyError
from collectrules.model.case import Case
from collectrules.policy import Policy, policy_from_dict
from collectrules.policy.section import BaseSection, installed_sections
from collectrules.testing import InvariantViolation, check_monotonic

AS_OF = "2026-04-03T12:00:00+08:00"
ROW = {
    "case_id": "C1",
    "product": "loan",
    "currency": "CNY",
    "due_date": "2026-01-10",
    "principal": "10000",
    "overdue_amount": "2500",
    "timezone": "Asia/Shanghai",
}


def _default_text() -> str:
    return (resources.files("collectrules.policies") / "default.toml").read_text("utf-8")


def _default_data() -> dict[str, Any]:
    return tomllib.loads(_default_text())


# --------------------------------------------------------------------------- diff


def test_diff_names_a_rule_that_turns_into_a_presumption() -> None:
    # W-PRESUMED-P3 stops being marked presumed: the decision's willingness level loses
    # its "presumed" mark and label, and the diff said "no differences".
    old = policy_from_dict(_default_data())
    data = _default_data()
    layer = next(la for la in data["layers"] if la["id"] == "willingness")
    rule = next(r for r in layer["rules"] if r["id"] == "W-PRESUMED-P3")
    rule["presumed"] = False
    new = policy_from_dict(data)
    case = Case.from_dict({**ROW, "due_date": "2026-02-20"})
    from collectrules import Engine

    before = Engine(old).decide(case, as_of=AS_OF).levels["willingness"]
    after = Engine(new).decide(case, as_of=AS_OF).levels["willingness"]
    assert (before.presumed, after.presumed) == (True, False)
    diff = diff_policies(old, new)
    assert not diff.identical
    assert [str(c) for c in diff.of("rule")] == [
        "changed rule W-PRESUMED-P3 (layer willingness): presumed: True -> False"
    ]


def test_diff_names_a_layer_whose_labels_change() -> None:
    # A level's labels are the decision's labels: changing one changed every decision
    # of that level, and the diff said nothing.
    old = policy_from_dict(_default_data())
    data = _default_data()
    layer = next(la for la in data["layers"] if la["id"] == "willingness")
    assert layer.get("labels"), "the default's willingness layer has labels"
    value = sorted(layer["labels"])[0]
    layer["labels"][value] = ["renamed", "改名"]
    new = policy_from_dict(data)
    diff = diff_policies(old, new)
    assert not diff.identical
    (change,) = diff.of("layer")
    assert change.id == "willingness"
    assert [key for key, _, _ in change.fields] == ["labels"]
    assert f"{value}: renamed / 改名" in str(change)


# --------------------------------------------------------------------------- check_monotonic


def test_check_monotonic_fails_when_told_coverage_higher_is_worse() -> None:
    # The reference: spelt right, the direction is used and the check fails.
    with pytest.raises(InvariantViolation):
        check_monotonic("default", measured_worse={"cash_coverage": "higher"}, method="search")


@pytest.mark.parametrize("method", ["search", "both"])
def test_check_monotonic_refuses_a_misspelt_measured_kind(method: Any) -> None:
    # Misspelt, the kind was silently left alone and the check passed: an assertion
    # that could not fail.
    with pytest.raises(InputError) as info:
        check_monotonic("default", measured_worse={"cash_coverag": "higher"}, method=method)
    problem = info.value.problems[0]
    assert problem.path == "measured_worse.cash_coverag"
    assert problem.suggestion == "cash_coverage"


def test_check_monotonic_refuses_a_kind_that_is_not_a_measured_ability_signal() -> None:
    with pytest.raises(InputError, match="measured ability signal") as info:
        check_monotonic("default", measured_worse={"promise_broken": "higher"})
    assert info.value.problems[0].path == "measured_worse.promise_broken"


# --------------------------------------------------------------------------- plug-ins


class _FailsOnC1(BaseSection):
    """A third-party section whose ``facts`` hook raises for one case."""

    key = "failing"
    doc = "a section that fails on case C1"

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        return raw, {}

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if case.case_id == "C1":
            msg = "the plug-in's own bug"
            raise RuntimeError(msg)
        return {}


def _failing_policy() -> Policy:
    data = _default_data()
    data["failing"] = {}
    return policy_from_dict(data, sections=[*installed_sections(), _FailsOnC1()])


def test_impact_reports_a_plugin_failure_as_the_rows_error() -> None:
    rows = [ROW, {**ROW, "case_id": "C2"}]
    report = impact("default", _failing_policy(), rows, as_of=AS_OF)
    assert (report.total, report.decided) == (2, 1)
    ((where, side, error),) = report.errors
    assert (where, side) == ("case 1", "new")
    assert "RuntimeError" in error
    assert "the plug-in's own bug" in error


def test_golden_command_reports_a_plugin_failure_as_a_bad_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins = (*installed_sections(), _FailsOnC1())
    monkeypatch.setattr(loader_module, "installed_sections", lambda: plugins)
    policy = tmp_path / "policy.toml"
    policy.write_text(_default_text() + "\n[failing]\n", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    rows = [ROW, {**ROW, "case_id": "C2"}]
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "golden_cases.toml"
    code = main(
        ["golden", str(cases), "--out", str(out), "--policy", str(policy), "--as-of", AS_OF]
    )
    _, err = capsys.readouterr()
    assert code == 1  # some rows bad; the others written
    assert "cases.jsonl:1" in err
    assert "the plug-in's own bug" in err
    written = tomllib.loads(out.read_text("utf-8"))
    assert [c["id"] for c in written["cases"]] == ["C2"]


class _BadParse(BaseSection):
    key = "broken"
    doc = "a section whose parser fails"

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour

    def parse(self, raw: Any, loader: Any, params: Any) -> Any:
        if self.behaviour == "raises":
            msg = "cannot read this"
            raise KeyError(msg)
        if self.behaviour == "none":
            return None
        if self.behaviour == "three":
            return raw, {}, 3
        return raw, {"broken_fact": "not a field spec"}


@pytest.mark.parametrize("behaviour", ["raises", "none", "three", "fields"])
def test_a_plugin_parser_that_fails_is_a_policy_error_naming_its_section(behaviour: str) -> None:
    data = _default_data()
    data["broken"] = {"x": 1}
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data, sections=[*installed_sections(), _BadParse(behaviour)])
    assert info.value.problems[0].path == "broken"
    assert "'broken' section" in str(info.value)


@pytest.mark.parametrize("offered", [5, "abc", [object()]], ids=["int", "text", "no-key"])
def test_an_entry_point_offering_no_sections_is_a_policy_error(
    offered: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    class _EntryPoint:
        name = "other"
        value = "other_package:SECTIONS"

        def load(self) -> object:
            return offered

    found = [*section_module.entry_points(group=section_module.ENTRY_POINT_GROUP), _EntryPoint()]
    monkeypatch.setattr(section_module, "entry_points", lambda group: found)
    with pytest.raises(PolicyError, match="other_package:SECTIONS") as info:
        installed_sections.__wrapped__()
    assert info.value.problems[0].path == "sections"
