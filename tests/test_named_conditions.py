"""Named conditions: [conditions] used by name, extended in one place, errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import AS_OF, case_dict, make_case

from collectrules import Case, Engine, PolicyError, load_policy
from collectrules.authoring.verify import FindingKind, verify
from collectrules.conditions import parse
from verified_reports import VerifiedReports

BASE = """
id = "named"

[signals.sales_decline]
dimension = "ability"
polarity = "negative"

[signals.income_loss]
dimension = "ability"
polarity = "negative"

[conditions]
{conditions}

[[layers]]
id = "quadrant"
output = "quadrant"
values = ["Q1", "Q2", "Q3", "Q4"]
hit_policy = "first"
default = "Q1"

[[layers.rules]]
id = "R-IMPAIRED"
when = "{when}"
value = "Q2"
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def policy_text(conditions: str, when: str = "impaired") -> str:
    return BASE.replace("{conditions}", conditions).replace("{when}", when)


def problems(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    return [str(p) for p in err.value.problems]


def test_a_rule_uses_a_named_condition_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('impaired = "sales_decline >= 1 or income_loss >= 1"'))
    policy = load_policy(path)
    rule = policy.layers[0].rules[0]
    assert rule.when == parse("sales_decline >= 1 or income_loss >= 1")
    assert rule.when_text == "impaired"
    assert policy.named_conditions["impaired"].used_by == ("R-IMPAIRED",)
    engine = Engine(policy, backend="python")
    assert engine.decide(make_case(("income_loss", None)), as_of=AS_OF).quadrant.value == "Q2"
    assert engine.decide(make_case(), as_of=AS_OF).quadrant.value == "Q1"


def test_not_and_nesting_expand(tmp_path: Path) -> None:
    conds = 'impaired = "sales_decline >= 1 or lost"\nlost = "income_loss >= 2"'
    policy = load_policy(write(tmp_path, policy_text(conds, "not impaired")))
    assert policy.layers[0].rules[0].when == parse("not (sales_decline >= 1 or income_loss >= 2)")
    assert policy.named_conditions["lost"].used_by == ("conditions.impaired",)


def test_unknown_name_in_a_named_condition_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('impaired = "sales_decilne >= 1"'))
    found = problems(path)
    line = path.read_text().splitlines().index('impaired = "sales_decilne >= 1"') + 1
    assert any(
        f"{path}:{line}: conditions.impaired: unknown name 'sales_decilne': neither a fact "
        "field nor a parameter of the policy"
        in p
        and "did you mean 'sales_decline'" in p
        for p in found
    ), found
    # The rule that uses it says which named condition is broken.
    assert any("R-IMPAIRED" in p or "named condition 'impaired'" in p for p in found), found


def test_unknown_named_condition_in_a_rule(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('impaired = "sales_decline >= 1"', when="impared"))
    found = problems(path)
    assert any("unknown field 'impared'" in p and "did you mean 'impaired'" in p for p in found)


def test_a_cycle_names_the_cycle_file_and_line(tmp_path: Path) -> None:
    text = policy_text('impaired = "lost or sales_decline >= 1"\nlost = "impaired"')
    path = write(tmp_path, text)
    found = problems(path)
    line = text.splitlines().index('lost = "impaired"') + 1
    assert any(
        f"{path}:{line}: conditions.lost: named conditions use each other in a cycle: "
        "lost -> impaired -> lost" in p
        for p in found
    ), found


def test_a_named_condition_cannot_be_compared(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('impaired = "sales_decline >= 1"', when="impaired >= 1"))
    assert any("is a named condition, true or false" in p for p in problems(path))


def test_a_named_condition_cannot_shadow_a_field(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('dpd = "sales_decline >= 1"', when="sales_decline >= 1"))
    assert any("conditions.dpd: 'dpd' is already a fact field" in p for p in problems(path))


def test_the_default_shares_one_impairment_condition() -> None:
    policy = load_policy("default")
    impaired = policy.named_conditions["impaired"]
    assert impaired.used_by == ("A-SHORT", "A-LONG-ESTIMATED", "A-LONG")
    rules = {r.id: r for layer in policy.layers for r in layer.rules}
    assert rules["A-LONG"].when == impaired.when
    assert rules["A-SHORT"].when_text == "impaired and recovery_months <= recovery_horizon_months"


def test_extends_adds_an_alternative_in_one_place(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
extends = "default"
id = "acme"

[signals.salary_delayed]
dimension = "ability"
polarity = "negative"
cites = ["A-ASSESS"]

[conditions]
impaired = { or = "salary_delayed >= 1" }
""",
    )
    policy = load_policy(path)
    rules = {r.id: r for layer in policy.layers for r in layer.rules}
    assert "salary_delayed" in rules["A-SHORT"].when.fields()
    assert "salary_delayed" in rules["A-LONG"].when.fields()
    assert "income_loss" in rules["A-LONG"].when.fields()
    for backend in ("python", "durable"):
        engine = Engine(policy, backend=backend)
        case = Case.from_dict(case_dict(("salary_delayed", None)), signal_kinds=policy.signals)
        assert engine.decide(case, as_of=AS_OF).ability.value == "unable"
        default = Engine("default", backend=backend)
        assert default.decide(make_case(), as_of=AS_OF).ability.value == "unknown"


def test_extends_replaces_a_named_condition(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
extends = "default"
id = "narrow"

[conditions]
impaired = "income_loss >= 1"
""",
    )
    policy = load_policy(path)
    rules = {r.id: r for layer in policy.layers for r in layer.rules}
    assert rules["A-LONG"].when == parse("income_loss >= 1")
    engine = Engine(policy, backend="python")
    assert engine.decide(make_case(("sales_decline", None)), as_of=AS_OF).ability.value == "unknown"


def test_or_without_a_base_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text('impaired = { or = "sales_decline >= 1" }'))
    assert any("'or' adds an alternative to a base policy's" in p for p in problems(path))


def test_the_verifier_reports_unused_named_conditions(
    tmp_path: Path, verified: VerifiedReports
) -> None:
    conds = 'impaired = "sales_decline >= 1"\nspare = "income_loss >= 1"\nonly_spare = "spare"'
    policy = load_policy(write(tmp_path, policy_text(conds)))
    report = verify(policy)
    unused = [f.message for f in report.of_kind(FindingKind.UNUSED_CONDITION)]
    assert unused == [
        "conditions.spare: no rule or stage uses the named condition 'spare'",
        "conditions.only_spare: no rule or stage uses the named condition 'only_spare'",
    ]
    assert not verified("default").of_kind(FindingKind.UNUSED_CONDITION)
