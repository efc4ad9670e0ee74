"""Bad rows read fast, with exactly the full path's errors.

``Case.from_dict`` reads a well-formed dict on its fast path; a dict that path gives up
on goes to a fast reader of the common faults (``_fast_problems``), which finds the
problems ``_structure_case`` (cattrs, the full validating path) reports, in one pass,
and leaves whatever it cannot be sure of to the full path. Here the dicts are broken on
purpose, in every common way and several at once, and every error must be the full
path's own: the same class, text, subject and problems (paths, messages, sources,
suggestions, in the same order). Valid dicts must still give the full path's case.

The columnar engine's per-case rows are checked too: the rows it hands to the per-case
engine are read as before, and decided to the same errors with or without the fast
reader.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import string
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collectrules.batch.bench import generate_rows
from collectrules.engine import Engine
from collectrules.errors import InputError, did_you_mean
from collectrules.model import case as case_module
from collectrules.model.case import (
    DEFAULT_SIGNAL_KINDS,
    Case,
    EventKind,
    _fast_problems,
    _structure_case,
)
from collectrules.model.limits import NO_DATE_SENTINELS
from fuzz_strategies import deep, valid_case_dicts

pl = pytest.importorskip("polars")

import collectrules.frame.decide  # noqa: E402, F401  (the module, which the package's decide shadows)
from collectrules.frame.files import _long, run_columnar  # noqa: E402
from collectrules.io.arrow import plain  # noqa: E402

_SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_ENGINE = Engine("default", backend="python")
_POLICY_KINDS = tuple(_ENGINE.policy.signals)
_POLICY_PRODUCTS = _ENGINE.policy.products
_KNOWN_KINDS = sorted(k for kinds in DEFAULT_SIGNAL_KINDS.values() for k in kinds)

Outcome = tuple[str, Any]


# ------------------------------------------------------------------ comparing outcomes


def snapshot(value: Any) -> Any:
    """``value`` as nested tuples of each part's exact type and repr (an instant's zone
    and fold, a Decimal's exponent, an enum member rather than its string)."""
    if attrs.has(type(value)):
        return (
            type(value).__name__,
            tuple((a.name, snapshot(getattr(value, a.name))) for a in attrs.fields(type(value))),
        )
    if isinstance(value, tuple):
        return tuple(snapshot(v) for v in value)
    if isinstance(value, dt.datetime):
        return (type(value).__name__, repr(value), repr(value.tzinfo), value.fold)
    return (type(value).__qualname__, repr(value))


def outcome(read: Callable[[], Case]) -> Outcome:
    """A case's snapshot and ``to_dict``, or the exception's class, text and, for an
    ``InputError``, its subject and problems."""
    try:
        case = read()
    except InputError as exc:
        return "error", (type(exc).__name__, str(exc), exc.subject, exc.problems)
    except Exception as exc:  # the full path's own failures must be kept too
        return "raised", (type(exc).__name__, str(exc))
    return "case", (snapshot(case), case.to_dict())


def full(data: Any, options: dict[str, Any]) -> Case:
    return _structure_case(
        data,
        signal_kinds=options.get("signal_kinds"),
        source=options.get("source"),
        no_date_sentinels=options.get("no_date_sentinels", NO_DATE_SENTINELS),
        products=options.get("products"),
    )


def fast_problems(data: Any, options: dict[str, Any]) -> list[Any] | None:
    return _fast_problems(
        data,
        signal_kinds=options.get("signal_kinds"),
        source=options.get("source"),
        no_date_sentinels=options.get("no_date_sentinels", NO_DATE_SENTINELS),
        products=options.get("products"),
    )


def assert_same_as_full(data: Any, options: dict[str, Any]) -> bool:
    """``from_dict`` gives the full path's case or error, and the fast reader, when it
    answers, answers with the full path's problems. Whether it answered."""
    original = copy.deepcopy(data)
    expected = outcome(lambda: full(data, options))
    assert outcome(lambda: Case.from_dict(data, **options)) == expected
    problems = fast_problems(data, options)
    assert data == original, "the readers changed the data"
    if problems is None:
        return False
    assert expected[0] == "error", f"the fast reader refused what the full path reads: {expected}"
    assert tuple(problems) == expected[1][3]
    return True


# ------------------------------------------------------------------ broken dicts

_MONEY = [
    "-1", -1.5, -1, "-0.01", "NaN", "nan", "-NaN", "sNaN", "Infinity", "-inf",
    float("nan"), float("inf"), float("-inf"), "1e13", 10**13, 2**70, -(2**70),
    "1000000000000.01", "1.23456789012345678901", "1e-9", "0.000000001", "", " ", "abc",
    "1_000", " 12 ", "0x10", "1" * 65, True, False, None, [], {}, [1, 2], {"a": 1},
    Decimal("-3"), Decimal("NaN"),
]  # fmt: skip
_MEASURE = ["NaN", "1e13", "-1e13", "1e-13", "abc", True, None, "", [1], {"v": 1}, "1" * 65]
_DATES = [
    "2026-02-30", "2026-13-01", "20260101", "2026/01/01", "2026-01-01T00:00:00",
    "2026-01-01T00:00:00+08:00", "1899-12-31", "2201-01-01", "9999-12-31", "9999-12-30",
    "0001-01-01", "", " 2026-01-01", "x" * 70, 20260101, 2026.5, None, True, [2026], {"y": 1},
]  # fmt: skip
_INSTANTS = [
    "2026-06-01T10:00:00", "2026-06-01", "2026-06-01 10:00", "2026-06-30T25:00:00+08:00",
    "2026-06-30T12:00:00+24:00", "1899-12-31T23:59:59+00:00", "2201-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-14:00", "yesterday", "", "2026-06-01T10:00:00+08:00" + " " * 60,
    1767225600, 1.5, None, True, ["2026-06-01T10:00:00+08:00"], {"at": "now"},
]  # fmt: skip
_TEXTS = [
    "", " C-1", "C-1 ", "x" * 201, "k" * 65, "\udcff", "a\ud800b", 7, 7.5, None, True,
    ["CNY"], {"code": "CNY"}, "line\u2028break", "春节",
]  # fmt: skip
_CHOICES = {
    "product": ["Loan", "mortgage", "credit card", "credit_crad", "loan ", "LOAN", "lo-an"],
    "currency": ["RMB", "cny", "USD ", "XYZ", "NTD", "Yen", "C N Y"],
    "timezone": ["Mars/Olympus", "asia/shanghai", "Asia/Shangai", "UTC+8", "GMT+08:00"],
    "case_id": ["", " ", " C-1", "C 1", "x" * 201],
}
_FLAGS = ["yes", "true", 1, 0, None, "", [True]]
_RATES = ["10", "-0.1", "NaN", "abc", "1e3", 10, True, None, "0.06", 0.06]
_MONTHS = [0, -1, 1201, True, "12", 12.0, None, 10**30]
_TOP_MONEY = ("principal", "overdue_amount")
_TOP_DATES = ("due_date", "maturity_date", "contract_date")
_TOP_TEXT = ("case_id", "product", "currency", "timezone")
_TOP_KEYS = (
    "case_id", "product", "currency", "principal", "overdue_amount", "due_date", "timezone",
    "maturity_date", "signals", "events", "guarantors", "sicr_rebutted", "default_rebutted",
    "annual_rate", "penalty_rate", "fees", "contract_date",
)  # fmt: skip
_ITEM_KEYS = {
    "signals": ("kind", "observed_at", "value", "note"),
    "events": (
        "kind", "at", "outcome", "amount", "promised_date", "channel", "party", "note",
        "retracts", "staff", "asset_class",
    ),
    "guarantors": ("id", "name", "agreed_period_months"),
    "fees": ("kind", "amount", "charged_on"),
}  # fmt: skip
_JUNK = st.one_of(
    st.integers(min_value=1, max_value=8).map(deep),
    st.builds(lambda: {f"k{i}": i for i in range(70)}),
    st.builds(lambda: list(range(1_001))),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.sampled_from([None, True, 0, -1, 1.5, "", "junk", b"bytes", dt.date(2026, 1, 1)]),
)


@st.composite
def typo(draw: st.DrawFn, word: str) -> str:
    """``word`` misspelt: a letter dropped, doubled, swapped or changed, or its case."""
    how = draw(st.sampled_from(["drop", "double", "swap", "change", "upper", "space"]))
    i = draw(st.integers(0, max(len(word) - 2, 0)))
    if how == "drop":
        return word[:i] + word[i + 1 :]
    if how == "double":
        return word[: i + 1] + word[i:]
    if how == "swap" and len(word) > 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if how == "change":
        return word[:i] + draw(st.sampled_from(string.ascii_lowercase)) + word[i + 1 :]
    if how == "upper":
        return word.upper()
    return word.replace("_", " ")


def _unknown_key(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(keys).flatmap(typo),
        st.sampled_from(["colour", "notes", "a,b", "x @ y", "", "x" * 100, "\udcff", "k-1.2"]),
    )


def _value_for(key: str) -> st.SearchStrategy[Any]:
    if key in _TOP_MONEY or key == "amount":
        return st.sampled_from(_MONEY)
    if key == "value":
        return st.sampled_from(_MEASURE + _MONEY)
    if key in _TOP_DATES or key in ("promised_date", "charged_on"):
        return st.sampled_from(_DATES)
    if key in ("observed_at", "at"):
        return st.sampled_from(_INSTANTS)
    if key in ("sicr_rebutted", "default_rebutted"):
        return st.sampled_from(_FLAGS)
    if key in ("annual_rate", "penalty_rate"):
        return st.sampled_from(_RATES)
    if key == "agreed_period_months":
        return st.sampled_from(_MONTHS)
    if key in _CHOICES:
        return st.sampled_from(_CHOICES[key] + _TEXTS)
    if key == "kind":
        return st.one_of(
            st.sampled_from(_KNOWN_KINDS).flatmap(typo),
            st.sampled_from(["no_such_kind", "Promise Broken", "payment", *_TEXTS]),
        )
    if key == "outcome":
        return st.sampled_from(["busy", "Reached", "no answer", 1, None, ""])
    if key in ("signals", "events", "guarantors", "fees"):
        return st.sampled_from([None, "x", 5, {}, {"kind": "x"}, [None], [1, "a"], [[]]])
    return st.sampled_from(_TEXTS)


def _seed_item(where: str, draw: st.DrawFn) -> dict[str, Any]:
    if where == "signals":
        return {"kind": draw(st.sampled_from(_KNOWN_KINDS)), "observed_at": "2026-06-01T10:00:00Z"}
    if where == "events":
        kind = draw(st.sampled_from([k.value for k in EventKind]))
        event: dict[str, Any] = {"kind": kind, "at": "2026-06-02T09:00:00+08:00"}
        if draw(st.booleans()):
            event.update(amount="100", outcome="reached", promised_date="2026-07-01")
            event["asset_class"] = "vehicle"
        return event
    if where == "guarantors":
        return {"id": "G-1", "agreed_period_months": 24}
    return {"kind": "late_fee", "amount": "25.50", "charged_on": "2026-03-01"}


@st.composite
def broken(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with one to three faults: a value of the wrong type or out of range, a
    field missing, a key misspelt or unknown, an item broken, nested junk."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(
            st.sampled_from(["top"] * 4 + ["signals"] * 3 + ["events", "guarantors", "fees"])
        )
        if where == "top":
            target: Any = out
            keys: tuple[str, ...] = _TOP_KEYS
        else:
            items = out.setdefault(where, [])
            if not isinstance(items, list):
                continue
            if not items or draw(st.integers(0, 2)) == 0:
                items.append(_seed_item(where, draw))
            target = items[draw(st.integers(0, len(items) - 1))]
            if not isinstance(target, dict):
                continue
            keys = _ITEM_KEYS[where]
        action = draw(st.sampled_from(["value"] * 5 + ["drop", "drop", "unknown", "junk"]))
        key = draw(st.sampled_from(keys))
        if action == "value":
            target[key] = draw(_value_for(key))
        elif action == "drop":
            target.pop(key, None)
        elif action == "unknown":
            for name in draw(st.lists(_unknown_key(keys), min_size=1, max_size=3)):
                target[name] = draw(st.sampled_from([1, "x", None, [1]]))
        else:
            target[key] = draw(_JUNK)
    return out


@st.composite
def bench_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A row as the batch benchmark writes it: amounts and dates as text, five signals."""
    seed = draw(st.integers(0, 2**32 - 1))
    return next(generate_rows(_ENGINE, 1, seed=seed))


_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "signal_kinds": st.sampled_from([_POLICY_KINDS, ["promise_broken", "accident"]]),
        "products": st.sampled_from([_POLICY_PRODUCTS, ("loan",), ["credit_card", "mortgage"]]),
        "source": st.sampled_from(["cases.jsonl", "portfolio.parquet"]),
        "no_date_sentinels": st.sampled_from([(), (dt.date(2099, 1, 1),)]),
    },
)


# ------------------------------------------------------------------ identity


@_SETTINGS
@given(data=st.one_of(bench_rows(), valid_case_dicts()).flatmap(broken), options=_OPTIONS)
def test_broken_dicts_get_exactly_the_full_paths_error(
    data: dict[str, Any], options: dict[str, Any]
) -> None:
    answered = assert_same_as_full(data, options)
    event("answered by the fast reader" if answered else "left to the full path")


@_SETTINGS
@given(data=st.one_of(bench_rows(), valid_case_dicts()), options=_OPTIONS)
def test_valid_dicts_still_give_the_full_paths_case(
    data: dict[str, Any], options: dict[str, Any]
) -> None:
    assert_same_as_full(data, options)


def _common_fault(rng: random.Random, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with one of the faults loan systems' exports commonly carry."""
    out: dict[str, Any] = json.loads(json.dumps(row))
    signal = rng.choice(out["signals"])
    fault = rng.randrange(12)
    if fault == 0:
        out["overdue_amount"] = rng.choice(["-1", "-250.75", "abc", "", "NaN", "1e13"])
    elif fault == 1:
        out["principal"] = rng.choice([-5, "1,000", "12.345678901234567890123"])
    elif fault == 2:
        out["due_date"] = rng.choice(["2026-02-30", "30/01/2026", "2026-01-01T00:00:00", ""])
    elif fault == 3:
        out["timezone"] = rng.choice(["Asia/Shangai", "CST", "UTC+8", ""])
    elif fault == 4:
        out["currency"] = rng.choice(["RMB", "cny", "元", ""])
    elif fault == 5:
        out["product"] = rng.choice(["Loan", "credit card", "mortgage"])
    elif fault == 6:
        del out[rng.choice(["case_id", "due_date", "timezone", "principal"])]
    elif fault == 7:
        key, typo = rng.choice(
            [("overdue_amount", "overdue_amt"), ("due_date", "duedate"), ("principal", "principle")]
        )
        out[typo] = out.pop(key)
    elif fault == 8:
        signal["kind"] = rng.choice(["promise_brokn", "Fraud", "unknown_kind"])
    elif fault == 9:
        signal["observed_at"] = signal["observed_at"][:19]  # naive
    elif fault == 10:
        signal["value"] = rng.choice(["NaN", "", "-1e13", "abc"])
    else:
        out["overdue_amount"] = "-1"
        signal["observed_at"] = rng.choice(["2026-06-31T10:00:00+08:00", "2026-06-01"])
        out["colour"] = "red"
    return out


def test_the_common_faults_are_read_fast_with_the_full_paths_errors() -> None:
    """The faults a batch's bad rows mostly carry are answered by the fast reader, not
    left to the full path: each answer the full path's, problem for problem."""
    rng = random.Random(20261130)
    rows = [_common_fault(rng, row) for row in generate_rows(_ENGINE, 600, seed=7)]
    options = {"signal_kinds": _POLICY_KINDS, "products": _POLICY_PRODUCTS, "source": "x.jsonl"}
    answered = sum(assert_same_as_full(row, options) for row in rows)
    assert answered == len(rows)


#: One of each common fault, with the problems the full path reports for it.
_BASE: dict[str, Any] = {
    "case_id": "B-1",
    "product": "loan",
    "currency": "CNY",
    "principal": "10000",
    "overdue_amount": "250",
    "due_date": "2026-05-01",
    "timezone": "Asia/Shanghai",
    "signals": [
        {"kind": "promise_broken", "observed_at": "2026-06-01T10:00:00+08:00"},
        {"kind": "cash_coverage", "observed_at": "2026-06-02T10:00:00+08:00", "value": "0.9"},
    ],
    "events": [{"kind": "payment", "at": "2026-06-02T09:00:00+08:00", "amount": "100"}],
}


def _with(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(_BASE))
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            _with(overdue_amount="-1"),
            [("overdue_amount", "must not be negative, got -1", None)],
            id="negative",
        ),
        pytest.param(
            _with(due_date="2026-02-30", timezone="Asia/Shangai"),
            [
                ("due_date", "expected a date as YYYY-MM-DD, got '2026-02-30'", None),
                ("timezone", "unknown IANA time zone 'Asia/Shangai'", None),
            ],
            id="date-and-zone",
        ),
        pytest.param(
            _with(overdue_amt="1", overdue_amount=...),
            [
                ("overdue_amount", "required field missing", None),
                ("overdue_amt", "unknown field", "overdue_amount"),
            ],
            id="misspelt-key",
        ),
        pytest.param(
            _with(Principal="1", currncy="CNY", currency=...),
            [
                ("currency", "required field missing", None),
                ("Principal", "unknown field", "principal"),
                ("currncy", "unknown field", "currency"),
            ],
            id="misspelt-keys",
        ),
        pytest.param(
            _with(
                signals=[
                    {"kind": "promise_brokn", "observed_at": "2026-06-01T10:00:00"},
                    {"kind": "cash_coverage", "observed_at": "2026-06-02T10:00:00+08:00"},
                    7,
                ]
            ),
            [
                ("signals[0].observed_at", "naive datetime; give an offset or a zone", None),
                ("signals[2]", "expected an object, got int", None),
                ("signals[0].kind", None, "promise_broken"),
            ],
            id="signals",
        ),
        pytest.param(
            _with(events=[{"kind": "paymnet", "at": "2026-06-02T09:00:00+08:00"}], currency="RMB"),
            [("events[0].kind", None, None), ("currency", None, "CNY")],
            id="event-and-currency",
        ),
    ],
)
def test_each_common_fault_is_answered_by_the_fast_reader(
    data: dict[str, Any], expected: list[tuple[str, str | None, str | None]]
) -> None:
    options = {"signal_kinds": _POLICY_KINDS, "products": _POLICY_PRODUCTS}
    problems = fast_problems(data, options)
    assert problems is not None
    assert [p.path for p in problems] == [path for path, _, _ in expected]
    for problem, (_, message, suggestion) in zip(problems, expected, strict=True):
        if message is not None:
            assert problem.message == message
        assert problem.suggestion == suggestion
    assert assert_same_as_full(data, options)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_with(**{"a,b": 1}), id="key-with-a-comma"),
        pytest.param(_with(**{"x @ y": 1}), id="key-with-an-at"),
        pytest.param(dict([*_with().items(), (1, "one")]), id="key-not-text"),
        pytest.param(_with(principal=deep(6)), id="too-deep"),
        pytest.param(_with(signals=[{"kind": "promise_broken"}] * 1_001), id="too-many-items"),
        pytest.param(
            _with(signals=[{"kind": "promise_broken", "observed_at": dt.datetime(2026, 1, 1)}]),
            id="datetime-object",
        ),
        pytest.param(_with(**{"signals": [{**_BASE["signals"][0], "kinds": 1}]}), id="only-a-typo"),
        pytest.param(_with(events=[{**_BASE["events"][0], "retracts": "x"}]), id="defence-line"),
    ],
)
def test_what_the_fast_reader_is_unsure_of_goes_the_full_way(data: dict[str, Any]) -> None:
    options: dict[str, Any] = {}
    assert_same_as_full(data, options)
    answered = fast_problems(data, options)
    if answered is not None:  # a fault it reads exactly: the shape, an unknown item key
        assert outcome(lambda: full(data, options))[1][3] == tuple(answered)


def _accepts(read: Callable[[Any], object], value: Any) -> bool:
    try:
        read(value)
    except (case_module._NotCommon, LookupError, TypeError, ValueError, ArithmeticError):
        return False
    return True


@_SETTINGS
@given(
    st.one_of(
        st.sampled_from(_INSTANTS),
        st.sampled_from(
            [
                "1900-01-01T00:30:00+01:00",
                "1899-12-31T23:30:00-01:00",
                "2200-12-31T23:30:00-01:00",
                "2201-01-01T00:30:00+01:00",
                "2026-06-01T10:00:00+08:00",
                "2026-06-01T10:00:00.5+05:45",
                "2026-06-01T10:00:00+01:00:00.5",
                "2026-06-01T10:00:00-00:00",
            ]
        ),
        st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
        st.datetimes(
            min_value=dt.datetime(1899, 12, 30), max_value=dt.datetime(2201, 1, 2)
        ).flatmap(
            lambda at: st.builds(
                lambda m, s: at.replace(
                    tzinfo=dt.timezone(dt.timedelta(minutes=m, seconds=s))
                ).isoformat(),
                st.integers(-23 * 60 - 59, 23 * 60 + 59),
                st.sampled_from([0, 0, 30]),
            )
        ),
        st.datetimes(min_value=dt.datetime(1899, 12, 30), max_value=dt.datetime(2201, 1, 2)).map(
            lambda at: pendulum.instance(at, tz="Asia/Shanghai")
        ),
        st.datetimes().map(lambda at: at.isoformat().replace("T", " ") + "Z"),
    )
)
def test_an_instant_is_read_without_building_it_exactly_when_the_fast_path_reads_it(
    value: Any,
) -> None:
    assert _accepts(case_module._instant_fine, value) == _accepts(case_module._instant, value)


@_SETTINGS
@given(
    name=st.one_of(
        st.sampled_from(_KNOWN_KINDS).flatmap(typo),
        st.text(max_size=70),
        st.sampled_from(["loan", "credit_crad", "overdue_amt", "paymnet", "x" * 65]),
    ),
    known=st.one_of(
        st.just(frozenset(_POLICY_KINDS)),
        st.just(tuple(k.value for k in EventKind)),
        st.just(case_module._PRODUCT_VALUES),
        st.lists(st.text(max_size=12), max_size=8).map(tuple),
        st.lists(st.text(max_size=12), max_size=8).map(frozenset),
        st.lists(st.text(max_size=12), max_size=8),
    ),
)
def test_a_remembered_suggestion_is_the_one_did_you_mean_gives(name: str, known: Any) -> None:
    expected = did_you_mean(name, known)
    assert case_module._suggest(name, known) == expected
    assert case_module._suggest(name, known) == expected  # remembered, the same


def test_an_unknown_zone_is_refused_the_same_way_each_time() -> None:
    errors = []
    for _ in range(3):
        with pytest.raises(InputError) as caught:
            Case.from_dict(_with(timezone="Asia/Shangai"))
        errors.append(caught.value)
    assert {(str(e), e.problems) for e in errors} == {
        ("timezone: unknown IANA time zone 'Asia/Shangai'", errors[0].problems)
    }
    assert all(e.__cause__ is None for e in errors)  # as the full path gives it
    case = Case.from_dict(_with(timezone="Asia/Shanghai"))
    assert case.timezone == "Asia/Shanghai"
    # Built directly, the case's validator keeps pendulum's failure as the cause.
    for _ in range(2):
        with pytest.raises(InputError, match="unknown IANA time zone") as caught:
            attrs.evolve(case, timezone="Asia/Shangai")
        assert type(caught.value.__cause__).__name__ == "InvalidTimezone"


def test_valid_rows_find_no_problem() -> None:
    for row in generate_rows(_ENGINE, 50, seed=3):
        assert fast_problems(row, {}) is None


# ------------------------------------------------------------------ the columnar per-case rows


def _reference_row_dicts(
    cases: Any, signals: Any, events: Any, rows: Any
) -> list[tuple[int, dict[str, Any]]]:
    """The rows as the columnar engine read them before: every row's signals and events
    looked up in the long tables, each value made plain by ``plain``."""

    def dicts(frame: Any) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        chosen = frame.join(rows.to_frame(), on="__row", how="semi")
        for item in chosen.iter_rows(named=True):
            value = {
                k: plain(v)
                for k, v in item.items()
                if k not in {"__row", "__seq", "case_id"} and v is not None
            }
            out.setdefault(int(item["__row"]), []).append(value)
        return out

    sig = dicts(signals)
    evs = dicts(events) if events is not None else {}
    chosen = cases.join(rows.to_frame(), on="__row", how="semi").sort("__row")
    out = []
    for item in chosen.iter_rows(named=True):
        index = int(item["__row"])
        data = {k: plain(v) for k, v in item.items() if k != "__row" and v is not None}
        data.setdefault("signals", sig.get(index, []))
        if index in evs:
            data.setdefault("events", evs[index])
        out.append((index, data))
    return out


def _portfolio(count: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = []
    for i, row in enumerate(generate_rows(_ENGINE, count, seed=5)):
        if i % 3 == 0:
            row = _common_fault(rng, row)
        if i % 7 == 0:
            row["signals"] = None if i % 2 else []
        if i % 5 == 0:
            row["events"] = [{"kind": "payment", "at": "2026-06-02T09:00:00+08:00", "amount": 5}]
        rows.append(row)
    return rows


def test_the_per_case_rows_are_read_as_before() -> None:
    decide = sys.modules["collectrules.frame.decide"]

    rows = _portfolio(120)
    nested = pl.DataFrame(rows, infer_schema_length=None).with_row_index("__row")
    signals = _long(nested, "signals")
    events = _long(nested, "events")
    chosen = pl.Series("__row", list(range(0, 120, 2)), dtype=nested.schema["__row"])
    got = [(i, d) for i, d, _ in decide._row_dicts(nested, signals, events, chosen, None)]
    assert got == _reference_row_dicts(nested, signals, events, chosen)
    # The long tables alone, as frame.decide reads them: every row looked up there.
    flat = nested.drop("signals", "events")
    got = [(i, d) for i, d, _ in decide._row_dicts(flat, signals, events, chosen, None)]
    assert got == _reference_row_dicts(flat, signals, events, chosen)


def test_the_columnar_engine_gives_the_same_errors_without_the_fast_reader(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    rows = _portfolio(300)
    path = tmp_path / "cases.parquet"
    pl.DataFrame(rows, infer_schema_length=None).write_parquet(path)

    def run(name: str) -> tuple[bytes, bytes, Any]:
        out, errors = tmp_path / f"{name}.parquet", tmp_path / f"{name}.errors.jsonl"
        result = run_columnar(
            [path], policy=_ENGINE.policy, out=out, errors=errors, as_of="2026-06-30T12:00:00+08:00"
        )
        return out.read_bytes(), errors.read_bytes(), result.batch.bad

    fast = run("fast")
    monkeypatch.setattr(case_module, "_fast_problems", lambda *a, **k: None)
    slow = run("slow")
    assert fast[2] == slow[2] > 90
    assert fast[1] == slow[1]
    assert pl.read_parquet(tmp_path / "fast.parquet").equals(
        pl.read_parquet(tmp_path / "slow.parquet")
    )


@pytest.mark.parametrize(
    ("extra", "paths"),
    [
        ({"a,b": 1, "curency": 2}, ["a,b", "curency"]),
        ({1: "one", "bogus": 2}, ["bogus", "1"]),
        ({(1, 2): "pair", "x @ y": 1}, ["x @ y", "(1, 2)"]),
    ],
    ids=["comma", "not-text", "tuple-and-at"],
)
def test_unknown_keys_of_any_name_are_each_one_problem(
    extra: dict[Any, Any], paths: list[str]
) -> None:
    """An unknown key is one problem named by its text, whatever it holds (a comma, an
    at sign) and whatever it is (an integer, a tuple): an ``InputError``, never a
    ``TypeError`` from sorting names of mixed types."""
    data: dict[Any, Any] = {**_with(), **extra}
    with pytest.raises(InputError) as caught:
        Case.from_dict(data)
    problems = caught.value.problems
    assert [p.path for p in problems] == paths
    assert all(p.message == "unknown field" for p in problems)
    if "curency" in paths:
        assert problems[paths.index("curency")].suggestion == "currency"
    signal_data: dict[Any, Any] = {**_BASE["signals"][0], 7: "x"}
    with pytest.raises(InputError) as caught:
        Case.from_dict(_with(signals=[signal_data]))
    assert [p.path for p in caught.value.problems] == ["signals[0].7"]
