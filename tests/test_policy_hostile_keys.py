"""Hostile keys and values in a policy: a key that is not text, an integer too long to
write as text in any of its spellings, a value nested without end, an ``extends`` name
no file can have. Each is a :class:`PolicyError` naming the file, the line where known
and the field, never Python's own ``TypeError``, ``ValueError``, ``RecursionError`` or
``OSError``."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules.cli import main
from collectrules.errors import FieldProblem, PolicyError
from collectrules.policy import Policy, load_policy, policy_from_dict

CASE = Path(__file__).parent.parent / "examples" / "cases" / "q1_travelling.json"
LIMIT = sys.get_int_max_str_digits()
HEX = "0x" + "f" * 4000  # 4,817 digits
HEX_DIGITS = "4,817 digits"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> FieldProblem:
    """The one problem of loading ``path``."""
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    return problem


def refused(data: Any) -> FieldProblem:
    """The one problem of building a policy from ``data``."""
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    (problem,) = info.value.problems
    return problem


@pytest.fixture
def digit_limit() -> Iterator[None]:
    """Python's digit limit restored after a test that changes it."""
    yield
    sys.set_int_max_str_digits(LIMIT)


# --------------------------------------------------------------------------- long integers

#: Integers too long to write as text, in each spelling of TOML and YAML: (file name,
#: the line that gives it, key path, digits). TOML decimals are refused as they are
#: read, before any key path is known.
LONG_LITERALS = [
    ("hex.toml", f"value = {HEX}", "parameters.x.value", HEX_DIGITS),
    ("octal.toml", "value = 0o" + "7" * 5000, "parameters.x.value", "4,516 digits"),
    ("binary.toml", "value = 0b" + "1" * 15000, "parameters.x.value", "4,516 digits"),
    ("underscores.toml", "value = " + "1_" * 5000 + "1", "", "5,001 digits"),
    ("negative.toml", "value = -" + "9" * 5000, "", "5,000 digits"),
    ("hex.yaml", f"  value: {HEX}", "parameters.x.value", HEX_DIGITS),
    ("octal.yaml", "  value: 0" + "7" * 5000, "parameters.x.value", "4,516 digits"),
    ("binary.yaml", "  value: 0b" + "1" * 15000, "parameters.x.value", "4,516 digits"),
    ("underscores.yaml", "  value: " + "1_" * 5000 + "1", "parameters.x.value", "5,001 digits"),
    ("sexagesimal.yaml", "  value: 1" + ":59" * 3000, "parameters.x.value", "digits"),
]


def long_literal_policy(name: str, line: str) -> str:
    if name.endswith(".toml"):
        return f'id = "x"\nextends = "default"\n[parameters.x]\n{line}\n'
    return f"id: x\nextends: default\nparameters:\n x:\n {line}\n"


@pytest.mark.parametrize(("name", "line", "path", "digits"), LONG_LITERALS)
def test_an_integer_too_long_to_write_names_its_file_line_and_field(
    tmp_path: Path, name: str, line: str, path: str, digits: str
) -> None:
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    text = long_literal_policy(name, line)
    policy = write(tmp_path / name, text)
    problem = refusal(policy)
    assert (problem.source, problem.line, problem.path) == (str(policy), text.count("\n"), path)
    assert digits in problem.message
    assert f"at most {LIMIT:,} digits" in problem.message


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"parameters": {"x": {"value": 16**4000}}}, "parameters.x.value"),
        ({"parameters": {"x": {"value": -(10**LIMIT)}}}, "parameters.x.value"),
        ({"parameters": {"x": {"value": 1, "doc": 10**5000}}}, "parameters.x.doc"),
        ({"notes": [[[[10**5000]]]]}, "notes[0][0][0][0]"),
    ],
)
def test_an_integer_too_long_to_write_given_as_data_names_its_field(
    data: dict[str, Any], path: str
) -> None:
    problem = refused({"extends": "default", "id": "x", **data})
    assert problem.path == path
    assert problem.message.endswith(f"expected a number of at most {LIMIT:,} digits")


def test_the_longest_integer_python_writes_is_held() -> None:
    policy = policy_from_dict(
        {"extends": "default", "id": "x", "parameters": {"x": {"value": -(10**LIMIT - 1)}}}
    )
    assert policy.parameters["x"].value == -(10**LIMIT - 1)


@pytest.mark.usefixtures("digit_limit")
def test_the_digit_limit_is_pythons_own(tmp_path: Path) -> None:
    policy = write(tmp_path / "hex.toml", long_literal_policy("hex.toml", f"value = {HEX}"))
    sys.set_int_max_str_digits(5000)
    assert load_policy(policy).parameters["x"].value == int(HEX, 16)
    sys.set_int_max_str_digits(0)  # no limit at all
    assert load_policy(policy).parameters["x"].value == int(HEX, 16)
    sys.set_int_max_str_digits(4000)
    assert "at most 4,000 digits" in refusal(policy).message


def test_a_base_file_with_an_integer_too_long_to_write_is_refused_without_quoting_it(
    tmp_path: Path,
) -> None:
    write(tmp_path / "base.toml", long_literal_policy("hex.toml", f"value = {HEX}"))
    child = write(tmp_path / "child.toml", 'id = "child"\nextends = "base.toml"\n')
    problem = refusal(child)
    assert problem.source == str(tmp_path / "base.toml")
    assert "not a policy file" in problem.message
    assert "fff" not in str(problem)


# --------------------------------------------------------------------------- keys

#: YAML keys that read as something other than text: (the key, what it reads as).
YAML_KEYS = [
    ("5", "5, read as a number"),
    ("0x1f", "0x1f, read as a number"),
    ("1.5", "1.5, read as a number"),
    ("true", "true, read as a boolean"),
    ("null", "null, read as null"),
    ("~", "~, read as null"),
    ("2024-01-01", "2024-01-01, read as a date"),
]

#: Where a key is put in a YAML policy: (the text around it, its line, its path).
YAML_PLACES = [
    ("id: x\nextends: default\n{key}: 1\n", 3, "[{key}]"),
    ("id: x\nextends: default\nparameters:\n  {key}:\n    value: 1\n", 4, "parameters[{key}]"),
    (
        "id: x\nextends: default\nremedies:\n  rules:\n    - id: R-x\n"
        "      effect: allow\n      {key}: 2\n",
        7,
        "remedies.rules[0][{key}]",
    ),
]


@pytest.mark.parametrize(("key", "read_as"), YAML_KEYS)
@pytest.mark.parametrize(("text", "line", "path"), YAML_PLACES)
def test_a_yaml_key_that_is_not_text_names_its_line_and_place(
    tmp_path: Path, key: str, read_as: str, text: str, line: int, path: str
) -> None:
    pytest.importorskip("yaml")
    policy = write(tmp_path / "keys.yaml", text.format(key=key))
    problem = refusal(policy)
    assert (problem.source, problem.line, problem.path) == (str(policy), line, path.format(key=key))
    assert problem.message.startswith(f"expected a text key, got {read_as} (column ")
    assert "put the key in quotes" in problem.message


def test_a_quoted_yaml_key_is_text(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    policy = write(tmp_path / "quoted.yaml", 'id: x\nextends: default\n"5": 1\n')
    problem = refusal(policy)
    assert (problem.path, problem.message) == ("5", "unknown key")


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (5, "int 5"),
        (1.5, "float 1.5"),
        (True, "bool True"),
        (None, "NoneType None"),
        (dt.date(2024, 1, 1), "date datetime.date(2024, 1, 1)"),
        ((1, 2), "tuple (1, 2)"),
        (b"x", "bytes b'x'"),
    ],
)
@pytest.mark.parametrize(
    ("place", "path"),
    [
        (lambda key: {key: 1}, "[{key}]"),
        (lambda key: {"parameters": {key: 1}}, "parameters[{key}]"),
        (lambda key: {"conditions": {key: "dpd > 1"}}, "conditions[{key}]"),
        (
            lambda key: {"remedies": {"rules": [{"id": "R-x", "effect": "allow", key: 1}]}},
            "remedies.rules[0][{key}]",
        ),
    ],
)
def test_a_key_that_is_not_text_given_as_data_names_its_place(
    key: object, shown: str, place: Any, path: str
) -> None:
    problem = refused({"extends": "default", "id": "x", **place(key)})
    assert problem.path == path.format(key=repr(key))
    assert problem.message == f"expected a text key, got {shown}"


ODD_KEYS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.dates(),
    st.tuples(st.integers()),
)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(key=ODD_KEYS, table=st.sampled_from(["", "parameters", "signals", "conditions"]))
def test_any_key_that_is_not_text_is_a_policy_error(key: object, table: str) -> None:
    data: dict[Any, Any] = {"extends": "default", "id": "x"}
    if table:
        data[table] = {key: 1}
    else:
        data[key] = 1
    assert refused(data).message.startswith("expected a text key, got ")


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(
    key=st.sampled_from(["5", "-1", "017", "1_000", "1.0e+3", ".inf", "yes", "NULL", "2024-02-29"]),
    table=st.sampled_from(["", "parameters", "signals", "conditions", "catalogue.remedies"]),
)
def test_any_yaml_key_that_is_not_text_is_a_policy_error(
    tmp_path_factory: pytest.TempPathFactory, key: str, table: str
) -> None:
    pytest.importorskip("yaml")
    lines = ["id: x", "extends: default"]
    indent = ""
    for part in table.split(".") if table else []:
        lines.append(f"{indent}{part}:")
        indent += "  "
    lines.append(f"{indent}{key}: 1")
    policy = write(tmp_path_factory.mktemp("yaml") / "p.yaml", "\n".join(lines) + "\n")
    problem = refusal(policy)
    assert problem.line == len(lines)
    assert problem.message.startswith("expected a text key, got ")


# --------------------------------------------------------------------------- nesting


def test_data_nested_deeper_than_a_file_may_be_is_a_policy_error() -> None:
    deep: list[Any] = ["a"]
    for _ in range(100_000):
        deep = [deep]
    for data in ({"notes": deep}, {"parameters": {"x": {"value": 1, "doc": deep}}}):
        problem = refused({"extends": "default", "id": "x", **data})
        assert problem.message == "a policy may nest tables and arrays at most 64 deep"


def test_data_that_holds_itself_is_a_policy_error() -> None:
    itself: list[Any] = ["a"]
    itself.append(itself)
    table: dict[str, Any] = {"enabled": False}
    table["doc"] = {"again": table}
    # Where the loader reads no key (a pack switched off), the data is walked whole.
    for data, path, outer in (
        (
            {"guardrails": {"X": {"enabled": False, "doc": itself}}},
            "guardrails.X.doc[1]",
            "guardrails.X.doc",
        ),
        ({"guardrails": {"X": table}}, "guardrails.X.doc.again", "guardrails.X"),
    ):
        problem = refused({"extends": "default", "id": "x", **data})
        assert problem.path == path
        assert problem.message == f"holds {outer} again, without end: expected data that ends"
    # Where it reads a text, a list (holding itself or not) is no text.
    problem = refused(
        {"extends": "default", "id": "x", "parameters": {"x": {"value": 1, "doc": itself}}}
    )
    assert (problem.path, problem.message) == ("parameters.x.doc", "expected a string, got list")


def test_a_list_held_in_many_places_is_walked_once() -> None:
    wide: list[Any] = ["a"]
    for _ in range(50):
        wide = [wide, wide]  # 2**50 ways down, 51 lists
    problem = refused({"extends": "default", "id": "x", "notes": wide})
    assert problem.path.endswith("notes")
    assert problem.message == "expected a list of strings"


def test_a_yaml_date_no_calendar_has_names_its_line(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    policy = write(
        tmp_path / "date.yaml",
        "id: x\nextends: default\nparameters:\n  x:\n    value: 2024-13-45\n",
    )
    problem = refusal(policy)
    assert (problem.line, problem.path) == (5, "parameters.x.value")
    assert problem.message.startswith("expected a date, got 2024-13-45")


# --------------------------------------------------------------------------- extends


@pytest.mark.parametrize(
    "name", ["a" * 300, "sub/" + "a" * 300 + ".toml", "/".join(["a" * 250] * 20) + ".toml"]
)
def test_an_extends_name_too_long_for_a_file_is_not_a_valid_policy_name(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "child.toml", f'id = "child"\nextends = "{name}"\n')
    problem = refusal(child)
    assert (problem.source, problem.path) == (str(child), "extends")
    assert "not a valid policy name" in problem.message
    decide = ["decide", str(CASE), "--policy", str(child), "--as-of", "2026-04-03T12:00:00+08:00"]
    assert main(decide) == 2  # a policy error, not an I/O failure (3)


def test_an_extends_name_with_a_nul_is_not_a_valid_policy_name(tmp_path: Path) -> None:
    child = write(tmp_path / "child.toml", 'id = "child"\nextends = "default\\u0000"\n')
    problem = refusal(child)
    assert problem.path == "extends"
    assert problem.message.startswith("extends 'default\\x00': not a valid policy name; expected")
    assert problem.suggestion == "default"
    assert "absolute" not in problem.message
    problem = refused({"id": "x", "extends": "default\x00"})
    assert "not a valid policy name" in problem.message


@pytest.mark.parametrize(
    "value",
    [{1, 2}, b"bytes", bytearray(b"x"), Decimal("1.5"), 1 + 2j, object(), frozenset({"a"})],
    ids=lambda v: type(v).__name__,
)
@pytest.mark.parametrize("where", ["doc", "value", "nested"])
def test_a_value_that_is_not_plain_data_given_as_data_is_a_policy_error(
    value: object, where: str
) -> None:
    parameter: dict[str, Any] = {"value": 1, "doc": "d"}
    if where == "nested":
        parameter["doc"] = {"notes": [value]}
    else:
        parameter[where] = value
    problem = refused({"extends": "default", "id": "x", "parameters": {"p": parameter}})
    path = {"doc": "parameters.p.doc", "value": "parameters.p.value"}
    assert problem.path == path.get(where, "parameters.p.doc.notes[0]")
    assert problem.message == (
        "expected text, a number, true or false, a date, a table or an array, "
        f"got a Python {type(value).__name__}"
    )


def test_a_condition_built_in_python_is_hashed_as_its_text() -> None:
    from collectrules.conditions import Compare, Op

    def policy(when: object) -> Policy:
        rule = {"id": "R-Z", "effect": "allow", "remedy": "visit", "reason": "r", "when": when}
        return policy_from_dict({"extends": "default", "id": "z", "remedies": {"rules": [rule]}})

    built = policy(Compare("dpd", Op(">"), 30))
    assert built.content_hash == policy("dpd > 30").content_hash
    assert built.content_hash != policy("dpd > 31").content_hash
