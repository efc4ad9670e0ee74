"""Emergencies (催收应急事件, DOMAIN.md §10) as policy data: the ``[emergencies]`` section.

An emergency is an event of one of five kinds: ``emergency_refusal`` (E-REFUSE),
``absconded`` (E-ABSCOND), ``court_proceeding`` (E-LITIGATION), ``agreement_ended``
(E-AGREEMENT-END) and ``threat_to_staff`` (E-THREAT). Prolonged unreachability derives
``absconded`` as well: ``unreachable_attempts`` failed contact attempts in a row (no
answer, or an invalid number) since the debtor was last reached.

Each kind the policy lists opens an **escalation plan** (E-RESPONSE): steps such as
"report to the supervisor at once", "the supervisor's meeting names a person
responsible" and "decide whether to escalate to legal", each with a role (collector,
supervisor, legal), a due time and a hard limit counted from the emergency, and the
events that complete it. The emergency is **open** from its instant until every step of
its plan is done. While it is open it **pauses** the regular steps on the channels the
kind names in ``pauses``; from its instant on it **stops** for good those on the
channels in ``stops`` (no field visit after a threat to staff).

The section adds four facts that remedy rules read: ``emergency_open``,
``emergency_kind`` (the kind of the latest open emergency, ``none`` when none is open),
``court_proceeding_open`` (a court proceeding is open, whichever emergency came last)
and ``visit_held`` (an emergency holds field visits back, as the timeline holds the
visit steps: one that stops them has happened, or one that pauses them is open).
The timeline (:func:`collectrules.timeline.build_timeline`) shows each plan's steps with
their due dates and statuses, as it shows stage steps. When an emergency begins and
closes is read by :mod:`collectrules.model.emergency`, which the contact guardrails'
``emergency_hold`` rule reads too. Nothing here reads the clock.

The format::

    [emergencies]
    unreachable_attempts = "absconded_after_failed_attempts"   # a parameter, or a number

    [emergencies.kinds.threat_to_staff]
    title = "violence or threats against staff"
    plan = "response"
    stops = ["visit"]
    cites = ["E-THREAT"]

    [[emergencies.plans.response]]
    id = "E-REPORT"
    title = "report to the supervisor"
    action = "Report the emergency to the supervisor at once."
    role = "collector"
    within = "4 hours"
    limit = "24 hours"
    completed_by = ["emergency_reported"]
    cites = ["E-RESPONSE"]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import attrs
import pendulum

from collectrules._choice import Choice
from collectrules.conditions import FieldSpec, FieldType, Scalar
from collectrules.errors import did_you_mean, quote
from collectrules.model.case import Case, Event, EventKind, zone
from collectrules.model.emergency import EMERGENCY_CLAUSES, EmergencyPlans, EmergencyTerms
from collectrules.policy.model import Policy
from collectrules.policy.section import BaseSection, SectionLoader
from collectrules.timeline._case import case_events, in_zone, instant
from collectrules.timeline._schema import OFFSET
from collectrules.timeline.stages import (
    _SUGGESTED,
    Anchor,
    AnchorKind,
    Channel,
    EventMatcher,
    Offset,
    OffsetReader,
    Stage,
)

__all__ = [
    "EMERGENCIES",
    "EMERGENCY_FIELDS",
    "EMERGENCY_KINDS",
    "OPEN_FIELDS",
    "EmergenciesPlugin",
    "Emergency",
    "EmergencyKind",
    "EmergencySection",
    "EmergencySpec",
    "EmergencyStepSpec",
    "Role",
    "emergencies_now",
    "emergencies_of",
    "emergency_facts",
    "open_emergencies",
    "open_field",
    "parse_emergencies",
]


class EmergencyKind(Choice):
    """The emergencies of DOMAIN.md §10, named by the event kind that records each."""

    EMERGENCY_REFUSAL = EventKind.EMERGENCY_REFUSAL.value
    ABSCONDED = EventKind.ABSCONDED.value
    COURT_PROCEEDING = EventKind.COURT_PROCEEDING.value
    AGREEMENT_ENDED = EventKind.AGREEMENT_ENDED.value
    THREAT_TO_STAFF = EventKind.THREAT_TO_STAFF.value


#: Each emergency kind's clause id.
EMERGENCY_KINDS: Mapping[EmergencyKind, str] = {
    EmergencyKind(kind.value): clause for kind, clause in EMERGENCY_CLAUSES.items()
}


class Role(Choice):
    """Who carries out a step of an escalation plan."""

    COLLECTOR = "collector"
    SUPERVISOR = "supervisor"
    LEGAL = "legal"


def open_field(kind: EmergencyKind) -> str:
    """The fact that an emergency of ``kind`` is open (``absconded_open``, …): true
    whichever emergency came after it, where ``emergency_kind`` names the latest only."""
    return f"{kind.value}_open"


#: The facts that an emergency of each kind is open.
OPEN_FIELDS: frozenset[str] = frozenset(open_field(kind) for kind in EmergencyKind)

#: The fact fields the section adds.
EMERGENCY_FIELDS: Mapping[str, FieldSpec] = {
    "emergency_open": FieldSpec(
        "emergency_open", FieldType.BOOL, "an emergency (E-*) is open: its plan is not all done"
    ),
    "emergency_kind": FieldSpec(
        "emergency_kind",
        FieldType.ENUM,
        "the kind of the latest open emergency; 'none' when none is open",
        choices=("none", *(k.value for k in EmergencyKind)),
    ),
    **{
        open_field(kind): FieldSpec(
            open_field(kind),
            FieldType.BOOL,
            f"an emergency {kind.value!r} ({EMERGENCY_KINDS[kind]}) is open, whichever "
            "emergency came last",
        )
        for kind in EmergencyKind
    },
    "visit_held": FieldSpec(
        "visit_held",
        FieldType.BOOL,
        "an emergency holds field visits back: one whose kind stops visits has happened, or "
        "one whose kind pauses them is open (the timeline pauses or skips the visit steps)",
    ),
}

_SECTION_KEYS = ("unreachable_attempts", "kinds", "plans", "cites", "doc")
_KIND_KEYS = ("title", "plan", "pauses", "stops", "cites", "doc")
_STEP_KEYS = ("id", "title", "action", "role", "within", "limit", "completed_by", "cites", "doc")


@attrs.frozen
class EmergencyStepSpec:
    """One step of an escalation plan, as the policy states it."""

    id: str
    title: str
    action: str
    role: Role
    within: Offset
    limit: Offset | None
    completed_by: tuple[EventMatcher, ...]
    cites: tuple[str, ...] = ()
    doc: str = ""


@attrs.frozen
class EmergencySpec:
    """What the policy says of one emergency kind: its plan, and what it holds up."""

    kind: EmergencyKind
    title: str
    plan: str
    steps: tuple[EmergencyStepSpec, ...]
    pauses: frozenset[Channel] = frozenset()
    stops: frozenset[Channel] = frozenset()
    cites: tuple[str, ...] = ()
    doc: str = ""

    def stage(self, step: EmergencyStepSpec) -> Stage:
        """The step as a stage of the timeline, anchored on the emergency's event.

        Its id is ``<kind>:<step id>``, so that two open emergencies never share one.
        """
        return Stage(
            id=f"{self.kind.value}:{step.id}",
            plan=f"emergency:{self.kind.value}",
            anchor=Anchor(AnchorKind.EVENT, (EventMatcher(EventKind(self.kind.value)),)),
            action=step.action,
            channel=Channel.INTERNAL,
            owner=step.role.value,
            completed_by=step.completed_by,
            within=step.within,
            limit=step.limit,
            cites=tuple(dict.fromkeys((*step.cites, *self.cites))),
            title=step.title,
            doc=step.doc,
        )

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The plan's steps as timeline stages."""
        return tuple(self.stage(s) for s in self.steps)

    def terms(self) -> EmergencyTerms:
        """What opens, closes and holds the kind (:mod:`collectrules.model.emergency`)."""
        return EmergencyTerms(
            EventKind(self.kind.value),
            tuple(step.completed_by for step in self.steps),
            frozenset(c.value for c in self.pauses),
            frozenset(c.value for c in self.stops),
        )


@attrs.frozen
class EmergencySection(EmergencyPlans):
    """The parsed ``[emergencies]`` section."""

    kinds: Mapping[EmergencyKind, EmergencySpec] = attrs.field(hash=False)
    unreachable_attempts: int | None = None
    cites: tuple[str, ...] = ()
    _terms: tuple[EmergencyTerms, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)

    @_terms.default
    def _kind_terms(self) -> tuple[EmergencyTerms, ...]:
        return tuple(spec.terms() for spec in self.kinds.values())

    def terms(self) -> tuple[EmergencyTerms, ...]:
        """The kinds the section lists, in the order of :class:`EmergencyKind`."""
        return self._terms

    @property
    def attempts(self) -> int | None:
        """``unreachable_attempts``: failed attempts in a row that derive ``absconded``."""
        return self.unreachable_attempts


@attrs.frozen
class Emergency:
    """One emergency of a case at ``as_of``: its kind, when it began, and whether it is open.

    ``at`` is the first event of the kind, or, for ``absconded``, the failed attempt that
    made the debtor unreachable when that came first (``derived`` says so).
    """

    kind: EmergencyKind
    at: pendulum.DateTime
    spec: EmergencySpec = attrs.field(repr=False)
    open: bool
    derived: bool = False

    @property
    def cite(self) -> str:
        """The kind's clause id (E-THREAT …)."""
        return EMERGENCY_KINDS[self.kind]

    def describe(self) -> str:
        """``E-THREAT (threat_to_staff on 2026-04-01T10:00:00+08:00)``."""
        how = ", derived from unreachability" if self.derived else ""
        return f"{self.cite} ({self.kind.value} on {self.at.isoformat()}{how})"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "open": self.open,
            "derived": self.derived,
            "plan": self.spec.plan,
            "pauses": sorted(c.value for c in self.spec.pauses),
            "stops": sorted(c.value for c in self.spec.stops),
            "cites": [self.cite, *(c for c in self.spec.cites if c != self.cite)],
        }


# --------------------------------------------------------------------------- parsing


class _Parser(OffsetReader):
    def matchers(self, table: Mapping[str, Any], path: str) -> tuple[EventMatcher, ...]:
        raw = table.get("completed_by")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            self.fail(f"{path}.completed_by", "required: a list of event kinds", key="completed_by")
            return ()
        out: list[EventMatcher] = []
        bad = 0
        for item in raw:
            try:
                out.append(EventMatcher.parse(item, suggest=bad < _SUGGESTED))
            except ValueError as exc:
                bad += 1
                self.fail(
                    f"{path}.completed_by",
                    str(exc),
                    key="completed_by",
                    suggestion=getattr(exc, "suggestion", None),
                )
        return tuple(out)

    def channels(self, table: Mapping[str, Any], key: str, path: str) -> frozenset[Channel]:
        out: set[Channel] = set()
        known = [c.value for c in Channel]
        bad = 0
        for name in self.texts(table, key, path):
            if name in known:
                out.add(Channel(name))
            else:
                bad += 1
                self.fail(
                    f"{path}.{key}",
                    f"unknown channel {quote(name)}; expected one of {', '.join(known)}",
                    key=key,
                    suggestion=did_you_mean(name, known) if bad <= _SUGGESTED else None,
                )
        return frozenset(out)

    def attempts(self, raw: object, path: str) -> int | None:
        value: object = raw
        if isinstance(raw, str):
            if raw not in self.params:
                self.fail(
                    path,
                    f"unknown parameter {quote(raw)}",
                    suggestion=did_you_mean(raw, list(self.params)),
                )
                return None
            value = self.params[raw]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            self.fail(
                path, f"expected a whole number of attempts from 1 to 1000, got {quote(value)}"
            )
            return None
        return value

    def step(self, item: object, path: str, seen: set[str]) -> EmergencyStepSpec | None:
        if not isinstance(item, Mapping):
            self.fail(path, f"expected a table, got {type(item).__name__}")
            return None
        mark = self.failures
        sid = self.string(item, "id", path)
        if sid:
            path = f"{path.rsplit('[', 1)[0]}[{sid}]"
            if sid in seen:
                self.fail(f"{path}.id", f"duplicate step id {quote(sid)}", key="id")
            seen.add(sid)
        self.keys(item, _STEP_KEYS, path)
        role_text = item.get("role")
        known = [r.value for r in Role]
        role = Role.COLLECTOR
        if role_text in known:
            role = Role(str(role_text))
        else:
            self.fail(
                f"{path}.role",
                f"expected one of {', '.join(known)}, got {quote(role_text)}",
                key="role",
                suggestion=did_you_mean(str(role_text), known),
            )
        # An offset names the step by its id, as a stage's does: its line is the one
        # after ``id = "E-REPORT"``, not the file's first ``within``.
        within = self.offset(item, "within", path, sid or None)
        if within is None and "within" not in item:
            self.fail(f"{path}.within", "required: the due time from the emergency", key="within")
        limit = self.offset(item, "limit", path, sid or None)
        if (
            within is not None
            and limit is not None
            and within.comparable(limit)
            and limit.length() < within.length()
        ):
            self.fail(f"{path}.limit", f"the limit {limit} comes before the due time {within}")
        step = EmergencyStepSpec(
            id=sid,
            title=self.string(item, "title", path, default=sid),
            action=self.string(item, "action", path),
            role=role,
            within=within if within is not None else Offset.parse("0 hours"),
            limit=limit,
            completed_by=self.matchers(item, path),
            cites=self.texts(item, "cites", path),
            doc=self.string(item, "doc", path, default=""),
        )
        return None if self.failures > mark else step


def parse_emergencies(
    raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[EmergencySection, Mapping[str, FieldSpec]]:
    """Parse the ``[emergencies]`` table; every problem goes to the loader with its path."""
    reader = _Parser(loader, params)
    if not isinstance(raw, Mapping):
        reader.fail("emergencies", f"expected a table, got {type(raw).__name__}")
        return EmergencySection({}), EMERGENCY_FIELDS
    reader.keys(raw, _SECTION_KEYS, "emergencies")
    attempts = None
    if "unreachable_attempts" in raw:
        attempts = reader.attempts(raw["unreachable_attempts"], "emergencies.unreachable_attempts")
    plans: dict[str, tuple[EmergencyStepSpec, ...]] = {}
    raw_plans = raw.get("plans", {})
    if not isinstance(raw_plans, Mapping):
        reader.fail("emergencies.plans", "expected a table of plans: [[emergencies.plans.NAME]]")
        raw_plans = {}
    for name, items in raw_plans.items():
        path = f"emergencies.plans.{name}"
        if not isinstance(items, list) or not items:
            reader.fail(path, f"expected at least one step: [[{path}]]")
            continue
        seen: set[str] = set()
        steps = [reader.step(item, f"{path}[{i}]", seen) for i, item in enumerate(items)]
        plans[str(name)] = tuple(s for s in steps if s is not None)
    kinds: dict[EmergencyKind, EmergencySpec] = {}
    raw_kinds = raw.get("kinds", {})
    if not isinstance(raw_kinds, Mapping):
        reader.fail("emergencies.kinds", "expected a table of kinds: [emergencies.kinds.KIND]")
        raw_kinds = {}
    known = [k.value for k in EmergencyKind]
    for name, body in raw_kinds.items():
        path = f"emergencies.kinds.{name}"
        if name not in known:
            reader.fail(
                path,
                f"unknown emergency kind {quote(name)}; expected one of {', '.join(known)}",
                suggestion=did_you_mean(str(name), known),
            )
            continue
        if not isinstance(body, Mapping):
            reader.fail(path, f"expected a table, got {type(body).__name__}")
            continue
        reader.keys(body, _KIND_KEYS, path)
        plan = reader.string(body, "plan", path)
        if plan and plan not in plans:
            reader.fail(
                f"{path}.plan",
                (
                    f"unknown plan {quote(plan)}; the section's "
                    f"plans: {', '.join(sorted(plans)) or 'none'}"
                ),
                key="plan",
                suggestion=did_you_mean(plan, list(plans)),
            )
        kind = EmergencyKind(name)
        kinds[kind] = EmergencySpec(
            kind=kind,
            title=reader.string(body, "title", path, default=kind.value),
            plan=plan,
            steps=plans.get(plan, ()),
            pauses=reader.channels(body, "pauses", path),
            stops=reader.channels(body, "stops", path),
            cites=reader.texts(body, "cites", path),
            doc=reader.string(body, "doc", path, default=""),
        )
    if attempts is not None and EmergencyKind.ABSCONDED not in kinds:
        reader.fail(
            "emergencies.unreachable_attempts",
            "derives absconded, but the section has no [emergencies.kinds.absconded]",
        )
    ordered = {k: kinds[k] for k in EmergencyKind if k in kinds}
    section = EmergencySection(ordered, attempts, reader.texts(raw, "cites", "emergencies"))
    return section, EMERGENCY_FIELDS


# --------------------------------------------------------------------------- state


def emergencies_of(policy: Policy) -> EmergencySection | None:
    """The policy's parsed ``[emergencies]`` section, if it has one."""
    section = policy.sections.get("emergencies")
    return section if isinstance(section, EmergencySection) else None


def _may_open(events: Sequence[Event], section: EmergencySection) -> bool:
    """Whether any emergency may open on ``events``: one is of a kind the section
    knows, or there are enough contact attempts to make the debtor unreachable."""
    kinds = section.kinds
    # EmergencyKind and EventKind are both StrEnums: equal values are equal members.
    names: AbstractSet[str] = kinds.keys()
    if any(e.kind in names for e in events):
        return True
    attempts = section.unreachable_attempts
    return (
        attempts is not None
        and EmergencyKind.ABSCONDED in kinds
        and sum(e.kind is EventKind.CONTACT_ATTEMPT for e in events) >= attempts
    )


def open_emergencies(
    case: Case, as_of: dt.datetime, section: EmergencySection
) -> tuple[Emergency, ...]:
    """The emergencies of ``case`` at ``as_of`` that the section knows, in time order.

    Only events at or before ``as_of`` count. Each kind counts once, from its first
    event (for ``absconded``: or the attempt that made the debtor unreachable, whichever
    came first); it is open until every step of its plan is done. The reading is
    :func:`collectrules.model.emergency.emergency_windows`, the guardrails' too.
    """
    if not _may_open(case.events, section):
        return ()
    windows = section.windows(e for e in case.events if e.at <= as_of)
    tz = zone(case.timezone)
    found: list[Emergency] = []
    for window in windows:
        kind = EmergencyKind(window.kind.value)
        at = in_zone(pendulum.instance(window.start), tz)
        found.append(
            Emergency(kind, at, section.kinds[kind], window.open_at(as_of), window.derived)
        )
    # As instants: ``at`` is in the case's zone object, whose repeated hour reads by wall
    # clock in the wrong order (and ``emergency_kind`` is the last open one's).
    return tuple(sorted(found, key=lambda e: (instant(e.at), e.kind.value)))


def emergencies_now(
    policy: Policy, case: Case, as_of: dt.datetime, section: EmergencySection
) -> tuple[Emergency, ...]:
    """:func:`open_emergencies` of the case being derived at ``as_of`` (this very object),
    worked out once for the derivation: its facts and its steps both read them (see
    :func:`collectrules.timeline._case.case_events`)."""
    if not _may_open(case.events, section):
        return ()
    seen = case_events(policy, case, as_of)
    found: tuple[Emergency, ...] | None = seen.judged.get("emergencies")
    if found is None:
        found = seen.judged["emergencies"] = open_emergencies(case, as_of, section)
    return found


def emergency_facts(case: Case, as_of: dt.datetime, section: EmergencySection) -> dict[str, Any]:
    """``emergency_open``, ``emergency_kind`` (the latest open one's), whether one of
    each kind is open (``court_proceeding_open``, …: :func:`open_field`) and
    ``visit_held`` at ``as_of``."""
    if not case.events:  # an emergency opens on an event
        return _QUIET_FACTS.copy()
    return _facts_of(open_emergencies(case, as_of, section))


#: The facts of a case without an emergency.
_QUIET_FACTS = {
    "emergency_open": False,
    "emergency_kind": "none",
    **{open_field(kind): False for kind in EmergencyKind},
    "visit_held": False,
}


def _facts_of(found: tuple[Emergency, ...]) -> dict[str, Any]:
    """:func:`emergency_facts` of the emergencies ``found``."""
    opened = [e for e in found if e.open]
    held = any(Channel.VISIT in e.spec.stops for e in found) or any(
        Channel.VISIT in e.spec.pauses for e in opened
    )
    kinds = {e.kind for e in opened}
    return {
        "emergency_open": bool(opened),
        "emergency_kind": opened[-1].kind.value if opened else "none",
        # A court proceeding holds the case while it is open, an absconded debtor's
        # assets are looked for, even when a later emergency is the latest open one
        # (``emergency_kind`` names that one).
        **{open_field(kind): kind in kinds for kind in EmergencyKind},
        "visit_held": held,
    }


# --------------------------------------------------------------------------- plug-in


class EmergenciesPlugin(BaseSection):
    """The ``[emergencies]`` section."""

    key = "emergencies"
    doc = "Emergencies and their escalation plans: see docs/howto-emergencies.md."

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[EmergencySection, Mapping[str, FieldSpec]]:
        """Parse the ``[emergencies]`` table."""
        return parse_emergencies(raw, loader, params)

    def schema_defs(self) -> dict[str, Any]:
        """The section's ``$defs``."""
        return {"emergencies": _SCHEMA}

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """``emergency_open``, ``emergency_kind``, ``court_proceeding_open`` and
        ``visit_held``, when the policy has the section."""
        section = emergencies_of(policy)
        if section is None:
            return {}
        if not case.events:  # an emergency opens on an event
            return _QUIET_FACTS.copy()
        return _facts_of(emergencies_now(policy, case, as_of, section))


#: A text or a list of texts, as the loader reads them (``texts``).
_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _one_or_many(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    """One ``item``, or a list of them (at least ``min_items``)."""
    many: dict[str, Any] = {"type": "array", "items": item}
    if min_items:
        many["minItems"] = min_items
    return {"oneOf": [item, many]}


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    # unreachable_attempts derives absconded: the kinds that replace the base's name it.
    "if": {"required": ["unreachable_attempts", "kinds"]},
    "then": {"properties": {"kinds": {"required": ["absconded"]}}},
    "properties": {
        "unreachable_attempts": {
            "description": "failed contact attempts in a row that derive absconded "
            "(a number, or a parameter's name)",
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 1000}, {"type": "string"}],
        },
        "cites": _STRINGS,
        "doc": {"type": "string"},
        "kinds": {
            "type": "object",
            "propertyNames": {"enum": [k.value for k in EmergencyKind]},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["plan"],
                "properties": {
                    "title": {"type": "string"},
                    "plan": {"type": "string"},
                    "pauses": _one_or_many({"enum": [c.value for c in Channel]}),
                    "stops": _one_or_many({"enum": [c.value for c in Channel]}),
                    "cites": _STRINGS,
                    "doc": {"type": "string"},
                },
            },
        },
        "plans": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "action", "role", "within", "completed_by"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "action": {"type": "string"},
                        "role": {"enum": [r.value for r in Role]},
                        "within": {
                            **OFFSET,
                            "description": "The due time, from the emergency: an offset "
                            'such as "4 hours", or { param, unit }.',
                        },
                        "limit": {
                            **OFFSET,
                            "description": "The hard limit, from the emergency (not before "
                            "within).",
                        },
                        "completed_by": _one_or_many({"type": "string"}, 1),
                        "cites": _STRINGS,
                        "doc": {"type": "string"},
                    },
                },
            },
        },
    },
}

#: The emergencies section plug-in.
EMERGENCIES = EmergenciesPlugin()
