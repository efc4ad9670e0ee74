"""Time helpers below every section: aware instants, local midnights, days past due.

Nothing here reads the clock: every instant is given.
"""

from __future__ import annotations

import datetime as dt

import pendulum

from collectrules.errors import FieldProblem, InputError
from collectrules.model.case import Case, parse_as_of

__all__ = ["days_past_due", "local_midnight", "require_aware"]


def require_aware(as_of: object) -> pendulum.DateTime:
    """Return ``as_of`` as a pendulum DateTime; a naive or non-datetime is an InputError."""
    if isinstance(as_of, pendulum.DateTime) and as_of.utcoffset() is not None:
        return as_of
    if isinstance(as_of, str):
        return parse_as_of(as_of)
    if not isinstance(as_of, dt.datetime):
        raise InputError(
            [FieldProblem("as_of", f"expected an aware datetime, got {type(as_of).__name__}")]
        )
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InputError([FieldProblem("as_of", "naive datetime; give an offset or a zone")])
    return pendulum.instance(as_of)


def days_past_due(case: Case, as_of: dt.datetime) -> int:
    """Days past due at ``as_of``, counted in the case's zone.

    The first day overdue is the day after ``due_date``; nothing overdue gives 0.
    """
    if case.overdue_amount <= 0:
        return 0
    local = case.local_date(require_aware(as_of))
    return max(0, local.toordinal() - case.due_date.toordinal())


def local_midnight(day: dt.date, timezone: str) -> pendulum.DateTime:
    """00:00 of ``day`` in ``timezone`` (the first instant of that local day)."""
    return pendulum.datetime(day.year, day.month, day.day, tz=timezone)
