"""The ``[money]`` section as a plug-in: caps, allocation order, reductions, targets.

It parses the section and describes it in the JSON Schema; plans
(:mod:`collectrules.money.plans`), charges (:mod:`collectrules.money.charges`) and
KPIs (:mod:`collectrules.money.kpis`) read the parsed table from the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectrules.conditions import FieldSpec, Scalar
from collectrules.money._schema import money_defs
from collectrules.money.terms import MoneySection, parse_money_section
from collectrules.policy.section import BaseSection, SectionLoader

__all__ = ["MONEY", "MoneyPlugin"]


class MoneyPlugin(BaseSection):
    """The ``[money]`` section."""

    key = "money"
    doc = "Repayment plans, charges, legal caps and collection targets: see docs/charges.md."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[MoneySection | None, Mapping[str, FieldSpec]]:
        """Parse the ``[money]`` table; it adds no fact fields."""
        return parse_money_section(raw, loader, params), {}

    def schema_defs(self) -> dict[str, Any]:
        """The money section's ``$defs``."""
        return money_defs()


#: The money section plug-in.
MONEY = MoneyPlugin()
