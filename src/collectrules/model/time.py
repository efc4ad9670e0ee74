"""Time helpers below every section: aware instants, local midnights, days past due.

Nothing here reads the clock: every instant is given.
"""

from __future__ import annotations

import datetime as dt
import functools

import pendulum

from collectrules._arguments import wrong_kind
from collectrules.errors import FieldProblem, InputError
from collectrules.model.case import Case, _zone_failure, parse_as_of, unknown_zone, zone

__all__ = [
    "days_past_due",
    "days_past_due_on",
    "local_midnight",
    "require_aware",
    "require_case",
    "require_zone",
    "stdlib_fixed",
]


def require_aware(as_of: object) -> pendulum.DateTime:
    """Return ``as_of`` as a pendulum DateTime; a naive or non-datetime is an InputError.

    ``as_of`` must also fall in the years :data:`~collectrules.model.limits.MIN_AS_OF_YEAR`
    to :data:`~collectrules.model.limits.MAX_AS_OF_YEAR`.
    """
    global _last_good
    last = _last_good
    # A batch asks of one instant again and again, as given and as returned.
    if last is not None and (as_of is last[0] or as_of is last[1]):
        return last[1]
    if isinstance(as_of, str):
        return parse_as_of(as_of)
    if not isinstance(as_of, dt.datetime):
        raise InputError(
            [FieldProblem("as_of", f"expected an aware datetime, got {type(as_of).__name__}")]
        )
    checked = parse_as_of(as_of)
    if type(as_of) is pendulum.DateTime:
        _last_good = (as_of, checked)
    return checked


#: The last instant :func:`require_aware` found good, and what it returned for it (the
#: same instant at its fixed offset, which it returns for itself): a
#: ``pendulum.DateTime`` is immutable, and this reference keeps their identities from
#: being reused, so either object needs no second check and gives the same object back,
#: which later caches key on (``Engine.decide`` passes what it got on to ``derive``).
_last_good: tuple[pendulum.DateTime, pendulum.DateTime] | None = None


def require_case(case: object) -> Case:
    """``case`` itself, when it is a :class:`Case`; anything else is an InputError."""
    if not isinstance(case, Case):
        msg = f"expected a Case (build one with Case.from_dict), got {type(case).__name__}"
        raise InputError([FieldProblem("case", msg)])
    return case


def days_past_due(case: Case, as_of: dt.datetime) -> int:
    """Days past due at ``as_of``, counted in the case's zone.

    The first day overdue is the day after ``due_date``; nothing overdue gives 0.
    """
    require_case(case)
    if case.overdue_amount <= 0:
        return 0
    return days_past_due_on(case, case.local_date(require_aware(as_of)))


def days_past_due_on(case: Case, today: dt.date) -> int:
    """Days past due on ``today``, a date in the case's zone (see :func:`days_past_due`)."""
    if case.overdue_amount <= 0:
        return 0
    return max(0, today.toordinal() - case.due_date.toordinal())


def local_midnight(day: dt.date, timezone: str) -> pendulum.DateTime:
    """00:00 of ``day`` in ``timezone`` (the first instant of that local day: the first
    00:00 where it comes twice, and the instant the clocks jump to where it never comes).

    Remembered for the most recent days and zones: the result is immutable, and a
    portfolio asks for the same few midnights again and again. A ``day`` that is not a
    date, or a zone that is not an IANA name, is an
    :class:`~collectrules.errors.InputError`.
    """
    if not isinstance(day, dt.date):
        raise wrong_kind("day", day, "a date")
    if type(timezone) is not str:
        require_zone(timezone)
    return _local_midnight(day, timezone)


@functools.lru_cache(maxsize=8192)
def _local_midnight(day: dt.date, timezone: str) -> pendulum.DateTime:
    try:
        tz = zone(timezone)
        later = pendulum.datetime(day.year, day.month, day.day, tz=tz)
    except (pendulum.tz.exceptions.InvalidTimezone, ValueError):
        raise InputError([unknown_zone("timezone", timezone)]) from None
    # Where the clocks go back at midnight (Havana, the Azores, Amman, Gaza), 00:00 comes
    # twice, and pendulum gives the second: the day starts at the first, an hour
    # earlier. (Where they go forward at midnight, 00:00 never comes, and pendulum
    # gives the instant the day starts, 01:00; its first 00:00 then falls the day
    # before.)
    first = pendulum.datetime(day.year, day.month, day.day, tz=tz, fold=0)
    if first.date() == day and first.timestamp() < later.timestamp():
        return first
    return later


def require_zone(timezone: object, name: str = "timezone") -> str:
    """``timezone`` when it is the text of an IANA time zone; anything else is an
    InputError."""
    if not isinstance(timezone, str):
        raise wrong_kind(name, timezone, "an IANA time zone's name")
    if _zone_failure(timezone) is not None:
        raise InputError([unknown_zone(name, timezone)])
    return timezone


def stdlib_fixed(at: dt.datetime) -> dt.datetime:
    """The aware ``at`` as a plain ``datetime`` at its own UTC offset, with the standard
    library's ``timezone``: the same instant, which compares with any aware time as an
    instant, its offset read without a Python call (pendulum's zones make one)."""
    offset = at.utcoffset()
    assert offset is not None  # only aware instants reach it
    return dt.datetime(
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond,
        tzinfo=_stdlib_offset(offset),
    )


@functools.lru_cache(maxsize=256)
def _stdlib_offset(offset: dt.timedelta) -> dt.timezone:
    return dt.timezone(offset)
