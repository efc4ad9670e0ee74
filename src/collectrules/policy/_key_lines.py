"""The line of each key of a YAML or JSON policy file, found by its path.

A TOML file names its tables in headers (``[emergencies.kinds.absconded]``) that a
pattern finds; a YAML or JSON file nests them, and the same key name may be written in
many mappings. :func:`key_lines` reads the file's structure and gives the line of each
key by its path (``emergencies.kinds.absconded``), and :func:`line_of_path`
the line of the deepest part of a path that the file writes: the key itself, or, for a
key that is missing, the key of the mapping that lacks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectrules import _json as strict_json

__all__ = ["YAML_SUFFIXES", "key_lines", "line_of_path", "suffix_of"]

#: The suffixes of the files read here (others are TOML's, found by their headers).
YAML_SUFFIXES = (".yaml", ".yml")
_SUFFIXES = (*YAML_SUFFIXES, ".json")
_MERGE = "tag:yaml.org,2002:merge"


def key_lines(text: str, suffix: str) -> dict[str, int]:
    """The 1-based line of each key of a YAML or JSON ``text`` by its path (a list's
    items by their index), the first naming of each; empty for another ``suffix``, or
    for text that does not read (its problem is reported where it is read)."""
    try:
        if suffix in YAML_SUFFIXES:
            return _yaml_lines(text)
        if suffix == ".json":
            return strict_json.key_lines(text)
    except ImportError:
        return {}
    return {}


def line_of_path(lines: Mapping[str, int], path: str) -> int | None:
    """The line of the deepest key of the dotted ``path`` (``a.b.c``; no ``[…]``) that
    ``lines`` holds: ``c``'s own line, or, when the file does not write ``c``, the line
    of ``b``, the mapping that lacks it; None when it writes not even ``a``."""
    parts = path.split(".")
    for size in range(len(parts), 0, -1):
        found = lines.get(".".join(parts[:size]))
        if found is not None:
            return found
    return None


def suffix_of(source: str | None) -> str:
    """The lower-case suffix of a file's name (``.yaml``), or ``""``."""
    if source is None:
        return ""
    name = source.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    return suffix if suffix in _SUFFIXES else ""


def _yaml_lines(text: str) -> dict[str, int]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    out: dict[str, int] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is None or id(node) in seen:
            continue  # a node reached twice, by an alias, is walked once
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
                    here = strict_json.key_step(path, str(key.value))
                    out.setdefault(here, key.start_mark.line + 1)
                    stack.append((value, here))
                else:
                    stack.append((value, path))  # ``<<: *base`` merges into this mapping
        elif isinstance(node, yaml.SequenceNode):
            items = reversed(list(enumerate(node.value)))
            stack.extend((item, f"{path}[{i}]") for i, item in items)
    return out
