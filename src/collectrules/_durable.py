"""The one module that imports durable_rules. Everything it needs to survive is here.

How each item of DURABLE_RULES.md is handled:

#1  the import is guarded; using the engine where it fails raises
    :class:`EngineUnavailableError` naming the cause, and ``import collectrules`` works.
#2  every decision uses a fresh session id and deletes its state in ``finally``, so at
    most one session per decision is ever live.
#3–#5  :mod:`collectrules._limits` checks the policy before durable is called.
#6  every fact carries a unique ``id`` (session id + stage).
#7  every stage fact is matched by its resolver rule, so "not handled" cannot happen;
    if it does, it is mapped to an :class:`EngineError` saying which stage found no rule.
#8  every action is wrapped; an exception is captured with the rule id and raised as
    :class:`RuleActionError` after the post; a leftover ``state['exception']`` too.
#9, #11  one explicitly created host per process, made under a lock, with its two
    background dispatcher threads never started (the subclass's ``_run`` does nothing):
    actions run only on the posting thread, synchronously.
#10 compiled rulesets are cached by the policy's content hash and named uniquely.
#12, #13  no durable timers; actions only record matches and assert the next fact.
#14 facts are typed before posting: money as integers, dates as day counts.
#15 the trace is recorded by our own wrapped actions, with our own rule ids.
#16 the C core holds the GIL; decisions are serialised by a lock.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from collectrules._evaluate import (
    Outcome,
    compile_condition,
    layer_firings,
    resolve_layer,
    resolve_remedies,
)
from collectrules._limits import check_policy
from collectrules.conditions import to_durable
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    EngineUnavailableError,
    RuleActionError,
)
from collectrules.policy import LayerRule, Policy, RemedyRule

try:  # DURABLE_RULES.md #1: fails on CPython 3.13 with an undefined symbol.
    from durable import engine as _engine
except Exception as exc:  # ImportError, or OSError from the C extension
    _engine = None
    _IMPORT_ERROR: Exception | None = exc
else:
    _IMPORT_ERROR = None

__all__ = ["CompiledRuleset", "available", "compile_ruleset", "unavailable_reason"]

_RESOLVE_PRIORITY = 9
_RULE_PRIORITY = 1


def available() -> bool:
    """Whether durable_rules imported on this interpreter."""
    return _engine is not None


def unavailable_reason() -> str:
    """Why durable_rules is unavailable (empty when it is available)."""
    if _IMPORT_ERROR is None:
        return ""
    version = ".".join(str(v) for v in sys.version_info[:3])
    return (
        f"durable_rules cannot be imported on Python {version}: {_IMPORT_ERROR}. "
        "It works on Python 3.11 and 3.12 (on 3.13 the released 2.0.28 fails with "
        "'undefined symbol: PyEval_CallObject'). Use Python 3.11 or 3.12, or the compiled "
        "evaluator: Engine(policy, backend='python')."
    )


def _require() -> Any:
    if _engine is None:
        raise EngineUnavailableError(unavailable_reason())
    return _engine


class _Run:
    """What one decision's actions record; keyed by session id."""

    __slots__ = ("error", "matched", "outcome")

    def __init__(self) -> None:
        self.matched: dict[int, list[Any]] = {}
        self.outcome = Outcome()
        self.error: tuple[str, str] | None = None


class _HostHolder:
    """One durable Host per process, created once under a lock (#9, #11)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.host: Any = None
        self.actions: dict[str, Callable[[Any], None]] = {}
        self.rulesets: dict[str, CompiledRuleset] = {}

    def get(self) -> Any:
        with self.lock:
            if self.host is None:
                engine = _require()
                actions = self.actions

                class _Host(engine.Host):  # type: ignore[misc, name-defined]
                    def _run(self) -> None:
                        # No dispatcher or timer threads: every action runs on the
                        # thread that posts, synchronously (DURABLE_RULES.md #11).
                        return None

                    def get_action(self, action_name: str) -> Callable[[Any], None]:
                        return actions[action_name]

                self.host = _Host()
            return self.host


_HOLDER = _HostHolder()
_SESSION_IDS = itertools.count(1)


class CompiledRuleset:
    """A policy compiled into one durable_rules ruleset, registered once per process.

    Each layer is a stage: its fact (``t = "s<i>"``) carries the case facts plus every
    earlier layer's output. The layer's rules match it; its resolver rule, at a lower
    priority, fires after them, applies the hit policy, and asserts the next stage's
    fact. The last stage holds the remedy rules. Assessment, quadrant and remedies thus
    chain forward inside the engine.
    """

    def __init__(self, policy: Policy) -> None:
        check_policy(policy)
        self.policy = policy
        self.name = f"collectrules.{policy.id}.{policy.content_hash[:20]}"
        self.runs: dict[str, _Run] = {}
        self.stage_count = len(policy.layers) + 1
        self.definition = self._define()

    # -- compilation

    def _condition(self, rule: LayerRule | RemedyRule, stage: int) -> dict[str, Any]:
        schema = self.policy.schema()
        optional = frozenset(name for name, spec in schema.items() if spec.optional)
        cond = compile_condition(rule.when, self.policy.parameter_values, schema)
        body = to_durable(cond, optional)
        tag = {"t": f"s{stage}"}
        return {"m": tag if body is None else {"$and": [tag, body]}}

    def _define(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        for stage, layer in enumerate(self.policy.layers):
            for rule in layer.rules:
                rules[rule.id] = {
                    "all": [self._condition(rule, stage)],
                    "pri": _RULE_PRIORITY,
                    "run": self._action_name(rule.id),
                }
                _HOLDER.actions[self._action_name(rule.id)] = self._match_action(stage, rule)
            rules[f"__resolve__.{stage}"] = {
                "all": [{"m": {"t": f"s{stage}"}}],
                "pri": _RESOLVE_PRIORITY,
                "run": self._action_name(f"__resolve__.{stage}"),
            }
            _HOLDER.actions[self._action_name(f"__resolve__.{stage}")] = self._resolve_action(stage)
        last = len(self.policy.layers)
        for remedy_rule in self.policy.remedy_rules:
            rules[remedy_rule.id] = {
                "all": [self._condition(remedy_rule, last)],
                "pri": _RULE_PRIORITY,
                "run": self._action_name(remedy_rule.id),
            }
            _HOLDER.actions[self._action_name(remedy_rule.id)] = self._match_action(
                last, remedy_rule
            )
        rules[f"__resolve__.{last}"] = {
            "all": [{"m": {"t": f"s{last}"}}],
            "pri": _RESOLVE_PRIORITY,
            "run": self._action_name(f"__resolve__.{last}"),
        }
        _HOLDER.actions[self._action_name(f"__resolve__.{last}")] = self._resolve_action(last)
        return rules

    def _action_name(self, rule_id: str) -> str:
        return f"{self.name}:{rule_id}"

    # -- actions (kept tiny: DURABLE_RULES.md #13)

    def _match_action(self, stage: int, rule: LayerRule | RemedyRule) -> Callable[[Any], None]:
        runs = self.runs

        def action(c: Any) -> None:
            run = runs.get(c.m["sid"])
            if run is None or run.error is not None:
                return
            try:
                # durable_rules expands a top-level `$or` into alternatives that each
                # fire; a rule matches once, whichever alternatives held.
                found = run.matched.setdefault(stage, [])
                if rule not in found:
                    found.append(rule)
            except Exception as exc:  # pragma: no cover - defensive (#8)
                run.error = (rule.id, f"{type(exc).__name__}: {exc}")

        return action

    def _resolve_action(self, stage: int) -> Callable[[Any], None]:
        runs = self.runs
        policy = self.policy
        layers = policy.layers
        rules: list[LayerRule | RemedyRule] = (
            list(layers[stage].rules) if stage < len(layers) else list(policy.remedy_rules)
        )
        order = {id(rule): i for i, rule in enumerate(rules)}

        def action(c: Any) -> None:
            run = runs.get(c.m["sid"])
            if run is None or run.error is not None:
                return
            rule_id = f"__resolve__.{stage}"
            try:
                # Hit policies are defined on file order; the engine fires rules of
                # equal priority in that order too, and this makes it explicit.
                matched = sorted(run.matched.get(stage, []), key=lambda r: order[id(r)])
                if stage < len(layers):
                    layer = layers[stage]
                    rule_id = layer.id
                    outcome = resolve_layer(layer, matched)
                    run.outcome.levels.append(outcome)
                    run.outcome.firings.extend(layer_firings(outcome, matched))
                    fact = dict(c.m._d)
                    fact[layer.output] = outcome.value
                    fact["t"] = f"s{stage + 1}"
                    fact["id"] = f"{c.m['sid']}:s{stage + 1}"
                    c.assert_fact(fact)
                else:
                    rule_id = "remedies"
                    allowed, blocked, firings = resolve_remedies(policy, matched)
                    run.outcome.allowed, run.outcome.blocked = allowed, blocked
                    run.outcome.firings.extend(firings)
            except CollectRulesError as exc:
                run.error = (rule_id, str(exc))
            except Exception as exc:  # DURABLE_RULES.md #8: never let durable swallow it
                run.error = (rule_id, f"{type(exc).__name__}: {exc}")

        return action

    # -- running

    def register(self) -> None:
        """Register the ruleset with the process's host, once (#10)."""
        host = _HOLDER.get()
        host.register_rulesets({self.name: self.definition})

    def evaluate(self, facts: Mapping[str, Any]) -> Outcome:
        """Run the ruleset on one case's flat facts, in a session of its own."""
        engine = _require()
        host = _HOLDER.get()
        with _HOLDER.lock:
            sid = f"d{next(_SESSION_IDS)}"
            run = _Run()
            self.runs[sid] = run
            fact = dict(facts)
            fact.update({"t": "s0", "id": f"{sid}:s0", "sid": sid})
            try:
                try:
                    state = host.assert_fact(self.name, fact)
                except engine.MessageNotHandledException:  # (#7) cannot happen: resolvers
                    msg = f"policy {self.policy.id!r}: no rule handled the first stage fact"
                    raise EngineError(msg) from None
                except engine.MessageObservedException:  # (#6) ids are unique
                    msg = f"durable_rules saw fact {fact['id']} twice"
                    raise EngineError(msg) from None
                if run.error is not None:
                    raise RuleActionError(*run.error)
                if isinstance(state, dict) and "exception" in state:
                    raise RuleActionError("unknown", str(state["exception"]))
                if len(run.outcome.levels) != len(self.policy.layers):
                    done = len(run.outcome.levels)
                    msg = f"policy {self.policy.id!r}: the engine stopped after stage {done}"
                    raise EngineError(msg)
                return run.outcome
            finally:
                del self.runs[sid]
                host.delete_state(self.name, sid)


def compile_ruleset(policy: Policy) -> CompiledRuleset:
    """The compiled ruleset of ``policy``, compiled and registered once per content hash."""
    _require()
    with _HOLDER.lock:
        cached = _HOLDER.rulesets.get(policy.content_hash)
        if cached is None:
            cached = CompiledRuleset(policy)
            cached.register()
            _HOLDER.rulesets[policy.content_hash] = cached
        return cached


def live_sessions(policy: Policy) -> int:
    """How many sessions of the policy's ruleset are live (0 between decisions)."""
    with _HOLDER.lock:
        cached = _HOLDER.rulesets.get(policy.content_hash)
        return 0 if cached is None else len(cached.runs)


def raw_post_throughput(count: int) -> float:
    """Posts per second of a flat six-rule ruleset with a Python action, for comparison."""
    import time

    engine = _require()
    host = _HOLDER.get()
    name = f"collectrules.bench.raw.{next(_SESSION_IDS)}"
    hits = [0]

    def action(c: Any) -> None:
        hits[0] += 1

    with _HOLDER.lock:
        _HOLDER.actions[f"{name}:a"] = action
        host.register_rulesets(
            {
                name: {
                    f"r{i}": {"all": [{"m": {"$gt": {"v": i * 10}}}], "run": f"{name}:a"}
                    for i in range(6)
                }
            }
        )
        start = time.perf_counter()
        for i in range(count):
            with contextlib.suppress(engine.MessageNotHandledException):
                host.post(name, {"id": i, "sid": "0", "v": (i * 7) % 100})
        elapsed = time.perf_counter() - start
    return count / elapsed
