"""Business calendars and contact hours, both in the debtor's time zone.

A :class:`BusinessCalendar` says which days are working days. It reads the public
holidays of a country (and optionally a subdivision) from the ``holidays`` package,
which also knows China's adjusted working days (调休): a Saturday or Sunday that the
State Council makes a working day counts as one, and the weekday it replaces does not.
A policy can add its own holidays and working days on top.

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

import datetime as dt
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import holidays
import pendulum

from collectrules.errors import FieldProblem, InputError, did_you_mean
from collectrules.model.time import local_midnight

if TYPE_CHECKING:
    from collectrules.policy import Parameter

__all__ = [
    "BusinessCalendar",
    "ContactHours",
    "ContactWindow",
    "local_midnight",
]

#: A loop guard: no calendar has a year without a working day.
_MAX_SCAN_DAYS = 400

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _local(at: dt.datetime, timezone: str) -> pendulum.DateTime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InputError([FieldProblem("at", "expected an aware datetime")])
    return pendulum.instance(at).in_timezone(timezone)


def _dates(values: Iterable[Any]) -> frozenset[dt.date]:
    out: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise InputError([FieldProblem("calendar", f"expected a date, got {value!r}")])
        out.add(value)
    return frozenset(out)


@attrs.frozen
class BusinessCalendar:
    """The working days of a country, from the ``holidays`` package, with adjustments.

    ``country`` is an ISO 3166 code such as ``"CN"``; ``subdivision`` an optional
    subdivision code of it (``"NY"`` for the United States). ``extra_holidays`` are
    days off that the package does not know; ``extra_working_days`` are days that work
    although the package, or the weekend, says otherwise. An extra working day wins
    over an extra holiday given for the same date.

    >>> cal = BusinessCalendar("CN")
    >>> cal.is_working_day(dt.date(2026, 2, 14))  # a Saturday made a working day
    True
    """

    country: str
    subdivision: str | None = None
    extra_holidays: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_dates)
    extra_working_days: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_dates)
    _source: holidays.HolidayBase = attrs.field(init=False, repr=False, eq=False, hash=False)
    _lock: threading.Lock = attrs.field(
        init=False, repr=False, eq=False, hash=False, factory=threading.Lock
    )

    def __attrs_post_init__(self) -> None:
        try:
            source = holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            supported = holidays.list_supported_countries()
            if self.country not in supported:
                problem = FieldProblem(
                    "country",
                    f"the holidays package has no calendar for country {self.country!r}",
                    suggestion=did_you_mean(self.country, supported),
                )
            else:
                subdivisions = supported[self.country]
                known = ", ".join(subdivisions) if subdivisions else "none"
                problem = FieldProblem(
                    "subdivision",
                    f"country {self.country!r} has no subdivision {self.subdivision!r}; "
                    f"known: {known}",
                    suggestion=did_you_mean(str(self.subdivision), subdivisions),
                )
            raise InputError([problem], subject="calendar") from None
        object.__setattr__(self, "_source", source)

    @property
    def name(self) -> str:
        """``CN`` or ``US-NY``: the country and subdivision."""
        return self.country if not self.subdivision else f"{self.country}-{self.subdivision}"

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day: not a weekend day or holiday, or made one."""
        if isinstance(day, dt.datetime):
            day = day.date()
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        with self._lock:  # the package fills in each year lazily
            return bool(self._source.is_working_day(day))

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the holiday on ``day``, if it is one (not weekends)."""
        if day in self.extra_working_days:
            return None
        if day in self.extra_holidays:
            return "holiday (policy)"
        with self._lock:
            name = self._source.get(day)
        return None if name is None else str(name)

    def next_working_day(self, day: dt.date, *, strict: bool = False) -> dt.date:
        """The first working day on or after ``day`` (after it, when ``strict``)."""
        current = day + dt.timedelta(days=1) if strict else day
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(current):
                return current
            current += dt.timedelta(days=1)
        msg = f"calendar {self.name}: no working day within {_MAX_SCAN_DAYS} days of {day}"
        raise InputError([FieldProblem("calendar", msg)])

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day``, which is first rolled forward to one.

        ``add_working_days(d, 0)`` is the first working day on or after ``d``.
        """
        if count < 0:
            raise InputError([FieldProblem("count", f"must not be negative, got {count}")])
        current = self.next_working_day(day)
        for _ in range(count):
            current = self.next_working_day(current, strict=True)
        return current

    def add_business_days(self, at: dt.datetime, count: int, timezone: str) -> pendulum.DateTime:
        """``count`` business days after the instant ``at``, in ``timezone``.

        When ``at`` falls on a working day, the result keeps its local time of day on
        the ``count``-th working day after it. When it does not, counting starts at 00:00
        of the next working day. Either way the result falls on a working day: with the
        anchor at 00:00, the ``count`` whole working days from the anchor lie before it.
        """
        local = _local(at, timezone)
        day: dt.date = local.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            local = local_midnight(day, timezone)
        target = self.add_working_days(day, count)
        return pendulum.datetime(
            target.year, target.month, target.day,
            local.hour, local.minute, local.second, local.microsecond, tz=timezone,
        )  # fmt: skip

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """The working days in ``[start, end)``."""
        count = 0
        current = start
        while current < end:
            count += self.is_working_day(current)
            current += dt.timedelta(days=1)
        return count


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
        return self.last_at is None or self.first_at <= self.last_at


def _minutes(text: object, what: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        msg = f"expected a local time as HH:MM (00:00 to 24:00), got {text!r}"
        raise InputError([FieldProblem(what, msg)])
    hours, minutes = int(text[:2]), int(text[3:])
    if hours == 24 and minutes:
        raise InputError([FieldProblem(what, f"{text!r} is past 24:00")])
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@attrs.frozen
class ContactHours:
    """The daily hours in which the debtor may be contacted, in the debtor's local time.

    ``start`` and ``end`` are minutes after local midnight, ``0 <= start < end <=
    1440``; build one from text with :meth:`parse` (``"08:00"``, ``"22:00"``) or from a
    policy's ``contact_hours_start`` / ``contact_hours_end`` parameters with
    :meth:`from_parameters`. The window is closed: ``end`` is the last allowed instant
    of each day. Windows that cross midnight are not supported.

    >>> hours = ContactHours.parse("08:00", "22:00")
    >>> at = pendulum.datetime(2026, 4, 2, 0, 0, tz="Asia/Shanghai")
    >>> hours.last_allowed(at, "Asia/Shanghai").isoformat()
    '2026-04-01T22:00:00+08:00'
    """

    start: int
    end: int
    cites: tuple[str, ...] = ()

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
            _minutes(start, "contact_hours_start"), _minutes(end, "contact_hours_end"), tuple(cites)
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
        first, last = parameters.get(start), parameters.get(end)
        if first is None or last is None:
            return None
        cites = tuple(dict.fromkeys((*first.cites, *last.cites)))
        return cls(_minutes(first.value, start), _minutes(last.value, end), cites)

    @property
    def text(self) -> str:
        """``08:00–22:00``."""
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"

    def window_on(self, day: dt.date, timezone: str) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        """The first and last allowed instants of the local day ``day``."""
        midnight = local_midnight(day, timezone)
        return self._at(midnight, self.start, timezone), self._at(midnight, self.end, timezone)

    @staticmethod
    def _at(midnight: pendulum.DateTime, minutes: int, timezone: str) -> pendulum.DateTime:
        if minutes == 24 * 60:
            return local_midnight(midnight.date() + dt.timedelta(days=1), timezone)
        return pendulum.datetime(
            midnight.year, midnight.month, midnight.day, minutes // 60, minutes % 60, tz=timezone
        )

    def allows(self, at: dt.datetime, timezone: str) -> bool:
        """Whether contact at the instant ``at`` is within the hours, in ``timezone``."""
        local = _local(at, timezone)
        opens, closes = self.window_on(local.date(), timezone)
        if opens <= local <= closes:
            return True
        # 00:00 is the closing instant of the previous day when the hours end at 24:00.
        return self.end == 24 * 60 and local == local_midnight(local.date(), timezone)

    def first_allowed(self, at: dt.datetime, timezone: str) -> pendulum.DateTime:
        """The first allowed contact instant at or after ``at`` (local time of ``timezone``)."""
        local = _local(at, timezone)
        if self.allows(local, timezone):
            return local
        opens, _ = self.window_on(local.date(), timezone)
        if local < opens:
            return opens
        return self.window_on(local.date() + dt.timedelta(days=1), timezone)[0]

    def last_allowed(self, at: dt.datetime, timezone: str) -> pendulum.DateTime:
        """The last allowed contact instant at or before ``at`` (local time of ``timezone``)."""
        local = _local(at, timezone)
        if self.allows(local, timezone):
            return local
        _, closes = self.window_on(local.date(), timezone)
        if local > closes:
            return closes
        return self.window_on(local.date() - dt.timedelta(days=1), timezone)[1]

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
