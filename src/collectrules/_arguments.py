"""Cheap checks of a public entry point's arguments.

Each returns the argument (or its plain form) when it is of the kind expected, and
raises an :class:`~collectrules.errors.InputError` naming the parameter, what was given
and what was expected otherwise: a caller who passes an integer for a date, or a
``Policy`` for a ``Case``, reads which argument is wrong instead of a ``TypeError`` or
an ``AttributeError`` from deep inside the library.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from collectrules.errors import FieldProblem, InputError, quote

__all__ = [
    "fs_encodable",
    "is_utf8",
    "require_bool",
    "require_callable",
    "require_date",
    "require_indent",
    "require_instance",
    "require_int",
    "require_mapping",
    "require_optional_callable",
    "require_optional_text",
    "require_path",
    "require_paths",
    "require_rows",
    "require_text",
    "require_texts",
    "source_name",
    "wrong_kind",
]

T = TypeVar("T")

#: The widest indent a JSON writer takes.
MAX_INDENT = 16

#: The most items of an iterable argument read before it is refused as too long: an
#: endless generator given for a list of names ends here.
MAX_ITEMS = 1_000_000


def wrong_kind(name: str, value: object, expected: str) -> InputError:
    """The InputError for ``value`` given as ``name`` where ``expected`` was expected."""
    kind, shown = type(value).__name__, quote(value)
    got = kind if shown == f"<{kind}>" else f"{kind} {shown}"  # an object named by its type
    return InputError([FieldProblem(name, f"expected {expected}, got {got}")])


def require_instance(value: object, kind: type[T], name: str, expected: str) -> T:
    """``value`` when it is a ``kind``; anything else is an InputError."""
    if not isinstance(value, kind):
        raise wrong_kind(name, value, expected)
    return value


def require_text(value: object, name: str, expected: str = "a text") -> str:
    """``value`` when it is a ``str``; anything else is an InputError."""
    if not isinstance(value, str):
        raise wrong_kind(name, value, expected)
    return value


def require_optional_text(value: object, name: str, expected: str = "a text") -> str | None:
    """``value`` when it is a ``str`` or ``None``; anything else is an InputError."""
    if value is not None and not isinstance(value, str):
        raise wrong_kind(name, value, f"{expected} or None")
    return value


def require_bool(value: object, name: str) -> bool:
    """``value`` when it is ``True`` or ``False``; anything else is an InputError."""
    if not isinstance(value, bool):
        raise wrong_kind(name, value, "true or false")
    return value


def require_int(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` when it is an integer (not a bool) within the bounds given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_kind(name, value, "an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "" if minimum is None else f"at least {minimum}"
        high = "" if maximum is None else f"at most {maximum}"
        bounds = " and ".join(b for b in (low, high) if b)
        raise InputError([FieldProblem(name, f"expected an integer {bounds}, got {quote(value)}")])
    return value


def require_indent(indent: object) -> int | None:
    """``indent`` when it is ``None`` or an integer from 0 to 16; anything else is an
    InputError."""
    if indent is None:
        return None
    return require_int(indent, "indent", minimum=0, maximum=MAX_INDENT)


def require_date(value: object, name: str) -> dt.date:
    """``value`` when it is a date (a datetime gives its date); anything else is an
    InputError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise wrong_kind(name, value, "a date")
    return value


def require_mapping(value: object, name: str, expected: str = "a mapping") -> Mapping[Any, Any]:
    """``value`` when it is a mapping; anything else is an InputError."""
    if not isinstance(value, Mapping):
        raise wrong_kind(name, value, expected)
    return value


def require_callable(value: object, name: str) -> Callable[..., Any]:
    """``value`` when it can be called; anything else is an InputError."""
    if not callable(value):
        raise wrong_kind(name, value, "a callable")
    return value


def require_optional_callable(value: object, name: str) -> Callable[..., Any] | None:
    """``value`` when it is ``None`` or can be called; anything else is an InputError."""
    if value is not None and not callable(value):
        raise wrong_kind(name, value, "a callable or None")
    return value


def require_texts(value: object, name: str, expected: str = "a list of texts") -> tuple[str, ...]:
    """The texts of ``value``, a collection of ``str`` (not one ``str``); anything else,
    or an item that is not a ``str``, is an InputError."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise wrong_kind(name, value, expected)
    items = []
    for index, item in enumerate(value):
        if index >= MAX_ITEMS:
            raise InputError([FieldProblem(name, f"more than {MAX_ITEMS:,} items")])
        if not isinstance(item, str):
            raise wrong_kind(f"{name}[{index}]", item, "a text")
        items.append(item)
    return tuple(items)


def require_path(value: object, name: str) -> Path:
    """``value`` as a Path, when it is a text or a path holding no NUL; anything else is
    an InputError."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise wrong_kind(name, value, "a file's path")
    if "\0" in value:
        raise InputError([FieldProblem(name, f"a path cannot hold NUL: {quote(value)}")])
    if not fs_encodable(value):
        msg = f"a path cannot hold a lone surrogate no file name holds: {quote(value)}"
        raise InputError([FieldProblem(name, msg)])
    return Path(value)


def require_named_path(value: object, name: str, what: str = "a file's path") -> Path:
    """:func:`require_path`, for a path read or written as given; an empty text, which
    ``Path`` reads as ``.`` (the current folder), is an InputError that says so."""
    if value == "":
        msg = f"expected {what}, got an empty text (it would name the current folder)"
        raise InputError([FieldProblem(name, msg)])
    return require_path(value, name)


def fs_encodable(path: str) -> bool:
    """Whether the file system can be asked for ``path``: a name's bytes that are not
    UTF-8 come back as they were read (U+DC80 to U+DCFF), but another lone surrogate
    (``"a\\ud800"``) no file name holds, and ``os.stat`` raises ``UnicodeEncodeError``."""
    if is_utf8(path):
        return True
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        return False
    return True


def require_file_path(value: object, name: str) -> Path:
    """``value`` as a Path (:func:`require_path`) that names a file: its last part is a
    name, not empty (``""``, the root ``/``), ``.`` or ``..``. An output named so
    (``--out /``) would be a directory, and the files written beside it (``.partial``,
    ``.errors.jsonl``) could not be named; it is an InputError."""
    path = require_path(value, name)
    if path.name in ("", ".", ".."):
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        msg = f"expected a file's path, got {quote(str(text))}, which names no file"
        raise InputError([FieldProblem(name, msg)])
    return path


def require_paths(
    value: object, name: str, *, also: Callable[[object], bool] | None = None
) -> list[Any]:
    """The items of ``value``, a list of paths (texts or ``os.PathLike``, holding no
    NUL), each made a Path; an item for which ``also`` is true (a table, for a reader of
    tables too) is kept as it is. One text or path alone, anything that is not a
    collection, an empty text, or an item of another kind, is an InputError."""
    if isinstance(value, str | bytes | os.PathLike) or not isinstance(value, Iterable):
        raise wrong_kind(name, value, "a list of paths")
    items: list[Any] = []
    for index, item in enumerate(value):
        if index >= MAX_ITEMS:
            raise InputError([FieldProblem(name, f"more than {MAX_ITEMS:,} items")])
        if also is not None and also(item):
            items.append(item)
        elif item == "":
            # Path("") is ".": the rows of every case file in the current folder
            msg = "expected a path, got an empty text (it would read the current folder)"
            raise InputError([FieldProblem(f"{name}[{index}]", msg)])
        else:
            items.append(require_path(item, f"{name}[{index}]"))
    return items


def require_rows(value: object, name: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The rows of ``value``, a collection of ``(where, data)`` pairs (``where`` a text
    saying where the row was read, ``data`` a mapping), as the readers of JSON Lines give
    them. One text, a mapping, or anything that is not a collection is an InputError at
    once; a row of another shape is an InputError when it is reached, so that rows read
    from a file are still read one at a time."""
    if type(value) is not list and (
        isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable)
    ):
        raise wrong_kind(name, value, "a list of (where, data) pairs")
    return _pairs(value, name)


def _pairs(rows: Iterable[Any], name: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for index, row in enumerate(rows):
        if type(row) is not tuple or len(row) != 2:
            if isinstance(row, str | bytes) or not isinstance(row, tuple | list) or len(row) != 2:
                raise wrong_kind(f"{name}[{index}]", row, "a (where, data) pair")
            row = tuple(row)
        where, data = row
        if type(where) is not str:
            require_text(where, f"{name}[{index}][0]", "a text saying where the row was read")
        if type(data) is not dict:
            require_mapping(data, f"{name}[{index}][1]", "a mapping (one row's data)")
        yield row


def source_name(path: Path | str) -> str:
    """The name a file's rows give as their ``source``: the path as text UTF-8 can
    hold. A name's bytes that are not UTF-8 (a Latin-1 ``café.jsonl``), which Python
    holds as lone surrogates, are written as ``\\xNN`` escapes (``caf\\xe9.jsonl``):
    the decision's ``input.source`` could not be written otherwise, and every row of
    the file was a bad row."""
    text = str(path)
    return text if is_utf8(text) else os.fsencode(text).decode("utf-8", "backslashreplace")


def is_utf8(text: str) -> bool:
    """Whether UTF-8 can hold ``text``: it holds no lone surrogate (a file name's byte
    that is not UTF-8, or a JSON or YAML escape such as ``"\\udcff"``)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
