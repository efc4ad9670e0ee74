"""The JSON Schemas of a case and a decision: generated from the model, shipped, in step."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from collectrules import Engine, InputError, available_policies, load_policy
from collectrules.cli import main
from collectrules.model.case import Case
from collectrules.model.decision import SCHEMA_VERSION
from collectrules.model.schema import (
    case_schema,
    decision_schema,
    model_schema_text,
    shipped_model_schema,
)
from collectrules.policy.schema import schema_text
from collectrules.testing.strategies import dated_cases

ROOT = Path(__file__).parent.parent
SCHEMAS = ROOT / "src" / "collectrules" / "schema"
CASE_FILES = sorted((ROOT / "examples").rglob("*.json"))
AS_OF = "2026-04-03T12:00:00+08:00"
CASE = jsonschema.Draft202012Validator(case_schema())
DECISION = jsonschema.Draft202012Validator(decision_schema())


@pytest.mark.parametrize("kind", ["case", "decision"])
def test_the_shipped_schemas_are_the_generated_ones(kind: str) -> None:
    # If this fails: collectrules schema --kind KIND > src/collectrules/schema/KIND.schema.json
    assert (SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8") == model_schema_text(kind)
    assert shipped_model_schema(kind) == json.loads(model_schema_text(kind))


def test_they_are_valid_draft_2020_12_schemas() -> None:
    jsonschema.Draft202012Validator.check_schema(case_schema())
    jsonschema.Draft202012Validator.check_schema(decision_schema())


def test_the_case_schema_has_exactly_the_fields_of_a_case() -> None:
    schema = case_schema()
    assert list(schema["properties"]) == [f.name for f in attrs.fields(Case)]
    required = [f.name for f in attrs.fields(Case) if f.default is attrs.NOTHING]
    assert schema["required"] == required
    assert schema["additionalProperties"] is False


def _case_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "examples" / "cases" / name).read_text("utf-8"))
    return data


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_example_case_is_valid(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not [e.message for e in CASE.iter_errors(data)]
    Case.from_dict(data, signal_kinds=tuple(load_policy("default").signals))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"principal": -1}, "principal"),
        ({"currency": "rmb"}, "currency"),
        ({"due_date": 20260101}, "due_date"),
        ({"product": "Mortgage"}, "product"),
        ({"colour": "red"}, None),
        ({"signals": [{"kind": "refused_to_pay"}]}, "signals"),
    ],
)
def test_the_case_schema_refuses_what_from_dict_refuses(
    change: dict[str, Any], field: str | None
) -> None:
    data = {**_case_data("q1_travelling.json"), **change}
    errors = list(CASE.iter_errors(data))
    assert errors
    if field is not None:
        assert any(field in e.json_path for e in errors)
    with pytest.raises(InputError):
        Case.from_dict(data, signal_kinds=tuple(load_policy("default").signals))


@functools.cache
def _engine(name: str) -> Engine:
    return Engine(load_policy(name), backend="python")


@pytest.mark.parametrize("name", available_policies())
def test_generated_decisions_are_valid(name: str) -> None:
    engine = _engine(name)
    currency = "EUR" if name == "ifrs9" else None

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(dated=dated_cases(name))
    def valid(dated: tuple[Case, Any]) -> None:
        case, as_of = dated
        if currency is not None:
            case = attrs.evolve(case, currency=currency)
        decision = json.loads(engine.decide(case, as_of=as_of).to_json())
        assert not [e.message for e in DECISION.iter_errors(decision)]

    valid()


def test_the_decision_schema_refuses_a_broken_decision() -> None:
    case = Case.from_dict(
        _case_data("q4_moving_assets.json"), signal_kinds=tuple(load_policy("default").signals)
    )
    data = json.loads(_engine("default").decide(case, as_of=AS_OF).to_json())
    assert not list(DECISION.iter_errors(data))
    broken = {**data, "quadrant": {"value": "Q5", "label_en": "", "label_zh": ""}}
    assert list(DECISION.iter_errors(broken))
    assert list(DECISION.iter_errors({**data, "schema_version": str(int(SCHEMA_VERSION) + 1)}))
    del data["trace"]
    assert list(DECISION.iter_errors(data))


@pytest.mark.parametrize("kind", ["policy", "case", "decision"])
def test_collectrules_schema_prints_each_kind(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "--kind", kind]) == 0
    out = capsys.readouterr().out
    assert out == (schema_text() if kind == "policy" else model_schema_text(kind))
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
