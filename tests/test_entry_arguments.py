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
