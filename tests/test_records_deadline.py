"""The records deadline: how long the records of collection are kept (US-REGF-RECORDS,
CN-CARD-CONDUCT)."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
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
from collectrules.policy import policy_from_dict
from collectrules.timeline._case import events_until
from collectrules.timeline.deadlines import (
    deadline_facts,
    deadline_kinds,
    deadline_reads,
    legal_deadlines,
)
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
        ("2030-05-10 23:59:59", DeadlineStatus.RUNNING),
        ("2030-05-11 00:00", DeadlineStatus.EXPIRED),  # 24:00 of the last day: the records may go
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
    # The card policy states only its records period; the others are the bank loan's.
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
    _refused_at(tmp_path, text, line, expected)


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


# --------------------------------------------------------------------------- products
#
# CN-CARD-CONDUCT is a credit-card rule: cn_credit_card lists ``products =
# ["credit_card"]`` in its records table, so that the loans, receivables and property
# fees it also decides (it extends cn_bank_loan) have no records deadline. A deadline
# that does not apply to a case's product is absent, as a disabled one is.

PRODUCTS = ("loan", "credit_card", "receivable", "property_fee")
PERIODS = ("limitation", "guarantee", "enforcement", "records")
#: Collection activity in 2027, as in the card examples above.
ACTIVE = (
    event("visit", "2027-02-10 10:00"),
    event("contact_attempt", "2027-03-31 10:00", outcome="refused"),
)


def of(product: str, *evs: dict[str, Any]) -> Case:
    """A case of ``product`` due 2026-03-31 in Shanghai, with a guarantor."""
    return loan(*evs, product=product, guarantors=[{"id": "G-1"}])


def kinds_of(case: Case, name: str | Policy, when: str = "2027-06-01 12:00") -> list[str]:
    """The kinds of the case's deadlines, in order."""
    pol = policy(name) if isinstance(name, str) else name
    tl = build_timeline(case, as_of=at(when), policy=pol)
    return [d.kind.value for d in tl.deadlines]


@cache
def card_tables() -> dict[str, Any]:
    """cn_credit_card's ``[timeline.deadlines]`` tables as they resolve: the default's
    (which cn_bank_loan keeps), with the pack's own merged over them by period."""
    folder = Path(load_policy.__code__.co_filename).parent.parent / "policies"
    tables: dict[str, Any] = {}
    for name in ("default", "cn_bank_loan", "cn_credit_card"):
        data = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
        tables.update(data.get("timeline", {}).get("deadlines", {}))
    assert {"limitation", "guarantee", "enforcement", "records"} <= set(tables)
    return tables


@cache
def scoped(period: str, products: tuple[str, ...] | None, enabled: bool = True) -> Policy:
    """cn_credit_card with the ``period`` table listing ``products`` (``None``: the key
    left out, for every product), or switched off."""
    tables = copy.deepcopy(card_tables())
    table = tables[period]
    table.pop("products", None)
    if products is not None:
        table["products"] = list(products)
    if not enabled:
        table["enabled"] = False
    data = {"extends": "cn_credit_card", "id": "scoped", "version": "1"}
    return policy_from_dict({**data, "timeline": {"deadlines": tables}}, source="scoped.toml")


@cache
def strict_calendar() -> Policy:
    """cn_credit_card counting the records deadline alone, on a calendar that refuses a
    year without official working days (CN has them up to 2026)."""
    tables = copy.deepcopy(card_tables())
    for name in ("limitation", "guarantee", "enforcement"):
        tables[name]["enabled"] = False
    timeline = {"calendar": {"country": "CN", "beyond_known": "error"}, "deadlines": tables}
    data = {"extends": "cn_credit_card", "id": "strict", "version": "1", "timeline": timeline}
    return policy_from_dict(data, source="strict.toml")


def test_the_card_pack_keeps_records_for_card_cases_only() -> None:
    rules = timeline_section(policy("cn_credit_card")).deadlines
    assert rules.records.products == ("credit_card",)
    assert rules.records.applies_to("credit_card")
    assert not rules.records.applies_to("loan")
    # The other deadlines apply to every product, as in the bank-loan pack.
    assert rules.limitation.products == rules.guarantee.products == ()
    assert rules.enforcement.products == ()
    full = ["limitation", "guarantee", "enforcement", "records"]
    assert kinds_of(of("credit_card", *ACTIVE), "cn_credit_card") == full
    for product in ("loan", "receivable", "property_fee"):
        assert kinds_of(of(product, *ACTIVE), "cn_credit_card") == full[:-1], product


@pytest.mark.parametrize("product", ["loan", "receivable", "property_fee"])
def test_a_loan_under_the_card_pack_has_no_records_deadline(product: str) -> None:
    case = of(product, *ACTIVE)
    when = at("2027-06-01 12:00")
    tl = build_timeline(case, as_of=when, policy=policy("cn_credit_card"))
    # Absent, as a disabled deadline is: not listed as unknown, not in the JSON.
    with pytest.raises(InputError, match="the timeline has no records deadline"):
        tl.deadline("records")
    assert "records" not in [d["kind"] for d in tl.to_dict()["deadlines"]]
    # Every other deadline is the bank-loan pack's, to the letter.
    bank = build_timeline(case, as_of=when, policy=policy("cn_bank_loan"))
    assert tl.deadlines == bank.deadlines
    # A card with the same history keeps its records deadline.
    card_case = attrs.evolve(case, product="credit_card")
    d = records(card_case, "2027-06-01 12:00", "cn_credit_card")
    assert (d.started_by, d.last_day) == ("contact_attempt on 2027-03-31", D(2029, 4, 2))


@pytest.mark.parametrize("product", ["loan", "credit_card"])
def test_the_bank_loan_pack_keeps_no_records(product: str) -> None:
    assert "records" not in kinds_of(of(product, *ACTIVE), "cn_bank_loan")


@pytest.mark.parametrize("product", PRODUCTS)
def test_without_products_a_deadline_is_for_every_product(product: str) -> None:
    # us_regf lists no products: Regulation F keeps the records of every consumer debt.
    assert timeline_section(policy("us_regf")).deadlines.records.products == ()
    case = loan(
        event("visit", "2027-05-11 10:00", NY), product=product, currency="USD", timezone=NY
    )
    assert records(case, "2027-06-01 12:00", "us_regf", NY).last_day == D(2030, 5, 11)


@pytest.mark.parametrize(("name", "product"), [(n, p) for n in PERIODS for p in PRODUCTS])
def test_each_deadline_table_takes_products(name: str, product: str) -> None:
    # The key is read alike in the four tables: a case of a listed product has the
    # deadline, with the dates it has when every product has it; another has none.
    case = of(product, *ACTIVE, event("judgment_effective", "2027-04-15 10:00"))
    listed = ("credit_card", "receivable")
    when = at("2027-06-01 12:00")
    mine = build_timeline(case, as_of=when, policy=scoped(name, listed)).deadlines
    every = build_timeline(case, as_of=when, policy=scoped(name, None)).deadlines
    assert (name in {d.kind.value for d in mine}) is (product in listed)
    assert mine == tuple(d for d in every if d.kind.value != name or product in listed)
    assert name in {d.kind.value for d in every}


# --------------------------------------------------------------------------- decisions


def _decide(pol: Policy, case: Case, when: str, backend: str) -> dict[str, Any] | str:
    """The decision as JSON-ready data, or the input error it gives."""
    try:
        return Engine(pol, backend=backend).decide(case, as_of=at(when)).to_dict()
    except InputError as exc:
        return f"InputError: {exc}"


@pytest.mark.parametrize("name", ["cn_credit_card", "cn_bank_loan"])
@pytest.mark.parametrize("product", ["loan", "credit_card"])
def test_both_back_ends_agree_on_cards_and_loans(name: str, product: str) -> None:
    case = of(product, *ACTIVE)
    decided = [_decide(policy(name), case, "2027-06-01 12:00", b) for b in ("python", "durable")]
    assert isinstance(decided[0], dict)
    assert decided[0] == decided[1]


def test_a_loan_is_never_decided_on_the_card_records_deadline() -> None:
    # A card's records deadline runs into 2028, a year this calendar refuses: deciding
    # the card fails, on both back ends alike. A loan has no records deadline, nothing
    # of it is counted, and the loan is decided.
    visit = event("visit", "2026-04-10 10:00")
    card_case, loan_case = of("credit_card", visit), of("loan", visit)
    loans = []
    for backend in ("python", "durable"):
        failed = _decide(strict_calendar(), card_case, "2026-05-01 12:00", backend)
        assert isinstance(failed, str)
        assert "calendar for 2028 not published" in failed
        loans.append(_decide(strict_calendar(), loan_case, "2026-05-01 12:00", backend))
    assert isinstance(loans[0], dict), loans[0]
    assert loans[0] == loans[1]


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_scoped_limitation_period_reaches_the_rules_of_its_products_only(
    backend: str,
) -> None:
    # Near the end of the limitation period the remedy rules warn of it; with the period
    # scoped to loans, a card of the same dates is not warned. One engine decides both,
    # in either order: the deadline facts it remembers are the product's own.
    engine = Engine(scoped("limitation", ("loan",)), backend=backend)
    when = at("2029-03-01 12:00")
    for order in (("loan", "credit_card"), ("credit_card", "loan")):
        decided = {product: engine.decide(of(product), as_of=when) for product in order}
        loan_facts, card_facts = decided["loan"].facts, decided["credit_card"].facts
        assert loan_facts["limitation_last_day"] == "2029-04-02"
        assert "limitation_last_day" not in card_facts
        assert card_facts["limitation_expired"] is False
        fired = {p: {t.rule_id for t in d.trace} for p, d in decided.items()}
        assert "R-LIMITATION-INTERRUPT" in fired["loan"]
        assert "R-LIMITATION-INTERRUPT" not in fired["credit_card"]


@pytest.mark.parametrize(
    ("name", "when", "history"),
    [
        ("cn_credit_card", "2027-06-01 12:00", ACTIVE),
        ("limitation for loans", "2029-03-01 12:00", ACTIVE),
        ("strict calendar", "2026-05-01 12:00", (event("visit", "2026-04-10 10:00"),)),
    ],
)
def test_the_columnar_engine_agrees_on_cards_and_loans(
    name: str, when: str, history: tuple[dict[str, Any], ...]
) -> None:
    pl = pytest.importorskip("polars")
    from collectrules import frame
    from collectrules.batch.compact import compact_row

    pol = {
        "cn_credit_card": policy("cn_credit_card"),
        "limitation for loans": scoped("limitation", ("loan",)),
        "strict calendar": strict_calendar(),
    }[name]
    rows = []
    for i, product in enumerate(PRODUCTS):
        rows.append({**loan(product=product).to_dict(), "case_id": f"N-{i}"})  # by the columns
        rows.append({**loan(*history, product=product).to_dict(), "case_id": f"E-{i}"})
    flat = [{k: v for k, v in r.items() if k not in ("signals", "events")} for r in rows]
    evs = [{"case_id": r["case_id"], **e} for r in rows for e in r["events"]]
    result = frame.decide(
        pl.DataFrame(flat, infer_schema_length=None),
        None,
        pl.DataFrame(evs, infer_schema_length=None),
        policy=pol,
        as_of=at(when),
    )
    columns = {}
    for row in result.decisions.to_dicts():
        index = row.pop("row")
        for key in ("classes", "buckets"):
            row[key] = [(p["key"], p["value"]) for p in row[key]]
        columns[index] = row
    errors = {e.row: f"{type(e.error).__name__}: {e.error}" for e in result.errors}
    per_case: dict[int, Any] = {}
    per_case_errors: dict[int, str] = {}
    for found in Engine(pol).decide_many(rows, as_of=at(when)):
        if found.decision is not None:
            per_case[found.index] = compact_row(found.decision)
        else:
            per_case_errors[found.index] = f"{type(found.error).__name__}: {found.error}"
    assert (columns, errors) == (per_case, per_case_errors)
    # Every row is decided by the columns (those with events run their sections on their
    # own history), but for the row whose section fails, which the per-case engine refuses.
    assert result.summary.columnar == len(rows) - len(errors)
    assert result.summary.fallback.keys() <= {"section key failed"}
    assert result.summary.section_histories >= 1
    if name == "strict calendar":  # the card with activity fails, and it alone
        assert list(errors) == [3]
        assert "calendar for 2028 not published" in errors[3]


# --------------------------------------------------------------------------- loader

CATALOGUE = "expected one of 'loan', 'credit_card', 'receivable', 'property_fee'"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            '[timeline.deadlines.records]\nenabled = true\nproducts = ["credit_crad"]\n'
            'cites = ["CN-CARD-CONDUCT"]\n',
            6,
            "timeline.deadlines.records.products: unknown product 'credit_crad'; "
            f"{CATALOGUE} (did you mean 'credit_card'?)",
        ),
        (
            '[timeline.deadlines.records]\nenabled = true\nproducts = ["credit_card", 7]\n'
            'cites = ["CN-CARD-CONDUCT"]\n',
            6,
            f"timeline.deadlines.records.products: unknown product 7; {CATALOGUE}",
        ),
        (
            '[timeline.deadlines.records]\nenabled = true\nproducts = []\ncites = ["CONDUCT"]\n',
            6,
            "timeline.deadlines.records.products: empty: list the products the deadline "
            "applies to, or leave the key out for every product",
        ),
        (
            "[timeline.deadlines.records]\nenabled = true\nproducts = { card = true }\n"
            'cites = ["CONDUCT"]\n',
            6,
            "timeline.deadlines.records.products: expected a list of products",
        ),
        (
            '[timeline.deadlines.enforcement]\ncites = ["CN-ENFORCEMENT"]\n\n'
            '[timeline.deadlines.limitation]\nproducts = ["lone"]\n',
            8,
            f"timeline.deadlines.limitation.products: unknown product 'lone'; {CATALOGUE} "
            "(did you mean 'loan'?)",
        ),
        (
            '[catalogue.products.mortgage]\nlabel_en = "mortgage"\nlabel_zh = "按揭"\n\n'
            '[timeline.deadlines.guarantee]\nproducts = ["mortgag"]\n',
            9,
            f"timeline.deadlines.guarantee.products: unknown product 'mortgag'; {CATALOGUE}, "
            "'mortgage' (did you mean 'mortgage'?)",
        ),
    ],
    ids=["misspelt", "not-a-name", "empty", "not-a-list", "limitation", "own-product"],
)
def test_an_unknown_product_names_file_line_value_and_the_catalogue(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    _refused_at(tmp_path, text, line, expected)


def test_a_policys_own_product_is_listed_by_its_name() -> None:
    tables = card_tables()
    catalogue = {
        name: {"label_en": name.replace("_", " "), "label_zh": "信用卡", "category": "credit_card"}
        for name in ("gold_card", "store_card")
    }
    records_table = {**tables["records"], "products": ["credit_card", "gold_card", "credit_card"]}
    mine = policy_from_dict(
        {
            "extends": "cn_credit_card",
            "id": "mine",
            "version": "1",
            "catalogue": {"products": catalogue},
            "timeline": {"deadlines": {**tables, "records": records_table}},
        },
        source="mine.toml",
    )
    # In the order given, each once.
    assert timeline_section(mine).deadlines.records.products == ("credit_card", "gold_card")
    assert "records" in kinds_of(of("gold_card", *ACTIVE), mine)
    # A category does not stand for the products of it: a card product the table does
    # not name has no records deadline.
    assert "records" not in kinds_of(of("store_card", *ACTIVE), mine)


# --------------------------------------------------------------------------- properties

history_events = st.one_of(
    events(start=D(2026, 3, 20), days=3 * 366, kinds=(*ACTIVITY, *NOT_ACTIVITY[:-1])),
    events(start=D(2026, 3, 20), days=3 * 366),
)
products_lists = st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=4, unique=True)


def drawn_case(product: str, history: list[Event], guarantor: bool) -> Case:
    return attrs.evolve(
        loan(product=product, guarantors=[{"id": "G-1"}] if guarantor else []),
        events=tuple(history),
    )


@settings(max_examples=150, deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    history=st.lists(history_events, max_size=6),
    guarantor=st.booleans(),
    minutes=st.integers(min_value=0, max_value=4 * 366 * 24 * 60),
)
def test_the_card_pack_never_keeps_records_of_another_product(
    product: str, history: list[Event], guarantor: bool, minutes: int
) -> None:
    case = drawn_case(product, history, guarantor)
    when = at("2026-03-20 00:00").add(minutes=minutes)
    card_tl = build_timeline(case, as_of=when, policy=policy("cn_credit_card"))
    kinds = [d.kind for d in card_tl.deadlines]
    assert (DeadlineKind.RECORDS in kinds) is (product == "credit_card")
    if product != "credit_card":
        # Whatever the case, its deadlines are those of the bank-loan pack.
        bank_tl = build_timeline(case, as_of=when, policy=policy("cn_bank_loan"))
        assert card_tl.deadlines == bank_tl.deadlines


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(PERIODS),
    listed=products_lists,
    product=st.sampled_from(PRODUCTS),
    history=st.lists(history_events, max_size=6),
    guarantor=st.booleans(),
    minutes=st.integers(min_value=0, max_value=4 * 366 * 24 * 60),
)
def test_a_deadline_outside_its_products_is_as_though_switched_off(
    name: str,
    listed: list[str],
    product: str,
    history: list[Event],
    guarantor: bool,
    minutes: int,
) -> None:
    case = drawn_case(product, history, guarantor)
    when = at("2026-03-20 00:00").add(minutes=minutes)
    inside = product in listed
    # Listed: the deadline every product gets. Not listed: none, as when switched off.
    mine = timeline_section(scoped(name, tuple(sorted(listed))))
    other = timeline_section(scoped(name, None, enabled=inside))
    got = legal_deadlines(case, when, mine)
    assert got == legal_deadlines(case, when, other)
    has = name in {d.kind.value for d in got}
    assert has is (inside and (name != "guarantee" or guarantor))
    assert deadline_facts(case, when, mine) == deadline_facts(case, when, other)
    seen = events_until(case, when)
    assert deadline_reads(case, seen, mine) == deadline_reads(case, seen, other)


def _refused_at(tmp_path: Path, text: str, line: int, expected: str) -> None:
    """``BASE`` with ``text`` is refused with one problem, at ``line``, saying ``expected``."""
    path = tmp_path / "mine.toml"
    path.write_text(BASE + text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == line
    assert str(problem).endswith(f"mine.toml:{line}: {expected}"), str(problem)
