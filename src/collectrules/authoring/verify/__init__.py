"""The policy verifier: gaps, overlaps, shadowed rules, conflicts, citations, invariants.

The package is split by concern: :mod:`._space`, :mod:`._values` and :mod:`._inputs`
(the search space), :mod:`._events` (event histories), :mod:`._folds` (hit policies
summarised during the search), :mod:`._verifier` (the search), :mod:`._checks` (the
checks), :mod:`._findings` (what is reported), :mod:`._cases` and :mod:`._reproduce`
(counterexamples), :mod:`._run` (the entry point).

:func:`verify` checks a loaded policy without running any case through the engine
first. It works on the condition IR, and it is exact over interval and enum
constraints:

1. **Cells.** Every field is partitioned at every threshold that any condition of the
   policy mentions (parameters resolved, money scaled to the facts' integer units).
   Two values of a field that every condition treats alike fall in one cell, and one
   representative value stands for the cell. A measured signal also has an *absent*
   cell, and a count only takes the values its thresholds tell apart (0, 1, …).
2. **Layers, in order.** The fact space is explored one layer at a time. A layer's
   rules read some base fields and some upstream outputs; only those fields are
   enumerated, and fields that no later layer reads are summarised away, so the
   reachable *situations* handed to the next layer stay few (six for the default
   policy after its ability layer). Inside a layer the search splits on one field at
   a time, simplifies every condition as it goes, and folds the rules already decided
   into a small summary of the hit policy (the first match, the best priority, the
   running score), memoising on that summary and on what is left to decide. Rules on
   unrelated fields therefore never multiply.
3. **Checks.** On every reachable cell of every layer: a single-result layer with no
   match and no default (*gap*), two matches in a ``unique`` layer (*overlap*), a rule
   that never gives the layer's value under ``first`` or ``priority`` (*unreachable*),
   a remedy both allowed and blocked when ``remedies.conflict = "unspecified"``
   (*conflict*), litigation allowed for Q1 (*ordering*), and monotonic severity: adding
   one negative signal of any counted kind, or changing a measured ability value so
   that the ``ability`` layer worsens, must never soften the quadrant nor take away an
   allowed coercive remedy (*monotonicity*). Citations are checked against the clause
   registry, and parameters and signal kinds that no rule reads are reported. Each
   remedy a rule grants outside the envelope of the case's quadrant (*envelope*, unless
   the rule is marked ``overrides_quadrant``), and each timeline step that calls for its
   remedy while the decision does not allow it (*coherence*), is reported with a case;
   :func:`verify_coherence` runs these two alone (:mod:`._coherence`).

Every finding that a case can show comes with a counterexample: a real case, built from
the cell, and the ``as_of`` to decide it at. The verifier decides it with the engine
before reporting it; :func:`reproduces` does the same for any engine, which is how the
test suite checks both back ends.

Fields that the policy's sections compute from the case (a pack's class, a bucket, the
timeline's state) are set by probing: the verifier builds cases over dpd, the product and
the case fields the policy reads, and over the case inputs that the regulation packs read
and no fact shows (a re-ageing pack's ``opened_on`` and ``consecutive_minimum_payments``,
a ladder's debtor shares, a ``restructured`` event at ``as_of``: :mod:`._inputs`), and
derives them; a counterexample carries the inputs that give it. The search sets no
other event, and an ``unverified`` warning says so. Facts that only events give (contact
counts, promises, payments, a visit, an emergency, an asset found) are free values of
the search; a finding that needs them is confirmed on a case carrying a history of
events that gives them (:mod:`._events`), and the coherence check tries the histories
that change a step.

Fields that the verifier cannot set from a case it builds (fields added by an optional
section, for instance) are still enumerated; a finding that depends on them is kept only
if the case built without them reproduces it, and is otherwise reported as an
``unverified`` warning.
"""

from __future__ import annotations

from collectrules.authoring.verify._cases import build_case
from collectrules.authoring.verify._findings import (
    REFERENCE_AS_OF,
    Counterexample,
    Finding,
    FindingKind,
    Severity,
    VerificationReport,
)
from collectrules.authoring.verify._reproduce import reproduces
from collectrules.authoring.verify._run import verify, verify_coherence

__all__ = [
    "REFERENCE_AS_OF",
    "Counterexample",
    "Finding",
    "FindingKind",
    "Severity",
    "VerificationReport",
    "build_case",
    "reproduces",
    "verify",
    "verify_coherence",
]
