"""The order a case lists its signals and events in decides nothing, except for events
at one instant, which are taken in the order listed (docs/howto-timeline.md)."""

from __future__ import annotations

import random
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Engine, PromiseStatus
from collectrules.model import Case, Event
from collectrules.testing import cases
from collectrules.testing.strategies import DEFAULT_AS_OF
from helpers import case_dict

ENGINES = {backend: Engine("default", backend=backend) for backend in ("python", "durable")}


def _by_instant(events: tuple[Event, ...], rng: random.Random) -> tuple[Event, ...]:
    """``events`` with their instants shuffled, each instant's events in listed order."""
    groups: dict[float, list[Event]] = {}
    for event in events:
        groups.setdefault(event.at.timestamp(), []).append(event)
    instants = list(groups)
    rng.shuffle(instants)
    return tuple(e for instant in instants for e in groups[instant])


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases("default", with_events=True), data=st.data())
def test_shuffling_signals_and_instants_changes_nothing(case: Case, data: Any) -> None:
    shuffled = attrs.evolve(
        case,
        signals=tuple(data.draw(st.permutations(case.signals))),
        events=_by_instant(case.events, data.draw(st.randoms())),
    )
    for backend, engine in ENGINES.items():
        want = engine.decide(case, as_of=DEFAULT_AS_OF).to_json()
        assert engine.decide(shuffled, as_of=DEFAULT_AS_OF).to_json() == want, backend
        assert (
            engine.timeline(shuffled, as_of=DEFAULT_AS_OF).to_dict()
            == engine.timeline(case, as_of=DEFAULT_AS_OF).to_dict()
        ), backend


def test_of_two_promises_at_one_instant_the_one_listed_later_stands() -> None:
    at = "2026-04-01T09:40:00+08:00"
    early = {"kind": "promise_made", "at": at, "promised_date": "2026-04-05", "amount": "50"}
    late = {"kind": "promise_made", "at": at, "promised_date": "2026-04-20", "amount": "50"}
    for events, standing in (([early, late], "2026-04-20"), ([late, early], "2026-04-05")):
        case = Case.from_dict(case_dict(events=events))
        for backend, engine in ENGINES.items():
            promises = engine.timeline(case, as_of=DEFAULT_AS_OF).promises
            assert sorted(p.status.value for p in promises) == ["standing", "superseded"]
            (held,) = [p for p in promises if p.status is PromiseStatus.STANDING]
            assert str(held.promised_date) == standing, backend
