"""The columnar engine reads amounts and instants exactly as the per-case engine does:
digits are ASCII digits, and a second stops at 59."""

from __future__ import annotations

from typing import Any

import pytest

pl = pytest.importorskip("polars")

from collectrules import frame  # noqa: E402
from collectrules.batch.compact import compact_row  # noqa: E402
from collectrules.engine import Engine  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
CASE = {
    "case_id": "R-1",
    "product": "loan",
    "currency": "CNY",
    "principal": "20000",
    "overdue_amount": "1500",
    "due_date": "2026-05-20",
    "timezone": "Asia/Shanghai",
}


def _columnar(cases: Any, signals: Any = None) -> tuple[list[dict[str, Any]], list[str]]:
    result = frame.decide(cases, signals, policy="default", as_of=AS_OF)
    rows = result.decisions.drop("row").to_dicts()
    for row in rows:
        for name in ("classes", "buckets"):
            row[name] = [(p["key"], p["value"]) for p in row[name]]
    return rows, [f"{type(e.error).__name__}: {e.error}" for e in result.errors]


def _per_case(row: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    result = next(Engine("default", backend="python").decide_many([row], as_of=AS_OF))
    if result.decision is None:
        return [], [f"{type(result.error).__name__}: {result.error}"]
    return [compact_row(result.decision)], []


@pytest.mark.parametrize(
    "amount",
    [
        "0.\u0665",  # ARABIC-INDIC DIGIT FIVE: Decimal reads 0.5, the columns read 0
        "0.\u0969\u0969",  # DEVANAGARI DIGITS NINE
        "0.\uff15",  # FULLWIDTH DIGIT FIVE
    ],
)
def test_an_amount_with_non_ascii_digits_is_read_as_per_case(amount: str) -> None:
    row = {**CASE, "overdue_amount": amount}
    assert _columnar(pl.DataFrame([row])) == _per_case(row)


@pytest.mark.parametrize(
    "at",
    ["2026-06-30T11:59:60+08:00", "2026-06-01T10:00:60.5Z", "2026-06-01T23:59:60-05:00"],
)
def test_a_signal_at_a_leap_second_is_refused_as_per_case(at: str) -> None:
    signal = {"kind": "refused_to_pay", "observed_at": at}
    signals = pl.DataFrame([{"case_id": CASE["case_id"], **signal}])
    expected = _per_case({**CASE, "signals": [signal]})
    assert expected[0] == []  # Case.from_dict refuses the instant
    assert _columnar(pl.DataFrame([CASE]), signals) == expected
