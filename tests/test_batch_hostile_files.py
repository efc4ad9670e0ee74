"""Hostile case files through ``collectrules batch`` on both engines: the same table and
error file byte for byte, or the same refusal, and only collectrules errors.

Each example is a file one engine once read differently from the other, or refused in
words that did not say what was expected.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("polars")

from collectrules.cli import main  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
ROW = {
    "case_id": "C-1",
    "product": "credit_card",
    "currency": "CNY",
    "principal": "1000",
    "overdue_amount": "100",
    "due_date": "2026-02-21",
    "timezone": "Asia/Shanghai",
}


def both_engines(tmp_path: Path, source: Path, *extra: str) -> dict[str, tuple[int, bytes, str]]:
    """Per engine: the exit status, the table's bytes and the error file."""
    runs = {}
    for engine in ("per-case", "columnar"):
        out = tmp_path / f"{engine}.parquet"
        code = main(
            ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine,
             *extra]
        )  # fmt: skip
        errors = tmp_path / f"{engine}.errors.jsonl"
        runs[engine] = (
            code,
            out.read_bytes() if out.exists() else b"",
            errors.read_text(encoding="utf-8") if errors.exists() else "",
        )
    return runs


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Etc/GMT+12", "Pacific/Kiritimati"])
def test_a_due_date_on_the_last_supported_day_is_decided_by_both_engines(
    tmp_path: Path, kind: str, zone: str
) -> None:
    """A due date of 2200-12-31 is a valid case field: the per-case engine decides it.
    The columnar engine asked for the first day overdue (2201-01-01) as if it were an
    ``as_of`` and stopped the whole run with exit status 2, blaming ``as_of``."""
    rows = [dict(ROW), dict(ROW, case_id="C-2", due_date="2200-12-31", timezone=zone)]
    if kind == "csv":
        source = _csv(tmp_path / "cases.csv", rows)
    else:
        source = tmp_path / "cases.parquet"
        pq.write_table(pa.Table.from_pylist(rows), source)
    runs = both_engines(tmp_path, source)
    assert runs["columnar"][0] == runs["per-case"][0] == 0
    assert runs["columnar"][1:] == runs["per-case"][1:]
    assert pq.read_table(tmp_path / "columnar.parquet").num_rows == 2
