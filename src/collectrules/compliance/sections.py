"""The compliance sections as plug-ins: ``[regulation]``, ``[guardrails]``, ``[buckets]``.

Each parses its table, describes it in the JSON Schema, adds its facts at ``as_of``
(``cn5_class``, ``bucket``, ``time_barred`` …) and, for classes and buckets, its results
and trace entries to every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from collectrules.compliance import _schema, buckets, guardrails, regulatory
from collectrules.conditions import FieldSpec, Scalar
from collectrules.model.case import Case
from collectrules.policy.model import Policy
from collectrules.policy.section import (
    NO_CONTRIBUTION,
    BaseSection,
    Contribution,
    SectionLoader,
)

__all__ = [
    "BUCKETS",
    "GUARDRAILS",
    "REGULATION",
    "BucketsPlugin",
    "GuardrailsPlugin",
    "RegulationPlugin",
]


class RegulationPlugin(BaseSection):
    """The ``[regulation]`` section: regulatory classification packs."""

    key = "regulation"
    table_only = True
    doc = "Regulatory classification packs, keyed by pack id: see docs/howto-compliance.md."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[regulatory.RegulationSection, dict[str, FieldSpec]]:
        """Parse the ``[regulation]`` table."""
        return regulatory.parse_section(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The regulation packs' ``$defs``."""
        return _schema.regulation_defs()

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The class facts (``cn5_class``, ``eu_default`` …)."""
        return regulatory.extra_facts(case, as_of, policy, facts)

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        """The case's class under each pack, with its trace entry."""
        classes = regulatory.classify(case, facts, as_of, policy)
        if not classes:
            return NO_CONTRIBUTION
        return Contribution(
            regulatory=classes, firings=tuple(regulatory.firing(c) for c in classes)
        )


class GuardrailsPlugin(BaseSection):
    """The ``[guardrails]`` section: contact guardrail packs."""

    key = "guardrails"
    table_only = True
    doc = "Contact guardrails, keyed by pack id: see docs/howto-compliance.md."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[guardrails.GuardrailsSection, dict[str, FieldSpec]]:
        """Parse the ``[guardrails]`` table."""
        return guardrails.parse_section(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The guardrail packs' ``$defs``."""
        return _schema.guardrails_defs()

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The ``time_barred`` fact, when a pack has a limitation rule."""
        return guardrails.extra_facts(case, as_of, policy, facts)


class BucketsPlugin(BaseSection):
    """The ``[buckets]`` section: delinquency bucket sets."""

    key = "buckets"
    table_only = True
    doc = "Delinquency bucket sets, keyed by set id: see docs/howto-compliance.md."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[buckets.BucketsSection, dict[str, FieldSpec]]:
        """Parse the ``[buckets]`` table."""
        return buckets.parse_section(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The bucket sets' ``$defs``."""
        return _schema.buckets_defs()

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The bucket facts (``bucket``, ``npl_bucket`` …)."""
        return buckets.extra_facts(case, as_of, policy, facts)

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        """The case's bucket in each set, with its trace entry."""
        results = buckets.classify(case, facts, as_of, policy)
        if not results:
            return NO_CONTRIBUTION
        return Contribution(buckets=results, firings=tuple(buckets.firing(b) for b in results))


#: The regulation section plug-in.
REGULATION = RegulationPlugin()
#: The guardrails section plug-in.
GUARDRAILS = GuardrailsPlugin()
#: The buckets section plug-in.
BUCKETS = BucketsPlugin()
