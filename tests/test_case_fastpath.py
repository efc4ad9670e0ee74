"""``Case.from_dict``'s fast path against the full path it stands in for.

``from_dict`` reads a well-formed dict in one pass (``_fast_case``) and leaves anything
else to the full, validating path (``_structure_case``), which reports every problem.
The fast path must accept only what the full path accepts, and build an identical case:
the same values of the same types, instants in the same zone with the same fold, and
the same ``to_dict``. Invalid data must get exactly the full path's error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import InputError
from collectrules.model.case import (
    NO_DATE_SENTINELS,
    Case,
    _fast_case,
    _structure_case,
)
from fuzz_strategies import edge_case_dicts, hostile_case_dicts, valid_case_dicts

_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Outcome = tuple[str, Any]


def snapshot(value: object) -> Any:
    """``value`` as nested tuples of each part's exact type and repr: an instant's zone
    and fold, a Decimal's exponent, an enum member rather than its string."""
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
    """A case's snapshot and ``to_dict``, or the error's class, subject and problems."""
    try:
        case = read()
    except InputError as exc:
        return "error", (type(exc).__name__, str(exc), exc.problems)
    return "case", (snapshot(case), case.to_dict())


def full(data: Any, **options: Any) -> Case:
    return _structure_case(
        data,
        signal_kinds=options.get("signal_kinds"),
        source=None,
        no_date_sentinels=options.get("no_date_sentinels", NO_DATE_SENTINELS),
        products=options.get("products"),
    )


def fast(data: Any, **options: Any) -> Case | None:
    return _fast_case(
        data,
        signal_kinds=options.get("signal_kinds"),
        no_date_sentinels=options.get("no_date_sentinels", NO_DATE_SENTINELS),
        products=options.get("products"),
    )


def assert_fast_equals_full(data: Any, **options: Any) -> None:
    """The fast path reads ``data`` and builds exactly what the full path builds."""
    built = fast(data, **options)
    assert built is not None, "the fast path gave up on a well-formed case"
    assert outcome(lambda: built) == outcome(lambda: full(data, **options))


def assert_same_outcome(data: Any, **options: Any) -> None:
    """``from_dict`` gives what the full path gives: the same case or the same error;
    and the fast path accepts nothing the full path refuses."""
    expected = outcome(lambda: full(data, **options))
    assert outcome(lambda: Case.from_dict(data, **options)) == expected
    built = fast(data, **options)
    if built is not None:
        assert expected[0] == "case", (
            f"the fast path accepted what the full path refuses: {expected}"
        )
        assert outcome(lambda: built) == expected


# ------------------------------------------------------------------ valid data, varied


def _offsets() -> st.SearchStrategy[dt.timezone]:
    minutes = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)
    seconds = st.sampled_from([0, 0, 0, 30])
    return st.builds(lambda m, s: dt.timezone(dt.timedelta(minutes=m, seconds=s)), minutes, seconds)


@st.composite
def _instant(draw: st.DrawFn, text: str) -> Any:
    """The same instant as ``text``, written another valid way."""
    at = pendulum.parse(text)
    assert isinstance(at, pendulum.DateTime)
    how = draw(st.sampled_from(["same", "offset", "utc_z", "micro", "pendulum"]))
    if how == "offset":
        return at.astimezone(draw(_offsets())).isoformat()
    if how == "utc_z":
        return at.in_timezone("UTC").isoformat().replace("+00:00", "Z")
    if how == "micro":
        return at.add(microseconds=draw(st.integers(1, 999_999))).isoformat()
    if how == "pendulum":
        return at
    return text


def _number(value: Decimal) -> st.SearchStrategy[Any]:
    """``value`` as text, a Decimal, an int or a float, whichever writes it exactly."""
    options: list[Any] = [str(value), value, f"{value:f}"]
    if value == value.to_integral_value():
        options.append(int(value))
    options.append(float(value))
    return st.sampled_from(options)


_TEXTS = st.text(max_size=30).filter(lambda t: t.strip() == t and t != "")


@st.composite
def varied_valid_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """The kit's valid cases, as dicts and as JSON, with every optional field present
    sometimes, and values written each valid way (text, numbers, objects, offsets)."""
    data = draw(valid_case_dicts())
    if draw(st.booleans()):
        data = json.loads(json.dumps(data))
    for key in ("principal", "overdue_amount"):
        data[key] = draw(_number(Decimal(str(data[key]))))
    if draw(st.booleans()):
        data["due_date"] = dt.date.fromisoformat(str(data["due_date"]))
    for signal in data.get("signals", []):
        signal["observed_at"] = draw(_instant(signal["observed_at"]))
        if "value" in signal:
            signal["value"] = draw(_number(Decimal(repr(signal["value"]))))
        if draw(st.integers(0, 4)) == 0:
            signal["note"] = draw(_TEXTS)
    for event in data.get("events", []):
        event["at"] = draw(_instant(event["at"]))
        for key in ("channel", "party", "staff"):
            if draw(st.integers(0, 4)) == 0:
                event[key] = draw(st.sampled_from(["phone", "sms", "debtor", "zhang_wei", "电话"]))
        if draw(st.integers(0, 4)) == 0:
            event["note"] = draw(_TEXTS)
    if draw(st.integers(0, 3)) == 0:
        data["guarantors"] = [
            {
                "id": f"G{i}",
                "name": draw(_TEXTS),
                "agreed_period_months": draw(st.integers(1, 1200)),
            }
            for i in range(draw(st.integers(1, 3)))
        ]
    if draw(st.integers(0, 3)) == 0:
        data["fees"] = [
            {
                "kind": "late_fee",
                "amount": draw(_number(Decimal("25.50"))),
                "charged_on": "2026-03-01",
            }
        ]
    for key in ("annual_rate", "penalty_rate"):
        if draw(st.integers(0, 3)) == 0:
            data[key] = draw(
                _number(draw(st.sampled_from([Decimal("0"), Decimal("0.06"), Decimal("9.99")])))
            )
    for key in ("sicr_rebutted", "default_rebutted"):
        if draw(st.integers(0, 3)) == 0:
            data[key] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        data["contract_date"] = draw(st.sampled_from(["2020-02-29", "1900-01-01", "2200-12-31"]))
    if draw(st.integers(0, 3)) == 0:
        data["maturity_date"] = draw(st.sampled_from(["9999-12-31", "2030-01-31", None]))
    return data


@_SETTINGS
@given(varied_valid_dicts())
def test_the_fast_path_builds_what_the_full_path_builds(data: dict[str, Any]) -> None:
    assert_fast_equals_full(data)
    assert_same_outcome(data)


@_SETTINGS
@given(valid_case_dicts())
def test_a_case_read_back_from_its_dict_takes_the_fast_path(data: dict[str, Any]) -> None:
    assert_fast_equals_full(data)
    assert_fast_equals_full(json.loads(json.dumps(data)))
    case = Case.from_dict(data)
    assert Case.from_dict(case.to_dict()) == case


# ------------------------------------------------------------------ invalid data


@_SETTINGS
@given(hostile_case_dicts())
def test_hostile_dicts_get_the_full_paths_error(data: dict[str, Any]) -> None:
    assert_same_outcome(data)


@_SETTINGS
@given(edge_case_dicts())
def test_dicts_at_an_edge_get_the_full_paths_answer(data: dict[str, Any]) -> None:
    assert_same_outcome(data)


_BASE: dict[str, Any] = {
    "case_id": "C-1",
    "product": "loan",
    "currency": "CNY",
    "principal": "10000",
    "overdue_amount": "2500.50",
    "due_date": "2026-05-01",
    "timezone": "Asia/Shanghai",
    "signals": [{"kind": "promise_broken", "observed_at": "2026-06-01T10:00:00+08:00"}],
    "events": [{"kind": "payment", "at": "2026-06-02T09:00:00+08:00", "amount": "100"}],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """``_BASE`` with the field at ``path`` (``signals[0].kind``) set to ``value``, or
    removed when ``value`` is ``...``."""
    data = json.loads(json.dumps(_BASE))
    target = data
    *parents, leaf = path.replace("[", ".").replace("]", "").split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return data


#: Well-formed data written in ways the fast path reads itself.
FAST = [
    pytest.param(_BASE, id="base"),
    pytest.param(_with("signals[0].observed_at", "2026-06-01T02:00:00Z"), id="utc-z"),
    pytest.param(_with("signals[0].observed_at", "2026-06-01T02:00:00-00:00"), id="minus-zero"),
    pytest.param(_with("signals[0].observed_at", "2026-06-01T10:00:00.123456+05:45"), id="micro"),
    pytest.param(_with("signals[0].observed_at", "2026-06-01T10:00:00+01:00:30"), id="offset-s"),
    pytest.param(_with("principal", 10000), id="int-money"),
    pytest.param(_with("principal", 10000.25), id="float-money"),
    pytest.param(_with("principal", Decimal("1E+12")), id="money-at-max"),
    pytest.param(_with("principal", "0.00000001"), id="money-at-smallest"),
    pytest.param(_with("principal", "-0"), id="negative-zero"),
    pytest.param(_with("principal", "1234567890.1234567890"), id="twenty-digits"),
    pytest.param(_with("principal", "100.000000000000000000000"), id="trailing-zeros"),
    pytest.param(_with("maturity_date", "9999-12-31"), id="sentinel"),
    pytest.param(_with("maturity_date", dt.date(9999, 12, 31)), id="sentinel-object"),
    pytest.param(_with("due_date", dt.date(2026, 5, 1)), id="date-object"),
    pytest.param(_with("due_date", pendulum.date(2026, 5, 1)), id="pendulum-date"),
    pytest.param(_with("principal", Decimal("10000.00")), id="decimal-money"),
    pytest.param(_with("product", "mortgage"), id="own-product"),
    pytest.param(_with("signals[0].note", "客户称下周还款"), id="unicode-note"),
    pytest.param(_with("case_id", "x" * 200), id="longest-id"),
    pytest.param(
        _with(
            "events",
            [
                {
                    "kind": "retraction",
                    "at": "2026-06-02T09:00:00+08:00",
                    "retracts": "promise_broken",
                }
            ],
        ),
        id="retraction",
    ),
]


@pytest.mark.parametrize("data", FAST)
def test_well_formed_data_takes_the_fast_path(data: dict[str, Any]) -> None:
    assert_fast_equals_full(data)


#: Data the fast path leaves to the full path: each is an error, or valid but rare.
GIVE_UP = [
    pytest.param(_with("signals[0].observed_at", "2026-06-01T10:00:00"), id="naive"),
    pytest.param(_with("signals[0].observed_at", "2026-06-01T10:00:00+01:00:00.5"), id="offset-us"),
    pytest.param(_with("signals[0].observed_at", "1899-12-31T23:00:00+00:00"), id="old-instant"),
    pytest.param(
        _with("signals[0].observed_at", dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
        id="datetime-object",
    ),
    pytest.param(
        _with("signals[0].observed_at", "2026-06-01T10:00:00+08:00" + " " * 50), id="long-instant"
    ),
    pytest.param(_with("signals[0].kind", "no_such_kind"), id="unknown-kind"),
    pytest.param(_with("signals[0].kind", 7), id="kind-not-text"),
    pytest.param(_with("signals[0].value", "NaN"), id="nan"),
    pytest.param(_with("signals[0].note", "\udcff"), id="lone-surrogate"),
    pytest.param(_with("signals[0].extra", 1), id="unknown-signal-key"),
    pytest.param(_with("signals[0].observed_at", ...), id="missing-instant"),
    pytest.param(_with("signals", None), id="signals-null"),
    pytest.param(_with("signals", {"kind": "x"}), id="signals-object"),
    pytest.param(_with("principal", "-1"), id="negative-money"),
    pytest.param(_with("principal", "1000000000000.01"), id="money-over-max"),
    pytest.param(_with("principal", "1e-9"), id="money-too-small"),
    pytest.param(_with("principal", "1.23456789012345678901"), id="too-many-digits"),
    pytest.param(_with("principal", True), id="bool-money"),
    pytest.param(_with("principal", 2**64), id="huge-int"),
    pytest.param(_with("principal", "1" * 65), id="long-number"),
    pytest.param(_with("due_date", "2026-05-01T00:00:00"), id="datetime-as-date"),
    pytest.param(
        _with("due_date", dt.datetime(2026, 5, 1, tzinfo=dt.UTC)), id="datetime-object-as-date"
    ),
    pytest.param(_with("due_date", 20260501), id="date-as-number"),
    pytest.param(_with("due_date", "2201-01-01"), id="date-out-of-range"),
    pytest.param(_with("due_date", ...), id="missing-due-date"),
    pytest.param(_with("maturity_date", "9999-12-30"), id="maturity-out-of-range"),
    pytest.param(_with("currency", "RMB"), id="currency-alias"),
    pytest.param(_with("timezone", "Mars/Olympus"), id="unknown-zone"),
    pytest.param(_with("case_id", " C-1"), id="id-with-space"),
    pytest.param(_with("case_id", "x" * 201), id="id-too-long"),
    pytest.param(_with("product", "Loan"), id="product-not-snake"),
    pytest.param(_with("sicr_rebutted", "yes"), id="flag-text"),
    pytest.param(_with("annual_rate", "10"), id="rate-too-high"),
    pytest.param(_with("events[0].amount", ...), id="payment-without-amount"),
    pytest.param(_with("events[0].kind", "paymnet"), id="event-kind-typo"),
    pytest.param(_with("events[0].retracts", "promise_broken"), id="retracts-not-retraction"),
    pytest.param(
        _with(
            "events",
            [{"kind": "retraction", "at": "2026-06-02T09:00:00+08:00", "retracts": "x" * 65}],
        ),
        id="retracts-too-long",
    ),
    pytest.param(
        _with(
            "events",
            [{"kind": "contact_attempt", "at": "2026-06-02T09:00:00+08:00", "outcome": "busy"}],
        ),
        id="unknown-outcome",
    ),
    pytest.param(_with("guarantors", [{"id": "G1", "agreed_period_months": 0}]), id="months-zero"),
    pytest.param(
        _with("guarantors", [{"id": "G1", "agreed_period_months": True}]), id="months-bool"
    ),
    pytest.param(
        _with("fees", [{"kind": "Late Fee", "amount": "1", "charged_on": "2026-01-01"}]),
        id="fee-kind",
    ),
    pytest.param(_with("colour", "red"), id="unknown-key"),
    pytest.param(
        _with(
            "signals",
            [{"kind": "promise_broken", "observed_at": "2026-06-01T10:00:00+08:00"}] * 1001,
        ),
        id="too-many-signals",
    ),
]


@pytest.mark.parametrize("data", GIVE_UP)
def test_the_fast_path_gives_up_on_what_it_does_not_check_itself(data: dict[str, Any]) -> None:
    assert fast(data) is None
    assert_same_outcome(data)


def test_the_fast_path_keeps_the_options() -> None:
    sentinel_off = _with("maturity_date", "9999-12-31")
    assert fast(sentinel_off, no_date_sentinels=()) is None
    assert_same_outcome(sentinel_off, no_date_sentinels=())
    custom = _with("maturity_date", "2099-01-01")
    assert_fast_equals_full(custom, no_date_sentinels=(dt.date(2099, 1, 1),))
    assert Case.from_dict(custom, no_date_sentinels=(dt.date(2099, 1, 1),)).maturity_date is None
    assert fast(_BASE, products=("credit_card",)) is None
    assert_same_outcome(_BASE, products=("credit_card",))
    assert_fast_equals_full(_BASE, products=("loan",))
    assert fast(_BASE, signal_kinds=("unreachable",)) is None
    assert_same_outcome(_BASE, signal_kinds=["unreachable"])
    for kinds in (("promise_broken",), ["promise_broken"], frozenset({"promise_broken"})):
        assert_fast_equals_full(_BASE, signal_kinds=kinds)


def test_a_dict_subclass_or_a_list_is_left_to_the_full_path() -> None:
    class Row(dict[str, Any]):
        pass

    assert fast(Row(_BASE)) is None
    assert_same_outcome(Row(_BASE))
    assert fast([_BASE]) is None
    assert_same_outcome([_BASE])
