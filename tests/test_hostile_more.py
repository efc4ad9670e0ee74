"""Hostile inputs past the other hostile suites: a calendar schedule or a golden file
behind a loop of symbolic links, and pandas columns of Python objects whose conversion
through Arrow would lose what a value says (a datetime among dates, a naive timestamp
among aware ones, at the top level or inside nested signals)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from collectrules import Engine, InputError, PolicyError, load_policy
from collectrules.cli import main
from helpers import case_dict

AS_OF = "2026-04-03T12:00:00+08:00"
FIXTURE = Path(__file__).parent / "fixtures" / "calendars" / "cn_2027.toml"
AWARE = dt.datetime(2026, 4, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NAIVE = dt.datetime(2026, 4, 1, 10)


# ------------------------------------------------------ symbolic links in a loop


def test_a_schedule_in_a_loop_of_symbolic_links_is_a_policy_error(tmp_path: Path) -> None:
    # Path.resolve raised RuntimeError ("Symlink loop from …") out of load_policy.
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    path = tmp_path / "lender.toml"
    path.write_text(
        'extends = "default"\nid = "lender"\nversion = "1"\n\n'
        '[timeline.calendar]\ncountry = "CN"\nschedule = "loop.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.path == "timeline.calendar.schedule"
    assert problem.source == str(path)
    assert problem.line == 7
    # Python 3.11 and 3.12 find the loop resolving the path, 3.13 reading the file: the
    # words differ, and each names the file and the loop.
    assert "loop.toml" in problem.message
    assert "symbolic links" in problem.message


def test_a_schedule_beside_a_loop_still_loads(tmp_path: Path) -> None:
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    shutil.copy(FIXTURE, tmp_path / "cn_2027.toml")
    path = tmp_path / "lender.toml"
    path.write_text(
        'extends = "default"\nid = "lender"\nversion = "1"\n\n'
        '[timeline.calendar]\ncountry = "CN"\nschedule = "cn_2027.toml"\n',
        encoding="utf-8",
    )
    section: Any = load_policy(path).sections["timeline"]
    assert section.calendar.schedules[0].years == frozenset({2027})


@pytest.mark.parametrize("out", ["loop.toml", "sub/x/golden_a.toml"])
def test_golden_out_in_a_loop_of_symbolic_links_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    out: str,
) -> None:
    # With --policy naming a file, the golden file's reference to it was worked out
    # with Path.resolve, which raised RuntimeError: a traceback, not exit status 3.
    monkeypatch.chdir(tmp_path)
    Path("loop.toml").symlink_to("loop.toml")
    Path("sub").mkdir()
    Path("sub/x").symlink_to("../sub/x")
    Path("p.toml").write_text('extends = "default"\nid = "p"\nversion = "1"\n', encoding="utf-8")
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(case_dict()), encoding="utf-8")
    code = main(["golden", str(cases), "--out", out, "--policy", "p.toml", "--as-of", AS_OF])
    _, err = capsys.readouterr()
    assert code == 3, err[-500:]
    assert err.strip() == f"error: {out}: too many levels of symbolic links"


def test_golden_still_names_its_policy_relative_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.toml").write_text('extends = "default"\nid = "p"\nversion = "1"\n', encoding="utf-8")
    Path("tests").mkdir()
    Path("cases.json").write_text(json.dumps(case_dict()), encoding="utf-8")
    out = "tests/golden_a.toml"
    assert main(["golden", "cases.json", "--out", out, "--policy", "p.toml", "--as-of", AS_OF]) == 0
    assert 'policy = "../p.toml"' in Path(out).read_text(encoding="utf-8")


# ------------------------------------------ pandas columns Arrow would read lossily


def _cases(**columns: Any) -> Any:
    pd = pytest.importorskip("pandas")
    rows = [case_dict(case_id="A"), case_dict(case_id="B")]
    for row in rows:
        row.pop("signals", None)
        row.pop("events", None)
    frame = pd.DataFrame(rows)
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype=object)
    return frame


def _entry_points(frame: Any) -> dict[str, Any]:
    """What each entry point makes of ``frame``: its error, or (case id, error) by row."""
    from collectrules import frame as columnar

    out: dict[str, Any] = {}
    for name, run in {
        "frame.decide": lambda: columnar.decide(frame, policy="default", as_of=AS_OF).errors,
        "durable": lambda: list(Engine("default").decide_many(frame, as_of=AS_OF)),
        "python": lambda: list(Engine("default", backend="python").decide_many(frame, as_of=AS_OF)),
    }.items():
        try:
            results = run()
        except InputError as exc:
            out[name] = exc
        else:
            out[name] = [(r.case_id, r.error) for r in results]
    return out


def test_a_datetime_among_dates_is_refused_not_cut_to_its_date() -> None:
    # Arrow read the column as dates and kept 2026-03-01 of 2026-03-01T05:00, where
    # Case.from_dict refuses a datetime for a due date: row B was decided.
    frame = _cases(due_date=[dt.date(2026, 3, 31), dt.datetime(2026, 3, 1, 5)])
    for name, outcome in _entry_points(frame).items():
        assert isinstance(outcome, InputError), name
        (problem,) = outcome.problems
        assert problem.path.endswith(".due_date"), name
        assert "dates and datetimes in one place (row 1 holds a datetime)" in problem.message


def test_a_column_of_dates_and_missing_values_still_decides() -> None:
    pd = pytest.importorskip("pandas")
    frame = _cases(maturity_date=[dt.date(2027, 3, 31), pd.NaT])
    outcomes = _entry_points(frame)
    assert outcomes["frame.decide"] == []
    assert outcomes["durable"] == outcomes["python"] == [("A", None), ("B", None)]


def test_a_naive_signal_time_among_aware_ones_is_refused_by_the_columns() -> None:
    # frame.decide read the naive 10:00 as 10:00 UTC and decided case B on it; alone,
    # a naive time is each row's error.
    pd = pytest.importorskip("pandas")
    from collectrules import frame as columnar

    signals = pd.DataFrame(
        {
            "case_id": ["A", "B"],
            "kind": ["cash_coverage", "cash_coverage"],
            "observed_at": pd.Series([AWARE, NAIVE], dtype=object),
            "value": [2.5, 0.1],
        }
    )
    with pytest.raises(InputError) as info:
        columnar.decide(_cases(), signals, policy="default", as_of=AS_OF)
    (problem,) = info.value.problems
    assert problem.path == "signals.observed_at"
    assert "(row 1 has none)" in problem.message


def test_a_naive_nested_signal_time_among_aware_ones_is_refused() -> None:
    # As rows of dicts, case B is refused (a naive time); as a pandas column of such
    # lists, Arrow gave all of them the zone of the aware one, and B was decided.
    signals = [
        [{"kind": "cash_coverage", "observed_at": AWARE, "value": 2.5}],
        [{"kind": "cash_coverage", "observed_at": NAIVE, "value": 0.1}],
    ]
    pairs = zip("AB", signals, strict=True)
    rows = [dict(case_dict(case_id=i), signals=s, events=[]) for i, s in pairs]
    plain = [(r.case_id, r.error) for r in Engine("default").decide_many(rows, as_of=AS_OF)]
    assert plain[0] == ("A", None)
    assert plain[1][0] == "B"
    assert isinstance(plain[1][1], InputError)
    frame = _cases(signals=signals)
    for name, outcome in _entry_points(frame).items():
        assert isinstance(outcome, InputError), name
        (problem,) = outcome.problems
        assert problem.path.endswith(".signals"), name
        assert "(row 1 at '[0].observed_at' has none)" in problem.message, name


def test_aware_nested_times_in_several_zones_still_decide() -> None:
    other = AWARE.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    signals = [
        [{"kind": "cash_coverage", "observed_at": AWARE, "value": 2.5}],
        [{"kind": "cash_coverage", "observed_at": other, "value": 0.1}],
    ]
    outcomes = _entry_points(_cases(signals=signals))
    assert outcomes["frame.decide"] == []
    assert outcomes["durable"] == outcomes["python"] == [("A", None), ("B", None)]


# ------------------------------------------ a table of an array without its id


def _shipped_lines(name: str) -> list[str]:
    from importlib import resources

    text = (resources.files("collectrules.policies") / f"{name}.toml").read_text("utf-8")
    return text.split("\n")


def _renamed(lines: list[str], old: str, new: str) -> tuple[list[str], int]:
    """``lines`` with the first line that is ``old`` renamed to ``new``, and its number."""
    index = next(i for i, line in enumerate(lines) if line.startswith(old))
    out = lines[:]
    out[index] = new + out[index][len(old) :]
    return out, index + 1


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ('id = "presumption"', "layers[0]"),
        ('id = "PRESUME-LATE"', "layers[presumption].rules[0]"),
        ('id = "R-P1-REMIND-ONLY"', "remedies.rules[0]"),
    ],
)
def test_a_rule_without_its_id_is_named_at_its_own_table(
    tmp_path: Path, written: str, path: str
) -> None:
    # The missing id was reported at line 6 (the policy's own ``id = "default"``, the
    # first line of the file giving an id), and the misspelt key at no line at all.
    lines, at = _renamed(_shipped_lines("default"), written, "idd" + written[2:])
    file = tmp_path / "policy.toml"
    file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    found = {p.path: p for p in info.value.problems}
    missing = found[f"{path}.id"]
    assert (missing.source, missing.line) == (str(file), at - 1)  # the [[…]] header
    assert lines[at - 2].startswith("[[")
    unknown = next(p for p in info.value.problems if p.path.endswith("].idd"))
    assert (unknown.source, unknown.line) == (str(file), at)
    assert unknown.suggestion == "id"


def test_a_stage_without_its_id_is_named_at_its_table(tmp_path: Path) -> None:
    # It was reported at line 1 of the file.
    file = tmp_path / "lender.toml"
    file.write_text(
        'extends = "default"\nid = "lender"\nversion = "1"\n\n'
        '[[timeline.plans.loan]]\ntitle = "first"\nanchor = "due_date"\nwithin = "1 day"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    (problem,) = info.value.problems
    assert problem.path == "timeline.plans.loan[0].id"
    assert (problem.source, problem.line) == (str(file), 5)


def test_a_misspelt_key_of_a_regulation_class_is_named_at_its_line(tmp_path: Path) -> None:
    # A class names its rule with ``rule = …``, which is no ``id = …`` line: the
    # unknown key was reported at no line.
    lines = _shipped_lines("ifrs9")
    start = lines.index("[[regulation.IFRS9.classes]]")
    lines[start + 2] = lines[start + 2].replace("label_en", "label_english", 1)
    file = tmp_path / "ifrs9.toml"
    file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    (problem,) = info.value.problems
    assert problem.path == "regulation.IFRS9.classes[0].label_english"
    assert (problem.source, problem.line) == (str(file), start + 3)
    assert problem.suggestion == "label_en"
