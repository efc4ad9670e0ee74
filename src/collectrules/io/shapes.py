"""Data in the shapes lenders hold: column maps, money in minor units, long tables.

A :class:`RowShape` says how the rows of a lender's files become the plain data a case
is read from. It is applied by :func:`~collectrules.io.read_rows` to every row, after
the row is parsed and before it is structured:

* ``columns`` renames the lender's columns (or keys) to case fields: ``{"loan_no":
  "case_id", "ccy": "currency"}``. :func:`load_column_map` reads it from a TOML file
  (``[columns]`` table, their column → case field), with file and line in its errors.
* ``fields`` names the fields a case has. A column of a CSV or Parquet file that is
  neither a case field nor mapped to one is dropped, and the file's extra columns are
  named once in a warning (``on_warning`` and the ``collectrules`` logger). Without
  ``fields`` every column is kept, and an extra one is an error of each row, as in JSON.
* ``money_unit="minor"`` reads every amount (``principal``, ``overdue_amount``, each
  event's and fee's ``amount``) as a whole number of the currency's minor units: fen,
  cents, or yen (``exponent`` gives the digits of a currency: 2 for CNY, 0 for JPY, 3
  for KWD). A fraction of a minor unit is an error of the row, naming the field.
* ``signals`` and ``events`` are long tables: files (CSV, JSON Lines, JSON or Parquet)
  with one row per signal or event and a ``case_id`` column (``case_id, kind,
  observed_at, value, note`` for signals; ``case_id, kind, at, outcome, amount, …``
  for events). They are read whole when the shape is first used, and each case gets
  the rows with its id, in file order, after any it carries itself. A long-table row
  with a bad value spoils only its case (the case's error names ``signals[i]``); one
  without a ``case_id``, or unreadable, is a bad row of its own, with its file and line;
  rows whose ``case_id`` no case has are named in a warning at the end.

Nothing here knows the case model: :mod:`collectrules.io` sits beside
:mod:`collectrules.model`, so the case fields and the currency exponents are given to
the shape by the caller (the command line builds its shape from
:class:`~collectrules.model.case.Case`).
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import attrs

from collectrules._arguments import (
    require_named_path,
    require_optional_callable,
    require_text,
    require_texts,
    source_name,
    wrong_kind,
)
from collectrules._decimal import exact
from collectrules._files import MAX_SMALL_FILE_BYTES, UnreadableFile, read_small_file
from collectrules._number_text import NUMBER_TEXT
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.io.arrow import checked_paths, is_data, not_a_path

__all__ = [
    "LONG_TABLE_KEY",
    "MONEY_FIELDS",
    "MoneyUnit",
    "RowShape",
    "ignored_columns",
    "load_column_map",
]

_log = logging.getLogger("collectrules")

MoneyUnit = Literal["major", "minor"]
"""How amounts are written: ``major`` (12.34 yuan) or ``minor`` (1234 fen)."""

MONEY_FIELDS = ("principal", "overdue_amount")
"""The case's own amounts; each event's and each fee's ``amount`` is money too."""

LONG_TABLE_KEY = "case_id"
"""The column that joins a long table's row to its case."""

#: The fields of a case that are lists, filled from long tables.
_LISTS = ("signals", "events")


def _frozen_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    if value is None:
        return {}
    expected = "a mapping of column names to case fields"
    if not isinstance(value, Mapping):
        raise wrong_kind("columns", value, expected)
    for column, field in value.items():
        if not isinstance(column, str) or not isinstance(field, str):
            raise wrong_kind(f"columns.{column}", field, "a case field's name")
    return dict(value)


def _fields(value: Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(require_texts(value, "fields", "a collection of case field names"))


def _signal_paths(value: Sequence[str | Path] | None) -> tuple[Path, ...]:
    return () if value is None else tuple(checked_paths(value, "signals"))


def _event_paths(value: Sequence[str | Path] | None) -> tuple[Path, ...]:
    return () if value is None else tuple(checked_paths(value, "events"))


@attrs.frozen
class _LongRow:
    """A long-table row as a case list item, and where it was read."""

    where: str
    item: dict[str, Any]


@attrs.define
class RowShape:
    """How the rows of the lender's files map to case data (see the module docstring)."""

    columns: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    fields: frozenset[str] | None = attrs.field(default=None, converter=_fields)
    money_unit: MoneyUnit = "major"
    exponent: Callable[[str], int] | None = None
    signals: tuple[Path, ...] = attrs.field(factory=tuple, converter=_signal_paths)
    events: tuple[Path, ...] = attrs.field(factory=tuple, converter=_event_paths)
    encoding: str = "utf-8"
    _long: dict[str, dict[str, list[_LongRow]]] | None = attrs.field(
        default=None, init=False, repr=False
    )
    _claimed: set[str] = attrs.field(factory=set, init=False, repr=False)
    _warned: set[str] = attrs.field(factory=set, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.money_unit, str) or self.money_unit not in ("major", "minor"):
            problem = FieldProblem(
                "--money-unit", f"expected major or minor, got {quote(self.money_unit)}"
            )
            raise InputError([problem])
        require_optional_callable(self.exponent, "exponent")
        require_text(self.encoding, "encoding", "the name of a text encoding")
        if self.money_unit == "minor" and self.exponent is None:
            problem = FieldProblem("--money-unit", "minor units need the currency exponents")
            raise InputError([problem])
        if self.fields is not None:
            unknown = sorted(set(self.columns.values()) - self.fields)
            if unknown:
                raise InputError(
                    [
                        FieldProblem(
                            f"columns.{k}",
                            f"maps to {quote(v)}, which is not a case field",
                            suggestion=did_you_mean(v, self.fields),
                        )
                        for k, v in self.columns.items()
                        if v in unknown
                    ],
                    subject="the column map",
                )

    @property
    def is_plain(self) -> bool:
        """Whether the shape changes nothing (rows are read as they are)."""
        return (
            not self.columns
            and self.fields is None
            and self.money_unit == "major"
            and not self.signals
            and not self.events
        )

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the shape for a resumable batch: same fingerprint, same rows."""
        return {
            "columns": [list(item) for item in sorted(self.columns.items())],
            "fields": sorted(self.fields) if self.fields is not None else None,
            "money_unit": self.money_unit,
            "signals": [_stat(p) for p in self.signals],
            "events": [_stat(p) for p in self.events],
        }

    # ----------------------------------------------------------------- rows

    def apply(
        self,
        data: dict[str, Any],
        where: str,
        *,
        source: str,
        tabular: bool,
        on_warning: Callable[[str], None] | None = None,
    ) -> tuple[dict[str, Any] | None, InputError | None]:
        """The case data of one parsed row, or the error that spoils it.

        ``tabular`` rows (CSV, Parquet, frames) have their unknown columns dropped, with
        one warning per ``source``; other rows keep them, to be refused as in JSON.
        """
        if self.columns:
            data = {self.columns.get(k, k): v for k, v in data.items()}
        if tabular and self.fields is not None:
            extra = [k for k in data if k not in self.fields]
            if extra:
                self._warn_once(source, extra, on_warning)
                data = {k: v for k, v in data.items() if k in self.fields}
        problems: list[FieldProblem] = []
        if self.signals or self.events:
            self._join(data)
        if self.money_unit == "minor":
            problems.extend(self._to_major(data, where))
        if problems:
            return None, InputError(problems, subject=f"row {where}")
        return data, None

    def unclaimed(self) -> list[str]:
        """Where each long-table row is that no case read so far claimed."""
        long = self._long or {}
        return [
            row.where
            for table in long.values()
            for case_id, rows in table.items()
            if case_id not in self._claimed
            for row in rows
        ]

    def _warn_once(
        self, source: str, extra: list[str], on_warning: Callable[[str], None] | None
    ) -> None:
        if source in self._warned:
            return
        self._warned.add(source)
        message = ignored_columns(source, extra, self.fields or ())
        _log.warning(message)
        if on_warning is not None:
            on_warning(message)

    def _join(self, data: dict[str, Any]) -> None:
        """Add the long-table rows of the row's case to its signals and events."""
        long = self._long or {}
        case_id = data.get(LONG_TABLE_KEY)
        if not isinstance(case_id, str):
            return
        self._claimed.add(case_id)
        for name in _LISTS:
            rows = long.get(name, {}).get(case_id)
            if not rows:
                continue
            own = data.get(name)
            items = list(own) if isinstance(own, list) else []
            items.extend(row.item for row in rows)
            data[name] = items

    def _to_major(self, data: dict[str, Any], where: str) -> list[FieldProblem]:
        assert self.exponent is not None
        currency = data.get("currency")
        if not isinstance(currency, str):
            return []  # the case reports the currency
        digits = self.exponent(currency)
        problems: list[FieldProblem] = []

        @exact
        def convert(path: str, value: Any) -> Any:
            if value is None:
                return None
            text = None if isinstance(value, bool) else str(value)
            try:
                number = None if text is None or not NUMBER_TEXT.fullmatch(text) else Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number != number.to_integral_value():
                problems.append(
                    FieldProblem(
                        path,
                        f"expected a whole number of minor units of {currency}"
                        f" (--money-unit minor), got {quote(str(value)[:40])}",
                        source=where,
                    )
                )
                return value
            return format(number.scaleb(-digits), "f")

        for name in MONEY_FIELDS:
            if name in data:
                data[name] = convert(name, data[name])
        for name in ("events", "fees"):
            items = data.get(name)
            if not isinstance(items, list):
                continue
            converted = []
            for i, item in enumerate(items):
                if isinstance(item, Mapping) and item.get("amount") is not None:
                    item = {**item, "amount": convert(f"{name}[{i}].amount", item["amount"])}
                converted.append(item)
            data[name] = converted
        return problems

    # ----------------------------------------------------------------- long tables

    def load_long(
        self, read: Callable[[Sequence[Path]], Iterable[Any]]
    ) -> list[tuple[str, InputError]]:
        """Read the long tables with ``read`` (which gives rows with ``where``, ``data``
        and ``error``, as :func:`~collectrules.io.read_rows` does), once.

        Returns the long-table rows that belong to no case: unreadable, or without a
        ``case_id``; each as its place and error, to be reported as a bad row.
        """
        if self._long is not None:
            return []
        bad: list[tuple[str, InputError]] = []
        long: dict[str, dict[str, list[_LongRow]]] = {}
        for name, paths in (("signals", self.signals), ("events", self.events)):
            if not paths:
                continue
            table: dict[str, list[_LongRow]] = {}
            for row in read(paths):
                if row.error is not None or row.data is None:
                    bad.append((row.where, row.error or _problem(row.where, "unreadable row")))
                    continue
                item = {self.columns.get(k, k): v for k, v in row.data.items()}
                case_id = item.pop(LONG_TABLE_KEY, None)
                if isinstance(case_id, bool) or not isinstance(case_id, str | int):
                    message = f"a row of the {name} table needs a {LONG_TABLE_KEY}"
                    bad.append((row.where, _problem(row.where, message, path=LONG_TABLE_KEY)))
                    continue
                table.setdefault(str(case_id), []).append(_LongRow(row.where, item))
            long[name] = table
        self._long = long
        return bad


def _problem(where: str, message: str, path: str = "") -> InputError:
    return InputError([FieldProblem(path, message, source=where)])


def _stat(path: Path) -> list[str | int]:
    try:
        info = path.stat()
    except OSError:
        return [str(path.absolute()), -1, -1]
    return [str(path.absolute()), info.st_size, info.st_mtime_ns]


def load_column_map(path: str | Path, *, fields: Collection[str] | None = None) -> dict[str, str]:
    """The column map of a TOML file: ``[columns]`` with ``their_column = "case_field"``.

    Errors name the file, the line, and (with ``fields``) the closest case field.
    """
    if is_data(path):  # compared with a text, a table answers with a table, or raises
        raise InputError([FieldProblem("path", not_a_path(path))])
    path = require_named_path(path, "path")
    if fields is not None:
        fields = require_texts(fields, "fields", "a collection of case field names")
    try:
        text = read_small_file(path, MAX_SMALL_FILE_BYTES).decode("utf-8")
    except UnreadableFile as exc:
        problem = FieldProblem("", f"cannot read: {exc.reason}", source=source_name(path))
        raise InputError([problem]) from None
    except UnicodeDecodeError:
        problem = FieldProblem("", "not UTF-8 text", source=source_name(path))
        raise InputError([problem]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        problem = FieldProblem("", f"TOML syntax error: {exc}", source=str(path), line=line)
        raise InputError([problem], subject="the column map") from None
    except RecursionError:  # arrays or inline tables nested thousands deep
        message = "TOML syntax error: arrays or tables nested too deeply to read"
        problem = FieldProblem("", message, source=str(path))
        raise InputError([problem], subject="the column map") from None
    except ValueError:  # tomllib's int() of an integer of over 4,300 digits
        message = "TOML syntax error: a number with more digits than can be read"
        problem = FieldProblem("", message, source=str(path))
        raise InputError([problem], subject="the column map") from None
    table = data.get("columns")
    if not isinstance(table, dict) or set(data) != {"columns"}:
        problem = FieldProblem(
            "columns",
            'expected one [columns] table: their_column = "case_field"',
            source=str(path),
            line=1,
        )
        raise InputError([problem], subject="the column map")
    problems: list[FieldProblem] = []
    out: dict[str, str] = {}
    lines = _key_lines(text)
    for column, field in table.items():
        line = lines.get(column)
        if not isinstance(field, str):
            message = f"expected a case field name, got {type(field).__name__}"
            problems.append(FieldProblem(f"columns.{column}", message, str(path), line))
        elif fields is not None and field not in fields:
            problems.append(
                FieldProblem(
                    f"columns.{column}",
                    f"{quote(field)} is not a case field",
                    source=str(path),
                    line=line,
                    suggestion=did_you_mean(field, fields),
                )
            )
        else:
            out[column] = field
    sharing: dict[str, list[str]] = {}
    for column, field in out.items():
        if field:
            sharing.setdefault(field, []).append(column)
    for field, columns in sorted(sharing.items()):
        if len(columns) < 2:
            continue
        # Named as the warning about ignored columns names them: the first few.
        named = ", ".join(columns[:SHOWN_IGNORED_COLUMNS])
        if len(columns) > SHOWN_IGNORED_COLUMNS:
            named += f" and {len(columns) - SHOWN_IGNORED_COLUMNS:,} more"
        problems.append(
            FieldProblem(
                "columns", f"{named} all map to {quote(field)}", source=str(path), line=None
            )
        )
    if problems:
        raise InputError(problems, subject="the column map")
    return out


#: A key at the start of a line of TOML: quoted, literal or bare, then ``=``.
_KEY = re.compile(r"""\s*(?:"(?P<quoted>[^"]*)"|'(?P<literal>[^']*)'|(?P<bare>[^\s=]+))\s*=""")


def _key_lines(text: str) -> dict[str, int]:
    """The line that first gives each key of the ``[columns]`` table (bare or quoted),
    found in one pass, so that a map of many columns is read in time proportional to
    its length."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        m = _KEY.match(line)
        if m is not None:
            key = m.group("quoted") or m.group("literal") or m.group("bare") or ""
            found.setdefault(key, number)
    return found


#: The most ignored columns a warning names; it counts the others.
SHOWN_IGNORED_COLUMNS = 20


def ignored_columns(source: str, extra: Sequence[str], fields: Collection[str] = ()) -> str:
    """The warning that the ``extra`` columns of ``source`` (not case fields) are
    ignored, as the batch gives it once per file: the first
    :data:`SHOWN_IGNORED_COLUMNS` by name, the others counted. A name that would not
    show as written (empty, with white space around it, or a character that does not
    print) is quoted; white space around the name of one of ``fields`` (the case fields;
    a header written with a space after each comma) is pointed out."""
    shown = extra[:SHOWN_IGNORED_COLUMNS]
    names = ", ".join(_column_name(name) for name in shown)
    if len(extra) > SHOWN_IGNORED_COLUMNS:
        names += f" and {len(extra) - SHOWN_IGNORED_COLUMNS:,} more"
    padded = [name for name in shown if name.strip() != name and name.strip() in fields]
    hint = (
        f"; {quote(padded[0])} is {quote(padded[0].strip())} with white space around it:"
        " a column's name is read as written"
        if padded
        else ""
    )
    return (
        f"{source}: ignoring column{'s' if len(extra) != 1 else ''} {names}: not case"
        f" fields (map them to case fields with --columns MAP.toml){hint}"
    )


def _column_name(name: str) -> str:
    """``name`` as a warning shows it: as written, or quoted when it would not show so."""
    return name if name and name.strip() == name and name.isprintable() else quote(name)
