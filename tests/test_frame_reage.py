"""The columnar engine and the inputs of a ``reage`` pack (US-REAGE).

A row without events that records the account's ``opened_on`` (an ISO date, in a date
or text column) and its ``consecutive_minimum_payments`` (a whole number from 0 to 1200,
in an integer or text column) is decided in the columns: the sections' key holds the
account's whole-month age at ``as_of`` in the case's zone and its payments as the
policy's reage packs tell them apart (frame._sections.ReageKey). The decisions are the
per-case engine's compact rows, around the pack's figures (8, 9 and 10 months; 2, 3 and
4 payments), month ends, leap days and ``as_of`` a second either side of a local
midnight; a value outside the safe subset goes per case, for its exact error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from collectrules import frame  # noqa: E402
from collectrules.compliance.regulatory import (  # noqa: E402
    ReagePack,
    regulation_of,
    whole_months,
)
from collectrules.frame._sections import whole_months_expr  # noqa: E402
from collectrules.model.case import Case  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from test_frame import SHIPPED, columnar, per_case  # noqa: E402

ZONES = ("Asia/Shanghai", "America/New_York", "Pacific/Kiritimati")
#: Local days whose midnight ``as_of`` is drawn around: month ends (a 31st, a 30th, the
#: end of a February) and a leap day.
DAYS = (
    dt.date(2026, 6, 30),
    dt.date(2026, 7, 1),
    dt.date(2026, 3, 31),
    dt.date(2024, 2, 29),
    dt.date(2025, 2, 28),
    dt.date(2025, 11, 30),
)
#: Opening dates around a month's end and a leap day, whatever the as_of.
FIXED_OPENINGS = (
    dt.date(2025, 1, 31),
    dt.date(2025, 5, 31),
    dt.date(2025, 8, 31),
    dt.date(2025, 9, 30),
    dt.date(2025, 10, 1),
    dt.date(2023, 5, 29),
    dt.date(2024, 2, 29),
    dt.date(2025, 6, 29),
)


@st.composite
def as_ofs(draw: Any) -> str:
    """An instant a second before, at or a second after a local midnight in one of
    :data:`ZONES`, written at another offset."""
    day = draw(st.sampled_from(DAYS))
    midnight = pendulum.datetime(day.year, day.month, day.day, tz=draw(st.sampled_from(ZONES)))
    at = midnight.add(seconds=draw(st.sampled_from([-1, 0, 1])))
    offset = draw(st.sampled_from([0, 8, -5]))
    return at.in_timezone(pendulum.FixedTimezone(offset * 3600)).isoformat()


def _local_day(as_of: str, zone: str) -> dt.date:
    at = pendulum.parse(as_of).in_timezone(zone)
    return dt.date(at.year, at.month, at.day)


@st.composite
def openings(draw: Any, today: dt.date) -> dt.date | None:
    """An opening date 8, 9 or 10 months before ``today`` (a day either side), a month
    end or leap day, or none."""
    kind = draw(st.sampled_from(["months", "months", "fixed", "none"]))
    if kind == "none":
        return None
    if kind == "fixed":
        return draw(st.sampled_from(FIXED_OPENINGS))
    back = pendulum.Date(today.year, today.month, today.day).subtract(
        months=draw(st.sampled_from([8, 9, 10]))
    )
    shifted = back.add(days=draw(st.sampled_from([-1, 0, 0, 1])))
    return dt.date(shifted.year, shifted.month, shifted.day)


#: The currency of the generated rows, by policy (ifrs9's materiality is set in EUR).
CURRENCY = {"ifrs9": "EUR"}


@st.composite
def portfolios(
    draw: Any, currency: str = "USD"
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """``as_of``, the rows (as the per-case engine reads them), and the columns' types:
    ``opened_on`` as dates or ISO text, the payments as integers or digits."""
    as_of = draw(as_ofs())
    types = {
        "opened_on": draw(st.sampled_from([pl.Date, pl.String])),
        "consecutive_minimum_payments": draw(st.sampled_from([pl.Int64, pl.UInt16, pl.String])),
    }
    rows = []
    for i in range(draw(st.integers(1, 8))):
        zone = draw(st.sampled_from(ZONES))
        opened = draw(openings(_local_day(as_of, zone)))
        payments = draw(st.one_of(st.none(), st.sampled_from([0, 2, 3, 4, 3, 1200])))
        row: dict[str, Any] = {
            "case_id": f"R-{i}",
            "product": draw(st.sampled_from(["credit_card", "credit_card", "loan"])),
            "currency": currency,
            "principal": "5000",
            "overdue_amount": draw(st.sampled_from(["0", "300"])),
            "due_date": "2026-01-15",
            "timezone": zone,
        }
        if opened is not None:
            row["opened_on"] = opened.isoformat() if types["opened_on"] == pl.String else opened
        if payments is not None:
            text = types["consecutive_minimum_payments"] == pl.String
            row["consecutive_minimum_payments"] = str(payments) if text else payments
        rows.append(row)
    return as_of, rows, types


def cases_table(rows: Sequence[dict[str, Any]], types: dict[str, Any]) -> Any:
    """The rows as a cases table, with the account's columns of ``types``."""
    names = ["case_id", "product", "currency", "principal", "overdue_amount", "due_date"]
    schema = dict.fromkeys([*names, "timezone"], pl.String) | types
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def decide_both(
    policy: str, rows: Sequence[dict[str, Any]], types: dict[str, Any], as_of: str
) -> Any:
    """The columnar decisions of ``rows``, checked to be the per-case engine's."""
    result = frame.decide(cases_table(rows, types), policy=policy, as_of=as_of)
    assert columnar(result) == per_case(policy, rows, as_of)
    return result


@pytest.mark.parametrize("policy", SHIPPED)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_rows_with_the_account_fields_are_decided_in_the_columns_as_per_case(
    policy: str, data: st.DataObject
) -> None:
    as_of, rows, types = data.draw(portfolios(CURRENCY.get(policy, "USD")))
    result = decide_both(policy, rows, types, as_of)
    assert result.summary.per_case == 0
    assert result.summary.fallback == {}
    assert result.summary.columnar == len(rows)


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)) | st.sampled_from(FIXED_OPENINGS),
    day=st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)) | st.sampled_from(DAYS),
)
def test_the_whole_months_column_is_the_packs_count(start: dt.date, day: dt.date) -> None:
    frame_ = pl.DataFrame({"start": [start], "day": [day]})
    counted = frame_.select(whole_months_expr(pl.col("start"), pl.col("day"))).item()
    assert counted == whole_months(start, day)


def card(case_id: str, opened: str | None, payments: int | str | None) -> dict[str, Any]:
    """A credit card 300 past due in New York, opened on ``opened``, with ``payments``
    consecutive minimum payments (each left out when None)."""
    row: dict[str, Any] = {
        "case_id": case_id,
        "product": "credit_card",
        "currency": "USD",
        "principal": "5000",
        "overdue_amount": "300",
        "due_date": "2026-05-15",
        "timezone": "America/New_York",
    }
    if opened is not None:
        row["opened_on"] = opened
    if payments is not None:
        row["consecutive_minimum_payments"] = payments
    return row


AS_OF = "2026-06-30T12:00:00+08:00"
TEXT_TYPES = {"opened_on": pl.String, "consecutive_minimum_payments": pl.Int64}


def test_the_key_holds_only_what_the_pack_tells_apart() -> None:
    # 300 cards opened on 300 different days over ten years, with 0 to 24 payments: the
    # pack tells apart only under 9 months or not, under 3 payments or not.
    start = dt.date(2016, 1, 1)
    rows = [
        card(f"K-{i}", (start + dt.timedelta(days=13 * i)).isoformat(), i % 25) for i in range(300)
    ]
    result = decide_both("us_regf", rows, TEXT_TYPES, AS_OF)
    assert result.summary.columnar == len(rows)
    assert result.summary.section_keys <= 4
    values = {{p["key"]: p["value"] for p in c}["US-REAGE"] for c in result.decisions["classes"]}
    assert values == {"eligible", "not_eligible"}


def _reage_pack() -> ReagePack:
    regulation = regulation_of(load_policy("us_regf"))
    assert regulation is not None
    (pack,) = [p for p in regulation.packs if isinstance(p, ReagePack)]
    return pack


def test_a_policy_reading_the_reason_keys_the_exact_values(tmp_path: Path) -> None:
    # Two cards on the same side of every figure, opened on different days: their
    # reasons differ (the date, the age), and a rule reading the reason fires for the
    # first alone, in the columns as per case.
    first, second = card("T-1", "2025-01-10", 5), card("T-2", "2024-03-02", 7)
    at = pendulum.parse(AS_OF)
    reason = _reage_pack().assess(Case.from_dict(first), 0, at).reason
    assert "'" not in reason
    policy = tmp_path / "reads_reason.toml"
    policy.write_text(
        'extends = "us_regf"\nid = "reads-reage-reason"\nversion = "1"\n\n'
        "[[remedies.rules]]\n"
        'id = "R-READS-REASON"\neffect = "allow"\nremedies = ["visit"]\n'
        f"when = \"us_reage_reason == '{reason}'\"\n"
        'reason = "The first card."\ncites = ["US-REAGE"]\n',
        encoding="utf-8",
    )
    rows = [first, second]
    result = decide_both(str(policy), rows, TEXT_TYPES, AS_OF)
    assert result.summary.columnar == 2
    fired = {r["case_id"]: "R-READS-REASON" in r["fired"] for r in result.decisions.to_dicts()}
    assert fired == {"T-1": True, "T-2": False}


@pytest.mark.parametrize(
    ("column", "value", "dtype"),
    [
        pytest.param("opened_on", "2025-13-01", pl.String, id="no-such-month"),
        pytest.param("opened_on", "20250101", pl.String, id="basic-format"),
        pytest.param("opened_on", "1850-01-01", pl.String, id="before-1900"),
        pytest.param("consecutive_minimum_payments", -1, pl.Int64, id="negative"),
        pytest.param("consecutive_minimum_payments", 1201, pl.Int64, id="past-1200"),
        pytest.param("consecutive_minimum_payments", "+3", pl.String, id="a-sign"),
        pytest.param("consecutive_minimum_payments", "12000", pl.String, id="five-digits"),
        pytest.param("consecutive_minimum_payments", 3.0, pl.Float64, id="a-float"),
        pytest.param("consecutive_minimum_payments", True, pl.Boolean, id="a-boolean"),
    ],
)
def test_a_value_outside_the_subset_goes_per_case_for_its_error(
    column: str, value: Any, dtype: Any
) -> None:
    # The bad value's row goes per case; its neighbour, with the other field well formed
    # (and none in this column), is decided in the columns.
    rows = [card("B-1", "2025-01-10", 3), card("B-2", "2025-02-11", 4)]
    rows[0][column] = value
    del rows[1][column]
    types = {**TEXT_TYPES, column: dtype}
    result = decide_both("us_regf", rows, types, AS_OF)
    assert result.summary.fallback == {"outside the columnar subset": 1}
    assert result.summary.columnar == 1
    (error,) = result.errors
    assert (error.row, error.case_id) == (0, "B-1")
    assert column in str(error.error)
