"""Hostile case files at the command line: decide, explain, timeline and contact each give
a one-line error and a non-zero status, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collectrules.cli import main
from helpers import case_dict

AS_OF = "2026-04-03T12:00:00+08:00"


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


FILES: dict[str, bytes] = {
    "principal 1e999999": json.dumps(case_dict(principal="1e999999")).encode(),
    "measured 1e9999": json.dumps(case_dict(("cash_coverage", "1e9999"))).encode(),
    "due 9999-12-31": json.dumps(case_dict(due_date="9999-12-31")).encode(),
    "1 MB signal kind": json.dumps(
        case_dict(signals=[{"kind": "k" * 10**6, "observed_at": AS_OF}])
    ).encode(),
    "900-deep value": json.dumps(case_dict(case_id=_deep(900))).encode(),
    "50,000-deep JSON": b'{"case_id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "invalid UTF-8": json.dumps(case_dict(case_id="C1")).encode().replace(b"C1", b"C\xff1"),
    "GBK file": json.dumps(case_dict(case_id="春节"), ensure_ascii=False).encode("gbk"),
    "a lone surrogate": json.dumps(case_dict(case_id="a\udcff")).encode(),
}

COMMANDS = {
    "decide": ["decide", "{file}", "--as-of", AS_OF],
    "decide-python": ["decide", "{file}", "--as-of", AS_OF, "--backend", "python"],
    "explain": ["explain", "{file}", "--as-of", AS_OF],
    "timeline": ["timeline", "{file}", "--as-of", AS_OF],
    "contact": ["contact", "{file}", "--channel", "phone", "--at", AS_OF, "-p", "cn_bank_loan"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("label", FILES)
def test_hostile_files_give_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, label: str
) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(FILES[label])
    argv = [a.replace("{file}", str(path)) for a in COMMANDS[command]]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (1, 2), out[-500:] + err[-500:]
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert len(err) < 2_000


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-08:00"])
def test_an_as_of_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str], as_of: str) -> None:
    code = main(["decide", "examples/cases", "--as-of", as_of])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == f"error: --as-of: instant {as_of[:10]} is outside the years 1900–2200"


NO_FILE = ["/", ".", "cases/..", ""]


@pytest.mark.parametrize("option", ["--out", "--errors"])
@pytest.mark.parametrize("engine", ["per-case", "columnar"])
@pytest.mark.parametrize("named", NO_FILE, ids=repr)
def test_a_batch_output_that_names_no_file_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    engine: str,
    named: str,
) -> None:
    # `--out /` gave a traceback: "ValueError: PosixPath('/') has an empty name".
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.chdir(tmp_path)
    source = tmp_path / "cases.parquet"
    pq.write_table(pa.Table.from_pylist([case_dict()]), source)
    outputs = {"--out": "d.parquet", "--errors": "e.jsonl", option: named}
    argv = ["batch", str(source), "--as-of", AS_OF, "--engine", engine]
    for name, value in outputs.items():
        argv += [name, value]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2
    if named == "":  # refused before the command runs (typer would read it as ".")
        position = argv.index(option) + 2
        assert err == f"error: argument {position} (after '{option}') is empty: expected a value\n"
    else:
        said = f"expected a file's path, got '{named}', which names no file"
        assert err == f"error: {option}: {said}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.parquet"]


@pytest.mark.parametrize("named", NO_FILE, ids=repr)
def test_the_library_refuses_an_output_that_names_no_file(tmp_path: Path, named: str) -> None:
    from collectrules import Engine, InputError
    from collectrules.batch import BatchFiles, default_errors_path, run_batch
    from collectrules.frame.files import run_columnar

    source = tmp_path / "cases.jsonl"
    source.write_text(json.dumps(case_dict()) + "\n", encoding="utf-8")
    engine = Engine("default", backend="python")
    calls = {
        "run_batch out": lambda: run_batch([source], engine=engine, out=named, as_of=AS_OF),
        "run_batch errors": lambda: run_batch(
            [source], engine=engine, out=tmp_path / "d.jsonl", errors=named, as_of=AS_OF
        ),
        "run_columnar out": lambda: run_columnar(
            [source], policy=engine.policy, out=named, as_of=AS_OF
        ),
        "default_errors_path": lambda: default_errors_path(Path(named)),
        "BatchFiles": lambda: BatchFiles(tmp_path / "d.jsonl", Path(named)),
    }
    for label, call in calls.items():
        with pytest.raises(InputError) as caught:
            call()
        (problem,) = caught.value.problems
        assert problem.path in ("out", "errors"), label
        assert problem.message.startswith("expected a file's path, got "), label
        assert problem.message.endswith(", which names no file"), label
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl"]


# --------------------------------------------- file names that are not UTF-8, ASCII output

_LATIN1 = "caf\udce9"  # the bytes b"caf\xe9": a Latin-1 name, as Python holds it


def _rows_file(tmp_path: Path, suffix: str) -> Path:
    """A case file named ``café`` in Latin-1 with a good row (A) and a bad one (B)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    good = {k: v for k, v in case_dict(case_id="A").items() if k != "signals"}
    rows = [good, {**good, "case_id": "B", "principal": "-1"}]
    path = tmp_path / f"{_LATIN1}{suffix}"
    if suffix == ".parquet":
        with path.open("wb") as fh:  # Arrow cannot open such a name
            pq.write_table(pa.Table.from_pylist(rows), fh)
    elif suffix == ".csv":
        lines = [",".join(good), *(",".join(row.values()) for row in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("suffix", "engine", "jobs", "out_suffix"),
    [
        (".jsonl", "per-case", "1", ".jsonl"),
        (".csv", "per-case", "1", ".jsonl"),
        (".csv", "per-case", "1", ".parquet"),
        (".csv", "columnar", "1", ".parquet"),
        (".csv", "columnar", "2", ".parquet"),
        (".parquet", "per-case", "1", ".parquet"),
        (".parquet", "columnar", "1", ".parquet"),
    ],
)
def test_a_case_file_whose_name_is_not_utf8_is_decided(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    suffix: str,
    engine: str,
    jobs: str,
    out_suffix: str,
) -> None:
    """Its rows name it with ``\\xe9`` escapes. The good row was a bad row (its
    decision's input.source could not be written as UTF-8), the columnar engine ended
    in a traceback from Polars (``Object does not have a .read() method``), and an
    output named so could not be written by Arrow."""
    source = _rows_file(tmp_path, suffix)
    out = tmp_path / f"out-{_LATIN1}{out_suffix}"
    argv = ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine]
    code = main([*argv, "--jobs", jobs])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    named = str(tmp_path / "caf\\xe9") + suffix
    (bad,) = [json.loads(line) for line in (tmp_path / f"out-{_LATIN1}.errors.jsonl").open()]
    assert bad["case_id"] == "B"
    assert bad["input"]["source"] == named
    assert bad["where"].startswith(named)
    if out_suffix == ".jsonl":
        (decision,) = [json.loads(line) for line in out.open(encoding="utf-8")]
        assert decision["case_id"] == "A"
        assert decision["input"]["source"] == named
    else:
        import pyarrow.parquet as pq

        with out.open("rb") as fh:
            assert pq.read_table(fh).column("case_id").to_pylist() == ["A"]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_text_the_terminal_cannot_show_is_written_as_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """A case id in Chinese on an ASCII or Latin-1 terminal ended in a
    UnicodeEncodeError traceback (exit status 1) when the table was printed."""
    import io
    import sys

    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case_dict(case_id="客户-1")) + "\n", encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    stderr = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    codes = [
        main(["decide", str(path), "--as-of", AS_OF]),
        main(["batch", str(path), "--out", str(tmp_path / "d.jsonl"), "--as-of", AS_OF,
              "--lang", "zh"]),
    ]  # fmt: skip
    stdout.flush()
    stderr.flush()
    printed = stdout.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]
    # The summary's lines go through click, which writes UTF-8 to a stream it finds
    # ASCII (and so misconfigured): only on Latin-1 are they escaped.
    summary = stderr.buffer.getvalue().decode("utf-8" if encoding == "ascii" else encoding)  # type: ignore[attr-defined]
    assert codes == [0, 0], summary
    assert "\\u5ba2\\u6237-1" in printed
    said = "1 行: 1 已决定" if encoding == "ascii" else "1 \\u884c: 1 \\u5df2\\u51b3\\u5b9a"
    assert said in summary
    assert stdout.errors == stderr.errors == "strict"  # as they were before the command


@pytest.mark.parametrize("columns", ["0", "5", "20", "40"])
def test_a_terminal_too_narrow_still_shows_the_decisions(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    columns: str,
) -> None:
    """On a terminal of COLUMNS=0 rich printed nothing (exit status 0); at 5, 20 or 40 the
    table's seven columns were squeezed empty. Tables print at least 60 wide."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes the capture for a terminal
    monkeypatch.setenv("COLUMNS", columns)
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case_dict(case_id="KEEP-ME")) + "\n", encoding="utf-8")
    assert main(["decide", str(path), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "KEEP-M" in out  # its cell: at 60 columns, "KEEP-ME" wraps after the M
    assert "Q1" in out  # the quadrant of a loan 3 days past due, without signals


@pytest.mark.parametrize("errors", ["strict", "backslashreplace"])
@pytest.mark.parametrize(
    "argv",
    [
        ["show", f"{_LATIN1}.toml"],
        ["decide", f"{_LATIN1}.jsonl", "--as-of", AS_OF],
        ["batch", f"{_LATIN1}.jsonl", "--out", "d.jsonl", "--as-of", AS_OF],
    ],
    ids=["show", "decide", "batch"],
)
def test_an_error_names_a_file_that_is_not_utf8_as_its_rows_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], errors: str
) -> None:
    """A missing ``café.toml`` (Latin-1) was ``caf\\udce9.toml`` in the error line (the
    error was printed once the streams were set back; standard error's own handler is
    backslashreplace), where the rows of such a file say ``caf\\xe9``."""
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors)
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(argv) == 2
    stderr.flush()
    said = stderr.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    assert f"caf\\xe9.{argv[1].rsplit('.', 1)[1]}" in said, said
    assert "udce9" not in said
    assert stderr.errors == errors  # as it was before the command


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["check", ""], "argument 2 (after 'check') is empty"),
        (["show", ""], "argument 2 (after 'show') is empty"),
        (["decide", "", "--as-of", AS_OF], "argument 2 (after 'decide') is empty"),
        (["decide", "{case}", "--policy", "", "--as-of", AS_OF], "(after '--policy') is empty"),
        (["decide", "{case}", "--policy=", "--as-of", AS_OF], "--policy: expected a value after"),
        (["impact", "", "default", "{case}", "--as-of", AS_OF], "(after 'impact') is empty"),
    ],
    ids=repr,
)
def test_an_empty_argument_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    said: str,
) -> None:
    """An empty path read as ".", the current folder: ``decide "$CASES"`` with the
    variable unset decided every case file there. An empty policy read as the default
    policy: ``check "$POLICY"`` checked the shipped default and exited 0."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps(case_dict()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a folder of case files, as "." reads it
    code = main([str(case) if a == "{case}" else a for a in argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert said in err
    assert err.count("\n") == 1


def test_the_library_refuses_an_empty_policy_name() -> None:
    """``load_policy("")`` said ``.: cannot read policy file: not a regular file``."""
    from collectrules import Engine, PolicyError, load_policy

    for load in (load_policy, Engine):
        with pytest.raises(PolicyError) as caught:
            load("")
        assert str(caught.value) == (
            "policy: expected a shipped policy's name or a policy file's path, got an empty text"
        )


def test_the_library_refuses_an_empty_input_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``read_rows([""])``, ``case_files([""])`` and ``run_batch([""], …)`` read every
    case file of the current folder, as ``Path("")`` is ``"."``."""
    from collectrules import Engine, InputError
    from collectrules.batch import run_batch
    from collectrules.frame.files import run_columnar
    from collectrules.io import case_files, read_rows

    (tmp_path / "case.json").write_text(json.dumps(case_dict()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    engine = Engine("default", backend="python")
    out = tmp_path / "out" / "d.parquet"
    out.parent.mkdir()
    calls = {
        "read_rows": lambda: list(read_rows([""])),
        "case_files": lambda: case_files(["case.json", ""]),
        "run_batch": lambda: run_batch([""], engine=engine, out=out, as_of=AS_OF),
        "run_columnar": lambda: run_columnar([""], policy=engine.policy, out=out, as_of=AS_OF),
    }
    for label, call in calls.items():
        with pytest.raises(InputError) as caught:
            call()
        (problem,) = caught.value.problems
        assert problem.path in ("paths[0]", "paths[1]"), label
        assert problem.message == (
            "expected a path, got an empty text (it would read the current folder)"
        ), label
    assert not list(out.parent.iterdir())


def test_a_single_path_given_as_an_empty_text_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Path("")`` is ``"."``: a team, column map or calendar schedule named ``""``
    was reported as the unreadable file ``.``, and ``spill_dir=""`` spilled a
    worklist's runs into the current folder."""
    from collectrules import InputError, load_policy
    from collectrules.calendars import CalendarSchedule
    from collectrules.io import load_column_map
    from collectrules.operations import Worklist, load_team

    monkeypatch.chdir(tmp_path)
    policy = load_policy("default")
    calls = {
        "load_team": (lambda: load_team(""), "path", "a file's path"),
        "load_column_map": (lambda: load_column_map(""), "path", "a file's path"),
        "CalendarSchedule.load": (lambda: CalendarSchedule.load(""), "path", "a file's path"),
        "Worklist team": (
            lambda: Worklist([], as_of=AS_OF, policy=policy, team=""),
            "path",
            "a file's path",
        ),
        "Worklist spill_dir": (
            lambda: Worklist([], as_of=AS_OF, policy=policy, spill_dir=""),
            "spill_dir",
            "a folder's path",
        ),
    }
    for label, (call, path, what) in calls.items():
        with pytest.raises(InputError) as caught:
            call()
        (problem,) = caught.value.problems
        assert problem.path == path, label
        assert problem.message == (
            f"expected {what}, got an empty text (it would name the current folder)"
        ), label
    assert not list(tmp_path.iterdir())
