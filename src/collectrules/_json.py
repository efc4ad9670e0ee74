"""JSON text as the library reads it: an object that names a key twice is refused, and
so is a number that is not zero but reads as zero.

``json.loads`` keeps the last value of a key an object names twice and drops the
others without a word, so a row ``{"principal": "100", ..., "principal": "100000"}``
would be decided on one of two amounts the file gives. CSV headers and Parquet files
that name a column twice are refused (:mod:`collectrules.io.reader`); :func:`loads`
refuses the same fault in JSON: a :class:`RepeatedKeyError` naming the key by its path,
with the line and column of its second naming.

The check rides the C decoder (an ``object_pairs_hook`` on a decoder built once: about
1 µs on a case's row); only text that has a repeated key is read a second time, to
find where.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import re
import sys
from decimal import Decimal
from typing import Any

from collectrules.errors import quote

__all__ = [
    "SCHEMA_END",
    "NotUtf8",
    "RepeatedKeyError",
    "TooSmallNumber",
    "checked_float",
    "key_lines",
    "key_step",
    "loads",
    "loads_with_repeats",
    "number_offset",
    "reads_as_zero",
    "too_small_message",
    "unheld",
]


class RepeatedKeyError(ValueError):
    """An object of the JSON text names a key twice.

    ``path`` is the key's path (``signals[2].kind``; the key alone at the top level),
    ``key`` the key, and ``line`` and ``column`` (1-based, or None when the text could
    not be read a second time) where it is named the second time. A ``ValueError``, as
    ``json.loads``' own errors are.
    """

    def __init__(self, key: str, path: str, line: int | None, column: int | None) -> None:
        self.key = key
        self.path = path
        self.line = line
        self.column = column
        super().__init__(f"{path}: {self.reason}")

    @property
    def reason(self) -> str:
        """What is wrong and what was expected, without the path."""
        return self.described()

    def described(self, *, line: bool = True, column: bool = True) -> str:
        """:attr:`reason`, saying the line and the column only where asked (a reader
        that knows the line of the text in its file says that line itself)."""
        where = []
        if line and self.line is not None:
            where.append(f"line {self.line}")
        if column and self.column is not None:
            where.append(f"column {self.column}")
        at = f" ({', '.join(where)})" if where else ""
        return f"named twice in one object{at}: expected each key once"


class _Repeated(Exception):
    """Raised by the decoder's hook: the object's pairs name a key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _repeated(pairs: list[tuple[str, Any]]) -> str:
    """The first key ``pairs`` name a second time (they name one: a linear scan)."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no key is repeated")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _Repeated(_repeated(pairs))
    return data


class NotUtf8(UnicodeDecodeError):
    """JSON bytes in UTF-16 or UTF-32, which ``json.loads`` would read and the library
    does not: ``found`` names the encoding (``utf-16-le``), as ``json.detect_encoding``
    tells it from the first bytes. A ``UnicodeDecodeError``, as bytes that are not UTF-8
    are."""

    def __init__(self, data: bytes, found: str) -> None:
        self.found = found
        reason = f"the bytes are {found.upper()}, expected UTF-8"
        super().__init__("utf-8", data[:4], 0, min(len(data), 4), reason)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.object, self.found))


def _text(text: str | bytes | bytearray) -> str:
    """``text`` as the library reads JSON: bytes as UTF-8, a byte order mark before
    them skipped as ``json.loads`` skips it; bytes in UTF-16 or UTF-32, which it would
    read, are :class:`NotUtf8`, and bytes that are not UTF-8 a ``UnicodeDecodeError``.
    A text starting with a byte order mark is refused, as ``json.loads`` refuses it."""
    if not isinstance(text, str):
        found = json.detect_encoding(text)
        if found not in ("utf-8", "utf-8-sig"):
            raise NotUtf8(bytes(text[:4]), found)
        return text.decode(found)
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return text


class TooSmallNumber(Exception):
    """A number that a float does not hold as written, as written (``text``), with its
    ``line`` where the reader knows it: one that is not zero but reads as 0.0
    (``1e-400``), or one with more digits than a float keeps, which it would round
    (``12345678901234567.89``). :attr:`message` says which."""

    def __init__(self, text: str, line: int | None = None, message: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.line = line
        self.message = message if message is not None else too_small_message(text)


def checked_float(text: str) -> float:
    """``float(text)``, as ``json.loads`` and tomllib read a number with a fraction or an
    exponent; but a number that a float does not hold as written is refused
    (:class:`TooSmallNumber`): one that is not zero and reads as 0.0 (``1e-400``), and
    one a float would round to another number (``12345678901234567.89``), where they
    would read it as that float (``1e400`` they read as infinity, which every field
    refuses)."""
    value = float(text)
    problem = unheld(text, value)
    if problem is not None:
        raise TooSmallNumber(text, message=problem)
    return value


def unheld(text: str, value: float) -> str | None:
    """What is wrong with reading the number written ``text`` as the float ``value``
    (``float(text)``), or None when the float holds it as written: its shortest form
    (``repr``) is the same number (``0.1``, ``1.10``, ``1e22``)."""
    if value == 0.0:
        return too_small_message(text) if reads_as_zero(text) else None
    mantissa = text.lower().partition("e")[0]
    if len(mantissa) <= _HELD_DIGITS or not math.isfinite(value):
        return None  # a float holds any number of 15 significant digits
    if len(_DIGITS.sub("", mantissa).lstrip("0")) <= _HELD_DIGITS:
        return None
    try:
        written = Decimal(text.replace("_", ""))
    except ArithmeticError:
        return None  # not a decimal (a YAML sexagesimal 1:30.5): left as its reader reads it
    if written == Decimal(repr(value)):
        return None
    return (
        f"the number {text[:40]} has more digits than a float keeps (it would read as "
        f"{quote(value)}): expected at most {_HELD_DIGITS} significant digits, or the number "
        "as a text where the field takes one"
    )


#: The significant digits every double holds as written (DBL_DIG).
_HELD_DIGITS = 15
_DIGITS = re.compile(r"[^0-9]")


def reads_as_zero(text: str) -> bool:
    """Whether the number written ``text`` is not zero although its float is 0.0
    (``1e-400``): its digits before any exponent are not all zeros. For a text whose
    float is 0.0."""
    return _NONZERO.search(text.lower().partition("e")[0]) is not None


def too_small_message(text: str) -> str:
    """What is wrong with a number that :func:`reads_as_zero`."""
    return f"the number {text[:40]} is not zero but too small to hold (it would read as 0)"


_NONZERO = re.compile(r"[1-9]")
_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_float=checked_float)


def number_offset(text: str, number: str) -> int | None:
    """Where ``number`` first stands in ``text`` as a number, not inside a text (JSON's
    or TOML's quotes), or None."""
    found = re.search(r"(?<![\w\"'.+-])" + re.escape(number) + r"(?![\w\"'.])", text)
    return None if found is None else found.start()


def _underflow_error(text: str, number: TooSmallNumber) -> json.JSONDecodeError:
    """The ``json.JSONDecodeError`` of a number a float does not hold, at its place."""
    at = number_offset(text, number.text) or 0
    return json.JSONDecodeError(number.message, text, at)


def _long_digits(text: str) -> re.Match[str] | None:
    """The first run of more digits than Python reads as an integer under its current
    limit (``sys.get_int_max_str_digits()``: 4,300 by default, 0 for none)."""
    limit = sys.get_int_max_str_digits()
    return re.search(rf"\d{{{limit + 1},}}", text) if limit else None


def _too_long(text: str) -> json.JSONDecodeError | None:
    """For ``text`` that ``json`` refused with a ``ValueError`` of its own: an integer
    past Python's digit limit for text, as a ``json.JSONDecodeError`` at its place;
    None for any other cause."""
    long = _long_digits(text)
    if long is None:
        return None
    msg = f"a number of {len(long.group()):,} digits, more than can be read"
    return json.JSONDecodeError(msg, text, long.start())


#: The deepest nesting of arrays and objects a JSON text may hold. Python's own decoder
#: stops at its recursion limit on 3.11 and 3.12 and reads far deeper on 3.13: one
#: figure, so that a text is refused alike on every version.
MAX_NESTING = 500
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str) -> bool:
    """Whether ``text`` nests arrays and objects more than :data:`MAX_NESTING` deep
    (brackets inside strings not counted). Scanned only when the text holds more
    opening brackets than that."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False
    depth = 0
    for match in _NESTING.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def _decoded(decoder: json.JSONDecoder, text: str) -> Any:
    """``decoder.decode(text)``; a number that is not zero but that a float cannot hold,
    and an integer past Python's digit limit for text, are a ``json.JSONDecodeError`` at
    its place; a text nested more than :data:`MAX_NESTING` deep is a ``RecursionError``,
    as Python's decoder raises past its own limit."""
    if _too_deep(text):
        raise RecursionError(f"JSON nested more than {MAX_NESTING} deep")
    try:
        return decoder.decode(text)
    except TooSmallNumber as exc:
        raise _underflow_error(text, exc) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer past Python's digit limit for text
        long = _too_long(text)
        if long is None:
            raise
        raise long from None


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads(text)``, except that an object naming a key twice is a
    :class:`RepeatedKeyError`, a number that is not zero but that a float cannot
    hold (``1e-400``, which ``json.loads`` reads as 0.0) a ``json.JSONDecodeError`` at
    its place, and bytes are read as UTF-8 only (:func:`_text`: UTF-16 and UTF-32 are
    :class:`NotUtf8`). Every other error is ``json.loads``' own."""
    text = _text(text)
    try:
        return _decoded(_DECODER, text)
    except _Repeated as exc:
        found = _first_repeat(text)
        if found is None:  # not found again (cannot happen on text the decoder read)
            raise RepeatedKeyError(exc.key, key_step("", exc.key), None, None) from None
        raise _error(text, *found) from None


def loads_with_repeats(text: str) -> tuple[Any, list[RepeatedKeyError]]:
    """``json.loads(text)`` (the last value of a repeated key kept) and every key named
    twice in one object, in the order of the text: for a reader that refuses only the
    parts of the text that hold one (the rows of a JSON array). Every other error is
    ``json.loads``' own."""
    seen: list[str] = []

    def marked(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(pairs)
        if len(data) != len(pairs):
            seen.append(_repeated(pairs))
        return data

    text = _text(text)
    decoder = json.JSONDecoder(object_pairs_hook=marked, parse_float=checked_float)
    data = _decoded(decoder, text)
    if not seen:
        return data, []
    found: list[tuple[str, str, str, int]] = []
    with contextlib.suppress(ValueError, IndexError, RecursionError):
        _value(text, _skip(text, 0), "", 0, found)
    if len({where[0] for where in found}) < len(seen):
        # Not every object found again (text nested past _MAX_DEPTH): the whole text is
        # refused rather than one of its values silently kept.
        raise RepeatedKeyError(seen[0], key_step("", seen[0]), None, None)
    return data, [_error(text, *where[1:]) for where in found]


def _error(text: str, path: str, key: str, at: int) -> RepeatedKeyError:
    line = text.count("\n", 0, at) + 1
    return RepeatedKeyError(key, path, line, at - text.rfind("\n", 0, at))


_SPACE = re.compile(r"[ \t\n\r]*")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The deepest nesting searched for the repeated key (deeper text is reported without
#: its place).
_MAX_DEPTH = 1_000
_SCALARS = json.JSONDecoder()


def key_step(path: str, key: str) -> str:
    """``path`` followed by the object key ``key``: ``a.b`` for a plain name, ``a['b c']``
    otherwise (the top level: the key alone, or ``['b c']``)."""
    if _PLAIN_NAME.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{quote(key)}]"


class _Found(Exception):
    def __init__(self, path: str, key: str, at: int) -> None:
        super().__init__(path)
        self.found = (path, key, at)


def _first_repeat(text: str) -> tuple[str, str, int] | None:
    """The first key named twice in one object, in the order of the text: its path,
    the key, and the offset of its second naming; None when there is none (or the
    text is not JSON, or nests past :data:`_MAX_DEPTH`)."""
    try:
        _value(text, _skip(text, 0), "", 0, None)
    except _Found as exc:
        return exc.found
    except (ValueError, IndexError, RecursionError):
        return None
    return None


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]


def key_lines(text: str) -> dict[str, int]:
    """The 1-based line of each key of the JSON ``text`` by its path (``a.b``,
    ``a[2].b``; :func:`key_step`), the first naming of each; empty for text that is not
    JSON, or nests past :data:`_MAX_DEPTH`."""
    offsets: dict[str, int] = {}
    try:
        _value(text, _skip(text, 0), "", 0, [], offsets)
    except (ValueError, IndexError, RecursionError):
        return {}
    starts = [i for i, c in enumerate(text) if c == "\n"]
    return {path: bisect.bisect_left(starts, at) + 1 for path, at in offsets.items()}


def _value(
    text: str,
    at: int,
    path: str,
    depth: int,
    found: list[tuple[str, str, str, int]] | None,
    keys: dict[str, int] | None = None,
) -> int:
    """Read the value at ``at`` (no space before it): the offset after it. A key named
    twice is added to ``found`` (the object's path, the key's, the key, its offset),
    or, without it, raised (:class:`_Found`); the offset of each key's first naming
    is added to ``keys``, by its path, when it is given."""
    if depth > _MAX_DEPTH:
        raise ValueError("too deep")
    first = text[at]
    if first == "{":
        at = _skip(text, at + 1)
        if text[at] == "}":
            return at + 1
        seen: set[str] = set()
        while True:
            if text[at] != '"':
                raise ValueError("expected a key")
            start = at
            key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
            if key in seen:
                if found is None:
                    raise _Found(key_step(path, key), key, start)
                found.append((path, key_step(path, key), key, start))
            seen.add(key)
            if keys is not None:
                keys.setdefault(key_step(path, key), start)
            at = _skip(text, at)
            if text[at] != ":":
                raise ValueError("expected a colon")
            at = _value(text, _skip(text, at + 1), key_step(path, key), depth + 1, found, keys)
            at = _skip(text, at)
            if text[at] == "}":
                return at + 1
            if text[at] != ",":
                raise ValueError("expected a comma")
            at = _skip(text, at + 1)
    if first == "[":
        at = _skip(text, at + 1)
        if text[at] == "]":
            return at + 1
        index = 0
        while True:
            at = _skip(text, _value(text, at, f"{path}[{index}]", depth + 1, found, keys))
            if text[at] == "]":
                return at + 1
            if text[at] != ",":
                raise ValueError("expected a comma")
            at = _skip(text, at + 1)
            index += 1
    _, end = _SCALARS.raw_decode(text, at)
    return int(end)


#: The end of the text in a JSON Schema ``pattern``, alike in ECMA-262 and in Python's
#: ``re`` (which ``jsonschema`` runs): Python's ``$`` also matches before a final line
#: break, which ``(?!\\n)`` refuses; in ECMA-262 ``$`` matches only at the end.
SCHEMA_END = r"$(?!\n)"


def schema_pattern(pattern: re.Pattern[str]) -> str:
    """``pattern`` as a JSON Schema ``pattern`` (ECMA-262, and Python's ``re``): a
    Python check's ``\\Z`` becomes :data:`SCHEMA_END`, which ends the text alike in
    both (ECMA-262 has no ``\\Z``; Python's ``$`` alone also matches before a final
    line break)."""
    text = pattern.pattern
    return text[:-2] + SCHEMA_END if text.endswith("\\Z") else text
