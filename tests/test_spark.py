"""The Spark engine, on a real local Spark (local[2]), agrees with the Polars engine."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path
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
from collectrules.errors import EngineError, OutOfMemoryError, quote  # noqa: E402
from collectrules.policy import Policy, load_policy, policy_from_dict  # noqa: E402
from collectrules.testing.strategies import cases  # noqa: E402
from helpers import case_dict  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
POLICIES = ("cn_bank_loan", "ifrs9")


@pytest.fixture(scope="module")
def session() -> Iterator[SparkSession]:
    # The executors' Python workers decide the per-case rows: they must run this
    # interpreter, which has collectrules installed (Spark's default is "python3").
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
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
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def _text(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    return value.value if isinstance(value, Enum) else str(value)


def _string_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append(
            {
                k: _text(v)
                for k, v in r.items()
                if k not in ("signals", "events", "guarantors", "fees")
            }
        )
    return out


def tables(session: SparkSession, rows: Sequence[dict[str, Any]]) -> tuple[Any, ...]:
    """Polars and Spark tables with the same (string) values: cases, signals and events
    (None for both when no row has events)."""
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
    evs = [
        {"case_id": r["case_id"], **{k: _text(v) for k, v in e.items()}}
        for r in rows
        for e in r.get("events", [])
    ]
    if not evs:
        return cases_pl, signals_pl, None, cases_sp, signals_sp, None
    names = ["case_id", *sorted({k for e in evs for k in e} - {"case_id"})]
    events_pl = pl.DataFrame(
        [{c: e.get(c) for c in names} for e in evs], schema=dict.fromkeys(names, pl.String)
    )
    events_sp = session.createDataFrame(
        [tuple(e.get(c) for c in names) for e in evs], ", ".join(f"`{c}` string" for c in names)
    )
    return cases_pl, signals_pl, events_pl, cases_sp, signals_sp, events_sp


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
    collected = result.decisions.collect()
    for row in collected:
        data = row.asDict(recursive=True)
        data["classes"] = dict(data["classes"])
        data["buckets"] = dict(data["buckets"])
        out[data["case_id"]] = data
    assert len(out) == len(collected), "a case decided twice"
    return out


def assert_agree(
    session: SparkSession, policy: str | Policy, rows: Sequence[dict[str, Any]]
) -> spark.SparkResult:
    """Spark and Polars give the same compact rows and the same errors, each case once."""
    cases_pl, signals_pl, events_pl, cases_sp, signals_sp, events_sp = tables(session, rows)
    polars_result = frame.decide(cases_pl, signals_pl, events_pl, policy=policy, as_of=AS_OF)
    spark_result = spark.decide(cases_sp, signals_sp, events_sp, policy=policy, as_of=AS_OF)
    decided = _spark_rows(spark_result)
    assert decided == _polars_rows(polars_result)
    spark_errors = Counter((r.case_id, r.error, r.kind) for r in spark_result.errors.collect())
    polars_errors = Counter(
        (e.case_id, str(e.error), type(e.error).__name__) for e in polars_result.errors
    )
    assert spark_errors == polars_errors
    # Every case comes out once, as a decision or as an error.
    out = Counter([*decided, *(case_id for case_id, _, _ in spark_errors.elements())])
    assert out == Counter(r.get("case_id") for r in rows)
    return spark_result


@pytest.fixture(autouse=True)
def _release(session: SparkSession) -> Iterator[None]:
    """Each test starts without the tables the ones before cached (decide caches its
    intermediate tables and the per-case output; a local JVM has little room)."""
    yield
    session.catalog.clearCache()


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
    session.catalog.clearCache()


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
        # Digits that are not ASCII, and a leap second: the per-case reading, as the
        # Polars engine gives it.
        {**good, "case_id": "S-DIGIT", "overdue_amount": "0.\u0665"},
        {**good, "case_id": "S-DIGIT-DAY", "due_date": "2026-03-\u0660\u0661"},
        {
            **good,
            "case_id": "S-LEAP",
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-06-30T11:59:60+08:00"}],
        },
    ]
    assert_agree(session, "cn_bank_loan", rows)


def test_a_number_not_in_plain_notation_gets_the_per_case_error(session: SparkSession) -> None:
    """An amount or a measured value with an underscore, digits of another script or
    whitespace (a final line end, which Java's ``$`` passes) is refused as per case."""
    good = {**case_dict(("cash_coverage", "1.5")), "case_id": "N-OK"}
    texts = ["1_000", "\uff11\uff10\uff10\uff10", "\u0661\u0660\u0660\u0660", " 1000 ", "1000\n"]
    rows = [good]
    for i, text in enumerate(texts):
        rows.append({**good, "case_id": f"N-A{i}", "overdue_amount": text})
        rows.append({**case_dict(("cash_coverage", text)), "case_id": f"N-S{i}"})  # type: ignore[arg-type]
    rows.append({**good, "case_id": "N-CUR", "currency": "CNY\n"})
    rows.append({**good, "case_id": "N-DAY", "due_date": "2026-03-31\n"})
    result = assert_agree(session, "default", rows)
    errors = {r.case_id: r.error for r in result.errors.collect()}
    for i, text in enumerate(texts):
        message = (
            "expected a number in plain decimal notation (ASCII digits, optional sign,"
            f" fraction and exponent), got {quote(text)}"
        )
        assert errors.pop(f"N-A{i}") == f"overdue_amount: {message}"
        assert errors.pop(f"N-S{i}") == f"signals[0].value: {message}"
    assert sorted(errors) == ["N-CUR", "N-DAY"]
    assert [r.case_id for r in result.decisions.collect()] == ["N-OK"]


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


@pytest.mark.parametrize("second", ["principal", "Principal"])
def test_a_table_naming_a_column_twice_is_an_input_error(
    session: SparkSession, second: str
) -> None:
    """Spark would refuse the ambiguous reference with its own AnalysisException; the
    column is named instead, as ``frame.decide`` names it. Names that differ only in case
    are one name to Spark unless the session is case-sensitive."""
    from collectrules.errors import InputError

    columns = ["case_id", "product", "currency", "principal", "overdue_amount", "due_date"]
    values = ("A", "loan", "CNY", "1000", "100", "2026-05-01", "Asia/Shanghai", "9")
    cases_df = session.createDataFrame([values], [*columns, "timezone", second])
    with pytest.raises(InputError) as info:
        spark.decide(cases_df, as_of=AS_OF, policy="default")
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            "cases.principal",
            "a name given to 2 columns (columns 4, 8): expected each column named once",
        )
    ]
    signals_df = session.createDataFrame(
        [("A", "refused_to_pay", "2026-06-01T00:00:00+08:00", "x")],
        ["case_id", "kind", "observed_at", "KIND"],
    )
    with pytest.raises(InputError, match=r"signals\.kind: a name given to 2 columns"):
        spark.decide(cases_df.drop(second), signals_df, as_of=AS_OF, policy="default")


#: Values that make a generated case a bad row: each is a row the per-case engine refuses.
_BAD_VALUES = (
    ("overdue_amount", "-1"),
    ("timezone", "Mars/Olympus"),
    ("principal", "12.345678"),
    ("due_date", "2026-13-01"),
    ("product", "yacht"),
)


@pytest.mark.parametrize("name", POLICIES)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_portfolios_with_events_and_bad_rows_agree_with_the_polars_engine(
    session: SparkSession, name: str, data: Any
) -> None:
    policy = load_policy(name)
    drawn = data.draw(
        st.lists(
            st.tuples(
                cases(policy, as_of=AS_OF, with_events=True),
                st.none() | st.sampled_from(_BAD_VALUES),
            ),
            min_size=4,
            max_size=12,
        )
    )
    rows = []
    for i, (case, bad) in enumerate(drawn):
        row = {**case.to_dict(), "case_id": f"{case.case_id}-{i}"}
        if i == 0:  # at least one case with events, one bad row
            row["events"] = row.get("events") or [
                {"kind": "visit", "at": "2026-06-01T10:00:00+08:00"}
            ]
        if bad is not None or i == 1:
            field, value = bad or _BAD_VALUES[0]
            row[field] = value
        rows.append(row)
    result = assert_agree(session, name, rows)
    assert result.per_case >= 2
    session.catalog.clearCache()


def _policy_file(tmp_path: Path) -> Policy:
    """cn_bank_loan, loaded from a file of its own (not by a shipped name)."""
    source = Path(load_policy.__code__.co_filename).parent.parent / "policies"
    path = tmp_path / "bank.toml"
    path.write_text((source / "cn_bank_loan.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return load_policy(path)


def _with_events(count: int) -> list[dict[str, Any]]:
    signals = [
        {"kind": "promise_broken", "observed_at": "2026-06-10T10:00:00+08:00"},
        {"kind": "refused_to_pay", "observed_at": "2026-06-12T10:00:00+08:00"},
    ]
    base = case_dict(signals=signals)
    rows = []
    for i in range(count):
        events = [
            {"kind": "contact_attempt", "at": "2026-06-20T10:00:00+08:00", "outcome": "reached"},
            {"kind": "payment", "at": f"2026-06-{10 + i % 15:02d}T09:00:00+08:00", "amount": "300"},
        ]
        rows.append({**base, "case_id": f"E-{i}", "events": events[: 1 + i % 2]})
    rows.append({**base, "case_id": "E-BAD", "overdue_amount": "-1", "events": events})
    return rows


def test_a_policy_from_a_file_reaches_the_executors(session: SparkSession, tmp_path: Path) -> None:
    policy = _policy_file(tmp_path)
    result = assert_agree(session, policy, _with_events(6))
    assert result.per_case == 7
    hashes = {r.policy_hash for r in result.decisions.collect()}
    assert hashes == {policy.content_hash}


def test_routed_rows_are_decided_on_the_executors_not_collected(
    session: SparkSession, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _with_events(8)
    _, _, _, cases_sp, signals_sp, events_sp = tables(session, rows)
    collected: list[Any] = []
    frame_class = type(cases_sp)  # the classic DataFrame, which defines its own collect
    original = frame_class.collect

    def spy(self: Any) -> list[Any]:
        out = original(self)
        collected.extend(out)
        return out

    monkeypatch.setattr(frame_class, "collect", spy)
    result = spark.decide(cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF)
    monkeypatch.undo()
    # Every row went per case (they all have events), and none of them reached the
    # driver: what decide collects holds no case (only zones and section keys).
    assert result.per_case == len(rows)
    assert collected, "the spy saw nothing: decide collects the time zones"
    assert not [r for r in collected if "case_id" in r.asDict()]
    result.decisions.explain()
    result.errors.explain()
    plans = capsys.readouterr().out
    assert plans.count("MapInArrow") >= 2
    assert result.decisions.count() == len(rows) - 1
    assert [r.case_id for r in result.errors.collect()] == ["E-BAD"]


#: Loaded by the executors' Python at start (a ``sitecustomize`` module on their path):
#: the per-case engine runs out of memory deciding case E-1.
_HUNGRY_WORKER = """
from collectrules.engine import Engine

_decide = Engine.decide


def decide(self, case, *, as_of):
    if case.case_id == "E-1":
        raise MemoryError("no room on the executor")
    return _decide(self, case, as_of=as_of)


Engine.decide = decide
"""


def test_an_executor_out_of_memory_fails_the_decide_not_a_row(
    session: SparkSession, tmp_path: Path
) -> None:
    """An executor's Python that ran out of memory deciding a routed row made that row a
    bad row ("internal error: OutOfMemoryError"), and the portfolio was "decided". The
    job fails, and decide raises an OutOfMemoryError (no row is to blame)."""
    (tmp_path / "sitecustomize.py").write_text(_HUNGRY_WORKER, encoding="utf-8")
    context = session.sparkContext
    before = context.environment.get("PYTHONPATH")
    # A new environment starts new Python workers, which load the module above.
    context.environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p
    )
    try:
        _, _, _, cases_sp, signals_sp, events_sp = tables(session, _with_events(3))
        with pytest.raises(OutOfMemoryError, match="no room on the executor") as caught:
            spark.decide(cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF)
    finally:
        if before is None:
            context.environment.pop("PYTHONPATH", None)
        else:
            context.environment["PYTHONPATH"] = before
    assert str(caught.value).startswith("out of memory in an executor's Python")


def test_the_per_case_output_is_persisted_and_read_by_both_tables(
    session: SparkSession, capsys: pytest.CaptureFixture[str]
) -> None:
    """The decisions and the errors read the cached output of the Python step (its
    ``__error`` column), so the rows are not decided again for each of them."""
    rows = _with_events(5)
    _, _, _, cases_sp, signals_sp, events_sp = tables(session, rows)
    result = spark.decide(cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF)
    for table in (result.decisions, result.errors):
        table.explain()
        cached = [
            line
            for line in capsys.readouterr().out.splitlines()
            if "InMemoryTableScan" in line and "__error" in line
        ]
        assert cached, "the per-case output is not read from the cache"
    decided, failed = result.decisions.collect(), result.errors.collect()
    assert len(decided) + len(failed) == result.per_case == len(rows)


def test_a_case_without_an_id_gets_its_error(session: SparkSession) -> None:
    rows = _with_events(2)
    rows.append({**rows[0], "case_id": None})
    _, _, _, cases_sp, signals_sp, events_sp = tables(session, rows)
    result = spark.decide(cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF)
    errors = result.errors.collect()
    assert result.per_case == len(rows)
    assert [(r.case_id, r.kind) for r in errors if r.case_id != "E-BAD"] == [(None, "InputError")]


def test_a_routed_case_reads_timestamp_signals_with_their_offset(session: SparkSession) -> None:
    """A timestamp column reaches the per-case engine as an instant with its offset (the
    columns accept it too), not as a naive datetime it would refuse."""
    import datetime as dt

    cases_df = session.createDataFrame(
        [("T-1", "loan", "CNY", "1000", "100", "2026-04-01", "Asia/Shanghai")],
        "case_id string, product string, currency string, principal string,"
        " overdue_amount string, due_date string, timezone string",
    )
    at = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
    signals_df = session.createDataFrame(
        [("T-1", "refused_to_pay", at)], "case_id string, kind string, observed_at timestamp"
    )
    events_df = session.createDataFrame(
        [("T-1", "visit", "2026-06-02T10:00:00+08:00")], "case_id string, kind string, at string"
    )
    result = spark.decide(cases_df, signals_df, events_df, policy="cn_bank_loan", as_of=AS_OF)
    assert result.per_case == 1
    assert result.errors.collect() == []
    (row,) = result.decisions.collect()
    assert row.willingness == "unwilling"
    assert "evidence.refused_to_pay" in row.fired


def test_the_result_releases_exactly_the_tables_decide_cached(session: SparkSession) -> None:
    """``unpersist`` (and the end of a ``with`` block) releases every table ``decide``
    cached, and leaves a table of the caller's own cached; the decisions stay readable."""
    from pyspark import StorageLevel

    _, _, _, cases_sp, signals_sp, events_sp = tables(session, _with_events(4))
    mine = session.range(3).cache()
    mine.count()
    with spark.decide(
        cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF
    ) as result:
        assert len(result.cached) == 7  # with the rows of repeated case ids
        assert all(t.storageLevel != StorageLevel.NONE for t in result.cached)
        decided = sorted(r.case_id for r in result.decisions.collect())
    assert all(t.storageLevel == StorageLevel.NONE for t in result.cached)
    assert mine.storageLevel != StorageLevel.NONE
    assert sorted(r.case_id for r in result.decisions.collect()) == decided
    assert decided == sorted(f"E-{i}" for i in range(4))


def test_a_decide_that_fails_leaves_nothing_cached(
    session: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from pyspark import StorageLevel

    module = importlib.import_module("collectrules.spark.decide")
    _, _, _, cases_sp, signals_sp, events_sp = tables(session, _with_events(2))
    seen: list[Any] = []

    def failing(*args: Any) -> Any:
        seen.extend(t for t in args if isinstance(t, type(cases_sp)) and t.is_cached)
        raise EngineError("the per-case step failed")

    monkeypatch.setattr(module, "_per_case", failing)
    with pytest.raises(EngineError, match="per-case step failed"):
        spark.decide(cases_sp, signals_sp, events_sp, policy="cn_bank_loan", as_of=AS_OF)
    assert seen  # the routed rows were cached when the step failed
    assert all(t.storageLevel == StorageLevel.NONE for t in seen)


def test_deadlines_for_some_products_agree_with_the_polars_engine(session: SparkSession) -> None:
    # cn_credit_card with its limitation period scoped to loans (and its records deadline,
    # as shipped, to credit cards): the section keys of the rows without events hold the
    # product, and the rows with events are decided per case. A loan near the end of the
    # period is warned of it; a card of the same dates is not.
    # The child's limitation table replaces the inherited one whole (deadlines merge by
    # period): the default's, which cn_credit_card keeps, with the products added.
    shipped = Path(load_policy.__code__.co_filename).parent.parent / "policies"
    data = tomllib.loads((shipped / "default.toml").read_text(encoding="utf-8"))
    limitation = {**data["timeline"]["deadlines"]["limitation"], "products": ["loan"]}
    policy = policy_from_dict(
        {
            "extends": "cn_credit_card",
            "id": "scoped",
            "version": "1",
            "timeline": {"deadlines": {"limitation": limitation}},
        },
        source="scoped.toml",
    )
    visit = {"kind": "visit", "at": "2026-06-01T10:00:00+08:00"}
    rows = [
        case_dict(case_id=f"{product}-{events}", product=product, due_date="2023-07-15")
        | ({"events": [visit]} if events else {})
        for product in ("loan", "credit_card", "receivable", "property_fee")
        for events in (0, 1)
    ]
    result = assert_agree(session, policy, rows)
    assert result.per_case == 4
    fired = {r.case_id: set(r.fired) for r in result.decisions.collect()}
    for events in (0, 1):
        assert "R-LIMITATION-INTERRUPT" in fired[f"loan-{events}"]
        assert "R-LIMITATION-INTERRUPT" not in fired[f"credit_card-{events}"]


def test_a_case_id_on_two_rows_makes_each_a_bad_row(session: SparkSession) -> None:
    """A Spark table has no order that would tell which of two rows is the case: each
    is a bad row, and the other cases are decided as the Polars engine decides them."""
    rows = [
        case_dict(case_id="D-1"),
        case_dict(case_id="D-2", principal="5000"),
        case_dict(case_id="D-1", principal="7000"),
        case_dict(case_id="D-3"),
        case_dict(case_id="D-3"),
        case_dict(case_id="D-3"),
    ]
    _, _, _, cases_sp, signals_sp, events_sp = tables(session, rows)
    result = spark.decide(cases_sp, signals_sp, events_sp, policy="default", as_of=AS_OF)
    assert [r.case_id for r in result.decisions.collect()] == ["D-2"]
    errors = sorted((r.case_id, r.error, r.kind) for r in result.errors.collect())
    message = "case_id: case '{}' appears on {} rows of the cases table; expected each case once"
    assert errors == [
        ("D-1", message.format("D-1", 2), "InputError"),
        ("D-1", message.format("D-1", 2), "InputError"),
        *[("D-3", message.format("D-3", 3), "InputError")] * 3,
    ]
    cases_pl, signals_pl = tables(session, rows[1:2])[:2]
    polars = frame.decide(cases_pl, signals_pl, policy="default", as_of=AS_OF).decisions
    ours = result.decisions.collect()[0].asDict()
    assert ours["quadrant"] == polars.get_column("quadrant")[0]
    assert ours["fired"] == polars.get_column("fired")[0].to_list()


def test_debtor_shares_are_read_by_the_columns_and_agree_with_the_polars_engine(
    session: SparkSession,
) -> None:
    # CN-5LVL-CROSS: the debtor's shares are columns of the sections' key. A share from 0
    # to 1 in plain decimals is read by the columns (the floor at more than 10 % and
    # 20 %); one out of range, or in another notation, goes per case for its error or
    # its exact reading.
    def loan(case_id: str, **shares: str) -> dict[str, Any]:
        return {
            **{k: v for k, v in case_dict(case_id=case_id).items() if k != "signals"},
            "overdue_amount": "500",
            "due_date": "2026-06-20",
            **shares,
        }

    rows = [
        loan("S-1"),
        loan("S-2", debtor_npl_share="0.10"),
        loan("S-3", debtor_npl_share="0.1000001"),
        loan("S-4", debtor_90dpd_share_all_banks="0.2"),
        loan("S-5", debtor_90dpd_share_all_banks="0.35", debtor_npl_share="0"),
        loan("S-6", debtor_npl_share="1.5"),
        loan("S-7", debtor_90dpd_share_all_banks="2.5E-1"),
    ]
    result = assert_agree(session, "cn_bank_loan", rows)
    assert result.per_case == 2
    classes = {r.case_id: dict(r.classes)["CN-5LVL"] for r in result.decisions.collect()}
    assert classes == {
        "S-1": "special_mention",
        "S-2": "special_mention",
        "S-3": "substandard",
        "S-4": "special_mention",
        "S-5": "substandard",
        "S-7": "substandard",
    }
    (error,) = result.errors.collect()
    assert (error.case_id, error.kind) == ("S-6", "InputError")
    assert "debtor_npl_share" in error.error


def test_a_single_precision_share_is_read_as_the_number_it_holds(session: SparkSession) -> None:
    # A FloatType 0.1 holds 0.100000001490116…: per case it is more than 0.1
    # (substandard); the columns once read it as "0.1" (special mention), so a row's
    # class turned on whether it had events.
    from pyspark.sql import types as T

    base = {
        k: v
        for k, v in case_dict().items()
        if k not in ("signals", "case_id", "overdue_amount", "due_date")
    }
    fields = [T.StructField(k, T.StringType()) for k in (*base, "case_id", "overdue_amount")]
    fields += [T.StructField("due_date", T.StringType())]
    schema = T.StructType([*fields, T.StructField("debtor_npl_share", T.FloatType())])
    shares = [0.1, 0.5, 0.0]
    rows = [
        (*base.values(), f"F-{i}", "500", "2026-06-20", share) for i, share in enumerate(shares)
    ]
    events = session.createDataFrame(
        [("F-1", "payment", "2026-06-21T10:00:00+08:00", "1")],
        "case_id string, kind string, at string, amount string",
    )
    result = spark.decide(
        session.createDataFrame(rows, schema), None, events, policy="cn_bank_loan", as_of=AS_OF
    )
    classes = {r.case_id: dict(r.classes)["CN-5LVL"] for r in result.decisions.collect()}
    assert classes == {"F-0": "substandard", "F-1": "substandard", "F-2": "special_mention"}


def test_the_account_fields_of_a_reage_pack_are_read_by_the_columns(
    session: SparkSession,
) -> None:
    # US-REAGE: the account's opened_on and consecutive_minimum_payments are columns of
    # the sections' key (its whole-month age and its payments as the pack tells them
    # apart). Around 9 months (a month's end, a leap day) and 3 payments they are read
    # by the columns, as by the Polars engine; a value out of the subset goes per case.
    from test_frame_reage import card

    rows = [
        card("A-1", "2025-09-30", "3"),  # 9 whole months on 2026-06-30 in New York
        card("A-2", "2025-10-01", "3"),  # 8 whole months
        card("A-3", "2025-08-31", "4"),
        card("A-4", "2024-02-29", "2"),
        card("A-5", "2026-07-01", "3"),  # opened after as_of
        card("A-6", None, "3"),
        card("A-7", "2025-01-31", None),
        card("A-8", "2025-13-01", "3"),  # no such month: per case, for its error
        card("A-9", "2025-01-31", "+3"),  # a sign: per case, for its error
    ]
    result = assert_agree(session, "us_regf", rows)
    assert result.per_case == 2
    classes = {r.case_id: dict(r.classes)["US-REAGE"] for r in result.decisions.collect()}
    assert classes == {
        "A-1": "eligible",
        "A-2": "not_eligible",
        "A-3": "eligible",
        "A-4": "not_eligible",
        "A-5": "not_eligible",
        "A-6": "unknown",
        "A-7": "unknown",
    }
