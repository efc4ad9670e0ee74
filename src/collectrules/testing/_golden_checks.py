"""What a golden case may check beyond its quadrant and remedies.

* ``fired``: rules that must be in the decision's trace, each with the citations it
  must give (``{ "R-E-THREAT-NO-VISIT" = ["E-THREAT", "CH-VISIT", "CONDUCT"] }``);
* ``facts``: facts the decision must show, with their values
  (``{ emergency_kind = "threat_to_staff" }``);
* ``steps``: steps of the case's timeline at the same ``as_of``, each with the status
  and the citations it must have (``{ "threat_to_staff:E-REPORT" = { status = "late",
  cites = ["E-RESPONSE", "E-THREAT", "CONDUCT"] } }``);
* ``contacts``: planned contacts and what the policy's guardrails must say of each,
  given the case's events as the history: ``allowed``, and optionally the blocking
  rules in order (``blocked_by``), the effect of named rules (``reasons``) and their
  citations (``cites``);
* ``obligations``: what the guardrails say the lender must do at ``as_of`` (given the
  case's events), by rule: the effect (``obligation`` while it is due, ``allow`` once
  met) and the citations (``{ "CARD-CREDIT-BUREAU" = { effect = "obligation",
  cites = ["CARD"] } }``).

The plugin (:mod:`collectrules.testing.plugin`) reads these keys when it collects a
file, so a misspelt key or a bad contact fails collection, and checks them when the
case runs, after the quadrant and remedies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from collectrules.compliance.guardrails import Contact, Guardrails, ReasonEffect, Verdict
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, did_you_mean, quote
from collectrules.model.case import Case
from collectrules.model.decision import Decision
from collectrules.policy import Policy
from collectrules.timeline import StepStatus

__all__ = ["CHECK_KEYS", "Checks", "ContactCheck", "GoldenCheckError", "parse_checks"]

#: The case keys read here.
CHECK_KEYS = ("fired", "facts", "steps", "contacts", "obligations")
_STEP_KEYS = ("status", "cites")
_OBLIGATION_KEYS = ("effect", "cites")
_CONTACT_FIELDS = ("channel", "party", "at", "purpose", "consent", "opt_out", "mentions_suit",
                   "staff")  # fmt: skip
_CONTACT_CHECKS = ("allowed", "blocked_by", "reasons", "cites")
_CONTACT_KEYS = (*_CONTACT_FIELDS, *_CONTACT_CHECKS, "description")


class GoldenCheckError(ValueError):
    """A check key of a golden case that cannot be read (the plugin names the file)."""


@attrs.frozen
class ContactCheck:
    """One planned contact and what the guardrails must say of it."""

    contact: Contact
    allowed: bool
    blocked_by: tuple[str, ...] | None = None
    reasons: Mapping[str, ReasonEffect] = attrs.field(factory=dict)
    cites: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def problems(self, verdict: Verdict) -> list[str]:
        """Each way ``verdict`` differs from what is expected."""
        contact = self.contact
        what = f"contact {contact.channel.value} to {contact.party.value} at {contact.at}"
        blocks = [r.rule_id for r in verdict.blocks]
        out: list[str] = []
        if verdict.allowed is not self.allowed:
            got = "allowed" if verdict.allowed else f"blocked by {', '.join(blocks)}"
            out.append(f"{what}: expected {'allowed' if self.allowed else 'blocked'}, got {got}")
        if self.blocked_by is not None and tuple(blocks) != self.blocked_by:
            out.append(
                f"{what}: expected blocked by [{', '.join(self.blocked_by)}], "
                f"got [{', '.join(blocks)}]"
            )
        by_rule = {r.rule_id: r for r in verdict.reasons}
        for rule_id in dict.fromkeys([*self.reasons, *self.cites]):
            reason = by_rule.get(rule_id)
            if reason is None:
                said = ", ".join(by_rule) or "nothing"
                out.append(f"{what}: expected a reason from {rule_id}, got none (rules: {said})")
                continue
            effect = self.reasons.get(rule_id)
            if effect is not None and reason.effect is not effect:
                out.append(
                    f"{what}: {rule_id}: expected {effect.value}, got {reason.effect.value}: "
                    f"{reason.message}"
                )
            cites = self.cites.get(rule_id)
            if cites is not None and reason.cites != cites:
                out.append(
                    f"{what}: {rule_id}: expected cites {_list(cites)}, got {_list(reason.cites)}"
                )
        return out


@attrs.frozen
class Checks:
    """The ``fired``, ``facts``, ``steps``, ``contacts`` and ``obligations`` of one
    golden case."""

    fired: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    steps: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    contacts: tuple[ContactCheck, ...] = ()
    obligations: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fired or self.facts or self.steps or self.contacts or self.obligations)

    def problems(
        self, engine: Engine, case: Case, decision: Decision, as_of: dt.datetime
    ) -> list[str]:
        """Each expectation that ``decision`` (and the case's timeline and guardrail
        verdicts under ``engine``'s policy) does not meet."""
        out: list[str] = []
        for rule_id, cites in self.fired.items():
            firings = [f for f in decision.trace if f.rule_id == rule_id]
            if not firings:
                fired = ", ".join(f.rule_id for f in decision.trace) or "none"
                out.append(f"{rule_id}: expected to fire, did not (fired: {fired})")
            elif firings[0].cites != cites:
                got = _list(firings[0].cites)
                out.append(f"{rule_id}: expected cites {_list(cites)}, got {got}")
        for name, value in self.facts.items():
            if name not in decision.facts:
                out.append(f"fact {name}: expected {quote(value)}, not among the decision's facts")
            elif not same_fact(decision.facts[name], value):
                out.append(
                    f"fact {name}: expected {quote(value)}, got {quote(decision.facts[name])}"
                )
        if self.steps:
            timeline = engine.timeline(case, as_of=as_of)
            by_id = {s.id: s for s in timeline.steps}
            for step_id, expected in self.steps.items():
                step = by_id.get(step_id)
                if step is None:
                    out.append(f"step {step_id}: not in the timeline (steps: {', '.join(by_id)})")
                    continue
                status = expected.get("status")
                if status is not None and step.status.value != status:
                    out.append(f"step {step_id}: expected {status}, got {step.status.value}")
                step_cites = expected.get("cites")
                if step_cites is not None and step.cites != step_cites:
                    out.append(
                        f"step {step_id}: expected cites {_list(step_cites)}, "
                        f"got {_list(step.cites)}"
                    )
        if self.contacts or self.obligations:
            guardrails = Guardrails(engine.policy)
            for check in self.contacts:
                out += check.problems(guardrails.check(case, check.contact))
            if self.obligations:
                found = {r.rule_id: r for r in guardrails.obligations(case, as_of=as_of)}
                for rule_id, expected in self.obligations.items():
                    reason = found.get(rule_id)
                    if reason is None:
                        said = ", ".join(found) or "none"
                        out.append(f"obligation {rule_id}: none at {as_of} (obligations: {said})")
                        continue
                    effect = expected.get("effect")
                    if effect is not None and reason.effect is not effect:
                        out.append(
                            f"obligation {rule_id}: expected {effect.value}, got "
                            f"{reason.effect.value}: {reason.message}"
                        )
                    owed = expected.get("cites")
                    if owed is not None and reason.cites != owed:
                        out.append(
                            f"obligation {rule_id}: expected cites {_list(owed)}, "
                            f"got {_list(reason.cites)}"
                        )
        return out


def same_fact(actual: object, expected: object) -> bool:
    """Whether a decision's fact holds the value a golden case expects: as Python
    compares them, except that a flag is only ever a flag (``0`` does not match
    ``false``, nor ``1`` ``true``, though Python holds them equal)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return actual == expected


def parse_checks(case: Mapping[str, Any], policy: Policy) -> Checks:
    """The check keys of one golden case, checked; :class:`GoldenCheckError` says what is
    wrong with them."""
    fired = {
        rule_id: _strings(cites, f"fired.{rule_id}")
        for rule_id, cites in _table(case.get("fired", {}), "fired").items()
    }
    facts = dict(_table(case.get("facts", {}), "facts"))
    steps: dict[str, Mapping[str, Any]] = {}
    for step_id, raw in _table(case.get("steps", {}), "steps").items():
        spec = dict(_table(raw, f"steps.{step_id}"))
        _known(spec, _STEP_KEYS, f"steps.{step_id}")
        if "cites" in spec:
            spec["cites"] = _strings(spec["cites"], f"steps.{step_id}.cites")
        if "status" in spec:
            _step_status(spec["status"], f"steps.{step_id}.status")
        steps[step_id] = spec
    raw_contacts = case.get("contacts", [])
    if not isinstance(raw_contacts, list):
        raise GoldenCheckError("contacts: expected a list of tables ([[cases.contacts]])")
    contacts = tuple(_contact(raw, f"contacts[{n}]", policy) for n, raw in enumerate(raw_contacts))
    obligations: dict[str, Mapping[str, Any]] = {}
    for rule_id, raw in _table(case.get("obligations", {}), "obligations").items():
        where = f"obligations.{rule_id}"
        spec = dict(_table(raw, where))
        _known(spec, _OBLIGATION_KEYS, where)
        _guardrail_rule(rule_id, where, policy)
        if "effect" in spec:
            spec["effect"] = _effect(spec["effect"], f"{where}.effect")
        if "cites" in spec:
            spec["cites"] = _strings(spec["cites"], f"{where}.cites")
        obligations[rule_id] = spec
    return Checks(fired=fired, facts=facts, steps=steps, contacts=contacts, obligations=obligations)


def _contact(raw: object, where: str, policy: Policy) -> ContactCheck:
    spec = _table(raw, where)
    _known(spec, _CONTACT_KEYS, where)
    for key in ("channel", "at", "allowed"):
        if key not in spec:
            raise GoldenCheckError(f"{where}: missing required key {quote(key)}")
    if not isinstance(spec["allowed"], bool):
        raise GoldenCheckError(f"{where}.allowed: expected true or false")
    fields = {k: spec[k] for k in _CONTACT_FIELDS if k in spec}
    fields.setdefault("party", "debtor")
    try:
        contact = Contact(**fields)
    except (CollectRulesError, TypeError) as exc:
        raise GoldenCheckError(f"{where}: {exc}") from None
    reasons = {
        rule_id: _effect(effect, f"{where}.reasons.{rule_id}")
        for rule_id, effect in _table(spec.get("reasons", {}), f"{where}.reasons").items()
    }
    cites = {
        rule_id: _strings(value, f"{where}.cites.{rule_id}")
        for rule_id, value in _table(spec.get("cites", {}), f"{where}.cites").items()
    }
    blocked_by = None
    if "blocked_by" in spec:
        blocked_by = _strings(spec["blocked_by"], f"{where}.blocked_by")
    for rule_id in (*reasons, *cites, *(blocked_by or ())):
        _guardrail_rule(rule_id, where, policy)
    return ContactCheck(contact, spec["allowed"], blocked_by, reasons, cites)


def _guardrail_rule(rule_id: str, where: str, policy: Policy) -> None:
    try:
        rules = {r.id for pack in Guardrails(policy).section.packs for r in pack.rules}
    except CollectRulesError as exc:
        raise GoldenCheckError(f"{where}: {exc}") from None
    if rule_id not in rules:
        hint = did_you_mean(rule_id, sorted(rules))
        more = f" (did you mean {quote(hint)}?)" if hint else ""
        msg = f"{where}: no guardrail rule {quote(rule_id)} in policy {quote(policy.id)}{more}"
        raise GoldenCheckError(msg)


def _step_status(value: object, where: str) -> None:
    """A step status, checked when the file is collected rather than when the case runs."""
    known = [s.value for s in StepStatus]
    if isinstance(value, str) and value in known:
        return
    msg = f"{where}: expected one of {', '.join(known)}, got {quote(value)}"
    near = did_you_mean(value, known) if isinstance(value, str) else None
    if near is not None:
        msg += f" (did you mean {quote(near)}?)"
    raise GoldenCheckError(msg)


def _effect(value: object, where: str) -> ReasonEffect:
    try:
        return ReasonEffect(str(value))
    except ValueError:
        known = ", ".join(e.value for e in ReasonEffect)
        raise GoldenCheckError(f"{where}: expected one of {known}, got {quote(value)}") from None


def _table(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise GoldenCheckError(f"{where}: expected a table")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GoldenCheckError(f"{where}: expected a list of strings")
    return tuple(value)


def _known(spec: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in spec:
        if key not in keys:
            hint = did_you_mean(key, list(keys))
            more = f" (did you mean {quote(hint)}?)" if hint else ""
            raise GoldenCheckError(f"{where}: unknown key {quote(key)}{more}")


def _list(items: tuple[str, ...]) -> str:
    return f"[{', '.join(items)}]"
