"""Options and helpers shared by the commands."""

from __future__ import annotations

import contextlib
import enum
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import attrs
import pendulum
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from collectrules.cli._labels import ZH
from collectrules.engine import Engine
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    OutOfMemoryError,
    quote,
)
from collectrules.io import RowShape, load_column_map, read_rows
from collectrules.io.repeats import CaseIds, repeated_case
from collectrules.model.case import Case, currency_exponent
from collectrules.model.decision import Decision
from collectrules.model.time import require_aware
from collectrules.operations.changes import RowProblem, read_run
from collectrules.operations.rows import DecisionRow
from collectrules.policy import Policy, load_policy

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_LANG",
    "DEFAULT_UNKNOWN_SIGNALS",
    "EXIT_BAD",
    "EXIT_IO",
    "EXIT_MEMORY",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "AsOf",
    "Backend",
    "BackendOption",
    "ColumnsOption",
    "EventsOption",
    "Format",
    "Lang",
    "LangOption",
    "MoneyUnit",
    "MoneyUnitOption",
    "PolicyOption",
    "PolicyPathOption",
    "SignalsOption",
    "UnknownSignals",
    "UnknownSignalsOption",
    "case_from_row",
    "console",
    "decided_rows",
    "decided_rows_at",
    "echo_json",
    "echo_json_lines",
    "engine_for",
    "ignored_line",
    "label",
    "load_for",
    "one_line",
    "out_of_memory",
    "progress",
    "read_decision_rows",
    "report_row",
    "resolve_as_of",
    "shape_for",
    "warn",
]

EXIT_OK = 0
"""Every command: all went well (a contact allowed, a policy clean, nothing changed)."""
EXIT_BAD = 1
"""Every command: findings (a policy's errors, a diff, a blocked contact) or bad rows."""
EXIT_UNUSABLE = 2
"""Every command: unusable input: a missing file, an unknown option value, a bad policy."""
EXIT_IO = 3
"""Every command: an I/O failure: an output that cannot be written (a full disk)."""
EXIT_MEMORY = 5
"""Every command: the system gave the command less memory than it asked for (a Python
``MemoryError``, anywhere in the command's run)."""


def out_of_memory(exc: MemoryError) -> str:
    """The one line that reports a ``MemoryError``: what ran out, and what to try."""
    if isinstance(exc, OutOfMemoryError) and isinstance(exc.__cause__, MemoryError):
        exc = exc.__cause__  # the system's words, not the wrapper's
    said = str(exc).strip()
    told = f" ({said[:120]})" if said and said != "None" else ""
    return (
        f"error: out of memory{told}: the system did not give the command the memory it"
        " asked for; run it on a smaller input (split the case files) or with more memory"
    )


#: The width of a table when the output is not a terminal and COLUMNS is not set:
#: wide enough that rows stay whole in a file or a pipe.
_PIPED_WIDTH = 200


class Backend(enum.StrEnum):
    """The back ends a command can decide with."""

    PYTHON = "python"
    DURABLE = "durable"


DEFAULT_BACKEND = Backend.PYTHON
"""The back end of every command that decides: the compiled evaluator. ``durable``
decides the same cases the same way, on durable_rules (Rete)."""


class Lang(enum.StrEnum):
    """The language of the command line's labels and clause texts."""

    EN = "en"
    ZH = "zh"


DEFAULT_LANG = Lang.EN
"""The language of every command's labels when ``--lang`` is not given."""


class UnknownSignals(enum.StrEnum):
    """What a command that decides does with a signal whose kind the policy does not know."""

    ERROR = "error"
    IGNORE = "ignore"


DEFAULT_UNKNOWN_SIGNALS = UnknownSignals.ERROR
"""Every command that decides refuses an unknown signal kind unless told to ignore it,
as :class:`~collectrules.engine.Engine` does."""


class MoneyUnit(enum.StrEnum):
    """How the input writes amounts."""

    MAJOR = "major"
    MINOR = "minor"


class Format(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


def one_line(exc: BaseException | None) -> str:
    """An error as one line: each invalid field with its path and any suggestion."""
    if exc is None:
        return "unreadable row"
    if isinstance(exc, InputError):
        return "; ".join(
            (f"{p.path}: {p.message}" if p.path else p.message)
            + (f" (did you mean {quote(p.suggestion)}?)" if p.suggestion else "")
            for p in exc.problems
        )
    return str(exc).replace("\n", " ")


def report_row(where: str, exc: BaseException | None) -> None:
    """Report one bad input row on standard error, on one unwrapped line."""
    echo(f"error: {where}: {one_line(exc)}", err=True)


def read_decision_rows(paths: list[Path], bad: list[RowProblem]) -> dict[str, DecisionRow]:
    """The decision rows of a batch run (JSON Lines files or folders), keyed by case id.

    Each row that cannot be read, or is not a decision, is reported on standard error
    (:func:`report_row`) and added to ``bad``; the good rows are still returned.
    """
    good = []
    for row in read_rows(paths):
        if row.data is None:
            error = row.error or InputError(
                [FieldProblem("", "the row could not be read", row.where)]
            )
            report_row(row.where, error)
            bad.append(RowProblem(row.where, error))
        else:
            good.append((row.where, row.data))
    rows, problems = read_run(good)
    for problem in problems:
        report_row(problem.where, problem.error)
        bad.append(problem)
    return rows


def echo_json(payload: Any) -> None:
    """Print one JSON document, indented; keys sorted, non-ASCII kept."""
    echo(json.dumps(payload, sort_keys=True, ensure_ascii=False, indent=2))


def echo_json_lines(payloads: Iterator[Any] | list[Any]) -> None:
    """Print JSON Lines: one object per line, whether there is one or many; keys sorted."""
    for payload in payloads:
        echo(json.dumps(payload, sort_keys=True, ensure_ascii=False))


#: What a terminal acts on rather than shows: the control characters but tab and
#: newline (ESC starts a sequence that recolours or retitles it; NUL; the C1 controls,
#: CSI among them) and the marks that reorder a line (bidirectional overrides, isolates).
_UNSHOWN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """``text`` with each character a terminal would act on written as its JSON escape
    (``\\u001b``, ``\\u202e``): a case id or a policy's title never recolours, retitles
    or reorders the terminal, nor prints as another; JSON printed stays the same JSON."""
    return _UNSHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """``typer.echo`` of :func:`shown` text: every line the command line prints."""
    typer.echo(shown(message), err=err, nl=nl)


class ShownConsole(Console):
    """A rich console that prints the text it is given as :func:`shown` text (its own
    colours are styles, which it writes itself)."""

    def render_str(self, text: str, **options: Any) -> Text:
        """The text, shown, rendered as rich renders it."""
        return super().render_str(shown(text), **options)


def warn(message: str) -> None:
    """A warning on standard error, on one line."""
    echo(f"warning: {message}", err=True)


#: The narrowest console tables print on; a narrower terminal wraps their lines.
#: ``COLUMNS=0`` gave a width of 0, on which rich prints nothing at all (the decisions
#: vanished, with exit status 0), and at 20 the seven columns of ``decide`` were empty.
MIN_WIDTH = 60


def console() -> Console:
    """The console tables print on: on a terminal, its width (COLUMNS, when set, wins),
    at least :data:`MIN_WIDTH`; piped or to a file, wide enough that rows stay whole."""
    out = ShownConsole(soft_wrap=False)
    if not out.is_terminal:
        return ShownConsole(soft_wrap=False, width=_PIPED_WIDTH)
    return out if out.width >= MIN_WIDTH else ShownConsole(soft_wrap=False, width=MIN_WIDTH)


@contextlib.contextmanager
def progress(total: int | None, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error while the block runs, only on a terminal.

    Yields ``advance(n)``. Nothing is drawn when standard error is not a terminal, so
    logs and pipes stay clean.
    """
    err = ShownConsole(stderr=True)
    bar = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task(what, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def label(text: str, lang: Lang | str) -> str:
    """A label of the command line in ``lang``: the English text, or its Chinese."""
    return ZH.get(text, text) if str(lang) == "zh" else text


def shape_for(
    columns: Path | None,
    money_unit: MoneyUnit | str = MoneyUnit.MAJOR,
    signals: list[Path] | None = None,
    events: list[Path] | None = None,
    encoding: str = "utf-8",
) -> RowShape:
    """The :class:`~collectrules.io.RowShape` of the data options: extra CSV and Parquet
    columns dropped (with a warning), ``--columns`` mapped, ``--money-unit`` and the long
    tables of ``--signals`` and ``--events``."""
    fields = frozenset(a.name for a in attrs.fields(Case))
    return RowShape(
        columns=load_column_map(columns, fields=fields) if columns is not None else {},
        fields=fields,
        money_unit="minor" if str(money_unit) == "minor" else "major",
        exponent=currency_exponent,
        signals=signals or (),
        events=events or (),
        encoding=encoding,
    )


BackendOption = Annotated[
    Backend,
    typer.Option(
        "--backend", help="python (the compiled evaluator) or durable (Rete): the same answers."
    ),
]
LangOption = Annotated[
    Lang,
    typer.Option(
        "--lang",
        help="The language of table headers, labels, statuses and clause texts: en or zh.",
    ),
]
UnknownSignalsOption = Annotated[
    UnknownSignals,
    typer.Option(
        "--unknown-signals",
        help="error (a row with a signal kind the policy does not know is a bad row) or "
        "ignore (decide it without that signal; the count is reported).",
    ),
]
ColumnsOption = Annotated[
    Path | None,
    typer.Option(
        "--columns",
        help="A TOML file mapping your columns to case fields: [columns] loan_no = 'case_id'.",
    ),
]
MoneyUnitOption = Annotated[
    MoneyUnit,
    typer.Option(
        "--money-unit",
        help="major (12.34) or minor (1234: fen, cents; the currency's ISO 4217 digits).",
    ),
]
SignalsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--signals",
        help="A long table of signals (CSV, JSONL, JSON or Parquet: case_id, kind, "
        "observed_at, value, note) joined to the cases; repeat for more.",
    ),
]
EventsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--events",
        help="A long table of events (case_id, kind, at, outcome, amount, …) joined to "
        "the cases; repeat for more.",
    ),
]
PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy", "-p", help="A shipped policy name or a policy file (default: default)."
    ),
]
PolicyPathOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy-path",
        help="A folder that a policy's 'extends' may read files from, besides the policy "
        "file's own folder; repeat for more.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="The instant to decide at, ISO 8601 with an offset (default: now)."
    ),
]


def resolve_as_of(as_of: str | None, option: str = "--as-of") -> pendulum.DateTime:
    """The instant of the option ``option`` (``--as-of``); without one, the current
    instant (the CLI may read the clock). A bad instant is an :class:`InputError` naming
    the option as it was typed."""
    if as_of is None:
        return pendulum.now("UTC")
    try:
        return require_aware(as_of)
    except InputError as exc:
        problems = [attrs.evolve(p, path=option) if p.path == "as_of" else p for p in exc.problems]
        raise InputError(problems, subject=exc.subject) from None


def load_for(policy: str | None, policy_path: list[Path] | None = None) -> Policy:
    """The policy of ``--policy`` (default: the embedded default policy), whose
    ``extends`` may also read from the ``--policy-path`` folders."""
    name = "default" if policy is None else policy  # "" is refused, not the default
    return load_policy(name, search_path=tuple(policy_path or ()))


def engine_for(
    policy: str | None,
    backend: str = DEFAULT_BACKEND,
    policy_path: list[Path] | None = None,
    unknown_signals: str = DEFAULT_UNKNOWN_SIGNALS,
) -> Engine:
    """An engine for ``--policy`` (default: the embedded default policy), deciding with
    ``--backend`` and treating unknown signal kinds as ``--unknown-signals`` says."""
    if backend not in ("durable", "python"):
        raise InputError(
            [FieldProblem("--backend", f"expected durable or python, got {quote(backend)}")]
        )
    if unknown_signals not in ("error", "ignore"):
        msg = f"expected error or ignore, got {quote(unknown_signals)}"
        raise InputError([FieldProblem("--unknown-signals", msg)])
    return Engine(
        load_for(policy, policy_path),
        backend="python" if backend == "python" else "durable",
        unknown_signals="ignore" if unknown_signals == "ignore" else "error",
    )


def case_from_row(engine: Engine, data: Mapping[str, Any], where: str) -> Case:
    """A case from one input row, checked against the engine's policy: its signal kinds
    and its product catalogue. When the engine ignores unknown signals, a kind the policy
    does not know is let through here, to be ignored and counted when decided."""
    kinds: tuple[str, ...] = tuple(engine.policy.signals)
    items = data.get("signals")
    if engine.unknown_signals == "ignore" and isinstance(items, list):
        own = (i.get("kind") for i in items if isinstance(i, Mapping))
        kinds = tuple(dict.fromkeys([*kinds, *(k for k in own if isinstance(k, str))]))
    return Case.from_dict(
        dict(data), signal_kinds=kinds, source=where, products=engine.policy.products
    )


def decided_rows(
    engine: Engine,
    files: list[Path],
    shape: RowShape | None,
    when: pendulum.DateTime,
    bad: list[int],
) -> Iterator[tuple[dict[str, Any], Case, Decision]]:
    """Each good row of ``files`` with its case and its decision at ``when``, in input
    order, under a progress bar. A row that cannot be read, or gives no case or no
    decision, is reported on standard error (:func:`report_row`) and counted in ``bad``;
    the rows after it are still decided. A failure that is no ``CollectRulesError`` (a
    section plug-in's own bug) is such a row too (``internal error: …``)."""
    for _, data, case, decision in decided_rows_at(engine, files, shape, when, bad):
        yield data, case, decision


def decided_rows_at(
    engine: Engine,
    files: list[Path],
    shape: RowShape | None,
    when: pendulum.DateTime,
    bad: list[int],
) -> Iterator[tuple[str, dict[str, Any], Case, Decision]]:
    """:func:`decided_rows`, each row with where it came from (``file:line``).

    Each case id is decided once, as in a batch run: a later row that would be decided
    for an id already decided is a bad row (``case 'C-1' appears twice (decided at
    cases.jsonl:1)``); a row refused for its own reason claims no id."""
    seen = CaseIds()
    with progress(None, "deciding") as advance:
        for row in read_rows(files, shape=shape, on_warning=warn):
            advance(1)
            if row.error is not None or row.data is None:
                bad.append(1)
                report_row(row.where, row.error)
                continue
            try:
                case = case_from_row(engine, row.data, row.where)
                decision = engine.decide(case, as_of=when)
                first = seen.claim(case.case_id, row.source, row.line, row.index)
                if first is not None:
                    raise repeated_case(case.case_id, first)
            except MemoryError as exc:  # the process's, not the row's
                raise OutOfMemoryError.of(exc) from exc
            except CollectRulesError as exc:
                bad.append(1)
                report_row(row.where, exc)
                continue
            except Exception as exc:  # a section plug-in's bug: this row's error only
                bad.append(1)
                report_row(row.where, EngineError.internal(exc))
                continue
            yield row.where, row.data, case, decision


def ignored_line(engine: Engine, lang: Lang | str = DEFAULT_LANG) -> str | None:
    """The line that reports the signals the engine ignored (``--unknown-signals
    ignore``), by kind; ``None`` when it ignored none."""
    stats = engine.stats
    if not stats.ignored_signals:
        return None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(stats.ignored_kinds.items()))
    return f"{label('ignored signals (unknown kinds)', lang)}: {stats.ignored_signals} ({kinds})"
