"""Honest citations: what the source texts say, and what a policy chose.

A parameter, signal, rule or stage that the texts do not give is marked ``chosen = true``
and says why in its ``doc``. :func:`chosen_problems` finds the items that break this:

* a ``chosen`` item that cites a clause of the source texts (DOMAIN.md, REGULATION.md)
  and gives no ``doc``: it cites the clause as if the clause said it;
* a ``chosen`` item with no ``doc`` at all: a choice with no reason;
* an item whose ``doc`` or reason calls itself the policy's choice but that is not
  marked ``chosen``.

``collectrules check`` reports each as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from collectrules._arguments import require_instance
from collectrules.policy.clauses import ClauseKind, registry
from collectrules.policy.model import Policy

__all__ = ["ChosenProblem", "chosen_items", "chosen_problems"]

_SAYS_CHOSEN = re.compile(r"\b(this|the) (policy|lender)'s (own )?(choice|reading)\b", re.I)


@attrs.frozen
class ChosenProblem:
    """One item whose ``chosen`` mark and citations disagree: where, and what is wrong."""

    path: str
    message: str
    rule_id: str | None = None


@attrs.frozen
class _Item:
    path: str
    chosen: bool
    doc: str
    text: str
    cites: tuple[str, ...]
    rule_id: str | None = None


def _items(policy: Policy) -> Iterator[_Item]:
    for name, parameter in policy.parameters.items():
        yield _Item(
            f"parameters.{name}", parameter.chosen, parameter.doc, parameter.doc, parameter.cites
        )
    for kind, spec in policy.signals.items():
        yield _Item(f"signals.{kind}", spec.chosen, spec.doc, spec.doc, spec.cites)
    for layer in policy.layers:
        for rule in layer.rules:
            yield _Item(
                f"layers[{layer.id}].rules[{rule.id}]",
                rule.chosen,
                rule.doc,
                f"{rule.reason} {rule.doc}",
                rule.cites,
                rule.id,
            )
    for remedy in policy.remedy_rules:
        yield _Item(
            f"remedies[{remedy.id}]",
            remedy.chosen,
            remedy.doc,
            f"{remedy.reason} {remedy.doc}",
            remedy.cites,
            remedy.id,
        )
    timeline = policy.sections.get("timeline")
    plans = getattr(timeline, "plans", None)
    if isinstance(plans, dict):
        for plan in plans.values():
            for stage in plan.stages:
                yield _Item(
                    f"timeline.plans.{plan.name}[{stage.id}]",
                    stage.chosen,
                    stage.doc,
                    stage.doc,
                    stage.cites,
                    stage.id,
                )


def chosen_items(policy: Policy) -> tuple[str, ...]:
    """The paths of every item the policy marks ``chosen``, in file order."""
    require_instance(policy, Policy, "policy", "a Policy")
    return tuple(item.path for item in _items(policy) if item.chosen)


def chosen_problems(policy: Policy) -> tuple[ChosenProblem, ...]:
    """Every item whose ``chosen`` mark, ``doc`` and citations disagree (see the module)."""
    require_instance(policy, Policy, "policy", "a Policy")
    clauses = registry(policy)
    out: list[ChosenProblem] = []
    for item in _items(policy):
        source = [
            c
            for c in item.cites
            if (clause := clauses.get(c)) is not None and clause.kind is not ClauseKind.POLICY
        ]
        if item.chosen and not item.doc.strip():
            if source:
                message = (
                    f"{item.path} is marked chosen but says nowhere what it chose: it cites "
                    f"{', '.join(source)} as if the texts said it; give a doc that says what "
                    "the policy chose and why"
                )
            else:
                message = f"{item.path} is marked chosen with no doc saying why"
            out.append(ChosenProblem(item.path, message, item.rule_id))
        elif not item.chosen and _SAYS_CHOSEN.search(item.text):
            message = (
                f"{item.path} calls itself the policy's choice but is not marked chosen; "
                "add chosen = true"
            )
            out.append(ChosenProblem(item.path, message, item.rule_id))
    return tuple(out)
