"""Small builders shared by the core tests."""

from __future__ import annotations

from typing import Any

from collectrules import Case, Engine

AS_OF = "2026-04-03T12:00:00+08:00"
SEEN = "2026-04-02T10:30:00+08:00"

_ENGINES: dict[tuple[str, str], Engine] = {}


def shared_engine(policy: str = "default", backend: str = "python") -> Engine:
    """One engine per policy and back end for the test process (compiling a policy
    costs more than most tests)."""
    key = (policy, backend)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(policy, backend=backend)  # type: ignore[arg-type]
    return _ENGINES[key]


#: The fields every case needs, for a credit card in Shanghai, and nothing else.
CARD_CASE: dict[str, Any] = {
    "case_id": "A",
    "product": "credit_card",
    "currency": "CNY",
    "principal": "1000",
    "overdue_amount": "100",
    "due_date": "2026-05-01",
    "timezone": "Asia/Shanghai",
}


def case_dict(*signals: tuple[str, float | None], **overrides: Any) -> dict[str, Any]:
    """A loan due 2026-03-31 in Shanghai with the given (kind, value) signals."""
    data: dict[str, Any] = {
        "case_id": "T-1",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-03-31",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": kind, "observed_at": SEEN, **({"value": value} if value is not None else {})}
            for kind, value in signals
        ],
    }
    data.update(overrides)
    return data


def make_case(*signals: tuple[str, float | None], **overrides: Any) -> Case:
    return Case.from_dict(case_dict(*signals, **overrides))


def columnar_with_events(
    rows: list[dict[str, Any]], policy: str, as_of: str, engine: Engine
) -> dict[int, dict[str, Any]]:
    """The columnar engine's compact rows for ``rows`` (cases with their events, the
    events given as a long table), checked against ``engine``'s per case: each row with
    events is decided by the columns (its sections run on its own history) or sent per
    case for an event the columns do not read, no other row is sent per case, none is
    refused, and every compact row is the per-case one. Returns the rows by index."""
    import pytest

    pl = pytest.importorskip("polars")
    frame = pytest.importorskip("collectrules.frame")
    from collectrules.batch.compact import compact_row
    from test_frame import columnar  # the frame tests' comparison, as they make it

    flat = [{k: v for k, v in r.items() if k != "events"} for r in rows]
    evs = [{"case_id": r["case_id"], **e} for r in rows for e in r.get("events", [])]
    result = frame.decide(pl.DataFrame(flat), None, pl.DataFrame(evs), policy=policy, as_of=as_of)
    with_events = sum(1 for r in rows if r.get("events"))
    sent = result.summary.fallback.get("has events", 0)
    assert set(result.summary.fallback) <= {"has events"}
    assert sent <= with_events
    assert result.summary.columnar == len(rows) - sent
    decided, errors = columnar(result)
    assert errors == {}
    expected = {
        r.index: compact_row(r.decision)
        for r in engine.decide_many(rows, as_of=as_of)
        if r.decision is not None
    }
    assert decided == expected
    return decided


#: A custom policy with a two-class CN-5LVL ladder, ``keys`` set on the pack (lines 11
#: and 12) and one months parameter, for the errors of a ladder's hold keys.
LADDER_HOLD_PACK = """\
schema_version = "1"
extends = "default"
id = "mine"
version = "1.0.0"
title = "mine"

[regulation.CN-5LVL]
kind = "dpd_ladder"
fact = "cn5_class"
products = ["loan"]
{keys}

[[regulation.CN-5LVL.classes]]
value = "pass"
rule = "M-PASS"

[[regulation.CN-5LVL.classes]]
value = "substandard"
rule = "M-SUB"
over_dpd = 90

[parameters.{parameter}]
value = 6
"""


def assert_ladder_key_error(
    tmp_path: Any, keys: str, parameter: str, path: str, expected: str
) -> None:
    """Loading :data:`LADDER_HOLD_PACK` with ``keys`` fails with one problem, at
    ``regulation.CN-5LVL.<path>``, on the line that gives it, saying ``expected``."""
    import pytest

    from collectrules import PolicyError, load_policy

    file = tmp_path / "mine.toml"
    file.write_text(LADDER_HOLD_PACK.format(keys=keys, parameter=parameter), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    (problem,) = info.value.problems
    assert problem.path == f"regulation.CN-5LVL.{path}"
    assert problem.line is not None
    assert 11 <= problem.line <= 12
    assert f"mine.toml:{problem.line}: regulation.CN-5LVL.{path}: " in str(problem)
    assert expected in str(problem), str(problem)
