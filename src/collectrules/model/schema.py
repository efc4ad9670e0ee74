"""The JSON Schemas of a case and of a decision, generated from the model.

:func:`case_schema` walks the attrs classes that ``Case.from_dict`` structures (the
case, its signals, events, guarantors and fees), and :func:`decision_schema` the
classes of :class:`~collectrules.model.decision.Decision`, in the shape of
``Decision.to_dict()``. The package ships the results beside the policy schema, as
``schema/case.schema.json`` and ``schema/decision.schema.json``; a test keeps them equal
to what this module generates, and ``collectrules schema --kind case|decision`` prints
them.

The case schema accepts a document exactly when ``Case.from_dict`` does, but for the
exceptions :data:`_CASE_EXCEPTIONS` lists (in the schema's own ``description``): what
depends on a policy (the signal kinds it knows), on tables installed beside the library
(the time zones of ``tzdata``, the currencies of ``iso4217``), and what JSON Schema
cannot tell apart (``3.0`` from ``3``) or cannot bound (a number written with an
exponent). tests/test_schema_agreement.py holds it to that. Its patterns are written to
mean the same in ECMA-262 and in Python's ``re``, which ``jsonschema`` uses: a pattern
ends in ``$(?!\\n)``, as Python's ``$`` also matches before a final line break, and
spells out the characters Python's ``\\s`` and ``.`` stand for.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

import attrs
import pendulum

from collectrules._json import SCHEMA_END
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.model import case as _case
from collectrules.model.decision import SCHEMA_VERSION, Decision, Quadrant
from collectrules.model.limits import (
    MAX_COUNT,
    MAX_ID_LENGTH,
    MAX_KIND_LENGTH,
    MAX_NUMBER_TEXT,
    MAX_TEXT_LENGTH,
    MAX_YEAR,
    MEASURE,
    MIN_YEAR,
    MONEY,
    NO_DATE_SENTINELS,
    NumberLimit,
)
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

# ----------------------------------------------------------------- the text grammars
#
# Each pattern means the same in ECMA-262 (what JSON Schema names) and in Python's
# ``re`` (what ``jsonschema`` runs), and matches exactly the text ``Case.from_dict``
# reads. Python's ``$`` also matches before a final line break, so every pattern ends
# in ``$(?!\n)``, which is plain ``$`` in ECMA-262.

_END = SCHEMA_END
#: Valid Unicode: no lone surrogate (a UTF-16 pair is one character in Python and two
#: code units in ECMA-262, so both spellings are accepted).
_VALID_UNICODE = r"^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*" + _END
#: The characters Python's ``\s`` matches, as ``ID_PATTERN`` reads a case id (ECMA-262's
#: ``\s`` differs: it has U+FEFF and lacks U+001C–U+001F and U+0085).
_PY_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SNAKE = r"^[a-z][a-z0-9_]*" + _END
_ZONE_SHAPE = r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*" + _END

# Dates of the years MIN_YEAR to MAX_YEAR, each day of the calendar and no other.
_YEAR = r"(?:19[0-9]{2}|2[01][0-9]{2}|2200)"
_LEAP_YEAR = r"(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DAY = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
# An offset as the case reader takes it: hours short of a day, minutes and seconds
# 00-59 and no fraction (datetime.fromisoformat reads +08:60 as +09:00, and
# +00:00:00.1 as UTC).
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"


def _years_checked() -> None:
    """The date patterns spell out the years MIN_YEAR to MAX_YEAR."""
    if (MIN_YEAR, MAX_YEAR) != (1900, 2200):  # pragma: no cover - a changed limit
        raise TypeError("the case schema's date patterns need the new year limits")


def _at_most(n: int) -> str:
    """A pattern of the decimal numbers from 0 to ``n``, without leading zeros."""
    digits = str(n)
    options = ["[0-9]"] if len(digits) > 1 else []
    options += [f"[1-9][0-9]{{{k - 1}}}" for k in range(2, len(digits))]
    for i, d in enumerate(digits):
        low = 1 if i == 0 and len(digits) > 1 else 0
        if int(d) > low:
            rest = len(digits) - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            options.append(f"{digits[:i]}[{low}-{int(d) - 1}]{tail}")
    options.append(digits)
    return "|".join(options)


def _number(
    limit: NumberLimit, *, low: int | None, high: str, top: int, below: bool = False
) -> dict[str, Any]:
    """A number of ``limit`` from ``low`` (None: as negative as ``limit`` allows) up to
    ``top`` (``below``: short of it): a JSON number, or text in plain decimal notation.

    ``high`` is the pattern of the text of the numbers from one up to ``top``.
    """
    smallest = -limit.smallest.adjusted() - 1
    small = rf"0*\.0{{0,{smallest}}}[1-9][0-9]*"
    sign = r"[+-]?" if low is None else r"\+?"
    # No more significant digits than limit.digits, leading and trailing zeros aside.
    digits = rf"(?![+-]?[0.]*[1-9](?:\.?[0-9]){{{limit.digits - 1}}}[0-9.]*[1-9])"
    text = rf"^{digits}(?:[+-]?(?:0+\.?0*|\.0+)|{sign}(?:{high}|{small}))" + _END
    tiny = float(limit.smallest)
    number: dict[str, Any] = {"type": "number"}
    if low is None:
        number["minimum"] = -top
        gap: dict[str, Any] = {
            "anyOf": [
                {"exclusiveMinimum": -tiny, "exclusiveMaximum": 0},
                {"exclusiveMinimum": 0, "exclusiveMaximum": tiny},
            ]
        }
    else:
        number["minimum"] = low
        gap = {"exclusiveMinimum": 0, "exclusiveMaximum": tiny}
    number["exclusiveMaximum" if below else "maximum"] = top
    number["not"] = gap
    return {
        "anyOf": [
            number,
            {"type": "string", "maxLength": MAX_NUMBER_TEXT, "pattern": text},
        ]
    }


def _up_to(limit: NumberLimit) -> str:
    """The pattern of the text of the numbers from 1 up to ``limit.maximum`` (a power
    of ten), without an exponent."""
    power = limit.maximum.adjusted()
    if limit.maximum != Decimal(10) ** power:  # pragma: no cover - a changed limit
        raise TypeError("the case schema's number patterns need a power of ten")
    return rf"0*[1-9][0-9]{{0,{power - 1}}}(?:\.[0-9]*)?|0*1{'0' * power}(?:\.0*)?"


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "description": description}


def _money() -> dict[str, Any]:
    return _described(
        _number(MONEY, low=0, high=_up_to(MONEY), top=int(MONEY.maximum)),
        f"An amount in major units, as a JSON number or a string: {MONEY.describe()}.",
    )


def _measure() -> dict[str, Any]:
    return _described(
        _number(MEASURE, low=None, high=_up_to(MEASURE), top=int(MEASURE.maximum)),
        f"A decimal number, as a JSON number or a string: {MEASURE.describe()}.",
    )


def _rate() -> dict[str, Any]:
    number = _number(MEASURE, low=0, high=r"0*[1-9](?:\.[0-9]*)?", top=10, below=True)
    return {
        "anyOf": [number, {"type": "null"}],
        "description": "An annual rate as a fraction from 0 up to, not including, 10 "
        "(0.06 is 6 %), as a JSON number or a string; absent or null when the contract "
        "has none.",
    }


def _share(description: str) -> dict[str, Any]:
    """A case's optional share of the debtor's debts: a number from 0 to 1, or null."""
    number = _number(MEASURE, low=0, high=r"0*1(?:\.0*)?", top=1)
    return {"anyOf": [number, {"type": "null"}], "description": description}


def _string(maximum: int, pattern: str, description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": maximum, "pattern": pattern, "description": description}


def _text(maximum: int, what: str) -> dict[str, Any]:
    return _string(
        maximum, _VALID_UNICODE, f"{what}: at most {maximum:,} characters of valid Unicode."
    )


def _identifier() -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": MAX_ID_LENGTH,
        "allOf": [
            {"pattern": _VALID_UNICODE},
            {"pattern": rf"^[^{_PY_SPACE}](?:[^\n]*[^{_PY_SPACE}])?" + _END},
        ],
        "description": f"An id: at most {MAX_ID_LENGTH} characters on one line, not "
        "starting or ending with a space.",
    }


def _snake(what: str) -> dict[str, Any]:
    return _string(
        MAX_KIND_LENGTH,
        _SNAKE,
        f"{what}: a snake_case name of at most {MAX_KIND_LENGTH} characters.",
    )


def _date() -> dict[str, Any]:
    _years_checked()
    return {
        "type": "string",
        "format": "date",
        "pattern": f"^{_DAY}" + _END,
        "description": f"A date, YYYY-MM-DD, a day of the calendar of the years "
        f"{MIN_YEAR}–{MAX_YEAR}.",
    }


def _instant() -> dict[str, Any]:
    _years_checked()
    return {
        "type": "string",
        "format": "date-time",
        "maxLength": _case._MAX_DATE_TEXT,
        "pattern": rf"^{_DAY}[Tt ]{_TIME}{_OFFSET}" + _END,
        "description": f"An ISO 8601 instant with an offset (Z or ±HH:MM), its date in "
        f"the years {MIN_YEAR}–{MAX_YEAR}.",
    }


def _count() -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
            {"type": "string", "pattern": rf"^(?=[0-9]{{1,4}}$)0*(?:{_at_most(MAX_COUNT)})" + _END},
        ],
        "description": f"A whole number from 0 to {MAX_COUNT}, or its digits as text (a CSV "
        "cell, at most four digits).",
    }


def _months() -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": _case._MAX_GUARANTEE_MONTHS,
        "description": f"A whole number of months from 1 to {_case._MAX_GUARANTEE_MONTHS}.",
    }


#: The JSON shapes of the case's input types (``_CaseIn`` and the classes it holds).
_CASE_TYPES: dict[Any, Any] = {
    _case._Money: _money,
    _case._Number: _measure,
    _case._Count: _count,
    _case._Months: _months,
    _case._Id: _identifier,
    _case._Kind: lambda: _text(MAX_KIND_LENGTH, "A name"),
    _case._ProductName: lambda: _string(
        MAX_KIND_LENGTH,
        rf"^[a-z][a-z0-9_]{{0,{MAX_KIND_LENGTH - 1}}}" + _END,
        "A product of the policy's catalogue: loan, credit_card, receivable, "
        "property_fee, or one the policy adds in [catalogue.products].",
    ),
    str: lambda: _text(MAX_TEXT_LENGTH, "A text"),
    dt.date: _date,
    pendulum.DateTime: _instant,
}

#: Where the case schema accepts what ``Case.from_dict`` refuses, or the reverse: each
#: is in the schema's description and in docs/decision-schema.md, and
#: tests/test_schema_agreement.py finds no other.
_CASE_EXCEPTIONS: tuple[str, ...] = (
    "timezone: the schema checks the shape of a zone name; Case.from_dict also checks "
    "that the installed tzdata lists it.",
    "currency: the schema checks three capital letters; Case.from_dict also checks that "
    "the installed ISO 4217 table lists the code, with a minor unit.",
    "signals[].kind and product: the schema checks a snake_case name; the policy that "
    "reads the case checks that it knows the name.",
    "A count or a number of months written with a fraction of zero (3.0): JSON Schema "
    "holds it a whole number; Case.from_dict refuses it.",
    "A number written as text with an exponent ('1e3'): the schema refuses it, as a "
    "pattern cannot bound its value; Case.from_dict reads it when it is in range.",
)

#: Where the decision schema accepts what ``Decision.from_dict`` refuses, or the
#: reverse: each is in the schema's description and in docs/decision-schema.md, and
#: tests/test_decision_schema_agreement.py finds no other.
_DECISION_EXCEPTIONS: tuple[str, ...] = (
    "ignored_signals written with a fraction of zero (3.0): JSON Schema holds it a whole "
    "number; Decision.from_dict refuses it.",
)

#: A decimal number of a decision (where it is not a case's input).
_DECIMAL = {
    "type": ["number", "string"],
    "pattern": r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?" + _END,
    "description": "A decimal number, as a JSON number or a string of digits.",
}
_REMEDY = {
    "anyOf": [
        {"enum": [r.value for r in Remedy]},
        {"type": "string", "pattern": "^[a-z][a-z0-9_]*" + _END},
    ],
    "description": "A remedy: a standard one, or one of the policy's own catalogue.",
}


# Fields whose JSON shape is narrower than their Python type.
_FIELD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("case", "currency"): {
        "type": "string",
        "pattern": r"^[A-Z]{3}" + _END,
        "description": "An ISO 4217 currency code with a minor unit, such as CNY.",
    },
    ("case", "timezone"): {
        "type": "string",
        "maxLength": MAX_KIND_LENGTH,
        "pattern": _ZONE_SHAPE,
        "description": "An IANA time zone, such as Asia/Shanghai.",
    },
    ("case", "maturity_date"): {
        "anyOf": [
            _date(),
            *({"const": day.isoformat()} for day in NO_DATE_SENTINELS),
            {"type": "null"},
        ],
        "description": "The contract's last due date; "
        + ", ".join(day.isoformat() for day in NO_DATE_SENTINELS)
        + " or null mean none.",
    },
    ("case", "annual_rate"): _rate(),
    ("case", "penalty_rate"): _rate(),
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
    ("signal", "kind"): _snake("A signal kind of the policy's catalogue (docs/signals.md)"),
    ("fee", "kind"): _snake("A fee kind"),
}


def _event_rules(out: dict[str, Any]) -> dict[str, Any]:
    """An event's fields that its kind requires, and ``retracts`` only on a retraction."""
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {"kind": {"const": kind.value}}, "required": ["kind"]},
            "then": {
                "required": list(names),
                "properties": {name: {"not": {"type": "null"}} for name in names},
            },
        }
        for kind, names in _case.EVENT_REQUIRED_FIELDS.items()
    ]
    retraction = _case.EventKind.RETRACTION.value
    rules.append(
        {
            "if": {"properties": {"kind": {"not": {"const": retraction}}}},
            "then": {"properties": {"retracts": {"type": "null"}}},
        }
    )
    return {**out, "allOf": rules}


def _def_name(cls: type) -> str:
    name = cls.__name__.removeprefix("_").removesuffix("In")
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return {"level_result": "level", "policy_ref": "policy"}.get(out, out)


class _Walker:
    def __init__(
        self,
        overrides: Mapping[str, Any],
        types: Mapping[Any, Any] | None = None,
        max_items: Mapping[type, int] | None = None,
    ) -> None:
        self.defs: dict[str, Any] = {}
        self.overrides = overrides
        self.types = types or {}
        self.max_items = max_items or {}

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
        shape = self.types.get(tp)
        if shape is not None:
            out: dict[str, Any] = shape()
            return out
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(tp))}
        if origin in (typing.Union, types.UnionType):
            options = [o for o in typing.get_args(tp) if o is not type(None)]
            (inner,) = options
            return {"anyOf": [self.type(inner), {"type": "null"}]}
        if origin is tuple:
            item = typing.get_args(tp)[0]
            array: dict[str, Any] = {"type": "array", "items": self.type(item)}
            if item in self.max_items:
                array["maxItems"] = self.max_items[item]
            return array
        if origin is Mapping or tp is Mapping:
            args = typing.get_args(tp)
            value = self.type(args[1]) if args else {}
            return (
                {"type": "object", "additionalProperties": value} if value else {"type": "object"}
            )
        if tp is Decimal:
            return dict(_DECIMAL)
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
    walker = _Walker({"event": _event_rules}, _CASE_TYPES, _case._LIST_LIMITS)
    root = walker.object(_case._CaseIn, "case")
    exceptions = " ".join(f"({i}) {text}" for i, text in enumerate(_CASE_EXCEPTIONS, 1))
    return _top(
        CASE_SCHEMA_ID,
        "collectrules case",
        "One overdue account, as Case.from_dict reads it (docs/tutorial.md). The schema "
        "accepts a case exactly when Case.from_dict does, but for these exceptions "
        f"(docs/decision-schema.md): {exceptions}",
        walker,
        root,
    )


def _float() -> dict[str, Any]:
    """A number that a float holds (a larger integer is refused, not rounded)."""
    return {
        "type": "number",
        "minimum": -sys.float_info.max,
        "maximum": sys.float_info.max,
        "description": "A number within a float's range (about ±1.8e308).",
    }


def _labelled(out: dict[str, Any]) -> dict[str, Any]:
    props = {
        **out["properties"],
        "label_en": {"type": "string", "description": "The remedy's English label."},
        "label_zh": {"type": "string", "description": "The remedy's Chinese label."},
    }
    return {**out, "properties": props, "required": [*out["required"], "label_en", "label_zh"]}


def decision_schema() -> dict[str, Any]:
    """The JSON Schema of ``Decision.to_dict()`` (and so of ``Decision.to_json()``)."""
    walker = _Walker(
        {"remedy_grant": _labelled, "remedy_block": _labelled},
        {pendulum.DateTime: _instant, float: _float},
    )
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
        "is present only when the case carries contract terms. The schema accepts a "
        "decision exactly when Decision.from_dict does, but for these exceptions: "
        + " ".join(f"({i}) {text}" for i, text in enumerate(_DECISION_EXCEPTIONS, 1)),
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
