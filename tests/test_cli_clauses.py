"""``collectrules clauses`` and the clause texts that ``explain`` prints beside citations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectrules import load_policy
from collectrules.cli import main
from collectrules.policy.clauses import builtin_clauses, registry

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
AS_OF = "2026-04-03T12:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_clauses_json_shows_the_named_clauses_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "clauses", "CN-LIMITATION", "Q1", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert [c["id"] for c in payload] == ["CN-LIMITATION", "Q1"]
    assert payload[0]["source"] == "Civil Code art. 188"
    assert payload[0]["status"] == "V"
    assert payload[0]["en"] == builtin_clauses()["CN-LIMITATION"].en
    assert payload[1]["zh"] == builtin_clauses()["Q1"].zh


def test_clauses_without_ids_lists_every_builtin_clause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "clauses", "--format", "json")
    assert code == 0
    assert {c["id"] for c in json.loads(out)} == set(builtin_clauses())


def test_clauses_table_in_english_and_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "clauses", "L-24H")
    assert code == 0
    assert "L-24H" in out
    assert "Contact" in out
    assert "normally" in out
    code, out, _ = run(capsys, "clauses", "L-24H", "--lang", "zh")
    assert code == 0
    assert "24小时" in out
    assert "normally" not in out


def test_an_unknown_clause_id_exits_2_with_a_did_you_mean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "clauses", "CN-LIMITATON", "Q1")
    assert code == 2
    assert out == ""
    assert "CN-LIMITATON: unknown clause id (did you mean 'CN-LIMITATION'?)" in err


def test_clauses_with_a_policy_shows_its_own_clauses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "own.toml"
    path.write_text(
        'extends = "default"\nid = "own"\n[clauses]\nACME-1 = "Courtesy call first"\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "clauses", "ACME-1", "--policy", str(path), "--format", "json")
    assert code == 0
    assert json.loads(out)[0]["title"] == "Courtesy call first"
    code, _, err = run(capsys, "clauses", "ACME-1")
    assert code == 2
    assert "ACME-1: unknown clause id" in err


def test_explain_prints_each_cited_clause_text_after_the_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = str(CASES / "q4_moving_assets.json")
    code, out, _ = run(capsys, "explain", case, "--as-of", AS_OF)
    assert code == 0
    # The existing lines are still there, and the clause texts come after them.
    assert "R-Q4-LITIGATE" in out
    assert out.index("blocked:") < out.index("cited clauses:")
    cited = out[out.index("cited clauses:") :]
    known = registry(load_policy("default"))
    lines = [line.strip() for line in cited.splitlines()[1:] if line.startswith("  ")]
    ids = [line.split(":", 1)[0] for line in lines]
    assert "Q4" in ids
    assert "W-SIGNS" in ids
    assert len(ids) == len(set(ids))
    for cid in ids:
        clause = known.get(cid)
        assert clause is not None
        assert clause.en[:40] in " ".join(cited.split())
    code, out, _ = run(capsys, "explain", case, "--as-of", AS_OF, "--lang", "zh")
    assert code == 0
    assert builtin_clauses()["Q4"].zh[:10] in out
