"""A number written as text follows one grammar on every path that reads case data.

An optional sign, ASCII digits with an optional fraction and an optional exponent
(``limits.NUMBER_TEXT``). ``Decimal`` reads more (``1_000``, ``１０００``, ``١٠٠٠``,
`` 1000 ``): each such text is an ``InputError`` naming the field, the same in
``Case.from_dict``, ``Engine.decide_many`` (dicts, CSV, Parquet), the columnar engine
(``frame.decide``, ``run_columnar``) and, in ``tests/test_spark.py``, the Spark engine.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Case
from collectrules.cli import main
from collectrules.cli.money import _rate
from collectrules.errors import InputError, quote
from collectrules.io import RowShape, read_rows
from collectrules.model.case import currency_exponent
from collectrules.model.limits import NUMBER_TEXT
from collectrules.money import PlanTerms
from helpers import SEEN, case_dict, shared_engine

pl = pytest.importorskip("polars")
pq = pytest.importorskip("pyarrow.parquet")

from collectrules import frame  # noqa: E402
from collectrules.frame.files import run_columnar  # noqa: E402

AS_OF = "2026-04-03T12:00:00+08:00"


def plain(text: str) -> str:
    return (
        "expected a number in plain decimal notation (ASCII digits, optional sign,"
        f" fraction and exponent), got {quote(text)}"
    )


#: Texts that ``Decimal`` reads (or not) and no field accepts, with the message.
REFUSED = [
    *(
        (text, plain(text))
        for text in (
            "1_000.00",
            "1_000",
            "1e1_0",
            "\uff11\uff10\uff10\uff10",  # FULLWIDTH DIGITS
            "\u0661\u0660\u0660\u0660",  # ARABIC-INDIC DIGITS
            "\u0967\u0966\u0966\u0966",  # DEVANAGARI DIGITS
            "1\uff100.5",
            "0.\u0665",
            "1e\u0663",
            " 1000 ",
            " 1000",
            "1000 ",
            "\t1000",
            "1000\n",
            "1000\u2028",
            "\u00a01000",
            "1 000",
            "1\u00a0000",
            "- 1000",
            "0x10",
            "1e",
            "e3",
            ".",
            "+",
            "--1",
            "1.2.3",
            "abc",
        )
    ),
    ("NaN", "expected a finite number, got 'NaN'"),
    ("-Infinity", "expected a finite number, got '-Infinity'"),
]
#: Texts every path reads, with their value.
ACCEPTED = [
    ("1000", "1000"),
    ("1000.50", "1000.50"),
    ("12.5", "12.5"),
    (".5", "0.5"),
    ("12.", "12"),
    ("1e3", "1000"),
    ("1E+3", "1000"),
    ("2.5e-1", "0.25"),
    ("+1000", "1000"),
    ("-0", "0"),
    ("0.0001", "0.0001"),
]
_REFUSED_IDS = [repr(text) for text, _ in REFUSED]
_ACCEPTED_IDS = [text for text, _ in ACCEPTED]


def _problems(exc: InputError) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in exc.problems]


# ------------------------------------------------------------------ Case.from_dict


def _with_number(field: str, text: str) -> dict[str, Any]:
    if field == "signals[0].value":
        return case_dict(("cash_coverage", text))  # type: ignore[arg-type]
    if field == "events[0].amount":
        return case_dict(events=[{"kind": "payment", "at": SEEN, "amount": text}])
    if field == "fees[0].amount":
        fee = {"kind": "late_fee", "amount": text, "charged_on": "2026-04-01"}
        return case_dict(annual_rate="0.05", fees=[fee])
    return case_dict(**{field: text})


_FIELDS = [
    "principal",
    "overdue_amount",
    "annual_rate",
    "signals[0].value",
    "events[0].amount",
    "fees[0].amount",
]


@pytest.mark.parametrize("field", _FIELDS)
@pytest.mark.parametrize(("text", "message"), REFUSED, ids=_REFUSED_IDS)
def test_case_from_dict_refuses_a_number_not_in_plain_notation(
    field: str, text: str, message: str
) -> None:
    with pytest.raises(InputError) as info:
        Case.from_dict(_with_number(field, text))
    assert _problems(info.value) == [(field, message)]


@pytest.mark.parametrize(("text", "value"), ACCEPTED, ids=_ACCEPTED_IDS)
def test_case_from_dict_reads_a_number_in_plain_notation(text: str, value: str) -> None:
    case = Case.from_dict(_with_number("principal", text))
    assert case.principal == Decimal(value)
    case = Case.from_dict(_with_number("signals[0].value", text))
    assert case.signals[0].value == Decimal(value)


def test_the_grammar_is_the_one_of_the_docs() -> None:
    assert NUMBER_TEXT.fullmatch("-1.5E+3")
    assert not NUMBER_TEXT.fullmatch("1000\n")


# ------------------------------------------------------------------ the engines


def _rows() -> list[dict[str, Any]]:
    """One case a text, each as its overdue amount: the refused ones, then the read."""
    texts = [text for text, _ in REFUSED] + [text for text, _ in ACCEPTED]
    return [
        {**case_dict(), "case_id": f"N-{i}", "overdue_amount": text, "signals": None}
        for i, text in enumerate(texts)
    ]


def _expected() -> tuple[dict[str, str], list[str]]:
    """The error of each refused case, and the ids of the decided ones, in order."""
    refused = {f"N-{i}": f"overdue_amount: {message}" for i, (_, message) in enumerate(REFUSED)}
    decided = [f"N-{i}" for i in range(len(REFUSED), len(REFUSED) + len(ACCEPTED))]
    return refused, decided


def _outcomes(results: Any) -> tuple[dict[str, str], list[str]]:
    refused: dict[str, str] = {}
    decided: list[str] = []
    for result in results:
        if result.ok:
            decided.append(result.case_id)
        else:
            assert isinstance(result.error, InputError), result.error
            refused[result.case_id] = str(result.error)
    return refused, decided


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    names = [k for k in rows[0] if k != "signals"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows({k: r[k] for k in names} for r in rows)


def test_decide_many_on_dicts_refuses_the_same_texts() -> None:
    rows = [{k: v for k, v in r.items() if k != "signals"} for r in _rows()]
    assert _outcomes(shared_engine().decide_many(rows, as_of=AS_OF)) == _expected()


def test_decide_many_on_a_csv_file_refuses_the_same_texts(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    _write_csv(path, _rows())
    read = list(read_rows([path]))
    assert [r.data["overdue_amount"] for r in read] == [r["overdue_amount"] for r in _rows()]
    results = shared_engine().decide_many([r.data for r in read], as_of=AS_OF)
    assert _outcomes(results) == _expected()


def test_decide_many_on_a_parquet_table_refuses_the_same_texts(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    pl.DataFrame([{k: v for k, v in r.items() if k != "signals"} for r in _rows()]).write_parquet(
        path
    )
    results = shared_engine().decide_many(pq.read_table(path), as_of=AS_OF)
    assert _outcomes(results) == _expected()


def test_the_columnar_engine_refuses_the_same_texts() -> None:
    cases = pl.DataFrame([{k: v for k, v in r.items() if k != "signals"} for r in _rows()])
    result = frame.decide(cases, policy="default", as_of=AS_OF)
    refused = {e.case_id: str(e.error) for e in result.errors}
    assert all(isinstance(e.error, InputError) for e in result.errors)
    assert (refused, result.decisions["case_id"].to_list()) == _expected()


def test_the_columnar_batch_on_a_csv_file_refuses_the_same_texts(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    _write_csv(path, _rows())
    bad: list[str] = []
    run = run_columnar(
        [path],
        policy=shared_engine().policy,
        out=tmp_path / "out.parquet",
        as_of=AS_OF,
        on_bad=lambda where, reason: bad.append(reason),
    )
    refused, decided = _expected()
    assert sorted(bad) == sorted(refused.values())
    assert run.batch.bad == len(refused)
    assert pl.read_parquet(tmp_path / "out.parquet")["case_id"].to_list() == decided


# ------------------------------------------------------------------ other readers

_SPOILT = ["1_000", "\uff11\uff10\uff10\uff10", "\u0661\u0660\u0660\u0660", " 1000", "1000\n"]


@pytest.mark.parametrize("text", _SPOILT, ids=repr)
def test_an_amount_in_minor_units_is_read_in_plain_notation_only(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cases.csv"
    _write_csv(path, [{**case_dict(), "overdue_amount": text}, {**case_dict(), "case_id": "B"}])
    shape = RowShape(
        fields=[a.name for a in attrs.fields(Case)],
        money_unit="minor",
        exponent=currency_exponent,
    )
    bad, good = read_rows([path], shape=shape)
    assert isinstance(bad.error, InputError)
    message = (
        f"expected a whole number of minor units of CNY (--money-unit minor), got {quote(text)}"
    )
    assert _problems(bad.error) == [("overdue_amount", message)]
    assert good.data["overdue_amount"] == "50.00"


@pytest.mark.parametrize("text", [*_SPOILT, "0_06", " 0.06"], ids=repr)
def test_plan_terms_and_the_rate_option_read_plain_notation_only(text: str) -> None:
    """``--rate`` passes a text not in plain notation on to the terms, which refuse it."""
    assert _rate(text, "--rate") == text
    with pytest.raises(InputError) as info:
        PlanTerms(months=12, annual_rate=text)
    assert _problems(info.value) == [("terms.annual_rate", plain(text))]
    assert PlanTerms(months=12, annual_rate="6E-2").annual_rate == Decimal("0.06")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1_2", "expected a whole number of months in ASCII digits, got '1_2'"),
        ("１２", "expected a whole number of months in ASCII digits, got '１２'"),
        (" 12", "expected a whole number of months in ASCII digits, got ' 12'"),
        ("12.0", "expected a whole number of months in ASCII digits, got '12.0'"),
        ("9999999", "expected 1 to 600 months, got '9999999'"),
    ],
    ids=repr,
)
def test_the_months_option_reads_ascii_digits_only(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``plan --months`` was an integer option, read by Python's ``int()``: ``1_2`` was
    12 months, and so were full-width digits and spaces around them."""
    case = Path(__file__).parent.parent / "examples" / "cases" / "q2_health_short.json"
    head = ["plan", str(case), "--policy", "cn_bank_loan", "--as-of", AS_OF, "--kind", "extend"]
    assert main([*head, "--months", text, "--rate", "0.06"]) == 2
    assert f"--months: {message}" in capsys.readouterr().err
    assert main([*head, "--months", "0012", "--rate", "0.06"]) == 0


# ------------------------------------------------------------------ property

_NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
_INSERTED = st.one_of(
    st.just("_"),
    _NON_ASCII_DIGITS,
    st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000", "\u2028"]),
)


@st.composite
def _spoilt_numbers(draw: st.DrawFn) -> str:
    """A sign, digits and perhaps a fraction, with an underscore, a digit of another
    script or a space inserted anywhere."""
    sign = draw(st.sampled_from(["", "-", "+"]))
    digits = draw(st.text("0123456789", min_size=1, max_size=10))
    fraction = draw(st.one_of(st.just(""), st.text("0123456789", max_size=4).map(".{}".format)))
    text = sign + digits + fraction
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(_INSERTED) + text[at:]


@pytest.mark.parametrize("backend", ["python", "durable"])
@settings(max_examples=60, deadline=None)
@given(text=_spoilt_numbers(), field=st.sampled_from(["principal", "signals[0].value"]))
def test_a_spoilt_number_is_refused_on_both_back_ends(backend: str, text: str, field: str) -> None:
    (result,) = shared_engine("default", backend).decide_many(
        [_with_number(field, text)], as_of=AS_OF
    )
    assert isinstance(result.error, InputError)
    assert _problems(result.error) == [(field, plain(text))]
