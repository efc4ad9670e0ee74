"""Hostile outputs and inputs at the edges of the library: output paths the file system
refuses, values only orjson writes, JSON bytes that are not UTF-8, and golden files that
are not what they claim. Each is a ``CollectRulesError`` (on the command line, one
``error:`` line and its documented exit status), never a raw ``OSError``,
``JSONDecodeError``, ``KeyError`` or ``TypeError``, and never a value written where
``json.dumps`` refuses it."""

from __future__ import annotations

import enum
import errno
import functools
import json
import os
import pathlib
import uuid
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from collectrules.authoring.golden import update_file, updated_expectation
from collectrules.batch import run_batch
from collectrules.cli import main
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, InputError, OutputError, UnwritableError
from collectrules.model.decision import Decision, canonical_json
from helpers import AS_OF, make_case

ROOT = Path(__file__).parent.parent
CASE = ROOT / "examples" / "cases" / "q1_travelling.json"
Q2 = ROOT / "examples" / "cases" / "q2_health_short.json"
UNUSABLE, IO = 2, 3
#: The longest file name most file systems take (NAME_MAX), in bytes.
NAME_MAX = 255
RESUME_ADVICE = "run the same command with --resume"


# -- output paths the file system refuses ---------------------------------------------


def _too_long(folder: Path, suffix: str) -> Path:
    return folder / ("a" * 300 + suffix)


def _no_folder(folder: Path, suffix: str) -> Path:
    return folder / "no-such-folder" / ("out" + suffix)


def _under_a_file(folder: Path, suffix: str) -> Path:
    (folder / "plain").write_text("not a folder\n", encoding="utf-8")
    return folder / "plain" / ("out" + suffix)


def _a_folder(folder: Path, suffix: str) -> Path:
    (folder / ("sub" + suffix)).mkdir()
    return folder / ("sub" + suffix)


BAD_PATHS = {
    "name too long": (_too_long, "file name too long"),
    "missing folder": (_no_folder, "no such file or directory"),
    "folder is a file": (_under_a_file, "not a directory"),
    "path is a folder": (_a_folder, "is a directory"),
}

PLAN = ["--kind", "extend", "--months", "6", "--rate", "0.06", "--as-of", AS_OF]

#: Each command that writes a file, its arguments (``{out}`` the output) and its suffix.
WRITERS = {
    "batch --out": (["batch", str(CASE), "--out", "{out}", "--as-of", AS_OF], ".jsonl"),
    "batch --errors": (
        ["batch", str(CASE), "--out", "{ok}", "--errors", "{out}", "--as-of", AS_OF],
        ".jsonl",
    ),
    "batch --out (columnar)": (
        ["batch", "{csv}", "--out", "{out}", "--as-of", AS_OF, "--engine", "columnar"],
        ".parquet",
    ),
    "golden --out": (["golden", str(CASE), "--out", "{out}", "--as-of", AS_OF, "--force"], ".toml"),
    "report --out": (["report", "{decisions}", "--out", "{out}"], ".html"),
    "plan --out": (["plan", str(Q2), *PLAN, "--out", "{out}"], ".md"),
    "worklist --out": (["worklist", str(CASE), "--as-of", AS_OF, "--out", "{out}"], ".csv"),
}


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("decisions") / "d.jsonl"
    assert main(["batch", str(CASE), "--out", str(path), "--as-of", AS_OF]) == 0
    return path


@pytest.fixture(scope="module")
def cases_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "cases.csv"
    path.write_text(
        "case_id,product,currency,principal,overdue_amount,due_date,timezone\n"
        "C-1,loan,CNY,1000,100,2026-03-31,Asia/Shanghai\n",
        encoding="utf-8",
    )
    return path


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*")}


@pytest.mark.parametrize("bad", BAD_PATHS)
@pytest.mark.parametrize("command", WRITERS)
def test_cli_an_output_the_file_system_refuses_is_one_error_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    decisions: Path,
    cases_csv: Path,
    command: str,
    bad: str,
) -> None:
    """An output path the file system refuses is an I/O failure (exit status 3),
    reported on one line naming the path and the reason; a batch's output that is a
    folder is unusable input (exit status 2, docs/howto-batch.md). Nothing is written,
    and a batch that wrote nothing does not say to resume it."""
    if "columnar" in command:
        pytest.importorskip("polars")
    make, reason = BAD_PATHS[bad]
    args, suffix = WRITERS[command]
    out = make(tmp_path, suffix)
    before = _listing(tmp_path)
    names = {
        "out": str(out),
        "ok": str(tmp_path / "ok.jsonl"),
        "decisions": str(decisions),
        "csv": str(cases_csv),
    }
    code = main([a.format(**names) for a in args])
    captured = capsys.readouterr()
    err = captured.err
    expected = UNUSABLE if command.startswith("batch") and bad == "path is a folder" else IO
    assert code == expected, err
    assert "Traceback" not in captured.out + err
    assert "internal error" not in err
    assert RESUME_ADVICE not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert str(out) in lines[0]
    if expected == IO:
        assert reason in lines[0]
    else:
        assert "is not a regular file" in lines[0]
    assert _listing(tmp_path) == before


@pytest.mark.parametrize(
    ("length", "written", "added"),
    [
        (NAME_MAX - len(".partial") + 1, "", ".partial"),
        (NAME_MAX - len(".progress.tmp") + 1, "", ".progress.tmp"),
        # the error file is named from --out: d.jsonl gives d.errors.jsonl, 7 longer
        (NAME_MAX - len(".partial") - len(".errors") + 1, ".errors", ".partial"),
    ],
)
def test_cli_batch_refuses_a_name_whose_side_files_would_be_too_long(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], length: int, written: str, added: str
) -> None:
    """A batch writes ``.partial``, ``.progress`` and ``.progress.tmp`` files beside its
    outputs, and names its error file from ``--out``: a name the file system takes
    whose side files it does not is refused before anything is written."""
    out = tmp_path / ("b" * (length - len(".jsonl")) + ".jsonl")
    assert len(out.name) == length <= NAME_MAX
    code = main(["batch", str(CASE), "--out", str(out), "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert code == IO, err
    named = out.with_name(out.name.replace(".jsonl", f"{written}.jsonl"))
    assert err.startswith(f"error: cannot write {named}: file name too long once '{added}'")
    assert RESUME_ADVICE not in err
    assert "internal error" not in err
    assert os.listdir(tmp_path) == []


def test_batch_run_raises_an_output_error_for_a_name_too_long(tmp_path: Path) -> None:
    """``run_batch`` raised the ``OSError`` of ``Path.exists`` on a name too long."""
    out = _too_long(tmp_path, ".jsonl")
    engine = Engine("default", backend="python")
    with pytest.raises(OutputError) as raised:
        run_batch([CASE], engine=engine, out=out, as_of=AS_OF)
    assert isinstance(raised.value, CollectRulesError)
    assert raised.value.path == out
    assert raised.value.reason == "file name too long"
    assert raised.value.errno == errno.ENAMETOOLONG
    with pytest.raises(OutputError, match="no such file or directory"):
        run_batch([CASE], engine=engine, out=_no_folder(tmp_path, ".jsonl"), as_of=AS_OF)
    assert os.listdir(tmp_path) == []


def test_cli_batch_still_says_to_resume_after_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails once the run has recorded a checkpoint still says to resume."""
    from collectrules.batch import output

    def full(self: output.BatchFiles, out_lines: Any, err_lines: Any) -> None:
        raise OutputError(self.out_partial, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(output.BatchFiles, "write", full)
    out = tmp_path / "d.jsonl"
    code = main(["batch", str(CASE), "--out", str(out), "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert code == IO, err
    assert "the disk is full" in err
    assert RESUME_ADVICE in err


# -- values orjson writes and json.dumps refuses --------------------------------------


class _Colour(enum.Enum):
    RED = 1


class _Level(enum.IntEnum):
    HIGH = 3


class _Kind(enum.StrEnum):
    LOAN = "loan"


@functools.cache
def _decision() -> Decision:
    return Engine("default", backend="python").decide(make_case(), as_of=AS_OF)


def _reference(data: dict[str, Any], *, indent: int | None = None) -> str:
    return json.dumps(
        data,
        sort_keys=True,
        ensure_ascii=False,
        indent=indent,
        separators=(",", ":") if indent is None else (",", ": "),
        allow_nan=False,
    )


FOREIGN = {
    "a UUID": (uuid.UUID(int=1), ""),
    "an enum member": (_Colour.RED, ""),
    "an orjson fragment": (orjson.Fragment(b"1"), ""),
    "a UUID in a list": ([1, uuid.UUID(int=1)], "[1]"),
    "an enum member in an object": ({"y": _Colour.RED}, ".y"),
}


@pytest.mark.parametrize("label", FOREIGN)
def test_decision_json_bytes_refuse_an_extra_value_json_dumps_refuses(label: str) -> None:
    value, inside = FOREIGN[label]
    decision = _decision()
    with pytest.raises(TypeError):
        _reference({**decision.to_dict(), "x": value})
    with pytest.raises(UnwritableError) as raised:
        decision.to_json_bytes(extra={"x": value})
    assert raised.value.paths == (f"x{inside}",)
    assert "JSON has no form for it" in str(raised.value)
    # the decision's own JSON is untouched by it
    assert decision.to_json() == _reference(decision.to_dict())


@pytest.mark.parametrize("label", FOREIGN)
def test_decision_json_refuses_a_fact_json_dumps_refuses_on_every_path(label: str) -> None:
    """``to_json()`` (orjson), ``to_json(indent=2)`` (``json.dumps``) and
    ``to_json_bytes()`` agree: the same error, naming the fact."""
    value, inside = FOREIGN[label]
    decision = attrs.evolve(_decision(), facts={**_decision().facts, "odd": value})
    for write in (decision.to_json, functools.partial(decision.to_json, indent=2)):
        with pytest.raises(UnwritableError) as raised:
            write()
        assert raised.value.paths == (f"facts.odd{inside}",)
    with pytest.raises(UnwritableError):
        decision.to_json_bytes()
    with pytest.raises(TypeError) as expected:
        _reference({"x": value})
    with pytest.raises(TypeError) as got:
        canonical_json({"x": value})
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("value", [_Level.HIGH, _Kind.LOAN, [_Kind.LOAN, {"k": _Level.HIGH}]])
def test_decision_json_writes_text_and_number_enums_as_json_dumps_does(value: Any) -> None:
    decision = attrs.evolve(_decision(), facts={**_decision().facts, "odd": value})
    expected = _reference(decision.to_dict())
    assert decision.to_json() == expected
    assert decision.to_json(indent=2) == _reference(decision.to_dict(), indent=2)
    assert decision.to_json_bytes() == expected.encode("utf-8")
    plain = _decision()
    extra = plain.to_json_bytes(extra={"x": value})
    assert extra == _reference({**plain.to_dict(), "x": value}).encode("utf-8")
    assert canonical_json({"x": value}) == _reference({"x": value})


# -- JSON bytes that are not UTF-8 ----------------------------------------------------


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
)
def test_decision_from_json_reads_utf8_bytes_only(encoding: str) -> None:
    """``json.loads`` reads UTF-16 and UTF-32 bytes, and so did ``Decision.from_json``;
    every other reader of the library reads UTF-8 unless told otherwise."""
    text = _decision().to_json()
    with pytest.raises(InputError, match=r"^d\.json: not UTF-8 text: .*UTF-") as raised:
        Decision.from_json(text.encode(encoding), source="d.json")
    assert encoding.upper()[:6] in str(raised.value)
    with pytest.raises(InputError, match="not UTF-8 text"):
        Decision.from_json(bytearray(text.encode(encoding)))


def test_decision_from_json_reads_utf8_bytes_with_or_without_a_byte_order_mark() -> None:
    """UTF-8 bytes are read, with a byte order mark too (as ``json.loads`` and the batch
    readers read them); text that starts with one is refused, as ``json.loads`` does."""
    text = _decision().to_json()
    for data in (text.encode("utf-8"), text.encode("utf-8-sig"), bytearray(text.encode())):
        assert Decision.from_json(data, engine="python").to_json() == text
    with pytest.raises(InputError, match="not JSON"):
        Decision.from_json("\ufeff" + text)
    with pytest.raises(InputError, match=r"not UTF-8 text: a byte 0xff at byte 1"):
        Decision.from_json(b"{\xff}")


# -- golden files that are not golden files -------------------------------------------

GOLDEN_JSON = {
    "policy": "default",
    "as_of": AS_OF,
    "cases": [{"id": "A", "quadrant": "Q1", "input": {"principal": "1"}}],
}
GOLDEN_TOML = f"""# the author's comment
policy = "default"
as_of = {AS_OF}

[[cases]]
id = "A"
quadrant = "Q1"
"""
UPDATES = {"A": {"quadrant": "Q3"}}

#: Malformed golden files: the file's name, its bytes, and what the error says.
MALFORMED: dict[str, tuple[str, bytes, str]] = {
    "truncated JSON": (
        "golden_t.json",
        json.dumps(GOLDEN_JSON, indent=2).encode()[:-20],
        r"golden_t\.json:\d+: not JSON: ",
    ),
    "a list, not an object": (
        "golden_l.json",
        json.dumps([GOLDEN_JSON]).encode(),
        r"golden_l\.json: expected a table \(an object\) at the top level, got a list",
    ),
    "no cases": (
        "golden_n.json",
        json.dumps({"policy": "default"}).encode(),
        r"golden_n\.json: cases: required",
    ),
    "cases an object": (
        "golden_o.json",
        json.dumps({**GOLDEN_JSON, "cases": {"id": "A"}}).encode(),
        r"golden_o\.json: cases: expected a list of cases \(\[\[cases\]\]\), got a table",
    ),
    "a case a text": (
        "golden_c.json",
        json.dumps({**GOLDEN_JSON, "cases": ["A"]}).encode(),
        r"golden_c\.json: cases\[0\]: expected a table \(an object\), got a text",
    ),
    "an id a number": (
        "golden_i.json",
        json.dumps({**GOLDEN_JSON, "cases": [{"id": 1}, {"id": "A"}]}).encode(),
        r"golden_i\.json: cases\[0\]\.id: expected a non-empty text, got 1",
    ),
    "bad UTF-8": ("golden_u.json", b'{"policy": "caf\xe9"}', r"not UTF-8 text \(byte 15\)"),
    "a byte order mark": (
        "golden_b.json",
        json.dumps(GOLDEN_JSON).encode("utf-8-sig"),
        r"golden_b\.json:1: not JSON: ",
    ),
    "deep JSON": (
        "golden_d.json",
        b'{"cases": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        r"golden_d\.json: nested too deep to read",
    ),
    "TOML syntax": (
        "golden_s.toml",
        GOLDEN_TOML.replace("[[cases]]", "[[cases]").encode(),
        r"golden_s\.toml:5: not TOML: ",
    ),
    "TOML cases a number": (
        "golden_k.toml",
        GOLDEN_TOML.split("[[cases]]")[0].encode() + b"cases = 5\n",
        r"golden_k\.toml: cases: expected a list of cases \(\[\[cases\]\]\), got a number",
    ),
    "TOML case a text": (
        "golden_x.toml",
        GOLDEN_TOML.split("[[cases]]")[0].encode() + b'cases = ["A"]\n',
        r"golden_x\.toml: cases\[0\]: expected a table \(an object\), got a text",
    ),
    "TOML without cases": (
        "golden_w.toml",
        GOLDEN_TOML.split("[[cases]]")[0].encode(),
        r"golden_w\.toml: cases: required",
    ),
}


@pytest.mark.parametrize("label", MALFORMED)
def test_golden_update_of_a_malformed_file_is_an_input_error_naming_it(
    tmp_path: Path, label: str
) -> None:
    name, data, message = MALFORMED[label]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=message) as raised:
        update_file(path, UPDATES)
    problem = raised.value.problems[0]
    assert problem.source == str(path)
    assert path.read_bytes() == data  # left as it was


@pytest.mark.parametrize("name", ["golden_a.json", "golden_a.toml"])
def test_golden_update_rewrites_a_well_formed_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = json.dumps(GOLDEN_JSON) if name.endswith(".json") else GOLDEN_TOML
    path.write_text(text, encoding="utf-8")
    assert update_file(path, UPDATES) == ["A"]
    written = path.read_text(encoding="utf-8")
    assert ('"quadrant": "Q3"' if name.endswith(".json") else 'quadrant = "Q3"') in written
    if name.endswith(".toml"):
        assert written.startswith("# the author's comment\n")
    with pytest.raises(InputError, match=r"cases\[B\]: no such case in the file"):
        update_file(path, {"B": {"quadrant": "Q1"}})


@pytest.mark.parametrize(
    ("path", "updates", "message"),
    [
        (42, UPDATES, r"path: expected a file's path, got int"),
        ("golden_a.json", [("A", {})], r"updates: expected a mapping of case ids"),
        ("golden_a.json", {"A": "Q3"}, r"updates\['A'\]: expected a mapping"),
        ("golden_a.json", {"A": {"quadrant": 3}}, r"updates\['A'\]\.quadrant: expected a text"),
        ("golden_a.json", {"A": {"allows": "remind"}}, r"updates\['A'\]\.allows: expected a list"),
    ],
)
def test_golden_update_checks_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any, updates: Any, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("golden_a.json").write_text(json.dumps(GOLDEN_JSON), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        update_file(path, updates)
    assert json.loads(Path("golden_a.json").read_text(encoding="utf-8")) == GOLDEN_JSON


def test_golden_update_that_cannot_write_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "golden_a.json"
    text = json.dumps(GOLDEN_JSON)
    path.write_text(text, encoding="utf-8")

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(pathlib.Path, "write_text", full)
    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    with pytest.raises(OutputError, match="the disk is full") as raised:
        update_file(path, UPDATES)
    assert raised.value.path == path
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"allows": 5}, r"^allows: expected a remedy's name or a list of them, got int 5$"),
        ({"blocks": [1]}, r"^blocks\[0\]: expected a remedy's name, got int 1$"),
        ("A", r"^case: expected a golden case \(a table\), got str 'A'$"),
    ],
)
def test_golden_updated_expectation_of_a_malformed_case_is_an_input_error(
    case: Any, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        updated_expectation(case, _decision())
