"""How the command line sets up Polars' allocator, before Polars loads.

Polars allocates with jemalloc, and sets it to hand freed pages back to the system
after half a second (``polars/__init__.py``; it appends this variable to its own
settings, and the last setting of a key wins). A batch allocates and frees about the
same memory for each chunk of 50,000 rows, so those pages are faulted in again and
again: measured on a million rows, 3.3 s of system time in one process (1.7 s with
the pages kept) and 5.6 s in a worker process (2.8 s kept), and a run about 1.5 s
faster with them kept. The command line, an application, therefore tells jemalloc to
keep freed pages for reuse (:data:`ALLOCATOR`), unless the environment already says
otherwise: a process then stays at its largest chunk's memory until it ends. The
library itself never touches the environment; an application that calls it can set
the same variable.

``collectrules batch --low-memory`` asks for the opposite: the least resident memory,
at some cost in time (docs/howto-batch.md, "Speed and memory"). :func:`hand_back_freed_pages`
then sets, before Polars and Arrow load, Polars' jemalloc to hand freed pages back at
once (:data:`LEAN_ALLOCATOR`) and Arrow to allocate from the C library
(:data:`ARROW_POOL_VARIABLE`; Arrow reads it when it first allocates, so setting it
later, or choosing the pool from Python, left the peak where it was: measured, 349
against 275 MiB); and :func:`limit_c_heap` bounds glibc's heap. Measured on a million
Parquet rows through the command line, 2,000 rows a chunk: a peak of 276 MiB with all
three and one chunk decided at a time; with two at a time, 288 MiB with all three, 308
MiB without glibc's fixed mapping threshold, 347 MiB with Polars keeping its pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Sequence

__all__ = [
    "ALLOCATOR",
    "ALLOCATOR_VARIABLE",
    "ARROW_POOL_VARIABLE",
    "LEAN_ALLOCATOR",
    "LOW_MEMORY_FLAG",
    "hand_back_freed_pages",
    "keep_freed_pages",
    "limit_c_heap",
    "set_up",
]

#: jemalloc's settings: freed pages are kept for reuse, never returned to the system.
ALLOCATOR = "dirty_decay_ms:-1,muzzy_decay_ms:-1"

#: The variable that Polars' jemalloc reads when Polars loads.
ALLOCATOR_VARIABLE = "_RJEM_MALLOC_CONF"


def keep_freed_pages() -> None:
    """Set :data:`ALLOCATOR` for Polars loaded from now on (in this process and in the
    worker processes it starts), unless the variable is set. Polars loaded earlier keeps
    its settings."""
    os.environ.setdefault(ALLOCATOR_VARIABLE, ALLOCATOR)


#: jemalloc's settings for the least memory: freed pages go back to the system at once.
LEAN_ALLOCATOR = "dirty_decay_ms:0,muzzy_decay_ms:0"

#: The variable that selects Arrow's memory pool; ``system`` is the C library's heap.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"

#: The command-line flag that asks for the least memory (``collectrules batch``).
LOW_MEMORY_FLAG = "--low-memory"

# glibc's mallopt parameters (malloc.h) and the values set: two heaps for all threads,
# and blocks from 64 KiB up mapped on their own, a fixed threshold. glibc otherwise
# raises the threshold to the size of each mapped block freed (up to 32 MiB), after
# which the blocks the run keeps replacing (the decided ids' arrays, the chunks' Arrow
# buffers) come from the heap, which keeps their holes.
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
_ARENAS = 2
_MMAP_THRESHOLD = 64 * 1024


def hand_back_freed_pages() -> None:
    """Set, for Polars and Arrow loaded from now on (in this process and the processes
    it starts), the settings of the least memory: :data:`LEAN_ALLOCATOR` and Arrow's
    ``system`` pool, each unless the environment already sets it; then
    :func:`limit_c_heap`."""
    os.environ.setdefault(ALLOCATOR_VARIABLE, LEAN_ALLOCATOR)
    os.environ.setdefault(ARROW_POOL_VARIABLE, "system")
    limit_c_heap()


def limit_c_heap() -> bool:
    """Bound glibc's heap in this process (two arenas, a fixed threshold above which
    blocks are mapped on their own); True if done, False where the C library is not
    glibc (the call then changes nothing)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    taken = [mallopt(_M_ARENA_MAX, _ARENAS), mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)]
    return all(taken)


def set_up(argv: Sequence[str]) -> None:
    """The command line's allocator settings for its arguments ``argv``, before any
    command loads Polars: :func:`hand_back_freed_pages` when they hold
    :data:`LOW_MEMORY_FLAG`, else :func:`keep_freed_pages`."""
    if LOW_MEMORY_FLAG in argv:
        hand_back_freed_pages()
    else:
        keep_freed_pages()
