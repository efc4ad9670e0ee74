"""The compact decision table: one flat row per decision, written to Parquet.

A row holds what a portfolio report needs: the case id, ``as_of``, the quadrant,
willingness and ability, the allowed and blocked remedies, the ids of every rule in
the trace (``fired``), the class of each regulatory pack and the bucket of each bucket
set, and the policy's id, version and hash. :data:`FIELDS` lists the columns, in
order; ``--fields`` picks some of them.

The full decision is not lost: :func:`rebuild_decision` gives it back, byte-identical
JSON, from a row with ``fired`` and ``as_of``, the policy, and the case (its facts,
signals and the sections' parts are not in the row, and are derived from the case
again; no condition is evaluated). It checks that the row agrees with what it rebuilt.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from collectrules._arguments import (
    MAX_ITEMS,
    require_instance,
    require_mapping,
    require_path,
    require_texts,
    wrong_kind,
)
from collectrules.batch._arrow import table_from_rows
from collectrules.batch.output import OutputError
from collectrules.engine import Engine
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.io.arrow import require_pyarrow
from collectrules.model.case import Case
from collectrules.model.decision import Decision
from collectrules.model.limits import check_text

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # the [parquet] extra is not installed
    pa = None
    pq = None

__all__ = [
    "FIELDS",
    "ROW_GROUP_ROWS",
    "ParquetSink",
    "TableWriter",
    "check_fields",
    "compact_row",
    "rebuild_decision",
    "table_schema",
]

FIELDS: tuple[str, ...] = (
    "case_id",
    "as_of",
    "quadrant",
    "willingness",
    "ability",
    "allowed",
    "blocked",
    "fired",
    "classes",
    "buckets",
    "policy_id",
    "policy_version",
    "policy_hash",
)
"""The columns of the compact table, in order."""

_LISTS = frozenset({"allowed", "blocked", "fired"})
_MAPS = frozenset({"classes", "buckets"})

ROW_GROUP_ROWS = 16_384
"""Rows of each row group of the decision table (the last one may hold fewer)."""


def check_fields(fields: Sequence[str] | None) -> tuple[str, ...]:
    """The columns asked for, in :data:`FIELDS` order; all of them for ``None``.

    Raises :class:`InputError` naming an unknown or repeated column.
    """
    if fields is None:
        return FIELDS
    fields = require_texts(fields, "--fields", "a list of column names")
    problems = []
    for name in fields:
        if name not in FIELDS:
            problems.append(
                FieldProblem(
                    "--fields",
                    f"unknown column {quote(name)}; the columns are {', '.join(FIELDS)}",
                    suggestion=did_you_mean(name, FIELDS),
                )
            )
    if len(set(fields)) != len(fields):
        problems.append(FieldProblem("--fields", "a column is named twice"))
    if not fields:
        problems.append(FieldProblem("--fields", "name at least one column"))
    if problems:
        raise InputError(problems)
    chosen = set(fields)
    return tuple(f for f in FIELDS if f in chosen)


def compact_row(decision: Decision, fields: Sequence[str] = FIELDS) -> dict[str, Any]:
    """The compact row of ``decision``, with the columns ``fields``, in their order.

    A ``fields`` :func:`check_fields` refuses is its :class:`InputError`.
    """
    if type(decision) is not Decision:
        require_instance(decision, Decision, "decision", "a Decision")
    outline = decision.outline()  # without building the levels and trace
    levels = outline.levels
    full: dict[str, Any] = {
        "case_id": decision.case_id,
        "as_of": decision.as_of.isoformat(),
        "quadrant": decision.quadrant.value,
        "willingness": levels.get("willingness"),
        "ability": levels.get("ability"),
        "allowed": [str(g.remedy) for g in decision.allowed],
        "blocked": [str(b.remedy) for b in decision.blocked],
        "fired": list(outline.fired),
        "classes": [(c.pack, c.value) for c in decision.regulatory],
        "buckets": [(b.bucket_set, b.bucket) for b in decision.buckets],
        "policy_id": decision.policy.id,
        "policy_version": decision.policy.version,
        "policy_hash": decision.policy.content_hash,
    }
    try:
        return {name: full[name] for name in fields}
    except (KeyError, TypeError):  # not a list of the columns' names
        check_fields(fields)  # raises, naming the column
        raise wrong_kind("fields", fields, "a list of column names") from None


def table_schema(fields: Sequence[str] | None = None) -> Any:
    """The Arrow schema of the compact decision table with the columns ``fields``
    (default: all), in :data:`FIELDS` order, as :func:`check_fields` gives them."""
    require_pyarrow("Parquet output")
    fields = check_fields(fields)

    def kind(name: str) -> Any:
        if name in _LISTS:
            return pa.list_(pa.string())
        if name in _MAPS:
            return pa.map_(pa.string(), pa.string())
        return pa.string()

    return pa.schema([pa.field(name, kind(name), nullable=True) for name in fields])


class TableWriter:
    """The compact decision table, written to ``sink`` (a path or an open binary file)
    in row groups of exactly :data:`ROW_GROUP_ROWS` rows, the last one fewer, however
    the rows arrive; zstd, with statistics on the plain columns only. So the same rows
    give the same bytes from either batch engine, in one process or in workers.

    Statistics of the list and map columns cost a quarter of the writing and serve no
    reader's filter. The file is complete (readable) only after :meth:`close`.
    """

    def __init__(
        self,
        sink: str | Path | BinaryIO,
        fields: Sequence[str] | None = None,
        *,
        name: str = "sink",
    ) -> None:
        require_pyarrow("Parquet output")
        self.fields = check_fields(fields)
        self.schema = table_schema(self.fields)
        plain = [f.name for f in self.schema if f.type == pa.string()]
        if isinstance(sink, str | os.PathLike):
            target: Any = require_path(sink, name)
        elif callable(getattr(sink, "write", None)):
            target = sink
        else:
            raise wrong_kind(name, sink, "a file's path or a binary file open for writing")
        try:
            self._writer = pq.ParquetWriter(
                target, self.schema, compression="zstd", write_statistics=plain
            )
        except OSError as exc:
            raise OutputError(Path(str(target)), exc) from None
        except (TypeError, ValueError, pa.ArrowException) as exc:  # a text-mode file
            msg = f"cannot write Parquet to it: {quote(str(exc))}"
            raise InputError([FieldProblem(name, msg)]) from None
        self._held: list[Any] = []
        self._rows = 0

    def write(self, table: Any) -> None:
        """Add ``table``'s rows (an Arrow table of :attr:`schema`): each full row group
        is written, the rest held for the next. A table of another schema is an
        :class:`InputError`."""
        if not isinstance(table, pa.Table) or not table.schema.equals(self.schema):
            raise wrong_kind("table", table, "an Arrow table of the decision table's schema")
        if not table.num_rows:
            return
        self._held.append(table)
        self._rows += table.num_rows
        if self._rows < ROW_GROUP_ROWS:
            return
        whole = pa.concat_tables(self._held)
        full = self._rows - self._rows % ROW_GROUP_ROWS
        self._writer.write_table(whole.slice(0, full), row_group_size=ROW_GROUP_ROWS)
        rest = whole.slice(full)
        self._held = [rest] if rest.num_rows else []
        self._rows = rest.num_rows

    def close(self) -> None:
        """Write the rows held and the footer."""
        if self._rows:
            self._writer.write_table(pa.concat_tables(self._held))
        self._held, self._rows = [], 0
        self._writer.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ParquetSink:
    """Writes compact rows (dicts, as :func:`compact_row` gives them) to an open binary
    file as the compact decision table (:class:`TableWriter`).

    The file is complete (readable) only after :meth:`close`, which writes the footer.
    """

    def __init__(self, fh: BinaryIO, fields: Sequence[str] | None = None) -> None:
        self._table = TableWriter(fh, fields, name="fh")
        self.fields = self._table.fields
        self.schema = self._table.schema
        self._rows: list[dict[str, Any]] = []

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Buffer rows; a row group's worth is handed to the writer.

        Each row is checked before any is kept: a row that is not a mapping, a column
        :data:`FIELDS` does not name, or a value not of its column's kind (a text, or
        ``None``; a list of texts for ``allowed``, ``blocked`` and ``fired``; a mapping
        of texts, or a list of (key, value) pairs of texts, for ``classes`` and
        ``buckets``) is an :class:`InputError` naming ``rows[i].column``. Columns of
        :data:`FIELDS` the sink does not write are ignored; one it writes and the row
        lacks is null.
        """
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise wrong_kind("rows", rows, "a list of compact rows")
        self._add_compact([_sink_row(row, f"rows[{i}]", self.fields) for i, row in enumerate(rows)])

    def _add_compact(self, rows: list[dict[str, Any]]) -> None:
        """:meth:`add` without the checks: rows :func:`compact_row` gave, with the
        sink's columns (the batch's own)."""
        self._rows.extend(rows)
        if len(self._rows) >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writer, which writes each full row group."""
        if self._rows:
            self._table.write(table_from_rows(self._rows, self.schema))
            self._rows = []

    def close(self) -> None:
        """Write what is buffered and the footer."""
        self.flush()
        self._table.close()


def _sink_row(row: object, where: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """``row``'s ``fields``, checked for :meth:`ParquetSink.add` (maps as lists of pairs).

    The rows :func:`compact_row` gives (ASCII texts, lists, lists of pairs) pass the
    first test of each column; anything else is checked in full, for its message."""
    if not isinstance(row, Mapping):
        raise wrong_kind(where, row, "a compact row (a mapping of columns)")
    if not _FIELD_SET.issuperset(row):
        _unknown_column(row, where)
    out: dict[str, Any] = {}
    for name in fields:
        value = row.get(name)
        if value is None:
            out[name] = None
        elif name in _LISTS:
            if type(value) is list and _ascii_texts(value):
                out[name] = value
            else:
                place = f"{where}.{name}"
                texts = require_texts(value, place)
                out[name] = [_unicode(t, f"{place}[{i}]") for i, t in enumerate(texts)]
        elif name in _MAPS:
            if type(value) is list and all(map(_ascii_pair, value)):
                out[name] = value
            else:
                out[name] = _text_pairs(value, f"{where}.{name}")
        elif type(value) is str and value.isascii():
            out[name] = value
        else:
            out[name] = _unicode(value, f"{where}.{name}")
    return out


_FIELD_SET = frozenset(FIELDS)


def _ascii_texts(values: list[Any]) -> bool:
    try:
        return all(map(str.isascii, values))
    except TypeError:  # an item that is not a text
        return False


def _ascii_pair(pair: object) -> bool:
    return (
        type(pair) is tuple
        and len(pair) == 2
        and type(pair[0]) is str
        and type(pair[1]) is str
        and pair[0].isascii()
        and pair[1].isascii()
    )


def _unknown_column(row: Mapping[Any, Any], where: str) -> None:
    """Raise the InputError naming ``row``'s first column that :data:`FIELDS` lacks."""
    name = next(n for n in row if n not in _FIELD_SET)
    text = name if isinstance(name, str) else repr(name)
    msg = f"unknown column {quote(text)}; the columns are {', '.join(FIELDS)}"
    suggestion = did_you_mean(text, FIELDS)
    raise InputError([FieldProblem(f"{where}.{text}", msg, suggestion=suggestion)])


def _unicode(value: object, where: str) -> str:
    """``value``, a text that UTF-8 can hold (Parquet's text; not a lone surrogate)."""
    try:
        return check_text(value, maximum=sys.maxsize, what="text")
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem(where, str(exc))]) from None


def _text_pairs(value: object, where: str) -> list[tuple[str, str]]:
    """A mapping of texts, or a list of (key, value) pairs of texts, as a list of pairs."""
    expected = "a mapping of texts or a list of (key, value) pairs of texts"
    if isinstance(value, Mapping):
        pairs: Iterable[Any] = value.items()
    elif isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise wrong_kind(where, value, expected)
    else:
        pairs = value
    out: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs):
        if index >= MAX_ITEMS:
            raise InputError([FieldProblem(where, f"more than {MAX_ITEMS:,} items")])
        if (
            isinstance(pair, str | bytes | Mapping)
            or not isinstance(pair, Sequence)
            or len(pair) != 2
            or not all(isinstance(part, str) for part in pair)
        ):
            raise wrong_kind(f"{where}[{index}]", pair, "a (key, value) pair of texts")
        out.append((_unicode(pair[0], f"{where}[{index}]"), _unicode(pair[1], f"{where}[{index}]")))
    return out


def _plain_maps(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as read back from Parquet (maps as lists of pairs) or as written."""
    out = dict(row)
    for name in _MAPS & set(out):
        value = out[name]
        try:
            out[name] = [
                tuple(pair) for pair in (value.items() if isinstance(value, Mapping) else value)
            ]
        except TypeError:
            raise wrong_kind(name, value, "a list of (key, value) pairs or a mapping") from None
    return out


def rebuild_decision(row: Mapping[str, Any], engine: Engine, case: Case) -> Decision:
    """The full decision behind a compact ``row``, from the engine's policy and the case.

    The row needs ``fired`` and ``as_of`` (and, when present, its ``policy_hash`` must
    be the engine's policy's). The decision is rebuilt with :meth:`Engine.replay`, and
    every column the row has is checked against it: :class:`InputError` names the
    columns that disagree (another case, another policy, an edited row).
    """
    require_mapping(row, "row", "a compact row (a mapping of columns)")
    require_instance(engine, Engine, "engine", "an Engine")
    missing = [name for name in ("fired", "as_of") if row.get(name) is None]
    if missing:
        msg = "a compact row needs the columns fired and as_of to rebuild its decision"
        raise InputError([FieldProblem(name, msg) for name in missing])
    policy = engine.policy
    row_hash = row.get("policy_hash")
    if row_hash is not None and not _agrees(row_hash, policy.content_hash):
        msg = f"the row was decided under another policy than {policy.ref}"
        raise InputError([FieldProblem("policy_hash", msg)])
    fired = row["fired"]
    if isinstance(fired, str | bytes | Mapping) or not isinstance(fired, Iterable):
        raise wrong_kind("fired", fired, "a list of rule ids")
    as_of = row["as_of"]
    if not isinstance(as_of, str | dt.datetime):
        raise wrong_kind("as_of", as_of, "an instant as ISO 8601 text, with its offset")
    decision = engine.replay(case, as_of=as_of, fired=list(fired))
    given = _plain_maps({k: v for k, v in row.items() if k in FIELDS})
    if isinstance(as_of, dt.datetime):  # the instant replay was given, as the row writes it
        given["as_of"] = decision.as_of.isoformat()
    rebuilt = _plain_maps(compact_row(decision, tuple(given)))
    wrong = [name for name in given if not _agrees(given[name], rebuilt[name])]
    if wrong:
        msg = "the rebuilt decision disagrees with the row"
        raise InputError([FieldProblem(name, msg) for name in wrong])
    return decision


def _agrees(given: object, rebuilt: object) -> bool:
    """Whether a row's value ``given`` is the ``rebuilt`` one (a text, ``None``, or a
    list of texts or of (key, value) pairs): a list column's value may be any sequence
    it was read back as (a NumPy array from pandas, a tuple). Only texts are compared
    with ``==``, so that a value of another kind (a NumPy number or array in a text
    column) disagrees rather than answering an array."""
    if rebuilt is None:
        return given is None
    if isinstance(rebuilt, str):
        return isinstance(given, str) and str(given) == rebuilt
    if (
        not isinstance(rebuilt, list | tuple)
        or isinstance(given, str | bytes | Mapping)
        or not isinstance(given, Iterable)
    ):
        return False
    items = list(given)
    return len(items) == len(rebuilt) and all(map(_agrees, items, rebuilt))
