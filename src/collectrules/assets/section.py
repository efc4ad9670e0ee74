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

_STRINGS = {"type": "array", "items": {"type": "string"}}


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
                "required": ["sources", "classes"],
                "properties": {
                    "remedies": {**_STRINGS, "items": {"enum": [r.value for r in Remedy]}},
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
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["sources"],
                            "properties": {
                                "title": text,
                                "title_zh": text,
                                "examples": _STRINGS,
                                "sources": {**_STRINGS, "minItems": 1},
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
