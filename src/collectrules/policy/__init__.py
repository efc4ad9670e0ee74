"""Declarative policies: the model, loading and composition, sections, the JSON Schema.

A policy is data: parameters, the signal catalogue, classification layers with hit
policies, remedy rules, and optional sections (timeline, regulation, buckets,
guardrails, clauses) that plug in through :class:`Section`. It is loaded from TOML
(or YAML, or JSON), validated in full, frozen, and identified by an id, a version
and a content hash. Its flat facts at ``as_of`` come from :func:`derive`.
"""

from __future__ import annotations

from collectrules.policy.derive import DEFAULT_LOOKBACK_DAYS, Derived, derive
from collectrules.policy.loader import (
    FORMAT_VERSION,
    available_policies,
    load_policy,
    policy_from_dict,
)
from collectrules.policy.model import (
    ConflictRule,
    Contribution,
    Envelope,
    HitPolicy,
    Layer,
    LayerRule,
    NamedCondition,
    Parameter,
    ParameterSpec,
    Policy,
    RemedyEffect,
    RemedyRule,
    Section,
    SectionLoader,
    SignalSpec,
    base_fields,
    signal_fields,
)
from collectrules.policy.section import BaseSection, installed_sections

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "FORMAT_VERSION",
    "BaseSection",
    "ConflictRule",
    "Contribution",
    "Derived",
    "Envelope",
    "HitPolicy",
    "Layer",
    "LayerRule",
    "NamedCondition",
    "Parameter",
    "ParameterSpec",
    "Policy",
    "RemedyEffect",
    "RemedyRule",
    "Section",
    "SectionLoader",
    "SignalSpec",
    "available_policies",
    "base_fields",
    "derive",
    "installed_sections",
    "load_policy",
    "policy_from_dict",
    "signal_fields",
]
