"""Hostile input to the timeline's policy section and the calendars' schedules.

Each test holds one failure class found by feeding the ``[timeline]`` and
``[emergencies]`` sections and :class:`CalendarSchedule` values they were not written
for: each answer is a ``CollectRulesError`` naming the place, in bounded time.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import InputError, PolicyError, load_policy
from collectrules.calendars import CalendarSchedule
from collectrules.policy import policy_from_dict

#: The most seconds loading one hostile policy may take (the library's bound on any
#: entry point, measured inside the test).
BOUND = 5.0


@cache
def _default() -> dict[str, Any]:
    return load_policy("default").data


def _load(change: Callable[[dict[str, Any]], None]) -> tuple[PolicyError, float]:
    """Load the default policy with ``change`` made to its data: the error and the time."""
    data = copy.deepcopy(_default())
    change(data)
    start = time.process_time()
    with pytest.raises(PolicyError) as caught:
        policy_from_dict(data)
    return caught.value, time.process_time() - start


def _first_stage(data: dict[str, Any]) -> dict[str, Any]:
    stage: dict[str, Any] = data["timeline"]["plans"]["loan"][0]
    return stage


def _first_response(data: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = data["emergencies"]["plans"]["response"][0]
    return step


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    ("table", "key", "path"),
    [
        (_first_stage, "within", "timeline.plans.loan[L-DUE].within"),
        (_first_stage, "after", "timeline.plans.loan[L-DUE].after"),
        (_first_stage, "limit", "timeline.plans.loan[L-DUE].limit"),
        (_first_response, "within", "emergencies.plans.response[E-REPORT].within"),
        (_first_response, "limit", "emergencies.plans.response[E-REPORT].limit"),
    ],
)
def test_an_offset_of_thousands_of_spaces_is_refused_at_once(
    table: Callable[[dict[str, Any]], dict[str, Any]], key: str, path: str
) -> None:
    # The offset's pattern once backtracked over the spaces in cubic time: 2,000 spaces
    # took about 20 seconds, 3,000 over a minute. The load now takes about 0.01 s;
    # BOUND leaves room for a loaded machine and a long-lived worker's garbage
    # collection (1.15 s once, in a test run beside another on both cores).
    error, seconds = _load(lambda data: table(data).__setitem__(key, "1" + " " * 2_000 + "!"))
    assert seconds < BOUND
    assert any(p.path == path and "cannot read offset" in p.message for p in error.problems)


_OFFSET_PARTS = st.sampled_from(["1", "24", " ", "  ", "\t", "d", "days", "business", "!", "_"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_OFFSET_PARTS, max_size=12).map("".join),
    st.integers(min_value=1_000, max_value=3_000),
)
def test_any_offset_text_is_read_or_refused_in_linear_time(text: str, spaces: int) -> None:
    from collectrules.timeline.stages import Offset

    hostile = text + " " * spaces + "!" + text
    start = time.process_time()
    with pytest.raises(ValueError, match="offset"):
        Offset.parse(hostile)
    assert time.process_time() - start < 0.5


def test_valid_offsets_read_as_before() -> None:
    from collectrules.timeline.stages import Offset, OffsetUnit

    assert Offset.parse("  5  business   days ") == Offset(5, OffsetUnit.BUSINESS_DAYS)
    assert Offset.parse("24h") == Offset(24, OffsetUnit.HOURS)
    assert Offset.parse("1 Month\t") == Offset(1, OffsetUnit.MONTHS)


# --------------------------------------------------------------------------- remedies


@pytest.mark.parametrize("remedy", [["litigate"], {"name": "litigate"}, [[]]])
def test_a_stage_remedy_that_is_no_name_is_a_policy_error(remedy: object) -> None:
    # A list or a table was looked up in the remedy catalogue: TypeError, unhashable.
    error, _ = _load(lambda data: _first_stage(data).__setitem__("remedy", remedy))
    (problem,) = error.problems
    assert problem.path == "timeline.plans.loan[L-DUE].remedy"
    assert "expected a remedy's name" in problem.message


def test_an_unknown_stage_remedy_still_gets_a_suggestion() -> None:
    error, _ = _load(lambda data: _first_stage(data).__setitem__("remedy", "litigat"))
    (problem,) = error.problems
    assert problem.message == "unknown remedy 'litigat'"
    assert problem.suggestion == "litigate"


# --------------------------------------------------------------------------- long lists


def _set(where: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: object) -> Any:
    return lambda data: where(data).__setitem__(key, value)


_BAD_KINDS = ["paymnt"] * 100_000
_BAD_CHANNELS = ["phon"] * 100_000


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            _set(lambda d: d["timeline"], "contact_channels", _BAD_CHANNELS),
            "timeline.contact_channels",
        ),
        (_set(_first_stage, "completed_by", _BAD_KINDS), "timeline.plans.loan[L-DUE].completed_by"),
        (
            _set(lambda d: d["timeline"]["deadlines"]["limitation"], "interrupted_by", _BAD_KINDS),
            "timeline.deadlines.limitation.interrupted_by",
        ),
        (
            _set(_first_response, "completed_by", _BAD_KINDS),
            "emergencies.plans.response[E-REPORT].completed_by",
        ),
    ],
    ids=["contact_channels", "completed_by", "interrupted_by", "emergency completed_by"],
)
def test_a_list_of_100_000_unknown_names_is_reported_in_bounded_time(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    # Each unknown name once cost two fuzzy matches: about 10 seconds for the list.
    error, seconds = _load(change)
    assert seconds < BOUND
    assert error.problems[0].path == path
    assert "unknown" in error.problems[0].message
    assert error.problems[0].suggestion is not None  # the first ones are still suggested


# --------------------------------------------------------------------------- schedules

_SCHEDULE = {"country": "CN", "years": [2030], "holidays": ["2030-01-01"]}


@pytest.mark.parametrize(
    ("key", "shown"),
    [(1, "[1]"), ((2030, 1), "[(2030, 1)]"), (10**5000, "[<integer of about 5001 digits>]")],
    ids=["int", "tuple", "5001 digits"],
)
def test_a_schedule_key_that_is_not_text_is_an_input_error(key: object, shown: str) -> None:
    # A key that is not text: TypeError sorting it among the text keys, or ValueError
    # writing an integer past Python's 4,300 digits.
    with pytest.raises(InputError) as caught:
        CalendarSchedule.from_dict({**_SCHEDULE, key: 1}, source="cn.toml")
    (problem,) = caught.value.problems
    assert problem.path == shown
    assert problem.message.startswith("expected a text key, got ")
    assert problem.source == "cn.toml"


_NESTED: list[Any] = []
for _ in range(10_000):
    _NESTED = [_NESTED]


@pytest.mark.parametrize(
    "source", [5, b"cn.toml", _NESTED, {"file": "cn.toml"}], ids=["int", "bytes", "deep", "dict"]
)
def test_a_schedule_source_that_is_not_text_is_an_input_error(source: object) -> None:
    # A list 10,000 deep raised RecursionError; others were kept as the source.
    with pytest.raises(InputError) as caught:
        CalendarSchedule.from_dict(_SCHEDULE, source=source)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.path == "source"
    assert "expected the name of the schedule's file or None" in problem.message


_NOT_DATES = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.times(),
)


@settings(max_examples=100, deadline=None)
@given(_NOT_DATES)
def test_a_schedule_asked_of_something_not_a_date_is_an_input_error(day: object) -> None:
    # AttributeError: 'NoneType' object has no attribute 'year'.
    schedule = CalendarSchedule.from_dict(_SCHEDULE)
    with pytest.raises(InputError) as caught:
        schedule.is_working_day(day)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.path == "day"
    assert "expected a date" in problem.message


def test_a_schedule_still_answers_for_dates() -> None:
    schedule = CalendarSchedule.from_dict(_SCHEDULE)
    assert schedule.is_working_day(dt.date(2030, 1, 1)) is False
    assert schedule.is_working_day(dt.date(2030, 1, 2)) is True
    assert schedule.is_working_day(dt.date(2031, 1, 2)) is None
    assert schedule.is_working_day(dt.datetime(2030, 1, 2, 9)) is True  # its date
