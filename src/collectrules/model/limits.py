"""The limits every case is checked against, at the boundary, before any work is done.

A limit bounds the work a case can cause and keeps every later computation in range:
pendulum cannot add a year to 9999-12-31, ``int(Decimal("1e9999"))`` runs into
Python's 4,300-digit conversion limit, and ``Decimal("1e999999") * 10_000`` overflows.
Each limit is named in the error that refuses a value, and documented, with its
reason, in ``docs/reliability.md``.

The checks here raise :class:`ValueError` or :class:`TypeError` with a short message;
the model turns them into :class:`~collectrules.errors.InputError` problems that name
the field.
"""

from __future__ import annotations

import datetime as dt
import numbers
import operator
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from collectrules._number_text import NUMBER_TEXT, number_text_message
from collectrules.errors import quote

__all__ = [
    "MAX_AS_OF_YEAR",
    "MAX_COUNT",
    "MAX_EVENTS",
    "MAX_FEES",
    "MAX_GUARANTORS",
    "MAX_ID_LENGTH",
    "MAX_KEYS",
    "MAX_KIND_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_NUMBER_TEXT",
    "MAX_SIGNALS",
    "MAX_TEXT_LENGTH",
    "MAX_YEAR",
    "MEASURE",
    "MIN_AS_OF_YEAR",
    "MIN_YEAR",
    "MONEY",
    "NO_DATE_SENTINELS",
    "NUMBER_TEXT",
    "NumberLimit",
    "check_date",
    "check_instant",
    "check_nesting",
    "check_number",
    "check_text",
    "holds_at_most",
    "number_text_message",
]

#: The first year a date or instant of a case may fall in. Older dates are typos
#: (``0202`` for ``2020``) or placeholders, and no collection law reaches that far.
MIN_YEAR = 1900
#: The last year a date or instant of a case may fall in: far beyond any maturity,
#: with room for the longest legal period the timeline adds (a 20-year long stop, a
#: 100-year parameter) before pendulum's year 9999.
MAX_YEAR = 2200
#: The range of ``as_of``: the same years as the case's dates.
MIN_AS_OF_YEAR = MIN_YEAR
#: The last year of ``as_of`` (see :data:`MIN_AS_OF_YEAR`).
MAX_AS_OF_YEAR = MAX_YEAR
#: Dates that loan systems write to mean "no date". ``Case.from_dict`` reads an
#: optional date (``maturity_date``) equal to one of them as absent, unless the caller
#: passes other ``no_date_sentinels``; a required date equal to one is refused as out
#: of range.
NO_DATE_SENTINELS: tuple[dt.date, ...] = (dt.date(9999, 12, 31),)

#: The longest ``case_id`` or guarantor ``id``, in characters.
MAX_ID_LENGTH = 200
#: The longest signal kind, channel or party name, in characters.
MAX_KIND_LENGTH = 64
#: The longest free text (a note, a guarantor's name), in characters.
MAX_TEXT_LENGTH = 4_000
#: The most signals one case may carry.
MAX_SIGNALS = 1_000
#: The largest count a case field takes (``consecutive_minimum_payments``): a century
#: of monthly payments.
MAX_COUNT = 1200
#: The most events one case may carry (a contact attempt a day for almost three years).
MAX_EVENTS = 1_000
#: The most guarantors one case may carry.
MAX_GUARANTORS = 50
#: Fees of a case's fee schedule.
MAX_FEES = 1_000
#: The deepest nesting of a case's data: case → list → item → value is 3.
MAX_NESTING_DEPTH = 4
#: The most keys one object of a case's data may have (a case has 13 fields).
MAX_KEYS = 64
#: The longest text a number may be written as (``"12345.67"``, ``"1e3"``).
MAX_NUMBER_TEXT = 64


@attrs.frozen
class NumberLimit:
    """The numbers a field of one type may hold.

    ``maximum`` bounds the magnitude; ``smallest`` is the smallest non-zero magnitude;
    ``digits`` the most significant digits (17 is what any binary float needs).
    """

    what: str
    maximum: Decimal
    smallest: Decimal
    digits: int
    negative: bool = False

    def describe(self) -> str:
        """The limit in words, for error messages and docs."""
        sign = "" if self.negative else "non-negative, "
        return (
            f"{sign}at most {self.maximum:,} in magnitude, none smaller than "
            f"{self.smallest:E} but zero, at most {self.digits} significant digits"
        )


#: Money amounts: principal, overdue amount, payments and promised amounts. The
#: maximum, scaled to ten-thousandths for the rules, stays within a 64-bit integer.
MONEY = NumberLimit("money amount", maximum=Decimal(10**12), smallest=Decimal("1E-8"), digits=20)
#: Measured signal values such as ``cash_coverage`` and ``recovery_months``: ratios
#: and counts, read by the rules as binary floats.
MEASURE = NumberLimit(
    "measured value",
    maximum=Decimal(10**12),
    smallest=Decimal("1E-12"),
    digits=20,
    negative=True,
)


def check_number(value: object, limit: NumberLimit) -> Decimal:
    """``value`` (an int, a float, a decimal or a numeric string) as a checked Decimal.

    A string must be written as :data:`NUMBER_TEXT` describes.

    Other integers and binary floats (NumPy's ``int64`` and ``float64``, as a pandas
    frame's ``to_dict`` gives them) count as the ``int`` or ``float`` of their value; a
    bool, of any library, is not a number.
    Raises :class:`TypeError` for a non-number and :class:`ValueError` for a number
    outside ``limit``, each with a short message that quotes at most a little of it.
    """
    if isinstance(value, bool):
        msg = f"expected a number, got {type(value).__name__} {quote(value)}"
        raise TypeError(msg)
    if not isinstance(value, int | float | str | Decimal):
        value = _plain_number(value)
    elif isinstance(value, float) and type(value) is not float:
        value = float(value)  # its repr is the subclass's (numpy: 'np.float64(1.5)')
    if isinstance(value, int) and value.bit_length() > 64:
        msg = f"{limit.what} {quote(value)} is too large: {limit.describe()}"
        raise ValueError(msg)
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        msg = (
            f"expected a number written in at most {MAX_NUMBER_TEXT} characters, "
            f"got {len(value):,}: {quote(value, limit=40)}"
        )
        raise ValueError(msg)
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value) is None:
        raise ValueError(number_text_message(value))
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        msg = f"expected a number, got {quote(value)}"
        raise ValueError(msg) from None
    if not number.is_finite():
        msg = f"expected a finite number, got {quote(value)}"
        raise ValueError(msg)
    if number.is_zero():
        return Decimal(0) if number.is_signed() else number
    if number < 0 and not limit.negative:
        msg = f"must not be negative, got {number}"
        raise ValueError(msg)
    # adjusted() is the exponent of the leading digit: safe at any exponent.
    if number.adjusted() >= limit.maximum.adjusted() and number.copy_abs() > limit.maximum:
        msg = f"{limit.what} {quote(value)} is too large: {limit.describe()}"
        raise ValueError(msg)
    if number.adjusted() < limit.smallest.adjusted():
        msg = f"{limit.what} {quote(value)} is too small: {limit.describe()}"
        raise ValueError(msg)
    # Counted on the digits as written, without a context that would round them.
    written = "".join(map(str, number.as_tuple().digits)).rstrip("0")
    digits = len(written)
    if digits > limit.digits:
        msg = f"{limit.what} {quote(value)} has {digits} significant digits: {limit.describe()}"
        raise ValueError(msg)
    return number


def _plain_number(value: object) -> int | float:
    """An integer or real number of another library as a Python ``int`` or ``float``."""
    if isinstance(value, numbers.Integral):
        try:
            return operator.index(value)
        except Exception:  # an Integral that is no index; reported as not a number
            pass
    elif isinstance(value, numbers.Real):
        try:
            plain = float(value)
        except Exception:  # a Real that gives no float
            pass
        else:
            if type(plain) is float:
                return plain
    msg = f"expected a number, got {type(value).__name__} {quote(value)}"
    raise TypeError(msg)


def _year_range(day: dt.date, first: int, last: int, what: str) -> None:
    if not first <= day.year <= last:
        msg = f"{what} {day.isoformat()} is outside the years {first}–{last}"
        raise ValueError(msg)


def check_date(day: dt.date, *, what: str = "date") -> dt.date:
    """``day``, when its year lies in :data:`MIN_YEAR`–:data:`MAX_YEAR`."""
    _year_range(day, MIN_YEAR, MAX_YEAR, what)
    return day


def check_instant(
    at: dt.datetime, *, what: str = "time", first: int = MIN_YEAR, last: int = MAX_YEAR
) -> dt.datetime:
    """``at``, when its year, in UTC and at its own offset, lies in ``first``–``last``."""
    _year_range(at.date(), first, last, what)
    return at


def check_text(value: object, *, maximum: int, what: str = "string") -> str:
    """``value``, when it is a string of at most ``maximum`` characters, valid Unicode.

    A lone surrogate (``"\\udcff"``, what a bad byte becomes under ``surrogateescape``)
    cannot be written as UTF-8, so it is refused here rather than when output is written.
    """
    if not isinstance(value, str):
        msg = f"expected a {what}, got {type(value).__name__} {quote(value)}"
        raise TypeError(msg)
    if len(value) > maximum:
        msg = (
            f"expected a {what} of at most {maximum:,} characters, got {len(value):,}: "
            f"{quote(value, limit=60)}"
        )
        raise ValueError(msg)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            msg = (
                f"invalid Unicode at character {exc.start + 1} "
                f"(a lone surrogate, {value[exc.start]!a}): {quote(value, limit=60)}"
            )
            raise ValueError(msg) from None
    return value


_MAX_ITEMS = max(MAX_SIGNALS, MAX_EVENTS, MAX_GUARANTORS, MAX_FEES)


def _path(link: tuple[Any, ...] | None) -> str:
    """The dotted path of a link ``(parent_link, key)``, such as ``signals[2].value``."""
    keys: list[Any] = []
    while link is not None:
        link, key = link
        keys.append(key)
    out = ""
    for key in reversed(keys):
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            name = key if isinstance(key, str) and len(key) <= MAX_KIND_LENGTH else "…"
            out = f"{out}.{name}" if out else name
    return out


_SCALARS = (str, int, float, Decimal, dt.date, type(None))


def holds_at_most(value: Any, most: int, *, records: bool = False) -> bool:
    """Whether ``value`` holds at most ``most`` values: items of lists, tuples and sets,
    keys and values of mappings, and, with ``records``, the fields of attrs instances
    (as ``attrs.asdict`` converts them), at any depth, each counted as often as it is
    held (a list held in several places is written, copied and converted once per
    place). Walked without recursion, in at most ``most`` steps."""
    stack = [value]
    held = 0
    while stack:
        item = stack.pop()
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, Mapping):
            held += 2 * len(item)
            children: Any = (*item.keys(), *item.values()) if held <= most else ()
        elif isinstance(item, list | tuple | set | frozenset):
            held += len(item)
            children = item
        elif records and attrs.has(type(item)):
            names = [f.name for f in attrs.fields(type(item))]
            held += len(names)
            children = [getattr(item, name) for name in names] if held <= most else ()
        else:
            continue
        if held > most:
            return False
        stack.extend(children)
    return True


def check_nesting(data: Any, *, maximum: int = MAX_NESTING_DEPTH) -> list[tuple[str, str]]:
    """The places where ``data`` is nested deeper than ``maximum`` or is too wide.

    Walks the data without recursion, so a 5,000-deep value costs ``maximum`` steps,
    not a ``RecursionError``. A list or mapping held in several places (as a Python
    caller may build: a list holding one list a thousand times) is walked again only
    from a greater depth than before, so at most ``maximum + 1`` times, not once per
    place. Returns ``(path, message)`` pairs, at most one per offending branch; an empty
    list when the data is within the limits.
    """
    found: list[tuple[str, str]] = []
    # Each entry: the value, its depth, and its path as a link (parent link, key).
    stack: list[tuple[Any, int, tuple[Any, ...] | None]] = [(data, 0, None)]
    # The greatest depth each list or mapping was walked from (by id: all are held by
    # ``data`` until the walk ends); from there or less deep, nothing new is below it.
    deepest: dict[int, int] = {}
    while stack and len(found) < 20:
        value, depth, link = stack.pop()
        if isinstance(value, _SCALARS):
            continue
        if deepest.get(id(value), -1) >= depth:
            continue
        deepest[id(value)] = depth
        children: Any
        if isinstance(value, Mapping):
            if len(value) > MAX_KEYS:
                found.append(
                    (_path(link), f"has {len(value):,} keys; at most {MAX_KEYS} are allowed")
                )
                continue
            children = value.items()
        elif isinstance(value, list | tuple):
            if len(value) > _MAX_ITEMS:
                found.append((_path(link), f"has {len(value):,} items; at most {_MAX_ITEMS:,}"))
                continue
            children = enumerate(value)
        else:
            continue
        if depth >= maximum and len(value):
            found.append((_path(link), f"nested deeper than {maximum} levels"))
            continue
        stack.extend((child, depth + 1, (link, key)) for key, child in children)
    found.sort()
    return found
