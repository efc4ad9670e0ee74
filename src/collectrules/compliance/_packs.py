"""Helpers shared by the pack sections (``regulation``, ``buckets``, ``guardrails``).

A pack's figures (a dpd threshold, a number of calls, an hour of the day) are written
either as a literal or as the name of a policy parameter. A :class:`Figure` keeps both
the value and the parameter it came from, so that verdicts and docs can say which
parameter to correct. Problems are reported through the policy loader, each with its
key path, so that a bad pack is reported with every other problem of the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules.conditions import Scalar
from collectrules.errors import did_you_mean, quote
from collectrules.model.time import local_midnight
from collectrules.policy._tables import TableReader
from collectrules.policy.section import SectionLoader

__all__ = [
    "Figure",
    "PackReader",
    "parse_clock",
    "start_of_local_day",
]

#: A name a pack reads or writes (a parameter, a figure): a lowercase identifier.
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_CLOCK = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])\Z")
PACK_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*\Z")


@attrs.frozen
class Figure:
    """A figure of a pack: its value, and the parameter it was read from (if any)."""

    value: Scalar
    param: str | None = None

    def __str__(self) -> str:
        return str(self.value)

    @property
    def as_int(self) -> int:
        """The value as an int (the reader checked it is one)."""
        value = self.value
        assert isinstance(value, int)
        assert not isinstance(value, bool)
        return value

    @property
    def as_decimal(self) -> Decimal:
        """The value as an exact decimal."""
        value = self.value
        assert isinstance(value, int | float)
        assert not isinstance(value, bool)
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

    def describe(self) -> str:
        """``6 (parameter cn_max_unanswered_calls)`` or ``6``."""
        return f"{self.value} (parameter {self.param})" if self.param else str(self.value)


def parse_clock(text: str) -> dt.time | None:
    """``"08:00"`` as a time; ``"24:00"`` as the last instant of the day; else None."""
    m = _CLOCK.match(text)
    if m is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24:
        return dt.time.max if minute == 0 else None
    return dt.time(hour, minute)


class PackReader(TableReader):
    """Typed getters over a pack table that report problems with their key paths."""

    def __init__(self, loader: SectionLoader, params: Mapping[str, Scalar]) -> None:
        super().__init__(loader, params)
        self.used: set[str] = set()

    def enabled_tables(
        self, raw: object, section: str, what: str = "a pack id"
    ) -> Iterator[tuple[str, Mapping[str, Any], str]]:
        """The (id, table, path) of each enabled entry of ``[section]``.

        An id of the wrong form and a non-table entry are reported; an entry with
        ``enabled = false`` is skipped without checking its other keys.
        """
        for name, spec in (self.table(raw, section) or {}).items():
            path = f"{section}.{name}"
            if not PACK_ID.match(name):
                self.fail(
                    path,
                    f"{what} must start with a letter and hold only "
                    "letters, digits, '.', '-' or '_'",
                )
                continue
            body = self.table(spec, path)
            if body is None or not self.flag(body, "enabled", path, default=True):
                continue
            yield name, body, path

    def table(self, value: object, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a table, got {type(value).__name__}")
            return None
        return value

    def name(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: str | None = None,
        rule_id: str | None = None,
    ) -> str:
        value = self.string(table, key, path, default=default, rule_id=rule_id)
        if value and not PARAM_NAME.match(value):
            self.fail(
                f"{path}.{key}",
                f"expected a snake_case name, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
        return value

    def choices(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        known: Iterable[str],
        *,
        default: Iterable[str],
        rule_id: str | None = None,
    ) -> tuple[str, ...]:
        known = tuple(known)
        if key not in table:
            return tuple(default)
        values = self.texts(table, key, path, rule_id=rule_id)
        out: list[str] = []
        for value in values:
            if value not in known:
                self.fail(
                    f"{path}.{key}",
                    f"unknown value {quote(value)}; expected one of {', '.join(known)}",
                    rule_id=rule_id,
                    key=key,
                    suggestion=did_you_mean(value, known),
                )
            elif value not in out:
                out.append(value)
        if not out and values:
            return tuple(default)
        return tuple(out)

    def figure(
        self,
        raw: object,
        path: str,
        *,
        kind: str,
        rule_id: str | None = None,
        key: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Figure | None:
        """Read a figure: a literal or a parameter name. ``kind`` is int, number or clock."""
        param: str | None = None
        value: object = raw
        if isinstance(raw, str) and PARAM_NAME.match(raw):
            if raw not in self.params:
                self.fail(
                    path,
                    f"unknown parameter {quote(raw)}",
                    rule_id=rule_id,
                    key=key,
                    suggestion=did_you_mean(raw, self.params),
                )
                return None
            param = raw
            value = self.params[raw]
            self.used.add(raw)
        where = f"parameter {quote(param)}" if param else "the value"
        if kind == "clock":
            if not isinstance(value, str) or parse_clock(value) is None:
                self.fail(
                    path,
                    f"{where}: expected a time of day as 'HH:MM', got {quote(value)}",
                    rule_id=rule_id,
                    key=key,
                )
                return None
            return Figure(value, param)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(
                path, f"{where}: expected a number, got {quote(value)}", rule_id=rule_id, key=key
            )
            return None
        if isinstance(value, float) and not math.isfinite(value):
            # A TOML or YAML float may be nan or inf: no threshold, and nan compares
            # with nothing (decimal.InvalidOperation when a case is assessed).
            self.fail(
                path,
                f"{where}: expected a finite number, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return None
        if kind == "int" and not isinstance(value, int):
            self.fail(
                path,
                f"{where}: expected a whole number, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return None
        if minimum is not None and value < minimum:
            self.fail(
                path,
                f"{where}: must be at least {minimum:g}, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return None
        if maximum is not None and value > maximum:
            self.fail(
                path,
                f"{where}: must be at most {maximum:g}, got {quote(value)}",
                rule_id=rule_id,
                key=key,
            )
            return None
        return Figure(value, param)


def start_of_local_day(day: dt.date, zone: str) -> pendulum.DateTime:
    """The first instant of ``day`` in ``zone``: the first 00:00 where the clocks go
    back at midnight and it comes twice (Havana on 1 November 2026), and the instant
    the clocks jump to where it never comes."""
    return local_midnight(day, zone)
