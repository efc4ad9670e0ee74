"""Hostile input to the authoring tools and the testing kit: each is refused with a
``CollectRulesError`` naming the field (and the file), never Python's own error, a
golden file emptied, or seconds of quadratic work.

Each test names what happened before: the exception raised, or the wrong answer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectrules.testing as kit
from collectrules import Case, Engine, load_policy
from collectrules.authoring import impact
from collectrules.authoring.golden import (
    GoldenEntry,
    expectation_of,
    golden_text,
    update_file,
)
from collectrules.authoring.honesty import chosen_items, chosen_problems
from collectrules.authoring.verify import build_case, verify_coherence
from collectrules.errors import InputError, PolicyError, quote
from helpers import AS_OF, case_dict

pytest_plugins = ["pytester"]

#: Values of the wrong kind for an argument.
GARBAGE: tuple[Any, ...] = (None, b"x", [], {}, object(), 10**400, float("nan"), "", -1.5)


def _id(value: object) -> str:
    """A short test id for a value."""
    return quote(value, limit=20)


#: A text of 100,000 nested lists: more than Python's parsers can recurse into.
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def decision() -> Any:
    return Engine("default", backend="python").decide(Case.from_dict(case_dict()), as_of=AS_OF)


# --------------------------------------------------------------------------- golden files


def _run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def _golden(policy: str = "default", **over: Any) -> dict[str, Any]:
    case = {"id": "a", "quadrant": "Q1", "input": case_dict(), **over}
    return {"policy": policy, "as_of": AS_OF, "cases": [case]}


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        # RecursionError from the JSON reader
        (
            "golden_bad.json",
            '{"policy": "default", "description": ' + DEEP + "}",
            "*golden_bad.json: syntax error: nested too deep to read*",
        ),
        # RecursionError from tomllib
        (
            "golden_bad.toml",
            'policy = "default"\ndescription = ' + DEEP + "\n",
            "*golden_bad.toml: syntax error: nested too deep to read*",
        ),
        # ValueError: Exceeds the limit (4300 digits) for integer string conversion
        (
            "golden_bad.toml",
            'policy = "default"\nas_of = 2026-04-03T12:00:00+08:00\nx = ' + "9" * 5000 + "\n",
            "*golden_bad.toml: syntax error: a number with more digits than can be read*",
        ),
        # OSError: [Errno 36] File name too long, from Path.is_file
        (
            "golden_bad.json",
            json.dumps(_golden(policy="p" * 300)),
            "*golden_bad.json: policy 'ppp*no shipped policy named*",
        ),
        # UnicodeEncodeError when pytest put the test id in PYTEST_CURRENT_TEST
        (
            "golden_bad.json",
            json.dumps(_golden()).replace('"id": "a"', '"id": "\\ud800"'),
            "*golden_bad.json: cases[[]0[]].id: expected a text UTF-8 can hold, got '\\ud800'*",
        ),
        # RecursionError from reading a case input file
        (
            "golden_bad.json",
            json.dumps(_golden(input="deep.json")),
            "*golden_bad.json: case 'a': input 'deep.json': invalid JSON: nested too deep*",
        ),
    ],
    ids=[
        "deep-json",
        "deep-toml",
        "long-number",
        "long-policy-name",
        "lone-surrogate-id",
        "deep-input",
    ],
)
def test_a_hostile_golden_file_fails_collection_with_a_message_naming_it(
    pytester: pytest.Pytester, name: str, text: str, said: str
) -> None:
    (pytester.path / "deep.json").write_text(DEEP, encoding="utf-8")
    (pytester.path / name).write_text(text, encoding="utf-8")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*ERROR collecting {name}*", said])
    for raw in ("RecursionError", "OSError", "ValueError", "UnicodeEncodeError", "Traceback"):
        assert raw not in result.stdout.str()


def test_updating_a_json_golden_file_holding_an_escaped_lone_surrogate(tmp_path: Path) -> None:
    """The file was opened (and emptied) before its new text failed to encode, and
    ``UnicodeEncodeError`` was raised: the golden file was lost."""
    path = tmp_path / "golden_x.json"
    path.write_text('{"cases": [{"id": "\\ud800", "note": "\\udcff", "quadrant": "Q1"}]}')
    assert update_file(path, {"\ud800": {"quadrant": "Q2"}}) == ["\ud800"]
    text = path.read_text(encoding="utf-8")
    assert "\\ud800" in text
    assert "\\udcff" in text
    case = json.loads(text)["cases"][0]
    assert case == {"id": "\ud800", "note": "\udcff", "quadrant": "Q2"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (name, value)
        for name in ("entries", "policy", "as_of", "backend", "fmt", "description")
        for value in GARBAGE
        # no description; no entry at all is "cases: no case to write"
        if (name, value) not in (("description", None), ("description", ""), ("entries", []))
    ],
    ids=_id,
)
def test_golden_text_refuses_arguments_of_the_wrong_kind(
    decision: Any, name: str, value: Any
) -> None:
    """``AttributeError``, ``TypeError`` or tomlkit's ``ConvertError`` before; or, for a
    ``fmt`` or ``backend`` it did not know, a file the plugin then refused."""
    args: dict[str, Any] = {
        "entries": [GoldenEntry("a", case_dict(), decision)],
        "policy": "default",
        "as_of": dt.datetime(2026, 4, 3, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        name: value,
    }
    with pytest.raises(InputError) as raised:
        golden_text(args.pop("entries"), **args)
    assert raised.value.paths[0].startswith(name)


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"id": 5}, "entries[0].id"),
        ({"input": "text"}, "entries[0].input"),
        ({"decision": None}, "entries[0].decision"),
        ({"input": {"x": object()}}, "entries[0]"),
        ({"input": {"x": b"\xff"}}, "entries[0]"),
        ({"input": {"x": "\ud800"}}, "entries[0]"),
        ({"id": "\ud800"}, "entries[0]"),
    ],
)
@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_golden_text_names_the_entry_it_cannot_write(
    decision: Any, entry: dict[str, Any], path: str, fmt: str
) -> None:
    """``AttributeError``, ``TypeError``, ``ValueError``, ``UnicodeEncodeError`` (when the
    command line wrote the text) or tomlkit's ``ConvertError`` before."""
    fields = {"id": "a", "input": case_dict(), "decision": decision, **entry}
    with pytest.raises(InputError) as raised:
        golden_text([GoldenEntry(**fields)], policy="default", as_of=load_as_of(), fmt=fmt)
    assert raised.value.paths == (path,)


def test_golden_text_of_a_deeply_nested_input_is_refused(decision: Any) -> None:
    """``RecursionError`` before."""
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(5_000):
        inner["a"] = {}
        inner = inner["a"]
    entry = GoldenEntry("a", {**case_dict(), "x": deep}, decision)
    for fmt in ("toml", "json"):
        with pytest.raises(InputError, match="nested too deep") as raised:
            golden_text([entry], policy="default", as_of=load_as_of(), fmt=fmt)
        assert raised.value.paths == ("entries[0]",)


def test_duplicate_ids_among_many_entries_are_found_in_linear_time(decision: Any) -> None:
    """Each id was counted along the whole list: 50,000 entries took about 50 seconds."""
    entries = [GoldenEntry(f"case-{i}", {}, decision) for i in range(50_000)]
    entries.append(GoldenEntry("case-7", {}, decision))
    started = time.process_time()
    with pytest.raises(InputError, match="duplicate case id 'case-7'"):
        golden_text(entries, policy="default", as_of=load_as_of())
    assert time.process_time() - started < 2.0


@pytest.mark.parametrize("value", GARBAGE, ids=_id)
def test_expectation_of_refuses_what_is_not_a_decision(value: Any) -> None:
    """``AttributeError: … has no attribute 'quadrant'`` before."""
    with pytest.raises(InputError, match=r"^decision: expected a Decision"):
        expectation_of(value)


def load_as_of() -> dt.datetime:
    return dt.datetime(2026, 4, 3, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


# --------------------------------------------------------------------------- authoring


@pytest.mark.parametrize("value", GARBAGE, ids=_id)
@pytest.mark.parametrize("check", [chosen_items, chosen_problems])
def test_the_honesty_checks_refuse_what_is_not_a_policy(check: Any, value: Any) -> None:
    """``AttributeError: … has no attribute 'parameters'`` before."""
    with pytest.raises(InputError, match=r"^policy: expected a Policy"):
        check(value)


@settings(max_examples=40, deadline=None)
@given(
    field=st.sampled_from(["dpd", "days_to_maturity", "guarantors", "health_issue"]),
    digits=st.integers(min_value=4_301, max_value=20_000),
    sign=st.sampled_from([1, -1]),
)
def test_build_case_refuses_a_huge_witness_value_naming_it(
    field: str, digits: int, sign: int
) -> None:
    """``ValueError: Exceeds the limit (4300 digits) for integer string conversion``,
    from the message that was to refuse the value."""
    value = sign * 10**digits
    if sign < 0 and field != "days_to_maturity":
        return  # a negative count or dpd reads as none
    with pytest.raises(InputError) as raised:
        build_case(load_policy("default"), AS_OF, {field: value})
    assert raised.value.paths == (f"witness.{field}",)
    assert "digits>" in str(raised.value)


@pytest.mark.parametrize("value", [*GARBAGE, "no", 1, 0], ids=_id)
@pytest.mark.parametrize("name", ["envelopes", "timeline"])
def test_verify_coherence_takes_true_or_false(name: str, value: Any) -> None:
    """Any value was read for its truth: ``envelopes="no"`` ran the check."""
    with pytest.raises(InputError, match=f"^{name}: expected true or false"):
        verify_coherence("default", **{name: value})


@pytest.mark.parametrize("value", [v for v in (*GARBAGE, "5", True, -1) if v != 10**400], ids=_id)
def test_impact_takes_a_whole_number_sample(value: Any) -> None:
    """``TypeError: '<' not supported`` once a case changed; ``-1`` kept no sample."""
    changes = {**case_dict(), "signals": [{"kind": "receivables_delayed", "observed_at": AS_OF}]}
    with pytest.raises(InputError) as raised:
        impact("default", "uk", [changes], as_of=AS_OF, sample=value)
    assert raised.value.paths == ("sample",)


def test_impact_sample_zero_and_more_still_work() -> None:
    changes = {**case_dict(), "signals": [{"kind": "receivables_delayed", "observed_at": AS_OF}]}
    assert impact("default", "uk", [changes], as_of=AS_OF, sample=0).sample == ()
    assert len(impact("default", "uk", [changes], as_of=AS_OF, sample=10**30).sample) == 1


# --------------------------------------------------------------------------- the testing kit


@pytest.mark.parametrize(
    "call",
    [
        lambda name: kit.boundary_values(name),
        lambda name: kit.assert_decision(name, case_dict(), as_of=AS_OF),
        lambda name: kit.check_envelopes(name),
        lambda name: kit.cases(name),
        lambda name: kit.cases(also=name),
    ],
    ids=["boundary_values", "assert_decision", "check_envelopes", "cases", "cases-also"],
)
def test_a_policy_name_longer_than_a_file_name_is_a_policy_error(call: Any) -> None:
    """``OSError: [Errno 36] File name too long`` from ``Path.is_file``."""
    with pytest.raises(PolicyError, match="no shipped policy named 'ppp"):
        call("p" * 300)


_NAIVE = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31))
_BAD_BOUNDS = st.one_of(
    st.sampled_from(GARBAGE),
    st.text(max_size=20),
    st.integers(),
    st.datetimes(timezones=st.just(dt.UTC)),  # aware
    st.datetimes(max_value=dt.datetime(1899, 12, 31)),
    st.datetimes(min_value=dt.datetime(2201, 1, 1)),
)


@settings(max_examples=60, deadline=None)
@given(bound=_BAD_BOUNDS, name=st.sampled_from(["min_value", "max_value"]))
def test_as_ofs_refuses_a_bad_bound_when_it_is_made(bound: Any, name: str) -> None:
    """The strategy was made, and drawing from it raised hypothesis' ``InvalidArgument``
    (or a ``RecursionError``), or drew instants the engine then refused."""
    with pytest.raises(InputError) as raised:
        kit.as_ofs(**{name: bound})
    assert raised.value.paths == (name,)


@settings(max_examples=30, deadline=None)
@given(low=_NAIVE, high=_NAIVE)
def test_as_ofs_bounds_in_order_or_refused(low: dt.datetime, high: dt.datetime) -> None:
    if low <= high:
        kit.as_ofs(min_value=low, max_value=high)
        return
    with pytest.raises(InputError, match=r"^min_value: expected a time at or before max_value"):
        kit.as_ofs(min_value=low, max_value=high)
