"""Regulatory classification packs: every boundary, rebuttals, materiality, the remedies
that follow from a class, both back ends, and the load errors of bad pack data."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    Decision,
    Engine,
    InputError,
    Policy,
    PolicyError,
    Remedy,
    load_policy,
)
from collectrules.compliance.regulatory import LadderPack, MaterialityPack, regulation_of
from collectrules.policy import policy_from_dict
from collectrules.policy.clauses import ClauseKind, citations, registry
from strategies import cases, ifrs9_cases

AS_OF = pendulum.parse("2026-06-30T12:00:00+08:00")
PACK_POLICIES = ("cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")


@cache
def policy(name: str) -> Policy:
    return load_policy(name)


@cache
def engine(name: str, backend: str = "python") -> Engine:
    return Engine(policy(name), backend=backend)  # type: ignore[arg-type]


def case(
    dpd: int,
    *,
    product: str = "loan",
    currency: str = "CNY",
    principal: str = "100000",
    overdue: str = "5000",
    signals: tuple[str, ...] = (),
    **extra: Any,
) -> Case:
    """A case that is ``dpd`` days past due at AS_OF (Shanghai)."""
    due = AS_OF.date() - dt.timedelta(days=dpd)
    seen = AS_OF.subtract(days=1).isoformat()
    return Case.from_dict(
        {
            "case_id": f"R-{dpd}",
            "product": product,
            "currency": currency,
            "principal": principal,
            "overdue_amount": overdue,
            "due_date": due.isoformat(),
            "timezone": "Asia/Shanghai",
            "signals": [{"kind": kind, "observed_at": seen} for kind in signals],
            **extra,
        }
    )


def decide(name: str, c: Case, backend: str = "python") -> Decision:
    return engine(name, backend).decide(c, as_of=AS_OF)


def regulatory(d: Decision, pack: str) -> Any:
    found = [r for r in d.regulatory if r.pack == pack]
    assert len(found) == 1, d.regulatory
    return found[0]


BACKENDS = ("python", "durable")

# --------------------------------------------------------------------------- boundaries

CN5 = [
    (0, "pass"),
    (1, "special_mention"),
    (90, "special_mention"),
    (91, "substandard"),
    (270, "substandard"),
    (271, "doubtful"),
    (360, "doubtful"),
    (361, "loss"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("dpd", "expected"), CN5)
def test_cn5_boundaries(dpd: int, expected: str, backend: str) -> None:
    d = decide("cn_bank_loan", case(dpd), backend)
    result = regulatory(d, "CN-5LVL")
    assert result.value == expected
    assert d.facts["cn5_class"] == expected
    assert d.facts["cn5_npl"] is (expected in ("substandard", "doubtful", "loss"))
    assert "CN-5LVL" in result.cites
    assert (
        result.rule_id
        == {
            "pass": "CN5-PASS",
            "special_mention": "CN5-SPECIAL-MENTION",
            "substandard": "CN5-SUBSTANDARD",
            "doubtful": "CN5-DOUBTFUL",
            "loss": "CN5-LOSS",
        }[expected]
    )
    assert (
        result.label_zh
        == {
            "pass": "正常",
            "special_mention": "关注",
            "substandard": "次级",
            "doubtful": "可疑",
            "loss": "损失",
        }[expected]
    )


CARD = [
    (0, "pass"),
    (1, "special_mention"),
    (90, "special_mention"),
    (91, "substandard"),
    (120, "substandard"),
    (121, "doubtful"),
    (180, "doubtful"),
    (181, "loss"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("dpd", "expected"), CARD)
def test_card_class_boundaries(dpd: int, expected: str, backend: str) -> None:
    d = decide("cn_credit_card", case(dpd, product="credit_card"), backend)
    result = regulatory(d, "CN-CARD-CLASS")
    assert result.value == expected
    assert d.facts["cn5_class"] == expected
    assert "CN-CARD-CLASS" in result.cites
    assert not [r for r in d.regulatory if r.pack == "CN-5LVL"]  # a card is not a loan


def test_card_policy_still_classifies_loans_with_cn5() -> None:
    d = decide("cn_credit_card", case(100))
    assert [r.pack for r in d.regulatory] == ["CN-5LVL"]
    assert d.facts["cn5_class"] == "substandard"


IFRS9 = [(0, "stage_1"), (30, "stage_1"), (31, "stage_2"), (90, "stage_2"), (91, "stage_3")]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("dpd", "expected"), IFRS9)
def test_ifrs9_boundaries(dpd: int, expected: str, backend: str) -> None:
    d = decide("ifrs9", case(dpd, currency="EUR"), backend)
    result = regulatory(d, "IFRS9")
    assert result.value == expected
    assert d.facts["ifrs9_stage"] == expected
    assert d.facts["ifrs9_credit_impaired"] is (expected == "stage_3")


@pytest.mark.parametrize(
    ("dpd", "flags", "expected", "rebutted_rule"),
    [
        (31, {"sicr_rebutted": True}, "stage_1", "IFRS9-S2-DPD"),
        (90, {"sicr_rebutted": True}, "stage_1", "IFRS9-S2-DPD"),
        (91, {"default_rebutted": True}, "stage_2", "IFRS9-S3-DPD"),
        (91, {"sicr_rebutted": True, "default_rebutted": True}, "stage_1", "IFRS9-S3-DPD"),
    ],
)
def test_ifrs9_rebuttal_overrides_and_says_so(
    dpd: int, flags: dict[str, bool], expected: str, rebutted_rule: str
) -> None:
    # EUR 50 past due is not material: the case is not in EU default, so the rebuttal holds.
    d = decide("ifrs9", case(dpd, currency="EUR", overdue="50", **flags))
    assert regulatory(d, "EU-DEFAULT").value == "not_default"
    result = regulatory(d, "IFRS9")
    assert result.value == expected
    assert any(rebutted_rule in note and "rebutted" in note for note in result.notes)
    firing = next(f for f in d.trace if f.layer == "regulation" and f.outcome.startswith("IFRS9"))
    assert "rebutted" in firing.reason
    assert rebutted_rule in firing.reason


def test_ifrs9_sicr_rebuttal_does_not_rebut_default() -> None:
    d = decide("ifrs9", case(91, currency="EUR", sicr_rebutted=True))
    assert regulatory(d, "IFRS9").value == "stage_3"


def test_ifrs9_rebutted_next_class_skips_the_rebutted_stage() -> None:
    result = regulatory(decide("ifrs9", case(10, currency="EUR", sicr_rebutted=True)), "IFRS9")
    assert (result.value, result.next_value) == ("stage_1", "stage_3")
    assert (
        result.next_on == (AS_OF.date() - dt.timedelta(days=10) + dt.timedelta(days=91)).isoformat()
    )
    immaterial = case(95, currency="EUR", overdue="50", default_rebutted=True)
    result = regulatory(decide("ifrs9", immaterial), "IFRS9")
    assert (result.value, result.next_value, result.next_on) == ("stage_2", None, None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ifrs9_a_case_in_eu_default_is_at_stage_3_whatever_the_rebuttal(backend: str) -> None:
    # IFRS 9 B5.5.37: the default definition used for staging is the one used for
    # credit risk management (the CRR's). The rebuttal cannot move a case in default.
    d = decide("ifrs9", case(95, currency="EUR", default_rebutted=True), backend)
    assert regulatory(d, "EU-DEFAULT").value == "default"
    result = regulatory(d, "IFRS9")
    assert (result.value, result.rule_id) == ("stage_3", "IFRS9-S3-DEFAULT")
    assert result.cites == ("IFRS9-STAGE3", "EU-DEFAULT", "EU-MATERIALITY")
    assert "EU-DEFAULT:default" in result.reason
    assert any(
        "default_rebutted" in note and "EU-DEFAULT" in note and "IFRS9-S3-DPD" in note
        for note in result.notes
    )
    assert not any("is rebutted" in note for note in result.notes)
    assert d.facts["ifrs9_stage"] == "stage_3"
    assert d.facts["ifrs9_credit_impaired"] is True
    firing = next(f for f in d.trace if f.rule_id == "IFRS9-S3-DEFAULT")
    assert firing.layer == "regulation"
    assert firing.cites == ("IFRS9-STAGE3", "EU-DEFAULT", "EU-MATERIALITY")
    assert "default_rebutted" in firing.reason


def test_ifrs9_stage_3_begins_with_the_eu_default_when_the_presumption_is_rebutted() -> None:
    due = AS_OF.date() - dt.timedelta(days=10)
    both = case(10, currency="EUR", sicr_rebutted=True, default_rebutted=True)
    d = decide("ifrs9", both)
    stage, default = regulatory(d, "IFRS9"), regulatory(d, "EU-DEFAULT")
    assert (default.next_value, default.next_on) == (
        "default",
        (due + dt.timedelta(91)).isoformat(),
    )
    assert (stage.value, stage.next_value, stage.next_on) == ("stage_1", "stage_3", default.next_on)
    # an amount that is not material never makes a default: the rebuttal then holds
    small = case(10, currency="EUR", overdue="50", sicr_rebutted=True, default_rebutted=True)
    stage = regulatory(decide("ifrs9", small), "IFRS9")
    assert (stage.value, stage.next_value, stage.next_on) == ("stage_1", None, None)


def test_ifrs9_stage_3_by_days_past_due_keeps_its_rule_when_also_in_default() -> None:
    result = regulatory(decide("ifrs9", case(95, currency="EUR")), "IFRS9")
    assert (result.value, result.rule_id, result.cites) == (
        "stage_3",
        "IFRS9-S3-DPD",
        ("IFRS9-STAGE3",),
    )


def test_an_earlier_default_brings_the_linked_class_forward() -> None:
    # A lender whose default begins at more than 60 days: stage 3 follows it.
    data = {
        "extends": "ifrs9",
        "id": "eu-60",
        "parameters": {"eu_default_over_dpd": {"value": 60}},
    }
    eng = Engine(policy_from_dict(data), backend="python")
    d = eng.decide(case(61, currency="EUR"), as_of=AS_OF)
    assert regulatory(d, "EU-DEFAULT").value == "default"
    assert regulatory(d, "IFRS9").rule_id == "IFRS9-S3-DEFAULT"
    stage = regulatory(eng.decide(case(40, currency="EUR"), as_of=AS_OF), "IFRS9")
    due = AS_OF.date() - dt.timedelta(days=40)
    assert (stage.value, stage.next_value) == ("stage_2", "stage_3")
    assert stage.next_on == (due + dt.timedelta(days=61)).isoformat()


# EU default: more than 90 dpd AND the amount past due exceeds both EUR 100 and 1%.
EU = [
    pytest.param(90, "5000", "100000", "not_default", "EU-DEFAULT:not_past_due", id="dpd-90"),
    pytest.param(91, "5000", "100000", "default", "EU-DEFAULT:default", id="dpd-91"),
    pytest.param(91, "100", "1000", "not_default", "EU-DEFAULT:immaterial", id="abs-eq-100"),
    pytest.param(91, "100.01", "1000", "default", "EU-DEFAULT:default", id="abs-over-100"),
    pytest.param(91, "150", "15000", "not_default", "EU-DEFAULT:immaterial", id="rel-eq-1pc"),
    pytest.param(91, "150.01", "15000", "default", "EU-DEFAULT:default", id="rel-over-1pc"),
    pytest.param(91, "99", "100", "not_default", "EU-DEFAULT:immaterial", id="over-rel-only"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("dpd", "overdue", "principal", "expected", "rule"), EU)
def test_eu_default_with_materiality(
    dpd: int, overdue: str, principal: str, expected: str, rule: str, backend: str
) -> None:
    d = decide("ifrs9", case(dpd, currency="EUR", overdue=overdue, principal=principal), backend)
    result = regulatory(d, "EU-DEFAULT")
    assert (result.value, result.rule_id) == (expected, rule)
    assert d.facts["eu_default"] is (expected == "default")
    assert set(result.cites) == {"EU-DEFAULT", "EU-MATERIALITY"}


def test_eu_reason_states_the_thresholds_in_plain_figures() -> None:
    result = regulatory(decide("ifrs9", case(91, currency="EUR")), "EU-DEFAULT")
    assert "the amount past due 5000 EUR" in result.reason
    assert "of the exposure (1000 EUR)" in result.reason
    assert "parameter eu_materiality_absolute_eur" in result.reason


def test_eu_default_checks_the_currency() -> None:
    with pytest.raises(InputError) as info:
        decide("ifrs9", case(100, currency="USD"))
    problem = info.value.problems[0]
    assert problem.path == "currency"
    assert "EUR" in problem.message
    assert "USD" in problem.message


def test_eu_thresholds_are_parameters_and_take_other_currencies() -> None:
    data = {
        "extends": "ifrs9",
        "id": "pl",
        "parameters": {
            "eu_materiality_absolute_pln": {"value": 430, "status": "V"},
            "eu_materiality_relative": {"value": 0.02},
        },
        "regulation": {
            "EU-DEFAULT": {
                **tomllib.loads(
                    (resources.files("collectrules") / "policies" / "ifrs9.toml").read_text("utf-8")
                )["regulation"]["EU-DEFAULT"],
                "absolute": {
                    "EUR": "eu_materiality_absolute_eur",
                    "PLN": "eu_materiality_absolute_pln",
                },
            }
        },
    }
    pl = Engine(policy_from_dict(data), backend="python")
    material = pl.decide(case(95, currency="PLN", overdue="431", principal="20000"), as_of=AS_OF)
    assert regulatory(material, "EU-DEFAULT").value == "default"
    under = pl.decide(case(95, currency="PLN", overdue="430", principal="20000"), as_of=AS_OF)
    assert regulatory(under, "EU-DEFAULT").value == "not_default"
    relative = pl.decide(case(95, currency="EUR", overdue="300", principal="20000"), as_of=AS_OF)
    assert regulatory(relative, "EU-DEFAULT").value == "not_default"  # 2% of 20000 is 400


def test_eu_immaterial_has_no_default_date() -> None:
    result = regulatory(decide("ifrs9", case(10, currency="EUR", overdue="50")), "EU-DEFAULT")
    assert result.next_on is None
    assert any("not material" in n for n in result.notes)


FFIEC = [
    pytest.param("loan", 89, "pass", False, id="loan-89"),
    pytest.param("loan", 90, "substandard", False, id="loan-90"),
    pytest.param("loan", 119, "substandard", False, id="loan-119"),
    pytest.param("loan", 120, "charge_off", True, id="loan-120"),
    pytest.param("credit_card", 89, "pass", False, id="card-89"),
    pytest.param("credit_card", 90, "substandard", False, id="card-90"),
    pytest.param("credit_card", 179, "substandard", False, id="card-179"),
    pytest.param("credit_card", 180, "charge_off", True, id="card-180"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("product", "dpd", "expected", "due"), FFIEC)
def test_ffiec_boundaries(product: str, dpd: int, expected: str, due: bool, backend: str) -> None:
    d = decide("us_regf", case(dpd, product=product, currency="USD"), backend)
    result = regulatory(d, "US-FFIEC")
    assert result.value == expected
    assert d.facts["ffiec_chargeoff_due"] is due
    assert result.cites == ("US-FFIEC",)
    if dpd in (119, 179):
        assert result.next_value == "charge_off"
        assert result.next_on == (AS_OF.date() + dt.timedelta(days=1)).isoformat()
    if product == "credit_card":
        assert any("open_end" in n for n in result.notes)


def test_ffiec_does_not_classify_receivables() -> None:
    d = decide("us_regf", case(200, product="receivable", currency="USD"))
    assert d.regulatory == ()
    assert "ffiec_class" not in d.facts
    assert d.block(Remedy.WRITE_OFF) is not None  # no charge-off date: no write-off


# --------------------------------------------------------------------------- next class


def test_next_class_date_is_the_first_day_of_the_worse_class() -> None:
    result = regulatory(decide("cn_bank_loan", case(50)), "CN-5LVL")
    due = AS_OF.date() - dt.timedelta(days=50)
    assert (result.value, result.next_value) == ("special_mention", "substandard")
    assert result.next_on == (due + dt.timedelta(days=91)).isoformat()
    # On that date the case is substandard.
    later = engine("cn_bank_loan").decide(
        case(50),
        as_of=pendulum.datetime(*(due + dt.timedelta(days=91)).timetuple()[:3], tz="Asia/Shanghai"),
    )
    assert regulatory(later, "CN-5LVL").value == "substandard"
    assert regulatory(decide("cn_bank_loan", case(400)), "CN-5LVL").next_on is None


def test_nothing_overdue_has_no_next_class() -> None:
    result = regulatory(decide("cn_bank_loan", case(10, overdue="0")), "CN-5LVL")
    assert (result.value, result.next_on) == ("pass", None)
    assert any("nothing is overdue" in n for n in result.notes)


# --------------------------------------------------------------------------- remedies


@pytest.mark.parametrize(("dpd", "allowed"), [(360, False), (361, True)])
def test_cn_write_off_only_in_the_loss_class(dpd: int, allowed: bool) -> None:
    d = decide("cn_bank_loan", case(dpd, signals=("refused_to_pay",)))
    if allowed:
        grant = d.grant(Remedy.WRITE_OFF)
        assert grant is not None
        assert "NPL-LOSS" in grant.cites
    else:
        block = d.block(Remedy.WRITE_OFF)
        assert block is not None
        assert "CN-5LVL" in block.cites


@pytest.mark.parametrize(
    ("product", "dpd", "allowed"),
    [
        ("loan", 119, False),
        ("loan", 120, True),
        ("credit_card", 179, False),
        ("credit_card", 180, True),
    ],
)
def test_us_write_off_only_past_the_charge_off_date(product: str, dpd: int, allowed: bool) -> None:
    d = decide("us_regf", case(dpd, product=product, currency="USD"))
    assert (Remedy.WRITE_OFF in d.allowed_remedies) is allowed
    assert (Remedy.WRITE_OFF in d.blocked_remedies) is not allowed
    rule = d.grant(Remedy.WRITE_OFF) or d.block(Remedy.WRITE_OFF)
    assert rule is not None
    assert "US-FFIEC" in rule.cites


def test_npl_treatments_follow_the_bucket() -> None:
    q2 = ("documents_provided", "health_issue")
    early = decide("cn_bank_loan", case(179, signals=q2))
    late = decide("cn_bank_loan", case(180, signals=q2))
    assert Remedy.REDUCE not in early.allowed_remedies
    assert late.grant(Remedy.REDUCE) is not None
    assert "NPL-6M" in late.grant(Remedy.REDUCE).cites  # type: ignore[union-attr]
    # Outsourcing and transfer are for unwilling debtors: a cooperative Q2 keeps them out
    # of its envelope (DOMAIN.md §1), whatever the bucket.
    assert not {Remedy.OUTSOURCE, Remedy.TRANSFER} & early.allowed_remedies
    refuser = decide("cn_bank_loan", case(179, signals=("refused_to_pay",)))
    assert {Remedy.OUTSOURCE, Remedy.TRANSFER} <= refuser.allowed_remedies
    assert refuser.grant(Remedy.TRANSFER).cites == ("NPL-3-6M",)  # type: ignore[union-attr]
    refuser90 = decide("cn_bank_loan", case(90, signals=("refused_to_pay",)))
    assert Remedy.TRANSFER not in refuser90.allowed_remedies
    q3 = decide("cn_bank_loan", case(180, signals=("refused_to_pay",)))
    assert q3.grant(Remedy.LITIGATE) is not None
    assert Remedy.REDUCE not in q3.allowed_remedies  # an able debtor is not in hardship


@pytest.mark.parametrize("name", ["cn_bank_loan", "cn_credit_card", "uk"])
def test_pressure_through_third_parties_blocked_guarantors_allowed(name: str) -> None:
    product = "credit_card" if name == "cn_credit_card" else "loan"
    currency = "GBP" if name == "uk" else "CNY"
    d = decide(name, case(40, product=product, currency=currency, signals=("refused_to_pay",)))
    assert d.quadrant.value == "Q3"
    block = d.block(Remedy.PRESSURE_THIRD_PARTY)
    assert block is not None
    expected = {
        "cn_bank_loan": "CN-THIRD-PARTY",
        "cn_credit_card": "CN-CARD-CONDUCT",
        "uk": "CONDUCT",
    }[name]
    assert expected in block.cites
    assert d.grant(Remedy.PRESSURE_GUARANTOR) is not None


def test_default_policy_explains_why_it_blocks_public_opinion_pressure() -> None:
    notes = " ".join(load_policy("default").notes)
    assert "public opinion" in notes
    assert "CONDUCT" in notes


def test_time_barred_debt_blocks_litigation() -> None:
    barred = decide("us_regf", case(4 * 365, currency="USD", signals=("refused_to_pay",)))
    assert barred.facts["time_barred"] is True
    block = barred.block(Remedy.LITIGATE)
    assert block is not None
    assert block.cites == ("US-REGF-TIMEBARRED",)
    running = decide("us_regf", case(2 * 365, currency="USD", signals=("refused_to_pay",)))
    assert running.facts["time_barred"] is False
    assert running.grant(Remedy.LITIGATE) is not None


def test_time_barred_litigation_is_cited_for_willing_debtors_too() -> None:
    # For Q1 and Q2, R-Q12-NO-SUIT comes first in file order and gives the block's
    # reason; the block still lists the time bar and cites it, and the trace has it.
    q2 = decide(
        "us_regf", case(4 * 365, currency="USD", signals=("documents_provided", "income_loss"))
    )
    assert q2.quadrant.value == "Q2"
    assert q2.facts["time_barred"] is True
    block = q2.block(Remedy.LITIGATE)
    assert block is not None
    assert block.rule_id == "R-Q12-NO-SUIT"
    assert "R-US-TIMEBARRED" in block.rules
    assert "US-REGF-TIMEBARRED" in block.cites
    firing = next(f for f in q2.trace if f.rule_id == "R-US-TIMEBARRED")
    assert firing.cites == ("US-REGF-TIMEBARRED",)
    assert "litigate" in firing.outcome


def test_a_payment_restarts_the_limitation_period() -> None:
    paid = AS_OF.subtract(years=1).isoformat()
    c = case(
        4 * 365,
        currency="USD",
        signals=("refused_to_pay",),
        events=[{"kind": "payment", "at": paid, "amount": "10"}],
    )
    assert decide("us_regf", c).facts["time_barred"] is False


def test_uk_forbearance_for_q2_and_no_pressure_to_sell() -> None:
    q2 = decide("uk", case(60, currency="GBP", signals=("documents_provided", "income_loss")))
    assert q2.quadrant.value == "Q2"
    for remedy in (Remedy.FORBEAR, Remedy.REPLAN, Remedy.REDUCE, Remedy.GRACE_PERIOD):
        grant = q2.grant(remedy)
        assert grant is not None, remedy
        assert "UK-FORBEARANCE" in grant.cites
    assert any("debt advice" in c for c in q2.grant(Remedy.FORBEAR).conditions)  # type: ignore[union-attr]
    block = q2.block(Remedy.DISPOSE_ASSETS)
    assert block is not None
    assert block.cites == ("UK-NO-PRESSURE",)
    # The default policy would have allowed the disposal for the same case.
    default = Engine("default", backend="python").decide(
        case(60, currency="GBP", signals=("documents_provided", "income_loss")), as_of=AS_OF
    )
    assert default.grant(Remedy.DISPOSE_ASSETS) is not None
    q1 = decide("uk", case(5, currency="GBP"))
    assert Remedy.FORBEAR not in q1.allowed_remedies


# --------------------------------------------------------------------------- stricter pack


def test_a_stricter_custom_pack_sharing_the_fact_wins() -> None:
    strict = {
        "extends": "cn_bank_loan",
        "id": "strict",
        "parameters": {"strict_substandard_over_dpd": {"value": 60}},
        "regulation": {
            "LENDER-5LVL": {
                "kind": "dpd_ladder",
                "fact": "cn5_class",
                "products": ["loan"],
                "cites": ["CN-5LVL"],
                "classes": [
                    {"value": "pass", "rule": "L5-PASS", "cites": ["CN-5LVL"]},
                    {
                        "value": "special_mention",
                        "rule": "L5-SM",
                        "over_dpd": 0,
                        "cites": ["CN-5LVL"],
                    },
                    {
                        "value": "substandard",
                        "rule": "L5-SUB",
                        "over_dpd": "strict_substandard_over_dpd",
                        "cites": ["CN-5LVL"],
                    },
                    {
                        "value": "doubtful",
                        "rule": "L5-DOUBT",
                        "over_dpd": 180,
                        "cites": ["CN-5LVL"],
                    },
                    {"value": "loss", "rule": "L5-LOSS", "over_dpd": 360, "cites": ["CN-5LVL"]},
                ],
            }
        },
    }
    p = policy_from_dict(strict)
    for backend in BACKENDS:
        d = Engine(p, backend=backend).decide(case(75), as_of=AS_OF)  # type: ignore[arg-type]
        assert {r.pack: r.value for r in d.regulatory} == {
            "CN-5LVL": "special_mention",
            "LENDER-5LVL": "substandard",
        }
        assert d.facts["cn5_class"] == "substandard"
        d = Engine(p, backend=backend).decide(case(200), as_of=AS_OF)  # type: ignore[arg-type]
        assert d.facts["cn5_class"] == "doubtful"
        assert d.facts["cn5_npl"] is True


# --------------------------------------------------------------------------- properties

RANKED = [
    (name, pack)
    for name in PACK_POLICIES
    for pack in (regulation_of(policy(name)).packs if regulation_of(policy(name)) else ())
]


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(RANKED) - 1),
    product=st.sampled_from(["loan", "credit_card", "receivable", "property_fee"]),
    dpds=st.lists(st.integers(min_value=0, max_value=800), min_size=2, max_size=6),
    overdue=st.decimals(min_value=0, max_value=10**6, places=2),
    principal=st.decimals(min_value=0, max_value=10**7, places=2),
)
def test_classification_is_monotone_in_dpd(
    index: int, product: str, dpds: list[int], overdue: Decimal, principal: Decimal
) -> None:
    _, pack = RANKED[index]
    currency = "EUR"
    c = Case(
        case_id="M",
        product=product,
        currency=currency,
        principal=principal,
        overdue_amount=overdue,
        due_date=dt.date(2025, 1, 1),
        timezone="UTC",
    )
    if not pack.applies_to(c):
        return
    ranks = [pack.assess(c, dpd).rank for dpd in sorted(dpds)]
    assert ranks == sorted(ranks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=cases(),
    name=st.sampled_from(PACK_POLICIES),
    days=st.lists(st.integers(min_value=0, max_value=900), min_size=2, max_size=4),
)
def test_decided_classes_never_improve_as_time_passes(c: Case, name: str, days: list[int]) -> None:
    order: dict[str, tuple[str, ...]] = {}
    section = regulation_of(policy(name))
    for pack in section.packs if section else ():
        # A classification only worsens as time passes; whether an account may be
        # re-aged (a reage pack) improves as it ages, and is not a class.
        if isinstance(pack, LadderPack | MaterialityPack):
            order[pack.id] = pack.values
    previous: dict[str, int] = {}
    for offset in sorted(days):
        try:
            d = engine(name).decide(c, as_of=AS_OF.add(days=offset))
        except InputError:
            return  # a currency without a materiality threshold
        for r in d.regulatory:
            if r.pack not in order:
                continue
            rank = order[r.pack].index(r.value)
            assert rank >= previous.get(r.pack, 0)
            previous[r.pack] = rank


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=cases(), name=st.sampled_from(PACK_POLICIES), offset=st.integers(min_value=-10, max_value=900)
)
def test_both_back_ends_agree_on_the_pack_policies(c: Case, name: str, offset: int) -> None:
    when = AS_OF.add(days=offset)
    outcomes = []
    for backend in BACKENDS:
        try:
            outcomes.append(
                engine(name, backend)
                .decide(c, as_of=when)
                .to_json()
                .replace('"engine":"durable"', "")
                .replace('"engine":"python"', "")
            )
        except InputError as exc:
            outcomes.append(f"error: {exc}")
    assert outcomes[0] == outcomes[1]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=ifrs9_cases(),
    offset=st.integers(min_value=-10, max_value=400),
    backend=st.sampled_from(BACKENDS),
)
def test_ifrs9_no_decision_is_in_eu_default_outside_stage_3(
    c: Case, offset: int, backend: str
) -> None:
    d = engine("ifrs9", backend).decide(c, as_of=AS_OF.add(days=offset))
    stage, default = regulatory(d, "IFRS9"), regulatory(d, "EU-DEFAULT")
    if default.value == "default":
        assert stage.value == "stage_3", (stage, default)
        assert d.facts["ifrs9_stage"] == "stage_3"
        assert d.facts["ifrs9_credit_impaired"] is True
        assert d.facts["eu_default"] is True
        assert not any("is rebutted" in note and "IFRS9-S3" in note for note in stage.notes)
        if stage.rule_id == "IFRS9-S3-DEFAULT":
            assert {"IFRS9-STAGE3", "EU-DEFAULT"} <= set(stage.cites)
        else:  # stage 3 by its own presumption, not rebutted
            assert stage.rule_id == "IFRS9-S3-DPD"
            assert not c.default_rebutted
    elif c.default_rebutted:
        assert stage.value != "stage_3"  # the rebuttal holds outside default
    firing = next(f for f in d.trace if f.rule_id == stage.rule_id)
    assert firing.cites == stage.cites
    # the timeline of classes agrees: stage 3 begins no later than the default
    if stage.value != "stage_3" and default.next_value == "default":
        assert stage.next_on is not None
        assert stage.next_on <= default.next_on
        if stage.next_on == default.next_on:
            assert stage.next_value == "stage_3"
    if c.default_rebutted and stage.next_value == "stage_3":
        assert stage.next_on == default.next_on


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=ifrs9_cases(), offset=st.integers(min_value=-10, max_value=400))
def test_ifrs9_next_class_begins_on_its_date(c: Case, offset: int) -> None:
    d = engine("ifrs9").decide(c, as_of=AS_OF.add(days=offset))
    for result in d.regulatory:
        if result.next_on is None:
            continue
        day = dt.date.fromisoformat(result.next_on)
        at = pendulum.datetime(day.year, day.month, day.day, 12, tz=c.timezone)
        later = regulatory(engine("ifrs9").decide(c, as_of=at), result.pack)
        assert later.value == result.next_value, (result, later)


def test_decisions_are_byte_for_byte_deterministic() -> None:
    c = case(300, signals=("documents_provided", "health_issue"))
    first = decide("cn_bank_loan", c, "durable").to_json()
    assert first == decide("cn_bank_loan", c, "durable").to_json()
    assert first == Engine(load_policy("cn_bank_loan")).decide(c, as_of=AS_OF).to_json()


# --------------------------------------------------------------------------- pack data


def test_every_s_figure_of_a_pack_is_a_parameter_with_status_s() -> None:
    for name in PACK_POLICIES:
        p = policy(name)
        clauses = registry(p)
        section = regulation_of(p)
        for pack in section.packs if section else ():
            for klass in getattr(pack, "classes", ()):
                s_cited = [
                    c
                    for c in klass.cites
                    if clauses.get(c) is not None and clauses.get(c).status == "S"
                ]  # type: ignore[union-attr]
                for threshold in klass.thresholds.values():
                    if s_cited:
                        param = threshold.figure.param
                        assert param is not None, (name, klass.rule_id)
                        assert p.parameters[param].status == "S", (name, param)
        for param in p.parameters.values():
            statuses = {
                clauses.get(c).status
                for c in param.cites  # type: ignore[union-attr]
                if clauses.get(c) is not None and clauses.get(c).kind is ClauseKind.REGULATION
            }  # type: ignore[union-attr]
            if statuses == {"S"}:
                assert param.status == "S", (name, param.name)


def test_every_class_rule_cites_a_known_clause() -> None:
    for name in PACK_POLICIES:
        p = policy(name)
        known = registry(p)
        for path, cid, _ in citations(p.data):
            assert known.get(cid) is not None, (name, path, cid)
        section = regulation_of(p)
        for pack in section.packs if section else ():
            for klass in getattr(pack, "classes", ()):
                assert klass.cites, (name, klass.rule_id)


def _ladder(**overrides: Any) -> dict[str, Any]:
    pack: dict[str, Any] = {
        "kind": "dpd_ladder",
        "fact": "my_class",
        "cites": ["CN-5LVL"],
        "classes": [
            {"value": "good", "rule": "G"},
            {"value": "bad", "rule": "B", "over_dpd": 30},
            {"value": "worse", "rule": "W", "over_dpd": "my_worse"},
        ],
    }
    pack.update(overrides)
    return pack


def _classes(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"value": "good", "rule": "G"}, *extra]


_EU = {
    "E": {
        "kind": "materiality_default",
        "fact": "d",
        "over_dpd": 90,
        "absolute": {"EUR": 100},
        "relative": 0.01,
    }
}


def _linked(link: object) -> dict[str, Any]:
    return {"value": "bad", "rule": "B", "over_dpd": 30, "in_default": link}


BAD_PACKS = [
    pytest.param({"P": _ladder(kind="ladder")}, "regulation.P.kind", "dpd_ladder", id="kind"),
    pytest.param(
        {"P": _ladder(classes=_classes({"value": "bad", "rule": "B"}))},
        "regulation.P.classes[1]",
        "exactly one of over_dpd",
        id="no-threshold",
    ),
    pytest.param(
        {
            "P": _ladder(
                classes=[
                    {"value": "good", "rule": "G", "over_dpd": 3},
                    {"value": "bad", "rule": "B", "over_dpd": 4},
                ]
            )
        },
        "regulation.P.classes[0].over_dpd",
        "base class",
        id="base-threshold",
    ),
    pytest.param(
        {
            "P": _ladder(
                classes=_classes(
                    {"value": "bad", "rule": "B", "over_dpd": 60},
                    {"value": "worse", "rule": "W", "over_dpd": 30},
                )
            )
        },
        "regulation.P.classes",
        "increasing thresholds",
        id="decreasing",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes({"value": "bad", "rule": "B", "over_dpd": "my_wrose"}))},
        "regulation.P.classes[1].over_dpd",
        "unknown parameter 'my_wrose'",
        id="unknown-param",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes({"value": "bad", "rule": "B", "over_dpd": {"open": 3}}))},
        "regulation.P.classes[1].over_dpd",
        "product_types",
        id="table-without-types",
    ),
    pytest.param(
        {
            "P": _ladder(
                product_types={"loan": "closed"},
                classes=_classes({"value": "bad", "rule": "B", "from_dpd": {"open": 3}}),
            )
        },
        "regulation.P.classes[1].from_dpd.closed",
        "missing the threshold for closed",
        id="missing-type",
    ),
    pytest.param(
        {
            "P": _ladder(
                classes=_classes(
                    {"value": "bad", "rule": "B", "over_dpd": 1, "rebuttable_by": "sicr"}
                )
            )
        },
        "regulation.P.classes[1].rebuttable_by",
        "sicr_rebutted",
        id="rebuttal",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes(_linked({"pack": "NOPE", "rule": "BD"})))},
        "regulation.P.classes[1].in_default.pack",
        "no regulation pack 'NOPE'",
        id="in-default-unknown-pack",
    ),
    pytest.param(
        {
            "P": _ladder(classes=_classes(_linked({"pack": "P", "rule": "BD"}))),
        },
        "regulation.P.classes[1].in_default.pack",
        "expected a materiality_default pack",
        id="in-default-ladder-pack",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes(_linked({"pack": "E", "rule": "BD", "why": "x"}))), **_EU},
        "regulation.P.classes[1].in_default.why",
        "unknown key",
        id="in-default-unknown-key",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes(_linked({"pack": "E"}))), **_EU},
        "regulation.P.classes[1].in_default.rule",
        "",
        id="in-default-no-rule",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes(_linked({"pack": "E", "rule": "G"}))), **_EU},
        "regulation.P.classes[1].in_default.rule",
        "duplicate rule id 'G'",
        id="in-default-duplicate-rule",
    ),
    pytest.param(
        {
            "P": _ladder(
                classes=[
                    {"value": "good", "rule": "G", "in_default": {"pack": "E", "rule": "GD"}},
                    {"value": "bad", "rule": "B", "over_dpd": 4},
                ]
            ),
            **_EU,
        },
        "regulation.P.classes[0].in_default",
        "base class",
        id="in-default-base-class",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes(_linked("E"))), **_EU},
        "regulation.P.classes[1].in_default",
        "expected a table",
        id="in-default-not-a-table",
    ),
    pytest.param(
        {"P": _ladder(classes=_classes({"value": "bad", "rule": "B", "over_dpd": -1}))},
        "regulation.P.classes[1].over_dpd",
        "at least 0",
        id="negative",
    ),
    pytest.param(
        {"P": _ladder(flags={"is_bad": "terrible"})},
        "regulation.P.flags.is_bad",
        "one of the classes",
        id="flag",
    ),
    pytest.param({"P": _ladder(fact="dpd")}, "regulation.P.fact", "already a fact", id="fact-dpd"),
    pytest.param(
        {"P": _ladder(products=["loans"])}, "regulation.P.products", "unknown value", id="product"
    ),
    pytest.param(
        {
            "P": _ladder(),
            "Q": _ladder(
                classes=[
                    {"value": "good", "rule": "G2"},
                    {"value": "poor", "rule": "P2", "over_dpd": 5},
                ]
            ),
        },
        "regulation.Q.classes",
        "same classes",
        id="shared-fact-mismatch",
    ),
    pytest.param(
        {
            "E": {
                "kind": "materiality_default",
                "fact": "d",
                "over_dpd": 90,
                "absolute": {"euro": 100},
                "relative": 0.01,
            }
        },
        "regulation.E.absolute.euro",
        "ISO 4217",
        id="currency-code",
    ),
    pytest.param(
        {
            "E": {
                "kind": "materiality_default",
                "fact": "d",
                "over_dpd": 90,
                "absolute": {"EUR": 100},
                "relative": 2,
            }
        },
        "regulation.E.relative",
        "at most 1",
        id="relative",
    ),
    pytest.param(
        {
            "E": {
                "kind": "materiality_default",
                "fact": "d",
                "over_dpd": 90,
                "absolute": {"EUR": 100},
                "relative": 0.01,
                "threshold": 1,
            }
        },
        "regulation.E.threshold",
        "unknown key",
        id="unknown-key",
    ),
]


@pytest.mark.parametrize(("regulation", "path", "message"), BAD_PACKS)
def test_bad_pack_data_is_reported_with_its_key_path(
    regulation: dict[str, Any], path: str, message: str
) -> None:
    data = {
        "extends": "default",
        "id": "bad",
        "regulation": regulation,
        "parameters": {"my_worse": {"value": 90}},
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    found = [p for p in info.value.problems if p.path == path]
    assert found, [str(p) for p in info.value.problems]
    assert any(message in p.message for p in found), [str(p) for p in found]


def test_a_class_linked_to_a_disabled_default_pack_follows_its_presumption_alone() -> None:
    data = {"extends": "ifrs9", "id": "no-eu", "regulation": {"EU-DEFAULT": {"enabled": False}}}
    d = Engine(policy_from_dict(data), backend="python").decide(
        case(95, currency="EUR", default_rebutted=True), as_of=AS_OF
    )
    assert [(r.pack, r.value) for r in d.regulatory] == [("IFRS9", "stage_2")]


def test_an_in_default_pack_is_named_with_a_suggestion() -> None:
    data = {
        "extends": "default",
        "id": "bad",
        "regulation": {
            "EU-DEFAULT": _EU["E"],
            "P": _ladder(classes=_classes(_linked({"pack": "EU-DEFALT", "rule": "X"}))),
        },
        "parameters": {"my_worse": {"value": 90}},
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    [problem] = info.value.problems
    assert problem.path == "regulation.P.classes[1].in_default.pack"
    assert problem.suggestion == "EU-DEFAULT"


def test_unknown_parameter_suggests_the_closest() -> None:
    data = {
        "extends": "cn_bank_loan",
        "id": "typo",
        "regulation": {
            "CN-5LVL": {
                **tomllib.loads(
                    (resources.files("collectrules") / "policies" / "cn_bank_loan.toml").read_text(
                        "utf-8"
                    )
                )["regulation"]["CN-5LVL"],
            }
        },
    }
    data["regulation"]["CN-5LVL"]["classes"][2]["over_dpd"] = "cn5_substandard_over_dp"
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    assert info.value.problems[0].suggestion == "cn5_substandard_over_dpd"


def test_remedy_rules_cannot_misspell_a_class() -> None:
    data = {
        "extends": "cn_bank_loan",
        "id": "typo",
        "remedies": {
            "rules": [
                {
                    "id": "R-X",
                    "effect": "allow",
                    "remedy": "write_off",
                    "when": "cn5_class == 'los'",
                    "reason": "x",
                }
            ]
        },
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    problem = info.value.problems[0]
    assert problem.path == "remedies[R-X].when"
    assert "'los' is not a value of 'cn5_class'" in problem.message
    assert "loss" in problem.message


def test_a_disabled_pack_is_not_applied() -> None:
    data = {"extends": "ifrs9", "id": "no-eu", "regulation": {"EU-DEFAULT": {"enabled": False}}}
    d = Engine(policy_from_dict(data), backend="python").decide(
        case(100, currency="USD"), as_of=AS_OF
    )
    assert [r.pack for r in d.regulatory] == ["IFRS9"]
