"""A time-barred debt goes to court only with the time bar in view.

Regulation F forbids suing, or threatening to sue, on a time-barred debt
(US-REGF-TIMEBARRED). Asking a court to preserve the debtor's assets (`preserve_assets`,
granted when assets found cover the claim) is a step of a suit: the decision that blocks
litigation for the time bar blocks it too, with the same rule.

Where a claim past its limitation period may still be sued on (China, CN-LIMITATION-EXPIRED;
the United Kingdom, UK-LIMITATION), the suit is granted with the debtor's right to raise
the time bar as its condition (R-LIMITATION-EXPIRED), and so is the preservation of assets
that secures it (R-ASSETS-PRESERVE-TIME-BAR).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision
from collectrules.model.remedies import Remedy
from helpers import shared_engine

AS_OF = "2026-04-03T12:00:00-04:00"
SEEN = "2026-03-01T10:00:00-05:00"
COURT = (Remedy.LITIGATE, Remedy.PRESERVE_ASSETS)
engine = shared_engine


def case(
    due: dt.date,
    sign: str,
    found: str,
    *,
    product: str = "loan",
    currency: str = "USD",
    timezone: str = "America/New_York",
) -> Case:
    data: dict[str, Any] = {
        "case_id": f"C-{due}",
        "product": product,
        "currency": currency,
        "principal": "20000.00",
        "overdue_amount": "5000.00",
        "due_date": due.isoformat(),
        "timezone": timezone,
        "signals": [{"kind": sign, "observed_at": SEEN}],
        "events": [
            {
                "kind": "asset_found",
                "at": "2026-03-02T10:00:00-05:00",
                "asset_class": "real_estate",
                "amount": found,
            }
        ],
    }
    return Case.from_dict(data)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("sign", ["refused_to_pay", "asset_transfer"])
def test_no_preservation_of_assets_for_a_time_barred_debt(sign: str, backend: str) -> None:
    barred = engine("us_regf", backend).decide(
        case(dt.date(2020, 2, 20), sign, "100000.00"), as_of=AS_OF
    )
    assert barred.facts["time_barred"] is True
    assert barred.facts["assets_cover_claim"] is True
    for remedy in COURT:
        block = barred.block(remedy)
        assert block is not None
        assert block.rule_id == "R-US-TIMEBARRED"
        assert "US-REGF-TIMEBARRED" in block.cites
    running = engine("us_regf", backend).decide(
        case(dt.date(2025, 2, 20), sign, "100000.00"), as_of=AS_OF
    )
    assert running.facts["time_barred"] is False
    grant = running.grant(Remedy.PRESERVE_ASSETS)
    assert grant is not None
    assert grant.rule_id == "R-ASSETS-PRESERVE"


@pytest.mark.parametrize("backend", ["python", "durable"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dpd=st.integers(min_value=1, max_value=3000),
    sign=st.sampled_from(["refused_to_pay", "asset_transfer", "documents_provided", "accident"]),
    found=st.sampled_from(["10.00", "4999.99", "5000.00", "250000.00"]),
    product=st.sampled_from(["loan", "credit_card", "receivable", "property_fee"]),
)
def test_property_a_time_barred_debt_gets_no_court_remedy(
    backend: str, dpd: int, sign: str, found: str, product: str
) -> None:
    due = dt.date(2026, 4, 3) - dt.timedelta(days=dpd)
    c = case(due, sign, found, product=product)
    decision = engine("us_regf", backend).decide(c, as_of=AS_OF)
    if decision.facts["time_barred"] is True:
        assert not set(COURT) & decision.allowed_remedies


#: Each policy whose expired limitation period leaves a suit open, with a case's
#: currency and zone there.
OPEN_AFTER_EXPIRY = {
    "default": ("CNY", "Asia/Shanghai", "CN-LIMITATION-EXPIRED"),
    "cn_bank_loan": ("CNY", "Asia/Shanghai", "CN-LIMITATION-EXPIRED"),
    "cn_credit_card": ("CNY", "Asia/Shanghai", "CN-LIMITATION-EXPIRED"),
    "uk": ("GBP", "Europe/London", "UK-LIMITATION"),
}


def _decided(policy: str, backend: str, due: dt.date, sign: str, found: str) -> Decision:
    """The decision of a case of ``policy``'s country (a card under cn_credit_card)."""
    currency, zone, _ = OPEN_AFTER_EXPIRY[policy]
    product = "credit_card" if policy == "cn_credit_card" else "loan"
    c = case(due, sign, found, currency=currency, timezone=zone, product=product)
    return engine(policy, backend).decide(c, as_of=AS_OF)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", sorted(OPEN_AFTER_EXPIRY))
def test_preservation_on_an_expired_claim_carries_the_time_bar(policy: str, backend: str) -> None:
    clause = OPEN_AFTER_EXPIRY[policy][2]
    expired = _decided(policy, backend, dt.date(2012, 2, 20), "refused_to_pay", "100000.00")
    assert expired.facts["limitation_expired"] is True
    assert expired.facts["assets_cover_claim"] is True
    grant = expired.grant(Remedy.PRESERVE_ASSETS)
    assert grant is not None
    assert grant.rule_id == "R-ASSETS-PRESERVE-TIME-BAR"
    assert clause in grant.cites
    last_day = str(expired.facts["limitation_last_day"])
    assert any("time bar" in c and last_day in c for c in grant.conditions)
    suit = expired.grant(Remedy.LITIGATE)
    assert suit is not None
    assert any("time bar" in c for c in suit.conditions)
    running = _decided(policy, backend, dt.date(2026, 1, 20), "refused_to_pay", "100000.00")
    assert running.facts["limitation_expired"] is False
    grant = running.grant(Remedy.PRESERVE_ASSETS)
    assert grant is not None
    assert grant.rule_id == "R-ASSETS-PRESERVE"
    assert not any("time bar" in c for c in grant.conditions)


@pytest.mark.parametrize("backend", ["python", "durable"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(sorted(OPEN_AFTER_EXPIRY)),
    dpd=st.integers(min_value=1, max_value=6000),
    sign=st.sampled_from(["refused_to_pay", "asset_transfer", "documents_provided", "accident"]),
    found=st.sampled_from(["10.00", "5000.00", "250000.00"]),
)
def test_property_a_court_remedy_on_an_expired_claim_names_the_time_bar(
    backend: str, policy: str, dpd: int, sign: str, found: str
) -> None:
    decision = _decided(policy, backend, dt.date(2026, 4, 3) - dt.timedelta(days=dpd), sign, found)
    if decision.facts.get("limitation_expired") is not True:
        return
    for remedy in COURT:
        grant = decision.grant(remedy)
        if grant is not None:
            assert any("time bar" in c for c in grant.conditions), (remedy, grant)
