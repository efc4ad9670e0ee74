"""A key missing from a YAML or JSON policy file is reported at the line of the mapping
that lacks it, in the file that should hold it, as a TOML file's is at its header.

Each fragment is written into one file of a chain of one to three files (each in TOML,
YAML or JSON, the last extending ``default``), after a few lines that change nothing.
The test writes the files itself and notes the line of each mapping as it writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import PolicyError, load_policy

Lines = dict[tuple[str, ...], int]

#: Each fragment, and the problems it makes: the path of each, and the path of the
#: mapping whose line it is to name.
FRAGMENTS: dict[str, tuple[dict[str, Any], tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "emergency kind without a plan": (
        {"emergencies": {"kinds": {"absconded": {"title": "gone"}}}},
        (("emergencies.kinds.absconded.plan", ("emergencies", "kinds", "absconded")),),
    ),
    "envelope without cites": (
        {"envelopes": {"Q1": {"remedies": ["extend"]}}},
        (("envelopes.Q1.cites", ("envelopes", "Q1")),),
    ),
    "reduction without a reason": (
        {"money": {"reductions": {"hardship": {"max_share": 0.5}}}},
        (("money.reductions.hardship.reason", ("money", "reductions", "hardship")),),
    ),
    "signal without its dimension and polarity": (
        {"signals": {"new_sig": {"label_en": "new"}}},
        (
            ("signals.new_sig.dimension", ("signals", "new_sig")),
            ("signals.new_sig.polarity", ("signals", "new_sig")),
        ),
    ),
}
FORMATS = ("toml", "yaml", "json")
FILLERS = ({"description": "a lender"}, {"notes": ["one", "two"]})


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON scalar or list is YAML and TOML too


def _toml(data: dict[str, Any], lines: Lines) -> str:
    out: list[str] = []
    tables: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), data)]
    while tables:
        path, table = tables.pop(0)
        if path:
            out.append(f"[{'.'.join(path)}]")
            lines[path] = len(out)
        for key, value in table.items():
            if isinstance(value, dict):
                tables.append(((*path, key), value))
            else:
                out.append(f"{key} = {_scalar(value)}")
                lines[(*path, key)] = len(out)
    return "\n".join(out) + "\n"


def _yaml_text(data: dict[str, Any], lines: Lines) -> str:
    out: list[str] = []

    def emit(table: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                out.append(f"{'  ' * len(path)}{key}:")
                lines[(*path, key)] = len(out)
                emit(value, (*path, key))
            else:
                out.append(f"{'  ' * len(path)}{key}: {_scalar(value)}")
                lines[(*path, key)] = len(out)

    emit(data, ())
    return "\n".join(out) + "\n"


def _json_text(data: dict[str, Any], lines: Lines) -> str:
    out: list[str] = ["{"]

    def emit(table: dict[str, Any], path: tuple[str, ...]) -> None:
        items = list(table.items())
        for i, (key, value) in enumerate(items):
            comma = "," if i + 1 < len(items) else ""
            pad = "  " * (len(path) + 1)
            if isinstance(value, dict):
                out.append(f"{pad}{_scalar(key)}: {{")
                lines[(*path, key)] = len(out)
                emit(value, (*path, key))
                out.append(f"{pad}}}{comma}")
            else:
                out.append(f"{pad}{_scalar(key)}: {_scalar(value)}{comma}")
                lines[(*path, key)] = len(out)

    emit(data, ())
    out.append("}")
    return "\n".join(out) + "\n"


WRITERS = {"toml": _toml, "yaml": _yaml_text, "json": _json_text}


def _chain(
    folder: Path, bodies: list[dict[str, Any]], formats: list[str]
) -> tuple[Path, list[Lines]]:
    """Write a chain of files, each extending the next (the last ``default``): the
    first file's path, and the line of each key of each file."""
    found: list[Lines] = []
    for i, body in enumerate(bodies):
        parent = f"f{i + 1}.{formats[i + 1]}" if i + 1 < len(bodies) else "default"
        lines: Lines = {}
        text = WRITERS[formats[i]]({"extends": parent, "id": f"p{i}", **body}, lines)
        (folder / f"f{i}.{formats[i]}").write_text(text, encoding="utf-8")
        found.append(lines)
    return folder / f"f0.{formats[0]}", found


def _problems(path: Path) -> set[tuple[str, str | None, int | None]]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return {
        (p.path, Path(p.source).name if p.source else None, p.line) for p in info.value.problems
    }


def _expected(
    name: str, at: int, formats: list[str], lines: list[Lines]
) -> set[tuple[str, str | None, int | None]]:
    _, problems = FRAGMENTS[name]
    return {(path, f"f{at}.{formats[at]}", lines[at][table]) for path, table in problems}


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_a_missing_key_is_at_the_line_of_its_mapping(tmp_path: Path, name: str, fmt: str) -> None:
    first, lines = _chain(tmp_path, [{"description": "a lender", **FRAGMENTS[name][0]}], [fmt])
    assert _problems(first) == _expected(name, 0, [fmt], lines)


def test_the_line_is_of_the_mapping_not_of_the_files_first_key(tmp_path: Path) -> None:
    # Before, a YAML or JSON file's missing key had no line, or the file's first line.
    path = tmp_path / "p.yaml"
    path.write_text(
        "extends: default\nid: p\n# a note\nenvelopes:\n  Q1:\n    remedies: [extend]\n",
        encoding="utf-8",
    )
    assert _problems(path) == {("envelopes.Q1.cites", "p.yaml", 5)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(FRAGMENTS)),
    formats=st.lists(st.sampled_from(FORMATS), min_size=1, max_size=3),
    data=st.data(),
)
def test_a_missing_key_is_in_the_file_that_should_hold_it(
    tmp_path_factory: pytest.TempPathFactory, name: str, formats: list[str], data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("chain")
    at = data.draw(st.integers(min_value=0, max_value=len(formats) - 1), label="at")
    bodies: list[dict[str, Any]] = []
    for i in range(len(formats)):
        body: dict[str, Any] = {}
        for filler in data.draw(st.lists(st.sampled_from(FILLERS), max_size=2), label="filler"):
            body.update(filler)
        if i == at:
            body.update(FRAGMENTS[name][0])
        bodies.append(body)
    first, lines = _chain(folder, bodies, formats)
    assert _problems(first) == _expected(name, at, formats, lines)


def test_a_middle_file_that_replaces_a_mapping_is_named(tmp_path: Path) -> None:
    """A base's mapping that a middle file (YAML) replaces without the key is the middle
    file's, at its own line."""
    bodies: list[dict[str, Any]] = [
        {},
        {"emergencies": {"kinds": {"absconded": {"title": "gone"}}}},
        {"emergencies": {"kinds": {"absconded": {"plan": "response"}}}},
    ]
    formats = ["json", "yaml", "toml"]
    first, lines = _chain(tmp_path, bodies, formats)
    found = {p for p in _problems(first) if p[0] == "emergencies.kinds.absconded.plan"}
    line = lines[1][("emergencies", "kinds", "absconded")]
    assert found == {("emergencies.kinds.absconded.plan", "f1.yaml", line)}
