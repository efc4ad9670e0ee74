"""Counterexample cases: a real case built from a cell of the search space."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from collectrules._arguments import require_instance, require_mapping, require_text
from collectrules._decimal import exact
from collectrules.authoring.verify._events import EVENTS, events_of
from collectrules.authoring.verify._values import (
    ABSENT,
)
from collectrules.conditions import (
    MONEY_SCALE,
)
from collectrules.errors import FieldProblem, InputError, figure, quote
from collectrules.model.case import SHARE_FIELDS, Product
from collectrules.model.decision import Quadrant
from collectrules.model.limits import MAX_GUARANTORS, MAX_SIGNALS, MAX_YEAR, MIN_YEAR
from collectrules.model.time import require_aware
from collectrules.policy import Policy


def build_case(
    policy: Policy,
    as_of: Any,
    witness: Mapping[str, Any],
    world: str = "",
    *,
    case_id: str = "verify",
) -> dict[str, Any]:
    """A JSON-ready case whose flat facts at ``as_of`` have the witness's values.

    Fields the witness does not set take neutral values: a loan in CNY, 100,000 lent,
    10,000 overdue, no guarantor, no maturity date, no signal. Besides facts, the
    witness may set case inputs that a regulation pack reads and no fact shows: the
    case fields ``opened_on`` (a date, or ISO text), ``consecutive_minimum_payments``,
    ``debtor_npl_share`` and ``debtor_90dpd_share_all_banks`` (a decimal, or text), and
    ``restructured`` (true: a ``restructured`` event at ``as_of``), and ``events``: a
    history of events, each a tuple of ``(field, value)`` pairs timed in ``hours``
    before ``as_of`` (see :mod:`collectrules.authoring.verify._events`). ``Case.from_dict``
    checks what the witness gives (an amount, a product, a date); arguments of another kind, a
    ``dpd`` or ``days_to_maturity`` that puts a date outside the supported years, and
    more signals or guarantors than a case may hold are an :class:`InputError` here.
    """
    require_instance(policy, Policy, "policy", "a Policy")
    when = require_aware(as_of).in_timezone("UTC")
    require_mapping(witness, "witness", "a mapping of fact names to values")
    require_text(world, "world")
    require_text(case_id, "case_id")
    get = _world_getter(witness, world)
    today = when.date()
    dpd = get("dpd", 0)
    dpd = dpd if isinstance(dpd, int) and dpd > 0 else 0
    _days_within("dpd", today, -dpd)
    overdue = get("overdue_amount", 10_000 * MONEY_SCALE)
    principal = get("principal", 100_000 * MONEY_SCALE)
    case: dict[str, Any] = {
        "case_id": case_id,
        "product": get("product", Product.LOAN.value),
        "currency": get("currency", "CNY"),
        "principal": _money_text(principal),
        "overdue_amount": _money_text(overdue),
        "due_date": (today - dt.timedelta(days=dpd)).isoformat(),
        "timezone": "UTC",
    }
    dtm = get("days_to_maturity", ABSENT)
    if dtm is not ABSENT and isinstance(dtm, int):
        _days_within("days_to_maturity", today, dtm)
        case["maturity_date"] = (today + dt.timedelta(days=dtm)).isoformat()
    elif get("has_maturity_date", False) is True:
        case["maturity_date"] = (today + dt.timedelta(days=365)).isoformat()
    guarantors = get("guarantors", 0)
    if isinstance(guarantors, int) and guarantors > 0:
        _at_most("guarantors", guarantors, MAX_GUARANTORS, "guarantors")
        case["guarantors"] = [{"id": f"G{i + 1}"} for i in range(guarantors)]
    observed = when.isoformat()
    signals: list[dict[str, Any]] = []
    for kind, spec in policy.signals.items():
        if spec.measured:
            value = get(kind, ABSENT)
            if value is ABSENT and get(f"has_{kind}", False) is True:
                value = 1
            if value is not ABSENT:
                signals.append({"kind": kind, "observed_at": observed, "value": value})
        else:
            count = get(kind, 0)
            if isinstance(count, int) and count > 0:
                _at_most(kind, len(signals) + count, MAX_SIGNALS, "signals in all")
                signals += [{"kind": kind, "observed_at": observed}] * count
    case["signals"] = signals
    # The case inputs a regulation pack reads and no fact shows (see _inputs).
    for name in _CASE_INPUTS:
        value = get(name, ABSENT)
        if value is not ABSENT and value is not None:
            case[name] = _input_text(value)
    # The debtor reached at as_of (on or after the due date): debtor_contacted.
    events: list[dict[str, Any]] = []
    if get("debtor_contacted", False) is True:
        events.append({"kind": "contact_attempt", "at": observed, "outcome": "reached"})
    # A distressed restructuring at as_of: restructured.
    if get("restructured", False) is True:
        events.append({"kind": "restructured", "at": observed})
    # A history of events (see _events): contacts, promises, payments, visits …
    history = get(EVENTS, ())
    if history:
        if not isinstance(history, tuple | list):
            msg = f"expected a sequence of events, got {quote(history)}"
            raise InputError([FieldProblem(f"witness.{EVENTS}", msg)])
        owed = Decimal(int(overdue)) / Decimal(MONEY_SCALE) if isinstance(overdue, int) else 0
        events += events_of(history, when, Decimal(owed))
    case["events"] = events
    return case


#: Witness keys copied onto the case as they are (dates and decimals as text).
_CASE_INPUTS = ("opened_on", "consecutive_minimum_payments", *SHARE_FIELDS)


def _input_text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _days_within(name: str, today: dt.date, days: int) -> None:
    """Refuse ``days`` from ``today`` landing outside the supported years."""
    lowest, highest = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)
    if not (lowest - today).days <= days <= (highest - today).days:
        msg = f"{figure(days)} days from {today} is outside the years {MIN_YEAR} to {MAX_YEAR}"
        raise InputError([FieldProblem(f"witness.{name}", msg)])


def _at_most(name: str, count: int, limit: int, what: str = "items") -> None:
    if count > limit:
        msg = f"expected at most {limit:,} {what}, got {figure(count)}"
        raise InputError([FieldProblem(f"witness.{name}", msg)])


def _world_getter(witness: Mapping[str, Any], world: str) -> Any:
    def get(name: str, default: Any) -> Any:
        if world and name + world in witness:
            return witness[name + world]
        return witness.get(name, default)

    return get


@exact
def _money_text(scaled: Any) -> str:
    value = Decimal(int(scaled)) / Decimal(MONEY_SCALE) if isinstance(scaled, int) else Decimal(0)
    return format(value.normalize(), "f")


def _show(value: Any) -> str:
    return "absent" if value is ABSENT or value is None else repr(value)


def _softer(before: Quadrant, after: Quadrant) -> bool:
    return (after.willing and not before.willing) or (after.able and not before.able)
