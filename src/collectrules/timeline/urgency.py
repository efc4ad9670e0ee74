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

from collectrules._decimal import exact
from collectrules.model.case import Case
from collectrules.timeline._case import instant
from collectrules.timeline.evaluate import ACTIONABLE, Step, StepStatus, Timeline

__all__ = ["Urgency", "urgency_of"]

_FAR = 253_402_300_799  # 9999-12-31T23:59:59Z, in epoch seconds


def _status(step: Step) -> StepStatus:
    return step.held if step.held is not None else step.status


@attrs.frozen
class Urgency:
    """The urgency of one case at ``as_of``; :attr:`key` sorts the most urgent first."""

    case_id: str
    breached: int
    hard_limit: pendulum.DateTime | None
    emergency: bool
    amount_at_risk: Decimal
    #: The steps that make it: breached first, then by hard limit.
    steps: tuple[str, ...] = ()

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
    """The urgency of ``case`` from its ``timeline`` (see the module docstring)."""
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
