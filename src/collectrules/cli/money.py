"""``collectrules plan`` and ``collectrules kpis``: repayment plans and collection KPIs."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from collectrules.cli import app
from collectrules.cli._common import (
    DEFAULT_BACKEND,
    DEFAULT_LANG,
    DEFAULT_UNKNOWN_SIGNALS,
    AsOf,
    BackendOption,
    LangOption,
    PolicyOption,
    PolicyPathOption,
    UnknownSignalsOption,
    case_from_row,
    echo,
    echo_json,
    engine_for,
    ignored_line,
    label,
    one_line,
    report_row,
    resolve_as_of,
    warn,
)
from collectrules.cli._common import console as terminal
from collectrules.errors import CollectRulesError, FieldProblem, InputError, quote
from collectrules.io import case_files, read_rows
from collectrules.model.case import parse_date
from collectrules.model.limits import NUMBER_TEXT, NumberLimit, check_number
from collectrules.money import Method, PlanRefusedError, PlanTerms, money_section, propose_plan
from collectrules.money.kpis import (
    GroupBy,
    Kpis,
    Ratio,
    UnmatchedEvent,
    compute_kpis,
    events_from_rows,
    portfolio_from_rows,
    timelines_from_rows,
)
from collectrules.money.terms import Target
from collectrules.policy import available_policies, load_policy

__all__ = ["kpis", "plan"]


class PlanFormat(enum.StrEnum):
    """Output formats of a plan."""

    MARKDOWN = "markdown"
    HTML = "html"
    CSV = "csv"
    JSON = "json"


class KpiFormat(enum.StrEnum):
    """Output formats of the KPIs."""

    TABLE = "table"
    JSON = "json"


def _date(text: str | None, option: str) -> dt.date | None:
    """``option``'s calendar date, written ``YYYY-MM-DD`` as a case's dates are; any
    other form ``date.fromisoformat`` reads (the week date ``2026-W23-1``, the basic
    ``20260601``) is an :class:`InputError` naming the option."""
    if text is None:
        return None
    return parse_date(text, option)


#: The precision an annual rate is written to on the command line: none non-zero below
#: 10⁻¹² (a ten-billionth of a per cent), at most 20 significant digits, 64 characters.
_RATE = NumberLimit("annual rate", maximum=Decimal(10), smallest=Decimal("1E-12"), digits=20)


def _rate(text: str, option: str) -> Decimal | str:
    """``text`` of ``option`` as a decimal, refused when past :data:`_RATE`'s precision.
    ``--rate 1e-400`` was taken, and the agreement stated a rate of 0.000…0001 % in 400
    characters (100,000 for ``1e-100000``). Other mistakes (not a number, negative, 10
    or more) are left to :class:`PlanTerms`, which names them: a text that is no number
    is passed on as it is, for its message to quote it, as is one not in plain decimal
    notation (``1_000``, `` 0.06``), which ``Decimal`` would read."""
    if NUMBER_TEXT.fullmatch(text) is None:
        return text
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    if number.is_finite() and 0 <= number < _RATE.maximum:
        try:
            # The text, not the number: its length is checked, and the message quotes it.
            check_number(text, _RATE)
        except ValueError as exc:
            raise InputError([FieldProblem(option, str(exc))], subject="arguments") from None
    return number


#: ``--months``: ASCII digits only. Click's own integers are Python's ``int()``, which
#: reads ``1_2`` as 12 and takes the digits of other scripts and spaces around them.
_MONTHS = re.compile(r"[0-9]+")


def _months(text: str) -> int:
    """``--months`` as a whole number (its range is :class:`PlanTerms`' to check); a text
    not written in ASCII digits, or of more than six digits, is an :class:`InputError`
    quoting it."""
    if _MONTHS.fullmatch(text) is None:
        msg = f"expected a whole number of months in ASCII digits, got {quote(text)}"
        raise InputError([FieldProblem("--months", msg)], subject="arguments")
    digits = text.lstrip("0")
    if len(digits) > 6:  # past any term, and past what int() reads quickly
        msg = f"expected 1 to 600 months, got {quote(text)}"
        raise InputError([FieldProblem("--months", msg)], subject="arguments")
    # The digits without their leading zeros: int() refuses a text of more than 4,300
    # characters, however many of them are zeros ("000…0006" is 6).
    return int(digits or "0")


#: The option of ``plan`` that gives each field its errors name: the terms' fields, as
#: :class:`PlanTerms` and :func:`propose_plan` name them, and the remedy.
_PLAN_OPTIONS = {
    "kind": "--kind",
    "months": "--months",
    "terms.months": "--months",
    "terms.annual_rate": "--rate",
    "terms.method": "--method",
    "terms.principal": "--principal",
    "terms.penalty_rate": "--penalty-rate",
    "terms.start": "--start",
    "terms.custom_principal": "--custom",
}

#: The words of the library that ``plan``'s errors say in the command line's.
_PLAN_WORDS = (
    ("give terms.principal", "give --principal"),
    ("the date of as_of", "the date of --as-of"),
    ("months of as_of", "months of --as-of"),
)


def _plan_words(message: str) -> str:
    for said, option in _PLAN_WORDS:
        message = message.replace(said, option)
    return message


def _in_options(exc: InputError | PlanRefusedError, case_file: Path) -> CollectRulesError:
    """``exc`` in the words of the ``plan`` command: each field a term of the plan is
    named by its option (``terms.principal`` is ``--principal``), and a field of the
    case by the case file; a refused plan names the option whose figure is over the cap
    (``--kind`` for a remedy the decision blocks or does not allow)."""
    if isinstance(exc, PlanRefusedError):
        named = _PLAN_OPTIONS.get(f"terms.{exc.term}", "--kind") if exc.term else "--kind"
        return PlanRefusedError(
            f"{named}: {_plan_words(str(exc))}",
            rule_id=exc.rule_id,
            figure=exc.figure,
            cap=exc.cap,
            term=exc.term,
        )
    if type(exc) is not InputError:  # a policy's error already names its file
        return exc
    problems = []
    for problem in exc.problems:
        path = _PLAN_OPTIONS.get(problem.path)
        source = problem.source
        if path is None and problem.path and not problem.path.startswith("--"):
            # Not a term: a field of the case (the amount the principal defaults to).
            source = str(case_file) if source is None else source
        problems.append(
            FieldProblem(
                problem.path if path is None else path,
                _plan_words(problem.message),
                source,
                problem.line,
                problem.suggestion,
            )
        )
    return InputError(problems, subject="arguments")


@app.command()
def plan(
    case_file: Annotated[Path, typer.Argument(help="One case, as .json.")],
    kind: Annotated[str, typer.Option(help="extend, replan or restructure")],
    months: Annotated[str, typer.Option(help="Number of monthly instalments.")],
    rate: Annotated[str, typer.Option(help="Annual rate as a fraction: 0.06 is 6 %.")],
    method: Annotated[Method, typer.Option(help="How the principal is repaid.")] = Method.ANNUITY,
    principal: Annotated[
        str | None, typer.Option(help="Financed principal (default: by kind).")
    ] = None,
    penalty_rate: Annotated[
        str | None, typer.Option(help="Annual penalty rate on overdue instalments.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Plan start date, YYYY-MM-DD: as-of's date (the default) or later."),
    ] = None,
    custom: Annotated[
        str | None, typer.Option(help="Custom method: principal per instalment, comma-separated.")
    ] = None,
    policy: PolicyOption = None,
    as_of: AsOf = None,
    output: Annotated[
        PlanFormat, typer.Option("--format", help="markdown, html, csv or json.")
    ] = PlanFormat.MARKDOWN,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
    backend: BackendOption = DEFAULT_BACKEND,
    policy_path: PolicyPathOption = None,
    lang: LangOption = DEFAULT_LANG,
    unknown_signals: UnknownSignalsOption = DEFAULT_UNKNOWN_SIGNALS,
) -> None:
    """Decide a case, then propose the repayment plan of an allowed remedy.

    A plan the decision blocks, or one over a cap of the policy's [money] section, is
    refused with the rule, the figure and the cap (exit status 2). The Markdown and HTML
    drafts are bilingual (Chinese and English, as the agreement is signed); --lang sets
    the language of the command's own lines.
    """
    when = resolve_as_of(as_of)
    engine = engine_for(policy, backend, policy_path, unknown_signals)
    rows = list(read_rows([case_file]))
    if len(rows) != 1 or rows[0].data is None:
        reason = one_line(rows[0].error) if rows and rows[0].error else "expected one case"
        raise InputError([FieldProblem("", reason, source=str(case_file))])
    case = case_from_row(engine, rows[0].data, str(case_file))
    try:
        terms = PlanTerms(
            months=_months(months),
            annual_rate=_rate(rate, "--rate"),
            method=method,
            principal=principal,
            penalty_rate=None if penalty_rate is None else _rate(penalty_rate, "--penalty-rate"),
            start=_date(start, "--start"),
            custom_principal=tuple(c.strip() for c in custom.split(",")) if custom else (),
        )
        decision = engine.decide(case, as_of=when)
        result = propose_plan(
            case, decision, kind=kind, as_of=when, terms=terms, policy=engine.policy
        )
    except (InputError, PlanRefusedError) as exc:  # in the words of the command line
        raise _in_options(exc, case_file) from None
    if output is PlanFormat.JSON:
        text = json.dumps(result.to_dict(), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    elif output is PlanFormat.CSV:
        text = result.to_csv()
    elif output is PlanFormat.HTML:
        text = result.to_html()
    else:
        text = result.to_markdown()
    if out is None:
        echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        echo(
            f"{label('plan for', lang)} {case.case_id} ({kind}, {months} "
            f"{label('months', lang)}) {label('in', lang)} {out}"
        )
    ignored = ignored_line(engine, lang)
    if ignored is not None:
        echo(ignored, err=True)


def _good_rows(paths: Sequence[Path], bad: list[int]) -> Iterator[tuple[str, dict[str, Any]]]:
    for row in read_rows(case_files(list(paths))):
        if row.data is None:
            report_row(row.where, row.error)
            bad.append(1)
            continue
        yield row.where, row.data


def _add_once(into: dict[str, Any], read: Mapping[str, Any], where: str, subject: str) -> None:
    """Add one row's entries (by case id) to ``into``. A case already there is an
    ``InputError``: the row would silently replace the earlier one."""
    again = sorted(set(read) & set(into))
    if again:
        problem = FieldProblem("case_id", f"case {quote(again[0])} appears twice", source=where)
        raise InputError([problem], subject=subject)
    into.update(read)


def _decisions(paths: Sequence[Path], bad: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for where, data in _good_rows(paths, bad):
        try:
            _add_once(out, portfolio_from_rows([(where, data)]), where, "decisions")
        except CollectRulesError as exc:
            report_row(where, exc)
            bad.append(1)
    return out


def _fmt(r: Ratio | None) -> str:
    if r is None:
        return "-"
    value = r.value
    shown = "-" if value is None else f"{value * 100:.2f} %"
    return f"{shown} ({r.numerator}/{r.denominator})"


def _table(title: str, k: Kpis, console: Console, lang: str) -> None:
    def t(text: str) -> str:
        return label(text, lang)

    table = Table(title=f"{title}: {k.cases} {t('case(s)')}")
    table.add_column(t("KPI"))
    table.add_column(t("value (numerator/denominator)"))
    for cur, r in sorted((k.recovery_rate_amount or {}).items()):
        table.add_row(f"{t('recovery rate by amount')} ({cur})", _fmt(r))
    table.add_row(t("recovery rate by count"), _fmt(k.recovery_rate_count))
    table.add_row(t("cure rate"), _fmt(k.cure_rate))
    for bset, matrix in (k.roll_rates or {}).items():
        for frm, row in matrix.items():
            for to, r in row.items():
                table.add_row(f"{t('roll')} {bset}: {frm} → {to}", _fmt(r))
    table.add_row(t("promise-kept rate"), _fmt(k.promise_kept_rate))
    table.add_row(t("contact rate"), _fmt(k.contact_rate))
    table.add_row(t("breached-step rate"), _fmt(k.breached_step_rate))
    for tg in k.targets:
        table.add_row(
            f"{t('target')} {tg.target} ({tg.currency})",
            f"{t('target')} {tg.target_amount}, {t('actual')} {tg.actual}, {t('gap')} {tg.gap}",
        )
    console.print(table)
    for note in k.notes:
        console.print(f"{t('note')}: {note}", markup=False, highlight=False)


@app.command()
def kpis(
    decisions: Annotated[
        list[Path], typer.Argument(help="Closing decisions: JSON Lines from collectrules batch.")
    ],
    previous: Annotated[
        list[Path] | None, typer.Option("--previous", help="Opening decisions, as above.")
    ] = None,
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", help="Events: rows with case_id, kind, at, amount, outcome."),
    ] = None,
    timelines: Annotated[
        list[Path] | None,
        typer.Option("--timelines", help="Timelines: collectrules timeline --format json."),
    ] = None,
    by: Annotated[GroupBy | None, typer.Option("--by", help="Split by group.")] = None,
    owners: Annotated[
        Path | None, typer.Option("--owners", help="Rows with case_id and owner, for --by owner.")
    ] = None,
    bucket_set: Annotated[
        str | None, typer.Option("--bucket-set", help="The bucket set of --by bucket.")
    ] = None,
    policy: PolicyOption = None,
    output: Annotated[KpiFormat, typer.Option("--format")] = KpiFormat.TABLE,
    lang: LangOption = DEFAULT_LANG,
) -> None:
    """Collection KPIs of a portfolio: recovery, cure, roll, promise, contact, targets.

    Targets come from the [money] section of --policy (default: the shipped policy the
    decisions name). Bad rows are reported and left out; the exit status is then 1.
    Event rows whose case no decision has (closing or opening) are counted in a
    warning that names the first five; they alone leave the exit status at 0.
    """
    bad: list[int] = []
    closing = _decisions(decisions, bad)
    opening = _decisions(previous, bad) if previous else None
    found = None
    places: dict[str, list[tuple[int, str]]] = {}
    if events:
        read: dict[str, list[Any]] = {}
        taken = 0  # the event rows read so far
        for where, data in _good_rows(events, bad):
            try:  # row by row, as the timelines: a bad event row is reported and left out
                (case_id, (event,)), *_ = events_from_rows([(where, data)]).items()
            except CollectRulesError as exc:
                report_row(where, exc)
                bad.append(1)
                continue
            # each row is an event of its case, in order, with its place among the rows
            places.setdefault(case_id, []).append((taken, where))
            read.setdefault(case_id, []).append(event)
            taken += 1
        found = {case_id: tuple(items) for case_id, items in read.items()}
    steps: dict[str, tuple[str, ...]] | None = None
    if timelines:
        steps = {}
        for where, data in _good_rows(timelines, bad):
            try:
                _add_once(steps, timelines_from_rows([(where, data)]), where, "timelines")
            except CollectRulesError as exc:
                report_row(where, exc)
                bad.append(1)
    owner_map: dict[str, str] = {}
    if owners is not None:
        for where, data in _good_rows([owners], bad):
            cid, who = data.get("case_id"), data.get("owner")
            if isinstance(cid, str) and isinstance(who, str):
                if cid not in owner_map:
                    owner_map[cid] = who
                    continue
                # A second owner would silently replace the first: the row is refused.
                message = f"case {quote(cid)} is given an owner again: expected one owner per case"
                report_row(where, InputError([FieldProblem("case_id", message)]))
            else:
                report_row(where, InputError([FieldProblem("owner", "expected case_id and owner")]))
            bad.append(1)
    targets: tuple[Target, ...] = ()
    chosen = policy or _policy_named(decisions)
    if chosen is not None:
        section = money_section(load_policy(chosen))
        targets = section.targets if section is not None else ()
    report = compute_kpis(
        closing,
        previous=opening,
        events=found,
        by=by,
        owners=owner_map if owners is not None else None,
        bucket_set=bucket_set,
        targets=targets,
        timelines=steps,
    )
    if output is KpiFormat.JSON:
        echo_json(report.to_dict())
    else:
        console = terminal()
        _table(label("portfolio", lang), report.total, console, lang)
        for group, k in sorted(report.groups.items()):
            _table(f"{report.by.value if report.by else ''} {group}", k, console, lang)
    if report.unmatched_events:
        warn(_unmatched_line(report.unmatched_events, places, lang))
    if bad:
        raise typer.Exit(1)


#: How many unmatched event rows the warning names; it counts them all.
_SHOWN_UNMATCHED = 5


def _unmatched_line(
    unmatched: Sequence[UnmatchedEvent],
    places: Mapping[str, Sequence[tuple[int, str]]],
    lang: str,
) -> str:
    """The warning that counts the event rows whose case no decision has, naming the
    first few in the order they were read (``events.jsonl:3 ('C-9')``); ``places`` holds
    each case's rows as (ordinal, file and line), in the order of its events."""
    rows = sorted((*places[e.case_id][e.index], e.case_id) for e in unmatched)
    first = rows[:_SHOWN_UNMATCHED]
    shown = ", ".join(f"{where} ({quote(case_id)})" for _, where, case_id in first)
    more = ", …" if len(rows) > _SHOWN_UNMATCHED else ""
    text = label("event row(s) name a case that no decision has, left out of the KPIs", lang)
    return f"{len(rows)} {text}: {shown}{more}"


def _policy_named(paths: Sequence[Path]) -> str | None:
    """The shipped policy that the first decision naming a policy names, if any: rows
    that cannot be read, or that name none, are passed over (each is reported as a bad
    row), so that one bad first row does not silently leave out every target."""
    for row in read_rows(case_files(list(paths))):
        ref = (row.data or {}).get("policy")
        if isinstance(ref, dict) and ref.get("id") is not None:
            return str(ref["id"]) if ref.get("id") in available_policies() else None
    return None
