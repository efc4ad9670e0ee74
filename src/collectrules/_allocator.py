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
"""

from __future__ import annotations

import os

__all__ = ["ALLOCATOR", "ALLOCATOR_VARIABLE", "keep_freed_pages"]

#: jemalloc's settings: freed pages are kept for reuse, never returned to the system.
ALLOCATOR = "dirty_decay_ms:-1,muzzy_decay_ms:-1"

#: The variable that Polars' jemalloc reads when Polars loads.
ALLOCATOR_VARIABLE = "_RJEM_MALLOC_CONF"


def keep_freed_pages() -> None:
    """Set :data:`ALLOCATOR` for Polars loaded from now on (in this process and in the
    worker processes it starts), unless the variable is set. Polars loaded earlier keeps
    its settings."""
    os.environ.setdefault(ALLOCATOR_VARIABLE, ALLOCATOR)
