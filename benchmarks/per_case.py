"""Where the time goes per case, from a dict to the decision's JSON.

Run ``python benchmarks/per_case.py [--cases N] [--policy NAME] [--backend B]``. On the
benchmark's portfolio (``collectrules.bench.generate_cases``: five signals a case; with
``--events-every N``, one case in N also has one to five events), as a batch meets its
cases (the timeline's per-policy caches emptied and warmed on 500 other cases first), it
times each stage of the per-case path for every case:

* ``Case.from_dict``;
* the fact derivation (``Engine.derive``);
* the evaluation and the ``Decision`` (``Engine._decided``: levels, trace and facts wait);
* building the levels, the trace and the display facts (their first read);
* ``to_json``.

It prints the wall time per case of each stage, timed twice: inside one loop over the
cases, as a batch runs them (each stage then pays for the others' use of the
processor's caches), and stage by stage, each over all the cases in a loop of its own.
With ``--cpu`` it times the CPU time of the process instead (``time.process_time``):
on a shared machine, what the neighbours take is then left out. Garbage collection is
off while timing. Nothing here is a test: it prints figures for people to judge; the
machine's load moves them.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from collectrules.batch.bench import generate_events
from collectrules.bench import AS_OF, _fresh, generate_cases
from collectrules.engine import Engine
from collectrules.model.case import Case
from collectrules.policy import load_policy

STAGES = ("from_dict", "derivation", "evaluation and Decision", "levels, trace, facts", "to_json")


#: The clock the stages are timed by: wall time, or with ``--cpu`` the process's CPU time.
_CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = _CLOCKS["wall"]


def _one_loop(engine: Engine, dicts: list[dict[str, Any]], kinds: tuple[str, ...]) -> list[float]:
    """Seconds spent in each stage, every case taken through all of them in turn."""
    spent = [0.0] * len(STAGES)
    clock = _clock
    for data in dicts:
        t0 = clock()
        case = Case.from_dict(data, signal_kinds=kinds)
        t1 = clock()
        derived = engine.derive(case, as_of=AS_OF)
        t2 = clock()
        decision = engine._decided(case, derived)
        t3 = clock()
        decision.trace  # noqa: B018  # the first read builds the levels, trace and facts
        t4 = clock()
        decision.to_json()
        t5 = clock()
        for i, (start, end) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
            spent[i] += end - start
    return spent


def _stage(work: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, list[Any]]:
    start = _clock()
    out = [work(item) for item in items]
    return _clock() - start, out


def _stage_by_stage(
    engine: Engine, dicts: list[dict[str, Any]], kinds: tuple[str, ...]
) -> list[float]:
    """Seconds spent in each stage, each stage over all the cases in a loop of its own."""
    read, cases = _stage(lambda d: Case.from_dict(d, signal_kinds=kinds), dicts)
    derive, derived = _stage(lambda c: engine.derive(c, as_of=AS_OF), cases)
    pairs = list(zip(cases, derived, strict=True))
    decide, decisions = _stage(lambda pair: engine._decided(*pair), pairs)
    build, _ = _stage(lambda d: d.trace, decisions)
    write, _ = _stage(lambda d: d.to_json(), decisions)
    return [read, derive, decide, build, write]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--policy", default="default")
    parser.add_argument("--backend", choices=("python", "durable"), default="python")
    parser.add_argument(
        "--events-every",
        type=int,
        default=0,
        help="give one case in N one to five events (collectrules.batch.bench.generate_events)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time the process's CPU time (time.process_time) rather than the wall time",
    )
    args = parser.parse_args(argv)
    global _clock
    _clock = _CLOCKS["cpu" if args.cpu else "wall"]
    policy = load_policy(args.policy)
    engine = Engine(policy, backend=args.backend)
    kinds = tuple(policy.signals)
    dicts = [c.to_dict() for c in generate_cases(policy, args.cases)]
    if args.events_every:
        rng = random.Random(7)
        for data in dicts[:: args.events_every]:
            data["events"] = generate_events(rng)
    warm = generate_cases(policy, 500, seed=1)
    with_events = f", events on one in {args.events_every}" if args.events_every else ""
    clock = ", CPU time" if args.cpu else ""
    print(
        f"== {policy.ref}, {args.backend} back end, {len(dicts):,} fresh dicts to JSON"
        f"{with_events}{clock}"
    )
    print(f"{'stage':28s} {'one loop':>12s} {'stage by stage':>16s}")
    timings = []
    for measure in (_one_loop, _stage_by_stage):
        _fresh(engine, warm)
        gc.collect()
        gc.disable()
        try:
            timings.append(measure(engine, dicts, kinds))
        finally:
            gc.enable()
    for name, together, apart in zip(STAGES, *timings, strict=True):
        print(
            f"{name:28s} {together / len(dicts) * 1e6:9.1f} µs {apart / len(dicts) * 1e6:13.1f} µs"
        )
    total = [sum(t) / len(dicts) * 1e6 for t in timings]
    print(f"{'total':28s} {total[0]:9.1f} µs {total[1]:13.1f} µs")
    print(f"{'decisions per second':28s} {1e6 / total[0]:12,.0f} {1e6 / total[1]:16,.0f}")


if __name__ == "__main__":
    main()
