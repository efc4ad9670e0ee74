"""The batch runner: stream rows from files, decide them, write two files, count.

Rows are read one at a time and decided in chunks of ``chunk_rows``; at most a few
chunks are in memory at once, whatever the size of the portfolio. Each chunk's
decisions and errors are appended in input order, then checkpointed (see
:mod:`collectrules.batch.output`), so that ``resume=True`` continues after a kill
with no row lost and none repeated.

The runner logs to the ``collectrules.batch.runner`` logger (under ``collectrules``,
docs/logging.md): the start and the end of a run at INFO, each checkpoint at INFO, and
each bad row at WARNING. ``on_metrics`` receives a :class:`BatchSummary` of the run so
far after every checkpoint, for a metrics system.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from collectrules._arguments import (
    require_bool,
    require_file_path,
    require_instance,
    require_optional_callable,
)
from collectrules.batch.compact import ParquetSink, check_fields, compact_row
from collectrules.batch.output import BatchFiles, Progress
from collectrules.engine import Backend, Engine, UnknownSignals
from collectrules.errors import CollectRulesError, FieldProblem, InputError, OutOfMemoryError, quote
from collectrules.io import Row, RowShape, case_files, check_encoding, read_rows
from collectrules.io.arrow import require_pyarrow
from collectrules.io.reader import row_place as where
from collectrules.io.repeats import CaseIds, repeated_case
from collectrules.model.decision import Decision
from collectrules.model.time import require_aware
from collectrules.policy import Policy

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "MAX_CHUNK_ROWS",
    "MAX_JOBS",
    "BatchSummary",
    "bad_row_line",
    "check_workload",
    "default_errors_path",
    "error_reason",
    "run_batch",
    "spawn_context",
]

DEFAULT_CHUNK_ROWS = 1000
"""Rows decided between two checkpoints."""

MAX_JOBS = 64
"""The most worker processes a batch starts, on either engine."""

MAX_CHUNK_ROWS = 10_000_000
"""The most rows a batch decides together, on either engine."""


def check_workload(jobs: object, chunk_rows: object) -> tuple[int, int]:
    """``jobs`` and ``chunk_rows`` as a batch takes them: whole numbers from 1 to
    :data:`MAX_JOBS` and :data:`MAX_CHUNK_ROWS`. Anything else is an :class:`InputError`
    naming ``--jobs`` or ``--chunk-rows``: a batch's processes and the rows it holds
    stay bounded whatever it is asked."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        msg = f"expected a whole number of worker processes from 1 to {MAX_JOBS}, got {quote(jobs)}"
        raise InputError([FieldProblem("--jobs", msg)])
    if (
        isinstance(chunk_rows, bool)
        or not isinstance(chunk_rows, int)
        or not 1 <= chunk_rows <= MAX_CHUNK_ROWS
    ):
        msg = (
            f"expected a whole number of rows from 1 to {MAX_CHUNK_ROWS:,}, got {quote(chunk_rows)}"
        )
        raise InputError([FieldProblem("--chunk-rows", msg)])
    return jobs, chunk_rows


_MAX_REASON = 1000
_log = logging.getLogger(__name__)


@attrs.frozen
class BatchSummary:
    """What a batch did: rows read, decided and bad, and the tallies of the decisions.

    ``counts`` maps ``"quadrant"``, ``"class:<pack>"`` and ``"bucket:<set>"`` to the
    number of decisions per value, and ``"ignored_signals"`` (when an engine with
    ``unknown_signals="ignore"`` ignored some) to the ``cases`` that had such signals and
    the ``signals`` ignored; ``resumed_at`` is the number of rows an interrupted
    run had already done (0 for a fresh run). Counts include those rows.
    """

    rows: int
    decided: int
    bad: int
    counts: Mapping[str, Mapping[str, int]]
    out: Path
    errors: Path
    resumed_at: int = 0

    def lines(self) -> list[str]:
        """The summary as lines of text, for people."""
        head = f"{self.rows} rows: {self.decided} decided, {self.bad} bad"
        if self.resumed_at:
            head += f" (resumed after row {self.resumed_at})"
        out = [head]
        for key in sorted(self.counts, key=lambda k: (k != "quadrant", k)):
            tally = self.counts[key]
            parts = ", ".join(f"{value} {n}" for value, n in sorted(tally.items()))
            out.append(f"  {key}: {parts}")
        out.append(f"decisions in {self.out}; bad rows in {self.errors}")
        return out


def default_errors_path(out: Path) -> Path:
    """Where bad rows go when no error file is named: ``decisions.errors.jsonl`` next to
    ``decisions.jsonl``."""
    out = require_file_path(out, "out")
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.errors.jsonl")


def output_paths(out: str | Path, errors: str | Path | None) -> tuple[Path, Path]:
    """The decisions' file and the bad rows' file of a run writing to ``out`` (the
    bad rows next to it, when ``errors`` is None); an ``InputError`` naming ``out`` or
    ``errors`` when either names no file."""
    out_path = require_file_path(out, "out")
    if errors is None:
        return out_path, default_errors_path(out_path)
    return out_path, require_file_path(errors, "errors")


def run_batch(
    inputs: Sequence[str | Path],
    *,
    engine: Engine,
    out: str | Path,
    errors: str | Path | None = None,
    as_of: dt.datetime | str | None = None,
    encoding: str = "utf-8",
    resume: bool = False,
    jobs: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_bad: Callable[[str, str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    fields: Sequence[str] | None = None,
    on_metrics: Callable[[BatchSummary], None] | None = None,
    shape: RowShape | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Decide every row of ``inputs`` into ``out`` (decisions) and ``errors`` (bad rows).

    Every input row lands in exactly one of the two JSON Lines files, in input order,
    each line carrying ``input`` (its file and line). The outputs appear, by rename,
    only when the run is complete. With ``resume=True`` an interrupted run with the
    same inputs, policy and ``as_of`` is continued from its last checkpoint (``as_of``
    may then be omitted); without an interrupted run, a fresh one starts.

    Raises :class:`InputError` when the input is unusable as a whole (a missing file,
    an unknown encoding, a run that cannot be resumed) before any output is touched, and
    :class:`~collectrules.batch.OutputError` when writing fails (a full disk): what was
    written stays in ``*.partial`` files that ``resume=True`` can continue. An output
    that cannot be written at all (its folder missing, its name, or a name of the files
    written beside it, too long) is an ``OutputError`` before anything is written.
    ``on_bad(where, reason)`` is called for each bad row, ``on_progress(rows)`` after
    each chunk.

    When ``out`` ends in ``.parquet`` the decisions are written as a compact decision
    table (:mod:`collectrules.batch.compact`; ``fields`` picks its columns), which
    needs pyarrow. A Parquet file is readable only once its footer is written, so such
    a run cannot be resumed: ``resume=True`` is refused with an :class:`InputError`;
    run it again from the start. The error file stays JSON Lines.

    After each chunk, ``on_metrics(summary)`` receives a :class:`BatchSummary` of the
    run so far (rows, decided, bad, and the tallies by quadrant, class and bucket), for
    a metrics system.

    ``shape`` (:class:`~collectrules.io.RowShape`) maps columns, reads money in minor
    units and joins long tables of signals and events; ``on_warning`` hears of extra
    columns dropped and long-table rows no case claimed.
    """
    require_instance(engine, Engine, "engine", "an Engine")
    out_path, err_path = output_paths(out, errors)
    codec = check_encoding(encoding)
    files = case_files(inputs, encoding=encoding)
    _check_paths(files, out_path, err_path)
    resume = require_bool(resume, "resume")
    jobs, chunk_rows = check_workload(jobs, chunk_rows)
    for name, hook in (
        ("on_bad", on_bad),
        ("on_progress", on_progress),
        ("on_metrics", on_metrics),
        ("on_warning", on_warning),
    ):
        require_optional_callable(hook, name)
    if shape is not None:
        require_instance(shape, RowShape, "shape", "a RowShape or None")
    if jobs > 1:
        spawn_context()  # can workers start here at all? Asked before any file is written
    columns = _columns(out_path, fields, resume)
    stats = [(str(f.absolute()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    outputs = BatchFiles(out_path, err_path)
    pending = outputs.pending() if resume else None
    when = _as_of(as_of, pending)
    header: dict[str, Any] = {
        "inputs": stats,
        "encoding": codec.name,
        "policy": engine.policy.content_hash,
        "as_of": when.isoformat(),
        "errors": str(err_path.absolute()),
    }
    if shape is not None and not shape.is_plain:
        header["shape"] = shape.fingerprint()
    if pending is not None:
        _check_same_run(pending.header, header, outputs)
        if pending.phase == "commit":
            outputs.finish_commit()
            return _summary(pending, out_path, err_path, pending.rows)
        outputs.resume(pending)
        progress = pending
        seen = _decided_ids(outputs, pending)
    else:
        progress = outputs.start(header)
        seen = CaseIds()
    resumed_at = progress.rows
    sink = None
    _log.info(
        "batch %s: %d input file(s), policy %s, as_of %s%s",
        "resumed" if resumed_at else "started",
        len(files),
        engine.policy.ref,
        when.isoformat(),
        f", after row {resumed_at}" if resumed_at else "",
    )

    def checkpointed(now: Progress) -> None:
        summary = _summary(now, out_path, err_path, resumed_at)
        _log.info(
            "batch progress: %d rows, %d decided, %d bad",
            summary.rows,
            summary.decided,
            summary.bad,
        )
        if on_metrics is not None:
            on_metrics(summary)

    try:
        if columns is not None:
            sink = ParquetSink(outputs.out_file, columns)
        progress = _run(
            engine,
            when,
            read_rows(
                files, encoding=encoding, skip=progress.rows, shape=shape, on_warning=on_warning
            ),
            outputs,
            progress,
            jobs=jobs,
            chunk_rows=chunk_rows,
            on_bad=on_bad,
            on_progress=on_progress,
            sink=sink,
            on_checkpoint=checkpointed,
            seen=seen,
        )
        if sink is not None:
            sink.close()
        outputs.commit(progress)
    finally:
        outputs.close()
    summary = _summary(progress, out_path, err_path, resumed_at)
    _log.info("batch done: %s", summary.lines()[0])
    return summary


def _decided_ids(outputs: BatchFiles, progress: Progress) -> CaseIds:
    """The case ids an interrupted run decided, read from its decisions up to its
    checkpoint: a resumed run refuses a later row naming one, as the run would have."""
    seen = CaseIds()
    for case_id, source, line, index in outputs.decided_rows(progress):
        seen.claim(case_id, source, line, index)
    return seen


def _columns(out: Path, fields: Sequence[str] | None, resume: bool) -> tuple[str, ...] | None:
    """The compact table's columns when ``out`` is Parquet, else None (JSON Lines)."""
    if out.suffix.lower() != ".parquet":
        if fields is not None:
            problem = FieldProblem(
                "--fields", "picks the columns of Parquet output; name an --out ending in .parquet"
            )
            raise InputError([problem])
        return None
    require_pyarrow("Parquet output")
    if resume:
        problem = FieldProblem(
            "--resume",
            "a Parquet output cannot be resumed (the file is readable only once it is"
            " complete); run again without --resume, or write JSON Lines (.jsonl) to be"
            " able to resume",
        )
        raise InputError([problem])
    return check_fields(fields)


def _check_paths(files: Sequence[Path], out: Path, errors: Path) -> None:
    if out.absolute() == errors.absolute():
        raise InputError([FieldProblem("--errors", "must not be the same file as --out")])
    sources = {f.absolute() for f in files}
    for option, path in (("--out", out), ("--errors", errors)):
        if path.absolute() in sources:
            problem = FieldProblem(option, f"{path} is an input file; it would be overwritten")
            raise InputError([problem])
    BatchFiles(out, errors).check()


def _as_of(as_of: dt.datetime | str | None, pending: Progress | None) -> dt.datetime:
    if as_of is not None:
        return require_aware(as_of)
    if pending is not None:
        return require_aware(str(pending.header["as_of"]))
    raise InputError([FieldProblem("as_of", "required for a fresh run")])


def _check_same_run(recorded: Mapping[str, Any], now: Mapping[str, Any], files: BatchFiles) -> None:
    names = {
        "inputs": "the input files (or their sizes or times)",
        "encoding": "the encoding",
        "policy": "the policy",
        "as_of": "as_of",
        "errors": "the error file",
        "shape": "the data options (--columns, --money-unit, --signals, --events)",
    }
    changed = [
        label
        for key, label in names.items()
        if _jsonish(recorded.get(key)) != _jsonish(now.get(key))
    ]
    if changed:
        problem = FieldProblem(
            "--resume",
            f"this run differs from the interrupted one in {files.progress_path} in "
            + ", ".join(changed)
            + "; run again without --resume to start over",
        )
        raise InputError([problem])


def _jsonish(value: object) -> object:
    return json.loads(json.dumps(value))


def _summary(progress: Progress, out: Path, errors: Path, resumed_at: int) -> BatchSummary:
    decided = sum(progress.counts.get("quadrant", {}).values())
    return BatchSummary(
        rows=progress.rows,
        decided=decided,
        bad=progress.rows - decided,
        counts=progress.counts,
        out=out,
        errors=errors,
        resumed_at=resumed_at,
    )


# -- deciding -------------------------------------------------------------------------

_In = tuple[str, int | None, int | None, dict[str, Any] | None, str | None]
"""A row as sent to a worker: source, line, index, data, and the reason it is bad."""

_Out = tuple[
    bool, bytes | dict[str, Any], tuple[tuple[str, str], ...], str, str, str, dict[str, Any]
]
"""A decided row: ok, its output line (or compact row), its tallies, where and why bad;
and, decided, its case id and its input location."""


def _plain(row: Row) -> _In:
    reason = _reason(row.error) if row.error is not None or row.data is None else None
    return (row.source, row.line, row.index, row.data, reason)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[_In]]:
    chunk: list[_In] = []
    for row in rows:
        chunk.append(_plain(row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(
    engine: Engine,
    when: dt.datetime,
    rows: Iterator[Row],
    outputs: BatchFiles,
    progress: Progress,
    *,
    jobs: int,
    chunk_rows: int,
    on_bad: Callable[[str, str], None] | None,
    on_progress: Callable[[int], None] | None,
    sink: ParquetSink | None = None,
    on_checkpoint: Callable[[Progress], None] | None = None,
    seen: CaseIds | None = None,
) -> Progress:
    """Decide the rows, write each chunk's lines and checkpoint. A decided row whose
    case id a row decided before it holds (``seen``: the ids decided so far) is a bad
    row: no case is decided twice in a run."""
    seen = CaseIds() if seen is None else seen
    counts: dict[str, dict[str, int]] = {k: dict(v) for k, v in progress.counts.items()}
    done = progress.rows
    fields = sink.fields if sink is not None else None
    for decided in _decided_chunks(engine, when, _chunks(rows, chunk_rows), jobs, fields):
        out_lines: list[bytes] = []
        out_rows: list[dict[str, Any]] = []
        err_lines: list[bytes] = []
        for ok, line, tallies, place, reason, case_id, location in decided:
            if ok:
                first = seen.claim(
                    case_id, location["source"], location["line"], location.get("index")
                )
                if first is not None:  # decided before: the row is bad, not decided twice
                    reason = _reason(repeated_case(case_id, first))
                    ok, line = False, _bad(location, place, case_id, reason, "InputError")[1]
            if ok:
                if isinstance(line, dict):
                    out_rows.append(line)
                else:
                    out_lines.append(line)
                for key, value in tallies:
                    tally = counts.setdefault(key, {})
                    tally[value] = tally.get(value, 0) + 1
            else:
                assert isinstance(line, bytes)
                err_lines.append(line)
                _log.warning("bad row %s: %s", place, reason)
                if on_bad is not None:
                    on_bad(place, reason)
        if sink is not None:
            sink._add_compact(out_rows)  # compact_row's own rows: checked by construction
        outputs.write(out_lines, err_lines)
        done += len(decided)
        progress = outputs.checkpoint(attrs.evolve(progress, rows=done, counts=counts))
        if on_checkpoint is not None:
            on_checkpoint(progress)
        if on_progress is not None:
            on_progress(done)
    return progress


def _decided_chunks(
    engine: Engine,
    when: dt.datetime,
    chunks: Iterator[list[_In]],
    jobs: int,
    fields: tuple[str, ...] | None,
) -> Iterator[list[_Out]]:
    if jobs == 1:
        for chunk in chunks:
            yield _decide_chunk(engine, when, chunk, fields)
        return
    # Spawned, not forked: a fork copies the parent's threads' locks as they stand (the
    # interpreter warns about it on 3.12 and later). Each worker builds its engine.
    context = spawn_context()
    recipe = (engine.policy, engine.backend, engine.unknown_signals)
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(recipe, when, fields),
    ) as pool:
        in_flight: collections.deque[Future[list[_Out]]] = collections.deque()
        for chunk in chunks:
            in_flight.append(pool.submit(_worker_chunk, chunk))
            if len(in_flight) >= 2 * jobs:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def spawn_context() -> Any:
    """The multiprocessing context worker processes are spawned in.

    A spawned worker imports the main module again: a script, ``-m`` or ``-c`` can be,
    a program read from standard input cannot (the worker would die at once). That is
    an :class:`InputError` here, before any worker starts.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and not os.path.isfile(path):
        msg = (
            f"worker processes import the main module again, and {quote(path)} is not a file:"
            " run the program from a file, or with one job"
        )
        raise InputError([FieldProblem("jobs", msg)])
    return multiprocessing.get_context("spawn")


class _Worker:
    """The engine and instant of a worker process, set once when the worker starts."""

    engine: Engine | None = None
    when: dt.datetime | None = None
    fields: tuple[str, ...] | None = None


def _start_worker(
    recipe: tuple[Policy, Backend, UnknownSignals],
    when: dt.datetime,
    fields: tuple[str, ...] | None,
) -> None:
    policy, backend, unknown_signals = recipe
    _Worker.engine = Engine(policy, backend=backend, unknown_signals=unknown_signals)
    _Worker.when = when
    _Worker.fields = fields


def _worker_chunk(chunk: list[_In]) -> list[_Out]:
    assert _Worker.engine is not None
    assert _Worker.when is not None
    return _decide_chunk(_Worker.engine, _Worker.when, chunk, _Worker.fields)


def _decide_chunk(
    engine: Engine, when: dt.datetime, chunk: Iterable[_In], fields: tuple[str, ...] | None
) -> list[_Out]:
    """Decide a chunk of rows with :meth:`Engine.decide_many`: one result per row, in order.

    A decided row's output is its JSON line, or with ``fields`` its compact row.
    """
    items = list(chunk)
    results = iter(
        engine.decide_many(
            [it[3] for it in items if it[3] is not None], as_of=when, repeats="decide"
        )
    )
    out: list[_Out] = []
    for source, line, index, data, reason in items:
        place = where(source, line, index)
        location = _location(source, line, index)
        if data is None:
            out.append(_bad(location, place, None, reason or "unreadable row", "InputError"))
            continue
        result = next(results)
        case_id = result.case_id
        if case_id is None and isinstance(data.get("case_id"), str):
            case_id = data["case_id"]
        if result.error is not None:
            kind = type(result.error).__name__
            out.append(_bad(location, place, case_id, _reason(result.error), kind))
            continue
        assert result.decision is not None
        try:
            text: bytes | dict[str, Any] = (
                _decision_line(result.decision, location)
                if fields is None
                else compact_row(result.decision, fields)
            )
        except MemoryError as exc:  # the process's, not the row's: the run stops, resumable
            raise OutOfMemoryError.of(exc) from exc
        except CollectRulesError as exc:  # a decision JSON cannot hold (a section's NaN)
            out.append(_bad(location, place, case_id, _reason(exc), type(exc).__name__))
            continue
        except Exception as exc:  # any failure on one row is that row's error
            message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
            out.append(_bad(location, place, case_id, message, "EngineError"))
            continue
        decided = result.decision
        out.append((True, text, _tallies(decided), place, "", decided.case_id, location))
    return out


def bad_row_line(
    source: str, line: int | None, index: int | None, case_id: str | None, error: BaseException
) -> bytes:
    """The error file's line for a bad row: where it is, its case id, the error and its
    kind, as the batch writes it."""
    location = _location(source, line, index)
    result = _bad(
        location, where(source, line, index), case_id, _reason(error), type(error).__name__
    )[1]
    assert isinstance(result, bytes)
    return result


def error_reason(error: BaseException) -> str:
    """An error as the one-line reason the batch reports."""
    return _reason(error)


def _location(source: str, line: int | None, index: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"source": source, "line": line}
    if index is not None:
        location["index"] = index
    return location


def _decision_line(decision: Decision, location: dict[str, Any]) -> bytes:
    return decision.to_json_bytes(extra={"input": location}) + b"\n"


def _tallies(decision: Decision) -> tuple[tuple[str, str], ...]:
    ignored = decision.ignored_signals
    return (
        ("quadrant", decision.quadrant.value),
        *((f"class:{c.pack}", c.value) for c in decision.regulatory),
        *((f"bucket:{b.bucket_set}", b.bucket) for b in decision.buckets),
        *((("ignored_signals", "cases"),) if ignored else ()),
        *((("ignored_signals", "signals"),) * ignored),
    )


def _bad(location: dict[str, Any], place: str, case_id: str | None, reason: str, kind: str) -> _Out:
    record = {"input": location, "where": place, "case_id": case_id, "error": reason, "kind": kind}
    text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    try:
        line = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the input: escape it
        line = (json.dumps(record, sort_keys=True) + "\n").encode("ascii")
    return (False, line, (), place, reason, "", location)


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unreadable row"
    if isinstance(exc, InputError) and exc.problems:
        text = "; ".join(
            (f"{p.path}: {p.message}" if p.path else p.message)
            + (f" (did you mean {quote(p.suggestion)}?)" if p.suggestion else "")
            for p in exc.problems
        )
    elif isinstance(exc, CollectRulesError):
        text = str(exc).replace("\n", " ")
    else:
        text = f"internal error: {type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
