"""The Spark engine: a portfolio decided as Spark DataFrames, past one machine.

:func:`decide` mirrors :func:`collectrules.frame.decide`: the same safe subset of
inputs, the same derivation as group-by work, the same IR compiled to Spark Column
expressions (evaluated in the JVM, no Python UDF), the sections once per distinct key
on the driver, and the same compact decision columns. Rows outside the subset (and
those the columns cannot decide) are decided on the executors by the per-case engine
(Python, per partition, with ``mapInArrow``), which gives them their exact decision or
error. See docs/howto-spark.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import attrs
import pendulum
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from collectrules._arguments import wrong_kind
from collectrules.batch.compact import FIELDS
from collectrules.errors import EngineError, FieldProblem, InputError, OutOfMemoryError
from collectrules.frame._inputs import CASE_COLUMNS, SHARE_DIGITS, valid_zones
from collectrules.frame._sections import ReageKey, SectionKeys, core_names, section_keys
from collectrules.io.arrow import repeated_names
from collectrules.model.case import SHARE_FIELDS, Product, zone
from collectrules.model.limits import (
    MAX_COUNT,
    MAX_ID_LENGTH,
    MAX_SIGNALS,
    MAX_TEXT_LENGTH,
    MAX_YEAR,
    MIN_YEAR,
    NO_DATE_SENTINELS,
)
from collectrules.model.time import require_aware
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import CURE_SIGNALS, DEFAULT_LOOKBACK_DAYS
from collectrules.spark._compile import compile_spark, condition_column
from collectrules.spark._routed import ERROR, KIND, RoutedRows

__all__ = ["COMPACT_SPARK_SCHEMA", "SparkResult", "decide"]

_PAIRS = T.MapType(T.StringType(), T.StringType())
_LIST = T.ArrayType(T.StringType())

#: The Spark schema of the compact decision table (the Parquet table's schema).
COMPACT_SPARK_SCHEMA = T.StructType(
    [
        T.StructField(
            name,
            _LIST
            if name in ("allowed", "blocked", "fired")
            else _PAIRS
            if name in ("classes", "buckets")
            else T.StringType(),
        )
        for name in FIELDS
    ]
)

_SIGNAL_COLUMNS = ("case_id", "kind", "observed_at", "value", "note")
#: Java's ``$`` also matches before a final line end (``"1000\n"``, which Spark's casts
#: then read as 1000, where the per-case engine refuses it): ``\z`` is the text's end.
_ID = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?\z"
_MONEY = r"^[0-9]{1,13}(\.[0-9]+)?\z"
_MEASURE = r"^-?[0-9]{1,13}(\.[0-9]{1,12})?\z"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
_SHARE = r"^[01](\.[0-9]+)?\z"
_COUNT = r"^[0-9]{1,4}\z"
_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-5][0-9])\z"
)
_ROUTED = "__routed"
_PYTHON_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")
#: A worker's Python error that says its process ran out of memory.
_MEMORY_ERROR = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(?:OutOfMemoryError|MemoryError): ")
_TYPES = {"int": "bigint", "number": "double", "money": "bigint", "bool": "boolean"}
_DATA_TYPES: dict[str, T.DataType] = {
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "string": T.StringType(),
}


@attrs.frozen
class SparkResult:
    """The compact decisions (a Spark DataFrame), the bad rows (a DataFrame of
    ``case_id``, ``error``, ``kind``), and the rows the per-case engine decided.

    :func:`decide` caches its intermediate tables and every row's decision or error
    (Spark's memory and disk), so that writing ``decisions`` and ``errors`` decides no
    row again. :meth:`unpersist` releases exactly those tables (no other table of the
    session); a ``with`` block releases them when it ends::

        with spark.decide(cases, signals, policy="default", as_of=AS_OF) as result:
            result.decisions.write.parquet("decisions")
            result.errors.write.parquet("errors")
    """

    decisions: DataFrame
    errors: DataFrame
    per_case: int
    section_keys: int
    cached: tuple[DataFrame, ...] = attrs.field(default=(), repr=False, eq=False)
    """The tables :func:`decide` cached, which :meth:`unpersist` releases."""

    def unpersist(self) -> None:
        """Release the tables :func:`decide` cached; ``decisions`` and ``errors`` stay
        usable (Spark computes them again if they are read afterwards)."""
        for table in self.cached:
            table.unpersist()

    def __enter__(self) -> SparkResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unpersist()


def _text(frame: DataFrame, name: str) -> Column:
    if name not in frame.columns:
        return F.lit(None).cast("string")
    dtype = frame.schema[name].dataType
    if isinstance(dtype, T.StringType):
        return F.col(name)
    if isinstance(dtype, T.FloatType):
        # The number a single-precision float holds, as Python reads it (a FloatType 0.1
        # is 0.100000001490116…): its own shortest text ("0.1") is another number.
        return F.col(name).cast("double").cast("string")
    if isinstance(dtype, T.NumericType):
        return F.col(name).cast("string")
    return F.lit(None).cast("string")


def _try_cast(column: Column, target: str) -> Column:
    """``column`` cast to ``target``, null where it does not convert (ANSI mode or not)."""
    return column.try_cast(target)


def _money(frame: DataFrame, name: str) -> tuple[Column, Column]:
    text = _text(frame, name)
    whole = F.regexp_extract(text, r"^([0-9]+)", 1)
    frac = F.regexp_replace(F.regexp_extract(text, r"\.([0-9]+)$", 1), "0+$", "")
    good = F.coalesce(text.rlike(_MONEY), F.lit(False)) & (F.length(frac) <= 4)
    units = _try_cast(whole, "bigint") * 10_000 + F.coalesce(
        _try_cast(F.substring(F.rpad(frac, 4, "0"), 1, 4), "bigint"), F.lit(0)
    )
    good = good & F.coalesce(units <= F.lit(10**16), F.lit(False))
    return units, good


def _share(frame: DataFrame, name: str) -> tuple[Column, Column]:
    """A debtor's share in units of 10^-12 and whether the row may go columnar, as the
    Polars engine reads it (:func:`collectrules.frame._inputs._share`)."""
    if name not in frame.columns:
        return F.lit(None).cast("bigint"), F.lit(True)
    text = _text(frame, name)
    whole = F.regexp_extract(text, r"^([0-9]+)", 1)
    frac = F.regexp_replace(F.regexp_extract(text, r"\.([0-9]+)$", 1), "0+$", "")
    units = _try_cast(whole, "bigint") * 10**SHARE_DIGITS + F.coalesce(
        _try_cast(F.substring(F.rpad(frac, SHARE_DIGITS, "0"), 1, SHARE_DIGITS), "bigint"),
        F.lit(0),
    )
    good = F.coalesce(
        text.rlike(_SHARE) & (F.length(frac) <= SHARE_DIGITS) & (units <= F.lit(10**SHARE_DIGITS)),
        F.lit(False),
    )
    return F.when(good, units), F.col(name).isNull() | good


def _count(frame: DataFrame, name: str) -> tuple[Column, Column]:
    """A count (``consecutive_minimum_payments``) as a bigint and whether the row may go
    columnar, as the Polars engine reads it (:func:`collectrules.frame._inputs._count`):
    absent, or a whole number from 0 to 1200 in an integer column or as one to four
    ASCII digits in a text column."""
    if name not in frame.columns:
        return F.lit(None).cast("bigint"), F.lit(True)
    dtype = frame.schema[name].dataType
    raw = F.col(name)
    if isinstance(dtype, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        good = F.coalesce(raw.between(0, MAX_COUNT), F.lit(False))
        number = raw.cast("bigint")
    elif isinstance(dtype, T.StringType):
        number = _try_cast(raw, "bigint")
        good = F.coalesce(raw.rlike(_COUNT) & (number <= MAX_COUNT), F.lit(False))
    else:
        return F.lit(None).cast("bigint"), raw.isNull()
    return F.when(good, number), raw.isNull() | good


def _date(frame: DataFrame, name: str) -> tuple[Column, Column, Column]:
    if name not in frame.columns:
        return F.lit(None).cast("date"), F.lit(False), F.lit(True)
    dtype = frame.schema[name].dataType
    raw = F.col(name)
    if isinstance(dtype, T.DateType):
        day, readable = raw, raw.isNotNull()
    elif isinstance(dtype, T.StringType):
        day = _try_cast(raw, "date")
        readable = F.coalesce(raw.rlike(_DATE), F.lit(False)) & day.isNotNull()
    else:
        return F.lit(None).cast("date"), F.lit(False), raw.isNull()
    in_range = F.coalesce(F.year(day).between(MIN_YEAR, MAX_YEAR), F.lit(False))
    return day, readable & in_range, raw.isNull()


def _instant(frame: DataFrame, name: str) -> tuple[Column, Column]:
    if name not in frame.columns:
        return F.lit(None).cast("timestamp"), F.lit(False)
    dtype = frame.schema[name].dataType
    raw = F.col(name)
    if isinstance(dtype, T.TimestampType):
        at, readable = raw, raw.isNotNull()
    elif isinstance(dtype, T.StringType):
        at = _try_cast(raw, "timestamp")
        readable = F.coalesce(raw.rlike(_INSTANT), F.lit(False)) & at.isNotNull()
    else:
        return F.lit(None).cast("timestamp"), F.lit(False)
    years = F.coalesce(F.year(at).between(MIN_YEAR + 1, MAX_YEAR - 1), F.lit(False))
    return at, readable & years


def _flag(frame: DataFrame, name: str) -> tuple[Column, Column]:
    if name not in frame.columns:
        return F.lit(False), F.lit(True)
    raw = F.col(name)
    if isinstance(frame.schema[name].dataType, T.BooleanType):
        return F.coalesce(raw, F.lit(False)), F.lit(True)
    return F.lit(False), raw.isNull()


def _local_dates(zones: Sequence[str], when: pendulum.DateTime) -> Column:
    pairs: list[Column] = []
    for name in zones:
        pairs += [F.lit(name), F.lit(when.astimezone(zone(name)).date())]
    return F.create_map(*pairs) if pairs else F.create_map().cast("map<string,date>")


def _cases(cases: DataFrame) -> DataFrame:
    principal, principal_ok = _money(cases, "principal")
    overdue, overdue_ok = _money(cases, "overdue_amount")
    due, due_ok, _ = _date(cases, "due_date")
    maturity, maturity_ok, maturity_absent = _date(cases, "maturity_date")
    sentinel = F.coalesce(maturity.isin(list(NO_DATE_SENTINELS)), F.lit(False))
    opened, opened_ok, opened_absent = _date(cases, "opened_on")
    payments, payments_ok = _count(cases, "consecutive_minimum_payments")
    sicr, sicr_ok = _flag(cases, "sicr_rebutted")
    default, default_ok = _flag(cases, "default_rebutted")
    shares = {name: _share(cases, name) for name in SHARE_FIELDS}
    zones = []
    if "timezone" in cases.columns and isinstance(cases.schema["timezone"].dataType, T.StringType):
        zones = valid_zones(r[0] for r in cases.select("timezone").distinct().collect())
    case_id = _text(cases, "case_id")
    ok = (
        F.lit(
            "case_id" in cases.columns
            and isinstance(cases.schema["case_id"].dataType, T.StringType)
        )
        & F.coalesce(case_id.rlike(_ID), F.lit(False))
        & F.coalesce(F.length(case_id) <= MAX_ID_LENGTH, F.lit(False))
        & F.coalesce(_text(cases, "product").isin([p.value for p in Product]), F.lit(False))
        & F.coalesce(_text(cases, "currency").rlike(r"^[A-Z]{3}\z"), F.lit(False))
        & principal_ok
        & overdue_ok
        & due_ok
        & (maturity_ok | maturity_absent | sentinel)
        & (opened_ok | opened_absent)
        & payments_ok
        & F.coalesce(_text(cases, "timezone").isin(zones), F.lit(False))
        & sicr_ok
        & default_ok
    )
    for _, share_ok in shares.values():
        ok = ok & share_ok
    for name in cases.columns:
        if name not in CASE_COLUMNS:
            ok = ok & F.col(name).isNull()
    return cases.select(
        F.col("case_id"),
        _text(cases, "product").alias("product"),
        _text(cases, "currency").alias("currency"),
        principal.alias("principal"),
        overdue.alias("overdue_amount"),
        due.alias("due_date"),
        _text(cases, "timezone").alias("timezone"),
        F.when(sentinel, F.lit(None).cast("date")).otherwise(maturity).alias("maturity_date"),
        sicr.alias("sicr_rebutted"),
        default.alias("default_rebutted"),
        *(units.alias(name) for name, (units, _) in shares.items()),
        opened.alias("opened_on"),
        payments.alias("consecutive_minimum_payments"),
        F.coalesce(ok, F.lit(False)).alias("__ok"),
    )


def _signals(signals: DataFrame, kinds: Sequence[str]) -> DataFrame:
    at, at_ok = _instant(signals, "observed_at")
    text = _text(signals, "value")
    value = _try_cast(text, "double")
    value_ok = text.isNull() | (
        F.coalesce(text.rlike(_MEASURE), F.lit(False))
        & F.coalesce(F.length(text) <= 20, F.lit(False))
        & F.coalesce(F.abs(value) <= F.lit(1e12), F.lit(False))
    )
    if "value" in signals.columns:
        dtype = signals.schema["value"].dataType
        if not isinstance(dtype, T.StringType | T.NumericType | T.NullType):
            value_ok = F.col("value").isNull()
    note_ok: Column = F.lit(True)
    if "note" in signals.columns:
        note_ok = F.col("note").isNull() | (
            F.lit(isinstance(signals.schema["note"].dataType, T.StringType))
            & F.coalesce(F.length(_text(signals, "note")) <= MAX_TEXT_LENGTH, F.lit(False))
        )
    kind = _text(signals, "kind")
    ok = F.coalesce(kind.isin(list(kinds)), F.lit(False)) & at_ok & value_ok & note_ok
    for name in signals.columns:
        if name not in _SIGNAL_COLUMNS:
            ok = ok & F.col(name).isNull()
    return signals.select(
        F.col("case_id"),
        F.monotonically_increasing_id().alias("__seq"),
        kind.alias("kind"),
        at.alias("observed_at"),
        value.alias("value"),
        F.coalesce(ok, F.lit(False)).alias("__ok"),
    )


def _facts(
    cases: DataFrame, signals: DataFrame, policy: Policy, when: pendulum.DateTime, zones: Column
) -> DataFrame:
    lookback = policy.parameters.get("lookback_days")
    days = int(lookback.value) if lookback is not None else DEFAULT_LOOKBACK_DAYS
    offset = when.utcoffset()
    assert offset is not None
    plain_when = dt.datetime(*when.timetuple()[:6], when.microsecond, tzinfo=dt.timezone(offset))
    end = plain_when
    start = plain_when - dt.timedelta(days=days)
    window = signals.where(
        (F.col("observed_at") > F.lit(start)) & (F.col("observed_at") <= F.lit(end))
    )
    counted = [k for k, spec in policy.signals.items() if not spec.measured]
    measured = [k for k, spec in policy.signals.items() if spec.measured]
    today = F.element_at(zones, F.col("timezone"))
    frame = cases.withColumn("__today", today).withColumns(
        {
            "dpd": F.when(F.col("overdue_amount") <= 0, F.lit(0))
            .otherwise(F.greatest(F.datediff(F.col("__today"), F.col("due_date")), F.lit(0)))
            .cast("bigint"),
            "guarantors": F.lit(0).cast("bigint"),
            "has_maturity_date": F.col("maturity_date").isNotNull(),
            "days_to_maturity": F.datediff(F.col("maturity_date"), F.col("__today")).cast("bigint"),
            "debtor_contacted": F.lit(False),
        }
    )
    if counted:
        counts = window.groupBy("case_id").agg(
            *(
                F.sum(F.when(F.col("kind") == k, 1).otherwise(0)).cast("bigint").alias(k)
                for k in counted
            )
        )
        frame = frame.join(counts, on="case_id", how="left").fillna(0, subset=counted)
    if measured:
        valued = window.where(F.col("kind").isin(measured) & F.col("value").isNotNull())
        latest = valued.groupBy("case_id").agg(
            *(
                F.max_by(
                    F.when(F.col("kind") == k, F.col("value")),
                    F.when(F.col("kind") == k, F.struct("observed_at", "__seq")),
                ).alias(k)
                for k in measured
            )
        )
        frame = frame.join(latest, on="case_id", how="left").withColumns(
            {f"has_{k}": F.col(k).isNotNull() for k in measured}
        )
    return frame


def _spark_type(spec_type: str) -> str:
    return _TYPES.get(spec_type, "string")


def _sections(
    spark: SparkSession,
    facts: DataFrame,
    sections: SectionKeys,
    when: pendulum.DateTime,
    core: Sequence[str],
) -> tuple[DataFrame, int]:
    schema = sections.policy.schema()
    constants = {
        k: F.lit(v).cast(_spark_type(schema[k].type.value)) for k, v in sections.constants.items()
    }
    keyed = facts.withColumns(constants) if constants else facts
    if sections.reage is not None:
        keyed = keyed.withColumns(_reage_columns(sections.reage))
    absent = {
        name: F.lit(None).cast(_spark_type(spec.type.value))
        for name, spec in schema.items()
        if name not in keyed.columns
    }
    stages = {f"__stage{i}": condition_column(c) for i, c in enumerate(sections.stages)}
    if stages:
        keyed = keyed.withColumns(absent).withColumns(stages).drop(*absent)
    key = list(sections.key)
    needed = [
        n for n in dict.fromkeys([*key, *core, "principal", "overdue_amount"]) if n in keyed.columns
    ]
    distinct = keyed.select(needed).dropDuplicates(key).collect()
    rows: list[dict[str, Any]] = []
    for row in distinct:
        data = row.asDict()
        out: dict[str, Any] = {name: data[name] for name in key}
        try:
            result = sections.run(data, when, core)
        except Exception:  # the per-case engine gives the row its error
            result = {"__classes": [], "__buckets": [], "__sfired": []}
            out["__sbad"] = True
        else:
            out["__sbad"] = False
        out.update({n: result.get(n) for n in sections.fields})
        out["__classes"] = [(p["key"], p["value"]) for p in result["__classes"]]
        out["__buckets"] = [(p["key"], p["value"]) for p in result["__buckets"]]
        out["__sfired"] = result["__sfired"]
        rows.append(out)
    fields = [T.StructField(name, keyed.schema[name].dataType) for name in key]
    fields += [
        T.StructField(name, _DATA_TYPES[_spark_type(spec.type.value)])
        for name, spec in sections.fields.items()
    ]
    pairs = T.ArrayType(
        T.StructType([T.StructField("key", T.StringType()), T.StructField("value", T.StringType())])
    )
    fields += [
        T.StructField("__classes", pairs),
        T.StructField("__buckets", pairs),
        T.StructField("__sfired", _LIST),
        T.StructField("__sbad", T.BooleanType()),
    ]
    results = spark.createDataFrame(rows, T.StructType(fields))
    condition = _all([keyed[k].eqNullSafe(results[k]) for k in key])
    joined = keyed.join(F.broadcast(results), condition, "left")
    for k in key:
        joined = joined.drop(results[k])
    return joined, len(rows)


def _whole_months(start: Column, day: Column) -> Column:
    """:func:`~collectrules.compliance.regulatory.whole_months` as a Spark column, as
    :func:`~collectrules.frame._sections.whole_months_expr` computes it."""
    months = (F.year(day) - F.year(start)) * 12 + (F.month(day) - F.month(start))
    landed = F.least(F.dayofmonth(start), F.dayofmonth(F.last_day(day)))
    return (
        F.when((months > 0) & (landed > F.dayofmonth(day)), months - 1)
        .when((months <= 0) & (day < start), F.least(months, F.lit(-1)))
        .otherwise(months)
        .cast("bigint")
    )


def _reage_columns(reage: ReageKey) -> dict[str, Column]:
    """The key's ``opened_on`` and ``consecutive_minimum_payments``, as the Polars
    engine gives them (:class:`~collectrules.frame._sections.ReageKey`)."""
    opened = F.col("opened_on")
    payments = F.col("consecutive_minimum_payments")
    applies = (
        F.lit(True)
        if reage.products is None
        else F.coalesce(F.col("product").isin(sorted(reage.products)), F.lit(False))
    )
    if reage.exact:
        return {
            "opened_on": F.when(applies, opened),
            "consecutive_minimum_payments": F.when(applies, payments),
        }
    today = F.col("__today")
    low, high = reage.months
    age = F.greatest(F.least(_whole_months(opened, today), F.lit(high)), F.lit(low))
    index = F.year(today).cast("bigint") * 12 + F.month(today) - 1 - age
    month = F.pmod(index, F.lit(12))
    first = F.make_date(((index - month) / 12).cast("int"), (month + 1).cast("int"), F.lit(1))
    after = F.date_add(today, 1)
    least, most = reage.payments
    # Spark's least and greatest skip a null: a value not recorded is kept null first.
    return {
        "opened_on": F.when(applies & opened.isNotNull(), F.when(age < 0, after).otherwise(first)),
        "consecutive_minimum_payments": F.when(
            applies & payments.isNotNull(),
            F.greatest(F.least(payments, F.lit(most)), F.lit(least)),
        ),
    }


def _all(columns: Sequence[Column]) -> Column:
    out = columns[0]
    for c in columns[1:]:
        out = out & c
    return out


def _with_missing(frame: DataFrame, policy: Policy) -> DataFrame:
    outputs = {layer.output for layer in policy.layers}
    missing = {
        name: F.lit(None).cast(_spark_type(spec.type.value))
        for name, spec in policy.schema().items()
        if name not in frame.columns and name not in outputs
    }
    frame = frame.withColumns(missing) if missing else frame
    pairs = "array<struct<key:string,value:string>>"
    extra = {
        name: F.array().cast(kind)
        for name, kind in (
            ("__classes", pairs),
            ("__buckets", pairs),
            ("__sfired", "array<string>"),
        )
        if name not in frame.columns
    }
    if "__sbad" not in frame.columns:
        extra["__sbad"] = F.lit(False)
    return frame.withColumns(extra) if extra else frame


def _check_names(table: DataFrame, label: str) -> None:
    """A table naming a column twice (Spark's reference to it would be ambiguous, and
    which value a row holds a guess) is an :class:`InputError` naming the column; names
    differing only in case are one name unless the session is case-sensitive."""
    sensitive = table.sparkSession.conf.get("spark.sql.caseSensitive", "false")
    twice = repeated_names(table.columns, label, fold=str(sensitive).lower() != "true")
    if twice:
        raise InputError(twice, subject=f"the {label} table")


def _check_long_ids(long: DataFrame, label: str) -> None:
    """A long table of signals or events must carry text case ids, to join the cases by."""
    if "case_id" not in long.columns:
        raise InputError([FieldProblem(label, f"the {label} table needs a case_id column")])
    dtype = long.schema["case_id"].dataType
    if not isinstance(dtype, T.StringType | T.NullType):
        msg = f"expected text case ids, got a column of {dtype.simpleString()}"
        raise InputError([FieldProblem(f"{label}.case_id", msg)])


def _is_spark_frame(table: object) -> bool:
    """Whether ``table`` is a Spark DataFrame, classic or Spark Connect (whose class is
    not the classic one's)."""
    return isinstance(table, DataFrame) or (
        type(table).__module__.startswith("pyspark.") and hasattr(table, "sparkSession")
    )


def decide(
    cases_df: DataFrame,
    signals_df: DataFrame | None = None,
    events_df: DataFrame | None = None,
    *,
    policy: Policy | str = "default",
    as_of: dt.datetime | str,
) -> SparkResult:
    """Decide every case of ``cases_df`` at ``as_of`` under ``policy``, in Spark.

    The tables are those of :func:`collectrules.frame.decide`, as Spark DataFrames,
    joined by ``case_id``. Returns the compact decisions (:data:`COMPACT_SPARK_SCHEMA`,
    maps for ``classes`` and ``buckets``) and the bad rows; the order of rows is
    Spark's. A case id on several rows of ``cases_df`` makes each of them a bad row
    (``case 'C-1' appears on 2 rows of the cases table``): a Spark table has no order
    that would tell which row is the case. A Spark job that fails is an
    :class:`~collectrules.errors.EngineError`, and one whose executor's Python ran out of
    memory an :class:`~collectrules.errors.OutOfMemoryError` (never a bad row).
    """
    when = require_aware(as_of)
    chosen = policy if isinstance(policy, Policy) else load_policy(policy)
    for label, table in (
        ("cases_df", cases_df),
        ("signals_df", signals_df),
        ("events_df", events_df),
    ):
        if not isinstance(table, DataFrame) and (table is not None or label == "cases_df"):
            expected = "a Spark DataFrame" + ("" if label == "cases_df" else " or None")
            raise wrong_kind(label, table, expected)
    for label, table in (("cases", cases_df), ("signals", signals_df), ("events", events_df)):
        if table is not None:
            _check_names(table, label)
    if "case_id" not in cases_df.columns:
        raise InputError([FieldProblem("case_id", "the cases table needs a case_id column")])
    for label, long in (("signals", signals_df), ("events", events_df)):
        if long is not None:
            _check_long_ids(long, label)
    cached: list[DataFrame] = []
    try:
        return _decide(cases_df, signals_df, events_df, chosen, when, cached)
    except BaseException:
        for table in cached:  # a failed run leaves nothing cached
            table.unpersist()
        raise


def _decide(
    cases_df: DataFrame,
    signals_df: DataFrame | None,
    events_df: DataFrame | None,
    chosen: Policy,
    when: pendulum.DateTime,
    cached: list[DataFrame],
) -> SparkResult:
    """:func:`decide` on checked arguments; each table it caches is added to ``cached``."""

    def keep(table: DataFrame, *, persist: bool = False) -> DataFrame:
        cached.append(table.persist() if persist else table.cache())
        return cached[-1]

    spark = cases_df.sparkSession
    repeated = _repeated(cases_df)
    if repeated is not None:
        repeated = keep(repeated)
        cases_df = cases_df.join(repeated.select("case_id"), on="case_id", how="left_anti")
    checked = keep(_cases(cases_df))
    kinds = tuple(chosen.signals)
    sigs = (
        _signals(signals_df, kinds)
        if signals_df is not None
        else spark.createDataFrame(
            [],
            "case_id string, __seq bigint, kind string, observed_at timestamp,"
            " value double, __ok boolean",
        )
    )
    sigs = keep(sigs)
    bad_ids = (
        sigs.groupBy("case_id")
        .agg(F.max(~F.col("__ok")).alias("bad"), F.count("*").alias("n"))
        .where(F.col("bad") | (F.col("n") > MAX_SIGNALS))
        .select("case_id")
    )
    routed = checked.where(~F.col("__ok")).select("case_id").union(bad_ids)
    # The evidence model (policy.derive) reads the order of willingness signs, cures and
    # the due date: rows with any of them go per case, so those left hold none and were
    # not contacted.
    evidence_kinds = sorted(
        {k for k, spec in chosen.signals.items() if spec.dimension in ("willingness", "contact")}
        | (CURE_SIGNALS & set(chosen.signals))
    )
    if evidence_kinds:
        routed = routed.union(sigs.where(F.col("kind").isin(evidence_kinds)).select("case_id"))
    if events_df is not None:
        routed = routed.union(events_df.select("case_id"))
    routed = keep(routed.distinct())
    core = core_names(chosen)
    sections = section_keys(chosen, when, core)
    good = checked.where(F.col("__ok")).join(routed, on="case_id", how="left_anti")
    if sections is None:
        routed = routed.union(good.select("case_id")).distinct()
        good = good.limit(0)
    zones = _local_dates(
        [r[0] for r in good.select("timezone").distinct().collect() if r[0] is not None], when
    )
    facts = _facts(good, sigs.where(F.col("__ok")), chosen, when, zones)
    key_count = 0
    if sections is not None:
        facts, key_count = _sections(spark, facts, sections, when, core)
    decided = keep(compile_spark(chosen).apply(_with_missing(facts, chosen)))
    undecided = decided.where(F.col("__undecided") | F.col("__sbad")).select("case_id")
    routed = keep(routed.union(undecided).distinct())
    done = decided.where(~(F.col("__undecided") | F.col("__sbad")))
    columnar = _compact(done, chosen, when).withColumns(
        {ERROR: F.lit(None).cast("string"), KIND: F.lit(None).cast("string"), _ROUTED: F.lit(False)}
    )
    slow = _per_case(cases_df, signals_df, events_df, routed, chosen, when)
    # Every row's decision or error, persisted and counted once: the decisions and the
    # errors are filters of it, so neither decides a row again (a persisted output of
    # the Python step alone is not found again by Spark under a union).
    both = keep(slow.withColumn(_ROUTED, F.lit(True)).unionByName(columnar), persist=True)
    try:
        per_case = both.where(F.col(_ROUTED)).count()
    except Exception as exc:  # a job that fails in Spark is reported as the engine's error
        raise _spark_failure(exc) from exc
    failed = F.col(ERROR).isNotNull()
    decisions = both.where(~failed).select(*COMPACT_SPARK_SCHEMA.names)
    errors = both.where(failed).select(
        F.col("case_id"), F.col(ERROR).alias("error"), F.col(KIND).alias("kind")
    )
    if repeated is not None:
        errors = errors.unionByName(repeated)
    return SparkResult(decisions, errors, per_case, key_count, tuple(cached))


def _repeated(cases: DataFrame) -> DataFrame | None:
    """Each row of ``cases`` whose text case id another row holds too, with its error
    (``case_id``, ``error``, ``kind``): a Spark table has no order that would tell which
    row is the case, so none is decided. None when the ids are not text (each row is
    refused for its id)."""
    if dict(cases.dtypes).get("case_id") != "string":
        return None
    counted = (
        cases.where(F.col("case_id").isNotNull())
        .groupBy("case_id")
        .agg(F.count("*").alias("__rows"))
        .where(F.col("__rows") > 1)
    )
    return (
        cases.select("case_id")
        .join(counted, on="case_id")
        .select(
            F.col("case_id"),
            F.concat(
                F.lit("case_id: case '"),
                F.col("case_id"),
                F.lit("' appears on "),
                F.col("__rows").cast("string"),
                F.lit(" rows of the cases table; expected each case once"),
            ).alias("error"),
            F.lit("InputError").alias("kind"),
        )
    )


def _compact(done: DataFrame, policy: Policy, when: pendulum.DateTime) -> DataFrame:
    levels = {layer.output for layer in policy.layers}

    def level(name: str) -> Column:
        return F.col(name) if name in levels else F.lit(None).cast("string")

    return done.select(
        F.col("case_id"),
        F.lit(when.isoformat()).alias("as_of"),
        F.col("quadrant"),
        level("willingness").alias("willingness"),
        level("ability").alias("ability"),
        F.col("allowed"),
        F.col("blocked"),
        F.concat(
            F.col("__fired"), F.coalesce(F.col("__sfired"), F.array().cast("array<string>"))
        ).alias("fired"),
        F.map_from_entries(
            F.coalesce(F.col("__classes"), F.array().cast("array<struct<key:string,value:string>>"))
        ).alias("classes"),
        F.map_from_entries(
            F.coalesce(F.col("__buckets"), F.array().cast("array<struct<key:string,value:string>>"))
        ).alias("buckets"),
        F.lit(policy.id).alias("policy_id"),
        F.lit(policy.version).alias("policy_version"),
        F.lit(policy.content_hash).alias("policy_hash"),
    )


def _quoted(name: str) -> Column:
    """The column ``name``, whatever characters it holds (dots, backticks)."""
    return F.col("`" + name.replace("`", "``") + "`")


def _fresh(name: str, taken: Sequence[str]) -> str:
    """``name``, prefixed with underscores until no column of ``taken`` bears it."""
    while name in taken:
        name = "_" + name
    return name


def _nested(table: DataFrame, routed: DataFrame, name: str) -> DataFrame:
    """``table``'s rows of the routed cases, one row per ``case_id``: a list ``name`` of
    ``(seq, item)`` structs, ``item`` the row but its ``case_id``, ``seq`` its place in
    the table (the lists' own order is not kept by the shuffle)."""
    fields = [c for c in table.columns if c != "case_id"]
    entries = table.select(
        F.col("case_id"),
        F.struct(
            F.monotonically_increasing_id().alias("seq"),
            F.struct(*(_quoted(c) for c in fields)).alias("item"),
        ).alias("__entry"),
    )
    chosen = entries.join(routed, on="case_id", how="left_semi")
    return chosen.groupBy("case_id").agg(F.collect_list("__entry").alias(name))


def _spark_failure(exc: Exception) -> EngineError | OutOfMemoryError:
    """A failed Spark job deciding the portfolio, with its cause: the last Python error
    its message names (a worker's traceback ends with it), else its first line. A
    worker's Python that ran out of memory (a ``MemoryError``, which the per-case step
    raises as an :class:`~collectrules.errors.OutOfMemoryError`) is an
    :class:`~collectrules.errors.OutOfMemoryError` here too: no row is to blame."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line for line in lines if _PYTHON_ERROR.match(line)]
    cause = (named[-1] if named else lines[0] if lines else type(exc).__name__)[:300]
    if _MEMORY_ERROR.match(cause):
        said = (
            f"out of memory in an executor's Python deciding the portfolio: {cause} (give"
            " the executors more memory)"
        )
        return OutOfMemoryError(said)
    msg = (
        f"the Spark job deciding the portfolio failed: {cause} (the per-case rows are"
        " decided in the executors' Python, which needs collectrules at the driver's"
        " version; see docs/howto-spark.md)"
    )
    return EngineError(msg)


def _per_case(
    cases: DataFrame,
    signals: DataFrame | None,
    events: DataFrame | None,
    routed: DataFrame,
    policy: Policy,
    when: pendulum.DateTime,
) -> DataFrame:
    """The routed rows decided on the executors, with the per-case engine in each
    partition's Python worker (:class:`RoutedRows`): nothing of them reaches the driver.

    Each row comes out as its compact decision or as its error (:data:`ERROR`,
    :data:`KIND`); the step runs when the result is computed.
    """
    # Null-safe: a case without an id is routed (a bad row) and gets its error too.
    key = _fresh("__routed_id", cases.columns)
    ids = routed.select(F.col("case_id").alias(key))
    chosen = cases.join(ids, F.col("case_id").eqNullSafe(F.col(key)), "left_semi")
    names: dict[str, str | None] = {"signals": None, "events": None}
    for label, table in (("signals", signals), ("events", events)):
        if table is None:
            continue
        name = _fresh(f"__{label}", chosen.columns)
        chosen = chosen.join(_nested(table, routed, name), on="case_id", how="left")
        names[label] = name
    decide_rows = RoutedRows(policy, when, names["signals"], names["events"])
    schema = T.StructType(
        [
            *COMPACT_SPARK_SCHEMA.fields,
            T.StructField(ERROR, T.StringType()),
            T.StructField(KIND, T.StringType()),
        ]
    )
    return chosen.mapInArrow(decide_rows, schema)
