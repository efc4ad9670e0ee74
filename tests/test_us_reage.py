"""US-REAGE: us_regf re-ages (replan) a credit card only when the account is at least 9
whole months old (``opened_on``, in the case's zone), after at least 3 consecutive
minimum payments (``consecutive_minimum_payments``), with no ``reaged`` event in the 12
months before ``as_of`` and fewer than 2 in the 60 months before it. An input not
recorded is unknown, and blocks re-ageing with a reason naming the field to record."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from collectrules import Case, Decision, Engine, InputError, PolicyError, load_policy
from collectrules.cli import main
from collectrules.compliance.regulatory import ReagePack, regulation_of, whole_months
from collectrules.policy import policy_from_dict

BACKENDS = ("python", "durable")
ZONE = "America/New_York"
#: 1 June 2026, noon in New York: 9 whole months after 1 September 2025, 8 after the 2nd.
AS_OF = "2026-06-01T12:00:00-04:00"
RULE = "R-US-REAGE"
#: Willing, in short-term difficulty, the hardship verified: us_regf allows replan (Q2).
HARDSHIP = [
    {"kind": kind, "observed_at": "2026-05-20T10:00:00-04:00"}
    for kind in ("documents_provided", "income_loss", "commitment_signed")
] + [{"kind": "recovery_months", "observed_at": "2026-05-20T10:00:00-04:00", "value": 2}]


@cache
def engine(policy: str = "us_regf", backend: str = "python") -> Engine:
    return Engine(load_policy(policy), backend=backend)  # type: ignore[arg-type]


def reaged(at: str) -> dict[str, Any]:
    return {"kind": "reaged", "at": at}


def card(
    *events: dict[str, Any],
    opened_on: str | None = "2025-09-01",
    payments: int | None = 3,
    product: str = "credit_card",
    case_id: str = "RA-1",
    zone: str = ZONE,
) -> dict[str, Any]:
    """A card 31 days past due, of a debtor in Q2, opened on ``opened_on``."""
    data: dict[str, Any] = {
        "case_id": case_id,
        "product": product,
        "currency": "USD",
        "principal": "5000",
        "overdue_amount": "300",
        "due_date": "2026-05-01",
        "timezone": zone,
        "signals": HARDSHIP,
        "events": list(events),
    }
    if opened_on is not None:
        data["opened_on"] = opened_on
    if payments is not None:
        data["consecutive_minimum_payments"] = payments
    return data


def decide(data: dict[str, Any], as_of: str = AS_OF, backend: str = "python") -> Decision:
    return engine("us_regf", backend).decide(Case.from_dict(data), as_of=as_of)


def reage(d: Decision) -> Any:
    (found,) = [r for r in d.regulatory if r.pack == "US-REAGE"]
    return found


def replan_blocks(d: Decision) -> list[Any]:
    return [b for b in d.blocked if b.remedy == "replan" and b.rule_id == RULE]


def allowed(d: Decision) -> set[str]:
    return {str(g.remedy) for g in d.allowed}


def assert_eligible(d: Decision) -> None:
    assert reage(d).value == "eligible", reage(d).reason
    assert replan_blocks(d) == []
    assert "replan" in allowed(d)


def assert_blocked(d: Decision, value: str, *parts: str) -> str:
    found = reage(d)
    assert found.value == value
    assert found.rule_id == f"US-REAGE:{value}"
    assert found.cites == ("US-REAGE",)
    (block,) = replan_blocks(d)
    assert block.cites == ("US-REAGE",)
    assert "replan" not in allowed(d)
    for part in parts:
        assert part in found.reason
        assert part in block.reason
    # The trace carries the rule that blocked, and the pack's assessment.
    assert RULE in [f.rule_id for f in d.trace]
    assert found.rule_id in [f.rule_id for f in d.trace]
    return block.reason


# --------------------------------------------------------------------------- examples


def test_a_card_that_meets_every_test_may_be_re_aged() -> None:
    d = decide(card())
    assert_eligible(d)
    assert "9 whole months old on 2026-06-01" in reage(d).reason


@pytest.mark.parametrize(
    ("opened_on", "months"),
    [("2025-09-01", 9), ("2025-09-02", 8), ("2024-06-01", 24)],
)
def test_the_account_age_is_whole_months_in_the_case_zone(opened_on: str, months: int) -> None:
    d = decide(card(opened_on=opened_on))
    assert f"{months} whole months old on 2026-06-01" in reage(d).reason
    if months >= 9:
        assert_eligible(d)
    else:
        reason = assert_blocked(
            d,
            "not_eligible",
            "is 8 whole months old",
            "at least 9 months old (parameter us_reage_min_account_months)",
        )
        assert "opened on 2025-09-02" in reason


def test_the_account_age_is_counted_on_the_local_date() -> None:
    # 1 June 2026 02:00 UTC is still 31 May in New York: 8 whole months, and 9 in Tokyo.
    early = "2026-06-01T02:00:00+00:00"
    assert reage(decide(card(), as_of=early)).value == "not_eligible"
    assert reage(decide(card(zone="Asia/Tokyo"), as_of=early)).value == "eligible"


def test_a_month_from_the_31st_ends_on_the_last_day_of_a_shorter_month() -> None:
    import datetime as dt

    assert whole_months(dt.date(2025, 5, 31), dt.date(2026, 2, 28)) == 9
    assert whole_months(dt.date(2025, 5, 31), dt.date(2026, 2, 27)) == 8
    assert whole_months(dt.date(2026, 6, 2), dt.date(2026, 6, 1)) == -1
    assert reage(decide(card(opened_on="2026-06-02"))).value == "not_eligible"


@pytest.mark.parametrize("payments", [0, 2, 3, 12])
def test_three_consecutive_minimum_payments_are_needed(payments: int) -> None:
    d = decide(card(payments=payments))
    if payments >= 3:
        assert_eligible(d)
    else:
        assert_blocked(
            d,
            "not_eligible",
            f"{payments} consecutive minimum payments",
            "at least 3 (parameter us_reage_min_payments)",
        )


@pytest.mark.parametrize(
    ("at", "ok"),
    [
        ("2025-06-01T12:00:00-04:00", True),  # 12 months to the instant: again allowed
        ("2025-06-02T12:00:00-04:00", False),  # a day less than 12 months
        ("2025-05-31T12:00:00-04:00", True),  # a day more
        ("2026-06-01T12:00:00-04:00", False),  # at as_of itself
    ],
)
def test_at_most_one_re_age_in_twelve_months(at: str, ok: bool) -> None:
    d = decide(card(reaged(at)))
    if ok:
        assert_eligible(d)
    else:
        assert_blocked(
            d,
            "not_eligible",
            "less than 12 months (parameter us_reage_interval_months) before",
        )


def test_a_re_age_after_as_of_is_not_read() -> None:
    assert_eligible(decide(card(reaged("2026-06-01T12:00:01-04:00"))))


@pytest.mark.parametrize(
    ("first", "ok"),
    [
        ("2021-06-01T12:00:00-04:00", True),  # 60 months before: out of the window
        ("2021-06-02T12:00:00-04:00", False),  # a day inside it
    ],
)
def test_at_most_two_re_ages_in_five_years(first: str, ok: bool) -> None:
    d = decide(card(reaged(first), reaged("2024-01-15T12:00:00-05:00")))
    if ok:
        assert_eligible(d)
    else:
        assert_blocked(
            d,
            "not_eligible",
            "re-aged 2 times in the 60 months (parameter us_reage_window_months)",
            "at most 2 (parameter us_reage_max_in_window)",
        )


def test_one_re_age_in_five_years_more_than_a_year_ago_allows_another() -> None:
    assert_eligible(decide(card(reaged("2024-01-15T12:00:00-05:00"))))


def test_every_unmet_test_is_named() -> None:
    d = decide(
        card(
            reaged("2022-01-15T12:00:00-05:00"),
            reaged("2026-01-15T12:00:00-05:00"),
            opened_on="2025-12-01",
            payments=1,
        )
    )
    assert_blocked(
        d,
        "not_eligible",
        "is 6 whole months old",
        "1 consecutive minimum payments",
        "less than 12 months",
        "re-aged 2 times",
    )


# --------------------------------------------------------------------------- unknown


@pytest.mark.parametrize(
    ("opened_on", "payments", "fields"),
    [
        (None, 3, ["case field opened_on"]),
        ("2025-09-01", None, ["case field consecutive_minimum_payments"]),
        (None, None, ["case field opened_on", "case field consecutive_minimum_payments"]),
    ],
)
def test_an_input_not_recorded_blocks_re_ageing_and_names_the_field(
    opened_on: str | None, payments: int | None, fields: list[str]
) -> None:
    d = decide(card(opened_on=opened_on, payments=payments))
    assert_blocked(d, "unknown", "not established", *fields)


def test_a_known_failure_wins_over_an_unknown_input() -> None:
    d = decide(card(opened_on="2026-01-01", payments=None))
    found = reage(d)
    assert found.value == "not_eligible"
    assert found.notes == (
        "not recorded: the consecutive minimum payments are not recorded (case field "
        "consecutive_minimum_payments): at least 3 (parameter us_reage_min_payments) are "
        "needed",
    )


# --------------------------------------------------------------------------- scope


@pytest.mark.parametrize("product", ["loan", "receivable", "property_fee"])
def test_other_products_are_not_assessed(product: str) -> None:
    for data in (card(product=product), card(product=product, opened_on="2026-05-01")):
        d = decide(data)
        assert [r for r in d.regulatory if r.pack == "US-REAGE"] == []
        assert replan_blocks(d) == []
        assert RULE not in [f.rule_id for f in d.trace]


def test_other_products_decide_as_before() -> None:
    for product in ("loan", "receivable"):
        bare = card(product=product, opened_on=None, payments=None)
        full = card(reaged("2026-05-01T12:00:00-04:00"), product=product, opened_on="2026-05-01")
        strip = ('"engine":"python"', "")
        first, second = (decide(x).to_json().replace(*strip) for x in (bare, full))
        assert json.loads(first)["allowed"] == json.loads(second)["allowed"]
        assert "replan" in allowed(decide(bare))


@pytest.mark.parametrize("name", ["default", "cn_credit_card", "uk", "ifrs9"])
def test_other_policies_do_not_read_re_ageing(name: str) -> None:
    policy = load_policy(name)
    section = regulation_of(policy)
    assert not any(isinstance(p, ReagePack) for p in section.packs) if section else True
    assert RULE not in [r.id for r in policy.remedy_rules]
    young = card(opened_on="2026-05-01", payments=0, product="credit_card")
    young["currency"] = "EUR" if name == "ifrs9" else "USD"
    bare = {
        k: v for k, v in young.items() if k not in ("opened_on", "consecutive_minimum_payments")
    }
    d1, d2 = (engine(name).decide(Case.from_dict(x), as_of=AS_OF) for x in (young, bare))
    assert d1.to_json() == d2.to_json()


def test_the_parameters_cite_us_reage_with_status_s() -> None:
    policy = load_policy("us_regf")
    figures = {
        "us_reage_min_account_months": 9,
        "us_reage_min_payments": 3,
        "us_reage_interval_months": 12,
        "us_reage_window_months": 60,
        "us_reage_max_in_window": 2,
    }
    for name, value in figures.items():
        param = policy.parameters[name]
        assert (param.value, param.status, param.cites) == (value, "S", ("US-REAGE",))
    (pack,) = [p for p in regulation_of(policy).packs if isinstance(p, ReagePack)]  # type: ignore[union-attr]
    assert pack.products == ("credit_card",)
    assert {
        getattr(pack, k).param
        for k in (
            "min_account_months",
            "min_payments",
            "interval_months",
            "window_months",
            "max_in_window",
        )
    } == set(figures)


# --------------------------------------------------------------------------- back ends


def test_the_two_back_ends_give_the_same_decision() -> None:
    cases = [
        card(),
        card(opened_on="2025-09-02"),
        card(payments=2),
        card(opened_on=None, payments=None),
        card(reaged("2025-06-02T12:00:00-04:00")),
        card(reaged("2021-06-02T12:00:00-04:00"), reaged("2024-01-15T12:00:00-05:00")),
        card(product="loan", opened_on="2026-05-01"),
    ]
    seen = set()
    for data in cases:
        python, durable = (
            decide(data, backend=b).to_json().replace(f'"engine":"{b}"', "") for b in BACKENDS
        )
        assert python == durable
        seen.add(json.loads(python)["regulatory"][-1]["value"])
    assert {"eligible", "not_eligible", "unknown"} <= seen


@pytest.mark.parametrize(
    "data",
    [
        card(),  # eligible: the reason says the re-ages within the 60 months
        card(reaged("2022-01-15T12:00:00-05:00"), reaged("2024-01-15T12:00:00-05:00")),
        card(reaged("2021-06-02T12:00:00-04:00"), reaged("2024-01-15T12:00:00-05:00")),
    ],
)
def test_the_same_instant_written_in_another_offset_gives_the_same_decision(
    data: dict[str, Any],
) -> None:
    # The reason once wrote as_of as it was given (2026-06-01T16:00:00+00:00 here), so
    # one instant gave two decisions; it is written in the case's zone.
    decisions = [
        decide(data, as_of=as_of).to_dict()
        for as_of in (AS_OF, "2026-06-01T16:00:00+00:00", "2026-06-02T00:00:00+08:00")
    ]
    for d in decisions:
        del d["as_of"]
    assert decisions[1] == decisions[0]
    assert decisions[2] == decisions[0]
    assert "60 months (parameter us_reage_window_months) before 2026-06-01T12:00:00-04:00" in (
        reage(decide(data)).reason
    )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("opened_on", "2025-13-01", "expected a date as YYYY-MM-DD, got '2025-13-01'"),
        ("opened_on", "20250901", "expected a date as YYYY-MM-DD, got '20250901'"),
        ("opened_on", 20250901, "expected a date as YYYY-MM-DD, got int"),
        ("opened_on", "1800-01-01", "1800"),
        ("consecutive_minimum_payments", -1, "expected a whole number from 0 to 1200, got -1"),
        ("consecutive_minimum_payments", 2.5, "expected a whole number from 0 to 1200, got 2.5"),
        ("consecutive_minimum_payments", True, "expected a whole number from 0 to 1200, got True"),
        ("consecutive_minimum_payments", "3.0", "expected a whole number from 0 to 1200"),
        ("consecutive_minimum_payments", 1201, "expected a whole number from 0 to 1200, got 1201"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    data = {**card(), field: value}
    with pytest.raises(InputError) as caught:
        Case.from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == field
    assert message in problem.message


def test_a_count_written_as_digits_is_read() -> None:
    assert Case.from_dict({**card(), "consecutive_minimum_payments": "3"}) == Case.from_dict(card())


def test_a_reaged_event_needs_its_instant() -> None:
    with pytest.raises(InputError) as caught:
        Case.from_dict(card({"kind": "reaged"}))
    assert caught.value.problems[0].path == "events[0].at"


def test_the_command_line_names_the_bad_field_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cards.json"
    path.write_text(json.dumps({**card(), "opened_on": "2025-02-30"}), encoding="utf-8")
    code = main(["decide", str(path), "--policy", "us_regf", "--as-of", AS_OF])
    _, err = capsys.readouterr()
    assert code != 0
    assert "opened_on" in err
    assert "2025-02-30" in err
    assert "cards.json" in err


def test_the_command_line_decides_a_card_and_prints_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cards.json"
    path.write_text(json.dumps(card(opened_on="2025-09-02")), encoding="utf-8")
    code = main(["decide", str(path), "--policy", "us_regf", "--as-of", AS_OF, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    decision = json.loads(out)
    assert decision == json.loads(decide(card(opened_on="2025-09-02"), backend="durable").to_json())
    (block,) = [b for b in decision["blocked"] if b["rule_id"] == RULE]
    assert "8 whole months old" in block["reason"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("min_account_months", "us_reage_min_acount_months", "unknown parameter"),
        ("min_payments", -1, "must be at least 0, got -1"),
        ("interval_months", 0, "must be at least 1, got 0"),
        ("max_in_window", 121, "must be at most 120, got 121"),
        ("colour", 1, "colour"),
    ],
)
def test_a_bad_pack_key_is_a_policy_error(key: str, value: Any, expected: str) -> None:
    pack = {
        "kind": "reage",
        "fact": "reage",
        "min_account_months": 9,
        "min_payments": 3,
        "interval_months": 12,
        "window_months": 60,
        "max_in_window": 2,
        key: value,
    }
    data = {
        "schema_version": "1",
        "extends": "us_regf",
        "id": "acme",
        "version": "1.0.0",
        "regulation": {"ACME-REAGE": pack},
    }
    with pytest.raises(PolicyError) as caught:
        policy_from_dict(data)
    assert f"regulation.ACME-REAGE.{key}" in str(caught.value)
    assert expected in str(caught.value)


# --------------------------------------------------------------------------- columns


def test_the_columnar_engine_agrees_and_counts_the_rows_it_sends_per_case() -> None:
    pytest.importorskip("polars")
    from test_frame import assert_agree, columnar

    rows = [
        {k: v for k, v in card(case_id="C-1").items() if k not in ("signals", "events")},
        {k: v for k, v in card(case_id="C-2", opened_on="2025-09-02").items() if k != "events"},
        card(case_id="C-3", opened_on=None, payments=None),
        {**card(case_id="C-4", opened_on=None, payments=None), "signals": []},
        card(reaged("2025-06-02T12:00:00-04:00"), case_id="C-5", opened_on=None, payments=None),
        {**card(case_id="C-6", product="loan", opened_on=None, payments=None), "events": []},
    ]
    for row in rows:
        row.setdefault("signals", [])
        row.setdefault("events", [])
    result = assert_agree("us_regf", rows, AS_OF)
    # Rows with the re-ageing inputs are decided by the columns too (the sections' key
    # holds the account's age and payments), and so is the row with a reaged event: its
    # sections run on its own history.
    assert result.summary.fallback == {}
    assert result.summary.columnar == 6
    assert result.summary.section_histories == 1
    decided, errors = columnar(result)
    assert errors == {}
    values = [dict(decided[i]["classes"]).get("US-REAGE") for i in range(len(rows))]
    assert values == ["eligible", "not_eligible", "unknown", "unknown", "not_eligible", None]


def test_a_custom_reage_pack_without_a_reason_fact_gives_only_its_fact() -> None:
    data = {
        "schema_version": "1",
        "extends": "default",
        "id": "acme",
        "version": "1.0.0",
        "regulation": {
            "ACME-REAGE": {
                "kind": "reage",
                "fact": "acme_reage",
                "products": ["credit_card"],
                "min_account_months": 6,
                "min_payments": 1,
                "interval_months": 12,
                "window_months": 60,
                "max_in_window": 2,
            }
        },
    }
    policy = policy_from_dict(data)
    assert "acme_reage" in policy.schema()
    d = Engine(policy).decide(Case.from_dict(card(opened_on="2025-12-01", payments=1)), as_of=AS_OF)
    (found,) = d.regulatory
    assert (found.value, found.rule_id) == ("eligible", "ACME-REAGE:eligible")
    with pytest.raises(PolicyError, match="has the name of another fact field"):
        policy_from_dict(
            {
                **data,
                "regulation": {
                    "ACME-REAGE": {**data["regulation"]["ACME-REAGE"], "reason_fact": "dpd"}
                },
            }
        )
