"""The fact space of a policy, cut at every threshold its conditions mention.

Both the hypothesis strategies and the invariant checks start here. A policy's rules
read fact fields (``dpd``, ``principal``, ``refused_to_pay``, ``cash_coverage`` …); each
comparison cuts a field's range at a threshold. Between two cuts every value behaves the
same under every rule, so one representative per interval (a *class*) is enough to
check the policy exactly, and the values right next to each threshold are the ones a
test should hit.

The fields a case controls are grouped into *variables*: a counted signal kind, a
measured signal kind (absent, or present with a value), days past due together with the
overdue amount when both are read (a case with nothing overdue is never past due), the
maturity date (none, or a number of days away), and so on. :func:`build_case` turns an
assignment of variables into a valid :class:`~collectrules.model.case.Case`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules._decimal import exact
from collectrules.conditions import (
    MONEY_SCALE,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Op,
    Param,
)
from collectrules.conditions.ir import Value
from collectrules.errors import CollectRulesError
from collectrules.model.case import (
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Guarantor,
    Product,
    Signal,
)
from collectrules.policy import Policy
from collectrules.policy.derive import DEFAULT_LOOKBACK_DAYS, derive

__all__ = [
    "DEFAULT_AS_OF",
    "FALLBACK_CURRENCIES",
    "TIMEZONES",
    "Var",
    "build_case",
    "conditions",
    "cuts",
    "lookback_days",
    "neighbours",
    "variables",
]

#: The instant the kit decides at when a test names none.
DEFAULT_AS_OF: pendulum.DateTime = pendulum.datetime(2026, 4, 3, 12, tz="Asia/Shanghai")

#: The zones the strategies draw from: whole, half-hour and DST-shifting offsets.
TIMEZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)

#: Currencies a case may use when the policy's conditions name none.
FALLBACK_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "HKD")

#: A cut of a field's range: ``(value, True)`` separates ``< value`` from ``>= value``;
#: ``(value, False)`` separates ``<= value`` from ``> value``.
Cut = tuple[Decimal, bool]

_CENT = Decimal("0.01")
_DEFAULTS: Mapping[str, Any] = {
    "principal": Decimal("100000.00"),
    "overdue_amount": Decimal("5000.00"),
    "dpd": 30,
    "product": Product.LOAN.value,
    "currency": "CNY",
    "guarantors": 0,
    "maturity": None,
}


def conditions(policy: Policy) -> Iterator[Condition]:
    """Every rule condition of the policy: layer rules, then remedy rules."""
    for layer in policy.layers:
        for rule in layer.rules:
            yield rule.when
    for remedy in policy.remedy_rules:
        yield remedy.when


def _resolve(value: Value, params: Mapping[str, Any]) -> Any:
    return params[value.name] if isinstance(value, Param) else value


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))
    return Decimal(value)


def cuts(policy: Policy) -> dict[str, set[Cut]]:
    """The cuts every comparison makes in each numeric field, parameters resolved."""
    params = policy.parameter_values
    out: dict[str, set[Cut]] = {}
    for cond in conditions(policy):
        for node in cond.walk():
            found: list[Cut] = []
            if isinstance(node, Compare):
                value = _decimal(_resolve(node.value, params))
                if value is None:
                    continue
                if node.op in (Op.GE, Op.LT):
                    found.append((value, True))
                elif node.op in (Op.GT, Op.LE):
                    found.append((value, False))
                else:
                    found += [(value, True), (value, False)]
            elif isinstance(node, Between):
                low = _decimal(_resolve(node.low, params))
                high = _decimal(_resolve(node.high, params))
                if low is not None:
                    found.append((low, True))
                if high is not None:
                    found.append((high, False))
            elif isinstance(node, In):
                for v in node.values:
                    value = _decimal(_resolve(v, params))
                    if value is not None:
                        found += [(value, True), (value, False)]
            else:
                continue
            out.setdefault(node.field, set()).update(found)
    return out


def mentioned(policy: Policy, field: str) -> tuple[Any, ...]:
    """The constants compared with ``field`` (strings included), in a stable order."""
    params = policy.parameter_values
    seen: list[Any] = []
    for cond in conditions(policy):
        for node in cond.walk():
            if isinstance(node, Compare) and node.field == field:
                values: tuple[Value, ...] = (node.value,)
            elif isinstance(node, In) and node.field == field:
                values = node.values
            else:
                continue
            for v in values:
                resolved = _resolve(v, params)
                if resolved not in seen:
                    seen.append(resolved)
    return tuple(seen)


def read_fields(policy: Policy) -> frozenset[str]:
    """Every field some rule reads."""
    found: set[str] = set()
    for cond in conditions(policy):
        found |= cond.fields()
    return frozenset(found)


def phase_points(policy: Policy, as_of: dt.datetime) -> frozenset[int]:
    """The days past due at which the timeline's ``phase`` turns P3 for each product (the
    last day before it, and the day it turns), for a case with no events at ``as_of``.

    A policy that reads ``phase`` has a threshold there that no condition writes in
    days: the escalation stage of each plan (months differ in length, so it moves with
    ``as_of``). The phase only ever moves forward, so each point is found by bisection.
    """
    if "phase" not in read_fields(policy):
        return frozenset()
    found: set[int] = set()
    for product in map(str, policy.products):

        def p3(dpd: int, product: str = product) -> bool:
            case = _case(policy, {"dpd": dpd, "product": product}, as_of, "Asia/Shanghai", "x")
            try:
                return bool(derive(case, as_of, policy).facts.get("phase") == "P3")
            except CollectRulesError:
                return False

        low, high = 0, _PHASE_HORIZON
        if not p3(high):
            continue
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if p3(middle) else (middle, high)
        found |= {low, high}
    return frozenset(found)


#: Past this many days past due, a plan that has not escalated never will.
_PHASE_HORIZON = 4000


def lookback_days(policy: Policy) -> int:
    """The policy's signal window, in days."""
    param = policy.parameters.get("lookback_days")
    return int(param.value) if param is not None else DEFAULT_LOOKBACK_DAYS


# --------------------------------------------------------------------------- classes


def int_ladder(
    field_cuts: set[Cut], lower: int | None
) -> tuple[tuple[int, ...], tuple[int | None, ...]]:
    """Classes of an integer field: their left ends (representatives) and right ends."""
    points: set[int] = set()
    for value, before in field_cuts:
        # The first integer of the upper side of the cut.
        points.add(math.ceil(value) if before else math.floor(value) + 1)
    starts = sorted(points)
    if lower is not None:
        starts = [p for p in starts if p > lower]
        starts.insert(0, lower)
    elif not starts:
        starts = [0]
    else:
        starts.insert(0, starts[0] - 1)
    ends: list[int | None] = [s - 1 for s in starts[1:]]
    ends.append(None)
    return tuple(starts), tuple(ends)


@exact
def real_classes(field_cuts: set[Cut], lower: Decimal | None, step: Decimal) -> tuple[Decimal, ...]:
    """One value in each class of a real-valued field, in increasing order.

    Each threshold is a class of its own; between two thresholds the value just above
    the lower one (or the midpoint, when they are close) stands for the gap.
    """
    values = sorted({v for v, _ in field_cuts})
    if not values:
        return (lower if lower is not None else Decimal(0),)
    reps: list[Decimal] = []
    below = values[0] - step
    if lower is None or below >= lower:
        reps.append(below)
    elif values[0] > lower:
        reps.append(lower)
    for low, high in itertools.pairwise(values):
        reps.append(low)
        gap = low + step if low + step < high else (low + high) / 2
        reps.append(gap)
    reps.append(values[-1])
    reps.append(values[-1] + step)
    return tuple(r for r in reps if lower is None or r >= lower)


@exact
def neighbours(field_cuts: set[Cut], *, integer: bool, lower: Decimal | None) -> tuple[Any, ...]:
    """The boundary values of a field: each threshold, and the values right around it.

    Integers get ``t - 1, t, t + 1``; real values (money and measures) get
    ``t - 1, t - 0.01, t, t + 0.01, t + 1``. Values below ``lower`` are dropped.
    """
    found: set[Any] = set()
    for value, _ in field_cuts:
        if integer:
            base = {math.floor(value), math.ceil(value)}
            found |= {b + d for b in base for d in (-1, 0, 1)}
        else:
            found |= {value + d for d in (-1, -_CENT, 0, _CENT, 1)}
    return tuple(sorted(v for v in found if lower is None or v >= lower))


# --------------------------------------------------------------------------- variables


@attrs.frozen
class Var:
    """A part of a case that some rule reads, and the classes of its values.

    ``domain`` holds one value per class. For a counted variable (a signal count, days
    past due, guarantors) ``upper`` holds the largest value of each class (``None``
    for the last, unbounded one). ``kind`` says how the value becomes case data:
    ``count``, ``measured``, ``overdue``, ``dpd``, ``money``, ``product``,
    ``currency``, ``guarantors``, ``maturity`` or ``fact`` (a field no case sets).
    """

    name: str
    kind: str
    fields: tuple[str, ...]
    domain: tuple[Any, ...]
    upper: tuple[Any, ...] = ()

    def facts(self, value: Any) -> dict[str, Any]:
        """The flat facts this variable contributes when it takes ``value``."""
        return _facts(self, value)


@exact
def _facts(var: Var, value: Any) -> dict[str, Any]:
    kind = var.kind
    if kind in ("count", "guarantors", "dpd"):
        return {var.fields[0]: value}
    if kind == "measured":
        if value is None:
            return {f"has_{var.name}": False}
        return {var.name: _number(value), f"has_{var.name}": True}
    if kind == "money":
        return {var.fields[0]: int(value * MONEY_SCALE)}
    if kind == "overdue":
        dpd, amount = value
        return {"dpd": dpd if amount > 0 else 0, "overdue_amount": int(amount * MONEY_SCALE)}
    if kind == "maturity":
        if value is None:
            return {"has_maturity_date": False}
        return {"has_maturity_date": True, "days_to_maturity": value}
    return {var.fields[0]: value}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def variables(policy: Policy) -> dict[str, Var]:
    """The variables behind every field the policy's rules read, keyed by name."""
    read = read_fields(policy)
    all_cuts = cuts(policy)
    schema = policy.schema()
    outputs = {layer.output for layer in policy.layers}
    out: dict[str, Var] = {}

    def ints(field: str, lower: int | None) -> tuple[tuple[int, ...], tuple[int | None, ...]]:
        return int_ladder(all_cuts.get(field, set()), lower)

    @exact
    def money(field: str) -> tuple[Decimal, ...]:
        return real_classes(all_cuts.get(field, set()), Decimal(0), _CENT)

    if "dpd" in read and "overdue_amount" in read:
        days, _ = ints("dpd", 0)
        amounts = money("overdue_amount")
        domain = tuple((d, a) for a in amounts for d in days if a > 0 or d == 0)
        out["overdue"] = Var("overdue", "overdue", ("dpd", "overdue_amount"), domain)
    elif "dpd" in read:
        days, ends = ints("dpd", 0)
        out["dpd"] = Var("dpd", "dpd", ("dpd",), days, ends)
    elif "overdue_amount" in read:
        out["overdue_amount"] = Var(
            "overdue_amount", "money", ("overdue_amount",), money("overdue_amount")
        )
    if "principal" in read:
        out["principal"] = Var("principal", "money", ("principal",), money("principal"))
    if "product" in read:
        products = tuple(map(str, policy.products))
        out["product"] = Var("product", "product", ("product",), products)
    if "currency" in read:
        named = tuple(c for c in mentioned(policy, "currency") if isinstance(c, str))
        other = next(c for c in FALLBACK_CURRENCIES if c not in named)
        out["currency"] = Var("currency", "currency", ("currency",), (*named, other))
    if "guarantors" in read:
        counts, ends = ints("guarantors", 0)
        out["guarantors"] = Var("guarantors", "guarantors", ("guarantors",), counts, ends)
    if "debtor_contacted" in read:
        out["contacted"] = Var("contacted", "contacted", ("debtor_contacted",), (False, True))
    if read & {"has_maturity_date", "days_to_maturity"}:
        days, _ = ints("days_to_maturity", None)
        out["maturity"] = Var(
            "maturity", "maturity", ("has_maturity_date", "days_to_maturity"), (None, *days)
        )
    for kind, spec in policy.signals.items():
        if spec.measured and read & {kind, f"has_{kind}"}:
            values = real_classes(all_cuts.get(kind, set()), Decimal(0), _CENT)
            out[kind] = Var(kind, "measured", (kind, f"has_{kind}"), (None, *values))
        elif not spec.measured and kind in read:
            counts, ends = ints(kind, 0)
            out[kind] = Var(kind, "count", (kind,), counts, ends)
    covered = {f for var in out.values() for f in var.fields} | outputs
    for name in sorted(read - covered):
        fspec = schema.get(name)
        if fspec is None:
            continue
        out[f"fact:{name}"] = Var(f"fact:{name}", "fact", (name,), _free_domain(fspec, all_cuts))
    return out


def _free_domain(spec: FieldSpec, all_cuts: Mapping[str, set[Cut]]) -> tuple[Any, ...]:
    if spec.type is FieldType.BOOL:
        return (False, True)
    if spec.type is FieldType.ENUM:
        return spec.choices
    if spec.type is FieldType.INT:
        return int_ladder(all_cuts.get(spec.name, set()), None)[0]
    if spec.numeric:
        return tuple(_number(v) for v in real_classes(all_cuts.get(spec.name, set()), None, _CENT))
    return ("",)


def field_var(variables_: Mapping[str, Var]) -> dict[str, str]:
    """Which variable sets each fact field."""
    return {f: var.name for var in variables_.values() for f in var.fields}


# --------------------------------------------------------------------------- cases


def build_case(
    policy: Policy,
    assignment: Mapping[str, Any],
    *,
    as_of: dt.datetime,
    timezone: str = "Asia/Shanghai",
    case_id: str = "counterexample",
) -> Case | None:
    """A valid case whose variables take the values of ``assignment``.

    Variables the assignment leaves out take plain values: 30 days past due on 5,000
    overdue of a 100,000 loan in CNY, no guarantor, no maturity date, no signals.

    A field that a section computes from the case (the timeline's ``phase`` or a step, a
    bucket, an open emergency) is a ``fact:`` variable: no case sets it directly. The
    case is then searched for: the assignment's own case first, then the same case on
    other days past due and, unless the assignment names one, other products, until the
    policy derives every ``fact:`` value asked for. Returns ``None`` when none does.
    """
    wanted = {name[5:]: v for name, v in assignment.items() if name.startswith("fact:")}
    plain = {k: v for k, v in assignment.items() if not k.startswith("fact:")}
    if not wanted:
        return _case(policy, plain, as_of, timezone, case_id)
    for candidate in _candidates(policy, plain):
        case = _case(policy, candidate, as_of, timezone, case_id)
        try:
            facts = derive(case, as_of, policy).facts
        except CollectRulesError:
            continue
        if all(facts.get(name) == value for name, value in wanted.items()):
            return case
    return None


#: Days past due tried, in order, when a case must give a section's fact a value.
_DPD_TRIED = (30, 0, 1, 3, 7, 14, 15, 20, 29, 31, 32, 35, 45, 60, 89, 90, 91, 120, 180,
              181, 182, 200, 365, 366, 400, 730, 1095, 1096, 1100, 2000)  # fmt: skip


def _candidates(policy: Policy, plain: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The assignment, then the same with other days past due and products."""
    yield dict(plain)
    products = (
        (plain["product"],)
        if "product" in plain
        else tuple(dict.fromkeys((_DEFAULTS["product"], *map(str, policy.products))))
    )
    for product in products:
        for dpd in _DPD_TRIED:
            candidate = {**plain, "product": product}
            if "overdue" in plain:
                amount = plain["overdue"][1]
                if dpd and not amount:
                    continue
                candidate["overdue"] = (dpd, amount)
            else:
                candidate["dpd"] = dpd
            yield candidate


def _case(
    policy: Policy,
    assignment: Mapping[str, Any],
    as_of: dt.datetime,
    timezone: str,
    case_id: str,
) -> Case:
    when = pendulum.instance(as_of)
    today = when.in_timezone(timezone).date()
    values = {**_DEFAULTS, **assignment}
    dpd, amount = values["dpd"], values["overdue_amount"]
    if "overdue" in assignment:
        dpd, amount = assignment["overdue"]
    maturity = values["maturity"]
    signals: list[Signal] = []
    seen = when.in_timezone(timezone).subtract(hours=1)
    for kind, spec in policy.signals.items():
        if kind not in assignment:
            continue
        value = assignment[kind]
        if spec.measured:
            if value is not None:
                signals.append(Signal(kind=kind, observed_at=seen, value=Decimal(value)))
        else:
            for i in range(int(value)):
                signals.append(Signal(kind=kind, observed_at=seen.subtract(minutes=i)))
    # The debtor reached an hour before as_of (on or after the due date): debtor_contacted.
    reached = (
        (Event(EventKind.CONTACT_ATTEMPT, seen, ContactOutcome.REACHED),)
        if assignment.get("contacted") is True
        else ()
    )
    return Case(
        case_id=case_id,
        events=reached,
        product=values["product"],
        currency=values["currency"],
        principal=values["principal"],
        overdue_amount=amount,
        due_date=today - dt.timedelta(days=int(dpd)),
        timezone=timezone,
        maturity_date=None if maturity is None else today + dt.timedelta(days=int(maturity)),
        signals=tuple(signals),
        guarantors=tuple(Guarantor(id=f"G{i + 1}") for i in range(int(values["guarantors"]))),
    )
