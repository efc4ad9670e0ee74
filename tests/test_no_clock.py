"""Nothing below the command line reads the clock: time is always an input."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "collectrules"
CLOCK = re.compile(
    r"\b(?:pendulum\.now|pendulum\.today|datetime\.now|datetime\.utcnow|date\.today|"
    r"dt\.datetime\.now|dt\.date\.today|time\.time|pendulum\.yesterday|pendulum\.tomorrow)\s*\("
)
ALLOWED = {SRC / "cli", SRC / "bench.py"}


def test_no_clock_reads_below_the_cli() -> None:
    checked = 0
    for path in SRC.rglob("*.py"):
        if any(path == a or a in path.parents for a in ALLOWED):
            continue
        checked += 1
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert not CLOCK.search(line), f"{path.relative_to(SRC)}:{number} reads the clock"
    assert checked > 10


def test_the_pattern_catches_clock_reads() -> None:
    for text in ("x = pendulum.now('UTC')", "datetime.now()", "dt.date.today()", "time.time()"):
        assert CLOCK.search(text)
