"""A contact that is next allowed only past the last year an instant may hold
(MAX_YEAR) has no next allowed time: ``Guardrails.next_allowed`` says None, and
``collectrules contact`` prints the blocked verdict, where both raised an error about
an instant of 2201 the caller never gave ("outside the years 1900–2200")."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Guardrails
from collectrules.cli import main
from collectrules.model.case import Case

ZONES = ["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]


def _case(zone: str) -> Case:
    return Case.from_dict(
        {
            "case_id": "C1",
            "product": "loan",
            "currency": "CNY",
            "due_date": "2200-10-10",
            "principal": "10000",
            "overdue_amount": "2500",
            "timezone": zone,
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    minutes=st.integers(0, 3 * 24 * 60),
    channel=st.sampled_from(["phone", "visit", "sms"]),
)
def test_next_allowed_at_the_end_of_the_range_is_an_answer(
    zone: str, minutes: int, channel: str
) -> None:
    end = pendulum.datetime(2200, 12, 31, 23, 59, tz=zone)
    after = end.subtract(minutes=minutes)
    if after.in_timezone("UTC").year > 2200:
        after = pendulum.datetime(2200, 12, 31, 23, 59, tz="UTC").in_timezone(zone)
    found = Guardrails("default").next_allowed(_case(zone), channel, "debtor", after=after)
    if found is not None:
        assert found >= after
        assert found.year <= 2200
        assert found.in_timezone("UTC").year <= 2200


def test_the_contact_command_prints_the_blocked_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(_case("Asia/Shanghai").to_dict()), encoding="utf-8")
    code = main(["contact", str(case), "--channel", "phone", "--at", "2200-12-31T23:00:00+08:00"])
    out, err = capsys.readouterr()
    assert code == 1, err  # blocked, not a usage error
    assert "outside the years" not in out + err
    assert "HOURS" in out  # the verdict, with the rule that blocks
