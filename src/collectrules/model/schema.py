"""The JSON Schemas of a case and of a decision, generated from the model.

:func:`case_schema` walks the attrs classes that ``Case.from_dict`` structures (the
case, its signals, events, guarantors and fees), and :func:`decision_schema` the
classes of :class:`~collectrules.model.decision.Decision`, in the shape of
``Decision.to_dict()``. The package ships the results beside the policy schema, as
``schema/case.schema.json`` and ``schema/decision.schema.json``; a test keeps them equal
to what this module generates, and ``collectrules schema --kind case|decision`` prints
them.

A schema checks the shape of the data. Only ``Case.from_dict`` can check what depends
on a policy (the signal kinds it knows) or on the calendar (an existing time zone).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

import attrs
import pendulum

from collectrules.errors import FieldProblem, InputError, quote
from collectrules.model import case as _case
from collectrules.model.decision import SCHEMA_VERSION, Decision, Quadrant
from collectrules.model.remedies import Remedy

__all__ = [
    "CASE_SCHEMA_ID",
    "DECISION_SCHEMA_ID",
    "case_schema",
    "decision_schema",
    "model_schema_text",
    "shipped_model_schema",
]

#: The ``$id`` of the case schema.
CASE_SCHEMA_ID = "urn:collectrules:schema:case:1"
#: The ``$id`` of the decision schema (its version is the decision's schema version).
DECISION_SCHEMA_ID = f"urn:collectrules:schema:decision:{SCHEMA_VERSION}"

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER = {
    "type": ["number", "string"],
    "pattern": r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$",
    "description": "A decimal number, as a JSON number or a string of digits.",
}
_MONEY = {
    "type": ["number", "string"],
    "minimum": 0,
    "pattern": r"^\d+(\.\d+)?([eE][-+]?\d+)?$",
    "description": "An amount in major units (not negative), as a JSON number or a string.",
}
_REMEDY = {
    "anyOf": [
        {"enum": [r.value for r in Remedy]},
        {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
    ],
    "description": "A remedy: a standard one, or one of the policy's own catalogue.",
}


def _share(description: str) -> dict[str, Any]:
    """A case's optional share of the debtor's debts: a number from 0 to 1, or null."""
    number = {
        "type": ["number", "string"],
        "minimum": 0,
        "maximum": 1,
        "pattern": r"^\d+(\.\d+)?([eE][-+]?\d+)?$",
        "description": description,
    }
    return {"anyOf": [number, {"type": "null"}]}


# Fields whose JSON shape is narrower than their Python type.
_FIELD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("case", "currency"): {
        "type": "string",
        "pattern": r"^[A-Z]{3}$",
        "description": "An ISO 4217 currency code.",
    },
    ("case", "timezone"): {
        "type": "string",
        "description": "An IANA time zone, such as Asia/Shanghai.",
    },
    ("case", "product"): {
        "type": "string",
        "pattern": r"^[a-z][a-z0-9_]{0,63}$",
        "description": "A product of the policy's catalogue: loan, credit_card, receivable, "
        "property_fee, or one the policy adds in [catalogue.products].",
    },
    ("remedy_grant", "remedy"): _REMEDY,
    ("remedy_block", "remedy"): _REMEDY,
    ("decision", "ignored_signals"): {
        "type": "integer",
        "minimum": 1,
        "description": "How many of the case's signals the policy does not know and the "
        "engine ignored (unknown_signals='ignore'); absent when none were.",
    },
    ("case", "debtor_npl_share"): _share(
        "The share, by amount, of the debtor's claims at this bank that are "
        "non-performing, from 0 to 1 (0.15 is 15 %); absent when unknown (CN-5LVL-CROSS)."
    ),
    ("case", "debtor_90dpd_share_all_banks"): _share(
        "The share of the debtor's debt at all banks that is more than 90 days past due, "
        "as the credit reference report gives it, from 0 to 1; absent when unknown "
        "(CN-5LVL-CROSS)."
    ),
    ("signal", "kind"): {
        "type": "string",
        "description": "A signal kind of the policy's catalogue (docs/signals.md).",
    },
}


def _def_name(cls: type) -> str:
    name = cls.__name__.removeprefix("_").removesuffix("In")
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return {"level_result": "level", "policy_ref": "policy"}.get(out, out)


class _Walker:
    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self.defs: dict[str, Any] = {}
        self.overrides = overrides

    def ref(self, cls: type) -> dict[str, Any]:
        name = _def_name(cls)
        if name not in self.defs:
            self.defs[name] = {}  # reserve, for recursion
            self.defs[name] = self.object(cls, name)
        return {"$ref": f"#/$defs/{name}"}

    def object(self, cls: type, name: str) -> dict[str, Any]:
        fields = attrs.fields(attrs.resolve_types(cls))
        props: dict[str, Any] = {}
        required: list[str] = []
        for field in fields:
            if not field.init:
                continue  # kept by the object for itself (a decision's built JSON), not data
            special = _FIELD_SCHEMAS.get((name, field.name))
            props[field.name] = special if special is not None else self.type(field.type)
            if field.default is attrs.NOTHING:
                required.append(field.name)
        out: dict[str, Any] = {
            "type": "object",
            "description": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }
        extra = self.overrides.get(name)
        if extra is not None:
            out = extra(out)
        return out

    def type(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        if tp is Any:
            return {}
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(tp))}
        if origin in (typing.Union, types.UnionType):
            options = [o for o in typing.get_args(tp) if o is not type(None)]
            (inner,) = options
            return {"anyOf": [self.type(inner), {"type": "null"}]}
        if origin is tuple:
            return {"type": "array", "items": self.type(typing.get_args(tp)[0])}
        if origin is Mapping or tp is Mapping:
            args = typing.get_args(tp)
            value = self.type(args[1]) if args else {}
            return (
                {"type": "object", "additionalProperties": value} if value else {"type": "object"}
            )
        if tp is _case._Money:
            return dict(_MONEY)
        if tp is _case._Number or tp is Decimal:
            return dict(_NUMBER)
        if tp is _case._Count:
            return {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": _case._MAX_COUNT},
                    {"type": "string", "pattern": "^[0-9]{1,4}$"},
                ],
                "description": f"A whole number from 0 to {_case._MAX_COUNT}, or its digits as "
                "text (a CSV cell).",
            }
        if isinstance(tp, typing.NewType):
            # A checked input type (an id, a kind, a count): the shape of what it wraps.
            return self.type(tp.__supertype__)
        if isinstance(tp, type) and attrs.has(tp):
            return self.ref(tp)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return {"enum": [m.value for m in tp]}
        if tp is pendulum.DateTime:
            return {
                "type": "string",
                "format": "date-time",
                "description": "An ISO 8601 instant with an offset.",
            }
        if tp is dt.date:
            return {"type": "string", "format": "date", "description": "A date, YYYY-MM-DD."}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            return {"type": "string"}
        raise TypeError(f"no schema for {quote(tp)}")  # a model type the generator does not know


def _top(
    schema_id: str, title: str, description: str, walker: _Walker, root: dict[str, Any]
) -> dict[str, Any]:
    return {
        "$schema": _DRAFT,
        "$id": schema_id,
        "title": title,
        "description": description,
        **{k: v for k, v in root.items() if k != "description"},
        "$defs": dict(sorted(walker.defs.items())),
    }


def case_schema() -> dict[str, Any]:
    """The JSON Schema of one case, as ``Case.from_dict`` reads it."""
    walker = _Walker({})
    root = walker.object(_case._CaseIn, "case")
    return _top(
        CASE_SCHEMA_ID,
        "collectrules case",
        "One overdue account, as Case.from_dict reads it (docs/tutorial.md).",
        walker,
        root,
    )


def _labelled(out: dict[str, Any]) -> dict[str, Any]:
    props = {
        **out["properties"],
        "label_en": {"type": "string", "description": "The remedy's English label."},
        "label_zh": {"type": "string", "description": "The remedy's Chinese label."},
    }
    return {**out, "properties": props, "required": [*out["required"], "label_en", "label_zh"]}


def decision_schema() -> dict[str, Any]:
    """The JSON Schema of ``Decision.to_dict()`` (and so of ``Decision.to_json()``)."""
    walker = _Walker({"remedy_grant": _labelled, "remedy_block": _labelled})
    root = walker.object(Decision, "decision")
    props = dict(root["properties"])
    del props["engine"]
    props["quadrant"] = {
        "type": "object",
        "description": "The quadrant (DOMAIN.md §1) with its labels.",
        "properties": {
            "value": {"enum": [q.value for q in Quadrant]},
            "label_en": {"type": "string"},
            "label_zh": {"type": "string"},
        },
        "required": ["value", "label_en", "label_zh"],
        "additionalProperties": False,
    }
    props = {"schema_version": {"const": SCHEMA_VERSION}, **props}
    required = ["schema_version", *(n for n in root["required"] if n != "engine")]
    required += [n for n in ("regulatory", "buckets") if n not in required]
    root = {**root, "properties": props, "required": required}
    return _top(
        DECISION_SCHEMA_ID,
        "collectrules decision",
        "A decision, as Decision.to_dict() gives it (docs/decision-schema.md); 'amounts' "
        "is present only when the case carries contract terms.",
        walker,
        root,
    )


_GENERATORS = {"case": case_schema, "decision": decision_schema}


def model_schema_text(kind: str) -> str:
    """The ``case`` or ``decision`` schema as the text of its shipped file."""
    return json.dumps(_GENERATORS[kind](), indent=2, ensure_ascii=False) + "\n"


def shipped_model_schema(kind: str) -> dict[str, Any]:
    """The ``case`` or ``decision`` schema file shipped in the package."""
    if not isinstance(kind, str) or kind not in _GENERATORS:
        msg = f"expected case or decision, got {quote(kind)}"
        raise InputError([FieldProblem("kind", msg)])
    res = resources.files("collectrules") / "schema" / f"{kind}.schema.json"
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data
