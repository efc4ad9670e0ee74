"""Composition: extends, parameter overrides, replace, disable, add; origins; cycles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import AS_OF, case_dict

from collectrules import Case, Engine, PolicyError, load_policy
from collectrules.policy import policy_from_dict

POLICIES = Path(__file__).parent / "policies"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def child(tmp_path: Path) -> Path:
    return write(
        tmp_path / "child.toml",
        """
extends = "default"
id = "child"
version = "2"
disable = ["R-Q1-GRACE"]

[parameters.recovery_horizon_months]
value = 12
chosen = true

[parameters.max_visits]
value = 3

[[layers]]
id = "ability"
default = "able"

[[layers.rules]]
id = "A-SHORT"
when = "recovery_months <= recovery_horizon_months \
and (income_loss >= 1 or cash_coverage < coverage_able)"
value = "temporarily_unable"
reason = "Replaced: only income loss or low coverage."
cites = ["Q2-SHORT"]

[[remedies.rules]]
id = "R-CHILD-VISIT"
effect = "allow"
remedies = ["visit"]
when = "quadrant == 'Q3' and dpd > 3"
reason = "Visit after three days."
cites = ["L-3D"]
""",
    )


def test_parameters_are_overridden_and_added(child: Path) -> None:
    policy = load_policy(child)
    assert policy.id == "child"
    assert policy.version == "2"
    assert policy.param("recovery_horizon_months") == 12
    assert policy.parameters["recovery_horizon_months"].chosen is True
    # keys the child does not give are kept from the base
    assert policy.parameters["recovery_horizon_months"].cites == ("Q2-SHORT",)
    assert policy.param("max_visits") == 3
    assert policy.param("coverage_able") == 1.0


def test_a_rule_is_replaced_in_place_and_says_so(child: Path) -> None:
    policy = load_policy(child)
    ability = policy.layer("ability")
    assert [r.id for r in ability.rules] == ["A-COVERED", "A-SHORT", "A-LONG-ESTIMATED", "A-LONG"]
    short = ability.rules[1]
    assert short.reason == "Replaced: only income loss or low coverage."
    assert short.origin == f"{child} (replaces <default>)"
    assert ability.rules[0].origin == "<default>"


def test_rules_are_disabled_and_added(child: Path) -> None:
    policy = load_policy(child)
    ids = [r.id for r in policy.remedy_rules]
    assert "R-Q1-GRACE" not in ids
    assert ids[-1] == "R-CHILD-VISIT"
    assert policy.remedy_rules[-1].origin == str(child)


def test_the_composed_policy_decides_accordingly(child: Path) -> None:
    engine = Engine(load_policy(child), backend="python")
    q1 = engine.decide(Case.from_dict(case_dict()), as_of=AS_OF)
    assert q1.quadrant.value == "Q1"
    assert q1.grant("grace_period") is None  # disabled
    # 18 months was short under the default's 24-month horizon, and is long here
    case = Case.from_dict(case_dict(("health_issue", None), ("recovery_months", 18)))
    assert engine.decide(case, as_of=AS_OF).ability.value == "unable"
    base = Engine("default", backend="python").decide(case, as_of=AS_OF)
    assert base.ability.value == "temporarily_unable"


def test_a_child_changes_a_layer_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        """
extends = "default"
[[layers]]
id = "quadrant"
default = "Q4"
""",
    )
    policy = load_policy(path)
    assert policy.layer("quadrant").default == "Q4"
    assert len(policy.layer("quadrant").rules) == len(
        load_policy("default").layer("quadrant").rules
    )
    assert policy.id == "default"  # the id is inherited when the child gives none


def test_extends_a_path_relative_to_the_child_and_chains(tmp_path: Path) -> None:
    (tmp_path / "bases").mkdir()
    write(
        tmp_path / "bases" / "base.toml",
        """
extends = "default"
id = "base"
[parameters.coverage_able]
value = 1.5
""",
    )
    write(
        tmp_path / "bases" / "middle.toml",
        """
extends = "base.toml"
id = "middle"
[parameters.recovery_horizon_months]
value = 18
""",
    )
    top = write(
        tmp_path / "top.toml",
        """
extends = "bases/middle.toml"
id = "top"
disable = ["R-Q4-REVIEW"]
""",
    )
    policy = load_policy(top)
    assert (policy.id, policy.param("coverage_able"), policy.param("recovery_horizon_months")) == (
        "top",
        1.5,
        18,
    )
    assert "R-Q4-REVIEW" not in policy.rule_ids()


def test_an_extends_cycle_is_an_error_that_lists_the_cycle() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(POLICIES / "cycle_a.toml")
    a, b = POLICIES / "cycle_a.toml", POLICIES / "cycle_b.toml"
    assert f"extends cycle: {a} -> {b} -> {a}" in str(info.value)
    assert info.value.problems[0].path == "extends"


def test_a_self_extending_policy_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path / "me.toml", 'extends = "me.toml"\nid = "me"\n')
    with pytest.raises(PolicyError, match="extends cycle"):
        load_policy(path)


def test_disable_names_an_unknown_rule_with_a_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path / "d.toml",
        'extends = "default"\ndisable = ["R-Q1-GRACE", "R-Q4-REVEIW", "R-NOPE"]\n',
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    problems = info.value.problems
    assert len(problems) == 2  # both unknown ids are reported together
    assert problems[0].message == "no rule 'R-Q4-REVEIW' to disable"
    assert problems[0].suggestion == "R-Q4-REVIEW"


def test_disable_needs_extends(tmp_path: Path) -> None:
    path = write(tmp_path / "d.toml", 'id = "x"\ndisable = ["R-1"]\n')
    with pytest.raises(PolicyError, match="'disable' needs 'extends'"):
        load_policy(path)


def test_extends_an_unknown_policy_suggests_a_shipped_one(tmp_path: Path) -> None:
    path = write(tmp_path / "x.toml", 'extends = "defualt"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.problems[0].suggestion == "default"


def test_composition_changes_the_content_hash_only_when_it_changes_something(
    tmp_path: Path,
) -> None:
    same = write(tmp_path / "same.toml", 'extends = "default"\n')
    assert load_policy(same).content_hash == load_policy("default").content_hash
    other = write(
        tmp_path / "other.toml", 'extends = "default"\n[parameters.lookback_days]\nvalue = 90\n'
    )
    assert load_policy(other).content_hash != load_policy("default").content_hash


def test_a_cycle_is_found_however_the_paths_are_spelt(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    write(tmp_path / "c" / "a.toml", 'extends = "../c/b.toml"\nid = "a"\n')
    write(tmp_path / "c" / "b.toml", 'extends = "./a.toml"\nid = "b"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "c" / "a.toml")
    (problem,) = info.value.problems
    assert problem.path == "extends"
    assert problem.message.startswith("extends cycle: ")
    assert problem.message.count(" -> ") == 2


def test_a_bare_parameter_value_changes_only_the_value(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", 'extends = "default"\n[parameters]\ncoverage_able = 1.2\n')
    base = load_policy("default").parameters["coverage_able"]
    mine = load_policy(path).parameters["coverage_able"]
    assert mine.value == 1.2
    assert (mine.doc, mine.cites) == (base.doc, base.cites)
    assert mine.cites  # the base has citations to keep


def test_a_relative_extends_is_read_next_to_the_file_never_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "base.toml", 'extends = "default"\nid = "wrong-base"\n')
    (tmp_path / "lender").mkdir()
    write(tmp_path / "lender" / "child.toml", 'extends = "base.toml"\nid = "child"\n')
    monkeypatch.chdir(tmp_path)  # base.toml exists here, but not next to child.toml
    with pytest.raises(PolicyError) as info:
        load_policy(Path("lender") / "child.toml")
    (problem,) = info.value.problems
    assert problem.source == str(Path("lender") / "child.toml")
    assert problem.message.startswith(
        f"extends 'base.toml': no such file in {str(Path('lender'))!r}"
    )


def test_an_unknown_disabled_id_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path / "d.toml",
        'extends = "default"\ndisable = ["R-Q4-REVEIW"]\ntitel = "x"\n',
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    # The entry is named by its place in the list, and found at its line.
    assert {(p.path, p.suggestion, p.line) for p in info.value.problems} == {
        ("disable[0]", "R-Q4-REVIEW", 2),
        ("titel", "title", 3),
    }


DEFAULT_REMEDY_IDS = [r.id for r in load_policy("default").remedy_rules]


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(
        st.sampled_from(["keep", "replace", "disable"]),
        min_size=len(DEFAULT_REMEDY_IDS),
        max_size=len(DEFAULT_REMEDY_IDS),
    ),
    added=st.integers(0, 3),
)
def test_replace_disable_and_add_compose_as_documented(plan: list[str], added: int) -> None:
    """Whatever a child replaces, disables and adds: replaced rules stay in place and say
    so, disabled ones are gone, added ones come last, and the rest is the base's."""
    ops = dict(zip(DEFAULT_REMEDY_IDS, plan, strict=True))
    rules = [
        {"id": rid, "effect": "allow", "remedy": "visit", "reason": f"mine {rid}", "cites": ["Q3"]}
        for rid, op in ops.items()
        if op == "replace"
    ] + [
        {"id": f"R-NEW-{i}", "effect": "allow", "remedy": "visit", "reason": "new"}
        for i in range(added)
    ]
    data: dict[str, Any] = {"extends": "default", "id": "child", "remedies": {"rules": rules}}
    disabled = [rid for rid, op in ops.items() if op == "disable"]
    if disabled:
        data["disable"] = disabled
    policy = policy_from_dict(data, source="child.toml")
    kept = [rid for rid in DEFAULT_REMEDY_IDS if ops[rid] != "disable"]
    assert [r.id for r in policy.remedy_rules] == kept + [f"R-NEW-{i}" for i in range(added)]
    for rule in policy.remedy_rules:
        if rule.id.startswith("R-NEW-"):
            assert rule.origin == "child.toml"
        elif ops[rule.id] == "replace":
            assert (rule.reason, rule.origin) == (
                f"mine {rule.id}",
                "child.toml (replaces <default>)",
            )
        else:
            assert rule.origin == "<default>"
