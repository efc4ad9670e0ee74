"""Decimal arithmetic that does not depend on the caller's decimal context.

Every operation on a :class:`~decimal.Decimal` (a product, a sum, a negation, a
``quantize``) rounds to the precision of the thread's current context, with its
rounding, and raises on the signals it traps. An application that sets its own
context (``decimal.getcontext().prec = 6``, ``ROUND_DOWN``, ``Inexact`` trapped)
would otherwise change what the library computes: a money threshold of a policy
scaled to the facts' units, a case's amounts in its facts, a plan's instalments, a
KPI's rate.

The library's own work runs in :data:`CONTEXT`, Python's default context written out
in full (not read from ``decimal.DefaultContext``, which an application may change
too): :func:`exact` runs a function in it and restores the caller's context on return.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["CONTEXT", "exact", "exact_thunk"]

#: The decimal context of the library's arithmetic: Python's default, fixed here.
CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` run in :data:`CONTEXT` (a copy of it, for the call's duration), whatever
    the caller's context is; the caller's context is restored on return. Not for
    generators: their body would run after the call returned."""

    @functools.wraps(func)
    def in_context(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with decimal.localcontext(CONTEXT):
            return func(*args, **kwargs)

    return in_context


def exact_thunk(func: Callable[[], _R]) -> Callable[[], _R]:
    """``func``, a function of no arguments, run in :data:`CONTEXT` as by :func:`exact`,
    without copying its name and docstring onto the wrapper: for a closure made anew
    for each call (copying them costs more than the context does)."""

    def in_context() -> _R:
        with decimal.localcontext(CONTEXT):
            return func()

    return in_context
