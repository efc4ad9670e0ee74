"""Reading cases from files: JSON, JSON Lines, CSV, or a directory of JSON files.

Every row keeps its source (file and line or index), so that a bad row can be reported
precisely while the good rows are still decided. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from collectrules.errors import FieldProblem, InputError

__all__ = ["Row", "read_rows"]


@attrs.frozen
class Row:
    """One input row: its data (or the reason it could not be read) and where it came from."""

    source: str
    line: int | None
    data: dict[str, Any] | None
    error: InputError | None = None

    @property
    def where(self) -> str:
        """``file:line`` or ``file``."""
        return self.source if self.line is None else f"{self.source}:{self.line}"


#: What a JSON text nested beyond the decoder's recursion limit gets.
_TOO_DEEP = "invalid JSON: nested too deeply to read"


def _csv_value(key: str, value: str) -> Any:
    if value == "":
        return None
    if key in ("signals", "events", "guarantors"):
        return json.loads(value)
    if value in ("true", "false"):
        return value == "true"
    return value


def _read_file(path: Path) -> Iterator[Row]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        err = InputError([FieldProblem("", f"cannot read: {exc.strerror}", source=name)])
        yield Row(name, None, None, err)
        return
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        yield Row(name, None, None, InputError([FieldProblem("", msg, source=name)]))
        return
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                problem = FieldProblem("", f"invalid JSON: {exc.msg}", source=name, line=number)
                yield Row(name, number, None, InputError([problem]))
                continue
            except RecursionError:
                problem = FieldProblem("", _TOO_DEEP, source=name, line=number)
                yield Row(name, number, None, InputError([problem]))
                continue
            yield _checked(name, number, data)
    elif suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        for number, record in enumerate(reader, start=2):
            try:
                data = {k: _csv_value(k, v) for k, v in record.items() if k is not None}
                data = {k: v for k, v in data.items() if v is not None}
            except json.JSONDecodeError as exc:
                problem = FieldProblem(
                    "", f"invalid JSON in a cell: {exc.msg}", source=name, line=number
                )
                yield Row(name, number, None, InputError([problem]))
                continue
            except RecursionError:
                problem = FieldProblem("", _TOO_DEEP, source=name, line=number)
                yield Row(name, number, None, InputError([problem]))
                continue
            yield _checked(name, number, data)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = FieldProblem(
                "", f"invalid JSON, column {exc.colno}: {exc.msg}", source=name, line=exc.lineno
            )
            yield Row(name, None, None, InputError([problem]))
            return
        except RecursionError:
            yield Row(name, None, None, InputError([FieldProblem("", _TOO_DEEP, source=name)]))
            return
        if isinstance(data, list):
            for index, item in enumerate(data):
                row = _checked(name, None, item)
                yield attrs.evolve(row, source=f"{name}[{index}]")
        else:
            yield _checked(name, None, data)


def _checked(name: str, line: int | None, data: object) -> Row:
    if not isinstance(data, dict):
        problem = FieldProblem(
            "", f"expected a JSON object, got {type(data).__name__}", source=name, line=line
        )
        return Row(name, line, None, InputError([problem]))
    return Row(name, line, data)


def read_rows(paths: Sequence[str | Path]) -> Iterator[Row]:
    """Every row of every path, in order; a directory gives its ``*.json`` files, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".json", ".jsonl"))
            for file in files:
                yield from _read_file(file)
        elif not path.exists():
            err = InputError([FieldProblem("", "no such file or directory", source=str(path))])
            yield Row(str(path), None, None, err)
        else:
            yield from _read_file(path)
