"""``verify``: run every check on a policy and return the report."""

from __future__ import annotations

__all__ = ["verify"]

import datetime as dt
from pathlib import Path

from collectrules.authoring.verify._checks import run_checks
from collectrules.authoring.verify._findings import REFERENCE_AS_OF, VerificationReport
from collectrules.authoring.verify._verifier import _Verifier
from collectrules.model.time import require_aware
from collectrules.policy import Policy, load_policy


def verify(
    policy: Policy | str | Path,
    *,
    as_of: dt.datetime | str = REFERENCE_AS_OF,
    confirm: bool = True,
) -> VerificationReport:
    """Verify a policy (a :class:`Policy`, a shipped name or a path).

    ``as_of`` is the instant at which counterexample cases are decided; with
    ``confirm`` (the default), every counterexample is decided with the compiled
    evaluator before it is reported.
    """
    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    when = as_of if isinstance(as_of, str) else require_aware(as_of).isoformat()
    require_aware(when)
    return run_checks(_Verifier(loaded, when, confirm=confirm))
