"""The compliance sections' parts of the policy JSON Schema: regulation, guardrails, buckets."""

from __future__ import annotations

from typing import Any

from collectrules._json import SCHEMA_END, schema_pattern
from collectrules.compliance import buckets as _buckets
from collectrules.compliance import guardrails as _guardrails
from collectrules.compliance import regulatory as _regulatory
from collectrules.compliance._packs import PARAM_NAME as _PARAM_NAME
from collectrules.model.case import EventKind, Product
from collectrules.model.emergency import EMERGENCY_CLAUSES
from collectrules.policy.schema import (
    CITES,
    CLOCK_PATTERN,
    PRODUCT_NAME,
    PRODUCTS,
    TEXT,
    by_id,
    cited_with,
    figure,
    one_or_many,
    pack,
    table,
    together,
    whole,
)

__all__ = ["buckets_defs", "guardrails_defs", "regulation_defs"]

_PACK_ENABLED = {
    "type": "boolean",
    "default": True,
    "description": "false switches the pack off (its other keys are then not read).",
}
_REGULATION_PACK = {
    "kind": {"enum": [k.value for k in _regulatory.PackKind], "description": "The kind of pack."},
    "title": {**TEXT, "description": "A short title (default: the pack id)."},
    "fact": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "The fact field the pack gives (snake_case).",
    },
    "classes": {
        "type": "array",
        # The first class is the base class, with no threshold; each other class has
        # exactly one of over_dpd and from_dpd.
        "prefixItems": [
            {"not": {"anyOf": [{"required": ["over_dpd"]}, {"required": ["from_dpd"]}]}}
        ],
        "items": {"oneOf": [{"required": ["over_dpd"]}, {"required": ["from_dpd"]}]},
        "allOf": [{"items": {"$ref": "#/$defs/ladder_class"}}],
        "minItems": 2,
        "description": "dpd_ladder: the classes, best first.",
    },
    "products": PRODUCTS,
    "product_types": {
        "type": "object",
        "propertyNames": PRODUCT_NAME,
        "additionalProperties": {"type": "string", "minLength": 1},
        "description": "dpd_ladder: the product type of each product, for thresholds by type.",
    },
    "flags": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_PARAM_NAME)},
        "additionalProperties": {"type": "string"},
        "description": "dpd_ladder: boolean fact fields, true from the named class on.",
    },
    "over_dpd": whole("materiality_default: in default when dpd is above this figure."),
    "absolute": {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z]{3}" + SCHEMA_END},
        "additionalProperties": figure({"type": "number", "minimum": 0}, "An amount."),
        "minProperties": 1,
        "description": "materiality_default: the absolute threshold, by ISO 4217 currency.",
    },
    "relative": figure(
        {"type": "number", "minimum": 0, "maximum": 1},
        "materiality_default: the relative threshold, a share of the exposure.",
    ),
    "probation_months": whole(
        "materiality_default: months a case stays in default after the criteria last held "
        "(EU-PROBATION), read from its payments; leave it out for no probation.",
        minimum=1,
        maximum=_regulatory.MAX_PROBATION_MONTHS,
    ),
    "probation_cites": {
        **CITES,
        "description": "materiality_default: clause ids a decision in default by the "
        "probation cites, after the pack's.",
    },
    "restructuring_months": whole(
        "materiality_default: months a case stays in default after its latest distressed "
        "restructuring (a 'restructured' event; EU-PROBATION), whatever its days past due; "
        "leave it out to read no restructuring.",
        minimum=1,
        maximum=_regulatory.MAX_PROBATION_MONTHS,
    ),
    "restructuring_cites": {
        **CITES,
        "description": "materiality_default: clause ids a decision in default after a "
        "restructuring cites, after the pack's.",
    },
    "upgrade_from": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "dpd_ladder: the class (not the first) from which a class, once held, "
        "is held until upgrade_months after the payment that repaid the arrears in full "
        "(CN-UPGRADE); give it with upgrade_months.",
    },
    "upgrade_months": whole(
        "dpd_ladder: months of payment as agreed before a case leaves a class from "
        "upgrade_from on, read from its payments; give it with upgrade_from.",
        minimum=1,
        maximum=_regulatory.MAX_PROBATION_MONTHS,
    ),
    "upgrade_cites": {
        **CITES,
        "description": "dpd_ladder: clause ids a class held by the upgrade rule cites, after "
        "the class's.",
    },
    "restructured_class": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "dpd_ladder: the class (not the first) a case is classified no better "
        "than during the observation period after its latest distressed restructuring (a "
        "'restructured' event; CN-RESTRUCT-OBS); give it with restructured_months.",
    },
    "restructured_months": whole(
        "dpd_ladder: the observation period after a distressed restructuring, in months from "
        "the 'restructured' event; give it with restructured_class.",
        minimum=1,
        maximum=_regulatory.MAX_PROBATION_MONTHS,
    ),
    "restructured_cites": {
        **CITES,
        "description": "dpd_ladder: clause ids a class held by the restructuring hold cites, "
        "after the pack's.",
    },
    "restructured_npl_class": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "dpd_ladder: a class worse than restructured_class: a case whose days "
        "past due at its restructuring's instant gave this class or a worse one "
        "(non-performing before the restructuring) is held no better than this class "
        "instead; only with restructured_class and restructured_months.",
    },
    "cross_class": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "dpd_ladder: the class (not the first) a case is classified no better "
        "than when a share of its debtor's debts passes cross_npl_share or "
        "cross_all_banks_share (CN-5LVL-CROSS); give it with one or both of them.",
    },
    "cross_npl_share": figure(
        {"type": "number", "minimum": 0, "maximum": 1},
        "dpd_ladder: a case whose debtor_npl_share is more than this share is no better "
        "than cross_class; only with cross_class.",
    ),
    "cross_all_banks_share": figure(
        {"type": "number", "minimum": 0, "maximum": 1},
        "dpd_ladder: a case whose debtor_90dpd_share_all_banks is more than this share is "
        "no better than cross_class; only with cross_class.",
    ),
    "cross_cites": {
        **CITES,
        "description": "dpd_ladder: clause ids a class set by the cross-default floor cites, "
        "after the pack's.",
    },
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
    "reason_fact": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "reage: a text fact field holding the assessment's reason, for a "
        "remedy rule's reason to quote as {name}.",
    },
    "min_account_months": whole(
        "reage: the account is at least this many whole months old at as_of (from the "
        "case's opened_on).",
        maximum=120,
    ),
    "min_payments": whole(
        "reage: at least this many consecutive minimum payments (the case's "
        "consecutive_minimum_payments).",
        maximum=120,
    ),
    "interval_months": whole(
        "reage: no 'reaged' event within this many months before as_of.", minimum=1, maximum=120
    ),
    "window_months": whole(
        "reage: the period in which fewer than max_in_window 'reaged' events may lie.",
        minimum=1,
        maximum=120,
    ),
    "max_in_window": whole(
        "reage: the most re-ages in window_months; a case with that many is not re-aged again.",
        minimum=1,
        maximum=120,
    ),
    "cites": {**CITES, "description": "Clause ids of the pack."},
    "doc": {**TEXT, "description": "What the pack is for."},
    "enabled": _PACK_ENABLED,
}
_THRESHOLD = {
    "oneOf": [
        whole("A dpd figure."),
        {"type": "object", "additionalProperties": whole("A dpd figure.")},
    ]
}
_LADDER_CLASS = {
    "value": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "The class.",
    },
    "label_en": {**TEXT, "description": "English label."},
    "label_zh": {**TEXT, "description": "Chinese label."},
    "rule": {**TEXT, "minLength": 1, "description": "The rule id, unique in the policy."},
    "reason": {**TEXT, "description": "Why; decisions show it."},
    "cites": {**CITES, "description": "Clause ids of the class."},
    "over_dpd": {**_THRESHOLD, "description": "The class begins when dpd is above this."},
    "from_dpd": {**_THRESHOLD, "description": "The class begins when dpd reaches this."},
    "rebuttable_by": {
        "enum": list(_regulatory.REBUTTAL_FIELDS),
        "description": "The case field that may rebut the class's presumption.",
    },
    "in_default": {
        "$ref": "#/$defs/ladder_in_default",
        "description": (
            "The class holds whenever the named materiality_default pack puts the case in "
            "default, whatever the dpd threshold and the rebuttal."
        ),
    },
}
_IN_DEFAULT = {
    "pack": {**TEXT, "minLength": 1, "description": "The id of a materiality_default pack."},
    "rule": {
        **TEXT,
        "minLength": 1,
        "description": "The rule id of the class when it holds by default, unique in the policy.",
    },
    "reason": {**TEXT, "description": "Why; decisions show it."},
}
_ALL_CHANNELS = [c.value for c in _guardrails.ContactChannel]
_GUARDRAIL_PACK = {
    "title": {**TEXT, "description": "A short title (default: the pack id)."},
    "rules": {
        "type": "array",
        "items": {"$ref": "#/$defs/guardrail_rule"},
        "minItems": 1,
        "description": "The pack's rules.",
    },
    "cites": {**CITES, "description": "Clause ids of the pack."},
    "doc": {**TEXT, "description": "What the pack is for."},
    "enabled": _PACK_ENABLED,
}
_CLOCK = figure({"type": "string", "pattern": CLOCK_PATTERN}, "A time of day as HH:MM.")
_GUARDRAIL_RULE = {
    "id": {**TEXT, "description": "The rule's id, unique among the guardrails."},
    "kind": {
        "enum": [k.value for k in _guardrails.RuleKind],
        "description": "The kind of rule; it decides the further keys.",
    },
    "reason": {**TEXT, "description": "Why; verdicts show it."},
    "cites": {**CITES, "description": "Clause ids the rule encodes."},
    "channels": one_or_many({"enum": _ALL_CHANNELS}, "The channels the rule covers."),
    "parties": one_or_many(
        {"enum": [p.value for p in _guardrails.Party]}, "The parties the rule covers."
    ),
    "start": {**_CLOCK, "description": "hours: the first allowed time of day."},
    "end": {**_CLOCK, "description": "hours: the last allowed time of day."},
    "consent_exempts": {
        "type": "boolean",
        "default": False,
        "description": "hours: whether the debtor's consent lifts the limit.",
    },
    "max": whole("unanswered_per_day, calls_in_window: the most contacts allowed."),
    "days": whole(
        "calls_in_window, quiet_after_conversation, validation_notice, credit_bureau: "
        "a number of days.",
        maximum=366,
    ),
    "purposes": one_or_many(
        {"enum": [p.value for p in _guardrails.Purpose]},
        "third_party: why a third party may be contacted.",
    ),
    "conditions": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "third_party, conduct: the terms of such a contact.",
    },
    "requires_unreachable": {
        "type": "boolean",
        "default": False,
        "description": "third_party: only once the debtor is unreachable.",
    },
    "failed_attempts": whole(
        "third_party: failed attempts that make the debtor unreachable.", minimum=1
    ),
    "business_days": {
        "type": "boolean",
        "default": True,
        "description": "validation_notice: whether days are business days.",
    },
    "calendar": {**TEXT, "description": "validation_notice: the calendar's country code."},
    "years": whole("time_barred: the limitation period in years.", minimum=1, maximum=100),
    "restarted_by": one_or_many(
        {"enum": [k.value for k in EventKind]}, "time_barred: the events that restart the period."
    ),
    "hours": whole(
        "threatened_staff, contact_record: the hours within which the record is due.",
        maximum=8784,
    ),
    "whole_case": {
        "type": "boolean",
        "default": False,
        "description": "threatened_staff: no field visit by anyone after a threat, not only "
        "by the threatened staff.",
    },
    "emergencies": {
        "description": "emergency_hold: the emergency kinds whose holds the rule enforces "
        "(default: every kind the policy's [emergencies] section lists).",
        "oneOf": [
            {"enum": [k.value for k in EMERGENCY_CLAUSES]},
            {
                "type": "array",
                "items": {"enum": [k.value for k in EMERGENCY_CLAUSES]},
                "minItems": 1,
            },
        ],
    },
    "products": one_or_many(
        {"enum": [p.value for p in Product]},
        "product_channels, credit_bureau: the products the rule covers.",
    ),
    "allowed": one_or_many(
        {"enum": _ALL_CHANNELS}, "product_channels: the channels those products are contacted on."
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
    "conduct": ["conditions"],
    "threatened_staff": ["hours"],
    "contact_record": ["hours"],
    "product_channels": ["products", "allowed"],
    "credit_bureau": ["products", "days"],
}
_BUCKET_SET = {
    "title": {**TEXT, "description": "A short title (default: the set id)."},
    "fact": {
        "type": "string",
        "pattern": schema_pattern(_PARAM_NAME),
        "description": "The fact field the set gives (snake_case).",
    },
    "ranges": {
        "type": "array",
        "items": {"$ref": "#/$defs/bucket_range"},
        "minItems": 1,
        "description": "The buckets: contiguous dpd ranges, the last open-ended.",
    },
    "current": {**TEXT, "default": "current", "description": "The value when dpd is 0."},
    "current_label": {
        **TEXT,
        "default": "not overdue",
        "description": "The label of that value.",
    },
    "cites": {**CITES, "description": "Clause ids of the set."},
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the set open and the policy chose it.",
    },
    "doc": {**TEXT, "description": "What the set is for."},
    "enabled": {**_PACK_ENABLED, "description": "false switches the set off."},
    "products": {
        "description": (
            "The products whose cases have a bucket in the set (default: every product)."
        ),
        "oneOf": [PRODUCT_NAME, {"type": "array", "items": PRODUCT_NAME, "minItems": 1}],
    },
}
_BUCKET_RANGE = {
    "id": {**TEXT, "description": "The bucket's id: the value of the set's fact."},
    "label": {**TEXT, "description": "A label (default: the id)."},
    "min_dpd": whole("The first dpd of the bucket."),
    "max_dpd": whole("The last dpd of the bucket (the last range has none)."),
    "treatments": one_or_many({"$ref": "#/$defs/remedy"}, "The remedies for the bucket."),
    "cites": {**CITES, "description": "Clause ids of the bucket."},
    "doc": {**TEXT, "description": "What the bucket means."},
}


def regulation_defs() -> dict[str, Any]:
    """The ``$defs`` of the ``[regulation]`` section."""
    reg_keys = tuple(
        dict.fromkeys(
            (*_regulatory.LADDER_KEYS, *_regulatory.MATERIALITY_KEYS, *_regulatory.REAGE_KEYS)
        )
    )
    kind_keys = {
        _regulatory.PackKind.DPD_LADDER.value: (_regulatory.LADDER_KEYS, ["fact", "classes"]),
        _regulatory.PackKind.MATERIALITY_DEFAULT.value: (
            _regulatory.MATERIALITY_KEYS,
            ["fact", "over_dpd", "relative", "absolute"],
        ),
        _regulatory.PackKind.REAGE.value: (
            _regulatory.REAGE_KEYS,
            [
                "fact",
                "min_account_months",
                "min_payments",
                "interval_months",
                "window_months",
                "max_in_window",
            ],
        ),
    }
    return {
        "regulation": by_id("regulation_pack", "Regulatory classification packs, by pack id."),
        "regulation_pack": pack(
            reg_keys,
            _REGULATION_PACK,
            ["kind"],
            "A classification pack: dpd_ladder, materiality_default or reage.",
            kind_keys,
            {
                _regulatory.PackKind.DPD_LADDER.value: [
                    together("upgrade_from", "upgrade_months"),
                    cited_with("upgrade_cites", "upgrade_from", "upgrade_months"),
                    together("restructured_class", "restructured_months"),
                    cited_with("restructured_cites", "restructured_class", "restructured_months"),
                    {"dependentRequired": {"restructured_npl_class": ["restructured_class"]}},
                    {
                        "dependentRequired": {
                            "cross_npl_share": ["cross_class"],
                            "cross_all_banks_share": ["cross_class"],
                        }
                    },
                    cited_with("cross_cites", "cross_class"),
                    # thresholds by product type read the pack's product_types
                    {
                        "if": {
                            "required": ["classes"],
                            "properties": {
                                "classes": {
                                    "type": "array",
                                    "contains": {
                                        "anyOf": [
                                            {
                                                "properties": {key: {"type": "object"}},
                                                "required": [key],
                                            }
                                            for key in ("over_dpd", "from_dpd")
                                        ]
                                    },
                                }
                            },
                        },
                        "then": {
                            "required": ["product_types"],
                            "properties": {"product_types": {"minProperties": 1}},
                        },
                    },
                    {
                        "dependentSchemas": {
                            "cross_class": {
                                "anyOf": [
                                    {"required": ["cross_npl_share"]},
                                    {"required": ["cross_all_banks_share"]},
                                ]
                            }
                        }
                    },
                ],
                _regulatory.PackKind.MATERIALITY_DEFAULT.value: [
                    cited_with("probation_cites", "probation_months"),
                    cited_with("restructuring_cites", "restructuring_months"),
                ],
            },
        ),
        "ladder_class": table(
            _regulatory.LADDER_CLASS_KEYS,
            _LADDER_CLASS,
            ["value", "rule"],
            "A class of a dpd_ladder pack; every class but the first has over_dpd or from_dpd.",
        ),
        "ladder_in_default": table(
            _regulatory.IN_DEFAULT_KEYS,
            _IN_DEFAULT,
            ["pack", "rule"],
            "A ladder class that holds while a materiality_default pack says default.",
        ),
    }


def guardrails_defs() -> dict[str, Any]:
    """The ``$defs`` of the ``[guardrails]`` section."""
    rule_keys = tuple(
        dict.fromkeys(
            (*_guardrails.RULE_KEYS, *(k for v in _guardrails.KIND_KEYS.values() for k in v))
        )
    )
    rule = table(
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
    # A third-party rule that waits for the debtor to be unreachable says after how many
    # failed attempts.
    rule["allOf"].append(
        {
            "if": {
                "properties": {
                    "kind": {"const": _guardrails.RuleKind.THIRD_PARTY.value},
                    "requires_unreachable": {"const": True},
                },
                "required": ["kind", "requires_unreachable"],
            },
            "then": {"required": ["failed_attempts"]},
        }
    )
    return {
        "guardrails": by_id("guardrail_pack", "Contact guardrail packs, by pack id."),
        "guardrail_pack": pack(
            _guardrails.PACK_KEYS, _GUARDRAIL_PACK, ["rules"], "A contact guardrail pack."
        ),
        "guardrail_rule": rule,
    }


def buckets_defs() -> dict[str, Any]:
    """The ``$defs`` of the ``[buckets]`` section."""
    return {
        "buckets": by_id("bucket_set", "Delinquency bucket sets, by set id."),
        "bucket_set": pack(
            _buckets.SET_KEYS, _BUCKET_SET, ["fact", "ranges"], "A delinquency bucket set."
        ),
        "bucket_range": table(
            _buckets.RANGE_KEYS, _BUCKET_RANGE, ["id", "min_dpd"], "A bucket: a range of dpd."
        ),
    }
