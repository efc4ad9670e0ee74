"""``collectrules golden``: write a golden-case file from current decisions."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Annotated

import typer

from collectrules.authoring.golden import GOLDEN_PATTERNS, GoldenEntry, golden_text
from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    ColumnsOption,
    EventsOption,
    LangOption,
    MoneyUnit,
    MoneyUnitOption,
    PolicyOption,
    PolicyPathOption,
    SignalsOption,
    UnknownSignalsOption,
    decided_rows_at,
    echo,
    engine_for,
    ignored_line,
    label,
    resolve_as_of,
    shape_for,
)
from collectrules.errors import FieldProblem, InputError
from collectrules.io import case_files

__all__ = ["golden"]


def _policy_ref(policy: str | None, out: Path) -> str:
    """The policy as the golden file names it: a shipped name, or a path relative to it."""
    if policy is None:
        return "default"
    path = Path(policy)
    if path.is_file():
        # os.path.realpath, not Path.resolve: on Python 3.11 and 3.12 the latter raises
        # RuntimeError for an --out in a loop of symbolic links, which writing the file
        # then reports as the OSError it is.
        here = os.path.dirname(os.path.realpath(out))
        return Path(os.path.relpath(os.path.realpath(path), here)).as_posix()
    return policy


@app.command()
def golden(
    cases: Annotated[
        list[Path], typer.Argument(help="Case files: .json, .jsonl, .csv, or directories.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The golden file to write: golden_*.toml or .json.")
    ],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    backend: BackendOption = DEFAULT_BACKEND,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    columns: ColumnsOption = None,
    money_unit: MoneyUnitOption = MoneyUnit.MAJOR,
    signals: SignalsOption = None,
    events: EventsOption = None,
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Write a golden-case file whose expectations are the current decisions.

    Each case becomes one golden case: its id, its input, the decided quadrant, and every
    remedy allowed and blocked. Review the file before committing it; the pytest plugin
    then runs each case as a test. Bad rows are reported, one line each, and the good
    ones are still written; the exit status is then 1. An existing file is kept unless
    ``--force`` is given. With ``--unknown-signals ignore``, a signal of a kind the
    policy does not know is left out of the case's input (the decision did not read
    it), and counted. Exit status: 0 written, 1 some rows bad, 2 unusable input,
    3 the file could not be written.
    """
    if out.exists() and not force:
        raise InputError(
            [FieldProblem("--out", f"{out} exists; give --force to overwrite it")],
            subject="arguments",
        )
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    files = case_files(cases)
    shape = shape_for(columns, money_unit, signals, events)
    known = engine.policy.signals
    entries: list[GoldenEntry] = []
    counted: list[int] = []
    # A case id given twice is a bad row, reported where it is (decided_rows_at); the
    # first is kept.
    for _, data, case, decision in decided_rows_at(engine, files, shape, when, counted):
        if decision.ignored_signals and isinstance(data.get("signals"), list):
            kept = [s for s in data["signals"] if not isinstance(s, dict) or s.get("kind") in known]
            data = {**data, "signals": kept}
        entries.append(GoldenEntry(case.case_id, data, decision))
    bad = len(counted)
    fmt = "json" if out.suffix.lower() == ".json" else "toml"
    text = golden_text(
        entries, policy=_policy_ref(policy, out), as_of=when, backend=backend.value, fmt=fmt
    )
    out.write_text(text, encoding="utf-8")
    echo(f"{label('wrote', lang)} {len(entries)} {label('golden case(s) to', lang)} {out}")
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        echo(ignored, err=True)
    if not any(fnmatch.fnmatchcase(out.name, p) for p in GOLDEN_PATTERNS):
        patterns = " or ".join(GOLDEN_PATTERNS)
        echo(
            f"warning: {out.name} does not match {patterns}; the pytest plugin collects it "
            "only if the collectrules_golden ini option names it",
            err=True,
        )
    if bad:
        raise typer.Exit(1)
