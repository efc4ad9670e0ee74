"""Derive the flat facts of a case at an explicit ``as_of``: the core's and each section's.

The flat facts are what conditions read: days past due, the amounts, and for each signal
kind of the policy a count (or, for measured kinds, its latest value). Nothing here reads
the clock: ``as_of`` is always given, and must be aware.

Evidence goes stale, but it does not vanish (docs/evidence.md):

* a **positive** sign, an **ability** cause and a **measured** value count only within
  the lookback window (``lookback_days``): old good news is no news;
* a **negative** willingness sign (a refusal, an asset transfer, a broken promise …)
  stays in force, whatever its age, until a later **cure**: a payment, a kept promise, a
  signed commitment, or a ``retraction`` event (which may name the one kind it
  retracts); its count is the number of uncured signs;
* a **contact** sign (``unreachable``) stays in force until the debtor is next reached
  (a contact attempt that reaches them, a promise, a payment) or it is retracted.

Events are read as the signals they amount to, so that the same facts give the same
facts however they were recorded: a payment since the due date is a
``partial_payment``, a ``commitment_signed`` or ``refused_disposal`` event the signal
of that kind, and ``unreachable_attempts`` unanswered attempts in a row (or an invalid
number) an ``unreachable`` signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
import pendulum

from collectrules._arguments import require_instance, require_int
from collectrules._decimal import exact
from collectrules.conditions import MONEY_SCALE
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import (
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Signal,
    concerns_debtor,
    derived_signal,
    pays,
)
from collectrules.model.time import (
    days_past_due_on,
    local_midnight,
    require_aware,
    require_case,
    stdlib_fixed,
)
from collectrules.policy.model import Policy, Section, SignalSpec
from collectrules.policy.section import plugins_doing

__all__ = [
    "CURE_SIGNALS",
    "DEFAULT_LOOKBACK_DAYS",
    "DEFAULT_UNREACHABLE_ATTEMPTS",
    "EVENTS_READ",
    "UNREACHABLE",
    "Cure",
    "Derived",
    "UnknownSignals",
    "check_product",
    "check_signal_kinds",
    "derive",
    "event_signals",
    "first_unreachable",
    "unreachable_attempts",
    "unreachable_signs",
]

#: What deciding does with a signal whose kind the policy does not know: ``"error"``
#: refuses the case (an :class:`~collectrules.errors.InputError` naming each one);
#: ``"ignore"`` decides the case as if the signal were absent, and counts it.
UnknownSignals = Literal["error", "ignore"]

#: The lookback window when a policy sets no ``lookback_days`` parameter.
DEFAULT_LOOKBACK_DAYS = 180
#: Unanswered attempts in a row that make the debtor unreachable, when a policy sets no
#: ``unreachable_attempts`` parameter.
DEFAULT_UNREACHABLE_ATTEMPTS = 3
#: The signal kinds whose observation cures the negative willingness signs before it.
CURE_SIGNALS: frozenset[str] = frozenset({"promise_kept", "commitment_signed", "partial_payment"})
#: The events after which the debtor counts as reached again.
_REACHED = (ContactOutcome.REACHED, ContactOutcome.REFUSED)
_UNANSWERED = (ContactOutcome.NO_ANSWER, ContactOutcome.UNREACHABLE)
#: The signal kind that says the debtor cannot be reached (docs/evidence.md).
UNREACHABLE = "unreachable"
#: Events that show the lender was in contact with the debtor.
_CONTACT_EVENTS = frozenset(
    {
        EventKind.PROMISE_MADE,
        EventKind.COMMITMENT_SIGNED,
        EventKind.REFUSED_DISPOSAL,
        EventKind.DEBTOR_ACKNOWLEDGED,
        EventKind.DEMAND_LETTER_SIGNED,
    }
)

#: The event kinds :func:`derive` reads (and the timeline's kept and broken promises,
#: which ``promise_made`` events derive); an event of another kind matters to the
#: sections alone.
EVENTS_READ: frozenset[EventKind] = _CONTACT_EVENTS | {
    EventKind.PAYMENT,
    EventKind.CONTACT_ATTEMPT,
    EventKind.RETRACTION,
}

#: Events that show the debtor was reached, and end an ``unreachable`` sign; the events
#: that are also signals (a commitment, a refused disposal) act through their signals.
_REACHING_EVENTS = _CONTACT_EVENTS - {EventKind.COMMITMENT_SIGNED, EventKind.REFUSED_DISPOSAL}


@attrs.frozen
class Cure:
    """Something that lifts the negative signs observed before it.

    ``retracts`` is the one kind a retraction names (``None``: every kind it may lift);
    ``contact`` marks a cure that also shows the debtor was reached.
    """

    at: pendulum.DateTime
    by: str
    retracts: str | None = None
    willingness: bool = True
    contact: bool = True

    def lifts(self, signal: Signal, dimension: str) -> bool:
        """Whether this cure lifts ``signal`` (of ``dimension``)."""
        if signal.observed_at >= self.at:
            return False
        if self.retracts is not None and self.retracts != signal.kind:
            return False
        return self.contact if dimension == "contact" else self.willingness


@attrs.frozen
class Derived:
    """The flat facts of a case at ``as_of``, and the signals that were counted."""

    facts: Mapping[str, Any]
    as_of: pendulum.DateTime
    counted: tuple[Signal, ...]
    derived_signals: tuple[Signal, ...] = ()
    #: Each negative sign in force at ``as_of``: since when (its earliest uncured sign).
    in_force: Mapping[str, pendulum.DateTime] = attrs.field(factory=dict, hash=False)
    #: Each negative sign lifted by a cure: ``(kind, observed_at, cure)``, in time order.
    cured: tuple[tuple[str, pendulum.DateTime, Cure], ...] = ()
    #: The case's signals whose kind the policy does not know, when they are ignored.
    ignored: tuple[Signal, ...] = ()
    #: The id of the case derived, and the content hash of the policy it was derived
    #: under: what a caller handing the derivation on (``build_timeline(derived=…)``)
    #: is checked against. Not compared: two derivations of equal facts are equal.
    case_id: str = attrs.field(default="", eq=False)
    policy_hash: str = attrs.field(default="", eq=False)

    def signals_of(self, kinds: frozenset[str]) -> tuple[str, ...]:
        """The kinds among ``kinds`` that were observed in the window, sorted."""
        return tuple(sorted({s.kind for s in self.counted if s.kind in kinds}))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def check_signal_kinds(case: Case, policy: Policy) -> None:
    """Every signal's kind must be in the policy's catalogue; list the known ones."""
    known = policy.signals
    problems = [
        FieldProblem(
            f"signals[{i}].kind",
            f"unknown signal kind {quote(s.kind)} for policy {quote(policy.id)}; known kinds: "
            + ", ".join(sorted(known)),
            suggestion=did_you_mean(s.kind, known),
        )
        for i, s in enumerate(case.signals)
        if s.kind not in known
    ]
    if problems:
        raise InputError(problems, subject=f"case {case.case_id}")


def check_product(case: Case, policy: Policy) -> None:
    """The case's product must be in the policy's product catalogue; list the known ones."""
    product = str(case.product)
    if product not in policy.products:
        known = list(policy.products)
        problem = FieldProblem(
            "product",
            f"unknown product {quote(product)} for policy {quote(policy.id)}; known products: "
            + ", ".join(known),
            suggestion=did_you_mean(product, known),
        )
        raise InputError([problem], subject=f"case {case.case_id}")


def _partition(policy: Policy) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    measured = tuple((k, f"has_{k}") for k, spec in policy.signals.items() if spec.measured)
    counted = tuple(k for k, spec in policy.signals.items() if not spec.measured)
    return measured, counted


def _check_retractions(case: Case, policy: Policy) -> None:
    problems = [
        FieldProblem(
            f"events[{i}].retracts",
            f"unknown signal kind {quote(e.retracts)} for policy {quote(policy.id)}",
            suggestion=did_you_mean(e.retracts, policy.signals),
        )
        for i, e in enumerate(case.events)
        if e.retracts is not None and e.retracts not in policy.signals
    ]
    if problems:
        raise InputError(problems, subject=f"case {case.case_id}")


def _whole(policy: Policy, name: str, default: int | None) -> int | None:
    parameter = policy.parameters.get(name)
    if parameter is None or isinstance(parameter.value, bool):
        return default
    value = parameter.value
    return int(value) if isinstance(value, int | float) else default


def event_signals(case: Case, as_of: pendulum.DateTime, policy: Policy) -> tuple[Signal, ...]:
    """The signals the case's events amount to, at ``as_of`` (see the module docstring)."""
    attempts = _whole(policy, "unreachable_attempts", DEFAULT_UNREACHABLE_ATTEMPTS)
    needed = max(1, attempts if attempts is not None else DEFAULT_UNREACHABLE_ATTEMPTS)
    due_start = local_midnight(case.due_date, case.timezone)
    return _event_signals(case, as_of, due_start, needed)


def _event_signals(
    case: Case, as_of: dt.datetime, due_start: dt.datetime, needed: int
) -> tuple[Signal, ...]:
    out: list[Signal] = []
    streak, flagged = 0, False
    for event in sorted((e for e in case.events if e.at <= as_of), key=_event_time):
        kind = event.kind
        if kind is EventKind.PAYMENT and event.at >= due_start and pays(event, case.currency):
            note = f"derived: payment of {case.currency} {event.amount} on {event.at.date()}"
            out.append(derived_signal("partial_payment", event.at, note))
        elif kind in (EventKind.COMMITMENT_SIGNED, EventKind.REFUSED_DISPOSAL):
            out.append(derived_signal(kind.value, event.at, f"derived: {kind.value} event"))
        elif kind is EventKind.CONTACT_ATTEMPT and event.outcome is not None and _at_debtor(event):
            if event.outcome in _REACHED:
                streak, flagged = 0, False
                continue
            if event.outcome in _UNANSWERED:
                streak += 1
            if not flagged and (event.outcome is ContactOutcome.INVALID_NUMBER or streak >= needed):
                flagged = True
                why = (
                    "the number is invalid"
                    if event.outcome is ContactOutcome.INVALID_NUMBER
                    else f"{streak} attempts in a row went unanswered"
                )
                out.append(derived_signal("unreachable", event.at, f"derived: {why}"))
    return tuple(out)


def _event_time(event: Event) -> pendulum.DateTime:
    return event.at


def _at_debtor(event: Event) -> bool:
    """Whether a contact attempt was made to the debtor (its ``party``, by default):
    only those show whether the debtor can be reached."""
    return concerns_debtor(event)


def _cures(case: Case, signals: tuple[Signal, ...], as_of: pendulum.DateTime) -> list[Cure]:
    cures: list[Cure] = []
    for event in case.events:
        kind = event.kind
        if kind is EventKind.PAYMENT and pays(event, case.currency):
            by, retracts, willingness = "payment", None, True
        elif kind is EventKind.RETRACTION:
            by, retracts, willingness = "retraction", event.retracts, True
        elif kind is EventKind.CONTACT_ATTEMPT and event.outcome in _REACHED and _at_debtor(event):
            by, retracts, willingness = "contact_attempt", None, False
        elif kind in _REACHING_EVENTS:
            by, retracts, willingness = kind.value, None, False
        else:
            continue
        # Only an event at or before as_of cures (compared last: it costs the most).
        if event.at <= as_of:
            cures.append(Cure(event.at, by, retracts=retracts, willingness=willingness))
    cures.extend(Cure(s.observed_at, s.kind) for s in signals if s.kind in CURE_SIGNALS)
    cures.sort(key=lambda c: (c.at, c.by))
    return cures


@attrs.frozen
class _Plan:
    """What deriving a case under one policy reads of the policy: worked out once per
    policy (the policy is immutable), rather than looked up again for every case."""

    specs: Mapping[str, SignalSpec]
    window: dt.timedelta
    unreachable_needed: int
    signal_plugins: tuple[Section, ...]
    fact_plugins: tuple[Section, ...]
    #: Every counted kind at 0, in the policy's order: the counts of a case start here.
    zeros: Mapping[str, int]
    measured: tuple[tuple[str, str], ...]
    #: The negative kinds that stay in force until a cure, with their dimension.
    held: Mapping[str, str]
    willingness: frozenset[str]


def _plan(policy: Policy) -> _Plan:
    specs = policy.signals
    lookback = policy.parameters.get("lookback_days")
    days = int(lookback.value) if lookback is not None else DEFAULT_LOOKBACK_DAYS
    attempts = _whole(policy, "unreachable_attempts", DEFAULT_UNREACHABLE_ATTEMPTS)
    measured, counted_kinds = policy.memo("signal_partition", lambda: _partition(policy))
    return _Plan(
        specs=specs,
        window=dt.timedelta(days=days),
        unreachable_needed=max(
            1, attempts if attempts is not None else DEFAULT_UNREACHABLE_ATTEMPTS
        ),
        signal_plugins=plugins_doing(policy, "derived_signals"),
        fact_plugins=plugins_doing(policy, "facts"),
        zeros=dict.fromkeys(counted_kinds, 0),
        measured=measured,
        held={
            k: spec.dimension
            for k, spec in specs.items()
            if spec.negative and spec.dimension in ("willingness", "contact")
        },
        willingness=frozenset(k for k, spec in specs.items() if spec.dimension == "willingness"),
    )


@exact
def derive(
    case: Case,
    as_of: dt.datetime,
    policy: Policy,
    *,
    unknown_signals: UnknownSignals = "error",
) -> Derived:
    """Compute the flat facts of ``case`` at ``as_of`` under ``policy``.

    A signal whose kind the policy does not know is an error, or, with
    ``unknown_signals="ignore"``, left out and listed in :attr:`Derived.ignored`.
    """
    when = require_aware(as_of)
    if type(case) is not Case:
        require_case(case)
    if type(policy) is not Policy:
        require_instance(policy, Policy, "policy", "a Policy")
    check_product(case, policy)
    plan: _Plan = policy.memo("derive_plan", lambda: _plan(policy))
    specs = plan.specs
    signals = case.signals
    events = case.events
    ignored: tuple[Signal, ...] = ()
    if unknown_signals == "ignore":
        ignored = tuple(s for s in signals if s.kind not in specs)
    elif any(s.kind not in specs for s in signals):
        check_signal_kinds(case, policy)
    if events:
        _check_retractions(case, policy)
    # The window is `days` whole days of elapsed time before as_of; the arithmetic is
    # done on a plain fixed-offset datetime, which is exact and fast.
    at = _instants(when, plan.window)
    due_start = local_midnight(case.due_date, case.timezone)

    extra_signals = _extra_signals(case, when, due_start, plan, policy, plan.unreachable_needed)
    known = _known(signals, extra_signals, specs, at)
    counted, in_force, cured = _judge(case, known, when, plan, at)
    today = case.local_date(when)
    dpd = days_past_due_on(case, today)
    willingness = plan.willingness
    contacted = (
        events
        and any(
            # the kind first: the times cost more to compare
            (
                e.kind in _CONTACT_EVENTS
                or (e.kind is EventKind.CONTACT_ATTEMPT and e.outcome in _REACHED)
            )
            # an event of another party (a guarantor reached) is not contact with the debtor
            and concerns_debtor(e)
            and e.at >= due_start
            and e.at <= when
            for e in events
        )
    ) or any(s.kind in willingness and s.observed_at >= due_start for s in known)
    facts: dict[str, Any] = {
        "dpd": dpd,
        "product": str(case.product),
        "currency": case.currency,
        "principal": int(case.principal * MONEY_SCALE),
        "overdue_amount": int(case.overdue_amount * MONEY_SCALE),
        "guarantors": len(case.guarantors),
        "has_maturity_date": case.maturity_date is not None,
        "debtor_contacted": bool(contacted),
    }
    if case.maturity_date is not None:
        facts["days_to_maturity"] = (case.maturity_date - today).days
    facts.update(plan.zeros)
    latest: dict[str, Signal] = {}
    zeros = plan.zeros
    for signal in counted:
        kind = signal.kind
        if kind in zeros:
            facts[kind] += 1
        if signal.value is not None:
            prior_signal = latest.get(kind)
            if prior_signal is None or signal.observed_at >= prior_signal.observed_at:
                latest[kind] = signal
    for kind, has in plan.measured:
        found = latest.get(kind)
        facts[has] = found is not None
        if found is not None and found.value is not None:
            facts[kind] = _number(found.value)
    if plan.fact_plugins:
        # Each plug-in reads the facts so far, none another's: all are asked first.
        for part in [plugin.facts(case, when, policy, facts) for plugin in plan.fact_plugins]:
            facts.update(part)
    return Derived(
        facts=facts,
        as_of=when,
        counted=counted,
        derived_signals=extra_signals,
        in_force=in_force,
        cured=tuple(sorted(cured, key=_cured_order)) if cured else (),
        ignored=ignored,
        case_id=case.case_id,
        policy_hash=policy.content_hash,
    )


def _cured_order(c: tuple[str, pendulum.DateTime, Cure]) -> tuple[pendulum.DateTime, str]:
    return c[1], c[0]


def _extra_signals(
    case: Case,
    when: pendulum.DateTime,
    due_start: dt.datetime,
    plan: _Plan,
    policy: Policy,
    needed: int,
) -> tuple[Signal, ...]:
    """The signals the case's events and the policy's plug-ins amount to at ``when``;
    ``needed`` unanswered attempts in a row make an ``unreachable`` sign."""
    extra: tuple[Signal, ...] = _event_signals(case, when, due_start, needed) if case.events else ()
    for plugin in plan.signal_plugins:
        extra += plugin.derived_signals(case, when, policy)
    return extra


def _known(
    signals: tuple[Signal, ...],
    extra: tuple[Signal, ...],
    specs: Mapping[str, SignalSpec],
    at: _Instants,
) -> tuple[Signal, ...]:
    """The signals of a kind the policy knows, observed at or before ``as_of``."""
    return tuple(
        s
        for s in ((*signals, *extra) if extra else signals)
        if s.kind in specs and at.not_after(s.observed_at)
    )


def _judge(
    case: Case, known: tuple[Signal, ...], when: pendulum.DateTime, plan: _Plan, at: _Instants
) -> tuple[
    tuple[Signal, ...],
    dict[str, pendulum.DateTime],
    list[tuple[str, pendulum.DateTime, Cure]],
]:
    """The signs that count at ``when``: a sign that stays in force until a cure counts
    unless a cure lifted it; any other, within the lookback window. Also each kind in
    force since when, and the signs the cures lifted."""
    held = plan.held
    # Only a sign that stays in force until a cure reads the cures.
    cures = _cures(case, known, when) if any(s.kind in held for s in known) else []
    counted_list: list[Signal] = []
    in_force: dict[str, pendulum.DateTime] = {}
    cured: list[tuple[str, pendulum.DateTime, Cure]] = []
    for signal in known:
        dimension = held.get(signal.kind)
        if dimension is not None:
            cure = next((c for c in cures if c.lifts(signal, dimension)), None)
            if cure is not None:
                cured.append((signal.kind, signal.observed_at, cure))
                continue
            counted_list.append(signal)
            prior = in_force.get(signal.kind)
            if prior is None or signal.observed_at < prior:
                in_force[signal.kind] = signal.observed_at
        elif at.after_start(signal.observed_at):
            counted_list.append(signal)
    return tuple(counted_list), in_force, cured


def unreachable_attempts(policy: Policy) -> int:
    """The unanswered attempts in a row to the debtor that make an ``unreachable`` sign
    under ``policy`` (its ``unreachable_attempts`` parameter, at least 1), as
    :func:`derive` counts them."""
    require_instance(policy, Policy, "policy", "a Policy")
    plan: _Plan = policy.memo("derive_plan", lambda: _plan(policy))
    return plan.unreachable_needed


@exact
def unreachable_signs(
    case: Case, as_of: dt.datetime, policy: Policy, *, attempts: int | None = None
) -> tuple[Signal, ...]:
    """The ``unreachable`` signs that count at ``as_of``, as :func:`derive` counts them:
    the decision's ``unreachable`` fact is how many there are.

    A manual ``unreachable`` signal, or the sign derived from ``unreachable_attempts``
    unanswered attempts in a row to the debtor (or an invalid number), stays in force
    until the debtor is reached again (docs/evidence.md). ``attempts`` counts the
    attempts in a row instead of the policy's ``unreachable_attempts`` (a guardrail
    rule's own ``failed_attempts``): a whole number from 1 on, else an
    :class:`~collectrules.errors.InputError` naming it. A policy without the signal
    kind gives none; the case's other signals of kinds the policy does not know are
    left out, as ``unknown_signals="ignore"`` leaves them.
    """
    when = require_aware(as_of)
    require_case(case)
    require_instance(policy, Policy, "policy", "a Policy")
    needed = _attempts(attempts)
    plan: _Plan = policy.memo("derive_plan", lambda: _plan(policy))
    if UNREACHABLE not in plan.specs:
        return ()
    needed = plan.unreachable_needed if needed is None else needed
    at = _Instants(when, plan.window)
    due_start = local_midnight(case.due_date, case.timezone)
    extra = _extra_signals(case, when, due_start, plan, policy, needed)
    counted, _, _ = _judge(case, _known(case.signals, extra, plan.specs, at), when, plan, at)
    return tuple(s for s in counted if s.kind == UNREACHABLE)


@exact
def first_unreachable(
    case: Case,
    start: dt.datetime,
    end: dt.datetime,
    policy: Policy,
    *,
    attempts: int | None = None,
) -> pendulum.DateTime | None:
    """The first instant from ``start`` to ``end`` (both included) at which
    :func:`unreachable_signs` finds a sign in force; ``None`` if there is none.

    A sign counts from the instant it is observed, so the instant sought is ``start``
    itself or the instant of an ``unreachable`` sign (a manual one, or one the events
    up to ``end`` derive) after it: each is tried in time order.
    """
    begin, last = require_aware(start), require_aware(end)
    require_case(case)
    require_instance(policy, Policy, "policy", "a Policy")
    _attempts(attempts)
    if last < begin:
        return None
    if unreachable_signs(case, begin, policy, attempts=attempts):
        return begin
    plan: _Plan = policy.memo("derive_plan", lambda: _plan(policy))
    if UNREACHABLE not in plan.specs:
        return None
    needed = plan.unreachable_needed if attempts is None else attempts
    due_start = local_midnight(case.due_date, case.timezone)
    extra = _extra_signals(case, last, due_start, plan, policy, needed)
    instants = sorted(
        {
            pendulum.instance(s.observed_at)
            for s in (*case.signals, *extra)
            if s.kind == UNREACHABLE and begin < s.observed_at <= last
        }
    )
    for instant in instants:
        if unreachable_signs(case, instant, policy, attempts=attempts):
            return instant
    return None


def _attempts(attempts: object) -> int | None:
    """``attempts`` of :func:`unreachable_signs`: None, or a whole number from 1 on."""
    return None if attempts is None else require_int(attempts, "attempts", minimum=1)


#: More than any UTC offset: Python holds every offset strictly within a day of UTC.
_DAY = dt.timedelta(days=1)


class _Instants:
    """``as_of`` and the start of the lookback window, for comparing many instants with.

    An instant compares with them exactly (as instants) through :meth:`not_after` and
    :meth:`after_start`. Most comparisons are settled by the wall time alone: two
    datetimes of one ``tzinfo`` object compare by their wall times, which is cheap, and
    an instant's wall time is within a day of its UTC time (Python holds every offset
    strictly within a day). Only an instant within a day of a bound, or of a time zone
    not yet seen, needs its UTC offset, which for a zone is the costly part.
    """

    __slots__ = ("_bounds", "plain", "start", "when", "window")

    def __init__(self, when: dt.datetime, window: dt.timedelta) -> None:
        self.when = when
        self.window = window
        self.plain = stdlib_fixed(when)
        self.start = self.plain - window
        #: Per tzinfo (by id, with the object): the wall-time bounds at that tzinfo.
        self._bounds: dict[int, tuple[object, dt.datetime, dt.datetime, dt.datetime]] = {}

    def _bounds_at(
        self, tz: dt.tzinfo | None
    ) -> tuple[object, dt.datetime, dt.datetime, dt.datetime] | None:
        if tz is None:
            return None
        found = self._bounds.get(id(tz))
        if found is not None and found[0] is tz:
            return found
        offset = self.plain.utcoffset()
        assert offset is not None
        utc = self.plain.replace(tzinfo=None) - offset
        start = utc - self.window
        found = (
            tz,
            # a wall time at or before this is an instant before as_of
            (utc - _DAY).replace(tzinfo=tz),
            # ... at or before this: before the window's start
            (start - _DAY).replace(tzinfo=tz),
            # ... at or after this: after the window's start
            (start + _DAY).replace(tzinfo=tz),
        )
        if len(self._bounds) >= _MAX_ZONES:
            self._bounds.clear()
        self._bounds[id(tz)] = found
        return found

    def not_after(self, at: dt.datetime) -> bool:
        """``at <= as_of``, as instants."""
        bounds = self._bounds_at(at.tzinfo)
        if bounds is not None and at <= bounds[1]:
            return True
        return at <= self.plain

    def after_start(self, at: dt.datetime) -> bool:
        """``start < at``, as instants, where ``start`` is the window's start."""
        bounds = self._bounds_at(at.tzinfo)
        if bounds is not None:
            if at >= bounds[3]:
                return True
            if at <= bounds[2]:
                return False
        return self.start < at


#: At most this many time zones' bounds are kept per instant (see :class:`_Instants`).
_MAX_ZONES = 64
#: The instants of the latest ``as_of`` and window: a batch derives every case at one.
_last_instants: _Instants | None = None


def _instants(when: dt.datetime, window: dt.timedelta) -> _Instants:
    global _last_instants
    last = _last_instants
    if last is not None and last.when is when and last.window == window:
        return last
    last = _last_instants = _Instants(when, window)
    return last
