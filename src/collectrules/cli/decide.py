"""``collectrules decide`` and ``explain``: decide cases and print the decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    AsOf,
    Format,
    PolicyOption,
    PolicyPathOption,
    echo_json,
    engine_for,
    one_line,
    report_row,
    resolve_as_of,
)
from collectrules.cli.clauses import Lang, clause_line
from collectrules.errors import CollectRulesError, FieldProblem, InputError
from collectrules.io import read_rows
from collectrules.model.case import Case
from collectrules.model.decision import Decision
from collectrules.policy.clauses import registry

__all__ = ["decide", "explain"]


def _remedies(decision: Decision) -> tuple[str, str]:
    allowed = ", ".join(str(g.remedy) + ("!" if g.required else "") for g in decision.allowed)
    blocked = ", ".join(f"{b.remedy!s} ({'/'.join(b.cites)})" for b in decision.blocked)
    return allowed or "-", blocked or "-"


@app.command()
def decide(
    cases: Annotated[
        list[Path], typer.Argument(help="Case files: .json, .jsonl, .csv, or directories.")
    ],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
    backend: Annotated[str, typer.Option(help="durable (Rete) or python (compiled)")] = "durable",
) -> None:
    """Decide each case: quadrant, allowed and blocked remedies, and the rules that fired.

    Bad rows are reported, one line each, and the good rows are still decided; the exit
    status is 1 when any row was bad.
    """
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path)
    console = Console(soft_wrap=False, width=200)
    decisions: list[Decision] = []
    bad = 0
    kinds = tuple(engine.policy.signals)
    for row in read_rows(cases):
        if row.error is not None or row.data is None:
            bad += 1
            report_row(row.where, row.error)
            continue
        try:
            case = Case.from_dict(
                row.data, signal_kinds=kinds, source=row.where, products=engine.policy.products
            )
            decisions.append(engine.decide(case, as_of=when))
        except CollectRulesError as exc:
            bad += 1
            report_row(row.where, exc)
    if fmt is Format.JSON:
        payload = [d.to_dict() for d in decisions]
        echo_json(payload if len(payload) != 1 else payload[0])
    else:
        table = Table(title=f"{engine.policy.ref} at {when.isoformat()}")
        for column in ("case", "dpd", "quadrant", "willingness", "ability", "allowed", "blocked"):
            table.add_column(column, overflow="fold")
        for d in decisions:
            allowed, blocked = _remedies(d)
            table.add_row(
                d.case_id,
                str(d.facts.get("dpd", "")),
                f"{d.quadrant.value} {d.quadrant.label_en}",
                d.levels["willingness"].value if "willingness" in d.levels else "",
                d.levels["ability"].value if "ability" in d.levels else "",
                allowed,
                blocked,
            )
        console.print(table)
        if bad:
            typer.echo(f"{len(decisions)} decided, {bad} bad row(s)", err=True)
    if bad:
        raise typer.Exit(1)


@app.command()
def explain(
    case_file: Annotated[Path, typer.Argument(help="One case file (.json).")],
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    as_of: AsOf = None,
    lang: Annotated[Lang, typer.Option("--lang", help="The clause texts' language: en or zh")] = (
        Lang.EN
    ),
) -> None:
    """Explain one decision: every rule that fired, in order, with its citations.

    After the trace and the remedies, each clause cited (by a rule that fired or by a
    blocked remedy) is printed once, in the order first cited, with its statement and
    its source.
    """
    when = resolve_as_of(as_of)
    engine = engine_for(policy, "durable", policy_path)
    rows = list(read_rows([case_file]))
    if len(rows) != 1 or rows[0].data is None:
        reason = one_line(rows[0].error) if rows and rows[0].error else "expected one case"
        raise InputError([FieldProblem("", reason, source=str(case_file))])
    case = Case.from_dict(
        rows[0].data,
        signal_kinds=tuple(engine.policy.signals),
        source=str(case_file),
        products=engine.policy.products,
    )
    d = engine.decide(case, as_of=when)
    console = Console(width=200)
    console.print(
        f"[bold]{d.case_id}[/bold]: {d.quadrant.value} {d.quadrant.label_en} "
        f"({d.quadrant.label_zh}) under {engine.policy.ref} at {when.isoformat()}"
    )
    table = Table(title="trace, in firing order")
    for column in ("#", "rule", "layer", "outcome", "cites", "reason"):
        table.add_column(column, overflow="fold")
    for i, f in enumerate(d.trace, start=1):
        table.add_row(str(i), f.rule_id, f.layer, f.outcome, ", ".join(f.cites), f.reason)
    console.print(table)
    allowed, blocked = _remedies(d)
    console.print(f"allowed: {allowed}")
    console.print(f"blocked: {blocked}")
    cites = [c for f in d.trace for c in f.cites] + [c for b in d.blocked for c in b.cites]
    cited = list(dict.fromkeys(cites))
    if cited:
        known = registry(engine.policy)
        console.print("cited clauses:")
        for cid in cited:
            clause = known.get(cid)
            line = clause_line(clause, lang.value) if clause else f"{cid}: (not a known clause)"
            console.print(f"  {line}", markup=False, highlight=False)
