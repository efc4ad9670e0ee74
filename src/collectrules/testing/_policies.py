"""Policies and engines for the testing kit, loaded and compiled once per content.

Tests name the same policy over and over: a shipped name, a file path, or a
:class:`~collectrules.policy.Policy`. Loading is cached per name (and, for a file, per
modification time and size, so that an edited file is read again), and engines per
policy content hash and back end. Both caches are bounded.
"""

from __future__ import annotations

import functools
from pathlib import Path

from collectrules.engine import Backend, Engine, UnknownSignals
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.policy import Policy, load_policy
from collectrules.policy.loader import is_shipped_name

__all__ = ["engine_for", "resolve_policy"]


def resolve_policy(policy: Policy | str | Path | None) -> Policy:
    """A :class:`Policy` from a policy, a shipped name or a path (``None``: the default)."""
    if isinstance(policy, Policy):
        return policy
    if policy is None:
        policy = "default"
    if not isinstance(policy, str | Path):
        msg = f"expected a Policy, a shipped policy name or a path, got {type(policy).__name__}"
        raise InputError([FieldProblem("policy", msg)])
    if isinstance(policy, str) and is_shipped_name(policy):
        return _load(policy, 0, 0)  # never a file of that name in the working directory
    path = Path(policy)
    try:
        stat = path.stat() if path.is_file() else None
    except OSError:  # a name longer than the file system allows: the loader says so
        stat = None
    if stat is not None:
        return _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return _load(str(policy), 0, 0)


@functools.lru_cache(maxsize=64)
def _load(name: str, mtime_ns: int, size: int) -> Policy:
    return load_policy(name)


def engine_for(
    policy: Policy, backend: Backend = "python", unknown_signals: UnknownSignals = "error"
) -> Engine:
    """An engine for ``policy`` on ``backend``, compiled once per content hash."""
    if backend not in ("durable", "python"):
        raise InputError(
            [FieldProblem("backend", f"expected 'durable' or 'python', got {quote(backend)}")]
        )
    if unknown_signals not in ("error", "ignore"):
        msg = f"expected 'error' or 'ignore', got {quote(unknown_signals)}"
        raise InputError([FieldProblem("unknown_signals", msg)])
    return _engine(policy, backend, unknown_signals)


@functools.lru_cache(maxsize=64)
def _engine(policy: Policy, backend: Backend, unknown_signals: UnknownSignals) -> Engine:
    # Policy hashes and compares by content hash, so equal policies share an engine.
    return Engine(policy, backend=backend, unknown_signals=unknown_signals)
