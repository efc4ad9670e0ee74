"""The pack pages list every rule of their policy, with its figure and V/S status."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from collectrules import load_policy
from collectrules.compliance.guardrails import guardrails_of
from collectrules.compliance.regulatory import regulation_of

ROOT = Path(__file__).parent.parent
PAGES = ("cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")


def own(name: str) -> dict[str, Any]:
    text = (resources.files("collectrules") / "policies" / f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def status(name: str, param: str) -> str:
    """V or S for a figure from REGULATION.md; any other pack figure is the policy's choice."""
    return load_policy(name).parameters[param].status or "chosen"


def rows(text: str, token: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|") and token in line]


@pytest.mark.parametrize("name", PAGES)
def test_pack_page_lists_every_rule_figure_and_status(name: str) -> None:
    text = (ROOT / "docs" / "packs" / f"{name}.md").read_text(encoding="utf-8")
    raw = own(name)
    policy = load_policy(name)
    figures: list[tuple[str, str]] = []  # (rule id, parameter)
    section = regulation_of(policy)
    for pack in section.packs if section else ():
        if pack.id not in raw.get("regulation", {}):
            continue
        for klass in getattr(pack, "classes", ()):
            assert f"`{klass.rule_id}`" in text, klass.rule_id
            if klass.in_default is not None:
                assert f"`{klass.in_default.rule_id}`" in text, klass.in_default.rule_id
            figures += [
                (klass.rule_id, t.figure.param) for t in klass.thresholds.values() if t.figure.param
            ]
        for fig in (
            getattr(pack, "over_dpd", None),
            getattr(pack, "relative", None),
            getattr(pack, "probation_months", None),
            *getattr(pack, "absolute", {}).values(),
        ):
            if fig is not None and fig.param:
                figures.append((pack.id, fig.param))
    guards = guardrails_of(policy)
    for pack in guards.packs if guards else ():
        if pack.id not in raw.get("guardrails", {}):
            continue
        for rule in pack.rules:
            assert f"`{rule.id}`" in text, rule.id
            figures += [(rule.id, fig.param) for _, fig in rule.figures() if fig.param]
    for bucket_set in raw.get("buckets", {}).values():
        for item in bucket_set["ranges"]:
            assert f"`{item['id']}`" in text, item["id"]
    for rule in raw.get("remedies", {}).get("rules", []):
        assert f"`{rule['id']}`" in text, rule["id"]
    for layer in raw.get("layers", []):
        for rule in layer.get("rules", []):
            assert f"`{rule['id']}`" in text, rule["id"]
    assert figures or name == "uk" or raw.get("guardrails")
    for rule_id, param in figures:
        found = rows(text, f"`{param}`")
        assert found, (rule_id, param)
        expected = status(name, param)
        assert any(f"| {expected} |" in line for line in found), (param, expected, found)


def test_howto_links_every_pack_page() -> None:
    text = (ROOT / "docs" / "howto-compliance.md").read_text(encoding="utf-8")
    for name in PAGES:
        assert f"packs/{name}.md" in text
