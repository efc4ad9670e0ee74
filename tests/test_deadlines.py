"""Legal deadlines: limitation (with interruption and long stop), guarantee, enforcement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    BusinessCalendar,
    Case,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Policy,
    build_timeline,
)
from collectrules.timeline.deadlines import period_last_day
from timeline_helpers import at, default, event, events, loan, variant

D = dt.date
CN = BusinessCalendar("CN")
INTERRUPTING = (
    "demand_delivered",
    "debtor_acknowledged",
    "payment",
    "suit_filed",
    "arbitration_filed",
)


def deadline(
    case: Case,
    when: str,
    kind: str = "limitation",
    party: str | None = None,
    policy: Policy | None = None,
) -> Deadline:
    tl = build_timeline(case, as_of=at(when), policy=policy or default())
    return tl.deadline(kind, party)


# --------------------------------------------------------------------------- counting periods


def test_periods_follow_civil_code_arts_201_to_203() -> None:
    # Art. 201: the start day is not counted; art. 202: the same-numbered day ends it.
    assert period_last_day(D(2026, 3, 31), years=3) == (D(2029, 3, 31), D(2029, 3, 31))
    # ... or the month's last day where there is none.
    assert period_last_day(D(2024, 2, 29), years=3)[0] == D(2027, 2, 28)
    assert period_last_day(D(2026, 8, 31), months=6)[0] == D(2027, 2, 28)
    # Art. 203: a last day on a rest day or holiday moves to the next working day.
    assert period_last_day(D(2026, 3, 31), years=3, calendar=CN) == (D(2029, 3, 31), D(2029, 4, 2))
    assert period_last_day(D(2026, 4, 1), months=6, calendar=CN) == (D(2026, 10, 1), D(2026, 10, 8))


# --------------------------------------------------------------------------- limitation


def test_limitation_runs_three_years_from_the_due_date() -> None:
    d = deadline(loan(), "2026-04-10 12:00")
    assert d.kind is DeadlineKind.LIMITATION
    assert d.status is DeadlineStatus.RUNNING
    assert (d.started_on, d.started_by) == (D(2026, 3, 31), "the due date, 2026-03-31")
    assert (d.nominal_last_day, d.last_day) == (D(2029, 3, 31), D(2029, 4, 2))
    assert d.moved_for_holiday
    assert d.expires_at == at("2029-04-03 00:00")  # 24:00 of the last day
    assert d.period == "3 years"
    assert d.cites == (
        "CN-LIMITATION",
        "CN-LIMITATION-INSTALMENT",
        "CN-LIMITATION-INTERRUPT",
        "CN-PERIOD-CALC",
    )
    assert d.interruptions == ()
    assert d.warning is None


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2026-03-31 12:00", DeadlineStatus.NOT_STARTED),  # the start day is not counted
        ("2026-04-01 00:00", DeadlineStatus.RUNNING),
        ("2029-04-02 23:59:59", DeadlineStatus.RUNNING),
        ("2029-04-03 00:00", DeadlineStatus.EXPIRED),  # 24:00 of the last day
        ("2029-04-03 00:00:01", DeadlineStatus.EXPIRED),
    ],
)
def test_limitation_boundaries(when: str, status: DeadlineStatus) -> None:
    assert deadline(loan(), when).status is status


def test_instalment_debts_run_from_the_last_instalment() -> None:
    d = deadline(loan(maturity_date="2027-03-31"), "2026-04-10 12:00")
    assert d.status is DeadlineStatus.NOT_STARTED
    assert d.started_by == "the due date of the last instalment, 2027-03-31"
    assert (d.nominal_last_day, d.last_day) == (D(2030, 3, 31), D(2030, 4, 1))
    # A payment before the period starts does not restart it.
    paid = loan(event("payment", "2026-06-01 10:00", amount="100"), maturity_date="2027-03-31")
    assert deadline(paid, "2026-07-01 12:00").interruptions == ()


@pytest.mark.parametrize("kind", INTERRUPTING)
def test_each_interrupting_event_restarts_the_period(kind: str) -> None:
    fields: dict[str, Any] = {"amount": "100"} if kind == "payment" else {}
    case = loan(event(kind, "2027-05-10 10:00", **fields))
    d = deadline(case, "2027-06-01 12:00")
    assert (d.started_on, d.last_day) == (D(2027, 5, 10), D(2030, 5, 10))
    assert d.started_by == f"{kind} on 2027-05-10"
    assert [e.kind.value for e in d.interruptions] == [kind]
    assert d.start_event is not None
    assert d.start_event.kind.value == kind


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "notice_sent"},
        {"kind": "contact_attempt", "outcome": "reached"},
        {"kind": "demand_delivered", "party": "G-1"},  # a demand on the guarantor
        {"kind": "payment", "amount": "0"},
    ],
    ids=["notice", "contact", "guarantor", "zero-payment"],
)
def test_other_events_do_not_interrupt(fields: dict[str, Any]) -> None:
    kind = fields.pop("kind")
    case = loan(event(kind, "2027-05-10 10:00", **fields), guarantors=[{"id": "G-1"}])
    d = deadline(case, "2027-06-01 12:00")
    assert (d.interruptions, d.last_day) == ((), D(2029, 4, 2))


def test_nothing_revives_an_expired_period_and_the_future_does_not_count() -> None:
    late = loan(event("debtor_acknowledged", "2029-05-01 10:00"))
    d = deadline(late, "2029-06-01 12:00")
    assert (d.status, d.interruptions) == (DeadlineStatus.EXPIRED, ())
    future = loan(event("suit_filed", "2027-05-10 10:00"))
    assert deadline(future, "2027-05-01 12:00").interruptions == ()


def test_the_long_stop_caps_every_restart() -> None:
    policy = variant(parameters={"limitation_longstop_years": 4})
    case = loan(
        event("demand_delivered", "2027-06-01 10:00"), event("demand_delivered", "2029-06-01 10:00")
    )
    d = deadline(case, "2029-07-01 12:00", policy=policy)
    assert len(d.interruptions) == 2
    assert d.capped_by_longstop
    assert d.last_day == D(2030, 4, 1)  # 2026-03-31 + 4 years is a Sunday
    near = deadline(case, "2030-03-01 12:00", policy=policy)
    assert near.warning is not None
    assert "nothing can restart it" in near.warning


def test_the_limitation_length_is_a_parameter_for_a_uk_pack() -> None:
    uk = variant(
        parameters={"limitation_years": {"value": 6, "cites": ["UK-LIMITATION"]}},
        timeline={
            "calendar": {"country": "GB", "subdivision": "ENG"},
            "deadlines": {
                "limitation": {
                    "interrupted_by": ["debtor_acknowledged", "payment"],
                    "cites": ["UK-LIMITATION"],
                }
            },
        },
    )
    d = deadline(loan(), "2026-04-10 12:00", policy=uk)
    assert (d.period, d.last_day, d.cites) == ("6 years", D(2032, 3, 31), ("UK-LIMITATION",))
    demanded = loan(
        event("demand_delivered", "2027-05-10 10:00"),
        event("payment", "2027-06-10 10:00", amount="10"),
    )
    d = deadline(demanded, "2027-07-01 12:00", policy=uk)
    assert [e.kind.value for e in d.interruptions] == ["payment"]  # a demand does not restart
    assert d.last_day == D(2033, 6, 10)


def test_the_shipped_uk_policy_counts_six_years() -> None:
    from collectrules import load_policy

    d = deadline(loan(currency="GBP"), "2026-04-10 12:00", policy=load_policy("uk"))
    assert d.period == "6 years"
    assert d.last_day == D(2032, 3, 31)


# --------------------------------------------------------------------------- guarantee


def test_guarantee_period_defaults_to_six_months_from_maturity() -> None:
    case = loan(maturity_date="2026-04-01", guarantors=[{"id": "G-1", "name": "Zhang Wei"}])
    d = deadline(case, "2026-04-10 12:00", "guarantee", "G-1")
    assert d.status is DeadlineStatus.RUNNING
    assert (d.nominal_last_day, d.last_day) == (D(2026, 10, 1), D(2026, 10, 8))  # National Day
    assert d.title == "guarantee period (保证期间): Zhang Wei"
    assert d.party == "G-1"
    assert "never suspended or interrupted" in d.note
    no_maturity = deadline(loan(guarantors=[{"id": "G-1"}]), "2026-04-10 12:00", "guarantee")
    assert no_maturity.last_day == D(2026, 9, 30)
    assert "no maturity date" in no_maturity.started_by


def test_an_agreed_guarantee_period_wins() -> None:
    case = loan(guarantors=[{"id": "G-1", "agreed_period_months": 12}])
    assert deadline(case, "2026-04-10 12:00", "guarantee").last_day == D(2027, 3, 31)


@pytest.mark.parametrize("party", ["G-1", "Zhang Wei"])
@pytest.mark.parametrize("kind", ["demand_delivered", "suit_filed"])
def test_a_claim_naming_the_guarantor_satisfies_it(kind: str, party: str) -> None:
    case = loan(
        event(kind, "2026-06-01 10:00", party=party),
        guarantors=[{"id": "G-1", "name": "Zhang Wei"}, {"id": "G-2"}],
    )
    d = deadline(case, "2026-07-01 12:00", "guarantee", "G-1")
    assert d.status is DeadlineStatus.SATISFIED
    assert d.satisfied_by is not None
    assert deadline(case, "2026-07-01 12:00", "guarantee", "G-2").status is DeadlineStatus.RUNNING


def test_nothing_interrupts_the_guarantee_period() -> None:
    case = loan(
        event("demand_delivered", "2026-06-01 10:00"),
        event("payment", "2026-06-02 10:00", amount="100"),
        event("demand_delivered", "2026-10-05 10:00", party="G-1"),  # too late
        guarantors=[{"id": "G-1"}],
    )
    d = deadline(case, "2026-11-01 12:00", "guarantee")
    assert (d.status, d.last_day, d.satisfied_by) == (DeadlineStatus.EXPIRED, D(2026, 9, 30), None)
    future = loan(guarantors=[{"id": "G-1"}], maturity_date="2027-03-31")
    assert deadline(future, "2026-11-01 12:00", "guarantee").status is DeadlineStatus.NOT_STARTED


# --------------------------------------------------------------------------- enforcement


def test_enforcement_runs_two_years_from_the_judgment() -> None:
    d = deadline(loan(), "2026-04-10 12:00", "enforcement")
    assert (d.status, d.last_day, d.expires_at) == (DeadlineStatus.NOT_STARTED, None, None)
    judged = loan(
        event("suit_filed", "2026-05-01 10:00"), event("judgment_effective", "2027-06-15 10:00")
    )
    d = deadline(judged, "2027-07-01 12:00", "enforcement")
    assert (d.status, d.started_on, d.last_day) == (
        DeadlineStatus.RUNNING,
        D(2027, 6, 15),
        D(2029, 6, 15),
    )
    assert d.cites == ("CN-ENFORCEMENT", "CN-PERIOD-CALC")
    assert deadline(judged, "2029-06-16 00:00:01", "enforcement").status is DeadlineStatus.EXPIRED


# --------------------------------------------------------------------------- warnings


def test_warnings_start_a_policy_set_number_of_days_before_expiry() -> None:
    quiet = deadline(loan(), "2029-01-02 23:59")
    assert (quiet.warn_from, quiet.warning) == (at("2029-01-03 00:00"), None)
    loud = deadline(loan(), "2029-01-03 00:00")
    assert loud.warning is not None
    assert loud.warning.startswith(
        "expires at the end of 2029-04-02 (90 days left, counting today)."
    )
    assert "a demand for payment delivered to the debtor" in loud.warning.lower()
    assert "would restart it" in loud.warning
    assert deadline(loan(), "2029-04-10 12:00").warning is None  # expired: too late to warn
    last = deadline(loan(), "2029-04-02 23:59:59")
    assert last.warning is not None
    assert last.warning.startswith("expires at the end of 2029-04-02 (today).")
    ending = deadline(loan(), "2029-04-03 00:00")  # 24:00 of the last day: it has ended
    assert ending.status is DeadlineStatus.EXPIRED
    assert ending.warning is None

    case = loan(guarantors=[{"id": "G-1"}])
    g = deadline(case, "2026-08-01 12:00", "guarantee")
    assert g.warning is not None
    assert "Nothing interrupts it" in g.warning
    assert "naming guarantor G-1" in g.warning
    tl = build_timeline(case, as_of=at("2026-08-01 12:00"), policy=default())
    assert any(w.startswith("guarantee period") for w in tl.warnings)

    judged = loan(event("judgment_effective", "2027-06-15 10:00"))
    e = deadline(judged, "2029-05-01 12:00", "enforcement")
    assert e.warning is not None
    assert "Apply to the court for enforcement" in e.warning


def test_warning_days_and_switching_deadlines_off() -> None:
    policy = variant(
        parameters={"deadline_warning_days": 10},
        timeline={"deadlines": {"guarantee": {"enabled": False}}},
    )
    tl = build_timeline(
        loan(guarantors=[{"id": "G-1"}]), as_of=at("2029-03-20 12:00"), policy=policy
    )
    assert [d.kind for d in tl.deadlines] == [DeadlineKind.LIMITATION, DeadlineKind.ENFORCEMENT]
    assert tl.deadline("limitation").warning is None
    tl = build_timeline(loan(), as_of=at("2029-03-24 00:00"), policy=policy)
    assert tl.deadline("limitation").warning is not None


def test_deadline_json() -> None:
    case = loan(event("payment", "2027-05-10 10:00", amount="10"))
    data = deadline(case, "2027-06-01 12:00").to_dict()
    assert data["status"] == "running"
    assert data["interruptions"] == [{"kind": "payment", "at": "2027-05-10T10:00:00+08:00"}]
    assert data["started_by"] == "payment on 2027-05-10"
    assert data["start_event"] == {"kind": "payment", "at": "2027-05-10T10:00:00+08:00"}
    assert data["expires_at"] == "2030-05-11T00:00:00+08:00"
    untouched = deadline(loan(), "2027-06-01 12:00").to_dict()
    assert (untouched["started_by"], untouched["start_event"]) == ("the due date, 2026-03-31", None)
    judged = loan(event("judgment_effective", "2027-06-15 10:00"))
    enforcement = deadline(judged, "2027-07-01 12:00", "enforcement").to_dict()
    assert enforcement["start_event"] == {
        "kind": "judgment_effective",
        "at": "2027-06-15T10:00:00+08:00",
    }


def test_periods_too_long_for_the_calendar_are_refused() -> None:
    from collectrules import InputError, PolicyError

    with pytest.raises(PolicyError) as info:
        variant(parameters={"limitation_years": 9000, "deadline_warning_days": 10**9})
    found = [str(p) for p in info.value.problems]
    assert any(
        "parameters.limitation_years: expected a positive whole number up to 100" in p
        for p in found
    ), found
    assert any("parameters.deadline_warning_days: expected a non-negative" in p for p in found)
    with pytest.raises(InputError, match="agreed_period_months: expected a positive whole"):
        loan(guarantors=[{"id": "G-1", "agreed_period_months": 100_000}])


# --------------------------------------------------------------------------- properties

interrupting = events(start=D(2026, 3, 20), days=5 * 366, kinds=INTERRUPTING)
any_events = events(start=D(2026, 3, 20), days=5 * 366)


@settings(max_examples=120, deadline=None)
@given(
    history=st.lists(any_events, max_size=6),
    extra=interrupting,
    minutes=st.integers(min_value=0, max_value=7 * 366 * 24 * 60),
    maturity=st.sampled_from([None, "2026-09-30", "2027-03-31"]),
)
def test_an_interrupting_event_never_makes_the_limitation_expire_sooner(
    history: list[Any], extra: Any, minutes: int, maturity: str | None
) -> None:
    case = loan(maturity_date=maturity, guarantors=[{"id": "G-1"}])
    case = attrs.evolve(case, events=tuple(history))
    when = at("2026-03-31 00:00").add(minutes=minutes)
    before = build_timeline(case, as_of=when, policy=default()).deadline("limitation")
    grown = attrs.evolve(case, events=(*case.events, extra))
    after = build_timeline(grown, as_of=when, policy=default()).deadline("limitation")
    assert before.expires_at is not None
    assert after.expires_at is not None
    assert after.expires_at >= before.expires_at
    if before.status is not DeadlineStatus.EXPIRED:
        assert after.status is not DeadlineStatus.EXPIRED


@settings(max_examples=80, deadline=None)
@given(
    history=st.lists(any_events, max_size=6),
    minutes=st.integers(min_value=0, max_value=6 * 366 * 24 * 60),
)
def test_every_deadline_ends_at_midnight_after_a_working_day(
    history: list[Any], minutes: int
) -> None:
    case = attrs.evolve(loan(guarantors=[{"id": "G-1"}]), events=tuple(history))
    when = at("2026-03-31 00:00").add(minutes=minutes)
    for d in build_timeline(case, as_of=when, policy=default()).deadlines:
        if d.last_day is None:
            assert d.kind is DeadlineKind.ENFORCEMENT
            continue
        assert CN.is_working_day(d.last_day)
        assert d.nominal_last_day is not None
        assert d.last_day >= d.nominal_last_day or d.capped_by_longstop
        assert d.expires_at == pendulum.datetime(
            d.last_day.year, d.last_day.month, d.last_day.day, tz="Asia/Shanghai"
        ).add(days=1)
        expired = when > d.expires_at
        assert (d.status is DeadlineStatus.EXPIRED) == (
            expired and d.status is not DeadlineStatus.SATISFIED
        )
