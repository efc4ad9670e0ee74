"""The public API: ``__all__`` is sorted and is exactly the public names."""

from __future__ import annotations

import types

import collectrules


def test_all_is_sorted_and_complete() -> None:
    names = collectrules.__all__

    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def key(name: str) -> tuple[int, str]:
        rank = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
        return rank, name

    assert names == sorted(names, key=key)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(collectrules, name), name
    public = {
        name
        for name, value in vars(collectrules).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in ("annotations",)
    }
    assert public == set(names)


def test_public_api_has_docstrings() -> None:
    for name in collectrules.__all__:
        value = getattr(collectrules, name)
        if callable(value):
            assert value.__doc__, name
