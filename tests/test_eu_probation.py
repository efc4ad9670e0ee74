"""EU-PROBATION: a case leaves EU default only after a probation in which the default
criteria no longer hold, reconstructed from its payments; IFRS 9 stage 3 follows."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, Engine, PolicyError, load_policy
from collectrules.compliance.regulatory import MaterialityPack, regulation_of
from collectrules.policy import policy_from_dict
from helpers import columnar_with_events

BACKENDS = ("python", "durable")
ZONE = "Europe/Berlin"
#: 120 days past due on 2026-04-14 (due 2025-12-15), when the arrears were paid.
DUE = "2025-12-15"
PAID_AT = "2026-04-14T10:00:00+02:00"


@cache
def engine(backend: str = "python") -> Engine:
    return Engine(load_policy("ifrs9"), backend=backend)  # type: ignore[arg-type]


def loan(
    *,
    before: str = "900",
    paid: str = "900",
    principal: str = "20000",
    at: str = PAID_AT,
    due: str = DUE,
    zone: str = ZONE,
    case_id: str = "P-1",
) -> dict[str, Any]:
    """A EUR loan with ``before`` past due until a payment of ``paid`` at ``at``."""
    overdue = Decimal(before) - Decimal(paid)
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "EUR",
        "principal": principal,
        "overdue_amount": str(overdue),
        "due_date": due,
        "timezone": zone,
        "events": [{"kind": "payment", "at": at, "amount": paid}],
    }


def decide(data: dict[str, Any], as_of: str, backend: str = "python") -> Decision:
    return engine(backend).decide(Case.from_dict(data), as_of=as_of)


def classes(d: Decision) -> dict[str, Any]:
    return {r.pack: r for r in d.regulatory}


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("backend", BACKENDS)
def test_paid_a_month_ago_after_120_dpd_is_in_default_on_probation_at_stage_3(
    backend: str,
) -> None:
    d = decide(loan(), "2026-05-14T12:00:00+02:00", backend)
    found = classes(d)
    default, stage = found["EU-DEFAULT"], found["IFRS9"]
    assert d.facts["dpd"] == 0
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:probation")
    assert d.facts["eu_default"] is True
    assert default.reason.startswith("in default until the probation ends on 2026-07-14")
    assert "last held on 2026-04-14" in default.reason
    assert "parameter eu_probation_months" in default.reason
    assert default.cites == ("EU-DEFAULT", "EU-MATERIALITY", "EU-PROBATION")
    assert (default.next_value, default.next_on) == (None, None)
    assert (stage.value, stage.rule_id) == ("stage_3", "IFRS9-S3-DEFAULT")
    assert "EU-PROBATION" in stage.cites
    assert d.facts["ifrs9_stage"] == "stage_3"
    assert d.facts["ifrs9_credit_impaired"] is True
    entry = next(f for f in d.trace if f.rule_id == "EU-DEFAULT:probation")
    assert entry.layer == "regulation"
    assert "2026-07-14" in entry.reason
    assert "EU-PROBATION" in entry.cites


@pytest.mark.parametrize("backend", BACKENDS)
def test_paid_four_months_ago_is_out_of_default_and_staged_by_dpd(backend: str) -> None:
    d = decide(loan(), "2026-08-14T12:00:00+02:00", backend)
    found = classes(d)
    default, stage = found["EU-DEFAULT"], found["IFRS9"]
    assert default.value == "not_default"
    assert default.rule_id != "EU-DEFAULT:probation"
    assert any("eu_probation_months) ended on 2026-07-14" in n for n in default.notes)
    assert (stage.value, stage.rule_id) == ("stage_1", "IFRS9-S1")


@pytest.mark.parametrize("backend", BACKENDS)
def test_arrears_that_were_never_material_give_no_probation(backend: str) -> None:
    # 150 EUR is more than EUR 100 but not more than 1% of 20,000 (200 EUR)
    d = decide(loan(before="150", paid="150"), "2026-05-14T12:00:00+02:00", backend)
    found = classes(d)
    assert found["EU-DEFAULT"].value == "not_default"
    assert found["EU-DEFAULT"].rule_id == "EU-DEFAULT:immaterial"
    assert found["IFRS9"].value == "stage_1"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_payment_that_leaves_the_arrears_material_keeps_default_by_the_criteria(
    backend: str,
) -> None:
    d = decide(loan(before="900", paid="400"), "2026-05-14T12:00:00+02:00", backend)
    found = classes(d)
    assert (found["EU-DEFAULT"].value, found["EU-DEFAULT"].rule_id) == (
        "default",
        "EU-DEFAULT:default",
    )
    assert "EU-PROBATION" not in found["EU-DEFAULT"].cites
    assert found["IFRS9"].value == "stage_3"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_payment_that_leaves_immaterial_arrears_starts_the_probation(backend: str) -> None:
    d = decide(loan(before="900", paid="850"), "2026-05-14T12:00:00+02:00", backend)
    assert d.facts["dpd"] == 150
    default = classes(d)["EU-DEFAULT"]
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:probation")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("as_of", "in_default"),
    [
        pytest.param("2026-07-14T09:59:59+02:00", True, id="a-second-before"),
        pytest.param("2026-07-14T10:00:00+02:00", False, id="at-the-end"),
        pytest.param("2026-07-14T07:59:59+00:00", True, id="a-second-before-in-utc"),
        pytest.param("2026-07-14T08:00:00+00:00", False, id="at-the-end-in-utc"),
    ],
)
def test_the_probation_ends_three_months_after_the_payment(
    as_of: str, in_default: bool, backend: str
) -> None:
    d = decide(loan(), as_of, backend)
    assert d.facts["eu_default"] is in_default
    assert classes(d)["IFRS9"].value == ("stage_3" if in_default else "stage_1")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("zone", "in_default"),
    [
        # paid at 23:30 UTC on 30 April: 1 May 08:30 in Tokyo, so the probation ends
        # 1 August 08:30 there (31 July 23:30 UTC), and 30 July 23:30 in UTC
        pytest.param("Asia/Tokyo", True, id="Tokyo"),
        pytest.param("UTC", False, id="UTC"),
    ],
)
def test_the_months_are_counted_in_the_case_zone(zone: str, in_default: bool, backend: str) -> None:
    data = loan(at="2026-04-30T23:30:00+00:00", due="2026-01-01", zone=zone)
    d = decide(data, "2026-07-31T00:00:00+00:00", backend)
    assert d.facts["eu_default"] is in_default


@pytest.mark.parametrize(
    ("paid", "last_in_default", "first_out"),
    [
        pytest.param(
            "2026-05-31T10:00:00+02:00", "2026-08-31T09:59:59", "2026-08-31T10:00", id="31"
        ),
        pytest.param(
            "2026-11-30T10:00:00+01:00", "2027-02-28T09:59:59", "2027-02-28T10:00", id="feb"
        ),
    ],
)
def test_a_month_end_payment_ends_its_probation_on_the_last_day_of_the_month(
    paid: str, last_in_default: str, first_out: str
) -> None:
    data = loan(at=paid, due="2026-01-01")
    assert decide(data, f"{last_in_default}+{paid[-5:]}").facts["eu_default"] is True
    assert decide(data, f"{first_out}:00+{paid[-5:]}").facts["eu_default"] is False


def test_the_two_back_ends_give_the_same_decision_on_probation() -> None:
    for as_of in ("2026-05-14T12:00:00+02:00", "2026-08-14T12:00:00+02:00"):
        python, durable = (
            decide(loan(), as_of, b).to_json().replace(f'"engine":"{b}"', "") for b in BACKENDS
        )
        assert python == durable


def test_without_probation_months_a_pack_is_as_before() -> None:
    text = (resources.files("collectrules") / "policies" / "ifrs9.toml").read_text("utf-8")
    pack = dict(tomllib.loads(text)["regulation"]["EU-DEFAULT"])
    pack.pop("probation_months", None)
    pack.pop("probation_cites", None)
    data = {"extends": "ifrs9", "id": "no-probation", "regulation": {"EU-DEFAULT": pack}}
    d = Engine(policy_from_dict(data)).decide(
        Case.from_dict(loan()), as_of="2026-05-14T12:00:00+02:00"
    )
    default = classes(d)["EU-DEFAULT"]
    assert (default.value, default.rule_id) == ("not_default", "EU-DEFAULT:immaterial")
    assert default.cites == ("EU-DEFAULT", "EU-MATERIALITY")
    assert classes(d)["IFRS9"].value == "stage_1"


# --------------------------------------------------------------------------- frame


def test_the_columnar_engine_agrees_on_probation_cases() -> None:
    rows = [
        loan(case_id="P-1"),
        loan(case_id="P-2", before="900", paid="400"),
        loan(case_id="P-3", before="150", paid="150"),
        loan(case_id="P-4", at="2026-01-10T10:00:00+01:00"),
        {k: v for k, v in loan(case_id="N-1").items() if k != "events"},
    ]
    decided = columnar_with_events(rows, "ifrs9", "2026-05-14T12:00:00+02:00", engine())
    assert dict(decided[0]["classes"])["EU-DEFAULT"] == "default"
    assert dict(decided[0]["classes"])["IFRS9"] == "stage_3"
    assert dict(decided[4]["classes"])["EU-DEFAULT"] == "not_default"


# --------------------------------------------------------------------------- loading

BAD_PACK = """\
schema_version = "1"
extends = "ifrs9"
id = "mine"
version = "1.0.0"
title = "mine"

[regulation.EU-DEFAULT]
kind = "materiality_default"
fact = "eu_default"
over_dpd = "eu_default_over_dpd"
absolute = {{ EUR = "eu_materiality_absolute_eur" }}
relative = "eu_materiality_relative"
probation_months = {value}
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("0", "the value: must be at least 1, got 0", id="zero"),
        pytest.param("2.5", "the value: expected a whole number, got 2.5", id="fraction"),
        pytest.param('"3 months"', "the value: expected a number, got '3 months'", id="text"),
        pytest.param(
            '"eu_probation_month"',
            "unknown parameter 'eu_probation_month' (did you mean 'eu_probation_months'?)",
            id="unknown-parameter",
        ),
        pytest.param("121", "the value: must be at most 120, got 121", id="too-long"),
    ],
)
def test_a_bad_probation_months_is_an_error_at_its_file_and_line(
    tmp_path: Any, value: str, expected: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BAD_PACK.format(value=value), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.path == "regulation.EU-DEFAULT.probation_months"
    assert problem.line == 13
    where = "mine.toml:13: regulation.EU-DEFAULT.probation_months: "
    assert str(problem).endswith(where + expected), str(problem)


def test_a_bad_probation_parameter_is_reported_at_the_pack_key(tmp_path: Any) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        BAD_PACK.format(value='"eu_probation_months"')
        + '\n[parameters.eu_probation_months]\nvalue = "3"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    messages = [str(p) for p in info.value.problems]
    assert any(
        "regulation.EU-DEFAULT.probation_months: parameter 'eu_probation_months': "
        "expected a number" in m
        for m in messages
    ), messages


def test_the_shipped_probation_is_three_months_a_parameter_citing_eu_probation() -> None:
    policy = load_policy("ifrs9")
    section = regulation_of(policy)
    assert section is not None
    pack = section.pack("EU-DEFAULT")
    assert isinstance(pack, MaterialityPack)
    assert pack.probation_months is not None
    assert (pack.probation_months.value, pack.probation_months.param) == (
        3,
        "eu_probation_months",
    )
    assert policy.parameters["eu_probation_months"].cites == ("EU-PROBATION",)
    assert policy.parameters["eu_probation_months"].status == "V"


# --------------------------------------------------------------------------- property

AS_OF_DAYS = st.integers(min_value=1, max_value=27)
ZONES = ("Europe/Berlin", "UTC", "Asia/Tokyo", "America/New_York")


def _criteria(case: Case, payments: list[tuple[pendulum.DateTime, Decimal]], t: Any) -> bool:
    """Whether the EU default criteria held at instant ``t``, from the payments."""
    owed = case.overdue_amount + sum((a for at, a in payments if at > t), Decimal(0))
    if owed <= 0:
        return False
    dpd = (case.local_date(t) - case.due_date).days
    return dpd > 90 and owed > 100 and owed > Decimal("0.01") * case.principal


@st.composite
def probation_cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime]:
    zone = draw(st.sampled_from(ZONES))
    as_of = pendulum.datetime(
        2026, draw(st.integers(min_value=1, max_value=12)), draw(AS_OF_DAYS), 12, 0, 30, tz=zone
    )
    due = as_of.date() - dt.timedelta(days=draw(st.integers(min_value=-10, max_value=400)))
    principal = draw(st.sampled_from([Decimal(v) for v in ("1000", "20000", "50000")]))
    overdue = draw(st.sampled_from([Decimal(v) for v in ("0", "50", "100", "150", "501", "900")]))
    # payments up to 200 days before as_of, at whole minutes (as_of is at 30 seconds)
    minutes = st.integers(min_value=1, max_value=200 * 24 * 60)
    events = [
        {
            "kind": "payment",
            "at": as_of.subtract(seconds=30).subtract(minutes=draw(minutes)).isoformat(),
            "amount": str(draw(st.sampled_from(["50", "100", "250", "600", "1000"]))),
        }
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    case = Case.from_dict(
        {
            "case_id": "H-P",
            "product": "loan",
            "currency": "EUR",
            "principal": str(principal),
            "overdue_amount": str(overdue),
            "due_date": due.isoformat(),
            "timezone": zone,
            "events": events,
        }
    )
    return case, as_of


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=probation_cases())
def test_default_holds_exactly_while_the_criteria_held_within_the_probation(
    drawn: tuple[Case, pendulum.DateTime],
) -> None:
    case, as_of = drawn
    payments = [(e.at, e.amount) for e in case.events if e.amount is not None]
    start = as_of.in_timezone(case.timezone).subtract(months=3)
    # the instants where the criteria can change: each payment and the instant before it
    split = [t for at, _ in payments for t in (at, at - dt.timedelta(microseconds=1))]
    window = [t for t in split if start <= t <= as_of]
    held_in_window = any(_criteria(case, payments, t) for t in window)
    holds_now = _criteria(case, payments, as_of)
    d = engine().decide(case, as_of=as_of)
    found = classes(d)
    default, stage = found["EU-DEFAULT"], found["IFRS9"]
    if held_in_window or holds_now:
        assert default.value == "default", (default, window)
        assert stage.value == "stage_3"
        assert d.facts["ifrs9_stage"] == "stage_3"
    else:
        assert default.value == "not_default", default
    if default.rule_id == "EU-DEFAULT:probation":
        assert held_in_window
        assert not holds_now
    if holds_now:
        assert default.rule_id == "EU-DEFAULT:default"
