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
    assert err.strip() == f"error: as_of: instant {as_of[:10]} is outside the years 1900–2200"


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
    shown = "." if named == "" else named  # the command line reads an empty path as "."
    assert err == f"error: {option}: expected a file's path, got '{shown}', which names no file\n"
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
