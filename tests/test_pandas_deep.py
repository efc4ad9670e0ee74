"""A pandas DataFrame holding a value nested far past what a case can hold is an
InputError naming the column and row, on both doors: the per-case engine
(``Engine.decide_many``) and the columnar one (``frame.decide``). pyarrow and Polars
convert such values with native recursion: 100,000 levels crashed the process, so each
case runs in a child process, where a crash is a failed test and not a lost worker."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from collectrules import InputError
from collectrules.frame import decide

SCRIPT = """
import pandas as pd
from collectrules import Engine, InputError
from collectrules.frame import decide

value = []
for _ in range({depth}):
    value = [value]
frame = pd.DataFrame(
    {{
        "case_id": ["A", "B"],
        "product": ["loan", "loan"],
        "currency": ["CNY", "CNY"],
        "principal": ["1000", "1000"],
        "overdue_amount": ["100", "100"],
        "due_date": ["2026-05-01", "2026-05-01"],
        "timezone": ["Asia/Shanghai", "Asia/Shanghai"],
        "extra": pd.Series([None, value], dtype=object),
    }}
)
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
    code = SCRIPT.format(depth=depth, door=door)
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
