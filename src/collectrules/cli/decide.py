"""``collectrules decide`` and ``explain``: decide cases and print the decisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    ColumnsOption,
    EventsOption,
    Format,
    Lang,
    LangOption,
    MoneyUnit,
    MoneyUnitOption,
    PolicyOption,
    PolicyPathOption,
    SignalsOption,
    UnknownSignalsOption,
    case_from_row,
    console,
    decided_rows,
    echo,
    echo_json_lines,
    engine_for,
    ignored_line,
    label,
    one_line,
    resolve_as_of,
    shape_for,
)
from collectrules.cli.clauses import clause_line
from collectrules.errors import FieldProblem, InputError
from collectrules.io import case_files, read_rows
from collectrules.model.decision import Decision, LevelResult, presumed_labels
from collectrules.policy.clauses import registry

__all__ = ["decide", "explain"]


def _remedies(decision: Decision) -> tuple[str, str]:
    allowed = ", ".join(str(g.remedy) + ("!" if g.required else "") for g in decision.allowed)
    blocked = ", ".join(f"{b.remedy!s} ({'/'.join(b.cites)})" for b in decision.blocked)
    return allowed or "-", blocked or "-"


def _level(level: LevelResult | None, lang: Lang) -> str:
    """A level's value with its label in ``lang``: ``willing (有还款意愿)``."""
    if level is None:
        return ""
    text = level.label_zh if lang is Lang.ZH else level.label_en
    return f"{level.value} ({text})" if text else level.value


def _quadrant(d: Decision, lang: Lang) -> tuple[str, str]:
    """The quadrant's label in ``lang`` and in the other language, each marked
    presumed when the quadrant level was presumed (docs/evidence.md): the quadrant's
    fixed labels do not say it, its level does."""
    first, second = d.quadrant.label_en, d.quadrant.label_zh
    level = d.levels.get("quadrant")
    if level is not None and level.presumed:
        first, second = presumed_labels(first, second)
    return (second, first) if lang is Lang.ZH else (first, second)


@app.command()
def decide(
    cases: Annotated[
        list[Path],
        typer.Argument(help="Case files: .json, .jsonl, .csv, .parquet, or directories."),
    ],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="table, or json: JSON Lines, one decision a line.")
    ] = Format.TABLE,
    backend: BackendOption = DEFAULT_BACKEND,
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
    columns: ColumnsOption = None,
    money_unit: MoneyUnitOption = MoneyUnit.MAJOR,
    signals: SignalsOption = None,
    events: EventsOption = None,
) -> None:
    """Decide each case: quadrant, allowed and blocked remedies, and the rules that fired.

    With --format json the output is JSON Lines: one decision per line, for one case or
    many. Extra CSV and Parquet columns are ignored with a warning, or mapped with
    --columns. Bad rows are reported, one line each, and the good rows are still
    decided. A signal of a kind the policy does not know makes its row bad, unless
    --unknown-signals ignore: then it is left out and counted on standard error. Exit
    status: 0 all decided, 1 some rows bad, 2 unusable input (a missing file, an unknown
    policy), 3 an I/O failure.
    """
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    files = case_files(cases)
    shape = shape_for(columns, money_unit, signals, events)
    counted: list[int] = []
    made: list[int] = []

    def decisions() -> Iterator[Decision]:
        for _, _, decision in decided_rows(engine, files, shape, when, counted):
            made.append(1)
            yield decision

    decided = decisions()
    if fmt is Format.JSON:
        # Each decision is printed as it is made: memory stays flat however many rows.
        echo_json_lines(d.to_dict() for d in decided)
    else:
        table = Table(title=f"{engine.policy.ref} {label('at', lang)} {when.isoformat()}")
        for column in ("case", "dpd", "quadrant", "willingness", "ability", "allowed", "blocked"):
            table.add_column(label(column, lang), overflow="fold")
        rows = 0
        for d in decided:  # the table keeps each row's text, not its decision
            allowed, blocked = _remedies(d)
            quadrant, _ = _quadrant(d, lang)
            table.add_row(
                d.case_id,
                str(d.facts.get("dpd", "")),
                f"{d.quadrant.value} {quadrant}",
                _level(d.levels.get("willingness"), lang),
                _level(d.levels.get("ability"), lang),
                allowed,
                blocked,
            )
            rows += 1
        console().print(table)
        if counted:
            echo(
                f"{rows} {label('decided', lang)}, {len(counted)} {label('bad row(s)', lang)}",
                err=True,
            )
    if not made and not counted:  # a CSV header without rows, a Parquet schema without rows
        echo(f"0 {label('rows', lang)}: {label('the input holds no cases', lang)}", err=True)
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        echo(ignored, err=True)
    if counted:
        raise typer.Exit(1)


@app.command()
def explain(
    case_file: Annotated[Path, typer.Argument(help="One case file (.json).")],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    lang: LangOption = DEFAULT_LANG,
    backend: BackendOption = DEFAULT_BACKEND,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Explain one decision: every rule that fired, in order, with its citations.

    After the trace and the remedies, each clause cited (by a rule that fired or by a
    blocked remedy) is printed once, in the order first cited, with its statement and
    its source, in the language of --lang. With --unknown-signals ignore, a signal of a
    kind the policy does not know is left out and the count printed. Exit status: 0
    explained, 2 unusable input.
    """
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    rows = list(read_rows(case_files([case_file])))
    if len(rows) != 1 or rows[0].data is None:
        reason = one_line(rows[0].error) if rows and rows[0].error else "expected one case"
        raise InputError([FieldProblem("", reason, source=str(case_file))])
    case = case_from_row(engine, rows[0].data, str(case_file))
    d = engine.decide(case, as_of=when)
    out = console()
    first, second = _quadrant(d, lang)
    out.print(
        f"[bold]{d.case_id}[/bold]: {d.quadrant.value} {first} ({second}) "
        f"{label('under', lang)} {engine.policy.ref} {label('at', lang)} {when.isoformat()}"
    )
    for name, level in d.levels.items():
        if name != "quadrant":
            out.print(f"  {label(name, lang)}: {_level(level, lang)}", highlight=False)
    table = Table(title=label("trace, in firing order", lang))
    for column in ("#", "rule", "layer", "outcome", "cites", "reason"):
        table.add_column(label(column, lang), overflow="fold")
    for i, f in enumerate(d.trace, start=1):
        table.add_row(str(i), f.rule_id, f.layer, f.outcome, ", ".join(f.cites), f.reason)
    out.print(table)
    allowed, blocked = _remedies(d)
    out.print(f"{label('allowed', lang)}: {allowed}")
    out.print(f"{label('blocked', lang)}: {blocked}")
    cites = [c for f in d.trace for c in f.cites] + [c for b in d.blocked for c in b.cites]
    cited = list(dict.fromkeys(cites))
    if cited:
        known = registry(engine.policy)
        out.print(f"{label('cited clauses', lang)}:")
        for cid in cited:
            clause = known.get(cid)
            line = clause_line(clause, lang.value) if clause else f"{cid}: (not a known clause)"
            out.print(f"  {line}", markup=False, highlight=False)
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        out.print(ignored, markup=False, highlight=False)
