"""Faster derivation changes nothing: the same facts, signals, cures and errors as the
frozen reference made by the derivation before it was made faster
(tests/derive_reference.py), on every shipped policy, at instants on both sides of the
clock changes, with caches cold and warm, in either order."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zoneinfo
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Engine, load_policy
from collectrules.calendars import BusinessCalendar
from collectrules.model.time import local_midnight
from collectrules.policy.derive import _Instants
from collectrules.timeline.stages import Offset, OffsetUnit
from derive_reference import (
    KEY_ORDERS,
    POLICIES,
    REFERENCE,
    canonical,
    inputs,
    key_orders,
    records,
    snapshot,
)


def _reference() -> list[dict[str, Any]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _differences(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    out = []
    for want, have in zip(expected, got, strict=True):
        if canonical(want) != canonical(have):
            where = f"{want['policy']} case {want['case']} at {want['as_of']} ({want['mode']})"
            out.append(f"{where}:\n  want {canonical(want)[:600]}\n  got  {canonical(have)[:600]}")
    return out


def test_the_derivation_gives_the_reference_record_for_record() -> None:
    expected = _reference()
    got = list(records())
    assert len(got) == len(expected)
    assert [r["input"] for r in got] == [r["input"] for r in expected], (
        "the generated inputs changed: the reference no longer describes them"
    )
    differences = _differences(expected, got)
    assert not differences, f"{len(differences)} differ; first:\n" + "\n".join(differences[:3])


def test_the_facts_keep_the_reference_key_order() -> None:
    # The reference compares sorted facts; the order in which derivation adds them (what
    # a reader of ``Derived.facts`` sees) is frozen beside it, from the same code.
    with gzip.open(KEY_ORDERS, "rt", encoding="utf-8") as text:
        frozen = json.load(text)
    expected = [None if i < 0 else frozen["orders"][i] for i in frozen["records"]]
    got = list(key_orders())
    assert len(got) == len(expected) == len(_reference())
    assert [o is None for o in got] == ["error" in r for r in _reference()]
    wrong = [i for i, (want, have) in enumerate(zip(expected, got, strict=True)) if want != have]
    assert not wrong, f"{len(wrong)} differ in order; first: record {wrong[0]}"
    assert len(frozen["orders"]) > 10  # many policies, products and plans: many orders


def test_the_reference_covers_errors_dst_folds_and_every_policy() -> None:
    expected = _reference()
    assert {r["policy"] for r in expected} == set(POLICIES)
    labels = {r["as_of"] for r in expected}
    assert {"london-fall-fold0", "london-fall-fold1", "ny-fall-fold1", "naive"} <= labels
    assert sum("error" in r for r in expected) > 100
    assert sum("derived" in r and r["derived"]["cured"] != [] for r in expected) > 100
    assert sum("derived" in r and r["derived"]["ignored"] != [] for r in expected) > 10


@pytest.mark.parametrize("name", POLICIES)
def test_cold_caches_and_the_reverse_order_give_the_same(name: str) -> None:
    expected = {(r["mode"], r["case"], r["as_of"]): r for r in _reference() if r["policy"] == name}
    wanted = [row for row in inputs() if row[0] == name and row[2] % 3 == 0]
    engines: dict[str, Engine] = {}
    for _, mode, i, label, case, as_of in reversed(wanted):
        engine = engines.get(mode)
        if engine is None:
            engine = engines[mode] = Engine(
                load_policy(name),
                backend="python",
                unknown_signals=mode,
            )
        # the policy object is shared: empty its caches on the way to make them cold
        if i % 50 == 0:
            engine.policy.memo("timeline_state_cache", dict).clear()
        want = expected[(mode, i, label)]
        try:
            got: dict[str, Any] = {"derived": snapshot(engine.derive(case, as_of=as_of))}
        except Exception as exc:
            got = {"error": [type(exc).__name__, str(exc)]}
        assert {**want, **got} == want, (name, mode, i, label)


_ZONES = (
    "Europe/London",
    "America/New_York",
    "Asia/Shanghai",
    "Australia/Lord_Howe",
    "America/Havana",
    "UTC",
)


@st.composite
def _instants_near(draw: st.DrawFn) -> tuple[dt.datetime, int, list[pendulum.DateTime]]:
    """An ``as_of`` (often on a clock change), a window, and instants of several zones
    within a few days of ``as_of`` and of the window's start (folds included)."""
    zone = draw(st.sampled_from(_ZONES))
    changes = [
        pendulum.datetime(2026, 3, 29, 1, 30, tz="Europe/London"),
        pendulum.datetime(2026, 10, 25, 1, 30, tz="Europe/London").replace(fold=1),
        pendulum.datetime(2026, 11, 1, 1, 30, tz="America/New_York"),
        pendulum.datetime(2026, 4, 5, 1, 45, tz="Australia/Lord_Howe"),
    ]
    base = draw(st.sampled_from(changes)).add(minutes=draw(st.integers(-180, 180)))
    as_of: dt.datetime = base.in_timezone(zone)
    if draw(st.booleans()):
        as_of = dt.datetime.fromisoformat(as_of.isoformat())  # a stdlib fixed offset
    days = draw(st.sampled_from((1, 2, 30, 180, 214)))
    others = []
    for _ in range(draw(st.integers(1, 8))):
        around = draw(st.sampled_from((0, days)))
        minutes = draw(st.integers(-3 * 24 * 60, 3 * 24 * 60))
        moment = pendulum.instance(as_of).subtract(days=around).add(minutes=minutes)
        local = moment.in_timezone(draw(st.sampled_from((zone, *_ZONES))))
        if draw(st.booleans()):
            local = local.replace(fold=1 - local.fold)
        others.append(local)
    return as_of, days, others


def _utc(at: dt.datetime) -> dt.datetime:
    """``at`` as a naive UTC datetime, by its wall time and its offset."""
    offset = at.utcoffset()
    assert offset is not None
    wall = dt.datetime(at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)
    return wall - offset


@settings(max_examples=300, deadline=None)
@given(_instants_near())
def test_the_window_comparisons_are_exact_comparisons_of_instants(
    drawn: tuple[dt.datetime, int, list[pendulum.DateTime]],
) -> None:
    as_of, days, others = drawn
    window = dt.timedelta(days=days)
    instants = _Instants(as_of, window)
    utc = _utc(as_of)
    for at in others:
        moment = _utc(at)
        assert instants.not_after(at) == (moment <= utc)
        assert instants.after_start(at) == (utc - window < moment)


def _direct(offset: Offset, at: dt.datetime, timezone: str) -> pendulum.DateTime:
    """What ``Offset.apply`` computed before it remembered its results, from the
    instant Python reads ``at`` as (a wall time in a gap of its zone too: PEP 495; not
    the other side of the gap, which ``pendulum.instance`` reads)."""
    local = pendulum.instance(at.astimezone(dt.UTC)).in_timezone(timezone)
    unit = {"hours": "hours", "days": "days", "weeks": "weeks", "months": "months"}
    result: pendulum.DateTime = local.add(**{unit[offset.unit.value]: offset.amount})
    if offset.unit is OffsetUnit.HOURS or local.time() != dt.time(0):
        return result
    # whole days from a midnight: the target day's first 00:00 where it comes twice
    first = local_midnight(result.date(), timezone)
    return first if first.timestamp() < result.timestamp() else result


def _same(a: dt.datetime, b: dt.datetime) -> bool:
    wall = (a.year, a.month, a.day, a.hour, a.minute, a.second, a.microsecond)
    other = (b.year, b.month, b.day, b.hour, b.minute, b.second, b.microsecond)
    return (wall, a.fold, type(a), a.tzinfo) == (other, b.fold, type(b), b.tzinfo)


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(_ZONES),
    target=st.sampled_from(_ZONES),
    minutes=st.integers(-26 * 60, 26 * 60),
    change=st.sampled_from(
        (
            dt.datetime(2026, 3, 29, 1, 0),
            dt.datetime(2026, 10, 25, 1, 30),
            dt.datetime(2026, 3, 8, 2, 30),
            dt.datetime(2026, 11, 1, 1, 30),
            dt.datetime(2026, 4, 5, 1, 45),
            dt.datetime(2026, 1, 31, 0, 0),
            dt.datetime(2026, 11, 1, 0, 30),
        )
    ),
    fold=st.integers(0, 1),
    stdlib=st.booleans(),
    offset=st.builds(
        Offset,
        st.sampled_from((0, 1, 2, 3, 7, 24, 30, 48)),
        st.sampled_from((OffsetUnit.HOURS, OffsetUnit.DAYS, OffsetUnit.WEEKS, OffsetUnit.MONTHS)),
    ),
)
def test_a_remembered_stage_offset_is_the_direct_computation_across_clock_changes(
    zone: str,
    target: str,
    minutes: int,
    change: dt.datetime,
    fold: int,
    stdlib: bool,
    offset: Offset,
) -> None:
    wall = (change + dt.timedelta(minutes=minutes)).replace(fold=fold)
    # wall times in a gap or a repeated hour, with either fold, of either type
    at: dt.datetime = wall.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    if not stdlib:
        at = pendulum.DateTime(*wall.timetuple()[:6], tzinfo=pendulum.timezone(zone), fold=fold)
    calendar = BusinessCalendar("CN")
    want = _direct(offset, at, target)
    assert _same(offset.apply(at, calendar, target), want)
    assert _same(offset.apply(at, calendar, target), want)  # remembered
    # the other fold of the same wall time (another instant in a repeated hour)
    other = at.replace(fold=1 - fold)
    assert _same(offset.apply(other, calendar, target), _direct(offset, other, target))
    # the same instant in another zone meets the remembered one: its own answer still
    elsewhere = pendulum.instance(at.astimezone(dt.UTC)).in_timezone("Asia/Tokyo")
    assert _same(offset.apply(elsewhere, calendar, target), _direct(offset, elsewhere, target))
