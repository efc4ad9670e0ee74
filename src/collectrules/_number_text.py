"""The one grammar of a number written as text, wherever a number is read from text.

``Decimal(text)`` reads more than any lender's data means: underscores (``1_000``),
the digits of other scripts (``１０００``, ``١٠٠٠``) and whitespace around the number.
A case's amounts and measured values, a plan's terms and amounts in minor units are
read only when :data:`NUMBER_TEXT` matches their text whole.
"""

from __future__ import annotations

import re

from collectrules.errors import quote

__all__ = ["NUMBER_TEXT", "number_text_message"]

#: A number written as text, matched whole (``fullmatch``): an optional sign, ASCII
#: digits with an optional fraction (``12``, ``12.5``, ``.5``, ``12.``) and an optional
#: exponent (``1e3``, ``1E+3``).
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: The texts ``Decimal`` reads as a NaN or an infinity: refused as not finite.
_NOT_FINITE_TEXT = re.compile(r"[+-]?(?:inf(?:inity)?|s?nan[0-9]*)", re.IGNORECASE | re.ASCII)


def number_text_message(text: str) -> str:
    """The message that refuses ``text``, which :data:`NUMBER_TEXT` does not match: a
    NaN or an infinity is not finite; anything else is not in plain decimal notation."""
    if _NOT_FINITE_TEXT.fullmatch(text) is not None:
        return f"expected a finite number, got {quote(text)}"
    return (
        "expected a number in plain decimal notation (ASCII digits, optional sign,"
        f" fraction and exponent), got {quote(text)}"
    )
