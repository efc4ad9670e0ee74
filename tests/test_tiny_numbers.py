"""A number that a float does not hold as written is refused, not read as another.

Python's ``float``, ``json.loads``, tomllib, PyYAML and ``ast`` read a number with a
fraction or an exponent as a float:

- one that is not zero but too small (``1e-400``) they read as 0.0: an amount, a
  measured value, a parameter or a condition's threshold would silently be zero;
- one with more digits than a float keeps (about 16 significant digits) they round: a
  row's ``"principal": 12345678901234567.89`` was decided on 12345678901234568, and a
  threshold written with 17 digits compared against another number than the one written.

Each is refused at its place. One a float holds as written (``0.1``, ``1.10``,
``1.000000000000000000``) reads as before. A number too large (``1e400``) was already
refused (it reads as infinity).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from collectrules import Engine, load_policy
from collectrules._json import checked_float, loads, loads_with_repeats
from collectrules.errors import CollectRulesError, PolicyError
from collectrules.io import read_rows
from collectrules.model import Case
from collectrules.policy import policy_from_dict
from helpers import AS_OF, case_dict

MESSAGE = "is not zero but too small to hold (it would read as 0)"
LONG = "has more digits than a float keeps"


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
    ("condition", "written", "message"),
    [
        ("dpd > 1e-400", "1e-400", MESSAGE),
        ("dpd > -1.0E-999", "1.0E-999", MESSAGE),
        ("dpd in (1, 0.0, 2e-400)", "2e-400", MESSAGE),
        ("dpd > 12345678901234567.89", "12345678901234567.89", LONG),
        ("principal >= 0.10000000000000000001", "0.10000000000000000001", LONG),
    ],
)
def test_a_condition_with_such_a_constant_is_refused(
    condition: str, written: str, message: str
) -> None:
    rule = {"id": "R-X", "effect": "allow", "remedy": "extend", "reason": "x", "when": condition}
    with pytest.raises(CollectRulesError) as caught:
        policy_from_dict({"extends": "default", "remedies": {"rules": [rule]}})
    assert f"remedies[R-X].when: the number {written} {message}" in str(caught.value)


def test_a_tiny_constant_written_with_an_underscore_is_refused_for_the_underscore() -> None:
    rule = {"id": "R-X", "effect": "allow", "remedy": "extend", "reason": "x"}
    with pytest.raises(CollectRulesError) as caught:
        policy_from_dict(
            {"extends": "default", "remedies": {"rules": [{**rule, "when": "dpd > 1_0e-400"}]}}
        )
    assert "'1_0e-400': write a number in decimal digits, without '_'" in str(caught.value)


@pytest.mark.parametrize("condition", ["dpd > 0.0", "dpd > 0e-400", "dpd >= -0.000E5"])
def test_a_condition_with_a_zero_written_any_way_loads(condition: str) -> None:
    rule = {"id": "R-X", "effect": "allow", "remedy": "extend", "reason": "x", "when": condition}
    policy = policy_from_dict({"extends": "default", "remedies": {"rules": [rule]}})
    assert any(r.id == "R-X" for r in policy.remedy_rules)


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        (
            "p.toml",
            'id = "p"\nversion = "1.0.0"\nextends = "default"\n[parameters]\n'
            'note = "1e-400"\nlookback_days = 1e-400\n',
            6,
            MESSAGE,
        ),
        (
            "p.yaml",
            'id: p\nversion: "1.0.0"\nextends: default\nparameters:\n  x: 1.0e-400\n',
            5,
            MESSAGE,
        ),
        ("p.json", '{"id": "p", "version": "1.0.0",\n "parameters": {"x": 1e-400}}', 2, MESSAGE),
        (
            "p.toml",
            'id = "p"\nversion = "1.0.0"\nextends = "default"\n[parameters]\n'
            'note = "0.12345678901234567890"\nlookback_days = 90.000000000000000001\n',
            6,
            LONG,
        ),
        (
            "p.yaml",
            'id: p\nversion: "1.0.0"\nextends: default\nparameters:\n  x: 1.23456789012345678\n',
            5,
            LONG,
        ),
        (
            "p.json",
            '{"id": "p", "version": "1.0.0",\n "parameters": {"x": 1.23456789012345678}}',
            2,
            LONG,
        ),
    ],
)
def test_a_policy_file_with_such_a_number_is_refused_with_its_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.line) == (str(path), line)
    assert message in problem.message


@pytest.mark.parametrize(
    ("text", "column", "read_as"),
    [
        ('{"p": 12345678901234567.89}', 7, "1.2345678901234568e+16"),
        ("[0.5, 1.0000000000000000000001]", 7, "1.0"),
        (
            '{"note": "0.12345678901234567890", "p": 0.12345678901234567890}',
            41,
            "0.12345678901234568",
        ),
        ('{"p": 9007199254740993e0}', 7, "9007199254740992.0"),
    ],
)
def test_a_number_a_float_would_round_is_refused_at_its_place(
    text: str, column: int, read_as: str
) -> None:
    loaded = json.loads(text)
    values = loaded.values() if isinstance(loaded, dict) else loaded
    assert float(read_as) in values  # json.loads: rounded without a word
    for read in (loads, lambda t: loads_with_repeats(t)[0]):
        with pytest.raises(json.JSONDecodeError) as caught:
            read(text)
        assert LONG in caught.value.msg
        assert f"(it would read as {read_as})" in caught.value.msg
        assert caught.value.colno == column


@pytest.mark.parametrize(
    "written",
    [
        "0.1",
        "1.10",
        "1.000000000000000000",
        "123456789012345.6",
        "0.30000000000000004",
        "1e22",
        "-2.5E-9",
        "100000000000000000000000.0",
        "0.000000000000000000000000000000000000000000000000001",
    ],
)
def test_a_number_a_float_holds_as_written_reads_as_before(written: str) -> None:
    assert loads(f"[{written}]") == json.loads(f"[{written}]")
    assert checked_float(written) == float(written)


def test_a_jsonl_row_with_a_long_number_is_a_bad_row_and_the_others_are_decided(
    tmp_path: Path,
) -> None:
    source = tmp_path / "cases.jsonl"
    good = json.dumps(case_dict(case_id="A")).replace('"5000"', "5000.25", 1)
    long = json.dumps(case_dict(case_id="B")).replace('"5000"', "12345678901234567.89", 1)
    source.write_text(f"{good}\n{long}\n", encoding="utf-8")
    first, second = read_rows([source])
    assert first.data is not None
    case = Case.from_dict(first.data)
    assert Decimal("5000.25") in (case.principal, case.overdue_amount)
    Engine("default").decide(case, as_of=AS_OF)
    assert second.data is None
    assert f"the number 12345678901234567.89 {LONG}" in str(second.error)
