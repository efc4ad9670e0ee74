"""The Spark engine's per-case step, as an executor runs it, on Arrow batches in process."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")

from collectrules.batch.compact import compact_row  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import OutOfMemoryError  # noqa: E402
from collectrules.model.time import require_aware  # noqa: E402
from collectrules.policy import Policy, load_policy  # noqa: E402
from collectrules.spark import _routed  # noqa: E402
from collectrules.spark._routed import ERROR, KIND, RoutedRows, routed_schema  # noqa: E402
from helpers import case_dict  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"

_ITEM = pa.struct([("kind", pa.string()), ("observed_at", pa.string()), ("value", pa.string())])
_EVENT = pa.struct([("kind", pa.string()), ("at", pa.string()), ("amount", pa.string())])


def _nested(item: Any) -> Any:
    return pa.list_(pa.struct([("seq", pa.int64()), ("item", item)]))


_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("product", pa.string()),
        ("currency", pa.string()),
        ("principal", pa.string()),
        ("overdue_amount", pa.string()),
        ("due_date", pa.string()),
        ("timezone", pa.string()),
        ("maturity_date", pa.string()),
        ("__signals", _nested(_ITEM)),
        ("__events", _nested(_EVENT)),
    ]
)

_CASE = {
    **{k: v for k, v in case_dict().items() if k not in ("case_id", "signals")},
    "maturity_date": None,
}
_SIGNALS = [
    {"kind": "promise_broken", "observed_at": "2026-06-10T10:00:00+08:00", "value": None},
    {"kind": "refused_to_pay", "observed_at": "2026-06-12T10:00:00+08:00", "value": None},
    {"kind": "promise_broken", "observed_at": "2026-06-12T10:00:00+08:00", "value": None},
]
_EVENTS = [
    {"kind": "payment", "at": "2026-06-20T10:00:00+08:00", "amount": "300"},
    {"kind": "visit", "at": "2026-06-21T10:00:00+08:00", "amount": None},
]


def _batch() -> Any:
    """Four routed rows: with signals and events (nested out of their order), with
    neither, a bad row, and a row without an id."""
    shuffled = [{"seq": seq, "item": _SIGNALS[seq]} for seq in (2, 0, 1)]
    events = [{"seq": 7, "item": _EVENTS[1]}, {"seq": 3, "item": _EVENTS[0]}]
    rows = [
        {**_CASE, "case_id": "R-1", "__signals": shuffled, "__events": events},
        {**_CASE, "case_id": "R-2", "__signals": None, "__events": None},
        {**_CASE, "case_id": "R-BAD", "overdue_amount": "-1", "__signals": None, "__events": None},
        {**_CASE, "case_id": None, "__signals": None, "__events": None},
    ]
    return pa.RecordBatch.from_pylist(rows, schema=_SCHEMA)


def _expected(policy: Policy) -> list[dict[str, Any]]:
    """What the per-case engine gives the same rows as plain dicts (nulls left out)."""
    case = {k: v for k, v in _CASE.items() if v is not None}
    signals = [{k: v for k, v in s.items() if v is not None} for s in _SIGNALS]
    events = [{k: v for k, v in e.items() if v is not None} for e in _EVENTS]
    inputs = [
        {**case, "case_id": "R-1", "signals": signals, "events": events},
        {**case, "case_id": "R-2", "signals": []},
        {**case, "case_id": "R-BAD", "overdue_amount": "-1", "signals": []},
        {**case, "signals": []},
    ]
    out = []
    for result in Engine(policy, backend="python").decide_many(inputs, as_of=AS_OF):
        if result.decision is None:
            assert result.error is not None
            out.append((result.case_id, str(result.error), type(result.error).__name__))
        else:
            row = compact_row(result.decision)
            out.append(row)
    return out


def _rows(decide: RoutedRows, batches: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for batch in decide(iter(batches)):
        assert batch.schema == routed_schema()
        out.extend(batch.to_pylist())
    return out


def _shape(row: dict[str, Any]) -> Any:
    """A row of the output as :func:`_expected` gives it."""
    if row[ERROR] is not None:
        assert all(row[k] is None for k in row if k not in ("case_id", ERROR, KIND))
        return (row["case_id"], row[ERROR], row[KIND])
    return {k: v for k, v in row.items() if k not in (ERROR, KIND)}


def _step(policy: Policy) -> RoutedRows:
    return RoutedRows(policy, require_aware(AS_OF), "__signals", "__events")


def test_each_row_gets_the_per_case_engines_decision_or_error() -> None:
    policy = load_policy("cn_bank_loan")
    out = _rows(_step(policy), [_batch(), _batch().slice(0, 0)])
    assert [_shape(r) for r in out] == _expected(policy)
    assert out[2][KIND] == "InputError"
    assert out[3]["case_id"] is None


def test_the_step_pickles_with_a_policy_loaded_from_a_file(tmp_path: Path) -> None:
    source = Path(_routed.__file__).parent.parent / "policies" / "cn_bank_loan.toml"
    path = tmp_path / "bank.toml"
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    policy = load_policy(path)
    decide = pickle.loads(pickle.dumps(_step(policy)))
    assert decide.policy.content_hash == policy.content_hash
    assert [_shape(r) for r in _rows(decide, [_batch()])] == _expected(policy)


def test_a_row_whose_decision_fails_inside_is_its_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = load_policy("cn_bank_loan")

    def hostile(decision: Any, *args: Any) -> dict[str, Any]:
        if decision.case_id == "R-2":
            raise ZeroDivisionError("boom")
        return compact_row(decision, *args)

    monkeypatch.setattr(_routed, "compact_row", hostile)
    out = _rows(_step(policy), [_batch()])
    expected = _expected(policy)
    expected[1] = ("R-2", "internal error: ZeroDivisionError: boom", "EngineError")
    assert [_shape(r) for r in out] == expected


def test_an_engine_that_fails_midway_fails_that_row_not_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = load_policy("cn_bank_loan")
    real = Engine.decide_many
    calls: list[int] = []

    def failing_second(self: Engine, rows: Any, *, as_of: Any, repeats: Any) -> Iterator[Any]:
        calls.append(len(rows))
        results = real(self, rows, as_of=as_of, repeats=repeats)
        yield next(results)
        if len(calls) == 1:
            raise KeyError("gone")
        yield from results

    monkeypatch.setattr(Engine, "decide_many", failing_second)
    out = _rows(_step(policy), [_batch()])
    # The rows after the failing one go to a fresh run of the engine.
    assert calls == [4, 2]
    monkeypatch.undo()
    expected = _expected(policy)
    expected[1] = ("R-2", "internal error: KeyError: 'gone'", "EngineError")
    assert [_shape(r) for r in out] == expected


def test_a_row_whose_value_does_not_convert_is_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = load_policy("cn_bank_loan")

    def failing(value: Any) -> Any:
        if isinstance(value, dict) and value.get("kind") == "visit":
            raise ValueError("not plain")
        return _plain(value)

    _plain = _routed.plain
    monkeypatch.setattr(_routed, "plain", failing)
    out = _rows(_step(policy), [_batch()])
    assert _shape(out[0]) == ("R-1", "internal error: ValueError: not plain", "EngineError")
    assert [_shape(r) for r in out[1:]] == _expected(policy)[1:]


def test_a_worker_decides_each_task_with_the_policy_an_earlier_task_warmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each task receives the step pickled, so a new policy object; the worker decides
    with the first equal one it met (its caches warm), keeps at most a few policies, and
    a task's rows are decided as before."""
    monkeypatch.setattr(_routed, "_WARM", {})
    engines: list[Any] = []
    original = _routed.Engine

    def spy(policy: Policy, **kwargs: Any) -> Any:
        engines.append(policy)
        return original(policy, **kwargs)

    monkeypatch.setattr(_routed, "Engine", spy)
    policy = load_policy("cn_bank_loan")
    first, second = (pickle.loads(pickle.dumps(_step(policy))) for _ in range(2))
    assert first.policy is not second.policy
    for step in (first, second):
        assert [_shape(r) for r in _rows(step, [_batch()])] == _expected(policy)
    assert engines[0] is engines[1] is first.policy
    for name in ("default", "ifrs9", "uk", "us_regf", "cn_bank_loan"):
        _routed._warm(load_policy(name))
    assert len(_routed._WARM) == _routed._WARM_POLICIES
    assert list(_routed._WARM)[-1] == policy.content_hash


def _no_memory(*args: Any, **kwargs: Any) -> Any:
    raise MemoryError("no room")


@pytest.mark.parametrize("where", ["engine", "compact", "plain"])
def test_a_memory_error_on_a_row_fails_the_task_not_the_row(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MemoryError is the worker's, not the row's: it was written as the row's
    "internal error: OutOfMemoryError" (or MemoryError), a bad row, and the next rows
    were decided. It is raised as an OutOfMemoryError, its cause the MemoryError."""
    if where == "engine":
        real = Engine.decide

        def decide(self: Engine, case: Any, *, as_of: Any) -> Any:
            if case.case_id == "R-2":
                raise MemoryError("no room")
            return real(self, case, as_of=as_of)

        monkeypatch.setattr(Engine, "decide", decide)
    elif where == "compact":
        monkeypatch.setattr(_routed, "compact_row", _no_memory)
    else:
        monkeypatch.setattr(_routed, "plain", _no_memory)
    with pytest.raises(OutOfMemoryError, match="out of memory") as caught:
        _rows(_step(load_policy("cn_bank_loan")), [_batch()])
    assert type(caught.value.__cause__) is MemoryError
    assert str(caught.value.__cause__) == "no room"


class _HungryBatch:
    """A batch whose rows take more memory than the worker has."""

    schema = _SCHEMA
    num_rows = 1

    def to_pylist(self, **kwargs: Any) -> Any:
        raise MemoryError("no room")

    def slice(self, *args: Any) -> _HungryBatch:
        return self

    def column(self, name: str) -> Any:
        return pa.array(["R-1"])


def test_a_memory_error_reading_a_batch_fails_the_task_not_its_rows() -> None:
    """Reading a batch's rows ran out of memory: each row became its own bad row."""
    with pytest.raises(OutOfMemoryError, match="out of memory") as caught:
        _routed._rows(_HungryBatch())  # type: ignore[arg-type]  # a stand-in for a batch
    assert type(caught.value.__cause__) is MemoryError
