"""Golden files from current decisions (``collectrules golden``), and updated in place
after review (``pytest --collectrules-update``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from collectrules import Engine, load_policy
from collectrules.authoring.golden import GOLDEN_PATTERNS, updated_expectation
from collectrules.cli import main
from collectrules.model.case import Case
from collectrules.testing.plugin import DEFAULT_PATTERNS

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
AS_OF = "2026-04-03T12:00:00+08:00"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers", *args
    )


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_golden_writes_a_file_of_current_decisions_that_then_passes(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    out = pytester.path / "golden_examples.toml"
    code, stdout, err = cli(capsys, "golden", str(CASES), "--as-of", AS_OF, "--out", str(out))
    assert code == 0, err
    assert "wrote 5 golden case(s)" in stdout
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert data["policy"] == "default"
    assert data["backend"] == "python"
    by_id = {c["id"]: c for c in data["cases"]}
    assert set(by_id) == {"Q1-TRAVEL", "Q2-HEALTH", "Q2-LONG", "Q3-REFUSE", "Q4-ABSCOND"}
    policy = load_policy("default")
    engine = Engine(policy, backend="python")
    for path in sorted(CASES.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        decision = engine.decide(
            Case.from_dict(raw, signal_kinds=tuple(policy.signals)), as_of=AS_OF
        )
        written = by_id[raw["case_id"]]
        assert written["quadrant"] == decision.quadrant.value
        assert written["allows"] == [g.remedy.value for g in decision.allowed]
        assert written["blocks"] == [b.remedy.value for b in decision.blocked]
        assert "case_id" not in written["input"]
    run(pytester).assert_outcomes(passed=5)


@pytest.mark.durable
def test_golden_writes_json_and_a_policy_path_relative_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policies" / "mine.toml"
    policy.parent.mkdir()
    policy.write_text('extends = "default"\nid = "mine"\n', encoding="utf-8")
    out = tmp_path / "tests" / "golden_mine.json"
    out.parent.mkdir()
    code, _, err = cli(
        capsys, "golden", str(CASES / "q3_refuses.json"), "--policy", str(policy),
        "--as-of", AS_OF, "--out", str(out), "--backend", "durable",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["policy"] == "../policies/mine.toml"
    assert data["backend"] == "durable"
    assert data["cases"][0]["quadrant"] == "Q3"


def test_golden_reports_bad_rows_writes_the_good_ones_and_keeps_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.loads((CASES / "q1_travelling.json").read_text(encoding="utf-8"))
    bad = {**good, "case_id": "BAD", "currency": "rmb"}
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    out = tmp_path / "golden_rows.toml"
    code, _, err = cli(capsys, "golden", str(rows), "--as-of", AS_OF, "--out", str(out))
    assert code == 1
    assert "currency" in err
    assert [c["id"] for c in tomllib.loads(out.read_text("utf-8"))["cases"]] == ["Q1-TRAVEL"]
    before = out.read_text(encoding="utf-8")
    code, _, err = cli(capsys, "golden", str(rows), "--as-of", AS_OF, "--out", str(out))
    assert code == 2
    assert "exists; give --force" in err
    assert out.read_text(encoding="utf-8") == before
    code, _, err = cli(capsys, "golden", str(CASES), "--as-of", AS_OF, "--out", str(out), "--force")
    assert code == 0, err
    assert len(tomllib.loads(out.read_text("utf-8"))["cases"]) == 5


def test_golden_warns_when_the_plugin_would_not_collect_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cases.toml"
    code, _, err = cli(capsys, "golden", str(CASES), "--as-of", AS_OF, "--out", str(out))
    assert code == 0
    assert "does not match golden_*.toml or golden_*.json" in err
    assert GOLDEN_PATTERNS == DEFAULT_PATTERNS


STALE = textwrap.dedent(
    """\
    # Acceptance cases for the default policy.
    policy = "default"
    as_of = 2026-04-03T12:00:00+08:00

    [[cases]]
    id = "refuses"
    quadrant = "Q1"        # reviewed by the risk team
    allows = ["extend", "litigate"]

    [cases.input]
    product = "loan"
    currency = "CNY"
    principal = "100000"
    overdue_amount = "5000"
    due_date = 2026-03-31
    timezone = "Asia/Shanghai"
    signals = [{ kind = "refused_to_pay", observed_at = 2026-04-02T10:30:00+08:00 }]

    [[cases]]
    id = "fine"
    quadrant = "Q3"
    allows = ["litigate"]
    input = "refuses.json"
    """
)


def _stale(pytester: pytest.Pytester) -> Path:
    (pytester.path / "refuses.json").write_text(
        (CASES / "q3_refuses.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = pytester.path / "golden_stale.toml"
    path.write_text(STALE, encoding="utf-8")
    return path


def test_without_the_flag_a_stale_case_fails_and_the_file_is_untouched(
    pytester: pytest.Pytester,
) -> None:
    path = _stale(pytester)
    run(pytester).assert_outcomes(passed=1, failed=1)
    assert path.read_text(encoding="utf-8") == STALE


def test_update_rewrites_only_the_stale_expectations_in_place(pytester: pytest.Pytester) -> None:
    path = _stale(pytester)
    result = run(pytester, "--collectrules-update")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*collectrules golden files updated*", "*golden_stale.toml: refuses"]
    )
    text = path.read_text(encoding="utf-8")
    # Comments and layout are kept; the stale values are replaced.
    assert text.startswith("# Acceptance cases for the default policy.\n")
    assert 'quadrant = "Q3"        # reviewed by the risk team' in text
    data = tomllib.loads(text)
    refuses, fine = data["cases"]
    assert refuses["allows"] == ["litigate"]
    assert refuses["blocks"] == ["extend"]
    assert fine == tomllib.loads(STALE)["cases"][1]
    run(pytester).assert_outcomes(passed=2)


def test_update_rewrites_a_json_golden_file(pytester: pytest.Pytester) -> None:
    # an input inside the project: a golden file reads nothing outside it
    (pytester.path / "refuses.json").write_bytes((CASES / "q3_refuses.json").read_bytes())
    (pytester.path / "golden_stale.json").write_text(
        json.dumps(
            {
                "policy": "default",
                "as_of": AS_OF,
                "cases": [
                    {"id": "refuses", "quadrant": "Q2", "blocks": ["litigate"],
                     "input": "refuses.json"}
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    run(pytester, "--collectrules-update").assert_outcomes(passed=1)
    case = json.loads((pytester.path / "golden_stale.json").read_text("utf-8"))["cases"][0]
    assert case["quadrant"] == "Q3"
    assert case["allows"] == ["litigate"]
    assert case["blocks"] == []
    run(pytester).assert_outcomes(passed=1)


def test_a_json_golden_file_naming_a_key_twice_is_a_collection_error(
    pytester: pytest.Pytester,
) -> None:
    """The last ``quadrant`` would have been checked and the first dropped unread."""
    (pytester.path / "refuses.json").write_bytes((CASES / "q3_refuses.json").read_bytes())
    (pytester.path / "golden_twice.json").write_text(
        f'{{"policy": "default", "as_of": "{AS_OF}", "cases": [\n'
        ' {"id": "refuses", "quadrant": "Q3", "quadrant": "Q2",\n'
        '  "input": "refuses.json"}]}',
        encoding="utf-8",
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*golden_twice.json: cases?0?.quadrant: named twice in one object (line 2, column 38)*"]
    )


def test_updated_expectation_keeps_the_selection_and_fixes_what_is_wrong() -> None:
    policy = load_policy("default")
    raw = json.loads((CASES / "q3_refuses.json").read_text(encoding="utf-8"))
    case = Case.from_dict(raw, signal_kinds=tuple(policy.signals))
    decision = Engine(policy, backend="python").decide(case, as_of=AS_OF)
    assert updated_expectation({"allows": ["extend", "litigate"]}, decision) == {
        "allows": ["litigate"],
        "blocks": ["extend"],
    }
    # A remedy that no rule names any more is dropped; nothing expected: the quadrant.
    assert updated_expectation({"allows": ["write_off"]}, decision) == {
        "allows": [],
        "quadrant": "Q3",
    }
    assert updated_expectation({"quadrant": "Q1"}, decision) == {"quadrant": "Q3"}


def test_loading_the_plugin_does_not_load_the_golden_writer() -> None:
    # What `import collectrules` itself loads is bounded elsewhere; the plugin adds
    # neither the golden writer nor tomlkit nor hypothesis until a file is updated.
    code = (
        "import sys\n"
        "import collectrules.testing.plugin\n"
        "heavy = ['tomlkit', 'collectrules.authoring.golden', 'hypothesis']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
