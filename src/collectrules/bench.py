"""Benchmark: ``python -m collectrules.bench``.

Prints, for one policy (the default policy unless ``--policy``) on one core, on one
generated portfolio (cases with five signals each, from a fixed seed), side by side,
each line saying what it takes and what it produces:

* the limit: a bare label function (the rules' conditions as Python closures, only
  the layer values resolved: a label, no trace);
* zen-engine and rule-engine, when installed (the ``bench`` extra), given the same
  conditions as expressions: a label, no trace;
* raw durable_rules posts on a flat six-rule ruleset: only a count of matches;
* the evaluators, from flat facts: the generated one and the reference one (levels,
  trace and remedies);
* each collectrules back end, from a case to a full :class:`Decision` with its trace,
  and from a dict to the decision's JSON; and the floor of that last figure: orjson
  writing decisions whose dicts are already built;
* the columnar engine (the ``frame`` extra), from tables to compact decision rows with
  the ids of the trace;
* resident memory sampled across a long run of decisions, to show that it stays flat;
* the columnar engine end to end on ``--end-to-end-rows`` cases (1,000,000 by default),
  a Parquet file to the Parquet decision table on every core, in a child process
  (``python -m collectrules.frame.bench``), with its peak resident memory;
* with ``--worklist-rows N``, the worklist of N generated cases read from a JSON Lines
  file, written as JSON Lines, each run in a child process of its own: once with one
  list and no capacity (every line through the external merge sort) and once with a
  team whose owners all have capacities; with the time per case, resident memory
  sampled as the cases are read, and the peak.

Every label line is checked against the engine's quadrant on the whole portfolio, and
the back ends against each other; the benchmark says how many agree.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import orjson
import pendulum

from collectrules._memory import peak_mib, resident_mib
from collectrules.conditions import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    In,
    Not,
    Truth,
    predicate,
)
from collectrules.conditions.python import compile_condition
from collectrules.engine import Engine, _durable
from collectrules.engine.compiled import CompiledPolicy
from collectrules.engine.generated import generated_policy, label_function
from collectrules.io import read_rows
from collectrules.model.case import Case, Signal
from collectrules.operations import team_from_dict
from collectrules.policy import HitPolicy, Policy, load_policy

try:
    import zen
except ImportError:  # the bench extra is not installed
    zen = None  # type: ignore[assignment, unused-ignore]
try:
    import rule_engine
except ImportError:  # the bench extra is not installed
    rule_engine = None
try:
    import polars

    from collectrules import frame
except ImportError:  # the frame extra is not installed
    polars = None  # type: ignore[assignment, unused-ignore]
    frame = None  # type: ignore[assignment, unused-ignore]

__all__ = ["generate_cases", "iter_cases", "main"]

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")
#: The issue's targets on one core (decisions per second), printed met or not.
FACTS_TARGET = 100_000  # from the derived facts to a Decision
JSON_TARGET = 40_000  # from a case's dict to its decision JSON
DURABLE_TARGET = 1_500  # from a case to a Decision on the durable back end


def generate_cases(
    policy: Policy, count: int, *, signals: int = 5, seed: int = 20261129
) -> list[Case]:
    """``count`` cases with ``signals`` signals each, drawn from the policy's catalogue."""
    return list(iter_cases(policy, count, signals=signals, seed=seed))


def iter_cases(
    policy: Policy, count: int, *, signals: int = 5, seed: int = 20261129
) -> Iterator[Case]:
    """The cases of :func:`generate_cases`, one at a time."""
    rng = random.Random(seed)
    kinds = sorted(policy.signals)
    for i in range(count):
        chosen: list[Signal] = []
        for _ in range(signals):
            kind = rng.choice(kinds)
            at = AS_OF.subtract(minutes=rng.randrange(0, 150 * 24 * 60))
            value = None
            if policy.signals[kind].measured:
                value = Decimal(rng.choice(["0.3", "0.9", "1", "1.5", "6", "12", "24", "36"]))
            chosen.append(Signal(kind=kind, observed_at=at, value=value))
        yield Case(
            case_id=f"B-{i}",
            product=rng.choice(["loan", "credit_card", "receivable", "property_fee"]),
            currency="CNY",
            principal=Decimal(rng.randrange(1_000, 2_000_000)),
            overdue_amount=Decimal(rng.randrange(0, 100_000)),
            due_date=AS_OF.date().subtract(days=rng.randrange(-10, 720)),
            timezone="Asia/Shanghai",
            signals=tuple(chosen),
        )


def _columnar_line(
    policy: Policy,
    dicts: list[dict[str, Any]],
    python: Engine,
    line: Callable[[str, str, str, float], None],
) -> None:
    """Time the columnar engine on the portfolio, as tables, and check it agrees."""
    cases = polars.DataFrame(
        [{k: v for k, v in d.items() if k not in ("signals", "events")} for d in dicts]
    )
    signals = polars.DataFrame(
        [{"case_id": d["case_id"], **s} for d in dicts for s in d.get("signals", [])]
    )
    frame.decide(cases.head(500), signals, policy=policy, as_of=AS_OF)  # warm up
    # The lines before leave about 800,000 objects alive: a full collection of them that
    # falls inside the timed call cost it 0.22 s of 0.66 s in one run and none in
    # another. Collected now, the call pays only for what it allocates itself.
    gc.collect()
    start = time.perf_counter()
    result = frame.decide(cases, signals, policy=policy, as_of=AS_OF)
    rate = len(dicts) / (time.perf_counter() - start)
    line("collectrules columnar engine (Polars)", "tables", "compact rows with trace ids", rate)
    fired = result.decisions.get_column("fired").to_list()
    same = sum(
        [f.rule_id for f in python.decide(Case.from_dict(d), as_of=AS_OF).trace] == ids
        for d, ids in zip(dicts, fired, strict=True)
    )
    print(
        f"  columnar rows: {result.summary.columnar:,}, per case: {result.summary.per_case:,};"
        f" trace ids agree with the python back end on {same:,}/{len(dicts):,}"
    )


def _fresh(engine: Engine, warm: list[Case]) -> None:
    """Start a timed pass as a nightly batch meets its cases, each decided once: the
    timeline's per-policy caches (its states and stage times, shared by the cases of a
    run) emptied, then warmed on ``warm``, other cases than the timed ones. Without it a
    pass reuses the states that the warm-up or the other back end left for the very
    same cases."""
    for name in ("timeline_state_cache", "timeline_stage_times"):
        engine.policy.memo(name, dict).clear()
    for case in warm:
        engine.decide(case, as_of=AS_OF)


def _rate(engine: Engine, cases: list[Case], warm: list[Case]) -> float:
    _fresh(engine, warm)
    start = time.perf_counter()
    for case in cases:
        engine.decide(case, as_of=AS_OF)
    return len(cases) / (time.perf_counter() - start)


#: Decisions whose dicts the floor of writing JSON is timed on.
_FLOOR_CASES = 2_000


def _sorted_json(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def _timed(fn: Callable[[Any], Any], items: list[Any]) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    out = [fn(item) for item in items]
    return len(items) / (time.perf_counter() - start), out


def _resolve_value(layer: Any, matched: list[Any]) -> str:
    """The layer's value from the rules that matched: the hit policy, nothing else."""
    if layer.hit_policy is HitPolicy.COLLECT_SUM:
        score = float(sum(r.score for r in matched))
        value = layer.default
        for minimum, band in sorted(layer.bands):
            if score >= minimum:
                value = band
        return str(value)
    if not matched:
        return str(layer.default)
    if layer.hit_policy is HitPolicy.PRIORITY:
        order = {r.id: i for i, r in enumerate(layer.rules)}
        return str(max(matched, key=lambda r: (r.priority, -order[r.id])).value)
    return str(matched[0].value)


def _labeller(
    policy: Policy,
    test: Callable[[Condition], Callable[[dict[str, Any]], bool]],
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> Any:
    params, schema = policy.parameter_values, policy.schema()
    layers = [
        (layer, [(r, test(compile_condition(r.when, params, schema))) for r in layer.rules])
        for layer in policy.layers
    ]

    def label(facts: dict[str, Any]) -> str:
        current = prepare(facts)
        for layer, rules in layers:
            current[layer.output] = _resolve_value(layer, [r for r, t in rules if t(current)])
        return str(current["quadrant"])

    return label


def closure_label_function(policy: Policy) -> Callable[[dict[str, Any]], str]:
    """The quadrant only, from flat facts: the policy's conditions as closures."""
    return _labeller(policy, predicate)  # type: ignore[no-any-return]


def _expression(cond: Condition, literal: Callable[[Any], str]) -> str:
    """A condition in the common syntax of zen-engine and rule-engine expressions."""
    if isinstance(cond, Always):
        return "true"
    if isinstance(cond, Compare):
        v = literal(cond.value)
        return f"({cond.field} != null and {cond.field} {cond.op.value} {v})"
    if isinstance(cond, Between):
        low, high, f = literal(cond.low), literal(cond.high), cond.field
        return f"({f} != null and {f} >= {low} and {f} <= {high})"
    if isinstance(cond, In):
        values = ", ".join(literal(v) for v in cond.values)
        return f"({cond.field} != null and {cond.field} in [{values}])"
    if isinstance(cond, Truth):
        return f"({cond.field} == true)"
    if isinstance(cond, All | AnyOf):
        if not cond.parts:
            return "true" if isinstance(cond, All) else "false"
        word = " and " if isinstance(cond, All) else " or "
        return "(" + word.join(_expression(p, literal) for p in cond.parts) + ")"
    if isinstance(cond, Not):
        return f"(not {_expression(cond.part, literal)})"
    raise TypeError(type(cond).__name__)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _complete(policy: Policy, facts: dict[str, Any]) -> dict[str, Any]:
    """Facts with every optional field present (null), as both engines need."""
    return {name: facts.get(name) for name in policy.schema()} | facts


def zen_label_function(policy: Policy) -> Callable[[dict[str, Any]], str]:
    """The quadrant only, each condition a compiled zen-engine expression."""

    def test(cond: Condition) -> Callable[[dict[str, Any]], bool]:
        compiled = zen.compile_expression(_expression(cond, _literal))
        return lambda facts: compiled.evaluate(facts) is True

    return _labeller(policy, test, lambda facts: _complete(policy, facts))  # type: ignore[no-any-return]


def rule_engine_label_function(policy: Policy) -> Callable[[dict[str, Any]], str]:
    """The quadrant only, each condition a rule-engine rule."""
    context = rule_engine.Context(default_value=None)

    def test(cond: Condition) -> Callable[[dict[str, Any]], bool]:
        rule = rule_engine.Rule(_expression(cond, _literal), context=context)
        return lambda facts: bool(rule.matches(facts))

    return _labeller(policy, test)  # type: ignore[no-any-return]


#: The team of the worklist run with capacities: every line has an owner with a cap.
_CAPPED_TEAM: dict[str, Any] = {
    "owner": [
        {"id": "q1", "capacity": 500, "quadrants": ["Q1"]},
        {"id": "q2", "capacity": 500, "quadrants": ["Q2"]},
        {"id": "q3", "capacity": 500, "quadrants": ["Q3"]},
        {"id": "q4", "capacity": 500, "quadrants": ["Q4"]},
        {"id": "desk", "capacity": 1_000},
    ]
}


def _worklist_child(path: str, policy: str, capped: bool) -> int:
    """One worklist run on the cases of ``path``, in this process: print its figures."""
    engine = Engine(policy, backend="python")
    total = sum(1 for _ in open(path, encoding="utf-8"))  # noqa: SIM115 - read once
    every = max(1, total // 5)
    samples: list[tuple[int, float]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for n, row in enumerate(read_rows([path]), start=1):
            assert row.data is not None, row.error
            yield row.data
            if n % every == 0:
                samples.append((n, resident_mib()))

    team = team_from_dict(_CAPPED_TEAM) if capped else None
    start = time.process_time()
    worklist = engine.worklist(rows(), as_of=AS_OF, team=team)
    lines = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for item in worklist:
            sink.write(json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            lines += 1
    seconds = time.process_time() - start
    summary = worklist.summary
    what = "a team with capacities" if capped else "one list, no capacity"
    print(
        f"  {what}: {summary.cases:,} cases, {lines:,} lines ({summary.overflow:,} over "
        f"capacity), {worklist.spilled_runs} sorted run(s) spilled; "
        f"{seconds / max(1, summary.cases) * 1e3:.2f} ms CPU per case"
    )
    print("    resident MiB after N cases: " + ", ".join(f"{n:,}: {m:.0f}" for n, m in samples))
    peak = peak_mib()
    print(f"    peak resident memory: {peak:.1f} MiB")
    return 0


def _worklist_runs(policy: Policy, count: int, name: str) -> None:
    """Write ``count`` generated cases to a file, then run the worklist on it twice."""
    print(f"worklist of {count:,} generated cases (policy {policy.ref}), JSON Lines in and out:")
    with tempfile.TemporaryDirectory(prefix="collectrules-bench-") as tmp:
        path = os.path.join(tmp, "cases.jsonl")
        with open(path, "w", encoding="utf-8") as out:
            for case in iter_cases(policy, count):
                out.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")
        for capped in (False, True):
            sys.stdout.flush()
            subprocess.run(
                [sys.executable, "-m", "collectrules.bench", "--policy", name,
                 "--worklist-child", path] + (["--worklist-capped"] if capped else []),
                check=True,
            )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m collectrules.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="cases timed per back end")
    parser.add_argument(
        "--memory-decisions", type=int, default=100_000, help="decisions in the memory run"
    )
    parser.add_argument("--raw-posts", type=int, default=20_000, help="raw durable posts")
    parser.add_argument("--policy", default="default")
    parser.add_argument(
        "--end-to-end-rows",
        type=int,
        default=1_000_000,
        help="rows of the columnar end-to-end run, Parquet to Parquet, on every core (0: skip it)",
    )
    parser.add_argument(
        "--worklist-rows",
        type=int,
        default=0,
        help="cases of the worklist runs, with and without capacities (0: skip them)",
    )
    parser.add_argument("--worklist-only", action="store_true", help="only the worklist runs")
    parser.add_argument("--worklist-child", help=argparse.SUPPRESS)
    parser.add_argument("--worklist-capped", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worklist_child:
        return _worklist_child(args.worklist_child, args.policy, args.worklist_capped)
    if args.worklist_only:
        _worklist_runs(load_policy(args.policy), args.worklist_rows, args.policy)
        return 0

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    policy = load_policy(args.policy)
    cases = generate_cases(policy, args.cases)
    print(f"collectrules benchmark: policy {policy.ref}, Python {sys.version.split()[0]}, one core")
    print(f"cases: {len(cases):,} generated, 5 signals each, as_of {AS_OF.isoformat()}")

    durable = Engine(policy)
    python = Engine(policy, backend="python")
    facts = [dict(python.derive(c, as_of=AS_OF).facts) for c in cases]
    dicts = [c.to_dict() for c in cases]
    quadrants = [python.decide(c, as_of=AS_OF).quadrant.value for c in cases]
    print(f"{'what':<50} {'takes':<6} {'gives':<26} {'per second':>12}")

    def line(what: str, takes: str, gives: str, rate: float, note: str = "") -> None:
        print(f"{what:<50} {takes:<6} {gives:<26} {rate:12,.0f}{note}")

    def agreement(labels: list[str]) -> str:
        same = sum(a == b for a, b in zip(labels, quadrants, strict=True))
        return f"  (quadrant agrees on {same:,}/{len(quadrants):,})"

    rate, labels = _timed(label_function(policy), facts)
    line("bare label function (the limit)", "facts", "a label", rate, agreement(labels))
    rate, labels = _timed(closure_label_function(policy), facts)
    line("label from closures over the conditions", "facts", "a label", rate, agreement(labels))
    if zen is not None:
        rate, labels = _timed(zen_label_function(policy), facts)
        line("zen-engine expressions", "facts", "a label", rate, agreement(labels))
    else:
        print("zen-engine: not installed (pip install 'collectrules[bench]')")
    if rule_engine is not None:
        rate, labels = _timed(rule_engine_label_function(policy), facts)
        line("rule-engine rules", "facts", "a label", rate, agreement(labels))
    else:
        print("rule-engine: not installed (pip install 'collectrules[bench]')")
    raw = _durable.raw_post_throughput(args.raw_posts)
    line("raw durable_rules post, flat 6-rule ruleset", "a fact", "a count of matches", raw)
    generated = generated_policy(policy)
    reference = CompiledPolicy(policy)
    rate, _ = _timed(generated.run, facts)
    line("generated evaluator", "facts", "levels, trace, remedies", rate)
    rate, _ = _timed(reference.run, facts)
    line("reference evaluator (CompiledPolicy)", "facts", "levels, trace, remedies", rate)

    derived = [(c, python.derive(c, as_of=AS_OF)) for c in cases]
    from_facts: dict[str, float] = {}
    for name, engine in (("durable", durable), ("generated python", python)):
        # The engine's own step after derivation (Engine.decide is derive, then this);
        # each decision dropped as a batch drops it once written.
        start = time.perf_counter()
        for case, derivation in derived:
            engine._decided(case, derivation)
        rate = len(derived) / (time.perf_counter() - start)
        from_facts[name] = rate
        line(f"collectrules {name}, facts to Decision", "facts", "a Decision, trace on use", rate)
    del derived

    warm = generate_cases(policy, 500, seed=1)  # other cases than the timed ones
    durable_rate = _rate(durable, cases, warm)
    python_rate = _rate(python, cases, warm)
    line("collectrules durable back end", "a case", "a Decision with its trace", durable_rate)
    line("collectrules generated python back end", "a case", "a Decision with its trace",
         python_rate)  # fmt: skip
    kinds = tuple(policy.signals)
    to_json: dict[str, float] = {}
    for name, engine in (("durable", durable), ("generated python", python)):
        _fresh(engine, warm)
        start = time.perf_counter()
        for data in dicts:
            engine.decide(Case.from_dict(data, signal_kinds=kinds), as_of=AS_OF).to_json()
        rate = len(dicts) / (time.perf_counter() - start)
        to_json[name] = rate
        line(f"collectrules {name}, dict to JSON", "a dict", "the decision's JSON", rate)
    # The batch writes each decision's JSON as UTF-8 bytes (Decision.to_json_bytes): the
    # same bytes as to_json().encode(), without the text in between.
    _fresh(python, warm)
    start = time.perf_counter()
    for data in dicts:
        python.decide(Case.from_dict(data, signal_kinds=kinds), as_of=AS_OF).to_json_bytes()
    as_bytes = len(dicts) / (time.perf_counter() - start)
    line("collectrules generated python, dict to JSON bytes", "a dict", "the JSON, UTF-8 bytes",
         as_bytes)  # fmt: skip
    # The floor of the last two lines: only writing each decision, its dict already built
    # (orjson, keys sorted as the decision's JSON sorts them; no case read, nothing
    # derived or decided). A decision's JSON is about 11 KB on the default policy.
    built = [python.decide(c, as_of=AS_OF).to_dict() for c in cases[:_FLOOR_CASES]]
    floor, written = _timed(_sorted_json, built)
    size = sum(map(len, written)) // max(1, len(written))
    line("orjson alone, a decision's dict built (floor)", "a dict", "the JSON, UTF-8 bytes",
         floor, f"  ({size:,} bytes a decision)")  # fmt: skip
    del built, written
    first = cases[:2_000]
    agree = all(
        durable.decide(c, as_of=AS_OF).to_json() == python.decide(c, as_of=AS_OF).to_json()
        for c in first
    )
    print(f"back ends agree on the first {len(first):,} decisions: {agree}")
    if frame is not None:
        _columnar_line(policy, dicts, python, line)
    else:
        print("columnar engine: not installed (pip install 'collectrules[frame]')")

    gc.collect()
    samples: list[tuple[int, float]] = [(0, resident_mib())]
    step = max(1, args.memory_decisions // 5)
    done = 0
    while done < args.memory_decisions:
        for case in cases[: min(step, args.memory_decisions - done)]:
            durable.decide(case, as_of=AS_OF)
            done += 1
        gc.collect()
        samples.append((done, resident_mib()))
    print("resident memory (durable back end), MiB after N decisions:")
    for count, mib in samples:
        print(f"  {count:>9,}: {mib:8.1f}")
    growth = samples[-1][1] - samples[1][1]
    print(
        f"growth from the first checkpoint to the last: {growth:+.1f} MiB "
        f"over {samples[-1][0] - samples[1][0]:,} decisions"
    )
    print(f"peak resident memory: {peak_mib():.1f} MiB")
    print(f"live durable sessions after the run: {_durable.live_sessions(policy)}")

    if args.end_to_end_rows and frame is not None:
        print(
            f"columnar end to end, {args.end_to_end_rows:,} rows (child processes: one job,"
            " then one worker per core):"
        )
        sys.stdout.flush()
        subprocess.run(
            [sys.executable, "-m", "collectrules.frame.bench", "--rows",
             str(args.end_to_end_rows), "--policy", args.policy],
            check=True,
        )  # fmt: skip

    if args.worklist_rows:
        _worklist_runs(policy, args.worklist_rows, args.policy)

    def verdict(rate: float, target: int) -> str:
        return f"{rate:,.0f}/s, {'met' if rate >= target else 'NOT met'}"

    print("targets on one core:")
    print(
        f"  >= {FACTS_TARGET:,}/s facts to a Decision: generated python "
        f"{verdict(from_facts['generated python'], FACTS_TARGET)}"
    )
    print(
        f"  >= {JSON_TARGET:,}/s dict to decision JSON: generated python "
        f"{verdict(to_json['generated python'], JSON_TARGET)} (as UTF-8 bytes, as the batch "
        f"writes it: {as_bytes:,.0f}/s; orjson alone writes {floor:,.0f}/s of the"
        " decisions' dicts already built)"
    )
    print(
        f"  >= {DURABLE_TARGET:,}/s case to Decision on the durable back end: "
        f"{verdict(durable_rate, DURABLE_TARGET)} (generated python {python_rate:,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
