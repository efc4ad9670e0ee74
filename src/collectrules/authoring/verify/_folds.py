"""The folds: a layer's hit policy summarised while the search decides its rules."""

from __future__ import annotations

import abc
import math
from collections.abc import Hashable, Sequence
from fractions import Fraction
from typing import Any

from collectrules.authoring.verify._values import (
    _DEAD,
)
from collectrules.errors import CollectRulesError


class _Fold(abc.ABC):
    @abc.abstractmethod
    def start(self) -> Hashable:
        """The summary before any rule is decided."""

    @abc.abstractmethod
    def add(self, s: Any, i: int, hit: bool) -> Any:
        """Fold rule ``i`` (matched or not) into summary ``s``."""

    def relevant(self, s: Any, i: int) -> bool:
        return True


class _FirstFold(_Fold):
    """``first``: the lowest matching index wins."""

    def start(self) -> Hashable:
        return None

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if hit and (s is None or i < s):
            return i
        return s

    def relevant(self, s: Any, i: int) -> bool:
        return s is None or i < s


class _PriorityFold(_Fold):
    """``priority``: the highest priority wins; ties go to the earlier rule."""

    def __init__(self, priorities: Sequence[int]) -> None:
        self.keys = [(p, -i) for i, p in enumerate(priorities)]

    def start(self) -> Hashable:
        return None

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if hit and (s is None or self.keys[i] > self.keys[s]):
            return i
        return s

    def relevant(self, s: Any, i: int) -> bool:
        return s is None or self.keys[i] > self.keys[s]


class _UniqueFold(_Fold):
    """``unique``: the matching indices, up to two (two is already an overlap)."""

    def start(self) -> Hashable:
        return ()

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return tuple(sorted((*s, i)))[:2] if hit else s

    def relevant(self, s: Any, i: int) -> bool:
        return len(s) < 2


class _SumFold(_Fold):
    """``collect_sum``: the exact sum of the matching rules' scores.

    Scores are scaled to integers by the common denominator of their exact binary
    values, so that sums are exact and cheap to hash.
    """

    def __init__(self, scores: Sequence[float]) -> None:
        exact = [Fraction(s) for s in scores]
        self.scale = math.lcm(1, *(f.denominator for f in exact))
        self.scores = [int(f * self.scale) for f in exact]

    def start(self) -> Hashable:
        return 0

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return s + self.scores[i] if hit else s

    def value(self, s: int) -> Fraction:
        """The sum as a number."""
        return Fraction(s, self.scale)


class _SatFold(_Fold):
    """Every condition must come out as wanted."""

    def __init__(self, wants: Sequence[bool]) -> None:
        self.wants = list(wants)

    def start(self) -> Hashable:
        return True

    def add(self, s: Any, i: int, hit: bool) -> Any:
        return s if hit == self.wants[i] else _DEAD


class _RemedyFold(_Fold):
    """Remedies granted and blocked, restricted to the remedies of interest."""

    def __init__(self, rules: Sequence[tuple[bool, frozenset[str]]]) -> None:
        self.rules = list(rules)

    def start(self) -> Hashable:
        return (frozenset(), frozenset())

    def add(self, s: Any, i: int, hit: bool) -> Any:
        if not hit:
            return s
        grants, remedies = self.rules[i]
        granted, blocked = s
        if grants:
            return (granted | remedies, blocked)
        return (granted, blocked | remedies)


class _Parts(_Fold):
    """Several folds side by side, each over its own block of indices."""

    def __init__(self, folds: Sequence[tuple[_Fold, int]]) -> None:
        self.folds = [f for f, _ in folds]
        self.where: list[tuple[int, int]] = []
        for part, (_, size) in enumerate(folds):
            self.where += [(part, local) for local in range(size)]

    def start(self) -> Hashable:
        return tuple(f.start() for f in self.folds)

    def add(self, s: Any, i: int, hit: bool) -> Any:
        part, local = self.where[i]
        new = self.folds[part].add(s[part], local, hit)
        if new is _DEAD:
            return _DEAD
        if new is s[part]:
            return s
        return (*s[:part], new, *s[part + 1 :])

    def relevant(self, s: Any, i: int) -> bool:
        part, local = self.where[i]
        return self.folds[part].relevant(s[part], local)


class _Budget(CollectRulesError):
    """The search went past one of its budgets: ``what`` names it (``2000000 steps``)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
