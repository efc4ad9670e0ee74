"""The ``[money]`` section's part of the policy JSON Schema."""

from __future__ import annotations

from typing import Any

from collectrules._json import schema_pattern
from collectrules.money import terms as _terms
from collectrules.policy.schema import CITES, DATE_PATTERN, TEXT, figure, table, whole

__all__ = ["money_defs"]

_RATE = figure({"type": "number", "minimum": 0}, "A rate (a fraction: 0.06 is 6 %).")
_STATUS = {"enum": ["V", "S"], "description": "How well established the figure is (REGULATION.md)."}
_RULE = {"type": "string", "pattern": schema_pattern(_terms._ID)}
_COMPONENTS = {
    "type": "array",
    "items": {"enum": list(_terms.ALLOCATION_PARTS)},
    "uniqueItems": True,
}
_MONEY = {
    "allocation_order": {
        **_COMPONENTS,
        "description": "The order in which a payment pays the components of the amount due.",
    },
    "calendar": {
        "description": "Move plan due dates to the next working day of this calendar: a "
        'country code or { country = "CN", subdivision = … }.',
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"country": TEXT, "subdivision": TEXT},
                "required": ["country"],
                "additionalProperties": False,
            },
        ],
    },
    "horizon_months": whole("The recovery horizon a plan may not run past (Q2-SHORT).", 1),
    "horizon_rule": {**_RULE, "description": "The clause of the horizon (default Q2-SHORT)."},
    "horizon_kinds": {
        "oneOf": [
            {"enum": ["extend", "replan", "restructure"]},
            {"type": "array", "items": {"enum": ["extend", "replan", "restructure"]}},
        ],
        "description": "The plan kinds the horizon bounds (default: extend, replan).",
    },
    "max_months": whole("The most instalments a plan may have.", 1),
    "max_months_rule": {**_RULE, "description": "The clause of max_months."},
    "acceleration_after_missed": whole(
        "Breach terms: the balance falls due after this many missed instalments.", 1, 120
    ),
    "rate_cap": {"$ref": "#/$defs/money_rate_cap"},
    "penalty_cap": {"$ref": "#/$defs/money_penalty_cap"},
    "reductions": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_terms._ID)},
        "additionalProperties": {"$ref": "#/$defs/money_reduction"},
        "description": "Incentives and reductions, keyed by id.",
    },
    "targets": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_terms._ID)},
        "additionalProperties": {"$ref": "#/$defs/money_target"},
        "description": "Collection targets (催收目标), keyed by id.",
    },
}
_CAP_COMMON = {
    "rule": {**_RULE, "description": "The clause the cap encodes."},
    "status": _STATUS,
    "cites": CITES,
    "note": {**TEXT, "description": "What the policy reads the rule as, and where it applies."},
}
_RATE_CAP = {
    "rule": _CAP_COMMON["rule"],
    "lpr": _RATE,
    "lpr_date": {
        "description": "The date the LPR was published (a date, or a parameter holding one).",
        "anyOf": [
            {"type": "string", "pattern": DATE_PATTERN},
            {"$ref": "#/$defs/parameter_name"},
        ],
    },
    "multiple": figure({"type": "number", "minimum": 0}, "The multiple of the LPR."),
    "status": _STATUS,
    "cites": CITES,
    "note": _CAP_COMMON["note"],
}
_PENALTY_CAP = {
    "rule": _CAP_COMMON["rule"],
    "excess": figure(
        {"type": "number", "minimum": 0}, "The most a penalty may exceed the loss, as a share."
    ),
    "status": _STATUS,
    "cites": CITES,
    "note": _CAP_COMMON["note"],
}
_REDUCTION = {
    "remedy": {"$ref": "#/$defs/remedy"},
    "max_share": figure({"type": "number", "minimum": 0, "maximum": 1}, "The largest share."),
    "applies_to": {**_COMPONENTS, "description": "The components it may reduce."},
    "quadrants": {
        "oneOf": [
            {"enum": ["Q1", "Q2", "Q3", "Q4"]},
            {"type": "array", "items": {"enum": ["Q1", "Q2", "Q3", "Q4"]}},
        ],
        "description": "The quadrants it is offered in (default: all).",
    },
    "reason": TEXT,
    "cites": CITES,
}
_TARGET = {
    "basis": {"enum": list(_terms.TARGET_BASES), "description": "What the rate is a share of."},
    "rate": figure({"type": "number", "minimum": 0, "maximum": 1}, "The share to recover."),
    "label_en": TEXT,
    "label_zh": TEXT,
    "cites": CITES,
}


def money_defs() -> dict[str, Any]:
    """The ``$defs`` of ``[money]``."""
    return {
        "money": table(_terms.MONEY_KEYS, _MONEY, [], "Repayment plans, charges, caps, targets."),
        "money_rate_cap": table(
            _terms.RATE_CAP_KEYS, _RATE_CAP, ["rule", "lpr", "lpr_date", "multiple"], "A rate cap."
        ),
        "money_penalty_cap": table(
            _terms.PENALTY_CAP_KEYS, _PENALTY_CAP, ["rule", "excess"], "A penalty cap."
        ),
        "money_reduction": table(
            _terms.REDUCTION_KEYS, _REDUCTION, ["max_share", "reason"], "A reduction."
        ),
        "money_target": table(_terms.TARGET_KEYS, _TARGET, ["rate"], "A collection target."),
    }
