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
from collectrules._json import schema_pattern
from collectrules.cli import main
from collectrules.compliance import buckets, guardrails, regulatory
from collectrules.model.remedies import Remedy
from collectrules.policy import loader as policy_module
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import policy_schema, schema_text, shipped_schema
from collectrules.sections import SECTIONS
from collectrules.timeline import stages

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
    assert set(schema["properties"]) == policy_module._TOP_KEYS | {s.key for s in SECTIONS}
    assert tuple(defs["parameter"]["properties"]) == policy_module._PARAMETER_KEYS
    assert tuple(defs["signal"]["properties"]) == policy_module._SIGNAL_KEYS
    assert tuple(defs["layer"]["properties"]) == policy_module._LAYER_KEYS
    assert tuple(defs["layer_rule"]["properties"]) == policy_module._LAYER_RULE_KEYS
    assert tuple(defs["remedies"]["properties"]) == policy_module._REMEDIES_KEYS
    assert tuple(defs["remedy_rule"]["properties"]) == policy_module._REMEDY_RULE_KEYS
    # The standard remedies, or a snake_case name of the policy's own catalogue.
    assert defs["remedy"]["anyOf"][0]["enum"] == [r.value for r in Remedy]
    assert defs["remedy"]["anyOf"][1]["pattern"] == schema_pattern(policy_module._KIND)
    # ECMA-262 has no \Z, and Python's $ also matches before a final line break.
    assert schema_pattern(policy_module._KIND) == "^[a-z][a-z0-9_]*$(?!\\n)"
    assert tuple(defs["catalogue_remedy"]["properties"]) == policy_module._REMEDY_SPEC_KEYS
    assert tuple(defs["catalogue_product"]["properties"]) == policy_module._PRODUCT_SPEC_KEYS
    assert tuple(defs["named_condition"]["oneOf"][1]["properties"]) == (
        policy_module._CONDITION_KEYS
    )
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


# (where a name ends in a line break, a function that puts it there)
LINE_BREAK = {
    "policy id": lambda d: d.update(id="m\n"),
    "standard remedy": lambda d: d["remedies"]["rules"][0].update(remedy="remind\n"),
    "own remedy": lambda d: d["remedies"]["rules"][0].update(remedy="my_own\n"),
    "signal kind": lambda d: d.update(signals={"refused\n": d["signals"]["refused"]}),
    "parameter name": lambda d: d.update(parameters={"limit\n": {"value": 3}}),
    "rule id": lambda d: d["remedies"]["rules"][0].update(id="R-1\n"),
    "envelope quadrant": lambda d: d.update(envelopes={"Q1\n": {"remedies": ["remind"]}}),
}


@pytest.mark.parametrize("where", list(LINE_BREAK))
def test_a_name_ending_in_a_line_break_fails_the_schema_and_the_loader_alike(where: str) -> None:
    # jsonschema runs patterns with Python's re, whose $ also matches before a final
    # line break: each pattern ends in $(?!\n), the end of the text in both dialects.
    data = json.loads(json.dumps(MINIMAL))
    LINE_BREAK[where](data)
    assert list(VALIDATOR.iter_errors(data)), where
    with pytest.raises(PolicyError):
        policy_from_dict(data)


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
        (("remedies", "rules", 0, "remedy"), "Sue!"),
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


# ------------------------------------------------------------------ optional sections


def _shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((SHIPPED / f"{name}.toml").read_text(encoding="utf-8"))
    return data


def _first(table: dict[str, Any]) -> Any:
    return next(iter(table.values()))


# (where to put the typo'd key, the shipped policy, a function that puts it there)
SECTION_TYPOS = {
    "timeline": ("default", lambda d: d["timeline"].update(calender={"country": "CN"})),
    "timeline calendar": ("default", lambda d: d["timeline"]["calendar"].update(contry="CN")),
    "timeline stage": (
        "default",
        lambda d: d["timeline"]["plans"]["loan"][0].update(withn="3 days"),
    ),
    "timeline deadlines": (
        "default",
        lambda d: d["timeline"]["deadlines"].update(warning_day=3),
    ),
    "timeline period": (
        "default",
        lambda d: d["timeline"]["deadlines"]["limitation"].update(enable=True),
    ),
    "regulation pack": ("cn_bank_loan", lambda d: _first(d["regulation"]).update(fcat="x")),
    "regulation pack, a key of the other kind": (
        "cn_bank_loan",
        lambda d: _first(d["regulation"]).update(relative=0.01),
    ),
    "regulation class": (
        "cn_bank_loan",
        lambda d: _first(d["regulation"])["classes"][1].update(ovr_dpd=30),
    ),
    # (its own pack: the first, the default's HOURS pack, is switched off there, and a
    # pack switched off is not read)
    "guardrails pack": ("cn_bank_loan", lambda d: d["guardrails"]["CN"].update(rule=[])),
    "guardrails rule": (
        "cn_bank_loan",
        lambda d: d["guardrails"]["CN"]["rules"][0].update(chanels=["phone"]),
    ),
    "guardrails rule, a key of another kind": (
        "default",
        lambda d: next(
            r for r in _first(d["guardrails"])["rules"] if r["kind"] != "time_barred"
        ).update(years=3),
    ),
    "buckets set": ("cn_bank_loan", lambda d: _first(d["buckets"]).update(ranges_=[])),
    "buckets range": (
        "cn_bank_loan",
        lambda d: _first(d["buckets"])["ranges"][0].update(max_dpdd=3),
    ),
}


def test_the_section_schemas_have_exactly_the_parsers_keys() -> None:
    defs = policy_schema()["$defs"]
    assert tuple(defs["timeline"]["properties"]) == stages.TIMELINE_KEYS
    assert tuple(defs["calendar"]["properties"]) == stages.CALENDAR_KEYS
    assert tuple(defs["stage"]["properties"]) == stages.STAGE_KEYS
    assert tuple(defs["deadlines"]["properties"]) == stages.DEADLINE_KEYS
    for name, keys in stages.PERIOD_KEYS.items():
        assert tuple(defs[name]["properties"]) == keys
    assert set(defs["regulation_pack"]["else"]["properties"]) == {
        *regulatory.LADDER_KEYS,
        *regulatory.MATERIALITY_KEYS,
        *regulatory.REAGE_KEYS,
    }
    assert tuple(defs["ladder_class"]["properties"]) == regulatory.LADDER_CLASS_KEYS
    assert tuple(defs["guardrail_pack"]["else"]["properties"]) == guardrails.PACK_KEYS
    rule = defs["guardrail_rule"]
    assert set(rule["properties"]) == {
        *guardrails.RULE_KEYS,
        *(k for keys in guardrails.KIND_KEYS.values() for k in keys),
    }
    assert rule["properties"]["kind"]["enum"] == [k.value for k in guardrails.RuleKind]
    assert tuple(defs["bucket_set"]["else"]["properties"]) == buckets.SET_KEYS
    assert tuple(defs["bucket_range"]["properties"]) == buckets.RANGE_KEYS
    assert defs["regulation_pack"]["else"]["properties"]["kind"]["enum"] == [
        k.value for k in regulatory.PackKind
    ]
    assert defs["stage"]["properties"]["channel"]["enum"] == [c.value for c in stages.Channel]
    named, listed = defs["stage"]["properties"]["anchor"]["oneOf"]
    assert named["enum"][:3] == ["due_date", "overdue_start", "condition"]
    assert listed["items"] == {"$ref": "#/$defs/event_matcher"}


@pytest.mark.parametrize("where", list(SECTION_TYPOS))
def test_a_typo_in_a_section_fails_the_schema_and_the_loader_alike(where: str) -> None:
    name, put = SECTION_TYPOS[where]
    data = _shipped(name)
    assert not list(VALIDATOR.iter_errors(data))
    policy_from_dict(json.loads(json.dumps(data)))
    put(data)
    assert list(VALIDATOR.iter_errors(data)), where
    with pytest.raises(PolicyError, match="unknown key"):
        policy_from_dict(data)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("3 days", True), ("5 Business Days", True), ("24h", True), ("3 fortnights", False)],
)
def test_stage_offsets_follow_the_parser(value: str, valid: bool) -> None:
    data = _shipped("default")
    data["timeline"]["plans"]["loan"][0]["within"] = value
    data["timeline"]["plans"]["loan"][0].pop("after", None)
    data["timeline"]["plans"]["loan"][0].pop("limit", None)
    assert (not list(VALIDATOR.iter_errors(data))) == valid
    if valid:
        policy_from_dict(data)
    else:
        with pytest.raises(PolicyError):
            policy_from_dict(data)


def test_a_disabled_pack_is_not_checked_by_either() -> None:
    data = _shipped("cn_bank_loan")
    _first(data["buckets"]).update(enabled=False, stray="x")
    assert not list(VALIDATOR.iter_errors(data))
    policy_from_dict(data)
