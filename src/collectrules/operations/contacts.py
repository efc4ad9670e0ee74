"""A planned contact checked against both the guardrails and the case's decision.

The guardrails (:class:`~collectrules.compliance.guardrails.Guardrails`) answer the
compliance question only: hours, attempts, the third-party rules, the time bar. They sit
below the engine and do not see the decision, so on their own they allow a contact
through the court while the decision blocks ``litigate`` for a reason of strategy (a
willing debtor, R-Q12-NO-SUIT; nothing past due yet, R-P1-REMIND-ONLY). This module sits
above both: :func:`check_contact` asks the guardrails, then adds a ``block`` reason for
each remedy the contact performs that the decision blocks, with the decision's own rule
id, reason and citations.

**Which remedy a contact performs.** :class:`ContactRemedies` maps a channel, or a
channel to one party, to the remedies a contact on it performs. Most channels perform
none by themselves (a call or a letter may remind, negotiate or press; the stage says
which, in its ``remedy``); three do, whatever the message:

* ``court``: ``litigate`` (a contact through the court is a suit, CH-LAW);
* ``lawyer_letter``: ``litigate`` (a lawyer's letter announces the suit; sent while the
  decision rules the suit out, it threatens an action the lender has decided not to
  take); to a guarantor, ``claim_guarantor`` instead (the lawful demand within the
  guarantee period, which :data:`~collectrules.model.remedies.REMEDY_CHANNELS` carries
  out by lawyer's letter);
* ``visit``: ``visit`` (the remedy of the stages on the ``visit`` channel).

This is the reverse of :data:`~collectrules.model.remedies.REMEDY_CHANNELS` for the
channels that contact a party. A policy replaces it with the text parameter
``contact_remedies``: entries ``channel=remedy`` or ``channel/party=remedy`` (several
remedies separated by commas), separated by semicolons; a ``channel/party`` entry wins
over the ``channel`` one for that party, and an entry with no remedy (``phone=``) says
that the channel performs none. See docs/howto-compliance.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from collectrules._arguments import require_instance
from collectrules.compliance.guardrails import (
    Contact,
    ContactChannel,
    Guardrails,
    Party,
    Reason,
    ReasonEffect,
    Verdict,
)
from collectrules.errors import FieldProblem, InputError, PolicyError, did_you_mean, quote
from collectrules.model.case import Case, Event
from collectrules.model.decision import Decision, RemedyBlock
from collectrules.model.remedies import remedy_name
from collectrules.policy import Policy

__all__ = [
    "CONTACT_REMEDIES_PARAMETER",
    "DECISION_PACK",
    "DEFAULT_CONTACT_REMEDIES",
    "ContactRemedies",
    "check_contact",
    "contact_remedies",
    "decision_blocks",
]

#: The mapping every policy has unless its ``contact_remedies`` parameter says otherwise.
DEFAULT_CONTACT_REMEDIES = (
    "court=litigate; lawyer_letter=litigate; lawyer_letter/guarantor=claim_guarantor; visit=visit"
)

#: The ``pack`` of a reason that comes from the decision rather than a guardrail pack.
DECISION_PACK = "decision"

#: The policy parameter that replaces :data:`DEFAULT_CONTACT_REMEDIES` (read by name,
#: so ``collectrules check`` counts it as used, not as a dead parameter).
CONTACT_REMEDIES_PARAMETER = "contact_remedies"
_PARAMETER = CONTACT_REMEDIES_PARAMETER

_Key = tuple[str, str | None]


@attrs.frozen
class ContactRemedies:
    """Which remedies a contact performs, by channel and, where it matters, by party.

    ``entries`` maps ``(channel, party)`` (``party`` ``None`` for every party) to the
    remedies a contact on that channel performs. Build one with :meth:`parse` or
    :func:`contact_remedies`.
    """

    entries: tuple[tuple[_Key, tuple[str, ...]], ...]

    @classmethod
    def parse(cls, text: object, *, remedies: Iterable[str] | None = None) -> ContactRemedies:
        """Read ``text`` (the form of :data:`DEFAULT_CONTACT_REMEDIES`).

        ``remedies`` is the catalogue the names must come from (default: any name). An
        unknown channel, party or remedy, an entry without ``=`` and an entry given twice
        are an :class:`~collectrules.errors.InputError` naming the entry, with a
        suggestion.
        """
        if not isinstance(text, str):
            msg = f"expected text such as {quote(DEFAULT_CONTACT_REMEDIES)}, got {quote(text)}"
            raise InputError([FieldProblem(_PARAMETER, msg)])
        known = None if remedies is None else [str(r) for r in remedies]
        channels = [c.value for c in ContactChannel]
        parties = [p.value for p in Party]
        problems: list[FieldProblem] = []
        found: dict[_Key, tuple[str, ...]] = {}
        for raw in text.split(";"):
            entry = raw.strip()
            if not entry:
                continue
            head, sep, tail = entry.partition("=")
            if not sep:
                msg = f"expected channel=remedy or channel/party=remedy, got {quote(entry)}"
                problems.append(FieldProblem(_PARAMETER, msg))
                continue
            channel, _, party_text = (part.strip() for part in head.partition("/"))
            party = party_text or None
            unknown = _unknown("channel", channel, channels, entry) or (
                None if party is None else _unknown("party", party, parties, entry)
            )
            if unknown is not None:
                problems.append(unknown)
                continue
            names = tuple(n.strip() for n in tail.split(",") if n.strip())
            bad = [n for n in names if known is not None and n not in known]
            for name in bad:
                msg = (
                    f"unknown remedy {quote(name)} in {quote(entry)}; "
                    "expected a remedy of the policy's catalogue"
                )
                hint = did_you_mean(name, known or [])
                problems.append(FieldProblem(_PARAMETER, msg, suggestion=hint))
            if bad:
                continue
            key = (channel, party)
            if key in found:
                msg = (
                    f"{quote(head.strip())} is given twice; "
                    "expected each channel (or channel/party) once"
                )
                problems.append(FieldProblem(_PARAMETER, msg))
                continue
            found[key] = tuple(str(remedy_name(n)) for n in names)
        if problems:
            raise InputError(problems)
        return cls(tuple(sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))))

    def remedies_of(
        self, channel: ContactChannel | str, party: Party | str = Party.DEBTOR
    ) -> tuple[str, ...]:
        """The remedies a contact on ``channel`` with ``party`` performs (none: ``()``)."""
        table: Mapping[_Key, tuple[str, ...]] = dict(self.entries)
        key_channel, key_party = str(channel), str(party)
        if (key_channel, key_party) in table:
            return table[(key_channel, key_party)]
        return table.get((key_channel, None), ())

    def to_text(self) -> str:
        """The mapping in the form :meth:`parse` reads."""
        parts = []
        for (channel, party), names in self.entries:
            head = channel if party is None else f"{channel}/{party}"
            parts.append(f"{head}={','.join(names)}")
        return "; ".join(parts)


def _unknown(what: str, name: str, known: list[str], entry: str) -> FieldProblem | None:
    """The problem of a ``name`` that is not one of ``known``, else ``None``."""
    if name in known:
        return None
    msg = f"unknown {what} {quote(name)} in {quote(entry)}; expected one of {', '.join(known)}"
    return FieldProblem(_PARAMETER, msg, suggestion=did_you_mean(name, known))


def contact_remedies(policy: Policy) -> ContactRemedies:
    """The mapping of ``policy``: its text parameter ``contact_remedies``, else
    :data:`DEFAULT_CONTACT_REMEDIES`. A value that cannot be read is a
    :class:`~collectrules.errors.PolicyError` naming ``parameters.contact_remedies`` and
    the policy's file."""
    require_instance(policy, Policy, "policy", "a Policy")
    value = policy.parameter_values.get(_PARAMETER, DEFAULT_CONTACT_REMEDIES)
    try:
        return ContactRemedies.parse(value, remedies=policy.remedies)
    except InputError as exc:
        raise PolicyError(
            [
                attrs.evolve(p, path=f"parameters.{_PARAMETER}", source=policy.source)
                for p in exc.problems
            ]
        ) from None


def decision_blocks(
    decision: Decision,
    channel: ContactChannel | str,
    party: Party | str = Party.DEBTOR,
    *,
    remedies: ContactRemedies,
) -> tuple[RemedyBlock, ...]:
    """The decision's blocks of the remedies a contact on ``channel`` with ``party``
    performs (see :class:`ContactRemedies`), in the mapping's order."""
    require_instance(decision, Decision, "decision", "a Decision")
    require_instance(remedies, ContactRemedies, "remedies", "a ContactRemedies")
    blocked = {str(b.remedy): b for b in decision.blocked}
    return tuple(blocked[name] for name in remedies.remedies_of(channel, party) if name in blocked)


def _reason(block: RemedyBlock, contact: Contact) -> Reason:
    message = (
        f"the decision blocks {block.remedy}, which a {contact.channel.value} contact with "
        f"the {contact.party.value} performs: {block.reason}"
    )
    return Reason(DECISION_PACK, block.rule_id, ReasonEffect.BLOCK, message, block.cites)


def check_contact(
    case: Case,
    contact: Contact,
    *,
    decision: Decision,
    guardrails: Guardrails,
    history: Iterable[Event] | None = None,
    remedies: ContactRemedies | None = None,
) -> Verdict:
    """May ``contact`` happen, under the guardrails *and* the case's decision?

    The guardrails' verdict (:meth:`Guardrails.check`, with ``history``), plus one
    ``block`` reason (pack :data:`DECISION_PACK`) for each remedy the contact performs
    that ``decision`` blocks, carrying the decision's rule id, reason and citations and
    no ``until`` (no later time lifts it: a new decision does). ``remedies`` defaults to
    the guardrails' policy's :func:`contact_remedies`. ``decision`` must be the case's,
    ideally at the contact's instant; a decision of another case is an InputError.
    """
    require_instance(guardrails, Guardrails, "guardrails", "a Guardrails")
    require_instance(decision, Decision, "decision", "a Decision")
    require_instance(case, Case, "case", "a Case")
    if decision.case_id != case.case_id:
        msg = (
            f"expected the decision of case {quote(case.case_id)}, got one of "
            f"{quote(decision.case_id)}"
        )
        raise InputError([FieldProblem("decision", msg)])
    mapping = contact_remedies(guardrails.policy) if remedies is None else remedies
    verdict = guardrails.check(case, contact, history=history)
    extra = tuple(
        _reason(b, verdict.contact)
        for b in decision_blocks(decision, contact.channel, contact.party, remedies=mapping)
    )
    if not extra:
        return verdict
    return Verdict(
        verdict.case_id, verdict.contact, False, (*verdict.reasons, *extra), verdict.packs
    )
