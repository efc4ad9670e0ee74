"""EU-PROBATION after a distressed restructuring: a case with a ``restructured`` event
stays in EU default (and so at IFRS 9 stage 3) for a year after it, whatever its days
past due; of two probations running, the one that ends last holds the case."""

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
from test_eu_probation import BAD_PACK as PROBATION_PACK

BACKENDS = ("python", "durable")
ZONE = "Europe/Berlin"
RESTRUCTURED_AT = "2026-03-02T10:00:00+01:00"


@cache
def engine(backend: str = "python") -> Engine:
    return Engine(load_policy("ifrs9"), backend=backend)  # type: ignore[arg-type]


def loan(
    *events: dict[str, Any],
    overdue: str = "0",
    due: str = "2026-06-15",
    zone: str = ZONE,
    case_id: str = "R-1",
) -> dict[str, Any]:
    """A EUR loan of 20,000 with ``overdue`` past due since ``due``."""
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "EUR",
        "principal": "20000",
        "overdue_amount": overdue,
        "due_date": due,
        "timezone": zone,
        "events": list(events),
    }


def restructured(at: str = RESTRUCTURED_AT) -> dict[str, Any]:
    return {"kind": "restructured", "at": at}


def payment(at: str, amount: str) -> dict[str, Any]:
    return {"kind": "payment", "at": at, "amount": amount}


def decide(data: dict[str, Any], as_of: str, backend: str = "python") -> Decision:
    return engine(backend).decide(Case.from_dict(data), as_of=as_of)


def default_of(d: Decision) -> Any:
    return next(r for r in d.regulatory if r.pack == "EU-DEFAULT")


def stage_of(d: Decision) -> Any:
    return next(r for r in d.regulatory if r.pack == "IFRS9")


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loan_restructured_three_months_ago_is_in_default_at_stage_3(backend: str) -> None:
    d = decide(loan(restructured()), "2026-06-02T12:00:00+02:00", backend)
    default, stage = default_of(d), stage_of(d)
    assert d.facts["dpd"] == 0
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:restructured")
    assert d.facts["eu_default"] is True
    assert default.reason.startswith(
        "in default until the probation after the restructuring ends on 2027-03-02: the "
        "debt was restructured at 2026-03-02T10:00:00+01:00"
    )
    assert "12 months (parameter eu_restructuring_probation_months)" in default.reason
    assert "[now: not material" in default.reason
    assert default.cites == ("EU-DEFAULT", "EU-MATERIALITY", "EU-PROBATION")
    assert (default.next_value, default.next_on) == (None, None)
    assert default.notes[-1].startswith(
        "the probation after the restructuring ends at 2027-03-02T10:00:00+01:00"
    )
    assert (stage.value, stage.rule_id) == ("stage_3", "IFRS9-S3-DEFAULT")
    assert "EU-DEFAULT:restructured" in stage.reason
    assert d.facts["ifrs9_credit_impaired"] is True
    entry = next(f for f in d.trace if f.rule_id == "EU-DEFAULT:restructured")
    assert entry.layer == "regulation"
    assert "EU-PROBATION" in entry.cites


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("as_of", "in_default"),
    [
        pytest.param("2027-03-02T09:59:59+01:00", True, id="a-second-before"),
        pytest.param("2027-03-02T10:00:00+01:00", False, id="at-the-end"),
        pytest.param("2027-03-02T08:59:59+00:00", True, id="a-second-before-in-utc"),
        pytest.param("2027-03-02T09:00:00+00:00", False, id="at-the-end-in-utc"),
    ],
)
def test_the_probation_ends_twelve_months_after_the_restructuring(
    as_of: str, in_default: bool, backend: str
) -> None:
    d = decide(loan(restructured(), due="2027-02-15"), as_of, backend)
    assert d.facts["eu_default"] is in_default
    assert stage_of(d).value == ("stage_3" if in_default else "stage_1")
    if not in_default:
        assert default_of(d).rule_id == "EU-DEFAULT:immaterial"
        assert any(
            n.endswith(
                "the 12 months (parameter eu_restructuring_probation_months) after it "
                "ended on 2027-03-02"
            )
            for n in default_of(d).notes
        ), default_of(d).notes


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restructuring_recorded_after_as_of_is_not_read(backend: str) -> None:
    data = loan(restructured("2026-06-03T10:00:00+02:00"))
    d = decide(data, "2026-06-02T12:00:00+02:00", backend)
    assert default_of(d).value == "not_default"
    assert not any("restructur" in n for n in default_of(d).notes)
    assert "EU-DEFAULT:restructured" not in [f.rule_id for f in d.trace]


def test_the_latest_restructuring_counts() -> None:
    events = (restructured("2025-01-10T10:00:00+01:00"), restructured("2025-09-10T10:00:00+02:00"))
    d = decide(loan(*events, due="2026-08-01"), "2026-06-02T12:00:00+02:00")
    default = default_of(d)
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:restructured")
    assert "ends on 2026-09-10" in default.reason
    # the same events in the other order
    d2 = decide(loan(*reversed(events), due="2026-08-01"), "2026-06-02T12:00:00+02:00")
    assert default_of(d2).reason == default.reason


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_by_the_criteria_wins_over_the_restructuring(backend: str) -> None:
    # 900 EUR past due for 120 days: in default by the criteria themselves
    data = loan(restructured(), overdue="900", due="2026-02-02")
    d = decide(data, "2026-06-02T12:00:00+02:00", backend)
    default = default_of(d)
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:default")
    assert "EU-PROBATION" not in default.cites


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_three_month_probation_holds_when_it_ends_after_the_restructuring_year(
    backend: str,
) -> None:
    # restructured 11 months ago; 900 EUR of arrears at 120 dpd repaid a month ago: the
    # three-month probation ends 2026-07-02, after the year (2026-06-20)
    data = loan(
        restructured("2025-06-20T10:00:00+02:00"),
        payment("2026-05-02T10:00:00+02:00", "900"),
        due="2026-01-02",
    )
    d = decide(data, "2026-06-02T12:00:00+02:00", backend)
    default = default_of(d)
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:probation")
    assert default.reason.startswith("in default until the probation ends on 2026-08-02")
    assert default.cites == ("EU-DEFAULT", "EU-MATERIALITY", "EU-PROBATION")
    assert any(
        n.startswith(
            "the probation after the restructuring (EU-DEFAULT:restructured) runs until "
            "2026-06-20T10:00:00+02:00 (Europe/Berlin)"
        )
        for n in default.notes
    ), default.notes


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_restructuring_year_holds_when_it_ends_after_the_three_month_probation(
    backend: str,
) -> None:
    data = loan(
        restructured("2026-04-01T10:00:00+02:00"),
        payment("2026-04-01T10:00:00+02:00", "900"),
        due="2025-12-01",
    )
    d = decide(data, "2026-09-01T12:00:00+02:00", backend)
    default = default_of(d)
    assert (default.value, default.rule_id) == ("default", "EU-DEFAULT:restructured")
    assert "ends on 2027-04-01" in default.reason
    # the three-month probation after the payment ended on 2026-07-01
    assert any(
        n.endswith("the probation of 3 months (parameter eu_probation_months) ended on 2026-07-01")
        for n in default.notes
    ), default.notes


def test_the_two_back_ends_give_the_same_decision_after_a_restructuring() -> None:
    for as_of in ("2026-06-02T12:00:00+02:00", "2027-06-02T12:00:00+02:00"):
        python, durable = (
            decide(loan(restructured()), as_of, b).to_json().replace(f'"engine":"{b}"', "")
            for b in BACKENDS
        )
        assert python == durable


def test_a_restructured_event_reads_and_writes_back() -> None:
    case = Case.from_dict(loan(restructured()))
    assert [e.kind.value for e in case.events] == ["restructured"]
    assert Case.from_dict(case.to_dict()) == case


def test_policies_without_restructuring_months_ignore_a_restructuring() -> None:
    text = (resources.files("collectrules") / "policies" / "ifrs9.toml").read_text("utf-8")
    pack = dict(tomllib.loads(text)["regulation"]["EU-DEFAULT"])
    pack.pop("restructuring_months")
    pack.pop("restructuring_cites")
    data = {"extends": "ifrs9", "id": "no-restructuring", "regulation": {"EU-DEFAULT": pack}}
    d = Engine(policy_from_dict(data)).decide(
        Case.from_dict(loan(restructured())), as_of="2026-06-02T12:00:00+02:00"
    )
    assert (default_of(d).value, default_of(d).rule_id) == ("not_default", "EU-DEFAULT:immaterial")
    # the default policy has no regulation section: the event is read by nothing
    plain = Engine("default").decide(
        Case.from_dict(loan(restructured())), as_of="2026-06-02T12:00:00+02:00"
    )
    assert plain.regulatory == ()


# --------------------------------------------------------------------------- frame


def test_the_columnar_engine_agrees_on_restructured_cases() -> None:
    rows = [
        loan(restructured(), case_id="R-1"),
        loan(restructured("2025-01-10T10:00:00+01:00"), case_id="R-2"),
        loan(restructured(), overdue="900", due="2026-02-02", case_id="R-3"),
        {k: v for k, v in loan(case_id="N-1").items() if k != "events"},
    ]
    decided = columnar_with_events(rows, "ifrs9", "2026-06-02T12:00:00+02:00", engine())
    assert dict(decided[0]["classes"]) == {"EU-DEFAULT": "default", "IFRS9": "stage_3"}
    assert dict(decided[1]["classes"])["EU-DEFAULT"] == "not_default"
    assert "EU-DEFAULT:restructured" in decided[0]["fired"]
    assert dict(decided[3]["classes"])["EU-DEFAULT"] == "not_default"


# --------------------------------------------------------------------------- loading

#: EU-DEFAULT redefined with one key of ``{body}`` (line 13): the probation tests'
#: pack, without their probation.
BAD_PACK = PROBATION_PACK.replace("probation_months = {value}", "{body}")
assert BAD_PACK != PROBATION_PACK


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        pytest.param(
            "restructuring_months = 0",
            "restructuring_months",
            "the value: must be at least 1, got 0",
            id="zero",
        ),
        pytest.param(
            'restructuring_months = "eu_restructuring_probation_month"',
            "restructuring_months",
            "unknown parameter 'eu_restructuring_probation_month' (did you mean "
            "'eu_restructuring_probation_months'?)",
            id="unknown-parameter",
        ),
        pytest.param(
            'restructuring_cites = ["EU-PROBATION"]',
            "restructuring_cites",
            "cites a probation after a restructuring, but the pack has no restructuring_months",
            id="cites-alone",
        ),
        pytest.param(
            "restructuring_month = 12",
            "restructuring_month",
            "did you mean 'restructuring_months'?",
            id="key-typo",
        ),
    ],
)
def test_a_bad_restructuring_key_is_an_error_at_its_file_and_line(
    tmp_path: Any, body: str, key: str, expected: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BAD_PACK.format(body=body), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == 13
    assert f"mine.toml:13: regulation.EU-DEFAULT.{key}" in str(problem), str(problem)
    assert expected in str(problem), str(problem)


def test_the_shipped_restructuring_probation_is_twelve_months_citing_eu_probation() -> None:
    policy = load_policy("ifrs9")
    section = regulation_of(policy)
    assert section is not None
    pack = section.pack("EU-DEFAULT")
    assert isinstance(pack, MaterialityPack)
    assert pack.restructuring_months is not None
    assert (pack.restructuring_months.value, pack.restructuring_months.param) == (
        12,
        "eu_restructuring_probation_months",
    )
    assert pack.restructuring_cites == ("EU-PROBATION",)
    parameter = policy.parameters["eu_restructuring_probation_months"]
    assert (parameter.cites, parameter.status) == (("EU-PROBATION",), "V")


# --------------------------------------------------------------------------- property

ZONES = ("Europe/Berlin", "UTC", "Asia/Tokyo", "America/New_York")


@st.composite
def restructured_cases(draw: st.DrawFn) -> tuple[Case, pendulum.DateTime, list[Any]]:
    zone = draw(st.sampled_from(ZONES))
    as_of = pendulum.datetime(
        2026,
        draw(st.integers(min_value=1, max_value=12)),
        draw(st.integers(min_value=1, max_value=28)),
        12,
        0,
        30,
        tz=zone,
    )
    # restructurings up to two years either side of as_of, at whole minutes
    minutes = st.integers(min_value=-100 * 24 * 60, max_value=2 * 366 * 24 * 60)
    times = [
        as_of.subtract(seconds=30).subtract(minutes=draw(minutes))
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    overdue = draw(st.sampled_from(["0", "50", "150", "900"]))
    due = as_of.date() - dt.timedelta(days=draw(st.integers(min_value=-10, max_value=200)))
    case = Case.from_dict(
        loan(*(restructured(t.isoformat()) for t in times), overdue=overdue, due=due.isoformat())
        | {"timezone": zone}
    )
    return case, as_of, times


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=restructured_cases())
def test_default_holds_exactly_within_a_year_of_the_latest_restructuring_or_by_the_criteria(
    drawn: tuple[Case, pendulum.DateTime, list[Any]],
) -> None:
    case, as_of, times = drawn
    read = [t for t in times if t <= as_of]
    # twelve months after the latest restructuring, in the case's zone (never at midnight)
    end = max(read).in_timezone(case.timezone).add(months=12) if read else None
    within = end is not None and as_of < end
    dpd = max((case.local_date(as_of) - case.due_date).days, 0)
    owed = case.overdue_amount
    criteria = dpd > 90 and owed > 100 and owed > Decimal("0.01") * case.principal
    d = engine().decide(case, as_of=as_of)
    default = default_of(d)
    assert (default.value == "default") is (criteria or within), (default, end)
    if criteria:
        assert default.rule_id == "EU-DEFAULT:default"
    elif within:
        assert default.rule_id == "EU-DEFAULT:restructured"
        assert end is not None
        assert f"ends on {end.date()}" in default.reason
        assert stage_of(d).value == "stage_3"
    else:
        assert default.rule_id != "EU-DEFAULT:restructured"
