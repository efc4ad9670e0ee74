"""Property tests of the example lender's policy, written with collectrules.testing.

The golden cases beside this file pin single decisions; these tests state what must
hold for every case: the lender's policy classifies exactly as the default does, and is
never more lenient about extensions.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings

from collectrules import Case, Engine, Remedy
from collectrules.testing import (
    DEFAULT_AS_OF,
    assert_decision,
    cases,
    check_complete,
    check_monotonic,
)

POLICY = Path(__file__).with_name("policy.toml")
LENDER = Engine(POLICY, backend="python")
DEFAULT = Engine("default", backend="python")


@settings(max_examples=60, deadline=None)
@given(case=cases(POLICY))
def test_never_more_lenient_than_the_default(case: Case) -> None:
    ours = LENDER.decide(case, as_of=DEFAULT_AS_OF)
    base = DEFAULT.decide(case, as_of=DEFAULT_AS_OF)
    # A shorter horizon moves a debtor between 'temporarily unable' and 'unable',
    # which share a quadrant: the classification itself never changes.
    assert ours.quadrant is base.quadrant
    assert ours.willingness.value == base.willingness.value
    # Stricter: nothing the default forbids becomes allowed.
    assert not (ours.allowed_remedies & base.blocked_remedies)
    if ours.grant(Remedy.EXTEND) is not None:
        assert base.grant(Remedy.EXTEND) is not None
    # The lender's own rule: no extension past 90 days overdue.
    if ours.facts["dpd"] > 90:
        assert ours.grant(Remedy.EXTEND) is None
        assert ours.block(Remedy.EXTEND) is not None


def test_the_policy_is_complete_and_monotonic() -> None:
    check_complete(POLICY)
    check_monotonic(POLICY)


def test_a_recovery_beyond_twelve_months_blocks_the_extension() -> None:
    case = {
        "case_id": "SLOW-RECOVERY",
        "product": "loan",
        "currency": "CNY",
        "principal": "200000",
        "overdue_amount": "8500",
        "due_date": "2026-03-31",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": "documents_provided", "observed_at": "2026-04-02T10:30:00+08:00"},
            {"kind": "health_issue", "observed_at": "2026-04-02T10:30:00+08:00"},
            {"kind": "recovery_months", "observed_at": "2026-04-02T10:30:00+08:00", "value": 13},
        ],
    }
    decision = assert_decision(
        POLICY,
        case,
        as_of=DEFAULT_AS_OF,
        quadrant="Q2",
        allows=["dispose_assets"],
        blocks=["extend"],
    )
    assert decision.block(Remedy.EXTEND).rule_id == "R-Q2-LONG-NO-EXTEND"  # type: ignore[union-attr]
    # The default policy, with its 24-month horizon, would extend.
    assert_decision("default", case, as_of=DEFAULT_AS_OF, quadrant="Q2", allows=["extend"])
