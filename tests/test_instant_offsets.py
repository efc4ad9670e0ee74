"""An instant's offset is read exactly or refused: ``datetime.fromisoformat`` reads
``+08:60`` as ``+09:00``, and an offset with a fraction of a second was cut
(``+08:00:30.5`` to ``+08:00:30``, ``+00:00:00.1`` to UTC): each moved the instant a
feed wrote. Both are refused now,
by ``Case.from_dict``, ``as_of``, the columnar engine (which sends the row to the
per-case engine for its error) and the case schema; whole-second offsets still read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules.engine import Engine
from collectrules.errors import InputError
from collectrules.model.case import Case
from collectrules.model.schema import case_schema
from helpers import CARD_CASE

AS_OF = "2026-06-30T12:00:00+08:00"
KIND = "refused_to_pay"
VALIDATOR = jsonschema.Draft202012Validator(case_schema())


@st.composite
def bad_offsets(draw: Any) -> str:
    sign = draw(st.sampled_from("+-"))
    hours = draw(st.integers(0, 23))
    if draw(st.booleans()):  # minutes past 59
        return f"{sign}{hours:02d}:{draw(st.integers(60, 99))}"
    minutes = draw(st.integers(0, 59))
    seconds = draw(st.integers(0, 59))
    digits = draw(st.integers(1, 6))
    fraction = draw(st.integers(1, 10**digits - 1))
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:0{digits}d}"


def _instant(offset: str) -> str:
    return "2026-06-01T10:00:00" + offset


def _with_signal(at: str) -> dict[str, Any]:
    return {**CARD_CASE, "signals": [{"kind": KIND, "observed_at": at}]}


def _with_event(at: str) -> dict[str, Any]:
    return {**CARD_CASE, "events": [{"kind": "visit", "at": at}]}


@settings(max_examples=60, deadline=None)
@given(offset=bad_offsets())
def test_an_offset_that_is_not_read_exactly_is_refused(offset: str) -> None:
    at = _instant(offset)
    for data, path in (
        (_with_signal(at), "signals[0].observed_at"),
        (_with_event(at), "events[0].at"),
    ):
        with pytest.raises(InputError) as info:
            Case.from_dict(data)
        assert [p.path for p in info.value.problems] == [path]
        assert not VALIDATOR.is_valid(data), at
    with pytest.raises(InputError) as info:
        Engine(backend="python").decide(Case.from_dict(CARD_CASE), as_of=at)
    assert [p.path for p in info.value.problems] == ["as_of"]


def test_the_error_says_what_was_expected() -> None:
    with pytest.raises(InputError, match=r"expected an ISO 8601 datetime with an offset"):
        Case.from_dict(_with_signal(_instant("+08:60")))
    with pytest.raises(InputError, match=r"expected an ISO 8601 datetime with an offset"):
        Case.from_dict(_with_signal(_instant("+08:00:30.5")))
    aware = dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8, microseconds=500)))
    with pytest.raises(InputError, match=r"expected an offset in whole seconds"):
        Engine(backend="python").decide(Case.from_dict(CARD_CASE), as_of=aware)


@pytest.mark.parametrize(
    ("offset", "seconds"),
    [("+08:00", 28_800), ("-05:30", -19_800), ("+08:00:30", 28_830), ("+08:05:43", 29_143)],
)
def test_whole_second_offsets_still_read_as_written(offset: str, seconds: int) -> None:
    data = _with_signal(_instant(offset))
    at = Case.from_dict(data).signals[0].observed_at
    assert at.utcoffset() == dt.timedelta(seconds=seconds)
    assert (at.hour, at.minute) == (10, 0)
    assert VALIDATOR.is_valid(data)


def test_the_columnar_engine_gives_such_a_row_its_per_case_error() -> None:
    pa = pytest.importorskip("pyarrow")
    frame = pytest.importorskip("collectrules.frame")
    cases = pa.table({k: [v, v] for k, v in CARD_CASE.items()}).set_column(
        0, "case_id", pa.array(["A", "B"])
    )
    signals = pa.table(
        {
            "case_id": ["A", "B"],
            "kind": [KIND, KIND],
            "observed_at": [_instant("+08:60"), _instant("+08:00")],
        }
    )
    result = frame.decide(cases, signals, as_of=AS_OF)
    rows = [{**CARD_CASE, "case_id": c, "signals": [{"kind": KIND, "observed_at": at}]}
            for c, at in (("A", _instant("+08:60")), ("B", _instant("+08:00")))]  # fmt: skip
    expected = [r for r in Engine(backend="python").decide_many(rows, as_of=AS_OF) if r.error]
    assert [(e.case_id, str(e.error)) for e in result.errors] == [
        (r.case_id, str(r.error)) for r in expected
    ]
    assert [e.case_id for e in result.errors] == ["A"]
    assert result.decisions.get_column("case_id").to_list() == ["B"]
