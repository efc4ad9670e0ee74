"""The policy model: parameters, the signal catalogue, layered rules and remedies.

A policy is data. It is loaded from TOML (or YAML, with the ``yaml`` extra), validated
in full (every problem reported at once, each naming the file, the line where it can be
found, the rule id and the key path), and frozen. Its identity is an id, a version and
a content hash that changes whenever any rule or parameter changes.

The rule layers chain: each layer's output (``willingness``, ``ability``,
``quadrant``, …) becomes a field that later layers read. How the matches of one layer
combine is its *hit policy*:

``first``
    The first matching rule, in file order, gives the value.
``priority``
    The matching rule with the highest ``priority`` gives the value; ties go to the
    earlier rule.
``collect_sum``
    Every matching rule adds its ``score``; the highest band whose ``min`` the sum
    reaches gives the value, and ``default`` applies below every band.
``unique``
    Exactly one rule may match; two matches are an error, as in DMN.

A layer with no match takes its ``default``; with no default, deciding fails clearly.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import attrs
import pendulum

from collectrules._arguments import (
    require_callable,
    require_instance,
    require_text,
    require_texts,
    wrong_kind,
)
from collectrules._choice import Choice
from collectrules.conditions import (
    Condition,
    FieldSpec,
    FieldType,
    Scalar,
)
from collectrules.errors import FieldProblem, PolicyError, did_you_mean, quote
from collectrules.model.case import STANDARD_PRODUCTS, Case, ProductSpec, Signal
from collectrules.model.decision import (
    BucketResult,
    Firing,
    Quadrant,
    RegulatoryClass,
    RemedyGrant,
)
from collectrules.model.remedies import STANDARD_REMEDIES, RemedySpec

__all__ = [
    "CORE_PARAMETERS",
    "NO_CONTRIBUTION",
    "SIGNAL_DIMENSIONS",
    "Contribution",
    "Envelope",
    "HitPolicy",
    "Layer",
    "LayerRule",
    "NamedCondition",
    "Parameter",
    "ParameterSpec",
    "Policy",
    "RemedyEffect",
    "RemedyRule",
    "Section",
    "SectionLoader",
    "SignalSpec",
    "base_fields",
    "signal_fields",
]


class HitPolicy(Choice):
    """How the matching rules of one layer combine (see the module docstring)."""

    FIRST = "first"
    PRIORITY = "priority"
    COLLECT_SUM = "collect_sum"
    UNIQUE = "unique"


class RemedyEffect(Choice):
    """What a remedy rule does to its remedies."""

    ALLOW = "allow"
    BLOCK = "block"
    REQUIRE = "require"


class ConflictRule(Choice):
    """What happens when one remedy is both allowed and blocked for a case."""

    BLOCK_WINS = "block_wins"
    ALLOW_WINS = "allow_wins"
    UNSPECIFIED = "unspecified"


@attrs.frozen
class Parameter:
    """A named figure that rules refer to, so that it can change without editing rules.

    ``chosen`` marks a figure the source texts leave open and the policy chose;
    ``status`` is ``"V"`` or ``"S"`` for figures from REGULATION.md.
    """

    name: str
    value: Scalar
    doc: str = ""
    cites: tuple[str, ...] = ()
    chosen: bool = False
    status: str | None = None


#: The dimensions a signal may tell about: willingness and ability (the quadrant's two
#: sides), and contact (whether the debtor can be reached: a timeline matter).
SIGNAL_DIMENSIONS: tuple[str, ...] = ("willingness", "ability", "contact")


@attrs.frozen
class ParameterSpec:
    """The type and range of a parameter that the library reads by name.

    ``kind`` is ``"whole"`` (an integer; ``30.0`` is read as ``30``), ``"number"`` or
    ``"text"``. Booleans are never numbers. ``minimum`` and ``maximum`` bound a number,
    both included unless ``below_maximum``. ``default`` is the value used when a policy
    does not set the parameter (``None``: the feature is off).
    """

    kind: Literal["whole", "number", "text"]
    doc: str
    default: Scalar | None = None
    minimum: float | None = None
    maximum: float | None = None
    below_maximum: bool = False
    #: Who reads it, for messages: "the engine (signal lookback window)".
    reader: str = ""

    def expected(self) -> str:
        """What a value must be, in words: "a positive whole number up to 36500"."""
        if self.kind == "text":
            return "a string"
        if self.kind == "whole":
            low = "a positive" if (self.minimum or 0) > 0 else "a non-negative"
            if self.minimum is not None and self.minimum > 1:
                low = f"a whole number from {self.minimum:g}"
                return f"{low} up to {self.maximum:g}" if self.maximum is not None else low
            top = f" up to {self.maximum:g}" if self.maximum is not None else ""
            return f"{low} whole number{top}"
        if self.below_maximum and self.minimum == 0 and self.maximum == 100:
            return "a percentage from 0 to below 100"
        low = f" from {self.minimum:g}" if self.minimum is not None else ""
        top = "" if self.maximum is None else f" {'below' if self.below_maximum else 'up to'}"
        top += "" if self.maximum is None else f" {self.maximum:g}"
        return f"a number{low}{top}"

    def accepts(self, value: object) -> bool:
        """Whether ``value`` has the type and lies in the range."""
        if self.kind == "text":
            return isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.kind == "whole" and isinstance(value, float) and not value.is_integer():
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None:
            return value < self.maximum if self.below_maximum else value <= self.maximum
        return True

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` (quoting at most 60 characters of it), or None."""
        if self.accepts(value):
            return None
        text = repr(value)
        shown = text if len(text) <= 60 else f"{text[:57]}..."
        return f"expected {self.expected()}, got {shown}"


#: The parameters the core reads by name: the signal lookback window. A hundred years
#: is far beyond any practice, and keeps the window's start on the calendar.
CORE_PARAMETERS: Mapping[str, ParameterSpec] = {
    "lookback_days": ParameterSpec(
        "whole",
        "signals older than this many days before as_of are not counted",
        default=180,
        minimum=1,
        maximum=36_500,
        reader="the engine (the signal lookback window)",
    ),
}


@attrs.frozen
class SignalSpec:
    """One signal kind of the policy's vocabulary."""

    kind: str
    dimension: str
    polarity: str
    label_en: str = ""
    label_zh: str = ""
    cites: tuple[str, ...] = ()
    chosen: bool = False
    doc: str = ""

    @property
    def negative(self) -> bool:
        """Whether the signal is a negative sign: in force until a later cure."""
        return self.polarity == "negative"

    @property
    def measured(self) -> bool:
        """Whether the signal carries a value (``cash_coverage``) rather than a count."""
        return self.polarity == "measured"


@attrs.frozen
class NamedCondition:
    """A named condition of ``[conditions]``: rules use it by name, like a field.

    ``when`` is the condition with every named condition it uses expanded, as rules
    read it; ``used_by`` lists the rules, stages and other named conditions that use
    it, in file order (empty: nothing uses it, and ``collectrules check`` says so).
    """

    name: str
    when: Condition
    when_text: str
    doc: str = ""
    cites: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()


@attrs.frozen
class LayerRule:
    """A rule of a classification layer."""

    id: str
    when: Condition
    when_text: str
    value: str | None = None
    score: float = 0
    priority: int = 0
    reason: str = ""
    cites: tuple[str, ...] = ()
    origin: str = ""
    presumed: bool = False
    chosen: bool = False
    doc: str = ""


@attrs.frozen
class Layer:
    """A classification layer: rules whose matches give one value of ``output``."""

    id: str
    output: str
    values: tuple[str, ...]
    hit_policy: HitPolicy
    rules: tuple[LayerRule, ...]
    default: str | None = None
    bands: tuple[tuple[float, str], ...] = ()
    labels: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    cites: tuple[str, ...] = ()
    doc: str = ""

    def inputs(self) -> frozenset[str]:
        """The fields that this layer's rules read."""
        found: set[str] = set()
        for rule in self.rules:
            found |= rule.when.fields()
        return frozenset(found)


@attrs.frozen
class RemedyRule:
    """A rule that allows, blocks or requires remedies, with a reason and citations."""

    id: str
    effect: RemedyEffect
    #: The remedies' names (:class:`~collectrules.model.remedies.Remedy` members for
    #: standard ones), each in the policy's remedy catalogue.
    remedies: tuple[str, ...]
    when: Condition
    when_text: str
    reason: str
    conditions: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    origin: str = ""
    #: The rule may grant remedies outside the quadrant's envelope (its citations say
    #: why); without it, a grant outside the envelope is a finding of the verifier.
    overrides_quadrant: bool = False
    chosen: bool = False
    doc: str = ""


@attrs.frozen
class Envelope:
    """The remedies one quadrant can ever get: its treatment in DOMAIN.md §1.

    Severity, bad-loan, bucket and pack rules work inside it; only a remedy rule marked
    ``overrides_quadrant`` may grant a remedy outside it.
    """

    quadrant: str
    remedies: frozenset[str]
    cites: tuple[str, ...] = ()
    doc: str = ""

    def admits(self, remedy: str) -> bool:
        """Whether ``remedy`` lies inside the envelope."""
        return remedy in self.remedies


class SectionLoader(Protocol):
    """What a section parser may use of the policy loader."""

    def fail(
        self,
        path: str,
        message: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        """Record a problem at ``path``."""

    def condition(
        self,
        text: object,
        path: str,
        rule_id: str,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
    ) -> Condition:
        """Parse and check a condition, recording any problem."""


@attrs.frozen
class Contribution:
    """What a section adds to one decision: classes, buckets, amounts, trace entries.

    ``amounts`` is JSON-ready data that goes into :attr:`Decision.amounts` under the
    section's keys (the money section's amounts due). ``settle``, when given, is called
    once the quadrant and the allowed remedies are known, and its JSON-ready result is
    added to the amounts too (the money section's largest reduction allowed).
    """

    regulatory: tuple[RegulatoryClass, ...] = ()
    buckets: tuple[BucketResult, ...] = ()
    firings: tuple[Firing, ...] = ()
    amounts: Mapping[str, Any] = attrs.field(factory=dict)
    settle: Callable[[Quadrant, tuple[RemedyGrant, ...]], Mapping[str, Any]] | None = None


#: The empty contribution, one shared, immutable instance: what a section returns for
#: a case it adds nothing to (the engine skips it without reading its parts).
NO_CONTRIBUTION = Contribution(amounts=types.MappingProxyType({}))


@runtime_checkable
class Section(Protocol):
    """An optional policy section."""

    #: The top-level policy key the section owns.
    key: str
    #: One line for the JSON Schema: what the section is, and where it is documented.
    doc: str
    #: The policy parameters the section reads by name (so none of them is "dead").
    parameters: frozenset[str]
    #: Their types and ranges, checked when a policy loads, whether or not the policy
    #: has the section (a section may read its parameters without its table).
    parameter_specs: Mapping[str, ParameterSpec]

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[Any, Mapping[str, FieldSpec]]:
        """Parse the section's table; return it and the fact fields it adds."""

    def schema_property(self) -> dict[str, Any]:
        """The section's top-level property in the policy JSON Schema."""

    def schema_defs(self) -> dict[str, Any]:
        """The section's ``$defs`` in the policy JSON Schema."""

    def derived_signals(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy
    ) -> tuple[Signal, ...]:
        """Signals the section derives from the case's events at ``as_of``."""

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The fact fields the section adds at ``as_of`` (``facts`` are those so far)."""

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        """What the section adds to the decision of ``case``, given its facts at ``as_of``."""


@attrs.frozen(eq=False)
class Policy:
    """A loaded, validated, immutable policy.

    ``content_hash`` is the SHA-256 of the policy's canonical data; two policies with
    equal hashes decide every case the same way.
    """

    id: str
    version: str
    title: str
    description: str
    notes: tuple[str, ...]
    parameters: Mapping[str, Parameter]
    signals: Mapping[str, SignalSpec]
    layers: tuple[Layer, ...]
    remedy_rules: tuple[RemedyRule, ...]
    conflict: ConflictRule
    content_hash: str
    data: Mapping[str, Any] = attrs.field(repr=False)
    source: str | None = None
    sections: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    extra_fields: Mapping[str, FieldSpec] = attrs.field(factory=dict, repr=False)
    #: The section plug-ins the policy was loaded with, in order: they add facts,
    #: derived signals and classes to every decision under the policy.
    plugins: tuple[Section, ...] = attrs.field(default=(), repr=False)
    #: Each quadrant's envelope (``[envelopes]``), by quadrant; empty when the policy
    #: declares none.
    envelopes: Mapping[str, Envelope] = attrs.field(factory=dict, repr=False)
    #: The named conditions (``[conditions]``), by name, in file order.
    named_conditions: Mapping[str, NamedCondition] = attrs.field(factory=dict, repr=False)
    #: The remedy catalogue: the standard remedies, then the policy's own
    #: (``[catalogue.remedies]``), by name; decisions list remedies in this order.
    remedies: Mapping[str, RemedySpec] = attrs.field(
        factory=lambda: dict(STANDARD_REMEDIES), repr=False
    )
    #: The product catalogue: the standard products, then the policy's own
    #: (``[catalogue.products]``), by name. A case's product must be one of them.
    products: Mapping[str, ProductSpec] = attrs.field(
        factory=lambda: dict(STANDARD_PRODUCTS), repr=False
    )
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the policy as its fields (its caches are rebuilt on use): a worker
        process receives the same policy, every rule's origin included."""
        values = {f.alias: getattr(self, f.name) for f in attrs.fields(Policy) if f.init}
        return (_policy_from_fields, (values,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.content_hash == self.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    @property
    def ref(self) -> str:
        """``id@version#hash12``: how decisions name the policy."""
        return f"{self.id}@{self.version}#{self.content_hash[:12]}"

    @property
    def parameter_values(self) -> dict[str, Scalar]:
        """Parameter names and values, as conditions resolve them."""
        return {name: p.value for name, p in self.parameters.items()}

    def param(self, name: str) -> Scalar:
        """The value of a parameter; a clear error names the known ones."""
        try:
            return self.parameters[name].value
        except (KeyError, TypeError):  # checked only on a miss: a section asks per case
            require_text(name, "name", "a parameter's name")
            msg = f"unknown parameter {quote(name)}"
            raise PolicyError(
                [
                    FieldProblem(
                        f"parameters.{name}", msg, suggestion=did_you_mean(name, self.parameters)
                    )
                ]
            ) from None

    def schema(self) -> dict[str, FieldSpec]:
        """Every field a condition may read: case facts, signals, and layer outputs."""
        cached = self._memo.get("schema")
        if cached is None:
            cached = self._memo["schema"] = self._build_schema()
        return dict(cached)

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """A value derived from the (immutable) policy, computed once."""
        try:
            known = key in self._memo
        except TypeError:  # unhashable
            known = False
        if not known:  # the arguments are checked only on a miss: sections ask per case
            require_text(key, "key")
            require_callable(build, "build")
            self._memo[key] = build()
        return self._memo[key]

    def _build_schema(self) -> dict[str, FieldSpec]:
        fields = base_fields(self.products)
        fields.update(signal_fields(self.signals.values()))
        fields.update(self.extra_fields)
        for layer in self.layers:
            fields[layer.output] = FieldSpec(
                layer.output, FieldType.ENUM, f"output of layer {layer.id}", choices=layer.values
            )
        return fields

    def layer(self, output: str) -> Layer:
        """The layer that produces ``output``."""
        require_text(output, "output", "a layer's output")
        for layer in self.layers:
            if layer.output == output:
                return layer
        msg = f"policy {quote(self.id)} has no layer producing {quote(output)}"
        raise PolicyError([FieldProblem("layers", msg)])

    @property
    def coercive_remedies(self) -> frozenset[str]:
        """The remedies of the catalogue that put pressure on the debtor: the standard
        :data:`~collectrules.model.remedies.COERCIVE_REMEDIES` and the policy's own
        marked ``coercive`` (by default those of the pressure and litigation categories)."""
        found: frozenset[str] = self.memo(
            "coercive_remedies",
            lambda: frozenset(name for name, spec in self.remedies.items() if spec.coercive),
        )
        return found

    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id, layer rules first, in file order."""
        return tuple(r.id for layer in self.layers for r in layer.rules) + tuple(
            r.id for r in self.remedy_rules
        )


# --------------------------------------------------------------------------- schema


def base_fields(products: Iterable[str] = STANDARD_PRODUCTS) -> dict[str, FieldSpec]:
    """The case facts every policy can read, whatever its signals; ``product`` takes
    the names of ``products`` (the policy's product catalogue)."""
    products = require_texts(products, "products", "a collection of product names")
    specs = [
        FieldSpec("dpd", FieldType.INT, "days past due at as_of; 0 when nothing is overdue"),
        FieldSpec(
            "product", FieldType.ENUM, "the case's product", choices=tuple(map(str, products))
        ),
        FieldSpec("currency", FieldType.STR, "ISO 4217 currency code"),
        FieldSpec("principal", FieldType.MONEY, "principal, in major units"),
        FieldSpec("overdue_amount", FieldType.MONEY, "amount overdue, in major units"),
        FieldSpec("guarantors", FieldType.INT, "number of guarantors"),
        FieldSpec("has_maturity_date", FieldType.BOOL, "whether the case has a maturity date"),
        FieldSpec("days_to_maturity", FieldType.INT, "days from as_of to maturity", optional=True),
        FieldSpec(
            "debtor_contacted",
            FieldType.BOOL,
            "the debtor was reached since the due date: a contact that reached them, a "
            "promise, a commitment, an acknowledgment, or a willingness sign observed",
        ),
    ]
    return {s.name: s for s in specs}


def signal_fields(signals: Iterable[SignalSpec]) -> dict[str, FieldSpec]:
    """The fields a signal catalogue contributes.

    A counted kind gives an int field (its count within the lookback window); a
    measured kind gives an optional number field (its latest value in the window) and a
    bool ``has_<kind>``.
    """
    if isinstance(signals, str | bytes | Mapping) or not isinstance(signals, Iterable):
        raise wrong_kind("signals", signals, "an iterable of SignalSpec")
    out: dict[str, FieldSpec] = {}
    for spec in signals:
        require_instance(spec, SignalSpec, "signals[]", "a SignalSpec")
        if spec.measured:
            out[spec.kind] = FieldSpec(
                spec.kind, FieldType.NUMBER, f"latest {spec.kind} in the window", optional=True
            )
            out[f"has_{spec.kind}"] = FieldSpec(
                f"has_{spec.kind}", FieldType.BOOL, f"whether {spec.kind} was measured"
            )
        else:
            out[spec.kind] = FieldSpec(
                spec.kind, FieldType.INT, f"count of {spec.kind} signals in the window"
            )
    return out


def _policy_from_fields(values: dict[str, Any]) -> Policy:
    """The policy of :meth:`Policy.__reduce__`."""
    return Policy(**values)
