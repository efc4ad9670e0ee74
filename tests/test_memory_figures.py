"""The benchmarks' memory figures are each process's own (``collectrules._memory``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collectrules._memory import ChildPeaks, peak_mib, resident_mib

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="Linux's /proc figures"
)

#: A child that holds about ``MIB`` MiB for a moment, then prints its own peak.
MIB = 200
_HOLDER = (
    "import time; from collectrules._memory import peak_mib;"
    f" held = bytearray({MIB} * 2**20); held[::4096] = b'x' * len(held[::4096]);"
    " time.sleep(0.5); print(round(peak_mib()))"
)
_SMALL = "from collectrules._memory import peak_mib; print(round(peak_mib()))"


def _run(code: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return int(done.stdout)


def test_a_child_of_a_large_process_reports_its_own_peak() -> None:
    """``getrusage`` gives a child the resident size its parent had when it forked;
    ``peak_mib`` does not: a small child started by a process holding 400 MiB reports
    well under that."""
    parent = (
        "import subprocess, sys; held = bytearray(400 * 2**20);"
        " held[::4096] = b'x' * len(held[::4096]);"
        f" subprocess.run([sys.executable, '-c', {_SMALL!r}], check=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, check=True, timeout=120
    )
    assert int(done.stdout) < 200


def test_the_peak_covers_what_the_process_held() -> None:
    assert _run(_HOLDER) >= MIB


def test_resident_memory_is_at_most_the_peak() -> None:
    assert 0 < resident_mib() <= peak_mib()


def test_child_peaks_follow_the_children_of_a_block() -> None:
    with ChildPeaks(interval=0.02) as peaks:
        own = _run(_HOLDER)
    assert peaks.largest is not None
    assert peaks.together is not None
    assert MIB <= peaks.largest <= own + 1
    assert peaks.together >= peaks.largest


def test_child_peaks_leave_out_the_children_running_before_the_block() -> None:
    """A child already running (a Java gateway, a pool's worker), here one larger than
    the child the block starts, is not the block's."""
    code = (
        "import sys, time; held = bytearray(320 * 2**20);"
        " held[::4096] = b'x' * len(held[::4096]); print('ready', flush=True);"
        " sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as running:
        assert running.stdout is not None
        assert running.stdout.readline().strip() == "ready"
        try:
            with ChildPeaks(interval=0.02) as peaks:
                own = _run(_HOLDER)
        finally:
            assert running.stdin is not None
            running.stdin.close()
    assert peaks.largest is not None
    assert MIB <= peaks.largest <= own + 1


def test_child_peaks_without_children_are_none() -> None:
    with ChildPeaks(interval=0.01) as peaks:
        pass
    assert peaks.largest is None
    assert peaks.together is None
