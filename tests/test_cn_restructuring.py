"""CN-RESTRUCT-OBS: a loan restructured because the debtor was in financial difficulty
(a ``restructured`` event) is no better than substandard during its observation
period, a year from the restructuring, unless days past due give a worse class
(cn_bank_loan's CN-5LVL pack, ``restructured_class`` and ``restructured_months``)."""

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
from collectrules.policy import available_policies
from helpers import assert_ladder_key_error, columnar_with_events
from test_cn_upgrade import RANKS, _by_dpd  # the class days past due give, worked out apart

BACKENDS = ("python", "durable")
ZONE = "Asia/Shanghai"
#: Restructured on 2 March 2026: the observation period ends on 2 March 2027, 10:00.
RESTRUCTURED_AT = "2026-03-02T10:00:00+08:00"
HOLD = "CN-5LVL:restructured_hold"


@cache
def engine(policy: str = "cn_bank_loan", backend: str = "python") -> Engine:
    return Engine(load_policy(policy), backend=backend)  # type: ignore[arg-type]


def restructured(at: str = RESTRUCTURED_AT) -> dict[str, Any]:
    return {"kind": "restructured", "at": at}


def payment(at: str, amount: str) -> dict[str, Any]:
    return {"kind": "payment", "at": at, "amount": amount}


def loan(
    *events: dict[str, Any],
    overdue: str = "0",
    due: str = "2026-03-01",
    zone: str = ZONE,
    case_id: str = "R-1",
    product: str = "loan",
) -> dict[str, Any]:
    """A CNY loan with ``overdue`` past due since ``due``."""
    return {
        "case_id": case_id,
        "product": product,
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": overdue,
        "due_date": due,
        "timezone": zone,
        "events": list(events),
    }


def decide(
    data: dict[str, Any], as_of: str, backend: str = "python", policy: str = "cn_bank_loan"
) -> Decision:
    return engine(policy, backend).decide(Case.from_dict(data), as_of=as_of)


def five_level(d: Decision) -> Any:
    (found,) = [r for r in d.regulatory if r.pack == "CN-5LVL"]
    return found


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loan_restructured_four_months_ago_is_substandard(backend: str) -> None:
    d = decide(loan(restructured()), "2026-06-30T12:00:00+08:00", backend)
    found = five_level(d)
    assert d.facts["dpd"] == 0
    assert (found.value, found.rule_id) == ("substandard", HOLD)
    assert d.facts["cn5_class"] == "substandard"
    assert d.facts["cn5_npl"] is True
    assert found.cites == ("CN-5LVL", "NPL-5LEVEL", "CN-RESTRUCT-OBS")
    assert "held at substandard until 2027-03-02" in found.reason
    assert "restructured at 2026-03-02T10:00:00+08:00" in found.reason
    assert "12 months (parameter cn5_restructured_months)" in found.reason
    assert "dpd now 0" in found.reason
    notes = " ".join(found.notes)
    assert "the observation period after the restructuring ends at 2027-03-02T10:00:00+08:00" in (
        notes
    )
    (fired,) = [f for f in d.trace if f.rule_id == HOLD]
    assert "CN-RESTRUCT-OBS" in fired.cites
    assert "write_off" not in d.allowed_remedies


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("zone", "at", "as_of", "value"),
    [
        # in Shanghai: the year ends at 10:00 local on 2 March 2027
        (ZONE, RESTRUCTURED_AT, "2027-03-02T09:59:59+08:00", "substandard"),
        (ZONE, RESTRUCTURED_AT, "2027-03-02T10:00:00+08:00", "pass"),
        (ZONE, RESTRUCTURED_AT, "2027-03-02T10:00:01+08:00", "pass"),
        # restructured at a local midnight in New York: the year ends at the local
        # midnight a year on, read in UTC
        (
            "America/New_York",
            "2026-03-02T00:00:00-05:00",
            "2027-03-02T04:59:59+00:00",
            "substandard",
        ),
        ("America/New_York", "2026-03-02T00:00:00-05:00", "2027-03-02T05:00:00+00:00", "pass"),
        ("America/New_York", "2026-03-02T00:00:00-05:00", "2027-03-02T05:00:01+00:00", "pass"),
    ],
)
def test_the_observation_period_ends_a_year_after_the_restructuring_in_the_case_zone(
    backend: str, zone: str, at: str, as_of: str, value: str
) -> None:
    found = five_level(decide(loan(restructured(at), zone=zone), as_of, backend))
    assert found.value == value
    if value == "pass":
        assert found.rule_id == "CN5-PASS"
        assert any(
            "observation period of 12 months" in n and "ended on 2027-03-02" in n
            for n in found.notes
        ), found.notes
    else:
        assert found.rule_id == HOLD


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("due", "value", "rule"),
    [
        ("2025-08-01", "doubtful", "CN5-DOUBTFUL"),  # 303 days past due
        ("2025-05-01", "loss", "CN5-LOSS"),  # 395 days past due
        ("2026-03-01", "substandard", "CN5-SUBSTANDARD"),  # 91 days: the same class
    ],
)
def test_days_past_due_that_give_a_worse_or_the_same_class_win(
    backend: str, due: str, value: str, rule: str
) -> None:
    d = decide(loan(restructured(), overdue="5000", due=due), "2026-05-31T12:00:00+08:00", backend)
    found = five_level(d)
    assert (found.value, found.rule_id) == (value, rule)
    assert HOLD not in [f.rule_id for f in d.trace]
    assert any(
        f"({HOLD}) runs until 2027-03-02T10:00:00+08:00" in n
        and f"gives no worse class than {value}" in n
        for n in found.notes
    ), found.notes


def test_a_loan_a_few_days_overdue_is_held_above_special_mention() -> None:
    """30 days past due give special mention; the observation period gives substandard,
    and the next class by days past due is doubtful."""
    found = five_level(
        decide(loan(restructured(), overdue="5000", due="2026-05-01"), "2026-05-31T12:00:00+08:00")
    )
    assert (found.value, found.rule_id) == ("substandard", HOLD)
    assert "dpd now 30" in found.reason
    assert (found.next_value, str(found.next_on)) == ("doubtful", "2027-01-27")


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_the_restructured_event_starts_the_hold(backend: str) -> None:
    """The same loan, paid up: substandard with the event, pass without any event or
    with a payment alone."""
    as_of = "2026-06-30T12:00:00+08:00"
    assert five_level(decide(loan(restructured()), as_of, backend)).rule_id == HOLD
    found = five_level(decide(loan(), as_of, backend))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")
    found = five_level(decide(loan(payment("2026-05-10T10:00:00+08:00", "10")), as_of, backend))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")
    assert not any("restructur" in n for n in found.notes)


def test_a_restructuring_after_as_of_is_not_read() -> None:
    found = five_level(decide(loan(restructured()), "2026-03-02T09:59:59+08:00"))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")
    found = five_level(decide(loan(restructured()), "2026-03-02T10:00:00+08:00"))
    assert (found.value, found.rule_id) == ("substandard", HOLD)


def test_a_later_restructuring_starts_another_observation_period() -> None:
    data = loan(restructured(), restructured("2026-09-15T09:00:00+08:00"))
    found = five_level(decide(data, "2027-06-30T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("substandard", HOLD)
    assert "held at substandard until 2027-09-15" in found.reason


def test_the_worse_of_the_upgrade_hold_and_the_observation_period_wins() -> None:
    """Repaid in full at 282 days past due on 10 May: doubtful by CN-UPGRADE until
    10 November, then substandard by the observation period until 2 March 2027."""
    data = loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2025-08-01")
    held = five_level(decide(data, "2026-06-30T12:00:00+08:00"))
    assert (held.value, held.rule_id) == ("doubtful", "CN-5LVL:upgrade_hold")
    assert any(f"({HOLD}) runs until 2027-03-02" in n for n in held.notes), held.notes
    later = five_level(decide(data, "2026-12-01T12:00:00+08:00"))
    assert (later.value, later.rule_id) == ("substandard", HOLD)
    assert any("ended on 2026-11-10" in n for n in later.notes), later.notes


def test_at_the_same_class_the_hold_that_ends_last_gives_the_rule() -> None:
    """Repaid at 129 days past due on 10 May: substandard by CN-UPGRADE until 10 November;
    the observation period, substandard too, ends on 2 March 2027 and gives the rule."""
    data = loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2026-01-01")
    found = five_level(decide(data, "2026-06-30T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("substandard", HOLD)
    assert any("(CN-5LVL:upgrade_hold) runs until 2026-11-10" in n for n in found.notes)


def test_only_the_cn_policies_hold_a_restructured_loan() -> None:
    """Every shipped policy decides the restructured loan; only cn_bank_loan, and
    cn_credit_card that extends it, hold it by the observation period; a credit card
    under cn_credit_card has no five-level class to hold."""
    as_of = "2026-06-30T12:00:00+08:00"
    holding = set()
    for name in available_policies():
        data = loan(restructured())
        if name in ("ifrs9", "uk"):
            data = {**data, "currency": "EUR" if name == "ifrs9" else "GBP"}
        d = decide(data, as_of, policy=name)
        if any(r.rule_id.endswith(":restructured_hold") for r in d.regulatory):
            holding.add(name)
        if name not in ("cn_bank_loan", "cn_credit_card"):
            plain = decide({**data, "events": []}, as_of, policy=name)
            same = [(r.pack, r.value, r.rule_id) for r in plain.regulatory]
            if name == "ifrs9":  # EU-PROBATION reads the same event (its own pack)
                assert all(r.pack != "CN-5LVL" for r in d.regulatory)
            else:
                assert [(r.pack, r.value, r.rule_id) for r in d.regulatory] == same
    assert holding == {"cn_bank_loan", "cn_credit_card"}
    card = decide(loan(restructured(), product="credit_card"), as_of, policy="cn_credit_card")
    assert "CN-5LVL" not in [r.pack for r in card.regulatory]


def test_the_two_back_ends_give_the_same_decision() -> None:
    cases = (
        loan(restructured()),
        loan(restructured(), overdue="5000", due="2025-08-01"),
        loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2025-08-01"),
    )
    for data in cases:
        for as_of in (
            "2026-06-30T12:00:00+08:00",
            "2026-12-30T12:00:00+08:00",
            "2027-03-02T10:00:00+08:00",
        ):
            python, durable = (
                decide(data, as_of, b).to_json().replace(f'"engine":"{b}"', "") for b in BACKENDS
            )
            assert python == durable
            assert HOLD in python or as_of.startswith("2027") or "CN5-DOUBTFUL" in python


# --------------------------------------------------------------------------- frame


def test_the_columnar_engine_sends_restructured_loans_per_case_and_agrees() -> None:
    rows = [
        loan(restructured(), case_id="R-1"),
        loan(restructured(), case_id="R-2", overdue="5000", due="2025-06-01"),
        loan(restructured("2025-01-02T10:00:00+08:00"), case_id="R-3"),
    ]
    decided = columnar_with_events(rows, "cn_bank_loan", "2026-06-30T12:00:00+08:00", engine())
    assert dict(decided[0]["classes"])["CN-5LVL"] == "substandard"
    assert dict(decided[1]["classes"])["CN-5LVL"] == "loss"
    assert dict(decided[2]["classes"])["CN-5LVL"] == "pass"


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    ("keys", "path", "expected"),
    [
        pytest.param(
            'restructured_class = "substandard"',
            "restructured_class",
            "give restructured_months with it, or neither",
            id="class-alone",
        ),
        pytest.param(
            "restructured_months = 12",
            "restructured_months",
            "give restructured_class with it",
            id="months-alone",
        ),
        pytest.param(
            'restructured_class = "substandrd"\nrestructured_months = 12',
            "restructured_class",
            "expected one of the classes after the first, got 'substandrd' "
            "(did you mean 'substandard'?)",
            id="typo",
        ),
        pytest.param(
            'restructured_class = "pass"\nrestructured_months = 12',
            "restructured_class",
            "expected one of the classes after the first, got 'pass'",
            id="first-class",
        ),
        pytest.param(
            'restructured_class = "substandard"\nrestructured_months = 121',
            "restructured_months",
            "must be at most 120, got 121",
            id="too-long",
        ),
        pytest.param(
            'restructured_class = "substandard"\nrestructured_months = "cn5_restructured_month"',
            "restructured_months",
            "unknown parameter 'cn5_restructured_month' (did you mean 'cn5_restructured_months'?)",
            id="unknown-parameter",
        ),
        pytest.param(
            'restructured_cites = ["CN-RESTRUCT-OBS"]',
            "restructured_cites",
            "cites a restructuring hold, but the pack has no restructured_class and "
            "restructured_months",
            id="cites-alone",
        ),
    ],
)
def test_a_bad_restructuring_key_is_an_error_at_its_file_and_line(
    tmp_path: Any, keys: str, path: str, expected: str
) -> None:
    assert_ladder_key_error(tmp_path, keys, "cn5_restructured_months", path, expected)


def test_the_shipped_observation_period_is_a_year_at_substandard_citing_cn_restruct_obs() -> None:
    policy = load_policy("cn_bank_loan")
    section = regulation_of(policy)
    assert section is not None
    pack = section.pack("CN-5LVL")
    assert isinstance(pack, LadderPack)
    assert pack.restructured_class == "substandard"
    assert pack.restructured_months is not None
    assert (pack.restructured_months.value, pack.restructured_months.param) == (
        12,
        "cn5_restructured_months",
    )
    assert pack.restructured_cites == ("CN-RESTRUCT-OBS",)
    parameter = policy.parameters["cn5_restructured_months"]
    assert (parameter.status, parameter.cites) == ("S", ("CN-RESTRUCT-OBS",))


# --------------------------------------------------------------------------- property


@st.composite
def restructured_cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime]:
    zone = draw(st.sampled_from(("Asia/Shanghai", "UTC", "America/New_York")))
    as_of = pendulum.datetime(
        2026, draw(st.integers(1, 12)), draw(st.integers(1, 27)), 12, 0, 30, tz=zone
    )
    due = as_of.date() - dt.timedelta(days=draw(st.integers(min_value=-10, max_value=500)))
    overdue = draw(st.sampled_from(["0", "0", "300", "5000"]))
    minutes = st.integers(min_value=-30 * 24 * 60, max_value=500 * 24 * 60)
    events = [
        {"kind": "restructured", "at": as_of.subtract(minutes=draw(minutes)).isoformat()}
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    data = loan(*events, overdue=overdue, due=due.isoformat(), zone=zone, case_id="H-R")
    return Case.from_dict(data), as_of


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=restructured_cases())
def test_the_class_is_the_worse_of_days_past_due_and_substandard_within_a_year(
    drawn: tuple[Case, pendulum.DateTime],
) -> None:
    """Worked out apart from the pack: the class is what days past due give now, or
    substandard if that is better and the latest restructuring at or before ``as_of``
    was less than twelve months ago (in the case's zone)."""
    case, as_of = drawn
    d = engine().decide(case, as_of=as_of)
    found = five_level(d)
    now = _by_dpd(d.facts["dpd"])
    expected = now
    seen = [e.at for e in case.events if e.at <= as_of]
    if seen:
        ends = pendulum.instance(max(seen)).in_timezone(case.timezone).add(months=12)
        if as_of < ends and RANKS.index(now) < RANKS.index("substandard"):
            expected = "substandard"
    assert found.value == expected, (found, expected)
    assert (found.rule_id == HOLD) == (found.value != now)
    assert d.facts["cn5_npl"] == (RANKS.index(found.value) >= RANKS.index("substandard"))
