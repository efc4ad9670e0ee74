"""CN-UPGRADE: a loan leaves a non-performing class of the five-level classification
only after months of payment as agreed once its arrears are repaid in full, read from
its payments (cn_bank_loan's CN-5LVL pack, ``upgrade_from`` and ``upgrade_months``)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, Engine, load_policy
from collectrules.compliance.regulatory import LadderPack, regulation_of
from helpers import assert_ladder_key_error, columnar_with_events

BACKENDS = ("python", "durable")
ZONE = "Asia/Shanghai"
#: Due 2026-01-01; the arrears were repaid in full on 2026-05-10, 129 days past due.
DUE = "2026-01-01"
PAID_AT = "2026-05-10T10:00:00+08:00"


@cache
def engine(policy: str = "cn_bank_loan", backend: str = "python") -> Engine:
    return Engine(load_policy(policy), backend=backend)  # type: ignore[arg-type]


def loan(
    *,
    overdue: str = "0",
    paid: str = "5000",
    at: str = PAID_AT,
    due: str = DUE,
    zone: str = ZONE,
    case_id: str = "U-1",
    product: str = "loan",
) -> dict[str, Any]:
    """A CNY loan due on ``due`` that paid ``paid`` at ``at``, ``overdue`` left."""
    return {
        "case_id": case_id,
        "product": product,
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": overdue,
        "due_date": due,
        "timezone": zone,
        "events": [{"kind": "payment", "at": at, "amount": paid}],
    }


def decide(data: dict[str, Any], as_of: str, backend: str = "python", **kw: Any) -> Decision:
    return engine(backend=backend, **kw).decide(Case.from_dict(data), as_of=as_of)


def five_level(d: Decision) -> Any:
    (found,) = [r for r in d.regulatory if r.pack == "CN-5LVL"]
    return found


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loan_repaid_in_full_at_129_dpd_stays_substandard_for_six_months(backend: str) -> None:
    d = decide(loan(), "2026-06-30T12:00:00+08:00", backend)
    found = five_level(d)
    assert d.facts["dpd"] == 0
    assert (found.value, found.rule_id) == ("substandard", "CN-5LVL:upgrade_hold")
    assert d.facts["cn5_class"] == "substandard"
    assert d.facts["cn5_npl"] is True
    assert found.cites[-1] == "CN-UPGRADE"
    assert "held at substandard until 2026-11-10" in found.reason
    assert "substandard on 2026-05-10 (dpd 129)" in found.reason
    assert "6 months (parameter cn5_upgrade_months)" in found.reason
    assert "the hold ends at 2026-11-10T10:00:00+08:00 (Asia/Shanghai)" in " ".join(found.notes)
    assert "CN-5LVL:upgrade_hold" in [f.rule_id for f in d.trace]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("as_of", "value"),
    [
        ("2026-11-10T09:59:59+08:00", "substandard"),
        ("2026-11-10T10:00:00+08:00", "pass"),
        ("2027-01-01T00:00:00+08:00", "pass"),
    ],
)
def test_the_hold_ends_six_months_after_the_payment(backend: str, as_of: str, value: str) -> None:
    found = five_level(decide(loan(), as_of, backend))
    assert found.value == value
    if value == "pass":
        assert found.rule_id == "CN5-PASS"
        assert any("ended on 2026-11-10" in n for n in found.notes), found.notes


@pytest.mark.parametrize(
    ("due", "value"),
    [
        ("2026-04-20", "special_mention"),  # 20 days past due when repaid: no hold
        ("2026-02-09", "special_mention"),  # 90 days past due: not yet non-performing
        ("2026-02-08", "substandard"),  # 91 days
        ("2025-08-01", "doubtful"),  # 282 days
        ("2025-01-01", "loss"),  # 494 days
    ],
)
def test_the_class_held_is_the_one_days_past_due_gave_when_the_arrears_were_repaid(
    due: str, value: str
) -> None:
    found = five_level(decide(loan(due=due), "2026-06-30T12:00:00+08:00"))
    if value == "special_mention":
        assert (found.value, found.rule_id) == ("pass", "CN5-PASS")
    else:
        assert (found.value, found.rule_id) == (value, "CN-5LVL:upgrade_hold")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loan_in_the_loss_class_by_the_hold_is_not_written_off(backend: str) -> None:
    d = decide(loan(due="2025-01-01"), "2026-06-30T12:00:00+08:00", backend)
    assert five_level(d).value == "loss"
    assert "write_off" not in d.allowed_remedies
    assert "R-CN5-WRITE-OFF" not in [f.rule_id for f in d.trace]
    block = d.block("write_off")
    assert block is not None


def test_the_write_off_of_an_overdue_loss_loan_is_unchanged() -> None:
    data = loan(due="2025-01-01", overdue="5000", paid="100")
    d = decide(data, "2026-06-30T12:00:00+08:00")
    found = five_level(d)
    assert (found.value, found.rule_id) == ("loss", "CN5-LOSS")
    assert "R-CN5-WRITE-OFF" in [f.rule_id for f in d.trace]


def test_a_partial_payment_keeps_the_class_by_days_past_due() -> None:
    """2,000 still overdue: 180 days past due on 2026-06-30, substandard by days."""
    found = five_level(decide(loan(overdue="2000", paid="3000"), "2026-06-30T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("substandard", "CN5-SUBSTANDARD")


def test_a_payment_after_as_of_is_not_read() -> None:
    """Decided before the payment, the case (nothing overdue) has no repayment to read."""
    found = five_level(decide(loan(), "2026-05-10T09:00:00+08:00"))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")


def test_a_loan_without_payment_events_has_no_hold() -> None:
    data = {k: v for k, v in loan().items() if k != "events"}
    found = five_level(decide(data, "2026-06-30T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")


def test_the_two_back_ends_give_the_same_decision() -> None:
    for as_of in ("2026-06-30T12:00:00+08:00", "2026-12-30T12:00:00+08:00"):
        python, durable = (
            decide(loan(due="2025-08-01"), as_of, b).to_json().replace(f'"engine":"{b}"', "")
            for b in BACKENDS
        )
        assert python == durable


def test_cn_credit_card_loans_are_held_and_cards_keep_their_own_classes() -> None:
    held = five_level(decide(loan(), "2026-06-30T12:00:00+08:00", policy="cn_credit_card"))
    assert held.rule_id == "CN-5LVL:upgrade_hold"
    card = decide(loan(product="credit_card"), "2026-06-30T12:00:00+08:00", policy="cn_credit_card")
    assert "CN-5LVL" not in [r.pack for r in card.regulatory]
    assert all(not r.rule_id.endswith(":upgrade_hold") for r in card.regulatory)


# --------------------------------------------------------------------------- frame


def test_the_columnar_engine_agrees_on_these_loans() -> None:
    rows = [
        loan(case_id="U-1"),
        loan(case_id="U-2", due="2025-01-01"),
        loan(case_id="U-3", overdue="2000", paid="3000"),
        loan(case_id="U-4", due="2026-04-20"),
        {k: v for k, v in loan(case_id="N-1").items() if k != "events"},
    ]
    decided = columnar_with_events(rows, "cn_bank_loan", "2026-06-30T12:00:00+08:00", engine())
    assert dict(decided[0]["classes"])["CN-5LVL"] == "substandard"
    assert dict(decided[1]["classes"])["CN-5LVL"] == "loss"
    assert dict(decided[4]["classes"])["CN-5LVL"] == "pass"


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("keys", "path", "expected"),
    [
        pytest.param(
            'upgrade_from = "substandard"',
            "upgrade_from",
            "give upgrade_months with it, or neither",
            id="from-alone",
        ),
        pytest.param(
            "upgrade_months = 6", "upgrade_months", "give upgrade_from with it", id="months-alone"
        ),
        pytest.param(
            'upgrade_from = "substandrd"\nupgrade_months = 6',
            "upgrade_from",
            "expected one of the classes after the first, got 'substandrd' "
            "(did you mean 'substandard'?)",
            id="typo",
        ),
        pytest.param(
            'upgrade_from = "pass"\nupgrade_months = 6',
            "upgrade_from",
            "expected one of the classes after the first, got 'pass'",
            id="first-class",
        ),
        pytest.param(
            'upgrade_from = "substandard"\nupgrade_months = 0',
            "upgrade_months",
            "must be at least 1, got 0",
            id="zero",
        ),
        pytest.param(
            'upgrade_from = "substandard"\nupgrade_months = "cn5_upgrade_month"',
            "upgrade_months",
            "unknown parameter 'cn5_upgrade_month' (did you mean 'cn5_upgrade_months'?)",
            id="unknown-parameter",
        ),
        pytest.param(
            'upgrade_cites = ["CN-UPGRADE"]',
            "upgrade_cites",
            "cites an upgrade rule, but the pack has no upgrade_from and upgrade_months",
            id="cites-alone",
        ),
    ],
)
def test_a_bad_upgrade_key_is_an_error_at_its_file_and_line(
    tmp_path: Any, keys: str, path: str, expected: str
) -> None:
    assert_ladder_key_error(tmp_path, keys, "cn5_upgrade_months", path, expected)


def test_the_shipped_hold_is_six_months_from_substandard_a_parameter_citing_cn_upgrade() -> None:
    policy = load_policy("cn_bank_loan")
    section = regulation_of(policy)
    assert section is not None
    pack = section.pack("CN-5LVL")
    assert isinstance(pack, LadderPack)
    assert pack.upgrade_from == "substandard"
    assert pack.upgrade_months is not None
    assert (pack.upgrade_months.value, pack.upgrade_months.param) == (6, "cn5_upgrade_months")
    assert pack.upgrade_cites == ("CN-UPGRADE",)
    assert policy.parameters["cn5_upgrade_months"].status == "S"


# --------------------------------------------------------------------------- property

RANKS = ("pass", "special_mention", "substandard", "doubtful", "loss")


def _by_dpd(dpd: int) -> str:
    for value, over in (("loss", 360), ("doubtful", 270), ("substandard", 90)):
        if dpd > over:
            return value
    return "special_mention" if dpd > 0 else "pass"


@st.composite
def upgrade_cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime]:
    zone = draw(st.sampled_from(("Asia/Shanghai", "UTC", "America/New_York")))
    as_of = pendulum.datetime(
        2026, draw(st.integers(1, 12)), draw(st.integers(1, 27)), 12, 0, 30, tz=zone
    )
    due = as_of.date() - dt.timedelta(days=draw(st.integers(min_value=-10, max_value=700)))
    overdue = draw(st.sampled_from(["0", "0", "0", "300", "5000"]))
    minutes = st.integers(min_value=1, max_value=300 * 24 * 60)
    events = [
        {
            "kind": "payment",
            "at": as_of.subtract(seconds=30).subtract(minutes=draw(minutes)).isoformat(),
            "amount": draw(st.sampled_from(["100", "2500"])),
        }
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    case = Case.from_dict(
        {
            "case_id": "H-U",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": overdue,
            "due_date": due.isoformat(),
            "timezone": zone,
            "events": events,
        }
    )
    return case, as_of


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=upgrade_cases())
def test_the_class_is_the_worse_of_days_past_due_and_a_hold_within_six_months(
    drawn: tuple[Case, pendulum.DateTime],
) -> None:
    """Worked out apart from the pack: the class is what days past due give now, or,
    with nothing past due now, what they gave just before the last payment, if that
    was substandard or worse and the payment less than six months ago (in the case's
    zone); never better than days past due give now."""
    case, as_of = drawn
    d = engine().decide(case, as_of=as_of)
    found = five_level(d)
    now = _by_dpd(d.facts["dpd"])
    expected = now
    payments = [e.at for e in case.events if e.at <= as_of]
    if case.overdue_amount == 0 and payments:
        last = max(payments)
        then = _by_dpd(
            max((case.local_date(last - dt.timedelta(microseconds=1)) - case.due_date).days, 0)
        )
        ends = pendulum.instance(last).in_timezone(case.timezone).add(months=6)
        if RANKS.index(then) >= RANKS.index("substandard") and as_of < ends:
            expected = then if RANKS.index(then) > RANKS.index(now) else now
    assert found.value == expected, (found, expected)
    assert RANKS.index(found.value) >= RANKS.index(now)
    assert (found.rule_id == "CN-5LVL:upgrade_hold") == (found.value != now)
    assert d.facts["cn5_npl"] == (RANKS.index(found.value) >= RANKS.index("substandard"))
    assert not (found.rule_id == "CN-5LVL:upgrade_hold" and "write_off" in d.allowed_remedies)
