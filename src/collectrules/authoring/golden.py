"""Writing and updating golden-case files from current decisions.

:func:`golden_text` writes a golden file (the format the pytest plugin reads, see
``docs/testing-kit.md``) whose expectations are what the policy decides now: each
case's quadrant, every remedy allowed and every remedy blocked. ``collectrules golden``
uses it.

:func:`updated_expectation` and :func:`update_file` rewrite the expectations of cases
that no longer hold, in place, for ``pytest --collectrules-update``: the keys a case
states are kept and only what is wrong is changed (a remedy that moved from allowed to
blocked moves from ``allows`` to ``blocks``), so that the author's choice of what to
check survives and the diff shows exactly what changed. TOML files keep their comments
and layout (edited with ``tomlkit``); JSON files are rewritten with two-space indents.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import tomlkit
import tomlkit.exceptions

from collectrules import _json as strict_json
from collectrules._arguments import (
    require_instance,
    require_mapping,
    require_optional_text,
    require_path,
    require_text,
    wrong_kind,
)
from collectrules._files import MAX_GOLDEN_BYTES, UnreadableFile, read_small_file
from collectrules.errors import FieldProblem, InputError, OutputError, quote
from collectrules.model.decision import Decision
from collectrules.model.limits import check_text
from collectrules.model.time import require_aware

__all__ = [
    "GOLDEN_PATTERNS",
    "GoldenEntry",
    "expectation_of",
    "golden_text",
    "update_file",
    "updated_expectation",
]

#: The file names the pytest plugin collects by default (its ``DEFAULT_PATTERNS``).
GOLDEN_PATTERNS = ("golden_*.toml", "golden_*.json")
_EXPECTATION_KEYS = ("quadrant", "allows", "blocks")


@attrs.frozen
class GoldenEntry:
    """One case of a golden file: its id, its input data, and its current decision."""

    id: str
    input: Mapping[str, Any]
    decision: Decision


def expectation_of(decision: Decision) -> dict[str, Any]:
    """The full expectation of a decision: its quadrant, and every remedy allowed and blocked."""
    require_instance(decision, Decision, "decision", "a Decision")
    return {
        "quadrant": decision.quadrant.value,
        "allows": [str(g.remedy) for g in decision.allowed],
        "blocks": [str(b.remedy) for b in decision.blocked],
    }


def _state(decision: Decision, remedy: str) -> str | None:
    if decision.block(remedy) is not None:
        return "blocks"
    if decision.grant(remedy) is not None:
        return "allows"
    return None


def updated_expectation(case: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    """The expectation keys of ``case`` rewritten to hold for ``decision``.

    The quadrant, when the case states one, becomes the decided quadrant. Each remedy
    named in ``allows`` or ``blocks`` goes to the list of its current state, in the
    order named; a remedy that is now neither allowed nor blocked is dropped. A list
    left empty is dropped unless the case stated it. A case that would expect nothing
    expects the decided quadrant. A ``case`` that is not a mapping, or whose ``allows``
    or ``blocks`` is not a remedy's name or a list of them, is an
    :class:`~collectrules.errors.InputError`.
    """
    if not isinstance(case, Mapping):
        raise wrong_kind("case", case, "a golden case (a table)")
    require_instance(decision, Decision, "decision", "a Decision")
    out: dict[str, Any] = {}
    if "quadrant" in case:
        out["quadrant"] = decision.quadrant.value
    lists: dict[str, list[str]] = {"allows": [], "blocks": []}
    for key in ("allows", "blocks"):
        named = case.get(key, [])
        names = [named] if isinstance(named, str) else named
        if not isinstance(names, list | tuple):
            raise wrong_kind(key, named, "a remedy's name or a list of them")
        for index, remedy in enumerate(names):
            if not isinstance(remedy, str):
                raise wrong_kind(f"{key}[{index}]", remedy, "a remedy's name")
            state = _state(decision, str(remedy))
            if state is not None and remedy not in lists[state]:
                lists[state].append(str(remedy))
    for key, remedies in lists.items():
        if remedies or key in case:
            out[key] = remedies
    if not out.get("quadrant") and not out.get("allows") and not out.get("blocks"):
        out["quadrant"] = decision.quadrant.value
    return out


def _plain(value: Any) -> Any:
    """``value`` without nulls (TOML has none; a missing key reads as null)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value if v is not None]
    return value


def _instant(as_of: dt.datetime) -> dt.datetime:
    return dt.datetime.fromisoformat(as_of.isoformat())


def golden_text(
    entries: Sequence[GoldenEntry],
    *,
    policy: str,
    as_of: dt.datetime,
    backend: str = "python",
    fmt: str = "toml",
    description: str | None = None,
) -> str:
    """The text of a golden file (``fmt``: ``"toml"`` or ``"json"``) for ``entries``.

    ``policy`` is written as given: a shipped name, or a path relative to the file.
    Two entries with one id are an :class:`~collectrules.errors.InputError`, and so are
    arguments of the wrong kind (``entries`` that are not :class:`GoldenEntry` objects
    with a text id, a mapping input and a decision; a naive ``as_of``; an unknown
    ``fmt`` or ``backend``) and an input the file cannot hold (a value TOML or JSON has
    no form for, a text UTF-8 cannot hold, nesting too deep to write).
    """
    _check_entries(entries)
    if not isinstance(policy, str) or not policy:
        raise wrong_kind("policy", policy, "a shipped policy's name or a path relative to the file")
    if not isinstance(as_of, dt.datetime):
        raise wrong_kind("as_of", as_of, "an aware datetime")
    require_aware(as_of)
    if backend not in _BACKENDS:
        raise wrong_kind("backend", backend, "'python', 'durable' or 'both'")
    if fmt not in ("toml", "json"):
        raise wrong_kind("fmt", fmt, "'toml' or 'json'")
    require_optional_text(description, "description")
    ids = [e.id for e in entries]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise InputError(
            [FieldProblem("case_id", f"duplicate case id {quote(i)}") for i in duplicates],
            subject="golden cases",
        )
    if not entries:
        raise InputError([FieldProblem("cases", "no case to write")], subject="golden cases")
    cases = []
    for index, e in enumerate(entries):
        try:
            data = _plain(dict(e.input))
        except RecursionError:
            raise _unwritable(index, "nested too deep to write") from None
        if data.get("case_id") == e.id:
            del data["case_id"]
        cases.append({"id": e.id, **expectation_of(e.decision), "input": data})
    head: dict[str, Any] = {"policy": policy}
    if description:
        head["description"] = description
    try:
        if fmt == "json":
            text = _golden_json(head, as_of, backend, cases)
        else:
            text = _golden_toml(head, as_of, backend, cases)
        text.encode("utf-8")
    except _WRITE_ERRORS:
        bad = _first_unwritable(cases, json_only=fmt == "json")
        if bad is None:
            raise InputError(
                [FieldProblem("", "the golden file cannot be written as UTF-8 " + fmt.upper())],
                subject="golden cases",
            ) from None
        raise _unwritable(bad, f"cannot be written as UTF-8 {fmt.upper()}") from None
    return text


#: The back ends a golden file names.
_BACKENDS = ("python", "durable", "both")

#: What writing a value JSON or TOML has no form for raises: ``json`` a ``TypeError``
#: or a ``ValueError`` (a list that holds itself), ``tomlkit`` its ``ConvertError`` (a
#: ``TypeError`` and a ``ValueError``); a text UTF-8 cannot hold, ``UnicodeEncodeError``.
_WRITE_ERRORS = (TypeError, ValueError, RecursionError, tomlkit.exceptions.TOMLKitError)


def _check_entries(entries: object) -> None:
    """``entries`` as :func:`golden_text` takes them, or an :class:`InputError`."""
    if isinstance(entries, str | bytes | Mapping) or not isinstance(entries, Sequence):
        raise wrong_kind("entries", entries, "a list of GoldenEntry")
    for index, entry in enumerate(entries):
        where = f"entries[{index}]"
        require_instance(entry, GoldenEntry, where, "a GoldenEntry")
        require_text(entry.id, f"{where}.id", "a case id (a text)")
        require_mapping(entry.input, f"{where}.input", "the case's data (a mapping)")
        require_instance(entry.decision, Decision, f"{where}.decision", "a Decision")


def _golden_json(
    head: Mapping[str, Any], as_of: dt.datetime, backend: str, cases: list[dict[str, Any]]
) -> str:
    payload = {**head, "as_of": as_of.isoformat(), "backend": backend, "cases": cases}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _golden_toml(
    head: Mapping[str, Any], as_of: dt.datetime, backend: str, cases: list[dict[str, Any]]
) -> str:
    doc = tomlkit.document()
    for key, value in head.items():
        doc[key] = value
    doc["as_of"] = _instant(as_of)
    doc["backend"] = backend
    table = tomlkit.aot()
    for case in cases:
        item = tomlkit.table()
        for key in ("id", *_EXPECTATION_KEYS):
            item[key] = case[key]
        item["input"] = _input_table(case["input"])
        table.append(item)
    doc["cases"] = table
    return tomlkit.dumps(doc)


def _first_unwritable(cases: Sequence[Mapping[str, Any]], *, json_only: bool) -> int | None:
    """The index of the first case whose id or input cannot be written."""
    for index, case in enumerate(cases):
        try:
            json.dumps(case, ensure_ascii=False).encode("utf-8")
            if not json_only:
                tomlkit.dumps({"case": _input_table(case["input"]), "id": case["id"]})
        except _WRITE_ERRORS:
            return index
    return None


def _unwritable(index: int, why: str) -> InputError:
    return InputError(
        [FieldProblem(f"entries[{index}]", f"the case's id or input {why}")],
        subject="golden cases",
    )


def _input_table(data: Mapping[str, Any]) -> Any:
    out = tomlkit.table()
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            array = tomlkit.array()
            for v in value:
                inline = tomlkit.inline_table()
                inline.update(v)
                array.append(inline)
            array.multiline(True)
            out[key] = array
        else:
            out[key] = value
    return out


def update_file(path: Path, updates: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Rewrite, in ``path``, the expectation keys of each case id in ``updates``.

    Every other key, and in TOML every comment and the layout, is kept. Returns the ids
    updated. A file that is not a golden file (not UTF-8, not TOML or JSON, not a table
    with a list of cases each with an id), and a case id not in the file, are an
    :class:`~collectrules.errors.InputError` naming the file (and the line, for a
    syntax error), before the file is touched; ``updates`` that are not a mapping of
    case ids to expectations (``quadrant`` a text, ``allows`` and ``blocks`` lists of
    texts) are one too. A file that cannot be written is an
    :class:`~collectrules.errors.OutputError`.
    """
    path = require_path(path, "path")
    _check_updates(updates)
    source = str(path)
    try:
        text = read_small_file(path, MAX_GOLDEN_BYTES).decode("utf-8")
    except UnreadableFile as exc:
        raise _refused(f"cannot read: {exc.reason}", source) from None
    except UnicodeDecodeError as exc:
        raise _refused(f"not UTF-8 text (byte {exc.start})", source) from None
    is_json = path.suffix.lower() == ".json"
    data = _parsed_json(text, source) if is_json else _parsed_toml(text, source)
    done = _apply(_cases(data, source), updates, path)
    new = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if is_json else tomlkit.dumps(data)
    # A text JSON read from an escape (``"\ud800"``) is a lone surrogate UTF-8 cannot
    # hold: it is written back as the escape it was read from. The text is encoded in
    # full before the file is opened, so a failure never leaves it empty.
    content = _LONE_SURROGATE.sub(_escaped, new).encode("utf-8")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise OutputError(path, exc) from None
    return done


#: A lone surrogate in a text (the only surrogates a ``str`` read from JSON holds).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _refused(message: str, source: str, path: str = "", line: int | None = None) -> InputError:
    return InputError([FieldProblem(path, message, source=source, line=line)])


def _parsed_json(text: str, source: str) -> Any:
    try:
        return strict_json.loads(text)
    except strict_json.RepeatedKeyError as exc:
        raise _refused(exc.described(line=False), source, exc.path, exc.line) from None
    except json.JSONDecodeError as exc:
        raise _refused(f"not JSON: {exc.msg}", source, line=exc.lineno) from None
    except RecursionError:
        raise _refused("nested too deep to read", source) from None


def _parsed_toml(text: str, source: str) -> Any:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        # its message ends "at line 5 col 7": the line is said apart, the column kept
        message = str(exc).rsplit(f" at line {exc.line} ", 1)[0].rstrip(".")
        column = exc.col + 1  # tomlkit counts columns from 0
        raise _refused(f"not TOML: {message} (column {column})", source, line=exc.line) from None
    except (tomlkit.exceptions.TOMLKitError, ValueError) as exc:
        raise _refused(f"not TOML: {exc}", source) from None
    except RecursionError:
        raise _refused("nested too deep to read", source) from None


def _cases(data: Any, source: str) -> list[Any]:
    """The cases of a golden file's ``data``, each a table with a non-empty text ``id``;
    anything else is an :class:`InputError` naming the file."""
    if not isinstance(data, Mapping):
        raise _refused(f"expected a table (an object) at the top level, got {_kind(data)}", source)
    if "cases" not in data:
        raise _refused("required: the list of cases ([[cases]])", source, "cases")
    cases = data["cases"]
    if not isinstance(cases, list):
        message = f"expected a list of cases ([[cases]]), got {_kind(cases)}"
        raise _refused(message, source, "cases")
    problems = []
    for index, case in enumerate(cases):
        if not isinstance(case, Mapping):
            message = f"expected a table (an object), got {_kind(case)}"
            problems.append(FieldProblem(f"cases[{index}]", message, source=source))
            continue
        case_id = case.get("id")
        if not isinstance(case_id, str) or not case_id.strip():
            message = f"expected a non-empty text, got {quote(_unwrapped(case_id))}"
            problems.append(FieldProblem(f"cases[{index}].id", message, source=source))
    if problems:
        raise InputError(problems, subject=source)
    return cases


def _unwrapped(value: Any) -> Any:
    """A TOML value as plain data (tomlkit's items are subclasses of the builtins)."""
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if callable(unwrap) else value


def _kind(value: object) -> str:
    """What ``value`` is, in a golden file's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, Mapping):
        return "a table (an object)"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dt.date | dt.time):
        return "a date or a time"
    return type(value).__name__


def _check_updates(updates: object) -> None:
    """``updates`` as :func:`update_file` takes them, or an :class:`InputError`."""
    if not isinstance(updates, Mapping):
        raise wrong_kind("updates", updates, "a mapping of case ids to expectations")
    for case_id, new in updates.items():
        if not isinstance(case_id, str):
            raise wrong_kind("updates", case_id, "text case ids")
        where = f"updates[{quote(case_id)}]"
        if not isinstance(new, Mapping):
            raise wrong_kind(where, new, "a mapping of expectation keys")
        quadrant = new.get("quadrant")
        if "quadrant" in new:
            if not isinstance(quadrant, str):
                raise wrong_kind(f"{where}.quadrant", quadrant, "a text")
            _writable_text(quadrant, f"{where}.quadrant")
        for key in ("allows", "blocks"):
            if key not in new:
                continue
            named = new[key]
            if not isinstance(named, list | tuple) or not all(isinstance(r, str) for r in named):
                raise wrong_kind(f"{where}.{key}", named, "a list of remedies' names")
            for index, name in enumerate(named):
                _writable_text(name, f"{where}.{key}[{index}]")


def _writable_text(value: str, where: str) -> None:
    """An :class:`InputError` for a text that neither TOML nor UTF-8 can hold (a lone
    surrogate): written, it would make a file that is no longer TOML or UTF-8."""
    try:
        check_text(value, maximum=sys.maxsize, what="text")
    except ValueError as exc:
        raise InputError([FieldProblem(where, str(exc))]) from None


def _apply(cases: Iterable[Any], updates: Mapping[str, Mapping[str, Any]], path: Path) -> list[str]:
    done: list[str] = []
    for case in cases:
        new = updates.get(str(case.get("id")))
        if new is None:
            continue
        for key in _EXPECTATION_KEYS:
            if key in new:
                case[key] = list(new[key]) if key != "quadrant" else new[key]
            elif key in case:
                del case[key]
        done.append(str(case["id"]))
    missing = [cid for cid in updates if cid not in done]
    if missing:
        raise InputError(
            [FieldProblem(f"cases[{cid}]", "no such case in the file") for cid in missing],
            subject=str(path),
        )
    return done
