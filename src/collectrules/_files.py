"""Reading a small file a caller names: a policy, a team, a column map, a calendar
schedule, a golden file.

Such a file is read whole, so it must be a regular file of bounded size. A device
(``/dev/zero`` never ends), a FIFO (opening one blocks until a writer comes), a socket or
a directory is refused before it is read; the file is opened without blocking and
checked again once open (it may have been swapped since), and no more than ``limit``
bytes and one are read, whatever size the file system gave (``/proc`` files say 0).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = [
    "MAX_GOLDEN_BYTES",
    "MAX_SMALL_FILE_BYTES",
    "UnreadableFile",
    "read_small_file",
    "strerror",
]

#: The largest team file, column map or golden case input read, in bytes.
MAX_SMALL_FILE_BYTES = 16 * 1024 * 1024
#: The largest golden file read, in bytes (as a ``.json`` case file).
MAX_GOLDEN_BYTES = 256 * 1024 * 1024


class UnreadableFile(Exception):
    """A file :func:`read_small_file` could not read: ``reason`` says why, in words for
    an error message (``no such file or directory``, ``not a regular file``, ``larger
    than 1,000,000 bytes``); ``too_large`` is true for the last."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def read_small_file(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` of at most ``limit`` bytes, read once.

    Raises :class:`UnreadableFile` for a path the file system refuses (missing, not
    allowed, too long, holding NUL or a lone surrogate no file name holds), a file that
    is not a regular file, one larger than ``limit``, and a read that fails.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableFile(strerror(exc)) from None
    except UnicodeEncodeError:  # a lone surrogate no file name's byte gives
        raise UnreadableFile("the path holds a lone surrogate no file name holds") from None
    except ValueError:  # NUL in the path
        raise UnreadableFile("the path holds a NUL character") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile("not a regular file")
    if info.st_size > limit:
        raise UnreadableFile(f"larger than {limit:,} bytes", too_large=True)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UnreadableFile(strerror(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile("not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(strerror(exc)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile(f"larger than {limit:,} bytes", too_large=True)
    return b"".join(chunks)


def strerror(exc: OSError) -> str:
    """The system's words for ``exc``, in lower case (``no such file or directory``)."""
    return (exc.strerror or type(exc).__name__).lower()
