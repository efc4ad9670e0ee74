"""Reproduction: decide a counterexample with an engine and check it shows the finding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectrules.authoring.verify._findings import (
    Counterexample,
    Finding,
)
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, EngineError, InputError
from collectrules.model.case import Case
from collectrules.model.decision import Decision
from collectrules.model.remedies import COERCIVE_REMEDIES, Remedy
from collectrules.policy import ConflictRule, Policy


def _decide(engine: Engine, case: Mapping[str, Any], as_of: str) -> Decision | CollectRulesError:

    built = Case.from_dict(case, signal_kinds=tuple(engine.policy.signals))
    try:
        return engine.decide(built, as_of=as_of)
    except (EngineError, InputError) as exc:
        return exc


def _coercive(decision: Decision) -> list[str]:
    return sorted(r.value for r in decision.allowed_remedies & COERCIVE_REMEDIES)


def _check(policy: Policy, cx: Counterexample, decide: Any) -> bool:
    expect = cx.expect
    result = decide(cx.case)
    if "error" in expect:
        if not isinstance(result, EngineError):
            return False
        text = str(result)
        if f"layer {expect['layer']!r}" not in text:
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
        remedy = Remedy(expect["remedy"])
        both = all(r in fired for r in expect["conflict"])
        if policy.conflict is ConflictRule.ALLOW_WINS:
            return both and remedy in result.allowed_remedies
        return both and remedy in result.blocked_remedies
    if "allowed" in expect:
        return (
            result.quadrant.value == expect["quadrant"]
            and Remedy(expect["allowed"]) in result.allowed_remedies
        )
    if "before" in expect and cx.before is not None:
        before = decide(cx.before)
        if isinstance(before, CollectRulesError) or before is None:
            return False
        return bool(
            before.quadrant.value == expect["before"]["quadrant"]
            and result.quadrant.value == expect["after"]["quadrant"]
            and _coercive(before) == expect["before"]["coercive"]
            and _coercive(result) == expect["after"]["coercive"]
        )
    return False


def reproduces(finding: Finding, engine: Engine) -> bool:
    """Whether ``engine`` shows ``finding`` on its counterexample.

    A gap or an overlap shows as the engine's error naming the layer (and the rules); a
    shadowed rule as a decision in whose trace it matched while another rule gave the
    layer's value; a conflict as both rules firing on one case; an ordering violation as
    litigation allowed for a Q1 case; a monotonicity violation as the two decisions of
    the case before and after the change. A finding without a counterexample never
    reproduces.
    """
    cx = finding.counterexample
    if cx is None:
        return False

    def decide(case: Mapping[str, Any]) -> Decision | CollectRulesError:
        return _decide(engine, case, cx.as_of)

    return _check(engine.policy, cx, decide)
