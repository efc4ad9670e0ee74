"""What the readers take and refuse, the same way on every engine: a long CSV cell, bytes
that are not UTF-8 in a Parquet binary column, a surrogate escape in a CSV cell, dates
and instants in forms nobody means, Python's own words for a long number or deep
nesting, and ``--resume`` on the columnar engine."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from collectrules import Case, InputError
from collectrules.cli import main
from helpers import AS_OF, case_dict

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("polars")

HEADER = ["case_id", "product", "currency", "principal", "overdue_amount", "due_date",
          "timezone", "signals"]  # fmt: skip


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows:
            cells = [row.get(n) for n in HEADER]
            writer.writerow(
                ["" if c is None else json.dumps(c) if isinstance(c, list) else c for c in cells]
            )
    return path


def _both_engines(tmp_path: Path, source: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the batch on both engines; assert they write the same table and error file,
    and return the table's rows and the errors."""
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine])
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_text())
    assert outs["columnar"] == outs["per-case"]
    rows = pq.read_table(tmp_path / "columnar.parquet").to_pylist()
    errors = [json.loads(line)["error"] for line in outs["columnar"][1].splitlines()]
    return rows, errors


def test_a_csv_cell_past_the_csv_modules_own_bound_is_read_by_both_engines(
    tmp_path: Path,
) -> None:
    signal = {"kind": "refused_to_pay", "observed_at": "2026-04-02T10:30:00+08:00"}
    long = [{**signal, "note": "n" * 1000}] * 200  # a cell of about 260,000 characters
    row = {**case_dict(case_id="LONG-1"), "signals": long}
    source = _csv(
        tmp_path / "long.csv", [row, {**case_dict(case_id="SHORT-1"), "signals": [signal]}]
    )
    assert len(json.dumps(long)) > 131_072
    rows, errors = _both_engines(tmp_path, source)
    assert errors == []
    assert [r["case_id"] for r in rows] == ["LONG-1", "SHORT-1"]
    assert rows[0]["quadrant"] == rows[1]["quadrant"]


def test_text_that_is_not_utf8_in_a_parquet_binary_column_is_the_rows_error(
    tmp_path: Path,
) -> None:
    base = {k: v for k, v in case_dict(case_id="x").items() if k != "case_id"}
    ids = [b"L-\xff", b"L-\xfe", b"L-ok"]
    table = pa.table(
        {"case_id": pa.array(ids, type=pa.binary()), **{k: [v] * 3 for k, v in base.items()}}
    )
    source = tmp_path / "binary.parquet"
    pq.write_table(table, source)
    rows, errors = _both_engines(tmp_path, source)
    assert [r["case_id"] for r in rows] == ["L-ok"]
    # two rows, two errors of their own: no id made up, no false repeat
    assert errors == ["case_id: bytes not valid UTF-8 at byte 3: expected text"] * 2


def test_a_lone_surrogate_escape_in_a_csv_cell_is_refused_by_both_engines(
    tmp_path: Path,
) -> None:
    signal = {"kind": "refused_to_pay", "observed_at": "2026-04-02T10:30:00+08:00"}
    source = tmp_path / "surrogate.csv"
    _csv(source, [
        {**case_dict(case_id="S-1"), "signals": [{**signal, "note": "NOTE"}]},
        {**case_dict(case_id="S-1"), "signals": [signal]},  # the same id, after a refused row
        {**case_dict(case_id="S-2"), "signals": [{**signal, "note": "\U0001f600"}]},
    ])  # fmt: skip
    text = source.read_text(encoding="utf-8")
    assert "\\ud83d\\ude00" in text  # json.dumps escapes the emoji as a (valid) pair
    source.write_text(text.replace("NOTE", "\\ud800"), encoding="utf-8")
    rows, errors = _both_engines(tmp_path, source)
    assert [r["case_id"] for r in rows] == ["S-1", "S-2"]  # the second S-1 row is decided
    assert len(errors) == 1
    assert errors[0].startswith("signals[0].note: invalid Unicode at character 1 (a lone")


@pytest.mark.parametrize(
    "text", ["2026-W13", "2026-W13-2", "2026W132", "20260331", "2026-3-31", "２０２６-03-31"]
)
def test_a_date_is_yyyy_mm_dd_and_nothing_else(text: str) -> None:
    with pytest.raises(InputError) as info:
        Case.from_dict({**case_dict(case_id="D-1"), "due_date": text})
    assert str(info.value).endswith(f"due_date: expected a date as YYYY-MM-DD, got {text!r}")


@pytest.mark.parametrize(
    "text",
    [
        "2026-W14-4T10:30+08:00",
        "20260402T103000+0800",
        "2026-04-02T10+08:00",
        "2026-04-02T10:30:00,5+08:00",
        "2026-04-02T10:30:00+0800",
        "2026-04-02T10:30:00+08",
    ],
)
def test_an_instant_is_refused_in_the_forms_nobody_means(text: str) -> None:
    signal = {"kind": "refused_to_pay", "observed_at": text}
    with pytest.raises(InputError) as info:
        Case.from_dict({**case_dict(case_id="I-1"), "signals": [signal]})
    expected = f"signals[0].observed_at: expected an ISO 8601 datetime with an offset, got {text!r}"
    assert str(info.value).endswith(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2026-04-02T10:30+08:00",
        "2026-04-02T10:30:00Z",
        "2026-04-02 10:30:00+08:00",
        "2026-04-02T10:30:00.123456-05:00",
        "1900-04-02T10:30:00+08:05:43",  # a zone's historical offset, with its seconds
    ],
)
def test_an_instant_in_the_usual_forms_is_read(text: str) -> None:
    signal = {"kind": "refused_to_pay", "observed_at": text}
    case = Case.from_dict({**case_dict(case_id="I-1"), "signals": [signal]})
    assert case.signals[0].observed_at.utcoffset() is not None


def test_a_json_file_names_a_long_number_and_deep_nesting_in_the_readers_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = json.dumps(case_dict(case_id="J-1")).replace(
        '"principal": "100000"', '"principal": ' + "9" * 5001
    )
    assert "9" * 5001 in row
    (tmp_path / "long.json").write_text(row, encoding="utf-8")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    cell = "[" * 100_000 + "]" * 100_000
    _csv(tmp_path / "deep.csv", [{**case_dict(case_id="C-1"), "signals": None}])
    deep_csv = tmp_path / "deep.csv"
    deep_csv.write_text(deep_csv.read_text(encoding="utf-8").rstrip("\n") + cell + "\n")
    for name in ("long.json", "deep.json", "deep.csv"):
        main(["decide", str(tmp_path / name), "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert "a number of 5,001 digits, more than can be read" in err
    assert "long.json: invalid JSON, column" in err
    assert "deep.json: invalid JSON: nested too deeply" in err
    # (Python 3.13's decoder reads deeper than 3.11's before its recursion limit: the
    # row is then refused for its shape, in the reader's words too.)
    assert (
        "deep.csv:2: signals: invalid JSON: nested too deeply" in err
        or "deep.csv:2: signals[0][0][0]: nested deeper than" in err
    ), err
    assert "sys.set_int_max_str_digits" not in err
    assert "recursion" not in err


def test_the_columnar_engine_refuses_resume_as_the_per_case_engine_does(tmp_path: Path) -> None:
    source = _csv(tmp_path / "c.csv", [{**case_dict(case_id="R-1"), "signals": None}])
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        code = main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--resume",
                     "--engine", engine])  # fmt: skip
        assert code == 2
        assert not out.exists()
