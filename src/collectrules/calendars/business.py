"""Business calendars and contact hours, both in the debtor's time zone.

A :class:`BusinessCalendar` says which days are working days. It reads the public
holidays of a country (and optionally a subdivision) from the ``holidays`` package,
which also knows China's adjusted working days (调休): a Saturday or Sunday that the
State Council makes a working day counts as one, and the weekday it replaces does not.
A policy can add its own holidays and working days on top.

Some jurisdictions fix their working days by decree, year by year: China's State
Council publishes each December which weekend days are worked in the next year. For
those, a calendar knows the years the package has the decree for
(:attr:`BusinessCalendar.known_years`); a later year is computed by rule (weekends and
fixed holidays, no adjusted working days) and noted, or refused, as
``beyond_known`` says. A lender can load the official schedule of later years from a
file: see :class:`CalendarSchedule` and ``docs/calendars.md``.

Holiday names come in English where the package has it, else in the country's own
language (or in the language given), never in the language of the process locale.

:class:`ContactHours` is the daily window in which a debtor may be contacted, such as
08:00–22:00 local time (CN-CONTACT-HOURS). It answers three questions for any instant:
is contact allowed now, what is the first allowed time at or after it, and what is the
last allowed time at or before it. The window is closed at both ends: with 08:00–22:00,
22:00 itself is the last allowed instant of the day.

Nothing here reads the clock. Every instant must be aware; local times are computed
with pendulum in the zone given, so a window keeps its wall-clock hours across
daylight-saving changes.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import re
import threading
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import holidays
import pendulum

from collectrules._arguments import (
    require_date,
    require_int,
    require_mapping,
    require_named_path,
    require_optional_text,
    require_text,
    require_texts,
    source_name,
    wrong_kind,
)
from collectrules._choice import Choice
from collectrules._files import UnreadableFile, read_small_file
from collectrules.errors import FieldProblem, InputError, did_you_mean, figure, quote
from collectrules.model.case import fixed_offset
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.model.time import local_midnight, require_zone
from collectrules.policy import Parameter

if TYPE_CHECKING:
    from collectrules.policy import Parameter

__all__ = [
    "DECREED_COUNTRIES",
    "DEFAULT_LANGUAGE",
    "MAX_SCHEDULE_BYTES",
    "BeyondKnown",
    "BusinessCalendar",
    "CalendarSchedule",
    "ContactHours",
    "ContactWindow",
    "local_midnight",
]

#: The countries whose working days are fixed by decree each year, not by a standing
#: rule. For them, the ``holidays`` package knows a year only once the decree is out;
#: the years it has are read from the package (its special holidays: for CN, holidays
#: 0.109 has 2001–2026).
DECREED_COUNTRIES = frozenset({"CN"})

#: The language of holiday names when the package has it for the country (otherwise
#: the country's own): never the process locale's, which the package would pick.
DEFAULT_LANGUAGE = "en_US"

#: The largest calendar schedule file read, in bytes.
MAX_SCHEDULE_BYTES = 1_000_000


class BeyondKnown(Choice):
    """What a calendar does for a year whose official working days it does not have.

    ``rule``: compute by the standing rule (weekends and the package's holidays) and
    say so in the timeline's warnings. ``error``: refuse, with an
    :class:`~collectrules.errors.InputError` naming the year.
    """

    RULE = "rule"
    ERROR = "error"


#: A loop guard: no calendar has a year without a working day.
_MAX_SCAN_DAYS = 400

#: The most days a count or a span of working days covers: the supported years'
#: (:data:`~collectrules.model.limits.MIN_YEAR` to ``MAX_YEAR``), which bounds the time.
_MAX_SPAN_DAYS = 366 * (MAX_YEAR - MIN_YEAR + 1)

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


#: What a date past Python's calendar is called in errors.
_OUTSIDE = "outside the calendar's years 1 to 9999"


def _local(at: dt.datetime, timezone: str) -> pendulum.DateTime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        raise wrong_kind("at", at, "an aware datetime")
    try:
        offset = at.utcoffset()
    except Exception:  # a caller's own tzinfo that fails, or gives no timedelta
        raise wrong_kind("at", at, "an aware datetime whose UTC offset can be read") from None
    if offset is None:
        raise wrong_kind("at", at, "an aware datetime")
    zone = require_zone(timezone)
    # The instant Python reads: where the wall clock falls in a gap of its zone (02:30
    # on the night New York's clocks go forward), pendulum.instance reads the other
    # side of the gap, an hour away.
    moment = fixed_offset(at)
    with contextlib.suppress(OverflowError, ValueError):
        return moment.in_timezone(zone)
    local = _local_at_the_ends(moment, zone)
    if local is None:
        # 9999-12-31T23:00Z is 10000-01-01 east of UTC; 0001-01-01T00:00Z the year 0
        # west of it.
        end = "after 9999-12-31" if at.year > 1 else "before 0001-01-01"
        msg = f"{at.isoformat()} falls {end} in {zone}, {_OUTSIDE}"
        raise InputError([FieldProblem("at", msg)])
    return local


def _local_at_the_ends(at: pendulum.DateTime, zone: str) -> pendulum.DateTime | None:
    """``at`` in ``zone`` when its UTC time is past the calendar but its wall clock in
    ``zone`` is not (9999-12-31T21:00-11:00, at Pago Pago), else ``None``.

    Converting goes through UTC, so the zone's offset is read two days nearer the
    calendar's middle, and kept only if it is the zone's offset at ``at`` too.
    """
    offset = at.utcoffset()
    assert offset is not None  # _local takes only aware datetimes
    naive = at.naive()
    # Plain datetimes: pendulum adds and subtracts through UTC.
    nearer = naive + dt.timedelta(days=-2 if at.year > 1 else 2)
    try:
        moment = pendulum.instance(nearer.replace(tzinfo=dt.timezone(offset)))
        near = moment.in_timezone(zone).utcoffset()
        assert near is not None  # a zone's offset
        wall = naive + (near - offset)
        local = pendulum.datetime(
            wall.year, wall.month, wall.day,
            wall.hour, wall.minute, wall.second, wall.microsecond, tz=zone,
        )  # fmt: skip
    except (OverflowError, ValueError):
        return None
    # The same instant: the same wall clock, at the offset read.
    return local if local.naive() == wall and local.utcoffset() == near else None


def _next_day(day: dt.date, path: str, what: str) -> dt.date:
    """The day after ``day``; past 9999-12-31, an InputError on ``path`` saying ``what``
    falls there."""
    if day == dt.date.max:
        raise InputError([FieldProblem(path, f"{what} falls after 9999-12-31, {_OUTSIDE}")])
    return day + dt.timedelta(days=1)


def _day(day: object, name: str = "day") -> dt.date:
    """``day`` as a date (a datetime gives its date); anything else is an InputError."""
    if type(day) is dt.date:
        return day
    return require_date(day, name)


def _dates(values: Iterable[Any]) -> frozenset[dt.date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise wrong_kind("calendar", values, "a collection of dates")
    out: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise InputError([FieldProblem("calendar", f"expected a date, got {quote(value)}")])
        out.add(value)
    return frozenset(out)


def _a_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_text(value, attribute.name)


def _a_text_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_optional_text(value, attribute.name)


def _an_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_int(value, attribute.name)


def _items(values: object, name: str) -> Iterable[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise wrong_kind(name, values, "a collection")
    return values


def _schedule_error(source: str | None, path: str, message: str) -> InputError:
    return InputError([FieldProblem(path, message, source=source)], subject="calendar schedule")


def _schedule_date(value: object, source: str | None, path: str) -> dt.date:
    if isinstance(value, str) and len(value) <= 32:
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _schedule_error(source, path, f"expected a date as YYYY-MM-DD, got {quote(value)}")
    return value


@attrs.frozen
class CalendarSchedule:
    """The official working days of whole years, as a lender loads them from a file.

    For each year in ``years`` the schedule is complete and wins over the ``holidays``
    package: a day is a working day when it is listed in ``working_days``, or when it is
    a Monday to Friday not listed in ``holidays``. ``names`` optionally names holidays.
    Build one with :meth:`load` (a TOML file, see ``docs/calendars.md``) or
    :meth:`from_dict`.
    """

    country: str
    years: frozenset[int]
    holidays: frozenset[dt.date]
    working_days: frozenset[dt.date]
    names: Mapping[dt.date, str] = attrs.field(factory=dict, hash=False)
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> CalendarSchedule:
        """A schedule from plain data: ``country``, ``years``, ``holidays``,
        ``working_days`` and optionally ``names``; every day must fall in ``years``."""
        source = require_optional_text(source, "source", "the name of the schedule's file")
        if not isinstance(data, Mapping):
            raise _schedule_error(source, "", "expected a table of keys")
        for key in data:
            if not isinstance(key, str):
                msg = f"expected a text key, got {type(key).__name__} {quote(key)}"
                raise _schedule_error(source, f"[{quote(key)}]", msg)
        unknown = sorted(set(data) - {"country", "years", "holidays", "working_days", "names"})
        if unknown:
            raise _schedule_error(source, str(unknown[0])[:64], "unknown key")
        country = data.get("country")
        if not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2,3}", country):
            raise _schedule_error(
                source, "country", f"expected a country code, got {quote(country)}"
            )
        raw_years = data.get("years")
        if (
            not isinstance(raw_years, list)
            or not raw_years
            or not all(
                isinstance(y, int) and not isinstance(y, bool) and 1900 <= y <= 2200
                for y in raw_years
            )
        ):
            msg = f"expected a list of the years covered, 1900 to 2200, got {quote(raw_years)}"
            raise _schedule_error(source, "years", msg)
        years = frozenset(raw_years)
        days: dict[str, frozenset[dt.date]] = {}
        for key in ("holidays", "working_days"):
            raw = data.get(key, [])
            if not isinstance(raw, list) or len(raw) > 366 * len(years):
                raise _schedule_error(source, key, "expected a list of dates, at most 366 a year")
            found = frozenset(_schedule_date(v, source, key) for v in raw)
            stray = sorted(d for d in found if d.year not in years)
            if stray:
                msg = f"{stray[0].isoformat()} is not in the years covered ({sorted(years)})"
                raise _schedule_error(source, key, msg)
            days[key] = found
        both = sorted(days["holidays"] & days["working_days"])
        if both:
            msg = f"{both[0].isoformat()} is listed both as a holiday and as a working day"
            raise _schedule_error(source, "working_days", msg)
        raw_names = data.get("names", {})
        if not isinstance(raw_names, Mapping):
            raise _schedule_error(source, "names", "expected a table of date = name")
        names: dict[dt.date, str] = {}
        for key, name in raw_names.items():
            day = _schedule_date(key, source, "names")
            if not isinstance(name, str) or len(name) > 200:
                raise _schedule_error(
                    source, f"names.{day}", "expected a name of at most 200 characters"
                )
            names[day] = name
        return cls(country, years, days["holidays"], days["working_days"], names, source)

    @classmethod
    def load(cls, path: str | Path) -> CalendarSchedule:
        """A schedule from a TOML file (see ``docs/calendars.md``): a regular file of at
        most :data:`MAX_SCHEDULE_BYTES` bytes, UTF-8."""
        file = require_named_path(path, "path")
        name = source_name(file)
        try:
            data = tomllib.loads(read_small_file(file, MAX_SCHEDULE_BYTES).decode("utf-8"))
        except UnreadableFile as exc:
            reason = exc.reason if exc.too_large else f"cannot read: {exc.reason}"
            raise _schedule_error(name, "", reason) from None
        except UnicodeDecodeError as exc:
            raise _schedule_error(name, "", f"not UTF-8 text (byte {exc.start})") from None
        except tomllib.TOMLDecodeError as exc:
            raise _schedule_error(name, "", f"TOML syntax error: {exc}") from None
        except RecursionError:  # arrays or inline tables nested thousands deep
            message = "TOML syntax error: arrays or tables nested too deeply to read"
            raise _schedule_error(name, "", message) from None
        except ValueError:  # tomllib's int() of an integer of over 4,300 digits
            message = "TOML syntax error: a number with more digits than can be read"
            raise _schedule_error(name, "", message) from None
        return cls.from_dict(data, source=name)

    def is_working_day(self, day: dt.date) -> bool | None:
        """Whether ``day`` is a working day, or ``None`` when its year is not covered."""
        if type(day) is not dt.date:  # the calendar asks with dates: one test first
            day = _day(day)
        if day.year not in self.years:
            return None
        if day in self.working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays


def _schedules(values: Iterable[CalendarSchedule]) -> tuple[CalendarSchedule, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise wrong_kind("schedules", values, "a collection of CalendarSchedule objects")
    out = tuple(values)
    for value in out:
        if not isinstance(value, CalendarSchedule):
            msg = f"expected a CalendarSchedule, got {type(value).__name__}"
            raise InputError([FieldProblem("schedules", msg)])
    return out


@attrs.frozen
class BusinessCalendar:
    """The working days of a country, from the ``holidays`` package, with adjustments.

    ``country`` is an ISO 3166 code such as ``"CN"``; ``subdivision`` an optional
    subdivision code of it (``"NY"`` for the United States). ``extra_holidays`` are
    days off that the package does not know; ``extra_working_days`` are days that work
    although the package, or the weekend, says otherwise. An extra working day wins
    over an extra holiday given for the same date.

    ``schedules`` are official schedules loaded from files (:class:`CalendarSchedule`):
    for the years they cover they are the calendar. ``beyond_known`` says what to do in
    a year of a decreed country (:data:`DECREED_COUNTRIES`) that neither the package nor
    a schedule covers. ``language`` is the language of holiday names (default:
    :data:`DEFAULT_LANGUAGE` where the package has it, else the country's own).

    >>> cal = BusinessCalendar("CN")
    >>> cal.is_working_day(dt.date(2026, 2, 14))  # a Saturday made a working day
    True
    >>> 2026 in cal.known_years, 2027 in cal.known_years
    (True, False)
    """

    country: str = attrs.field(validator=_a_text)
    subdivision: str | None = attrs.field(default=None, validator=_a_text_or_none)
    extra_holidays: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_dates)
    extra_working_days: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_dates)
    schedules: tuple[CalendarSchedule, ...] = attrs.field(default=(), converter=_schedules)
    beyond_known: BeyondKnown = attrs.field(default=BeyondKnown.RULE, converter=BeyondKnown)
    language: str | None = attrs.field(default=None, validator=_a_text_or_none)
    _source: holidays.HolidayBase = attrs.field(init=False, repr=False, eq=False, hash=False)
    _lock: threading.Lock = attrs.field(
        init=False, repr=False, eq=False, hash=False, factory=threading.Lock
    )
    _published: frozenset[int] | None = attrs.field(
        init=False, repr=False, eq=False, hash=False, default=None
    )
    _consulted: set[int] | None = attrs.field(
        init=False, repr=False, eq=False, hash=False, default=None
    )

    def __copy__(self) -> BusinessCalendar:
        """A shallow copy: the same holidays source, caches and lock."""
        clone = object.__new__(BusinessCalendar)
        for field in attrs.fields(BusinessCalendar):
            object.__setattr__(clone, field.name, getattr(self, field.name))
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the calendar as its arguments: the holidays source and the caches
        are built again on unpickling (a lock does not pickle). A copy shares them
        (:meth:`__copy__`)."""
        values = {f.alias: getattr(self, f.name) for f in attrs.fields(BusinessCalendar) if f.init}
        return (_calendar_from_fields, (values,))

    def __attrs_post_init__(self) -> None:
        try:
            source = holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            supported = holidays.list_supported_countries()
            if self.country not in supported:
                problem = FieldProblem(
                    "country",
                    f"the holidays package has no calendar for country {quote(self.country)}",
                    suggestion=did_you_mean(self.country, supported),
                )
            else:
                subdivisions = supported[self.country]
                known = ", ".join(subdivisions) if subdivisions else "none"
                problem = FieldProblem(
                    "subdivision",
                    f"country {quote(self.country)} has no subdivision {quote(self.subdivision)}; "
                    f"known: {known}",
                    suggestion=did_you_mean(str(self.subdivision), subdivisions),
                )
            raise InputError([problem], subject="calendar") from None
        # The package picks the process locale's language unless told: never let it.
        languages = tuple(getattr(source, "supported_languages", ()))
        language = self.language or (
            DEFAULT_LANGUAGE
            if DEFAULT_LANGUAGE in languages
            else getattr(source, "default_language", None)
        )
        if self.language is not None and self.language not in languages:
            msg = (
                f"the holidays of {self.name} have no language {quote(self.language)}; "
                f"known: {', '.join(languages) or 'none'}"
            )
            raise InputError([FieldProblem("language", msg)], subject="calendar")
        if language is not None:
            source = holidays.country_holidays(
                self.country, subdiv=self.subdivision, language=language
            )
        object.__setattr__(self, "_source", source)
        for schedule in self.schedules:
            if schedule.country != self.country:
                msg = f"a schedule for {schedule.country} cannot serve the calendar of {self.name}"
                raise InputError([FieldProblem("schedule", msg, source=schedule.source)])
        if self.country in DECREED_COUNTRIES:
            published = frozenset(getattr(source, "special_public_holidays", {}))
            if published:  # every year between the first and last decree the package has
                published = frozenset(range(min(published), max(published) + 1))
            object.__setattr__(self, "_published", published)

    @property
    def known_years(self) -> frozenset[int] | None:
        """The years whose official working days the calendar has, or ``None`` when its
        working days follow a standing rule (every year is known).

        For a decreed country: the years the ``holidays`` package has decrees for, and
        the years of the loaded schedules.
        """
        if self._published is None:
            return None
        covered = frozenset(y for s in self.schedules for y in s.years)
        return self._published | covered

    def is_known_year(self, year: int) -> bool:
        """Whether the official working days of ``year`` are known (see :attr:`known_years`)."""
        require_int(year, "year")
        known = self.known_years
        return known is None or year in known

    def recording(self) -> tuple[BusinessCalendar, set[int]]:
        """A copy of this calendar that notes each year it computes by rule, unpublished.

        Returns the copy and the set it adds those years to; the timeline builds each
        case with its own copy, so that it can warn about exactly the years it used.
        """
        clone = copy.copy(self)
        years: set[int] = set()
        object.__setattr__(clone, "_consulted", years)
        return clone, years

    def note_by_rule(self, years: Iterable[int]) -> None:
        """Note ``years`` as computed by rule, as if this calendar had computed them."""
        if self._consulted is not None:
            self._consulted.update(require_int(y, "years[]") for y in _items(years, "years"))

    def _by_rule(self, day: dt.date) -> None:
        """Note (or refuse) a day computed by rule in a year without official data."""
        if self.is_known_year(day.year):
            return
        if self.beyond_known is BeyondKnown.ERROR:
            msg = (
                f"calendar for {day.year} not published: {self.name} has official working "
                f"days for {_span(self.known_years)} only; load the official schedule "
                '(schedule = "…" in [timeline.calendar]) or set beyond_known = "rule"'
            )
            raise InputError([FieldProblem("timeline.calendar", msg)], subject="calendar")
        if self._consulted is not None:
            self._consulted.add(day.year)

    @property
    def name(self) -> str:
        """``CN`` or ``US-NY``: the country and subdivision."""
        return self.country if not self.subdivision else f"{self.country}-{self.subdivision}"

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day: not a weekend day or holiday, or made one."""
        if type(day) is not dt.date:  # the timeline asks for every day: one test first
            day = _day(day)
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        for schedule in self.schedules:
            official = schedule.is_working_day(day)
            if official is not None:
                return official
        self._by_rule(day)
        with self._lock:  # the package fills in each year lazily
            return bool(self._source.is_working_day(day))

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the holiday on ``day``, if it is one (not weekends)."""
        day = _day(day)
        if day in self.extra_working_days:
            return None
        if day in self.extra_holidays:
            return "holiday (policy)"
        for schedule in self.schedules:
            if day.year in schedule.years:
                if day in schedule.holidays:
                    return schedule.names.get(day, "holiday (schedule)")
                return None
        with self._lock:
            name = self._source.get(day)
        return None if name is None else str(name)

    def next_working_day(self, day: dt.date, *, strict: bool = False) -> dt.date:
        """The first working day on or after ``day`` (after it, when ``strict``)."""
        day = _day(day)
        try:
            current = day + dt.timedelta(days=1) if strict else day
            for _ in range(_MAX_SCAN_DAYS):
                if self.is_working_day(current):
                    return current
                current += dt.timedelta(days=1)
        except OverflowError:
            msg = f"calendar {self.name}: no working day after {day} before the year 10000"
            raise InputError([FieldProblem("calendar", msg)]) from None
        msg = f"calendar {self.name}: no working day within {_MAX_SCAN_DAYS} days of {day}"
        raise InputError([FieldProblem("calendar", msg)])

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day``, which is first rolled forward to one.

        ``add_working_days(d, 0)`` is the first working day on or after ``d``.
        """
        day = _day(day)
        require_int(count, "count")
        return self._count_on(day, count, None)

    def _count_on(self, day: dt.date, count: int, timezone: str | None) -> dt.date:
        """The ``count``-th working day after ``day`` (first rolled forward to one), each
        a day the clocks of ``timezone`` show (see :func:`_skipped`)."""
        if count < 0:
            raise InputError([FieldProblem("count", f"must not be negative, got {figure(count)}")])
        if count > _MAX_SPAN_DAYS:
            msg = f"expected at most {_MAX_SPAN_DAYS:,} working days, got {figure(count)}"
            raise InputError([FieldProblem("count", msg)])
        current = self._next_shown(day, timezone, strict=False)
        for _ in range(count):
            current = self._next_shown(current, timezone, strict=True)
        return current

    def _next_shown(self, day: dt.date, timezone: str | None, *, strict: bool) -> dt.date:
        """:meth:`next_working_day`, passing over the days ``timezone`` skipped."""
        found = self.next_working_day(day, strict=strict)
        while timezone is not None and _skipped(found, timezone):
            found = self.next_working_day(found, strict=True)
        return found

    def add_business_days(self, at: dt.datetime, count: int, timezone: str) -> pendulum.DateTime:
        """``count`` business days after the instant ``at``, in ``timezone``.

        When ``at`` falls on a working day, the result keeps its local time of day on
        the ``count``-th working day after it (from the day's first instant, the target
        day's first instant). When it does not, counting starts at 00:00 of the next
        working day. Either way the result falls on a working day: with the
        anchor at 00:00, the ``count`` whole working days from the anchor lie before it.
        A day the zone's clocks skipped whole (Apia's 30 December 2011, when Samoa moved
        from UTC−10 to UTC+14) holds no instant, so it is not a working day there. Where
        the time of day kept never comes on the target day (the clocks skip it), the
        result is moved on by the gap (02:30 becomes 03:30); where it comes twice, it
        is the later of the two.
        """
        require_int(count, "count")
        local = _local(at, timezone)
        day: dt.date = local.date()
        if not self.is_working_day(day):
            day = self._next_shown(day, timezone, strict=False)
            local = local_midnight(day, timezone)
        target = self._count_on(day, count, timezone)
        if local.timestamp() == local_midnight(day, timezone).timestamp():
            # From a day's first instant to the target day's: its first 00:00 where
            # 00:00 comes twice, and the instant the clocks jump to where it never comes.
            return local_midnight(target, timezone)
        return pendulum.datetime(
            target.year, target.month, target.day,
            local.hour, local.minute, local.second, local.microsecond, tz=timezone,
        )  # fmt: skip

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """The working days in ``[start, end)``, a span of at most
        :data:`_MAX_SPAN_DAYS` days."""
        start, end = _day(start, "start"), _day(end, "end")
        if (end - start).days > _MAX_SPAN_DAYS:
            msg = f"expected a span of at most {_MAX_SPAN_DAYS:,} days, got {start} to {end}"
            raise InputError([FieldProblem("end", msg)])
        count = 0
        current = start
        while current < end:
            count += self.is_working_day(current)
            current += dt.timedelta(days=1)
        return count


def _skipped(day: dt.date, timezone: str) -> bool:
    """Whether the clocks of ``timezone`` skipped ``day`` whole, so that no instant
    falls on it (Apia, 30 December 2011; Kwajalein, 21 August 1993): its first instant
    is then the next day's. (``local_midnight`` remembers its answers.)"""
    return local_midnight(day, timezone).date() != day


def _span(years: frozenset[int] | None) -> str:
    if not years:
        return "no year"
    ordered = sorted(years)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(map(str, ordered))


@attrs.frozen
class ContactWindow:
    """When a step may be carried out by contacting the debtor, in local time.

    ``first_at`` is the first allowed contact time at or after the step opens;
    ``last_at`` is the last allowed contact time at or before it is due (``None`` when
    the step has no due time). ``feasible`` is false when no allowed time lies between.
    """

    first_at: pendulum.DateTime
    last_at: pendulum.DateTime | None

    @property
    def feasible(self) -> bool:
        """Whether any allowed contact time lies between ``first_at`` and ``last_at``."""
        # As instants: both are in one zone object, which compares them by wall clock,
        # 01:40 the first time round the clocks go back as after 01:10 the second.
        return self.last_at is None or fixed_offset(self.first_at) <= self.last_at


def _minutes(text: object, what: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        msg = f"expected a local time as HH:MM (00:00 to 24:00), got {quote(text)}"
        raise InputError([FieldProblem(what, msg)])
    hours, minutes = int(text[:2]), int(text[3:])
    if hours == 24 and minutes:
        raise InputError([FieldProblem(what, f"{quote(text)} is past 24:00")])
    return hours * 60 + minutes


def _cites(values: object) -> tuple[str, ...]:
    return require_texts(values, "cites", "a list of citations")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


#: One microsecond, the finest step of a datetime.
_TICK = dt.timedelta(microseconds=1)

#: The span of elapsed time that the search for an allowed time looks through at a
#: time. tzdata's changes of UTC offset lie days apart (3.99 at the closest, Freetown
#: in 1939), so that such a span holds one at most.
_SCAN_SPAN = dt.timedelta(days=1)

#: The most spans searched: the next allowed time is at most about three days away
#: (a night outside the hours, and a day the zone skips).
_MAX_SCAN_SPANS = 8

#: The first and last instants a datetime holds, at any offset.
_FIRST = dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=23, minutes=59)))
_LAST = dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=23, minutes=59)))


def _plain(at: dt.datetime) -> dt.datetime:
    """The instant ``at`` (aware) as a standard datetime at its own UTC offset: added
    to and compared as an instant, whatever its zone and fold."""
    if type(at) is dt.datetime and type(at.tzinfo) is dt.timezone:
        return at
    offset = at.utcoffset()
    assert offset is not None  # only aware datetimes come here
    return dt.datetime(
        at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond,
        tzinfo=_fixed(offset),
    )  # fmt: skip


@functools.lru_cache(maxsize=256)
def _fixed(offset: dt.timedelta) -> dt.timezone:
    return dt.timezone(offset)


def _offset_in(at: dt.datetime, timezone: str) -> dt.timedelta | None:
    """The UTC offset of ``timezone`` at the instant ``at``; ``None`` outside the
    calendar."""
    try:
        return at.astimezone(pendulum.timezone(timezone)).utcoffset()
    except (OverflowError, ValueError):  # near the calendar's ends
        found = _in_zone(at, timezone)
        return None if found is None else found.utcoffset()


def _wall(at: dt.datetime) -> dt.datetime:
    """The wall-clock reading of ``at``, naive."""
    return dt.datetime(at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)


def _offset(at: dt.datetime) -> dt.timedelta:
    offset = at.utcoffset()
    assert offset is not None  # only aware datetimes come here
    return offset


def _later(at: dt.datetime) -> tuple[dt.datetime, bool]:
    """A span after ``at``, and whether it was cut at the last instant a datetime holds."""
    try:
        return at + _SCAN_SPAN, False
    except OverflowError:
        return _LAST, True


def _earlier(at: dt.datetime) -> tuple[dt.datetime, bool]:
    """A span before ``at``, and whether it was cut at the first instant a datetime holds."""
    try:
        return at - _SCAN_SPAN, False
    except OverflowError:
        return _FIRST, True


def _before(at: dt.datetime) -> dt.datetime:
    """The instant a microsecond before ``at`` (``at`` itself, the first one a datetime
    holds)."""
    try:
        return at - _TICK
    except OverflowError:
        return at


def _in_zone(at: dt.datetime, timezone: str) -> pendulum.DateTime | None:
    """The instant ``at`` on the wall clock of ``timezone``; ``None`` outside the calendar."""
    try:
        return _local(at, timezone)
    except InputError:
        return None


def _readings(day: dt.date, minutes: int, timezone: str) -> list[pendulum.DateTime]:
    """The instants the wall clock of ``timezone`` reads ``minutes`` (before 24:00) on
    ``day``, in time order: none where the clocks jump over it, two where they go back
    over it, and none past the calendar."""
    wall = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
    found: list[pendulum.DateTime] = []
    for fold in (0, 1):
        try:
            at = pendulum.datetime(
                day.year, day.month, day.day, minutes // 60, minutes % 60,
                tz=timezone, fold=fold,
            )  # fmt: skip
            _plain(at)  # its offset too: past the calendar it has none
        except (OverflowError, ValueError):
            continue
        if _wall(at) == wall and not any(_plain(f) == _plain(at) for f in found):
            found.append(at)
    return sorted(found, key=_plain)


def _jump(before: dt.datetime, after: dt.datetime, timezone: str) -> pendulum.DateTime | None:
    """The instant the UTC offset of ``timezone`` changes after the instant ``before``,
    at or before ``after`` (a span without two changes), or ``None`` when it does not
    change there."""
    first, last = _offset_in(before, timezone), _offset_in(after, timezone)
    if first is None or last is None or first == last:
        return None
    low, high = _plain(before), _plain(after)
    while high - low > _TICK:  # about 37 halvings a day
        middle = low + (high - low) // 2
        if _offset_in(middle, timezone) == first:
            low = middle
        else:
            high = middle
    return _in_zone(high, timezone)


def _reading_before(local: pendulum.DateTime, timezone: str) -> dt.datetime | None:
    """What the wall clock of ``timezone`` read just before the instant ``local``: its
    own reading, but where the clocks change at it; ``None`` past the calendar."""
    wall = _wall(local)
    if local.microsecond:  # tzdata changes offsets on whole seconds
        return wall
    try:
        earlier = _plain(local) - _TICK
    except OverflowError:
        return wall  # the first instant a datetime holds
    previous = _offset_in(earlier, timezone)
    if previous is None:
        return wall  # the calendar's first instant in the zone
    change = previous - _offset(local)
    try:
        return wall + change
    except OverflowError:  # pragma: no cover - a change at the calendar's ends
        return None


def _turns(
    low: dt.datetime, high: dt.datetime, minutes: int, timezone: str
) -> Iterator[pendulum.DateTime]:
    """The instants from ``low`` to ``high`` (a span of a day at most) where hours that
    open or close at ``minutes`` can open or close, but for a change of offset: where
    the wall clock reads it, and each local midnight (each time the clock reads 00:00).
    Some lie outside the span."""
    first, last = _in_zone(low, timezone), _in_zone(high, timezone)
    if first is None and last is None:
        return
    # The local days the span touches, and the one before and the one after: a wall
    # clock can go back across midnight, so that it reads a later day inside the span
    # than at its end (St John's, 29 October 2000: 00:00 to 00:01, then 23:01 again),
    # and an earlier one than at its start.
    end = last.date() if last is not None else dt.date.max
    begin = first.date() if first is not None else end
    if end < dt.date.max:
        end += dt.timedelta(days=1)
    day = begin if begin == dt.date.min else begin - dt.timedelta(days=1)
    if (end - day).days > 4:  # past the calendar at one end
        end = day + dt.timedelta(days=4)
    while True:
        if minutes < 24 * 60:
            yield from _readings(day, minutes, timezone)
        # Each time the clock reads 00:00: twice where the clocks go back across
        # midnight (Goose Bay, 25 October 1987: 00:01 ADT back to 23:01 AST), so that
        # hours to 24:00 close again at the second; where they jump over it, the day
        # begins at the jump.
        midnights = _readings(day, 0, timezone)
        if midnights:
            yield from midnights
        else:
            with contextlib.suppress(InputError, OverflowError, ValueError):
                yield local_midnight(day, timezone)
        if day >= end:
            break
        day += dt.timedelta(days=1)


@attrs.frozen
class ContactHours:
    """The daily hours in which the debtor may be contacted, in the debtor's local time.

    ``start`` and ``end`` are minutes after local midnight, ``0 <= start < end <=
    1440``; build one from text with :meth:`parse` (``"08:00"``, ``"22:00"``) or from a
    policy's ``contact_hours_start`` / ``contact_hours_end`` parameters with
    :meth:`from_parameters`. The window is closed: ``end`` is the last allowed instant
    of each day. Windows that cross midnight are not supported.

    An instant is allowed when the local wall clock reads from ``start`` to ``end``,
    and at the instant the clocks change (or a day begins) when the times they read
    just before it are allowed. So where the clocks go back, hours that open in the
    repeated span open at its first pass (and the times it repeats are allowed or not
    by what the clock reads); a time the clocks jump over opens or closes the hours
    at the jump; 24:00 is the next day's first instant. Each answer is an instant on
    the zone's clock, found by looking only at the times the hours can begin or end,
    so in bounded time.

    >>> hours = ContactHours.parse("08:00", "22:00")
    >>> at = pendulum.datetime(2026, 4, 2, 0, 0, tz="Asia/Shanghai")
    >>> hours.last_allowed(at, "Asia/Shanghai").isoformat()
    '2026-04-01T22:00:00+08:00'
    """

    start: int = attrs.field(validator=_an_int)
    end: int = attrs.field(validator=_an_int)
    cites: tuple[str, ...] = attrs.field(default=(), converter=_cites)

    def __attrs_post_init__(self) -> None:
        if not (0 <= self.start < self.end <= 24 * 60):
            msg = (
                f"contact hours {_hhmm(self.start)}–{_hhmm(self.end)} must start before they "
                "end, within one day"
            )
            raise InputError([FieldProblem("contact_hours", msg)])

    @classmethod
    def parse(cls, start: str, end: str, *, cites: Iterable[str] = ()) -> ContactHours:
        """Contact hours from two ``HH:MM`` texts, such as ``"08:00"`` and ``"22:00"``."""
        return cls(
            _minutes(start, "contact_hours_start"), _minutes(end, "contact_hours_end"), cites
        )

    @classmethod
    def from_parameters(
        cls,
        parameters: Mapping[str, Parameter],
        *,
        start: str = "contact_hours_start",
        end: str = "contact_hours_end",
    ) -> ContactHours | None:
        """Contact hours from a policy's parameters, or ``None`` when it sets none.

        ``parameters`` is a policy's :attr:`~collectrules.policy.Policy.parameters`
        mapping (name to :class:`~collectrules.policy.Parameter`); the hours cite what
        the two parameters cite. ``start`` and ``end`` name other parameters, for a pack
        that keeps different hours (``"regf_hours_start"``…).
        """
        require_mapping(parameters, "parameters", "a policy's parameters")
        require_text(start, "start", "a parameter's name")
        require_text(end, "end", "a parameter's name")
        first, last = parameters.get(start), parameters.get(end)
        if first is None or last is None:
            return None
        for name, parameter in ((start, first), (end, last)):
            if not isinstance(parameter, Parameter):
                raise wrong_kind(f"parameters[{quote(name)}]", parameter, "a Parameter")
        cited = (_cites(p.cites) for p in (first, last))
        cites = tuple(dict.fromkeys(c for each in cited for c in each))
        return cls(_minutes(first.value, start), _minutes(last.value, end), cites)

    @property
    def text(self) -> str:
        """``08:00–22:00``."""
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"

    def window_on(self, day: dt.date, timezone: str) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        """The first and last allowed instants of the local day ``day``.

        The first is when the wall clock first reads ``start`` that day, the last when
        it last reads ``end`` (where the clocks go back, a time can come twice). A time
        the clocks jump over is the instant they jump. Hours that end at 24:00 close at
        the next day's first instant: on 9999-12-31, past the calendar, an
        :class:`~collectrules.errors.InputError`. On a day with no allowed time (one the
        zone skipped, such as Apia's 30 December 2011, or hours the clocks jump right
        over) both are the instant the clocks jump, which is not allowed.
        """
        day = _day(day)
        require_zone(timezone)
        return (
            self._reading(day, self.start, timezone, last=False),
            self._reading(day, self.end, timezone, last=True),
        )

    def _reading(
        self, day: dt.date, minutes: int, timezone: str, *, last: bool
    ) -> pendulum.DateTime:
        """The instant the wall clock reads ``minutes`` on ``day``: the first or the
        ``last`` time where it reads it twice, the instant the clocks jump where it
        never does; 24:00 is the next day's first instant."""
        if minutes == 24 * 60:
            what = "the end of the hours (24:00, the first instant of the next day)"
            return local_midnight(_next_day(day, "day", what), timezone)
        if minutes == 0:
            return local_midnight(day, timezone)
        found = _readings(day, minutes, timezone)
        if found:
            return found[-1] if last else found[0]
        # Skipped: pendulum puts the time at the offset after the change (before the
        # jump) with fold=0, at the offset before it (after the jump) with fold=1.
        wall = _hhmm(minutes)
        early: pendulum.DateTime | None
        late: pendulum.DateTime | None
        try:
            early = pendulum.datetime(
                day.year, day.month, day.day, minutes // 60, minutes % 60, tz=timezone, fold=0
            )
            late = pendulum.datetime(
                day.year, day.month, day.day, minutes // 60, minutes % 60, tz=timezone, fold=1
            )
        except (OverflowError, ValueError):
            early = late = None
        jump = None if early is None or late is None else _jump(early, late, timezone)
        if jump is None:
            msg = f"{day} {wall} falls outside the calendar's years 1 to 9999 in {timezone}"
            raise InputError([FieldProblem("day", msg)])
        return jump

    def allows(self, at: dt.datetime, timezone: str) -> bool:
        """Whether contact at the instant ``at`` is within the hours, in ``timezone``.

        It is when the wall clock then reads from ``start`` to ``end``; and at the
        instant the clocks change (or a day begins), when the times they read just
        before it are allowed: hours whose ``end`` the clocks jump over close at the
        jump, and 24:00 is the next day's first instant.
        """
        return self._allows(_local(at, timezone), timezone)

    def _allows(self, local: pendulum.DateTime, timezone: str) -> bool:
        if self._reads_within(_wall(local)):
            return True
        before = _reading_before(local, timezone)
        return before is not None and self._reads_within(before, limit=True)

    def _reads_within(self, wall: dt.datetime, *, limit: bool = False) -> bool:
        """Whether the wall-clock reading ``wall`` is within the hours; or, as a
        ``limit`` the clock approaches from before, whether the readings just before it
        are (00:00 is then the previous day's 24:00)."""
        since = wall - wall.replace(hour=0, minute=0, second=0, microsecond=0)
        if limit and not since:
            return self.end == 24 * 60
        opens, closes = dt.timedelta(minutes=self.start), dt.timedelta(minutes=self.end)
        return (opens < since if limit else opens <= since) and since <= closes

    def first_allowed(self, at: dt.datetime, timezone: str) -> pendulum.DateTime:
        """The first allowed contact instant at or after ``at`` (local time of ``timezone``)."""
        return self._nearest_allowed(at, timezone, forward=True)

    def last_allowed(self, at: dt.datetime, timezone: str) -> pendulum.DateTime:
        """The last allowed contact instant at or before ``at`` (local time of ``timezone``)."""
        return self._nearest_allowed(at, timezone, forward=False)

    def _nearest_allowed(
        self, at: dt.datetime, timezone: str, *, forward: bool
    ) -> pendulum.DateTime:
        """``at`` when allowed, else the allowed instant nearest it on one side: after it
        when ``forward``, else before it. Scanned a span at a time (a day, or up to a
        clock change), never past the instants Python's datetime holds."""
        local = _local(at, timezone)
        if self._allows(local, timezone):
            return local
        near = _plain(local)
        for _ in range(_MAX_SCAN_SPANS):
            if forward:
                far, capped = _later(near)
                found = self._first_between(near, far, timezone)
            else:
                far, capped = _earlier(near)
                found = self._last_between(far, near, timezone)
            if found is not None:
                return found
            if capped or _in_zone(far, timezone) is None:
                break
            near = far
        else:  # pragma: no cover - every day has its hours, the zone skips one at most
            side = "after" if forward else "before"
            msg = f"no allowed time within {_MAX_SCAN_SPANS} days {side} {local.isoformat()}"
            raise InputError([FieldProblem("at", msg)])
        if forward:
            what = f"the first allowed time after {local.isoformat()} falls after 9999-12-31"
        else:
            what = f"the last allowed time before {local.isoformat()} falls before 0001-01-01"
        raise InputError([FieldProblem("at", f"{what}, {_OUTSIDE}")])

    def _first_between(
        self, low: dt.datetime, high: dt.datetime, timezone: str
    ) -> pendulum.DateTime | None:
        """The first allowed instant after ``low``, at or before ``high``, if any."""
        steady = self._steady(low, high, timezone, first=True)
        if steady is not None:
            return steady
        turns = sorted(
            (c for c in _turns(low, high, self.start, timezone) if low < _plain(c) <= high),
            key=_plain,
        )
        found = next((c for c in turns if self._allows(c, timezone)), None)
        # A change of offset before it can make the hours open (the clocks going back
        # into them, or jumping over ``start``).
        jump = _jump(low, high if found is None else _plain(found), timezone)
        if jump is not None and self._allows(jump, timezone):
            return jump
        return found

    def _last_between(
        self, low: dt.datetime, high: dt.datetime, timezone: str
    ) -> pendulum.DateTime | None:
        """The last allowed instant at or after ``low``, before ``high``, if any."""
        steady = self._steady(low, high, timezone, first=False)
        if steady is not None:
            return steady
        turns = sorted(
            (c for c in _turns(low, high, self.end, timezone) if low <= _plain(c) < high),
            key=_plain,
            reverse=True,
        )
        found = next((c for c in turns if self._allows(c, timezone)), None)
        # A change of offset after it can close the hours (the clocks going back out of
        # them, or jumping over ``end``); one at ``low`` itself is in the span.
        since = _before(low) if found is None else _plain(found)
        jump = _jump(since, high, timezone)
        if jump is not None and _plain(jump) < high and self._allows(jump, timezone):
            return jump
        return found

    def _steady(
        self, low: dt.datetime, high: dt.datetime, timezone: str, *, first: bool
    ) -> pendulum.DateTime | None:
        """Where the offset is the same at both ends of the span (so the same all
        through it) and its ``first`` or last end is not allowed: the first allowed
        instant after ``low`` or the last before ``high``, found on the wall clock;
        ``None`` when this does not apply."""
        offset = _offset_in(low, timezone)
        if offset is None or _offset_in(high, timezone) != offset:
            return None
        start, end = dt.timedelta(minutes=self.start), dt.timedelta(minutes=self.end)
        edge = low if first else high
        try:
            wall = edge.replace(tzinfo=None) - _offset(edge) + offset
            midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
            since = wall - midnight
            if first and since < start:
                target = midnight + start
            elif first and since > end:
                target = midnight + dt.timedelta(days=1) + start
            elif not first and since > end:
                target = midnight + end
            elif not first and since < start:
                # The previous day's 24:00 is this day's first instant.
                target = midnight if self.end == 24 * 60 else midnight - dt.timedelta(days=1) + end
            else:
                return None
            found = _in_zone(edge + (target - wall), timezone)
        except OverflowError:  # near the calendar's ends
            return None
        if found is None or _wall(found) != target:
            return None
        inside = low < _plain(found) <= high if first else low <= _plain(found) < high
        return found if inside else None

    def next_allowed(self, at: dt.datetime, timezone: str) -> pendulum.DateTime:
        """Alias of :meth:`first_allowed`: when contact may next happen."""
        return self.first_allowed(at, timezone)

    def window(
        self, opens_at: dt.datetime, due_at: dt.datetime | None, timezone: str
    ) -> ContactWindow:
        """The contact window of a step that opens at ``opens_at`` and is due at ``due_at``."""
        first = self.first_allowed(opens_at, timezone)
        last = None if due_at is None else self.last_allowed(due_at, timezone)
        return ContactWindow(first, last)


def _calendar_from_fields(values: dict[str, Any]) -> BusinessCalendar:
    """The calendar of :meth:`BusinessCalendar.__reduce__`."""
    return BusinessCalendar(**values)
