"""The command line's conventions: JSON Lines, tables at the terminal's width, progress
only on a terminal, labels in the language of --lang, and one back-end default."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from collectrules.cli import app, main
from collectrules.cli._common import DEFAULT_BACKEND

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
AS_OF = "2026-04-03T12:00:00+08:00"
_MAIN = "import sys; from collectrules.cli import main; sys.exit(main(sys.argv[1:]))"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("command", ["decide", "timeline"])
def test_json_is_one_object_per_line_for_one_case_or_many(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    one = CASES / "q1_travelling.json"
    code, out, _ = run(capsys, command, str(one), "--as-of", AS_OF, "--format", "json")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["case_id"] == "Q1-TRAVEL"
    if command == "decide":
        code, out, _ = run(capsys, command, str(CASES), "--as-of", AS_OF, "--format", "json")
        assert code == 0
        decisions = [json.loads(line) for line in out.splitlines()]
        assert len(decisions) == len(list(CASES.glob("*.json")))
        assert all(isinstance(d, dict) for d in decisions)


def test_a_table_fits_the_terminal() -> None:
    result = cli("decide", str(CASES), "--as-of", AS_OF, env={"COLUMNS": "72", "FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    widths = [len(ANSI.sub("", line)) for line in result.stdout.splitlines()]
    assert max(widths) <= 72
    assert "Q4-ABSC" in ANSI.sub("", result.stdout)


def test_piped_a_table_keeps_its_rows_whole_and_draws_no_progress() -> None:
    result = cli("decide", str(CASES), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert any(
        "Q2-HEALTH" in line and "Q2 willing and unable" in line
        for line in result.stdout.splitlines()
    )
    assert result.stderr == ""  # no progress bar, no control codes, when not a terminal


def test_lang_zh_gives_chinese_labels_for_every_level(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES / "q2_health_short.json")
    code, out, _ = run(capsys, "decide", case, "--as-of", AS_OF, "--lang", "zh")
    assert code == 0
    for label in ("案件", "象限", "还款意愿", "还款能力", "有还款意愿", "第二类"):
        assert label in out
    code, out, _ = run(capsys, "explain", case, "--as-of", AS_OF, "--lang", "zh")
    assert code == 0
    assert "第二类" in out
    assert "还款意愿: willing (有还款意愿)" in out
    code, out, _ = run(capsys, "decide", case, "--as-of", AS_OF, "--format", "json")
    levels = json.loads(out)["levels"]
    assert all(level["label_en"] and level["label_zh"] for level in levels.values()), levels


def test_every_deciding_command_has_backend_with_the_same_default() -> None:
    deciding = {"decide", "explain", "timeline", "batch", "golden", "impact", "plan", "worklist"}
    seen = {}
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__
        params = inspect.signature(command.callback).parameters
        if "backend" in params:
            seen[name] = params["backend"].default
    assert set(seen) == deciding
    assert set(seen.values()) == {DEFAULT_BACKEND}


@pytest.mark.durable
def test_both_back_ends_decide_the_same_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outs = []
    for backend in ("python", "durable"):
        code, out, _ = run(
            capsys, "decide", str(CASES), "--as-of", AS_OF, "--format", "json", "--backend", backend
        )
        assert code == 0
        outs.append(
            [
                {k: v for k, v in json.loads(line).items() if k != "engine"}
                for line in out.splitlines()
            ]
        )
    assert outs[0] == outs[1]


def _words(text: str) -> str:
    return " ".join(re.sub("[│╭╮╰╯─]", " ", ANSI.sub("", text)).split())


def test_help_flows_each_paragraph_and_keeps_bracketed_text() -> None:
    """Help is Markdown: a docstring's paragraph is one paragraph, however its source is
    wrapped, and text in square brackets (a TOML table's name) is shown, not taken as
    Rich markup."""
    from typer.main import get_command

    group = get_command(app)
    wide = {"COLUMNS": "400"}
    listing = cli("--help", env=wide)
    assert listing.returncode == 0, listing.stderr
    lines = [_words(line) for line in listing.stdout.splitlines()]
    commands = getattr(group, "commands", {})
    assert len(commands) >= 15
    for name, command in commands.items():
        summary = " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())
        summary = summary.replace("``", "")
        # The command's summary on the one line of the listing that names it.
        assert any(line.startswith(f"{name} {summary}") for line in lines), (name, summary)
    batch = _words(cli("batch", "--help", env=wide).stdout)
    assert "Exit status: 0 all rows decided, 1 some rows bad, 2 unusable input," in batch
    assert "[columns] loan_no = 'case_id'" in batch
    assert ".parquet, or directories of them" in batch
    money = _words(cli("plan", "--help", env=wide).stdout)
    assert "[money] section" in money
