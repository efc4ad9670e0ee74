"""Promises to pay (承诺还款): standing, kept, broken or superseded, at an explicit ``as_of``.

This follows the promise-to-pay practice of collection systems:

* a ``promise_made`` event carries the promised date and amount; the promise stands
  from the instant it is made until 00:00 after its promised date plus the policy's
  grace days (``promise_grace_days``): that instant is its *end*;
* the payments made from the promise on count towards it; once they reach the promised
  amount, less the tolerance (``promise_tolerance_pct`` per cent of it), the promise is
  **kept**, at the instant of the payment that reached it;
* a promise still unpaid at its end is **broken**, at its end;
* a new promise made on or before the promised date of a standing one **supersedes**
  it: the debtor renegotiated, and only the new promise is judged.

While a promise stands, the contact steps of the timeline are paused; they resume at
its end (see :mod:`collectrules.timeline`). Kept and broken promises become the derived
signals ``promise_kept`` and ``promise_broken``, which the decision counts like any
recorded signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.model.case import Case, Event, Signal, derived_signal, is_promise, pays, zone
from collectrules.model.time import local_midnight
from collectrules.policy import Policy
from collectrules.timeline._case import (
    case_events,
    events_until,
    in_zone,
    instant,
    later,
    same_clock,
)
from collectrules.timeline.stages import PromiseRules

__all__ = [
    "PauseSpan",
    "Promise",
    "PromiseStatus",
    "evaluate_promises",
    "pause_spans",
    "promise_signals",
    "promises_at",
]


class PromiseStatus(Choice):
    """Where a promise to pay stands at ``as_of``."""

    STANDING = "standing"
    KEPT = "kept"
    BROKEN = "broken"
    SUPERSEDED = "superseded"


@exact
def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


@attrs.frozen
class Promise:
    """One promise to pay, judged at ``as_of``.

    ``ends_at`` is 00:00 after the promised date plus the grace days, in the case's
    zone: the promise is broken then unless kept. ``resolved_at`` is when it was kept,
    broken or superseded (``None`` while it stands). ``paid`` is what the payments from
    the promise to ``min(as_of, ends_at)`` add up to; ``threshold`` is what keeps it.
    """

    event: Event
    made_at: pendulum.DateTime
    promised_date: dt.date
    amount: Decimal
    currency: str
    ends_at: pendulum.DateTime
    status: PromiseStatus
    resolved_at: pendulum.DateTime | None
    paid: Decimal
    threshold: Decimal

    @property
    def pause_until(self) -> pendulum.DateTime:
        """When the pause this promise causes ends: its end, or the superseding promise."""
        if self.status is PromiseStatus.SUPERSEDED and self.resolved_at is not None:
            return self.resolved_at
        return self.ends_at

    @exact
    def describe(self) -> str:
        """``the promise made on 2026-04-01 to pay CNY 5,000.00 by 2026-04-03``."""
        return (
            f"the promise made on {self.made_at.date().isoformat()} to pay "
            f"{_money(self.amount, self.currency)} by {self.promised_date.isoformat()}"
        )

    @exact
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "made_at": self.made_at.isoformat(),
            "promised_date": self.promised_date.isoformat(),
            "amount": str(self.amount),
            "ends_at": self.ends_at.isoformat(),
            "status": self.status.value,
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "paid": str(self.paid),
            "threshold": str(self.threshold),
        }


def evaluate_promises(
    case: Case, as_of: pendulum.DateTime, rules: PromiseRules
) -> tuple[Promise, ...]:
    """Every promise to pay made at or before ``as_of``, judged at ``as_of``, in order."""
    return _judged(case, as_of, rules, events_until(case, as_of))


def promises_at(
    policy: Policy, case: Case, as_of: pendulum.DateTime, rules: PromiseRules
) -> tuple[Promise, ...]:
    """:func:`evaluate_promises`, judged once for the case being derived: the derived
    signals, the promise facts and the steps' pauses all read them (see
    :func:`collectrules.timeline._case.case_events`)."""
    seen = case_events(policy, case, as_of)
    key = ("promises", rules)
    found: tuple[Promise, ...] | None = seen.judged.get(key)
    if found is None:
        found = seen.judged[key] = _judged(case, as_of, rules, seen.events)
    return found


@exact
def _judged(
    case: Case, as_of: pendulum.DateTime, rules: PromiseRules, events: Sequence[Event]
) -> tuple[Promise, ...]:
    """The promises among ``events`` (those of ``case`` at or before ``as_of``, in time
    order), judged at ``as_of``."""
    # The zone object itself: ``in_timezone`` of its name looks the same object up.
    tz = zone(case.timezone)
    as_of = instant(as_of)  # compared with ``ends_at``, in the case's zone object
    # A promise or a payment of less than one minor unit is none (model.case.pays).
    currency = case.currency
    promises = [e for e in events if is_promise(e, currency)]
    payments = [e for e in events if pays(e, currency)]
    out: list[Promise] = []
    for index, event in enumerate(promises):
        assert event.promised_date is not None  # required of a promise_made event
        assert event.amount is not None
        made = in_zone(event.at, tz)
        last_day = event.promised_date + dt.timedelta(days=rules.grace_days)
        # As instants: where 00:00 comes twice, a promise made at the second is made
        # after the first, the end of its promised day.
        ends_at = later(local_midnight(last_day + dt.timedelta(days=1), case.timezone), made)
        threshold = rules.threshold(event.amount)
        paid = Decimal(0)
        kept_at: pendulum.DateTime | None = made if threshold <= 0 else None
        for payment in payments:
            if payment.at < event.at:
                continue
            if payment.at > ends_at:
                break
            assert payment.amount is not None
            paid += payment.amount
            if kept_at is None and paid >= threshold:
                kept_at = in_zone(payment.at, tz)
        superseded_at: pendulum.DateTime | None = None
        if index + 1 < len(promises):
            following = promises[index + 1]
            if (
                (kept_at is None or following.at < kept_at)
                and following.at < ends_at
                and case.local_date(following.at) <= event.promised_date
            ):
                superseded_at = in_zone(following.at, tz)
        if superseded_at is not None:
            status, resolved = PromiseStatus.SUPERSEDED, superseded_at
        elif kept_at is not None:
            status, resolved = PromiseStatus.KEPT, kept_at
        elif as_of >= ends_at:
            status, resolved = PromiseStatus.BROKEN, ends_at
        else:
            status, resolved = PromiseStatus.STANDING, None
        out.append(
            Promise(
                event=event,
                made_at=made,
                promised_date=event.promised_date,
                amount=event.amount,
                currency=case.currency,
                ends_at=ends_at,
                status=status,
                resolved_at=resolved,
                paid=paid,
                threshold=threshold,
            )
        )
    return tuple(out)


def promise_signals(promises: Sequence[Promise]) -> tuple[Signal, ...]:
    """The derived ``promise_kept`` / ``promise_broken`` signals, at their resolution."""
    out: list[Signal] = []
    for promise in promises:
        resolved = promise.resolved_at
        if resolved is None:
            continue
        if promise.status is PromiseStatus.KEPT:
            note = f"derived: {promise.describe()} was kept"
            out.append(derived_signal("promise_kept", resolved, note))
        elif promise.status is PromiseStatus.BROKEN:
            note = f"derived: {promise.describe()} was broken"
            out.append(derived_signal("promise_broken", resolved, note))
    return tuple(out)


@attrs.frozen
class PauseSpan:
    """A stretch of time in which contact steps are paused by promises to pay.

    Overlapping promises (one superseding another) make one span; ``promise`` is the
    last of them, whose fate ends the span.
    """

    start: pendulum.DateTime
    end: pendulum.DateTime
    promise: Promise

    def resume_note(self) -> str:
        """Why the paused steps resumed at ``end``."""
        when = self.end.format("YYYY-MM-DD HH:mm")
        fate = {
            PromiseStatus.BROKEN: "was broken",
            PromiseStatus.KEPT: "was kept",
            PromiseStatus.SUPERSEDED: "was superseded",
            PromiseStatus.STANDING: "stands",
        }[self.promise.status]
        return f"resumed at {when}, after {self.promise.describe()} {fate}"

    def pause_note(self) -> str:
        """Why the steps are paused now."""
        when = self.end.format("YYYY-MM-DD HH:mm")
        if self.promise.status is PromiseStatus.KEPT:
            return f"paused: {self.promise.describe()} was kept; contact resumes at {when}"
        return (
            f"paused while {self.promise.describe()} stands; contact resumes at {when} "
            "unless it is kept"
        )


def pause_spans(promises: Sequence[Promise]) -> tuple[PauseSpan, ...]:
    """The pause spans of the promises, merged where they overlap, in time order.

    The times, all in the case's zone object, are compared as instants (``instant``):
    by wall clock, a promise made at 01:30 the first time round would come after one
    made at 01:10 the second.
    """
    spans: list[PauseSpan] = []
    # (One promise needs no sorting; two times of one zone object at one offset compare
    # as instants by wall clock: ``same_clock``.)
    ordered = sorted(promises, key=lambda p: instant(p.made_at)) if len(promises) > 1 else promises
    for promise in ordered:
        start, end = promise.made_at, promise.pause_until
        if end <= start if same_clock(end, start) else instant(end) <= start:
            continue
        if spans:
            last = spans[-1]
            if start <= last.end if same_clock(start, last.end) else instant(start) <= last.end:
                if end >= last.end if same_clock(end, last.end) else instant(end) >= last.end:
                    spans[-1] = PauseSpan(last.start, end, promise)
                continue
        spans.append(PauseSpan(start, end, promise))
    return tuple(spans)
