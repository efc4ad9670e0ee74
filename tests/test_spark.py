"""The Spark engine, on a real local Spark (local[2]), agrees with the Polars engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pyspark = pytest.importorskip("pyspark")
pl = pytest.importorskip("polars")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from collectrules import frame, spark  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from collectrules.testing.strategies import cases  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
POLICIES = ("cn_bank_loan", "ifrs9")


@pytest.fixture(scope="module")
def session() -> Iterator[SparkSession]:
    built = (
        SparkSession.builder.master("local[2]")
        .appName("collectrules-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield built
    built.stop()


def _string_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append(
            {
                k: (str(v) if v is not None and not isinstance(v, bool) else v)
                for k, v in r.items()
                if k not in ("signals", "events", "guarantors", "fees")
            }
        )
    return out


def tables(session: SparkSession, rows: Sequence[dict[str, Any]]) -> tuple[Any, Any, Any, Any, Any]:
    """Polars and Spark tables with the same (string) values."""
    flat = _string_rows(rows)
    columns = sorted({k for r in flat for k in r})
    flat = [{c: r.get(c) for c in columns} for r in flat]
    sigs = [
        {
            "case_id": r["case_id"],
            "kind": s["kind"],
            "observed_at": s["observed_at"],
            "value": None if s.get("value") is None else str(s["value"]),
        }
        for r in rows
        for s in r.get("signals", [])
    ]
    cases_pl = pl.DataFrame(flat, schema=dict.fromkeys(columns, pl.String))
    cases_sp = session.createDataFrame(
        [tuple(r[c] for c in columns) for r in flat],
        ", ".join(f"{c} string" for c in columns),
    )
    schema = "case_id string, kind string, observed_at string, value string"
    signals_pl = pl.DataFrame(
        sigs, schema=dict.fromkeys(("case_id", "kind", "observed_at", "value"), pl.String)
    )
    signals_sp = session.createDataFrame(
        [tuple(s[c] for c in ("case_id", "kind", "observed_at", "value")) for s in sigs], schema
    )
    return cases_pl, signals_pl, cases_sp, signals_sp, None


def _polars_rows(result: frame.FrameResult) -> dict[str, dict[str, Any]]:
    out = {}
    for row in result.decisions.to_dicts():
        row.pop("row")
        for name in ("classes", "buckets"):
            row[name] = {p["key"]: p["value"] for p in row[name]}
        out[row["case_id"]] = row
    return out


def _spark_rows(result: spark.SparkResult) -> dict[str, dict[str, Any]]:
    out = {}
    for row in result.decisions.collect():
        data = row.asDict(recursive=True)
        data["classes"] = dict(data["classes"])
        data["buckets"] = dict(data["buckets"])
        out[data["case_id"]] = data
    return out


def assert_agree(session: SparkSession, name: str, rows: Sequence[dict[str, Any]]) -> None:
    cases_pl, signals_pl, cases_sp, signals_sp, _ = tables(session, rows)
    polars_result = frame.decide(cases_pl, signals_pl, policy=name, as_of=AS_OF)
    spark_result = spark.decide(cases_sp, signals_sp, policy=name, as_of=AS_OF)
    assert _spark_rows(spark_result) == _polars_rows(polars_result)
    spark_errors = {(r.case_id, r.error, r.kind) for r in spark_result.errors.collect()}
    polars_errors = {
        (e.case_id, str(e.error), type(e.error).__name__) for e in polars_result.errors
    }
    assert spark_errors == polars_errors


@pytest.mark.parametrize("name", POLICIES)
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_portfolios_agree_with_the_polars_engine(
    session: SparkSession, name: str, data: Any
) -> None:
    policy = load_policy(name)
    portfolio = data.draw(st.lists(cases(policy, as_of=AS_OF), min_size=1, max_size=12))
    rows = [{**c.to_dict(), "case_id": f"{c.case_id}-{i}"} for i, c in enumerate(portfolio)]
    assert_agree(session, name, rows)


def test_bad_rows_get_the_per_case_error(session: SparkSession) -> None:
    good = {
        "case_id": "S-1",
        "product": "loan",
        "currency": "CNY",
        "principal": "1000",
        "overdue_amount": "12.5",
        "due_date": "2026-03-01",
        "timezone": "Asia/Shanghai",
        "signals": [{"kind": "fraud_suspected", "observed_at": "2026-06-01T10:00:00+08:00"}],
    }
    rows = [
        good,
        {**good, "case_id": "S-NEG", "overdue_amount": "-1"},
        {**good, "case_id": "S-ZONE", "timezone": "Mars/Olympus"},
        {**good, "case_id": "S-2", "principal": "0.29"},
    ]
    assert_agree(session, "cn_bank_loan", rows)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"kind": "refused_to_pay"}, "the signals table needs a case_id column"),
        ({"case_id": 5, "kind": "refused_to_pay"}, "signals.case_id: expected text case ids"),
    ],
    ids=["no case_id", "whole-number case_id"],
)
def test_a_long_table_without_text_case_ids_is_an_input_error(
    session: SparkSession, columns: dict[str, Any], expected: str
) -> None:
    from collectrules.errors import InputError

    cases_df = session.createDataFrame(
        [
            {
                "case_id": "A",
                "product": "loan",
                "currency": "CNY",
                "principal": "1000",
                "overdue_amount": "100",
                "due_date": "2026-05-01",
                "timezone": "Asia/Shanghai",
            }
        ]
    )
    signals_df = session.createDataFrame([{**columns, "observed_at": "2026-06-01T00:00:00+08:00"}])
    with pytest.raises(InputError, match=expected):
        spark.decide(cases_df, signals_df, as_of=AS_OF, policy="default")
    with pytest.raises(InputError, match=expected.replace("signals", "events")):
        spark.decide(cases_df, None, signals_df, as_of=AS_OF, policy="default")
