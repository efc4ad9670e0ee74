"""``collectrules batch`` on the columnar engine: the same table and error file."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules.batch import compact, run_batch  # noqa: E402
from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.cli import main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import EngineError, InputError  # noqa: E402
from collectrules.frame import files  # noqa: E402
from collectrules.frame.files import run_columnar  # noqa: E402
from collectrules.model.case import Case  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    rows: list[dict[str, Any]] = list(
        generate_rows(Engine("default", backend="python"), 300, bad_every=37)
    )
    for row in rows:  # pyarrow takes the columns from the first row
        row["events"] = None
    rows[5]["events"] = [
        {"kind": "contact_attempt", "at": "2026-06-01T10:00:00+08:00", "outcome": "reached"}
    ]
    rows[6]["signals"] = [{"kind": "no_such_kind", "observed_at": "2026-06-01T10:00:00+08:00"}]
    path = tmp_path / "portfolio.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
def test_both_engines_write_the_same_table_and_errors(
    tmp_path: Path, portfolio: Path, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same table, byte for byte, in row groups of the same rows (here 37, so that
    they cut across the columnar engine's chunks and the per-case batch's)."""
    monkeypatch.setattr(compact, "ROW_GROUP_ROWS", 37)
    monkeypatch.setattr(files, "CHUNK_ROWS", 100)
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        code = main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy", policy,
             "--engine", engine]
        )  # fmt: skip
        assert code == 1  # some rows are bad
        outs[engine] = (out.read_bytes(), (tmp_path / f"{engine}.errors.jsonl").read_text())
    columnar, per_case = outs["columnar"], outs["per-case"]
    assert columnar[0] == per_case[0]
    assert columnar[1] == per_case[1]
    meta = pq.ParquetFile(tmp_path / "columnar.parquet").metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert groups[:-1] == [37] * (len(groups) - 1)
    assert 0 < groups[-1] <= 37
    assert sum(groups) + len(columnar[1].splitlines()) == 300


def test_parquet_in_and_out_uses_the_columnar_engine_by_default(
    tmp_path: Path, portfolio: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "decisions.parquet"
    main(["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert "columnar engine:" in err
    assert "per case, has events: 1" in err
    main(["batch", str(portfolio), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF])
    assert "columnar engine:" not in capsys.readouterr().err


def test_the_columnar_engine_refuses_json_lines_output(tmp_path: Path, portfolio: Path) -> None:
    code = main(
        ["batch", str(portfolio), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF,
         "--engine", "columnar"]
    )  # fmt: skip
    assert code == 2
    assert not (tmp_path / "d.jsonl").exists()


def test_an_unknown_engine_is_refused(tmp_path: Path, portfolio: Path) -> None:
    code = main(
        ["batch", str(portfolio), "--out", str(tmp_path / "d.parquet"), "--as-of", AS_OF,
         "--engine", "turbo"]
    )  # fmt: skip
    assert code == 2


def test_worker_processes_write_the_same_table_and_errors_in_order(
    tmp_path: Path, portfolio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--jobs 2``: the chunks (here 64 rows each, so several per worker) are decided
    in two worker processes and written in input order, byte for byte as one job."""
    monkeypatch.setattr(files, "CHUNK_ROWS", 64)
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.parquet"
        code = main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy",
             "cn_bank_loan", "--jobs", jobs]
        )  # fmt: skip
        assert code == 1  # some rows are bad
        outs[jobs] = (pq.read_table(out), (tmp_path / f"jobs{jobs}.errors.jsonl").read_text())
    assert outs["2"][0].equals(outs["1"][0])
    assert (tmp_path / "jobs2.parquet").read_bytes() == (tmp_path / "jobs1.parquet").read_bytes()
    assert outs["2"][1] == outs["1"][1]
    assert outs["2"][0].num_rows + len(outs["2"][1].splitlines()) == 300
    cases = outs["2"][0].column("case_id").to_pylist()
    assert cases == sorted(cases, key=lambda c: int(c.split("-")[1]))


def test_worker_processes_decide_under_a_policy_from_a_file(
    tmp_path: Path, portfolio: Path
) -> None:
    """A policy file that extends a shipped one and changes a threshold: the workers
    rebuild it from its data, and decide as one job does."""
    policy = tmp_path / "mine.toml"
    policy.write_text(
        'extends = "default"\nid = "mine"\nversion = "1.0.0"\n'
        "[parameters.lookback_days]\nvalue = 30\n",
        encoding="utf-8",
    )
    tables = []
    for jobs in ("1", "2"):
        out = tmp_path / f"mine{jobs}.parquet"
        main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy",
             str(policy), "--jobs", jobs]
        )  # fmt: skip
        tables.append(pq.read_table(out))
    assert tables[1].equals(tables[0])
    assert set(tables[1].column("policy_id").to_pylist()) == {"mine"}


@pytest.mark.parametrize("jobs", [0, -1, 65, True, 1.5])
def test_a_bad_number_of_jobs_is_refused(tmp_path: Path, portfolio: Path, jobs: Any) -> None:
    with pytest.raises(InputError, match="--jobs"):
        run_columnar(
            [portfolio], policy=load_policy("default"), out=tmp_path / "d.parquet", as_of=AS_OF,
            jobs=jobs,
        )  # fmt: skip
    assert not (tmp_path / "d.parquet").exists()


def test_a_worker_that_died_is_an_engine_error() -> None:
    future: Future[Any] = Future()
    future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    with pytest.raises(EngineError, match="worker process of the columnar run stopped"):
        files._result(future)


def test_jobs_from_a_program_on_standard_input_are_refused(
    tmp_path: Path, portfolio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spawned workers import the main module again; a program read from standard input
    cannot be: an InputError before any worker starts, on either engine."""
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "<stdin>", raising=False)
    policy = load_policy("default")
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(InputError, match="is not a file"):
        run_columnar([portfolio], policy=policy, out=tmp_path / "d.parquet", as_of=AS_OF, jobs=2)
    with pytest.raises(InputError, match="is not a file"):
        run_batch(
            [portfolio], engine=Engine(policy, backend="python"), out=tmp_path / "d.jsonl",
            as_of=AS_OF, jobs=2,
        )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not even a partial file


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, "dirty_decay_ms:-1,muzzy_decay_ms:-1"), ("narenas:2", "narenas:2")],
)
def test_the_command_line_keeps_freed_pages_unless_told_otherwise(
    given: str | None, expected: str
) -> None:
    """The command line sets Polars' allocator variable before Polars loads (Polars puts
    its own defaults first, and the last setting of a key wins); a setting in the
    environment is left as it is."""
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if given is not None:
        env["_RJEM_MALLOC_CONF"] = given
    code = (
        "import os, sys; import collectrules.cli; import polars;"
        " print(os.environ['_RJEM_MALLOC_CONF'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().endswith("," + expected)


def test_the_end_to_end_benchmark_runs_with_one_job_and_with_one_per_core() -> None:
    """``python -m collectrules.frame.bench`` stays runnable (its figures are printed,
    not asserted): a small portfolio, timed with 1 job and with one per core."""
    out = subprocess.run(
        [sys.executable, "-m", "collectrules.frame.bench", "--rows", "300"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    runs = [line for line in out.splitlines() if line.startswith("columnar end to end")]
    jobs = sorted({1, os.cpu_count() or 1})
    assert [
        f"{n} job(s): 300 rows (297 decided, 3 bad)" in line
        for line, n in zip(runs, jobs, strict=True)
    ] == [True] * len(jobs)


def test_the_end_to_end_benchmark_generates_rows_with_events() -> None:
    """``--events-every 3`` gives one row in three events, which the columnar engine
    hands to the per-case engine: they are counted, and every row is decided or bad."""
    out = subprocess.run(
        [sys.executable, "-m", "collectrules.frame.bench", "--rows", "300", "--jobs", "1",
         "--events-every", "3"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    assert "1 job(s): 300 rows (297 decided, 3 bad)" in out
    # rows 0, 3, 6 … have events (100 rows, bad row 99 among them), and the bad rows
    # 199 and 299 go to the per-case engine for their exact errors
    assert "rows by the per-case engine: 102;" in out


def test_generated_events_are_valid_and_leave_the_other_rows_alone() -> None:
    engine = Engine("default", backend="python")
    plain = list(generate_rows(engine, 60, bad_every=100))
    with_events = list(generate_rows(engine, 60, bad_every=100, events_every=4))
    assert [i for i, row in enumerate(with_events) if "events" in row] == list(range(0, 60, 4))
    assert [{k: v for k, v in row.items() if k != "events"} for row in with_events] == plain
    kinds = {e["kind"] for row in with_events for e in row.get("events", [])}
    assert kinds == {"contact_attempt", "payment", "visit", "promise_made"}
    for row in with_events:
        case = Case.from_dict(row)
        assert len(case.events) == len(row.get("events", []))
        assert 0 < len(case.events) <= 5 or "events" not in row
        engine.decide(case, as_of=AS_OF)
