"""The decision's plain data and JSON are those of a straightforward reference.

``Decision.to_dict`` converts each part with a function written for its class, and
``Decision.to_json`` writes with orjson where that gives ``json.dumps``' bytes. The
reference here is what the schema says, built the slow, obvious way: ``attrs.asdict``
of each part, the remedies' standard labels, the facts sorted, then ``json.dumps``. It
is compared on generated cases of every shipped policy on both back ends, and on
decisions whose parts hold values of unexpected types (the fast paths check each value's
type; what they do not expect goes the general way, to the same result or the same
error).
"""

from __future__ import annotations

import copy as copymod
import dataclasses
import datetime as dt
import decimal
import functools
import json
import math
import pickle
import time
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules.bench import generate_cases
from collectrules.engine import Engine
from collectrules.errors import CollectRulesError, InputError, UnwritableError
from collectrules.model import decision as decision_module
from collectrules.model.decision import (
    SCHEMA_VERSION,
    Decision,
    Firing,
    LevelResult,
    PolicyRef,
    Quadrant,
    RemedyBlock,
    RemedyGrant,
    _record,
    canonical_json,
)
from collectrules.model.remedies import STANDARD_REMEDIES, Remedy
from collectrules.policy import load_policy
from collectrules.testing import strategies as kit
from test_generated import SHIPPED, make_case

AS_OF = pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")
_ENGINES: dict[tuple[str, str], Engine] = {}


def _engine(name: str, backend: str) -> Engine:
    key = (name, backend)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(load_policy(name), backend=backend)  # type: ignore[arg-type]
    return _ENGINES[key]


def _remedy(item: RemedyGrant | RemedyBlock) -> dict[str, Any]:
    out = attrs.asdict(item)
    name = str(item.remedy)
    spec = STANDARD_REMEDIES.get(name)
    out["remedy"] = name
    out["label_en"] = item.label_en or (spec.label_en if spec is not None else name)
    out["label_zh"] = item.label_zh or (spec.label_zh if spec is not None else name)
    return out


def reference_dict(decision: Decision) -> dict[str, Any]:
    """The decision's plain data as docs/decision-schema.md describes it."""
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "case_id": decision.case_id,
        "as_of": decision.as_of.isoformat(),
        "policy": attrs.asdict(decision.policy),
        "quadrant": {
            "value": decision.quadrant.value,
            "label_en": decision.quadrant.label_en,
            "label_zh": decision.quadrant.label_zh,
        },
        "levels": {name: attrs.asdict(level) for name, level in decision.levels.items()},
        "allowed": [_remedy(g) for g in decision.allowed],
        "blocked": [_remedy(b) for b in decision.blocked],
        "trace": [attrs.asdict(f) for f in decision.trace],
        "facts": dict(decision.facts),
        "regulatory": [attrs.asdict(r) for r in decision.regulatory],
        "buckets": [attrs.asdict(b) for b in decision.buckets],
    }
    if decision.amounts:
        out["amounts"] = dict(decision.amounts)
    if decision.ignored_signals:
        out["ignored_signals"] = decision.ignored_signals
    return out


def reference_json(decision: Decision) -> str:
    return json.dumps(
        reference_dict(decision),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )


def _same_as_reference(decision: Decision) -> None:
    data = decision.to_dict()
    assert data == reference_dict(decision)
    assert list(data) == list(reference_dict(decision))  # the schema's key order
    assert list(data["facts"]) == sorted(decision.facts)
    assert list(data["levels"]) == sorted(decision.levels)
    assert decision.to_json() == reference_json(decision)


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_decision_json_is_the_reference_bytes_on_both_back_ends(
    name: str, backend: str, data: st.DataObject
) -> None:
    engine = _engine(name, backend)
    case = data.draw(kit.cases(engine.policy, as_of=AS_OF, with_events=True))
    try:
        decision = engine.decide(case, as_of=AS_OF)
    except CollectRulesError:
        return
    _same_as_reference(decision)
    assert decision.to_json_bytes() == decision.to_json().encode("utf-8")
    # the fast path against the general one, the parts written apart or not yet
    assert decision.to_json() == canonical_json(decision.to_dict())
    fresh = engine.decide(case, as_of=AS_OF)
    assert fresh.to_json_bytes() == canonical_json(fresh.to_dict()).encode("utf-8")
    assert Decision.from_dict(decision.to_dict(), engine=decision.engine) == decision
    back = Decision.from_json(decision.to_json(), engine=decision.engine)
    assert back == decision
    assert back.to_json() == decision.to_json()


@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_back_ends_write_the_same_bytes(name: str, data: st.DataObject) -> None:
    durable, python = _engine(name, "durable"), _engine(name, "python")
    case = data.draw(kit.cases(durable.policy, as_of=AS_OF, with_events=True))
    try:
        first = durable.decide(case, as_of=AS_OF)
    except CollectRulesError as exc:
        with pytest.raises(type(exc)):
            python.decide(case, as_of=AS_OF)
        return
    second = python.decide(case, as_of=AS_OF)
    assert first.to_json() == second.to_json() == reference_json(second)
    assert first.to_dict() == second.to_dict()


@functools.cache
def _decision() -> Decision:
    return Engine("default", backend="python").decide(make_case(), as_of=AS_OF)


@attrs.frozen
class _Odd:
    a: Any
    b: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Data:
    a: int


class _Tuple(tuple[Any, ...]):
    pass


class _Text(str):
    pass


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(
        [
            Remedy.LITIGATE,
            Quadrant.Q3,
            decimal.Decimal("1.5"),
            dt.date(2026, 1, 2),
            pendulum.datetime(2026, 1, 2, tz="UTC"),
            _Data(1),
            _Text("t"),
            PolicyRef("p", "1", "h"),
            1e-05,
            -3.5e-09,
            float("nan"),
        ]
    ),
)
_odd_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.lists(inner, max_size=3).map(_Tuple),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(0, 3)), inner, max_size=3),
        st.builds(_Odd, inner, st.lists(inner, max_size=2).map(tuple)),
        st.frozensets(st.text(max_size=3), max_size=2),
    ),
    max_leaves=6,
)


def _outcome(write: Any) -> tuple[str, Any]:
    """What writing with ``json.dumps`` gives: its text, or that it refused (as the
    decision's writer refuses: one problem, with a path)."""
    try:
        return ("text", write())
    except (TypeError, ValueError, RecursionError):
        return ("refused", [True])


def _decision_outcome(write: Any) -> tuple[str, Any]:
    """What the decision's writer gives: its text, or that it refused, only ever with
    an :class:`UnwritableError`, its problems' paths given or not (any other error
    fails the test)."""
    try:
        return ("text", write())
    except UnwritableError as exc:
        return ("refused", [bool(p.path) for p in exc.problems])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=_odd_values,
    part=st.sampled_from(["firing", "level", "grant", "block", "policy", "facts"]),
    field=st.integers(0, 20),
)
def test_values_of_any_type_anywhere_give_the_reference_data_and_bytes(
    value: Any, part: str, field: int
) -> None:
    decision = _decision()
    if part == "facts":
        odd = attrs.evolve(decision, facts={**decision.facts, "odd": value})
    elif part == "policy":
        name = ("id", "version", "content_hash")[field % 3]
        odd = attrs.evolve(decision, policy=attrs.evolve(decision.policy, **{name: value}))
    elif part == "level":
        names = [f.name for f in attrs.fields(LevelResult)]
        level = attrs.evolve(decision.willingness, **{names[field % len(names)]: value})
        odd = attrs.evolve(decision, levels={**decision.levels, "willingness": level})
    elif part == "firing":
        names = [f.name for f in attrs.fields(Firing)]
        firing = attrs.evolve(decision.trace[0], **{names[field % len(names)]: value})
        odd = attrs.evolve(decision, trace=(firing, *decision.trace[1:]))
    else:
        cls, items = (
            (RemedyGrant, decision.allowed) if part == "grant" else (RemedyBlock, decision.blocked)
        )
        names = [f.name for f in attrs.fields(cls) if f.name != "remedy"]
        item = attrs.evolve(items[0], **{names[field % len(names)]: value})
        changes: dict[str, Any] = {"allowed" if part == "grant" else "blocked": (item,)}
        odd = attrs.evolve(decision, **changes)
    assert odd.to_dict() == reference_dict(odd)
    got = _decision_outcome(odd.to_json)
    assert got == _outcome(lambda: reference_json(odd))
    if got[0] == "text":
        assert _decision_outcome(odd.to_json_bytes) == _outcome(
            lambda: odd.to_json().encode("utf-8")
        )


def _has_non_finite(value: Any) -> bool:
    """Whether ``value`` holds NaN or an infinity (see the test below)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if attrs.has(type(value)):
        return any(_has_non_finite(v) for v in attrs.astuple(value, recurse=False))
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple | frozenset):
        return any(_has_non_finite(v) for v in value)
    return False


def test_the_record_of_a_class_whose_field_names_are_not_identifiers() -> None:
    cls = attrs.make_class("Odd", {"a-b": attrs.field(alias="a"), "c": attrs.field()}, frozen=True)
    value = cls(a=(PolicyRef("p", "1", "h"),), c={"k": [1]})
    assert (
        _record(value)
        == attrs.asdict(value)
        == {
            "a-b": ({"id": "p", "version": "1", "content_hash": "h"},),
            "c": {"k": [1]},
        }
    )


def test_to_dict_gives_fresh_containers() -> None:
    decision = _decision()
    level = attrs.evolve(decision.willingness, in_force={"W-1": "2026-01-01T00:00:00+00:00"})
    decision = attrs.evolve(decision, levels={**decision.levels, "willingness": level})
    data = decision.to_dict()
    data["levels"]["willingness"]["in_force"]["W-2"] = "x"
    data["facts"]["dpd"] = -1
    data["trace"][0]["rule_id"] = "changed"
    assert decision.to_dict() == reference_dict(decision)


@pytest.mark.parametrize(
    "value",
    [
        pendulum.datetime(2026, 1, 2, tz="UTC"),
        dt.date(2026, 1, 2),
        _Data(1),
        decimal.Decimal("1"),
        {1: "a", "b": 2},
        {("t",): 1},
    ],
)
def test_values_json_dumps_refuses_are_refused_alike(value: Any) -> None:
    data = {"facts": {"odd": value}}
    with pytest.raises(TypeError) as expected:
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(TypeError) as got:
        canonical_json(data)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "data",
    [
        {"b": "二", "a": "一", "c": {"z": [1, '\n\t"\\', "\u2028", "\x7f"], "y": None}},
        {"é": 1, "e": 2, "中": 3, "\U0001f600": 4, "Z": 5},
        {"n": [0.1, -0.0, 1e16, 1.5e300, 123456.789, 0.0001, 2**63, -(2**63)]},
    ],
)
def test_canonical_json_is_the_json_dumps_bytes(data: dict[str, Any]) -> None:
    assert canonical_json(data) == json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


# Text of every kind: ASCII, escapes, non-ASCII, astral characters and lone surrogates.
_texts = st.one_of(
    st.text(max_size=6),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.sampled_from(
        ["", "第一类", '"\\\n\t', "\u2028\x7f", "\U0001f600", "\ud800", "a\udfffb", "1e-05"]
    ),
)
# Numbers of every kind: floats orjson writes unlike json.dumps, NaN, integers past 64 bits.
_numbers = st.one_of(
    st.floats(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([1e-05, -2.5e-05, 1.5e-07, 1e-4, 0.0, -0.0, 1e16, 5e-324, float("inf")]),
)
_any_value = st.one_of(
    _texts,
    _numbers,
    st.none(),
    st.booleans(),
    st.lists(st.one_of(_texts, _numbers), max_size=3).map(tuple),
    st.dictionaries(_texts, st.one_of(_texts, _numbers), max_size=2),
)


def _field(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: mostly of its declared kind, sometimes anything."""
    return st.one_of(value, value, value, _any_value)


_cites = _field(st.lists(_texts, max_size=3).map(tuple))
_parts = st.one_of(
    st.builds(Firing, _field(_texts), _field(_texts), _field(_texts), _field(_texts), _cites),
    st.builds(Firing, _texts, _texts, _texts, _texts, _cites, origin=_field(_texts)),
    st.builds(PolicyRef, _field(_texts), _field(_texts), _field(_texts)),
    st.builds(
        RemedyGrant,
        st.one_of(st.sampled_from(list(Remedy)), st.sampled_from(["own_remedy", "x"])),
        _field(_texts),
        _field(_texts),
        _cites,
        conditions=_cites,
        required=_field(st.booleans()),
        label_en=_field(_texts),
        label_zh=_field(_texts),
    ),
    st.builds(
        RemedyBlock,
        st.one_of(st.sampled_from(list(Remedy)), st.sampled_from(["own_remedy"])),
        _field(_texts),
        _field(_texts),
        _cites,
        rules=_cites,
        label_en=_field(_texts),
    ),
    st.builds(
        LevelResult,
        layer=_field(_texts),
        value=_field(_texts),
        rules=_cites,
        signals=_cites,
        score=_field(st.one_of(st.none(), _numbers)),
        defaulted=_field(st.booleans()),
        label_en=_field(_texts),
        presumed=_field(st.booleans()),
        in_force=_field(st.dictionaries(_texts, _texts, max_size=3)),
    ),
)


def _plain_data(part: Any) -> dict[str, Any]:
    """The part as the decision writes it (a grant or block with its labels)."""
    if isinstance(part, RemedyGrant | RemedyBlock):
        return _remedy(part)
    data: dict[str, Any] = attrs.asdict(part)
    return data


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(part=_parts)
def test_a_part_written_apart_is_exactly_its_canonical_json(part: Any) -> None:
    """A part's kept JSON is the bytes ``canonical_json`` gives for its plain data,
    whatever its values; a part orjson would write otherwise is not written apart,
    and a decision holding it gives the reference bytes, or raises what they raise."""
    record = (
        decision_module._remedy_record if isinstance(part, RemedyGrant | RemedyBlock) else _record
    )
    written = decision_module._written(part, record)
    assert part._written is written  # kept with the part
    assert decision_module._written(part, record) is written  # and not written again
    reference = _outcome(
        lambda: json.dumps(
            _plain_data(part),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
    )
    if written:
        assert reference == ("text", written.decode("utf-8"))
        assert canonical_json(_plain_data(part)).encode("utf-8") == written
    decision = _decision()
    if isinstance(part, Firing):
        odd = attrs.evolve(decision, trace=(*decision.trace, part, part))
    elif isinstance(part, RemedyGrant):
        odd = attrs.evolve(decision, allowed=(part, *decision.allowed))
    elif isinstance(part, RemedyBlock):
        odd = attrs.evolve(decision, blocked=(*decision.blocked, part))
    elif isinstance(part, PolicyRef):
        odd = attrs.evolve(decision, policy=part)
    else:
        odd = attrs.evolve(decision, levels={**decision.levels, "extra": part})
    got = _decision_outcome(odd.to_json)
    assert got == _outcome(lambda: reference_json(odd))
    if got[0] == "text":
        assert _decision_outcome(odd.to_json_bytes) == _outcome(
            lambda: odd.to_json().encode("utf-8")
        )


def test_lone_surrogates_give_the_same_text_and_error_as_before() -> None:
    """Text UTF-8 cannot hold is never written apart: ``to_json`` gives ``json.dumps``'
    text, and ``to_json_bytes`` an :class:`UnwritableError` naming where it is."""
    decision = _decision()
    firing = attrs.evolve(decision.trace[0], reason="a\ud800b")
    for _ in range(2):  # the second time too: nothing wrong is kept
        odd = attrs.evolve(decision, trace=(firing, *decision.trace))
        assert odd.to_json() == reference_json(odd)
        assert firing._written == b""
        with pytest.raises(UnwritableError, match=r"trace\[0\]\.reason: text UTF-8"):
            odd.to_json_bytes()


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("facts", object(), r"facts\.odd: a value of type object"),
        ("facts", decimal.Decimal("1.5"), r"facts\.odd: a value of type Decimal"),
        ("facts", float("nan"), r"facts\.odd: nan; JSON has no form"),
        ("facts", float("-inf"), r"facts\.odd: -inf; JSON has no form"),
        ("facts", [1, {"k": float("inf")}], r"facts\.odd\[1\]\.k: inf"),
        ("facts", 10**5000, r"facts\.odd: an integer of more than 4,300 digits"),
        ("facts", {1: "a", "b": 2}, r"facts\.odd: a key that is not text: 1"),
        ("amounts", dt.date(2026, 1, 2), r"amounts\.odd: a value of type date"),
        ("extra", pendulum.datetime(2026, 1, 2), r"^odd: a value of type DateTime"),
        ("extra", {"a": [0.5, float("nan")]}, r"odd\.a\[1\]: nan"),
    ],
    ids=[
        "object",
        "decimal",
        "nan",
        "-inf",
        "nested-inf",
        "long-int",
        "int-key",
        "date",
        "extra-datetime",
        "extra-nan",
    ],
)
def test_a_value_json_cannot_hold_is_an_unwritable_error_naming_its_path(
    where: str, value: Any, message: str
) -> None:
    """Written by orjson or by ``json.dumps``, by ``to_json`` or ``to_json_bytes``, a
    value JSON has no form for is one error, a :class:`CollectRulesError` (and still a
    ``TypeError`` and a ``ValueError``), whose problem names the value's path."""
    decision = _decision()
    if where == "extra":
        writers = [functools.partial(decision.to_json_bytes, extra={"odd": value})]
    else:
        odd = attrs.evolve(decision, **{where: {**getattr(decision, where), "odd": value}})
        writers = [odd.to_json, odd.to_json_bytes, functools.partial(odd.to_json, indent=2)]
    for write in writers:
        with pytest.raises(UnwritableError, match=message) as raised:
            write()
        assert isinstance(raised.value, CollectRulesError | TypeError | ValueError)


def test_a_value_that_holds_itself_is_named_not_a_recursion_error() -> None:
    decision = _decision()
    loop: list[Any] = []
    loop.append(loop)
    odd = attrs.evolve(decision, facts={**decision.facts, "loop": loop})
    for write in (odd.to_json, odd.to_json_bytes):
        with pytest.raises(UnwritableError, match=r"facts\.loop\[0\]: a container that holds"):
            write()
    # Nested past what json.dumps can write (its depth depends on the Python version):
    # named by its depth; anything it can write is written as it writes it.
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    odd = attrs.evolve(decision, facts={**decision.facts, "deep": deep})
    try:
        expected: str | None = reference_json(odd)
    except RecursionError:
        expected = None
    if expected is None:
        with pytest.raises(UnwritableError, match=r"facts\.deep(\[0\])+: nested more than 200"):
            odd.to_json()
    else:
        assert odd.to_json() == expected


def test_an_error_that_is_not_a_values_fault_is_not_renamed() -> None:
    """A fault of the decision itself (not a value inside it) is not dressed up as the
    caller's bad value: a trace entry that is not one at all is refused when the
    decision is built, as an InputError naming it, never as an UnwritableError."""
    decision = _decision()
    with pytest.raises(InputError) as raised:
        attrs.evolve(decision, trace=(object(),))  # not a trace entry at all
    assert not isinstance(raised.value, UnwritableError)
    assert [p.path for p in raised.value.problems] == ["trace[0]"]


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_decisions_share_their_parts_and_each_is_written_once(backend: str) -> None:
    """Two decisions that match alike hold the very same trace entries, grants, blocks
    and levels (the engine's per-policy memory of match sets, on both back ends), so the
    JSON written for the first is kept with the part and put into the second."""
    engine = Engine("default", backend=backend)  # type: ignore[arg-type]
    first = engine.decide(make_case(), as_of=AS_OF)
    second = engine.decide(make_case(), as_of=AS_OF)
    assert first is not second
    shared = [
        (a, b)
        for a, b in zip(first.trace, second.trace, strict=True)
        if not a.rule_id.startswith("evidence.")
    ]
    assert shared
    assert all(a is b for a, b in shared)
    assert all(a is b for a, b in zip(first.allowed, second.allowed, strict=True))
    assert all(a is b for a, b in zip(first.blocked, second.blocked, strict=True))
    plain_levels = [name for name, level in first.levels.items() if not level.in_force]
    assert plain_levels
    assert all(first.levels[n] is second.levels[n] for n in plain_levels)
    text = first.to_json()
    for part in (*first.allowed, *first.blocked, *first.trace, first.policy):
        assert part._written  # each written apart, and kept
    assert second.to_json() == text == reference_json(second)


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_a_shared_levels_empty_in_force_cannot_be_changed(backend: str) -> None:
    """A level shared by many decisions names no sign in force with one empty mapping:
    writing to it is refused (it would change every decision that shares it), and
    another decision stays as it was. Copied or unpickled, it is a plain empty dict."""
    engine = Engine("default", backend=backend)  # type: ignore[arg-type]
    first = engine.decide(make_case(), as_of=AS_OF)
    second = engine.decide(make_case(), as_of=AS_OF)
    text = second.to_json()
    shared = [n for n, level in first.levels.items() if level is second.levels[n]]
    assert shared
    for name in shared:
        in_force: Any = first.levels[name].in_force
        assert in_force == {}
        for method, args in (
            ("__setitem__", ("promise_broken", "2026-06-01T00:00:00+08:00")),
            ("__delitem__", ("promise_broken",)),
            ("update", ({"promise_broken": "x"},)),
            ("setdefault", ("promise_broken", "x")),
            ("pop", ("promise_broken",)),
            ("popitem", ()),
            ("clear", ()),
        ):
            with pytest.raises(TypeError, match="read-only"):
                getattr(in_force, method)(*args)
        with pytest.raises(TypeError, match="read-only"):
            in_force |= {"promise_broken": "x"}
        assert in_force == {}
        for copy in (pickle.loads(pickle.dumps(first.levels[name])), copymod.deepcopy(first)):
            level = copy if isinstance(copy, LevelResult) else copy.levels[name]
            assert type(level.in_force) is dict
            assert level.in_force == {}
            level.in_force["promise_broken"] = "x"  # a copy is the caller's own
    assert second.to_json() == text == reference_json(second)


def test_writing_decisions_keeps_nothing_in_the_module() -> None:
    """The JSON of shared parts is kept by the parts: once the writer has met each
    class, writing more decisions grows no dict, list or set of the decision module."""
    engine = Engine("cn_bank_loan", backend="python")
    cases = kit.cases(engine.policy, as_of=AS_OF, with_events=True)

    def sizes() -> dict[str, int]:
        return {
            name: len(value)
            for name, value in vars(decision_module).items()
            if isinstance(value, dict | list | set)
        }

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases)
    def write(case: Any) -> None:
        try:
            decision = engine.decide(case, as_of=AS_OF)
        except CollectRulesError:
            return
        assert decision.to_json() == reference_json(decision)

    write()  # every class met once
    before = sizes()
    write()
    assert sizes() == before


def test_a_part_changed_after_its_json_was_kept_is_written_as_it_now_is() -> None:
    """The kept JSON belongs to one object: an equal-looking part made anew (as
    ``attrs.evolve`` makes one) is written from its own fields."""
    decision = _decision()
    first = decision.to_json()
    changed = attrs.evolve(decision.trace[0], reason="another reason")
    other = attrs.evolve(decision, trace=(changed, *decision.trace[1:]))
    assert other.to_json() == reference_json(other) != first
    assert decision.to_json() == first


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_odd_values, key=st.sampled_from(["input", "zz", "a", "levels_note"]))
def test_json_bytes_with_extra_keys_are_the_reference_bytes(value: Any, key: str) -> None:
    """``to_json_bytes(extra=…)`` writes what ``json.dumps`` writes for the decision's
    data with the extra keys in their sorted places, or raises what it raises."""
    decision = Engine("default", backend="python").decide(make_case(), as_of=AS_OF)

    def reference() -> bytes:
        data = reference_dict(decision)
        data[key] = value
        text = json.dumps(
            data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return text.encode("utf-8")

    got = _decision_outcome(lambda: decision.to_json_bytes(extra={key: value}))
    assert got == _outcome(reference)
    # the decision's own JSON is untouched by it
    assert decision.to_json() == reference_json(decision)


def test_extra_keys_may_not_replace_the_decisions_own() -> None:
    decision = _decision()
    with pytest.raises(InputError, match="case_id"):
        decision.to_json_bytes(extra={"case_id": "other"})
    assert decision.to_json_bytes(extra={}) == decision.to_json().encode("utf-8")
    with pytest.raises(InputError, match="text keys, got int"):
        decision.to_json_bytes(extra={1: "a", "b": 2})  # type: ignore[dict-item]
    with pytest.raises(InputError, match="mapping of text keys, got list"):
        decision.to_json_bytes(extra=[("input", 1)])  # type: ignore[arg-type]


_open_fields = st.sampled_from(
    [
        (Firing("evidence.x", "evidence", "", "why", ("W-SIGNS",)), "outcome"),
        (Firing("R-1", "remedies", "allow remind", "第一类", ("A", "B"), "<default>"), "reason"),
        (Firing("R-1", "layer", "x", "", ()), "cites"),
        (LevelResult("willingness", "unwilling", ("W-1",), ("refused_to_pay",)), "in_force"),
        (LevelResult("ability", "able", (), (), 1.5, True, "able", "有"), "score"),
        (LevelResult("quadrant", "Q1", ("Q-1",), ()), "label_zh"),
        (PolicyRef("p", "1", "h"), "version"),
        (RemedyGrant(Remedy.REMIND, "R-1", "why", ("A",)), "reason"),
        (RemedyBlock("own_remedy", "R-2", "why", ("A",), ("R-2",)), "cites"),
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_open_fields, value=_any_value, first=st.booleans())
def test_a_part_made_from_a_template_is_the_evolved_part_and_writes_its_bytes(
    template: tuple[Any, str], value: Any, first: bool
) -> None:
    """``Template(part, name)(value)`` equals ``attrs.evolve(part, name=value)``, and
    its JSON, written from the template's, is what the evolved part's would be:
    the reference bytes in a decision, or the reference error."""
    part, name = template
    part = attrs.evolve(part)  # a fresh part: nothing written yet
    if first:
        decision_module._written(part, _record)  # written before the template is made
    made = decision_module.Template(part, name)(value)
    evolved = attrs.evolve(part, **{name: value})
    assert repr(made) == repr(evolved)
    if not _has_non_finite(value):  # NaN is not equal to itself
        assert made == evolved
    if made._written:
        assert made._written == decision_module._written(evolved, _record) != b""
        assert made._written == canonical_json(_plain_data(evolved)).encode("utf-8")
    decision = _decision()
    if isinstance(made, Firing):
        odd = attrs.evolve(decision, trace=(*decision.trace, made))
    elif isinstance(made, LevelResult):
        odd = attrs.evolve(decision, levels={**decision.levels, "extra": made})
    elif isinstance(made, PolicyRef):
        odd = attrs.evolve(decision, policy=made)
    elif isinstance(made, RemedyGrant):
        odd = attrs.evolve(decision, allowed=(made,))
    else:
        odd = attrs.evolve(decision, blocked=(made,))
    assert _decision_outcome(odd.to_json) == _outcome(lambda: reference_json(odd))


def test_a_template_names_a_field_of_a_part() -> None:
    firing = Firing("R-1", "layer", "x", "", ())
    with pytest.raises(InputError, match="name: expected a field of Firing, got 'nope'"):
        decision_module.Template(firing, "nope")
    with pytest.raises(InputError, match=r"part: expected a trace entry.*got _Odd"):
        decision_module.Template(_Odd(1), "a")  # type: ignore[type-var]
    assert repr(decision_module.Template(firing, "outcome")).startswith("Template(Firing(")


@attrs.frozen
class _Loop:
    """An attrs object that holds itself, as a policy holds its columnar engine's
    compiled expressions, which hold the policy."""

    inner: list[Any] = attrs.Factory(list)


@attrs.frozen
class _Pair:
    """An attrs object whose two fields hold the same object: ``attrs.asdict`` converts
    a chain of them as a tree, one leaf per path."""

    left: Any
    right: Any


def test_a_part_holding_a_graph_of_objects_is_made_into_a_template_in_bounded_time() -> None:
    """Where a text belongs, an object graph that converts to millions of values (as a
    policy holding its caches does, given as a trace entry's origin) was converted
    whole to write the template's part: 22 shared pairs are four million leaves. It is
    left to the general way, as a value that holds itself is."""
    node: Any = "leaf"
    for _ in range(22):
        node = _Pair(node, node)
    part = Firing(node, "layer", "x", "", ())
    start = time.process_time()
    made = decision_module.Template(part, "outcome")("y")
    assert time.process_time() - start < 1.0
    assert made.outcome == "y"
    assert made.rule_id is node


def test_a_part_holding_a_value_that_holds_itself_is_not_written_apart() -> None:
    """A part whose record would never end (an attrs object holding itself where a
    text belongs) is left to the general way, as any value orjson would not write: the
    template is made, and makes its parts."""
    loop = _Loop()
    loop.inner.append(loop)
    part = Firing(loop, "layer", "x", "", ())  # type: ignore[arg-type]
    assert decision_module._written(part, _record) == b""
    made = decision_module.Template(attrs.evolve(part), "outcome")("y")
    assert made.outcome == "y"
    assert made.rule_id is loop


def test_the_engine_writes_a_cases_own_evidence_and_levels_from_templates() -> None:
    """A case's evidence entries and the levels naming signs in force are written from
    the engine's templates: kept before the decision is first written, and right."""
    engine = Engine("default", backend="python")
    decisions = [engine.decide(case, as_of=AS_OF) for case in generate_cases(engine.policy, 20)]
    decision = next(d for d in decisions if any(level.in_force for level in d.levels.values()))
    evidence = [f for f in decision.trace if f.rule_id.startswith("evidence.")]
    in_force = [level for level in decision.levels.values() if level.in_force]
    assert evidence
    assert in_force
    for part in (*evidence, *in_force):
        assert part._written == canonical_json(_plain_data(part)).encode("utf-8")
    assert decision.to_json() == reference_json(decision)


# Extra keys around each of the decision's own in sorted order: before all of them,
# between two, after all, one a prefix of another ("as" < "as!" < "as_of"), non-ASCII.
_EXTRA_KEYS = st.one_of(
    st.sampled_from(["0", "a", "as", "as!", "amount", "input", "levels_note", "zz", "é", "ü1"]),
    st.text(min_size=1, max_size=6).filter(lambda key: key not in decision_module._TOP_KEYS),
)
_PLAIN_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # past 64 bits too: orjson refuses them, json.dumps does not
        st.floats(allow_nan=False, allow_infinity=False),  # below 1e-4 too
        st.text(max_size=5),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _plain_bytes(decision: Decision, extra: dict[str, Any]) -> bytes:
    """The plain way: ``json.dumps`` over ``to_dict()`` and ``extra``, keys sorted."""
    data = decision.to_dict()
    data.update(extra)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("name", SHIPPED)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), extra=st.dictionaries(_EXTRA_KEYS, _PLAIN_VALUES, max_size=3))
def test_json_joined_from_its_parts_is_the_plain_bytes(
    name: str, backend: str, data: st.DataObject, extra: dict[str, Any]
) -> None:
    """A decision's JSON joined from its parts' bytes (``Decision._joined``: no orjson
    pass over the whole) is the bytes of ``json.dumps`` over ``to_dict()``, with extra
    keys or without, on generated cases of every shipped policy on both back ends."""
    engine = _engine(name, backend)
    case = data.draw(kit.cases(engine.policy, as_of=AS_OF, with_events=True))
    try:
        decision = engine.decide(case, as_of=AS_OF)
    except CollectRulesError:
        return
    facts = decision_module._facts_bytes(decision.facts)
    if facts is None:  # a fact orjson may write unlike json.dumps: not joined
        assert decision.to_json_bytes(extra=extra) == _plain_bytes(decision, extra)
        return
    for given_extra in ({}, extra):
        plain = _plain_bytes(decision, given_extra)
        try:
            joined = decision._joined(decision.levels, decision.quadrant, facts, given_extra)
        except TypeError:  # an integer past 64 bits: the one-pass way takes it
            joined = None
        assert joined is None or joined == plain
        assert decision.to_json_bytes(extra=given_extra) == plain
    assert decision._joined(decision.levels, decision.quadrant, facts, None) is not None
    assert decision.to_json().encode("utf-8") == _plain_bytes(decision, {})


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_the_benchmark_portfolios_json_is_joined_from_its_parts(backend: str) -> None:
    """Every decision of the benchmark's portfolio takes the joined way, with and
    without a batch's ``input`` key, and gives the plain bytes."""
    engine = _engine("default", backend)
    extra = {"input": {"line": 7, "source": "cases.jsonl"}}
    for case in generate_cases(engine.policy, 200):
        decision = engine.decide(case, as_of=AS_OF)
        facts = decision_module._facts_bytes(decision.facts)
        assert facts is not None
        for given_extra in (None, extra):
            joined = decision._joined(decision.levels, decision.quadrant, facts, given_extra)
            assert joined == _plain_bytes(decision, given_extra or {})
