"""The ``collectrules`` command line.

This is the only layer that may read the clock: a command without ``--as-of`` decides
at the current instant, and says so. Below it, time is always an explicit input.
Each command module registers itself on :data:`app`; errors are one line, not a
traceback, and the exit status is non-zero.

Every command follows one exit-status convention (docs/cli.md): 0 ok; 1 findings or
bad rows; 2 unusable input (a missing file, a bad option, a policy that does not
load); 3 an I/O failure (an output that cannot be written); 5 out of memory (a
``MemoryError`` anywhere in the run).
"""

from __future__ import annotations

import codecs
import contextlib
import decimal
import io
import sys
from collections.abc import Iterator

import typer

from collectrules import __version__
from collectrules._allocator import set_up
from collectrules._decimal import CONTEXT
from collectrules._files import strerror
from collectrules.cli._common import EXIT_MEMORY, echo, out_of_memory
from collectrules.errors import CollectRulesError, OutputError, quote

# Before any command module loads Polars and Arrow: see collectrules._allocator.
set_up(sys.argv[1:])

__all__ = ["app", "main"]

app = typer.Typer(
    name="collectrules",
    help="Decide overdue accounts: quadrant, remedies, timeline and deadlines, explained.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    if value:
        echo(f"collectrules {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Decide overdue accounts: quadrant, remedies, timeline and deadlines, explained."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Usage errors are reported by typer (exit status 2); a collectrules error is one
    line on standard error, never a traceback, with exit status 2 (unusable input); a
    file that cannot be written or read is one line with exit status 3 (I/O failure);
    memory running out (a ``MemoryError``) is one line with exit status 5.
    Its arithmetic runs in :data:`collectrules._decimal.CONTEXT`, whatever decimal
    context the calling process set.
    """
    # The library's decimal context, whatever the process set (see collectrules._decimal):
    # the command's figures (rates, percentages, amounts) are formatted in it too.
    with _escaped_output(), decimal.localcontext(CONTEXT):
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    """:func:`main`'s run of the command, its errors made exit statuses."""
    empty = _empty_argument(sys.argv[1:] if argv is None else argv)
    if empty is not None:
        echo(f"error: {empty}", err=True)
        return 2
    try:
        app(args=argv, prog_name="collectrules")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OutputError as exc:  # an output that cannot be written: an I/O failure
        echo(f"error: {exc}", err=True)
        return 3
    except MemoryError as exc:  # anywhere in any command (OutOfMemoryError too): one line
        echo(out_of_memory(exc), err=True)
        return EXIT_MEMORY
    except CollectRulesError as exc:
        message = str(exc).replace("\n", " ")
        echo(f"error: {message}", err=True)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        echo(f"error: {where}{strerror(exc)}", err=True)
        return 3
    return 0


def _empty_argument(args: list[str]) -> str | None:
    """What is wrong with the first empty argument among ``args``, or None.

    No argument of any command may be empty. A path given as ``""`` reads as ``.``, the
    current folder: ``decide "$CASES"`` with the variable unset decided every case file
    there; a policy given as ``""`` read as the default policy: ``check "$POLICY"``
    checked the shipped default and passed.
    """
    for number, arg in enumerate(args, start=1):
        if arg == "":
            after = f" (after {quote(args[number - 2])})" if number > 1 else ""
            return f"argument {number}{after} is empty: expected a value"
        if arg.startswith("--") and arg.endswith("="):
            return f"{arg[:-1]}: expected a value after '=', got an empty text"
    return None


@contextlib.contextmanager
def _escaped_output() -> Iterator[None]:
    """Standard output and error write what their encoding cannot hold as escapes
    (``\\u5ba2``), for the command's run: a case id in Chinese on an ASCII terminal
    (``PYTHONIOENCODING=ascii``, a Latin-1 locale), or a file name whose bytes are
    not UTF-8, ended in a ``UnicodeEncodeError`` traceback."""
    changed: list[tuple[io.TextIOWrapper, str]] = []
    for stream in (sys.stdout, sys.stderr):
        # Standard error's own handler is backslashreplace, which wrote such a byte as
        # ``\\udce9``; another handler (surrogateescape) was chosen by the user.
        if isinstance(stream, io.TextIOWrapper) and stream.errors in _REPLACED:
            with contextlib.suppress(ValueError, OSError):
                errors = stream.errors
                stream.reconfigure(errors=_ESCAPE)
                changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors=errors)


def _escape(exc: UnicodeError) -> tuple[str, int]:
    """The error handler of :func:`_escaped_output`: ``backslashreplace``, except that a
    file name's byte that is not UTF-8 (which Python holds as a lone surrogate from
    ``\\udc80`` to ``\\udcff``) is written as the byte (``caf\\xe9.jsonl``), as the rows
    of such a file name it (:func:`collectrules._arguments.source_name`)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start : exc.end]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append(char.encode("ascii", "backslashreplace").decode("ascii"))
    return "".join(out), exc.end


_ESCAPE = "collectrules.escape"
_REPLACED = ("strict", "backslashreplace")
codecs.register_error(_ESCAPE, _escape)


def _entry() -> None:
    sys.exit(main())


# Command modules register themselves on `app` when imported.
from collectrules.cli import authoring as _authoring  # noqa: E402,F401
from collectrules.cli import batch as _batch  # noqa: E402,F401
from collectrules.cli import changes as _changes  # noqa: E402,F401
from collectrules.cli import clauses as _clauses  # noqa: E402,F401
from collectrules.cli import contact as _contact  # noqa: E402,F401
from collectrules.cli import decide as _decide  # noqa: E402,F401
from collectrules.cli import golden as _golden  # noqa: E402,F401
from collectrules.cli import money as _money  # noqa: E402,F401
from collectrules.cli import report as _report  # noqa: E402,F401
from collectrules.cli import timeline as _timeline  # noqa: E402,F401
from collectrules.cli import worklist as _worklist  # noqa: E402,F401
