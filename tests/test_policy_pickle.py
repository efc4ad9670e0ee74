"""A policy pickles whole, so that worker processes decide under the very same policy."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from typing import Any

import pytest

from collectrules.batch.bench import AS_OF, generate_rows
from collectrules.calendars import BusinessCalendar
from collectrules.engine import Engine
from collectrules.policy import Policy, available_policies, load_policy


@pytest.mark.parametrize("name", available_policies())
def test_a_shipped_policy_pickles_to_the_same_decisions(name: str) -> None:
    policy = load_policy(name)
    Engine(policy, backend="python")  # fills the policy's caches, which are not pickled
    again = pickle.loads(pickle.dumps(policy))
    assert again == policy
    assert again.source == policy.source
    assert again.data == policy.data
    rows = list(generate_rows(Engine(policy, backend="python"), 40, bad_every=9))
    for row in rows:  # every shipped policy has a materiality threshold in euros
        row["currency"] = "EUR"
    assert _outcomes(again, rows) == _outcomes(policy, rows)


def _outcomes(policy: Policy, rows: list[dict[str, Any]]) -> list[str]:
    """Each row's decision JSON, or its error."""
    out = []
    for result in Engine(policy, backend="python").decide_many(rows, as_of=AS_OF):
        out.append(result.decision.to_json() if result.decision else f"error: {result.error}")
    assert any(not o.startswith("error: ") for o in out)
    assert any(o.startswith("error: ") for o in out) == any(
        r["overdue_amount"] == "-1" for r in rows
    )
    return out


def test_a_policy_file_keeps_each_rules_origin(tmp_path: Path) -> None:
    """The trace names the file each rule came from: a pickled policy keeps them."""
    path = tmp_path / "mine.toml"
    path.write_text('extends = "default"\nid = "mine"\nversion = "2.0.0"\n', encoding="utf-8")
    policy = load_policy(path)
    again = pickle.loads(pickle.dumps(policy))
    origins = [rule.origin for layer in policy.layers for rule in layer.rules]
    assert [rule.origin for layer in again.layers for rule in layer.rules] == origins
    assert {o for o in origins if o}  # each rule names where it came from
    rows = list(generate_rows(Engine(policy, backend="python"), 5))
    assert _outcomes(again, rows) == _outcomes(policy, rows)


def test_a_calendar_pickles_with_its_extra_days() -> None:
    calendar = BusinessCalendar(
        "CN",
        extra_holidays=[dt.date(2026, 3, 3)],
        extra_working_days=[dt.date(2026, 3, 7)],
    )
    again = pickle.loads(pickle.dumps(calendar))
    assert again == calendar
    for day in (dt.date(2026, 3, 3), dt.date(2026, 3, 7), dt.date(2026, 2, 14)):
        assert again.is_working_day(day) == calendar.is_working_day(day)


def test_a_calendar_copy_shares_its_source_and_a_pickle_does_not() -> None:
    """The timeline copies the calendar for every case (``recording``): a copy must not
    rebuild the holidays source, as unpickling does."""
    calendar = BusinessCalendar("CN")
    clone, years = calendar.recording()
    assert clone == calendar
    assert clone._source is calendar._source
    assert clone._consulted is years
    assert calendar._consulted is None
    assert pickle.loads(pickle.dumps(calendar))._source is not calendar._source
