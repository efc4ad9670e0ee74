"""Hostile input to ``collectrules.operations``: team files, worklists, changes, the report.

Every public entry point raises only :class:`~collectrules.errors.CollectRulesError`
subclasses, with short messages naming the field, file and line; a bad row is reported
and the good ones still handled; capacities are never exceeded; the same inputs give
the same bytes.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectrules.operations.worklist as worklist_module
from collectrules import Engine
from collectrules.cli import main
from collectrules.errors import EngineError, InputError
from collectrules.model.time import require_aware
from collectrules.operations import (
    Owner,
    PlannedCase,
    RowFailure,
    Team,
    Worklist,
    load_team,
    team_from_dict,
)
from collectrules.operations.changes import Moves, compare_runs, read_run
from collectrules.operations.report import build_report
from collectrules.operations.rows import DecisionRow, decision_row, step_names
from collectrules.operations.team import UNASSIGNED
from operations_helpers import OPENING, portfolio, templates, write_jsonl

AS_OF = require_aware(OPENING)

#: Late in the supported years: the next contact time of a line falls after 2200.
LATE = "2200-12-31T23:00:00+08:00"

#: An error message quoting a hostile value stays about this short.
SHORT = 1_000


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("cn_bank_loan", backend="python")


@pytest.fixture(scope="module")
def decisions(engine: Engine) -> list[dict[str, Any]]:
    results = engine.decide_many(portfolio(6, seed=11), as_of=OPENING)
    return [r.decision.to_dict() for r in results]  # type: ignore[union-attr]


def _team(**fields: Any) -> dict[str, Any]:
    return {"owner": [{"id": "a", **fields}]}


def _message(error: BaseException) -> str:
    return str(error)


def _outcome(call: Callable[[], Any]) -> Any:
    """What ``call`` returns, or the InputError it raises (any other error escapes)."""
    try:
        return call()
    except InputError as exc:
        return exc


# --------------------------------------------------------------------------- team file


@pytest.mark.parametrize(
    "capacity",
    [-1, 10**400, 1.5, math.nan, math.inf, True, "5", [], {"a": 1}],
    ids=["negative", "huge", "float", "nan", "inf", "bool", "text", "list", "table"],
)
def test_a_bad_capacity_names_the_field_and_what_it_got(capacity: object) -> None:
    with pytest.raises(InputError) as info:
        team_from_dict(_team(capacity=capacity))
    message = _message(info.value)
    assert info.value.paths == ("owner[0].capacity",)
    assert "expected a whole number from 0 to 10,000,000, got" in message
    assert len(message) < SHORT


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", 10**5000),
        ("role", 10**5000),
        ("min_amount", 10**5000),
        ("max_amount", -(10**5000)),
        ("quadrants", [10**5000]),
        ("channels", 10**5000),
    ],
    ids=["id", "role", "min_amount", "max_amount", "quadrants", "channels"],
)
def test_an_integer_too_long_to_write_is_an_input_error(key: str, value: object) -> None:
    with pytest.raises(InputError) as info:
        team_from_dict(_team(**{key: value}))
    assert info.value.paths == (f"owner[0].{key}",)
    assert "digits" in _message(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", ["x" * 1_000_000]),
        ("role", ["x" * 1_000_000]),
        ("min_amount", "x" * 1_000_000),
        ("quadrants", [1] * 100_000),
        ("step_roles", "x" * 1_000_000),
    ],
    ids=["id", "role", "min_amount", "quadrants", "step_roles"],
)
def test_an_error_quoting_a_huge_value_stays_short(key: str, value: object) -> None:
    with pytest.raises(InputError) as info:
        team_from_dict(_team(**{key: value}))
    assert info.value.paths == (f"owner[0].{key}",)
    assert len(_message(info.value)) < SHORT


def test_team_from_dict_text_of_another_kind_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        team_from_dict(_team(capacity=-1), source="team.toml", text=5)  # type: ignore[arg-type]
    assert info.value.paths == ("text",)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data",
    [
        b"x = " + b"[" * 50_000 + b"]" * 50_000,
        b"x = " + b"{a=" * 50_000 + b"1" + b"}" * 50_000,
    ],
    ids=["arrays", "inline-tables"],
)
def test_a_team_file_nested_too_deeply_is_an_input_error(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "team.toml", data)
    with pytest.raises(InputError) as info:
        load_team(path)
    message = _message(info.value)
    assert str(path) in message
    assert "nested too deeply" in message


def test_a_team_file_with_an_integer_too_long_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "team.toml", b"[[owner]]\nid = 'a'\ncapacity = " + b"9" * 5_000)
    with pytest.raises(InputError) as info:
        load_team(path)
    message = _message(info.value)
    assert str(path) in message
    assert "not valid TOML" in message


@pytest.mark.parametrize(
    "data",
    [b"x = " + b"[" * 50_000 + b"]" * 50_000, b"[[owner]]\nid = 'a'\ncapacity = " + b"9" * 5_000],
    ids=["deep", "long-integer"],
)
def test_cli_hostile_team_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", portfolio(2))
    team = _write(tmp_path, "team.toml", data)
    code = main(["worklist", str(cases), "--as-of", OPENING, "--team", str(team)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {team}")
    assert "Traceback" not in err
    assert "\n" not in err.strip()


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"id": ""}, "id"),
        ({"id": 5}, "id"),
        ({"id": "a", "capacity": -1}, "capacity"),
        ({"id": "a", "capacity": math.nan}, "capacity"),
        ({"id": "a", "capacity": True}, "capacity"),
        ({"id": "a", "capacity": 1.5}, "capacity"),
        ({"id": "a", "capacity": "3"}, "capacity"),
        ({"id": "a", "capacity": 10**400}, "capacity"),
        ({"id": "a", "role": None}, "role"),
        ({"id": "a", "quadrants": frozenset({"Q9"})}, "quadrants"),
        ({"id": "a", "channels": "phone"}, "channels"),
        ({"id": "a", "buckets": {"M": "M1"}}, "buckets"),
        ({"id": "a", "min_amount": Decimal("NaN")}, "min_amount"),
        ({"id": "a", "min_amount": Decimal(-1)}, "min_amount"),
        ({"id": "a", "max_amount": 5}, "max_amount"),
        ({"id": "a", "min_amount": Decimal(5), "max_amount": Decimal(5)}, "max_amount"),
    ],
)
def test_an_owner_built_by_hand_is_checked(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as info:
        Owner(**fields)
    assert info.value.paths == (path,)
    assert len(_message(info.value)) < SHORT


@pytest.mark.parametrize(
    "owners",
    [
        (Owner("a", capacity=1), Owner("a")),
        (Owner(UNASSIGNED, capacity=1),),
        ("ab",),
        "ab",
        (),
    ],
    ids=["repeated", "reserved", "not-owners", "text", "empty"],
)
def test_a_team_built_by_hand_is_checked(owners: Any) -> None:
    with pytest.raises(InputError) as info:
        Team(owners)
    assert all(p.startswith("owners") for p in info.value.paths)


def test_a_team_built_from_a_list_is_a_hashable_tuple() -> None:
    team = Team([Owner("a", capacity=1)])  # type: ignore[arg-type]
    assert team.owners == (Owner("a", capacity=1),)
    assert hash(team) == hash(Team((Owner("a", capacity=1),)))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.builds(pow, st.sampled_from([10, -10]), st.sampled_from([400, 5001])),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["Q1", "Q9", "phone", "1e999999", "-0", "NaN", "sNaN", "", " "]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_OWNER_TABLES = st.dictionaries(
    st.sampled_from(
        ["id", "role", "capacity", "quadrants", "buckets", "step_roles", "channels",
         "min_amount", "max_amount", "capcity", "ID"]
    ),
    _VALUES,
    max_size=6,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=st.lists(_OWNER_TABLES | _VALUES, max_size=4), extra=_VALUES)
def test_any_team_table_gives_a_team_or_a_short_input_error(tables: Any, extra: Any) -> None:
    raw = {"owner": tables} if extra is None else {"owner": tables, "extra": extra}
    outcome = _outcome(lambda: team_from_dict(raw))
    if isinstance(outcome, InputError):
        assert len(str(outcome)) < 20 * SHORT
        assert outcome.problems
    else:
        assert isinstance(outcome, Team)
        assert len(outcome.owners) == len(tables)
        for owner in outcome.owners:
            assert owner.capacity is None or 0 <= owner.capacity <= 10_000_000


# --------------------------------------------------------------------------- worklist


def _lines(wl: Worklist) -> list[dict[str, Any]]:
    return [item.to_dict() for item in wl]


def test_capacities_are_never_exceeded_and_every_line_lands_once(engine: Engine) -> None:
    rows = portfolio(60, seed=5)
    team = Team(
        (
            Owner("zero", capacity=0, quadrants=frozenset({"Q4"})),
            Owner("one", capacity=1, quadrants=frozenset({"Q1"})),
            Owner("few", capacity=3, channels=frozenset({"phone"})),
        )
    )
    plain = list(engine.worklist(rows, as_of=AS_OF))
    wl = engine.worklist(rows, as_of=AS_OF, team=team, run_size=7)
    items = list(wl)
    assert Counter((i.case_id, i.step_id) for i in items) == Counter(
        (i.case_id, i.step_id) for i in plain
    )
    capacity = {o.id: o.capacity for o in team.owners}
    listed = Counter(i.owner for i in items if not i.overflow)
    for owner, cap in capacity.items():
        assert cap is not None
        assert listed[owner] <= cap
    for tally in wl.summary.owners:
        assert tally.listed + tally.overflow == sum(i.owner == tally.owner for i in items)


def test_a_worklist_of_something_not_iterable_is_an_input_error(engine: Engine) -> None:
    for planned in (5, None, "cases"):
        with pytest.raises(InputError) as info:
            Worklist(planned, as_of=AS_OF, policy=engine.policy)  # type: ignore[arg-type]
        assert info.value.paths == ("planned",)


def test_an_entry_that_is_no_planned_case_is_a_failure_and_the_others_listed(
    engine: Engine,
) -> None:
    rows = portfolio(3)
    good = [e for e in engine._planned(rows, AS_OF) if isinstance(e, PlannedCase)]
    entries: list[Any] = [good[0], 7, good[1], None, good[2]]
    wl = Worklist(entries, as_of=AS_OF, policy=engine.policy)
    listed = {i.case_id for i in wl}
    assert listed == {r["case_id"] for r in rows}
    failures = wl.summary.failures
    assert [f.index for f in failures] == [1, 3]
    assert all(isinstance(f.error, InputError) for f in failures)
    assert "expected a PlannedCase or a RowFailure, got int" in str(failures[0].error)
    assert wl.summary.cases + len(failures) == len(entries)


def test_a_next_contact_past_the_supported_years_does_not_stop_the_worklist(
    engine: Engine,
) -> None:
    late = dict(templates()[0], case_id="LATE", due_date="2199-12-31", maturity_date="2200-12-31")
    rows = [late, *portfolio(3)]
    wl = engine.worklist(rows, as_of=LATE)
    items = list(wl)
    assert {i.case_id for i in items} == {r["case_id"] for r in rows}
    assert wl.summary.failures == ()
    phoned = [i for i in items if i.channel == "phone"]
    assert {i.case_id for i in phoned} >= {"LATE"}
    for item in phoned:
        assert item.next_contact_at is None
        assert "no next contact within the instants supported" in item.contact_note
        assert "1900–2200" in item.contact_note


def test_cli_worklist_late_in_the_supported_years_lists_every_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = dict(templates()[0], case_id="LATE", due_date="2199-12-31", maturity_date="2200-12-31")
    rows = [late, *portfolio(3)]
    cases = write_jsonl(tmp_path / "cases.jsonl", rows)
    argv = ["worklist", str(cases), "--as-of", LATE, "-p", "cn_bank_loan", "--format", "jsonl"]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    listed = {json.loads(line)["case_id"] for line in captured.out.splitlines()}
    assert listed == {r["case_id"] for r in rows}


def test_a_case_whose_lines_fail_is_a_failure_and_the_others_listed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = portfolio(4)
    real = worklist_module.work_items

    def failing(planned: PlannedCase, **kwargs: Any) -> Any:
        if planned.case.case_id == rows[1]["case_id"]:
            raise ZeroDivisionError("boom")
        return real(planned, **kwargs)

    monkeypatch.setattr(worklist_module, "work_items", failing)
    seen: list[RowFailure] = []
    wl = engine.worklist(rows, as_of=AS_OF, on_failure=seen.append)
    listed = {i.case_id for i in wl}
    assert listed == {r["case_id"] for r in rows} - {rows[1]["case_id"]}
    (failure,) = wl.summary.failures
    assert seen == [failure]
    assert (failure.index, failure.case_id) == (1, rows[1]["case_id"])
    assert isinstance(failure.error, EngineError)
    assert "ZeroDivisionError: boom" in str(failure.error)


def test_a_planned_case_holding_garbage_is_a_failure_and_the_others_listed(
    engine: Engine,
) -> None:
    rows = portfolio(2)
    good = [e for e in engine._planned(rows, AS_OF) if isinstance(e, PlannedCase)]
    garbage = PlannedCase(good[0].case, "decision", good[0].timeline)  # type: ignore[arg-type]
    wl = Worklist([good[0], garbage, good[1]], as_of=AS_OF, policy=engine.policy)
    assert {i.case_id for i in wl} == {r["case_id"] for r in rows}
    (failure,) = wl.summary.failures
    assert failure.index == 1
    assert isinstance(failure.error, InputError)
    assert "expected a PlannedCase whose decision is a Decision, got str" in str(failure.error)


def test_bad_rows_are_all_counted_and_reported_and_only_the_first_kept(
    engine: Engine,
) -> None:
    kept = worklist_module.MAX_KEPT_FAILURES
    bad = 2 * kept + 5
    rows: list[dict[str, Any]] = [{"case_id": f"BAD-{n}"} for n in range(bad)]
    good = portfolio(2)
    seen: list[RowFailure] = []
    wl = engine.worklist([*rows, *good], as_of=AS_OF, on_failure=seen.append)
    assert {i.case_id for i in wl} == {r["case_id"] for r in good}
    assert len(seen) == bad
    assert [f.index for f in wl.failures] == list(range(kept))
    summary = wl.summary
    assert summary.failed_rows == bad
    assert summary.to_dict()["failed_rows"] == bad
    assert summary.cases + summary.failed_rows == len(rows) + len(good)


def test_a_duplicated_case_id_is_listed_deterministically(engine: Engine) -> None:
    row = portfolio(1)[0]
    rows = [row, dict(row, overdue_amount="99999.00"), row]
    first = _lines(engine.worklist(rows, as_of=AS_OF, run_size=1))
    second = _lines(engine.worklist(rows, as_of=AS_OF, run_size=1))
    assert first == second
    assert [line["rank"] for line in first] == list(range(1, len(first) + 1))


def test_cli_worklist_gives_the_same_bytes_twice(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", portfolio(20, seed=9))
    team = _write(tmp_path, "team.toml", b"[[owner]]\nid = 'a'\ncapacity = 5\n")
    outputs = []
    for fmt in ("jsonl", "jsonl", "csv", "csv"):
        args = ["worklist", str(cases), "--as-of", OPENING, "--team", str(team), "--format", fmt]
        assert main([*args, "--run-size", "3"]) == 0
        outputs.append(capsysbinary.readouterr())
    assert outputs[0] == outputs[1]
    assert outputs[2] == outputs[3]


# --------------------------------------------------------------------------- decision rows


def test_a_dpd_of_another_kind_names_the_file_and_line(decisions: list[dict[str, Any]]) -> None:
    row = json.loads(json.dumps(decisions[0]))
    row["facts"]["dpd"] = "5"
    with pytest.raises(InputError) as info:
        decision_row(row, "run.jsonl:7")
    assert str(info.value).startswith("run.jsonl:7: facts.dpd: expected a whole number")


def test_decision_row_where_of_another_kind_names_where(decisions: list[dict[str, Any]]) -> None:
    with pytest.raises(InputError) as info:
        decision_row(decisions[0], 5)  # type: ignore[arg-type]
    assert info.value.paths == ("where",)


def test_every_line_of_a_run_lands_in_rows_or_problems(decisions: list[dict[str, Any]]) -> None:
    hostile: list[dict[str, Any]] = [
        decisions[0],
        decisions[0],  # repeated case id
        {**decisions[1], "as_of": "9999-12-31T00:00:00+00:00"},
        {**decisions[2], "as_of": "2026-04-03T12:00:00"},
        {**decisions[3], "facts": {**decisions[3]["facts"], "overdue_amount": "1e400"}},
        {**decisions[4], "facts": {**decisions[4]["facts"], "step_x": "weird"}},
        {**decisions[5], "case_id": ""},
        {},
    ]
    lines = [(f"run:{n}", d) for n, d in enumerate(hostile, start=1)]
    rows, problems = read_run(lines)
    assert len(rows) + len(problems) == len(lines)
    assert [p.where for p in problems] == [f"run:{n}" for n in range(2, 9)]


@pytest.mark.parametrize(
    "run",
    [{5: None}, {"wrong-id": None}],
    ids=["key-not-text", "key-not-the-case-id"],
)
def test_a_run_given_by_case_id_is_checked(decisions: list[dict[str, Any]], run: Any) -> None:
    rows, _ = read_run([("run:1", decisions[0])])
    (row,) = rows.values()
    given = dict.fromkeys(run, row)
    with pytest.raises(InputError) as info:
        compare_runs({**rows, **given}, rows)
    assert info.value.paths[0].startswith("old[")


def test_step_names_of_something_not_a_policy_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        step_names(5)  # type: ignore[arg-type]
    assert info.value.paths == ("policy",)


@pytest.mark.parametrize(
    "counts",
    [5, {"a": 5}, {"a": {"b": -1}}, {"a": {"b": True}}, {1: {"b": 1}}],
    ids=["not-mapping", "row-not-mapping", "negative", "bool", "key-not-text"],
)
def test_moves_built_by_hand_are_checked(counts: Any) -> None:
    with pytest.raises(InputError) as info:
        Moves(counts)
    assert info.value.paths[0].startswith("counts")


_DECISION_FIELDS = (
    "case_id",
    "as_of",
    "quadrant",
    "buckets",
    "regulatory",
    "allowed",
    "blocked",
    "policy",
    "facts.dpd",
    "facts.currency",
    "facts.overdue_amount",
    "facts.principal",
    "facts.step_l_24h",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(st.tuples(st.sampled_from(_DECISION_FIELDS), _VALUES), max_size=3),
    dropped=st.sets(st.sampled_from(_DECISION_FIELDS), max_size=2),
)
def test_any_damaged_decision_is_a_row_or_an_input_error_naming_its_line(
    decisions: list[dict[str, Any]],
    changes: list[tuple[str, Any]],
    dropped: set[str],
) -> None:
    data = json.loads(json.dumps(decisions[0]))
    for name, value in changes:
        where, _, key = name.rpartition(".")
        (data["facts"] if where else data)[key] = value
    for name in dropped:
        where, _, key = name.rpartition(".")
        (data["facts"] if where else data).pop(key, None)
    outcome = _outcome(lambda: decision_row(data, "run.jsonl:3"))
    if isinstance(outcome, InputError):
        assert "run.jsonl:3: " in str(outcome)
        assert len(str(outcome)) < 20 * SHORT
    else:
        assert isinstance(outcome, DecisionRow)
        assert outcome.case_id == data["case_id"]
        assert outcome.quadrant in ("Q1", "Q2", "Q3", "Q4")


# --------------------------------------------------------------------------- changes, report


def _hostile_file(path: Path, decisions: list[dict[str, Any]]) -> Path:
    lines = [
        json.dumps(decisions[0]).encode(),
        json.dumps(decisions[0]).encode(),
        b"{truncated",
        b"[" * 100_000,
        json.dumps({**decisions[1], "as_of": "0001-01-01T00:00:00+00:00"}).encode(),
        b"\xff\xfe not utf-8",
        b"null",
        json.dumps(decisions[2]).encode(),
    ]
    path.write_bytes(b"\n".join(lines))  # the last line has no newline
    return path


def _each_call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[int, str]]:
    for _ in range(2):
        code = main(argv)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        yield code, captured.out


def test_cli_changes_reports_each_bad_line_and_is_deterministic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], decisions: list[dict[str, Any]]
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", decisions)
    hostile = _hostile_file(tmp_path / "hostile.jsonl", decisions)
    argv = ["changes", str(good), str(hostile), "--format", "json"]
    (code, first), (_, second) = _each_call(argv, capsys)
    assert code == 1
    assert first == second
    assert json.loads(first)["compared"] == 2
    main(argv)
    err = capsys.readouterr().err
    for line in (2, 3, 4, 5, 6, 7):
        assert f"{hostile}:{line}:" in err


def test_cli_report_is_deterministic_with_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], decisions: list[dict[str, Any]]
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", decisions)
    hostile = _hostile_file(tmp_path / "hostile.jsonl", decisions)
    pages = []
    for name in ("a.html", "b.html"):
        out = tmp_path / name
        code = main(["report", str(hostile), "--previous", str(good), "--out", str(out)])
        assert code == 1
        assert "report of 2 case(s)" in capsys.readouterr().err
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]


def test_the_report_escapes_hostile_names(decisions: list[dict[str, Any]]) -> None:
    row = json.loads(json.dumps(decisions[0]))
    row["buckets"] = [{"bucket_set": "</script><script>alert(1)</script>", "bucket": "<img>"}]
    row["regulatory"] = [{"pack": "<b>pack</b>", "value": "<i>"}]
    rows, problems = read_run([("run:1", row)])
    assert problems == []
    page = build_report(rows, previous=rows)
    assert "<script>alert(1)" not in page
    assert "<img>" not in page
    assert "<b>pack</b>" not in page


@pytest.mark.parametrize("key", ["min_amount", "max_amount"])
@pytest.mark.parametrize(
    "text",
    ["1_000", " 5", "5 ", "\u0663", "0x10", "1e3.5", ""],
    ids=[
        "underscore",
        "space-before",
        "space-after",
        "arabic-digit",
        "hex",
        "bad-exponent",
        "empty",
    ],
)
def test_a_team_amount_is_written_as_a_case_amount_is(key: str, text: str) -> None:
    # Decimal reads "1_000", " 5" and "\u0663" (3); a case's amounts refuse them, and so
    # does a team file's.
    with pytest.raises(InputError) as info:
        team_from_dict(_team(**{key: text}))
    assert info.value.paths == (f"owner[0].{key}",)
    assert "expected a non-negative amount" in _message(info.value)


@pytest.mark.parametrize("text", ["1000", "1000.50", "+5", ".5", "1e3"])
def test_a_team_amount_written_plainly_still_reads(text: str) -> None:
    team = team_from_dict(_team(min_amount=text))
    assert team.owners[0].min_amount == Decimal(text)
