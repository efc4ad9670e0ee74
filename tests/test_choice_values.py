"""Every public enumeration answers a value that names no member with an InputError
naming the enumeration, whatever the value: also one whose ``repr`` fails, a list
nested past the recursion limit or an integer past Python's digit limit (the
``ValueError`` :mod:`enum` writes first quotes the value with ``repr``)."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from typing import Any

import pytest

import collectrules
from collectrules._choice import Choice
from collectrules.errors import InputError

SKIPPED = (
    "collectrules.__main__",
    "collectrules.bench",
    "collectrules.cli",
    "collectrules.spark",
    "collectrules.frame.bench",
    "collectrules.batch.bench",
)

# Every module of the package that defines enumerations (not the command line, the
# benchmarks or Spark, which need more than the package's own dependencies).
for _info in pkgutil.walk_packages(collectrules.__path__, "collectrules."):
    if not _info.name.startswith(SKIPPED):
        importlib.import_module(_info.name)


def _all(cls: type[Choice]) -> list[type[Choice]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all(sub)]
    return out


CHOICES = sorted(_all(Choice), key=lambda c: f"{c.__module__}.{c.__qualname__}")


class _NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def _deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    return value


HOSTILE: list[Any] = [_NoRepr(), 10**5000, _deep(), [1], {"a": 1}, 5, None, b"loan", "x\n"]


def test_every_enumeration_is_found() -> None:
    names = {c.__name__ for c in CHOICES}
    assert {"Product", "Quadrant", "Remedy", "Method", "GroupBy", "Component"} <= names


@pytest.mark.parametrize("cls", CHOICES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__)
def test_a_value_naming_no_member_is_an_input_error(cls: type[Choice], value: Any) -> None:
    with pytest.raises(InputError) as info:
        cls(value)
    assert info.value.paths == (cls.__name__,)
    assert len(str(info.value)) < 2_000


@pytest.mark.parametrize("cls", CHOICES, ids=lambda c: c.__name__)
def test_members_are_found_by_value_and_by_member(cls: type[Choice]) -> None:
    for member in cls:
        assert cls(member.value) is member
        assert cls(str(member.value)) is member
        assert cls(member) is member
        assert pickle.loads(pickle.dumps(member)) is member
