"""Delinquency buckets: dpd ranges with treatments, and a case's bucket history.

A policy's ``[buckets]`` section holds bucket sets, one table per set, keyed by the
set's id. Each set lists ``ranges``: ``min_dpd`` to ``max_dpd``, both included, as in
Fineract's delinquency ranges. A set is validated when the policy loads: every range
has ``min_dpd <= max_dpd``; ranges neither overlap nor leave a gap; and the last range
is open-ended (no ``max_dpd``), so that every dpd from the first range on has a bucket.
A dpd below the first range is the set's ``current`` value (``"current"`` unless the set
names another). Each set gives a fact (``bucket``, ``npl_bucket`` …) that remedy rules
can read, and each decision reports the bucket of every set with its treatments. A set
may list the ``products`` it applies to (default: all): a case of another product has
no bucket in it, and its fact is absent.

:func:`bucket_history` follows a case over a sequence of ``as_of`` instants and reports
which buckets it entered and left. Days past due at each instant come from the case and
its payment events, read as the rest of the product reads them: the case's
``overdue_amount`` is the amount overdue at the instant the case is read at (``as_of``
for a decision; for a history, the latest of its instants, or ``recorded_at``), after
the payments made up to then, so before a payment more was overdue, and a payment
recorded after that instant is not read. A case whose arrears are paid in full is
current from the instant of the payment that cleared them. The bucket a history gives
at the instant the case is read at is the bucket a decision at that instant gives.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pendulum

from collectrules._decimal import exact
from collectrules.compliance._packs import Figure, PackReader
from collectrules.conditions import FieldSpec, FieldType, Scalar
from collectrules.errors import FieldProblem, InputError, PolicyError, did_you_mean, quote
from collectrules.model.case import STANDARD_PRODUCTS, Case, EventKind
from collectrules.model.decision import BucketResult, Firing
from collectrules.model.remedies import remedy_name
from collectrules.model.time import require_aware, require_case
from collectrules.policy import Policy, base_fields, load_policy
from collectrules.policy.section import SectionLoader

__all__ = [
    "RANGE_KEYS",
    "SET_KEYS",
    "Bucket",
    "BucketHistory",
    "BucketObservation",
    "BucketSet",
    "BucketSpan",
    "BucketsSection",
    "bucket_history",
    "buckets_of",
    "classify",
    "dpd_at",
    "extra_facts",
    "firing",
    "parse_section",
]


@attrs.frozen
class Bucket:
    """One dpd range, both ends included; ``max_dpd`` is ``None`` for the open last one."""

    id: str
    label: str
    min_dpd: Figure
    max_dpd: Figure | None
    treatments: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    doc: str = ""

    def contains(self, dpd: int) -> bool:
        """Whether ``dpd`` falls in the range."""
        if dpd < self.min_dpd.as_int:
            return False
        return self.max_dpd is None or dpd <= self.max_dpd.as_int

    def describe(self) -> str:
        """``31–60 dpd`` or ``181+ dpd``."""
        if self.max_dpd is None:
            return f"{self.min_dpd}+ dpd"
        return f"{self.min_dpd}–{self.max_dpd} dpd"


@attrs.frozen
class BucketSet:
    """A validated set of contiguous dpd ranges, the last one open-ended."""

    id: str
    title: str
    fact: str
    buckets: tuple[Bucket, ...]
    current: str = "current"
    current_label: str = "not overdue"
    cites: tuple[str, ...] = ()
    chosen: bool = False
    doc: str = ""
    products: tuple[str, ...] = ()

    def applies_to(self, product: object) -> bool:
        """Whether cases of ``product`` have a bucket in this set."""
        return not self.products or str(product) in self.products

    @property
    def values(self) -> tuple[str, ...]:
        """Every value the set's fact can take, from ``current`` to the open bucket."""
        return (self.current, *(b.id for b in self.buckets))

    def bucket_for(self, dpd: int) -> Bucket | None:
        """The bucket of ``dpd``; ``None`` below the first range (current)."""
        for bucket in self.buckets:
            if bucket.contains(dpd):
                return bucket
        return None

    def value_for(self, dpd: int) -> str:
        """The bucket id of ``dpd``, or the set's ``current`` value."""
        bucket = self.bucket_for(dpd)
        return self.current if bucket is None else bucket.id

    def result(self, dpd: int) -> BucketResult:
        """The decision's record of the bucket of ``dpd``."""
        bucket = self.bucket_for(dpd)
        if bucket is None:
            return BucketResult(self.id, self.current, self.current_label, (), self.cites)
        return BucketResult(
            bucket_set=self.id,
            bucket=bucket.id,
            label=bucket.label,
            treatments=tuple(map(str, bucket.treatments)),
            cites=bucket.cites or self.cites,
        )


@attrs.frozen
class BucketsSection:
    """The parsed ``[buckets]`` section: the bucket sets, in the policy's order."""

    sets: tuple[BucketSet, ...]
    parameters: frozenset[str] = frozenset()

    def set(self, set_id: str | None = None) -> BucketSet:
        """The set with this id; with none, the only set (an error when there are several)."""
        if set_id is None and len(self.sets) == 1:
            return self.sets[0]
        for bucket_set in self.sets:
            if bucket_set.id == set_id:
                return bucket_set
        known = [s.id for s in self.sets]
        msg = (
            f"no bucket set {quote(set_id)}; the policy has {', '.join(known) or 'none'}"
            if set_id is not None
            else f"the policy has several bucket sets ({', '.join(known)}); name one"
        )
        raise InputError([FieldProblem("bucket_set", msg, suggestion=_suggestion(set_id, known))])

    def fields(self, products: Iterable[str] = STANDARD_PRODUCTS) -> dict[str, FieldSpec]:
        """The fact fields the sets add, one enum per set; a field is optional when some
        product of ``products`` (the policy's catalogue) is outside its set."""
        every = [str(p) for p in products]
        return {
            s.fact: FieldSpec(
                s.fact,
                FieldType.ENUM,
                f"bucket of set {s.id}",
                choices=s.values,
                optional=not all(s.applies_to(p) for p in every),
            )
            for s in self.sets
        }

    def facts(self, dpd: int, product: object = None) -> dict[str, Scalar]:
        """Each set's bucket at ``dpd``, by fact name: every set, or with ``product``
        only the sets that apply to it."""
        return {
            s.fact: s.value_for(dpd) for s in self.sets if product is None or s.applies_to(product)
        }

    def results(self, dpd: int, product: object = None) -> tuple[BucketResult, ...]:
        """Each set's bucket at ``dpd``, for the decision: every set, or with
        ``product`` only the sets that apply to it."""
        return tuple(s.result(dpd) for s in self.sets if product is None or s.applies_to(product))


# --------------------------------------------------------------------------- parsing

#: The keys of a bucket set.
SET_KEYS = (
    "title",
    "fact",
    "ranges",
    "current",
    "current_label",
    "cites",
    "chosen",
    "doc",
    "enabled",
    "products",
)
#: The keys of a range of a bucket set.
RANGE_KEYS = ("id", "label", "min_dpd", "max_dpd", "treatments", "cites", "doc")


def _suggestion(set_id: object, known: list[str]) -> str | None:
    """The known set id closest to ``set_id``, when that is text."""
    return did_you_mean(set_id, known) if isinstance(set_id, str) else None


def parse_section(
    raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[BucketsSection, dict[str, FieldSpec]]:
    """Parse ``[buckets]``: one table per bucket set, keyed by the set's id."""

    reader = PackReader(loader, params)
    sets: list[BucketSet] = []
    facts: dict[str, str] = {}
    base = base_fields()
    for set_id, body, path in reader.enabled_tables(raw, "buckets", "a bucket set id"):
        parsed = _parse_set(set_id, body, path, reader)
        if parsed is None:
            continue
        if parsed.fact in base:
            reader.fail(
                f"{path}.fact", f"{quote(parsed.fact)} is already a fact field of every case"
            )
        elif parsed.fact in facts:
            reader.fail(
                f"{path}.fact",
                f"set {quote(facts[parsed.fact])} already gives the fact {quote(parsed.fact)}",
            )
        facts[parsed.fact] = set_id
        sets.append(parsed)
    section = BucketsSection(tuple(sets), frozenset(reader.used))
    return section, section.fields(str(p) for p in reader.products)


def _parse_set(
    set_id: str, body: Mapping[str, Any], path: str, reader: PackReader
) -> BucketSet | None:
    mark = reader.failures
    reader.keys(body, SET_KEYS, path)
    fact = reader.name(body, "fact", path)
    products = reader.choices(body, "products", path, [str(p) for p in reader.products], default=())
    if body.get("products") == []:
        reader.fail(f"{path}.products", "expected at least one product; leave the key out for all")
    current = reader.string(body, "current", path, default="current")
    raw_ranges = body.get("ranges")
    if not isinstance(raw_ranges, list) or not raw_ranges:
        reader.fail(f"{path}.ranges", "expected at least one range: [[buckets.<set>.ranges]]")
        raw_ranges = []
    known_remedies = [str(r) for r in reader.remedies]
    buckets: list[tuple[Bucket, str]] = []
    seen: set[str] = {current}
    for i, item in enumerate(raw_ranges):
        rtable = reader.table(item, f"{path}.ranges[{i}]")
        if rtable is None:
            continue
        bid = reader.string(rtable, "id", f"{path}.ranges[{i}]")
        rpath = f"{path}.ranges[{bid or i}]"
        reader.keys(rtable, RANGE_KEYS, rpath, rule_id=bid or None)
        if bid in seen:
            reader.fail(f"{rpath}.id", f"duplicate bucket id {quote(bid)}", rule_id=bid or None)
        seen.add(bid)
        low = reader.figure(
            rtable.get("min_dpd"),
            f"{rpath}.min_dpd",
            kind="int",
            minimum=0,
            rule_id=bid or None,
            key="min_dpd",
        )
        high = None
        if "max_dpd" in rtable:
            high = reader.figure(
                rtable["max_dpd"],
                f"{rpath}.max_dpd",
                kind="int",
                minimum=0,
                rule_id=bid or None,
                key="max_dpd",
            )
            if high is None:
                continue
        if low is None:
            continue
        if high is not None and low.as_int > high.as_int:
            reader.fail(
                rpath,
                f"min_dpd {low.as_int} is greater than max_dpd {high.as_int}",
                rule_id=bid or None,
            )
        treatments: list[str] = []
        for name in reader.texts(rtable, "treatments", rpath, rule_id=bid or None):
            if name in reader.remedies:
                treatments.append(remedy_name(name))
            else:
                reader.fail(
                    f"{rpath}.treatments",
                    f"unknown remedy {quote(name)}",
                    rule_id=bid or None,
                    key="treatments",
                    suggestion=did_you_mean(name, known_remedies),
                )
        bucket = Bucket(
            id=bid,
            label=reader.string(rtable, "label", rpath, default=bid, rule_id=bid or None),
            min_dpd=low,
            max_dpd=high,
            treatments=tuple(treatments),
            cites=reader.texts(rtable, "cites", rpath, rule_id=bid or None),
            doc=reader.string(rtable, "doc", rpath, default=""),
        )
        buckets.append((bucket, rpath))
    ordered = sorted(buckets, key=lambda b: b[0].min_dpd.as_int)
    for (prev, _), (nxt, npath) in itertools.pairwise(ordered):
        if prev.max_dpd is None:
            reader.fail(
                npath,
                f"bucket {quote(prev.id)} is open-ended ({prev.describe()}), so "
                f"{quote(nxt.id)} overlaps it; only the last range may be open-ended",
                rule_id=nxt.id or None,
            )
        elif nxt.min_dpd.as_int <= prev.max_dpd.as_int:
            reader.fail(
                npath,
                (
                    f"bucket {quote(nxt.id)} ({nxt.describe()}) "
                    f"overlaps {quote(prev.id)} ({prev.describe()})"
                ),
                rule_id=nxt.id or None,
            )
        elif nxt.min_dpd.as_int > prev.max_dpd.as_int + 1:
            reader.fail(
                npath,
                f"gap between {quote(prev.id)} ({prev.describe()}) and {quote(nxt.id)} "
                f"({nxt.describe()}): dpd {prev.max_dpd.as_int + 1} falls in no "
                "bucket",
                rule_id=nxt.id or None,
            )
    if ordered and ordered[-1][0].max_dpd is not None:
        last, lpath = ordered[-1]
        reader.fail(
            f"{lpath}.max_dpd",
            f"the last range {quote(last.id)} must be open-ended: remove its max_dpd",
            rule_id=last.id or None,
        )
    if reader.failures > mark:
        return None
    return BucketSet(
        id=set_id,
        title=reader.string(body, "title", path, default=set_id),
        fact=fact,
        buckets=tuple(b for b, _ in ordered),
        current=current,
        current_label=reader.string(body, "current_label", path, default="not overdue"),
        cites=reader.texts(body, "cites", path),
        chosen=reader.flag(body, "chosen", path, default=False),
        doc=reader.string(body, "doc", path, default=""),
        products=products,
    )


# --------------------------------------------------------------------------- decisions


def buckets_of(policy: Policy) -> BucketsSection | None:
    """The policy's parsed ``[buckets]`` section, if it has one."""
    section = policy.sections.get("buckets")
    return section if isinstance(section, BucketsSection) else None


def extra_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The bucket facts (``bucket``, ``npl_bucket`` …) of ``case`` at ``as_of``."""
    section = buckets_of(policy)
    if section is None:
        return {}
    return section.facts(_dpd(case, as_of, facts), case.product)


def classify(
    case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
) -> tuple[BucketResult, ...]:
    """The decision's bucket of ``case`` in each of the policy's sets."""
    section = buckets_of(policy)
    if section is None:
        return ()
    return section.results(_dpd(case, as_of, facts), case.product)


def firing(result: BucketResult) -> Firing:
    """The trace entry of one bucket result."""
    treatments = f"; treatments: {', '.join(result.treatments)}" if result.treatments else ""
    return Firing(
        f"{result.bucket_set}:{result.bucket}",
        "buckets",
        f"{result.bucket_set}: bucket = {result.bucket}",
        f"{result.label}{treatments}",
        result.cites,
        "",
    )


def _dpd(case: Case, as_of: pendulum.DateTime, facts: Mapping[str, Any]) -> int:
    dpd = facts.get("dpd")
    if isinstance(dpd, int) and not isinstance(dpd, bool):
        return dpd
    return dpd_at(case, as_of)


# --------------------------------------------------------------------------- history


@exact
def dpd_at(
    case: Case, as_of: dt.datetime | str, *, recorded_at: dt.datetime | str | None = None
) -> int:
    """Days past due at ``as_of``, from the case and its payment events.

    The case's ``overdue_amount`` is what is overdue at ``recorded_at`` (default:
    ``as_of``, as a decision at ``as_of`` reads it), after every payment made up to then;
    at an earlier ``as_of``, the payments made after it and up to ``recorded_at`` were
    still owed. A payment after ``recorded_at`` is not read. Nothing owed gives 0;
    otherwise days are counted from ``due_date`` in the case's zone. A ``recorded_at``
    before ``as_of`` is an :class:`~collectrules.errors.InputError`: what was overdue
    after the case was recorded is not known.
    """

    require_case(case)
    when = require_aware(as_of)
    read = when if recorded_at is None else _recorded(recorded_at, when)
    return _Arrears(case, read).dpd(when)


def _recorded(recorded_at: dt.datetime | str, latest: dt.datetime) -> pendulum.DateTime:
    """``recorded_at``, checked: aware, and not before ``latest`` (the last instant read)."""
    try:
        read = require_aware(recorded_at)
    except InputError as exc:
        problems = [attrs.evolve(p, path="recorded_at") for p in exc.problems]
        raise InputError(problems) from None
    if read < latest:
        msg = (
            f"the case is read as recorded at {read.isoformat()}, before the as_of instant "
            f"{pendulum.instance(latest).isoformat()}: what was overdue after it is not "
            "known; give a recorded_at at or after every as_of"
        )
        raise InputError([FieldProblem("recorded_at", msg)])
    return read


class _Arrears:
    """What was overdue at any instant up to ``recorded_at``, as :func:`dpd_at` counts
    it, for many instants.

    The payments up to ``recorded_at`` are sorted once, with the sum of those at and
    after each one, so that each instant costs a search of them rather than a pass over
    every event.
    """

    @exact
    def __init__(self, case: Case, recorded_at: dt.datetime) -> None:
        payments = sorted(
            (
                (e.at, e.amount)
                for e in case.events
                if e.kind is EventKind.PAYMENT and e.amount is not None and e.at <= recorded_at
            ),
            key=lambda p: p[0],
        )
        self.case = case
        self.instants = [at for at, _ in payments]
        self.paid_from = list(
            itertools.accumulate(
                (amount for _, amount in reversed(payments)),
                initial=Decimal(0),
            )
        )[::-1]

    @exact
    def dpd(self, when: dt.datetime) -> int:
        """Days past due at ``when`` (at or before ``recorded_at``): as
        ``dpd_at(case, when, recorded_at=recorded_at)``."""
        later = self.paid_from[bisect.bisect_right(self.instants, when)]
        if self.case.overdue_amount + later <= 0:
            return 0
        return max(0, (self.case.local_date(when) - self.case.due_date).days)


#: The most ``as_of`` instants :func:`bucket_history` reads: one a day for 27 years,
#: or one an hour for a year.
MAX_INSTANTS = 10_000


@attrs.frozen
class BucketObservation:
    """A case's days past due and bucket at one ``as_of``."""

    as_of: pendulum.DateTime
    dpd: int
    bucket: str


@attrs.frozen
class BucketSpan:
    """A stay in one bucket: first seen at ``entered``, first seen elsewhere at ``left``.

    ``left`` is ``None`` when the case was still in the bucket at the last ``as_of``.
    """

    bucket: str
    label: str
    entered: pendulum.DateTime
    left: pendulum.DateTime | None


@attrs.frozen
class BucketHistory:
    """The buckets a case entered and left over a sequence of ``as_of`` instants."""

    case_id: str
    bucket_set: str
    observations: tuple[BucketObservation, ...]
    spans: tuple[BucketSpan, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, instants as ISO 8601 strings."""
        return {
            "case_id": self.case_id,
            "bucket_set": self.bucket_set,
            "observations": [
                {"as_of": o.as_of.isoformat(), "dpd": o.dpd, "bucket": o.bucket}
                for o in self.observations
            ],
            "spans": [
                {
                    "bucket": s.bucket,
                    "label": s.label,
                    "entered": s.entered.isoformat(),
                    "left": s.left.isoformat() if s.left is not None else None,
                }
                for s in self.spans
            ],
        }

    def to_json(self) -> str:
        """Deterministic JSON."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def bucket_history(
    case: Case,
    as_of: Iterable[dt.datetime | str],
    *,
    policy: Policy | str | Path,
    bucket_set: str | None = None,
    recorded_at: dt.datetime | str | None = None,
) -> BucketHistory:
    """The buckets ``case`` entered and left, observed at each ``as_of`` (sorted first).

    ``policy`` names the bucket sets; ``bucket_set`` picks one when there are several.
    The case is read as recorded at ``recorded_at`` (default: the latest ``as_of``): its
    ``overdue_amount`` is what was overdue then, after the payments made up to then, as
    a decision at that instant reads it; at an earlier instant, the payments made after
    it were still owed (:func:`dpd_at`). A payment after ``recorded_at`` is not read, so
    the bucket observed at ``recorded_at`` is the bucket ``Engine.decide`` gives at it.
    A ``recorded_at`` before an ``as_of`` is an :class:`~collectrules.errors.InputError`.
    """

    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    section = buckets_of(loaded)
    if section is None:
        msg = f"policy {quote(loaded.id)} has no [buckets] section"
        raise PolicyError([FieldProblem("buckets", msg)])
    chosen = section.set(bucket_set)
    require_case(case)
    if not chosen.applies_to(case.product):
        msg = (
            f"bucket set {quote(chosen.id)} applies to {', '.join(chosen.products)} only, "
            f"and the case is a {case.product!s}"
        )
        raise InputError([FieldProblem("product", msg)], subject=f"case {case.case_id}")
    if isinstance(as_of, str | dt.datetime) or not isinstance(as_of, Iterable):
        msg = f"expected a list of as_of instants, got {type(as_of).__name__}"
        raise InputError([FieldProblem("as_of", msg)])
    given = tuple(itertools.islice(as_of, MAX_INSTANTS + 1))
    if len(given) > MAX_INSTANTS:
        msg = f"more than {MAX_INSTANTS:,} as_of instants; at most {MAX_INSTANTS:,}"
        raise InputError([FieldProblem("as_of", msg)])
    instants = sorted({require_aware(a) for a in given})
    if not instants:
        raise InputError([FieldProblem("as_of", "give at least one as_of instant")])
    latest = instants[-1]
    arrears = _Arrears(case, latest if recorded_at is None else _recorded(recorded_at, latest))
    observations = []
    for when in instants:
        dpd = arrears.dpd(when)
        observations.append(BucketObservation(when, dpd, chosen.value_for(dpd)))
    labels = {b.id: b.label for b in chosen.buckets}
    labels[chosen.current] = chosen.current_label
    spans: list[BucketSpan] = []
    start = observations[0]
    for obs in observations[1:]:
        if obs.bucket != start.bucket:
            spans.append(BucketSpan(start.bucket, labels[start.bucket], start.as_of, obs.as_of))
            start = obs
    spans.append(BucketSpan(start.bucket, labels[start.bucket], start.as_of, None))
    return BucketHistory(case.case_id, chosen.id, tuple(observations), tuple(spans))
