"""The clause registry: every id of DOMAIN.md and REGULATION.md, and a policy's own."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from collectrules import PolicyError, load_policy
from collectrules.policy.clauses import (
    Clause,
    ClauseKind,
    builtin_clauses,
    citations,
    policy_clauses,
    registry,
)

ROOT = Path(__file__).resolve().parent.parent

# Every clause id of the two source documents, as they stand.
DOMAIN_IDS = {
    "Q1", "Q2", "Q3", "Q4", "Q2-SHORT", "Q2-LONG", "Q2-DOWNGRADE", "Q2-NOT-EXTENSION",
    "Q12-NO-THREATS", "W-SIGNS", "W-GOOD-SIGNS", "A-ASSESS", "P1", "P2", "P3", "L-DUE", "L-24H",
    "L-PROMISE3", "L-UNREACHABLE", "L-3D", "L-4-7D", "L-2W", "L-GRACE", "AR-1", "AR-2", "AR-3",
    "AR-4", "AR-SEG", "AR-ROLES", "PF-1", "PF-2", "PF-3", "PF-4", "PF-PRIN", "S-LIGHT", "S-MOD",
    "S-SEV", "CUST-STRAT", "NPL-1-3M", "NPL-3-6M", "NPL-6M", "NPL-DOUBT", "NPL-LOSS",
    "NPL-5LEVEL", "CH-PHONE", "CH-LETTER", "CH-VISIT", "CH-LAW", "CONDUCT", "CARD", "E-REFUSE",
    "E-ABSCOND", "E-LITIGATION", "E-AGREEMENT-END", "E-THREAT",
    # §10's response, and §9's asset classes and sources, which DOMAIN.md states without an id
    "E-RESPONSE", "ASSET-CLASSES", "ASSET-SOURCES",
}  # fmt: skip
REGULATION_STATUS = {
    "CN-5LVL": "S", "CN-5LVL-NPL": "S", "CN-5LVL-CROSS": "S", "CN-RESTRUCT-OBS": "S",
    "CN-UPGRADE": "S", "CN-CARD-CLASS": "S", "CN-CARD-CONDUCT": "S", "CN-CARD-HARDSHIP": "S",
    "CN-CONTACT-HOURS": "S", "CN-CONTACT-ATTEMPTS": "S", "CN-THIRD-PARTY": "S",
    "CN-LIMITATION": "V", "CN-LIMITATION-INSTALMENT": "V", "CN-LIMITATION-INTERRUPT": "V",
    "CN-LIMITATION-SUSPEND": "V", "CN-LIMITATION-EXPIRED": "V", "CN-PERIOD-CALC": "V",
    "CN-GUARANTEE-PERIOD": "V", "CN-ENFORCEMENT": "V", "CN-PRIVATE-RATE-CAP": "V",
    "CN-PENALTY": "V", "US-REGF-7IN7": "S", "US-REGF-HOURS": "V", "US-REGF-OPTOUT": "S",
    "US-REGF-VALIDATION": "V", "US-REGF-TIMEBARRED": "V", "US-REGF-RECORDS": "V",
    "US-FFIEC": "V", "US-REAGE": "S", "IFRS9-STAGE2": "S", "IFRS9-STAGE3": "S",
    "EU-DEFAULT": "V", "EU-MATERIALITY": "V", "EU-PROBATION": "V", "UK-FORBEARANCE": "V",
    "UK-NO-PRESSURE": "V", "UK-LIMITATION": "V",
}  # fmt: skip


def test_the_registry_holds_exactly_the_source_ids() -> None:
    clauses = builtin_clauses()
    assert set(clauses) == DOMAIN_IDS | set(REGULATION_STATUS)
    for cid in DOMAIN_IDS:
        assert clauses[cid].kind is ClauseKind.DOMAIN
        assert clauses[cid].status is None
        assert clauses[cid].section.startswith("§")
    for cid, status in REGULATION_STATUS.items():
        assert clauses[cid].kind is ClauseKind.REGULATION
        assert clauses[cid].status == status, cid


def test_clauses_name_their_source() -> None:
    clauses = builtin_clauses()
    assert clauses["CN-LIMITATION"].source == "Civil Code art. 188"
    assert clauses["US-REGF-7IN7"].source == "12 CFR 1006.14(b)(2)"
    assert clauses["Q2-SHORT"].section == "§1 Rules within the types"
    assert "two years" in clauses["Q2-SHORT"].title
    assert clauses["EU-DEFAULT"].to_dict() == {
        "id": "EU-DEFAULT",
        "title": "Default at >90 DPD on a material obligation",
        "source": "CRR art. 178(1)(b)",
        "section": "REGULATION.md",
        "kind": "regulation",
        "status": "V",
        "en": "An obligor is in default when a material obligation is more than 90 days past due.",
        "zh": "重大债务逾期超过90天即视为违约。",
    }


def test_every_builtin_clause_has_a_statement_in_english_and_chinese_and_a_source() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for cid, clause in builtin_clauses().items():
        assert clause.source, cid
        assert clause.en, cid
        assert not cjk.search(clause.en), cid
        assert clause.zh, cid
        assert cjk.search(clause.zh), cid
        assert clause.text("en") == clause.en
        assert clause.text("zh") == clause.zh
        # A short statement, not a copied passage.
        assert len(clause.en) <= 300, cid
        assert len(clause.zh) <= 150, cid
    assert builtin_clauses()["CN-LIMITATION"].source == "Civil Code art. 188"
    assert "three years" in builtin_clauses()["CN-LIMITATION"].en
    assert "24小时" in builtin_clauses()["L-24H"].zh


def test_a_clause_without_a_statement_falls_back_to_its_title() -> None:
    own = Clause("ACME-1", "Courtesy call first", "Acme handbook", kind=ClauseKind.POLICY)
    assert own.text("en") == "Courtesy call first"
    assert own.text("zh") == "Courtesy call first"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        own.text("fr")


def test_every_citation_of_the_shipped_policies_has_a_text() -> None:
    from collectrules import available_policies

    for name in available_policies():
        policy = load_policy(name)
        known = registry(policy)
        for path, cid, _ in citations(policy.data):
            clause = known.get(cid)
            assert clause is not None, (name, path, cid)
            assert clause.text("en"), (name, cid)
            assert clause.text("zh"), (name, cid)


def test_the_clause_texts_ship_as_package_data_and_load_on_first_use() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["collectrules"]
    assert "policy/clauses.toml" in data
    code = (
        "import collectrules\n"
        "from collectrules.policy import clauses\n"
        "print(clauses.builtin_clauses.cache_info().currsize)\n"
        "clauses.builtin_clauses()\n"
        "print(clauses.builtin_clauses.cache_info().currsize)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["0", "1"]


def test_every_citation_of_the_shipped_policies_is_known() -> None:
    from collectrules import available_policies

    for name in available_policies():
        policy = load_policy(name)
        known = registry(policy)
        unknown = [c for c in citations(policy.data) if c[1] not in known]
        assert not unknown, (name, unknown)


def test_citations_walk_every_section_with_key_paths() -> None:
    found = list(citations(load_policy("default").data))
    paths = {path for path, _, _ in found}
    assert "remedies[R-Q4-NO-SOFTENING].cites" in paths
    assert "layers[ability].rules[A-SHORT].cites" in paths
    assert "parameters.recovery_horizon_months.cites" in paths
    assert any(p.startswith("guardrails.") for p in paths)
    rule_ids = {rid for path, _, rid in found if path == "layers[ability].rules[A-SHORT].cites"}
    assert rule_ids == {"A-SHORT"}


def test_a_policy_declares_its_own_clauses(tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(
        'extends = "default"\nid = "own"\n'
        '[clauses.ACME-1]\ntitle = "Courtesy call first"\nsource = "Acme handbook"\n'
        'section = "4.2"\n'
        '[clauses]\nACME-2 = "A short form"\n',
        encoding="utf-8",
    )
    policy = load_policy(path)
    own = policy_clauses(policy)
    assert set(own) == {"ACME-1", "ACME-2"}
    assert own["ACME-1"].source == "Acme handbook"
    assert own["ACME-1"].section == "4.2"
    assert own["ACME-2"].kind is ClauseKind.POLICY
    known = registry(policy)
    assert "ACME-1" in known
    assert "Q1" in known
    assert known.suggest("ACME-3") in {"ACME-1", "ACME-2"}
    assert "ACME-1" not in registry(load_policy("default"))


def test_a_malformed_clauses_table_fails_at_load_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'extends = "default"\nid = "bad"\n'
        '[clauses.Q1]\ntitle = "taken"\n'
        '[clauses.ACME-9]\ntitel = "typo"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = str(info.value)
    assert "clauses.Q1: 'Q1' is already a built-in clause" in text
    assert "clauses.ACME-9.titel: unknown key (did you mean 'title'?)" in text
    assert f"{path}:6:" in text
