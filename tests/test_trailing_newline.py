"""Names and ids that end in a line break are refused, as any other character outside
their pattern is: ``$`` in a Python pattern also matches before a final ``\\n``, so
``"A\\n"`` passed checks written ``^…$`` (a case id, a product, a signal kind, a policy
id, a clause id, a pack's clock time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectrules import Case, Engine
from collectrules.errors import InputError, PolicyError
from collectrules.policy import load_policy
from helpers import CARD_CASE

AS_OF = "2026-06-30T12:00:00+08:00"
BASE = CARD_CASE


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("field", ["case_id", "product"])
def test_a_case_field_ending_in_a_line_break_is_an_input_error(field: str, newline: str) -> None:
    data = BASE | {field: BASE[field] + newline}
    with pytest.raises(InputError) as info:
        Case.from_dict(data)
    assert info.value.paths == (field,)


def test_a_signal_kind_ending_in_a_line_break_is_an_input_error() -> None:
    signal = {"kind": "refused_to_pay\n", "observed_at": "2026-06-01T10:00:00+08:00"}
    with pytest.raises(InputError) as info:
        Case.from_dict(BASE | {"signals": [signal]})
    assert info.value.paths == ("signals[0].kind",)


def test_an_unknown_kind_ending_in_a_line_break_is_not_ignored_as_a_kind() -> None:
    """An engine told to ignore unknown kinds still refuses a name no kind can have."""
    signal = {"kind": "some_kind\n", "observed_at": "2026-06-01T10:00:00+08:00"}
    engine = Engine("default", backend="python", unknown_signals="ignore")
    (result,) = engine.decide_many([BASE | {"signals": [signal]}], as_of=AS_OF)
    assert isinstance(result.error, InputError)
    assert result.error.paths == ("signals[0].kind",)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('schema_version = "1"\nid = "x\\n"\nextends = "default"\n', "id"),
        (
            'schema_version = "1"\nid = "x"\nextends = "default"\n'
            '[clauses."Q9\\n"]\ntext = "a clause"\n',
            "clauses",
        ),
    ],
    ids=["policy id", "clause id"],
)
def test_a_policy_id_ending_in_a_line_break_is_a_policy_error(
    text: str, field: str, tmp_path: Path
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert any(p.path.startswith(field) for p in info.value.problems), info.value
