"""Hostile case files through ``collectrules batch`` on both engines: the same table and
error file byte for byte, or the same refusal, and only collectrules errors.

Each example is a file one engine once read differently from the other, or refused in
words that did not say what was expected.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("polars")

from collectrules.cli import main  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"
ROW = {
    "case_id": "C-1",
    "product": "credit_card",
    "currency": "CNY",
    "principal": "1000",
    "overdue_amount": "100",
    "due_date": "2026-02-21",
    "timezone": "Asia/Shanghai",
}


def both_engines(tmp_path: Path, source: Path, *extra: str) -> dict[str, tuple[int, bytes, str]]:
    """Per engine: the exit status, the table's bytes and the error file."""
    runs = {}
    for engine in ("per-case", "columnar"):
        out = tmp_path / f"{engine}.parquet"
        code = main(
            ["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine,
             *extra]
        )  # fmt: skip
        errors = tmp_path / f"{engine}.errors.jsonl"
        runs[engine] = (
            code,
            out.read_bytes() if out.exists() else b"",
            errors.read_text(encoding="utf-8") if errors.exists() else "",
        )
    return runs


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Etc/GMT+12", "Pacific/Kiritimati"])
def test_a_due_date_on_the_last_supported_day_is_decided_by_both_engines(
    tmp_path: Path, kind: str, zone: str
) -> None:
    """A due date of 2200-12-31 is a valid case field: the per-case engine decides it.
    The columnar engine asked for the first day overdue (2201-01-01) as if it were an
    ``as_of`` and stopped the whole run with exit status 2, blaming ``as_of``."""
    rows = [dict(ROW), dict(ROW, case_id="C-2", due_date="2200-12-31", timezone=zone)]
    if kind == "csv":
        source = _csv(tmp_path / "cases.csv", rows)
    else:
        source = tmp_path / "cases.parquet"
        pq.write_table(pa.Table.from_pylist(rows), source)
    runs = both_engines(tmp_path, source)
    assert runs["columnar"][0] == runs["per-case"][0] == 0
    assert runs["columnar"][1:] == runs["per-case"][1:]
    assert pq.read_table(tmp_path / "columnar.parquet").num_rows == 2


def _both_refuse_one_row(tmp_path: Path, source: Path) -> list[str]:
    """The error lines both engines write alike for ``source``, a file with bad rows
    (exit status 1)."""
    runs = both_engines(tmp_path, source)
    assert runs["columnar"] == runs["per-case"]
    assert runs["per-case"][0] == 1
    return runs["per-case"][2].splitlines()


GOOD_LINE = "C-1,credit_card,CNY,1000,100,2026-02-21,Asia/Shanghai,"
HEADER = ",".join([*ROW, "signals"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Lines that end in a carriage return alone (an old Mac export): one record.
        (
            f"{HEADER}\r{GOOD_LINE}\r",
            r"invalid CSV: a carriage return (\\r) in an unquoted cell: expected lines that"
            r" end in \\n or \\r\\n, and a \\r within a cell only inside quotes",
        ),
        # A quoted cell never closed: the csv module ended it at the end of the file.
        (
            f'{HEADER}\n{GOOD_LINE}\n"C-2,credit_card,CNY,1000,100,2026-02-21,Asia/Shanghai,\n',
            "invalid CSV: a quoted cell is not closed (the record starts on line 3): expected"
            ' a closing \\" before the end of the file',
        ),
        # A signals cell that is not JSON: the column is named.
        (
            f'{HEADER}\n{GOOD_LINE}\nC-2,credit_card,CNY,1000,100,2026-02-21,Asia/Shanghai," "\n',
            "signals: invalid JSON, column 2 of the cell: Expecting value; expected a JSON"
            " list of objects, or an empty cell",
        ),
        (
            f"{HEADER}\n{GOOD_LINE}\nC-2,credit_card,CNY,1000,100,2026-02-21,Asia/Shanghai,"
            f'"{"[" * 5000}"\n',
            "signals: invalid JSON: nested too deeply; expected a JSON list of objects, or an"
            " empty cell",
        ),
    ],
    ids=["cr-line-ends", "unclosed-quote", "signals-not-json", "signals-too-deep"],
)
def test_a_bad_csv_record_says_what_was_expected(tmp_path: Path, body: str, expected: str) -> None:
    """Before, the first two were the csv module's words ("new-line character seen in
    unquoted field - do you need to open the file in universal-newline mode?", and an
    unclosed quote a row whose case_id held the rest of the file), the last two did not
    name the column ("invalid JSON in a cell, column 2: Expecting value")."""
    source = tmp_path / "cases.csv"
    source.write_bytes(body.encode("utf-8"))
    lines = _both_refuse_one_row(tmp_path, source)
    assert len(lines) == 1
    assert f'"error": "{expected}"' in lines[0], lines[0]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc/self/mem")
def test_a_csv_file_whose_read_fails_is_a_bad_row_on_both_engines(tmp_path: Path) -> None:
    """A CSV file that opens but whose read fails (``/proc/self/mem`` reads EIO at byte 0,
    as a failing disk does): the per-case engine makes it a bad row naming the file;
    the columnar engine's first pass let the ``OSError`` escape, and the command line
    stopped with exit status 3 (``error: input/output error``), as if the outputs could
    not be written, naming no file."""
    folder = tmp_path / "cases"
    folder.mkdir()
    _csv(folder / "a.csv", [ROW])
    (folder / "b.csv").symlink_to("/proc/self/mem")
    runs = both_engines(tmp_path, folder)
    assert runs["columnar"] == runs["per-case"]
    assert runs["per-case"][0] == 1
    (line,) = runs["per-case"][2].splitlines()
    assert '"error": "cannot read the rest of the file: input/output error"' in line
    assert "b.csv" in line
    assert pq.read_table(tmp_path / "columnar.parquet").num_rows == 1


def test_a_flag_column_of_text_names_the_kind_it_holds(tmp_path: Path) -> None:
    """A Parquet ``sicr_rebutted`` column of strings: 'true' is text there, not a
    boolean. Before, the row was refused as ``expected true or false, got 'true'``,
    which reads as a contradiction; now the kind is named, as for other columns."""
    rows = [dict(ROW, sicr_rebutted=None), dict(ROW, case_id="C-2", sicr_rebutted="true")]
    source = tmp_path / "cases.parquet"
    pq.write_table(pa.Table.from_pylist(rows), source)
    lines = _both_refuse_one_row(tmp_path, source)
    assert len(lines) == 1
    assert '"error": "sicr_rebutted: expected true or false, got str \'true\'"' in lines[0]


@pytest.mark.parametrize("encoding", ["idna", "punycode", "undefined"])
def test_an_encoding_that_cannot_read_lines_is_refused_by_name(
    tmp_path: Path, encoding: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--encoding idna`` (which refuses to replace bytes), ``punycode`` (which decodes
    through ASCII whatever is asked) and ``undefined``: each was taken as a text
    encoding, and the run stopped at its first line with exit status 4 (``internal
    error: UnicodeError: Unsupported error handling replace``). Now the option is
    refused before anything is read, with exit status 2."""
    source = _csv(tmp_path / "cases.csv", [ROW])
    out = tmp_path / "d.jsonl"
    code = main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--encoding", encoding])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: --encoding: '{encoding}' cannot read a case file line by line" in err
    assert "internal error" not in err
    assert not out.exists()


@pytest.mark.parametrize("engine", ["per-case", "columnar"])
def test_the_warning_shows_a_column_name_that_would_not_show_as_written(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header written with a space after each comma, and a column named by nothing:
    the warning named them bare (``ignoring columns  product,  currency`` and
    ``ignoring column : not case fields``), the space and the empty name unseen, while
    every row was refused for the fields it then lacks. Now such names are quoted, and
    white space around a case field's name is pointed out."""
    header = "case_id, product,currency,principal,overdue_amount,due_date,timezone,"
    source = tmp_path / "cases.csv"
    source.write_text(f"{header}\nC-1,credit_card,CNY,1000,100,2026-02-21,Asia/Shanghai,x\n")
    out = tmp_path / "d.parquet"
    code = main(["batch", str(source), "--out", str(out), "--as-of", AS_OF, "--engine", engine])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"warning: {source}: ignoring columns ' product', '': not case fields (map them to"
        " case fields with --columns MAP.toml); ' product' is 'product' with white space"
        " around it: a column's name is read as written"
    ) in err, err


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nesting_has_one_limit_on_every_python(opening: str) -> None:
    """Python's decoder stops at its recursion limit on 3.11 and 3.12 but reads far
    deeper on 3.13, where a cell of 5,000 ``[`` was "Expecting value" instead of
    "nested too deeply": the reader now holds every version to one figure."""
    from collectrules import _json

    closing = "]" if opening == "[" else "}"

    def nested(depth: int) -> str:
        return opening * depth + "1" + closing * depth

    assert _json.loads(nested(_json.MAX_NESTING)) is not None
    with pytest.raises(RecursionError):
        _json.loads(nested(_json.MAX_NESTING + 1))
    # Brackets inside strings are text, not nesting.
    assert _json.loads(json.dumps(["[" * 5000, "{" * 5000])) == ["[" * 5000, "{" * 5000]
