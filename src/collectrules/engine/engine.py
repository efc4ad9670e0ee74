"""The engine: decide cases under a policy, on durable_rules or the compiled evaluator.

``Engine(policy)`` compiles the policy into a durable_rules ruleset (once per policy
content hash, per process) and decides cases with ``engine.decide(case, as_of=…)``.
``Engine(policy, backend="python")`` uses the generated Python evaluator instead
(:mod:`collectrules.engine.generated`: the policy compiled to Python source once per
content hash): the same semantics, proven equal by the test suite, much faster, and
available where durable_rules is not (Python 3.13).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs

from collectrules.assets.checklist import AssetPlan, asset_plan_of
from collectrules.conditions import MONEY_SCALE, FieldType
from collectrules.engine import _durable
from collectrules.engine.compiled import (
    Outcome,
    fill_placeholders,
    layer_firings,
    resolve_layer,
    resolve_remedies,
)
from collectrules.engine.generated import generated_policy
from collectrules.engine.session import CaseSession
from collectrules.errors import CollectRulesError, EngineError, FieldProblem, InputError
from collectrules.io.arrow import is_frame, table_rows
from collectrules.model.case import Case
from collectrules.model.decision import (
    BucketResult,
    Decision,
    Firing,
    LevelResult,
    PolicyRef,
    Quadrant,
    RegulatoryClass,
)
from collectrules.model.time import require_aware, require_case
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import Derived, derive
from collectrules.timeline.evaluate import Timeline, build_timeline
from collectrules.timeline.urgency import Urgency, urgency_of

__all__ = ["MONEY_EXPONENT", "Backend", "BatchResult", "Engine", "display_facts"]

Backend = Literal["durable", "python"]


@attrs.frozen
class BatchResult:
    """One row of a batch: its decision, or the error that kept it from one."""

    index: int
    case_id: str | None
    decision: Decision | None = None
    error: CollectRulesError | None = None

    @property
    def ok(self) -> bool:
        """Whether the row was decided."""
        return self.decision is not None


class Engine:
    """Decides cases under one policy.

    ``policy`` is a :class:`Policy`, a shipped policy name or a path; it defaults to the
    embedded default policy. ``backend`` is ``"durable"`` (the Rete engine) or
    ``"python"`` (the compiled evaluator).
    """

    def __init__(
        self, policy: Policy | str | Path = "default", *, backend: Backend = "durable"
    ) -> None:
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        if backend not in ("durable", "python"):
            raise InputError(
                [FieldProblem("backend", f"expected 'durable' or 'python', got {backend!r}")]
            )
        self.backend: Backend = backend
        self._generated = generated_policy(self.policy) if backend == "python" else None
        self._signals_read: dict[str, dict[str, frozenset[str]]] = {
            layer.id: {
                rule.id: frozenset(f for f in rule.when.fields() if f in self.policy.signals)
                for rule in layer.rules
            }
            for layer in self.policy.layers
        }
        self._money_fields = frozenset(
            name for name, spec in self.policy.schema().items() if spec.type is FieldType.MONEY
        )
        self._ruleset = _durable.compile_ruleset(self.policy) if backend == "durable" else None
        try:
            self._quadrant_layer = self.policy.layer("quadrant")
        except CollectRulesError:
            raise EngineError(
                f"policy {self.policy.id!r} has no layer whose output is 'quadrant'"
            ) from None

    def __repr__(self) -> str:
        return f"Engine({self.policy.ref!r}, backend={self.backend!r})"

    def derive(self, case: Case, *, as_of: dt.datetime) -> Derived:
        """The flat facts of ``case`` at ``as_of`` that the rules read."""
        return derive(require_case(case), require_aware(as_of), self.policy)

    def decide(self, case: Case, *, as_of: dt.datetime | str) -> Decision:
        """Decide one case at ``as_of`` (an aware datetime, or an ISO string with offset)."""
        when = require_aware(as_of)
        derived = derive(require_case(case), when, self.policy)
        if self._generated is not None:
            outcome = self._generated.run(derived.facts)
        else:
            assert self._ruleset is not None
            outcome = self._ruleset.evaluate(derived.facts, case_id=case.case_id)
        return self._decision(case, derived, outcome)

    def replay(self, case: Case, *, as_of: dt.datetime | str, fired: Collection[str]) -> Decision:
        """The decision of ``case`` at ``as_of`` when exactly the rules ``fired`` matched.

        No condition is evaluated: the layers and remedies are resolved from the rule
        ids given (those of a decision's trace, as in a compact decision row), and the
        sections add their parts from the case, as in :meth:`decide`. With the ids of
        a decision's trace it rebuilds that decision, byte for byte.
        """
        when = require_aware(as_of)
        derived = derive(case, when, self.policy)
        return self._decision(case, derived, replay_outcome(self.policy, fired))

    def timeline(self, case: Case, *, as_of: dt.datetime | str) -> Timeline:
        """The collection timeline of ``case`` at ``as_of``: steps, deadlines, promises.

        See :mod:`collectrules.timeline`; the policy needs a ``[timeline]`` section.
        """
        return build_timeline(require_case(case), as_of=as_of, policy=self.policy)

    def urgency(self, case: Case, *, as_of: dt.datetime | str) -> Urgency:
        """How urgent ``case`` is at ``as_of``, from its timeline: ``Urgency.key`` sorts
        a worklist most urgent first (breached, hard limit, emergency, amount at risk).

        See :mod:`collectrules.timeline.urgency`; the policy needs a ``[timeline]`` section.
        """
        return urgency_of(self.timeline(case, as_of=as_of), case)

    def asset_plan(self, case: Case, *, as_of: dt.datetime | str) -> AssetPlan:
        """The asset checklist of ``case`` at ``as_of`` (DOMAIN.md §9).

        It lists the policy's asset classes, the sources to ask for each and what each
        needs, with the assets found so far, when the decision at ``as_of`` allows one
        of the ``[assets]`` section's remedies (``litigate``, ``investigate_assets``);
        otherwise ``applies`` is false and ``reason`` says why. The policy needs an
        ``[assets]`` section.
        """
        when = require_aware(as_of)
        decision = self.decide(case, as_of=when)
        blocked = {b.remedy: b.reason for b in decision.blocked}
        return asset_plan_of(case, decision.as_of, self.policy, decision.allowed_remedies, blocked)

    def session(self, case: Case) -> CaseSession:
        """A stateful session for ``case``: assert and retract facts, decide again."""
        return CaseSession(self, require_case(case))

    def decide_many(
        self, rows: Iterable[Case | Mapping[str, Any]], *, as_of: dt.datetime | str
    ) -> Iterator[BatchResult]:
        """Decide many cases; a bad row gives a result with its error, never a gap.

        Rows may be cases or plain dicts (structured with ``Case.from_dict``), or a
        pyarrow Table or pandas DataFrame of such rows (with the ``parquet`` extra). Rows
        are decided one at a time, as they are drawn from ``rows``. Any other exception while
        deciding a row becomes that row's :class:`EngineError`, naming the exception
        type ("internal error: …"), and the next row is decided.
        """
        when = require_aware(as_of)
        kinds = tuple(self.policy.signals)
        if is_frame(rows):
            rows = table_rows(rows)
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            msg = f"expected an iterable of cases or dicts, got {type(rows).__name__}"
            raise InputError([FieldProblem("rows", msg)])
        for index, row in enumerate(rows):
            case_id = None
            try:
                if isinstance(row, Case):
                    case = row
                else:
                    raw_id = row.get("case_id") if isinstance(row, Mapping) else None
                    case_id = raw_id if isinstance(raw_id, str) else None
                    case = Case.from_dict(row, signal_kinds=kinds)
                case_id = case.case_id
                yield BatchResult(index, case_id, decision=self.decide(case, as_of=when))
            except CollectRulesError as exc:
                yield BatchResult(index, case_id, error=exc)
            except Exception as exc:  # one row's failure must not stop the others
                message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
                yield BatchResult(index, case_id, error=EngineError(message))

    def _decision(self, case: Case, derived: Derived, outcome: Outcome) -> Decision:
        levels: dict[str, LevelResult] = {}
        policy = self.policy
        for resolved in outcome.levels:
            layer = resolved.layer
            reads = self._signals_read[layer.id]
            kinds = frozenset(kind for rule_id in resolved.used for kind in reads[rule_id])
            label = layer.labels.get(resolved.value, ("", ""))
            levels[layer.output] = LevelResult(
                layer=layer.id,
                value=resolved.value,
                rules=resolved.used,
                signals=derived.signals_of(kinds),
                score=resolved.score,
                defaulted=resolved.defaulted,
                label_en=label[0],
                label_zh=label[1],
            )
        try:
            quadrant = Quadrant(levels["quadrant"].value)
        except (KeyError, ValueError):
            msg = f"policy {policy.id!r}: the quadrant layer must give Q1, Q2, Q3 or Q4"
            raise EngineError(msg) from None
        regulatory: tuple[RegulatoryClass, ...] = ()
        buckets: tuple[BucketResult, ...] = ()
        section_firings: tuple[Firing, ...] = ()
        amounts: dict[str, Any] = {}
        for plugin in policy.plugins:
            part = plugin.contribute(case, derived.facts, derived.as_of, policy)
            regulatory += part.regulatory
            buckets += part.buckets
            section_firings += part.firings
            amounts.update(part.amounts)
        shown = _display(derived.facts, self._money_fields)
        values = policy.memo("placeholder_parameters", lambda: policy.parameter_values)
        allowed, blocked = fill_placeholders(outcome.allowed, outcome.blocked, {**values, **shown})
        buckets = tuple(b.judged(allowed, blocked) for b in buckets)
        return Decision(
            case_id=case.case_id,
            as_of=derived.as_of,
            policy=PolicyRef(policy.id, policy.version, policy.content_hash),
            quadrant=quadrant,
            levels=levels,
            allowed=allowed,
            blocked=blocked,
            trace=(*outcome.firings, *section_firings),
            facts=shown,
            regulatory=regulatory,
            buckets=buckets,
            engine=self.backend,
            amounts=amounts,
        )


MONEY_EXPONENT = len(str(MONEY_SCALE)) - 1


def replay_outcome(policy: Policy, fired: Collection[str]) -> Outcome:
    """The outcome of ``policy`` when exactly the rules ``fired`` matched, in file order.

    Ids that name no layer or remedy rule (a layer's ``.default`` or ``.resolve``
    entry, a section's firing) are ignored: they follow from the others.
    """
    chosen = frozenset(fired)
    outcome = Outcome()
    for layer in policy.layers:
        matched = [rule for rule in layer.rules if rule.id in chosen]
        resolved = resolve_layer(layer, matched)
        outcome.levels.append(resolved)
        outcome.firings.extend(layer_firings(resolved, matched))
    matched_remedies = [rule for rule in policy.remedy_rules if rule.id in chosen]
    allowed, blocked, firings = resolve_remedies(policy, matched_remedies)
    outcome.allowed, outcome.blocked = allowed, blocked
    outcome.firings.extend(firings)
    return outcome


def display_facts(policy: Policy, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The flat facts for people: money back in major units, as decimal strings."""
    money = frozenset(n for n, spec in policy.schema().items() if spec.type is FieldType.MONEY)
    return _display(facts, money)


def _display(facts: Mapping[str, Any], money: frozenset[str]) -> dict[str, Any]:
    out = dict(facts)
    for name in money:
        value = out.get(name)
        if isinstance(value, int):
            text = format(Decimal(value).scaleb(-MONEY_EXPONENT), "f")
            out[name] = text.rstrip("0").rstrip(".") if "." in text else text
    return out
