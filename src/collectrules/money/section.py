"""The ``[money]`` section as a plug-in: caps, allocation order, reductions, targets.

It parses the section, describes it in the JSON Schema, and puts the amounts due of a
case with contract terms into its decision (``Decision.amounts``); plans
(:mod:`collectrules.money.plans`), charges (:mod:`collectrules.money.charges`) and
KPIs (:mod:`collectrules.money.kpis`) read the parsed table from the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from collectrules.conditions import FieldSpec, Scalar
from collectrules.model.case import Case
from collectrules.model.decision import Quadrant, RemedyGrant
from collectrules.money._schema import money_defs
from collectrules.money.charges import amounts_due, reductions_open
from collectrules.money.terms import MoneySection, parse_money_section
from collectrules.policy.model import Policy
from collectrules.policy.section import (
    NO_CONTRIBUTION,
    BaseSection,
    Contribution,
    SectionLoader,
)

__all__ = ["MONEY", "MoneyPlugin"]


class MoneyPlugin(BaseSection):
    """The ``[money]`` section."""

    key = "money"
    doc = "Repayment plans, charges, legal caps and collection targets: see docs/charges.md."
    #: ``amounts_due``, ``reductions_open`` and the ``to_dict`` of what they give each
    #: run in the library's decimal context; the rest compares amounts, which needs none.
    own_decimal_context = True

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[MoneySection | None, Mapping[str, FieldSpec]]:
        """Parse the ``[money]`` table; it adds no fact fields."""
        return parse_money_section(raw, loader, params), {}

    def schema_defs(self) -> dict[str, Any]:
        """The money section's ``$defs``."""
        return money_defs()

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        """The amounts due, when the case carries contract terms (else nothing); once
        the decision's remedies are known, the reductions it allows and the largest."""
        if not case.has_contract_terms:
            return NO_CONTRIBUTION
        due = amounts_due(case, as_of, policy=policy)

        def settle(quadrant: Quadrant, allowed: tuple[RemedyGrant, ...]) -> dict[str, Any]:
            offers = reductions_open(due, quadrant, allowed, policy=policy)
            largest = max(offers, key=lambda o: o.amount, default=None)
            return {
                "reductions": [o.to_dict() for o in offers],
                "largest_reduction": None if largest is None else largest.to_dict(),
            }

        return Contribution(amounts=due.to_dict(), settle=settle)


#: The money section plug-in.
MONEY = MoneyPlugin()
