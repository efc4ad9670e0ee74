"""``collectrules batch`` on the columnar engine: the same table and error file."""

from __future__ import annotations

import csv
import importlib
import json
import os
import subprocess
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules.batch import DEFAULT_CHUNK_ROWS, compact, run_batch  # noqa: E402
from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.cli import app, main  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import EngineError, InputError  # noqa: E402
from collectrules.frame import files  # noqa: E402
from collectrules.frame.bench import write_csv_portfolio, write_portfolio  # noqa: E402
from collectrules.frame.files import run_columnar  # noqa: E402
from collectrules.io import arrow as arrow_io  # noqa: E402
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
    # A contact attempt, a payment and a visit, which the columns read; a promise to pay,
    # which goes per case.
    rows[5]["events"] = [
        {"kind": "contact_attempt", "at": "2026-06-01T10:00:00+08:00", "outcome": "reached"},
        {"kind": "payment", "at": "2026-06-02T10:00:00+08:00", "amount": "100"},
        {"kind": "visit", "at": "2026-06-03T10:00:00+08:00"},
    ]
    rows[7]["events"] = [
        {"kind": "promise_made", "at": "2026-06-01T10:00:00+08:00", "amount": "100",
         "promised_date": "2026-06-05"}
    ]  # fmt: skip
    rows[6]["signals"] = [{"kind": "no_such_kind", "observed_at": "2026-06-01T10:00:00+08:00"}]
    path = tmp_path / "portfolio.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
def test_both_engines_write_the_same_table_and_errors(
    tmp_path: Path, portfolio: Path, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same table, byte for byte, in row groups of the same rows (here 37, so that
    they cut across the per-case batch's chunks of 100 rows)."""
    monkeypatch.setattr(compact, "ROW_GROUP_ROWS", 37)
    outs = {}
    for engine in ("columnar", "per-case"):
        out = tmp_path / f"{engine}.parquet"
        code = main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy", policy,
             "--engine", engine, "--chunk-rows", "100"]
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
    """``--jobs 2``: the chunks (here 64 rows each, record batches of 16 rows, so
    several chunks per worker) are decided in two worker processes and written in input
    order, byte for byte as one job."""
    monkeypatch.setattr(arrow_io, "BATCH_ROWS", 16)
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.parquet"
        code = main(
            ["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--policy",
             "cn_bank_loan", "--jobs", jobs, "--chunk-rows", "64"]
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
    not asserted): a small portfolio, timed with 1 job, with one per core, and with one
    job and ``--low-memory`` (one chunk of 2,000 rows at a time)."""
    out = _frame_bench()
    runs = [line for line in out.splitlines() if line.startswith("columnar end to end")]
    jobs = [*sorted({1, os.cpu_count() or 1}), 1]
    assert [
        f"{n} job(s): 300 rows (297 decided, 3 bad)" in line
        for line, n in zip(runs, jobs, strict=True)
    ] == [True] * len(jobs)
    assert out.count("chunks of 50,000 rows") == len(jobs) - 1
    assert "chunks of 2,000 rows, 1 at a time (--low-memory)" in out
    assert "with --low-memory: not measured at this size" in out


def test_the_low_memory_benchmark_runs_one_job() -> None:
    command = [sys.executable, "-m", "collectrules.frame.bench", "--rows", "10"]
    done = subprocess.run(
        [*command, "--jobs", "2", "--low-memory"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert "--low-memory runs one job" in done.stderr


def _frame_bench(*args: str) -> str:
    """What ``python -m collectrules.frame.bench --rows 300 ARGS`` prints."""
    command = [sys.executable, "-m", "collectrules.frame.bench", "--rows", "300", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout


def test_the_end_to_end_benchmark_generates_rows_with_events() -> None:
    """``--events-every 3`` gives one row in three events; the columnar engine hands
    those with a promise to pay to the per-case engine: they are counted, and every row
    is decided or bad."""
    out = _frame_bench("--jobs", "1", "--events-every", "3")
    assert "1 job(s): 300 rows (297 decided, 3 bad)" in out
    # rows 0, 3, 6 … have events (100 rows); 46 of them hold a promise (bad row 99 among
    # them), and the bad rows 199 and 299 go to the per-case engine for their exact
    # errors; the 54 rows with only contact attempts, payments and visits do not
    assert "rows by the per-case engine: 48;" in out


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


# The rows decided together (``chunk_rows``, ``--chunk-rows``): memory against speed.


def _decided(source: Path, out: Path, **options: Any) -> tuple[Any, bytes, files.ColumnarRun]:
    """The decision table, the error file's bytes and the run of ``source``."""
    run = run_columnar([source], policy=load_policy("default"), out=out, as_of=AS_OF, **options)
    return pq.read_table(out), run.batch.errors.read_bytes(), run


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any, bytes]]:
    """A Parquet file and a CSV file of 10,000 generated rows (one in 100 bad: rows 99,
    199, …, in every chunk), each with its decisions and error file in the default
    chunks: one chunk of the whole file."""
    folder = tmp_path_factory.mktemp("chunked")
    made = {}
    for suffix, write in ((".parquet", write_portfolio), (".csv", write_csv_portfolio)):
        source = folder / f"cases{suffix}"
        write(source, 10_000, "default")
        table, errors, run = _decided(source, folder / f"default-{suffix[1:]}.parquet")
        assert (len(run.frames), run.batch.rows, run.batch.bad) == (1, 10_000, 100)
        made[suffix] = (source, table, errors)
    return made


def chunked_bytes(source: Path) -> bytes:
    """The bytes of the decision table of ``source`` in the default chunks."""
    suffix = source.suffix[1:]
    return (source.parent / f"default-{suffix}.parquet").read_bytes()


@pytest.mark.parametrize(
    ("suffix", "chunk_rows", "jobs", "chunks"),
    [
        # Parquet: whole record batches of 4,096 rows (4,096 + 4,096 + 1,808)
        (".parquet", 4096, 1, 3),
        (".parquet", 5000, 1, 2),  # 8,192 + 1,808
        (".parquet", 1, 1, 3),  # one batch, at least
        (".parquet", 5000, 2, 2),
        (".csv", 4096, 1, 3),
        (".csv", 5000, 1, 2),
        (".csv", 4096, 2, 3),
    ],
)
def test_chunks_of_any_size_give_the_same_table_and_errors(
    tmp_path: Path,
    chunked: dict[str, tuple[Path, Any, bytes]],
    suffix: str,
    chunk_rows: int,
    jobs: int,
    chunks: int,
) -> None:
    source, table, errors = chunked[suffix]
    got, got_errors, run = _decided(
        source, tmp_path / "d.parquet", chunk_rows=chunk_rows, jobs=jobs
    )
    assert len(run.frames) == chunks
    assert got.equals(table)
    assert (tmp_path / "d.parquet").read_bytes() == chunked_bytes(source)
    assert got_errors == errors


def test_a_csv_file_one_row_a_chunk_gives_the_same_table_and_errors(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    columns = ("case_id", "product", "currency", "principal", "overdue_amount", "due_date")
    columns += ("timezone", "signals")
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in generate_rows(Engine("default", backend="python"), 40, bad_every=9):
            cells = [row.get(c) for c in columns]
            writer.writerow([json.dumps(c) if isinstance(c, list) else c for c in cells])
    table, errors, _ = _decided(source, tmp_path / "whole.parquet")
    got, got_errors, run = _decided(source, tmp_path / "rows.parquet", chunk_rows=1)
    assert len(run.frames) == 40
    assert got.equals(table)
    assert (tmp_path / "rows.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert got_errors == errors
    assert errors.count(b"\n") == 4  # rows 8, 17, 26 and 35


@pytest.mark.parametrize("chunk_rows", [0, -1, True, "10", 10.5, 10**30, None])
def test_a_bad_number_of_rows_a_chunk_is_refused(
    tmp_path: Path, portfolio: Path, chunk_rows: Any
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match="--chunk-rows") as refused:
        _decided(portfolio, out / "d.parquet", chunk_rows=chunk_rows)
    expected = f"expected a whole number of rows from 1 to 10,000,000, got {chunk_rows!r}"
    assert expected in str(refused.value)
    assert sorted(p.name for p in out.iterdir()) == []  # not even a partial file


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("jobs", 65, "--jobs: expected a whole number of worker processes from 1 to 64, got 65"),
        ("jobs", 10**6, "--jobs: expected a whole number of worker processes from 1 to 64"),
        ("jobs", 0, "--jobs: expected a whole number of worker processes from 1 to 64, got 0"),
        ("chunk_rows", 10**7 + 1, "--chunk-rows: expected a whole number of rows from 1 to"),
        ("chunk_rows", 0, "--chunk-rows: expected a whole number of rows from 1 to 10,000,000"),
        ("chunk_rows", True, "--chunk-rows: expected a whole number of rows"),
    ],
)
def test_both_engines_bound_their_workers_and_rows_alike(
    tmp_path: Path, portfolio: Path, option: str, value: Any, expected: str
) -> None:
    """A batch's processes and the rows it holds stay bounded whatever it is asked: the
    per-case batch refuses what the columnar one refuses, with the same words."""
    out = tmp_path / "out"
    out.mkdir()
    policy = load_policy("default")
    for run in (
        lambda: run_columnar([portfolio], policy=policy, out=out / "c.parquet", as_of=AS_OF,
                             **{option: value}),
        lambda: run_batch([portfolio], engine=Engine(policy, backend="python"),
                          out=out / "p.parquet", as_of=AS_OF, **{option: value}),
    ):  # fmt: skip
        with pytest.raises(InputError) as refused:
            run()
        assert expected in str(refused.value)
    assert sorted(p.name for p in out.iterdir()) == []


@pytest.mark.parametrize(
    ("engine", "given"),
    [
        ("columnar", "0"),
        ("columnar", "-1"),
        ("columnar", "10.5"),
        ("columnar", "ten"),
        ("columnar", str(10**30)),
        ("per-case", "0"),
        ("per-case", "10.5"),
    ],
)
def test_a_bad_number_of_rows_a_chunk_is_refused_on_the_command_line(
    tmp_path: Path, portfolio: Path, capsys: pytest.CaptureFixture[str], engine: str, given: str
) -> None:
    """As a bad --jobs is: exit status 2, the option named, no file written."""
    out = tmp_path / "out"
    out.mkdir()
    code = main(
        ["batch", str(portfolio), "--out", str(out / "d.parquet"), "--as-of", AS_OF,
         "--engine", engine, "--chunk-rows", given]
    )  # fmt: skip
    assert code == 2
    assert "--chunk-rows" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == []


def test_the_command_line_gives_each_engine_its_rows_a_chunk(
    tmp_path: Path,
    portfolio: Path,
    chunked: dict[str, tuple[Path, Any, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--chunk-rows sets the rows of a columnar chunk (the run is decided in that many
    chunks) and of a per-case checkpoint; without it, each engine has its own default."""
    cli_batch = importlib.import_module("collectrules.cli.batch")
    columnar: list[files.ColumnarRun] = []
    per_case: list[int] = []

    def columnar_spy(*args: Any, **kwargs: Any) -> files.ColumnarRun:
        columnar.append(run_columnar(*args, **kwargs))
        return columnar[-1]

    def per_case_spy(*args: Any, **kwargs: Any) -> Any:
        per_case.append(kwargs["chunk_rows"])
        return run_batch(*args, **kwargs)

    monkeypatch.setattr(cli_batch, "run_columnar", columnar_spy)
    monkeypatch.setattr(cli_batch, "run_batch", per_case_spy)
    source, table, errors = chunked[".parquet"]
    for engine, given in [("columnar", ["--chunk-rows", "5000"]), ("columnar", [])]:
        out = tmp_path / f"{len(columnar)}.parquet"
        main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine,
              *given])  # fmt: skip
        assert pq.read_table(out).equals(table)
        assert Path(f"{out}"[: -len(".parquet")] + ".errors.jsonl").read_bytes() == errors
    assert [len(run.frames) for run in columnar] == [2, 1]
    for given in (["--chunk-rows", "7"], []):
        out = tmp_path / f"per-case{len(per_case)}.jsonl"
        main(["batch", str(portfolio), "--out", str(out), "--as-of", AS_OF, "--engine",
              "per-case", *given])  # fmt: skip
    assert per_case == [7, DEFAULT_CHUNK_ROWS]


def test_the_chunk_rows_help_names_each_engines_default() -> None:
    cli_batch = importlib.import_module("collectrules.cli.batch")
    assert cli_batch._COLUMNAR_CHUNK_ROWS == files.CHUNK_ROWS
    result = CliRunner().invoke(app, ["batch", "--help"], terminal_width=100)
    text = " ".join(result.output.replace("│", " ").split())
    assert f"(per-case; default {DEFAULT_CHUNK_ROWS:,})" in text
    assert f"(columnar; default {files.CHUNK_ROWS:,}:" in text


def test_the_end_to_end_benchmark_takes_the_rows_a_chunk() -> None:
    out = _frame_bench("--jobs", "1", "--chunk-rows", "100")
    assert "1 job(s): 300 rows (297 decided, 3 bad)" in out
    assert "chunks of 100 rows" in out
