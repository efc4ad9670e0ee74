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
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    Format,
    Lang,
    LangOption,
    PolicyOption,
    PolicyPathOption,
    UnknownSignalsOption,
    case_from_row,
    console,
    echo,
    echo_json_lines,
    engine_for,
    ignored_line,
    label,
    report_row,
    resolve_as_of,
    shown,
)
from collectrules.errors import CollectRulesError, FieldProblem, InputError, quote
from collectrules.io import case_files, read_rows
from collectrules.io.repeats import CaseIds, repeated_case
from collectrules.policy import Policy
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


def _window(step: Step, lang: Lang) -> str:
    window = step.contact_window
    if window is None:
        return "-"
    text = f"{_when(window.first_at)} → {_when(window.last_at)}"
    return text if window.feasible else f"{text} ({label('no allowed time', lang)})"


def _done(step: Step, lang: Lang) -> str:
    if step.done_at is None or step.done_by is None:
        return "-"
    timing = label("on time" if step.on_time else "late", lang)
    return f"{_when(step.done_at)} {step.done_by.kind.value} ({timing})"


def _status(value: str, lang: Lang) -> str:
    """A step's or a deadline's status in ``lang``; in Chinese with its value beside it."""
    shown = label(value, lang)
    return value if shown == value else f"{shown} {value}"


def _product(policy: Policy, product: str, lang: Lang) -> str:
    """The product with its label from the policy's catalogue, in ``lang``."""
    spec = policy.products.get(product)
    if spec is None:
        return product
    text = spec.label_zh if lang is Lang.ZH else spec.label_en
    return product if text == product else f"{product}, {text}"


def _steps_table(tl: Timeline, lang: Lang) -> Table:
    title = f"{label('steps of plan', lang)} {tl.plan or '(none)'}"
    table = Table(title=title, title_justify="left")
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
        table.add_column(label(column, lang), overflow="fold")
    for step in tl.steps:
        table.add_row(
            step.id,
            Text(_status(step.status.value, lang), style=_STEP_STYLES[step.status]),
            _when(step.opens_at),
            _when(step.due_at),
            _when(step.limit_at),
            _done(step, lang),
            _window(step, lang),
            Text(shown(f"[{step.channel}] {step.action}")),
            Text(shown(step.owner)),
            Text(shown(step.reason or "")),
        )
    return table


def _deadline_row(deadline: Deadline, timezone: str, lang: Lang) -> list[str | Text]:
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
        Text(shown(deadline.title)),
        Text(_status(deadline.status.value, lang), style=_DEADLINE_STYLES[deadline.status]),
        deadline.period,
        Text(shown(deadline.started_by)),
        interrupted or "-",
        last,
        Text(shown(deadline.warning or "")),
        ", ".join(deadline.cites),
    ]


def _deadlines_table(tl: Timeline, lang: Lang) -> Table:
    table = Table(title=label("legal deadlines", lang), title_justify="left")
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
        table.add_column(label(column, lang), overflow="fold")
    for deadline in tl.deadlines:
        table.add_row(*_deadline_row(deadline, tl.timezone, lang))
    return table


def _print_timeline(console: Console, tl: Timeline, policy: Policy, lang: Lang) -> None:
    def t(text: str) -> str:
        return label(text, lang)

    console.print(
        f"[bold]{escape(tl.case_id)}[/bold] ({escape(_product(policy, tl.product, lang))}) "
        f"{t('under')} {tl.policy} {t('at')} "
        f"{tl.as_of.format('YYYY-MM-DD HH:mm')} {tl.timezone}; {t('calendar')} {tl.calendar}"
        + (f", {t('contact hours')} {tl.contact_hours}" if tl.contact_hours else "")
        + f"; {t('times are local')}"
    )
    console.print(f"{t('overdue since')} {_when(tl.overdue_start)}")
    if tl.steps:
        console.print(_steps_table(tl, lang))
    else:
        console.print(f"{t('the policy has no stage plan for product')} {quote(tl.product)}")
    if tl.deadlines:
        console.print(_deadlines_table(tl, lang))
    console.print(f"[bold]{t('what to do next')}[/bold]")
    actions = tl.next_actions
    if not actions:
        console.print(f"  {t('nothing is open, late or breached')}")
    for number, step in enumerate(actions, start=1):
        when = (
            f"{t('due')} {_when(step.due_at)}"
            if step.due_at is not None
            else f"{t('open since')} {_when(step.opens_at)}"
        )
        if step.status is StepStatus.LATE:
            when = f"{t('late since')} {_when(step.due_at)}, {t('limit')} {_when(step.limit_at)}"
        elif step.status is StepStatus.BREACHED:
            when = f"{t('breached since')} {_when(step.limit_at or step.due_at)}"
        window = step.contact_window
        if window is not None and window.last_at is not None and step.status is StepStatus.OPEN:
            when += f", {t('last contact')} {_when(window.last_at)}"
        line = Text(shown(f"  {number}. {step.id} "))
        line.append(_status(step.status.value, lang), style=_STEP_STYLES[step.status])
        line.append(shown(f" ({when}): {step.action} [{step.owner}, {step.channel}]"))
        console.print(line)
    for warning in tl.warnings:
        console.print(Text(shown(f"  warning: {warning}"), style="yellow"))


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
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Plan the collection timeline of a case: steps and their status, legal deadlines,
    and what to do next (open, late and breached steps, soonest first).

    With --format json the output is JSON Lines, one timeline per line; --lang zh
    prints the table headers, statuses and product label in Chinese. Exit status: 0
    planned, 1 some rows bad, 2 unusable input (one bad case, a missing file)."""
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    timelines: list[Timeline] = []
    bad = 0
    rows = list(read_rows(case_files([case_file])))
    if not rows:
        raise InputError([FieldProblem("", "no case in the file", source=str(case_file))])
    seen = CaseIds()  # each case id is planned once, as a batch run decides it once
    for row in rows:
        try:
            if row.error is not None or row.data is None:
                raise row.error or InputError([FieldProblem("", "unreadable row")])
            case = case_from_row(engine, row.data, row.where)
            planned = engine.timeline(case, as_of=when)
            first = seen.claim(case.case_id, row.source, row.line, row.index)
            if first is not None:
                raise repeated_case(case.case_id, first)
            timelines.append(planned)
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
            _print_timeline(out, tl, engine.policy, lang)
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        echo(ignored, err=True)
    if bad:
        raise typer.Exit(1)
