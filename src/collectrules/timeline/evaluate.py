"""The collection timeline of a case at an explicit ``as_of``.

The timeline is the stage plan of the case's product (policy data, see
:mod:`collectrules.timeline.stages`) evaluated on the case's calendar, contact hours and events:

* every stage becomes a :class:`Step` with ``opens_at``, ``due_at`` and ``limit_at`` in
  the case's zone, a :class:`StepStatus`, the event that completed it, and for contact
  steps the first and last allowed contact times;
* promises to pay pause the contact steps, which resume when the promise ends;
* the legal deadlines (:mod:`collectrules.timeline.deadlines`) are judged at the same ``as_of``.

Exact semantics, all computed with pendulum in the case's zone:

* ``due_date`` anchors at 00:00 of the due date; ``overdue_start`` at 00:00 of the day
  after it (the first day overdue);
* hours are elapsed hours; days, weeks and months are calendar days, weeks and months;
  months from ``overdue_start`` are months overdue, counted from the due date (the day
  after the date that many months after it); business days land on working days of the
  policy's calendar;
* ``due_at`` is the last instant at which the step is on time: a step is ``late`` only
  after it, and ``breached`` only after ``limit_at`` (or after ``due_at`` when there is
  no limit);
* only events at or before ``as_of`` count; a completing event counts from the step's
  anchor on.

Nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from calendar import monthrange
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pendulum

from collectrules._arguments import (
    require_indent,
    require_instance,
    require_int,
    require_optional_text,
    require_text,
    wrong_kind,
)
from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.calendars import BusinessCalendar, ContactWindow
from collectrules.conditions import MONEY_SCALE
from collectrules.conditions.python import unchecked_predicate
from collectrules.errors import (
    FieldProblem,
    InputError,
    PolicyError,
    did_you_mean,
    quote,
)
from collectrules.model.case import (
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Signal,
    concerns_debtor,
    is_promise,
    zone,
)
from collectrules.model.time import (
    local_midnight,
    require_aware,
    require_case,
    require_zone,
    stdlib_fixed,
)
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import (
    UNREACHABLE,
    Derived,
    derive,
    first_unreachable,
    unreachable_signs,
)
from collectrules.timeline._case import (
    case_events,
    events_until,
    in_zone,
    instant,
    later,
    same_clock,
)
from collectrules.timeline.deadlines import (
    Deadline,
    DeadlineKind,
    deadline_facts,
    deadline_kinds,
    deadline_reads,
    legal_deadlines,
)
from collectrules.timeline.emergencies import (
    Emergency,
    emergencies_now,
    emergencies_of,
    open_emergencies,
)
from collectrules.timeline.promises import (
    PauseSpan,
    Promise,
    PromiseStatus,
    evaluate_promises,
    pause_spans,
    promise_signals,
    promises_at,
)
from collectrules.timeline.stages import (
    STATE_FIELDS,
    STEP_STATES,
    UNREACHABLE_FACT,
    Anchor,
    AnchorKind,
    EventMatcher,
    Offset,
    OffsetUnit,
    PromiseRules,
    Semantic,
    Stage,
    StagePlan,
    TimelineSection,
    step_field,
)

__all__ = [
    "TIMELINE_SCHEMA_VERSION",
    "Step",
    "StepStatus",
    "Timeline",
    "build_timeline",
    "current_timeline_facts",
    "derived_promise_signals",
    "hourly",
    "micros",
    "promise_rules",
    "state_facts",
    "step_bounds",
    "timeline_facts",
    "timeline_section",
]

#: The version of the timeline's JSON schema.
TIMELINE_SCHEMA_VERSION = "1"

#: Why every step of the plan of a case with nothing overdue is skipped (phase P1).
NOTHING_OVERDUE = "Nothing is overdue (the overdue amount is 0): no collection step applies."


def _owed(case: Case) -> bool:
    """Whether anything of ``case`` is overdue, or falls due on its due date: the steps of
    its plan apply only then (phase P1 with nothing owed is remind and educate, and
    there is nothing to remind of)."""
    return case.overdue_amount > 0


class StepStatus(Choice):
    """Where a step stands at ``as_of``.

    ``upcoming``: before ``opens_at`` (or its anchor has not happened). ``open``: opened
    and not yet due. ``late``: past ``due_at``, within ``limit_at``. ``breached``: past
    the limit, or past ``due_at`` when there is no limit. ``done``: a completing event
    came at or before ``as_of``. ``skipped``: its condition is false. ``paused``: a
    promise to pay stands.
    """

    UPCOMING = "upcoming"
    OPEN = "open"
    LATE = "late"
    BREACHED = "breached"
    DONE = "done"
    SKIPPED = "skipped"
    PAUSED = "paused"


#: At most this many stage times are kept per policy (see ``_Builder.times``).
_TIMES_CACHE_SIZE = 4096

#: The statuses that call for action now.
ACTIONABLE = frozenset({StepStatus.OPEN, StepStatus.LATE, StepStatus.BREACHED})


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@attrs.frozen
class Step:
    """One stage of the plan, evaluated at ``as_of``.

    Times are in the case's zone. ``anchor_at`` is the instant the stage counts from
    (moved later when a promise paused it); ``done_at`` / ``done_by`` the first
    completing event and ``on_time`` whether it came by ``due_at``. ``reason`` says why
    a step is skipped, paused, waiting, or resumed after a promise. ``contact_window``
    is set for contact steps when the policy has contact hours.
    """

    stage: Stage = attrs.field(repr=False)
    status: StepStatus
    anchor_at: pendulum.DateTime | None
    opens_at: pendulum.DateTime | None
    due_at: pendulum.DateTime | None
    limit_at: pendulum.DateTime | None
    done_at: pendulum.DateTime | None = None
    done_by: Event | None = None
    on_time: bool | None = None
    reason: str | None = None
    paused_until: pendulum.DateTime | None = None
    contact_window: ContactWindow | None = None
    #: For a step an emergency paused or stopped: the status it would have without the
    #: emergency (what the work displaced by the emergency amounts to; see urgency).
    held: StepStatus | None = None

    @property
    def id(self) -> str:
        """The stage id, such as ``L-24H``."""
        return self.stage.id

    @property
    def action(self) -> str:
        """What to do."""
        return self.stage.action

    @property
    def channel(self) -> str:
        """How: phone, sms, visit, letter…"""
        return self.stage.channel.value

    @property
    def owner(self) -> str:
        """Who: the owner role."""
        return self.stage.owner

    @property
    def cites(self) -> tuple[str, ...]:
        """The clauses the stage encodes."""
        return self.stage.cites

    @property
    def semantic(self) -> Semantic:
        """``within``, ``after`` or ``window``."""
        return self.stage.semantic

    @property
    def deadline(self) -> pendulum.DateTime | None:
        """The next instant that matters for action: ``due_at``, else ``limit_at``."""
        return self.due_at if self.due_at is not None else self.limit_at

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        window = self.contact_window
        return {
            "id": self.id,
            "title": self.stage.title,
            "status": self.status.value,
            "semantic": self.semantic.value,
            "anchor": str(self.stage.anchor),
            "anchor_at": _iso(self.anchor_at),
            "opens_at": _iso(self.opens_at),
            "due_at": _iso(self.due_at),
            "limit_at": _iso(self.limit_at),
            "done_at": _iso(self.done_at),
            "done_by": None if self.done_by is None else self.done_by.kind.value,
            "on_time": self.on_time,
            "reason": self.reason,
            "paused_until": _iso(self.paused_until),
            "contact_window": None
            if window is None
            else {
                "first_at": window.first_at.isoformat(),
                "last_at": _iso(window.last_at),
                "feasible": window.feasible,
            },
            "action": self.action,
            "channel": self.channel,
            "owner": self.owner,
            "cites": list(self.cites),
            # Only for a step an emergency holds up: other steps keep their bytes.
            **({"held": self.held.value} if self.held is not None else {}),
        }


@attrs.frozen
class Timeline:
    """The collection timeline of one case at ``as_of``.

    ``plan`` names the stage plan the case's product follows (``None`` when the policy
    has none for it: then ``steps`` is empty, and the deadlines still apply).
    ``calendar_warnings`` name each year whose official working days the calendar did
    not have, but which a date of the timeline was computed in, by rule, with the steps
    and deadlines it touched ("calendar CN for 2027 not published; computed by rule").
    ``emergencies`` are the case's emergencies (DOMAIN.md §10) at ``as_of``; the steps of
    their escalation plans follow the plan's steps in ``steps``, with ids such as
    ``threat_to_staff:E-REPORT``.
    """

    case_id: str
    product: str
    policy: str
    as_of: pendulum.DateTime
    timezone: str
    calendar: str
    contact_hours: str | None
    overdue_start: pendulum.DateTime
    plan: str | None
    steps: tuple[Step, ...]
    deadlines: tuple[Deadline, ...]
    promises: tuple[Promise, ...]
    calendar_warnings: tuple[str, ...] = ()
    emergencies: tuple[Emergency, ...] = ()

    @property
    def emergency_open(self) -> bool:
        """Whether an emergency is open at ``as_of``."""
        return any(e.open for e in self.emergencies)

    def step(self, stage_id: str) -> Step:
        """The step of stage ``stage_id``."""
        require_text(stage_id, "stage_id", "a stage's id")
        for step in self.steps:
            if step.id == stage_id:
                return step
        msg = f"the timeline has no step {quote(stage_id)}"
        hint = did_you_mean(stage_id, [s.id for s in self.steps])
        raise InputError([FieldProblem("stage", msg, suggestion=hint)])

    def deadline(self, kind: DeadlineKind | str, party: str | None = None) -> Deadline:
        """The deadline of ``kind`` (and, for a guarantee, of guarantor ``party``)."""
        require_optional_text(party, "party", "a guarantor's id")
        try:
            wanted = DeadlineKind(kind)
        except ValueError:
            known = [k.value for k in DeadlineKind]
            msg = f"unknown deadline kind {quote(kind)}; expected one of {', '.join(known)}"
            hint = did_you_mean(kind, known) if isinstance(kind, str) else None
            raise InputError([FieldProblem("deadline", msg, suggestion=hint)]) from None
        for deadline in self.deadlines:
            if deadline.kind is wanted and (party is None or deadline.party == party):
                return deadline
        raise InputError(
            [
                FieldProblem(
                    "deadline",
                    f"the timeline has no {wanted.value} "
                    f"deadline{'' if party is None else ' for ' + party}",
                )
            ]
        )

    @property
    def next_actions(self) -> tuple[Step, ...]:
        """What to do next: the open, late and breached steps, soonest due first.

        Steps without a due time (``after`` stages) come after those with one.
        """
        far = pendulum.datetime(9999, 1, 1, tz="UTC")
        order = {s.id: i for i, s in enumerate(self.steps)}
        # As instants: the steps' times share the case's zone object (see ``instant``).
        return tuple(
            sorted(
                (s for s in self.steps if s.status in ACTIONABLE),
                key=lambda s: (
                    far if s.deadline is None else instant(s.deadline),
                    far if s.opens_at is None else instant(s.opens_at),
                    order[s.id],
                ),
            )
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        """The calendar warnings, then those of the deadlines that are close to expiry."""
        close = tuple(f"{d.title}: {d.warning}" for d in self.deadlines if d.warning)
        return self.calendar_warnings + close

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with a stable layout (``schema_version``)."""
        return {
            "schema_version": TIMELINE_SCHEMA_VERSION,
            "case_id": self.case_id,
            "product": self.product,
            "policy": self.policy,
            "as_of": self.as_of.isoformat(),
            "timezone": self.timezone,
            "calendar": self.calendar,
            "contact_hours": self.contact_hours,
            "overdue_start": self.overdue_start.isoformat(),
            "plan": self.plan,
            "steps": [s.to_dict() for s in self.steps],
            "next_actions": [s.id for s in self.next_actions],
            "deadlines": [d.to_dict() for d in self.deadlines],
            "promises": [p.to_dict() for p in self.promises],
            # Only when there are some: a timeline without them keeps its bytes.
            **(
                {"calendar_warnings": list(self.calendar_warnings)}
                if self.calendar_warnings
                else {}
            ),
            **(
                {"emergencies": [e.to_dict() for e in self.emergencies]} if self.emergencies else {}
            ),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The timeline as JSON: the same bytes for the same case, ``as_of`` and policy.

        ``indent`` is ``None`` (compact) or 0 to 16 spaces."""
        indent = require_indent(indent)
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------- helpers


def timeline_section(policy: Policy) -> TimelineSection:
    """The policy's parsed ``[timeline]`` section; a clear error when it has none."""
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection):
        msg = (
            f"policy {quote(policy.id)} has no [timeline] section: it needs a calendar and stage "
            "plans to compute a timeline (see docs/reference-stages.md)"
        )
        raise PolicyError([FieldProblem("timeline", msg, source=policy.source)])
    return section


def promise_rules(policy: Policy) -> PromiseRules:
    """How the policy judges promises to pay (its timeline section, or its parameters)."""
    section = policy.sections.get("timeline")
    if isinstance(section, TimelineSection):
        return section.promises
    params = policy.parameter_values
    grace = params.get("promise_grace_days", 0)
    tolerance = params.get("promise_tolerance_pct", 0)
    return PromiseRules(
        grace_days=grace if isinstance(grace, int) and not isinstance(grace, bool) else 0,
        tolerance_pct=Decimal(str(tolerance))
        if isinstance(tolerance, int | float) and not isinstance(tolerance, bool)
        else Decimal(0),
    )


def derived_promise_signals(
    case: Case, as_of: pendulum.DateTime, policy: Policy
) -> tuple[Signal, ...]:
    """``promise_kept`` and ``promise_broken`` signals derived from the case's events."""
    if not any(e.kind is EventKind.PROMISE_MADE for e in case.events):
        return ()
    return promise_signals(promises_at(policy, case, as_of, promise_rules(policy)))


_events = events_until


_OUTCOMES = tuple(ContactOutcome)


def timeline_facts(
    case: Case, at: pendulum.DateTime, rules: PromiseRules, *, standing: bool = True
) -> dict[str, Any]:
    """The fact fields of :data:`~collectrules.timeline.stages.TIMELINE_FIELDS` at ``at``.

    With ``standing=False`` the promises are not judged, and ``promise_standing`` stays
    false: enough for the :data:`~collectrules.timeline.stages.EVENT_FIELDS` that a
    condition anchor reads, at a cost linear in the events rather than quadratic.
    """
    if not case.events:
        return dict(_QUIET)
    promises: Callable[[], tuple[Promise, ...]] | None = (
        (lambda: evaluate_promises(case, at, rules)) if standing else None
    )
    return _timeline_facts(case, _events(case, at), promises)


def current_timeline_facts(case: Case, as_of: pendulum.DateTime, policy: Policy) -> dict[str, Any]:
    """:func:`timeline_facts` at ``as_of`` under the policy's promise rules, for the case
    being derived: its events sorted, and its promises judged, once for the derivation
    (see :func:`collectrules.timeline.promises.promises_at`)."""
    if not case.events:
        return dict(_QUIET)
    rules = promise_rules(policy)
    return _timeline_facts(
        case,
        case_events(policy, case, as_of).events,
        lambda: promises_at(policy, case, as_of, rules),
    )


#: The fact fields of :func:`timeline_facts` for a case without events.
_QUIET: Mapping[str, Any] = {
    "contact_attempts": 0,
    "contact_reached": 0,
    "contact_no_answer": 0,
    "contact_invalid_number": 0,
    "contact_refused": 0,
    "contact_unanswered_streak": 0,
    "promises_made": 0,
    "promise_standing": False,
    "paid_since_due": 0,
}


@exact
def _timeline_facts(
    case: Case,
    events: Sequence[Event],
    promises: Callable[[], tuple[Promise, ...]] | None,
) -> dict[str, Any]:
    """:func:`timeline_facts` of ``events`` (the case's events at or before the instant,
    in time order); ``promises`` judges the promises at that instant, when they are.

    The contact counts and the unanswered streak count the attempts that concern the
    debtor (:func:`~collectrules.model.case.concerns_debtor`), as ``debtor_contacted``
    and the ``unreachable`` sign do: a guarantor reached is not the debtor reached.
    """
    counts = dict.fromkeys(_OUTCOMES, 0)
    attempts = streak = promises_made = 0
    paid = Decimal(0)
    due_start = local_midnight(case.due_date, case.timezone)
    for event in events:
        if event.kind is EventKind.CONTACT_ATTEMPT:
            if event.outcome is None or not concerns_debtor(event):
                continue
            attempts += 1
            counts[event.outcome] += 1
            if event.outcome in (ContactOutcome.REACHED, ContactOutcome.REFUSED):
                streak = 0
            elif event.outcome in (ContactOutcome.NO_ANSWER, ContactOutcome.UNREACHABLE):
                streak += 1
        elif event.kind is EventKind.PROMISE_MADE and is_promise(event, case.currency):
            promises_made += 1
        elif event.kind is EventKind.PAYMENT and event.amount is not None and event.at >= due_start:
            paid += event.amount
    facts: dict[str, Any] = {
        "contact_attempts": attempts,
        "contact_reached": counts[ContactOutcome.REACHED],
        "contact_no_answer": counts[ContactOutcome.NO_ANSWER],
        "contact_invalid_number": counts[ContactOutcome.INVALID_NUMBER],
        "contact_refused": counts[ContactOutcome.REFUSED],
        "contact_unanswered_streak": streak,
        "promises_made": promises_made,
        "promise_standing": False,
        "paid_since_due": int((paid * MONEY_SCALE).to_integral_value()),
    }
    if promises_made and promises is not None:
        held = [p for p in promises() if p.status is PromiseStatus.STANDING]
        if held:
            latest = held[-1]
            facts["promise_standing"] = True
            facts["promise_days"] = (latest.promised_date - latest.made_at.date()).days
    return facts


# --------------------------------------------------------------------------- building


def _later_by_whole_days(at: pendulum.DateTime, held: dt.timedelta) -> pendulum.DateTime:
    """``at`` moved later by ``held``, rounded up to whole calendar days in its zone."""
    target = at + held
    days = (target.date() - at.date()).days
    moved = at.add(days=days)
    # As instants: both are in ``at``'s zone, and may fall in the hour the clocks repeat.
    return moved if instant(moved) >= target else at.add(days=days + 1)


def _ordered(
    stage: Stage,
    opens: pendulum.DateTime,
    due: pendulum.DateTime | None,
    limit: pendulum.DateTime | None,
    calendar: BusinessCalendar,
    tz: str,
) -> tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]:
    """Keep ``opens <= due <= limit``; a time pushed later stays on a working day.

    A later time replaces an earlier one when units are mixed ("48 hours" against
    "1 business day") or when a step resumes after a promise; a time set by a
    business-day offset that is pushed onto a rest day moves to 00:00 of the next
    working day, so that business-day offsets always land on working days. The times
    are compared as instants (``later``): "1 day" and "24 hours" after 01:30 on the eve
    of the night the clocks go back read 01:30 both, an hour apart.
    """
    opens = _working(stage.after, opens, calendar, tz)
    if due is not None:
        due = _working(stage.within, later(due, opens), calendar, tz)
    if limit is not None:
        limit = _working(stage.limit, limit if due is None else later(limit, due), calendar, tz)
    return opens, due, limit


def _working(
    offset: Offset | None, at: pendulum.DateTime, calendar: BusinessCalendar, tz: str
) -> pendulum.DateTime:
    """``at``, moved to 00:00 of the next working day when ``offset`` counts business
    days and ``at`` is not on a working day."""
    if offset is None or offset.unit is not OffsetUnit.BUSINESS_DAYS:
        return at
    day = at.in_timezone(tz).date()
    if calendar.is_working_day(day):
        return at
    return local_midnight(calendar.next_working_day(day), tz)


def _next_day(day: dt.date) -> dt.date:
    """The day after ``day``, as a plain date (a pendulum ``Date`` adds more slowly)."""
    return dt.date.fromordinal(day.toordinal() + 1)


# What a step reads of the events: shared by the builder and the state facts' own path.


def _event_anchor(
    events: Sequence[Event], matchers: Sequence[EventMatcher], tz: str
) -> pendulum.DateTime | None:
    """The time of the first of ``events`` that any of ``matchers`` matches, in the
    zone ``tz``: of those that concern the debtor (a step of the plan acts on the
    debtor; the first contact that reached a guarantor is not the first that reached the
    debtor)."""
    for event in events:
        if concerns_debtor(event) and any(m.matches(event) for m in matchers):
            return in_zone(event.at, zone(tz))
    return None


def _waits_for(anchor: Anchor) -> str:
    """Why a step anchored on events has no anchor yet."""
    if len(anchor.events) == 1:
        return f"waits for the first {anchor} event"
    return f"waits for the first of these events: {anchor}"


def _condition_anchor(
    case: Case,
    events: Sequence[Event],
    stage: Stage,
    overdue_start: pendulum.DateTime,
    as_of: pendulum.DateTime,
    rules: PromiseRules,
    holds: Callable[[Mapping[str, Any]], bool] | None = None,
) -> pendulum.DateTime | None:
    """The first instant from ``overdue_start`` on at which the stage's condition holds
    (``events`` are the case's at or before ``as_of``, in time order); ``holds`` is the
    condition as a predicate, when the caller has it."""
    test = stage.when.evaluate if holds is None else holds
    if events and len(events) == len(case.events) and _fixed_offsets(events):
        return _sorted_condition_anchor(case, events, overdue_start, as_of, test)
    # A condition anchor reads only EVENT_FIELDS (checked at load), never promises.
    if overdue_start <= as_of and test(timeline_facts(case, overdue_start, rules, standing=False)):
        return overdue_start
    for event in events:
        if event.at > overdue_start and test(timeline_facts(case, event.at, rules, standing=False)):
            return in_zone(event.at, zone(case.timezone))
    return None


def _fixed_offsets(events: Sequence[Event]) -> bool:
    """Whether every one of ``events`` is at a fixed UTC offset (or in UTC): then its
    time compares with any instant as an instant (no wall time of such a zone is
    repeated), and the events at or before an instant are a prefix of them in time
    order."""
    utc = pendulum.UTC
    for event in events:
        tz = event.at.tzinfo
        if type(tz) not in _FIXED_OFFSET_TYPES and tz is not utc:
            return False
    return True


#: The types of the fixed UTC offsets an instant may carry.
_FIXED_OFFSET_TYPES = (pendulum.FixedTimezone, dt.timezone)


def _sorted_condition_anchor(
    case: Case,
    events: Sequence[Event],
    overdue_start: pendulum.DateTime,
    as_of: pendulum.DateTime,
    test: Callable[[Mapping[str, Any]], bool],
) -> pendulum.DateTime | None:
    """:func:`_condition_anchor` of a case all of whose ``events`` are at or before
    ``as_of``, each at a fixed offset (:func:`_fixed_offsets`): the events at or before
    each instant are a prefix of ``events``, read from them rather than sorted again."""
    count = len(events)
    if overdue_start <= as_of:
        end = 0
        while end < count and events[end].at <= overdue_start:
            end += 1
        if test(_timeline_facts(case, events[:end], None)):
            return overdue_start
    for index, event in enumerate(events):
        at = event.at
        if at > overdue_start:
            end = index + 1
            while end < count and events[end].at <= at:
                end += 1
            if test(_timeline_facts(case, events[:end], None)):
                return in_zone(at, zone(case.timezone))
    return None


#: Why a stage anchored on ``unreachable`` is skipped while the debtor can be reached,
#: when the stage gives no reason of its own.
REACHABLE_REASON = (
    "The debtor can be reached: no unreachable sign is in force (no manual unreachable "
    "signal, no invalid number, and fewer unanswered attempts in a row than "
    "unreachable_attempts, since the debtor was last reached)."
)


def _unreachable_now(facts: Mapping[str, Any]) -> bool:
    """Whether the decision's facts count the debtor unreachable."""
    count = facts.get(UNREACHABLE_FACT, 0)
    return isinstance(count, int) and count >= 1


def _reachable_ok(stage: Stage, facts: Mapping[str, Any]) -> bool:
    """Whether ``stage`` may apply as far as the debtor's reachability goes: a stage
    anchored on ``unreachable`` applies only while the decision counts the debtor
    unreachable."""
    return stage.anchor.kind is not AnchorKind.UNREACHABLE or _unreachable_now(facts)


def _skip_reason(stage: Stage, facts: Mapping[str, Any]) -> str | None:
    """Why ``stage`` is skipped: its own reason, or, for a stage anchored on
    ``unreachable`` while the debtor can be reached, :data:`REACHABLE_REASON`."""
    if stage.reason or _reachable_ok(stage, facts):
        return stage.reason
    return REACHABLE_REASON


def _unreachable_anchor(
    case: Case,
    overdue_start: pendulum.DateTime,
    as_of: pendulum.DateTime,
    policy: Policy,
    facts: Mapping[str, Any],
) -> pendulum.DateTime | None:
    """The anchor of a stage anchored on ``unreachable`` (see
    :class:`~collectrules.timeline.stages.Anchor`): while the decision counts the
    debtor unreachable (``facts``), the instant of its earliest sign in force, or
    ``overdue_start`` if that is later; otherwise the first instant, from
    ``overdue_start`` on, at which it did (:func:`first_unreachable`)."""
    if overdue_start > as_of:
        return None
    found: dt.datetime | None = None
    if _unreachable_now(facts):
        signs = unreachable_signs(case, as_of, policy)
        if signs:
            found = min((s.observed_at for s in signs), key=instant)
    if found is None:
        found = first_unreachable(case, overdue_start, as_of, policy)
    if found is None:
        return None
    if instant(found) <= instant(overdue_start):
        return overdue_start
    return in_zone(pendulum.instance(found), zone(case.timezone))


def _has_unreachable_signal(case: Case) -> bool:
    """Whether the case records an ``unreachable`` signal: then a stage anchored on
    ``unreachable`` may count from the signal, without any event."""
    return UNREACHABLE in [s.kind for s in case.signals]  # a list: faster than any()


def _completion(events: Sequence[Event], stage: Stage, anchor: pendulum.DateTime) -> Event | None:
    """The first of ``events`` from ``anchor`` on that completes the stage."""
    for event in events:
        if event.at >= anchor and stage.completed_by_event(event):
            return event
    return None


_Times = tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]


def _pauses(
    stage: Stage,
    anchor: pendulum.DateTime,
    done: Event | None,
    spans: Sequence[PauseSpan],
    promises: Sequence[Promise],
    times: Callable[[Stage, pendulum.DateTime], _Times],
    *,
    first: _Times | None = None,
) -> tuple[pendulum.DateTime, list[PauseSpan]]:
    """Stop the step's clock while promises hold it up.

    A promise holds a pausable step from when it is made (or the step's anchor, if
    later) to its end; the anchor moves later by that time, rounded up to whole days,
    so the step resumes with at least the time it had left. A step done before the
    promise, already breached when it was made, or opening only after it ends, is
    not held. ``spans`` are the pause spans of ``promises``; ``times`` gives the stage's
    times from an anchor; ``first`` is its times from ``anchor``, when the caller has them.
    """
    applied: list[PauseSpan] = []
    if not stage.pauses:
        return anchor, applied
    if stage.promise_wait_days is not None:
        wait = stage.promise_wait_days
        spans = pause_spans(
            [p for p in promises if (p.promised_date - p.made_at.date()).days <= wait]
        )
    start = anchor
    for span in spans:
        if done is not None and done.at <= span.start:
            break
        opens, due, limit = first if first is not None and anchor is start else times(stage, anchor)
        final = limit if limit is not None else due
        # As instants: the step's times and the span's share the case's zone object.
        if final is not None and (
            final < span.start if same_clock(final, span.start) else instant(final) < span.start
        ):
            continue  # already breached when the promise was made
        if opens >= span.end if same_clock(opens, span.end) else instant(opens) >= span.end:
            continue  # opens after the pause anyway
        anchor = _later_by_whole_days(anchor, span.end - later(span.start, anchor))
        applied.append(span)
    return anchor, applied


class _Builder:
    def __init__(
        self,
        case: Case,
        as_of: pendulum.DateTime,
        policy: Policy,
        section: TimelineSection,
        facts: Mapping[str, Any] | None = None,
    ) -> None:
        self.case = case
        self.policy = policy
        self.tz = case.timezone
        self.as_of = _local_as_of(policy, as_of, self.tz)
        #: ``as_of`` at its fixed offset, to compare with the steps' times: ``self.as_of``,
        #: in the case's zone object, would be compared with them by wall clock.
        self.now = instant(as_of)
        self.section = section
        #: The years the calendar computed by rule since the last :meth:`noting` (for
        #: the calendar warnings).
        calendar, self.by_rule = section.calendar.recording()
        self.section = attrs.evolve(section, calendar=calendar)
        #: Each year computed by rule without official data, with what used it.
        self.unpublished: dict[int, list[str]] = {}
        self.events = _events(case, as_of)
        # The facts the stage conditions read; the timeline section's own plug-in passes
        # those it has so far, which is every field a stage condition may read.
        self.facts = derive(case, as_of, policy).facts if facts is None else facts
        # A stage's times depend only on the stage and its anchor: shared by the cases
        # of one policy (a batch shares due dates), and bounded.
        self.times_cache: dict[Any, Any] = policy.memo("timeline_stage_times", dict)
        self.promises = (
            evaluate_promises(case, as_of, section.promises)
            if any(e.kind is EventKind.PROMISE_MADE for e in self.events)
            else ()
        )
        self.spans = pause_spans(self.promises)
        self.due_start = local_midnight(case.due_date, self.tz)
        self.overdue_start = local_midnight(_next_day(case.due_date), self.tz)
        #: Whether anything is owed: the plan's steps are skipped when nothing is.
        self.owed = _owed(case)

    def anchor(self, stage: Stage) -> tuple[pendulum.DateTime | None, str | None]:
        anchor = stage.anchor
        if anchor.kind is AnchorKind.DUE_DATE:
            return self.due_start, None
        if anchor.kind is AnchorKind.OVERDUE_START:
            return self.overdue_start, None
        if anchor.kind is AnchorKind.EVENT:
            found = _event_anchor(self.events, anchor.events, self.tz)
            return found, None if found is not None else _waits_for(anchor)
        if anchor.kind is AnchorKind.UNREACHABLE:
            found = _unreachable_anchor(
                self.case, self.overdue_start, self.now, self.policy, self.facts
            )
            waits = (
                "waits for the first day overdue"
                if self.overdue_start > self.now
                else "waits for the debtor to be unreachable"
            )
            return found, None if found is not None else waits
        found = _condition_anchor(
            self.case, self.events, stage, self.overdue_start, self.now, self.section.promises
        )
        return found, None if found is not None else "waits for its condition to hold"

    def times(
        self, stage: Stage, anchor: pendulum.DateTime
    ) -> tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]:
        key = (stage.plan, stage.id, anchor, anchor.fold, self.tz)  # fold: see state_facts
        found = self.times_cache.get(key)
        if found is not None:
            result, by_rule = found
            # The years this stage's times were computed by rule in, as if computed now.
            self.by_rule.update(by_rule)
            return result  # type: ignore[no-any-return]
        cal, tz = self.section.calendar, self.tz
        before = set(self.by_rule)
        opens, due, limit = _offset_times(stage, anchor, lambda o, at: o.apply(at, cal, tz))
        result = self.ordered(stage, opens, due, limit)
        if len(self.times_cache) >= _TIMES_CACHE_SIZE:
            self.times_cache.clear()
        self.times_cache[key] = (result, frozenset(self.by_rule - before))
        return result

    def ordered(
        self,
        stage: Stage,
        opens: pendulum.DateTime,
        due: pendulum.DateTime | None,
        limit: pendulum.DateTime | None,
    ) -> tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]:
        """Keep ``opens <= due <= limit`` (see :func:`_ordered`)."""
        return _ordered(stage, opens, due, limit, self.section.calendar, self.tz)

    def completion(self, stage: Stage, anchor: pendulum.DateTime) -> Event | None:
        return _completion(self.events, stage, anchor)

    def pauses(
        self, stage: Stage, anchor: pendulum.DateTime, done: Event | None
    ) -> tuple[pendulum.DateTime, list[PauseSpan]]:
        """Stop the step's clock while promises hold it up (see :func:`_pauses`)."""
        return _pauses(stage, anchor, done, self.spans, self.promises, self.times)

    def noting(self, what: str) -> None:
        """Note that ``what`` (a step, the deadlines) used the years just computed by rule."""
        for year in sorted(self.by_rule):
            self.unpublished.setdefault(year, []).append(what)
        self.by_rule.clear()

    def calendar_warnings(self) -> tuple[str, ...]:
        name = self.section.calendar.name
        return tuple(
            f"calendar {name} for {year} not published; computed by rule ({', '.join(used)})"
            for year, used in sorted(self.unpublished.items())
        )

    def step(
        self,
        stage: Stage,
        at: pendulum.DateTime | None = None,
        test: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> Step:
        """The step of ``stage``; ``at`` anchors it there instead of at its own anchor.

        ``test`` is the stage's condition as a predicate, when the caller has it. A stage
        of the plan (not anchored by ``at``: an emergency's) is skipped when nothing is
        owed (:data:`NOTHING_OVERDUE`), as when its condition is false.
        """
        anchor, waiting = (at, None) if at is not None else self.anchor(stage)
        owed = self.owed or at is not None
        applies = (
            owed
            and (stage.when.evaluate(self.facts) if test is None else test(self.facts))
            and (at is not None or _reachable_ok(stage, self.facts))
        )
        skipped = _skip_reason(stage, self.facts) if owed else NOTHING_OVERDUE
        if anchor is None:
            status = StepStatus.UPCOMING if applies else StepStatus.SKIPPED
            return Step(
                stage, status, None, None, None, None, reason=waiting if applies else skipped
            )
        done = self.completion(stage, anchor)
        moved, spans = self.pauses(stage, anchor, done)
        opens, due, limit = self.times(stage, moved)
        if spans and instant(opens) < spans[-1].end:
            # It resumes when the promise ends: nothing about it is earlier than that.
            opens, due, limit = self.ordered(stage, spans[-1].end, due, limit)
        window = None
        hours = self.section.contact_hours
        if stage.contact and hours is not None:
            window = hours.window(opens, due, self.tz)
        resumed = spans[-1].resume_note() if spans else None
        # Each step is built once, with its status (as ``attrs.evolve`` of an upcoming
        # step with the times would give it, at less cost).
        if done is not None:
            done_at = done.at.in_timezone(self.tz)
            return Step(
                stage,
                StepStatus.DONE,
                moved,
                opens,
                due,
                limit,
                done_at=done_at,
                done_by=done,
                on_time=due is None or instant(done.at) <= due,
                reason=resumed,
                contact_window=window,
            )
        if not applies:
            return Step(
                stage,
                StepStatus.SKIPPED,
                moved,
                opens,
                due,
                limit,
                reason=skipped,
                contact_window=window,
            )
        now = self.now
        current = next((s for s in spans if s.start <= now < s.end), None)
        if current is not None:
            return Step(
                stage,
                StepStatus.PAUSED,
                moved,
                opens,
                due,
                limit,
                reason=current.pause_note(),
                paused_until=current.end,
                contact_window=window,
            )
        if now < opens:
            status = StepStatus.UPCOMING
        elif due is None or now <= due:
            status = StepStatus.OPEN
        elif limit is not None and now <= limit:
            status = StepStatus.LATE
        else:
            status = StepStatus.BREACHED
        return Step(stage, status, moved, opens, due, limit, reason=resumed, contact_window=window)


def build_timeline(
    case: Case,
    *,
    as_of: dt.datetime | str,
    policy: Policy | str | Path,
    derived: Derived | None = None,
) -> Timeline:
    """The timeline of ``case`` at ``as_of`` under ``policy`` (see the module docstring):
    a :class:`~collectrules.policy.Policy`, or a shipped policy's name or a policy
    file's path, as :func:`~collectrules.policy.load_policy` reads it.

    ``Engine.timeline(case, as_of=…)`` calls this with the engine's policy. ``derived``
    is the case's derivation at the same ``as_of`` under the same policy, when the
    caller has it (``Engine.worklist`` decides the case from it too): the stage
    conditions read its facts, and the case is not derived a second time. A derivation
    at another instant, of another case id or under another policy (by content hash)
    is an :class:`InputError` naming what differs.
    """
    when = require_aware(as_of)
    require_case(case)
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    section = timeline_section(policy)
    facts: Mapping[str, Any] | None = None
    if derived is not None:
        require_instance(derived, Derived, "derived", "the case's Derived facts or None")
        if derived.as_of != when:
            msg = (
                f"the derivation is at {derived.as_of.isoformat()}, the timeline at "
                f"{when.isoformat()}: derive the case at the timeline's as_of"
            )
            raise InputError([FieldProblem("derived.as_of", msg)])
        if derived.case_id != case.case_id:
            msg = (
                f"the derivation is of case {quote(derived.case_id)}, the timeline of case"
                f" {quote(case.case_id)}: derive the timeline's case"
            )
            raise InputError([FieldProblem("derived.case_id", msg)])
        if derived.policy_hash != policy.content_hash:
            msg = (
                f"the derivation was made under another policy than {policy.ref}"
                f" (content hash {derived.policy_hash[:12] or 'none'}…, expected"
                f" {policy.content_hash[:12]}…): derive the case under the timeline's policy"
            )
            raise InputError([FieldProblem("derived.policy_hash", msg)])
        facts = derived.facts
    builder = _Builder(case, when, policy, section, facts)
    plan = section.plan_for(case.product)
    steps: list[Step] = []
    for stage in plan.stages if plan is not None else ():
        steps.append(builder.step(stage))
        builder.noting(stage.id)
    emergencies = _emergencies(case, builder.now, policy)
    if emergencies:
        steps = [_held(step, emergencies, builder.now) for step in steps]
        for emergency in emergencies:
            for stage in emergency.spec.stages:
                steps.append(builder.step(stage, emergency.at))
                builder.noting(stage.id)
    deadlines = legal_deadlines(case, when, builder.section)
    builder.noting("legal deadlines")
    hours = section.contact_hours
    return Timeline(
        case_id=case.case_id,
        product=str(case.product),
        policy=policy.ref,
        as_of=builder.as_of,
        timezone=case.timezone,
        calendar=section.calendar.name,
        contact_hours=None if hours is None else hours.text,
        overdue_start=builder.overdue_start,
        plan=None if plan is None else plan.name,
        steps=tuple(steps),
        deadlines=deadlines,
        promises=builder.promises,
        calendar_warnings=builder.calendar_warnings(),
        emergencies=emergencies,
    )


def _emergencies(case: Case, as_of: pendulum.DateTime, policy: Policy) -> tuple[Emergency, ...]:
    section = emergencies_of(policy)
    return () if section is None else open_emergencies(case, as_of, section)


def _held(step: Step, emergencies: tuple[Emergency, ...], as_of: pendulum.DateTime) -> Step:
    """``step`` as the emergencies leave it: stopped, paused, or as it was.

    A step done, or skipped by its own condition, stays so. A step on a channel an
    emergency stops is skipped from the emergency's instant on; one on a channel an open
    emergency pauses is paused while it is open. ``held`` keeps the status it had.
    """
    if step.status in (StepStatus.DONE, StepStatus.SKIPPED):
        return step
    channel = step.stage.channel
    for emergency in emergencies:
        if channel in emergency.spec.stops:
            return attrs.evolve(
                step,
                status=StepStatus.SKIPPED,
                held=step.status,
                reason=f"stopped by the emergency {emergency.describe()}: no {channel.value} "
                "step after it",
            )
    for emergency in emergencies:
        if emergency.open and channel in emergency.spec.pauses:
            return attrs.evolve(
                step,
                status=StepStatus.PAUSED,
                held=step.status,
                reason=f"paused while the emergency {emergency.describe()} is open",
            )
    return step


# --------------------------------------------------------------------------- state facts

assert (*(s.value for s in StepStatus), "none") == STEP_STATES


def state_facts(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    facts: Mapping[str, Any],
    needed: frozenset[str],
) -> dict[str, Any]:
    """The timeline's state as facts that remedy rules read, at ``as_of``.

    ``facts`` are the case's facts so far (what the stage conditions read); ``needed``
    the state fields the policy's rules read: the steps are evaluated only when a step,
    plan or phase field is needed, and the legal deadlines only when a deadline field
    is. See :data:`~collectrules.timeline.stages.STATE_FIELDS`.
    """
    return _overlaid_state_facts(case, as_of, policy, facts, {}, needed)


def _overlaid_state_facts(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    facts: Mapping[str, Any],
    own: Mapping[str, Any],
    needed: frozenset[str],
) -> dict[str, Any]:
    """:func:`state_facts` of the facts ``{**facts, **own}`` (the derivation's facts so
    far, and the timeline's own contact, promise and payment facts), without merging
    them all: a case without events whose state is kept reads only its stage
    conditions' fields, ``dpd`` and ``unreachable`` (:func:`_stage_fields`), which are
    taken alone. The merged facts are made only for what reads more (a case with
    events, a state not yet kept, the steps anchored on ``unreachable``)."""
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection) or not needed:
        return {}
    merged: Mapping[str, Any] | None = None if own else facts

    def everything() -> Mapping[str, Any]:
        nonlocal merged
        if merged is None:
            merged = {**facts, **own}
        return merged

    tested: dict[str, Any] = {}
    for name in _stage_fields(policy, section):
        if name in own:
            tested[name] = own[name]
        elif name in facts:
            tested[name] = facts[name]
    out: dict[str, Any] = {}
    # Without events, the state is a function of the case's dates, product, dpd and
    # whether each stage's condition holds: the facts reach the steps only through
    # those conditions (``_Builder.step``), so cases of one batch share it (bounded
    # cache) even when a condition reads a fact of their own, such as an amount.
    cache: dict[Any, dict[str, Any]] = policy.memo("timeline_state_cache", dict)
    steps, deadlines = _wanted(needed)
    if steps and case.events:
        # The steps of a case with events read the events: computed afresh.
        out.update(_step_facts(case, as_of, policy, section, everything()))
    elif steps:
        key: tuple[Any, ...] = (
            "steps",
            case.product,
            case.due_date,
            case.timezone,
            as_of,
            as_of.fold,  # one tzinfo compares wall times: 01:30 twice would be equal
            tested.get("dpd"),
            _owed(case),
            tuple([test(tested) for test in _stage_tests(policy, section, case.product)]),
        )
        # The shared entry holds the steps anchored on ``unreachable`` skipped, as for a
        # debtor who can be reached: such a step reads the instant of the case's own
        # unreachable sign, and is judged for this case alone (_unreachable_steps).
        plan = section.plan_for(case.product)
        out.update(
            _cached(
                cache,
                key,
                lambda: _plain_step_facts(case, as_of, policy, section, everything(), plan),
            )
        )
        if _has_unreachable_signal(case) or _unreachable_now(tested):
            _unreachable_steps(out, case, as_of, policy, section, everything())
    if deadlines:
        # The deadlines read only some events, and only some of their fields: those
        # are in the key (``deadline_reads``), and a case whose events no deadline
        # reads shares the entry of the cases without events.
        events = case_events(policy, case, as_of).events if case.events else ()
        kinds: frozenset[EventKind] = policy.memo(
            "timeline_deadline_kinds", lambda: deadline_kinds(section)
        )
        read = (
            deadline_reads(case, events, section, kinds=kinds)
            if any(e.kind in kinds for e in events)
            else ()
        )
        rules = section.deadlines
        key = (
            "deadlines",
            # A deadline may apply to some products only: which ones apply to this case,
            # not its product, so that every product they all apply to shares an entry
            # (the product in the key filled the cache four times as fast, and each
            # clearing of it took the steps' entries too: half the rate of deciding).
            _deadlines_applying(policy, rules, case.product),
            case.due_date,
            case.maturity_date,
            case.timezone,
            as_of,
            as_of.fold,
            tuple((g.id, g.name, g.agreed_period_months) for g in case.guarantors),
            read,
        )
        out.update(_cached(cache, key, lambda: deadline_facts(case, as_of, section, events)))
    return out


def _deadlines_applying(policy: Policy, rules: Any, product: str) -> tuple[bool, ...]:
    """Whether each legal deadline (limitation, guarantee, enforcement, records)
    applies to ``product``: one answer per policy and product."""
    known: dict[str, tuple[bool, ...]] = policy.memo("timeline_deadlines_applying", dict)
    found = known.get(product)
    if found is None:
        found = tuple(
            rule.applies_to(product)
            for rule in (rules.limitation, rules.guarantee, rules.enforcement, rules.records)
        )
        if len(known) >= _MAX_PRODUCTS:
            known.clear()
        known[product] = found
    return found


def _stage_fields(policy: Policy, section: TimelineSection) -> frozenset[str]:
    """Every field a state kept for cases without events reads from the facts: the
    fields of every stage condition of every plan, ``dpd`` and ``unreachable`` (one
    answer per policy)."""
    found: frozenset[str] = policy.memo("timeline_stage_fields", lambda: _read_by(section))
    return found


def _read_by(section: TimelineSection) -> frozenset[str]:
    read = {"dpd", UNREACHABLE_FACT}
    for plan in section.plans.values():
        for stage in plan.stages:
            read |= stage.when.fields()
    return frozenset(read)


#: At most this many products' answers are kept per policy (:func:`_deadlines_applying`).
_MAX_PRODUCTS = 256


@functools.lru_cache(maxsize=64)
def _wanted(needed: frozenset[str]) -> tuple[bool, bool]:
    """Whether the state fields ``needed`` include a step, plan or phase field, and
    whether they include a deadline field (one answer per policy)."""
    deadline = ("limitation_", "guarantee_")
    return (
        any(not name.startswith(deadline) for name in needed),
        any(name.startswith(deadline) for name in needed),
    )


def _stage_tests(
    policy: Policy, section: TimelineSection, product: str
) -> tuple[Callable[[Mapping[str, Any]], bool], ...]:
    """Each stage condition of the plan ``product`` follows, as a predicate (it agrees
    with ``Condition.evaluate``), compiled once per policy and product."""
    tests: dict[str, Any] = policy.memo("timeline_stage_tests", dict)
    found = tests.get(product)
    if found is None:
        plan = section.plan_for(product)
        found = tests[product] = (
            () if plan is None else tuple(unchecked_predicate(stage.when) for stage in plan.stages)
        )
    return found


#: At most this many timeline states are kept per policy (see :func:`state_facts`).
_STATE_CACHE_SIZE = 4096


def _cached(cache: dict[Any, dict[str, Any]], key: Any, build: Any) -> dict[str, Any]:
    found = cache.get(key)
    if found is None:
        found = build()
        if len(cache) >= _STATE_CACHE_SIZE:
            cache.clear()
        cache[key] = found
    return found


def _step_facts(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    section: TimelineSection,
    facts: Mapping[str, Any],
) -> dict[str, Any]:
    plan = section.plan_for(case.product)
    if not case.events:
        out = _plain_step_facts(case, as_of, policy, section, facts, plan)
        if _has_unreachable_signal(case) or _unreachable_now(facts):
            _unreachable_steps(out, case, as_of, policy, section, facts)
        return out
    return _event_step_facts(case, as_of, policy, section, facts, plan)


#: The statuses of a step that is under way, and the count of steps each adds to.
_COUNTED = {"open": "steps_open", "late": "steps_late", "breached": "steps_breached"}


def _plain_status(
    stage: Stage,
    anchor: pendulum.DateTime,
    applies: bool,
    at: pendulum.DateTime,
    calendar: BusinessCalendar,
    tz: str,
) -> tuple[str, bool]:
    """The status at ``at`` of a step of a case without events anchored at ``anchor``,
    and whether its escalation point has passed (for an escalation stage, whether it
    applies or not)."""
    opens, due, limit = _plain_times(stage, anchor, calendar, tz)
    passed = stage.escalation and (
        (due is not None and at > due) if stage.within is not None else at >= opens
    )
    if not applies:
        return "skipped", passed
    if at < opens:
        return "upcoming", passed
    if due is None or at <= due:
        return "open", passed
    if limit is not None and at <= limit:
        return "late", passed
    return "breached", passed


def _record_plain(
    out: dict[str, Any],
    stage: Stage,
    field: str,
    plan_field: str | None,
    anchor: pendulum.DateTime | None,
    applies: bool,
    at: pendulum.DateTime,
    calendar: BusinessCalendar,
    tz: str,
) -> bool:
    """Record in ``out`` the status at ``at`` of a step of a case without events
    (:func:`_plain_status`; without an anchor, ``upcoming`` if it applies, else
    ``skipped``): its field ``field``, one more in the count of its status
    (``steps_open``, ``steps_late`` or ``steps_breached``, which ``out`` holds) and, for
    an actionable step, its remedy's ``plan_field``. Returns whether its escalation
    point has passed."""
    if anchor is None:
        out[field] = "upcoming" if applies else "skipped"
        return False
    status, passed = _plain_status(stage, anchor, applies, at, calendar, tz)
    out[field] = status
    if status in _COUNTED:
        out[_COUNTED[status]] += 1
        if plan_field is not None:
            out[plan_field] = True
    return passed


def _unreachable_steps(
    out: dict[str, Any],
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    section: TimelineSection,
    facts: Mapping[str, Any],
) -> None:
    """Judge, in ``out`` (the step facts :func:`_plain_step_facts` gives a case without
    events, each step anchored on ``unreachable`` skipped), the case's steps anchored on
    ``unreachable`` from the instant of its unreachable sign, as
    :func:`_event_step_facts` judges them (without events there is no completion, no
    pause and no emergency): each step's status, the counts of steps open, late and
    breached, the ``plan_`` field of its remedy and, for an escalation stage, the
    phase."""
    rows = [
        (stage, field, test, plan_field)
        for stage, field, test, _, plan_field in _plain_stages(policy, section, case, case.product)
        if stage.anchor.kind is AnchorKind.UNREACHABLE
    ]
    if not rows:
        return
    tz = case.timezone
    at = instant(as_of)  # as in _plain_step_facts
    overdue_start = local_midnight(_next_day(case.due_date), tz)
    calendar = section.calendar
    owed = _owed(case)
    anchor = _unreachable_anchor(case, overdue_start, at, policy, facts)
    escalated = False
    for stage, field, test, plan_field in rows:
        applies = owed and test(facts) and _reachable_ok(stage, facts)
        if _record_plain(out, stage, field, plan_field, anchor, applies, at, calendar, tz):
            escalated = True
    if escalated and facts.get("dpd", 0):
        out["phase"] = "P3"


def _plain_step_facts(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    section: TimelineSection,
    facts: Mapping[str, Any],
    plan: StagePlan | None,
) -> dict[str, Any]:
    """:func:`_step_facts` of a case without events: each step's status alone.

    Without events there is no completion, no promise, no pause and no emergency: a
    stage anchored on the due date or the first day overdue counts from it, one
    anchored on its condition counts from the first day overdue if the condition holds
    then (on the event facts, which are all zero), and one anchored on an event waits.
    This is what :meth:`_Builder.step` gives, without building the step, the builder or
    its recording calendar: the same times, compared with the same ``as_of``.
    """
    out: dict[str, Any] = dict(policy.memo("timeline_state_base", lambda: _state_base(section)))
    # After every step and plan field (the base holds them all): the facts' key order.
    out["steps_open"] = out["steps_late"] = out["steps_breached"] = 0
    escalated = False
    if plan is not None:
        tz = case.timezone
        # At its fixed offset: compared with the steps' times, in the case's zone object,
        # as an instant (``_Builder.now``).
        at = instant(as_of)
        due_start = local_midnight(case.due_date, tz)
        overdue_start = local_midnight(_next_day(case.due_date), tz)
        calendar = section.calendar
        owed = _owed(case)
        for stage, field, test, anchor_kind, plan_field in _plain_stages(
            policy, section, case, case.product
        ):
            anchor: pendulum.DateTime | None
            if anchor_kind is AnchorKind.DUE_DATE:
                anchor = due_start
            elif anchor_kind is AnchorKind.OVERDUE_START or (
                anchor_kind is AnchorKind.CONDITION and overdue_start <= at
            ):
                anchor = overdue_start
            else:  # an event anchor, or a condition that does not hold without events
                anchor = None  # (or unreachable: without events or signals, never)
            # A step anchored on ``unreachable`` is skipped here, as for a debtor who can
            # be reached: _unreachable_steps judges it for a case with an unreachable sign.
            applies = owed and test(facts) and stage.anchor.kind is not AnchorKind.UNREACHABLE
            if _record_plain(out, stage, field, plan_field, anchor, applies, at, calendar, tz):
                escalated = True
    dpd = facts.get("dpd", 0)
    out["phase"] = "P1" if not dpd else ("P3" if escalated else "P2")
    return out


#: The epoch, in UTC: instants as whole microseconds since it (:func:`step_bounds`).
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The earliest anchor :func:`step_bounds` takes: 1800-01-01, in microseconds since the
#: epoch (a case's dates lie from 1900 on; offsets back from earlier run off the calendar).
_EARLIEST_US = (dt.datetime(1800, 1, 1, tzinfo=dt.UTC) - _EPOCH_UTC) // dt.timedelta(microseconds=1)


def step_bounds(
    policy: Policy, stage: Stage, tz: str, as_of: dt.datetime, earliest: int
) -> tuple[int, int, int]:
    """Where the status at ``as_of`` of ``stage`` (a stage of ``policy``'s timeline, in a
    case of the zone ``tz``, with no event) changes with its anchor: three anchors, in
    microseconds since the epoch, ``(upcoming, open, late)``.

    A step that applies, anchored at ``a`` (from ``earliest`` to ``as_of``), is
    ``upcoming`` from the first bound on, ``open`` from the second (below the first),
    ``late`` from the third (below the second) and ``breached`` below the third: as
    :func:`_event_step_facts` judges it, by :func:`_plain_times`. Each time a stage's
    offsets give moves forward with its anchor (on a calendar too), so each test the
    status makes turns true at one anchor and stays true after it: the bound is found
    by halving. A bound past ``as_of`` (``as_of`` + 1 µs) is one no anchor reaches.
    Lets a table judge many steps with comparisons (the columnar engine's steps
    anchored on ``unreachable``, whose anchors differ from row to row).

    Only a stage whose offsets all count hours (:func:`hourly`) has such bounds: days,
    weeks, months and business days follow the wall clock, and where the zone's clocks
    change they move back as the anchor moves on ("1 day" after 02:30 on the eve of the
    night the clocks go forward reads 03:30, after 03:00 reads 03:00). Another stage is
    refused with an :class:`InputError` naming ``stage``."""
    when = require_aware(as_of)
    require_instance(policy, Policy, "policy", "a Policy")
    section = timeline_section(policy)
    require_instance(stage, Stage, "stage", "a Stage")
    tz = require_zone(tz, "tz")
    if not any(stage == s for p in section.plans.values() for s in p.stages):
        raise InputError([FieldProblem("stage", "expected a stage of the policy's timeline")])
    if not hourly(stage):
        msg = (
            f"expected a stage whose offsets all count hours, got {quote(stage.id)}: its "
            "times follow the wall clock, which does not move forward with the anchor "
            "where the zone's clocks change"
        )
        raise InputError([FieldProblem("stage", msg)])
    calendar = section.calendar
    place = zone(tz)
    at = instant(when)
    last = micros(when)
    first = min(require_int(earliest, "earliest", minimum=_EARLIEST_US), last)

    def times(us: int) -> _Times:
        anchor = in_zone(pendulum.instance(_EPOCH_UTC + dt.timedelta(microseconds=us)), place)
        return _plain_times(stage, anchor, calendar, tz)

    def upcoming(us: int) -> bool:
        return at < times(us)[0]

    def open_(us: int) -> bool:
        due = times(us)[1]
        return due is None or at <= due

    def late(us: int) -> bool:
        limit = times(us)[2]
        return limit is not None and at <= limit

    return _least(upcoming, first, last), _least(open_, first, last), _least(late, first, last)


def hourly(stage: Stage) -> bool:
    """Whether every offset of ``stage`` (``after``, ``within``, ``limit``) counts hours:
    then each of its times is its anchor plus a fixed span, and moves forward with it
    (what :func:`step_bounds` needs)."""
    return all(
        offset is None or offset.unit is OffsetUnit.HOURS
        for offset in (stage.after, stage.within, stage.limit)
    )


def micros(at: dt.datetime) -> int:
    """The aware instant ``at`` in whole microseconds since the epoch (exact: no float).

    Any aware instant: not only one an ``as_of`` may name (the columnar engine asks for
    the first day overdue of a due date of 2200-12-31, which begins in 2201)."""
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        raise wrong_kind("at", at, "an aware datetime")
    u = at.astimezone(dt.UTC)
    plain = dt.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=dt.UTC
    )
    return (plain - _EPOCH_UTC) // dt.timedelta(microseconds=1)


def _least(test: Callable[[int], bool], first: int, last: int) -> int:
    """The least ``n`` from ``first`` to ``last`` for which ``test`` (false, then true
    from some ``n`` on) is true; ``last + 1`` when it never is."""
    if not test(last):
        return last + 1
    low, high = first, last
    while low < high:
        middle = (low + high) // 2
        if test(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _event_step_facts(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    section: TimelineSection,
    facts: Mapping[str, Any],
    plan: StagePlan | None,
) -> dict[str, Any]:
    """:func:`_step_facts` of a case with events: each step's status alone.

    The same anchors, completions, pauses and times as :meth:`_Builder.step`, the same
    statuses, and the same holds by emergencies as :func:`_held`; without the builder,
    the :class:`Step` objects and what only the timeline shows (reasons, notes, contact
    windows, calendar warnings). The events are sorted, and the promises judged, once
    for the derivation; the times of the stages that count from the due date or the
    first day overdue are remembered per product, due date and zone.
    """
    out: dict[str, Any] = dict(policy.memo("timeline_state_base", lambda: _state_base(section)))
    opened = late = breached = 0
    escalated = False
    if plan is not None:
        tz = case.timezone
        at = instant(as_of)  # as in _plain_step_facts
        events = case_events(policy, case, as_of).events
        rules = section.promises
        promises = (
            promises_at(policy, case, as_of, rules)
            if any(e.kind is EventKind.PROMISE_MADE for e in events)
            else ()
        )
        spans = pause_spans(promises) if promises else ()
        emergency_section = emergencies_of(policy)
        emergencies = (
            ()
            if emergency_section is None
            # Worked out once for the derivation (the emergencies' facts read them too),
            # at this very as_of: ``at`` is it when as_of is at its fixed offset.
            else emergencies_now(policy, case, as_of, emergency_section)
            if at is as_of
            else open_emergencies(case, at, emergency_section)
        )
        due_start = local_midnight(case.due_date, tz)
        overdue_start = local_midnight(_next_day(case.due_date), tz)
        calendar = section.calendar
        known = _plan_times(policy, case.product, case.due_date, tz, len(plan.stages))
        owed = _owed(case)

        def times(stage: Stage, anchor: pendulum.DateTime) -> _Times:
            return _plain_times(stage, anchor, calendar, tz)

        # ``at`` with the standard library's fixed offset, to compare with the steps'
        # times: the same instant, compared as one, without calling pendulum's offset.
        now = stdlib_fixed(at)
        rows, groups = _event_stages(policy, section, case.product)
        # The events that complete the stages of each group (same ``completed_by``), in
        # time order: most events complete no stage, and stages share their events.
        completing: list[list[Event] | None] = [None] * len(groups)
        for index, (stage, field, test, plan_field, group, quiet) in enumerate(rows):
            applies = owed and test(facts) and _reachable_ok(stage, facts)
            if not applies and quiet:
                # A step that does not apply is done if an event from its anchor on
                # completes it, else skipped: with nothing that can complete it, skipped
                # whatever its anchor (held or not), and its times are not needed.
                candidates = completing[group]
                if candidates is None:
                    candidates = completing[group] = _completing(events, groups[group])
                if not candidates:
                    out[field] = "skipped"
                    continue
            anchor: pendulum.DateTime | None
            kind = stage.anchor.kind
            if kind is AnchorKind.DUE_DATE:
                anchor = due_start
            elif kind is AnchorKind.OVERDUE_START:
                anchor = overdue_start
            elif kind is AnchorKind.EVENT:
                anchor = _event_anchor(events, stage.anchor.events, tz)
            elif kind is AnchorKind.UNREACHABLE:
                anchor = _unreachable_anchor(case, overdue_start, at, policy, facts)
            else:
                anchor = _condition_anchor(case, events, stage, overdue_start, at, rules, test)
            passed = False
            if anchor is None:
                status = StepStatus.UPCOMING if applies else StepStatus.SKIPPED
            else:
                # The first completing event from the anchor on (``_completion``).
                candidates = completing[group]
                if candidates is None:
                    candidates = completing[group] = _completing(events, groups[group])
                done = None
                for event in candidates:
                    if event.at >= anchor:
                        done = event
                        break
                if not applies and quiet:
                    # Done or skipped, whatever its times (an emergency holds neither).
                    out[field] = "skipped" if done is None else "done"
                    continue
                found = None
                if kind in _FIXED_ANCHORS:
                    found = known[index]
                    if found is None:
                        found = known[index] = times(stage, anchor)
                moved, applied = (
                    _pauses(stage, anchor, done, spans, promises, times, first=found)
                    if spans and stage.pauses
                    else (anchor, ())
                )
                if moved is anchor and found is not None:
                    opens, due, limit = found
                else:
                    opens, due, limit = times(stage, moved)
                if applied and instant(opens) < applied[-1].end:
                    opens, due, limit = _ordered(stage, applied[-1].end, due, limit, calendar, tz)
                if done is not None:
                    status = StepStatus.DONE
                elif not applies:
                    status = StepStatus.SKIPPED
                elif applied and any(s.start <= now < s.end for s in applied):
                    status = StepStatus.PAUSED
                elif now < opens:
                    status = StepStatus.UPCOMING
                elif due is None or now <= due:
                    status = StepStatus.OPEN
                elif limit is not None and now <= limit:
                    status = StepStatus.LATE
                else:
                    status = StepStatus.BREACHED
                # the escalation point (the deadline of a stage with one, else the
                # moment it opens) has passed: the step's times are the same when held.
                if stage.escalation:
                    if stage.within is not None:
                        passed = due is not None and now > due
                    else:
                        passed = now >= opens
            if emergencies:
                status = _held_status(status, stage, emergencies)
            out[field] = status._value_  # the value, without the cost of the property
            if status in ACTIONABLE:
                if status is StepStatus.OPEN:
                    opened += 1
                elif status is StepStatus.LATE:
                    late += 1
                else:
                    breached += 1
                if plan_field is not None:
                    out[plan_field] = True
            if passed:
                escalated = True
    out["steps_open"] = opened
    out["steps_late"] = late
    out["steps_breached"] = breached
    dpd = facts.get("dpd", 0)
    out["phase"] = "P1" if not dpd else ("P3" if escalated else "P2")
    return out


def _completing(events: Sequence[Event], completions: _Completions) -> list[Event]:
    """The ``events`` (in time order) that complete the stages of one group: of the
    group's kinds or (kind, outcome) pairs, and concerning the debtor unless an event
    of any party completes them."""
    kinds, pairs, anyone = completions
    return [
        e
        for e in events
        if (e.kind in kinds or (e.kind, e.outcome) in pairs) and (anyone or concerns_debtor(e))
    ]


#: The anchors whose instant is a function of the due date and the zone alone.
_FIXED_ANCHORS = frozenset({AnchorKind.DUE_DATE, AnchorKind.OVERDUE_START})

#: At most this many products, due dates and zones have their stage times remembered
#: per policy (see :func:`_plan_times`).
_PLAN_TIMES_SIZE = 4096


def _plan_times(
    policy: Policy, product: str, due_date: dt.date, tz: str, stages: int
) -> list[_Times | None]:
    """The times of each stage of the plan ``product`` follows that counts from the due
    date or the first day overdue, for cases due on ``due_date`` in the zone ``tz``, as
    far as worked out (``None`` for the others, and those not yet needed): the anchors
    are the same instants for all such cases (:func:`local_midnight`), and so are
    their times."""
    table: dict[Any, list[_Times | None]] = policy.memo("timeline_event_plan_times", dict)
    key = (product, due_date, tz)
    found = table.get(key)
    if found is None:
        if len(table) >= _PLAN_TIMES_SIZE:
            table.clear()
        found = table[key] = [None] * stages
    return found


def _held_status(
    status: StepStatus, stage: Stage, emergencies: tuple[Emergency, ...]
) -> StepStatus:
    """The status :func:`_held` leaves a step of ``stage`` with ``status``."""
    if status is StepStatus.DONE or status is StepStatus.SKIPPED:
        return status
    channel = stage.channel
    if any(channel in emergency.spec.stops for emergency in emergencies):
        return StepStatus.SKIPPED
    if any(emergency.open and channel in emergency.spec.pauses for emergency in emergencies):
        return StepStatus.PAUSED
    return status


#: A stage as :func:`_event_step_facts` reads it: the stage, its step field, its
#: condition as a predicate, its plan field, its group (the index of what completes it
#: among the plan's ``_Completions``), and whether, when it does not apply, its status
#: reads neither its times nor its anchor beyond whether an event completes it
#: (:func:`_quiet_when_skipped`).
_EventStage = tuple[Stage, str, Callable[[Mapping[str, Any]], bool], str | None, int, bool]

#: What completes the stages of a group: the event kinds that do whatever their outcome,
#: the (kind, outcome) pairs that do, and whether an event of another party than the
#: debtor does (:attr:`Stage.any_party`).
_Completions = tuple[frozenset[EventKind], frozenset[tuple[EventKind, ContactOutcome]], bool]


def _event_stages(
    policy: Policy, section: TimelineSection, product: str
) -> tuple[tuple[_EventStage, ...], tuple[_Completions, ...]]:
    """The stages of the plan ``product`` follows, for cases with events, and what
    completes each group of them (once per policy and product)."""
    table: dict[str, Any] = policy.memo("timeline_event_stages", dict)
    found: tuple[tuple[_EventStage, ...], tuple[_Completions, ...]] | None = table.get(product)
    if found is None:
        plan = section.plan_for(product)
        groups: dict[_Completions, int] = {}
        rows: list[_EventStage] = []
        for stage, test in zip(
            () if plan is None else plan.stages,
            _stage_tests(policy, section, product),
            strict=True,
        ):
            completions = (
                frozenset(m.kind for m in stage.completed_by if m.outcome is None),
                frozenset((m.kind, m.outcome) for m in stage.completed_by if m.outcome is not None),
                stage.any_party,
            )
            group = groups.setdefault(completions, len(groups))
            remedy = None if stage.remedy is None else f"plan_{stage.remedy}"
            rows.append(
                (stage, step_field(stage.id), test, remedy, group, _quiet_when_skipped(stage))
            )
        found = table[product] = (tuple(rows), tuple(groups))
    return found


def _quiet_when_skipped(stage: Stage) -> bool:
    """Whether a step of ``stage`` that does not apply may be judged without its times:
    it is then done (an event from its anchor on completes it) or skipped, and an
    emergency holds neither; what its times would still give is whether an escalation
    point has passed (not for a stage that is no escalation point), and the error of a
    calendar without the year a business-day offset lands in (not for a stage whose
    offsets count no business days)."""
    return not stage.escalation and all(
        offset is None or offset.unit is not OffsetUnit.BUSINESS_DAYS
        for offset in (stage.after, stage.within, stage.limit)
    )


#: A stage as :func:`_plain_step_facts` reads it: the stage, its step field, its
#: condition as a predicate, its anchor kind (a condition anchor that cannot hold
#: without events counts as an event anchor: it waits) and its plan field.
_PlainStage = tuple[Stage, str, Callable[[Mapping[str, Any]], bool], AnchorKind, str | None]


def _plain_stages(
    policy: Policy, section: TimelineSection, case: Case, product: str
) -> tuple[_PlainStage, ...]:
    """The stages of the plan ``product`` follows, for cases without events (once per
    policy and product)."""
    table: dict[str, tuple[_PlainStage, ...]] = policy.memo("timeline_plain_stages", dict)
    found = table.get(product)
    if found is None:
        plan = section.plan_for(product)
        # What a condition anchor reads when there are no events: the same for all.
        # (Only cases without events come here.)
        quiet = timeline_facts(case, _EPOCH, section.promises)
        rows: list[_PlainStage] = []
        for stage, test in zip(
            () if plan is None else plan.stages,
            _stage_tests(policy, section, product),
            strict=True,
        ):
            kind = stage.anchor.kind
            if (
                kind is AnchorKind.CONDITION and not stage.when.evaluate(quiet)
            ) or kind is AnchorKind.UNREACHABLE:
                kind = AnchorKind.EVENT
            remedy = None if stage.remedy is None else f"plan_{stage.remedy}"
            rows.append((stage, step_field(stage.id), test, kind, remedy))
        found = table[product] = tuple(rows)
    return found


_EPOCH = pendulum.datetime(2000, 1, 1)


def _local_as_of(policy: Policy, as_of: pendulum.DateTime, tz: str) -> pendulum.DateTime:
    """``as_of`` in the zone ``tz``, as :class:`_Builder` has it (remembered per policy)."""
    seen: dict[Any, pendulum.DateTime] = policy.memo("timeline_local_as_of", dict)
    key = (as_of, as_of.fold, tz)  # fold: see state_facts
    found = seen.get(key)
    if found is None:
        if len(seen) >= 64:
            seen.clear()
        found = seen[key] = as_of.in_timezone(tz)
    return found


def _plain_times(
    stage: Stage, anchor: pendulum.DateTime, calendar: BusinessCalendar, tz: str
) -> tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]:
    """:meth:`_Builder.times` for ``anchor``, an instant in the zone ``tz``: the same
    instants (see :func:`_shift`), compared as instants."""
    opens, due, limit = _offset_times(stage, anchor, lambda o, at: _shift(o, at, calendar, tz))
    return _ordered(stage, opens, due, limit, calendar, tz)


#: A day back, and a day on: months overdue count from the due date (:func:`_offset_times`).
_DAY_BACK = Offset(-1, OffsetUnit.DAYS)
_DAY_ON = Offset(1, OffsetUnit.DAYS)


def _offset_times(
    stage: Stage,
    anchor: pendulum.DateTime,
    apply: Callable[[Offset, pendulum.DateTime], pendulum.DateTime],
) -> tuple[pendulum.DateTime, pendulum.DateTime | None, pendulum.DateTime | None]:
    """The stage's ``after``, ``within`` and ``limit`` from ``anchor``, before they are
    ordered, with ``apply`` (``Offset.apply`` or :func:`_shift`, the same instants).

    Months from ``overdue_start`` are months overdue, counted from the due date: the day
    after the date that many calendar months after the due date (AR-4, "over one month
    overdue", 逾期时间超过一个月). Counted from the first day overdue instead, a month fell
    short where that day is past the end of the month it lands in: due 30 January, a
    month from 31 January is 28 February, one month after the due date and not over it.
    Hours, days and weeks give the same either way; a step moved later by a promise
    counts from its moved anchor as from the first day overdue.
    """
    overdue = stage.anchor.kind is AnchorKind.OVERDUE_START
    after, within, limit = stage.after, stage.within, stage.limit
    return (
        anchor if after is None else _offset_time(after, anchor, apply, overdue),
        None if within is None else _offset_time(within, anchor, apply, overdue),
        None if limit is None else _offset_time(limit, anchor, apply, overdue),
    )


def _offset_time(
    offset: Offset,
    anchor: pendulum.DateTime,
    apply: Callable[[Offset, pendulum.DateTime], pendulum.DateTime],
    overdue: bool,
) -> pendulum.DateTime:
    """``offset`` from ``anchor``; ``overdue``: from ``overdue_start`` (:func:`_offset_times`)."""
    if overdue and offset.unit is OffsetUnit.MONTHS:
        return apply(_DAY_ON, apply(offset, apply(_DAY_BACK, anchor)))
    return apply(offset, anchor)


def _shift(
    offset: Offset, anchor: pendulum.DateTime, calendar: BusinessCalendar, tz: str
) -> pendulum.DateTime:
    """``offset.apply(anchor, calendar, tz)``, or, for ``anchor`` a local midnight in the
    zone ``tz``, an instant of the same wall time in the same zone object.

    Days, weeks and months from a midnight land on the midnight that many days later,
    as :func:`local_midnight` gives it (and remembers it): the target day's first
    instant, as ``offset.apply`` gives it too. Whole days of
    elapsed hours land on the midnight when the zone has the same UTC offset at both
    midnights; such a time may differ from
    ``DateTime.add``'s in its ``fold`` alone, where that does not change the instant
    (the callers compare the times as instants, with ``instant``).
    """
    unit = offset.unit
    if unit is OffsetUnit.BUSINESS_DAYS or anchor.hour or anchor.minute or anchor.second:
        return offset.apply(anchor, calendar, tz)
    if anchor.microsecond:
        return offset.apply(anchor, calendar, tz)
    ordinal = anchor.toordinal()
    midnight: pendulum.DateTime | None = None
    if unit is OffsetUnit.DAYS:
        midnight = local_midnight(dt.date.fromordinal(ordinal + offset.amount), tz)
    elif unit is OffsetUnit.WEEKS:
        midnight = local_midnight(dt.date.fromordinal(ordinal + 7 * offset.amount), tz)
    elif unit is OffsetUnit.MONTHS:
        # ``add_duration``'s months: the same day of the month, or the month's last.
        months = anchor.month - 1 + offset.amount
        year, month = anchor.year + months // 12, months % 12 + 1
        day = min(anchor.day, monthrange(year, month)[1])
        midnight = local_midnight(dt.date(year, month, day), tz)
    if midnight is not None:
        return midnight
    days, hours = divmod(offset.amount, 24)
    if not hours:
        landed = local_midnight(dt.date.fromordinal(ordinal + days), tz)
        if (
            not (landed.hour or landed.minute or landed.second or landed.microsecond)
            and landed.utcoffset() == anchor.utcoffset()
        ):
            return landed
    return offset.apply(anchor, calendar, tz)


def _state_base(section: TimelineSection) -> dict[str, Any]:
    """Every step field ``none`` and every plan field false: what a case starts from."""
    out: dict[str, Any] = {}
    for plan in section.plans.values():
        for stage in plan.stages:
            out[step_field(stage.id)] = "none"
    for name in STATE_FIELDS:
        if name.startswith("plan_"):
            out[name] = False
    for plan in section.plans.values():
        for stage in plan.stages:
            if stage.remedy is not None:
                out[f"plan_{stage.remedy}"] = False
    return out
