"""The per-case fallback of the Spark engine, as it runs on the executors.

:func:`collectrules.spark.decide` gives the rows outside the safe subset to
``DataFrame.mapInArrow`` with a :class:`RoutedRows`: one row per routed case, its
signals and events nested as lists of ``(seq, item)`` structs, ``seq`` their place in
their table. Each executor's Python worker receives the callable pickled (the policy
with it), builds the per-case engine once per partition, turns each Arrow batch into
the dicts the per-case engine reads (nulls left out, values made plain as
:func:`collectrules.io.arrow.plain` does), and yields, in one Arrow schema
(:func:`routed_schema`), a compact decision or an error for every row: a row's error
has ``__error`` and ``__kind`` set and the compact columns null but ``case_id``. A
``MemoryError`` met on a row is the worker's, not the row's: it is raised as an
:class:`~collectrules.errors.OutOfMemoryError`, as ``Engine.decide_many`` raises it, and
fails the task, never a bad row.

Nothing here imports pyspark: the module runs in the executors' Python workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
import pendulum
import pyarrow as pa

from collectrules.batch.compact import FIELDS, compact_row, table_schema
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, EngineError, OutOfMemoryError
from collectrules.io.arrow import plain
from collectrules.policy import Policy

__all__ = ["ERROR", "KIND", "RoutedRows", "routed_schema"]

#: The columns of a routed row's error: its message and the error's class name.
ERROR = "__error"
KIND = "__kind"


def routed_schema() -> pa.Schema:
    """The Arrow schema :class:`RoutedRows` yields: the compact columns, then
    :data:`ERROR` and :data:`KIND`."""
    compact = table_schema()
    return compact.append(pa.field(ERROR, pa.string())).append(pa.field(KIND, pa.string()))


#: The policies this Python worker has decided with, by content hash (at most
#: :data:`_WARM_POLICIES`, the oldest dropped first). Each task receives its policy
#: pickled, a new object whose caches (derivation, sections, deadlines) start empty;
#: Spark reuses a worker for task after task, so a task deciding with the policy an
#: earlier one warmed starts with those caches (about 12 % of the per-case time on a
#: first 2,500 rows with events).
_WARM: dict[str, Policy] = {}
_WARM_POLICIES = 4


def _warm(policy: Policy) -> Policy:
    """The policy equal to ``policy`` this worker has already decided with, if any."""
    key = policy.content_hash
    known = _WARM.get(key)
    if known is not None:
        return known
    while len(_WARM) >= _WARM_POLICIES:
        del _WARM[next(iter(_WARM))]
    _WARM[key] = policy
    return policy


def _internal(exc: Exception) -> EngineError:
    """A failure that is no :class:`CollectRulesError`, as ``Engine.decide_many`` words it."""
    return EngineError(f"internal error: {type(exc).__name__}: {str(exc)[:300]}")


def _items(nested: Iterable[Mapping[str, Any]]) -> list[Any]:
    """A case's signals (events) in their table's order, each a plain dict."""
    ordered = sorted(nested, key=lambda pair: pair["seq"])
    return [plain(pair["item"]) for pair in ordered]


@attrs.frozen
class RoutedRows:
    """Decides the routed rows of each Arrow batch with the per-case engine.

    ``signals`` and ``events`` name the batch's nested columns (None: no such table).
    A case's signals are its ``signals`` (none when it has none), its events are set
    only when it has some; any other column is the case's own, as the per-case engine
    reads a row.
    """

    policy: Policy
    as_of: pendulum.DateTime
    signals: str | None
    events: str | None

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        engine = Engine(_warm(self.policy), backend="python")
        schema = routed_schema()
        for batch in batches:
            yield pa.RecordBatch.from_pylist(self.decide(engine, batch), schema=schema)

    def decide(self, engine: Engine, batch: pa.RecordBatch) -> list[dict[str, Any]]:
        """One output row per row of ``batch``, in order: its compact decision or error."""
        read = [self._data(row) for row in _rows(batch)]
        datas = [data for data in read if not isinstance(data, _Failed)]
        results = engine.decide_many(datas, as_of=self.as_of, repeats="decide")
        done = 0  # the rows of ``datas`` given to the engine so far
        out: list[dict[str, Any]] = []
        for data in read:
            if isinstance(data, _Failed):
                out.append(_error_row(data.case_id, data.error))
                continue
            raw_id = data.get("case_id")
            case_id = raw_id if isinstance(raw_id, str) else None
            done += 1
            try:
                result = next(results)
            except OutOfMemoryError:  # decide_many's word for the process's MemoryError
                raise
            except MemoryError as exc:  # the process's, not the row's: the task fails
                raise OutOfMemoryError.of(exc) from exc
            except Exception as exc:  # decide_many keeps each row's failure its own; all the same
                out.append(_error_row(case_id, _internal(exc)))
                results = engine.decide_many(datas[done:], as_of=self.as_of, repeats="decide")
                continue
            if result.decision is None:
                error: CollectRulesError | None = result.error
                assert error is not None
                out.append(_error_row(result.case_id or case_id, error))
                continue
            try:
                compact = compact_row(result.decision)
                for name in ("classes", "buckets"):
                    compact[name] = list(dict(compact[name]).items())
            except MemoryError as exc:  # the process's, not the row's: the task fails
                raise OutOfMemoryError.of(exc) from exc
            except Exception as exc:  # one row's failure is that row's error
                out.append(_error_row(case_id, _internal(exc)))
                continue
            out.append({**compact, ERROR: None, KIND: None})
        return out

    def _data(self, row: dict[str, Any] | _Failed) -> dict[str, Any] | _Failed:
        """The dict the per-case engine reads for ``row``, or the failure making it."""
        if isinstance(row, _Failed):
            return row
        raw_id = row.get("case_id")
        try:
            signals = row.pop(self.signals, None) if self.signals is not None else None
            events = row.pop(self.events, None) if self.events is not None else None
            data = {k: plain(v) for k, v in row.items() if v is not None}
            data["signals"] = _items(signals) if signals is not None else []
            if events is not None:
                data["events"] = _items(events)
        except MemoryError as exc:  # the process's, not the row's: the task fails
            raise OutOfMemoryError.of(exc) from exc
        except Exception as exc:  # a value that does not convert is its row's error
            return _Failed(raw_id if isinstance(raw_id, str) else None, _internal(exc))
        return data


@attrs.frozen
class _Failed:
    """A row whose data could not be read, and why."""

    case_id: str | None
    error: CollectRulesError


def _rows(batch: pa.RecordBatch) -> list[dict[str, Any] | _Failed]:
    """The rows of ``batch`` as Python dicts (maps as dicts, as a Spark ``Row`` gives
    them); a row Python cannot hold is its failure."""
    try:
        rows: list[dict[str, Any] | _Failed] = batch.to_pylist(maps_as_pydicts="lossy")
    except MemoryError as exc:  # the process's, not the batch's: the task fails
        raise OutOfMemoryError.of(exc) from exc
    except Exception:  # read row by row, to find the rows that fail
        rows = []
        ids = batch.column("case_id") if "case_id" in batch.schema.names else None
        for index in range(batch.num_rows):
            try:
                rows.extend(batch.slice(index, 1).to_pylist(maps_as_pydicts="lossy"))
            except MemoryError as exc:  # the process's, not the row's: the task fails
                raise OutOfMemoryError.of(exc) from exc
            except Exception as exc:  # a row's failure is its error
                raw_id = ids[index].as_py() if ids is not None else None
                case_id = raw_id if isinstance(raw_id, str) else None
                rows.append(_Failed(case_id, _internal(exc)))
    return rows


def _error_row(case_id: str | None, error: CollectRulesError) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FIELDS)
    row.update(case_id=case_id, **{ERROR: str(error), KIND: type(error).__name__})
    return row
