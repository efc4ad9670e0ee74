"""Finding the debtor's assets for enforcement (DOMAIN.md §9): the ``[assets]`` section.

``Engine.asset_plan(case, as_of=…)`` gives the checklist (:class:`AssetPlan`) when the
decision allows litigation or asset investigation; ``asset_found`` events become the
facts ``assets_found_value`` and ``assets_cover_claim``.
"""

from __future__ import annotations

from collectrules.assets.checklist import (
    AssetClass,
    AssetClassItem,
    AssetFinding,
    AssetPlan,
    AssetSection,
    AssetSource,
    Need,
)

__all__ = [
    "AssetClass",
    "AssetClassItem",
    "AssetFinding",
    "AssetPlan",
    "AssetSection",
    "AssetSource",
    "Need",
]
