"""The command line: decide and explain, errors as one line, batches that lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from collectrules.cli import main

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
AS_OF = "2026-04-03T12:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_decide_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decide", str(CASES), "--as-of", AS_OF)
    assert code == 0, err
    for case_id, quadrant in [
        ("Q1-TRAVEL", "Q1"),
        ("Q2-HEALTH", "Q2"),
        ("Q2-LONG", "Q2"),
        ("Q3-REFUSE", "Q3"),
        ("Q4-ABSCOND", "Q4"),
    ]:
        line = next(row for row in out.splitlines() if case_id in row)
        assert f"{quadrant} " in line
    assert "default@1.0.0" in out


def test_decide_json_is_the_decision_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "decide", str(CASES / "q3_refuses.json"), "--as-of", AS_OF, "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == "2"
    assert data["quadrant"]["value"] == "Q3"
    assert {a["remedy"] for a in data["allowed"]} >= {"negotiate", "pressure_guarantor", "litigate"}


def test_python_backend_gives_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, durable, _ = run(capsys, "decide", str(CASES), "--as-of", AS_OF, "--format", "json")
    _, python, _ = run(
        capsys, "decide", str(CASES), "--as-of", AS_OF, "--format", "json", "--backend", "python"
    )
    assert durable == python


def test_bad_rows_are_reported_and_good_rows_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.loads((CASES / "q3_refuses.json").read_text())
    bad = dict(good, case_id="BAD-1", due_date="2026-02-30")
    naive = dict(
        good,
        case_id="BAD-2",
        signals=[{"kind": "refused_to_pay", "observed_at": "2026-04-02T10:00:00"}],
    )
    rows = tmp_path / "cases.jsonl"
    rows.write_text("\n".join([json.dumps(good), json.dumps(bad), "{not json", json.dumps(naive)]))
    code, out, err = run(capsys, "decide", str(rows), "--as-of", AS_OF, "--format", "json")
    assert code == 1
    assert json.loads(out)["case_id"] == "Q3-REFUSE"
    lines = err.strip().splitlines()
    assert len(lines) == 3
    assert f"{rows}:2: due_date: expected a date as YYYY-MM-DD, got '2026-02-30'" in lines[0]
    assert f"{rows}:3: invalid JSON" in lines[1]
    assert "signals[0].observed_at: naive datetime; give an offset or a zone" in lines[2]


def test_csv_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "case_id,product,currency,principal,overdue_amount,due_date,timezone,signals\n"
        'C-1,loan,CNY,1000,100,2026-03-31,Asia/Shanghai,"[{""kind"": ""asset_transfer"", '
        '""observed_at"": ""2026-04-02T10:00:00+08:00""}, {""kind"": ""income_loss"", '
        '""observed_at"": ""2026-04-02T10:00:00+08:00""}]"\n'
        "C-2,loan,CNY,-5,100,2026-03-31,Asia/Shanghai,\n"
    )
    code, out, err = run(capsys, "decide", str(path), "--as-of", AS_OF, "--format", "json")
    assert code == 1
    assert json.loads(out)["quadrant"]["value"] == "Q4"
    assert f"{path}:3: principal: must not be negative" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decide", "missing.json"], "no such file or directory"),
        (["decide", str(CASES), "--as-of", "2026-04-03T12:00:00"], "--as-of: naive datetime"),
        (["decide", str(CASES), "--as-of", "tomorrow"], "--as-of: expected an ISO 8601 datetime"),
        (["decide", str(CASES), "--policy", "defualt"], "no shipped policy named 'defualt'"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *args)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_explain_lists_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", str(CASES / "q4_moving_assets.json"), "--as-of", AS_OF)
    assert code == 0
    assert "W-ASSET-TRANSFER" in out
    assert "QUAD-Q4" in out
    assert "R-Q4-LITIGATE" in out
    assert out.index("W-ASSET-TRANSFER") < out.index("QUAD-Q4") < out.index("R-Q4-LITIGATE")


def test_console_script_runs_as_a_process() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "collectrules",
            "decide",
            str(CASES / "q1_travelling.json"),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["quadrant"]["value"] == "Q1"
    bad = subprocess.run(
        [sys.executable, "-m", "collectrules", "decide", str(CASES), "--as-of", "2026-13-01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "Traceback" not in bad.stderr
    assert "--as-of" in bad.stderr


def test_batch_loses_no_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = json.loads((CASES / "q2_health_short.json").read_text())
    rows = [dict(good, case_id=f"G-{i}") for i in range(20)]
    rows.insert(7, dict(good, case_id="BAD", overdue_amount="-1"))
    source = tmp_path / "portfolio.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    out, errors = tmp_path / "decisions.jsonl", tmp_path / "errors.jsonl"
    code, _, stderr = run(
        capsys, "batch", str(source), "--out", str(out), "--errors", str(errors), "--as-of", AS_OF
    )
    assert code == 1
    decided = [json.loads(line) for line in out.read_text().splitlines()]
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    assert len(decided) == 20
    assert len(failed) == 1
    assert failed[0]["where"] == f"{source}:8"
    assert "overdue_amount: must not be negative" in failed[0]["error"]
    assert {d["quadrant"]["value"] for d in decided} == {"Q2"}
    assert "21 rows: 20 decided, 1 bad" in stderr
