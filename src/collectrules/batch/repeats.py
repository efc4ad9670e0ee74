"""Case ids decided in a batch run: a row is decided at most once per case id.

A portfolio's rows are one case each. A case id that comes twice (an export run
twice over, two systems' rows for one account) would be decided twice and written
twice, and a report reading the run would count the case twice. So the batch keeps
every id it has decided: a later row that the engine decides for an id already
decided is a bad row instead, ``case_id: case 'C-1' appears twice (decided at
cases.jsonl:1)``. A row that is bad for its own reasons keeps its own error and
claims no id, so the first row that can be decided is the one decided.

:class:`CaseIds` holds the ids in bounded memory whatever their length: a 128-bit
BLAKE2b digest of each id and where it was decided, 24 bytes a slot in an
open-addressed table kept at most two-thirds full (at most 48 MiB for a million ids).
Two different ids share a digest with odds of about one in 10^26 for a million ids.
"""

from __future__ import annotations

import struct
from array import array
from hashlib import blake2b

from collectrules.errors import FieldProblem, InputError, quote

__all__ = ["CaseIds", "repeated_case"]

_PAIR = struct.Struct("<QQ")
_FIRST_SLOTS = 1 << 12
_INDEX_BIT = 1 << 40  # set: the number is a row's index in its file, not a line
_NUMBER_MASK = _INDEX_BIT - 1


def repeated_case(case_id: str, first: str) -> InputError:
    """The error of a row for ``case_id``, which the row at ``first`` was decided for."""
    msg = f"case {quote(case_id)} appears twice (decided at {first}); expected each case once"
    return InputError([FieldProblem("case_id", msg)])


def where(source: str, line: int | None, index: int | None) -> str:
    """A row's place as the batch names it: ``file:line``, ``file[index]`` or ``file``."""
    if line is not None:
        return f"{source}:{line}"
    return f"{source}[{index}]" if index is not None else source


class CaseIds:
    """The case ids a run has decided, each with where.

    :meth:`claim` records an id and answers where it was recorded when it was
    before. Memory is 24 bytes a slot, whatever the length of the ids."""

    def __init__(self) -> None:
        self._slots = _FIRST_SLOTS
        self._keys = array("Q", bytes(16 * self._slots))  # two words a slot; 0 is empty
        self._at = array("Q", bytes(8 * self._slots))
        self._count = 0
        self._sources: dict[str, int] = {}
        self._names: list[str] = []

    def __len__(self) -> int:
        return self._count

    def claim(self, case_id: str, source: str, line: int | None, index: int | None) -> str | None:
        """Record that the row at ``source`` (``line`` or ``index``) holds ``case_id``;
        where the id was first recorded (``file:line``), when a row held it before."""
        digest = blake2b(case_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        high, low = _PAIR.unpack(digest)
        low |= 1  # never 0, which marks an empty slot
        keys = self._keys
        mask = self._slots - 1
        slot = high & mask
        while True:
            stored = keys[2 * slot + 1]
            if stored == 0:
                break
            if stored == low and keys[2 * slot] == high:
                return self._where(self._at[slot])
            slot = (slot + 1) & mask
        keys[2 * slot] = high
        keys[2 * slot + 1] = low
        self._at[slot] = self._code(source, line, index)
        self._count += 1
        if 3 * self._count > 2 * self._slots:
            self._grow()
        return None

    def _code(self, source: str, line: int | None, index: int | None) -> int:
        number = self._sources.get(source)
        if number is None:
            number = self._sources[source] = len(self._names)
            self._names.append(source)
        place = line if line is not None else index
        if place is None or not 0 <= place < _INDEX_BIT:
            place = _NUMBER_MASK  # a whole file, or past counting: the file alone
            return (number << 41) | place
        return (number << 41) | (0 if line is not None else _INDEX_BIT) | place

    def _where(self, code: int) -> str:
        source = self._names[code >> 41]
        place = code & _NUMBER_MASK
        if place == _NUMBER_MASK:
            return source
        if code & _INDEX_BIT:
            return where(source, None, place)
        return where(source, place, None)

    def _grow(self) -> None:
        old_keys, old_at = self._keys, self._at
        self._slots *= 2
        keys = self._keys = array("Q", bytes(16 * self._slots))
        at = self._at = array("Q", bytes(8 * self._slots))
        mask = self._slots - 1
        for old in range(len(old_at)):
            low = old_keys[2 * old + 1]
            if low == 0:
                continue
            high = old_keys[2 * old]
            slot = high & mask
            while keys[2 * slot + 1] != 0:
                slot = (slot + 1) & mask
            keys[2 * slot] = high
            keys[2 * slot + 1] = low
            at[slot] = old_at[old]
