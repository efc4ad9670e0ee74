"""``collectrules contact``: the verdict, every reason with its citation, the next time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collectrules.cli import main

CASE: dict[str, Any] = {
    "case_id": "CLI-1",
    "product": "loan",
    "currency": "CNY",
    "principal": "100000",
    "overdue_amount": "5000",
    "due_date": "2026-03-31",
    "timezone": "Asia/Shanghai",
    "events": [
        {
            "kind": "contact_attempt",
            "at": "2026-04-03T09:00:00+08:00",
            "outcome": "no_answer",
            "channel": "phone",
        }
    ],
}


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE), encoding="utf-8")
    return path


def write_history(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_blocked_contact_prints_reasons_citations_and_next_time(
    case_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "contact",
        str(case_file),
        "--channel",
        "phone",
        "--party",
        "debtor",
        "--at",
        "2026-04-03T23:00:00+08:00",
        "--policy",
        "cn_bank_loan",
    )
    assert code == 1
    assert "BLOCKED" in out
    assert "CN-HOURS" in out
    assert "CN-CONTACT-HOURS" in out
    assert "next allowed: 2026-04-04T08:00:00+08:00" in out


def test_history_file_is_added_to_the_cases_events(
    case_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = write_history(
        tmp_path,
        *(
            json.dumps(
                {
                    "kind": "contact_attempt",
                    "at": f"2026-04-03T{h}:00:00+08:00",
                    "outcome": "no_answer",
                }
            )
            for h in ("10", "11")
        ),
    )
    code, out, _ = run(
        capsys,
        "contact",
        str(case_file),
        "--channel",
        "phone",
        "--party",
        "family",
        "--at",
        "2026-04-03T13:00:00+08:00",
        "--history",
        str(history),
        "--policy",
        "cn_bank_loan",
        "--format",
        "json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["verdict"]["allowed"] is True
    third = next(r for r in payload["verdict"]["reasons"] if r["rule_id"] == "CN-THIRD-PARTY")
    assert third["effect"] == "condition"
    assert "3 attempts in a row went unanswered" in third["message"]
    assert payload["next_allowed"] == "2026-04-03T13:00:00+08:00"


def test_without_the_history_the_family_must_wait(
    case_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "contact",
        str(case_file),
        "--channel",
        "phone",
        "--party",
        "family",
        "--at",
        "2026-04-03T13:00:00+08:00",
        "--policy",
        "cn_bank_loan",
        "--format",
        "json",
    )
    assert code == 1
    payload = json.loads(out)
    assert payload["next_allowed"] is None
    assert [r["rule_id"] for r in payload["verdict"]["reasons"] if r["effect"] == "block"] == [
        "CN-THIRD-PARTY"
    ]


def test_us_validation_obligation_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {
        **CASE,
        "timezone": "America/New_York",
        "currency": "USD",
        "events": [
            {"kind": "contact_attempt", "at": "2026-07-02T10:00:00-04:00", "outcome": "reached"}
        ],
    }
    path = tmp_path / "us.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(
        capsys,
        "contact",
        str(path),
        "--channel",
        "email",
        "--party",
        "debtor",
        "--at",
        "2026-07-08T10:00:00-04:00",
        "--policy",
        "us_regf",
        "--opt-out",
    )
    assert code == 0
    assert "ALLOWED" in out
    assert "REGF-VALIDATION" in out
    assert "US-REGF-VALIDATION" in out


@pytest.mark.parametrize(
    ("flag", "rule"), [("--no-opt-out", "REGF-OPTOUT"), ("--mentions-suit", "REGF-TIMEBARRED")]
)
def test_the_next_time_is_for_the_same_contact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, rule: str
) -> None:
    data = {
        **CASE,
        "timezone": "America/New_York",
        "currency": "USD",
        "due_date": "2021-01-31",
        "events": [],
    }
    path = tmp_path / "us.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    channel = "email" if flag == "--no-opt-out" else "letter"
    code, out, _ = run(
        capsys,
        "contact",
        str(path),
        "--channel",
        channel,
        "--at",
        "2026-07-08T10:00:00-04:00",
        "--policy",
        "us_regf",
        flag,
        "--format",
        "json",
    )
    assert code == 1
    payload = json.loads(out)
    assert [r["rule_id"] for r in payload["verdict"]["reasons"] if r["effect"] == "block"] == [rule]
    # No later time makes this contact lawful: the command must not offer one.
    assert payload["next_allowed"] is None


def test_default_policy_applies_conduct(
    case_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "contact",
        str(case_file),
        "--channel",
        "phone",
        "--party",
        "employer",
        "--at",
        "2026-04-03T10:00:00+08:00",
    )
    assert code == 0
    assert "G-CONDUCT-THIRD-PARTY" in out
    assert "never disclose the debt" in out


def test_bad_history_line_is_reported_with_its_line(
    case_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = write_history(
        tmp_path, json.dumps({"kind": "contact_attempt", "at": "2026-04-03T10:00:00"})
    )
    code, _, err = run(
        capsys,
        "contact",
        str(case_file),
        "--channel",
        "phone",
        "--at",
        "2026-04-03T13:00:00+08:00",
        "--history",
        str(history),
    )
    assert code == 2
    assert "events.jsonl:1" in err
    assert "naive datetime" in err


def test_unknown_channel_is_one_line_error(
    case_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "contact", str(case_file), "--channel", "fone", "--at", "2026-04-03T13:00:00+08:00"
    )
    assert code == 2
    assert "did you mean 'phone'" in err
