"""An object naming a key twice is refused wherever the library reads JSON (or YAML).

``json.loads`` and PyYAML keep the last value of a repeated key and drop the others
without a word: a row naming ``principal`` twice would be decided on one of two
amounts, a policy naming a parameter twice would run with one of two values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Engine, load_policy
from collectrules._json import RepeatedKeyError, loads, loads_with_repeats
from collectrules.batch import run_batch
from collectrules.batch.runner import default_errors_path
from collectrules.cli import main
from collectrules.errors import FieldProblem, InputError, PolicyError
from collectrules.io import read_rows
from collectrules.model.decision import Decision
from helpers import AS_OF, case_dict


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("default", backend="python")


# --------------------------------------------------------------------------- the reader

_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


_Found = list[tuple[tuple[Any, ...], dict[str, Any]]]


def _objects(value: Any, path: tuple[Any, ...] = ()) -> _Found:
    """Every object in ``value`` with its path, in the order of the text."""
    found: _Found = []
    if isinstance(value, dict):
        found.append((path, value))
        for key, item in value.items():
            found.extend(_objects(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_objects(item, (*path, index)))
    return found


@settings(max_examples=300, deadline=None)
@given(value=_values, indent=st.sampled_from([None, 1, 2]))
def test_json_without_a_repeated_key_reads_as_json_loads_reads_it(value: Any, indent: Any) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-8")) == json.loads(text.encode("utf-8"))
    assert loads_with_repeats(text) == (json.loads(text), [])


@settings(max_examples=300, deadline=None)
@given(value=_values, data=st.data(), indent=st.sampled_from([None, 2]))
def test_a_repeated_key_is_named_by_its_path_line_and_column(
    value: Any, data: Any, indent: Any
) -> None:
    """A key repeated in any object of any JSON text: the error names it, its path and
    the place of its second naming, which is where the text names it."""
    if not any(o for _, o in _objects(value)):
        value = {"a": value}
    objects = [(p, o) for p, o in _objects(value) if o]
    path, target = data.draw(st.sampled_from(objects))
    key = data.draw(st.sampled_from(sorted(target)))
    marker = "\x00repeat\x00"
    target[marker] = None
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    # The marker's entry becomes a second naming of ``key``.
    text = text.replace(json.dumps(marker), json.dumps(key, ensure_ascii=False), 1)
    with pytest.raises(RepeatedKeyError) as caught:
        loads(text)
    error = caught.value
    assert isinstance(error, ValueError)
    # The first repeat in the text is the one placed (no other object repeats a key).
    assert error.key == key
    assert error.line is not None
    assert error.column is not None
    line = text.split("\n")[error.line - 1]
    assert line[error.column - 1 :].startswith(json.dumps(key, ensure_ascii=False))
    expected = "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}" for step in (*path, key)
    )
    if all(isinstance(s, int) or (s.isidentifier() and s.isascii()) for s in (*path, key)):
        assert error.path == expected.lstrip(".")
    _, repeats = loads_with_repeats(text)
    assert [(r.key, r.path, r.line, r.column) for r in repeats] == [
        (error.key, error.path, error.line, error.column)
    ]


@pytest.mark.parametrize("text", ["\ufeff{}", '{"a": 1', "[1, 2", "", "{'a': 1}", "NaN1"])
def test_other_faults_are_json_loads_own_errors(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    for read in (loads, lambda t: loads_with_repeats(t)[0]):
        with pytest.raises(json.JSONDecodeError) as caught:
            read(text)
        assert str(caught.value) == str(expected.value)


def test_every_repeat_is_listed_and_a_deep_one_refuses_the_whole_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = '[{"a": 1, "a": 2, "a": 3},\n {"b": {"c": 1, "c": 2}}]'
    data, repeats = loads_with_repeats(text)
    assert data == [{"a": 3}, {"b": {"c": 2}}]
    assert [(r.path, r.line, r.column) for r in repeats] == [
        ("[0].a", 1, 11),
        ("[0].a", 1, 19),
        ("[1].b.c", 2, 17),
    ]
    # A key written with an escape is the same key.
    with pytest.raises(RepeatedKeyError) as caught:
        loads('{"a": 1, "\\u0061": 2}')
    assert (caught.value.path, caught.value.column) == ("a", 10)
    # Past the depth searched for the place, the key is still refused, without one.
    monkeypatch.setattr("collectrules._json._MAX_DEPTH", 5)
    deep = "[" * 10 + '{"x": 1, "x": 2}' + "]" * 10
    with pytest.raises(RepeatedKeyError) as caught:
        loads(deep)
    assert (caught.value.key, caught.value.line) == ("x", None)
    with pytest.raises(RepeatedKeyError):
        loads_with_repeats(deep)


def test_a_jsonl_row_naming_a_key_twice_is_a_bad_row_and_the_others_are_read(
    tmp_path: Path,
) -> None:
    source = tmp_path / "cases.jsonl"
    good = json.dumps(case_dict())
    source.write_text(
        f'{good}\n{{"case_id": "B", "principal": "100", "principal": "100000"}}\n{good}\n',
        encoding="utf-8",
    )
    rows = list(read_rows([source]))
    assert [r.data is not None for r in rows] == [True, False, True]
    (problem,) = rows[1].error.problems  # type: ignore[union-attr]
    assert (problem.path, problem.line) == ("principal", 2)
    assert problem.message == "named twice in one object (column 38): expected each key once"


def test_a_json_file_refuses_only_the_rows_that_name_a_key_twice(tmp_path: Path) -> None:
    source = tmp_path / "cases.json"
    first, second = case_dict(case_id="A"), case_dict(case_id="C")
    middle = json.dumps(case_dict(("refused_to_pay", None), case_id="B"))
    middle = middle.replace('"kind"', '"kind": "x", "kind"', 1)
    source.write_text(f"[{json.dumps(first)},\n{middle},\n{json.dumps(second)}]", encoding="utf-8")
    rows = list(read_rows([source]))
    assert [r.data and r.data["case_id"] for r in rows] == ["A", None, "C"]
    (problem,) = rows[1].error.problems  # type: ignore[union-attr]
    assert (problem.path, problem.line, rows[1].index) == ("signals[0].kind", 2, 1)
    single = tmp_path / "one.json"
    single.write_text('{"case_id": "A",\n "case_id": "B"}', encoding="utf-8")
    (row,) = read_rows([single])
    assert str(row.error) == (
        f"{single}:2: case_id: named twice in one object (column 2): expected each key once"
    )


def test_a_csv_cell_naming_a_key_twice_is_a_bad_row(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    cell = '"[{""kind"": ""refused_to_pay"", ""kind"": ""fraud_suspected""}]"'
    source.write_text(f"case_id,signals\nA,{cell}\nB,\n", encoding="utf-8")
    bad, good = read_rows([source])
    assert str(bad.error) == (
        f"{source}:2: signals[0].kind: named twice in one object: expected each key once"
    )
    assert good.data == {"case_id": "B"}


# --------------------------------------------------------------------------- the batch


def test_the_batch_decides_the_good_rows_and_reports_the_repeated_key(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cases.jsonl"
    rows = [json.dumps(case_dict(case_id=f"C{i}")) for i in range(3)]
    rows[1] = rows[1].replace('"principal"', '"principal": "1", "principal"', 1)
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_batch([source], engine=engine, out=out, as_of=AS_OF)
    assert (summary.rows, summary.decided, summary.bad) == (3, 2, 1)
    decided = [json.loads(line)["case_id"] for line in out.read_text().splitlines()]
    assert decided == ["C0", "C2"]
    errors = default_errors_path(out).read_text().splitlines()
    (error,) = [json.loads(x) for x in errors]
    assert (error["input"]["line"], error["kind"]) == (2, "InputError")
    assert error["error"].startswith("principal: named twice in one object (column ")
    code = main(["batch", str(source), "-o", str(tmp_path / "cli.jsonl"), "--as-of", AS_OF])
    assert code == 1
    assert "3 rows: 2 decided, 1 bad" in capsys.readouterr().err


# --------------------------------------------------------------------------- policies


def _refused(path: Path, text: str) -> FieldProblem:
    """The one problem of loading the policy ``text`` written at ``path``."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    return problem


_HEAD = 'id: p\nversion: "1.0.0"\nextends: default\nparameters:\n'


def test_a_yaml_policy_naming_a_key_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    text = _HEAD + "  lookback_days: 90\n  lookback_days: 30\n"
    problem = _refused(tmp_path / "p.yaml", text)
    assert (problem.path, problem.source, problem.line) == (
        "parameters.lookback_days",
        str(tmp_path / "p.yaml"),
        6,
    )
    assert problem.message == "named twice in one mapping (column 3): expected each key once"


def test_a_yaml_repeated_key_is_named_by_its_whole_path(tmp_path: Path) -> None:
    # Through a list, a key that is not a plain name, and an anchor used twice: the
    # path is the first way the mapping is reached, as the JSON reader names it.
    pytest.importorskip("yaml")
    text = (
        'id: p\nversion: "1.0.0"\nextends: default\n'
        "rules:\n"
        "  - id: R-A\n"
        "  - id: R-B\n"
        "    'odd key':\n"
        "      - &twice {when: dpd > 3, when: dpd > 9}\n"
        "      - *twice\n"
    )
    problem = _refused(tmp_path / "p.yaml", text)
    assert (problem.path, problem.line) == ("rules[1]['odd key'][0].when", 8)
    assert problem.message == "named twice in one mapping (column 32): expected each key once"


def test_a_yaml_merge_key_may_still_be_overridden(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    path.write_text(_HEAD + "  <<: {lookback_days: 90}\n  lookback_days: 30\n", encoding="utf-8")
    assert load_policy(path).parameters["lookback_days"].value == 30


def test_a_json_policy_naming_a_key_twice_is_refused_with_its_path(tmp_path: Path) -> None:
    problem = _refused(
        tmp_path / "p.json",
        '{"id": "p", "version": "1.0.0", "extends": "default",\n'
        ' "parameters": {"lookback_days": 90,\n   "lookback_days": 30}}',
    )
    assert (problem.path, problem.line) == ("parameters.lookback_days", 3)


# --------------------------------------------------------------------------- decisions


def test_a_decision_json_naming_a_key_twice_is_refused(engine: Engine) -> None:
    from collectrules import Case

    text = engine.decide(Case.from_dict(case_dict()), as_of=AS_OF).to_json()
    assert Decision.from_json(text, engine="python").to_json() == text
    twice = text.replace('"case_id"', '"case_id": "X", "case_id"', 1)
    with pytest.raises(InputError) as caught:
        Decision.from_json(twice, source="d.json")
    (problem,) = caught.value.problems
    assert (problem.path, problem.source, problem.line) == ("case_id", "d.json", 1)
