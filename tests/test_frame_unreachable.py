"""The columnar engine and a manual ``unreachable`` signal.

The timeline's step anchored on ``unreachable`` (L-UNREACHABLE) counts from the instant
of the sign that made the debtor unreachable, which no key of the columns holds. A row
with the signal therefore goes to the per-case engine when a rule of the policy reads
what that step gives (its status, the counts of steps open, late or breached); when no
rule does, the columns decide it, and give what the per-case engine gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_frame import assert_agree

from collectrules import load_policy
from collectrules.frame.decide import REASONS

READS = str(Path(__file__).parent / "policies" / "reads_unreachable_step.toml")
AS_OF = "2026-06-30T12:00:00+08:00"
_AT = pendulum.parse(AS_OF)
ROUTED = "has an unreachable signal"

#: Offsets from as_of around the step's 24 hours (and before and after the due date).
_HOURS = st.sampled_from([-2000, -49, -48, -25, -24, -23, -1, 0, 1]).map(float) | st.floats(
    -3000, 2, allow_nan=False
)


def _instant(hours: float) -> str:
    return _AT.add(seconds=int(hours * 3600)).in_timezone("UTC").isoformat()


@st.composite
def _rows(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    rows = []
    for i in range(count):
        signals = [
            {"kind": "unreachable", "observed_at": _instant(draw(_HOURS))}
            for _ in range(draw(st.integers(0, 2)))
        ]
        if draw(st.booleans()):  # a cure, before or after the sign
            kind = draw(st.sampled_from(["commitment_signed", "promise_kept", "refused_to_pay"]))
            signals.append({"kind": kind, "observed_at": _instant(draw(_HOURS))})
        due = _AT.date().add(days=draw(st.sampled_from([-400, -30, -2, -1, 0, 1, 5])))
        rows.append(
            {
                "case_id": f"U-{i}",
                "product": draw(st.sampled_from(["loan", "credit_card", "receivable"])),
                "currency": "CNY",
                "principal": "100000",
                "overdue_amount": draw(st.sampled_from(["0", "800"])),
                "due_date": due.isoformat(),
                "timezone": draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"])),
                "signals": signals,
            }
        )
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows())
def test_a_policy_reading_the_step_gets_the_per_case_answer_for_an_unreachable_row(
    rows: list[dict[str, Any]],
) -> None:
    result = assert_agree(READS, rows, AS_OF)
    with_sign = sum(any(s["kind"] == "unreachable" for s in r["signals"]) for r in rows)
    assert result.summary.fallback.get(ROUTED, 0) == with_sign


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows())
def test_a_policy_that_does_not_read_the_step_decides_unreachable_rows_in_the_columns(
    policy: str, rows: list[dict[str, Any]]
) -> None:
    result = assert_agree(policy, rows, AS_OF)
    assert ROUTED not in result.summary.fallback
    assert result.summary.per_case == 0


def test_the_policy_reads_the_step_and_its_rules_fire_at_each_state() -> None:
    # Overdue since 2026-06-01; the sign 1 hour ago: the step is open (24 hours). 49
    # hours ago: breached (no later limit), and nothing else is open.
    base = {
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "800",
        "due_date": "2026-05-31",
        "timezone": "Asia/Shanghai",
    }

    def sign(hours: float) -> list[dict[str, str]]:
        return [{"kind": "unreachable", "observed_at": _instant(hours)}]

    rows = [
        {**base, "case_id": "OPEN", "signals": sign(-1)},
        {**base, "case_id": "LATE", "signals": sign(-49)},
        {**base, "case_id": "NONE", "signals": []},
    ]
    result = assert_agree(READS, rows, AS_OF)
    fired = dict(zip(result.decisions["case_id"], result.decisions["fired"].to_list(), strict=True))
    assert "R-VISIT-WHEN-UNREACHABLE-OPEN" in fired["OPEN"]
    assert "R-VISIT-WHEN-UNREACHABLE-OPEN" not in fired["LATE"]
    assert "R-VISIT-WHEN-UNREACHABLE-OPEN" not in fired["NONE"]
    assert result.summary.fallback == {ROUTED: 2}
    assert ROUTED in REASONS
    assert load_policy(READS).id == "reads-unreachable-step"
