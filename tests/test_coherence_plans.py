"""A repayment plan proposed for a case agrees with the case's decision and with the case
itself, on every shipped policy (docs/howto-plans.md, DOMAIN.md §1 Q2-SHORT and §11).

The cases come from the testing kit (``collectrules.testing.strategies.cases``), pinned at
each policy's thresholds, so that extensions, new plans and restructurings are allowed
for some and blocked for others; a short hardship (Q2-SHORT) in two currencies and three
zones is where they are granted.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, Remedy
from collectrules.errors import InputError
from collectrules.model.case import currency_exponent
from collectrules.money import Method, Plan, PlanRefusedError, PlanTerms, propose_plan
from collectrules.testing.strategies import cases
from helpers import shared_engine

SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
AS_OF = pendulum.datetime(2026, 5, 6, 12, tz="Asia/Shanghai")
EXAMPLES = Path(__file__).parent.parent / "examples" / "cases"
KINDS = (Remedy.EXTEND, Remedy.REPLAN, Remedy.RESTRUCTURE)
Q2_SHORT = json.loads((EXAMPLES / "q2_health_short.json").read_text(encoding="utf-8"))


def _propose(
    case: Case, decision: Decision, kind: Remedy, terms: PlanTerms, policy: str
) -> Plan | PlanRefusedError | InputError:
    """The plan, or why it was refused."""
    try:
        return propose_plan(
            case, decision, kind=kind, as_of=AS_OF, terms=terms, policy=shared_engine(policy).policy
        )
    except (PlanRefusedError, InputError) as refused:
        return refused


def _check_plan(plan: Plan, case: Case, kind: Remedy) -> None:
    """The plan finances what the case owes, in its currency's minor unit, from as_of on."""
    assert plan.kind is kind
    assert plan.currency == case.currency
    unit = Decimal(1).scaleb(-currency_exponent(case.currency))
    financed = case.principal if kind is Remedy.EXTEND else case.overdue_amount
    assert plan.principal == financed.quantize(unit)
    assert sum(i.principal for i in plan.instalments) == plan.principal
    for instalment in plan.instalments:
        for amount in (instalment.principal, instalment.interest, instalment.payment):
            assert amount == amount.quantize(unit)
            assert amount >= 0
    dates = [i.due_date for i in plan.instalments]
    assert dates == sorted(dates)
    assert dates[0] > case.local_date(AS_OF)


@pytest.mark.parametrize("policy", SHIPPED)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_plan_is_one_the_decision_allows_and_adds_up_to_what_it_finances(
    policy: str, data: st.DataObject
) -> None:
    case = data.draw(cases(policy, as_of=AS_OF, max_kinds=4))
    decision = shared_engine(policy).decide(case, as_of=AS_OF)
    kind = data.draw(st.sampled_from(KINDS))
    terms = PlanTerms(
        months=data.draw(st.integers(1, 30)),
        annual_rate=data.draw(st.sampled_from(["0", "0.04", "0.06"])),
        method=data.draw(st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL])),
        principal=case.overdue_amount if kind is Remedy.RESTRUCTURE else None,
    )
    block, grant = decision.block(kind), decision.grant(kind)
    plan = _propose(case, decision, kind, terms, policy)
    if isinstance(plan, PlanRefusedError):
        # refused for the decision's own reason, or for a cap the grant does not lift
        if block is not None:
            assert plan.rule_id == block.rule_id
        elif grant is None:
            assert plan.rule_id is None
        else:
            assert plan.cap is not None
    elif isinstance(plan, InputError):
        # only an amount the case does not have (nothing to finance)
        assert grant is not None
        assert any(p.field == "terms.principal" for p in plan.problems), plan
    else:
        assert block is None
        assert plan.grant == grant
        _check_plan(plan, case, kind)


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    currency=st.sampled_from(["CNY", "JPY"]),
    amounts=st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)).map(sorted),
    zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati"]),
    months=st.integers(1, 30),
    kind=st.sampled_from([Remedy.EXTEND, Remedy.REPLAN]),
)
def test_a_plan_for_a_short_hardship_keeps_to_the_case_and_the_horizon(
    policy: str, currency: str, amounts: list[int], zone: str, months: int, kind: Remedy
) -> None:
    # A willing debtor whose ability recovers within the horizon (Q2-SHORT): extensions
    # and new plans are granted, so the plan itself is what is checked.
    overdue, principal = amounts
    case = Case.from_dict(
        {**Q2_SHORT, "currency": currency, "timezone": zone,
         "principal": str(principal), "overdue_amount": str(overdue)}
    )  # fmt: skip
    decision = shared_engine(policy).decide(case, as_of=AS_OF)
    assert decision.grant(kind) is not None
    plan = _propose(case, decision, kind, PlanTerms(months=months, annual_rate="0.05"), policy)
    if isinstance(plan, PlanRefusedError):
        assert plan.rule_id == "Q2-SHORT"  # past the recovery horizon, and only that
        assert plan.figure is not None
        assert plan.cap is not None
        assert plan.figure > plan.cap
        return
    assert isinstance(plan, Plan), plan
    _check_plan(plan, case, kind)
