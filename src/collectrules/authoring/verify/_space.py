"""The search space: the variables of every layer, cut at every threshold the conditions mention."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from collectrules._decimal import exact
from collectrules.authoring.verify._cases import (
    _money_text,
    build_case,
)
from collectrules.authoring.verify._events import EVENT_FIELDS, EVENTS, event_patterns, realize
from collectrules.authoring.verify._findings import (
    MAX_HELD,
    MAX_STEPS,
    MAX_WAYS,
)
from collectrules.authoring.verify._folds import (
    _Budget,
    _Fold,
    _SatFold,
)
from collectrules.authoring.verify._inputs import INPUT_FIELDS, pack_inputs
from collectrules.authoring.verify._inventory import (
    _section_numbers,
)
from collectrules.authoring.verify._values import (
    _DEAD,
    ABSENT,
    _dec,
    _leaf_holds,
    _leaves,
    _number,
    _subst,
)
from collectrules.conditions import (
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Op,
)
from collectrules.conditions.python import compile_condition
from collectrules.errors import CollectRulesError, quote
from collectrules.model.case import Case, Product
from collectrules.model.limits import MAX_EVENTS, MAX_SIGNALS
from collectrules.model.time import require_aware
from collectrules.policy import Layer, Policy
from collectrules.policy.derive import derive
from collectrules.timeline.stages import TimelineSection


@attrs.frozen
class _Var:
    """A unit of search: one or more linked fields, and their feasible joint values."""

    fields: tuple[str, ...]
    domain: tuple[Mapping[str, Any], ...]


@attrs.frozen
class _Varied:
    """The signal kind that a monotonicity run changes between its two worlds."""

    kind: str
    fields: tuple[str, ...]
    domain: tuple[Mapping[str, Any], ...]
    ability_worse: bool


@attrs.frozen
class _Situation:
    """A reachable combination of live fields and layer outputs, with a witness."""

    env: Mapping[str, Any]
    witness: Mapping[str, Any]
    #: ``env``'s items, which tell situations apart.
    items: frozenset[tuple[str, Any]] = attrs.field(
        default=attrs.Factory(lambda self: frozenset(self.env.items()), takes_self=True),
        eq=False,
        repr=False,
    )


_INT_FIELDS = {"dpd", "guarantors"}


_MONEY_FIELDS = {"principal", "overdue_amount"}


_CURRENCY_FILLERS = ("CNY", "USD", "EUR", "GBP", "JPY", "HKD")
#: The most signals of one kind a case can count: the signals it carries and one derived
#: from each of its events (a payment, a commitment, a promise kept or broken, …). A
#: condition needing more can never hold.
MAX_COUNT = MAX_SIGNALS + MAX_EVENTS


_W1 = "@1"


class _Context:
    """A policy compiled for verification: resolved conditions, fields and their cells."""

    def __init__(self, policy: Policy, as_of: str) -> None:
        self.policy = policy
        self.as_of = as_of
        self.as_of_dt = require_aware(as_of)
        self.schema: dict[str, FieldSpec] = policy.schema()
        params = policy.parameter_values
        self.layers: list[Layer] = list(policy.layers)
        self.outputs = [layer.output for layer in self.layers]
        self.layer_conds: list[list[Condition]] = [
            [compile_condition(r.when, params, self.schema) for r in layer.rules]
            for layer in self.layers
        ]
        self.remedy_conds: list[Condition] = [
            compile_condition(r.when, params, self.schema) for r in policy.remedy_rules
        ]
        lookback = policy.parameters.get("lookback_days")
        self.window_open = lookback is None or _as_int(lookback.value) > 0
        self.signals = dict(policy.signals)
        self.kinds: dict[str, str] = {}  # field -> role
        for name in self.schema:
            self.kinds[name] = self._role(name)
        self.leaves: dict[str, list[Condition]] = {}
        for cond in itertools.chain(*self.layer_conds, self.remedy_conds):
            for leaf in _leaves(cond):
                self.leaves.setdefault(leaf.field, []).append(leaf)  # type: ignore[attr-defined]
        self.field_order: dict[str, int] = {}
        for cond in itertools.chain(*self.layer_conds, self.remedy_conds):
            for leaf in _leaves(cond):
                self.field_order.setdefault(leaf.field, len(self.field_order))  # type: ignore[attr-defined]
        self.links: dict[str, str] = {}
        for kind, spec in self.signals.items():
            if spec.measured:
                self.links[kind] = f"has_{kind}"
                self.links[f"has_{kind}"] = kind
        self.links["dpd"] = "overdue_amount"
        self.links["overdue_amount"] = "dpd"
        self.links["days_to_maturity"] = "has_maturity_date"
        self.links["has_maturity_date"] = "days_to_maturity"
        self._cells: dict[str, tuple[Any, ...]] = {}
        self.steps = 0
        self.ways = 0
        #: Partial results held by the current layer's search (see :data:`MAX_HELD`).
        self.held = 0
        #: Ways through a layer found and kept for the situations that reach it, over
        #: the whole verification (see :data:`MAX_HELD`).
        self.kept_outcomes = 0
        self.varied: _Varied | None = None
        # Fields that an optional section computes from the case (a pack's class, a
        # bucket, time_barred) are set by probing: the verifier builds the case from
        # dpd, the product and the other case fields the policy reads, and derives them.
        # They move together as one group.
        # A field that no probe changes (a count of contact attempts, which only events
        # give) stays a free value instead.
        self.probed: tuple[str, ...] = tuple(
            sorted(
                f
                for f in self.leaves
                if self.kinds.get(f) == "unsupported" and f in policy.extra_fields
            )
        )
        self.probe_base: tuple[str, ...] = ()
        #: The values of the case inputs that the packs read and no fact shows (an
        #: account's opening date, a debtor's shares, a restructuring), one per outcome
        #: the conditions tell apart, the first setting none (see :mod:`._inputs`).
        self.inputs: tuple[Mapping[str, Any], ...] = ({},)
        self._probes: dict[tuple[tuple[str, Any], ...], dict[str, Any] | None] = {}
        self._breaks: list[int] | None = None
        self._refs: list[dict[str, Any]] = [{}]
        self._seen: dict[str, set[Any]] = {f: set() for f in self.probed}
        self._groups: dict[tuple[tuple[str, Any], ...], _Var | None] = {}
        #: The event histories worth trying (see :mod:`._events`), each a witness: those
        #: that change a probed field join :attr:`inputs`; the others give the facts
        #: that only events give (role ``event``) to a case that shows a finding.
        self.histories: tuple[Mapping[str, Any], ...] = event_patterns(policy, self._event_leaves())
        if self.probed:
            self.probe_base = ("dpd", "product", *(f for f in _PROBE_FIELDS if f in self.leaves))
            self.inputs = pack_inputs(policy, self.as_of_dt.in_timezone("UTC").date())
        #: The case inputs that :attr:`inputs` varies (see :data:`._inputs.INPUT_FIELDS`).
        self.input_fields: tuple[str, ...] = tuple(
            f for f in INPUT_FIELDS if any(f in combo for combo in self.inputs)
        )
        if self.probed:
            self.breaks()
            self.probed = tuple(f for f in self.probed if len(self._seen[f]) > 1)
            if not self.probed:
                self.probe_base, self.inputs = (), ({},)
            for name in self.probed:
                self.kinds[name] = "probed"
        self.group = frozenset(self.probe_base) | frozenset(self.probed)
        # stage i (layers, then the remedies) -> base fields that stages after i read
        stage_reads = [self._base_reads(conds) for conds in self.layer_conds]
        stage_reads.append(self._base_reads(self.remedy_conds))
        self.live_after: list[frozenset[str]] = []
        for i in range(len(stage_reads)):
            later: set[str] = set()
            for reads in stage_reads[i + 1 :]:
                later |= reads
            closed = set(later)
            if closed & self.group:
                closed |= self.group
            for name in list(closed):
                if name in self.links:
                    closed.add(self.links[name])
            self.live_after.append(frozenset(closed))

    # -- fields

    def _role(self, name: str) -> str:
        if name in self.outputs:
            return "output"
        if name in self.signals:
            return "measured" if self.signals[name].measured else "count"
        if name.startswith("has_") and name[4:] in self.signals and self.signals[name[4:]].measured:
            return "has"
        if name in _INT_FIELDS:
            return "int"
        if name in _MONEY_FIELDS:
            return "money"
        if name == "product":
            return "product"
        if name == "currency":
            return "currency"
        if name in ("has_maturity_date", "debtor_contacted"):
            return "bool"
        if name == "days_to_maturity":
            return "maturity"
        if name in EVENT_FIELDS and name in self.policy.extra_fields:
            return "event"
        return "unsupported"

    def _base_reads(self, conds: Iterable[Condition]) -> frozenset[str]:
        out: set[str] = set()
        for cond in conds:
            out |= {f for f in cond.fields() if self.kinds.get(f) != "output"}
        return frozenset(out)

    def unsupported(self, names: Iterable[str]) -> list[str]:
        """The fields among ``names`` that a built case cannot set."""
        return sorted({_base(n) for n in names if self.kinds.get(_base(n)) == "unsupported"})

    def event_fields(self, names: Iterable[str]) -> list[str]:
        """The fields among ``names`` that only events give (a built case sets them
        through a history, :meth:`realizations`)."""
        return sorted({_base(n) for n in names if self.kinds.get(_base(n)) == "event"})

    def realizations(self, witness: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """The witness with a history of events added that gives its values of the facts
        only events give, as the conditions see them (the same side of each threshold),
        one history after another (see :func:`._events.realize`)."""
        wanted = {k: v for k, v in witness.items() if self.kinds.get(k) == "event"}
        if not wanted or not self.histories:
            return
        base = tuple(witness.get(EVENTS, ()))

        def seen(name: str, value: Any) -> tuple[bool, ...]:
            return (value is ABSENT, *(_leaf_holds(x, value) for x in self.leaves.get(name, ())))

        def shown(history: tuple[Any, ...]) -> dict[str, Any] | None:
            data = {**witness, EVENTS: base + history}
            try:
                built = build_case(self.policy, self.as_of_dt, data, case_id="realize")
                case = Case.from_dict(built, signal_kinds=tuple(self.policy.signals))
                facts = derive(case, self.as_of_dt, self.policy).facts
            except CollectRulesError:
                return None
            return {f: seen(f, facts.get(f, ABSENT)) for f in wanted}

        target = {f: seen(f, v) for f, v in wanted.items()}
        for found in realize(self.histories, target, shown):
            yield {**witness, EVENTS: base + tuple(found[EVENTS])}

    def cells(self, name: str) -> tuple[Any, ...]:
        """One representative value per cell of ``name``, simplest first."""
        if name not in self._cells:
            self._cells[name] = self._dedupe(name, self._candidates(name))
        return self._cells[name]

    def _dedupe(self, name: str, candidates: Iterable[Any]) -> tuple[Any, ...]:
        # Besides the conditions, the links between fields tell values apart: absence
        # (has_<kind>, has_maturity_date) and a zero amount or dpd (dpd > 0 needs an
        # amount overdue).
        leaves = [*self.leaves.get(name, []), *_LINK_LEAVES.get(name, ())]
        seen: set[tuple[Any, ...]] = set()
        out: list[Any] = []
        for value in candidates:
            sig: tuple[Any, ...] = (value is ABSENT, *(_leaf_holds(leaf, value) for leaf in leaves))
            if name in self.probe_base:
                sig += self.profile(name, value)
            if sig not in seen:
                seen.add(sig)
                out.append(value)
        return tuple(out)

    def _constants(self, name: str) -> list[Any]:
        out: list[Any] = []
        for leaf in self.leaves.get(name, []):
            if isinstance(leaf, Compare):
                out.append(leaf.value)
            elif isinstance(leaf, Between):
                out += [leaf.low, leaf.high]
            elif isinstance(leaf, In):
                out += list(leaf.values)
        return out

    def _numbers(self, name: str) -> list[int | float]:
        return [
            c
            for c in self._constants(name)
            if isinstance(c, int | float) and not isinstance(c, bool)
        ]

    def _candidates(self, name: str) -> list[Any]:
        role = self.kinds.get(name, "unsupported")
        spec = self.schema.get(name)
        if role == "count" and not self.window_open:
            return [0]
        if role in ("has",) and not self.window_open:
            return [False]
        if role == "measured" and not self.window_open:
            return [ABSENT]
        if name == "dpd" and self.probed:
            points = set(_integer_points(self._numbers(name), minimum=0))
            for b in self.breaks():
                points |= {b - 1, b}
            return sorted(points)
        if role == "count":
            counts = _integer_points(self._numbers(name), minimum=0)
            return [c for c in counts if c <= MAX_COUNT]
        if role in ("int", "money"):
            return _integer_points(self._numbers(name), minimum=0)
        if role == "maturity":
            return [ABSENT, *_integer_points(self._numbers(name), minimum=None)]
        if role == "measured":
            return [ABSENT, *_real_points(self._numbers(name))]
        if role in ("has", "bool"):
            return [False, True]
        if role == "product":
            return [str(p) for p in self.policy.products]
        if role == "currency":
            consts = sorted(
                {
                    c
                    for c in self._constants(name)
                    if isinstance(c, str) and re.match(r"^[A-Z]{3}\Z", c)
                }
            )
            filler = next(c for c in _CURRENCY_FILLERS if c not in consts)
            return [filler, *consts]
        # unsupported, or only events give it: a free variable over its own thresholds
        # (a count of events is a whole number, as a history gives it)
        values: list[Any]
        if role == "event" and spec is not None and spec.type is FieldType.INT:
            values = list(_integer_points(self._numbers(name), minimum=0))
        elif spec is not None and spec.type is FieldType.ENUM and spec.choices:
            values = list(spec.choices)
        elif spec is not None and spec.type is FieldType.BOOL:
            values = [False, True]
        elif spec is not None and spec.numeric:
            values = _real_points(self._numbers(name))
        else:
            consts = sorted({c for c in self._constants(name) if isinstance(c, str)})
            values = [*consts, "\x00other"]
        if spec is None or spec.optional:
            values = [ABSENT, *values]
        return values

    # -- feasibility of linked fields

    def feasible(self, env: Mapping[str, Any], changed: Iterable[str]) -> bool:
        for name in changed:
            base, world = _split(name)
            partner = self.links.get(base)
            if partner is None:
                continue
            other = partner + world
            if other not in env:
                continue
            a, b = env[name], env[other]
            if base == "dpd" and not _dpd_ok(a, b):
                return False
            if base == "overdue_amount" and not _dpd_ok(b, a):
                return False
            is_flag = base == "has_maturity_date" or self.kinds.get(base) == "has"
            if is_flag and a is not (b is not ABSENT):
                return False
            is_value = base == "days_to_maturity" or self.kinds.get(base) == "measured"
            if is_value and b is not (a is not ABSENT):
                return False
        return True

    def variables(self, needed: Iterable[str], fixed: Mapping[str, Any]) -> dict[str, _Var]:
        """The search variables covering ``needed``, linked fields joined."""
        needed = sorted(set(needed) - set(fixed), key=lambda n: (self.order(n), n))
        out: dict[str, _Var] = {}
        varied = self.varied
        if self.probed and any(n in self.probed for n in needed):
            var = self.group_var(fixed)
            if var is not None:
                for f in var.fields:
                    out[f] = var
        for name in needed:
            if name in out:
                continue
            if varied is not None and name in varied.fields:
                domain = tuple(d for d in varied.domain if self.feasible({**fixed, **d}, d))
                var = _Var(varied.fields, domain)
            else:
                group = [name]
                partner = self.links.get(name)
                if partner is not None and partner in needed:
                    group.append(partner)
                combos = itertools.product(*(self.cells(g) for g in group))
                domain = tuple(
                    d
                    for d in (dict(zip(group, c, strict=True)) for c in combos)
                    if self.feasible({**fixed, **d}, d)
                )
                var = _Var(tuple(group), domain)
            for f in var.fields:
                out[f] = var
        return out

    # -- probing the fields a section computes

    def probe(self, assignment: Mapping[str, Any]) -> dict[str, Any] | None:
        """The probed fields of the case built from ``assignment`` (``None``: no case)."""
        key = tuple(sorted(assignment.items()))
        if key in self._probes:
            cached = self._probes[key]
            return None if cached is None else {f: cached[f] for f in self.probed}

        try:
            data = build_case(self.policy, self.as_of_dt, assignment, case_id="probe")
            case = Case.from_dict(data, signal_kinds=tuple(self.policy.signals))
            facts = derive(case, self.as_of_dt, self.policy).facts
        except CollectRulesError:
            found: dict[str, Any] | None = None
        else:
            found = {f: facts.get(f, ABSENT) for f in self.probed}
            for f, v in found.items():
                self._seen.setdefault(f, set()).add(v)
        self._probes[key] = found
        return None if found is None else dict(found)

    def profile(self, name: str, value: Any) -> tuple[Any, ...]:
        """What the probed fields do as ``name`` takes ``value`` (part of a signature)."""
        refs: list[dict[str, Any]]
        if name == "dpd":
            self.breaks()
            refs = [{"product": str(p), **ref} for p in self.policy.products for ref in self._refs]
        else:
            refs = [{"dpd": d} for d in (0, *self.breaks())]
        out: list[Any] = []
        for ref in refs:
            out.append(self._signature(self.probe({**ref, name: value})))
        return tuple(out)

    def _signature(self, found: Mapping[str, Any] | None) -> Any:
        """What the conditions see of probed values: for each probed field, which of
        the leaves on it hold. A count of days left changes every day; the conditions
        only see it cross their thresholds."""
        if found is None:
            return None
        return tuple(
            (f, tuple(_leaf_holds(leaf, v) for leaf in self.leaves.get(f, ())))
            for f, v in found.items()
        )

    def breaks(self) -> list[int]:
        """The dpd values at which some probed field changes, for some product."""
        if self._breaks is not None:
            return self._breaks
        grid: set[int] = set(range(0, 32))
        grid |= {30 * k + d for k in range(1, 41) for d in (-1, 0, 1)}
        grid |= {365 * y + d for y in range(1, 26) for d in (-1, 0, 1, 2)}
        for c in _section_numbers(self.policy):
            if 0 <= c <= 20_000:
                grid |= {c - 1, c, c + 1}
        points = sorted(g for g in grid if g >= 0)
        found: set[int] = set()
        # Besides the default case, a case with another value of a probed case field
        # (one guarantor, say) when that changes what the conditions see: a guarantee
        # period only runs for a case with a guarantor.
        refs: list[dict[str, Any]] = [{}]
        loan = Product.LOAN.value

        def profile(ref: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(
                self._signature(self.probe({"dpd": d, "product": loan, **ref}))
                for d in (1, 100, 400)
            )

        profiles = {profile({})}
        for name in self.probe_base:
            if name in ("dpd", "product"):
                continue
            for value in self._candidates(name):
                ref = {name: value}
                if name == "overdue_amount" and not _dpd_ok(1, value):
                    continue  # nothing overdue: no dpd at all
                shown = profile(ref)
                if shown not in profiles:
                    profiles.add(shown)
                    refs.append(ref)
        base_refs = list(refs)
        # The pack inputs: each combination that changes what the conditions see, for
        # some product, at a few dpd values (a floor, a hold or an eligibility that only
        # one product has), is a reference case of its own.
        products = [str(p) for p in self.policy.products]

        def across(ref: Mapping[str, Any], days: Iterable[int]) -> tuple[Any, ...]:
            return tuple(
                self._signature(self.probe({"dpd": d, "product": p, **r, **ref}))
                for p in products
                for r in base_refs
                for d in days
            )

        coarse = (0, 1, 100, 400)
        shown_inputs = {across({}, coarse)}
        for combo in self.inputs[1:]:
            shown = across(combo, coarse)
            if shown not in shown_inputs:
                shown_inputs.add(shown)
                refs.append(dict(combo))
        self._refs = refs
        for product, ref in itertools.product(map(str, self.policy.products), refs):

            def at(d: int, product: str = product, ref: dict[str, Any] = ref) -> Any:
                return self._signature(self.probe({"dpd": d, "product": product, **ref}))

            values = [at(d) for d in points]
            for (a, va), (b, vb) in itertools.pairwise(zip(points, values, strict=True)):
                lo, hi, vlo = a, b, va
                while vlo != vb:
                    # the first change after lo, found by bisection
                    x, y = lo, hi
                    while y - x > 1:
                        mid = (x + y) // 2
                        if at(mid) == vlo:
                            x = mid
                        else:
                            y = mid
                    found.add(y)
                    lo, vlo = y, at(y)
        self._breaks = sorted(found)
        # One combination of the pack inputs per outcome the conditions tell apart, at
        # every dpd where some probed field changes.
        changes = (0, *self._breaks)
        kept: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        for combo in self.inputs:
            kept.setdefault(across(combo, changes), combo)
        self.inputs = tuple(kept.values())
        return self._breaks

    def _event_leaves(self) -> dict[str, list[Condition]]:
        """The leaves of the layer and remedy conditions, and of the stage conditions,
        by the field they read: what the event histories are cut at."""
        out = {name: list(leaves) for name, leaves in self.leaves.items()}
        section = self.policy.sections.get("timeline")
        if isinstance(section, TimelineSection):
            params = self.policy.parameter_values
            for plan in section.plans.values():
                for stage in plan.stages:
                    try:
                        cond = compile_condition(stage.when, params, self.schema)
                    except CollectRulesError:
                        cond = stage.when
                    for leaf in _leaves(cond):
                        out.setdefault(leaf.field, []).append(leaf)  # type: ignore[attr-defined]
        return out

    def group_var(self, fixed: Mapping[str, Any]) -> _Var | None:
        """The joint values of the probe group, consistent with ``fixed``.

        Each joint value of the probe base is probed with each combination of the pack
        inputs (:attr:`inputs`); of those that give the same probed values, the first
        (the simplest) is kept, with its inputs, which a case built from it carries."""
        base = self.probe_base
        partners = [self.links[f] for f in base if f in self.links]
        key = tuple((f, fixed[f]) for f in (*base, *partners, *self.probed) if f in fixed)
        if key in self._groups:
            return self._groups[key]
        cells = [self.cells(f) if f not in fixed else (fixed[f],) for f in base]
        var: _Var | None = None
        if math.prod(len(c) for c in cells) * len(self.inputs) <= MAX_PROBES:
            domain: dict[tuple[Any, ...], dict[str, Any]] = {}
            for combo in itertools.product(*cells):
                entry = dict(zip(base, combo, strict=True))
                if not self.feasible({**fixed, **entry}, entry):
                    continue
                for extra in self.inputs:
                    found = self.probe({**entry, **extra})
                    if found is None:
                        continue
                    if any(f in fixed and fixed[f] != v for f, v in found.items()):
                        continue
                    seen = (combo, tuple(found.values()))
                    domain.setdefault(seen, {**entry, **extra, **found})
            var = _Var(tuple(base) + self.probed, tuple(domain.values()))
        self._groups[key] = var
        return var

    def order(self, name: str) -> int:
        return self.field_order.get(_base(name), len(self.field_order))

    def order_key(self, name: str) -> tuple[int, str]:
        return (self.order(name), name)

    # -- the search

    def explore(
        self, conds: Sequence[tuple[int, Condition]], fold: _Fold, fixed: Mapping[str, Any]
    ) -> dict[Hashable, dict[str, Any]]:
        """Every reachable summary of ``fold`` over ``conds``, each with a witness."""
        s = fold.start()
        pending: list[tuple[int, Condition]] = []
        for i, cond in conds:
            r = _subst(cond, fixed)
            if r is True or r is False:
                s = fold.add(s, i, r)
                if s is _DEAD:
                    return {}
            else:
                assert isinstance(r, Condition)
                pending.append((i, r))
        start = tuple(p for p in pending if fold.relevant(s, p[0]))
        needed: set[str] = set()
        for _, cond in start:
            needed |= cond.fields()
        var_of = self.variables(needed, fixed)
        memo: dict[tuple[Any, tuple[tuple[int, Condition], ...]], dict[Hashable, Any]] = {}
        first_only = isinstance(fold, _SatFold)
        self.held = 0

        # A witness is built as a chain (assignment, rest) and flattened at the end.
        def rec(s: Any, pending: tuple[tuple[int, Condition], ...]) -> dict[Hashable, Any]:
            if not pending:
                return {s: None}
            key = (s, pending)
            found = memo.get(key)
            if found is not None:
                return found
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise _Budget(f"{MAX_STEPS} steps")
            first = min(pending[0][1].fields(), key=self.order_key)
            var = var_of[first]
            out: dict[Hashable, Any] = {}
            for assignment in var.domain:
                s2 = s
                nxt: list[tuple[int, Condition]] = []
                for i, cond in pending:
                    r = _subst(cond, assignment)
                    if r is True or r is False:
                        s2 = fold.add(s2, i, r)
                        if s2 is _DEAD:
                            break
                    else:
                        nxt.append((i, r))
                if s2 is _DEAD:
                    continue
                rest = tuple(p for p in nxt if fold.relevant(s2, p[0]))
                for result, chain in rec(s2, rest).items():
                    if result not in out:
                        self.take_ways(1)
                        out[result] = (assignment, chain)
                if first_only and out:
                    break
            memo[key] = out
            self.held += len(out) + len(pending)
            if self.held > MAX_HELD:
                raise _Budget(f"{MAX_HELD} partial results held at once")
            return out

        flat: dict[Hashable, dict[str, Any]] = {}
        for result, chain in rec(s, start).items():
            witness: dict[str, Any] = {}
            while chain is not None:
                witness.update(chain[0])
                chain = chain[1]
            flat[result] = witness
        return flat

    def keep_outcomes(self, count: int) -> None:
        """Count ``count`` more ways through a layer kept for later situations: past
        :data:`MAX_HELD`, the search stops (a :class:`_Budget`), as its memory would
        otherwise grow with the product of the values the layer's fields can take."""
        self.kept_outcomes += count
        if self.kept_outcomes > MAX_HELD:
            raise _Budget(f"{MAX_HELD} ways through the layers kept at once")

    def take_ways(self, ways: int) -> None:
        """Count ``ways`` more ways through a layer (:data:`MAX_WAYS`): past the budget,
        the search stops."""
        self.ways += ways
        if self.ways > MAX_WAYS:
            raise _Budget(f"{MAX_WAYS} ways through the layers")

    def charge(self, steps: int) -> None:
        """Count the ``steps`` of a search whose kept result is used in its place.

        The results that a monotonicity run keeps for its own kind (a layer, or the
        remedies, that read it) count, at each use, the steps of the search that found
        them, as a search at each use would: the budget runs out, and ``search_steps``
        reads, as if the result had been searched again.
        """
        if steps and self.steps + steps > MAX_STEPS:
            # the search stops at its first step past the budget
            self.steps = max(self.steps, MAX_STEPS) + 1
            raise _Budget(f"{MAX_STEPS} steps")
        self.steps += steps

    def sat(
        self, wants: Sequence[tuple[Condition, bool]], fixed: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """A witness under which every condition comes out as wanted, or ``None``."""
        found = self.explore(
            list(enumerate(c for c, _ in wants)), _SatFold([w for _, w in wants]), fixed
        )
        return next(iter(found.values()), None)

    def combos(self, names: Iterable[str], fixed: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every feasible joint value of ``names`` (the outer enumeration)."""
        var_of = self.variables(names, fixed)
        variables = list({id(v): v for v in var_of.values()}.values())
        for parts in itertools.product(*(v.domain for v in variables)):
            merged: dict[str, Any] = {}
            for part in parts:
                merged.update(part)
            if self.feasible({**fixed, **merged}, merged):
                yield merged


#: Case fields that join dpd and the product in a probe when the policy reads them.
_PROBE_FIELDS = (
    "overdue_amount",
    "principal",
    "currency",
    "guarantors",
    "days_to_maturity",
    "has_maturity_date",
)


#: At most this many probes make one probe group; past it, the fields stay free.
MAX_PROBES = 5_000


_LINK_LEAVES: Mapping[str, tuple[Condition, ...]] = {
    "dpd": (Compare("dpd", Op.GT, 0),),
    "overdue_amount": (Compare("overdue_amount", Op.GT, 0),),
}


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    return 1


def _dpd_ok(dpd: Any, overdue: Any) -> bool:
    return not (isinstance(dpd, int) and dpd > 0 and overdue == 0)


def _split(name: str) -> tuple[str, str]:
    if name.endswith(_W1):
        return name[: -len(_W1)], _W1
    return name, ""


def _in_any_world(names: Iterable[str]) -> frozenset[str]:
    """Every name whose :func:`_base` is one of ``names``, in either world: ``k in`` this
    set says ``_base(k) in names`` without splitting ``k``."""
    named = set(names)
    return frozenset({n for n in named if not n.endswith(_W1)} | {n + _W1 for n in named})


@functools.lru_cache(maxsize=4096)
def _base(name: str) -> str:
    """The field's name without the world suffix (cached: the search asks millions of
    times about the few names of a policy)."""
    return name[: -len(_W1)] if name.endswith(_W1) else name


def _integer_points(constants: Iterable[int | float], *, minimum: int | None) -> list[int]:
    points: set[int] = set()
    for c in constants:
        for x in {math.floor(c), math.ceil(c)}:
            points |= {x - 1, x, x + 1}
    if minimum is not None:
        points.add(minimum)
        points = {p for p in points if p >= minimum}
    if not points:
        points = {0}
    return sorted(points, key=lambda p: (abs(p), p))


@exact
def _real_points(constants: Iterable[int | float]) -> list[int | float]:
    values = sorted({_dec(c) for c in constants})
    if not values:
        return [1]
    points: list[Decimal] = []
    below = Decimal(0) if values[0] > 0 else values[0] - 1
    points.append(below)
    for i, v in enumerate(values):
        points.append(v)
        if i + 1 < len(values):
            points.append((v + values[i + 1]) / 2)
    points.append(values[-1] + 1)
    return [_number(p) for p in points]


def _describe(
    env: Mapping[str, Any], witness: Mapping[str, Any], ctx: _Context, conds: Iterable[Condition]
) -> str:
    """A short description of a region: the values of the fields ``conds`` read."""
    reads: set[str] = set()
    for cond in conds:
        reads |= cond.fields()
    parts: list[str] = []
    for name in ctx.outputs:
        if name in reads and name in env:
            parts.append(f"{name} = {env[name]}")
    values = {**witness, **{k: v for k, v in env.items() if k not in ctx.outputs}}
    for name in sorted(reads, key=ctx.order_key):
        if name in ctx.outputs or name not in values:
            continue
        value = values[name]
        role = ctx.kinds.get(name)
        if value is ABSENT:
            parts.append(f"{name} absent")
        elif role == "money" and isinstance(value, int):
            parts.append(f"{name} = {_money_text(value)}")
        else:
            parts.append(f"{name} = {quote(value)}")
    return ", ".join(parts) if parts else "every case"
