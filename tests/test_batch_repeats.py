"""A batch decides each case id at most once: a later row decided for an id already
decided is a bad row, on both engines, with and without workers, after a resume, and
in ``frame.decide``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules import Case, Engine  # noqa: E402
from collectrules.batch import run_batch  # noqa: E402
from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.errors import InputError  # noqa: E402
from collectrules.frame import decide  # noqa: E402
from collectrules.frame._repeats import FrameCaseIds  # noqa: E402
from collectrules.io.repeats import CaseIds  # noqa: E402
from helpers import AS_OF, case_dict  # noqa: E402

PYTHON = Engine("default", backend="python")


def _message(case_id: str, first: str) -> str:
    return f"case_id: case '{case_id}' appears twice (decided at {first}); expected each case once"


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


# -- the id tables, against a dict -------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["A", "B", "C-1", "é", "x" * 300, "\U0001f600", "a b"]), max_size=60)
)
def test_case_ids_answer_as_a_dict_of_first_places(ids: list[str]) -> None:
    table, first = CaseIds(), {}
    for line, case_id in enumerate(ids, start=1):
        expected = first.get(case_id)
        assert table.claim(case_id, "in.jsonl", line, None) == expected
        first.setdefault(case_id, f"in.jsonl:{line}")
    assert len(table) == len(first)


def test_case_ids_keep_every_id_as_the_table_grows() -> None:
    table = CaseIds()
    for index in range(20_000):  # past several doublings of the first 4,096 slots
        assert table.claim(f"C-{index}", "cases.parquet", None, index) is None
    assert len(table) == 20_000
    assert table.claim("C-0", "b.parquet", None, 0) == "cases.parquet[0]"
    assert table.claim("C-19999", "b.parquet", None, 1) == "cases.parquet[19999]"
    assert table.claim("C-20000", "b.parquet", None, 2) is None


class _SharedFirstHash(FrameCaseIds):
    """Ids whose first hashes collide in fours: the search must compare both hashes."""

    def _hashes(self, ids: Any) -> tuple[np.ndarray, np.ndarray]:
        h1, h2 = super()._hashes(ids)
        return h1 % np.uint64(4), h2


@pytest.mark.parametrize("table_type", [FrameCaseIds, _SharedFirstHash])
@settings(max_examples=40, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "E", "F", "ü"]))),
        max_size=6,
    )
)
def test_frame_case_ids_answer_as_a_dict_of_first_places(
    table_type: type[FrameCaseIds], chunks: list[list[str | None]]
) -> None:
    table, first = table_type(), {}
    start = 0
    for number, ids in enumerate(chunks):
        source = f"part-{number % 2}.csv"
        places = np.arange(start, start + len(ids))
        found = table.repeats(source, pl.Series(ids, dtype=pl.String), places, lines=True)
        expected = {}
        for pos, case_id in enumerate(ids):
            if case_id is None:
                continue
            if case_id in first:
                expected[pos] = (case_id, first[case_id])
            else:
                first[case_id] = f"{source}:{start + pos}"
        assert found == expected
        start += len(ids)
    assert len(table) == len(first)


# -- the per-case batch ------------------------------------------------------------------


def test_a_second_row_for_a_decided_case_is_a_bad_row(tmp_path: Path) -> None:
    rows = [
        case_dict(case_id="C-1"),
        case_dict(case_id="C-2"),
        case_dict(case_id="C-1", principal="999"),
        case_dict(case_id="C-2"),
        case_dict(case_id="C-3"),
    ]
    source = _jsonl(tmp_path / "in.jsonl", rows)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    summary = run_batch([source], engine=PYTHON, out=out, errors=errors, as_of=AS_OF)
    assert [d["case_id"] for d in _records(out)] == ["C-1", "C-2", "C-3"]
    bad = _records(errors)
    assert [(b["case_id"], b["where"], b["kind"]) for b in bad] == [
        ("C-1", f"{source}:3", "InputError"),
        ("C-2", f"{source}:4", "InputError"),
    ]
    assert bad[0]["error"] == _message("C-1", f"{source}:1")
    assert (summary.rows, summary.decided, summary.bad) == (5, 3, 2)
    assert sum(summary.counts["quadrant"].values()) == 3


def test_a_bad_row_claims_no_case_id(tmp_path: Path) -> None:
    """A row refused for its own reason keeps that reason, and the next row for the
    same case is decided."""
    rows = [
        case_dict(case_id="C-1", overdue_amount="-1"),
        case_dict(case_id="C-1"),
        case_dict(case_id="C-1", overdue_amount="-1"),
    ]
    source = _jsonl(tmp_path / "in.jsonl", rows)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    run_batch([source], engine=PYTHON, out=out, errors=errors, as_of=AS_OF)
    assert [d["input"]["line"] for d in _records(out)] == [2]
    bad = _records(errors)
    assert [b["input"]["line"] for b in bad] == [1, 3]
    assert all("must not be negative" in b["error"] for b in bad)


def _repeating_rows(count: int) -> list[dict[str, Any]]:
    rows = list(generate_rows(PYTHON, count, bad_every=9))
    for index in range(40, count, 7):  # each a repeat of a row 40 above
        rows[index]["case_id"] = rows[index - 40]["case_id"]
    return rows


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_workers_and_back_ends_refuse_the_same_rows(tmp_path: Path, backend: str) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _repeating_rows(120))
    outputs = []
    for jobs in (1, 2):
        out, errors = tmp_path / f"d{jobs}.jsonl", tmp_path / f"e{jobs}.jsonl"
        engine = Engine("default", backend=backend)
        run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF, jobs=jobs,
                  chunk_rows=11)  # fmt: skip
        outputs.append((out.read_bytes(), errors.read_bytes()))
    assert outputs[0] == outputs[1]
    decided = [json.loads(line)["case_id"] for line in outputs[0][0].splitlines()]
    assert len(decided) == len(set(decided))
    repeats = [r for r in _records(tmp_path / "e1.jsonl") if "appears twice" in r["error"]]
    assert repeats  # some repeats follow a decided row, some a bad one
    assert len(decided) + len(_records(tmp_path / "e1.jsonl")) == 120


class _Stop(Exception):
    pass


def test_a_resumed_run_refuses_what_the_whole_run_refuses(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _repeating_rows(120))
    whole, whole_errors = tmp_path / "whole.jsonl", tmp_path / "whole.errors.jsonl"
    run_batch([source], engine=PYTHON, out=whole, errors=whole_errors, as_of=AS_OF, chunk_rows=13)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"

    def stop_after_three(rows: int) -> None:
        if rows >= 39:
            raise _Stop

    with pytest.raises(_Stop):
        run_batch([source], engine=PYTHON, out=out, errors=errors, as_of=AS_OF, chunk_rows=13,
                  on_progress=stop_after_three)  # fmt: skip
    assert not out.exists()
    summary = run_batch([source], engine=PYTHON, out=out, errors=errors, resume=True,
                        chunk_rows=13)  # fmt: skip
    assert summary.resumed_at == 39
    # row 41 repeats row 1, decided before the run stopped: refused after the resume too
    assert _message(_repeating_rows(1)[0]["case_id"], f"{source}:1") in [
        e["error"] for e in _records(errors)
    ]
    assert (out.read_bytes(), errors.read_bytes()) == (
        whole.read_bytes(),
        whole_errors.read_bytes(),
    )


# -- the columnar batch, against the per-case one ----------------------------------------


def _write(rows: list[dict[str, Any]], path: Path) -> Path:
    if path.suffix == ".parquet":
        for row in rows:
            row.setdefault("events", None)
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    import csv

    names = ["case_id", "product", "currency", "principal", "overdue_amount", "due_date",
             "timezone", "signals", "events"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            cells = [row.get(n) for n in names]
            writer.writerow(
                ["" if c is None else json.dumps(c) if isinstance(c, list) else c for c in cells]
            )
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_both_engines_refuse_the_same_rows(tmp_path: Path, suffix: str, jobs: int) -> None:
    rows = _repeating_rows(300)
    rows[250]["case_id"] = rows[8]["case_id"]  # row 8 is bad: 250 is decided
    rows[12]["events"] = [  # a row with events goes per case in the columnar engine
        {"kind": "contact_attempt", "at": "2026-06-01T10:00:00+08:00", "outcome": "reached"}
    ]
    rows[52]["case_id"] = rows[12]["case_id"]
    source = _write(rows, tmp_path / f"cases{suffix}")
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        code = main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine,
                     "--chunk-rows", "100", "--jobs", str(jobs)])  # fmt: skip
        assert code == 1
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_text())
    assert outs["columnar"] == outs["per-case"]
    decided = pq.read_table(tmp_path / "columnar.parquet").column("case_id").to_pylist()
    assert len(decided) == len(set(decided))
    assert rows[250]["case_id"] in decided
    errors = [json.loads(line) for line in outs["columnar"][1].splitlines()]
    assert len(decided) + len(errors) == 300
    place = (
        (lambda i: f"{source}[{i}]") if suffix == ".parquet" else (lambda i: f"{source}:{i + 2}")
    )
    again = {e["where"]: e["error"] for e in errors if "appears twice" in e["error"]}
    assert again[place(52)] == _message(rows[12]["case_id"], place(12))
    assert again[place(243)] == _message(rows[203]["case_id"], place(203))


def test_a_file_the_columns_cannot_read_refuses_repeats_too(tmp_path: Path) -> None:
    rows = _repeating_rows(60)
    for row in rows:
        row["__note"] = "x"  # a name the columns keep for themselves: the file goes per case
    source = _write(rows, tmp_path / "cases.parquet")
    out = tmp_path / "d.parquet"
    assert main(["batch", str(source), "--out", str(out), "--as-of", AS_OF]) == 1
    errors = _records(tmp_path / "d.errors.jsonl")
    assert _message(rows[40]["case_id"], f"{source}[0]") in [e["error"] for e in errors]
    decided = pq.read_table(out).column("case_id").to_pylist()
    assert len(decided) == len(set(decided))


# -- frame.decide ------------------------------------------------------------------------


def test_frame_decide_decides_each_case_id_once() -> None:
    cases = pl.DataFrame(
        [
            {k: v for k, v in case_dict(case_id=i).items() if k != "signals"}
            for i in ("C-1", "C-2", "C-1", "C-1")
        ]
    )
    signals = pl.DataFrame(
        {
            "case_id": ["C-1"],
            "kind": ["refused_to_pay"],
            "observed_at": ["2026-06-01T10:00:00+08:00"],
        }
    )
    result = decide(cases, signals, policy="default", as_of=AS_OF)
    assert result.decisions.get_column("case_id").to_list() == ["C-1", "C-2"]
    assert result.decisions.get_column("row").to_list() == [0, 1]
    assert [(e.row, e.case_id) for e in result.errors] == [(2, "C-1"), (3, "C-1")]
    assert str(result.errors[0].error.problems[0].message) in _message("C-1", "cases[0]")
    assert (result.summary.rows, result.summary.decided, result.summary.bad) == (4, 2, 2)
    assert sum(result.summary.counts["quadrant"].values()) == 2


# -- Engine.decide_many ------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_decide_many_decides_each_case_id_once(backend: str) -> None:
    engine = Engine("default", backend=backend)
    rows = [
        case_dict(case_id="C-1"),
        case_dict(case_id="C-2", overdue_amount="-1"),  # bad for its own reason
        case_dict(case_id="C-2"),  # the first row of C-2 that can be decided
        case_dict(case_id="C-1", principal="-5"),  # bad for its own reason: keeps it
        case_dict(case_id="C-1"),
        case_dict(case_id="C-2"),
    ]
    results = list(engine.decide_many(rows, as_of=AS_OF))
    assert [r.index for r in results] == list(range(6))
    assert [r.ok for r in results] == [True, False, True, False, False, False]
    assert "overdue_amount" in str(results[1].error)
    assert "principal" in str(results[3].error)
    for result, first in ((results[4], "rows[0]"), (results[5], "rows[2]")):
        assert isinstance(result.error, InputError)
        assert [problem.path for problem in result.error.problems] == ["case_id"]
        assert str(result.error) == _message(result.case_id or "", first)
    again = list(engine.decide_many(rows, as_of=AS_OF, repeats="decide"))
    assert [r.ok for r in again] == [True, False, True, False, True, True]
    assert again[4].decision == results[0].decision


def test_decide_many_refuses_repeats_in_a_table_and_of_cases() -> None:
    table = pa.Table.from_pylist(
        [{k: v for k, v in case_dict(case_id=i).items() if k != "signals"} for i in "ABA"]
    )
    results = list(PYTHON.decide_many(table, as_of=AS_OF))
    assert [r.ok for r in results] == [True, True, False]
    assert str(results[2].error) == _message("A", "rows[0]")
    objects = [Case.from_dict(case_dict(case_id=i)) for i in "BAB"]
    results = list(PYTHON.decide_many(objects, as_of=AS_OF))
    assert [r.ok for r in results] == [True, True, False]
    assert str(results[2].error) == _message("B", "rows[0]")


def test_decide_many_names_a_wrong_repeats_choice() -> None:
    with pytest.raises(InputError) as info:
        next(PYTHON.decide_many([case_dict()], as_of=AS_OF, repeats="keep"))  # type: ignore[arg-type]
    assert str(info.value) == "repeats: expected 'refuse' or 'decide', got 'keep'"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.booleans()), max_size=12))
def test_decide_many_decides_the_first_decidable_row_of_each_id(
    rows: list[tuple[str, bool]],
) -> None:
    """Over generated rows (some bad for their own reason), every row has one result,
    in order; each id is decided on its first good row, and each later good row of it is
    refused, naming that row."""
    data = [
        case_dict(case_id=i, **({} if good else {"due_date": "2026-02-30"})) for i, good in rows
    ]
    results = list(PYTHON.decide_many(data, as_of=AS_OF))
    assert [r.index for r in results] == list(range(len(rows)))
    first: dict[str, int] = {}
    for index, ((case_id, good), result) in enumerate(zip(rows, results, strict=True)):
        assert result.case_id == case_id
        if not good:
            assert "due_date" in str(result.error)
        elif case_id in first:
            assert str(result.error) == _message(case_id, f"rows[{first[case_id]}]")
        else:
            first[case_id] = index
            assert result.ok
    assert sorted(r.decision.case_id for r in results if r.decision is not None) == sorted(first)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda line: b"x" + line[1:],  # not JSON
        lambda line: line.replace(b'"case_id":"', b'"case_ix":"', 1),  # no case id
        lambda line: line.replace(b'"line":', b'"line":-', 1),  # a negative line
    ],
    ids=["not json", "no case id", "negative line"],
)
def test_a_resume_refuses_decisions_it_did_not_write(tmp_path: Path, tamper: Any) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _repeating_rows(60))
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"

    def stop(rows: int) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        run_batch([source], engine=PYTHON, out=out, errors=errors, as_of=AS_OF, chunk_rows=13,
                  on_progress=stop)  # fmt: skip
    partial = tmp_path / "d.jsonl.partial"
    first, rest = partial.read_bytes().split(b"\n", 1)
    changed = tamper(first)
    assert changed != first
    partial.write_bytes(changed + b"\n" + rest)
    progress = tmp_path / "d.jsonl.progress"
    recorded = json.loads(progress.read_text())
    recorded["out_bytes"] += len(changed) - len(first)  # the checkpoint still fits the file
    progress.write_text(json.dumps(recorded))
    with pytest.raises(InputError, match=r"line 1 of .*d\.jsonl\.partial is not a decision"):
        run_batch([source], engine=PYTHON, out=out, errors=errors, resume=True, chunk_rows=13)
