"""Reading cases from files: JSON, JSON Lines, CSV, or directories of them.

Every row keeps its source (file and line, or index in a JSON array), so that a bad row
can be reported precisely while the good rows are still decided. Nothing is dropped
silently, and nothing about one row stops the next:

* bytes are decoded line by line in the encoding asked for (UTF-8 by default, a byte
  order mark accepted), so an undecodable byte spoils only its own line;
* JSON Lines are split on ``\\n`` only: U+2028 and U+2029 inside a string are data;
* JSON Lines and CSV files are streamed, one row at a time; a ``.json`` file (one case,
  or an array of cases) is read whole;
* Parquet files (with the ``parquet`` extra) are read a record batch at a time, each
  row numbered from 0 as its ``index`` (:mod:`collectrules.io.arrow`).
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from collectrules import _json as strict_json
from collectrules._arguments import (
    require_bool,
    require_instance,
    require_int,
    require_optional_callable,
    source_name,
    wrong_kind,
)
from collectrules._files import strerror
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.io.arrow import checked_paths, is_frame, parquet_rows, table_rows
from collectrules.io.shapes import RowShape

__all__ = [
    "CASE_SUFFIXES",
    "FRAME_SOURCE",
    "MAX_JSON_FILE_BYTES",
    "MAX_LINE_BYTES",
    "Row",
    "case_files",
    "check_encoding",
    "csv_row",
    "read_rows",
    "row_place",
    "source_name",
]

CASE_SUFFIXES = (".csv", ".json", ".jsonl", ".parquet")
"""The file suffixes taken from a directory, in any case."""

MAX_LINE_BYTES = 16 * 2**20
"""The longest JSON Lines or CSV line read; a longer one is a bad row, not a memory spike."""

MAX_JSON_FILE_BYTES = 256 * 2**20
"""The largest ``.json`` file read. A JSON file is one document, read and parsed whole
(its Python objects take several times its size); a larger one is refused, with the
advice to write its rows as JSON Lines, which are read one at a time."""

_CHUNK = 1 << 16
_UTF8_BOM = codecs.BOM_UTF8
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@attrs.frozen
class Row:
    """One input row: its data (or the reason it could not be read) and where it came from.

    ``source`` is the file, ``line`` the line the row starts on (JSON Lines and CSV) and
    ``index`` its position in a JSON array (``.json`` files holding a list).
    """

    source: str
    line: int | None
    data: dict[str, Any] | None
    error: InputError | None = None
    index: int | None = None

    @property
    def where(self) -> str:
        """``file:line``, ``file[index]`` or ``file``."""
        return row_place(self.source, self.line, self.index)


def row_place(source: str, line: int | None, index: int | None) -> str:
    """A row's place as the readers name it: ``file:line``, ``file[index]`` or ``file``."""
    if line is not None:
        return f"{source}:{line}"
    return f"{source}[{index}]" if index is not None else source


def check_encoding(encoding: str) -> codecs.CodecInfo:
    """The codec named ``encoding`` (``utf-8``, ``gbk``, ``gb18030``, ``utf-16``, …).

    Raises :class:`InputError` for an unknown name, a name that is not a text, or a
    codec that does not decode text.
    """
    if not isinstance(encoding, str):
        raise wrong_kind("--encoding", encoding, "the name of a text encoding")
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):  # ValueError: a name holding NUL
        problem = FieldProblem("--encoding", f"unknown encoding {quote(encoding[:60])}")
        raise InputError([problem]) from None
    if not getattr(info, "_is_text_encoding", True):
        problem = FieldProblem("--encoding", f"{quote(encoding)} is not a text encoding")
        raise InputError([problem])
    try:
        # Lines are split on the encoded "\n" and a line whose bytes do not decode is
        # shown with replacement characters: a codec must do both. "idna" refuses to
        # replace, "punycode" decodes through ASCII whatever is asked, "undefined" never
        # decodes; each stopped the run as an internal error at its first line.
        "\n".encode(info.name)
        b"a\xff\n".decode(info.name, errors="replace")
        # A file is decoded a piece at a time: a codec whose text, encoded line by line,
        # is not the text encoded whole ("punycode" appends "-" to each piece) reads
        # other lines than the file holds (Python 3.13's punycode also replaces bytes).
        lines = ("case_id,product\n", "C-1,loan\n")
        encoder = info.incrementalencoder()
        pieces = b"".join(encoder.encode(line) for line in lines) + encoder.encode("", True)
        if pieces != "".join(lines).encode(info.name):
            raise ValueError(encoding)
    except (UnicodeError, LookupError, ValueError, TypeError):
        problem = FieldProblem(
            "--encoding",
            f"{quote(encoding)} cannot read a case file line by line (it cannot replace"
            " bytes it does not decode): expected a text encoding such as utf-8, gbk,"
            " gb18030, big5, shift_jis, latin-1, utf-16 or utf-32",
        )
        raise InputError([problem]) from None
    return info


def case_files(
    paths: Sequence[str | Path], *, encoding: str = "utf-8", allow_empty: bool = False
) -> list[Path]:
    """The case files behind ``paths``, in order; a directory gives its case files, sorted.

    Raises :class:`InputError` naming every path that is missing, unreadable, not a
    regular file, or a directory without case files: the input is unusable as a whole;
    and ``paths`` that is not a list of paths (one path alone is refused too, and so is
    a table, or a table or an array in the list).

    A file of zero bytes, and a JSON, JSON Lines or CSV file holding nothing but white
    space (blank lines; decoded in ``encoding``), is refused too, as a directory
    without case files is: a broken export, not an empty portfolio. (A CSV file with a
    header and no rows, and a Parquet file with a schema and no rows, are empty
    portfolios: they are read, as 0 rows.) With ``allow_empty`` such files are taken: a
    batch run's decisions file of 0 rows is written empty.
    """
    codec = check_encoding(encoding)
    allow_empty = require_bool(allow_empty, "allow_empty")
    files: list[Path] = []
    problems: list[FieldProblem] = []
    for path in checked_paths(paths, "paths"):
        try:
            found = list(_expand(path))
        except _Unusable as exc:
            problems.append(FieldProblem("", exc.reason, source=source_name(path)))
            continue
        if not found:
            msg = "a directory without case files"
            problems.append(FieldProblem("", msg, source=source_name(path)))
        for file in found:
            reason = _not_regular(file)
            if reason is not None:
                problems.append(FieldProblem("", reason, source=source_name(file)))
                continue
            try:
                with file.open("rb") as fh:
                    empty = None if allow_empty else _empty(fh, file.suffix.lower(), codec)
            except _Unread:  # it opens but does not read: its reader makes that its row
                empty = None
            except OSError as exc:
                problems.append(
                    FieldProblem("", f"cannot read: {strerror(exc)}", source=source_name(file))
                )
                continue
            if empty is not None:
                problems.append(FieldProblem("", empty, source=source_name(file)))
                continue
            files.append(file)
    if problems:
        raise InputError(problems, subject="the input")
    return files


#: What a case file of each kind holds, said when one holds nothing.
_EXPECTED = {
    ".csv": "a header line, then a row for each case",
    ".jsonl": "a case (a JSON object) on each line",
    ".json": "a case (a JSON object) or a list of cases",
    ".parquet": "a Parquet file of cases",
}


class _Unread(Exception):
    """A file that opened failed to read (``/proc/self/mem``, a disk's EIO)."""


def _empty(fh: BinaryIO, suffix: str, codec: codecs.CodecInfo) -> str | None:
    """Why the case file open as ``fh`` holds nothing at all: zero bytes, or (JSON, JSON
    Lines, CSV) nothing but white space once decoded; None when it holds something.
    Reads until the first character that is not white space (in a file of cases, the
    first); a read that fails is :class:`_Unread`."""
    try:
        return _blank(fh, suffix, codec)
    except OSError as exc:
        raise _Unread(str(exc)) from None


def _blank(fh: BinaryIO, suffix: str, codec: codecs.CodecInfo) -> str | None:
    """:func:`_empty`, its reads unguarded."""
    expected = _EXPECTED.get(suffix, "cases")
    head = fh.read(4)
    if not head:
        return f"an empty file (0 bytes): expected {expected}; a broken export?"
    if suffix not in (".csv", ".json", ".jsonl"):
        return None
    name, skip, foreign = _resolve(codec, head)
    if foreign:
        return None  # the reader names the byte order mark
    fh.seek(skip)
    decoder = codecs.getincrementaldecoder(name)(errors="replace")
    size = skip
    while True:
        chunk = fh.read(_CHUNK)
        size += len(chunk)
        text = decoder.decode(chunk, final=not chunk)
        if text.replace("\ufeff", "").strip():
            return None
        if not chunk:
            break
    return (
        f"a file of blank lines only ({size:,} bytes of white space): expected {expected};"
        " a broken export?"
    )


FRAME_SOURCE = "<frame>"
"""The ``source`` of the rows of a pandas or polars DataFrame or a pyarrow Table given to
read_rows."""


def read_rows(
    paths: Sequence[str | Path | Any],
    *,
    encoding: str = "utf-8",
    skip: int = 0,
    shape: RowShape | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[Row]:
    """Every row of every path, in order; a directory gives its case files, sorted.

    A path may also be a pandas DataFrame, a polars DataFrame, or a pyarrow Table or
    RecordBatch (with the ``parquet`` extra): its rows are numbered from 0 as their
    ``index``, with source ``<frame>``. A table given alone, not in a list, and another
    library's table or array (a polars LazyFrame: pass ``frame.collect()``) are an
    :class:`InputError`.
    A path that cannot be read gives one row with its error. ``encoding`` names the
    codec of every file (a UTF-8 byte order mark is accepted whatever it is). ``skip``
    passes over that many rows first without parsing them, to resume a batch; more rows
    than the inputs hold is an :class:`InputError`, raised once they are read.

    ``shape`` (:class:`~collectrules.io.RowShape`) maps columns, drops extra columns of
    CSV and Parquet files (naming them once per file through ``on_warning``), reads money
    in minor units and joins long tables of signals and events to their cases. A
    long-table row that names no case comes first, as a bad row of its own; long-table
    rows that no case claimed are named through ``on_warning`` at the end.
    """
    codec = check_encoding(encoding)
    paths = checked_paths(paths, "paths", tables=True)
    skip = require_int(skip, "skip", minimum=0)
    if shape is not None:
        require_instance(shape, RowShape, "shape", "a RowShape or None")
    require_optional_callable(on_warning, "on_warning")
    ordinal = 0
    if shape is not None and shape.is_plain:
        shape = None
    if shape is not None:
        for where, long_error in shape.load_long(
            lambda long: read_rows(case_files(long, encoding=encoding), encoding=encoding)
        ):
            ordinal += 1
            if ordinal > skip:
                yield Row(where, None, None, long_error)
    for raw in paths:
        items: Iterable[_Item]
        if is_frame(raw):
            items = _frame(raw)
            files: list[Path] = []
        else:
            path = Path(raw)
            try:
                files = list(_expand(path))
            except _Unusable as exc:
                items = [_Item(source_name(path), None, None, _error(exc.reason, path))]
                files = []
            else:
                items = ()
        for item in _chain(items, *(_read_file(file, codec) for file in files)):
            ordinal += 1
            if ordinal <= skip:
                continue
            row = item.row()
            if shape is not None and row.data is not None:
                data, error = shape.apply(
                    row.data,
                    row.where,
                    source=item.source,
                    tabular=item.kind in ("csv", "parquet", "frame"),
                    on_warning=on_warning,
                )
                row = attrs.evolve(row, data=data, error=error)
            yield row
    if ordinal < skip:  # a resumed batch whose progress file counts rows its inputs lack
        msg = f"expected at most the {ordinal:,} rows the inputs hold, got {skip:,} to skip"
        raise InputError([FieldProblem("skip", msg)])
    if shape is not None:
        unclaimed = shape.unclaimed()
        if unclaimed:
            shown = ", ".join(unclaimed[:5]) + (", …" if len(unclaimed) > 5 else "")
            message = f"{len(unclaimed)} long-table row(s) name a case_id that no case has: {shown}"
            logging.getLogger("collectrules").warning(message)
            if on_warning is not None:
                on_warning(message)


def _frame(frame: Any) -> Iterator[_Item]:
    """Each row of a pandas or polars DataFrame or a pyarrow Table, numbered from 0 as
    ``index``."""
    try:
        rows = table_rows(frame)
        for index, data in enumerate(rows):
            yield _Item(FRAME_SOURCE, None, index, data, kind="frame")
    except InputError as exc:
        yield _Item(FRAME_SOURCE, None, None, exc)


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _expand(path: Path) -> Iterator[Path]:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _Unusable("no such file or directory") from None
    except OSError as exc:
        raise _Unusable(f"cannot read: {strerror(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            with os.scandir(path) as entries:
                # Every entry named as a case file: one that is not a regular file
                # (a FIFO, a device, a broken link) is reported by its readers, where
                # it was skipped without a word, its rows with it.
                names = sorted(
                    e.name for e in entries if Path(e.name).suffix.lower() in CASE_SUFFIXES
                )
        except OSError as exc:
            raise _Unusable(f"cannot list the directory: {strerror(exc)}") from None
        for name in names:
            yield path / name
    elif stat.S_ISREG(info.st_mode):
        yield path
    else:
        raise _Unusable("not a regular file or a directory")


def _chain(*parts: Iterable[_Item]) -> Iterator[_Item]:
    for part in parts:
        yield from part


def _error(message: str, path: Path | str, line: int | None = None) -> InputError:
    return InputError([FieldProblem("", message, source=str(path), line=line)])


@attrs.frozen
class _Item:
    """A row before parsing: skipping on resume costs no JSON parsing."""

    source: str
    line: int | None
    index: int | None
    payload: InputError | str | dict[str, str] | object
    kind: str = "error"

    def row(self) -> Row:
        if isinstance(self.payload, InputError):
            return Row(self.source, self.line, None, self.payload, self.index)
        if self.kind == "jsonl":
            assert isinstance(self.payload, str)
            try:
                data = strict_json.loads(self.payload)
            except strict_json.RepeatedKeyError as exc:
                return self._repeated(exc.path, exc.described(line=False))
            except json.JSONDecodeError as exc:
                return self._bad(f"invalid JSON, column {exc.colno}: {exc.msg}")
            except ValueError as exc:
                return self._bad(f"invalid JSON: {str(exc)[:200]}")
            except RecursionError:
                return self._bad("invalid JSON: nested too deeply")
            return self._checked(data)
        if self.kind == "csv":
            assert isinstance(self.payload, dict)
            try:
                cells = {k: _csv_value(k, v) for k, v in self.payload.items()}
            except _Cell as cell:
                repeated = cell.error
                return self._repeated(
                    f"{cell.key}{repeated.path}", repeated.described(line=False, column=False)
                )
            except _BadCell as cell:
                return self._repeated(cell.key, cell.message)
            return self._checked({k: v for k, v in cells.items() if v is not None})
        return self._checked(self.payload)

    def _repeated(self, path: str, message: str) -> Row:
        """The row with a key named twice in one object: refused, as a header naming a
        column twice is (the last value is not silently kept)."""
        problem = FieldProblem(path, message, source=self.source, line=self.line)
        return Row(self.source, self.line, None, InputError([problem]), self.index)

    def _bad(self, message: str) -> Row:
        return Row(
            self.source, self.line, None, _error(message, self.source, self.line), self.index
        )

    def _checked(self, data: object) -> Row:
        if not isinstance(data, dict):
            return self._bad(f"expected a JSON object, got {type(data).__name__}")
        return Row(self.source, self.line, data, None, self.index)


def csv_row(source: str, line: int, record: dict[str, str]) -> Row:
    """The row a CSV record (header name to cell text) starting on ``line`` gives, as
    :func:`read_rows` reads it: empty cells absent, ``true``/``false`` booleans, the
    signals, events and guarantors cells JSON."""
    return _Item(source, line, None, record, "csv").row()


class _Cell(Exception):
    """A JSON cell names a key twice in one object."""

    def __init__(self, key: str, error: strict_json.RepeatedKeyError) -> None:
        super().__init__(key)
        self.key = key
        self.error = error


class _BadCell(Exception):
    """A JSON cell that is not JSON: ``message`` says why, for the column ``key``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message


def _csv_value(key: str, value: str) -> Any:
    if value == "":
        return None
    if key in ("signals", "events", "guarantors"):
        expected = "expected a JSON list of objects, or an empty cell"
        try:
            return strict_json.loads(value)
        except strict_json.RepeatedKeyError as exc:
            raise _Cell(key, exc) from None
        except json.JSONDecodeError as exc:
            why = f"invalid JSON, column {exc.colno} of the cell: {exc.msg}; {expected}"
            raise _BadCell(key, why) from None
        except RecursionError:
            raise _BadCell(key, f"invalid JSON: nested too deeply; {expected}") from None
        except ValueError as exc:
            raise _BadCell(key, f"invalid JSON: {str(exc)[:200]}; {expected}") from None
    if value in ("true", "false"):
        return value == "true"
    return value


class _Lines:
    """The lines of a binary file, split on the encoded ``\\n`` only, decoded one by one.

    Each line is ``(number, text, error)`` with its terminator kept; ``error`` is set
    when its bytes do not decode (``text`` then has replacement characters) or it is
    longer than :data:`MAX_LINE_BYTES`.
    """

    def __init__(self, fh: BinaryIO, codec: codecs.CodecInfo, name: str) -> None:
        self._fh = fh
        self._name = name
        self._label = codec.name
        head = fh.read(4)
        fh.seek(0)
        self._codec, skip, self._wrong_bom = _resolve(codec, head)
        fh.seek(skip)
        self._unit = "\n".encode(self._codec)
        self.number = 0

    def __iter__(self) -> Iterator[tuple[int, str, InputError | None]]:
        raw_lines = self._narrow() if len(self._unit) == 1 else self._wide()
        for raw in raw_lines:
            self.number += 1
            if raw is None:
                message = f"line longer than {MAX_LINE_BYTES} bytes"
                yield self.number, "\ufffd\n", _error(message, self._name, self.number)
                continue
            if self._wrong_bom:
                message = (
                    f"the file starts with a {self._wrong_bom} byte order mark, not"
                    f" {self._label}: name its encoding (--encoding {self._wrong_bom.lower()})"
                )
                text = raw.decode(self._codec, errors="replace")
                yield self.number, text, _error(message, self._name, self.number)
                continue
            try:
                text = raw.decode(self._codec)
            except UnicodeDecodeError as exc:
                message = f"bytes not valid {self._label} at byte {exc.start + 1} of the line"
                text = raw.decode(self._codec, errors="replace")
                yield self.number, text, _error(message, self._name, self.number)
                continue
            if self.number == 1 and text.startswith("\ufeff"):
                text = text[1:]  # a byte order mark in a codec named with its byte order
            yield self.number, text, None

    def _narrow(self) -> Iterator[bytes | None]:
        fh = self._fh
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(_CHUNK)
                yield None
                continue
            yield raw

    def _wide(self) -> Iterator[bytes | None]:
        unit, width = self._unit, len(self._unit)
        buf = b""
        too_long = False
        while True:
            chunk = self._fh.read(_CHUNK)
            buf += chunk
            start = 0
            while True:
                at = buf.find(unit, start)
                while at != -1 and (at - start) % width:
                    at = buf.find(unit, at + 1)
                if at == -1:
                    break
                end = at + width
                yield None if too_long else buf[start:end]
                too_long = False
                start = end
            buf = buf[start:]
            if len(buf) > MAX_LINE_BYTES:
                too_long = True
                buf = buf[len(buf) - len(buf) % width :]
            if not chunk:
                if buf or too_long:
                    yield None if too_long else buf
                return


def _resolve(codec: codecs.CodecInfo, head: bytes) -> tuple[str, int, str | None]:
    """The codec to decode lines with, the bytes of BOM to skip, and any foreign BOM."""
    name = codec.name
    if name in ("utf-8", "utf-8-sig"):
        if head.startswith(_UTF8_BOM):
            return "utf-8", len(_UTF8_BOM), None
        foreign = next((label for bom, label in _WIDE_BOMS if head.startswith(bom)), None)
        return "utf-8", 0, foreign
    if name in ("utf-16", "utf-32"):
        for bom, suffix in (
            (codecs.BOM_UTF32_LE, "-le"),
            (codecs.BOM_UTF32_BE, "-be"),
            (codecs.BOM_UTF16_LE, "-le"),
            (codecs.BOM_UTF16_BE, "-be"),
        ):
            if head.startswith(bom) and len(bom) == (4 if name == "utf-32" else 2):
                return name + suffix, len(bom), None
        return name + "-le", 0, None
    return name, 0, None


def _not_regular(path: Path) -> str | None:
    """Why the directory entry ``path``, named as a case file, cannot be read as one
    (checked before it is opened: opening a FIFO waits for a writer), or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file (a link to nothing)"
    except OSError as exc:
        return f"cannot read: {strerror(exc)}"
    return None if stat.S_ISREG(info.st_mode) else "not a regular file"


def _read_file(path: Path, codec: codecs.CodecInfo) -> Iterator[_Item]:
    name = source_name(path)
    reason = _not_regular(path)
    if reason is not None:
        yield _Item(name, None, None, _error(reason, name))
        return
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield _Item(name, None, None, _error(f"cannot read: {strerror(exc)}", name))
        return
    with fh:
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                yield from _parquet(path)
            elif suffix == ".jsonl":
                yield from _jsonl(fh, codec, name)
            elif suffix == ".csv":
                yield from _csv(fh, codec, name)
            else:
                yield from _json(fh, codec, name)
        except OSError as exc:  # a read that failed part way (a disk's EIO): the rest
            reason = f"cannot read the rest of the file: {strerror(exc)}"
            yield _Item(name, None, None, _error(reason, name))


def _parquet(path: Path) -> Iterator[_Item]:
    """Each row of a Parquet file, numbered from 0 as ``index``."""
    name = source_name(path)
    rows = parquet_rows(path)
    index = 0
    while True:
        try:
            data = next(rows)
        except StopIteration:
            return
        except InputError as exc:
            yield _Item(name, None, None, exc)
            return
        yield _Item(name, None, index, data, kind="parquet")
        index += 1


def _jsonl(fh: BinaryIO, codec: codecs.CodecInfo, name: str) -> Iterator[_Item]:
    for number, text, error in _Lines(fh, codec, name):
        if error is not None:
            yield _Item(name, number, None, error)
        elif text.strip():
            yield _Item(name, number, None, text, "jsonl")


def _csv(fh: BinaryIO, codec: codecs.CodecInfo, name: str) -> Iterator[_Item]:
    lines = _Lines(fh, codec, name)
    bad: dict[int, InputError] = {}
    ended = False

    def texts() -> Iterator[str]:
        nonlocal ended
        for number, text, error in lines:
            if error is not None:
                bad[number] = error
            yield text
        ended = True

    if csv.field_size_limit() < MAX_LINE_BYTES:
        # The csv module's own bound on a cell (131,072 characters) refused valid cases
        # that JSON Lines and the columnar engine read (a signals cell of 200 signals
        # with long notes); a cell may be as long as a line. The bound is the process's:
        # it is only ever raised.
        csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(texts())
    header: list[str] | None = None
    header_error: InputError | None = None
    consumed = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start, consumed = consumed + 1, reader.line_num
            text = str(exc)
            if text.startswith("field larger than field limit"):
                text = f"a cell longer than {csv.field_size_limit():,} characters"
            elif text.startswith("new-line character seen in unquoted field"):
                text = (
                    "a carriage return (\\r) in an unquoted cell: expected lines that end"
                    " in \\n or \\r\\n, and a \\r within a cell only inside quotes"
                )
            yield _Item(name, start, None, _error(f"invalid CSV: {text}", name, start))
            continue
        start, consumed = consumed + 1, reader.line_num
        if ended:
            # The reader asks for a line past the last only inside a quoted cell: the
            # csv module then ends the cell at the file's end, and the record would
            # hold the rest of the file in one cell.
            message = (
                f"invalid CSV: a quoted cell is not closed (the record starts on line "
                f'{start}): expected a closing " before the end of the file'
            )
            yield _Item(name, start, None, _error(message, name, start))
            continue
        if not record:
            continue
        spoiled = next((bad[n] for n in range(start, consumed + 1) if n in bad), None)
        for n in range(start, consumed + 1):
            bad.pop(n, None)
        if header is None:
            header = record
            twice = _named_twice(header)
            if spoiled is not None:
                header_error = _error(
                    f"the header (line {start}) has {spoiled.problems[0].message}", name, start
                )
            elif twice:
                header_error = _error(f"the header (line {start}) {twice}", name, start)
            continue
        if spoiled is not None:
            yield _Item(name, start, None, spoiled)
        elif header_error is not None:
            yield _Item(name, start, None, _error(header_error.problems[0].message, name, start))
        elif len(record) > len(header):
            message = f"{len(record)} values but the header names {len(header)} columns"
            yield _Item(name, start, None, _error(message, name, start))
        else:
            yield _Item(name, start, None, dict(zip(header, record, strict=False)), "csv")


def _named_twice(header: list[str]) -> str:
    """What is wrong with a header naming a column more than once (which of the values
    a row holds would be a guess), or ``""``."""
    places: dict[str, list[int]] = {}
    for place, column in enumerate(header, start=1):
        places.setdefault(column, []).append(place)
    repeated = [
        f"{quote(column)} {'twice' if len(at) == 2 else f'{len(at)} times'}"
        f" (columns {', '.join(map(str, at))})"
        for column, at in places.items()
        if len(at) > 1
    ]
    if not repeated:
        return ""
    return f"names {'; '.join(repeated)}: expected each column named once"


def _json(fh: BinaryIO, codec: codecs.CodecInfo, name: str) -> Iterator[_Item]:
    raw = fh.read(MAX_JSON_FILE_BYTES + 1)
    if len(raw) > MAX_JSON_FILE_BYTES:
        message = (
            f"the file is larger than {MAX_JSON_FILE_BYTES:,} bytes: a JSON file is read"
            " whole; write its rows as JSON Lines (.jsonl, one case per line), read one at"
            " a time"
        )
        yield _Item(name, None, None, _error(message, name))
        return
    decoder, skip, foreign = _resolve(codec, raw[:4])
    if foreign:
        message = (
            f"the file starts with a {foreign} byte order mark, not {codec.name}:"
            f" name its encoding (--encoding {foreign.lower()})"
        )
        yield _Item(name, None, None, _error(message, name))
        return
    try:
        text = raw[skip:].decode(decoder)
    except UnicodeDecodeError as exc:
        message = f"bytes not valid {codec.name} at byte {exc.start + skip + 1}"
        yield _Item(name, None, None, _error(message, name))
        return
    try:
        data, repeats = strict_json.loads_with_repeats(text)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON, column {exc.colno}: {exc.msg}"
        if exc.msg == "Extra data" and exc.lineno > 1 and exc.colno == 1:
            # A document on each line: JSON Lines, named as a JSON file.
            message += (
                "; the file holds a JSON document on each line: JSON Lines, which are read"
                " as such from a file named .jsonl"
            )
        yield _Item(name, None, None, _error(message, name, exc.lineno))
        return
    except RecursionError:
        yield _Item(name, None, None, _error("invalid JSON: nested too deeply", name))
        return
    except ValueError as exc:
        yield _Item(name, None, None, _error(f"invalid JSON: {str(exc)[:200]}", name))
        return
    refused = _repeats_by_row(repeats, name, many=isinstance(data, list))
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield _Item(name, None, index, refused.get(index, item), "json")
    else:
        yield _Item(name, None, None, refused.get(None, data), "json")


def _repeats_by_row(
    repeats: Sequence[strict_json.RepeatedKeyError], name: str, *, many: bool
) -> dict[int | None, InputError]:
    """Each row of a JSON file that names a key twice in one object (its index in the
    array, or None for a file of one object), with its error: every repeated key the
    row holds, by its path within the row and its line in the file."""
    problems: dict[int | None, list[FieldProblem]] = {}
    for exc in repeats:
        path, row = exc.path, None
        if many:
            head, _, rest = path.partition("]")
            row = int(head[1:])
            path = rest[1:] if rest.startswith(".") else rest
        problem = FieldProblem(path, exc.described(line=False), source=name, line=exc.line)
        problems.setdefault(row, []).append(problem)
    return {row: InputError(found) for row, found in problems.items()}
