"""Reproduction: decide a counterexample with an engine and check it shows the finding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectrules._arguments import require_instance
from collectrules.authoring.verify._findings import (
    Counterexample,
    Finding,
)
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, EngineError, InputError, quote
from collectrules.model.case import Case
from collectrules.model.decision import Decision
from collectrules.model.remedies import remedy_name
from collectrules.policy import ConflictRule, Policy
from collectrules.timeline.evaluate import ACTIONABLE, Timeline, build_timeline


def mismatches(decision: Decision, timeline: Timeline) -> list[tuple[str, str, str, str]]:
    """``(step, status, remedy, why)`` for each actionable step whose remedy the
    decision does not allow."""
    out: list[tuple[str, str, str, str]] = []
    for step in timeline.steps:
        remedy = step.stage.remedy
        if remedy is None or step.status not in ACTIONABLE:
            continue
        if remedy in decision.allowed_remedies:
            continue
        block = decision.block(remedy)
        why = (
            f"blocks it (remedies[{block.rule_id}]: {block.reason})"
            if block is not None
            else "does not allow it (no rule grants it)"
        )
        out.append((step.id, step.status.value, str(remedy), why))
    return out


def incoherence(
    policy: Any, case: Mapping[str, Any], as_of: str, decide: Any
) -> list[tuple[str, str, str, str]]:
    """The contradictions between the decision and the timeline of ``case``."""
    built = Case.from_dict(case, signal_kinds=tuple(policy.signals))
    decision = decide(case)
    if not isinstance(decision, Decision):
        return []
    return mismatches(decision, build_timeline(built, as_of=as_of, policy=policy))


def _decide(engine: Engine, case: Mapping[str, Any], as_of: str) -> Decision | CollectRulesError:

    built = Case.from_dict(case, signal_kinds=tuple(engine.policy.signals))
    try:
        return engine.decide(built, as_of=as_of)
    except (EngineError, InputError) as exc:
        return exc


def _coercive(decision: Decision, coercive: frozenset[str]) -> list[str]:
    return sorted(map(str, decision.allowed_remedies & coercive))


def _check(policy: Policy, cx: Counterexample, decide: Any) -> bool:
    expect = cx.expect
    result = decide(cx.case)
    if "error" in expect:
        if not isinstance(result, EngineError):
            return False
        text = str(result)
        if f"layer {quote(expect['layer'])}" not in text:
            return False
        if expect["error"] == "gap":
            return "no rule matched" in text or "reaches no band" in text
        return "several rules matched" in text and all(r in text for r in expect["rules"])
    if isinstance(result, CollectRulesError) or result is None:
        return False
    if "shadowed" in expect:
        fired = {f.rule_id for f in result.trace}
        level = result.levels.get(expect["output"])
        return (
            expect["shadowed"] in fired and level is not None and level.rules == (expect["used"],)
        )
    if "conflict" in expect:
        fired = {f.rule_id for f in result.trace}
        remedy = remedy_name(expect["remedy"])
        both = all(r in fired for r in expect["conflict"])
        if policy.conflict is ConflictRule.ALLOW_WINS:
            return both and remedy in result.allowed_remedies
        return both and remedy in result.blocked_remedies
    if "step" in expect:
        found = incoherence(policy, cx.case, cx.as_of, decide)
        return any(
            (step, remedy) == (expect["step"], expect["remedy"]) for step, _, remedy, _ in found
        )
    if "allowed" in expect:
        return (
            result.quadrant.value == expect["quadrant"]
            and remedy_name(expect["allowed"]) in result.allowed_remedies
        )
    if "before" in expect and cx.before is not None:
        before = decide(cx.before)
        if isinstance(before, CollectRulesError) or before is None:
            return False
        return bool(
            before.quadrant.value == expect["before"]["quadrant"]
            and result.quadrant.value == expect["after"]["quadrant"]
            and _coercive(before, policy.coercive_remedies) == expect["before"]["coercive"]
            and _coercive(result, policy.coercive_remedies) == expect["after"]["coercive"]
        )
    return False


def reproduces(finding: Finding, engine: Engine) -> bool:
    """Whether ``engine`` shows ``finding`` on its counterexample.

    A gap or an overlap shows as the engine's error naming the layer (and the rules); a
    shadowed rule as a decision in whose trace it matched while another rule gave the
    layer's value; a conflict as both rules firing on one case; an ordering violation as
    litigation allowed for a Q1 case; a monotonicity violation as the two decisions of
    the case before and after the change; a remedy outside its quadrant's envelope as
    that remedy allowed for a case of that quadrant; an incoherence as a step that
    calls for its remedy while the decision does not allow it. A finding without a
    counterexample never reproduces.
    """
    require_instance(finding, Finding, "finding", "a Finding (from verify)")
    require_instance(engine, Engine, "engine", "an Engine")
    cx = finding.counterexample
    if cx is None:
        return False

    def decide(case: Mapping[str, Any]) -> Decision | CollectRulesError:
        return _decide(engine, case, cx.as_of)

    return _check(engine.policy, cx, decide)
