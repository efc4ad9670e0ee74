"""Rows of checked Python values as an Arrow table, without pyarrow's converters.

pyarrow's converters from Python lists (``pa.array``, ``Table.from_pylist``) import
pandas whenever it is installed, to ask whether a list is a pandas object: about 33 MiB
resident and a few tenths of a second in every process that writes a decision table.
:func:`table_from_rows` builds each column from its buffers instead (a validity bitmap,
offsets, the UTF-8 bytes of the texts), which pyarrow takes as they are: no converter
runs, so nothing is imported, in the per-case batch and in the columnar engine alike.

The rows must hold values of the schema's types already (their callers check them):
integers, texts, lists of texts, and lists of (key, value) text pairs for a list of
key/value structs or a map; ``None`` is null.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate, chain, compress
from operator import itemgetter
from typing import Any, cast

__all__ = ["table_from_rows"]


def table_from_rows(rows: Sequence[Mapping[str, Any]], schema: Any) -> Any:
    """``rows`` (each holding every column of ``schema``) as an Arrow table of ``schema``."""
    import pyarrow as pa

    names = schema.names
    pick: Callable[[Mapping[str, Any]], Any] = (
        itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    )
    columns: Iterable[Sequence[Any]] = (
        zip(*map(pick, rows), strict=True) if rows else ([] for _ in names)
    )
    arrays = [
        _column(pa, field.type, values) for field, values in zip(schema, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _column(pa: Any, kind: Any, values: Sequence[Any]) -> Any:
    if pa.types.is_integer(kind):
        return _integers(pa, values).cast(kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _texts(pa, values).cast(kind)
    present = [v if v is not None else () for v in values]
    offsets = _offsets(pa, map(len, present), len(present))
    mask = _booleans(pa, [v is None for v in values]) if None in values else None
    flat = list(chain.from_iterable(present))
    if pa.types.is_map(kind):
        keys = _texts(pa, [k for k, _ in flat]).cast(kind.key_type)
        items = _texts(pa, [v for _, v in flat]).cast(kind.item_type)
        return pa.MapArray.from_arrays(offsets.cast(pa.int32()), keys, items, type=kind, mask=mask)
    item = kind.value_type
    if pa.types.is_struct(item):  # (key, value) pairs
        keys = _texts(pa, [k for k, _ in flat]).cast(item.field(0).type)
        items = _texts(pa, [v for _, v in flat]).cast(item.field(1).type)
        inner = pa.StructArray.from_arrays([keys, items], fields=list(item))
    else:
        inner = _texts(pa, flat).cast(item)
    large = pa.LargeListArray.from_arrays(offsets, inner, mask=mask)
    return large.cast(kind)


def _validity(pa: Any, values: Sequence[Any]) -> tuple[Any, int] | None:
    """The validity bitmap of ``values`` (a bit set for each value not None) and the
    count of nulls, or None when there is no null."""
    nulls = values.count(None) if isinstance(values, list | tuple) else list(values).count(None)
    if not nulls:
        return None
    return _bitmap(pa, [v is not None for v in values]), nulls


def _texts(pa: Any, values: Sequence[str | None]) -> Any:
    """A large string array of ``values``, from its offsets and UTF-8 bytes (ASCII text,
    the common case, is measured and encoded whole)."""
    validity = _validity(pa, values)
    bitmap, nulls = (None, 0) if validity is None else validity
    texts = cast("Sequence[str]", values) if not nulls else ["" if v is None else v for v in values]
    whole = "".join(texts)
    if whole.isascii():
        data, lengths = whole.encode("ascii"), map(len, texts)
    else:
        encoded = [text.encode("utf-8") for text in texts]
        data, lengths = b"".join(encoded), map(len, encoded)
    ends = array("q", accumulate(lengths, initial=0))
    buffers = [bitmap, pa.py_buffer(ends), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.large_string(), len(values), buffers, null_count=nulls)


def _integers(pa: Any, values: Sequence[int | None]) -> Any:
    """An int64 array of ``values``."""
    validity = _validity(pa, values)
    bitmap, nulls = (None, 0) if validity is None else validity
    data = array("q", (0 if v is None else v for v in values))
    return pa.Array.from_buffers(
        pa.int64(), len(values), [bitmap, pa.py_buffer(data)], null_count=nulls
    )


def _offsets(pa: Any, lengths: Iterable[int], count: int) -> Any:
    """The int64 offsets array of ``count`` lists of ``lengths``."""
    ends = array("q", accumulate(lengths, initial=0))
    return pa.Array.from_buffers(pa.int64(), count + 1, [None, pa.py_buffer(ends)])


def _booleans(pa: Any, flags: Sequence[bool]) -> Any:
    """A boolean array (no nulls) of ``flags``."""
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, _bitmap(pa, flags)])


def _bitmap(pa: Any, flags: Sequence[bool]) -> Any:
    """An Arrow bitmap buffer: bit ``i`` (least significant first) set when ``flags[i]``."""
    bits = bytearray((len(flags) + 7) // 8)
    for index in compress(range(len(flags)), flags):
        bits[index >> 3] |= 1 << (index & 7)
    return pa.py_buffer(bytes(bits))
