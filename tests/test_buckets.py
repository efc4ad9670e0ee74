"""Delinquency buckets: the shipped sets at every boundary, validation, the decision's
buckets, severity segments, and bucket history over a sequence of ``as_of`` instants."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    BucketHistory,
    Case,
    Engine,
    InputError,
    Policy,
    PolicyError,
    bucket_history,
    load_policy,
)
from collectrules.compliance.buckets import BucketSet, buckets_of, dpd_at
from collectrules.policy import policy_from_dict

AS_OF = pendulum.parse("2026-06-30T12:00:00+08:00")
SH = "Asia/Shanghai"


@cache
def policy(name: str) -> Policy:
    return load_policy(name)


@cache
def engine(name: str) -> Engine:
    return Engine(policy(name), backend="python")


def case(
    dpd: int,
    *,
    overdue: str = "5000",
    signals: tuple[str, ...] = (),
    events: list[dict[str, Any]] | None = None,
    due: dt.date | None = None,
) -> Case:
    due_date = due or AS_OF.date() - dt.timedelta(days=dpd)
    seen = AS_OF.subtract(days=1).isoformat()
    return Case.from_dict(
        {
            "case_id": f"B-{dpd}",
            "product": "loan",
            "currency": "CNY",
            "principal": "500000",
            "overdue_amount": overdue,
            "due_date": due_date.isoformat(),
            "timezone": SH,
            "signals": [{"kind": k, "observed_at": seen} for k in signals],
            "events": events or [],
        }
    )


def bucket_set(name: str, set_id: str) -> BucketSet:
    section = buckets_of(policy(name))
    assert section is not None
    return section.set(set_id)


M = [
    (0, "M0"),
    (1, "M1"),
    (30, "M1"),
    (31, "M2"),
    (60, "M2"),
    (61, "M3"),
    (90, "M3"),
    (91, "M4"),
    (120, "M4"),
    (121, "M5"),
    (150, "M5"),
    (151, "M6+"),
    (2000, "M6+"),
]
NPL = [
    (0, "performing"),
    (1, "NPL-1-3M"),
    (90, "NPL-1-3M"),
    (91, "NPL-3-6M"),
    (179, "NPL-3-6M"),
    (180, "NPL-6M"),
    (1000, "NPL-6M"),
]


@pytest.mark.parametrize(("dpd", "expected"), M)
@pytest.mark.parametrize("name", ["cn_bank_loan", "us_regf"])
def test_m_buckets(name: str, dpd: int, expected: str) -> None:
    assert bucket_set(name, "M").value_for(dpd) == expected


@pytest.mark.parametrize(("dpd", "expected"), NPL)
def test_npl_buckets_and_their_treatments(dpd: int, expected: str) -> None:
    d = engine("cn_bank_loan").decide(case(dpd), as_of=AS_OF)
    assert d.facts["npl_bucket"] == expected
    result = next(b for b in d.buckets if b.bucket_set == "NPL")
    assert result.bucket == expected
    treatments = {
        "performing": (),
        "NPL-1-3M": ("remind", "extend", "pressure_guarantor"),
        "NPL-3-6M": ("outsource", "transfer"),
        "NPL-6M": ("litigate", "reduce"),
    }
    assert result.treatments == treatments[expected]
    if expected != "performing":
        assert result.cites == (expected,)
    firing = next(f for f in d.trace if f.layer == "buckets" and f.rule_id.startswith("NPL:"))
    assert firing.rule_id == f"NPL:{expected}"


def test_decision_reports_every_bucket_set_in_policy_order() -> None:
    d = engine("cn_bank_loan").decide(case(45), as_of=AS_OF)
    assert [(b.bucket_set, b.bucket) for b in d.buckets] == [("M", "M2"), ("NPL", "NPL-1-3M")]
    assert d.facts["bucket"] == "M2"
    assert d.to_dict()["buckets"][0]["label"] == "31–60 days past due / 逾期31–60天"


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["cn_bank_loan", "us_regf"]),
    set_id=st.sampled_from(["M", "NPL"]),
    dpd=st.integers(min_value=0, max_value=5000),
)
def test_every_dpd_falls_in_exactly_one_bucket(name: str, set_id: str, dpd: int) -> None:
    section = buckets_of(policy(name))
    assert section is not None
    if set_id not in [s.id for s in section.sets]:
        return
    chosen = section.set(set_id)
    holders = [b for b in chosen.buckets if b.contains(dpd)]
    first = chosen.buckets[0].min_dpd.as_int
    assert len(holders) == (1 if dpd >= first else 0)
    # Buckets never go back as dpd grows.
    order = chosen.values
    assert order.index(chosen.value_for(dpd)) <= order.index(chosen.value_for(dpd + 1))


# --------------------------------------------------------------------------- validation


def ranges(*items: tuple[str, int, int | None]) -> list[dict[str, Any]]:
    out = []
    for bid, low, high in items:
        item: dict[str, Any] = {"id": bid, "min_dpd": low}
        if high is not None:
            item["max_dpd"] = high
        out.append(item)
    return out


BAD_SETS = [
    pytest.param(
        ranges(("A", 1, 30), ("B", 30, None)), "buckets.X.ranges[B]", "overlaps", id="overlap"
    ),
    pytest.param(
        ranges(("A", 10, 5), ("B", 11, None)),
        "buckets.X.ranges[A]",
        "greater than max_dpd",
        id="min-over-max",
    ),
    pytest.param(
        ranges(("A", 1, 30), ("B", 31, 60)),
        "buckets.X.ranges[B].max_dpd",
        "open-ended",
        id="closed-last",
    ),
    pytest.param(
        ranges(("A", 1, None), ("B", 31, None)),
        "buckets.X.ranges[B]",
        "only the last range",
        id="open-middle",
    ),
    pytest.param(ranges(("A", 1, 30), ("B", 40, None)), "buckets.X.ranges[B]", "gap", id="gap"),
    pytest.param(
        ranges(("A", 1, 30), ("A", 31, None)), "buckets.X.ranges[A].id", "duplicate", id="duplicate"
    ),
    pytest.param(
        ranges(("A", -1, 30), ("B", 31, None)),
        "buckets.X.ranges[A].min_dpd",
        "at least 0",
        id="negative",
    ),
    pytest.param(
        [{"id": "A", "min_dpd": "npl_start", "treatments": ["remind"]}],
        "buckets.X.ranges[A].min_dpd",
        "unknown parameter",
        id="unknown-param",
    ),
    pytest.param(
        [{"id": "A", "min_dpd": 1, "treatments": ["sue"]}],
        "buckets.X.ranges[A].treatments",
        "unknown remedy",
        id="treatment",
    ),
    pytest.param([], "buckets.X.ranges", "at least one range", id="empty"),
]


@pytest.mark.parametrize(("raw", "path", "message"), BAD_SETS)
def test_bad_bucket_sets_are_reported(raw: list[dict[str, Any]], path: str, message: str) -> None:
    data = {
        "extends": "default",
        "id": "bad",
        "buckets": {"X": {"fact": "x_bucket", "ranges": raw}},
    }
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data)
    found = [p for p in info.value.problems if p.path == path]
    assert found, [str(p) for p in info.value.problems]
    assert any(message in p.message for p in found), [str(p) for p in found]


def test_bucket_fact_names_must_not_collide() -> None:
    data = {
        "extends": "cn_bank_loan",
        "id": "bad",
        "buckets": {"Y": {"fact": "bucket", "ranges": ranges(("Y1", 1, None))}},
    }
    with pytest.raises(PolicyError, match="already gives the fact 'bucket'"):
        policy_from_dict(data)


def test_bounds_may_be_parameters() -> None:
    data = {
        "extends": "default",
        "id": "p",
        "parameters": {"late_from": {"value": 16}},
        "buckets": {
            "X": {
                "fact": "x_bucket",
                "ranges": [
                    {"id": "EARLY", "min_dpd": 1, "max_dpd": 15},
                    {"id": "LATE", "min_dpd": "late_from"},
                ],
            }
        },
    }
    p = policy_from_dict(data)
    section = buckets_of(p)
    assert section is not None
    assert section.set().value_for(16) == "LATE"
    assert "late_from" in section.parameters


# --------------------------------------------------------------------------- severity

SEVERITY = [
    pytest.param(30, "10000", (), "light", id="short-small"),
    pytest.param(31, "10000", (), "moderate", id="not-short"),
    pytest.param(30, "10000.01", (), "moderate", id="not-small"),
    pytest.param(91, "100000", (), "moderate", id="long-not-large"),
    pytest.param(90, "100000.01", (), "moderate", id="large-not-long"),
    pytest.param(91, "100000.01", (), "severe", id="long-large"),
    pytest.param(5, "100", ("unreachable",), "severe", id="evasive"),
]


@pytest.mark.parametrize(("dpd", "amount", "signals", "expected"), SEVERITY)
def test_severity_segments(dpd: int, amount: str, signals: tuple[str, ...], expected: str) -> None:
    for backend in ("python", "durable"):
        d = Engine(policy("cn_bank_loan"), backend=backend).decide(  # type: ignore[arg-type]
            case(dpd, overdue=amount, signals=signals), as_of=AS_OF
        )
        assert d.levels["severity"].value == expected


def test_severity_thresholds_are_documented_as_chosen() -> None:
    p = policy("cn_bank_loan")
    for name in (
        "severity_short_max_dpd",
        "severity_small_max_amount",
        "severity_long_over_dpd",
        "severity_large_over_amount",
    ):
        assert p.parameters[name].chosen, name
        assert "choice" in p.parameters[name].doc or "chose" in p.parameters[name].doc


def test_severe_cases_may_be_visited_and_outsourced() -> None:
    signals = ("unreachable", "refused_to_pay")
    d = engine("cn_bank_loan").decide(case(5, overdue="100", signals=signals), as_of=AS_OF)
    assert d.quadrant.value == "Q3"
    grant = d.grant("outsource")
    assert grant is not None
    assert grant.cites == ("S-SEV", "CUST-STRAT")
    assert d.grant("visit") is not None


# --------------------------------------------------------------------------- history


def monthly(start: str, count: int) -> list[pendulum.DateTime]:
    first = pendulum.parse(start)
    return [first.add(months=i) for i in range(count)]


def test_history_enters_and_leaves_each_bucket() -> None:
    c = case(0, due=dt.date(2026, 1, 31))
    history = bucket_history(
        c, monthly("2026-01-15T12:00:00+08:00", 8), policy="cn_bank_loan", bucket_set="M"
    )
    assert isinstance(history, BucketHistory)
    assert [o.bucket for o in history.observations] == [
        "M0",
        "M1",
        "M2",
        "M3",
        "M4",
        "M5",
        "M6+",
        "M6+",
    ]
    spans = history.spans
    assert [s.bucket for s in spans] == ["M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
    assert spans[1].entered.isoformat() == "2026-02-15T12:00:00+08:00"
    assert spans[1].left == spans[2].entered
    assert spans[-1].left is None
    assert history.to_json() == history.to_json()


def test_a_payment_that_clears_the_arrears_makes_the_case_current() -> None:
    paid = "2026-04-20T10:00:00+08:00"
    c = case(
        0,
        overdue="0",
        due=dt.date(2026, 1, 31),
        events=[
            {"kind": "payment", "at": "2026-03-10T10:00:00+08:00", "amount": "2000"},
            {"kind": "payment", "at": paid, "amount": "3000"},
        ],
    )
    history = bucket_history(
        c, monthly("2026-01-15T12:00:00+08:00", 6), policy="cn_bank_loan", bucket_set="NPL"
    )
    assert [o.bucket for o in history.observations] == [
        "performing",
        "NPL-1-3M",
        "NPL-1-3M",
        "NPL-1-3M",
        "performing",
        "performing",
    ]
    assert [s.bucket for s in history.spans] == ["performing", "NPL-1-3M", "performing"]
    assert history.spans[1].left == pendulum.parse("2026-05-15T12:00:00+08:00")
    # The case is read as recorded at the history's last instant; at that same instant
    # alone (as a decision reads it), nothing is overdue before the payment either.
    recorded = history.observations[-1].as_of
    assert dpd_at(c, pendulum.parse(paid).subtract(seconds=1), recorded_at=recorded) == 79
    assert dpd_at(c, pendulum.parse(paid), recorded_at=recorded) == 0
    assert dpd_at(c, pendulum.parse(paid).subtract(seconds=1)) == 0


def test_a_partial_payment_does_not_move_the_bucket() -> None:
    c = case(
        0,
        overdue="3000",
        due=dt.date(2026, 1, 31),
        events=[{"kind": "payment", "at": "2026-03-10T10:00:00+08:00", "amount": "2000"}],
    )
    history = bucket_history(
        c, monthly("2026-02-15T12:00:00+08:00", 3), policy="cn_bank_loan", bucket_set="M"
    )
    assert [o.dpd for o in history.observations] == [15, 43, 74]


def test_history_sorts_and_dedupes_instants_and_checks_inputs() -> None:
    c = case(40)
    history = bucket_history(
        c, [AS_OF, AS_OF.subtract(days=20), AS_OF], policy="cn_bank_loan", bucket_set="M"
    )
    assert [o.as_of for o in history.observations] == [AS_OF.subtract(days=20), AS_OF]
    with pytest.raises(InputError, match="several bucket sets"):
        bucket_history(c, [AS_OF], policy="cn_bank_loan")
    with pytest.raises(InputError, match="no bucket set 'MM'"):
        bucket_history(c, [AS_OF], policy="cn_bank_loan", bucket_set="MM")
    with pytest.raises(InputError, match="naive"):
        bucket_history(c, [dt.datetime(2026, 1, 1)], policy="cn_bank_loan", bucket_set="M")
    with pytest.raises(PolicyError, match="no \\[buckets\\] section"):
        bucket_history(c, [AS_OF], policy="default")
    only_m = bucket_history(c, [AS_OF], policy="us_regf")
    assert only_m.bucket_set == "M"


@settings(max_examples=100, deadline=None)
@given(
    dpd=st.integers(min_value=0, max_value=600),
    offsets=st.lists(st.integers(min_value=0, max_value=720), min_size=1, max_size=8),
)
def test_history_without_payments_agrees_with_the_decision(dpd: int, offsets: list[int]) -> None:
    c = case(dpd)
    instants = [AS_OF.add(hours=h * 12) for h in offsets]
    history = bucket_history(c, instants, policy="cn_bank_loan", bucket_set="M")
    for obs in history.observations:
        d = engine("cn_bank_loan").decide(c, as_of=obs.as_of)
        assert d.facts["bucket"] == obs.bucket
        assert d.facts["dpd"] == obs.dpd


# --------------------------------------------------------------------------- products


#: The rules that read the NPL bucket (R-NPL-DOUBT reads the risk class, which the card
#: classes of cn_credit_card give as well).
NPL_RULES = ("R-NPL-1-3M", "R-NPL-3-6M", "R-NPL-6M-LEGAL", "R-NPL-6M-REDUCE")


def product_case(product: str, dpd: int, *, signals: tuple[str, ...] = ()) -> Case:
    return Case.from_dict({**case(dpd, signals=signals).to_dict(), "product": product})


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("name", ["cn_bank_loan", "cn_credit_card"])
@pytest.mark.parametrize("product", ["credit_card", "receivable", "property_fee"])
def test_npl_buckets_are_for_loans_only(name: str, product: str, backend: str) -> None:
    # DOMAIN.md §7: the NPL buckets are a bank's non-performing loans.
    eng = Engine(policy(name), backend=backend)  # type: ignore[arg-type]
    d = eng.decide(product_case(product, 100, signals=("refused_to_pay",)), as_of=AS_OF)
    assert [b.bucket_set for b in d.buckets] == ["M"]
    assert "npl_bucket" not in d.facts
    assert not any(f.rule_id.startswith("NPL:") or f.rule_id in NPL_RULES for f in d.trace)
    loan = eng.decide(product_case("loan", 100, signals=("refused_to_pay",)), as_of=AS_OF)
    assert [(b.bucket_set, b.bucket) for b in loan.buckets] == [("M", "M4"), ("NPL", "NPL-3-6M")]
    assert loan.grant("outsource").rule_id == "R-NPL-3-6M"


def test_a_bucket_set_names_its_products() -> None:
    data = {
        "extends": "default",
        "id": "mine",
        "buckets": {
            "X": {"fact": "x_bucket", "products": ["receivable"], "ranges": ranges(("X1", 1, None))}
        },
        "remedies": {
            "rules": [
                {
                    "id": "R-X",
                    "effect": "allow",
                    "remedies": ["transfer"],
                    "when": "x_bucket == 'X1'",
                    "reason": "X1",
                    "cites": ["P3"],
                }
            ]
        },
    }
    mine = policy_from_dict(data)
    section = buckets_of(mine)
    assert section is not None
    assert section.set("X").products == ("receivable",)
    assert mine.schema()["x_bucket"].optional
    eng = Engine(mine, backend="python")
    for product, has in (("receivable", True), ("loan", False)):
        d = eng.decide(product_case(product, 40), as_of=AS_OF)
        assert [b.bucket_set for b in d.buckets] == (["X"] if has else [])
        assert ("x_bucket" in d.facts) is has
        assert (d.grant("transfer") is not None and d.grant("transfer").rule_id == "R-X") is has


def test_a_history_in_a_set_of_other_products_is_refused() -> None:
    with pytest.raises(InputError, match="bucket set 'NPL' applies to loan only"):
        bucket_history(
            product_case("credit_card", 10), [AS_OF], policy="cn_bank_loan", bucket_set="NPL"
        )


BUCKETS_BASE = 'extends = "default"\nid = "mine"\n\n[buckets.X]\nfact = "x_bucket"\n'
BUCKETS_RANGE = '\n[[buckets.X.ranges]]\nid = "X1"\nmin_dpd = 1\n'


@pytest.mark.parametrize(
    ("products", "expected"),
    [
        pytest.param(
            '["loan", "credit_crad"]',
            "buckets.X.products: unknown value 'credit_crad'; expected one of loan, "
            "credit_card, receivable, property_fee (did you mean 'credit_card'?)",
            id="unknown",
        ),
        pytest.param(
            "[]",
            "buckets.X.products: expected at least one product; leave the key out for all",
            id="empty",
        ),
        pytest.param('"loan"', "", id="text"),
    ],
)
def test_a_bad_bucket_product_is_an_error_at_its_file_and_line(
    tmp_path: Any, products: str, expected: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(f"{BUCKETS_BASE}products = {products}\n{BUCKETS_RANGE}", encoding="utf-8")
    if not expected:  # one product may be given as text, as the packs take it
        assert buckets_of(load_policy(path)).set("X").products == ("loan",)  # type: ignore[union-attr]
        return
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == 6
    assert str(problem).endswith(f"mine.toml:6: {expected}"), str(problem)


@settings(max_examples=60, deadline=None)
@given(
    product=st.sampled_from(["loan", "credit_card", "receivable", "property_fee"]),
    dpd=st.integers(min_value=-5, max_value=800),
    name=st.sampled_from(["cn_bank_loan", "cn_credit_card"]),
    signals=st.lists(st.sampled_from(["refused_to_pay", "unreachable", "hardship"]), max_size=2),
)
def test_only_loans_have_an_npl_bucket(
    product: str, dpd: int, name: str, signals: list[str]
) -> None:
    known = [s for s in signals if s in policy(name).signals]
    d = engine(name).decide(product_case(product, dpd, signals=tuple(known)), as_of=AS_OF)
    sets = [b.bucket_set for b in d.buckets]
    assert ("NPL" in sets) is (product == "loan")
    assert ("npl_bucket" in d.facts) is (product == "loan")
    fired = {f.rule_id for f in d.trace}
    reading = {r.id for r in policy(name).remedy_rules if "npl_bucket" in r.when.fields()}
    assert reading == set(NPL_RULES)
    if product != "loan":
        assert not any(r.startswith("NPL:") or r in NPL_RULES for r in fired)
