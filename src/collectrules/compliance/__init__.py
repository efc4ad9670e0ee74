"""Compliance: regulatory classes, delinquency buckets, and contact guardrails.

The packs are policy sections (``[regulation]``, ``[buckets]``, ``[guardrails]``):
each adds its facts and results to every decision. :class:`Guardrails` answers "may I
contact now?", with the reason and the next allowed time.
"""

from __future__ import annotations

from collectrules.compliance.buckets import (
    BucketHistory,
    BucketObservation,
    BucketSpan,
    bucket_history,
)
from collectrules.compliance.guardrails import (
    Contact,
    ContactChannel,
    Guardrails,
    Party,
    Purpose,
    Reason,
    ReasonEffect,
    Verdict,
)

__all__ = [
    "BucketHistory",
    "BucketObservation",
    "BucketSpan",
    "Contact",
    "ContactChannel",
    "Guardrails",
    "Party",
    "Purpose",
    "Reason",
    "ReasonEffect",
    "Verdict",
    "bucket_history",
]
