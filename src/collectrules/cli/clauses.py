"""``collectrules clauses``: show the cited clauses, with their statements and sources."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_LANG,
    Format,
    Lang,
    LangOption,
    PolicyPathOption,
    echo_json,
    label,
    load_for,
)
from collectrules.cli._common import console as terminal
from collectrules.errors import FieldProblem, InputError
from collectrules.policy.clauses import Clause, ClauseRegistry, registry

__all__ = ["Lang", "clause_line", "clauses", "select_clauses"]


def select_clauses(known: ClauseRegistry, ids: list[str]) -> list[Clause]:
    """The clauses named by ``ids`` (every clause when empty), in the order given.

    An unknown id is an :class:`~collectrules.errors.InputError` naming it, with the
    closest known id as a did-you-mean hint; every unknown id is reported at once.
    """
    if not ids:
        return [known.clauses[cid] for cid in known]
    problems = [
        FieldProblem(cid, "unknown clause id", suggestion=known.suggest(cid))
        for cid in ids
        if cid not in known
    ]
    if problems:
        raise InputError(problems, subject="clause ids")
    return [known.clauses[cid] for cid in ids]


def clause_source(clause: Clause) -> str:
    """Where a clause is stated: its source, section, and V/S status when it has one."""
    parts = [clause.source]
    if clause.section and clause.section != "REGULATION.md":
        parts.append(clause.section)
    if clause.status:
        parts.append(f"status {clause.status}")
    return ", ".join(parts)


def clause_line(clause: Clause, lang: str) -> str:
    """One line for a citation: the id, the statement, and the source in brackets."""
    return f"{clause.id}: {clause.text(lang)} [{clause_source(clause)}]"


@app.command("clauses")
def clauses(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Clause ids, such as Q1 or CN-LIMITATION (default: all)."),
    ] = None,
    lang: LangOption = DEFAULT_LANG,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            "-p",
            help="Also show this policy's own clauses (a shipped policy name or a policy file).",
        ),
    ] = None,
    policy_path: PolicyPathOption = None,
) -> None:
    """Show clauses: what each says (in English or Chinese) and where it is stated.

    The clauses are those of DOMAIN.md (the source manuals, restated) and REGULATION.md
    (law and regulation), plus, with ``--policy``, the policy's own. An unknown id is an
    error with exit status 2, and names the closest known id.
    """
    known = registry(load_for(policy, policy_path) if policy else None)
    chosen = select_clauses(known, list(ids or []))
    if fmt is Format.JSON:
        echo_json([c.to_dict() for c in chosen])
        return
    console = terminal()
    if lang is Lang.ZH:
        title = f"{len(chosen)} {label('clause(s)', lang)}"
    else:
        title = f"{len(chosen)} clause{'s' if len(chosen) != 1 else ''}"
    table = Table(title=title)
    for column in ("id", "statement", "source"):
        table.add_column(label(column, lang), overflow="fold")
    for c in chosen:
        table.add_row(c.id, c.text(lang.value), clause_source(c))
    console.print(table)
