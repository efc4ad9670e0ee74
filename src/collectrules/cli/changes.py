"""``collectrules changes``: what moved between two batch runs of the same portfolio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import attrs
import typer
from rich.console import Console
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_LANG,
    Format,
    Lang,
    LangOption,
    PolicyOption,
    echo,
    label,
    load_for,
    read_decision_rows,
)
from collectrules.cli._common import console as terminal
from collectrules.io import case_files
from collectrules.operations.changes import Moves, RowProblem, RunChanges, compare_runs
from collectrules.policy import available_policies

__all__ = ["changes"]


def _matrix(title: str, moves: Moves, console: Console, lang: Lang) -> None:
    columns = sorted({to for row in moves.counts.values() for to in row} | set(moves.counts))
    moved = f"{moves.moved} {label('of', lang)} {moves.total} {label('moved', lang)}"
    # The title is a line of its own: as a table's title it would wrap at the width of
    # a narrow table ("bucket set NPL (0 of 5" / "moved)") and end in padding.
    console.print(f"{title} ({moved})")
    table = Table()
    table.add_column(label("from \\ to", lang))
    for column in columns:
        table.add_column(column, justify="right")
    rates = moves.rates()
    for frm in sorted(moves.counts):
        cells = []
        for to in columns:
            n = moves.counts[frm].get(to, 0)
            value = rates[frm][to].value if to in rates[frm] else None
            cells.append("" if not n else f"{n} ({value * 100:.1f} %)" if value else str(n))
        table.add_row(frm, *cells)
    console.print(table)


def _tables(result: RunChanges, console: Console, lang: Lang) -> None:
    def t(text: str) -> str:
        return label(text, lang)

    console.print(
        f"{t('compared')} {result.compared} {t('case(s)')} ({result.old_as_of} → "
        f"{result.new_as_of}); {len(result.cases)} {t('changed')}; {len(result.only_old)} "
        f"{t('only in the old run')}, {len(result.only_new)} {t('only in the new run')}"
    )
    _matrix(t("quadrants"), result.quadrants, console, lang)
    for pack, moves in result.classes.items():
        _matrix(f"{t('class')} {pack}", moves, console, lang)
    for bset, moves in result.buckets.items():
        _matrix(f"{t('bucket set')} {bset}", moves, console, lang)
    for title, tally in (
        ("remedies newly allowed", result.newly_allowed),
        ("remedies newly blocked", result.newly_blocked),
        ("steps newly breached", result.newly_breached),
    ):
        shown = ", ".join(f"{k} ×{n}" for k, n in tally.items()) or t("none")
        console.print(f"{t(title)}: {shown}")
    if result.cases:
        console.print(t("cases that changed"))
        table = Table()
        for column in ("case", "quadrant", "classes", "buckets", "allowed", "blocked", "breached"):
            table.add_column(t(column))
        for c in result.cases:
            table.add_row(
                c.case_id,
                "" if c.quadrant is None else " → ".join(c.quadrant),
                ", ".join(f"{p}: {a} → {b}" for p, a, b in c.classes),
                ", ".join(f"{s}: {a} → {b}" for s, a, b in c.buckets),
                ", ".join(c.newly_allowed),
                ", ".join(f"{r} ({rule})" for r, rule in c.newly_blocked),
                ", ".join(c.newly_breached),
            )
        console.print(table)


@app.command()
def changes(
    old: Annotated[
        Path, typer.Argument(help="The earlier run: JSON Lines from collectrules batch.")
    ],
    new: Annotated[Path, typer.Argument(help="The later run of the same portfolio.")],
    policy: PolicyOption = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.TABLE,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """What moved between two runs: quadrants, classes and buckets (roll rates), remedies
    newly allowed or blocked, and steps newly breached, case by case.

    Steps are read from the decisions' ``step_*`` facts (one per step); --policy
    (default: the policy the decisions name, when it is a shipped one) names them by
    stage id. Bad lines are reported on standard error (and listed under ``bad_rows``
    with --format json) and the others compared. Exit
    status: 0; 2 when an input is missing; 1 when some lines were bad.
    """
    # A missing input is unusable: exit 2 (a run of 0 rows writes an empty decisions file).
    case_files([old, new], allow_empty=True)
    bad: list[RowProblem] = []
    before, after = read_decision_rows([old], bad), read_decision_rows([new], bad)
    named = policy
    if named is None:
        ids = {r.policy_id for r in (*before.values(), *after.values())}
        only = next(iter(ids)) if len(ids) == 1 else None
        named = only if only is not None and only in available_policies() else None
    result = compare_runs(before, after, policy=None if named is None else load_for(named))
    result = attrs.evolve(result, problems=(*bad, *result.problems))  # listed in --format json
    if output is Format.JSON:
        echo(json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True, indent=2))
    else:
        _tables(result, terminal(), lang)  # the terminal's width, 200 when piped
    if bad:
        raise typer.Exit(1)
