"""What ``Case.from_dict`` costs per case, on the fast path and on the full path.

Run ``python benchmarks/from_dict.py [--cases N]``. On the benchmark's portfolio
(``collectrules.bench.generate_cases``: five signals a case, the default policy), it
prints the CPU time per case of ``Case.from_dict`` (which takes the fast path for these
well-formed dicts), of the full validating path it falls back to, and how many of the
cases the two built identically (the same case and the same ``to_dict``), from the
dicts as ``Case.to_dict`` gives them and as they come back from JSON.

CPU time (``time.process_time``), best of five rounds: the machine is shared, and wall
time would measure the neighbours. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from collectrules.bench import generate_cases
from collectrules.model import case as model
from collectrules.policy import load_policy


def _per_case(read: Callable[[dict[str, Any]], object], dicts: list[dict[str, Any]]) -> float:
    """The best of five rounds, in µs of CPU time per case."""
    rounds = []
    for _ in range(5):
        start = time.process_time()
        for data in dicts:
            read(data)
        rounds.append(time.process_time() - start)
    return min(rounds) / len(dicts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    count = parser.parse_args().cases
    policy = load_policy("default")
    kinds = tuple(policy.signals)
    as_dicts = [c.to_dict() for c in generate_cases(policy, count)]
    as_json = [json.loads(json.dumps(d)) for d in as_dicts]

    def fast(data: dict[str, Any]) -> model.Case:
        return model.Case.from_dict(data, signal_kinds=kinds)

    def full(data: dict[str, Any]) -> model.Case:
        return model._structure_case(data, signal_kinds=kinds, source=None)

    for name, dicts in (("to_dict() dicts", as_dicts), ("JSON-decoded dicts", as_json)):
        same = sum(
            1
            for data in dicts
            if (a := fast(data)) == (b := full(data)) and a.to_dict() == b.to_dict()
        )
        fast_us = _per_case(fast, dicts)
        full_us = _per_case(full, dicts)
        print(f"== {name}: {count:,} cases, five signals each")
        print(f"Case.from_dict (fast path)  {fast_us:7.1f} µs/case  {1e6 / fast_us:9,.0f}/s")
        print(f"full validating path        {full_us:7.1f} µs/case  {1e6 / full_us:9,.0f}/s")
        print(f"identical cases             {same:,} of {len(dicts):,}")


if __name__ == "__main__":
    main()
