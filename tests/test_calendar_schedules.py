"""Calendars say what they do not know: known years, warnings beyond them, a lender's own
schedule file, and holiday names that do not depend on the process locale."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import holidays
import pytest

from collectrules import BusinessCalendar, InputError, PolicyError, load_policy
from collectrules.calendars import BeyondKnown, CalendarSchedule
from timeline_helpers import at, loan, stage, with_plan

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "calendars" / "cn_2027.toml"
D = dt.date


def _package_cn_years() -> frozenset[int]:
    """What the installed holidays package has decrees for, read here independently."""
    decreed = holidays.country_holidays("CN").special_public_holidays
    return frozenset(range(min(decreed), max(decreed) + 1))


# --------------------------------------------------------------------------- known years


def test_cn_knows_the_years_the_package_has_decrees_for() -> None:
    cal = BusinessCalendar("CN")
    assert cal.known_years == _package_cn_years()
    # holidays 0.109, the version pinned when this was written, has 2001–2026.
    if holidays.__version__ == "0.109":
        assert (min(cal.known_years), max(cal.known_years)) == (2001, 2026)
    last = max(_package_cn_years())
    assert cal.is_known_year(last)
    assert not cal.is_known_year(last + 1)


def test_a_calendar_by_standing_rule_knows_every_year() -> None:
    us = BusinessCalendar("US")
    assert us.known_years is None
    assert us.is_known_year(2150)


def test_a_business_day_step_in_an_unpublished_year_carries_a_warning() -> None:
    last = max(_package_cn_years())
    policy = with_plan(stage(id="B-5", within="5 business days"))
    case = loan(due_date=f"{last}-12-28")
    tl = policy_timeline(case, f"{last + 1}-01-02 10:00", policy)
    step = tl.step("B-5")
    assert step.due_at is not None
    assert step.due_at.year == last + 1
    expected = f"calendar CN for {last + 1} not published; computed by rule (B-5"
    assert any(w.startswith(expected) for w in tl.calendar_warnings), tl.calendar_warnings
    assert tl.to_dict()["calendar_warnings"] == list(tl.calendar_warnings)
    assert tl.warnings[: len(tl.calendar_warnings)] == tl.calendar_warnings


def test_legal_deadlines_in_unpublished_years_carry_a_warning() -> None:
    tl = policy_timeline(loan(), "2026-04-10 12:00", with_plan(stage()))
    limitation = tl.deadline("limitation")
    assert limitation.nominal_last_day.year == 2029
    assert "calendar CN for 2029 not published; computed by rule (legal deadlines)" in (
        tl.calendar_warnings
    )


def test_without_warnings_the_timeline_json_has_no_warnings_key() -> None:
    policy = with_plan(stage(id="S-1", within="3 days"), deadlines={
        "limitation": {"enabled": False},
        "guarantee": {"enabled": False},
        "enforcement": {"enabled": False},
    })  # fmt: skip
    tl = policy_timeline(loan(), "2026-04-10 12:00", policy)
    assert tl.calendar_warnings == ()
    assert "calendar_warnings" not in tl.to_dict()


def test_beyond_known_error_refuses_an_unpublished_year() -> None:
    cal = BusinessCalendar("CN", beyond_known="error")
    assert cal.is_working_day(D(2026, 2, 14))
    with pytest.raises(InputError, match="calendar for 2027 not published") as info:
        cal.is_working_day(D(2027, 3, 1))
    assert info.value.paths == ("timeline.calendar",)
    policy = with_plan(
        stage(id="B-5", within="5 business days"),
        calendar={"country": "CN", "beyond_known": "error"},
    )
    with pytest.raises(InputError, match="calendar for 2027 not published"):
        policy_timeline(loan(due_date="2026-12-28"), "2027-01-02 10:00", policy)


def test_beyond_known_is_checked_at_load() -> None:
    with pytest.raises(PolicyError, match="beyond_known: expected 'rule' or 'error'"):
        with_plan(stage(), calendar={"country": "CN", "beyond_known": "guess"})
    assert BusinessCalendar("CN").beyond_known is BeyondKnown.RULE


# --------------------------------------------------------------------------- schedules


def test_a_schedule_file_makes_its_years_known_and_wins_over_the_rule() -> None:
    schedule = CalendarSchedule.load(FIXTURE)
    assert schedule.years == frozenset({2027})
    by_rule = BusinessCalendar("CN")
    official = BusinessCalendar("CN", schedules=[schedule])
    assert 2027 in official.known_years  # type: ignore[operator]
    assert 2027 not in by_rule.known_years  # type: ignore[operator]
    # A Sunday made a working day, and a Friday off, that the rule cannot know.
    assert not by_rule.is_working_day(D(2027, 2, 14))
    assert official.is_working_day(D(2027, 2, 14))
    assert by_rule.is_working_day(D(2027, 2, 12))
    assert not official.is_working_day(D(2027, 2, 12))
    assert official.holiday_name(D(2027, 2, 8)) == "Spring Festival"
    assert official.holiday_name(D(2027, 2, 9)) == "holiday (schedule)"
    assert official.holiday_name(D(2027, 2, 15)) is None
    # Other years still come from the package.
    assert official.is_working_day(D(2026, 2, 14))


def test_a_policy_names_its_schedule_file_beside_it(tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "cn_2027.toml")
    path = tmp_path / "lender.toml"
    path.write_text(
        'extends = "default"\nid = "lender"\nversion = "1"\n\n'
        '[timeline.calendar]\ncountry = "CN"\nschedule = "cn_2027.toml"\n',
        encoding="utf-8",
    )
    policy = load_policy(path)
    section = policy.sections["timeline"]
    assert section.calendar.schedules[0].years == frozenset({2027})  # type: ignore[attr-defined]
    tl = policy_timeline(loan(due_date="2026-12-28"), "2027-01-05 10:00", policy)
    assert not any("2027" in w for w in tl.calendar_warnings)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../cn_2027.toml", "inside the policy file's folder"),
        ("/etc/passwd", "inside the policy file's folder"),
        ("link.toml", "leads outside the policy file's folder"),
        ("missing.toml", "cannot read: no such file or directory"),
        ("bad.toml", "TOML syntax error"),
        ("deep.toml", "nested too deeply"),
        ("long.toml", "more digits than"),
        ("gbk.toml", "not UTF-8"),
        ("stray.toml", "2028-01-01 is not in the years covered"),
        ("cn\\u0000.toml", "or a NUL character"),
        ("x" * 300 + ".toml", "cannot read"),
    ],
)
def test_a_bad_schedule_file_is_a_policy_error(tmp_path: Path, name: str, message: str) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(FIXTURE, tmp_path / "cn_2027.toml")
    (folder / "link.toml").symlink_to(tmp_path / "cn_2027.toml")
    (folder / "bad.toml").write_text("years = [2027", encoding="utf-8")
    (folder / "deep.toml").write_text("years = " + "[" * 5_000 + "]" * 5_000, encoding="utf-8")
    (folder / "long.toml").write_text("years = [1" + "0" * 5_000 + "]", encoding="utf-8")
    (folder / "gbk.toml").write_bytes('country = "CN"  # 春节\n'.encode("gbk"))
    (folder / "stray.toml").write_text(
        'country = "CN"\nyears = [2027]\nholidays = [2028-01-01]\n', encoding="utf-8"
    )
    path = folder / "lender.toml"
    path.write_text(
        'extends = "default"\nid = "lender"\nversion = "1"\n\n'
        f'[timeline.calendar]\ncountry = "CN"\nschedule = "{name}"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"timeline\.calendar\.schedule") as info:
        load_policy(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"country": "CN", "years": []}, "expected a list of the years covered"),
        ({"country": "CN", "years": [3000]}, "1900 to 2200"),
        ({"country": "china", "years": [2027]}, "expected a country code"),
        ({"country": "CN", "years": [2027], "holidays": ["2027-13-01"]}, "YYYY-MM-DD"),
        ({"country": "CN", "years": [2027], "extra": 1}, "unknown key"),
        (
            {
                "country": "CN",
                "years": [2027],
                "holidays": ["2027-02-14"],
                "working_days": ["2027-02-14"],
            },
            "both as a holiday and as a working day",
        ),
    ],
)
def test_schedule_data_is_checked(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        CalendarSchedule.from_dict(data)


def test_a_schedule_of_another_country_is_refused() -> None:
    schedule = CalendarSchedule.from_dict({"country": "HK", "years": [2027]})
    with pytest.raises(InputError, match="a schedule for HK cannot serve the calendar of CN"):
        BusinessCalendar("CN", schedules=[schedule])


# --------------------------------------------------------------------------- locale


_NAMES = """
import datetime as dt, json
from collectrules import BusinessCalendar
print(json.dumps([
    BusinessCalendar("CN").holiday_name(dt.date(2026, 10, 1)),
    BusinessCalendar("US").holiday_name(dt.date(2026, 7, 4)),
    BusinessCalendar("CN", language="zh_CN").holiday_name(dt.date(2026, 10, 1)),
], ensure_ascii=False))
"""

_TIMELINE = """
import sys
sys.path.insert(0, "tests")
from timeline_helpers import loan, event
from collectrules import Engine
case = loan(event("contact_attempt", "2026-04-01 09:00", outcome="no_answer"),
            event("promise_made", "2026-04-02 10:00", promised_date="2026-04-20", amount="500"))
engine = Engine("default", backend="python")
sys.stdout.write(engine.timeline(case, as_of="2026-12-28T10:00:00+08:00").to_json())
sys.stdout.write(engine.decide(case, as_of="2026-12-28T10:00:00+08:00").to_json())
"""


def _run(code: str, lang: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_"))}
    env.update({"LANG": lang, "LC_ALL": lang, "LANGUAGE": lang.split(".")[0]})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "th_TH.UTF-8", "en_US.UTF-8"])
def test_holiday_names_do_not_depend_on_the_process_locale(lang: str) -> None:
    names = json.loads(_run(_NAMES, "C"))
    assert names == ["National Day", "Independence Day", "国庆节"]
    assert _run(_NAMES, lang) == _run(_NAMES, "C")


def test_a_timeline_is_the_same_bytes_under_a_chinese_locale() -> None:
    chinese = _run(_TIMELINE, "zh_CN.UTF-8")
    assert b'"calendar_warnings"' in chinese
    assert chinese == _run(_TIMELINE, "C")


def policy_timeline(case: Any, when: str, policy: Any) -> Any:
    from collectrules import build_timeline

    return build_timeline(case, as_of=at(when), policy=policy)
