"""When an emergency (催收应急事件, DOMAIN.md §10) is open, read from a case's events.

One reading, shared by the layers that must agree on it: the timeline's
``[emergencies]`` section (:mod:`collectrules.timeline.emergencies`: the decision's
``absconded_open``, ``court_proceeding_open`` and ``visit_held`` facts, the escalation
steps, the visit steps it pauses) and the contact guardrails
(:mod:`collectrules.compliance.guardrails`: the ``emergency_hold`` rule). Neither copies
it, and the guardrails need not import the timeline.

An emergency of a kind begins at the first event of that kind (for ``absconded``: or at
the contact attempt that made ``unreachable_attempts`` failed attempts in a row since the
debtor was last reached, whichever came first). It **closes** at the first instant at
which every step of its escalation plan has a completing event from its beginning on.
It is open at ``t`` when it has begun at or before ``t`` and has not closed by ``t``:
exactly what the timeline reads at ``as_of = t``, which counts the events at or before
``as_of``. While open it holds the channels its kind ``pauses``; from its beginning on, for
good, those its kind ``stops``.
"""

from __future__ import annotations

import abc
import datetime as dt
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from collectrules.model.case import ContactOutcome, Event, EventKind, fixed_offset

__all__ = [
    "EMERGENCY_CLAUSES",
    "EmergencyPlans",
    "EmergencyTerms",
    "EmergencyWindow",
    "EventTest",
    "emergency_windows",
    "unreachable_at",
]

#: The event kinds that record an emergency, each with its clause id (DOMAIN.md §10).
EMERGENCY_CLAUSES: Mapping[EventKind, str] = types.MappingProxyType(
    {
        EventKind.EMERGENCY_REFUSAL: "E-REFUSE",
        EventKind.ABSCONDED: "E-ABSCOND",
        EventKind.COURT_PROCEEDING: "E-LITIGATION",
        EventKind.AGREEMENT_ENDED: "E-AGREEMENT-END",
        EventKind.THREAT_TO_STAFF: "E-THREAT",
    }
)
_FAILED = frozenset({ContactOutcome.NO_ANSWER, ContactOutcome.INVALID_NUMBER})
_REACHED = frozenset({ContactOutcome.REACHED, ContactOutcome.REFUSED})


class EventTest(Protocol):
    """Anything that says whether an event completes a step (an ``EventMatcher``)."""

    def matches(self, event: Event) -> bool:
        """Whether ``event`` completes the step."""


@attrs.frozen
class EmergencyTerms:
    """What a policy says of one emergency kind, reduced to what opens, closes and
    holds it: the event kind that records it, the completing events of each step of
    its plan, and the channels (by value: ``"visit"`` …) it pauses and stops."""

    kind: EventKind
    steps: tuple[tuple[EventTest, ...], ...] = attrs.field(hash=False)
    pauses: frozenset[str] = frozenset()
    stops: frozenset[str] = frozenset()


@attrs.frozen
class EmergencyWindow:
    """One emergency of a case: when it began and when it closed (``None``: not on the
    events read), whether its beginning was derived from unreachability, and the
    channels it pauses and stops."""

    kind: EventKind
    start: dt.datetime
    closed: dt.datetime | None
    derived: bool = False
    pauses: frozenset[str] = frozenset()
    stops: frozenset[str] = frozenset()

    def begun(self, at: dt.datetime) -> bool:
        """Whether the emergency has begun at ``at`` (at or before it)."""
        return fixed_offset(self.start) <= fixed_offset(at)

    def open_at(self, at: dt.datetime) -> bool:
        """Whether the emergency is open at ``at``: begun, and not closed by then."""
        return self.begun(at) and (
            self.closed is None or fixed_offset(at) < fixed_offset(self.closed)
        )

    def holds(self, channel: str, at: dt.datetime) -> bool:
        """Whether the emergency holds ``channel`` back at ``at``: it stops the channel and
        has begun, or it pauses the channel and is open."""
        if channel in self.stops:
            return self.begun(at)
        return channel in self.pauses and self.open_at(at)

    def lifts(self, channel: str) -> dt.datetime | None:
        """When the emergency stops holding ``channel``: when it closes, for a channel it
        pauses; ``None`` for one it stops (never), or when it has not closed."""
        return None if channel in self.stops else self.closed


def unreachable_at(events: Iterable[Event], attempts: int) -> dt.datetime | None:
    """The first attempt that made ``attempts`` failed attempts in a row since the debtor
    was last reached (attempts on the debtor: events without a party, or ``debtor``),
    reading ``events`` in the order given."""
    streak = 0
    for event in events:
        if event.kind is not EventKind.CONTACT_ATTEMPT or event.party not in (None, "debtor"):
            continue
        if event.outcome in _REACHED:
            streak = 0
        elif event.outcome in _FAILED:
            streak += 1
            if streak >= attempts:
                return event.at
    return None


def _closed(
    steps: Sequence[Sequence[EventTest]], start: dt.datetime, events: Sequence[Event]
) -> dt.datetime | None:
    """When every step has a completing event from ``start`` on: the latest of each
    step's first such event; ``None`` if a step has none (a plan without steps closes
    as it begins)."""
    done = start
    for step in steps:
        first = next(
            (e.at for e in events if e.at >= start and any(t.matches(e) for t in step)), None
        )
        if first is None:
            return None
        done = max(done, first)
    return done


def emergency_windows(
    events: Iterable[Event],
    terms: Iterable[EmergencyTerms],
    *,
    unreachable_attempts: int | None = None,
) -> tuple[EmergencyWindow, ...]:
    """The emergencies of ``terms`` that ``events`` record, in the order of ``terms``.

    The events are read in time order (a stable sort: events at one instant keep their
    order). Each kind counts once, from its first event; ``absconded`` also from the
    attempt that made the debtor unreachable (``unreachable_attempts`` failed attempts
    in a row), when that came first. Windows read on the events up to an instant say
    the same of that instant as windows read on every event.
    """
    ordered = sorted(events, key=lambda e: e.at)
    first: dict[EventKind, dt.datetime] = {}
    for event in ordered:
        first.setdefault(event.kind, event.at)
    found: list[EmergencyWindow] = []
    for term in terms:
        start = first.get(term.kind)
        derived = False
        if term.kind is EventKind.ABSCONDED and unreachable_attempts is not None:
            lost = unreachable_at(ordered, unreachable_attempts)
            if lost is not None and (start is None or lost < start):
                start, derived = lost, True
        if start is None:
            continue
        found.append(
            EmergencyWindow(
                term.kind,
                start,
                _closed(term.steps, start, ordered),
                derived,
                term.pauses,
                term.stops,
            )
        )
    return tuple(found)


class EmergencyPlans(abc.ABC):
    """A policy's emergencies, as a section that knows them gives them (the timeline's
    ``[emergencies]``): what a layer that must not import that section reads."""

    __slots__ = ()

    @abc.abstractmethod
    def terms(self) -> tuple[EmergencyTerms, ...]:
        """The kinds the policy lists, in its order."""

    @property
    @abc.abstractmethod
    def attempts(self) -> int | None:
        """Failed attempts in a row that derive ``absconded``; ``None``: none do."""

    def windows(self, events: Iterable[Event]) -> tuple[EmergencyWindow, ...]:
        """The emergencies that ``events`` record (:func:`emergency_windows`)."""
        return emergency_windows(events, self.terms(), unreachable_attempts=self.attempts)
