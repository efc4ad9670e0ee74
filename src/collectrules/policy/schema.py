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
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from collectrules._arguments import wrong_kind
from collectrules._json import SCHEMA_END, schema_pattern
from collectrules.conditions import MAX_TEXT
from collectrules.errors import quote
from collectrules.model.case import ContactOutcome, EventKind, Product
from collectrules.model.remedies import Remedy, RemedyCategory
from collectrules.model.schema import _PY_SPACE
from collectrules.policy import loader as _policy
from collectrules.policy.model import ConflictRule, HitPolicy, RemedyEffect
from collectrules.policy.section import Section, installed_sections

__all__ = [
    "CITES",
    "CLOCK_PATTERN",
    "CONDITION",
    "DATE_PATTERN",
    "EVENT_MATCHERS",
    "POLICY_EXCEPTIONS",
    "PRODUCTS",
    "SCHEMA_ID",
    "SPACE",
    "TEXT",
    "any_case",
    "by_id",
    "cited_with",
    "figure",
    "one_or_many",
    "pack",
    "policy_schema",
    "schema_text",
    "shipped_schema",
    "table",
    "together",
    "whole",
]

#: The ``$id`` of the policy schema.
SCHEMA_ID = "urn:collectrules:schema:policy:1"

CITES = {"$ref": "#/$defs/cites"}
CONDITION = {"$ref": "#/$defs/condition"}
TEXT = {"type": "string"}


def _strings(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }


#: A rule id as the loader reads it: visible text of 1 to MAX_RULE_ID_LENGTH characters,
#: no space at either end, no control character or line separator (exception 5: the
#: loader also refuses format characters, look-alike letters and mixed scripts).
_RULE_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": _policy.MAX_RULE_ID_LENGTH,
    "pattern": rf"^(?![{_PY_SPACE}])(?!.*[{_PY_SPACE}]$)[^\x00-\x1f\x7f-\x9f\u2028\u2029]+"
    + SCHEMA_END,
}

#: What the schema cannot say and the loader checks: a policy that passes the schema
#: may still be refused for these, and for nothing else (tests/test_policy_schema_agreement.py).
POLICY_EXCEPTIONS = (
    "1. A condition is checked as text of at most 4,000 characters: its grammar, the "
    "fields it reads and the values it compares them with are the loader's to check.",
    "2. A name that must name something elsewhere in the policy or its base (a remedy, "
    "a parameter, a product, a signal, a layer value, a clause, a calendar, a pack, a rule "
    "to disable) is checked for its shape only. So, in a policy that extends another, is "
    "the key an entry new to the base needs: a parameter's value, a signal's dimension and "
    "polarity, a layer's values, a catalogue entry's labels, the calendar, the assets' "
    "sources and classes, the rule of money's max_months (the schema requires them only "
    "in a policy that extends none).",
    "3. Ids and names that must be unique across a table or the policy are not checked "
    "for uniqueness.",
    "4. Figures that must agree with each other (contact hours that start before they "
    "end, buckets that neither overlap nor leave gaps, an offset of at most ten years in "
    "its unit) and a parameter's value, checked where the parameter is used, are the "
    "loader's to check.",
    "5. A rule id is checked for its length, its ends and its line breaks; the loader also "
    "refuses format characters (a zero-width space), characters Unicode writes otherwise "
    "(a fullwidth letter), digits other than 0-9, look-alike letters and mixed scripts.",
    "6. JSON has no NaN or infinity: a TOML nan or inf, which the loader refuses, is not "
    "judged by the schema.",
    "7. A JSON Schema integer may be written with a decimal point (3.0); where the loader "
    "wants a whole number it refuses one written so.",
)

# Every key of every table: its schema, with a description. Each table's keys must be
# exactly the loader's (see _table), so that a key added to the loader without a line
# here, or the other way round, fails loudly.
_PARAMETER = {
    "value": {
        "description": "The figure: a number, a string or a boolean. Rules refer to "
        "it by the parameter's name.",
        "type": ["number", "string", "boolean"],
    },
    "doc": {**TEXT, "description": "What the figure means and why it was chosen."},
    "cites": {**CITES, "description": "Clause ids the figure comes from."},
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the figure open and the policy chose it.",
    },
    "status": {
        "enum": ["V", "S", None],
        "description": "For a figure from REGULATION.md: V when seen in the text of "
        "the law, S when seen only in secondary sources (null: neither, which in a child "
        "policy removes the base's).",
    },
}
_SIGNAL = {
    "dimension": {
        "enum": ["willingness", "ability", "contact"],
        "description": "Which side of the debtor the signal tells about (contact: whether "
        "the debtor can be reached, a timeline matter).",
    },
    "polarity": {
        "enum": ["negative", "positive", "measured"],
        "description": "negative and positive signals are counted; a measured "
        "signal carries a value (its latest value in the window is read).",
    },
    "label_en": {**TEXT, "description": "English label."},
    "label_zh": {**TEXT, "description": "Chinese label."},
    "cites": {**CITES, "description": "Clause ids that name the signal."},
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts do not give the signal and the policy "
        "chose it; doc says why.",
    },
    "doc": {**TEXT, "description": "What the signal means; for a chosen one, why."},
}
_LAYER = {
    "id": {
        "type": "string",
        "description": "The layer's id; a child policy that uses a "
        "base layer's id changes that layer.",
    },
    "output": {
        "type": "string",
        "pattern": schema_pattern(_policy._KIND),
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
        "enum": [h.value for h in HitPolicy],
        "default": "first",
        "description": "How the matching rules combine: first, priority, collect_sum or unique.",
    },
    "default": {
        "type": ["string", "null"],
        "description": "The value when no rule matches (collect_sum: below every "
        "band). Without it (or null, which in a child policy removes the base's), a case "
        "that no rule matches cannot be decided.",
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
    "cites": {**CITES, "description": "Clause ids of the layer as a whole."},
    "doc": {**TEXT, "description": "What the layer decides."},
}
_LAYER_RULE = {
    "id": {
        **_RULE_ID,
        "description": "The rule's id, unique in the policy; traces name it.",
    },
    "when": {**CONDITION, "description": "The condition; empty or missing: always."},
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
    "reason": {**TEXT, "description": "Why, in a sentence; traces show it."},
    "cites": {**CITES, "description": "Clause ids the rule encodes."},
    "presumed": {
        "type": "boolean",
        "default": False,
        "description": "True when the value the rule gives is a presumption drawn from "
        "silence, not from evidence; decisions mark the level presumed.",
    },
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts do not give the rule and the policy "
        "chose it; doc says why.",
    },
    "doc": {**TEXT, "description": "More about the rule; for a chosen one, why."},
}
_REMEDIES = {
    "conflict": {
        "enum": [c.value for c in ConflictRule],
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
    "id": {**_RULE_ID, "description": "The rule's id, unique in the policy."},
    "effect": {
        "enum": [e.value for e in RemedyEffect],
        "description": "allow, block or require (a required remedy is allowed and must be used).",
    },
    "remedy": {**_REMEDY_NAMES, "description": "One remedy or a list (same as remedies)."},
    "remedies": {**_REMEDY_NAMES, "description": "The remedies the rule acts on."},
    "when": {**CONDITION, "description": "The condition; empty or missing: always."},
    "reason": {**TEXT, "description": "Why; decisions show it with the grant or block."},
    "conditions": _strings("allow and require: the terms under which the remedy may be used."),
    "cites": {**CITES, "description": "Clause ids the rule encodes."},
    "overrides_quadrant": {
        "type": "boolean",
        "default": False,
        "description": "allow and require: the rule may grant remedies outside the "
        "quadrant's envelope ([envelopes]); its cites must say why. Without it, collectrules "
        "check reports any grant outside the envelope.",
    },
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts do not give the rule and the policy "
        "chose it; doc says why.",
    },
    "doc": {**TEXT, "description": "More about the rule; for a chosen one, why."},
}
_ENVELOPE = {
    "remedies": {
        "type": "array",
        "items": {"$ref": "#/$defs/remedy"},
        "description": "The remedies the quadrant can ever get.",
    },
    "cites": {
        "allOf": [CITES, {"not": {"const": []}}],
        "description": "The clauses that give the quadrant's treatment (at least one).",
    },
    "doc": {**TEXT, "description": "Notes on the envelope."},
}
_NAMED_CONDITION = {
    "when": {**CONDITION, "description": "The condition the name stands for."},
    "or": {
        **CONDITION,
        "description": "In a policy that extends another: an alternative added to the base "
        "policy's condition of this name, (base) or (this).",
    },
    "doc": {**TEXT, "description": "What the condition means."},
    "cites": {**CITES, "description": "Clause ids the condition encodes."},
}
_CATALOGUE_REMEDY = {
    "label_en": {**TEXT, "description": "The English label."},
    "label_zh": {**TEXT, "description": "The Chinese label."},
    "category": {
        "enum": [c.value for c in RemedyCategory],
        "description": "What kind of remedy it is; it gives the quadrant envelopes the "
        "remedy belongs to unless [envelopes] lists it or envelopes says otherwise.",
    },
    "cites": {**CITES, "description": "Clause ids that allow the remedy."},
    "coercive": {
        "type": "boolean",
        "description": "Whether the remedy puts pressure on the debtor (default: true for "
        "the pressure and litigation categories).",
    },
    "envelopes": {
        "type": "array",
        "items": {"type": "string", "pattern": "^Q[1-4]" + SCHEMA_END},
        "description": "The quadrants whose envelope admits the remedy (default: by category).",
    },
}
_CATALOGUE_PRODUCT = {
    "label_en": {**TEXT, "description": "The English label."},
    "label_zh": {**TEXT, "description": "The Chinese label."},
    "cites": {**CITES, "description": "Clause ids about the product."},
    "category": {
        "enum": [p.value for p in Product],
        "description": "The standard product this one is a kind of: the contact guardrails "
        "keyed by products treat it as that product (default: none, and those guardrails "
        "apply their strictest default).",
    },
}
_TOP = {
    "schema_version": {
        "enum": [_policy.FORMAT_VERSION],
        "description": f'The version of this format: "{_policy.FORMAT_VERSION}".',
    },
    "id": {
        "type": "string",
        "pattern": schema_pattern(_policy._ID),
        "description": "The policy's id; decisions name it. A child policy inherits its "
        "base's id unless it gives one.",
    },
    "version": {
        "type": "string",
        "pattern": "^" + _policy._VERSION.pattern + SCHEMA_END,
        "default": "0",
        "description": "The policy's version, as a string.",
    },
    "title": {**TEXT, "description": "A short title (default: the id)."},
    "description": {**TEXT, "description": "What the policy is for."},
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
        "propertyNames": {"pattern": schema_pattern(_policy._KIND)},
        "additionalProperties": {
            "oneOf": [{"type": ["number", "string", "boolean"]}, {"$ref": "#/$defs/parameter"}]
        },
        "description": "Named figures that rules refer to by name.",
    },
    "signals": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_policy._KIND)},
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
    "conditions": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_policy._KIND)},
        "additionalProperties": {"$ref": "#/$defs/named_condition"},
        "description": "Named conditions: rules and stages use them by name, as if the "
        "name were a field that is true or false.",
    },
    "catalogue": {
        "type": "object",
        "properties": {
            "remedies": {
                "type": "object",
                "propertyNames": {"pattern": schema_pattern(_policy._KIND)},
                "additionalProperties": {"$ref": "#/$defs/catalogue_remedy"},
                "description": "The policy's own remedies, after the standard ones.",
            },
            "products": {
                "type": "object",
                "propertyNames": {"pattern": schema_pattern(_policy._KIND)},
                "additionalProperties": {"$ref": "#/$defs/catalogue_product"},
                "description": "The policy's own products, after the standard ones.",
            },
        },
        "additionalProperties": False,
        "description": "The policy's own vocabulary: remedies and products it adds to the "
        "standard catalogues.",
    },
    "envelopes": {
        "type": "object",
        "propertyNames": {"pattern": "^Q[1-4]" + SCHEMA_END},
        "additionalProperties": {"$ref": "#/$defs/envelope"},
        "description": "Each quadrant's envelope: the remedies its treatment (DOMAIN.md §1) "
        "can ever give; see docs/coherence.md.",
    },
}


def _each(required: list[str]) -> dict[str, Any]:
    """Every entry of a table keyed by name holds ``required``."""
    return {"additionalProperties": {"required": required}}


#: What a policy that extends none must give, by top-level key: a child policy's entry
#: of a base's name (a parameter, a signal, a layer of the same id, a catalogue entry,
#: the calendar …) inherits the keys it leaves out.
_BASE_ONLY: dict[str, Any] = {
    "parameters": {
        "additionalProperties": {"if": {"type": "object"}, "then": {"required": ["value"]}}
    },
    "signals": _each(["dimension", "polarity"]),
    "layers": {"items": {"required": ["values"]}},
    "catalogue": {
        "properties": {
            "remedies": _each(["label_en", "label_zh", "category"]),
            "products": _each(["label_en", "label_zh"]),
        }
    },
    "timeline": {"required": ["calendar"]},
    "assets": {"required": ["sources", "classes"]},
    "money": {"dependentRequired": {"max_months": ["max_months_rule"]}},
    "emergencies": {
        "if": {"required": ["unreachable_attempts"]},
        "then": {"required": ["kinds"], "properties": {"kinds": {"required": ["absconded"]}}},
    },
}


def table(
    keys: tuple[str, ...] | set[str], spec: dict[str, Any], required: list[str], description: str
) -> dict[str, Any]:
    """An object schema from a loader's key list; fails if the two drift apart."""
    missing = [k for k in keys if k not in spec]
    extra = [k for k in spec if k not in keys]
    if missing or extra:
        msg = (
            f"the schema of {quote(description)} is out of step with the loader: "
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


# ------------------------------------------------------------------ helpers for sections
# Each section plug-in builds its part of the schema with these, from its parser's own
# key lists and enumerations, with the same checks as the core tables above.


def one_or_many(item: dict[str, Any], description: str) -> dict[str, Any]:
    """One item, or an array of them."""
    return {"description": description, "oneOf": [item, {"type": "array", "items": item}]}


def any_case(word: str) -> str:
    """A regex that matches ``word`` in any letter case, with any run of spaces (U+0020,
    as the loader joins the words of a unit)."""
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.isalpha() else (" +" if c == " " else c) for c in word
    )


#: The characters Python's ``\s`` matches, which the loader strips from an offset, as a
#: character class body: ECMA-262's ``\s`` differs (it has U+FEFF and lacks U+001C to
#: U+001F and U+0085), so the schema spells them out.
SPACE = _PY_SPACE
#: A day of the calendar as YYYY-MM-DD, years 0001 to 9999, as the loader reads a date:
#: no 2026-02-30, no 2100-02-29, ASCII digits only (ECMA-262's ``\d`` is ASCII,
#: Python's is not).
_LEAP = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
DATE_PATTERN = rf"^(?:(?!0000)[0-9]{{4}}-{_MONTH_DAY}|{_LEAP}-02-29)" + SCHEMA_END
#: A time of day as HH:MM, 00:00 to 23:59, or 24:00 (the end of the day).
CLOCK_PATTERN = r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)" + SCHEMA_END


def figure(item: dict[str, Any], description: str) -> dict[str, Any]:
    """A pack figure: a literal, or the name of a policy parameter that holds it."""
    return {"description": description, "oneOf": [item, {"$ref": "#/$defs/parameter_name"}]}


def whole(description: str, minimum: int = 0, maximum: int | None = None) -> dict[str, Any]:
    """A whole-number pack figure (a literal, or a parameter name)."""
    item: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        item["maximum"] = maximum
    return figure(item, description)


EVENT_MATCHERS = [k.value for k in EventKind] + [
    f"{EventKind.CONTACT_ATTEMPT.value}:{o.value}" for o in ContactOutcome
]
#: A product name: a standard one, or one of the policy's own ``[catalogue.products]``.
PRODUCT_NAME: dict[str, Any] = {
    "anyOf": [
        {"enum": [p.value for p in Product]},
        {"type": "string", "pattern": schema_pattern(_policy._KIND)},
    ],
    "description": "A product: a standard one, or one of the policy's [catalogue.products].",
}
#: The products a section table covers.
PRODUCTS = one_or_many(PRODUCT_NAME, "The products the pack covers (default: every product).")


def by_id(item: str, description: str) -> dict[str, Any]:
    """A table of ``$defs/item`` entries keyed by id."""
    return {
        "type": "object",
        "description": description,
        "propertyNames": {"pattern": schema_pattern(_policy._ID)},
        "additionalProperties": {"$ref": f"#/$defs/{item}"},
    }


def pack(
    keys: tuple[str, ...],
    spec: dict[str, Any],
    required: list[str],
    description: str,
    by_kind: dict[str, tuple[tuple[str, ...], list[str]]] | None = None,
    kind_rules: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A pack table: the loader reads none of its keys when ``enabled = false``.

    ``by_kind`` gives each kind's keys and required keys; ``kind_rules`` more schemas a
    pack of that kind must pass (keys that go together)."""
    out = table(keys, spec, required, description)
    # With enabled = false the loader reads no other key: the keys' schemas hold only
    # in a pack that is on.
    strict: dict[str, Any] = {
        "properties": out.pop("properties"),
        "required": out.pop("required"),
    }
    strict["propertyNames"] = {"enum": list(strict["properties"])}
    del out["additionalProperties"]
    if by_kind:
        strict["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "propertyNames": {"enum": list(kind_keys)},
                    **({"required": kind_required} if kind_required else {}),
                    **({"allOf": kind_rules[kind]} if kind_rules and kind in kind_rules else {}),
                },
            }
            for kind, (kind_keys, kind_required) in by_kind.items()
        ]
    out["if"] = {"properties": {"enabled": {"const": False}}, "required": ["enabled"]}
    out["else"] = strict
    return out


def together(*keys: str) -> dict[str, Any]:
    """The keys go together: a table that holds one holds them all."""
    return {"dependentRequired": {k: [o for o in keys if o != k] for k in keys}}


def cited_with(cites: str, *keys: str) -> dict[str, Any]:
    """A table whose ``cites`` key cites something (not an empty list) holds ``keys``."""
    return {
        "if": {"required": [cites], "properties": {cites: {"not": {"const": []}}}},
        "then": {"required": list(keys)},
    }


def _require_sections(value: object) -> tuple[Section, ...]:
    """``value`` is a collection of section plug-ins, each with its key and schema."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise wrong_kind("sections", value, "a list of section plug-ins or None")
    plugins = tuple(value)
    for index, plugin in enumerate(plugins):
        if not (
            isinstance(getattr(plugin, "key", None), str)
            and callable(getattr(plugin, "schema_property", None))
            and callable(getattr(plugin, "schema_defs", None))
        ):
            expected = "a section plug-in (with a key, schema_property and schema_defs)"
            raise wrong_kind(f"sections[{index}]", plugin, expected)
    return plugins


def policy_schema(sections: Sequence[Section] | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, as a dict.

    ``sections`` are the section plug-ins whose tables the schema describes; by default,
    the installed ones. Each contributes its top-level property and its ``$defs``.
    """
    plugins = installed_sections() if sections is None else _require_sections(sections)
    top_spec = dict(_TOP)
    keys = set(_policy._TOP_KEYS)
    section_defs: dict[str, Any] = {}
    for plugin in plugins:
        top_spec[plugin.key] = plugin.schema_property()
        keys.add(plugin.key)
        section_defs.update(plugin.schema_defs())
    remedies = [r.value for r in Remedy]
    top = table(
        keys,
        top_spec,
        [],
        "A collectrules policy. The loader checks more than a JSON Schema can say: "
        + " ".join(POLICY_EXCEPTIONS),
    )
    top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    top["$id"] = SCHEMA_ID
    top["title"] = "collectrules policy"
    top["anyOf"] = [{"required": ["id"]}, {"required": ["extends"]}]
    top["dependentRequired"] = {"disable": ["extends"]}
    # A child's table of a base's name changes only the keys it gives: what every entry
    # needs is required only in a policy that extends none.
    base_only = {k: v for k, v in _BASE_ONLY.items() if k in keys}
    top["if"] = {"not": {"required": ["extends"]}}
    top["then"] = {"properties": base_only}
    remedy_rule = table(
        _policy._REMEDY_RULE_KEYS,
        _REMEDY_RULE,
        ["id", "effect", "reason"],
        "A remedy rule: allows, blocks or requires remedies.",
    )
    remedy_rule["anyOf"] = [{"required": ["remedy"]}, {"required": ["remedies"]}]
    # A rule that widens a quadrant's envelope allows or requires, and cites why.
    remedy_rule["if"] = {
        "properties": {"overrides_quadrant": {"const": True}},
        "required": ["overrides_quadrant"],
    }
    remedy_rule["then"] = {
        "properties": {
            "effect": {"enum": [RemedyEffect.ALLOW.value, RemedyEffect.REQUIRE.value]},
            "cites": {"not": {"const": []}},
        },
        "required": ["cites"],
    }
    top["$defs"] = {
        "cites": _strings(
            "Clause ids: of DOMAIN.md, of REGULATION.md, or of the policy's own [clauses]."
        ),
        "condition": {
            "type": ["string", "null"],
            "maxLength": MAX_TEXT,
            "description": "A condition in the condition language: comparisons of fields "
            "with constants or parameters (==, !=, <, <=, >, >=, low <= field <= high, "
            "in (...)), bare boolean fields, and, or, not, parentheses. Nothing else: no "
            "calls, attributes or arithmetic.",
            "examples": ["dpd > 30 and promise_broken >= 1", "quadrant in ('Q3', 'Q4')"],
        },
        "remedy": {
            "anyOf": [
                {"enum": remedies},
                {"type": "string", "pattern": schema_pattern(_policy._KIND)},
            ],
            "description": "A remedy: a standard one, or one of the policy's [catalogue.remedies].",
        },
        "named_condition": {
            "oneOf": [
                {"$ref": "#/$defs/condition"},
                table(
                    _policy._CONDITION_KEYS,
                    _NAMED_CONDITION,
                    [],
                    "A named condition with its doc and cites.",
                ),
            ]
        },
        "catalogue_remedy": table(
            _policy._REMEDY_SPEC_KEYS,
            _CATALOGUE_REMEDY,
            [],
            "One of the policy's own remedies. Its labels and category are required unless "
            "the policy extends another (a child's table changes the base's remedy of that name).",
        ),
        "catalogue_product": table(
            _policy._PRODUCT_SPEC_KEYS,
            _CATALOGUE_PRODUCT,
            [],
            "One of the policy's own products. Its labels are required unless the policy "
            "extends another (a child's table changes the base's product of that name).",
        ),
        "parameter": table(
            _policy._PARAMETER_KEYS,
            _PARAMETER,
            [],
            "A parameter: a named figure. Its value is required unless the policy extends "
            "another (a child's table changes the base's parameter of that name).",
        ),
        "signal": table(
            _policy._SIGNAL_KEYS,
            _SIGNAL,
            [],
            "A signal kind. Its dimension and polarity are required unless the policy extends "
            "another (a child's table changes the base's signal of that name).",
        ),
        "layer": table(
            _policy._LAYER_KEYS,
            _LAYER,
            ["id"],
            "A classification layer. Its values are required unless the policy extends another "
            "(a child's layer of a base layer's id changes that layer).",
        ),
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
        "layer_rule": table(
            _policy._LAYER_RULE_KEYS, _LAYER_RULE, ["id"], "A rule of a classification layer."
        ),
        "remedies": table(
            _policy._REMEDIES_KEYS, _REMEDIES, [], "The remedy rules and how conflicts resolve."
        ),
        "remedy_rule": remedy_rule,
        "envelope": table(
            _policy._ENVELOPE_KEYS,
            _ENVELOPE,
            ["remedies", "cites"],
            "A quadrant's envelope: the remedies it can ever get.",
        ),
        "parameter_name": {
            "type": "string",
            "pattern": schema_pattern(_policy._KIND),
            "description": "The name of a policy parameter that holds the figure.",
        },
        "event_matcher": {
            "enum": EVENT_MATCHERS,
            "description": "An event kind, or contact_attempt:outcome.",
        },
        **section_defs,
    }
    ordered = {k: top[k] for k in ("$schema", "$id", "title", "description")}
    ordered.update({k: v for k, v in top.items() if k not in ordered})
    return ordered


def schema_text(sections: Sequence[Section] | None = None) -> str:
    """The schema as the text of the shipped file: two-space indented JSON, one final newline."""
    return json.dumps(policy_schema(sections), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (``collectrules/schema/policy.schema.json``)."""
    res = resources.files("collectrules") / "schema" / "policy.schema.json"
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data
