"""The records deadline: how long the records of collection are kept (US-REGF-RECORDS,
CN-CARD-CONDUCT)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Engine,
    Event,
    InputError,
    Policy,
    PolicyError,
    build_timeline,
    load_policy,
)
from collectrules.timeline.deadlines import deadline_kinds, deadline_reads
from collectrules.timeline.evaluate import timeline_section
from collectrules.timeline.stages import EventMatcher
from timeline_helpers import NY, SH, at, event, events, loan, variant

D = dt.date
#: What both shipped packs count as collection activity.
ACTIVITY = (
    "contact_attempt", "visit", "visit_arranged", "notice_sent", "validation_notice_sent",
    "demand_delivered", "demand_letter_signed", "lawyer_letter_sent", "suit_filed",
    "arbitration_filed",
)  # fmt: skip
#: Events that are not: the debtor's own acts, internal steps, the court's.
NOT_ACTIVITY = (
    "payment", "promise_made", "debtor_acknowledged", "commitment_signed", "report_filed",
    "plan_issued", "judgment_effective", "credit_bureau_reported", "asset_found",
)  # fmt: skip


@cache
def policy(name: str) -> Policy:
    return load_policy(name)


def card(*evs: dict[str, Any], tz: str = SH, currency: str | None = None) -> Case:
    """A credit-card debt due 2026-03-31: in CNY in Shanghai, or in USD elsewhere."""
    currency = currency or ("CNY" if tz == SH else "USD")
    return loan(*evs, product="credit_card", currency=currency, timezone=tz)


def records(case: Case, when: str, name: str, tz: str = SH) -> Deadline:
    tl = build_timeline(case, as_of=at(when, tz), policy=policy(name))
    return tl.deadline("records")


def fields_of(kind: str) -> dict[str, Any]:
    """The fields an event of ``kind`` needs."""
    if kind == "contact_attempt":
        return {"outcome": "no_answer"}
    if kind in ("payment", "asset_found"):
        return {"amount": "100", **({"asset_class": "movables"} if kind == "asset_found" else {})}
    if kind == "promise_made":
        return {"amount": "100", "promised_date": "2027-06-01"}
    return {}


# --------------------------------------------------------------------------- United States


def test_us_records_are_kept_three_years_after_the_last_activity() -> None:
    case = card(
        event("contact_attempt", "2027-05-10 10:00", NY, outcome="no_answer"),
        event("payment", "2027-06-01 10:00", NY, amount="50"),  # the consumer's act
        tz=NY,
    )
    tl = build_timeline(case, as_of=at("2027-07-01 12:00", NY), policy=policy("us_regf"))
    # China's deadlines are off in this policy: the records deadline is the only one.
    assert [d.kind for d in tl.deadlines] == [DeadlineKind.RECORDS]
    d = tl.deadline("records")
    assert d.status is DeadlineStatus.RUNNING
    assert (d.started_on, d.started_by) == (D(2027, 5, 10), "contact_attempt on 2027-05-10")
    assert d.start_event is not None
    assert d.start_event.kind.value == "contact_attempt"
    assert (d.nominal_last_day, d.last_day) == (D(2030, 5, 10), D(2030, 5, 10))
    assert d.expires_at == at("2030-05-11 00:00", NY)  # kept to the end of the last day
    assert d.period == "3 years"
    assert d.cites == ("US-REGF-RECORDS",)
    assert d.warning is None  # its end threatens no claim
    assert "until the end of 2030-05-10" in d.note
    assert d.to_dict()["kind"] == "records"
    assert d.to_dict()["cites"] == ["US-REGF-RECORDS"]


def test_us_periods_are_plain_calendar_years() -> None:
    # 2030-05-11 is a Saturday: a US period does not move to the next working day, as
    # the time bar does not (Civil Code art. 203 is China's).
    d = records(
        card(event("visit", "2027-05-11 10:00", NY), tz=NY), "2027-06-01 12:00", "us_regf", NY
    )
    assert (d.nominal_last_day, d.last_day) == (D(2030, 5, 11), D(2030, 5, 11))
    assert not d.moved_for_holiday
    # Three years from 29 February end on 28 February.
    leap = card(event("notice_sent", "2028-02-29 10:00", NY), tz=NY)
    assert records(leap, "2028-03-01 12:00", "us_regf", NY).last_day == D(2031, 2, 28)


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2027-05-10 23:59", DeadlineStatus.NOT_STARTED),  # the day itself is not counted
        ("2027-05-11 00:00", DeadlineStatus.RUNNING),
        ("2030-05-11 00:00", DeadlineStatus.RUNNING),  # 24:00 of the last day
        ("2030-05-11 00:00:01", DeadlineStatus.EXPIRED),  # the records may go
    ],
)
def test_us_boundaries(when: str, status: DeadlineStatus) -> None:
    case = card(event("contact_attempt", "2027-05-10 10:00", NY, outcome="reached"), tz=NY)
    assert records(case, when, "us_regf", NY).status is status


# --------------------------------------------------------------------------- China, cards


def test_cn_card_records_are_kept_two_years_after_the_latest_record() -> None:
    case = card(
        event("visit", "2027-02-10 10:00"),
        event("contact_attempt", "2027-03-31 10:00", outcome="refused"),
        event("promise_made", "2027-04-02 10:00", amount="100", promised_date="2027-04-09"),
    )
    d = records(case, "2027-06-01 12:00", "cn_credit_card")
    assert d.status is DeadlineStatus.RUNNING
    assert (d.started_on, d.started_by) == (D(2027, 3, 31), "contact_attempt on 2027-03-31")
    # Two years end on Saturday 2029-03-31: moved to Monday 2029-04-02 (CN-PERIOD-CALC),
    # as the limitation period is.
    assert (d.nominal_last_day, d.last_day) == (D(2029, 3, 31), D(2029, 4, 2))
    assert d.moved_for_holiday
    assert d.expires_at == at("2029-04-03 00:00")
    assert d.period == "2 years"
    assert d.cites == ("CN-CARD-CONDUCT", "CN-PERIOD-CALC")
    # A later activity moves it forward; an activity after as_of does not count yet.
    later = attrs.evolve(
        case,
        events=(
            *case.events,
            Event(kind="lawyer_letter_sent", at=at("2027-08-01 09:00")),
            Event(kind="suit_filed", at=at("2028-01-10 09:00")),
        ),
    )
    moved = records(later, "2027-09-01 12:00", "cn_credit_card")
    assert (moved.started_by, moved.last_day) == ("lawyer_letter_sent on 2027-08-01", D(2029, 8, 1))


def test_the_card_policy_keeps_the_bank_loan_policys_other_deadlines() -> None:
    # The card policy repeats the deadline tables it replaces: they must not drift.
    card_rules = timeline_section(policy("cn_credit_card")).deadlines
    loan_rules = timeline_section(policy("cn_bank_loan")).deadlines
    assert attrs.evolve(card_rules, records=loan_rules.records) == loan_rules
    assert card_rules.records.enabled
    assert card_rules.records.years == 2
    assert loan_rules.records.enabled is False


@pytest.mark.parametrize("kind", ACTIVITY)
def test_each_activity_counts(kind: str) -> None:
    case = card(event(kind, "2027-05-10 10:00", **fields_of(kind)))
    d = records(case, "2027-06-01 12:00", "cn_credit_card")
    assert d.started_by == f"{kind} on 2027-05-10"


@pytest.mark.parametrize("kind", NOT_ACTIVITY)
def test_other_events_are_not_collection_activity(kind: str) -> None:
    case = card(event(kind, "2027-05-10 10:00", **fields_of(kind)))
    d = records(case, "2027-06-01 12:00", "cn_credit_card")
    assert d.last_day is None


# --------------------------------------------------------------------------- unknown, off


@pytest.mark.parametrize(("name", "tz"), [("cn_credit_card", SH), ("us_regf", NY)])
def test_without_collection_activity_the_deadline_is_unknown(name: str, tz: str) -> None:
    for case in (
        card(tz=tz),
        card(event("payment", "2027-05-10 10:00", tz, amount="50"), tz=tz),
        card(event("visit", "2027-07-10 10:00", tz), tz=tz),  # after as_of
    ):
        d = records(case, "2027-06-01 12:00", name, tz)
        assert d.status is DeadlineStatus.NOT_STARTED
        assert (d.started_on, d.nominal_last_day, d.last_day) == (None, None, None)
        assert (d.expires_at, d.warn_from, d.warning) == (None, None, None)
        assert d.started_by == "no collection activity on the case"
        assert d.note.startswith("unknown until the first collection activity")
        assert d.cites  # the trace still cites the clause
        assert d.to_dict()["last_day"] is None


@pytest.mark.parametrize("name", ["default", "cn_bank_loan", "uk", "ifrs9"])
def test_policies_that_do_not_enable_it_have_no_records_deadline(name: str) -> None:
    case = card(event("visit", "2027-05-10 10:00"), currency="EUR" if name == "ifrs9" else None)
    tl = build_timeline(case, as_of=at("2027-06-01 12:00"), policy=policy(name))
    assert DeadlineKind.RECORDS not in {d.kind for d in tl.deadlines}
    with pytest.raises(InputError, match="no records deadline"):
        tl.deadline("records")
    # Nor do the state facts read a visit: no deadline of these policies counts it.
    assert EventMatcher.parse("visit").kind not in deadline_kinds(timeline_section(policy(name)))


def test_a_policy_sets_the_length_and_the_activity() -> None:
    mine = variant(
        parameters={"records_retention_years": 5},
        timeline={
            "deadlines": {"records": {"enabled": True, "activity": ["visit"], "cites": ["CONDUCT"]}}
        },
    )
    case = card(
        event("visit", "2027-05-10 10:00"),
        event("contact_attempt", "2027-05-20 10:00", outcome="reached"),  # not listed here
    )
    tl = build_timeline(case, as_of=at("2027-06-01 12:00"), policy=mine)
    d = tl.deadline("records")
    assert (d.started_on, d.nominal_last_day, d.period) == (
        D(2027, 5, 10),
        D(2032, 5, 10),
        "5 years",
    )
    assert d.cites == ("CONDUCT",)
    # Replacing [timeline.deadlines] leaves the other deadlines at the loader's defaults.
    assert [x.kind for x in tl.deadlines][-1] is DeadlineKind.RECORDS


# --------------------------------------------------------------------------- misconfigured

BASE = 'extends = "default"\nid = "mine"\n\n'


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            '[timeline.deadlines.records]\nenabled = true\nactivity = ["contact_atempt"]\n'
            'cites = ["US-REGF-RECORDS"]\n',
            6,
            "timeline.deadlines.records.activity: unknown event kind 'contact_atempt' "
            "(did you mean 'contact_attempt'?)",
        ),
        (
            "[timeline.deadlines.limitation]\nenabled = true\n\n"
            '[timeline.deadlines.records]\nenabled = "yes"\ncites = ["US-REGF-RECORDS"]\n',
            8,
            "timeline.deadlines.records.enabled: expected true or false, got 'yes'",
        ),
        (
            '[timeline.deadlines.records]\nenabled = true\nactivity = ["visit"]\n',
            4,
            "timeline.deadlines.records.cites: required when the records deadline is "
            "enabled: name the clause that sets how long records are kept (such as "
            "US-REGF-RECORDS)",
        ),
        (
            '[timeline.deadlines.records]\nenabled = true\nactivity = []\ncites = ["CONDUCT"]\n',
            6,
            "timeline.deadlines.records.activity: empty: list the events that count as "
            "collection activity, or leave the key out for the usual list",
        ),
        (
            "[timeline.deadlines.records]\nenabled = true\nyears = 3\n"
            'cites = ["US-REGF-RECORDS"]\n',
            6,
            "timeline.deadlines.records.years: unknown key",
        ),
        (
            "[parameters]\nrecords_retention_years = 0\n\n"
            '[timeline.deadlines.records]\nenabled = true\ncites = ["US-REGF-RECORDS"]\n',
            5,
            "parameters.records_retention_years: expected a positive whole number up to 100, "
            "got 0 (read by the timeline (promises and legal deadlines))",
        ),
    ],
)
def test_a_misconfigured_records_deadline_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BASE + text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == line
    assert str(problem).endswith(f"mine.toml:{line}: {expected}"), str(problem)


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize(("name", "tz"), [("cn_credit_card", SH), ("us_regf", NY)])
def test_both_back_ends_decide_alike_on_a_case_with_activity(name: str, tz: str) -> None:
    case = card(
        event("contact_attempt", "2027-05-10 10:00", tz, outcome="reached"),
        event("visit", "2027-05-12 10:00", tz),
        tz=tz,
    )
    when = at("2027-06-01 12:00", tz)
    durable = Engine(policy(name), backend="durable").decide(case, as_of=when)
    python = Engine(policy(name), backend="python").decide(case, as_of=when)
    assert durable.to_dict() == python.to_dict()


def test_the_state_facts_read_only_the_latest_activity() -> None:
    section = timeline_section(policy("cn_credit_card"))
    kinds = deadline_kinds(section)
    assert {EventMatcher.parse(k).kind for k in ACTIVITY} <= kinds
    one = card(
        event("contact_attempt", "2027-05-01 10:00", outcome="no_answer"),
        event("visit", "2027-05-10 10:00"),
    )
    other = card(
        event("contact_attempt", "2027-04-03 10:00", outcome="refused"),
        event("visit", "2027-05-10 10:00"),
    )
    reads = [deadline_reads(c, c.events, section, kinds=kinds) for c in (one, other)]
    assert reads[0] == reads[1]
    assert reads[0][-1][0] == "records"


# --------------------------------------------------------------------------- properties

activity_events = events(start=D(2026, 3, 20), days=3 * 366, kinds=ACTIVITY[:5])
any_events = events(start=D(2026, 3, 20), days=3 * 366)


def _latest_activity(case: Case, when: pendulum.DateTime, name: str) -> Event | None:
    rule = timeline_section(policy(name)).deadlines.records
    found = [e for e in case.events if e.at <= when and any(m.matches(e) for m in rule.activity)]
    return max(found, key=lambda e: e.at, default=None)


@settings(max_examples=120, deadline=None)
@given(
    name=st.sampled_from(["cn_credit_card", "us_regf"]),
    history=st.lists(st.one_of(any_events, activity_events), max_size=6),
    extra=activity_events,
    minutes=st.integers(min_value=0, max_value=4 * 366 * 24 * 60),
)
def test_never_before_the_last_activity_and_only_forward(
    name: str, history: list[Event], extra: Event, minutes: int
) -> None:
    tz = SH if name == "cn_credit_card" else NY
    # The strategies draw Shanghai instants: the same instants, read in the case's zone.
    case = attrs.evolve(card(tz=tz), events=tuple(history))
    when = at("2026-03-20 00:00").add(minutes=minutes)
    pol = policy(name)
    before = build_timeline(case, as_of=when, policy=pol).deadline("records")
    latest = _latest_activity(case, when, name)
    if latest is None:
        assert before.last_day is None
        assert before.status is DeadlineStatus.NOT_STARTED
    else:
        assert before.last_day is not None
        assert before.expires_at is not None
        assert before.last_day > case.local_date(latest.at)
        assert before.expires_at > latest.at
        assert before.started_on == case.local_date(latest.at)
    grown = attrs.evolve(case, events=(*case.events, extra))
    after = build_timeline(grown, as_of=when, policy=pol).deadline("records")
    if extra.at > when:  # not yet happened: nothing changes
        assert after == before
        return
    assert after.last_day is not None
    assert after.expires_at is not None
    assert after.last_day > case.local_date(extra.at)
    if before.last_day is not None and before.expires_at is not None:
        assert after.last_day >= before.last_day
        assert after.expires_at >= before.expires_at
