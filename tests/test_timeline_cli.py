"""``collectrules timeline``: the example case through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectrules.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "timeline_case.json"
AS_OF = "2026-04-11T09:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_example_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "timeline", str(EXAMPLE), "--as-of", AS_OF)
    assert code == 0, err
    assert "TL-DEMO-1 (loan) under default@1.0.0" in out
    assert "contact hours 08:00–22:00" in out
    rows = {
        line.split("│")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert " done " in rows["L-24H"]
    # Promised on 1 April for 8 April: beyond 3 days, so the visit was not deferred
    # (L-PROMISE3); due on 4 April, it is breached.
    assert " breached " in rows["L-3D"]
    assert "2026-04-04 00:00" in rows["L-3D"]
    assert " skipped " in rows["L-UNREACHABLE"]
    assert "[phone]" in rows["L-24H"]  # markup-like text is printed as it is
    assert "satisfied" in out  # the guarantor was claimed against within the period
    assert "what to do next" in out
    actions = out[out.index("what to do next") :]
    assert actions.index("1. L-3D breached") < actions.index("2. L-2W open")
    assert "1. L-3D breached (breached since 2026-04-04 00:00)" in actions
    assert "\x1b[" not in out  # not a terminal: no colour codes


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collectrules", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**{k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}, **env},
        cwd=ROOT,
    )


def test_statuses_are_coloured_on_a_terminal() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    result = subprocess.run(
        [sys.executable, "-m", "collectrules", "timeline", str(EXAMPLE), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "200"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[32mdone" in out  # green
    assert "\x1b[36mopen" in out  # cyan
    assert "\x1b[2mskipped" in out  # dim
    plain = _cli("timeline", str(EXAMPLE), "--as-of", AS_OF)
    assert plain.returncode == 0, plain.stderr
    assert "\x1b[" not in plain.stdout


def test_example_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "timeline", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["case_id"] == "TL-DEMO-1"
    assert data["next_actions"] == ["L-3D", "L-2W"]
    statuses = {s["id"]: s["status"] for s in data["steps"]}
    assert statuses == {
        "L-DUE": "done",
        "L-24H": "done",
        "L-UNREACHABLE": "skipped",
        "L-3D": "breached",
        "L-4-7D": "done",
        "L-2W": "open",
    }
    limitation, guarantee, enforcement = data["deadlines"]
    assert limitation["started_by"] == "demand_delivered on 2026-04-10"
    assert limitation["last_day"] == "2029-04-10"
    assert guarantee["status"] == "satisfied"
    assert enforcement["status"] == "not_started"
    assert data["promises"][0]["status"] == "broken"


def test_policy_option_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "timeline", str(EXAMPLE), "--as-of", AS_OF, "--policy", "uk", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["calendar"] == "GB-ENG"
    code, _, err = run(capsys, "timeline", str(EXAMPLE), "--as-of", "2026-04-11T09:00:00")
    assert code == 2
    assert err.startswith("error: --as-of: naive datetime")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"case_id": "B", "product": "lorry"}), encoding="utf-8")
    code, _, err = run(capsys, "timeline", str(bad), "--as-of", AS_OF)
    assert code == 2
    assert "product" in err


def test_the_installed_command_runs_the_example() -> None:
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "collectrules",
            "timeline",
            str(EXAMPLE),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan"] == "loan"
