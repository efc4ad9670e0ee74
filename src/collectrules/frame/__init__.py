"""The columnar engine: portfolios decided as Polars frames (the ``frame`` extra).

``collectrules.frame.decide(cases, signals, events, policy=…, as_of=…)`` reads a cases
table and long tables of signals and events (Polars, pandas or pyarrow) and returns a
:class:`FrameResult`: the compact decision table of
:mod:`collectrules.batch.compact` as a Polars frame, the bad rows with their errors,
and a :class:`FrameSummary` that counts, among other things, the rows that fell back
to the per-case engine. See docs/engine.md, "The columnar engine".

The names load Polars on first use (PEP 562): a worker process sets up its allocator
(:mod:`collectrules.frame._worker`) before Polars loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectrules.frame.decide import (
        COMPACT_SCHEMA,
        FrameResult,
        FrameSummary,
        RowError,
        decide,
        decide_rows,
    )

__all__ = ["COMPACT_SCHEMA", "FrameResult", "FrameSummary", "RowError", "decide", "decide_rows"]


def __getattr__(name: str) -> Any:
    """Import the columnar engine on first use of one of its names, and keep the name."""
    if name not in __all__:
        raise AttributeError(f"module 'collectrules.frame' has no attribute {name!r}")
    value = getattr(importlib.import_module("collectrules.frame.decide"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
