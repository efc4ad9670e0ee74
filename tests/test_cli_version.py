"""``collectrules --version``, and the how-to's impact command on its shipped example files."""

from __future__ import annotations

from pathlib import Path

import pytest

import collectrules
from collectrules.cli import main

ROOT = Path(__file__).parent.parent


def test_version_is_printed_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"collectrules {collectrules.__version__}"
    assert collectrules.__version__ == "0.1.0"


def test_the_impact_example_of_the_howto_runs_on_its_files(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    howto = (ROOT / "docs" / "howto-verify.md").read_text(encoding="utf-8")
    command = next(
        line.removeprefix("$ collectrules ").split()
        for line in howto.splitlines()
        if line.startswith("$ collectrules impact ")
    )
    for path in command[2:4]:
        assert (ROOT / path).is_file(), path
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "cases: 4, decided under both: 4" in out
    assert "cases: 4, decided under both: 4" in howto
