"""Loading policies: files, text formats, composition, validation with file and line.

Every problem in a policy is reported together, each naming the file, the line where it
can be found, the rule id and the key path.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import math
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

import attrs

from collectrules import _json as strict_json
from collectrules._arguments import fs_encodable, is_utf8, source_name
from collectrules._files import UnreadableFile, read_small_file
from collectrules.conditions import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Not,
    Scalar,
    check,
    parse,
)
from collectrules.conditions.check import ParameterTypeError
from collectrules.errors import ConditionError, FieldProblem, PolicyError, did_you_mean, quote
from collectrules.model.case import STANDARD_PRODUCTS, ProductSpec
from collectrules.model.remedies import (
    CATEGORY_QUADRANTS,
    STANDARD_REMEDIES,
    RemedyCategory,
    RemedySpec,
    remedy_name,
)
from collectrules.policy import _key_lines, _limits, composition
from collectrules.policy._tables import TableReader
from collectrules.policy.model import (
    CORE_PARAMETERS,
    SIGNAL_DIMENSIONS,
    ConflictRule,
    Envelope,
    HitPolicy,
    Layer,
    LayerRule,
    NamedCondition,
    Parameter,
    ParameterSpec,
    Policy,
    RemedyEffect,
    RemedyRule,
    SignalSpec,
    base_fields,
    signal_fields,
)
from collectrules.policy.section import Section, installed_sections, parse_sections

__all__ = [
    "FORMAT_VERSION",
    "MAX_POLICY_BYTES",
    "available_policies",
    "is_shipped_name",
    "load_policy",
    "locate",
    "policy_chain",
    "policy_from_dict",
]

#: The key of a loaded policy's memo that holds where its parts are written.
_LOCATOR = "loader.locator"

# --------------------------------------------------------------------------- loading

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*\Z")
_KIND = re.compile(r"^[a-z][a-z0-9_]*\Z")
# The core's keys; each installed section adds its own (timeline, regulation …).
_TOP_KEYS = {
    "id", "version", "title", "description", "notes", "extends", "parameters", "signals",
    "layers", "remedies", "disable", "schema_version", "envelopes", "conditions", "catalogue",
}  # fmt: skip
#: The version of the policy format that this loader reads (``schema_version``).
FORMAT_VERSION = "1"
# The keys each table of a policy file accepts; collectrules.policy.schema generates the JSON
# Schema from these, so that the schema and the loader cannot drift apart.
_PARAMETER_KEYS = ("value", "doc", "cites", "chosen", "status")
#: A signal's polarities (``polarity``).
_POLARITIES = ("negative", "positive", "measured")
_SIGNAL_KEYS = ("dimension", "polarity", "label_en", "label_zh", "cites", "chosen", "doc")
_LAYER_KEYS = (
    "id", "output", "values", "hit_policy", "default", "bands", "rules", "labels", "cites", "doc",
)  # fmt: skip
_LAYER_RULE_KEYS = (
    "id", "when", "value", "score", "priority", "reason", "cites", "presumed", "chosen", "doc",
)  # fmt: skip
_REMEDIES_KEYS = ("conflict", "rules")
_REMEDY_RULE_KEYS = (
    "id", "effect", "remedy", "remedies", "when", "reason", "conditions", "cites",
    "overrides_quadrant", "chosen", "doc",
)  # fmt: skip
_ENVELOPE_KEYS = ("remedies", "cites", "doc")
_CONDITION_KEYS = ("when", "or", "doc", "cites")
_CATALOGUE_KEYS = ("remedies", "products")
_REMEDY_SPEC_KEYS = ("label_en", "label_zh", "category", "cites", "coercive", "envelopes")
_PRODUCT_SPEC_KEYS = ("label_en", "label_zh", "cites", "category")
#: A ``{field}`` placeholder in a remedy rule's reason or conditions: filled with the
#: case's fact (a deadline's last day, the days left), or a parameter's value, when the
#: decision is made.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
_YAML_ITEM_ID = re.compile(r"""^\s*-\s*["']?id["']?\s*:""")

#: A path into an array of tables by position: ``layers[0]``, ``timeline.plans.loan[2].id``,
#: ``layers[ability].rules[1].when`` (the array, the position, what follows).
_INDEXED = re.compile(r"^(?P<array>.+?)\[(?P<index>[0-9]+)\](?:\.(?P<rest>[^\[\]]+))?$")

#: An array of tables whose path names its parent by a rule's id or position:
#: ``layers[ability].rules`` (the outer array, the name, the inner array's key).
_NESTED_ARRAY = re.compile(r"^(?P<outer>[^\[\]]+)\[(?P<name>[^\[\]]+)\]\.(?P<inner>[^\[\]]+)$")

#: A path into the arrays of rules that an ``extends`` chain merges by id: ``layers``,
#: ``remedies.rules`` (``remedies[R-1]``), and ``rules[R-1]`` (a duplicate id).
_RULE_PATH = re.compile(r"^(?:layers|remedies\[|remedies\.rules\b|rules\[)")

#: A key of a layer, or the key under which a problem of the layer lies:
#: ``layers[quadrant].hit_policy``, ``layers[quadrant].values[2]``.
_LAYER_KEY = re.compile(r"^layers\[(?P<layer>[^\[\]]+)\]\.(?P<key>[^.\[\]]+)")


def _positions(resolution: composition.Resolution) -> dict[str, tuple[str, str]]:
    """Each table without an id of the merged arrays of rules, by the path the loader
    names it by (``layers[4]``, ``layers[ability].rules[18]``, ``remedies[3]`` and
    ``remedies.rules[3]``): its file and its place there (``Resolution.tables``)."""
    tables = resolution.tables
    out: dict[str, tuple[str, str]] = {}

    def unnamed(table: Mapping[str, Any]) -> bool:
        rid = table.get("id")
        return not (isinstance(rid, str) and rid)

    layers = resolution.data.get("layers")
    for i, layer in enumerate(layers if isinstance(layers, list) else []):
        if not isinstance(layer, Mapping):
            continue
        name = str(i) if unnamed(layer) else layer["id"]
        if unnamed(layer) and id(layer) in tables:
            out[f"layers[{i}]"] = tables[id(layer)]
        rules = layer.get("rules")
        for j, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, Mapping) and unnamed(rule) and id(rule) in tables:
                out[f"layers[{name}].rules[{j}]"] = tables[id(rule)]
    remedies = resolution.data.get("remedies")
    rules = remedies.get("rules") if isinstance(remedies, Mapping) else None
    for j, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, Mapping) and unnamed(rule) and id(rule) in tables:
            out[f"remedies[{j}]"] = out[f"remedies.rules[{j}]"] = tables[id(rule)]
    return out


def available_policies() -> tuple[str, ...]:
    """The names of the policies shipped in the package."""
    folder = resources.files("collectrules") / "policies"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


#: The largest policy file read, in bytes: the shipped policies are under 100 KiB.
MAX_POLICY_BYTES = 2 * 1024 * 1024
#: How deeply tables and arrays may nest in a policy file (the shipped ones need 5).
MAX_NESTING = 64
#: YAML: how many aliases a file may use, and how many nodes it may expand to, so that
#: a "billion laughs" file is refused while it is read, not expanded.
MAX_YAML_ALIASES = 256
MAX_YAML_NODES = 200_000
#: How many problems one error lists; the rest are counted.
MAX_PROBLEMS = 50


def _refuse(message: str, source: str | None) -> PolicyError:
    return PolicyError([FieldProblem("", message, source=source)])


def _read_file(path: Path, label: str) -> str:
    """The text of a regular file of at most :data:`MAX_POLICY_BYTES`, read once
    (:func:`~collectrules._files.read_small_file`: a directory, device, FIFO or socket
    is refused before it is read)."""
    try:
        data = read_small_file(path, MAX_POLICY_BYTES)
    except UnreadableFile as exc:
        if exc.too_large:
            raise _refuse(f"policy file larger than {MAX_POLICY_BYTES} bytes", label) from None
        raise _refuse(f"cannot read policy file: {exc.reason}", label) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(
            f"cannot read policy file: not UTF-8 text (byte {exc.start})", label
        ) from None


def _read_text(name_or_path: str | Path) -> tuple[str, str, Path | None]:
    """Return (text, source label, path) for a shipped name or a file path the caller
    chose. A path that ``extends`` names goes through :class:`_Files` instead."""
    if not isinstance(name_or_path, str | os.PathLike) or isinstance(
        os.fspath(name_or_path), bytes
    ):
        msg = (
            "expected a shipped policy's name or a policy file's path,"
            f" got {type(name_or_path).__name__}"
        )
        raise PolicyError([FieldProblem("policy", msg)])
    if not os.fspath(name_or_path):  # Path("") is ".", the current folder
        msg = "expected a shipped policy's name or a policy file's path, got an empty text"
        raise PolicyError([FieldProblem("policy", msg)])
    candidate = Path(name_or_path)
    text_name = str(name_or_path)
    if isinstance(name_or_path, str) and is_shipped_name(text_name):
        # A shipped name is the shipped policy wherever the process runs: a file or a
        # folder of that name in the working directory neither replaces nor hides it
        # (``./default`` names such a file).
        return _shipped_text(text_name), f"<{text_name}>", None
    try:
        exists = candidate.exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL …
        exists = False
    if candidate.suffix.lower() in _SUFFIXES or exists:
        return _read_file(candidate, str(candidate)), str(candidate), candidate
    if text_name in available_policies():  # Path("default") with no such file
        return _shipped_text(text_name), f"<{text_name}>", None
    known = available_policies()
    msg = (
        f"no shipped policy named {quote(text_name)} and no such file; shipped: {', '.join(known)}"
    )
    raise PolicyError(
        [FieldProblem("", msg, source=text_name, suggestion=did_you_mean(text_name, known))]
    )


def is_shipped_name(name: str) -> bool:
    """Whether ``name`` is a shipped policy's name, written as a name (no folder, no
    file suffix): it then loads the packaged policy and never reads a file of the
    working directory (``./default`` names such a file)."""
    return not _looks_like_a_path(name) and name in available_policies()


def _shipped_text(name: str) -> str:
    """The text of the shipped policy ``name``, from the package."""
    res = resources.files("collectrules") / "policies" / f"{name}.toml"
    return res.read_text(encoding="utf-8")


class _YamlTooBig(Exception):
    """A YAML file past the alias, node or nesting limits."""


class _YamlProblem(Exception):
    """A key or value of a YAML file that a policy cannot hold, found as it is built: a
    key named twice in one mapping (PyYAML would keep the last value silently), a key
    that is not text, an integer too long to write as text, a date no calendar has."""

    def __init__(self, path: str, message: str, line: int) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line


#: What a YAML key that is not text reads as, by its tag.
_YAML_KINDS = {
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "null": "null",
    "timestamp": "a date",
    "binary": "bytes",
}


def _node_path(root: Any, target: Any, yaml: Any) -> str | None:
    """The path (``parameters.lookback_days``, ``rules[2].when``) of the mapping node
    ``target`` in the composed document ``root``, the first way it is reached; ``None``
    when it is not (the walk is bounded: composing already refused a file of more than
    :data:`MAX_YAML_NODES` nodes, and a node reached twice, by an alias, is walked once).
    """
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value in reversed(node.value):
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                    stack.append((value, strict_json.key_step(path, key_node.value)))
                else:
                    stack.append((value, path))
        elif isinstance(node, yaml.SequenceNode):
            items = list(enumerate(node.value))
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(items))
    return None


def _yaml_loader(yaml: Any) -> Any:
    """A safe YAML loader that counts aliases, expanded nodes and nesting as it composes."""

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.aliases = 0
            self.depth = 0
            self.sizes: dict[int, int] = {}
            self.root: Any = None

        def construct_document(self, node: Any) -> Any:
            self.root = node
            return super().construct_document(node)

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    msg = f"more than {MAX_YAML_ALIASES} aliases"
                    raise _YamlTooBig(msg)
                return super().compose_node(parent, index)
            self.depth += 1
            if self.depth > MAX_NESTING:
                msg = f"nested more than {MAX_NESTING} deep"
                raise _YamlTooBig(msg)
            node = super().compose_node(parent, index)
            self.depth -= 1
            size = 1
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    size += self.sizes.get(id(key), 1) + self.sizes.get(id(value), 1)
            elif isinstance(node, yaml.SequenceNode):
                size += sum(self.sizes.get(id(item), 1) for item in node.value)
            if size > MAX_YAML_NODES:
                msg = f"expands to more than {MAX_YAML_NODES} values (aliases included)"
                raise _YamlTooBig(msg)
            self.sizes[id(node)] = size
            return node

        def construct_yaml_float(self, node: Any) -> Any:
            value = super().construct_yaml_float(node)
            problem = strict_json.unheld(node.value, value) if type(value) is float else None
            if problem is not None:
                raise strict_json.TooSmallNumber(node.value, node.start_mark.line + 1, problem)
            return value

        def construct_yaml_int(self, node: Any) -> Any:
            try:
                value = super().construct_yaml_int(node)
            except ValueError:  # a decimal past the digit limit: int() refuses to read it
                digits = len(node.value.lstrip("+-").replace("_", "").lstrip("0"))
            else:
                if not _too_long(value):
                    return value
                digits = _digits(value)
            raise self.problem(node, _too_long_message(digits))

        def construct_yaml_timestamp(self, node: Any) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError as exc:  # 2024-13-45: the form of a date, but none
                raise self.problem(node, f"expected a date, got {node.value} ({exc})") from None

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            # The mapping's own keys, before merge keys (``<<``) add theirs: a key given
            # beside a merge overrides the merged one, as YAML means it to.
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key_node, _ in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE:
                        continue
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TEXT:
                        raise self.not_text(node, key_node)
                    key = key_node.value
                    if key in seen:
                        column = key_node.start_mark.column + 1
                        message = (
                            f"named twice in one mapping (column {column}): expected each key once"
                        )
                        raise self.problem(node, message, key=key_node.value, at=key_node)
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def not_text(self, node: Any, key_node: Any) -> _YamlProblem:
            """The problem of a key of mapping ``node`` that is not text."""
            column = key_node.start_mark.column + 1
            if not isinstance(key_node, yaml.ScalarNode):
                what = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                message = f"expected a text key, got {what} (column {column})"
                return self.problem(node, message, key="?", at=key_node)
            tag = key_node.tag.rsplit(":", 1)[-1]
            text = key_node.value
            if len(text) > 40 or not text.isprintable():
                text = quote(text, limit=40)
            message = (
                f"expected a text key, got {text}, read as {_YAML_KINDS.get(tag, tag)}"
                f" (column {column}); put the key in quotes to make it text"
            )
            return self.problem(node, message, key=text, at=key_node)

        def problem(
            self, node: Any, message: str, *, key: str | None = None, at: Any = None
        ) -> _YamlProblem:
            """The problem ``message`` of ``node``, or of its key ``key`` (the node
            ``at``), with its path and line."""
            path = _node_path(self.root, node, yaml) or ""
            if key is not None:
                path = strict_json.key_step(path, key) if at.tag == _TEXT else f"{path}[{key}]"
            return _YamlProblem(path, message, (at or node).start_mark.line + 1)

    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    return Loader


_MERGE = "tag:yaml.org,2002:merge"
_TEXT = "tag:yaml.org,2002:str"


def _branches(node: object) -> list[Any]:
    """The values a table or an array holds (nothing for any other value)."""
    if isinstance(node, Mapping):
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    return []


def _too_deep(data: object) -> bool:
    """Whether tables and arrays nest deeper than :data:`MAX_NESTING`, a value inside
    the deepest counted as one more level. Walked by a stack, without recursion, each
    table or array once, however many places hold it (a list held twice in each of 60
    lists is 61 lists deep, not 2**60 lists wide); one that holds a table or array
    around it adds no depth (:func:`_holding_itself` finds it)."""
    heights: dict[int, int] = {}  # the levels of each table or array walked, its own included
    around: set[int] = set()  # the tables and arrays around the one walked now
    stack: list[tuple[object, bool]] = [(data, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            around.discard(id(node))
            height = 1 + max((heights.get(id(b), 1) for b in _branches(node)), default=0)
            if height > MAX_NESTING:
                return True
            heights[id(node)] = height
        elif (
            isinstance(node, Mapping | list | tuple)
            and id(node) not in around
            and id(node) not in heights
        ):
            around.add(id(node))
            if len(around) > MAX_NESTING:
                return True
            stack.append((node, True))
            stack.extend((b, False) for b in _branches(node))
    return False


def _holding_itself(data: object) -> tuple[str, str] | None:
    """Where a table or array of ``data`` holds one around it again, which nests without
    end (a list that holds itself): its path, and that of the one held again; None when
    none does. Walked by a stack, without recursion, each table or array once."""
    around: dict[int, str] = {}  # the tables and arrays around the one walked now
    walked: set[int] = set()
    stack: list[tuple[object, str, bool]] = [(data, "", False)]
    while stack:
        node, path, leaving = stack.pop()
        if leaving:
            del around[id(node)]
            walked.add(id(node))
        elif id(node) in around:
            return path, around[id(node)]
        elif isinstance(node, Mapping | list | tuple) and id(node) not in walked:
            around[id(node)] = path
            stack.append((node, path, True))
            if isinstance(node, Mapping):
                items = [(v, strict_json.key_step(path, str(k)), False) for k, v in node.items()]
            else:
                items = [(v, f"{path}[{i}]", False) for i, v in enumerate(node)]
            stack.extend(reversed(items))
    return None


#: What each kind of value that a policy cannot hold is, said without quoting it (for a
#: file that ``extends`` reached, not yet known to be a policy).
_UNFIT_KINDS = {
    "key": "a key that is not text",
    "text": "text UTF-8 cannot hold",
    "number": "a number too long to write as text",
    "value": "a value that is not plain data",
}

#: The values a policy holds: what a TOML, YAML or JSON file gives.
_PLAIN = (str, int, float, bool, type(None), dt.date, dt.time, Condition)
_UNWRITABLE = "text UTF-8 cannot hold (a lone surrogate, such as the escape \\udcff): expected text"


@attrs.frozen
class _Unfit:
    """A key or value that a policy cannot hold: where it is, what is wrong with it, and
    which of :data:`_UNFIT_KINDS` it is."""

    path: str
    message: str
    kind: str


def _digits(value: int) -> int:
    """How many decimal digits ``value`` has, counted without writing it as text (which
    Python refuses past its digit limit), and without a power of ten as long as it (a
    second for a policy file's 2 MiB hexadecimal literal)."""
    value = abs(value)
    if value == 0:
        return 1
    shift = max(value.bit_length() - 64, 0)
    log = math.log10(value >> shift) + shift * math.log10(2)  # to within 1e-8
    power = round(log)
    if abs(log - power) > 1e-6:
        return math.floor(log) + 1
    return power + 1 if value >= 10**power else power  # next to a power of ten: exactly


def _too_long(value: int) -> bool:
    """Whether Python refuses to write ``value`` as text: it has more digits than
    ``sys.get_int_max_str_digits()`` (4,300 by default; 0 lifts the limit)."""
    limit = sys.get_int_max_str_digits()
    # Under 8**limit, a number has fewer than 10**limit: no digits need counting.
    return limit > 0 and value.bit_length() > 3 * limit and _digits(value) > limit


def _too_long_message(digits: int | None) -> str:
    limit = sys.get_int_max_str_digits()
    found = f"{digits:,}" if digits is not None else f"more than {limit:,}"
    return f"a number of {found} digits: expected a number of at most {limit:,} digits"


def _unfit(data: object) -> _Unfit | None:
    """The first key or value of ``data``, in the order written, that a policy cannot
    hold: a key that is not text, a text UTF-8 cannot hold (a lone surrogate, as a JSON
    or YAML escape ``"\\udcff"`` or a Python caller can give), or an integer with more
    digits than Python writes as text (``0x`` and 4,000 ``f``); None when there is none.
    Its path is ``remedies.rules[0].reason``, ``""`` for the top level. Walked by a
    stack, without recursion, each table or array once (a list holding itself ends)."""
    stack: list[tuple[object, str]] = [(data, "")]
    walked: set[int] = set()
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if not is_utf8(node):
                return _Unfit(path, _UNWRITABLE, "text")
        elif isinstance(node, int):
            if _too_long(node):
                return _Unfit(path, _too_long_message(_digits(node)), "number")
        elif id(node) in walked:
            continue
        elif isinstance(node, Mapping):
            walked.add(id(node))
            items = []
            for key, value in node.items():
                if not isinstance(key, str):
                    message = f"expected a text key, got {type(key).__name__} {quote(key)}"
                    return _Unfit(f"{path}[{quote(key)}]", message, "key")
                if not is_utf8(key):
                    return _Unfit(f"{path}[{quote(key)}]", _UNWRITABLE, "text")
                items.append((value, strict_json.key_step(path, key)))
            stack.extend(reversed(items))
        elif isinstance(node, list | tuple):
            walked.add(id(node))
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
        elif not isinstance(node, _PLAIN):
            message = (
                "expected text, a number, true or false, a date, a table or an array, "
                f"got a Python {type(node).__name__}"
            )
            return _Unfit(path, message, "value")
    return None


def _refuse_unfit(
    data: object, source: str | None, *, text: str | None = None, foreign: bool = False
) -> None:
    """A :class:`PolicyError` naming the first key or value of ``data`` that a policy
    cannot hold (:func:`_unfit`), at its line in ``text`` where it can be found; for a
    ``foreign`` file, one that says where no more than the file."""
    found = _unfit(data)
    if found is None:
        return
    if foreign:
        raise _refuse(f"not a policy file: it holds {_UNFIT_KINDS[found.kind]}", source)
    line = None
    if found.kind == "number" and text is not None:
        line, _ = _long_integer(text) or (None, None)
    raise PolicyError([FieldProblem(found.path, found.message, source=source, line=line)])


def _parse_text(
    text: str, source: str, path: Path | None, *, foreign: bool = False
) -> dict[str, Any]:
    """Decode a policy file. With ``foreign`` (a file that ``extends`` reached, not yet
    known to be a policy), a syntax error says where, never what the file holds."""
    suffix = path.suffix.lower() if path is not None else ".toml"
    try:
        data = _decode(text, source, suffix)
    except PolicyError as exc:
        if not foreign:
            raise
        lines = [p.line for p in exc.problems if p.line is not None]
        where = f" at line {lines[0]}" if lines else ""
        raise _refuse(
            f"not a policy file: it cannot be read as {suffix[1:].upper()}{where}", source
        ) from None
    except RecursionError:
        data = None
    if data is None or _too_deep(data):
        raise _refuse(
            f"a policy file may nest tables and arrays at most {MAX_NESTING} deep", source
        )
    if not isinstance(data, dict):
        raise PolicyError([FieldProblem("", "a policy must be a table of keys", source=source)])
    _refuse_unfit(data, source, text=text, foreign=foreign)
    return data


def _decode(text: str, source: str, suffix: str) -> Any:
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            msg = "YAML policies need the 'yaml' extra: pip install 'collectrules[yaml]'"
            raise PolicyError([FieldProblem("", msg, source=source)]) from None
        try:
            return yaml.load(text, Loader=_yaml_loader(yaml))
        except _YamlTooBig as exc:
            raise _refuse(f"YAML refused: the file {exc}", source) from None
        except strict_json.TooSmallNumber as exc:
            unheld = FieldProblem("", exc.message, source=source, line=exc.line)
            raise PolicyError([unheld]) from None
        except _YamlProblem as exc:
            raise PolicyError(
                [FieldProblem(exc.path, exc.message, source=source, line=exc.line)]
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            col = f", column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            if isinstance(exc, yaml.constructor.ConstructorError):
                # safe_load builds plain data only: a !!python/… tag is refused here.
                problem = (
                    f"{problem}; a policy is plain data, and tags that build objects are refused"
                )
                what = "YAML tag refused"
            else:
                what = "YAML syntax error"
            raise PolicyError(
                [FieldProblem("", f"{what}{col}: {problem}", source=source, line=line)]
            ) from None
    if suffix == ".json":
        try:
            return strict_json.loads(text)
        except strict_json.RepeatedKeyError as exc:
            problem = FieldProblem(
                exc.path, exc.described(line=False), source=source, line=exc.line
            )
            raise PolicyError([problem]) from None
        except json.JSONDecodeError as exc:
            raise PolicyError(
                [
                    FieldProblem(
                        "",
                        f"JSON syntax error, column {exc.colno}: {exc.msg}",
                        source=source,
                        line=exc.lineno,
                    )
                ]
            ) from None
    try:
        return tomllib.loads(text, parse_float=strict_json.checked_float)
    except strict_json.TooSmallNumber as exc:
        at = strict_json.number_offset(text, exc.text)
        line = None if at is None else text.count("\n", 0, at) + 1
        raise PolicyError([FieldProblem("", exc.message, source=source, line=line)]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(m.group(1)) if m else None
        detail = message[: m.start()].strip() if m else message
        col = f", column {m.group(2)}" if m else ""
        if text.startswith("\ufeff") and line == 1 and m is not None and m.group(2) == "1":
            # What Notepad and Excel write first; tomllib says only "Invalid statement".
            detail = "the file starts with a byte order mark (U+FEFF): save it as UTF-8 without one"
        raise PolicyError(
            [FieldProblem("", f"TOML syntax error{col}: {detail}", source=source, line=line)]
        ) from None
    except ValueError:  # a decimal integer past Python's digit limit, as int() says
        raise _too_long_number(text, source) from None


#: An integer literal of TOML or YAML: a decimal with its sign, or a hexadecimal, octal
#: or binary one, each with the underscores that may part its digits.
_INTEGER_LITERAL = re.compile(r"[+-]?(?:0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")
_BASES = {"x": 16, "o": 8, "b": 2}


def _long_integer(text: str) -> tuple[int, int] | None:
    """The line of the first integer literal of ``text`` with more digits than Python
    writes as text (:func:`_too_long`), and how many it has; None when there is none."""
    limit = sys.get_int_max_str_digits()
    if limit <= 0:
        return None
    # The shortest literal past the limit is a hexadecimal one, at 1.204 digits a
    # character: a shorter one is not counted.
    shortest = limit * 4 // 5
    for match in _INTEGER_LITERAL.finditer(text):
        literal = match.group().lstrip("+-").replace("_", "")
        if len(literal) < shortest:
            continue
        base = _BASES.get(literal[1:2].lower())
        # A decimal is counted as written: Python would refuse to read it.
        digits = len(literal.lstrip("0")) if base is None else _digits(int(literal[2:], base))
        if digits > limit:
            return text.count("\n", 0, match.start()) + 1, digits
    return None


def _too_long_number(text: str, source: str | None) -> PolicyError:
    """The error of a TOML text holding a decimal integer with more digits than Python
    reads (``tomllib`` raises the ``ValueError`` of :func:`int`), at its line."""
    line, digits = _long_integer(text) or (None, None)
    return PolicyError([FieldProblem("", _too_long_message(digits), source=source, line=line)])


def load_policy(
    name_or_path: str | Path = "default",
    *,
    sections: Sequence[Section] | None = None,
    search_path: Sequence[str | Path] = (),
) -> Policy:
    """Load a shipped policy by name (``"default"``) or a policy file by path.

    Every problem in the file is reported together in one :class:`PolicyError`.
    ``sections`` are the optional-section plug-ins to read it with; by default, the
    installed ones (:mod:`collectrules.sections`).

    ``extends`` may name a shipped policy, or a file inside the folder of the file that
    extends, or inside one of the folders of ``search_path`` (the caller's explicit
    choice); anything else (an absolute path, a ``../`` or a symbolic link that leads
    out) is refused before it is opened. Every file is read once: a regular file of at
    most :data:`MAX_POLICY_BYTES`, never a device, FIFO or directory.
    """
    sections, search_path = _load_options(sections, search_path)
    text, source, path = _read_text(name_or_path)
    data = _parse_text(text, source, path)
    _check_looks_like_a_policy(data, source, sections, strict=False)
    base_dir = path.parent if path is not None else None
    return policy_from_dict(
        data,
        source=source,
        text=text,
        base_dir=base_dir,
        sections=sections,
        search_path=search_path,
    )


def policy_from_dict(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    text: str | None = None,
    base_dir: Path | None = None,
    sections: Sequence[Section] | None = None,
    search_path: Sequence[str | Path] = (),
    _chain: tuple[str, ...] = (),
) -> Policy:
    """Build a policy from plain data (as decoded from TOML), validating every part.

    ``extends`` resolves as for :func:`load_policy`: a shipped name, or a file inside
    ``base_dir`` or ``search_path``.
    """
    if not isinstance(data, Mapping):
        msg = f"expected a policy as a table of keys, got {type(data).__name__}"
        raise PolicyError([FieldProblem("", msg, source=_plain_text(source))])
    sections, search_path = _load_options(sections, search_path)
    for name, value in (("source", source), ("text", text)):
        if value is not None and not isinstance(value, str):
            raise _wrong_option(name, value, "a text or None")
    if _too_deep(data):
        msg = f"a policy may nest tables and arrays at most {MAX_NESTING} deep"
        raise _refuse(msg, _plain_text(source))
    _refuse_unfit(data, source)
    if base_dir is not None:
        base_dir = _option_path("base_dir", base_dir)
    files = _Files(search_path, sections)
    if source is not None and text is not None:
        files.texts[source] = text
    resolution = composition.resolve(
        data, source=source, base_dir=base_dir, chain=_chain, loader=files.extends
    )
    plugins = installed_sections() if sections is None else tuple(sections)
    return _Loader(resolution, source=source, text=text, plugins=plugins, files=files).build()


def locate(
    policy: Policy, path: str, *, rule_id: str | None = None, key: str | None = None
) -> tuple[str | None, int | None]:
    """The file and line of a loaded policy's text at key path ``path`` (of the rule,
    stage or table of id ``rule_id``, at its key ``key``), as a load error names them:
    the file of the ``extends`` chain that gives it. The line is None when it cannot be
    told (a policy built from data without its text, or passed between processes)."""
    loader = policy.memo(_LOCATOR, lambda: None)
    if not isinstance(loader, _Loader):
        return policy.source, None
    source, line = loader.locate(path, rule_id=rule_id, key=key)
    if rule_id is not None and loader.line_of(rule_id, None, source) is None:
        # An id no file's rules name (a stage's, a guardrail rule's): the nearest file
        # of the chain that writes it.
        for other in loader.chain:
            if loader.line_of(rule_id, None, other) is not None:
                return other, loader.line_of(rule_id, key, other)
    return source, line


def _wrong_option(name: str, value: object, expected: str) -> PolicyError:
    msg = f"expected {expected}, got {type(value).__name__} {quote(value)}"
    return PolicyError([FieldProblem(name, msg)])


def _plain_text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else quote(value)


def _option_path(name: str, value: object) -> Path:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or "\0" in value or not fs_encodable(value):
        raise _wrong_option(name, value, "a folder's path")
    return Path(value)


def _load_options(
    sections: object, search_path: object
) -> tuple[tuple[Section, ...] | None, tuple[Path, ...]]:
    """The ``sections`` and ``search_path`` arguments of a load, checked: a collection
    of section plug-ins (or ``None``) and a collection of folders' paths."""
    plugins: tuple[Section, ...] | None = None
    if sections is not None:
        if isinstance(sections, str | bytes | Mapping) or not isinstance(sections, Iterable):
            raise _wrong_option("sections", sections, "a list of section plug-ins or None")
        plugins = tuple(sections)
        for index, plugin in enumerate(plugins):
            if not isinstance(getattr(plugin, "key", None), str):
                raise _wrong_option(
                    f"sections[{index}]", plugin, "a section plug-in (an object with a key)"
                )
    if isinstance(search_path, str | bytes | Mapping) or not isinstance(search_path, Iterable):
        raise _wrong_option("search_path", search_path, "a list of folders' paths")
    folders = tuple(
        _option_path(f"search_path[{index}]", folder) for index, folder in enumerate(search_path)
    )
    return plugins, folders


def policy_chain(
    name_or_path: str | Path, *, search_path: Sequence[str | Path] = ()
) -> list[tuple[str, dict[str, Any]]]:
    """The files of a policy's ``extends`` chain as read, the named policy first:
    (source label, data) each. The same rules as :func:`load_policy` apply."""
    text, source, path = _read_text(name_or_path)
    data = _parse_text(text, source, path)
    files = _Files(search_path, None)
    out = [(source, data)]
    seen = {source}
    while isinstance(data.get("extends"), str) and len(out) <= composition.MAX_EXTENDS_DEPTH:
        base_dir = path.parent if path is not None else None
        data, source, path = files.extends(data["extends"], base_dir)
        if source in seen:
            break
        seen.add(source)
        out.append((source, data))
    return out


def _looks_like_a_path(name: str) -> bool:
    return "/" in name or "\\" in name or Path(name).suffix.lower() in _SUFFIXES


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _leads_out(folder: Path, relative: Path) -> bool:
    """Whether ``folder / relative``, symbolic links resolved, lies outside ``folder``."""
    try:
        return not _inside((folder / relative).resolve(), folder.resolve())
    except (OSError, RuntimeError):
        return True


def _policy_keys(sections: Sequence[Section] | None) -> set[str]:
    plugins = installed_sections() if sections is None else tuple(sections)
    return _TOP_KEYS | {s.key for s in plugins}


def _check_looks_like_a_policy(
    data: Mapping[str, Any], source: str, sections: Sequence[Section] | None, *, strict: bool
) -> None:
    """Refuse a file that is not a policy, without quoting anything from it.

    A file that no top-level key marks as a policy is foreign. ``strict`` (a file that
    ``extends`` reached, which its author may never have meant as a policy) also needs
    a string ``id``, and more policy keys than other keys: a base policy with a typo is
    still reported key by key, a credentials file is not.
    """
    keys = _policy_keys(sections)
    unknown = sum(1 for k in data if k not in keys)
    known = len(data) - unknown
    bad = bool(data) and known == 0
    if strict:
        bad = bad or unknown >= known or not isinstance(data.get("id"), str)
    if bad:
        what = f"{unknown} of its {len(data)} top-level keys are not policy keys"
        if not unknown:
            what = "it has no id"
        raise _refuse(f"not a policy file: {what}; nothing of it is shown", source)


class _Files:
    """Reads the files of one load's ``extends`` chain: only where allowed, each once."""

    def __init__(
        self, search_path: Sequence[str | Path], sections: Sequence[Section] | None
    ) -> None:
        self.search = tuple(Path(p) for p in search_path)
        self.sections = sections
        self.texts: dict[str, str] = {}

    def extends(
        self, name_or_path: str, base_dir: Path | None
    ) -> tuple[dict[str, Any], str, Path | None]:
        """Read the policy that ``extends`` names: a shipped name, or a relative path
        inside the extending file's folder (``base_dir``) or a folder of the search path."""
        ref = name_or_path
        if is_shipped_name(ref):
            # from the package, never from a file of that name in the working directory
            text, source = _shipped_text(ref), f"<{ref}>"
            self.texts[source] = text
            return _parse_text(text, source, None), source, None
        if "\x00" in ref or not fs_encodable(ref):
            raise _invalid_name(ref)
        as_path = Path(ref)
        if (
            as_path.is_absolute()
            or ref.startswith(("~", "/", "\\"))
            or re.match(r"^[A-Za-z]:", ref)
        ):
            raise _refuse(
                f"extends {quote(ref)}: an absolute path is refused; name a shipped policy, or a "
                "file inside the extending file's folder or a folder of the search path",
                None,
            )
        folders = list(((base_dir,) if base_dir is not None else ()) + self.search)
        for folder in folders:
            try:
                root = folder.resolve()
                target = (folder / as_path).resolve()
            except (OSError, RuntimeError):
                continue
            if not _inside(target, root):
                continue
            try:
                found = target.exists()
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    raise _invalid_name(ref) from None
                found = True  # reading it says why it cannot be read
            if found:
                label = str(folder / as_path)
                text = _read_file(target, label)
                data = _parse_text(text, label, target, foreign=True)
                _check_looks_like_a_policy(data, label, self.sections, strict=True)
                self.texts[label] = text
                return data, label, folder / as_path
        if any(_leads_out(f, as_path) for f in folders):
            raise _refuse(
                f"extends {quote(ref)}: the path leads out of the extending file's folder and the "
                "search path, and is refused",
                None,
            )
        known = available_policies()
        if not folders:
            msg = (
                f"extends {quote(ref)}: no shipped policy of that name; a path needs the "
                "extending file's folder or a search path"
            )
            raise PolicyError([FieldProblem("extends", msg, suggestion=did_you_mean(ref, known))])
        others = ", ".join(quote(str(f)) for f in folders[1:])
        also = f" (nor in {others})" if others else ""
        # The value is quoted, never printed as the file's name: a line end in it would
        # print as another line of a report.
        msg = (
            f"extends {quote(ref)}: no such file in {quote(str(folders[0]))}{also}, and no"
            " shipped policy of that name"
        )
        raise PolicyError([FieldProblem("extends", msg, suggestion=did_you_mean(ref, known))])


def _invalid_name(ref: str) -> PolicyError:
    """The error of an ``extends`` that no file can be named: a NUL, a name longer than
    the file system allows, a lone surrogate it cannot hold."""
    known = available_policies()
    msg = (
        f"extends {quote(ref)}: not a valid policy name; expected the name of a shipped "
        f"policy ({', '.join(known)}) or of a file inside the extending file's folder or a "
        "folder of the search path"
    )
    return PolicyError([FieldProblem("extends", msg, suggestion=did_you_mean(ref, known))])


def _load_raw(name_or_path: str, base_dir: Path | None) -> tuple[dict[str, Any], str, Path | None]:
    """Read the policy that ``extends`` names, as a load with no search path would."""
    return _Files((), None).extends(name_or_path, base_dir)


class _Loader:
    def __init__(
        self,
        resolution: composition.Resolution,
        *,
        source: str | None,
        text: str | None,
        plugins: tuple[Section, ...] = (),
        files: _Files | None = None,
    ) -> None:
        self.plugins = plugins
        self.files = files if files is not None else _Files((), None)
        self.data = resolution.data
        self.source = source
        self.origins = resolution.origins
        self.sources = resolution.sources
        self.parameter_sources = resolution.parameter_sources
        self.condition_sources = resolution.condition_sources
        self.key_sources = resolution.key_sources
        #: The file that gives each key of each layer, by layer id and key.
        self.layer_keys = resolution.layer_keys
        #: The files of the ``extends`` chain, this one first.
        self.chain = resolution.chain
        self.positions = _positions(resolution)
        #: The named conditions' texts, docs and cites (``[conditions]``), by name.
        self.named_raw: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        #: Who uses each named condition: rule and stage ids, ``conditions.<name>``.
        self.named_uses: dict[str, list[str]] = {}
        #: Each named condition once parsed, by name and the schema and parameters it
        #: was parsed against: a name used twice is parsed once (a name using another
        #: twice, which uses another twice, … would otherwise parse exponentially often).
        #: (The schema and parameters are held with it, so that their ids stay theirs.)
        self.named_parsed: dict[tuple[str, int, int], tuple[object, object, Condition]] = {}
        #: The policy's catalogues (standard entries first), read before any section,
        #: which may use them (a stage's remedy, a plan's product).
        self.remedies: dict[str, RemedySpec] = dict(STANDARD_REMEDIES)
        self.products: dict[str, ProductSpec] = dict(STANDARD_PRODUCTS)
        self.texts: dict[str | None, list[str]] = {
            source: text.splitlines() if text is not None else []
        }
        #: The line of each key of a YAML or JSON file of the chain, by its path.
        self.key_lines: dict[str | None, dict[str, int]] = {}
        self.problems: list[FieldProblem] = [self.with_line(p) for p in resolution.problems]
        self.reader = TableReader(self, {})
        #: Problems past :data:`MAX_PROBLEMS`, counted only.
        self.overflow = 0
        #: Which rules (and stages) read each parameter, for messages about it.
        self.param_uses: dict[str, list[str]] = {}
        #: Parameters whose value does not fit a comparison: (rule id, why) each.
        self.param_misfits: dict[str, list[tuple[str, str]]] = {}
        #: Each layer's output read so far, with the layer's id.
        self.outputs: dict[str, str] = {}
        #: Named conditions of an extending file that a base file's rule cannot use:
        #: (the rule's id, its file, why) each, reported at the named condition.
        self.named_misuses: dict[str, list[tuple[str, str, str]]] = {}

    # -- problem reporting

    def lines_of(self, source: str | None) -> list[str]:
        """The lines of a file of the ``extends`` chain, as it was read (never twice)."""
        if source not in self.texts:
            text = self.files.texts.get(source) if source is not None else None
            self.texts[source] = text.splitlines() if text is not None else []
        return self.texts[source]

    def source_of(self, path: str, rule_id: str | None) -> str | None:
        """The file of the ``extends`` chain that wrote the text a problem is about: a
        layer's or a remedy rule's own file (by its id), the file that gives a layer's
        key, a parameter's value or a named condition, or else the nearest file that
        writes the key at ``path``, at any depth (``timeline.deadlines.limitation.years``),
        or the table around it (a stage of ``timeline.plans.loan[L-24H].within`` is in
        the file that gives ``timeline.plans.loan``; a key that is missing, in the file
        that gives its table); this file when no file writes any of it."""
        if _RULE_PATH.match(path):
            if rule_id is not None and rule_id in self.sources:
                return self.sources[rule_id]
            layer = _LAYER_KEY.match(path)
            if layer is not None and layer.group("layer") in self.layer_keys:
                keys = self.layer_keys[layer.group("layer")]
                label = keys.get(layer.group("key")) or keys.get("id")
                if label is not None:
                    return self.source if self.chain and label == self.chain[0] else label
        m = re.match(r"parameters\.([^.\[]+)", path)
        if m is not None and path == m.group(0):
            # A problem of a parameter's value is where the value is written: a file
            # that gives only its ``doc`` keeps the base's value.
            found = self.key_sources.get(f"{path}.value")
            if found is not None:
                return found
        if m is None and rule_id is not None and rule_id in self.sources:
            return self.sources[rule_id]
        m = re.match(r"conditions\.([^.]+)", path)
        if m is not None and m.group(1) in self.condition_sources:
            return self.condition_sources[m.group(1)]
        # A table named by its key ([money.reductions.hardship]) is not a rule: its
        # name, given as ``rule_id``, is in no ``sources``, and its keys are in these.
        # An array of tables (stages, steps, classes, ranges) is merged as a whole: its
        # tables are in the file that gives the array's key.
        parts = path.split("[", 1)[0].split(".")
        for size in range(len(parts), 0, -1):
            found = self.key_sources.get(".".join(parts[:size]))
            if found is not None:
                return found
        return self.source

    def line_of(
        self, rule_id: str | None, key: str | None, source: str | None = None
    ) -> int | None:
        lines = self.lines_of(source if source is not None else self.source)
        if not lines:
            return None
        start = 0
        if rule_id is not None:
            # ``id = "R-1"`` in TOML, ``id: R-1`` or ``- id: "R-1"`` in YAML.
            pattern = re.compile(
                rf"""^\s*(?:-\s*)?["']?id["']?\s*[=:]\s*["']?{re.escape(rule_id)}["']?\s*,?\s*(?:#.*)?$"""
            )
            for i, line in enumerate(lines):
                if pattern.search(line):
                    start = i
                    break
            else:
                return None
        if key is None:
            return start + 1
        key_pat = re.compile(rf"""^\s*(?:-\s*)?["']?{re.escape(key)}["']?\s*[=:]""")
        for i in range(start, len(lines)):
            if i > start and rule_id is not None and _starts_another_table(lines[i]):
                break
            if key_pat.search(lines[i]):
                return i + 1
        return start + 1 if rule_id is not None else None

    def top_key_line(self, key: str, source: str | None) -> int | None:
        """The line that gives top-level key ``key``: its table (``[key]``, ``[key.…]``,
        ``[[key]]``), or ``key = …`` (``key: …``) at the start of a line before any
        table; else the first line that gives a key of that name (JSON)."""
        lines = self.lines_of(source)
        esc = re.escape(key)
        header = re.compile(rf"""^\s*\[\[?\s*["']?{esc}["']?\s*[\].]""")
        entry = re.compile(rf"""^["']?{esc}["']?\s*[=:]""")
        in_table = False
        for i, line in enumerate(lines):
            if header.search(line):
                return i + 1
            in_table = in_table or line.lstrip().startswith("[")
            if not in_table and entry.search(line):
                return i + 1
        return self.line_of(None, key, source)

    def parameter_line(self, name: str, source: str | None) -> int | None:
        """The line that gives parameter ``name``: ``name = …``, ``[parameters.name]``."""
        lines = self.lines_of(source)
        esc = re.escape(name)
        patterns = (
            re.compile(rf"""^\s*\[\s*parameters\s*\.\s*["']?{esc}["']?\s*\]"""),
            re.compile(rf"""^\s*["']?{esc}["']?\s*[=:]"""),
        )
        for pattern in patterns:
            for i, line in enumerate(lines):
                if pattern.search(line):
                    return i + 1
        return None

    def condition_line(self, name: str, source: str | None) -> int | None:
        """The line that gives named condition ``name``: ``name = …`` under
        ``[conditions]`` (or ``conditions:`` in YAML), or ``[conditions.name]``."""
        lines = self.lines_of(source)
        esc = re.escape(name)
        own_table = re.compile(rf"""^\s*\[\s*conditions\s*\.\s*["']?{esc}["']?\s*\]""")
        header = re.compile(r"""^\s*(?:\[\s*conditions\s*\]|conditions\s*:)\s*(?:#.*)?$""")
        entry = re.compile(rf"""^\s*["']?{esc}["']?\s*[=:]""")
        inside = False
        for i, line in enumerate(lines):
            if own_table.search(line):
                return i + 1
            if header.search(line):
                inside = True
            elif inside and line.lstrip().startswith("["):
                inside = False
            elif inside and entry.search(line):
                return i + 1
        return None

    def with_line(self, problem: FieldProblem) -> FieldProblem:
        """A problem found while merging an ``extends`` chain (an entry of ``disable``
        that names no rule), with the line of its file that it is about."""
        m = re.fullmatch(r"disable(?:\[([0-9]+)\])?", problem.path)
        if problem.line is not None or m is None:
            return problem
        line = self.top_key_line("disable", problem.source)
        if line is not None and m.group(1) is not None:
            lines = self.lines_of(problem.source)
            line = _item_line(lines, line - 1, int(m.group(1))) or line
        return attrs.evolve(problem, line=line)

    def nearer(self, first: str | None, second: str | None) -> bool:
        """Whether file ``first`` is nearer the extending file than ``second`` in the
        ``extends`` chain: the file that changed what the other gave."""
        chain = [self.source if i == 0 else label for i, label in enumerate(self.chain)]
        # This file by its own name, however the chain labels it (``<policy>``).
        first, second = (
            self.source if self.chain and x == self.chain[0] else x for x in (first, second)
        )
        if first == second or first not in chain:
            return False
        return second not in chain or chain.index(first) < chain.index(second)

    def layer_key_source(self, layer_id: str, key: str) -> str | None:
        """The file that gives key ``key`` of layer ``layer_id``, or None: this file
        by its own name (None for data without one)."""
        label = self.layer_keys.get(layer_id, {}).get(key)
        return self.source if self.chain and label == self.chain[0] else label

    def table_line(self, path: str, source: str | None) -> int | None:
        """The line of the TOML table a dotted ``path`` lies in (``[a.b.c]``, or an
        array's ``[[a.b.c]]``), or of the key below it that the path goes on to name."""
        lines = self.lines_of(source)
        parts = path.split(".")
        for size in range(len(parts), 0, -1):
            header = r"\s*\.\s*".join(re.escape(p) for p in parts[:size])
            pattern = re.compile(rf"^\s*\[\[?\s*{header}\s*\]")
            for i, line in enumerate(lines):
                if not pattern.search(line):
                    continue
                if size < len(parts):
                    key = re.compile(rf"""^\s*["']?{re.escape(parts[size])}["']?\s*=""")
                    for j in range(i + 1, len(lines)):
                        if lines[j].lstrip().startswith("["):
                            break
                        if key.search(lines[j]):
                            return j + 1
                return i + 1
        return None

    def own_table_line(self, path: str, source: str | None) -> int | None:
        """The line of the last key of a dotted ``path`` under the TOML header of the
        table that holds it (``[a.b]`` for ``a.b.c``), or of the header ``[a.b.c]``
        itself; None when the file writes neither."""
        lines = self.lines_of(source)
        parts = path.split(".")
        if len(parts) < 2:
            return None
        dotted = r"\s*\.\s*".join(re.escape(p) for p in parts[:-1])
        header = re.compile(rf"^\s*\[\s*{dotted}\s*\]")
        own = re.compile(rf"^\s*\[\s*{dotted}\s*\.\s*{re.escape(parts[-1])}\s*\]")
        key = re.compile(rf"""^\s*["']?{re.escape(parts[-1])}["']?\s*=""")
        for i, line in enumerate(lines):
            if own.search(line):
                return i + 1
            if not header.search(line):
                continue
            for j in range(i + 1, len(lines)):
                if lines[j].lstrip().startswith("["):
                    break
                if key.search(lines[j]):
                    return j + 1
        return None

    def placed(self, path: str) -> tuple[str, str] | None:
        """For a path into an array of rules merged from an ``extends`` chain by
        position (``layers[4].id``, ``layers[ability].rules[18]``, ``remedies[3].when``),
        the file that holds the table and the same path by its place in that file's
        arrays (:attr:`~collectrules.policy.composition.Resolution.tables`)."""
        if len(self.files.texts) <= 1:
            return None
        m = _INDEXED.match(path)
        if m is None:
            return None
        at = self.positions.get(f"{m.group('array')}[{m.group('index')}]")
        if at is None:
            return None
        source, local = at
        rest = m.group("rest")
        return source, f"{local}.{rest}" if rest else local

    def array_line(
        self, path: str, key: str | None, source: str | None, *, merged: bool = True
    ) -> int | None:
        """The line of the table that a path into an array of tables by position names
        (``layers[0].id``, ``timeline.plans.loan[2]``, ``layers[ability].rules[1].when``):
        the line of ``key`` in it, or else its header ``[[…]]``, counted in file order.
        None when the file writes no such header (a policy of JSON, or inline tables).
        A remedy rule without an id is named ``remedies[N]``: its array is
        ``remedies.rules``. With ``merged`` false, ``path`` is a place in ``source``'s
        own arrays (:meth:`placed`), not in the arrays merged from an ``extends`` chain."""
        m = _INDEXED.match(path)
        if m is None:
            return None
        array, index = m.group("array"), int(m.group("index"))
        if merged and re.match(r"(?:layers|remedies)\b", array) and len(self.files.texts) > 1:
            # Layers and remedy rules of an ``extends`` chain are merged into one list:
            # a position in it is no position in any one file.
            return None
        lines = self.lines_of(source)
        start, stop = 0, len(lines)
        nested = _NESTED_ARRAY.match(array)
        if nested is not None:
            outer, name = nested.group("outer"), nested.group("name")
            found = self.line_of(name, None, source)  # the line of its id, 1-based
            if found is not None:
                found -= 1
            elif name.isdigit():  # a table without an id, named by its position
                found = self._nth_header(lines, outer, int(name), 0, stop)
            if found is None:
                return None
            start = found + 1
            after = self._nth_header(lines, outer, 0, start, stop)
            stop = stop if after is None else after
            array = f"{outer}.{nested.group('inner')}"
        elif array == "remedies":
            array = "remedies.rules"
        header = self._nth_header(lines, array, index, start, stop)
        if header is None:
            return None
        name = key if key is not None else (m.group("rest") or "").rsplit(".", 1)[-1] or None
        if name is not None:
            key_pat = re.compile(rf"""^\s*["']?{re.escape(name)}["']?\s*=""")
            for i in range(header + 1, stop):
                if _starts_another_table(lines[i]):
                    break
                if key_pat.search(lines[i]):
                    return i + 1
        return header + 1

    @staticmethod
    def _nth_header(
        lines: Sequence[str], array: str, index: int, start: int, stop: int
    ) -> int | None:
        """The index of the line of the ``index``-th header ``[[array]]`` from ``start``
        to ``stop``, or None."""
        dotted = r"\s*\.\s*".join(re.escape(part) for part in array.split("."))
        header = re.compile(rf"^\s*\[\[\s*{dotted}\s*\]\]")
        count = 0
        for i in range(start, stop):
            if header.search(lines[i]):
                if count == index:
                    return i
                count += 1
        return None

    def fail(
        self,
        path: str,
        message: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        suggestion: str | None = None,
        source: str | None = None,
    ) -> None:
        """Report a problem at ``path``, in the file that holds it (``source``, when
        the caller knows it better than the path says) and at its line there."""
        if len(self.problems) >= MAX_PROBLEMS:
            self.overflow += 1
            return
        source, line = self.locate(path, rule_id=rule_id, key=key, source=source)
        self.problems.append(
            FieldProblem(path, message, source=source, line=line, suggestion=suggestion)
        )

    def locate(
        self,
        path: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        source: str | None = None,
    ) -> tuple[str | None, int | None]:
        """The file and line of the text at ``path`` (of rule ``rule_id``, key ``key``)."""
        source = source if source is not None else self.source_of(path, rule_id)
        line: int | None
        placed = None if rule_id else self.placed(path)
        if placed is not None:
            # A table without an id in an array merged from an ``extends`` chain: its
            # own file, and its line there, found by its place in that file's array.
            source, local = placed
            line = self.array_line(local, key, source, merged=False)
        elif not rule_id and (found := self.array_line(path, key, source)) is not None:
            # A table of an array named by its position (its id is missing or no
            # text): its own line, not the file's first line that gives such a key.
            line = found
        elif rule_id is None and key is not None and path == key:
            line = self.top_key_line(key, source)
        elif rule_id is None and key is None and "." in path and "[" not in path:
            # A key named by its path alone (``timeline.deadlines`` of the wrong kind):
            # the line that gives it, or its table's; the file's first line otherwise.
            line = self.table_line(path, source) or self.line_of(None, None, source)
        elif rule_id is None and key is not None and "." in path and "[" not in path:
            # A key of a table named by its path (``assets.classes.real_estate.sources``):
            # the key in that table's own header, not the file's first key of that name.
            line = self.own_table_line(path, source) or self.line_of(None, key, source)
        else:
            line = self.line_of(rule_id, key, source)
        m = re.match(r"parameters\.([^.]+)", path)
        if line is None and rule_id is None and m is not None:
            line = self.parameter_line(m.group(1), source)
        named = re.match(r"conditions\.([^.]+)", path)
        if rule_id is None and named is not None:
            line = self.condition_line(named.group(1), source) or line
        if rule_id is None and path.startswith("catalogue."):
            line = self.table_line(path, source) or line
        if rule_id is None and path.startswith("timeline.deadlines."):
            # Every period's table has an ``enabled`` and a ``cites``: look in its own.
            line = self.table_line(path, source) or line
        if line is None and "[" not in path:
            # A key of a table named by its path, whose name is no ``id = …`` line.
            line = self.table_line(path, source)
        if line is None:
            # A table of an array named by its position, whose rule is no ``id = …``
            # line (a regulation class names its rule with ``rule = …``).
            line = self.array_line(path, key, source)
        if (rule_id is None or rule_id not in self.sources) and "[" not in path and "." in path:
            # A YAML or JSON file nests its tables, and names no header to find: the
            # key's own line, by its path, or else the line of the mapping that lacks it
            # (a table named by its key is given as ``rule_id``, and is no rule).
            line = self.nested_line(path, source) or line
        return source, line

    def nested_line(self, path: str, source: str | None) -> int | None:
        """In a YAML or JSON file, the line of the key at the dotted ``path``, or of the
        deepest mapping of it that the file writes (the mapping that lacks a missing
        key); None for a TOML file, or data without one."""
        suffix = _key_lines.suffix_of(source)
        if not suffix:
            return None
        if source not in self.key_lines:
            text = "\n".join(self.lines_of(source))
            self.key_lines[source] = _key_lines.key_lines(text, suffix)
        return _key_lines.line_of_path(self.key_lines[source], path)

    # -- typed getters

    def get_str(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: str | None = None,
        rule_id: str | None = None,
    ) -> str:
        return self.reader.string(table, key, path, default=default, rule_id=rule_id)

    def get_strs(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> tuple[str, ...]:
        return self.reader.texts(table, key, path, rule_id)

    def check_rule_id(self, table: Mapping[str, Any], path: str) -> None:
        """Refuse a rule id that is text but names nothing visible (see
        :func:`_bad_rule_id`); one that is no text at all ``get_str`` reports."""
        rid = table.get("id")
        if isinstance(rid, str) and (why := _bad_rule_id(rid)) is not None:
            self.fail(f"{path}.id", why, rule_id=rid, key="id")

    def check_keys(
        self,
        table: Mapping[str, Any],
        allowed: Iterable[str],
        path: str,
        rule_id: str | None = None,
    ) -> None:
        self.reader.keys(table, allowed, path, rule_id)

    def flag(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> bool:
        """``table[key]`` as a boolean, false when absent; anything else is a problem."""
        return self.reader.flag(table, key, path, default=False, rule_id=rule_id)

    def array(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None
    ) -> list[Any]:
        """``table[key]`` as a list (empty when absent); anything else is a problem."""
        value = table.get(key, [])
        if isinstance(value, list):
            return value
        self.fail(f"{path}.{key}", "expected an array", rule_id=rule_id, key=key)
        return []

    # -- sections

    def _origin(self, rule_id: str) -> str:
        """Where the rule was written, as a decision's trace names it: a file name's
        bytes that are not UTF-8 as escapes (``pol\\xe9.toml``), since the decision's
        JSON could not hold them."""
        return source_name(self.origins.get(rule_id, self.source or ""))

    def build(self) -> Policy:
        data = self.data
        self.check_keys(data, _TOP_KEYS | {s.key for s in self.plugins}, "")
        format_version = data.get("schema_version", FORMAT_VERSION)
        if format_version != FORMAT_VERSION:
            self.fail(
                "schema_version",
                (
                    "this collectrules reads policy format "
                    f"{quote(FORMAT_VERSION)}, got {quote(format_version)}"
                ),
                key="schema_version",
            )
        pid = self.get_str(data, "id", "")
        # An empty id is refused too (the schema's pattern needs a letter): decisions,
        # golden files and runs name their policy by it. A missing or non-text id is
        # already reported by get_str.
        if isinstance(data.get("id"), str) and not _ID.match(pid):
            self.fail(
                "id",
                f"expected a letter, then letters, digits, '.', '-' or '_', got {quote(pid)}",
                key="id",
            )
        version = self.get_str(data, "version", "", default="0")
        # The version is printed in the policy's reference (id@version#hash) at the head
        # of every report: a line end, '#' or '@' in it would print another reference
        # or another line of the report.
        if isinstance(data.get("version"), str) and not _VERSION.fullmatch(version):
            self.fail(
                "version",
                "expected a version such as '1.0.0': a letter or digit, then letters, digits,"
                f" '.', '+', '-' or '_', at most 64 characters, got {quote(version, limit=80)}",
                key="version",
            )
        title = self.get_str(data, "title", "", default=pid)
        description = self.get_str(data, "description", "", default="")
        notes = self.get_strs(data, "notes", "")
        parameters = self.parameters(data.get("parameters", {}))
        signals = self.signals(data.get("signals", {}))
        params = {n: p.value for n, p in parameters.items()}
        self.named_raw = self.named_table(data.get("conditions"))
        self.catalogue(data.get("catalogue"))

        sections, extra_fields = self.sections(data, params)
        schema = base_fields(self.products)
        schema.update(signal_fields(signals.values()))
        schema.update(extra_fields)
        for name in params:
            if name in schema:
                self.fail(
                    f"parameters.{name}", f"parameter {quote(name)} has the name of a fact field"
                )

        layers = self.layers(data.get("layers", []), schema, params)
        for layer in layers:
            schema[layer.output] = FieldSpec(layer.output, FieldType.ENUM, choices=layer.values)
            if layer.output in params:
                self.fail(
                    f"parameters.{layer.output}",
                    f"parameter {quote(layer.output)} has the name of the output of layer "
                    f"{quote(layer.id)}: a condition that reads it could mean either; "
                    "rename the parameter",
                )
        remedies_table = data.get("remedies", {})
        if not isinstance(remedies_table, Mapping):
            self.fail("remedies", "expected a table")
            remedies_table = {}
        self.check_keys(remedies_table, _REMEDIES_KEYS, "remedies")
        conflict_text = remedies_table.get("conflict", "unspecified")
        try:
            conflict = ConflictRule(conflict_text)
        except ValueError:
            choices = ", ".join(c.value for c in ConflictRule)
            self.fail(
                "remedies.conflict",
                f"expected one of {choices}, got {quote(conflict_text)}",
                key="conflict",
                suggestion=did_you_mean(str(conflict_text), [c.value for c in ConflictRule]),
            )
            conflict = ConflictRule.UNSPECIFIED
        remedy_rules = self.remedy_rules(remedies_table.get("rules", []), schema, params)
        envelopes = self.envelopes(data.get("envelopes", {}), layers)
        named_conditions = self.named_conditions(schema, params)

        all_ids = [r.id for layer in layers for r in layer.rules] + [r.id for r in remedy_rules]
        seen: set[str] = set()
        for rid in all_ids:
            if rid in seen:
                self.fail(f"rules[{rid}]", f"duplicate rule id {quote(rid)}", rule_id=rid)
            seen.add(rid)
        for parsed in sections.values():
            # A section's own rules (a regulatory class's rule) share the policy's ids:
            # `disable`, traces and reports name a rule by its id alone.
            owned = getattr(parsed, "rule_ids", None)
            for rid, where in owned() if callable(owned) else ():
                if rid in seen:
                    message = f"duplicate rule id {quote(rid)}: a layer or remedy rule has it"
                    self.fail(where, message, key="rule")

        self.check_stages(layers)
        self.check_parameters(parameters)
        if self.problems:
            found = list(self.problems)
            if self.overflow:
                more = f"and {self.overflow} more problems, not listed"
                found.append(FieldProblem("", more, source=self.source))
            raise PolicyError(found, subject=f"policy {self.source or pid}")

        looped = _holding_itself(data)
        if looped is not None:
            path, outer = looped
            msg = f"holds {outer or 'the policy'} again, without end: expected data that ends"
            raise PolicyError([FieldProblem(path, msg, source=self.source)])
        canonical = json.dumps(
            _canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        try:
            digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:
            # Past the checks of the data as given (a text nested deeper than they
            # walk): named by its place in the policy as resolved.
            _refuse_unfit(data, self.source)
            raise
        policy = Policy(
            id=pid,
            version=version,
            title=title,
            description=description,
            notes=notes,
            parameters=parameters,
            signals=signals,
            layers=layers,
            remedy_rules=remedy_rules,
            conflict=conflict,
            content_hash=digest,
            data=data,
            source=self.source,
            sections=sections,
            extra_fields=extra_fields,
            plugins=self.plugins,
            envelopes=envelopes,
            named_conditions=named_conditions,
            remedies=self.remedies,
            products=self.products,
        )
        _limits.check_policy(policy)
        # Kept for :func:`locate`: where each part of the policy is written.
        self.named_parsed.clear()
        policy.memo(_LOCATOR, lambda: self)
        return policy

    def parameter_specs(self) -> dict[str, tuple[ParameterSpec, str]]:
        """The parameters read by name, with their specs and who reads them."""
        specs = {
            name: (spec, spec.reader or "the engine") for name, spec in CORE_PARAMETERS.items()
        }
        for plugin in self.plugins:
            for name, spec in getattr(plugin, "parameter_specs", {}).items():
                specs.setdefault(name, (spec, spec.reader or f"the {quote(plugin.key)} section"))
        return specs

    def uses(self, name: str, reader: str | None) -> str:
        """Who reads parameter ``name``: the library, and the rules that compare with it."""
        parts = [f"read by {reader}"] if reader else []
        rules = list(dict.fromkeys(self.param_uses.get(name, ())))
        if rules:
            shown = ", ".join(repr(r) for r in rules[:8])
            more = f" and {len(rules) - 8} more" if len(rules) > 8 else ""
            parts.append(f"used in rule{'s' if len(rules) > 1 else ''} {shown}{more}")
        return "; ".join(parts) if parts else "not used"

    def misfit(self, exc: ParameterTypeError, rule_id: str) -> None:
        """Remember a parameter that a rule cannot compare; reported where it is set."""
        reason = exc.reason.split(": ", 1)[1] if ": " in exc.reason else exc.reason
        self.param_misfits.setdefault(exc.parameter, []).append((rule_id, reason))
        self.param_uses.setdefault(exc.parameter, []).append(rule_id)

    def check_parameters(self, parameters: Mapping[str, Parameter]) -> None:
        """Each parameter the library reads by name has its type and range, and each
        one a rule compares with fits the field it is compared with. Each problem is
        reported where the parameter is set, with the rules and sections that read it."""
        for name, misfits in self.param_misfits.items():
            rule_id, reason = misfits[0]
            self.fail(
                f"parameters.{name}",
                f"rule {quote(rule_id)} cannot use it: {reason} ({self.uses(name, None)})",
                key=name,
            )
        specs = self.parameter_specs()
        for name, parameter in parameters.items():
            entry = specs.get(name)
            if entry is None:
                continue
            spec, reader = entry
            problem = spec.problem(parameter.value)
            if problem is not None:
                self.fail(f"parameters.{name}", f"{problem} ({self.uses(name, reader)})", key=name)

    def parameters(self, table: object) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        if not isinstance(table, Mapping):
            self.fail("parameters", "expected a table")
            return out
        for name, spec in table.items():
            path = f"parameters.{name}"
            if not _KIND.match(name):
                self.fail(path, "a parameter name must be snake_case")
                continue
            if not isinstance(spec, Mapping):
                spec = {"value": spec}
            self.check_keys(spec, _PARAMETER_KEYS, path)
            value = spec.get("value")
            if not isinstance(value, bool | int | float | str) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                self.fail(
                    f"{path}.value", "expected a finite number, a string or a boolean", key=name
                )
                continue
            status = spec.get("status")
            if status is not None and status not in ("V", "S"):
                self.fail(f"{path}.status", f"expected 'V' or 'S', got {quote(status)}")
                status = None
            out[name] = Parameter(
                name=name,
                value=value,
                doc=self.get_str(spec, "doc", path, default=""),
                cites=self.get_strs(spec, "cites", path),
                chosen=self.flag(spec, "chosen", path),
                status=status,
            )
        return out

    def signals(self, table: object) -> dict[str, SignalSpec]:
        out: dict[str, SignalSpec] = {}
        if not isinstance(table, Mapping):
            self.fail("signals", "expected a table")
            return out
        for kind, spec in table.items():
            path = f"signals.{kind}"
            if not _KIND.match(kind):
                self.fail(path, "a signal kind must be snake_case")
                continue
            if not isinstance(spec, Mapping):
                self.fail(path, "expected a table")
                continue
            self.check_keys(spec, _SIGNAL_KEYS, path)
            dimension = spec.get("dimension")
            if dimension not in SIGNAL_DIMENSIONS:
                self.fail(
                    f"{path}.dimension",
                    f"expected 'willingness', 'ability' or 'contact', got {quote(dimension)}",
                    suggestion=did_you_mean(str(dimension), SIGNAL_DIMENSIONS),
                )
            polarity = spec.get("polarity")
            if polarity not in _POLARITIES:
                self.fail(
                    f"{path}.polarity",
                    f"expected 'negative', 'positive' or 'measured', got {quote(polarity)}",
                    suggestion=did_you_mean(str(polarity), _POLARITIES),
                )
            out[kind] = SignalSpec(
                kind=kind,
                dimension=str(dimension),
                polarity=str(polarity),
                label_en=self.get_str(spec, "label_en", path, default=""),
                label_zh=self.get_str(spec, "label_zh", path, default=""),
                cites=self.get_strs(spec, "cites", path),
                chosen=self.flag(spec, "chosen", path),
                doc=self.get_str(spec, "doc", path, default=""),
            )
        return out

    def condition(
        self,
        text: object,
        path: str,
        rule_id: str,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
    ) -> Condition:
        if text is None:
            return Always()
        if isinstance(text, Condition):
            try:
                check(text, schema, params)
            except ParameterTypeError as exc:
                self.misfit(exc, rule_id)
                return Always()
            except ConditionError as exc:
                self.fail(path, exc.reason, rule_id=rule_id, key="when", suggestion=exc.suggestion)
            parsed = text
        elif not isinstance(text, str):
            self.fail(
                path,
                f"expected a condition string, got {type(text).__name__}",
                rule_id=rule_id,
                key="when",
            )
            return Always()
        else:
            try:
                named = _Named(self, schema, params, rule_id)
                parsed = parse(text, schema=schema, params=params, named=named)
            except ParameterTypeError as exc:
                self.misfit(exc, rule_id)
                return Always()
            except ConditionError as exc:
                if not self.blame_extending_file(exc, rule_id):
                    # With a suggestion, the field name says where; otherwise the column does.
                    col = (
                        f" (column {exc.column})"
                        if exc.column is not None and not exc.suggestion
                        else ""
                    )
                    self.fail(
                        path,
                        f"{exc.reason}{col}",
                        rule_id=rule_id,
                        key="when",
                        suggestion=exc.suggestion,
                    )
                return Always()
        problem = _shape_problem(parsed)
        if problem is not None:
            self.fail(path, problem, rule_id=rule_id, key="when")
            return Always()
        for name in sorted(parsed.params()):
            self.param_uses.setdefault(name, []).append(rule_id)
        return parsed

    def blame_extending_file(self, exc: ConditionError, rule_id: str) -> bool:
        """Report a problem of a base file's rule's condition where an extending file
        caused it, and say whether it did: a named condition that file gives (reported
        at it), or a layer's ``values`` that file changed (reported at them)."""
        rule_source = self.sources.get(rule_id)
        named = re.match(r"named condition '([^']+)': ", exc.reason)
        if named is not None:
            name = named.group(1)
            if self.nearer(self.condition_sources.get(name), rule_source):
                reason = exc.reason[named.end() :]
                self.named_misuses.setdefault(name, []).append((rule_id, str(rule_source), reason))
                return True
            return False
        layer_id = self.outputs.get(exc.field) if exc.field is not None else None
        if layer_id is None:
            return False
        values_source = self.layer_key_source(layer_id, "values")
        if not self.nearer(values_source, rule_source):
            return False
        self.fail(
            f"layers[{layer_id}].values",
            f"rule {quote(rule_id)} of {rule_source} cannot read them: {exc.reason}",
            rule_id=layer_id,
            key="values",
            suggestion=exc.suggestion,
            source=values_source,
        )
        return True

    def catalogue(self, raw: object) -> None:
        """``[catalogue]``: the policy's own remedies and products, after the standard ones."""
        if raw is None:
            return
        if not isinstance(raw, Mapping):
            self.fail("catalogue", "expected a table: [catalogue.remedies.NAME] …")
            return
        self.check_keys(raw, _CATALOGUE_KEYS, "catalogue")
        for part, standard in (("remedies", STANDARD_REMEDIES), ("products", STANDARD_PRODUCTS)):
            entries = raw.get(part, {})
            if not isinstance(entries, Mapping):
                self.fail(f"catalogue.{part}", f"expected a table: [catalogue.{part}.NAME]")
                continue
            for name, spec in entries.items():
                path = f"catalogue.{part}.{name}"
                what = part[:-1] if part == "products" else "remedy"
                if not isinstance(name, str) or not _KIND.match(name):
                    self.fail(path, f"a {what}'s name must be snake_case")
                elif name in standard:
                    self.fail(
                        path,
                        f"{quote(name)} is a standard {what}; a policy adds {part} of its own, "
                        "it does not redefine the standard ones",
                    )
                elif not isinstance(spec, Mapping):
                    self.fail(path, "expected a table with label_en, label_zh and cites")
                elif part == "remedies":
                    self.remedies[name] = self.remedy_spec(name, spec, path)
                else:
                    self.check_keys(spec, _PRODUCT_SPEC_KEYS, path)
                    self.products[name] = ProductSpec(
                        name,
                        self.get_str(spec, "label_en", path),
                        self.get_str(spec, "label_zh", path),
                        self.get_strs(spec, "cites", path),
                        category=self.product_category(spec, path),
                    )

    def product_category(self, spec: Mapping[str, Any], path: str) -> str | None:
        """An own product's ``category``: the standard product it is a kind of."""
        if "category" not in spec:
            return None
        text = spec["category"]
        standard = [str(p) for p in STANDARD_PRODUCTS]
        if not isinstance(text, str) or text not in standard:
            self.fail(
                f"{path}.category",
                f"expected a standard product ({', '.join(standard)}), got {quote(text)}",
                suggestion=did_you_mean(str(text), standard),
            )
            return None
        return text

    def remedy_spec(self, name: str, spec: Mapping[str, Any], path: str) -> RemedySpec:
        """One of the policy's own remedies."""
        self.check_keys(spec, _REMEDY_SPEC_KEYS, path)
        text = spec.get("category")
        categories = [c.value for c in RemedyCategory]
        try:
            category = RemedyCategory(str(text))
        except ValueError:
            self.fail(
                f"{path}.category",
                f"expected one of {', '.join(categories)}, got {quote(text)}",
                suggestion=did_you_mean(str(text), categories),
            )
            category = RemedyCategory.OTHER
        coercive = category in (RemedyCategory.PRESSURE, RemedyCategory.LITIGATION)
        envelopes: tuple[str, ...] | None = None
        if "envelopes" in spec:
            envelopes = self.get_strs(spec, "envelopes", path)
        return RemedySpec(
            name,
            self.get_str(spec, "label_en", path),
            self.get_str(spec, "label_zh", path),
            category,
            self.get_strs(spec, "cites", path),
            coercive=self.reader.flag(spec, "coercive", path, default=coercive),
            envelopes=envelopes,
        )

    def named_table(self, raw: object) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """``[conditions]``: each name with its condition text, doc and cites."""
        out: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        if raw is None:
            return out
        if not isinstance(raw, Mapping):
            self.fail("conditions", 'expected a table of name = "condition"')
            return out
        for name, entry in raw.items():
            path = f"conditions.{name}"
            if not isinstance(name, str) or not _KIND.match(name):
                self.fail(path, "a named condition's name must be snake_case")
                continue
            if isinstance(entry, str):
                out[name] = (entry, "", ())
                continue
            if not isinstance(entry, Mapping):
                self.fail(path, 'expected a condition string, or a table with when = "…"')
                continue
            self.check_keys(entry, _CONDITION_KEYS, path)
            if "or" in entry:
                self.fail(
                    f"{path}.or",
                    f"'or' adds an alternative to a base policy's named condition {quote(name)}, "
                    "and no base policy (extends) names it; give the whole condition "
                    'as when = "…"',
                )
                continue
            when = entry.get("when")
            if not isinstance(when, str):
                self.fail(f"{path}.when", "expected a condition string")
                continue
            doc = entry.get("doc", "")
            out[name] = (
                when,
                doc if isinstance(doc, str) else "",
                self.get_strs(entry, "cites", path),
            )
        return out

    def named_conditions(
        self, schema: Mapping[str, FieldSpec], params: Mapping[str, Scalar]
    ) -> dict[str, NamedCondition]:
        """Each named condition checked against every field of the policy, with who
        uses it; a problem in one is reported where it is written."""
        parsed: dict[str, Condition] = {}
        for name, (text, _doc, _cites) in self.named_raw.items():
            path = f"conditions.{name}"
            if name in schema or name in params:
                what = "a fact field" if name in schema else "a parameter"
                self.fail(
                    path,
                    f"{quote(name)} is already {what}; give the named condition a name of its own",
                )
                continue
            try:
                named = _Named(self, schema, params, None, (name,))
                when = parse(text, schema=schema, params=params, named=named)
            except ConditionError as exc:
                reason = exc.reason
                prefix = f"named condition {quote(name)}: "
                reason = reason[len(prefix) :] if reason.startswith(prefix) else reason
                col = (
                    f" (column {exc.column})"
                    if exc.column is not None and not exc.suggestion
                    else ""
                )
                self.fail(path, f"{reason}{col}", suggestion=exc.suggestion)
                continue
            problem = _shape_problem(when)
            if problem is not None:
                self.fail(path, problem)
                continue
            for rule_id, rule_source, reason in self.named_misuses.get(name, ()):
                # It reads well alone, not where a base file's rule uses it.
                self.fail(path, f"rule {quote(rule_id)} of {rule_source} cannot use it: {reason}")
            parsed[name] = when
        out: dict[str, NamedCondition] = {}
        for name, when in parsed.items():
            text, doc, cites = self.named_raw[name]
            used_by = tuple(dict.fromkeys(self.named_uses.get(name, ())))
            out[name] = NamedCondition(name, when, text, doc, cites, used_by)
        return out

    def check_placeholders(
        self,
        text: str,
        path: str,
        rule_id: str | None,
        key: str,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
    ) -> None:
        """Each ``{name}`` of a reason or condition must name a fact field or parameter;
        the decision fills it in (``{extension_max_dpd}`` gives the parameter's value)."""
        for name in PLACEHOLDER.findall(text):
            if name not in schema and name not in params:
                self.fail(
                    path,
                    f"the placeholder {{{name}}} names no fact field or parameter",
                    rule_id=rule_id,
                    key=key,
                    suggestion=did_you_mean(name, [*schema, *params]),
                )

    def layers(
        self, raw: object, schema: dict[str, FieldSpec], params: Mapping[str, Scalar]
    ) -> tuple[Layer, ...]:
        if not isinstance(raw, list):
            self.fail("layers", "expected an array of tables: [[layers]]")
            return ()
        out: list[Layer] = []
        schema = dict(schema)
        for i, table in enumerate(raw):
            if not isinstance(table, Mapping):
                self.fail(f"layers[{i}]", "expected a table")
                continue
            lid = self.get_str(table, "id", f"layers[{i}]")
            path = f"layers[{lid or i}]"
            self.check_keys(table, _LAYER_KEYS, path, rule_id=lid)
            output = self.get_str(table, "output", path, default=lid, rule_id=lid)
            values = self.get_strs(table, "values", path, rule_id=lid)
            if not values:
                self.fail(
                    f"{path}.values", "a layer needs at least one value", rule_id=lid, key="values"
                )
            for j, item in enumerate(values):
                if item in values[:j]:
                    message = f"{quote(item)} is listed twice: expected each value once"
                    self.layer_fail(lid, f"{path}.values[{j}]", message, "values")
            values = tuple(dict.fromkeys(values))
            hp_text = table.get("hit_policy", "first")
            try:
                hit = HitPolicy(hp_text)
            except ValueError:
                choices = ", ".join(h.value for h in HitPolicy)
                self.fail(
                    f"{path}.hit_policy",
                    f"expected one of {choices}, got {quote(hp_text)}",
                    rule_id=lid,
                    key="hit_policy",
                    suggestion=did_you_mean(str(hp_text), [h.value for h in HitPolicy]),
                )
                hit = HitPolicy.FIRST
            default = table.get("default")
            if default is not None and default not in values:
                self.fail(
                    f"{path}.default",
                    f"{quote(default)} is not one of the layer's values",
                    rule_id=lid,
                    key="default",
                    suggestion=did_you_mean(str(default), values),
                )
            bands: list[tuple[float, str]] = []
            for j, band in enumerate(self.array(table, "bands", path, lid)):
                if (
                    not isinstance(band, Mapping)
                    or not _finite(band.get("min"))
                    or band.get("value") not in values
                ):
                    self.fail(
                        f"{path}.bands[{j}]",
                        "expected { min = <number>, value = <one of the layer's values> }",
                        rule_id=lid,
                        key="bands",
                    )
                    continue
                if any(float(band["min"]) == low for low, _ in bands):
                    message = (
                        f"another band has the minimum {quote(band['min'])}: expected each "
                        "band's minimum once, or one band would never be given"
                    )
                    self.layer_fail(lid, f"{path}.bands[{j}].min", message, "bands")
                    continue
                bands.append((float(band["min"]), str(band["value"])))
            if hit is HitPolicy.COLLECT_SUM and not bands:
                self.fail(f"{path}.bands", "a collect_sum layer needs bands", rule_id=lid)
            labels: dict[str, tuple[str, str]] = {}
            raw_labels = table.get("labels", {})
            if not isinstance(raw_labels, Mapping):
                self.fail(
                    f"{path}.labels",
                    "expected a table of value = [english, chinese]",
                    rule_id=lid,
                    key="labels",
                )
                raw_labels = {}
            # Labels a base file gives for values an extending file left out: named
            # at those values.
            labels_left = self.nearer(
                self.layer_key_source(lid, "values"), self.layer_key_source(lid, "labels")
            )
            for value, label in raw_labels.items():
                if value not in values and labels_left:
                    message = (
                        f"{quote(value)} has a label in {self.layer_key_source(lid, 'labels')}"
                        " and is not one of these values: give the layer's labels too"
                    )
                    self.layer_fail(lid, f"{path}.values", message, "values")
                    continue
                if (
                    value not in values
                    or not isinstance(label, list)
                    or len(label) != 2
                    or not all(isinstance(text, str) for text in label)
                ):
                    self.fail(
                        f"{path}.labels.{value}",
                        "expected a value of the layer mapped to [english, chinese]",
                        rule_id=lid,
                    )
                    continue
                labels[value] = (str(label[0]), str(label[1]))
            rules: list[LayerRule] = []
            for j, rt in enumerate(self.array(table, "rules", path, lid)):
                if not isinstance(rt, Mapping):
                    self.fail(f"{path}.rules[{j}]", "expected a table")
                    continue
                rid = self.get_str(rt, "id", f"{path}.rules[{j}]")
                self.check_rule_id(rt, f"{path}.rules[{j}]")
                rpath = f"{path}.rules[{rid or j}]"
                self.check_keys(rt, _LAYER_RULE_KEYS, rpath, rule_id=rid)
                value = rt.get("value")
                # A rule of a base policy that no longer fits a key of its layer that an
                # extending file changed is fixed there: named at that key.
                if hit is HitPolicy.COLLECT_SUM:
                    score = rt.get("score")
                    if not _finite(score) and self.changed_layer_key(lid, rid, "hit_policy"):
                        self.layer_fail(
                            lid,
                            f"{path}.hit_policy",
                            f"a collect_sum layer needs a finite numeric score on every rule, "
                            f"and rule {quote(rid)} of {self.sources[rid]} has none",
                            "hit_policy",
                        )
                        score = 0
                    elif not _finite(score):
                        self.fail(
                            f"{rpath}.score",
                            "a collect_sum rule needs a finite numeric score",
                            rule_id=rid,
                            key="score",
                        )
                        score = 0
                else:
                    score = 0
                    if value not in values and self.changed_layer_key(lid, rid, "values"):
                        self.layer_fail(
                            lid,
                            f"{path}.values",
                            f"rule {quote(rid)} of {self.sources[rid]} gives {quote(value)}, "
                            f"which is not one of these values ({', '.join(values)})",
                            "values",
                            suggestion=did_you_mean(str(value), values),
                        )
                    elif value not in values:
                        self.fail(
                            f"{rpath}.value",
                            f"expected one of {', '.join(values)}, got {quote(value)}",
                            rule_id=rid,
                            key="value",
                            suggestion=did_you_mean(str(value), values),
                        )
                priority = rt.get("priority", 0)
                if isinstance(priority, bool) or not isinstance(priority, int):
                    self.fail(f"{rpath}.priority", "expected a whole number", rule_id=rid)
                    priority = 0
                when = self.condition(rt.get("when"), f"{rpath}.when", rid, schema, params)
                if output in when.fields():
                    self.fail(
                        f"{rpath}.when",
                        f"a rule cannot read its own layer's output {quote(output)}",
                        rule_id=rid,
                        key="when",
                    )
                reason = self.get_str(rt, "reason", rpath, default="", rule_id=rid)
                self.check_placeholders(reason, f"{rpath}.reason", rid, "reason", schema, params)
                rules.append(
                    LayerRule(
                        id=rid,
                        when=when,
                        when_text=rt.get("when", "") if isinstance(rt.get("when"), str) else "",
                        value=value if isinstance(value, str) else None,
                        score=float(score),
                        priority=priority,
                        reason=reason,
                        cites=self.get_strs(rt, "cites", rpath, rule_id=rid),
                        origin=self._origin(rid),
                        presumed=self.flag(rt, "presumed", rpath, rid),
                        chosen=self.flag(rt, "chosen", rpath, rid),
                        doc=self.get_str(rt, "doc", rpath, default="", rule_id=rid),
                    )
                )
            if output in schema:
                self.fail(
                    f"{path}.output",
                    f"{quote(output)} is already a field",
                    rule_id=lid,
                    key="output",
                )
            layer = Layer(
                id=lid,
                output=output,
                values=values,
                hit_policy=hit,
                rules=tuple(rules),
                default=default if isinstance(default, str) else None,
                bands=tuple(bands),
                labels=labels,
                cites=self.get_strs(table, "cites", path),
                doc=self.get_str(table, "doc", path, default=""),
            )
            schema[output] = FieldSpec(output, FieldType.ENUM, choices=values)
            self.outputs.setdefault(output, lid)
            out.append(layer)
        return tuple(out)

    def changed_layer_key(self, layer_id: str, rule_id: str, key: str) -> bool:
        """Whether a file nearer the extending file than rule ``rule_id``'s own gives
        key ``key`` of layer ``layer_id``: a change the rule may no longer fit."""
        return self.nearer(self.layer_key_source(layer_id, key), self.sources.get(rule_id))

    def layer_fail(
        self, layer_id: str, path: str, message: str, key: str, *, suggestion: str | None = None
    ) -> None:
        """Report a problem of key ``key`` of layer ``layer_id``, in the file that gives
        that key (an extending file may change one key of a base's layer)."""
        source = self.layer_key_source(layer_id, key)
        self.fail(path, message, rule_id=layer_id, key=key, suggestion=suggestion, source=source)

    def remedy_rules(
        self, raw: object, schema: Mapping[str, FieldSpec], params: Mapping[str, Scalar]
    ) -> tuple[RemedyRule, ...]:
        if not isinstance(raw, list):
            self.fail("remedies.rules", "expected an array of tables: [[remedies.rules]]")
            return ()
        out: list[RemedyRule] = []
        known = list(self.remedies)
        for j, rt in enumerate(raw):
            if not isinstance(rt, Mapping):
                self.fail(f"remedies.rules[{j}]", "expected a table")
                continue
            rid = self.get_str(rt, "id", f"remedies.rules[{j}]")
            self.check_rule_id(rt, f"remedies.rules[{j}]")
            path = f"remedies[{rid or j}]"
            self.check_keys(rt, _REMEDY_RULE_KEYS, path, rule_id=rid)
            effect_text = rt.get("effect")
            try:
                effect = RemedyEffect(str(effect_text))
            except ValueError:
                self.fail(
                    f"{path}.effect",
                    f"expected allow, block or require, got {quote(effect_text)}",
                    rule_id=rid,
                    key="effect",
                    suggestion=did_you_mean(str(effect_text), [e.value for e in RemedyEffect]),
                )
                effect = RemedyEffect.ALLOW
            names = rt.get("remedies", rt.get("remedy"))
            if isinstance(names, str):
                names = [names]
            remedies: list[str] = []
            if not isinstance(names, list) or not names:
                self.fail(
                    f"{path}.remedy",
                    "expected a remedy name or a list of them",
                    rule_id=rid,
                    key="remedy",
                )
                names = []
            for name in names:
                if isinstance(name, str) and name in self.remedies:
                    remedies.append(remedy_name(name))
                else:
                    self.fail(
                        f"{path}.remedy",
                        f"unknown remedy {quote(name)}",
                        rule_id=rid,
                        key="remedies" if "remedies" in rt else "remedy",
                        suggestion=did_you_mean(str(name), known),
                    )
            reason = self.get_str(rt, "reason", path, rule_id=rid)
            when = self.condition(rt.get("when"), f"{path}.when", rid, schema, params)
            conditions = self.get_strs(rt, "conditions", path, rule_id=rid)
            cites = self.get_strs(rt, "cites", path, rule_id=rid)
            overrides = self.reader.flag(rt, "overrides_quadrant", path, default=False, rule_id=rid)
            if overrides and effect is RemedyEffect.BLOCK:
                self.fail(
                    f"{path}.overrides_quadrant",
                    "only a rule that allows or requires remedies can widen a quadrant's "
                    "envelope; a block always stays inside it",
                    rule_id=rid,
                    key="overrides_quadrant",
                )
            if overrides and not cites:
                self.fail(
                    f"{path}.overrides_quadrant",
                    "a rule that widens a quadrant's envelope must cite the clause that "
                    "says why (cites = [...])",
                    rule_id=rid,
                    key="overrides_quadrant",
                )
            for text, key in ((reason, "reason"), *((c, "conditions") for c in conditions)):
                self.check_placeholders(text, f"{path}.{key}", rid, key, schema, params)
            out.append(
                RemedyRule(
                    id=rid,
                    effect=effect,
                    remedies=tuple(remedies),
                    when=when,
                    when_text=rt.get("when", "") if isinstance(rt.get("when"), str) else "",
                    reason=reason,
                    conditions=conditions,
                    cites=cites,
                    origin=self._origin(rid),
                    overrides_quadrant=overrides,
                    chosen=self.flag(rt, "chosen", path, rid),
                    doc=self.get_str(rt, "doc", path, default="", rule_id=rid),
                )
            )
        return tuple(out)

    def envelopes(self, raw: object, layers: Sequence[Layer]) -> dict[str, Envelope]:
        """``[envelopes]``: one table per quadrant, the remedies it can ever get."""
        if not isinstance(raw, Mapping):
            self.fail("envelopes", "expected a table: [envelopes.Q1] …")
            return {}
        quadrants: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")
        for layer in layers:
            if layer.output == "quadrant":
                quadrants = layer.values
        known = list(self.remedies)
        out: dict[str, Envelope] = {}
        for name, table in raw.items():
            path = f"envelopes.{name}"
            if name not in quadrants:
                self.fail(
                    path,
                    f"unknown quadrant {quote(name)}; expected one of {', '.join(quadrants)}",
                    suggestion=did_you_mean(str(name), quadrants),
                )
                continue
            if not isinstance(table, Mapping):
                self.fail(path, "expected a table with remedies and cites")
                continue
            self.check_keys(table, _ENVELOPE_KEYS, path)
            names = table.get("remedies")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                self.fail(f"{path}.remedies", "expected a list of remedy names")
                names = []
            remedies: set[str] = set()
            for item in names:
                if item in self.remedies:
                    remedies.add(remedy_name(item))
                else:
                    self.fail(
                        f"{path}.remedies",
                        f"unknown remedy {quote(item)}",
                        suggestion=did_you_mean(item, known),
                    )
            cites = self.get_strs(table, "cites", path)
            if not cites:
                self.fail(
                    f"{path}.cites",
                    "an envelope must cite the clause that gives the quadrant's treatment",
                )
            doc = self.get_str(table, "doc", path, default="")
            out[str(name)] = Envelope(str(name), frozenset(remedies), cites, doc)
        self.place_own_remedies(out, quadrants)
        missing = [q for q in quadrants if q not in out]
        if out and missing:
            self.fail(
                "envelopes",
                f"every quadrant needs an envelope; missing: {', '.join(missing)}",
            )
        return out

    def place_own_remedies(self, envelopes: dict[str, Envelope], quadrants: Sequence[str]) -> None:
        """Put each of the policy's own remedies that no envelope lists into the envelopes
        its ``envelopes`` key names, or else those of its category (CATEGORY_QUADRANTS)."""
        listed = {r for envelope in envelopes.values() for r in envelope.remedies}
        for name, spec in self.remedies.items():
            if spec.standard or name in listed:
                continue
            where = spec.envelopes
            if where is None:
                where = tuple(q for q in CATEGORY_QUADRANTS[spec.category] if q in quadrants)
            for quadrant in where:
                if quadrant not in quadrants:
                    self.fail(
                        f"catalogue.remedies.{name}.envelopes",
                        (
                            f"unknown quadrant {quote(quadrant)}; "
                            f"expected one of {', '.join(quadrants)}"
                        ),
                        suggestion=did_you_mean(quadrant, quadrants),
                    )
                    continue
                envelope = envelopes.get(quadrant)
                if envelope is not None:
                    envelopes[quadrant] = attrs.evolve(
                        envelope, remedies=envelope.remedies | {name}
                    )

    def sections(
        self, data: Mapping[str, Any], params: Mapping[str, Scalar]
    ) -> tuple[dict[str, Any], dict[str, FieldSpec]]:
        """Parse the optional sections (timeline, regulation …) with their plug-ins."""
        return parse_sections(data, self, params, self.plugins)

    def check_stages(self, layers: Sequence[Layer]) -> None:
        outputs = {layer.output: layer for layer in layers}
        for layer in layers:
            for name in layer.inputs():
                if name in outputs:
                    earlier = [la.output for la in layers[: layers.index(layer)]]
                    if name not in earlier:
                        self.fail(
                            f"layers[{layer.id}]",
                            f"reads {quote(name)}, which a later layer produces; "
                            "order layers so that inputs come first",
                            rule_id=layer.id,
                        )


class _Named(Mapping[str, Condition]):
    """The policy's named conditions as the parser sees them: each one parsed when a
    condition uses it, against that condition's fields, so a stage and a rule each read
    it with their own schema; a cycle, or a problem inside one, is an error that names it.
    """

    def __init__(
        self,
        loader: _Loader,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
        owner: str | None,
        stack: tuple[str, ...] = (),
    ) -> None:
        self.loader = loader
        self.schema = schema
        self.params = params
        self.owner = owner
        self.stack = stack

    def __contains__(self, name: object) -> bool:
        return name in self.loader.named_raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.loader.named_raw)

    def __len__(self) -> int:
        return len(self.loader.named_raw)

    def __getitem__(self, name: str) -> Condition:
        text = self.loader.named_raw[name][0]
        if name in self.stack:
            cycle = " -> ".join((*self.stack[self.stack.index(name) :], name))
            msg = f"named conditions use each other in a cycle: {cycle}"
            raise ConditionError(msg, field=name)
        if self.owner is not None:
            self.loader.named_uses.setdefault(name, []).append(self.owner)
        key = (name, id(self.schema), id(self.params))
        known = self.loader.named_parsed.get(key)
        if known is not None:
            return known[2]
        inner = _Named(
            self.loader, self.schema, self.params, f"conditions.{name}", (*self.stack, name)
        )
        try:
            parsed = parse(text, schema=self.schema, params=self.params, named=inner)
            self.loader.named_parsed[key] = (self.schema, self.params, parsed)
            return parsed
        except ParameterTypeError:
            raise
        except ConditionError as exc:
            if exc.reason.startswith("named condition"):
                raise
            raise ConditionError(
                f"named condition {quote(name)}: {exc.reason}",
                field=exc.field,
                suggestion=exc.suggestion,
            ) from None


#: How deeply ``and`` and ``or`` groups may nest in one condition. durable_rules refuses
#: a ruleset whose conditions nest ``$and``/``$or`` 16 deep (error 113, measured); the
#: engine adds one level for the stage and up to two for a negated optional leaf. The
#: shipped policies need 2.
MAX_CONDITION_GROUPS = 12
#: How deeply a condition may nest at all, ``not`` included: the verifier and the
#: evaluators recurse over the tree. The shipped policies need 3.
MAX_CONDITION_DEPTH = 32


def _shape_problem(condition: Condition) -> str | None:
    """What makes a parsed condition unusable: nesting too deep for durable_rules, the
    verifier or the evaluators, or a constant that is not a finite number (``1e999``)."""
    stack: list[tuple[Condition, int, int]] = [(condition, 1, 0)]
    while stack:
        node, depth, groups = stack.pop()
        if groups > MAX_CONDITION_GROUPS:
            return (
                f"'and' and 'or' nest more than {MAX_CONDITION_GROUPS} levels deep; "
                "durable_rules cannot compile that (error 113): simplify the condition"
            )
        if depth > MAX_CONDITION_DEPTH:
            return (
                f"the condition nests more than {MAX_CONDITION_DEPTH} levels deep "
                "('and', 'or', 'not'); simplify it"
            )
        if isinstance(node, All | AnyOf):
            stack.extend((part, depth + 1, groups + 1) for part in node.parts)
        elif isinstance(node, Not):
            stack.append((node.part, depth + 1, groups))
        elif isinstance(node, Compare | Between | In):
            values = (
                (node.value,)
                if isinstance(node, Compare)
                else (node.low, node.high)
                if isinstance(node, Between)
                else node.values
            )
            for value in values:
                if isinstance(value, float) and not math.isfinite(value):
                    return f"{quote(value)} is not a finite number"
    return None


#: A policy's version: what a reference (``id@version#hash``) can print as one word.
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}")

#: The longest rule id: as long as a case id may be (``model.limits.MAX_ID_LENGTH``).
MAX_RULE_ID_LENGTH = 200
#: Unicode categories no rule id holds: controls (a line end, NUL), format characters
#: (a right-to-left override, a zero-width space), line and paragraph separators,
#: surrogates, private-use and unassigned code points.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _bad_rule_id(rid: str) -> str | None:
    """Why ``rid`` cannot be a rule's id, or ``None``.

    A rule id is shown in traces, in ``collectrules check`` and ``show``, and matched by
    ``disable`` and by a child policy's rule of the same id: an empty one names nothing,
    and one holding a line end or an invisible character prints as another id (or as
    another line of a report) while it matches no other.
    """
    expected = (
        f"expected a visible name such as 'R-Q2-EXTEND', at most {MAX_RULE_ID_LENGTH} characters"
    )
    if not rid.strip():
        return f"{expected}, got {'an empty' if not rid else 'a blank'} id"
    if len(rid) > MAX_RULE_ID_LENGTH:
        return f"{expected}, got {len(rid)} characters"
    if rid != rid.strip():
        return f"{expected}, got {quote(rid)} (spaces at an end)"
    for char in rid:
        if unicodedata.category(char) in _UNSEEN_CATEGORIES:
            unseen = f"U+{ord(char):04X}"
            return f"{expected}, got {quote(rid)} (it holds {unseen}, not a visible character)"
    return _look_alike(rid)


#: The scripts a rule id may write its letters in together with Latin: Chinese, Japanese
#: and Korean (Han, kana, Hangul, Bopomofo), as Unicode TS #39's "highly restrictive"
#: identifiers may. Each is the first word of its letters' Unicode names.
_WITH_LATIN = frozenset(
    {"LATIN", "CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "HANGUL"}
    | {"BOPOMOFO"}
)


#: The Cyrillic and Greek letters that print as a Latin letter, by that letter: those
#: whose skeleton in Unicode's confusables (UTS #39, ``confusables.txt``) is one ASCII
#: letter, less those that Unicode's compatibility form writes otherwise (``'ϲ'``), which
#: are refused before this is read. A capital iota, the Ukrainian ``'І'`` and the
#: palochka print as ``'I'``, where the skeleton writes ``'l'``.
_LOOK_ALIKES_OF = {
    "A": "\u0391\u0410",  # GREEK CAPITAL ALPHA, CYRILLIC CAPITAL A
    "B": "\u0392\u0412",  # GREEK CAPITAL BETA, CYRILLIC CAPITAL VE
    "C": "\u0421",  # CYRILLIC CAPITAL ES
    "E": "\u0395\u0415",  # GREEK CAPITAL EPSILON, CYRILLIC CAPITAL IE
    "F": "\u03dc",  # GREEK DIGAMMA
    "G": "\u050c",  # CYRILLIC CAPITAL KOMI SJE
    "H": "\u0397\u041d",  # GREEK CAPITAL ETA, CYRILLIC CAPITAL EN
    "I": "\u0399\u0406\u04c0",  # GREEK CAPITAL IOTA, CYRILLIC CAPITAL I, PALOCHKA
    "J": "\u037f\u0408",  # GREEK CAPITAL YOT, CYRILLIC CAPITAL JE
    "K": "\u039a\u041a",  # GREEK CAPITAL KAPPA, CYRILLIC CAPITAL KA
    "M": "\u039c\u03fa\u041c",  # GREEK CAPITAL MU, GREEK CAPITAL SAN, CYRILLIC CAPITAL EM
    "N": "\u039d",  # GREEK CAPITAL NU
    "O": "\u039f\u041e",  # GREEK CAPITAL OMICRON, CYRILLIC CAPITAL O
    "P": "\u03a1\u0420",  # GREEK CAPITAL RHO, CYRILLIC CAPITAL ER
    "S": "\u0405",  # CYRILLIC CAPITAL DZE
    "T": "\u03a4\u0422",  # GREEK CAPITAL TAU, CYRILLIC CAPITAL TE
    "V": "\u0474",  # CYRILLIC CAPITAL IZHITSA
    "W": "\u051c",  # CYRILLIC CAPITAL WE
    "X": "\u03a7\u0425",  # GREEK CAPITAL CHI, CYRILLIC CAPITAL HA
    "Y": "\u03a5\u0423\u04ae",  # GREEK CAPITAL UPSILON, CYRILLIC CAPITAL U, STRAIGHT U
    "Z": "\u0396",  # GREEK CAPITAL ZETA
    "a": "\u03b1\u0430",  # GREEK SMALL ALPHA, CYRILLIC SMALL A
    "b": "\u042c",  # CYRILLIC CAPITAL SOFT SIGN
    "c": "\u0441",  # CYRILLIC SMALL ES
    "d": "\u0501",  # CYRILLIC SMALL KOMI DE
    "e": "\u0435\u04bd",  # CYRILLIC SMALL IE, SMALL ABKHASIAN CHE
    "h": "\u04bb",  # CYRILLIC SMALL SHHA
    "i": "\u03b9\u0456\u04cf",  # GREEK SMALL IOTA, CYRILLIC SMALL I, SMALL PALOCHKA
    "j": "\u03f3\u0458",  # GREEK YOT, CYRILLIC SMALL JE
    "o": "\u03bf\u03c3\u043e",  # GREEK SMALL OMICRON, SMALL SIGMA, CYRILLIC SMALL O
    "p": "\u03c1\u0440",  # GREEK SMALL RHO, CYRILLIC SMALL ER
    "q": "\u051b",  # CYRILLIC SMALL QA
    "r": "\u0433",  # CYRILLIC SMALL GHE
    "s": "\u0455",  # CYRILLIC SMALL DZE
    "u": "\u03c5",  # GREEK SMALL UPSILON
    "v": "\u03bd\u0475",  # GREEK SMALL NU, CYRILLIC SMALL IZHITSA
    "w": "\u0461\u051d",  # CYRILLIC SMALL OMEGA, SMALL WE
    "x": "\u0445",  # CYRILLIC SMALL HA
    "y": "\u03b3\u0443\u04af",  # GREEK SMALL GAMMA, CYRILLIC SMALL U, SMALL STRAIGHT U
}
#: Each look-alike letter, by its code point, to the Latin letter it prints as.
_AS_LATIN = {ord(alike): latin for latin, alikes in _LOOK_ALIKES_OF.items() for alike in alikes}


def _script(char: str) -> str:
    """The script of a letter, as the first word of its Unicode name: ``LATIN``,
    ``CYRILLIC``, ``GREEK``, ``CJK`` (a Han ideograph), ``HIRAGANA`` …"""
    return unicodedata.name(char, "?").split(" ", 1)[0]


def _look_alike(rid: str) -> str | None:
    """Why ``rid`` could read as another rule id, or ``None``.

    Refused: a character that Unicode's compatibility form writes otherwise (a
    fullwidth ``'Ｒ'``, a ligature, a superscript); a digit other than 0 to 9; Cyrillic
    or Greek letters that all print as Latin ones (``'ВАТ'`` reads as ``'BAT'``, and
    matches no ``'BAT'``); and letters of two scripts, such as a Cyrillic ``'А'``
    (U+0410) among Latin letters. Letters of one script load when one of them is unlike
    any Latin letter (``'ПРАВИЛО-1'``: no Latin letter looks like ``'П'``), and so do
    Latin letters with Chinese, Japanese or Korean ones (``'R-逾期-1'``).
    """
    expected = (
        "expected a rule id such as 'R-Q2-EXTEND' whose letters are of one script (or "
        "Latin with Chinese, Japanese or Korean) and whose digits are 0-9"
    )

    def named(char: str) -> str:
        return f"{quote(char)} is U+{ord(char):04X} {unicodedata.name(char, '')}".rstrip()

    plain = unicodedata.normalize("NFKC", rid)
    if plain != rid:
        changed = [c for c in rid if unicodedata.normalize("NFKC", c) != c]
        if changed:
            char = changed[0]
            reads = f"which reads as {quote(unicodedata.normalize('NFKC', char))}"
        else:  # a letter and its accent apart: 'e' and U+0301 read as 'é'
            char = next((c for c in rid if unicodedata.combining(c)), rid[0])
            reads = f"written apart from its letter: write {quote(plain)}"
        return f"{expected}, got {quote(rid)} ({named(char)}, {reads})"
    for char in rid:
        if unicodedata.category(char) == "Nd" and not "0" <= char <= "9":
            return f"{expected}, got {quote(rid)} ({named(char)})"
    letters = [c for c in rid if unicodedata.category(c).startswith("L")]
    if letters and all(ord(c) in _AS_LATIN for c in letters):
        return (
            f"{expected}, not one whose every letter prints as a Latin one, got "
            f"{quote(rid)}, which reads as the Latin {quote(rid.translate(_AS_LATIN))} "
            f"({named(letters[0])})"
        )
    for char in letters[1:]:
        one, other = _script(letters[0]), _script(char)
        if one != other and not {one, other} <= _WITH_LATIN:
            return (
                f"{expected}, got {quote(rid)}, which mixes {one.title()} and "
                f"{other.title()} letters ({named(char)})"
            )
    return None


def _finite(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite number (and not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: A string of a TOML, JSON or YAML flow array: double-quoted with escapes, or single-quoted.
_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'""")
#: An item of a YAML block list: ``- R-1``.
_YAML_ITEM = re.compile(r"^\s*-\s+\S")


def _item_line(lines: Sequence[str], start: int, index: int) -> int | None:
    """The line (1-based) of the ``index``-th item of the array of strings whose key is
    on line ``start`` (0-based): ``key = ["a", "b"]`` over one line or several, or a
    YAML list of ``- a`` lines; None when it cannot be told."""
    count = 0
    head = lines[start] if start < len(lines) else ""
    rest = re.split(r"[=:]", head, maxsplit=1)[1] if re.search(r"[=:]", head) else ""
    if not rest.strip() or rest.strip().startswith("#"):  # a YAML block list
        for i in range(start + 1, len(lines)):
            if not lines[i].strip() or lines[i].lstrip().startswith("#"):
                continue
            if not _YAML_ITEM.match(lines[i]):
                return None
            if count == index:
                return i + 1
            count += 1
        return None
    for i in range(start, len(lines)):
        text = rest if i == start else lines[i]
        at = 0
        while at < len(text):
            char = text[at]
            if char == "#":
                break
            if char == "]":
                return None
            m = _QUOTED.match(text, at)
            if m is not None:
                if count == index:
                    return i + 1
                count += 1
                at = m.end()
                continue
            at += 1
    return None


def _starts_another_table(line: str) -> bool:
    """Whether a line opens another TOML table, or another rule of a YAML list."""
    return line.lstrip().startswith("[") or _YAML_ITEM_ID.match(line) is not None


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Condition):  # built in Python: hashed as the text it reads as
        return value.to_text()
    return value
