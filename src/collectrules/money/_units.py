"""A currency's minor unit, as the money package checks amounts against it.

The plans (:mod:`collectrules.money.plans`) and the amounts due
(:mod:`collectrules.money.charges`) both refuse an amount of more decimals than its
currency has, in the same words: :func:`require_minor_units` is that one check.
"""

from __future__ import annotations

from decimal import Decimal

from collectrules._decimal import exact
from collectrules.errors import FieldProblem, InputError, figure
from collectrules.model.case import currency_exponent, currency_problem, currency_suggestion

__all__ = ["SHOWN", "quantum", "require_minor_units", "shown"]

#: The most characters of a number that a message shows.
SHOWN = 40


def shown(value: Decimal) -> str:
    """``value`` as text for a message: cut short, with its length, when it is long (a
    principal of 5,000 digits)."""
    text = str(value)
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({figure(len(text))} characters)"


@exact
def quantum(currency: str) -> Decimal:
    """The currency's minor unit as a decimal: ``0.01`` for CNY, ``1`` for JPY.

    A value that is not a current ISO 4217 code (``'XYZ'``, ``'cny'``, ``5``) is an
    :class:`InputError` naming ``currency``, with the code it probably meant: it is not
    read as a currency of two decimals."""
    if (problem := currency_problem(currency)) is not None:
        suggestion = currency_suggestion(currency)
        raise InputError([FieldProblem("currency", problem, suggestion=suggestion)])
    return Decimal(1).scaleb(-currency_exponent(currency))


@exact
def require_minor_units(
    amount: Decimal, currency: str, path: str, subject: str, *, then: str = ""
) -> Decimal:
    """The ``currency``'s quantum, once ``amount`` is found a whole number of it.

    An amount of more decimals than the currency has (``0.5`` yen, ``1.001`` yuan) is an
    :class:`InputError` naming ``path`` (its ``subject`` the error's), with ``then``
    added to its message; a currency that is no ISO 4217 code is one naming
    ``currency`` (:func:`quantum`). The money package refuses such an amount rather than
    round it: which way to round an amount owed or paid is not its to choose.
    """
    q = quantum(currency)
    if amount == amount.quantize(q):
        return q
    msg = (
        f"{shown(amount)} has more decimals than {currency} allows: expected a multiple of"
        f" {q}, its minor unit{then}"
    )
    raise InputError([FieldProblem(path, msg)], subject=subject)
