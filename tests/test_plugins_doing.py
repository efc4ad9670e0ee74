"""Plug-ins whose hooks add nothing are left out of the per-case loops, and only they."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pendulum

from collectrules import Engine
from collectrules.model.case import Case, Signal
from collectrules.policy import Policy, policy_from_dict
from collectrules.policy.model import Contribution
from collectrules.policy.section import BaseSection, installed_sections, plugins_doing

AS_OF = pendulum.datetime(2026, 3, 15, 10, tz="Asia/Shanghai")


class _FactsOnly(BaseSection):
    key = "facts_only"

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        return raw, {}

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return {"facts_only_seen": True}


class _Duck:
    """A section written to the protocol, without BaseSection: every hook is its own."""

    key = "duck"
    doc = "a duck-typed section"
    parameters: frozenset[str] = frozenset()
    parameter_specs: Mapping[str, Any] = {}

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        return raw, {}

    def schema_property(self) -> dict[str, Any]:
        return {"description": self.doc}

    def schema_defs(self) -> dict[str, Any]:
        return {}

    def derived_signals(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy
    ) -> tuple[Signal, ...]:
        return ()

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return {"duck_seen": True}

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        return Contribution()


def _policy() -> Policy:
    text = resources.files("collectrules.policies").joinpath("default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return policy_from_dict(data, sections=(*installed_sections(), _FactsOnly(), _Duck()))


def test_only_the_hooks_inherited_from_base_section_are_left_out() -> None:
    policy = _policy()
    facts_only, duck = policy.plugins[-2:]
    assert facts_only in plugins_doing(policy, "facts")
    assert facts_only not in plugins_doing(policy, "contribute")
    assert facts_only not in plugins_doing(policy, "derived_signals")
    for hook in ("facts", "contribute", "derived_signals"):
        assert duck in plugins_doing(policy, hook), hook
        kept = plugins_doing(policy, hook)
        # The order is the policy's.
        assert list(kept) == [p for p in policy.plugins if p in kept]
    # The shipped sections that add facts are all kept.
    names = {p.key for p in plugins_doing(policy, "facts")}
    assert {"timeline", "guardrails", "emergencies", "assets"} <= names


def test_the_facts_of_a_custom_section_reach_the_derivation() -> None:
    policy = _policy()
    case = Case.from_dict(
        {
            "case_id": "C1",
            "product": "loan",
            "currency": "CNY",
            "due_date": "2026-01-10",
            "principal": "10000",
            "overdue_amount": "2500",
            "timezone": "Asia/Shanghai",
        }
    )
    facts = Engine(policy, backend="python").derive(case, as_of=AS_OF).facts
    assert facts["facts_only_seen"] is True
    assert facts["duck_seen"] is True
