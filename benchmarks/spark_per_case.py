"""What the Spark engine's per-case fallback costs on a portfolio where half the cases
carry events (each such case is decided by the per-case engine).

Run ``python benchmarks/spark_per_case.py [--rows N] [--events-every K] [--master M]``.
It builds the cases, signals and events tables of
``collectrules.batch.bench.generate_rows`` (policy ``default``, every value a string),
writes them to Parquet in a temporary folder and reads them back, as a cluster reads
its tables (with ``--in-memory``, decides the tables made from Python lists instead:
Spark then re-reads those rows through Python each time a table is scanned),
decides them with :func:`collectrules.spark.decide`, writes the decisions and the errors
to Spark's ``noop`` sink (every row computed, nothing stored), and prints:

* the wall time of ``decide`` and of the two writes, from the tables' creation on;
* the rows decided per case, the decisions and the errors;
* the driver's peak RSS: the Python process (``getrusage``) and its Spark JVM (the
  JVM's ``VmHWM``; in local mode the JVM runs the executors' tasks too).

To compare with another version of the package, run the same script with that version
first on ``PYTHONPATH`` (the executors' Python workers inherit it). Nothing here is a
test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from collectrules import spark
from collectrules.batch.bench import generate_rows
from collectrules.engine import Engine
from collectrules.frame._inputs import CASE_COLUMNS

AS_OF = "2026-06-30T12:00:00+08:00"
#: The generated rows' own columns: the columnar route's, without those they lack.
_CASE_COLUMNS = CASE_COLUMNS[: CASE_COLUMNS.index("timezone") + 1]
_SIGNAL_COLUMNS = ("kind", "observed_at", "value")
_EVENT_COLUMNS = ("kind", "at", "amount", "outcome", "promised_date")


def _tables(session: SparkSession, rows: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    cases = session.createDataFrame(
        [tuple(r[c] for c in _CASE_COLUMNS) for r in rows],
        ", ".join(f"{c} string" for c in _CASE_COLUMNS),
    )
    signals = session.createDataFrame(
        [(r["case_id"], *(s.get(c) for c in _SIGNAL_COLUMNS)) for r in rows for s in r["signals"]],
        ", ".join(f"{c} string" for c in ("case_id", *_SIGNAL_COLUMNS)),
    )
    events = session.createDataFrame(
        [
            (r["case_id"], *(e.get(c) for c in _EVENT_COLUMNS))
            for r in rows
            for e in r.get("events", ())
        ],
        ", ".join(f"{c} string" for c in ("case_id", *_EVENT_COLUMNS)),
    )
    return cases, signals, events


def _jvm_peak_mib() -> float | None:
    """The peak RSS of this process's Java child (the Spark driver's JVM), or None."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()) and "java" in fields.get("Name", ""):
            return int(fields["VmHWM"].split()[0]) / 1024
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--events-every", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="decide the tables made from Python lists, not read back from Parquet",
    )
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master(args.master)
        .appName("collectrules-per-case-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    engine = Engine("default", backend="python")
    rows = list(generate_rows(engine, args.rows, events_every=args.events_every))
    cases, signals, events = _tables(session, rows)
    del rows
    folder = tempfile.TemporaryDirectory()
    if not args.in_memory:
        tables = []
        for name, table in (("cases", cases), ("signals", signals), ("events", events)):
            path = str(Path(folder.name) / name)
            table.write.parquet(path)
            tables.append(session.read.parquet(path))
        cases, signals, events = tables
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = spark.decide(cases, signals, events, policy="default", as_of=AS_OF)
    decided = time.perf_counter()
    result.decisions.write.format("noop").mode("overwrite").save()
    result.errors.write.format("noop").mode("overwrite").save()
    written = time.perf_counter()
    print(f"module: {spark.decide.__module__} from {sys.modules['collectrules'].__file__}")
    source = "Python lists" if args.in_memory else "Parquet"
    print(
        f"rows: {args.rows:,}, events on one in {args.events_every}, master {args.master},"
        f" tables from {source}"
    )
    print(
        f"per case: {result.per_case:,}; decisions {result.decisions.count():,};"
        f" errors {result.errors.count():,}"
    )
    print(f"decide: {decided - start:.1f} s; decide and write: {written - start:.1f} s")
    python_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    jvm = _jvm_peak_mib()
    jvm_text = "unknown" if jvm is None else f"{jvm:,.0f} MiB"
    print(
        f"driver peak RSS: Python {python_peak:,.0f} MiB ({before:,.0f} MiB before deciding),"
        f" JVM {jvm_text}"
    )
    session.stop()
    folder.cleanup()


if __name__ == "__main__":
    main()
