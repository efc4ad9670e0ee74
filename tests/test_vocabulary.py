"""Open vocabularies: a policy's own remedies and products, end to end on both back ends,
and policies whose signal vocabularies differ (impact, diff, assert_decision, strategies)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from tests.helpers import AS_OF, case_dict

from collectrules import (
    Case,
    Contact,
    Decision,
    Engine,
    Guardrails,
    InputError,
    PolicyError,
    Remedy,
    load_policy,
)
from collectrules.authoring.changes import diff_policies, impact
from collectrules.authoring.verify import FindingKind, verify
from collectrules.model.remedies import STANDARD_REMEDIES, RemedyCategory
from collectrules.model.schema import case_schema, decision_schema
from collectrules.policy.schema import policy_schema
from collectrules.testing import DEFAULT_AS_OF, assert_decision, cases

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "custom_vocabulary" / "policy.toml"
CASES = ROOT / "examples" / "custom_vocabulary" / "cases.jsonl"
BUREAU = "credit_bureau_report"


@pytest.fixture(scope="module")
def policy() -> Any:
    return load_policy(EXAMPLE)


def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]


def example_case(case_id: str, policy: Any) -> Case:
    (row,) = [r for r in rows() if r["case_id"] == case_id]
    return Case.from_dict(row, signal_kinds=policy.signals)


# --------------------------------------------------------------------------- catalogues


def test_the_policy_adds_a_remedy_and_a_product_after_the_standard_ones(policy: Any) -> None:
    assert list(policy.remedies)[: len(Remedy)] == list(Remedy)
    assert list(policy.remedies)[len(Remedy) :] == [BUREAU]
    spec = policy.remedies[BUREAU]
    assert (spec.label_en, spec.label_zh) == ("report to the credit bureau", "报送征信")
    assert spec.category is RemedyCategory.PRESSURE
    assert spec.coercive
    assert not spec.standard
    assert spec.cites == ("VL-BUREAU",)
    assert BUREAU in policy.coercive_remedies
    assert list(policy.products)[-1] == "mortgage"
    assert policy.products["mortgage"].label_zh == "按揭贷款"
    # The default's catalogues are the standard ones, nothing more.
    default = load_policy("default")
    assert list(default.remedies) == list(Remedy)
    assert Remedy.LITIGATE in default.remedies
    assert default.remedies["litigate"].standard


def test_a_custom_remedy_joins_the_envelopes_of_its_category(policy: Any) -> None:
    inside = {q for q, envelope in policy.envelopes.items() if envelope.admits(BUREAU)}
    assert inside == {"Q3", "Q4"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


CHILD = """
extends = "default"
id = "child"

[catalogue.remedies.{name}]
label_en = "x"
label_zh = "x"
category = "{category}"
{extra}
"""


def test_the_policy_may_place_its_remedy_in_other_envelopes(tmp_path: Path) -> None:
    text = CHILD.format(name="courtesy_call", category="pressure", extra='envelopes = ["Q1"]')
    policy = load_policy(write(tmp_path, text))
    assert {q for q, e in policy.envelopes.items() if e.admits("courtesy_call")} == {"Q1"}
    text = CHILD.format(name="courtesy_call", category="other", extra="")
    policy = load_policy(write(tmp_path, text))
    assert {q for q, e in policy.envelopes.items() if e.admits("courtesy_call")} == {
        "Q1",
        "Q2",
        "Q3",
        "Q4",
    }
    assert not policy.remedies["courtesy_call"].coercive


def test_catalogue_problems_name_the_file_and_line(tmp_path: Path) -> None:
    text = CHILD.format(name="bureau", category="presure", extra="")
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    line = text.splitlines().index('category = "presure"') + 1
    assert (
        f"{path}:{line}: catalogue.remedies.bureau.category: expected one of extension, "
        "restructuring, pressure, litigation, other, got 'presure' (did you mean 'pressure'?)"
    ) in str(err.value)


def test_a_policy_cannot_redefine_a_standard_remedy(tmp_path: Path) -> None:
    path = write(tmp_path, CHILD.format(name="litigate", category="litigation", extra=""))
    with pytest.raises(PolicyError, match="'litigate' is a standard remedy"):
        load_policy(path)


def test_an_unknown_remedy_in_a_rule_suggests_the_policy_s_own(tmp_path: Path) -> None:
    text = CHILD.format(name="credit_bureau_report", category="pressure", extra="") + (
        '\n[[remedies.rules]]\nid = "R-X"\neffect = "allow"\nremedies = ["credit_bureau_reprt"]\n'
        'reason = "x"\n'
    )
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, text))
    assert "unknown remedy 'credit_bureau_reprt' (did you mean 'credit_bureau_report'?)" in str(
        err.value
    )


def test_a_plan_for_an_unknown_product_is_refused(tmp_path: Path) -> None:
    text = (
        'extends = "default"\nid = "c"\n[timeline.products]\nmortgage = "loan"\n'
        '[catalogue.products.mortage]\nlabel_en = "m"\nlabel_zh = "m"\n'
    )
    with pytest.raises(PolicyError) as err:
        load_policy(write(tmp_path, text))
    assert "timeline.products.mortgage: unknown product 'mortgage'" in str(err.value)
    assert "did you mean 'mortage'" in str(err.value)


# --------------------------------------------------------------------------- deciding


@pytest.mark.parametrize("case_id", ["VL-1", "VL-2", "VL-3"])
def test_both_back_ends_give_the_same_decision_with_custom_vocabulary(
    policy: Any, case_id: str
) -> None:
    case = example_case(case_id, policy)
    python = Engine(policy, backend="python").decide(case, as_of=AS_OF)
    durable = Engine(policy, backend="durable").decide(case, as_of=AS_OF)
    assert python.to_json() == durable.to_json()


def test_a_mortgage_follows_its_own_plan_and_gets_the_bureau_report(policy: Any) -> None:
    case = example_case("VL-1", policy)
    engine = Engine(policy, backend="python")
    decision = engine.decide(case, as_of=AS_OF)
    assert decision.facts["product"] == "mortgage"
    assert decision.facts["plan_credit_bureau_report"] is True
    grant = decision.grant(BUREAU)
    assert grant is not None
    assert grant.required
    assert grant.rule_id == "R-VL-BUREAU-MORTGAGE"
    assert decision.ability.value == "temporarily_unable"  # salary_delayed impairs it
    steps = {s.id: s for s in engine.timeline(case, as_of=AS_OF).steps}
    assert set(steps) == {"M-24H", "M-BUREAU"}
    # Adding the mortgage plan keeps the base's plans: a loan still follows the loan plan.
    loan_steps = {s.id for s in engine.timeline(example_case("VL-2", policy), as_of=AS_OF).steps}
    assert {"L-DUE", "L-24H", "L-3D"} <= loan_steps
    data = decision.to_dict()
    (entry,) = [g for g in data["allowed"] if g["remedy"] == BUREAU]
    assert (entry["label_en"], entry["label_zh"]) == ("report to the credit bureau", "报送征信")
    # The custom remedy comes after the standard ones, as in the catalogue.
    assert [g["remedy"] for g in data["allowed"]][-1] == BUREAU
    jsonschema.validate(json.loads(decision.to_json()), decision_schema())


def test_a_decision_with_a_custom_remedy_round_trips(policy: Any) -> None:
    decision = Engine(policy, backend="python").decide(example_case("VL-2", policy), as_of=AS_OF)
    assert BUREAU in decision.allowed_remedies
    back = Decision.from_json(decision.to_json(), engine="python", remedies=policy.remedies)
    assert back == decision
    assert back.to_json() == decision.to_json()
    with pytest.raises(InputError, match="unknown remedy 'credit_bureau_report'"):
        Decision.from_json(decision.to_json(), remedies=STANDARD_REMEDIES)


def test_a_product_outside_the_catalogue_is_refused_when_deciding() -> None:
    case = Case.from_dict(case_dict(product="mortgage"))
    jsonschema.validate(case_dict(product="mortgage"), case_schema())
    for backend in ("python", "durable"):
        with pytest.raises(InputError) as err:
            Engine("default", backend=backend).decide(case, as_of=AS_OF)
        (problem,) = err.value.problems
        assert problem.path == "product"
        assert problem.message.startswith("unknown product 'mortgage' for policy 'default'")
        assert "known products: loan, credit_card, receivable, property_fee" in problem.message
    with pytest.raises(InputError, match="product"):
        Case.from_dict(case_dict(product="Mortgage!"))


def test_the_policy_schema_accepts_the_example() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    jsonschema.validate(data, policy_schema())
    data["catalogue"]["remedies"][BUREAU]["category"] = "shaming"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, policy_schema())


# --------------------------------------------------------------------------- checking


def test_the_verifier_accepts_the_example(policy: Any) -> None:
    assert not verify(policy).errors


def test_the_verifier_finds_a_custom_remedy_outside_its_envelope(tmp_path: Path) -> None:
    text = CHILD.format(name="bureau", category="pressure", extra='cites = ["CUST-STRAT"]') + (
        '\n[[remedies.rules]]\nid = "R-X"\neffect = "allow"\nremedies = ["bureau"]\n'
        'when = "dpd > 10"\nreason = "x"\ncites = ["CUST-STRAT"]\n'
    )
    report = verify(load_policy(write(tmp_path, text)))
    found = [f.message for f in report.of_kind(FindingKind.ENVELOPE)]
    assert any("allows bureau for a Q1 debtor" in m for m in found), found
    assert any("allows bureau for a Q2 debtor" in m for m in found), found


def test_assert_decision_knows_the_policy_s_own_remedies(policy: Any) -> None:
    data = rows()[1]
    assert_decision(policy, data, as_of=AS_OF, quadrant="Q3", allows=[BUREAU])
    with pytest.raises(InputError, match=r"unknown remedy 'credit_bureau_reprt'"):
        assert_decision(policy, data, as_of=AS_OF, allows=["credit_bureau_reprt"])
    with pytest.raises(InputError, match=r"unknown remedy 'credit_bureau_report'"):
        assert_decision("default", case_dict(), as_of=AS_OF, allows=[BUREAU])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(EXAMPLE, as_of=DEFAULT_AS_OF))
def test_strategies_draw_the_policy_s_own_products(case: Case) -> None:
    assert case.product in load_policy(EXAMPLE).products
    python = Engine(EXAMPLE, backend="python").decide(case, as_of=DEFAULT_AS_OF)
    assert python.allowed_remedies <= set(load_policy(EXAMPLE).remedies)


# --------------------------------------------------------------------------- signals


def salary_row(**overrides: Any) -> dict[str, Any]:
    return case_dict(("salary_delayed", None), ("recovery_months", 30), **overrides)


def test_unknown_signals_are_an_error_by_default_and_may_be_ignored() -> None:
    case = Case.from_dict(salary_row(), signal_kinds=load_policy(EXAMPLE).signals)
    for backend in ("python", "durable"):
        with pytest.raises(InputError, match="unknown signal kind 'salary_delayed'"):
            Engine("default", backend=backend).decide(case, as_of=AS_OF)
        engine = Engine("default", backend=backend, unknown_signals="ignore")
        decision = engine.decide(case, as_of=AS_OF)
        assert decision.ignored_signals == 1
        assert decision.to_dict()["ignored_signals"] == 1
        assert engine.stats.ignored_signals == 1
        assert engine.stats.ignored_kinds == {"salary_delayed": 1}
        assert engine.stats.decided == 1
        # Decided exactly as the case without the signal the policy does not know.
        plain = Case.from_dict(case_dict(("recovery_months", 30)))
        expected = Engine("default", backend=backend).decide(plain, as_of=AS_OF).to_dict()
        got = decision.to_dict()
        got.pop("ignored_signals")
        assert got == expected
        known = Engine(EXAMPLE, backend=backend).decide(case, as_of=AS_OF)
        assert known.ignored_signals == 0
        assert "ignored_signals" not in known.to_dict()
        assert known.ability.value == "unable"
    with pytest.raises(InputError, match="unknown_signals: expected 'error' or 'ignore'"):
        Engine("default", unknown_signals="drop")  # type: ignore[arg-type]


def test_decide_many_ignores_unknown_kinds_in_plain_rows() -> None:
    engine = Engine("default", backend="python", unknown_signals="ignore")
    results = list(engine.decide_many([salary_row(), case_dict(case_id="T-2")], as_of=AS_OF))
    assert [r.ok for r in results] == [True, True]
    assert [r.decision.ignored_signals for r in results if r.decision] == [1, 0]
    strict = list(Engine("default", backend="python").decide_many([salary_row()], as_of=AS_OF))
    assert strict[0].error is not None
    assert "salary_delayed" in str(strict[0].error)


def test_impact_counts_signals_one_policy_does_not_know_and_drops_no_row() -> None:
    data = [salary_row(case_id=f"S-{i}") for i in range(3)] + [case_dict(case_id="P-1")]
    report = impact("default", EXAMPLE, data, as_of=AS_OF)
    assert (report.total, report.decided, report.errors) == (4, 4, ())
    assert report.ignored == {"old": {"salary_delayed": 3}}
    assert report.matrix[("Q1", "Q2")] == 3
    assert report.to_dict()["ignored"] == {"old": {"salary_delayed": 3}}
    back = impact(EXAMPLE, "default", data, as_of=AS_OF)
    assert back.ignored == {"new": {"salary_delayed": 3}}
    assert back.decided == 4


def test_a_kind_that_neither_policy_knows_is_still_a_bad_row() -> None:
    data = [case_dict(("salary_dleayed", None))]
    report = impact("default", EXAMPLE, data, as_of=AS_OF)
    assert report.decided == 0
    ((_where, side, error),) = report.errors
    assert side == "input"
    assert "salary_dleayed" in error


def test_diff_lists_the_added_vocabulary() -> None:
    diff = diff_policies(load_policy("default"), load_policy(EXAMPLE))
    assert [c.id for c in diff.of("signal")] == ["salary_delayed"]
    assert [(c.id, c.change) for c in diff.of("remedy")] == [(BUREAU, "added")]
    assert [(c.id, c.change) for c in diff.of("product")] == [("mortgage", "added")]
    assert [(c.id, c.change) for c in diff.of("condition")] == [("impaired", "changed")]


def test_assert_decision_ignores_a_signal_the_policy_does_not_know() -> None:
    # A case made for the challenger: the champion ignores the kind it does not know.
    case = Case.from_dict(salary_row(), signal_kinds=load_policy(EXAMPLE).signals)
    decision = assert_decision("default", case, as_of=AS_OF, quadrant="Q1")
    assert decision.ignored_signals == 1
    assert_decision(EXAMPLE, case, as_of=AS_OF, quadrant="Q2")
    with pytest.raises(InputError, match="salary_delayed"):
        assert_decision("default", case, as_of=AS_OF, unknown_signals="error")
    # Plain data is checked against the policy's kinds: a misspelt kind is an error.
    with pytest.raises(InputError, match="unknown signal kind 'salary_delayed'"):
        assert_decision("default", salary_row(), as_of=AS_OF)
    plain = assert_decision("default", salary_row(), as_of=AS_OF, unknown_signals="ignore")
    assert plain.ignored_signals == 1


champion = Engine("default", backend="python", unknown_signals="ignore")
challenger = Engine(EXAMPLE, backend="python", unknown_signals="ignore")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases("default", also=EXAMPLE, as_of=DEFAULT_AS_OF))
def test_cases_for_two_vocabularies_decide_under_both(case: Case) -> None:
    ours = challenger.decide(case, as_of=DEFAULT_AS_OF)
    base = champion.decide(case, as_of=DEFAULT_AS_OF)
    assert ours.ignored_signals == 0
    assert base.ignored_signals == sum(s.kind == "salary_delayed" for s in case.signals)
    if not any(s.kind == "salary_delayed" for s in case.signals):
        assert ours.quadrant is base.quadrant


def test_cases_for_two_vocabularies_draw_the_kinds_of_both() -> None:
    found: set[str] = set()

    @settings(max_examples=200, deadline=None, database=None)
    @given(case=cases("default", also=[EXAMPLE], as_of=DEFAULT_AS_OF, kinds=["salary_delayed"]))
    def collect(case: Case) -> None:
        found.update(s.kind for s in case.signals)
        found.add(str(case.product))

    collect()
    assert "salary_delayed" in found
    assert "mortgage" not in found  # a product the champion does not know cannot be decided
    with pytest.raises(InputError, match="unknown signal kind 'salary_delayed'"):
        cases("default", kinds=["salary_delayed"])


def test_guardrails_check_a_contact_on_a_custom_product(tmp_path: Path) -> None:
    text = (
        'extends = "cn_bank_loan"\nid = "mortgages"\n[catalogue.products.mortgage]\n'
        'label_en = "mortgage"\nlabel_zh = "按揭贷款"\n'
    )
    guard = Guardrails(load_policy(write(tmp_path, text)))
    case = Case.from_dict(case_dict(product="mortgage"))
    late = Contact("phone", "debtor", "2026-04-03T22:30:00+08:00")
    assert not guard.check(case, late, history=[]).allowed
    day = Contact("phone", "debtor", "2026-04-03T10:30:00+08:00")
    assert guard.check(case, day, history=[]).allowed
