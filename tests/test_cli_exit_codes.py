"""One exit-status convention for every command: 0 ok, 1 findings or bad rows, 2 unusable
input, 3 an I/O failure. Each command is run into each status it can give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectrules.cli import main

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
CASE = CASES / "q1_travelling.json"
AS_OF = "2026-04-03T12:00:00+08:00"
OK, BAD, UNUSABLE, IO = 0, 1, 2, 3
PLAN = ["--kind", "extend", "--months", "6", "--rate", "0.06"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A file with one good and one bad row, a missing path, and an unwritable folder."""
    good = json.loads(CASE.read_text(encoding="utf-8"))
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, "case_id": "B", "currency": "RMB"}) + "\n",
        encoding="utf-8",
    )
    gone = tmp_path / "no-such-dir"
    decisions = tmp_path / "decisions.jsonl"
    assert main(["batch", str(CASE), "--out", str(decisions), "--as-of", AS_OF]) == OK
    return {
        "mixed": mixed,
        "missing": tmp_path / "missing.json",
        "unwritable": gone / "golden_x.toml",
        "decisions": decisions,
        "out": tmp_path / "golden_out.toml",
        "batch_out": tmp_path / "out.jsonl",
        "html": tmp_path / "report.html",
        "unwritable_html": gone / "report.html",
    }


CASES_BY_COMMAND: list[tuple[str, list[str], int]] = [
    ("decide", ["decide", "{case}", "--as-of", AS_OF], OK),
    ("decide", ["decide", "{mixed}", "--as-of", AS_OF], BAD),
    ("decide", ["decide", "{missing}", "--as-of", AS_OF], UNUSABLE),
    ("decide", ["decide", "{case}", "--backend", "rete", "--as-of", AS_OF], UNUSABLE),
    ("explain", ["explain", "{case}", "--as-of", AS_OF], OK),
    ("explain", ["explain", "{missing}", "--as-of", AS_OF], UNUSABLE),
    ("timeline", ["timeline", "{case}", "--as-of", AS_OF], OK),
    ("timeline", ["timeline", "{mixed}", "--as-of", AS_OF], BAD),
    ("timeline", ["timeline", "{missing}", "--as-of", AS_OF], UNUSABLE),
    ("batch", ["batch", "{case}", "--out", "{batch_out}", "--as-of", AS_OF], OK),
    ("batch", ["batch", "{mixed}", "--out", "{batch_out}", "--as-of", AS_OF], BAD),
    ("batch", ["batch", "{missing}", "--out", "{batch_out}", "--as-of", AS_OF], UNUSABLE),
    ("golden", ["golden", "{case}", "--out", "{out}", "--as-of", AS_OF], OK),
    ("golden", ["golden", "{mixed}", "--out", "{out}", "--as-of", AS_OF], BAD),
    ("golden", ["golden", "{missing}", "--out", "{out}", "--as-of", AS_OF], UNUSABLE),
    ("golden", ["golden", "{case}", "--out", "{unwritable}", "--as-of", AS_OF], IO),
    ("impact", ["impact", "default", "default", "{case}", "--as-of", AS_OF], OK),
    ("impact", ["impact", "default", "default", "{mixed}", "--as-of", AS_OF], BAD),
    ("impact", ["impact", "default", "default", "{missing}", "--as-of", AS_OF], UNUSABLE),
    ("check", ["check", "default"], OK),
    ("check", ["check", str(ROOT / "tests" / "policies" / "field_typo.toml")], BAD),
    ("check", ["check", "{missing}"], UNUSABLE),
    ("diff", ["diff", "default", "default"], OK),
    ("diff", ["diff", "default", "uk"], BAD),
    ("diff", ["diff", "default", "{missing}"], UNUSABLE),
    ("show", ["show", "default"], OK),
    ("show", ["show", "{missing}"], UNUSABLE),
    ("schema", ["schema", "--kind", "case"], OK),
    ("schema", ["schema", "--kind", "nonsense"], UNUSABLE),
    ("clauses", ["clauses", "Q1"], OK),
    ("clauses", ["clauses", "NO-SUCH-CLAUSE"], UNUSABLE),
    ("contact", ["contact", "{case}", "--channel", "phone", "--at", AS_OF], OK),
    ("contact", ["contact", "{case}", "--channel", "phone", "--at", "2026-04-03T23:30:00+08:00",
                 "--policy", "cn_bank_loan"], BAD),
    ("contact", ["contact", "{missing}", "--channel", "phone", "--at", AS_OF], UNUSABLE),
    ("plan", ["plan", "{q2}", *PLAN, "--as-of", AS_OF], OK),
    ("plan", ["plan", "{missing}", *PLAN], UNUSABLE),
    ("kpis", ["kpis", "{decisions}"], OK),
    ("kpis", ["kpis", "{mixed}"], BAD),
    ("kpis", ["kpis", "{missing}"], UNUSABLE),
    ("kpis", ["kpis", "{decisions}", "--by", "owner"], UNUSABLE),
    ("kpis", ["kpis", "{decisions}", "--by", "bucket", "--bucket-set", "NO-SUCH-SET"], UNUSABLE),
    ("worklist", ["worklist", "{case}", "--as-of", AS_OF], OK),
    ("worklist", ["worklist", "{mixed}", "--as-of", AS_OF], BAD),
    ("worklist", ["worklist", "{missing}", "--as-of", AS_OF], UNUSABLE),
    ("worklist", ["worklist", "{case}", "--backend", "rete", "--as-of", AS_OF], UNUSABLE),
    ("changes", ["changes", "{decisions}", "{decisions}"], OK),
    ("changes", ["changes", "{mixed}", "{decisions}"], BAD),
    ("changes", ["changes", "{missing}", "{decisions}"], UNUSABLE),
    ("report", ["report", "{decisions}", "--out", "{html}"], OK),
    ("report", ["report", "{missing}", "--out", "{html}"], UNUSABLE),
    ("report", ["report", "{decisions}", "--out", "{unwritable_html}"], IO),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "args", "status"),
    CASES_BY_COMMAND,
    ids=[f"{c}-{s}-{i}" for i, (c, _, s) in enumerate(CASES_BY_COMMAND)],
)
def test_every_command_follows_the_exit_status_convention(
    command: str,
    args: list[str],
    status: int,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = {k: str(v) for k, v in files.items()} | {
        "case": str(CASE),
        "q2": str(CASES / "q2_health_short.json"),
    }
    code = main([a.format(**names) for a in args])
    out, err = capsys.readouterr()
    assert code == status, err
    assert "Traceback" not in out + err
    if status in (UNUSABLE, IO):
        assert "error" in (out + err).lower(), out + err


def test_every_command_is_covered() -> None:
    from collectrules.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert names <= {c for c, _, _ in CASES_BY_COMMAND}, names - {c for c, _, _ in CASES_BY_COMMAND}
