"""Cases with contact attempts and payments are decided by the columns, as per case.

The columns derive what those events amount to (a ``partial_payment`` since the due date,
an ``unreachable`` sign after unanswered attempts in a row or an invalid number, the
cures they bring, ``debtor_contacted``), and the sections run on the row's history;
an event of a kind the derivation does not read (a visit, a notice, a suit …) matters
to the sections alone. A promise to pay, an event with another field (a party, a note)
or one the columns cannot read exactly still sends its row per case, counted under
"has events".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from collectrules import frame  # noqa: E402
from collectrules.model.case import Case, ContactOutcome, minor_unit  # noqa: E402
from collectrules.model.time import local_midnight  # noqa: E402
from collectrules.policy import load_policy  # noqa: E402
from collectrules.testing.strategies import cases, events  # noqa: E402
from test_frame import AS_OFS, SHIPPED, assert_agree  # noqa: E402

#: Offsets from the due date's local midnight that stage deadlines and windows fall on
#: (hours and days), each met a second early, on the dot and a second late.
_STEPS = (0, 1, 24, 48, 72, 24 * 3 + 12, 24 * 7, 24 * 15, 24 * 30, 24 * 31, 24 * 60, 24 * 90)


def _text(at: dt.datetime) -> str:
    return at.isoformat()


@st.composite
def _history(draw: st.DrawFn, case: Case, as_of: pendulum.DateTime, window: int) -> list[dict]:
    """Up to seven contact attempts and payments, at the instants that matter: a second
    either side of ``as_of``, of the due date's start, of the lookback window's start,
    of the case's own signals, and of the stage offsets counted from the due date."""
    zone = case.timezone
    due_start = pendulum.instance(local_midnight(case.due_date, zone))
    local = as_of.in_timezone(zone)
    anchors = [
        local,
        due_start,
        local.subtract(days=window),
        *(pendulum.instance(s.observed_at) for s in case.signals),
        *(due_start.add(hours=h) for h in _STEPS),
    ]
    pinned = st.builds(
        lambda base, shift: base.add(seconds=shift),
        st.sampled_from(anchors),
        st.sampled_from((-1, 0, 1)),
    )
    anywhere = st.integers(min_value=0, max_value=window + 30).map(
        lambda age: local.subtract(seconds=age * 86_400 // 3)
    )
    unit = minor_unit(case.currency)
    amounts = st.sampled_from(
        [
            Decimal(0),
            unit,
            unit - Decimal("0.0001") if unit > Decimal("0.0001") else Decimal("0.0001"),
            unit / 10 if unit >= Decimal("0.001") else unit,
            Decimal("12.5"),
            case.overdue_amount,
        ]
    )
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=7))):
        at = draw(pinned | anywhere)
        if draw(st.integers(min_value=0, max_value=2)):
            outcome = draw(st.sampled_from([o.value for o in ContactOutcome]))
            out.append({"kind": "contact_attempt", "at": _text(at), "outcome": outcome})
        else:
            amount = draw(amounts)
            out.append({"kind": "payment", "at": _text(at), "amount": str(amount)})
    return out


def _window(name: str) -> int:
    days = load_policy(name).parameters.get("lookback_days")
    return int(days.value) if days is not None else 180


@pytest.mark.parametrize("name", SHIPPED)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_contact_attempts_and_payments_are_decided_by_the_columns(name: str, data: Any) -> None:
    policy = load_policy(name)
    as_of = pendulum.parse(data.draw(st.sampled_from(AS_OFS)))
    assert isinstance(as_of, pendulum.DateTime)
    portfolio: list[Case] = data.draw(st.lists(cases(policy, as_of=as_of), min_size=1, max_size=5))
    rows = []
    for i, case in enumerate(portfolio):
        row = {**case.to_dict(), "case_id": f"{case.case_id}-{i}"}
        if data.draw(st.integers(min_value=0, max_value=3)):
            row["events"] = data.draw(_history(case, as_of, _window(name)))
        rows.append(row)
    result = assert_agree(name, rows, as_of.isoformat())
    # Not one row goes per case for its events: they are all contact attempts and
    # payments, which the columns read.
    assert result.summary.fallback.get("has events", 0) == 0


#: The event kinds the derivation of the core facts does not read and that need no field
#: besides their kind and instant: they matter to the sections alone.
BARE = (
    *("visit", "visit_arranged", "report_filed", "plan_issued", "notice_sent"),
    *("validation_notice_sent", "lawyer_letter_sent", "demand_delivered", "suit_filed"),
    *("arbitration_filed", "judgment_effective", "emergency_refusal", "absconded"),
    *("court_proceeding", "agreement_ended", "threat_to_staff", "emergency_reported"),
    *("emergency_meeting", "escalation_decided", "credit_bureau_reported", "restructured"),
    "reaged",
)


@pytest.mark.parametrize("name", SHIPPED)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_events_that_matter_to_the_sections_alone_are_decided_by_the_columns(
    name: str, data: Any
) -> None:
    """Visits, notices, suits, emergencies, restructurings … with contact attempts and
    payments: the sections run on the row's history, as the per-case engine runs them."""
    policy = load_policy(name)
    as_of = data.draw(st.sampled_from(AS_OFS))
    portfolio: list[Case] = data.draw(st.lists(cases(policy, as_of=as_of), min_size=1, max_size=4))
    rows = []
    for i, case in enumerate(portfolio):
        drawn = data.draw(
            st.lists(
                events(
                    policy,
                    as_of=as_of,
                    kinds=(*BARE, "contact_attempt", "payment"),
                    timezone=case.timezone,
                ),
                max_size=5,
            )
        )
        happened = {**attrs.evolve(case, events=tuple(drawn)).to_dict(), "case_id": f"B-{i}"}
        rows.append(happened)
    result = assert_agree(name, rows, as_of)
    assert result.summary.fallback.get("has events", 0) == 0


def _row(case_id: str, events: list[dict[str, Any]], signals: Any = ()) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "CNY",
        "principal": "5000",
        "overdue_amount": "5000",
        "due_date": "2026-05-01",
        "timezone": "Asia/Shanghai",
        "signals": [{"kind": k, "observed_at": at} for k, at in signals],
        "events": events,
    }


def _attempt(at: str, outcome: str) -> dict[str, Any]:
    return {"kind": "contact_attempt", "at": at, "outcome": outcome}


def _payment(at: str, amount: str) -> dict[str, Any]:
    return {"kind": "payment", "at": at, "amount": amount}


UNANSWERED = [
    _attempt("2026-05-03T10:00:00+08:00", "no_answer"),
    _attempt("2026-05-04T10:00:00+08:00", "unreachable"),
    _attempt("2026-05-05T10:00:00+08:00", "no_answer"),
]


def test_what_the_events_amount_to_is_derived_in_the_columns() -> None:
    refused = [("refused_to_pay", "2026-05-02T10:00:00+08:00")]
    sign = [("unreachable", "2026-05-02T10:00:00+08:00")]
    rows = [
        _row("EV-1", UNANSWERED),  # three unanswered in a row: unreachable
        _row("EV-2", UNANSWERED[:2]),  # two: not yet
        _row("EV-3", [*UNANSWERED, _attempt("2026-05-06T10:00:00+08:00", "reached")]),
        _row("EV-4", [_attempt("2026-05-03T10:00:00+08:00", "invalid_number")]),
        _row("EV-5", [_payment("2026-05-02T10:00:00+08:00", "12.5")], refused),  # cured
        _row("EV-6", [_payment("2026-04-30T10:00:00+08:00", "12.5")], refused),  # before due
        _row("EV-7", [_payment("2026-05-02T10:00:00+08:00", "0.009")], refused),  # no payment
        _row("EV-8", [_attempt("2026-05-03T10:00:00+08:00", "reached")], sign),  # reached
        _row("EV-9", [_attempt("2026-05-03T10:00:00+08:00", "refused")], refused),
        _row("EV-10", [_payment("2026-07-01T10:00:00+08:00", "100")], refused),  # after as_of
    ]
    for name in SHIPPED:
        result = assert_agree(name, rows)
        assert "has events" not in result.summary.fallback
        if name != "ifrs9":  # CNY has no materiality threshold in the EU pack
            assert result.summary.columnar == len(rows)
            # Every row has events, each history its own: the sections ran once a row.
            assert result.summary.section_histories == len(rows)
            assert f"of which {len(rows)} rows' own histories" in "\n".join(result.summary.lines())
    fired = frame.decide(
        pl.DataFrame(
            [{k: v for k, v in r.items() if k not in ("signals", "events")} for r in rows]
        ),
        pl.DataFrame([{"case_id": r["case_id"], **s} for r in rows for s in r["signals"]]),
        pl.DataFrame([{"case_id": r["case_id"], **e} for r in rows for e in r["events"]]),
        policy="default",
        as_of="2026-06-30T12:00:00+08:00",
    ).decisions.get_column("fired")
    traces = dict(zip([r["case_id"] for r in rows], fired.to_list(), strict=True))
    assert "evidence.unreachable" in traces["EV-1"]
    assert "evidence.unreachable" not in traces["EV-2"]
    assert "evidence.unreachable" in traces["EV-4"]


def test_other_events_still_go_per_case_and_are_counted() -> None:
    rows = [
        _row(
            "O-1",
            [
                {
                    "kind": "promise_made",
                    "at": "2026-05-03T10:00:00+08:00",
                    "amount": "100",
                    "promised_date": "2026-05-10",
                }
            ],
        ),
        _row("O-2", [{**UNANSWERED[0], "party": "G-1"}]),  # a guarantor's phone
        _row("O-3", [{**UNANSWERED[0], "note": "left a message"}]),
        _row("O-4", [_payment("2026-05-02T10:00:00+08:00", "12.50001")]),  # five decimals
        _row("O-5", UNANSWERED),
    ]
    result = assert_agree("default", rows)
    assert result.summary.fallback == {"has events": 4}
    assert result.summary.columnar == 1
    assert result.summary.section_histories == 1  # O-5's history; the others per case
