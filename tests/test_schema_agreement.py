"""The case JSON Schema accepts a document exactly when ``Case.from_dict`` does.

A lender checks a feed against the published schema before sending it: what the schema
accepts must load. The fields are read from the model (``_CaseIn`` and the classes it
holds), so a new field is covered, and a field of a type this file has no values for
fails the test. Each field gets valid values and near misses: empty and blank text,
control characters, lone surrogates, long text, enumerations in the wrong case, dates
that are not days of the calendar, instants without an offset, numbers written as text
with a sign, an exponent, a NaN, too many digits, and numbers too large or too small.

The only disagreements allowed are the ones the schema's description and
docs/decision-schema.md list (``_CASE_EXCEPTIONS``); :func:`_documented` says which, and
each is shown by an example below.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import json
import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import InputError
from collectrules._number_text import NUMBER_TEXT
from collectrules.model import case as case_module
from collectrules.model.case import EVENT_REQUIRED_FIELDS, Case, EventKind, currency_codes
from collectrules.model.limits import MAX_COUNT, MAX_KIND_LENGTH, MAX_YEAR, MIN_YEAR
from collectrules.model.schema import _CASE_EXCEPTIONS, _PY_SPACE, case_schema
from collectrules.testing.strategies import cases

ROOT = Path(__file__).parent.parent
VALIDATOR = jsonschema.Draft202012Validator(case_schema())
ABSENT = object()  # a mutation that removes the field


# ------------------------------------------------------------------ the fields, from the model


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of the case document: its path (list items as index 0) and type."""

    path: tuple[str | int, ...]
    tp: Any

    @property
    def name(self) -> str:
        return ".".join(str(p) for p in self.path)


def _item_class(tp: Any) -> type | None:
    if typing.get_origin(tp) is tuple:
        (item, _) = typing.get_args(tp)
        if attrs.has(item):
            return typing.cast(type, item)
    return None


def _fields(cls: type, prefix: tuple[str | int, ...] = ()) -> list[Field]:
    out: list[Field] = []
    for f in attrs.fields(attrs.resolve_types(cls)):
        out.append(Field((*prefix, f.name), f.type))
        item = _item_class(f.type)
        if item is not None:
            out.extend(_fields(item, (*prefix, f.name, 0)))
    return out


FIELDS = _fields(case_module._CaseIn)
LISTS = [f for f in FIELDS if _item_class(f.tp) is not None]


def test_every_field_of_the_model_is_walked() -> None:
    names = {f.name for f in FIELDS}
    for item in (case_module._SignalIn, case_module._EventIn, case_module._GuarantorIn):
        key = {
            case_module._SignalIn: "signals",
            case_module._EventIn: "events",
            case_module._GuarantorIn: "guarantors",
        }[item]
        assert {f"{key}.0.{a.name}" for a in attrs.fields(item)} <= names
    assert {a.name for a in attrs.fields(case_module._CaseIn)} <= names
    assert {f"fees.0.{a.name}" for a in attrs.fields(case_module._FeeIn)} <= names


# ------------------------------------------------------------------ values and near misses

_DIGIT = st.sampled_from("0000119555")
_PY_SPACES = "".join(chr(c) for c in range(0x3001) if re.match(r"\s", chr(c)))
_SPACES = [*_PY_SPACES, "\ufeff", "\u200b"]


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """Numbers as text, near the limits: signs, leading zeros, many digits, exponents."""
    sign = draw(st.sampled_from(["", "", "+", "-"]))
    whole = "".join(draw(st.lists(_DIGIT, max_size=15)))
    fraction = draw(st.none() | st.lists(_DIGIT, max_size=25).map("".join))
    text = sign + whole + ("" if fraction is None else "." + fraction)
    if draw(st.integers(0, 5)) == 0:
        text += draw(st.sampled_from(["e", "E"])) + draw(st.sampled_from(["", "+", "-"]))
        text += str(draw(st.integers(0, 20)))
    return text


NUMBER_NEAR_MISSES = [
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+5",
    ".5",
    "5.",
    "-0",
    "-0.0",
    "-.0",
    "0",
    "00",
    "1_000",
    "١٢",
    "１２",
    ".",
    "+",
    "-",
    "1e3",
    "1E+3",
    "1e-9",
    "1e99",
    "0x10",
    "1,5",
    "10",
    "9.999999999999",
    "1.000",
    "1.0000000000000000000001",
    "12345678901234567890",
    "123456789012.12345678",
    "1000000000000",
    "1000000000000.0",
    "1000000000000.01",
    "0.00000001",
    "0.000000009",
    "0.000000000001",
    "0.0000000000009",
    " 5",
    "5 ",
    "5\n",
    "",
]
FLOAT_EDGES = [0.0, -0.0, 0.5, 1.0, 1.0000000000000002, 9.999999999999998, 10.0, 1e-8]
FLOAT_EDGES += [9.999999999999999e-09, 1e-12, 9.99e-13, 5e-324, 1e12, 1.0000000000000002e12]
FLOAT_EDGES = [0.0, -0.0, 0.5, 1.0, 1.0000000000000002, 9.999999999999998, 10.0, 1e-8, 3.0]
FLOAT_EDGES += [9.999999999999999e-09, 1e-12, 9.99e-13, 5e-324, 1e12, 1.0000000000000002e12]
JSON_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, 9, 10, 11, -1, 10**12, 10**12 + 1, -(10**12), 1200, 1201, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(FLOAT_EDGES),
)
NUMBERS = st.one_of(number_texts(), st.sampled_from(NUMBER_NEAR_MISSES), JSON_NUMBERS)


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    years = st.sampled_from([MIN_YEAR - 1, MIN_YEAR, 1904, 2000, 2024, 2026, 2100, 2104])
    year = draw(
        years | st.sampled_from([2196, MAX_YEAR, MAX_YEAR + 1, 9999]) | st.integers(0, 9999)
    )
    month = draw(st.integers(0, 13))
    day = draw(st.sampled_from([0, 1, 28, 29, 30, 31, 32]) | st.integers(1, 31))
    return f"{year:04d}-{month:02d}-{day:02d}"


DATE_NEAR_MISSES = [
    "2026-W13-1", "2026-W13", "20260331", "2026-3-31", " 2026-03-31", "2026-03-31\n",
    "2026-03-31T00:00Z", "２０２６-03-31", "2026-03-31 ", "2026/03/31", "9999-12-31",
    "2026-02-30", "2024-02-29", "2100-02-29", "2000-02-29", "1900-02-29", "",
]  # fmt: skip
DATES = st.one_of(date_texts(), st.sampled_from(DATE_NEAR_MISSES), st.dates().map(str))


@st.composite
def instant_texts(draw: st.DrawFn) -> str:
    day = draw(date_texts() | st.dates(dt.date(1899, 1, 1), dt.date(2201, 12, 31)).map(str))
    sep = draw(st.sampled_from(["T", "T", "t", " ", "_"]))
    hour, minute = draw(st.integers(0, 25)), draw(st.sampled_from([0, 30, 59, 60, 61]))
    text = f"{day}{sep}{hour:02d}:{minute:02d}"
    if draw(st.booleans()):
        text += f":{draw(st.sampled_from([0, 1, 59, 60, 61])):02d}"
        if draw(st.booleans()):
            text += "." + "".join(draw(st.lists(_DIGIT, max_size=12)))
    offset = draw(
        st.sampled_from(["Z", "z", "", "+08:00", "-05:00", "+0800", "+08", "-00:00"])
        | st.builds(
            "{}{:02d}:{:02d}{}".format,
            st.sampled_from("+-"),
            st.sampled_from([0, 8, 22, 23, 24]) | st.integers(0, 25),
            st.sampled_from([0, 30, 58, 59, 60, 99]) | st.integers(0, 99),
            st.sampled_from(["", ":00", ":59", ":60", ":99", ":30.5", ":59.999999", ":5"]),
        )
    )
    return text + offset


INSTANT_NEAR_MISSES = [
    "2026-03-01T10:00:00", "2026-03-01", "2026-03-01T10:00:00+08:00\n",
    "20260301T100000+0800", "2026-W09-7T10:00Z", "2026-03-01T10Z", "2026-03-01T10:00,5Z",
    "1899-12-31T23:00:00-01:00", "1900-01-01T00:30:00+01:00", "2200-12-31T23:59:59-23:59",
    "2026-03-01T10:00:00.1234567+08:00", "2026-03-01T10:00:00+08:00:30.123", "x" * 65,
]  # fmt: skip
INSTANTS = st.one_of(
    instant_texts(),
    st.sampled_from(INSTANT_NEAR_MISSES),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)


@st.composite
def edged_texts(draw: st.DrawFn) -> str:
    """Texts with a space, a control character or a lone surrogate at an edge or inside."""
    core = draw(st.sampled_from(["a", "loan", "x y", "客户", "😀", "CNY", "Asia/Shanghai"]))
    odd = draw(
        st.sampled_from(_SPACES)
        | st.characters(codec=None, categories=["Cc", "Cs", "Zs", "Zl", "Zp", "Cf"])
    )
    where = draw(st.integers(0, 2))
    return [odd + core, core + odd, core[:1] + odd + core[1:]][where]


TEXT_EDGES = [
    "",
    " ",
    "\t",
    "\n",
    "a",
    "a\n",
    "\na",
    " a",
    "a ",
    "a\x00b",
    "\udcff",
    "a\ud83d",
    "\ud83d\ude00",
    "a b",
    "loan",
    "Loan",
    "LOAN",
    "credit_card",
    "mortgage",
    "x" * 64,
    "refused_to_pay",
    "Refused_To_Pay",
    "refused-to-pay",
    "9lives",
    "_x",
    "CNY",
    "cny",
    "USD",
    "JPY",
    "KWD",
    "XAU",
    "XXX",
    "ABC",
    "RMB",
    "CNY\n",
    "CN",
    "CNYY",
    "Asia/Shanghai",
    "UTC",
    "Etc/GMT+5",
    "America/Port-au-Prince",
    "asia/shanghai",
    "Mars/Olympus",
    "localtime",
    "posix/Asia/Shanghai",
    "Asia/Shanghai ",
    "/Asia",
    "Asia//Shanghai",
    "a" * 65,
    "debtor",
    "g-1",
    "phone",
    "vehicle",
]
LONG = [63, 64, 65, 199, 200, 201, 3999, 4000, 4001]
TEXTS = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="abcxyz_019", min_size=1, max_size=8),
    edged_texts(),
    st.builds(lambda n, c: c * n, st.sampled_from(LONG), st.sampled_from(["x", "é", "😀"])),
    st.sampled_from(TEXT_EDGES),
)
WRONG_KINDS = st.sampled_from([None, True, False, 0, 1.5, [], {}, ["a"], {"a": 1}])
ANYTHING = st.one_of(NUMBERS, DATES, INSTANTS, TEXTS, WRONG_KINDS)
COUNT_NEAR_MISSES = [0, 1200, 1201, -1, 3.0, 1200.0, True, 2**64]
COUNT_NEAR_MISSES += ["0", "1200", "1201", "0005", "00005", "+5", "5.0", "", " 5", "٣"]


def _enum_values(values: list[Any]) -> st.SearchStrategy[Any]:
    texts = [v for v in values if isinstance(v, str)]
    near = [t.upper() for t in texts] + [t.title() for t in texts] + [f" {t}" for t in texts]
    near += [t + "\n" for t in texts] + [t.replace("_", "-") for t in texts]
    return st.sampled_from(values) | st.sampled_from(near)


def _values(tp: Any) -> st.SearchStrategy[Any]:
    """Valid values and near misses for a field of type ``tp``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [o for o in typing.get_args(tp) if o is not type(None)]
        return st.none() | _values(inner)
    if origin is typing.Literal:
        return _enum_values(list(typing.get_args(tp)))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_values([m.value for m in tp])
    by_type: dict[Any, st.SearchStrategy[Any]] = {
        case_module._Money: NUMBERS,
        case_module._Number: NUMBERS,
        case_module._Count: st.sampled_from(COUNT_NEAR_MISSES) | st.integers(-5, 1300),
        case_module._Months: st.sampled_from(COUNT_NEAR_MISSES) | st.integers(-5, 1300),
        case_module._Id: TEXTS,
        case_module._Kind: TEXTS,
        case_module._ProductName: TEXTS,
        str: TEXTS,
        bool: st.sampled_from([True, False, 0, 1, "true", "false"]),
        dt.date: DATES,
        pendulum.DateTime: INSTANTS,
    }
    if tp in by_type:
        return by_type[tp]
    if _item_class(tp) is not None:
        return st.sampled_from(["x", {}, 5, [5], [{}], [[]], [None]])
    raise AssertionError(f"no values for a field of type {tp!r}: add them here")


# ------------------------------------------------------------------ the documents

AT = "2026-03-01T10:00:00+08:00"
FILL = {"amount": "100", "outcome": "reached", "promised_date": "2026-04-01"}
FILL["asset_class"] = "vehicle"


def _event(kind: EventKind) -> dict[str, Any]:
    event: dict[str, Any] = {"kind": kind.value, "at": AT}
    event.update({name: FILL[name] for name in EVENT_REQUIRED_FIELDS.get(kind, ())})
    if kind is EventKind.RETRACTION:
        event["retracts"] = "refused_to_pay"
    return event


def _base(kind: EventKind) -> dict[str, Any]:
    return {
        "case_id": "C-1",
        "product": "loan",
        "currency": "CNY",
        "principal": "10000",
        "overdue_amount": "500.50",
        "due_date": "2026-01-31",
        "timezone": "Asia/Shanghai",
        "signals": [{"kind": "refused_to_pay", "observed_at": AT}],
        "events": [_event(kind)],
        "guarantors": [{"id": "G-1"}],
        "fees": [{"kind": "late_fee", "amount": 10, "charged_on": "2026-02-15"}],
    }


def _set(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    target: Any = doc
    for key in path[:-1]:
        if isinstance(target, dict) and key not in target:
            target[key] = [{}]  # nowhere in the base: a list of one item to hold it
        target = target[key]
    if value is ABSENT:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


def _as_json(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as JSON text gives it: a surrogate pair written as two escapes is read as
    the one character it stands for, a lone one stays."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    return out


def _schema_accepts(doc: Any) -> bool:
    return bool(VALIDATOR.is_valid(doc))


def _loads(doc: Any) -> bool:
    """Whether ``Case.from_dict`` reads ``doc``, for a policy that knows its signal kinds
    (the vocabulary is the policy's to check, exception 3)."""
    signals = doc.get("signals")
    items = signals if isinstance(signals, list) else []
    kinds = [s.get("kind") for s in items if isinstance(s, Mapping)]
    known = tuple({k for k in kinds if isinstance(k, str)} | {"refused_to_pay"})
    try:
        Case.from_dict(doc, signal_kinds=known)
    except InputError:
        return False
    return True


_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")


def _inner(tp: Any) -> Any:
    """``tp`` without its ``| None``."""
    options = [o for o in typing.get_args(tp) if o is not type(None)]
    return options[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) else tp


def _documented(field: Field, value: Any) -> tuple[bool, bool | None] | None:
    """The documented exception ``value`` at ``field`` falls under, as what the schema
    and ``Case.from_dict`` say of it (None: either), or None when they must agree."""
    leaf, tp, text = field.path[-1], _inner(field.tp), isinstance(value, str)
    if leaf == "timezone" and text and len(value) <= MAX_KIND_LENGTH and _ZONE.fullmatch(value):
        # exception 1: a zone of the right shape that tzdata does not list
        return None if value in case_module.iana_zones() else (True, False)
    if leaf == "currency" and text and re.fullmatch(r"[A-Z]{3}", value):
        # exception 2: three capitals that are no ISO 4217 code with a minor unit
        return None if case_module.currency_problem(value) is None else (True, False)
    whole = {case_module._Count: 0, case_module._Months: 1}
    if tp in whole and isinstance(value, float) and value.is_integer():
        return (whole[tp] <= value <= MAX_COUNT, False)  # exception 4: 3.0
    numbers = (case_module._Money, case_module._Number)
    if tp in numbers and text and NUMBER_TEXT.fullmatch(value) and "e" in value.lower():
        return (False, None)  # exception 5: a number written with an exponent
    return None


def _check(field: Field, value: Any, kind: EventKind) -> None:
    doc = _base(kind)
    _set(doc, field.path, value)
    doc = _as_json(doc)
    schema, loads = _schema_accepts(doc), _loads(doc)
    expected = _documented(field, value)
    shown = f"{field.name} = {value!r:.80}: schema {schema}, Case.from_dict {loads}"
    if expected is None:
        assert schema == loads, shown
    else:
        assert schema == expected[0], shown
        assert expected[1] is None or loads == expected[1], shown


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
@settings(max_examples=150)
@given(data=st.data())
def test_the_schema_accepts_a_case_exactly_when_from_dict_does(
    field: Field, data: st.DataObject
) -> None:
    value = data.draw(
        st.just(ABSENT) | _values(field.tp) | _values(field.tp) | ANYTHING, label="value"
    )
    kind = data.draw(st.sampled_from(list(EventKind)), label="event kind")
    _check(field, value, kind)


@pytest.mark.parametrize("field", LISTS, ids=lambda f: f.name)
def test_lists_are_bounded_alike(field: Field) -> None:
    maximum = case_module._LIST_LIMITS[_item_class(field.tp)]  # type: ignore[index]
    item = _base(EventKind.VISIT)[str(field.path[0])][0]
    for size in (0, maximum, maximum + 1):
        doc = _base(EventKind.VISIT)
        doc[str(field.path[0])] = [copy.deepcopy(item) for _ in range(size)]
        assert _schema_accepts(doc) == _loads(doc) == (size <= maximum), (field.name, size)


@settings(max_examples=60)
@given(case=cases("default"))
def test_every_case_the_kit_builds_is_valid_to_both(case: Case) -> None:
    doc = json.loads(json.dumps(case.to_dict()))
    assert not [e.message for e in VALIDATOR.iter_errors(doc)]
    assert _loads(doc)


# ------------------------------------------------------------------ what was wrong

# Documents the schema accepted and Case.from_dict refused (or the reverse), each now
# judged alike: (field, value).
GAPS = [
    ("due_date", "2026-02-30"),
    ("due_date", "hello"),
    ("due_date", "1800-01-01"),
    ("due_date", "9999-12-31"),
    ("case_id", ""),
    ("case_id", " C-1"),
    ("case_id", "x" * 201),
    ("case_id", "C\udcff1"),
    ("case_id", "C\n1"),
    ("currency", "CNY\n"),
    ("product", "loan\n"),
    ("timezone", "x" * 65),
    ("principal", 10**13),
    ("principal", "+5"),
    ("principal", ".5"),
    ("principal", "-0"),
    ("principal", "5\n"),
    ("principal", "١٢"),
    ("principal", 1e-9),
    ("principal", "1.00000000000000000001"),
    ("annual_rate", 50),
    ("annual_rate", -1),
    ("debtor_npl_share", "5"),
    ("consecutive_minimum_payments", "9999"),
    ("signals.0.kind", "Refused"),
    ("signals.0.observed_at", "2026-03-01T10:00:00"),
    ("signals.0.observed_at", "junk"),
    ("signals.0.observed_at", "2026-03-01T24:00:00+08:00"),
    ("signals.0.observed_at", "2026-03-01T10:00:00+24:00"),
    ("signals.0.observed_at", "2026-03-01T10:00z"),
    ("signals.0.value", 10**13),
    ("signals.0.note", "x" * 4001),
    ("events.0.amount", None),
    ("events.0.retracts", "refused_to_pay"),
    ("events.0.channel", "x" * 65),
    ("fees.0.kind", "Late fee"),
    ("guarantors.0.agreed_period_months", 0),
    ("guarantors.0.id", " "),
]


@pytest.mark.parametrize(("name", "value"), GAPS, ids=[f"{n}={v!r:.30}" for n, v in GAPS])
def test_the_gaps_found_are_closed(name: str, value: Any) -> None:
    field = next(f for f in FIELDS if f.name == name)
    _check(field, value, EventKind.PAYMENT)


@pytest.mark.parametrize("kind", [k for k in EventKind if k is not EventKind.RETRACTION])
def test_an_event_the_schema_refuses_is_refused_at_its_field(kind: EventKind) -> None:
    # The event rules the schema states: each required field, and retracts.
    for name in (*EVENT_REQUIRED_FIELDS.get(kind, ()), "retracts"):
        doc = _base(kind)
        doc["events"].append({**_event(kind), name: None if name != "retracts" else "x"})
        assert not _schema_accepts(doc)
        with pytest.raises(InputError) as caught:
            Case.from_dict(doc)
        assert [p.path for p in caught.value.problems] == [f"events[1].{name}"]


# ------------------------------------------------------------------ the documented exceptions

EXCEPTIONS = [
    ("timezone", "Mars/Olympus", 1),
    ("currency", "XAU", 2),
    ("currency", "ABC", 2),
    ("consecutive_minimum_payments", 3.0, 4),
    ("guarantors.0.agreed_period_months", 12.0, 4),
    ("principal", "1e3", 5),
]


@pytest.mark.parametrize(("name", "value", "number"), EXCEPTIONS)
def test_each_documented_exception_is_real(name: str, value: Any, number: int) -> None:
    field = next(f for f in FIELDS if f.name == name)
    doc = _base(EventKind.VISIT)
    _set(doc, field.path, value)
    doc = _as_json(doc)
    schema, loads = _schema_accepts(doc), _loads(doc)
    assert schema != loads
    assert _documented(field, value) is not None


def test_signal_kinds_are_the_policys_to_check() -> None:
    # Exception 3: the schema reads any snake_case kind; the default policy knows its own.
    doc = _base(EventKind.VISIT)
    doc["signals"][0]["kind"] = "moon_phase"
    assert _schema_accepts(doc)
    with pytest.raises(InputError, match="unknown signal kind"):
        Case.from_dict(doc)


def test_the_exceptions_are_documented_in_the_schema_and_the_docs() -> None:
    description = case_schema()["description"]
    docs = (ROOT / "docs" / "decision-schema.md").read_text(encoding="utf-8")
    assert len(_CASE_EXCEPTIONS) == 5
    for text in _CASE_EXCEPTIONS:
        assert text in description
        assert " ".join(text.split()) in " ".join(docs.split()), text


def test_the_patterns_know_pythons_spaces_and_every_zone() -> None:
    assert re.fullmatch(f"[{_PY_SPACE}]+", _PY_SPACES)
    assert not re.search(
        f"[{_PY_SPACE}]", "".join(c for c in map(chr, range(0x3001)) if c not in _PY_SPACES)
    )
    assert all(_ZONE.fullmatch(z) for z in case_module.iana_zones())
    assert all(len(z) <= 64 for z in case_module.iana_zones())
    assert {c for c in currency_codes() if case_module.currency_problem(c) is None}


def test_decimals_of_the_model_are_read_as_the_schema_says() -> None:
    # A rate and a share take the same number grammar as a money amount.
    for name in ("annual_rate", "debtor_npl_share"):
        field = next(f for f in FIELDS if f.name == name)
        for value in ("+0.5", ".5", "0.5", "-0", Decimal("0.5").__str__()):
            _check(field, value, EventKind.VISIT)
