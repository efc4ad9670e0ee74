"""``verify``: run every check on a policy and return the report."""

from __future__ import annotations

from collectrules._arguments import require_bool

__all__ = ["verify", "verify_coherence"]

import datetime as dt
from pathlib import Path

from collectrules._decimal import exact
from collectrules.authoring.verify._checks import run_checks
from collectrules.authoring.verify._coherence import check_coherence, check_envelopes
from collectrules.authoring.verify._findings import (
    REFERENCE_AS_OF,
    FindingKind,
    Severity,
    VerificationReport,
)
from collectrules.authoring.verify._folds import _Budget
from collectrules.authoring.verify._verifier import _Verifier
from collectrules.model.time import require_aware
from collectrules.policy import Policy, load_policy


@exact
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
    require_bool(confirm, "confirm")
    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    when = as_of if isinstance(as_of, str) else require_aware(as_of).isoformat()
    require_aware(when)
    return run_checks(_Verifier(loaded, when, confirm=confirm))


@exact
def verify_coherence(
    policy: Policy | str | Path,
    *,
    as_of: dt.datetime | str = REFERENCE_AS_OF,
    envelopes: bool = True,
    timeline: bool = True,
) -> VerificationReport:
    """Only the checks of what a decision may contain: the quadrant envelopes
    (``envelopes``) and coherence with the timeline (``timeline``); see
    :mod:`collectrules.authoring.verify._coherence`. Every finding carries a case and the
    ``as_of`` to decide it at, confirmed with the compiled evaluator.
    """
    require_bool(envelopes, "envelopes")
    require_bool(timeline, "timeline")
    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    when = as_of if isinstance(as_of, str) else require_aware(as_of).isoformat()
    require_aware(when)
    vf = _Verifier(loaded, when, confirm=True)
    vf.winners = [set() for _ in vf.ctx.layers]
    vf.values = [set() for _ in vf.ctx.layers]
    try:
        per_layer = vf.run(worlds=1)
        if per_layer is not None:
            finals = per_layer[1]
            if envelopes:
                check_envelopes(vf, finals)
            if timeline:
                check_coherence(vf, finals)
    except _Budget as exc:
        vf.report(
            FindingKind.UNVERIFIED,
            Severity.WARNING,
            f"the search went past {exc.what}; the checks were not completed",
        )
    return VerificationReport(loaded.ref, tuple(vf.findings), {"layers": len(vf.ctx.layers)})
