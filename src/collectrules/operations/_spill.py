"""Sorting in bounded memory: sorted runs spilled to temporary files, then merged.

:class:`SpillSort` takes items one at a time and keeps at most ``run_size`` of them in
memory. When its buffer is full it sorts it and writes it, packed, to an anonymous
temporary file (a *run*); :meth:`SpillSort.drain` merges the runs and the last buffer
with :func:`heapq.merge`, reading each run back a chunk at a time. When ``fan_in`` runs
are on disk they are merged into one, so the number of open files stays bounded too.

The order is exactly that of :func:`sorted` with the same ``key`` on all the items in
the order they were added: each run is sorted stably, the runs are merged in the order
they were written, and :func:`heapq.merge` takes equal keys from the earlier input
first.

The temporary files are created with :func:`tempfile.TemporaryFile`: they have no name
on disk (on POSIX), are read back only by the process that wrote them, and vanish when
closed or when the process ends.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from collectrules.errors import FieldProblem, InputError, OutputError, quote

__all__ = ["DEFAULT_FAN_IN", "DEFAULT_RUN_SIZE", "SpillSort"]

T = TypeVar("T")

#: Items held in memory before a sorted run is written out.
DEFAULT_RUN_SIZE = 20_000
#: Runs on disk before they are merged into one.
DEFAULT_FAN_IN = 64
#: Items written (and read back) per pickle record.
_CHUNK = 512


class SpillSort(Generic[T]):
    """Sort items by ``key`` holding at most ``run_size`` of them in memory.

    ``pack`` turns an item into something :mod:`pickle` writes (by default the item);
    ``unpack`` turns it back. ``directory`` is where the temporary runs go (by default
    the system's temporary directory). Add items with :meth:`add`, then iterate
    :meth:`drain` once.
    """

    def __init__(
        self,
        key: Callable[[T], Any],
        *,
        run_size: int = DEFAULT_RUN_SIZE,
        fan_in: int = DEFAULT_FAN_IN,
        pack: Callable[[T], Any] | None = None,
        unpack: Callable[[Any], T] | None = None,
        directory: str | Path | None = None,
    ) -> None:
        for name, value, least in (("run_size", run_size, 1), ("fan_in", fan_in, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                msg = f"expected a whole number of at least {least}, got {quote(value)}"
                raise InputError([FieldProblem(name, msg)])
        self._key = key
        self._run_size = run_size
        self._fan_in = fan_in
        self._pack: Callable[[T], Any] = pack if pack is not None else _same
        self._unpack: Callable[[Any], T] = unpack if unpack is not None else _same
        self._directory = None if directory is None else str(directory)
        self._buffer: list[T] = []
        self._runs: list[IO[bytes]] = []
        self._count = 0
        self._written = 0
        self._drained = False

    def __len__(self) -> int:
        return self._count

    @property
    def runs_written(self) -> int:
        """How many sorted runs were written to disk so far (merges included)."""
        return self._written

    def add(self, item: T) -> None:
        """Add ``item``; a full buffer is sorted and written out as a run."""
        if self._drained:
            raise InputError([FieldProblem("items", "the sort was already drained")])
        self._buffer.append(item)
        self._count += 1
        if len(self._buffer) >= self._run_size:
            self._buffer.sort(key=self._key)
            self._runs.append(self._write(self._buffer))
            self._buffer = []
            if len(self._runs) >= self._fan_in:
                merged = self._write(heapq.merge(*map(self._read, self._runs), key=self._key))
                self._close(self._runs)
                self._runs = [merged]

    def drain(self) -> Iterator[T]:
        """Every item added, in order of ``key``; the runs are closed at the end."""
        if self._drained:
            raise InputError([FieldProblem("items", "the sort was already drained")])
        self._drained = True
        self._buffer.sort(key=self._key)
        last, self._buffer = self._buffer, []
        runs, self._runs = self._runs, []
        try:
            yield from heapq.merge(*map(self._read, runs), iter(last), key=self._key)
        finally:
            self._close(runs)

    def _write(self, items: Iterable[T]) -> IO[bytes]:
        """A run holding ``items``, read from its start. A run that cannot be written (a
        full disk, a folder that is gone) is an :class:`OutputError` naming the folder."""
        try:
            run = tempfile.TemporaryFile(dir=self._directory)  # noqa: SIM115 - closed in _close
        except OSError as exc:
            raise OutputError(self._folder(), exc) from None
        try:
            packed = map(self._pack, items)
            while chunk := list(itertools.islice(packed, _CHUNK)):
                pickle.dump(chunk, run, protocol=pickle.HIGHEST_PROTOCOL)
            run.flush()
            run.seek(0)
        except OSError as exc:
            with contextlib.suppress(OSError):  # closing flushes what could not be written
                run.close()
            raise OutputError(self._folder(), exc) from None
        self._written += 1
        return run

    def _read(self, run: IO[bytes]) -> Iterator[T]:
        unpack = self._unpack
        while True:
            try:
                chunk = pickle.load(run)
            except EOFError:
                return
            except OSError as exc:  # a run that cannot be read back (EIO)
                raise OutputError(self._folder(), exc) from None
            for packed in chunk:
                yield unpack(packed)

    def _folder(self) -> str:
        """Where the runs go: ``directory``, or the system's temporary directory."""
        return self._directory if self._directory is not None else tempfile.gettempdir()

    @staticmethod
    def _close(runs: list[IO[bytes]]) -> None:
        for run in runs:
            run.close()


def _same(item: Any) -> Any:
    return item
