"""A case with nothing overdue gets no remedy that presumes a claim to enforce.

The legal deadlines of the timeline (the limitation period, the guarantee period) run
from the due date whether or not anything is still owed. A remedy rule that reads them
must also read that something is owed: with nothing overdue the timeline skips its legal
steps ("Nothing is overdue any more"), the phase is P1, the contact guardrails' time bar
holds nothing barred, and there is no claim to bring, to restart, or to make against a
guarantor.
"""

from __future__ import annotations

from typing import Any

import pytest

from collectrules import Case
from collectrules.model.remedies import Remedy
from helpers import shared_engine

engine = shared_engine


def case(policy: str, due: str, overdue: str, **extra: Any) -> Case:
    data: dict[str, Any] = {
        "case_id": f"SETTLED-{overdue}",
        "product": "loan",
        "currency": "GBP" if policy == "uk" else "CNY",
        "principal": "200000.00",
        "overdue_amount": overdue,
        "due_date": due,
        "timezone": "Asia/Shanghai",
        **extra,
    }
    return Case.from_dict(data)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("policy", ["default", "cn_bank_loan", "cn_credit_card"])
def test_no_claim_on_the_guarantor_when_nothing_is_owed(policy: str, backend: str) -> None:
    # 17 days of the guarantee period are left: a claim would be required if anything
    # were owed.
    as_of = "2026-06-15T12:00:00+08:00"
    guarantor = {"guarantors": [{"id": "G1"}]}
    owing = engine(policy, backend).decide(
        case(policy, "2026-01-01", "8500.00", **guarantor), as_of=as_of
    )
    grant = owing.grant(Remedy.CLAIM_GUARANTOR)
    assert grant is not None
    assert grant.rule_id == "R-GUARANTEE-URGENT"
    assert grant.required
    settled = engine(policy, backend).decide(
        case(policy, "2026-01-01", "0", **guarantor), as_of=as_of
    )
    assert settled.facts["phase"] == "P1"
    assert Remedy.CLAIM_GUARANTOR not in settled.allowed_remedies
    assert not any(g.rule_id.startswith("R-GUARANTEE") for g in settled.allowed)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize(("policy", "due"), [("default", "2023-06-01"), ("uk", "2020-06-05")])
def test_no_demand_to_restart_the_limitation_period_when_nothing_is_owed(
    policy: str, due: str, backend: str
) -> None:
    as_of = "2026-04-03T12:00:00+08:00"
    owing = engine(policy, backend).decide(case(policy, due, "8500.00"), as_of=as_of)
    assert owing.facts["limitation_expired"] is False
    assert owing.facts["limitation_days_left"] <= 90
    assert owing.grant(Remedy.REMIND).rule_id == "R-LIMITATION-INTERRUPT"  # type: ignore[union-attr]
    settled = engine(policy, backend).decide(case(policy, due, "0"), as_of=as_of)
    assert settled.facts["phase"] == "P1"
    grant = settled.grant(Remedy.REMIND)
    assert grant is None or grant.rule_id != "R-LIMITATION-INTERRUPT"
    assert all("limitation" not in c for g in settled.allowed for c in g.conditions)


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize(("policy", "due"), [("default", "2022-04-01"), ("uk", "2019-01-01")])
def test_no_time_barred_suit_when_nothing_is_owed(policy: str, due: str, backend: str) -> None:
    as_of = "2026-04-03T12:00:00+08:00"
    refused = {"signals": [{"kind": "refused_to_pay", "observed_at": "2026-03-01T10:00:00+08:00"}]}
    owing = engine(policy, backend).decide(case(policy, due, "8500.00", **refused), as_of=as_of)
    assert owing.facts["limitation_expired"] is True
    assert owing.grant(Remedy.LITIGATE).rule_id == "R-LIMITATION-EXPIRED"  # type: ignore[union-attr]
    settled = engine(policy, backend).decide(case(policy, due, "0", **refused), as_of=as_of)
    assert settled.facts["phase"] == "P1"
    assert not any(g.rule_id == "R-LIMITATION-EXPIRED" for g in settled.allowed)
    assert all("time bar" not in c for g in settled.allowed for c in g.conditions)
