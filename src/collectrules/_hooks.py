"""Where the optional policy sections feed the core decision.

The timeline turns promises to pay into derived ``promise_kept`` / ``promise_broken``
signals; the regulatory packs add class and bucket fields to the flat facts. Both are
looked up here, by section, so that the core never imports them at module load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pendulum

from collectrules.decision import Firing
from collectrules.facts import Case, Signal
from collectrules.policy import Policy

__all__ = ["class_firings", "classify", "derived_signals", "extra_facts"]


def derived_signals(case: Case, as_of: pendulum.DateTime, policy: Policy) -> tuple[Signal, ...]:
    """Signals derived from the case's events (kept and broken promises)."""
    from collectrules import timeline

    return timeline.derived_promise_signals(case, as_of, policy)


def extra_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """Fact fields that the policy's optional sections add."""
    out: dict[str, Any] = {}
    out.update(_timeline_facts(case, as_of, policy))
    out.update(_pack_facts(case, as_of, policy, facts))
    return out


def _timeline_facts(case: Case, as_of: pendulum.DateTime, policy: Policy) -> dict[str, Any]:
    """The timeline section's facts: contact attempts by outcome, promises, payments."""
    if "timeline" not in policy.sections:
        return {}
    from collectrules import timeline

    return timeline.timeline_facts(case, as_of, timeline.promise_rules(policy))


def _pack_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The regulation, bucket and guardrail packs' facts (cn5_class, bucket, time_barred …)."""
    sections = policy.sections
    if not any(key in sections for key in ("regulation", "buckets", "guardrails")):
        return {}
    from collectrules import buckets, guardrails, regulatory

    out: dict[str, Any] = {}
    out.update(regulatory.extra_facts(case, as_of, policy, facts))
    out.update(buckets.extra_facts(case, as_of, policy, facts))
    out.update(guardrails.extra_facts(case, as_of, policy, facts))
    return out


def classify(case: Case, derived: Any, policy: Policy) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The regulatory classes and delinquency buckets the policy's packs give."""
    if "regulation" not in policy.sections and "buckets" not in policy.sections:
        return (), ()
    from collectrules import buckets, regulatory

    return (
        regulatory.classify(case, derived.facts, derived.as_of, policy),
        buckets.classify(case, derived.facts, derived.as_of, policy),
    )


def class_firings(regulatory: Sequence[Any], buckets: Sequence[Any]) -> tuple[Firing, ...]:
    """The trace entries of the regulatory classes and buckets, after the remedies."""
    if not regulatory and not buckets:
        return ()
    from collectrules import buckets as _buckets
    from collectrules import regulatory as _regulatory

    return (*(_regulatory.firing(r) for r in regulatory), *(_buckets.firing(b) for b in buckets))
