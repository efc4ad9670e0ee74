"""``Decision.from_json`` and ``Decision.from_dict``: decisions read back from their JSON."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from collectrules import Engine, InputError, Remedy, available_policies, load_policy
from collectrules.model import decision_io
from collectrules.model.case import Case
from collectrules.model.decision import SCHEMA_VERSION, Decision
from collectrules.testing.strategies import dated_cases

POLICIES = tuple(available_policies())
BACKENDS = ("durable", "python")
CASES = Path(__file__).parent.parent / "examples" / "cases"


@functools.cache
def _engine(name: str, backend: str) -> Engine:
    return Engine(load_policy(name), backend=backend)  # type: ignore[arg-type]


@functools.cache
def _currency(name: str) -> str:
    """The first of a few currencies that the policy decides the example case in."""
    case = _a_case(name)
    for currency in ("CNY", "EUR", "USD", "GBP"):
        try:
            _engine(name, "python").decide(
                attrs.evolve(case, currency=currency), as_of="2026-04-03T12:00:00+08:00"
            )
        except InputError:
            continue
        return currency
    raise AssertionError(f"no currency decides under {name}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", POLICIES)
def test_a_decision_round_trips_through_its_json(name: str, backend: str) -> None:
    engine = _engine(name, backend)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(dated=dated_cases(name))
    def round_trip(dated: tuple[Case, Any]) -> None:
        case, as_of = dated
        # The kit draws currencies that a pack may refuse (ifrs9 sets its threshold in
        # EUR only): decide in a currency the policy accepts.
        case = attrs.evolve(case, currency=_currency(name))
        decision = engine.decide(case, as_of=as_of)
        text = decision.to_json()
        again = Decision.from_json(text, engine=backend)
        assert again.to_json() == text
        assert again.engine == backend
        # The zone of as_of is not in the JSON, only its offset: equal as instants.
        assert again.as_of.timestamp() == decision.as_of.timestamp()
        assert Decision.from_dict(decision.to_dict(), engine=backend).to_json() == text

    round_trip()


def _a_case(name: str) -> Case:
    policy = load_policy(name)
    data = json.loads((CASES / "q4_moving_assets.json").read_text(encoding="utf-8"))
    known = set(policy.signals)
    data["signals"] = [s for s in data.get("signals", []) if s["kind"] in known]
    return Case.from_dict(data, signal_kinds=tuple(policy.signals))


def _decision() -> dict[str, Any]:
    case = _a_case("default")
    return _engine("default", "python").decide(case, as_of="2026-04-03T12:00:00+08:00").to_dict()


def test_bad_decision_data_names_every_invalid_field() -> None:
    data = _decision()
    data["allowed"][0]["remedy"] = "litigat"
    data["quadrant"] = {"value": "Q5"}
    data["trace"][0]["cites"] = "Q1"
    del data["case_id"]
    data["as_of"] = "2026-04-03T12:00:00"
    data["extra"] = 1
    with pytest.raises(InputError) as info:
        Decision.from_dict(data, source="d.json", remedies=load_policy("default").remedies)
    text = str(info.value)
    assert "allowed[0].remedy: unknown remedy 'litigat' (did you mean 'litigate'?)" in text
    assert "quadrant.value: unknown quadrant 'Q5'" in text
    assert "trace[0].cites: expected an array, got a string" in text
    assert "d.json: case_id: required" in text
    assert "as_of: expected an ISO 8601 instant with an offset" in text
    assert "extra: unknown key" in text


@pytest.mark.parametrize(
    "score", [10**400, -(10**400), 10**100_000], ids=["400 digits", "-400 digits", "100,001 digits"]
)
def test_a_score_past_a_floats_range_is_named(score: int) -> None:
    data = _decision()
    data["levels"]["quadrant"]["score"] = score
    with pytest.raises(InputError) as info:
        Decision.from_dict(data)
    assert str(info.value) == (
        "levels.quadrant.score: expected a number within a float's range (about ±1.8e308),"
        " got a larger one"
    )


@pytest.mark.parametrize("label", ["label_en", "label_zh"])
@pytest.mark.parametrize("value", [7, None, ["Q1"]])
def test_a_quadrant_label_that_is_not_text_is_named(label: str, value: object) -> None:
    """The quadrant's labels are rebuilt from its value, as the remedies' are; as theirs,
    they are checked to be text first."""
    data = _decision()
    data["quadrant"][label] = value
    with pytest.raises(InputError) as info:
        Decision.from_dict(data)
    assert f"quadrant.{label}: expected a string, got" in str(info.value)


def test_a_key_given_as_text_and_as_another_type_is_named() -> None:
    """JSON's keys are text: a mapping of hand-built data holding 1 and "1" would lose one
    of the two values when read, and is refused instead."""
    data = _decision()
    data["facts"] = {**data["facts"], 1: "one", "1": "also one"}
    with pytest.raises(InputError) as info:
        Decision.from_dict(data)
    assert "facts.1: a key given twice (as text and as another type)" in str(info.value)
    data["facts"].pop(1)
    assert Decision.from_dict(data).facts["1"] == "also one"


@pytest.mark.parametrize("key", ["_json", "_build", "_written"])
def test_what_a_decision_keeps_for_itself_is_not_data(key: str) -> None:
    """The fields and slots a decision and its parts keep for themselves (the written
    JSON, the pending build) are unknown keys in data, as any other."""
    data = _decision()
    data[key] = "x"
    data["trace"][0][key] = "x"
    with pytest.raises(InputError) as info:
        Decision.from_dict(data)
    text = str(info.value)
    assert f"{key}: unknown key" in text
    assert f"trace[0].{key}: unknown key" in text


def test_another_schema_version_or_non_json_is_refused() -> None:
    data = _decision()
    other = str(int(SCHEMA_VERSION) + 1)
    data["schema_version"] = other
    with pytest.raises(
        InputError, match=f"schema_version: expected '{SCHEMA_VERSION}', got '{other}'"
    ):
        Decision.from_dict(data)
    with pytest.raises(InputError, match="not JSON"):
        Decision.from_json("{not json")
    with pytest.raises(InputError, match="expected an object, got an array"):
        Decision.from_json("[]")


@attrs.frozen
class _Extra:
    on: dt.date
    how: Literal["a", "b"]


def test_the_reader_handles_dates_and_literals_of_a_model() -> None:
    reader = decision_io._Reader("x.json")
    assert reader.value(_Extra, {"on": "2026-04-03", "how": "a"}, "extra") == _Extra(
        dt.date(2026, 4, 3), "a"
    )
    reader.value(_Extra, {"on": "2026-13-01", "how": "c"}, "extra")
    assert [str(p) for p in reader.problems] == [
        "x.json: extra.on: expected a date as YYYY-MM-DD, got '2026-13-01'",
        "x.json: extra.how: expected one of 'a', 'b'",
    ]


def test_a_remedy_outside_the_standard_catalogue_reads_back_with_its_labels() -> None:
    data = _decision()
    data["allowed"][0].update(
        remedy="credit_bureau_report", label_en="credit bureau report", label_zh="报送征信"
    )
    decision = Decision.from_dict(data)
    grant = decision.allowed[0]
    assert grant.remedy == "credit_bureau_report"
    assert type(grant.remedy) is str
    assert (grant.label_en, grant.label_zh) == ("credit bureau report", "报送征信")
    assert decision.to_dict() == data
    standard = Decision.from_dict(_decision())
    assert all(type(g.remedy) is Remedy for g in standard.allowed)


def test_a_remedy_name_must_be_snake_case() -> None:
    data = _decision()
    data["allowed"][0]["remedy"] = "Credit Report"
    with pytest.raises(InputError) as info:
        Decision.from_dict(data)
    assert "allowed[0].remedy: expected a snake_case remedy name, got 'Credit Report'" in str(
        info.value
    )
