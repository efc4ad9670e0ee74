"""Inputs both engines read alike, and inputs no command reads in silence: a UUID column,
columns the columns cannot read (a timestamp in an odd zone, a union), empty case files,
and memory running out anywhere on the command line."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pl = pytest.importorskip("polars")

from collectrules import frame  # noqa: E402
from collectrules.batch.compact import compact_row  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from helpers import AS_OF, CARD_CASE  # noqa: E402
from test_frame import columnar  # noqa: E402

SEEN = "2026-04-02T10:30:00+08:00"
IDS = [uuid.UUID(int=1), uuid.UUID("8f14e45f-ceea-467a-9575-e6d2c3b6b4a1")]


def _cases(rows: int = 2, **columns: Any) -> Any:
    """``rows`` card cases as an Arrow table, ids C0, C1, …, with ``columns`` replacing
    or adding."""
    table = {k: pa.array([v] * rows) for k, v in CARD_CASE.items()}
    table["case_id"] = pa.array([f"C{i}" for i in range(rows)])
    return pa.table(table | columns)


def _uuids() -> Any:
    return pa.array([u.bytes for u in IDS], pa.uuid())


def _per_case(table: Any) -> tuple[dict[int, Any], dict[int, tuple[str | None, str]]]:
    """``decide_many``'s compact rows and errors (case id, text) by row."""
    decided, errors = {}, {}
    for result in Engine("default", backend="python").decide_many(table, as_of=AS_OF):
        if result.decision is not None:
            decided[result.index] = compact_row(result.decision)
        else:
            text = str(result.error).replace("(decided at rows[", "(decided at cases[")
            errors[result.index] = (result.case_id, text)
    return decided, errors


def _columnar(result: Any) -> tuple[dict[int, Any], dict[int, tuple[str | None, str]]]:
    """``frame.decide``'s compact rows and errors, as :func:`_per_case` gives them."""
    decided, _ = columnar(result)
    return decided, {e.row: (e.case_id, str(e.error)) for e in result.errors}


def _assert_same(cases: Any, signals: Any = None) -> Any:
    """``frame.decide`` on ``cases`` (and the long ``signals``) gives ``decide_many``'s
    decisions and errors on ``cases``; the result."""
    result = frame.decide(cases, signals, as_of=AS_OF)
    assert _columnar(result) == _per_case(cases)
    return result


# --------------------------------------------------------------------------- UUIDs


def test_a_uuid_case_id_is_its_canonical_text_on_both_engines() -> None:
    cases = _cases(case_id=_uuids())
    result = _assert_same(cases)
    assert result.decisions.get_column("case_id").to_list() == [str(u) for u in IDS]
    assert (result.summary.columnar, result.errors) == (2, ())


def test_uuid_case_ids_join_a_signals_table_of_uuid_case_ids() -> None:
    signal = {"kind": "refused_to_pay", "observed_at": SEEN}
    nested = pa.array([[signal], []])
    signals = pa.table(
        {"case_id": pa.array([IDS[0].bytes], pa.uuid()), **{k: [v] for k, v in signal.items()}}
    )
    long = frame.decide(_cases(case_id=_uuids()), signals, as_of=AS_OF)
    assert _columnar(long) == _per_case(_cases(case_id=_uuids(), signals=nested))
    assert long.summary.orphans == 0
    fired = long.decisions.get_column("fired").to_list()
    assert "W-REFUSED-TO-PAY" in fired[0]
    assert "W-REFUSED-TO-PAY" not in fired[1]


def test_a_uuid_inside_a_signal_is_its_canonical_text_on_both_engines() -> None:
    note = pa.ExtensionArray.from_storage(pa.uuid(), pa.array([IDS[1].bytes], pa.binary(16)))
    signal = pa.StructArray.from_arrays(
        [pa.array(["refused_to_pay"]), pa.array([SEEN]), note], ["kind", "observed_at", "note"]
    )
    signals = pa.ListArray.from_arrays(pa.array([0, 1, 1]), signal, mask=pa.array([False, True]))
    result = _assert_same(_cases(signals=signals))
    assert (result.summary.decided, result.summary.bad) == (2, 0)


def test_a_uuid_case_id_in_a_parquet_file_is_read_by_the_columns_as_the_per_case_batch_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(_cases(case_id=_uuids()), source)
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        args = ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine]
        assert main(args) == 0
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_bytes())
    assert outs["columnar"] == outs["per-case"]
    ids = pq.read_table(tmp_path / "columnar.parquet").column("case_id").to_pylist()
    assert ids == [str(u) for u in IDS]
    assert "2 rows by the columns, 0 by the per-case" in capsys.readouterr().err


# ------------------------------------------------- columns the columns cannot read


ZONES = ["+0800", "localtime", "Etc/Unknown", "+23:59", "Bogus/Zone"]


@pytest.mark.parametrize("zone", ZONES)
def test_a_case_column_in_an_odd_zone_decides_the_rows_without_a_value_in_it(zone: str) -> None:
    at = pa.array([dt.datetime(2026, 5, 1, tzinfo=dt.UTC), None], pa.timestamp("us", zone))
    result = _assert_same(_cases(maturity_date=at))
    assert result.decisions.get_column("row").to_list() == [1]
    assert [e.row for e in result.errors] == [0]
    assert str(result.errors[0].error).startswith("maturity_date: ")


@pytest.mark.parametrize("zone", ZONES)
def test_nested_signals_in_an_odd_zone_are_read_per_case(zone: str) -> None:
    kind = pa.struct([("kind", pa.string()), ("observed_at", pa.timestamp("us", zone))])
    at = dt.datetime(2026, 4, 2, 2, 30, tzinfo=dt.UTC)
    signals = pa.array([[{"kind": "refused_to_pay", "observed_at": at}], None], pa.list_(kind))
    _assert_same(_cases(signals=signals))


def test_a_union_column_decides_the_rows_without_a_value_in_it() -> None:
    union = pa.UnionArray.from_sparse(
        pa.array([0, 1, 0], pa.int8()), [pa.array([1, None, None]), pa.array(["a", None, None])]
    )
    result = _assert_same(_cases(3, extra=union))
    assert result.decisions.get_column("row").to_list() == [1, 2]
    assert [(e.row, str(e.error)) for e in result.errors] == [(0, "extra: unknown field")]


def test_a_table_of_case_ids_the_columns_cannot_read_is_decided_per_case() -> None:
    ids = pa.UnionArray.from_sparse(pa.array([0, 0], pa.int8()), [pa.array(["U-1", "U-2"])])
    result = _assert_same(_cases(case_id=ids))
    assert (result.summary.decided, result.summary.per_case) == (2, 2)
    assert result.decisions.get_column("case_id").to_list() == ["U-1", "U-2"]
