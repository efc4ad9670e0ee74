"""The shipped policies against the domain sources (DOMAIN.md, REGULATION.md).

Each test pins a figure or a rule that a shipped policy once got wrong:

* CN-LIMITATION-INTERRUPT: "a demand for payment that reaches the debtor ...; the
  debtor agreeing to pay" restarts the limitation period. A demand letter the debtor
  signed for (L-3D's 催款函), a signed written commitment (承诺书) and a promise to pay
  are such events.
* UK-LIMITATION: 6 years, restarted by an acknowledgment or a payment. The Limitation
  Act has no 20-year long stop for a simple contract; the 20 years are China's
  (CN-LIMITATION), and the UK pack must not inherit them.
* CARD (DOMAIN.md §8): cards are collected by phone, email, SMS, fax and online
  platforms, and the default policy's CARD-CHANNELS guardrail refuses field visits for
  cards; the severity rule of cn_bank_loan must not grant a visit to a card debtor.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pendulum
import pytest

from collectrules import Case, Engine, Policy, build_timeline, load_policy

D = dt.date
SH = "Asia/Shanghai"


@cache
def policy(name: str) -> Policy:
    return load_policy(name)


def _at(text: str, tz: str) -> str:
    return pendulum.parse(text, tz=tz).isoformat()  # type: ignore[union-attr]


def _loan(*events: dict[str, object], tz: str = SH, currency: str = "CNY", **more: object) -> Case:
    data: dict[str, object] = {
        "case_id": "DF-1",
        "product": "loan",
        "currency": currency,
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-03-31",
        "timezone": tz,
        "events": list(events),
    }
    data.update(more)
    return Case.from_dict(data)


# --------------------------------------------------------------- CN-LIMITATION-INTERRUPT


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        # L-3D: the debtor signs for the standard demand letter (催款函): a demand that
        # reached the debtor, with the best proof of it.
        ("demand_letter_signed", {}),
        # W-GOOD-SIGNS: a signed written commitment (承诺书) to pay.
        ("commitment_signed", {}),
        # A promise to pay on a date: the debtor agreeing to pay.
        ("promise_made", {"promised_date": "2027-05-20", "amount": "5000"}),
    ],
)
def test_the_debtor_agreeing_to_pay_or_signing_for_a_demand_restarts_the_cn_limitation(
    kind: str, fields: dict[str, object]
) -> None:
    case = _loan({"kind": kind, "at": _at("2027-05-10 10:00", SH), **fields})
    timeline = build_timeline(case, as_of="2027-06-01T12:00:00+08:00", policy=policy("default"))
    limitation = timeline.deadline("limitation")
    assert limitation.started_by == f"{kind} on 2027-05-10"
    # Three years from 2027-05-10 (not counted): Friday 2030-05-10.
    assert limitation.last_day == D(2030, 5, 10)


def test_a_guarantor_signing_for_a_demand_does_not_restart_the_debtors_limitation() -> None:
    case = _loan(
        {"kind": "demand_letter_signed", "at": _at("2027-05-10 10:00", SH), "party": "G-1"},
        guarantors=[{"id": "G-1"}],
    )
    timeline = build_timeline(case, as_of="2027-06-01T12:00:00+08:00", policy=policy("default"))
    assert timeline.deadline("limitation").started_by == "the due date, 2026-03-31"


# --------------------------------------------------------------- UK-LIMITATION


def test_the_uk_limitation_has_no_chinese_long_stop() -> None:
    london = "Europe/London"
    case = _loan(
        {"kind": "debtor_acknowledged", "at": _at("2005-01-10 10:00", london)},
        {"kind": "debtor_acknowledged", "at": _at("2010-01-11 10:00", london)},
        {"kind": "debtor_acknowledged", "at": _at("2015-01-12 10:00", london)},
        {"kind": "payment", "at": _at("2019-12-02 10:00", london), "amount": "50"},
        tz=london,
        currency="GBP",
        due_date="2000-01-31",
    )
    timeline = build_timeline(case, as_of="2022-01-03T12:00:00+00:00", policy=policy("uk"))
    limitation = timeline.deadline("limitation")
    # Six years from the last payment, 2019-12-02: Tuesday 2025-12-02, still running in
    # 2022. With China's 20-year long stop it ended on 2020-01-31.
    assert not limitation.capped_by_longstop
    assert limitation.last_day == D(2025, 12, 2)
    assert limitation.status.value == "running"


def test_the_cn_limitation_keeps_its_20_year_long_stop() -> None:
    case = _loan(
        *(
            {"kind": "debtor_acknowledged", "at": _at(f"{year}-01-10 10:00", SH)}
            for year in (2028, 2030, 2032, 2034, 2036, 2038, 2040, 2042, 2044)
        ),
    )
    timeline = build_timeline(case, as_of="2045-06-01T12:00:00+08:00", policy=policy("default"))
    limitation = timeline.deadline("limitation")
    assert limitation.capped_by_longstop
    assert limitation.nominal_last_day is not None
    assert limitation.last_day is not None
    assert D(2046, 3, 31) <= limitation.last_day <= D(2046, 4, 10)


# --------------------------------------------------------------- CARD: no field visits


def _severe_card(product: str) -> Case:
    return Case.from_dict(
        {
            "case_id": "DF-CARD",
            "product": product,
            "currency": "CNY",
            "principal": "200000",
            "overdue_amount": "150000",
            "due_date": "2025-10-01",
            "timezone": SH,
            "signals": [{"kind": "refused_to_pay", "observed_at": "2026-01-10T10:00:00+08:00"}],
            "events": [
                {
                    "kind": "contact_attempt",
                    "at": "2026-01-10T10:00:00+08:00",
                    "outcome": "refused",
                    "channel": "phone",
                }
            ],
        }
    )


@pytest.mark.parametrize("name", ["cn_bank_loan", "cn_credit_card"])
def test_a_severe_card_case_is_not_granted_a_field_visit(name: str) -> None:
    engine = Engine(policy(name), backend="python")
    decision = engine.decide(_severe_card("credit_card"), as_of="2026-02-01T12:00:00+08:00")
    assert "visit" not in {g.remedy for g in decision.allowed}


def test_a_severe_loan_case_keeps_its_visit() -> None:
    engine = Engine(policy("cn_bank_loan"), backend="python")
    decision = engine.decide(_severe_card("loan"), as_of="2026-02-01T12:00:00+08:00")
    assert "visit" in {g.remedy for g in decision.allowed}
