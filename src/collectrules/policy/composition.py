"""Policy composition: ``extends`` a base policy, then override, replace, disable, add.

A child policy names its base with ``extends = "default"`` (a shipped name) or a path,
relative to the child's file. The resolved policy is the base with, in order:

* ``parameters`` and ``signals``: the child's entries merged over the base's, by name,
  key by key (a bare parameter value changes only the ``value``);
* ``layers``: a child layer with a base layer's ``id`` overrides its keys, and its
  ``rules`` replace the base's rules of the same id or are appended; other layers are
  appended;
* ``remedies.rules``: replaced by id, or appended; ``remedies.conflict`` overrides;
* ``conditions`` (named conditions): replaced by name, or added; a child entry
  ``name = { or = "…" }`` adds an alternative to the base's condition of that name
  (the result is ``(base) or (alternative)``);
* ``catalogue``: remedies and products merged by name, key by key;
* ``disable``: a list of rule ids removed from the result (an unknown id is a problem,
  reported with the file's other problems);
* any other section (``timeline``, ``regulation`` …): merged one level deep; in
  ``timeline``, ``plans``, ``products`` and ``deadlines`` are merged by name (a child's
  ``[timeline.deadlines.records]`` replaces the base's ``records`` table and keeps its
  ``limitation``).

Each rule remembers where it came from, so that ``collectrules show`` can say so, and
so that a problem in a rule of a base file names that file. A cycle in ``extends`` is an
error that lists the cycle; two spellings of one file (``a.toml``, ``./x/../a.toml``)
are the same file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from collectrules.errors import FieldProblem, PolicyError, did_you_mean, quote

__all__ = ["MAX_EXTENDS_DEPTH", "Resolution", "resolve"]

#: How many files an ``extends`` chain may hold below the policy itself.
MAX_EXTENDS_DEPTH = 16

RawLoader = Callable[[str, Path | None], tuple[dict[str, Any], str, Path | None]]
_IDENTITY = ("id", "version", "title", "description", "notes")
#: Tables of ``[timeline]`` merged by name: a child's plan (or product's plan, or
#: deadline) of a new name is added, one of an existing name replaces that one; a key of
#: ``[timeline.deadlines]`` itself (``extend_to_working_day``, ``warning_days``) replaces
#: the base's, and the base's others stay.
_BY_NAME = frozenset({"plans", "products", "deadlines"})


@attrs.frozen
class Resolution:
    """A policy's data with ``extends`` resolved.

    ``origins`` says, for each rule id, where the rule came from as ``collectrules show``
    prints it (``child.toml (replaces <default>)``); ``sources`` names the one file that
    holds each rule's and each parameter's text, so that a problem in it can name that
    file and its line; ``problems`` are those found while merging (an unknown id in
    ``disable``), to be reported with the rest of the file's problems.
    """

    data: dict[str, Any]
    origins: dict[str, str]
    sources: dict[str, str]
    parameter_sources: dict[str, str]
    problems: tuple[FieldProblem, ...] = ()
    #: The file that holds each named condition's text (``[conditions]``).
    condition_sources: dict[str, str] = attrs.field(factory=dict)
    #: The file that gives each key, at any depth, as a dotted path (``timeline``,
    #: ``timeline.deadlines.limitation.years``): the nearest file of the chain that has
    #: it, so that an unknown key of a base policy names the base policy's file. Only
    #: the keys the merged data holds: a base's key under a table that a nearer file
    #: replaced is gone. A bare parameter value gives ``parameters.<name>.value``.
    key_sources: dict[str, str] = attrs.field(factory=dict)
    #: Where each table of an array of rules came from, by the table's ``id()`` in
    #: ``data``: its file and its place in that file (``layers[1]``,
    #: ``layers[0].rules[2]``, ``remedies[3]``, by position in the file's own arrays).
    #: The merged arrays of an ``extends`` chain hold no such place, and a table
    #: without an id has no other name to find its line by.
    tables: dict[int, tuple[str, str]] = attrs.field(factory=dict, eq=False, repr=False)
    #: The file that gives each key of each layer (``values``, ``hit_policy`` …), by
    #: the layer's id and the key: a child that overrides a base layer's key is where a
    #: base rule that no longer fits it is to be fixed.
    layer_keys: dict[str, dict[str, str]] = attrs.field(factory=dict)
    #: The files of the ``extends`` chain, the extending file first: of two files, the
    #: one nearer the start is the one that changed what the other gave.
    chain: tuple[str, ...] = ()


def _identity(label: str) -> str:
    """One key per file, however its path is spelt; shipped names stay as they are."""
    if label.startswith("<"):
        return label
    try:
        return str(Path(label).resolve())
    except (OSError, RuntimeError, ValueError):  # ValueError: a label holding NUL
        return label


def resolve(
    data: Mapping[str, Any],
    *,
    source: str | None,
    base_dir: Path | None,
    chain: tuple[str, ...],
    loader: RawLoader,
) -> Resolution:
    """Resolve ``extends`` recursively: the merged data, and where each part came from."""
    label = source or "<policy>"
    keys = [_identity(c) for c in chain]
    if _identity(label) in keys:
        cycle = " -> ".join((*chain[keys.index(_identity(label)) :], label))
        raise PolicyError([FieldProblem("extends", f"extends cycle: {cycle}", source=source)])
    if len(chain) > MAX_EXTENDS_DEPTH:
        shown = " -> ".join((*chain, label))
        msg = f"extends chain deeper than {MAX_EXTENDS_DEPTH} files: {shown}"
        raise PolicyError([FieldProblem("extends", msg, source=chain[0] if chain else source)])
    own = copy.deepcopy(dict(data))
    if "extends" in own and own["extends"] is None:  # JSON's null: no policy named
        raise PolicyError(
            [FieldProblem("extends", "expected a policy name or a path, got null", source=source)]
        )
    parent_ref = own.pop("extends", None)
    own_rules = dict.fromkeys(_rule_ids(own), label)
    own_params = dict.fromkeys(_names(own.get("parameters")), label)
    own_conditions = dict.fromkeys(_names(own.get("conditions")), label)
    own_paths, shared = _key_paths(own)
    own_keys = dict.fromkeys(own_paths, label)
    # A bare parameter value is shorthand for ``{ value = … }``: this file writes it.
    params = own.get("parameters")
    if isinstance(params, Mapping):
        own_keys.update(
            (f"parameters.{name}.value", label)
            for name, spec in params.items()
            if not isinstance(spec, Mapping)
        )
    own_tables = _rule_tables(own, label)
    own_layer_keys = _layer_keys(own, label)
    if parent_ref is None:
        disabled = own.pop("disable", [])
        problems: tuple[FieldProblem, ...] = ()
        if disabled:
            msg = "'disable' needs 'extends': there is nothing to disable"
            problems = (FieldProblem("disable", msg, source=source),)
        return Resolution(
            own,
            dict(own_rules),
            dict(own_rules),
            own_params,
            problems,
            own_conditions,
            own_keys,
            own_tables,
            own_layer_keys,
            (label,),
        )
    if not isinstance(parent_ref, str):
        raise PolicyError(
            [FieldProblem("extends", "expected a policy name or a path", source=source)]
        )
    try:
        parent_data, parent_source, parent_path = loader(parent_ref, base_dir)
    except PolicyError as exc:
        # A refusal about where `extends` leads belongs to the file that says it.
        raise PolicyError(
            [
                attrs.evolve(p, source=p.source or source, path=p.path or "extends")
                for p in exc.problems
            ]
        ) from None
    parent = resolve(
        parent_data,
        source=parent_source,
        base_dir=parent_path.parent if parent_path is not None else None,
        chain=(*chain, label),
        loader=loader,
    )
    origins = dict(parent.origins)
    copies: dict[int, Any] = {}
    merged, problems = _merge(parent.data, own, origins, label, source, copies)
    tables = {id(copies[old]): at for old, at in parent.tables.items() if old in copies}
    tables.update(own_tables)
    # Only the tables the merged data holds: a replaced one's id may be reused.
    tables = {key: tables[key] for key in _rule_tables(merged, label).keys() & tables.keys()}
    sources = {rid: src for rid, src in parent.sources.items() if rid in origins}
    sources.update({rid: label for rid in own_rules if rid in origins})
    own_set = set(own_paths)
    # A base's key that this file replaced with a table of its own (a stage plan, a
    # deadline, an envelope) is gone from the merged data: a problem there (a key that
    # the new table lacks) is this file's, found by the table around it.
    base_keys = {
        p: s
        for p, s in parent.key_sources.items()
        if p not in own_set and _holds(merged, p) and not (shared and _holds(own, p))
    }
    return Resolution(
        merged,
        origins,
        sources,
        {**parent.parameter_sources, **own_params},
        (*parent.problems, *problems),
        {**parent.condition_sources, **own_conditions},
        {**base_keys, **own_keys},
        tables,
        {
            lid: {**parent.layer_keys.get(lid, {}), **own_layer_keys.get(lid, {})}
            for lid in parent.layer_keys.keys() | own_layer_keys.keys()
        },
        (label, *parent.chain),
    )


def _layer_keys(data: Mapping[str, Any], label: str) -> dict[str, dict[str, str]]:
    """Each layer's keys (not its rules) that ``data`` gives, by the layer's id: ``label``."""
    out: dict[str, dict[str, str]] = {}
    for layer in _list(data.get("layers")):
        if isinstance(layer, Mapping) and isinstance(layer.get("id"), str):
            keys = out.setdefault(layer["id"], {})
            keys.update((str(k), label) for k in layer if k != "rules")
    return out


def _key_paths(data: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The file's keys at every depth of its tables, as dotted paths (``timeline``,
    ``timeline.deadlines``, ``timeline.deadlines.limitation.years``), and whether a
    table of it is held twice; not the keys of a table inside an array (a rule's keys),
    whose file ``sources`` names by its id.

    Walked by a stack, each table once: a table that two keys hold (a YAML alias, or
    one dict given twice) gives its keys under one of its paths only, and one that
    holds a table around it is not walked again."""
    paths: list[str] = []
    seen: set[int] = set()
    shared = False
    stack: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    while stack:
        prefix, table = stack.pop()
        if id(table) in seen:
            shared = True
            continue
        seen.add(id(table))
        for key, value in table.items():
            path = f"{prefix}{key}"
            paths.append(path)
            if isinstance(value, Mapping):
                stack.append((f"{path}.", value))
    return paths, shared


def _holds(data: Mapping[str, Any], path: str) -> bool:
    """Whether ``data`` has a key at dotted ``path``, by any route (a key may hold a
    dot itself: ``"a.b"``), so that a base's key that the extending file also gives is
    the extending file's where :func:`_key_paths` did not walk every route to it."""
    parts = path.split(".")
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        table, start = stack.pop()
        if not isinstance(table, Mapping):
            continue
        for end in range(start + 1, len(parts) + 1):
            key = ".".join(parts[start:end])
            if key in table:
                if end == len(parts):
                    return True
                stack.append((table[key], end))
    return False


def _names(table: object) -> list[str]:
    return [str(k) for k in table] if isinstance(table, Mapping) else []


def _list(value: object) -> list[Any]:
    """``value`` if it is a list, else nothing (the loader reports the wrong type)."""
    return value if isinstance(value, list) else []


def _rule_ids(data: Mapping[str, Any]) -> list[str]:
    ids: list[Any] = []
    tables = [la for la in _list(data.get("layers")) if isinstance(la, Mapping)]
    if isinstance(data.get("remedies"), Mapping):
        tables.append(data["remedies"])
    for table in tables:
        ids += [r.get("id") for r in _list(table.get("rules")) if isinstance(r, Mapping)]
    return [i for i in ids if isinstance(i, str)]


def _rule_tables(data: Mapping[str, Any], label: str) -> dict[int, tuple[str, str]]:
    """The tables of a file's arrays of rules (``[[layers]]``, ``[[layers.rules]]``,
    ``[[remedies.rules]]``), by ``id()``: the file and the place in it (see
    :attr:`Resolution.tables`)."""
    out: dict[int, tuple[str, str]] = {}
    for i, layer in enumerate(_list(data.get("layers"))):
        if isinstance(layer, Mapping):
            out[id(layer)] = (label, f"layers[{i}]")
            for j, rule in enumerate(_list(layer.get("rules"))):
                if isinstance(rule, Mapping):
                    out[id(rule)] = (label, f"layers[{i}].rules[{j}]")
    remedies = data.get("remedies")
    if isinstance(remedies, Mapping):
        for j, rule in enumerate(_list(remedies.get("rules"))):
            if isinstance(rule, Mapping):
                out[id(rule)] = (label, f"remedies[{j}]")
    return out


def _merge_rules(
    base: list[Any], child: list[Any], origins: dict[str, str], label: str
) -> list[Any]:
    out = list(base)
    index = {
        r["id"]: i
        for i, r in enumerate(out)
        if isinstance(r, Mapping) and isinstance(r.get("id"), str)
    }
    given: set[str] = set()  # the child's own ids: one given twice is kept twice, so
    for rule in child:  # that the loader reports the duplicate (it replaces none)
        rid = rule.get("id") if isinstance(rule, Mapping) else None
        if isinstance(rid, str) and rid in index and rid not in given:
            out[index[rid]] = rule
            origins[rid] = f"{label} (replaces {origins.get(rid, 'base')})"
            given.add(rid)
        else:
            out.append(rule)
            if isinstance(rid, str):
                origins.setdefault(rid, label)
                given.add(rid)
    return out


def _merge_conditions(base: object, child: Mapping[str, Any]) -> dict[str, Any]:
    """The base's named conditions with the child's: each replaces the base's entry of
    its name, or, given as ``{ or = "…" }``, adds an alternative to it."""
    table = dict(base) if isinstance(base, Mapping) else {}
    for name, spec in child.items():
        old = table.get(name)
        alternative = spec.get("or") if isinstance(spec, Mapping) and "when" not in spec else None
        if old is not None and isinstance(alternative, str):
            old_table = dict(old) if isinstance(old, Mapping) else {"when": old}
            old_when = old_table.get("when")
            if isinstance(old_when, str):
                rest = {k: v for k, v in spec.items() if k != "or"}
                # An empty condition is always true: an alternative adds nothing to it.
                when = f"({old_when}) or ({alternative})" if old_when.strip() else old_when
                table[name] = {**old_table, **rest, "when": when}
                continue
        table[name] = spec
    return table


def _merge(
    parent: dict[str, Any],
    child: dict[str, Any],
    origins: dict[str, str],
    label: str,
    source: str | None,
    copies: dict[int, Any],
) -> tuple[dict[str, Any], tuple[FieldProblem, ...]]:
    """``parent`` with ``child`` merged in; ``copies`` is filled with each of the
    parent's objects' copy, by the original's ``id()``."""
    merged = copy.deepcopy(parent, copies)
    disabled = child.pop("disable", [])
    for key, value in child.items():
        if key in _IDENTITY:
            merged[key] = value
        elif key in ("parameters", "signals") and isinstance(value, Mapping):
            base = merged.get(key)
            table = dict(base) if isinstance(base, Mapping) else {}
            for name, spec in value.items():
                old = table.get(name)
                if key == "parameters" and isinstance(old, Mapping) != isinstance(spec, Mapping):
                    # A bare value is shorthand for { value = … }: it changes the figure
                    # and keeps the base's doc, citations and status.
                    old = old if isinstance(old, Mapping) else {"value": old}
                    spec = spec if isinstance(spec, Mapping) else {"value": spec}
                if isinstance(old, Mapping) and isinstance(spec, Mapping):
                    if key == "parameters" and ("chosen" in spec or "status" in spec):
                        # A child that says where the figure comes from (its own choice,
                        # or a V/S source) replaces the base's provenance, not just part.
                        old = {k: v for k, v in old.items() if k not in ("chosen", "status")}
                    table[name] = {**old, **spec}
                else:
                    table[name] = spec
            merged[key] = table
        elif key == "conditions" and isinstance(value, Mapping):
            merged[key] = _merge_conditions(merged.get(key), value)
        elif key == "catalogue" and isinstance(value, Mapping):
            base_catalogue = merged.get(key)
            catalogue = dict(base_catalogue) if isinstance(base_catalogue, Mapping) else {}
            for part, entries in value.items():
                old_part = catalogue.get(part)
                if isinstance(old_part, Mapping) and isinstance(entries, Mapping):
                    entries = {**old_part, **entries}
                catalogue[part] = entries
            merged[key] = catalogue
        elif key == "layers" and isinstance(value, list):
            layers = _list(merged.get("layers"))
            by_id = {
                la.get("id"): i
                for i, la in enumerate(layers)
                if isinstance(la, Mapping) and isinstance(la.get("id"), str)
            }
            for layer in value:
                lid = layer.get("id") if isinstance(layer, Mapping) else None
                if isinstance(lid, str) and lid in by_id:
                    base_layer = dict(layers[by_id[lid]])
                    rules = _merge_rules(
                        _list(base_layer.get("rules")), _list(layer.get("rules")), origins, label
                    )
                    base_layer.update({k: v for k, v in layer.items() if k != "rules"})
                    base_layer["rules"] = rules
                    layers[by_id[lid]] = base_layer
                else:
                    layers.append(layer)
                    for rule in _list(layer.get("rules")) if isinstance(layer, Mapping) else []:
                        if isinstance(rule, Mapping) and isinstance(rule.get("id"), str):
                            origins[rule["id"]] = label
            merged["layers"] = layers
        elif key == "remedies" and isinstance(value, Mapping):
            base = merged.get("remedies")
            remedies = dict(base) if isinstance(base, Mapping) else {}
            for rk, rv in value.items():
                if rk == "rules" and isinstance(rv, list):
                    remedies["rules"] = _merge_rules(
                        _list(remedies.get("rules")), rv, origins, label
                    )
                else:
                    remedies[rk] = rv
            merged["remedies"] = remedies
        elif key == "timeline" and isinstance(value, Mapping):
            base_timeline = merged.get(key)
            timeline = dict(base_timeline) if isinstance(base_timeline, Mapping) else {}
            for part, entries in value.items():
                old_part = timeline.get(part)
                if (
                    part in _BY_NAME
                    and isinstance(old_part, Mapping)
                    and isinstance(entries, Mapping)
                ):
                    entries = {**old_part, **entries}
                timeline[part] = entries
            merged[key] = timeline
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        return merged, (FieldProblem("disable", "expected a list of rule ids", source=source),)
    if not disabled:
        return merged, ()
    known = _rule_ids(merged)
    problems = tuple(
        FieldProblem(
            f"disable[{i}]",
            f"no rule {quote(rid)} to disable",
            source=source,
            suggestion=did_you_mean(rid, known),
        )
        for i, rid in enumerate(disabled)
        if rid not in known
    )
    gone = set(disabled) & set(known)
    if gone:
        tables = [la for la in _list(merged.get("layers")) if isinstance(la, dict)]
        if isinstance(merged.get("remedies"), dict):
            tables.append(merged["remedies"])
        for table in tables:
            if isinstance(table.get("rules"), list):
                table["rules"] = [
                    r
                    for r in table["rules"]
                    if not (
                        isinstance(r, Mapping) and isinstance(r.get("id"), str) and r["id"] in gone
                    )
                ]
        for rid in gone:
            origins.pop(rid, None)
    return merged, problems
