"""Hostile Arrow, pandas and Polars inputs to :func:`collectrules.io.read_rows`.

Each value is read as the plain data a case is read from, or is an
:class:`~collectrules.errors.InputError` naming the column and what was expected: the
row's own error for a value of one row, the table's for a column the table cannot hold.
Never a pyarrow, pandas or Python exception, and never a message that blames something
else (a missing package, a type the column does not hold).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas")

from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import QUOTE_LIMIT, InputError  # noqa: E402
from collectrules.io import (  # noqa: E402
    FRAME_SOURCE,
    Row,
    RowShape,
    case_files,
    load_column_map,
    read_rows,
)
from collectrules.io.arrow import BATCH_ROWS, batch_row  # noqa: E402
from helpers import CARD_CASE  # noqa: E402

#: The longest message a problem of these tests may have: a quoted value and the words
#: around it.
LONGEST_MESSAGE = QUOTE_LIMIT + 300


def _rows(frame: Any) -> list[Row]:
    rows = list(read_rows([frame]))
    for row in rows:
        assert (row.data is None) != (row.error is None)
        if row.error is not None:
            assert isinstance(row.error, InputError)
            assert all(len(p.message) <= LONGEST_MESSAGE for p in row.error.problems)
    return rows


def _table_error(frame: Any) -> InputError:
    """The one error of a table that cannot be read at all."""
    (row,) = _rows(frame)
    assert row.source == FRAME_SOURCE
    assert row.index is None
    assert row.error is not None
    return row.error


def _only(error: InputError | None) -> tuple[str, str]:
    assert error is not None
    (problem,) = error.problems
    return problem.path, problem.message


# -- a time zone Python does not know --------------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+25:00", "UTC+8", "Asia/Shangai"])
def test_a_timestamp_in_a_time_zone_python_does_not_know_names_the_zone(zone: str) -> None:
    at = pa.array([0, None], pa.int64()).cast(pa.timestamp("us", tz=zone))
    first, second = _rows(pa.table({"case_id": ["A", "B"], "due": at}))
    path, message = _only(first.error)
    assert path == "due"
    assert repr(zone) in message
    assert "not a time zone" in message
    assert "+08:00" in message  # what is expected: an IANA name or an offset
    assert "must be installed" not in message  # not a package: the zone's name
    assert second.data == {"case_id": "B"}  # the null is not read in any zone


def test_a_nested_timestamp_in_an_unknown_time_zone_names_its_column() -> None:
    kind = pa.list_(pa.struct([("at", pa.timestamp("s", tz="Nowhere/Land"))]))
    events = pa.array([[{"at": 0}], []], kind)
    first, second = _rows(pa.table({"events": events}))
    path, message = _only(first.error)
    assert path == "events"
    assert "'Nowhere/Land'" in message
    assert second.data == {"events": []}


def test_a_parquet_timestamp_in_an_unknown_time_zone_names_the_zone(tmp_path: Path) -> None:
    source = tmp_path / "cases.parquet"
    at = pa.array([0], pa.int64()).cast(pa.timestamp("ms", tz="Mars/Olympus"))
    pq.write_table(pa.table({"due": at}), source)
    (row,) = read_rows([source])
    path, message = _only(row.error)
    assert (path, row.index) == ("due", 0)
    assert "'Mars/Olympus'" in message


# -- pandas columns Arrow cannot hold --------------------------------------------------


def test_a_lone_surrogate_in_a_pandas_text_column_says_so() -> None:
    notes = pd.Series(["fine", "x" * 5_000 + "\ud800" + "y"], dtype=object)
    error = _table_error(pd.DataFrame({"case_id": ["A", "B"], "note": notes}))
    path, message = _only(error)
    assert path == "rows.note"
    assert "U+D800" in message
    assert "surrogate" in message
    assert "row 1" in message  # the frame's second row, counted from 0 as rows are
    assert "UTF-8" in message
    assert "got str" not in message  # text is what the column is meant to hold


@pytest.mark.parametrize(
    "values",
    [[1.0, math.nan, 0.0], [1, 0, 0]],
    ids=["float", "int"],
)
def test_a_pandas_sparse_column_says_it_is_sparse(values: list[Any]) -> None:
    error = _table_error(pd.DataFrame({"x": pd.arrays.SparseArray(values)}))
    path, message = _only(error)
    assert path == "rows.x"
    assert "sparse" in message
    assert "to_dense" in message
    assert "one type" not in message  # a sparse column holds one type


def test_an_integer_past_64_bits_in_a_pandas_column_is_an_input_error() -> None:
    for big in (10**40, -(10**40), 10**5_000):
        frame = pd.DataFrame({"principal": pd.Series([1, big], dtype=object)})
        path, message = _only(_table_error(frame))
        assert path == "rows.principal"
        assert "64 bits" in message
        assert "as text" in message


def test_a_pandas_value_nested_too_deep_is_an_input_error() -> None:
    deep: list[Any] = []
    for _ in range(3_000):
        deep = [deep]
    path, message = _only(_table_error(pd.DataFrame({"signals": pd.Series([deep], dtype=object)})))
    assert path == "rows.signals"
    assert "nested" in message


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        ([{1: "a"}], "records whose keys are not text (int)"),
        ([{"a": 1}, {"a": "x"}], "records whose field 'a' holds int, str"),
        ([[1, "a"]], "lists holding int, str"),
    ],
    ids=["int keys", "a field of two types", "a list of two types"],
)
def test_a_pandas_column_of_records_or_lists_names_what_they_mix(
    values: list[Any], phrase: str
) -> None:
    path, message = _only(_table_error(pd.DataFrame({"c": pd.Series(values, dtype=object)})))
    assert path == "rows.c"
    assert phrase in message


def test_a_pandas_column_mixing_aware_and_naive_timestamps_is_refused() -> None:
    aware = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    naive = dt.datetime(2026, 1, 1)
    for values in ([aware, naive], [naive, aware]):
        frame = pd.DataFrame({"due": pd.Series(values, dtype=object)})
        path, message = _only(_table_error(frame))
        assert path == "rows.due"
        assert "without a time zone" in message
        assert f"row {values.index(naive)}" in message


def test_a_pandas_period_column_is_refused_not_read_as_its_ordinal() -> None:
    frame = pd.DataFrame({"due": pd.period_range("2026-01", periods=2, freq="M")})
    first, _ = _rows(frame)
    path, message = _only(first.error)
    assert path == "due"
    assert "period" in message
    assert "to_timestamp" in message


def test_a_pandas_frame_without_columns_gives_each_of_its_rows() -> None:
    rows = _rows(pd.DataFrame(index=range(3)))
    assert [(r.index, r.data) for r in rows] == [(0, {}), (1, {}), (2, {})]


@pytest.mark.parametrize(
    ("names", "field"),
    [([1, "1"], "rows.1"), ([math.nan, math.nan], "rows.nan"), ([1.5, "1.5"], "rows.1.5")],
    ids=["1 and '1'", "NaN twice", "1.5 and '1.5'"],
)
def test_pandas_names_arrow_reads_as_one_name_are_refused(names: list[Any], field: str) -> None:
    error = _table_error(pd.DataFrame([[1, 2]], columns=names))
    path, message = _only(error)
    assert path == field
    assert "expected each column named once" in message


# -- Arrow values ----------------------------------------------------------------------


DAY_MS = 86_400_000


def test_a_date64_holding_a_time_of_day_is_that_rows_error() -> None:
    due = pa.array([DAY_MS, DAY_MS + 5 * 3_600_000, -DAY_MS + 1, None], pa.date64())
    rows = _rows(pa.table({"case_id": ["A", "B", "C", "D"], "due": due}))
    assert rows[0].data == {"case_id": "A", "due": "1970-01-02"}
    for row, at in ((rows[1], "05:00:00"), (rows[2], "00:00:00.001")):
        path, message = _only(row.error)
        assert path == "due"
        assert "date64" in message
        assert at in message
        assert "expected a whole day" in message
    assert rows[3].data == {"case_id": "D"}


@pytest.mark.parametrize(
    "column",
    [
        pa.array([[DAY_MS], [DAY_MS + 1]], pa.list_(pa.date64())),
        pa.array([{"at": DAY_MS}, {"at": DAY_MS + 1}], pa.struct([("at", pa.date64())])),
        pa.array([[("k", DAY_MS)], [("k", DAY_MS + 1)]], pa.map_(pa.string(), pa.date64())),
        pa.array([DAY_MS, DAY_MS + 1], pa.date64()).dictionary_encode(),
    ],
    ids=["list", "struct", "map", "dictionary"],
)
def test_a_nested_date64_holding_a_time_of_day_is_that_rows_error(column: Any) -> None:
    first, second = _rows(pa.table({"events": column}))
    assert first.data is not None
    assert "1970-01-02" in str(first.data)
    path, message = _only(second.error)
    assert path == "events"
    assert "00:00:00.001" in message


def test_batch_row_reads_a_date64_as_the_rows_do() -> None:
    table = pa.table({"due": pa.array([DAY_MS + 1], pa.date64())})
    error = batch_row(table, 0)
    assert isinstance(error, InputError)
    assert _only(error)[0] == "due"


def test_a_map_naming_a_key_twice_is_that_rows_error() -> None:
    kind = pa.map_(pa.string(), pa.int64())
    first, second = _rows(pa.table({"extra": pa.array([[("k", 1), ("k", 2)], [("k", 1)]], kind)}))
    path, message = _only(first.error)
    assert path == "extra"
    assert "'k' twice" in message
    assert second.data == {"extra": {"k": 1}}


def test_an_empty_map_is_read_as_an_empty_object_not_a_list() -> None:
    # Arrow gives an empty map as an empty list: a map column of signals decided its
    # empty rows as cases without signals, and refused the others ("got dict")
    kind = pa.map_(pa.string(), pa.string())
    empty, full = _rows(pa.table({"signals": pa.array([[], [("kind", "x")]], kind)}))
    assert empty.data == {"signals": {}}
    assert full.data == {"signals": {"kind": "x"}}
    engine = Engine("default", backend="python")
    table = pa.table(
        {**{k: [v, v] for k, v in CARD_CASE.items()}, "signals": pa.array([[], []], kind)}
    )
    for result in engine.decide_many(table, as_of="2026-06-30T12:00:00+08:00"):
        assert isinstance(result.error, InputError)
        assert str(result.error) == "signals: expected a list, got dict"


def test_a_record_naming_a_field_twice_says_so() -> None:
    column = pa.StructArray.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    (row,) = _rows(pa.table({"signal": column}))
    path, message = _only(row.error)
    assert path == "signal"
    assert "'a' twice" in message


@pytest.mark.parametrize(
    ("column", "phrase"),
    [
        (pa.array([2**62], pa.int64()).cast(pa.timestamp("s", tz="UTC")), "years 1 to 9999"),
        (pa.array([-(2**62)], pa.int64()).cast(pa.timestamp("s")), "years 1 to 9999"),
        (pa.array([-(2**31)], pa.int32()).cast(pa.date32()), "years 1 to 9999"),
        (pa.array([2**62], pa.int64()).cast(pa.duration("s")), "999,999,999 days"),
    ],
    ids=["timestamp", "naive timestamp", "date32", "duration"],
)
def test_a_value_out_of_pythons_range_says_what_the_range_is(column: Any, phrase: str) -> None:
    (row,) = _rows(pa.table({"due": column}))
    path, message = _only(row.error)
    assert path == "due"
    assert message.startswith("a value Python cannot read")
    assert phrase in message
    assert "C int" not in message


@pytest.mark.parametrize("kind", ["list", "struct"])
def test_an_arrow_value_nested_too_deep_is_that_rows_error(kind: str) -> None:
    column = pa.array([1, 2])
    for level in range(1_500):
        mask = pa.array([False, level == 1_499])  # the second row null at the top
        if kind == "list":
            column = pa.ListArray.from_arrays(pa.array([0, 1, 2], pa.int32()), column, mask=mask)
        else:
            column = pa.StructArray.from_arrays([column], names=["a"], mask=mask)
    first, second = _rows(pa.table({"case_id": ["A", "B"], "deep": column}))
    path, message = _only(first.error)
    assert path == "deep"
    assert "nested more than 64 levels deep" in message
    assert second.data == {"case_id": "B"}


# -- what read_rows is given -----------------------------------------------------------


def test_a_record_batch_is_read_as_a_table_is() -> None:
    batch = pa.RecordBatch.from_pydict({"case_id": ["A", "B"]})
    assert [r.data for r in _rows(batch)] == [{"case_id": "A"}, {"case_id": "B"}]


def test_a_frame_given_alone_is_refused_not_read_as_its_column_names() -> None:
    for frame in (pd.DataFrame({"cases.json": [1]}), pa.table({"cases.json": [1]})):
        with pytest.raises(InputError) as caught:
            list(read_rows(frame))
        path, message = _only(caught.value)
        assert path == "paths"
        assert "[frame]" in message


def _polars() -> Any:
    return pytest.importorskip("polars")


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_polars_frame_is_read_as_its_arrow_table_is(backend: str) -> None:
    """A polars DataFrame goes wherever a pandas DataFrame or an Arrow table does: its
    rows read as ``frame.to_arrow()``'s, coded ids as their text, on both back ends; a
    naive time is its row's error, as from any table; a column of Python objects, which
    Arrow cannot hold, is refused naming it."""
    pl = _polars()
    signals = [{"kind": "refused_to_pay", "observed_at": "2026-04-01T10:00:00+08:00"}]
    rows = [
        {**CARD_CASE, "case_id": "A", "signals": signals},
        {**CARD_CASE, "case_id": "B", "signals": []},
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("case_id").cast(pl.Categorical))
    assert [r.data for r in _rows(frame)] == [r.data for r in _rows(frame.to_arrow())]
    engine = Engine(backend=backend)  # type: ignore[arg-type]
    as_of = "2026-04-03T12:00:00+08:00"
    decided = list(engine.decide_many(frame, as_of=as_of))
    plain = list(engine.decide_many(rows, as_of=as_of))
    assert [(r.case_id, r.error) for r in decided] == [("A", None), ("B", None)]
    assert [r.decision for r in decided] == [r.decision for r in plain]
    naive = pl.DataFrame(
        [
            {
                **CARD_CASE,
                "case_id": "N",
                "signals": [{"kind": "refused_to_pay", "observed_at": dt.datetime(2026, 4, 1, 10)}],
            }
        ]
    )
    (row,) = list(engine.decide_many(naive, as_of=as_of))
    assert row.decision is None
    assert row.error is not None
    assert "naive" in str(row.error)
    held = pl.DataFrame({"case_id": [object()]}, schema={"case_id": pl.Object})
    with pytest.raises(InputError, match=r"rows.case_id: a column of Python objects"):
        list(engine.decide_many(held, as_of=as_of))


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: _polars().DataFrame({"a": [1]}).lazy(), "polars LazyFrame"),
        (lambda: pd.Series([1, 2]), "pandas Series"),
        (lambda: pa.chunked_array([[1] * 1_000]), "pyarrow ChunkedArray"),
        (lambda: pa.array([1]), "pyarrow Int64Array"),
    ],
    ids=["polars lazy", "pandas series", "chunked array", "arrow array"],
)
def test_a_table_of_another_kind_is_refused_naming_it(make: Any, named: str) -> None:
    with pytest.raises(InputError) as caught:
        list(read_rows([make()]))
    path, message = _only(caught.value)
    assert path == "paths[0]"
    assert named in message
    assert "a pandas DataFrame, a polars DataFrame or a pyarrow Table" in message
    assert ("pass frame.collect()" in message) is ("LazyFrame" in named)
    assert "0x" not in message  # no memory address, no multi-line repr
    assert "\n" not in message


_DATA = {
    "pandas DataFrame": lambda: pd.DataFrame({"a.json": [1]}),
    "pandas Series": lambda: pd.Series(["a.json", "b.json"]),
    "numpy ndarray": lambda: pa.array([1, 2]).to_numpy(),
    "polars DataFrame": lambda: _polars().DataFrame({"a": [1]}),
    "polars LazyFrame": lambda: _polars().DataFrame({"a": [1]}).lazy(),
    "polars Series": lambda: _polars().Series(["a.json"]),
}

_TAKING_PATHS = {
    "case_files": (lambda item: case_files([item]), "paths[0]"),
    "RowShape signals": (lambda item: RowShape(signals=[item]), "signals[0]"),
    "RowShape events": (lambda item: RowShape(events=[item]), "events[0]"),
    "load_column_map": (load_column_map, "path"),
}


@pytest.mark.parametrize("named", sorted(_DATA))
@pytest.mark.parametrize("call", sorted(_TAKING_PATHS))
def test_a_table_or_an_array_where_a_path_is_expected_is_refused_naming_it(
    call: str, named: str
) -> None:
    take, path = _TAKING_PATHS[call]
    with pytest.raises(InputError) as caught:
        take(_DATA[named]())
    (problem,) = caught.value.problems
    assert problem.path == path
    assert problem.message == f"expected a file's path, got a {named}"


@pytest.mark.parametrize("named", ["pandas DataFrame", "polars DataFrame", "polars LazyFrame"])
def test_a_table_given_alone_for_paths_is_refused_naming_it(named: str) -> None:
    for take in (case_files, lambda table: RowShape(signals=table)):
        with pytest.raises(InputError) as caught:
            take(_DATA[named]())
        (problem,) = caught.value.problems
        assert problem.message == f"expected a list of paths, got a {named} alone"


def test_a_list_of_paths_held_by_numpy_or_pandas_is_still_read(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text('{"case_id": "A"}\n', encoding="utf-8")
    for paths in (pd.Series([str(source)]), pa.array([str(source)]).to_numpy(zero_copy_only=False)):
        assert case_files(paths) == [source]
        assert [r.data for r in read_rows(paths)] == [{"case_id": "A"}]


def test_many_chunks_are_read_in_order() -> None:
    table = pa.table({"n": pa.chunked_array([[i] for i in range(3 * BATCH_ROWS)])})
    assert [r.data for r in _rows(table)] == [{"n": i} for i in range(3 * BATCH_ROWS)]


# -- every Arrow type ------------------------------------------------------------------


class _Opaque(pa.ExtensionType):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(pa.int64(), "collectrules.test.opaque")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: Any, serialized: bytes) -> _Opaque:
        return cls()


_SCALAR_COLUMNS = {
    "dictionary": lambda: pa.array(["a", None]).dictionary_encode(),
    "large_string": lambda: pa.array(["a", None], pa.large_string()),
    # UTF-8 text as bytes (bytes that are not UTF-8 are the row's error: see
    # tests/test_input_strictness.py)
    "binary": lambda: pa.array([b"a\x00", None], pa.binary()),
    "fixed binary": lambda: pa.array([b"ab", None], pa.binary(2)),
    "decimal128": lambda: pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2)),
    "decimal256": lambda: pa.array([decimal.Decimal("9" * 70), None], pa.decimal256(76, 0)),
    "duration": lambda: pa.array([dt.timedelta(days=1), None], pa.duration("us")),
    "interval": lambda: pa.array([(1, 2, 3), None], pa.month_day_nano_interval()),
    "null": lambda: pa.nulls(2),
    "float nan inf": lambda: pa.array([math.nan, math.inf]),
    "float tiny": lambda: pa.array([5e-324, -0.0]),
    "uint64": lambda: pa.array([2**64 - 1, None], pa.uint64()),
    "time": lambda: pa.array([dt.time(1, 2), None], pa.time64("ns")),
    "timestamp ns": lambda: pa.array([1, None], pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
    "union": lambda: pa.UnionArray.from_sparse(
        pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]
    ),
    "run end": lambda: pa.RunEndEncodedArray.from_arrays(pa.array([2], pa.int32()), ["x"]),
    "extension": lambda: pa.ExtensionArray.from_storage(_Opaque(), pa.array([1, None])),
    "map": lambda: pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
    "struct": lambda: pa.array([{"a": 1, "b": None}, None]),
    "list of lists": lambda: pa.array([[[1]], None]),
    "fixed list": lambda: pa.array([[1, 2], None], pa.list_(pa.int64(), 2)),
    "large list": lambda: pa.array([[1], None], pa.large_list(pa.int64())),
}


def _is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    return isinstance(value, str | int | float | bool)


@pytest.mark.parametrize("kind", sorted(_SCALAR_COLUMNS))
def test_every_arrow_type_reads_as_plain_data(kind: str) -> None:
    column = _SCALAR_COLUMNS[kind]()
    rows = _rows(pa.table({"c": column}))
    assert len(rows) == len(column)
    assert all(r.data is not None and _is_plain(r.data) for r in rows), [str(r) for r in rows]


_ARROW_TYPES = st.sampled_from(
    [
        pa.int8(),
        pa.uint64(),
        pa.float16(),
        pa.float64(),
        pa.string(),
        pa.large_string(),
        pa.binary(),
        pa.bool_(),
        pa.date32(),
        pa.date64(),
        pa.timestamp("s"),
        pa.timestamp("ns", tz="UTC"),
        pa.timestamp("ms", tz="+08:00"),
        pa.timestamp("us", tz="Nope/Nope"),
        pa.duration("s"),
        pa.decimal128(10, 3),
        pa.decimal256(60, 0),
        pa.null(),
    ]
)
_NESTED_TYPES = st.recursive(
    _ARROW_TYPES,
    lambda inner: st.one_of(
        inner.map(pa.list_),
        inner.map(pa.large_list),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda kinds: pa.struct([(f"f{i}", k) for i, k in enumerate(kinds)])
        ),
        inner.map(lambda k: pa.map_(pa.string(), k)),
    ),
    max_leaves=4,
)


@st.composite
def _tables(draw: st.DrawFn) -> Any:
    kinds = draw(st.lists(_NESTED_TYPES, min_size=0, max_size=4))
    rows = draw(st.integers(0, 4))
    columns = {}
    for i, kind in enumerate(kinds):
        # Random bytes of the right width: out-of-range dates, NaN, huge numbers.
        storage = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows))
        columns[f"c{i}"] = _column(kind, storage)
    if not columns:
        return pa.table({})
    return pa.table(columns)


def _column(kind: Any, storage: list[int]) -> Any:
    """A column of ``kind`` made from ``storage`` integers where the type is made of
    integers (so that any value can be out of range), a null column otherwise."""
    if pa.types.is_null(kind):
        return pa.nulls(len(storage))
    width = {pa.date32(): pa.int32(), pa.int8(): pa.int8()}.get(kind, pa.int64())
    if pa.types.is_temporal(kind) or kind in (pa.int8(), pa.date32()):
        limit = 2 ** (width.bit_width - 1)
        values = [v % (2 * limit) - limit for v in storage]
        return pa.array(values, width).cast(kind, safe=False)
    try:
        return pa.array([None] * len(storage), kind)
    except (pa.ArrowException, ValueError, TypeError):
        return pa.nulls(len(storage)).cast(kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables())
def test_generated_arrow_tables_read_or_give_input_errors(table: Any) -> None:
    rows = _rows(table)
    assert len(rows) == table.num_rows
    assert [r.index for r in rows] == list(range(table.num_rows))
