"""Every command that takes ``--as-of`` names that option, as typed, when its instant
is bad; ``contact`` names its ``--at``."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectrules.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASES = str(EXAMPLES / "cases")
ONE = str(EXAMPLES / "timeline_case.json")


def _commands(tmp: Path) -> dict[str, list[str]]:
    return {
        "decide": ["decide", CASES],
        "timeline": ["timeline", ONE],
        "batch": ["batch", CASES, "--out", str(tmp / "d.jsonl")],
        "batch columnar": ["batch", CASES, "--out", str(tmp / "d.parquet"), "--engine", "per-case"],
        "worklist": ["worklist", CASES],
        "impact": ["impact", "default", "default", CASES],
        "golden": ["golden", CASES, "--out", str(tmp / "golden_x.toml")],
        "plan": ["plan", ONE, "--kind", "restructure", "--months", "12", "--rate", "0.05"],
    }


@pytest.mark.parametrize(
    "command",
    ["decide", "timeline", "batch", "batch columnar", "worklist", "impact", "golden", "plan"],
)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-04-03T12:00:00", "--as-of: naive datetime; give an offset or a zone"),
        ("tomorrow", "--as-of: expected an ISO 8601 datetime with an offset, got 'tomorrow'"),
        ("0001-01-01T00:00:00+00:00", "--as-of: instant 0001-01-01 is outside the years 1900–2200"),
    ],
)
def test_a_bad_as_of_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, value: str, message: str
) -> None:
    code = main([*_commands(tmp_path)[command], "--as-of", value])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"error: {message}"
    assert not any(tmp_path.iterdir())  # nothing written


def test_contact_names_its_at_option(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contact", ONE, "--at", "2026-04-03T12:00:00", "--channel", "phone"])
    assert code == 2
    assert (
        capsys.readouterr().err.strip() == "error: --at: naive datetime; give an offset or a zone"
    )
