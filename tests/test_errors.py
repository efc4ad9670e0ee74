"""Every error pickles whole: a worker process's error reaches the caller as raised."""

from __future__ import annotations

import pickle

import pytest

from collectrules.errors import (
    CollectRulesError,
    ConditionError,
    EngineError,
    EngineLimitError,
    FieldProblem,
    InputError,
    PolicyError,
    RuleActionError,
)

ERRORS: list[CollectRulesError] = [
    InputError([FieldProblem("overdue_amount", "must not be negative", source="a.csv", line=3)]),
    InputError([FieldProblem("a", "x"), FieldProblem("b", "y")], subject="case 'C-1'"),
    PolicyError([FieldProblem("layers[0].when", "unknown field", suggestion="dpd")]),
    ConditionError("unknown field", text="dpdd > 3", column=1, field="dpdd", suggestion="dpd"),
    EngineError("the engine failed"),
    EngineLimitError("too many rules", limit="rules", value=9, maximum=8),
    RuleActionError("R-1", "boom"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_survives_pickling_with_its_message_and_fields(error: CollectRulesError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.args == error.args
    assert vars(again) == vars(error)


def test_a_source_or_path_longer_than_any_file_path_is_cut_in_the_middle() -> None:
    """A policy "name" of 100,000 characters was written whole into its message, twice."""
    from collectrules import load_policy
    from collectrules.errors import MAX_WHERE_LENGTH

    name = "a" + "x" * 100_000 + "z"
    with pytest.raises(PolicyError) as raised:
        load_policy(name)
    text = str(raised.value)
    assert len(text) < 2 * MAX_WHERE_LENGTH + 1_000
    assert "…(95,906 characters)…" in text
    assert text.startswith("a" + "x" * 100)
    assert raised.value.problems[0].source == name  # the problem keeps what was given


def test_a_source_as_long_as_a_file_path_may_be_is_written_whole() -> None:
    source = "/" + "d" * 4_095
    problem = FieldProblem("x", "bad", source=source, line=3)
    assert str(problem) == f"{source}:3: x: bad"
    long_path = "p" * 5_000
    assert "…(904 characters)…" in str(FieldProblem(long_path, "bad"))
