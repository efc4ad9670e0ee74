"""CN-RESTRUCT-OBS: a loan restructured because the debtor was in financial difficulty
(a ``restructured`` event) is no better than special mention during its observation
period, a year from the restructuring, or no better than substandard when days past due
at the restructuring's instant made it non-performing, unless days past due now give a
worse class (cn_bank_loan's CN-5LVL pack, ``restructured_class``,
``restructured_npl_class`` and ``restructured_months``)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, Engine, PolicyError, load_policy
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
def test_a_pass_loan_restructured_four_months_ago_is_held_at_special_mention(
    backend: str,
) -> None:
    """Nothing past due at the restructuring: pass then, performing, so no better than
    special mention (not non-performing) for the year."""
    d = decide(loan(restructured()), "2026-06-30T12:00:00+08:00", backend)
    found = five_level(d)
    assert d.facts["dpd"] == 0
    assert (found.value, found.rule_id) == ("special_mention", HOLD)
    assert d.facts["cn5_class"] == "special_mention"
    assert d.facts["cn5_npl"] is False
    assert found.cites == ("CN-5LVL", "NPL-5LEVEL", "CN-RESTRUCT-OBS")
    assert found.reason.startswith(
        "Restructured because the debtor was in financial difficulty, performing before it: "
        "no better than special mention"
    )
    assert "held at special mention until 2027-03-02" in found.reason
    assert "restructured at 2026-03-02T10:00:00+08:00" in found.reason
    assert "gave pass (dpd 0 on 2026-03-02): performing before the restructuring" in found.reason
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
def test_a_special_mention_loan_restructured_then_repaid_is_held_at_special_mention(
    backend: str,
) -> None:
    """60 days past due at the restructuring (special mention: performing), repaid in
    full on 10 May: special mention until 2 March 2027, not substandard."""
    data = loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2026-01-01")
    found = five_level(decide(data, "2026-12-01T12:00:00+08:00", backend))
    assert (found.value, found.rule_id) == ("special_mention", HOLD)
    assert "gave special mention (dpd 60 on 2026-03-02): performing before" in found.reason
    found = five_level(decide(data, "2027-03-02T10:00:00+08:00", backend))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")


#: Due 2 November 2025: 120 days past due when restructured on 2 March 2026, then
#: repaid in full on 10 March (128 days past due on the day before).
NPL_LOAN = loan(restructured(), payment("2026-03-10T10:00:00+08:00", "5000"), due="2025-11-02")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("as_of", "value", "rule"),
    [
        ("2026-06-30T12:00:00+08:00", "substandard", HOLD),  # the upgrade hold runs too
        ("2026-12-01T12:00:00+08:00", "substandard", HOLD),  # the upgrade hold has ended
        ("2027-03-02T09:59:59+08:00", "substandard", HOLD),
        ("2027-03-02T10:00:00+08:00", "pass", "CN5-PASS"),
    ],
)
def test_a_loan_restructured_at_120_dpd_then_repaid_is_held_at_substandard_for_the_year(
    backend: str, as_of: str, value: str, rule: str
) -> None:
    d = decide(NPL_LOAN, as_of, backend)
    found = five_level(d)
    assert (found.value, found.rule_id) == (value, rule)
    assert d.facts["cn5_npl"] is (value == "substandard")
    if rule == HOLD:
        assert d.facts["dpd"] == 0
        assert found.reason.startswith(
            "Restructured because the debtor was in financial difficulty, non-performing "
            "before it: no better than substandard"
        )
        assert "gave substandard (dpd 120 on 2026-03-02): non-performing before the " in (
            found.reason
        )
        assert "held at substandard until 2027-03-02" in found.reason


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("due", "at", "paid_at", "value", "dpd_then"),
    [
        # 90 days past due at the restructuring: special mention, performing
        ("2025-12-02", RESTRUCTURED_AT, "2026-03-02T12:00:00+08:00", "special_mention", 90),
        # 91: substandard, non-performing
        ("2025-12-01", RESTRUCTURED_AT, "2026-03-02T12:00:00+08:00", "substandard", 91),
        # the same instant read in the case's zone: the last second of the 90th day ...
        (
            "2025-12-01",
            "2026-03-01T15:59:58+00:00",
            "2026-03-01T15:59:59+00:00",
            "special_mention",
            90,
        ),
        # ... and the first of the 91st
        ("2025-12-01", "2026-03-01T16:00:00+00:00", "2026-03-02T12:00:00+08:00", "substandard", 91),
        # a payment at the very instant of the restructuring counts as made then
        ("2025-12-02", RESTRUCTURED_AT, RESTRUCTURED_AT, "special_mention", 0),
    ],
)
def test_the_class_at_the_restructurings_instant_chooses_the_floor(
    backend: str, due: str, at: str, paid_at: str, value: str, dpd_then: int
) -> None:
    """Repaid in full just after the restructuring: the floor is what days past due gave
    at the restructuring's instant, counted in the case's zone (Shanghai: 23:59:58 on
    1 March is the 90th day, 00:00 on 2 March the 91st, both 1 March in UTC), 90 days
    being the last of special mention. A payment repaid at 91 days holds substandard by
    CN-UPGRADE too, but the observation period ends later and gives the rule."""
    data = loan(restructured(at), payment(paid_at, "5000"), due=due)
    found = five_level(decide(data, "2026-06-30T12:00:00+08:00", backend))
    assert (found.value, found.rule_id) == (value, HOLD)
    assert f"(dpd {dpd_then} on " in found.reason
    state = "non-performing" if value == "substandard" else "performing"
    assert f": {state} before the restructuring" in found.reason


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("zone", "at", "as_of", "value"),
    [
        # in Shanghai: the year ends at 10:00 local on 2 March 2027
        (ZONE, RESTRUCTURED_AT, "2027-03-02T09:59:59+08:00", "special_mention"),
        (ZONE, RESTRUCTURED_AT, "2027-03-02T10:00:00+08:00", "pass"),
        (ZONE, RESTRUCTURED_AT, "2027-03-02T10:00:01+08:00", "pass"),
        # restructured at a local midnight in New York: the year ends at the local
        # midnight a year on, read in UTC
        (
            "America/New_York",
            "2026-03-02T00:00:00-05:00",
            "2027-03-02T04:59:59+00:00",
            "special_mention",
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
        # non-performing at the restructuring (213 and 305 days past due): substandard
        ("2025-08-01", "doubtful", "CN5-DOUBTFUL"),  # 303 days past due
        ("2025-05-01", "loss", "CN5-LOSS"),  # 395 days past due
        # performing at the restructuring (1 and 0 days past due): special mention
        ("2026-03-01", "substandard", "CN5-SUBSTANDARD"),  # 91 days
        ("2026-05-01", "special_mention", "CN5-SPECIAL-MENTION"),  # 30 days: the same class
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
        and f"gives no worse class than {value.replace('_', ' ')}" in n
        for n in found.notes
    ), found.notes


def test_a_loan_partly_repaid_since_a_non_performing_restructuring_is_held_at_substandard() -> None:
    """120 days past due at the restructuring, 5,000 repaid on 10 March and 300 still
    past due now: substandard by days past due as well, and the next class, doubtful,
    comes by days past due."""
    data = {**NPL_LOAN, "overdue_amount": "300"}
    found = five_level(decide(data, "2026-03-31T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("substandard", "CN5-SUBSTANDARD")
    assert any(f"({HOLD}) runs until 2027-03-02" in n for n in found.notes), found.notes
    assert (found.next_value, str(found.next_on)) == ("doubtful", "2026-07-31")


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_the_restructured_event_starts_the_hold(backend: str) -> None:
    """The same loan, paid up: special mention with the event, pass without any event or
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
    assert (found.value, found.rule_id) == ("special_mention", HOLD)


def test_a_later_restructuring_starts_another_observation_period() -> None:
    data = loan(restructured(), restructured("2026-09-15T09:00:00+08:00"))
    found = five_level(decide(data, "2027-06-30T12:00:00+08:00"))
    assert (found.value, found.rule_id) == ("special_mention", HOLD)
    assert "held at special mention until 2027-09-15" in found.reason


def test_the_worse_of_the_upgrade_hold_and_the_observation_period_wins() -> None:
    """Restructured at 213 days past due (substandard: non-performing), repaid in full at
    282 on 10 May: doubtful by CN-UPGRADE until 10 November, then substandard by the
    observation period until 2 March 2027."""
    data = loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2025-08-01")
    held = five_level(decide(data, "2026-06-30T12:00:00+08:00"))
    assert (held.value, held.rule_id) == ("doubtful", "CN-5LVL:upgrade_hold")
    assert any(f"({HOLD}) runs until 2027-03-02" in n for n in held.notes), held.notes
    later = five_level(decide(data, "2026-12-01T12:00:00+08:00"))
    assert (later.value, later.rule_id) == ("substandard", HOLD)
    assert any("ended on 2026-11-10" in n for n in later.notes), later.notes


def test_at_the_same_class_the_hold_that_ends_last_gives_the_rule() -> None:
    """Restructured at 102 days past due (non-performing), repaid at 170 on 10 May:
    substandard by CN-UPGRADE until 10 November; the observation period, substandard too,
    ends on 2 March 2027 and gives the rule."""
    data = loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2025-11-20")
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
        loan(restructured(), payment("2026-05-10T10:00:00+08:00", "5000"), due="2026-01-01"),
        NPL_LOAN,
    )
    classes = set()
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
            held = five_level(decide(data, as_of, "durable"))
            if held.rule_id == HOLD:
                classes.add(held.value)
    assert classes == {"special_mention", "substandard"}


# --------------------------------------------------------------------------- frame


def test_the_columnar_engine_agrees_on_restructured_loans() -> None:
    rows = [
        loan(restructured(), case_id="R-1"),
        loan(restructured(), case_id="R-2", overdue="5000", due="2025-06-01"),
        loan(restructured("2025-01-02T10:00:00+08:00"), case_id="R-3"),
        {**NPL_LOAN, "case_id": "R-4"},
    ]
    decided = columnar_with_events(rows, "cn_bank_loan", "2026-06-30T12:00:00+08:00", engine())
    assert dict(decided[0]["classes"])["CN-5LVL"] == "special_mention"
    assert dict(decided[1]["classes"])["CN-5LVL"] == "loss"
    assert dict(decided[2]["classes"])["CN-5LVL"] == "pass"
    assert dict(decided[3]["classes"])["CN-5LVL"] == "substandard"


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
        pytest.param(
            'restructured_npl_class = "substandard"',
            "restructured_npl_class",
            "gives the class of a debt non-performing before its restructuring, but the "
            "pack has no restructured_class and restructured_months",
            id="npl-alone",
        ),
        pytest.param(
            'restructured_npl_class = "substandard"\nrestructured_class = "substandard"\n'
            "restructured_months = 12",
            "restructured_npl_class",
            "expected a class worse than restructured_class 'substandard' (there is none), "
            "got 'substandard'",
            id="npl-not-worse",
        ),
    ],
)
def test_a_bad_restructuring_key_is_an_error_at_its_file_and_line(
    tmp_path: Any, keys: str, path: str, expected: str
) -> None:
    assert_ladder_key_error(tmp_path, keys, "cn5_restructured_months", path, expected)


THREE_CLASSES = """\
schema_version = "1"
extends = "default"
id = "mine"
version = "1.0.0"
title = "mine"

[regulation.CN-5LVL]
kind = "dpd_ladder"
fact = "cn5_class"
products = ["loan"]
restructured_class = "watch"
restructured_months = 12
restructured_npl_class = {npl}

[[regulation.CN-5LVL.classes]]
value = "pass"
rule = "M-PASS"

[[regulation.CN-5LVL.classes]]
value = "watch"
rule = "M-WATCH"
over_dpd = 0

[[regulation.CN-5LVL.classes]]
value = "bad"
rule = "M-BAD"
over_dpd = 90
"""


@pytest.mark.parametrize(
    ("npl", "expected"),
    [
        (
            '"bda"',
            "mine.toml:13: regulation.CN-5LVL.restructured_npl_class: expected a class worse "
            "than restructured_class 'watch' ('bad'), got 'bda'",
        ),
        ('"watch"', "expected a class worse than restructured_class 'watch' ('bad'), got 'watch'"),
        ("2", "expected a class worse than restructured_class 'watch' ('bad'), got 2"),
    ],
)
def test_the_non_performing_floor_is_a_class_worse_than_the_performing_one(
    tmp_path: Any, npl: str, expected: str
) -> None:
    file = tmp_path / "mine.toml"
    file.write_text(THREE_CLASSES.format(npl=npl), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    (problem,) = info.value.problems
    assert problem.path == "regulation.CN-5LVL.restructured_npl_class"
    assert problem.line == 13
    assert expected in str(problem), str(problem)
    if npl == '"bda"':
        assert problem.suggestion == "bad"
    file.write_text(THREE_CLASSES.format(npl='"bad"'), encoding="utf-8")
    section = regulation_of(load_policy(file))
    assert section is not None
    pack = section.pack("CN-5LVL")
    assert isinstance(pack, LadderPack)
    assert pack.restructured_npl_class == "bad"


def test_without_a_non_performing_floor_every_restructured_loan_is_held_at_one_class() -> None:
    """The pack with no ``restructured_npl_class``: the loan restructured at 120 days past
    due and the one restructured at none are both held at ``restructured_class``, and
    the reason does not call them performing or not."""
    section = regulation_of(load_policy("cn_bank_loan"))
    assert section is not None
    shipped = section.pack("CN-5LVL")
    assert isinstance(shipped, LadderPack)
    as_of = pendulum.parse("2026-12-01T12:00:00+08:00")  # the upgrade hold has ended
    for npl in (None, "doubtful"):
        pack = attrs.evolve(shipped, restructured_npl_class=npl)
        for data in (NPL_LOAN, loan(restructured())):
            found = pack.assess(Case.from_dict(data), 0, as_of=as_of)
            assert (found.value, found.rule_id) == ("special_mention", HOLD)
            if npl is None:
                assert "performing" not in found.reason
                assert "a restructured debt is no better than special mention" in found.reason
            else:  # 120 days past due gave substandard, better than doubtful
                assert ": performing before the restructuring" in found.reason


def test_the_shipped_observation_period_is_a_year_at_special_mention_or_substandard() -> None:
    policy = load_policy("cn_bank_loan")
    section = regulation_of(policy)
    assert section is not None
    pack = section.pack("CN-5LVL")
    assert isinstance(pack, LadderPack)
    assert pack.restructured_class == "special_mention"
    assert pack.restructured_npl_class == "substandard"
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
def test_the_class_is_the_worse_of_days_past_due_and_the_floor_within_a_year(
    drawn: tuple[Case, pendulum.DateTime],
) -> None:
    """Worked out apart from the pack: the class is what days past due give now, or the
    floor if that is better and the latest restructuring at or before ``as_of`` was less
    than twelve months ago (in the case's zone). The floor is substandard when days past
    due at the restructuring's instant (no payment is drawn: past due since ``due_date``
    if anything is past due now) gave substandard or worse, else special mention."""
    case, as_of = drawn
    d = engine().decide(case, as_of=as_of)
    found = five_level(d)
    now = _by_dpd(d.facts["dpd"])
    expected = now
    seen = [e.at for e in case.events if e.at <= as_of]
    if seen:
        at = pendulum.instance(max(seen)).in_timezone(case.timezone)
        owed = case.overdue_amount > 0
        then = _by_dpd(max((at.date() - case.due_date).days, 0) if owed else 0)
        floor = "substandard" if RANKS.index(then) >= 2 else "special_mention"
        if as_of < at.add(months=12) and RANKS.index(now) < RANKS.index(floor):
            expected = floor
    assert found.value == expected, (found, expected)
    assert (found.rule_id == HOLD) == (found.value != now)
    assert d.facts["cn5_npl"] == (RANKS.index(found.value) >= RANKS.index("substandard"))
