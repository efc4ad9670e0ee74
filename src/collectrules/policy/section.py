"""Optional policy sections as plug-ins: the protocol, and the loader's view of them.

A section (``timeline``, ``regulation``, ``buckets``, ``guardrails``, ``clauses``) is
one object with a key, a parser, its part of the JSON Schema, the fact fields it adds
and how it computes them at ``as_of``, any signals it derives, and what it contributes
to a decision. The core knows none of them by name: the list is assembled once, in
:mod:`collectrules.sections`, and offered to the loader through the
``collectrules.sections`` entry point; every policy then carries the sections it was
loaded with (:attr:`Policy.plugins`), which the fact derivation and the engine walk.
"""

from __future__ import annotations

import abc
import functools
import types
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

import pendulum

from collectrules.conditions import FieldSpec, Scalar
from collectrules.errors import (
    CollectRulesError,
    FieldProblem,
    OutOfMemoryError,
    PolicyError,
    quote,
)
from collectrules.model.case import Case, Signal
from collectrules.policy.model import (
    NO_CONTRIBUTION,
    Contribution,
    ParameterSpec,
    Policy,
    Section,
    SectionLoader,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "NO_CONTRIBUTION",
    "BaseSection",
    "Contribution",
    "Section",
    "SectionLoader",
    "installed_sections",
    "parse_sections",
]


class BaseSection(abc.ABC):
    """A section that adds nothing beyond its parsed table; subclasses override."""

    key: str = ""
    doc: str = ""
    parameters: frozenset[str] = frozenset()
    parameter_specs: Mapping[str, ParameterSpec] = types.MappingProxyType({})
    #: True when every hook of the section adds nothing to a policy without its table
    #: (``key`` not in ``policy.sections``): the per-case loops then skip the section
    #: for such a policy (:func:`plugins_doing`). False: its hooks are always called.
    table_only: bool = False
    #: True when the section's ``contribute`` and the ``settle`` it returns enter the
    #: library's decimal context themselves wherever they compute with ``Decimal`` (as
    #: the money section's, through ``amounts_due`` and ``reductions_open``): the engine
    #: then calls them as they are. False: the engine runs them in that context.
    own_decimal_context: bool = False

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
        return NO_CONTRIBUTION

    def __repr__(self) -> str:
        return f"<section {quote(self.key)}>"


def plugins_doing(policy: Policy, hook: str) -> tuple[Section, ...]:
    """The policy's plug-ins, in order, whose ``hook`` (``derived_signals``, ``facts``
    or ``contribute``) does something: leaving out those that inherit
    :class:`BaseSection`'s, which add nothing, and those marked
    :attr:`~BaseSection.table_only` whose table the policy does not have, changes no
    result and saves a call per case. Worked out once per policy."""

    def doing() -> tuple[Section, ...]:
        default = getattr(BaseSection, hook)
        return tuple(
            p
            for p in policy.plugins
            if getattr(type(p), hook, None) is not default
            and not (getattr(p, "table_only", False) and p.key not in policy.sections)
        )

    found: tuple[Section, ...] = policy.memo(f"plugins_doing_{hook}", doing)
    return found


#: The entry-point group through which packages offer section plug-ins: each entry
#: point names a sequence of sections. collectrules offers its own,
#: :data:`collectrules.sections.SECTIONS`, under the name ``collectrules``.
ENTRY_POINT_GROUP = "collectrules.sections"


@functools.cache
def installed_sections() -> tuple[Section, ...]:
    """The sections that installed packages offer, collectrules' own first, in order.

    Discovered once per process through the ``collectrules.sections`` entry points, so
    that the core names none of them. Two sections claiming one key are an error.
    """
    found = entry_points(group=ENTRY_POINT_GROUP)
    ordered = sorted(found, key=lambda ep: (ep.name != "collectrules", ep.name, ep.value))
    chosen: list[Section] = []
    for ep in ordered:
        try:
            offered = ep.load()
        except Exception as exc:  # a broken third-party plug-in must not break loading
            msg = f"the section plug-ins {quote(ep.value)} could not be loaded: {exc}"
            raise PolicyError([FieldProblem("sections", msg)]) from None
        chosen.extend(_offered(ep.value, offered))
    keys = [s.key for s in chosen]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        msg = f"two installed sections claim the key(s) {', '.join(duplicates)}"
        raise PolicyError([FieldProblem("sections", msg)])
    return tuple(chosen)


def _offered(where: str, offered: object) -> tuple[Section, ...]:
    """What an entry point offers, checked: a sequence of sections, each with a text
    ``key``; anything else is a :class:`PolicyError` naming the entry point."""
    if isinstance(offered, str | bytes | Mapping) or not isinstance(offered, Iterable):
        msg = (
            f"the section plug-ins {quote(where)} are {type(offered).__name__}; "
            "expected a list of sections"
        )
        raise PolicyError([FieldProblem("sections", msg)])
    out = tuple(offered)
    for index, section in enumerate(out):
        if not isinstance(getattr(section, "key", None), str):
            msg = (
                f"the section plug-ins {quote(where)}: item {index} is "
                f"{type(section).__name__}, not a section (an object with a text key)"
            )
            raise PolicyError([FieldProblem("sections", msg)])
    return out


def _parsed(
    section: Section, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[Any, Mapping[str, FieldSpec]] | None:
    """What ``section`` reads of its table, or ``None`` after recording at its key why
    it could not: its parser raised an error that is no ``CollectRulesError`` (the
    plug-in's own bug), or returned anything but ``(table, fact fields)``."""
    key = section.key
    try:
        result = section.parse(raw, loader, params)
    except MemoryError as exc:  # the process's, not the section's
        raise OutOfMemoryError.of(exc) from exc
    except CollectRulesError:
        raise
    except Exception as exc:
        said = str(exc)[:300]
        loader.fail(key, f"the {quote(key)} section's plug-in failed: {type(exc).__name__}: {said}")
        return None
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[1], Mapping)
        and all(isinstance(k, str) and isinstance(v, FieldSpec) for k, v in result[1].items())
    ):
        return result
    loader.fail(
        key,
        f"the {quote(key)} section's plug-in returned {type(result).__name__}; expected "
        "(table, fact fields): a pair whose second item maps field names to FieldSpec",
    )
    return None


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
            result = _parsed(section, data[key], loader, params)
            if result is None:
                continue
            table, extra = result
            parsed[key] = table
            for name in extra:
                if name in owner and owner[name] != key:
                    loader.fail(
                        key,
                        (
                            f"the fact field {quote(name)} is already "
                            f"given by the {quote(owner[name])} section"
                        ),
                    )
                owner.setdefault(name, key)
            fields.update(extra)
    return parsed, fields
