"""Case ids decided in a batch run: a row is decided at most once per case id.

A portfolio's rows are one case each. A case id that comes twice (an export run
twice over, two systems' rows for one account) would be decided twice and written
twice, and a report reading the run would count the case twice. So the batch keeps
every id it has decided: a later row that the engine decides for an id already
decided is a bad row instead, ``case_id: case 'C-1' appears twice (decided at
cases.jsonl:1)``. A row that is bad for its own reasons keeps its own error and
claims no id, so the first row that can be decided is the one decided.

:class:`CaseIds` holds the ids in bounded memory whatever their length: a 128-bit
BLAKE2b digest of each id and where it was decided, 24 bytes a slot in open-addressed
tables kept at most four-fifths full (41 MiB of slots for a million ids).
Two different ids share a digest with odds of about one in 10^26 for a million ids.
"""

from __future__ import annotations

import struct
from array import array
from hashlib import blake2b

from collectrules.errors import FieldProblem, InputError, quote
from collectrules.io.reader import row_place

__all__ = ["FILE_SHIFT", "INDEX_BIT", "CaseIds", "place_of", "repeated_case"]

_PAIR = struct.Struct("<QQ")
_SHARD_BITS = 8
_SHARDS = 1 << _SHARD_BITS
_SHARD_MASK = _SHARDS - 1
_FIRST_SLOTS = 16  # a shard's slots at first
INDEX_BIT = 1 << 40
"""In a place's code: the number is a row's index in its file, not a line."""
FILE_SHIFT = 41
"""In a place's code: the file's number starts at this bit."""
_NUMBER_MASK = INDEX_BIT - 1
_MAX_SOURCES = 1 << 23  # the files a place's code can name (64 bits in all)


def repeated_case(case_id: str, first: str) -> InputError:
    """The error of a row for ``case_id``, which the row at ``first`` was decided for."""
    msg = f"case {quote(case_id)} appears twice (decided at {first}); expected each case once"
    return InputError([FieldProblem("case_id", msg)])


def place_of(source: str, code: int) -> str:
    """The place a code of :data:`INDEX_BIT` and a number (a line, else an index; all
    ones: the file alone) names in ``source``."""
    place = code & _NUMBER_MASK
    if place == _NUMBER_MASK:
        return source
    if code & INDEX_BIT:
        return row_place(source, None, place)
    return row_place(source, place, None)


class CaseIds:
    """The case ids a run has decided, each with where.

    :meth:`claim` records an id and answers where it was recorded when it was before.
    The ids are held in :data:`_SHARDS` open-addressed tables, chosen by the digest's
    first byte, each grown by half when it is four-fifths full: memory is 24 bytes a
    slot whatever the length of the ids, and growing copies one small table at a time,
    never the whole."""

    def __init__(self) -> None:
        self._sizes = [_FIRST_SLOTS] * _SHARDS
        # Two words of digest a slot (0 marks an empty one), and where the id was decided.
        self._keys = [array("Q", bytes(16 * _FIRST_SLOTS)) for _ in range(_SHARDS)]
        self._at = [array("Q", bytes(8 * _FIRST_SLOTS)) for _ in range(_SHARDS)]
        self._counts = [0] * _SHARDS
        self._sources: dict[str, int] = {}
        self._names: list[str] = []

    def __len__(self) -> int:
        return sum(self._counts)

    def claim(self, case_id: str, source: str, line: int | None, index: int | None) -> str | None:
        """Record that the row at ``source`` (``line`` or ``index``) holds ``case_id``;
        where the id was first recorded (``file:line``), when a row held it before."""
        digest = blake2b(case_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        high, low = _PAIR.unpack(digest)
        low |= 1  # never 0, which marks an empty slot
        shard = high & _SHARD_MASK
        keys = self._keys[shard]
        size = self._sizes[shard]
        slot = (high >> _SHARD_BITS) % size
        while True:
            stored = keys[2 * slot + 1]
            if stored == 0:
                break
            if stored == low and keys[2 * slot] == high:
                return self._where(self._at[shard][slot])
            slot = slot + 1 if slot + 1 < size else 0
        keys[2 * slot] = high
        keys[2 * slot + 1] = low
        self._at[shard][slot] = self._code(source, line, index)
        self._counts[shard] += 1
        if 5 * self._counts[shard] > 4 * size:
            self._grow(shard)
        return None

    def _code(self, source: str, line: int | None, index: int | None) -> int:
        number = self._sources.get(source)
        if number is None:
            number = min(len(self._names), _MAX_SOURCES - 1)  # the last code: any later file
            if number == len(self._names):
                self._names.append(source)
            self._sources[source] = number
        place = line if line is not None else index
        if place is None or not 0 <= place < _NUMBER_MASK:
            return (number << FILE_SHIFT) | _NUMBER_MASK  # a whole file, or past counting
        return (number << FILE_SHIFT) | (0 if line is not None else INDEX_BIT) | place

    def _where(self, code: int) -> str:
        number = code >> FILE_SHIFT
        if number == _MAX_SOURCES - 1:
            return place_of(f"an input file after the first {_MAX_SOURCES - 1:,}", code)
        return place_of(self._names[number], code)

    def _grow(self, shard: int) -> None:
        old_keys, old_at = self._keys[shard], self._at[shard]
        size = self._sizes[shard] + self._sizes[shard] // 2
        keys = array("Q", bytes(16 * size))
        at = array("Q", bytes(8 * size))
        for old in range(len(old_at)):
            low = old_keys[2 * old + 1]
            if low == 0:
                continue
            high = old_keys[2 * old]
            slot = (high >> _SHARD_BITS) % size
            while keys[2 * slot + 1] != 0:
                slot = slot + 1 if slot + 1 < size else 0
            keys[2 * slot] = high
            keys[2 * slot + 1] = low
            at[slot] = old_at[old]
        self._keys[shard], self._at[shard], self._sizes[shard] = keys, at, size
