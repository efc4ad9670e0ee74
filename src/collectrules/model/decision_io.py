"""Reading a decision back from its JSON: the inverse of ``Decision.to_dict``.

``Decision.from_dict`` and ``Decision.from_json`` call :func:`decision_from_dict` and
:func:`decision_from_json` here, which rebuild a decision from the plain data of
``Decision.to_dict()`` (schema version 1), so that
``Decision.from_json(d.to_json()).to_json() == d.to_json()``. The reader walks the attrs
model of the class it is given (this module does not import the decision module, which
imports it). The labels that
``to_dict`` derives (the quadrant's and each remedy's ``label_en`` and ``label_zh``) are
read and checked to be well-formed, then rebuilt from the values. Each field is
checked against the attrs model; every problem is reported at once, as an
:class:`~collectrules.errors.InputError` naming the field's path (``allowed[2].remedy``).

``engine`` (which back end decided) is not part of the JSON; pass it when it is known.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import types
import typing
from collections.abc import Collection, Mapping
from typing import Any

import attrs
import pendulum

from collectrules import _json as strict_json
from collectrules._arguments import require_optional_text, require_text, wrong_kind
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import parse_as_of

__all__ = ["decision_from_dict", "decision_from_json"]

D = typing.TypeVar("D")

# Keys of ``to_dict`` output that are derived from other values, by the class they sit in.
_DERIVED: dict[str, frozenset[str]] = {
    "RemedyGrant": frozenset({"label_en", "label_zh"}),
    "RemedyBlock": frozenset({"label_en", "label_zh"}),
    "Decision": frozenset({"schema_version", "quadrant"}),
}
#: Keys that ``to_dict`` always writes though the class has a default for them: a
#: document without one was not written by ``to_dict`` (nor does the schema take it).
_ALWAYS_WRITTEN: dict[str, frozenset[str]] = {
    "RemedyGrant": frozenset({"label_en", "label_zh"}),
    "RemedyBlock": frozenset({"label_en", "label_zh"}),
    "Decision": frozenset({"regulatory", "buckets"}),
}
#: Fields of a class that are not in its JSON, with why.
_NOT_WRITTEN: dict[str, dict[str, str]] = {
    "Decision": {
        "engine": "a decision's JSON does not say which back end decided it: pass engine= "
        "to the reader instead",
    },
}
_MISSING = object()
_REMEDY_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


def _check_options(engine: object, source: object, remedies: object) -> None:
    """The options of reading a decision, checked: texts (``source`` may be ``None``)
    and a collection of remedy names (or ``None``)."""
    require_text(engine, "engine", "a back end's name")
    require_optional_text(source, "source", "a file's name")
    if remedies is not None and (
        isinstance(remedies, str | bytes) or not isinstance(remedies, Collection)
    ):
        raise wrong_kind("remedies", remedies, "a collection of remedy names or None")
    if remedies is not None:
        for item in remedies:
            if not isinstance(item, str):
                raise wrong_kind("remedies[]", item, "a remedy's name")


class _Reader:
    """Structures plain data into the attrs model, collecting every problem."""

    def __init__(self, source: str | None, remedies: Collection[str] | None = None) -> None:
        self.source = source
        self.remedies = remedies
        self.problems: list[FieldProblem] = []

    def fail(self, path: str, message: str, suggestion: str | None = None) -> object:
        self.problems.append(FieldProblem(path, message, source=self.source, suggestion=suggestion))
        return _MISSING

    def obj(
        self, cls: type[Any], data: object, path: str, skip: frozenset[str] = frozenset()
    ) -> Any:
        if not isinstance(data, Mapping):
            return self.fail(path, f"expected an object, got {_kind(data)}")
        # A field the constructor does not take (a decision's kept JSON) is not data.
        fields = {n: f for n, f in attrs.fields_dict(attrs.resolve_types(cls)).items() if f.init}
        not_written = _NOT_WRITTEN.get(cls.__name__, {})
        allowed = (set(fields) - set(not_written)) | _DERIVED.get(cls.__name__, frozenset())
        for key in data:
            if key in not_written:
                self.fail(_join(path, str(key)), f"unknown key: {not_written[str(key)]}")
            elif key not in allowed:
                self.fail(_join(path, str(key)), "unknown key", did_you_mean(str(key), allowed))
        for key in sorted(_ALWAYS_WRITTEN.get(cls.__name__, frozenset())):
            if key not in data:
                self.fail(_join(path, key), "required (Decision.to_dict always writes it)")
        kwargs: dict[str, Any] = {}
        for name, field in fields.items():
            if name in skip:
                continue
            where = _join(path, name)
            if name not in data:
                if field.default is attrs.NOTHING:
                    self.fail(where, "required")
                continue
            value = self.value(field.type, data[name], where)
            if value is not _MISSING:
                kwargs[name] = value
        if cls.__name__ in ("RemedyGrant", "RemedyBlock"):
            remedy = kwargs.get("remedy")
            if isinstance(remedy, str) and not self.remedy_ok(remedy, _join(path, "remedy")):
                kwargs.pop("remedy")
            for key in ("label_en", "label_zh"):
                if key in data and not isinstance(data[key], str):
                    self.fail(_join(path, key), f"expected a string, got {_kind(data[key])}")
        missing = [n for n, f in fields.items() if f.default is attrs.NOTHING and n not in kwargs]
        if missing and not (set(missing) <= skip):
            return _MISSING
        return kwargs if skip else cls(**kwargs)

    def remedy_ok(self, name: str, path: str) -> bool:
        """A remedy is a name of the catalogue given, or else any snake_case name."""
        if self.remedies is not None and name not in self.remedies:
            known = [str(r) for r in self.remedies]
            self.fail(path, f"unknown remedy {quote(name)}", did_you_mean(name, known))
            return False
        if not _REMEDY_NAME.match(name):
            self.fail(path, f"expected a snake_case remedy name, got {quote(name)}")
            return False
        return True

    def value(self, tp: Any, data: object, path: str) -> Any:
        origin = typing.get_origin(tp)
        if tp is Any:
            return data
        if origin is typing.Literal:
            choices = typing.get_args(tp)
            if data not in choices:
                return self.fail(path, f"expected one of {', '.join(map(repr, choices))}")
            return data
        if origin in (typing.Union, types.UnionType):
            options = typing.get_args(tp)
            if data is None and type(None) in options:
                return None
            (inner,) = [o for o in options if o is not type(None)]
            return self.value(inner, data, path)
        if origin is tuple:
            (item, _ellipsis) = typing.get_args(tp)
            if not isinstance(data, list | tuple):
                return self.fail(path, f"expected an array, got {_kind(data)}")
            items = [self.value(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
            return _MISSING if _MISSING in items else tuple(items)
        if origin is Mapping or tp is Mapping:
            args = typing.get_args(tp)
            if not isinstance(data, Mapping):
                return self.fail(path, f"expected an object, got {_kind(data)}")
            item_type = args[1] if args else Any
            out: dict[str, Any] = {}
            for k, v in data.items():
                key = str(k)
                if key in out:  # 1 and "1": JSON's keys are text, and one would be lost
                    self.fail(_join(path, key), "a key given twice (as text and as another type)")
                out[key] = self.value(item_type, v, _join(path, key))
            return _MISSING if _MISSING in out.values() else out
        if isinstance(tp, type) and attrs.has(tp):
            return self.obj(tp, data, path)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            if not isinstance(data, str):
                return self.fail(path, f"expected a string, got {_kind(data)}")
            known = [str(m.value) for m in tp]
            if data not in known:
                hint = did_you_mean(data, known)
                return self.fail(path, f"unknown {tp.__name__.lower()} {quote(data)}", hint)
            return tp(data)
        if tp is pendulum.DateTime:
            if not isinstance(data, str):
                return self.fail(path, f"expected an ISO 8601 string, got {_kind(data)}")
            try:
                return parse_as_of(data)
            except InputError as exc:
                message = "; ".join(p.message for p in exc.problems)
                return self.fail(path, f"expected an ISO 8601 instant with an offset: {message}")
        if tp is dt.date:
            if not isinstance(data, str):
                return self.fail(path, f"expected a date as YYYY-MM-DD, got {_kind(data)}")
            try:
                return dt.date.fromisoformat(data)
            except ValueError:
                return self.fail(path, f"expected a date as YYYY-MM-DD, got {quote(data)}")
        if tp is bool:
            if not isinstance(data, bool):
                return self.fail(path, f"expected true or false, got {_kind(data)}")
            return data
        if tp is float:
            if isinstance(data, bool) or not isinstance(data, int | float):
                return self.fail(path, f"expected a number, got {_kind(data)}")
            try:
                return float(data)
            except OverflowError:  # an integer past a float's range
                return self.fail(
                    path,
                    "expected a number within a float's range (about ±1.8e308), got a larger one",
                )
        if tp is int:
            if isinstance(data, bool) or not isinstance(data, int):
                return self.fail(path, f"expected an integer, got {_kind(data)}")
            return data
        if tp is str:
            if not isinstance(data, str):
                return self.fail(path, f"expected a string, got {_kind(data)}")
            return data
        raise TypeError(f"no reader for {quote(tp)} at {path}")  # a model the reader does not know


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def decision_from_dict(
    cls: type[D],
    data: Mapping[str, Any],
    *,
    schema_version: str,
    engine: str = "durable",
    source: str | None = None,
    remedies: Collection[str] | None = None,
) -> D:
    """The decision of class ``cls`` whose ``to_dict()`` is ``data``.

    ``data["schema_version"]`` must be ``schema_version``. Invalid data is an
    :class:`~collectrules.errors.InputError` listing every invalid field by path;
    ``source`` (a file name) is named in each problem. With ``remedies`` (a policy's
    remedy catalogue), every remedy must be one of them; without, any snake_case name.
    """
    _check_options(engine, source, remedies)
    reader = _Reader(source, remedies)
    if not isinstance(data, Mapping):
        raise InputError([FieldProblem("", f"expected an object, got {_kind(data)}", source)])
    version = data.get("schema_version", _MISSING)
    if version is _MISSING:
        reader.fail("schema_version", "required")
    elif version != schema_version:
        reader.fail("schema_version", f"expected {quote(schema_version)}, got {quote(version)}")
    kwargs = reader.obj(cls, data, "", skip=frozenset({"quadrant", "engine"}))
    ignored = data.get("ignored_signals")
    if type(ignored) is int and ignored < 1:
        reader.fail(
            "ignored_signals",
            f"expected a whole number of at least 1, got {ignored} (the key is absent "
            "when the engine ignored no signal)",
        )
    model: Any = cls
    quadrant_type = attrs.fields_dict(attrs.resolve_types(model))["quadrant"].type
    quadrant = _quadrant(reader, quadrant_type, data.get("quadrant", _MISSING))
    if reader.problems:
        raise InputError(reader.problems, subject=source or "decision")
    decision: D = model(**kwargs, quadrant=quadrant, engine=engine)
    return decision


def _quadrant(reader: _Reader, quadrant_type: Any, raw: object) -> Any:
    if raw is _MISSING:
        return reader.fail("quadrant", "required")
    if not isinstance(raw, Mapping):
        return reader.fail("quadrant", f"expected an object, got {_kind(raw)}")
    for key in raw:
        if key not in ("value", "label_en", "label_zh"):
            reader.fail(f"quadrant.{key}", "unknown key")
        elif key != "value" and not isinstance(raw[key], str):
            reader.fail(f"quadrant.{key}", f"expected a string, got {_kind(raw[key])}")
    for key in ("label_en", "label_zh"):
        if key not in raw:
            reader.fail(f"quadrant.{key}", "required (Decision.to_dict always writes it)")
    if "value" not in raw:
        return reader.fail("quadrant.value", "required")
    return reader.value(quadrant_type, raw["value"], "quadrant.value")


def decision_from_json(
    cls: type[D],
    text: str | bytes,
    *,
    schema_version: str,
    engine: str = "durable",
    source: str | None = None,
    remedies: Collection[str] | None = None,
) -> D:
    """The decision whose ``to_json()`` is ``text``; see :func:`decision_from_dict`.

    Bytes are read as UTF-8, with or without a byte order mark, as the library's other
    readers read files; bytes in another encoding (UTF-16 and UTF-32, which
    ``json.loads`` would read, among them) are an :class:`InputError`."""
    _check_options(engine, source, remedies)
    if not isinstance(text, str | bytes | bytearray):
        msg = f"expected the decision's JSON as text or bytes, got {type(text).__name__}"
        raise InputError([FieldProblem("", msg, source=source)])
    try:
        data = strict_json.loads(text)
    except strict_json.RepeatedKeyError as exc:
        problem = FieldProblem(exc.path, exc.described(line=False), source=source, line=exc.line)
        raise InputError([problem]) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [FieldProblem("", f"not JSON: {exc.msg}", source=source, line=exc.lineno)]
        ) from None
    except strict_json.NotUtf8 as exc:  # UTF-16 or UTF-32, which json.loads reads
        raise InputError(
            [FieldProblem("", f"not UTF-8 text: {exc.reason}", source=source)]
        ) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text: a byte {exc.object[exc.start]:#04x} at byte {exc.start}"
        raise InputError([FieldProblem("", msg, source=source)]) from None
    except RecursionError:
        raise InputError([FieldProblem("", "nested too deep to read", source=source)]) from None
    return decision_from_dict(
        cls, data, schema_version=schema_version, engine=engine, source=source, remedies=remedies
    )
