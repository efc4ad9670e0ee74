"""The entry points that take a policy's name, a policy's data or a decision's JSON from
outside the program answer an argument of the wrong kind, bytes that are not UTF-8 and
nesting past what can be read with a ``CollectRulesError`` naming what was expected,
never a ``TypeError``, ``OSError``, ``UnicodeDecodeError`` or ``RecursionError``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collectrules import Decision, Engine, InputError, PolicyError
from collectrules.frame import decide as frame_decide
from collectrules.policy import load_policy, policy_from_dict

AS_OF = "2026-06-30T12:00:00+08:00"

NOT_A_NAME: list[Any] = [5, None, b"default", ["default"], 1.5, {"id": "x"}]


@pytest.mark.parametrize("value", NOT_A_NAME, ids=repr)
def test_a_policy_named_by_something_not_a_name_or_path_is_a_policy_error(value: Any) -> None:
    for load in (load_policy, Engine):
        with pytest.raises(PolicyError) as caught:
            load(value)
        message = str(caught.value)
        assert "expected a shipped policy's name or a policy file's path" in message
        assert type(value).__name__ in message


def test_the_columnar_entry_point_checks_the_policy_argument_too() -> None:
    with pytest.raises(PolicyError, match="got int"):
        frame_decide(_cases(), policy=5, as_of=AS_OF)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    ["x" * 5000, "x" * 5000 + ".toml", Path("y" * 300 + ".toml"), "a\0b.toml"],
    ids=["long name", "long file", "long path", "NUL"],
)
def test_a_policy_path_the_file_system_refuses_is_a_policy_error(name: str | Path) -> None:
    # A name past the file system's length (ENAMETOOLONG) or holding NUL.
    with pytest.raises(PolicyError):
        load_policy(name)


@pytest.mark.parametrize("data", [5, "x", [":"], None, b"{}"], ids=repr)
def test_policy_data_that_is_not_a_table_is_a_policy_error(data: Any) -> None:
    with pytest.raises(
        PolicyError, match=f"expected a policy as a table of keys, got {type(data).__name__}"
    ):
        policy_from_dict(data)


def test_decision_json_that_is_not_utf8_is_an_input_error_naming_the_byte() -> None:
    with pytest.raises(InputError, match=r"not UTF-8 text: a byte 0xff at byte 1"):
        Decision.from_json(b"{\xff}")


@pytest.mark.parametrize("value", [5, None, ["{}"], {"case_id": "A"}], ids=repr)
def test_decision_json_of_the_wrong_kind_is_an_input_error(value: Any) -> None:
    with pytest.raises(InputError, match=f"as text or bytes, got {type(value).__name__}"):
        Decision.from_json(value)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, b"[" * 100_000 + b"]" * 100_000, '{"a":' * 50_000],
    ids=["open", "bytes", "objects"],
)
def test_decision_json_nested_past_reading_is_an_input_error(text: str | bytes) -> None:
    with pytest.raises(InputError, match="nested too deep to read"):
        Decision.from_json(text)


def _cases() -> Any:
    import polars as pl

    return pl.DataFrame(
        [
            {
                "case_id": "A",
                "product": "loan",
                "currency": "CNY",
                "principal": "1000",
                "overdue_amount": "100",
                "due_date": "2026-05-01",
                "timezone": "Asia/Shanghai",
            }
        ]
    )


@pytest.mark.parametrize("label", ["signals", "events"])
def test_a_long_table_with_case_ids_that_are_not_text_is_an_input_error(label: str) -> None:
    import polars as pl

    long = pl.DataFrame({"case_id": [5], "kind": ["refused_to_pay"]})
    tables = (long, None) if label == "signals" else (None, long)
    with pytest.raises(
        InputError, match=f"{label}.case_id: expected text case ids, got a column of Int64"
    ):
        frame_decide(_cases(), *tables, as_of=AS_OF)


@pytest.mark.parametrize("team", [5, ["a"], b"team.toml"], ids=repr)
def test_a_worklist_team_of_the_wrong_kind_is_an_input_error(team: Any) -> None:
    # It was an AttributeError once the worklist read the team's owners.
    with pytest.raises(
        InputError,
        match=f"team: expected a Team, a team file's path or None, got {type(team).__name__}",
    ):
        Engine("default").worklist([], as_of=AS_OF, team=team)


_POLICY = load_policy("default")
_WITNESSES = [
    ({"dpd": 10**9}, "witness.dpd", "-1,000,000,000 days from 2026-06-30 is outside the years"),
    ({"days_to_maturity": 10**6}, "witness.days_to_maturity", "1,000,000 days from 2026-06-30"),
    ({"refused_to_pay": 10**9}, "witness.refused_to_pay", "at most 1,000 signals in all, got"),
    ({"guarantors": 10**9}, "witness.guarantors", "expected at most 50 guarantors, got 1,000"),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "field", "text"),
    [
        (("default", AS_OF, {}), {}, "policy", "expected a Policy, got str"),
        ((_POLICY, 5, {}), {}, "as_of", "expected"),
        ((_POLICY, AS_OF, ["dpd"]), {}, "witness", "expected a mapping of fact names"),
        ((_POLICY, AS_OF, {}, 5), {}, "world", "expected a text, got int"),
        ((_POLICY, AS_OF, {}), {"case_id": None}, "case_id", "expected a text, got NoneType"),
        *(((_POLICY, AS_OF, witness), {}, field, text) for witness, field, text in _WITNESSES),
    ],
    ids=[
        "policy",
        "as_of",
        "witness",
        "world",
        "case_id",
        "dpd",
        "maturity",
        "count",
        "guarantors",
    ],
)
def test_the_verifiers_case_builder_refuses_what_it_cannot_build(
    args: tuple[Any, ...], kwargs: dict[str, Any], field: str, text: str
) -> None:
    # Each was an AttributeError, an OverflowError ("date value out of range"), or a list
    # of a billion signals built in memory.
    from collectrules.authoring.verify import build_case

    with pytest.raises(InputError) as caught:
        build_case(*args, **kwargs)
    (problem,) = caught.value.problems
    assert problem.path == field
    assert text in problem.message


# ------------------------------------------------ paths no file system can encode

#: A lone surrogate below U+DC80: no file name's byte reads as one (Python holds a byte
#: that is not UTF-8 as U+DC80 to U+DCFF), and the file system cannot be asked for it.
_UNENCODABLE = "a\ud800"


def _path_entry_points(tmp_path: Path) -> dict[str, Any]:
    """Each public entry point that takes a file's path, called with ``name``."""
    from collectrules.batch import run_batch
    from collectrules.calendars import CalendarSchedule
    from collectrules.frame.files import run_columnar
    from collectrules.io import case_files, load_column_map, read_rows
    from collectrules.operations import load_team

    good = tmp_path / "cases.jsonl"
    good.write_text("", encoding="utf-8")
    engine = Engine("default", backend="python")
    out = tmp_path / "out.jsonl"
    return {
        "read_rows": lambda name: list(read_rows([name])),
        "case_files": lambda name: case_files([name]),
        "load_column_map": load_column_map,
        "load_team": load_team,
        "CalendarSchedule.load": CalendarSchedule.load,
        "run_batch inputs": lambda name: run_batch([name], engine=engine, out=out, as_of=AS_OF),
        "run_batch out": lambda name: run_batch([good], engine=engine, out=name, as_of=AS_OF),
        "run_batch errors": lambda name: run_batch(
            [good], engine=engine, out=out, errors=name, as_of=AS_OF
        ),
        "run_columnar out": lambda name: run_columnar(
            [good], policy=engine.policy, out=name, as_of=AS_OF
        ),
    }


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".toml", ""])
def test_a_path_no_file_system_can_encode_is_an_input_error(tmp_path: Path, suffix: str) -> None:
    """Each raised ``UnicodeEncodeError`` from the file system call (``Path.stat``)."""
    for label, call in _path_entry_points(tmp_path).items():
        with pytest.raises(InputError) as caught:
            call(str(tmp_path / f"{_UNENCODABLE}{suffix}"))
        assert "a path cannot hold a lone surrogate no file name holds" in str(caught.value), label


def test_a_policy_path_no_file_system_can_encode_is_not_called_a_nul() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(f"{_UNENCODABLE}.toml")
    assert "lone surrogate" in str(caught.value)
    assert "NUL" not in str(caught.value)


@pytest.mark.parametrize("value", [5, None, b"x.toml", "a\0b.toml"], ids=repr)
def test_a_calendar_schedule_path_of_the_wrong_kind_is_an_input_error(value: Any) -> None:
    """``CalendarSchedule.load(5)`` raised ``TypeError`` from ``Path(5)``."""
    from collectrules.calendars import CalendarSchedule

    with pytest.raises(InputError, match=r"^path: "):
        CalendarSchedule.load(value)


def test_a_search_folder_no_file_system_can_encode_is_a_policy_error(tmp_path: Path) -> None:
    """``load_policy(..., search_path=["a\\ud800"])`` raised ``UnicodeEncodeError`` while
    looking for the policy an ``extends`` names."""
    child = tmp_path / "child.toml"
    child.write_text('extends = "base"\nid = "child"\nversion = "1"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"search_path\[0\]: expected a folder's path"):
        load_policy(child, search_path=[_UNENCODABLE])


def test_a_polars_table_of_cases_is_read_as_rows_and_a_lazy_one_is_refused() -> None:
    # Iterating a polars DataFrame gives its columns: each was a bad row ("expected an
    # object, got Series") and no case was decided, planned or compared. Its rows are
    # read now, as an Arrow table's are; a LazyFrame holds no rows until collected.
    from collectrules.authoring import impact

    engine = Engine(backend="python")
    frame = _cases()
    decided = list(engine.decide_many(frame, as_of=AS_OF))
    assert [(r.case_id, r.error) for r in decided] == [("A", None)]
    as_arrow = list(engine.decide_many(frame.to_arrow(), as_of=AS_OF))
    assert decided[0].decision == as_arrow[0].decision
    worklist = engine.worklist(frame, as_of=AS_OF)
    assert {line.case_id for line in worklist} == {"A"}  # a line per open step
    assert not worklist.failures
    lazy = frame.lazy()
    with pytest.raises(InputError, match=r"rows: .* got a polars LazyFrame: pass frame.collect"):
        list(engine.decide_many(lazy, as_of=AS_OF))
    with pytest.raises(InputError, match=r"cases: .* got a polars LazyFrame: pass frame.collect"):
        engine.worklist(lazy, as_of=AS_OF)
    for table, later in ((frame, ""), (lazy, ".collect()")):
        # impact reads rows one by one, and no table.
        with pytest.raises(
            InputError, match=rf"cases: .* got a polars \w+: pass its rows as dicts, frame{later}"
        ):
            impact(engine.policy, engine.policy, table, as_of=AS_OF)


@pytest.mark.parametrize("kind", ["pandas", "pyarrow"])
def test_a_pandas_or_arrow_table_given_to_impact_is_refused_naming_it(kind: str) -> None:
    # A pandas DataFrame's column names were each a bad row of the impact report.
    from collectrules.authoring import impact

    rows = _cases().to_dicts()
    if kind == "pandas":
        import pandas as pd

        table: Any = pd.DataFrame(rows)
    else:
        import pyarrow as pa

        table = pa.Table.from_pylist(rows)
    policy = load_policy("default")
    with pytest.raises(InputError, match=f"cases: .* got a {kind} .*: pass its rows as dicts"):
        impact(policy, policy, table, as_of=AS_OF)
    assert impact(policy, policy, rows, as_of=AS_OF).decided == 1
