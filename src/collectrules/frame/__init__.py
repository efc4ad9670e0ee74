"""The columnar engine: portfolios decided as Polars frames (the ``frame`` extra).

``collectrules.frame.decide(cases, signals, events, policy=…, as_of=…)`` reads a cases
table and long tables of signals and events (Polars, pandas or pyarrow) and returns a
:class:`FrameResult`: the compact decision table of
:mod:`collectrules.batch.compact` as a Polars frame, the bad rows with their errors,
and a :class:`FrameSummary` that counts, among other things, the rows that fell back
to the per-case engine. See docs/engine.md, "The columnar engine".
"""

from __future__ import annotations

from collectrules.frame.decide import (
    COMPACT_SCHEMA,
    FrameResult,
    FrameSummary,
    RowError,
    decide,
    decide_rows,
)

__all__ = ["COMPACT_SCHEMA", "FrameResult", "FrameSummary", "RowError", "decide", "decide_rows"]
