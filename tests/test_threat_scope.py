"""After a threat to staff (E-THREAT), the default policy's guardrail and its decision
agree that no field visit is made on the case, by anyone: the ``threat_to_staff``
emergency stops the visit steps, ``R-E-THREAT-NO-VISIT`` blocks ``visit``, and the
``E-THREAT-VISITS`` guardrail (``whole_case = true``) blocks every visit contact. A
policy may keep the guardrail to the threatened staff (``whole_case = false``)."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pendulum
import pytest

from collectrules import Contact, Engine, Guardrails, Remedy
from collectrules.compliance.guardrails import ReasonEffect
from collectrules.errors import PolicyError
from collectrules.model.case import Case
from collectrules.policy import load_policy, policy_from_dict

AS_OF = "2026-04-03T12:00:00+08:00"
WHEN = pendulum.parse("2026-04-03T10:00:00+08:00")
SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]


def _loan(policy: str, threat_staff: str | None) -> Case:
    threat: dict[str, Any] = {"kind": "threat_to_staff", "at": "2026-04-01T15:00:00+08:00"}
    if threat_staff is not None:
        threat["staff"] = threat_staff
    return Case.from_dict(
        {
            "case_id": "T-1",
            "product": "loan",
            "currency": "EUR" if policy == "ifrs9" else "CNY",
            "principal": "100000",
            "overdue_amount": "5000",
            "due_date": "2026-02-28",
            "timezone": "Asia/Shanghai",
            "events": [threat, {"kind": "visit_arranged", "at": "2026-04-02T16:00:00+08:00"}],
        }
    )


@pytest.mark.parametrize("policy", SHIPPED)
@pytest.mark.parametrize("threatened", ["wang", None])
@pytest.mark.parametrize("staff", ["wang", "li", None])
def test_the_guardrail_and_the_decision_agree_no_one_visits_after_a_threat(
    policy: str, threatened: str | None, staff: str | None
) -> None:
    case = _loan(policy, threatened)
    decision = Engine(load_policy(policy), backend="python").decide(case, as_of=AS_OF)
    assert decision.grant(Remedy.VISIT) is None
    assert decision.block(Remedy.VISIT) is not None
    guard = Guardrails(policy)
    rules = {r.id for p in guard.section.packs for r in p.rules}
    if "E-THREAT-VISITS" not in rules:
        return
    verdict = guard.check(case, Contact("visit", "debtor", WHEN, staff=staff))
    assert not verdict.allowed
    assert "E-THREAT-VISITS" in [r.rule_id for r in verdict.blocks]


def _staff_only() -> Guardrails:
    text = (resources.files("collectrules.policies") / "default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for rule in data["guardrails"]["CHANNELS"]["rules"]:
        if rule["id"] == "E-THREAT-VISITS":
            rule["whole_case"] = False
    return Guardrails(policy_from_dict(data))


def test_a_policy_may_keep_the_guardrail_to_the_threatened_staff() -> None:
    guard = _staff_only()
    named = _loan("default", "wang")
    by_wang = guard.check(named, Contact("visit", "debtor", WHEN, staff="wang"))
    assert [r.rule_id for r in by_wang.blocks] == ["E-THREAT-VISITS"]
    by_li = guard.check(named, Contact("visit", "debtor", WHEN, staff="li"))
    assert by_li.allowed
    (reason,) = [r for r in by_li.reasons if r.rule_id == "E-THREAT-VISITS"]
    assert reason.effect is ReasonEffect.CONDITION
    assert "li was not" in reason.message
    unnamed = guard.check(_loan("default", None), Contact("visit", "debtor", WHEN, staff="li"))
    assert [r.rule_id for r in unnamed.blocks] == ["E-THREAT-VISITS"]


def test_whole_case_must_be_a_flag() -> None:
    text = (resources.files("collectrules.policies") / "default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for rule in data["guardrails"]["CHANNELS"]["rules"]:
        if rule["id"] == "E-THREAT-VISITS":
            rule["whole_case"] = "yes"
    with pytest.raises(PolicyError, match="whole_case"):
        policy_from_dict(data)
