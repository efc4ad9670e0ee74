"""The timeline section's part of the policy JSON Schema."""

from __future__ import annotations

from typing import Any

from collectrules._json import SCHEMA_END, schema_pattern
from collectrules.policy.schema import (
    CITES,
    CONDITION,
    DATE_PATTERN,
    EVENT_MATCHERS,
    PRODUCT_NAME,
    SPACE,
    TEXT,
    any_case,
    one_or_many,
    table,
)
from collectrules.timeline import stages as _stages

#: A text that is not blank: the loader strips Python's white space from a required text.
_VISIBLE = {"type": "string", "pattern": f"[^{SPACE}]"}

__all__ = ["OFFSET", "timeline_defs"]

_MATCHER = {"$ref": "#/$defs/event_matcher"}
_MATCHERS = {
    "description": "An event kind or a list of them (at least one).",
    "oneOf": [_MATCHER, {"type": "array", "items": _MATCHER, "minItems": 1}],
}
_UNITS = sorted(_stages._UNIT_WORDS, key=len, reverse=True)
_LITERAL_OFFSET = {
    "type": "string",
    "pattern": rf"^[{SPACE}]*[0-9]{{1,5}}[{SPACE}]*(?:"
    + "|".join(any_case(u) for u in _UNITS)
    + rf")[{SPACE}]*"
    + SCHEMA_END,
    "examples": ["24 hours", "3 days", "5 business days", "2 weeks", "1 month", "3d"],
}
_PARAMETER_OFFSET = {
    "type": "object",
    "properties": {
        "param": {
            "$ref": "#/$defs/parameter_name",
            "description": "The parameter that holds the whole number (0 to ten years).",
        },
        "unit": {
            "enum": [u.value for u in _stages.OffsetUnit],
            "description": "The unit the parameter counts in.",
        },
    },
    "required": list(_stages.OFFSET_PARAMETER_KEYS),
    "additionalProperties": False,
    "examples": [{"param": "regf_validation_days", "unit": "business_days"}],
}
#: An offset: a literal (``"5 business days"``) or a parameter and its unit. A stage's
#: ``within``, ``after`` and ``limit`` and an emergency step's ``within`` and ``limit``
#: (:class:`~collectrules.timeline.stages.OffsetReader` reads them all).
OFFSET: dict[str, Any] = {"oneOf": [_LITERAL_OFFSET, _PARAMETER_OFFSET]}
_DATES = {
    "type": "array",
    "items": {"type": "string", "pattern": DATE_PATTERN},
    "description": "Dates (TOML local dates, or YYYY-MM-DD strings).",
}
_TIMELINE = {
    "calendar": {
        "description": "The business calendar whose working days count: a country code "
        'or a table such as { country = "CN" }. Required once the policy is merged.',
        "oneOf": [_VISIBLE, {"$ref": "#/$defs/calendar"}],
    },
    "plans": {
        "type": "object",
        "propertyNames": {"pattern": schema_pattern(_stages._PLAN_NAME)},
        "additionalProperties": {
            "type": "array",
            "items": {"$ref": "#/$defs/stage"},
            "minItems": 1,
        },
        "description": "The stage plans, by snake_case name: [[timeline.plans.<name>]].",
    },
    "products": {
        "type": "object",
        "propertyNames": PRODUCT_NAME,
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
    "country": {**_VISIBLE, "description": "The country code, such as CN."},
    "subdivision": {**TEXT, "description": "The subdivision (province, state) code."},
    "extra_holidays": {**_DATES, "description": "Days off besides the country's holidays."},
    "extra_working_days": {**_DATES, "description": "Working days besides the usual ones."},
    "schedule": one_or_many(
        {**TEXT, "description": "A schedule file, relative to the policy file's folder."},
        "Official working-day schedules for later years (see docs/calendars.md).",
    ),
    "beyond_known": {
        "enum": ["rule", "error"],
        "description": "For a year without official working days: compute by rule, with "
        "a warning, or refuse (default: rule).",
    },
    "language": {
        **TEXT,
        "description": "The language of holiday names, such as zh_CN (default: en_US where known).",
    },
}
_STAGE = {
    "id": {**TEXT, "minLength": 1, "description": "The stage's id, unique in its plan."},
    "title": {**TEXT, "description": "A short title."},
    "anchor": {
        "oneOf": [
            {
                "enum": [
                    _stages.AnchorKind.DUE_DATE.value,
                    _stages.AnchorKind.OVERDUE_START.value,
                    _stages.AnchorKind.CONDITION.value,
                    _stages.AnchorKind.UNREACHABLE.value,
                    *EVENT_MATCHERS,
                ]
            },
            {"type": "array", "items": _MATCHER, "minItems": 1, "uniqueItems": True},
        ],
        "description": "What the offsets count from: due_date, overdue_start, condition, "
        "unreachable (since the decision counts the debtor unreachable), an event kind "
        "(kind or contact_attempt:outcome), or a list of event kinds (the first event of "
        "any of them).",
    },
    "within": {**OFFSET, "description": "The deadline, from the anchor."},
    "after": {**OFFSET, "description": "The earliest start, from the anchor."},
    "limit": {**OFFSET, "description": "A hard limit past the deadline (needs within)."},
    "action": {**_VISIBLE, "description": "What to do."},
    "channel": {
        "enum": [c.value for c in _stages.Channel],
        "description": "How the action is carried out.",
    },
    "owner": {**_VISIBLE, "description": "Who does it."},
    "completed_by": {**_MATCHERS, "description": "The event kinds that complete the stage."},
    "when": {**CONDITION, "description": "The condition under which the stage applies."},
    "reason": {**TEXT, "description": "Why the stage is skipped when its condition is false."},
    "cites": {**CITES, "description": "Clause ids the stage encodes."},
    "pauses_on_promise": {
        "type": "boolean",
        "description": "Whether a standing promise to pay pauses the stage "
        "(default: whether its channel contacts the debtor).",
    },
    "promise_wait": {
        "$ref": "#/$defs/parameter_name",
        "description": "A parameter giving whole days: only a promise to pay within that "
        "many days of making it pauses the stage (L-PROMISE3); a later one does not.",
    },
    "chosen": {
        "type": "boolean",
        "default": False,
        "description": "True when the source texts leave the stage open and the policy chose it.",
    },
    "doc": {**TEXT, "description": "What the stage is for."},
    "remedy": {
        "$ref": "#/$defs/remedy",
        "description": "The remedy the stage performs (litigate for a lawsuit step): while "
        "the step is open, late or breached, the decision must allow it (docs/coherence.md).",
    },
    "escalation": {
        "type": "boolean",
        "default": False,
        "description": "The plan's escalation point: phase P3 (strong collection) begins "
        "once it has passed (its deadline, or its opening for an 'after' stage).",
    },
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
_PERIOD: dict[str, dict[str, Any]] = {
    "enabled": {"type": "boolean", "default": True, "description": "false: not tracked."},
    "products": {
        "description": "The products whose cases have the period (default: every product); "
        "a case of another product has none, as though it were not enabled.",
        "oneOf": [PRODUCT_NAME, {"type": "array", "items": PRODUCT_NAME, "minItems": 1}],
    },
    "interrupted_by": {**_MATCHERS, "description": "The events that restart the period."},
    "satisfied_by": {**_MATCHERS, "description": "The events that preserve the claim."},
    "activity": {
        **_MATCHERS,
        "description": "The events that count as collection activity: the records are kept "
        "from the latest of them.",
    },
    "cites": {**CITES, "description": "Clause ids of the period."},
}
#: The periods a policy must switch on: the rest are tracked unless ``enabled = false``.
_OFF_BY_DEFAULT = frozenset({"records"})


def timeline_defs() -> dict[str, Any]:
    """The ``$defs`` of the ``[timeline]`` section."""
    periods = {
        name: table(
            keys,
            {
                k: {**v, "default": False} if k == "enabled" and name in _OFF_BY_DEFAULT else v
                for k, v in _PERIOD.items()
                if k in keys
            },
            [],
            f"The {name} period of the legal deadlines.",
        )
        for name, keys in _stages.PERIOD_KEYS.items()
    }
    # The records deadline, once switched on, cites the clause that sets the period.
    periods["records"]["if"] = {"properties": {"enabled": {"const": True}}, "required": ["enabled"]}
    periods["records"]["then"] = {
        "required": ["cites"],
        "properties": {"cites": {"not": {"const": []}}},
    }
    return {
        "timeline": table(
            _stages.TIMELINE_KEYS,
            _TIMELINE,
            [],
            "Stage plans, calendars and legal deadlines: see docs/reference-stages.md.",
        ),
        "calendar": table(_stages.CALENDAR_KEYS, _CALENDAR, ["country"], "The business calendar."),
        "stage": {
            **table(
                _stages.STAGE_KEYS,
                _STAGE,
                ["id", "anchor", "action", "channel", "owner", "completed_by"],
                "A stage of a plan.",
            ),
            "anyOf": [{"required": ["within"]}, {"required": ["after"]}],
        },
        "deadlines": table(
            _stages.DEADLINE_KEYS, _DEADLINES, [], "The rules of the legal deadlines."
        ),
        **periods,
    }
