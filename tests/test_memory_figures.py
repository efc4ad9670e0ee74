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


#: A fresh process (no other children, whatever the test runner keeps): it holds
#: ``{hold}`` MiB, runs ``{before}`` (text of Python), starts the 200 MiB child inside a
#: ChildPeaks block, and prints the block's largest and together figures (0 for None)
#: and the child's own peak.
_BLOCK = """
import os, subprocess, sys, time
from collectrules._memory import ChildPeaks
held = bytearray({hold} * 2**20); held[::4096] = b"x" * len(held[::4096])
{before}
with ChildPeaks(interval=0.02) as peaks:
{inside}    own = subprocess.run(
        [sys.executable, "-c", {holder!r}], capture_output=True, text=True, check=True
    ).stdout
print(round(peaks.largest or 0), round(peaks.together or 0), own.strip())
"""


def _block(hold: int = 1, before: str = "", inside: str = "") -> tuple[int, int, int]:
    """The largest, together and own figures of :data:`_BLOCK` (see there)."""
    code = _BLOCK.format(hold=hold, before=before, inside=inside, holder=_HOLDER)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    largest, together, own = (int(n) for n in done.stdout.split())
    return largest, together, own


def test_child_peaks_follow_the_children_of_a_block() -> None:
    largest, together, own = _block()
    assert MIB <= largest <= own + 1
    assert together >= largest


def test_child_peaks_leave_out_the_children_running_before_the_block() -> None:
    """A child already running (a Java gateway, a pool's worker), here one larger than
    the child the block starts, is not the block's."""
    running = (
        "big = subprocess.Popen([sys.executable, '-c', \"import sys; h = bytearray(320 * 2**20);"
        " h[::4096] = b'x' * len(h[::4096]); print('ready', flush=True); sys.stdin.read()\"],"
        " stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)\n"
        "assert big.stdout.readline().strip() == 'ready'"
    )
    largest, _, own = _block(before=running)
    assert MIB <= largest <= own + 1


def test_child_peaks_leave_out_a_child_before_it_runs_a_program_of_its_own() -> None:
    """A forked child that has not started a program of its own holds its parent's
    figures (here, 400 MiB): not counted, while the 200 MiB child the block starts is."""
    fork = (
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        time.sleep(0.3)\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
    )
    largest, _, own = _block(hold=400, inside=fork)
    assert MIB <= largest <= own + 1


def test_child_peaks_without_children_are_none() -> None:
    with ChildPeaks(interval=0.01) as peaks:
        pass
    assert peaks.largest is None
    assert peaks.together is None
