"""What a policy declares and what the library reads by name, for the dead-item check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from collectrules.errors import CollectRulesError
from collectrules.operations.contacts import CONTACT_REMEDIES_PARAMETER
from collectrules.policy import Policy
from collectrules.policy.loader import _parse_text, _read_text


def _own_names(policy: Policy, table: str) -> set[str] | None:
    """The names a policy that ``extends`` another defines itself in ``table``.

    ``None`` when the policy extends nothing, or its file cannot be read again: then
    every name is its own.
    """

    source = policy.source
    if source is None:
        return None
    ref = source[1:-1] if source.startswith("<") and source.endswith(">") else source
    try:
        text, label, path = _read_text(ref)
        raw = _parse_text(text, label, path)
    except CollectRulesError:
        return None
    if "extends" not in raw:
        return None
    names = raw.get(table)
    return set(names) if isinstance(names, Mapping) else set()


def _section_numbers(policy: Policy) -> set[int]:
    """Whole numbers in the optional sections and the parameters: likely thresholds."""
    core = {"layers", "remedies", "signals", "clauses", "notes"}
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            found.add(int(node))

    for key, value in policy.data.items():
        if key not in core:
            walk(value)
    return found


def _consumed_parameters(policy: Policy) -> frozenset[str]:
    """Parameters that the library reads by name: the lookback window, the mapping of
    contacts to remedies (:func:`collectrules.operations.contact_remedies`), the
    sections'."""
    names = {"lookback_days", CONTACT_REMEDIES_PARAMETER}
    for plugin in policy.plugins:
        names |= plugin.parameters
    return frozenset(names)


def _section_words(data: Mapping[str, Any]) -> set[str]:
    core = {
        "id",
        "version",
        "title",
        "description",
        "notes",
        "extends",
        "parameters",
        "signals",
        "layers",
        "remedies",
        "disable",
        "schema_version",
        "clauses",
    }
    words: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                words.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node))

    for key, value in data.items():
        if key not in core:
            walk(value)
    return words
