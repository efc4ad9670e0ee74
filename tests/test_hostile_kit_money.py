"""Hostile input to the compact table's rebuild, the testing kit's expectations and
the golden files' updates."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pendulum
import pytest

from collectrules.authoring.golden import update_file
from collectrules.batch.compact import compact_row, rebuild_decision
from collectrules.engine import Engine
from collectrules.errors import InputError
from collectrules.model.case import Case
from collectrules.policy import load_policy
from collectrules.testing import Expectation, assert_decision
from test_parquet import case_dict

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")


def make_case() -> Case:
    return Case.from_dict(case_dict("P-1"))


#: CPU seconds a refusal of a long list of names may take (the time bound of
#: tests/test_fuzz.py); it took minutes when each name was compared with every other.
TIME_BOUND_SECONDS = 2.0


@pytest.fixture(scope="module", params=["python", "durable"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return Engine(load_policy("default"), backend=request.param)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        # NumPy values, as a row of pandas may hold them, where a text is written
        ("policy_hash", np.array(["a", "b"])),
        ("quadrant", np.array(["Q1", "Q4"])),
        ("allowed", np.float64("nan")),
        ("blocked", np.int64(3)),
        ("allowed", [np.array([1, 2]), "remind"]),
        ("classes", [("pack", np.array(["a", "b"]))]),
    ],
)
def test_a_row_holding_numpy_values_is_an_input_error(
    engine: Engine, column: str, value: Any
) -> None:
    case = make_case()
    row = compact_row(engine.decide(case, as_of=AS_OF))
    with pytest.raises(InputError) as info:
        rebuild_decision({**row, column: value}, engine, case)
    assert [p.path for p in info.value.problems] == [column]


def test_a_row_whose_as_of_is_a_datetime_rebuilds_its_decision(engine: Engine) -> None:
    """``as_of`` may be an aware datetime (as a reader of timestamps gives it): the row
    agrees with the decision made at that instant."""
    case = make_case()
    decision = engine.decide(case, as_of=AS_OF)
    row = {**compact_row(decision), "as_of": AS_OF}
    assert rebuild_decision(row, engine, case).to_json() == decision.to_json()
    later = {**row, "quadrant": "Q1"}
    with pytest.raises(InputError, match="quadrant: the rebuilt decision disagrees"):
        rebuild_decision(later, engine, case)


@pytest.mark.parametrize("field", ["allows", "blocks"])
def test_an_expectation_of_many_unknown_remedies_is_refused_in_bounded_time(field: str) -> None:
    names = [f"own_remedy_{i}" for i in range(50_000)]
    started = time.process_time()
    with pytest.raises(InputError) as info:
        assert_decision("default", case_dict("X"), as_of=AS_OF, **{field: names})
    elapsed = time.process_time() - started
    assert len(info.value.problems) == len(names)
    assert info.value.problems[0].path == field
    assert elapsed < TIME_BOUND_SECONDS, f"{elapsed:.2f} s"


def test_an_expectation_allowing_and_blocking_many_names_is_made_in_bounded_time() -> None:
    started = time.process_time()
    expectation = Expectation(
        allows=[f"a_{i}" for i in range(50_000)], blocks=[f"b_{i}" for i in range(50_000)]
    )
    elapsed = time.process_time() - started
    assert len(expectation.allows) == len(expectation.blocks) == 50_000
    assert elapsed < TIME_BOUND_SECONDS, f"{elapsed:.2f} s"
    with pytest.raises(InputError, match="expected both allowed and blocked: b_7"):
        Expectation(allows=["a_1", "b_7"], blocks=[f"b_{i}" for i in range(50_000)])


def test_an_expectation_keeps_each_remedy_once_in_order_with_suggestions() -> None:
    expectation = Expectation(allows=["visit", "remind", "visit", "remind"])
    assert expectation.allows == ("visit", "remind")
    with pytest.raises(InputError) as info:
        Expectation(allows=["Remind", *[f"X{i}" for i in range(30)], "Visti"])
    problems = info.value.problems
    assert len(problems) == 32
    assert problems[0].suggestion == "remind"
    with pytest.raises(InputError) as info:
        assert_decision("default", case_dict("X"), as_of=AS_OF, allows=["remnid"], blocks="visti")
    assert [p.suggestion for p in info.value.problems] == ["remind", "visit"]


_GOLDEN = """policy = "default"
as_of = "2026-06-30T12:00:00+08:00"

[[cases]]
id = "a"
quadrant = "Q4"
allows = ["remind"]
[cases.input]
case_id = "a"
"""


@pytest.mark.parametrize(
    ("update", "where"),
    [
        ({"quadrant": "\ud800"}, "updates['a'].quadrant"),
        ({"quadrant": "Q1", "allows": ["remind", "x\udcff"]}, "updates['a'].allows[1]"),
        ({"blocks": ["\udfff"]}, "updates['a'].blocks[0]"),
    ],
)
def test_an_update_no_file_can_hold_is_refused_and_the_file_kept(
    tmp_path: Path, update: dict[str, Any], where: str
) -> None:
    """A lone surrogate was written as the escape ``"\\ud800"``, which TOML forbids:
    the golden file could no longer be read, by TOML or by ``update_file`` itself."""
    path = tmp_path / "golden_a.toml"
    path.write_text(_GOLDEN, encoding="utf-8")
    with pytest.raises(InputError, match="lone surrogate") as info:
        update_file(path, {"a": update})
    assert [p.path for p in info.value.problems] == [where]
    assert path.read_text(encoding="utf-8") == _GOLDEN
    assert update_file(path, {"a": {"quadrant": "Q1", "allows": ["visit"]}}) == ["a"]
    assert tomllib.loads(path.read_text(encoding="utf-8"))["cases"][0]["quadrant"] == "Q1"
