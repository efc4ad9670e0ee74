"""Deciding a portfolio from files: streaming, per-row isolation, atomic and resumable.

:func:`run_batch` reads JSON Lines, CSV or JSON files (or directories of them) one row
at a time, decides each row with an :class:`~collectrules.engine.Engine`, and writes
two JSON Lines files in input order: the decisions and the bad rows. Every input row
lands in exactly one of them, with its file and line. The outputs appear only when the
run is complete; a run that was killed is continued with ``resume=True``.
"""

from __future__ import annotations

from collectrules.batch.output import BatchFiles, OutputError, Progress
from collectrules.batch.runner import (
    DEFAULT_CHUNK_ROWS,
    BatchSummary,
    default_errors_path,
    run_batch,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "BatchFiles",
    "BatchSummary",
    "OutputError",
    "Progress",
    "default_errors_path",
    "run_batch",
]
