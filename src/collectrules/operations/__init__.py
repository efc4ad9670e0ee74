"""The collection operation around the decisions: the worklist, run-to-run changes, the report.

* :mod:`collectrules.operations.worklist`: every step to act on today across a
  portfolio, by owner and urgency (``Engine.worklist``, ``collectrules worklist``);
* :mod:`collectrules.operations.team`: the team file that deals lines to owners;
* :mod:`collectrules.operations.changes`: what moved between two batch runs
  (``collectrules changes``);
* :mod:`collectrules.operations.report`: the portfolio report as one HTML file
  (``collectrules report``).
"""

from __future__ import annotations

from collectrules.operations.changes import CaseChange, Moves, RunChanges, compare_runs, read_run
from collectrules.operations.rows import DecisionRow, decision_row
from collectrules.operations.team import Owner, Team, load_team, team_from_dict
from collectrules.operations.worklist import (
    PlannedCase,
    RowFailure,
    WorkItem,
    Worklist,
    WorklistSummary,
)

__all__ = [
    "CaseChange",
    "DecisionRow",
    "Moves",
    "Owner",
    "PlannedCase",
    "RowFailure",
    "RunChanges",
    "Team",
    "WorkItem",
    "Worklist",
    "WorklistSummary",
    "compare_runs",
    "decision_row",
    "load_team",
    "read_run",
    "team_from_dict",
]
