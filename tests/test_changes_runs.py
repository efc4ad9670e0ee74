"""What changed between two batch runs (issue 13 §5)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from collectrules import Engine, InputError, load_policy
from collectrules.cli import main
from collectrules.money.kpis import compute_kpis, portfolio_from_rows
from collectrules.operations.changes import Moves, compare_runs, read_run
from collectrules.timeline.stages import step_field
from operations_helpers import CLOSING, OPENING, portfolio, write_jsonl

SEEN = "2026-04-20T10:00:00+08:00"


def _later(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same portfolio later on: every fifth debtor now refuses to pay."""
    out = []
    for n, row in enumerate(rows):
        row = json.loads(json.dumps(row))
        if n % 5 == 0:
            row["signals"] = [*row["signals"], {"kind": "refused_to_pay", "observed_at": SEEN}]
        out.append(row)
    return out


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("cn_bank_loan", backend="python")


def _opening_cases() -> list[dict[str, Any]]:
    """The portfolio at the opening run."""
    cases = portfolio(150, seed=3)
    for row in cases[:40]:  # some cases fall due close to the opening run
        row["due_date"] = "2026-04-01"
    return cases


@pytest.fixture(scope="module")
def runs(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cases = _opening_cases()
    old = [r.decision.to_dict() for r in engine.decide_many(cases, as_of=OPENING)]  # type: ignore[union-attr]
    new = [r.decision.to_dict() for r in engine.decide_many(_later(cases), as_of=CLOSING)]  # type: ignore[union-attr]
    return old, new


def _lines(rows: list[dict[str, Any]], name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{name}:{n + 1}", r) for n, r in enumerate(rows)]


def _values(
    rows: list[dict[str, Any]], field: str, group: str, value: str
) -> dict[tuple[str, str], str]:
    """Each case's ``value`` per ``group`` (a bucket set, a pack) in the list ``field``."""
    return {(d["case_id"], x[group]): x[value] for d in rows for x in d[field]}


def _expected_moves(
    old: list[dict[str, Any]], new: list[dict[str, Any]], field: str, group: str, value: str
) -> Counter[tuple[str, str, str]]:
    """(group, value in the old run, value in the new run) per case, counted."""
    before = _values(old, field, group, value)
    return Counter(
        (x[group], before[(d["case_id"], x[group])], x[value]) for d in new for x in d[field]
    )


def _counted_moves(groups: Mapping[str, Moves]) -> Counter[tuple[str, str, str]]:
    """The same triples, counted from what ``compare_runs`` reports."""
    return Counter(
        {
            (g, f, t): n
            for g, moves in groups.items()
            for f, row in moves.counts.items()
            for t, n in row.items()
        }
    )


def test_quadrant_moves_case_by_case(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    result = compare_runs(_lines(old, "old"), _lines(new, "new"))
    before = {d["case_id"]: d["quadrant"]["value"] for d in old}
    after = {d["case_id"]: d["quadrant"]["value"] for d in new}
    expected = Counter((before[k], after[k]) for k in before)
    got = Counter({(f, t): n for f, row in result.quadrants.counts.items() for t, n in row.items()})
    assert got == expected
    moved = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert moved, "the refusals move some debtors"
    assert {c.case_id: c.quadrant for c in result.cases if c.quadrant} == moved
    assert result.quadrants.moved == len(moved)
    assert result.compared == len(old)
    for frm, rates in result.quadrants.rates().items():
        total = sum(result.quadrants.counts[frm].values())
        for to, ratio in rates.items():
            assert ratio.numerator == result.quadrants.counts[frm][to]
            assert ratio.denominator == total


def test_bucket_roll_rates_are_the_kpi_roll_rates(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    result = compare_runs(_lines(old, "old"), _lines(new, "new"))
    kpis = compute_kpis(
        portfolio_from_rows(_lines(new, "new")), previous=portfolio_from_rows(_lines(old, "old"))
    ).total.roll_rates
    assert kpis is not None
    assert set(result.buckets) == set(kpis) == {"M", "NPL"}
    for bset, moves in result.buckets.items():
        assert moves.rates() == {f: dict(row) for f, row in kpis[bset].items()}
    # and the counts are the cases' own bucket moves
    assert _counted_moves(result.buckets) == _expected_moves(
        old, new, "buckets", "bucket_set", "bucket"
    )
    assert result.buckets["M"].moved > 0


def test_class_moves_per_pack(runs: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    old, new = runs
    result = compare_runs(_lines(old, "old"), _lines(new, "new"))
    before = _values(old, "regulatory", "pack", "value")
    assert _counted_moves(result.classes) == _expected_moves(
        old, new, "regulatory", "pack", "value"
    )
    assert result.classes["CN-5LVL"].moved > 0
    changed = {(c.case_id, p): (a, b) for c in result.cases for p, a, b in c.classes}
    for (case_id, pack), (a, b) in changed.items():
        assert before[(case_id, pack)] == a != b


def test_remedies_newly_allowed_and_blocked(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    result = compare_runs(_lines(old, "old"), _lines(new, "new"))
    by_case = {c.case_id: c for c in result.cases}
    allowed_total: Counter[str] = Counter()
    blocked_total: Counter[str] = Counter()
    for a, b in zip(old, new, strict=True):
        assert a["case_id"] == b["case_id"]
        was = {g["remedy"] for g in a["allowed"]}
        now = {g["remedy"] for g in b["allowed"]}
        was_blocked = {g["remedy"] for g in a["blocked"]}
        now_blocked = {g["remedy"]: g["rule_id"] for g in b["blocked"]}
        fresh_blocks = {r: rule for r, rule in now_blocked.items() if r not in was_blocked}
        change = by_case.get(a["case_id"])
        assert (change.newly_allowed if change else ()) == tuple(sorted(now - was))
        assert dict(change.newly_blocked if change else ()) == fresh_blocks
        allowed_total.update(now - was)
        blocked_total.update(list(fresh_blocks))
    assert result.newly_allowed == dict(sorted(allowed_total.items()))
    assert result.newly_blocked == dict(sorted(blocked_total.items()))
    assert result.newly_blocked, "refusing debtors lose the softer remedies"


def test_steps_newly_breached_agree_with_the_timelines(
    engine: Engine, runs: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    """The step facts of the decisions say the same as the timelines at both instants."""
    from collectrules import Case

    old, new = runs
    result = compare_runs(_lines(old, "old"), _lines(new, "new"), policy=engine.policy)
    cases = _opening_cases()
    later = _later(cases)
    kinds = tuple(engine.policy.signals)
    by_case = {c.case_id: c for c in result.cases}
    total = 0
    for first, second in zip(cases[:60], later[:60], strict=True):
        t1 = engine.timeline(Case.from_dict(first, signal_kinds=kinds), as_of=OPENING)
        t2 = engine.timeline(Case.from_dict(second, signal_kinds=kinds), as_of=CLOSING)
        was = {s.id for s in t1.steps if s.status.value == "breached"}
        now = {s.id for s in t2.steps if s.status.value == "breached"}
        change = by_case.get(first["case_id"])
        assert set(change.newly_breached if change else ()) == now - was
        total += len(now - was)
    assert total > 0


def test_without_the_policy_steps_are_named_by_their_facts(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    named = compare_runs(_lines(old, "old"), _lines(new, "new"), policy=load_policy("cn_bank_loan"))
    bare = compare_runs(_lines(old, "old"), _lines(new, "new"))
    assert {step_field(k): n for k, n in named.newly_breached.items()} == bare.newly_breached


def test_cases_in_one_run_only_and_bad_lines_are_listed(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    broken = dict(new[3])
    broken.pop("facts")
    lines_new = _lines([new[0], new[0], broken, *new[4:]], "new")
    result = compare_runs(_lines(old, "old"), lines_new)
    assert result.only_old == tuple(sorted(d["case_id"] for d in old[1:4]))
    assert result.only_new == ()
    problems = {p.where: p.error for p in result.problems}
    assert set(problems) == {"new:2", "new:3"}
    assert "appears twice" in str(problems["new:2"])
    assert isinstance(problems["new:3"], InputError)
    assert problems["new:3"].problems[0].path == "facts"
    assert result.compared == len(new) - 3


def test_same_runs_give_the_same_json(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    old, new = runs
    one = json.dumps(compare_runs(_lines(old, "o"), _lines(new, "n")).to_dict(), sort_keys=True)
    two = json.dumps(
        compare_runs(read_run(_lines(old, "o"))[0], read_run(_lines(new, "n"))[0]).to_dict(),
        sort_keys=True,
    )
    assert one == two


def test_cli_json_and_table(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = runs
    a = write_jsonl(tmp_path / "old.jsonl", old)
    b = write_jsonl(tmp_path / "new.jsonl", new)
    assert main(["changes", str(a), str(b), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = compare_runs(_lines(old, "o"), _lines(new, "n"), policy=load_policy("cn_bank_loan"))
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["newly_breached"]  # named by stage id: the decisions name a shipped policy
    assert all("-" in k or k.isupper() for k in data["newly_breached"])
    assert main(["changes", str(a), str(b)]) == 0
    shown = capsys.readouterr().out
    for word in (
        "quadrants",
        "bucket set M",
        "class CN-5LVL",
        "newly blocked",
        "cases that changed",
    ):
        assert word in shown


def test_cli_reports_bad_lines_and_compares_the_rest(
    runs: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = runs
    a = write_jsonl(tmp_path / "old.jsonl", old)
    b = tmp_path / "new.jsonl"
    b.write_text(
        "".join(json.dumps(r) + "\n" for r in new[:2])
        + "{oops\n"
        + json.dumps({"case_id": "X"})
        + "\n",
        encoding="utf-8",
    )
    code = main(["changes", str(a), str(b), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{b}:3" in captured.err
    assert f"{b}:4" in captured.err
    assert json.loads(captured.out)["compared"] == 2
    bad = json.loads(captured.out)["bad_rows"]
    assert [row["where"] for row in bad] == [f"{b}:3", f"{b}:4"]
    assert all(row["error"] for row in bad)
