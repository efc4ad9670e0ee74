"""The ``collectrules`` command line.

This is the only layer that may read the clock: a command without ``--as-of`` decides
at the current instant, and says so. Below it, time is always an explicit input.
Each command module registers itself on :data:`app`; errors are one line, not a
traceback, and the exit status is non-zero.
"""

from __future__ import annotations

import sys

import typer

from collectrules.errors import CollectRulesError

__all__ = ["app", "main"]

app = typer.Typer(
    name="collectrules",
    help="Decide overdue accounts: quadrant, remedies, timeline and deadlines, explained.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        app(args=argv, prog_name="collectrules", standalone_mode=False)
    except CollectRulesError as exc:
        message = str(exc).replace("\n", " ")
        typer.echo(f"error: {message}", err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def _entry() -> None:
    sys.exit(main())


# Command modules register themselves on `app` when imported.
from collectrules.cli import decide as _decide  # noqa: E402,F401
