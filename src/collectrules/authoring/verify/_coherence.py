"""Two checks of what a decision may contain: the quadrant envelopes, and coherence
with the timeline.

*Envelopes.* Each quadrant's treatment (DOMAIN.md §1) is an envelope: the remedies that
quadrant can ever get, declared in the policy's ``[envelopes]``. A remedy rule that is
not marked ``overrides_quadrant`` must never grant a remedy outside the envelope of the
case's quadrant, unless a block always takes it away again. The check is symbolic: on
every reachable situation after the last layer, it asks the search for a cell where
the rule holds, the remedy is outside the envelope, and no blocking rule holds.

*Coherence.* A timeline step that performs a remedy (its stage's ``remedy``) and is
open, late or breached calls for that remedy now; the decision of the same case at the
same ``as_of`` must allow it. A step the timeline holds back (paused by a promise,
skipped by its condition) calls for nothing, and shows why. The check is concrete: it
builds cases for every product whose plan has such a step, at every days-past-due
value where some step or fact changes, with one set of signals for each quadrant the
search reaches, decides each with the compiled evaluator, builds its timeline, and
compares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from collectrules.authoring.verify._cases import build_case
from collectrules.authoring.verify._events import EVENTS
from collectrules.authoring.verify._findings import FindingKind, Severity
from collectrules.authoring.verify._inputs import INPUT_FIELDS
from collectrules.authoring.verify._reproduce import mismatches
from collectrules.authoring.verify._space import _Situation
from collectrules.authoring.verify._verifier import _Verifier
from collectrules.errors import CollectRulesError
from collectrules.model.case import Case, EventKind
from collectrules.policy import ConflictRule, Policy, RemedyEffect
from collectrules.timeline.evaluate import Timeline, build_timeline
from collectrules.timeline.stages import AnchorKind, TimelineSection

__all__ = ["check_coherence", "check_envelopes"]

#: Days past due tried besides those where a step or a fact of the policy changes.
_DPD_POINTS = (0, 1, 2, 3, 7, 14, 30, 31, 60, 90, 91, 180, 181, 365, 1095, 1096, 1100, 2200)

#: Days past due at which an event history is tried on the steps (:func:`_timeline_histories`).
_HISTORY_DPD = (1, 2, 3, 5, 10, 20, 40, 400)

#: Witness fields that the coherence check sets itself.
_OWN = frozenset({"dpd", "product", "overdue_amount"})


def check_envelopes(vf: _Verifier, finals: Sequence[_Situation]) -> None:
    """Report every remedy a rule not marked ``overrides_quadrant`` grants outside the
    envelope of the case's quadrant, with a case."""
    policy = vf.policy
    if not policy.envelopes:
        return
    ctx = vf.ctx
    rules = policy.remedy_rules
    conds = ctx.remedy_conds
    allow_wins = policy.conflict is ConflictRule.ALLOW_WINS
    blocks = [i for i, r in enumerate(rules) if r.effect is RemedyEffect.BLOCK]
    # litigation for Q1 is the ordering check's finding already: not reported twice
    done: set[tuple[str, str, str]] = {
        (f.rule_ids[0], "Q1", "litigate")
        for f in vf.findings
        if f.kind is FindingKind.ORDERING and f.rule_ids
    }
    for sit in finals:
        quadrant = sit.env.get("quadrant")
        envelope = policy.envelopes.get(str(quadrant))
        if envelope is None:
            continue
        for i, rule in enumerate(rules):
            if rule.effect is RemedyEffect.BLOCK or rule.overrides_quadrant:
                continue
            for remedy in rule.remedies:
                key = (rule.id, str(quadrant), str(remedy))
                if envelope.admits(remedy) or key in done:
                    continue
                wants = [(conds[i], True)]
                if not allow_wins:
                    wants += [(conds[b], False) for b in blocks if remedy in rules[b].remedies]
                wit = ctx.sat(wants, sit.env)
                if wit is None:
                    continue
                done.add(key)
                vf.report(
                    FindingKind.ENVELOPE,
                    Severity.ERROR,
                    f"remedies[{rule.id}] allows {remedy!s} for a {quadrant} debtor, "
                    f"outside the {quadrant} envelope ({', '.join(envelope.cites)}); narrow "
                    "its condition to the quadrants whose treatment includes it, or mark it "
                    "overrides_quadrant = true and cite why",
                    rule_ids=(rule.id,),
                    layer="remedies",
                    witness={**sit.witness, **wit},
                    expect={"quadrant": str(quadrant), "allowed": str(remedy)},
                )


def _profiles(finals: Sequence[_Situation]) -> list[dict[str, Any]]:
    """One witness per quadrant, willingness and ability the search reaches (its first),
    and the empty one: a presumed quadrant and a quadrant on current evidence are
    different debtors, whose remedies a step may need differently."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for sit in finals:
        env = sit.env
        key = (str(env.get("quadrant")), str(env.get("willingness")), str(env.get("ability")))
        if key in seen:
            continue
        seen.add(key)
        out.append({k: v for k, v in sit.witness.items() if k not in _OWN and "@" not in k})
    return out or [{}]


def _with_inputs(
    profiles: Sequence[dict[str, Any]], inputs: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Each profile with each combination of the pack inputs (its own first), once."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, Any], ...]] = set()
    for profile in profiles:
        bare = {k: v for k, v in profile.items() if k not in INPUT_FIELDS}
        for extra in (profile, *inputs):
            witness = {**bare, **{k: v for k, v in extra.items() if k in INPUT_FIELDS}}
            key = tuple(sorted(witness.items(), key=lambda kv: kv[0]))
            if key not in seen:
                seen.add(key)
                out.append(witness)
    return out


def _timeline_histories(vf: _Verifier) -> list[tuple[Mapping[str, Any], str, int]]:
    """The event histories that change the steps of the policy's plans: for each one of
    an event kind that a stage reads (its anchor, what completes it, a promise for a
    stage that one pauses, attempts for a stage anchored on unreachability), each
    product and days past due of :data:`_HISTORY_DPD` at which a step's status differs
    from the case without it."""
    policy = vf.policy
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection):
        return []
    kinds: set[str] = set()
    for plan in section.plans.values():
        for stage in plan.stages:
            kinds |= {str(m.kind) for m in stage.completed_by}
            kinds |= {str(m.kind) for m in stage.anchor.events}
            if stage.pauses:
                kinds.add(str(EventKind.PROMISE_MADE))
            if stage.anchor.kind is AnchorKind.UNREACHABLE:
                kinds.add(str(EventKind.CONTACT_ATTEMPT))
    as_of = vf.ctx.as_of_dt
    out: list[tuple[Mapping[str, Any], str, int]] = []
    for history in vf.ctx.histories:
        if not {dict(e)["kind"] for e in history[EVENTS]} <= kinds:
            continue
        for product in map(str, policy.products):
            for dpd in _HISTORY_DPD:
                bare = {"dpd": dpd, "product": product}
                changed = _statuses(policy, as_of, {**bare, **history})
                if changed is not None and changed != _statuses(policy, as_of, bare):
                    out.append((history, product, dpd))
    return out


def _statuses(policy: Policy, as_of: Any, witness: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The status of each step of the case built from ``witness`` (``None``: no case)."""
    try:
        data = build_case(policy, as_of, witness, case_id="x")
        case = Case.from_dict(data, signal_kinds=tuple(policy.signals))
        timeline = build_timeline(case, as_of=as_of, policy=policy)
    except CollectRulesError:
        return None
    return tuple(step.status.value for step in timeline.steps)


def _with_histories(
    finals: Sequence[_Situation], changes: Sequence[tuple[Mapping[str, Any], str, int]]
) -> list[tuple[dict[str, Any], str, int]]:
    """The witness of each quadrant's first situation with each history, at the product
    and days past due where the history changes a step."""
    out: list[tuple[dict[str, Any], str, int]] = []
    quadrants: set[Any] = set()
    for sit in finals:
        quadrant = sit.env.get("quadrant")
        if quadrant in quadrants:
            continue
        quadrants.add(quadrant)
        bare = {k: v for k, v in sit.witness.items() if k not in _OWN and "@" not in k}
        out += [({**bare, **history}, product, dpd) for history, product, dpd in changes]
    return out


def _step_points(policy: Policy, as_of: Any, product: str, reference: int) -> set[int]:
    """The days past due, near which a step of the product's plan opens, falls due or
    reaches its limit, read off a reference case ``reference`` days past due (months
    differ in length, hence the margin of two days)."""
    try:
        data = build_case(policy, as_of, {"dpd": reference, "product": product}, case_id="x")
        case = Case.from_dict(data, signal_kinds=tuple(policy.signals))
        timeline = build_timeline(case, as_of=as_of, policy=policy)
    except CollectRulesError:
        return set()
    points: set[int] = set()
    for step in timeline.steps:
        for at in (step.opens_at, step.due_at, step.limit_at):
            if at is not None:
                d = (dt.date(at.year, at.month, at.day) - case.due_date).days
                points |= set(range(d - 2, d + 3))
    return points


def check_coherence(vf: _Verifier, finals: Sequence[_Situation]) -> None:
    """Report every case where a step that performs a remedy calls for it and the
    decision does not allow it."""
    policy = vf.policy
    section = policy.sections.get("timeline")
    engine = vf.engine()
    if not isinstance(section, TimelineSection) or engine is None:
        return
    products = [
        str(p)
        for p in policy.products
        if (plan := section.plan_for(p)) is not None
        and any(s.remedy is not None for s in plan.stages)
    ]
    if not products:
        return
    points = set(_DPD_POINTS) | set(vf.ctx.cells("dpd"))
    if vf.ctx.probed:
        for b in vf.ctx.breaks():
            points |= {b - 1, b, b + 1}
    for product in products:
        for reference in (0, 400):
            points |= _step_points(policy, vf.ctx.as_of_dt, product, reference)
    as_of = vf.ctx.as_of
    # A timeline depends on the witness only through what its stage conditions read.
    staged: set[str] = set()
    for plan in section.plans.values():
        for stage in plan.stages:
            staged |= stage.when.fields()
    # The case inputs that the packs read change the timeline's facts and the decision
    # alike: each profile is tried with each of their combinations the search keeps.
    staged |= set(INPUT_FIELDS)
    # The event histories change the timeline (a step an event completes or anchors, a
    # promise that pauses one) and the decision alike: each quadrant's first profile is
    # tried with each history, where it changes a step.
    staged.add(EVENTS)
    tried = [
        (witness, product, dpd)
        for profile in _with_inputs(_profiles(finals), vf.ctx.inputs)
        for product in products
        for dpd in sorted(p for p in points if p >= 0)
        for witness in ({**profile, "dpd": dpd, "product": product},)
    ]
    tried += [
        ({**witness, "dpd": dpd, "product": product}, product, dpd)
        for witness, product, dpd in _with_histories(finals, _timeline_histories(vf))
        if product in products
    ]
    timelines: dict[tuple[Any, ...], Timeline] = {}
    for witness, product, dpd in tried:
        try:
            data = build_case(policy, vf.ctx.as_of_dt, witness, case_id="coherence")
            case = Case.from_dict(data, signal_kinds=tuple(policy.signals))
            decision = engine.decide(case, as_of=as_of)
            key = (
                product,
                dpd,
                tuple(sorted((k, v) for k, v in witness.items() if k in staged)),
            )
            timeline = timelines.get(key) or build_timeline(case, as_of=as_of, policy=policy)
            timelines[key] = timeline
        except CollectRulesError:
            continue
        for step_id, status, remedy, why in mismatches(decision, timeline):
            vf.report(
                FindingKind.COHERENCE,
                Severity.ERROR,
                f"the timeline's step {step_id} is {status} and performs {remedy}, "
                f"but the decision ({decision.quadrant.value}, {product}, "
                f"{dpd} days past due) {why}; allow the remedy while the step calls "
                "for it, or give the stage a condition that holds it back for the "
                "same reason",
                rule_ids=(),
                layer="remedies",
                witness=witness,
                expect={"step": step_id, "remedy": remedy, "status": status},
                dedupe=("coherence", step_id, remedy, decision.quadrant.value),
            )
