"""What the command line prints never acts on the terminal: the control characters and
bidirectional marks of a case id or a policy's text are written as escapes, in the
tables, the text and the JSON it prints (which stays the same JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectrules.cli import main
from collectrules.cli._common import shown
from helpers import AS_OF, case_dict

HOSTILE_ID = "A\x1b[31mRED\x1b]0;title\x07\u202eX\x9b\x00"


def _acted_on(text: str) -> list[str]:
    """The characters of ``text`` a terminal acts on rather than shows."""
    return [
        c
        for c in text
        if (ord(c) < 0x20 and c not in "\n\t")
        or 0x7F <= ord(c) <= 0x9F
        or c in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    ]


@given(st.text())
def test_shown_text_holds_nothing_a_terminal_acts_on(text: str) -> None:
    once = shown(text)
    assert _acted_on(once) == []
    assert shown(once) == once
    # JSON printed shown is the same JSON
    assert json.loads(shown(json.dumps(text, ensure_ascii=False))) == text


def test_tab_newline_and_letters_are_kept() -> None:
    assert shown("a\tb\nc é 中 😀") == "a\tb\nc é 中 😀"
    assert shown("\x1b[31m\u202e") == "\\u001b[31m\\u202e"


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    rows = [case_dict(case_id=HOSTILE_ID), case_dict(case_id="C-2")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["decide"],
        ["decide", "--format", "json"],
        ["timeline"],
        ["timeline", "--format", "json"],
    ],
    ids=["decide table", "decide json", "timeline text", "timeline json"],
)
def test_a_hostile_case_id_prints_as_escapes(
    cases: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, str(cases), "--as-of", AS_OF])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert _acted_on(out) == []
    assert _acted_on(err) == []
    assert "A\\u001b[31mRED" in out
    if "json" in command:  # a JSON object a line: the same id, read back
        ids = [json.loads(line)["case_id"] for line in out.splitlines()]
        assert ids == [HOSTILE_ID, "C-2"]


def test_a_hostile_policy_title_prints_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "mine.toml"
    policy.write_text(
        'extends = "default"\nid = "mine"\ntitle = "Mine\\u001b]0;pwned\\u0007\\u202e"\n',
        encoding="utf-8",
    )
    code = main(["show", str(policy)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Mine\\u001b]0;pwned\\u0007\\u202e" in out
    assert _acted_on(out) == []
    assert _acted_on(err) == []
