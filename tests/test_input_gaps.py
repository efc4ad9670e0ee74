"""Inputs both engines read alike, and inputs no command reads in silence: a UUID column,
columns the columns cannot read (a timestamp in an odd zone, a union), empty case files,
and memory running out anywhere on the command line."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pl = pytest.importorskip("polars")

from collectrules import frame  # noqa: E402
from collectrules.batch.compact import compact_row  # noqa: E402
from collectrules.cli import authoring as authoring_cli  # noqa: E402
from collectrules.cli import batch as batch_cli  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.cli._common import EXIT_MEMORY  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import CollectRulesError, OutOfMemoryError  # noqa: E402
from collectrules.frame import files as frame_files  # noqa: E402
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


# --------------------------------------------------------------------------- empty files


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit status of the command ``args``, and what it wrote on standard error."""
    capsys.readouterr()
    status = main(args)
    return status, capsys.readouterr().err


EMPTY_FILES = [
    ("empty.csv", b"", "an empty file (0 bytes): expected a header line"),
    ("empty.jsonl", b"", "an empty file (0 bytes): expected a case (a JSON object) on each"),
    ("blank.jsonl", b"\n  \n\t\n", "a file of blank lines only (6 bytes of white space)"),
    ("blank.csv", b"\r\n\r\n", "a file of blank lines only (4 bytes of white space)"),
    ("bom.csv", b"\xef\xbb\xbf\n", "a file of blank lines only (4 bytes of white space)"),
    ("empty.json", b"", "an empty file (0 bytes): expected a case (a JSON object) or a list"),
    ("empty.parquet", b"", "an empty file (0 bytes): expected a Parquet file of cases"),
]


@pytest.mark.parametrize(("name", "data", "message"), EMPTY_FILES, ids=[f[0] for f in EMPTY_FILES])
def test_an_empty_case_file_is_refused_by_every_door_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, message: str
) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    engines = ["per-case", "columnar"] if source.suffix in (".csv", ".parquet") else ["per-case"]
    runs = [
        ["batch", str(source), "--out", str(tmp_path / f"{e}.parquet"), "--engine", e]
        for e in engines
    ]
    runs.append(["decide", str(source)])
    for args in runs:
        status, err = _run([*args, "--as-of", AS_OF], capsys)
        assert (status, err) == (2, f"error: {source}: {message}{err.partition(message)[2]}")
        assert err.count("\n") == 1
    assert not list(tmp_path.glob("*.out.*"))


def test_an_empty_file_among_good_ones_refuses_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps(CARD_CASE) + "\n", encoding="utf-8")
    (folder / "b.jsonl").write_bytes(b"")
    status, err = _run(
        ["batch", str(folder), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF], capsys
    )
    assert status == 2
    assert f"{folder / 'b.jsonl'}: an empty file (0 bytes)" in err


def test_blank_lines_in_another_encoding_are_an_empty_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "wide.jsonl"
    source.write_bytes("\ufeff\n\n".encode("utf-16"))
    args = ["batch", str(source), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF]
    status, err = _run([*args, "--encoding", "utf-16"], capsys)
    assert status == 2
    assert "a file of blank lines only" in err


def test_a_csv_header_without_rows_is_an_empty_portfolio_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "header.csv"
    source.write_text(",".join(CARD_CASE) + "\n", encoding="utf-8")
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        args = ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine]
        status, err = _run(args, capsys)
        assert status == 0
        assert err.startswith("0 rows: 0 decided, 0 bad\n")
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_bytes())
    assert outs["columnar"] == outs["per-case"]
    assert pq.read_table(tmp_path / "columnar.parquet").num_rows == 0
    status, err = _run(["decide", str(source), "--as-of", AS_OF, "--format", "json"], capsys)
    assert (status, err) == (0, "0 rows: the input holds no cases\n")
    # Its JSON Lines decisions file is empty: report and changes read it as 0 decisions.
    decisions = tmp_path / "d.jsonl"
    assert _run(["batch", str(source), "--out", str(decisions), "--as-of", AS_OF], capsys)[0] == 0
    assert decisions.read_bytes() == b""
    report = ["report", str(decisions), "--out", str(tmp_path / "r.html")]
    assert _run(report, capsys) == (0, f"report of 0 case(s) in {tmp_path / 'r.html'}\n")
    assert _run(["changes", str(decisions), str(decisions)], capsys)[0] == 0


def test_a_parquet_schema_without_rows_is_an_empty_portfolio_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "none.parquet"
    pq.write_table(_cases(0), source)
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        args = ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine]
        status, err = _run(args, capsys)
        assert (status, err.splitlines()[0]) == (0, "0 rows: 0 decided, 0 bad")
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_bytes())
    assert outs["columnar"] == outs["per-case"]
    status, err = _run(["decide", str(source), "--as-of", AS_OF], capsys)
    assert status == 0
    assert err.endswith("0 rows: the input holds no cases\n")


# --------------------------------------------------------------------------- memory


def _no_memory(*args: Any, **kwargs: Any) -> Any:
    raise MemoryError


OUT_OF_MEMORY = "error: out of memory: the system did not give the command the memory it asked"


def _one_line_out_of_memory(status: int, err: str) -> str:
    assert status == EXIT_MEMORY == 5
    assert err.startswith(OUT_OF_MEMORY)
    assert err.count("\n") == 1
    assert "Traceback" not in err
    return err


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    source = tmp_path / "cases.jsonl"
    rows = [{**CARD_CASE, "case_id": f"M-{i}"} for i in range(3)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return source


def test_memory_running_out_in_decide_is_one_line_and_its_own_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case_file: Path
) -> None:
    monkeypatch.setattr(Engine, "decide", _no_memory)
    _one_line_out_of_memory(*_run(["decide", str(case_file), "--as-of", AS_OF], capsys))


def test_memory_running_out_in_check_is_one_line_and_its_own_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(authoring_cli, "verify", _no_memory)
    _one_line_out_of_memory(*_run(["check", "default"], capsys))


def test_memory_running_out_before_a_batch_runs_is_one_line_and_its_own_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case_file: Path
) -> None:
    monkeypatch.setattr(batch_cli, "engine_for", _no_memory)
    out = case_file.parent / "d.jsonl"
    _one_line_out_of_memory(*_run(["batch", str(case_file), "--out", str(out)], capsys))


def test_memory_running_out_in_a_columnar_batch_is_one_line_and_its_own_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(_cases(3), source)
    monkeypatch.setattr(frame_files, "decide_rows", _no_memory)
    args = ["batch", str(source), "--out", str(tmp_path / "d.parquet"), "--engine", "columnar"]
    _one_line_out_of_memory(*_run([*args, "--as-of", AS_OF], capsys))
    assert not (tmp_path / "d.parquet").exists()


def test_memory_running_out_in_a_batch_stops_it_resumable_not_a_bad_row(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case_file: Path
) -> None:
    """A MemoryError deciding a row was that row's error ("internal error: MemoryError"),
    and the run went on: it is the process's, so the run stops, publishes nothing, and
    resumes to the outputs of an uninterrupted run."""
    folder = case_file.parent
    args = ["batch", str(case_file), "--as-of", AS_OF]
    assert _run([*args, "--out", str(folder / "whole.jsonl")], capsys)[0] == 0
    with monkeypatch.context() as patched:
        patched.setattr(Engine, "decide", _no_memory)
        err = _one_line_out_of_memory(*_run([*args, "--out", str(folder / "d.jsonl")], capsys))
    assert "Nothing was published; run the same command with --resume" in err
    assert not (folder / "d.jsonl").exists()
    assert _run([*args, "--out", str(folder / "d.jsonl"), "--resume"], capsys)[0] == 0
    assert (folder / "d.jsonl").read_bytes() == (folder / "whole.jsonl").read_bytes()


def test_decide_many_raises_a_memory_error_rather_than_blame_the_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Engine, "decide", _no_memory)
    with pytest.raises(OutOfMemoryError) as caught:
        list(Engine("default").decide_many([CARD_CASE], as_of=AS_OF))
    # A collectrules error, and still the builtin for code that catches that.
    assert isinstance(caught.value, CollectRulesError)
    assert isinstance(caught.value, MemoryError)
    assert isinstance(caught.value.__cause__, MemoryError)


def test_an_ignored_binary_column_that_is_not_utf8_spoils_its_row_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A column that is not a case field is ignored, but the per-case reader reads each
    row whole, and binary text that is not UTF-8 is that row's error; the columnar
    engine dropped such a column as if no value of it could spoil a row, and decided
    the row. Both engines now give the same table and errors."""
    table = pa.table(
        {
            "case_id": ["C0"],
            "product": ["loan"],
            "currency": ["CNY"],
            "principal": ["1000"],
            "overdue_amount": ["1000"],
            "due_date": ["2020-01-01"],
            "timezone": ["Asia/Shanghai"],
            "note": pa.array([b"\x80"], pa.binary()),
        }
    )
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    outputs = []
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        args = ["batch", str(source), "--out", str(out), "--engine", engine, "--as-of", AS_OF]
        assert _run(args, capsys)[0] == 1
        errors = out.with_suffix(".errors.jsonl").read_text()
        assert "note: bytes not valid UTF-8" in errors
        outputs.append((pq.read_table(out).num_rows, errors.replace(engine, "")))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 0
