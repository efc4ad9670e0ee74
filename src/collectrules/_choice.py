"""The base of every public enumeration: a value that names no member is an InputError.

``Product("lone")`` raises an :class:`~collectrules.errors.InputError` naming the
enumeration, listing its values and suggesting the closest, instead of the plain
``ValueError`` of :mod:`enum`. ``InputError`` is a ``ValueError``, so a caller that
catches ``ValueError`` still catches it. The check runs only on a miss: a lookup of a
member's own value is as fast as before.
"""

from __future__ import annotations

import enum

from collectrules.errors import FieldProblem, InputError, did_you_mean, quote

__all__ = ["Choice"]

#: The longest value compared with the members for a suggestion.
_SUGGEST_UP_TO = 100


class Choice(enum.StrEnum):
    """A ``StrEnum`` whose unknown values are InputErrors."""

    @classmethod
    def _missing_(cls, value: object) -> None:
        known = [member.value for member in cls]
        suggestion = None
        if isinstance(value, str) and len(value) <= _SUGGEST_UP_TO:
            suggestion = did_you_mean(value, known)
        msg = f"expected one of {', '.join(known)}, got {quote(value)}"
        raise InputError([FieldProblem(cls.__name__, msg, suggestion=suggestion)])
