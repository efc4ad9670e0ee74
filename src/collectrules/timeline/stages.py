"""Stage plans as policy data: the ``[timeline]`` section of a policy.

A policy's ``[timeline]`` section holds its business calendar, the stage plans (one
per product, or shared), which channels count as contacting the debtor, and the rules
of the legal deadlines. This module is the model of that section and its loader; the
timeline itself is computed by :mod:`collectrules.timeline`. See
``docs/reference-stages.md`` for the format, key by key.

Every problem in the section is reported with its key path, for example
``timeline.plans.loan[L-3D].anchor: unknown anchor 'overdue_strat' (did you mean
'overdue_start'?)``, and the file and line where it can be found.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import attrs
import pendulum

from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.calendars import BeyondKnown, BusinessCalendar, CalendarSchedule, ContactHours
from collectrules.conditions import Always, Condition, FieldSpec, FieldType, Scalar
from collectrules.conditions.python import compile_condition
from collectrules.errors import ConditionError, FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import (
    STANDARD_PRODUCTS,
    ContactOutcome,
    Event,
    EventKind,
    concerns_debtor,
    fixed_offset,
    parse_date,
    product_name,
)
from collectrules.model.remedies import Remedy, remedy_name
from collectrules.model.time import local_midnight
from collectrules.policy import base_fields, signal_fields
from collectrules.policy._tables import TableReader
from collectrules.policy.model import ParameterSpec, SignalSpec
from collectrules.policy.section import SectionLoader

__all__ = [
    "CALENDAR_KEYS",
    "DEADLINE_KEYS",
    "DEFAULT_CONTACT_CHANNELS",
    "EVENT_FIELDS",
    "OFFSET_PARAMETER_KEYS",
    "PERIOD_KEYS",
    "STAGE_KEYS",
    "STATE_FIELDS",
    "STEP_STATES",
    "TIMELINE_FIELDS",
    "TIMELINE_KEYS",
    "TIMELINE_PARAMETERS",
    "UNREACHABLE_FACT",
    "Anchor",
    "AnchorKind",
    "Channel",
    "DeadlineRules",
    "EventMatcher",
    "Offset",
    "OffsetReader",
    "OffsetUnit",
    "PeriodRule",
    "PromiseRules",
    "Semantic",
    "Stage",
    "StagePlan",
    "TimelineSection",
    "parse_timeline_section",
    "state_fields",
    "step_field",
]


class Channel(Choice):
    """How a stage's action is carried out."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"
    LAWYER_LETTER = "lawyer_letter"
    COURT = "court"
    REPORT = "report"
    PLAN = "plan"
    LEGAL = "legal"
    INTERNAL = "internal"


#: The channels that contact the debtor, unless a policy lists its own: their steps get
#: a contact window and are paused by a standing promise to pay.
DEFAULT_CONTACT_CHANNELS: frozenset[Channel] = frozenset(
    {Channel.PHONE, Channel.SMS, Channel.VISIT}
)


class OffsetUnit(Choice):
    """The unit of a stage offset."""

    HOURS = "hours"
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    WEEKS = "weeks"
    MONTHS = "months"


_UNIT_WORDS: Mapping[str, OffsetUnit] = {
    "h": OffsetUnit.HOURS, "hour": OffsetUnit.HOURS, "hours": OffsetUnit.HOURS,
    "d": OffsetUnit.DAYS, "day": OffsetUnit.DAYS, "days": OffsetUnit.DAYS,
    "bd": OffsetUnit.BUSINESS_DAYS, "business day": OffsetUnit.BUSINESS_DAYS,
    "business days": OffsetUnit.BUSINESS_DAYS, "business_day": OffsetUnit.BUSINESS_DAYS,
    "business_days": OffsetUnit.BUSINESS_DAYS,
    "w": OffsetUnit.WEEKS, "week": OffsetUnit.WEEKS, "weeks": OffsetUnit.WEEKS,
    "mo": OffsetUnit.MONTHS, "month": OffsetUnit.MONTHS, "months": OffsetUnit.MONTHS,
}  # fmt: skip
#: A whole number and a unit: words joined by spaces. The unit starts and ends with a
#: letter, so that a text that is no offset fails in time linear in its length (a lazy
#: ``[A-Za-z_ ]+?`` before ``\s*\Z`` took 69 s on "1", 3,000 spaces and "!").
_OFFSET_RE = re.compile(r"^\s*([0-9]{1,5})\s*([A-Za-z_]+(?: +[A-Za-z_]+)*)\s*\Z")
#: How many bad values of one list get a did-you-mean suggestion: each costs a fuzzy
#: match, and a list of 100,000 unknown event kinds took seconds to report.
_SUGGESTED = 100
#: The most product names an unknown product's message lists.
_PRODUCTS_SHOWN = 20
#: The longest offset a stage may have, per unit: ten years. Collection stages run in
#: days and months; anything longer is a typo, and would run off the calendar.
_MAX_OFFSET: Mapping[OffsetUnit, int] = {
    OffsetUnit.HOURS: 10 * 366 * 24,
    OffsetUnit.DAYS: 10 * 366,
    OffsetUnit.BUSINESS_DAYS: 10 * 261,
    OffsetUnit.WEEKS: 10 * 53,
    OffsetUnit.MONTHS: 10 * 12,
}
_PLAN_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


class _SpecError(ValueError):
    """A bad value in the section, with an optional did-you-mean suggestion."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


class _ParameterValueError(_SpecError):
    """A parameter that an offset names holds no offset of its unit."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@attrs.frozen
class Offset:
    """A distance from an anchor: a whole number of hours, days, business days, weeks or
    calendar months.

    Hours are elapsed hours (24 hours is always 86 400 seconds, across daylight-saving
    changes); days, weeks and months are calendar days, weeks and months in the case's
    zone, keeping the local time of day (a month from 31 January is the last day of
    February); from a midnight they land on the target day's first instant, the first
    00:00 where it comes twice. A stage counts months from the anchor ``overdue_start``
    as months overdue, from the due date (:mod:`collectrules.timeline.evaluate`).
    Business days follow :meth:`BusinessCalendar.add_business_days`.
    """

    amount: int
    unit: OffsetUnit

    @classmethod
    def parse(cls, text: object) -> Offset:
        """Read ``"24 hours"``, ``"3 days"``, ``"5 business days"``, ``"2 weeks"``,
        ``"1 month"`` (or the short forms ``24h``, ``3d``, ``5bd``, ``2w``, ``1mo``)."""
        if not isinstance(text, str):
            raise _SpecError(f'expected an offset such as "24 hours", got {quote(text)}')
        match = _OFFSET_RE.match(text)
        units = "hours, days, business days, weeks or months"
        if match is None:
            raise _SpecError(
                f"cannot read offset {quote(text)}: expected a whole number and a unit ({units}), "
                'such as "24 hours"'
            )
        word = " ".join(match.group(2).lower().split())
        unit = _UNIT_WORDS.get(word)
        if unit is None:
            canonical = ["hours", "days", "business days", "weeks", "months"]
            raise _SpecError(
                f"unknown unit {quote(match.group(2))} in offset {quote(text)}; use {units}",
                did_you_mean(word, canonical) or did_you_mean(word, _UNIT_WORDS),
            )
        amount = int(match.group(1))
        if amount > _MAX_OFFSET[unit]:
            word = unit.value.replace("_", " ")
            raise _SpecError(
                f"offset {quote(text)} is too long: at most {_MAX_OFFSET[unit]} {word} (ten years)"
            )
        return cls(amount, unit)

    def __str__(self) -> str:
        word = self.unit.value.replace("_", " ")
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"

    def apply(
        self, at: dt.datetime, calendar: BusinessCalendar, timezone: str
    ) -> pendulum.DateTime:
        """The instant this offset after ``at``, computed in ``timezone``."""
        if self.unit is OffsetUnit.BUSINESS_DAYS:
            return calendar.add_business_days(at, self.amount, timezone)
        # The calendar plays no part: the same ``at`` (its wall time, fold, tzinfo
        # object and type) gives the same instant, remembered for a batch's anchors.
        pendulums = isinstance(at, pendulum.DateTime)
        return _shifted(self, at, at.fold, id(at.tzinfo), pendulums, timezone)

    def comparable(self, other: Offset) -> bool:
        """Whether the two offsets can be ordered without a date (same kind of unit)."""
        return self._scale()[0] == other._scale()[0]

    def length(self) -> int:
        """The offset in its unit family (weeks count as 7 days)."""
        return self._scale()[1]

    def _scale(self) -> tuple[str, int]:
        if self.unit is OffsetUnit.WEEKS:
            return OffsetUnit.DAYS.value, self.amount * 7
        return self.unit.value, self.amount


@functools.lru_cache(maxsize=8192)
def _shifted(
    offset: Offset, at: dt.datetime, fold: int, zone_id: int, pendulums: bool, timezone: str
) -> pendulum.DateTime:
    """``offset`` (in hours, days, weeks or months) after ``at``, in ``timezone``.

    ``fold``, the identity of ``at``'s tzinfo and whether it is a pendulum DateTime are
    in the key as well as ``at``: datetimes of one tzinfo compare equal by their wall
    time alone, and converting to the zone an instant is already in keeps its wall time
    and fold. The key holds ``at``, and with it its tzinfo, so that the identity is never
    reused.
    """
    # fixed_offset, not pendulum.instance: a wall clock in a gap of its zone is the
    # instant Python reads (see collectrules.calendars.business._local).
    local = fixed_offset(at).in_timezone(timezone)
    if offset.unit is OffsetUnit.HOURS:
        return local.add(hours=offset.amount)
    if offset.unit is OffsetUnit.DAYS:
        landed = local.add(days=offset.amount)
    elif offset.unit is OffsetUnit.WEEKS:
        landed = local.add(weeks=offset.amount)
    else:
        landed = local.add(months=offset.amount)
    if local.hour or local.minute or local.second or local.microsecond:
        return landed
    # Whole days from a midnight land on the target day's first instant: where 00:00
    # comes twice (Havana, the Azores), the first, an hour before the wall-clock
    # arithmetic's second, as a count of hours from the same midnight gives.
    first = local_midnight(landed.date(), timezone)
    return first if first.timestamp() < landed.timestamp() else landed


#: The event kinds, the contact outcomes and the channels by name.
_EVENT_KINDS: Mapping[str, EventKind] = {k.value: k for k in EventKind}
_OUTCOMES: Mapping[str, ContactOutcome] = {o.value: o for o in ContactOutcome}
_CHANNELS: Mapping[str, Channel] = {c.value: c for c in Channel}


@attrs.frozen
class EventMatcher:
    """Matches events of one kind, and for contact attempts optionally one outcome.

    Written ``"visit"`` or ``"contact_attempt:reached"`` in a policy.
    """

    kind: EventKind
    outcome: ContactOutcome | None = None

    @classmethod
    def parse(cls, text: object, *, suggest: bool = True) -> EventMatcher:
        """Read ``"kind"`` or ``"kind:outcome"``; an unknown name gets a did-you-mean
        suggestion when ``suggest``."""
        if not isinstance(text, str):
            raise _SpecError(f"expected an event kind, got {quote(text)}")
        kind_text, _, outcome_text = text.partition(":")
        # Looked up, not called: a miss costs no error (and no suggestion) of its own.
        kind = _EVENT_KINDS.get(kind_text)
        if kind is None:
            raise _SpecError(
                f"unknown event kind {quote(kind_text)}",
                did_you_mean(kind_text, _EVENT_KINDS) if suggest else None,
            )
        if not outcome_text:
            return cls(kind)
        if kind is not EventKind.CONTACT_ATTEMPT:
            raise _SpecError(
                f"only contact_attempt events have an outcome, not {quote(kind.value)}"
            )
        outcome = _OUTCOMES.get(outcome_text)
        if outcome is None:
            raise _SpecError(
                f"unknown contact outcome {quote(outcome_text)}",
                did_you_mean(outcome_text, _OUTCOMES) if suggest else None,
            )
        return cls(kind, outcome)

    def matches(self, event: Event) -> bool:
        """Whether ``event`` is of this kind (and outcome)."""
        return event.kind is self.kind and (self.outcome is None or event.outcome is self.outcome)

    def __str__(self) -> str:
        if self.outcome is None:
            return self.kind.value
        return f"{self.kind.value}:{self.outcome.value}"


class AnchorKind(Choice):
    """What a stage's offsets count from."""

    DUE_DATE = "due_date"
    OVERDUE_START = "overdue_start"
    CONDITION = "condition"
    EVENT = "event"
    UNREACHABLE = "unreachable"


#: The anchors written by name, not by event kind.
_NAMED_ANCHORS = frozenset(
    {
        AnchorKind.DUE_DATE.value,
        AnchorKind.OVERDUE_START.value,
        AnchorKind.CONDITION.value,
        AnchorKind.UNREACHABLE.value,
    }
)


def _matcher_tuple(value: EventMatcher | tuple[EventMatcher, ...]) -> tuple[EventMatcher, ...]:
    return (value,) if isinstance(value, EventMatcher) else tuple(value)


@attrs.frozen
class Anchor:
    """What a stage counts from.

    ``due_date``: 00:00 of the due date in the case's zone. ``overdue_start``: 00:00 of
    the day after it. ``condition``: the first instant, from ``overdue_start`` on, at
    which the stage's condition holds (``overdue_start`` itself, or the time of the
    event that made it hold). An event kind (or ``kind:outcome``), or a list of them:
    the first event that any of them matches (US-VALIDATION counts from the first
    communication with the debtor, a call that reached them or a letter).
    ``unreachable``: the debtor cannot be reached, as the decision reads it (its
    ``unreachable`` fact: a manual ``unreachable`` signal, or the sign unanswered
    attempts in a row or an invalid number derive, until the debtor is reached again).
    While the decision counts the debtor unreachable, the instant since which it has
    (``overdue_start`` if that is later); otherwise the first instant, from
    ``overdue_start`` on, at which it did. The stage applies only while the decision
    counts the debtor unreachable.

    ``events`` are the matchers of an event anchor, in the policy's order (one
    :class:`EventMatcher` is taken as a list of one); empty for the other kinds.
    """

    kind: AnchorKind
    events: tuple[EventMatcher, ...] = attrs.field(default=(), converter=_matcher_tuple)

    @classmethod
    def parse(cls, text: object) -> Anchor:
        """Read an anchor name, or a non-empty list of event kinds (``kind`` or
        ``kind:outcome``, each once)."""
        if isinstance(text, list):
            return cls._parse_events(text)
        if not isinstance(text, str):
            raise _SpecError(f"expected an anchor name or a list of event kinds, got {quote(text)}")
        if text in (
            AnchorKind.DUE_DATE,
            AnchorKind.OVERDUE_START,
            AnchorKind.CONDITION,
            AnchorKind.UNREACHABLE,
        ):
            return cls(AnchorKind(text))
        try:
            return cls(AnchorKind.EVENT, EventMatcher.parse(text))
        except _SpecError:
            known = [
                "due_date",
                "overdue_start",
                "condition",
                "unreachable",
                *(k.value for k in EventKind),
            ]
            raise _SpecError(f"unknown anchor {quote(text)}", did_you_mean(text, known)) from None

    @classmethod
    def _parse_events(cls, values: list[Any]) -> Anchor:
        """An event anchor of several matchers: the first event any of them matches."""
        if not values:
            raise _SpecError(
                "expected at least one event kind in the list (or an anchor name such as "
                "'overdue_start')"
            )
        matchers: list[EventMatcher] = []
        for index, value in enumerate(values):
            where = f"item {index + 1} of the anchor list"
            if isinstance(value, str) and value in _NAMED_ANCHORS:
                raise _SpecError(
                    f"{where}: {quote(value)} is an anchor of its own, not an event kind; "
                    "a list names only event kinds"
                )
            try:
                matcher = EventMatcher.parse(value)
            except _SpecError as exc:
                raise _SpecError(f"{where}: {exc.message}", exc.suggestion) from None
            if matcher in matchers:
                raise _SpecError(f"{where}: duplicate event kind {quote(str(matcher))}")
            matchers.append(matcher)
        return cls(AnchorKind.EVENT, tuple(matchers))

    def matches(self, event: Event) -> bool:
        """Whether ``event`` is of a kind this event anchor names (whichever party it
        concerns: the timeline counts from the debtor's events only)."""
        return any(m.matches(event) for m in self.events)

    def __str__(self) -> str:
        if not self.events:
            return self.kind.value
        return ", ".join(str(m) for m in self.events)


class Semantic(Choice):
    """What a stage's offsets set."""

    WITHIN = "within"
    AFTER = "after"
    WINDOW = "window"


@attrs.frozen
class Stage:
    """One stage of a plan: when it opens and is due, what to do, and what completes it.

    ``within`` sets the deadline (``due_at``), ``after`` the earliest start
    (``opens_at``); with both, the stage is a window. ``limit`` is a hard limit past the
    deadline (due in 24 hours, 48 at the latest). All three count from the anchor.
    ``when`` is the condition under which the stage applies; ``reason`` says why it is
    skipped when the condition is false. ``pauses`` marks a stage that a standing
    promise to pay pauses; ``contact`` one that contacts the debtor (it gets a contact
    window). ``remedy`` is the remedy the stage performs (the lawsuit step performs
    ``litigate``): while the step is open, late or breached, the decision must allow it
    (docs/coherence.md). ``escalation`` marks the plan's escalation point: strong
    collection (phase P3) begins once it has passed. ``promise_wait_days``, when set,
    narrows ``pauses`` to the promises to pay within that many days of making them
    (L-PROMISE3: only a promise to pay within three days lets the visit wait); a later
    promise is recorded but does not pause the stage.
    """

    id: str
    plan: str
    anchor: Anchor
    action: str
    channel: Channel
    owner: str
    completed_by: tuple[EventMatcher, ...]
    within: Offset | None = None
    after: Offset | None = None
    limit: Offset | None = None
    when: Condition = attrs.field(factory=Always)
    when_text: str = ""
    reason: str = ""
    cites: tuple[str, ...] = ()
    contact: bool = False
    pauses: bool = False
    chosen: bool = False
    title: str = ""
    doc: str = ""
    #: The remedy the step performs: a :class:`Remedy` member, or a remedy of the
    #: policy's own catalogue.
    remedy: str | None = None
    escalation: bool = False
    promise_wait_days: int | None = None

    @property
    def semantic(self) -> Semantic:
        """``within``, ``after`` or ``window``."""
        if self.within is not None and self.after is not None:
            return Semantic.WINDOW
        return Semantic.WITHIN if self.within is not None else Semantic.AFTER

    @property
    def any_party(self) -> bool:
        """Whether an event of another party than the debtor completes this stage: only
        for a stage anchored on ``unreachable``, whose step is to reach the other
        contacts. Every other step acts on the debtor (see :func:`concerns_debtor`)."""
        return self.anchor.kind is AnchorKind.UNREACHABLE

    def completed_by_event(self, event: Event) -> bool:
        """Whether ``event`` is of a kind that completes this stage, and concerns the
        debtor (or, for a stage anchored on ``unreachable``, anyone)."""
        if not (self.any_party or concerns_debtor(event)):
            return False
        return any(m.matches(event) for m in self.completed_by)


@attrs.frozen
class StagePlan:
    """A named, ordered list of stages."""

    name: str
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage:
        """The stage with id ``stage_id``."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        msg = f"plan {quote(self.name)} has no stage {quote(stage_id)}"
        raise InputError([FieldProblem("stage", msg, suggestion=did_you_mean(stage_id, self.ids))])

    @property
    def ids(self) -> tuple[str, ...]:
        """The stage ids, in plan order."""
        return tuple(s.id for s in self.stages)


@attrs.frozen
class PromiseRules:
    """How promises to pay are judged (the promise-to-pay practice of collection systems).

    A promise pauses the contact steps until the end of its promised date plus
    ``grace_days``; it is kept when the payments made after it reach the promised
    amount less ``tolerance_pct`` per cent by then, and broken otherwise.
    """

    grace_days: int = 0
    tolerance_pct: Decimal = Decimal(0)

    @exact
    def threshold(self, amount: Decimal) -> Decimal:
        """The payments that keep a promise of ``amount``."""
        return amount * (Decimal(100) - self.tolerance_pct) / Decimal(100)


@attrs.frozen
class PeriodRule:
    """How one legal deadline is computed: its length, and what interrupts or satisfies it.

    ``activity`` (the records deadline): the events that count as collection activity;
    the period runs from the latest of them. ``products``: the products whose cases the
    deadline applies to, by name; empty for every product. A case of another product
    has no such deadline, as though the policy did not enable it (:meth:`applies_to`).
    """

    name: str
    enabled: bool = True
    years: int = 0
    months: int = 0
    longstop_years: int | None = None
    interrupted_by: tuple[EventMatcher, ...] = ()
    satisfied_by: tuple[EventMatcher, ...] = ()
    activity: tuple[EventMatcher, ...] = ()
    cites: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    def applies_to(self, product: str) -> bool:
        """Whether a case of ``product`` has this deadline: it is enabled, and either
        no ``products`` are listed or ``product`` is one of them (by name: a policy's own
        product is covered only when it is listed itself, whatever its category)."""
        return self.enabled and (not self.products or str(product) in self.products)

    @property
    def length(self) -> str:
        """``3 years``, ``6 months``."""
        parts = []
        if self.years:
            parts.append(f"{self.years} year{'s' if self.years != 1 else ''}")
        if self.months:
            parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        return " ".join(parts) or "0 days"


@attrs.frozen
class DeadlineRules:
    """The legal deadlines of the policy (Civil Code arts. 188–204, 692–693; CPL art. 250).

    ``extend_to_working_day``: a period whose last day is not a working day ends on the
    next working day (art. 203). ``warning_days``: how long before expiry to warn.
    ``records``: how long the records of collection are kept after the latest
    collection activity (US-REGF-RECORDS, CN-CARD-CONDUCT); off unless a policy enables
    it.
    """

    limitation: PeriodRule
    guarantee: PeriodRule
    enforcement: PeriodRule
    warning_days: int = 90
    extend_to_working_day: bool = True
    records: PeriodRule = PeriodRule("records", enabled=False)


@attrs.frozen
class TimelineSection:
    """The parsed ``[timeline]`` section of a policy."""

    calendar: BusinessCalendar
    plans: Mapping[str, StagePlan] = attrs.field(hash=False)
    #: The plan each product follows, by product name (the policy's catalogue).
    products: Mapping[str, str] = attrs.field(hash=False)
    contact_channels: frozenset[Channel] = DEFAULT_CONTACT_CHANNELS
    contact_hours: ContactHours | None = None
    promises: PromiseRules = PromiseRules()
    deadlines: DeadlineRules = attrs.field(
        factory=lambda: DeadlineRules(
            limitation=PeriodRule("limitation"),
            guarantee=PeriodRule("guarantee"),
            enforcement=PeriodRule("enforcement"),
        )
    )

    def plan_for(self, product: str) -> StagePlan | None:
        """The plan a case of ``product`` follows, or ``None`` when the policy has none."""
        name = self.products.get(product)
        return None if name is None else self.plans.get(name)


# --------------------------------------------------------------------------- fields

#: The fact a stage anchored on ``unreachable`` reads: the decision's count of the
#: ``unreachable`` signs in force.
UNREACHABLE_FACT = "unreachable"

#: The fact fields the timeline adds for conditions to read. Every one is derived from
#: the case's events at or before ``as_of``; the contact counts from the attempts that
#: concern the debtor (:func:`~collectrules.model.case.concerns_debtor`), not from those
#: made to a guarantor or another party.
TIMELINE_FIELDS: Mapping[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("contact_attempts", FieldType.INT, "contact attempts made to the debtor"),
        FieldSpec("contact_reached", FieldType.INT, "contact attempts that reached the debtor"),
        FieldSpec(
            "contact_no_answer", FieldType.INT, "contact attempts to the debtor not answered"
        ),
        FieldSpec(
            "contact_invalid_number",
            FieldType.INT,
            "contact attempts to the debtor that found the number invalid",
        ),
        FieldSpec(
            "contact_refused", FieldType.INT, "contact attempts in which the debtor refused to talk"
        ),
        FieldSpec(
            "contact_unanswered_streak",
            FieldType.INT,
            "unanswered attempts to the debtor since the debtor was last reached or refused"
            " (or ever)",
        ),
        FieldSpec("promises_made", FieldType.INT, "promises to pay made"),
        FieldSpec(
            "promise_standing",
            FieldType.BOOL,
            "a promise to pay stands: neither kept, broken nor superseded",
        ),
        FieldSpec(
            "promise_days",
            FieldType.INT,
            "days from the day the standing promise was made to its promised date",
            optional=True,
        ),
        FieldSpec("paid_since_due", FieldType.MONEY, "payments made since the due date"),
    )
}

#: The timeline fields that change only when an event happens: what a stage anchored on
#: ``condition`` may read (a promise stops standing at its end, without an event).
EVENT_FIELDS: frozenset[str] = frozenset(TIMELINE_FIELDS) - {"promise_standing", "promise_days"}

#: Where a step can stand at ``as_of`` (the values of
#: :class:`~collectrules.timeline.evaluate.StepStatus`), and ``none``: the stage is not
#: in the plan that the case's product follows.
STEP_STATES: tuple[str, ...] = (
    "upcoming", "open", "late", "breached", "done", "skipped", "paused", "none",
)  # fmt: skip

#: The fact fields of the timeline's state that remedy rules read (besides one
#: ``step_<id>`` per stage, see :func:`state_fields`). They are computed only for a
#: policy whose rules read one of them: see docs/coherence.md.
STATE_FIELDS: Mapping[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec(
            "phase",
            FieldType.ENUM,
            "the phase of overdue management (DOMAIN.md §2): P1 nothing overdue, P2 early "
            "overdue, P3 once the plan's escalation stage has passed",
            choices=("P1", "P2", "P3"),
        ),
        FieldSpec("steps_open", FieldType.INT, "steps of the case's plan that are open"),
        FieldSpec("steps_late", FieldType.INT, "steps of the case's plan that are late"),
        FieldSpec("steps_breached", FieldType.INT, "steps of the case's plan that are breached"),
        *(
            FieldSpec(
                f"plan_{r.value}",
                FieldType.BOOL,
                f"a step of the case's plan that performs {r.value} is open, late or breached",
            )
            for r in Remedy
        ),
        FieldSpec(
            "limitation_expired", FieldType.BOOL, "the limitation period (诉讼时效) has expired"
        ),
        FieldSpec(
            "limitation_days_left",
            FieldType.INT,
            "days left in the limitation period, counting today; 0 once it has expired",
            optional=True,
        ),
        FieldSpec(
            "limitation_last_day",
            FieldType.STR,
            "the last day of the limitation period (YYYY-MM-DD)",
            optional=True,
        ),
        FieldSpec(
            "guarantee_running",
            FieldType.BOOL,
            "a guarantee period (保证期间) runs, and no claim has yet satisfied it",
        ),
        FieldSpec(
            "guarantee_days_left",
            FieldType.INT,
            "days left in the guarantee period that ends first, counting today",
            optional=True,
        ),
        FieldSpec(
            "guarantee_last_day",
            FieldType.STR,
            "the last day of the guarantee period that ends first (YYYY-MM-DD)",
            optional=True,
        ),
    )
}


@functools.lru_cache(maxsize=1024)
def step_field(stage_id: str) -> str:
    """The fact field of a stage's status: ``L-24H`` gives ``step_l_24h``."""
    return "step_" + re.sub(r"[^a-z0-9]+", "_", stage_id.lower()).strip("_")


def state_fields(plans: Mapping[str, StagePlan]) -> dict[str, FieldSpec]:
    """The state fields of a timeline with ``plans``: :data:`STATE_FIELDS` and one
    ``step_<id>`` enum per stage id (over :data:`STEP_STATES`)."""
    out = dict(STATE_FIELDS)
    for plan in plans.values():
        for stage in plan.stages:
            if stage.remedy is not None and f"plan_{stage.remedy}" not in out:
                # A remedy of the policy's own catalogue that a stage performs.
                out[f"plan_{stage.remedy}"] = FieldSpec(
                    f"plan_{stage.remedy}",
                    FieldType.BOOL,
                    f"a step of the case's plan that performs {stage.remedy} is open, late "
                    "or breached",
                )
            name = step_field(stage.id)
            out[name] = FieldSpec(
                name,
                FieldType.ENUM,
                f"status of step {stage.id} at as_of ('none': not in the case's plan)",
                choices=STEP_STATES,
            )
    return out


#: The largest value each whole-number timeline parameter may take: beyond these, a
#: period would run off the calendar (year 9999), and no law or practice needs them.
_PARAMETER_MAX: Mapping[str, int] = {
    "promise_grace_days": 366,
    "limitation_years": 100,
    "limitation_longstop_years": 100,
    "guarantee_period_months": 1200,
    "enforcement_years": 100,
    "records_retention_years": 100,
    "deadline_warning_days": 3660,
}

_READER = "the timeline (promises and legal deadlines)"


def _whole(default: int, minimum: int, name: str, doc: str) -> ParameterSpec:
    return ParameterSpec(
        "whole", doc, default, minimum=minimum, maximum=_PARAMETER_MAX[name], reader=_READER
    )


#: The parameters the timeline reads, with their types, ranges and the value used when
#: a policy does not set one (``None``: the feature is off). The policy loader checks
#: them on every policy, with or without a ``[timeline]`` section: promises are judged
#: with them either way.
TIMELINE_PARAMETERS: Mapping[str, ParameterSpec] = {
    "contact_hours_start": ParameterSpec(
        "text", "start of the daily contact hours, HH:MM local time", reader=_READER
    ),
    "contact_hours_end": ParameterSpec(
        "text", "end of the daily contact hours, HH:MM local time", reader=_READER
    ),
    "promise_grace_days": _whole(
        0, 0, "promise_grace_days", "days after the promised date before a promise is broken"
    ),
    "promise_tolerance_pct": ParameterSpec(
        "number",
        "per cent of the promised amount a payment may fall short",
        0,
        minimum=0,
        maximum=100,
        below_maximum=True,
        reader=_READER,
    ),
    "limitation_years": _whole(
        3, 1, "limitation_years", "length of the limitation period, in years"
    ),
    "limitation_longstop_years": _whole(
        20,
        0,
        "limitation_longstop_years",
        "long stop of the limitation period, in years (0: none, as for an English claim)",
    ),
    "guarantee_period_months": _whole(
        6, 1, "guarantee_period_months", "guarantee period where none is agreed, in months"
    ),
    "enforcement_years": _whole(
        2, 1, "enforcement_years", "period for applying to enforce a judgment, in years"
    ),
    "records_retention_years": _whole(
        3,
        1,
        "records_retention_years",
        "how long records are kept after the latest collection activity, in years (when "
        "[timeline.deadlines.records] is enabled)",
    ),
    "deadline_warning_days": _whole(
        90, 0, "deadline_warning_days", "days before a legal deadline expires to warn"
    ),
}


# --------------------------------------------------------------------------- loading


#: The keys of ``[timeline]``.
TIMELINE_KEYS = ("calendar", "plans", "products", "contact_channels", "deadlines")
#: The keys of a stage of a plan.
STAGE_KEYS = (
    "id", "title", "anchor", "within", "after", "limit", "action", "channel", "owner",
    "completed_by", "when", "reason", "cites", "pauses_on_promise", "promise_wait", "chosen",
    "doc", "remedy", "escalation",
)  # fmt: skip
#: The keys of a stage offset that names a parameter: ``within = { param = "name", unit =
#: "business_days" }``.
OFFSET_PARAMETER_KEYS = ("param", "unit")
#: The keys of ``[timeline.calendar]``.
CALENDAR_KEYS = (
    "country", "subdivision", "extra_holidays", "extra_working_days", "schedule", "beyond_known",
    "language",
)  # fmt: skip
#: The keys of ``[timeline.deadlines]``.
DEADLINE_KEYS = (
    "warning_days", "extend_to_working_day", "limitation", "guarantee", "enforcement", "records",
)  # fmt: skip
#: The keys of each legal period of ``[timeline.deadlines]``.
PERIOD_KEYS: Mapping[str, tuple[str, ...]] = {
    "limitation": ("enabled", "products", "interrupted_by", "cites"),
    "guarantee": ("enabled", "products", "satisfied_by", "cites"),
    "enforcement": ("enabled", "products", "interrupted_by", "cites"),
    "records": ("enabled", "products", "activity", "cites"),
}
_DEFAULT_INTERRUPTS = (
    "demand_delivered",
    "debtor_acknowledged",
    "payment",
    "suit_filed",
    "arbitration_filed",
)
_DEFAULT_SATISFIERS = ("demand_delivered", "suit_filed")
#: What counts as collection activity for the records deadline: the collector's own acts
#: towards the debtor or a guarantor (a communication or an attempt at one, a visit, a
#: notice or letter, a claim in court or arbitration). Left out: what the debtor does
#: (a payment, a promise, an acknowledgment, which a contact records anyway), the
#: lender's internal steps (reports, plans, emergency meetings, asset searches), the
#: court's acts, and reports to the credit bureau.
_DEFAULT_ACTIVITY = (
    "contact_attempt",
    "visit",
    "visit_arranged",
    "notice_sent",
    "validation_notice_sent",
    "demand_delivered",
    "demand_letter_signed",
    "lawyer_letter_sent",
    "suit_filed",
    "arbitration_filed",
)
_DEFAULT_CITES: Mapping[str, tuple[str, ...]] = {
    "limitation": (
        "CN-LIMITATION",
        "CN-LIMITATION-INSTALMENT",
        "CN-LIMITATION-INTERRUPT",
        "CN-PERIOD-CALC",
    ),
    "guarantee": ("CN-GUARANTEE-PERIOD", "CN-PERIOD-CALC"),
    "enforcement": ("CN-ENFORCEMENT", "CN-PERIOD-CALC"),
}


class OffsetReader(TableReader):
    """A :class:`TableReader` that also reads offsets: a stage's ``within``, ``after`` and
    ``limit``, an emergency step's ``within`` and ``limit``.

    An offset is a literal (``"5 business days"``) or a table that names a parameter
    of the policy and a unit (``{ param = "regf_validation_days", unit =
    "business_days" }``); either way it is resolved when the policy loads, to a plain
    :class:`Offset`. A bad literal or reference is reported at the key that gives it; a
    parameter whose value is no offset of the unit, where the parameter is set, naming
    the key that reads it.
    """

    def offset(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> Offset | None:
        """The offset ``table[key]`` of the table at ``path`` (of the step ``rule_id``),
        or None when it is absent or bad (the problem is reported)."""
        if key not in table:
            return None
        raw = table[key]
        try:
            if isinstance(raw, Mapping):
                return self.parameter_offset(raw, f"{path}.{key}")
            return Offset.parse(raw)
        except _ParameterValueError as exc:
            # Reported where the value is set (perhaps a policy that extends this one),
            # naming the key that reads it, as the loader reports a parameter's problems.
            self.fail(f"parameters.{exc.name}", exc.message, key=exc.name)
            return None
        except _SpecError as exc:
            self.fail(
                f"{path}.{key}", exc.message, rule_id=rule_id, key=key, suggestion=exc.suggestion
            )
            return None

    def parameter_offset(self, raw: Mapping[str, Any], where: str) -> Offset:
        """An offset whose amount is a parameter of the policy: the parameter must exist
        and hold a whole number from 0 to the unit's longest offset (ten years)."""
        extra = sorted(str(k) for k in raw if k not in OFFSET_PARAMETER_KEYS)
        if extra:
            raise _SpecError(
                f"unknown key {quote(extra[0])} in a parameter offset; expected "
                '{ param = "<parameter>", unit = "<unit>" }',
                did_you_mean(extra[0], OFFSET_PARAMETER_KEYS),
            )
        units = [u.value for u in OffsetUnit]
        unit_raw = raw.get("unit")
        if unit_raw not in units:
            shown = "required" if unit_raw is None else f"got {quote(unit_raw)}"
            raise _SpecError(
                f"a parameter offset needs a unit: one of {', '.join(units)}; {shown}",
                did_you_mean(str(unit_raw), units) if isinstance(unit_raw, str) else None,
            )
        unit = OffsetUnit(unit_raw)
        name = raw.get("param")
        if not isinstance(name, str) or name not in self.params:
            raise _SpecError(
                "expected 'param' to name a parameter of the policy giving a whole number "
                f"of {unit.value.replace('_', ' ')}, got {quote(name)}",
                did_you_mean(name, self.params) if isinstance(name, str) else None,
            )
        value = self.params[name]
        words = unit.value.replace("_", " ")
        spec = ParameterSpec(
            "whole", f"{where}, in {words}", minimum=0, maximum=_MAX_OFFSET[unit], reader=where
        )
        problem = spec.problem(value)
        if problem is not None:
            raise _ParameterValueError(
                name, f"read as {words} by {where} (at most ten years): {problem}"
            )
        assert isinstance(value, int | float)
        return Offset(int(value), unit)


class _Parser(OffsetReader):
    def __init__(self, loader: SectionLoader, params: Mapping[str, Scalar]) -> None:
        super().__init__(loader, params)
        self.schema = _condition_schema(loader)

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        rule_id: str | None = None,
        required: bool = True,
    ) -> str:
        if key not in table:
            if required:
                self.fail(f"{path}.{key}", "required; expected a string", rule_id=rule_id, key=key)
            return ""
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(
                f"{path}.{key}",
                f"expected a non-empty string, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return ""
        return value

    def matchers(
        self, values: object, path: str, *, rule_id: str | None = None, key: str
    ) -> tuple[EventMatcher, ...]:
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            self.fail(path, "expected a list of event kinds", rule_id=rule_id, key=key)
            return ()
        out: list[EventMatcher] = []
        bad = 0
        for value in values:
            try:
                out.append(EventMatcher.parse(value, suggest=bad < _SUGGESTED))
            except _SpecError as exc:
                bad += 1
                self.fail(path, exc.message, rule_id=rule_id, key=key, suggestion=exc.suggestion)
        return tuple(out)

    # -- parameters

    def whole(self, name: str, *, minimum: int) -> int:
        """A whole-number parameter; its default when it is invalid (the policy loader
        checks :data:`TIMELINE_PARAMETERS` and reports the problem)."""
        spec = TIMELINE_PARAMETERS[name]
        assert isinstance(spec.default, int)
        assert spec.minimum == minimum
        value = self.params.get(name, spec.default)
        if not spec.accepts(value):
            return spec.default
        return int(value)

    def promise_wait(self, table: Mapping[str, Any], path: str, sid: str) -> int | None:
        """The stage's ``promise_wait``: a parameter naming whole days, or ``None``."""
        name = table.get("promise_wait")
        if name is None:
            return None
        if not isinstance(name, str) or name not in self.params:
            self.fail(
                f"{path}.promise_wait",
                f"expected the name of a parameter giving whole days, got {quote(name)}",
                rule_id=sid,
                key="promise_wait",
                suggestion=did_you_mean(str(name), self.params),
            )
            return None
        value = self.params[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
            self.fail(
                f"parameters.{name}",
                f"expected a whole number of days from 0 to 366, got {quote(value)}",
                key=name,
            )
            return None
        return value

    def percent(self, name: str) -> Decimal:
        """A percentage parameter; 0 when it is invalid (the loader reports it)."""
        spec = TIMELINE_PARAMETERS[name]
        value = self.params.get(name, spec.default)
        if not spec.accepts(value) or isinstance(value, str | None):
            return Decimal(0)
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

    def contact_hours(self, parameters: Mapping[str, Any]) -> ContactHours | None:
        start = self.params.get("contact_hours_start")
        end = self.params.get("contact_hours_end")
        if start is None and end is None:
            return None
        if start is None or end is None:
            missing = "contact_hours_start" if start is None else "contact_hours_end"
            self.fail(f"parameters.{missing}", "contact hours need both a start and an end")
            return None
        try:
            hours = ContactHours.parse(
                str(start) if not isinstance(start, str) else start,
                str(end) if not isinstance(end, str) else end,
            )
        except InputError as exc:
            for p in exc.problems:
                name = p.path if p.path.startswith("contact_hours_") else "contact_hours_start"
                self.fail(f"parameters.{name}", p.message, key=name)
            return None
        cites: list[str] = []
        for name in ("contact_hours_start", "contact_hours_end"):
            spec = parameters.get(name)
            if isinstance(spec, Mapping):
                raw = spec.get("cites", [])
                raw = [raw] if isinstance(raw, str) else raw
                cites.extend(c for c in raw if isinstance(c, str))
        return attrs.evolve(hours, cites=tuple(dict.fromkeys(cites)))

    # -- sections

    def calendar(self, raw: object) -> BusinessCalendar | None:
        path = "timeline.calendar"
        if raw is None:
            self.fail(
                path, 'required: the calendar whose working days count, such as { country = "CN" }'
            )
            return None
        if isinstance(raw, str):
            raw = {"country": raw}
        if not isinstance(raw, Mapping):
            self.fail(path, 'expected a table such as { country = "CN" }')
            return None
        self.keys(raw, CALENDAR_KEYS, path)
        country = self.text(raw, "country", path)
        subdivision = raw.get("subdivision")
        if subdivision is not None and not isinstance(subdivision, str):
            self.fail(f"{path}.subdivision", f"expected a string, got {quote(subdivision)}")
            subdivision = None
        extra: dict[str, frozenset[dt.date]] = {}
        for key in ("extra_holidays", "extra_working_days"):
            extra[key] = self.dates(raw.get(key, []), f"{path}.{key}", key)
        beyond = raw.get("beyond_known", BeyondKnown.RULE.value)
        if beyond not in [b.value for b in BeyondKnown]:
            choices = " or ".join(repr(b.value) for b in BeyondKnown)
            self.fail(
                f"{path}.beyond_known",
                f"expected {choices}, got {quote(beyond)}",
                key="beyond_known",
            )
            beyond = BeyondKnown.RULE.value
        language = raw.get("language")
        if language is not None and not isinstance(language, str):
            self.fail(
                f"{path}.language",
                f"expected a language code such as 'en_US', got {quote(language)}",
            )
            language = None
        schedules = self.schedules(raw.get("schedule"), f"{path}.schedule")
        if not country:
            return None
        try:
            return BusinessCalendar(
                country,
                subdivision or None,
                extra_holidays=extra["extra_holidays"],
                extra_working_days=extra["extra_working_days"],
                schedules=schedules,
                beyond_known=BeyondKnown(beyond),
                language=language,
            )
        except InputError as exc:
            for p in exc.problems:
                self.fail(f"{path}.{p.path}", p.message, key=p.path, suggestion=p.suggestion)
            return None

    def schedules(self, raw: object, path: str) -> tuple[CalendarSchedule, ...]:
        """Official schedules named by ``schedule``: files inside the policy's folder."""
        if raw is None:
            return ()
        names = [raw] if isinstance(raw, str) else raw
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.fail(path, "expected a file name or a list of them", key="schedule")
            return ()
        source = getattr(self.loader, "source", None)
        if not isinstance(source, str) or source.startswith("<"):
            self.fail(
                path,
                "a calendar schedule is read from the policy file's folder: load the "
                "policy from a file to use one",
                key="schedule",
            )
            return ()
        folder = Path(source).resolve().parent
        out: list[CalendarSchedule] = []
        for name in names:
            relative = PurePosixPath(name)
            if (
                relative.is_absolute()
                or ".." in relative.parts
                or not name.strip()
                or "\x00" in name
            ):
                self.fail(
                    path,
                    f"{quote(name[:200])}: name a file inside the policy file's folder, "
                    "without '..', an absolute path or a NUL character",
                    key="schedule",
                )
                continue
            try:
                target = (folder / relative).resolve()
            except (OSError, RuntimeError):  # a loop of symbolic links (RuntimeError on 3.11)
                self.fail(
                    path,
                    f"{quote(name[:200])}: cannot be resolved to a file (a loop of symbolic "
                    "links?); name a file inside the policy file's folder",
                    key="schedule",
                )
                continue
            if not target.is_relative_to(folder):
                self.fail(
                    path,
                    f"{quote(name[:200])} leads outside the policy file's folder",
                    key="schedule",
                )
                continue
            try:
                out.append(CalendarSchedule.load(target))
            except InputError as exc:
                for p in exc.problems:
                    where = f"{name}: {p.path}: " if p.path else f"{name}: "
                    self.fail(path, where + p.message, key="schedule")
        return tuple(out)

    def dates(self, raw: object, path: str, key: str) -> frozenset[dt.date]:
        if not isinstance(raw, list):
            self.fail(path, "expected a list of dates", key=key)
            return frozenset()
        out: set[dt.date] = set()
        for value in raw:
            if isinstance(value, str):
                # YYYY-MM-DD only, as a case's dates (fromisoformat also reads week
                # dates and the basic form)
                with contextlib.suppress(InputError):
                    value = parse_date(value, path)
            if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
                self.fail(path, f"expected a date as YYYY-MM-DD, got {quote(value)}", key=key)
                continue
            out.add(value)
        return frozenset(out)

    def channels(self, raw: object) -> frozenset[Channel]:
        if raw is None:
            return DEFAULT_CONTACT_CHANNELS
        path = "timeline.contact_channels"
        if not isinstance(raw, list):
            self.fail(path, "expected a list of channels", key="contact_channels")
            return DEFAULT_CONTACT_CHANNELS
        out: set[Channel] = set()
        bad = 0
        for value in raw:
            channel = _CHANNELS.get(value) if isinstance(value, str) else None
            if channel is not None:
                out.add(channel)
                continue
            bad += 1
            self.fail(
                path,
                f"unknown channel {quote(value)}",
                key="contact_channels",
                suggestion=did_you_mean(str(value), _CHANNELS) if bad <= _SUGGESTED else None,
            )
        return frozenset(out)

    def plans(self, raw: object, contact: frozenset[Channel]) -> dict[str, StagePlan]:
        path = "timeline.plans"
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.fail(path, "expected a table of plans: [[timeline.plans.<name>]]")
            return {}
        out: dict[str, StagePlan] = {}
        for name, stages_raw in raw.items():
            plan_path = f"{path}.{name}"
            if not _PLAN_NAME.match(str(name)):
                self.fail(plan_path, "a plan name must be snake_case")
                continue
            if not isinstance(stages_raw, list) or not stages_raw:
                self.fail(plan_path, f"expected an array of stages: [[timeline.plans.{name}]]")
                continue
            stages: list[Stage] = []
            seen: set[str] = set()
            for i, table in enumerate(stages_raw):
                stage = self.stage(table, str(name), i, contact)
                if stage is None:
                    continue
                if stage.id in seen:
                    self.fail(
                        f"{plan_path}[{stage.id}]",
                        f"duplicate stage id {quote(stage.id)} in plan {quote(name)}",
                        rule_id=stage.id,
                    )
                    continue
                seen.add(stage.id)
                stages.append(stage)
            out[str(name)] = StagePlan(str(name), tuple(stages))
        return out

    def stage(
        self, table: object, plan: str, index: int, contact: frozenset[Channel]
    ) -> Stage | None:
        base = f"timeline.plans.{plan}"
        if not isinstance(table, Mapping):
            self.fail(f"{base}[{index}]", "expected a table")
            return None
        sid_raw = table.get("id")
        if not isinstance(sid_raw, str) or not sid_raw.strip():
            self.fail(f"{base}[{index}].id", "required; expected a stage id such as 'L-24H'")
            return None
        sid = sid_raw
        path = f"{base}[{sid}]"
        self.keys(table, STAGE_KEYS, path, rule_id=sid)
        problems_before = self._count()

        anchor: Anchor | None = None
        if "anchor" not in table:
            self.fail(
                f"{path}.anchor",
                "required: due_date, overdue_start, condition, unreachable, an event kind "
                "or a list of event kinds",
                rule_id=sid,
            )
        else:
            try:
                anchor = Anchor.parse(table["anchor"])
            except _SpecError as exc:
                self.fail(
                    f"{path}.anchor",
                    exc.message,
                    rule_id=sid,
                    key="anchor",
                    suggestion=exc.suggestion,
                )
        within = self.offset(table, "within", path, sid)
        after = self.offset(table, "after", path, sid)
        limit = self.offset(table, "limit", path, sid)
        if "within" not in table and "after" not in table:
            self.fail(
                path,
                "a stage needs 'within' (a deadline), 'after' (an earliest start), "
                "or both (a window)",
                rule_id=sid,
            )
        if "limit" in table and "within" not in table:
            self.fail(
                f"{path}.limit",
                "a limit needs a deadline: give 'within' too",
                rule_id=sid,
                key="limit",
            )
        if (
            within is not None
            and limit is not None
            and within.comparable(limit)
            and limit.length() <= within.length()
        ):
            self.fail(
                f"{path}.limit",
                f"the limit ({limit}) must come after the deadline ({within})",
                rule_id=sid,
                key="limit",
            )
        if (
            within is not None
            and after is not None
            and within.comparable(after)
            and within.length() <= after.length()
        ):
            self.fail(
                f"{path}.within",
                f"the window closes ({within}) before it opens ({after})",
                rule_id=sid,
                key="within",
            )

        action = self.text(table, "action", path, rule_id=sid)
        owner = self.text(table, "owner", path, rule_id=sid)
        channel = Channel.INTERNAL
        channel_text = table.get("channel")
        try:
            channel = Channel(str(channel_text))
        except ValueError:
            known = [c.value for c in Channel]
            message = (
                "required: one of " + ", ".join(known)
                if channel_text is None
                else f"unknown channel {quote(channel_text)}"
            )
            self.fail(
                f"{path}.channel",
                message,
                rule_id=sid,
                key="channel",
                suggestion=did_you_mean(str(channel_text), known) if channel_text else None,
            )
        completed_raw = table.get("completed_by")
        completed: tuple[EventMatcher, ...] = ()
        if completed_raw is None or completed_raw == []:
            self.fail(
                f"{path}.completed_by",
                "required: the event kinds that complete the stage",
                rule_id=sid,
                key="completed_by",
            )
        else:
            completed = self.matchers(
                completed_raw, f"{path}.completed_by", rule_id=sid, key="completed_by"
            )

        when_raw = table.get("when")
        when: Condition = Always()
        if when_raw is not None and when_raw != "":
            when = self.loader.condition(when_raw, f"{path}.when", sid, self.schema, self.params)
            when = _compile(when, self.params, self.schema)
        reason = self.text(table, "reason", path, rule_id=sid, required=False)
        if not isinstance(when, Always) and not reason:
            self.fail(
                f"{path}.reason",
                "a stage with a condition needs a reason, shown when it is skipped",
                rule_id=sid,
                key="reason",
            )
        if (
            anchor is not None
            and anchor.kind is AnchorKind.UNREACHABLE
            and UNREACHABLE_FACT not in self.schema
        ):
            self.fail(
                f"{path}.anchor",
                "anchor 'unreachable' reads the decision's unreachable fact, and the policy "
                "has no signal kind 'unreachable'",
                rule_id=sid,
                key="anchor",
            )
        if anchor is not None and anchor.kind is AnchorKind.CONDITION:
            if isinstance(when, Always):
                self.fail(
                    f"{path}.anchor",
                    "anchor 'condition' needs a 'when' condition",
                    rule_id=sid,
                    key="anchor",
                )
            else:
                stray = sorted(when.fields() - EVENT_FIELDS)
                if stray:
                    self.fail(
                        f"{path}.when",
                        "with anchor 'condition', the condition may read "
                        "only fields that events change ("
                        + ", ".join(sorted(EVENT_FIELDS))
                        + "); it reads "
                        + ", ".join(stray),
                        rule_id=sid,
                        key="when",
                    )
        pauses = self.flag(
            table, "pauses_on_promise", path, default=channel in contact, rule_id=sid
        )
        wait = self.promise_wait(table, path, sid)
        chosen = self.flag(table, "chosen", path, default=False, rule_id=sid)
        cites = self.texts(table, "cites", path, rule_id=sid)
        title = self.text(table, "title", path, rule_id=sid, required=False)
        doc = self.text(table, "doc", path, rule_id=sid, required=False)
        remedy: str | None = None
        if "remedy" in table:
            remedies = self.remedies
            named = table["remedy"]
            if isinstance(named, str) and named in remedies:
                remedy = remedy_name(named)
            else:
                expected = "" if isinstance(named, str) else "; expected a remedy's name"
                self.fail(
                    f"{path}.remedy",
                    f"unknown remedy {quote(named)}{expected}",
                    rule_id=sid,
                    key="remedy",
                    suggestion=did_you_mean(named, list(remedies))
                    if isinstance(named, str)
                    else None,
                )
        escalation = self.flag(table, "escalation", path, default=False, rule_id=sid)
        if self._count() != problems_before or anchor is None:
            return None
        return Stage(
            id=sid,
            plan=plan,
            anchor=anchor,
            action=action,
            channel=channel,
            owner=owner,
            completed_by=completed,
            within=within,
            after=after,
            limit=limit,
            when=when,
            when_text=when_raw if isinstance(when_raw, str) else "",
            reason=reason,
            cites=cites,
            contact=channel in contact,
            pauses=pauses,
            chosen=chosen,
            promise_wait_days=wait,
            title=title,
            doc=doc,
            remedy=remedy,
            escalation=escalation,
        )

    def _count(self) -> int:
        problems = getattr(self.loader, "problems", None)
        return len(problems) if isinstance(problems, list) else self.failures

    def plan_products(self, raw: object, plans: Mapping[str, StagePlan]) -> dict[str, str]:
        known = self.products
        out: dict[str, str] = {product_name(p): str(p) for p in known if p in plans}
        if raw is None:
            return out
        path = "timeline.products"
        if not isinstance(raw, Mapping):
            self.fail(path, 'expected a table of product = "plan name"')
            return out
        for name, plan in raw.items():
            if name not in known:
                self.fail(
                    f"{path}.{name}",
                    f"unknown product {quote(name)}",
                    key=str(name),
                    suggestion=did_you_mean(str(name), list(known)),
                )
                continue
            product = product_name(str(name))
            if not isinstance(plan, str) or plan not in plans:
                self.fail(
                    f"{path}.{name}",
                    f"no plan named {quote(plan)}",
                    key=str(name),
                    suggestion=did_you_mean(str(plan), plans),
                )
                continue
            out[product] = plan
        return out

    def period_products(self, table: Mapping[str, Any], path: str) -> tuple[str, ...]:
        """A legal period's ``products``: the products of the policy's catalogue whose
        cases it applies to, in the order given; empty, for every product, without the
        key. An unknown product is reported with the catalogue's names."""
        if "products" not in table:
            return ()
        raw = table["products"]
        if isinstance(raw, str):
            raw = [raw]
        where = f"{path}.products"
        if not isinstance(raw, list):
            self.fail(where, "expected a list of products", key="products")
            return ()
        if not raw:
            self.fail(
                where,
                "empty: list the products the deadline applies to, or leave the key out for "
                "every product",
                key="products",
            )
            return ()
        known = [str(p) for p in self.products]
        shown = ", ".join(map(quote, known[:_PRODUCTS_SHOWN]))
        if len(known) > _PRODUCTS_SHOWN:
            shown += f" and {len(known) - _PRODUCTS_SHOWN:,} more"
        out: list[str] = []
        bad = 0
        for value in raw:
            if isinstance(value, str) and value in known:
                if value not in out:
                    out.append(value)
                continue
            bad += 1
            self.fail(
                where,
                f"unknown product {quote(value)}; expected one of {shown}",
                key="products",
                suggestion=did_you_mean(value, known)
                if isinstance(value, str) and bad <= _SUGGESTED
                else None,
            )
        return tuple(out)

    def deadlines(self, raw: object) -> DeadlineRules:
        path = "timeline.deadlines"
        if not isinstance(raw, Mapping):
            self.fail(path, "expected a table")
            raw = {}
        self.keys(raw, DEADLINE_KEYS, path)
        tables: dict[str, Mapping[str, Any]] = {}
        for name, keys in PERIOD_KEYS.items():
            table = raw.get(name, {})
            if not isinstance(table, Mapping):
                self.fail(f"{path}.{name}", "expected a table")
                table = {}
            self.keys(table, keys, f"{path}.{name}")
            tables[name] = table
        warning = self.whole("deadline_warning_days", minimum=0)
        if "warning_days" in raw:
            value = raw["warning_days"]
            most = _PARAMETER_MAX["deadline_warning_days"]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
                self.fail(
                    f"{path}.warning_days",
                    f"expected a non-negative whole number up to {most}, got {quote(value)}",
                    key="warning_days",
                )
            else:
                warning = value
        lim, gua, enf = tables["limitation"], tables["guarantee"], tables["enforcement"]
        rec = tables["records"]
        keeping = self.flag(rec, "enabled", f"{path}.records", default=False)
        record_cites = self.texts(rec, "cites", f"{path}.records")
        if keeping and not record_cites:
            self.fail(
                f"{path}.records.cites",
                "required when the records deadline is enabled: name the clause that sets "
                "how long records are kept (such as US-REGF-RECORDS)",
                key="cites",
            )
        if keeping and rec.get("activity") == []:
            self.fail(
                f"{path}.records.activity",
                "empty: list the events that count as collection activity, or leave the key "
                "out for the usual list",
                key="activity",
            )
        return DeadlineRules(
            limitation=PeriodRule(
                "limitation",
                enabled=self.flag(lim, "enabled", f"{path}.limitation", default=True),
                products=self.period_products(lim, f"{path}.limitation"),
                years=self.whole("limitation_years", minimum=1),
                longstop_years=self.whole("limitation_longstop_years", minimum=0),
                interrupted_by=self.matchers(
                    lim.get("interrupted_by", list(_DEFAULT_INTERRUPTS)),
                    f"{path}.limitation.interrupted_by",
                    key="interrupted_by",
                ),
                cites=self.texts(lim, "cites", f"{path}.limitation")
                or _DEFAULT_CITES["limitation"],
            ),
            guarantee=PeriodRule(
                "guarantee",
                enabled=self.flag(gua, "enabled", f"{path}.guarantee", default=True),
                products=self.period_products(gua, f"{path}.guarantee"),
                months=self.whole("guarantee_period_months", minimum=1),
                satisfied_by=self.matchers(
                    gua.get("satisfied_by", list(_DEFAULT_SATISFIERS)),
                    f"{path}.guarantee.satisfied_by",
                    key="satisfied_by",
                ),
                cites=self.texts(gua, "cites", f"{path}.guarantee") or _DEFAULT_CITES["guarantee"],
            ),
            enforcement=PeriodRule(
                "enforcement",
                enabled=self.flag(enf, "enabled", f"{path}.enforcement", default=True),
                products=self.period_products(enf, f"{path}.enforcement"),
                years=self.whole("enforcement_years", minimum=1),
                interrupted_by=self.matchers(
                    enf.get("interrupted_by", []),
                    f"{path}.enforcement.interrupted_by",
                    key="interrupted_by",
                ),
                cites=self.texts(enf, "cites", f"{path}.enforcement")
                or _DEFAULT_CITES["enforcement"],
            ),
            warning_days=warning,
            extend_to_working_day=self.flag(raw, "extend_to_working_day", path, default=True),
            records=PeriodRule(
                "records",
                enabled=keeping,
                products=self.period_products(rec, f"{path}.records"),
                years=self.whole("records_retention_years", minimum=1),
                activity=self.matchers(
                    rec.get("activity", list(_DEFAULT_ACTIVITY)),
                    f"{path}.records.activity",
                    key="activity",
                ),
                cites=record_cites,
            ),
        )


def _compile(
    cond: Condition, params: Mapping[str, Scalar], schema: Mapping[str, FieldSpec]
) -> Condition:

    try:
        return compile_condition(cond, params, schema)
    except ConditionError:  # already reported by the loader's check
        return cond


def _condition_schema(loader: SectionLoader) -> dict[str, FieldSpec]:
    """The fields a stage condition may read: case facts, signals and timeline fields."""

    products = getattr(loader, "products", None)
    schema = base_fields(products if isinstance(products, Mapping) else STANDARD_PRODUCTS)
    data = getattr(loader, "data", None)
    raw_signals = data.get("signals", {}) if isinstance(data, Mapping) else {}
    if isinstance(raw_signals, Mapping):
        specs = [
            SignalSpec(
                kind=str(kind),
                dimension=str(spec.get("dimension", "")),
                polarity=str(spec.get("polarity", "")),
            )
            for kind, spec in raw_signals.items()
            if isinstance(spec, Mapping)
        ]
        schema.update(signal_fields(specs))
    schema.update(TIMELINE_FIELDS)
    return schema


def parse_timeline_section(
    raw: object, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[TimelineSection | None, Mapping[str, FieldSpec]]:
    """Parse a policy's ``[timeline]`` section; report every problem to ``loader``.

    Returns the section (``None`` when it is unusable; the loader then has the
    problems) and the fact fields it adds (:data:`TIMELINE_FIELDS`).
    """
    parser = _Parser(loader, params)
    if not isinstance(raw, Mapping):
        parser.fail("timeline", "expected a table: [timeline]")
        return None, dict(TIMELINE_FIELDS)
    parser.keys(raw, TIMELINE_KEYS, "timeline")
    data = getattr(loader, "data", None)
    parameters = data.get("parameters", {}) if isinstance(data, Mapping) else {}
    calendar = parser.calendar(raw.get("calendar"))
    contact = parser.channels(raw.get("contact_channels"))
    plans = parser.plans(raw.get("plans"), contact)
    products = parser.plan_products(raw.get("products"), plans)
    hours = parser.contact_hours(parameters if isinstance(parameters, Mapping) else {})
    promises = PromiseRules(
        grace_days=parser.whole("promise_grace_days", minimum=0),
        tolerance_pct=parser.percent("promise_tolerance_pct"),
    )
    deadlines = parser.deadlines(raw.get("deadlines", {}))
    fields = {**TIMELINE_FIELDS, **state_fields(plans)}
    owners: dict[str, str] = {}
    for plan in plans.values():
        for stage in plan.stages:
            name = step_field(stage.id)
            if owners.setdefault(name, stage.id) != stage.id:
                parser.fail(
                    f"timeline.plans.{plan.name}[{stage.id}].id",
                    f"stage ids {quote(owners[name])} and {quote(stage.id)} give the same fact "
                    f"field {quote(name)}; rename one",
                    rule_id=stage.id,
                )
    if calendar is None:
        return None, fields
    section = TimelineSection(
        calendar=calendar,
        plans=plans,
        products=products,
        contact_channels=contact,
        contact_hours=hours,
        promises=promises,
        deadlines=deadlines,
    )
    return section, fields
