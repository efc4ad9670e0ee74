"""Steps anchored on ``unreachable``, judged in the columns.

A stage anchored on ``unreachable`` (the default policy's L-UNREACHABLE) counts from the
instant the decision found the debtor unreachable: the earliest unreachable sign in
force, or the first day overdue if that is later. That instant differs from row to
row, so no key of the sections holds it (the keys' cases have no signal: they give the
stage as skipped). For a row without events, the step's status at ``as_of`` depends on
its anchor only through three comparisons: the anchors from which the step is upcoming,
open and late (:func:`~collectrules.timeline.evaluate.step_bounds`, computed once per
stage and zone). The status, the counts of steps open, late and breached and the
``plan_`` field of the remedy the stage performs are then set in the columns, as the
per-case engine sets them.

An escalation stage anchored on ``unreachable`` also moves the phase; the columns do not
judge that. Nor do they judge a stage with an offset in days, weeks, months or business
days: those follow the wall clock, and where the zone's clocks change a later anchor can
give an earlier time, so no three bounds hold
(:func:`~collectrules.timeline.evaluate.hourly`). :func:`unreachable_stages` gives
``None`` for such a policy, and a row with an unreachable sign goes to the per-case
engine when a rule reads what the stage gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pendulum
import polars as pl

from collectrules.frame._inputs import COLLECT_ENGINE
from collectrules.frame._sections import HISTORY
from collectrules.model.time import local_midnight
from collectrules.policy import Policy
from collectrules.timeline.evaluate import hourly, micros, step_bounds
from collectrules.timeline.stages import AnchorKind, Stage, TimelineSection, step_field

__all__ = ["SINCE", "UnreachableStage", "unreachable_stages", "with_unreachable_steps"]

#: The column of the earliest unreachable sign that counts (microseconds since the epoch).
SINCE = "__usince"
#: The signal kind, and the fact that counts its signs.
_KIND = "unreachable"
_COUNTS = ("steps_open", "steps_late", "steps_breached")


@attrs.frozen
class UnreachableStage:
    """A stage anchored on ``unreachable``: its status field, the ``plan_`` field of the
    remedy it performs, the products whose plan holds it, and the key column of its
    condition (``__stage<i>``)."""

    stage: Stage
    field: str
    plan_field: str | None
    products: tuple[str, ...]
    test: str


def unreachable_stages(policy: Policy) -> tuple[UnreachableStage, ...] | None:
    """The policy's stages anchored on ``unreachable`` (none: an empty tuple); ``None``
    when one of them is an escalation stage, or has an offset that does not count hours
    (:func:`~collectrules.timeline.evaluate.hourly`): the columns do not judge those."""
    return policy.memo("frame_unreachable_stages", lambda: _stages(policy))  # type: ignore[no-any-return]


def _stages(policy: Policy) -> tuple[UnreachableStage, ...] | None:
    section = policy.sections.get("timeline")
    if not isinstance(section, TimelineSection) or _KIND not in policy.signals:
        return ()
    # The key columns of the stage conditions, in the order section_keys adds them after
    # the first (whether anything is owed).
    tests: dict[int, str] = {}
    index = 1
    for plan in section.plans.values():
        for stage in plan.stages:
            tests[id(stage)] = f"__stage{index}"
            index += 1
    found: list[UnreachableStage] = []
    for plan in section.plans.values():
        for stage in plan.stages:
            if stage.anchor.kind is not AnchorKind.UNREACHABLE:
                continue
            if stage.escalation or not hourly(stage):
                return None
            products = tuple(
                sorted(p for p, name in section.products.items() if section.plans.get(name) is plan)
            )
            remedy = None if stage.remedy is None else f"plan_{stage.remedy}"
            found.append(
                UnreachableStage(stage, step_field(stage.id), remedy, products, tests[id(stage)])
            )
    return tuple(found)


def with_unreachable_steps(
    frame: pl.LazyFrame, stages: Sequence[UnreachableStage], policy: Policy, when: pendulum.DateTime
) -> pl.LazyFrame:
    """``frame`` (the columnar rows' facts, joined with the sections' results by key) with
    the status of each stage of ``stages`` judged per row, and the counts of steps and
    the ``plan_`` fields it moves."""
    if not stages:
        return frame
    schema = frame.collect_schema()
    at = micros(when)
    frame = frame.join(_overdue_starts(frame), on=["due_date", "timezone"], how="left")
    spans = (
        frame.filter(pl.col(_KIND) >= 1)
        .group_by("timezone")
        .agg(pl.max_horizontal(SINCE, "__ustart").min().alias("__first"))
        .collect(engine=COLLECT_ENGINE)
    )
    earliest = dict(spans.iter_rows())
    reachable = pl.col(_KIND).fill_null(0) < 1
    opened = late = breached = pl.lit(0, dtype=pl.Int64)
    plans: dict[str, pl.Expr] = {}
    updates: dict[str, pl.Expr] = {}
    for item in stages:
        bounds = {
            tz: step_bounds(policy, item.stage, tz, when, first)
            for tz, first in earliest.items()
            if first is not None
        }
        in_plan = pl.col("product").is_in(list(item.products))
        if HISTORY in schema:  # a row with events: its sections ran on its history
            in_plan = in_plan & pl.col(HISTORY).is_null()
        anchor = pl.max_horizontal(SINCE, "__ustart")

        def bound(i: int, bounds: Mapping[str, tuple[int, int, int]] = bounds) -> pl.Expr:
            table = {tz: b[i] for tz, b in bounds.items()}
            return pl.col("timezone").replace_strict(table, default=None, return_dtype=pl.Int64)

        applies = pl.col("__stage0") & pl.col(item.test) & ~reachable
        status = (
            pl.when(~applies)
            .then(pl.lit("skipped"))
            .when(pl.col("__ustart") > at)  # nothing overdue yet: the anchor waits
            .then(pl.lit("upcoming"))
            .when(anchor >= bound(0))
            .then(pl.lit("upcoming"))
            .when(anchor >= bound(1))
            .then(pl.lit("open"))
            .when(anchor >= bound(2))
            .then(pl.lit("late"))
            .otherwise(pl.lit("breached"))
        )
        # A row whose debtor can be reached has the stage skipped, whatever the key's
        # first row gave.
        judged = pl.when(reachable).then(pl.lit("skipped")).otherwise(status)
        updates[item.field] = (
            pl.when(in_plan).then(judged).otherwise(pl.col(item.field).cast(pl.String))
        ).cast(schema[item.field])
        counted = in_plan & ~reachable
        opened = opened + (counted & (status == "open")).cast(pl.Int64)
        late = late + (counted & (status == "late")).cast(pl.Int64)
        breached = breached + (counted & (status == "breached")).cast(pl.Int64)
        if item.plan_field is not None and item.plan_field in schema:
            acting = counted & status.is_in(["open", "late", "breached"])
            plans[item.plan_field] = plans.get(item.plan_field, pl.col(item.plan_field)) | acting
    for name, add in zip(_COUNTS, (opened, late, breached), strict=True):
        if name in schema:
            updates[name] = (pl.col(name) + add).cast(schema[name])
    updates.update(plans)
    return frame.with_columns(**updates).drop("__ustart", SINCE)


def _overdue_starts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The first day overdue of each due date and zone of ``frame``, as an instant
    (``__ustart``, microseconds since the epoch): local midnight of the day after."""
    pairs = frame.select(["due_date", "timezone"]).unique().collect(engine=COLLECT_ENGINE)
    starts: list[int | None] = []
    for day, tz in pairs.iter_rows():
        if day is None or tz is None:
            starts.append(None)
            continue
        starts.append(micros(local_midnight(day + dt.timedelta(days=1), tz)))
    data: dict[str, Any] = {
        "due_date": pairs.get_column("due_date"),
        "timezone": pairs.get_column("timezone"),
        "__ustart": pl.Series("__ustart", starts, dtype=pl.Int64),
    }
    return pl.LazyFrame(data)
