"""Hypothesis strategies for the core tests: valid cases under the default policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from hypothesis import strategies as st

from collectrules import Case, Signal
from collectrules.model.case import DEFAULT_SIGNAL_KINDS

AS_OF = pendulum.parse("2026-06-30T12:00:00+08:00")
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "UTC")
COUNTED = tuple(
    k
    for group in ("willingness_negative", "willingness_positive", "ability_negative")
    for k in DEFAULT_SIGNAL_KINDS[group]
)
#: The W-SIGNS: each one in force impairs willingness. (A refused disposal is negative
#: too, but impairs it only when repeated after negotiation: Q2-DOWNGRADE.)
NEGATIVE_WILLINGNESS = tuple(
    k for k in DEFAULT_SIGNAL_KINDS["willingness_negative"] if k != "refused_disposal"
)


@st.composite
def signals(draw: st.DrawFn) -> Signal:
    """A counted or measured signal, observed within the last 200 days before AS_OF."""
    minutes = draw(st.integers(min_value=0, max_value=200 * 24 * 60))
    at = AS_OF.subtract(minutes=minutes)
    if draw(st.booleans()):
        kind = draw(st.sampled_from(COUNTED))
        return Signal(kind=kind, observed_at=at)
    if draw(st.booleans()):
        value = draw(
            st.sampled_from(
                [
                    Decimal("0"),
                    Decimal("0.5"),
                    Decimal("0.99"),
                    Decimal("1"),
                    Decimal("1.5"),
                    Decimal("3"),
                ]
            )
        )
        return Signal(kind="cash_coverage", observed_at=at, value=value)
    value = draw(st.sampled_from([Decimal(v) for v in (0, 1, 12, 23, 24, 25, 36, 60)]))
    return Signal(kind="recovery_months", observed_at=at, value=value)


@st.composite
def cases(draw: st.DrawFn, *, max_signals: int = 6) -> Case:
    """A valid case of any product, with up to ``max_signals`` signals."""
    dpd = draw(st.integers(min_value=-5, max_value=800))
    zone = draw(st.sampled_from(ZONES))
    due = AS_OF.in_timezone(zone).date() - dt.timedelta(days=dpd)
    amount = draw(st.decimals(min_value=0, max_value=10**7, places=2))
    return Case(
        case_id=f"H-{draw(st.integers(min_value=0, max_value=10**6))}",
        product=draw(st.sampled_from(["loan", "credit_card", "receivable", "property_fee"])),
        currency=draw(st.sampled_from(["CNY", "USD", "EUR", "JPY"])),
        principal=draw(st.decimals(min_value=0, max_value=10**8, places=2)),
        overdue_amount=amount,
        due_date=due,
        timezone=zone,
        signals=tuple(draw(st.lists(signals(), max_size=max_signals))),
    )
