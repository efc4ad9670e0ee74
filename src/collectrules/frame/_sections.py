"""The sections' facts, classes, buckets and trace entries, once per distinct key.

The built-in sections compute their facts with per-case Python (the timeline's steps and
deadlines, the regulatory ladders, the bucket sets). For a case with no events and no
guarantors, what they give depends only on a few columns: the product, currency, dates,
zone and flags of the case, the debtor's shares (``debtor_npl_share``,
``debtor_90dpd_share_all_banks``, read by a ladder's cross-default floor), the account's
age and minimum payments as a ``reage`` pack tells them apart (see :class:`ReageKey`),
its days past due, whether anything is owed, the truth of each stage condition of the
timeline, and (for a materiality pack) its amounts. The columnar engine therefore runs
the sections' own code once per distinct value of that *key*, on a case built from the
key, and joins the results back: the Python work grows with the number of distinct keys
(a few thousand in a portfolio), not with the rows. A materiality pack's probation reads
the case's payment events: the key's case has none, and every row with events goes to
the per-case engine, so no probation is ever decided from a key.

A row whose case has events (contact attempts and payments, the kinds the columns
derive facts from) is keyed by its history too: the text of its signals and events
(``__history``), from which the key's case gets them as the per-case engine reads them.
The sections' own code then runs on that case, so what they give (steps completed by a
contact, limitation periods restarted by a payment, guardrails counting calls …) is
exactly the per-case engine's; such keys are rarely shared, and are not remembered
across chunks (:meth:`SectionKeys.evaluate_histories`).

A section this module does not know (a third-party plug-in) has no known key: a policy
with one sends every row to the per-case engine.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import polars as pl

from collectrules._decimal import exact
from collectrules.compliance.regulatory import MaterialityPack, ReagePack, regulation_of
from collectrules.conditions import Condition, FieldSpec, parse
from collectrules.frame._compile import SEPARATOR, condition_expr, dtype_of
from collectrules.frame._inputs import ACCOUNT_FIELDS, SHARE_DIGITS
from collectrules.model.case import SHARE_FIELDS, Case, Product
from collectrules.policy import Policy
from collectrules.timeline.evaluate import promise_rules, timeline_facts
from collectrules.timeline.stages import TimelineSection

__all__ = [
    "HISTORY",
    "KNOWN_SECTIONS",
    "ReageKey",
    "SectionKeys",
    "core_names",
    "reage_key",
    "section_keys",
    "whole_months_expr",
]

#: The sections whose inputs this module knows.
#: The sections whose results on a case without events depend only on the key. The
#: emergencies and assets sections read events alone (an emergency, a contact attempt,
#: an asset found): on such a case they give their constant facts, from the key's case.
KNOWN_SECTIONS = frozenset(
    {"clauses", "timeline", "regulation", "guardrails", "buckets", "money", "emergencies", "assets"}
)

_BASE_KEY = (
    "product",
    "currency",
    "due_date",
    "timezone",
    "maturity_date",
    "sicr_rebutted",
    "default_rebutted",
    *SHARE_FIELDS,
    "dpd",
)

#: The key column of a row's history (its signals and events as JSON text), for a row
#: whose case has events; null for the others.
HISTORY = "__history"
#: The prefix of the sections' event facts (the constants of a case without events) as a
#: case with events gives them.
HISTORY_FACT = "__hfact:"

#: The most keys a run remembers; past it, a new key is evaluated in each chunk it occurs in.
CACHE_LIMIT = 200_000

_PAIRS = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


@attrs.frozen
class ReageKey:
    """What the key holds of an account's ``opened_on`` and
    ``consecutive_minimum_payments`` under a policy with ``reage`` packs.

    A pack passes an account at least ``min_account_months`` whole months old at
    ``as_of`` (in the case's zone) and one with at least ``min_payments`` payments; it
    tells no two ages (counts) apart on the same side of its figure. So the key holds the
    age clipped to ``months`` (from one below the lowest figure of the packs to the
    highest) as an opening date of that age (:func:`reage_key`), and the payments
    clipped to ``payments``: a handful of keys, whatever the dates of a book. The pack's
    reason text, which names the date, the age and the payments, is then that of the
    key's case, not the row's: ``exact`` (the reason fact is read by a layer, remedy or
    stage condition, which the columns evaluate) keys the values themselves instead.
    Rows of a product no pack assesses key neither (both null)."""

    #: The products some pack assesses; None: every product.
    products: frozenset[str] | None
    months: tuple[int, int]
    payments: tuple[int, int]
    exact: bool


def reage_key(policy: Policy) -> ReageKey | None:
    """The :class:`ReageKey` of ``policy``; None when it has no ``reage`` pack (the key
    then holds neither field)."""
    regulation = regulation_of(policy)
    packs = [] if regulation is None else [p for p in regulation.packs if isinstance(p, ReagePack)]
    if not packs:
        return None
    products = (
        None
        if any(not p.products for p in packs)
        else frozenset(product for p in packs for product in p.products)
    )
    months = [p.min_account_months.as_int for p in packs]
    payments = [p.min_payments.as_int for p in packs]
    reasons = {p.reason_fact for p in packs if p.reason_fact is not None}
    return ReageKey(
        products=products,
        months=(min(months) - 1, max(months)),
        payments=(max(min(payments) - 1, 0), max(payments)),
        exact=bool(reasons & _condition_reads(policy)),
    )


def _condition_reads(policy: Policy) -> frozenset[str]:
    """The fields the conditions the columns evaluate read: the layers', the remedy
    rules' and the timeline stages'."""
    read: set[str] = set()
    for layer in policy.layers:
        read |= layer.inputs()
    for rule in policy.remedy_rules:
        read |= rule.when.fields()
    timeline = policy.sections.get("timeline")
    if isinstance(timeline, TimelineSection):
        params = policy.parameter_values
        for plan in timeline.plans.values():
            for stage in plan.stages:
                read |= stage.when.resolve(params).fields()
    return frozenset(read)


def whole_months_expr(start: pl.Expr, day: pl.Expr) -> pl.Expr:
    """:func:`~collectrules.compliance.regulatory.whole_months` as a Polars expression:
    the whole calendar months from the date ``start`` to the date ``day`` (negative
    when ``day`` is before ``start``), a month from the 31st ending on the last day of
    a shorter month."""
    months = (day.dt.year().cast(pl.Int64) - start.dt.year().cast(pl.Int64)) * 12 + (
        day.dt.month().cast(pl.Int64) - start.dt.month().cast(pl.Int64)
    )
    # ``start`` plus ``months`` months lands in ``day``'s month, on ``start``'s day or
    # that month's last day, whichever is earlier.
    landed = pl.min_horizontal(
        start.dt.day().cast(pl.Int64), day.dt.month_end().dt.day().cast(pl.Int64)
    )
    return (
        pl.when((months > 0) & (landed > day.dt.day().cast(pl.Int64)))
        .then(months - 1)
        .when((months <= 0) & (day < start))
        .then(pl.min_horizontal(months, pl.lit(-1, dtype=pl.Int64)))
        .otherwise(months)
    )


def _reage_columns(reage: ReageKey) -> dict[str, pl.Expr]:
    """The key's ``opened_on`` and ``consecutive_minimum_payments`` (see
    :class:`ReageKey`), from the rows' columns and ``__today`` (the date at ``as_of`` in
    the case's zone)."""
    opened = pl.col("opened_on")
    payments = pl.col("consecutive_minimum_payments")
    applies = (
        pl.lit(value=True)
        if reage.products is None
        else pl.col("product").is_in(sorted(reage.products)).fill_null(value=False)
    )
    if reage.exact:
        return {
            "opened_on": pl.when(applies).then(opened),
            "consecutive_minimum_payments": pl.when(applies).then(payments),
        }
    today = pl.col("__today")
    age = whole_months_expr(opened, today).clip(*reage.months)
    # An opening date of that age: the first day of the month ``age`` months before
    # today's (whole months: ``age``), or the day after today (-1).
    index = today.dt.year().cast(pl.Int64) * 12 + today.dt.month().cast(pl.Int64) - 1 - age
    first = pl.date(index // 12, index % 12 + 1, 1)
    after = today + pl.duration(days=1)
    return {
        "opened_on": pl.when(applies & opened.is_not_null())
        .then(pl.when(age < 0).then(after).otherwise(first))
        .cast(pl.Date),
        "consecutive_minimum_payments": pl.when(applies).then(payments.clip(*reage.payments)),
    }


@attrs.frozen
class SectionKeys:
    """How a policy's sections are evaluated per key: the constant facts of a case with
    no events, the stage conditions (as key columns), and the key's columns."""

    policy: Policy
    constants: Mapping[str, Any]
    stages: tuple[Condition, ...]
    amounts: bool
    fields: Mapping[str, FieldSpec]
    #: What the key holds of the account's age and payments; None: neither (the policy
    #: has no ``reage`` pack).
    reage: ReageKey | None = None
    #: The results by key, kept across the chunks of one run (same policy and as_of):
    #: ``known["table"]``, a frame with a row per key, up to :data:`CACHE_LIMIT` rows.
    known: dict[str, pl.DataFrame] = attrs.field(factory=dict, eq=False)
    #: Held while the known keys are read and extended.
    lock: threading.Lock = attrs.field(factory=threading.Lock, eq=False, repr=False)

    @property
    def key(self) -> tuple[str, ...]:
        """The key's columns."""
        stages = tuple(f"__stage{i}" for i in range(len(self.stages)))
        amounts = ("principal", "overdue_amount") if self.amounts else ()
        account = ACCOUNT_FIELDS if self.reage is not None else ()
        return (*_BASE_KEY, *stages, *amounts, *account)

    def with_key(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The frame with the constant facts and the stage condition columns added, and
        the account's ``opened_on`` and ``consecutive_minimum_payments`` as the key holds
        them (:class:`ReageKey`; the frame needs ``__today``, the date at ``as_of`` in
        the case's zone)."""
        schema = self.policy.schema()
        constants = [
            pl.lit(v, dtype=dtype_of(schema[k])).alias(k) for k, v in self.constants.items()
        ]
        frame = frame.with_columns(constants) if constants else frame
        if self.reage is not None:
            frame = frame.with_columns(**_reage_columns(self.reage))
        stages = [condition_expr(c).alias(f"__stage{i}") for i, c in enumerate(self.stages)]
        if not stages:
            return frame
        present = set(frame.collect_schema().names())
        absent = [
            pl.lit(None, dtype=dtype_of(spec)).alias(name)
            for name, spec in schema.items()
            if name not in present
        ]
        return (
            frame.with_columns(absent)
            .with_columns(stages)
            .drop([name for name in schema if name not in present])
        )

    def evaluate(
        self, keys: pl.DataFrame, as_of: pendulum.DateTime, core: Sequence[str]
    ) -> tuple[pl.DataFrame, int]:
        """The sections' results for every distinct key of ``keys`` (the key columns, the
        sections' facts, ``__classes``, ``__buckets``, ``__sfired`` (the trace entries,
        joined by :data:`~collectrules.frame._compile.SEPARATOR`) and ``__sbad``), and
        the number of keys the sections' code ran on.

        The sections' code runs only on the keys no earlier call of the run has seen; the
        results of the others come from the run's table of known keys (a join).
        """
        with self.lock:  # chunks decided on two threads share the table
            return self._evaluate(keys, as_of, core)

    def _evaluate(
        self, keys: pl.DataFrame, as_of: pendulum.DateTime, core: Sequence[str]
    ) -> tuple[pl.DataFrame, int]:
        key = list(self.key)
        known = self.known.get("table")
        fresh = keys if known is None else keys.join(known, on=key, how="anti", nulls_equal=True)
        results = self._run_keys(fresh, as_of, core)
        if known is None:
            table = results
        elif results.height:
            table = pl.concat([known, results])
        else:
            table = known
        if table.height <= CACHE_LIMIT:
            self.known["table"] = table
        return table, results.height

    def evaluate_histories(
        self, keys: pl.DataFrame, as_of: pendulum.DateTime, core: Sequence[str]
    ) -> pl.DataFrame:
        """The sections' results for every row of ``keys`` (distinct keys with a
        :data:`HISTORY`), as :meth:`evaluate` gives them, with the sections' event facts
        (the timeline's contact counts, promises and payments) as columns named
        :data:`HISTORY_FACT` and the fact's name. Not remembered: a history is rarely
        met twice."""
        return self._run_keys(keys, as_of, core, history=True)

    def _run_keys(
        self,
        keys: pl.DataFrame,
        as_of: pendulum.DateTime,
        core: Sequence[str],
        *,
        history: bool = False,
    ) -> pl.DataFrame:
        """Run the sections on one case per row of ``keys`` (each a new key)."""
        names = (
            tuple(dict.fromkeys((*self.key, HISTORY, "principal", "overdue_amount")))
            if history
            else self.key
        )
        event_facts = [f"{HISTORY_FACT}{name}" for name in self.constants] if history else []
        rows: list[dict[str, Any]] = []
        for row in keys.iter_rows(named=True):
            out: dict[str, Any] = {name: row[name] for name in names}
            try:
                found = {**self.run(row, as_of, core), "__sbad": False}
            except Exception:  # the per-case engine gives the row its error
                found = {"__classes": [], "__buckets": [], "__sfired": [], "__sbad": True}
            out.update(found)
            rows.append({name: out.get(name) for name in (*out, *event_facts)})
        schema: dict[str, Any] = {name: keys.schema[name] for name in names}
        for name, spec in self.fields.items():
            schema[name] = dtype_of(spec)
        policy_schema = self.policy.schema()
        for name in self.constants if history else ():
            schema[f"{HISTORY_FACT}{name}"] = dtype_of(policy_schema[name])
        schema.update(
            __classes=_PAIRS, __buckets=_PAIRS, __sfired=pl.List(pl.String), __sbad=pl.Boolean
        )
        frame = pl.DataFrame(rows, schema=schema, orient="row" if not rows else None)
        return frame.with_columns(pl.col("__sfired").list.join(SEPARATOR).replace("", None))

    @staticmethod
    def _case(row: Mapping[str, Any]) -> Case:
        """The case a key without a history stands for."""
        return Case(
            case_id="columnar-key",
            product=Product(row["product"]),
            currency=row["currency"],
            principal=Decimal(row["principal"]).scaleb(-4),
            overdue_amount=Decimal(row["overdue_amount"]).scaleb(-4),
            due_date=row["due_date"],
            timezone=row["timezone"],
            maturity_date=row["maturity_date"],
            sicr_rebutted=row["sicr_rebutted"],
            default_rebutted=row["default_rebutted"],
            debtor_npl_share=_share(row["debtor_npl_share"]),
            debtor_90dpd_share_all_banks=_share(row["debtor_90dpd_share_all_banks"]),
            opened_on=row.get("opened_on"),
            consecutive_minimum_payments=row.get("consecutive_minimum_payments"),
        )

    @exact
    def run(
        self, row: Mapping[str, Any], as_of: pendulum.DateTime, core: Sequence[str]
    ) -> dict[str, Any]:
        """The sections' facts, ``__classes``, ``__buckets`` and ``__sfired`` of the case
        that the key ``row`` (with the core facts ``core``) stands for."""
        policy = self.policy
        history = row.get(HISTORY)
        case = _history_case(row, history) if history is not None else self._case(row)
        facts = {name: row[name] for name in core if row.get(name) is not None}
        extra: dict[str, Any] = {}
        for plugin in policy.plugins:
            extra.update(plugin.facts(case, as_of, policy, facts))
        full = {**facts, **extra}
        classes: list[dict[str, str]] = []
        buckets: list[dict[str, str]] = []
        fired: list[str] = []
        for plugin in policy.plugins:
            part = plugin.contribute(case, full, as_of, policy)
            classes.extend({"key": c.pack, "value": c.value} for c in part.regulatory)
            buckets.extend({"key": b.bucket_set, "value": b.bucket} for b in part.buckets)
            fired.extend(f.rule_id for f in part.firings)
        out: dict[str, Any] = {name: extra.get(name) for name in self.fields}
        if history is not None:
            out.update({f"{HISTORY_FACT}{name}": extra.get(name) for name in self.constants})
        out.update(__classes=classes, __buckets=buckets, __sfired=fired)
        return out


def _history_case(row: Mapping[str, Any], history: str) -> Case:
    """The case a key with a ``history`` (its signals and events as JSON text) stands
    for, read whole as :meth:`Case.from_dict <collectrules.model.case.Case.from_dict>`
    reads a case."""
    items = json.loads(history)
    data: dict[str, Any] = {
        "case_id": "columnar-key",
        "product": row["product"],
        "currency": row["currency"],
        "principal": str(Decimal(row["principal"]).scaleb(-4)),
        "overdue_amount": str(Decimal(row["overdue_amount"]).scaleb(-4)),
        "due_date": row["due_date"].isoformat(),
        "timezone": row["timezone"],
        "signals": [_present(s) for s in items["signals"]],
        "events": [_present(e) for e in items["events"]],
    }
    for name in ("maturity_date", "opened_on"):
        if row.get(name) is not None:
            data[name] = row[name].isoformat()
    for name in ("sicr_rebutted", "default_rebutted", "consecutive_minimum_payments"):
        if row.get(name) is not None:
            data[name] = row[name]
    for name in SHARE_FIELDS:
        share = _share(row.get(name))
        if share is not None:
            data[name] = str(share)
    return Case.from_dict(data)


def _present(item: Mapping[str, Any]) -> dict[str, Any]:
    """A signal's or event's fields that hold a value (a null column is no field)."""
    return {name: value for name, value in item.items() if value is not None}


def _share(units: int | None) -> Decimal | None:
    """A key's share of the debtor's debts, from its units of 10^-12."""
    return None if units is None else Decimal(units).scaleb(-SHARE_DIGITS).normalize()


def _constants(policy: Policy, as_of: pendulum.DateTime) -> dict[str, Any]:
    """The timeline's event facts of a case without events (all zero, no promise)."""
    if not isinstance(policy.sections.get("timeline"), TimelineSection):
        return {}
    blank = Case(
        case_id="columnar-constants",
        product=Product.LOAN,
        currency="CNY",
        principal=Decimal(1),
        overdue_amount=Decimal(1),
        due_date=dt.date(2000, 1, 1),
        timezone="UTC",
    )
    return timeline_facts(blank, as_of, promise_rules(policy))


def core_names(policy: Policy) -> tuple[str, ...]:
    """The core facts the columns derive for every row: the key's columns come from them."""
    names = [
        "dpd",
        "product",
        "currency",
        "principal",
        "overdue_amount",
        "guarantors",
        "has_maturity_date",
        "days_to_maturity",
        "debtor_contacted",
    ]
    for kind, spec in policy.signals.items():
        names.append(kind)
        if spec.measured:
            names.append(f"has_{kind}")
    return tuple(names)


def section_keys(
    policy: Policy, as_of: pendulum.DateTime, core: Sequence[str]
) -> SectionKeys | None:
    """How ``policy``'s sections are evaluated per key; None when a section present in
    the policy is one this module does not know (every row then goes per case)."""
    present = [p.key for p in policy.plugins if p.key in policy.sections]
    if any(key not in KNOWN_SECTIONS for key in present):
        return None
    constants = _constants(policy, as_of)
    stages: list[Condition] = []
    timeline = policy.sections.get("timeline")
    if isinstance(timeline, TimelineSection):
        params = policy.parameter_values
        # Whether anything is owed: the plan's steps are skipped when nothing is, even
        # before the due date, where the days past due (0) do not tell.
        stages.append(parse("overdue_amount > 0", schema=policy.schema()))
        for plan in timeline.plans.values():
            for stage in plan.stages:
                stages.append(stage.when.resolve(params))
    regulation = regulation_of(policy)
    amounts = regulation is not None and any(
        isinstance(p, MaterialityPack) for p in regulation.packs
    )
    own = {name: spec for name, spec in policy.extra_fields.items() if name not in core}
    fields = {name: spec for name, spec in own.items() if name not in constants}
    return SectionKeys(policy, constants, tuple(stages), amounts, fields, reage_key(policy))
