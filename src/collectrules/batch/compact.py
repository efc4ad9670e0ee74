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

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from collectrules._arguments import (
    require_instance,
    require_mapping,
    require_path,
    require_texts,
    wrong_kind,
)
from collectrules.batch.output import OutputError
from collectrules.engine import Engine
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.io.arrow import require_pyarrow
from collectrules.model.case import Case
from collectrules.model.decision import Decision

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
                    f"unknown column {name!r}; the columns are {', '.join(FIELDS)}",
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
        """Buffer rows; a row group's worth is handed to the writer."""
        self._rows.extend(dict(r) for r in rows)
        if len(self._rows) >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writer, which writes each full row group."""
        if self._rows:
            self._table.write(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def close(self) -> None:
        """Write what is buffered and the footer."""
        self.flush()
        self._table.close()


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
    if row.get("policy_hash") not in (None, policy.content_hash):
        msg = f"the row was decided under another policy than {policy.ref}"
        raise InputError([FieldProblem("policy_hash", msg)])
    fired = row["fired"]
    if isinstance(fired, str | bytes | Mapping) or not isinstance(fired, Iterable):
        raise wrong_kind("fired", fired, "a list of rule ids")
    decision = engine.replay(case, as_of=str(row["as_of"]), fired=list(fired))
    given = _plain_maps({k: v for k, v in row.items() if k in FIELDS})
    rebuilt = _plain_maps(compact_row(decision, tuple(given)))
    wrong = [name for name in given if _listish(given[name]) != _listish(rebuilt[name])]
    if wrong:
        msg = "the rebuilt decision disagrees with the row"
        raise InputError([FieldProblem(name, msg) for name in wrong])
    return decision


def _listish(value: Any) -> Any:
    """A list column's value as a list, whatever sequence it was read back as (a
    NumPy array from pandas, a tuple); any other value as it is."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return value
    return list(value)
