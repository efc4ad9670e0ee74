"""Defects found in the re-ageing, cross-default, restructuring and unreachable-step
paths, each pinned by the input that showed it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pendulum
import pytest

import collectrules
from collectrules import load_policy
from collectrules.errors import InputError
from collectrules.timeline.evaluate import step_bounds, timeline_section
from collectrules.timeline.stages import AnchorKind

READS = Path(__file__).parent / "policies" / "reads_unreachable_step.toml"


def _reads_policy(tmp: Path, within: str) -> str:
    """The reads policy over a copy of the default policy whose L-UNREACHABLE step is
    due ``within`` after the sign."""
    shipped = Path(collectrules.__file__).parent / "policies" / "default.toml"
    old = 'anchor = "unreachable"\nwithin = "24 hours"\n'
    text = shipped.read_text(encoding="utf-8")
    assert old in text
    (tmp / "base.toml").write_text(
        text.replace(old, f'anchor = "unreachable"\nwithin = "{within}"\n'), encoding="utf-8"
    )
    reads = READS.read_text(encoding="utf-8").replace(
        'extends = "default"', 'extends = "base.toml"'
    )
    (tmp / "policy.toml").write_text(reads, encoding="utf-8")
    return str(tmp / "policy.toml")


# --------------------------------------------------------------------------- unreachable


#: The minutes, from 02:00 on, of the signs (one row each): "1 day" after the eve of the
#: night New York's clocks go forward (2026-03-08, 02:00 EST to 03:00 EDT) at 02:30 lands
#: in the gap and reads 03:30 EDT; "1 day" after 03:00 reads 03:00 EDT, earlier.
_MINUTES = (-60, 10, 30, 59, 60, 65, 74, 75, 76, 90)


def _cases(zone: str, first: str) -> list[dict[str, Any]]:
    """A row per sign, at ``first`` (the wall time the gap begins at) plus each of
    :data:`_MINUTES`."""
    start = pendulum.parse(first)
    return [
        {
            "case_id": f"U-{i}",
            "product": "loan",
            "currency": "USD",
            "principal": "1000",
            "overdue_amount": "800",
            "due_date": "2025-12-01",
            "timezone": zone,
            "signals": [
                {
                    "kind": "unreachable",
                    "observed_at": start.add(minutes=minutes).isoformat(),
                }
            ],
        }
        for i, minutes in enumerate(_MINUTES)
    ]


@pytest.mark.parametrize(
    ("within", "zone", "first", "as_of"),
    [
        # the day, the week and the month before the gap, at 02:00 EST
        ("1 day", "America/New_York", "2026-03-07T02:00:00-05:00", "2026-03-08T03:15:00-04:00"),
        ("1 week", "America/New_York", "2026-03-01T02:00:00-05:00", "2026-03-08T03:15:00-04:00"),
        ("1 month", "America/New_York", "2026-02-08T02:00:00-05:00", "2026-03-08T03:15:00-04:00"),
        # Cairo's clocks go forward at 00:00 on Friday 2026-04-24, a working day: a
        # business day after Thursday 00:30 reads 01:30, after 01:00 reads 01:00.
        (
            "1 business_day",
            "Africa/Cairo",
            "2026-04-23T00:00:00+02:00",
            "2026-04-24T01:15:00+03:00",
        ),
    ],
)
def test_a_wall_clock_step_anchored_on_unreachable_agrees_across_a_clock_change(
    within: str, zone: str, first: str, as_of: str, tmp_path: Path
) -> None:
    # An offset in days, weeks, months or business days follows the wall clock: around
    # the night the clocks go forward the step's deadline moves back as its anchor moves
    # on. The columns once found one bound per zone by halving, assuming the deadline
    # moves forward with the anchor, and called the step open where the per-case
    # engine (and the timeline) call it breached.
    pytest.importorskip("polars")
    from tests.test_frame import assert_agree

    assert_agree(_reads_policy(tmp_path, within), _cases(zone, first), as_of)


def test_the_bounds_refuse_a_stage_whose_times_follow_the_wall_clock(tmp_path: Path) -> None:
    policy = load_policy(_reads_policy(tmp_path, "1 day"))
    stage = next(
        s
        for plan in timeline_section(policy).plans.values()
        for s in plan.stages
        if s.anchor.kind is AnchorKind.UNREACHABLE
    )
    with pytest.raises(InputError, match="hours") as caught:
        step_bounds(
            policy, stage, "America/New_York", pendulum.parse("2026-03-08T03:15:00-04:00"), 0
        )
    assert caught.value.problems[0].path == "stage"


# --------------------------------------------------------------------------- pack figures

_LADDER = """schema_version = "1"
extends = "default"
id = "acme"
version = "1.0.0"

[regulation.ACME-5LVL]
kind = "dpd_ladder"
fact = "acme_class"
cross_class = "bad"
cross_npl_share = {figure}

[[regulation.ACME-5LVL.classes]]
value = "good"
label_en = "good"
label_zh = "正常"
rule = "ACME-GOOD"
reason = "Not past due."

[[regulation.ACME-5LVL.classes]]
value = "bad"
label_en = "bad"
label_zh = "次级"
rule = "ACME-BAD"
from_dpd = 90
reason = "Past due."
"""

_MATERIALITY = """schema_version = "1"
extends = "default"
id = "acme"
version = "1.0.0"

[regulation.ACME-MAT]
kind = "materiality_default"
fact = "acme_default"
over_dpd = 90
relative = {relative}
absolute = {{ CNY = {absolute} }}
"""


@pytest.mark.parametrize("figure", ["nan", "-nan", "inf", "-inf"])
@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        # CN-5LVL-CROSS's figure, in a ladder of the lender's own
        (_LADDER.format(figure="{figure}"), 10, "regulation.ACME-5LVL.cross_npl_share"),
        (
            _MATERIALITY.format(relative="{figure}", absolute=100),
            10,
            "regulation.ACME-MAT.relative",
        ),
        (
            _MATERIALITY.format(relative=0.01, absolute="{figure}"),
            11,
            "regulation.ACME-MAT.absolute.CNY",
        ),
    ],
)
def test_a_pack_figure_that_is_no_finite_number_is_refused_at_its_line(
    figure: str, text: str, line: int, where: str, tmp_path: Path
) -> None:
    # A TOML float may be nan or inf: a pack's figure once took nan, and every case the
    # pack assessed then failed with decimal.InvalidOperation; an infinite threshold
    # was refused as out of range, or taken where the figure has no upper bound.
    from collectrules.errors import PolicyError

    path = tmp_path / "acme.toml"
    path.write_text(text.replace("{figure}", figure), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    shown = figure.replace("-nan", "nan")  # a float nan has no sign to show
    expected = f"{path}:{line}: {where}: the value: expected a finite number, got {shown}"
    assert expected in str(caught.value), str(caught.value)


@pytest.mark.parametrize("figure", [float("nan"), float("inf")])
def test_a_policy_built_from_a_dict_refuses_a_pack_figure_that_is_no_finite_number(
    figure: float,
) -> None:
    import tomllib

    from collectrules.errors import PolicyError
    from collectrules.policy import policy_from_dict

    data = tomllib.loads(_LADDER.replace("{figure}", "0.1"))
    data["regulation"]["ACME-5LVL"]["cross_npl_share"] = figure
    with pytest.raises(
        PolicyError,
        match=re.escape(
            "regulation.ACME-5LVL.cross_npl_share: the value: expected a finite number"
        ),
    ):
        policy_from_dict(data)


# --------------------------------------------------------------------------- negative zero


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize("zero", [-0.0, "-0", "-0.000"])
@pytest.mark.parametrize("field", ["debtor_npl_share", "debtor_90dpd_share_all_banks"])
def test_a_share_of_minus_zero_built_in_python_decides_as_its_dict_form(
    field: str, zero: float | str, backend: str
) -> None:
    # Case.from_dict reads -0 as 0; Case(...) kept it, and CN-5LVL's note printed
    # "debtor_npl_share -0.0 is not more than 0.1": the case and its own dict form (a
    # JSON file written from it) gave two decisions.
    from decimal import Decimal

    import attrs

    from collectrules import Case, Engine

    value = zero if isinstance(zero, float) else Decimal(zero)
    built = attrs.evolve(
        Case.from_dict(
            {
                "case_id": "Z-1",
                "product": "loan",
                "currency": "CNY",
                "principal": "100000",
                "overdue_amount": "500",
                "due_date": "2026-06-20",
                "timezone": "Asia/Shanghai",
            }
        ),
        **{field: value},
    )
    again = Case.from_dict(built.to_dict())
    assert built.to_dict() == again.to_dict()
    engine = Engine(load_policy("cn_bank_loan"), backend=backend)  # type: ignore[arg-type]
    as_of = "2026-06-30T12:00:00+08:00"
    decided = engine.decide(built, as_of=as_of)
    assert decided.to_json() == engine.decide(again, as_of=as_of).to_json()
    assert f"{field} 0 is not more than" in decided.to_json()


@pytest.mark.parametrize("field", ["principal", "overdue_amount", "annual_rate"])
def test_a_number_of_minus_zero_built_in_python_round_trips(field: str) -> None:
    from decimal import Decimal

    import attrs

    from collectrules import Case

    case = Case.from_dict(
        {
            "case_id": "Z-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "500",
            "due_date": "2026-06-20",
            "timezone": "Asia/Shanghai",
        }
    )
    built = attrs.evolve(case, **{field: Decimal("-0")})
    assert built.to_dict() == Case.from_dict(built.to_dict()).to_dict()
    assert built.to_dict()[field] == "0"


# --------------------------------------------------------------------------- unreachable signs


@pytest.mark.parametrize("attempts", ["3", True, 1.5, float("nan"), 0, -5, [3]])
@pytest.mark.parametrize("function", ["unreachable_signs", "first_unreachable"])
def test_the_unreachable_signs_refuse_a_count_of_attempts_that_is_no_whole_number(
    function: str, attempts: object
) -> None:
    # ``attempts`` was used unchecked: "3" raised TypeError, and True, 1.5, nan, 0 and -5
    # were each read as some count (one attempt, or none at all).
    from collectrules import Case
    from collectrules.policy.derive import first_unreachable, unreachable_signs

    case = Case.from_dict(
        {
            "case_id": "A-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "500",
            "due_date": "2026-05-20",
            "timezone": "Asia/Shanghai",
        }
    )
    at = pendulum.parse("2026-06-30T12:00:00+08:00")
    policy = load_policy("cn_bank_loan")
    arguments: tuple[Any, ...] = (
        (case, at, policy) if function == "unreachable_signs" else (case, at, at, policy)
    )
    call: Any = unreachable_signs if function == "unreachable_signs" else first_unreachable
    with pytest.raises(InputError) as caught:
        call(*arguments, attempts=attempts)
    assert caught.value.problems[0].path == "attempts"
