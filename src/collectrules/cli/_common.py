"""Options and helpers shared by the commands."""

from __future__ import annotations

from typing import Annotated

import pendulum
import typer

from collectrules.derive import require_aware
from collectrules.engine import Engine
from collectrules.errors import FieldProblem, InputError

__all__ = ["AsOf", "PolicyOption", "engine_for", "resolve_as_of"]

PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy", "-p", help="A shipped policy name or a policy file (default: default)."
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


def engine_for(policy: str | None, backend: str) -> Engine:
    """An engine for ``--policy`` (default: the embedded default policy)."""
    if backend not in ("durable", "python"):
        raise InputError(
            [FieldProblem("--backend", f"expected durable or python, got {backend!r}")]
        )
    return Engine(policy or "default", backend=backend)  # type: ignore[arg-type]
