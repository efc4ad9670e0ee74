"""Legal deadlines: the limitation period, the guarantee period, the enforcement period,
and how long the records of collection are kept.

How each is counted (Civil Code arts. 200–204, CN-PERIOD-CALC):

* the day on which a period starts is not counted; counting begins the next day;
* a period of years or months ends on the same-numbered day of its final month, or on
  that month's last day where there is none (a year from 29 February ends on
  28 February);
* a period whose last day is not a working day of the policy's calendar (a weekend
  day or a statutory holiday) ends on the next working day (art. 203);
* a period ends at 24:00 of its last day, in the case's zone: ``expires_at`` is 00:00
  of the following day, the same instant, and the deadline has expired from that
  instant on.

The four deadlines:

``limitation`` (CN-LIMITATION, CN-LIMITATION-INSTALMENT, CN-LIMITATION-INTERRUPT)
    ``limitation_years`` (3) from the due date, or for an instalment debt from the due
    date of the last instalment (the case's ``maturity_date``). An interrupting event
    restarts it from the day of the event; never past the long stop
    (``limitation_longstop_years``, 20) counted from the original start.
``guarantee`` (CN-GUARANTEE-PERIOD), one per guarantor
    The agreed period, or ``guarantee_period_months`` (6), from the maturity of the
    main debt. Nothing interrupts it; a demand or a suit naming the guarantor (its
    ``party``) within it satisfies it.
``enforcement`` (CN-ENFORCEMENT)
    ``enforcement_years`` (2) from the day the latest judgment took effect.
``records`` (US-REGF-RECORDS, CN-CARD-CONDUCT), off unless the policy enables it
    ``records_retention_years`` from the day of the latest collection activity (the
    events the policy lists in ``activity``): the last day the records of collection
    must be kept. Each later activity moves it forward; with none, it is unknown.

A deadline whose table lists ``products`` applies only to cases of those products
(cn_credit_card's records deadline, a card rule, to ``credit_card`` alone). For a case
of another product it is absent, exactly as a disabled deadline is: not listed, read by
no fact, never computed, so that it raises nothing. "Unknown" (``not_started`` with no
last day) stays reserved for a deadline that applies but has not started.

Nothing here reads the clock: everything is judged at the ``as_of`` given, and only
events at or before ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pendulum

from collectrules._arguments import require_date, require_instance, require_int
from collectrules._choice import Choice
from collectrules.calendars import BusinessCalendar
from collectrules.errors import FieldProblem, InputError
from collectrules.model.case import Case, Event, EventKind, Guarantor, of_nothing
from collectrules.model.time import local_midnight
from collectrules.timeline._case import events_until
from collectrules.timeline.stages import EventMatcher, PeriodRule, TimelineSection

__all__ = [
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "legal_deadlines",
    "period_last_day",
]


class DeadlineKind(Choice):
    """Which legal deadline."""

    LIMITATION = "limitation"
    GUARANTEE = "guarantee"
    ENFORCEMENT = "enforcement"
    RECORDS = "records"


class DeadlineStatus(Choice):
    """Where a legal deadline stands at ``as_of``.

    ``satisfied`` is for a guarantee period within which the guarantor was claimed
    against: the deadline no longer threatens the claim.
    """

    NOT_STARTED = "not_started"
    RUNNING = "running"
    EXPIRED = "expired"
    SATISFIED = "satisfied"


_TITLES = {
    DeadlineKind.LIMITATION: "limitation period (诉讼时效)",
    DeadlineKind.GUARANTEE: "guarantee period (保证期间)",
    DeadlineKind.ENFORCEMENT: "enforcement application period (申请执行期间)",
    DeadlineKind.RECORDS: "records retention period (记录保存期限)",
}

_EVENT_WORDS = {
    EventKind.DEMAND_DELIVERED: "a demand for payment delivered to the debtor",
    EventKind.DEMAND_LETTER_SIGNED: "a demand letter the debtor signed for",
    EventKind.DEBTOR_ACKNOWLEDGED: "the debtor acknowledging the debt",
    EventKind.COMMITMENT_SIGNED: "a written commitment to pay signed by the debtor",
    EventKind.PROMISE_MADE: "a promise to pay",
    EventKind.PAYMENT: "a payment, even a partial one",
    EventKind.SUIT_FILED: "a suit",
    EventKind.ARBITRATION_FILED: "an arbitration filing",
    EventKind.JUDGMENT_EFFECTIVE: "a judgment taking effect",
}


@attrs.frozen
class Deadline:
    """One legal deadline of a case, judged at ``as_of``.

    ``started_on`` is the day the period runs from (not itself counted), and
    ``started_by`` says what it was: the due date, or the event that last restarted it
    (``start_event``). ``interruptions`` are the events that restarted it, in order.
    ``nominal_last_day`` is the last day before art. 203 moves it off a rest day or
    holiday; ``last_day`` the day it really ends, at 24:00 (``expires_at``).
    ``warning`` is set from ``warn_from`` on while it runs, and says what would
    interrupt or satisfy it.
    """

    kind: DeadlineKind
    title: str
    status: DeadlineStatus
    cites: tuple[str, ...]
    period: str
    started_on: dt.date | None
    started_by: str
    start_event: Event | None = None
    interruptions: tuple[Event, ...] = ()
    nominal_last_day: dt.date | None = None
    last_day: dt.date | None = None
    expires_at: pendulum.DateTime | None = None
    warn_from: pendulum.DateTime | None = None
    warning: str | None = None
    capped_by_longstop: bool = False
    party: str | None = None
    satisfied_by: Event | None = None
    note: str = ""

    @property
    def moved_for_holiday(self) -> bool:
        """Whether the last day was moved off a rest day or holiday (art. 203)."""
        return (
            self.nominal_last_day is not None
            and self.last_day is not None
            and self.last_day != self.nominal_last_day
            and not self.capped_by_longstop
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "kind": self.kind.value,
            "title": self.title,
            "party": self.party,
            "status": self.status.value,
            "period": self.period,
            "started_on": iso(self.started_on),
            "started_by": self.started_by,
            "start_event": None if self.start_event is None else _event_dict(self.start_event),
            "interruptions": [_event_dict(e) for e in self.interruptions],
            "nominal_last_day": iso(self.nominal_last_day),
            "last_day": iso(self.last_day),
            "expires_at": iso(self.expires_at),
            "capped_by_longstop": self.capped_by_longstop,
            "warn_from": iso(self.warn_from),
            "warning": self.warning,
            "satisfied_by": None if self.satisfied_by is None else _event_dict(self.satisfied_by),
            "cites": list(self.cites),
            "note": self.note,
        }


def _event_dict(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": event.kind.value, "at": event.at.isoformat()}
    if event.party is not None:
        out["party"] = event.party
    return out


def period_last_day(
    start: dt.date,
    *,
    years: int = 0,
    months: int = 0,
    calendar: BusinessCalendar | None = None,
) -> tuple[dt.date, dt.date]:
    """The nominal and the real last day of a period that runs from ``start``.

    ``start`` is not counted (art. 201); the nominal last day is the same-numbered day
    ``years`` and ``months`` later, or the month's last day (art. 202). With a
    ``calendar``, a last day that is not a working day moves to the next working day
    (art. 203). A last day past the calendar's years 1 to 9999, or arguments of another
    kind, is an :class:`~collectrules.errors.InputError`.
    """
    start = require_date(start, "start")
    require_int(years, "years")
    require_int(months, "months")
    if calendar is not None:
        require_instance(calendar, BusinessCalendar, "calendar", "a BusinessCalendar or None")
    try:
        moved = pendulum.Date(start.year, start.month, start.day).add(years=years, months=months)
        nominal = dt.date(moved.year, moved.month, moved.day)
    except (ValueError, OverflowError):
        msg = f"{start} plus {years} years and {months} months is outside the years 1 to 9999"
        raise InputError([FieldProblem("months" if months else "years", msg)]) from None
    last = calendar.next_working_day(nominal) if calendar is not None else nominal
    return nominal, last


@functools.lru_cache(maxsize=4096)
def _remembered_last_day(
    start: dt.date, years: int, months: int, calendar: BusinessCalendar | None
) -> tuple[dt.date, dt.date, frozenset[int]]:
    """:func:`period_last_day`, remembered with the unpublished years it computed by rule."""
    if calendar is None:
        return (*period_last_day(start, years=years, months=months, calendar=None), frozenset())
    recording, by_rule = calendar.recording()
    nominal, last = period_last_day(start, years=years, months=months, calendar=recording)
    return nominal, last, frozenset(by_rule)


def _last_day(
    start: dt.date, years: int, months: int, calendar: BusinessCalendar | None
) -> tuple[dt.date, dt.date]:
    """:func:`period_last_day`, remembered (many cases share a due date); a calendar that
    records the years it computes by rule is told them on every call, remembered or not."""
    nominal, last, by_rule = _remembered_last_day(start, years, months, calendar)
    if calendar is not None:
        calendar.note_by_rule(by_rule)
    return nominal, last


class _Matching:
    """Whether an event is matched by any of a tuple of :class:`EventMatcher`: one set
    look-up for the kinds matched whatever their outcome, one for the (kind, outcome)
    pairs, rather than each matcher asked in turn (as ``any(m.matches(e) for m in
    matchers)`` answers)."""

    __slots__ = ("kinds", "pairs")

    def __init__(self, matchers: tuple[EventMatcher, ...]) -> None:
        self.kinds = frozenset(m.kind for m in matchers if m.outcome is None)
        self.pairs = frozenset((m.kind, m.outcome) for m in matchers if m.outcome is not None)

    def __call__(self, event: Event) -> bool:
        kind = event.kind
        return kind in self.kinds or (kind, event.outcome) in self.pairs


class _Matchings:
    """The :class:`_Matching` of each tuple of matchers asked for, by the tuple's
    identity (a policy's rules hold a few tuples, asked for by every case: hashing the
    matchers would cost more than asking each of them); the entry holds the tuple, so
    that its identity is not reused. At most :data:`_MATCHINGS_SIZE` are kept."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[int, tuple[tuple[EventMatcher, ...], _Matching]] = {}

    def __call__(self, matchers: tuple[EventMatcher, ...]) -> _Matching:
        found = self.entries.get(id(matchers))
        if found is not None and found[0] is matchers:
            return found[1]
        if len(self.entries) >= _MATCHINGS_SIZE:
            self.entries.clear()
        matching = _Matching(matchers)
        self.entries[id(matchers)] = (matchers, matching)
        return matching


#: At most this many tuples of matchers have their :class:`_Matching` remembered.
_MATCHINGS_SIZE = 256
_matching = _Matchings()


def _words(matchers: Iterable[EventMatcher]) -> str:
    words = [_EVENT_WORDS.get(m.kind, m.kind.value.replace("_", " ")) for m in matchers]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


class _Builder:
    def __init__(
        self,
        case: Case,
        as_of: pendulum.DateTime,
        section: TimelineSection,
        events: Sequence[Event] | None = None,
    ) -> None:
        self.case = case
        self.tz = case.timezone
        self.as_of = as_of
        self.rules = section.deadlines
        self.calendar = section.calendar if section.deadlines.extend_to_working_day else None
        # The events at or before as_of in time order (given by a caller that has them).
        self.events = events_until(case, as_of) if events is None else events
        self.today = case.local_date(as_of)

    def last_day(
        self, start: dt.date, *, years: int = 0, months: int = 0
    ) -> tuple[dt.date, dt.date]:
        return _last_day(start, years, months, self.calendar)

    def end_of(self, day: dt.date) -> pendulum.DateTime:
        return local_midnight(day + dt.timedelta(days=1), self.tz)

    def status(self, start: dt.date, expires_at: pendulum.DateTime) -> DeadlineStatus:
        if self.today <= start:
            return DeadlineStatus.NOT_STARTED
        # A period ends at 24:00 of its last day, which is 00:00 of the next
        # (``expires_at``): from that instant on, it has expired.
        if self.as_of >= expires_at:
            return DeadlineStatus.EXPIRED
        return DeadlineStatus.RUNNING

    def warn(
        self, status: DeadlineStatus, last_day: dt.date, expires_at: pendulum.DateTime, what: str
    ) -> tuple[pendulum.DateTime, str | None]:
        warn_from = expires_at.subtract(days=self.rules.warning_days)
        if status is not DeadlineStatus.RUNNING or self.as_of < warn_from:
            return warn_from, None
        left = (last_day - self.today).days + 1  # running: as_of is before 24:00 of it
        when = "today" if left == 1 else f"{left} days left, counting today"
        return warn_from, f"expires at the end of {last_day.isoformat()} ({when}). {what}"

    def restarts(
        self,
        start: dt.date,
        matchers: Sequence[EventMatcher],
        *,
        years: int,
        cap: dt.date | None,
        exclude_parties: frozenset[str] = frozenset(),
    ) -> tuple[dt.date, Event | None, tuple[Event, ...], dt.date, dt.date]:
        """Apply the interrupting events in order; return the final start and last days."""
        current, started_by = start, None
        interruptions: list[Event] = []
        nominal, last = self.last_day(current, years=years)
        end = min(last, cap) if cap is not None else last
        ends_at = None  # self.end_of(end), worked out when first needed
        matched = _matching(tuple(matchers))
        for event in self.events:
            if not matched(event):
                continue
            if event.party is not None and event.party in exclude_parties:
                continue
            if of_nothing(event, self.case.currency):
                continue
            day = self.case.local_date(event.at)
            if day <= current:
                continue
            if ends_at is None:
                ends_at = self.end_of(end)
            if event.at >= ends_at:
                continue
            current, started_by = day, event
            interruptions.append(event)
            nominal, last = self.last_day(current, years=years)
            end = min(last, cap) if cap is not None else last
            ends_at = None
        return current, started_by, tuple(interruptions), nominal, last

    # -- the four deadlines

    def limitation_end(
        self,
    ) -> tuple[dt.date, dt.date, Event | None, tuple[Event, ...], dt.date, bool, dt.date]:
        """The limitation period's first start, its last start and the event that made
        it, the interruptions, the nominal last day, whether the long stop caps it, and
        its real last day: what :meth:`limitation` reports, without the words."""
        rule = self.rules.limitation
        case = self.case
        instalments = case.maturity_date is not None and case.maturity_date > case.due_date
        start0 = case.maturity_date if instalments and case.maturity_date else case.due_date
        longstop = rule.longstop_years
        cap = self.last_day(start0, years=longstop)[1] if longstop else None
        guarantors = frozenset(
            name for g in case.guarantors for name in (g.id, g.name) if name is not None
        )
        current, event, interruptions, nominal, last = self.restarts(
            start0, rule.interrupted_by, years=rule.years, cap=cap, exclude_parties=guarantors
        )
        capped = cap is not None and cap < last
        final = cap if capped and cap is not None else last
        return start0, current, event, interruptions, nominal, capped, final

    def limitation(self) -> Deadline:
        rule = self.rules.limitation
        case = self.case
        start0, current, event, interruptions, nominal, capped, final = self.limitation_end()
        instalments = case.maturity_date is not None and case.maturity_date > case.due_date
        origin = (
            f"the due date of the last instalment, {start0.isoformat()}"
            if instalments
            else f"the due date, {start0.isoformat()}"
        )
        longstop = rule.longstop_years
        expires_at = self.end_of(final)
        status = self.status(start0, expires_at)
        started_by = (
            origin
            if event is None
            else (f"{event.kind.value} on {case.local_date(event.at).isoformat()}")
        )
        what = (
            f"{_words(rule.interrupted_by).capitalize()} before then would restart it."
            if rule.interrupted_by
            else "Nothing listed by the policy interrupts it."
        )
        if capped:
            what = "It has reached the long stop: nothing can restart it any more."
        warn_from, warning = self.warn(status, final, expires_at, what)
        note = f"{rule.years}-year period"
        if longstop:
            note += f"; long stop {longstop} years from {start0.isoformat()}"
        if capped:
            note += " (reached)"
        return Deadline(
            kind=DeadlineKind.LIMITATION,
            title=_TITLES[DeadlineKind.LIMITATION],
            status=status,
            cites=rule.cites,
            period=rule.length,
            started_on=current,
            started_by=started_by,
            start_event=event,
            interruptions=interruptions,
            nominal_last_day=nominal if not capped else final,
            last_day=final,
            expires_at=expires_at,
            warn_from=warn_from,
            warning=warning,
            capped_by_longstop=capped,
            note=note,
        )

    def guarantee_end(
        self, guarantor: Guarantor
    ) -> tuple[dt.date, int, dt.date, dt.date, pendulum.DateTime, Event | None, DeadlineStatus]:
        """The guarantee period of ``guarantor``: its start, months, nominal and real last
        days, its end, the event that satisfied it and its status (what
        :meth:`guarantee` reports, without the words)."""
        rule = self.rules.guarantee
        case = self.case
        start = case.maturity_date or case.due_date
        months = guarantor.agreed_period_months or rule.months
        nominal, last = self.last_day(start, months=months)
        expires_at = self.end_of(last)
        names = {guarantor.id} | ({guarantor.name} if guarantor.name else set())
        matched = _matching(rule.satisfied_by)
        satisfied = next(
            (e for e in self.events if e.party in names and matched(e) and e.at <= expires_at),
            None,
        )
        status = (
            DeadlineStatus.SATISFIED if satisfied is not None else self.status(start, expires_at)
        )
        return start, months, nominal, last, expires_at, satisfied, status

    def guarantee(self, guarantor: Guarantor) -> Deadline:
        rule = self.rules.guarantee
        case = self.case
        start, months, nominal, last, expires_at, satisfied, status = self.guarantee_end(guarantor)
        label = guarantor.name or guarantor.id
        what = (
            f"Nothing interrupts it: {_words(rule.satisfied_by)} naming guarantor {label} "
            "must come before then, or the claim against the guarantor is lost."
        ).replace("delivered to the debtor", "delivered")
        warn_from, warning = self.warn(status, last, expires_at, what)
        origin = "maturity" if case.maturity_date else "due date (no maturity date given)"
        agreed = "agreed" if guarantor.agreed_period_months else "statutory, none agreed"
        return Deadline(
            kind=DeadlineKind.GUARANTEE,
            title=f"{_TITLES[DeadlineKind.GUARANTEE]}: {label}",
            status=status,
            cites=rule.cites,
            period=f"{months} month{'s' if months != 1 else ''}",
            started_on=start,
            started_by=f"the {origin}, {start.isoformat()}",
            nominal_last_day=nominal,
            last_day=last,
            expires_at=expires_at,
            warn_from=warn_from,
            warning=warning,
            party=guarantor.id,
            satisfied_by=satisfied,
            note=f"{months} months ({agreed}); never suspended or interrupted",
        )

    def enforcement_end(
        self,
    ) -> tuple[Event, dt.date, dt.date, Event | None, tuple[Event, ...], dt.date, dt.date] | None:
        """The enforcement period, when a judgment has taken effect: the latest judgment,
        its day, the last start and the event that made it, the interruptions, and the
        nominal and real last days (what :meth:`enforcement` reports, without the words)."""
        judgments = [e for e in self.events if e.kind is EventKind.JUDGMENT_EFFECTIVE]
        if not judgments:
            return None
        rule = self.rules.enforcement
        judgment = judgments[-1]
        start = self.case.local_date(judgment.at)
        current, event, interruptions, nominal, last = self.restarts(
            start, rule.interrupted_by, years=rule.years, cap=None
        )
        return judgment, start, current, event, interruptions, nominal, last

    def enforcement(self) -> Deadline:
        rule = self.rules.enforcement
        title = _TITLES[DeadlineKind.ENFORCEMENT]
        found = self.enforcement_end()
        if found is None:
            return _unstarted(
                DeadlineKind.ENFORCEMENT,
                rule,
                "no judgment has taken effect",
                "starts on the day a judgment takes effect (judgment_effective)",
            )
        judgment, start, current, event, interruptions, nominal, last = found
        expires_at = self.end_of(last)
        status = self.status(start, expires_at)
        what = "Apply to the court for enforcement before then."
        warn_from, warning = self.warn(status, last, expires_at, what)
        return Deadline(
            kind=DeadlineKind.ENFORCEMENT,
            title=title,
            status=status,
            cites=rule.cites,
            period=rule.length,
            started_on=current,
            started_by=(
                f"judgment_effective on {start.isoformat()}"
                if event is None
                else f"{event.kind.value} on {self.case.local_date(event.at).isoformat()}"
            ),
            start_event=event or judgment,
            interruptions=interruptions,
            nominal_last_day=nominal,
            last_day=last,
            expires_at=expires_at,
            warn_from=warn_from,
            warning=warning,
            note=f"{rule.length} from the day the latest judgment took effect",
        )

    def records_end(self) -> tuple[Event, dt.date, dt.date, dt.date] | None:
        """The records deadline, when the case has collection activity: the latest
        activity, its day, and the nominal and real last days the records are kept
        (what :meth:`records` reports, without the words)."""
        rule = self.rules.records
        matched = _matching(rule.activity)
        latest = next((e for e in reversed(self.events) if matched(e)), None)
        if latest is None:
            return None
        start = self.case.local_date(latest.at)
        nominal, last = self.last_day(start, years=rule.years)
        return latest, start, nominal, last

    def records(self) -> Deadline:
        rule = self.rules.records
        title = _TITLES[DeadlineKind.RECORDS]
        activity = ", ".join(str(m) for m in rule.activity) or "none listed"
        found = self.records_end()
        if found is None:
            return _unstarted(
                DeadlineKind.RECORDS,
                rule,
                "no collection activity on the case",
                f"unknown until the first collection activity ({activity}); records are "
                f"then kept {rule.length} from the latest one",
            )
        latest, start, nominal, last = found
        expires_at = self.end_of(last)
        return Deadline(
            kind=DeadlineKind.RECORDS,
            title=title,
            status=self.status(start, expires_at),
            cites=rule.cites,
            period=rule.length,
            started_on=start,
            started_by=f"{latest.kind.value} on {start.isoformat()}",
            start_event=latest,
            nominal_last_day=nominal,
            last_day=last,
            expires_at=expires_at,
            note=(
                f"keep the records of collection until the end of {last.isoformat()}: "
                f"{rule.length} from the latest collection activity; a later one moves it "
                "forward"
            ),
        )


def _unstarted(kind: DeadlineKind, rule: PeriodRule, started_by: str, note: str) -> Deadline:
    """A deadline whose start the case does not show yet: its day and end unknown."""
    return Deadline(
        kind=kind,
        title=_TITLES[kind],
        status=DeadlineStatus.NOT_STARTED,
        cites=rule.cites,
        period=rule.length,
        started_on=None,
        started_by=started_by,
        note=note,
    )


def _applies(rule: PeriodRule, case: Case) -> bool:
    """Whether ``case`` has the deadline ``rule`` gives: the policy enables it, for the
    case's product (:meth:`~collectrules.timeline.stages.PeriodRule.applies_to`). Every
    deadline here asks this one question, so that the deadlines listed, the facts and what
    the facts are remembered by agree."""
    return rule.applies_to(case.product)


def legal_deadlines(
    case: Case, as_of: pendulum.DateTime, section: TimelineSection
) -> tuple[Deadline, ...]:
    """The legal deadlines of ``case`` at ``as_of``: limitation, each guarantee,
    enforcement, records (each when the policy enables it for the case's product; one
    that does not apply is left out, not listed as unknown)."""
    builder = _Builder(case, as_of, section)
    rules = section.deadlines
    out: list[Deadline] = []
    if _applies(rules.limitation, case):
        out.append(builder.limitation())
    if _applies(rules.guarantee, case):
        out.extend(builder.guarantee(g) for g in case.guarantors)
    if _applies(rules.enforcement, case):
        out.append(builder.enforcement())
    if _applies(rules.records, case):
        out.append(builder.records())
    return tuple(out)


def deadline_facts(
    case: Case,
    as_of: pendulum.DateTime,
    section: TimelineSection,
    events: Sequence[Event] | None = None,
) -> dict[str, Any]:
    """The legal deadlines as the facts remedy rules read, at ``as_of``.

    ``limitation_expired``, ``limitation_days_left`` and ``limitation_last_day`` (when
    the limitation period applies); ``guarantee_running`` and, for the guarantee period
    that ends first among those running, ``guarantee_days_left`` and
    ``guarantee_last_day``. What :func:`legal_deadlines` says of them, without its words
    (warnings, titles, notes); the enforcement and records periods, which no fact reads,
    are counted only for the errors they may raise (a calendar without its year). ``events`` are the
    case's events at or before ``as_of`` in time order, when the caller has them.
    """
    builder = _Builder(case, as_of, section, events)
    rules = section.deadlines
    today = builder.today
    out: dict[str, Any] = {"limitation_expired": False, "guarantee_running": False}
    if _applies(rules.limitation, case):
        start, *_, final = builder.limitation_end()
        expired = builder.status(start, builder.end_of(final)) is DeadlineStatus.EXPIRED
        out["limitation_expired"] = expired
        out["limitation_days_left"] = 0 if expired else max(0, (final - today).days + 1)
        out["limitation_last_day"] = final.isoformat()
    first: dt.date | None = None
    if _applies(rules.guarantee, case):
        for guarantor in case.guarantors:
            *_, last, _, _, status = builder.guarantee_end(guarantor)
            if status is DeadlineStatus.RUNNING and (first is None or last < first):
                first = last
    if _applies(rules.enforcement, case):
        builder.enforcement_end()
    if _applies(rules.records, case):
        builder.records_end()
    if first is not None:
        out["guarantee_running"] = True
        out["guarantee_days_left"] = max(0, (first - today).days + 1)
        out["guarantee_last_day"] = first.isoformat()
    return out


def deadline_kinds(section: TimelineSection) -> frozenset[EventKind]:
    """The kinds of the events :func:`deadline_reads` may keep: of an event of any
    other kind, the legal deadlines read nothing. For every product: a deadline the
    policy enables for some products only counts here too."""
    rules = section.deadlines
    kinds: set[EventKind] = set()
    for rule, matchers in (
        (rules.limitation, rules.limitation.interrupted_by),
        (rules.guarantee, rules.guarantee.satisfied_by),
        (rules.enforcement, rules.enforcement.interrupted_by),
    ):
        if rule.enabled:
            kinds.update(m.kind for m in matchers)
    if rules.enforcement.enabled:
        kinds.add(EventKind.JUDGMENT_EFFECTIVE)
    if rules.records.enabled:
        kinds.update(m.kind for m in rules.records.activity)
    return frozenset(kinds)


def deadline_reads(
    case: Case,
    events: Sequence[Event],
    section: TimelineSection,
    *,
    kinds: frozenset[EventKind] | None = None,
) -> tuple[tuple[Any, ...], ...]:
    """What the legal deadlines read of ``events`` (the case's events at or before
    ``as_of``, in time order): for each event that one of them can read, in order, every
    field that it reads. Two cases that agree on this, on their product, dates, zone and
    guarantors have the same :func:`deadline_facts` at one ``as_of``.

    An event is read when the matchers of a deadline that applies to the case's product
    match it and it is not set aside before anything else of it is read: by the
    limitation period, unless a guarantor is its party or it is a payment or a promise of
    nothing (less than one minor unit, see :func:`~collectrules.model.case.pays`); by a
    guarantee period, when a guarantor is its party; by the enforcement period, when it is
    a judgment, or interrupts unless it is a payment or a promise of nothing. Of such an
    event the deadlines read its kind and outcome (the matchers), its party, whether it
    has an amount, and its time: the instant with its fold and its zone object, as
    comparisons with times of one zone read the wall time alone. The records period
    reads only the time of the latest collection activity: it comes last, marked
    ``"records"``.

    ``kinds`` are the section's :func:`deadline_kinds`, when the caller has them: the
    events of other kinds are passed over at once.
    """
    if not events:
        return ()
    rules = section.deadlines
    limitation = _matching(
        rules.limitation.interrupted_by if _applies(rules.limitation, case) else ()
    )
    guarantee = _matching(rules.guarantee.satisfied_by if _applies(rules.guarantee, case) else ())
    enforcement = _applies(rules.enforcement, case)
    interrupts = _matching(rules.enforcement.interrupted_by if enforcement else ())
    activity = _matching(rules.records.activity if _applies(rules.records, case) else ())
    latest: Event | None = None
    parties = frozenset(
        name for g in case.guarantors for name in (g.id, g.name) if name is not None
    )
    out: list[tuple[Any, ...]] = []
    for event in events:
        if kinds is not None and event.kind not in kinds:
            continue  # no deadline reads it (see deadline_kinds)
        if activity(event):
            latest = event
        nothing = of_nothing(event, case.currency)
        party = event.party
        if (
            (not nothing and (party is None or party not in parties) and limitation(event))
            or (party in parties and guarantee(event))
            or (enforcement and event.kind is EventKind.JUDGMENT_EFFECTIVE)
            or (not nothing and interrupts(event))
        ):
            at = event.at
            out.append((event.kind, event.outcome, party, not nothing, at, at.fold, id(at.tzinfo)))
    if latest is not None:
        at = latest.at
        out.append(("records", at, at.fold, id(at.tzinfo)))
    return tuple(out)
