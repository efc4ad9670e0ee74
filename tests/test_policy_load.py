"""Loading policies: errors name the file, the line, the rule and the key path, all at
once; YAML and JSON load too; nothing in a policy file is ever executed."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import ConditionError, EngineLimitError, PolicyError, load_policy, parse
from collectrules.policy import policy_from_dict

POLICIES = Path(__file__).parent / "policies"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", 'id = "p"\nversion = "1"\n[parameters\nx = 1\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert (problem.source, problem.line) == (str(path), 3)
    assert str(problem).startswith(f"{path}:3: TOML syntax error, column 12: ")


def test_a_field_typo_names_the_rule_and_the_key_path() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(POLICIES / "field_typo.toml")
    (problem,) = info.value.problems
    path = POLICIES / "field_typo.toml"
    assert str(problem) == (
        f"{path}:11: remedies[R-Q2-extend].when: unknown field 'recovery_month' "
        "(did you mean 'recovery_months'?)"
    )
    assert problem.suggestion == "recovery_months"


def test_every_problem_of_a_file_is_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path / "many.toml",
        """\
extends = "default"
id = "many"
titel = "typo"

[[layers]]
id = "ability"
hit_policy = "fist"

[[layers.rules]]
id = "A-X"
when = "cash_coverag > 1"
value = "abel"

[[remedies.rules]]
id = "R-X"
effect = "allow"
remedies = ["sue"]
when = "dpd > 30 and"
reason = "x"
""",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    found = {(p.path, p.line, p.suggestion) for p in info.value.problems}
    assert found == {
        ("titel", 3, "title"),
        ("layers[ability].hit_policy", 7, "first"),
        ("layers[ability].rules[A-X].value", 12, "able"),
        ("layers[ability].rules[A-X].when", 11, "cash_coverage"),
        ("remedies[R-X].remedy", 17, None),
        ("remedies[R-X].when", 18, None),
    }
    text = str(info.value)
    assert text.startswith(f"6 problems in policy {path}:")
    assert "unknown remedy 'sue'" in text
    assert "remedies[R-X].when: syntax error" in text


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("__import__('os').system('touch {marker}')", "a function call is not allowed"),
        ("os.system('touch {marker}')", "a function call is not allowed"),
        ("os.environ == 'x'", "attribute access is not allowed"),
        ("(lambda: 1)()", "a function call is not allowed"),
        ("dpd.__class__", "attribute access is not allowed"),
        ("[c for c in ()]", "a comprehension is not allowed"),
        ("dpd[0] > 1", "a subscript is not allowed"),
        ("f'{dpd}' == 'x'", "an f-string is not allowed"),
        ("dpd + 1 > 2", "arithmetic is not allowed"),
        ("(x := 1)", "an assignment expression is not allowed"),
        ("__builtins__", "unknown field '__builtins__'"),
    ],
)
def test_code_in_a_condition_is_refused_never_run(
    tmp_path: Path, condition: str, message: str
) -> None:
    marker = tmp_path / "pwned"
    text = condition.replace("{marker}", str(marker))
    data = {
        "extends": "default",
        "remedies": {
            "rules": [
                {"id": "R-EVIL", "effect": "allow", "remedy": "visit", "when": text, "reason": "x"}
            ]
        },
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data, source="<evil>")
    assert message in str(info.value)
    assert "remedies[R-EVIL].when" in str(info.value)
    assert not marker.exists()


def test_the_injection_test_policy_is_refused() -> None:
    marker = Path("/tmp/collectrules-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(PolicyError) as info:
        load_policy(POLICIES / "injection.toml")
    (problem,) = info.value.problems
    assert problem.path == "remedies[R-PWNED].when"
    assert problem.line == 11
    assert problem.message == "a function call is not allowed in a condition (column 1)"
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("abdp_ ()[]'.,:=<>!+-*/01@{}\\\"lmnotrs")), max_size=40)
)
def test_any_text_either_parses_or_is_a_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        parse(text)


def test_a_yaml_policy_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """\
extends: default
id: yaml-child
parameters:
  recovery_horizon_months: {value: 12}
remedies:
  rules:
    - id: R-Y
      effect: allow
      remedy: visit
      when: "quadrant == 'Q3'"
      reason: Visit.
      cites: [L-3D]
""",
    )
    policy = load_policy(path)
    assert policy.id == "yaml-child"
    assert policy.param("recovery_horizon_months") == 12
    assert policy.remedy_rules[-1].id == "R-Y"


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(
        tmp_path / "evil.yaml", f"id: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    with pytest.raises(PolicyError, match="YAML syntax error"):
        load_policy(path)
    assert not marker.exists()


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "id: x\nlayers: [\n  - a\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.problems[0].line is not None
    assert "YAML syntax error, column" in str(info.value)


def test_a_json_policy_loads_and_its_errors_have_lines(tmp_path: Path) -> None:
    good = write(tmp_path / "p.json", json.dumps({"extends": "default", "id": "j"}))
    assert load_policy(good).id == "j"
    bad = write(tmp_path / "bad.json", '{"id": "j",\n "version": }')
    with pytest.raises(PolicyError) as info:
        load_policy(bad)
    assert info.value.problems[0].line == 2


def test_a_policy_past_durable_rules_limits_is_refused_naming_the_limit() -> None:
    rules = [
        {"id": f"R-{i}", "effect": "allow", "remedy": "visit", "when": f"dpd >= {i}", "reason": "r"}
        for i in range(64)
    ]
    with pytest.raises(EngineLimitError) as info:
        policy_from_dict({"extends": "default", "remedies": {"rules": rules}})
    assert info.value.limit == "matches at once"
    assert "DURABLE_RULES.md #4" in str(info.value)


def test_an_unknown_shipped_name_lists_the_shipped_policies() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("defualt")
    assert "shipped: " in str(info.value)
    assert info.value.problems[0].suggestion == "default"
