"""``--unknown-signals error|ignore`` on every command that decides: a signal kind the
policy does not know makes its row bad by default; ignored, the row is decided and the
count is shown."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from collectrules.cli import app, main
from collectrules.cli._common import DEFAULT_UNKNOWN_SIGNALS, UnknownSignals

ROOT = Path(__file__).parent.parent
CASE = ROOT / "examples" / "cases" / "q2_health_short.json"
AS_OF = "2026-04-03T12:00:00+08:00"
PLAN = ["--kind", "extend", "--months", "6", "--rate", "0.06"]
UNKNOWN = {"kind": "salary_delayed", "observed_at": "2026-04-02T09:00:00+08:00"}

#: The commands that decide cases.
DECIDING = {"decide", "explain", "timeline", "batch", "golden", "impact", "worklist", "plan"}


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """One good case and one whose signals include a kind no shipped policy knows."""
    good = json.loads(CASE.read_text(encoding="utf-8"))
    odd = {**good, "case_id": "ODD", "signals": [*good["signals"], UNKNOWN, UNKNOWN]}
    both = tmp_path / "both.jsonl"
    both.write_text(json.dumps(good) + "\n" + json.dumps(odd) + "\n", encoding="utf-8")
    one = tmp_path / "odd.json"
    one.write_text(json.dumps(odd), encoding="utf-8")
    return {"both": both, "one": one, "tmp": tmp_path}


# (command, arguments, exit status with "error", the words that report the row)
MULTI: list[tuple[str, list[str]]] = [
    ("decide", ["decide", "{both}", "--as-of", AS_OF]),
    ("timeline", ["timeline", "{both}", "--as-of", AS_OF]),
    ("batch", ["batch", "{both}", "--out", "{tmp}/out.jsonl", "--as-of", AS_OF]),
    ("golden", ["golden", "{both}", "--out", "{tmp}/golden_x.toml", "--as-of", AS_OF]),
    ("worklist", ["worklist", "{both}", "--as-of", AS_OF]),
    ("impact", ["impact", "default", "cn_bank_loan", "{both}", "--as-of", AS_OF]),
]
SINGLE: list[tuple[str, list[str]]] = [
    ("explain", ["explain", "{one}", "--as-of", AS_OF]),
    ("plan", ["plan", "{one}", *PLAN, "--as-of", AS_OF]),
]


def _argv(args: list[str], inputs: dict[str, Path], mode: str) -> list[str]:
    return [a.format(**inputs) for a in args] + ["--unknown-signals", mode]


@pytest.mark.parametrize(("command", "args"), MULTI, ids=[c for c, _ in MULTI])
def test_an_unknown_signal_is_a_bad_row_by_default(
    command: str, args: list[str], inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(args, inputs, "error"))
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "salary_delayed" in out + err
    assert "both.jsonl:2" in out + err
    # the same without the option: error is the default
    default = [a.format(**inputs) for a in args]
    if command in ("batch", "golden"):
        (inputs["tmp"] / "out.jsonl").unlink(missing_ok=True)
        (inputs["tmp"] / "golden_x.toml").unlink(missing_ok=True)
    assert main(default) == 1
    capsys.readouterr()


@pytest.mark.parametrize(("command", "args"), MULTI, ids=[c for c, _ in MULTI])
def test_ignored_unknown_signals_are_decided_and_counted(
    command: str, args: list[str], inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(args, inputs, "ignore"))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    text = out + err
    if command == "impact":
        # neither policy knows the kind: both ignore it, in one case
        assert "signals the champion does not know, ignored (cases): salary_delayed 1" in text
        assert "signals the challenger does not know, ignored (cases): salary_delayed 1" in text
    elif command == "batch":
        assert "ignored_signals: cases 1, signals 2" in text
        rows = (inputs["tmp"] / "out.jsonl").read_text(encoding="utf-8").splitlines()
        odd = json.loads(rows[1])
        assert odd["case_id"] == "ODD"
        assert odd["ignored_signals"] == 2
    else:
        assert "ignored signals (unknown kinds): 2 (salary_delayed 2)" in text
    if command == "golden":
        written = (inputs["tmp"] / "golden_x.toml").read_text(encoding="utf-8")
        assert "ODD" in written
        assert "salary_delayed" not in written  # the golden input is what was decided


@pytest.mark.parametrize(("command", "args"), SINGLE, ids=[c for c, _ in SINGLE])
def test_one_case_with_an_unknown_signal(
    command: str, args: list[str], inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(args, inputs, "error")) == 2  # the one case is unusable
    _, err = capsys.readouterr()
    assert "salary_delayed" in err
    assert main(_argv(args, inputs, "ignore")) == 0
    out, err = capsys.readouterr()
    assert "ignored signals (unknown kinds): 2 (salary_delayed 2)" in out + err


def test_ignored_decisions_match_the_same_case_without_the_signal(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ignoring a signal decides as if it were not there, on both back ends."""
    good = json.loads(CASE.read_text(encoding="utf-8"))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({**good, "case_id": "ODD"}), encoding="utf-8")
    for backend in ("python", "durable"):
        base = ["decide", "--as-of", AS_OF, "--format", "json", "--backend", backend]
        assert main([*base, str(plain)]) == 0
        expected = json.loads(capsys.readouterr()[0])
        assert main([*base, str(inputs["one"]), "--unknown-signals", "ignore"]) == 0
        got = json.loads(capsys.readouterr()[0])
        assert got.pop("ignored_signals") == 2
        assert got == expected


def test_a_bad_mode_is_unusable_input(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decide", str(inputs["one"]), "--unknown-signals", "drop"]) == 2
    _, err = capsys.readouterr()
    assert "--unknown-signals" in err


def test_the_columnar_engine_refuses_to_ignore(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["batch", str(inputs["both"]), "--out", str(inputs["tmp"] / "o.parquet"),
            "--engine", "columnar", "--unknown-signals", "ignore", "--as-of", AS_OF]  # fmt: skip
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert "--unknown-signals ignore need --engine per-case" in err


def test_every_deciding_command_takes_the_shared_option() -> None:
    seen = set()
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__
        params = inspect.signature(command.callback).parameters
        if name in DECIDING:
            seen.add(name)
            assert params["unknown_signals"].default is DEFAULT_UNKNOWN_SIGNALS, name
    assert seen == DECIDING
    assert DEFAULT_UNKNOWN_SIGNALS is UnknownSignals.ERROR
