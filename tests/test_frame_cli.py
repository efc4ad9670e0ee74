"""``collectrules batch`` on the columnar engine: the same table and error file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    rows: list[dict[str, Any]] = list(
        generate_rows(Engine("default", backend="python"), 300, bad_every=37)
    )
    for row in rows:  # pyarrow takes the columns from the first row
        row["events"] = None
    rows[5]["events"] = [
        {"kind": "contact_attempt", "at": "2026-06-01T10:00:00+08:00", "outcome": "reached"}
    ]
    rows[6]["signals"] = [{"kind": "no_such_kind", "observed_at": "2026-06-01T10:00:00+08:00"}]
    path = tmp_path / "portfolio.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
def test_both_engines_write_the_same_table_and_errors(
    tmp_path: Path, portfolio: Path, policy: str
) -> None:
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        code = main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy", policy,
             "--engine", engine]
        )  # fmt: skip
        assert code == 1  # some rows are bad
        outs[engine] = (pq.read_table(out), (tmp_path / f"{engine}.errors.jsonl").read_text())
    columnar, per_case = outs["columnar"], outs["per-case"]
    assert columnar[0].equals(per_case[0])
    assert columnar[1] == per_case[1]
    assert columnar[0].num_rows + len(columnar[1].splitlines()) == 300


def test_parquet_in_and_out_uses_the_columnar_engine_by_default(
    tmp_path: Path, portfolio: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "decisions.parquet"
    main(["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert "columnar engine:" in err
    assert "per case, has events: 1" in err
    main(["batch", str(portfolio), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF])
    assert "columnar engine:" not in capsys.readouterr().err


def test_the_columnar_engine_refuses_json_lines_output(tmp_path: Path, portfolio: Path) -> None:
    code = main(
        ["batch", str(portfolio), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF,
         "--engine", "columnar"]
    )  # fmt: skip
    assert code == 2
    assert not (tmp_path / "d.jsonl").exists()


def test_an_unknown_engine_is_refused(tmp_path: Path, portfolio: Path) -> None:
    code = main(
        ["batch", str(portfolio), "--out", str(tmp_path / "d.parquet"), "--as-of", AS_OF,
         "--engine", "turbo"]
    )  # fmt: skip
    assert code == 2
