"""Contact guardrails: may this contact happen now, and if not, when?

A policy's ``[guardrails]`` section holds contact packs, one table per pack, keyed by
the pack's id (``CN``, ``US-REGF``, ``UK`` …). Each pack lists typed rules; every figure
is a literal or the name of a policy parameter. :class:`Guardrails` applies **every**
rule of every pack: a contact is allowed only when no rule blocks it, so when two packs
apply, the stricter one wins.

The rule kinds:

``hours``
    Contact only between ``start`` and ``end``, in the debtor's local time (the case's
    zone), both ends included: with 08:00–22:00, 22:00 itself is the last allowed
    instant, as in the timeline's contact windows. ``consent_exempts`` lets through a
    contact the debtor consented to.
``unanswered_per_day``
    At most ``max`` unanswered call attempts a local day.
``calls_in_window``
    At most ``max`` calls in any ``days`` consecutive local days.
``quiet_after_conversation``
    No call for ``days`` local days from the day of a telephone conversation (a call
    that reached the person, ``reached`` or ``refused``).
``third_party``
    Contacting a third party (employer, family, anyone else): never to collect; only
    for the ``purposes`` listed; and, with ``requires_unreachable``, only when the
    debtor cannot be reached, read as the decision reads it (its ``unreachable`` fact,
    :func:`~collectrules.policy.derive.unreachable_signs`): a manual ``unreachable``
    signal of the case, an invalid number, or ``failed_attempts`` unanswered attempts
    in a row to the debtor, in force until the debtor is reached again (or another cure,
    docs/evidence.md). With ``failed_attempts`` the policy's ``unreachable_attempts``,
    as CN-THIRD-PARTY has it, the rule and the decision agree. The verdict repeats the
    rule's ``conditions``.
``parties``
    The parties to the debt (guarantors, co-debtors) may be contacted.
``electronic_opt_out``
    Every electronic message carries a clear opt-out.
``validation_notice``
    A validation notice in the first communication or within ``days`` business days of
    it, on the ``calendar`` country's working days (``business_days = false`` counts
    calendar days): an obligation that the verdict reports with its due time. The
    first communication is the first event to the debtor of
    :data:`~collectrules.model.case.COMMUNICATION_EVENTS`: a call that reached the
    debtor (``reached`` or ``refused``), a notice or letter, or the validation notice
    itself; a timeline step anchored on those events reads it the same way.
``time_barred``
    Once the limitation period (``years`` from the due date, restarted by the
    ``restarted_by`` events) has run, never sue or threaten suit: a contact that
    mentions a suit, and any contact on the ``court`` channel (a suit itself), is
    blocked. It also gives the ``time_barred`` fact, which remedy rules read to block
    ``litigate``.
``conduct``
    The conduct a channel calls for (CH-PHONE, CH-LETTER, CH-VISIT, CH-LAW): each
    contact on the rule's channels carries the rule's ``conditions``.
``visit_arranged``
    A field visit only when arranged in advance (CH-VISIT): a ``visit_arranged`` event
    after the last visit, and before the contact.
``threatened_staff``
    After violence or threats against staff (E-THREAT), the threatened staff make no
    field visit on the case (with ``whole_case``, no one does: as a policy whose
    ``threat_to_staff`` emergency stops visits holds them); the threat calls for a
    record, an obligation satisfied by an ``emergency_reported`` event within ``hours``
    of the threat.
``emergency_hold``
    While an emergency (DOMAIN.md §10) of the rule's ``emergencies`` kinds (default:
    every kind the policy's ``[emergencies]`` section lists) holds the contact's channel,
    no contact on it: as the timeline holds the steps and the decision reads
    ``visit_held``, from one reading of the events
    (:mod:`collectrules.model.emergency`). A kind holds the channels its ``pauses`` name
    while it is open (until every step of its escalation plan is done: the verdict's
    ``until``, when the history records it) and those its ``stops`` name for good. An
    emergency opens and closes at the contact's instant as the decision at that
    ``as_of`` reads it (the events at or before it count). The policy needs an
    ``[emergencies]`` section listing the kinds.
``contact_record``
    Keep a complete, traceable record of every collection activity (CONDUCT: 催收记录):
    an obligation that every contact attempt and visit carries an outcome and a note,
    each within ``hours`` of it.
``product_channels``
    Cases of the rule's ``products`` are contacted only on its ``allowed`` channels
    (CARD: phone, email, SMS, online platforms).
``credit_bureau``
    For the rule's ``products``, report the repayment status to the credit bureau
    (CARD): an obligation due ``days`` after the first overdue day, satisfied by a
    ``credit_bureau_reported`` event.

The last two are keyed by products, and a policy may add its own in
``[catalogue.products]``. Such a rule covers a product it names; a policy's own
product whose ``category`` (a standard product) it names; and a policy's own product
that declares no category, or one the catalogue does not hold: for those the strictest
default applies (every such rule, so only the channels every rule allows, and every
duty), and the reason says so. A product is never left without limits by omission.

The history is the case's prior contact events; only events strictly before the
contact's instant count, except for the emergencies (``emergency_hold``,
``threatened_staff``), read as the decision at that instant reads them: an emergency
recorded at the contact's very instant holds it back. An event without a ``party`` is
taken as a contact with the debtor, and a ``contact_attempt`` without a ``channel`` as a
phone call. Events do not record which number was dialled, so the per-number limit
counts every attempt to the same party, which is never looser than counting per number.
"""

from __future__ import annotations

import abc
import bisect
import datetime as dt
import enum
import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import pendulum

from collectrules._arguments import require_indent
from collectrules._choice import Choice
from collectrules.calendars import BusinessCalendar, ContactHours
from collectrules.compliance._packs import Figure, PackReader, start_of_local_day
from collectrules.conditions import FieldSpec, FieldType, Scalar
from collectrules.errors import FieldProblem, InputError, PolicyError, did_you_mean, quote
from collectrules.model.case import (
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Product,
    fixed_offset,
    is_communication,
    of_nothing,
    product_name,
)
from collectrules.model.emergency import EMERGENCY_CLAUSES, EmergencyPlans, EmergencyWindow
from collectrules.model.limits import MAX_EVENTS, MAX_KIND_LENGTH
from collectrules.model.time import require_aware, require_case
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import first_unreachable, unreachable_signs
from collectrules.policy.section import SectionLoader

__all__ = [
    "ELECTRONIC_CHANNELS",
    "KIND_KEYS",
    "PACK_KEYS",
    "RULE_KEYS",
    "THIRD_PARTIES",
    "Contact",
    "ContactChannel",
    "GuardrailPack",
    "Guardrails",
    "GuardrailsSection",
    "Party",
    "Purpose",
    "Reason",
    "ReasonEffect",
    "RuleKind",
    "Verdict",
    "extra_facts",
    "guardrails_of",
    "parse_section",
]


class ContactChannel(Choice):
    """How the lender reaches a party."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    APP = "app"
    LETTER = "letter"
    VISIT = "visit"
    LAWYER_LETTER = "lawyer_letter"
    COURT = "court"


class Party(Choice):
    """Whom the contact is with."""

    DEBTOR = "debtor"
    GUARANTOR = "guarantor"
    CO_DEBTOR = "co_debtor"
    EMPLOYER = "employer"
    FAMILY = "family"
    THIRD_PARTY = "third_party"


class Purpose(Choice):
    """Why a party is contacted."""

    COLLECT = "collect"
    LOCATE = "locate"
    MESSAGE = "message"


class ReasonEffect(Choice):
    """What a reason does to the verdict."""

    BLOCK = "block"
    CONDITION = "condition"
    OBLIGATION = "obligation"
    ALLOW = "allow"


class RuleKind(Choice):
    """The kinds of guardrail rule (see the module docstring)."""

    HOURS = "hours"
    UNANSWERED_PER_DAY = "unanswered_per_day"
    CALLS_IN_WINDOW = "calls_in_window"
    QUIET_AFTER_CONVERSATION = "quiet_after_conversation"
    THIRD_PARTY = "third_party"
    PARTIES = "parties"
    ELECTRONIC_OPT_OUT = "electronic_opt_out"
    VALIDATION_NOTICE = "validation_notice"
    TIME_BARRED = "time_barred"
    CONDUCT = "conduct"
    VISIT_ARRANGED = "visit_arranged"
    THREATENED_STAFF = "threatened_staff"
    EMERGENCY_HOLD = "emergency_hold"
    CONTACT_RECORD = "contact_record"
    PRODUCT_CHANNELS = "product_channels"
    CREDIT_BUREAU = "credit_bureau"


#: Channels whose messages are electronic.
ELECTRONIC_CHANNELS = frozenset({ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.APP})
#: Parties who are not parties to the debt.
THIRD_PARTIES = frozenset({Party.EMPLOYER, Party.FAMILY, Party.THIRD_PARTY})

_REACHED = frozenset({ContactOutcome.REACHED, ContactOutcome.REFUSED})


def _enum(kind: type[enum.StrEnum], name: str, value: object) -> Any:
    choices = [m.value for m in kind]
    try:
        return kind(value if isinstance(value, str) else "")
    except ValueError:
        msg = f"unknown {name} {quote(value)}; expected one of {', '.join(choices)}"
        hint = (
            did_you_mean(value, choices)
            if isinstance(value, str) and len(value) <= MAX_KIND_LENGTH
            else None
        )
        raise InputError(
            [FieldProblem(name, msg, suggestion=hint)],
            subject="contact",
        ) from None


def _to_channel(value: object) -> ContactChannel:
    return _enum(ContactChannel, "channel", value)  # type: ignore[no-any-return]


def _to_party(value: object) -> Party:
    return _enum(Party, "party", value)  # type: ignore[no-any-return]


def _optional_purpose(value: object) -> Purpose | None:
    return None if value is None else _to_purpose(value)


def _to_purpose(value: object) -> Purpose:
    return _enum(Purpose, "purpose", value)  # type: ignore[no-any-return]


def _optional_staff(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KIND_LENGTH:
        msg = (
            f"expected a non-empty name of at most {MAX_KIND_LENGTH} characters, got {quote(value)}"
        )
        raise InputError([FieldProblem("staff", msg)], subject="contact")
    return value


def _flag(name: str, value: object) -> bool:
    # Only True or False: a text "false" or a 0 read as a truth value would grant a
    # consent, or an opt-out, that the caller never recorded.
    if not isinstance(value, bool):
        msg = f"expected true or false, got {quote(value)}"
        raise InputError([FieldProblem(name, msg)], subject="contact")
    return value


def _consent(value: object) -> bool:
    return _flag("consent", value)


def _mentions_suit(value: object) -> bool:
    return _flag("mentions_suit", value)


def _opt_out(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        msg = f"expected true, false or None (not yet written), got {quote(value)}"
        raise InputError([FieldProblem("opt_out", msg)], subject="contact")
    return value


def _aware(value: object) -> pendulum.DateTime:

    try:
        return require_aware(value)
    except InputError as exc:
        raise InputError(
            [attrs.evolve(p, path="at") for p in exc.problems], subject="contact"
        ) from None


@attrs.frozen
class Contact:
    """A contact the lender means to make: channel, party and instant.

    ``purpose`` says why a third party is contacted; ``consent`` that the debtor
    consented to this time; ``opt_out`` whether an electronic message carries an
    opt-out (``None``: not yet written); ``mentions_suit`` that the message mentions a
    suit; ``staff`` names the member of staff who makes it (E-THREAT).
    """

    channel: ContactChannel = attrs.field(converter=_to_channel)
    party: Party = attrs.field(converter=_to_party)
    at: pendulum.DateTime = attrs.field(converter=_aware)
    purpose: Purpose | None = attrs.field(default=None, converter=_optional_purpose)
    consent: bool = attrs.field(default=False, converter=_consent)
    opt_out: bool | None = attrs.field(default=None, converter=_opt_out)
    mentions_suit: bool = attrs.field(default=False, converter=_mentions_suit)
    staff: str | None = attrs.field(default=None, converter=_optional_staff)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``staff`` only when named)."""
        out: dict[str, Any] = {
            "channel": self.channel.value,
            "party": self.party.value,
            "at": self.at.isoformat(),
            "purpose": self.purpose.value if self.purpose is not None else None,
            "consent": self.consent,
            "opt_out": self.opt_out,
            "mentions_suit": self.mentions_suit,
        }
        if self.staff is not None:
            out["staff"] = self.staff
        return out


@attrs.frozen
class Reason:
    """What one rule says of a contact, with its citations.

    A ``block`` gives ``until``, the earliest instant at which this rule would allow
    the contact (``None`` when no later time helps). An ``obligation`` gives ``due``.
    """

    pack: str
    rule_id: str
    effect: ReasonEffect
    message: str
    cites: tuple[str, ...]
    until: pendulum.DateTime | None = None
    due: pendulum.DateTime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "pack": self.pack,
            "rule_id": self.rule_id,
            "effect": self.effect.value,
            "message": self.message,
            "cites": list(self.cites),
            "until": self.until.isoformat() if self.until is not None else None,
            "due": self.due.isoformat() if self.due is not None else None,
        }


@attrs.frozen
class Verdict:
    """Whether a contact may happen, with every reason of every pack."""

    case_id: str
    contact: Contact
    allowed: bool
    reasons: tuple[Reason, ...]
    packs: tuple[str, ...]

    @property
    def blocks(self) -> tuple[Reason, ...]:
        """The reasons that block the contact."""
        return tuple(f for f in self.reasons if f.effect is ReasonEffect.BLOCK)

    @property
    def conditions(self) -> tuple[Reason, ...]:
        """What the contact must respect if it happens."""
        return tuple(f for f in self.reasons if f.effect is ReasonEffect.CONDITION)

    @property
    def obligations(self) -> tuple[Reason, ...]:
        """What the lender must do by a date."""
        return tuple(f for f in self.reasons if f.effect is ReasonEffect.OBLIGATION)

    @property
    def cites(self) -> tuple[str, ...]:
        """Every citation of the blocking reasons (or of all reasons when allowed)."""
        source = self.blocks or self.reasons
        return tuple(dict.fromkeys(c for f in source for c in f.cites))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, in a stable order."""
        return {
            "case_id": self.case_id,
            "contact": self.contact.to_dict(),
            "allowed": self.allowed,
            "packs": list(self.packs),
            "reasons": [f.to_dict() for f in self.reasons],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """Deterministic JSON; ``indent`` is ``None`` (compact) or 0 to 16 spaces."""
        indent = require_indent(indent)
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            ensure_ascii=False,
            indent=indent,
            separators=(",", ":") if indent is None else (",", ": "),
        )


# --------------------------------------------------------------------------- context


@attrs.frozen
class _Ctx:
    case: Case
    contact: Contact
    history: tuple[Event, ...]  # all events, sorted by instant
    #: The policy the guardrails belong to: what reads the case as the decision does.
    policy: Policy | None = None
    #: Whether the events at the contact's instant have happened: true for the
    #: obligations at ``as_of``, which read the events at or before it, as the decision
    #: and the timeline do; false for a planned contact, which comes after them.
    through: bool = False
    #: Whether the history is the case's own events (no ``history`` given): the decision
    #: reads them in the case's order, which the sorted history may not keep for
    #: events at one instant.
    own: bool = False

    def seen(self) -> Case:
        """The case with the history as its events: what the decision would read."""
        if self.own or self.history == self.case.events:
            return self.case
        return attrs.evolve(self.case, events=self.history)

    @property
    def zone(self) -> str:
        return self.case.timezone

    @property
    def local(self) -> pendulum.DateTime:
        return self.contact.at.in_timezone(self.zone)

    def day(self, at: dt.datetime) -> dt.date:
        return self.case.local_date(at)

    def prior(self, before: dt.datetime | None = None) -> tuple[Event, ...]:
        if before is None and self.through:
            return tuple(e for e in self.history if e.at <= self.contact.at)
        limit = self.contact.at if before is None else before
        return tuple(e for e in self.history if e.at < limit)

    def day_start(self, day: dt.date) -> pendulum.DateTime:
        return start_of_local_day(day, self.zone)

    def fmt(self, at: dt.datetime) -> str:
        return pendulum.instance(at).in_timezone(self.zone).isoformat()


def _party(event: Event) -> str:
    return event.party or Party.DEBTOR.value


def _channel(event: Event) -> str:
    if event.channel:
        return event.channel
    return ContactChannel.PHONE.value if event.kind is EventKind.CONTACT_ATTEMPT else ""


def _is_call(event: Event, channels: frozenset[ContactChannel]) -> bool:
    return event.kind is EventKind.CONTACT_ATTEMPT and _channel(event) in channels


# --------------------------------------------------------------------------- rules


@attrs.frozen(kw_only=True)
class _Rule(abc.ABC):
    id: str
    pack: str
    kind: RuleKind
    reason: str
    cites: tuple[str, ...]
    channels: frozenset[ContactChannel]
    parties: frozenset[Party]

    def applies(self, contact: Contact) -> bool:
        return contact.channel in self.channels and contact.party in self.parties

    def reason_for(
        self,
        effect: ReasonEffect,
        message: str,
        *,
        until: pendulum.DateTime | None = None,
        due: pendulum.DateTime | None = None,
    ) -> Reason:
        return Reason(self.pack, self.id, effect, message, self.cites, until, due)

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        """The rule's figures, by key (for docs and verdicts)."""
        return ()

    @abc.abstractmethod
    def assess(self, ctx: _Ctx) -> Reason | None:
        """The rule's reason for this contact, or ``None`` when it has nothing to say."""


@attrs.frozen(kw_only=True)
class HoursRule(_Rule):
    """Contact only within the allowed local hours, both ends included."""

    start: Figure
    end: Figure
    hours: ContactHours
    consent_exempts: bool = False

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("start", self.start), ("end", self.end))

    def assess(self, ctx: _Ctx) -> Reason | None:
        local = ctx.local
        at = f"{local.format('HH:mm:ss')} local time ({ctx.zone})"
        window = f"{self.start}–{self.end}"
        if self.hours.allows(local, ctx.zone):
            return self.reason_for(ReasonEffect.ALLOW, f"{at} is within the allowed hours {window}")
        if self.consent_exempts and ctx.contact.consent and ctx.contact.party is Party.DEBTOR:
            return self.reason_for(
                ReasonEffect.ALLOW,
                f"{at} is outside the allowed hours {window}, "
                "but the debtor consented to this time",
            )
        opening = self.hours.first_allowed(local, ctx.zone)
        message = (
            f"{at} is outside the allowed hours {window} (start "
            f"{self.start.describe()}, end {self.end.describe()}); next allowed at "
            f"{opening.isoformat()}"
        )
        return self.reason_for(ReasonEffect.BLOCK, message, until=opening)


@attrs.frozen(kw_only=True)
class UnansweredRule(_Rule):
    """At most ``max`` unanswered call attempts a local day, per party."""

    max: Figure

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("max", self.max),)

    def assess(self, ctx: _Ctx) -> Reason | None:
        today = ctx.day(ctx.contact.at)
        party = ctx.contact.party.value
        count = sum(
            1
            for e in ctx.prior()
            if _is_call(e, self.channels)
            and _party(e) == party
            and e.outcome is ContactOutcome.NO_ANSWER
            and ctx.day(e.at) == today
        )
        limit = self.max.as_int
        what = (
            f"{count} unanswered call attempt(s) to the {party} on {today.isoformat()} "
            f"({ctx.zone}); at most {self.max.describe()} a day"
        )
        if count < limit:
            return self.reason_for(ReasonEffect.ALLOW, what)
        until = ctx.day_start(today + dt.timedelta(days=1))
        return self.reason_for(
            ReasonEffect.BLOCK, f"{what}; next allowed from {until.isoformat()}", until=until
        )


@attrs.frozen(kw_only=True)
class CallsInWindowRule(_Rule):
    """At most ``max`` calls in any ``days`` consecutive local days, per party."""

    max: Figure
    days: Figure

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("max", self.max), ("days", self.days))

    def assess(self, ctx: _Ctx) -> Reason | None:
        today = ctx.day(ctx.contact.at)
        days, limit = self.days.as_int, self.max.as_int
        calls = _Calls(ctx, self.channels)
        first = today - dt.timedelta(days=days - 1)
        count = calls.count(before=ctx.contact.at, since=first, last=today)
        what = (
            f"{count} call(s) to the {ctx.contact.party.value} from {first.isoformat()} to "
            f"{today.isoformat()}; at most {self.max.describe()} in "
            f"{self.days.describe()} consecutive days"
        )
        if count < limit:
            return self.reason_for(ReasonEffect.ALLOW, what)
        until = ctx.day_start(today + dt.timedelta(days=days))
        for offset in range(1, days + 1):
            day = today + dt.timedelta(days=offset)
            start = ctx.day_start(day)
            if calls.count(before=start, since=day - dt.timedelta(days=days - 1), last=day) < limit:
                until = start
                break
        return self.reason_for(
            ReasonEffect.BLOCK, f"{what}; next allowed from {until.isoformat()}", until=until
        )


class _Calls:
    """The calls of a history to the contact's party, for counting them in windows.

    The history is sorted by instant, so the calls' local days are sorted too, and a
    window's count is a few searches, not a pass over every event; except where the
    clocks went back across midnight (St John's, 29 October 2000: 00:01 back to 23:01 of
    the day before), where a later call can fall on an earlier day, and the count
    passes over the calls.
    """

    __slots__ = ("days", "instants", "sorted")

    def __init__(self, ctx: _Ctx, channels: frozenset[ContactChannel]) -> None:
        party = ctx.contact.party.value
        calls = [e.at for e in ctx.history if _is_call(e, channels) and _party(e) == party]
        self.instants = calls
        self.days = [ctx.day(at) for at in calls]
        self.sorted = all(a <= b for a, b in itertools.pairwise(self.days))

    def count(self, *, before: dt.datetime, since: dt.date, last: dt.date) -> int:
        """The calls before the instant ``before`` on the local days ``since`` to
        ``last``. (A call before an instant falls on its local day or earlier, except
        where the clocks went back across midnight.)"""
        taken = bisect.bisect_left(self.instants, before)
        if not self.sorted:
            return sum(since <= day <= last for day in self.days[:taken])
        days = self.days
        return bisect.bisect_right(days, last, hi=taken) - bisect.bisect_left(days, since, hi=taken)


@attrs.frozen(kw_only=True)
class QuietAfterConversationRule(_Rule):
    """No call for ``days`` local days from the day of a telephone conversation.

    A call that reached the person is a conversation, whatever was said: a call in which
    the person refused to pay (``refused``) counts as one too.
    """

    days: Figure

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("days", self.days),)

    def assess(self, ctx: _Ctx) -> Reason | None:
        party = ctx.contact.party.value
        talks = [
            e
            for e in ctx.prior()
            if e.kind is EventKind.CONTACT_ATTEMPT
            and _channel(e) == ContactChannel.PHONE.value
            and e.outcome in _REACHED
            and _party(e) == party
        ]
        if not talks:
            return self.reason_for(
                ReasonEffect.ALLOW, f"no telephone conversation with the {party} on record"
            )
        talk = talks[-1]
        talk_day = ctx.day(talk.at)
        reopen = talk_day + dt.timedelta(days=self.days.as_int)
        what = (
            f"telephone conversation with the {party} on {talk_day.isoformat()}; no call "
            f"for {self.days.describe()} days from that day"
        )
        if ctx.day(ctx.contact.at) < reopen:
            until = ctx.day_start(reopen)
            return self.reason_for(
                ReasonEffect.BLOCK, f"{what}; next allowed from {until.isoformat()}", until=until
            )
        return self.reason_for(ReasonEffect.ALLOW, f"{what}: that period has ended")


#: The note a derived signal starts with.
_DERIVED = "derived: "


@attrs.frozen(kw_only=True)
class ThirdPartyRule(_Rule):
    """Third parties: never to collect, only for some purposes, maybe only if unreachable."""

    purposes: frozenset[Purpose]
    conditions: tuple[str, ...] = ()
    requires_unreachable: bool = False
    failed_attempts: Figure | None = None

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("failed_attempts", self.failed_attempts),) if self.failed_attempts else ()

    def unreachable(self, ctx: _Ctx) -> str | None:
        """Why the debtor cannot be reached just before the contact, as the decision
        reads it (:func:`~collectrules.policy.derive.unreachable_signs`, on the history
        strictly before the contact's instant); ``None`` if the debtor can be reached."""
        if ctx.policy is None:  # pragma: no cover - every context is built with one
            return None
        before = ctx.contact.at.subtract(microseconds=1)
        signs = unreachable_signs(ctx.seen(), before, ctx.policy, attempts=self._attempts())
        if not signs:
            return None
        first = min(signs, key=lambda s: fixed_offset(s.observed_at))
        note = first.note or ""
        what = note[len(_DERIVED) :] if note.startswith(_DERIVED) else "an unreachable signal"
        return f"{what}, in force since {ctx.fmt(first.observed_at)}"

    def _attempts(self) -> int | None:
        """The rule's own unanswered attempts in a row; ``None``: the policy's
        ``unreachable_attempts``, as the decision counts them."""
        return self.failed_attempts.as_int if self.failed_attempts is not None else None

    def _unreachable_from(self, ctx: _Ctx) -> pendulum.DateTime | None:
        """The first instant after the contact's at which the debtor cannot be reached
        (a second after the sign that makes it so, as only what comes strictly before a
        contact counts); ``None`` if the case and its history never say so."""
        if ctx.policy is None:  # pragma: no cover - every context is built with one
            return None
        instants = [e.at for e in ctx.history] + [s.observed_at for s in ctx.case.signals]
        end = max([ctx.contact.at, *instants], key=fixed_offset)
        found = first_unreachable(
            ctx.seen(), ctx.contact.at, end, ctx.policy, attempts=self._attempts()
        )
        if found is None:
            return None
        return pendulum.instance(found).add(seconds=1).in_timezone(ctx.zone)

    def assess(self, ctx: _Ctx) -> Reason | None:
        contact = ctx.contact
        party = contact.party.value
        allowed = ", ".join(sorted(p.value for p in self.purposes))
        if contact.purpose is not None and contact.purpose not in self.purposes:
            return self.reason_for(
                ReasonEffect.BLOCK,
                f"the {party} is not a party to the debt: "
                f"contact only to {allowed}, never to "
                f"{contact.purpose.value}",
            )
        terms = "; ".join(self.conditions) or f"only to {allowed}"
        if not self.requires_unreachable:
            return self.reason_for(
                ReasonEffect.CONDITION, f"the {party} is not a party to the debt: {terms}"
            )
        why = self.unreachable(ctx)
        if why is not None:
            return self.reason_for(
                ReasonEffect.CONDITION,
                f"the debtor cannot be reached ({why}); the {party} may be contacted: {terms}",
            )
        until = self._unreachable_from(ctx)
        need = self.failed_attempts.describe() if self.failed_attempts is not None else "0"
        return self.reason_for(
            ReasonEffect.BLOCK,
            f"the debtor can still be reached: a third party may be contacted only after "
            f"{need} failed attempts in a row, an invalid number or an unreachable signal",
            until=until,
        )


@attrs.frozen(kw_only=True)
class PartiesRule(_Rule):
    """The parties to the debt may be contacted."""

    def assess(self, ctx: _Ctx) -> Reason | None:
        party = ctx.contact.party
        if party is Party.GUARANTOR and not ctx.case.guarantors:
            return self.reason_for(
                ReasonEffect.BLOCK,
                "the case records no guarantor; a person who "
                "is not a party to the debt is a third party",
            )
        return self.reason_for(
            ReasonEffect.ALLOW, f"the {party.value} is a party to the debt and may be contacted"
        )


@attrs.frozen(kw_only=True)
class OptOutRule(_Rule):
    """Each electronic message carries a clear opt-out."""

    def assess(self, ctx: _Ctx) -> Reason | None:
        opt_out = ctx.contact.opt_out
        if opt_out is False:
            return self.reason_for(
                ReasonEffect.BLOCK,
                "an electronic message must carry a clear opt-out, and this one does not",
            )
        if opt_out is None:
            return self.reason_for(ReasonEffect.CONDITION, "the message must carry a clear opt-out")
        return self.reason_for(ReasonEffect.ALLOW, "the message carries an opt-out")


@attrs.frozen(kw_only=True)
class ValidationNoticeRule(_Rule):
    """A validation notice within ``days`` (business) days of the first communication."""

    days: Figure
    calendar: BusinessCalendar | None = None

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("days", self.days),)

    def due_at(self, first: dt.datetime, zone: str) -> pendulum.DateTime:
        """When the notice is due: ``days`` (business) days after the first communication."""
        if self.calendar is None:
            return pendulum.instance(first).in_timezone(zone).add(days=self.days.as_int)
        return self.calendar.add_business_days(first, self.days.as_int, zone)

    def status(self, ctx: _Ctx, *, include_contact: bool) -> Reason:
        """The obligation's state at the contact's instant."""
        prior = ctx.prior()
        sent = [
            e
            for e in prior
            if e.kind is EventKind.VALIDATION_NOTICE_SENT and _party(e) == Party.DEBTOR.value
        ]
        if sent:
            return self.reason_for(
                ReasonEffect.ALLOW, f"the validation notice was sent on {ctx.fmt(sent[0].at)}"
            )
        # The first communication as us_regf's US-VALIDATION step reads it: the same
        # events (COMMUNICATION_EVENTS), to the debtor.
        communications = [
            e for e in prior if _party(e) == Party.DEBTOR.value and is_communication(e)
        ]
        unit = f"business days ({self.calendar.name})" if self.calendar else "days"
        if communications:
            first_at: dt.datetime = communications[0].at
            origin = f"the first communication on {ctx.fmt(first_at)}"
        elif include_contact:
            first_at = ctx.contact.at
            origin = "this contact, if it is the first communication"
        else:
            return self.reason_for(
                ReasonEffect.ALLOW,
                "no communication with the debtor yet; the "
                "validation notice falls due after the first",
            )
        due = self.due_at(first_at, ctx.zone)
        late = ctx.contact.at > due
        message = (
            f"send the validation notice in the first communication or within "
            f"{self.days.describe()} {unit} of it ({origin}): by {due.isoformat()}"
            + ("; it is overdue" if late else "")
        )
        return self.reason_for(ReasonEffect.OBLIGATION, message, due=due)

    def assess(self, ctx: _Ctx) -> Reason | None:
        return self.status(ctx, include_contact=True)


@attrs.frozen(kw_only=True)
class TimeBarRule(_Rule):
    """After the limitation period, never sue or threaten suit."""

    years: Figure
    restarted_by: frozenset[EventKind]

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("years", self.years),)

    def last_day(
        self, case: Case, at: dt.datetime, events: Iterable[Event] | None = None
    ) -> dt.date:
        """The last day of the limitation period, on the events up to ``at``.

        ``events`` defaults to the case's own; the period runs from the due date, or
        from the latest restarting event (a payment, an acknowledgment) at or before ``at``.
        A payment or a promise of less than one minor unit restarts nothing
        (:func:`~collectrules.model.case.of_nothing`), as in the timeline's limitation
        period.
        """
        start = case.due_date
        for event in case.events if events is None else events:
            if (
                event.kind in self.restarted_by
                and event.at <= at
                and not of_nothing(event, case.currency)
            ):
                start = max(start, case.local_date(event.at))
        return pendulum.date(start.year, start.month, start.day).add(years=self.years.as_int)

    def barred(self, case: Case, at: dt.datetime, events: Iterable[Event] | None = None) -> bool:
        """Whether the debt is time-barred at ``at``."""
        if case.overdue_amount <= 0:
            return False
        return case.local_date(at) > self.last_day(case, at, events)

    def assess(self, ctx: _Ctx) -> Reason | None:
        events = (*ctx.case.events, *ctx.history)
        last = self.last_day(ctx.case, ctx.contact.at, events)
        if not self.barred(ctx.case, ctx.contact.at, events):
            return self.reason_for(
                ReasonEffect.ALLOW, f"the limitation period runs to {last.isoformat()}"
            )
        what = f"the debt is time-barred (the limitation period ended {last.isoformat()})"
        if ctx.contact.channel is ContactChannel.COURT:
            # A contact through the court is a suit: the decision blocks litigate on the
            # time_barred fact this rule gives.
            return self.reason_for(
                ReasonEffect.BLOCK, f"{what}: never sue, and a contact through the court is one"
            )
        if ctx.contact.mentions_suit:
            return self.reason_for(ReasonEffect.BLOCK, f"{what}: never sue or threaten suit")
        return self.reason_for(ReasonEffect.CONDITION, f"{what}: do not sue or threaten suit")


@attrs.frozen(kw_only=True)
class ConductRule(_Rule):
    """The conduct a channel calls for: every contact on it carries the ``conditions``."""

    conditions: tuple[str, ...]

    def assess(self, ctx: _Ctx) -> Reason | None:
        terms = "; ".join(self.conditions)
        return self.reason_for(
            ReasonEffect.CONDITION, f"a {ctx.contact.channel.value} contact: {terms}"
        )


@attrs.frozen(kw_only=True)
class VisitArrangedRule(_Rule):
    """A field visit only when arranged in advance, after the last visit."""

    def assess(self, ctx: _Ctx) -> Reason | None:
        party = ctx.contact.party.value
        prior = [e for e in ctx.prior() if _party(e) == party]
        last_visit = max((e.at for e in prior if e.kind is EventKind.VISIT), default=None)
        arranged = [
            e
            for e in prior
            if e.kind is EventKind.VISIT_ARRANGED and (last_visit is None or e.at > last_visit)
        ]
        if arranged:
            return self.reason_for(
                ReasonEffect.ALLOW,
                f"the visit to the {party} was arranged on {ctx.fmt(arranged[-1].at)}",
            )
        since = "" if last_visit is None else f" since the last visit on {ctx.fmt(last_visit)}"
        return self.reason_for(
            ReasonEffect.BLOCK,
            f"no visit_arranged event with the {party}{since}: a visit is lawful only when "
            "arranged in advance",
        )


def _threats(events: Iterable[Event], at: dt.datetime) -> tuple[Event, ...]:
    """The threats to staff at or before ``at``: as the decision at ``as_of = at`` reads
    the ``threat_to_staff`` emergency (its ``visit_held``), a threat at the contact's very
    instant holds the visit back too."""
    return tuple(e for e in events if e.kind is EventKind.THREAT_TO_STAFF and e.at <= at)


@attrs.frozen(kw_only=True)
class ThreatenedStaffRule(_Rule):
    """After a threat to staff, no visit by the threatened staff (with ``whole_case``, by
    anyone); the threat is recorded."""

    hours: Figure
    whole_case: bool = False

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("hours", self.hours),)

    def assess(self, ctx: _Ctx) -> Reason | None:
        threats = _threats(ctx.history, ctx.contact.at)
        if not threats:
            return self.reason_for(ReasonEffect.ALLOW, "no threat to staff on record")
        if self.whole_case:
            return self.reason_for(
                ReasonEffect.BLOCK,
                f"staff were threatened on {ctx.fmt(threats[-1].at)}: no field visit on this "
                "case, by anyone",
            )
        unnamed = [e for e in threats if e.staff is None]
        named = sorted({e.staff for e in threats if e.staff is not None})
        staff = ctx.contact.staff
        if unnamed:
            return self.reason_for(
                ReasonEffect.BLOCK,
                f"staff were threatened on {ctx.fmt(unnamed[-1].at)} and the record names no "
                "one: no field visit on this case",
            )
        who = ", ".join(named)
        if staff is None:
            return self.reason_for(
                ReasonEffect.CONDITION,
                f"staff were threatened: the visit must not be made by {who}",
            )
        if staff in named:
            return self.reason_for(
                ReasonEffect.BLOCK,
                f"{staff} was threatened on this case: no field visit by {staff}",
            )
        return self.reason_for(
            ReasonEffect.CONDITION, f"{who} were threatened on this case; {staff} was not"
        )

    def records(self, ctx: _Ctx) -> tuple[Reason, ...]:
        """The record each threat calls for: a report to the supervisor within ``hours``."""
        out: list[Reason] = []
        prior = ctx.prior()
        for threat in _threats(ctx.history, ctx.contact.at):
            due = pendulum.instance(threat.at).in_timezone(ctx.zone).add(hours=self.hours.as_int)
            reported = [
                e for e in prior if e.kind is EventKind.EMERGENCY_REPORTED and e.at >= threat.at
            ]
            what = f"the threat to staff on {ctx.fmt(threat.at)}"
            if reported:
                out.append(
                    self.reason_for(
                        ReasonEffect.ALLOW, f"{what} was reported on {ctx.fmt(reported[0].at)}"
                    )
                )
                continue
            late = "; it is overdue" if ctx.contact.at > due else ""
            out.append(
                self.reason_for(
                    ReasonEffect.OBLIGATION,
                    f"record {what} and report it to the supervisor within "
                    f"{self.hours.describe()} hours: by {due.isoformat()}{late}",
                    due=due,
                )
            )
        return tuple(out)


def emergency_plans(policy: Policy | None) -> EmergencyPlans | None:
    """The policy's emergencies, as its ``[emergencies]`` section gives them, if any."""
    section = None if policy is None else policy.sections.get("emergencies")
    return section if isinstance(section, EmergencyPlans) else None


@attrs.frozen(kw_only=True)
class EmergencyHoldRule(_Rule):
    """No contact on a channel that an open emergency of ``emergencies`` holds back, as
    the policy's ``[emergencies]`` section holds it (an empty ``emergencies``: every
    kind the section lists)."""

    emergencies: frozenset[EventKind] = frozenset()

    def _holding(self, ctx: _Ctx) -> tuple[EmergencyWindow, ...]:
        plans = emergency_plans(ctx.policy)
        if plans is None:  # pragma: no cover - Guardrails refuses such a policy
            return ()
        channel = ctx.contact.channel.value
        return tuple(
            w
            for w in plans.windows(ctx.seen().events)
            if (not self.emergencies or w.kind in self.emergencies)
            and w.holds(channel, ctx.contact.at)
        )

    def assess(self, ctx: _Ctx) -> Reason | None:
        channel = ctx.contact.channel.value
        holding = self._holding(ctx)
        if not holding:
            return self.reason_for(
                ReasonEffect.ALLOW, f"no open emergency holds {channel} contacts back"
            )
        parts: list[str] = []
        for w in holding:
            how = ", derived from unreachability" if w.derived else ""
            what = f"{EMERGENCY_CLAUSES[w.kind]} ({w.kind.value} on {ctx.fmt(w.start)}{how})"
            if channel in w.stops:
                parts.append(f"{what} stops {channel} contacts for good")
            elif w.closed is None:
                parts.append(
                    f"{what} is open until every step of its escalation plan is done, "
                    "which the history does not record yet"
                )
            else:
                parts.append(
                    f"{what} is open until its escalation plan is done on {ctx.fmt(w.closed)}"
                )
        lifts = [w.lifts(channel) for w in holding]
        until = (
            None
            if any(u is None for u in lifts)
            else pendulum.instance(
                max(fixed_offset(u) for u in lifts if u is not None)
            ).in_timezone(ctx.zone)
        )
        message = f"an emergency holds {channel} contacts back: " + "; ".join(parts)
        if until is not None:
            message += f"; next allowed from {until.isoformat()}"
        cites = (*self.cites, *(EMERGENCY_CLAUSES[w.kind] for w in holding))
        return Reason(
            self.pack,
            self.id,
            ReasonEffect.BLOCK,
            message,
            tuple(dict.fromkeys(cites)),
            until,
        )


_RECORDED = frozenset({EventKind.CONTACT_ATTEMPT, EventKind.VISIT})


@attrs.frozen(kw_only=True)
class ContactRecordRule(_Rule):
    """Every contact attempt and visit carries an outcome and a note (催收记录)."""

    hours: Figure

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("hours", self.hours),)

    def assess(self, ctx: _Ctx) -> Reason | None:
        return self.reason_for(
            ReasonEffect.CONDITION, "record this contact's outcome and a note of it"
        )

    def status(self, ctx: _Ctx) -> Reason:
        """The record-keeping duty at the context's instant."""
        missing = [
            e
            for e in ctx.prior()
            if e.kind in _RECORDED and (e.outcome is None or not (e.note or "").strip())
        ]
        if not missing:
            return self.reason_for(
                ReasonEffect.ALLOW, "every contact attempt and visit has an outcome and a note"
            )
        first = missing[0]
        due = pendulum.instance(first.at).in_timezone(ctx.zone).add(hours=self.hours.as_int)
        listed = ", ".join(f"{e.kind.value} on {ctx.fmt(e.at)}" for e in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        late = "; it is overdue" if ctx.contact.at > due else ""
        return self.reason_for(
            ReasonEffect.OBLIGATION,
            f"{len(missing)} contact(s) lack an outcome or a note ({listed}{more}): record "
            f"each within {self.hours.describe()} hours of it, the first by {due.isoformat()}"
            f"{late}",
            due=due,
        )


def _covers(
    products: frozenset[str], own: tuple[tuple[str, str | None], ...], product: str
) -> tuple[bool, str]:
    """Whether a rule keyed by ``products`` covers a case of ``product``, and a note
    that says why when it covers it through the policy's catalogue.

    A product the rule names is covered. A product of the policy's own catalogue
    (``own``: each with its ``category``) is covered when its category is one the rule
    names; one with no category, and a product the catalogue does not hold, is covered
    by every such rule: the strictest default, never a silent "no limits".
    """
    if product in products:
        return True, ""
    categories = dict(own)
    category = categories.get(product)
    if category is not None:
        if category in products:
            return True, f" ({product} is a kind of {category}, its category)"
        return False, ""
    if product in _STANDARD_NAMES:
        return False, ""
    where = "declares no category" if product in categories else "is not in the catalogue"
    return True, (
        f" (product {product} {where} in [catalogue.products], so the strictest default "
        f"applies: this rule, as for {', '.join(sorted(products))})"
    )


_STANDARD_NAMES = frozenset(p.value for p in Product)


@attrs.frozen(kw_only=True)
class ProductChannelsRule(_Rule):
    """Cases of ``products`` are contacted only on the ``allowed`` channels.

    ``own`` lists the policy's own products with their categories: see :func:`_covers`
    for how a custom product is covered.
    """

    products: frozenset[str]
    allowed: frozenset[ContactChannel]
    own: tuple[tuple[str, str | None], ...] = ()

    def assess(self, ctx: _Ctx) -> Reason | None:
        product = str(ctx.case.product)
        covered, note = _covers(self.products, self.own, product)
        if not covered:
            return None
        channel = ctx.contact.channel
        names = ", ".join(sorted(c.value for c in self.allowed))
        if channel in self.allowed:
            return self.reason_for(
                ReasonEffect.ALLOW, f"{channel.value} is a channel of {product} cases{note}"
            )
        return self.reason_for(
            ReasonEffect.BLOCK,
            f"{product} cases are contacted by {names}, not by {channel.value}{note}",
        )


@attrs.frozen(kw_only=True)
class CreditBureauRule(_Rule):
    """Report the repayment status of ``products`` cases to the credit bureau.

    ``own`` lists the policy's own products with their categories: see :func:`_covers`.
    """

    products: frozenset[str]
    days: Figure
    own: tuple[tuple[str, str | None], ...] = ()

    def figures(self) -> tuple[tuple[str, Figure], ...]:
        return (("days", self.days),)

    def assess(self, ctx: _Ctx) -> Reason | None:
        return None

    def status(self, ctx: _Ctx) -> Reason | None:
        """The reporting duty at the context's instant, for a case of ``products``."""
        case = ctx.case
        covered, note = _covers(self.products, self.own, str(case.product))
        if not covered or case.overdue_amount <= 0:
            return None
        start = ctx.day_start(case.due_date + dt.timedelta(days=1))
        if ctx.contact.at < start:
            return None
        reported = [
            e for e in ctx.prior() if e.kind is EventKind.CREDIT_BUREAU_REPORTED and e.at >= start
        ]
        if reported:
            return self.reason_for(
                ReasonEffect.ALLOW,
                f"the repayment status was reported to the credit bureau on "
                f"{ctx.fmt(reported[-1].at)}{note}",
            )
        due = start.add(days=self.days.as_int)
        late = "; it is overdue" if ctx.contact.at > due else ""
        return self.reason_for(
            ReasonEffect.OBLIGATION,
            f"report the repayment status to the credit bureau within {self.days.describe()} "
            f"days of the first overdue day: by {due.isoformat()}{late}{note}",
            due=due,
        )


Rule: TypeAlias = (
    HoursRule
    | UnansweredRule
    | CallsInWindowRule
    | QuietAfterConversationRule
    | ThirdPartyRule
    | PartiesRule
    | OptOutRule
    | ValidationNoticeRule
    | TimeBarRule
    | ConductRule
    | VisitArrangedRule
    | ThreatenedStaffRule
    | EmergencyHoldRule
    | ContactRecordRule
    | ProductChannelsRule
    | CreditBureauRule
)


@attrs.frozen
class GuardrailPack:
    """A named group of contact rules."""

    id: str
    title: str
    rules: tuple[Rule, ...]
    cites: tuple[str, ...] = ()
    doc: str = ""


@attrs.frozen
class GuardrailsSection:
    """The parsed ``[guardrails]`` section: the packs, in the policy's order."""

    packs: tuple[GuardrailPack, ...]
    parameters: frozenset[str] = frozenset()

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule of every pack."""
        return tuple(r for p in self.packs for r in p.rules)

    def time_bars(self) -> tuple[TimeBarRule, ...]:
        """The limitation rules, which give the ``time_barred`` fact."""
        return tuple(r for r in self.rules if isinstance(r, TimeBarRule))

    def fields(self) -> dict[str, FieldSpec]:
        """The fact fields the packs add."""
        if not self.time_bars():
            return {}
        return {
            "time_barred": FieldSpec(
                "time_barred", FieldType.BOOL, "the limitation period has run (time-barred debt)"
            )
        }

    def facts(self, case: Case, as_of: dt.datetime) -> dict[str, Scalar]:
        """``time_barred`` at ``as_of``, when a pack has a limitation rule."""
        return _time_barred(self.time_bars(), case, as_of)


# --------------------------------------------------------------------------- parsing

#: The keys of a guardrail pack.
PACK_KEYS = ("title", "rules", "cites", "doc", "enabled")
#: The keys every guardrail rule may have.
RULE_KEYS = ("id", "kind", "reason", "cites", "channels", "parties")
#: The further keys of a guardrail rule, by its kind.
KIND_KEYS: Mapping[RuleKind, tuple[str, ...]] = {
    RuleKind.HOURS: ("start", "end", "consent_exempts"),
    RuleKind.UNANSWERED_PER_DAY: ("max",),
    RuleKind.CALLS_IN_WINDOW: ("max", "days"),
    RuleKind.QUIET_AFTER_CONVERSATION: ("days",),
    RuleKind.THIRD_PARTY: ("purposes", "conditions", "requires_unreachable", "failed_attempts"),
    RuleKind.PARTIES: (),
    RuleKind.ELECTRONIC_OPT_OUT: (),
    RuleKind.VALIDATION_NOTICE: ("days", "business_days", "calendar"),
    RuleKind.TIME_BARRED: ("years", "restarted_by"),
    RuleKind.CONDUCT: ("conditions",),
    RuleKind.VISIT_ARRANGED: (),
    RuleKind.THREATENED_STAFF: ("hours", "whole_case"),
    RuleKind.EMERGENCY_HOLD: ("emergencies",),
    RuleKind.CONTACT_RECORD: ("hours",),
    RuleKind.PRODUCT_CHANNELS: ("products", "allowed"),
    RuleKind.CREDIT_BUREAU: ("products", "days"),
}
_ALL_CHANNELS = tuple(ContactChannel)
_WRITTEN = frozenset({ContactChannel.LETTER, ContactChannel.LAWYER_LETTER, ContactChannel.COURT})
_NOT_LETTER = tuple(c for c in ContactChannel if c not in _WRITTEN)
_DEFAULT_CHANNELS: Mapping[RuleKind, tuple[ContactChannel, ...]] = {
    RuleKind.HOURS: _NOT_LETTER,
    RuleKind.UNANSWERED_PER_DAY: (ContactChannel.PHONE,),
    RuleKind.CALLS_IN_WINDOW: (ContactChannel.PHONE,),
    RuleKind.QUIET_AFTER_CONVERSATION: (ContactChannel.PHONE,),
    RuleKind.ELECTRONIC_OPT_OUT: tuple(sorted(ELECTRONIC_CHANNELS)),
    RuleKind.VISIT_ARRANGED: (ContactChannel.VISIT,),
    RuleKind.THREATENED_STAFF: (ContactChannel.VISIT,),
}
_DEFAULT_PARTIES: Mapping[RuleKind, tuple[Party, ...]] = {
    RuleKind.THIRD_PARTY: tuple(sorted(THIRD_PARTIES)),
    RuleKind.PARTIES: (Party.GUARANTOR, Party.CO_DEBTOR),
    RuleKind.VALIDATION_NOTICE: (Party.DEBTOR,),
}


def parse_section(
    raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[GuardrailsSection, dict[str, FieldSpec]]:
    """Parse ``[guardrails]``: one table per contact pack, keyed by the pack's id."""
    reader = PackReader(loader, params)
    packs: list[GuardrailPack] = []
    seen: set[str] = set()
    for pack_id, body, path in reader.enabled_tables(raw, "guardrails"):
        reader.keys(body, PACK_KEYS, path)
        raw_rules = body.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            reader.fail(f"{path}.rules", f"expected at least one rule: [[{path}.rules]]")
            raw_rules = []
        rules: list[Rule] = []
        for i, item in enumerate(raw_rules):
            rule = _parse_rule(pack_id, item, f"{path}.rules[{i}]", reader, seen)
            if rule is not None:
                rules.append(rule)
        packs.append(
            GuardrailPack(
                id=pack_id,
                title=reader.string(body, "title", path, default=pack_id),
                rules=tuple(rules),
                cites=reader.texts(body, "cites", path),
                doc=reader.string(body, "doc", path, default=""),
            )
        )
    section = GuardrailsSection(tuple(packs), frozenset(reader.used))
    return section, section.fields()


def _parse_rule(
    pack_id: str, item: object, path: str, reader: PackReader, seen: set[str]
) -> Rule | None:
    table = reader.table(item, path)
    if table is None:
        return None
    mark = reader.failures
    rid = reader.string(table, "id", path)
    path = f"guardrails.{pack_id}.rules[{rid or path.rsplit('[', 1)[-1][:-1]}]"
    rule_id = rid or None
    if rid in seen:
        reader.fail(f"{path}.id", f"duplicate guardrail rule id {quote(rid)}", rule_id=rule_id)
    seen.add(rid)
    kind_text = table.get("kind")
    try:
        kind = RuleKind(kind_text if isinstance(kind_text, str) else "")
    except ValueError:
        choices = [k.value for k in RuleKind]
        if "kind" not in table:
            # A misspelt key (``knd = "hours"``) says more than a missing kind: each key
            # no kind of rule has is reported, with the name it is closest to.
            known = dict.fromkeys((*RULE_KEYS, *(k for keys in KIND_KEYS.values() for k in keys)))
            reader.keys(table, known, path, rule_id=rule_id)
        reader.fail(
            f"{path}.kind",
            f"expected one of {', '.join(choices)}, got {quote(kind_text)}",
            rule_id=rule_id,
            key="kind",
            suggestion=did_you_mean(str(kind_text), choices),
        )
        return None
    reader.keys(table, (*RULE_KEYS, *KIND_KEYS[kind]), path, rule_id=rule_id)
    channels = frozenset(
        ContactChannel(c)
        for c in reader.choices(
            table,
            "channels",
            path,
            [c.value for c in ContactChannel],
            default=_DEFAULT_CHANNELS.get(kind, _ALL_CHANNELS),
            rule_id=rule_id,
        )
    )
    parties = frozenset(
        Party(p)
        for p in reader.choices(
            table,
            "parties",
            path,
            [p.value for p in Party],
            default=_DEFAULT_PARTIES.get(kind, tuple(Party)),
            rule_id=rule_id,
        )
    )
    common: dict[str, Any] = {
        "id": rid,
        "pack": pack_id,
        "kind": kind,
        "reason": reader.string(table, "reason", path, default="", rule_id=rule_id),
        "cites": reader.texts(table, "cites", path, rule_id=rule_id),
        "channels": channels,
        "parties": parties,
    }

    def fig(key: str, kind_: str, **limits: float) -> Figure | None:
        if key not in table:
            reader.fail(f"{path}.{key}", "required", rule_id=rule_id, key=key)
            return None
        return reader.figure(
            table[key], f"{path}.{key}", kind=kind_, rule_id=rule_id, key=key, **limits
        )

    rule: Rule | None = None
    if kind is RuleKind.HOURS:
        start, end = fig("start", "clock"), fig("end", "clock")
        if start is not None and end is not None:
            try:
                hours = ContactHours.parse(str(start.value), str(end.value), cites=common["cites"])
            except InputError:
                reader.fail(
                    path,
                    f"the allowed hours must start before they end, within one day: {start}–{end}",
                    rule_id=rule_id,
                )
            else:
                rule = HoursRule(
                    **common,
                    start=start,
                    end=end,
                    hours=hours,
                    consent_exempts=reader.flag(
                        table, "consent_exempts", path, default=False, rule_id=rule_id
                    ),
                )
    elif kind is RuleKind.UNANSWERED_PER_DAY:
        limit = fig("max", "int", minimum=0)
        if limit is not None:
            rule = UnansweredRule(**common, max=limit)
    elif kind is RuleKind.CALLS_IN_WINDOW:
        limit, days = fig("max", "int", minimum=0), fig("days", "int", minimum=1, maximum=366)
        if limit is not None and days is not None:
            rule = CallsInWindowRule(**common, max=limit, days=days)
    elif kind is RuleKind.QUIET_AFTER_CONVERSATION:
        days = fig("days", "int", minimum=1, maximum=366)
        if days is not None:
            rule = QuietAfterConversationRule(**common, days=days)
    elif kind is RuleKind.THIRD_PARTY:
        requires = reader.flag(table, "requires_unreachable", path, default=False, rule_id=rule_id)
        attempts = fig("failed_attempts", "int", minimum=1) if requires else None
        purposes = frozenset(
            Purpose(p)
            for p in reader.choices(
                table,
                "purposes",
                path,
                [p.value for p in Purpose],
                default=(Purpose.LOCATE, Purpose.MESSAGE),
                rule_id=rule_id,
            )
        )
        if Purpose.COLLECT in purposes:
            reader.fail(
                f"{path}.purposes",
                "a third party is never contacted to collect",
                rule_id=rule_id,
                key="purposes",
            )
        if not requires or attempts is not None:
            rule = ThirdPartyRule(
                **common,
                purposes=purposes,
                conditions=reader.texts(table, "conditions", path, rule_id=rule_id),
                requires_unreachable=requires,
                failed_attempts=attempts,
            )
    elif kind is RuleKind.PARTIES:
        rule = PartiesRule(**common)
    elif kind is RuleKind.ELECTRONIC_OPT_OUT:
        rule = OptOutRule(**common)
    elif kind is RuleKind.VALIDATION_NOTICE:
        days = fig("days", "int", minimum=0, maximum=366)
        calendar: BusinessCalendar | None = None
        if reader.flag(table, "business_days", path, default=True, rule_id=rule_id):
            country = reader.string(table, "calendar", path, default="US", rule_id=rule_id)
            try:
                calendar = BusinessCalendar(country)
            except InputError as exc:
                for problem in exc.problems:
                    reader.fail(
                        f"{path}.calendar",
                        problem.message,
                        rule_id=rule_id,
                        key="calendar",
                        suggestion=problem.suggestion,
                    )
        if days is not None:
            rule = ValidationNoticeRule(**common, days=days, calendar=calendar)
    elif kind is RuleKind.CONDUCT:
        conditions = reader.texts(table, "conditions", path, rule_id=rule_id)
        if not conditions:
            reader.fail(f"{path}.conditions", "expected at least one condition", rule_id=rule_id)
        rule = ConductRule(**common, conditions=conditions)
    elif kind is RuleKind.VISIT_ARRANGED:
        rule = VisitArrangedRule(**common)
    elif kind is RuleKind.THREATENED_STAFF:
        within = fig("hours", "int", minimum=0, maximum=8784)
        whole = reader.flag(table, "whole_case", path, default=False, rule_id=rule_id)
        if within is not None:
            rule = ThreatenedStaffRule(**common, hours=within, whole_case=whole)
    elif kind is RuleKind.EMERGENCY_HOLD:
        kinds = reader.choices(
            table,
            "emergencies",
            path,
            [k.value for k in EMERGENCY_CLAUSES],
            default=(),
            rule_id=rule_id,
        )
        if table.get("emergencies") == []:
            reader.fail(
                f"{path}.emergencies",
                "expected at least one emergency kind (leave the key out for every kind)",
                rule_id=rule_id,
                key="emergencies",
            )
        rule = EmergencyHoldRule(**common, emergencies=frozenset(EventKind(k) for k in kinds))
    elif kind is RuleKind.CONTACT_RECORD:
        within = fig("hours", "int", minimum=0, maximum=8784)
        if within is not None:
            rule = ContactRecordRule(**common, hours=within)
    elif kind in (RuleKind.PRODUCT_CHANNELS, RuleKind.CREDIT_BUREAU):
        if "products" not in table:
            reader.fail(f"{path}.products", "required", rule_id=rule_id, key="products")
        catalogue = reader.products
        products = frozenset(
            product_name(p)
            for p in reader.choices(
                table, "products", path, [str(p) for p in catalogue], default=(), rule_id=rule_id
            )
        )
        own = tuple((str(n), spec.category) for n, spec in catalogue.items() if not spec.standard)
        if kind is RuleKind.PRODUCT_CHANNELS:
            if "allowed" not in table:
                reader.fail(f"{path}.allowed", "required", rule_id=rule_id, key="allowed")
            allowed = frozenset(
                ContactChannel(c)
                for c in reader.choices(
                    table,
                    "allowed",
                    path,
                    [c.value for c in ContactChannel],
                    default=(),
                    rule_id=rule_id,
                )
            )
            rule = ProductChannelsRule(**common, products=products, allowed=allowed, own=own)
        else:
            days = fig("days", "int", minimum=0, maximum=366)
            if days is not None:
                rule = CreditBureauRule(**common, products=products, days=days, own=own)
    else:
        years = fig("years", "int", minimum=1, maximum=100)
        kinds = reader.choices(
            table,
            "restarted_by",
            path,
            [k.value for k in EventKind],
            default=(EventKind.PAYMENT, EventKind.DEBTOR_ACKNOWLEDGED),
            rule_id=rule_id,
        )
        if years is not None:
            rule = TimeBarRule(
                **common, years=years, restarted_by=frozenset(EventKind(k) for k in kinds)
            )
    if reader.failures > mark:
        return None
    return rule


# --------------------------------------------------------------------------- use


def guardrails_of(policy: Policy) -> GuardrailsSection | None:
    """The policy's parsed ``[guardrails]`` section, if it has one."""
    section = policy.sections.get("guardrails")
    return section if isinstance(section, GuardrailsSection) else None


def extra_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``time_barred`` fact, when the policy has a limitation rule."""
    bars: tuple[TimeBarRule, ...] = policy.memo("guardrails_time_bars", lambda: _bars(policy))
    return _time_barred(bars, case, as_of)


def _time_barred(
    bars: tuple[TimeBarRule, ...], case: Case, as_of: dt.datetime
) -> dict[str, Scalar]:
    """``time_barred`` under the limitation rules ``bars``; nothing without one."""
    if not bars:
        return {}
    return {"time_barred": any(r.barred(case, as_of) for r in bars)}


def _bars(policy: Policy) -> tuple[TimeBarRule, ...]:
    """The limitation rules of the policy's packs (what ``GuardrailsSection.facts`` reads)."""
    section = guardrails_of(policy)
    return section.time_bars() if section is not None else ()


#: The furthest ``Guardrails.next_allowed`` looks ahead, in days (ten years).
MAX_HORIZON_DAYS = 3660


def _history(case: Case, history: Iterable[Event] | None) -> tuple[Event, ...]:
    if history is None:
        events = case.events
    else:
        if isinstance(history, str | bytes | Mapping) or not isinstance(history, Iterable):
            msg = f"expected a list of Event objects, got {type(history).__name__}"
            raise InputError([FieldProblem("history", msg)], subject="history")
        events = tuple(itertools.islice(history, MAX_EVENTS + 1))
        if len(events) > MAX_EVENTS:
            msg = f"more than {MAX_EVENTS:,} events; at most {MAX_EVENTS:,}"
            raise InputError([FieldProblem("history", msg)], subject="history")
    problems = [
        FieldProblem(f"history[{i}]", f"expected an Event, got {type(e).__name__}")
        for i, e in enumerate(events)
        if not isinstance(e, Event)
    ]
    if problems:
        raise InputError(problems, subject="history")
    return tuple(sorted(events, key=lambda e: (e.at, e.kind.value)))


def _check_emergency_holds(policy: Policy, section: GuardrailsSection) -> None:
    """Refuse an ``emergency_hold`` rule that reads emergencies the policy does not list:
    it would never block, and say nothing of why."""
    plans = emergency_plans(policy)
    listed = {t.kind for t in plans.terms()} if plans is not None else set()
    problems: list[FieldProblem] = []
    for pack in section.packs:
        for rule in pack.rules:
            if not isinstance(rule, EmergencyHoldRule):
                continue
            path = f"guardrails.{pack.id}.rules[{rule.id}]"
            if plans is None:
                msg = (
                    f"the emergency_hold rule {quote(rule.id)} reads the policy's "
                    "[emergencies] section, and the policy has none; add one "
                    "(docs/howto-emergencies.md), or drop the rule"
                )
                problems.append(FieldProblem(path, msg))
                continue
            missing = sorted(k.value for k in rule.emergencies - listed)
            if missing:
                msg = (
                    f"the emergency_hold rule {quote(rule.id)} names "
                    f"{', '.join(missing)}, which [emergencies.kinds] does not list; "
                    f"it lists {', '.join(sorted(k.value for k in listed)) or 'none'}"
                )
                problems.append(FieldProblem(f"{path}.emergencies", msg))
    if problems:
        raise PolicyError(problems)


class Guardrails:
    """Contact compliance under a policy's guardrail packs.

    ``policy`` is a :class:`~collectrules.policy.Policy`, a shipped policy name or a
    path. Every rule of every pack applies; the contact is allowed only when none
    blocks it, so the strictest pack wins.
    """

    def __init__(self, policy: Policy | str | Path = "default") -> None:

        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        section = guardrails_of(self.policy)
        if section is None or not section.packs:
            msg = (
                f"policy {quote(self.policy.id)} has no contact guardrails; give it a "
                "[guardrails.<PACK>] section, or use a pack policy such as "
                "cn_bank_loan, us_regf or uk"
            )
            raise PolicyError([FieldProblem("guardrails", msg)])
        self.section: GuardrailsSection = section
        _check_emergency_holds(self.policy, section)

    def __repr__(self) -> str:
        packs = ", ".join(p.id for p in self.section.packs)
        return f"Guardrails({quote(self.policy.ref)}, packs=[{packs}])"

    @property
    def packs(self) -> tuple[str, ...]:
        """The ids of the packs that apply, in the policy's order."""
        return tuple(p.id for p in self.section.packs)

    def check(
        self, case: Case, contact: Contact, *, history: Iterable[Event] | None = None
    ) -> Verdict:
        """May ``contact`` happen? ``history`` defaults to the case's own events."""
        if not isinstance(contact, Contact):
            raise InputError(
                [FieldProblem("contact", f"expected a Contact, got {type(contact).__name__}")]
            )
        ctx = _Ctx(
            require_case(case), contact, _history(case, history), self.policy, own=history is None
        )
        return self._verdict(ctx)

    def _verdict(self, ctx: _Ctx) -> Verdict:
        reasons = [
            found
            for rule in self.section.rules
            if rule.applies(ctx.contact) and (found := rule.assess(ctx)) is not None
        ]
        allowed = not any(f.effect is ReasonEffect.BLOCK for f in reasons)
        return Verdict(ctx.case.case_id, ctx.contact, allowed, tuple(reasons), self.packs)

    def next_allowed(
        self,
        case: Case,
        channel: ContactChannel | str,
        party: Party | str,
        *,
        after: dt.datetime | str,
        history: Iterable[Event] | None = None,
        purpose: Purpose | str | None = None,
        consent: bool = False,
        opt_out: bool | None = None,
        mentions_suit: bool = False,
        horizon_days: int = 400,
        staff: str | None = None,
    ) -> pendulum.DateTime | None:
        """The earliest instant at or after ``after`` at which the contact is allowed.

        ``purpose``, ``consent``, ``opt_out``, ``mentions_suit`` and ``staff`` describe the contact
        as :class:`Contact` does, so that the answer is for the same contact that
        ``check`` was asked about. ``None`` when no time within ``horizon_days`` helps (a
        third party while the debtor can be reached, a purpose that is never allowed, a
        message without an opt-out, a threat of suit on a time-barred debt …), and when
        the contact is next allowed only past the last year an instant may hold
        (:data:`~collectrules.model.limits.MAX_YEAR`). The instant is given in the case's
        zone.
        """
        require_case(case)
        if (
            isinstance(horizon_days, bool)
            or not isinstance(horizon_days, int)
            or not 0 <= horizon_days <= MAX_HORIZON_DAYS
        ):
            msg = (
                f"expected a whole number of days from 0 to {MAX_HORIZON_DAYS}, "
                f"got {quote(horizon_days)}"
            )
            raise InputError([FieldProblem("horizon_days", msg)])
        events = _history(case, history)
        first = Contact(
            channel,
            party,
            after,
            purpose=purpose,
            consent=consent,
            opt_out=opt_out,
            mentions_suit=mentions_suit,
            staff=staff,
        )
        horizon = first.at.add(days=horizon_days)
        at = first.at
        for _ in range(10_000):
            try:
                contact = attrs.evolve(first, at=at)
            except InputError:  # past the years an instant may hold: no time there helps
                return None
            verdict = self._verdict(_Ctx(case, contact, events, self.policy, own=history is None))
            if verdict.allowed:
                return at.in_timezone(case.timezone)
            lifts = [f.until for f in verdict.blocks]
            if any(u is None for u in lifts):
                return None
            # As instants: the lifts are in the case's zone, one zone object, which
            # compares them by wall clock (00:40 the first time round the clocks go
            # back as after 00:10 the second, half an hour later).
            later = max(fixed_offset(u) for u in lifts if u is not None)
            if later <= at:  # pragma: no cover - every rule lifts strictly later
                later = at.add(seconds=1)
            if later > horizon:
                return None
            at = later
        return None  # pragma: no cover - bounded by the horizon

    def obligations(
        self, case: Case, *, as_of: dt.datetime | str, history: Iterable[Event] | None = None
    ) -> tuple[Reason, ...]:
        """What the lender must do and by when, at ``as_of``: the validation notice, the
        record of every contact (催收记录), the record of a threat to staff, the report
        to the credit bureau; each with its state (an ``allow`` reason once met)."""

        when = require_aware(as_of)
        events = _history(require_case(case), history)
        contact = Contact(ContactChannel.LETTER, Party.DEBTOR, when)
        ctx = _Ctx(case, contact, events, self.policy, through=True, own=history is None)
        out: list[Reason] = []
        for rule in self.section.rules:
            if isinstance(rule, ValidationNoticeRule):
                out.append(rule.status(ctx, include_contact=False))
            elif isinstance(rule, ContactRecordRule):
                out.append(rule.status(ctx))
            elif isinstance(rule, ThreatenedStaffRule):
                out.extend(rule.records(ctx))
            elif isinstance(rule, CreditBureauRule):
                found = rule.status(ctx)
                if found is not None:
                    out.append(found)
        return tuple(out)
