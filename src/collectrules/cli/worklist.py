"""``collectrules worklist``: every step to act on today, by owner and urgency."""

from __future__ import annotations

import csv
import enum
import json
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    Lang,
    LangOption,
    PolicyOption,
    PolicyPathOption,
    ShownConsole,
    UnknownSignalsOption,
    echo,
    engine_for,
    ignored_line,
    label,
    one_line,
    report_row,
    resolve_as_of,
)
from collectrules.cli._common import console as terminal
from collectrules.io import case_files, read_rows
from collectrules.io.reader import Row, row_place
from collectrules.operations.worklist import CSV_FIELDS, DEFAULT_RUN_SIZE, RowFailure, WorkItem
from collectrules.policy import Policy

__all__ = ["worklist"]


class WorklistFormat(enum.StrEnum):
    """Output formats of the worklist."""

    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _status(value: str, lang: Lang) -> str:
    shown = label(value, lang)
    return value if shown == value else f"{shown} {value}"


#: A step's remedy's status in the decision, in Chinese.
_REMEDY_STATUS_ZH = {"allowed": "允许", "blocked": "禁止", "not_granted": "未授予", "none": "无"}


def _remedy(item: WorkItem, policy: Policy, lang: Lang) -> str:
    """The step's remedy with its label from the policy's catalogue, and its status."""
    if item.remedy is None:
        return "-"
    name = item.remedy
    if lang is Lang.ZH and (spec := policy.remedies.get(name)) is not None and spec.label_zh:
        name = f"{name} {spec.label_zh}"
    status = item.remedy_status
    if lang is Lang.ZH and status in _REMEDY_STATUS_ZH:
        status = f"{_REMEDY_STATUS_ZH[status]} {status}"
    text = f"{name}: {status}"
    return text + (f" ({item.blocking_rule})" if item.blocking_rule else "")


def _table(items: list[WorkItem], console: Console, policy: Policy, lang: Lang) -> None:
    by_owner: dict[str, list[WorkItem]] = defaultdict(list)
    spilled: dict[str, list[WorkItem]] = defaultdict(list)
    for item in items:
        (spilled if item.overflow else by_owner)[item.owner].append(item)
    for owner in dict.fromkeys([*by_owner, *spilled]):
        listed = by_owner.get(owner, [])
        over = sorted(spilled.get(owner, []), key=lambda i: i.urgency)
        title = f"{owner}: {len(listed)} {label('line(s)', lang)}" + (
            f", {len(over)} {label('over capacity', lang)}" if over else ""
        )
        table = Table(title=title, title_justify="left")
        for column in ("#", "case", "step", "status", "channel", "due", "limit", "contact from",
                       "remedy", "amount"):  # fmt: skip
            table.add_column(label(column, lang))
        for item in [*listed, *over]:
            emergency = f" [{label('emergency', lang)}]" if item.emergency else ""
            table.add_row(
                label("over", lang) if item.overflow else str(item.rank),
                item.case_id,
                escape(item.step_id + emergency),
                _status(item.status.value, lang),
                item.channel,
                _when(item.due_at),
                _when(item.limit_at),
                _when(item.next_contact_at),
                escape(_remedy(item, policy, lang)),
                f"{item.amount} {item.currency}",
            )
        console.print(table)


class _Places:
    """The file and line of each row given to the worklist, by its place among them (the
    worklist counts only those rows, and names a row, and the first row of a repeated
    case, by that place); 24 bytes a row, the file names held once."""

    def __init__(self) -> None:
        self._sources: dict[str, int] = {}
        self._names: list[str] = []
        self._source = array("q")
        self._line = array("q")
        self._index = array("q")

    def add(self, row: Row) -> None:
        number = self._sources.get(row.source)
        if number is None:
            number = self._sources[row.source] = len(self._names)
            self._names.append(row.source)
        self._source.append(number)
        self._line.append(-1 if row.line is None else row.line)
        self._index.append(-1 if row.index is None else row.index)

    def __getitem__(self, place: int) -> str:
        line, index = self._line[place], self._index[place]
        return row_place(
            self._names[self._source[place]],
            None if line < 0 else line,
            None if index < 0 else index,
        )


@app.command()
def worklist(
    cases: Annotated[
        list[Path],
        typer.Argument(help="Case files: .jsonl, .csv, .json, .parquet, or directories of them."),
    ],
    as_of: AsOf = None,
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    team: Annotated[
        Path | None,
        typer.Option("--team", help="Team file (TOML): segments to owners with capacities."),
    ] = None,
    output: Annotated[
        WorklistFormat, typer.Option("--format", help="table, jsonl or csv.")
    ] = WorklistFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
    backend: BackendOption = DEFAULT_BACKEND,
    encoding: Annotated[str, typer.Option(help="Encoding of the input files.")] = "utf-8",
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
    run_size: Annotated[
        int,
        typer.Option(
            "--run-size",
            help="Lines of owners without a capacity held in memory before a sorted run "
            "goes to a temporary file.",
        ),
    ] = DEFAULT_RUN_SIZE,
    spill_dir: Annotated[
        Path | None,
        typer.Option("--spill-dir", help="Where the sorted runs go (default: the system's temp)."),
    ] = None,
) -> None:
    """Every step that is open, late or breached across a portfolio, most urgent first.

    Each line carries the case, the step and its channel, the due time and hard limit,
    the next time the guardrails allow a contact, the status of the step's remedy in the
    decision, and the owner from the team file. Lines past an owner's capacity are
    listed as overflow, never dropped. Bad rows are reported on standard error and the
    others are listed; with --unknown-signals ignore, a signal of a kind the policy does
    not know is left out and counted in the summary. --lang zh prints the headers,
    statuses and remedy labels in Chinese. The lines are sorted in bounded memory (sorted
    runs of --run-size lines in temporary files, then merged); the table, for people,
    holds them all. Exit status: 0; 2 when an input is missing; 1 when some rows were bad.
    """
    case_files(list(cases))  # a missing input is unusable: exit 2
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    when = resolve_as_of(as_of)
    if as_of is None:
        echo(f"note: no --as-of given; listing at {when.isoformat()}", err=True)
    places = _Places()
    bad = [0]

    def rows() -> Iterator[dict[str, Any]]:
        for row in read_rows(list(cases), encoding=encoding):
            if row.data is None:
                report_row(row.where, row.error)
                bad[0] += 1
                continue
            places.add(row)
            yield row.data

    def on_failure(failure: RowFailure) -> None:
        bad[0] += 1
        text = one_line(failure.error)
        if failure.first_row is not None:
            text = text.replace(
                f"(first at row {failure.first_row})", f"(first at {places[failure.first_row]})"
            )
        echo(f"error: {places[failure.index]}: {text}", err=True)

    wl = engine.worklist(
        rows(),
        as_of=when,
        team=team,
        on_failure=on_failure,
        run_size=run_size,
        spill_dir=spill_dir,
    )
    sink: IO[str] = sys.stdout if out is None else out.open("w", encoding="utf-8", newline="")
    try:
        if output is WorklistFormat.JSONL:
            for item in wl:
                sink.write(json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        elif output is WorklistFormat.CSV:
            writer = csv.DictWriter(sink, fieldnames=list(CSV_FIELDS), lineterminator="\n")
            writer.writeheader()
            for item in wl:
                writer.writerow(item.csv_row())
        else:
            items = list(wl)
            # On a terminal, its width, as every table (docs/cli.md); 200 in a file or pipe.
            console = ShownConsole(file=sink, width=200) if out is not None else terminal()
            _table(items, console, engine.policy, lang)
    finally:
        if out is not None:
            sink.close()
    summary = wl.summary

    def t(text: str) -> str:
        return label(text, lang)

    echo(
        f"{summary.lines} {t('line(s)')} {t('from')} {summary.cases_with_lines} {t('of')} "
        f"{summary.cases} {t('case(s)')}; {summary.overflow} {t('over capacity')}; "
        f"{bad[0]} {t('bad row(s)')}",
        err=True,
    )
    for tally in summary.owners:
        cap = t("no cap") if tally.capacity is None else f"{t('capacity')} {tally.capacity}"
        echo(
            f"  {tally.owner}: {tally.listed} {t('listed')}, {tally.overflow} {t('over')} ({cap})",
            err=True,
        )
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        echo(ignored, err=True)
    if out is not None:
        echo(f"{t('worklist in')} {out}", err=True)
    if bad[0]:
        raise typer.Exit(1)
