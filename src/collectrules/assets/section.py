"""The ``[assets]`` section as a plug-in: asset classes, sources, and the findings' facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from collectrules.assets.checklist import AssetSection, Need, asset_facts, assets_of, parse_assets
from collectrules.conditions import FieldSpec, Scalar
from collectrules.model.case import Case
from collectrules.model.remedies import Remedy
from collectrules.policy.model import Policy
from collectrules.policy.section import BaseSection, SectionLoader

__all__ = ["ASSETS", "AssetsPlugin"]

#: A text or a list of texts, as the loader reads them (``texts``).
_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _one_or_many(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    """One ``item``, or a list of them (at least ``min_items``)."""
    many: dict[str, Any] = {"type": "array", "items": item}
    if min_items:
        many["minItems"] = min_items
    return {"oneOf": [item, many]}


class AssetsPlugin(BaseSection):
    """The ``[assets]`` section."""

    key = "assets"
    doc = "Asset classes and sources for enforcement: see docs/howto-emergencies.md#assets."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[AssetSection, Mapping[str, FieldSpec]]:
        """Parse the ``[assets]`` table."""
        return parse_assets(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The section's ``$defs``."""
        text = {"type": "string"}
        return {
            "assets": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "remedies": _one_or_many({"enum": [r.value for r in Remedy]}),
                    "cover_pct": {
                        "anyOf": [
                            {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                            {"type": "string"},
                        ]
                    },
                    "cites": _STRINGS,
                    "doc": text,
                    "sources": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["needs"],
                            "properties": {
                                "title": text,
                                "title_zh": text,
                                "needs": {"enum": [n.value for n in Need]},
                                "provides": text,
                                "cites": _STRINGS,
                                "doc": text,
                            },
                        },
                    },
                    "classes": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["sources"],
                            "properties": {
                                "title": text,
                                "title_zh": text,
                                "examples": _STRINGS,
                                "sources": _one_or_many({"type": "string"}, 1),
                                "cites": _STRINGS,
                                "doc": text,
                            },
                        },
                    },
                },
            }
        }

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """``assets_found_value`` and ``assets_cover_claim``, when the policy has the section."""
        section = assets_of(policy)
        return {} if section is None else asset_facts(case, as_of, section)


#: The assets section plug-in.
ASSETS = AssetsPlugin()
