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
from rich.console import Console
from rich.table import Table

from collectrules.authoring import changes
from collectrules.authoring.verify import Finding, verify
from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    ColumnsOption,
    EventsOption,
    Lang,
    LangOption,
    MoneyUnit,
    MoneyUnitOption,
    PolicyPathOption,
    SignalsOption,
    UnknownSignalsOption,
    console,
    echo,
    label,
    load_for,
    progress,
    resolve_as_of,
    shape_for,
    warn,
)
from collectrules.engine.generated import generate_source
from collectrules.errors import EngineLimitError, FieldProblem, InputError, PolicyError, quote
from collectrules.io import Row, case_files, read_rows
from collectrules.model.decision import Quadrant
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
    "policy file larger than",
    "a policy file may nest",
    "no shipped policy named",
    "a policy must be a table of keys",
    "YAML policies need",
)


def _unusable(exc: PolicyError) -> bool:
    return all(p.message.startswith(_UNUSABLE) for p in exc.problems)


def _echo_json(payload: Any) -> None:
    echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False))


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
    lang: LangOption = DEFAULT_LANG,
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
        _report_load(policy, list(exc.problems), fmt, lang)
        raise typer.Exit(code) from None
    except EngineLimitError as exc:
        _report_load(policy, [FieldProblem("", str(exc), source=policy)], fmt, lang)
        raise typer.Exit(1) from None
    report = verify(loaded)
    failed = not report.ok or (strict and bool(report.warnings))
    if fmt is Format.JSON:
        payload = report.to_dict()
        payload["source"] = loaded.source
        payload["load_errors"] = []
        _echo_json(payload)
        raise typer.Exit(1 if failed else 0)
    echo(f"{loaded.ref} ({loaded.source or policy})")
    if report.errors:
        echo(f"{label('errors', lang)} ({len(report.errors)}):")
        for f in report.errors:
            echo("\n".join(_finding_lines(f)))
    if report.warnings:
        echo(f"{label('warnings', lang)} ({len(report.warnings)}):")
        for f in report.warnings:
            echo("\n".join(_finding_lines(f)))
    n_err, n_warn = len(report.errors), len(report.warnings)
    echo(f"{label('result', lang)}: {_verdict(n_err, n_warn, lang)}")
    raise typer.Exit(1 if failed else 0)


def _verdict(n_err: int, n_warn: int, lang: Lang) -> str:
    """``clean``, or the counts of errors and warnings, in ``lang``."""
    if not n_err and not n_warn:
        return label("clean", lang)
    if lang is Lang.ZH:
        return f"{n_err} {label('error(s)', lang)}，{n_warn} {label('warning(s)', lang)}"
    return f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}"


def _report_load(
    policy: str, problems: list[FieldProblem], fmt: Format, lang: Lang = DEFAULT_LANG
) -> None:
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
    echo(f"{policy}: {label('the policy does not load', lang)}")
    echo(f"{label('errors', lang)} ({len(problems)}):")
    for p in problems:
        echo(f"  {p}")
    if lang is Lang.ZH:
        echo(f"{label('result', lang)}: {len(problems)} {label('error(s)', lang)}")
    else:
        echo(f"result: {len(problems)} error{'s' if len(problems) != 1 else ''}")


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
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """Print the effective policy after ``extends``: every parameter and rule, and the
    file each came from; with ``--compiled``, the generated evaluator's source. With
    --lang zh the headings are in Chinese; rule ids, conditions and values are as written."""
    loaded = load_for(policy, policy_path)
    if compiled:
        _show_compiled(loaded, fmt)
        return
    payload = _show_payload(loaded, policy_chain(policy, search_path=tuple(policy_path or ())))
    if fmt is Format.JSON:
        _echo_json(payload)
        return

    def t(text: str) -> str:
        return label(text, lang)

    out: list[str] = [f"{payload['policy']}  {loaded.title}"]
    out.append(f"{t('extends')}: " + " -> ".join(payload["extends"]))
    out.append("")
    out.append(f"{t('parameters')}:")
    for p in payload["parameters"]:
        out.append(f"  {p['name']} = {quote(p['value'])}  [{p['from']}]")
    kinds = ", ".join(
        f"{s['kind']} ({s['dimension']}, {s['polarity']})" for s in payload["signals"]
    )
    out.append(f"{t('signals')}: {kinds or '-'}")
    for layer in payload["layers"]:
        out.append("")
        extra = f", default {layer['default']}" if layer["default"] is not None else ""
        bands = ", ".join(f"{b['value']} from {b['min']:g}" for b in layer["bands"])
        extra += f", bands: {bands}" if bands else ""
        out.append(
            f"{t('layer')} {layer['id']} -> {layer['output']} ({layer['hit_policy']}{extra}):"
        )
        for r in layer["rules"]:
            gives = (
                f"score {r['score']:+g}"
                if r["score"] is not None
                else f"= {r['value']}"
                + (f" (priority {r['priority']})" if r["priority"] is not None else "")
            )
            when = r["when"] or t("always")
            out.append(f"  {r['id']}: {gives} {t('when')} {when}  [{r['from']}]")
    out.append("")
    out.append(f"{t('remedies')} (conflict: {payload['remedies']['conflict']}):")
    for r in payload["remedies"]["rules"]:
        out.append(
            f"  {r['id']}: {r['effect']} {', '.join(r['remedies'])} "
            f"{t('when')} {r['when'] or t('always')}  [{r['from']}]"
        )
    if payload["disabled"]:
        out.append("")
        shown = ", ".join(f"{d['id']} [{d['by']}]" for d in payload["disabled"])
        out.append(f"{t('disabled')}: {shown}")
    if payload["sections"]:
        out.append(f"{t('sections')}: {', '.join(payload['sections'])}")
    echo("\n".join(out))


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
    echo("\n".join(out))


# --------------------------------------------------------------------------- diff


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The current policy (name or file).")],
    new: Annotated[str, typer.Argument(help="The changed policy (name or file).")],
    fmt: FormatOption = Format.TEXT,
    policy_path: PolicyPathOption = None,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """List the parameters, signals, layers and rules that differ between two policies.

    With --lang zh, what changed and how (added, removed, changed) is said in Chinese.
    Exit status: 0 when nothing that decides a case differs, 1 otherwise (as diff does).
    """
    result = changes.diff_policies(load_for(old, policy_path), load_for(new, policy_path))
    if fmt is Format.JSON:
        _echo_json(result.to_dict())
    else:
        echo(f"--- {result.old}\n+++ {result.new}")
        if result.identical:
            echo(label("no differences", lang))
        for change in result.changes:
            mark = {"added": "+", "removed": "-"}.get(change.change, "~")
            head = f"{label(change.change, lang)} {label(change.what, lang)} {change.id}"
            if change.where:
                where = change.where.replace("layer ", f"{label('layer', lang)} ", 1)
                head += f" ({where})"
            details = change.details()
            echo(f"{mark} {head}" + (f": {details}" if details else ""))
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
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Decide the same cases under both policies and show what changes.

    The report gives the quadrant from->to matrix, the remedies gained and lost, and a
    sample of changed cases with both traces; --format json prints it as one JSON
    document. A signal that only one policy knows is ignored by the other and counted;
    one that neither knows makes its row undecided, unless --unknown-signals ignore
    (then both ignore it, and count it). Exit status: 0 every row decided, 1 some rows
    could not be decided, 2 unusable input."""
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
            unknown_signals=unknown_signals.value,
        )
    if fmt is Format.JSON:
        _echo_json(report.to_dict())
    else:
        _print_impact(report, lang, console())
    if report.errors:
        raise typer.Exit(1)


def _matrix(report: changes.ImpactReport, lang: Lang) -> Table:
    """The quadrant from->to matrix: a row per old quadrant, a column per new one."""

    def name(q: str) -> str:
        quadrant = Quadrant(q)
        text = quadrant.label_zh if lang is Lang.ZH else ""
        return f"{q} {text}" if text else q

    table = Table()
    table.add_column(label("from \\ to", lang))
    for q in changes.QUADRANTS:
        table.add_column(name(q), justify="right")
    for a in changes.QUADRANTS:
        counts = [str(report.matrix.get((a, b), 0)) for b in changes.QUADRANTS]
        table.add_row(name(a), *counts)
    return table


def _print_impact(report: changes.ImpactReport, lang: Lang, out: Console) -> None:
    def t(text: str) -> str:
        return label(text, lang)

    def say(text: str = "") -> None:
        out.print(text, markup=False, highlight=False, soft_wrap=True)

    say(f"{t('champion')}:   {report.old}")
    say(f"{t('challenger')}: {report.new}")
    say(f"{t('as of')}:      {report.as_of}")
    say(
        f"{t('cases')}: {report.total}, {t('decided under both')}: {report.decided}, "
        f"{t('changed')}: {report.changed}, {t('quadrant changes')}: {report.quadrant_changes}"
    )
    say()
    say(f"{t('quadrant, from (rows) -> to (columns)')}:")
    out.print(_matrix(report, lang))
    say()
    gained = ", ".join(
        f"{r} {n}" for r, n in sorted(report.gained.items(), key=lambda x: (-x[1], x[0]))
    )
    lost = ", ".join(
        f"{r} {n}" for r, n in sorted(report.lost.items(), key=lambda x: (-x[1], x[0]))
    )
    say(f"{t('remedies gained (cases)')}: {gained or '-'}")
    say(f"{t('remedies lost (cases)')}:   {lost or '-'}")
    for side, who in (("old", "champion"), ("new", "challenger")):
        kinds = report.ignored.get(side)
        if kinds:
            shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            say(f"{t(f'signals the {who} does not know, ignored (cases)')}: {shown}")
    if report.sample:
        say()
        say(f"{t('sample of changed cases')} ({len(report.sample)} {t('of')} {report.changed}):")
        for c in report.sample:
            say(
                f"  {c.case_id} ({c.where}): {c.old_quadrant} -> {c.new_quadrant}; "
                f"{t('gained')}: {', '.join(c.gained) or '-'}; "
                f"{t('lost')}: {', '.join(c.lost) or '-'}"
            )
            say(f"    {t('old trace')}: " + " | ".join(c.old_trace))
            say(f"    {t('new trace')}: " + " | ".join(c.new_trace))
    if report.errors:
        say()
        say(f"{t('rows not decided')} ({len(report.errors)}):")
        for where, side, error in report.errors:
            say(f"  {where} [{side}]: {error}")


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
    echo(text, nl=False)
