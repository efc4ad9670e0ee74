"""Benchmark of the streaming batch: ``python -m collectrules.batch.bench``.

Generates ``--rows`` cases (from a fixed seed, one bad row in ``--bad-every``) into a
temporary JSON Lines file, runs :func:`~collectrules.batch.run_batch` on it, and prints
rows per second and the peak resident memory of the process (and of one worker and of
all together, with ``--jobs``; see :mod:`collectrules._memory`). The memory figure is
the point: it should not grow with the number of rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collectrules._memory import ChildPeaks, peak_mib
from collectrules.batch.runner import DEFAULT_CHUNK_ROWS, run_batch
from collectrules.engine import Engine
from collectrules.model.case import ContactOutcome

__all__ = ["generate_events", "generate_rows", "main"]

AS_OF = "2026-06-30T12:00:00+08:00"
_AS_OF_INSTANT = dt.datetime.fromisoformat(AS_OF)
_OUTCOMES = [outcome.value for outcome in ContactOutcome]
_VALUES = ["0.3", "0.9", "1", "1.5", "6", "12", "24", "36"]


def generate_rows(
    engine: Engine,
    count: int,
    *,
    signals: int = 5,
    bad_every: int = 0,
    events_every: int = 0,
    seed: int = 20261130,
) -> Iterator[dict[str, Any]]:
    """``count`` case dicts, one at a time, with ``signals`` signals from the catalogue.

    One row in ``bad_every`` has a negative overdue amount (a bad row); one in
    ``events_every`` has one to five events of a collector's work (contact attempts,
    payments, visits, promises to pay; :func:`generate_events`). The other rows are the
    same whatever ``events_every`` is: the events are drawn apart.
    """
    rng = random.Random(seed)
    events_rng = random.Random(seed + 1)
    catalogue = engine.policy.signals
    kinds = sorted(catalogue)
    for i in range(count):
        chosen = []
        for _ in range(signals):
            kind = rng.choice(kinds)
            day = rng.randrange(1, 28)
            signal: dict[str, Any] = {
                "kind": kind,
                "observed_at": f"2026-0{rng.randrange(1, 7)}-{day:02d}T10:00:00+08:00",
            }
            if catalogue[kind].measured:
                signal["value"] = rng.choice(_VALUES)
            chosen.append(signal)
        row: dict[str, Any] = {
            "case_id": f"B-{i}",
            "product": rng.choice(["loan", "credit_card", "receivable", "property_fee"]),
            "currency": "CNY",
            "principal": str(rng.randrange(1_000, 2_000_000)),
            "overdue_amount": str(rng.randrange(0, 100_000)),
            "due_date": f"202{rng.randrange(4, 7)}-0{rng.randrange(1, 7)}-{day:02d}",
            "timezone": "Asia/Shanghai",
            "signals": chosen,
        }
        if events_every and i % events_every == 0:
            row["events"] = generate_events(events_rng)
        if bad_every and i % bad_every == bad_every - 1:
            row["overdue_amount"] = "-1"
        yield row


def generate_events(rng: random.Random) -> list[dict[str, Any]]:
    """One to five events of a collector's work in the 90 days before :data:`AS_OF`, as
    a case file writes them: contact attempts (each outcome), payments, visits and
    promises to pay."""
    events: list[dict[str, Any]] = []
    for _ in range(rng.randrange(1, 6)):
        at = _AS_OF_INSTANT - dt.timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        event: dict[str, Any] = {"at": at.isoformat()}
        kind = rng.choice(("contact", "contact", "payment", "visit", "promise"))
        if kind == "contact":
            event.update(kind="contact_attempt", outcome=rng.choice(_OUTCOMES))
        elif kind == "payment":
            event.update(kind="payment", amount=str(rng.randrange(1, 5000)))
        elif kind == "visit":
            event.update(kind="visit")
        else:
            promised = at.date() + dt.timedelta(days=rng.randrange(0, 10))
            event.update(kind="promise_made", amount="1000", promised_date=promised.isoformat())
        events.append(event)
    return events


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the exit status is 0."""
    parser = argparse.ArgumentParser(prog="python -m collectrules.batch.bench")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--backend", choices=["python", "durable"], default="python")
    parser.add_argument("--policy", default="default")
    parser.add_argument("--bad-every", type=int, default=100)
    parser.add_argument(
        "--events-every",
        type=int,
        default=0,
        help="give one row in N one to five events (0, the default: no row has events)",
    )
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument(
        "--out-format",
        choices=["jsonl", "parquet"],
        default="jsonl",
        help="full decisions as JSON Lines, or the compact Parquet table (needs pyarrow)",
    )
    args = parser.parse_args(argv)
    out_name = f"decisions.{args.out_format}"
    engine = Engine(args.policy, backend=args.backend)
    with tempfile.TemporaryDirectory(prefix="collectrules-bench-") as folder:
        source = Path(folder) / "portfolio.jsonl"
        started = time.perf_counter()
        with source.open("w", encoding="utf-8") as fh:
            rows = generate_rows(
                engine, args.rows, bad_every=args.bad_every, events_every=args.events_every
            )
            for row in rows:
                fh.write(json.dumps(row) + "\n")
        generated = time.perf_counter() - started
        before = peak_mib()
        started = time.perf_counter()
        with ChildPeaks() as workers:
            summary = run_batch(
                [source],
                engine=engine,
                out=Path(folder) / out_name,
                as_of=AS_OF,
                jobs=args.jobs,
                chunk_rows=args.chunk_rows,
            )
        elapsed = time.perf_counter() - started
        size = (Path(folder) / out_name).stat().st_size
    print(
        f"policy {engine.policy.ref}, backend {args.backend}, jobs {args.jobs}, "
        f"chunk {args.chunk_rows} rows, output {args.out_format}"
        + (f", events on one row in {args.events_every}" if args.events_every else "")
    )
    print(f"generated {args.rows:,} rows in {generated:.1f} s")
    print(
        f"batch: {summary.rows:,} rows ({summary.decided:,} decided, {summary.bad:,} bad) "
        f"in {elapsed:.1f} s = {summary.rows / elapsed:,.0f} rows/s; "
        f"decisions file {size / 2**20:,.0f} MiB"
    )
    largest, together = workers.largest, workers.together
    print(
        f"peak RSS: {peak_mib():,.0f} MiB (before the batch: {before:,.0f} MiB)"
        + (
            f", one worker {largest:,.0f} MiB, all together {together:,.0f} MiB"
            if args.jobs > 1 and largest is not None and together is not None
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
