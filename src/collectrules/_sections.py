"""Parsers of the optional policy sections that other modules own.

Each entry maps a top-level policy key to the function that parses it. A parser takes
the raw table, the loader (to report problems with file, line and key path) and the
policy's parameters; it returns the parsed section and the fact fields the section adds
for conditions to read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from collectrules.conditions import Condition, FieldSpec, Scalar

__all__ = ["SectionLoader", "parse_all"]


class SectionLoader(Protocol):
    """What a section parser may use of the policy loader."""

    def fail(
        self,
        path: str,
        message: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        """Record a problem at ``path``."""

    def condition(
        self,
        text: object,
        path: str,
        rule_id: str,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
    ) -> Condition:
        """Parse and check a condition, recording any problem."""


SectionParser = Callable[
    [Any, SectionLoader, Mapping[str, Scalar]], tuple[Any, Mapping[str, FieldSpec]]
]


def _parsers() -> dict[str, SectionParser]:
    # Imported here: the section modules import the policy module themselves.
    from collectrules import buckets, clauses, guardrails, regulatory, stages

    return {
        "clauses": clauses.parse_section,
        "timeline": stages.parse_timeline_section,
        "regulation": regulatory.parse_section,
        "buckets": buckets.parse_section,
        "guardrails": guardrails.parse_section,
    }


def parse_all(
    data: Mapping[str, Any], loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[dict[str, Any], dict[str, FieldSpec]]:
    """Parse every optional section present in ``data``."""
    sections: dict[str, Any] = {}
    fields: dict[str, FieldSpec] = {}
    owner: dict[str, str] = {}
    for key, parser in _parsers().items():
        if key in data:
            section, extra = parser(data[key], loader, params)
            sections[key] = section
            for name in extra:
                if name in owner and owner[name] != key:
                    loader.fail(
                        key,
                        f"the fact field {name!r} is already given by the {owner[name]!r} section",
                    )
                owner.setdefault(name, key)
            fields.update(extra)
    return sections, fields
