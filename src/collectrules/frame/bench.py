"""The columnar engine end to end: ``python -m collectrules.frame.bench --rows N``.

Generates ``N`` cases (the batch benchmark's generator, one bad row in 100; with
``--events-every K``, one row in ``K`` with events) into a Parquet file with nested
signals (or, with ``--csv``, a CSV file with a JSON signals cell), then times
:func:`~collectrules.frame.files.run_columnar` from that file to a Parquet decision
table, I/O included, on every core of the machine, once in this process and once
with a worker process per core (each run in a child process; ``--jobs N`` times one
run here; ``--chunk-rows N`` sets the rows decided together); and prints the rate, the
rows the per-case engine took, the CPU time and the peak resident memory of the
process (its own: see :mod:`collectrules._memory`), of one worker, and of the process
and its workers together. The child processes get the allocator setting of the command line
(:mod:`collectrules._allocator`, whatever the environment says); ``--jobs N`` runs with
the environment as it is. A third child run is ``collectrules batch --low-memory``'s:
one job, one chunk of 2,000 rows at a time (``--low-memory``; ``--chunk-rows`` sets its
rows too), with the allocators handing freed memory back; its peak is checked against
the 300 MB target.
``python -m collectrules.bench`` runs it in a child process.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from collectrules._allocator import (
    ALLOCATOR,
    ALLOCATOR_VARIABLE,
    ARROW_POOL_VARIABLE,
    LEAN_ALLOCATOR,
    LOW_MEMORY_FLAG,
    limit_c_heap,
)
from collectrules._memory import ChildPeaks, peak_mib
from collectrules.batch.bench import AS_OF, generate_rows
from collectrules.engine import Engine
from collectrules.frame.files import CHUNK_ROWS, LOW_MEMORY_CHUNK_ROWS, THREADS, run_columnar

__all__ = ["main", "write_csv_portfolio", "write_portfolio"]

_BATCH = 50_000

#: The peak resident memory a million rows may take with ``--low-memory``: 300 MB.
MEMORY_TARGET_MIB = 300e6 / 2**20


def write_csv_portfolio(path: Path, rows: int, policy: str, events_every: int = 0) -> None:
    """Write ``rows`` generated cases to ``path`` as CSV, the signals (and the events of
    one row in ``events_every``) as JSON cells."""
    columns = [
        *("case_id", "product", "currency", "principal", "overdue_amount"),
        *("due_date", "timezone", "signals"),
        *(("events",) if events_every else ()),
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        engine = Engine(policy, backend="python")
        for row in generate_rows(engine, rows, bad_every=100, events_every=events_every):
            cells = [row.get(c) for c in columns]
            writer.writerow([json.dumps(c) if isinstance(c, list) else c for c in cells])


def write_portfolio(path: Path, rows: int, policy: str, events_every: int = 0) -> None:
    """Write ``rows`` generated cases to ``path`` as Parquet, a row group at a time (one
    row in ``events_every`` with events)."""
    writer = None
    batch = []
    engine = Engine(policy, backend="python")
    for row in generate_rows(engine, rows, bad_every=100, events_every=events_every):
        if events_every:  # pyarrow takes the columns from a batch's first row
            row.setdefault("events", None)
        batch.append(row)
        if len(batch) >= _BATCH:
            table = pa.Table.from_pylist(batch)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
            batch = []
    if batch:
        table = pa.Table.from_pylist(batch)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table.cast(writer.schema))
    if writer is not None:
        writer.close()


def main(argv: list[str] | None = None) -> int:
    """Run the end-to-end figure and print it; the exit status is 0."""
    parser = argparse.ArgumentParser(prog="python -m collectrules.frame.bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--policy", default="default")
    parser.add_argument("--input", type=Path, help="an existing portfolio file to reuse")
    parser.add_argument(
        "--csv", action="store_true", help="generate the portfolio as CSV rather than Parquet"
    )
    parser.add_argument(
        "--events-every",
        type=int,
        default=0,
        help="give one generated row in N one to five events (0, the default: none); the"
        " columnar engine hands rows with events to the per-case engine",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="worker processes (1 decides in this process); by default the run is timed"
        " twice, each in a child process: with 1 and with one worker per core",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        help=f"rows decided together (default {CHUNK_ROWS:,}, {LOW_MEMORY_CHUNK_ROWS:,} with"
        f" {LOW_MEMORY_FLAG}): fewer rows, less memory and a slower run",
    )
    parser.add_argument(
        LOW_MEMORY_FLAG,
        action="store_true",
        help="as collectrules batch --low-memory: one job, one chunk at a time, the"
        " allocators handing freed memory back (set them in the environment before this"
        " process starts, as the run without --jobs does for its child)",
    )
    args = parser.parse_args(argv)
    if args.chunk_rows is None:
        args.chunk_rows = LOW_MEMORY_CHUNK_ROWS if args.low_memory else CHUNK_ROWS
    if args.low_memory and args.jobs not in (None, 1):
        parser.error(f"{LOW_MEMORY_FLAG} runs one job")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))  # every core
    with tempfile.TemporaryDirectory(prefix="collectrules-frame-bench-") as folder:
        suffix = "csv" if args.csv else "parquet"
        source = args.input or Path(folder) / f"portfolio.{suffix}"
        if args.input is None:
            started = time.perf_counter()
            write = write_csv_portfolio if args.csv else write_portfolio
            write(source, args.rows, args.policy, args.events_every)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        if args.jobs is None:
            cores = os.cpu_count() or 1
            runs = [(jobs, False) for jobs in sorted({1, cores})] + [(1, True)]
            for jobs, lean in runs:
                command = [sys.executable, "-m", "collectrules.frame.bench", "--input"]
                command += [str(source), "--policy", args.policy, "--jobs", str(jobs)]
                rows = args.chunk_rows if lean == args.low_memory else None
                command += [] if rows is None else ["--chunk-rows", str(rows)]
                command += [LOW_MEMORY_FLAG] if lean else []
                # The allocators set up as the command line sets them up (see
                # collectrules._allocator). Not from this process's environment: Polars,
                # loaded here, has written its own settings into it.
                env = {**os.environ, ALLOCATOR_VARIABLE: LEAN_ALLOCATOR if lean else ALLOCATOR}
                if lean:
                    env[ARROW_POOL_VARIABLE] = "system"
                subprocess.run(command, check=True, env=env)
            return 0
        if args.low_memory:
            limit_c_heap()
        policy = Engine(args.policy, backend="python").policy
        before = peak_mib()
        started = time.perf_counter()
        with ChildPeaks() as workers:
            run = run_columnar(
                [source],
                policy=policy,
                out=Path(folder) / "decisions.parquet",
                as_of=AS_OF,
                jobs=args.jobs,
                chunk_rows=args.chunk_rows,
                at_once=1 if args.low_memory else THREADS,
            )
        elapsed = time.perf_counter() - started
        peak = peak_mib()
        cpu = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = run.batch
    per_case = sum(f.per_case for f in run.frames)
    keys = sum(f.section_keys for f in run.frames)
    histories = sum(f.section_histories for f in run.frames)
    print(
        f"columnar end to end, {source.suffix[1:]} cases to the Parquet decision table, policy "
        f"{args.policy}, {os.cpu_count()} cores, {args.jobs} job(s): {summary.rows:,} rows "
        f"({summary.decided:,} decided, {summary.bad:,} bad) in {elapsed:.1f} s = "
        f"{summary.rows / elapsed:,.0f} rows/s"
    )
    print(
        f"  rows by the per-case engine: {per_case:,}; section keys: {keys:,}, of which "
        f"rows' own histories (sections per row): {histories:,}"
    )
    if args.jobs > 1:
        at_once = f"{2 * args.jobs} in flight"
    else:
        at_once = f"{1 if args.low_memory else THREADS} at a time"
    mode = f" ({LOW_MEMORY_FLAG})" if args.low_memory else ""
    print(f"  chunks of {args.chunk_rows:,} rows, {at_once}{mode}")
    used = sum(u.ru_utime + u.ru_stime for u in cpu)
    print(f"  CPU time (user + system, this process and its workers): {used:.1f} s")
    print(f"  peak resident memory: {peak:,.0f} MiB (before the run: {before:,.0f} MiB)")
    if args.jobs > 1 and workers.largest is not None and workers.together is not None:
        print(
            f"  peak resident memory of one worker process: {workers.largest:,.0f} MiB;"
            f" of this process and its workers together: {workers.together:,.0f} MiB"
            f" (sampled every {workers.interval * 1000:.0f} ms)"
        )
    target = 10.0
    if args.low_memory:
        verdict = "the default run's (this one trades time for memory)"
    elif summary.rows >= 1_000_000:
        verdict = "met" if elapsed <= target else "NOT met"
    else:
        verdict = "not measured at this size"
    print(f"  target {target:.0f} s for 1,000,000 rows: {verdict}")
    if args.low_memory:
        if summary.rows >= 1_000_000:
            verdict = "met" if peak < MEMORY_TARGET_MIB else "NOT met"
        else:
            verdict = "not measured at this size"
        print(
            f"  target peak under 300 MB ({MEMORY_TARGET_MIB:.0f} MiB) for 1,000,000 rows"
            f" with {LOW_MEMORY_FLAG}: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
