"""Policy composition: ``extends`` a base policy, then override, replace, disable, add.

A child policy names its base with ``extends = "default"`` (a shipped name) or a path,
relative to the child's file. The resolved policy is the base with, in order:

* ``parameters`` and ``signals``: the child's entries merged over the base's, by name;
* ``layers``: a child layer with a base layer's ``id`` overrides its keys, and its
  ``rules`` replace the base's rules of the same id or are appended; other layers are
  appended;
* ``remedies.rules``: replaced by id, or appended; ``remedies.conflict`` overrides;
* ``disable``: a list of rule ids removed from the result (an unknown id is an error);
* any other section (``timeline``, ``regulation`` …): merged one level deep.

Each rule remembers where it came from, so that ``collectrules show`` can say so.
A cycle in ``extends`` is an error that lists the cycle.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from collectrules.errors import FieldProblem, PolicyError, did_you_mean

__all__ = ["resolve"]

RawLoader = Callable[[str, Path | None], tuple[dict[str, Any], str, Path | None]]
_IDENTITY = ("id", "version", "title", "description", "notes")


def resolve(
    data: Mapping[str, Any],
    *,
    source: str | None,
    base_dir: Path | None,
    chain: tuple[str, ...],
    loader: RawLoader,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Resolve ``extends`` recursively; return the merged data and each rule's origin."""
    label = source or "<policy>"
    if label in chain:
        cycle = " -> ".join((*chain[chain.index(label) :], label))
        raise PolicyError([FieldProblem("extends", f"extends cycle: {cycle}", source=source)])
    own = copy.deepcopy(dict(data))
    parent_ref = own.pop("extends", None)
    own_origins = dict.fromkeys(_rule_ids(own), label)
    if parent_ref is None:
        disabled = own.pop("disable", [])
        if disabled:
            raise PolicyError(
                [
                    FieldProblem(
                        "disable",
                        "'disable' needs 'extends': there is nothing to disable",
                        source=source,
                    )
                ]
            )
        return own, own_origins
    if not isinstance(parent_ref, str):
        raise PolicyError(
            [FieldProblem("extends", "expected a policy name or a path", source=source)]
        )
    parent_data, parent_source, parent_path = loader(parent_ref, base_dir)
    parent, origins = resolve(
        parent_data,
        source=parent_source,
        base_dir=parent_path.parent if parent_path is not None else None,
        chain=(*chain, label),
        loader=loader,
    )
    merged = _merge(parent, own, origins, label, source)
    return merged, origins


def _rule_ids(data: Mapping[str, Any]) -> list[str]:
    ids: list[str] = []
    for layer in data.get("layers", []) or []:
        if isinstance(layer, Mapping):
            ids += [r["id"] for r in layer.get("rules", []) if isinstance(r, Mapping) and "id" in r]
    remedies = data.get("remedies", {})
    if isinstance(remedies, Mapping):
        ids += [r["id"] for r in remedies.get("rules", []) if isinstance(r, Mapping) and "id" in r]
    return [i for i in ids if isinstance(i, str)]


def _merge_rules(
    base: list[Any], child: list[Any], origins: dict[str, str], label: str
) -> list[Any]:
    out = list(base)
    index = {r.get("id"): i for i, r in enumerate(out) if isinstance(r, Mapping)}
    for rule in child:
        rid = rule.get("id") if isinstance(rule, Mapping) else None
        if isinstance(rid, str) and rid in index:
            out[index[rid]] = rule
            origins[rid] = f"{label} (replaces {origins.get(rid, 'base')})"
        else:
            out.append(rule)
            if isinstance(rid, str):
                origins[rid] = label
    return out


def _merge(
    parent: dict[str, Any],
    child: dict[str, Any],
    origins: dict[str, str],
    label: str,
    source: str | None,
) -> dict[str, Any]:
    merged = copy.deepcopy(parent)
    disabled = child.pop("disable", [])
    for key, value in child.items():
        if key in _IDENTITY:
            merged[key] = value
        elif key in ("parameters", "signals") and isinstance(value, Mapping):
            table = dict(merged.get(key, {}))
            for name, spec in value.items():
                old = table.get(name)
                if isinstance(old, Mapping) and isinstance(spec, Mapping):
                    table[name] = {**old, **spec}
                else:
                    table[name] = spec
            merged[key] = table
        elif key == "layers" and isinstance(value, list):
            layers = list(merged.get("layers", []))
            by_id = {la.get("id"): i for i, la in enumerate(layers) if isinstance(la, Mapping)}
            for layer in value:
                lid = layer.get("id") if isinstance(layer, Mapping) else None
                if lid in by_id:
                    base_layer = dict(layers[by_id[lid]])
                    rules = _merge_rules(
                        base_layer.get("rules", []), layer.get("rules", []), origins, label
                    )
                    base_layer.update({k: v for k, v in layer.items() if k != "rules"})
                    base_layer["rules"] = rules
                    layers[by_id[lid]] = base_layer
                else:
                    layers.append(layer)
                    for rule in layer.get("rules", []) if isinstance(layer, Mapping) else []:
                        if isinstance(rule, Mapping) and isinstance(rule.get("id"), str):
                            origins[rule["id"]] = label
            merged["layers"] = layers
        elif key == "remedies" and isinstance(value, Mapping):
            remedies = dict(merged.get("remedies", {}))
            for rk, rv in value.items():
                if rk == "rules" and isinstance(rv, list):
                    remedies["rules"] = _merge_rules(remedies.get("rules", []), rv, origins, label)
                else:
                    remedies[rk] = rv
            merged["remedies"] = remedies
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if disabled:
        if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
            raise PolicyError(
                [FieldProblem("disable", "expected a list of rule ids", source=source)]
            )
        known = _rule_ids(merged)
        problems = [
            FieldProblem(
                "disable",
                f"no rule {rid!r} to disable",
                source=source,
                suggestion=did_you_mean(rid, known),
            )
            for rid in disabled
            if rid not in known
        ]
        if problems:
            raise PolicyError(problems)
        gone = set(disabled)
        for layer in merged.get("layers", []):
            layer["rules"] = [r for r in layer.get("rules", []) if r.get("id") not in gone]
        if "remedies" in merged:
            merged["remedies"]["rules"] = [
                r for r in merged["remedies"].get("rules", []) if r.get("id") not in gone
            ]
        for rid in gone:
            origins.pop(rid, None)
    return merged
