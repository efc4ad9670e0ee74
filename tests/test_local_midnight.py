"""A local day starts at its first instant, also where the clocks change at midnight.

Where the clocks go back at midnight (Havana, the Azores, Amman, Gaza …), 00:00
comes twice; pendulum builds the second, an hour after the day began. A case due on
such a day had its due date's start, and every deadline counted from a midnight on such
a day, an hour late: a payment in the day's first hour fell before its start. Where the
clocks go forward at midnight (Tehran, Santiago in September), 00:00 never comes, and
the day starts when the clocks jump.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pendulum
import pytest

from collectrules import Engine
from collectrules.calendars import BusinessCalendar
from collectrules.model import Case, Event, local_midnight
from collectrules.model.case import iana_zones
from collectrules.timeline.stages import Offset


def _midnights() -> tuple[list[tuple[str, dt.date]], list[tuple[str, dt.date]]]:
    """The days of 2015–2027 whose 00:00 comes twice, and those whose 00:00 never
    comes, in every IANA zone."""
    repeated, skipped = [], []
    days = [dt.date(2015, 1, 1) + dt.timedelta(days=n) for n in range(13 * 366)]
    for name in sorted(iana_zones()):  # one order in every test process
        tz = zoneinfo.ZoneInfo(name)
        for day in days:
            first = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
            if first.utcoffset() != first.replace(fold=1).utcoffset():
                back = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
                found = skipped if back != first.replace(tzinfo=None) else repeated
                found.append((name, day))
    return repeated, skipped


REPEATED, SKIPPED = _midnights()


def _starts(day: dt.date, name: str, at: pendulum.DateTime) -> bool:
    """Whether ``at`` is the first instant whose local date in ``name`` is ``day``."""
    tz = zoneinfo.ZoneInfo(name)
    before = dt.datetime.fromtimestamp(at.timestamp() - 1e-6, tz)
    return dt.datetime.fromtimestamp(at.timestamp(), tz).date() == day and before.date() < day


def test_there_are_such_days_to_test() -> None:
    assert len(REPEATED) > 50
    assert len(SKIPPED) > 100
    assert ("America/Havana", dt.date(2024, 11, 3)) in REPEATED


@pytest.mark.parametrize(("name", "day"), REPEATED)
def test_a_repeated_midnight_is_its_first(name: str, day: dt.date) -> None:
    assert _starts(day, name, local_midnight(day, name))


@pytest.mark.parametrize(("name", "day"), SKIPPED)
def test_a_skipped_midnight_is_when_the_clocks_jump(name: str, day: dt.date) -> None:
    assert _starts(day, name, local_midnight(day, name))


def test_business_days_land_on_a_days_first_instant() -> None:
    # Havana's repeated midnight is Sunday 3 November 2024. Over a calendar that works
    # that weekend, two working days from Friday's midnight land on it.
    every_day = BusinessCalendar(
        "US", extra_working_days=frozenset({dt.date(2024, 11, 2), dt.date(2024, 11, 3)})
    )
    start = local_midnight(dt.date(2024, 11, 1), "America/Havana")
    landed = every_day.add_business_days(start, 2, "America/Havana")
    assert landed.isoformat() == "2024-11-03T00:00:00-04:00"
    assert _starts(dt.date(2024, 11, 3), "America/Havana", landed)


def test_a_case_due_on_such_a_day_is_due_from_its_first_instant() -> None:
    case = Case(
        case_id="HAV-1",
        product="loan",
        currency="USD",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2024, 11, 3),
        timezone="America/Havana",
        # Paid in the due date's first hour: 00:30 the first time round.
        events=(
            Event(
                kind="payment",
                at=pendulum.parse("2024-11-03T00:30:00-04:00"),
                amount=Decimal(100),
            ),
        ),
    )
    as_of = pendulum.parse("2024-11-20T12:00:00-05:00")
    for backend in ("python", "durable"):
        engine = Engine("default", backend=backend)
        timeline = engine.timeline(case, as_of=as_of).to_dict()
        due = next(s for s in timeline["steps"] if s["anchor"] == "due_date")
        assert due["anchor_at"] == "2024-11-03T00:00:00-04:00", backend
        assert engine.decide(case, as_of=as_of).facts["paid_since_due"] == "100", backend


def test_business_days_from_a_skipped_midnight_land_on_the_days_start() -> None:
    # Tehran's clocks went forward at 00:00 on Friday 22 March 2019: that day started
    # at 01:00. One working day on (over a calendar that works that weekend) is
    # Saturday's first instant, 00:00, not 01:00.
    works = BusinessCalendar(
        "US", extra_working_days=frozenset({dt.date(2019, 3, 23), dt.date(2019, 3, 24)})
    )
    start = local_midnight(dt.date(2019, 3, 22), "Asia/Tehran")
    assert start.isoformat() == "2019-03-22T01:00:00+04:30"
    landed = works.add_business_days(start, 1, "Asia/Tehran")
    assert landed.isoformat() == "2019-03-23T00:00:00+04:30"
    onto = works.add_business_days(
        local_midnight(dt.date(2019, 3, 21), "Asia/Tehran"), 1, "Asia/Tehran"
    )
    assert onto.isoformat() == "2019-03-22T01:00:00+04:30"


@pytest.mark.parametrize(("name", "day"), REPEATED)
def test_whole_days_weeks_and_months_from_a_midnight_land_on_a_days_first_instant(
    name: str, day: dt.date
) -> None:
    calendar = BusinessCalendar("US")
    for text, start in (
        ("3 days", day - dt.timedelta(days=3)),
        ("1 week", day - dt.timedelta(weeks=1)),
        ("1 month", (day.replace(day=1) - dt.timedelta(days=1)).replace(day=min(day.day, 28))),
    ):
        if text == "1 month" and day.day > 28:
            continue
        landed = Offset.parse(text).apply(local_midnight(start, name), calendar, name)
        assert _starts(day, name, landed), (text, landed.isoformat())
        # the same count in hours from the same midnight lands on the same instant
        if text != "1 month":
            hours = (day - start).days * 24
            by_hours = Offset.parse(f"{hours} hours").apply(
                local_midnight(start, name), calendar, name
            )
            if by_hours.date() == day:
                assert by_hours.timestamp() == landed.timestamp()


def test_a_stage_due_on_such_a_day_is_breached_from_its_first_instant() -> None:
    # L-3D is due three days after the overdue start, Thursday 29 October 2026:
    # Havana's 00:00 of Sunday 1 November comes twice, and the stage is due at the first.
    case = Case(
        case_id="HAV-2",
        product="loan",
        currency="USD",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2026, 10, 28),
        timezone="America/Havana",
    )
    as_of = pendulum.parse("2026-11-01T00:30:00-04:00")  # between the two midnights
    for backend in ("python", "durable"):
        engine = Engine("default", backend=backend)
        steps = {s["id"]: s for s in engine.timeline(case, as_of=as_of).to_dict()["steps"]}
        assert steps["L-3D"]["due_at"] == "2026-11-01T00:00:00-04:00", backend
        assert steps["L-3D"]["status"] == "breached", backend
        assert engine.decide(case, as_of=as_of).facts["step_l_3d"] == "breached", backend


# Days the clocks skipped whole, each zone's clocks jumping a day ahead across the date
# line: no instant of them exists, so no business day may be counted on one.
SKIPPED_DAYS = [
    ("Pacific/Apia", dt.date(2011, 12, 30)),
    ("Pacific/Fakaofo", dt.date(2011, 12, 30)),
    ("Pacific/Kwajalein", dt.date(1993, 8, 21)),
    ("Pacific/Kiritimati", dt.date(1994, 12, 31)),
]


@pytest.mark.parametrize(("name", "day"), SKIPPED_DAYS)
def test_a_day_the_clocks_skipped_is_not_counted_as_a_business_day(name: str, day: dt.date) -> None:
    # Samoa went from UTC-10 to UTC+14 after Thursday 29 December 2011: Friday 30
    # December never came in Apia. Counting business days over it (a calendar that
    # works every day of the week, so that only the skipped day is left out) lands on
    # the days that came, keeping the time of day: 22:30 on the day before plus one
    # business day is 22:30 of the day after the skipped one, and plus two the day
    # after that.
    zone = zoneinfo.ZoneInfo(name)
    every_day = BusinessCalendar(
        "US", extra_working_days=frozenset(day + dt.timedelta(days=n) for n in range(-3, 6))
    )
    assert local_midnight(day, name).date() == day + dt.timedelta(days=1)
    before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(22, 30), zone)
    for count, expected in ((1, 1), (2, 2), (3, 3)):
        landed = every_day.add_business_days(before, count, name)
        assert landed.astimezone(zone).date() == day + dt.timedelta(days=expected), count
        assert landed.astimezone(zone).time() == dt.time(22, 30)
    # From the first instant of the day before: first instants.
    first = local_midnight(day - dt.timedelta(days=1), name)
    landed = every_day.add_business_days(first, 1, name)
    assert landed == local_midnight(day + dt.timedelta(days=1), name)
    # The day itself, given as a date, is still a working day of the calendar: the
    # calendar has no zone; the count by dates is the calendar's own.
    assert every_day.add_working_days(day - dt.timedelta(days=1), 1) == day


@pytest.mark.parametrize(("name", "day"), SKIPPED_DAYS)
def test_business_days_over_a_skipped_day_land_on_a_working_day_that_came(
    name: str, day: dt.date
) -> None:
    # The United States calendar: weekends and New York's holidays off. From every
    # quarter hour (as instants) of the week before the skipped day to the day after,
    # each count of 0 to 4 business days lands on a working day that came, no earlier
    # than the start, later for each more day counted.
    zone = zoneinfo.ZoneInfo(name)
    calendar = BusinessCalendar("US", subdivision="NY")
    start = local_midnight(day - dt.timedelta(days=7), name)
    for step in range(0, 9 * 24 * 4):
        at = start.add(minutes=15 * step)
        previous = None
        for count in range(5):
            landed = calendar.add_business_days(at, count, name)
            local = landed.astimezone(zone)
            assert calendar.is_working_day(local.date()), (at, count, landed)
            assert local.date() != day
            assert landed.timestamp() >= at.timestamp()
            assert previous is None or landed.timestamp() > previous
            previous = landed.timestamp()


def test_a_time_of_day_kept_onto_a_day_of_a_clock_change() -> None:
    # The time of day is kept on the target day; where it never comes there (New York,
    # 8 March 2026, 02:00 to 03:00) it is moved on by the gap, and where it comes twice
    # (1 November 2026, 01:00 to 02:00 twice) it is the later of the two.
    ny = "America/New_York"
    works = BusinessCalendar(
        "US",
        extra_working_days=frozenset(
            {dt.date(2026, 3, 7), dt.date(2026, 3, 8), dt.date(2026, 10, 31), dt.date(2026, 11, 1)}
        ),
    )
    gap = works.add_business_days(pendulum.datetime(2026, 3, 7, 2, 30, tz=ny), 1, ny)
    assert gap.isoformat() == "2026-03-08T03:30:00-04:00"
    twice = works.add_business_days(pendulum.datetime(2026, 10, 31, 1, 30, tz=ny), 1, ny)
    assert twice.isoformat() == "2026-11-01T01:30:00-05:00"
