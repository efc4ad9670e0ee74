"""``Case.local_date`` remembers recent instants' dates, and never gives a wrong one."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from collectrules.errors import InputError
from collectrules.model.case import Case

CASE = Case.from_dict(
    {
        "case_id": "C1",
        "product": "loan",
        "currency": "USD",
        "due_date": "2026-10-01",
        "principal": "100",
        "overdue_amount": "100",
        "timezone": "Etc/GMT+6",
    }
)


def test_the_two_instants_of_a_repeated_wall_time_keep_their_own_dates() -> None:
    # 01:30 in New York happens twice on 2026-11-01: at 05:30 and at 06:30 UTC. The two
    # datetimes compare equal (one tzinfo: wall time only), yet at UTC-6 the first is
    # still 31 October.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=0)
    second = first.replace(fold=1)
    assert first == second
    assert CASE.local_date(first) == dt.date(2026, 10, 31)
    assert CASE.local_date(second) == dt.date(2026, 11, 1)
    assert CASE.local_date(first) == dt.date(2026, 10, 31)


def test_equal_instants_in_other_zones_have_one_date() -> None:
    utc = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
    tokyo = utc.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert CASE.local_date(utc) == CASE.local_date(tokyo) == dt.date(2026, 2, 28)


def test_a_naive_instant_is_refused_every_time() -> None:
    naive = dt.datetime(2026, 3, 1, 5, 0)
    for _ in range(2):
        with pytest.raises(InputError, match="naive datetime"):
            CASE.local_date(naive)
