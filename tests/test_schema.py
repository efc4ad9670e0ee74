"""The JSON Schema of policy files: generated from the model, shipped, and in step."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from tests.policy_strategies import policies

from collectrules import PolicyError, available_policies
from collectrules import policy as policy_module
from collectrules.cli import main
from collectrules.policy import policy_from_dict
from collectrules.remedies import Remedy
from collectrules.schema import policy_schema, schema_text, shipped_schema

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "src" / "collectrules" / "policies"
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())


def test_the_shipped_schema_is_the_generated_one() -> None:
    # If this fails: collectrules schema > src/collectrules/schema/policy.schema.json
    assert shipped_schema() == policy_schema()
    path = ROOT / "src" / "collectrules" / "schema" / "policy.schema.json"
    assert path.read_text(encoding="utf-8") == schema_text()


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(policy_schema())


def test_the_schema_has_exactly_the_keys_the_loader_accepts() -> None:
    schema = policy_schema()
    defs = schema["$defs"]
    assert set(schema["properties"]) == policy_module._TOP_KEYS
    assert tuple(defs["parameter"]["properties"]) == policy_module._PARAMETER_KEYS
    assert tuple(defs["signal"]["properties"]) == policy_module._SIGNAL_KEYS
    assert tuple(defs["layer"]["properties"]) == policy_module._LAYER_KEYS
    assert tuple(defs["layer_rule"]["properties"]) == policy_module._LAYER_RULE_KEYS
    assert tuple(defs["remedies"]["properties"]) == policy_module._REMEDIES_KEYS
    assert tuple(defs["remedy_rule"]["properties"]) == policy_module._REMEDY_RULE_KEYS
    assert defs["remedy"]["enum"] == [r.value for r in Remedy]
    assert defs["layer"]["properties"]["hit_policy"]["enum"] == [
        "first",
        "priority",
        "collect_sum",
        "unique",
    ]


@pytest.mark.parametrize("name", available_policies())
def test_shipped_policies_validate(name: str) -> None:
    data = tomllib.loads((SHIPPED / f"{name}.toml").read_text(encoding="utf-8"))
    errors = [e.message for e in VALIDATOR.iter_errors(data)]
    assert not errors


def test_test_and_example_policies_validate() -> None:
    files = [
        *sorted((ROOT / "tests" / "policies").glob("*.toml")),
        ROOT / "examples" / "custom_policy" / "policy.toml",
    ]
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert not list(VALIDATOR.iter_errors(data)), path


MINIMAL: dict[str, Any] = {
    "id": "m",
    "signals": {"refused": {"dimension": "willingness", "polarity": "negative"}},
    "parameters": {"limit": {"value": 3}},
    "layers": [
        {
            "id": "quadrant",
            "values": ["Q1", "Q3"],
            "default": "Q1",
            "rules": [{"id": "Q-3", "when": "refused >= limit", "value": "Q3"}],
        }
    ],
    "remedies": {
        "conflict": "block_wins",
        "rules": [{"id": "R-1", "effect": "allow", "remedy": "remind", "reason": "r"}],
    },
}

# (where to put the stray key, a function that puts it there)
STRAY = {
    "top": lambda d: d.update(titel="x"),
    "parameter": lambda d: d["parameters"]["limit"].update(valeu=1),
    "signal": lambda d: d["signals"]["refused"].update(polarty="negative"),
    "layer": lambda d: d["layers"][0].update(hitpolicy="first"),
    "layer rule": lambda d: d["layers"][0]["rules"][0].update(wen="refused >= 1"),
    "remedies": lambda d: d["remedies"].update(conflicts="block_wins"),
    "remedy rule": lambda d: d["remedies"]["rules"][0].update(reasons="r"),
}


def test_the_minimal_policy_passes_both() -> None:
    assert not list(VALIDATOR.iter_errors(MINIMAL))
    policy_from_dict(MINIMAL)


@pytest.mark.parametrize("where", list(STRAY))
def test_a_stray_key_fails_the_schema_and_the_loader_alike(where: str) -> None:
    data = json.loads(json.dumps(MINIMAL))
    STRAY[where](data)
    assert list(VALIDATOR.iter_errors(data)), where
    with pytest.raises(PolicyError, match="unknown key"):
        policy_from_dict(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("layers", 0, "hit_policy"), "fist"),
        (("remedies", "conflict"), "blocks_win"),
        (("remedies", "rules", 0, "effect"), "permit"),
        (("remedies", "rules", 0, "remedy"), "sue"),
        (("signals", "refused", "polarity"), "bad"),
        (("parameters", "limit", "status"), "X"),
    ],
)
def test_bad_enumerations_fail_the_schema_and_the_loader_alike(
    path: tuple[Any, ...], value: str
) -> None:
    data = json.loads(json.dumps(MINIMAL))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert list(VALIDATOR.iter_errors(data))
    with pytest.raises(PolicyError):
        policy_from_dict(data)


@settings(max_examples=60, deadline=None)
@given(policies())
def test_every_policy_that_loads_validates(data: dict[str, Any]) -> None:
    policy_from_dict(data)
    assert not [e.message for e in VALIDATOR.iter_errors(data)]


def test_the_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == policy_schema()


def test_the_format_reference_documents_every_key() -> None:
    text = (ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")
    schema = policy_schema()
    keys = set(schema["properties"])
    for name in ("parameter", "signal", "layer", "layer_rule", "remedies", "remedy_rule", "clause"):
        keys |= set(schema["$defs"][name]["properties"])
    missing = sorted(k for k in keys if f"| `{k}` |" not in text)
    assert not missing
    for remedy in Remedy:
        assert f"| `{remedy.value}` |" in text
