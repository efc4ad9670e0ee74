"""Hostile inputs to the columnar engine and to the money module: each example once
leaked a Polars panic, a ``ValueError`` of Python's own, or a wrong decision; each now
gives the per-case engine's answer or a :class:`CollectRulesError` naming the field."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

from collectrules import frame  # noqa: E402
from collectrules.batch.compact import compact_row  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import CollectRulesError, InputError  # noqa: E402
from collectrules.model.case import Case  # noqa: E402
from collectrules.money import PlanTerms, build_schedule  # noqa: E402
from collectrules.money.kpis import events_from_rows, portfolio_from_rows  # noqa: E402
from helpers import CARD_CASE  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
BASE = CARD_CASE
REFUSED = "refused_to_pay"


def _cases(**columns: Any) -> Any:
    """Two cases, C0 and C1, as an Arrow table, with ``columns`` replacing or adding."""
    table = {k: pa.array([v, v]) for k, v in BASE.items()} | {"case_id": pa.array(["C0", "C1"])}
    return pa.table(table | columns)


def _signals(observed_at: Any) -> Any:
    return pa.table({"case_id": ["C0"], "kind": [REFUSED], "observed_at": observed_at})


def _per_case(table: Any) -> tuple[dict[int, Any], dict[int, str]]:
    decided, errors = {}, {}
    for result in Engine("default", backend="python").decide_many(table, as_of=AS_OF):
        if result.decision is not None:
            decided[result.index] = compact_row(result.decision)
        else:
            errors[result.index] = str(result.error)
    return decided, errors


def _columnar(result: Any) -> tuple[dict[int, Any], dict[int, str]]:
    decided = {}
    for row in result.decisions.to_dicts():
        index = row.pop("row")
        for name in ("classes", "buckets"):
            row[name] = [(p["key"], p["value"]) for p in row[name]]
        decided[index] = row
    return decided, {e.row: str(e.error) for e in result.errors}


# --------------------------------------------------------------------------- frame


@pytest.mark.parametrize("zone", ["+23:59", "-23:59", "Bogus/Zone", "Z", "Etc/GMT+14", "+0800"])
@pytest.mark.parametrize("column", ["due_date", "maturity_date", "extra"])
def test_a_case_column_of_timestamps_in_an_unknown_zone_is_read_as_per_case(
    zone: str, column: str
) -> None:
    """Polars refuses the zone (or Python cannot read it, ``+0800``): the row holding
    one is decided per case, read from the Arrow table as ``decide_many`` reads it (the
    error names the column); the row without one is decided as ``decide_many`` does."""
    at = pa.array([dt.datetime(2026, 5, 1, tzinfo=dt.UTC), None], pa.timestamp("us", zone))
    cases = _cases(**{column: at})
    result = frame.decide(cases, as_of=AS_OF)
    assert _columnar(result) == _per_case(cases)
    assert str(result.errors[0].error).startswith(f"{column}: ")


def test_a_signal_timestamp_in_an_unknown_zone_is_an_input_error() -> None:
    at = pa.array([dt.datetime(2026, 6, 1, tzinfo=dt.UTC)], pa.timestamp("us", "+23:59"))
    with pytest.raises(InputError) as info:
        frame.decide(_cases(), _signals(at), as_of=AS_OF)
    assert [p.path for p in info.value.problems] == ["signals.observed_at"]


def test_timestamps_in_a_zone_both_read_are_decided_as_per_case() -> None:
    at = pa.array([dt.datetime(2026, 5, 1, tzinfo=dt.UTC), None], pa.timestamp("us", "+08:00"))
    cases = _cases(maturity_date=at)
    assert _columnar(frame.decide(cases, as_of=AS_OF)) == _per_case(cases)


def test_a_signal_in_milliseconds_past_what_python_holds_is_a_bad_row_not_a_panic() -> None:
    at = pl.Series([2**62]).cast(pl.Datetime("ms", "UTC"))
    signals = pl.DataFrame({"case_id": ["C0"], "kind": [REFUSED], "observed_at": at})
    result = frame.decide(pl.from_arrow(_cases()), signals, as_of=AS_OF)
    assert [(e.row, e.case_id) for e in result.errors] == [(0, None)]
    assert "observed_at: a value Python cannot read" in str(result.errors[0].error)
    assert result.decisions.get_column("row").to_list() == [1]


@pytest.mark.parametrize("unit_type", [pa.timestamp("s", "UTC"), pa.timestamp("s")])
def test_a_timestamp_in_seconds_that_milliseconds_cannot_hold_is_an_input_error(
    unit_type: Any,
) -> None:
    """Polars reads seconds as milliseconds, and wrapped 2**62 seconds to 1970: the
    signal counted, as if observed then."""
    at = pa.array([2**62], pa.int64()).cast(unit_type)
    with pytest.raises(InputError) as info:
        frame.decide(_cases(), _signals(at), as_of=AS_OF)
    assert [p.path for p in info.value.problems] == ["signals.observed_at"]
    assert "within the years 1–9999" in str(info.value)


def test_timestamps_in_seconds_within_range_are_read() -> None:
    at = pa.array([1_780_000_000], pa.int64()).cast(pa.timestamp("s", "UTC"))
    result = frame.decide(_cases(), _signals(at), as_of=AS_OF)
    assert (result.summary.decided, result.summary.bad) == (2, 0)
    nested = pa.array([{"t": 2**62}], pa.struct([("t", pa.int64())]))
    late = nested.cast(pa.struct([("t", pa.timestamp("s"))]))
    cases = _cases(extra=pa.concat_arrays([late, pa.nulls(1, late.type)]))
    result = frame.decide(cases, as_of=AS_OF)  # the row holding one is read per case
    assert _columnar(result) == _per_case(cases)
    assert [e.row for e in result.errors] == [0]


def test_a_date64_column_is_read_as_dates_as_per_case() -> None:
    """Polars reads a date64 as an instant: the per-case engine on the table reads dates."""
    days = pa.array([dt.date(2026, 5, 1), dt.date(2026, 4, 1)], pa.date64())
    cases = _cases(due_date=days)
    result = frame.decide(cases, as_of=AS_OF)
    assert _columnar(result) == _per_case(cases)
    assert result.summary.decided == 2


def test_a_date64_past_what_a_date_holds_is_read_as_per_case() -> None:
    days = pa.array([2**62, 0], pa.int64()).cast(pa.date64())
    cases = _cases(due_date=days)
    result = frame.decide(cases, as_of=AS_OF)
    assert _columnar(result) == _per_case(cases)
    assert str(result.errors[0].error).startswith("due_date: ")


@pytest.mark.parametrize(
    "column",
    [
        pa.UnionArray.from_sparse(pa.array([0, 0], pa.int8()), [pa.array([1, 2])]),
        pa.array([Decimal("1E+5")] * 2, pa.decimal128(5, -5)),
    ],
    ids=["union", "negative scale"],
)
def test_a_column_polars_cannot_read_is_read_as_per_case(column: Any) -> None:
    cases = _cases(principal=column)
    result = frame.decide(cases, as_of=AS_OF)
    assert _columnar(result) == _per_case(cases)
    assert result.summary.per_case == 2


def test_signals_without_any_case_id_are_orphans() -> None:
    signals = pl.DataFrame({"case_id": [None], "kind": [REFUSED]})
    result = frame.decide(pl.from_arrow(_cases()), signals, as_of=AS_OF)
    assert (result.summary.decided, result.summary.orphans) == (2, 1)


def test_categorical_case_ids_take_their_signals() -> None:
    cases = pl.from_arrow(_cases()).with_columns(pl.col("case_id").cast(pl.Categorical))
    signals = pl.DataFrame({"case_id": ["C0"], "kind": [REFUSED], "observed_at": ["x"]})
    result = frame.decide(cases, signals, as_of=AS_OF)
    assert [(e.row, str(e.error)) for e in result.errors] == [
        (0, "signals[0].observed_at: expected an ISO 8601 datetime with an offset, got 'x'")
    ]
    assert result.summary.orphans == 0


@pytest.mark.parametrize("coded", ["Categorical", "Enum"])
@pytest.mark.parametrize("cases_coded", [False, True], ids=["text cases", "coded cases"])
def test_coded_case_ids_of_signals_and_events_are_read_as_their_text(
    coded: str, cases_coded: bool
) -> None:
    """A signals or events table whose case ids are coded text (Categorical, Enum) is
    joined on the ids' text, as a cases table's coded ids are: the same decisions as
    with plain text."""
    cases = pl.from_arrow(_cases())
    assert isinstance(cases, pl.DataFrame)
    if cases_coded:
        cases = cases.with_columns(pl.col("case_id").cast(pl.Categorical))
    seen = "2026-06-01T10:00:00+08:00"
    signals = pl.DataFrame({"case_id": ["C0"], "kind": [REFUSED], "observed_at": [seen]})
    events = pl.DataFrame(
        {"case_id": ["C1"], "kind": ["payment"], "at": [seen], "amount": ["10.00"]}
    )
    plain = frame.decide(cases, signals, events, as_of=AS_OF)
    dtype = pl.Categorical() if coded == "Categorical" else pl.Enum(["C0", "C1", "C9"])
    coded_result = frame.decide(
        cases,
        signals.with_columns(pl.col("case_id").cast(dtype)),
        events.with_columns(pl.col("case_id").cast(dtype)),
        as_of=AS_OF,
    )
    assert coded_result.decisions.equals(plain.decisions)
    assert coded_result.errors == plain.errors
    assert (coded_result.summary.orphans, plain.summary.orphans) == (0, 0)
    fired = dict(zip(plain.decisions["case_id"], plain.decisions["fired"], strict=True))
    assert "W-REFUSED-TO-PAY" in fired["C0"]


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize("months", [10**5000, -(10**5000)], ids=["huge", "huge negative"])
def test_a_month_count_of_thousands_of_digits_is_an_input_error(months: int) -> None:
    for attempt in (
        lambda: PlanTerms(months=months, annual_rate=Decimal("0.05")),
        lambda: build_schedule(
            Decimal(1000), Decimal("0.05"), months, currency="CNY", start=dt.date(2026, 1, 1)
        ),
    ):
        with pytest.raises(InputError) as info:
            attempt()
        assert info.value.paths == ("terms.months",)
        assert "integer of about 5001 digits" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("principal", 10**5000),
        ("principal", "9" * 5000),
        ("annual_rate", Decimal("9" * 3000)),
        ("penalty_rate", Decimal("0." + "1" * 5000) * 100),
    ],
    ids=["int principal", "text principal", "rate", "penalty rate"],
)
def test_a_plan_error_quotes_a_long_number_short(field: str, value: object) -> None:
    with pytest.raises(InputError) as info:
        PlanTerms(**{"months": 12, "annual_rate": Decimal("0.05"), field: value})
    assert info.value.paths == (f"terms.{field}",)
    assert len(str(info.value)) < 300


def test_a_principal_of_many_decimals_is_quoted_short() -> None:
    principal = Decimal("0." + "1" * 5000)
    with pytest.raises(InputError) as info:
        build_schedule(principal, Decimal("0.05"), 12, currency="CNY", start=dt.date(2026, 1, 1))
    assert "has more decimals than CNY allows" in str(info.value)
    assert len(str(info.value)) < 300


def _decision_row() -> dict[str, Any]:
    case = Case.from_dict(BASE)
    return Engine("default", backend="python").decide(case, as_of=AS_OF).to_dict()


@pytest.mark.parametrize("field", ["case_id", "as_of"])
def test_a_decision_row_holding_a_huge_integer_is_an_input_error(field: str) -> None:
    row = _decision_row() | {field: 10**5000}
    with pytest.raises(InputError) as info:
        portfolio_from_rows([("row 1", row)])
    assert info.value.paths == (field,)
    if field == "case_id":  # a case id is text, as a Case holds it: never a number read as text
        assert "got int <integer of about 5001 digits>" in str(info.value)


@pytest.mark.parametrize(
    "amount",
    [10**5000, "1E+999999999", Decimal("1E+400"), "1e13", Decimal("sNaN")],
    ids=["huge int", "huge exponent", "1E+400", "1e13", "sNaN"],
)
def test_an_event_amount_past_the_money_limit_is_an_input_error(amount: object) -> None:
    row = {"case_id": "A", "at": "2026-06-01T00:00:00Z", "kind": "payment", "amount": amount}
    with pytest.raises(InputError) as info:
        events_from_rows([("line 1", row)])
    assert info.value.paths == ("amount",)
    assert "expected an amount of at most 1,000,000,000,000" in str(info.value)
    assert len(str(info.value)) < 300


def test_a_decision_amount_past_the_money_limit_is_an_input_error() -> None:
    row = _decision_row()
    row["facts"] = {**row["facts"], "principal": "1E+999999999"}
    with pytest.raises(InputError) as info:
        portfolio_from_rows([("row 1", row)])
    assert info.value.paths == ("facts.principal",)
    with decimal.localcontext() as ctx:  # under the caller's strict context too
        ctx.traps[decimal.Inexact] = True
        with pytest.raises(CollectRulesError):
            portfolio_from_rows([("row 1", row)])
