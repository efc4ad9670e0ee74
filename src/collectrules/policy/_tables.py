"""Typed getters over a policy table that report problems with their key paths.

The parsers of the optional policy sections (timeline, regulation, buckets, guardrails)
share these; each problem goes to the policy loader, which adds the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from collectrules.conditions import Scalar
from collectrules.errors import did_you_mean, quote
from collectrules.model.case import STANDARD_PRODUCTS, ProductSpec
from collectrules.model.remedies import STANDARD_REMEDIES, RemedySpec
from collectrules.policy.section import SectionLoader

__all__ = ["TableReader"]


class TableReader:
    """Reads keys of one section, reporting every problem to the loader and counting them."""

    def __init__(self, loader: SectionLoader, params: Mapping[str, Scalar]) -> None:
        self.loader = loader
        self.params = params
        self.failures = 0

    @property
    def remedies(self) -> Mapping[str, RemedySpec]:
        """The policy's remedy catalogue (standard and own), as the loader read it."""
        found = getattr(self.loader, "remedies", None)
        return found if isinstance(found, Mapping) else STANDARD_REMEDIES

    @property
    def products(self) -> Mapping[str, ProductSpec]:
        """The policy's product catalogue (standard and own), as the loader read it."""
        found = getattr(self.loader, "products", None)
        return found if isinstance(found, Mapping) else STANDARD_PRODUCTS

    @property
    def failed(self) -> bool:
        """Whether any problem was reported."""
        return self.failures > 0

    def fail(
        self,
        path: str,
        message: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        """Report a problem at ``path``."""
        self.failures += 1
        self.loader.fail(path, message, rule_id=rule_id, key=key, suggestion=suggestion)

    def keys(
        self,
        table: Mapping[str, Any],
        allowed: Iterable[str],
        path: str,
        rule_id: str | None = None,
    ) -> None:
        """Report every key of ``table`` that is not ``allowed``, with a suggestion."""
        allowed = tuple(allowed)
        for count, key in enumerate(k for k in table if k not in allowed):
            # A suggestion costs a fuzzy match: only the first few get one, so that a
            # file of 20,000 unknown keys is reported quickly (the loader lists 50).
            self.fail(
                f"{path}.{key}" if path else str(key),
                "unknown key",
                rule_id=rule_id,
                key=key,
                suggestion=did_you_mean(str(key), allowed) if count < 100 else None,
            )

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: str | None = None,
        rule_id: str | None = None,
    ) -> str:
        """A string; absent means ``default``, and no default means required."""
        value = table.get(key, default)
        if not isinstance(value, str):
            what = (
                "required; expected a string"
                if value is None
                else f"expected a string, got {type(value).__name__}"
            )
            self.fail(f"{path}.{key}" if path else key, what, rule_id=rule_id, key=key)
            return ""
        return value

    def texts(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> tuple[str, ...]:
        """A string or a list of strings, as a tuple."""
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{path}.{key}", "expected a list of strings", rule_id=rule_id, key=key)
            return ()
        return tuple(value)

    def flag(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: bool,
        rule_id: str | None = None,
    ) -> bool:
        """A boolean, ``default`` when absent."""
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(
                f"{path}.{key}",
                f"expected true or false, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return default
        return value
