"""``collectrules contact``: may this contact happen, and if not, when?"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import attrs
import pendulum
import typer
from rich.markup import escape
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_LANG,
    Format,
    Lang,
    LangOption,
    PolicyOption,
    PolicyPathOption,
    echo,
    label,
    load_for,
    one_line,
    resolve_as_of,
)
from collectrules.cli._common import console as terminal
from collectrules.compliance.guardrails import Contact, Guardrails, ReasonEffect, Verdict
from collectrules.engine import Engine
from collectrules.errors import FieldProblem, InputError
from collectrules.io import case_files, read_rows
from collectrules.model.case import Case, Event
from collectrules.model.limits import MAX_EVENTS
from collectrules.operations.contacts import DECISION_PACK, check_contact

__all__ = ["contact"]


_STYLE = {
    ReasonEffect.BLOCK: "red",
    ReasonEffect.CONDITION: "yellow",
    ReasonEffect.OBLIGATION: "cyan",
    ReasonEffect.ALLOW: "green",
}


def _read_case(path: Path, guardrails: Guardrails) -> tuple[Case, dict[str, Any]]:
    rows = list(read_rows([path]))
    if len(rows) != 1 or rows[0].data is None:
        reason = one_line(rows[0].error) if rows and rows[0].error else "expected one case"
        raise InputError([FieldProblem("", reason, source=str(path))], subject="case file")
    data = rows[0].data
    kinds = tuple(guardrails.policy.signals)
    products = guardrails.policy.products
    return Case.from_dict(data, signal_kinds=kinds, source=str(path), products=products), data


def _read_history(
    path: Path, base: dict[str, Any], kinds: tuple[str, ...], known: Sequence[Event]
) -> list[Event]:
    """``known`` (the case's own events) and the events of a JSON Lines (or JSON array)
    file, each checked like a case's event; an event met again is kept once.

    Reading stops at the first row past :data:`MAX_EVENTS` events in all, which is an
    :class:`InputError` naming that row: a longer history is refused whatever follows,
    so it is neither read to its end nor compared event with event."""
    shell = {k: v for k, v in base.items() if k not in ("events", "signals")}
    events = list(known)
    seen = set(events)
    problems: list[FieldProblem] = []
    # A folder without case files is unusable input (exit 2), as for every other
    # command's inputs: read as no history, it made a blocked contact look allowed.
    for row in read_rows(case_files([path])):
        if row.error is not None or row.data is None:
            problems.append(
                FieldProblem(
                    "",
                    one_line(row.error) if row.error else "unreadable row",
                    source=row.where,
                )
            )
            continue
        try:
            case = Case.from_dict({**shell, "events": [row.data]}, signal_kinds=kinds)
        except InputError as exc:
            problems.extend(
                FieldProblem(
                    p.path.replace("events[0].", "").replace("events[0]", ""),
                    p.message,
                    source=row.where,
                    suggestion=p.suggestion,
                )
                for p in exc.problems
            )
            continue
        for event in case.events:
            if event not in seen:
                seen.add(event)
                events.append(event)
        if len(events) > MAX_EVENTS:
            msg = (
                f"more than {MAX_EVENTS:,} events with the case's own; expected at most "
                f"{MAX_EVENTS:,} in all"
            )
            problems.append(FieldProblem("", msg, source=row.where))
            break
    if problems:
        raise InputError(problems, subject=f"history {path}")
    return events


def _print(
    verdict: Verdict,
    guardrails: Guardrails,
    case: Case,
    next_at: str | None,
    obligations: Any,
    lang: Lang,
) -> None:
    def t(text: str) -> str:
        return label(text, lang)

    console = terminal()
    c = verdict.contact
    local = c.at.in_timezone(case.timezone)
    spec = guardrails.policy.products.get(str(case.product))
    product = str(case.product)
    if spec is not None:
        product += f", {spec.label_zh if lang is Lang.ZH else spec.label_en}"
    console.print(
        f"[bold]{escape(case.case_id)}[/bold] ({escape(product)}): {c.channel.value} "
        f"{t('contact with the')} {c.party.value} {t('at')} {local.isoformat()} "
        f"({case.timezone}) {t('under')} {guardrails.policy.ref}; {t('packs')}: "
        f"{', '.join(verdict.packs)}",
        highlight=False,
    )
    word = (
        f"[bold green]{t('ALLOWED')}[/bold green]"
        if verdict.allowed
        else f"[bold red]{t('BLOCKED')}[/bold red]"
    )
    if verdict.allowed and verdict.conditions:
        word += f" [yellow]{t('(with conditions)')}[/yellow]"
    console.print(f"{t('verdict')}: {word}")
    table = Table(title=t("reasons, pack by pack"))
    for column in ("effect", "pack", "rule", "cites", "reason"):
        table.add_column(t(column), overflow="fold")
    for f in verdict.reasons:
        style = _STYLE[f.effect]
        table.add_row(
            f"[{style}]{t(f.effect.value)}[/{style}]",
            f.pack,
            f.rule_id,
            ", ".join(f.cites),
            escape(f.message),
        )
    console.print(table)
    for ob in obligations:
        console.print(
            f"{t('obligation')} ({ob.rule_id}, {', '.join(ob.cites)}): {ob.message}",
            highlight=False,
            markup=False,
        )
    never = (
        t("none while the decision blocks this contact")
        if any(r.pack == DECISION_PACK for r in verdict.blocks)
        else t("no allowed time within the horizon")
    )
    console.print(f"{t('next allowed')}: {next_at or never}", highlight=False)


@app.command()
def contact(
    case_file: Annotated[Path, typer.Argument(help="One case file (.json).")],
    channel: Annotated[str, typer.Option(help="phone, sms, email, app, letter or visit")],
    party: Annotated[
        str,
        typer.Option(help="debtor, guarantor, co_debtor, employer, family or third_party"),
    ] = "debtor",
    at: Annotated[
        str | None,
        typer.Option("--at", help="When, ISO 8601 with an offset (default: now)."),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(help="Prior contact events, JSON Lines; added to the case's own events."),
    ] = None,
    policy: PolicyOption = None,
    policy_path: PolicyPathOption = None,
    purpose: Annotated[
        str | None, typer.Option(help="For a third party: locate, message or collect.")
    ] = None,
    consent: Annotated[
        bool, typer.Option("--consent", help="The debtor consented to this time.")
    ] = False,
    opt_out: Annotated[
        bool | None,
        typer.Option("--opt-out/--no-opt-out", help="An electronic message carries an opt-out."),
    ] = None,
    mentions_suit: Annotated[
        bool, typer.Option("--mentions-suit", help="The message mentions a suit.")
    ] = False,
    with_decision: Annotated[
        bool,
        typer.Option(
            "--decision/--no-decision",
            help="Also block a contact that performs a remedy the case's decision blocks "
            "(default); --no-decision checks the contact packs only.",
        ),
    ] = True,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """Check one planned contact against the policy's contact packs and the case's decision.

    The case is decided at the contact's instant (with the --history events); a contact
    that performs a remedy the decision blocks (court or lawyer's letter: litigate; visit:
    visit; the policy's contact_remedies parameter) is blocked with the decision's rule,
    reason and citations. Prints the verdict with every reason and its citation, and the
    next allowed time; --lang zh prints the headers, the verdict and the effects in
    Chinese. The exit status is 0 when the contact is allowed and 1 when it is blocked.
    """
    when = resolve_as_of(at, "--at")
    guardrails = Guardrails(load_for(policy, policy_path))
    case, data = _read_case(case_file, guardrails)
    events = list(case.events)
    if history is not None:
        events = _read_history(history, data, tuple(guardrails.policy.signals), events)
    planned = Contact(
        channel,
        party,
        when,
        purpose=purpose,
        consent=consent,
        opt_out=opt_out,
        mentions_suit=mentions_suit,
    )
    if with_decision:
        engine = Engine(guardrails.policy, backend="python")
        seen_case = attrs.evolve(case, events=tuple(events))
        decision = engine.decide(seen_case, as_of=when)
        verdict = check_contact(
            case, planned, decision=decision, guardrails=guardrails, history=events
        )
    else:
        verdict = guardrails.check(case, planned, history=events)
    next_at: pendulum.DateTime | None
    if verdict.allowed:
        next_at = verdict.contact.at.in_timezone(case.timezone)
    elif any(r.pack == DECISION_PACK for r in verdict.blocks):
        # No later time lifts the decision's block: a new decision does.
        next_at = None
    else:
        next_at = guardrails.next_allowed(
            case,
            planned.channel,
            planned.party,
            after=when,
            history=events,
            purpose=planned.purpose,
            consent=planned.consent,
            opt_out=planned.opt_out,
            mentions_suit=planned.mentions_suit,
        )
    next_text = next_at.isoformat() if next_at is not None else None
    seen = {f.rule_id for f in verdict.reasons}
    obligations = [
        f
        for f in guardrails.obligations(case, as_of=when, history=events)
        if f.effect is ReasonEffect.OBLIGATION and f.rule_id not in seen
    ]
    if fmt is Format.JSON:
        payload = {
            "verdict": verdict.to_dict(),
            "next_allowed": next_text,
            "obligations": [o.to_dict() for o in obligations],
            "policy": guardrails.policy.ref,
            "decision_checked": with_decision,
        }
        echo(json.dumps(payload, sort_keys=True, ensure_ascii=False, indent=2))
    else:
        _print(verdict, guardrails, case, next_text, obligations, lang)
    if not verdict.allowed:
        raise typer.Exit(1)
