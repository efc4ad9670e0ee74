"""Policy authoring commands: ``check``, ``show``, ``diff``, ``impact`` and ``schema``.

``check`` exits 0 when the policy is clean, 1 when it has errors (a load error such as
an unknown field, or a verifier error such as a gap), and 2 when the input is unusable
(no such file, a syntax error). Warnings never fail the check, unless ``--strict``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from collectrules.authoring import changes
from collectrules.authoring.verify import Finding, verify
from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    AsOf,
    BackendOption,
    ColumnsOption,
    EventsOption,
    MoneyUnit,
    MoneyUnitOption,
    PolicyPathOption,
    SignalsOption,
    load_for,
    progress,
    resolve_as_of,
    shape_for,
    warn,
)
from collectrules.engine.generated import generate_source
from collectrules.errors import EngineLimitError, FieldProblem, InputError, PolicyError
from collectrules.io import Row, case_files, read_rows
from collectrules.model.schema import model_schema_text
from collectrules.policy import HitPolicy, Policy
from collectrules.policy.loader import policy_chain
from collectrules.policy.schema import schema_text

__all__ = ["check", "diff", "impact", "schema", "show"]


class Format(enum.StrEnum):
    """Output formats."""

    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text or json")]

# Problems that mean the file could not be read as a policy at all.
_UNUSABLE = (
    "TOML syntax error",
    "YAML syntax error",
    "YAML tag refused",
    "JSON syntax error",
    "cannot read policy file",
    "no shipped policy named",
    "a policy must be a table of keys",
    "YAML policies need",
)


def _unusable(exc: PolicyError) -> bool:
    return all(p.message.startswith(_UNUSABLE) for p in exc.problems)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False))


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"  [{finding.kind}] {finding.message}"]
    cx = finding.counterexample
    if cx is not None:
        if cx.before is not None:
            lines.append(f"    before: {json.dumps(dict(cx.before), ensure_ascii=False)}")
            lines.append(f"    after:  {json.dumps(dict(cx.case), ensure_ascii=False)}")
        else:
            lines.append(f"    case:   {json.dumps(dict(cx.case), ensure_ascii=False)}")
        lines.append(f"    as_of:  {cx.as_of}")
    return lines


@app.command()
def check(
    policy: Annotated[str, typer.Argument(help="A shipped policy name or a policy file.")],
    fmt: FormatOption = Format.TEXT,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    policy_path: PolicyPathOption = None,
) -> None:
    """Verify a policy: load errors, gaps, overlaps, shadowed rules, conflicts, citations,
    dead parameters and signals, monotonic severity and the ordering of remedies.

    Each finding that a case can show comes with that case, as JSON. Exit status: 0
    clean, 1 errors, 2 unusable input.
    """
    try:
        loaded = load_for(policy, policy_path)
    except PolicyError as exc:
        code = 2 if _unusable(exc) else 1
        _report_load(policy, list(exc.problems), fmt)
        raise typer.Exit(code) from None
    except EngineLimitError as exc:
        _report_load(policy, [FieldProblem("", str(exc), source=policy)], fmt)
        raise typer.Exit(1) from None
    report = verify(loaded)
    failed = not report.ok or (strict and bool(report.warnings))
    if fmt is Format.JSON:
        payload = report.to_dict()
        payload["source"] = loaded.source
        payload["load_errors"] = []
        _echo_json(payload)
        raise typer.Exit(1 if failed else 0)
    typer.echo(f"{loaded.ref} ({loaded.source or policy})")
    if report.errors:
        typer.echo(f"errors ({len(report.errors)}):")
        for f in report.errors:
            typer.echo("\n".join(_finding_lines(f)))
    if report.warnings:
        typer.echo(f"warnings ({len(report.warnings)}):")
        for f in report.warnings:
            typer.echo("\n".join(_finding_lines(f)))
    n_err, n_warn = len(report.errors), len(report.warnings)
    verdict = (
        "clean"
        if not n_err and not n_warn
        else (
            f"{n_err} error{'s' if n_err != 1 else ''}, "
            f"{n_warn} warning{'s' if n_warn != 1 else ''}"
        )
    )
    typer.echo(f"result: {verdict}")
    raise typer.Exit(1 if failed else 0)


def _report_load(policy: str, problems: list[FieldProblem], fmt: Format) -> None:
    if fmt is Format.JSON:
        _echo_json(
            {
                "policy": policy,
                "ok": False,
                "load_errors": [
                    {
                        "source": p.source,
                        "line": p.line,
                        "path": p.path,
                        "message": p.message,
                        "suggestion": p.suggestion,
                        "text": str(p),
                    }
                    for p in problems
                ],
                "errors": [],
                "warnings": [],
            }
        )
        return
    typer.echo(f"{policy}: the policy does not load")
    typer.echo(f"errors ({len(problems)}):")
    for p in problems:
        typer.echo(f"  {p}")
    typer.echo(f"result: {len(problems)} error{'s' if len(problems) != 1 else ''}")


# --------------------------------------------------------------------------- show


def _parameter_origins(chain: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    origins: dict[str, str] = {}
    for source, data in reversed(chain):
        params = data.get("parameters")
        if not isinstance(params, dict):
            continue
        for name in params:
            origins[name] = f"{source} (overrides {origins[name]})" if name in origins else source
    return origins


def _show_payload(loaded: Policy, chain: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    porigins = _parameter_origins(chain)
    disabled = [
        (source, rid)
        for source, data in chain
        for rid in (data.get("disable") or [])
        if isinstance(rid, str)
    ]
    return {
        "policy": loaded.ref,
        "source": loaded.source,
        "extends": [source for source, _ in chain],
        "parameters": [
            {"name": n, "value": p.value, "from": porigins.get(n, loaded.source or "")}
            for n, p in loaded.parameters.items()
        ],
        "signals": [
            {"kind": k, "dimension": s.dimension, "polarity": s.polarity}
            for k, s in loaded.signals.items()
        ],
        "layers": [
            {
                "id": layer.id,
                "output": layer.output,
                "hit_policy": layer.hit_policy.value,
                "values": list(layer.values),
                "default": layer.default,
                "bands": [{"min": m, "value": v} for m, v in layer.bands],
                "rules": [
                    {
                        "id": r.id,
                        "when": r.when.to_text(),
                        "value": r.value,
                        "score": r.score if layer.hit_policy is HitPolicy.COLLECT_SUM else None,
                        "priority": r.priority if layer.hit_policy is HitPolicy.PRIORITY else None,
                        "cites": list(r.cites),
                        "from": r.origin,
                    }
                    for r in layer.rules
                ],
            }
            for layer in loaded.layers
        ],
        "remedies": {
            "conflict": loaded.conflict.value,
            "rules": [
                {
                    "id": r.id,
                    "effect": r.effect.value,
                    "remedies": [str(x) for x in r.remedies],
                    "when": r.when.to_text(),
                    "cites": list(r.cites),
                    "from": r.origin,
                }
                for r in loaded.remedy_rules
            ],
        },
        "disabled": [{"id": rid, "by": source} for source, rid in disabled],
        "sections": sorted(loaded.sections),
    }


@app.command()
def show(
    policy: Annotated[str, typer.Argument(help="A shipped policy name or a policy file.")],
    fmt: FormatOption = Format.TEXT,
    policy_path: PolicyPathOption = None,
    compiled: Annotated[
        bool,
        typer.Option(
            "--compiled",
            help="Print the Python source the python back end generates for the policy.",
        ),
    ] = False,
) -> None:
    """Print the effective policy after ``extends``: every parameter and rule, and the
    file each came from; with ``--compiled``, the generated evaluator's source."""
    loaded = load_for(policy, policy_path)
    if compiled:
        _show_compiled(loaded, fmt)
        return
    payload = _show_payload(loaded, policy_chain(policy, search_path=tuple(policy_path or ())))
    if fmt is Format.JSON:
        _echo_json(payload)
        return
    out: list[str] = [f"{payload['policy']}  {loaded.title}"]
    out.append("extends: " + " -> ".join(payload["extends"]))
    out.append("")
    out.append("parameters:")
    for p in payload["parameters"]:
        out.append(f"  {p['name']} = {p['value']!r}  [{p['from']}]")
    kinds = ", ".join(
        f"{s['kind']} ({s['dimension']}, {s['polarity']})" for s in payload["signals"]
    )
    out.append(f"signals: {kinds or '-'}")
    for layer in payload["layers"]:
        out.append("")
        extra = f", default {layer['default']}" if layer["default"] is not None else ""
        bands = ", ".join(f"{b['value']} from {b['min']:g}" for b in layer["bands"])
        extra += f", bands: {bands}" if bands else ""
        out.append(f"layer {layer['id']} -> {layer['output']} ({layer['hit_policy']}{extra}):")
        for r in layer["rules"]:
            gives = (
                f"score {r['score']:+g}"
                if r["score"] is not None
                else f"= {r['value']}"
                + (f" (priority {r['priority']})" if r["priority"] is not None else "")
            )
            out.append(f"  {r['id']}: {gives} when {r['when'] or 'always'}  [{r['from']}]")
    out.append("")
    out.append(f"remedies (conflict: {payload['remedies']['conflict']}):")
    for r in payload["remedies"]["rules"]:
        out.append(
            f"  {r['id']}: {r['effect']} {', '.join(r['remedies'])} "
            f"when {r['when'] or 'always'}  [{r['from']}]"
        )
    if payload["disabled"]:
        out.append("")
        out.append("disabled: " + ", ".join(f"{d['id']} [{d['by']}]" for d in payload["disabled"]))
    if payload["sections"]:
        out.append(f"sections: {', '.join(payload['sections'])}")
    typer.echo("\n".join(out))


def _show_compiled(loaded: Policy, fmt: Format) -> None:
    """The generated source, and which rule each bit of each match mask stands for."""
    source = generate_source(loaded)
    legend: dict[str, Any] = {
        "layers": [
            {"mask": f"k{i}", "layer": layer.id, "output": layer.output,
             "rules": [r.id for r in layer.rules]}
            for i, layer in enumerate(loaded.layers)
        ],
        "remedies": {"mask": "km", "rules": [r.id for r in loaded.remedy_rules]},
    }  # fmt: skip
    if fmt is Format.JSON:
        _echo_json({"policy": loaded.ref, "source": source, "legend": legend})
        return
    out = [f"# generated evaluator of {loaded.ref}", source.rstrip("\n"), "", "legend:"]
    for entry in legend["layers"]:
        bits = ", ".join(f"{1 << i}={rid}" for i, rid in enumerate(entry["rules"]))
        out.append(f"  {entry['mask']} ({entry['layer']} -> {entry['output']}): {bits}")
    remedies = legend["remedies"]
    bits = ", ".join(f"{1 << i}={rid}" for i, rid in enumerate(remedies["rules"]))
    out.append(f"  {remedies['mask']} (remedies): {bits}")
    typer.echo("\n".join(out))


# --------------------------------------------------------------------------- diff


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The current policy (name or file).")],
    new: Annotated[str, typer.Argument(help="The changed policy (name or file).")],
    fmt: FormatOption = Format.TEXT,
    policy_path: PolicyPathOption = None,
) -> None:
    """List the parameters, signals, layers and rules that differ between two policies.

    Exit status: 0 when nothing that decides a case differs, 1 otherwise (as diff does).
    """
    result = changes.diff_policies(load_for(old, policy_path), load_for(new, policy_path))
    if fmt is Format.JSON:
        _echo_json(result.to_dict())
    else:
        typer.echo(f"--- {result.old}\n+++ {result.new}")
        if result.identical:
            typer.echo("no differences")
        for change in result.changes:
            mark = {"added": "+", "removed": "-"}.get(change.change, "~")
            typer.echo(f"{mark} {change}")
    raise typer.Exit(0 if result.identical else 1)


# --------------------------------------------------------------------------- impact


@app.command()
def impact(
    old: Annotated[str, typer.Argument(help="The champion: the current policy.")],
    new: Annotated[str, typer.Argument(help="The challenger: the changed policy.")],
    cases: Annotated[
        list[Path],
        typer.Argument(help="Cases: .jsonl, .csv, .json or .parquet files, or directories."),
    ],
    as_of: AsOf = None,
    sample: Annotated[int, typer.Option(help="How many changed cases to show.")] = 5,
    fmt: FormatOption = Format.TEXT,
    backend: BackendOption = DEFAULT_BACKEND,
    policy_path: PolicyPathOption = None,
    columns: ColumnsOption = None,
    money_unit: MoneyUnitOption = MoneyUnit.MAJOR,
    signals: SignalsOption = None,
    events: EventsOption = None,
) -> None:
    """Decide the same cases under both policies and show what changes.

    The report gives the quadrant from->to matrix, the remedies gained and lost, and a
    sample of changed cases with both traces; --format json prints it as one JSON
    document. Exit status: 0 every row decided, 1 some rows could not be decided, 2
    unusable input."""
    when = resolve_as_of(as_of)
    champion, challenger = load_for(old, policy_path), load_for(new, policy_path)
    shape = shape_for(columns, money_unit, signals, events)
    rows = list(read_rows(case_files(cases), shape=shape, on_warning=warn))
    if not rows:
        where = ", ".join(str(c) for c in cases)
        raise InputError([FieldProblem("CASES", f"no cases found in {where}")])

    def counted(advance: Callable[[int], None]) -> Iterator[Row]:
        for row in rows:
            yield row
            advance(1)

    with progress(len(rows), "deciding under both policies") as advance:
        report = changes.impact(
            champion,
            challenger,
            counted(advance),
            as_of=when,
            sample=sample,
            backend=backend.value,
        )
    if fmt is Format.JSON:
        _echo_json(report.to_dict())
    else:
        typer.echo(_impact_text(report))
    if report.errors:
        raise typer.Exit(1)


def _impact_text(report: changes.ImpactReport) -> str:
    out = [
        f"champion:   {report.old}",
        f"challenger: {report.new}",
        f"as of:      {report.as_of}",
        f"cases: {report.total}, decided under both: {report.decided}, "
        f"changed: {report.changed}, quadrant changes: {report.quadrant_changes}",
    ]
    quads = list(changes.QUADRANTS)
    out.append("")
    out.append("quadrant, from (rows) -> to (columns):")
    out.append("        " + "".join(f"{q:>8}" for q in quads))
    for a in quads:
        row = "".join(f"{report.matrix.get((a, b), 0):>8}" for b in quads)
        out.append(f"  {a:<6}" + row)
    out.append("")
    gained = ", ".join(
        f"{r} {n}" for r, n in sorted(report.gained.items(), key=lambda x: (-x[1], x[0]))
    )
    lost = ", ".join(
        f"{r} {n}" for r, n in sorted(report.lost.items(), key=lambda x: (-x[1], x[0]))
    )
    out.append(f"remedies gained (cases): {gained or '-'}")
    out.append(f"remedies lost (cases):   {lost or '-'}")
    for side, label in (("old", "champion"), ("new", "challenger")):
        kinds = report.ignored.get(side)
        if kinds:
            shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            out.append(f"signals the {label} does not know, ignored (cases): {shown}")
    if report.sample:
        out.append("")
        out.append(f"sample of changed cases ({len(report.sample)} of {report.changed}):")
        for c in report.sample:
            out.append(
                f"  {c.case_id} ({c.where}): {c.old_quadrant} -> {c.new_quadrant}; "
                f"gained: {', '.join(c.gained) or '-'}; lost: {', '.join(c.lost) or '-'}"
            )
            out.append("    old trace: " + " | ".join(c.old_trace))
            out.append("    new trace: " + " | ".join(c.new_trace))
    if report.errors:
        out.append("")
        out.append(f"rows not decided ({len(report.errors)}):")
        for where, side, error in report.errors:
            out.append(f"  {where} [{side}]: {error}")
    return "\n".join(out)


# --------------------------------------------------------------------------- schema


class SchemaKind(enum.StrEnum):
    """Which JSON Schema ``collectrules schema`` prints."""

    POLICY = "policy"
    CASE = "case"
    DECISION = "decision"


@app.command()
def schema(
    kind: Annotated[
        SchemaKind, typer.Option("--kind", help="policy (default), case or decision")
    ] = SchemaKind.POLICY,
) -> None:
    """Print a JSON Schema: of policy files (for editors and CI), of a case, or of a decision."""
    text = schema_text() if kind is SchemaKind.POLICY else model_schema_text(kind.value)
    typer.echo(text, nl=False)
