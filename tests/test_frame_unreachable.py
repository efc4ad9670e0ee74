"""The columnar engine and a manual ``unreachable`` signal.

The timeline's step anchored on ``unreachable`` (L-UNREACHABLE) counts from the instant
of the sign that made the debtor unreachable, which no key of the columns holds. The
columns judge the step per row from its anchor (frame._unreachable), so a policy whose
rules read the step's status, the counts of steps open, late or breached, or the
``plan_`` field of the remedy it performs decides such rows in the columns, as the
per-case engine does. Only an escalation stage anchored on ``unreachable`` (which moves
the phase) sends a row with the sign to the per-case engine, when a rule reads what it
gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_frame import assert_agree

import collectrules
from collectrules import load_policy
from collectrules.errors import InputError
from collectrules.frame.decide import REASONS
from collectrules.timeline.evaluate import micros, step_bounds, timeline_section
from collectrules.timeline.stages import AnchorKind

READS = str(Path(__file__).parent / "policies" / "reads_unreachable_step.toml")
AS_OF = "2026-06-30T12:00:00+08:00"
_AT = pendulum.parse(AS_OF)
ROUTED = "has an unreachable signal"

#: Offsets from as_of, in hours: around the step's 24 hours (and the 48 hours of a
#: limit), a second on either side, and before and after the due date.
_SECOND = 1 / 3600
_HOURS = st.sampled_from(
    [-2000, -49, -48 - _SECOND, -48, -25, -24 - _SECOND, -24, -24 + _SECOND, -23, -1, 0, 1]
) | st.floats(-3000, 2, allow_nan=False)


def _instant(hours: float) -> str:
    return _AT.add(seconds=round(hours * 3600)).in_timezone("UTC").isoformat()


#: A loan overdue since 2026-06-01 in Shanghai, without its id and signals.
OVERDUE_LOAN: dict[str, Any] = {
    "product": "loan",
    "currency": "CNY",
    "principal": "100000",
    "overdue_amount": "800",
    "due_date": "2026-05-31",
    "timezone": "Asia/Shanghai",
}


def _sign(hours: float) -> list[dict[str, str]]:
    """A manual unreachable signal ``hours`` from as_of."""
    return [{"kind": "unreachable", "observed_at": _instant(hours)}]


@st.composite
def _rows(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    rows = []
    for i in range(count):
        signals = [
            {"kind": "unreachable", "observed_at": _instant(draw(_HOURS))}
            for _ in range(draw(st.integers(0, 2)))
        ]
        if draw(st.booleans()):  # a cure, before or after the sign
            kind = draw(st.sampled_from(["commitment_signed", "promise_kept", "refused_to_pay"]))
            signals.append({"kind": kind, "observed_at": _instant(draw(_HOURS))})
        due = _AT.date().add(days=draw(st.sampled_from([-400, -30, -2, -1, 0, 1, 5])))
        rows.append(
            {
                "case_id": f"U-{i}",
                "product": draw(st.sampled_from(["loan", "loan", "credit_card", "receivable"])),
                "currency": "CNY",
                "principal": "100000",
                "overdue_amount": draw(st.sampled_from(["0", "800", "800"])),
                "due_date": due.isoformat(),
                "timezone": draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"])),
                "signals": signals,
            }
        )
    return rows


@pytest.mark.parametrize("policy", ["reads", "limited"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows())
def test_a_policy_reading_the_step_gets_the_per_case_answer_in_the_columns(
    policy: str, rows: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = READS if policy == "reads" else _limited(tmp_path_factory)
    result = assert_agree(path, rows, AS_OF)
    assert result.summary.per_case == 0


def _variant(tmp: pytest.TempPathFactory, name: str, extra: str) -> str:
    """The reads policy over a copy of the default policy whose L-UNREACHABLE stage has
    the keys ``extra`` too."""
    if name in _MADE:
        return _MADE[name]
    folder = tmp.mktemp(name)
    shipped = Path(collectrules.__file__).parent / "policies" / "default.toml"
    text = shipped.read_text(encoding="utf-8").replace(
        'anchor = "unreachable"\nwithin = "24 hours"\n',
        'anchor = "unreachable"\nwithin = "24 hours"\n' + extra,
    )
    assert extra in text
    (folder / "base.toml").write_text(text, encoding="utf-8")
    reads = (
        Path(READS)
        .read_text(encoding="utf-8")
        .replace('extends = "default"', 'extends = "base.toml"')
    )
    (folder / "policy.toml").write_text(reads, encoding="utf-8")
    _MADE[name] = str(folder / "policy.toml")
    return _MADE[name]


#: The policy files made, by name: one per test session.
_MADE: dict[str, str] = {}


def _limited(tmp: pytest.TempPathFactory) -> str:
    # A hard limit two days on (the step is late between 24 and 48 hours), and a remedy
    # the step performs (plan_visit, read by the default policy's visit rule).
    return _variant(tmp, "limited", 'limit = "48 hours"\nremedy = "visit"\n')


def test_an_escalation_stage_anchored_on_unreachable_sends_the_row_per_case(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The phase moves from the sign's instant; the default policy's layers read the
    # phase: the row with the sign goes to the per-case engine, the other stays.
    path = _variant(tmp_path_factory, "escalating", "escalation = true\n")
    rows = [
        {**OVERDUE_LOAN, "case_id": f"E-{i}", "signals": signals}
        for i, signals in enumerate([_sign(-49), []])
    ]
    result = assert_agree(path, rows, AS_OF)
    assert result.summary.fallback == {ROUTED: 1}


@pytest.mark.parametrize("policy", ["default", "cn_bank_loan"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows())
def test_a_policy_that_does_not_read_the_step_decides_unreachable_rows_in_the_columns(
    policy: str, rows: list[dict[str, Any]]
) -> None:
    result = assert_agree(policy, rows, AS_OF)
    assert ROUTED not in result.summary.fallback
    assert result.summary.per_case == 0


def test_the_policy_reads_the_step_and_its_rules_fire_at_each_state() -> None:
    # Overdue since 2026-06-01; the sign 1 hour ago: the step is open (24 hours). 49
    # hours ago: breached (no later limit), and nothing else is open.
    base, sign = OVERDUE_LOAN, _sign

    rows = [
        {**base, "case_id": "OPEN", "signals": sign(-1)},
        {**base, "case_id": "LATE", "signals": sign(-49)},
        {**base, "case_id": "NONE", "signals": []},
    ]
    result = assert_agree(READS, rows, AS_OF)
    fired = dict(zip(result.decisions["case_id"], result.decisions["fired"].to_list(), strict=True))
    assert "R-UNREACHABLE-OPEN" in fired["OPEN"]
    assert "R-UNREACHABLE-BREACHED" in fired["LATE"]
    assert "R-UNREACHABLE-SKIPPED" in fired["NONE"]
    # One step more open with the sign than without it, one more breached after 49 hours.
    opened = {k: next(r for r in v if r.startswith("R-STEPS-OPEN-")) for k, v in fired.items()}
    assert int(opened["OPEN"][-1]) == int(opened["NONE"][-1]) + 1
    assert result.summary.per_case == 0
    assert ROUTED in REASONS
    assert load_policy(READS).id == "reads-unreachable-step"


def _unreachable_stage(policy: str) -> Any:
    section = timeline_section(load_policy(policy))
    return next(
        s
        for plan in section.plans.values()
        for s in plan.stages
        if s.anchor.kind is AnchorKind.UNREACHABLE
    )


def test_the_bounds_of_the_24_hour_step_are_exact_to_the_microsecond() -> None:
    # L-UNREACHABLE: within 24 hours, no later start, no limit. Open from an anchor
    # 24 hours before as_of (due at as_of itself); never upcoming, never late.
    stage = _unreachable_stage("default")
    last = micros(_AT)
    for tz in ("Asia/Shanghai", "America/New_York", "UTC"):
        bounds = step_bounds(load_policy("default"), stage, tz, _AT, last - 10**12)
        assert bounds == (last + 1, last - 24 * 3600 * 10**6, last + 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"policy": "default"}, "policy"),
        ({"stage": "L-UNREACHABLE"}, "stage"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": 8}, "tz"),
        ({"as_of": "2026-06-30T12:00:00"}, "as_of"),
        ({"earliest": True}, "earliest"),
        ({"earliest": -(10**30)}, "earliest"),
    ],
)
def test_the_bounds_refuse_bad_arguments_naming_them(change: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {
        "policy": load_policy("default"),
        "stage": _unreachable_stage("default"),
        "tz": "UTC",
        "as_of": _AT,
        "earliest": 0,
        **change,
    }
    with pytest.raises(InputError) as caught:
        step_bounds(**arguments)
    assert caught.value.problems[0].path == field


def test_the_bounds_refuse_a_stage_the_policy_does_not_have() -> None:
    stage = attrs.evolve(_unreachable_stage("default"), id="L-ELSEWHERE")
    with pytest.raises(InputError, match="a stage of the policy's timeline"):
        step_bounds(load_policy("default"), stage, "UTC", _AT, 0)
