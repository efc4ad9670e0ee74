"""The optional policy sections this package knows, assembled once, in one place.

This is the only module that names them all. It sits above the core and the sections,
and offers the list to the policy loader through the ``collectrules.sections`` entry
point (``pyproject.toml``); every loaded policy carries the list to the fact derivation
and the engine. Adding a section means adding one entry here. Another package can offer
sections of its own through the same entry-point group.

The order is the order in which sections add facts, classes and trace entries.
"""

from __future__ import annotations

from collectrules.assets.section import ASSETS
from collectrules.compliance.sections import BUCKETS, GUARDRAILS, REGULATION
from collectrules.money.section import MONEY
from collectrules.policy.clauses import CLAUSES
from collectrules.policy.model import Section
from collectrules.timeline.emergencies import EMERGENCIES
from collectrules.timeline.section import TIMELINE

__all__ = ["SECTIONS"]

#: The package's sections, in order.
SECTIONS: tuple[Section, ...] = (
    CLAUSES,
    TIMELINE,
    EMERGENCIES,
    REGULATION,
    GUARDRAILS,
    BUCKETS,
    MONEY,
    ASSETS,
)
