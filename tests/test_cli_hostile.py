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
