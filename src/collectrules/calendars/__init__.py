"""Business calendars and contact hours, both in the debtor's time zone.

Calendars come from the ``holidays`` package, with China's adjusted working days; the
timeline and the contact guardrails both use them.
"""

from __future__ import annotations

from collectrules.calendars.business import (
    DECREED_COUNTRIES,
    BeyondKnown,
    BusinessCalendar,
    CalendarSchedule,
    ContactHours,
    ContactWindow,
)

__all__ = [
    "DECREED_COUNTRIES",
    "BeyondKnown",
    "BusinessCalendar",
    "CalendarSchedule",
    "ContactHours",
    "ContactWindow",
]
