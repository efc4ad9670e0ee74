"""``assert_decision``: check a policy's decision on one case, and explain a failure.

A failure is a :class:`DecisionMismatch` (an ``AssertionError``) whose message lists
each expectation that was not met, side by side with what the policy decided, and then
the decision itself: the level of each layer, the remedies allowed and blocked, every
rule that fired with its reason and citations, and the facts the rules read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from collectrules._arguments import MAX_ITEMS, require_instance, require_texts
from collectrules.engine import Backend, UnknownSignals
from collectrules.errors import MAX_LISTED_PROBLEMS, FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import Case
from collectrules.model.decision import Decision, Quadrant
from collectrules.model.remedies import Remedy, remedy_name
from collectrules.model.time import require_aware
from collectrules.policy import Policy
from collectrules.testing._policies import engine_for, resolve_policy

__all__ = ["DecisionMismatch", "Expectation", "assert_decision", "format_decision"]


_REMEDY_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


def _remedies(values: Iterable[Remedy | str] | Remedy | str, what: str) -> tuple[str, ...]:
    """Remedy names: a standard one, or a snake_case name of a policy's own catalogue
    (checked against the policy by :meth:`Expectation.check`)."""
    if isinstance(values, str):  # a single name, not its letters
        values = (values,)
    if isinstance(values, bytes | Mapping) or not isinstance(values, Iterable):
        raise InputError(
            [FieldProblem(what, f"expected a remedy or a list of remedies, got {quote(values)}")],
            subject="expectation",
        )
    out: dict[str, None] = {}  # the names in order, each once: a set's time per name
    problems: list[FieldProblem] = []
    known = [r.value for r in Remedy]
    for index, value in enumerate(values):
        if index >= MAX_ITEMS:
            raise InputError([FieldProblem(what, f"more than {MAX_ITEMS:,} items")])
        if not isinstance(value, str) or not _REMEDY_NAME.match(value):
            problems.append(
                FieldProblem(
                    what,
                    f"unknown remedy {quote(value)}",
                    suggestion=_suggestion(value, known, problems),
                )
            )
            continue
        out.setdefault(remedy_name(value))
    if problems:
        raise InputError(problems, subject="expectation")
    return tuple(out)


def _suggestion(
    value: object, known: Sequence[str], problems: Sequence[FieldProblem]
) -> str | None:
    """The known name closest to ``value``, for the problems an error's message lists
    (the first :data:`~collectrules.errors.MAX_LISTED_PROBLEMS`); ``None`` past them,
    where no one reads it, so that a list of a million unknown names is refused in
    the time of reading it."""
    if not isinstance(value, str) or len(problems) >= MAX_LISTED_PROBLEMS:
        return None
    return did_you_mean(value, known)


def _quadrant(value: Quadrant | str | None) -> Quadrant | None:
    if value is None:
        return None
    try:
        return Quadrant(value)
    except ValueError:
        msg = f"unknown quadrant {quote(value)}; expected one of Q1, Q2, Q3, Q4"
        raise InputError([FieldProblem("quadrant", msg)], subject="expectation") from None


def _allows(values: Iterable[Remedy | str] | Remedy | str) -> tuple[str, ...]:
    return _remedies(values, "allows")


def _blocks(values: Iterable[Remedy | str] | Remedy | str) -> tuple[str, ...]:
    return _remedies(values, "blocks")


@attrs.frozen
class Expectation:
    """What a case's decision should be: its quadrant, remedies allowed and blocked.

    ``allows`` need only be among the allowed remedies and ``blocks`` among the
    blocked ones; remedies not named are not checked. Arguments are checked when the
    expectation is made: an unknown remedy or quadrant is an
    :class:`~collectrules.errors.InputError`, with a suggestion.
    """

    quadrant: Quadrant | None = attrs.field(default=None, converter=_quadrant)
    allows: tuple[str, ...] = attrs.field(default=(), converter=_allows)
    blocks: tuple[str, ...] = attrs.field(default=(), converter=_blocks)

    def __attrs_post_init__(self) -> None:
        blocks = frozenset(self.blocks)
        both = [str(r) for r in self.allows if r in blocks]
        if both:
            msg = f"expected both allowed and blocked: {', '.join(both)}"
            raise InputError([FieldProblem("allows", msg)], subject="expectation")

    def check(self, remedies: Collection[str]) -> None:
        """Every remedy named must be in ``remedies`` (a policy's catalogue, standard
        and own): an unknown one is an :class:`~collectrules.errors.InputError`."""
        known = [str(r) for r in remedies]
        problems: list[FieldProblem] = []
        for what, names in (("allows", self.allows), ("blocks", self.blocks)):
            for r in names:
                if r not in remedies:
                    msg = f"unknown remedy {quote(r)}"
                    hint = _suggestion(str(r), known, problems)
                    problems.append(FieldProblem(what, msg, suggestion=hint))
        if problems:
            raise InputError(problems, subject="expectation")

    def problems(self, decision: Decision) -> tuple[str, ...]:
        """Each unmet expectation, as a line saying what was expected and what was found."""
        out: list[str] = []
        if self.quadrant is not None and decision.quadrant is not self.quadrant:
            out.append(
                f"quadrant: expected {self.quadrant.value} ({self.quadrant.label_en}), "
                f"got {decision.quadrant.value} ({decision.quadrant.label_en})"
            )
        for remedy in self.allows:
            if decision.grant(remedy) is None:
                out.append(f"{remedy}: expected allowed, got {_state(decision, remedy)}")
        for remedy in self.blocks:
            if decision.block(remedy) is None:
                out.append(f"{remedy}: expected blocked, got {_state(decision, remedy)}")
        return tuple(out)


def _state(decision: Decision, remedy: str) -> str:
    block = decision.block(remedy)
    if block is not None:
        return f"blocked by {block.rule_id} [{', '.join(block.cites)}]: {block.reason}"
    grant = decision.grant(remedy)
    if grant is not None:
        return f"allowed by {grant.rule_id} [{', '.join(grant.cites)}]: {grant.reason}"
    return "neither allowed nor blocked (no rule that fired names it)"


class DecisionMismatch(AssertionError):
    """A decision that did not meet its expectation.

    ``problems`` lists the unmet expectations, ``decision`` is what the policy decided
    and ``expectation`` what the test expected.
    """

    def __init__(
        self, problems: Sequence[str], decision: Decision, expectation: Expectation
    ) -> None:
        self.problems = (
            (problems,) if isinstance(problems, str) else require_texts(problems, "problems")
        )
        self.decision = require_instance(decision, Decision, "decision", "a Decision")
        self.expectation = require_instance(
            expectation, Expectation, "expectation", "an Expectation"
        )
        ref = f"{decision.policy.id}@{decision.policy.version}#{decision.policy.content_hash[:12]}"
        head = (
            f"case {quote(decision.case_id)} at {decision.as_of.isoformat()} under {ref} "
            f"({decision.engine} back end) does not match:"
        )
        lines = [head, *(f"  {p}" for p in self.problems), "", format_decision(decision)]
        if decision.ignored_signals:
            lines.append(
                f"ignored signals (kinds the policy does not know): {decision.ignored_signals}"
            )
        super().__init__("\n".join(lines))


def format_decision(decision: Decision) -> str:
    """The decision as readable text: levels, remedies, the trace, and the facts read."""
    require_instance(decision, Decision, "decision", "a Decision")
    lines = ["decision:"]
    width = max((len(name) for name in decision.levels), default=0)
    for name, level in decision.levels.items():
        how = []
        if level.score is not None:
            how.append(f"score {level.score:g}")
        if level.defaulted:
            how.append("default")
        if level.rules:
            how.append(", ".join(level.rules))
        detail = f" ({'; '.join(how)})" if how else ""
        lines.append(f"  {name.ljust(width)} = {level.value}{detail}")
    allowed = ", ".join(
        str(g.remedy) + (" (required)" if g.required else "") for g in decision.allowed
    )
    lines.append(f"  allowed: {allowed or '-'}")
    lines.append(f"  blocked: {', '.join(str(b.remedy) for b in decision.blocked) or '-'}")
    lines.append("trace (rules that fired, in order):")
    if not decision.trace:
        lines.append("  (none)")
    for number, firing in enumerate(decision.trace, start=1):
        cites = f"  [{', '.join(firing.cites)}]" if firing.cites else ""
        lines.append(f"  {number:>2}. {firing.rule_id} ({firing.layer}): {firing.outcome}{cites}")
        if firing.reason:
            lines.append(f"      {firing.reason}")
    shown = {k: v for k, v in sorted(decision.facts.items()) if v not in (0, False) or k == "dpd"}
    lines.append("facts (zero counts and absent measures left out):")
    lines.append("  " + ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_decision(
    policy: Policy | str | Path,
    case: Case | Mapping[str, Any],
    *,
    as_of: dt.datetime | str,
    quadrant: Quadrant | str | None = None,
    allows: Iterable[Remedy | str] | Remedy | str = (),
    blocks: Iterable[Remedy | str] | Remedy | str = (),
    backend: Backend = "python",
    unknown_signals: UnknownSignals | None = None,
) -> Decision:
    """Decide ``case`` under ``policy`` at ``as_of`` and check the decision.

    ``policy`` is a :class:`~collectrules.policy.Policy`, a shipped policy name or a
    policy file; it is loaded once, and its engine compiled once per content hash.
    ``case`` is a :class:`~collectrules.model.case.Case` or plain data for
    ``Case.from_dict``. ``quadrant`` (when given) must be the decided quadrant; every
    remedy of ``allows`` must be allowed and every one of ``blocks`` blocked.

    ``unknown_signals`` says what to do with a signal whose kind ``policy`` does not
    know. By default, a :class:`Case` (made for another policy: a challenger that adds
    a signal, or drawn by ``cases(policy, also=…)``) has such signals ignored, and the
    decision counts them in ``ignored_signals``, so that one case can be checked
    against policies whose vocabularies differ; plain data is checked against the
    policy's kinds, so that a misspelt kind is an error. ``"ignore"`` or ``"error"``
    applies to both.

    Returns the decision, for further checks. Raises :class:`DecisionMismatch` when an
    expectation is not met, with a readable diff and the trace.
    """
    expectation = Expectation(quadrant=quadrant, allows=allows, blocks=blocks)
    resolved = resolve_policy(policy)
    expectation.check(resolved.remedies)
    when = require_aware(as_of)
    if unknown_signals is None:
        unknown_signals = "ignore" if isinstance(case, Case) else "error"
    if not isinstance(case, Case):
        if not isinstance(case, Mapping):
            msg = f"expected a Case or a mapping, got {type(case).__name__}"
            raise InputError([FieldProblem("case", msg)])
        kinds = tuple(resolved.signals)
        if unknown_signals == "ignore":
            items = case.get("signals")
            own = (
                [i.get("kind") for i in items if isinstance(i, Mapping)]
                if isinstance(items, list)
                else []
            )
            kinds += tuple(k for k in own if isinstance(k, str))
        case = Case.from_dict(case, signal_kinds=kinds, products=resolved.products)
    decision = engine_for(resolved, backend, unknown_signals).decide(case, as_of=when)
    problems = expectation.problems(decision)
    if problems:
        raise DecisionMismatch(problems, decision, expectation)
    return decision
