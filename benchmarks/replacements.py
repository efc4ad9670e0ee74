"""Figures behind the decisions on hand-written code that a library could replace.

Run ``python benchmarks/replacements.py``. It prints, for each candidate, what the
project's code does, what the library does, how fast each is and whether they agree:

* business days: :class:`~collectrules.calendars.BusinessCalendar` against the
  ``holidays`` package's own helpers and numpy's ``busday_offset``;
* policy diffs: :func:`~collectrules.authoring.changes.diff_policies` on the shipped
  policies (how long a diff takes, and how much of it is the generic comparison);
* positions in a policy file: whether ``tomllib`` or ``tomlkit`` report a key's line.

Nothing here is a test: it prints figures for people to judge.
"""

from __future__ import annotations

import datetime as dt
import inspect
import timeit
import tomllib

import holidays
import tomlkit

from collectrules.authoring import changes
from collectrules.calendars import BusinessCalendar
from collectrules.policy import load_policy


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def business_days() -> None:
    print("== business days (CN, 2026)")
    cal = BusinessCalendar("CN")
    source = holidays.country_holidays("CN", language="en_US")
    start = dt.date(2026, 1, 5)
    end = dt.date(2026, 12, 31)
    n = 2000
    ours_add = timeit.timeit(lambda: cal.add_working_days(start, 30), number=n) / n
    theirs_add = timeit.timeit(lambda: source.get_nth_working_day(start, 30), number=n) / n
    ours_count = timeit.timeit(lambda: cal.working_days_between(start, end), number=200) / 200
    theirs_count = (
        timeit.timeit(
            lambda: source.get_working_days_count(start, end - dt.timedelta(days=1)), number=200
        )
        / 200
    )
    print(f"  add 30 working days:      ours {_us(ours_add)}, holidays {_us(theirs_add)}")
    print(f"  working days in the year: ours {_us(ours_count)}, holidays {_us(theirs_count)}")
    mismatches = 0
    for offset in range(365):
        day = start + dt.timedelta(days=offset)
        if not cal.is_working_day(day):
            continue
        for count in (1, 5, 15, 30):
            mismatches += cal.add_working_days(day, count) != source.get_nth_working_day(day, count)
    print(f"  disagreements on 2026 starts x (1, 5, 15, 30) days: {mismatches}")
    helper = inspect.getsource(type(source).get_nth_working_day)
    print(
        "  the package's helper steps one day at a time too:",
        "for _ in range" in helper and "while not self.is_working_day" in helper,
    )
    made = [
        d
        for d in (start + dt.timedelta(days=i) for i in range(365))
        if d.weekday() >= 5 and cal.is_working_day(d)
    ]
    print(f"  weekend days made working days (a weekmask cannot say so): {len(made)}")
    try:
        import numpy as np
    except ImportError:
        print("  numpy: not installed")
        return
    off = [
        d
        for d in (start + dt.timedelta(days=i) for i in range(800))
        if d.weekday() < 5 and not cal.is_working_day(d)
    ]
    busday = (
        timeit.timeit(lambda: np.busday_offset(start, 30, roll="forward", holidays=off), number=n)
        / n
    )
    wrong = 0
    for offset in range(365):
        day = start + dt.timedelta(days=offset)
        if cal.is_working_day(day):
            got = np.busday_offset(day, 30, roll="forward", holidays=off).astype(dt.date)
            wrong += got != cal.add_working_days(day, 30)
    print(f"  numpy busday_offset 30 days: {_us(busday)}, disagreements: {wrong} of 2026's starts")


def policy_diffs() -> None:
    print("== policy diffs")
    default, uk = load_policy("default"), load_policy("uk")
    n = 50
    took = timeit.timeit(lambda: changes.diff_policies(default, uk), number=n) / n
    diff = changes.diff_policies(default, uk)
    print(f"  diff default -> uk: {len(diff.changes)} changes in {took * 1e3:.2f} ms")
    generic = sum(
        len(inspect.getsource(f).splitlines()) for f in (changes._fields, changes._compare)
    )
    print(f"  lines of the generic comparison (_fields, _compare): {generic}")


def positions() -> None:
    print("== positions in a policy file")
    text = '[parameters.dpd_short]\nvalue = 30\ncites = ["Q2-SHORT"]\n'
    parsed = tomllib.loads(text)
    print("  tomllib gives plain dicts:", type(parsed["parameters"]).__name__)
    item = tomlkit.parse(text)["parameters"]["dpd_short"]
    has_line = any(hasattr(item, a) for a in ("line", "lineno", "position", "span"))
    print("  tomlkit items carry a line:", has_line)
    try:
        tomlkit.parse("a = \n")
    except tomlkit.exceptions.ParseError as exc:
        print("  tomlkit gives a line for a syntax error only:", exc.line)


if __name__ == "__main__":
    business_days()
    policy_diffs()
    positions()
