"""Stateful case sessions: signals and events arrive over time, the decision follows.

A :class:`CaseSession` keeps one case's state *outside* the rules engine (durable_rules
allows at most 1024 live sessions per ruleset, DURABLE_RULES.md #2), and decides it again
whenever asked. Each call to :meth:`CaseSession.decide` says what changed since the
previous decision, so a caller can react to a move from Q1 to Q3, or to a remedy gained
or lost.

The session never reads the clock: every decision takes its ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol, TypeVar

import attrs

from collectrules._arguments import wrong_kind
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.model.case import Case, Event, Signal
from collectrules.model.decision import Decision
from collectrules.model.remedies import Remedy
from collectrules.model.time import require_case
from collectrules.policy.model import Policy


class Decider(Protocol):
    """What a session needs of an engine: its policy, and a decision at ``as_of``."""

    @property
    def policy(self) -> Policy:
        """The policy the engine decides under."""

    def decide(self, case: Case, *, as_of: dt.datetime | str) -> Decision:
        """Decide ``case`` at ``as_of``."""


__all__ = ["CaseSession", "Change", "sorted_remedies"]

T = TypeVar("T")


@attrs.frozen
class Change:
    """What changed between two decisions of one case."""

    decision: Decision
    previous: Decision | None
    quadrant_changed: bool
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    newly_blocked: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Whether the quadrant or any allowed or blocked remedy changed."""
        return self.quadrant_changed or bool(self.gained or self.lost or self.newly_blocked)


class CaseSession:
    """One case, updated over time and decided on demand.

    ``assert_signal`` / ``assert_event`` add a fact, ``retract_signal`` /
    ``retract_event`` remove one (it must be present), and ``decide(as_of=…)`` decides the
    current state and reports what changed since the last decision.
    """

    def __init__(self, engine: Decider, case: Case) -> None:
        # Checked now: a session of anything else failed only at its first use, with
        # Python's AttributeError.
        if not isinstance(getattr(engine, "policy", None), Policy) or not callable(
            getattr(engine, "decide", None)
        ):
            raise wrong_kind("engine", engine, "an Engine (a policy and its decide method)")
        self.engine = engine
        self._case = require_case(case)
        self._last: Decision | None = None

    def __repr__(self) -> str:
        return f"CaseSession({quote(self._case.case_id)}, {quote(self.engine)})"

    @property
    def case(self) -> Case:
        """The case as it stands now."""
        return self._case

    @property
    def last(self) -> Decision | None:
        """The last decision, if any."""
        return self._last

    def assert_signal(self, *signals: Signal) -> None:
        """Add signals; a kind the policy does not know is an error listing the known ones."""
        known = self.engine.policy.signals
        # The case checks the types and the count; then the kinds are checked here.
        case = attrs.evolve(self._case, signals=(*self._case.signals, *signals))
        problems = [
            FieldProblem(
                "signal.kind",
                f"unknown signal kind {quote(s.kind)}; known kinds: {', '.join(sorted(known))}",
            )
            for s in signals
            if s.kind not in known
        ]
        if problems:
            raise InputError(problems, subject="signal")
        self._case = case

    def assert_event(self, *events: Event) -> None:
        """Add events (payments, contact attempts, promises, demands …)."""
        self._case = attrs.evolve(self._case, events=(*self._case.events, *events))

    def retract_signal(self, signal: Signal) -> None:
        """Remove one occurrence of ``signal``; it must be in the case."""
        self._case = attrs.evolve(
            self._case, signals=_without(self._case.signals, signal, "signal")
        )

    def retract_event(self, event: Event) -> None:
        """Remove one occurrence of ``event``; it must be in the case."""
        self._case = attrs.evolve(self._case, events=_without(self._case.events, event, "event"))

    def decide(self, *, as_of: dt.datetime | str) -> Change:
        """Decide the case as it stands, and say what changed since the last decision."""
        decision = self.engine.decide(self._case, as_of=as_of)
        previous = self._last
        self._last = decision
        order = tuple(self.engine.policy.remedies)
        if previous is None:
            return Change(
                decision,
                None,
                quadrant_changed=True,
                gained=sorted_remedies(decision.allowed_remedies, order),
                lost=(),
                newly_blocked=sorted_remedies(decision.blocked_remedies, order),
            )
        return Change(
            decision=decision,
            previous=previous,
            quadrant_changed=decision.quadrant is not previous.quadrant,
            gained=sorted_remedies(decision.allowed_remedies - previous.allowed_remedies, order),
            lost=sorted_remedies(previous.allowed_remedies - decision.allowed_remedies, order),
            newly_blocked=sorted_remedies(
                decision.blocked_remedies - previous.blocked_remedies, order
            ),
        )


def sorted_remedies(
    remedies: Iterable[str], catalogue: Iterable[str] = tuple(Remedy)
) -> tuple[str, ...]:
    """Remedies in the order of ``catalogue`` (a policy's remedy catalogue; by default
    the :class:`Remedy` enum); any other remedy follows, by name."""
    order = {r: i for i, r in enumerate(catalogue)}
    return tuple(sorted(remedies, key=lambda r: (order.get(r, len(order)), str(r))))


def _without(items: tuple[T, ...], item: T, what: str) -> tuple[T, ...]:
    for i, existing in enumerate(items):
        if existing == item:
            return (*items[:i], *items[i + 1 :])
    raise InputError([FieldProblem(what, f"no such {what} in the case to retract: {quote(item)}")])
