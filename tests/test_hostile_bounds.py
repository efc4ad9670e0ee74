"""Hostile inputs that must be refused in bounded time, naming where they are."""

from __future__ import annotations

import datetime as dt
import functools
import time
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest

from collectrules import Case, Decision
from collectrules.engine import Engine
from collectrules.errors import InputError, PolicyError, UnwritableError
from collectrules.model.case import _iso4217
from collectrules.model.decision import Firing, LevelResult, PolicyRef
from collectrules.money import build_schedule
from collectrules.money.plans import quantum
from collectrules.policy import load_policy
from helpers import CARD_CASE
from test_generated import make_case

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")


@functools.cache
def _decision() -> Decision:
    return Engine("default", backend="python").decide(make_case(), as_of=AS_OF)


@attrs.frozen
class _Pair:
    """Two fields holding the same object: a chain of them converts as a tree."""

    left: Any
    right: Any


def _chain(depth: int) -> Any:
    """A chain of ``depth`` shared pairs: two to the ``depth`` leaves once converted."""
    node: Any = "leaf"
    for _ in range(depth):
        node = _Pair(node, node)
    return node


def _lists(depth: int) -> Any:
    """A chain of ``depth`` shared lists: two to the ``depth`` leaves once written."""
    node: Any = "leaf"
    for _ in range(depth):
        node = [node, node]
    return node


def _hand_built(where: str) -> tuple[Decision, dict[str, Any] | None, str]:
    """A decision holding a depth-30 graph at ``where``, the extra keys to write it
    with, and the path the error must name."""
    decision = _decision()
    if where == "trace":
        built = attrs.evolve(decision, trace=(Firing(_chain(30), "layer", "x", "", ()),))
        return built, None, "trace[0].rule_id"
    if where == "level":
        level = LevelResult("willingness", "high", (), (), in_force={"a": _chain(30)})
        levels = {**decision.levels, "willingness": level}
        return attrs.evolve(decision, levels=levels), None, "levels.willingness.in_force"
    if where == "policy":
        policy = PolicyRef(_chain(30), "x", "y")
        return attrs.evolve(decision, policy=policy), None, "policy.id"
    if where == "facts":
        return attrs.evolve(decision, facts={**decision.facts, "x": _lists(30)}), None, "facts.x"
    if where == "amounts":
        return attrs.evolve(decision, amounts={"x": _lists(30)}), None, "amounts.x"
    return decision, {"input": _lists(30)}, "input"


@pytest.mark.parametrize(
    ("where", "write"),
    [
        *(
            (where, write)
            for where in ("trace", "level", "policy", "facts", "amounts")
            for write in ("to_json", "to_json_bytes", "indented", "to_dict")
        ),
        ("extra", "to_json_bytes"),  # only to_json_bytes takes extra keys
    ],
)
def test_a_decision_holding_a_graph_where_text_belongs_is_refused_in_bounded_time(
    where: str, write: str
) -> None:
    """A hand-built decision whose field holds a graph of shared objects was written
    out whole, one copy per path: 2**30 leaves. It is an UnwritableError naming the
    field and what was expected, within a couple of seconds."""
    decision, extra, path = _hand_built(where)
    calls = {
        "to_json": decision.to_json,
        "to_json_bytes": lambda: decision.to_json_bytes(extra=extra),
        "indented": lambda: decision.to_json(indent=2),
        "to_dict": decision.to_dict,
    }
    start = time.process_time()
    with pytest.raises(UnwritableError) as caught:
        calls[write]()
    assert time.process_time() - start < 2.0
    (problem,) = caught.value.problems
    assert problem.path == path
    assert "holds more than 100,000 values" in problem.message
    assert "expected" in problem.message


def test_a_decision_holding_plain_data_of_its_size_is_written_as_before() -> None:
    """Just under the bound, a hand-built decision is written, and as json.dumps
    writes it."""
    decision = attrs.evolve(_decision(), facts={"x": _lists(15)}, amounts={"y": [1] * 1000})
    assert decision.to_dict()["facts"]["x"] == _lists(15)
    assert decision.to_json_bytes() == decision.to_json().encode("utf-8")


# -- a table without an id in a policy that extends another


_CHILD = """\
id = "child"
version = "1"
extends = "{base}"

[[layers]]
id = "willingness"

[[layers.rules]]
id = "W-EXTRA"
when = "dpd > 5"
value = "unwilling"
reason = "x"

[[layers.rules]]
when = "dpd > 6"
value = "unwilling"
reason = "a rule without an id"

[[remedies.rules]]
when = "dpd > 7"
effect = "allow"
remedy = "remind"
reason = "a remedy rule without an id"

[[layers]]
values = ["a"]
"""


def _id_problems(path: Any) -> dict[str, tuple[str | None, int | None]]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return {
        p.path: (p.source, p.line)
        for p in caught.value.problems
        if p.path.endswith(".id") and "required" in p.message
    }


def test_a_table_without_an_id_in_an_extending_policy_is_named_at_its_own_line(
    tmp_path: Any,
) -> None:
    """A [[layers]], [[layers.rules]] or [[remedies.rules]] table without an id, in a
    policy that extends another, was reported at the file's first ``id =`` line: the
    merged arrays hold no place in any one file. Each is named at its own header."""
    child = tmp_path / "child.toml"
    child.write_text(_CHILD.format(base="default"), encoding="utf-8")
    found = _id_problems(child)
    source = str(child)
    rules = [path for path in found if path.startswith("layers[willingness].rules[")]
    remedies = [path for path in found if path.startswith("remedies.rules[")]
    layers = [path for path in found if path.startswith("layers[") and ".rules" not in path]
    assert len(rules) == len(remedies) == len(layers) == 1
    assert found[rules[0]] == (source, 14)
    assert found[remedies[0]] == (source, 19)
    assert found[layers[0]] == (source, 25)


def test_a_table_without_an_id_in_a_base_policy_names_the_base_file(tmp_path: Any) -> None:
    """The same tables in a base policy of the chain name the base's file and line,
    not the extending file's."""
    base = tmp_path / "base.toml"
    base.write_text(_CHILD.format(base="default").replace('"child"', '"base"'), "utf-8")
    child = tmp_path / "child.toml"
    child.write_text('id = "child"\nversion = "1"\nextends = "base.toml"\n', "utf-8")
    found = _id_problems(child)
    assert sorted(found.values()) == [(str(base), 14), (str(base), 19), (str(base), 25)]


# -- a column of 256-bit decimals through the columns and row by row


_FRAME_AS_OF = "2026-06-30T12:00:00+08:00"


def test_a_column_of_256_bit_decimals_is_decided_as_row_by_row() -> None:
    """frame.decide refused a whole table with a decimal256 column, where decide_many
    reads each decimal as its exact text and decides the table row by row: good rows
    decided, bad rows reported. Both now give the same decisions and the same bad rows."""
    pa = pytest.importorskip("pyarrow")
    frame = pytest.importorskip("collectrules.frame")  # needs polars
    from test_frame import columnar, per_case  # the frame tests' comparison, as they make it

    values = [
        Decimal("1000.50"),  # a plain amount
        None,  # missing: a required field
        Decimal("12345678901234567890.12"),  # too large an amount
        Decimal("0.000000000000000000000000000001"),  # too small, scale 30
        Decimal("250.1234"),
        Decimal("1" * 45),  # past 38 digits: what Polars' decimals hold
        Decimal("99.99999"),  # five decimals: the columns read four
        Decimal("500"),  # with too large an overdue amount
    ]
    rows = len(values)
    columns: dict[str, Any] = {k: [v] * rows for k, v in CARD_CASE.items()}
    columns["case_id"] = [f"C{i}" for i in range(rows)]
    columns["principal"] = pa.array(values, pa.decimal256(76, 30))
    columns["overdue_amount"] = pa.array(
        [Decimal("100.5")] * (rows - 1) + [Decimal("1E+40")], pa.decimal256(60, 2)
    )
    table = pa.table(columns)
    expected = per_case("default", table, _FRAME_AS_OF)
    assert sorted(expected[0]) == [0, 4, 6]  # the table itself is decided row by row
    assert columnar(frame.decide(table, as_of=_FRAME_AS_OF)) == expected
    (batch,) = table.combine_chunks().to_batches()
    assert columnar(frame.decide(batch, as_of=_FRAME_AS_OF)) == expected


# -- currencies that ISO 4217 gives no minor unit

#: ISO 4217 writes N.A. for the minor unit of these: precious metals, units of
#: account, bond-market units, the code for testing and the code for no currency.
_NO_MINOR_UNIT = [
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
]  # fmt: skip


def test_the_codes_iso_gives_no_minor_unit_are_those_refused() -> None:
    assert sorted(code for code, exponent in _iso4217().items() if exponent is None) == (
        _NO_MINOR_UNIT
    )


@pytest.mark.parametrize("code", _NO_MINOR_UNIT)
def test_a_currency_without_a_minor_unit_is_refused_wherever_a_currency_is_read(
    code: str,
) -> None:
    """``quantum("XAU")`` was 0.01, and a case in gold, SDRs or ``XXX`` (no currency)
    was decided with its payments rounded to cents. Each is an InputError naming the
    currency, alike for a case, a plan, the KPIs' cases, decide_many and the columns."""
    calls = {
        "quantum": lambda: quantum(code),
        "case": lambda: Case.from_dict({**CARD_CASE, "currency": code}),
        "schedule": lambda: build_schedule(
            Decimal(1000), Decimal("0.05"), 12, currency=code, start=dt.date(2026, 1, 1)
        ),
    }
    for name, call in calls.items():
        with pytest.raises(InputError) as caught:
            call()
        (problem,) = caught.value.problems
        assert problem.path == ("terms.currency" if name == "schedule" else "currency")
        assert f"got '{code}', for which ISO 4217 gives none" in problem.message, name
        assert problem.suggestion is None
    rows = [CARD_CASE, {**CARD_CASE, "case_id": "B", "currency": code}]
    results = list(Engine("default", backend="python").decide_many(rows, as_of=_FRAME_AS_OF))
    assert [r.error is None for r in results] == [True, False]
    pa = pytest.importorskip("pyarrow")
    frame = pytest.importorskip("collectrules.frame")  # needs polars
    columns = frame.decide(pa.Table.from_pylist(rows), as_of=_FRAME_AS_OF)
    assert [(e.row, str(e.error)) for e in columns.errors] == [(1, str(results[1].error))]
