"""Loading policies: errors name the file, the line, the rule and the key path, all at
once; YAML and JSON load too; nothing in a policy file is ever executed."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import ConditionError, Engine, EngineLimitError, PolicyError, load_policy, parse
from collectrules.authoring.verify import verify
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
        f"{path}:11: remedies[R-Q2-extend].when: unknown name 'recovery_month': "
        "neither a fact field nor a parameter of the policy "
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
    with pytest.raises(PolicyError, match="YAML tag refused"):
        load_policy(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/object:collections.OrderedDict {}",
        "!!python/module:os",
    ],
)
def test_no_python_tag_is_ever_constructed_anywhere_in_a_yaml_policy(
    tmp_path: Path, value: str
) -> None:
    marker = tmp_path / "pwned"
    tag = value.replace("{marker}", str(marker))
    path = write(
        tmp_path / "evil.yaml",
        "extends: default\nid: evil\nremedies:\n  rules:\n    - id: R-EVIL\n"
        f"      effect: allow\n      remedy: visit\n      reason: x\n      when: {tag}\n",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.message.startswith("YAML tag refused, column ")
    assert "tags that build objects are refused" in problem.message
    assert problem.line == 9
    assert not marker.exists()


def test_yaml_semantic_errors_name_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """\
extends: default
id: yaml-child
remedies:
  rules:
    - id: R-Q2-extend
      effect: allow
      remedies:
        - extend
      when: "quadrant == 'Q2' and recovery_month <= 12"
      reason: x
""",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{path}:9: remedies[R-Q2-extend].when: unknown name 'recovery_month': "
        "neither a fact field nor a parameter of the policy "
        "(did you mean 'recovery_months'?)"
    )


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


def _many_rules() -> dict[str, Any]:
    layers = [
        {
            "id": f"extra{n}",
            "values": ["a", "b"],
            "default": "a",
            "rules": [{"id": f"E{n}-{i}", "when": f"dpd >= {i}", "value": "b"} for i in range(60)],
        }
        for n in range(9)
    ]
    return {"extends": "default", "id": "many", "layers": layers}


def _wide() -> dict[str, Any]:
    kinds = {f"s{i}": {"dimension": "ability", "polarity": "negative"} for i in range(230)}
    return {"extends": "default", "id": "wide", "signals": kinds}


def _crowded() -> dict[str, Any]:
    rules = [
        {"id": f"R-{i}", "effect": "allow", "remedy": "visit", "when": f"dpd >= {i}", "reason": "r"}
        for i in range(64)
    ]
    return {"extends": "default", "remedies": {"rules": rules}}


@pytest.mark.parametrize(
    ("data", "limit", "pitfall"),
    [
        (_many_rules(), "top-level rules", "DURABLE_RULES.md #3"),
        (_crowded(), "matches at once", "DURABLE_RULES.md #4"),
        (_wide(), "properties per fact", "DURABLE_RULES.md #5"),
    ],
)
def test_a_policy_past_durable_rules_limits_is_refused_naming_the_limit(
    data: dict[str, Any], limit: str, pitfall: str
) -> None:
    with pytest.raises(EngineLimitError) as info:
        policy_from_dict(data)
    assert info.value.limit == limit
    assert info.value.value > info.value.maximum
    assert pitfall in str(info.value)


def test_an_error_in_a_base_file_names_that_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "bases").mkdir()
    base = write(
        tmp_path / "bases" / "base.toml",
        """\
extends = "default"
id = "base"

[parameters.coverage_able]
value = 1.5
docs = "typo"

[[remedies.rules]]
id = "R-BASE"
effect = "allow"
remedies = ["visit"]
when = "quadrant == 'Q3' and dpd > dpd_sever"
reason = "x"
""",
    )
    child = write(
        tmp_path / "child.toml",
        'extends = "bases/base.toml"\nid = "child"\ntitel = "typo"\n',
    )
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    found = {(p.source, p.line, p.path) for p in info.value.problems}
    assert found == {
        (str(child), 3, "titel"),
        (str(base), 6, "parameters.coverage_able.docs"),
        (str(base), 12, "remedies[R-BASE].when"),
    }


def test_a_parameter_problem_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.toml",
        'extends = "default"\nid = "p"\n\n[parameters]\nlimit = { value = 3, docs = "x" }\n',
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.path, problem.suggestion) == (
        5,
        "parameters.limit.docs",
        "doc",
    )


def _alternating(depth: int) -> str:
    """``dpd > 1 or (dpd > 2 and (dpd > 3 or (…)))``, nested ``depth`` deep."""
    text = "dpd > 0"
    for i in range(depth):
        text = f"dpd > {i + 1} {'and' if i % 2 else 'or'} ({text})"
    return text


def _deepest() -> dict[str, Any]:
    """Twelve nested groups, around a negated membership of an optional field: the
    deepest condition that durable_rules is given (it fails at sixteen, error 113)."""
    return _with_rule(_alternating(12).replace("dpd > 0", "not (cash_coverage in (1, 2))"))


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_the_deepest_condition_that_loads_compiles_on_both_back_ends(backend: str) -> None:
    Engine(policy_from_dict(_deepest()), backend=backend)  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="nest more than 12 levels deep"):
        policy_from_dict(_with_rule(_alternating(13)))


def test_the_deepest_condition_that_loads_verifies_clean() -> None:
    # The verifier reads the conditions' IR and confirms with the python back end: one
    # run, whichever back end the engine above was built with.
    assert verify(policy_from_dict(_deepest())).ok


def _with_rule(when: str) -> dict[str, Any]:
    rule = {"id": "R-Z", "effect": "allow", "remedy": "visit", "reason": "x", "when": when}
    return {"extends": "default", "id": "z", "remedies": {"rules": [rule]}}


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (_with_rule("not " * 40 + "has_cash_coverage"), "remedies[R-Z].when", "32 levels deep"),
        (_with_rule(_alternating(20)), "remedies[R-Z].when", "durable_rules cannot compile"),
        (_with_rule("dpd > 1e999"), "remedies[R-Z].when", "inf is not a finite number"),
        (_with_rule("dpd > -1e999"), "remedies[R-Z].when", "-inf is not a finite number"),
        (
            {"extends": "default", "parameters": {"p": float("inf")}},
            "parameters.p.value",
            "expected a finite number",
        ),
        (
            {"extends": "default", "parameters": {"coverage_able": float("nan")}},
            "parameters.coverage_able.value",
            "expected a finite number",
        ),
        (
            {
                "extends": "default",
                "layers": [{"id": "willingness", "bands": [{"min": float("inf"), "value": "x"}]}],
            },
            "layers[willingness].bands[0]",
            "expected { min = <number>",
        ),
        (
            {"extends": "default", "schema_version": "2"},
            "schema_version",
            "reads policy format '1'",
        ),
        ({"extends": "default", "override": {}}, "override", "unknown key"),
    ],
)
def test_what_the_verifier_and_the_engines_cannot_use_is_refused_at_load(
    data: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    assert any(p.path == path and message in p.message for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]


def test_a_misspelt_effect_is_suggested() -> None:
    rule = {"id": "R-Z", "effect": "alow", "remedy": "visit", "reason": "x"}
    with pytest.raises(PolicyError) as info:
        policy_from_dict({"extends": "default", "remedies": {"rules": [rule]}})
    (problem,) = info.value.problems
    assert (problem.path, problem.suggestion) == ("remedies[R-Z].effect", "allow")


_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(
        ["dpd > 1", "quadrant == 'Q3'", "Q1", "allow", "extend", "unique", "collect_sum",
         "R-Q1-GRACE", "A-SHORT", "ability", "willingness", "default"]
    ),
)  # fmt: skip
_KEYS = st.sampled_from(
    ["id", "when", "value", "rules", "layers", "remedies", "effect", "remedy", "reason", "score",
     "bands", "min", "default", "values", "hit_policy", "parameters", "signals", "disable",
     "dimension", "polarity", "cites", "priority", "conflict", "labels", "output", "clauses"]
)  # fmt: skip
_JUNK = st.recursive(
    _LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(
            ["parameters", "signals", "layers", "remedies", "disable", "clauses", "id", "notes"]
        ),
        _JUNK,
        max_size=4,
    ),
    extends=st.booleans(),
)
def test_any_data_either_loads_or_is_a_policy_error(data: dict[str, Any], extends: bool) -> None:
    """Malformed data, however it is malformed, is reported, never a crash."""
    if extends:
        data = {**data, "extends": "default"}
    with contextlib.suppress(PolicyError, EngineLimitError):
        policy_from_dict(data)


def test_an_unknown_shipped_name_lists_the_shipped_policies() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("defualt")
    assert "shipped: " in str(info.value)
    assert info.value.problems[0].suggestion == "default"
