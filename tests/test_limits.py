"""Limits at the boundary: every hostile value is an InputError that names the field and
the limit, quotes little of the value, and is found quickly; nothing else escapes.

Each row of ``HOSTILE`` reproduces one class of failure found by fuzzing: before the
limits, each raised a bare Python exception (OverflowError, decimal.Overflow, the
4,300-digit ValueError, RecursionError) or took seconds and returned a huge message.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from collectrules import (
    Case,
    Contact,
    Engine,
    Event,
    Guarantor,
    Guardrails,
    InputError,
    Signal,
    bucket_history,
    build_timeline,
    days_past_due,
)
from collectrules.errors import MAX_LISTED_PROBLEMS, QUOTE_LIMIT, FieldProblem, quote
from collectrules.model import limits
from helpers import SEEN, case_dict

AS_OF = "2026-06-30T12:00:00+08:00"


def deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def with_signal_value(value: object) -> dict[str, Any]:
    return case_dict(
        ("cash_coverage", 1.0),
        signals=[{"kind": "cash_coverage", "observed_at": SEEN, "value": value}],
    )


def with_event(**fields: Any) -> dict[str, Any]:
    event = {"kind": "payment", "at": SEEN, "amount": "10", **fields}
    return case_dict(events=[event])


#: (label, case data, path of the problem, text the message must contain)
HOSTILE: list[tuple[str, dict[str, Any], str, str]] = [
    ("measured 1e9999", with_signal_value("1e9999"), "signals[0].value", "too large"),
    ("measured float max", with_signal_value(1.7e308), "signals[0].value", "too large"),
    ("measured 1e-9999", with_signal_value("1e-9999"), "signals[0].value", "too small"),
    ("measured NaN", with_signal_value("NaN"), "signals[0].value", "finite number"),
    ("measured float inf", with_signal_value(float("inf")), "signals[0].value", "finite"),
    ("measured 30 digits", with_signal_value("1." + "1" * 29), "signals[0].value", "30 signif"),
    ("measured long text", with_signal_value("1" * 10_000), "signals[0].value", "at most 64"),
    ("measured a list", with_signal_value([1]), "signals[0].value", "expected a number"),
    ("principal 1e999999", case_dict(principal="1e999999"), "principal", "too large"),
    ("principal 10**5000", case_dict(principal=10**5000), "principal", "5001 digits"),
    ("principal 1e9999999", case_dict(principal="1e9999999"), "principal", "too large"),
    ("principal -1e9999999", case_dict(principal="-1e9999999"), "principal", "negative"),
    ("measured -1e9999999", with_signal_value("-1e9999999"), "signals[0].value", "too large"),
    ("principal -0.5", case_dict(principal="-0.5"), "principal", "must not be negative"),
    ("overdue 1e13", case_dict(overdue_amount=1e13), "overdue_amount", "1,000,000,000,000"),
    ("payment 1e999999", with_event(amount="1e999999"), "events[0].amount", "too large"),
    ("due 9999-12-31", case_dict(due_date="9999-12-31"), "due_date", "years 1900–2200"),
    ("due 0001-01-01", case_dict(due_date="0001-01-01"), "due_date", "years 1900–2200"),
    ("due 1899-12-31", case_dict(due_date="1899-12-31"), "due_date", "years 1900–2200"),
    ("maturity 2201", case_dict(maturity_date="2201-01-01"), "maturity_date", "1900–2200"),
    ("event in 9999", with_event(at="9999-12-31T23:00:00+08:00"), "events[0].at", "1900–2200"),
    ("event in year 1", with_event(at="0001-01-01T01:00:00+08:00"), "events[0].at", "1900"),
    (
        "promise 9999-12-31",
        case_dict(
            events=[
                {"kind": "promise_made", "at": SEEN, "promised_date": "9999-12-31", "amount": "1"}
            ]
        ),
        "events[0].promised_date",
        "1900–2200",
    ),
    (
        "1 MB signal kind",
        case_dict(signals=[{"kind": "a" * 10**6, "observed_at": SEEN}]),
        "signals[0].kind",
        "at most 64 characters",
    ),
    ("1 MB case id", case_dict(case_id="a" * 10**6), "case_id", "at most 200 characters"),
    ("1 MB note", with_event(note="n" * 10**6), "events[0].note", "at most 4,000 characters"),
    ("1 MB date", case_dict(due_date="2" * 10**6), "due_date", "YYYY-MM-DD"),
    ("1 MB product", case_dict(product="p" * 10**6), "product", "unknown value"),
    ("lone surrogate", case_dict(case_id="a\udcff"), "case_id", "lone surrogate"),
    ("5,000-deep case id", case_dict(case_id=deep(5000)), "case_id[0][0][0]", "nested deeper"),
    ("5,000-deep signals", case_dict(signals=deep(5000)), "signals[0][0][0]", "nested deeper"),
    ("signal not an object", case_dict(signals=["x"]), "signals[0]", "expected an object"),
    ("signals not a list", case_dict(signals="x"), "signals", "expected a list"),
    (
        "50,000 signals",
        case_dict(signals=[{"kind": "uncooperative", "observed_at": SEEN}] * 50_000),
        "signals",
        "at most 1,000",
    ),
    (
        "1,001 events",
        case_dict(events=[{"kind": "visit", "at": SEEN}] * 1_001),
        "events",
        "at most 1,000",
    ),
    ("20,000 keys", {**case_dict(), **{f"k{i}": 1 for i in range(20_000)}}, "", "20,008 keys"),
    (
        "guarantor months 10**5000",
        case_dict(guarantors=[{"id": "G", "agreed_period_months": 10**5000}]),
        "guarantors[0].agreed_period_months",
        "5001 digits",
    ),
]


@pytest.mark.parametrize(("label", "data", "path", "text"), HOSTILE, ids=[r[0] for r in HOSTILE])
def test_hostile_values_are_refused_at_the_boundary(
    label: str, data: dict[str, Any], path: str, text: str
) -> None:
    start = time.process_time()
    with pytest.raises(InputError) as info:
        Case.from_dict(data)
    elapsed = time.process_time() - start
    assert path in info.value.paths, str(info.value)[:500]
    assert text in str(info.value)
    assert len(str(info.value)) < 1_000
    assert elapsed < 2.0, f"{label}: {elapsed:.2f} s"


def test_error_messages_name_the_limit() -> None:
    with pytest.raises(InputError) as info:
        Case.from_dict(case_dict(principal="1e999999"))
    assert str(info.value) == (
        "principal: money amount '1e999999' is too large: non-negative, at most "
        "1,000,000,000,000 in magnitude, none smaller than 1E-8 but zero, at most 20 "
        "significant digits"
    )


def test_values_within_the_limits_are_kept_exactly() -> None:
    data = case_dict(principal="999999999999.99", overdue_amount="0.00000001")
    data["signals"] = [
        {"kind": "cash_coverage", "observed_at": SEEN, "value": "9e-05"},
        {"kind": "recovery_months", "observed_at": SEEN, "value": 1e12},
    ]
    case = Case.from_dict(data)
    assert case.principal == Decimal("999999999999.99")
    assert case.overdue_amount == Decimal("1E-8")
    assert case.signals[0].value == Decimal("0.00009")
    assert case.signals[1].value == Decimal(10**12)
    assert Case.from_dict(case_dict(due_date="1900-01-01", maturity_date="2200-12-31"))


def test_a_no_date_sentinel_means_no_maturity_date_unless_refused() -> None:
    case = Case.from_dict(case_dict(maturity_date="9999-12-31"))
    assert case.maturity_date is None
    with pytest.raises(InputError, match="maturity_date: date 9999-12-31 is outside"):
        Case.from_dict(case_dict(maturity_date="9999-12-31"), no_date_sentinels=())
    lender = Case.from_dict(
        case_dict(maturity_date="2199-12-31"), no_date_sentinels=[dt.date(2199, 12, 31)]
    )
    assert lender.maturity_date is None
    # A required date is never "no date".
    with pytest.raises(InputError, match="due_date: date 9999-12-31"):
        Case.from_dict(case_dict(due_date="9999-12-31"))


# --------------------------------------------------------------------------- constructors


def _seen() -> pendulum.DateTime:
    return pendulum.parse(SEEN)  # type: ignore[return-value]


CONSTRUCTORS: list[tuple[str, Any, str]] = [
    ("Signal value 1e9999", lambda: Signal("cash_coverage", _seen(), Decimal("1e9999")), "value"),
    ("Signal 5,000-deep kind", lambda: Signal(deep(5000), _seen()), "kind"),
    ("Signal 1 MB note", lambda: Signal("uncooperative", _seen(), note="n" * 10**6), "note"),
    (
        "Signal in year 1",
        lambda: Signal("uncooperative", pendulum.datetime(1, 1, 2)),
        "observed_at",
    ),
    (
        "Event amount 1e999999",
        lambda: Event("payment", _seen(), amount=Decimal("1e999999")),
        "amount",
    ),
    ("Event kind 5,000 deep", lambda: Event(deep(5000), _seen()), "kind"),
    (
        "Event promised 9999",
        lambda: Event(
            "promise_made", _seen(), amount=Decimal(1), promised_date=dt.date(9999, 12, 31)
        ),
        "promised_date",
    ),
    (
        "Guarantor months 10**5000",
        lambda: Guarantor("G", agreed_period_months=10**5000),
        "agreed_period_months",
    ),
    ("Guarantor id 1 MB", lambda: Guarantor("g" * 10**6), "id"),
    (
        "Case due 9999",
        lambda: Case("C", "loan", "CNY", 1, 1, dt.date(9999, 12, 31), "UTC"),
        "due_date",
    ),
    (
        "Case product deep",
        lambda: Case("C", deep(5000), "CNY", 1, 1, dt.date(2026, 1, 1), "UTC"),
        "product",
    ),
    (
        "Case principal 10**5000",
        lambda: Case("C", "loan", "CNY", 10**5000, 1, dt.date(2026, 1, 1), "UTC"),
        "principal",
    ),
    (
        "Case zone 1 MB",
        lambda: Case("C", "loan", "CNY", 1, 1, dt.date(2026, 1, 1), "Z" * 10**6),
        "timezone",
    ),
    (
        "Case signals not signals",
        lambda: Case("C", "loan", "CNY", 1, 1, dt.date(2026, 1, 1), "UTC", signals=[1]),
        "signals[0]",
    ),
    (
        "Case signals an int",
        lambda: Case("C", "loan", "CNY", 1, 1, dt.date(2026, 1, 1), "UTC", signals=5),
        "signals",
    ),
]


@pytest.mark.parametrize(("label", "build", "path"), CONSTRUCTORS, ids=[r[0] for r in CONSTRUCTORS])
def test_constructors_refuse_hostile_values(label: str, build: Any, path: str) -> None:
    with pytest.raises(InputError) as info:
        build()
    assert path in info.value.paths
    assert len(str(info.value)) < 1_000


# --------------------------------------------------------------------------- entry points


@pytest.fixture(scope="module")
def case() -> Case:
    return Case.from_dict(case_dict(("cash_coverage", 0.5)))


BAD_AS_OF = [
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-08:00",
    "1899-12-31T23:00:00+00:00",
    "2201-01-01T00:00:00+08:00",
    pendulum.datetime(9999, 12, 31, 23, tz="Pacific/Kiritimati"),
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    "x" * 10**6,
    12,
    None,
    deep(5000),
]


@pytest.mark.parametrize("as_of", BAD_AS_OF, ids=lambda v: quote(v, limit=30))
@pytest.mark.parametrize("backend", ["python", "durable"])
def test_every_entry_point_refuses_an_as_of_out_of_range(
    case: Case, as_of: Any, backend: str
) -> None:
    engine = Engine("cn_bank_loan", backend=backend)  # type: ignore[arg-type]
    calls = [
        lambda: engine.decide(case, as_of=as_of),
        lambda: engine.derive(case, as_of=as_of),
        lambda: engine.timeline(case, as_of=as_of),
        lambda: list(engine.decide_many([case], as_of=as_of)),
        lambda: build_timeline(case, as_of=as_of, policy=engine.policy),
        lambda: days_past_due(case, as_of),
        lambda: bucket_history(case, [as_of], policy="cn_bank_loan", bucket_set="M"),
        lambda: Guardrails("cn_bank_loan").obligations(case, as_of=as_of),
        lambda: Guardrails("cn_bank_loan").check(case, Contact("phone", "debtor", as_of)),
        lambda: Guardrails("cn_bank_loan").next_allowed(case, "phone", "debtor", after=as_of),
    ]
    for call in calls:
        with pytest.raises(InputError) as info:
            call()
        assert info.value.paths in (("as_of",), ("at",))
        assert len(str(info.value)) < 500


@pytest.mark.parametrize(
    "wrong", ["case", 1, None, {"case_id": "C"}, deep(5000)], ids=lambda v: type(v).__name__
)
def test_entry_points_refuse_what_is_not_a_case(wrong: Any) -> None:
    engine = Engine("cn_bank_loan", backend="python")
    calls = [
        lambda: engine.decide(wrong, as_of=AS_OF),
        lambda: engine.derive(wrong, as_of=AS_OF),
        lambda: engine.timeline(wrong, as_of=AS_OF),
        lambda: engine.session(wrong),
        lambda: build_timeline(wrong, as_of=AS_OF, policy=engine.policy),
        lambda: days_past_due(wrong, AS_OF),
        lambda: bucket_history(wrong, [AS_OF], policy="cn_bank_loan", bucket_set="M"),
        lambda: Guardrails("cn_bank_loan").obligations(wrong, as_of=AS_OF),
        lambda: Guardrails("cn_bank_loan").next_allowed(wrong, "phone", "debtor", after=AS_OF),
    ]
    for call in calls:
        with pytest.raises(InputError, match="expected a Case"):
            call()


def test_decide_many_reports_every_hostile_row_and_decides_the_rest() -> None:
    engine = Engine("default", backend="python")
    rows: list[Any] = [copy.deepcopy(data) for _, data, _, _ in HOSTILE[:12]]
    rows.insert(3, case_dict(case_id="GOOD"))
    rows.append(deep(5000))
    results = list(engine.decide_many(rows, as_of=AS_OF))
    assert [r.ok for r in results].count(True) == 1
    decided = results[3].decision
    assert decided is not None
    assert decided.case_id == "GOOD"
    assert all(isinstance(r.error, InputError) for r in results if not r.ok)


def test_guardrails_refuse_hostile_arguments(case: Case) -> None:
    guardrails = Guardrails("cn_bank_loan")
    with pytest.raises(InputError, match="horizon_days"):
        guardrails.next_allowed(case, "phone", "debtor", after=AS_OF, horizon_days=10**5000)
    with pytest.raises(InputError, match="history"):
        guardrails.check(case, Contact("phone", "debtor", AS_OF), history=5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="channel") as info:
        Contact("p" * 10**6, "debtor", AS_OF)
    assert len(str(info.value)) < 500
    with pytest.raises(InputError, match="expected a list of as_of"):
        bucket_history(case, AS_OF, policy="cn_bank_loan", bucket_set="M")


# --------------------------------------------------------------------------- messages


def test_quote_is_short_and_safe_on_any_value() -> None:
    assert quote("abc") == "'abc'"
    assert len(quote("a" * 10**6)) <= QUOTE_LIMIT + 3
    assert quote(10**5000) == "<integer of about 5001 digits>"
    assert quote(deep(5000)) == "[[[[...]]]]"
    recursive: dict[str, Any] = {}
    recursive["self"] = recursive
    assert len(quote(recursive)) < 100


def test_an_input_error_lists_a_bounded_number_of_problems() -> None:
    problems = [FieldProblem(f"signals[{i}].kind", "unknown") for i in range(500)]
    error = InputError(problems, subject="case C")
    lines = str(error).splitlines()
    assert lines[0] == "500 problems in case C:"
    assert len(lines) == MAX_LISTED_PROBLEMS + 2
    assert lines[-1] == f"  - … and {500 - MAX_LISTED_PROBLEMS} more"
    assert len(error.problems) == 500


def test_the_limits_are_documented_constants() -> None:
    assert (limits.MIN_YEAR, limits.MAX_YEAR) == (1900, 2200)
    assert limits.MONEY.maximum == Decimal(10**12)
    assert limits.MEASURE.maximum == Decimal(10**12)
    assert (dt.date(9999, 12, 31),) == limits.NO_DATE_SENTINELS
    for name in limits.__all__:
        assert hasattr(limits, name)


def test_the_largest_case_allowed_is_worked_in_bounded_time() -> None:
    # 1,000 promises once took 13 s: each condition anchor judged every promise at
    # every event. A generous bound, against a hang, not a speed target.
    promises = [
        {
            "kind": "promise_made",
            "at": f"2026-0{1 + i % 5}-{1 + i % 28:02d}T10:00:00+08:00",
            "promised_date": "2026-07-01",
            "amount": "10",
        }
        for i in range(limits.MAX_EVENTS)
    ]
    case = Case.from_dict(case_dict(events=promises, due_date="2025-12-01"))
    engine = Engine("cn_bank_loan", backend="python")
    start = time.process_time()
    timeline = engine.timeline(case, as_of=AS_OF)
    assert time.process_time() - start < 5.0
    assert len(timeline.promises) == limits.MAX_EVENTS


def test_decide_many_refuses_what_is_not_rows() -> None:
    engine = Engine("default", backend="python")
    with pytest.raises(InputError, match="expected an iterable of cases"):
        list(engine.decide_many(5, as_of=AS_OF))  # type: ignore[arg-type]


def test_a_session_refuses_what_is_not_a_signal_or_event(case: Case) -> None:
    session = Engine("default", backend="python").session(case)
    with pytest.raises(InputError, match="expected a Signal"):
        session.assert_signal("uncooperative")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="expected an Event"):
        session.assert_event({"kind": "visit"})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="at most 1,000"):
        session.assert_signal(*[Signal("uncooperative", _seen())] * 1_001)


def test_numpy_numbers_count_as_the_numbers_they_hold() -> None:
    """A pandas frame's ``to_dict`` gives NumPy scalars: each is the int or float it
    holds, on both back ends, with the same decision as the plain number; NumPy's bool
    is no number, and its NaN no finite one."""
    np = pytest.importorskip("numpy")
    plain = case_dict(("recovery_months", 6.5), principal=120000, overdue_amount=5000.25)
    numpy = case_dict(
        ("recovery_months", np.float32(6.5)),
        principal=np.int64(120000),
        overdue_amount=np.float64(5000.25),
    )
    numpy["events"] = [{"kind": "payment", "at": SEEN, "amount": np.uint16(300)}]
    plain["events"] = [{"kind": "payment", "at": SEEN, "amount": 300}]
    case = Case.from_dict(numpy)
    assert case == Case.from_dict(plain)
    assert (case.principal, case.overdue_amount) == (Decimal(120000), Decimal("5000.25"))
    assert type(case.principal) is Decimal
    assert case.signals[0].value == Decimal("6.5")
    for backend in ("python", "durable"):
        engine = Engine("default", backend=backend)
        [row] = engine.decide_many([numpy], as_of=AS_OF)
        assert row.decision is not None, row.error
        assert row.decision.to_json() == engine.decide(Case.from_dict(plain), as_of=AS_OF).to_json()
    with pytest.raises(InputError) as info:
        Case.from_dict(case_dict(principal=np.True_))
    assert "principal: expected a number, got bool" in str(info.value)
    with pytest.raises(InputError, match="principal: expected a finite number, got nan"):
        Case.from_dict(case_dict(principal=np.float64("nan")))
    with pytest.raises(InputError, match=r"principal: money amount .* is too large"):
        Case.from_dict(case_dict(principal=np.uint64(2**64 - 1)))
