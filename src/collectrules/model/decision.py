"""The decision and its trace, with a stable, versioned JSON schema.

``Decision.to_json()`` gives the same bytes for the same case, ``as_of`` and policy:
keys are sorted, lists keep their meaningful order (the trace in firing order, remedies
in the order of the policy's remedy catalogue: the :class:`~collectrules.model.remedies.Remedy`
enum, then the policy's own), and nothing depends on the clock, the process or the machine.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import keyword
import math
import sys
import types
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import orjson
import pendulum

from collectrules._arguments import require_indent, wrong_kind
from collectrules._choice import Choice
from collectrules.errors import FieldProblem, InputError, UnwritableError, quote
from collectrules.model import decision_io
from collectrules.model.limits import holds_at_most
from collectrules.model.remedies import STANDARD_REMEDIES, Remedy, remedy_name

__all__ = [
    "LAZY_PARTS",
    "NO_SIGNS_IN_FORCE",
    "SCHEMA_VERSION",
    "BucketResult",
    "Decision",
    "Firing",
    "LevelResult",
    "Outline",
    "PolicyRef",
    "Quadrant",
    "RegulatoryClass",
    "RemedyBlock",
    "RemedyGrant",
    "Template",
    "TreatmentResult",
    "canonical_json",
    "presumed_labels",
]

#: The version of the decision's JSON schema (docs/decision-schema.md).
SCHEMA_VERSION = "2"


class Quadrant(Choice):
    """The four types of overdue customer (DOMAIN.md §1)."""

    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"
    Q4 = "Q4"

    @property
    def label_en(self) -> str:
        """English label."""
        return _QUADRANT_LABELS[self][0]

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return _QUADRANT_LABELS[self][1]

    @property
    def willing(self) -> bool:
        """Whether the debtor is willing to pay in this quadrant."""
        return self in (Quadrant.Q1, Quadrant.Q2)

    @property
    def able(self) -> bool:
        """Whether the debtor is able to pay in this quadrant."""
        return self in (Quadrant.Q1, Quadrant.Q3)


_QUADRANT_LABELS = {
    Quadrant.Q1: ("willing and able", "第一类：有还款意愿，有还款能力"),
    Quadrant.Q2: ("willing and unable", "第二类：有还款意愿，还款能力不足"),
    Quadrant.Q3: ("unwilling and able", "第三类：还款意愿差，有还款能力"),
    Quadrant.Q4: ("unwilling, ability weakened or lost", "第四类：无还款意愿，还款能力减弱或丧失"),
}


class _Written:
    """A slot for a part's own compact JSON, written the first time a decision writes
    the part and kept with it (:func:`_written`): the trace entries, grants, blocks,
    levels and policy reference the engine gives are shared by every decision that
    gets them, so each is written once, not once per decision.

    The slot is not an attrs field: equality, hashing, ``repr``, ``attrs.asdict``,
    ``attrs.evolve`` (a new part, written anew), pickling and copying never see it. An
    unset slot reads as None.
    """

    __slots__ = ("_written",)

    if TYPE_CHECKING:
        #: The part's JSON as UTF-8 bytes; ``b""`` when it is not written apart (a
        #: value orjson does not write as ``json.dumps`` does); None: not written yet.
        _written: bytes | None
    else:

        def __getattr__(self, name: str) -> Any:
            # Called only for an attribute not found: the slot before it is written.
            if name == "_written":
                return None
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)


@attrs.frozen
class PolicyRef(_Written):
    """Which policy decided: its id, version and content hash."""

    id: str
    version: str
    content_hash: str


#: The most values a part a :class:`Template` is made from may hold (a level names at
#: most a case's signals, 1,000, in force).
_MOST_PART_VALUES = 100_000


@attrs.frozen
class Firing(_Written):
    """One rule that fired, in firing order, with what it concluded and why."""

    rule_id: str
    layer: str
    outcome: str
    reason: str
    cites: tuple[str, ...]
    origin: str = ""


class _ReadOnlyDict(dict[str, str]):
    """A dict nothing can change: the empty ``in_force`` of the levels that many
    decisions share (:data:`NO_SIGNS_IN_FORCE`). It compares, writes and copies as a
    plain dict; a copy or an unpickled one is a plain, empty dict."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> Any:
        msg = "a decision's level is shared with other decisions and is read-only"
        raise TypeError(msg)

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[type[dict[str, str]], tuple[()]]:
        return (dict, ())


#: The ``in_force`` of a level that names no sign in force, when the level is shared by
#: the decisions that resolve its layer alike: empty, and read-only, so that no caller
#: can change another decision through it.
NO_SIGNS_IN_FORCE: Mapping[str, str] = _ReadOnlyDict()


def presumed_labels(label_en: str, label_zh: str) -> tuple[str, str]:
    """English and Chinese labels marked as a presumption: "… (presumed)", "…（推定）"."""
    return f"{label_en} (presumed)", f"{label_zh}（推定）"


@attrs.frozen
class LevelResult(_Written):
    """The value one layer gave (willingness, ability …), with what produced it.

    ``presumed`` is true when the value is a presumption drawn from silence (a rule
    marked ``presumed``), not read from evidence; the labels then say so. ``in_force``
    names each negative sign that the level read and that is in force, uncured, with the
    instant since which it is (ISO 8601): see docs/evidence.md.
    """

    layer: str
    value: str
    rules: tuple[str, ...]
    signals: tuple[str, ...]
    score: float | None = None
    defaulted: bool = False
    label_en: str = ""
    label_zh: str = ""
    presumed: bool = False
    in_force: Mapping[str, str] = attrs.field(factory=dict, hash=False)


def _label(remedy: str, given: str, index: int) -> str:
    """A remedy's label: the one the decision carries, else the standard one, else the name."""
    if given:
        return given
    spec = STANDARD_REMEDIES.get(remedy)
    if spec is None:
        return str(remedy)
    return spec.label_en if index == 0 else spec.label_zh


@attrs.frozen
class RemedyGrant(_Written):
    """A remedy the lender may use (or, when ``required``, must use).

    ``remedy`` is a :class:`~collectrules.model.remedies.Remedy` member for a standard
    remedy and the plain name for a policy's own; ``label_en`` and ``label_zh`` are its
    labels in the policy's catalogue (empty: the standard labels).
    """

    remedy: str = attrs.field(converter=remedy_name)
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    required: bool = False
    label_en: str = attrs.field(default="", eq=False)
    label_zh: str = attrs.field(default="", eq=False)


@attrs.frozen
class RemedyBlock(_Written):
    """A remedy the lender may not use, with the reason.

    ``rule_id`` and ``reason`` are those of the first rule (in file order) that blocks
    it; ``rules`` lists every rule that blocks it, and ``cites`` every citation of those
    rules, in the same order, each once. ``remedy`` and the labels are as in
    :class:`RemedyGrant`.
    """

    remedy: str = attrs.field(converter=remedy_name)
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    rules: tuple[str, ...] = ()
    label_en: str = attrs.field(default="", eq=False)
    label_zh: str = attrs.field(default="", eq=False)


P = TypeVar("P", bound=_Written)


class Template(Generic[P]):
    """Parts of a decision alike but for one field: ``Template(part, "outcome")(text)``
    equals ``attrs.evolve(part, outcome=text)``, and its compact JSON, kept with it, is
    ``part``'s with that one value written anew, not the whole part again.

    The engine makes a case's own trace entries (a sign in force since an instant) and
    levels (the signs in force they read) from shared ones this way. ``part`` is a
    trace entry, level or policy reference (a grant or a block is written with its
    labels: its parts are written whole). When the new value is not one orjson writes
    as ``json.dumps`` does, the new part is written whole, as any other, when first
    written.
    """

    __slots__ = ("_after", "_before", "_cls", "_head", "_make", "_name", "_tail", "part")

    def __init__(self, part: P, name: str) -> None:
        cls = type(part)
        if not isinstance(part, _Written):
            msg = "a trace entry, a level or a policy reference of a decision"
            raise wrong_kind("part", part, msg)
        fields = attrs.fields_dict(cls) if attrs.has(cls) else {}
        field = fields.get(name) if isinstance(name, str) else None
        if field is None or not field.init:
            msg = f"expected a field of {cls.__name__}, got {quote(name)}"
            raise InputError([FieldProblem("name", msg)])
        values = [getattr(part, f) for f in fields]
        if not holds_at_most(values, _MOST_PART_VALUES):
            msg = f"holds more than {_MOST_PART_VALUES:,} values: expected a decision's part"
            raise InputError([FieldProblem("part", msg)])
        #: The part the others are made from.
        self.part = part
        self._name = str(field.alias)
        given = [f for f in fields.values() if f.init]
        at = given.index(field)
        self._cls: Callable[..., P] = cls
        self._before = tuple(getattr(part, f.name) for f in given[:at])
        self._after = tuple(getattr(part, f.name) for f in given[at + 1 :])
        self._make: Callable[..., P] | None = None
        if any(f.kw_only for f in given):  # not all positional: by keyword
            others = {str(f.alias): getattr(part, f.name) for f in given if f is not field}
            self._make = functools.partial(cls, **others)
        self._head: bytes | None = None
        self._tail = b""
        if isinstance(part, RemedyGrant | RemedyBlock):
            return
        if not holds_at_most(values, _MOST_PART_VALUES, records=True):
            # Objects where values belong, which writing would convert whole (a policy
            # given as a trace entry's origin: a million values, seconds to convert):
            # left to the general way, as a value that holds itself is.
            return
        kept = _written(part, _record)
        if not kept:
            return
        key = orjson.dumps(name) + b":"
        marker = key + orjson.dumps(_record(part)[name], option=_ORJSON_OPTIONS)
        if kept.count(marker) == 1:  # the part's own key: a nested one would be a second
            at = kept.index(marker)
            self._head = kept[: at + len(key)]
            self._tail = kept[at + len(marker) :]

    def __call__(self, value: Any) -> P:
        """The part with ``value`` in the field, its JSON written from the template's."""
        make = self._make
        if make is None:
            made: P = self._cls(*self._before, value, *self._after)
        else:
            made = make(**{self._name: value})
        head = self._head
        if head is not None and (type(value) is str or _writes_alike(value)):
            try:
                text = orjson.dumps(value, option=_ORJSON_OPTIONS)
            except TypeError:  # a lone surrogate, an integer past 64 bits
                return made
            object.__setattr__(made, "_written", head + text + self._tail)
        return made

    def __repr__(self) -> str:
        return f"Template({self.part!r}, {self._name!r})"


@attrs.frozen
class RegulatoryClass:
    """The class a regulatory pack gives the case, and when the next, worse one begins."""

    pack: str
    value: str
    label_en: str
    label_zh: str
    rule_id: str
    cites: tuple[str, ...]
    next_value: str | None = None
    next_on: str | None = None
    notes: tuple[str, ...] = ()
    reason: str = ""
    fact: str = ""


@attrs.frozen
class TreatmentResult:
    """One treatment of a bucket, as the decision judged it.

    ``status`` is ``allowed``, ``blocked`` (``rule_id`` and ``reason`` are those of the
    blocking rule) or ``not_granted`` (no rule of the decision allows it for this case).
    """

    remedy: str
    status: str
    rule_id: str | None = None
    reason: str = ""


@attrs.frozen
class BucketResult:
    """The delinquency bucket of a case in one bucket set, with its treatments.

    ``treatments`` are the bucket's treatments as the policy lists them; ``decided``
    the same treatments filtered by the decision: each allowed, blocked (with the
    blocking rule) or not granted.
    """

    bucket_set: str
    bucket: str
    label: str
    treatments: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    decided: tuple[TreatmentResult, ...] = ()

    def judged(
        self, allowed: tuple[RemedyGrant, ...], blocked: tuple[RemedyBlock, ...]
    ) -> BucketResult:
        """This result with each treatment marked as the decision treats it."""
        grants = {str(g.remedy): g for g in allowed}
        blocks = {str(b.remedy): b for b in blocked}
        decided: list[TreatmentResult] = []
        for name in self.treatments:
            grant, block = grants.get(name), blocks.get(name)
            if grant is not None:
                decided.append(TreatmentResult(name, "allowed", grant.rule_id, grant.reason))
            elif block is not None:
                decided.append(TreatmentResult(name, "blocked", block.rule_id, block.reason))
            else:
                decided.append(
                    TreatmentResult(
                        name, "not_granted", None, "no rule of the policy allows it for this case"
                    )
                )
        return attrs.evolve(self, decided=tuple(decided))


def _iso(value: pendulum.DateTime) -> str:
    return value.isoformat()


@attrs.frozen
class Outline:
    """A decision's outline (:meth:`Decision.outline`): ``levels``, each level's value
    by its output; ``fired``, the ids of the trace's entries, in firing order."""

    levels: Mapping[str, str]
    fired: tuple[str, ...]


@attrs.frozen
class Decision:
    """What the policy decided for one case at ``as_of``, and why.

    ``levels`` maps each layer output (``willingness``, ``ability``, ``quadrant`` …)
    to its result; ``trace`` lists every rule that fired, in firing order. ``amounts``
    is what is owed, when the case carries contract terms (docs/charges.md); the key
    is left out of the JSON when it is empty, so other decisions keep their bytes.
    ``ignored_signals`` counts the case's signals whose kind the policy does not know,
    when the engine was told to ignore them (``Engine(…, unknown_signals="ignore")``);
    it is in the JSON only when it is not 0.

    A decision from the engine builds its levels, trace and display facts when one of
    them is first read (:meth:`lazily`), and keeps its compact JSON once written: a
    caller that reads only the quadrant and the remedies does not pay for the trace.
    """

    case_id: str
    as_of: pendulum.DateTime
    policy: PolicyRef
    quadrant: Quadrant
    levels: Mapping[str, LevelResult]
    allowed: tuple[RemedyGrant, ...]
    blocked: tuple[RemedyBlock, ...]
    trace: tuple[Firing, ...]
    facts: Mapping[str, Any]
    regulatory: tuple[RegulatoryClass, ...] = ()
    buckets: tuple[BucketResult, ...] = ()
    engine: str = "durable"
    amounts: Mapping[str, Any] = attrs.field(factory=dict)
    ignored_signals: int = 0
    # Builds the lazy parts of a decision made by :meth:`lazily`; ``None`` once built.
    _build: Callable[[], Mapping[str, Any]] | None = attrs.field(
        default=None, init=False, eq=False, repr=False, hash=False
    )
    # The compact JSON, kept on first use (the decision is immutable).
    _json: str | None = attrs.field(default=None, init=False, eq=False, repr=False, hash=False)
    # ``as_of`` in ISO 8601, when :meth:`lazily` was given it (a batch's one instant).
    _as_of_text: str | None = attrs.field(
        default=None, init=False, eq=False, repr=False, hash=False
    )
    # Gives, before the lazy parts are built, each level's value by output and the
    # trace's rule ids (see :meth:`outline`); ``None`` once they are built.
    _outline: Callable[[], Outline] | None = attrs.field(
        default=None, init=False, eq=False, repr=False, hash=False
    )

    if TYPE_CHECKING:  # written after the class, from its fields: see _lazily

        @classmethod
        def lazily(
            cls,
            build: Callable[[], Mapping[str, Any]],
            *,
            as_of_text: str | None = None,
            outline: Callable[[], Outline] | None = None,
            **given: Any,
        ) -> Decision:
            """A decision whose parts :data:`LAZY_PARTS` (the levels, the trace and the
            display facts) are built by ``build`` on first use; ``given`` are the others,
            every one of them, by keyword (a missing or unknown one is a ``TypeError``).
            ``as_of_text``, when given, must be ``as_of.isoformat()``: the JSON then
            takes it as it is (a batch decides many cases at one instant).
            ``outline``, when given, must give what :meth:`outline` reads from the
            built parts, without building them.

            The engine decides this way: a caller that reads only the quadrant or the
            remedies never pays for the trace. Once built, the decision equals, prints,
            pickles and serialises as one built whole by the constructor.
            """

    def __attrs_post_init__(self) -> None:
        # Only a decision built by hand comes here (the engine's are made by lazily).
        problems = _misshapen(self)
        if problems:
            raise InputError(problems, subject="decision")

    if not TYPE_CHECKING:  # mypy keeps checking attribute names

        def __getattr__(self, name: str) -> Any:
            # Called only for a slot not set yet: a lazy part before it is built. Two
            # threads may read one decision's parts at once: each that finds them unbuilt
            # builds them (equal parts; the last written stays), and one that finds the
            # builder gone reads what the other thread has just set, never an error.
            if name in LAZY_PARTS:
                build = self._build
                if build is not None:
                    parts = build()
                    for part in LAZY_PARTS:
                        object.__setattr__(self, part, parts[part])
                    object.__setattr__(self, "_build", None)
                    object.__setattr__(self, "_outline", None)
                    return parts[name]
                try:  # built by another thread since this lookup found the slot unset
                    return object.__getattribute__(self, name)
                except AttributeError:
                    pass
            elif name in ("_build", "_json", "_as_of_text", "_outline"):
                return None  # unpickled from a release without them: built, not written
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)

    def outline(self) -> Outline:
        """Each level's value by its output, and the ids of the trace's entries in
        firing order: what a compact decision table keeps. A decision made lazily
        gives them without building its levels, trace and facts."""
        outline = self._outline
        if outline is not None and self._build is not None:
            return outline()
        return Outline(
            {name: level.value for name, level in self.levels.items()},
            tuple(f.rule_id for f in self.trace),
        )

    @property
    def willingness(self) -> LevelResult:
        """The willingness level."""
        return self.levels["willingness"]

    @property
    def ability(self) -> LevelResult:
        """The ability level."""
        return self.levels["ability"]

    @property
    def allowed_remedies(self) -> frozenset[str]:
        """The remedies allowed, as a set (standard ones as :class:`Remedy` members)."""
        return frozenset(g.remedy for g in self.allowed)

    @property
    def blocked_remedies(self) -> frozenset[str]:
        """The remedies blocked, as a set."""
        return frozenset(b.remedy for b in self.blocked)

    def grant(self, remedy: Remedy | str) -> RemedyGrant | None:
        """The grant of ``remedy``, if it is allowed."""
        for g in self.allowed:
            if g.remedy == remedy:
                return g
        return None

    def block(self, remedy: Remedy | str) -> RemedyBlock | None:
        """The block of ``remedy``, if it is blocked."""
        for b in self.blocked:
            if b.remedy == remedy:
                return b
        return None

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain data, in the documented schema (docs/decision-schema.md).

        A decision built by hand with a field that holds more than 100,000 values (each
        counted as often as it is held: a graph of objects where text belongs) is an
        :class:`~collectrules.errors.UnwritableError` naming the field, before any of
        it is converted."""
        try:
            out = self._core_dict()
        except _TooManyValues:
            raise _crowded(self, None) from None
        if not _holds_few(self.facts):
            raise _crowded(self, None)
        if self.amounts:
            if not _holds_few(self.amounts):
                raise _crowded(self, None)
            out["amounts"] = dict(self.amounts)
        if self.ignored_signals:
            out["ignored_signals"] = self.ignored_signals
        return out

    def _core_dict(self) -> dict[str, Any]:
        levels = self.levels
        facts = self.facts
        return {
            "schema_version": SCHEMA_VERSION,
            "case_id": self.case_id,
            "as_of": self._as_of_text or _iso(self.as_of),
            "policy": _record(self.policy),
            "quadrant": {
                "value": self.quadrant.value,
                "label_en": self.quadrant.label_en,
                "label_zh": self.quadrant.label_zh,
            },
            "levels": {name: _record(levels[name]) for name in sorted(levels)},
            "allowed": [_remedy_record(g) for g in self.allowed],
            "blocked": [_remedy_record(b) for b in self.blocked],
            "trace": [_record(f) for f in self.trace],
            "facts": {name: facts[name] for name in sorted(facts)},
            "regulatory": [_record(r) for r in self.regulatory],
            "buckets": [_record(b) for b in self.buckets],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The decision as JSON: identical inputs give identical bytes.

        ``indent`` is ``None`` (compact) or 0 to 16 spaces. A decision built by hand
        with a value JSON has no form for (an object, a ``Decimal``, a ``UUID``, an enum
        member that is not text or a number, NaN, a container that holds itself) is an
        :class:`~collectrules.errors.UnwritableError` naming where the value is, whether
        written compact or indented: the two write the same values."""
        if indent is not None:
            require_indent(indent)
        try:
            return self._text(indent)
        except (TypeError, ValueError, RecursionError) as exc:
            raise _unwritable(self, None, exc, utf8=False) from None

    def _text(self, indent: int | None) -> str:
        if indent is None:
            if self._json is None:
                written = self._compact(None)
                text = written.decode("utf-8") if isinstance(written, bytes) else written
                object.__setattr__(self, "_json", text)
            assert self._json is not None
            return self._json
        data = self.to_dict()
        return json.dumps(
            data,
            sort_keys=True,
            ensure_ascii=False,
            indent=indent,
            separators=(",", ":") if indent is None else (",", ": "),
            allow_nan=False,
        )

    def to_json_bytes(self, *, extra: Mapping[str, Any] | None = None) -> bytes:
        """The compact JSON as UTF-8 bytes: ``to_json().encode()``, without the text in
        between, for a file or a queue. ``extra`` adds top-level keys, each in its
        sorted place (a batch adds the row's ``input``); a key the decision's JSON
        has (``case_id``, ``trace`` …), a key that is not text, or an ``extra`` that is
        not a mapping is an :class:`~collectrules.errors.InputError`. A value JSON has
        no form for, as from :meth:`to_json`, and text UTF-8 cannot hold (a lone
        surrogate) are an :class:`~collectrules.errors.UnwritableError` naming where the
        value is."""
        if extra is not None and not isinstance(extra, Mapping):
            msg = f"expected a mapping of text keys, got {type(extra).__name__}"
            raise InputError([FieldProblem("extra", msg)])
        if extra:
            if not all(isinstance(key, str) for key in extra):
                msg = "expected text keys, got " + ", ".join(
                    sorted({type(k).__name__ for k in extra if not isinstance(k, str)})
                )
                raise InputError([FieldProblem("extra", msg)])
            taken = _TOP_KEYS.intersection(extra)
            if taken:
                msg = f"keys of the decision's own JSON may not be added: {sorted(taken)}"
                raise InputError([FieldProblem("extra", msg)])
        try:
            if extra:
                written = self._compact(extra)
            else:
                written = self._compact(None) if self._json is None else self._json
            return written if isinstance(written, bytes) else written.encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise _unwritable(self, extra, exc, utf8=True) from None

    def _compact(self, extra: Mapping[str, Any] | None) -> bytes | str:
        """``canonical_json({**self.to_dict(), **extra})``, as UTF-8 bytes when orjson
        wrote it and as the text of ``json.dumps`` when it did not, written without
        building what the JSON does not need: the policy reference, levels, grants,
        blocks and trace entries are each written once and kept with the part
        (:func:`_written`), a list of them joined as it is; the facts are written by
        orjson and, unless all their values are text, integers, flags and None,
        their bytes scanned for a float it writes unlike ``json.dumps``; the rest is
        the record ``to_dict`` gives, and orjson sorts every object's keys as
        ``to_dict`` and ``json.dumps`` do. When every part is written apart, the
        whole is joined from the parts' bytes in the keys' sorted order
        (:meth:`_joined`); otherwise one orjson pass writes it, the parts as
        fragments.

        The output is orjson's only where ``json.dumps`` gives the same bytes: no part
        is written apart unless it does, and the rest holds no float below 1e-4, nothing
        orjson refuses and no value of another type than JSON's own (:func:`_foreign`:
        a UUID or an enum member, which orjson writes and ``json.dumps`` refuses, or a
        subclass). Anything else, and any error, takes ``canonical_json``, to its bytes
        or its error.
        """
        if extra and not _holds_few(extra):
            self.to_dict()  # a field of the decision's own that holds too much is named first
            raise _crowded(self, extra)
        try:
            if self.amounts and not _holds_few(self.amounts):
                raise _TooManyValues  # named by the general way (to_dict)
            levels, quadrant = self.levels, self.quadrant
            facts = _facts_bytes(self.facts)
            if facts is not None:
                joined = self._joined(levels, quadrant, facts, extra)
                if joined is not None:
                    return joined
                data: dict[str, Any] = {
                    "schema_version": SCHEMA_VERSION,
                    "case_id": self.case_id if type(self.case_id) is str else _plain(self.case_id),
                    "as_of": _plain(self._as_of_text or _iso(self.as_of)),
                    "policy": _part_json(self.policy, _record),
                    "quadrant": _QUADRANT_JSON[quadrant]
                    if type(quadrant) is Quadrant
                    else _plain(self._core_dict()["quadrant"]),
                    "levels": {name: _part_json(levels[name], _record) for name in levels},
                    "allowed": _parts_json(self.allowed, _remedy_record),
                    "blocked": _parts_json(self.blocked, _remedy_record),
                    "trace": _parts_json(self.trace, _record),
                    "facts": orjson.Fragment(facts),
                    "regulatory": _plain([_record(r) for r in self.regulatory]),
                    "buckets": _plain([_record(b) for b in self.buckets]),
                }
                if self.amounts:
                    data["amounts"] = _plain(dict(self.amounts))
                if self.ignored_signals:
                    data["ignored_signals"] = _plain(self.ignored_signals)
                if extra:
                    data.update(_plain(extra if type(extra) is dict else dict(extra)))
                if not _holds_small_float(data):
                    return orjson.dumps(data, option=_ORJSON_OPTIONS)
        except Exception:  # the general way gives the same bytes or error
            pass
        whole = self.to_dict()
        if extra:
            whole.update(extra)
        return canonical_json(whole)

    def _joined(
        self,
        levels: Mapping[str, LevelResult],
        quadrant: Quadrant,
        facts: bytes,
        extra: Mapping[str, Any] | None,
    ) -> bytes | None:
        """The compact JSON of :meth:`_compact`, joined from bytes without a last pass
        of orjson over the whole: each key's value written on its own, the keys in
        their sorted places. None when a part is not written apart (:func:`_written`)
        or a value may be written unlike ``json.dumps``: :meth:`_compact` then writes
        the decision with one orjson pass, or the general way.

        Every value is written as orjson writes it inside the whole (the parts kept
        with them, the facts, the quadrant's and the schema version's constant bytes,
        text by ``orjson.dumps``, the rest walked for floats first), so the bytes are
        those of ``orjson.dumps`` over the decision's record with its keys sorted.
        """
        case_id, as_of = self.case_id, self._as_of_text or _iso(self.as_of)
        if type(case_id) is not str or type(as_of) is not str or type(quadrant) is not Quadrant:
            return None
        policy = self.policy._written or _written(self.policy, _record)
        allowed = _parts_bytes(self.allowed, _remedy_record)
        blocked = _parts_bytes(self.blocked, _remedy_record)
        trace = _parts_bytes(self.trace, _record)
        if not (policy and allowed and blocked and trace):
            return None
        shown: dict[str, orjson.Fragment] = {}
        for name in levels:
            level = levels[name]
            written = level._written or _written(level, _record)
            if not written:
                return None
            shown[name] = orjson.Fragment(written)
        regulatory = (
            _rest_bytes([_record(r) for r in self.regulatory]) if self.regulatory else b"[]"
        )
        buckets = _rest_bytes([_record(b) for b in self.buckets]) if self.buckets else b"[]"
        if regulatory is None or buckets is None:
            return None
        # Each key (after a comma) then its value, in the keys' sorted order.
        chunks = [b',"allowed":', allowed]
        if self.amounts:
            amounts = _rest_bytes(dict(self.amounts))
            if amounts is None:
                return None
            chunks += (b',"amounts":', amounts)
        chunks += (
            b',"as_of":',
            orjson.dumps(as_of),
            b',"blocked":',
            blocked,
            b',"buckets":',
            buckets,
            b',"case_id":',
            orjson.dumps(case_id),
            b',"facts":',
            facts,
        )
        if self.ignored_signals:
            ignored = _rest_bytes(self.ignored_signals)
            if ignored is None:
                return None
            chunks += (b',"ignored_signals":', ignored)
        chunks += (
            b',"levels":',
            orjson.dumps(shown, option=_ORJSON_OPTIONS),
            b',"policy":',
            policy,
            b',"quadrant":',
            _QUADRANT_BYTES[quadrant],
            b',"regulatory":',
            regulatory,
            b',"schema_version":',
            _SCHEMA_VERSION_BYTES,
            b',"trace":',
            trace,
        )
        if extra and not _joined_extra(chunks, extra):
            return None
        chunks[0] = b"{" + chunks[0][1:]
        chunks.append(b"}")
        return b"".join(chunks)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        engine: str = "durable",
        source: str | None = None,
        remedies: Collection[str] | None = None,
    ) -> Decision:
        """The decision whose :meth:`to_dict` is ``data``: ``from_dict(d.to_dict())``
        gives ``d`` back (``engine`` is not in the data; pass it when known).

        Invalid data is an :class:`~collectrules.errors.InputError` naming every invalid
        field by its path, and ``source`` when given. Remedies are an open vocabulary:
        pass ``remedies`` (``policy.remedies``, the policy's catalogue) to refuse a
        remedy outside it; without it, any snake_case name is read, a standard one as
        its :class:`~collectrules.model.remedies.Remedy` member.
        """
        return decision_io.decision_from_dict(
            cls,
            data,
            schema_version=SCHEMA_VERSION,
            engine=engine,
            source=source,
            remedies=remedies,
        )

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        engine: str = "durable",
        source: str | None = None,
        remedies: Collection[str] | None = None,
    ) -> Decision:
        """The decision whose :meth:`to_json` is ``text``; see :meth:`from_dict`.

        Bytes are read as UTF-8, with or without a byte order mark; bytes in another
        encoding (UTF-16 or UTF-32, which ``json.loads`` would read) are an
        :class:`~collectrules.errors.InputError`, as text that is not JSON is."""
        return decision_io.decision_from_json(
            cls,
            text,
            schema_version=SCHEMA_VERSION,
            engine=engine,
            source=source,
            remedies=remedies,
        )


#: The top-level keys of a decision's JSON (``amounts`` and ``ignored_signals`` when set).
_TOP_KEYS = frozenset(
    {
        "schema_version",
        "case_id",
        "as_of",
        "policy",
        "quadrant",
        "levels",
        "allowed",
        "blocked",
        "trace",
        "facts",
        "regulatory",
        "buckets",
        "amounts",
        "ignored_signals",
    }
)

#: The parts of a decision that :meth:`Decision.lazily` builds on first use.
LAZY_PARTS = ("levels", "trace", "facts")


def _lazily() -> classmethod[Decision, ..., Decision]:
    """``Decision.lazily``, written from the decision's fields: each other field a
    keyword-only parameter (Python itself refuses a missing or unknown one), each set
    on a new instance in one pass, without building a dict of them first."""
    eager = [a.name for a in attrs.fields(Decision) if a.init and a.name not in LAZY_PARTS]
    assert all(n.isidentifier() and not keyword.iskeyword(n) for n in eager)
    lines = [
        f"def lazily(cls, build, *, {', '.join(eager)}, as_of_text=None, outline=None):",
        "    decision = new(cls)",
        *(f"    put(decision, {name!r}, {name})" for name in eager),
        "    put(decision, '_build', build)",
        "    put(decision, '_json', None)",
        "    put(decision, '_as_of_text', as_of_text)",
        "    put(decision, '_outline', outline)",
        "    return decision",
        "",
    ]
    code = compile("\n".join(lines), "<collectrules.model.decision Decision.lazily>", "exec")
    (body,) = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    namespace = {"new": object.__new__, "put": object.__setattr__}
    function = types.FunctionType(body, namespace, "lazily")
    function.__kwdefaults__ = {
        "as_of_text": None,
        "outline": None,
    }  # the code object does not hold them
    function.__qualname__ = "Decision.lazily"
    function.__module__ = __name__
    function.__doc__ = _LAZILY_DOC
    return classmethod(function)


#: Each sequence field of a decision and the class its items must be.
_ITEMS: tuple[tuple[str, type], ...] = (
    ("allowed", RemedyGrant),
    ("blocked", RemedyBlock),
    ("trace", Firing),
    ("regulatory", RegulatoryClass),
    ("buckets", BucketResult),
)


def _misshapen(decision: Decision) -> list[FieldProblem]:
    """What is of the wrong kind in a decision built by hand: each field whose value,
    or an item or key of it, is not what the field holds, named with what was expected
    (the values inside the parts are not looked at: writing names those)."""
    problems: list[FieldProblem] = []

    def wrong(path: str, value: object, expected: str) -> None:
        problems.append(FieldProblem(path, f"expected {expected}, got {type(value).__name__}"))

    if not isinstance(decision.case_id, str):
        wrong("case_id", decision.case_id, "text")
    as_of = decision.as_of
    if not isinstance(as_of, dt.datetime) or _offset(as_of) is None:
        wrong("as_of", as_of, "a datetime with its offset")
    if not isinstance(decision.policy, PolicyRef):
        wrong("policy", decision.policy, "a PolicyRef")
    if not isinstance(decision.quadrant, Quadrant):
        wrong("quadrant", decision.quadrant, "a Quadrant")
    levels = decision.levels
    if isinstance(levels, Mapping):
        for name, level in levels.items():
            if not isinstance(name, str):
                wrong("levels", name, "text keys")
                break
            if not isinstance(level, LevelResult):
                wrong(f"levels.{name}", level, "a LevelResult")
                break
    else:
        wrong("levels", levels, "a mapping of output names to LevelResult")
    for name, kind in _ITEMS:
        items = getattr(decision, name)
        if not isinstance(items, tuple | list):
            wrong(name, items, f"a tuple of {kind.__name__}")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, kind):
                wrong(f"{name}[{index}]", item, f"a {kind.__name__}")
                break
    for name in ("facts", "amounts"):
        values = getattr(decision, name)
        if not isinstance(values, Mapping):
            wrong(name, values, "a mapping of text keys")
        elif not all(isinstance(key, str) for key in values):
            problems.append(FieldProblem(name, "expected a mapping of text keys"))
    if not isinstance(decision.engine, str):
        wrong("engine", decision.engine, "text")
    ignored = decision.ignored_signals
    if isinstance(ignored, bool) or not isinstance(ignored, int) or ignored < 0:
        problems.append(
            FieldProblem("ignored_signals", f"expected a count of 0 or more, got {quote(ignored)}")
        )
    return problems


def _offset(moment: dt.datetime) -> dt.timedelta | None:
    """The offset of ``moment``, or None when it has none or its zone cannot give one
    (a ``tzinfo`` whose ``utcoffset`` raises, or gives a day or more)."""
    try:
        return moment.utcoffset()
    except (ValueError, TypeError, ArithmeticError, LookupError):
        return None


_LAZILY_DOC = """A decision whose levels, trace and display facts ``build`` makes on first use,
the other fields given by keyword; ``as_of_text``, when given, is ``as_of.isoformat()``;
``outline``, when given, gives ``Decision.outline()`` without building them
(see ``Decision.lazily`` in the API reference and "Decisions built lazily" in
docs/engine.md)."""

Decision.lazily = _lazily()  # type: ignore[method-assign, assignment]


def _record(obj: Any) -> dict[str, Any]:
    """``attrs.asdict(obj)``, equal to it for every value, and several times faster.

    Each class gets its own conversion function, written once for its fields (see
    :func:`_converter`); values are converted as ``attrs.asdict`` converts them: attrs
    instances to dicts, tuples, lists and sets rebuilt as the same type with their items
    converted, dicts copied, every other value kept as it is. A field that holds more
    than :data:`_MOST_FIELD_VALUES` values is :class:`_TooManyValues` (see
    :func:`_value`), before any of it is converted.
    """
    cls = type(obj)
    convert = _CONVERTERS.get(cls)
    if convert is None:
        convert = _CONVERTERS[cls] = _converter(cls)
    return convert(obj)


def _inner_record(obj: Any) -> dict[str, Any]:
    """:func:`_record` of an attrs instance inside a field already counted."""
    cls = type(obj)
    convert = _INNER_CONVERTERS.get(cls)
    if convert is None:
        convert = _INNER_CONVERTERS[cls] = _converter(cls, value=_converted)
    return convert(obj)


def _remedy_record(item: RemedyGrant | RemedyBlock) -> dict[str, Any]:
    """A grant or a block as the decision writes it: its record, with the remedy's name
    (a :class:`Remedy` member as its value) and its labels (``_label``'s: the standard
    ones when the decision carries none)."""
    cls = type(item)
    convert = _REMEDY_CONVERTERS.get(cls)
    if convert is None:
        convert = _REMEDY_CONVERTERS[cls] = _converter(cls, remedy=True)
    return convert(item)


_CONVERTERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
"""The conversion function of each attrs class met, written on first use."""

_INNER_CONVERTERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
"""The conversion function of each attrs class met inside a field, written on first use."""

_REMEDY_CONVERTERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
"""The conversion function of each class of grant or block, as the decision writes it."""

_LEAVES: set[type] = {type(None), str, bool, int, float}
"""Types ``attrs.asdict`` keeps as they are (learnt as they are met: enums, datetimes)."""


def _converter(
    cls: type, *, remedy: bool = False, value: Callable[[Any], Any] | None = None
) -> Callable[[Any], dict[str, Any]]:
    """The function that gives ``attrs.asdict(obj)`` for an instance of ``cls``.

    It reads each field once and keeps a value whose type is a known leaf (a tuple whose
    items all are, for a field declared as a tuple), and hands any other value to
    :func:`_value`: the fast case is checked, never assumed. With ``remedy`` (a grant or
    a block), ``remedy`` is written as ``str(remedy)`` and the labels as :func:`_label`
    gives them. The source is generated from the field names only, compiled, and the
    function made from its code object; a class with a field name that is not a plain
    identifier gets a generic function instead. Each field's value is converted by
    ``value``: :func:`_value` (bounded) unless given.
    """
    if value is None:
        value = _value
    fields = attrs.fields(cls)
    names = tuple(f.name for f in fields)
    if not all(n.isidentifier() and not keyword.iskeyword(n) for n in names):
        if remedy:
            return functools.partial(_generic_remedy_record, names, value)
        return functools.partial(_generic_record, names, value)
    local = {name: f"v{i}" for i, name in enumerate(names)}
    items = []
    for field in fields:
        v = local[field.name]
        if remedy and field.name == "remedy":
            items.append(f"'remedy': str({v})")
            continue
        if remedy and field.name in ("label_en", "label_zh"):
            index = 0 if field.name == "label_en" else 1
            items.append(f"{field.name!r}: {v} or label({local['remedy']}, {v}, {index})")
            continue
        if _declared_tuple(field.type):
            keep = f"type({v}) is tuple and leaves.issuperset(map(type, {v}))"
        else:
            keep = f"type({v}) in leaves"
        items.append(f"{field.name!r}: {v} if {keep} else value({v})")
    reads = [f"    {local[name]} = o.{name}" for name in names]
    source = "\n".join(["def convert(o):", *reads, f"    return {{{', '.join(items)}}}", ""])
    code = compile(source, f"<collectrules.model.decision record of {cls.__qualname__}>", "exec")
    (body,) = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    namespace = {
        "leaves": _LEAVES,
        "value": value,
        "label": _label,
        "type": type,
        "map": map,
        "tuple": tuple,
        "str": str,
    }
    convert: Callable[[Any], dict[str, Any]] = types.FunctionType(body, namespace, "convert")
    return convert


def _declared_tuple(annotation: Any) -> bool:
    """Whether a field's annotation (a string under postponed evaluation) is a tuple."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith("tuple[")


def _generic_record(
    names: tuple[str, ...], value: Callable[[Any], Any], obj: Any
) -> dict[str, Any]:
    return {name: value(getattr(obj, name)) for name in names}


def _generic_remedy_record(
    names: tuple[str, ...], value: Callable[[Any], Any], obj: Any
) -> dict[str, Any]:
    out = _generic_record(names, value, obj)
    out["remedy"] = str(obj.remedy)
    out["label_en"] = _label(obj.remedy, obj.label_en, 0)
    out["label_zh"] = _label(obj.remedy, obj.label_zh, 1)
    return out


#: The most values one field of a decision's part (a trace entry's ``reason``, a
#: level's ``in_force``), one fact, the amounts or one ``extra`` value may hold, each
#: counted as often as it is held (:func:`~collectrules.model.limits.holds_at_most`):
#: the engine's hold a few hundred at most; a graph of objects where text belongs
#: would be written out whole, one copy per path, exponential in its depth.
_MOST_FIELD_VALUES = 100_000


class _TooManyValues(ValueError):
    """A field of a decision's part holds more than :data:`_MOST_FIELD_VALUES` values:
    the decision's :meth:`~Decision.to_dict` names it (:func:`_crowded`)."""


def _value(value: Any) -> Any:
    """One field's value as ``attrs.asdict`` converts it (see :func:`_record`): text,
    numbers and flat tuples and dicts of them as they are, anything else counted first
    (:func:`~collectrules.model.limits.holds_at_most`, at most
    :data:`_MOST_FIELD_VALUES` steps) and converted only when it holds no more than
    that; else :class:`_TooManyValues`."""
    cls = type(value)
    if cls in _LEAVES:
        return value
    if cls is tuple and _LEAVES.issuperset(map(type, value)):
        return value  # immutable, and equal to the copy attrs.asdict would make
    if (
        isinstance(value, dict)
        and _LEAVES.issuperset(map(type, value))
        and _LEAVES.issuperset(map(type, value.values()))
    ):
        return dict(value)
    if not holds_at_most(value, _MOST_FIELD_VALUES, records=True):
        raise _TooManyValues
    return _converted(value)


def _converted(value: Any) -> Any:
    """One value as ``attrs.asdict`` converts it, inside a field already counted."""
    cls = type(value)
    if cls in _LEAVES:
        return value
    convert = _INNER_CONVERTERS.get(cls)
    if convert is not None:
        return convert(value)
    if cls is tuple:
        if _LEAVES.issuperset(map(type, value)):
            return value  # immutable, and equal to the copy attrs.asdict would make
        return tuple(_converted(i) for i in value)
    if cls is dict:
        if _LEAVES.issuperset(map(type, value)) and _LEAVES.issuperset(map(type, value.values())):
            return dict(value)
        return {_converted(k): _converted(v) for k, v in value.items()}
    if cls is list or cls is set or cls is frozenset:
        return cls(_converted(item) for item in value)
    if attrs.has(cls):
        return _inner_record(value)
    if isinstance(value, dict):
        return {_converted(k): _converted(v) for k, v in value.items()}
    if isinstance(value, tuple | list | set | frozenset):  # a subclass: as attrs does
        return attrs.asdict(_Holder(value))["value"]
    _LEAVES.add(cls)
    return value


@attrs.frozen
class _Holder:
    value: Any


def _written(part: Any, record: Callable[[Any], dict[str, Any]]) -> bytes:
    """The compact JSON of ``part`` (``canonical_json(record(part))`` as UTF-8), kept
    in its slot (:class:`_Written`) once written; ``b""`` when orjson would not write
    it as ``json.dumps`` does, so it is not written apart.

    A part is written apart when every value of its record is text, a flag, None, an
    integer (orjson refuses one past 64 bits: then not), a finite float of magnitude
    0 or at least 1e-4, or a list, tuple or text-keyed dict of those: values orjson
    writes exactly as ``json.dumps`` does. Anything else (text with a lone surrogate,
    a float below 1e-4, another type, a value that holds itself) leaves the part to
    the general way, to the bytes or the error ``json.dumps`` gives.
    """
    kept: bytes | None = part._written
    if kept is None:
        kept = b""
        try:
            data = record(part)
        except (RecursionError, _TooManyValues):  # a value holding itself, or too much
            object.__setattr__(part, "_written", kept)
            return kept
        if all(map(_writes_alike, data.values())):
            try:
                kept = orjson.dumps(data, option=_ORJSON_OPTIONS)
            except TypeError:  # a lone surrogate, an integer past 64 bits
                kept = b""
        object.__setattr__(part, "_written", kept)
    return kept


def _writes_alike(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as ``json.dumps`` does (see
    :func:`_written`; text and integers are checked by orjson itself)."""
    cls = type(value)
    if cls is str or cls is bool or cls is int or value is None:
        return True
    if cls is tuple or cls is list:
        return all(map(_writes_alike, value))
    if cls is float:
        return math.isfinite(value) and (value == 0 or not -1e-4 < value < 1e-4)
    if cls is dict:
        return all(type(k) is str for k in value) and all(map(_writes_alike, value.values()))
    return False


def _part_json(part: Any, record: Callable[[Any], dict[str, Any]]) -> Any:
    """One part for orjson: its fragment when written apart, else its record."""
    written = part._written or _written(part, record)
    return orjson.Fragment(written) if written else _plain(record(part))


def _parts_bytes(parts: tuple[Any, ...], record: Callable[[Any], dict[str, Any]]) -> bytes:
    """A list of parts as one JSON array, when each part is written apart
    (:func:`_written`), else ``b""``."""
    if not parts:
        return b"[]"
    written = [part._written or _written(part, record) for part in parts]
    if all(written):
        return b"[" + b",".join(written) + b"]"
    return b""


def _parts_json(parts: tuple[Any, ...], record: Callable[[Any], dict[str, Any]]) -> Any:
    """A list of parts for orjson: one ``orjson.Fragment`` of the whole list when each
    part is written apart (:func:`_written`), else each part as its fragment or its
    record."""
    if not parts:
        return []
    written = [part._written or _written(part, record) for part in parts]
    if all(written):
        return orjson.Fragment(b"[" + b",".join(written) + b"]")
    return [
        orjson.Fragment(w) if w else _plain(record(part))
        for part, w in zip(parts, written, strict=True)
    ]


def _facts_bytes(facts: Mapping[str, Any]) -> bytes | None:
    """The facts as orjson writes them, when that is what ``json.dumps`` writes: None
    when they hold a value of another type than JSON's own (:func:`_foreign`), or when
    the bytes may hold a float below 1e-4 (:func:`_few_signs_may_hold_small_float`: a
    scan of the bytes costs a third of a walk over the values). Facts that are all
    text, integers, flags and None (a case's usually are) hold no float: their bytes
    are not scanned."""
    plain = facts if type(facts) is dict else dict(facts)
    if _FLAT.issuperset(map(type, plain.values())):
        return orjson.dumps(plain, option=_ORJSON_OPTIONS)
    if not _JSON_LEAVES.issuperset(map(type, plain.values())) and (
        not _holds_few(plain) or _foreign(plain)
    ):
        return None
    out = orjson.dumps(plain, option=_ORJSON_OPTIONS)
    if _few_signs_may_hold_small_float(out) or (b"null" in out and _holds_small_float(facts)):
        return None
    return out


def _holds_few(data: Mapping[str, Any]) -> bool:
    """Whether each value of ``data`` (the facts, the amounts, ``extra``) holds at most
    :data:`_MOST_FIELD_VALUES` values (:func:`~collectrules.model.limits.holds_at_most`):
    without a walk when all are JSON's own text, numbers, flags and None. Data that is
    no mapping is left to the writers, which refuse it as before."""
    if type(data) is not dict and not isinstance(data, Mapping):
        return True
    values = data.values()
    if _JSON_LEAVES.issuperset(map(type, values)):
        return True
    for value in values:
        kind = type(value)
        if kind in _JSON_LEAVES:
            continue
        if (  # a flat dict (a batch's ``input``): counted without a walk
            kind is dict
            and len(value) <= _MOST_FIELD_VALUES // 2
            and _JSON_LEAVES.issuperset(map(type, value))
            and _JSON_LEAVES.issuperset(map(type, value.values()))
        ):
            continue
        if not holds_at_most(value, _MOST_FIELD_VALUES):
            return False
    return True


def _crowded(decision: Decision, extra: Mapping[str, Any] | None) -> UnwritableError:
    """The :class:`UnwritableError` naming the first field of ``decision`` (or value of
    ``extra``) that holds more than :data:`_MOST_FIELD_VALUES` values: each part's
    fields are counted as :func:`_record` converts them, each fact, amount and
    ``extra`` value as it is written; every count stops at the bound."""
    parts: list[tuple[str, Any]] = [("policy", decision.policy)]
    levels = decision.levels
    parts += [(f"levels.{name}", levels[name]) for name in sorted(levels, key=str)]
    for name in ("allowed", "blocked", "trace", "regulatory", "buckets"):
        parts += [(f"{name}[{i}]", part) for i, part in enumerate(getattr(decision, name))]
    places = [
        (f"{path}.{field.name}", getattr(part, field.name), True)
        for path, part in parts
        if attrs.has(type(part))
        for field in attrs.fields(type(part))
    ]
    for prefix, data in (("facts.", decision.facts), ("amounts.", decision.amounts), ("", extra)):
        places += [(f"{prefix}{key}", value, False) for key, value in (data or {}).items()]
    found = next(
        (
            (path, value, records)
            for path, value, records in places
            if not holds_at_most(value, _MOST_FIELD_VALUES, records=records)
        ),
        ("decision", None, False),
    )
    loop = _loop_in(*found)
    if loop is not None:
        problem = FieldProblem(loop, "a container that holds itself")
    else:
        msg = (
            f"holds more than {_MOST_FIELD_VALUES:,} values, each counted as often as it "
            "is held: expected text, a number or plain data of a decision's size"
        )
        problem = FieldProblem(found[0], msg)
    return UnwritableError([problem], subject="the decision's JSON")


def _loop_in(path: str, value: Any, records: bool) -> str | None:
    """The path of the first container (or, with ``records``, attrs instance) that
    ``value`` holds inside itself, found in one walk over each distinct container;
    None when there is none."""
    stack: list[tuple[Any, str, bool]] = [(value, path, False)]
    inside: set[int] = set()
    seen: set[int] = set()
    while stack:
        item, where, leaving = stack.pop()
        if leaving:
            inside.discard(id(item))
            continue
        if id(item) in inside:
            return where
        if id(item) in seen or isinstance(item, str):
            continue
        if isinstance(item, Mapping):
            children = [(v, f"{where}.{k}") for k, v in item.items()]
        elif isinstance(item, list | tuple):
            children = [(v, f"{where}[{i}]") for i, v in enumerate(item)]
        elif records and attrs.has(type(item)):
            names = [f.name for f in attrs.fields(type(item))]
            children = [(getattr(item, n), f"{where}.{n}") for n in names]
        else:
            continue
        seen.add(id(item))
        inside.add(id(item))
        stack.append((item, where, True))
        stack.extend((child, at, False) for child, at in reversed(children))
    return None


def _joined_extra(chunks: list[bytes], extra: Mapping[str, Any]) -> bool:
    """Put each of ``extra``'s keys and values into ``chunks`` (each key after a
    comma, then its value, in the keys' sorted order; see :meth:`Decision._joined`) in
    its sorted place; false when a key is not plain text or a value may be written
    unlike ``json.dumps`` (:func:`_rest_bytes`)."""
    names = [_KEY_NAMES[key] for key in chunks[0::2]]
    for name in sorted(extra):
        if type(name) is not str:
            return False
        value = _rest_bytes(extra[name])
        if value is None:
            return False
        at = bisect.bisect(names, name)
        names.insert(at, name)
        chunks[2 * at : 2 * at] = (b"," + orjson.dumps(name) + b":", value)
    return True


def _rest_bytes(value: Any) -> bytes | None:
    """``value`` as orjson writes it, when that is what ``json.dumps`` writes: None when
    it holds a float orjson writes otherwise (:func:`_holds_small_float`); a value of
    another type than JSON's own is :class:`_ForeignValue`."""
    if _holds_small_float(_plain(value)):
        return None
    return orjson.dumps(value, option=_ORJSON_OPTIONS)


_FLAT = frozenset({str, int, bool, type(None)})
"""JSON's own types that neither are nor hold a float."""

_QUADRANT_BYTES = {
    q: orjson.dumps(
        {"value": q.value, "label_en": q.label_en, "label_zh": q.label_zh},
        option=orjson.OPT_SORT_KEYS,
    )
    for q in Quadrant
}
_QUADRANT_JSON = {q: orjson.Fragment(written) for q, written in _QUADRANT_BYTES.items()}
_SCHEMA_VERSION_BYTES = orjson.dumps(SCHEMA_VERSION)
#: Each top-level key by the way :meth:`Decision._joined` writes it, after a comma.
_KEY_NAMES = {b"," + orjson.dumps(key) + b":": key for key in _TOP_KEYS}


def _holds_small_float(value: Any) -> bool:
    """Whether ``value`` holds, in a dict, list or tuple, a float whose magnitude is
    below 1e-4 but not zero, or that is not finite: one that orjson writes unlike
    ``json.dumps`` (orjson writes NaN and infinities as ``null``; the decision's JSON
    refuses them)."""
    cls = type(value)
    if cls is float or (cls not in _NO_FLOAT and isinstance(value, float)):
        return bool((value != 0 and -1e-4 < value < 1e-4) or value - value != 0)
    if cls is dict or (cls not in _NO_FLOAT and isinstance(value, dict)):
        items = value.values()
    elif cls is list or cls is tuple or isinstance(value, list | tuple):
        items = value
    else:
        return False
    if _NO_FLOAT.issuperset(map(type, items)):  # no float and no container in it
        return False
    for item in items:  # floats, and containers of plain items, checked without a call
        kind = type(item)
        if kind in _NO_FLOAT:
            continue
        if kind is float:
            if (item != 0 and -1e-4 < item < 1e-4) or item - item != 0:  # or not finite
                return True
            continue
        if kind is tuple or kind is list:
            if _NO_FLOAT.issuperset(map(type, item)):
                continue
        elif kind is dict and _NO_FLOAT.issuperset(map(type, item.values())):
            continue
        if _holds_small_float(item):
            return True
    return False


_NO_FLOAT = frozenset({str, int, bool, type(None), orjson.Fragment})
"""Types that neither are nor hold a float."""

_JSON_LEAVES = frozenset({str, int, float, bool, type(None)})
"""The types of JSON's own values that hold no other value."""


def _foreign(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is or holds, in a dict, list or tuple, a value of another type
    than JSON's own: text, a number, a flag, None.

    orjson writes some values that ``json.dumps`` refuses (a ``uuid.UUID``, an enum
    member that is not text or a number, an ``orjson.Fragment``), and a subclass of a
    JSON type as it likes: such data is left to ``json.dumps``, which writes it or
    refuses it. Plain data, as a decision's is, is told apart in one pass over each
    container's types. Data nested past :data:`_DEEPEST` is left to ``json.dumps`` too.
    """
    cls = type(value)
    if cls is dict:  # its keys orjson checks itself: it refuses any but plain text
        items: Any = value.values()
    elif cls is list or cls is tuple:
        items = value
    else:
        return cls not in _JSON_LEAVES
    if _JSON_LEAVES.issuperset(map(type, items)):
        return False
    if depth >= _DEEPEST:
        return True
    for item in items:  # noqa: SIM110 - a loop, not any(): no generator made per call
        if type(item) not in _JSON_LEAVES and _foreign(item, depth + 1):
            return True
    return False


class _ForeignValue(TypeError):
    """A part of a decision holds a value of another type than JSON's own: the
    decision is written the general way (:meth:`Decision._compact`)."""


def _plain(value: Any) -> Any:
    """``value`` when it holds only JSON's own types (:func:`_foreign`), else
    :class:`_ForeignValue`."""
    if _foreign(value):
        raise _ForeignValue(type(value).__name__)
    return value


_DIGITS = frozenset(b"0123456789")


def _may_hold_small_float(out: bytes) -> bool:
    """Whether ``out`` has ``0.0000`` or a digit, ``e-`` and a digit (a plain scan)."""
    if b"0.0000" in out:
        return True
    at = out.find(b"e-")
    while at != -1:
        if 0 < at < len(out) - 2 and out[at - 1] in _DIGITS and out[at + 2] in _DIGITS:
            return True
        at = out.find(b"e-", at + 2)
    return False


def _few_signs_may_hold_small_float(out: bytes) -> bool:
    """:func:`_may_hold_small_float`, by single-byte searches: each ``-`` and each
    ``.`` is looked at. Several times faster on text with few of them (the facts:
    dates, money, few words) and slower on text with many (reasons, rule ids)."""
    find = out.find
    at = find(b"-")
    while at != -1:
        if (
            at > 1
            and out[at - 1] == 0x65
            and out[at - 2] in _DIGITS
            and out[at + 1 : at + 2] in _DIGIT_BYTES
        ):
            return True
        at = find(b"-", at + 1)
    at = find(b".")
    while at != -1:
        if at and out[at - 1] == 0x30 and out[at + 1 : at + 5] == b"0000":
            return True
        at = find(b".", at + 1)
    return False


_DIGIT_BYTES = frozenset(bytes([d]) for d in b"0123456789")


def _unwritable(
    decision: Decision, extra: Mapping[str, Any] | None, error: Exception, *, utf8: bool
) -> Exception:
    """What :meth:`Decision.to_json` (``utf8`` false) or ``to_json_bytes`` raises for
    ``error``: an :class:`UnwritableError` at the first value of the decision's JSON
    that cannot be written, or ``error`` itself when no value is at fault."""
    if isinstance(error, UnwritableError):  # named already (a field holding too much)
        return error
    for name in ("levels", "facts", "amounts"):  # keys the record sorts
        keys = getattr(decision, name, None)
        if isinstance(keys, Mapping) and not all(isinstance(key, str) for key in keys):
            odd = next(key for key in keys if not isinstance(key, str))
            problem = FieldProblem(name, f"a key that is not text: {quote(odd)}")
            return UnwritableError([problem], subject="the decision's JSON")
    try:
        data = decision.to_dict()
        if extra:
            data.update(extra)
        found = _first_unwritable(data, utf8=utf8, deep=isinstance(error, RecursionError))
    except (TypeError, ValueError, RecursionError):  # the record itself cannot be read
        return error
    if found is None:
        return error
    path, what = found
    return UnwritableError([FieldProblem(path, what)], subject="the decision's JSON")


#: How deep a value may nest before it is named as the cause of a ``RecursionError``.
_DEEPEST = 200


def _first_unwritable(data: Any, *, utf8: bool, deep: bool) -> tuple[str, str] | None:
    """The path of the first value in ``data`` that JSON cannot hold (written as the
    decision's JSON is: keys sorted, floats finite, and as UTF-8 when ``utf8``), and
    what is wrong with it; ``deep`` also names a value nested past :data:`_DEEPEST`."""
    stack: list[tuple[str, Any, tuple[int, ...]]] = [("", data, ())]
    while stack:
        path, value, above = stack.pop()
        cls = type(value)
        if value is None or cls is bool or cls is str:
            if utf8 and cls is str and not _encodes(value):
                return path, "text UTF-8 cannot hold (a lone surrogate)"
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return path, f"{quote(value)}; JSON has no form for a number that is not finite"
            limit = sys.get_int_max_str_digits()
            if isinstance(value, int) and limit and value.bit_length() > limit * 3.32:
                return path, f"an integer of more than {limit:,} digits, too long to write"
            continue
        if id(value) in above:
            return path, "a container that holds itself"
        if deep and len(above) >= _DEEPEST:
            return path, f"nested more than {_DEEPEST} deep"
        inner = (*above, id(value))
        if isinstance(value, dict):
            keys = list(value)
            if not all(isinstance(k, str) for k in keys):
                odd = next(k for k in keys if not isinstance(k, str))
                return path, f"a key that is not text: {quote(odd)}"
            if utf8 and not all(map(_encodes, keys)):
                odd = next(k for k in keys if not _encodes(k))
                return path, f"a key UTF-8 cannot hold (a lone surrogate): {quote(odd)}"
            for key in sorted(keys, reverse=True):
                stack.append((f"{path}.{key}" if path else key, value[key], inner))
        elif isinstance(value, list | tuple):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{path}[{index}]", value[index], inner))
        elif isinstance(value, str):
            continue
        else:
            return path, f"a value of type {cls.__name__}; JSON has no form for it"
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def canonical_json(data: dict[str, Any]) -> str:
    """``data`` as the compact decision JSON: sorted keys, no ASCII escaping.

    The bytes of ``json.dumps(data, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"), allow_nan=False)``, written by orjson wherever that gives the
    same bytes; a value JSON has no form for (NaN and the infinities among them) is
    ``json.dumps``' ``TypeError`` or ``ValueError``.
    """
    fast = _fast_json(data)
    if fast is not None:
        return fast
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
"""Sorted keys; datetimes and dataclasses refused, as ``json.dumps`` refuses them."""


def _fast_json(data: dict[str, Any]) -> str | None:
    """``data`` as compact, key-sorted JSON by orjson, when it gives ``json.dumps``' bytes.

    orjson writes every string, integer and dict exactly as ``json.dumps(...,
    sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` does (keys sorted by code
    point, non-ASCII text as UTF-8, the same escapes), and floats alike except below
    1e-4, where Python writes ``1e-05`` and orjson ``0.00001``. Output that may hold such
    a number (a digit, ``e-`` and a digit, or ``0.0000``, even inside a string), and
    anything orjson refuses (integers past 64 bits, lone surrogates, keys that are not
    plain strings, datetimes, dataclasses and other types that ``json.dumps`` refuses
    too), goes back to ``json.dumps``: None. So does data holding a value of another
    type than JSON's own (:func:`_foreign`), which orjson may write where ``json.dumps``
    refuses it (a UUID, an enum member, an ``orjson.Fragment``).
    """
    if _foreign(data):
        return None
    try:
        out = orjson.dumps(data, option=_ORJSON_OPTIONS)
    except TypeError:
        return None
    if _may_hold_small_float(out) or (b"null" in out and _holds_small_float(data)):
        return None
    return out.decode("utf-8")
