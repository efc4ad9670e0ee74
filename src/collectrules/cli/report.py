"""``collectrules report``: the portfolio report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collectrules.cli import app
from collectrules.cli._common import DEFAULT_LANG, LangOption, echo, label, read_decision_rows
from collectrules.io import case_files
from collectrules.operations.changes import RowProblem
from collectrules.operations.report import build_report

__all__ = ["report"]


@app.command()
def report(
    decisions: Annotated[
        list[Path], typer.Argument(help="Decisions: JSON Lines from collectrules batch.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")],
    previous: Annotated[
        list[Path] | None,
        typer.Option("--previous", help="An earlier run of the same portfolio, as above."),
    ] = None,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """Write the portfolio report: counts and amounts by quadrant, class and bucket, a
    quadrant × bucket heat map, remedies allowed and blocked, steps late or breached by
    age, and with --previous the quadrant moves and roll rates.

    One HTML file with its JavaScript inlined: it opens in a browser with no network.
    Bad lines are reported on standard error and the others shown. Exit status: 0, or 1
    when some lines were bad.
    """
    # A missing input is unusable: exit 2 (a run of 0 rows writes an empty decisions file).
    case_files([*decisions, *(previous or [])], allow_empty=True)
    bad: list[RowProblem] = []
    rows = read_decision_rows(list(decisions), bad)
    before = None if not previous else read_decision_rows(list(previous), bad)
    text = build_report(rows, previous=before, lang=lang.value)
    out.write_text(text, encoding="utf-8")
    cases = f"{len(rows)} {label('case(s)', lang)}"
    echo(f"{label('report of', lang)} {cases} {label('in', lang)} {out}", err=True)
    if bad:
        raise typer.Exit(1)
