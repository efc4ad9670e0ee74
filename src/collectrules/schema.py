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

from collectrules import buckets as _buckets
from collectrules import guardrails as _guardrails
from collectrules import policy as _policy
from collectrules import regulatory as _regulatory
from collectrules import stages as _stages
from collectrules._packs import _NAME as _PARAM_NAME
from collectrules._packs import PACK_ID
from collectrules.clauses import CLAUSE_ID, CLAUSE_KEYS
from collectrules.conditions import MAX_TEXT
from collectrules.facts import ContactOutcome, EventKind, Product
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
    "regulation": "Regulatory classification packs, keyed by pack id: see "
    "docs/howto-compliance.md.",
    "guardrails": "Contact guardrails, keyed by pack id: see docs/howto-compliance.md.",
    "buckets": "Delinquency bucket sets, keyed by set id: see docs/howto-compliance.md.",
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
    **{key: {"$ref": f"#/$defs/{key}", "description": text} for key, text in _SECTION_DOCS.items()},
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


# ------------------------------------------------------------------ optional sections
# Built from the section parsers' own key lists (collectrules.stages, .regulatory,
# .guardrails, .buckets) and enumerations, with the same checks as the tables above.


def _one_or_many(item: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "oneOf": [item, {"type": "array", "items": item}]}


def _any_case(word: str) -> str:
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.isalpha() else (r"\s+" if c == " " else c) for c in word
    )


def _figure(item: dict[str, Any], description: str) -> dict[str, Any]:
    """A pack figure: a literal, or the name of a policy parameter that holds it."""
    return {"description": description, "oneOf": [item, {"$ref": "#/$defs/parameter_name"}]}


def _whole(description: str, minimum: int = 0, maximum: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        item["maximum"] = maximum
    return _figure(item, description)


_EVENT_MATCHERS = [k.value for k in EventKind] + [
    f"{EventKind.CONTACT_ATTEMPT.value}:{o.value}" for o in ContactOutcome
]
_MATCHER = {"$ref": "#/$defs/event_matcher"}
_MATCHERS = _one_or_many(_MATCHER, "An event kind or a list of them.")
_UNITS = sorted(_stages._UNIT_WORDS, key=len, reverse=True)
_OFFSET = {
    "type": "string",
    "pattern": r"^\s*\d{1,5}\s*(?:" + "|".join(_any_case(u) for u in _UNITS) + r")\s*$",
    "examples": ["24 hours", "3 days", "5 business days", "2 weeks", "1 month", "3d"],
}
_DATES = {
    "type": "array",
    "items": {"type": "string", "format": "date"},
    "description": "Dates (TOML local dates, or YYYY-MM-DD strings).",
}
_PRODUCTS = _one_or_many(
    {"enum": [p.value for p in Product]}, "The products the pack covers (default: every product)."
)

_TIMELINE = {
    "calendar": {
        "description": "The business calendar whose working days count: a country code "
        'or a table such as { country = "CN" }. Required once the policy is merged.',
        "oneOf": [{"type": "string"}, {"$ref": "#/$defs/calendar"}],
    },
    "plans": {
        "type": "object",
        "propertyNames": {"pattern": _stages._PLAN_NAME.pattern},
        "additionalProperties": {
            "type": "array",
            "items": {"$ref": "#/$defs/stage"},
            "minItems": 1,
        },
        "description": "The stage plans, by snake_case name: [[timeline.plans.<name>]].",
    },
    "products": {
        "type": "object",
        "propertyNames": {"enum": [p.value for p in Product]},
        "additionalProperties": {"type": "string"},
        "description": "The plan of each product (default: the plan named after it).",
    },
    "contact_channels": {
        "type": "array",
        "items": {"enum": [c.value for c in _stages.Channel]},
        "description": "The channels that contact the debtor (default: "
        + ", ".join(sorted(_stages.DEFAULT_CONTACT_CHANNELS))
        + ").",
    },
    "deadlines": {"$ref": "#/$defs/deadlines"},
}
_CALENDAR = {
    "country": {**_TEXT, "description": "The country code, such as CN."},
    "subdivision": {**_TEXT, "description": "The subdivision (province, state) code."},
    "extra_holidays": {**_DATES, "description": "Days off besides the country's holidays."},
    "extra_working_days": {**_DATES, "description": "Working days besides the usual ones."},
}
_STAGE = {
    "id": {**_TEXT, "minLength": 1, "description": "The stage's id, unique in its plan."},
    "title": {**_TEXT, "description": "A short title."},
    "anchor": {
        "enum": [
            _stages.AnchorKind.DUE_DATE.value,
            _stages.AnchorKind.OVERDUE_START.value,
            _stages.AnchorKind.CONDITION.value,
            *_EVENT_MATCHERS,
        ],
        "description": "What the offsets count from: due_date, overdue_start, condition, "
        "or an event kind (kind or contact_attempt:outcome).",
    },
    "within": {**_OFFSET, "description": "The deadline, from the anchor."},
    "after": {**_OFFSET, "description": "The earliest start, from the anchor."},
    "limit": {**_OFFSET, "description": "A hard limit past the deadline (needs within)."},
    "action": {**_TEXT, "minLength": 1, "description": "What to do."},
    "channel": {
        "enum": [c.value for c in _stages.Channel],
        "description": "How the action is carried out.",
    },
    "owner": {**_TEXT, "minLength": 1, "description": "Who does it."},
    "completed_by": {**_MATCHERS, "description": "The event kinds that complete the stage."},
    "when": {**_CONDITION, "description": "The condition under which the stage applies."},
    "reason": {**_TEXT, "description": "Why the stage is skipped when its condition is false."},
    "cites": {**_CITES, "description": "Clause ids the stage encodes."},
    "pauses_on_promise": {
        "type": "boolean",
        "description": "Whether a standing promise to pay pauses the stage "
        "(default: whether its channel contacts the debtor).",
    },
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the stage open and the policy chose it.",
    },
    "doc": {**_TEXT, "description": "What the stage is for."},
}
_DEADLINES = {
    "warning_days": {
        "type": "integer",
        "minimum": 0,
        "maximum": _stages._PARAMETER_MAX["deadline_warning_days"],
        "description": "How many days ahead a deadline is warned of.",
    },
    "extend_to_working_day": {
        "type": "boolean",
        "default": True,
        "description": "Whether a period that ends on a day off runs to the next working day.",
    },
    **{
        name: {"$ref": f"#/$defs/{name}", "description": f"The {name} period."}
        for name in _stages.PERIOD_KEYS
    },
}
_PERIOD = {
    "enabled": {"type": "boolean", "default": True, "description": "false: not tracked."},
    "interrupted_by": {**_MATCHERS, "description": "The events that restart the period."},
    "satisfied_by": {**_MATCHERS, "description": "The events that preserve the claim."},
    "cites": {**_CITES, "description": "Clause ids of the period."},
}

_PACK_ENABLED = {
    "type": "boolean",
    "default": True,
    "description": "false switches the pack off (its other keys are then not read).",
}
_REGULATION_PACK = {
    "kind": {"enum": [k.value for k in _regulatory.PackKind], "description": "The kind of pack."},
    "title": {**_TEXT, "description": "A short title (default: the pack id)."},
    "fact": {
        "type": "string",
        "pattern": _PARAM_NAME.pattern,
        "description": "The fact field the pack gives (snake_case).",
    },
    "classes": {
        "type": "array",
        "items": {"$ref": "#/$defs/ladder_class"},
        "minItems": 2,
        "description": "dpd_ladder: the classes, best first.",
    },
    "products": _PRODUCTS,
    "product_types": {
        "type": "object",
        "propertyNames": {"enum": [p.value for p in Product]},
        "additionalProperties": {"type": "string", "minLength": 1},
        "description": "dpd_ladder: the product type of each product, for thresholds by type.",
    },
    "flags": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "dpd_ladder: boolean fact fields, true from the named class on.",
    },
    "over_dpd": _whole("materiality_default: in default when dpd is above this figure."),
    "absolute": {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z]{3}$"},
        "additionalProperties": _figure({"type": "number", "minimum": 0}, "An amount."),
        "minProperties": 1,
        "description": "materiality_default: the absolute threshold, by ISO 4217 currency.",
    },
    "relative": _figure(
        {"type": "number", "minimum": 0, "maximum": 1},
        "materiality_default: the relative threshold, a share of the exposure.",
    ),
    "labels": {
        "type": "object",
        "propertyNames": {"enum": list(_regulatory.MaterialityPack.values)},
        "additionalProperties": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 2,
            "maxItems": 2,
        },
        "description": "materiality_default: labels, value = [english, chinese].",
    },
    "cites": {**_CITES, "description": "Clause ids of the pack."},
    "doc": {**_TEXT, "description": "What the pack is for."},
    "enabled": _PACK_ENABLED,
}
_THRESHOLD = {
    "oneOf": [
        _whole("A dpd figure."),
        {"type": "object", "additionalProperties": _whole("A dpd figure.")},
    ]
}
_LADDER_CLASS = {
    "value": {"type": "string", "pattern": _PARAM_NAME.pattern, "description": "The class."},
    "label_en": {**_TEXT, "description": "English label."},
    "label_zh": {**_TEXT, "description": "Chinese label."},
    "rule": {**_TEXT, "minLength": 1, "description": "The rule id, unique in the policy."},
    "reason": {**_TEXT, "description": "Why; decisions show it."},
    "cites": {**_CITES, "description": "Clause ids of the class."},
    "over_dpd": {**_THRESHOLD, "description": "The class begins when dpd is above this."},
    "from_dpd": {**_THRESHOLD, "description": "The class begins when dpd reaches this."},
    "rebuttable_by": {
        "enum": list(_regulatory.REBUTTAL_FIELDS),
        "description": "The case field that may rebut the class's presumption.",
    },
}
_ALL_CHANNELS = [c.value for c in _guardrails.ContactChannel]
_GUARDRAIL_PACK = {
    "title": {**_TEXT, "description": "A short title (default: the pack id)."},
    "rules": {
        "type": "array",
        "items": {"$ref": "#/$defs/guardrail_rule"},
        "minItems": 1,
        "description": "The pack's rules.",
    },
    "cites": {**_CITES, "description": "Clause ids of the pack."},
    "doc": {**_TEXT, "description": "What the pack is for."},
    "enabled": _PACK_ENABLED,
}
_CLOCK = _figure(
    {"type": "string", "pattern": r"^([01]\d|2[0-4]):([0-5]\d)$"}, "A time of day as HH:MM."
)
_GUARDRAIL_RULE = {
    "id": {**_TEXT, "description": "The rule's id, unique among the guardrails."},
    "kind": {
        "enum": [k.value for k in _guardrails.RuleKind],
        "description": "The kind of rule; it decides the further keys.",
    },
    "reason": {**_TEXT, "description": "Why; verdicts show it."},
    "cites": {**_CITES, "description": "Clause ids the rule encodes."},
    "channels": _one_or_many({"enum": _ALL_CHANNELS}, "The channels the rule covers."),
    "parties": _one_or_many(
        {"enum": [p.value for p in _guardrails.Party]}, "The parties the rule covers."
    ),
    "start": {**_CLOCK, "description": "hours: the first allowed time of day."},
    "end": {**_CLOCK, "description": "hours: the last allowed time of day."},
    "consent_exempts": {
        "type": "boolean",
        "default": False,
        "description": "hours: whether the debtor's consent lifts the limit.",
    },
    "max": _whole("unanswered_per_day, calls_in_window: the most contacts allowed."),
    "days": _whole(
        "calls_in_window, quiet_after_conversation, validation_notice: a number of days.",
        maximum=366,
    ),
    "purposes": _one_or_many(
        {"enum": [p.value for p in _guardrails.Purpose]},
        "third_party: why a third party may be contacted.",
    ),
    "conditions": {
        "type": "array",
        "items": {"type": "string"},
        "description": "third_party: the terms of such a contact.",
    },
    "requires_unreachable": {
        "type": "boolean",
        "default": False,
        "description": "third_party: only once the debtor is unreachable.",
    },
    "failed_attempts": _whole(
        "third_party: failed attempts that make the debtor unreachable.", minimum=1
    ),
    "business_days": {
        "type": "boolean",
        "default": True,
        "description": "validation_notice: whether days are business days.",
    },
    "calendar": {**_TEXT, "description": "validation_notice: the calendar's country code."},
    "years": _whole("time_barred: the limitation period in years.", minimum=1, maximum=100),
    "restarted_by": _one_or_many(
        {"enum": [k.value for k in EventKind]}, "time_barred: the events that restart the period."
    ),
}
# The keys a kind of guardrail rule cannot do without (the parser's fig(...) calls).
_GUARDRAIL_REQUIRED: dict[str, list[str]] = {
    "hours": ["start", "end"],
    "unanswered_per_day": ["max"],
    "calls_in_window": ["max", "days"],
    "quiet_after_conversation": ["days"],
    "validation_notice": ["days"],
    "time_barred": ["years"],
}
_BUCKET_SET = {
    "title": {**_TEXT, "description": "A short title (default: the set id)."},
    "fact": {
        "type": "string",
        "pattern": _PARAM_NAME.pattern,
        "description": "The fact field the set gives (snake_case).",
    },
    "ranges": {
        "type": "array",
        "items": {"$ref": "#/$defs/bucket_range"},
        "minItems": 1,
        "description": "The buckets: contiguous dpd ranges, the last open-ended.",
    },
    "current": {**_TEXT, "default": "current", "description": "The value when dpd is 0."},
    "current_label": {
        **_TEXT,
        "default": "not overdue",
        "description": "The label of that value.",
    },
    "cites": {**_CITES, "description": "Clause ids of the set."},
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the set open and the policy chose it.",
    },
    "doc": {**_TEXT, "description": "What the set is for."},
    "enabled": {**_PACK_ENABLED, "description": "false switches the set off."},
}
_BUCKET_RANGE = {
    "id": {**_TEXT, "description": "The bucket's id: the value of the set's fact."},
    "label": {**_TEXT, "description": "A label (default: the id)."},
    "min_dpd": _whole("The first dpd of the bucket."),
    "max_dpd": _whole("The last dpd of the bucket (the last range has none)."),
    "treatments": _one_or_many({"$ref": "#/$defs/remedy"}, "The remedies for the bucket."),
    "cites": {**_CITES, "description": "Clause ids of the bucket."},
    "doc": {**_TEXT, "description": "What the bucket means."},
}


def _by_id(item: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "propertyNames": {"pattern": PACK_ID.pattern},
        "additionalProperties": {"$ref": f"#/$defs/{item}"},
    }


def _pack(
    keys: tuple[str, ...],
    spec: dict[str, Any],
    required: list[str],
    description: str,
    by_kind: dict[str, tuple[tuple[str, ...], list[str]]] | None = None,
) -> dict[str, Any]:
    """A pack table: the loader reads none of its keys when ``enabled = false``."""
    table = _table(keys, spec, required, description)
    strict: dict[str, Any] = {
        "propertyNames": {"enum": list(table["properties"])},
        "required": table.pop("required"),
    }
    del table["additionalProperties"]
    if by_kind:
        strict["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "propertyNames": {"enum": list(kind_keys)},
                    **({"required": kind_required} if kind_required else {}),
                },
            }
            for kind, (kind_keys, kind_required) in by_kind.items()
        ]
    table["if"] = {"properties": {"enabled": {"const": False}}, "required": ["enabled"]}
    table["else"] = strict
    return table


def _section_defs() -> dict[str, Any]:
    """The ``$defs`` of the optional sections."""
    reg_keys = tuple(dict.fromkeys((*_regulatory.LADDER_KEYS, *_regulatory.MATERIALITY_KEYS)))
    rule_keys = tuple(
        dict.fromkeys(
            (*_guardrails.RULE_KEYS, *(k for v in _guardrails.KIND_KEYS.values() for k in v))
        )
    )
    rule = _table(
        rule_keys, _GUARDRAIL_RULE, ["id", "kind"], "A guardrail rule; its kind decides its keys."
    )
    rule["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind.value}}, "required": ["kind"]},
            "then": {
                "propertyNames": {"enum": [*_guardrails.RULE_KEYS, *extra]},
                **(
                    {"required": _GUARDRAIL_REQUIRED[kind.value]}
                    if kind.value in _GUARDRAIL_REQUIRED
                    else {}
                ),
            },
        }
        for kind, extra in _guardrails.KIND_KEYS.items()
    ]
    kind_keys = {
        _regulatory.PackKind.DPD_LADDER.value: (_regulatory.LADDER_KEYS, ["fact", "classes"]),
        _regulatory.PackKind.MATERIALITY_DEFAULT.value: (
            _regulatory.MATERIALITY_KEYS,
            ["fact", "over_dpd", "relative"],
        ),
    }
    periods = {
        name: _table(
            keys,
            {k: v for k, v in _PERIOD.items() if k in keys},
            [],
            f"The {name} period of the legal deadlines.",
        )
        for name, keys in _stages.PERIOD_KEYS.items()
    }
    return {
        "parameter_name": {
            "type": "string",
            "pattern": _PARAM_NAME.pattern,
            "description": "The name of a policy parameter that holds the figure.",
        },
        "event_matcher": {
            "enum": _EVENT_MATCHERS,
            "description": "An event kind, or contact_attempt:outcome.",
        },
        "timeline": _table(
            _stages.TIMELINE_KEYS,
            _TIMELINE,
            [],
            "Stage plans, calendars and legal deadlines: see docs/reference-stages.md.",
        ),
        "calendar": _table(_stages.CALENDAR_KEYS, _CALENDAR, ["country"], "The business calendar."),
        "stage": {
            **_table(
                _stages.STAGE_KEYS,
                _STAGE,
                ["id", "anchor", "action", "channel", "owner", "completed_by"],
                "A stage of a plan.",
            ),
            "anyOf": [{"required": ["within"]}, {"required": ["after"]}],
        },
        "deadlines": _table(
            _stages.DEADLINE_KEYS, _DEADLINES, [], "The rules of the legal deadlines."
        ),
        **periods,
        "regulation": _by_id("regulation_pack", "Regulatory classification packs, by pack id."),
        "regulation_pack": _pack(
            reg_keys,
            _REGULATION_PACK,
            ["kind"],
            "A classification pack: dpd_ladder or materiality_default.",
            kind_keys,
        ),
        "ladder_class": _table(
            _regulatory.LADDER_CLASS_KEYS,
            _LADDER_CLASS,
            ["value", "rule"],
            "A class of a dpd_ladder pack; every class but the first has over_dpd or from_dpd.",
        ),
        "guardrails": _by_id("guardrail_pack", "Contact guardrail packs, by pack id."),
        "guardrail_pack": _pack(
            _guardrails.PACK_KEYS, _GUARDRAIL_PACK, ["rules"], "A contact guardrail pack."
        ),
        "guardrail_rule": rule,
        "buckets": _by_id("bucket_set", "Delinquency bucket sets, by set id."),
        "bucket_set": _pack(
            _buckets.SET_KEYS, _BUCKET_SET, ["fact", "ranges"], "A delinquency bucket set."
        ),
        "bucket_range": _table(
            _buckets.RANGE_KEYS, _BUCKET_RANGE, ["id", "min_dpd"], "A bucket: a range of dpd."
        ),
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
        **_section_defs(),
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
