"""Optional policy sections as plug-ins: the protocol, and the loader's view of them.

A section (``timeline``, ``regulation``, ``buckets``, ``guardrails``, ``clauses``) is
one object with a key, a parser, its part of the JSON Schema, the fact fields it adds
and how it computes them at ``as_of``, any signals it derives, and what it contributes
to a decision. The core knows none of them by name: the list is assembled once, in
:mod:`collectrules.sections`, and installed here for the loader; every policy then
carries the sections it was loaded with (:attr:`Policy.plugins`), which the fact
derivation and the engine walk.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pendulum

from collectrules.conditions import FieldSpec, Scalar
from collectrules.errors import FieldProblem, PolicyError
from collectrules.model.case import Case, Signal
from collectrules.policy.model import Contribution, Policy, Section, SectionLoader

__all__ = [
    "BaseSection",
    "Contribution",
    "Section",
    "SectionLoader",
    "install_sections",
    "installed_sections",
    "parse_sections",
]


_NOTHING = Contribution()


class BaseSection(abc.ABC):
    """A section that adds nothing beyond its parsed table; subclasses override."""

    key: str = ""
    doc: str = ""
    parameters: frozenset[str] = frozenset()

    @abc.abstractmethod
    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[Any, Mapping[str, FieldSpec]]:
        """Parse the section's table."""

    def schema_property(self) -> dict[str, Any]:
        """A reference to the ``$defs`` entry named after the key, with the doc line."""
        return {"$ref": f"#/$defs/{self.key}", "description": self.doc}

    def schema_defs(self) -> dict[str, Any]:
        """No ``$defs`` of its own."""
        return {}

    def derived_signals(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy
    ) -> tuple[Signal, ...]:
        """No derived signals."""
        return ()

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """No fact fields."""
        return {}

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        """Nothing."""
        return _NOTHING

    def __repr__(self) -> str:
        return f"<section {self.key!r}>"


_installed: tuple[Section, ...] = ()


def install_sections(sections: Iterable[Section]) -> None:
    """Install the sections that :func:`~collectrules.load_policy` reads by default.

    :mod:`collectrules.sections` calls this once with the package's sections; an
    application may add its own by installing the extended list.
    """
    global _installed
    chosen = tuple(sections)
    keys = [s.key for s in chosen]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        msg = f"two sections claim the key(s) {', '.join(duplicates)}"
        raise PolicyError([FieldProblem("sections", msg)])
    _installed = chosen


def installed_sections() -> tuple[Section, ...]:
    """The installed sections, in order."""
    return _installed


def parse_sections(
    data: Mapping[str, Any],
    loader: SectionLoader,
    params: Mapping[str, Scalar],
    sections: Sequence[Section],
) -> tuple[dict[str, Any], dict[str, FieldSpec]]:
    """Parse every section of ``sections`` present in ``data``."""
    parsed: dict[str, Any] = {}
    fields: dict[str, FieldSpec] = {}
    owner: dict[str, str] = {}
    for section in sections:
        key = section.key
        if key in data:
            table, extra = section.parse(data[key], loader, params)
            parsed[key] = table
            for name in extra:
                if name in owner and owner[name] != key:
                    loader.fail(
                        key,
                        f"the fact field {name!r} is already given by the {owner[name]!r} section",
                    )
                owner.setdefault(name, key)
            fields.update(extra)
    return parsed, fields
