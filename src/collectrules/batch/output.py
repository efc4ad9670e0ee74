"""The two output files of a batch, written so that a kill loses no row and repeats none.

A run writes ``OUT.partial`` and ``ERRORS.partial`` next to the outputs, and a progress
file ``OUT.progress``. After each chunk of rows both partial files are flushed and
synced, in that order, and only then is the progress file replaced (atomically, by
rename) with the number of input rows done and the length of each partial file. So
the progress file never claims more than the disk holds:

* a kill before the first checkpoint, or between two, leaves partial files that may
  run past the last checkpoint; ``--resume`` truncates each to the length recorded and
  goes on from the next input row;
* on success the partial files are synced, the progress file is marked ``commit``, the
  partial files are renamed over the outputs, and the progress file is removed. A kill
  during these renames is finished by ``--resume``.

A fresh run removes the previous outputs once its progress file is on disk: a run
that stops early leaves ``*.partial`` files and a progress file, never the previous
run's outputs looking current.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import attrs
import orjson

from collectrules._arguments import require_file_path
from collectrules.errors import FieldProblem, InputError, OutputError, quote

__all__ = ["PROGRESS_VERSION", "BatchFiles", "OutputError", "Progress"]

PROGRESS_VERSION = 1
"""The version of the progress file's format."""


@attrs.frozen
class Progress:
    """A checkpoint: the run it belongs to, input rows done, and the partial files' lengths.

    ``header`` identifies the run (inputs with their sizes and times, encoding, policy
    hash, ``as_of``, error file); ``counts`` holds the summary's tallies so far.
    """

    header: Mapping[str, Any]
    rows: int = 0
    out_bytes: int = 0
    err_bytes: int = 0
    counts: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    phase: str = "running"

    def to_json(self) -> str:
        """The progress file's content."""
        return json.dumps(
            {
                "version": PROGRESS_VERSION,
                "header": dict(self.header),
                "rows": self.rows,
                "out_bytes": self.out_bytes,
                "err_bytes": self.err_bytes,
                "counts": {k: dict(v) for k, v in self.counts.items()},
                "phase": self.phase,
            },
            sort_keys=True,
            # A path's bytes that are not UTF-8 are lone surrogates in Python
            # (surrogateescape): written as \udcxx escapes, they read back as they were.
            ensure_ascii=True,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> Progress:
        """Read a progress file; :class:`InputError` when it is not one, or when its
        figures are not what a run writes: counts that are not whole numbers from 0, a
        phase other than ``running`` or ``commit``, more rows decided than read, or
        partial files too short to hold a line per row."""
        try:
            data = json.loads(text)
            if data.get("version") != PROGRESS_VERSION:
                raise ValueError("unknown version")
            progress = cls(
                header=dict(data["header"]),
                rows=_count(data["rows"], "rows"),
                out_bytes=_count(data["out_bytes"], "out_bytes"),
                err_bytes=_count(data["err_bytes"], "err_bytes"),
                counts={
                    str(k): {str(a): _count(b, f"counts.{k}.{a}") for a, b in v.items()}
                    for k, v in data["counts"].items()
                },
                phase=data["phase"],
            )
            if progress.phase not in PHASES:
                raise ValueError(f"phase: expected one of {PHASES}, got {quote(progress.phase)}")
            decided = progress.decided
            if decided > progress.rows:
                raise ValueError(f"{decided} rows decided, more than the {progress.rows} read")
            bad = progress.rows - decided
            if progress.out_bytes < decided or progress.err_bytes < bad:
                # each decided row is a line of the decisions, each bad row one of the
                # errors: a line is at least its newline
                raise ValueError(
                    f"{progress.out_bytes} and {progress.err_bytes} bytes cannot hold the lines"
                    f" of {decided} decisions and {bad} bad rows"
                )
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            problem = FieldProblem("", f"not a batch progress file ({exc})", source=source)
            raise InputError([problem]) from None
        return progress

    @property
    def decided(self) -> int:
        """The rows decided so far: one line each in the decisions file (the rest of
        :attr:`rows` are bad rows, one line each in the error file)."""
        return sum(self.counts.get("quadrant", {}).values())


#: The phases a progress file records: deciding rows, or publishing the outputs.
PHASES = ("running", "commit")
#: The largest count a progress file may hold (rows, bytes, tallies).
MAX_COUNT = 2**63 - 1


def _count(value: object, name: str) -> int:
    """``value`` when it is a whole number from 0 to :data:`MAX_COUNT`, else ValueError."""
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name}: expected a whole number from 0, got {quote(value)}")
    return value


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BatchFiles:
    """The decisions file, the error file and the progress file of one batch run.

    Open it with :meth:`start` (a fresh run) or :meth:`resume`; :meth:`write` appends
    lines, :meth:`checkpoint` makes them count, :meth:`commit` publishes the outputs.
    Every failure of the file system is raised as :class:`OutputError`.
    """

    def __init__(self, out: Path, errors: Path) -> None:
        self.out = out = require_file_path(out, "out")
        self.errors = errors = require_file_path(errors, "errors")
        self.out_partial = out.with_name(out.name + ".partial")
        self.err_partial = errors.with_name(errors.name + ".partial")
        self.progress_path = out.with_name(out.name + ".progress")
        self._out: BinaryIO | None = None
        self._err: BinaryIO | None = None
        self.out_bytes = 0
        self.err_bytes = 0

    def __repr__(self) -> str:
        return f"BatchFiles({quote(str(self.out))}, {quote(str(self.errors))})"

    # -- opening ------------------------------------------------------------------

    def check(self, *, resumable: bool = True) -> None:
        """Refuse, before anything is written, outputs that no run could write.

        An output that exists and is not a regular file (a folder, a device) is an
        :class:`InputError` naming ``--out`` or ``--errors``: outputs are published by
        rename. An output whose folder is missing or is not a folder, or whose name the
        file system refuses (too long), alone or with a suffix of the files written
        beside it (``.partial``, and for a ``resumable`` run ``.progress`` and
        ``.progress.tmp``), is an :class:`OutputError` naming the output and the
        reason; so is a file beside it that exists and is not a regular file.
        """
        beside = (".partial", ".progress", ".progress.tmp") if resumable else (".partial",)
        for option, path, suffixes in (
            ("--out", self.out, beside),
            ("--errors", self.errors, (".partial",)),
        ):
            try:
                folder = os.stat(path.parent)
            except OSError as exc:
                raise OutputError(path, exc) from None
            if not stat.S_ISDIR(folder.st_mode):
                raise OutputError(path, NotADirectoryError(errno.ENOTDIR, "not a directory"))
            for suffix in ("", *suffixes):
                name = path.with_name(path.name + suffix)
                try:
                    mode = os.stat(name).st_mode
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    if exc.errno == errno.ENAMETOOLONG and suffix:
                        why = (
                            f"file name too long once {quote(suffix)} "
                            "is added (a file the run writes)"
                        )
                        exc = OSError(exc.errno, why)
                    raise OutputError(path, exc) from None
                if stat.S_ISREG(mode):
                    continue
                if not suffix:
                    problem = FieldProblem(option, f"{path} exists and is not a regular file")
                    raise InputError([problem])
                exists = FileExistsError(errno.EEXIST, "exists and is not a regular file")
                raise OutputError(name, exists)

    def start(self, header: Mapping[str, Any]) -> Progress:
        """Begin a fresh run: record it, remove the previous outputs, open empty partials."""
        progress = Progress(header=header)
        self._save(progress)
        for final in (self.out, self.errors):
            with _writing(final):
                _unlink(final)
        self._sync_dirs()
        with _writing(self.out_partial):
            self._out = self.out_partial.open("wb")
        with _writing(self.err_partial):
            self._err = self.err_partial.open("wb")
        return progress

    def pending(self) -> Progress | None:
        """The interrupted run's last checkpoint, or ``None`` when there is none."""
        try:
            text = self.progress_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputError(self.progress_path, exc) from None
        return Progress.from_json(text, source=str(self.progress_path))

    def resume(self, progress: Progress) -> None:
        """Reopen the partial files of ``progress``'s run, cut back to its checkpoint.

        Each file's first bytes, up to the length recorded, must hold exactly the lines
        of the rows recorded, the last one whole: one a decided row in the decisions
        file, one a bad row in the error file. Otherwise the resumed run would repeat
        rows or lose them, and it is refused (:class:`InputError`) before either file
        is cut. Checking reads both files up to their checkpoint once.
        """
        decided = progress.decided
        out_size = self._checked(self.out_partial, progress.out_bytes, decided, "decided rows")
        err_size = self._checked(
            self.err_partial, progress.err_bytes, progress.rows - decided, "bad rows"
        )
        self._out = self._reopen(self.out_partial, progress.out_bytes, out_size)
        self._err = self._reopen(self.err_partial, progress.err_bytes, err_size)
        self.out_bytes, self.err_bytes = progress.out_bytes, progress.err_bytes

    def decided_rows(self, progress: Progress) -> Iterator[tuple[str, str, int | None, int | None]]:
        """The case id and input (source, line, index) of each decision in the partial
        file up to ``progress``'s checkpoint, for a run resumed after :meth:`resume`
        checked the file's lines. A line that is not a decision as a batch writes it is
        an :class:`InputError`: the run cannot know the cases it decided."""
        left = progress.out_bytes
        if left <= 0:
            return
        with _writing(self.out_partial), self.out_partial.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                if left <= 0:
                    return
                left -= len(line)
                yield _decided_row(line, self.out_partial, number)

    def finish_commit(self) -> None:
        """Complete a commit that a kill interrupted: rename what is left, drop progress."""
        for partial, final in ((self.err_partial, self.errors), (self.out_partial, self.out)):
            if partial.exists():
                with _writing(final):
                    os.replace(partial, final)
        with _writing(self.progress_path):
            _unlink(self.progress_path)
        self._sync_dirs()

    def _checked(self, path: Path, length: int, lines: int, what: str) -> int:
        """The size of ``path`` (-1: missing), once its first ``length`` bytes are found
        to hold ``lines`` whole lines; else :class:`InputError`."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = -1
        except OSError as exc:
            raise OutputError(path, exc) from None
        if max(size, 0) < length:
            held = "is missing" if size < 0 else f"holds {size} bytes"
            _refuse(f"{path} {held} but the last checkpoint recorded {length} bytes")
        if length == 0:
            return size
        found, last = _lines(path, length)
        if found != lines or last != b"\n":
            whole = "" if last == b"\n" else ", the last of them cut short"
            _refuse(
                f"the first {length} bytes of {path} hold {found} lines{whole}, but the last"
                f" checkpoint recorded {lines} {what}, a line each"
            )
        return size

    def _reopen(self, path: Path, length: int, size: int) -> BinaryIO:
        with _writing(path):
            if size < 0:  # killed after the first checkpoint was recorded, before this file
                path.touch()
            fh = path.open("r+b")
            fh.truncate(length)
            fh.seek(length)
        return fh

    @property
    def out_file(self) -> BinaryIO:
        """The open decisions partial file, for a writer of its own (Parquet)."""
        assert self._out is not None
        return self._out

    # -- writing ------------------------------------------------------------------

    def write(self, out_lines: list[bytes], err_lines: list[bytes]) -> None:
        """Append lines (each ending in ``\\n``) to the partial files."""
        assert self._out is not None
        assert self._err is not None
        if out_lines:
            data = b"".join(out_lines)
            with _writing(self.out_partial):
                self._out.write(data)
            self.out_bytes += len(data)
        if err_lines:
            data = b"".join(err_lines)
            with _writing(self.err_partial):
                self._err.write(data)
            self.err_bytes += len(data)

    def checkpoint(self, progress: Progress) -> Progress:
        """Sync both partial files, then record ``progress`` with their current lengths."""
        self._sync()
        done = attrs.evolve(progress, out_bytes=self.out_bytes, err_bytes=self.err_bytes)
        self._save(done)
        return done

    def commit(self, progress: Progress) -> None:
        """Publish the outputs: sync, mark the commit, rename over the outputs, clean up."""
        self._sync()
        self._save(
            attrs.evolve(
                progress, out_bytes=self.out_bytes, err_bytes=self.err_bytes, phase="commit"
            )
        )
        self.close()
        self.finish_commit()

    def close(self) -> None:
        """Close the partial files (without publishing them)."""
        for fh in (self._out, self._err):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
        self._out = self._err = None

    # -- helpers ------------------------------------------------------------------

    def _sync(self) -> None:
        assert self._out is not None
        assert self._err is not None
        for fh, path in ((self._out, self.out_partial), (self._err, self.err_partial)):
            with _writing(path):
                fh.flush()
                os.fsync(fh.fileno())

    def _save(self, progress: Progress) -> None:
        tmp = self.progress_path.with_name(self.progress_path.name + ".tmp")
        data = progress.to_json().encode("utf-8")

        with _writing(self.progress_path):
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.progress_path)

    def _sync_dirs(self) -> None:
        for folder in sorted({self.out.parent, self.errors.parent}):
            with _writing(folder):
                _fsync_dir(folder)


def _refuse(why: str) -> NoReturn:
    raise InputError([FieldProblem("--resume", f"{why}; run again without --resume")])


def _decided_row(line: bytes, path: Path, number: int) -> tuple[str, str, int | None, int | None]:
    """A decision line's case id and input place; else the resume is refused."""
    try:
        record = orjson.loads(line)
        case_id, place = record["case_id"], record["input"]
        source, row, index = place["source"], place["line"], place.get("index")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        record = case_id = source = None
        row = index = None
    places_ok = all(n is None or (type(n) is int and n >= 0) for n in (row, index))
    if not (isinstance(case_id, str) and isinstance(source, str) and places_ok):
        _refuse(f"line {number} of {path} is not a decision as a batch writes it")
    return case_id, source, row, index


#: The bytes read at a time when counting a partial file's lines.
_BLOCK = 1 << 20


def _lines(path: Path, length: int) -> tuple[int, bytes]:
    """The newlines in the first ``length`` bytes of ``path`` (at least that long), and
    the last of those bytes."""
    found = 0
    last = b""
    with _writing(path), path.open("rb") as fh:
        left = length
        while left:
            block = fh.read(min(left, _BLOCK))
            if not block:  # the file shrank under us
                break
            found += block.count(b"\n")
            last = block[-1:]
            left -= len(block)
    return found, last


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(path, exc) from None
