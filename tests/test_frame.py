"""The columnar engine agrees with the per-case engine, row for row, error for error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

from collectrules import frame  # noqa: E402
from collectrules.batch.compact import FIELDS, compact_row  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.model.case import Case  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from collectrules.testing.strategies import cases  # noqa: E402
from strategies import ifrs9_cases  # noqa: E402

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
AS_OF = "2026-06-30T12:00:00+08:00"
#: Instants in several offsets, one on a daylight-saving change, one at a day's end.
AS_OFS = (
    AS_OF,
    "2026-03-29T01:30:00+00:00",
    "2024-02-29T23:59:59-05:00",
    "2026-11-01T00:00:00+13:00",
)

_ENGINES: dict[str, Engine] = {}


def engine_for(name: str) -> Engine:
    if name not in _ENGINES:
        _ENGINES[name] = Engine(name, backend="python")
    return _ENGINES[name]


def tables(rows: Sequence[dict[str, Any]]) -> tuple[Any, Any, Any]:
    """A cases table and long signal and event tables from case dicts."""
    flat = [{k: v for k, v in r.items() if k not in ("signals", "events")} for r in rows]
    sigs = [{"case_id": r.get("case_id"), **s} for r in rows for s in r.get("signals", [])]
    evs = [{"case_id": r.get("case_id"), **e} for r in rows for e in r.get("events", [])]
    cases_df = pl.DataFrame(flat, infer_schema_length=None)
    signals_df = pl.DataFrame(sigs, infer_schema_length=None) if sigs else None
    events_df = pl.DataFrame(evs, infer_schema_length=None) if evs else None
    return cases_df, signals_df, events_df


def per_case(name: str, rows: Sequence[dict[str, Any]], as_of: str) -> tuple[dict, dict]:
    decided: dict[int, dict[str, Any]] = {}
    errors: dict[int, str] = {}
    for result in engine_for(name).decide_many(rows, as_of=as_of):
        if result.decision is not None:
            decided[result.index] = compact_row(result.decision)
        else:
            errors[result.index] = f"{type(result.error).__name__}: {result.error}"
    return decided, errors


def columnar(result: frame.FrameResult) -> tuple[dict, dict]:
    decided = {}
    for row in result.decisions.to_dicts():
        index = row.pop("row")
        for name in ("classes", "buckets"):
            row[name] = [(p["key"], p["value"]) for p in row[name]]
        decided[index] = row
    errors = {e.row: f"{type(e.error).__name__}: {e.error}" for e in result.errors}
    return decided, errors


def assert_agree(name: str, rows: Sequence[dict[str, Any]], as_of: str = AS_OF) -> Any:
    cases_df, signals_df, events_df = tables(rows)
    result = frame.decide(cases_df, signals_df, events_df, policy=name, as_of=as_of)
    assert columnar(result) == per_case(name, rows, as_of)
    assert result.summary.rows == len(rows)
    assert result.summary.decided + result.summary.bad == len(rows)
    assert result.summary.columnar + result.summary.per_case == len(rows)
    return result


@pytest.mark.parametrize("name", SHIPPED)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_generated_portfolios_agree_with_the_per_case_engine(name: str, data: Any) -> None:
    policy = load_policy(name)
    with_events = data.draw(st.booleans())
    as_of = data.draw(st.sampled_from(AS_OFS))
    portfolio: list[Case] = data.draw(
        st.lists(cases(policy, as_of=as_of, with_events=with_events), min_size=1, max_size=6)
    )
    # The long tables name their case by case_id, so the ids of one portfolio differ.
    rows = [{**c.to_dict(), "case_id": f"{c.case_id}-{i}"} for i, c in enumerate(portfolio)]
    result = assert_agree(name, rows, as_of)
    if not with_events:
        assert result.summary.fallback.get("has events", 0) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolio=st.lists(ifrs9_cases(), min_size=1, max_size=8), as_of=st.sampled_from(AS_OFS))
def test_ifrs9_columns_put_every_case_in_eu_default_at_stage_3(
    portfolio: list[Case], as_of: str
) -> None:
    # Rebuttal flags and amounts around the materiality thresholds, decided by the
    # columns: the same classes as the per-case engine, and never in EU default outside
    # stage 3.
    rows = [{**c.to_dict(), "case_id": f"{c.case_id}-{i}"} for i, c in enumerate(portfolio)]
    result = assert_agree("ifrs9", rows, as_of)
    assert result.summary.columnar == len(rows)
    for row in result.decisions.to_dicts():
        classes = {p["key"]: p["value"] for p in row["classes"]}
        if classes["EU-DEFAULT"] == "default":
            assert classes["IFRS9"] == "stage_3", row


def test_a_portfolio_without_events_is_decided_by_the_columns() -> None:
    rows = [
        {
            "case_id": f"C-{i}",
            "product": "loan",
            "currency": "CNY",
            "principal": str(10_000 + i),
            "overdue_amount": "0.29" if i % 2 else "1500",
            "due_date": f"2026-0{1 + i % 5}-1{i % 9}",
            "timezone": "Asia/Shanghai",
            "signals": [
                {"kind": "refused_to_pay", "observed_at": "2026-06-01T10:00:00+08:00"},
                {
                    "kind": "cash_coverage",
                    "observed_at": "2026-06-02T10:00:00+08:00",
                    "value": "0.9",
                },
            ][: i % 3],
        }
        for i in range(40)
    ]
    for name in SHIPPED:
        result = assert_agree(name, rows)
        if name != "ifrs9":  # CNY has no materiality threshold in the EU pack: every row is bad
            assert result.summary.columnar == len(rows)
            assert result.summary.per_case == 0


def test_bad_rows_get_the_per_case_error_and_the_others_are_decided() -> None:
    good = {
        "case_id": "OK-1",
        "product": "loan",
        "currency": "CNY",
        "principal": 1000,
        "overdue_amount": 12.5,
        "due_date": "2026-03-01",
        "timezone": "Asia/Shanghai",
        "signals": [{"kind": "fraud_suspected", "observed_at": "2026-06-01T10:00:00+08:00"}],
    }
    bad = [
        {**good, "case_id": "BAD-AMOUNT", "overdue_amount": -1.5},
        {**good, "case_id": "BAD-ZONE", "timezone": "Mars/Olympus"},
        {**good, "case_id": "BAD-DATE", "due_date": "2026-02-30"},
        {**good, "case_id": "BAD-PRODUCT", "product": "mortgage"},
        {
            **good,
            "case_id": "BAD-KIND",
            "signals": [{"kind": "no_such_kind", "observed_at": "2026-06-01T10:00:00+08:00"}],
        },
        {
            **good,
            "case_id": "NAIVE",
            "signals": [{"kind": "fraud_suspected", "observed_at": "2026-06-01T10:00:00"}],
        },
        {**good, "case_id": "PRECISE", "principal": 1000.123456},
    ]
    rows = [good, *bad, {**good, "case_id": "OK-2"}]
    result = assert_agree("default", rows)
    assert result.summary.bad == 6
    assert {e.case_id for e in result.errors} == {
        "BAD-AMOUNT",
        "BAD-ZONE",
        "BAD-DATE",
        "BAD-PRODUCT",
        "BAD-KIND",
        "NAIVE",
    }
    assert result.decisions.get_column("case_id").to_list() == ["OK-1", "PRECISE", "OK-2"]
    assert result.summary.fallback["outside the columnar subset"] == 7


def test_cases_with_events_fall_back_and_are_counted() -> None:
    rows = [
        {
            "case_id": "E-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "5000",
            "overdue_amount": "5000",
            "due_date": "2026-05-01",
            "timezone": "Asia/Shanghai",
            # A promise to pay: the columns do not derive the kept and broken promises
            # (tests/test_frame_events.py).
            "events": [
                {
                    "kind": "promise_made",
                    "at": "2026-05-03T10:00:00+08:00",
                    "amount": "100",
                    "promised_date": "2026-05-10",
                }
            ],
        },
        {
            "case_id": "N-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "5000",
            "overdue_amount": "5000",
            "due_date": "2026-05-01",
            "timezone": "Asia/Shanghai",
        },
    ]
    result = assert_agree("default", rows)
    assert result.summary.fallback == {"has events": 1}
    assert result.summary.columnar == 1


def test_pandas_and_arrow_inputs_give_the_same_frame() -> None:
    rows = [
        {
            "case_id": f"P-{i}",
            "product": "credit_card",
            "currency": "CNY",
            "principal": 100.5 * i,
            "overdue_amount": 10.25 * i,
            "due_date": dt.date(2026, 1 + i % 5, 3),
            "timezone": "Asia/Shanghai",
        }
        for i in range(10)
    ]
    signals = [
        {
            "case_id": f"P-{i}",
            "kind": "recovery_months",
            "observed_at": "2026-06-01T10:00:00+08:00",
            "value": 3.0 + i,
        }
        for i in range(10)
    ]
    polars_result = frame.decide(
        pl.DataFrame(rows), pl.DataFrame(signals), policy="cn_bank_loan", as_of=AS_OF
    )
    arrow_result = frame.decide(
        pa.Table.from_pylist(rows),
        pa.Table.from_pylist(signals),
        policy="cn_bank_loan",
        as_of=AS_OF,
    )
    assert polars_result.decisions.equals(arrow_result.decisions)
    try:
        import pandas as pd
    except ImportError:
        pass
    else:
        pandas_result = frame.decide(
            pd.DataFrame(rows), pd.DataFrame(signals), policy="cn_bank_loan", as_of=AS_OF
        )
        assert polars_result.decisions.equals(pandas_result.decisions)
    assert polars_result.summary.columnar == 10
    dicts = [{**r, "due_date": r["due_date"].isoformat()} for r in rows]
    for r, s in zip(dicts, signals, strict=True):
        r["signals"] = [{k: v for k, v in s.items() if k != "case_id"}]
    assert columnar(polars_result) == per_case("cn_bank_loan", dicts, AS_OF)


def test_the_same_inputs_give_the_same_frame() -> None:
    rows = [
        {
            "case_id": f"D-{i}",
            "product": "loan",
            "currency": "CNY",
            "principal": "1000",
            "overdue_amount": "10",
            "due_date": f"2026-0{1 + i % 6}-0{1 + i % 9}",
            "timezone": "Asia/Shanghai",
        }
        for i in range(30)
    ]
    first = frame.decide(*tables(rows)[:1], policy="cn_bank_loan", as_of=AS_OF)
    second = frame.decide(*tables(rows)[:1], policy="cn_bank_loan", as_of=AS_OF)
    assert first.decisions.equals(second.decisions)
    assert list(first.decisions.columns) == ["row", *FIELDS]


def test_signals_for_unknown_cases_are_counted_and_ignored() -> None:
    rows = [
        {
            "case_id": "K-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "1000",
            "overdue_amount": "10",
            "due_date": "2026-06-01",
            "timezone": "Asia/Shanghai",
        }
    ]
    signals = pl.DataFrame(
        [{"case_id": "nobody", "kind": "fraud_suspected", "observed_at": "2026-06-01T10:00:00Z"}]
    )
    result = frame.decide(pl.DataFrame(rows), signals, policy="default", as_of=AS_OF)
    assert result.summary.orphans == 1
    assert columnar(result) == per_case("default", rows, AS_OF)


def test_cures_lift_the_signs_before_them_in_the_columns() -> None:
    def row(i: int, signals: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "case_id": f"CU-{i}",
            "product": "loan",
            "currency": "CNY",
            "principal": "1000",
            "overdue_amount": "500",
            "due_date": "2026-03-01",
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": k, "observed_at": at} for k, at in signals],
        }

    early, mid, late = (
        "2025-06-01T10:00:00+08:00",  # older than the lookback window
        "2026-05-01T10:00:00+08:00",
        "2026-06-01T10:00:00+08:00",
    )
    future = "2026-07-01T10:00:00+08:00"  # after as_of: neither counted nor a cure
    rows = [
        row(0, [("refused_to_pay", early), ("promise_kept", mid)]),  # lifted
        row(1, [("promise_kept", mid), ("refused_to_pay", late)]),  # after the cure: in force
        row(2, [("refused_to_pay", mid), ("promise_kept", mid)]),  # same instant: in force
        row(3, [("unreachable", early), ("unreachable", mid), ("partial_payment", late)]),
        row(4, [("refused_to_pay", mid), ("promise_kept", future)]),  # a cure yet to come
        row(5, [("refused_to_pay", early), ("commitment_signed", mid), ("fraud_suspected", late)]),
        row(6, [("asset_transfer", late), ("refused_to_pay", mid), ("promise_kept", late)]),
    ]
    for name in SHIPPED:
        result = assert_agree(name, rows)
        if name != "ifrs9":  # CNY has no materiality threshold in the EU pack
            assert result.summary.per_case == 0
    fired = frame.decide(*tables(rows)[:2], policy="default", as_of=AS_OF).decisions
    traces = fired.get_column("fired").to_list()
    assert "evidence.refused_to_pay" in traces[0]  # the lifted sign is in the trace
    assert traces[3].count("evidence.unreachable") == 2


PHASE_PROBE = """
id = "phase-probe"
version = "1"
extends = "default"

[[remedies.rules]]
id = "R-PHASE-P3"
effect = "block"
remedies = ["restructure"]
when = "phase == 'P3'"
reason = "Past the escalation point."
"""


def test_a_rule_reading_the_timeline_phase_agrees(tmp_path: Any) -> None:
    path = tmp_path / "phase-probe.toml"
    path.write_text(PHASE_PROBE, encoding="utf-8")
    start = dt.date(2026, 6, 30)
    rows = [
        {
            "case_id": f"PH-{i}",
            "product": ("loan", "credit_card", "receivable")[i % 3],
            "currency": "CNY",
            "principal": "20000",
            "overdue_amount": "0" if i % 7 == 0 else "1500",
            "due_date": (start - dt.timedelta(days=i * 9)).isoformat(),
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-06-01T10:00:00+08:00"}][
                : i % 2
            ],
        }
        for i in range(45)
    ]
    result = assert_agree(str(path), rows)
    assert result.summary.per_case == 0
    fired = [("R-PHASE-P3" in f) for f in result.decisions.get_column("fired").to_list()]
    assert any(fired)  # past the escalation point
    assert not all(fired)  # before it
