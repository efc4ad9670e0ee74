"""Plug-ins whose hooks add nothing are left out of the per-case loops, and only they."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Engine
from collectrules.batch.runner import run_batch
from collectrules.model.case import Case, Signal
from collectrules.policy import Policy, load_policy, policy_from_dict
from collectrules.policy.model import NO_CONTRIBUTION, Contribution
from collectrules.policy.section import BaseSection, installed_sections, plugins_doing
from collectrules.testing.strategies import cases

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


_ROW = {
    "case_id": "C1",
    "product": "loan",
    "currency": "CNY",
    "due_date": "2026-01-10",
    "principal": "10000",
    "overdue_amount": "2500",
    "timezone": "Asia/Shanghai",
}


def _policy(*sections: Any) -> Policy:
    """The default policy with ``sections`` installed (default: the two above)."""
    text = resources.files("collectrules.policies").joinpath("default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    extra = sections or (_FactsOnly(), _Duck())
    return policy_from_dict(data, sections=(*installed_sections(), *extra))


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
    case = Case.from_dict(_ROW)
    facts = Engine(policy, backend="python").derive(case, as_of=AS_OF).facts
    assert facts["facts_only_seen"] is True
    assert facts["duck_seen"] is True


def test_a_table_only_section_is_left_out_where_the_policy_has_no_table() -> None:
    without = load_policy("default")  # no [regulation], no [buckets]
    with_tables = load_policy("cn_bank_loan")
    for hook in ("facts", "contribute"):
        kept = {p.key for p in plugins_doing(without, hook)}
        assert not kept & {"regulation", "buckets"}, hook
        assert {"regulation", "buckets"} <= {p.key for p in plugins_doing(with_tables, hook)}
    # The guardrails section is in both policies: kept in both.
    assert "guardrails" in {p.key for p in plugins_doing(without, "facts")}


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_table_only_section_adds_nothing_without_its_table(data: st.DataObject) -> None:
    """What skipping it relies on: its hooks, called anyway, add nothing."""
    policy = load_policy("default")
    case = data.draw(cases(policy))
    facts = Engine(policy, backend="python").derive(case, as_of=AS_OF).facts
    marked = [p for p in policy.plugins if getattr(p, "table_only", False)]
    assert {p.key for p in marked} == {"regulation", "guardrails", "buckets"}
    for plugin in marked:
        if plugin.key in policy.sections:
            continue
        assert plugin.facts(case, AS_OF, policy, facts) == {}
        assert plugin.derived_signals(case, AS_OF, policy) == ()
        part = plugin.contribute(case, facts, AS_OF, policy)
        assert part is NO_CONTRIBUTION or part == Contribution()


class _NotANumber(_FactsOnly):
    """A section whose fact JSON cannot hold, for one case: NaN, as a careless ratio
    would give."""

    key = "ratio"

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return {"overdue_ratio": float("nan") if case.case_id == "NAN" else 0.5}


def test_a_sections_fact_json_cannot_hold_is_its_rows_error_in_a_batch(tmp_path: Path) -> None:
    """The other rows are decided; the row whose decision holds NaN is a bad row naming
    the fact, of its own kind (not an internal error), and both files hold every row."""
    policy = _policy(_NotANumber())
    rows = [{**_ROW, "case_id": case_id} for case_id in ("A", "NAN", "B")]
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    summary = run_batch(
        [source], engine=Engine(policy, backend="python"), out=out, errors=errors, as_of=AS_OF
    )
    decided = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    bad = [json.loads(line) for line in errors.read_text("utf-8").splitlines()]
    assert [d["case_id"] for d in decided] == ["A", "B"]
    assert [d["facts"]["overdue_ratio"] for d in decided] == [0.5, 0.5]
    assert [(b["case_id"], b["kind"]) for b in bad] == [("NAN", "UnwritableError")]
    assert bad[0]["error"] == (
        "facts.overdue_ratio: nan; JSON has no form for a number that is not finite"
    )
    assert (summary.decided, summary.bad) == (2, 1)
