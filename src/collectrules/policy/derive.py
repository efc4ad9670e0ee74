"""Derive the flat facts of a case at an explicit ``as_of``: the core's and each section's.

The flat facts are what conditions read: days past due, the amounts, and for each signal
kind of the policy its count within the lookback window (or, for measured kinds, its
latest value). Nothing here reads the clock: ``as_of`` is always given, and must be
aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
import pendulum

from collectrules.conditions import MONEY_SCALE
from collectrules.errors import FieldProblem, InputError, did_you_mean
from collectrules.model.case import Case, Signal
from collectrules.model.time import days_past_due, require_aware
from collectrules.policy.model import Policy

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "Derived",
    "UnknownSignals",
    "check_product",
    "check_signal_kinds",
    "derive",
]

#: What deciding does with a signal whose kind the policy does not know: ``"error"``
#: refuses the case (an :class:`~collectrules.errors.InputError` naming each one);
#: ``"ignore"`` decides the case as if the signal were absent, and counts it.
UnknownSignals = Literal["error", "ignore"]

#: The lookback window when a policy sets no ``lookback_days`` parameter.
DEFAULT_LOOKBACK_DAYS = 180


@attrs.frozen
class Derived:
    """The flat facts of a case at ``as_of``, and the signals that were counted."""

    facts: Mapping[str, Any]
    as_of: pendulum.DateTime
    counted: tuple[Signal, ...]
    derived_signals: tuple[Signal, ...] = ()
    #: The case's signals whose kind the policy does not know, when they are ignored.
    ignored: tuple[Signal, ...] = ()

    def signals_of(self, kinds: frozenset[str]) -> tuple[str, ...]:
        """The kinds among ``kinds`` that were observed in the window, sorted."""
        return tuple(sorted({s.kind for s in self.counted if s.kind in kinds}))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def check_signal_kinds(case: Case, policy: Policy) -> None:
    """Every signal's kind must be in the policy's catalogue; list the known ones."""
    known = policy.signals
    problems = [
        FieldProblem(
            f"signals[{i}].kind",
            f"unknown signal kind {s.kind!r} for policy {policy.id!r}; known kinds: "
            + ", ".join(sorted(known)),
            suggestion=did_you_mean(s.kind, known),
        )
        for i, s in enumerate(case.signals)
        if s.kind not in known
    ]
    if problems:
        raise InputError(problems, subject=f"case {case.case_id}")


def check_product(case: Case, policy: Policy) -> None:
    """The case's product must be in the policy's product catalogue; list the known ones."""
    product = str(case.product)
    if product not in policy.products:
        known = list(policy.products)
        problem = FieldProblem(
            "product",
            f"unknown product {product!r} for policy {policy.id!r}; known products: "
            + ", ".join(known),
            suggestion=did_you_mean(product, known),
        )
        raise InputError([problem], subject=f"case {case.case_id}")


def _partition(policy: Policy) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    measured = tuple((k, f"has_{k}") for k, spec in policy.signals.items() if spec.measured)
    counted = tuple(k for k, spec in policy.signals.items() if not spec.measured)
    return measured, counted


def derive(
    case: Case,
    as_of: dt.datetime,
    policy: Policy,
    *,
    unknown_signals: UnknownSignals = "error",
) -> Derived:
    """Compute the flat facts of ``case`` at ``as_of`` under ``policy``.

    A signal whose kind the policy does not know is an error, or, with
    ``unknown_signals="ignore"``, left out and listed in :attr:`Derived.ignored`.
    """
    when = require_aware(as_of)
    check_product(case, policy)
    ignored: tuple[Signal, ...] = ()
    if unknown_signals == "ignore":
        ignored = tuple(s for s in case.signals if s.kind not in policy.signals)
    else:
        check_signal_kinds(case, policy)
    lookback = policy.parameters.get("lookback_days")
    days = int(lookback.value) if lookback is not None else DEFAULT_LOOKBACK_DAYS
    # The window is `days` whole days of elapsed time before as_of; the arithmetic is
    # done on a plain fixed-offset datetime, which is exact and fast.
    offset = when.utcoffset()
    assert offset is not None
    plain = dt.datetime(*when.timetuple()[:6], when.microsecond, tzinfo=dt.timezone(offset))
    start = plain - dt.timedelta(days=days)

    plugins = policy.plugins
    extra_signals: tuple[Signal, ...] = ()
    for plugin in plugins:
        extra_signals += plugin.derived_signals(case, when, policy)
    counted = tuple(
        s
        for s in (*case.signals, *extra_signals)
        if start < s.observed_at <= plain and s.kind in policy.signals
    )
    facts: dict[str, Any] = {
        "dpd": days_past_due(case, when),
        "product": str(case.product),
        "currency": case.currency,
        "principal": int(case.principal * MONEY_SCALE),
        "overdue_amount": int(case.overdue_amount * MONEY_SCALE),
        "guarantors": len(case.guarantors),
        "has_maturity_date": case.maturity_date is not None,
    }
    if case.maturity_date is not None:
        facts["days_to_maturity"] = (case.maturity_date - case.local_date(when)).days
    latest: dict[str, Signal] = {}
    counts: dict[str, int] = {}
    for signal in counted:
        counts[signal.kind] = counts.get(signal.kind, 0) + 1
        if signal.value is not None:
            prior = latest.get(signal.kind)
            if prior is None or signal.observed_at >= prior.observed_at:
                latest[signal.kind] = signal
    measured, counted_kinds = policy.memo("signal_partition", lambda: _partition(policy))
    for kind in counted_kinds:
        facts[kind] = counts.get(kind, 0)
    for kind, has in measured:
        found = latest.get(kind)
        facts[has] = found is not None
        if found is not None and found.value is not None:
            facts[kind] = _number(found.value)
    extra: dict[str, Any] = {}
    for plugin in plugins:
        extra.update(plugin.facts(case, when, policy, facts))
    facts.update(extra)
    return Derived(
        facts=facts, as_of=when, counted=counted, derived_signals=extra_signals, ignored=ignored
    )
