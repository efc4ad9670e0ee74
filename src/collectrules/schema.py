"""The JSON Schema of policy files, generated from the policy model.

:func:`policy_schema` builds the schema from what the loader accepts: the keys of every
table (``collectrules.policy``'s key lists), the enumerations (hit policies, remedy
effects, conflict rules, remedies, signal dimensions and polarities) and the patterns
of ids and names. The package ships the result as ``schema/policy.schema.json``, and a
test keeps the two equal; ``collectrules schema`` prints it.

Editors validate a TOML policy against it (Taplo, Even Better TOML: add
``#:schema <path>`` at the top of the file) as they do a YAML or JSON one. The schema
checks the shape of a file; only the loader can check what depends on the policy
itself, such as the field names a condition reads, and only the verifier what depends
on the rules together.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from collectrules import policy as _policy
from collectrules.clauses import CLAUSE_ID, CLAUSE_KEYS
from collectrules.conditions import MAX_TEXT
from collectrules.remedies import Remedy

__all__ = ["SCHEMA_ID", "policy_schema", "schema_text", "shipped_schema"]

#: The ``$id`` of the policy schema.
SCHEMA_ID = "urn:collectrules:schema:policy:1"

_CITES = {"$ref": "#/$defs/cites"}
_CONDITION = {"$ref": "#/$defs/condition"}
_TEXT = {"type": "string"}


def _strings(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }


# Every key of every table: its schema, with a description. Each table's keys must be
# exactly the loader's (see _table), so that a key added to the loader without a line
# here, or the other way round, fails loudly.
_PARAMETER = {
    "value": {
        "description": "The figure: a number, a string or a boolean. Rules refer to "
        "it by the parameter's name.",
        "type": ["number", "string", "boolean"],
    },
    "doc": {**_TEXT, "description": "What the figure means and why it was chosen."},
    "cites": {**_CITES, "description": "Clause ids the figure comes from."},
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the figure open and the policy chose it.",
    },
    "status": {
        "enum": ["V", "S"],
        "description": "For a figure from REGULATION.md: V when seen in the text of "
        "the law, S when seen only in secondary sources.",
    },
}
_SIGNAL = {
    "dimension": {
        "enum": ["willingness", "ability"],
        "description": "Which side of the debtor the signal tells about.",
    },
    "polarity": {
        "enum": ["negative", "positive", "measured"],
        "description": "negative and positive signals are counted; a measured "
        "signal carries a value (its latest value in the window is read).",
    },
    "label_en": {**_TEXT, "description": "English label."},
    "label_zh": {**_TEXT, "description": "Chinese label."},
    "cites": {**_CITES, "description": "Clause ids that name the signal."},
}
_LAYER = {
    "id": {
        "type": "string",
        "description": "The layer's id; a child policy that uses a "
        "base layer's id changes that layer.",
    },
    "output": {
        "type": "string",
        "pattern": _policy._KIND.pattern,
        "description": "The field the layer gives, which later layers and the "
        "remedies read (default: the id).",
    },
    "values": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "description": "The values the layer may give, from the most to the least "
        "favourable to the debtor.",
    },
    "hit_policy": {
        "enum": [h.value for h in _policy.HitPolicy],
        "default": "first",
        "description": "How the matching rules combine: first, priority, collect_sum or unique.",
    },
    "default": {
        "type": "string",
        "description": "The value when no rule matches (collect_sum: below every "
        "band). Without it, a case that no rule matches cannot be decided.",
    },
    "bands": {
        "type": "array",
        "items": {"$ref": "#/$defs/band"},
        "description": "collect_sum only: the highest band whose min the score "
        "reaches gives the value.",
    },
    "rules": {
        "type": "array",
        "items": {"$ref": "#/$defs/layer_rule"},
        "description": "The layer's rules, in order.",
    },
    "labels": {
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 2,
            "maxItems": 2,
        },
        "description": "Labels of the values: value = [english, chinese].",
    },
    "cites": {**_CITES, "description": "Clause ids of the layer as a whole."},
    "doc": {**_TEXT, "description": "What the layer decides."},
}
_LAYER_RULE = {
    "id": {
        "type": "string",
        "pattern": _policy._ID.pattern,
        "description": "The rule's id, unique in the policy; traces name it.",
    },
    "when": {**_CONDITION, "description": "The condition; empty or missing: always."},
    "value": {
        "type": "string",
        "description": "The layer value the rule gives (not for collect_sum).",
    },
    "score": {
        "type": "number",
        "default": 0,
        "description": "collect_sum only: what the rule adds to the score.",
    },
    "priority": {
        "type": "integer",
        "default": 0,
        "description": "priority only: the highest matching priority wins.",
    },
    "reason": {**_TEXT, "description": "Why, in a sentence; traces show it."},
    "cites": {**_CITES, "description": "Clause ids the rule encodes."},
}
_REMEDIES = {
    "conflict": {
        "enum": [c.value for c in _policy.ConflictRule],
        "default": "unspecified",
        "description": "What happens when a remedy is both allowed and blocked "
        "for a case: block_wins, allow_wins, or unspecified (it is blocked, and "
        "collectrules check reports the conflict).",
    },
    "rules": {
        "type": "array",
        "items": {"$ref": "#/$defs/remedy_rule"},
        "description": "The remedy rules; every matching rule applies.",
    },
}
_REMEDY_NAMES = {
    "oneOf": [
        {"$ref": "#/$defs/remedy"},
        {"type": "array", "items": {"$ref": "#/$defs/remedy"}, "minItems": 1},
    ]
}
_REMEDY_RULE = {
    "id": {
        "type": "string",
        "pattern": _policy._ID.pattern,
        "description": "The rule's id, unique in the policy.",
    },
    "effect": {
        "enum": [e.value for e in _policy.RemedyEffect],
        "description": "allow, block or require (a required remedy is allowed and must be used).",
    },
    "remedy": {**_REMEDY_NAMES, "description": "One remedy or a list (same as remedies)."},
    "remedies": {**_REMEDY_NAMES, "description": "The remedies the rule acts on."},
    "when": {**_CONDITION, "description": "The condition; empty or missing: always."},
    "reason": {**_TEXT, "description": "Why; decisions show it with the grant or block."},
    "conditions": {
        "type": "array",
        "items": {"type": "string"},
        "description": "allow and require: the terms under which the remedy may be used.",
    },
    "cites": {**_CITES, "description": "Clause ids the rule encodes."},
}
_CLAUSE = {
    "title": {**_TEXT, "description": "What the clause says."},
    "source": {**_TEXT, "description": "The document it comes from (default: the policy file)."},
    "section": {**_TEXT, "description": "Where in that document."},
}
_SECTION_DOCS = {
    "timeline": "Stage plans, calendars and legal deadlines: see docs/reference-stages.md.",
    "regulation": "Regulatory classification packs: see docs/packs/.",
    "guardrails": "Contact guardrails: see docs/packs/.",
    "buckets": "Delinquency bucket sets: see docs/packs/.",
}
_TOP = {
    "schema_version": {
        "enum": [_policy.FORMAT_VERSION],
        "description": f'The version of this format: "{_policy.FORMAT_VERSION}".',
    },
    "id": {
        "type": "string",
        "pattern": _policy._ID.pattern,
        "description": "The policy's id; decisions name it. A child policy inherits its "
        "base's id unless it gives one.",
    },
    "version": {
        "type": "string",
        "default": "0",
        "description": "The policy's version, as a string.",
    },
    "title": {**_TEXT, "description": "A short title (default: the id)."},
    "description": {**_TEXT, "description": "What the policy is for."},
    "notes": _strings("Notes on the choices the policy makes."),
    "extends": {
        "type": "string",
        "description": "The base policy: a shipped name such as "
        '"default", or a path relative to this file.',
    },
    "disable": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Ids of base rules to remove (needs extends).",
    },
    "parameters": {
        "type": "object",
        "propertyNames": {"pattern": _policy._KIND.pattern},
        "additionalProperties": {
            "oneOf": [{"type": ["number", "string", "boolean"]}, {"$ref": "#/$defs/parameter"}]
        },
        "description": "Named figures that rules refer to by name.",
    },
    "signals": {
        "type": "object",
        "propertyNames": {"pattern": _policy._KIND.pattern},
        "additionalProperties": {"$ref": "#/$defs/signal"},
        "description": "The signal kinds the policy knows: its vocabulary.",
    },
    "layers": {
        "type": "array",
        "items": {"$ref": "#/$defs/layer"},
        "description": "Classification layers, in order; each layer's output is a "
        "field for the layers after it.",
    },
    "remedies": {"$ref": "#/$defs/remedies"},
    "clauses": {
        "type": "object",
        "propertyNames": {"pattern": CLAUSE_ID.pattern},
        "additionalProperties": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/clause"}]},
        "description": "The policy's own clauses, which its rules may cite beside "
        "the ids of DOMAIN.md and REGULATION.md.",
    },
    **{key: {"type": "object", "description": text} for key, text in _SECTION_DOCS.items()},
}


def _table(
    keys: tuple[str, ...] | set[str], spec: dict[str, Any], required: list[str], description: str
) -> dict[str, Any]:
    missing = [k for k in keys if k not in spec]
    extra = [k for k in spec if k not in keys]
    if missing or extra:
        msg = (
            f"the schema of {description!r} is out of step with the loader: "
            f"missing {missing}, extra {extra}"
        )
        raise AssertionError(msg)
    ordered = [k for k in spec if k in keys]
    return {
        "type": "object",
        "description": description,
        "properties": {k: spec[k] for k in ordered},
        "required": required,
        "additionalProperties": False,
    }


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, as a dict."""
    remedies = [r.value for r in Remedy]
    top = _table(_policy._TOP_KEYS, _TOP, [], "A collectrules policy.")
    top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    top["$id"] = SCHEMA_ID
    top["title"] = "collectrules policy"
    top["anyOf"] = [{"required": ["id"]}, {"required": ["extends"]}]
    remedy_rule = _table(
        _policy._REMEDY_RULE_KEYS,
        _REMEDY_RULE,
        ["id", "effect", "reason"],
        "A remedy rule: allows, blocks or requires remedies.",
    )
    remedy_rule["anyOf"] = [{"required": ["remedy"]}, {"required": ["remedies"]}]
    top["$defs"] = {
        "cites": _strings(
            "Clause ids: of DOMAIN.md, of REGULATION.md, or of the policy's own [clauses]."
        ),
        "condition": {
            "type": "string",
            "maxLength": MAX_TEXT,
            "description": "A condition in the condition language: comparisons of fields "
            "with constants or parameters (==, !=, <, <=, >, >=, low <= field <= high, "
            "in (...)), bare boolean fields, and, or, not, parentheses. Nothing else: no "
            "calls, attributes or arithmetic.",
            "examples": ["dpd > 30 and promise_broken >= 1", "quadrant in ('Q3', 'Q4')"],
        },
        "remedy": {"enum": remedies, "description": "A remedy."},
        "parameter": _table(
            _policy._PARAMETER_KEYS, _PARAMETER, ["value"], "A parameter: a named figure."
        ),
        "signal": _table(
            _policy._SIGNAL_KEYS, _SIGNAL, ["dimension", "polarity"], "A signal kind."
        ),
        "layer": _table(_policy._LAYER_KEYS, _LAYER, ["id"], "A classification layer."),
        "band": {
            "type": "object",
            "description": "A band of a collect_sum layer.",
            "properties": {
                "min": {"type": "number", "description": "The lowest score of the band."},
                "value": {"type": "string", "description": "The layer value."},
            },
            "required": ["min", "value"],
            "additionalProperties": False,
        },
        "layer_rule": _table(
            _policy._LAYER_RULE_KEYS, _LAYER_RULE, ["id"], "A rule of a classification layer."
        ),
        "remedies": _table(
            _policy._REMEDIES_KEYS, _REMEDIES, [], "The remedy rules and how conflicts resolve."
        ),
        "remedy_rule": remedy_rule,
        "clause": _table(CLAUSE_KEYS, _CLAUSE, ["title"], "A clause of the policy's own."),
    }
    ordered = {k: top[k] for k in ("$schema", "$id", "title", "description")}
    ordered.update({k: v for k, v in top.items() if k not in ordered})
    return ordered


def schema_text() -> str:
    """The schema as the text of the shipped file: two-space indented JSON, one final newline."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (``collectrules/schema/policy.schema.json``)."""
    res = resources.files("collectrules") / "schema" / "policy.schema.json"
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data
