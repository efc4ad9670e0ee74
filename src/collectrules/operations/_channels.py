"""The channels a worklist line names, apart from the worklist so that a team file's
``channels`` can be checked against them without the worklist loading."""

from __future__ import annotations

__all__ = ["CHANNELS"]

#: The channels a worklist line names.
CHANNELS: tuple[str, ...] = (
    "phone",
    "sms",
    "letter",
    "email",
    "visit",
    "lawyer_letter",
    "court",
    "internal",
)
