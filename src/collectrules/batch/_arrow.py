"""Rows of checked Python values as an Arrow table, without pyarrow's converters.

pyarrow's converters from Python lists (``pa.array``, ``Table.from_pylist``) import
pandas whenever it is installed, to ask whether a list is a pandas object: about 33 MiB
resident and a few tenths of a second in every process that writes a decision table.
:func:`table_from_rows` builds each column from flat Polars series instead (when Polars
is loaded: the columnar engine's processes), at about the same speed. Where Polars is
not loaded (the per-case batch), ``Table.from_pylist`` builds the table: loading Polars
would cost more memory than pandas.

The rows must hold values of the schema's types already (their callers check them):
integers, texts, lists of texts, and lists of (key, value) text pairs for a list of
key/value structs or a map; ``None`` is null.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

__all__ = ["table_from_rows"]


def table_from_rows(rows: Sequence[Mapping[str, Any]], schema: Any) -> Any:
    """``rows`` (each holding every column of ``schema``) as an Arrow table of ``schema``."""
    import pyarrow as pa

    pl = sys.modules.get("polars")
    if pl is None:  # not loaded (loading it costs more than pandas): pyarrow's converters
        return pa.Table.from_pylist(list(rows), schema=schema)
    names = schema.names
    pick: Callable[[Mapping[str, Any]], Any] = (
        itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    )
    columns: Iterable[Sequence[Any]] = (
        zip(*map(pick, rows), strict=True) if rows else ([] for _ in names)
    )
    arrays = [
        _column(pa, pl, field.type, values) for field, values in zip(schema, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _column(pa: Any, pl: Any, kind: Any, values: Sequence[Any]) -> Any:
    if pa.types.is_integer(kind):
        return pl.Series(values=values, dtype=pl.Int64).to_arrow().cast(kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _texts(pa, pl, values).cast(kind)
    present = [v if v is not None else () for v in values]
    offsets = pl.Series(values=list(accumulate(map(len, present), initial=0)), dtype=pl.Int64)
    mask = None
    if any(v is None for v in values):
        mask = pl.Series(values=[v is None for v in values], dtype=pl.Boolean).to_arrow()
    flat = list(chain.from_iterable(present))
    if pa.types.is_map(kind):
        keys = _texts(pa, pl, [k for k, _ in flat]).cast(kind.key_type)
        items = _texts(pa, pl, [v for _, v in flat]).cast(kind.item_type)
        small = offsets.cast(pl.Int32).to_arrow()
        return pa.MapArray.from_arrays(small, keys, items, type=kind, mask=mask)
    item = kind.value_type
    if pa.types.is_struct(item):  # (key, value) pairs
        keys = _texts(pa, pl, [k for k, _ in flat]).cast(item.field(0).type)
        items = _texts(pa, pl, [v for _, v in flat]).cast(item.field(1).type)
        inner = pa.StructArray.from_arrays([keys, items], fields=list(item))
    else:
        inner = _texts(pa, pl, flat).cast(item)
    large = pa.LargeListArray.from_arrays(offsets.to_arrow(), inner, mask=mask)
    return large.cast(kind)


def _texts(pa: Any, pl: Any, values: Sequence[Any]) -> Any:
    array = pl.Series(values=values, dtype=pl.String).to_arrow()
    return array if array.type == pa.large_string() else array.cast(pa.large_string())
