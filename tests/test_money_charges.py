"""Charges: the case's contract terms, the amount due at a date, caps, reductions."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, InputError, load_policy
from collectrules.money import Component
from collectrules.money.charges import amounts_due, reductions_allowed
from collectrules.policy import policy_from_dict

CASES = Path(__file__).parent.parent / "examples" / "cases"
BANK = load_policy("cn_bank_loan")


def _base(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_id": "T1",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000.00",
        "overdue_amount": "36500.00",
        "due_date": "2026-04-01",
        "timezone": "Asia/Shanghai",
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------- case fields


def test_cases_without_contract_terms_keep_their_data_and_decision_bytes() -> None:
    for path in sorted(CASES.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        case = Case.from_dict(raw)
        assert not case.has_contract_terms
        out = case.to_dict()
        assert not {"annual_rate", "penalty_rate", "fees", "contract_date"} & set(out)
        decision = Engine(BANK, backend="python").decide(case, as_of="2026-05-01T00:00:00+08:00")
        assert decision.amounts == {}
        assert '"amounts"' not in decision.to_json()


def test_contract_terms_round_trip() -> None:
    data = _base(
        annual_rate="0.06",
        penalty_rate=0.078,
        contract_date="2025-04-01",
        fees=[{"kind": "late_fee", "amount": "50", "charged_on": "2026-04-02"}],
    )
    case = Case.from_dict(data)
    assert case.annual_rate == Decimal("0.06")
    assert case.penalty_rate == Decimal("0.078")
    assert case.fees[0].amount == Decimal(50)
    assert Case.from_dict(case.to_dict()) == case


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"annual_rate": "-0.01"}, "annual_rate"),
        ({"annual_rate": "ten"}, "annual_rate"),
        ({"penalty_rate": 11}, "penalty_rate"),
        ({"contract_date": "2025-13-01"}, "contract_date"),
        ({"fees": [{"kind": "late_fee", "amount": "-1", "charged_on": "2026-04-02"}]},
         "fees[0].amount"),
        ({"fees": [{"kind": "Late Fee", "amount": "1", "charged_on": "2026-04-02"}]},
         "fees[0].kind"),
        ({"fees": [{"kind": "late_fee", "amount": "1"}]}, "fees[0].charged_on"),
        ({"fees": [{"kind": "late_fee", "amount": "1", "charged_on": "2026-04-02", "x": 1}]},
         "fees[0].x"),
    ],
)  # fmt: skip
def test_invalid_contract_terms_name_the_field(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as info:
        Case.from_dict(_base(**changes))
    assert path in [p.path for p in info.value.problems]


# --------------------------------------------------------------------------- amounts


def test_the_amount_due_by_hand() -> None:
    # 36,500 overdue from 2026-04-01: 6 % is 6.00 a day, the 1 % penalty excess 1.00 a
    # day, and the cap (4 x LPR 3 % = 12 %) 12.00 a day. An 80.00 fee falls due at once.
    case = Case.from_dict(
        _base(
            annual_rate="0.06",
            penalty_rate="0.07",
            fees=[{"kind": "late_fee", "amount": "80", "charged_on": "2026-04-01"}],
            events=[{"kind": "payment", "at": "2026-04-06T10:00:00+08:00", "amount": "100"}],
        )
    )
    due = amounts_due(case, "2026-04-11T09:00:00+08:00", policy=BANK)
    # On 04-06 (5 days): interest 30, penalty 5, room under the cap 60 - 35 = 25 for the
    # fee. The 100 pays fees 25, penalty 5, interest 30, principal 40.
    assert due.paid == {
        Component.FEES: Decimal("25.00"),
        Component.PENALTY_INTEREST: Decimal("5.00"),
        Component.INTEREST: Decimal("30.00"),
        Component.PRINCIPAL: Decimal("40.00"),
    }
    # Then 5 more days on 36,460: interest 29.967…, penalty 4.994…, cap 59.934…;
    # cumulative, rounded down: 59.96, 9.99, 119.93; fee room 119.93 - 69.95 = 49.98.
    assert due.charged == {
        Component.FEES: Decimal("49.98"),
        Component.PENALTY_INTEREST: Decimal("9.99"),
        Component.INTEREST: Decimal("59.96"),
        Component.PRINCIPAL: Decimal("36500.00"),
    }
    assert due.due[Component.PRINCIPAL] == Decimal("36460.00")
    assert due.total == Decimal("24.98") + Decimal("4.99") + Decimal("29.96") + Decimal("36460")
    assert [(c.rule, c.component, c.before, c.after) for c in due.caps] == [
        ("CN-PRIVATE-RATE-CAP", Component.FEES, Decimal("80.00"), Decimal("49.98"))
    ]
    assert due.credit == 0


def test_penalty_interest_is_cut_to_the_penalty_cap_with_the_rule() -> None:
    case = Case.from_dict(_base(annual_rate="0.05", penalty_rate="0.10"))
    due = amounts_due(case, "2026-04-11T09:00:00+08:00", policy=BANK)
    # 10 days: interest 50.00; penalty excess 5 % would be 50.00, CN-PENALTY allows 30 %
    # of the interest: 15.00.
    assert due.charged[Component.INTEREST] == Decimal("50.00")
    assert due.charged[Component.PENALTY_INTEREST] == Decimal("15.00")
    assert [(c.rule, c.before, c.after) for c in due.caps] == [
        ("CN-PENALTY", Decimal("50.00"), Decimal("15.00"))
    ]


def test_a_contract_rate_over_the_rate_cap_is_cut_to_it() -> None:
    case = Case.from_dict(_base(annual_rate="0.24"))
    due = amounts_due(case, "2026-04-11T09:00:00+08:00", policy=BANK)
    assert due.charged[Component.INTEREST] == Decimal("120.00")  # 12 % for 10 days
    assert [(c.rule, c.component, c.before) for c in due.caps] == [
        ("CN-PRIVATE-RATE-CAP", Component.INTEREST, Decimal("240.00"))
    ]


def test_the_allocation_order_is_a_policy_parameter() -> None:
    data = copy.deepcopy(dict(BANK.data))
    data["money"]["allocation_order"] = ["principal", "interest", "penalty_interest", "fees"]
    principal_first = policy_from_dict(data)
    case = Case.from_dict(
        _base(
            annual_rate="0.06",
            events=[{"kind": "payment", "at": "2026-04-06T10:00:00+08:00", "amount": "100"}],
        )
    )
    due = amounts_due(case, "2026-04-11T09:00:00+08:00", policy=principal_first)
    assert due.paid[Component.PRINCIPAL] == Decimal(100)
    assert due.paid[Component.INTEREST] == 0
    assert list(due.due) == [
        Component.PRINCIPAL,
        Component.INTEREST,
        Component.PENALTY_INTEREST,
        Component.FEES,
    ]


def test_an_overpayment_is_a_credit() -> None:
    case = Case.from_dict(
        _base(
            overdue_amount="100.00",
            events=[{"kind": "payment", "at": "2026-04-06T10:00:00+08:00", "amount": "150"}],
        )
    )
    due = amounts_due(case, "2026-04-11T09:00:00+08:00", policy=BANK)
    assert due.credit == Decimal(50)
    assert due.total == 0


def test_both_back_ends_put_the_same_amounts_in_the_decision() -> None:
    case = Case.from_dict(
        _base(
            annual_rate="0.06",
            penalty_rate="0.09",
            events=[{"kind": "payment", "at": "2026-04-06T10:00:00+08:00", "amount": "100"}],
        )
    )
    as_of = "2026-04-11T09:00:00+08:00"
    durable = Engine(BANK).decide(case, as_of=as_of)
    python = Engine(BANK, backend="python").decide(case, as_of=as_of)
    assert durable.amounts == python.amounts
    # The amounts due, then what the decision allows off them (nothing: not in hardship).
    assert durable.amounts == {
        **amounts_due(case, as_of, policy=BANK).to_dict(),
        "reductions": [],
        "largest_reduction": None,
    }
    # 5 days: interest 30.00, penalty 15.00 cut to 30 % of the interest (9.00); the 100
    # pays 9 + 30 and 61 of principal.
    assert json.loads(python.to_json())["amounts"]["due"]["principal"] == "36439.00"


# --------------------------------------------------------------------------- reductions


def test_a_hardship_reduction_is_offered_only_inside_the_decisions_envelope() -> None:
    engine = Engine(BANK, backend="python")
    as_of = "2026-05-01T00:00:00+08:00"
    hardship = Case.from_dict(
        _base(
            due_date="2025-09-01",
            annual_rate="0.06",
            signals=[
                {"kind": "health_issue", "observed_at": "2026-04-02T10:30:00+08:00"},
                {"kind": "documents_provided", "observed_at": "2026-04-02T10:30:00+08:00"},
            ],
        )
    )
    decision = engine.decide(hardship, as_of=as_of)
    assert decision.grant("reduce") is not None  # NPL-6M with impaired ability
    due = amounts_due(hardship, as_of, policy=BANK)
    offers = reductions_allowed(due, decision, policy=BANK)
    base = due.due[Component.INTEREST] + due.due[Component.PENALTY_INTEREST]
    base += due.due[Component.FEES]
    assert [(o.id, o.amount) for o in offers] == [
        ("hardship", (base / 2).quantize(Decimal("0.01"), "ROUND_DOWN"))
    ]
    able = Case.from_dict(_base(annual_rate="0.06", due_date="2025-09-01"))
    assert reductions_allowed(due, engine.decide(able, as_of=as_of), policy=BANK) == ()
    # The decision itself carries the same offers and the largest, on both back ends.
    for backend in ("python", "durable"):
        decided = Engine(BANK, backend=backend).decide(hardship, as_of=as_of)
        assert decided.amounts["reductions"] == [o.to_dict() for o in offers]
        assert decided.amounts["largest_reduction"] == offers[0].to_dict()
        plain = Engine(BANK, backend=backend).decide(able, as_of=as_of)
        assert plain.amounts["largest_reduction"] is None


# --------------------------------------------------------------------------- properties


@settings(max_examples=80, deadline=None)
@given(
    overdue=st.integers(min_value=0, max_value=10**9),
    rate=st.decimals(min_value=0, max_value=Decimal("0.5"), places=3),
    penalty=st.none() | st.decimals(min_value=0, max_value=Decimal("0.5"), places=3),
    fees=st.lists(st.integers(min_value=0, max_value=10**6), max_size=3),
    payments=st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.integers(0, 10**8)), max_size=6
    ),
)
def test_payments_allocate_without_creating_or_losing_a_cent(
    overdue: int,
    rate: Decimal,
    penalty: Decimal | None,
    fees: list[int],
    payments: list[tuple[int, int]],
) -> None:
    case = Case.from_dict(
        _base(
            overdue_amount=str(Decimal(overdue).scaleb(-2)),
            annual_rate=str(rate),
            penalty_rate=None if penalty is None else str(penalty),
            fees=[
                {"kind": "fee", "amount": str(Decimal(f).scaleb(-2)), "charged_on": "2026-04-15"}
                for f in fees
            ],
            events=[
                {
                    "kind": "payment",
                    "at": f"2026-{4 + day // 30:02d}-{1 + day % 30:02d}T12:00:00+08:00",
                    "amount": str(Decimal(cents).scaleb(-2)),
                }
                for day, cents in payments
                if 4 + day // 30 <= 11
            ],
        )
    )
    due = amounts_due(case, "2026-12-01T00:00:00+08:00", policy=BANK)
    assert sum(due.paid.values()) + due.credit == due.payments
    assert all(v >= 0 for v in due.due.values())
    assert all(v == v.quantize(Decimal("0.01")) for v in due.charged.values())
    assert due.paid[Component.PRINCIPAL] <= case.overdue_amount
    assert due.due[Component.PRINCIPAL] + due.paid[Component.PRINCIPAL] == case.overdue_amount
