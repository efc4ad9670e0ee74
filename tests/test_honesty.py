"""Honest citations: a chosen item says why, and an item that says it was chosen is marked."""

from __future__ import annotations

import pytest

from collectrules.authoring.honesty import chosen_items, chosen_problems
from collectrules.policy import load_policy, policy_from_dict

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")


def _with_rule(**rule: object) -> dict[str, object]:
    base = {
        "id": "R-MINE",
        "effect": "allow",
        "remedies": ["negotiate"],
        "when": "dpd > 0",
        "reason": "Negotiate.",
    }
    return {"extends": "default", "id": "mine", "remedies": {"rules": [{**base, **rule}]}}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_policies_are_honest(name: str) -> None:
    policy = load_policy(name)
    assert chosen_problems(policy) == ()
    assert "signals.fraud_suspected" in chosen_items(policy)


def test_a_chosen_rule_citing_the_texts_without_a_reason_is_reported() -> None:
    policy = policy_from_dict(_with_rule(chosen=True, cites=["W-SIGNS"]))
    (problem,) = chosen_problems(policy)
    assert problem.path == "remedies[R-MINE]"
    assert problem.rule_id == "R-MINE"
    assert "cites W-SIGNS as if the texts said it" in problem.message


def test_a_chosen_rule_with_no_reason_is_reported() -> None:
    (problem,) = chosen_problems(policy_from_dict(_with_rule(chosen=True)))
    assert problem.message == "remedies[R-MINE] is marked chosen with no doc saying why"


def test_a_rule_that_calls_itself_a_choice_must_be_marked() -> None:
    data = _with_rule(doc="Negotiating first is this policy's choice.", cites=["P2"])
    (problem,) = chosen_problems(policy_from_dict(data))
    assert "not marked chosen" in problem.message
    marked = _with_rule(doc="Negotiating first is this policy's choice.", chosen=True)
    assert chosen_problems(policy_from_dict(marked)) == ()


def test_a_chosen_signal_needs_its_reason() -> None:
    data = {
        "extends": "default",
        "id": "mine",
        "signals": {"gambling": {"dimension": "ability", "polarity": "negative", "chosen": True}},
    }
    (problem,) = chosen_problems(policy_from_dict(data))
    assert problem.path == "signals.gambling"
