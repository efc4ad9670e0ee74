"""A payment pays no more of the fees than stays charged at every later date: the rate
cap's room for fees moves by a cent or two as its parts cross a cent at different times."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Case, load_policy
from collectrules.money import Component
from collectrules.money.charges import amounts_due

BANK = load_policy("cn_bank_loan")  # the rate cap: 4 x the LPR of 0.03 = 0.12


def _case(
    overdue: str, rate: str, penalty: str | None, fee: str, payments: list[tuple[str, str]]
) -> Case:
    data = {
        "case_id": "FEE-ROOM",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": overdue,
        "due_date": "2026-04-01",
        "timezone": "Asia/Shanghai",
        "annual_rate": rate,
        "fees": [{"kind": "late_fee", "amount": fee, "charged_on": "2026-04-01"}],
        "events": [
            {"kind": "payment", "at": f"{day}T12:00:00+08:00", "amount": amount}
            for day, amount in payments
        ],
    }
    if penalty is not None:
        data["penalty_rate"] = penalty
    return Case.from_dict(data)


def test_a_fee_paid_from_the_cap_room_is_not_cut_below_what_was_paid() -> None:
    # 0.10 + the penalty excess cut to 0.02 fill the cap: fees fit only in the rounding
    # slack. On 5 April the room was 0.01 and the payment paid it; later, the interest
    # crossed a cent before the capacity did, and the room fell back to 0.
    case = _case("1000.00", "0.10", "0.15", "50.00", [("2026-04-05", "1000.00")])
    due = amounts_due(case, "2026-06-01T00:00:00+08:00", policy=BANK)
    assert due.paid[Component.FEES] <= due.charged[Component.FEES]
    assert due.due[Component.PRINCIPAL] + due.paid[Component.PRINCIPAL] == case.overdue_amount
    assert sum(due.paid.values()) + due.credit == due.payments


@settings(max_examples=150, deadline=None)
@given(
    overdue=st.integers(min_value=1, max_value=10**7),
    # Rates whose interest and penalty excess, once capped, fill the 12 % cap: the
    # fees fit only in the rounding slack, where the room moved both ways.
    rate=st.integers(min_value=93, max_value=119),
    penalty=st.integers(min_value=120, max_value=300),
    fee=st.integers(min_value=0, max_value=10**5),
    payments=st.lists(
        st.tuples(st.integers(min_value=0, max_value=150), st.integers(1, 10**6)),
        min_size=1,
        max_size=5,
    ),
)
def test_no_component_is_paid_beyond_what_is_finally_charged(
    overdue: int, rate: int, penalty: int, fee: int, payments: list[tuple[int, int]]
) -> None:
    def day(offset: int) -> str:
        return f"2026-{4 + offset // 30:02d}-{1 + offset % 30:02d}"

    case = _case(
        str(Decimal(overdue).scaleb(-2)),
        str(Decimal(rate).scaleb(-3)),
        str(Decimal(penalty).scaleb(-3)),
        str(Decimal(fee).scaleb(-2)),
        [(day(d), str(Decimal(c).scaleb(-2))) for d, c in payments],
    )
    due = amounts_due(case, "2026-12-01T00:00:00+08:00", policy=BANK)
    for component in due.paid:
        assert due.paid[component] <= due.charged[component], component
    assert sum(due.paid.values()) + due.credit == due.payments
    charges = (Component.INTEREST, Component.PENALTY_INTEREST, Component.FEES)
    assert all(due.charged[c] == due.charged[c].quantize(Decimal("0.01")) for c in charges)
