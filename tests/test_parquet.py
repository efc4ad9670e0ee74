"""Parquet: input files and frames, the compact decision table, and rebuilding decisions."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case
from collectrules.batch import run_batch
from collectrules.batch.compact import FIELDS, ParquetSink, compact_row, rebuild_decision
from collectrules.cli import main
from collectrules.engine import Engine
from collectrules.errors import InputError
from collectrules.policy import load_policy
from collectrules.testing import strategies as kit
from test_generated import SHIPPED

pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs pyarrow (the parquet extra)")

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")
_ENGINES: dict[str, Engine] = {}


def _engine(name: str) -> Engine:
    if name not in _ENGINES:
        _ENGINES[name] = Engine(load_policy(name), backend="python")
    return _ENGINES[name]


def _roundtrip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows written by the sink and read back from the Parquet bytes."""
    buffer = io.BytesIO()
    sink = ParquetSink(buffer)
    sink.add(rows)
    sink.close()
    return list(pq.read_table(io.BytesIO(buffer.getvalue())).to_pylist())


@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_compact_row_and_the_case_rebuild_the_decision_json_byte_identical(
    name: str, data: st.DataObject
) -> None:
    engine = _engine(name)
    cases = data.draw(
        st.lists(kit.cases(engine.policy, as_of=AS_OF, with_events=True), min_size=1, max_size=4)
    )
    decided = []
    for case in cases:
        try:
            decided.append((case, engine.decide(case, as_of=AS_OF)))
        except InputError:
            continue
    rows = _roundtrip([compact_row(d) for _, d in decided])
    assert len(rows) == len(decided)
    for (case, decision), row in zip(decided, rows, strict=True):
        assert row["case_id"] == decision.case_id
        assert row["policy_hash"] == engine.policy.content_hash
        assert rebuild_decision(row, engine, case).to_json() == decision.to_json()
        durable = Engine(engine.policy)
        assert rebuild_decision(row, durable, case).to_json() == decision.to_json()


def test_a_row_that_disagrees_is_refused(tmp_path: Path) -> None:
    engine = _engine("default")
    case = make_case()
    row = compact_row(engine.decide(case, as_of=AS_OF))
    with pytest.raises(InputError, match="quadrant"):
        rebuild_decision(
            {**row, "quadrant": "Q1" if row["quadrant"] != "Q1" else "Q2"}, engine, case
        )
    with pytest.raises(InputError, match="policy_hash"):
        rebuild_decision({**row, "policy_hash": "0" * 64}, engine, case)
    with pytest.raises(InputError, match="fired"):
        rebuild_decision({k: v for k, v in row.items() if k != "fired"}, engine, case)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("fired", 5, "fired: expected a list of rule ids, got int 5"),
        ("fired", "R-1", "fired: expected a list of rule ids, got str"),
        ("fired", [5], "fired[0]: expected a text, got int 5"),
        ("classes", 7, "classes: expected a list of (key, value) pairs or a mapping"),
        ("buckets", [5], "buckets: expected a list of (key, value) pairs or a mapping"),
        ("as_of", "noon", "as_of: expected an ISO 8601 datetime with an offset"),
    ],
)
def test_a_row_of_the_wrong_shape_is_an_input_error(column: str, value: Any, message: str) -> None:
    engine = _engine("default")
    case = make_case()
    row = compact_row(engine.decide(case, as_of=AS_OF))
    with pytest.raises(InputError) as info:
        rebuild_decision({**row, column: value}, engine, case)
    assert message in str(info.value)
    with pytest.raises(InputError, match="row: expected a compact row"):
        rebuild_decision([row], engine, case)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="engine: expected an Engine"):
        rebuild_decision(row, engine.policy, case)  # type: ignore[arg-type]


def test_a_row_read_back_with_pandas_rebuilds_its_decision() -> None:
    """pandas reads the list columns as NumPy arrays: the row still rebuilds, and still
    agrees with its decision column for column."""
    pytest.importorskip("pandas")
    engine = _engine("cn_bank_loan")
    case = make_case()
    decision = engine.decide(case, as_of=AS_OF)
    buffer = io.BytesIO()
    sink = ParquetSink(buffer)
    sink.add([compact_row(decision)])
    sink.close()
    row = pq.read_table(io.BytesIO(buffer.getvalue())).to_pandas().iloc[0].to_dict()
    assert type(row["fired"]).__name__ == "ndarray"
    assert rebuild_decision(row, engine, case).to_json() == decision.to_json()


def test_the_table_writer_refuses_what_it_cannot_write_to(tmp_path: Path) -> None:
    from collectrules.batch import OutputError
    from collectrules.batch.compact import TableWriter

    with pytest.raises(InputError, match="sink: cannot write Parquet to it"):
        TableWriter(io.StringIO())
    with pytest.raises(InputError, match="sink: expected a file's path or a binary file"):
        TableWriter(5)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="no such file or directory"):
        TableWriter(tmp_path / "missing" / "d.parquet")
    with pytest.raises(InputError, match="--fields"):
        TableWriter(io.BytesIO(), ["quadrant", "qaudrant"])
    writer = TableWriter(io.BytesIO(), ["case_id"])
    with pytest.raises(InputError, match="table: expected an Arrow table of the decision"):
        writer.write(pa.table({"case_id": [1]}))
    writer.close()


@pytest.mark.parametrize(
    ("rows", "where", "message"),
    [
        ("rows", "rows", "expected a list of compact rows"),
        (["x"], "rows[0]", "expected a compact row"),
        ([{"case_id": 5}], "rows[0].case_id", "expected a text, got int 5"),
        ([{"allowed": "extension"}], "rows[0].allowed", "expected a list of texts"),
        ([{"fired": ["a", 7]}], "rows[0].fired[1]", "expected a text"),
        ([{"classes": "cn"}], "rows[0].classes", "expected a mapping of texts"),
        ([{"buckets": [("dpd",)]}], "rows[0].buckets[0]", "a (key, value) pair of texts"),
        ([{"buckets": {"dpd": 30}}], "rows[0].buckets[0]", "a (key, value) pair of texts"),
        ([{}, {"qaudrant": "x"}], "rows[1].qaudrant", "unknown column 'qaudrant'"),
        ([{5: "x"}], "rows[0].5", "unknown column '5'"),
        ([{"case_id": "A\ud800"}], "rows[0].case_id", "a lone surrogate"),
        ([{"fired": ["ok", "\udcff"]}], "rows[0].fired[1]", "a lone surrogate"),
        ([{"classes": {"cn": "\ud800"}}], "rows[0].classes[0]", "a lone surrogate"),
    ],
)
def test_the_sink_refuses_a_row_of_the_wrong_shape(rows: Any, where: str, message: str) -> None:
    """Each row is checked when added, before any is kept: a value Arrow would have
    refused at the end (an integer id), or written as something else (a text as a list
    of its letters), or a column no table has, is an InputError naming its place."""
    buffer = io.BytesIO()
    sink = ParquetSink(buffer)
    with pytest.raises(InputError) as caught:
        sink.add([{"case_id": "kept-before"}, *rows] if isinstance(rows, list) else rows)
    shifted = where.replace("rows[1]", "rows[2]").replace("rows[0]", "rows[1]")
    assert caught.value.problems[0].path == (shifted if isinstance(rows, list) else where)
    assert message in str(caught.value)
    sink.close()  # nothing of the refused call was kept
    assert pq.read_table(io.BytesIO(buffer.getvalue())).num_rows == 0


def test_the_sink_writes_maps_given_as_mappings_or_pairs_and_nulls() -> None:
    buffer = io.BytesIO()
    sink = ParquetSink(buffer, ["case_id", "fired", "classes", "buckets"])
    sink.add(
        [
            {"case_id": "A", "fired": ("r1", "r2"), "classes": {"cn": "M1"}, "buckets": []},
            {"case_id": None, "quadrant": "ignored: not a column of this sink"},
        ]
    )
    sink.close()
    assert pq.read_table(io.BytesIO(buffer.getvalue())).to_pylist() == [
        {"case_id": "A", "fired": ["r1", "r2"], "classes": [("cn", "M1")], "buckets": []},
        {"case_id": None, "fired": None, "classes": None, "buckets": None},
    ]


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_PAIRS = st.lists(st.tuples(_TEXT, _TEXT), max_size=4)


@st.composite
def _compact_rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {"row": draw(st.none() | st.integers(-(2**63), 2**63 - 1))}
    for name in FIELDS:
        if name in ("allowed", "blocked", "fired"):
            value: Any = st.lists(_TEXT, max_size=5)
        elif name in ("classes", "buckets"):
            value = _PAIRS
        else:
            value = _TEXT
        row[name] = draw(st.none() | value)
    return row


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(_compact_rows(), max_size=8))
def test_rows_become_the_table_pyarrow_makes_of_them(rows: list[dict[str, Any]]) -> None:
    """The pandas-free builder (each column from its buffers) gives the table pyarrow's
    own converter gives, valid to the last byte, for the decision table's schema and
    the columnar engine's (large types, key/value structs), with nulls, empty lists and
    any text."""
    import importlib

    from collectrules.batch import _arrow
    from collectrules.batch.compact import table_schema

    schemas = [table_schema(), table_schema(["case_id", "buckets"])]
    if importlib.util.find_spec("polars") is not None:
        frame_decide = importlib.import_module("collectrules.frame.decide")
        schemas.append(frame_decide._PER_CASE_ARROW)
    for schema in schemas:
        expected = pa.Table.from_pylist([_as_pyarrow_reads(r, schema) for r in rows], schema=schema)
        built = _arrow.table_from_rows(rows, schema)
        built.validate(full=True)
        assert built.equals(expected)


def _as_pyarrow_reads(row: dict[str, Any], schema: Any) -> dict[str, Any]:
    """A row as ``Table.from_pylist`` reads it: pairs as key/value dicts for a struct."""
    out = dict(row)
    for field in schema:
        value = out[field.name]
        if (
            value is not None
            and pa.types.is_large_list(field.type)
            and pa.types.is_struct(field.type.value_type)
        ):
            out[field.name] = [{"key": k, "value": v} for k, v in value]
    return out


def make_case(case_id: str = "P-1", **extra: Any) -> Case:
    return Case.from_dict(case_dict(case_id, **extra))


def case_dict(case_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "CNY",
        "principal": "10000",
        "overdue_amount": "500",
        "due_date": "2026-05-01",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": "promise_broken", "observed_at": "2026-06-20T10:00:00+08:00"},
            {"kind": "cash_coverage", "observed_at": "2026-06-21T10:00:00+08:00", "value": "0.4"},
        ],
        **extra,
    }


def portfolio(count: int) -> list[dict[str, Any]]:
    rows = [case_dict(f"P-{i}", overdue_amount=str(100 + 37 * i)) for i in range(count)]
    rows[3]["principal"] = "-5"  # a bad row
    return rows


# --------------------------------------------------------------------------- the batch


def test_batch_writes_a_compact_parquet_table_in_input_order(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in portfolio(30)), "utf-8")
    out = tmp_path / "decisions.parquet"
    engine = _engine("default")
    summary = run_batch([source], engine=engine, out=out, as_of=AS_OF, chunk_rows=7)
    assert (summary.decided, summary.bad) == (29, 1)
    table = pq.read_table(out)
    assert table.column_names == list(FIELDS)
    rows = table.to_pylist()
    assert [r["case_id"] for r in rows] == [f"P-{i}" for i in range(30) if i != 3]
    errors = [json.loads(line) for line in (tmp_path / "decisions.errors.jsonl").open()]
    assert [e["case_id"] for e in errors] == ["P-3"]
    first = engine.decide(make_case("P-0", overdue_amount="100"), as_of=AS_OF)
    assert rows[0]["quadrant"] == first.quadrant.value
    assert rows[0]["allowed"] == [g.remedy.value for g in first.allowed]
    assert rows[0]["fired"] == [f.rule_id for f in first.trace]
    assert not list(tmp_path.glob("*.partial"))
    assert not list(tmp_path.glob("*.progress"))


def test_fields_pick_the_columns_in_table_order(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in portfolio(5)), "utf-8")
    out = tmp_path / "d.parquet"
    run_batch(
        [source], engine=_engine("default"), out=out, as_of=AS_OF, fields=["quadrant", "case_id"]
    )
    assert pq.read_table(out).column_names == ["case_id", "quadrant"]


def test_parquet_output_refuses_resume_and_bad_fields(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(json.dumps(case_dict("P-0")) + "\n", "utf-8")
    engine = _engine("default")
    with pytest.raises(InputError, match="cannot be resumed"):
        run_batch([source], engine=engine, out=tmp_path / "d.parquet", as_of=AS_OF, resume=True)
    with pytest.raises(InputError, match="unknown column 'quadrnt'") as caught:
        run_batch([source], engine=engine, out=tmp_path / "d.parquet", as_of=AS_OF,
                  fields=["quadrnt"])  # fmt: skip
    assert caught.value.problems[0].suggestion == "quadrant"
    with pytest.raises(InputError, match=r"name an --out ending in \.parquet"):
        run_batch(
            [source], engine=engine, out=tmp_path / "d.jsonl", as_of=AS_OF, fields=["case_id"]
        )
    assert not (tmp_path / "d.parquet").exists()


def test_parquet_input_decides_as_json_lines_do(tmp_path: Path) -> None:
    rows = portfolio(12)
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    # typed columns: a decimal, a date, timestamps with a zone, nested signals
    table = pa.Table.from_pylist(
        [
            {
                **r,
                "principal": Decimal(r["principal"]),
                "due_date": dt.date.fromisoformat(r["due_date"]),
                "signals": [
                    {**s, "observed_at": dt.datetime.fromisoformat(s["observed_at"])}
                    for s in r["signals"]
                ],
            }
            for r in rows
        ]
    )
    assert pa.types.is_timestamp(
        table.schema.field("signals").type.value_type.field("observed_at").type
    )
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    engine = _engine("cn_bank_loan")
    run_batch([jsonl], engine=engine, out=tmp_path / "a.jsonl", as_of=AS_OF)
    run_batch([source], engine=engine, out=tmp_path / "b.jsonl", as_of=AS_OF)

    def decisions(path: Path) -> list[str]:
        return [
            json.dumps({k: v for k, v in json.loads(x).items() if k != "input"})
            for x in path.open()
        ]

    assert decisions(tmp_path / "a.jsonl") == decisions(tmp_path / "b.jsonl")
    bad = [json.loads(x) for x in (tmp_path / "b.errors.jsonl").open()]
    assert [(b["case_id"], b["input"]["index"]) for b in bad] == [("P-3", 3)]


def test_decide_many_takes_a_pyarrow_table() -> None:
    rows = portfolio(6)
    engine = _engine("default")
    by_dicts = [
        r.decision.to_json() if r.decision else None for r in engine.decide_many(rows, as_of=AS_OF)
    ]
    table = pa.Table.from_pylist(rows)
    by_table = [
        r.decision.to_json() if r.decision else None for r in engine.decide_many(table, as_of=AS_OF)
    ]
    assert by_table == by_dicts
    assert by_table[3] is None


def test_decide_many_takes_a_pandas_frame() -> None:
    pd = pytest.importorskip("pandas", reason="the pandas path needs pandas installed")
    rows = portfolio(4)
    engine = _engine("default")
    frame = pd.DataFrame(rows)
    results = list(engine.decide_many(frame, as_of=AS_OF))
    expected = list(engine.decide_many(rows, as_of=AS_OF))
    assert [r.ok for r in results] == [r.ok for r in expected]
    assert [r.decision.to_json() for r in results if r.decision] == [
        r.decision.to_json() for r in expected if r.decision
    ]


def test_cli_batch_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in portfolio(5)), "utf-8")
    out = tmp_path / "d.parquet"
    code = main(["batch", str(source), "--out", str(out), "--as-of", "2026-06-30T12:00:00+08:00",
                 "--fields", "case_id,quadrant,allowed"])  # fmt: skip
    assert code == 1  # one bad row
    assert pq.read_table(out).column_names == ["case_id", "quadrant", "allowed"]
    code = main(["batch", str(source), "--out", str(out), "--resume"])
    assert code == 2
    assert "cannot be resumed" in capsys.readouterr().err


def test_workers_write_the_same_table(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in portfolio(40)), "utf-8")
    engine = _engine("default")
    run_batch([source], engine=engine, out=tmp_path / "one.parquet", as_of=AS_OF, chunk_rows=6)
    run_batch(
        [source], engine=engine, out=tmp_path / "two.parquet", as_of=AS_OF, chunk_rows=6, jobs=2
    )
    one = pq.read_table(tmp_path / "one.parquet").to_pylist()
    assert pq.read_table(tmp_path / "two.parquet").to_pylist() == one
    assert len(one) == 39


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), max_size=12),
    group=st.integers(1, 25),
)
def test_the_table_writer_cuts_the_same_row_groups_however_rows_arrive(
    sizes: list[int], group: int
) -> None:
    """Rows written in any pieces give row groups of exactly ``ROW_GROUP_ROWS`` (the
    last one fewer), and the same bytes as all of them written at once: so the
    per-case batch, the columnar engine and their worker processes write the same file."""
    from collectrules.batch import compact

    rows = [
        {"case_id": f"C-{i}", "quadrant": "Q1", "fired": ["R-1"] * (i % 3), "classes": []}
        for i in range(sum(sizes))
    ]
    fields = ("case_id", "quadrant", "fired", "classes")
    schema = compact.table_schema(fields)
    table = pa.Table.from_pylist(rows, schema=schema)
    written = []
    old = compact.ROW_GROUP_ROWS
    compact.ROW_GROUP_ROWS = group
    try:
        for pieces in (sizes, [sum(sizes)]):
            buffer = io.BytesIO()
            with compact.TableWriter(buffer, fields) as writer:
                start = 0
                for size in pieces:
                    writer.write(table.slice(start, size))
                    start += size
            written.append(buffer.getvalue())
    finally:
        compact.ROW_GROUP_ROWS = old
    assert written[0] == written[1]
    back = pq.ParquetFile(io.BytesIO(written[0]))
    groups = [back.metadata.row_group(i).num_rows for i in range(back.metadata.num_row_groups)]
    assert sum(groups) == len(rows)
    assert all(g == group for g in groups[:-1])
    assert not groups or 0 < groups[-1] <= group
    assert back.read().to_pylist() == table.to_pylist()
