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
