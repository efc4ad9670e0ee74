"""The receivables plan's legal step (AR-4) opens once the debt is over one month overdue.

DOMAIN.md AR-4, "over 1 month overdue, still unpaid" (逾期时间超过一个月): more than one
calendar month after the due date. A month after the due date is pendulum's
``add(months=1)``: the same day of the next month, or that month's last day (due 30
January: 28 February). The step opens at 00:00 of the day after it. Counted from the first
day overdue, it opened on 28 February for debts due 28, 29 or 30 January 2026 (31 January
plus a month is 28 February): one month after the due date at most, not over it.

Months from the first day overdue count so in every plan: the property-fee steps too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case
from collectrules.model.time import local_midnight
from collectrules.policy.derive import derive
from collectrules.timeline import build_timeline
from collectrules.timeline.evaluate import state_facts
from timeline_helpers import SH, at, default, event

ZONES = (SH, "America/New_York", "Europe/London", "UTC", "Pacific/Auckland")
#: Every day of a leap year (2024) and of a common year (2026).
DAYS = tuple(
    dt.date(year, 1, 1) + dt.timedelta(days=n)
    for year in (2024, 2026)
    for n in range(366 if year == 2024 else 365)
)


def _case(due: dt.date, tz: str = SH, product: str = "receivable", **fields: Any) -> Case:
    data: dict[str, Any] = {
        "case_id": "AR-M",
        "product": product,
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": due.isoformat(),
        "timezone": tz,
    }
    return Case.from_dict(data | fields)


def _month_after(due: dt.date, months: int = 1) -> dt.date:
    """The date ``months`` calendar months after ``due``, as pendulum gives it."""
    landed = pendulum.date(due.year, due.month, due.day).add(months=months)
    return dt.date(landed.year, landed.month, landed.day)


def _opens(case: Case, step: str = "AR-4") -> pendulum.DateTime:
    as_of = local_midnight(case.due_date, case.timezone).add(days=1)
    opens = build_timeline(case, as_of=as_of, policy=default()).step(step).opens_at
    assert opens is not None
    return opens


def _status(case: Case, as_of: pendulum.DateTime) -> str:
    """The step's status as the remedy rules read it."""
    policy = default()
    needed = frozenset({"step_ar_4"})
    facts = state_facts(case, as_of, policy, derive(case, as_of, policy).facts, needed)
    return str(facts["step_ar_4"])


@pytest.mark.parametrize(
    ("due", "opens"),
    [
        ("2026-01-27", "2026-02-28"),
        ("2026-01-28", "2026-03-01"),
        ("2026-01-29", "2026-03-01"),
        ("2026-01-30", "2026-03-01"),
        ("2026-01-31", "2026-03-01"),
        ("2024-01-28", "2024-02-29"),
        ("2024-01-29", "2024-03-01"),
        ("2024-01-30", "2024-03-01"),
        ("2026-02-28", "2026-03-29"),
        ("2026-03-15", "2026-04-16"),
        ("2026-03-30", "2026-05-01"),
        ("2026-03-31", "2026-05-01"),
        ("2026-04-30", "2026-05-31"),
    ],
)
def test_the_legal_step_opens_the_day_after_one_month_past_the_due_date(
    due: str, opens: str
) -> None:
    case = _case(dt.date.fromisoformat(due))
    assert _opens(case) == at(f"{opens} 00:00")


@pytest.mark.parametrize("with_events", [False, True])
def test_a_debt_due_30_january_is_not_over_a_month_overdue_on_28_february(
    with_events: bool,
) -> None:
    events = [event("contact_attempt", "2026-02-02 10:00", outcome="reached")]
    case = _case(dt.date(2026, 1, 30), events=events if with_events else [])
    last_day = at("2026-02-28 23:59:59")
    assert build_timeline(case, as_of=last_day, policy=default()).step("AR-4").status == "upcoming"
    assert _status(case, last_day) == "upcoming"
    first = at("2026-03-01 00:00")
    assert build_timeline(case, as_of=first, policy=default()).step("AR-4").status == "open"
    assert _status(case, first) == "open"


def test_the_property_fee_steps_count_months_from_the_due_date_too() -> None:
    case = _case(dt.date(2026, 8, 30), product="property_fee")
    # PF-2: after 1 month, within 2 months; PF-4: after 6 months.
    as_of = at("2026-09-01 00:00")
    step = build_timeline(case, as_of=as_of, policy=default()).step("PF-2")
    assert (step.opens_at, step.due_at) == (at("2026-10-01 00:00"), at("2026-10-31 00:00"))
    assert _opens(case, "PF-4") == at("2027-03-01 00:00")


def test_the_rule_holds_on_every_day_of_a_leap_and_a_common_year() -> None:
    for due in DAYS:
        opens = _opens(_case(due))
        month_after = _month_after(due)
        assert opens == local_midnight(month_after + dt.timedelta(days=1), SH), due
        assert 29 <= (opens.date() - due).days <= 32, due


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(due=st.sampled_from(DAYS), tz=st.sampled_from(ZONES), months=st.sampled_from([1, 6]))
def test_months_overdue_open_strictly_after_that_many_months(
    due: dt.date, tz: str, months: int
) -> None:
    product, step = ("receivable", "AR-4") if months == 1 else ("property_fee", "PF-4")
    case = _case(due, tz, product)
    opens = _opens(case, step)
    month_after = _month_after(due, months)
    # Exactly the first day after the date ``months`` calendar months after the due date.
    assert opens == local_midnight(month_after + dt.timedelta(days=1), tz)
    assert opens.date() > month_after
    if months == 1:
        # Never earlier than 28 days (a month is 28 to 31 days; over it, 29 at the least).
        assert 29 <= (opens.date() - due).days <= 32
        # Not open while the debt is one month overdue at most; open from the next day.
        assert _status(case, opens.subtract(microseconds=1)) == "upcoming"
        assert _status(case, opens) == "open"
