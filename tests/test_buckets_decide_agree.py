"""A bucket history and a decision read a case's ``overdue_amount`` alike: as the amount
overdue at the instant the case is read at, after the payments made up to then. A
payment recorded after that instant is not read by either, so the bucket a history
gives at that instant is the bucket the decision gives at it."""

from __future__ import annotations

import datetime as dt
from functools import cache

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, bucket_history, load_policy
from collectrules.compliance.buckets import buckets_of, dpd_at
from collectrules.errors import InputError

BACKENDS = ("python", "durable")
#: The shipped policies with bucket sets.
BUCKET_POLICIES = tuple(
    name
    for name in ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
    if buckets_of(load_policy(name)) is not None
)
ZONES = ("Asia/Shanghai", "America/New_York", "UTC", "Pacific/Kiritimati")


@cache
def engine(policy: str, backend: str) -> Engine:
    return Engine(policy, backend=backend)  # type: ignore[arg-type]


def test_the_shipped_bucket_policies_are_the_ones_expected() -> None:
    assert BUCKET_POLICIES == ("cn_bank_loan", "cn_credit_card", "us_regf")


def _case(
    overdue: str, zone: str, product: str, payments: list[tuple[pendulum.DateTime, str]]
) -> Case:
    return Case.from_dict(
        {
            "case_id": "B-1",
            "product": product,
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": overdue,
            "due_date": "2026-02-15",
            "timezone": zone,
            "events": [
                {"kind": "payment", "at": at.isoformat(), "amount": amount}
                for at, amount in payments
            ],
        }
    )


_DAYS = st.integers(min_value=0, max_value=400)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(BUCKET_POLICIES),
    backend=st.sampled_from(BACKENDS),
    product=st.sampled_from(["loan", "credit_card", "receivable"]),
    zone=st.sampled_from(ZONES),
    overdue=st.sampled_from(["0", "0.01", "1", "2500", "5000"]),
    before=st.lists(
        st.tuples(st.integers(1, 200), st.sampled_from(["1", "2500", "5000"])), max_size=4
    ),
    after=st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from(["1", "2500", "5000"])),
        min_size=1,
        max_size=4,
    ),
    as_of_days=_DAYS,
    earlier=st.lists(st.integers(1, 400), max_size=4),
)
def test_the_history_at_as_of_gives_the_bucket_the_decision_gives(
    policy: str,
    backend: str,
    product: str,
    zone: str,
    overdue: str,
    before: list[tuple[int, str]],
    after: list[tuple[int, str]],
    as_of_days: int,
    earlier: list[int],
) -> None:
    # Payments before as_of and after it (a payment at as_of itself counts as made).
    as_of = pendulum.datetime(2026, 1, 20, 12, tz=zone).add(days=as_of_days)
    payments = [(as_of.subtract(hours=h), amount) for h, amount in before]
    payments += [(as_of.add(hours=h), amount) for h, amount in after]
    c = _case(overdue, zone, product, payments)
    decided = engine(policy, backend).decide(c, as_of=as_of)
    section = buckets_of(load_policy(policy))
    assert section is not None
    instants = [as_of.subtract(hours=12 * h) for h in earlier] + [as_of]
    by_set = {b.bucket_set: b.bucket for b in decided.buckets}
    for bucket_set in section.sets:
        if not bucket_set.applies_to(product):
            continue
        history = bucket_history(c, instants, policy=policy, bucket_set=bucket_set.id)
        last = history.observations[-1]
        assert last.as_of == as_of
        assert last.bucket == by_set[bucket_set.id] == decided.facts[bucket_set.fact]
        assert last.dpd == decided.facts["dpd"]
        # read as recorded at as_of, an earlier instant is read with the payments up to as_of
        for obs in history.observations:
            assert obs.dpd == dpd_at(c, obs.as_of, recorded_at=as_of)


def test_a_payment_after_as_of_is_not_read_back_into_the_arrears() -> None:
    # Nothing is overdue at as_of; a payment of 5000 is recorded the day after. Before,
    # the history read the payment back: 5000 overdue at as_of, 64 days past due, bucket
    # M3, where the decision at as_of says current (M0).
    as_of = pendulum.datetime(2026, 4, 20, 12, tz="Asia/Shanghai")
    c = _case("0", "Asia/Shanghai", "loan", [(as_of.add(days=1), "5000")])
    decided = engine("cn_bank_loan", "python").decide(c, as_of=as_of)
    assert decided.facts["bucket"] == "M0"
    history = bucket_history(c, [as_of], policy="cn_bank_loan", bucket_set="M")
    assert [(o.dpd, o.bucket) for o in history.observations] == [(0, "M0")]
    assert dpd_at(c, as_of) == 0
    # Read as recorded the day after the payment, the case was overdue at as_of.
    later = as_of.add(days=2)
    read_later = bucket_history(
        c, [as_of, later], policy="cn_bank_loan", bucket_set="M", recorded_at=later
    )
    assert [o.bucket for o in read_later.observations] == ["M3", "M0"]
    assert dpd_at(c, as_of, recorded_at=later) == 64


def test_a_recorded_at_before_an_as_of_is_refused_naming_the_field() -> None:
    as_of = pendulum.datetime(2026, 4, 20, 12, tz="Asia/Shanghai")
    c = _case("100", "Asia/Shanghai", "loan", [])
    with pytest.raises(InputError) as exc:
        bucket_history(
            c, [as_of], policy="cn_bank_loan", bucket_set="M", recorded_at=as_of.subtract(days=1)
        )
    assert exc.value.problems[0].path == "recorded_at"
    assert "before the as_of instant" in exc.value.problems[0].message
    with pytest.raises(InputError) as naive:
        dpd_at(c, as_of, recorded_at=dt.datetime(2026, 5, 1))
    assert naive.value.problems[0].path == "recorded_at"
    assert "naive" in naive.value.problems[0].message
