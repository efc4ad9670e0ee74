"""CN-5LVL-CROSS: the whole debtor becomes non-performing when more than 10 % of its
claims at this bank are non-performing, or more than 20 % of its debt at all banks is
more than 90 days past due. A case does not know the debtor's other claims: the lender
gives the two shares as the case fields ``debtor_npl_share`` and
``debtor_90dpd_share_all_banks``, and cn_bank_loan's CN-5LVL pack (``cross_class``,
``cross_npl_share``, ``cross_all_banks_share``) classifies the loan no better than
substandard when either is passed; a share not given sets no floor."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Decision, Engine, InputError, load_policy
from collectrules.cli import main
from collectrules.compliance.regulatory import LadderPack, regulation_of
from collectrules.model.schema import case_schema
from collectrules.policy import available_policies
from helpers import assert_ladder_key_error

BACKENDS = ("python", "durable")
AS_OF = "2026-06-30T12:00:00+08:00"
RULE = "CN-5LVL:cross_default"
NPL = "debtor_npl_share"
ALL_BANKS = "debtor_90dpd_share_all_banks"


@cache
def engine(policy: str = "cn_bank_loan", backend: str = "python") -> Engine:
    return Engine(load_policy(policy), backend=backend)  # type: ignore[arg-type]


def loan(due: str = "2026-06-20", case_id: str = "X-1", **shares: Any) -> dict[str, Any]:
    """A CNY loan with 500 past due since ``due`` (10 dpd at AS_OF by default: special
    mention by days past due), with the debtor-level ``shares`` given."""
    return {
        "case_id": case_id,
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "500",
        "due_date": due,
        "timezone": "Asia/Shanghai",
        **shares,
    }


def decide(data: dict[str, Any], backend: str = "python", policy: str = "cn_bank_loan") -> Decision:
    return engine(policy, backend).decide(Case.from_dict(data), as_of=AS_OF)


def five_level(d: Decision) -> Any:
    (found,) = [r for r in d.regulatory if r.pack == "CN-5LVL"]
    return found


# --------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("shares", "value", "rule"),
    [
        pytest.param({NPL: "0.10"}, "special_mention", "CN5-SPECIAL-MENTION", id="npl-at-10%"),
        pytest.param({NPL: 0.1}, "special_mention", "CN5-SPECIAL-MENTION", id="npl-float-10%"),
        pytest.param({NPL: "0.1000001"}, "substandard", RULE, id="npl-just-over-10%"),
        pytest.param({NPL: "0.11"}, "substandard", RULE, id="npl-11%"),
        pytest.param({ALL_BANKS: "0.20"}, "special_mention", "CN5-SPECIAL-MENTION", id="all-20%"),
        pytest.param({ALL_BANKS: "0.2000001"}, "substandard", RULE, id="all-just-over-20%"),
        pytest.param({ALL_BANKS: 1}, "substandard", RULE, id="all-100%"),
        pytest.param(
            {NPL: "0.10", ALL_BANKS: "0.20"},
            "special_mention",
            "CN5-SPECIAL-MENTION",
            id="both-at",
        ),
        pytest.param({NPL: "0.10", ALL_BANKS: "0.25"}, "substandard", RULE, id="one-over"),
        pytest.param({NPL: 0, ALL_BANKS: 0}, "special_mention", "CN5-SPECIAL-MENTION", id="zero"),
    ],
)
def test_a_share_more_than_its_threshold_makes_the_loan_substandard(
    backend: str, shares: dict[str, Any], value: str, rule: str
) -> None:
    found = five_level(decide(loan(**shares), backend))
    assert (found.value, found.rule_id) == (value, rule)
    if rule == RULE:
        assert found.cites == ("CN-5LVL", "NPL-5LEVEL", "CN-5LVL-CROSS")
        # doubtful follows by days past due: more than 270 after the due date
        assert (found.next_value, found.next_on) == ("doubtful", "2027-03-18")
    else:
        assert found.next_value == "substandard"


def test_the_reason_says_which_threshold_was_passed_with_the_figure() -> None:
    found = five_level(decide(loan(**{NPL: "0.15"})))
    assert "debtor_npl_share 0.15: more than 0.1 (parameter cn5_cross_npl_share)" in found.reason
    assert ALL_BANKS not in found.reason
    assert "dpd now 10" in found.reason
    found = five_level(decide(loan(**{NPL: "0.05", ALL_BANKS: "0.35"})))
    assert (
        "debtor_90dpd_share_all_banks 0.35: more than 0.2 (parameter cn5_cross_all_banks_share) "
        "of the debtor's debt at all banks is more than 90 days past due"
    ) in found.reason
    assert "debtor_npl_share 0.05 is not more than 0.1" in " ".join(found.notes)
    both = five_level(decide(loan(**{NPL: "0.5", ALL_BANKS: "0.35"})))
    assert "debtor_npl_share 0.5" in both.reason
    assert "debtor_90dpd_share_all_banks 0.35" in both.reason


def test_the_floor_is_in_the_trace_and_makes_the_loan_non_performing() -> None:
    d = decide(loan(**{ALL_BANKS: "0.5"}))
    entry = next(f for f in d.trace if f.rule_id == RULE)
    assert "CN-5LVL-CROSS" in entry.cites
    assert "debtor_90dpd_share_all_banks 0.5" in entry.reason
    assert d.facts["cn5_npl"] is True
    assert d.facts["cn5_class"] == "substandard"
    plain = decide(loan())
    assert plain.facts["cn5_npl"] is False
    assert RULE not in [f.rule_id for f in plain.trace]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "shares", [{}, {NPL: None}, {ALL_BANKS: None}, {NPL: None, ALL_BANKS: None}]
)
def test_a_share_not_given_is_unknown_and_sets_no_floor(
    backend: str, shares: dict[str, Any]
) -> None:
    case = Case.from_dict(loan(**shares))
    assert (case.debtor_npl_share, case.debtor_90dpd_share_all_banks) == (None, None)
    found = five_level(decide(loan(**shares), backend))
    assert (found.value, found.rule_id) == ("special_mention", "CN5-SPECIAL-MENTION")
    assert not any("cross_default" in n for n in found.notes)
    nothing_owed = {**loan(**shares), "overdue_amount": "0"}
    found = five_level(decide(nothing_owed, backend))
    assert (found.value, found.rule_id) == ("pass", "CN5-PASS")


def test_a_loan_with_nothing_overdue_is_substandard_when_its_debtor_passes_a_threshold() -> None:
    # The whole debtor is non-performing: its loan that is paid up is too.
    found = five_level(decide({**loan(**{NPL: "0.3"}), "overdue_amount": "0"}))
    assert (found.value, found.rule_id) == ("substandard", RULE)
    assert found.next_value is None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("due", "value", "rule"),
    [
        pytest.param("2026-03-01", "substandard", "CN5-SUBSTANDARD", id="same-class"),
        pytest.param("2025-09-01", "doubtful", "CN5-DOUBTFUL", id="doubtful"),
        pytest.param("2025-06-01", "loss", "CN5-LOSS", id="loss"),
    ],
)
def test_days_past_due_that_give_a_worse_or_the_same_class_win(
    backend: str, due: str, value: str, rule: str
) -> None:
    found = five_level(decide(loan(due, **{NPL: "0.9", ALL_BANKS: "0.9"}), backend))
    assert (found.value, found.rule_id) == (value, rule)
    (note,) = [n for n in found.notes if n.startswith(RULE)]
    assert f"but the cross-default floor gives no worse class than {value}" in note


def test_the_floor_wins_over_a_better_restructuring_hold_and_says_so() -> None:
    # Nothing overdue: the observation period holds the loan at special mention, and the
    # debtor's shares make it substandard.
    restructured = {"kind": "restructured", "at": "2026-03-02T10:00:00+08:00"}
    data = {**loan(**{NPL: "0.2"}), "overdue_amount": "0", "events": [restructured]}
    found = five_level(decide(data))
    assert (found.value, found.rule_id) == ("substandard", RULE)
    assert any(
        "(CN-5LVL:restructured_hold) runs until 2027-03-02T10:00:00+08:00" in n
        and "gives no worse class than substandard" in n
        for n in found.notes
    ), found.notes
    held = five_level(decide({**data, NPL: "0.05"}))
    assert (held.value, held.rule_id) == ("special_mention", "CN-5LVL:restructured_hold")


def test_the_two_back_ends_give_the_same_decision() -> None:
    rows = [
        loan(),
        loan(**{NPL: "0.10"}),
        loan(**{NPL: "0.1000001"}),
        loan(**{ALL_BANKS: "0.21", NPL: "0.01"}),
        loan("2025-09-01", **{NPL: "0.9"}),
        {**loan(**{ALL_BANKS: "1"}), "overdue_amount": "0"},
    ]
    rules = set()
    for data in rows:
        python, durable = (
            decide(data, b).to_json().replace(f'"engine":"{b}"', "") for b in BACKENDS
        )
        assert python == durable
        rules.add(five_level(decide(data, "durable")).rule_id)
    assert RULE in rules
    assert "CN5-SPECIAL-MENTION" in rules


# --------------------------------------------------------------------------- the case


@pytest.mark.parametrize("field", [NPL, ALL_BANKS])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1.5, "expected a share as a fraction from 0 to 1 (0.15 is 15 %), got 1.5"),
        pytest.param(15, "expected a share as a fraction from 0 to 1 (0.15 is 15 %), got 15"),
        pytest.param("1.01", "got 1.01", id="just-over-one"),
        pytest.param(-0.1, "got -0.1", id="negative"),
        pytest.param("-0", None, id="minus-zero"),
        pytest.param(float("nan"), "expected a finite number, got nan", id="nan"),
        pytest.param("NaN", "expected a finite number, got 'NaN'", id="nan-text"),
        pytest.param(float("inf"), "expected a finite number", id="inf"),
        pytest.param("abc", "expected a number in plain decimal notation", id="text"),
        pytest.param("15%", "expected a number in plain decimal notation", id="percent"),
        pytest.param(True, "expected a number, got bool True", id="bool"),
        pytest.param([0.1], "expected a number, got list", id="list"),
        pytest.param({"v": 1}, "expected a number, got dict", id="object"),
    ],
)
def test_a_bad_share_is_refused_naming_the_field(
    field: str, value: Any, expected: str | None
) -> None:
    data = loan(**{field: value})
    if expected is None:  # -0 is a share of nothing
        assert getattr(Case.from_dict(data), field) == 0
        return
    with pytest.raises(InputError) as info:
        Case.from_dict(data)
    (problem,) = info.value.problems
    assert problem.path == field
    assert expected in problem.message, problem.message
    with pytest.raises(InputError) as info:
        Case.from_dict(data, source="cases.json")
    assert f"cases.json: {field}: " in str(info.value)


@pytest.mark.parametrize("value", [Decimal("1.0001"), Decimal("-0.5"), Decimal("NaN"), 2])
def test_the_case_constructor_refuses_a_bad_share_too(value: Any) -> None:
    good = Case.from_dict(loan())
    for field in (NPL, ALL_BANKS):
        with pytest.raises(InputError) as info:
            attrs.evolve(good, **{field: value})  # runs the constructor's validators
        assert info.value.problems[0].path == field


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1E-400"), "is too small"),
        (Decimal("0." + "1" * 30), "has 30 significant digits"),
    ],
)
def test_the_case_constructor_refuses_a_share_the_dict_form_refuses(
    value: Decimal, expected: str
) -> None:
    # Case(...) once took these, and its to_dict() was then refused by Case.from_dict:
    # one case, decided when built in Python, refused when read from a file.
    good = Case.from_dict(loan())
    for field in (NPL, ALL_BANKS):
        with pytest.raises(InputError) as built:
            attrs.evolve(good, **{field: value})
        with pytest.raises(InputError) as read:
            Case.from_dict(loan(**{field: value}))
        for caught in (built, read):
            (problem,) = caught.value.problems
            assert problem.path == field
            assert expected in problem.message, problem.message


def test_the_shares_round_trip_and_are_in_the_case_schema() -> None:
    case = Case.from_dict(loan(**{NPL: "0.125", ALL_BANKS: 0.2}))
    assert (case.debtor_npl_share, case.debtor_90dpd_share_all_banks) == (
        Decimal("0.125"),
        Decimal("0.2"),
    )
    out = case.to_dict()
    assert (out[NPL], out[ALL_BANKS]) == ("0.125", "0.2")
    assert Case.from_dict(out) == case
    plain = Case.from_dict(loan())
    assert plain.debtor_npl_share is None
    assert plain.debtor_90dpd_share_all_banks is None
    assert NPL not in plain.to_dict()
    assert ALL_BANKS not in plain.to_dict()
    validator = jsonschema.Draft202012Validator(case_schema())
    validator.validate(json.loads(json.dumps(out)))
    assert not validator.is_valid({**out, NPL: 1.5})
    assert not validator.is_valid({**out, ALL_BANKS: -0.1})


def test_decide_on_a_file_with_a_bad_share_names_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(loan(**{ALL_BANKS: 20})), encoding="utf-8")
    code = main(["decide", str(path), "--policy", "cn_bank_loan", "--as-of", AS_OF])
    _, err = capsys.readouterr()
    assert code == 1
    assert (
        f"{path}: debtor_90dpd_share_all_banks: expected a share as a fraction from 0 to 1 "
        "(0.15 is 15 %), got 20"
    ) in err
    path.write_text(json.dumps(loan(**{ALL_BANKS: "0.5"})), encoding="utf-8")
    code = main(
        ["decide", str(path), "--policy", "cn_bank_loan", "--as-of", AS_OF, "--format", "json"]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    (decision,) = json.loads(out) if out.lstrip().startswith("[") else [json.loads(out)]
    (five,) = [r for r in decision["regulatory"] if r["pack"] == "CN-5LVL"]
    assert (five["value"], five["rule_id"]) == ("substandard", RULE)


# --------------------------------------------------------------------------- policies


def test_only_the_cn_policies_read_the_shares() -> None:
    """Every shipped policy takes a case with the shares (a case is read apart from its
    policy, as sicr_rebutted is); only cn_bank_loan, and cn_credit_card that extends it,
    read them, for loans. Elsewhere the decision is the one without them."""
    reading = set()
    for name in available_policies():
        data = loan(**{NPL: "0.5", ALL_BANKS: "0.5"})
        if name in ("ifrs9", "uk"):
            data = {**data, "currency": "EUR" if name == "ifrs9" else "GBP"}
        d = decide(data, policy=name)
        if any(r.rule_id == RULE for r in d.regulatory):
            reading.add(name)
            continue
        plain = decide({k: v for k, v in data.items() if k not in (NPL, ALL_BANKS)}, policy=name)
        assert d.to_json() == plain.to_json()
    assert reading == {"cn_bank_loan", "cn_credit_card"}
    card = {**loan(**{NPL: "0.5"}), "product": "credit_card"}
    classes = decide(card, policy="cn_credit_card").regulatory
    assert [(r.pack, r.rule_id) for r in classes] == [("CN-CARD-CLASS", "CARD-SPECIAL-MENTION")]


def test_the_thresholds_are_status_s_parameters_citing_the_clause() -> None:
    policy = load_policy("cn_bank_loan")
    for name, value in (("cn5_cross_npl_share", 0.10), ("cn5_cross_all_banks_share", 0.20)):
        param = policy.parameters[name]
        assert (param.value, param.status, tuple(param.cites)) == (value, "S", ("CN-5LVL-CROSS",))
    section = regulation_of(policy)
    assert section is not None
    (pack,) = [p for p in section.packs if p.id == "CN-5LVL"]
    assert isinstance(pack, LadderPack)
    assert pack.cross_class == "substandard"
    assert pack.cross_cites == ("CN-5LVL-CROSS",)


def test_a_lender_may_correct_a_threshold_by_its_parameter(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'schema_version = "1"\nextends = "cn_bank_loan"\nid = "mine"\nversion = "1.0.0"\n'
        'title = "mine"\n\n[parameters.cn5_cross_npl_share]\nvalue = 0.25\nstatus = "S"\n'
        'cites = ["CN-5LVL-CROSS"]\n',
        encoding="utf-8",
    )
    mine = Engine(load_policy(path), backend="python")
    found = five_level(mine.decide(Case.from_dict(loan(**{NPL: "0.2"})), as_of=AS_OF))
    assert found.value == "special_mention"
    found = five_level(mine.decide(Case.from_dict(loan(**{NPL: "0.26"})), as_of=AS_OF))
    assert (found.value, found.rule_id) == ("substandard", RULE)
    assert "more than 0.25 (parameter cn5_cross_npl_share)" in found.reason


@pytest.mark.parametrize(
    ("keys", "path", "expected"),
    [
        pytest.param(
            'cross_class = "substandard"',
            "cross_class",
            "give cross_npl_share or cross_all_banks_share (or both) with it",
            id="class-alone",
        ),
        pytest.param(
            "cross_npl_share = 0.1", "cross_npl_share", "give cross_class with it", id="npl-alone"
        ),
        pytest.param(
            "cross_all_banks_share = 0.2",
            "cross_all_banks_share",
            "give cross_class with it",
            id="all-banks-alone",
        ),
        pytest.param(
            'cross_cites = ["CN-5LVL-CROSS"]',
            "cross_cites",
            "cites a cross-default floor, but the pack has no cross_class",
            id="cites-alone",
        ),
        pytest.param(
            'cross_class = "substandrd"\ncross_npl_share = 0.1',
            "cross_class",
            "expected one of the classes after the first, got 'substandrd' "
            "(did you mean 'substandard'?)",
            id="typo",
        ),
        pytest.param(
            'cross_class = "pass"\ncross_npl_share = 0.1',
            "cross_class",
            "expected one of the classes after the first, got 'pass'",
            id="first-class",
        ),
        pytest.param(
            'cross_class = "substandard"\ncross_npl_share = 10',
            "cross_npl_share",
            "must be at most 1, got 10",
            id="percent-not-share",
        ),
        pytest.param(
            'cross_class = "substandard"\ncross_all_banks_share = -0.2',
            "cross_all_banks_share",
            "must be at least 0",
            id="negative",
        ),
        pytest.param(
            'cross_class = "substandard"\ncross_npl_share = "cn5_cross_npl_shar"',
            "cross_npl_share",
            "unknown parameter 'cn5_cross_npl_shar' (did you mean 'cn5_cross_npl_share'?)",
            id="unknown-parameter",
        ),
        pytest.param(
            'cross_class = "substandard"\ncross_npl_share = "cn5_cross_npl_share"',
            "cross_npl_share",
            "parameter 'cn5_cross_npl_share': must be at most 1, got 6",
            id="parameter-out-of-range",
        ),
        pytest.param(
            'cross_class = "substandard"\ncross_npl_share = "0.1"',
            "cross_npl_share",
            "expected a number, got '0.1'",
            id="text",
        ),
    ],
)
def test_a_bad_cross_default_key_is_an_error_at_its_file_and_line(
    tmp_path: Any, keys: str, path: str, expected: str
) -> None:
    assert_ladder_key_error(tmp_path, keys, "cn5_cross_npl_share", path, expected)


# --------------------------------------------------------------------------- frame


def _columnar_agrees(rows: list[dict[str, Any]]) -> Any:
    """The columnar engine's compact rows for ``rows`` equal the per-case engine's."""
    pl = pytest.importorskip("polars")
    from test_frame import assert_agree

    del pl
    return assert_agree("cn_bank_loan", rows, AS_OF)


@pytest.mark.parametrize("field", [NPL, ALL_BANKS])
def test_a_single_precision_share_is_read_as_the_number_it_holds(field: str) -> None:
    # A Float32 0.1 holds 0.100000001490116119384765625: per case it is read as that
    # number (more than 0.1: substandard), and the columns once read it as "0.1"
    # (special mention), so a row's class turned on whether it had events.
    pl = pytest.importorskip("polars")
    from collectrules import frame
    from test_frame import columnar, per_case

    figure = "0.1" if field == NPL else "0.2"
    values = [float(figure), 0.5, 0.0, 1.0]
    table = pl.DataFrame([loan(case_id=f"S-{i}") for i in range(len(values))]).with_columns(
        pl.Series(field, values, dtype=pl.Float32)
    )
    result = frame.decide(table, policy="cn_bank_loan", as_of=AS_OF)
    assert columnar(result) == per_case("cn_bank_loan", table.to_dicts(), AS_OF)
    first = result.decisions.to_dicts()[0]
    assert {p["key"]: p["value"] for p in first["classes"]}["CN-5LVL"] == "substandard"


def test_the_columnar_engine_agrees_on_rows_with_shares() -> None:
    rows = [
        loan(case_id="F-1"),
        loan(case_id="F-2", **{NPL: "0.10"}),
        loan(case_id="F-3", **{NPL: "0.1000001"}),
        loan(case_id="F-4", **{ALL_BANKS: "0.35"}),
        loan("2025-09-01", case_id="F-5", **{NPL: "0.9"}),
        {**loan(case_id="F-6", **{ALL_BANKS: "1"}), "overdue_amount": "0"},
        loan(case_id="F-7", **{NPL: "1.5"}),  # refused, with the per-case engine's error
        loan(case_id="F-8", **{ALL_BANKS: "2.5E-1"}),  # read per case: an exponent
    ]
    result = _columnar_agrees(rows)
    # The shares are columns of the sections' key: rows with good ones are decided by
    # the columns, the others per case, which reads them exactly or refuses them.
    assert (result.summary.columnar, result.summary.per_case) == (6, 2)
    assert result.summary.fallback == {"outside the columnar subset": 2}
    classes = {
        r["case_id"]: {p["key"]: p["value"] for p in r["classes"]}
        for r in result.decisions.to_dicts()
    }
    assert classes["F-2"]["CN-5LVL"] == "special_mention"
    assert classes["F-3"]["CN-5LVL"] == "substandard"
    assert classes["F-4"]["CN-5LVL"] == "substandard"
    assert classes["F-5"]["CN-5LVL"] == "doubtful"
    assert classes["F-6"]["CN-5LVL"] == "substandard"
    assert classes["F-8"]["CN-5LVL"] == "substandard"
    (error,) = result.errors
    assert "debtor_npl_share" in str(error.error)


#: A share as a file gives it: as text (one column of one type), or not at all.
_SHARE = st.one_of(
    st.none(),
    st.sampled_from(["0", "0.1", "0.10", "0.1000001", "0.2", "0.2000001", "0.5", "1"]),
    st.decimals(min_value=0, max_value=1, places=6).map(str),
)


def test_shares_in_a_column_of_floats_agree_with_the_per_case_engine() -> None:
    rows = [
        loan(case_id=f"G-{i}", **{NPL: share, ALL_BANKS: share * 2})
        for i, share in enumerate((0.0, 0.05, 0.1, 0.100001, 0.3))
    ]
    result = _columnar_agrees(rows)
    assert result.summary.columnar == len(rows)
    values = [
        {p["key"]: p["value"] for p in r["classes"]}["CN-5LVL"] for r in result.decisions.to_dicts()
    ]
    assert values == [
        "special_mention",
        "special_mention",
        "special_mention",
        "substandard",
        "substandard",
    ]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_rows_with_shares_agree_with_the_per_case_engine(data: Any) -> None:
    from collectrules.testing.strategies import cases

    policy = load_policy("cn_bank_loan")
    portfolio = data.draw(st.lists(cases(policy, as_of=AS_OF), min_size=1, max_size=6))
    rows = []
    for i, case in enumerate(portfolio):
        row = {**case.to_dict(), "case_id": f"{case.case_id}-{i}"}
        for field in (NPL, ALL_BANKS):
            share = data.draw(_SHARE)
            if share is not None:
                row[field] = share
        rows.append(row)
    result = _columnar_agrees(rows)
    assert result.errors == ()  # every share drawn is one a case takes


# --------------------------------------------------------------------------- the testing kit


@pytest.mark.parametrize(("field", "figure"), [(NPL, Decimal("0.1")), (ALL_BANKS, Decimal("0.2"))])
@pytest.mark.parametrize("relation", ["at", "over", "absent"])
def test_the_testing_kit_draws_each_share_at_and_over_its_figure(
    field: str, figure: Decimal, relation: str
) -> None:
    # The coherence properties decide cases the kit draws: a share the kit never draws
    # would leave the cross-default floor out of every one of them.
    from hypothesis import find
    from hypothesis import settings as hsettings

    from collectrules.testing.strategies import cases

    def wanted(case: Case) -> bool:
        share = getattr(case, field)
        if relation == "absent":
            return share is None and getattr(case, NPL if field == ALL_BANKS else ALL_BANKS)
        if share is None:
            return False
        return share == figure if relation == "at" else figure < share <= 1

    found = find(
        cases(load_policy("cn_bank_loan"), as_of=AS_OF),
        wanted,
        settings=hsettings(max_examples=2000, database=None, deadline=None),
    )
    assert wanted(found)
