"""Resident memory as the benchmarks report it.

A process's ``getrusage`` peak (``ru_maxrss``) is not its own on Linux: a process
started by another carries over the resident size its parent had when it forked
(measured: a child of a 500 MiB process reports 511 MiB, its own peak being 9 MiB).
The benchmarks run their figures in child processes, so they read Linux's own peak,
``VmHWM`` in ``/proc/PID/status``, which belongs to the program the process runs;
elsewhere they fall back on ``getrusage``. :class:`ChildPeaks` follows the worker
processes of a run the same way, sampling them while they live.
"""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["ChildPeaks", "peak_mib", "resident_mib"]

_PROC = Path("/proc")


def _status(pid: int | str) -> dict[str, str] | None:
    """The fields of ``/proc/PID/status``, or None (no such process, not Linux)."""
    try:
        text = (_PROC / str(pid) / "status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def _kib(fields: dict[str, str] | None, name: str) -> int | None:
    """A ``status`` field in KiB (``'1234 kB'``), or None."""
    if fields is None or name not in fields:
        return None
    number = fields[name].split()[0]
    return int(number) if number.isdigit() else None


def _command_line(pid: int | str) -> bytes:
    """The command line of the process ``pid`` (empty when it cannot be read)."""
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _children(me: str) -> dict[str, dict[str, str]]:
    """The ``status`` fields of each child of the process ``me``, by its id."""
    try:
        pids = [p.name for p in _PROC.iterdir() if p.name.isdigit() and p.name != me]
    except OSError:
        return {}
    found: dict[str, dict[str, str]] = {}
    for pid in pids:
        fields = _status(pid)
        if fields is not None and fields.get("PPid") == me:
            found[pid] = fields
    return found


def _own_mib(field: str) -> float:
    """This process's ``status`` figure ``field``, in MiB; ``getrusage``'s peak where
    Linux's figures are not read."""
    kib = _kib(_status("self"), field)
    if kib is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kib / 1024


def resident_mib() -> float:
    """This process's resident memory now, in MiB (its peak where Linux's is not read)."""
    return _own_mib("VmRSS")


def peak_mib() -> float:
    """This process's peak resident memory since its program started, in MiB."""
    return _own_mib("VmHWM")


class ChildPeaks:
    """The peak resident memory of the children this process starts while the ``with``
    block runs, sampled every ``interval`` seconds: ``largest``, the largest peak of one
    child (each child's own ``VmHWM``, read at its last sample), and ``together``, the
    largest sum of this process's and those children's resident memory at one sample.
    Children already running when the block starts (a Java gateway, a pool's workers)
    are not counted, nor is a child while it runs this process's program (forked, before
    it starts its own): its figures are then this process's. Both are None where Linux's
    figures cannot be read, or when no child was seen. Growth in a child's last
    ``interval`` before it ends is not seen."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.largest: float | None = None
        self.together: float | None = None
        self._peaks: dict[str, int] = {}
        self._before: frozenset[str] = frozenset()
        self._program = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="child-peaks", daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._before = frozenset(_children(str(os.getpid())))
        self._program = _command_line("self")
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self._peaks:
            self.largest = max(self._peaks.values()) / 1024

    def _run(self) -> None:
        me = str(os.getpid())
        while True:
            self._sample(me)
            if self._stop.wait(self.interval):
                return

    def _sample(self, me: str) -> None:
        total = _kib(_status(me), "VmRSS")
        if total is None:
            return
        for pid in _children(me):
            # Between fork and exec a child shares (or copies) this process's memory, and
            # its figures are this process's (a forked child of a 400 MiB process showed
            # 405 MiB: tests/test_memory_figures.py). Its figures are read between two
            # reads of its command line that agree and are not this process's: a child
            # that execs between its figures and the check is not taken with this
            # process's peak (seen on a loaded machine: 410 MiB for a 200 MiB child).
            program = _command_line(pid)
            if pid in self._before or program == self._program:
                continue
            fields = _status(pid)
            if fields is None or _command_line(pid) != program:
                continue
            peak, now = _kib(fields, "VmHWM"), _kib(fields, "VmRSS")
            if peak is not None:
                self._peaks[pid] = max(peak, self._peaks.get(pid, 0))
            total += now or 0
        if self._peaks:
            self.together = max(total / 1024, self.together or 0.0)
