"""An aware datetime whose wall clock falls in a gap of its zone is the instant Python reads.

``datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/New_York"))`` names a wall time
that never came (the clocks went from 02:00 to 03:00). Python reads it as an instant all
the same (PEP 495: with ``fold=0`` at the offset before the gap, 07:30 UTC; with
``fold=1`` at the offset after it, 06:30 UTC), and so do ``timestamp()``,
``astimezone()`` and comparisons. ``pendulum.instance`` reads the other side of the gap.
The calendars and stage offsets took their instants through it, so contact hours,
business days and offsets answered for an instant an hour away from the one given
(03:00-21:00 hours refused a call Python reads as 03:30). Every function that takes an
instant now answers for that datetime as for the same instant written in UTC.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from collectrules.calendars import BusinessCalendar, ContactHours
from collectrules.model import Case
from collectrules.timeline.stages import Offset, OffsetUnit

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a half-hour change
    "America/Sao_Paulo",
    "America/Havana",  # at midnight
    "Asia/Tehran",  # at midnight
    "Pacific/Apia",  # a whole day skipped, 30 December 2011
)


def _changes(name: str, first: int, last: int) -> Iterator[dt.datetime]:
    """The instants (UTC) at which the zone's offset changes, in the years given."""
    tz = zoneinfo.ZoneInfo(name)
    at = dt.datetime(first, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last + 1, 1, 1, tzinfo=dt.UTC)
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    while at < end:
        if (at + day).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            probe = at
            while (probe + hour).astimezone(tz).utcoffset() == probe.astimezone(tz).utcoffset():
                probe += hour
            yield probe + hour
        at += day


def _wall_times() -> list[tuple[str, dt.datetime]]:
    """Wall clocks around every change (2010-2027): from 90 minutes before the clock
    reading the change showed to 90 minutes after, every quarter hour, both folds.
    Those inside a gap are the point; the others hold the fix to the same answers."""
    out = []
    for name in ZONES:
        tz = zoneinfo.ZoneInfo(name)
        for change in _changes(name, 2010, 2027):
            before = (change - dt.timedelta(microseconds=1)).astimezone(tz).replace(tzinfo=None)
            base = before.replace(
                minute=before.minute - before.minute % 15, second=0, microsecond=0
            )
            for quarter in range(-6, 14):
                wall = base + dt.timedelta(minutes=15 * quarter)
                for fold in (0, 1):
                    out.append((name, wall.replace(tzinfo=tz, fold=fold)))
    return out


WALL_TIMES = _wall_times()
IN_GAPS = [
    (name, at)
    for name, at in WALL_TIMES
    if at.astimezone(dt.UTC).astimezone(at.tzinfo).replace(tzinfo=None, fold=0)
    != at.replace(tzinfo=None, fold=0)
]

EVERY_DAY = BusinessCalendar(
    "US",
    extra_working_days=frozenset(dt.date(2010, 1, 1) + dt.timedelta(days=n) for n in range(6600)),
)
US_NY = BusinessCalendar("US", subdivision="NY")
HOURS = (
    ContactHours.parse("08:00", "21:00"),
    ContactHours.parse("02:15", "03:30"),
    ContactHours.parse("00:00", "24:00"),
    ContactHours.parse("23:30", "24:00"),
)
OFFSETS = tuple(
    Offset(amount, unit)
    for amount, unit in (
        (2, OffsetUnit.HOURS),
        (1, OffsetUnit.DAYS),
        (1, OffsetUnit.WEEKS),
        (1, OffsetUnit.MONTHS),
        (1, OffsetUnit.BUSINESS_DAYS),
        (3, OffsetUnit.BUSINESS_DAYS),
    )
)


def _answers(at: dt.datetime, name: str) -> list[Any]:
    """What each function taking an instant answers for ``at`` in the zone ``name``;
    each instant as its UTC time and its wall clock and offset in the zone."""
    calls: list[Callable[[], Any]] = []
    for hours in HOURS:
        calls += [
            lambda h=hours: h.allows(at, name),
            lambda h=hours: h.next_allowed(at, name),
            lambda h=hours: h.last_allowed(at, name),
            lambda h=hours: h.window(at, at, name),
        ]
    for calendar in (EVERY_DAY, US_NY):
        calls += [lambda c=calendar, n=n: c.add_business_days(at, n, name) for n in (0, 1, 2)]
        calls += [lambda c=calendar, o=o: o.apply(at, c, name) for o in OFFSETS]
    case = Case.from_dict(
        {
            "case_id": "gap",
            "product": "loan",
            "currency": "USD",
            "principal": "100",
            "overdue_amount": "10",
            "due_date": "2011-01-01",
            "timezone": name,
        }
    )
    calls.append(lambda: case.local_date(at))
    return [_plain(call()) for call in calls]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value.timestamp(), value.isoformat())
    if hasattr(value, "__attrs_attrs__"):
        return tuple(_plain(getattr(value, a.name)) for a in value.__attrs_attrs__)
    return value


def test_the_generated_wall_times_hold_gaps_of_every_zone() -> None:
    zones_with_gaps = {name for name, _ in IN_GAPS}
    assert zones_with_gaps == set(ZONES)
    assert len(IN_GAPS) > 100


@pytest.mark.parametrize(("name", "at"), IN_GAPS[::2], ids=str)
def test_a_wall_clock_in_a_gap_is_the_instant_python_reads(name: str, at: dt.datetime) -> None:
    utc = at.astimezone(dt.UTC)
    assert utc.timestamp() == at.timestamp()
    assert _answers(at, name) == _answers(utc, name)


def test_every_wall_clock_around_a_change_is_the_instant_python_reads() -> None:
    # The wall times outside the gaps too (the repeated hours, both folds, and the
    # times around): the zone object and the instant in UTC give the same answers.
    for name, at in WALL_TIMES[::13]:
        assert _answers(at, name) == _answers(at.astimezone(dt.UTC), name), (name, at)
