"""Decisions read back from batch output: what the changes and the report compare.

A batch writes one decision per line (:meth:`~collectrules.model.decision.Decision.to_dict`).
:func:`decision_row` reads one such line into a :class:`DecisionRow`, checking the fields
it needs with the same reader as the KPIs (:func:`~collectrules.money.kpis.portfolio_from_rows`),
so a bad line gives an :class:`~collectrules.errors.InputError` naming the field and the
file and line.

The steps of the timeline are read from the decision's facts: a policy with a
``[timeline]`` section puts each stage's status at ``as_of`` into the facts as
``step_<id>`` (``step_l_24h`` for stage ``L-24H``), so the batch output already says
which steps were late or breached, with no timeline in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from collectrules.errors import FieldProblem, InputError, quote
from collectrules.money.kpis import PortfolioCase, portfolio_from_rows
from collectrules.policy import Policy
from collectrules.timeline.stages import STEP_STATES, TimelineSection, step_field

__all__ = ["DecisionRow", "decision_row", "step_names"]


def _problem(attribute: attrs.Attribute[Any], expected: str, value: object) -> InputError:
    msg = f"expected {expected}, got {quote(value)}"
    return InputError([FieldProblem(attribute.name, msg)], subject="decision")


def _portfolio_case(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not PortfolioCase:
        raise _problem(attribute, "a PortfolioCase", value)


def _texts_by_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping) or not all(
        type(k) is str and type(v) is str for k, v in value.items()
    ):
        raise _problem(attribute, "a mapping of texts to texts", value)


def _remedies(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not all(type(r) is str for r in value):
        raise _problem(attribute, "a frozenset of remedies (texts)", value)


def _statuses(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _texts_by_text(instance, attribute, value)
    for name, status in value.items():  # type: ignore[attr-defined]  # a Mapping, checked
        if status not in STEP_STATES:
            raise InputError(
                [
                    FieldProblem(
                        f"{attribute.name}[{quote(name)}]",
                        f"expected a step status, one of {', '.join(STEP_STATES)},"
                        f" got {quote(status)}",
                    )
                ],
                subject="decision",
            )


def _optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and type(value) is not str:
        raise _problem(attribute, "a policy's id (a text), or None", value)


@attrs.frozen
class DecisionRow:
    """What the changes and the report read of one decision.

    ``classes`` maps each regulatory pack to the case's class, ``buckets`` each bucket
    set to its bucket; ``allowed`` are the allowed remedies and ``blocked`` the blocked
    ones with the first blocking rule; ``steps`` maps each ``step_<id>`` fact to the
    step's status; ``policy_id`` is the id of the policy that decided. Each field is
    checked when the row is built: one of another kind, or a step status that is no
    known one, is an :class:`~collectrules.errors.InputError` naming it.
    """

    case: PortfolioCase = attrs.field(validator=_portfolio_case)
    classes: Mapping[str, str] = attrs.field(validator=_texts_by_text)
    allowed: frozenset[str] = attrs.field(validator=_remedies)
    blocked: Mapping[str, str] = attrs.field(validator=_texts_by_text)
    steps: Mapping[str, str] = attrs.field(validator=_statuses)
    policy_id: str | None = attrs.field(default=None, validator=_optional_text)

    @property
    def case_id(self) -> str:
        """The case id."""
        return self.case.case_id

    @property
    def quadrant(self) -> str:
        """The quadrant, ``Q1`` to ``Q4``."""
        return self.case.quadrant

    @property
    def amount(self) -> Decimal:
        """The overdue amount, in :attr:`currency`."""
        return self.case.overdue_amount

    @property
    def currency(self) -> str:
        """The case's currency."""
        return self.case.currency


def _list_of_objects(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        msg = "expected a list of objects (is this a decision from collectrules batch?)"
        raise InputError([FieldProblem(key, msg, source=where)], subject="decision")
    return value


def decision_row(data: Mapping[str, Any], where: str) -> DecisionRow:
    """One decision line (``where`` names its file and line) as a :class:`DecisionRow`.

    Every error names ``where``.
    """
    if not isinstance(where, str):
        msg = f"expected a text saying where the line was read, got {quote(where)}"
        raise InputError([FieldProblem("where", msg)], subject="decision")
    if not isinstance(data, Mapping):
        msg = f"expected a decision object, got {type(data).__name__}"
        raise InputError([FieldProblem("", msg, source=where)], subject="decision")
    try:
        case = portfolio_from_rows([(where, data)])
    except InputError as exc:  # each problem named by the line (facts.dpd was not)
        problems = [
            p if p.source is not None else attrs.evolve(p, source=where) for p in exc.problems
        ]
        raise InputError(problems, subject="decision") from None
    (portfolio_case,) = case.values()
    classes: dict[str, str] = {}
    for i, item in enumerate(_list_of_objects(data, "regulatory", where)):
        pack, value = item.get("pack"), item.get("value")
        if not isinstance(pack, str) or not isinstance(value, str):
            msg = "expected pack and value strings"
            raise InputError([FieldProblem(f"regulatory[{i}]", msg, source=where)])
        classes[pack] = value
    allowed: set[str] = set()
    for i, item in enumerate(_list_of_objects(data, "allowed", where)):
        remedy = item.get("remedy")
        if not isinstance(remedy, str):
            raise InputError([FieldProblem(f"allowed[{i}].remedy", "expected a string", where)])
        allowed.add(remedy)
    blocked: dict[str, str] = {}
    for i, item in enumerate(_list_of_objects(data, "blocked", where)):
        remedy, rule = item.get("remedy"), item.get("rule_id")
        if not isinstance(remedy, str) or not isinstance(rule, str):
            msg = "expected remedy and rule_id strings"
            raise InputError([FieldProblem(f"blocked[{i}]", msg, source=where)])
        blocked[remedy] = rule
    steps = {
        name: value
        for name, value in portfolio_case.facts.items()
        if name.startswith("step_") and isinstance(value, str)
    }
    for name, status in steps.items():
        if status not in STEP_STATES:
            msg = f"expected a step status, one of {', '.join(STEP_STATES)}, got"
            raise InputError(
                [FieldProblem(f"facts.{name}", f"{msg} {quote(status)}", source=where)],
                subject="decision",
            )
    ref = data.get("policy")
    policy_id = ref.get("id") if isinstance(ref, Mapping) else None
    return DecisionRow(
        portfolio_case,
        classes,
        frozenset(allowed),
        blocked,
        steps,
        policy_id if isinstance(policy_id, str) else None,
    )


def step_names(policy: Policy | None) -> dict[str, str]:
    """The stage id of each ``step_<id>`` fact of ``policy``'s timeline (empty without one)."""
    if policy is not None and not isinstance(policy, Policy):
        msg = f"expected a Policy or None, got {type(policy).__name__} {quote(policy)}"
        raise InputError([FieldProblem("policy", msg)])
    section = None if policy is None else policy.sections.get("timeline")
    if not isinstance(section, TimelineSection):
        return {}
    return {
        step_field(stage.id): stage.id for plan in section.plans.values() for stage in plan.stages
    }
