"""Benchmark: ``python -m collectrules.bench``.

Prints, for the default policy on one core:

* decisions per second over generated cases with five signals each, on the durable
  back end (the Rete engine) and on the compiled Python evaluator;
* resident memory sampled across a long run of decisions, to show that it stays flat;
* raw durable_rules post throughput on a flat six-rule ruleset, for comparison.

The cases are generated from a fixed seed, so every run decides the same cases.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time
from decimal import Decimal

import pendulum

from collectrules.engine import Engine, _durable
from collectrules.model.case import Case, Signal
from collectrules.policy import Policy, load_policy

__all__ = ["generate_cases", "main"]

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")


def generate_cases(
    policy: Policy, count: int, *, signals: int = 5, seed: int = 20261129
) -> list[Case]:
    """``count`` cases with ``signals`` signals each, drawn from the policy's catalogue."""
    rng = random.Random(seed)
    kinds = sorted(policy.signals)
    out: list[Case] = []
    for i in range(count):
        chosen: list[Signal] = []
        for _ in range(signals):
            kind = rng.choice(kinds)
            at = AS_OF.subtract(minutes=rng.randrange(0, 150 * 24 * 60))
            value = None
            if policy.signals[kind].measured:
                value = Decimal(rng.choice(["0.3", "0.9", "1", "1.5", "6", "12", "24", "36"]))
            chosen.append(Signal(kind=kind, observed_at=at, value=value))
        out.append(
            Case(
                case_id=f"B-{i}",
                product=rng.choice(["loan", "credit_card", "receivable", "property_fee"]),
                currency="CNY",
                principal=Decimal(rng.randrange(1_000, 2_000_000)),
                overdue_amount=Decimal(rng.randrange(0, 100_000)),
                due_date=AS_OF.date().subtract(days=rng.randrange(-10, 720)),
                timezone="Asia/Shanghai",
                signals=tuple(chosen),
            )
        )
    return out


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rate(engine: Engine, cases: list[Case]) -> float:
    start = time.perf_counter()
    for case in cases:
        engine.decide(case, as_of=AS_OF)
    return len(cases) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m collectrules.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="cases timed per back end")
    parser.add_argument(
        "--memory-decisions", type=int, default=100_000, help="decisions in the memory run"
    )
    parser.add_argument("--raw-posts", type=int, default=20_000, help="raw durable posts")
    parser.add_argument("--policy", default="default")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    policy = load_policy(args.policy)
    cases = generate_cases(policy, args.cases)
    print(f"collectrules benchmark: policy {policy.ref}, Python {sys.version.split()[0]}, one core")
    print(f"cases: {len(cases):,} generated, 5 signals each, as_of {AS_OF.isoformat()}")

    durable = Engine(policy)
    python = Engine(policy, backend="python")
    _rate(durable, cases[:500])  # warm up
    _rate(python, cases[:500])
    durable_rate = _rate(durable, cases)
    python_rate = _rate(python, cases)
    agree = all(
        durable.decide(c, as_of=AS_OF).to_json() == python.decide(c, as_of=AS_OF).to_json()
        for c in cases[:2_000]
    )
    print(f"durable back end:       {durable_rate:10,.0f} decisions/s")
    print(f"compiled Python:        {python_rate:10,.0f} decisions/s")
    print(f"back ends agree on the first 2,000 decisions: {agree}")

    gc.collect()
    samples: list[tuple[int, float]] = [(0, _rss_mib())]
    step = max(1, args.memory_decisions // 5)
    done = 0
    while done < args.memory_decisions:
        for case in cases[: min(step, args.memory_decisions - done)]:
            durable.decide(case, as_of=AS_OF)
            done += 1
        gc.collect()
        samples.append((done, _rss_mib()))
    print("resident memory (durable back end), MiB after N decisions:")
    for count, mib in samples:
        print(f"  {count:>9,}: {mib:8.1f}")
    growth = samples[-1][1] - samples[1][1]
    print(
        f"growth from the first checkpoint to the last: {growth:+.1f} MiB "
        f"over {samples[-1][0] - samples[1][0]:,} decisions"
    )
    print(
        f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB"
    )
    print(f"live durable sessions after the run: {_durable.live_sessions(policy)}")

    raw = _durable.raw_post_throughput(args.raw_posts)
    print(f"raw durable_rules post, flat 6-rule ruleset: {raw:10,.0f} posts/s")
    target = 1_500
    print(
        f"target {target:,} decisions/s on one core: durable "
        f"{'met' if durable_rate >= target else 'NOT met'}, compiled Python "
        f"{'met' if python_rate >= target else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
