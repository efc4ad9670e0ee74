"""``collectrules batch``: decide a portfolio from files into two JSON Lines files.

A thin layer over :func:`collectrules.batch.run_batch`: options, progress on a
terminal, the first bad rows and the summary on standard error, and the exit status:
0 every row decided, 1 some rows bad, 2 unusable input, 3 the outputs could not be
written (a full disk, for example), 4 the run stopped on an unexpected error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from collectrules._allocator import LOW_MEMORY_FLAG, hand_back_freed_pages
from collectrules._arguments import require_file_path
from collectrules.batch import (
    DEFAULT_CHUNK_ROWS,
    BatchFiles,
    BatchSummary,
    OutputError,
    default_errors_path,
    run_batch,
)
from collectrules.batch.compact import FIELDS
from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    EXIT_MEMORY,
    AsOf,
    BackendOption,
    ColumnsOption,
    EventsOption,
    Lang,
    LangOption,
    MoneyUnit,
    MoneyUnitOption,
    PolicyOption,
    PolicyPathOption,
    ShownConsole,
    SignalsOption,
    UnknownSignalsOption,
    echo,
    engine_for,
    label,
    out_of_memory,
    resolve_as_of,
    shape_for,
    warn,
)
from collectrules.errors import CollectRulesError, FieldProblem, InputError, quote
from collectrules.policy import Policy

try:
    from collectrules.frame.files import (
        LOW_MEMORY_CHUNK_ROWS,
        THREADS,
        columnar_inputs,
        run_columnar,
    )
except ImportError:  # the [frame] extra (polars) is not installed
    columnar_inputs = None  # type: ignore[assignment]
    run_columnar = None  # type: ignore[assignment]
    THREADS = LOW_MEMORY_CHUNK_ROWS = 1

__all__ = ["EXIT_INTERNAL", "EXIT_IO", "SHOWN_BAD_ROWS", "batch"]

EXIT_IO = 3
"""The exit status when the outputs cannot be written."""

EXIT_INTERNAL = 4
"""The exit status when the run stops on an unexpected error (a bug, a worker killed)."""

SHOWN_BAD_ROWS = 10
"""Bad rows echoed on standard error; all of them are in the error file."""

_COLUMNAR_CHUNK_ROWS = 50_000
"""The columnar engine's rows in a chunk by default (its ``CHUNK_ROWS``, named here
where Polars is not installed)."""


@app.command()
def batch(
    cases: Annotated[
        list[Path],
        typer.Argument(help="Case files: .jsonl, .csv, .json, .parquet, or directories of them."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Decisions, one JSON object per line; a .parquet name gives a compact"
            " decision table (needs the parquet extra; cannot be resumed).",
        ),
    ],
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors",
            help="Bad rows, one JSON object per line (default: OUT's name with .errors.jsonl).",
        ),
    ] = None,
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    backend: BackendOption = DEFAULT_BACKEND,
    encoding: Annotated[
        str, typer.Option(help="Encoding of the input files: utf-8 (a BOM accepted), gbk, …")
    ] = "utf-8",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 1,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            "--chunk-rows",
            help="Rows decided together: between two checkpoints (per-case; default"
            f" {DEFAULT_CHUNK_ROWS:,}) or in one chunk (columnar; default"
            f" {_COLUMNAR_CHUNK_ROWS:,}: fewer rows, less memory and a slower run).",
        ),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="Columns of the Parquet decision table, comma-separated: "
            + ",".join(FIELDS)
            + " (default: all).",
        ),
    ] = None,
    engine_name: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="columnar (Polars: Parquet or UTF-8 CSV in, the Parquet decision table out;"
            " the default for those; --jobs) or per-case (every format, full decisions,"
            " --resume, --jobs).",
        ),
    ] = None,
    low_memory: Annotated[
        bool,
        typer.Option(
            LOW_MEMORY_FLAG,
            help="The least memory, at some cost in time: the columnar engine decides one"
            " chunk at a time, of 2,000 rows unless --chunk-rows says otherwise, and the"
            " allocators hand freed memory back; not with --jobs.",
        ),
    ] = False,
    columns: ColumnsOption = None,
    money_unit: MoneyUnitOption = MoneyUnit.MAJOR,
    signals: SignalsOption = None,
    events: EventsOption = None,
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Decide a portfolio into a JSON Lines file; bad rows go to the error file.

    Every input row ends up in exactly one of the two files, in input order, with its
    file and line. The files appear only when the run is complete; a killed run is
    continued with --resume. A signal of a kind the policy does not know makes its row
    bad, unless --unknown-signals ignore (per-case engine): then it is left out, and the
    summary counts the cases and signals ignored. --lang zh prints the summary in
    Chinese. Exit status: 0 all rows decided, 1 some rows bad, 2
    unusable input, 3 the outputs could not be written, 4 an unexpected error.
    """
    started = time.perf_counter()
    if low_memory:
        if jobs != 1:
            msg = (
                f"{LOW_MEMORY_FLAG} decides in this process alone: drop --jobs or {LOW_MEMORY_FLAG}"
            )
            raise InputError([FieldProblem("--jobs", msg)])
        hand_back_freed_pages()  # Polars and Arrow loaded already keep their settings
    require_file_path(out, "--out")
    if errors is not None:
        require_file_path(errors, "--errors")
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    shape = shape_for(columns, money_unit, signals, events, encoding)
    data_options = (
        columns is not None
        or str(money_unit) == "minor"
        or bool(signals)
        or bool(events)
        or str(unknown_signals) == "ignore"
        or encoding.lower().replace("_", "-") not in ("utf-8", "utf8")
    )
    columnar = _columnar(engine_name, cases, out, resume, data_options)
    err_path = errors if errors is not None else default_errors_path(out)
    try:
        BatchFiles(out, err_path).check(resumable=not columnar)
    except OutputError as exc:
        _unwritten(exc)
    if columnar:
        _run_columnar(
            cases,
            engine.policy,
            out,
            errors,
            as_of,
            fields,
            jobs,
            chunk_rows,
            started,
            shape.fields,
            low_memory=low_memory,
        )
        return
    pending = BatchFiles(out, err_path).pending() if resume else None
    when = None if pending is not None and as_of is None else resolve_as_of(as_of)
    shown = 0

    def on_bad(where: str, reason: str) -> None:
        nonlocal shown
        if shown < SHOWN_BAD_ROWS:
            echo(f"error: {where}: {reason}", err=True)
        shown += 1

    console = ShownConsole(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("deciding", total=None)
        try:
            summary = run_batch(
                cases,
                engine=engine,
                out=out,
                errors=err_path,
                as_of=when,
                encoding=encoding,
                resume=resume,
                jobs=jobs,
                chunk_rows=DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows,
                on_bad=on_bad,
                on_progress=lambda rows: bar.update(task, completed=rows),
                fields=None if fields is None else [f.strip() for f in fields.split(",")],
                shape=shape,
                on_warning=warn,
            )
        except KeyboardInterrupt:
            echo(
                "interrupted: nothing was published; run the same command with --resume"
                " to continue from the last checkpoint",
                err=True,
            )
            raise typer.Exit(130) from None
        except OutputError as exc:
            if not os.path.exists(BatchFiles(out, err_path).progress_path):
                _unwritten(exc)  # failed before its first checkpoint: nothing to resume
            echo(
                f"error: {exc}. Nothing was published: the rows written so far are in "
                f"{out.name}.partial and {err_path.name}.partial; once the problem is fixed, "
                "run the same command with --resume.",
                err=True,
            )
            raise typer.Exit(EXIT_IO) from None
        except MemoryError as exc:  # as every command reports it, and how to go on
            echo(
                f"{out_of_memory(exc)}. Nothing was published; run the same command with"
                " --resume to continue from the last checkpoint (with fewer --jobs or a"
                " smaller --chunk-rows, it needs less).",
                err=True,
            )
            raise typer.Exit(EXIT_MEMORY) from None
        except CollectRulesError:
            raise
        except Exception as exc:  # a crash is not "some rows bad": say so, and how to go on
            echo(
                f"internal error: {type(exc).__name__}: {exc}. Nothing was published; once"
                " the cause is fixed, run the same command with --resume.",
                err=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None
    elapsed = time.perf_counter() - started
    if shown > SHOWN_BAD_ROWS:
        echo(f"… and {shown - SHOWN_BAD_ROWS} more bad rows in {err_path}", err=True)
    for line in _summary_lines(summary, lang):
        echo(line, err=True)
    done = summary.rows - summary.resumed_at
    rate = f", {done / elapsed:,.0f} rows/s" if elapsed > 0 and done else ""
    echo(f"{label('time taken', lang)}: {elapsed:.1f} s{rate}", err=True)
    if summary.bad:
        raise typer.Exit(1)


def _unwritten(exc: OutputError) -> NoReturn:
    """Report an output the run could not write before it recorded a checkpoint (a
    missing folder, a name too long), and exit with :data:`EXIT_IO`."""
    echo(
        f"error: {exc}. Nothing was published and no checkpoint was recorded, so there is"
        " nothing to --resume; once the problem is fixed, run the command again.",
        err=True,
    )
    raise typer.Exit(EXIT_IO) from None


def _summary_lines(summary: BatchSummary, lang: Lang) -> list[str]:
    """The summary for people, in ``lang``: rows, the tallies, and where the files are."""
    if lang is Lang.EN:
        return summary.lines()

    def t(text: str) -> str:
        return label(text, lang)

    head = f"{summary.rows} {t('rows')}: {summary.decided} {t('decided')}, {summary.bad} {t('bad')}"
    if summary.resumed_at:
        head += f" ({t('resumed after row')} {summary.resumed_at})"
    out = [head]
    for key in sorted(summary.counts, key=lambda k: (k != "quadrant", k)):
        kind, _, name = key.partition(":")
        shown = (
            f"{t(kind)} {name}".strip()
            if kind != "ignored_signals"
            else t("ignored signals (unknown kinds)")
        )
        parts = ", ".join(f"{t(value)} {n}" for value, n in sorted(summary.counts[key].items()))
        out.append(f"  {shown}: {parts}")
    out.append(f"{t('decisions in')} {summary.out}; {t('bad rows in')} {summary.errors}")
    return out


def _columnar(
    name: str | None, cases: list[Path], out: Path, resume: bool, data_options: bool = False
) -> bool:
    """Whether this run uses the columnar engine: asked for, or by default for Parquet
    or CSV input and Parquet output when the engine is installed, no --resume is asked
    and no data option (--columns, --money-unit minor, --signals, --events, an
    --encoding other than UTF-8) reshapes the rows."""
    if name not in (None, "columnar", "per-case"):
        problem = FieldProblem("--engine", f"expected columnar or per-case, got {quote(name)}")
        raise InputError([problem])
    if name == "per-case":
        return False
    if data_options:
        if name == "columnar":
            msg = (
                "the columnar engine reads the cases table as it is, in UTF-8; --columns,"
                " --money-unit minor, --signals, --events, --encoding and --unknown-signals"
                " ignore need --engine per-case"
            )
            raise InputError([FieldProblem("--engine", msg)])
        return False
    if run_columnar is None or columnar_inputs is None:
        if name == "columnar":
            problem = FieldProblem(
                "--engine", "the columnar engine needs polars: pip install 'collectrules[frame]'"
            )
            raise InputError([problem])
        return False
    if name == "columnar":
        if resume:  # the engine writes Parquet only, which no run resumes
            problem = FieldProblem(
                "--resume",
                "the columnar engine's Parquet table cannot be resumed (the file is readable"
                " only once it is complete); run again without --resume, or use --engine"
                " per-case with JSON Lines (.jsonl) output to be able to resume",
            )
            raise InputError([problem])
        return True
    return not resume and out.suffix.lower() == ".parquet" and columnar_inputs(cases) is not None


def _run_columnar(
    cases: list[Path],
    policy: Policy,
    out: Path,
    errors: Path | None,
    as_of: str | None,
    fields: str | None,
    jobs: int,
    chunk_rows: int | None,
    started: float,
    case_fields: Collection[str] | None,
    *,
    low_memory: bool,
) -> None:
    assert run_columnar is not None
    if chunk_rows is None:
        chunk_rows = LOW_MEMORY_CHUNK_ROWS if low_memory else _COLUMNAR_CHUNK_ROWS
    shown = 0

    def on_bad(where: str, reason: str) -> None:
        nonlocal shown
        if shown < SHOWN_BAD_ROWS:
            echo(f"error: {where}: {reason}", err=True)
        shown += 1

    run = run_columnar(
        cases,
        policy=policy,
        out=out,
        errors=errors,
        as_of=resolve_as_of(as_of),
        fields=None if fields is None else [f.strip() for f in fields.split(",")],
        on_bad=on_bad,
        jobs=jobs,
        case_fields=case_fields,
        on_warning=warn,
        chunk_rows=chunk_rows,
        at_once=1 if low_memory else THREADS,
    )
    elapsed = time.perf_counter() - started
    if shown > SHOWN_BAD_ROWS:
        echo(f"… and {shown - SHOWN_BAD_ROWS} more bad rows in {run.batch.errors}", err=True)
    for line in run.lines():
        echo(line, err=True)
    rows = run.batch.rows
    rate = f", {rows / elapsed:,.0f} rows/s" if elapsed > 0 and rows else ""
    echo(f"time taken: {elapsed:.1f} s{rate}", err=True)
    if run.batch.bad:
        raise typer.Exit(1)
