"""What reading a columnar chunk's per-case rows costs.

Run ``python benchmarks/per_case_rows.py [--rows N] [--events-every K]``. On a Parquet
portfolio of ``python -m collectrules.frame.bench`` (one row in ``K`` with one to five
events, which sends it per case), it prints, in µs of CPU per row (``time.process_time``,
best of five rounds: the machine is shared):

* the first chunk's per-case rows read together, as the columnar batch reads them
  (taken from the chunk's record batches and converted in one pass);
* the same rows read one at a time (a one-row slice each, as the columnar batch read
  them before);
* every row of the file through the per-case reader (``parquet_rows``), for scale.

Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from collectrules.frame import files
from collectrules.frame.bench import write_portfolio
from collectrules.io.arrow import batch_row, parquet_rows


def _cpu_per_row(read: Callable[[], object], rows: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.process_time()
        read()
        rounds.append(time.process_time() - start)
    return min(rounds) / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--events-every", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "portfolio.parquet"
        write_portfolio(path, args.rows, "default", args.events_every)
        chunks = files._chunks(path)
        assert chunks is not None
        wire = next(iter(chunks))
        assert isinstance(wire, files._Wire)
        chunk = wire.load()
        assert chunk.batch is not None
        batch, start = chunk.batch, chunk.start
        events = files._long(chunk.table, "events")
        assert events is not None
        rows = sorted(set(events.get_column("__row").to_list()))
        together = files._batch_row_data(batch, start, valid=True)
        print(f"{len(rows):,} per-case rows of a {chunk.table.height:,}-row chunk, µs per row:")
        print(f"  read together:      {_cpu_per_row(lambda: together(rows), len(rows)):6.1f}")
        alone = _cpu_per_row(lambda: [batch_row(batch, i - start) for i in rows], len(rows))
        print(f"  read one at a time: {alone:6.1f}")
        every = _cpu_per_row(lambda: sum(1 for _ in parquet_rows(path)), args.rows)
        print(f"per-case reader, all {args.rows:,} rows: {every:6.1f}")


if __name__ == "__main__":
    main()
