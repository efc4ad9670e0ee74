"""``collectrules timeline``: the collection timeline of a case, its deadlines, what next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pendulum
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    AsOf,
    BackendOption,
    Format,
    PolicyOption,
    PolicyPathOption,
    console,
    echo_json_lines,
    engine_for,
    report_row,
    resolve_as_of,
)
from collectrules.errors import CollectRulesError, FieldProblem, InputError
from collectrules.io import case_files, read_rows
from collectrules.model.case import Case
from collectrules.timeline import Step, StepStatus, Timeline
from collectrules.timeline.deadlines import Deadline, DeadlineStatus

__all__ = ["timeline"]


_STEP_STYLES = {
    StepStatus.UPCOMING: "dim",
    StepStatus.OPEN: "cyan",
    StepStatus.LATE: "yellow",
    StepStatus.BREACHED: "bold red",
    StepStatus.DONE: "green",
    StepStatus.SKIPPED: "dim",
    StepStatus.PAUSED: "magenta",
}
_DEADLINE_STYLES = {
    DeadlineStatus.NOT_STARTED: "dim",
    DeadlineStatus.RUNNING: "cyan",
    DeadlineStatus.EXPIRED: "bold red",
    DeadlineStatus.SATISFIED: "green",
}


def _when(at: pendulum.DateTime | None) -> str:
    return "-" if at is None else at.format("YYYY-MM-DD HH:mm")


def _window(step: Step) -> str:
    window = step.contact_window
    if window is None:
        return "-"
    text = f"{_when(window.first_at)} → {_when(window.last_at)}"
    return text if window.feasible else f"{text} (no allowed time)"


def _done(step: Step) -> str:
    if step.done_at is None or step.done_by is None:
        return "-"
    timing = "on time" if step.on_time else "late"
    return f"{_when(step.done_at)} {step.done_by.kind.value} ({timing})"


def _steps_table(tl: Timeline) -> Table:
    table = Table(title=f"steps of plan {tl.plan or '(none)'}", title_justify="left")
    for column in (
        "step",
        "status",
        "opens",
        "due",
        "limit",
        "done",
        "contact window",
        "action",
        "owner",
        "note",
    ):
        table.add_column(column, overflow="fold")
    for step in tl.steps:
        table.add_row(
            step.id,
            Text(step.status.value, style=_STEP_STYLES[step.status]),
            _when(step.opens_at),
            _when(step.due_at),
            _when(step.limit_at),
            _done(step),
            _window(step),
            Text(f"[{step.channel}] {step.action}"),
            Text(step.owner),
            Text(step.reason or ""),
        )
    return table


def _deadline_row(deadline: Deadline, timezone: str) -> list[str | Text]:
    interrupted = ", ".join(
        f"{e.kind.value} {e.at.in_timezone(timezone).date().isoformat()}"
        for e in deadline.interruptions
    )
    last = "-" if deadline.last_day is None else deadline.last_day.isoformat()
    if deadline.moved_for_holiday and deadline.nominal_last_day is not None:
        last += f" (from {deadline.nominal_last_day.isoformat()}, a rest day)"
    if deadline.capped_by_longstop:
        last += " (long stop)"
    return [
        Text(deadline.title),
        Text(deadline.status.value, style=_DEADLINE_STYLES[deadline.status]),
        deadline.period,
        Text(deadline.started_by),
        interrupted or "-",
        last,
        Text(deadline.warning or ""),
        ", ".join(deadline.cites),
    ]


def _deadlines_table(tl: Timeline) -> Table:
    table = Table(title="legal deadlines", title_justify="left")
    for column in (
        "deadline",
        "status",
        "period",
        "runs from",
        "interrupted by",
        "last day (ends 24:00)",
        "warning",
        "cites",
    ):
        table.add_column(column, overflow="fold")
    for deadline in tl.deadlines:
        table.add_row(*_deadline_row(deadline, tl.timezone))
    return table


def _print_timeline(console: Console, tl: Timeline) -> None:
    console.print(
        f"[bold]{escape(tl.case_id)}[/bold] ({tl.product}) under {tl.policy} at "
        f"{tl.as_of.format('YYYY-MM-DD HH:mm')} {tl.timezone}; calendar {tl.calendar}"
        + (f", contact hours {tl.contact_hours}" if tl.contact_hours else "")
        + "; times are local"
    )
    console.print(f"overdue since {_when(tl.overdue_start)}")
    if tl.steps:
        console.print(_steps_table(tl))
    else:
        console.print(f"the policy has no stage plan for product {tl.product!r}")
    if tl.deadlines:
        console.print(_deadlines_table(tl))
    console.print("[bold]what to do next[/bold]")
    actions = tl.next_actions
    if not actions:
        console.print("  nothing is open, late or breached")
    for number, step in enumerate(actions, start=1):
        when = (
            f"due {_when(step.due_at)}"
            if step.due_at is not None
            else f"open since {_when(step.opens_at)}"
        )
        if step.status is StepStatus.LATE:
            when = f"late since {_when(step.due_at)}, limit {_when(step.limit_at)}"
        elif step.status is StepStatus.BREACHED:
            when = f"breached since {_when(step.limit_at or step.due_at)}"
        window = step.contact_window
        if window is not None and window.last_at is not None and step.status is StepStatus.OPEN:
            when += f", last contact {_when(window.last_at)}"
        line = Text(f"  {number}. {step.id} ")
        line.append(step.status.value, style=_STEP_STYLES[step.status])
        line.append(f" ({when}): {step.action} [{step.owner}, {step.channel}]")
        console.print(line)
    for warning in tl.warnings:
        console.print(Text(f"  warning: {warning}", style="yellow"))


@app.command()
def timeline(
    case_file: Annotated[Path, typer.Argument(help="A case file (.json, .jsonl or .csv).")],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="table, or json: JSON Lines, one timeline a line.")
    ] = Format.TABLE,
    backend: BackendOption = DEFAULT_BACKEND,
) -> None:
    """Plan the collection timeline of a case: steps and their status, legal deadlines,
    and what to do next (open, late and breached steps, soonest first).

    With --format json the output is JSON Lines, one timeline per line. Exit status: 0
    planned, 1 some rows bad, 2 unusable input (one bad case, a missing file)."""
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path)
    kinds = tuple(engine.policy.signals)
    timelines: list[Timeline] = []
    bad = 0
    rows = list(read_rows(case_files([case_file])))
    if not rows:
        raise InputError([FieldProblem("", "no case in the file", source=str(case_file))])
    for row in rows:
        try:
            if row.error is not None or row.data is None:
                raise row.error or InputError([FieldProblem("", "unreadable row")])
            case = Case.from_dict(
                row.data, signal_kinds=kinds, source=row.where, products=engine.policy.products
            )
            timelines.append(engine.timeline(case, as_of=when))
        except CollectRulesError as exc:
            if len(rows) == 1:
                raise
            bad += 1
            report_row(row.where, exc)
    if fmt is Format.JSON:
        echo_json_lines(t.to_dict() for t in timelines)
    else:
        out = console()
        for tl in timelines:
            _print_timeline(out, tl)
    if bad:
        raise typer.Exit(1)
