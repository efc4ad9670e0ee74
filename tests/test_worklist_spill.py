"""The worklist in bounded memory: the external merge sort, and one derivation per case."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectrules.engine.engine as engine_module
import collectrules.timeline.evaluate as evaluate_module
from collectrules import Case, Engine, Guardrails, InputError
from collectrules.cli import main
from collectrules.compliance.guardrails import guardrails_of
from collectrules.model.time import require_aware
from collectrules.operations._spill import SpillSort
from collectrules.operations.team import UNASSIGNED, team_from_dict
from collectrules.operations.worklist import (
    EVERYONE,
    PlannedCase,
    WorkItem,
    work_items,
)
from collectrules.policy import load_policy
from collectrules.policy.derive import derive
from collectrules.timeline.evaluate import build_timeline
from operations_helpers import OPENING, portfolio, write_jsonl

AS_OF = require_aware(OPENING)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("cn_bank_loan", backend="python")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return portfolio(80, seed=23)


# --------------------------------------------------------------------------- the sort


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.integers(0, 20), max_size=300),
    run_size=st.integers(1, 40),
    fan_in=st.integers(2, 5),
)
def test_the_spilled_sort_is_the_stable_in_memory_sort(
    keys: list[int], run_size: int, fan_in: int
) -> None:
    """Items with equal keys keep the order they were added in, as with ``sorted``."""
    items = list(enumerate(keys))  # (arrival, key): equal keys, distinct items
    sorter: SpillSort[tuple[int, int]] = SpillSort(
        lambda item: item[1], run_size=run_size, fan_in=fan_in
    )
    for item in items:
        sorter.add(item)
    assert len(sorter) == len(items)
    assert sorter.runs_written >= len(items) // run_size  # full buffers went to disk
    assert list(sorter.drain()) == sorted(items, key=lambda item: item[1])


def test_many_runs_are_merged_so_few_files_are_open(tmp_path: Path) -> None:
    sorter: SpillSort[int] = SpillSort(lambda n: n, run_size=3, fan_in=4, directory=tmp_path)
    values = [(n * 7919) % 1000 for n in range(200)]
    for value in values:
        sorter.add(value)
    # 66 full runs, merged every time four were on disk: never more than four open.
    assert sorter.runs_written > 66
    assert len(sorter._runs) < 4
    assert list(sorter.drain()) == sorted(values)


def test_a_drained_sort_refuses_more() -> None:
    sorter: SpillSort[int] = SpillSort(lambda n: n, run_size=2)
    sorter.add(1)
    assert list(sorter.drain()) == [1]
    with pytest.raises(InputError, match="already drained"):
        sorter.add(2)
    with pytest.raises(InputError, match="already drained"):
        list(sorter.drain())


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "10"])
def test_a_bad_run_size_names_the_option(engine: Engine, value: Any) -> None:
    with pytest.raises(InputError) as caught:
        engine.worklist([], as_of=AS_OF, run_size=value)
    assert caught.value.problems[0].path == "run_size"
    assert "whole number of at least 1" in str(caught.value)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
def test_the_runs_are_closed_when_the_worklist_ends(
    engine: Engine, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    before = len(os.listdir("/proc/self/fd"))
    wl = engine.worklist(rows, as_of=AS_OF, run_size=4, spill_dir=tmp_path)
    assert sum(1 for _ in wl) > 8
    assert wl.spilled_runs > 2
    assert len(os.listdir("/proc/self/fd")) == before
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the worklist


def _in_memory(engine: Engine, rows: list[dict[str, Any]], team: Any = None) -> list[WorkItem]:
    """The worklist as it was sorted before the spill: every line held, each owner's
    lines sorted by urgency, owners in team order; capped owners keep their most urgent
    ``capacity`` lines and the rest are overflow (yielded first, as they fall out)."""
    owners = [EVERYONE] if team is None else [o.id for o in team.owners] + [UNASSIGNED]
    capacity = {} if team is None else {o.id: o.capacity for o in team.owners}
    by_owner: dict[str, list[WorkItem]] = defaultdict(list)
    for row in rows:
        case = Case.from_dict(row, signal_kinds=tuple(engine.policy.signals))
        planned = PlannedCase(
            case, engine.decide(case, as_of=AS_OF), engine.timeline(case, as_of=AS_OF)
        )
        for item in work_items(planned, as_of=AS_OF, guardrails=_guardrails(engine), team=team):
            by_owner[item.owner].append(item)
    listed: list[WorkItem] = []
    over: list[WorkItem] = []
    for owner in owners:
        lines = sorted(by_owner[owner], key=lambda i: i.urgency)
        cap = capacity.get(owner)
        keep = lines if cap is None else lines[:cap]
        listed += [attrs.evolve(i, rank=n) for n, i in enumerate(keep, start=1)]
        over += [attrs.evolve(i, overflow=True) for i in lines[len(keep) :]]
    return over + listed


def _guardrails(engine: Engine) -> Guardrails | None:
    section = guardrails_of(engine.policy)
    return Guardrails(engine.policy) if section is not None and section.packs else None


def _lines(items: Any) -> list[tuple[Any, ...]]:
    return [(i.to_dict(), i.urgency) for i in items]


@pytest.mark.parametrize("run_size", [1, 7, 1_000_000])
def test_the_spilled_worklist_lists_the_lines_of_the_in_memory_sort(
    engine: Engine, rows: list[dict[str, Any]], run_size: int
) -> None:
    wl = engine.worklist(rows, as_of=AS_OF, run_size=run_size)
    got = list(wl)
    assert _lines(got) == _lines(_in_memory(engine, rows))
    lines = len(got)
    assert wl.summary.lines == lines > 50
    if run_size < lines:  # every full buffer went to disk (and merges wrote more runs)
        assert wl.spilled_runs >= lines // run_size
    else:
        assert wl.spilled_runs == 0


def test_with_a_team_the_spill_keeps_each_owner_in_order(
    engine: Engine, rows: list[dict[str, Any]]
) -> None:
    team = team_from_dict(
        {
            "owner": [
                {"id": "q1", "quadrants": ["Q1"]},
                {"id": "q2.capped", "capacity": 9, "quadrants": ["Q2"]},
                {"id": "visits", "channels": ["visit"]},
                {"id": "q3", "capacity": 4, "quadrants": ["Q3"]},
            ]
        }
    )
    spilled = engine.worklist(rows, as_of=AS_OF, team=team, run_size=5)
    got = list(spilled)
    assert spilled.spilled_runs > 3
    expected = _in_memory(engine, rows, team)

    # Overflow lines come out as they fall out of a capacity: compare them as a set.
    def by_urgency(items: Any) -> list[tuple[Any, ...]]:
        return _lines(sorted(items, key=lambda i: i.urgency))

    assert by_urgency(i for i in got if i.overflow) == by_urgency(i for i in expected if i.overflow)
    assert _lines(i for i in got if not i.overflow) == _lines(i for i in expected if not i.overflow)
    owners = [i.owner for i in got if not i.overflow]
    assert owners == sorted(owners, key=["q1", "q2.capped", "visits", "q3", UNASSIGNED].index)
    tallies = {t.owner: t for t in spilled.summary.owners}
    for owner, tally in tallies.items():
        assert tally.listed == sum(1 for i in got if i.owner == owner and not i.overflow)
    assert tallies[UNASSIGNED].listed > 0


def test_a_case_is_derived_once_for_its_decision_and_timeline(
    engine: Engine, rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worklist derives each case once; its timeline is the one built from that
    derivation, the same as ``Engine.timeline`` gives."""
    calls: list[str] = []
    real = derive

    def counting(case: Case, *args: Any, **kwargs: Any) -> Any:
        calls.append(case.case_id)
        return real(case, *args, **kwargs)

    monkeypatch.setattr(engine_module, "derive", counting)
    monkeypatch.setattr(evaluate_module, "derive", counting)
    planned = list(engine._planned(rows[:12], AS_OF))
    assert sorted(calls) == sorted(r["case_id"] for r in rows[:12])
    monkeypatch.undo()
    for entry in planned:
        assert isinstance(entry, PlannedCase)
        assert entry.timeline == engine.timeline(entry.case, as_of=AS_OF)
        assert entry.decision == engine.decide(entry.case, as_of=AS_OF)


def test_a_derivation_at_another_instant_is_refused(engine: Engine) -> None:
    case = Case.from_dict(portfolio(1)[0], signal_kinds=tuple(engine.policy.signals))
    other = derive(case, AS_OF.add(hours=1), engine.policy)
    with pytest.raises(InputError) as caught:
        build_timeline(case, as_of=AS_OF, policy=engine.policy, derived=other)
    assert caught.value.problems[0].path == "derived.as_of"
    same = derive(case, AS_OF, engine.policy)
    shared = build_timeline(case, as_of=AS_OF, policy=engine.policy, derived=same)
    assert shared == build_timeline(case, as_of=AS_OF, policy=engine.policy)


def test_a_derivation_of_another_case_or_policy_is_refused(engine: Engine) -> None:
    # A derivation handed on with the wrong case gave that case's stage facts to this
    # one's timeline, silently.
    first, second = (
        Case.from_dict(row, signal_kinds=tuple(engine.policy.signals)) for row in portfolio(2)
    )
    other_case = derive(second, AS_OF, engine.policy)
    with pytest.raises(InputError, match="is of case") as caught:
        build_timeline(first, as_of=AS_OF, policy=engine.policy, derived=other_case)
    assert caught.value.problems[0].path == "derived.case_id"
    uk = load_policy("uk")
    with pytest.raises(InputError, match="under another policy than uk") as caught:
        build_timeline(first, as_of=AS_OF, policy=uk, derived=derive(first, AS_OF, engine.policy))
    assert caught.value.problems[0].path == "derived.policy_hash"
    # Equal derivations of equal facts stay equal, whatever case they came from.
    assert derive(first, AS_OF, engine.policy) == derive(first, AS_OF, engine.policy)


def test_cli_run_size_spills_and_lists_the_same_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", portfolio(30, seed=5))
    outputs = []
    for extra in ([], ["--run-size", "3", "--spill-dir", str(tmp_path)]):
        out = tmp_path / f"lines{len(extra)}.jsonl"
        args = ["worklist", str(cases), "--as-of", OPENING, "--policy", "cn_bank_loan"]
        code = main([*args, "--format", "jsonl", "--out", str(out), *extra])
        assert code == 0, capsys.readouterr().err
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") > 20
    code = main(["worklist", str(cases), "--as-of", OPENING, "--run-size", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "run_size" in err
    assert "whole number of at least 1" in err


# --------------------------------------------------------------------------- where runs go


@pytest.mark.parametrize("where", ["a file", "/dev/null", "a missing folder"])
def test_a_spill_folder_that_is_not_one_is_an_input_error_at_once(
    engine: Engine, rows: list[dict[str, Any]], tmp_path: Path, where: str
) -> None:
    """It was a ``NotADirectoryError`` or ``FileNotFoundError`` from ``tempfile`` when
    the first run was written, after every case before it was decided."""
    spill = {
        "a file": tmp_path / "cases.jsonl",
        "/dev/null": Path("/dev/null"),
        "a missing folder": tmp_path / "gone" / "deeper",
    }[where]
    (tmp_path / "cases.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        engine.worklist(rows, as_of=AS_OF, run_size=2, spill_dir=spill)
    assert str(caught.value) == f"spill_dir: expected an existing folder, got {str(spill)!r}"


_FULL_DISK = """
import resource, signal, sys
from collectrules import Engine, OutputError
from operations_helpers import OPENING, portfolio
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4_000, 4_000))
engine = Engine("cn_bank_loan", backend="python")
try:
    list(engine.worklist(portfolio(80, seed=23), as_of=OPENING, run_size=40, spill_dir=sys.argv[1]))
except OutputError as exc:
    print(type(exc).__name__, exc.errno, exc)
"""


def test_a_run_that_cannot_be_written_is_an_output_error(tmp_path: Path) -> None:
    """A full disk (here a file-size limit: ``EFBIG``) raised ``OSError`` from pickle."""
    import errno
    import subprocess
    import sys

    here = Path(__file__).parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)],
        capture_output=True, text=True, check=False, env=env, timeout=300,
    )  # fmt: skip
    assert done.stdout.strip() == (
        f"OutputError {errno.EFBIG} cannot write {tmp_path}: "
        "the file is too large for this system or its limits"
    ), done.stderr
    assert list(tmp_path.iterdir()) == []  # the runs are anonymous, and gone


def test_the_command_line_exits_3_when_a_run_cannot_be_written(
    tmp_path: Path, rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import tempfile

    def full(*_: object, **__: object) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    cases = tmp_path / "cases.jsonl"
    write_jsonl(cases, rows)
    code = main(["worklist", str(cases), "--policy", "cn_bank_loan", "--as-of", OPENING,
                 "--run-size", "2", "--spill-dir", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3, err
    assert f"error: cannot write {tmp_path}: the disk is full (no space left on device)" in err
