"""The authoring commands: check, show, diff, impact and schema."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from collectrules.cli import main

POLICIES = Path(__file__).parent / "policies"
AS_OF = "2026-04-03T12:00:00+08:00"
SEEN = "2026-04-02T10:30:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- check


def test_check_a_clean_policy_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "default")
    assert code == 0
    # no error; the one warning says that the timeline's state the remedy rules read was
    # explored from cases without events
    assert out.splitlines()[-1] == "result: 0 errors, 2 warnings"
    assert "[unverified] guarantee_days_left, guarantee_running, limitation_days_left" in out


def test_check_reports_errors_then_warnings_with_the_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "check", str(POLICIES / "gap.toml"))
    assert code == 1
    lines = out.splitlines()
    errors, warnings = lines.index("errors (1):"), lines.index("warnings (3):")
    assert errors < warnings
    assert lines[errors + 1].startswith("  [gap] layer 'quadrant': no rule matches")
    case = json.loads(lines[errors + 2].split("case:", 1)[1])
    assert case["timezone"] == "UTC"
    assert lines[errors + 3].strip().startswith("as_of:")
    assert (
        lines[warnings + 1] == "  [unreachable] layer 'quadrant': value 'Q4' is never given "
        "to any case"
    )
    assert lines[warnings + 2].startswith("  [unverified] guarantee_days_left, ")
    assert lines[warnings + 3].startswith(
        "  [unverified] remedies: reads absconded_open, assets_cover_claim, "
    )
    assert lines[-1] == "result: 1 error, 3 warnings"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("overlap.toml", "[overlap] layer 'quadrant' is unique, but rules 'QUAD-Q1' and 'QUAD-Q2'"),
        ("shadowed.toml", "[unreachable] layer 'ability': rule 'A-NO-COVERAGE' is shadowed"),
        (
            "conflict.toml",
            "[conflict] remedies[R-NEGOTIATE] allows and remedies[R-Q4-NO-NEGOTIATE] blocks",
        ),
        (
            "unknown_citation.toml",
            "unknown_citation.toml:12: remedies[R-Q4-OUTSOURCE].cites: unknown clause 'Q5'",
        ),
        (
            "field_typo.toml",
            "remedies[R-Q2-extend].when: unknown name 'recovery_month': "
            "neither a fact field nor a parameter of the policy "
            "(did you mean 'recovery_months'?)",
        ),
        ("cycle_a.toml", "extends: extends cycle:"),
        ("injection.toml", "remedies[R-PWNED].when: a function call is not allowed"),
    ],
)
def test_check_exits_1_on_each_broken_policy(
    capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    code, out, _ = run(capsys, "check", str(POLICIES / name))
    assert code == 1
    assert text in out


def test_check_exits_2_on_unusable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n[parameters\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", str(bad))
    assert code == 2
    assert f"{bad}:2: TOML syntax error, column 12" in out
    code, out, _ = run(capsys, "check", str(tmp_path / "missing.toml"))
    assert code == 2
    code, _, _ = run(capsys, "check", "no-such-policy")
    assert code == 2


@pytest.mark.parametrize("shape", ["larger than the limit", "nested too deep"])
def test_check_exits_2_on_a_policy_file_too_large_or_too_deep_to_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    # Unusable input, as a syntax error or bytes that are not UTF-8 are: the file was
    # not read as a policy at all. Both exited 1, as if the policy had findings.
    bad = tmp_path / "bad.toml"
    if shape == "larger than the limit":
        bad.write_text('id = "x"\n# ' + "x" * 3_000_000 + "\n", encoding="utf-8")
        message = "policy file larger than"
    else:
        bad.write_text('id = "x"\na = ' + "[" * 100 + "]" * 100 + "\n", encoding="utf-8")
        message = "a policy file may nest tables and arrays at most"
    code, out, _ = run(capsys, "check", str(bad))
    assert code == 2
    assert message in out


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(POLICIES / "conflict.toml"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert data["load_errors"] == []
    (error,) = data["errors"]
    assert error["kind"] == "conflict"
    assert error["rule_ids"] == ["R-NEGOTIATE", "R-Q4-NO-NEGOTIATE"]
    assert error["counterexample"]["expect"] == {
        "conflict": ["R-NEGOTIATE", "R-Q4-NO-NEGOTIATE"],
        "remedy": "negotiate",
    }
    code, out, _ = run(capsys, "check", str(POLICIES / "field_typo.toml"), "--format", "json")
    assert code == 1
    (problem,) = json.loads(out)["load_errors"]
    assert problem["path"] == "remedies[R-Q2-extend].when"
    assert problem["line"] == 11
    assert problem["suggestion"] == "recovery_months"


def test_strict_fails_on_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.toml"
    path.write_text('extends = "default"\n[parameters.spare]\nvalue = 1\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert "[dead_parameter] parameters.spare: no rule uses parameter 'spare'" in out
    code, _, _ = run(capsys, "check", str(path), "--strict")
    assert code == 1


# --------------------------------------------------------------------------- show


@pytest.fixture
def child(tmp_path: Path) -> Path:
    path = tmp_path / "child.toml"
    path.write_text(
        """
extends = "default"
id = "child"
disable = ["R-Q1-GRACE"]

[parameters.recovery_horizon_months]
value = 12

[[layers]]
id = "ability"

[[layers.rules]]
id = "A-SHORT"
when = "income_loss >= 1 and recovery_months <= recovery_horizon_months"
value = "temporarily_unable"
reason = "Replaced."

[[remedies.rules]]
id = "R-CHILD"
effect = "allow"
remedies = ["visit"]
when = "quadrant == 'Q3'"
reason = "Visit."
""",
        encoding="utf-8",
    )
    return path


def test_show_gives_effective_rules_and_their_origins(
    child: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", str(child))
    assert code == 0
    assert f"extends: {child} -> <default>" in out
    assert f"recovery_horizon_months = 12  [{child} (overrides <default>)]" in out
    assert "coverage_able = 1.0  [<default>]" in out
    assert (
        f"A-SHORT: = temporarily_unable when income_loss >= 1 and recovery_months <= "
        f"recovery_horizon_months  [{child} (replaces <default>)]"
    ) in out
    assert "W-LIED-ABOUT-CAUSE: = unwilling when lied_about_cause >= 1  [<default>]" in out
    assert f"R-CHILD: allow visit when quadrant == 'Q3'  [{child}]" in out
    assert "R-Q1-GRACE:" not in out
    assert f"disabled: R-Q1-GRACE [{child}]" in out


def test_show_json(child: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(child), "--format", "json")
    assert code == 0
    data = json.loads(out)
    ability = next(la for la in data["layers"] if la["id"] == "ability")
    assert [r["id"] for r in ability["rules"]] == [
        "A-COVERED",
        "A-SHORT",
        "A-LONG-ESTIMATED",
        "A-LONG",
    ]
    assert ability["rules"][1]["from"] == f"{child} (replaces <default>)"
    assert data["remedies"]["conflict"] == "block_wins"
    assert data["disabled"] == [{"id": "R-Q1-GRACE", "by": str(child)}]


# --------------------------------------------------------------------------- diff


def test_diff_of_identical_policies_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", "default", "default")
    assert code == 0
    assert "no differences" in out


def test_diff_lists_changed_parameters_and_rules(
    child: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "diff", "default", str(child))
    assert code == 1
    assert "~ changed parameter recovery_horizon_months: value: 24 -> 12" in out
    assert "~ changed rule A-SHORT (layer ability): when: '(receivables_delayed >= 1" in out
    assert "- removed remedy_rule R-Q1-GRACE: effect = 'allow'" in out
    assert "+ added remedy_rule R-CHILD: effect = 'allow'; remedies = [visit]" in out
    code, out, _ = run(capsys, "diff", "default", str(child), "--format", "json")
    data = json.loads(out)
    changes = {(c["what"], c["id"], c["change"]) for c in data["changes"]}
    assert ("parameter", "recovery_horizon_months", "changed") in changes
    assert ("remedy_rule", "R-Q1-GRACE", "removed") in changes


def test_diff_notices_a_reordered_first_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from collectrules import load_policy

    data = load_policy("default").data
    layers = json.loads(json.dumps(data["layers"]))
    ability = next(layer for layer in layers if layer["id"] == "ability")
    ability["rules"] = [ability["rules"][3], *ability["rules"][:3]]
    moved = tmp_path / "moved.json"
    moved.write_text(
        json.dumps({**json.loads(json.dumps(data, default=str)), "layers": layers}),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "diff", "default", str(moved))
    assert code == 1
    assert "~ changed rule A-LONG (layer ability): position: 4 -> 1" in out


# --------------------------------------------------------------------------- impact


def case(case_id: str, *signals: tuple[str, float | None]) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-03-31",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": k, "observed_at": SEEN, **({"value": v} if v is not None else {})}
            for k, v in signals
        ],
    }


CASES = [
    case("C-1", ("documents_provided", None), ("cash_coverage", 1.5)),  # Q1 -> Q2
    case("C-2", ("documents_provided", None), ("cash_coverage", 3)),  # Q1 stays
    case("C-3", ("cash_coverage", 1.5), ("refused_to_pay", None)),  # Q3 -> Q4
    case("C-4", ("documents_provided", None), ("health_issue", None), ("recovery_months", 6)),
]


@pytest.fixture
def stricter(tmp_path: Path) -> Path:
    path = tmp_path / "stricter.toml"
    path.write_text(
        'extends = "default"\nid = "stricter"\n[parameters.coverage_able]\nvalue = 2.0\n',
        encoding="utf-8",
    )
    return path


def test_impact_counts_quadrant_moves_and_remedies(
    tmp_path: Path, stricter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "cases.jsonl"
    rows.write_text("\n".join(json.dumps(c) for c in CASES), encoding="utf-8")
    code, out, _ = run(capsys, "impact", "default", str(stricter), str(rows), "--as-of", AS_OF)
    assert code == 0, out
    assert "cases: 4, decided under both: 4, changed: 2, quadrant changes: 2" in out
    lines = out.splitlines()
    header = lines.index("quadrant, from (rows) -> to (columns):")

    def cells(line: str) -> list[str]:
        return [c.strip() for c in re.split("[│┃]", line) if c.strip()]

    assert cells(lines[header + 2]) == ["from \\ to", "Q1", "Q2", "Q3", "Q4"]
    assert cells(lines[header + 4]) == ["Q1", "1", "1", "0", "0"]
    assert cells(lines[header + 5]) == ["Q2", "0", "1", "0", "0"]
    assert cells(lines[header + 6]) == ["Q3", "0", "0", "0", "1"]
    assert "internal_review 1" in out
    assert "investigate_assets 1" in out
    lost = next(line for line in lines if line.startswith("remedies lost"))
    # C-1 (Q1 -> Q2) keeps remind: the plan's reminder steps call for it in every quadrant
    expected = ["grace_period 1", "negotiate 1"]
    assert lost.split(":", 1)[1].strip().split(", ") == expected
    assert "C-1 (" in out
    assert ": Q1 -> Q2;" in out
    assert "old trace: " in out
    assert "new trace: " in out
    assert "A-COVERED: ability = able" in out


def test_impact_reads_csv_and_directories_and_reports_bad_rows(
    tmp_path: Path, stricter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "cases.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CASES[0]))
        writer.writeheader()
        for c in CASES:
            writer.writerow({**c, "signals": json.dumps(c["signals"])})
    folder = tmp_path / "dir"
    folder.mkdir()
    for c in CASES[:2]:  # the table's first two cases, under ids of their own
        again = {**c, "case_id": f"{c['case_id']}-DIR"}
        (folder / f"{again['case_id']}.json").write_text(json.dumps(again), encoding="utf-8")
    (folder / "broken.json").write_text(
        json.dumps({**CASES[0], "due_date": "2026-02-30"}), encoding="utf-8"
    )
    code, out, _ = run(
        capsys,
        "impact",
        "default",
        str(stricter),
        str(table),
        str(folder),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert code == 1  # one bad row
    data = json.loads(out)
    assert (data["total"], data["decided"], data["quadrant_changes"]) == (7, 6, 3)
    assert {"from": "Q1", "to": "Q2", "cases": 2} in data["matrix"]
    assert data["gained"]["internal_review"] == 1
    # the two Q1 -> Q2 moves lose the grace period; remind stays, called for by the plan
    assert data["lost"]["grace_period"] == 2
    assert "remind" not in data["lost"]
    (error,) = data["errors"]
    assert error["side"] == "input"
    assert "broken.json" in error["where"]
    assert "due_date" in error["error"]
    assert len(data["sample"]) == 3
    assert data["sample"][0]["old_trace"][0].startswith("presumption.")  # the first layer


def test_impact_of_a_policy_on_itself_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "cases.jsonl"
    rows.write_text("\n".join(json.dumps(c) for c in CASES), encoding="utf-8")
    code, out, _ = run(
        capsys, "impact", "default", "default", str(rows), "--as-of", AS_OF, "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["changed"] == 0
    assert data["sample"] == []
    assert data["gained"] == {}


def test_check_names_a_durable_rules_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = "".join(
        f'\n[[remedies.rules]]\nid = "R-{i}"\neffect = "allow"\nremedy = "visit"\n'
        f'when = "dpd >= {i}"\nreason = "r"\n'
        for i in range(64)
    )
    path = tmp_path / "big.toml"
    path.write_text('extends = "default"\n' + rules, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert "DURABLE_RULES.md #4" in out


# --------------------------------------------------------------------------- the docs

ROOT = Path(__file__).parent.parent
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
# howto-verify's impact example names files that its Python example builds in a
# temporary folder; that example asserts the figures instead.
ILLUSTRATIONS = {"collectrules impact default stricter.toml portfolio.jsonl"}


def _console_examples() -> list[Any]:
    found = []
    for name in ("tutorial-policy.md", "howto-verify.md", "howto-extend.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        for number, block in enumerate(CONSOLE.findall(text), start=1):
            command, _, output = block.partition("\n")
            while command.endswith("\\"):
                more, _, output = output.partition("\n")
                command = command[:-1] + more.strip()
            if not command.startswith("$ collectrules "):
                continue
            command = command[2:]
            if any(command.startswith(i) for i in ILLUSTRATIONS):
                continue
            found.append(pytest.param(command, output, id=f"{name}[{number}]"))
    return found


def _pattern(shown: str) -> re.Pattern[str]:
    """The output as shown, with ``…`` standing for anything: within a line, any text;
    as a line of its own, any lines."""
    parts = []
    for line in shown.rstrip("\n").split("\n"):
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.split("…")) + r"\n")
    return re.compile("".join(parts), re.S)


@pytest.mark.parametrize(("command", "shown"), _console_examples())
def test_the_docs_commands_print_what_the_docs_show(
    command: str, shown: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *shlex.split(command)[1:])
    assert not err
    assert code in (0, 1), out
    assert _pattern(shown).fullmatch(out), f"$ {command}\n{out}"


def _page_commands(name: str) -> list[tuple[str, str]]:
    """Each ``$ collectrules`` command of a page's console blocks, in order, with the
    output the page shows after it (up to the next command or the block's end)."""
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    for block in CONSOLE.findall(text):
        lines = block.rstrip("\n").split("\n")
        while lines:
            command = lines.pop(0)
            while command.endswith("\\"):
                command = command[:-1] + lines.pop(0).strip()
            shown = []
            while lines and not lines[0].startswith("$ "):
                shown.append(lines.pop(0))
            if command.startswith("$ collectrules "):
                found.append((command[2:], "".join(f"{line}\n" for line in shown)))
    return found


def _in_a_copy_of_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder that sees the project's examples, as its root does, so that
    the files a page's commands write land there."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)


def test_the_report_page_runs_its_commands_in_order_and_prints_what_it_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_a_copy_of_the_project(tmp_path, monkeypatch)
    commands = _page_commands("howto-report.md")
    assert [c.split()[1] for c, _ in commands] == ["batch", "batch", "changes", "report"]
    for command, shown in commands:
        code, out, err = run(capsys, *shlex.split(command)[1:])
        assert code == 0, out + err
        assert _pattern(shown).fullmatch(out + err), f"$ {command}\n{out}{err}"
    assert (tmp_path / "report.html").is_file()


def test_the_worklist_page_prints_what_it_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page's team.toml is its team file, with li.na's capacity cut to 4 and
    # wang.wei's to 3, as the page says.
    text = (ROOT / "docs" / "howto-worklist.md").read_text(encoding="utf-8")
    team = text.split("## The team file", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    team = team.replace("capacity = 40", "capacity = 4").replace("capacity = 30", "capacity = 3")
    _in_a_copy_of_the_project(tmp_path, monkeypatch)
    (tmp_path / "team.toml").write_text(team, encoding="utf-8")
    ((command, shown),) = _page_commands("howto-worklist.md")
    code, out, err = run(capsys, *shlex.split(command)[1:])
    assert code == 0
    # a table's title is padded to the table's width; the page shows it without
    printed = "".join(f"{line.rstrip()}\n" for line in (out + err).splitlines())
    assert _pattern(shown).fullmatch(printed), f"$ {command}\n{printed}"


def test_the_tutorial_runs_every_command_it_shows() -> None:
    commands = [p.values[0] for p in _console_examples() if "tutorial" in str(p.id)]
    assert {c.split()[1] for c in commands} >= {"check", "impact"}
    assert any("field_typo.toml" in c for c in commands)


def test_impact_on_no_cases_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(
        ["impact", "default", "default", str(empty), "--as-of", "2026-04-03T12:00:00+08:00"]
    )
    assert code == 2  # unusable input
    assert "a directory without case files" in capsys.readouterr().err
