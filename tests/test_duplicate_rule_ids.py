"""A rule id an extending policy gives twice is a duplicate, as in one file: a second
rule replacing the same base rule no longer silently wins over the first (the first
was lost), in the remedy rules and in a layer's rules, through a chain of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectrules.errors import PolicyError
from collectrules.policy import load_policy

HEAD = 'extends = "{base}"\nid = "{id}"\nversion = "1.0.0"\n'
REMEDY_RULE = """
[[remedies.rules]]
id = "{rule}"
effect = "allow"
remedies = ["remind"]
when = "quadrant == 'Q1'"
reason = "{reason}"
cites = ["Q1"]
"""
LAYER_RULE = """
[[layers]]
id = "willingness"

[[layers.rules]]
id = "{rule}"
when = "presumption == 'silent_past_escalation'"
value = "unwilling"
reason = "{reason}"
cites = ["P3"]
"""


def _write(folder: Path, name: str, base: str, body: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(HEAD.format(base=base, id=name) + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("template", "rule"),
    [
        (REMEDY_RULE, "R-Q1-GRACE"),  # replaces a rule of the default policy
        (REMEDY_RULE, "R-OWN"),  # a rule of the file's own
        (LAYER_RULE, "W-PRESUMED-P3"),
        (LAYER_RULE, "W-OWN"),
    ],
)
@pytest.mark.parametrize("depth", [1, 2])
def test_a_rule_id_given_twice_by_an_extending_file_is_a_duplicate(
    tmp_path: Path, template: str, rule: str, depth: int
) -> None:
    twice = template.format(rule=rule, reason="first") + template.format(rule=rule, reason="second")
    if template is LAYER_RULE:  # one layer table holding both rules
        second = template.split("[[layers.rules]]", 1)[1].format(rule=rule, reason="second")
        twice = template.format(rule=rule, reason="first") + "[[layers.rules]]" + second
    base = "default"
    if depth == 2:
        _write(tmp_path, "middle", "default", "")
        base = "middle.toml"
    path = _write(tmp_path, "child", base, twice)
    with pytest.raises(PolicyError, match=f"duplicate rule id '{rule}'") as info:
        load_policy(path)
    assert "child.toml:" in str(info.value)


def test_one_replacement_a_file_still_replaces_the_base_rule(tmp_path: Path) -> None:
    path = _write(tmp_path, "child", "default", REMEDY_RULE.format(rule="R-Q1-GRACE", reason="own"))
    policy = load_policy(path)
    (rule,) = [r for r in policy.remedy_rules if r.id == "R-Q1-GRACE"]
    assert rule.reason == "own"


def test_a_grandchild_replaces_what_its_parent_replaced(tmp_path: Path) -> None:
    _write(tmp_path, "middle", "default", REMEDY_RULE.format(rule="R-Q1-GRACE", reason="middle"))
    path = _write(
        tmp_path, "child", "middle.toml", REMEDY_RULE.format(rule="R-Q1-GRACE", reason="child")
    )
    (rule,) = [r for r in load_policy(path).remedy_rules if r.id == "R-Q1-GRACE"]
    assert rule.reason == "child"
