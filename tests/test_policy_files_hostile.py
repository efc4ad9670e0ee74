"""Policy files and golden-case files written by a hostile or careless author.

Each test failed before its fix:

- a shipped name (``extends = "default"``, ``load_policy("uk")``) read a file or a
  folder of that name in the process's working directory instead of the shipped
  policy: a file there replaced the shipped policy under every policy extending it, a
  folder made it unloadable;
- a rule id could be empty, blank, 100,000 characters long, or hold a line end, a NUL,
  a right-to-left override or a zero-width space;
- a golden file's ``input`` and ``policy`` were read from anywhere (an absolute path,
  ``../`` or a symbolic link out of the project), and a ``policy`` that was no file
  beside the golden file was looked up in the working directory.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from collectrules import load_policy
from collectrules.errors import PolicyError
from collectrules.testing._policies import resolve_policy

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"

#: A file that, read as the shipped ``default``, would decide every case Q1.
HIJACK = textwrap.dedent(
    """
    id = "default"
    title = "hijacked"

    [[layers]]
    id = "quadrant"
    values = ["Q1"]
    default = "Q1"
    rules = []
    """
)


# --- a shipped name never reads the working directory ---------------------------------


def test_extends_of_a_shipped_name_ignores_a_file_of_that_name_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lender = tmp_path / "lender"
    lender.mkdir()
    child = lender / "policy.toml"
    child.write_text('extends = "default"\nid = "lender"\n', encoding="utf-8")
    expected = load_policy(child)
    work = tmp_path / "work"
    work.mkdir()
    (work / "default").write_text(HIJACK, encoding="utf-8")
    monkeypatch.chdir(work)
    policy = load_policy(child)
    assert policy.content_hash == expected.content_hash
    assert policy.layer("quadrant").rules == expected.layer("quadrant").rules


def test_a_folder_named_like_a_shipped_policy_does_not_hide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "default").mkdir()
    (tmp_path / "uk").write_text(HIJACK, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_policy("default").source == "<default>"
    assert load_policy("uk").source == "<uk>"
    assert resolve_policy("uk").source == "<uk>"
    # A path says which file: ./uk is the local one.
    assert load_policy("./uk").title == "hijacked"


def test_check_of_a_shipped_name_runs_beside_a_folder_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from collectrules.cli import main

    (tmp_path / "default").mkdir()
    monkeypatch.chdir(tmp_path)
    try:
        main(["show", "default"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "not a regular file" not in out + err


# --- rule ids name something visible ---------------------------------------------------

RULE = (
    'extends = "default"\nid = "x"\n\n[[remedies.rules]]\nid = {rid}\neffect = "block"\n'
    'remedies = ["extend"]\nwhen = "dpd > 3"\nreason = "r"\n'
)


@pytest.mark.parametrize(
    ("rid", "said"),
    [
        ('""', "got an empty id"),
        ('"  "', "got a blank id"),
        ('" R1"', "spaces at an end"),
        ('"a\\nb"', "U+000A"),
        ('"a\\u0000b"', "U+0000"),
        ('"R-\\u202eX"', "U+202E"),
        ('"R\\u200b"', "U+200B"),
        ('"' + "R" * 201 + '"', "got 201 characters"),
    ],
    ids=["empty", "blank", "space", "newline", "nul", "rtl", "zero-width", "long"],
)
def test_a_rule_id_that_names_nothing_visible_is_refused_where_it_is_set(
    tmp_path: Path, rid: str, said: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(RULE.format(rid=rid), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = info.value.problems
    assert problem.path.startswith("remedies.rules[")
    assert problem.path.endswith("].id")
    assert said in problem.message
    assert "expected a visible name" in problem.message
    assert str(path) in str(info.value)


def test_a_layer_rule_id_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        'extends = "default"\nid = "x"\n\n[[layers]]\nid = "quadrant"\n\n'
        '[[layers.rules]]\nid = ""\nwhen = "dpd > 3"\nvalue = "Q1"\nreason = "r"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"layers\[quadrant\]\.rules\[\d+\]\.id: .*empty id"):
        load_policy(path)


@pytest.mark.parametrize("rid", ['"R-Q2.x_1"', '"R1"', '"规则-1"', '"R-$and"'])
def test_visible_rule_ids_still_load(tmp_path: Path, rid: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(RULE.format(rid=rid), encoding="utf-8")
    assert load_policy(path).remedy_rules[-1].id == json.loads(rid)


# --- golden files read only inside the project -------------------------------------------

AS_OF = "2026-04-03T12:00:00+08:00"


def _golden(policy: str, input_line: str) -> str:
    return (
        f'policy = "{policy}"\nas_of = {AS_OF}\n\n[[cases]]\nid = "c"\nquadrant = "Q3"\n'
        f"{input_line}\n"
    )


def _run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-config",
        "--continue-on-collection-errors",
    )  # fmt: skip


@pytest.fixture
def project(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (pytest's rootdir) with a tests folder, and a secret outside it."""
    pytester.makeini("[pytest]\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "cases").mkdir()
    refuses = (CASES / "q3_refuses.json").read_bytes()
    (pytester.path / "cases" / "refuses.json").write_bytes(refuses)
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.json").write_text(
        '{"aws_secret_access_key": "SECRET-KEY", "currency": "SECRET-VALUE"}', encoding="utf-8"
    )
    (outside / "policy.toml").write_text('extends = "default"\nid = "out"\n', encoding="utf-8")
    return outside


@pytest.mark.parametrize(
    "reach",
    ["dotdot", "absolute", "symlink", "tilde"],
)
def test_a_golden_input_outside_the_project_is_refused_unread(
    pytester: pytest.Pytester, project: Path, reach: str
) -> None:
    tests = pytester.path / "tests"
    if reach == "dotdot":
        ref = Path("..", "..", *([".."] * len(pytester.path.parts)), *project.parts[1:])
        ref = Path(str(ref)) / "secret.json"
    elif reach == "absolute":
        ref = project / "secret.json"
    elif reach == "symlink":
        (tests / "link.json").symlink_to(project / "secret.json")
        ref = Path("link.json")
    else:
        ref = Path("~/secret.json")
    (tests / "golden_out.toml").write_text(
        _golden("default", f'input = "{ref.as_posix()}"'), encoding="utf-8"
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert "SECRET" not in text
    assert "aws_secret_access_key" not in text
    assert "golden_out.toml: case 'c': input" in text
    assert "is refused" in text


def test_a_golden_policy_outside_the_project_is_refused(
    pytester: pytest.Pytester, project: Path
) -> None:
    tests = pytester.path / "tests"
    (tests / "golden_abs.toml").write_text(
        _golden(str(project / "policy.toml"), 'input = "../cases/refuses.json"'),
        encoding="utf-8",
    )
    (tests / "golden_link.toml").write_text(
        _golden("linked.toml", 'input = "../cases/refuses.json"'), encoding="utf-8"
    )
    (tests / "linked.toml").symlink_to(project / "policy.toml")
    result = _run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*golden_abs.toml: policy '*policy.toml': an absolute path is refused*",
            "*golden_link.toml: policy 'linked.toml': the path leads out of*",
        ],
        consecutive=False,
    )


def test_a_golden_file_may_reach_inside_the_project_with_dotdot(
    pytester: pytest.Pytester, project: Path
) -> None:
    """As the example lender's golden file does (``input = "../cases/…"``)."""
    (pytester.path / "policies").mkdir()
    (pytester.path / "policies" / "mine.toml").write_text(
        'extends = "default"\nid = "mine"\n', encoding="utf-8"
    )
    (pytester.path / "tests" / "golden_in.toml").write_text(
        _golden("../policies/mine.toml", 'input = "../cases/refuses.json"'), encoding="utf-8"
    )
    _run(pytester).assert_outcomes(passed=1)


def test_a_golden_policy_name_is_never_looked_up_in_the_working_directory(
    pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = pytester.path / "tests"
    # A file named like a shipped policy, beside the golden file and in the working
    # directory: neither replaces the shipped one.
    (tests / "default").write_text(HIJACK, encoding="utf-8")
    (pytester.path / "default").write_text(HIJACK, encoding="utf-8")
    (tests / "golden_shipped.toml").write_text(
        _golden("default", 'input = "../cases/refuses.json"'), encoding="utf-8"
    )
    # A policy file that is not beside the golden file but is in the working directory.
    (pytester.path / "mine.toml").write_text(HIJACK, encoding="utf-8")
    (tests / "golden_mine.toml").write_text(
        _golden("mine.toml", 'input = "../cases/refuses.json"'), encoding="utf-8"
    )
    (tests / "golden_typo.toml").write_text(
        _golden("defualt", 'input = "../cases/refuses.json"'), encoding="utf-8"
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*golden_mine.toml: policy 'mine.toml': no shipped policy named 'mine.toml' and no "
            "such file beside the golden file*",
            "*golden_typo.toml: policy 'defualt': *(did you mean 'default'?)*",
        ],
        consecutive=False,
    )
