"""The columnar batch: Parquet case files to a Parquet compact decision table.

``collectrules batch --engine columnar`` (the default for Parquet input and output)
runs :func:`run_columnar`: each input file is read in chunks of record batches, its
nested ``signals`` and ``events`` lists are exploded into long tables, and
:func:`~collectrules.frame.decide.decide_rows` decides it. The contract of the
per-case batch holds: every row lands in exactly one of the decision table and the
error file (JSON Lines, each line naming the file and the row's index), in input
order, and both files appear, by rename, only when the run is complete. A columnar
run cannot be resumed; it is short enough to run again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import os
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from collectrules.batch.compact import TableWriter, check_fields, compact_row, table_schema
from collectrules.batch.runner import (
    BatchSummary,
    bad_row_line,
    check_workload,
    output_paths,
    spawn_context,
)
from collectrules.engine import Engine
from collectrules.errors import EngineError, FieldProblem, InputError, quote
from collectrules.frame._csv import LINE, csv_columns, read_csv
from collectrules.frame._inputs import ROW, arrow_frame
from collectrules.frame._repeats import FrameCaseIds
from collectrules.frame._sections import SectionKeys
from collectrules.frame.decide import (
    COMPACT_SCHEMA,
    FrameSummary,
    RowData,
    RowRead,
    decide_rows,
    frame_counts,
    section_plan,
)
from collectrules.io import arrow as arrow_io
from collectrules.io import case_files
from collectrules.io.arrow import arrow_rows, batch_row
from collectrules.io.reader import csv_row, read_rows, source_name
from collectrules.io.repeats import repeated_case
from collectrules.io.shapes import RowShape, ignored_columns
from collectrules.model.time import require_aware
from collectrules.policy import Policy

__all__ = ["ColumnarRun", "columnar_inputs", "run_columnar"]

_PAIRS_ARROW = pa.map_(pa.string(), pa.string())

#: Chunks decided at once in one process: a chunk's Python work (the sections on new
#: keys, the per-case rows, building the expressions) overlaps the other's Polars work.
#: Measured on a million rows and 2 cores: 10.5 s to decide with one, 9.0 s with two.
THREADS = 2

#: The most chunks :func:`run_columnar` decides at once in one process.
MAX_AT_ONCE = 8

#: The rows of a chunk with ``collectrules batch --low-memory`` by default: with one
#: chunk at a time, a million rows peaked at 276 MiB (2,000 rows a chunk) against 299
#: MiB (5,000), in 20 s against 13 s (docs/howto-batch.md, "Memory").
LOW_MEMORY_CHUNK_ROWS = 2_000


@attrs.frozen
class ColumnarRun:
    """The batch summary of a columnar run, and the columnar engine's own per file."""

    batch: BatchSummary
    frames: tuple[FrameSummary, ...]

    def lines(self) -> list[str]:
        """The summaries as lines of text, for people."""
        out = self.batch.lines()
        columnar = sum(f.columnar for f in self.frames)
        per_case = sum(f.per_case for f in self.frames)
        keys = sum(f.section_keys for f in self.frames)
        histories = sum(f.section_histories for f in self.frames)
        out.append(
            f"columnar engine: {columnar} rows by the columns, {per_case} by the per-case"
            f" engine; sections evaluated on {keys} distinct keys"
            + (f", {histories} of them rows' own histories" if histories else "")
        )
        reasons: dict[str, int] = {}
        for f in self.frames:
            for reason, n in f.fallback.items():
                reasons[reason] = reasons.get(reason, 0) + n
        out.extend(f"  per case, {reason}: {n}" for reason, n in sorted(reasons.items()))
        return out


@attrs.frozen
class _Keys:
    """A chunk's decided rows, in the order of its decisions: each one's ``row``,
    ``case_id``, ``place`` (its line in a CSV file, ``lines``; else its index) and what
    the summary counts (``quadrant``, ``classes``, ``buckets``)."""

    source: str
    lines: bool
    table: pl.DataFrame | pa.Table


#: A chunk's decisions (a frame; from a worker process, the Arrow table to write), error
#: lines, summary and decided rows' keys (None: no decided rows).
_Decided = tuple[pl.DataFrame | pa.Table, list[bytes], FrameSummary, _Keys | None]

#: The columns of :class:`_Keys`' table, but ``place``.
_KEY_COLUMNS = ("row", "case_id", "quadrant", "classes", "buckets")

#: The case files the columnar engine reads.
COLUMNAR_SUFFIXES = (".parquet", ".csv")


def columnar_inputs(inputs: Sequence[str | Path]) -> list[Path] | None:
    """The input files when every one is Parquet or CSV (the columnar engine reads
    them), else None."""
    files = case_files(inputs)
    if files and all(f.suffix.lower() in COLUMNAR_SUFFIXES for f in files):
        return files
    return None


def _long(table: pl.DataFrame, column: str) -> pl.DataFrame | None:
    """The nested list ``column`` as a long table keyed by ``__row``, or None."""
    if column not in table.columns:
        return None
    dtype = table.schema[column]
    if not (isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)):
        return None
    if any(f.name == "case_id" or f.name.startswith("__") for f in dtype.inner.fields):
        return None  # a field the long table keeps for itself: per case, which names it
    long = (
        table.select(ROW, column)
        .filter(pl.col(column).list.len() > 0)
        .explode(column)
        .with_row_index("__seq")
        .unnest(column)
    )
    return long


#: Rows decided together by default: memory stays bounded whatever the size of a file
#: (``chunk_rows`` of :func:`run_columnar` sets it; fewer rows, less memory, less speed).
CHUNK_ROWS = 50_000


def _chunks(path: Path, rows: int) -> Iterator[_Wire | _Unread] | None:
    """The Parquet file's rows, about ``rows`` at a time, as read (``__row``,
    each row's index, is added on loading), or None when the file goes per case: a
    column's name starts with ``__`` (the names the columns keep for themselves), a
    name is given to two columns (the per-case reader makes each row its error), or the
    file is not readable Parquet (the per-case reader makes it one bad row, as the
    per-case batch does)."""
    try:
        reader = pq.ParquetFile(path, pre_buffer=arrow_io.PRE_BUFFER)
        names = reader.schema_arrow.names
    except arrow_io.parquet_failures():
        return None
    if any(name.startswith("__") for name in names) or len(set(names)) < len(names):
        return None
    return _batches(path, reader, rows)


def _batches(path: Path, reader: pq.ParquetFile, chunk_rows: int) -> Iterator[_Wire | _Unread]:
    """The file's rows in chunks of whole record batches of the per-case reader's size
    (:data:`~collectrules.io.arrow.BATCH_ROWS`): the fewest batches holding at least
    ``chunk_rows`` rows, so a chunk is at least one batch. Where a batch does not decode
    (a page corrupt past a footer that reads), the rows read before it are the last
    chunk and the rest of the file is one bad row: the per-case reader reads the same
    batches, so it stops at the same row with the same error."""
    pages = reader.iter_batches(batch_size=arrow_io.BATCH_ROWS)
    start = 0
    held: list[pa.RecordBatch] = []
    rows = 0
    while True:
        try:
            batch = next(pages)
        except StopIteration:
            break
        except arrow_io.parquet_failures() as exc:
            if held:
                yield _Wire(pa.Table.from_batches(held), start)
            yield _Unread(arrow_io.unreadable_parquet(path, exc))
            return
        held.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield _Wire(pa.Table.from_batches(held), start)
            start += rows
            held, rows = [], 0
    if held:
        yield _Wire(pa.Table.from_batches(held), start)


@attrs.frozen
class _Unread:
    """The rest of a Parquet file, from a record batch that does not decode: one bad row
    with the file's error, as the per-case reader reports it."""

    error: InputError

    def decided(self, source: str) -> _Decided:
        """The bad row's empty decisions, its error line and its summary."""
        decisions = pl.DataFrame(schema={"row": pl.Int64, **COMPACT_SCHEMA})
        summary = FrameSummary(
            rows=1,
            decided=0,
            bad=1,
            columnar=0,
            per_case=1,
            fallback={"part of a file that does not read": 1},
            section_keys=0,
            orphans=0,
            counts={},
        )
        return decisions, [bad_row_line(source, None, None, None, self.error)], summary, None


def _done(part: _Decided) -> Future[_Decided]:
    """A chunk's result, already known, to queue in order among those being decided."""
    future: Future[_Decided] = Future()
    future.set_result(part)
    return future


@attrs.frozen
class _Chunk:
    """Rows of one file to decide together: the table ``decide_rows`` reads and, for a
    CSV file, the rows as read (text cells, with ``__line``); for a Parquet file, the
    record batches as read, whose first row has the index ``start``."""

    table: pl.DataFrame
    raw: pl.DataFrame | None = None
    batch: pa.Table | pa.RecordBatch | None = None
    start: int = 0

    def load(self) -> _Chunk:
        """The chunk itself."""
        return self

    def wire(self) -> _Wire:
        """The chunk as Arrow tables, to send to a worker process."""
        raw = None if self.raw is None else self.raw.to_arrow()
        return _Wire(self.table.to_arrow(), None, raw)


@attrs.frozen
class _Wire:
    """A chunk as Arrow data, which pickles as its buffers (a Polars frame pickles
    several times slower): ``table`` with ``__row`` (``start`` None), or the record
    batches of a Parquet file as read, whose first row has the index ``start``."""

    table: pa.Table | pa.RecordBatch
    start: int | None
    raw: pa.Table | None = None

    def load(self) -> _Chunk:
        """The chunk as Polars frames. Parquet batches Polars cannot hold (a type it
        lacks, or data Arrow finds invalid, such as text that is not UTF-8 in a damaged
        file) are a table of their rows' indices alone, marked unread: every row goes
        per case, read from the batches."""
        if self.start is None:
            return _Chunk(_polars(self.table), None if self.raw is None else _polars(self.raw))
        try:
            # Arrow's Parquet reader does not check what an undamaged file never holds
            # (text that is not UTF-8, offsets out of bounds): Polars would panic on it.
            self.table.validate(full=True)
            table = _polars(self.table)
        except (pl.exceptions.PolarsError, pa.ArrowException, TypeError, ValueError):
            # (InputError is a ValueError: a type the columns refuse.)
            table = pl.DataFrame({"__unread_table": [True] * self.table.num_rows})
        table = table.with_row_index(ROW, offset=self.start)
        return _Chunk(table, None, self.table, self.start)

    def wire(self) -> _Wire:
        """The chunk itself."""
        return self


def _polars(data: pa.Table | pa.RecordBatch) -> pl.DataFrame:
    return arrow_frame(data)


def _csv_chunks(path: Path, rows: int) -> Iterator[_Chunk] | None:
    """The CSV file's rows, ``rows`` at a time, or None when the columns cannot read it
    as the per-case reader does."""
    parts = read_csv(path, rows)
    if parts is None:
        return None
    return (_Chunk(csv_columns(part), part) for part in parts)


def _csv_row_data(raw: pl.DataFrame, source: str) -> RowData:
    """CSV rows' data (or reading errors) by index, as the per-case reader gives them."""
    cells = [c for c in raw.columns if c not in (ROW, LINE)]

    def row_data(indices: list[int]) -> list[RowRead]:
        first = int(raw.item(0, ROW))
        out: list[RowRead] = []
        for item in raw[[index - first for index in indices]].iter_rows(named=True):
            record = {c: item[c] if item[c] is not None else "" for c in cells}
            row = csv_row(source, int(item[LINE]), record)
            out.append((row.data, row.error))
        return out

    return row_data


def _batch_row_data(batch: pa.Table | pa.RecordBatch, start: int, *, valid: bool) -> RowData:
    """Parquet rows' data (or the errors reading them gave) by index, as the per-case
    reader gives them: from the record batches, not from the Polars frame. The rows are
    taken from a ``valid`` table (one Arrow checked whole) and converted together; from
    another, each is read alone, as the per-case reader reads a batch it cannot convert.
    """

    def row_data(indices: list[int]) -> list[RowRead]:
        positions = [index - start for index in indices]
        read: list[dict[str, Any] | InputError] | None = None
        if valid:
            try:
                table = _taken(batch, positions)
            except (pa.ArrowException, TypeError, ValueError):
                pass  # a type Arrow cannot take from: each row alone
            else:
                read = list(arrow_rows(table))
        if read is None:
            read = [batch_row(batch, position) for position in positions]
        return [(None, data) if isinstance(data, InputError) else (data, None) for data in read]

    return row_data


def _taken(batch: pa.Table | pa.RecordBatch, positions: list[int]) -> pa.Table:
    """The rows at ``positions`` (strictly ascending) of ``batch``, as a table, taken
    from each record batch of a table apart; positions out of order or past the rows
    are a ``ValueError``. Arrow's ``Table.take`` joins a nested column's chunks first:
    taking 500 rows of a 50,000-row table of five batches with nested signals took
    0.28 s that way, and 1 ms batch by batch."""
    if any(b <= a for a, b in itertools.pairwise(positions)) or (
        positions and not 0 <= positions[0] <= positions[-1] < batch.num_rows
    ):
        msg = f"row positions out of order or past the {batch.num_rows:,} rows read"
        raise ValueError(msg)
    batches = batch.to_batches() if isinstance(batch, pa.Table) else [batch]
    parts: list[pa.RecordBatch] = []
    start = 0
    at = 0
    for part in batches:
        end = start + part.num_rows
        first = at
        while at < len(positions) and positions[at] < end:
            at += 1
        if at > first:
            # (Polars builds the indices: pyarrow's pa.array loads pandas.)
            wanted = pl.Series(values=positions[first:at], dtype=pl.Int64) - start
            parts.append(part.take(wanted.to_arrow()))
        start = end
    return pa.Table.from_batches(parts, schema=batch.schema)


def _keeping(row_data: RowData, keep: frozenset[str]) -> RowData:
    """``row_data`` with only the ``keep`` fields of each row read."""

    def kept(indices: list[int]) -> list[RowRead]:
        return [
            (None if data is None else {k: v for k, v in data.items() if k in keep}, error)
            for data, error in row_data(indices)
        ]

    return kept


#: Column types whose every value Python reads (text, numbers, booleans): such a
#: column can be dropped before the rows are read without changing what they give.
_PLAIN_TYPES = (pl.String, pl.Boolean, pl.Null, pl.Categorical, pl.Enum)


def _never_spoils(dtype: pl.DataType) -> bool:
    return isinstance(dtype, _PLAIN_TYPES) or dtype.is_numeric()


def _first_ignored(chunk: _Chunk | _Wire, keep: frozenset[str], source: str) -> list[str]:
    """The columns, not in ``keep``, that hold a value in the chunk's first row holding
    one in any such column (the per-case batch names them in its warning): the first
    such row that the per-case reader can read (a Parquet row whose values Python can
    hold, a CSV row whose JSON cells parse). The per-case batch never sees the others'
    columns: each is a bad row."""
    if isinstance(chunk, _Wire):
        return [] if chunk.start is None else _first_ignored_parquet(chunk.table, keep)
    if chunk.raw is None:
        return []
    names = [n for n in chunk.raw.columns if n not in keep and not n.startswith("__")]
    if not names:
        return []
    raw = chunk.raw
    cell = pl.col(names)  # one expression over the columns, not one per column
    held = raw.select((cell.is_not_null() & (cell != "")).fill_null(value=False))
    rows = held.with_row_index("__at").filter(pl.any_horizontal(pl.col(names))).get_column("__at")
    cells = [c for c in raw.columns if c not in (ROW, LINE)]
    for index in rows:  # the first, unless a JSON cell of its row cannot be read
        item = raw.row(int(index), named=True)
        record = {c: item[c] if item[c] is not None else "" for c in cells}
        data = csv_row(source, int(item[LINE]), record).data
        if data is not None:
            return [n for n in names if n in data]
    return []


def _first_ignored_parquet(batch: pa.Table | pa.RecordBatch, keep: frozenset[str]) -> list[str]:
    names = [n for n in batch.schema.names if n not in keep]
    if not names:
        return []
    held = pl.DataFrame({n: batch.column(n).is_valid() for n in names})
    rows = held.with_row_index("__at").filter(pl.any_horizontal(names)).get_column("__at")
    for index in rows:  # the first, unless a value in its row cannot be read
        data = batch_row(batch, int(index))
        if not isinstance(data, InputError):
            return [n for n in names if n in data]
    return []


def _per_case_file(
    path: Path,
    policy: Policy,
    when: Any,
    keep: frozenset[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> _Decided:
    """A file the columns cannot read, decided row by row by the per-case engine, as
    the per-case batch reads it (with ``keep``, the columns it keeps; see
    :func:`run_columnar`)."""
    engine = Engine(policy, backend="python")
    out: list[dict[str, Any]] = []
    places: list[int] = []
    lines: list[bytes] = []
    rows = 0
    by_line = path.suffix.lower() == ".csv"
    shape = None if keep is None else RowShape(fields=keep)
    for index, row in enumerate(read_rows([path], shape=shape, on_warning=on_warning)):
        rows += 1
        if row.data is None:
            error = row.error or InputError([FieldProblem("", "unreadable row")])
            lines.append(bad_row_line(row.source, row.line, row.index, None, error))
            continue
        result = next(engine.decide_many([row.data], as_of=when, repeats="decide"))
        if result.decision is None:
            assert result.error is not None
            lines.append(
                bad_row_line(row.source, row.line, row.index, result.case_id, result.error)
            )
            continue
        compact = compact_row(result.decision)
        compact["row"] = index
        for name in ("classes", "buckets"):
            compact[name] = [{"key": k, "value": v} for k, v in compact[name]]
        out.append(compact)
        places.append((row.line if by_line else row.index) or 0)
    decisions = pl.DataFrame(out, schema={"row": pl.Int64, **COMPACT_SCHEMA})
    table = decisions.select(_KEY_COLUMNS).with_columns(place=pl.Series(places, dtype=pl.Int64))
    summary = FrameSummary(
        rows=rows,
        decided=decisions.height,
        bad=len(lines),
        columnar=0,
        per_case=rows,
        fallback={"file the columns cannot read": rows} if rows else {},
        section_keys=0,
        orphans=0,
        counts=frame_counts(decisions),
    )
    return decisions, lines, summary, _Keys(source_name(path), by_line, table)


def _decide_chunk(
    chunk: _Chunk,
    source: str,
    policy: Policy,
    when: Any,
    plan: SectionKeys | None,
    keep: frozenset[str] | None = None,
) -> _Decided:
    table = chunk.table
    if keep is not None:
        # Columns that are not case fields are ignored, as the per-case batch ignores
        # them: dropped here when no value of theirs can spoil a row's reading (a row
        # with a value in another goes per case, read whole, and loses them there).
        table = table.drop(
            c
            for c, dtype in table.schema.items()
            if c not in keep and not c.startswith("__") and _never_spoils(dtype)
        )
    nested = [c for c in ("signals", "events") if c in table.columns]
    signals = _long(table, "signals")
    events = _long(table, "events")
    if events is None and table.schema.get("events") == pl.String:
        # A CSV file's events cell, as text: its rows go per case, as rows with events.
        events = table.filter(pl.col("events").is_not_null()).select(ROW)
    checked = table.drop(nested)
    # A nested column Polars cannot read as a list of records: such rows go per case.
    for name in nested:
        if (name == "signals" and signals is None) or (name == "events" and events is None):
            checked = checked.with_columns(pl.col(ROW).alias(f"__unread_{name}"))
    raw = chunk.raw
    row_data = None
    if raw is not None:
        row_data = _csv_row_data(raw, source)
    elif chunk.batch is not None:
        valid = "__unread_table" not in table.columns
        row_data = _batch_row_data(chunk.batch, chunk.start, valid=valid)
    if row_data is not None and keep is not None:
        row_data = _keeping(row_data, keep)
    result = decide_rows(
        checked,
        signals,
        events,
        policy=policy,
        as_of=when,
        originals=table,
        sections=plan,
        row_data=row_data,
    )
    decisions = result.decisions
    keys = decisions.select(_KEY_COLUMNS)
    if raw is None:
        errors = [bad_row_line(source, None, e.row, e.case_id, e.error) for e in result.errors]
        keys = keys.with_columns(place=pl.col("row"))
    else:
        first = int(raw.item(0, ROW))
        errors = [
            bad_row_line(source, int(raw.item(e.row - first, LINE)), None, e.case_id, e.error)
            for e in result.errors
        ]
        lines = raw.select(pl.col(ROW).cast(pl.Int64).alias("row"), pl.col(LINE).alias("place"))
        keys = keys.join(lines, on="row", how="left", maintain_order="left")
    return decisions, errors, result.summary, _Keys(source, raw is not None, keys)


def run_columnar(
    inputs: Sequence[str | Path],
    *,
    policy: Policy,
    out: str | Path,
    errors: str | Path | None = None,
    as_of: dt.datetime | str,
    fields: Sequence[str] | None = None,
    on_bad: Callable[[str, str], None] | None = None,
    jobs: int = 1,
    case_fields: Collection[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    at_once: int = THREADS,
) -> ColumnarRun:
    """Decide every row of the Parquet ``inputs`` into the compact table ``out``.

    ``out`` must end in ``.parquet``; bad rows go to ``errors`` (JSON Lines; default
    next to ``out``), each naming its file and index. ``on_bad(where, reason)`` is
    called for each bad row. With ``jobs`` above 1, that many worker processes decide
    the chunks (each receives the policy pickled, and evaluates the sections on the
    keys it meets); this process reads the files and writes the decisions in
    input order.

    With ``case_fields``, the columns of a file that are not among them are ignored,
    as ``collectrules batch`` ignores them (the per-case batch's
    :class:`~collectrules.io.RowShape` drops them from each row): each file naming
    such a column in a row is named once through ``on_warning``, with the columns of
    its first such row.

    ``chunk_rows`` rows of a file are decided together (memory against speed: fewer
    rows, less memory and a slower run); a Parquet chunk is whole record batches of
    :data:`~collectrules.io.arrow.BATCH_ROWS` rows, so at least one batch. With one
    job, ``at_once`` chunks (1 to :data:`MAX_AT_ONCE`) are decided at once on threads of
    this process; 1 holds the fewest rows, and is slower (see docs/howto-batch.md,
    "Memory").
    """
    jobs, chunk_rows = check_workload(jobs, chunk_rows)
    if isinstance(at_once, bool) or not isinstance(at_once, int) or not 1 <= at_once <= MAX_AT_ONCE:
        msg = f"expected a whole number of chunks from 1 to {MAX_AT_ONCE}, got {quote(at_once)}"
        raise InputError([FieldProblem("at_once", msg)])
    when = require_aware(as_of)
    out_path, err_path = output_paths(out, errors)
    if out_path.suffix.lower() != ".parquet":
        msg = (
            "the columnar engine writes the compact Parquet table: name an --out ending"
            " in .parquet, or use --engine per-case for JSON Lines"
        )
        raise InputError([FieldProblem("--out", msg)])
    files = columnar_inputs(inputs)
    if files is None:
        msg = (
            "the columnar engine reads Parquet and CSV case files; use --engine per-case"
            " for JSON or JSON Lines"
        )
        raise InputError([FieldProblem("--engine", msg)])
    if out_path.absolute() == err_path.absolute():
        raise InputError([FieldProblem("--errors", "must not be the same file as --out")])
    columns = check_fields(fields)
    keep = None if case_fields is None else frozenset(case_fields)
    reading = _Reading(keep, on_warning, chunk_rows, at_once)
    # Can workers start here at all? Asked before any file is written.
    context = spawn_context() if jobs > 1 else None
    partial_out = out_path.with_name(out_path.name + ".partial")
    partial_err = err_path.with_name(err_path.name + ".partial")
    summaries: list[FrameSummary] = []
    counts: dict[str, dict[str, int]] = {}
    with (
        partial_err.open("wb") as err_fh,
        _sink(partial_out) as sink,
        TableWriter(sink, columns, name="out") as writer,  # the per-case batch's row groups
    ):
        parts: Iterator[_Decided]
        seen = FrameCaseIds()  # the case ids decided so far: none is decided twice
        if jobs == 1:
            plan = section_plan(policy, when)
            parts = (d for p in files for d in _decided(p, policy, when, plan, reading))
        else:
            assert context is not None
            parts = _decided_in_workers(files, policy, when, context, jobs, columns, reading)
        # A chunk is written on a thread of its own while the next one is decided
        # (Arrow releases the interpreter while it encodes); one write waits at most.
        pending: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1) as pool:
            for raw_part in parts:
                part = _once(raw_part, seen)
                decisions = part[0]
                if pending is not None:
                    pending.result()
                pending = pool.submit(_write, writer, decisions)
                _tally(part, err_fh, on_bad, summaries, counts)
            if pending is not None:
                pending.result()
    os.replace(partial_err, err_path)
    os.replace(partial_out, out_path)
    rows = sum(s.rows for s in summaries)
    decided = sum(s.decided for s in summaries)
    bad = sum(s.bad for s in summaries)
    batch = BatchSummary(
        rows=rows, decided=decided, bad=bad, counts=counts, out=out_path, errors=err_path
    )
    return ColumnarRun(batch, tuple(summaries))


def _once(part: _Decided, seen: FrameCaseIds) -> _Decided:
    """The chunk with each decided row whose case id a row decided before it holds
    (``seen``: the run's decided ids) made a bad row, in its place among the chunk's
    bad rows; the chunk's decided ids recorded."""
    decisions, lines, summary, keys = part
    if keys is None:
        return part
    table = keys.table if isinstance(keys.table, pl.DataFrame) else pl.from_arrow(keys.table)
    assert isinstance(table, pl.DataFrame)
    places = table.get_column("place").to_numpy()
    found = seen.repeats(keys.source, table.get_column("case_id"), places, lines=keys.lines)
    if not found:
        return part
    kept = np.ones(table.height, dtype=bool)
    kept[list(found)] = False
    if isinstance(decisions, pa.Table):
        decisions = decisions.filter(pa.array(kept))
    else:
        decisions = decisions.filter(pl.Series(kept))
    again: list[tuple[int, bytes]] = []
    for pos, (case_id, first) in found.items():
        place = int(places[pos])
        line, index = (place, None) if keys.lines else (None, place)
        error = repeated_case(case_id, first)
        again.append((place, bad_row_line(keys.source, line, index, case_id, error)))
    held = [(_place(e_line, keys.lines), e_line) for e_line in lines]
    merged = [e_line for _, e_line in sorted([*held, *again], key=lambda item: item[0])]
    summary = attrs.evolve(
        summary,
        decided=summary.decided - len(found),
        bad=summary.bad + len(found),
        counts=frame_counts(table.filter(pl.Series(kept))),
    )
    return decisions, merged, summary, None


def _place(line: bytes, by_line: bool) -> int:
    """An error line's row: its line, or its index (-1: a whole file's error)."""
    where = _record(line)["input"]
    place = where.get("line") if by_line else where.get("index")
    return place if isinstance(place, int) else -1


@contextlib.contextmanager
def _sink(path: Path) -> Iterator[Path | BinaryIO]:
    """Where the table is written: the path, which Arrow opens and writes without
    Python (through a Python file, 1,000,000 rows took 0.4 to 0.6 s longer in two
    alternating runs); a name whose bytes are not UTF-8, which Arrow cannot open, is
    opened here."""
    if source_name(path) == str(path):
        yield path
        return
    with path.open("wb") as fh:
        yield fh


def _write(writer: TableWriter, decisions: pl.DataFrame | pa.Table) -> None:
    if not isinstance(decisions, pa.Table):
        decisions = to_arrow(decisions, writer.fields, writer.schema)
    writer.write(decisions)


def _tally(
    part: _Decided,
    err_fh: Any,
    on_bad: Callable[[str, str], None] | None,
    summaries: list[FrameSummary],
    counts: dict[str, dict[str, int]],
) -> None:
    """Write a chunk's bad rows and add its summary and counts to the run's."""
    _, lines, summary, _ = part
    err_fh.writelines(lines)
    if on_bad is not None:
        for e_line in lines:
            record = _record(e_line)
            on_bad(record["where"], record["error"])
    summaries.append(summary)
    for key, tally in summary.counts.items():
        mine = counts.setdefault(key, {})
        for value, n in tally.items():
            mine[value] = mine.get(value, 0) + n


@attrs.frozen
class _Reading:
    """How a run reads its files: the case fields it keeps (None: every column), where
    it says, once per file, which columns it ignores, the rows of a chunk, and the
    chunks decided at once in this process."""

    keep: frozenset[str] | None
    on_warning: Callable[[str], None] | None
    rows: int
    at_once: int

    def watch(
        self, source: str, chunks: Iterator[_Chunk | _Wire | _Unread]
    ) -> Iterator[_Chunk | _Wire | _Unread]:
        """The chunks of ``source``; on reading the first that holds a value in a
        column it ignores, the warning naming that row's such columns."""
        warned = self.keep is None
        for chunk in chunks:
            if not warned and self.keep is not None and not isinstance(chunk, _Unread):
                extra = _first_ignored(chunk, self.keep, source)
                if extra:
                    warned = True
                    message = ignored_columns(source, extra, self.keep)
                    logging.getLogger("collectrules").warning(message)
                    if self.on_warning is not None:
                        self.on_warning(message)
            yield chunk


def _file_chunks(path: Path, rows: int) -> Iterator[_Chunk | _Wire | _Unread] | None:
    """The file's chunks of about ``rows`` rows, or None when the columns cannot read it
    (a CSV file the per-case reader alone reads)."""
    if path.suffix.lower() == ".csv":
        return _csv_chunks(path, rows)
    return _chunks(path, rows)


def _decided(
    path: Path, policy: Policy, when: Any, plan: SectionKeys | None, reading: _Reading
) -> Iterator[_Decided]:
    """The file's decisions, error lines and summary, a chunk at a time, in order:
    ``reading.at_once`` chunks (:data:`THREADS` by default) are decided at once while
    the next one is read."""
    chunks = _file_chunks(path, reading.rows)
    if chunks is None:
        yield _per_case_file(path, policy, when, reading.keep, reading.on_warning)
        return
    source = source_name(path)

    def decided(chunk: _Chunk | _Wire) -> _Decided:
        return _decide_chunk(chunk.load(), source, policy, when, plan, reading.keep)

    with ThreadPoolExecutor(max_workers=reading.at_once) as pool:
        in_flight: deque[Future[_Decided]] = deque()
        for chunk in reading.watch(source, chunks):
            if isinstance(chunk, _Unread):
                in_flight.append(_done(chunk.decided(source)))
                continue
            in_flight.append(pool.submit(decided, chunk))
            if len(in_flight) >= reading.at_once:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def _decided_in_workers(
    files: Sequence[Path],
    policy: Policy,
    when: Any,
    context: Any,
    jobs: int,
    columns: tuple[str, ...],
    reading: _Reading,
) -> Iterator[_Decided]:
    """:func:`_decided` over ``files``, the chunks decided by ``jobs`` worker processes,
    in input order. At most two chunks per worker are in flight: memory stays bounded.

    The workers are spawned, not forked: a forked copy of Polars' thread pool can
    deadlock. Each receives the policy pickled (see :meth:`Policy.__reduce__`).
    """
    start = (policy, when, reading.keep)
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=start
    ) as pool:
        in_flight: deque[Future[_Decided]] = deque()
        for path in files:
            chunks = _file_chunks(path, reading.rows)
            if chunks is None:
                while in_flight:
                    yield _result(in_flight.popleft())
                yield _per_case_file(path, policy, when, reading.keep, reading.on_warning)
                continue
            source = source_name(path)
            for chunk in reading.watch(source, chunks):
                if isinstance(chunk, _Unread):
                    in_flight.append(_done(chunk.decided(source)))
                    continue
                in_flight.append(pool.submit(_worker_chunk, chunk.wire(), source, columns))
                if len(in_flight) >= 2 * jobs:
                    yield _result(in_flight.popleft())
        while in_flight:
            yield _result(in_flight.popleft())


def _result(future: Future[_Decided]) -> _Decided:
    """A worker's chunk; a worker that died (killed, out of memory) is an EngineError."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        msg = f"a worker process of the columnar run stopped: {exc}"
        raise EngineError(msg) from None


#: A worker process's policy, ``as_of`` and sections' plan (set by :func:`_start_worker`).
_WORKER: dict[str, Any] = {}


def _start_worker(policy: Policy, when: Any, keep: frozenset[str] | None) -> None:
    _WORKER.update(policy=policy, when=when, plan=section_plan(policy, when), keep=keep)


def _worker_chunk(chunk: _Wire, source: str, columns: tuple[str, ...]) -> _Decided:
    """A chunk decided in a worker process; its decisions come back as the Arrow table
    to write (it pickles as its buffers)."""
    policy, when, plan = _WORKER["policy"], _WORKER["when"], _WORKER["plan"]
    keep = _WORKER["keep"]
    decisions, lines, summary, keys = _decide_chunk(chunk.load(), source, policy, when, plan, keep)
    if keys is not None:
        keys = attrs.evolve(keys, table=keys.table.to_arrow())
    return to_arrow(decisions, columns, table_schema(columns)), lines, summary, keys


def to_arrow(decisions: pl.DataFrame, columns: Sequence[str], schema: Any) -> Any:
    """The ``columns`` of the compact decisions as an Arrow table of ``schema`` (lists of
    key/value pairs become Arrow maps, as the per-case batch writes them)."""
    decisions = decisions.select(columns)
    arrays = []
    for field in schema:
        column = decisions.get_column(field.name).to_arrow()
        if field.type == _PAIRS_ARROW:
            pairs = column.cast(pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])))
            pairs = pa.concat_arrays([pairs]) if isinstance(pairs, pa.Array) else pairs
            flat = pairs.combine_chunks() if isinstance(pairs, pa.ChunkedArray) else pairs
            entries = flat.values
            arrays.append(
                pa.MapArray.from_arrays(flat.offsets, entries.field("key"), entries.field("value"))
            )
        else:
            arrays.append(column.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _record(line: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(line)
    return data
