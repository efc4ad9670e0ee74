"""What is owed at a date: principal, interest, penalty interest and fees, within caps.

The model (docs/charges.md), stated once:

* at the case's ``due_date`` its ``overdue_amount`` falls due: that is the overdue
  *principal*;
* from then on, day by day (actual/365, in the case's time zone), the unpaid overdue
  principal bears **interest** at the contract rate (``annual_rate``) and **penalty
  interest** at the excess of the overdue rate over it (``penalty_rate −
  annual_rate``); without a ``penalty_rate`` there is no penalty interest;
* each **fee** of the fee schedule falls due on its date;
* each **payment** event on or after the due date and at or before ``as_of`` pays the
  components in the policy's ``allocation_order``; what is left over is a *credit*;
* the **caps** of the policy's ``[money]`` section bound the charges cumulatively, at
  every payment and at ``as_of``. The rate cap (CN-PRIVATE-RATE-CAP) bounds the
  contract rate, then contract rate + penalty excess, to the cap rate, and interest +
  penalty interest + fees together to the cap rate on the same principal and days
  (fees are cut to fit); CN-PENALTY bounds penalty interest to ``excess`` × the
  interest (the loss of late payment read as interest at the contract rate). Each
  cut is shown with its rule, the amount before and after, and the cap.

Amounts are exact decimals; charges are rounded *down* to the currency's minor unit
(in the debtor's favour) when they fall due, so payments allocate without creating or
losing a cent: the allocated parts and the credit always sum to the payments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Set
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

import attrs

from collectrules._arguments import require_instance, wrong_kind
from collectrules._decimal import exact
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.model.case import Case, EventKind, currency_problem, currency_suggestion
from collectrules.model.decision import Decision, Quadrant, RemedyGrant
from collectrules.model.limits import MONEY
from collectrules.model.time import require_aware
from collectrules.money._units import quantum, require_minor_units
from collectrules.money.plans import money_section
from collectrules.money.terms import Component, MoneySection
from collectrules.policy.model import Policy

__all__ = [
    "AmountsDue",
    "CapApplied",
    "ReductionOffer",
    "amounts_due",
    "reductions_allowed",
    "reductions_open",
]

_YEAR = Decimal(365)

#: Digits enough to subtract accruals of 50 significant digits exactly.
_EXACT_DIGITS = 160


@attrs.frozen
class CapApplied:
    """A cap that cut a charge: the component, what it would have been, the rule."""

    rule: str
    component: Component
    before: Decimal
    after: Decimal
    cap: Decimal
    status: str | None = None

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "rule": self.rule,
            "component": self.component.value,
            "before": str(self.before),
            "after": str(self.after),
            "cap": str(self.cap),
            "status": self.status,
        }


@attrs.frozen
class AmountsDue:
    """What is owed at ``as_of``, by component, with what was paid and the caps cut."""

    currency: str
    as_of: dt.date
    due: Mapping[Component, Decimal]
    paid: Mapping[Component, Decimal]
    charged: Mapping[Component, Decimal]
    credit: Decimal
    payments: Decimal
    caps: tuple[CapApplied, ...] = ()

    @property
    @exact
    def total(self) -> Decimal:
        """Every component still owed."""
        return sum(self.due.values(), Decimal(0))

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as decimal strings, components in allocation order."""
        return {
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "due": {c.value: str(v) for c, v in self.due.items()},
            "paid": {c.value: str(v) for c, v in self.paid.items()},
            "charged": {c.value: str(v) for c, v in self.charged.items()},
            "total_due": str(self.total),
            "payments": str(self.payments),
            "credit": str(self.credit),
            "caps": [c.to_dict() for c in self.caps],
        }


@attrs.frozen
class _Accrual:
    """Exact cumulative accruals up to a date: as contracted, and within the rate cap."""

    interest: Decimal
    penalty: Decimal
    interest_capped: Decimal
    penalty_capped: Decimal
    capacity: Decimal  # the most interest + penalty + fees may be under the rate cap


def _capped(
    accrual: _Accrual, fees: Decimal, money: MoneySection, q: Decimal
) -> tuple[dict[Component, Decimal], list[CapApplied], Decimal]:
    """The cumulative charges after the caps, rounded down to the minor unit, and the
    fees a payment may pay now.

    Interest and penalty interest only grow with time. The fees within the rate cap
    (the cap less interest and penalty interest, each rounded down on its own) can
    fall back by a cent or two when the interest crosses a cent before the cap does;
    the fees a payment may pay are what the exact charges leave of the exact cap,
    rounded down once, which only grows and never exceeds them. So a payment never
    pays more of a component than is finally charged.
    """

    def down(x: Decimal) -> Decimal:
        return x.quantize(q, rounding=ROUND_DOWN)

    interest, penalty, fee_total = (
        down(accrual.interest_capped),
        down(accrual.penalty_capped),
        down(fees),
    )
    cuts: list[CapApplied] = []
    cap = money.rate_cap
    if cap is not None:
        most = down(accrual.capacity)
        for component, before, after in (
            (Component.INTEREST, down(accrual.interest), interest),
            (Component.PENALTY_INTEREST, down(accrual.penalty), penalty),
        ):
            if before > after:
                cuts.append(CapApplied(cap.rule, component, before, after, most, cap.status))
    pcap = money.penalty_cap
    if pcap is not None:
        most = down(accrual.interest_capped * pcap.excess.value)
        if penalty > most:
            cuts.append(
                CapApplied(pcap.rule, Component.PENALTY_INTEREST, penalty, most, most, pcap.status)
            )
            penalty = most
    if cap is not None:
        most = down(accrual.capacity)
        room = max(Decimal(0), most - interest - penalty)
        if fee_total > room:
            cuts.append(CapApplied(cap.rule, Component.FEES, fee_total, room, most, cap.status))
            fee_total = room
        with localcontext() as ctx:
            ctx.prec = _EXACT_DIGITS
            spent = accrual.penalty_capped
            if pcap is not None:
                spent = min(spent, accrual.interest_capped * pcap.excess.value)
            left = accrual.capacity - accrual.interest_capped - spent
        payable = max(Decimal(0), min(fee_total, down(left)))
    else:
        payable = fee_total
    return (
        {
            Component.FEES: fee_total,
            Component.PENALTY_INTEREST: penalty,
            Component.INTEREST: interest,
        },
        cuts,
        payable,
    )


@exact
def amounts_due(case: Case, as_of: dt.datetime | str, *, policy: Policy) -> AmountsDue:
    """What ``case`` owes at ``as_of`` under its contract terms and ``policy``'s caps."""
    if type(case) is not Case:
        require_instance(case, Case, "case", "a Case")
    when = require_aware(as_of)
    today = case.local_date(when)
    money = money_section(policy) or MoneySection()
    q = _case_quantum(case)
    rate = case.annual_rate or Decimal(0)
    overdue_rate = case.penalty_rate if case.penalty_rate is not None else rate
    extra = max(Decimal(0), overdue_rate - rate)
    cap_rate = money.rate_cap.value if money.rate_cap is not None else None
    # Within the rate cap, the rates themselves are cut: contract rate first.
    rate_in = rate if cap_rate is None else min(rate, cap_rate)
    extra_in = extra if cap_rate is None else min(extra, cap_rate - rate_in)

    payments = sorted(
        (case.local_date(e.at), e.at, e.amount or Decimal(0))
        for e in case.events
        if e.kind is EventKind.PAYMENT and e.at <= when and case.local_date(e.at) >= case.due_date
    )
    order = money.allocation_order
    paid = dict.fromkeys(Component, Decimal(0))
    charged = dict.fromkeys(Component, Decimal(0))
    charged[Component.PRINCIPAL] = case.overdue_amount
    # What a payment may pay of each component: the charges, but of the fees only the
    # part that stays charged at every later date (see ``_capped``).
    payable = dict(charged)
    credit = Decimal(0)
    acc = [Decimal(0)] * 5  # interest, penalty, interest capped, penalty capped, capacity
    last = case.due_date
    cuts: list[CapApplied] = []

    def settle(on: dt.date) -> None:
        nonlocal last, cuts
        days = Decimal(max(0, (on - last).days))
        outstanding = case.overdue_amount - paid[Component.PRINCIPAL]
        with localcontext() as ctx:
            ctx.prec = 50
            for i, r in enumerate((rate, extra, rate_in, extra_in, cap_rate or Decimal(0))):
                acc[i] += outstanding * r * days / _YEAR
        last = max(last, on)
        fees = sum((f.amount for f in case.fees if f.charged_on <= on), Decimal(0))
        capped, cuts, fees_payable = _capped(_Accrual(*acc), fees, money, q)
        charged.update(capped)
        payable.update(capped)
        payable[Component.FEES] = fees_payable

    for on, _, amount in payments:
        settle(on)
        left = amount
        for component in order:
            owed = payable[component] - paid[component]
            part = min(owed, left) if owed > 0 else Decimal(0)
            paid[component] += part
            left -= part
        credit += left
    settle(today)

    def unit(amount: Decimal) -> Decimal:
        # Each amount is a whole number of minor units already (the inputs are checked,
        # the charges rounded down): written with them ("0.00", not "0").
        return amount.quantize(q)

    return AmountsDue(
        currency=case.currency,
        as_of=today,
        due={c: unit(max(Decimal(0), charged[c] - paid[c])) for c in order},
        paid={c: unit(paid[c]) for c in order},
        charged={c: unit(charged[c]) for c in order},
        credit=unit(credit),
        payments=unit(sum((p[2] for p in payments), Decimal(0))),
        caps=tuple(cuts),
    )


def _case_quantum(case: Case) -> Decimal:
    """The minor unit of the case's currency, once each amount :func:`amounts_due` reads
    of the case (its overdue amount, its fees, its payments) is found a whole number of
    it; an amount of more decimals is an :class:`InputError` naming its field, as a plan
    on such an amount is refused."""
    subject = f"case {quote(case.case_id)}"
    q = require_minor_units(case.overdue_amount, case.currency, "overdue_amount", subject)
    for index, fee in enumerate(case.fees):
        require_minor_units(fee.amount, case.currency, f"fees[{index}].amount", subject)
    for index, event in enumerate(case.events):
        if event.kind is EventKind.PAYMENT and event.amount is not None:
            path = f"events[{index}].amount"
            require_minor_units(event.amount, case.currency, path, subject)
    return q


@attrs.frozen
class ReductionOffer:
    """The largest reduction a policy rule allows a decided case, and why."""

    id: str
    remedy: str
    max_share: Decimal
    amount: Decimal
    reason: str
    cites: tuple[str, ...]

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "id": self.id,
            "remedy": self.remedy,
            "max_share": str(self.max_share),
            "amount": str(self.amount),
            "reason": self.reason,
            "cites": list(self.cites),
        }


@exact
def reductions_allowed(
    amounts: AmountsDue, decision: Decision, *, policy: Policy
) -> tuple[ReductionOffer, ...]:
    """The reductions of the policy's ``[money]`` section open to the decided case.

    A reduction is open only inside the decision's envelope: the decision allows its
    remedy (so no block applies) and the quadrant is one of its quadrants. Its amount is
    ``max_share`` × the components it applies to, rounded down to the minor unit.
    """
    require_instance(amounts, AmountsDue, "amounts", "AmountsDue (from amounts_due)")
    require_instance(decision, Decision, "decision", "a Decision")
    return reductions_open(amounts, decision.quadrant, decision.allowed, policy=policy)


@exact
def reductions_open(
    amounts: AmountsDue,
    quadrant: Quadrant,
    allowed: Iterable[RemedyGrant],
    *,
    policy: Policy,
) -> tuple[ReductionOffer, ...]:
    """:func:`reductions_allowed` for a decision in the making: its quadrant (a
    :class:`~collectrules.model.decision.Quadrant` or its value) and the remedies it
    allows. Arguments of another kind, and amounts due in a currency that is not an ISO
    4217 code or that are not amounts, are an :class:`InputError` naming them."""
    require_instance(amounts, AmountsDue, "amounts", "AmountsDue (from amounts_due)")
    quadrant_value = _quadrant(quadrant)
    granted = _granted(allowed)
    money = money_section(policy)
    q = _quantum_of(amounts)
    due = _due_of(amounts)
    if money is None:
        return ()
    out = []
    for r in money.reductions:
        if r.remedy not in granted or quadrant_value not in r.quadrants:
            continue
        base = sum((due.get(c, Decimal(0)) for c in r.applies_to), Decimal(0))
        amount = (base * r.max_share.value).quantize(q, rounding=ROUND_DOWN)
        out.append(
            ReductionOffer(r.id, r.remedy.value, r.max_share.value, amount, r.reason, r.cites)
        )
    return tuple(out)


_QUADRANTS = tuple(q.value for q in Quadrant)


def _quadrant(value: object) -> str:
    """The value of a quadrant given as a member or as its value (``'Q2'``)."""
    if isinstance(value, str) and value in _QUADRANTS:
        return str(value)
    msg = f"expected a Quadrant, one of {', '.join(_QUADRANTS)}, got {quote(value)}"
    raise InputError([FieldProblem("quadrant", msg)])


def _granted(allowed: object) -> set[str]:
    """The remedies of ``allowed``, an iterable of :class:`RemedyGrant`."""
    if isinstance(allowed, str | bytes | Mapping | Set) or not isinstance(allowed, Iterable):
        raise wrong_kind("allowed", allowed, "a list of RemedyGrant (a decision's allowed)")
    granted: set[str] = set()
    for index, grant in enumerate(allowed):
        if not isinstance(grant, RemedyGrant):
            raise wrong_kind(f"allowed[{index}]", grant, "a RemedyGrant")
        granted.add(grant.remedy)
    return granted


def _quantum_of(amounts: AmountsDue) -> Decimal:
    """The minor unit of the currency of ``amounts``: one built or changed by hand may
    hold a code that is none (read as two decimals, it would round a yen to sen)."""
    if (problem := currency_problem(amounts.currency)) is not None:
        hint = currency_suggestion(amounts.currency)
        raise InputError([FieldProblem("amounts.currency", problem, suggestion=hint)])
    return quantum(amounts.currency)


def _due_of(amounts: AmountsDue) -> Mapping[Component, Decimal]:
    """The amounts still owed, each checked: a finite decimal from 0 to the most an
    amount may be."""
    due = amounts.due
    if not isinstance(due, Mapping):
        raise wrong_kind("amounts.due", due, "amounts by component (a mapping)")
    for component, value in due.items():
        if not (isinstance(value, Decimal) and value.is_finite() and 0 <= value <= MONEY.maximum):
            msg = f"expected an amount from 0 to {MONEY.maximum:,}, got {quote(value)}"
            raise InputError([FieldProblem(f"amounts.due.{_as_text(component)}", msg)])
    return due


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else quote(value)
