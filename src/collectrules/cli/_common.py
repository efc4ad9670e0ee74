"""Options and helpers shared by the commands."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer

from collectrules.engine import Engine
from collectrules.errors import FieldProblem, InputError
from collectrules.model.time import require_aware
from collectrules.policy import Policy, load_policy

__all__ = [
    "AsOf",
    "Format",
    "PolicyOption",
    "PolicyPathOption",
    "echo_json",
    "engine_for",
    "load_for",
    "one_line",
    "report_row",
    "resolve_as_of",
]


class Format(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


def one_line(exc: BaseException | None) -> str:
    """An error as one line: each invalid field with its path and any suggestion."""
    if exc is None:
        return "unreadable row"
    if isinstance(exc, InputError):
        return "; ".join(
            (f"{p.path}: {p.message}" if p.path else p.message)
            + (f" (did you mean {p.suggestion!r}?)" if p.suggestion else "")
            for p in exc.problems
        )
    return str(exc).replace("\n", " ")


def report_row(where: str, exc: BaseException | None) -> None:
    """Report one bad input row on standard error, on one unwrapped line."""
    typer.echo(f"error: {where}: {one_line(exc)}", err=True)


def echo_json(payload: Any) -> None:
    """Print JSON: one object, or a list of them; keys sorted, non-ASCII kept."""
    typer.echo(json.dumps(payload, sort_keys=True, ensure_ascii=False, indent=2))


PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy", "-p", help="A shipped policy name or a policy file (default: default)."
    ),
]
PolicyPathOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy-path",
        help="A folder that a policy's 'extends' may read files from, besides the policy "
        "file's own folder; repeat for more.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="The instant to decide at, ISO 8601 with an offset (default: now)."
    ),
]


def resolve_as_of(as_of: str | None) -> pendulum.DateTime:
    """The ``--as-of`` instant; without one, the current instant (the CLI may read the clock)."""
    if as_of is None:
        return pendulum.now("UTC")
    return require_aware(as_of)


def load_for(policy: str | None, policy_path: list[Path] | None = None) -> Policy:
    """The policy of ``--policy`` (default: the embedded default policy), whose
    ``extends`` may also read from the ``--policy-path`` folders."""
    return load_policy(policy or "default", search_path=tuple(policy_path or ()))


def engine_for(policy: str | None, backend: str, policy_path: list[Path] | None = None) -> Engine:
    """An engine for ``--policy`` (default: the embedded default policy)."""
    if backend not in ("durable", "python"):
        raise InputError(
            [FieldProblem("--backend", f"expected durable or python, got {backend!r}")]
        )
    return Engine(load_for(policy, policy_path), backend=backend)  # type: ignore[arg-type]
