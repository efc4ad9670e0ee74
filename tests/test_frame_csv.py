"""The columnar batch reads CSV as the per-case batch does: the same table, the same
error file (each bad row named by its file and line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules.batch import run_batch  # noqa: E402
from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.frame import files  # noqa: E402
from collectrules.frame._csv import LINE, read_csv  # noqa: E402
from collectrules.frame.files import run_columnar  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from collectrules.testing.strategies import cases  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
_COLUMNS = (
    "case_id",
    "product",
    "currency",
    "principal",
    "overdue_amount",
    "due_date",
    "timezone",
    "maturity_date",
    "sicr_rebutted",
    "default_rebutted",
    "signals",
    "events",
    "guarantors",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value) if value else ""
    return str(value)


def write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] = _COLUMNS) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def both(
    tmp_path: Path, inputs: list[Path], policy: str, chunk_rows: int = files.CHUNK_ROWS
) -> tuple[Any, Any, Any]:
    """The columnar (in chunks of ``chunk_rows``) and per-case tables and error files,
    and the columnar run."""
    col_out, case_out = tmp_path / "col.parquet", tmp_path / "case.parquet"
    run = run_columnar(
        inputs, policy=load_policy(policy), out=col_out, as_of=AS_OF, chunk_rows=chunk_rows
    )
    run_batch(inputs, engine=Engine(policy, backend="python"), out=case_out, as_of=AS_OF)
    col = (pq.read_table(col_out), (tmp_path / "col.errors.jsonl").read_text())
    case = (pq.read_table(case_out), (tmp_path / "case.errors.jsonl").read_text())
    return col, case, run


@pytest.mark.parametrize("name", SHIPPED)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_generated_csv_gives_the_per_case_table_and_errors(
    tmp_path: Path, name: str, data: Any
) -> None:
    policy = load_policy(name)
    with_events = data.draw(st.booleans())
    portfolio = data.draw(
        st.lists(cases(policy, as_of=AS_OF, with_events=with_events), min_size=1, max_size=6)
    )
    rows = [{**c.to_dict(), "case_id": f"{c.case_id}-{i}"} for i, c in enumerate(portfolio)]
    path = tmp_path / "cases.csv"
    write_csv(path, rows)
    col, case, _ = both(tmp_path, [path], name)
    assert col[0].equals(case[0])
    assert col[1] == case[1]


def test_a_csv_portfolio_is_decided_by_the_columns(tmp_path: Path) -> None:
    rows = list(generate_rows(Engine("default", backend="python"), 400, bad_every=37))
    rows[3]["case_id"] = "true"  # a boolean in a text cell: per case, which refuses it
    rows[4]["signals"] = [{"kind": "no_such_kind", "observed_at": "2026-06-01T10:00:00+08:00"}]
    rows[5]["events"] = [
        {"kind": "contact_attempt", "at": "2026-06-01T10:00:00+08:00", "outcome": "reached"}
    ]
    rows[6]["signals"] = [{"kind": "refused_to_pay", "observed_at": "2026-06-01T10:00:00Z", "x": 1}]
    rows[7]["sicr_rebutted"] = True
    rows[8]["currency"] = "CN\nY"  # a quoted line break: later rows start a line further
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "a.csv", rows[:250])
    write_csv(folder / "b.csv", rows[250:])
    col, case, run = both(tmp_path, [folder], "default")
    assert col[0].equals(case[0])
    assert col[1] == case[1]
    assert '"line": 11' in col[1]  # the row after the line break, named by its own line
    columnar = sum(f.columnar for f in run.frames)
    per_case = sum(f.per_case for f in run.frames)
    assert columnar + per_case == 400
    assert per_case <= 400 // 37 + 8


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text: "\ufeff" + text,  # a byte order mark
        lambda text: text.replace("\n", "\n\n", 3),  # blank lines
        lambda text: text.replace("\n", "\r", 1),  # a carriage return alone
        lambda text: text + "X,loan,CNY,1,1,2026-01-01,UTC,,,,,,,extra\n",  # too many values
    ],
)
def test_a_csv_file_the_columns_cannot_read_goes_per_case_whole(tmp_path: Path, spoil: Any) -> None:
    rows = list(generate_rows(Engine("default", backend="python"), 30, bad_every=7))
    path = tmp_path / "cases.csv"
    write_csv(path, rows)
    path.write_text(spoil(path.read_text(encoding="utf-8")), encoding="utf-8")
    col, case, run = both(tmp_path, [path], "default")
    assert col[0].equals(case[0])
    assert col[1] == case[1]
    assert run.frames[0].fallback == {"file the columns cannot read": run.batch.rows}


def test_csv_in_parquet_out_uses_the_columnar_engine_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(generate_rows(Engine("default", backend="python"), 50, bad_every=10))
    path = tmp_path / "cases.csv"
    write_csv(path, rows)
    out = tmp_path / "d.parquet"
    assert main(["batch", str(path), "--out", str(out), "--as-of", AS_OF]) == 1
    assert "columnar engine: 45 rows by the columns" in capsys.readouterr().err
    main(["batch", str(path), "--out", str(tmp_path / "e.parquet"), "--as-of", AS_OF,
          "--encoding", "gbk"])  # fmt: skip
    assert "columnar engine:" not in capsys.readouterr().err


def test_csv_files_decided_in_worker_processes_give_the_same_table_and_errors(
    tmp_path: Path,
) -> None:
    """``jobs=2`` over a folder of CSV files (one the columns cannot read, decided per
    case between the others), in chunks of 40 rows: the same table and error file, with
    the same ``file:line``, as one job."""
    rows = list(generate_rows(Engine("default", backend="python"), 300, bad_every=23))
    rows[8]["currency"] = "CN\nY"  # a quoted line break: later rows start a line further
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "a.csv", rows[:120])
    write_csv(folder / "b.csv", rows[120:150])
    spoilt = folder / "b.csv"
    spoilt.write_text("\ufeff" + spoilt.read_text(encoding="utf-8"), encoding="utf-8")
    write_csv(folder / "c.csv", rows[150:])
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.parquet"
        run = run_columnar(
            [folder], policy=load_policy("default"), out=out, as_of=AS_OF, jobs=jobs,
            chunk_rows=40,
        )  # fmt: skip
        errors = (tmp_path / f"jobs{jobs}.errors.jsonl").read_text()
        outputs.append((pq.read_table(out), errors, run.batch.rows, run.batch.bad))
    assert outputs[1][0].equals(outputs[0][0])
    assert outputs[1][1] == outputs[0][1]
    assert outputs[1][2:] == outputs[0][2:] == (300, outputs[0][3])
    assert 'a.csv:25"' in outputs[1][1]  # B-22, a line further for the line break
    assert 'b.csv:19"' in outputs[1][1]  # B-137, from the file decided per case


def test_a_csv_file_is_read_a_chunk_at_a_time_with_its_rows_and_lines(tmp_path: Path) -> None:
    """The file is given in chunks of the size asked (never whole), each row with its
    index and the line it starts on across the chunks, quoted line breaks counted."""
    path = tmp_path / "cases.csv"
    body = [f'C{i},loan,"a\nb"' if i % 3 == 0 else f"C{i},loan,x" for i in range(100)]
    path.write_text("case_id,product,note\n" + "\n".join(body) + "\n", encoding="utf-8")
    parts = read_csv(path, 7)
    assert parts is not None
    chunks = list(parts)
    assert [c.height for c in chunks] == [7] * 14 + [2]
    rows = pl.concat(chunks)
    assert rows.get_column("__row").to_list() == list(range(100))
    lines, line = [], 2
    for i in range(100):
        lines.append(line)
        line += 2 if i % 3 == 0 else 1
    assert rows.get_column(LINE).to_list() == lines
    assert rows.get_column("case_id").to_list() == [f"C{i}" for i in range(100)]


def test_a_csv_portfolio_in_small_chunks_gives_the_per_case_table_and_errors(
    tmp_path: Path,
) -> None:
    """Chunks of 7 rows, quoted line breaks in every fifth row (so chunks start inside
    a run of them) and bad rows: the same table and error file, ``file:line`` included,
    as the per-case batch."""
    rows = list(generate_rows(Engine("default", backend="python"), 120, bad_every=11))
    for row in rows[::5]:
        row["currency"] = "CN\nY"  # a bad row whose record spans two lines
    path = tmp_path / "cases.csv"
    write_csv(path, rows)
    col, case, run = both(tmp_path, [path], "default", chunk_rows=7)
    assert col[0].equals(case[0])
    assert col[1] == case[1]
    assert sum(f.columnar for f in run.frames) > 60
    assert len(run.frames) == 18  # 120 rows, 7 at a time


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (b"case_id\n\xe4\xb8\xad" + b"b" * 20 + b"\n", 2),  # a character split by a block end
        (b"case_id\n\xe4" + b"b" * 20 + b"\n", None),  # a lead byte, then ASCII blocks
        # a lead byte, an ASCII block, then the bytes that would have completed it
        (b"case_id\n\xe4" + b"b" * 9 + b"\xb8\xad\n", None),
        (b"case_id\n" + b"b" * 20 + b"\n\x80", None),  # a stray continuation byte at the end
    ],
    ids=["split character", "lead byte then ASCII", "lead byte, ASCII, rest", "stray byte"],
)
def test_the_first_pass_checks_utf8_across_blocks_it_skips_as_ascii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, lines: int | None
) -> None:
    from collectrules.frame import _csv

    monkeypatch.setattr(_csv, "_BLOCK", 9)  # the character straddles the first block's end
    path = tmp_path / "cases.csv"
    path.write_bytes(text)
    assert _csv._plain_lines(path) == lines


_CELLS = st.text(alphabet='ab,"\n\r中 ', max_size=6)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=st.lists(st.lists(_CELLS, min_size=3, max_size=3), min_size=0, max_size=12),
    rows=st.integers(1, 5),
    block=st.integers(1, 17),
    crlf=st.booleans(),
    last_newline=st.booleans(),
)
def test_a_file_cut_into_chunks_of_records_reads_as_the_whole_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: list[list[str]],
    rows: int,
    block: int,
    crlf: bool,
    last_newline: bool,
) -> None:
    """Cut into chunks of ``rows`` records, read through blocks of a few bytes (so that
    a block ends inside quotes, between a quote pair, between a CR and its LF): each
    chunk is the header and whole records, ``rows`` of them but the last, and the chunks
    read together give the rows Polars reads from the whole file."""
    from collectrules.frame import _csv

    monkeypatch.setattr(_csv, "_CUT_BLOCK", block)
    path = tmp_path / "cut.csv"
    end = "\r\n" if crlf else "\n"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator=end, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["a", "b", "c"])
        writer.writerows(table)
    text = path.read_bytes()
    if not last_newline and text.endswith(end.encode()):
        path.write_bytes(text[: -len(end)])
    header = b"a,b,c" + end.encode()
    chunks = list(_csv._record_chunks(path, rows))
    assert all(c.startswith(header) for c in chunks)
    assert b"".join(c[len(header) :] for c in chunks) == path.read_bytes()[len(header) :]
    parsed = [_csv._parsed(c) for c in chunks]
    assert [p.height for p in parsed[:-1]] == [rows] * (len(parsed) - 1)
    whole = pl.read_csv(path, infer_schema=False, raise_if_empty=False, quote_char='"')
    got = pl.concat(parsed) if parsed else whole.clear()
    assert got.rows() == whole.rows()
