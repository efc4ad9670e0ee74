"""Contact hours on the days the clocks change.

An instant is allowed when the debtor's wall clock then reads from ``start`` to ``end``
(both included); and, the allowed times being closed, also at the instant the clocks
change (or a day begins) when the times they read just before it are allowed: hours
whose ``end`` the clocks jump over close at the jump; 24:00 is the next day's first
instant.

Where the clocks go back, the hours of the repeated span come twice: hours that open
in it opened at its second pass, an hour late, and the first allowed time after the
clocks went back into the hours, or the last before they went back out of them, was
missed. Where the clocks jump, hours that open or close in the skipped span opened
and closed as late as the jump is long. Properties are checked against the zone's
clock as zoneinfo reads it, minute by minute and at each change of offset.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Contact, ContactHours, Guardrails, InputError
from collectrules.errors import CollectRulesError
from collectrules.model import local_midnight
from collectrules.policy import policy_from_dict

NY = "America/New_York"
HAVANA = "America/Havana"


def _iso(at: dt.datetime) -> str:
    return at.isoformat()


# --------------------------------------------------------------------------- repeated hours


def test_hours_opening_in_the_repeated_hour_open_at_its_first_pass() -> None:
    # New York, 1 November 2026: 01:00-02:00 comes twice (EDT, then EST).
    hours = ContactHours.parse("01:30", "05:00")
    before = pendulum.datetime(2026, 11, 1, 1, 0, tz=NY, fold=0)  # 05:00Z
    first = hours.first_allowed(before, NY)
    assert first.timestamp() == pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC").timestamp()
    assert _iso(first) == "2026-11-01T01:30:00-04:00"
    assert _iso(hours.window_on(dt.date(2026, 11, 1), NY)[0]) == "2026-11-01T01:30:00-04:00"


def test_hours_opening_at_a_repeated_midnight_open_at_the_first() -> None:
    # Havana, 1 November 2026: 00:00-01:00 comes twice (CDT, then CST).
    hours = ContactHours.parse("00:30", "05:00")
    evening = pendulum.datetime(2026, 10, 31, 23, 0, tz=HAVANA)
    first = hours.first_allowed(evening, HAVANA)
    assert _iso(first) == "2026-11-01T00:30:00-04:00"
    assert _iso(hours.window_on(dt.date(2026, 11, 1), HAVANA)[0]) == ("2026-11-01T00:30:00-04:00")


def test_the_first_pass_of_the_opening_time_is_allowed() -> None:
    hours = ContactHours.parse("01:30", "05:00")
    at = dt.datetime(2026, 11, 1, 1, 30, tzinfo=zoneinfo.ZoneInfo(NY), fold=0)
    assert hours.allows(at, NY)
    assert hours.first_allowed(at, NY).timestamp() == at.timestamp()


def test_hours_the_clocks_go_back_into_open_again_when_they_go_back() -> None:
    # 00:00-01:30 in New York: at 02:00 EDT the clocks go back to 01:00 EST, which is
    # within the hours again; the next allowed time after 01:45 EDT is that instant,
    # not the next day's 00:00.
    hours = ContactHours.parse("00:00", "01:30")
    late = pendulum.datetime(2026, 11, 1, 1, 45, tz=NY, fold=0)
    assert not hours.allows(late, NY)
    first = hours.first_allowed(late, NY)
    assert first.timestamp() == pendulum.datetime(2026, 11, 1, 6, 0, tz="UTC").timestamp()
    assert _iso(first) == "2026-11-01T01:00:00-05:00"


def test_the_last_allowed_time_before_the_second_pass_is_the_change() -> None:
    # 01:30-05:00 in New York: the first pass of 01:30-02:00 is within the hours, and
    # the clocks read 02:00 EDT just before they go back to 01:00 EST. At 01:15 EST
    # the last allowed time is that change (it was 05:00 the day before).
    hours = ContactHours.parse("01:30", "05:00")
    second = pendulum.datetime(2026, 11, 1, 1, 15, tz=NY, fold=1)
    assert not hours.allows(second, NY)
    last = hours.last_allowed(second, NY)
    assert last.timestamp() == pendulum.datetime(2026, 11, 1, 6, 0, tz="UTC").timestamp()
    assert hours.allows(last, NY)


def test_hours_to_midnight_close_at_a_midnight_the_clocks_go_back_across() -> None:
    # St John's, 29 October 2000: at 00:01 NDT (-02:30) the clocks went back to 23:01
    # NST (-03:30) on the 28th, so the wall clock read the 29th for a minute and then
    # the 28th again. Hours to 24:00 close at that midnight, 02:30 UTC: the search
    # back from the change looked only at the days the span's ends read (the 27th and
    # 28th) and answered the midnight before, a day early. Found by the property below.
    zone = "America/St_Johns"
    hours = ContactHours.parse("23:59", "24:00")
    change = pendulum.datetime(2000, 10, 29, 2, 31, tz="UTC")
    assert not hours.allows(change, zone)
    last = hours.last_allowed(change, zone)
    assert _iso(last) == "2000-10-29T00:00:00-02:30"
    assert hours.allows(last, zone)
    assert not hours.allows(last.add(microseconds=1), zone)
    # Forward from before that minute, the hours open at 23:59 NDT on the 28th.
    early = pendulum.datetime(2000, 10, 29, 0, 0, tz="UTC")
    assert _iso(hours.first_allowed(early, zone)) == "2000-10-28T23:59:00-02:30"


def test_hours_to_midnight_close_again_at_a_midnight_that_comes_twice() -> None:
    # Goose Bay, 25 October 1987: at 00:01 ADT (-03:00) the clocks went back to 23:01
    # AST (-04:00) on the 24th, so 23:59 to 24:00 came twice and midnight too (03:00
    # and 04:00 UTC). Just after the second midnight, the last allowed time is that
    # midnight, not the first: the search looked only at a day's first midnight.
    # Found by a scan of every change of offset across midnight in 1970-2030.
    zone = "America/Goose_Bay"
    hours = ContactHours.parse("23:59", "24:00")
    after = pendulum.datetime(1987, 10, 25, 4, 1, tz="UTC")
    last = hours.last_allowed(after, zone)
    assert last.in_timezone("UTC").isoformat() == "1987-10-25T04:00:00+00:00"
    assert hours.allows(last, zone)
    assert hours.allows(pendulum.datetime(1987, 10, 25, 3, 59, 30, tz="UTC"), zone)


def test_lord_howe_hours_opening_in_its_repeated_half_hour_open_at_the_first_pass() -> None:
    # Lord Howe Island, 5 April 2026: 02:00 +11:00 goes back to 01:30 +10:30.
    zone = "Australia/Lord_Howe"
    hours = ContactHours.parse("01:45", "05:00")
    early = pendulum.datetime(2026, 4, 5, 1, 0, tz=zone)
    assert _iso(hours.first_allowed(early, zone)) == "2026-04-05T01:45:00+11:00"


def test_santiago_hours_the_clocks_go_back_into_at_midnight_open_at_the_change() -> None:
    # Santiago, 4 April 2026: at 24:00 -03:00 the clocks go back to 23:00 -04:00.
    zone = "America/Santiago"
    hours = ContactHours.parse("08:00", "23:30")
    late = pendulum.datetime(2026, 4, 4, 23, 45, tz=zone, fold=0)
    assert _iso(late) == "2026-04-04T23:45:00-03:00"
    assert _iso(hours.first_allowed(late, zone)) == "2026-04-04T23:00:00-04:00"


# --------------------------------------------------------------------------- skipped hours


def test_hours_opening_in_skipped_time_open_when_the_clocks_jump() -> None:
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 03:15 reads after 02:30.
    hours = ContactHours.parse("02:30", "05:00")
    early = pendulum.datetime(2026, 3, 8, 1, 0, tz=NY)
    assert _iso(hours.first_allowed(early, NY)) == "2026-03-08T03:00:00-04:00"
    assert hours.allows(pendulum.datetime(2026, 3, 8, 3, 15, tz=NY), NY)
    assert _iso(hours.window_on(dt.date(2026, 3, 8), NY)[0]) == "2026-03-08T03:00:00-04:00"


def test_hours_closing_in_skipped_time_close_when_the_clocks_jump() -> None:
    hours = ContactHours.parse("00:00", "02:30")
    morning = pendulum.datetime(2026, 3, 8, 6, 0, tz=NY)
    assert _iso(hours.last_allowed(morning, NY)) == "2026-03-08T03:00:00-04:00"
    assert not hours.allows(pendulum.datetime(2026, 3, 8, 3, 15, tz=NY), NY)
    assert _iso(hours.window_on(dt.date(2026, 3, 8), NY)[1]) == "2026-03-08T03:00:00-04:00"


# --------------------------------------------------------------------------- properties
#
# What the clocks read, with zoneinfo alone (no pendulum, none of the library's code).

UTC = dt.UTC
TICK = dt.timedelta(microseconds=1)
MINUTE = dt.timedelta(minutes=1)
#: Zones with unusual changes: at midnight (Havana, Santiago, Asuncion, Beirut), by
#: half an hour (Lord Howe), at +12:45 (Chatham), two a year for Ramadan (Casablanca),
#: by two hours (Troll), a day skipped (Apia), at 22:00 local (Nuuk, 2022).
CHOSEN = (
    NY, HAVANA, "America/Santiago", "Pacific/Apia", "Australia/Lord_Howe",
    "Africa/Casablanca", "Asia/Gaza", "Pacific/Chatham", "America/Nuuk",
    "America/Asuncion", "Asia/Beirut", "Antarctica/Troll", "Europe/London",
    "Asia/Tehran", "America/St_Johns", "Europe/Chisinau", "Africa/Cairo",
)  # fmt: skip


def _offset_at(at: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.timedelta:
    offset = at.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _has_changes(name: str) -> bool:
    tz = zoneinfo.ZoneInfo(name)
    offsets = {
        _offset_at(dt.datetime(year, month, 1, tzinfo=UTC), tz)
        for year in range(1900, 2101, 3)
        for month in (1, 4, 7, 10)
    }
    return len(offsets) > 1


ZONES = sorted(name for name in zoneinfo.available_timezones() if _has_changes(name))


def _changes(name: str, year: int) -> list[dt.datetime]:
    """The instants (UTC) in ``year`` at which the offset of ``name`` changes."""
    tz = zoneinfo.ZoneInfo(name)
    found = []
    at = dt.datetime(year, 1, 1, tzinfo=UTC)
    for _ in range(366):
        nxt = at + dt.timedelta(days=1)
        if _offset_at(at, tz) != _offset_at(nxt, tz):
            low, high = at, nxt
            while high - low > TICK:
                middle = low + (high - low) // 2
                if _offset_at(middle, tz) == _offset_at(at, tz):
                    low = middle
                else:
                    high = middle
            found.append(high)
        at = nxt
    return found


def _changes_between(name: str, low: dt.datetime, high: dt.datetime) -> list[dt.datetime]:
    years = range(low.astimezone(UTC).year, high.astimezone(UTC).year + 1)
    return [c for y in years for c in _changes(name, y) if low <= c <= high]


def _reads_within(hours: ContactHours, wall: dt.datetime, *, limit: bool) -> bool:
    since = wall - dt.datetime.combine(wall.date(), dt.time())
    if limit and not since:
        return hours.end == 24 * 60  # 00:00 approached from before: 24:00
    if limit:  # the readings just before ``wall``
        return hours.start * MINUTE < since <= hours.end * MINUTE
    return hours.start * MINUTE <= since <= hours.end * MINUTE


def _allowed(hours: ContactHours, at: dt.datetime, name: str) -> bool:
    """Whether the clocks read within the hours at ``at``, or read so just before it
    (where they change at ``at``, or a day begins)."""
    tz = zoneinfo.ZoneInfo(name)
    local = at.astimezone(tz)
    wall = local.replace(tzinfo=None)
    if _reads_within(hours, wall, limit=False):
        return True
    before = wall + (_offset_at(at - TICK, tz) - _offset_at(at, tz))
    return _reads_within(hours, before, limit=True)


def _key(at: dt.datetime) -> dt.timedelta:
    """The instant ``at`` as elapsed time since 0001-01-01T00:00Z (no overflow near the
    calendar's ends, where converting to UTC has none)."""
    wall = dt.datetime(*at.timetuple()[:6], at.microsecond)  # a standard datetime
    return wall - dt.datetime.min - (at.utcoffset() or dt.timedelta())


def _utc(at: dt.datetime) -> dt.datetime:
    """The instant ``at`` at UTC (as a standard datetime: compared as an instant)."""
    return dt.datetime.min.replace(tzinfo=UTC) + _key(at)


def _probes(
    name: str, hours: ContactHours, low: dt.datetime, high: dt.datetime
) -> list[dt.datetime]:
    """Instants from ``low`` to ``high`` (UTC) to look for an allowed time: every
    minute, each change of offset and the microsecond before it."""
    probes = []
    at = low
    while at <= high:
        probes.append(at)
        at += MINUTE
    for change in _changes_between(name, low - TICK, high + TICK):
        probes += [change - TICK, change, change + TICK]
    return [p for p in probes if low <= p <= high]


def _check_first(hours: ContactHours, at: dt.datetime, name: str) -> None:
    first = hours.first_allowed(at, name)
    start, found = _utc(at), _utc(first)
    assert found >= start, (first, at)
    assert _allowed(hours, found, name), first
    assert hours.allows(first, name)
    assert _utc(hours.next_allowed(at, name)) == found
    if _allowed(hours, start, name):
        assert found == start
        return
    # Nothing allowed from ``at`` to just before the answer.
    assert found - start <= dt.timedelta(days=3)
    earlier = [p for p in _probes(name, hours, start, found - TICK) if _allowed(hours, p, name)]
    assert earlier == [], (first, earlier[:3])


def _check_last(hours: ContactHours, at: dt.datetime, name: str) -> None:
    last = hours.last_allowed(at, name)
    end, found = _utc(at), _utc(last)
    assert found <= end, (last, at)
    assert _allowed(hours, found, name), last
    assert hours.allows(last, name)
    if _allowed(hours, end, name):
        assert found == end
        return
    assert end - found <= dt.timedelta(days=3)
    later = [p for p in _probes(name, hours, found + TICK, end) if _allowed(hours, p, name)]
    assert later == [], (last, later[:3])


@st.composite
def _near_a_change(draw: st.DrawFn) -> tuple[str, dt.datetime, dt.datetime | None]:
    """A zone, an instant (UTC) near one of its changes of offset, and the change."""
    name = draw(st.sampled_from(CHOSEN) | st.sampled_from(ZONES))
    year = draw(st.integers(2000, 2035) | st.integers(1900, 2100))
    changes = _changes(name, year)
    if not changes:
        moment = dt.datetime(year, 1, 1, tzinfo=UTC) + draw(st.integers(0, 364 * 86400)) * (
            dt.timedelta(seconds=1)
        )
        return name, moment, None
    change = draw(st.sampled_from(changes))
    near = st.sampled_from([-3601, -3600, -1800, -60, -1, 0, 1, 60, 1800, 3600, 5400])
    seconds = draw(near | st.integers(-36 * 3600, 36 * 3600))
    micro = draw(st.sampled_from([0, 0, 0, -1, 1]))
    return name, change + dt.timedelta(seconds=seconds, microseconds=micro), change


def _minutes(wall: dt.datetime) -> int:
    return wall.hour * 60 + wall.minute


@st.composite
def _hours_near(draw: st.DrawFn, name: str, change: dt.datetime | None) -> ContactHours:
    """Hours that often open or close where the clocks change."""
    marks = [0, 1, 8 * 60, 22 * 60, 24 * 60 - 1, 24 * 60]
    if change is not None:
        tz = zoneinfo.ZoneInfo(name)
        after = change.astimezone(tz).replace(tzinfo=None)
        before = (change - TICK).astimezone(tz).replace(tzinfo=None)
        for wall in (before, after):
            m = _minutes(wall) + (1 if wall.second or wall.microsecond else 0)
            marks += [m - 31, m - 30, m - 1, m, m + 1, m + 15, m + 30, m + 31]
    marks = sorted({m for m in marks if 0 <= m <= 24 * 60})
    start = draw(st.sampled_from(marks[:-1]) | st.integers(0, 24 * 60 - 1))
    end = draw(st.sampled_from([m for m in marks if m > start]) | st.integers(start + 1, 24 * 60))
    return ContactHours(start, end)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_allowed_times_near_changes_of_offset(data: st.DataObject) -> None:
    name, moment, change = data.draw(_near_a_change())
    hours = data.draw(_hours_near(name, change))
    assert hours.allows(moment, name) is _allowed(hours, moment, name)
    _check_first(hours, moment, name)
    _check_last(hours, moment, name)


def _forms(moment: dt.datetime, name: str, other: int) -> list[dt.datetime]:
    """The instant ``moment`` (UTC) as callers give it: at UTC, at a fixed offset, on
    the zone's wall clock with its fold (zoneinfo and pendulum), in another zone."""
    local = moment.astimezone(zoneinfo.ZoneInfo(name))
    fixed = dt.timezone(dt.timedelta(minutes=other))
    return [
        moment,
        moment.astimezone(fixed),
        local,
        pendulum.instance(local),
        pendulum.instance(moment).in_timezone(name),
        pendulum.instance(moment).in_timezone("Asia/Kolkata"),
    ]


def _same_instant_in_the_zone(found: dt.datetime, name: str) -> dt.datetime:
    """``found`` at UTC, after checking that it reads as the zone's clock does then."""
    instant = _utc(found)
    local = instant.astimezone(zoneinfo.ZoneInfo(name))
    assert found.replace(tzinfo=None) == local.replace(tzinfo=None)
    assert found.utcoffset() == local.utcoffset()
    assert found.timestamp() == instant.timestamp()
    return instant


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), other=st.integers(-23 * 60, 23 * 60))
def test_the_answers_are_the_same_instants_whatever_form_the_time_comes_in(
    data: st.DataObject, other: int
) -> None:
    name, moment, change = data.draw(_near_a_change())
    hours = data.draw(_hours_near(name, change))
    answers = set()
    for form in _forms(moment, name, other):
        first = _same_instant_in_the_zone(hours.first_allowed(form, name), name)
        last = _same_instant_in_the_zone(hours.last_allowed(form, name), name)
        answers.add((hours.allows(form, name), first, last))
    assert len(answers) == 1, answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_days_window_opens_and_closes_at_allowed_times(data: st.DataObject) -> None:
    name, moment, change = data.draw(_near_a_change())
    hours = data.draw(_hours_near(name, change))
    day = moment.astimezone(zoneinfo.ZoneInfo(name)).date()
    opens, closes = hours.window_on(day, name)
    first, last = _utc(opens), _utc(closes)
    assert first <= last
    if _allowed(hours, first, name):  # not on a day with no allowed time
        assert _allowed(hours, last, name)
        # The first allowed time of the day: nothing earlier that day reads within the
        # hours (an instant allowed as the previous day's close aside: its 24:00, or an
        # ``end`` the clocks jumped over into this day).
        tz = zoneinfo.ZoneInfo(name)
        readings = [
            p.astimezone(tz).replace(tzinfo=None)
            for p in _probes(name, hours, _utc(local_midnight(day, name)), first - TICK)
        ]
        earlier = [
            wall
            for wall in readings
            if wall.date() == day and _reads_within(hours, wall, limit=False)
        ]
        assert earlier == [], earlier[:3]
        # The last: nothing later that day reads within the hours.
        after = _utc(local_midnight(day + dt.timedelta(days=1), name))
        readings = [
            p.astimezone(tz).replace(tzinfo=None) for p in _probes(name, hours, last + TICK, after)
        ]
        later = [
            wall
            for wall in readings
            if wall.date() == day and _reads_within(hours, wall, limit=False)
        ]
        assert later == [], later[:3]
    else:
        assert first == last
        assert not _allowed(hours, first, name)


# --------------------------------------------------------------------------- calendar ends

END_ZONES = (
    *CHOSEN, "UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Etc/GMT+12", "Etc/GMT-14",
    "Pacific/Chatham", "Asia/Kathmandu",
)  # fmt: skip


@st.composite
def _at_the_ends(draw: st.DrawFn) -> dt.datetime:
    """An instant within three days of the calendar's first or last instant, at UTC or
    at an extreme offset."""
    offset = dt.timezone(dt.timedelta(minutes=draw(st.sampled_from([0, 14 * 60, -12 * 60, 345]))))
    seconds = draw(st.integers(0, 3 * 86400) | st.sampled_from([0, 3600, 86399, 86400]))
    micro = draw(st.sampled_from([0, 999_999]))
    if draw(st.booleans()):
        return dt.datetime.min.replace(tzinfo=offset) + dt.timedelta(seconds=seconds)
    return dt.datetime.max.replace(tzinfo=offset, microsecond=micro) - dt.timedelta(seconds=seconds)


def _answer(call: object, *args: object) -> object:
    """``call(*args)``, or ``None`` when it raises the library's error."""
    assert callable(call)
    try:
        return call(*args)
    except CollectRulesError as exc:
        message = str(exc)
    assert "0001-01-01" in message or "9999-12-31" in message, message
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=_at_the_ends(),
    name=st.sampled_from(END_ZONES),
    start=st.integers(0, 24 * 60 - 1),
    length=st.integers(1, 24 * 60),
)
def test_at_the_calendars_ends_answers_are_allowed_and_errors_the_librarys(
    at: dt.datetime, name: str, start: int, length: int
) -> None:
    hours = ContactHours(start, min(start + length, 24 * 60))
    allowed = _answer(hours.allows, at, name)
    first = _answer(hours.first_allowed, at, name)
    last = _answer(hours.last_allowed, at, name)
    _answer(hours.window, at, at, name)
    _answer(hours.window_on, at.date(), name)
    if allowed is None:  # no date on the zone's clock
        assert first is None
        assert last is None
        return
    for found in (first, last):
        if found is not None:
            assert isinstance(found, dt.datetime)
            assert hours.allows(found, name)
    if isinstance(first, dt.datetime):
        assert _key(first) >= _key(at)
    if isinstance(last, dt.datetime):
        assert _key(last) <= _key(at)
    if allowed:
        assert isinstance(first, dt.datetime)
        assert isinstance(last, dt.datetime)
        assert _key(first) == _key(at) == _key(last)


class _FailingZone(dt.tzinfo):
    """A caller's own tzinfo whose offset cannot be read."""

    def __init__(self, offset: object) -> None:
        self.offset = offset

    def utcoffset(self, at: dt.datetime | None) -> dt.timedelta | None:
        if self.offset is None:
            raise RuntimeError("no offset")
        return self.offset  # type: ignore[return-value]

    def dst(self, at: dt.datetime | None) -> dt.timedelta | None:
        return None

    def tzname(self, at: dt.datetime | None) -> str | None:
        return None


@pytest.mark.parametrize("offset", [None, 5, dt.timedelta(hours=30)], ids=repr)
@pytest.mark.parametrize("method", ["allows", "first_allowed", "last_allowed", "next_allowed"])
def test_a_time_whose_offset_cannot_be_read_is_an_input_error(method: str, offset: object) -> None:
    at = dt.datetime(2026, 11, 1, 1, 30, tzinfo=_FailingZone(offset))
    with pytest.raises(InputError, match="at: expected an aware datetime"):
        getattr(ContactHours.parse("08:00", "21:00"), method)(at, NY)


# --------------------------------------------------------------------------- guardrails


def test_the_guardrails_lift_hours_opening_in_the_repeated_hour_at_its_first_pass() -> None:
    policy = policy_from_dict(
        {
            "extends": "cn_bank_loan",
            "id": "night_hours",
            "parameters": {
                "contact_hours_start": {"value": "01:30"},
                "contact_hours_end": {"value": "05:00"},
            },
        }
    )
    case = Case.from_dict(
        {
            "case_id": "NY-1",
            "product": "loan",
            "currency": "USD",
            "principal": "1000",
            "overdue_amount": "100",
            "due_date": "2026-10-01",
            "timezone": NY,
        }
    )
    guard = Guardrails(policy)
    early = pendulum.datetime(2026, 11, 1, 1, 10, tz=NY, fold=0)
    verdict = guard.check(case, Contact("phone", "debtor", early))
    (block,) = verdict.blocks
    assert block.rule_id == "CN-HOURS"
    assert block.until is not None
    assert _iso(block.until) == "2026-11-01T01:30:00-04:00"
    found = guard.next_allowed(case, "phone", "debtor", after=early)
    assert found is not None
    assert _iso(found) == "2026-11-01T01:30:00-04:00"
