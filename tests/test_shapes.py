"""Data in the shapes lenders hold: CSV folders, extra and mapped columns, money in minor
units, long tables of signals and events, frames, and ISO 4217 currencies."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from collectrules import Case, Engine, InputError
from collectrules.cli import main
from collectrules.io import RowShape, load_column_map, read_rows
from collectrules.model.case import currency_exponent

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
AS_OF = "2026-04-03T12:00:00+08:00"
HEADER = "case_id,product,currency,principal,overdue_amount,due_date,timezone"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def case_fields() -> frozenset[str]:
    return frozenset(a.name for a in attrs.fields(Case))


# --------------------------------------------------------------------------- CSV


def test_a_directory_of_csv_files_is_read_in_name_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "b.csv").write_text(
        f"{HEADER}\nB-1,loan,CNY,1000,100,2026-03-01,Asia/Shanghai\n", encoding="utf-8"
    )
    (tmp_path / "a.csv").write_text(
        f"{HEADER}\nA-1,loan,CNY,1000,100,2026-03-01,Asia/Shanghai\n", encoding="utf-8"
    )
    code, out, err = run(capsys, "decide", str(tmp_path), "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    assert [d["case_id"] for d in jsonl(out)] == ["A-1", "B-1"]


def test_extra_csv_columns_are_ignored_with_one_warning_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        f"{HEADER},branch,officer\n"
        "X-1,loan,CNY,1000,100,2026-03-01,Asia/Shanghai,Pudong,Li\n"
        "X-2,loan,CNY,1000,100,2026-03-01,Asia/Shanghai,Minhang,Wang\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "decide", str(path), "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    assert [d["case_id"] for d in jsonl(out)] == ["X-1", "X-2"]
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "branch, officer" in warnings[0]
    assert str(path) in warnings[0]


def test_a_column_map_renames_the_lenders_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nloan_no = "case_id"\nccy = "currency"\n"Overdue Amt" = "overdue_amount"\n',
        encoding="utf-8",
    )
    path = tmp_path / "cases.csv"
    path.write_text(
        "loan_no,product,ccy,principal,Overdue Amt,due_date,timezone\n"
        "L-9,loan,CNY,1000,100,2026-03-01,Asia/Shanghai\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "decide", str(path), "--as-of", AS_OF, "--format", "json", "--columns", str(mapping)
    )
    assert code == 0, err
    (decision,) = jsonl(out)
    assert decision["case_id"] == "L-9"
    assert "warning" not in err


def test_a_column_map_naming_no_case_field_is_unusable_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nloan_no = "case_id"\nccy = "curency"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_column_map(mapping, fields=case_fields())
    (problem,) = info.value.problems
    assert (problem.source, problem.line, problem.suggestion) == (str(mapping), 3, "currency")
    code, _, err = run(capsys, "decide", str(CASES), "--as-of", AS_OF, "--columns", str(mapping))
    assert code == 2
    assert f"{mapping}:3" in err
    assert "did you mean 'currency'" in err


def test_a_column_map_of_many_columns_is_read_in_time_with_each_line(tmp_path: Path) -> None:
    # Each column's line is found in one pass over the file, not one pass a column.
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        "[columns]\n" + "".join(f'c{i} = "x{i}"\n' for i in range(10_000)), encoding="utf-8"
    )
    start = time.process_time()
    assert len(load_column_map(mapping)) == 10_000
    with pytest.raises(InputError) as info:
        load_column_map(mapping, fields=case_fields())
    assert time.process_time() - start < 3.0
    problems = info.value.problems
    assert [(p.path, p.line) for p in problems[::2_500]] == [
        (f"columns.c{i}", i + 2) for i in range(0, 10_000, 2_500)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[columns]\nx = " + "[" * 5_000 + "]" * 5_000 + "\n", "nested too deeply"),
        ("[columns]\nx = 1" + "0" * 5_000 + "\n", "more digits than"),
    ],
    ids=["deep", "long-integer"],
)
def test_a_column_map_python_cannot_read_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_column_map(mapping)
    assert [p.source for p in info.value.problems] == [str(mapping)]
    code, _, err = run(capsys, "decide", str(CASES), "--as-of", AS_OF, "--columns", str(mapping))
    assert code == 2
    assert message in err


def test_many_columns_mapped_to_one_field_are_named_short(tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        "[columns]\n" + "".join(f'c{i} = "case_id"\n' for i in range(10_000)), encoding="utf-8"
    )
    start = time.process_time()
    with pytest.raises(InputError) as info:
        load_column_map(mapping, fields=case_fields())
    assert time.process_time() - start < 3.0
    (problem,) = info.value.problems
    assert problem.message == (
        "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, "
        "c18, c19 and 9,980 more all map to 'case_id'"
    )


# --------------------------------------------------------------------------- money units


def test_minor_units_use_the_currencys_iso_exponent(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        f"{HEADER}\n"
        "CN,loan,CNY,1234567,8500,2026-03-01,Asia/Shanghai\n"
        "JP,loan,JPY,500000,1200,2026-03-01,Asia/Tokyo\n"
        "KW,loan,KWD,1000500,250,2026-03-01,Asia/Kuwait\n",
        encoding="utf-8",
    )
    shape = RowShape(fields=case_fields(), money_unit="minor", exponent=currency_exponent)
    cases = {
        c.case_id: c for c in (Case.from_dict(r.data or {}) for r in read_rows([path], shape=shape))
    }
    assert cases["CN"].principal == Decimal("12345.67")
    assert cases["CN"].overdue_amount == Decimal("85.00")
    assert cases["JP"].principal == Decimal("500000")
    assert cases["KW"].principal == Decimal("1000.500")


def test_minor_units_convert_event_amounts_too(tmp_path: Path) -> None:
    data = json.loads((CASES / "q3_refuses.json").read_text(encoding="utf-8"))
    data["principal"], data["overdue_amount"] = "100000", "5000"
    data["events"] = [
        {"kind": "payment", "at": "2026-04-01T10:00:00+08:00", "amount": "2550"},
    ]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    shape = RowShape(money_unit="minor", exponent=currency_exponent)
    (row,) = read_rows([path], shape=shape)
    assert row.data is not None
    case = Case.from_dict(row.data)
    assert case.principal == Decimal("1000.00")
    assert case.events[0].amount == Decimal("25.50")


def test_a_fraction_of_a_minor_unit_is_a_bad_row_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        f"{HEADER}\n"
        "OK,loan,CNY,1000,100,2026-03-01,Asia/Shanghai\n"
        "BAD,loan,CNY,1000.5,100,2026-03-01,Asia/Shanghai\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "decide", str(path), "--as-of", AS_OF, "--format", "json", "--money-unit", "minor"
    )
    assert code == 1
    assert [d["case_id"] for d in jsonl(out)] == ["OK"]
    assert f"{path}:3" in err
    assert "principal" in err
    assert "whole number of minor units of CNY" in err


# --------------------------------------------------------------------------- long tables


def _wide_and_long(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The example case Q2-HEALTH as a CSV row plus a long table of its signals."""
    data = json.loads((CASES / "q2_health_short.json").read_text(encoding="utf-8"))
    cases = tmp_path / "cases.csv"
    cases.write_text(
        f"{HEADER},maturity_date\n"
        f"Q2-HEALTH,loan,CNY,{data['principal']},{data['overdue_amount']},"
        f"{data['due_date']},{data['timezone']},{data['maturity_date']}\n"
        "NO-SIGNALS,loan,CNY,1000,100,2026-03-01,Asia/Shanghai,\n",
        encoding="utf-8",
    )
    signals = tmp_path / "signals.csv"
    lines = ["case_id,kind,observed_at,value,note"]
    for s in data["signals"]:
        note = s.get("note", "").replace(",", " ")
        lines.append(f"Q2-HEALTH,{s['kind']},{s['observed_at']},{s.get('value', '')},{note}")
    signals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CASES / "q2_health_short.json", cases, signals


def test_long_signals_join_their_cases_and_decide_as_the_nested_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nested, cases, signals = _wide_and_long(tmp_path)
    code, out, err = run(
        capsys,
        "decide",
        str(cases),
        "--signals",
        str(signals),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert code == 0, err
    joined = {d["case_id"]: d for d in jsonl(out)}
    code, out, _ = run(capsys, "decide", str(nested), "--as-of", AS_OF, "--format", "json")
    (reference,) = jsonl(out)
    assert joined["Q2-HEALTH"]["quadrant"] == reference["quadrant"]
    assert joined["Q2-HEALTH"]["levels"] == reference["levels"]
    assert joined["Q2-HEALTH"]["allowed"] == reference["allowed"]
    assert set(joined) == {"Q2-HEALTH", "NO-SIGNALS"}


def test_long_tables_in_jsonl_and_parquet_give_the_same_cases(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    _, cases, signals_csv = _wide_and_long(tmp_path)
    csv_shape = RowShape(fields=case_fields(), signals=[signals_csv])
    expected = [r.data for r in read_rows([cases], shape=csv_shape)]
    rows = [r.data for r in read_rows([signals_csv])]
    jsonl_path = tmp_path / "signals.jsonl"
    jsonl_path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    parquet_path = tmp_path / "signals.parquet"
    columns = ("case_id", "kind", "observed_at", "value", "note")
    pq.write_table(
        pa.Table.from_pydict({k: [(r or {}).get(k) for r in rows] for k in columns}), parquet_path
    )
    for long in (jsonl_path, parquet_path):
        shape = RowShape(fields=case_fields(), signals=[long])
        got = [r.data for r in read_rows([cases], shape=shape)]
        assert [Case.from_dict(g or {}) for g in got] == [
            Case.from_dict(e or {}) for e in expected
        ], long


def test_long_events_join_and_count_as_the_cases_events(tmp_path: Path) -> None:
    _, cases, _ = _wide_and_long(tmp_path)
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {"case_id": "NO-SIGNALS", "kind": "payment", "at": "2026-03-20T10:00:00+08:00",
             "amount": "50"}
        )
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    shape = RowShape(fields=case_fields(), events=[events])
    by_id = {
        c.case_id: c
        for c in (Case.from_dict(r.data or {}) for r in read_rows([cases], shape=shape))
    }
    assert [e.amount for e in by_id["NO-SIGNALS"].events] == [Decimal("50")]
    assert by_id["Q2-HEALTH"].events == ()


def test_a_long_row_without_a_case_id_is_a_bad_row_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, cases, signals = _wide_and_long(tmp_path)
    with signals.open("a", encoding="utf-8") as fh:
        fh.write(",health_issue,2026-04-02T10:30:00+08:00,,\n")
        fh.write("GHOST,health_issue,2026-04-02T10:30:00+08:00,,\n")
    code, out, err = run(
        capsys,
        "decide",
        str(cases),
        "--signals",
        str(signals),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert code == 1
    assert len(jsonl(out)) == 2  # both cases still decided
    assert f"{signals}:5" in err
    assert "case_id" in err
    assert "no case has" in err
    assert f"{signals}:6" in err


@pytest.mark.parametrize(
    ("option", "row"),
    [
        ("--signals", '{"kind": "health_issue", "observed_at": "2026-04-02T10:30:00+08:00"}'),
        ("--events", '{"kind": "payment", "at": "2026-04-02T10:00:00+08:00", "amount": "1"}'),
    ],
)
def test_a_long_row_without_a_case_id_names_its_table_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, row: str
) -> None:
    _, cases, _ = _wide_and_long(tmp_path)
    table = tmp_path / "long.jsonl"
    table.write_text(row + "\n", encoding="utf-8")
    code, _, err = run(capsys, "decide", str(cases), option, str(table), "--as-of", AS_OF)
    assert code == 1
    name = option.removeprefix("--")
    expected = f"error: {table}:1: case_id: a row of the {name} table needs a case_id\n"
    assert expected in err


def test_a_bad_value_in_a_long_table_spoils_only_its_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, cases, signals = _wide_and_long(tmp_path)
    with signals.open("a", encoding="utf-8") as fh:
        fh.write("NO-SIGNALS,health_issue,yesterday,,\n")
    code, out, err = run(
        capsys,
        "decide",
        str(cases),
        "--signals",
        str(signals),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert code == 1
    assert [d["case_id"] for d in jsonl(out)] == ["Q2-HEALTH"]
    assert f"{cases}:3" in err
    assert "signals[0].observed_at" in err


# --------------------------------------------------------------------------- frames


def test_a_pandas_frame_is_read_like_a_case_file() -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        [
            {"case_id": "F-1", "product": "loan", "currency": "CNY", "principal": "1000",
             "overdue_amount": "100", "due_date": "2026-03-01", "timezone": "Asia/Shanghai",
             "branch": "Pudong"},
        ]
    )  # fmt: skip
    warnings: list[str] = []
    shape = RowShape(fields=case_fields())
    (row,) = read_rows([frame], shape=shape, on_warning=warnings.append)
    assert row.where == "<frame>[0]"
    assert row.data is not None
    assert Case.from_dict(row.data).case_id == "F-1"
    assert len(warnings) == 1
    assert "branch" in warnings[0]
    (result,) = Engine(backend="python").decide_many(frame.drop(columns="branch"), as_of=AS_OF)
    assert result.decision is not None
    assert result.decision.case_id == "F-1"


# --------------------------------------------------------------------------- currencies


@pytest.mark.parametrize(
    ("given", "suggested"), [("RMB", "CNY"), ("cny", "CNY"), ("NTD", "TWD"), ("USX", None)]
)
def test_a_currency_outside_iso_4217_is_refused_with_a_suggestion(
    given: str, suggested: str | None
) -> None:
    data = json.loads((CASES / "q3_refuses.json").read_text(encoding="utf-8"))
    with pytest.raises(InputError) as info:
        Case.from_dict({**data, "currency": given}, source="cases.csv:7")
    (problem,) = info.value.problems
    assert problem.path == "currency"
    assert problem.source == "cases.csv:7"
    assert "ISO 4217" in problem.message
    assert problem.suggestion == suggested


def test_rmb_in_a_csv_names_file_line_field_and_cny(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        f"{HEADER}\nGOOD,loan,CNY,1000,100,2026-03-01,Asia/Shanghai\n"
        "BAD,loan,RMB,1000,100,2026-03-01,Asia/Shanghai\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "decide", str(path), "--as-of", AS_OF, "--format", "json")
    assert code == 1
    assert [d["case_id"] for d in jsonl(out)] == ["GOOD"]
    assert f"{path}:3: currency:" in err
    assert "did you mean 'CNY'" in err


def test_exponents_come_from_the_iso_table() -> None:
    assert [currency_exponent(c) for c in ("CNY", "JPY", "KWD", "CLF", "XAU")] == [2, 0, 3, 4, 2]
