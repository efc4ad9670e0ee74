"""Hostile shapes for the fuzz suite: valid cases, then broken in every way input breaks.

A valid case dict (from the kit's ``cases`` strategy) gets one or two mutations:
a field replaced by a hostile value (exponent strings, huge and tiny numbers, NaN,
out-of-range dates, deep nesting, wrong types, bad Unicode, megabyte strings), a field
removed, or an unknown key added, at the top level or inside a signal, an event or a
guarantor. ``as_of`` is sometimes hostile too.

Measured values below 1e-4, which Python writes in exponent notation (``9e-05``) and
durable_rules would misread, are drawn everywhere, and by :func:`tiny_measures` alone;
the durable adapter writes numbers in plain digits, so both back ends agree on them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from collectrules.model.case import DEFAULT_SIGNAL_KINDS, EventKind
from collectrules.testing.strategies import DEFAULT_AS_OF, cases

__all__ = [
    "AS_OF",
    "deep",
    "edge_case_dicts",
    "hostile_as_ofs",
    "hostile_case_dicts",
    "hostile_values",
    "tiny_measures",
    "valid_case_dicts",
]

AS_OF = DEFAULT_AS_OF

_MONEY_KEYS = ("principal", "overdue_amount", "amount")
_DATE_KEYS = ("due_date", "maturity_date", "promised_date")
_INSTANT_KEYS = ("observed_at", "at")


def deep(depth: int, leaf: Any = "x") -> Any:
    """``leaf`` inside ``depth`` nested lists (or dicts, for odd depths)."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _tiny(value: object) -> bool:
    """A measured value durable_rules cannot read yet: below 1e-4 but not zero."""
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except Exception:  # not a number at all: not tiny
        return False
    return number.is_finite() and not number.is_zero() and number.copy_abs() < Decimal("1e-4")


_EXPONENT_TEXT = st.from_regex(r"\A-?\d{1,3}(\.\d{1,3})?[eE][+-]?\d{1,7}\Z")
_NUMBER_TEXTS = st.sampled_from(
    [
        "1e9999", "1e999999", "1e9999999", "-1e9999999", "-1e9999", "1e-9999", "1E+12", "1e12",
        "999999999999.99999999",
        "NaN", "nan", "-NaN", "sNaN", "Infinity", "-inf", "0x10", "1_000", " 12 ", "", "1e",
        "--1", "١٢٣", "0." + "0" * 60 + "1", "9" * 5_000, "1" * 65, "-0", "0e-999999",
    ]
)  # fmt: skip
_NUMBERS = st.one_of(
    _NUMBER_TEXTS,
    _EXPONENT_TEXT,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**5000, -(10**5000), 2**64, 2**63 - 1, 10**12, 10**12 + 1]),
    st.decimals(allow_nan=True, allow_infinity=True),
)
_DATE_TEXTS = st.one_of(
    st.sampled_from(
        [
            "9999-12-31", "0001-01-01", "1899-12-31", "1900-01-01", "2200-12-31", "2201-01-01",
            "2026-02-30", "2026-13-01", "26-01-01", "2026/01/01", "20260101", "2026-01-01T00:00",
            "", " 2026-01-01", "2026-01-01\u2028",
        ]
    ),
    st.dates().map(dt.date.isoformat),
)  # fmt: skip
_INSTANT_TEXTS = st.one_of(
    st.sampled_from(
        [
            "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00-14:00", "2026-06-30T12:00:00", "2026-06-30T12:00:00Z",
            "2026-06-30T25:00:00+08:00", "2026-06-30T12:00:00+24:00", "2026-06-30 12:00+08:00",
            "2201-01-01T00:00:00+00:00", "1899-12-31T23:59:59+00:00",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
    st.datetimes().map(dt.datetime.isoformat),
)  # fmt: skip
_BAD_TEXT = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=40),
    st.sampled_from(
        [
            "a\udcff", "\ud800", "\x00", "line\u2028break", "\u202eevil", "𝕏" * 10,
            "a" * 1_000_000, "k" * 65, "x" * 4_001, "loan ", "LOAN", " ", "\ufeffloan",
        ]
    ),
)  # fmt: skip
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(min_value=1, max_value=6_000).map(deep),
    # Built afresh for each example: a mutation may change what it draws.
    st.builds(lambda: [{"kind": "uncooperative", "observed_at": AS_OF.isoformat()}] * 1_001),
    st.builds(lambda: {f"k{i}": i for i in range(100)}),
)


# Values at the edges that are valid: they must be decided, the same on both back ends.
_EDGE_MONEY = st.one_of(
    st.decimals(min_value=0, max_value=10**12, places=2),
    st.sampled_from(["999999999999.99", "1000000000000", "0.00000001", "0", "1e3", "1E+11",
                     "١٢٣", 10**12, 0.1, 1e-8]),
)  # fmt: skip
_EDGE_MEASURE = st.one_of(
    st.decimals(min_value=-(10**12), max_value=10**12, places=4),
    st.sampled_from(["1e3", "2.5E+2", "-0", 10**12, -(10**12), "99999999999.5", 0.0001]),
)
_EDGE_DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)).map(
    dt.date.isoformat
)
_EDGE_INSTANTS = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 12, 30), timezones=st.timezones()
).map(dt.datetime.isoformat)
_EDGE_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30),
    st.sampled_from(["春节 note", "line\u2028break", "\u202eevil", "x" * 4_000, "𝕏"]),
)


_CHOICES: dict[str, tuple[str, ...]] = {
    "product": ("loan", "credit_card", "receivable", "property_fee", "Loan"),
    "currency": ("CNY", "USD", "JPY", "KWD", "XXX", "cny"),
    "timezone": ("Asia/Shanghai", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns",
                 "UTC", "Etc/GMT+12", "asia/shanghai"),
    "kind": (*DEFAULT_SIGNAL_KINDS["willingness_negative"], "cash_coverage", "recovery_months",
             *(k.value for k in EventKind)),
    "outcome": ("reached", "no_answer", "invalid_number", "refused"),
}  # fmt: skip


def hostile_values(key: str, *, edge_only: bool = False) -> st.SearchStrategy[Any]:
    """A value for the field ``key``: hostile of its own kind, valid at an edge of it,
    or any junk; with ``edge_only``, only values at an edge (mostly valid)."""
    if key == "value":
        own: st.SearchStrategy[Any] = _NUMBERS
        edge: st.SearchStrategy[Any] = _EDGE_MEASURE
    elif key in _MONEY_KEYS:
        own, edge = _NUMBERS, _EDGE_MONEY
    elif key in _DATE_KEYS:
        own, edge = _DATE_TEXTS, _EDGE_DATES
    elif key in _INSTANT_KEYS:
        own, edge = _INSTANT_TEXTS, _EDGE_INSTANTS
    elif key == "agreed_period_months":
        own = st.one_of(st.integers(min_value=-(10**6), max_value=10**6), st.just(10**5000))
        edge = st.integers(min_value=1, max_value=1200)
    elif key in _CHOICES:
        own, edge = _BAD_TEXT, st.one_of(st.sampled_from(_CHOICES[key]), _EDGE_TEXT)
    else:
        own, edge = _BAD_TEXT, _EDGE_TEXT
    if edge_only:
        return edge
    return st.one_of(own, edge, edge, edge, _JUNK)


def tiny_measures() -> st.SearchStrategy[Any]:
    """Measured values from 1e-12 to 1e-4: valid, and written in exponent notation."""
    return st.one_of(
        st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("0.0000999"), places=12),
        st.floats(min_value=1e-12, max_value=9.99e-5),
        st.sampled_from([0.00009, "9e-05", "1E-10", 1e-12]),
    ).filter(_tiny)


def valid_case_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Valid cases of the default policy, with events, as plain dicts."""
    return cases(with_events=True).map(lambda c: c.to_dict())


_ITEM_KEYS = {
    "signals": ("kind", "observed_at", "value", "note"),
    "events": ("kind", "at", "outcome", "amount", "promised_date", "channel", "party", "note"),
    "guarantors": ("id", "name", "agreed_period_months"),
}
_TOP_KEYS = (
    "case_id", "product", "currency", "principal", "overdue_amount", "due_date", "timezone",
    "maturity_date", "signals", "events", "guarantors", "sicr_rebutted", "default_rebutted",
)  # fmt: skip


@st.composite
def _mutate(draw: st.DrawFn, data: dict[str, Any], *, edge_only: bool = False) -> dict[str, Any]:
    out = {k: ([dict(i) for i in v] if isinstance(v, list) else v) for k, v in data.items()}
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        where = draw(st.sampled_from(["top", "top", "signals", "events", "guarantors"]))
        if where == "top":
            target, keys = out, _TOP_KEYS
        else:
            items = out.setdefault(where, [])
            if not isinstance(items, list):
                continue
            if not items or draw(st.booleans()):
                seed: dict[str, Any] = (
                    {"kind": "uncooperative", "observed_at": AS_OF.isoformat()}
                    if where == "signals"
                    else {"kind": draw(st.sampled_from([k.value for k in EventKind])),
                          "at": AS_OF.isoformat()}
                    if where == "events"
                    else {"id": "G-1"}
                )  # fmt: skip
                items.append(seed)
            target = items[draw(st.integers(min_value=0, max_value=len(items) - 1))]
            if not isinstance(target, dict):
                continue
            keys = _ITEM_KEYS[where]
        if edge_only:
            keys = tuple(k for k in keys if k not in ("kind", "case_id", "id"))
        action = draw(st.sampled_from(["replace"] * 4 + ([] if edge_only else ["drop", "unknown"])))
        key = draw(st.sampled_from(keys))
        if action == "replace":
            target[key] = draw(hostile_values(key, edge_only=edge_only))
        elif action == "drop":
            target.pop(key, None)
        else:
            target[draw(st.sampled_from(["princpal", "case id", "", "x" * 1_000, "\udcff"]))] = 1
    return out


def hostile_case_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Valid case dicts broken by one or two hostile mutations (some valid at an edge)."""
    return valid_case_dicts().flatmap(_mutate)


def edge_case_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Valid case dicts with one or two fields moved to an edge of what is valid:
    the largest amounts, the first and last years, far zones, long notes."""
    return valid_case_dicts().flatmap(lambda d: _mutate(d, edge_only=True))


def hostile_as_ofs() -> st.SearchStrategy[Any]:
    """``as_of`` values: the kit's default mostly, hostile instants and junk sometimes."""
    return st.one_of(
        st.just(AS_OF), st.just(AS_OF), st.just(AS_OF), _INSTANT_TEXTS, _JUNK,
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                     timezones=st.timezones()),
    )  # fmt: skip
