"""A pandas DataFrame holding a value nested far past what a case can hold (or one list
held in a cell a billion times over) is an
InputError naming the column and row, on both doors: the per-case engine
(``Engine.decide_many``) and the columnar one (``frame.decide``). pyarrow and Polars
convert such values with native recursion: 100,000 levels crashed the process, so each
case runs in a child process, where a crash is a failed test and not a lost worker."""

from __future__ import annotations

import signal
import subprocess
import sys

import pandas as pd
import pytest

from collectrules import InputError
from collectrules.frame import decide
from helpers import case_dict

#: The start of each child's script: ``two_cases(column, first, second)``, a frame of
#: two loans whose ``column`` holds ``first`` and ``second``.
TWO_CASES = """
import pandas as pd
from collectrules import Engine, InputError
from collectrules.frame import decide

def two_cases(column, first, second):
    return pd.DataFrame(
        {
            "case_id": ["A", "B"],
            "product": ["loan", "loan"],
            "currency": ["CNY", "CNY"],
            "principal": ["1000", "1000"],
            "overdue_amount": ["100", "100"],
            "due_date": ["2026-05-01", "2026-05-01"],
            "timezone": ["Asia/Shanghai", "Asia/Shanghai"],
            column: pd.Series([first, second], dtype=object),
        }
    )
"""

SCRIPT = """

value = []
for _ in range({depth}):
    value = [value]
frame = two_cases("extra", None, value)
as_of = "2026-06-30T12:00:00+08:00"
if "{door}" == "per-case":
    engine = Engine("default", backend="python")
    try:
        list(engine.decide_many(frame, as_of=as_of))
    except InputError as exc:
        print(exc.paths, str(exc))
else:
    try:
        decide(frame, policy="default", as_of=as_of)
    except InputError as exc:
        print(exc.paths, str(exc))
"""


@pytest.mark.parametrize("door", ["per-case", "columnar"])
@pytest.mark.parametrize("depth", [3_000, 100_000])
def test_a_value_nested_past_the_limit_is_an_input_error(door: str, depth: int) -> None:
    code = TWO_CASES + SCRIPT.format(depth=depth, door=door)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "('rows.extra',)" in done.stdout or "('cases.extra',)" in done.stdout, done.stdout
    assert "nested more than 64 levels deep (row 1)" in done.stdout


def test_a_pandas_integer_past_64_bits_is_an_input_error_on_the_columnar_door() -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["A"],
            "product": ["loan"],
            "currency": ["CNY"],
            "principal": pd.Series([10**30], dtype=object),
            "overdue_amount": ["100"],
            "due_date": ["2026-05-01"],
            "timezone": ["Asia/Shanghai"],
        }
    )
    with pytest.raises(InputError) as info:
        decide(frame, policy="default", as_of="2026-06-30T12:00:00+08:00")
    assert info.value.paths == ("cases.principal",)
    assert "past 64 bits" in str(info.value)


SHARED_SCRIPT = """
import resource

# a child process: a billion numbers copied would end it at 2 GiB, not hang the suite
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
shared = [[[1] * 1000] * 1000] * 1000  # a few kilobytes; a billion numbers by place
frame = two_cases("signals", [], shared)
as_of = "2026-06-30T12:00:00+08:00"
try:
    if "{door}" == "per-case":
        list(Engine("default", backend="python").decide_many(frame, as_of=as_of))
    else:
        decide(frame, policy="default", as_of=as_of)
except InputError as exc:
    print(exc.paths, str(exc))
"""


@pytest.mark.parametrize("door", ["per-case", "columnar"])
def test_a_list_held_many_times_in_a_cell_is_an_input_error_not_a_billion_copies(
    door: str,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TWO_CASES + SHARED_SCRIPT.format(door=door)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "('rows.signals',)" in done.stdout or "('cases.signals',)" in done.stdout, done.stdout
    assert "holding more than 100,000 values (row 1" in done.stdout


def test_a_case_holding_one_list_in_many_places_is_checked_in_bounded_time() -> None:
    # check_nesting walks a list held in several places once per greater depth, not
    # once per place: a billion places by path, some three thousand lists and numbers
    from collectrules import Case
    from collectrules.model.limits import check_nesting

    shared = [[[1] * 1000] * 1000] * 1000
    row = case_dict(signals=shared)

    def too_long(signum: int, frame: object) -> None:
        raise TimeoutError("took more than 5 s")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(5)
    try:
        assert check_nesting(row) == []  # 4 levels: within the limit
        with pytest.raises(InputError) as info:
            Case.from_dict(row)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert info.value.paths[0] == "signals[0]"
    deep = [shared]  # one level more: past the limit, found from the first place
    assert check_nesting({"signals": deep})[0][1] == "nested deeper than 4 levels"
