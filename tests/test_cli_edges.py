"""The command line on edge inputs: empty history folders, currencies that change between
runs, repeated case ids, empty policy ids, byte order marks, rates past their precision."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from collectrules.cli import main

ROOT = Path(__file__).parent.parent
CASE = ROOT / "examples" / "cases" / "q3_refuses.json"
PLAN_CASE = ROOT / "examples" / "cases" / "q2_health_short.json"
PORTFOLIO = ROOT / "examples" / "impact" / "portfolio.jsonl"
POLICY = ROOT / "examples" / "custom_policy" / "policy.toml"
AS_OF = "2026-04-03T12:00:00+08:00"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decisions of a small batch run."""
    out = tmp_path_factory.mktemp("run") / "run.jsonl"
    assert main(["batch", str(PORTFOLIO), "--out", str(out), "--as-of", AS_OF]) == 0
    return out


# ------------------------------------------------------------- contact --history DIR


@pytest.mark.parametrize("content", [None, "notes.txt"])
def test_contact_history_folder_without_event_files_is_unusable(
    tmp_path: Path, content: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder without case files was read as no history: exit 0, the contact
    judged on the case's own events only. Every other input refuses it with 2."""
    folder = tmp_path / "history"
    folder.mkdir()
    if content is not None:
        (folder / content).write_text("called three times today\n", encoding="utf-8")
    args = ["contact", str(CASE), "--channel", "phone", "--at", AS_OF, "--history", str(folder)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "a directory without case files" in err
    assert str(folder) in err


# ------------------------------------------------------------- contact --at


def test_contact_names_its_at_option_in_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad --at was reported as 'as_of', an option contact does not have."""
    args = ["contact", str(CASE), "--channel", "phone", "--at", "2026-04-03T12:00:00"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --at: naive datetime")


# ------------------------------------------------------------- policy id ""


def test_a_policy_with_an_empty_id_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``id = ""`` loaded, and every decision named its policy ''; the schema's pattern
    refuses it."""
    text = POLICY.read_text(encoding="utf-8").replace('id = "example-lender"', 'id = ""', 1)
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    assert main(["decide", str(CASE), "--policy", str(policy), "--as-of", AS_OF]) == 2
    err = capsys.readouterr().err
    assert f"{policy}:9: id: expected a letter" in err
    assert main(["check", str(policy)]) == 1


# ------------------------------------------------------------- policy with a BOM


def test_a_toml_policy_with_a_byte_order_mark_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was 'TOML syntax error, column 1: Invalid statement'."""
    policy = tmp_path / "policy.toml"
    policy.write_bytes(b"\xef\xbb\xbf" + POLICY.read_bytes())
    assert main(["show", str(policy)]) == 2
    err = capsys.readouterr().err
    assert f"{policy}:1: TOML syntax error" in err
    assert "byte order mark" in err


# ------------------------------------------------------------- kpis


def test_kpis_leave_out_a_case_whose_currency_changed_between_runs(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """5,000 CNY owed, then 10 JPY, was counted as 4,990 CNY recovered."""
    rows = _lines(run)
    closing = copy.deepcopy(rows)
    closing[1]["facts"]["currency"] = "JPY"
    closing[1]["facts"]["overdue_amount"] = "10"
    new = _write(tmp_path / "new.jsonl", closing)
    assert main(["kpis", str(new), "--previous", str(run), "--format", "json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    cny = total["recovery_rate_amount"]["CNY"]
    assert cny["numerator"] == "0.00"
    opening = sum(int(r["facts"]["overdue_amount"]) for i, r in enumerate(rows) if i != 1)
    assert cny["denominator"] == f"{opening}.00"
    assert any("currency differs" in n and rows[1]["case_id"] in n for n in total["notes"])


@pytest.mark.parametrize(
    ("amount", "says"),
    [("1e-400", "too small"), ("1." + "0" * 70, "at most 64 characters")],
)
def test_kpis_hold_decision_amounts_to_the_money_limits(
    run: Path, tmp_path: Path, amount: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """'1e-400' was read, and the recovery printed as 5000.000000000000000000000000."""
    rows = _lines(run)
    rows[1]["facts"]["overdue_amount"] = amount
    bad = _write(tmp_path / "bad.jsonl", rows)
    assert main(["kpis", str(bad), "--previous", str(run), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert "bad.jsonl:2: facts.overdue_amount: " in captured.err
    assert says in captured.err
    total = json.loads(captured.out)["total"]
    numerator = total["recovery_rate_amount"]["CNY"]["numerator"]
    assert re.fullmatch(r"[0-9]+\.[0-9]{2}", numerator), numerator  # to the fen, no further


@pytest.mark.parametrize("command", ["kpis", "changes"])
def test_a_decision_whose_quadrant_is_not_an_object_names_quadrant(
    run: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said 'facts: expected an object', naming the field that was fine."""
    rows = _lines(run)
    rows[1]["quadrant"] = None
    bad = _write(tmp_path / "bad.jsonl", rows)
    args = [command, str(bad)] if command == "kpis" else [command, str(run), str(bad)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl:2: quadrant: expected an object, got None" in err


# ------------------------------------------------------------- golden


def test_golden_reports_a_repeated_case_id_where_it_is_and_writes_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole file was refused with exit 2 and 'case_id: duplicate case id', naming
    no file and no line, where the help promises bad rows reported and the rest written."""
    case = json.loads(CASE.read_text(encoding="utf-8"))
    rows = [{**case, "case_id": "A"}, {**case, "case_id": "B"}, {**case, "case_id": "A"}]
    cases = _write(tmp_path / "cases.jsonl", rows)
    out = tmp_path / "golden_x.toml"
    assert main(["golden", str(cases), "--out", str(out), "--as-of", AS_OF]) == 1
    err = capsys.readouterr().err
    assert (
        f"error: {cases}:3: case_id: case 'A' appears twice (decided at {cases}:1); expected"
        " each case once" in err
    )
    text = out.read_text(encoding="utf-8")
    assert text.count("[[cases]]") == 2


def test_decide_decides_each_case_id_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A case id in two files of a folder was decided twice, both shown and counted."""
    case = json.loads(CASE.read_text(encoding="utf-8"))
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("a.json", "b.json"):
        (folder / name).write_text(json.dumps(case), encoding="utf-8")
    assert main(["decide", str(folder), "--as-of", AS_OF, "--format", "json"]) == 1
    captured = capsys.readouterr()
    first, second = folder / "a.json", folder / "b.json"
    assert (
        f"error: {second}: case_id: case '{case['case_id']}' appears twice (decided at"
        f" {first}); expected each case once" in captured.err
    )
    assert json.loads(captured.out)["case_id"] == case["case_id"]  # one decision: an object


def test_decide_prints_each_decision_as_it_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``decide --format json`` held every decision until the last row was decided, so
    its memory grew with the portfolio; each line is now printed before the next row is
    decided, with the same bytes."""
    from collectrules import Engine
    from collectrules.cli import _common

    case = json.loads(CASE.read_text(encoding="utf-8"))
    cases = _write(tmp_path / "cases.jsonl", [{**case, "case_id": f"C-{i}"} for i in range(3)])
    assert main(["decide", str(cases), "--as-of", AS_OF, "--format", "json"]) == 0
    whole = capsys.readouterr().out
    events: list[str] = []
    decide, echo = Engine.decide, _common.echo

    def deciding(self: Engine, *args: Any, **kwargs: Any) -> Any:
        events.append("decide")
        return decide(self, *args, **kwargs)

    def printing(text: str, **kwargs: Any) -> None:
        events.append("print")
        echo(text, **kwargs)

    monkeypatch.setattr(Engine, "decide", deciding)
    monkeypatch.setattr(_common, "echo", printing)
    assert main(["decide", str(cases), "--as-of", AS_OF, "--format", "json"]) == 0
    assert events == ["decide", "print"] * 3
    assert capsys.readouterr().out == whole
    assert [json.loads(line)["case_id"] for line in whole.splitlines()] == ["C-0", "C-1", "C-2"]


@pytest.mark.parametrize(
    "args", [["timeline"], ["impact", "default", "uk"]], ids=["timeline", "impact"]
)
def test_timeline_and_impact_take_each_case_id_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """A case id on two rows was planned twice, or counted twice in the impact report."""
    case = json.loads(CASE.read_text(encoding="utf-8"))
    rows = [case, {**case, "case_id": "B"}, case]
    cases = _write(tmp_path / "cases.jsonl", rows)
    assert main([*args, str(cases), "--as-of", AS_OF, "--format", "json"]) == 1
    captured = capsys.readouterr()
    said = f"case_id: case '{case['case_id']}' appears twice (decided at {cases}:1)"
    if args[0] == "timeline":
        assert f"error: {cases}:3: {said}; expected each case once" in captured.err
        assert [json.loads(line)["case_id"] for line in captured.out.splitlines()] == [
            case["case_id"],
            "B",
        ]
    else:
        report = json.loads(captured.out)
        assert (report["total"], report["decided"]) == (3, 2)
        assert [e["error"] for e in report["errors"]] == [f"{said}; expected each case once"]


def test_impact_compares_each_case_id_once() -> None:
    from collectrules.authoring.changes import impact

    case = json.loads(CASE.read_text(encoding="utf-8"))
    report = impact("default", "uk", [case, case, {**case, "case_id": "B"}], as_of=AS_OF)
    assert (report.total, report.decided) == (3, 2)
    assert report.errors == (
        (
            "case 2",
            "input",
            f"case_id: case '{case['case_id']}' appears twice (decided at cases[0]); expected"
            " each case once",
        ),
    )


# ------------------------------------------------------------- plan --rate


@pytest.mark.parametrize("option", ["--rate", "--penalty-rate"])
@pytest.mark.parametrize(
    ("rate", "says"), [("1e-400", "too small"), ("0.060000000000000000000001", "significant")]
)
def test_plan_refuses_a_rate_past_its_precision(
    option: str, rate: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--rate 1e-400`` was accepted: the agreement stated a rate of 0.000…0001 % in
    400 characters (100,000 for 1e-100000)."""
    terms = {"--rate": "0.06", "--penalty-rate": "0.09", option: rate}
    args = ["plan", str(PLAN_CASE), "--policy", "cn_bank_loan", "--as-of", AS_OF]
    args += ["--kind", "extend", "--months", "6"]
    for name, value in terms.items():
        args += [name, value]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option}: annual rate ")
    assert says in err


def test_plan_still_takes_zero_and_ordinary_rates(capsys: pytest.CaptureFixture[str]) -> None:
    for rate in ("0", "0.0", "0.06", "1e-12"):
        args = ["plan", str(PLAN_CASE), "--policy", "cn_bank_loan", "--as-of", AS_OF]
        assert main([*args, "--kind", "extend", "--months", "6", "--rate", rate]) == 0


# ------------------------------------------------------------- clauses


@pytest.mark.parametrize(
    ("given", "hint"), [("q1", "Q1"), ("q2-short", "Q2-SHORT"), ("cn-limitaton", "CN-LIMITATION")]
)
def test_clauses_suggest_an_id_written_in_another_case(
    given: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The help promises the closest known id; an id in small letters got none."""
    assert main(["clauses", given]) == 2
    assert f"(did you mean '{hint}'?)" in capsys.readouterr().err


# ------------------------------------------------------------- table widths

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("command", ["changes", "worklist"])
def test_changes_and_worklist_tables_fit_the_terminal(
    run: Path,
    tmp_path: Path,
    command: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/cli.md: tables take the terminal's width. ``changes`` printed 160 columns and
    ``worklist`` 200 on an 80-column terminal, whose lines then wrapped into a mess."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes the capture for a terminal
    monkeypatch.setenv("COLUMNS", "80")
    rows = _lines(run)
    for row in rows:
        row["quadrant"]["value"] = "Q4"  # every case moves: the widest tables
    later = _write(tmp_path / "later.jsonl", rows)
    if command == "changes":
        args = ["changes", str(run), str(later)]
    else:
        args = ["worklist", str(ROOT / "examples" / "cases"), "--as-of", AS_OF]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert max(len(_ANSI.sub("", line)) for line in out.splitlines()) <= 80
