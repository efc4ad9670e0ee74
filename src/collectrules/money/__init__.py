"""Money: repayment plans, amounts due within the legal caps, and collection KPIs.

* :func:`propose_plan` builds the schedule of an allowed extension (展期), replan or
  restructuring, checks it against the policy's ``[money]`` caps, and renders it as
  data, CSV, and a bilingual agreement draft for written confirmation (书面确认);
* :mod:`collectrules.money.charges` computes what is owed at a date;
* :mod:`collectrules.money.kpis` measures a portfolio from batch decisions.
"""

from __future__ import annotations

from collectrules.money.plans import (
    PLAN_KINDS,
    CapCheck,
    Instalment,
    Method,
    Plan,
    PlanRefusedError,
    PlanTerms,
    add_months,
    build_schedule,
    money_section,
    propose_plan,
)
from collectrules.money.section import MONEY, MoneyPlugin
from collectrules.money.terms import Component, MoneySection

__all__ = [
    "MONEY",
    "PLAN_KINDS",
    "CapCheck",
    "Component",
    "Instalment",
    "Method",
    "MoneyPlugin",
    "MoneySection",
    "Plan",
    "PlanRefusedError",
    "PlanTerms",
    "add_months",
    "build_schedule",
    "money_section",
    "propose_plan",
]
