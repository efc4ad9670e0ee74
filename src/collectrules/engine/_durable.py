"""The one module that imports durable_rules. Everything it needs to survive is here.

How each item of DURABLE_RULES.md is handled:

#1  the import is guarded; using the engine where it fails raises
    :class:`EngineUnavailableError` naming the cause, and ``import collectrules`` works.
#2  every decision uses a fresh session id and deletes its state in ``finally``, so at
    most one session per decision is ever live.
#3–#5  :mod:`collectrules.policy._limits` checks the policy before durable is called.
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
import hashlib
import itertools
import json
import math
import sys
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from collectrules.conditions import Condition, to_durable
from collectrules.conditions.python import unchecked_predicate
from collectrules.engine.compiled import (
    MEMO_LIMIT,
    LayerResult,
    Outcome,
    RemedyResult,
    layer_result,
    remedy_result,
)
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    EngineUnavailableError,
    RuleActionError,
    quote,
)
from collectrules.policy import Layer, LayerRule, Policy, RemedyRule
from collectrules.policy._limits import check_policy, durable_plan

# durable_rules is imported on first use, never by `import collectrules`.
_engine: Any = None
_IMPORT_ERROR: Exception | None = None
_loaded = False
_load_lock = threading.Lock()


def _load() -> Any:
    """Import durable_rules once; remember why it failed, if it did."""
    global _engine, _IMPORT_ERROR, _loaded
    with _load_lock:
        if not _loaded:
            try:  # DURABLE_RULES.md #1: fails on CPython 3.13 with an undefined symbol.
                from durable import engine
            except Exception as exc:  # ImportError, or OSError from the C extension
                _IMPORT_ERROR = exc
            else:
                _engine = engine
            _loaded = True
    return _engine


__all__ = ["CompiledRuleset", "available", "compile_ruleset", "unavailable_reason"]

_RESOLVE_PRIORITY = 9
_RULE_PRIORITY = 1


def available() -> bool:
    """Whether durable_rules imports on this interpreter."""
    return _load() is not None


def unavailable_reason() -> str:
    """Why durable_rules is unavailable (empty when it is available)."""
    _load()
    if _IMPORT_ERROR is None:
        return ""
    version = ".".join(str(v) for v in sys.version_info[:3])
    return (
        f"durable_rules cannot be imported on Python {version}: {_IMPORT_ERROR}. "
        "It works on Python 3.11 and 3.12; on 3.13 the released 2.0.28 fails with "
        "'undefined symbol: PyEval_CallObject' unless built from source: "
        'CPPFLAGS="-DPyEval_CallObject=PyObject_CallObject" pip install --no-binary '
        "durable-rules durable-rules==2.0.28. Or use the compiled evaluator: "
        "Engine(policy, backend='python')."
    )


def _require() -> Any:
    engine = _load()
    if engine is None:
        raise EngineUnavailableError(unavailable_reason())
    return engine


class _Run:
    """What one decision's actions record; keyed by session id."""

    __slots__ = ("error", "facts", "failure", "matched", "outcome")

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = dict(facts)
        self.matched: dict[int, list[Any]] = {}
        self.outcome = Outcome()
        self.error: tuple[str, str] | None = None
        #: A library error raised inside an action (a layer's hit policy failing): it is
        #: raised as it is after the run, so both back ends give the same error.
        self.failure: CollectRulesError | None = None


class _Call:
    """What an action sees: the matched fact, and a way to assert the next one."""

    __slots__ = ("fact", "ruleset")

    def __init__(self, fact: dict[str, Any], ruleset: Any) -> None:
        self.fact = fact
        self.ruleset = ruleset

    def assert_fact(self, fact: dict[str, Any]) -> None:
        self.ruleset.assert_fact(fact)


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

                import durable_rules_engine as core

                class _Ruleset(engine.Ruleset):  # type: ignore[misc, name-defined]
                    """durable's Ruleset with our JSON and a lean action loop.

                    Definitions and facts are written by :func:`_json`, which never
                    writes a number durable_rules misreads (exponent notation, values
                    past 64 bits). Our actions are synchronous, never raise (they record
                    errors for the adapter to raise, #8), and never change the session
                    state; so the loop skips durable's closures, promise machinery,
                    lease timers and state write-back: it hands the action the matched
                    fact, completes the action and starts the next. Measured on the
                    default policy, decisions run about 1.6 times as fast as with
                    durable's loop.
                    """

                    def __init__(self, name: str, host: Any, definition: dict[str, Any]) -> None:
                        self._actions = {}
                        self._name = name
                        self._host = host
                        rules: dict[str, Any] = {}
                        for rule_name, rule in definition.items():
                            action = host.get_action(rule["run"])
                            self._actions[rule_name] = engine.Promise(action)
                            rules[rule_name] = {k: v for k, v in rule.items() if k != "run"}
                        self._handle = core.create_ruleset(name, _json(rules))
                        self._definition = rules

                    def assert_fact(self, fact: dict[str, Any]) -> Any:
                        return self._handle_result(
                            core.assert_fact(self._handle, _json(fact, clamp=True)), fact
                        )

                    def _flush_actions(
                        self,
                        state: Any,
                        container: dict[str, Any],
                        offset: Any,
                        complete: Callable[[Any, Any], None],
                    ) -> None:
                        while "message" in container:
                            action_name, message = next(iter(container.pop("message").items()))
                            call = _Call(message["m"], self)
                            try:
                                self._actions[action_name]._func(call)
                                result = core.complete_and_start_action(self._handle, offset)
                            except BaseException as error:  # never expected; see #8
                                core.abandon_action(self._handle, offset)
                                complete(error, None)
                                return
                            if result:
                                container["message"] = json.loads(result)
                            else:
                                complete(None, state)

                class _Host(engine.Host):  # type: ignore[misc, name-defined]
                    def _run(self) -> None:
                        # No dispatcher or timer threads: every action runs on the
                        # thread that posts, synchronously (DURABLE_RULES.md #11).
                        return None

                    def get_action(self, action_name: str) -> Callable[[Any], None]:
                        return actions[action_name]

                    def register_rulesets(self, definitions: dict[str, Any]) -> list[str]:
                        for name, definition in definitions.items():
                            if name in self._ruleset_directory:
                                msg = f"ruleset {quote(name)} is already registered"
                                raise EngineError(msg)
                            ruleset = _Ruleset(name, self, definition)
                            self._ruleset_directory[name] = ruleset
                            self._ruleset_list.append(ruleset)
                        return list(definitions)

                self.host = _Host()
            return self.host


_HOLDER = _HostHolder()
_SESSION_IDS = itertools.count(1)


class CompiledRuleset:
    """A policy compiled into one durable_rules ruleset, registered once per process.

    Layers are grouped into stages (:func:`collectrules.policy._limits.durable_plan`): a
    layer joins the current stage unless it reads the output of a layer already in it
    (so ``willingness`` and ``ability`` share the first stage, ``quadrant`` is the
    second, the remedies the last). A stage's fact (``t = "s<i>"``) carries only the
    fields its rules read, and the booleans of the parts the plan lowered to the Python
    side. Its rules match it; its resolver rule, at a lower priority, fires after them,
    applies each layer's hit policy, and asserts the next stage's fact. Assessment,
    quadrant and remedies thus chain forward inside the engine. The remedy stage needs
    no resolver: its matches are combined once the post returns.
    """

    def __init__(self, policy: Policy) -> None:
        check_policy(policy)
        self.policy = policy
        self.plan = durable_plan(policy)
        self.key = ruleset_key(policy)
        self.name = f"collectrules.{policy.id}.{self.key[:20]}"
        self.runs: dict[str, _Run] = {}
        self.stages = [[policy.layers[i] for i in group] for group in self.plan.stages]
        # Each stage fact carries only the fields its rules read: narrow messages are
        # cheaper to encode, match and decode (and stay far from #5).
        self.reads: list[tuple[str, ...]] = [
            tuple(sorted({f for layer in group for r in layer.rules for f in r.when.fields()}))
            for group in self.stages
        ]
        self.reads.append(tuple(sorted({f for r in policy.remedy_rules for f in r.when.fields()})))
        # The parts evaluated on the Python side, per stage: (fact name, predicate).
        self.lowered: list[tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...]] = [
            tuple((name, unchecked_predicate(node)) for name, node in stage)
            for stage in self.plan.stage_lowered
        ]
        self.remedy_stage = len(self.stages)
        self.remedy_order = {id(r): i for i, r in enumerate(policy.remedy_rules)}
        # What each layer's match set, and the remedies', resolve to: it depends on the
        # rules matched alone, so decisions that match alike share one outcome, the
        # same trace entries, grants and blocks (whose JSON is then written once).
        self.layer_memo: dict[tuple[str, tuple[str, ...]], LayerResult] = {}
        self.remedy_memo: dict[tuple[str, ...], RemedyResult] = {}
        self.definition = self._define()

    def resolve(self, layer: Layer, hits: list[LayerRule]) -> LayerResult:
        """The outcome and trace entries of ``layer`` when ``hits`` matched (file order),
        remembered per match set; an error (a ``unique`` layer with two matches, no
        default) is raised each time, never remembered."""
        key = (layer.id, tuple(r.id for r in hits))
        found = self.layer_memo.get(key)
        if found is None:
            found = layer_result(layer, hits)
            if len(self.layer_memo) < MEMO_LIMIT:
                self.layer_memo[key] = found
        return found

    def remedies(self, hits: list[RemedyRule]) -> RemedyResult:
        """The grants, blocks and trace entries when the remedy rules ``hits`` matched
        (file order), and whether none holds a ``{field}`` placeholder, remembered per
        match set."""
        key = tuple(r.id for r in hits)
        found = self.remedy_memo.get(key)
        if found is None:
            found = remedy_result(self.policy, hits)
            if len(self.remedy_memo) < MEMO_LIMIT:
                self.remedy_memo[key] = found
        return found

    def stage_fact(self, run: _Run, stage: int, sid: str) -> dict[str, Any]:
        """The fact of ``stage``: its tag, a unique id (#6), the fields it reads, and the
        booleans of its lowered parts."""
        facts = run.facts
        fact = {name: facts[name] for name in self.reads[stage] if name in facts}
        for name, test in self.lowered[stage]:
            fact[name] = test(facts)
        fact.update({"t": f"s{stage}", "id": f"{sid}:s{stage}", "sid": sid})
        return fact

    # -- compilation

    def _condition(self, rule: LayerRule | RemedyRule, stage: int) -> dict[str, Any]:
        schema = self.policy.schema()
        optional = frozenset(name for name, spec in schema.items() if spec.optional)
        cond: Condition = self.plan.conditions[rule.id]
        body = to_durable(cond, optional, self.plan.lowered)
        tag = {"t": f"s{stage}"}
        return {"m": tag if body is None else {"$and": [tag, body]}}

    def _add(
        self,
        rules: dict[str, Any],
        key: str,
        condition: dict[str, Any],
        priority: int,
        action: Callable[[Any], None],
    ) -> None:
        rules[key] = {"all": [condition], "pri": priority, "run": self._action_name(key)}
        _HOLDER.actions[self._action_name(key)] = action

    def _define(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        for stage, group in enumerate(self.stages):
            for layer in group:
                for rule in layer.rules:
                    self._add(
                        rules,
                        rule.id,
                        self._condition(rule, stage),
                        _RULE_PRIORITY,
                        self._match_action(stage, rule),
                    )
            self._add(
                rules,
                f"__resolve__.{stage}",
                {"m": {"t": f"s{stage}"}},
                _RESOLVE_PRIORITY,
                self._resolve_action(stage),
            )
        for remedy_rule in self.policy.remedy_rules:
            self._add(
                rules,
                remedy_rule.id,
                self._condition(remedy_rule, self.remedy_stage),
                _RULE_PRIORITY,
                self._match_action(self.remedy_stage, remedy_rule),
            )
        return rules

    def _action_name(self, rule_id: str) -> str:
        return f"{self.name}:{rule_id}"

    # -- actions (kept tiny: DURABLE_RULES.md #13)

    def _match_action(self, stage: int, rule: LayerRule | RemedyRule) -> Callable[[Any], None]:
        runs = self.runs

        def action(c: _Call) -> None:
            run = runs.get(c.fact["sid"])
            if run is None or run.error is not None:
                return
            try:
                # durable_rules expands a top-level `$or` into alternatives that each
                # fire; a rule matches once, whichever alternatives held.
                found = run.matched.setdefault(stage, [])
                if not any(r is rule for r in found):
                    found.append(rule)
            except Exception as exc:  # pragma: no cover - defensive (#8)
                run.error = (rule.id, f"{type(exc).__name__}: {exc}")

        return action

    def _resolve_action(self, stage: int) -> Callable[[Any], None]:
        runs = self.runs
        group = self.stages[stage]
        order = {id(rule): i for layer in group for i, rule in enumerate(layer.rules)}
        engine = _require()
        resolve = self.resolve

        def action(c: _Call) -> None:
            run = runs.get(c.fact["sid"])
            if run is None or run.error is not None:
                return
            rule_id = group[0].id
            try:
                matched = run.matched.get(stage, [])
                for layer in group:
                    rule_id = layer.id
                    own = frozenset(id(r) for r in layer.rules)
                    # Hit policies are defined on file order; the engine fires rules of
                    # equal priority in that order too, and this makes it explicit.
                    hits = sorted((r for r in matched if id(r) in own), key=lambda r: order[id(r)])
                    outcome, firings = resolve(layer, hits)
                    run.outcome.levels.append(outcome)
                    run.outcome.firings.extend(firings)
                    run.facts[layer.output] = outcome.value
                # (#7) no rule of the next stage applying is a result, not a failure.
                with contextlib.suppress(engine.MessageNotHandledException):
                    c.assert_fact(self.stage_fact(run, stage + 1, c.fact["sid"]))
            except CollectRulesError as exc:
                run.error = (rule_id, str(exc))
                run.failure = exc
            except Exception as exc:  # DURABLE_RULES.md #8: never let durable swallow it
                run.error = (rule_id, f"{type(exc).__name__}: {exc}")

        return action

    # -- running

    def register(self) -> None:
        """Register the ruleset with the process's host, once (#10)."""
        host = _HOLDER.get()
        host.register_rulesets({self.name: self.definition})

    def evaluate(self, facts: Mapping[str, Any], *, case_id: str | None = None) -> Outcome:
        """Run the ruleset on one case's flat facts, in a session of its own.

        The first error is the one raised, as a :class:`CollectRulesError` naming the
        case and the rule or stage: a failure to delete the session afterwards (error
        309 when durable never created it) never hides it.
        """
        engine = _require()
        host = _HOLDER.get()
        ruleset = host.get_ruleset(self.name)
        what = f"case {quote(case_id)}" if case_id is not None else "a case"
        with _HOLDER.lock:
            sid = f"d{next(_SESSION_IDS)}"
            run = _Run(facts)
            self.runs[sid] = run
            try:
                fact = self.stage_fact(run, 0, sid)
                try:
                    state = host.assert_fact(self.name, fact)
                except engine.MessageNotHandledException:  # (#7) cannot happen: resolvers
                    msg = f"policy {quote(self.policy.id)}: no rule handled the first stage fact"
                    raise EngineError(msg) from None
                except engine.MessageObservedException:  # (#6) ids are unique
                    msg = f"durable_rules saw fact {fact['id']} twice"
                    raise EngineError(msg) from None
                except CollectRulesError:
                    raise
                except Exception as exc:
                    msg = (
                        f"policy {quote(self.policy.id)}: durable_rules failed on {what} "
                        f"at the first stage: {type(exc).__name__}: {exc}"
                    )
                    raise EngineError(msg) from None
                if run.failure is not None:
                    raise run.failure
                if run.error is not None:
                    raise RuleActionError(run.error[0], f"{run.error[1]} (on {what})")
                if isinstance(state, dict) and "exception" in state:
                    raise RuleActionError("unknown", f"{state['exception']} (on {what})")
                if len(run.outcome.levels) != len(self.policy.layers):
                    done = len(run.outcome.levels)
                    msg = f"policy {quote(self.policy.id)}: the engine stopped after layer {done}"
                    raise EngineError(msg)
                hits = sorted(
                    run.matched.get(self.remedy_stage, []), key=lambda r: self.remedy_order[id(r)]
                )
                allowed, blocked, firings, plain = self.remedies(hits)
                run.outcome.allowed, run.outcome.blocked = allowed, blocked
                run.outcome.firings.extend(firings)
                run.outcome.plain = plain
            except BaseException:
                del self.runs[sid]
                # The first error wins: cleaning up (error 309 when durable never
                # created the session) must not replace it.
                with contextlib.suppress(Exception):
                    ruleset.delete_state(sid)
                raise
            del self.runs[sid]
            try:
                ruleset.delete_state(sid)
            except Exception as exc:
                msg = (
                    f"policy {quote(self.policy.id)}: durable_rules could not delete the session "
                    f"of {what}: {type(exc).__name__}: {exc}"
                )
                raise EngineError(msg) from None
            return run.outcome


# --------------------------------------------------------------------------- JSON

#: The largest magnitude a condition may compare with (checked when a policy loads):
#: every integer up to it is exact as a double, which durable_rules compares with.
_SAFE = 2**53
#: What a fact past ``_SAFE`` is posted as: beyond every constant, exact as a double
#: and as a 64-bit integer, so each comparison keeps its answer (durable_rules reads
#: integers into 64 bits, saturating, and would compare 2**64 with 1e19 wrongly).
_CLAMPED = _SAFE + 2


def _number(value: float, *, clamp: bool) -> str:
    """A number as durable_rules reads it: plain digits, never exponent notation
    (``9e-05`` and ``1e+16`` are parse errors 204 there)."""
    if clamp and abs(value) > _SAFE:
        if isinstance(value, float) and math.isnan(value):
            msg = "a fact is not a number (NaN), which durable_rules cannot compare"
            raise EngineError(msg)
        return str(_CLAMPED if value > 0 else -_CLAMPED)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        msg = f"{quote(value)} is not a finite number, which durable_rules cannot read"
        raise EngineError(msg)
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else f"{text}.0"


def _plain(values: Any) -> bool:
    """Whether ``json.dumps`` writes each of ``values`` as durable_rules reads it: Python
    writes a float in exponent notation below 1e-4 and from 1e16 (2**53 is below that)."""
    for value in values:
        kind = type(value)
        if kind is float:
            if not (value == 0.0 or _TINY <= abs(value) <= _SAFE):
                return False
        elif kind is int and not -_SAFE <= value <= _SAFE:
            return False
    return True


_TINY = 1e-4


def _json(value: Any, *, clamp: bool = False) -> str:
    """``value`` as JSON that durable_rules parses as meant.

    Facts take the fast path (``json.dumps``) unless a number needs rewriting; then
    every number is written in plain decimal digits, and with ``clamp`` (facts) one
    past 2**53 becomes ±(2**53 + 2).
    """
    if clamp and isinstance(value, dict) and _plain(value.values()):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _write(value, clamp=clamp)


def _write(value: Any, *, clamp: bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return _number(value, clamp=clamp)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{_write(v, clamp=clamp)}"
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_write(v, clamp=clamp) for v in value) + "]"
    msg = f"cannot send a {type(value).__name__} to durable_rules"
    raise EngineError(msg)


def ruleset_key(policy: Policy) -> str:
    """What the compiled ruleset of ``policy`` is cached under.

    Everything that shows in a decision: the policy's content, but also where each rule
    came from (its origin is in the trace) and the policy's source, and the sections it
    was loaded with (they give fields and their types). Two files with equal content
    but different names get a ruleset each, so each trace names its own file.
    """
    rules: list[LayerRule | RemedyRule] = [r for layer in policy.layers for r in layer.rules]
    rules += policy.remedy_rules
    shown = {
        "hash": policy.content_hash,
        "source": policy.source,
        "origins": [[r.id, r.origin] for r in rules],
        "sections": [s.key for s in policy.plugins],
        "fields": sorted((n, str(f.type), f.optional) for n, f in policy.schema().items()),
    }
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    # A source named by bytes that are not UTF-8 holds lone surrogates: kept as they are.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def compile_ruleset(policy: Policy) -> CompiledRuleset:
    """The compiled ruleset of ``policy``, compiled and registered once per key
    (:func:`ruleset_key`)."""
    _require()
    key = ruleset_key(policy)
    with _HOLDER.lock:
        cached = _HOLDER.rulesets.get(key)
        if cached is None:
            cached = CompiledRuleset(policy)
            cached.register()
            _HOLDER.rulesets[key] = cached
        return cached


def live_sessions(policy: Policy) -> int:
    """How many sessions of the policy's ruleset are live (0 between decisions)."""
    with _HOLDER.lock:
        cached = _HOLDER.rulesets.get(ruleset_key(policy))
        return 0 if cached is None else len(cached.runs)


def raw_post_throughput(count: int) -> float:
    """Posts per second of a flat six-rule ruleset with a Python action, for comparison."""
    import time

    engine = _require()
    host = _HOLDER.get()
    name = f"collectrules.bench.raw.{next(_SESSION_IDS)}"
    hits = [0]

    def action(c: _Call) -> None:
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
