"""The [money] policy section: parsing, errors with their paths, the schema, composition."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from collectrules import PolicyError, load_policy
from collectrules.money import Component, money_section
from collectrules.money import terms as money_terms
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import policy_schema

SHIPPED = Path(__file__).parent.parent / "src" / "collectrules" / "policies"
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())


def _bank() -> dict[str, Any]:
    data: dict[str, Any] = dict(load_policy("cn_bank_loan").data)
    return copy.deepcopy(data)


def test_the_shipped_policies_carry_their_figures_with_citations_and_status() -> None:
    default = money_section(load_policy("default"))
    assert default is not None
    assert default.rate_cap is None  # the jurisdiction's caps come with its pack
    assert default.horizon_months is not None
    assert default.horizon_months.param == "recovery_horizon_months"
    bank = money_section(load_policy("cn_bank_loan"))
    assert bank is not None
    assert bank.rate_cap is not None
    assert (bank.rate_cap.rule, bank.rate_cap.status) == ("CN-PRIVATE-RATE-CAP", "V")
    assert bank.rate_cap.value == Decimal("0.12")
    assert bank.rate_cap.lpr.param == "lpr_one_year"
    assert bank.rate_cap.lpr_date.isoformat() == "2025-05-20"
    assert bank.penalty_cap is not None
    assert bank.penalty_cap.cap_for(Decimal("0.06")) == Decimal("0.0780")
    assert [r.id for r in bank.reductions] == ["hardship"]
    card = money_section(load_policy("cn_credit_card"))
    assert card is not None
    assert card.max_months is not None
    assert (card.max_months.value, card.max_months_rule) == (Decimal(60), "CN-CARD-HARDSHIP")
    assert card.rate_cap == bank.rate_cap  # merged over the bank's section
    params = load_policy("cn_credit_card").parameters
    assert params["card_hardship_max_periods"].status == "S"
    assert params["lpr_one_year"].cites == ("CN-PRIVATE-RATE-CAP",)
    assert load_policy("uk").sections["money"].rate_cap is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda m: m.update(alocation_order=[]), "money.alocation_order"),
        (lambda m: m.update(allocation_order=["fees", "interest"]), "money.allocation_order"),
        (lambda m: m.update(allocation_order=["fees", "fees", "interest", "principal"]),
         "money.allocation_order"),
        (lambda m: m.update(allocation_order=["fee", "penalty_interest", "interest", "principal"]),
         "money.allocation_order"),
        (lambda m: m.update(calendar="XX"), "money.calendar.country"),
        (lambda m: m.update(horizon_months="no_such_parameter"), "money.horizon_months"),
        (lambda m: m.update(horizon_months=1.5), "money.horizon_months"),
        (lambda m: m.update(horizon_kinds=["extend", "litigate"]), "money.horizon_kinds"),
        (lambda m: m.update(max_months=60), "money.max_months_rule"),
        (lambda m: m["rate_cap"].update(status="X"), "money.rate_cap.status"),
        (lambda m: m["rate_cap"].update(lpr_date="20 May 2025"), "money.rate_cap.lpr_date"),
        (lambda m: m["rate_cap"].update(lpr=-0.01), "money.rate_cap.lpr"),
        (lambda m: m["rate_cap"].update(rule="not a clause"), "money.rate_cap.rule"),
        (lambda m: m["penalty_cap"].update(exces=0.3), "money.penalty_cap.exces"),
        (lambda m: m["reductions"]["hardship"].update(remedy="reduse"),
         "money.reductions.hardship.remedy"),
        (lambda m: m["reductions"]["hardship"].update(quadrants=["Q5"]),
         "money.reductions.hardship.quadrants"),
        (lambda m: m["reductions"]["hardship"].update(max_share=1.5),
         "money.reductions.hardship.max_share"),
        (lambda m: m["targets"]["overdue_recovery"].update(basis="interest"),
         "money.targets.overdue_recovery.basis"),
    ],
)  # fmt: skip
def test_a_bad_money_table_is_a_policy_error_naming_the_key(change: Any, path: str) -> None:
    data = _bank()
    change(data["money"])
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    assert path in [p.path for p in info.value.problems], info.value


@pytest.mark.parametrize("text", ["2025-W21-2", "20250520", "2025W212"])
@pytest.mark.parametrize("by_parameter", [False, True], ids=["value", "parameter"])
def test_an_lpr_date_is_a_calendar_date_not_another_iso_form(text: str, by_parameter: bool) -> None:
    """The LPR's date, given directly or through a parameter, was read by
    date.fromisoformat: the week date '2025-W21-2' became 2025-05-20 although the
    section (and its schema) asks for YYYY-MM-DD."""
    data = _bank()
    if by_parameter:
        data["parameters"]["lpr_one_year_date"]["value"] = text
    else:
        data["money"]["rate_cap"]["lpr_date"] = text
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    (problem,) = info.value.problems
    assert problem.path == "money.rate_cap.lpr_date"
    assert problem.message.endswith(f"expected a date as YYYY-MM-DD, got {text!r}")


def test_a_typo_fails_the_schema_and_the_loader_alike() -> None:
    data: dict[str, Any] = tomllib.loads((SHIPPED / "cn_bank_loan.toml").read_text("utf-8"))
    assert not list(VALIDATOR.iter_errors(data))
    data["money"]["rate_cap"]["multipel"] = 4
    assert list(VALIDATOR.iter_errors(data))
    with pytest.raises(PolicyError, match="unknown key"):
        policy_from_dict(_bank() | {"money": data["money"]})


def test_the_schema_has_exactly_the_parsers_keys() -> None:
    defs = policy_schema()["$defs"]
    assert tuple(defs["money"]["properties"]) == money_terms.MONEY_KEYS
    assert tuple(defs["money_rate_cap"]["properties"]) == money_terms.RATE_CAP_KEYS
    assert tuple(defs["money_penalty_cap"]["properties"]) == money_terms.PENALTY_CAP_KEYS
    assert tuple(defs["money_reduction"]["properties"]) == money_terms.REDUCTION_KEYS
    assert tuple(defs["money_target"]["properties"]) == money_terms.TARGET_KEYS


def test_the_allocation_order_and_the_lpr_change_the_content_hash() -> None:
    data = _bank()
    base = policy_from_dict(copy.deepcopy(data))
    data["money"]["allocation_order"] = ["principal", "interest", "penalty_interest", "fees"]
    reordered = policy_from_dict(json.loads(json.dumps(data)))
    assert reordered.content_hash != base.content_hash
    section = money_section(reordered)
    assert section is not None
    assert section.allocation_order[0] is Component.PRINCIPAL
    data = _bank()
    data["parameters"]["lpr_one_year"]["value"] = 0.0345
    newer = policy_from_dict(data)
    newer_section = money_section(newer)
    assert newer_section is not None
    assert newer_section.rate_cap is not None
    assert newer_section.rate_cap.value == Decimal("0.1380")
