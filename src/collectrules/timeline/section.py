"""The ``[timeline]`` section as a plug-in: stage plans, calendars, promises, deadlines.

It parses the section, describes it in the JSON Schema, derives ``promise_kept`` and
``promise_broken`` signals from the case's events, and adds the contact, promise and
payment facts that conditions read, and the timeline's state (steps, phase, legal
deadlines) that remedy rules read: the latter only for a policy whose rules read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from collectrules.conditions import FieldSpec, Scalar
from collectrules.model.case import Case, Signal
from collectrules.policy.model import Policy
from collectrules.policy.section import BaseSection, SectionLoader
from collectrules.timeline._schema import timeline_defs
from collectrules.timeline.evaluate import (
    _overlaid_state_facts,
    current_timeline_facts,
    derived_promise_signals,
)
from collectrules.timeline.stages import (
    TIMELINE_FIELDS,
    TIMELINE_PARAMETERS,
    TimelineSection,
    parse_timeline_section,
    state_fields,
)

__all__ = ["TIMELINE", "TimelinePlugin"]


class TimelinePlugin(BaseSection):
    """The ``[timeline]`` section."""

    key = "timeline"
    doc = "Stage plans, calendars and legal deadlines: see docs/reference-stages.md."
    parameters = frozenset(TIMELINE_PARAMETERS)
    parameter_specs = TIMELINE_PARAMETERS

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[TimelineSection | None, Mapping[str, FieldSpec]]:
        """Parse the ``[timeline]`` table."""
        return parse_timeline_section(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The timeline's ``$defs``."""
        return timeline_defs()

    def derived_signals(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy
    ) -> tuple[Signal, ...]:
        """Kept and broken promises, judged at ``as_of`` (with or without the section)."""
        return derived_promise_signals(case, as_of, policy)

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Contact attempts by outcome, promises and payments, when the policy has a plan;
        and the timeline's state, when the policy's rules read it."""
        if self.key not in policy.sections:
            return {}
        out = current_timeline_facts(case, as_of, policy)
        needed: frozenset[str] = policy.memo("timeline_state_reads", lambda: _state_reads(policy))
        if needed:
            out.update(_overlaid_state_facts(case, as_of, policy, facts, out, needed))
        return out


def _state_reads(policy: Policy) -> frozenset[str]:
    """The timeline state fields that the policy's layer and remedy rules read."""
    read: set[str] = set()
    for layer in policy.layers:
        read |= layer.inputs()
    for rule in policy.remedy_rules:
        read |= rule.when.fields()
    own = {name for name in policy.extra_fields if name not in TIMELINE_FIELDS}
    return frozenset(read & own & _timeline_fields(policy))


def _timeline_fields(policy: Policy) -> set[str]:
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection):
        return set()
    return set(state_fields(section.plans))


#: The timeline section plug-in.
TIMELINE = TimelinePlugin()
