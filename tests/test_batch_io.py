"""Reading case files for a batch: encodings, bad bytes, line breaks, CSV, directories."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest

from collectrules.errors import InputError
from collectrules.io import MAX_LINE_BYTES, Row, case_files, check_encoding, read_rows


def rows_of(path: Path, **options: Any) -> list[Row]:
    return list(read_rows([path], **options))


def jsonl(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_a_utf8_bom_is_accepted_in_jsonl_and_csv(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(codecs.BOM_UTF8 + jsonl({"case_id": "A"}).encode())
    (tmp_path / "b.csv").write_bytes(codecs.BOM_UTF8 + b"case_id,product\r\nB,loan\r\n")
    rows = list(read_rows([tmp_path]))
    assert [r.data for r in rows] == [{"case_id": "A"}, {"case_id": "B", "product": "loan"}]
    assert [r.where for r in rows] == [f"{tmp_path / 'a.jsonl'}:1", f"{tmp_path / 'b.csv'}:2"]


def test_u2028_and_u2029_inside_a_string_are_data(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(jsonl({"case_id": "A", "note": "x\u2028y\u2029z\x85w"}, {"case_id": "B"}))
    rows = rows_of(path)
    assert [r.line for r in rows] == [1, 2]
    assert rows[0].data == {"case_id": "A", "note": "x\u2028y\u2029z\x85w"}


def test_an_undecodable_byte_spoils_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"case_id": "A"}\n{"case_id": "\xff"}\n{"case_id": "C"}\n')
    rows = rows_of(path)
    assert [r.data for r in rows] == [{"case_id": "A"}, None, {"case_id": "C"}]
    assert rows[1].error is not None
    assert rows[1].where == f"{path}:2"
    assert "bytes not valid utf-8 at byte 14" in str(rows[1].error)


@pytest.mark.parametrize("encoding", ["gbk", "GBK", "gb18030", "GB18030"])
def test_gbk_and_gb18030_by_name(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "cn.jsonl"
    path.write_bytes(jsonl({"case_id": "借款人-1", "note": "失联"}).encode("gbk"))
    assert rows_of(path, encoding=encoding)[0].data == {"case_id": "借款人-1", "note": "失联"}
    wrong = rows_of(path)
    assert wrong[0].data is None
    assert "bytes not valid utf-8" in str(wrong[0].error)


def test_gbk_csv_with_a_quoted_multiline_cell(tmp_path: Path) -> None:
    path = tmp_path / "cn.csv"
    text = 'case_id,note\r\n甲,"第一行\n第二行"\r\n乙,好\r\n'
    path.write_bytes(text.encode("gb18030"))
    rows = rows_of(path, encoding="gb18030")
    assert [r.data for r in rows] == [
        {"case_id": "甲", "note": "第一行\n第二行"},
        {"case_id": "乙", "note": "好"},
    ]
    assert [r.line for r in rows] == [2, 4]


def test_utf16_needs_its_name_and_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    path.write_bytes(jsonl({"case_id": "A"}, {"case_id": "中"}).encode("utf-16"))
    assert [r.data for r in rows_of(path, encoding="utf-16")] == [
        {"case_id": "A"},
        {"case_id": "中"},
    ]
    wrong = rows_of(path)
    assert len(wrong) >= 2
    assert all(r.data is None for r in wrong)
    for row in wrong:
        assert "starts with a UTF-16 byte order mark" in str(row.error)
        assert "--encoding utf-16" in str(row.error)


def test_bad_bytes_in_a_csv_record_spoil_that_record_only(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"case_id,note\nA,ok\nB,\xff\xfe\nC,fine\n")
    rows = rows_of(path)
    assert [r.data for r in rows] == [
        {"case_id": "A", "note": "ok"},
        None,
        {"case_id": "C", "note": "fine"},
    ]
    assert rows[1].line == 3


def test_a_csv_row_with_more_values_than_the_header_is_bad(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("case_id,note\nA,1,2\nB,2\n")
    rows = rows_of(path)
    assert rows[0].data is None
    assert "3 values but the header names 2 columns" in str(rows[0].error)
    assert rows[1].data == {"case_id": "B", "note": "2"}


def test_invalid_json_and_deep_nesting_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    huge_int = "1" * 5000
    path.write_text(f'{{"a": 1\n{{"x": {deep}}}\n{{"n": {huge_int}}}\n[1]\n{{"ok": 1}}\n')
    rows = rows_of(path)
    assert [r.data for r in rows] == [None, None, None, None, {"ok": 1}]
    assert "invalid JSON" in str(rows[0].error)
    assert "expected a JSON object, got list" in str(rows[3].error)


def test_an_overlong_line_is_a_bad_row_not_a_memory_spike(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("wb") as fh:
        fh.write(b'{"case_id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
        fh.write(b'{"case_id": "after"}\n')
    rows = rows_of(path)
    assert rows[0].data is None
    assert "line longer than" in str(rows[0].error)
    assert rows[1].data == {"case_id": "after"}
    assert rows[1].line == 2


def test_a_json_file_past_its_limit_is_refused_whole_not_read_into_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON file is one document: past the limit it is one bad row saying to use JSON
    Lines, and the files beside it are read."""
    rows = [{"case_id": f"C{i}"} for i in range(20)]
    text = json.dumps(rows)
    monkeypatch.setattr("collectrules.io.reader.MAX_JSON_FILE_BYTES", len(text))
    (tmp_path / "a.json").write_text(text, encoding="utf-8")
    (tmp_path / "b.json").write_text(text + " ", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"case_id": "after"}\n', encoding="utf-8")
    read = rows_of(tmp_path)
    assert [r.data for r in read[:20]] == rows  # at the limit: read
    (big,) = [r for r in read if r.source.endswith("b.json")]
    assert big.data is None
    assert f"the file is larger than {len(text):,} bytes" in str(big.error)
    assert "write its rows as JSON Lines" in str(big.error)
    assert read[-1].data == {"case_id": "after"}


def test_json_lines_in_a_file_named_json_is_one_bad_row_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / "decisions.json"
    path.write_text('{"case_id": "A"}\n{"case_id": "B"}\n', encoding="utf-8")
    (row,) = rows_of(path)
    assert str(row.error) == (
        f"{path}:2: invalid JSON, column 1: Extra data; the file holds a JSON document on"
        " each line: JSON Lines, which are read as such from a file named .jsonl"
    )
    other = tmp_path / "other.json"
    other.write_text('{"case_id": "A"} x', encoding="utf-8")
    (row,) = rows_of(other)
    assert str(row.error) == f"{other}:1: invalid JSON, column 18: Extra data"


def test_a_directory_gives_csv_jsonl_and_json_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("case_id\nB\n")
    (tmp_path / "a.jsonl").write_text(jsonl({"case_id": "A"}))
    (tmp_path / "c.json").write_text(json.dumps([{"case_id": "C0"}, {"case_id": "C1"}]))
    (tmp_path / "notes.txt").write_text("ignored")
    rows = list(read_rows([tmp_path]))
    assert [r.data["case_id"] for r in rows if r.data] == ["A", "B", "C0", "C1"]
    assert rows[-1].where == f"{tmp_path / 'c.json'}[1]"
    assert [p.name for p in case_files([tmp_path])] == ["a.jsonl", "b.csv", "c.json"]


def test_skip_passes_over_rows_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(jsonl(*({"i": i} for i in range(5))))
    (tmp_path / "b.csv").write_text("i\n5\n6\n")
    rows = list(read_rows([tmp_path], skip=4))
    assert [r.data for r in rows] == [{"i": 4}, {"i": "5"}, {"i": "6"}]


def test_case_files_refuses_unusable_input_naming_each_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as info:
        case_files([tmp_path / "missing.jsonl", empty])
    text = str(info.value)
    assert "missing.jsonl: no such file or directory" in text
    assert "a directory without case files" in text


def test_unknown_encodings_are_refused() -> None:
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        check_encoding("klingon")
    with pytest.raises(InputError, match="not a text encoding"):
        check_encoding("zlib_codec")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_wide_encodings_split_on_aligned_newlines_only(tmp_path: Path, encoding: str) -> None:
    # U+0A05 next to U+0100 puts the bytes of a newline across two characters, in LE and BE
    records = [{"case_id": f"C-{i}", "note": "\u0a05\u0100\u0a05" * (i * 5000)} for i in range(5)]
    path = tmp_path / "w.jsonl"
    data = jsonl(*records).encode(encoding)
    if encoding.endswith(("-le", "-be")):
        data = "\ufeff".encode(encoding) + data
    path.write_bytes(data)
    rows = rows_of(path, encoding=encoding)
    assert [r.data for r in rows] == records
    assert [r.line for r in rows] == [1, 2, 3, 4, 5]
