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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs
import pendulum

from collectrules._arguments import require_instance, require_mapping, require_texts
from collectrules._decimal import CONTEXT, exact, exact_thunk
from collectrules.assets.checklist import AssetPlan, asset_plan_of
from collectrules.conditions import MONEY_SCALE, FieldType
from collectrules.engine import _durable
from collectrules.engine.compiled import (
    LayerOutcome,
    Outcome,
    fill_firings,
    fill_placeholders,
    layer_firings,
    resolve_layer,
    resolve_remedies,
)
from collectrules.engine.generated import generated_policy
from collectrules.engine.session import CaseSession
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    OutOfMemoryError,
    foreign_failure,
    quote,
)
from collectrules.io.arrow import is_frame, refuse_table, table_rows
from collectrules.io.repeats import CaseIds, repeated_case
from collectrules.model.case import Case, Signal
from collectrules.model.decision import (
    NO_SIGNS_IN_FORCE,
    BucketResult,
    Decision,
    Firing,
    LevelResult,
    Outline,
    PolicyRef,
    Quadrant,
    RegulatoryClass,
    Template,
    presumed_labels,
)
from collectrules.model.time import require_aware, require_case
from collectrules.operations.team import Team
from collectrules.operations.worklist import (
    DEFAULT_RUN_SIZE,
    PlannedCase,
    RowFailure,
    Worklist,
)
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import Cure, Derived, UnknownSignals, derive
from collectrules.policy.section import NO_CONTRIBUTION, plugins_doing
from collectrules.timeline.evaluate import Timeline, build_timeline, timeline_section
from collectrules.timeline.urgency import Urgency, urgency_of

__all__ = [
    "MONEY_EXPONENT",
    "Backend",
    "BatchResult",
    "Engine",
    "EngineStats",
    "Repeats",
    "UnknownSignals",
    "display_facts",
]

Backend = Literal["durable", "python"]

#: What :meth:`Engine.decide_many` does with a second row for a case id it has decided:
#: ``"refuse"`` it (an :class:`InputError` on ``case_id``), or ``"decide"`` it again.
Repeats = Literal["refuse", "decide"]


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


@attrs.define
class EngineStats:
    """What an engine has decided so far: ``decided`` cases, and the signals it ignored
    (``unknown_signals="ignore"``): how many, and how many of each kind."""

    decided: int = 0
    ignored_signals: int = 0
    ignored_kinds: dict[str, int] = attrs.field(factory=dict)


class Engine:
    """Decides cases under one policy.

    ``policy`` is a :class:`Policy`, a shipped policy name or a path; it defaults to the
    embedded default policy. ``backend`` is ``"durable"`` (the Rete engine) or
    ``"python"`` (the compiled evaluator).

    ``unknown_signals`` says what to do with a signal whose kind the policy does not
    know: ``"error"`` (the default) refuses the case with an
    :class:`~collectrules.errors.InputError` naming each such signal; ``"ignore"``
    decides the case as if the signal were absent, counts it in the decision's
    ``ignored_signals`` and in :attr:`stats`. Comparing two policies whose signal
    vocabularies differ (``impact``, ``assert_decision``) ignores them.
    """

    def __init__(
        self,
        policy: Policy | str | Path = "default",
        *,
        backend: Backend = "durable",
        unknown_signals: UnknownSignals = "error",
    ) -> None:
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        if backend not in ("durable", "python"):
            raise InputError(
                [FieldProblem("backend", f"expected 'durable' or 'python', got {quote(backend)}")]
            )
        if unknown_signals not in ("error", "ignore"):
            msg = f"expected 'error' or 'ignore', got {quote(unknown_signals)}"
            raise InputError([FieldProblem("unknown_signals", msg)])
        self.backend: Backend = backend
        self.unknown_signals: UnknownSignals = unknown_signals
        #: Counts of what this engine decided and ignored (see :class:`EngineStats`).
        self.stats = EngineStats()
        self._generated = generated_policy(self.policy) if backend == "python" else None
        self._signals_read: dict[str, dict[str, frozenset[str]]] = {
            layer.id: {
                rule.id: frozenset(f for f in rule.when.fields() if f in self.policy.signals)
                for rule in layer.rules
            }
            for layer in self.policy.layers
        }
        # Per layer and rule, the outputs of earlier layers the rule reads (a rule cannot
        # read its own layer's): a level whose rules read a presumed level is itself a
        # presumption (see :meth:`_levels`).
        outputs = frozenset(layer.output for layer in self.policy.layers)
        self._outputs_read: dict[str, dict[str, frozenset[str]]] = {
            layer.id: {rule.id: rule.when.fields() & outputs for rule in layer.rules}
            for layer in self.policy.layers
        }
        # Per (layer, value, rules used, presumption inherited): see :meth:`_level_part`
        # (bounded).
        self._level_parts: dict[tuple[str, str, tuple[str, ...], bool], _LevelPart] = {}
        # How many levels the level parts share, all together (bounded).
        self._shared_levels = 0
        # Whether no rule's reason holds a ``{field}`` placeholder: then the trace
        # entries of the layers and remedies (their reasons, or the engine's own
        # texts) and of the evidence (fixed reasons) have none to fill.
        self._plain_rules = not any(
            "{" in rule.reason for layer in self.policy.layers for rule in layer.rules
        ) and not any("{" in rule.reason for rule in self.policy.remedy_rules)
        # The last instant decided at, and its ISO 8601 text (see Decision.lazily).
        self._as_of_text: tuple[dt.datetime, str] | None = None
        # Per signal kind, in force or cured: the evidence trace entry (see _evidence_firings).
        self._evidence: dict[tuple[str, bool], Template[Firing]] = {}
        #: The signal kinds any layer's rules read.
        self._kinds_read = frozenset(
            kind
            for reads in self._signals_read.values()
            for kinds in reads.values()
            for kind in kinds
        )
        self._presumed = {
            layer.id: frozenset(r.id for r in layer.rules if r.presumed)
            for layer in self.policy.layers
        }
        self._money_fields = frozenset(
            name for name, spec in self.policy.schema().items() if spec.type is FieldType.MONEY
        )
        ref = self.policy
        # What a ``{field}`` placeholder may name besides the facts (see :class:`_Shown`).
        self._parameters: Mapping[str, Any] = ref.memo(
            "placeholder_parameters", lambda: ref.parameter_values
        )
        self._policy_ref = PolicyRef(ref.id, ref.version, ref.content_hash)
        self._contributors = plugins_doing(ref, "contribute")
        # Whether a section's contribution must run in the library's decimal context
        # (see BaseSection.own_decimal_context).
        self._contributions_exact = any(
            getattr(p, "own_decimal_context", False) is not True for p in self._contributors
        )
        self._ruleset = _durable.compile_ruleset(self.policy) if backend == "durable" else None
        try:
            self._quadrant_layer = self.policy.layer("quadrant")
        except CollectRulesError:
            raise EngineError(
                f"policy {quote(self.policy.id)} has no layer whose output is 'quadrant'"
            ) from None

    def __repr__(self) -> str:
        return f"Engine({quote(self.policy.ref)}, backend={quote(self.backend)})"

    def derive(self, case: Case, *, as_of: dt.datetime) -> Derived:
        """The flat facts of ``case`` at ``as_of`` that the rules read."""
        try:
            return derive(
                require_case(case),
                require_aware(as_of),
                self.policy,
                unknown_signals=self.unknown_signals,
            )
        except CollectRulesError:
            raise
        except Exception as exc:  # a section plug-in's own failure, say
            raise foreign_failure(exc) from exc

    def decide(self, case: Case, *, as_of: dt.datetime | str) -> Decision:
        """Decide one case at ``as_of`` (an aware datetime, or an ISO string with offset)."""
        when = require_aware(as_of)
        try:
            derived = derive(
                require_case(case), when, self.policy, unknown_signals=self.unknown_signals
            )
            return self._decided(case, derived)
        except CollectRulesError:
            raise
        except Exception as exc:  # a section plug-in's own failure, say
            raise foreign_failure(exc) from exc

    def _decided(self, case: Case, derived: Derived) -> Decision:
        """The decision of ``case`` from its derivation."""
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
        fired = require_texts(fired, "fired", "the ids of the rules that fired")
        try:
            derived = derive(
                require_case(case), when, self.policy, unknown_signals=self.unknown_signals
            )
            return self._decision(case, derived, replay_outcome(self.policy, fired))
        except CollectRulesError:
            raise
        except Exception as exc:  # a section plug-in's own failure, say
            raise foreign_failure(exc) from exc

    def timeline(self, case: Case, *, as_of: dt.datetime | str) -> Timeline:
        """The collection timeline of ``case`` at ``as_of``: steps, deadlines, promises.

        See :mod:`collectrules.timeline`; the policy needs a ``[timeline]`` section. With
        ``unknown_signals="ignore"``, signals whose kind the policy does not know are left
        out and counted in :attr:`stats`, as when deciding.
        """
        when = require_aware(as_of)
        timeline_section(self.policy)  # a policy without a plan is the first error
        known, ignored = self._known_signals(require_case(case))
        self._count_ignored(ignored)
        derived = self.derive(known, as_of=when)
        try:
            return build_timeline(known, as_of=when, policy=self.policy, derived=derived)
        except CollectRulesError:
            raise
        except Exception as exc:  # a section plug-in's own failure, say
            raise foreign_failure(exc) from exc

    def _plan(self, case: Case, when: dt.datetime) -> PlannedCase:
        """The decision and the timeline of ``case`` at ``when``, from one derivation:
        the timeline reads the facts the decision was made on."""
        derived = self.derive(case, as_of=when)
        decision = self._decided(case, derived)  # counts the ignored signals
        known = self._known_signals(case)[0]
        timeline = build_timeline(known, as_of=when, policy=self.policy, derived=derived)
        return PlannedCase(case, decision, timeline)

    def _known_signals(self, case: Case) -> tuple[Case, tuple[Signal, ...]]:
        """``case`` without the signals this engine ignores, and those signals; with
        ``unknown_signals="error"``, the case as it is (an unknown kind is an error)."""
        if self.unknown_signals == "error":
            return case, ()
        kinds = self.policy.signals
        ignored = tuple(s for s in case.signals if s.kind not in kinds)
        if not ignored:
            return case, ()
        kept = tuple(s for s in case.signals if s.kind in kinds)
        return attrs.evolve(case, signals=kept), ignored

    def _count_ignored(self, ignored: tuple[Signal, ...]) -> None:
        for signal in ignored:
            self.stats.ignored_signals += 1
            counts = self.stats.ignored_kinds
            counts[signal.kind] = counts.get(signal.kind, 0) + 1

    def worklist(
        self,
        cases: Iterable[Case | Mapping[str, Any]],
        *,
        as_of: dt.datetime | str,
        team: Team | str | Path | None = None,
        on_failure: Callable[[RowFailure], None] | None = None,
        run_size: int = DEFAULT_RUN_SIZE,
        spill_dir: str | Path | None = None,
    ) -> Worklist:
        """The worklist of a portfolio at ``as_of``: every open, late or breached step.

        ``cases`` are cases or plain dicts (or a pyarrow Table, or a pandas or polars
        DataFrame of them), decided and planned one at a time as the worklist is
        iterated; a row that fails is listed in :attr:`Worklist.failures` (and given to
        ``on_failure`` as it happens) and the others go on. ``team`` is a
        :class:`~collectrules.operations.team.Team` or the path of a team file; a
        ``step_roles`` entry that is the role of no step of the policy is an
        :class:`InputError` naming the file, the line and the key. Each case
        is derived once: its decision and its timeline read the same facts. The lines of
        owners without a capacity are sorted holding at most ``run_size`` of them in
        memory, the rest in sorted runs in temporary files in ``spill_dir``. See
        :mod:`collectrules.operations.worklist` for the lines, the urgency and the memory
        model, and docs/howto-worklist.md.
        """
        when = require_aware(as_of)
        refuse_table(cases, "cases", frames=True)  # now: its rows are read as it is iterated
        return Worklist(
            self._planned(cases, when),
            as_of=when,
            policy=self.policy,
            team=team,
            on_failure=on_failure,
            run_size=run_size,
            spill_dir=spill_dir,
        )

    def _planned(
        self, rows: Iterable[Case | Mapping[str, Any]], when: dt.datetime
    ) -> Iterator[PlannedCase | RowFailure]:
        kinds = tuple(self.policy.signals)
        items: Iterable[Case | Mapping[str, Any] | InputError] = (
            table_rows(rows) if is_frame(rows) else rows
        )
        if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
            msg = f"expected an iterable of cases or dicts, got {type(items).__name__}"
            raise InputError([FieldProblem("cases", msg)])
        for index, row in enumerate(items):
            case_id = row.case_id if isinstance(row, Case) else None
            try:
                if isinstance(row, InputError):  # a table's row Python cannot read
                    raise row
                if isinstance(row, Case):
                    case = row
                else:
                    raw_id = row.get("case_id") if isinstance(row, Mapping) else None
                    case_id = raw_id if isinstance(raw_id, str) else None
                    case = Case.from_dict(
                        row,
                        signal_kinds=self._kinds_for(row, kinds),
                        products=self.policy.products,
                    )
                case_id = case.case_id
                yield self._plan(case, when)
            except MemoryError as exc:  # the process's, not the row's: the caller hears of it
                raise OutOfMemoryError.of(exc) from exc
            except CollectRulesError as exc:
                yield RowFailure(index, case_id, exc)
            except Exception as exc:  # one row's failure must not stop the others
                message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
                yield RowFailure(index, case_id, EngineError(message))

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
        self,
        rows: Iterable[Case | Mapping[str, Any]],
        *,
        as_of: dt.datetime | str,
        repeats: Repeats = "refuse",
    ) -> Iterator[BatchResult]:
        """Decide many cases; a bad row gives a result with its error, never a gap.

        Rows may be cases or plain dicts (structured with ``Case.from_dict``), or a
        pyarrow Table, pandas DataFrame or polars DataFrame of such rows (with the
        ``parquet`` extra; a polars LazyFrame is refused until collected). Rows
        are decided one at a time, as they are drawn from ``rows``. Any other exception while
        deciding a row becomes that row's :class:`EngineError`, naming the exception
        type ("internal error: …"), and the next row is decided; but a ``MemoryError``,
        which says the process ran out of memory, not what the row holds, is raised as
        an :class:`~collectrules.errors.OutOfMemoryError` (a ``MemoryError`` too).

        Each case id is decided at most once, as in a batch run: a later row that would
        be decided for an id already decided gets an :class:`InputError` on ``case_id``
        (``case 'C-1' appears twice (decided at rows[0]); expected each case once``)
        instead of a second decision. A row refused for its own reason keeps that reason
        and claims no id. The ids are kept in bounded memory (a 128-bit digest each,
        :class:`~collectrules.io.repeats.CaseIds`). ``repeats="decide"`` decides every row
        as given, for a caller that keeps its own ids.
        """
        if repeats not in ("refuse", "decide"):
            msg = f"expected 'refuse' or 'decide', got {quote(repeats)}"
            raise InputError([FieldProblem("repeats", msg)])
        when = require_aware(as_of)
        kinds = tuple(self.policy.signals)
        products = self.policy.products
        refuse_table(rows, "rows", frames=True)
        items: Iterable[Case | Mapping[str, Any] | InputError] = (
            table_rows(rows) if is_frame(rows) else rows
        )
        if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
            msg = f"expected an iterable of cases or dicts, got {type(items).__name__}"
            raise InputError([FieldProblem("rows", msg)])
        seen = CaseIds() if repeats == "refuse" else None
        for index, row in enumerate(items):
            case_id = None
            try:
                if isinstance(row, InputError):  # a table's row Python cannot read
                    raise row
                if isinstance(row, Case):
                    case = row
                else:
                    raw_id = row.get("case_id") if isinstance(row, Mapping) else None
                    case_id = raw_id if isinstance(raw_id, str) else None
                    case = Case.from_dict(
                        row, signal_kinds=self._kinds_for(row, kinds), products=products
                    )
                case_id = case.case_id
                decision = self.decide(case, as_of=when)
                first = None if seen is None else seen.claim(case_id, "rows", None, index)
                if first is not None:
                    raise repeated_case(case_id, first)
                yield BatchResult(index, case_id, decision=decision)
            except MemoryError as exc:  # the process's, not the row's: the caller hears of it
                raise OutOfMemoryError.of(exc) from exc
            except CollectRulesError as exc:
                yield BatchResult(index, case_id, error=exc)
            except Exception as exc:  # one row's failure must not stop the others
                message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
                yield BatchResult(index, case_id, error=EngineError(message))

    def _kinds_for(self, row: object, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """The signal kinds a row may carry: the policy's, and, when unknown kinds are
        ignored, the row's own too (they are counted, not refused)."""
        if self.unknown_signals == "error" or not isinstance(row, Mapping):
            return kinds
        items = row.get("signals")
        if not isinstance(items, list):
            return kinds
        own = [i.get("kind") for i in items if isinstance(i, Mapping)]
        return (*kinds, *(k for k in own if isinstance(k, str)))

    def _decision(self, case: Case, derived: Derived, outcome: Outcome) -> Decision:
        """The decision of ``case`` (:meth:`_built_decision`), in the library's decimal
        context where a section's contribution or a placeholder's value may need it:
        entering it costs about as much as the rest of this step on a case without
        contract terms."""
        if self._contributions_exact or not outcome.plain:
            return self._exact_decision(case, derived, outcome)
        return self._built_decision(case, derived, outcome)

    def _built_decision(self, case: Case, derived: Derived, outcome: Outcome) -> Decision:
        """The decision of ``case``: what the caller may act on (the quadrant, the
        remedies, the sections' classes, buckets and amounts) now, and its levels, trace
        and display facts on first use (:meth:`Decision.lazily`)."""
        self.stats.decided += 1
        if derived.ignored:
            self._count_ignored(derived.ignored)
        policy = self.policy
        quadrant = _quadrant(policy, outcome)
        regulatory: tuple[RegulatoryClass, ...] = ()
        buckets: tuple[BucketResult, ...] = ()
        section_firings: tuple[Firing, ...] = ()
        amounts: dict[str, Any] = {}
        settles = []
        for plugin in self._contributors:
            part = plugin.contribute(case, derived.facts, derived.as_of, policy)
            if part is NO_CONTRIBUTION:
                continue
            regulatory += part.regulatory
            buckets += part.buckets
            section_firings += part.firings
            amounts.update(part.amounts)
            if part.settle is not None:
                settles.append(part.settle)
        # The values a placeholder reads; made here only for reasons that hold one.
        placed = None
        allowed, blocked = outcome.allowed, outcome.blocked
        if not outcome.plain:
            placed = _Shown(derived.facts, self._money_fields, self._parameters)
            allowed, blocked = fill_placeholders(allowed, blocked, placed)
        if buckets:
            buckets = tuple(b.judged(allowed, blocked) for b in buckets)
        for settle in settles:
            amounts.update(settle(quadrant, allowed))

        @exact_thunk
        def parts() -> dict[str, Any]:
            shown = placed
            if shown is None:
                shown = _Shown(derived.facts, self._money_fields, self._parameters)
            since = {k: v.isoformat() for k, v in derived.in_force.items()}
            evidence = _evidence_firings(policy, derived, since, self._evidence)
            if self._plain_rules:  # only a section's entries may hold a placeholder
                trace = (*evidence, *outcome.firings, *fill_firings(section_firings, shown))
            else:
                trace = fill_firings((*evidence, *outcome.firings, *section_firings), shown)
            return {
                "levels": self._levels(derived, outcome, since),
                "trace": trace,
                "facts": shown.facts,
            }

        def outline() -> Outline:  # rule ids and level values: no decimal arithmetic
            levels = {resolved.layer.output: resolved.value for resolved in outcome.levels}
            fired = [f"evidence.{kind}" for kind, _ in _evidence_order(derived)]
            fired.extend(f.rule_id for f in outcome.firings)
            fired.extend(f.rule_id for f in section_firings)
            return Outline(levels, tuple(fired))

        when = derived.as_of
        known = self._as_of_text
        if known is None or known[0] is not when:  # a batch decides at one instant
            known = self._as_of_text = (when, when.isoformat())
        return Decision.lazily(
            parts,
            as_of_text=known[1],
            outline=outline,
            case_id=case.case_id,
            as_of=derived.as_of,
            policy=self._policy_ref,
            quadrant=quadrant,
            allowed=allowed,
            blocked=blocked,
            regulatory=regulatory,
            buckets=buckets,
            engine=self.backend,
            amounts=amounts,
            ignored_signals=len(derived.ignored),
        )

    _exact_decision = exact(_built_decision)

    def _levels(
        self, derived: Derived, outcome: Outcome, since: Mapping[str, str]
    ) -> dict[str, LevelResult]:
        """Each layer's level. ``since`` gives the instant (ISO 8601) each negative sign
        in force has been in force since. A level that names no sign in force is the
        same for every case that resolves its layer alike and reads the same signals:
        it is made once and shared (:class:`_LevelPart`), so its JSON is written once;
        one that names some is made from it (:class:`Template`), and only its
        ``in_force`` is written for the case."""
        levels: dict[str, LevelResult] = {}
        parts = self._level_parts
        observed: tuple[str, ...] | None = None
        presumed: set[str] = set()  # the outputs of the presumed levels so far
        for resolved in outcome.levels:
            layer = resolved.layer
            inherited = bool(presumed) and self._reads_presumed(resolved, presumed)
            key = (layer.id, resolved.value, resolved.used, inherited)
            part = parts.get(key)
            if part is None:
                if len(parts) >= _LEVEL_PARTS_SIZE:
                    parts.clear()
                    self._shared_levels = 0
                part = parts[key] = self._level_part(resolved, inherited)
            if part.presumed:
                presumed.add(layer.output)
            if not part.kinds:
                signals: tuple[str, ...] = ()
            else:
                if observed is None:  # the kinds observed that any level reads, once
                    observed = derived.signals_of(self._kinds_read)
                kinds = part.kinds
                signals = tuple(k for k in observed if k in kinds)
            in_force = {k: since[k] for k in signals if k in since} if since else {}
            template = part.shared.get(signals)
            if (
                template is not None
                and template.part.score == resolved.score
                and template.part.defaulted is resolved.defaulted
            ):
                levels[layer.output] = template(in_force) if in_force else template.part
                continue
            level = LevelResult(
                layer=layer.id,
                value=resolved.value,
                rules=resolved.used,
                signals=signals,
                score=resolved.score,
                defaulted=resolved.defaulted,
                label_en=part.label_en,
                label_zh=part.label_zh,
                presumed=part.presumed,
                in_force=NO_SIGNS_IN_FORCE,
            )
            if (
                len(part.shared) < _SHARED_LEVELS_SIZE
                and self._shared_levels < _SHARED_LEVELS_TOTAL
            ):
                self._shared_levels += 1
                template = part.shared[signals] = Template(level, "in_force")
                level = template(in_force) if in_force else level
            elif in_force:  # no room: made for this case alone
                level = attrs.evolve(level, in_force=in_force)
            levels[layer.output] = level
        return levels

    def _reads_presumed(self, resolved: LayerOutcome, presumed: set[str]) -> bool:
        """Whether a rule ``resolved`` used reads the output of a level in ``presumed``."""
        reads = self._outputs_read[resolved.layer.id]
        return any(not presumed.isdisjoint(reads[rule_id]) for rule_id in resolved.used)

    def _level_part(self, resolved: LayerOutcome, inherited: bool) -> _LevelPart:
        """What a level owes to its layer, value and rules alone (the same for every case
        that resolves them alike): the signal kinds its rules read, its labels, and
        whether a presumption gave it: a rule of its own marked ``presumed``, or, when
        ``inherited``, a presumed level that one of its rules read (a quadrant drawn
        from a presumed willingness is a presumption too)."""
        layer = resolved.layer
        reads = self._signals_read[layer.id]
        kinds = frozenset(kind for rule_id in resolved.used for kind in reads[rule_id])
        label = layer.labels.get(resolved.value, ("", ""))
        presumed = inherited or not self._presumed[layer.id].isdisjoint(resolved.used)
        if presumed:
            label = presumed_labels(*label)
        return _LevelPart(kinds, label[0], label[1], presumed)


class _LevelPart:
    """What a level owes to its layer, value and rules used: the signal kinds its rules
    read, its labels (English, Chinese), whether a presumption gave it, and, by the
    signals they list, the levels already made with them that name no sign in force
    (each the template of the levels that name some: only their ``in_force`` differs)."""

    __slots__ = ("kinds", "label_en", "label_zh", "presumed", "shared")

    def __init__(self, kinds: frozenset[str], label_en: str, label_zh: str, presumed: bool):
        self.kinds = kinds
        self.label_en = label_en
        self.label_zh = label_zh
        self.presumed = presumed
        self.shared: dict[tuple[str, ...], Template[LevelResult]] = {}

    def __repr__(self) -> str:
        return f"_LevelPart(kinds={sorted(self.kinds)}, shared={len(self.shared)})"


#: At most this many level parts are kept per engine (a scoring layer's rule subsets).
_LEVEL_PARTS_SIZE = 4096
#: At most this many shared levels are kept per level part (one per signals listed),
#: and at most ``_SHARED_LEVELS_TOTAL`` per engine; past that, levels are made per case.
_SHARED_LEVELS_SIZE = 256
_SHARED_LEVELS_TOTAL = 16_384


def _quadrant(policy: Policy, outcome: Outcome) -> Quadrant:
    """The quadrant the policy's ``quadrant`` output gives (the last layer giving it)."""
    for resolved in reversed(outcome.levels):
        if resolved.layer.output == "quadrant":
            found = _QUADRANTS.get(resolved.value)
            if found is not None:
                return found
            break
    msg = f"policy {quote(policy.id)}: the quadrant layer must give Q1, Q2, Q3 or Q4"
    raise EngineError(msg)


_QUADRANTS = {q.value: q for q in Quadrant}


class _Shown(Mapping[str, Any]):
    """The values a ``{field}`` placeholder reads: the policy's parameters, then the
    case's display facts (money in major units), built on the first lookup; most
    reasons have no placeholder, and then nothing is built until the trace is."""

    def __init__(
        self, facts: Mapping[str, Any], money: frozenset[str], parameters: Mapping[str, Any]
    ) -> None:
        self._facts = facts
        self._money = money
        self._parameters = parameters
        self._shown: dict[str, Any] | None = None
        self._merged: dict[str, Any] | None = None

    @property
    def facts(self) -> dict[str, Any]:
        """The case's facts for people (see :func:`display_facts`)."""
        if self._shown is None:
            self._shown = _display(self._facts, self._money)
        return self._shown

    def _values(self) -> dict[str, Any]:
        if self._merged is None:
            self._merged = {**self._parameters, **self.facts}
        return self._merged

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


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


def _evidence_firings(
    policy: Policy,
    derived: Derived,
    since: Mapping[str, str],
    templates: dict[tuple[str, bool], Template[Firing]],
) -> tuple[Firing, ...]:
    """One trace entry per negative sign in force, and per sign a cure lifted.
    ``since`` is each sign's ``derived.in_force`` instant in ISO 8601; ``templates``
    keeps, per signal kind, in force or cured, the entry they are made from (the
    engine's: bounded by the policy's signal kinds), so that only their outcome is
    written anew for each case."""
    out: list[Firing] = []
    for kind, cured in _evidence_order(derived):
        template = templates.get((kind, cured is not None))
        if template is None:
            template = templates[kind, cured is not None] = _evidence_template(
                policy, kind, cured=cured is not None
            )
        if cured is None:
            out.append(template(f"{kind} in force since {since[kind]}"))
        else:
            observed, cure = cured
            out.append(
                template(
                    f"{kind} of {observed.isoformat()} cured by {cure.by} at {cure.at.isoformat()}"
                )
            )
    return tuple(out)


def _evidence_order(
    derived: Derived,
) -> Iterator[tuple[str, tuple[pendulum.DateTime, Cure] | None]]:
    """The trace's evidence entries in order, each a signal kind and, for a sign a cure
    lifted, when it was observed and its cure: first each negative sign in force, by
    the instant it has been in force since, then each sign cured, in ``derived``'s
    order."""
    for kind, _instant in sorted(derived.in_force.items(), key=lambda item: (item[1], item[0])):
        yield kind, None
    for kind, observed, cure in derived.cured:
        yield kind, (observed, cure)


def _evidence_template(policy: Policy, kind: str, *, cured: bool) -> Template[Firing]:
    """The trace entry of a sign of ``kind`` in force (or cured), its outcome left open."""
    spec = policy.signals[kind]
    if cured:
        reason = "A later cure lifts a negative sign."
    elif spec.dimension == "willingness":
        reason = (
            "A negative sign stays in force until a later cure: a payment, a kept "
            "promise, a signed commitment or a retraction."
        )
    else:
        reason = "The debtor stays unreachable until reached again."
    return Template(Firing(f"evidence.{kind}", "evidence", "", reason, spec.cites), "outcome")


def display_facts(policy: Policy, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The flat facts for people: money back in major units, as decimal strings."""
    require_instance(policy, Policy, "policy", "a Policy")
    require_mapping(facts, "facts", "a mapping of facts")
    money = frozenset(n for n, spec in policy.schema().items() if spec.type is FieldType.MONEY)
    return _display(facts, money)


def _display(facts: Mapping[str, Any], money: frozenset[str]) -> dict[str, Any]:
    out = dict(facts)
    for name in money:
        value = out.get(name)
        if isinstance(value, int):
            out[name] = _major_units(value)
    return out


def _major_units(value: int) -> str:
    """Minor units (``MONEY_SCALE`` to the unit) as a decimal string in major units,
    without trailing zeros: ``150`` is ``"0.015"``, ``-20000`` is ``"-2"``. Integer
    arithmetic, as ``Decimal(value).scaleb(-MONEY_EXPONENT)`` formats it wherever the
    decimal context's 28 digits hold the value exactly (far past any amount a case
    may carry); past that, that formatting itself."""
    if not -_EXACT < value < _EXACT:
        text = format(Decimal(value).scaleb(-MONEY_EXPONENT, context=CONTEXT), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    whole, part = divmod(-value if value < 0 else value, MONEY_SCALE)
    sign = "-" if value < 0 else ""
    if not part:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:0{MONEY_EXPONENT}d}".rstrip("0")


#: Below this magnitude, minor units are formatted with integers (see :func:`_major_units`).
_EXACT = 10**24
