"""Event histories that the verifier gives the cases it builds.

Many facts only events give: the contact counts and the unanswered streak, the
promises (made, standing, kept, broken) and the payments since the due date, a visit,
an emergency, an asset found, the steps an event completes or anchors, and the deadlines
an acknowledgement or a demand restarts. Cases built from dpd, the product, the amounts,
the signals and the packs' inputs (:mod:`._inputs`) never carry one, so the values of
those facts that only a history gives would never be explored. :func:`event_patterns`
gives, for each such fact that the policy reads (in its rules, its stage conditions,
anchors and completions, its packs and its guardrails), the histories on either side of
each figure the policy mentions; :func:`realize` finds a history that gives chosen
values of such facts. Each history is one witness key, :data:`EVENTS`, whose value
:func:`._cases.build_case` turns into the case's events.

An event of a history is a tuple of ``(field, value)`` pairs: its ``kind``, ``hours``
before ``as_of``, and as the kind needs an ``outcome``, a ``party``, a ``share`` of the
overdue amount (a payment, a promise, an asset found) or the days from ``as_of`` to the
``promised_date``, negative when it is past (a promise).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from collectrules.compliance.guardrails import (
    CallsInWindowRule,
    ThirdPartyRule,
    UnansweredRule,
    guardrails_of,
)
from collectrules.conditions import MONEY_SCALE, Between, Compare, Condition
from collectrules.model.case import ContactOutcome, EventKind
from collectrules.policy import Policy
from collectrules.timeline.emergencies import OPEN_FIELDS
from collectrules.timeline.stages import AnchorKind, TimelineSection

__all__ = ["EVENTS", "EVENT_FIELDS", "event_patterns", "events_of", "realize"]

#: The witness key of a history: a tuple of events (see the module's docstring).
EVENTS = "events"

#: A history: a tuple of events, each a sorted tuple of ``(field, value)`` pairs.
History = tuple[tuple[tuple[str, Any], ...], ...]

#: The facts that only events give (the timeline's, the emergencies' and the assets'
#: sections), by the event patterns that move them.
_CONTACT_COUNTS: Mapping[str, str] = {
    "contact_attempts": ContactOutcome.NO_ANSWER.value,
    "contact_reached": ContactOutcome.REACHED.value,
    "contact_no_answer": ContactOutcome.NO_ANSWER.value,
    "contact_invalid_number": ContactOutcome.INVALID_NUMBER.value,
    "contact_refused": ContactOutcome.REFUSED.value,
    "contact_unanswered_streak": ContactOutcome.NO_ANSWER.value,
}
_PROMISE_FIELDS = frozenset({"promises_made", "promise_standing", "promise_days"})
_PAYMENT_FIELDS = frozenset({"paid_since_due"})
_EMERGENCY_FIELDS = frozenset({"emergency_open", "emergency_kind", "visit_held", *OPEN_FIELDS})
_ASSET_FIELDS = frozenset({"assets_cover_claim", "assets_found_value"})
#: Every fact that only events give, which a built case sets through a history.
EVENT_FIELDS: frozenset[str] = frozenset(
    {*_CONTACT_COUNTS, *_PROMISE_FIELDS, *_PAYMENT_FIELDS, *_EMERGENCY_FIELDS, *_ASSET_FIELDS}
)
#: Signal kinds that events derive (docs/evidence.md), by the histories that give them.
_SIGNAL_EVENTS = frozenset(
    {"promise_broken", "promise_kept", "partial_payment", "unreachable", "commitment_signed"}
)
#: The emergencies of DOMAIN.md §10, as events.
_EMERGENCIES = (
    EventKind.EMERGENCY_REFUSAL,
    EventKind.ABSCONDED,
    EventKind.COURT_PROCEEDING,
    EventKind.AGREEMENT_ENDED,
    EventKind.THREAT_TO_STAFF,
)
#: Events that interrupt or restart a limitation period or a time bar, or re-age.
_DEADLINE_EVENTS = (
    EventKind.DEBTOR_ACKNOWLEDGED,
    EventKind.DEMAND_DELIVERED,
    EventKind.SUIT_FILED,
    EventKind.REAGED,
)
#: At most this many events of one pattern (a count past it tells nothing new).
_MOST = 12


def _event(kind: EventKind | str, hours: int, **fields: Any) -> tuple[tuple[str, Any], ...]:
    items = {
        "kind": str(kind),
        "hours": hours,
        **{k: v for k, v in fields.items() if v is not None},
    }
    return tuple(sorted(items.items()))


def _attempts(outcome: str | None, count: int, *, party: str | None = None) -> History:
    """``count`` attempts with ``outcome``, an hour apart, the last an hour before as_of."""
    outcome = outcome or ContactOutcome.REACHED.value
    return tuple(
        _event(EventKind.CONTACT_ATTEMPT, count - i, outcome=outcome, party=party)
        for i in range(count)
    )


def _numbers(leaves: Iterable[Condition]) -> list[float]:
    out: list[float] = []
    for leaf in leaves:
        if isinstance(leaf, Compare):
            values: list[object] = [leaf.value]
        elif isinstance(leaf, Between):
            values = [leaf.low, leaf.high]
        else:
            continue
        out += [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return out


def _around(figures: Iterable[float], *, least: int = 0) -> list[int]:
    """The whole numbers on either side of each figure, at least ``least``, at most
    :data:`_MOST`."""
    points: set[int] = set()
    for f in figures:
        for x in {math.floor(f), math.ceil(f)}:
            points |= {x - 1, x, x + 1}
    return sorted(p for p in points if least <= p <= _MOST)


def event_patterns(
    policy: Policy, leaves: Mapping[str, Sequence[Condition]]
) -> tuple[Mapping[str, Any], ...]:
    """The histories worth trying for ``policy``, each a witness ``{EVENTS: history}``.

    ``leaves`` are the policy's condition leaves by the field they read. For each fact
    that only events give and that a leaf reads, and for each stage anchor, completion
    and pause, each limitation or re-age rule, and each guardrail figure on contacts:

    * contact counts: attempts of the outcome the count reads, on either side of each
      threshold, of the guardrails' figures (calls in a window, unanswered calls a day,
      failed attempts before a third party) and of ``unreachable_attempts``; a call
      that reached a guarantor (another ``party``);
    * promises: one standing (due on either side of each ``promise_days`` threshold and
      of a stage's ``promise_wait_days``), one broken, one kept;
    * payments: half the overdue amount, all of it, and the amounts on either side of
      each ``paid_since_due`` threshold;
    * a visit, each emergency, an asset found worth half and all of the overdue amount;
    * an event of each kind that anchors or completes a stage, an acknowledgement, a
      demand, a suit, a re-age.

    Empty when the policy reads none of these.
    """
    read = set(leaves)
    out: list[History] = []

    def add(*histories: History) -> None:
        out.extend(h for h in histories if h and h not in out)

    contact_read = read & set(_CONTACT_COUNTS) or read & {"unreachable", "debtor_contacted"}
    timeline = policy.sections.get("timeline")
    stages = (
        [s for plan in timeline.plans.values() for s in plan.stages]
        if isinstance(timeline, TimelineSection)
        else []
    )
    if contact_read:
        guard: list[float] = []
        section = guardrails_of(policy)
        if section is not None:
            for rule in section.rules:
                if isinstance(rule, CallsInWindowRule | UnansweredRule | ThirdPartyRule):
                    guard += [
                        float(f.value)
                        for name, f in rule.figures()
                        if name != "days" and isinstance(f.value, int | float)
                    ]
        attempts = policy.parameters.get("unreachable_attempts")
        if attempts is not None and isinstance(attempts.value, int | float):
            guard.append(float(attempts.value))
        for name in sorted(read & set(_CONTACT_COUNTS)) or ["contact_unanswered_streak"]:
            outcome = _CONTACT_COUNTS[name]
            figures = [*_numbers(leaves.get(name, ())), *guard]
            add(*(_attempts(outcome, n) for n in _around(figures, least=1)))
        add(_attempts(ContactOutcome.REACHED.value, 1))
        add(_attempts(ContactOutcome.REACHED.value, 1, party="G1"))
    promise_read = read & _PROMISE_FIELDS or read & {"promise_broken", "promise_kept"}
    if promise_read or any(s.pauses for s in stages):
        days = [*_numbers(leaves.get("promise_days", ())), 1]
        days += [float(s.promise_wait_days) for s in stages if s.promise_wait_days is not None]
        for d in _around(days, least=0):
            add((_event(EventKind.PROMISE_MADE, 1, share="1", promised_in=d),))
        add((_event(EventKind.PROMISE_MADE, 240, share="1", promised_in=-3),))
        add(
            (
                _event(EventKind.PROMISE_MADE, 240, share="1", promised_in=-3),
                _event(EventKind.PAYMENT, 96, share="1"),
            )
        )
        for n in _around(_numbers(leaves.get("promises_made", ())), least=2):
            add(
                tuple(
                    _event(EventKind.PROMISE_MADE, n - i, share="1", promised_in=1)
                    for i in range(n)
                )
            )
    if read & _PAYMENT_FIELDS or "partial_payment" in read:
        add(
            (_event(EventKind.PAYMENT, 1, share="0.5"),), (_event(EventKind.PAYMENT, 1, share="1"),)
        )
        for amount in _numbers(leaves.get("paid_since_due", ())):
            for units in _around([amount / MONEY_SCALE], least=1):
                add((_event(EventKind.PAYMENT, 1, amount=str(units)),))
    if "commitment_signed" in read:
        add((_event(EventKind.COMMITMENT_SIGNED, 1),))
    if read & _EMERGENCY_FIELDS:
        add((_event(EventKind.VISIT, 1),))
        add(*((_event(kind, 1),) for kind in _EMERGENCIES))
    if read & _ASSET_FIELDS:
        for share in ("0.5", "1"):
            add((_event(EventKind.ASSET_FOUND, 1, asset_class="real_estate", share=share),))
    stage_kinds: list[tuple[str, str | None]] = []  # (kind, outcome)
    for stage in stages:
        matchers = list(stage.completed_by)
        if stage.anchor.kind is AnchorKind.EVENT:
            matchers += list(stage.anchor.events)
        for m in matchers:
            key = (str(m.kind), None if m.outcome is None else str(m.outcome))
            if key not in stage_kinds:
                stage_kinds.append(key)
    for kind, result in stage_kinds:
        if kind == EventKind.CONTACT_ATTEMPT.value:
            add(_attempts(result, 1))
        elif kind in (EventKind.PAYMENT.value, EventKind.PROMISE_MADE.value):
            add((_event(kind, 1, share="1", promised_in=1 if kind != "payment" else None),))
        elif kind != EventKind.ASSET_FOUND.value:
            add((_event(kind, 1),))
    if stages or policy.sections.get("regulation") is not None or "time_barred" in read:
        for kind in _DEADLINE_EVENTS:
            add((_event(kind, 1),))
    return tuple({EVENTS: h} for h in out)


def events_of(
    history: Iterable[Iterable[tuple[str, Any]]], as_of: Any, overdue: Decimal
) -> list[dict[str, Any]]:
    """The JSON-ready events of ``history`` for a case decided at ``as_of`` (an aware
    datetime) with ``overdue`` owed."""
    out: list[dict[str, Any]] = []
    for spec in history:
        fields = dict(spec)
        at = as_of.subtract(hours=int(fields.pop("hours")))
        event: dict[str, Any] = {"kind": fields.pop("kind"), "at": at.isoformat()}
        share = fields.pop("share", None)
        if share is not None:
            event["amount"] = format((overdue * Decimal(share)).normalize(), "f")
        promised = fields.pop("promised_in", None)
        if promised is not None:
            event["promised_date"] = as_of.date().add(days=int(promised)).isoformat()
        event.update(fields)
        out.append(event)
    return out


def realize(
    patterns: Sequence[Mapping[str, Any]], wanted: Mapping[str, Any], derive: Any
) -> Iterable[Mapping[str, Any]]:
    """The histories (witness ``{EVENTS: …}``) that give the ``wanted`` values of facts
    that only events give: first each pattern alone, then pairs of them. ``derive``
    maps a history to the facts of the case that carries it (``None``: no case)."""
    histories = [p[EVENTS] for p in patterns]
    candidates = itertools.chain(((h,) for h in histories), itertools.combinations(histories, 2))
    for parts in candidates:
        history = tuple(itertools.chain(*parts))
        facts = derive(history)
        if facts is not None and all(facts.get(k) == v for k, v in wanted.items()):
            yield {EVENTS: history}
