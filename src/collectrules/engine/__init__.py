"""The engine: decide cases under a policy, on durable_rules or the compiled evaluator.

:class:`Engine` compiles a policy once and decides cases (``decide``, ``decide_many``),
builds their timelines, and opens stateful :class:`CaseSession` objects. Only the
private adapter :mod:`collectrules.engine._durable` imports durable_rules, and only on
first use.
"""

from __future__ import annotations

from collectrules.engine.compiled import CompiledPolicy
from collectrules.engine.engine import (
    Backend,
    BatchResult,
    Engine,
    EngineStats,
    Repeats,
    UnknownSignals,
    display_facts,
)
from collectrules.engine.session import CaseSession, Change

__all__ = [
    "Backend",
    "BatchResult",
    "CaseSession",
    "Change",
    "CompiledPolicy",
    "Engine",
    "EngineStats",
    "Repeats",
    "UnknownSignals",
    "display_facts",
]
