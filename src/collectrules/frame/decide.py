"""The columnar engine: a portfolio of cases decided as Polars frames.

:func:`decide` reads a cases table and long tables of signals and events, derives
the facts with group-by work, evaluates the policy's conditions as Polars expressions,
and returns the compact decision table of :mod:`collectrules.batch.compact`, one row
per case, in the order of the cases table. See docs/engine.md, "The columnar engine".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs
import numpy as np
import pendulum
import polars as pl
import pyarrow as pa

from collectrules._arguments import (
    require_instance,
    require_int,
    require_optional_callable,
    wrong_kind,
)
from collectrules.batch._arrow import table_from_rows
from collectrules.batch.compact import FIELDS, compact_row
from collectrules.engine import Engine
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    OutOfMemoryError,
)
from collectrules.frame._compile import DTYPES, SEPARATOR, compile_frame
from collectrules.frame._inputs import (
    COLLECT_ENGINE,
    HISTORY_COLUMNS,
    MAX_COLUMNAR_EVENTS,
    MAX_COLUMNAR_SIGNALS,
    ROW,
    as_polars,
    cases_polars,
    check_cases,
    check_events,
    check_signals,
    history_readable,
)
from collectrules.frame._repeats import FrameCaseIds
from collectrules.frame._sections import (
    HISTORY,
    HISTORY_FACT,
    SectionKeys,
    core_names,
    section_keys,
)
from collectrules.frame._unreachable import SINCE, unreachable_stages, with_unreachable_steps
from collectrules.io.arrow import arrow_rows, batch_row
from collectrules.io.repeats import repeated_case
from collectrules.model.case import (
    EVENT_REQUIRED_FIELDS,
    ContactOutcome,
    EventKind,
    minor_unit,
    zone,
)
from collectrules.model.time import local_midnight, require_aware
from collectrules.policy import Policy, load_policy
from collectrules.policy.derive import (
    CURE_SIGNALS,
    DEFAULT_LOOKBACK_DAYS,
    EVENTS_READ,
    UNREACHABLE,
    unreachable_attempts,
)
from collectrules.timeline.stages import AnchorKind, TimelineSection, step_field

__all__ = [
    "COMPACT_SCHEMA",
    "FrameResult",
    "FrameSummary",
    "RowError",
    "decide",
    "decide_rows",
    "frame_counts",
    "section_plan",
]

_PAIRS = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))

#: The Polars schema of the compact decision table (maps as lists of key/value pairs).
COMPACT_SCHEMA: Mapping[str, Any] = {
    name: (
        pl.List(pl.String)
        if name in ("allowed", "blocked", "fired")
        else _PAIRS
        if name in ("classes", "buckets")
        else pl.String
    )
    for name in FIELDS
}

#: The event kinds that keep a case on the columns with no field besides their kind and
#: instant: those the derivation of the core facts does not read (a visit, a notice
#: sent, a suit filed …), which matter to the sections alone; they run on the case's
#: history. (Contact attempts and payments are read, in the columns.)
_BARE_EVENTS = tuple(
    kind.value
    for kind in EventKind
    if kind not in EVENTS_READ and kind not in EVENT_REQUIRED_FIELDS
)

#: Why a row was decided by the per-case engine rather than by the columns.
REASONS = (
    "outside the columnar subset",
    "has events",
    "has an unreachable signal",
    "section key failed",
    "undecided by the columns",
    "unknown section",
    "file the columns cannot read",
)


@attrs.frozen
class RowError:
    """A row that could not be decided: its position, case id, and the error."""

    row: int
    case_id: str | None
    error: CollectRulesError


@attrs.frozen
class FrameSummary:
    """What :func:`decide` did.

    ``rows``, ``decided`` and ``bad`` count the cases; ``columnar`` the rows decided by
    the columns alone; ``per_case`` the rows sent to the per-case engine, by reason
    (``fallback``); ``section_keys`` the distinct keys on which the sections' own
    Python ran (see :mod:`collectrules.frame._sections`; a key already evaluated in an
    earlier chunk of the same run, in the same process, is not counted again: each
    worker process of a run with several jobs evaluates the keys it meets);
    ``orphans`` the signals and events whose ``case_id`` is not in the cases table
    (ignored); ``section_histories`` the distinct histories (a row with events: its
    signals and events) on which the sections' Python ran once per such row, the part
    of a row with events that is not columnar yet (counted in ``section_keys`` too).
    """

    rows: int
    decided: int
    bad: int
    columnar: int
    per_case: int
    fallback: Mapping[str, int]
    section_keys: int
    orphans: int
    counts: Mapping[str, Mapping[str, int]]
    section_histories: int = 0

    def lines(self) -> list[str]:
        """The summary as lines of text, for people."""
        out = [
            f"{self.rows} rows: {self.decided} decided, {self.bad} bad; "
            f"{self.columnar} columnar, {self.per_case} per case"
        ]
        for reason, n in sorted(self.fallback.items()):
            out.append(f"  per case, {reason}: {n}")
        out.append(f"  sections evaluated on {self.section_keys} distinct keys")
        if self.section_histories:
            out.append(
                f"  of which {self.section_histories} rows' own histories (sections per row)"
            )
        if self.orphans:
            out.append(f"  {self.orphans} signals or events name no case; ignored")
        return out


@attrs.frozen
class FrameResult:
    """The compact decisions (a Polars frame, in input order), the bad rows, the summary.

    ``decisions`` has :data:`~collectrules.batch.compact.FIELDS` as columns plus
    ``row`` (the case's position in the cases table); ``classes`` and ``buckets`` are
    lists of ``{key, value}`` pairs, as Arrow writes a map.
    """

    decisions: pl.DataFrame
    errors: tuple[RowError, ...]
    summary: FrameSummary


def _policy(policy: Policy | str) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(policy)


def decide(
    cases: Any,
    signals: Any = None,
    events: Any = None,
    *,
    policy: Policy | str = "default",
    as_of: dt.datetime | str,
) -> FrameResult:
    """Decide every case of ``cases`` at ``as_of`` under ``policy``, as columns.

    ``cases`` has a row per case (``case_id``, ``product``, ``currency``,
    ``principal``, ``overdue_amount``, ``due_date``, ``timezone``, optionally
    ``maturity_date``, ``sicr_rebutted``, ``default_rebutted``, ``debtor_npl_share``,
    ``debtor_90dpd_share_all_banks``, ``opened_on``, ``consecutive_minimum_payments``,
    and any other case field, whose row goes per case); ``signals`` a row per
    signal (``case_id``, ``kind``, ``observed_at``, ``value``, ``note``); ``events`` a
    row per event (``case_id``, ``kind``, ``at``, …). Each is a Polars, pandas or
    pyarrow table. The decisions are the compact rows the per-case engine gives (the
    differential tests check it), in the order of ``cases``; a bad row is in ``errors``
    with the error the per-case engine gives. Each case id is decided once: a row that
    would be decided for an id a row above it was decided for is a bad row (``case
    'C-1' appears twice (decided at cases[0])``), as in ``collectrules batch``.
    """
    when = require_aware(as_of)
    chosen = _policy(policy)
    table, arrow = cases_polars(cases, "cases")
    table = table.with_row_index(ROW)
    if "case_id" not in table.columns:
        if arrow is None or "case_id" not in arrow.schema.names:
            raise InputError([FieldProblem("case_id", "the cases table needs a case_id column")])
        if signals is not None or events is not None:
            kind = arrow.schema.field("case_id").type
            msg = f"expected text case ids to join the signals and events on, got {kind}"
            raise InputError([FieldProblem("cases.case_id", msg)])
        # Ids the columns cannot read: every row goes per case, read from the table.
        table = table.with_columns(pl.lit(None, pl.String).alias("case_id"))
    ids = table.select(ROW, "case_id")
    orphans = 0
    longs: list[pl.DataFrame | None] = []
    for label, frame in (("signals", signals), ("events", events)):
        if frame is None:
            longs.append(None)
            continue
        long = as_polars(frame, label)
        if "case_id" not in long.columns:
            raise InputError([FieldProblem(label, f"the {label} table needs a case_id column")])
        mine, theirs = long.schema["case_id"], ids.schema["case_id"]
        keys = ids
        if isinstance(mine, pl.Categorical | pl.Enum):  # text ids, coded: as the cases'
            long, mine = long.with_columns(pl.col("case_id").cast(pl.String)), pl.String()
        if mine not in (pl.String, pl.Null):
            msg = f"expected text case ids, got a column of {mine}"
            raise InputError([FieldProblem(f"{label}.case_id", msg)])
        if mine == pl.Null:  # no case id at all (a column of nulls): every row an orphan
            long, mine = long.with_columns(pl.col("case_id").cast(theirs)), theirs
        elif isinstance(theirs, pl.Categorical | pl.Enum):  # text ids too, coded
            keys, theirs = ids.with_columns(pl.col("case_id").cast(pl.String)), pl.String()
        if mine != theirs:
            msg = f"expected the type of the cases table's case_id ({theirs}), got {mine}"
            raise InputError([FieldProblem(f"{label}.case_id", msg)])
        long = long.with_row_index("__seq")
        joined = long.join(keys, on="case_id", how="inner").sort([ROW, "__seq"])
        orphans += long.height - long.join(keys, on="case_id", how="semi").height
        longs.append(joined.drop("case_id"))
    row_data = None if arrow is None else _arrow_row_data(arrow, longs[0], longs[1], ids)
    result = decide_rows(
        table, longs[0], longs[1], policy=chosen, as_of=when, orphans=orphans, row_data=row_data
    )
    return _once(result)


def _arrow_row_data(
    cases: pa.Table | pa.RecordBatch,
    signals: pl.DataFrame | None,
    events: pl.DataFrame | None,
    ids: pl.DataFrame,
) -> RowData:
    """The rows' data for the per-case engine (or the errors reading them gave), read from
    the Arrow cases table as ``decide_many`` reads its rows, each with its signals and
    events from the long tables when it has no nested ones (as :func:`_row_dicts`
    gives them): for a table some of whose columns the columns cannot read."""

    def row_data(indices: list[int]) -> list[RowRead]:
        try:
            read = list(arrow_rows(cases.take(indices)))
        except (pa.ArrowException, TypeError, ValueError):  # a type Arrow cannot take from
            read = [batch_row(cases, index) for index in indices]
        looked_up = _with_long_tables(
            list(zip(indices, read, strict=True)), signals, events, ids.schema[ROW]
        )
        return [(data, failure) for _, data, failure in looked_up]

    return row_data


def _once(result: FrameResult) -> FrameResult:
    """``result`` with each decided row whose case id a row above it was decided for
    made a bad row (``case 'C-1' appears twice (decided at cases[0])``), in its place
    among the bad rows: no case is decided twice."""
    decisions = result.decisions
    rows = decisions.get_column("row").to_numpy()
    found = FrameCaseIds().repeats("cases", decisions.get_column("case_id"), rows, lines=False)
    if not found:
        return result
    kept = np.ones(decisions.height, dtype=bool)
    kept[list(found)] = False
    decisions = decisions.filter(pl.Series(kept))
    again = [
        RowError(int(rows[pos]), case_id, repeated_case(case_id, first))
        for pos, (case_id, first) in found.items()
    ]
    summary = attrs.evolve(
        result.summary,
        decided=decisions.height,
        bad=result.summary.bad + len(again),
        counts=frame_counts(decisions),
    )
    errors = tuple(sorted([*result.errors, *again], key=lambda e: e.row))
    return FrameResult(decisions, errors, summary)


def decide_rows(
    cases: pl.DataFrame,
    signals: pl.DataFrame | None,
    events: pl.DataFrame | None,
    *,
    policy: Policy,
    as_of: pendulum.DateTime,
    orphans: int = 0,
    originals: pl.DataFrame | None = None,
    sections: SectionKeys | None = None,
    row_data: RowData | None = None,
) -> FrameResult:
    """:func:`decide` on tables already keyed by ``__row`` (the case's position): the
    door the batch runner uses for files whose rows nest their signals.

    ``originals`` (default: ``cases``) holds the rows as read, for the per-case engine:
    a file's rows with their nested signals and events. ``sections`` (from
    :func:`section_plan`) carries the sections' results from one chunk of a run to the
    next. ``row_data`` (default: the row of ``originals`` as a dict) gives the per-case
    engine a row's data, or the error reading it gave (a CSV file's rows).
    """
    when = require_aware(as_of)
    _check_rows_arguments(cases, signals, events, originals, policy, orphans, sections, row_data)
    kinds = tuple(policy.signals)
    empty_signals = pl.DataFrame(
        {ROW: [], "__seq": [], "kind": [], "observed_at": []},
        schema={ROW: pl.UInt32, "__seq": pl.UInt32, "kind": pl.String, "observed_at": pl.String},
    )
    raw_signals = signals if signals is not None else empty_signals
    checked = check_cases(cases)
    sigs = check_signals(raw_signals, kinds).with_columns(pl.col(ROW).cast(checked.schema[ROW]))
    bad_signal_rows = (
        sigs.group_by(ROW)
        .agg(bad=(~pl.col("__ok")).any(), n=pl.len())
        .filter(pl.col("bad") | (pl.col("n") > MAX_COLUMNAR_SIGNALS))
    )
    routed = (
        checked.filter(~pl.col("__ok"))
        .select(ROW)
        .join(bad_signal_rows.select(ROW), on=ROW, how="full", coalesce=True)
    )
    reasons: dict[str, int] = {}
    with_events = (
        events.select(pl.col(ROW).cast(checked.schema[ROW])).unique()
        if events is not None and events.height
        else pl.DataFrame({ROW: []}, schema={ROW: checked.schema[ROW]})
    )
    outside = routed.unique()
    reasons_rows: list[pl.DataFrame] = []
    if outside.height:
        reasons["outside the columnar subset"] = outside.height
        reasons_rows.append(outside)
    # A row whose events are all contact attempts and payments of the safe subset stays
    # on the columns (the facts they amount to are derived there, the sections run on
    # its history); any other event sends its row per case.
    evs: pl.DataFrame | None = None
    readable = history_readable(signals, "signals") and history_readable(events, "events")
    if with_events.height and events is not None and readable:
        evs = check_events(events, _BARE_EVENTS).with_columns(pl.col(ROW).cast(checked.schema[ROW]))
        fit_rows = (
            evs.group_by(ROW)
            .agg(ok=pl.col("__ok").all() & (pl.len() <= MAX_COLUMNAR_EVENTS))
            .filter(pl.col("ok"))
            .select(ROW)
        )
        evs = evs.join(fit_rows, on=ROW, how="semi")
        events_only = with_events.join(outside, on=ROW, how="anti").join(
            fit_rows, on=ROW, how="anti"
        )
    else:
        events_only = with_events.join(outside, on=ROW, how="anti")
    if events_only.height:
        reasons["has events"] = events_only.height
        reasons_rows.append(events_only)
    if unreachable_stages(policy) is None and _reads_unreachable_steps(policy):
        # An escalation stage anchored on ``unreachable`` moves the phase from the sign's
        # instant, and a stage counting days, weeks, months or business days follows the
        # wall clock; the columns judge neither: a row with the signal is decided case
        # by case when a rule reads what such a step gives (its status, the plan's
        # remedy it performs, the counts of steps open, late or breached, the phase).
        unreachable = (
            sigs.filter(pl.col("kind") == UNREACHABLE)
            .select(ROW)
            .unique()
            .join(outside, on=ROW, how="anti")
            .join(with_events, on=ROW, how="anti")
        )
        if unreachable.height:
            reasons["has an unreachable signal"] = unreachable.height
            reasons_rows.append(unreachable)
    keys = core_names(policy)
    if sections is None:
        sections = section_keys(policy, when, keys)
    known = sections is not None
    per_case = (
        pl.concat(reasons_rows).get_column(ROW)
        if reasons_rows
        else pl.Series(ROW, [], dtype=checked.schema[ROW])
    )
    good = checked.filter(pl.col("__ok")).join(per_case.to_frame(), on=ROW, how="anti")
    if not known:
        if good.height:
            reasons["unknown section"] = good.height
        per_case = pl.concat([per_case, good.get_column(ROW)])
        good = good.clear()
    source = originals if originals is not None else cases
    # The rows already known to go per case are decided on a thread of their own while
    # the columns are computed: Polars releases the interpreter while it works.
    with ThreadPoolExecutor(max_workers=1) as pool:
        early = pool.submit(
            _per_case, source, raw_signals, events, per_case, policy, when, row_data
        )
        return _columns(
            cases,
            checked,
            good,
            sigs,
            evs,
            events,
            raw_signals,
            source,
            per_case,
            early,
            reasons=reasons,
            row_data=row_data,
            policy=policy,
            when=when,
            sections=sections,
            orphans=orphans,
        )


def _check_rows_arguments(
    cases: object,
    signals: object,
    events: object,
    originals: object,
    policy: object,
    orphans: object,
    sections: object,
    row_data: object,
) -> None:
    """The arguments of :func:`decide_rows`, checked for their kinds."""
    keyed = f"a Polars DataFrame with a {ROW} column"
    for name, table in (
        ("cases", cases),
        ("signals", signals),
        ("events", events),
        ("originals", originals),
    ):
        if table is None and name != "cases":
            continue
        if not isinstance(table, pl.DataFrame):
            raise wrong_kind(name, table, f"{keyed} or None" if name != "cases" else keyed)
        if name != "originals" and ROW not in table.columns:
            raise InputError([FieldProblem(name, f"expected {keyed}, got none")])
    require_instance(policy, Policy, "policy", "a Policy")
    require_int(orphans, "orphans", minimum=0)
    if sections is not None:
        require_instance(sections, SectionKeys, "sections", "the plan of section_plan or None")
    require_optional_callable(row_data, "row_data")


def _columns(
    cases: pl.DataFrame,
    checked: pl.DataFrame,
    good: pl.DataFrame,
    sigs: pl.DataFrame,
    evs: pl.DataFrame | None,
    events: pl.DataFrame | None,
    raw_signals: pl.DataFrame,
    source: pl.DataFrame,
    per_case: pl.Series,
    early: Future[tuple[pl.DataFrame, tuple[RowError, ...]]],
    *,
    reasons: dict[str, int],
    row_data: RowData | None,
    policy: Policy,
    when: pendulum.DateTime,
    sections: SectionKeys | None,
    orphans: int,
) -> FrameResult:
    """The rest of :func:`decide_rows`: the columnar rows, then the rows the columns
    could not decide, with those of ``early`` (decided per case meanwhile)."""
    kinds = tuple(policy.signals)
    known = sections is not None
    # The kinds as an enum in name order: comparisons, group-bys and sorts on integers.
    kind = pl.col("kind").cast(pl.Enum(sorted(kinds)))
    fit = sigs.lazy().filter(pl.col("__ok")).with_columns(kind)
    ok_events = None
    rows = good.lazy()
    if evs is not None and evs.height and good.height:
        ok_events = evs.join(good.select(ROW), on=ROW, how="semi")
        if ok_events.height:
            histories = _histories(raw_signals, events, ok_events.select(ROW).unique())
            rows = rows.join(histories.lazy(), on=ROW, how="left")
        else:
            ok_events = None
    facts = _facts(rows, fit, policy, when, ok_events)
    key_count = history_count = 0
    if known and sections is not None and good.height:
        facts, key_count, history_count = _join_sections(facts, sections, when, core_names(policy))
        facts = with_unreachable_steps(facts, unreachable_stages(policy) or (), policy, when)
    compiled = compile_frame(policy)
    # One plan from the facts to the compact table, collected once: only the columns the
    # table needs are held (the facts and the rules' matches are not).
    decided = _compact(compiled.apply(_with_missing(facts, policy)), policy, when).collect(
        engine=COLLECT_ENGINE
    )
    late_rows = pl.col("__undecided") | pl.col("__sbad")
    undecided = decided.filter(late_rows)
    late = undecided.get_column("row").cast(checked.schema[ROW]).alias(ROW)
    if undecided.height:
        bad_keys = undecided.filter(pl.col("__sbad")).height
        if bad_keys:
            reasons["section key failed"] = bad_keys
        if undecided.height - bad_keys:
            reasons["undecided by the columns"] = undecided.height - bad_keys
    columnar = decided.filter(~late_rows).drop("__undecided", "__sbad")
    slow, errors = early.result()
    if late.len():
        slow_late, errors_late = _per_case(
            source, raw_signals, events, late, policy, when, row_data
        )
        slow = pl.concat([slow, slow_late])
        errors = tuple(sorted((*errors, *errors_late), key=lambda e: e.row))
    per_case = pl.concat([per_case, late])
    out = pl.concat([columnar, slow]).sort("row")
    counts = frame_counts(out)
    summary = FrameSummary(
        rows=cases.height,
        decided=out.height,
        bad=len(errors),
        columnar=columnar.height,
        per_case=per_case.len(),
        fallback=reasons,
        section_keys=key_count,
        orphans=orphans,
        counts=counts,
        section_histories=history_count,
    )
    return FrameResult(out, errors, summary)


# --------------------------------------------------------------------------- facts


def _reads_unreachable_steps(policy: Policy) -> bool:
    """Whether a layer or remedy rule of ``policy`` reads a fact that a stage anchored on
    ``unreachable`` sets: the stage's status, the ``plan_`` field of the remedy it
    performs, the counts of steps open, late and breached, and (for an escalation
    stage) the phase. A row whose unreachable sign opens such a stage is decided case by
    case; when no rule reads them, the columns give what the per-case engine gives."""
    return bool(policy.memo("frame_unreachable_reads", lambda: _unreachable_reads(policy)))


def _unreachable_reads(policy: Policy) -> frozenset[str]:
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection):
        return frozenset()
    touched: set[str] = set()
    for plan in section.plans.values():
        for stage in plan.stages:
            if stage.anchor.kind is not AnchorKind.UNREACHABLE:
                continue
            touched |= {step_field(stage.id), "steps_open", "steps_late", "steps_breached"}
            if stage.remedy is not None:
                touched.add(f"plan_{stage.remedy}")
            if stage.escalation:
                touched.add("phase")
    if not touched:
        return frozenset()
    read: set[str] = set()
    for layer in policy.layers:
        read |= layer.inputs()
    for rule in policy.remedy_rules:
        read |= rule.when.fields()
    return frozenset(read & touched)


def section_plan(policy: Policy, as_of: pendulum.DateTime) -> SectionKeys | None:
    """How ``policy``'s sections are evaluated per key at ``as_of``; pass it to every
    :func:`decide_rows` of one run so that a key is evaluated once per run."""
    return section_keys(policy, as_of, core_names(policy))


def _local_dates(zones: Sequence[str], when: pendulum.DateTime) -> dict[str, dt.date]:
    return {name: when.astimezone(zone(name)).date() for name in zones}


def _facts(
    cases: pl.LazyFrame,
    signals: pl.LazyFrame,
    policy: Policy,
    when: pendulum.DateTime,
    events: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """The core facts of the columnar rows: dpd, amounts, signal counts and latest values;
    with ``events`` (checked contact attempts and payments of those rows), the signals
    they amount to and the cures they bring, as ``derive`` reads them."""
    zones = (
        cases.select(pl.col("timezone").unique())
        .collect(engine=COLLECT_ENGINE)
        .get_column("timezone")
        .to_list()
    )
    today = pl.col("timezone").replace_strict(
        _local_dates(zones, when), return_dtype=pl.Date, default=None
    )
    lookback = policy.parameters.get("lookback_days")
    days = int(lookback.value) if lookback is not None else DEFAULT_LOOKBACK_DAYS
    offset = when.utcoffset()
    assert offset is not None
    plain_when = dt.datetime(*when.timetuple()[:6], when.microsecond, tzinfo=dt.timezone(offset))
    end = plain_when.astimezone(dt.UTC)
    start = (plain_when - dt.timedelta(days=days)).astimezone(dt.UTC)
    # The evidence model (policy.derive): a negative sign of willingness or contact stays
    # in force whatever its age, until a later cure lifts it; every other signal counts
    # within the lookback window.
    lasting = _lasting_kinds(policy)
    cases = cases.join(_due_starts(cases), on=["due_date", "timezone"], how="left")
    signals = signals.filter(pl.col("observed_at") <= end)
    cures: pl.LazyFrame | None = None
    reached: pl.LazyFrame | None = None
    if events is not None:
        derived, cures, reached = _event_parts(events, cases, signals, policy, end)
        signals = pl.concat([signals, derived], how="vertical")
    signals = _with_lifted(signals, policy, cures)
    window = signals.filter(
        ~pl.col("__lifted") & ((pl.col("observed_at") > start) | pl.col("kind").is_in(lasting))
    )
    counted = [k for k, spec in policy.signals.items() if not spec.measured]
    measured = [k for k, spec in policy.signals.items() if spec.measured]
    counts = _signal_counts(window, counted) if counted else None
    latest = None
    if measured:
        valued = window.filter(pl.col("kind").is_in(measured) & pl.col("value").is_not_null()).sort(
            [ROW, "observed_at", "__seq"]
        )
        latest = valued.group_by(ROW).agg(
            [pl.col("value").filter(pl.col("kind") == k).last().alias(k) for k in measured]
        )
    local = today.alias("__today")
    frame = cases.with_columns(local).with_columns(
        dpd=pl.when(pl.col("overdue_amount") <= 0)
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise((pl.col("__today") - pl.col("due_date")).dt.total_days().clip(lower_bound=0))
        .cast(pl.Int64),
        guarantors=pl.lit(0, dtype=pl.Int64),
        has_maturity_date=pl.col("maturity_date").is_not_null(),
        days_to_maturity=(pl.col("maturity_date") - pl.col("__today"))
        .dt.total_days()
        .cast(pl.Int64),
    )
    frame = _with_contacted(frame, signals, policy, end, reached)
    # The trace opens with each negative sign in force, by when it was first seen, then
    # each sign a cure lifted, by when it was observed.
    evidence = (
        signals.filter(pl.col("kind").is_in(lasting) & ~pl.col("__lifted"))
        .group_by([ROW, "kind"])
        .agg(pl.col("observed_at").min().alias("__since"))
        .sort([ROW, "__since", "kind"])
        .group_by(ROW, maintain_order=True)
        .agg(("evidence." + pl.col("kind").cast(pl.String)).str.join(SEPARATOR).alias("__evidence"))
    )
    cured = (
        signals.filter(pl.col("__lifted"))
        .sort([ROW, "observed_at", "kind"])
        .group_by(ROW, maintain_order=True)
        .agg(("evidence." + pl.col("kind").cast(pl.String)).str.join(SEPARATOR).alias("__cured"))
    )
    frame = frame.join(evidence, on=ROW, how="left").join(cured, on=ROW, how="left")
    if unreachable_stages(policy):
        # The earliest unreachable sign that counts: the anchor of the steps anchored
        # on ``unreachable`` (frame._unreachable).
        since = (
            window.filter(pl.col("kind") == "unreachable")
            .group_by(ROW)
            .agg(pl.col("observed_at").min().dt.epoch("us").alias(SINCE))
        )
        frame = frame.join(since, on=ROW, how="left")
    if counts is not None:
        frame = frame.join(
            counts.with_columns(pl.col(ROW).cast(frame.collect_schema()[ROW])), on=ROW, how="left"
        ).with_columns([pl.col(k).fill_null(0) for k in counted])
    if latest is not None:
        frame = frame.join(latest, on=ROW, how="left").with_columns(
            [pl.col(k).is_not_null().alias(f"has_{k}") for k in measured]
        )
    return frame


def _signal_counts(window: pl.LazyFrame, counted: Sequence[str]) -> pl.LazyFrame:
    """The count of each kind in ``counted`` per row of the window, one column per kind.

    One pass: each signal's (row, kind) pair is a cell of a rows × kinds table, and
    ``numpy.bincount`` counts the cells (a group-by per kind would pass over the
    signals once per kind).
    """
    codes = {kind: i for i, kind in enumerate(counted)}
    pairs = (
        window.filter(pl.col("kind").is_in(list(counted)))
        .select(
            pl.col(ROW).cast(pl.Int64),
            pl.col("kind").replace_strict(codes, return_dtype=pl.Int64).alias("__k"),
        )
        .collect(engine=COLLECT_ENGINE)
    )
    if not pairs.height:
        schema = {ROW: pl.Int64, **dict.fromkeys(counted, pl.Int64)}
        return pl.LazyFrame(schema=schema)
    rows = pairs.get_column(ROW).to_numpy()
    first = int(rows.min())
    span = int(rows.max()) - first + 1
    # Kind-major cells: each kind's counts are one contiguous row of the table.
    cells = pairs.get_column("__k").to_numpy() * span + (rows - first)
    table = np.bincount(cells, minlength=span * len(counted)).reshape(len(counted), span)
    columns: dict[str, Any] = {ROW: np.arange(first, first + span, dtype=np.int64)}
    columns.update({kind: table[i] for kind, i in codes.items()})
    return pl.LazyFrame(columns)


def _lasting_kinds(policy: Policy) -> list[str]:
    """The signal kinds that stay in force until cured: negative signs of willingness
    and of contact."""
    return [
        k
        for k, spec in policy.signals.items()
        if spec.negative and spec.dimension in ("willingness", "contact")
    ]


def _with_lifted(
    signals: pl.LazyFrame, policy: Policy, events: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """The signals (observed by ``as_of``) with ``__lifted``: a negative sign of
    willingness or contact observed before the row's latest cure, which lifts every such
    sign before it (policy.derive). A cure signal (a kept promise, a signed commitment,
    a payment) and a payment event lift both; a contact attempt that reached the debtor
    (``events``: ``__willing`` false) lifts only the signs of contact."""
    specs = policy.signals
    held = {
        k: spec.dimension
        for k, spec in specs.items()
        if spec.negative and spec.dimension in ("willingness", "contact")
    }
    cures = [k for k in sorted(CURE_SIGNALS) if k in specs]
    if not held or (not cures and events is None):
        return signals.with_columns(__lifted=pl.lit(value=False))
    parts: list[pl.LazyFrame] = []
    if cures:
        parts.append(
            signals.filter(pl.col("kind").is_in(cures)).select(
                pl.col(ROW), pl.col("observed_at").alias("__at"), pl.lit(True).alias("__willing")
            )
        )
    if events is not None:
        parts.append(events.with_columns(pl.col(ROW).cast(signals.collect_schema()[ROW])))
    latest = (
        pl.concat(parts, how="vertical")
        .group_by(ROW)
        .agg(
            pl.col("__at").filter(pl.col("__willing")).max().alias("__wcure"),
            pl.col("__at").max().alias("__ccure"),
        )
    )
    willing = [k for k, d in held.items() if d == "willingness"]
    contact = [k for k, d in held.items() if d == "contact"]
    observed = pl.col("observed_at")
    return (
        signals.join(latest, on=ROW, how="left")
        .with_columns(
            __lifted=(
                (pl.col("kind").is_in(willing) & (observed < pl.col("__wcure")))
                .fill_null(value=False)
                .or_(pl.col("kind").is_in(contact) & (observed < pl.col("__ccure")))
                .fill_null(value=False)
            )
        )
        .drop("__wcure", "__ccure")
    )


#: The outcomes of a contact attempt that reach the debtor (and end a streak).
_REACHED = [ContactOutcome.REACHED.value, ContactOutcome.REFUSED.value]
#: The outcomes that count towards a streak of unanswered attempts.
_UNANSWERED = [ContactOutcome.NO_ANSWER.value, ContactOutcome.UNREACHABLE.value]
#: Where the signals derived from events start their ``__seq``: after the case's own
#: signals, as ``derive`` lists them.
_DERIVED_SEQ = 1 << 40


def _due_starts(cases: pl.LazyFrame) -> pl.LazyFrame:
    """The local midnight that starts each due date in each zone of ``cases``
    (``__due_start``, in UTC), computed once per pair."""
    dated = cases.select(["due_date", "timezone"]).unique().collect(engine=COLLECT_ENGINE)
    return pl.LazyFrame(
        {
            "due_date": dated.get_column("due_date"),
            "timezone": dated.get_column("timezone"),
            "__due_start": [
                None
                if day is None or tz is None
                else local_midnight(day, tz).in_timezone("UTC").naive().replace(tzinfo=dt.UTC)
                for day, tz in dated.iter_rows()
            ],
        },
        schema={
            "due_date": pl.Date,
            "timezone": pl.String,
            "__due_start": pl.Datetime("us", "UTC"),
        },
    )


def _event_parts(
    events: pl.DataFrame,
    cases: pl.LazyFrame,
    signals: pl.LazyFrame,
    policy: Policy,
    end: dt.datetime,
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """What the rows' contact attempts and payments (at or before ``as_of``) amount to,
    as ``policy.derive`` reads them: the signals they derive (a payment of at least one
    minor unit since the due date is a ``partial_payment``; ``unreachable_attempts``
    unanswered attempts in a row, or an invalid number, an ``unreachable`` sign, once
    until the debtor is reached again), the cures they bring (``__at``, ``__willing``),
    and the rows whose debtor was reached since the due date."""
    schema = signals.collect_schema()
    currencies = (
        cases.select(pl.col("currency").unique()).collect(engine=COLLECT_ENGINE).to_series()
    )
    # One minor unit in ten-thousandths (a smaller unit: any amount of one or more).
    minor = {c: max(1, int(minor_unit(c).scaleb(4))) for c in currencies.to_list() if c}
    evs = (
        events.lazy()
        .filter(pl.col("at") <= end)
        .join(
            cases.select(pl.col(ROW).cast(events.schema[ROW]), "__due_start", "currency"),
            on=ROW,
            how="inner",
        )
        .with_columns(
            __pays=(pl.col("kind") == "payment")
            & (
                pl.col("__amount")
                >= pl.col("currency").replace_strict(minor, default=None, return_dtype=pl.Int64)
            ).fill_null(value=False),
            __reach=(pl.col("kind") == "contact_attempt") & pl.col("outcome").is_in(_REACHED),
        )
    )

    def signal(kind: str, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.select(
            pl.col(ROW).cast(schema[ROW]),
            (pl.col("__seq") + _DERIVED_SEQ).cast(schema["__seq"]).alias("__seq"),
            pl.lit(kind).cast(schema["kind"]).alias("kind"),
            pl.col("at").cast(schema["observed_at"]).alias("observed_at"),
            pl.lit(None).cast(schema["value"]).alias("value"),
            pl.lit(value=True).alias("__ok"),
        ).select(list(schema.names()))

    derived: list[pl.LazyFrame] = []
    if "partial_payment" in policy.signals:
        paid = evs.filter(pl.col("__pays") & (pl.col("at") >= pl.col("__due_start")))
        derived.append(signal("partial_payment", paid))
    if UNREACHABLE in policy.signals:
        needed = unreachable_attempts(policy)
        # In time order (ties: the order given); a reach starts a new run of attempts.
        attempts = (
            evs.filter(pl.col("kind") == "contact_attempt")
            .sort([ROW, "at", "__seq"])
            .with_columns(__run=pl.col("__reach").cast(pl.Int64).cum_sum().over(ROW))
            .with_columns(
                __streak=pl.col("outcome")
                .is_in(_UNANSWERED)
                .cast(pl.Int64)
                .cum_sum()
                .over([ROW, "__run"])
            )
            .with_columns(
                __flag=~pl.col("__reach")
                & (
                    (pl.col("outcome") == ContactOutcome.INVALID_NUMBER.value)
                    | (pl.col("__streak") >= needed)
                )
            )
            .with_columns(__nth=pl.col("__flag").cast(pl.Int64).cum_sum().over([ROW, "__run"]))
            .filter(pl.col("__flag") & (pl.col("__nth") == 1))
        )
        derived.append(signal(UNREACHABLE, attempts))
    signals_out = pl.concat(derived, how="vertical") if derived else signals.clear()
    cures = evs.filter(pl.col("__pays") | pl.col("__reach")).select(
        pl.col(ROW), pl.col("at").alias("__at"), pl.col("__pays").alias("__willing")
    )
    reached = (
        evs.filter(pl.col("__reach") & (pl.col("at") >= pl.col("__due_start")))
        .select(pl.col(ROW).cast(schema[ROW]))
        .unique()
    )
    return signals_out, cures, reached


def _with_contacted(
    frame: pl.LazyFrame,
    signals: pl.LazyFrame,
    policy: Policy,
    end: dt.datetime,
    reached: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """``debtor_contacted``: a willingness sign observed since the local midnight that
    starts the due date (``__due_start``), or a contact attempt that reached the debtor
    since then (``reached``, its rows) (policy.derive)."""
    willing = [k for k, spec in policy.signals.items() if spec.dimension == "willingness"]
    parts: list[pl.LazyFrame] = []
    if willing:
        parts.append(
            signals.filter(pl.col("kind").is_in(willing) & (pl.col("observed_at") <= end))
            .join(frame.select([ROW, "__due_start"]), on=ROW, how="inner")
            .filter(pl.col("observed_at") >= pl.col("__due_start"))
            .select(ROW)
        )
    if reached is not None:
        parts.append(reached.with_columns(pl.col(ROW).cast(frame.collect_schema()[ROW])))
    if not parts:
        return frame.with_columns(debtor_contacted=pl.lit(False)).drop("__due_start")
    since = pl.concat(parts, how="vertical").unique().with_columns(__contacted=pl.lit(True))
    return (
        frame.join(since, on=ROW, how="left")
        .with_columns(debtor_contacted=pl.col("__contacted").fill_null(False))
        .drop(["__contacted", "__due_start"])
    )


def _join_sections(
    facts: pl.LazyFrame, sections: SectionKeys, when: pendulum.DateTime, core: Sequence[str]
) -> tuple[pl.LazyFrame, int, int]:
    """The facts with the sections' results joined, the keys evaluated, and of those the
    rows' own histories."""
    keyed = sections.with_key(facts).collect(engine=COLLECT_ENGINE)
    key = list(sections.key)
    needed = list(dict.fromkeys([*key, *core, "principal", "overdue_amount"]))
    needed = [n for n in needed if n in keyed.columns]
    histories = None
    if HISTORY in keyed.columns:
        histories = keyed.filter(pl.col(HISTORY).is_not_null())
        keyed = keyed.filter(pl.col(HISTORY).is_null())
    distinct = keyed.unique(subset=key, keep="first", maintain_order=True).select(needed)
    results, evaluated = sections.evaluate(distinct, when, core)
    joined = keyed.lazy().join(results.lazy(), on=key, how="left", nulls_equal=True)
    if histories is None or not histories.height:
        return joined, evaluated, 0
    # A row with events: keyed by its history too (and its amounts, which a section
    # reading payments may compare), its sections run on a case holding its signals and
    # events; the sections' event facts are then that case's.
    by = list(dict.fromkeys([*key, HISTORY, "principal", "overdue_amount"]))
    chosen = histories.unique(subset=by, keep="first", maintain_order=True).select(
        list(dict.fromkeys([*needed, *by]))
    )
    found = sections.evaluate_histories(chosen, when, core)
    own = histories.join(found, on=by, how="left", nulls_equal=True)
    own = own.with_columns(
        [pl.col(f"{HISTORY_FACT}{name}").alias(name) for name in sections.constants]
    ).drop([f"{HISTORY_FACT}{name}" for name in sections.constants])
    columns = joined.collect_schema().names()
    both = pl.concat([joined, own.lazy().select(columns)], how="vertical")
    return both, evaluated + found.height, found.height


def _histories(
    signals: pl.DataFrame, events: pl.DataFrame | None, rows: pl.DataFrame
) -> pl.DataFrame:
    """The history of each of ``rows`` (with events): its signals and events as JSON text,
    in the order given, from the columns the per-case engine reads them from
    (:data:`~collectrules.frame._inputs.HISTORY_COLUMNS`)."""

    def listed(table: pl.DataFrame | None, name: str) -> pl.DataFrame:
        if table is None or not table.height:
            return pl.DataFrame(schema={ROW: rows.schema[ROW], name: pl.String})
        if "__seq" not in table.columns:
            table = table.with_row_index("__seq")
        columns = [c for c in HISTORY_COLUMNS[name] if c in table.columns]
        return (
            table.with_columns(pl.col(ROW).cast(rows.schema[ROW]))
            .join(rows, on=ROW, how="semi")
            .sort([ROW, "__seq"])
            .group_by(ROW, maintain_order=True)
            .agg(pl.struct(columns).struct.json_encode().str.join(",").alias(name))
        )

    text = pl.concat_str(
        pl.lit('{"signals":['),
        pl.col("signals").fill_null(""),
        pl.lit('],"events":['),
        pl.col("events").fill_null(""),
        pl.lit("]}"),
    )
    return (
        rows.join(listed(signals, "signals"), on=ROW, how="left")
        .join(listed(events, "events"), on=ROW, how="left")
        .select(pl.col(ROW), text.alias(HISTORY))
    )


def _with_missing(frame: pl.LazyFrame, policy: Policy) -> pl.LazyFrame:
    """Every field of the policy's schema as a column (null where a row lacks it)."""
    present = set(frame.collect_schema().names())
    missing = [
        pl.lit(None, dtype=DTYPES[spec.type]).alias(name)
        for name, spec in policy.schema().items()
        if name not in present and not any(layer.output == name for layer in policy.layers)
    ]
    extra = []
    for name, dtype in (
        ("__classes", _PAIRS),
        ("__buckets", _PAIRS),
    ):
        if name not in present:
            extra.append(pl.lit([], dtype=dtype).alias(name))
    if "__sfired" not in present:
        extra.append(pl.lit(None, dtype=pl.String).alias("__sfired"))
    if "__sbad" not in present:
        extra.append(pl.lit(value=False).alias("__sbad"))
    return frame.with_columns([*missing, *extra])


def _trace() -> pl.Expr:
    """The trace's ids: the evidence in force, the signs cured, the layers' and
    remedies' entries, the sections' own; each part is a text of ids joined by
    :data:`SEPARATOR`, and the whole is split once."""
    parts = ["__evidence", "__cured", "__fired", "__sfired"]
    text = pl.concat_str([pl.col(p) for p in parts], separator=SEPARATOR, ignore_nulls=True)
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(text.str.split(SEPARATOR))
    )


def _compact(decided: pl.LazyFrame, policy: Policy, when: pendulum.DateTime) -> pl.LazyFrame:
    """The compact table's columns, with the flags of the rows the columns could not
    decide (``__undecided``, ``__sbad``)."""
    levels = {layer.output for layer in policy.layers}
    return decided.select(
        pl.col(ROW).cast(pl.Int64).alias("row"),
        pl.col("case_id"),
        pl.lit(when.isoformat()).alias("as_of"),
        pl.col("quadrant"),
        (pl.col("willingness") if "willingness" in levels else pl.lit(None, pl.String)).alias(
            "willingness"
        ),
        (pl.col("ability") if "ability" in levels else pl.lit(None, pl.String)).alias("ability"),
        pl.col("allowed"),
        pl.col("blocked"),
        _trace().alias("fired"),
        pl.col("__classes").fill_null([]).alias("classes"),
        pl.col("__buckets").fill_null([]).alias("buckets"),
        pl.lit(policy.id).alias("policy_id"),
        pl.lit(policy.version).alias("policy_version"),
        pl.lit(policy.content_hash).alias("policy_hash"),
        pl.col("__undecided"),
        pl.col("__sbad"),
    ).cast(pl.Schema(COMPACT_SCHEMA))


# --------------------------------------------------------------------------- per case


def _python_rows(frame: pl.DataFrame) -> list[dict[str, Any] | InputError]:
    """The rows of ``frame`` as the per-case reader reads a pyarrow table's: plain dicts,
    through Arrow (a value Python cannot hold, such as a date past the year 9999, makes
    its row an :class:`InputError` naming the column)."""
    return list(arrow_rows(frame.to_arrow()))


def _dicts(
    frame: pl.DataFrame, rows: pl.Series, label: str
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, InputError]]:
    """The long table's rows for ``rows``, as lists of dicts by row; and, for a row one of
    whose signals (events) holds a value Python cannot hold, its error."""
    chosen = frame.join(rows.to_frame(), on=ROW, how="semi")
    indices = chosen.get_column(ROW).to_list()
    drop = [name for name in (ROW, "__seq", "case_id") if name in chosen.columns]
    out: dict[int, list[dict[str, Any]]] = {}
    errors: dict[int, InputError] = {}
    for index, value in zip(indices, _python_rows(chosen.drop(drop)), strict=True):
        if isinstance(value, InputError):
            problems = [attrs.evolve(p, path=f"{label}.{p.path}") for p in value.problems]
            errors.setdefault(int(index), InputError(problems))
            continue
        out.setdefault(int(index), []).append(value)
    return out, errors


#: A row's data, or the error reading it gave.
RowRead = tuple[dict[str, Any] | None, CollectRulesError | None]
#: The rows' data for the per-case engine, from their indices (sorted), in their order:
#: each a dict, or the error reading it gave. Read together: a file's per-case rows are
#: converted in one pass, not one at a time.
RowData = Callable[[list[int]], list[RowRead]]


def _row_dicts(
    cases: pl.DataFrame,
    signals: pl.DataFrame,
    events: pl.DataFrame | None,
    rows: pl.Series,
    row_data: RowData | None,
) -> list[tuple[int, dict[str, Any] | None, CollectRulesError | None]]:
    """Each of ``rows`` (sorted) as the per-case engine reads it.

    A row's signals (events) come from its own nested list when ``cases`` has one, else
    from the long table: only the rows without are looked up there.
    """
    if row_data is not None:
        indices = [int(index) for index in rows.to_list()]
        return [(i, *read) for i, read in zip(indices, row_data(indices), strict=True)]
    chosen = cases.join(rows.to_frame(), on=ROW, how="semi").sort(ROW)
    indices = [int(i) for i in chosen.get_column(ROW).to_list()]
    read = list(zip(indices, _python_rows(chosen.drop(ROW)), strict=True))
    return _with_long_tables(read, signals, events, rows.dtype)


def _with_long_tables(
    read: list[tuple[int, dict[str, Any] | InputError]],
    signals: pl.DataFrame | None,
    events: pl.DataFrame | None,
    dtype: Any,
) -> list[tuple[int, dict[str, Any] | None, CollectRulesError | None]]:
    """The cases' rows ``read`` (each with its index), each with its signals and events
    from the long tables when it has no nested ones; a row one of whose signals (events)
    cannot be read is that error."""
    readable = [(i, data) for i, data in read if not isinstance(data, InputError)]
    without = [i for i, data in readable if "signals" not in data]
    sig, sig_errors = (
        _dicts(signals, pl.Series(ROW, without, dtype=dtype), "signals")
        if signals is not None and without
        else ({}, {})
    )
    unread = [i for i, data in readable if "events" not in data]
    evs, ev_errors = (
        _dicts(events, pl.Series(ROW, unread, dtype=dtype), "events")
        if events is not None and unread
        else ({}, {})
    )
    out: list[tuple[int, dict[str, Any] | None, CollectRulesError | None]] = []
    for index, data in read:
        failure = data if isinstance(data, InputError) else sig_errors.get(index)
        failure = failure or ev_errors.get(index)
        if failure is not None:
            out.append((index, None, failure))
            continue
        assert not isinstance(data, InputError)
        data.setdefault("signals", sig.get(index, []))
        if index in evs:
            data.setdefault("events", evs[index])
        out.append((index, data, None))
    return out


def _per_case(
    cases: pl.DataFrame,
    signals: pl.DataFrame,
    events: pl.DataFrame | None,
    rows: pl.Series,
    policy: Policy,
    when: pendulum.DateTime,
    row_data: RowData | None = None,
) -> tuple[pl.DataFrame, tuple[RowError, ...]]:
    """Decide ``rows`` one at a time with the per-case engine (generated back end)."""
    if not rows.len():
        return pl.DataFrame(schema={"row": pl.Int64, **COMPACT_SCHEMA}), ()
    rows = rows.unique().sort()
    engine = Engine(policy, backend="python")
    out: list[dict[str, Any]] = []
    errors: list[RowError] = []
    read = _row_dicts(cases, signals, events, rows, row_data)
    # One run of decide_many over every row read: its results, one a row, in order.
    results = engine.decide_many(
        [data for _, data, _ in read if data is not None], as_of=when, repeats="decide"
    )
    for index, data, failure in read:
        if data is None:
            assert failure is not None
            errors.append(RowError(index, None, failure))
            continue
        raw_id = data.get("case_id")
        case_id = raw_id if isinstance(raw_id, str) else None
        result = next(results)
        if result.decision is None:
            assert result.error is not None
            errors.append(RowError(index, result.case_id or case_id, result.error))
            continue
        try:
            row = compact_row(result.decision)
        except MemoryError as exc:  # the process's, not the row's
            raise OutOfMemoryError.of(exc) from exc
        except Exception as exc:  # one row's failure is that row's error
            message = f"internal error: {type(exc).__name__}: {str(exc)[:300]}"
            errors.append(RowError(index, case_id, EngineError(message)))
            continue
        row["row"] = index
        out.append(row)
    # Through Arrow: many times faster than Polars reading a list of dicts (its struct
    # lists), and without loading pandas (see collectrules.batch._arrow).
    frame = pl.from_arrow(table_from_rows(out, _PER_CASE_ARROW))
    assert isinstance(frame, pl.DataFrame)
    return frame, tuple(errors)


_PAIRS_STRUCT = pa.struct([("key", pa.large_string()), ("value", pa.large_string())])

#: The Arrow schema of :func:`_per_case`'s rows: ``row``, then the compact columns, each
#: of the Arrow type Polars reads as its type in :data:`COMPACT_SCHEMA` (the large
#: types, which Polars gives its series as).
_PER_CASE_ARROW = pa.schema(
    [
        ("row", pa.int64()),
        *(
            (
                name,
                pa.large_list(pa.large_string())
                if name in ("allowed", "blocked", "fired")
                else pa.large_list(_PAIRS_STRUCT)
                if name in ("classes", "buckets")
                else pa.large_string(),
            )
            for name in FIELDS
        ),
    ]
)


def frame_counts(out: pl.DataFrame) -> dict[str, dict[str, int]]:
    """The decisions counted by quadrant, and by class and bucket per pack or set."""
    counts: dict[str, dict[str, int]] = {}
    if not out.height:
        return counts
    for value, n in out.group_by("quadrant").len().iter_rows():
        counts.setdefault("quadrant", {})[value] = n
    for column, prefix in (("classes", "class"), ("buckets", "bucket")):
        pairs = out.select(pl.col(column).explode()).unnest(column).drop_nulls()
        for key, value, n in pairs.group_by("key", "value").len().iter_rows():
            counts.setdefault(f"{prefix}:{key}", {})[value] = n
    return counts
