"""How urgent a case is, from its timeline: the order in which a worklist takes cases.

The order, most urgent first (docs/howto-emergencies.md):

1. a case with a **breached** step comes before one without;
2. then the earliest **hard limit** (``limit_at``, else ``due_at``) of a step that calls
   for action now (open, late or breached);
3. then a case with an **open emergency** comes before one without;
4. then the larger **amount at risk** (the overdue amount);
5. then the case id, so that the order is total and deterministic.

A step that an emergency pauses or stops still counts, with the status it would have
had (:attr:`~collectrules.timeline.evaluate.Step.held`): the work an emergency displaces
is not forgotten, it becomes part of the emergency. So an emergency never lowers the
urgency of a case: it adds the steps of its plan and the emergency itself, and takes
nothing away.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules._arguments import require_instance
from collectrules._decimal import exact
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.model.case import Case
from collectrules.model.limits import MONEY
from collectrules.model.time import require_case
from collectrules.timeline._case import instant
from collectrules.timeline.evaluate import ACTIONABLE, Step, StepStatus, Timeline

__all__ = ["Urgency", "urgency_of"]

_FAR = 253_402_300_799  # 9999-12-31T23:59:59Z, in epoch seconds


def _problem(attribute: attrs.Attribute[Any], expected: str, value: object) -> InputError:
    return InputError([FieldProblem(attribute.name, f"expected {expected}, got {quote(value)}")])


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str:
        raise _problem(attribute, "a text", value)


def _count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not int or value < 0:
        raise _problem(attribute, "a count of steps, 0 or more", value)


def _flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not bool:
        raise _problem(attribute, "True or False", value)


def _limit_at(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, pendulum.DateTime) or value.utcoffset() is None:
        raise _problem(attribute, "an aware pendulum DateTime, or None", value)


def _amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # The key negates it and sorting compares it: a NaN or a text would fail there.
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= MONEY.maximum:
        raise _problem(attribute, f"a decimal amount from 0 to {MONEY.maximum:,}", value)


def _ids(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(type(v) is str for v in value):
        raise _problem(attribute, "a tuple of step ids (texts)", value)


def _status(step: Step) -> StepStatus:
    return step.held if step.held is not None else step.status


@attrs.frozen
class Urgency:
    """The urgency of one case at ``as_of``; :attr:`key` sorts the most urgent first.

    A field of another kind (a text or a NaN as ``amount_at_risk``, a naive
    ``hard_limit``) is an :class:`~collectrules.errors.InputError` naming it: the key
    and the order of a worklist are then always defined.
    """

    case_id: str = attrs.field(validator=_text)
    breached: int = attrs.field(validator=_count)
    hard_limit: pendulum.DateTime | None = attrs.field(validator=_limit_at)
    emergency: bool = attrs.field(validator=_flag)
    amount_at_risk: Decimal = attrs.field(validator=_amount)
    #: The steps that make it: breached first, then by hard limit.
    steps: tuple[str, ...] = attrs.field(default=(), validator=_ids)

    @property
    @exact
    def key(self) -> tuple[int, int, int, Decimal, str]:
        """The ordering key: ``sorted(urgencies, key=lambda u: u.key)`` is most urgent first."""
        limit = _FAR if self.hard_limit is None else int(self.hard_limit.timestamp())
        return (
            0 if self.breached else 1,
            limit,
            0 if self.emergency else 1,
            -self.amount_at_risk,
            self.case_id,
        )

    def at_least_as_urgent_as(self, other: Urgency) -> bool:
        """Whether this case comes no later than ``other`` in the order, the case id aside."""
        return self.key[:4] <= other.key[:4]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "case_id": self.case_id,
            "breached": self.breached,
            "hard_limit": None if self.hard_limit is None else self.hard_limit.isoformat(),
            "emergency": self.emergency,
            "amount_at_risk": str(self.amount_at_risk),
            "steps": list(self.steps),
        }


def _limit(step: Step) -> dt.datetime | None:
    return step.limit_at if step.limit_at is not None else step.due_at


def urgency_of(timeline: Timeline, case: Case) -> Urgency:
    """The urgency of ``case`` from its ``timeline`` (see the module docstring).

    ``timeline`` must be a :class:`~collectrules.timeline.evaluate.Timeline` and
    ``case`` a :class:`~collectrules.Case`; anything else is an
    :class:`~collectrules.errors.InputError` naming the argument."""
    timeline = require_instance(timeline, Timeline, "timeline", "a Timeline")
    case = require_case(case)
    acting = [s for s in timeline.steps if _status(s) in ACTIONABLE]
    breached = [s for s in acting if _status(s) is StepStatus.BREACHED]
    # As instants: the steps' times share the case's zone object (see ``instant``).
    limits = [(instant(limit), s.id, limit) for s in acting if (limit := _limit(s)) is not None]
    earliest = min(limits)[2] if limits else None
    ordered = sorted(
        acting,
        key=lambda s: (
            _status(s) is not StepStatus.BREACHED,
            (_limit(s) or pendulum.datetime(9999, 1, 1)).timestamp(),
            s.id,
        ),
    )
    return Urgency(
        case_id=case.case_id,
        breached=len(breached),
        hard_limit=None if earliest is None else pendulum.instance(earliest),
        emergency=timeline.emergency_open,
        amount_at_risk=case.overdue_amount,
        steps=tuple(s.id for s in ordered),
    )
