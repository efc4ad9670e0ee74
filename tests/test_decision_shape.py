"""A decision built by hand with a field of the wrong kind is refused when built,
naming the field, rather than failing later in a writer or a property with a bare
Python error."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Decision
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, InputError
from test_generated import make_case

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")


@functools.cache
def _decision() -> Decision:
    decision = Engine("default", backend="python").decide(make_case(), as_of=AS_OF)
    return Decision(**{a.name: getattr(decision, a.name) for a in attrs.fields(Decision) if a.init})


WRONG: list[tuple[str, Any, str, str]] = [
    ("case_id", 5, "case_id", "expected text, got int"),
    ("as_of", "2026-06-30", "as_of", "expected a datetime with its offset, got str"),
    ("as_of", dt.datetime(2026, 6, 30), "as_of", "expected a datetime with its offset"),
    ("policy", ("default", "1", "abc"), "policy", "expected a PolicyRef, got tuple"),
    ("quadrant", "Q1", "quadrant", "expected a Quadrant, got str"),
    ("levels", [1], "levels", "expected a mapping of output names to LevelResult"),
    ("levels", {"willingness": "high"}, "levels.willingness", "expected a LevelResult, got str"),
    ("levels", {1: None}, "levels", "expected text keys, got int"),
    ("allowed", 5, "allowed", "expected a tuple of RemedyGrant, got int"),
    ("blocked", ("negotiate",), "blocked[0]", "expected a RemedyBlock, got str"),
    ("trace", "abc", "trace", "expected a tuple of Firing, got str"),
    ("regulatory", (None,), "regulatory[0]", "expected a RegulatoryClass, got NoneType"),
    ("buckets", {}, "buckets", "expected a tuple of BucketResult, got dict"),
    ("facts", [1, 2], "facts", "expected a mapping of text keys, got list"),
    ("facts", {1: 2}, "facts", "expected a mapping of text keys"),
    ("amounts", 5, "amounts", "expected a mapping of text keys, got int"),
    ("engine", None, "engine", "expected text, got NoneType"),
    ("ignored_signals", -1, "ignored_signals", "expected a count of 0 or more, got -1"),
    ("ignored_signals", True, "ignored_signals", "expected a count of 0 or more, got True"),
]


class _BrokenZone(dt.tzinfo):
    """A zone whose offset is out of range: ``utcoffset`` of a datetime in it raises."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(days=2)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


WRONG.append(
    (
        "as_of",
        dt.datetime(2026, 6, 30, tzinfo=_BrokenZone()),
        "as_of",
        "expected a datetime with its offset",
    )
)


@pytest.mark.parametrize(("field", "value", "path", "message"), WRONG)
def test_a_field_of_the_wrong_kind_is_refused_when_the_decision_is_built(
    field: str, value: Any, path: str, message: str
) -> None:
    """Each of these raised TypeError, AttributeError, IndexError or attrs'
    NotAnAttrsClassError from to_json, to_dict or a property; now the constructor (and
    attrs.evolve) refuses it with an InputError naming the field."""
    with pytest.raises(InputError) as caught:
        attrs.evolve(_decision(), **{field: value})
    (problem,) = caught.value.problems
    assert problem.path == path
    assert message in problem.message


def test_a_decision_of_the_right_kinds_is_built_and_written_as_the_engines() -> None:
    """The check refuses nothing the engine makes: the engine's decision, rebuilt with
    the constructor, writes the same bytes."""
    decision = Engine("default", backend="python").decide(make_case(), as_of=AS_OF)
    assert _decision().to_json() == decision.to_json()


_JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
    st.tuples(st.text(max_size=3)),
)


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from([a.name for a in attrs.fields(Decision) if a.init]), junk=_JUNK)
def test_junk_in_any_field_gives_only_a_collectrules_error(field: str, junk: Any) -> None:
    """Whatever one field holds, building and then writing the decision and reading its
    remedies raise nothing but a CollectRulesError."""
    try:
        built = attrs.evolve(_decision(), **{field: junk})
        built.to_json()
        built.to_dict()
        built.to_json_bytes()
        _ = built.allowed_remedies, built.blocked_remedies, built.outline()
    except CollectRulesError:
        pass
