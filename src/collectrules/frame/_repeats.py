"""Case ids decided in a columnar run, a chunk at a time (see
:mod:`collectrules.io.repeats`).

:meth:`FrameCaseIds.repeats` answers which of a chunk's decided rows hold an id a row
decided before holds (in an earlier chunk, or earlier in this one), with where that
row is, and records the chunk's new ids. The ids are kept as two 64-bit hashes each (Polars',
under two seeds: 128 bits, compared together) and where each was decided, in
arrays sorted by the first hash: 24 bytes an id, and no Python per row but for the
rows that repeat.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from collectrules.io.repeats import FILE_SHIFT, INDEX_BIT, place_of

__all__ = ["FrameCaseIds"]

_SEEDS = (0x5EED0C0FFEE5CA5E, 0x1D1DBA7C40F75EE1)


class FrameCaseIds:
    """The case ids a columnar run has decided, each with where."""

    def __init__(self) -> None:
        self._first = np.empty(0, dtype=np.uint64)  # sorted
        self._second = np.empty(0, dtype=np.uint64)
        self._at = np.empty(0, dtype=np.uint64)
        self._names: list[str] = []
        self._files: dict[str, int] = {}

    def __len__(self) -> int:
        return int(self._first.size)

    def repeats(
        self, source: str, ids: pl.Series, places: Sequence[int] | np.ndarray, *, lines: bool
    ) -> dict[int, tuple[str, str]]:
        """The rows of ``ids`` (one a row, in order; None where a row has no text id)
        that repeat an id recorded before, by their position in ``ids``: each row's
        case id and where the id was first recorded (``file:line`` or ``file[index]``; see
        :func:`~collectrules.io.repeats.repeated_case`). ``places`` are the rows'
        lines (``lines``) or indices in ``source``. The rows' new ids are recorded."""
        if ids.len() == 0:
            return {}
        if ids.dtype != pl.String:
            if not isinstance(ids.dtype, pl.Categorical | pl.Enum):
                return {}  # no text ids: each row is refused for its id
            ids = ids.cast(pl.String)
        file = self._files.get(source)
        if file is None:
            file = self._files[source] = len(self._names)
            self._names.append(source)
        marks = np.uint64((file << FILE_SHIFT) | (0 if lines else INDEX_BIT))
        held = np.flatnonzero(ids.is_not_null().to_numpy())
        all_h1, all_h2 = self._hashes(ids)
        # By first hash, second hash, then position: a repeated id's rows are together,
        # its first row first. Sorting by the first hash alone does that unless two ids
        # share it (odds of about 10^-10 a chunk); then by all three.
        order = held[np.argsort(all_h1[held], kind="stable")]
        h1, h2 = all_h1[order], all_h2[order]
        if np.any((h1[1:] == h1[:-1]) & (h2[1:] != h2[:-1])):
            order = held[np.lexsort((held, all_h2[held], all_h1[held]))]
            h1, h2 = all_h1[order], all_h2[order]
        starts = np.ones(order.size, dtype=bool)
        starts[1:] = (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])
        group = np.cumsum(starts) - 1
        heads = order[starts]
        at = np.asarray(places, dtype=np.uint64)[heads] | marks
        earlier, known, spots = self._earlier(h1[starts], h2[starts])
        # Each id's first place: an earlier chunk's, else its first row in this chunk.
        origin = np.where(known, earlier, at)
        repeated = ~starts | known[group]
        new = ~known
        self._first = np.insert(self._first, spots[new], h1[starts][new])
        self._second = np.insert(self._second, spots[new], h2[starts][new])
        self._at = np.insert(self._at, spots[new], at[new])
        out: dict[int, tuple[str, str]] = {}
        pairs = zip(order[repeated].tolist(), origin[group[repeated]].tolist(), strict=True)
        for pos, code in sorted(pairs):
            out[pos] = (ids[pos], self._where(code))
        return out

    def _hashes(self, ids: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Each id's two 64-bit hashes."""
        return ids.hash(_SEEDS[0]).to_numpy(), ids.hash(_SEEDS[1]).to_numpy()

    def _earlier(self, h1: np.ndarray, h2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For ids sorted by ``h1``: where each was recorded, whether it was, and
        where it goes in the sorted arrays."""
        left = np.searchsorted(self._first, h1, side="left")
        found = np.zeros(h1.size, dtype=np.uint64)
        if not self._first.size or not h1.size:
            return found, np.zeros(h1.size, dtype=bool), left
        right = np.searchsorted(self._first, h1, side="right")
        one = (right - left) == 1
        at = np.minimum(left, self._first.size - 1)
        hit = one & (self._second[at] == h2)
        found[hit] = self._at[at[hit]]
        for i in np.flatnonzero((right - left) > 1):  # two ids sharing a first hash
            for j in range(int(left[i]), int(right[i])):
                if self._second[j] == h2[i]:
                    found[i] = self._at[j]
                    hit[i] = True
        return found, hit, left

    def _where(self, code: int) -> str:
        return place_of(self._names[code >> FILE_SHIFT], code)
