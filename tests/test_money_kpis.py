"""Collection KPIs on a hand-computed portfolio, through the function and the command."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from collectrules import InputError
from collectrules.cli import main
from collectrules.money.kpis import (
    GroupBy,
    Ratio,
    compute_kpis,
    events_from_rows,
    portfolio_from_rows,
    timelines_from_rows,
)
from collectrules.money.terms import MoneyFigure, Target

OPEN = "2026-04-01T00:00:00+00:00"
CLOSE = "2026-05-01T00:00:00+00:00"
CASES = Path(__file__).parent.parent / "examples" / "cases"


def _decision(
    case_id: str,
    as_of: str,
    quadrant: str,
    dpd: int,
    overdue: str,
    bucket: str,
    currency: str = "CNY",
    **facts: Any,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "as_of": as_of,
        "quadrant": {"value": quadrant},
        "facts": {
            "dpd": dpd,
            "currency": currency,
            "overdue_amount": overdue,
            "principal": "10000.00",
            **facts,
        },
        "buckets": [{"bucket_set": "M", "bucket": bucket}],
    }


OPENING = [
    _decision("A", OPEN, "Q2", 10, "1000.00", "M1"),
    _decision("B", OPEN, "Q2", 40, "3000.00", "M2"),
    _decision("C", OPEN, "Q3", 20, "2000.00", "M1"),
    _decision("D", OPEN, "Q4", 100, "500", "M4", currency="JPY"),
]
CLOSING = [  # D has left the portfolio: no closing decision
    _decision("A", CLOSE, "Q1", 0, "0.00", "M0", contact_attempts=4, contact_reached=2,
              promise_kept=1, promise_broken=0),
    _decision("B", CLOSE, "Q2", 70, "3000.00", "M3", contact_attempts=3, contact_reached=0,
              promise_kept=0, promise_broken=2),
    _decision("C", CLOSE, "Q1", 0, "0.00", "M0", contact_attempts=1, contact_reached=1,
              promise_kept=1, promise_broken=0),
]  # fmt: skip
EVENTS = [
    {"case_id": "A", "kind": "payment", "at": "2026-04-10T09:00:00+00:00", "amount": "1000"},
    {"case_id": "C", "kind": "payment", "at": "2026-04-20T09:00:00+00:00", "amount": "2500"},
    {"case_id": "B", "kind": "payment", "at": "2026-03-15T09:00:00+00:00", "amount": "100"},
    {"case_id": "B", "kind": "payment", "at": "2026-05-02T09:00:00+00:00", "amount": "50"},
    {"case_id": "A", "kind": "contact_attempt", "at": "2026-04-05T09:00:00+00:00",
     "outcome": "reached"},
    {"case_id": "A", "kind": "contact_attempt", "at": "2026-04-06T09:00:00+00:00",
     "outcome": "no_answer"},
    {"case_id": "B", "kind": "contact_attempt", "at": "2026-04-07T09:00:00+00:00",
     "outcome": "no_answer"},
]  # fmt: skip
TARGET = Target("overdue_recovery", "overdue_amount", MoneyFigure(Decimal("0.5")))


def _rows(items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"row {i}", item) for i, item in enumerate(items)]


def _r(ratio: Ratio | None) -> tuple[int, int] | None:
    return None if ratio is None else (int(ratio.numerator), int(ratio.denominator))


def test_every_kpi_on_a_hand_computed_portfolio() -> None:
    report = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)),
        previous=portfolio_from_rows(_rows(OPENING)),
        events=events_from_rows(_rows(EVENTS)),
        targets=[TARGET],
    )
    k = report.total
    assert k.cases == 4
    # Recovered in (opening, closing]: A 1000 (of 1000), C 2500 capped at its 2000
    # overdue; B's payments fall outside the window; D (JPY) paid nothing.
    assert k.recovery_rate_amount is not None
    assert _r(k.recovery_rate_amount["CNY"]) == (3000, 6000)
    assert k.recovery_rate_amount["CNY"].value == Decimal("0.5000")
    assert _r(k.recovery_rate_amount["JPY"]) == (0, 500)
    assert _r(k.recovery_rate_count) == (2, 4)
    # Cure: A and C reach dpd 0 of the three overdue cases still in the portfolio.
    assert _r(k.cure_rate) == (2, 3)
    assert k.cure_rate is not None
    assert k.cure_rate.value == Decimal("0.6667")
    assert any("1 opening case(s) have no closing decision" in n for n in k.notes)
    assert k.roll_rates is not None
    assert {f: {t: _r(r) for t, r in row.items()} for f, row in k.roll_rates["M"].items()} == {
        "M1": {"M0": (2, 2)},
        "M2": {"M3": (1, 1)},
    }
    assert _r(k.promise_kept_rate) == (2, 4)  # kept 1 + 0 + 1 of 1 + 2 + 1 judged
    assert _r(k.contact_rate) == (1, 3)  # from the events in the window
    assert k.breached_step_rate is None
    assert [(t.currency, t.target_amount, t.actual, t.gap) for t in k.targets] == [
        ("CNY", Decimal("3000.00"), Decimal(3000), Decimal("0.00")),
        ("JPY", Decimal(250), Decimal(0), Decimal(250)),
    ]


TIMELINES = [
    {"case_id": "A", "steps": [{"status": "done"}, {"status": "breached"}, {"status": "open"}]},
    {"case_id": "B", "steps": [{"status": "late"}, {"status": "skipped"}, {"status": "breached"}]},
    {"case_id": "C", "steps": [{"status": "upcoming"}, {"status": "paused"}]},
]


def test_the_breached_step_rate_counts_breached_of_the_steps_whose_time_has_come() -> None:
    report = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)),
        previous=portfolio_from_rows(_rows(OPENING)),
        timelines=timelines_from_rows(_rows(TIMELINES)),
        by="quadrant",
    )
    # Due: A done + breached, B late + breached; C none; D has no timeline.
    assert _r(report.total.breached_step_rate) == (2, 4)
    assert any("1 case(s) without a timeline" in n for n in report.total.notes)
    assert _r(report.groups["Q2"].breached_step_rate) == (2, 4)
    assert _r(report.groups["Q3"].breached_step_rate) == (0, 0)
    assert report.groups["Q3"].breached_step_rate is not None
    assert report.groups["Q3"].breached_step_rate.value is None
    with pytest.raises(InputError, match=r"steps\[0\].status"):
        timelines_from_rows(_rows([{"case_id": "A", "steps": [{}]}]))


def test_without_events_recovery_is_the_fall_in_the_overdue_amount() -> None:
    report = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)), previous=portfolio_from_rows(_rows(OPENING))
    )
    k = report.total
    assert k.recovery_rate_amount is not None
    assert _r(k.recovery_rate_amount["CNY"]) == (3000, 6000)  # A 1000, B 0, C 2000
    assert "JPY" not in k.recovery_rate_amount  # D has no closing decision: unknown
    assert _r(k.recovery_rate_count) == (2, 3)
    assert _r(k.contact_rate) == (3, 8)  # the closing facts: 2 + 0 + 1 of 4 + 3 + 1


def test_by_quadrant_groups_the_opening_cohort() -> None:
    report = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)),
        previous=portfolio_from_rows(_rows(OPENING)),
        events=events_from_rows(_rows(EVENTS)),
        by=GroupBy.QUADRANT,
    )
    assert sorted(report.groups) == ["Q2", "Q3", "Q4"]
    q2 = report.groups["Q2"]
    assert q2.recovery_rate_amount is not None
    assert _r(q2.recovery_rate_amount["CNY"]) == (1000, 4000)
    assert _r(q2.cure_rate) == (1, 2)
    owners = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)), by="owner", owners={"A": "li", "B": "li"}
    )
    assert {g: k.cases for g, k in owners.groups.items()} == {"li": 2, "(no owner)": 1}
    buckets = compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="bucket")
    assert {g: k.cases for g, k in buckets.groups.items()} == {"M0": 2, "M3": 1}
    named = compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="bucket", bucket_set="M")
    assert named.groups == buckets.groups


def test_a_bucket_set_no_case_has_is_refused_not_grouped_as_no_bucket() -> None:
    """A misspelt set put every case under "(no bucket)" without a word."""
    with pytest.raises(InputError) as caught:
        compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="bucket", bucket_set="MM")
    (problem,) = caught.value.problems
    assert problem.path == "bucket_set"
    assert problem.message == "no case has the bucket set 'MM': expected one of theirs ('M')"
    assert problem.suggestion == "M"
    # An empty portfolio has no set to name: nothing is refused.
    assert compute_kpis({}, by="bucket", bucket_set="m").groups == {}


def test_grouping_by_owner_without_owners_is_refused() -> None:
    """Every case went under "(no owner)"; an empty mapping is still an answer."""
    with pytest.raises(InputError, match=r"^owners: grouping by owner needs the owners"):
        compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="owner")
    report = compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="owner", owners={})
    assert {g: k.cases for g, k in report.groups.items()} == {"(no owner)": 3}


def test_a_kpi_without_its_input_is_none_with_the_reason() -> None:
    k = compute_kpis(portfolio_from_rows(_rows(CLOSING))).total
    assert k.recovery_rate_amount is None
    assert k.cure_rate is None
    assert k.roll_rates is None
    assert "recovery needs --events or --previous" in k.notes
    assert "cure and roll rates need --previous" in k.notes
    assert k.breached_step_rate is None
    assert any(n.startswith("breached-step rate needs --timelines") for n in k.notes)


@pytest.mark.parametrize(
    ("rows", "path"),
    [
        ([{"case_id": "A"}], "facts"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "dpd": "x"}}], "facts.dpd"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "overdue_amount": "?"}}],
         "facts.overdue_amount"),
        ([CLOSING[0], CLOSING[0]], "case_id"),
        ([{**CLOSING[0], "buckets": 5}], "buckets"),
        ([{**CLOSING[0], "buckets": None}], "buckets"),
        ([{**CLOSING[0], "buckets": [5]}], "buckets[0]"),
        ([{**CLOSING[0], "buckets": [{"bucket_set": "M", "bucket": None}]}], "buckets[0]"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], 5: 1}}], "facts"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "contact_attempts": "4"}}],
         "facts.contact_attempts"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "promise_kept": 1.5}}],
         "facts.promise_kept"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "contact_reached": True}}],
         "facts.contact_reached"),
        # Of the right kind, the wrong content: counted, each would skew a rate.
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "dpd": -1}}], "facts.dpd"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "promise_kept": -1}}],
         "facts.promise_kept"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "overdue_amount": "-5"}}],
         "facts.overdue_amount"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "principal": "1E+30"}}],
         "facts.principal"),
        ([{**CLOSING[0], "facts": {**CLOSING[0]["facts"], "currency": "XYZ"}}],
         "facts.currency"),
        ([{**CLOSING[0], "quadrant": {"value": "Q5"}}], "quadrant.value"),
    ],
)  # fmt: skip
def test_bad_decisions_name_the_field(rows: list[dict[str, Any]], path: str) -> None:
    with pytest.raises(InputError) as info:
        portfolio_from_rows(_rows(rows))
    assert info.value.problems[0].path == path


@pytest.mark.parametrize("name", ["contact_reached", "contact_attempts"])
def test_a_null_contact_count_makes_the_contact_rate_unknown(name: str) -> None:
    """Missing evidence is unknown: a null count is not counted as no contact."""
    rows = [{**CLOSING[0], "facts": {**CLOSING[0]["facts"], name: None}}]
    kpis = compute_kpis(portfolio_from_rows(_rows([*rows, *CLOSING[1:]])))
    assert kpis.total.contact_rate is None
    assert any(note.startswith("contact rate unknown: 1 decision(s)") for note in kpis.total.notes)
    known = compute_kpis(portfolio_from_rows(_rows(CLOSING))).total
    assert known.contact_rate is not None


#: A wrong kind inside an argument of compute_kpis, by the argument: the keys of each
#: mapping are case ids (texts), the owners' ids are texts.
_INSIDE_KPIS: list[tuple[str, Any, str]] = [
    ("owners", {"A": 5}, "owners['A']"),
    ("owners", {"A": ["li"]}, "owners['A']"),
    ("owners", {"A": None}, "owners['A']"),
    ("owners", {"A": "li", 5: "li"}, "owners[5]"),
    ("owners", {None: "li"}, "owners[None]"),
    ("decisions", "closing+5", "decisions[5]"),
    ("previous", "closing+5", "previous[5]"),
    ("events", {5: ()}, "events[5]"),
    ("events", {"A": [5]}, "events['A'][0]"),
    ("timelines", {b"A": ("done",)}, "timelines[b'A']"),
    ("timelines", {"A": ("done", 5)}, "timelines['A'][1]"),
    ("targets", [TARGET, "x"], "targets[1]"),
    # An unknown step status is neither due nor not due: refused, not left out.
    ("timelines", {"A": ("done", "nonsense")}, "timelines['A'][1]"),
    ("timelines", {"A": ("",)}, "timelines['A'][0]"),
]


@pytest.mark.parametrize(("parameter", "value", "path"), _INSIDE_KPIS)
def test_a_wrong_kind_inside_an_argument_of_compute_kpis_is_named(
    parameter: str, value: Any, path: str
) -> None:
    closing = portfolio_from_rows(_rows(CLOSING))
    if value == "closing+5":
        value = {**closing, 5: closing["A"]}
    with pytest.raises(InputError) as info:
        compute_kpis(**{"decisions": closing, "by": "owner", parameter: value})
    assert [p.path for p in info.value.problems] == [path]


@pytest.mark.parametrize(
    ("row", "path"),
    [
        ({"kind": "payment", "at": CLOSE, "amount": "1"}, "case_id"),
        ({"case_id": "A", "kind": "payment", "amount": "1"}, "at"),
        ({"case_id": "A", "kind": "payment", "at": "2026-04-01", "amount": "1"}, "at"),
        ({"case_id": "A", "kind": "payment", "at": CLOSE}, "amount"),
    ],
)
def test_bad_events_name_the_field(row: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as info:
        events_from_rows(_rows([row]))
    assert info.value.problems[0].path == path


def test_the_command_reads_batch_outputs_and_the_policy_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    for out, when in ((old, "2026-04-15T00:00:00+08:00"), (new, "2026-05-15T00:00:00+08:00")):
        argv = ["batch", str(CASES), "-o", str(out), "--policy", "cn_bank_loan", "--as-of", when]
        assert main(argv) == 0
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {"case_id": "Q2-HEALTH", "kind": "payment", "at": "2026-05-01T10:00:00+08:00",
             "amount": "4000"}
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    capsys.readouterr()
    argv = ["kpis", str(new), "--previous", str(old), "--events", str(events), "--format", "json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    total = report["total"]
    assert total["cases"] == 5
    assert total["recovery_rate_amount"]["CNY"] == {
        "numerator": "4000.00",
        "denominator": "42500.00",
        "value": "0.0941",
    }
    assert total["targets"] == [
        {
            "target": "overdue_recovery",
            "currency": "CNY",
            "label_en": "recovery of the overdue amount",
            "label_zh": "逾期款项回收",
            "target_amount": "21250.00",
            "actual": "4000.00",
            "gap": "17250.00",
        }
    ]
    assert total["breached_step_rate"] is None
    assert total["roll_rates"]["M"] == {
        "M1": {"M2": {"numerator": "5", "denominator": "5", "value": "1.0000"}}
    }


def test_the_command_reads_timelines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new.jsonl"
    as_of = "2026-05-15T00:00:00+08:00"
    argv = ["batch", str(CASES), "-o", str(new), "--policy", "cn_bank_loan", "--as-of", as_of]
    assert main(argv) == 0
    lines = []
    for path in sorted(CASES.glob("*.json")):
        capsys.readouterr()
        argv = ["timeline", str(path), "--policy", "cn_bank_loan", "--as-of", as_of]
        assert main([*argv, "--format", "json"]) == 0
        lines.append(json.dumps(json.loads(capsys.readouterr().out)))
    timelines = tmp_path / "timelines.jsonl"
    timelines.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = timelines_from_rows([("t", json.loads(line)) for line in lines])
    breached = sum(s == "breached" for v in expected.values() for s in v)
    due = sum(s in ("done", "late", "breached") for v in expected.values() for s in v)
    assert due > 0
    capsys.readouterr()
    assert main(["kpis", str(new), "--timelines", str(timelines), "--format", "json"]) == 0
    rate = json.loads(capsys.readouterr().out)["total"]["breached_step_rate"]
    assert (rate["numerator"], rate["denominator"]) == (str(breached), str(due))
    # A case's timeline given again (here with every step done) is a bad row: the first
    # is kept, not silently replaced.
    again = json.loads(lines[0])
    again["steps"] = [{**step, "status": "done"} for step in again["steps"]]
    timelines.write_text("\n".join([*lines, json.dumps(again)]) + "\n", encoding="utf-8")
    assert main(["kpis", str(new), "--timelines", str(timelines), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert f"timelines.jsonl:{len(lines) + 1}" in captured.err
    assert f"case {again['case_id']!r} appears twice" in captured.err
    rate = json.loads(captured.out)["total"]["breached_step_rate"]
    assert (rate["numerator"], rate["denominator"]) == (str(breached), str(due))


def test_the_command_reports_a_bad_row_and_measures_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(CLOSING[0]) + "\n{not json\n", encoding="utf-8")
    assert main(["kpis", str(path), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert "d.jsonl:2" in captured.err
    assert json.loads(captured.out)["total"]["cases"] == 1


def test_the_command_refuses_a_case_decided_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read one row at a time, the second decision of a case replaced the first silently."""
    path = tmp_path / "d.jsonl"
    rows = [*CLOSING, {**CLOSING[0], "quadrant": {**CLOSING[0]["quadrant"], "value": "Q4"}}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert main(["kpis", str(path), "--by", "quadrant", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert f"d.jsonl:{len(rows)}" in captured.err
    assert f"case {CLOSING[0]['case_id']!r} appears twice" in captured.err
    first = compute_kpis(portfolio_from_rows(_rows(CLOSING)), by="quadrant")
    groups = json.loads(captured.out)["groups"]
    assert {g: k["cases"] for g, k in groups.items()} == {
        g: k.cases for g, k in first.groups.items()
    }


def test_the_command_refuses_a_second_owner_for_a_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second owner replaced the first without a word; now its row is a bad row."""
    decisions, owners = tmp_path / "d.jsonl", tmp_path / "owners.jsonl"
    decisions.write_text("".join(json.dumps(row) + "\n" for row in CLOSING), encoding="utf-8")
    rows = [("A", "li"), ("B", "li"), ("A", "wang")]
    owners.write_text(
        "".join(json.dumps({"case_id": c, "owner": o}) + "\n" for c, o in rows), encoding="utf-8"
    )
    argv = ["kpis", str(decisions), "--by", "owner", "--owners", str(owners), "--format", "json"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "owners.jsonl:3" in captured.err
    assert "case 'A' is given an owner again: expected one owner per case" in captured.err
    groups = json.loads(captured.out)["groups"]
    assert {g: k["cases"] for g, k in groups.items()} == {"li": 2, "(no owner)": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dpd", -1),
        ("dpd", "40"),
        ("quadrant", "Q5"),
        ("currency", "XYZ"),
        ("overdue_amount", Decimal(-1)),
        ("overdue_amount", Decimal("NaN")),
        ("principal", "10000"),
        ("as_of", "2026-05-01"),
        ("buckets", {"M": 1}),
        ("facts", {"contact_attempts": -2}),
    ],
)
def test_a_portfolio_case_of_the_wrong_content_is_refused_when_built(
    field: str, value: Any
) -> None:
    """Built by hand, as by portfolio_from_rows: compute_kpis never sees it."""
    case = portfolio_from_rows(_rows(CLOSING))["A"]
    with pytest.raises(InputError) as info:
        attrs.evolve(case, **{field: value})
    assert info.value.problems[0].path.split(".")[-1] in (field, "contact_attempts")


def test_a_timeline_with_an_unknown_step_status_is_refused() -> None:
    row = {"case_id": "A", "steps": [{"status": "done"}, {"status": "finished"}]}
    with pytest.raises(InputError) as info:
        timelines_from_rows(_rows([row]))
    assert info.value.problems[0].path == "steps[1].status"


def _one_case(opening: str, closing: str, currency: str = "CNY") -> tuple[Any, Any]:
    return (
        portfolio_from_rows(_rows([_decision("A", CLOSE, "Q2", 5, closing, "M1", currency)])),
        portfolio_from_rows(_rows([_decision("A", OPEN, "Q2", 5, opening, "M1", currency)])),
    )


def _paid(*amounts: str) -> Any:
    return events_from_rows(
        _rows(
            [
                {"case_id": "A", "kind": "payment", "at": "2026-04-10T09:00:00+00:00", "amount": a}
                for a in amounts
            ]
        )
    )


_NOTHING_RECOVERED = {
    "no fall, written to the fen": ("1000.00", "1000.00", None),
    "no fall, written whole": ("1000", "1000", None),
    "a rise": ("1000", "1200.00", None),
    "no payment": ("1000", "1000", ()),
    "a payment of 0.00": ("1000", "1000", ("0.00",)),
    "payments of 0 and 0.000": ("1000.00", "1000.00", ("0", "0.000")),
}


@pytest.mark.parametrize("inputs", _NOTHING_RECOVERED.values(), ids=list(_NOTHING_RECOVERED))
def test_nothing_recovered_is_written_alike_whatever_the_inputs(
    inputs: tuple[str, str, tuple[str, ...] | None],
) -> None:
    """The numerator of the recovery by amount, and a target's actual, were '0' or
    '0.00' as the inputs happened to write their amounts ('0' where the target beside
    it was '500.00'). Every money figure is written to the currency's minor unit."""
    opening, closing, payments = inputs
    decisions, previous = _one_case(opening, closing)
    events = None if payments is None else _paid(*payments)
    total = compute_kpis(decisions, previous=previous, events=events, targets=[TARGET]).total
    assert total.to_dict()["recovery_rate_amount"]["CNY"] == {
        "numerator": "0.00",
        "denominator": "1000.00",
        "value": "0.0000",
    }
    (target,) = total.to_dict()["targets"]
    assert (target["target_amount"], target["actual"], target["gap"]) == (
        "500.00",
        "0.00",
        "500.00",
    )


@pytest.mark.parametrize(
    ("currency", "payments", "numerator", "denominator"),
    [
        ("CNY", ("400",), "400.00", "1000.00"),
        ("CNY", ("399.5", "0.50"), "400.00", "1000.00"),
        ("JPY", ("400.00",), "400", "1000"),
        ("KWD", ("400",), "400.000", "1000.000"),
        ("CNY", ("0.004",), "0.004", "1000.00"),  # more decimals than the yuan: not rounded
    ],
)
def test_amounts_are_written_to_the_currencys_minor_unit(
    currency: str, payments: tuple[str, ...], numerator: str, denominator: str
) -> None:
    decisions, previous = _one_case("1000", "1000", currency)
    total = compute_kpis(decisions, previous=previous, events=_paid(*payments)).total
    ratio = total.to_dict()["recovery_rate_amount"][currency]
    assert (ratio["numerator"], ratio["denominator"]) == (numerator, denominator)


_GHOSTS = [
    {"case_id": "GHOST", "kind": "payment", "at": "2026-04-10T09:00:00+00:00", "amount": "700"},
    {"case_id": "D", "kind": "payment", "at": "2026-04-11T09:00:00+00:00", "amount": "100"},
    {"case_id": "E", "kind": "contact_attempt", "at": "2026-04-12T09:00:00+00:00",
     "outcome": "reached"},
    {"case_id": "GHOST", "kind": "payment", "at": "2026-04-13T09:00:00+00:00", "amount": "1"},
]  # fmt: skip


def test_events_of_a_case_no_decision_has_are_listed_not_dropped() -> None:
    """An event whose case id no decision has was left out of every KPI without a word.
    The report now lists each one (case id, place in its case's events); an event of a
    case with only an opening decision (D) is not among them: its period ends at the close."""
    events = events_from_rows(_rows([*EVENTS, *_GHOSTS]))
    report = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)),
        previous=portfolio_from_rows(_rows(OPENING)),
        events=events,
    )
    assert [(e.case_id, e.index) for e in report.unmatched_events] == [
        ("E", 0),
        ("GHOST", 0),
        ("GHOST", 1),
    ]
    assert report.to_dict()["unmatched_events"] == [
        {"case_id": "E", "index": 0},
        {"case_id": "GHOST", "index": 0},
        {"case_id": "GHOST", "index": 1},
    ]
    assert events["GHOST"][1].amount == Decimal(1)
    # Nothing of theirs is counted: the figures are those without them.
    alone = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)),
        previous=portfolio_from_rows(_rows(OPENING)),
        events=events_from_rows(_rows([*EVENTS, _GHOSTS[1]])),
    )
    assert report.total == alone.total
    assert alone.unmatched_events == ()
    assert compute_kpis(portfolio_from_rows(_rows(CLOSING))).unmatched_events == ()


def test_the_command_warns_of_event_rows_whose_case_no_decision_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows of payments for case ids the decisions do not hold (a typo, another team's
    file) were ignored without a word. They are now counted on standard error, the first
    five named with their file and line; the exit status stays 0 (docs/cli.md)."""
    decisions, events = tmp_path / "d.jsonl", tmp_path / "events.jsonl"
    decisions.write_text("".join(json.dumps(row) + "\n" for row in CLOSING), encoding="utf-8")
    ghosts = [{**_GHOSTS[0], "case_id": f"X-{n}"} for n in (9, 8, 7, 6, 5)]
    rows = [EVENTS[0], *ghosts[:3], EVENTS[1], *ghosts[3:], {**ghosts[0], "amount": "3"}]
    events.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    argv = ["kpis", str(decisions), "--events", str(events), "--format", "json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    shown = ", ".join(f"{events}:{line} ('X-{n}')" for line, n in ((2, 9), (3, 8), (4, 7)))
    shown += "".join(f", {events}:{line} ('X-{n}')" for line, n in ((6, 6), (7, 5)))
    assert captured.err == (
        "warning: 6 event row(s) name a case that no decision has, left out of the KPIs: "
        f"{shown}, …\n"
    )
    report = json.loads(captured.out)
    assert len(report["unmatched_events"]) == 6
    alone = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)), events=events_from_rows(_rows(EVENTS[:2]))
    )
    assert report["total"] == alone.total.to_dict()


def test_two_alike_payment_rows_are_two_payments() -> None:
    """An event row carries no identifier (a field such as ``reference`` is refused), so
    two rows alike may be two real payments, and both are counted (docs/kpis.md)."""
    decisions, previous = _one_case("1000", "1000")
    total = compute_kpis(decisions, previous=previous, events=_paid("300", "300")).total
    assert total.to_dict()["recovery_rate_amount"]["CNY"]["numerator"] == "600.00"
    row = {"case_id": "A", "kind": "payment", "at": CLOSE, "amount": "1", "reference": "P-1"}
    with pytest.raises(InputError) as info:
        events_from_rows(_rows([row]))
    assert [p.path for p in info.value.problems] == ["reference"]


def test_an_event_rows_promised_date_is_read_from_its_text() -> None:
    """A JSON Lines or CSV event row writes its promised date as text, as a case's
    events do: it is read as that date."""
    row = {
        "case_id": "C1",
        "kind": "promise_made",
        "at": "2026-06-01T10:00:00+08:00",
        "promised_date": "2026-06-10",
        "amount": "100",
    }
    (event,) = events_from_rows([("events.jsonl:1", row)])["C1"]
    assert event.promised_date == dt.date(2026, 6, 10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-W23-1", "expected a date as YYYY-MM-DD, got '2026-W23-1'"),
        ("20260610", "expected a date as YYYY-MM-DD, got '20260610'"),
        ("2026-13-01", "expected a date as YYYY-MM-DD, got '2026-13-01'"),
        ("2026-06-10T00:00:00+08:00", "expected a date as YYYY-MM-DD"),
        ("9999-12-31", "outside the years 1900–2200"),
    ],
)
def test_an_event_rows_promised_date_that_is_not_a_date_names_the_row_and_field(
    value: str, expected: str
) -> None:
    row = {
        "case_id": "C1",
        "kind": "promise_made",
        "at": "2026-06-01T10:00:00+08:00",
        "promised_date": value,
        "amount": "100",
    }
    with pytest.raises(InputError) as caught:
        events_from_rows([("events.jsonl:4", row)])
    (problem,) = caught.value.problems
    assert (problem.source, problem.path) == ("events.jsonl:4", "promised_date")
    assert expected in problem.message


def test_the_command_reports_a_bad_event_row_and_measures_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An event row with a bad field stopped the whole command (exit status 2, no KPI);
    as its help says of bad rows, it is now reported, at its line, and left out: the
    other rows are measured and the exit status is 1."""
    decisions, events = tmp_path / "d.jsonl", tmp_path / "events.jsonl"
    decisions.write_text("".join(json.dumps(row) + "\n" for row in CLOSING), encoding="utf-8")
    bad = [
        {**EVENTS[0], "amount": "-5"},
        {**EVENTS[0], "at": "2026-05-01T10:00:00"},
        {**EVENTS[0], "colour": "red"},
    ]
    rows = [EVENTS[0], *bad, EVENTS[1]]
    events.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    argv = ["kpis", str(decisions), "--events", str(events), "--format", "json"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [f"{events}:{n}" for n in (2, 3, 4)]
    assert all(line.startswith("error: ") for line in lines)
    assert "amount" in lines[0]
    assert "at: naive datetime" in lines[1]
    assert "colour" in lines[2]
    alone = compute_kpis(
        portfolio_from_rows(_rows(CLOSING)), events=events_from_rows(_rows(EVENTS[:2]))
    )
    assert json.loads(captured.out)["total"] == alone.total.to_dict()
