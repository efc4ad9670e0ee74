"""The events of the case being derived, sorted once, with what is judged from them.

Deriving one case at one ``as_of`` reads its events from several places: the promises
to pay (for the derived signals, the promise facts and the steps' pauses), the contact
counts, the steps and the legal deadlines. Each used to sort the events again and to
judge the promises again. :func:`case_events` gives them the same :class:`CaseEvents`:
the events at or before ``as_of`` in time order, as each of them sorted them, and a
place for what is worked out from them once (see
:func:`collectrules.timeline.promises.promises_at`).

It is remembered for the latest case and ``as_of`` of a policy only, by identity (a
case is immutable, and the entry holds both, so neither identity is reused): the calls
of one derivation share it, and nothing is kept for longer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from collectrules.model.case import Case, Event, fixed_offset
from collectrules.policy import Policy

__all__ = [
    "CaseEvents",
    "case_events",
    "events_until",
    "in_zone",
    "instant",
    "later",
    "same_clock",
]


#: pendulum's own zones and offsets: an instant in one is converted as it is.
_PENDULUM_ZONES = (pendulum.Timezone, pendulum.FixedTimezone)


def in_zone(at: pendulum.DateTime, tz: pendulum.Timezone) -> pendulum.DateTime:
    """``at.in_timezone(tz)`` for the zone object ``tz``: the same instant in ``tz``, built
    as pendulum builds it (a plain datetime converted with ``astimezone``, then a
    pendulum ``DateTime`` of its fields and fold), without its look-ups and wrappers."""
    if type(at) is not pendulum.DateTime or not isinstance(at.tzinfo, _PENDULUM_ZONES):
        # Another tzinfo pendulum swaps for its own first (at fold 1): as it does.
        return at.in_timezone(tz)
    local = dt.datetime(
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond,
        tzinfo=at.tzinfo,
        fold=at.fold,
    ).astimezone(tz)
    return pendulum.DateTime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
        fold=local.fold,
        tzinfo=local.tzinfo,
    )


def instant(at: dt.datetime) -> pendulum.DateTime:
    """``at`` at its own fixed UTC offset (:func:`~collectrules.model.case.fixed_offset`):
    what to compare, sort, take the least or greatest of, or key by.

    The times of a timeline are in the case's zone, one zone object, and Python compares
    two datetimes of one zone object by their wall clocks: on the night the clocks go
    back, 01:30 the first time round reads as after 01:10 the second, an hour later, and
    01:30 as equal to 01:30 an hour later. Their fixed-offset forms compare as instants
    with each other and with any time in the zone (and, unlike a zoned time in the
    repeated hour, an equal instant in another zone object is equal).
    """
    return fixed_offset(at)


def later(first: pendulum.DateTime, second: pendulum.DateTime) -> pendulum.DateTime:
    """The later instant of the two (``first`` when they are the same instant), as
    ``max(first, second)`` would give it if it compared instants (see :func:`instant`).

    Two times of one zone object at one UTC offset (:func:`same_clock`) are ordered
    as instants by their wall clocks, which Python compares without building the
    instant."""
    if same_clock(first, second):
        return second if second > first else first
    return second if instant(second) > first else first


def same_clock(first: dt.datetime, second: dt.datetime) -> bool:
    """Whether the aware ``first`` and ``second`` are of one zone object at one UTC
    offset: then Python's comparison of them (by wall clock, as they share the zone
    object) orders them as instants, as ``instant(first)`` compared with ``second``
    does, without building the instant."""
    return first.tzinfo is second.tzinfo and first.utcoffset() == second.utcoffset()


def _at(event: Event) -> pendulum.DateTime:
    return event.at


def events_until(case: Case, at: dt.datetime) -> list[Event]:
    """The events of ``case`` at or before ``at``, in time order (equal times in the
    order the case lists them)."""
    return sorted((e for e in case.events if e.at <= at), key=_at)


class CaseEvents:
    """The events of ``case`` at or before ``as_of``, in time order, and what is judged
    from them at ``as_of`` (``judged``, by what judges them)."""

    __slots__ = ("as_of", "case", "events", "judged")

    def __init__(self, case: Case, as_of: dt.datetime) -> None:
        self.case = case
        self.as_of = as_of
        self.events: tuple[Event, ...] = tuple(events_until(case, as_of))
        self.judged: dict[Any, Any] = {}


class _Latest:
    __slots__ = ("entry",)

    def __init__(self) -> None:
        self.entry: CaseEvents | None = None


def case_events(policy: Policy, case: Case, as_of: dt.datetime) -> CaseEvents:
    """The :class:`CaseEvents` of ``case`` at ``as_of`` (this very ``as_of`` object: an
    equal instant in another zone compares differently with times in a repeated hour)."""
    latest: _Latest = policy.memo("timeline_case_events", _Latest)
    entry = latest.entry
    if entry is None or entry.case is not case or entry.as_of is not as_of:
        entry = latest.entry = CaseEvents(case, as_of)
    return entry
