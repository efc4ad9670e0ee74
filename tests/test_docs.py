"""The README and docs run: every ```python block executes, in order, per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"doc_{path.stem}"}
    for number, block in enumerate(BLOCK.findall(path.read_text(encoding="utf-8")), start=1):
        code = compile(block, f"{path.name}[block {number}]", "exec")
        exec(code, namespace)  # the project's own documentation, run as a test


def test_docs_exist() -> None:
    for name in ("tutorial.md", "signals.md", "conditions.md", "decision-schema.md", "engine.md"):
        assert (ROOT / "docs" / name).is_file()


def test_signal_doc_lists_every_kind() -> None:
    from collectrules import load_policy

    text = (ROOT / "docs" / "signals.md").read_text(encoding="utf-8")
    for kind in load_policy("default").signals:
        assert f"`{kind}`" in text


def test_signal_doc_rows_are_the_default_policys_signals_and_the_rules_that_read_them() -> None:
    from collectrules import load_policy

    policy = load_policy("default")
    rules = [rule for layer in policy.layers for rule in layer.rules] + list(policy.remedy_rules)
    text = (ROOT / "docs" / "signals.md").read_text(encoding="utf-8")
    shown = [line for line in text.splitlines() if re.match(r"\| `[a-z_]+` \| ", line)]
    expected = []
    for kind, spec in policy.signals.items():
        readers = ", ".join(rule.id for rule in rules if kind in rule.when.fields())
        cells = (f"`{kind}`", spec.dimension, spec.polarity, spec.label_en, spec.label_zh)
        cells += (", ".join(spec.cites) or "—", "yes" if spec.chosen else "", readers or "—")
        expected.append(cells)
    assert [tuple(c.strip() for c in line.strip("|").split("|")) for line in shown] == expected


def test_compliance_page_lists_the_contact_packs_of_each_shipped_policy() -> None:
    from collectrules.compliance.guardrails import Guardrails
    from collectrules.policy import available_policies

    text = (ROOT / "docs" / "howto-compliance.md").read_text(encoding="utf-8")
    contact = {name: set(Guardrails(name).packs) for name in available_policies()}
    every = set().union(*contact.values())
    listed: dict[str, set[str]] = {}
    for name, packs in re.findall(r"^\| `(\w+)` \| ([^|]+) \| \[", text, re.M):
        base = re.match(r"everything in `(\w+)`, plus (.*)", packs)
        names = {
            p.strip() for p in (base.group(2) if base else packs).replace(" and ", ", ").split(",")
        }
        listed[name] = names | (listed[base.group(1)] if base else set())
    assert set(listed) == set(contact) - {"default"}
    for name, names in listed.items():
        assert names & every == contact[name], name
    for said in (
        re.search(r"The default policy carries three contact packs: (.*?)\. A pack", text, re.S),
        re.search(
            r"Without `--policy`, the default policy is used, with its (.*?) packs", text, re.S
        ),
    ):
        assert said is not None
        assert set(re.findall(r"\b[A-Z]{4,}\b", said.group(1))) == contact["default"]


def test_the_case_reference_lists_every_field_and_event_kind() -> None:
    import attrs

    from collectrules.model.case import (
        Case,
        ContactOutcome,
        Event,
        EventKind,
        Fee,
        Guarantor,
        Signal,
    )

    text = (ROOT / "docs" / "decision-schema.md").read_text(encoding="utf-8")
    section = text.split("\n## The case\n", 1)[1].split("\n## ", 1)[0]
    names = {a.name for a in attrs.fields(Case)} | {a.name for a in attrs.fields(Event)}
    names |= {a.name for c in (Signal, Guarantor, Fee) for a in attrs.fields(c)}
    names |= {k.value for k in EventKind} | {o.value for o in ContactOutcome}
    missing = sorted(n for n in names if not re.search(rf"`{n}`|[{{ ]{n}[,}}]", section))
    assert missing == []


def _within(shown: object, actual: object, where: str) -> list[str]:
    """Where ``shown`` (part of a TOML file, as a page quotes it) differs from the
    file's ``actual`` content: every key shown has the file's value; tables of an array
    are matched by their ``id``."""
    if isinstance(shown, dict) and isinstance(actual, dict):
        return [
            p
            for k, v in shown.items()
            for p in (_within(v, actual[k], f"{where}.{k}") if k in actual else [f"{where}.{k}"])
        ]
    if isinstance(shown, list) and shown and all(isinstance(t, dict) and "id" in t for t in shown):
        by_id = {t.get("id"): t for t in actual} if isinstance(actual, list) else {}
        return [
            p
            for t in shown
            for p in (
                _within(t, by_id[t["id"]], f"{where}[{t['id']}]")
                if t["id"] in by_id
                else [f"{where}[{t['id']}]"]
            )
        ]
    return [] if shown == actual else [where]


LISTED = re.compile(
    r"`((?:examples|tests)/[\w/.-]+\.toml)`[^`\n]*:?\n*(?:[^\n]+\n)*?\n?```toml\n(.*?)^```",
    re.M | re.S,
)


@pytest.mark.parametrize("page", ["tutorial-policy.md", "howto-extend.md"])
def test_a_toml_file_a_page_quotes_is_quoted_as_it_is(page: str) -> None:
    import tomllib

    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    quoted = LISTED.findall(text)
    assert quoted
    for path, block in quoted:
        actual = tomllib.loads((ROOT / path).read_text(encoding="utf-8"))
        assert _within(tomllib.loads(block), actual, path) == []
