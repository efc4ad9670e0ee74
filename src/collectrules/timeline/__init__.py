"""The collection timeline: stage plans, calendars, promises to pay, legal deadlines.

:func:`build_timeline` (or ``Engine.timeline``) evaluates a policy's ``[timeline]``
section for one case at an explicit ``as_of``: every stage's due date and status, the
promises to pay, and the legal deadlines (limitation, guarantee, enforcement).
"""

from __future__ import annotations

from collectrules.timeline.deadlines import Deadline, DeadlineKind, DeadlineStatus
from collectrules.timeline.evaluate import (
    TIMELINE_SCHEMA_VERSION,
    Step,
    StepStatus,
    Timeline,
    build_timeline,
)
from collectrules.timeline.promises import Promise, PromiseStatus
from collectrules.timeline.stages import Stage, StagePlan

__all__ = [
    "TIMELINE_SCHEMA_VERSION",
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "Promise",
    "PromiseStatus",
    "Stage",
    "StagePlan",
    "Step",
    "StepStatus",
    "Timeline",
    "build_timeline",
]
