"""Builders and strategies shared by the timeline, promise, deadline and calendar tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import strategies as st

from collectrules import Case, Event, Guarantor, Policy, PolicyError, load_policy
from collectrules.errors import FieldProblem
from collectrules.policy import policy_from_dict

SH = "Asia/Shanghai"
NY = "America/New_York"


def at(text: str, tz: str = SH) -> pendulum.DateTime:
    """A local instant ``YYYY-MM-DD HH:MM[:SS]`` in ``tz``."""
    return pendulum.parse(text, tz=tz)  # type: ignore[return-value]


def event(kind: str, when: str, tz: str = SH, **fields: Any) -> dict[str, Any]:
    """An event dict at the local time ``when``."""
    return {"kind": kind, "at": at(when, tz).isoformat(), **fields}


def loan(*events: dict[str, Any], **overrides: Any) -> Case:
    """A loan due 2026-03-31 in Shanghai with the given events."""
    data: dict[str, Any] = {
        "case_id": "TL-1",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-03-31",
        "timezone": SH,
        "events": list(events),
    }
    data.update(overrides)
    return Case.from_dict(data)


@cache
def default() -> Policy:
    return load_policy("default")


def variant(**sections: Any) -> Policy:
    """The default policy with top-level keys merged over it (one level deep)."""
    data: dict[str, Any] = {"extends": "default", "id": "variant", "version": "1"}
    data.update(sections)
    return policy_from_dict(data, source="variant.toml")


def stage(**keys: Any) -> dict[str, Any]:
    """A valid loan-plan stage table, with ``keys`` replacing or adding keys."""
    table: dict[str, Any] = {
        "id": "S-1",
        "anchor": "overdue_start",
        "within": "3 days",
        "action": "Do the thing.",
        "channel": "phone",
        "owner": "account_manager",
        "completed_by": ["contact_attempt:reached"],
    }
    table.update(keys)
    return {k: v for k, v in table.items() if v is not None}


def with_plan(*stages: dict[str, Any], **timeline: Any) -> Policy:
    """The default policy with the loan plan replaced by ``stages``."""
    return variant(timeline={"plans": {"loan": list(stages)}, **timeline})


# --------------------------------------------------------------------------- strategies

EVENT_KINDS = (
    "payment", "contact_attempt", "visit", "demand_letter_signed", "report_filed",
    "plan_issued", "notice_sent", "lawyer_letter_sent", "demand_delivered", "promise_made",
    "debtor_acknowledged", "suit_filed", "arbitration_filed",
)  # fmt: skip
OUTCOMES = ("reached", "no_answer", "invalid_number", "refused")
DUE = dt.date(2026, 3, 31)


@st.composite
def events(
    draw: st.DrawFn,
    *,
    tz: str = SH,
    start: dt.date = DUE,
    days: int = 40,
    kinds: tuple[str, ...] = EVENT_KINDS,
) -> Event:
    """An event within ``days`` days from 00:00 of ``start`` (local time of ``tz``)."""
    minutes = draw(st.integers(min_value=0, max_value=days * 24 * 60))
    when = pendulum.datetime(start.year, start.month, start.day, tz=tz).add(minutes=minutes)
    kind = draw(st.sampled_from(kinds))
    fields: dict[str, Any] = {}
    if kind == "contact_attempt":
        fields["outcome"] = draw(st.sampled_from(OUTCOMES))
    if kind == "payment":
        fields["amount"] = Decimal(draw(st.integers(min_value=0, max_value=6000)))
    if kind == "promise_made":
        fields["amount"] = Decimal(draw(st.integers(min_value=0, max_value=6000)))
        fields["promised_date"] = when.date() + dt.timedelta(days=draw(st.integers(0, 10)))
    if kind in ("demand_delivered", "suit_filed") and draw(st.booleans()):
        fields["party"] = "G-1"
    return Event(kind=kind, at=when, **fields)


@st.composite
def cases(
    draw: st.DrawFn, *, tz: str = SH, max_events: int = 8, product: str | None = None
) -> Case:
    """A case due 2026-03-31 in ``tz`` with random events (and sometimes a guarantor)."""
    chosen = product or draw(st.sampled_from(["loan", "credit_card", "receivable", "property_fee"]))
    return Case(
        case_id="H-1",
        product=chosen,
        currency="CNY",
        principal=Decimal(100000),
        overdue_amount=Decimal(draw(st.sampled_from([0, 5000]))),
        due_date=DUE,
        timezone=tz,
        events=tuple(draw(st.lists(events(tz=tz), max_size=max_events))),
        guarantors=(Guarantor("G-1"),) if draw(st.booleans()) else (),
    )


def as_ofs(tz: str = SH, days: int = 60) -> st.SearchStrategy[pendulum.DateTime]:
    """An instant within ``days`` days from the due date."""
    base = pendulum.datetime(DUE.year, DUE.month, DUE.day, tz=tz)
    return st.integers(min_value=0, max_value=days * 24 * 60).map(lambda m: base.add(minutes=m))


# --------------------------------------------------------------------------- offsets

#: Each form of an offset (a stage's or an emergency step's ``within`` …), and whether
#: it is a valid one: the schema and the loader must agree on each. ``wait_days`` is a
#: parameter of the policy.
OFFSET_FORMS: list[tuple[Any, bool]] = [
    ("5 business days", True),
    ("3d", True),
    ("4 hours", True),
    ({"param": "wait_days", "unit": "days"}, True),
    ({"param": "wait_days", "unit": "business_days"}, True),
    ({"param": "wait_days"}, False),
    ({"unit": "days"}, False),
    ({"param": "wait_days", "unit": "fortnights"}, False),
    ({"param": "wait_days", "unit": "business days"}, False),
    ({"param": "wait_days", "unit": "days", "amount": 3}, False),
    ({"param": "Wait-Days", "unit": "days"}, False),
    ({"param": 5, "unit": "days"}, False),
    (5, False),
    ("five days", False),
    ("3 fortnights", False),
]

#: Bad offsets that name a parameter: the TOML lines (``within``, and ``limit``), the
#: value of parameter ``wait_days``, where the problem is reported (the key, or the
#: parameter) and what its message says.
BAD_PARAMETER_OFFSETS = [
    pytest.param(
        'within = { param = "wait_dayz", unit = "days" }',
        "10",
        "within",
        "expected 'param' to name a parameter",
        id="missing-parameter",
    ),
    pytest.param(
        'within = { param = 5, unit = "days" }',
        "10",
        "within",
        "expected 'param' to name a parameter",
        id="param-not-a-name",
    ),
    pytest.param('within = { unit = "days" }', "10", "within", "expected 'param'", id="no-param"),
    pytest.param(
        'within = { param = "wait_days", unit = "days" }',
        "2.5",
        "parameters.wait_days",
        "expected a non-negative whole number up to 3660, got 2.5",
        id="not-whole",
    ),
    pytest.param(
        'within = { param = "wait_days", unit = "days" }',
        "-1",
        "parameters.wait_days",
        "got -1",
        id="negative",
    ),
    pytest.param(
        'within = { param = "wait_days", unit = "days" }',
        '"ten"',
        "parameters.wait_days",
        "got 'ten'",
        id="text",
    ),
    pytest.param(
        'within = { param = "wait_days", unit = "days" }',
        "true",
        "parameters.wait_days",
        "got True",
        id="boolean",
    ),
    pytest.param('within = { param = "wait_days" }', "10", "within", "needs a unit", id="no-unit"),
    pytest.param(
        'within = { param = "wait_days", unit = "fortnights" }',
        "10",
        "within",
        "needs a unit",
        id="unknown-unit",
    ),
    pytest.param(
        'within = { param = "wait_days", unit = "days", amount = 3 }',
        "10",
        "within",
        "unknown key 'amount'",
        id="unknown-key",
    ),
    pytest.param(
        'within = "3 days"\nlimit = { param = "nope", unit = "days" }',
        "10",
        "limit",
        "expected 'param' to name a parameter",
        id="limit",
    ),
]


def refused_offset(path: Path, key: str, message: str, where: str) -> FieldProblem:
    """The one problem for which the policy at ``path`` is refused, checked: a bad
    offset at ``where.key`` (``key`` is ``within``, ``after`` or ``limit``), on the line
    that gives it, or a bad value of parameter ``key`` (``parameters.wait_days``), on
    the line of its table; its message holds ``message``."""
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    lines = path.read_text(encoding="utf-8").splitlines()
    assert problem.source is not None
    assert Path(problem.source).name == path.name
    assert problem.line is not None
    assert message in problem.message
    if key.startswith("parameters."):
        assert problem.path == key
        assert lines[problem.line - 1] == f"[{key}]"
    else:
        assert problem.path == f"{where}.{key}"
        assert lines[problem.line - 1].startswith(f"{key} = ")
    return problem
