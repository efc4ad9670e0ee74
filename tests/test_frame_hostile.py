"""Hostile case files through the columnar engine: the same decisions and bad rows as the
per-case engine, or a :class:`CollectRulesError`, never a Polars or Arrow exception.

Each example is a file the columns once crashed on; the property tests generate files
with missing, unknown and repeated columns, odd Arrow types, nulls, empty strings,
numbers and dates out of range, and nested signals and events of odd shapes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules import frame  # noqa: E402
from collectrules.batch import run_batch  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import CollectRulesError, InputError  # noqa: E402
from collectrules.frame._csv import MAX_COLUMNS  # noqa: E402
from collectrules.frame._inputs import CASE_COLUMNS  # noqa: E402
from collectrules.frame.files import CHUNK_ROWS, run_columnar  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from helpers import CARD_CASE  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
BASE = CARD_CASE
SIGNAL = {"kind": "refused_to_pay", "observed_at": "2026-06-01T00:00:00+08:00"}


def _errors(path: Path) -> list[dict[str, Any]]:
    # JSON Lines end at "\n" alone: splitlines would split on U+2028, U+0085, … too.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def columnar_and_per_case(
    tmp_path: Path, source: Path, chunk_rows: int = CHUNK_ROWS
) -> tuple[Any, Any] | None:
    """The columnar (in chunks of ``chunk_rows``) and per-case (table, error records) of
    ``source``; None when the columnar run refused the file with a CollectRulesError."""
    col_out, case_out = tmp_path / "col.parquet", tmp_path / "case.parquet"
    per_case = run_batch(
        [source], engine=Engine("default", backend="python"), out=case_out, as_of=AS_OF
    )
    case = (pq.read_table(case_out), _errors(tmp_path / "case.errors.jsonl"))
    try:
        run = run_columnar(
            [source], policy=load_policy("default"), out=col_out, as_of=AS_OF,
            chunk_rows=chunk_rows,
        )  # fmt: skip
    except CollectRulesError:
        return None
    col = (pq.read_table(col_out), _errors(tmp_path / "col.errors.jsonl"))
    assert (run.batch.rows, run.batch.decided, run.batch.bad) == (
        per_case.rows,
        per_case.decided,
        per_case.bad,
    )
    return col, case


def assert_same(tmp_path: Path, source: Path) -> list[dict[str, Any]]:
    """The columnar run of ``source`` gives the per-case table and bad rows; the bad rows."""
    both = columnar_and_per_case(tmp_path, source)
    assert both is not None, "the columnar run refused a file the per-case run reads"
    col, case = both
    assert col[0].equals(case[0])
    fields = ("case_id", "error", "kind", "input")
    assert [{k: e[k] for k in fields} for e in col[1]] == [
        {k: e[k] for k in fields} for e in case[1]
    ]
    return col[1]


def assert_per_case_or_refused(tmp_path: Path, source: Path) -> None:
    """The columnar run of ``source`` gives the per-case table and error lines, or it
    refused the file with a CollectRulesError."""
    both = columnar_and_per_case(tmp_path, source)
    if both is None:
        return
    col, case = both
    assert col[0].equals(case[0])
    assert col[1] == case[1]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _stray_csv(
    tmp_path: Path, file: tuple[list[str], list[list[str]]], cuts: list[tuple[int, bytes]]
) -> Path:
    """``file`` written as ``cases.csv`` with each of ``cuts`` (an offset, bytes)
    inserted into its bytes."""
    source = tmp_path / "cases.csv"
    write_csv(source, *file)
    raw = bytearray(source.read_bytes())
    for at, data in cuts:
        at %= len(raw) + 1
        raw[at:at] = data
    source.write_bytes(bytes(raw))
    return source


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "rows",
    [
        [{k: v for k, v in BASE.items() if k != "product"} | {"case_id": c} for c in "AB"],
        [{"case_id": "A"}, {"case_id": "B"}],
        [{"product": "loan"}],
    ],
    ids=["no product", "only case_id", "no case_id"],
)
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_file_lacking_a_case_column_gives_the_per_case_bad_rows(
    tmp_path: Path, rows: list[dict[str, str]], suffix: str
) -> None:
    source = tmp_path / f"cases{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), source)
    else:
        header = list(dict.fromkeys(k for row in rows for k in row))
        write_csv(source, header, [[row.get(k, "") for k in header] for row in rows])
    errors = assert_same(tmp_path, source)
    assert errors
    assert "required field missing" in errors[0]["error"]


def test_a_cases_table_lacking_a_column_gives_the_per_case_errors() -> None:
    rows = [{k: v for k, v in BASE.items() if k != "product"} | {"case_id": c} for c in "AB"]
    for cases in (pl.DataFrame(rows), pl.DataFrame({"case_id": ["A", "B"]})):
        result = frame.decide(cases, as_of=AS_OF)
        expected = Engine("default", backend="python").decide_many(cases.to_dicts(), as_of=AS_OF)
        assert [(e.row, e.case_id, str(e.error)) for e in result.errors] == [
            (r.index, r.case_id, str(r.error)) for r in expected
        ]
        assert "product: required field missing" in str(result.errors[0].error)
        assert result.decisions.height == 0


def test_a_csv_header_naming_a_column_twice_makes_every_row_bad(tmp_path: Path) -> None:
    """Which of the two values a row holds would be a guess: no row is decided, and
    every row is in the error file, with the header's problem, on both engines."""
    source = tmp_path / "cases.csv"
    header = [*BASE, "case_id"]
    write_csv(source, header, [[*BASE.values(), "B"], [*BASE.values(), ""]])
    errors = assert_same(tmp_path, source)
    assert pq.read_table(tmp_path / "col.parquet").num_rows == 0
    assert [e["input"]["line"] for e in errors] == [2, 3]
    place = len(BASE) + 1
    assert {e["error"] for e in errors} == {
        f"the header (line 1) names 'case_id' twice (columns 1, {place}): expected each"
        " column named once"
    }


def test_a_csv_cell_holding_nul_gives_the_per_case_answer(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(b"case_id,product\nA\x00,loan\n")
    assert assert_same(tmp_path, source)
    good = ",".join(BASE.values()).encode()
    source.write_bytes(
        b"%s\n%s\n%s\n" % (",".join(BASE).encode(), good.replace(b"A,", b"A\0,"), good)
    )
    assert not assert_same(tmp_path, source)  # the per-case engine decides both rows
    assert pq.read_table(tmp_path / "col.parquet").column("case_id").to_pylist() == ["A\x00", "A"]


def test_a_parquet_file_naming_a_column_twice_makes_every_row_bad(tmp_path: Path) -> None:
    source = tmp_path / "cases.parquet"
    arrays = [pa.array([v, v]) for v in BASE.values()]
    table = pa.Table.from_arrays([*arrays, pa.array(["B", None])], names=[*BASE, "case_id"])
    pq.write_table(table, source)
    errors = assert_same(tmp_path, source)
    assert pq.read_table(tmp_path / "col.parquet").num_rows == 0
    assert [e["input"]["index"] for e in errors] == [0, 1]
    place = len(BASE) + 1
    assert {e["error"] for e in errors} == {
        f"case_id: a name given to 2 columns (columns 1, {place}): expected each column named once"
    }


@pytest.mark.parametrize("kind", ["table", "batch"])
def test_an_arrow_table_naming_a_column_twice_names_it(kind: str) -> None:
    arrays = [pa.array([v]) for v in BASE.values()]
    table = pa.Table.from_arrays([*arrays, pa.array(["B"])], names=[*BASE, "case_id"])
    given = table if kind == "table" else table.to_batches()[0]
    message = "a name given to 2 columns (columns 1, 8): expected each column named once"
    with pytest.raises(InputError) as info:
        frame.decide(given, as_of=AS_OF)
    assert [(p.path, p.message) for p in info.value.problems] == [("cases.case_id", message)]
    if kind == "table":  # decide_many reads tables, not record batches
        with pytest.raises(InputError) as info:
            list(Engine("default", backend="python").decide_many(given, as_of=AS_OF))
        assert [(p.path, p.message) for p in info.value.problems] == [("rows.case_id", message)]


def test_a_pandas_column_of_python_objects_is_an_input_error() -> None:
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([{**BASE, "principal": object()}])
    with pytest.raises(InputError) as info:
        frame.decide(cases, as_of=AS_OF)
    assert info.value.problems[0].path == "cases.principal"
    assert "expected values of one type" in str(info.value)


def test_a_pandas_column_of_python_objects_is_an_input_error_per_case_too() -> None:
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([{**BASE, "principal": object()}])
    with pytest.raises(InputError) as info:
        list(Engine("default", backend="python").decide_many(cases, as_of=AS_OF))
    assert "principal" in str(info.value)
    # The column, after the table as decide_many takes it; the types found, not Arrow's
    # text (which quoted the object and its memory address).
    assert [p.path for p in info.value.problems] == ["rows.principal"]
    assert str(info.value) == (
        "rows.principal: expected values of one type Arrow can hold (text, numbers,"
        " booleans, dates, lists, records), got object"
    )


def test_a_pandas_column_of_mixed_values_names_the_column_and_the_types() -> None:
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([{**BASE, "principal": 5}, {**BASE, "principal": "5"}])
    with pytest.raises(InputError) as info:
        frame.decide(cases, as_of=AS_OF)
    assert [p.path for p in info.value.problems] == ["cases.principal"]
    assert str(info.value).endswith("got int, str")
    with pytest.raises(InputError) as info:
        list(Engine("default", backend="python").decide_many(cases, as_of=AS_OF))
    assert [p.path for p in info.value.problems] == ["rows.principal"]
    assert str(info.value).endswith("got int, str")
    assert "0x" not in str(info.value)


@pytest.mark.parametrize("table", ["cases", "signals"])
def test_a_pandas_frame_naming_a_column_twice_names_it(table: str) -> None:
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([BASE])
    signals = pd.DataFrame([{"case_id": "A", **SIGNAL}])
    if table == "cases":
        cases = pd.DataFrame([[*BASE.values(), "B", "CNY"]], columns=[*BASE, "case_id", "currency"])
    else:
        signals = pd.DataFrame([["A", "x", *SIGNAL.values()]], columns=["case_id", *SIGNAL, "kind"])
    with pytest.raises(InputError) as info:
        frame.decide(cases, signals, as_of=AS_OF)
    named = [f"{table}.case_id", f"{table}.currency"] if table == "cases" else ["signals.kind"]
    assert [p.path for p in info.value.problems] == named
    assert [p.message for p in info.value.problems] == (
        [
            "a name given to 2 columns (columns 1, 8): expected each column named once",
            "a name given to 2 columns (columns 3, 9): expected each column named once",
        ]
        if table == "cases"
        else ["a name given to 2 columns (columns 2, 4): expected each column named once"]
    )
    if table == "cases":
        with pytest.raises(InputError) as info:
            list(Engine("default", backend="python").decide_many(cases, as_of=AS_OF))
        assert [p.path for p in info.value.problems] == ["rows.case_id", "rows.currency"]
        assert "expected each column named once" in str(info.value)


@pytest.mark.parametrize(
    "column",
    [
        pa.array([2**31 - 1], pa.int32()).cast(pa.date32()),
        pa.array([2**62], pa.int64()).cast(pa.timestamp("us")),
    ],
    ids=["date32 past 9999", "timestamp past 9999"],
)
def test_a_date_python_cannot_hold_is_a_bad_row_in_both_engines(
    tmp_path: Path, column: Any
) -> None:
    source = tmp_path / "cases.parquet"
    columns = {k: pa.array([v, v]) for k, v in BASE.items()}
    columns["due_date"] = pa.concat_arrays([column, pa.nulls(1, column.type)])
    pq.write_table(pa.table(columns), source)
    errors = assert_same(tmp_path, source)
    assert errors[0]["error"].startswith("due_date: a value Python cannot read")


@pytest.mark.parametrize(
    "extra",
    [
        {"__row": 5},
        {"signals": [{**SIGNAL, "__row": 3}]},
        {"signals": [{**SIGNAL, "case_id": "Z"}]},
        {"events": [{"kind": "payment", "at": SIGNAL["observed_at"], "__seq": 1}]},
    ],
    ids=["__row column", "signal field __row", "signal field case_id", "event field __seq"],
)
def test_names_the_columns_keep_for_themselves_give_the_per_case_errors(
    tmp_path: Path, extra: dict[str, Any]
) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(pa.Table.from_pylist([{**BASE, **extra}, {**BASE, "case_id": "B"}]), source)
    errors = assert_same(tmp_path, source)
    assert "unknown field" in errors[0]["error"]


def test_a_csv_column_named_like_the_columns_own_gives_the_per_case_errors(
    tmp_path: Path,
) -> None:
    source = tmp_path / "cases.csv"
    write_csv(source, [*BASE, "__line"], [[*BASE.values(), "7"], [*BASE.values(), ""]])
    errors = assert_same(tmp_path, source)
    assert errors[0]["error"] == "__line: unknown field"


@pytest.mark.parametrize(
    "label",
    ["no product", "csv duplicate header", "csv nul", "parquet duplicate", "date past 9999"],
)
@pytest.mark.parametrize("engine", ["columnar", "per-case"])
def test_the_batch_command_prints_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, engine: str
) -> None:
    if label == "no product":
        source = tmp_path / "cases.parquet"
        pq.write_table(pa.Table.from_pylist([{"case_id": "A"}]), source)
    elif label == "csv duplicate header":
        source = tmp_path / "cases.csv"
        source.write_text("case_id,case_id\nA,B\n")
    elif label == "csv nul":
        source = tmp_path / "cases.csv"
        source.write_bytes(b"case_id,product\nA\x00,loan\n")
    elif label == "parquet duplicate":
        source = tmp_path / "cases.parquet"
        names = ["case_id", "case_id"]
        pq.write_table(
            pa.Table.from_arrays([pa.array(["A"]), pa.array(["B"])], names=names), source
        )
    else:
        source = tmp_path / "cases.parquet"
        dates = pa.array([2**31 - 1], pa.int32()).cast(pa.date32())
        pq.write_table(pa.table({**{k: [v] for k, v in BASE.items()}, "due_date": dates}), source)
    out_path = str(tmp_path / "d.parquet")
    code = main(["batch", str(source), "--out", out_path, "--as-of", AS_OF, "--engine", engine])
    out, err = capsys.readouterr()
    assert code == 1, out[-500:] + err[-500:]  # the row is bad
    assert "Traceback" not in out + err
    assert ("columnar engine:" in err) == (engine == "columnar")


# --------------------------------------------------------------------------- generated

GOOD_TEXT = {
    **BASE,
    "maturity_date": "2030-01-01",
    "sicr_rebutted": "true",
    "default_rebutted": "false",
}
ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "true",
        "false",
        "null",
        "0",
        "-5",
        "1e400",
        "0.00001",
        "1000.12345",
        "NaN",
        "inf",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "2026-05-01T00:00:00",
        "2026-05-01T00:00:00+08:00",
        "Mars/Base",
        "UTC",
        "loan",
        "cny",
        "A\x00",
        "x" * 300,
        "春节",
        '"',
        "a,b",
        "line\nbreak",
        "[]",
        "{}",
    ]
)


def _text_value(name: str) -> st.SearchStrategy[str | None]:
    good = GOOD_TEXT.get(name, "x")
    return st.one_of(st.just(good), st.just(good), ODD_TEXT, st.text(max_size=6), st.none())


_DATES = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.dates(dt.date(1800, 1, 1), dt.date(2300, 1, 1)).map(
        lambda d: (d - dt.date(1970, 1, 1)).days
    ),
)
_MICROS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(10**16), 10**16),
)
_ZONES = st.sampled_from([None, "UTC", "+08:00", "Asia/Shanghai"])


def _signal_struct(draw: Any, event: bool) -> tuple[Any, dict[str, Any]]:
    """An odd struct type for a signal (or an event) and a strategy per field."""
    fields: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {}
    kinds = ["payment", "contact_attempt"] if event else ["refused_to_pay", "income_loss", "x"]
    fields["kind"] = draw(
        st.sampled_from(
            [
                (pa.string(), st.one_of(st.sampled_from(kinds), st.none())),
                (pa.int64(), st.integers(-5, 5)),
            ]
        )
    )
    at = "at" if event else "observed_at"
    fields[at] = draw(
        st.sampled_from(
            [
                (pa.string(), st.sampled_from([SIGNAL["observed_at"], "2026-06-01", "", "x"])),
                (
                    pa.timestamp("us", "UTC"),
                    st.datetimes(
                        dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
                    ),
                ),
                (
                    pa.timestamp("us"),
                    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)),
                ),
                (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
            ]
        )
    )
    extras = draw(
        st.lists(
            st.sampled_from(["value", "note", "amount", "outcome", "case_id", "__seq", "zz"]),
            max_size=2,
            unique=True,
        )
    )
    for name in extras:
        fields[name] = draw(
            st.sampled_from(
                [
                    (
                        pa.string(),
                        st.one_of(st.sampled_from(["1", "0.5", "-1e20", "", "reached"]), st.none()),
                    ),
                    (pa.float64(), st.floats()),
                    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
                    (pa.list_(pa.int64()), st.lists(st.integers(0, 3), max_size=2)),
                ]
            )
        )
    struct = pa.struct([(name, t) for name, (t, _) in fields.items()])
    return struct, {name: s for name, (_, s) in fields.items()}


@st.composite
def arrow_column(draw: Any, name: str, rows: int) -> Any:
    """An Arrow array of ``rows`` values of an odd type for the column ``name``."""
    nested = name in ("signals", "events")
    kinds = [
        "string",
        "large_string",
        "dictionary",
        "int",
        "float",
        "decimal",
        "decimal256",
        "date32",
        "timestamp",
        "binary",
        "bool",
        "null",
        "list",
        "struct",
        "map",
    ]
    if nested:
        kinds = ["records", "records", "records", "string", "list", "null", "struct"]
    kind = draw(st.sampled_from(kinds))
    nulls = st.none()
    if kind in ("string", "large_string", "dictionary"):
        values = draw(st.lists(_text_value(name), min_size=rows, max_size=rows))
        array = pa.array(values, pa.large_string() if kind == "large_string" else pa.string())
        return array.dictionary_encode() if kind == "dictionary" else array
    if kind == "int":
        ints = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-3, 2000), nulls)
        return pa.array(draw(st.lists(ints, min_size=rows, max_size=rows)), pa.int64())
    if kind == "float":
        floats = st.one_of(st.floats(), st.floats(0, 1e13), nulls)
        return pa.array(draw(st.lists(floats, min_size=rows, max_size=rows)), pa.float64())
    if kind in ("decimal", "decimal256"):
        scale = draw(st.integers(0, 12))
        top = decimal.Decimal(10) ** (25 - scale)
        decimals = st.one_of(
            st.decimals(-top, top, places=scale, allow_nan=False, allow_infinity=False),
            st.just(decimal.Decimal("1000").scaleb(0)),
            nulls,
        )
        values = draw(st.lists(decimals, min_size=rows, max_size=rows))
        return pa.array(
            values, pa.decimal128(38, scale) if kind == "decimal" else pa.decimal256(60, scale)
        )
    if kind == "date32":
        days = draw(st.lists(st.one_of(_DATES, nulls), min_size=rows, max_size=rows))
        return pa.array(days, pa.int32()).cast(pa.date32())
    if kind == "timestamp":
        micros = draw(st.lists(st.one_of(_MICROS, nulls), min_size=rows, max_size=rows))
        return pa.array(micros, pa.int64()).cast(pa.timestamp("us", draw(_ZONES)))
    if kind == "binary":
        blobs = st.one_of(st.binary(max_size=4), st.just(b"loan"), st.just(b"\xff"), nulls)
        return pa.array(draw(st.lists(blobs, min_size=rows, max_size=rows)), pa.binary())
    if kind == "bool":
        flags = st.one_of(st.booleans(), nulls)
        return pa.array(draw(st.lists(flags, min_size=rows, max_size=rows)), pa.bool_())
    if kind == "null":
        return pa.nulls(rows)
    if kind == "list":
        items = st.one_of(st.lists(st.text(max_size=3), max_size=2), nulls)
        return pa.array(draw(st.lists(items, min_size=rows, max_size=rows)), pa.list_(pa.string()))
    if kind == "struct":
        records = st.one_of(
            st.fixed_dictionaries({"a": st.one_of(st.text(max_size=3), nulls)}), nulls
        )
        values = draw(st.lists(records, min_size=rows, max_size=rows))
        return pa.array(values, pa.struct([("a", pa.string())]))
    if kind == "map":
        pairs = st.one_of(
            st.lists(st.tuples(st.text(max_size=3), st.text(max_size=3)), max_size=2), nulls
        )
        values = draw(st.lists(pairs, min_size=rows, max_size=rows))
        return pa.array(values, pa.map_(pa.string(), pa.string()))
    # A list of records: signals or events of an odd shape.
    struct, fields = _signal_struct(draw, event=name == "events")
    record = st.fixed_dictionaries({k: st.one_of(s, nulls) for k, s in fields.items()})
    lists = st.one_of(st.lists(st.one_of(record, nulls), max_size=3), nulls)
    return pa.array(draw(st.lists(lists, min_size=rows, max_size=rows)), pa.list_(struct))


_UNKNOWN = st.sampled_from(["note", "extra", "row", "guarantors", "events", "signals"])
_GOOD_KINDS = ["refused_to_pay", "promise_kept", "income_loss", "cash_coverage", "unreachable"]
_GOOD_AT = st.datetimes(
    dt.datetime(2025, 1, 1), dt.datetime(2026, 7, 30), timezones=st.sampled_from([dt.UTC])
)


@st.composite
def good_signals(draw: Any, timestamps: bool) -> dict[str, Any]:
    """A valid signal: its instant a timestamp or ISO text."""
    kind = draw(st.sampled_from(_GOOD_KINDS))
    at = draw(_GOOD_AT)
    signal: dict[str, Any] = {"kind": kind, "observed_at": at if timestamps else at.isoformat()}
    if kind == "cash_coverage":
        signal["value"] = draw(st.sampled_from(["0.5", "2", "-1", "1e3", "12.25"]))
    return signal


@st.composite
def good_column(draw: Any, name: str, rows: int) -> Any:
    """A column of mostly valid values for ``name``, of one of the types that hold them."""
    null = st.sampled_from([False] * 29 + [True])  # one value in thirty is null

    def values(strategy: st.SearchStrategy[Any]) -> list[Any]:
        drawn = draw(st.lists(st.tuples(strategy, null), min_size=rows, max_size=rows))
        return [None if n else v for v, n in drawn]

    if name == "case_id":
        return pa.array([f"C{i}" for i in range(rows)])
    if name in ("principal", "overdue_amount"):
        kind = draw(st.sampled_from(["string", "int", "float", "decimal"]))
        if kind == "int":
            return pa.array(values(st.integers(0, 10**6)), pa.int64())
        if kind == "float":
            return pa.array(values(st.sampled_from([0.0, 100.25, 1000.0, 0.1, 1e-5])))
        if kind in ("decimal", "decimal256"):
            amounts = st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False)
            return pa.array(values(amounts), pa.decimal128(20, 2))
        return pa.array(values(st.sampled_from(["1000", "100.5", "0", "250.1234"])))
    if name in ("due_date", "maturity_date"):
        days = st.dates(dt.date(2020, 1, 1), dt.date(2031, 1, 1))
        if draw(st.booleans()):
            return pa.array(values(days), pa.date32())
        return pa.array(values(days.map(dt.date.isoformat)), pa.string())
    if name in ("sicr_rebutted", "default_rebutted"):
        return pa.array(values(st.booleans()), pa.bool_())
    if name == "signals":
        timestamps = draw(st.booleans())
        signals = st.lists(good_signals(timestamps), max_size=3)
        return pa.array(values(signals))
    options = {
        "product": ["loan", "credit_card", "receivable"],
        "currency": ["CNY", "USD"],
        "timezone": ["Asia/Shanghai", "UTC", "America/New_York"],
    }
    array = pa.array(values(st.sampled_from(options[name])), pa.string())
    kind = draw(st.sampled_from(["string", "string", "large_string", "dictionary"]))
    if kind == "large_string":
        return array.cast(pa.large_string())
    return array.dictionary_encode() if kind == "dictionary" else array


_OPTIONAL = ("maturity_date", "sicr_rebutted", "default_rebutted", "signals")


@st.composite
def parquet_tables(draw: Any) -> Any:
    """A table of 1 to 4 rows: the case columns, mostly valid, a few of them dropped,
    repeated or of an odd type, and some unknown columns."""
    rows = draw(st.integers(1, 4))
    names = [*CASE_COLUMNS[:7], *draw(st.lists(st.sampled_from(_OPTIONAL), unique=True))]
    mode = draw(st.sampled_from(["good", "odd", "dropped", "unknown", "all"]))
    odd: set[str] = set()
    if mode in ("odd", "all"):
        odd = set(draw(st.lists(st.sampled_from(names), min_size=1, max_size=2)))
    arrays = [
        draw(arrow_column(n, rows)) if n in odd else draw(good_column(n, rows)) for n in names
    ]
    if mode in ("dropped", "all"):
        index = draw(st.integers(0, len(names) - 1))
        del names[index], arrays[index]
    if mode in ("unknown", "all"):
        more = st.one_of(_UNKNOWN, st.sampled_from(CASE_COLUMNS))
        for name in draw(st.lists(more, min_size=1, max_size=2)):
            names.append(name)
            arrays.append(draw(arrow_column(name, rows)))
    return pa.Table.from_arrays(arrays, names=names)


_SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HOSTILE_EXAMPLES", "45")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@_SETTINGS
@given(table=parquet_tables())
def test_generated_parquet_files_give_the_per_case_answer(tmp_path: Path, table: Any) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    assert_per_case_or_refused(tmp_path, source)


_SIGNAL_TEXTS = st.sampled_from(
    [
        json.dumps([SIGNAL]),
        json.dumps([{**SIGNAL, "value": "1"}]),
        json.dumps([{**SIGNAL, "value": 1}]),
        json.dumps([{**SIGNAL, "x": "y"}]),
        json.dumps([{"kind": 5}]),
        "[1, 2]",
        "[]",
        "{}",
        "[",
        "null",
        '[{"kind": "refused_to_pay", "observed_at": "2026-06-01T00:00:00"}]',
    ]
)


def _python(column: Any) -> list[Any]:
    """The column's values in Python; a date Python cannot hold as Arrow's text of it."""
    try:
        values: list[Any] = column.to_pylist()
    except (ValueError, OverflowError):
        values = column.cast(pa.string()).to_pylist()
    return values


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, default=_json_default) if value else ""
    return str(value)


@st.composite
def csv_files(draw: Any) -> tuple[list[str], list[list[str]]]:
    """A header and 1 to 4 rows: the case columns, mostly valid, a few of them dropped,
    repeated or of odd text, and some unknown columns."""
    table = draw(parquet_tables())
    header = [str(n) for n in table.column_names]
    rows: list[list[str]] = []
    for record in zip(*(_python(column) for column in table.columns), strict=True):
        row = []
        for name, value in zip(header, record, strict=True):
            if not draw(st.integers(0, 5)):
                value = draw(
                    st.one_of(_SIGNAL_TEXTS, ODD_TEXT)
                    if name in ("signals", "events", "guarantors")
                    else _text_value(name)
                )
            row.append(_csv_cell(value))
        rows.append(row)
    return header, rows


@_SETTINGS
@given(file=csv_files())
def test_generated_csv_files_give_the_per_case_answer(
    tmp_path: Path, file: tuple[list[str], list[list[str]]]
) -> None:
    source = tmp_path / "cases.csv"
    write_csv(source, *file)
    assert_per_case_or_refused(tmp_path, source)


@pytest.mark.parametrize("cells", [[" "], ["\t"], [" ", "  "]], ids=repr)
def test_signals_cells_of_white_space_give_the_per_case_answer(
    tmp_path: Path, cells: list[str]
) -> None:
    """Polars decodes a column whose cells are all white space to no row at all (its
    ShapeError escaped): such rows go to the per-case reader."""
    header = [*BASE, "signals"]
    source = tmp_path / "cases.csv"
    write_csv(source, header, [[*BASE.values(), cell] for cell in cells])
    assert columnar_and_per_case(tmp_path, source) is not None
    assert_per_case_or_refused(tmp_path, source)


def _per_case_errors(table: Any) -> dict[int, tuple[str | None, str]]:
    """The per-case engine's errors, row by row. Both doors decide each case id once;
    ``decide_many`` names a row of its input ``rows[i]``, ``frame.decide`` ``cases[i]``."""
    results = Engine("default", backend="python").decide_many(table, as_of=AS_OF)
    return {
        r.index: (r.case_id, str(r.error).replace("(decided at rows[", "(decided at cases["))
        for r in results
        if r.error is not None
    }


def test_a_date_python_cannot_hold_is_a_bad_row_of_frame_decide() -> None:
    late = pa.array([2**31 - 1, None], pa.int32()).cast(pa.date32())
    cases = pa.table({**{k: [v, v] for k, v in BASE.items()}, "maturity_date": late})
    result = frame.decide(cases, as_of=AS_OF)
    assert {e.row: (e.case_id, str(e.error)) for e in result.errors} == _per_case_errors(cases)
    assert str(result.errors[0].error).startswith("maturity_date: a value Python cannot read")
    assert result.decisions.get_column("row").to_list() == [1]
    at = pa.array([2**62], pa.int64()).cast(pa.timestamp("us", "UTC"))
    signals = pa.table({"case_id": ["A"], "kind": ["refused_to_pay"], "observed_at": at})
    result = frame.decide(cases.slice(1), signals, as_of=AS_OF)
    assert [str(e.error) for e in result.errors] == [
        "signals.observed_at: a value Python cannot read: date value out of range"
    ]


@_SETTINGS
@given(table=parquet_tables())
def test_generated_tables_give_frame_decide_the_per_case_errors(table: Any) -> None:
    try:
        result = frame.decide(table, as_of=AS_OF)
    except CollectRulesError:
        return
    errors = {e.row: (e.case_id, str(e.error)) for e in result.errors}
    assert errors == _per_case_errors(table)
    assert result.decisions.height + len(errors) == table.num_rows


def _cases(**columns: Any) -> Any:
    return pl.DataFrame({k: [v] for k, v in BASE.items()}).with_columns(
        pl.Series(name, values, dtype=dtype) for name, (values, dtype) in columns.items()
    )


@pytest.mark.parametrize(
    ("cases", "signals", "path"),
    [
        (_cases(note=([object()], pl.Object)), None, "cases.note"),
        (_cases(principal=([2**100], pl.Int128)), None, "cases.principal"),
        (_cases(__row=([3], pl.Int64)), None, "cases.__row"),
        (
            _cases(),
            pl.DataFrame({**SIGNAL, "case_id": "A", "__seq": 9}),
            "signals.__seq",
        ),
        (
            _cases(),
            pl.DataFrame({**SIGNAL, "case_id": 1}),
            "signals.case_id",
        ),
    ],
    ids=["object", "int128", "__row", "signal __seq", "signal case_id of another type"],
)
def test_a_table_the_columns_cannot_read_is_an_input_error_naming_the_column(
    cases: Any, signals: Any, path: str
) -> None:
    with pytest.raises(InputError) as info:
        frame.decide(cases, signals, as_of=AS_OF)
    assert [p.path for p in info.value.problems] == [path]


def test_worker_processes_give_the_per_case_answer_on_hostile_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    columns = {k: pa.array([v, v, v]) for k, v in BASE.items()}
    columns["due_date"] = pa.array([2**31 - 1, 20000, None], pa.int32()).cast(pa.date32())
    names = [*columns, "case_id"]
    table = pa.Table.from_arrays([*columns.values(), pa.array(["B", None, "C"])], names=names)
    pq.write_table(table, folder / "a.parquet")
    (folder / "b.csv").write_text("case_id,case_id\nA,B\n")
    pq.write_table(pa.Table.from_pylist([{**BASE, "__x": 1}, BASE]), folder / "c.parquet")
    col_out, case_out = tmp_path / "col.parquet", tmp_path / "case.parquet"
    policy = load_policy("default")
    run_columnar([folder], policy=policy, out=col_out, as_of=AS_OF, jobs=2)
    run_batch([folder], engine=Engine(policy, backend="python"), out=case_out, as_of=AS_OF)
    assert pq.read_table(col_out).equals(pq.read_table(case_out))
    assert _errors(tmp_path / "col.errors.jsonl") == _errors(tmp_path / "case.errors.jsonl")
    assert len(_errors(tmp_path / "col.errors.jsonl")) == 5


def test_a_256_bit_decimal_is_read_as_its_text_in_a_file_and_by_frame_decide(
    tmp_path: Path,
) -> None:
    """A column of 256-bit decimals, which Polars cannot hold, is read as each value's
    exact text, as the per-case engine reads it: the same decisions and bad rows. A row
    holding one inside a list or record is read per case by frame.decide."""
    wide = pa.array([decimal.Decimal("1000.50"), None], pa.decimal256(60, 2))
    cases = pa.table({**{k: [v, v] for k, v in BASE.items()}, "principal": wide})
    source = tmp_path / "cases.parquet"
    pq.write_table(cases, source)
    assert [e["input"]["index"] for e in assert_same(tmp_path, source)] == [1]
    assert pq.read_table(tmp_path / "col.parquet").num_rows == 1
    result = frame.decide(cases, as_of=AS_OF)
    assert {e.row: (e.case_id, str(e.error)) for e in result.errors} == _per_case_errors(cases)
    assert result.decisions.get_column("row").to_list() == [0]
    nested = pa.array([[decimal.Decimal("1.5")], None], pa.list_(pa.decimal256(60, 2)))
    noted = cases.append_column("note", nested)
    result = frame.decide(noted, as_of=AS_OF)
    assert {e.row: (e.case_id, str(e.error)) for e in result.errors} == _per_case_errors(noted)
    assert result.decisions.height == 0


@pytest.mark.parametrize("data", [b"PAR1garbagePAR1", b"case_id\nA\n"], ids=["garbage", "text"])
def test_a_file_that_is_not_parquet_is_one_bad_row_as_per_case(tmp_path: Path, data: bytes) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.parquet").write_bytes(data)
    pq.write_table(pa.Table.from_pylist([BASE]), folder / "b.parquet")
    errors = assert_same(tmp_path, folder)
    assert [e["error"].startswith("not a readable Parquet file") for e in errors] == [True]
    assert pq.read_table(tmp_path / "col.parquet").num_rows == 1


def test_an_empty_parquet_file_is_refused_by_both_engines_as_an_empty_folder_is(
    tmp_path: Path,
) -> None:
    """A file of zero bytes is a broken export: the input is refused, naming the file,
    where it was one bad row."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.parquet").write_bytes(b"")
    pq.write_table(pa.Table.from_pylist([BASE]), folder / "b.parquet")
    messages = []
    for run in (
        lambda: run_batch(
            [folder], engine=Engine("default"), out=tmp_path / "case.parquet", as_of=AS_OF
        ),
        lambda: run_columnar(
            [folder], policy=load_policy("default"), out=tmp_path / "col.parquet", as_of=AS_OF
        ),
    ):
        with pytest.raises(InputError) as info:
            run()
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert f"{folder / 'a.parquet'}: an empty file (0 bytes)" in messages[0]


_BYTES = st.sampled_from(
    [b"\x00", b"\r", b"\r\n", b"\n", b"\n\n", b'"', codecs.BOM_UTF8, b"\xff", b",", b"\xe6\x98"]
)


@_SETTINGS
@given(file=csv_files(), cuts=st.lists(st.tuples(st.integers(0, 10**6), _BYTES), max_size=3))
def test_generated_csv_bytes_give_the_per_case_answer(
    tmp_path: Path, file: tuple[list[str], list[list[str]]], cuts: list[tuple[int, bytes]]
) -> None:
    """A CSV file with stray bytes (NUL, carriage returns, quotes, byte order marks,
    bytes that are not UTF-8, blank lines) inserted anywhere."""
    source = _stray_csv(tmp_path, file, cuts)
    assert_per_case_or_refused(tmp_path, source)


# --------------------------------------------------------------------------- corrupt Parquet


def assert_per_case_answer(
    tmp_path: Path, source: Path, chunk_rows: int = CHUNK_ROWS
) -> list[dict[str, Any]]:
    """The columnar run of ``source`` (in chunks of ``chunk_rows``) gives the per-case
    table and error lines, byte for byte; the error records."""
    both = columnar_and_per_case(tmp_path, source, chunk_rows)
    assert both is not None, "the columnar run refused a file the per-case run reads"
    col, case = both
    assert col[0].equals(case[0])
    assert (tmp_path / "col.errors.jsonl").read_bytes() == (
        tmp_path / "case.errors.jsonl"
    ).read_bytes()
    errors: list[dict[str, Any]] = col[1]
    return errors


def _portfolio(rows: int) -> Any:
    """``rows`` cases, one in seven with a signal and one in eleven bad (a negative
    overdue amount)."""
    return pa.Table.from_pylist(
        [
            {
                **BASE,
                "case_id": f"C{i}",
                "principal": str(1000 + i),
                "overdue_amount": "-1" if i % 11 == 5 else "100",
                "signals": [SIGNAL] if i % 7 == 3 else [],
            }
            for i in range(rows)
        ]
    )


def _corrupt(path: Path, at: int, data: bytes) -> None:
    """Overwrite the bytes of ``path`` from ``at`` (within the file) with ``data``."""
    raw = bytearray(path.read_bytes())
    at %= len(raw)
    raw[at : at + len(data)] = data
    path.write_bytes(bytes(raw))


def test_a_parquet_file_corrupt_past_its_footer_gives_the_per_case_rows(tmp_path: Path) -> None:
    """A file whose footer reads but a row group in its middle does not: the rows read
    before it are decided, the rest of the file is one bad row, as per case."""
    source = tmp_path / "cases.parquet"
    pq.write_table(_portfolio(10_000), source, row_group_size=500)
    size = source.stat().st_size
    _corrupt(source, size // 2, b"\xff" * 16)
    assert pq.ParquetFile(source).metadata.num_rows == 10_000  # the footer reads
    errors = assert_per_case_answer(tmp_path, source)
    assert errors[-1]["error"].startswith("not a readable Parquet file")
    assert errors[-1]["input"] == {"line": None, "source": str(source)}
    decided = pq.read_table(tmp_path / "col.parquet").num_rows
    assert 0 < decided < 10_000
    # With worker processes too, and a good file after it.
    folder = tmp_path / "in"
    folder.mkdir()
    source.rename(folder / "a.parquet")
    pq.write_table(_portfolio(30), folder / "b.parquet")
    col_out, case_out = tmp_path / "jobs.parquet", tmp_path / "one.parquet"
    policy = load_policy("default")
    run = run_columnar([folder], policy=policy, out=col_out, as_of=AS_OF, jobs=2)
    run_batch([folder], engine=Engine(policy, backend="python"), out=case_out, as_of=AS_OF)
    assert pq.read_table(col_out).equals(pq.read_table(case_out))
    assert (tmp_path / "jobs.errors.jsonl").read_bytes() == (
        tmp_path / "one.errors.jsonl"
    ).read_bytes()
    assert run.batch.rows == decided + len(errors) + 30


@_SETTINGS
@given(
    rows=st.integers(1, 120),
    group=st.integers(1, 40),
    compression=st.sampled_from(["snappy", "zstd", "none"]),
    at=st.integers(0, 10**6),
    data=st.one_of(st.binary(min_size=1, max_size=24), st.sampled_from([b"\xff" * 8, b"\0" * 8])),
)
def test_parquet_files_corrupt_anywhere_give_the_per_case_answer(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
    group: int,
    compression: str,
    at: int,
    data: bytes,
) -> None:
    """Bytes overwritten anywhere in a file of many row groups, read in small batches and
    chunks (so that a chunk holds several batches and a batch several row groups)."""
    import collectrules.io.arrow as arrow_io

    monkeypatch.setattr(arrow_io, "BATCH_ROWS", 8)
    source = tmp_path / "cases.parquet"
    pq.write_table(_portfolio(rows), source, row_group_size=group, compression=compression)
    _corrupt(source, at, data)
    assert_per_case_answer(tmp_path, source, chunk_rows=20)


@given(
    sizes=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    data=st.data(),
)
def test_per_case_rows_are_taken_batch_by_batch_as_from_the_whole_table(
    sizes: list[int], data: Any
) -> None:
    """A chunk of several record batches gives the rows at the positions asked, in
    order, as Arrow's own take over the whole table gives them; positions out of order
    or past the rows are refused (the caller then reads each row alone)."""
    from collectrules.frame.files import _taken

    signal = pa.struct([("kind", pa.string()), ("observed_at", pa.string())])
    schema = pa.schema([("case_id", pa.string()), ("signals", pa.list_(signal))])
    batches, start = [], 0
    for size in sizes:
        ids = [f"C{start + i}" for i in range(size)]
        signals = [
            [{"kind": "promise_kept", "observed_at": f"2026-06-0{1 + i % 9}"}] for i in range(size)
        ]
        batches.append(
            pa.record_batch([pa.array(ids), pa.array(signals, pa.list_(signal))], schema=schema)
        )
        start += size
    table = pa.Table.from_batches(batches, schema=schema)
    total = table.num_rows
    positions = (
        data.draw(st.lists(st.integers(0, max(0, total - 1)), unique=True).map(sorted))
        if total
        else []
    )
    expected = table.take(pa.array(positions, pa.int64()))
    assert _taken(table, positions).equals(expected)
    assert _taken(table, positions).column("case_id").to_pylist() == [f"C{p}" for p in positions]
    if len(positions) > 1:
        with pytest.raises(ValueError, match="out of order"):
            _taken(table, positions[::-1])
    with pytest.raises(ValueError, match="past the"):
        _taken(table, [*positions, total])


@_SETTINGS
@given(table=parquet_tables(), data=st.data())
def test_per_case_rows_read_together_are_read_as_one_at_a_time(table: Any, data: Any) -> None:
    """The rows a columnar chunk sends per case are converted together; each gives the
    data, or the error, that reading it alone gives."""
    from collectrules.frame.files import _batch_row_data
    from collectrules.io.arrow import batch_row

    start = data.draw(st.integers(0, 10**6))
    positions = data.draw(st.lists(st.integers(0, table.num_rows - 1), unique=True).map(sorted))
    indices = [start + p for p in positions]
    table.validate(full=True)
    together = _batch_row_data(table, start, valid=True)(indices)
    alone = [batch_row(table, p) for p in positions]

    def shown(read: Any) -> Any:
        # By repr: a NaN read from each side is a float of its own, and NaN != NaN.
        return (type(read).__name__, str(read)) if isinstance(read, InputError) else repr(read)

    assert [shown(d if e is None else e) for d, e in together] == [shown(r) for r in alone]


def test_a_csv_signals_cell_naming_a_key_twice_is_the_same_bad_row_on_both_engines(
    tmp_path: Path,
) -> None:
    """Polars' decoder keeps one of the two values; the row goes per case, which refuses it."""
    source = tmp_path / "cases.csv"
    good = ",".join(BASE.values())
    twice = (
        '"[{""kind"": ""refused_to_pay"", ""observed_at"": ""2026-06-01T00:00:00+08:00"",'
        ' ""kind"": ""fraud_suspected""}]"'
    )
    source.write_text(f"{','.join(BASE)},signals\n{good},{twice}\n{good},\n", encoding="utf-8")
    (error,) = assert_per_case_answer(tmp_path, source)
    assert error["error"] == "signals[0].kind: named twice in one object: expected each key once"


@pytest.mark.parametrize(
    "cell",
    [
        '"[{""kind"": ""x"", ""at"": "\x00"2025"", ""value"": null}]"',  # closed early
        '"a,"b"',  # closed after a comma inside, then text
        'ab"c,d',  # a quote inside an unquoted field
        '"ab""',  # never closed
    ],
    ids=["closed before a NUL", "closed before text", "in an unquoted field", "unclosed"],
)
def test_a_csv_quote_out_of_place_gives_the_per_case_answer(tmp_path: Path, cell: str) -> None:
    """Python's csv goes on unquoted after a quote that closes a field early; Polars
    quoted again, and split the row into other cells."""
    source = tmp_path / "cases.csv"
    good = ",".join(BASE.values())
    source.write_text(f"{','.join(BASE)},note\n{good},{cell}\n{good},\n", encoding="utf-8")
    assert_per_case_answer(tmp_path, source)


# --------------------------------------------------------------------------- the command


def assert_command_same(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """``collectrules batch`` with ``--engine columnar`` and with ``--engine per-case``
    on ``source``: the same table, error file (byte for byte) and exit status; the
    warnings each printed."""
    warnings = []
    codes = []
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        argv = ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine]
        codes.append(main(argv))
        err = capsys.readouterr().err
        assert "Traceback" not in err
        warnings.append("\n".join(line for line in err.splitlines() if line.startswith("warning")))
    assert codes[0] == codes[1]
    col, case = tmp_path / "columnar.parquet", tmp_path / "per-case.parquet"
    assert pq.read_table(col).equals(pq.read_table(case))
    assert (tmp_path / "columnar.errors.jsonl").read_bytes() == (
        tmp_path / "per-case.errors.jsonl"
    ).read_bytes()
    return warnings[0], warnings[1]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_command_ignores_columns_that_are_not_case_fields_with_either_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """The per-case batch drops them with a warning; the columnar one made every row
    holding a value in one bad ('note: unknown field')."""
    rows = [
        {**BASE, "case_id": "A", "note": "hi", "branch": None},
        {**BASE, "case_id": "B", "note": None, "branch": "north"},
        {**BASE, "case_id": "C", "note": None, "branch": None, "overdue_amount": "-1"},
    ]
    source = tmp_path / f"cases{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), source)
    else:
        header = list(rows[0])
        write_csv(source, header, [[row[k] or "" for k in header] for row in rows])
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    assert (
        columnar
        == per_case
        == (
            f"warning: {source}: ignoring column note: not case fields (map them to case"
            " fields with --columns MAP.toml)"
        )
    )
    assert pq.read_table(tmp_path / "columnar.parquet").num_rows == 2


def test_the_command_reads_a_value_python_cannot_hold_in_an_ignored_column_as_per_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = pa.array([2**31 - 1, None], pa.int32()).cast(pa.date32())
    table = pa.table({**{k: [v, v] for k, v in BASE.items()}, "opened": late})
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    assert columnar == per_case == ""  # the one row holding an ignored value is bad
    errors = _errors(tmp_path / "columnar.errors.jsonl")
    assert [e["error"][:36] for e in errors] == ["opened: a value Python cannot read: "]


def test_the_warning_names_the_ignored_columns_of_the_first_row_python_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The per-case batch never reads a row holding a value Python cannot hold (it is
    a bad row): the columnar batch's warning skips it too."""
    late = pa.array([2**31 - 1, None, None], pa.int32()).cast(pa.date32())
    table = pa.table(
        {
            **{k: [v, v, v] for k, v in BASE.items()},
            "case_id": ["A", "B", "C"],
            "opened": late,
            "note": ["x", None, "y"],
            "branch": [None, "north", "south"],
        }
    )
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    assert (
        columnar
        == per_case
        == (
            f"warning: {source}: ignoring column branch: not case fields (map them to case"
            " fields with --columns MAP.toml)"
        )
    )


@pytest.mark.parametrize(
    ("cells", "warned"),
    [
        (["{'a': None}"], None),  # the example hypothesis found: no row is read
        (["{'a': None}", "[]"], "note"),
        (['[{"a": 1}', ""], "note"),  # the second row, whose events cell is empty
        (['{"kind": "a", "kind": "b"}', "[]"], "note"),  # a key named twice in a cell
    ],
    ids=["only a bad cell", "bad then good", "cut JSON then empty", "repeated key"],
)
def test_the_warning_skips_csv_rows_whose_json_cells_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cells: list[str], warned: str | None
) -> None:
    """A CSV row whose events cell is not JSON is a bad row the per-case batch never
    reads: the columnar batch's warning skips its ignored columns too (it named
    ``note, branch`` of the first row, or warned where the per-case batch did not)."""
    header = [*BASE, "events", "note", "branch"]
    rows = [  # only the rows that cannot be read hold a branch
        [*{**BASE, "case_id": f"C{n}"}.values(), cell, "x", "" if cell in ("", "[]") else "b"]
        for n, cell in enumerate(cells)
    ]
    source = tmp_path / "cases.csv"
    write_csv(source, header, rows)
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    expected = (
        ""
        if warned is None
        else f"warning: {source}: ignoring column {warned}: not case fields (map them to"
        " case fields with --columns MAP.toml)"
    )
    assert columnar == per_case == expected


_COMMAND_SETTINGS = settings(_SETTINGS, max_examples=max(5, _SETTINGS.max_examples // 3))


@_COMMAND_SETTINGS
@given(table=parquet_tables())
def test_the_command_gives_the_same_answer_with_either_engine_on_generated_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: Any
) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    assert columnar == per_case


@_COMMAND_SETTINGS
@given(file=csv_files())
def test_the_command_gives_the_same_answer_with_either_engine_on_generated_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: tuple[list[str], list[list[str]]]
) -> None:
    source = tmp_path / "cases.csv"
    write_csv(source, *file)
    columnar, per_case = assert_command_same(tmp_path, source, capsys)
    assert columnar == per_case


@_COMMAND_SETTINGS
@given(file=csv_files(), cuts=st.lists(st.tuples(st.integers(0, 10**6), _BYTES), max_size=3))
def test_the_command_gives_the_same_answer_with_either_engine_on_csv_with_stray_bytes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    file: tuple[list[str], list[list[str]]],
    cuts: list[tuple[int, bytes]],
) -> None:
    source = _stray_csv(tmp_path, file, cuts)
    assert_command_same(tmp_path, source, capsys)


@pytest.mark.parametrize("extra", [MAX_COLUMNS - len(BASE), MAX_COLUMNS - len(BASE) + 1])
def test_a_csv_file_wider_than_the_columns_read_goes_per_case(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, extra: int
) -> None:
    """Polars plans each column: 50,000 columns took 18 s and 1.7 GiB for 50 rows (25 s
    before the expressions covered many columns at once). Past MAX_COLUMNS the file is
    decided per case, with the same table and error file."""
    header = [*BASE, *(f"x{i}" for i in range(extra))]
    rows = [[*{**BASE, "case_id": f"C{n}"}.values(), *["v"] * extra] for n in range(3)]
    rows[1][header.index("principal")] = "-1"
    source = tmp_path / "cases.csv"
    write_csv(source, header, rows)
    out = tmp_path / "col.parquet"
    policy = load_policy("default")
    run = run_columnar([source], policy=policy, out=out, as_of=AS_OF, case_fields=CASE_COLUMNS)
    (summary,) = run.frames
    wide = len(header) > MAX_COLUMNS
    reason = "file the columns cannot read" if wide else "outside the columnar subset"
    assert summary.fallback == {reason: 3 if wide else 1}  # else the row of principal -1
    assert (summary.columnar, summary.per_case) == ((0, 3) if wide else (2, 1))
    assert_same(tmp_path, source)
    # The warning names 20 of the ignored columns and counts the others.
    more = len(header) - len(BASE) - 20
    assert [m for m in caplog.messages if ": ignoring" in m] == [
        f"{source}: ignoring columns {', '.join(header[len(BASE) : len(BASE) + 20])} and"
        f" {more:,} more: not case fields (map them to case fields with --columns MAP.toml)"
    ]
