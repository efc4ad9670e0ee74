"""The collection operation around the decisions: the worklist, run-to-run changes, the report.

* :mod:`collectrules.operations.worklist`: every step to act on today across a
  portfolio, by owner and urgency (``Engine.worklist``, ``collectrules worklist``);
* :mod:`collectrules.operations.team`: the team file that deals lines to owners;
* :mod:`collectrules.operations.contacts`: a planned contact checked against both the
  guardrails and the case's decision (``collectrules contact``);
* :mod:`collectrules.operations.changes`: what moved between two batch runs
  (``collectrules changes``), on decisions read by :mod:`collectrules.operations.rows`;
* :mod:`collectrules.operations.report`: the portfolio report as one HTML file
  (``collectrules report``, the ``report`` extra).

The worklist's names (the engine uses them) and the contact check are imported here;
import the changes and the report from their modules.
"""

from __future__ import annotations

from collectrules.operations.contacts import ContactRemedies, check_contact, contact_remedies
from collectrules.operations.team import Owner, Team, load_team, team_from_dict
from collectrules.operations.worklist import (
    PlannedCase,
    RowFailure,
    WorkItem,
    Worklist,
    WorklistSummary,
)

__all__ = [
    "ContactRemedies",
    "Owner",
    "PlannedCase",
    "RowFailure",
    "Team",
    "WorkItem",
    "Worklist",
    "WorklistSummary",
    "check_contact",
    "contact_remedies",
    "load_team",
    "team_from_dict",
]
