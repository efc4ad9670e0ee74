"""Decisions built lazily: the levels, trace and display facts on first use.

A decision from the engine carries what a caller acts on (the quadrant, the remedies,
the sections' classes, buckets and amounts) at once, and builds the rest when it is
first read. Built or not, it equals, prints, pickles and serialises as a decision
built whole by the constructor.
"""

from __future__ import annotations

import pickle

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Decision, Engine, load_policy
from collectrules.batch.compact import compact_row
from collectrules.bench import generate_cases
from collectrules.model.case import Case
from collectrules.model.decision import LAZY_PARTS
from collectrules.testing import strategies as cst

AS_OF = "2026-03-15T10:00:00+08:00"
POLICY = load_policy("default")
CASE = generate_cases(POLICY, 1)[0]
ENGINES = {backend: Engine(POLICY, backend=backend) for backend in ("durable", "python")}


def _pending(decision: Decision) -> bool:
    return decision._build is not None


def _whole(decision: Decision) -> Decision:
    """The same decision built by the constructor, from every field."""
    return Decision(**{a.name: getattr(decision, a.name) for a in attrs.fields(Decision) if a.init})


@pytest.mark.parametrize("backend", ["durable", "python"])
@settings(max_examples=40, deadline=None)
@given(case=cst.cases(POLICY, as_of=AS_OF, with_events=True))
def test_a_lazy_decision_is_the_decision_built_whole(backend: str, case: Case) -> None:
    engine = ENGINES[backend]
    lazy = engine.decide(case, as_of=AS_OF)
    assert _pending(lazy)
    # What a caller acts on is there without building the trace.
    assert lazy.quadrant.value in {"Q1", "Q2", "Q3", "Q4"}
    assert isinstance(lazy.allowed_remedies, frozenset)
    assert _pending(lazy)
    text = lazy.to_json()
    assert not _pending(lazy)
    whole = _whole(lazy)
    assert whole == lazy
    assert repr(whole) == repr(lazy)
    assert whole.to_json() == text
    assert whole.to_dict() == lazy.to_dict()
    again = engine.decide(case, as_of=AS_OF)
    assert again == lazy, "equality builds the parts it compares"
    assert again.to_json(indent=2) == whole.to_json(indent=2)


def test_each_lazy_part_is_built_on_first_read_of_any() -> None:
    case = CASE
    for part in LAZY_PARTS:
        decision = ENGINES["python"].decide(case, as_of=AS_OF)
        assert _pending(decision)
        getattr(decision, part)
        assert not _pending(decision)
        assert {p: getattr(decision, p) for p in LAZY_PARTS} == {
            p: getattr(_whole(decision), p) for p in LAZY_PARTS
        }


def test_a_pending_decision_pickles_copies_and_evolves_whole() -> None:
    case = CASE
    engine = ENGINES["python"]
    reference = engine.decide(case, as_of=AS_OF).to_json()
    restored = pickle.loads(pickle.dumps(engine.decide(case, as_of=AS_OF)))
    assert not _pending(restored)
    assert restored.to_json() == reference
    evolved = attrs.evolve(engine.decide(case, as_of=AS_OF), case_id="other")
    assert evolved.case_id == "other"
    assert evolved.trace == restored.trace


def test_json_is_kept_and_the_same_bytes() -> None:
    case = CASE
    decision = ENGINES["python"].decide(case, as_of=AS_OF)
    first = decision.to_json()
    assert decision.to_json() is first
    assert Decision.from_json(first, engine="python").to_json() == first


def test_lazily_needs_every_other_field() -> None:
    with pytest.raises(TypeError, match="missing"):
        Decision.lazily(dict, case_id="C1")
    decision = ENGINES["python"].decide(CASE, as_of=AS_OF)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        decision.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_a_decision_pickled_before_decisions_kept_their_json_still_writes_it() -> None:
    decision = ENGINES["python"].decide(CASE, as_of=AS_OF)
    text = decision.to_json()
    state: dict[str, object] = getattr(decision, "__getstate__")()  # noqa: B009
    del state["_build"], state["_json"]  # what an older release pickled
    older = object.__new__(Decision)
    getattr(older, "__setstate__")(state)  # noqa: B009
    assert older == decision
    assert older.to_json() == text


OUTLINE_POLICIES = {name: load_policy(name) for name in ("default", "cn_bank_loan", "ifrs9", "uk")}
OUTLINE_ENGINES = {
    (name, backend): Engine(policy, backend=backend)
    for name, policy in OUTLINE_POLICIES.items()
    for backend in ("durable", "python")
}


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("name", sorted(OUTLINE_POLICIES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_the_outline_and_compact_row_need_no_build_and_match_the_built_parts(
    backend: str, name: str, data: st.DataObject
) -> None:
    policy = OUTLINE_POLICIES[name]
    case = data.draw(cst.cases(policy, as_of=AS_OF, with_events=True))
    if name == "ifrs9":  # its pack sets the materiality threshold in EUR only
        case = attrs.evolve(case, currency="EUR")
    engine = OUTLINE_ENGINES[name, backend]
    lazy = engine.decide(case, as_of=AS_OF)
    outline = lazy.outline()
    row = compact_row(lazy)
    assert _pending(lazy), "the outline and the compact row leave the trace unbuilt"
    built = _whole(lazy)  # reads every part
    assert not _pending(lazy)
    assert lazy.outline() == outline == built.outline()
    assert outline.fired == tuple(f.rule_id for f in built.trace)
    assert dict(outline.levels) == {k: v.value for k, v in built.levels.items()}
    assert compact_row(built) == row
    assert row["fired"] == [f.rule_id for f in built.trace]


def test_a_part_read_while_another_thread_builds_them_is_the_built_part() -> None:
    # The interleaving of two threads reading one pending decision: the second's lookup
    # finds its slot unset, then the first builds the parts and drops the builder, then
    # the second asks for the part. It read an AttributeError ("no attribute 'trace'").
    decision = ENGINES["python"].decide(CASE, as_of=AS_OF)
    levels = decision.levels  # the "first thread": built, the builder dropped
    assert not _pending(decision)
    for name in LAZY_PARTS:
        assert decision.__getattr__(name) is getattr(decision, name)
    assert decision.levels is levels


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_one_decision_read_from_many_threads_at_once(backend: str) -> None:
    import sys
    import threading

    engine = ENGINES[backend]
    cases = generate_cases(POLICY, 60, seed=5)
    expected = [engine.decide(c, as_of=AS_OF).to_json() for c in cases]
    failures: list[str] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for _ in range(5):
            decisions = [engine.decide(c, as_of=AS_OF) for c in cases]
            barrier = threading.Barrier(len(LAZY_PARTS) + 1)

            def read(
                name: str, ds: list[Decision] = decisions, b: threading.Barrier = barrier
            ) -> None:
                b.wait()
                for d in ds:
                    try:
                        getattr(d, name) if name != "json" else d.to_json()
                    except Exception as exc:  # collected and asserted below
                        failures.append(f"{name}: {exc!r}")

            threads = [threading.Thread(target=read, args=(n,)) for n in (*LAZY_PARTS, "json")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [d.to_json() for d in decisions] == expected
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
