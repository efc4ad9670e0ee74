"""Business calendars (holidays package, CN adjusted working days) and contact hours."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from collectrules import BusinessCalendar, ContactHours, ContactWindow, InputError
from timeline_helpers import NY, SH, at, default

CN = BusinessCalendar("CN")
D = dt.date


# --------------------------------------------------------------------------- working days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 2, 13), True),  # Friday
        (D(2026, 2, 14), True),  # Saturday made a working day (调休)
        (D(2026, 2, 15), False),  # Sunday
        (D(2026, 2, 16), False),  # Spring Festival eve
        (D(2026, 2, 20), False),  # Friday off, swapped for 2026-02-14
        (D(2026, 2, 23), False),  # Monday off, swapped for 2026-02-28
        (D(2026, 2, 28), True),  # Saturday made a working day
        (D(2026, 4, 4), False),  # Saturday
        (D(2026, 4, 6), False),  # Tomb-Sweeping Day, observed
        (D(2026, 4, 7), True),
        (D(2026, 10, 1), False),  # National Day
        (D(2026, 10, 10), True),  # Saturday made a working day
        (D(2026, 9, 20), True),  # Sunday made a working day
    ],
)
def test_cn_working_days_follow_the_state_council_calendar(day: dt.date, working: bool) -> None:
    assert CN.is_working_day(day) is working


def test_holiday_names_and_extras() -> None:
    assert CN.holiday_name(D(2026, 10, 1)) == "National Day"
    assert CN.holiday_name(D(2026, 4, 8)) is None
    cal = BusinessCalendar("CN", extra_holidays=[D(2026, 4, 8)], extra_working_days=[D(2026, 4, 4)])
    assert not cal.is_working_day(D(2026, 4, 8))
    assert cal.holiday_name(D(2026, 4, 8)) == "holiday (policy)"
    assert cal.is_working_day(D(2026, 4, 4))
    both = BusinessCalendar(
        "CN", extra_holidays=[D(2026, 4, 8)], extra_working_days=[D(2026, 4, 8)]
    )
    assert both.is_working_day(D(2026, 4, 8))  # an extra working day wins
    assert cal == BusinessCalendar(
        "CN", extra_holidays=[D(2026, 4, 8)], extra_working_days=[D(2026, 4, 4)]
    )
    assert hash(cal) == hash(
        BusinessCalendar("CN", extra_holidays=[D(2026, 4, 8)], extra_working_days=[D(2026, 4, 4)])
    )


def test_subdivision_calendar() -> None:
    ny = BusinessCalendar("US", "NY")
    assert ny.name == "US-NY"
    assert not ny.is_working_day(D(2026, 7, 3))  # Independence Day observed
    assert ny.is_working_day(D(2026, 7, 6))


@pytest.mark.parametrize(
    ("kwargs", "path", "message", "suggestion"),
    [
        ({"country": "XX"}, "country", "no calendar for country 'XX'", None),
        ({"country": "US", "subdivision": "NYY"}, "subdivision", "has no subdivision 'NYY'", "NY"),
    ],
)
def test_unknown_calendars_are_clear_errors(
    kwargs: dict[str, str], path: str, message: str, suggestion: str | None
) -> None:
    with pytest.raises(InputError) as info:
        BusinessCalendar(**kwargs)
    (problem,) = info.value.problems
    assert problem.path == path
    assert message in problem.message
    assert problem.suggestion == suggestion


def test_next_and_added_working_days() -> None:
    assert CN.next_working_day(D(2026, 4, 4)) == D(2026, 4, 7)
    assert CN.next_working_day(D(2026, 4, 7)) == D(2026, 4, 7)
    assert CN.next_working_day(D(2026, 4, 7), strict=True) == D(2026, 4, 8)
    assert CN.add_working_days(D(2026, 4, 1), 0) == D(2026, 4, 1)
    assert CN.add_working_days(D(2026, 4, 1), 3) == D(2026, 4, 7)
    assert CN.add_working_days(D(2026, 2, 12), 2) == D(2026, 2, 14)  # the working Saturday
    assert CN.working_days_between(D(2026, 4, 1), D(2026, 4, 8)) == 4
    with pytest.raises(InputError):
        CN.add_working_days(D(2026, 4, 1), -1)


def test_business_days_keep_the_time_of_day_and_skip_rest_days() -> None:
    # Wednesday 00:00 + 3 business days: Thu, Fri, then Tue (weekend and Tomb-Sweeping Monday).
    assert CN.add_business_days(at("2026-04-01 00:00"), 3, SH) == at("2026-04-07 00:00")
    assert CN.add_business_days(at("2026-04-01 15:30"), 1, SH) == at("2026-04-02 15:30")
    # A Friday + 1 business day is the Saturday that was made a working day.
    assert CN.add_business_days(at("2026-02-13 09:00"), 1, SH) == at("2026-02-14 09:00")
    # From a rest day, counting starts at 00:00 of the next working day.
    assert CN.add_business_days(at("2026-04-04 10:00"), 0, SH) == at("2026-04-07 00:00")
    assert CN.add_business_days(at("2026-04-04 10:00"), 1, SH) == at("2026-04-08 00:00")
    # The instant may come in any zone; the days are the case's.
    utc = pendulum.datetime(2026, 3, 31, 16, 0, tz="UTC")  # 2026-04-01 00:00 in Shanghai
    assert CN.add_business_days(utc, 3, SH) == at("2026-04-07 00:00")


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2027, 1, 31)),
    count=st.integers(min_value=0, max_value=30),
    zone=st.sampled_from([SH, NY, "UTC"]),
)
def test_business_day_offsets_land_on_working_days(
    start: dt.datetime, count: int, zone: str
) -> None:
    anchor = pendulum.instance(start, tz=zone)
    result = CN.add_business_days(anchor, count, zone)
    local = result.in_timezone(zone)
    assert CN.is_working_day(local.date())
    assert result >= anchor
    begin = anchor.in_timezone(zone).date()
    if CN.is_working_day(begin):
        assert CN.working_days_between(begin, local.date()) == count
        # The local time of day is kept (a time in a DST gap moves an hour forward).
        assert local.minute == anchor.minute
        assert local.hour == anchor.hour or (zone == NY and local.hour == anchor.hour + 1)
    else:
        assert CN.working_days_between(CN.next_working_day(begin), local.date()) == count
        assert (local.hour, local.minute) == (0, 0)


# --------------------------------------------------------------------------- contact hours

HOURS = ContactHours.parse("08:00", "22:00", cites=["CN-CONTACT-HOURS"])


def test_contact_hours_read_their_text() -> None:
    assert (HOURS.start, HOURS.end) == (8 * 60, 22 * 60)
    assert HOURS.text == "08:00–22:00"
    assert HOURS.cites == ("CN-CONTACT-HOURS",)
    assert ContactHours.parse("00:00", "24:00").end == 1440


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("8:00", "22:00", "expected a local time as HH:MM"),
        ("08:00", "25:00", "expected a local time as HH:MM"),
        ("08:00", "24:30", "past 24:00"),
        ("22:00", "08:00", "must start before they end"),
        ("08:00", "08:00", "must start before they end"),
        ("8am", "22:00", "expected a local time as HH:MM"),
    ],
)
def test_bad_contact_hours_are_clear_errors(start: str, end: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ContactHours.parse(start, end)


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        ("2026-04-01 07:59:59", False),
        ("2026-04-01 08:00", True),
        ("2026-04-01 13:00", True),
        ("2026-04-01 22:00", True),
        ("2026-04-01 22:00:01", False),
        ("2026-04-02 00:00", False),
    ],
)
def test_allows_is_closed_at_both_ends(when: str, allowed: bool) -> None:
    assert HOURS.allows(at(when), SH) is allowed


def test_first_and_last_allowed_times() -> None:
    # A 24 h deadline at 00:00 has 22:00 the evening before as its last contact time.
    assert HOURS.last_allowed(at("2026-04-02 00:00"), SH) == at("2026-04-01 22:00")
    assert HOURS.last_allowed(at("2026-04-02 07:00"), SH) == at("2026-04-01 22:00")
    assert HOURS.last_allowed(at("2026-04-02 23:00"), SH) == at("2026-04-02 22:00")
    assert HOURS.last_allowed(at("2026-04-02 12:00"), SH) == at("2026-04-02 12:00")
    assert HOURS.first_allowed(at("2026-04-01 00:00"), SH) == at("2026-04-01 08:00")
    assert HOURS.first_allowed(at("2026-04-01 22:30"), SH) == at("2026-04-02 08:00")
    assert HOURS.first_allowed(at("2026-04-01 09:15"), SH) == at("2026-04-01 09:15")
    assert HOURS.next_allowed(at("2026-04-01 06:00"), SH) == at("2026-04-01 08:00")
    # The instant can be given in any zone: the hours are the debtor's.
    utc = pendulum.datetime(2026, 4, 1, 15, 0, tz="UTC")  # 23:00 in Shanghai
    assert HOURS.first_allowed(utc, SH) == at("2026-04-02 08:00")
    with pytest.raises(InputError, match="aware"):
        HOURS.allows(dt.datetime(2026, 4, 1, 9, 0), SH)


def test_hours_ending_at_midnight() -> None:
    late = ContactHours.parse("08:00", "24:00")
    assert late.allows(at("2026-04-02 00:00"), SH)
    assert late.last_allowed(at("2026-04-02 00:00"), SH) == at("2026-04-02 00:00")
    assert late.window_on(D(2026, 4, 1), SH) == (at("2026-04-01 08:00"), at("2026-04-02 00:00"))


def test_contact_window() -> None:
    window = HOURS.window(at("2026-04-01 00:00"), at("2026-04-02 00:00"), SH)
    assert window == ContactWindow(at("2026-04-01 08:00"), at("2026-04-01 22:00"))
    assert window.feasible
    tight = HOURS.window(at("2026-04-01 22:30"), at("2026-04-02 07:00"), SH)
    assert not tight.feasible
    assert HOURS.window(at("2026-04-01 09:00"), None, SH).last_at is None


def test_contact_hours_from_policy_parameters() -> None:
    hours = ContactHours.from_parameters(default().parameters)
    assert hours is not None
    assert hours.text == "08:00–22:00"
    assert hours.cites == ("CN-CONTACT-HOURS",)
    assert ContactHours.from_parameters({}) is None


@pytest.mark.parametrize("value", [5, "08:00", {"value": "08:00"}])
def test_contact_hours_name_a_parameter_of_another_kind(value: object) -> None:
    parameters = {**default().parameters, "contact_hours_end": value}
    with pytest.raises(InputError) as info:
        ContactHours.from_parameters(parameters)
    assert [p.path for p in info.value.problems] == ["parameters['contact_hours_end']"]


def test_windows_keep_their_wall_clock_hours_across_dst() -> None:
    # 2026-03-08: New York springs forward at 02:00; the window is still 08:00–22:00 local.
    opens, closes = HOURS.window_on(D(2026, 3, 8), NY)
    assert (opens.hour, closes.hour) == (8, 22)
    assert opens.utcoffset() == dt.timedelta(hours=-4)
    assert (closes - opens).in_hours() == 14
    assert HOURS.first_allowed(at("2026-03-08 01:30", NY), NY) == at("2026-03-08 08:00", NY)
    # 2026-11-01: New York falls back; 22:00 local is still the last instant of the day.
    assert HOURS.last_allowed(at("2026-11-02 00:00", NY), NY) == at("2026-11-01 22:00", NY)


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(min_value=0, max_value=366 * 24 * 60))
@example(minutes=437_581)  # 31 October 2026, 22:01: the night the clocks go back
def test_first_and_last_allowed_are_allowed_all_year_in_new_york(minutes: int) -> None:
    instant = pendulum.datetime(2026, 1, 1, tz=NY).add(minutes=minutes)
    first = HOURS.first_allowed(instant, NY)
    last = HOURS.last_allowed(instant, NY)
    assert last <= instant <= first
    for moment in (first, last):
        local = moment.in_timezone(NY)
        assert HOURS.allows(moment, NY)
        assert 8 * 60 <= local.hour * 60 + local.minute <= 22 * 60
    # Nothing allowed lies strictly between the last allowed time and the instant.
    if not HOURS.allows(instant, NY):
        # The quiet night is 22:00 to 08:00 on the wall clock: 10 hours, which is 11
        # elapsed hours on the night the clocks go back (1 November 2026) and 9 on the
        # night they go forward.
        wall = first.in_timezone(NY).naive() - last.in_timezone(NY).naive()
        assert wall.in_hours() <= 10


def test_counts_and_spans_past_the_supported_years_are_input_errors_not_endless() -> None:
    """A count or span of working days is bounded by the supported years (1900–2200):
    larger ones were loops of millions of days; a day past the year 9999 was an
    ``OverflowError``; an unknown zone a pendulum error."""
    cn = BusinessCalendar("CN")
    with pytest.raises(InputError, match="count: expected at most 110,166 working days"):
        cn.add_working_days(dt.date(2026, 1, 1), 10_000_000)
    with pytest.raises(InputError, match="end: expected a span of at most 110,166 days"):
        cn.working_days_between(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    assert cn.working_days_between(dt.date(1900, 1, 1), dt.date(2200, 12, 31)) > 70_000
    assert cn.add_working_days(dt.date(2026, 1, 1), 110_166).year < 2500
    last = BusinessCalendar("CN", extra_holidays=[dt.date(9999, 12, 31)])
    with pytest.raises(InputError, match="no working day after 9999-12-31 before the year 10000"):
        last.next_working_day(dt.date(9999, 12, 31))


def test_local_midnight_in_an_unknown_zone_is_an_input_error() -> None:
    from collectrules.model import local_midnight

    with pytest.raises(InputError, match="timezone: unknown IANA time zone 'Nope/Nope'"):
        local_midnight(dt.date(2026, 1, 1), "Nope/Nope")
