"""The worklist: every step to act on today, across a portfolio, in order of urgency.

:meth:`Engine.worklist <collectrules.engine.Engine.worklist>` decides each case and
builds its timeline at one ``as_of``; this module turns each open, late or breached step
(:data:`~collectrules.timeline.evaluate.ACTIONABLE`; an emergency plan's steps too, as
soon as the timeline returns them) into a :class:`WorkItem` and deals the items out to
the owners of a team file (:mod:`collectrules.operations.team`).

**Channels.** Each line names one of :data:`CHANNELS`. A stage whose channel is already
one of them keeps it; the other stage channels map through :data:`STEP_CHANNELS`
(``legal`` is ``court`` when the stage performs ``litigate``, else ``lawyer_letter``;
``report``, ``plan`` and ``internal`` are work inside the lender: ``internal``). A line
whose channel performs a remedy the decision blocks (``court`` and ``lawyer_letter``:
``litigate``; ``visit``: ``visit``; :mod:`collectrules.operations.contacts`) proposes no
contact time, and its ``contact_note`` names the decision's rule.

**Urgency.** Lines sort by a key made of criteria, most urgent first:

* ``breached``: breached steps before all others;
* ``limit``: the earlier hard limit first (the stage's ``limit_at``, else its
  ``due_at``; a step with neither comes last);
* ``emergency``: lines of an emergency before the others: a step of an emergency's
  plan (its id is ``<kind>:E-…``), or any step of a case whose facts say
  ``emergency_open``;
* ``amount``: the larger overdue amount first (the number in the case's own currency;
  amounts in different currencies are not converted).

The default order is ``breached, limit, emergency, amount``; a policy reorders it with
the text parameter ``worklist_urgency`` (the four names, comma-separated, each once).
Ties are broken by case id, then the step's place in the plan, so the order is total
and the same on every run. Since the ``emergency`` criterion only ever moves a line
forward, an emergency never lowers a line's urgency, whatever the order.

**Memory.** Cases are read, decided and planned one at a time, in input order, and
each case's lines are dealt out at once, so nothing holds the portfolio:

* an owner with a capacity keeps only its ``capacity`` most urgent lines (a bounded
  heap); a line pushed out is yielded at once as overflow (``overflow=True``), so it is
  counted and shown, never dropped;
* the lines of owners without a capacity (``unassigned``, and ``all`` without a team)
  go through one external merge sort (:class:`~collectrules.operations._spill.SpillSort`):
  at most ``run_size`` lines are held at once; each full buffer is sorted and written to
  an anonymous temporary file, and at the end the sorted runs are merged with
  :func:`heapq.merge`, reading each back a chunk at a time.

Memory is therefore bounded by the sum of the capacities plus ``run_size`` lines, and
the case ids seen (a case id met again is a failed row, its steps listed once),
whatever the size of the portfolio, with or without a team; of the rows that fail,
the first :data:`MAX_KEPT_FAILURES` are kept and the others only counted. The order is exactly that
of sorting every line in memory: the sort key is total, the runs are sorted stably and
merged in the order they were written.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from collectrules._arguments import (
    require_callable,
    require_instance,
    require_named_path,
    require_texts,
)
from collectrules._decimal import exact
from collectrules.calendars import ContactHours
from collectrules.compliance.guardrails import (
    Contact,
    ContactChannel,
    Guardrails,
    Party,
    guardrails_of,
)
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    PolicyError,
    did_you_mean,
    quote,
)
from collectrules.model.case import Case, fixed_offset
from collectrules.model.decision import Decision, RemedyBlock
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.model.remedies import Remedy
from collectrules.model.time import require_aware
from collectrules.operations._channels import CHANNELS
from collectrules.operations._spill import DEFAULT_RUN_SIZE, SpillSort
from collectrules.operations.contacts import (
    DEFAULT_CONTACT_REMEDIES,
    ContactRemedies,
    contact_remedies,
    decision_blocks,
)
from collectrules.operations.team import UNASSIGNED, Team, load_team
from collectrules.policy import Policy
from collectrules.timeline.emergencies import emergencies_of
from collectrules.timeline.evaluate import ACTIONABLE, Step, StepStatus, Timeline, timeline_section

__all__ = [
    "CHANNELS",
    "CSV_FIELDS",
    "DEFAULT_RUN_SIZE",
    "DEFAULT_URGENCY",
    "EVERYONE",
    "MAX_KEPT_FAILURES",
    "STEP_CHANNELS",
    "URGENCY_CRITERIA",
    "OwnerTally",
    "PlannedCase",
    "RowFailure",
    "WorkItem",
    "Worklist",
    "WorklistSummary",
    "step_roles",
    "urgency_key",
    "urgency_order",
    "work_items",
    "worklist_channel",
]


#: How a stage channel that is not one of :data:`CHANNELS` maps to one
#: (``legal`` is ``court`` instead when the stage performs ``litigate``).
STEP_CHANNELS: Mapping[str, str] = {
    "legal": "lawyer_letter",
    "report": "internal",
    "plan": "internal",
    "internal": "internal",
}

#: The worklist channels that contact the debtor, with the guardrail channel checked.
_CONTACT: Mapping[str, ContactChannel] = {
    "phone": ContactChannel.PHONE,
    "sms": ContactChannel.SMS,
    "email": ContactChannel.EMAIL,
    "letter": ContactChannel.LETTER,
    "lawyer_letter": ContactChannel.LETTER,
    "visit": ContactChannel.VISIT,
}

#: The urgency criteria, see the module docs.
URGENCY_CRITERIA: tuple[str, ...] = ("breached", "limit", "emergency", "amount")

#: The order of the criteria unless the policy's ``worklist_urgency`` parameter says otherwise.
DEFAULT_URGENCY: tuple[str, ...] = URGENCY_CRITERIA

#: The one owner of every line when there is no team file.
EVERYONE = "all"

#: The columns of the CSV form, in order.
CSV_FIELDS: tuple[str, ...] = (
    "owner",
    "rank",
    "overflow",
    "case_id",
    "step_id",
    "title",
    "status",
    "channel",
    "role",
    "due_at",
    "limit_at",
    "next_contact_at",
    "contact_note",
    "remedy",
    "remedy_status",
    "blocking_rule",
    "emergency",
    "quadrant",
    "amount",
    "currency",
    "action",
)

_FAR = float("inf")

#: The most failed rows a :class:`Worklist` keeps in :attr:`Worklist.failures`; the
#: others are counted and given to ``on_failure``, and not held.
MAX_KEPT_FAILURES = 1_000


def worklist_channel(step: Step) -> str:
    """The worklist channel of ``step`` (see :data:`STEP_CHANNELS`)."""
    require_instance(step, Step, "step", "a timeline Step")
    raw = step.channel
    if raw in CHANNELS:
        return raw
    if raw == "legal" and step.stage.remedy is Remedy.LITIGATE:
        return "court"
    return STEP_CHANNELS.get(raw, "internal")


def step_roles(policy: Policy) -> tuple[str, ...]:
    """The roles a step of ``policy`` may have (a line's ``role``, which a team file's
    ``step_roles`` select): the owner of each stage of its ``[timeline]`` plans and of
    each step of its ``[emergencies]`` plans, sorted. A policy without a timeline is a
    :class:`~collectrules.errors.PolicyError` naming ``timeline``."""
    require_instance(policy, Policy, "policy", "a Policy")
    roles = {
        stage.owner for plan in timeline_section(policy).plans.values() for stage in plan.stages
    }
    section = emergencies_of(policy)
    if section is not None:
        roles.update(step.role.value for spec in section.kinds.values() for step in spec.steps)
    return tuple(sorted(roles))


def urgency_order(policy: Policy) -> tuple[str, ...]:
    """The urgency criteria in the policy's order (parameter ``worklist_urgency``)."""
    require_instance(policy, Policy, "policy", "a Policy")
    value = policy.parameter_values.get("worklist_urgency")
    if value is None:
        return DEFAULT_URGENCY
    where = "parameters.worklist_urgency"
    if not isinstance(value, str):
        msg = f"expected the criteria as text, such as {quote(','.join(DEFAULT_URGENCY))}"
        raise PolicyError([FieldProblem(where, msg, source=policy.source)])
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    problems = [
        FieldProblem(
            where,
            f"unknown urgency criterion {quote(name)}; expected {', '.join(URGENCY_CRITERIA)}",
            source=policy.source,
            suggestion=did_you_mean(name, list(URGENCY_CRITERIA)),
        )
        for name in names
        if name not in URGENCY_CRITERIA
    ]
    if not problems and sorted(names) != sorted(URGENCY_CRITERIA):
        msg = f"expected each of {', '.join(URGENCY_CRITERIA)} exactly once, got {quote(value)}"
        problems.append(FieldProblem(where, msg, source=policy.source))
    if problems:
        raise PolicyError(problems)
    return names


@attrs.frozen
class PlannedCase:
    """One case with its decision and timeline at the same ``as_of``.

    A plain holder: what it holds is checked where it is used (a :class:`Worklist`
    makes one holding something else that row's failure)."""

    case: Case
    decision: Decision
    timeline: Timeline


@attrs.frozen
class RowFailure:
    """A portfolio row that gave no decision or timeline, or no lines, with the reason.

    ``index`` is the row's place in the portfolio (from 0), ``case_id`` its case id when
    it was read, ``error`` what went wrong. ``first_row`` is, for a case id met again,
    the place of the row it was first met at (``None`` for any other failure), so that a
    caller reading files can name that row's file and line.
    """

    index: int
    case_id: str | None
    error: CollectRulesError
    first_row: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class WorkItem:
    """One line of the worklist: one step of one case to act on.

    ``limit_at`` is the hard limit (``None`` when the stage has none); ``next_contact_at``
    the first instant at or after ``as_of`` at which the guardrails allow contacting the
    debtor on the line's channel (``contact_note`` says why it is ``None``). ``remedy``
    is the remedy the step performs and ``remedy_status`` its status in the decision:
    ``allowed``, ``blocked`` (``blocking_rule`` names the rule) or ``not_granted``;
    ``none`` when the step performs no remedy. ``owner`` is the team member who takes
    the line; ``rank`` its place in that owner's list (1 is most urgent), ``None`` for
    overflow. ``urgency`` is the sort key (smaller is more urgent).
    """

    case_id: str
    step_id: str
    title: str
    action: str
    status: StepStatus
    channel: str
    role: str
    opens_at: dt.datetime | None
    due_at: dt.datetime | None
    limit_at: dt.datetime | None
    next_contact_at: dt.datetime | None
    contact_note: str
    remedy: str | None
    remedy_status: str
    blocking_rule: str | None
    emergency: bool
    quadrant: str
    buckets: tuple[tuple[str, str], ...]
    amount: Decimal
    currency: str
    cites: tuple[str, ...]
    position: int
    urgency: tuple[Any, ...] = attrs.field(eq=False, repr=False, default=())
    owner: str = UNASSIGNED
    rank: int | None = None
    overflow: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; times in ISO 8601 with the case's offset."""

        def iso(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "owner": self.owner,
            "rank": self.rank,
            "overflow": self.overflow,
            "case_id": self.case_id,
            "step_id": self.step_id,
            "title": self.title,
            "action": self.action,
            "status": self.status.value,
            "channel": self.channel,
            "role": self.role,
            "opens_at": iso(self.opens_at),
            "due_at": iso(self.due_at),
            "limit_at": iso(self.limit_at),
            "next_contact_at": iso(self.next_contact_at),
            "contact_note": self.contact_note,
            "remedy": self.remedy,
            "remedy_status": self.remedy_status,
            "blocking_rule": self.blocking_rule,
            "emergency": self.emergency,
            "quadrant": self.quadrant,
            "buckets": dict(self.buckets),
            "amount": str(self.amount),
            "currency": self.currency,
            "cites": list(self.cites),
        }

    def csv_row(self) -> dict[str, str]:
        """The line as CSV cells, keyed by :data:`CSV_FIELDS`."""
        data = self.to_dict()
        out: dict[str, str] = {}
        for name in CSV_FIELDS:
            value = data[name]
            if value is None:
                out[name] = ""
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            else:
                out[name] = str(value)
        return out


def urgency_key(item: WorkItem, order: Sequence[str] = DEFAULT_URGENCY) -> tuple[Any, ...]:
    """The sort key of ``item`` under the criteria ``order``; smaller is more urgent.

    ``order`` names each of :data:`URGENCY_CRITERIA` once; anything else, and an
    ``item`` that is not a :class:`WorkItem`, is an InputError."""
    require_instance(item, WorkItem, "item", "a WorkItem")
    return _key(
        _checked_order(order),
        status=item.status,
        limit_at=item.limit_at,
        due_at=item.due_at,
        emergency=item.emergency,
        amount=item.amount,
        case_id=item.case_id,
        position=item.position,
        step_id=item.step_id,
    )


@exact
def _key(
    order: Sequence[str],
    *,
    status: StepStatus,
    limit_at: dt.datetime | None,
    due_at: dt.datetime | None,
    emergency: bool,
    amount: Decimal,
    case_id: str,
    position: int,
    step_id: str,
) -> tuple[Any, ...]:
    parts: list[Any] = []
    for name in order:
        if name == "breached":
            parts.append(0 if status is StepStatus.BREACHED else 1)
        elif name == "limit":
            hard = limit_at if limit_at is not None else due_at
            parts.append(_FAR if hard is None else hard.timestamp())
        elif name == "emergency":
            parts.append(0 if emergency else 1)
        elif name == "amount":
            parts.append(-amount)
        else:
            msg = f"unknown urgency criterion {quote(name)}; expected {', '.join(URGENCY_CRITERIA)}"
            raise PolicyError([FieldProblem("worklist_urgency", msg)])
    return (*parts, case_id, position, step_id)


def _is_emergency(step: Step, decision: Decision) -> bool:
    # A step of an emergency's plan (its id is ``<kind>:E-…``), open or not.
    return step.stage.plan.startswith("emergency:") or decision.facts.get("emergency_open") is True


def _checked_order(order: object) -> tuple[str, ...]:
    """``order`` as urgency criteria: each of :data:`URGENCY_CRITERIA` exactly once, as
    the policy's ``worklist_urgency`` must name them; anything else is an InputError."""
    if order is DEFAULT_URGENCY:
        return DEFAULT_URGENCY
    names = require_texts(order, "order", "a sequence of urgency criteria")
    problems = [
        FieldProblem(
            "order",
            f"unknown urgency criterion {quote(name)}; expected {', '.join(URGENCY_CRITERIA)}",
            suggestion=did_you_mean(name, list(URGENCY_CRITERIA)),
        )
        for name in names
        if name not in URGENCY_CRITERIA
    ]
    if not problems and sorted(names) != sorted(URGENCY_CRITERIA):
        every = ", ".join(URGENCY_CRITERIA)
        msg = f"expected each of {every} exactly once, got {quote(list(names))}"
        problems.append(FieldProblem("order", msg))
    if problems:
        raise InputError(problems)
    return names


def work_items(
    planned: PlannedCase,
    *,
    as_of: dt.datetime,
    guardrails: Guardrails | None,
    order: Sequence[str] = DEFAULT_URGENCY,
    team: Team | None = None,
    contact_hours: ContactHours | None = None,
    remedies: ContactRemedies | None = None,
) -> list[WorkItem]:
    """The lines of one case: each open, late or breached step, in plan order.

    Each line's owner is the first owner of ``team`` that takes it (``unassigned`` when
    none does; ``all`` without a team). The next contact time is the ``guardrails``'
    answer; without guardrails, the next time within ``contact_hours`` (the timeline's).
    A line whose channel performs a remedy the decision blocks (``remedies``, by
    default the guardrails' policy's :func:`~collectrules.operations.contacts.contact_remedies`,
    else :data:`~collectrules.operations.contacts.DEFAULT_CONTACT_REMEDIES`) is still
    listed, as the timeline has the step, but proposes no contact: its
    ``next_contact_at`` is ``None``, its ``contact_note`` names the decision's rule, its
    reason and citations, and when the stage names no remedy of its own, ``remedy`` is
    the blocked one (``remedy_status`` ``blocked``, ``blocking_rule`` the rule).
    An argument of the wrong kind (``as_of`` naive or not an instant, ``order`` not
    each urgency criterion once) is an InputError naming it.
    """
    require_instance(planned, PlannedCase, "planned", "a PlannedCase")
    as_of = require_aware(as_of)
    if guardrails is not None:
        require_instance(guardrails, Guardrails, "guardrails", "a Guardrails or None")
    if team is not None:
        require_instance(team, Team, "team", "a Team or None")
    if contact_hours is not None:
        require_instance(contact_hours, ContactHours, "contact_hours", "a ContactHours or None")
    if remedies is None:
        remedies = (
            contact_remedies(guardrails.policy)
            if guardrails is not None
            else ContactRemedies.parse(DEFAULT_CONTACT_REMEDIES)
        )
    else:
        require_instance(remedies, ContactRemedies, "remedies", "a ContactRemedies or None")
    order = _checked_order(order)
    case, decision, timeline = planned.case, planned.decision, planned.timeline
    allowed = {g.remedy: g for g in decision.allowed}
    blocked = {b.remedy: b for b in decision.blocked}
    buckets = tuple((b.bucket_set, b.bucket) for b in decision.buckets)
    bucket_map = dict(buckets)
    out: list[WorkItem] = []
    contacts: dict[tuple[ContactChannel | None, dt.datetime], tuple[dt.datetime | None, str]] = {}
    for position, step in enumerate(timeline.steps):
        if step.status not in ACTIONABLE:
            continue
        channel = worklist_channel(step)
        after = as_of if step.opens_at is None or step.opens_at <= as_of else step.opens_at
        # The same contact at the same instant has the same answer: ask once per case.
        # Keyed by the instant at its fixed offset: two times of the case's zone object
        # are equal by wall clock, 01:30 the first time round as 01:30 the second.
        contact = _CONTACT.get(channel)
        key = (contact, fixed_offset(after))
        seen = contacts.get(key)
        if seen is None:
            seen = contacts[key] = _next_contact(case, contact, after, guardrails, contact_hours)
        next_at, note = seen
        remedy = step.stage.remedy
        ruled_out = decision_blocks(decision, channel, Party.DEBTOR, remedies=remedies)
        if ruled_out:
            # The decision blocks what this channel performs: no contact is proposed.
            next_at, note = None, _ruled_out_note(channel, ruled_out)
            if remedy is None:
                remedy = ruled_out[0].remedy
        blocking: str | None = None
        if remedy is None:
            status = "none"
        elif remedy in blocked:
            status, blocking = "blocked", blocked[remedy].rule_id
        elif remedy in allowed:
            status = "allowed"
        else:
            status = "not_granted"
        emergency = _is_emergency(step, decision)
        owner = EVERYONE
        if team is not None:
            found = team.owner_for(
                quadrant=decision.quadrant.value,
                buckets=bucket_map,
                amount=case.overdue_amount,
                step_role=step.owner,
                channel=channel,
            )
            owner = UNASSIGNED if found is None else found.id
        out.append(
            WorkItem(
                case_id=case.case_id,
                step_id=step.id,
                title=step.stage.title,
                action=step.action,
                status=step.status,
                channel=channel,
                role=step.owner,
                opens_at=step.opens_at,
                due_at=step.due_at,
                limit_at=step.limit_at,
                next_contact_at=next_at,
                contact_note=note,
                remedy=None if remedy is None else str(remedy),
                remedy_status=status,
                blocking_rule=blocking,
                emergency=emergency,
                quadrant=decision.quadrant.value,
                buckets=buckets,
                amount=case.overdue_amount,
                currency=case.currency,
                cites=step.cites,
                position=position,
                urgency=_key(
                    order,
                    status=step.status,
                    limit_at=step.limit_at,
                    due_at=step.due_at,
                    emergency=emergency,
                    amount=case.overdue_amount,
                    case_id=case.case_id,
                    position=position,
                    step_id=step.id,
                ),
                owner=owner,
            )
        )
    return out


def _ruled_out_note(channel: str, blocks: Sequence[RemedyBlock]) -> str:
    """Why a line proposes no contact: the decision blocks what its channel performs."""
    parts = [
        f"{b.remedy} ({b.rule_id}; {', '.join(b.cites)}): {b.reason}"
        if b.cites
        else f"{b.remedy} ({b.rule_id}): {b.reason}"
        for b in blocks
    ]
    return f"no {channel} contact: the decision blocks " + "; ".join(parts)


def _next_contact(
    case: Case,
    contact: ContactChannel | None,
    after: dt.datetime,
    guardrails: Guardrails | None,
    hours: ContactHours | None,
) -> tuple[dt.datetime | None, str]:
    if contact is None:
        return None, "not a contact with the debtor"
    try:
        if guardrails is None:
            if hours is not None:
                opens = hours.next_allowed(after, case.timezone)
                return opens, "the timeline's contact hours (the policy has no guardrails)"
            return after, "the policy has no guardrails or contact hours"
        allowed = guardrails.next_allowed(
            case, contact, Party.DEBTOR, after=after, horizon_days=_HORIZON_DAYS
        )
    except InputError as exc:  # the search ran past the instants supported (year 2200)
        reason = "; ".join(p.message for p in exc.problems)
        return None, f"no next contact within the instants supported ({reason})"
    if allowed is None:
        return None, _never_allowed(case, contact, after, guardrails)
    return allowed, ""


def _never_allowed(
    case: Case, contact: ContactChannel, after: dt.datetime, guardrails: Guardrails
) -> str:
    """Why the guardrails allow no contact on ``contact``: the rules that block it now
    and lift at no known time (a visit arranged with no one, a product that has no such
    channel), else that none lifts within the search's horizon."""
    verdict = guardrails.check(case, Contact(contact, Party.DEBTOR, after))
    lasting = [f"{r.rule_id}: {r.message}" for r in verdict.blocks if r.until is None]
    if lasting:
        return (
            "the guardrails block this channel until something changes (" + "; ".join(lasting) + ")"
        )
    end = after + dt.timedelta(days=_HORIZON_DAYS)
    if end.year > MAX_YEAR or end.astimezone(dt.UTC).year > MAX_YEAR:
        # next_allowed stops at the last year an instant may hold
        return f"no next contact within the instants supported (the years {MIN_YEAR}–{MAX_YEAR})"
    return f"the guardrails allow no contact on this channel within {_HORIZON_DAYS} days"


#: The days ``Guardrails.next_allowed`` searches for a time the guardrails allow.
_HORIZON_DAYS = 400


@attrs.frozen
class OwnerTally:
    """How many lines an owner took and how many overflowed its capacity."""

    owner: str
    role: str
    capacity: int | None
    listed: int
    overflow: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return attrs.asdict(self)


def _failures_count(summary: WorklistSummary) -> int:
    """The default of ``failed_rows``: the failures given (none when they are no list)."""
    failures: object = summary.failures
    return len(failures) if isinstance(failures, tuple | list) else 0


@attrs.frozen
class WorklistSummary:
    """What a worklist run counted: cases, lines, owners, and the rows that failed.

    ``failed_rows`` counts every row that failed; ``failures`` holds the first
    :data:`MAX_KEPT_FAILURES` of them (by default, when built by hand, all of them).
    """

    as_of: str
    policy: str
    urgency: tuple[str, ...]
    cases: int
    cases_with_lines: int
    lines: int
    owners: tuple[OwnerTally, ...]
    failures: tuple[RowFailure, ...]
    failed_rows: int = attrs.field(
        default=attrs.Factory(_failures_count, takes_self=True), kw_only=True
    )

    @property
    def overflow(self) -> int:
        """Lines past an owner's capacity (all of them shown, flagged ``overflow``)."""
        return sum(o.overflow for o in self.owners)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "as_of": self.as_of,
            "policy": self.policy,
            "urgency": list(self.urgency),
            "cases": self.cases,
            "cases_with_lines": self.cases_with_lines,
            "lines": self.lines,
            "overflow": self.overflow,
            "failed_rows": self.failed_rows,
            "owners": [o.to_dict() for o in self.owners],
        }


_ITEM_FIELDS = tuple(a.name for a in attrs.fields(WorkItem))


def _replaced(item: WorkItem, **changes: Any) -> WorkItem:
    """``item`` with ``changes``, as :func:`attrs.evolve` gives it, but faster (a
    worklist makes one per line, and ``evolve`` looks up the fields on every call)."""
    return WorkItem(*(changes[n] if n in changes else getattr(item, n) for n in _ITEM_FIELDS))


class _Urgent:
    """A heap entry ordered so that the *least* urgent line is at the top."""

    __slots__ = ("item",)

    def __init__(self, item: WorkItem) -> None:
        self.item = item

    def __lt__(self, other: _Urgent) -> bool:
        return bool(self.item.urgency > other.item.urgency)


class _Pile:
    """One owner's lines: a bounded heap with a capacity, else a count (the lines
    themselves go to the worklist's one :class:`SpillSort`)."""

    def __init__(self, index: int, owner: str, role: str, capacity: int | None) -> None:
        self.index, self.owner, self.role, self.capacity = index, owner, role, capacity
        self.heap: list[_Urgent] = []
        self.listed = 0
        self.overflow = 0

    def add(self, item: WorkItem) -> WorkItem | None:
        """Add ``item`` to a capped pile; the line that no longer fits (if any) is returned."""
        assert self.capacity is not None
        if self.capacity == 0:
            self.overflow += 1
            return item
        if len(self.heap) < self.capacity:
            heapq.heappush(self.heap, _Urgent(item))
            self.listed += 1
            return None
        self.overflow += 1
        least = self.heap[0].item
        if item.urgency < least.urgency:
            heapq.heapreplace(self.heap, _Urgent(item))
            return least
        return item

    def ranked(self) -> list[WorkItem]:
        items = sorted((e.item for e in self.heap), key=lambda i: i.urgency)
        return [_replaced(item, rank=n) for n, item in enumerate(items, start=1)]


def _pack(item: WorkItem) -> tuple[Any, ...]:
    return tuple(getattr(item, name) for name in _ITEM_FIELDS)


def _unpack(fields: tuple[Any, ...]) -> WorkItem:
    return WorkItem(*fields)


def _not_planned(entry: object) -> str | None:
    """What is wrong with an entry given to a :class:`Worklist` that is no
    :class:`RowFailure`: ``None`` when it is a :class:`PlannedCase` of a case, a
    decision and a timeline."""
    if not isinstance(entry, PlannedCase):
        return f"expected a PlannedCase or a RowFailure, got {type(entry).__name__} {quote(entry)}"
    for name, kind in (("case", Case), ("decision", Decision), ("timeline", Timeline)):
        value = getattr(entry, name)
        if not isinstance(value, kind):
            got = f"{type(value).__name__} {quote(value)}"
            return f"expected a PlannedCase whose {name} is a {kind.__name__}, got {got}"
    return None


def _repeated(entry: PlannedCase, first: int) -> InputError:
    """The error of a case met again: its steps are listed once, from its first row."""
    msg = (
        f"case {quote(entry.case.case_id)} is listed again (first at row {first}): expected"
        " each case once; its steps are listed from its first row"
    )
    return InputError([FieldProblem("case_id", msg)])


class Worklist:
    """The worklist of a portfolio at ``as_of``: iterate it once for its lines.

    Iterating yields each overflow line as soon as it falls out of its owner's
    capacity, then each owner's list in order of urgency (owners in team-file order,
    ``unassigned`` last; without a team, one list owned by ``all``), each line with
    its ``owner`` and ``rank``. :attr:`summary` is complete once the iteration has
    ended; :attr:`failures` lists the rows that gave no decision, timeline or lines
    (the others are still listed), and ``on_failure`` is called with each as it
    happens. Only the first :data:`MAX_KEPT_FAILURES` failures are kept in
    :attr:`failures`, so that a portfolio of bad rows does not fill the memory; every
    one is given to ``on_failure`` and counted in :attr:`failed_rows`. A case id met
    again is such a failure: the case's steps are listed once, from its first row (so
    the worklist keeps each case id seen, some 130 bytes each). The team's
    ``step_roles`` are checked against the policy's :func:`step_roles` when it is
    built (:meth:`~collectrules.operations.team.Team.check_step_roles`).

    The lines of owners without a capacity are sorted in bounded memory: at most
    ``run_size`` of them are held at once, the rest wait in sorted runs in temporary
    files (in ``spill_dir``, by default the system's temporary directory) until they
    are merged; the order is the same as sorting them all in memory.
    """

    def __init__(
        self,
        planned: Iterable[PlannedCase | RowFailure],
        *,
        as_of: dt.datetime | str,
        policy: Policy,
        team: Team | str | Path | None = None,
        on_failure: Callable[[RowFailure], None] | None = None,
        run_size: int = DEFAULT_RUN_SIZE,
        spill_dir: str | Path | None = None,
    ) -> None:
        require_instance(policy, Policy, "policy", "a Policy")
        if on_failure is not None:
            require_callable(on_failure, "on_failure")
        if spill_dir is not None:
            spill_dir = require_named_path(spill_dir, "spill_dir", "a folder's path")
            if not spill_dir.is_dir():  # checked now, not when the first run is written
                msg = f"expected an existing folder, got {quote(str(spill_dir))}"
                raise InputError([FieldProblem("spill_dir", msg)])
        self.contact_hours = timeline_section(policy).contact_hours  # a clear error now
        self.as_of = require_aware(as_of)
        self.policy = policy
        if not isinstance(team, Team | str | Path | None):
            msg = f"expected a Team, a team file's path or None, got {type(team).__name__}"
            raise InputError([FieldProblem("team", msg)])
        self.team: Team | None = load_team(team) if isinstance(team, str | Path) else team
        if self.team is not None:
            self.team.check_step_roles(step_roles(policy))
        self.order = urgency_order(policy)
        section = guardrails_of(policy)
        self.guardrails = Guardrails(policy) if section is not None and section.packs else None
        self.remedies = contact_remedies(policy)  # a clear error now
        if isinstance(planned, str | bytes | Mapping) or not isinstance(planned, Iterable):
            msg = f"expected an iterable of PlannedCase and RowFailure, got {quote(planned)}"
            raise InputError([FieldProblem("planned", msg)])
        self._planned = planned
        self._on_failure = on_failure
        self._started = False
        self.failures: list[RowFailure] = []
        self.failed_rows = 0
        self._cases = 0
        self._with_lines = 0
        #: The row each case id was first met at: a case listed again is a failed row.
        self._first_row: dict[str, int] = {}
        self._lines = 0
        owners = (
            [(EVERYONE, "", None)]
            if self.team is None
            else [(o.id, o.role, o.capacity) for o in self.team.owners] + [(UNASSIGNED, "", None)]
        )
        self._piles: dict[str, _Pile] = {
            owner: _Pile(index, owner, role, capacity)
            for index, (owner, role, capacity) in enumerate(owners)
        }
        piles = self._piles
        self._uncapped: SpillSort[WorkItem] = SpillSort(
            lambda item: (piles[item.owner].index, item.urgency),
            run_size=run_size,
            pack=_pack,
            unpack=_unpack,
            directory=spill_dir,
        )

    @property
    def spilled_runs(self) -> int:
        """How many sorted runs of lines went to temporary files (0: all fit in memory)."""
        return self._uncapped.runs_written

    def __iter__(self) -> Iterator[WorkItem]:
        if self._started:
            raise CollectRulesError("a worklist can be iterated only once; build it again")
        self._started = True
        return self._run()

    def _fail(self, failure: RowFailure) -> None:
        self.failed_rows += 1
        if len(self.failures) < MAX_KEPT_FAILURES:
            self.failures.append(failure)
        if self._on_failure is not None:
            self._on_failure(failure)

    def _lines_of(self, index: int, entry: PlannedCase) -> list[WorkItem] | None:
        """The lines of one planned case, or ``None`` when it failed (listed as such):
        one case whose lines cannot be built must not stop the others."""
        try:
            return work_items(
                entry,
                as_of=self.as_of,
                guardrails=self.guardrails,
                order=self.order,
                team=self.team,
                contact_hours=self.contact_hours,
                remedies=self.remedies,
            )
        except CollectRulesError as exc:
            error = exc
        except Exception as exc:  # one case's failure must not stop the others
            error = EngineError(f"internal error: {type(exc).__name__}: {str(exc)[:300]}")
        self._fail(RowFailure(index, entry.case.case_id, error))
        return None

    def _run(self) -> Iterator[WorkItem]:
        for index, entry in enumerate(self._planned):
            if isinstance(entry, RowFailure):
                self._fail(entry)
                continue
            msg = _not_planned(entry)
            if msg is not None:
                self._fail(
                    RowFailure(index, None, InputError([FieldProblem(f"planned[{index}]", msg)]))
                )
                continue
            first = self._first_row.setdefault(entry.case.case_id, index)
            if first != index:
                error = _repeated(entry, first)
                self._fail(RowFailure(index, entry.case.case_id, error, first_row=first))
                continue
            items = self._lines_of(index, entry)
            if items is None:
                continue
            self._cases += 1
            if items:
                self._with_lines += 1
            for item in items:
                self._lines += 1
                pile = self._piles[item.owner]
                if pile.capacity is None:
                    pile.listed += 1
                    self._uncapped.add(item)
                    continue
                out = pile.add(item)
                if out is not None:
                    yield _replaced(out, overflow=True, rank=None)
        # The uncapped lines come out of the sort by owner (in pile order), then urgency.
        uncapped = self._uncapped.drain()
        pending: WorkItem | None = next(uncapped, None)
        for pile in self._piles.values():
            if pile.capacity is not None:
                yield from pile.ranked()
                continue
            rank = 0
            while pending is not None and pending.owner == pile.owner:
                rank += 1
                yield _replaced(pending, rank=rank)
                pending = next(uncapped, None)

    @property
    def summary(self) -> WorklistSummary:
        """The counts so far (final once iteration has ended)."""
        owners = tuple(
            OwnerTally(p.owner, p.role, p.capacity, p.listed, p.overflow)
            for p in self._piles.values()
        )
        return WorklistSummary(
            as_of=self.as_of.isoformat(),
            policy=self.policy.ref,
            urgency=self.order,
            cases=self._cases,
            cases_with_lines=self._with_lines,
            lines=self._lines,
            owners=owners,
            failures=tuple(self.failures),
            failed_rows=self.failed_rows,
        )
