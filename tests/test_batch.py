"""The batch: every row in exactly one output, in order, with its line; atomic, resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import collectrules.batch.runner as runner
from collectrules import Engine
from collectrules.batch import BatchFiles, OutputError, run_batch
from collectrules.cli import main
from collectrules.errors import InputError
from collectrules.model.case import Case
from helpers import AS_OF, case_dict

POISON: list[tuple[str, dict[str, Any]]] = [
    ("exponent measured value", case_dict(("recovery_months", None))),
    ("huge principal", case_dict(principal="1e999999")),
    ("sentinel due date", case_dict(due_date="9999-12-31")),
    ("negative amount", case_dict(overdue_amount="-1")),
    ("not an object", []),  # type: ignore[dict-item]
]
POISON[0][1]["signals"][0]["value"] = "1e9999"


def portfolio(count: int, *, bad_every: int = 0) -> list[Any]:
    """Good cases, with every ``bad_every``-th row replaced by a bad one."""
    rows: list[Any] = []
    for i in range(count):
        if bad_every and i % bad_every == bad_every - 1:
            rows.append(case_dict(overdue_amount="-1", case_id=f"P-{i}") if i % 2 else [i])
        else:
            rows.append(case_dict(("refused_to_pay", None), case_id=f"C-{i}"))
    return rows


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    # split on "\n" only: a decision may hold a raw U+2028, which splitlines() breaks on
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def lines_of(out: Path, errors: Path) -> list[int]:
    return sorted(r["input"]["line"] for r in [*read_jsonl(out), *read_jsonl(errors)])


@pytest.fixture
def engine(python_engine: Engine) -> Engine:
    return python_engine


def test_every_row_lands_once_in_input_order(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(53, bad_every=4))
    out = tmp_path / "d.jsonl"
    summary = run_batch([source], engine=engine, out=out, as_of=AS_OF, chunk_rows=7)
    errors = tmp_path / "d.errors.jsonl"
    decided, bad = read_jsonl(out), read_jsonl(errors)
    assert summary.rows == 53
    assert (summary.decided, summary.bad) == (len(decided), len(bad))
    assert lines_of(out, errors) == list(range(1, 54))
    assert [d["input"]["line"] for d in decided] == sorted(d["input"]["line"] for d in decided)
    assert all(d["input"]["source"] == str(source) for d in decided)
    assert [b["where"] for b in bad][:2] == [f"{source}:4", f"{source}:8"]
    assert summary.counts["quadrant"] == {"Q3": len(decided)}
    assert not list(tmp_path.glob("*.partial"))
    assert not list(tmp_path.glob("*.progress"))


def test_a_decision_line_is_the_decision_json_plus_its_input(
    tmp_path: Path, engine: Engine
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(3))
    out = tmp_path / "d.jsonl"
    run_batch([source], engine=engine, out=out, as_of=AS_OF)
    first = read_jsonl(out)[0]
    assert first.pop("input") == {"source": str(source), "line": 1}
    expected = engine.decide(Case.from_dict(portfolio(1)[0]), as_of=AS_OF).to_dict()
    assert first == json.loads(json.dumps(expected))


@pytest.mark.parametrize(("label", "row"), POISON, ids=[p[0] for p in POISON])
def test_a_poison_row_does_not_stop_the_batch(
    tmp_path: Path, engine: Engine, label: str, row: Any
) -> None:
    good = portfolio(4)  # four cases, each its own id
    rows = [*good[:2], row, *good[2:]]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    summary = run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    assert summary.rows == 5
    assert lines_of(out, errors) == [1, 2, 3, 4, 5]
    assert summary.decided >= 4, label


def test_an_unexpected_exception_is_an_internal_error_row(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Engine.decide

    def flaky(self: Engine, case: Case, *, as_of: Any) -> Any:
        if case.case_id == "C-1":
            raise ZeroDivisionError("division by zero")
        return real(self, case, as_of=as_of)

    monkeypatch.setattr(Engine, "decide", flaky)
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(3))
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    summary = run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    (bad,) = read_jsonl(errors)
    assert (summary.decided, summary.bad) == (2, 1)
    assert bad["case_id"] == "C-1"
    assert bad["input"]["line"] == 2
    assert bad["kind"] == "EngineError"
    assert bad["error"] == "internal error: ZeroDivisionError: division by zero"


def test_a_new_run_removes_the_previous_outputs_before_it_reads(
    tmp_path: Path, engine: Engine
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(30))
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    assert out.exists()

    def stop(rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [source],
            engine=engine,
            out=out,
            errors=errors,
            as_of=AS_OF,
            chunk_rows=10,
            on_progress=stop,
        )
    assert not out.exists()
    assert not errors.exists()
    assert (tmp_path / "d.jsonl.partial").exists()
    assert (tmp_path / "d.jsonl.progress").exists()


def interrupted(after_chunks: int) -> Any:
    seen = 0

    def stop(rows: int) -> None:
        nonlocal seen
        seen += 1
        if seen == after_chunks:
            raise KeyboardInterrupt

    return stop


def test_resume_continues_without_loss_or_repeat(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(95, bad_every=6))
    reference_out, reference_err = tmp_path / "ref.jsonl", tmp_path / "ref.errors.jsonl"
    run_batch([source], engine=engine, out=reference_out, as_of=AS_OF)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [source],
            engine=engine,
            out=out,
            errors=errors,
            as_of=AS_OF,
            chunk_rows=10,
            on_progress=interrupted(4),
        )
    # rows written past the last checkpoint, as a kill would leave them
    with (tmp_path / "d.jsonl.partial").open("ab") as fh:
        fh.write(b'{"half a line' + b"x" * 1_000_000)
    summary = run_batch([source], engine=engine, out=out, errors=errors, resume=True, chunk_rows=10)
    assert summary.resumed_at == 40
    assert summary.rows == 95
    assert out.read_bytes() == reference_out.read_bytes()
    assert errors.read_bytes() == reference_err.read_bytes()
    assert summary.counts["quadrant"]["Q3"] == len(read_jsonl(out))


def test_a_kill_before_the_partial_files_exist_resumes_from_the_start(
    tmp_path: Path, engine: Engine
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(30, bad_every=4))
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    run_batch(
        [source],
        engine=engine,
        out=tmp_path / "ref.jsonl",
        errors=tmp_path / "re.jsonl",
        as_of=AS_OF,
    )
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [source],
            engine=engine,
            out=out,
            errors=errors,
            as_of=AS_OF,
            chunk_rows=10,
            on_progress=interrupted(1),
        )
    # as a kill right after the run recorded its start, before it created its files
    progress = tmp_path / "d.jsonl.progress"
    state = json.loads(progress.read_text())
    progress.write_text(
        json.dumps({**state, "rows": 0, "out_bytes": 0, "err_bytes": 0, "counts": {}})
    )
    (tmp_path / "d.jsonl.partial").unlink()
    (tmp_path / "e.jsonl.partial").unlink()
    summary = run_batch([source], engine=engine, out=out, errors=errors, resume=True)
    assert summary.rows == 30
    assert out.read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    assert errors.read_bytes() == (tmp_path / "re.jsonl").read_bytes()


def test_resume_refuses_a_changed_input_or_policy(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(30))
    out = tmp_path / "d.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [source],
            engine=engine,
            out=out,
            as_of=AS_OF,
            chunk_rows=10,
            on_progress=interrupted(1),
        )
    with pytest.raises(InputError, match=r"interrupted one in .* in as_of;"):
        run_batch([source], engine=engine, out=out, as_of="2026-05-01T00:00:00+08:00", resume=True)
    other = Engine("cn_bank_loan", backend="python")
    with pytest.raises(InputError, match=r"interrupted one in .* in the policy;"):
        run_batch([source], engine=other, out=out, resume=True)
    write_jsonl(source, portfolio(31))
    with pytest.raises(InputError, match=r"interrupted one in .* in the input files"):
        run_batch([source], engine=engine, out=out, resume=True)


def _interrupted_after_10_of_30(
    tmp_path: Path, engine: Engine
) -> tuple[Path, Path, Path, dict[str, Any]]:
    """A run of 30 rows stopped after its first checkpoint (10 rows): its input, its
    output, its progress file and what that holds."""
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(30))
    out = tmp_path / "d.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch([source], engine=engine, out=out, as_of=AS_OF, chunk_rows=10,
                  on_progress=interrupted(1))  # fmt: skip
    progress = tmp_path / "d.jsonl.progress"
    return source, out, progress, json.loads(progress.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"rows": -5}, "rows: expected a whole number from 0, got -5"),
        ({"rows": 10**30}, "rows: expected a whole number from 0, got 1000000000000000000"),
        ({"rows": 1e308}, "rows: expected a whole number from 0, got 1e+308"),
        ({"rows": "12"}, "rows: expected a whole number from 0, got '12'"),
        ({"rows": True}, "rows: expected a whole number from 0, got True"),
        ({"out_bytes": -1}, "out_bytes: expected a whole number from 0, got -1"),
        ({"phase": "weird"}, "phase: expected one of ('running', 'commit'), got 'weird'"),
        ({"counts": {"quadrant": {"Q1": -5}}}, "counts.quadrant.Q1: expected a whole number"),
        ({"counts": {"quadrant": {"Q1": 10**6}}}, "1000000 rows decided, more than the 10 read"),
        ({"out_bytes": 0, "err_bytes": 0}, "0 and 0 bytes cannot hold the lines of"),
    ],
    ids=repr,
)
def test_resume_refuses_a_progress_file_no_run_writes(
    tmp_path: Path, engine: Engine, change: dict[str, Any], said: str
) -> None:
    """Each was read as it was: a negative count reached ``read_rows`` (``skip: expected
    an integer at least 0``) or ``truncate`` (``cannot write …: invalid argument``), a
    phase or a tally no run writes was kept, and a row count past the inputs', or partial
    files too short for the rows counted, published a decision file without those rows."""
    source, out, progress, data = _interrupted_after_10_of_30(tmp_path, engine)
    assert data["rows"] == 10
    progress.write_text(json.dumps({**data, **change}), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_batch([source], engine=engine, out=out, resume=True)
    assert "not a batch progress file (" in str(caught.value)
    assert said in str(caught.value)
    assert not out.exists()


def test_resume_refuses_a_progress_file_counting_rows_the_inputs_lack(
    tmp_path: Path, engine: Engine
) -> None:
    """Resumed after row 31 of 30, the run read nothing and published a decision file
    without the 30 rows."""
    source, out, progress, data = _interrupted_after_10_of_30(tmp_path, engine)
    data["rows"], data["err_bytes"] = 31, data["err_bytes"] + 21
    with (tmp_path / "d.errors.jsonl.partial").open("ab") as fh:
        fh.write(b"\n" * 21)
    progress.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="skip: expected at most the 30 rows the inputs hold"):
        run_batch([source], engine=engine, out=out, resume=True)
    assert not out.exists()


def _decided_lines(out: Path) -> list[str]:
    return [json.loads(line)["case_id"] for line in out.read_text(encoding="utf-8").splitlines()]


def test_resume_refuses_byte_counts_holding_more_rows_than_counted(
    tmp_path: Path, engine: Engine
) -> None:
    """A progress file whose rows say 5 while its byte counts cover the 10 rows written:
    resumed, the run went on from row 6 after the 10 lines, and published rows 6 to 10
    twice (35 decisions for 30 rows), with exit status 0."""
    source, out, progress, data = _interrupted_after_10_of_30(tmp_path, engine)
    quadrants = data["counts"]["quadrant"]
    assert sum(quadrants.values()) == 10  # no bad row among the first 10
    first = next(iter(quadrants))
    data["rows"], data["counts"] = 5, {"quadrant": {first: 5}}
    progress.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_batch([source], engine=engine, out=out, resume=True)
    message = str(caught.value)
    assert message.startswith("--resume: the first ")
    assert "hold 10 lines, but the last checkpoint recorded 5 decided rows, a line each" in message
    assert message.endswith("; run again without --resume")
    assert not out.exists()
    # Nothing was cut: a run started over decides the 30 rows once each.
    run_batch([source], engine=engine, out=out, as_of=AS_OF)
    assert _decided_lines(out) == [row["case_id"] for row in portfolio(30)]


def test_resume_refuses_a_checkpoint_inside_a_line(tmp_path: Path, engine: Engine) -> None:
    """A byte count one short of the lines written: resumed, the tenth decision lost its
    newline and the eleventh was written on the same line, a line no reader can read."""
    source, out, progress, data = _interrupted_after_10_of_30(tmp_path, engine)
    data["out_bytes"] -= 1
    progress.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run_batch([source], engine=engine, out=out, resume=True)
    assert "hold 9 lines, the last of them cut short, but the last checkpoint recorded 10" in (
        str(caught.value)
    )
    assert not out.exists()


def test_resume_refuses_an_error_file_holding_other_lines_than_its_bad_rows(
    tmp_path: Path, engine: Engine
) -> None:
    """Two rows of ten bad, and an error file whose recorded bytes hold three lines."""
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(30, bad_every=5))
    out = tmp_path / "d.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch([source], engine=engine, out=out, as_of=AS_OF, chunk_rows=10,
                  on_progress=interrupted(1))  # fmt: skip
    progress = tmp_path / "d.jsonl.progress"
    data = json.loads(progress.read_text(encoding="utf-8"))
    assert data["rows"] - sum(data["counts"]["quadrant"].values()) == 2
    partial = tmp_path / "d.errors.jsonl.partial"
    held = partial.read_bytes()
    assert len(held) == data["err_bytes"]
    partial.write_bytes(held[:5] + b"\n" + held[6:])  # a line broken in two, as long
    assert partial.read_bytes().count(b"\n") == 3
    with pytest.raises(InputError, match=r"hold 3 lines, but the last checkpoint recorded 2 bad"):
        run_batch([source], engine=engine, out=out, resume=True)


def test_a_resumed_run_decides_each_row_once(tmp_path: Path, engine: Engine) -> None:
    """The check passes a checkpoint as the run wrote it: 30 rows, once each, in order."""
    source, out, _, _ = _interrupted_after_10_of_30(tmp_path, engine)
    summary = run_batch([source], engine=engine, out=out, resume=True)
    assert (summary.rows, summary.resumed_at) == (30, 10)
    assert _decided_lines(out) == [row["case_id"] for row in portfolio(30)]


def test_resume_without_an_interrupted_run_starts_fresh(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(5))
    out = tmp_path / "d.jsonl"
    summary = run_batch([source], engine=engine, out=out, as_of=AS_OF, resume=True)
    assert (summary.rows, summary.resumed_at) == (5, 0)


def test_a_kill_during_the_commit_is_finished_by_resume(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(12, bad_every=3))
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    expected = (out.read_bytes(), errors.read_bytes())

    class StopAfterOneRename(BatchFiles):
        def finish_commit(self) -> None:
            (self.errors.parent / self.err_partial.name).replace(self.errors)
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "BatchFiles", StopAfterOneRename)
    with pytest.raises(KeyboardInterrupt):
        run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    monkeypatch.undo()
    assert not out.exists()
    assert errors.exists()
    summary = run_batch([source], engine=engine, out=out, errors=errors, resume=True)
    assert summary.rows == 12
    assert (out.read_bytes(), errors.read_bytes()) == expected
    assert not (tmp_path / "d.jsonl.progress").exists()


def test_outputs_must_not_overwrite_inputs(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(2))
    with pytest.raises(InputError, match="is an input file"):
        run_batch([source], engine=engine, out=source, as_of=AS_OF)
    with pytest.raises(InputError, match="not a regular file"):
        run_batch([source], engine=engine, out=Path("/dev/full"), as_of=AS_OF)


def test_a_missing_output_folder_is_an_output_error(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(2))
    with pytest.raises(OutputError, match="no such file or directory"):
        run_batch([source], engine=engine, out=tmp_path / "nope" / "d.jsonl", as_of=AS_OF)


def test_jobs_give_the_same_bytes_in_the_same_order(tmp_path: Path, engine: Engine) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(120, bad_every=7))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch([source], engine=engine, out=one, as_of=AS_OF, chunk_rows=9)
    summary = run_batch([source], engine=engine, out=two, as_of=AS_OF, chunk_rows=9, jobs=2)
    assert summary.rows == 120
    assert one.read_bytes() == two.read_bytes()
    assert (tmp_path / "one.errors.jsonl").read_bytes() == (
        tmp_path / "two.errors.jsonl"
    ).read_bytes()


def test_jobs_on_the_durable_back_end_agree_with_python(
    tmp_path: Path, engine: Engine, durable_engine: Engine
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", portfolio(40, bad_every=7))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch([source], engine=engine, out=one, as_of=AS_OF, chunk_rows=9)
    run_batch([source], engine=durable_engine, out=two, as_of=AS_OF, chunk_rows=9, jobs=2)
    assert one.read_bytes() == two.read_bytes()


# -- the command line ------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["batch", *args])
    return code, capsys.readouterr().err


def test_cli_exit_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", portfolio(3))
    mixed = write_jsonl(tmp_path / "mixed.jsonl", portfolio(6, bad_every=3))
    out = str(tmp_path / "d.jsonl")
    assert cli(capsys, str(good), "-o", out, "--as-of", AS_OF)[0] == 0
    code, err = cli(capsys, str(mixed), "-o", out, "--as-of", AS_OF)
    assert code == 1
    assert "6 rows: 4 decided, 2 bad" in err
    assert "quadrant: Q3 4" in err
    assert "time taken:" in err
    code, err = cli(capsys, str(tmp_path / "missing.jsonl"), "-o", out, "--as-of", AS_OF)
    assert code == 2
    assert "no such file or directory" in err
    policy = tmp_path / "broken.toml"
    policy.write_text("[policy\n")
    assert cli(capsys, str(good), "-o", out, "--as-of", AS_OF, "-p", str(policy))[0] == 2
    code, err = cli(capsys, str(good), "-o", out, "--as-of", AS_OF, "--encoding", "klingon")
    assert (code, "unknown encoding" in err) == (2, True)
    code, err = cli(capsys, str(good), "-o", str(tmp_path / "no" / "d.jsonl"), "--as-of", AS_OF)
    assert code == 3
    assert "cannot write" in err
    assert "--resume" in err


def test_cli_reads_a_directory_of_csv_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    header = "case_id,product,currency,principal,overdue_amount,due_date,timezone,signals\n"
    signals = json.dumps([{"kind": "refused_to_pay", "observed_at": "2026-04-02T10:30:00+08:00"}])
    cell = '"' + signals.replace('"', '""') + '"'
    for name in ("a", "b"):
        (folder / f"{name}.csv").write_text(
            header + f"{name}-1,loan,CNY,1000,100,2026-03-31,Asia/Shanghai,{cell}\n"
        )
    out = tmp_path / "d.jsonl"
    code, err = cli(capsys, str(folder), "-o", str(out), "--as-of", AS_OF)
    assert code == 0, err
    assert [d["case_id"] for d in read_jsonl(out)] == ["a-1", "b-1"]
    assert read_jsonl(out)[1]["input"] == {"source": str(folder / "b.csv"), "line": 2}


def test_cli_reads_gbk_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [case_dict(("refused_to_pay", None), case_id=f"客户-{i}") for i in range(4)]
    source = tmp_path / "gbk.jsonl"
    source.write_bytes(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("gbk")
    )
    out = tmp_path / "d.jsonl"
    code, err = cli(capsys, str(source), "-o", str(out), "--as-of", AS_OF, "--encoding", "gbk")
    assert code == 0, err
    assert [d["case_id"] for d in read_jsonl(out)] == [f"客户-{i}" for i in range(4)]
    code, err = cli(capsys, str(source), "-o", str(out), "--as-of", AS_OF)
    assert code == 1
    assert err.count("bytes not valid utf-8") == 4


def test_the_summary_counts_classes_and_buckets(tmp_path: Path) -> None:
    rows = [
        case_dict(("refused_to_pay", None), case_id=f"C{i}", due_date=f"2025-{i + 1:02d}-10")
        for i in range(12)
    ]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "d.jsonl"
    summary = run_batch(
        [source], engine=Engine("cn_bank_loan", backend="python"), out=out, as_of=AS_OF
    )
    decided = read_jsonl(out)
    # refusers months overdue with no evidence of ability: presumed impaired (Q4)
    assert summary.counts["quadrant"] == {"Q4": 12}
    for key, extract in (
        (
            "class:CN-5LVL",
            lambda d: [c["value"] for c in d["regulatory"] if c["pack"] == "CN-5LVL"],
        ),
        ("bucket:M", lambda d: [b["bucket"] for b in d["buckets"] if b["bucket_set"] == "M"]),
    ):
        expected: dict[str, int] = {}
        for d in decided:
            for value in extract(d):
                expected[value] = expected.get(value, 0) + 1
        assert summary.counts[key] == expected
        assert len(expected) > 1
    text = "\n".join(summary.lines())
    assert "  class:CN-5LVL: " in text
    assert "  bucket:M: " in text


def test_random_byte_damage_loses_no_row(tmp_path: Path, engine: Engine) -> None:
    import random

    rng = random.Random(20261130)
    clean = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in portfolio(400)).encode()
    data = bytearray(clean)
    inserts = [b"\n", b"\r", b"\xff", b"\xe2\x80\xa8", b"\xc3", b"\x00", b'"', b"{"]
    for _ in range(300):
        at = rng.randrange(len(data))
        if rng.random() < 0.5:
            data[at] = rng.randrange(256)
        else:
            data[at:at] = rng.choice(inserts)
    source = tmp_path / "damaged.jsonl"
    source.write_bytes(bytes(data))
    expected = []
    for number, raw in enumerate(bytes(data).split(b"\n"), start=1):
        try:
            blank = not raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            expected.append(number)
    out, errors = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    summary = run_batch([source], engine=engine, out=out, errors=errors, as_of=AS_OF)
    assert lines_of(out, errors) == expected
    assert summary.rows == len(expected)
    assert 0 < summary.bad < summary.rows


def test_cli_a_crash_is_exit_4_not_some_rows_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("worker vanished")

    monkeypatch.setattr(runner, "_run", crash)
    good = write_jsonl(tmp_path / "good.jsonl", portfolio(3))
    code, err = cli(capsys, str(good), "-o", str(tmp_path / "d.jsonl"), "--as-of", AS_OF)
    assert code == 4
    assert "internal error: RuntimeError: worker vanished" in err
    assert "--resume" in err
    assert not (tmp_path / "d.jsonl").exists()


def test_a_progress_file_nested_past_reading_is_not_one() -> None:
    """``json.loads`` raised ``RecursionError`` through ``Progress.from_json``."""
    from collectrules.batch.output import Progress

    text = '{"version": 1, "header": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with pytest.raises(InputError, match=r"^p: not a batch progress file \(maximum recursion"):
        Progress.from_json(text, source="p")
