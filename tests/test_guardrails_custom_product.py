"""Guardrails keyed by products (card channels, the credit-bureau duty) with a policy's
own products: a product's ``category`` says which rules apply; a product that declares
none gets the strictest default, and the reason says so. Never a silent "no limits"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collectrules import Engine
from collectrules.cli import main
from collectrules.compliance.guardrails import Contact, Guardrails, ReasonEffect
from collectrules.errors import PolicyError
from collectrules.model.case import Case
from collectrules.policy import load_policy, policy_from_dict

ROOT = Path(__file__).parent.parent
AS_OF = "2026-04-03T12:00:00+08:00"
NOON = "2026-04-03T12:00:00+08:00"
BACKENDS = ("python", "durable")

POLICY = """
extends = "default"
id = "lender-products"

[catalogue.products.mortgage]
label_en = "mortgage"
label_zh = "按揭贷款"

[catalogue.products.home_loan]
label_en = "home loan"
label_zh = "住房贷款"
category = "loan"

[catalogue.products.store_card]
label_en = "store card"
label_zh = "联名卡"
category = "credit_card"

[timeline.products]
mortgage = "loan"
home_loan = "loan"
store_card = "credit_card"
"""


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "lender.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def guardrails(policy_file: Path) -> Guardrails:
    return Guardrails(load_policy(policy_file))


def row(product: str, case_id: str | None = None) -> dict[str, Any]:
    data = json.loads((ROOT / "examples/cases/q2_health_short.json").read_text(encoding="utf-8"))
    return {**data, "product": product, "case_id": case_id or product.upper()}


def case_of(product: str, guardrails: Guardrails) -> Case:
    return Case.from_dict(
        row(product),
        signal_kinds=tuple(guardrails.policy.signals),
        products=guardrails.policy.products,
    )


def card_reason(verdict: Any) -> Any:
    found = [r for r in verdict.reasons if r.rule_id == "CARD-CHANNELS"]
    return found[0] if found else None


def test_a_product_without_a_category_gets_the_strictest_default(guardrails: Guardrails) -> None:
    case = case_of("mortgage", guardrails)
    visit = guardrails.check(case, Contact("visit", "debtor", NOON))
    assert not visit.allowed
    reason = card_reason(visit)
    assert reason is not None
    assert reason.effect is ReasonEffect.BLOCK
    assert "mortgage declares no category in [catalogue.products]" in reason.message
    assert "strictest default" in reason.message
    phone = guardrails.check(case, Contact("phone", "debtor", NOON))
    assert phone.allowed
    allowed = card_reason(phone)
    assert allowed is not None
    assert allowed.effect is ReasonEffect.ALLOW
    assert "strictest default" in allowed.message


def test_the_credit_bureau_duty_applies_by_default_and_by_category(
    guardrails: Guardrails,
) -> None:
    def duty(product: str) -> Any:
        found = [
            o
            for o in guardrails.obligations(case_of(product, guardrails), as_of=AS_OF)
            if o.rule_id == "CARD-CREDIT-BUREAU"
        ]
        return found[0] if found else None

    mortgage = duty("mortgage")
    assert mortgage is not None
    assert mortgage.effect is ReasonEffect.OBLIGATION
    assert "strictest default" in mortgage.message
    card = duty("store_card")
    assert card is not None
    assert "store_card is a kind of credit_card" in card.message
    assert duty("home_loan") is None
    assert duty("loan") is None


def test_a_category_decides_which_rules_apply(guardrails: Guardrails) -> None:
    home = guardrails.check(case_of("home_loan", guardrails), Contact("visit", "debtor", NOON))
    assert card_reason(home) is None  # a kind of loan: the card channels do not apply
    store = guardrails.check(case_of("store_card", guardrails), Contact("visit", "debtor", NOON))
    assert not store.allowed
    reason = card_reason(store)
    assert reason is not None
    assert "store_card is a kind of credit_card" in reason.message
    # the standard products are as before
    loan = guardrails.check(case_of("loan", guardrails), Contact("visit", "debtor", NOON))
    assert card_reason(loan) is None
    card = guardrails.check(case_of("credit_card", guardrails), Contact("visit", "debtor", NOON))
    reason = card_reason(card)
    assert reason is not None
    assert reason.effect is ReasonEffect.BLOCK
    assert "(" not in reason.message  # no note for a product the rule names


def _by_letter(path: Path, product: str, extra: str = "") -> Path:
    """The policy above and a rule that collects ``product`` by letter only, in ``path``."""
    path.write_text(
        POLICY
        + f"""
[[guardrails.CHANNELS.rules]]
id = "MORTGAGE-BY-LETTER"
kind = "product_channels"
products = ["{product}"]
allowed = ["letter"]
reason = "Mortgages are collected in writing."
{extra}""",
        encoding="utf-8",
    )
    return path


def test_a_rule_may_name_a_policy_s_own_product(tmp_path: Path) -> None:
    path = _by_letter(tmp_path / "letters.toml", "mortgage", 'cites = ["CARD"]\n')
    guardrails = Guardrails(load_policy(path))
    case = case_of("mortgage", guardrails)
    phone = guardrails.check(case, Contact("phone", "debtor", NOON))
    assert not phone.allowed
    named = [r for r in phone.reasons if r.rule_id == "MORTGAGE-BY-LETTER"]
    assert named
    assert named[0].effect is ReasonEffect.BLOCK
    assert "(" not in named[0].message  # named by the rule: no default note
    letter = guardrails.check(case, Contact("letter", "debtor", NOON))
    assert letter.allowed


def test_a_bad_category_names_the_field_and_the_choices() -> None:
    data = {
        "extends": "default",
        "id": "bad",
        "catalogue": {
            "products": {"mortgage": {"label_en": "m", "label_zh": "按揭", "category": "lone"}}
        },
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    problem = info.value.problems[0]
    assert problem.path == "catalogue.products.mortgage.category"
    assert "expected a standard product (loan, credit_card, receivable, property_fee)" in str(
        problem
    )
    assert problem.suggestion == "loan"


def test_a_rule_naming_an_unknown_product_is_a_load_error(tmp_path: Path) -> None:
    path = _by_letter(tmp_path / "typo.toml", "mortgag")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = str(info.value)
    assert "products" in text
    assert "mortgage" in text  # the did-you-mean names the catalogue's product


@pytest.mark.parametrize("backend", BACKENDS)
def test_worklists_follow_the_product_guardrails_on_both_back_ends(
    policy_file: Path, backend: str
) -> None:
    """The worklist's next contact time comes from the guardrails: an arranged field
    visit has no allowed time for a mortgage (the strictest default: the card channels),
    and has the loan's for a home loan (a kind of loan), on either back end."""
    engine = Engine(load_policy(policy_file), backend=backend)  # type: ignore[arg-type]
    arranged = {"kind": "visit_arranged", "at": "2026-04-02T09:00:00+08:00"}
    rows = [{**row(p), "events": [arranged]} for p in ("mortgage", "home_loan", "loan")]
    items = [i for i in engine.worklist(rows, as_of=AS_OF) if i.step_id == "L-3D"]
    by_case = {i.case_id: i for i in items}
    assert set(by_case) == {"MORTGAGE", "HOME_LOAN", "LOAN"}
    assert by_case["LOAN"].next_contact_at is not None
    assert by_case["HOME_LOAN"].next_contact_at == by_case["LOAN"].next_contact_at
    assert by_case["MORTGAGE"].next_contact_at is None


def test_decisions_on_a_custom_product_agree_across_back_ends(policy_file: Path) -> None:
    policy = load_policy(policy_file)
    decided = {
        backend: Engine(policy, backend=backend).decide(  # type: ignore[arg-type]
            Case.from_dict(row("mortgage"), products=policy.products), as_of=AS_OF
        )
        for backend in BACKENDS
    }
    assert decided["python"].to_json() == decided["durable"].to_json()
    assert decided["python"].facts["product"] == "mortgage"


def test_the_contact_command_reads_a_custom_product(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "mortgage.json"
    case.write_text(json.dumps(row("mortgage")), encoding="utf-8")
    argv = ["contact", str(case), "--channel", "visit", "--at", NOON, "--policy", str(policy_file)]
    assert main(argv) == 1
    out, _ = capsys.readouterr()
    assert "BLOCKED" in out
    assert "strictest default" in out
    assert main([*argv, "--lang", "zh"]) == 1
    out, _ = capsys.readouterr()
    assert "按揭贷款" in out
    assert "禁止" in out


def test_a_product_outside_the_catalogue_gets_the_strictest_default(
    guardrails: Guardrails,
) -> None:
    """Guardrails may be asked about a case read without the policy's catalogue: its
    product is then unknown to the policy, and limited as strictly as a product without
    a category."""
    case = Case.from_dict(row("leasing"), signal_kinds=tuple(guardrails.policy.signals))
    visit = guardrails.check(case, Contact("visit", "debtor", NOON))
    assert not visit.allowed
    reason = card_reason(visit)
    assert reason is not None
    assert "product leasing is not in the catalogue" in reason.message
