"""Hypothesis strategies for the core tests: valid cases under the default policy, and
the settings of the schema agreement searches."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pendulum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from collectrules import Case, Signal
from collectrules.model.case import DEFAULT_SIGNAL_KINDS

AS_OF = pendulum.parse("2026-06-30T12:00:00+08:00")

#: How many examples a schema agreement search draws with fresh seeds
#: (``COLLECTRULES_SCHEMA_SEARCH=4000``); 0: the fixed examples of every run.
SCHEMA_SEARCH = int(os.environ.get("COLLECTRULES_SCHEMA_SEARCH", "0"))


def schema_search(fixed: int) -> settings:
    """The settings of a schema agreement property: ``fixed`` examples drawn from a
    fixed seed (``derandomize``), so that every run checks the same changes, or
    :data:`SCHEMA_SEARCH` examples with fresh seeds when it is set."""
    return settings(
        max_examples=SCHEMA_SEARCH or fixed,
        derandomize=not SCHEMA_SEARCH,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


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


#: Days past due around the IFRS 9 presumptions (30, 90) and the EU default (90).
IFRS9_DPD = (0, 1, 29, 30, 31, 32, 89, 90, 91, 92, 180, 400)


@st.composite
def ifrs9_cases(draw: st.DrawFn) -> Case:
    """A EUR case for the ifrs9 policy, drawn around its classes' boundaries: days past
    due around 30 and 90, an amount past due around the EU materiality thresholds (EUR
    100, and 1% of the principal), and either rebuttal flag, or both."""
    dpd = draw(st.sampled_from(IFRS9_DPD) | st.integers(min_value=-5, max_value=800))
    zone = draw(st.sampled_from(ZONES))
    due = AS_OF.in_timezone(zone).date() - dt.timedelta(days=dpd)
    principal = draw(
        st.sampled_from([Decimal(v) for v in ("0", "5000", "10000", "10000.01", "20000")])
        | st.decimals(min_value=0, max_value=10**7, places=2)
    )
    share = (principal / 100).quantize(Decimal("0.01"))
    overdue = draw(
        st.sampled_from(
            [
                Decimal("0"),
                Decimal("99.99"),
                Decimal("100"),
                Decimal("100.01"),
                share,
                share + Decimal("0.01"),
                max(share - Decimal("0.01"), Decimal(0)),
            ]
        )
        | st.decimals(min_value=0, max_value=10**6, places=2)
    )
    return Case(
        case_id=f"I9-{draw(st.integers(min_value=0, max_value=10**6))}",
        product=draw(st.sampled_from(["loan", "credit_card", "receivable", "property_fee"])),
        currency="EUR",
        principal=principal,
        overdue_amount=overdue,
        due_date=due,
        timezone=zone,
        sicr_rebutted=draw(st.booleans()),
        default_rebutted=draw(st.booleans()),
        signals=tuple(draw(st.lists(signals(), max_size=2))),
    )
