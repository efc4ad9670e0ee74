"""Faster derivation changes nothing: the same facts, signals, cures and errors as the
frozen reference made by the derivation before it was made faster
(tests/derive_reference.py), on every shipped policy, at instants on both sides of the
clock changes, with caches cold and warm, in either order."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from collectrules import Engine, load_policy
from derive_reference import (
    POLICIES,
    REFERENCE,
    canonical,
    inputs,
    records,
    snapshot,
)


def _reference() -> list[dict[str, Any]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _differences(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    out = []
    for want, have in zip(expected, got, strict=True):
        if canonical(want) != canonical(have):
            where = f"{want['policy']} case {want['case']} at {want['as_of']} ({want['mode']})"
            out.append(f"{where}:\n  want {canonical(want)[:600]}\n  got  {canonical(have)[:600]}")
    return out


def test_the_derivation_gives_the_reference_record_for_record() -> None:
    expected = _reference()
    got = list(records())
    assert len(got) == len(expected)
    assert [r["input"] for r in got] == [r["input"] for r in expected], (
        "the generated inputs changed: the reference no longer describes them"
    )
    differences = _differences(expected, got)
    assert not differences, f"{len(differences)} differ; first:\n" + "\n".join(differences[:3])


def test_the_reference_covers_errors_dst_folds_and_every_policy() -> None:
    expected = _reference()
    assert {r["policy"] for r in expected} == set(POLICIES)
    labels = {r["as_of"] for r in expected}
    assert {"london-fall-fold0", "london-fall-fold1", "ny-fall-fold1", "naive"} <= labels
    assert sum("error" in r for r in expected) > 100
    assert sum("derived" in r and r["derived"]["cured"] != [] for r in expected) > 100
    assert sum("derived" in r and r["derived"]["ignored"] != [] for r in expected) > 10


@pytest.mark.parametrize("name", POLICIES)
def test_cold_caches_and_the_reverse_order_give_the_same(name: str) -> None:
    expected = {(r["mode"], r["case"], r["as_of"]): r for r in _reference() if r["policy"] == name}
    wanted = [row for row in inputs() if row[0] == name and row[2] % 3 == 0]
    engines: dict[str, Engine] = {}
    for _, mode, i, label, case, as_of in reversed(wanted):
        engine = engines.get(mode)
        if engine is None:
            engine = engines[mode] = Engine(
                load_policy(name),
                backend="python",
                unknown_signals=mode,
            )
        # the policy object is shared: empty its caches on the way to make them cold
        if i % 50 == 0:
            engine.policy.memo("timeline_state_cache", dict).clear()
        want = expected[(mode, i, label)]
        try:
            got: dict[str, Any] = {"derived": snapshot(engine.derive(case, as_of=as_of))}
        except Exception as exc:
            got = {"error": [type(exc).__name__, str(exc)]}
        assert {**want, **got} == want, (name, mode, i, label)
