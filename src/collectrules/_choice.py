"""The base of every public enumeration: a value that names no member is an InputError.

``Product("lone")`` raises an :class:`~collectrules.errors.InputError` naming the
enumeration, listing its values and suggesting the closest, instead of the plain
``ValueError`` of :mod:`enum`. ``InputError`` is a ``ValueError``, so a caller that
catches ``ValueError`` still catches it. The check runs only on a miss: a lookup of a
member's own value is as fast as before.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from collectrules.errors import FieldProblem, InputError, did_you_mean, quote

__all__ = ["Choice"]

#: The longest value compared with the members for a suggestion.
_SUGGEST_UP_TO = 100


if TYPE_CHECKING:  # typed as enum's own: Product("loan") is a Product
    _ChoiceType = enum.EnumType
else:

    class _ChoiceType(enum.EnumType):
        """Looks a value up among the members, and refuses a miss itself: :mod:`enum`
        writes the ``repr`` of a missed value into its own ``ValueError`` before the
        refusal below is raised, and that ``repr`` may fail (an object whose ``__repr__``
        raises, a list nested 100,000 deep, an integer of 5,000 digits)."""

        def __call__(cls, value: object, *args: object, **kwargs: object) -> object:
            if args or kwargs or not cls._member_map_:  # a new enumeration (the functional API)
                return super().__call__(value, *args, **kwargs)
            if isinstance(value, cls):
                return value
            try:
                return cls._value2member_map_[value]
            except (KeyError, TypeError):  # a miss, or a value that cannot be hashed
                pass
            return cls._missing_(value)


class Choice(enum.StrEnum, metaclass=_ChoiceType):
    """A ``StrEnum`` whose unknown values are InputErrors."""

    @classmethod
    def _missing_(cls, value: object) -> None:
        known = [member.value for member in cls]
        suggestion = None
        if isinstance(value, str) and len(value) <= _SUGGEST_UP_TO:
            suggestion = did_you_mean(value, known)
        msg = f"expected one of {', '.join(known)}, got {quote(value)}"
        raise InputError([FieldProblem(cls.__name__, msg, suggestion=suggestion)])
