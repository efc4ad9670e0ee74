"""Calendars and contact rules at their edges: the calendar's first and last years, and
the local days whose midnight comes twice.

Python's dates run from 0001-01-01 to 9999-12-31. An instant near either end can fall
outside them on a zone's wall clock (9999-12-31T23:00Z is 10000-01-01 at Kiritimati,
UTC+14; 0001-01-01T00:00Z is the year 0 there, where the zone's oldest offset is
−10:29:20), and a day's neighbour past either end does not exist. Contact hours and
business days raised Python's ``OverflowError`` there; each now gives the answer where
one exists, and otherwise an ``InputError`` saying the date is outside the calendar's
years 1 to 9999.

Where the clocks go back at midnight (Havana on 1 November 2026: 01:00 CDT to 00:00
CST), 00:00 comes twice. The contact rules started such a day at the second 00:00, an
hour late, and ``Guardrails.next_allowed`` took the latest of the rules' lift times by
wall clock, so that a time in the first pass of the repeated hour read as after one in
the second.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from collectrules import (
    BusinessCalendar,
    Case,
    Contact,
    ContactHours,
    Event,
    Guardrails,
    InputError,
)
from collectrules.compliance._packs import start_of_local_day
from collectrules.errors import CollectRulesError
from collectrules.policy import policy_from_dict

OUT_OF_RANGE = "outside the calendar's years 1 to 9999"
HAVANA = "America/Havana"
#: Local days whose 00:00 comes twice, as zoneinfo has them.
REPEATED_MIDNIGHTS = [
    (HAVANA, dt.date(2026, 11, 1)),  # 01:00 CDT -> 00:00 CST
    ("Atlantic/Azores", dt.date(2026, 10, 25)),  # 01:00 -00 -> 00:00 -01
]

ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", HAVANA, "Asia/Tehran"]
UTC = dt.UTC
EAST = dt.timezone(dt.timedelta(hours=14))
WEST = dt.timezone(dt.timedelta(hours=-12))
#: Instants at both ends of the calendar, given at UTC and at the extreme offsets.
EDGES = [
    dt.datetime(1, 1, 1, tzinfo=UTC),
    dt.datetime(1, 1, 1, 12, tzinfo=UTC),
    dt.datetime(1, 1, 2, tzinfo=UTC),
    dt.datetime(1, 1, 1, tzinfo=EAST),
    dt.datetime(1, 1, 1, 23, tzinfo=EAST),
    dt.datetime(9999, 12, 30, 23, tzinfo=UTC),
    dt.datetime(9999, 12, 31, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 12, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 1, tzinfo=WEST),
    dt.datetime(9999, 12, 31, 23, tzinfo=WEST),
]
HOURS = [
    ContactHours.parse("08:00", "22:00"),
    ContactHours.parse("00:00", "24:00"),
    ContactHours.parse("08:00", "24:00"),
    ContactHours.parse("00:00", "00:01"),
    ContactHours.parse("23:59", "24:00"),
]
US = BusinessCalendar("US")


def _instant(value: dt.datetime) -> float:
    return value.timestamp()


def _local(at: dt.datetime, zone: str) -> dt.datetime:
    """``at`` on the wall clock of ``zone``, read with zoneinfo rather than pendulum."""
    return at.astimezone(zoneinfo.ZoneInfo(zone))


def _answer_or_out_of_range(call: Callable[..., Any], *args: object) -> Any:
    """``call(*args)``, or ``None`` when it says the date is out of range; any other
    error fails the test."""
    try:
        return call(*args)
    except InputError as exc:
        message = str(exc)
    assert OUT_OF_RANGE in message or "before the year 10000" in message, message
    return None


# --------------------------------------------------------------------------- calendar ends


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("at", EDGES, ids=lambda at: at.isoformat())
def test_contact_hours_at_the_ends_of_the_calendar(at: dt.datetime, zone: str) -> None:
    for hours in HOURS:
        allowed = _answer_or_out_of_range(hours.allows, at, zone)
        first = _answer_or_out_of_range(hours.first_allowed, at, zone)
        last = _answer_or_out_of_range(hours.last_allowed, at, zone)
        assert _answer_or_out_of_range(hours.next_allowed, at, zone) == first
        _answer_or_out_of_range(hours.window, at, at, zone)
        if allowed is None:
            # The instant itself has no date on the zone's wall clock.
            assert first is None
            assert last is None
            continue
        for found in (first, last):
            if found is not None:
                assert found.tzinfo is not None
                assert hours.allows(found, zone)
        if first is not None:
            assert _instant(first) >= _instant(at)
        if last is not None:
            assert _instant(last) <= _instant(at)
        if allowed:
            assert _instant(first) == _instant(at) == _instant(last)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("at", EDGES, ids=lambda at: at.isoformat())
def test_business_days_at_the_ends_of_the_calendar(at: dt.datetime, zone: str) -> None:
    for count in (0, 1, 5, 400):
        landed = _answer_or_out_of_range(US.add_business_days, at, count, zone)
        if landed is not None:
            assert _instant(landed) >= _instant(at)
            assert US.is_working_day(landed.date())


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "day", [dt.date(1, 1, 1), dt.date(1, 1, 2), dt.date(9999, 12, 30), dt.date(9999, 12, 31)]
)
def test_windows_and_working_days_at_the_ends_of_the_calendar(day: dt.date, zone: str) -> None:
    for hours in HOURS:
        window = _answer_or_out_of_range(hours.window_on, day, zone)
        if window is not None:
            opens, closes = window
            assert _instant(opens) < _instant(closes)
    for count in (0, 1, 5):
        landed = _answer_or_out_of_range(US.add_working_days, day, count)
        if landed is not None:
            assert landed >= day


def test_an_instant_past_the_calendar_on_the_zones_clock_is_an_input_error() -> None:
    hours = ContactHours.parse("08:00", "22:00")
    late = dt.datetime(9999, 12, 31, 23, tzinfo=UTC)  # 10000-01-01T13:00+14:00
    early = dt.datetime(1, 1, 1, tzinfo=UTC)  # 0000-12-31T13:30:40-10:29:20
    kiritimati = "Pacific/Kiritimati"
    for at in (late, early):
        calls: list[tuple[Callable[..., object], tuple[object, ...]]] = [
            (hours.allows, (at, kiritimati)),
            (hours.first_allowed, (at, kiritimati)),
            (hours.last_allowed, (at, kiritimati)),
            (hours.next_allowed, (at, kiritimati)),
            (hours.window, (at, at, kiritimati)),
            (US.add_business_days, (at, 1, kiritimati)),
        ]
        for call, args in calls:
            with pytest.raises(InputError, match=OUT_OF_RANGE) as raised:
                call(*args)
            assert raised.value.paths == ("at",)
    # Pago Pago's clock is west of Kiritimati's at the end, east of it at the start
    # (its oldest offset is +12:37:12): both instants have a date there.
    assert hours.allows(late, "Pacific/Pago_Pago")  # 12:00-11:00
    assert hours.allows(early, "Pacific/Pago_Pago")  # 12:37:12+12:37:12


def test_an_instant_past_the_calendar_at_utc_but_not_in_the_zone_has_an_answer() -> None:
    # 9999-12-31T21:00-11:00 is 10000-01-01 at UTC, which converting goes through, but
    # 21:00 of the last day at Pago Pago.
    hours = ContactHours.parse("08:00", "22:00")
    evening = pendulum.parse("9999-12-31T21:00:00-11:00")
    assert hours.allows(evening, "Pacific/Pago_Pago")
    for found in (
        hours.first_allowed(evening, "Pacific/Pago_Pago"),
        hours.last_allowed(evening, "Pacific/Pago_Pago"),
    ):
        assert found.isoformat() == "9999-12-31T21:00:00-11:00"
        assert found.timezone_name == "Pacific/Pago_Pago"
    night = dt.datetime(9999, 12, 31, 22, 30, tzinfo=dt.timezone(dt.timedelta(hours=-11)))
    assert not hours.allows(night, "Pacific/Pago_Pago")
    assert hours.last_allowed(night, "Pacific/Pago_Pago").isoformat() == (
        "9999-12-31T22:00:00-11:00"
    )
    # An hour further west, it is 10000-01-01 at Pago Pago too.
    with pytest.raises(InputError, match=OUT_OF_RANGE):
        hours.allows(pendulum.parse("9999-12-31T23:00:00-12:00"), "Pacific/Pago_Pago")


def test_hours_past_the_last_day_are_an_input_error() -> None:
    hours = ContactHours.parse("08:00", "22:00")
    night = pendulum.datetime(9999, 12, 31, 23, tz="Pacific/Pago_Pago")
    with pytest.raises(InputError, match=OUT_OF_RANGE) as raised:
        hours.first_allowed(night, "Pacific/Pago_Pago")
    assert raised.value.paths == ("at",)
    assert hours.last_allowed(night, "Pacific/Pago_Pago").isoformat() == (
        "9999-12-31T22:00:00-11:00"
    )
    dawn = pendulum.datetime(1, 1, 1, 5, tz="UTC")
    with pytest.raises(InputError, match=OUT_OF_RANGE) as raised:
        hours.last_allowed(dawn, "UTC")
    assert raised.value.paths == ("at",)
    assert hours.first_allowed(dawn, "UTC").isoformat() == "0001-01-01T08:00:00+00:00"


def test_hours_ending_at_24_00_answer_on_the_last_and_first_days() -> None:
    # 24:00 of 9999-12-31 is past the calendar, but every time of that day is before it.
    hours = ContactHours.parse("08:00", "24:00")
    evening = pendulum.datetime(9999, 12, 31, 23, 30, tz="UTC")
    assert hours.allows(evening, "UTC")
    assert hours.first_allowed(evening, "UTC") == evening
    assert hours.last_allowed(evening, "UTC") == evening
    dawn = pendulum.datetime(9999, 12, 31, 5, tz="UTC")
    assert hours.first_allowed(dawn, "UTC").isoformat() == "9999-12-31T08:00:00+00:00"
    assert hours.last_allowed(dawn, "UTC").isoformat() == "9999-12-31T00:00:00+00:00"
    # The previous day's 24:00 is the first day's first instant.
    first_dawn = pendulum.datetime(1, 1, 1, 5, tz="UTC")
    assert hours.last_allowed(first_dawn, "UTC").isoformat() == "0001-01-01T00:00:00+00:00"
    with pytest.raises(InputError, match=OUT_OF_RANGE) as raised:
        hours.window_on(dt.date(9999, 12, 31), "UTC")
    assert raised.value.paths == ("day",)
    assert hours.window_on(dt.date(9999, 12, 30), "UTC")[1].isoformat() == (
        "9999-12-31T00:00:00+00:00"
    )


def test_business_days_past_the_last_day_are_an_input_error() -> None:
    friday = pendulum.datetime(9999, 12, 31, 12, tz="UTC")
    assert US.add_business_days(friday, 0, "UTC") == friday
    with pytest.raises(InputError, match="before the year 10000"):
        US.add_business_days(friday, 1, "UTC")
    with pytest.raises(InputError, match="before the year 10000"):
        US.add_working_days(dt.date(9999, 12, 27), 5)
    # 23:00 at UTC-12 on the last day is 10000-01-01 at UTC; it is a time of that day.
    late = dt.datetime(9999, 12, 31, 23, tzinfo=WEST)
    landed = US.add_business_days(late, 0, "Etc/GMT+12")
    assert landed.isoformat() == "9999-12-31T23:00:00-12:00"


def test_the_last_allowed_time_before_a_day_the_zone_skipped_is_the_day_before() -> None:
    # Apia went from 2011-12-29T24:00-10:00 to 2011-12-31T00:00+14:00: the 30th never
    # came. Before 08:00 on the 31st, the last allowed time is 22:00 on the 29th.
    hours = ContactHours.parse("08:00", "22:00")
    early = pendulum.datetime(2011, 12, 31, 2, tz="Pacific/Apia")
    last = hours.last_allowed(early, "Pacific/Apia")
    assert last.isoformat() == "2011-12-29T22:00:00-10:00"
    late_hours = ContactHours.parse("08:00", "24:00")
    assert late_hours.last_allowed(early, "Pacific/Apia").isoformat() == (
        "2011-12-31T00:00:00+14:00"
    )


def test_every_error_at_the_edges_is_the_librarys() -> None:
    # The loop the tests above make, as one sweep: nothing escapes as another error.
    escaped = []
    for zone in ZONES:
        for at in EDGES:
            for hours in HOURS:
                for name in ("allows", "first_allowed", "last_allowed", "next_allowed"):
                    try:
                        getattr(hours, name)(at, zone)
                    except CollectRulesError:
                        pass
                    except Exception as exc:
                        escaped.append((name, zone, at.isoformat(), type(exc).__name__))
            try:
                US.add_business_days(at, 1, zone)
            except CollectRulesError:
                pass
            except Exception as exc:
                escaped.append(("add_business_days", zone, at.isoformat(), type(exc).__name__))
    assert escaped == []


# --------------------------------------------------------------------------- repeated midnights


@pytest.mark.parametrize(("zone", "day"), REPEATED_MIDNIGHTS)
def test_a_contact_rules_day_starts_at_its_first_midnight(zone: str, day: dt.date) -> None:
    start = start_of_local_day(day, zone)
    before = dt.datetime.fromtimestamp(start.timestamp() - 1, zoneinfo.ZoneInfo(zone))
    assert _local(start, zone).date() == day
    assert before.date() < day


def test_the_day_after_a_blocked_day_opens_at_its_first_midnight() -> None:
    # Six unanswered calls on 31 October: CN-ATTEMPTS lifts at the start of 1 November,
    # Havana's first 00:00 (CDT), not its second (CST), an hour later.
    case = _havana_case()
    calls = [_missed(f"2026-10-31T{h:02d}:00:00-04:00") for h in range(8, 14)]
    contact = Contact("phone", "debtor", pendulum.parse("2026-10-31T15:00:00-04:00"))
    verdict = Guardrails("cn_bank_loan").check(case, contact, history=calls)
    (block,) = [r for r in verdict.blocks if r.rule_id == "CN-ATTEMPTS"]
    assert block.until is not None
    assert block.until.isoformat() == "2026-11-01T00:00:00-04:00"


def _havana_case() -> Case:
    return Case.from_dict(
        {
            "case_id": "HAV-1",
            "product": "loan",
            "currency": "USD",
            "principal": "1000",
            "overdue_amount": "100",
            "due_date": "2026-10-01",
            "timezone": HAVANA,
        }
    )


def _missed(at: str) -> Event:
    return Event(
        kind="contact_attempt",
        at=pendulum.parse(at),
        outcome="no_answer",
        party="debtor",
        channel="phone",
    )


def test_next_allowed_takes_the_latest_lift_as_an_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two packs, each with its third-party rule: the first opens once the debtor has
    # missed 3 calls in a row, the lender's own once they have missed 4. The third miss
    # is at 00:39:59 the first time round Havana's 00:00-01:00 (CDT), the fourth at
    # 00:09:59 the second time round (CST), half an hour later. By wall clock 00:40
    # came after 00:10: the search went from 00:40 CDT a second at a time.
    policy = policy_from_dict(
        {
            "extends": "cn_bank_loan",
            "id": "two_third_party_rules",
            "parameters": {
                "contact_hours_start": {"value": "00:00"},
                "contact_hours_end": {"value": "24:00"},
            },
            "guardrails": {
                "LENDER": {
                    "title": "A lender's own rule",
                    "rules": [
                        {
                            "id": "L-THIRD-PARTY",
                            "kind": "third_party",
                            "requires_unreachable": True,
                            "failed_attempts": 4,
                            "purposes": ["locate"],
                            "cites": ["CN-THIRD-PARTY"],
                        }
                    ],
                }
            },
        }
    )
    guard = Guardrails(policy)
    history = [
        _missed("2026-10-31T10:00:00-04:00"),
        _missed("2026-10-31T11:00:00-04:00"),
        _missed("2026-11-01T00:39:59-04:00"),
        _missed("2026-11-01T00:09:59-05:00"),
    ]
    verdicts = 0
    verdict = Guardrails._verdict

    def counted(self: Guardrails, ctx: Any) -> Any:
        nonlocal verdicts
        verdicts += 1
        return verdict(self, ctx)

    monkeypatch.setattr(Guardrails, "_verdict", counted)
    after = pendulum.parse("2026-10-31T12:00:00-04:00")
    found = guard.next_allowed(
        _havana_case(), "phone", "family", after=after, history=history, purpose="locate"
    )
    assert found is not None
    assert found.isoformat() == "2026-11-01T00:10:00-05:00"
    assert found.timezone_name == HAVANA
    assert verdicts == 2  # blocked by both rules, then allowed
    monkeypatch.undo()
    contact = Contact("phone", "family", found, purpose="locate")
    assert guard.check(_havana_case(), contact, history=history).allowed
    just_before = Contact("phone", "family", found.subtract(seconds=1), purpose="locate")
    assert not guard.check(_havana_case(), just_before, history=history).allowed
