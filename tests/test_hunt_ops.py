"""Defects a lender hits in the collector's day: the contact history, the worklist's rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine
from collectrules.cli import main
from collectrules.model.limits import MAX_EVENTS
from helpers import case_dict
from operations_helpers import OPENING, portfolio, write_jsonl

#: A loan with one contact attempt of its own.
CASE: dict[str, Any] = case_dict(
    case_id="HUNT-1",
    events=[
        {
            "kind": "contact_attempt",
            "at": "2026-04-03T09:00:00+08:00",
            "outcome": "no_answer",
            "channel": "phone",
        }
    ],
)


def _attempt(minute: int) -> str:
    hour, minute = divmod(minute, 60)
    day, hour = divmod(hour, 24)
    at = f"2026-01-{1 + day:02d}T{hour:02d}:{minute:02d}:00+08:00"
    return json.dumps(
        {"kind": "contact_attempt", "at": at, "outcome": "no_answer", "channel": "phone"}
    )


def _contact(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, history: list[str]
) -> tuple[int, str]:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(line + "\n" for line in history), encoding="utf-8")
    args = ["contact", str(case), "--channel", "phone", "--at", "2026-04-03T13:00:00+08:00"]
    code = main([*args, "--history", str(events), "--policy", "cn_bank_loan"])
    return code, capsys.readouterr().err


def test_a_history_past_the_event_limit_is_refused_at_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The case has one event of its own: the history's 1,000th line makes 1,001.
    code, err = _contact(capsys, tmp_path, [_attempt(m) for m in range(MAX_EVENTS + 200)])
    assert code == 2
    assert f"events.jsonl:{MAX_EVENTS}: more than 1,000 events" in err


def test_a_history_past_the_event_limit_is_not_read_to_its_end(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Read to its end and compared event with event, 30,000 lines took 24 s before
    # the refusal; the rows past the limit are not read (this bad one is not reported).
    history = [_attempt(m) for m in range(MAX_EVENTS + 5)] + ["not json"]
    code, err = _contact(capsys, tmp_path, history)
    assert code == 2
    assert f"events.jsonl:{MAX_EVENTS}:" in err
    assert f"events.jsonl:{MAX_EVENTS + 6}" not in err
    assert "invalid JSON" not in err


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("cn_bank_loan", backend="python")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.integers(0, 3), min_size=1, max_size=7))
def test_a_repeated_case_names_the_row_it_was_first_met_at(
    engine: Engine, picks: list[int]
) -> None:
    base = portfolio(4)
    rows = [base[p] for p in picks]
    wl = engine.worklist(rows, as_of=OPENING)
    list(wl)
    first: dict[str, int] = {}
    expected = []
    for index, row in enumerate(rows):
        at = first.setdefault(row["case_id"], index)
        if at != index:
            expected.append((index, row["case_id"], at))
    assert [(f.index, f.case_id, f.first_row) for f in wl.failures] == expected
    for f in wl.failures:
        assert f"(first at row {f.first_row})" in str(f.error)


def test_the_worklist_command_names_the_file_and_line_of_a_repeated_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    one, two = portfolio(2)
    path = tmp_path / "cases.jsonl"
    write_jsonl(path, [one, two, one])
    # Two unreadable rows first: the worklist never counts them among its rows.
    path.write_text('not json\n{"case_id": 5}\n' + path.read_text(encoding="utf-8"))
    code = main(
        ["worklist", str(path), "--as-of", OPENING, "-p", "cn_bank_loan", "--format", "csv"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert f"{path}:5: case_id: case '{one['case_id']}' is listed again" in err
    assert f"(first at {path}:3)" in err


@pytest.mark.parametrize("first", ["not json", '{"case_id": "X-1"}', '{"policy": "default"}'])
def test_kpis_take_the_targets_of_the_policy_the_decisions_name_past_a_bad_first_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, first: str
) -> None:
    decided = tmp_path / "decisions.jsonl"
    engine = Engine("default", backend="python")
    decisions = [engine.decide(Case.from_dict(c), as_of=OPENING) for c in portfolio(3)]
    decided.write_text("".join(d.to_json() + "\n" for d in decisions), encoding="utf-8")
    with_bad = tmp_path / "with_bad.jsonl"
    with_bad.write_text(first + "\n" + decided.read_text(encoding="utf-8"), encoding="utf-8")
    main(["kpis", str(decided), "--previous", str(decided), "--format", "json"])
    clean = json.loads(capsys.readouterr().out)["total"]["targets"]
    code = main(["kpis", str(with_bad), "--previous", str(decided), "--format", "json"])
    out = capsys.readouterr()
    assert code == 1  # the bad row is reported
    assert clean  # the default policy has a recovery target
    assert json.loads(out.out)["total"]["targets"] == clean
