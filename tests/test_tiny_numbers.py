"""A number that is not zero but that a float cannot hold (``1e-400``) is refused.

Python's ``float``, ``json.loads``, tomllib, PyYAML and ``ast`` all read it as 0.0: an
amount, a measured value, a parameter or a condition's threshold would silently be
zero. A number too large (``1e400``) was already refused (it reads as infinity).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectrules import load_policy
from collectrules._json import loads, loads_with_repeats
from collectrules.errors import CollectRulesError, PolicyError
from collectrules.io import read_rows
from collectrules.policy import policy_from_dict
from helpers import case_dict

MESSAGE = "is not zero but too small to hold (it would read as 0)"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('{"p": 1e-400}', 7),
        ("[0.5, -2.5E-9999]", 7),
        ('{"note": "1e-400", "p": 1e-400}', 25),
        ('{"p": 0.000000000000000000000000000000000000000000000000000000000000001e-300}', 7),
    ],
)
def test_a_number_that_is_not_zero_but_reads_as_zero_is_refused_at_its_place(
    text: str, column: int
) -> None:
    """json.loads reads 1e-400 as 0.0: an amount or a threshold silently zero."""
    loaded = json.loads(text)
    assert 0.0 in (loaded.values() if isinstance(loaded, dict) else loaded)  # json.loads: 0
    for read in (loads, lambda t: loads_with_repeats(t)[0]):
        with pytest.raises(json.JSONDecodeError) as caught:
            read(text)
        assert caught.value.msg.endswith(MESSAGE)
        assert caught.value.colno == column
    for zero in ("0.0", "-0.0", "0e-999", "0.000E+5"):
        assert loads(f"[{zero}]") == json.loads(f"[{zero}]")


def test_a_jsonl_row_with_such_a_number_is_a_bad_row(tmp_path: Path) -> None:
    source = tmp_path / "cases.jsonl"
    tiny = json.dumps(case_dict(case_id="B")).replace('"5000"', "5e-400", 1)
    source.write_text(f"{json.dumps(case_dict())}\n{tiny}\n", encoding="utf-8")
    good, bad = read_rows([source])
    assert good.data is not None
    assert bad.data is None
    assert str(bad.error).endswith(f"the number 5e-400 {MESSAGE}")


@pytest.mark.parametrize(
    ("condition", "written"),
    [
        ("dpd > 1e-400", "1e-400"),
        ("dpd > -1.0E-999", "1.0E-999"),
        ("dpd in (1, 0.0, 2e-400)", "2e-400"),
        ("dpd > 1_0e-400", "1_0e-400"),
    ],
)
def test_a_condition_with_such_a_constant_is_refused(condition: str, written: str) -> None:
    rule = {"id": "R-X", "effect": "allow", "remedy": "extend", "reason": "x", "when": condition}
    with pytest.raises(CollectRulesError) as caught:
        policy_from_dict({"extends": "default", "remedies": {"rules": [rule]}})
    assert f"remedies[R-X].when: the number {written} {MESSAGE}" in str(caught.value)


@pytest.mark.parametrize("condition", ["dpd > 0.0", "dpd > 0e-400", "dpd >= -0.000E5"])
def test_a_condition_with_a_zero_written_any_way_loads(condition: str) -> None:
    rule = {"id": "R-X", "effect": "allow", "remedy": "extend", "reason": "x", "when": condition}
    policy = policy_from_dict({"extends": "default", "remedies": {"rules": [rule]}})
    assert any(r.id == "R-X" for r in policy.remedy_rules)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (
            "p.toml",
            'id = "p"\nversion = "1.0.0"\nextends = "default"\n[parameters]\n'
            'note = "1e-400"\nlookback_days = 1e-400\n',
            6,
        ),
        ("p.yaml", 'id: p\nversion: "1.0.0"\nextends: default\nparameters:\n  x: 1.0e-400\n', 5),
        ("p.json", '{"id": "p", "version": "1.0.0",\n "parameters": {"x": 1e-400}}', 2),
    ],
)
def test_a_policy_file_with_such_a_number_is_refused_with_its_line(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line) == (str(path), line)
    assert problem.message.endswith(MESSAGE)
