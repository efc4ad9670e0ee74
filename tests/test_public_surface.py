"""The public surface is pinned: a change to any documented ``__all__`` is a deliberate diff.

The expected names live in ``tests/public_api.txt``, one ``module: name`` per line. After a
deliberate change to the public API, regenerate it with::

    python tests/test_public_surface.py > tests/public_api.txt
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

#: The package and its documented subpackages, whose ``__all__`` is public API.
DOCUMENTED = (
    "collectrules",
    "collectrules.authoring",
    "collectrules.authoring.verify",
    "collectrules.batch",
    "collectrules.calendars",
    "collectrules.compliance",
    "collectrules.conditions",
    "collectrules.engine",
    "collectrules.frame",
    "collectrules.io",
    "collectrules.model",
    "collectrules.money",
    "collectrules.operations",
    "collectrules.policy",
    "collectrules.sections",
    "collectrules.testing",
    "collectrules.timeline",
)
SNAPSHOT = Path(__file__).with_name("public_api.txt")


def surface() -> list[str]:
    """Every public name of every documented module, as ``module: name`` lines."""
    lines = []
    for name in DOCUMENTED:
        module = importlib.import_module(name)
        lines.extend(f"{name}: {public}" for public in module.__all__)
    return lines


def test_the_public_surface_is_the_pinned_one() -> None:
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    assert surface() == expected, "regenerate tests/public_api.txt if the change is deliberate"


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_public_name_exists_and_all_is_sorted(name: str) -> None:
    module = importlib.import_module(name)
    names = list(module.__all__)

    def key(text: str) -> tuple[int, str]:
        rank = 0 if text.isupper() and len(text) > 1 else 1 if text[0].isupper() else 2
        return rank, text

    assert names == sorted(names, key=key), name
    assert len(set(names)) == len(names), name
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{name}: {missing}"


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_room_says_what_it_is_for(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, name
    assert module.__doc__.strip().splitlines()[0].endswith("."), name


if __name__ == "__main__":  # pragma: no cover - the regeneration command above
    print("\n".join(surface()))
