"""The examples run: each example case gets the quadrant its name promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectrules import Case, Engine, Quadrant

CASES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.json"))
AS_OF = "2026-04-03T12:00:00+08:00"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_case(path: Path, durable_engine: Engine) -> None:
    case = Case.from_dict(json.loads(path.read_text(encoding="utf-8")))
    decision = durable_engine.decide(case, as_of=AS_OF)
    assert decision.quadrant is Quadrant(path.stem[:2].upper())


def test_one_example_per_quadrant() -> None:
    assert {p.stem[:2] for p in CASES} == {"q1", "q2", "q3", "q4"}
