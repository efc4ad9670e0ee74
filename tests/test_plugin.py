"""The pytest plugin: golden-case files are collected, one item per case."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
CASE = textwrap.dedent(
    """
    [cases.input]
    product = "loan"
    currency = "CNY"
    principal = "100000"
    overdue_amount = "5000"
    due_date = 2026-03-31
    timezone = "Asia/Shanghai"
    signals = [{{ kind = "{kind}", observed_at = 2026-04-02T10:30:00+08:00 }}]
    """
)


def golden(*cases: tuple[str, str, str], policy: str = "default") -> str:
    """A golden TOML file: (id, expectation lines, signal kind) per case."""
    head = f'policy = "{policy}"\nas_of = 2026-04-03T12:00:00+08:00\n'
    body = "".join(
        f'\n[[cases]]\nid = "{case_id}"\n{expect}\n' + CASE.format(kind=kind)
        for case_id, expect, kind in cases
    )
    return head + body


Q3 = ('quadrant = "Q3"\nallows = ["litigate"]\nblocks = ["extend"]', "refused_to_pay")
Q2 = ('quadrant = "Q2"\nblocks = ["litigate"]', "health_issue")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # The inner runs need no hypothesis; importing it anew in each costs seconds.
    return pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "--strict-config",
        "--strict-markers",
        *args,
    )


def test_the_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("collectrules")
    assert plugin is not None
    assert plugin.__name__ == "collectrules.testing.plugin"


def test_one_item_per_case(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", golden_quadrants=golden(("refuses", *Q3), ("ill", *Q2)))
    collected = run(pytester, "--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        [
            "golden_quadrants.toml::refuses",
            "golden_quadrants.toml::ill",
            "2 tests collected*",
        ]
    )
    run(pytester).assert_outcomes(passed=2)


def test_a_failing_case_names_the_file_and_the_case(pytester: pytest.Pytester) -> None:
    wrong = ('quadrant = "Q1"\nallows = ["extend"]', "refused_to_pay")
    pytester.makefile(".toml", golden_mixed=golden(("fine", *Q2), ("wrong", *wrong)))
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*golden_mixed.toml::wrong: quadrant: expected Q1 (willing and able), "
            "got Q3 (unwilling and able) (and 1 more)*",
            "*extend: expected allowed, got blocked by R-UNWILLING-NO-EXTEND*",
            "trace (rules that fired, in order):",
            "*W-REFUSED-TO-PAY (willingness): willingness = unwilling  [[]W-SIGNS]",
            "*QUAD-Q3-ABILITY-UNKNOWN (quadrant): quadrant = Q3  [[]Q3, A-ASSESS]",
            "FAILED golden_mixed.toml::wrong - *",
        ]
    )
    assert "golden_mixed.toml::fine" not in result.stdout.str().split("FAILURES")[1]


def test_a_golden_file_of_many_cases_is_collected_in_time_at_each_line(
    pytester: pytest.Pytester,
) -> None:
    # Each case's line is found in one pass over the file, not one pass a case.
    path = pytester.makefile(".toml", golden_many=golden(*((f"C-{i}", *Q2) for i in range(3_000))))
    start = time.process_time()
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    elapsed = time.process_time() - start
    assert len(items) == 3_000
    lines = path.read_text(encoding="utf-8").splitlines()
    for item in items[::750]:
        _, line, _ = item.reportinfo()
        assert lines[line] == f'id = "{item.name}"'
    assert elapsed < 10.0


def test_json_golden_files_and_input_files(pytester: pytest.Pytester) -> None:
    shared = (ROOT / "examples" / "cases" / "q4_moving_assets.json").read_text(encoding="utf-8")
    pytester.makefile(".json", q4=shared)
    data = {
        "policy": "default",
        "as_of": "2026-04-03T12:00:00+08:00",
        "cases": [
            {"id": "moving-assets", "quadrant": "Q4", "allows": ["litigate"], "input": "q4.json"}
        ],
    }
    pytester.makefile(".json", golden_json=json.dumps(data))
    result = run(pytester, "-v")
    result.stdout.fnmatch_lines(["golden_json.json::moving-assets PASSED*"])
    result.assert_outcomes(passed=1)


def test_policy_paths_are_relative_to_the_golden_file(pytester: pytest.Pytester) -> None:
    sub = pytester.mkdir("acceptance")
    policy = (ROOT / "examples" / "custom_policy" / "policy.toml").read_text(encoding="utf-8")
    (sub / "lender.toml").write_text(policy, encoding="utf-8")
    # 18 months to recover: long-term under the lender's 12-month horizon, so no extension.
    text = golden(
        ("slow-recovery", 'quadrant = "Q2"\nblocks = ["extend"]', "health_issue"),
        policy="lender.toml",
    )
    text = text.replace(
        "observed_at = 2026-04-02T10:30:00+08:00 }]",
        'observed_at = 2026-04-02T10:30:00+08:00 }, { kind = "recovery_months", '
        "observed_at = 2026-04-02T10:30:00+08:00, value = 18 }]",
    )
    (sub / "golden_lender.toml").write_text(text, encoding="utf-8")
    run(pytester).assert_outcomes(passed=1)
    # Under the default's 24-month horizon the same case may be extended.
    (sub / "golden_lender.toml").write_text(
        text.replace("lender.toml", "default"), encoding="utf-8"
    )
    run(pytester).assert_outcomes(failed=1)


def test_other_files_are_not_collected(pytester: pytest.Pytester) -> None:
    text = golden(("refuses", *Q3))
    pytester.makefile(".toml", cases=text, golden=text, notgolden_q3=text)
    pytester.makefile(".txt", golden_cases=text)
    pytester.makefile(".json", my_golden_cases="{}")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_patterns_are_an_ini_option(pytester: pytest.Pytester) -> None:
    text = golden(("refuses", *Q3))
    pytester.makefile(".toml", acceptance_q3=text, golden_q3=text)
    pytester.makeini("[pytest]\ncollectrules_golden = acceptance_*.toml\n")
    result = run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["acceptance_q3.toml::refuses", "1 test collected*"])
    pytester.makeini("[pytest]\ncollectrules_golden =\n")
    assert run(pytester).ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_plugin_can_be_turned_off_and_cases_carry_a_marker(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", golden_q3=golden(("refuses", *Q3)))
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    run(pytester, "-m", "collectrules_golden").assert_outcomes(passed=1, deselected=1)
    off = run(pytester, "-p", "no:collectrules")
    off.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            golden(("a", 'quadrant = "Q3"\nallow = ["litigate"]', "refused_to_pay")),
            "*golden_bad.toml: case 'a': unknown key 'allow' (did you mean 'allows'?)*",
        ),
        (
            golden(("a", 'quadrant = "Q3"\nallows = ["litigat"]', "refused_to_pay")),
            "*case 'a': *unknown remedy 'litigat' (did you mean 'litigate'?)*",
        ),
        (golden(("a", *Q3), ("a", *Q3)), "*case 'a': duplicate case id*"),
        (
            golden(("a", *Q3), policy="defualt"),
            "*policy 'defualt': *no shipped policy named 'defualt'*(did you mean 'default'?)*",
        ),
        (
            golden(("a", "", "refused_to_pay")),
            "*case 'a': expects nothing; give quadrant, allows, blocks, fired, facts, steps, "
            "contacts or obligations*",
        ),
        ('policy = "default"\ncases = []\n', "*missing required key 'as_of'*"),
        (
            golden(("a", *Q3)).replace("2026-04-03T12:00:00+08:00", "2026-04-03T12:00:00"),
            "*as_of: *naive datetime*",
        ),
        ("policy = [", "*golden_bad.toml: syntax error*"),
        (
            golden(("a", 'allows = "litigate"\nblocks = [1]', "refused_to_pay")),
            "*golden_bad.toml: case 'a': blocks: expected a list of remedy names",
        ),
    ],
    ids=[
        "key",
        "remedy",
        "duplicate",
        "policy",
        "nothing",
        "missing",
        "naive",
        "syntax",
        "not-names",
    ],
)
def test_a_malformed_file_fails_collection_clearly(
    pytester: pytest.Pytester, text: str, message: str
) -> None:
    pytester.makefile(".toml", golden_bad=text)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting golden_bad.toml*", message])


def test_a_case_that_cannot_be_decided_names_its_problem(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        golden_typo=golden(("typo", *Q3)).replace(
            'kind = "refused_to_pay"', 'kind = "refused_to_py"'
        ),
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*golden_typo.toml::typo: the case cannot be decided*",
            "*signals[[]0].kind: unknown signal kind 'refused_to_py'*"
            "(did you mean 'refused_to_pay'?)*",
        ]
    )


def test_the_example_golden_file_is_collected_by_the_project_run() -> None:
    # testpaths reaches examples/, where the example lender keeps its golden cases.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "examples" in config["tool"]["pytest"]["ini_options"]["testpaths"]
    golden_files = sorted((ROOT / "examples").rglob("golden_*.toml"))
    assert golden_files


@pytest.mark.parametrize(
    ("input_line", "said"),
    [
        ('input = "fifo.json"', "input 'fifo.json': not a regular file"),
        ('input = "/dev/zero"', "input '/dev/zero': an absolute path is refused*"),
        ('input = "latin1.json"', "input 'latin1.json': not UTF-8 text (byte 16)"),
    ],
    ids=["fifo", "device", "not UTF-8"],
)
def test_an_input_that_is_not_a_case_file_beside_it_fails_collection(
    pytester: pytest.Pytester, input_line: str, said: str
) -> None:
    """A FIFO waited forever for a writer, ``/dev/zero`` was read until memory ran out,
    and a file that is not UTF-8 ended collection in a ``UnicodeDecodeError``."""
    import os

    os.mkfifo(pytester.path / "fifo.json")
    (pytester.path / "latin1.json").write_bytes(b'{"case_id": "caf\xe9"}')
    head = 'policy = "default"\nas_of = 2026-04-03T12:00:00+08:00\n'
    pytester.makefile(
        ".toml", golden_odd=f'{head}\n[[cases]]\nid = "odd"\nquadrant = "Q1"\n{input_line}\n'
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*golden_odd.toml: case 'odd': {said}*"])


def test_a_golden_file_that_is_not_utf8_fails_collection(pytester: pytest.Pytester) -> None:
    """It ended collection in a ``UnicodeDecodeError`` traceback."""
    text = golden(("refuses", *Q3)).encode("utf-8") + b"\n# caf\xe9\n"
    (pytester.path / "golden_latin1.toml").write_bytes(text)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*golden_latin1.toml: not UTF-8 text (byte {len(text) - 2})*"])
