"""The same instant decides the same, whatever zone object it comes in.

Python compares and subtracts two datetimes that share one zone object by their wall
clocks, not as instants. On the night New York's clocks go back, 01:59:59-04:00 reads as
after 01:00:00-05:00, though it is an hour earlier. A case built in Python with such
datetimes (as the testing kit builds them) listed its signals in force in the wrong
order in the decision's trace. A case keeps every instant, and ``as_of``, at its own
fixed UTC offset, as JSON, CSV and Parquet give it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Engine
from collectrules.model import Case, Event, Signal, require_aware
from collectrules.testing import as_ofs, cases

NEW_YORK = "America/New_York"
#: The second 01:00 of 2024-11-03 in New York, after the clocks went back.
AS_OF = pendulum.parse("2024-11-03T01:00:00-05:00").in_timezone(NEW_YORK)
#: A second before 02:00 the first time round: an hour *before* AS_OF.
EARLIER = pendulum.parse("2024-11-03T01:59:59-04:00").in_timezone(NEW_YORK)

ENGINES = {backend: Engine("default", backend=backend) for backend in ("python", "durable")}


def _case() -> Case:
    return Case(
        case_id="NY-1",
        product="loan",
        currency="USD",
        principal=Decimal(1000),
        overdue_amount=Decimal(100),
        due_date=dt.date(2024, 10, 21),
        timezone=NEW_YORK,
        signals=(
            Signal(kind="inconsistent_reasons", observed_at=AS_OF),
            Signal(kind="uncooperative", observed_at=EARLIER),
        ),
        events=(Event(kind="payment", at=EARLIER, amount=Decimal(10)),),
    )


def test_the_fall_back_hour_is_in_its_zone_as_the_example_needs() -> None:
    # The example's premise: one zone object, whose wall clocks read the other way.
    assert EARLIER.tzinfo is AS_OF.tzinfo
    assert EARLIER.timestamp() < AS_OF.timestamp()
    assert (EARLIER.hour, EARLIER.minute) > (AS_OF.hour, AS_OF.minute)


def test_a_cases_instants_compare_as_instants() -> None:
    case = _case()
    later, earlier = (s.observed_at for s in case.signals)
    assert earlier < later
    assert later - earlier == dt.timedelta(seconds=1)
    assert case.events[0].at < later
    # Still the same instants, written as they were given. (Python's == says False of
    # any two zones' datetimes when one falls in a repeated hour: PEP 495.)
    assert later.timestamp() == AS_OF.timestamp()
    assert earlier.timestamp() == EARLIER.timestamp()
    assert [s.observed_at.isoformat() for s in case.signals] == [
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T01:59:59-04:00",
    ]


def test_the_trace_lists_signals_in_force_by_instant_on_both_back_ends() -> None:
    case = _case()
    for backend, engine in ENGINES.items():
        decision = engine.decide(case, as_of=AS_OF)
        evidence = [t.rule_id for t in decision.trace if t.layer == "evidence"]
        assert evidence[:2] == ["evidence.uncooperative", "evidence.inconsistent_reasons"], backend


def test_as_of_in_a_zone_decides_as_the_same_instant_at_its_offset() -> None:
    case = _case()
    fixed = Case.from_dict(json.loads(json.dumps(case.to_dict())))
    for backend, engine in ENGINES.items():
        zoned = engine.decide(case, as_of=AS_OF)
        assert zoned.as_of.isoformat() == "2024-11-03T01:00:00-05:00"
        assert zoned.as_of.timestamp() == AS_OF.timestamp()
        assert zoned.to_json() == engine.decide(fixed, as_of=AS_OF.isoformat()).to_json(), backend
        assert (
            engine.timeline(case, as_of=AS_OF).to_dict()
            == engine.timeline(fixed, as_of=AS_OF.isoformat()).to_dict()
        ), backend


#: Zones whose clocks change (Lord Howe by half an hour), and nights they change on.
ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe")
NIGHTS = [
    dt.datetime(2024, 3, 10),
    dt.datetime(2024, 3, 31),
    dt.datetime(2024, 4, 7),
    dt.datetime(2024, 10, 6),
    dt.datetime(2024, 10, 27),
    dt.datetime(2024, 11, 3),
]


@st.composite
def _around_a_change(draw: st.DrawFn) -> tuple[pendulum.DateTime, Case]:
    night = draw(st.sampled_from(NIGHTS))
    as_of = draw(
        as_ofs(
            timezones=ZONES,
            min_value=night - dt.timedelta(hours=3),
            max_value=night + dt.timedelta(hours=4),
        )
    )
    return as_of, draw(cases("default", as_of=as_of, timezones=ZONES, with_events=True))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_around_a_change())
def test_zoned_and_fixed_offset_forms_decide_alike(drawn: tuple[pendulum.DateTime, Case]) -> None:
    as_of, case = drawn
    fixed = Case.from_dict(json.loads(json.dumps(case.to_dict())))
    for backend, engine in ENGINES.items():
        zoned = engine.decide(case, as_of=as_of).to_json()
        assert zoned == engine.decide(fixed, as_of=as_of.isoformat()).to_json(), backend
        assert (
            engine.timeline(case, as_of=as_of).to_dict()
            == engine.timeline(fixed, as_of=as_of.isoformat()).to_dict()
        ), backend


def test_the_same_zoned_as_of_gives_back_the_same_instant() -> None:
    # A batch decides every case at one as_of; the derivation and the decision keep
    # per-instant work keyed on the object require_aware returns.
    first = require_aware(AS_OF)
    assert first is require_aware(AS_OF)
    # Engine.decide passes what it got on to derive, which asks again: the instant
    # returned gives itself back, and the zoned one still gives the same.
    assert require_aware(first) is first
    assert require_aware(AS_OF) is first
    assert first.isoformat() == AS_OF.isoformat()
    other = AS_OF.add(seconds=1)
    assert require_aware(other) is not first
    assert require_aware(other).timestamp() == AS_OF.timestamp() + 1
