"""What a bad row costs: ``Case.from_dict``'s error, and the columnar engine's per-case row.

Run ``python benchmarks/bad_rows.py [--rows N]``. It prints, in µs of CPU per row
(``time.process_time``, best of five rounds: the machine is shared, and wall time would
measure the neighbours):

* ``Case.from_dict`` on bad rows of the batch benchmark's generator (five signals a
  row, the default policy's vocabulary and catalogue), each with one common fault: a
  negative amount (the benchmark's own bad row), a date that is not one, an unknown
  time zone or currency, an unknown or misspelt signal kind, a naive instant, a
  misspelt or missing key; beside the full validating path (``_structure_case``,
  cattrs) it stands in for, and how many errors were the same (class, text, problems);
* the columnar engine's per-case part on a chunk of 50,000 Parquet rows, one in a
  hundred bad (``python -m collectrules.frame.bench``'s portfolio): the rows read back
  from the chunk and decided per case for their exact errors, per bad row.

Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from collectrules.batch.bench import AS_OF, generate_rows
from collectrules.engine import Engine
from collectrules.errors import InputError
from collectrules.frame.bench import write_portfolio
from collectrules.frame.files import _long
from collectrules.model import case as model
from collectrules.model.time import require_aware

_FAULTS: list[Callable[[dict[str, Any], random.Random], None]] = [
    lambda row, rng: row.update(overdue_amount="-1"),
    lambda row, rng: row.update(due_date=rng.choice(["2026-02-30", "30/01/2026", ""])),
    lambda row, rng: row.update(timezone=rng.choice(["Asia/Shangai", "UTC+8"])),
    lambda row, rng: row.update(currency=rng.choice(["RMB", "cny"])),
    lambda row, rng: rng.choice(row["signals"]).update(kind="promise_brokn"),
    lambda row, rng: rng.choice(row["signals"]).update(observed_at="2026-06-01T10:00:00"),
    lambda row, rng: row.update(overdue_amt=row.pop("overdue_amount")),
    lambda row, rng: row.pop("due_date"),
]


def _cpu_per_row(read: Callable[[], object], rows: int) -> float:
    """The best of five rounds of ``read``, in µs of CPU time per row."""
    rounds = []
    for _ in range(5):
        start = time.process_time()
        read()
        rounds.append(time.process_time() - start)
    return min(rounds) / rows * 1e6


def _error(read: Callable[[], object]) -> Any:
    try:
        read()
    except InputError as exc:
        return type(exc).__name__, str(exc), exc.problems
    return None


def from_dict_figures(engine: Engine, count: int) -> None:
    kinds, products = tuple(engine.policy.signals), engine.policy.products
    rng = random.Random(20261130)
    rows = []
    for i, row in enumerate(generate_rows(engine, count, seed=11)):
        _FAULTS[i % len(_FAULTS)](row, rng)
        rows.append(row)

    def fast(data: dict[str, Any]) -> Callable[[], object]:
        return lambda: model.Case.from_dict(data, signal_kinds=kinds, products=products)

    def full(data: dict[str, Any]) -> Callable[[], object]:
        return lambda: model._structure_case(
            data, signal_kinds=kinds, source=None, products=products
        )

    same = sum(1 for row in rows if _error(fast(row)) == _error(full(row)) is not None)

    def each(read: Callable[[dict[str, Any]], Callable[[], object]]) -> Callable[[], None]:
        def run() -> None:
            for row in rows:
                _error(read(row))

        return run

    fast_us = _cpu_per_row(each(fast), len(rows))
    full_us = _cpu_per_row(each(full), len(rows))
    print(f"== Case.from_dict on {len(rows):,} bad rows, one of {len(_FAULTS)} common faults each")
    print(f"Case.from_dict              {fast_us:7.1f} µs/row  {1e6 / fast_us:9,.0f}/s")
    print(f"full validating path        {full_us:7.1f} µs/row  {1e6 / full_us:9,.0f}/s")
    print(f"the same error              {same:,} of {len(rows):,}")


def per_case_figures(engine: Engine) -> None:
    decide = sys.modules["collectrules.frame.decide"]
    with tempfile.TemporaryDirectory(prefix="collectrules-bad-rows-") as folder:
        path = Path(folder) / "chunk.parquet"
        write_portfolio(path, 50_000, "default")
        table = pl.read_parquet(path).with_row_index("__row")
    bad = table.filter(pl.col("overdue_amount").str.starts_with("-")).get_column("__row")
    signals = _long(table, "signals")
    when = require_aware(AS_OF)

    def run() -> None:
        decide._per_case(table, signals, None, bad, engine.policy, when)

    us = _cpu_per_row(run, bad.len())
    print(f"== the columnar engine's per-case rows: {bad.len():,} bad rows of a 50,000-row chunk")
    print(f"read back and decided       {us:7.1f} µs/row  {1e6 / us:9,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_000)
    count = parser.parse_args().rows
    engine = Engine("default", backend="python")
    from_dict_figures(engine, count)
    per_case_figures(engine)


if __name__ == "__main__":
    main()
