"""The testing kit: strategies, assert_decision and the invariant checks."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, Phase, given, settings

import collectrules.testing as kit
from collectrules import (
    Case,
    Engine,
    EngineError,
    Event,
    InputError,
    Policy,
    Quadrant,
    Remedy,
    Signal,
    available_policies,
    load_policy,
)
from collectrules.model.remedies import COERCIVE_REMEDIES
from collectrules.policy.derive import CURE_SIGNALS
from collectrules.testing import (
    DEFAULT_AS_OF,
    TIMEZONES,
    DecisionMismatch,
    InvariantViolation,
    as_ofs,
    assert_decision,
    boundary_values,
    cases,
    check_complete,
    check_monotonic,
    dated_cases,
    events,
    signals,
)
from collectrules.testing._policies import engine_for, resolve_policy

ROOT = Path(__file__).parent.parent
BROKEN = Path(__file__).parent / "policies" / "testing"
EXAMPLE = ROOT / "examples" / "custom_policy" / "policy.toml"
AS_OF = "2026-04-03T12:00:00+08:00"
SEEN = "2026-04-02T10:30:00+08:00"
FAST = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def case_data(*signals: tuple[str, float | None], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_id": "K-1",
        "product": "loan",
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": "5000",
        "due_date": "2026-03-31",
        "timezone": "Asia/Shanghai",
        "signals": [
            {"kind": k, "observed_at": SEEN, **({} if v is None else {"value": v})}
            for k, v in signals
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def example_policy() -> Policy:
    return load_policy(EXAMPLE)


def window(policy: Policy, as_of: dt.datetime) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    when = pendulum.instance(as_of)
    return when.subtract(days=int(policy.param("lookback_days"))), when


# --------------------------------------------------------------------------- the module


def test_all_is_sorted_and_complete() -> None:
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def key(name: str) -> tuple[int, str]:
        rank = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
        return rank, name

    assert kit.__all__ == sorted(kit.__all__, key=key)
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name
    public = {
        n
        for n in dir(kit)
        if not n.startswith("_")
        and n != "annotations"
        and not isinstance(getattr(kit, n), type(kit))
        and n not in ("importlib", "Any", "TYPE_CHECKING")
    }
    assert public == set(kit.__all__)
    assert kit.cases.__module__ == "collectrules.testing.strategies"
    with pytest.raises(AttributeError):
        _ = kit.no_such_name  # type: ignore[attr-defined]


def test_importing_the_kit_does_not_import_hypothesis() -> None:
    # The pytest plugin lives in this package and loads in every pytest run, so the
    # package itself must not need hypothesis.
    code = (
        "import sys, collectrules.testing, collectrules.testing.plugin; "
        "assert 'hypothesis' not in sys.modules, 'hypothesis imported'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# --------------------------------------------------------------------------- strategies


def test_boundary_values_of_the_default_policy(default_policy: Policy) -> None:
    bounds = boundary_values(default_policy)
    assert bounds["promise_broken"] == (0, 1, 2)
    assert bounds["recovery_months"] == tuple(
        Decimal(v) for v in ("23", "23.99", "24", "24.01", "25")
    )
    assert bounds["cash_coverage"] == tuple(
        Decimal(v) for v in ("0.0", "0.99", "1.0", "1.01", "2.0")
    )
    # The presumption line (90), and the escalation points of the evidence model, which
    # the timeline's phase gives at DEFAULT_AS_OF (3 April 2026): each plan's last day of
    # P2 and first of P3 with a day either side. Loans: L-2W, 14 days; cards: C-PLAN, 30
    # days; receivables: AR-4, a calendar month after 4 March (31 days); property fees:
    # PF-4, six calendar months (182 days). And 0 and 1: the legal deadlines' rules read
    # whether anything is past due (dpd > 0).
    assert bounds["dpd"] == (
        *(0, 1),
        *(13, 14, 15, 16),
        *(29, 30, 31, 32, 33),
        *(89, 90, 91),
        *(181, 182, 183, 184),
    )


def test_boundary_values_follow_parameters(example_policy: Policy) -> None:
    bounds = boundary_values(example_policy)
    assert {89, 90, 91} <= set(bounds["dpd"])  # extension_max_dpd, with the default's own
    assert bounds["recovery_months"] == tuple(
        Decimal(v) for v in ("11", "11.99", "12", "12.01", "13")
    )


@FAST
@given(case=cases())
def test_generated_cases_are_valid_and_decidable(case: Case, default_policy: Policy) -> None:
    start, end = window(default_policy, DEFAULT_AS_OF)
    assert case.timezone in TIMEZONES
    assert case.overdue_amount > 0
    for signal in case.signals:
        assert signal.kind in default_policy.signals
        assert start < signal.observed_at <= end
        assert signal.observed_at.tzinfo is not None
        assert (signal.value is not None) == default_policy.signals[signal.kind].measured
    kinds = tuple(default_policy.signals)
    assert Case.from_dict(case.to_dict(), signal_kinds=kinds) == case
    decision = engine_for(default_policy).decide(case, as_of=DEFAULT_AS_OF)
    assert decision.quadrant in set(Quadrant)


@pytest.mark.parametrize("name", available_policies())
def test_generated_cases_are_decidable_under_every_shipped_policy(name: str) -> None:
    # ifrs9's materiality pack refuses a case in a currency it has no threshold for:
    # the kit drew CNY, USD … cases, and 136 of 150 were refused.
    engine = engine_for(name)

    @settings(max_examples=40, suppress_health_check=list(HealthCheck))
    @given(case=cases(name, with_events=True))
    def decided(case: Case) -> None:
        assert engine.decide(case, as_of=DEFAULT_AS_OF).quadrant in set(Quadrant)

    decided()


@FAST
@given(pair=dated_cases(EXAMPLE))
def test_dated_cases_agree_with_their_instant(
    pair: tuple[Case, pendulum.DateTime], example_policy: Policy
) -> None:
    case, as_of = pair
    assert as_of.tzinfo is not None
    start, end = window(example_policy, as_of)
    # Compared as instants: two datetimes of one zone object compare by their wall
    # clocks, so 02:59:59+11:00 came after 02:00:00+10:00 on the night Sydney's
    # clocks go back, though it is a second before it.
    assert all(start.timestamp() < s.observed_at.timestamp() <= end.timestamp()
               for s in case.signals)  # fmt: skip
    facts = engine_for(example_policy).derive(case, as_of=as_of).facts
    assert facts["dpd"] == (case.local_date(as_of) - case.due_date).days
    counted = {k: facts[k] for k, spec in example_policy.signals.items() if not spec.measured}
    # A negative sign counts while it is in force: a later cure lifts it (docs/evidence.md).
    cures = [s.observed_at.timestamp() for s in case.signals if s.kind in CURE_SIGNALS]
    for kind, count in counted.items():
        spec = example_policy.signals[kind]
        lifts = spec.negative and spec.dimension in ("willingness", "contact")
        assert count == sum(
            1
            for s in case.signals
            if s.kind == kind and not (lifts and any(c > s.observed_at.timestamp() for c in cures))
        )


def test_cases_hit_every_boundary(example_policy: Policy) -> None:
    at = DEFAULT_AS_OF
    dpds: set[int] = set()
    measures: set[Decimal | None] = set()
    counts: set[int] = set()

    @settings(
        max_examples=1500, database=None, deadline=None, derandomize=True, phases=[Phase.generate]
    )
    @given(case=cases(example_policy, kinds=["recovery_months", "promise_broken"]))
    def probe(case: Case) -> None:
        assert {s.kind for s in case.signals} <= {"recovery_months", "promise_broken"}
        dpds.add((case.local_date(at) - case.due_date).days)
        latest = [s for s in case.signals if s.kind == "recovery_months"]
        measures.add(max(latest, key=lambda s: s.observed_at).value if latest else None)
        counts.add(sum(1 for s in case.signals if s.kind == "promise_broken"))

    probe()
    assert {89, 90, 91} <= dpds
    assert {None, *boundary_values(example_policy)["recovery_months"]} <= measures
    assert {0, 1, 2} <= counts


@FAST
@given(
    signal=signals(kinds=["cash_coverage", "promise_broken"], as_of=AS_OF, timezone="Europe/London")
)
def test_signals_respect_kinds_window_and_zone(signal: Signal, default_policy: Policy) -> None:
    start, end = window(default_policy, pendulum.parse(AS_OF))
    assert signal.kind in ("cash_coverage", "promise_broken")
    assert start < signal.observed_at <= end
    # Written in London's local time: its wall clock and offset there (a case keeps
    # each instant at its own fixed offset, so the zone object itself is not kept).
    london = signal.observed_at.in_timezone("Europe/London")
    assert signal.observed_at.isoformat() == london.isoformat()
    assert (signal.value is not None) == (signal.kind == "cash_coverage")


@FAST
@given(event=events(as_of=AS_OF))
def test_events_carry_the_fields_their_kind_requires(event: Event) -> None:
    assert event.at <= pendulum.parse(AS_OF)
    if event.kind == "payment":
        assert event.amount is not None
        assert event.amount > 0
    if event.kind == "contact_attempt":
        assert event.outcome is not None
    if event.kind == "promise_made":
        assert event.promised_date is not None
        assert event.amount is not None


@FAST
@given(when=as_ofs())
def test_as_ofs_are_aware_and_in_known_zones(when: pendulum.DateTime) -> None:
    assert when.utcoffset() is not None
    assert when.timezone_name in TIMEZONES


@FAST
@given(case=cases(with_events=True, max_kinds=2))
def test_cases_with_events(case: Case) -> None:
    assert len({s.kind for s in case.signals}) <= 2
    assert all(e.at <= DEFAULT_AS_OF for e in case.events)


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (lambda: signals(kinds=["promise_brokn"]), "kinds"),
        (lambda: cases(as_of="2026-04-03T12:00:00"), "as_of"),
        (lambda: cases(timezones=["Mars/Olympus"]), "timezones"),
        (lambda: cases(max_kinds=-1), "max_kinds"),
        (lambda: events(kinds=["telepathy"]), "kinds"),
        (lambda: cases(policy="no-such-policy"), ""),
    ],
    ids=["kind", "naive", "zone", "max-kinds", "event-kind", "policy"],
)
def test_strategies_check_their_arguments_eagerly(make: Any, path: str) -> None:
    with pytest.raises(InputError) as info:
        make()
    assert path in info.value.paths


def test_unknown_kind_suggests_the_closest() -> None:
    with pytest.raises(InputError, match="did you mean 'promise_broken'"):
        signals(kinds=["promise_brokn"])


# --------------------------------------------------------------------------- assert_decision


def test_assert_decision_passes_and_returns_the_decision() -> None:
    data = case_data(("documents_provided", None), ("health_issue", None), ("recovery_months", 12))
    decision = assert_decision(
        "default",
        data,
        as_of=AS_OF,
        quadrant="Q2",
        allows=["extend", Remedy.REPLAN],
        blocks="litigate",
    )
    assert decision.quadrant is Quadrant.Q2
    assert decision.engine == "python"


def test_assert_decision_fails_with_a_diff_and_the_trace() -> None:
    data = case_data(("documents_provided", None), ("health_issue", None), ("recovery_months", 36))
    with pytest.raises(DecisionMismatch) as info:
        assert_decision(
            "default",
            data,
            as_of=AS_OF,
            quadrant="Q1",
            allows=["extend", "litigate", "negotiate"],
            blocks=["write_off"],
        )
    error = info.value
    text = str(error)
    assert isinstance(error, AssertionError)
    assert "quadrant: expected Q1 (willing and able), got Q2 (willing and unable)" in text
    assert "extend: expected allowed, got blocked by R-Q2-LONG-NO-EXTEND [Q2-LONG" in text
    assert "litigate: expected allowed, got blocked by R-Q12-NO-SUIT" in text
    assert "write_off: expected blocked, got neither allowed nor blocked" in text
    assert "negotiate" not in "\n".join(error.problems)  # met expectations are not listed
    assert len(error.problems) == 4
    # The trace: rules that fired, with their citations and reasons.
    assert "A-LONG-ESTIMATED (ability): ability = unable  [A-ASSESS, Q2-LONG]" in text
    assert "QUAD-Q2 (quadrant): quadrant = Q2  [Q2]" in text
    assert "recovery_months=36" in text
    assert error.decision.quadrant is Quadrant.Q2


def test_assert_decision_reports_allowed_when_a_block_was_expected() -> None:
    data = case_data(("refused_to_pay", None), ("cash_coverage", 1.5))
    with pytest.raises(
        DecisionMismatch, match="litigate: expected blocked, got allowed by R-Q3-LITIGATE"
    ):
        assert_decision(
            load_policy("default"), Case.from_dict(data), as_of=AS_OF, blocks=["litigate"]
        )


def test_assert_decision_takes_a_policy_path_and_the_durable_back_end() -> None:
    data = case_data(("health_issue", None), ("recovery_months", 18))
    decision = assert_decision(
        EXAMPLE, data, as_of=AS_OF, quadrant="Q2", blocks=["extend"], backend="durable"
    )
    assert decision.engine == "durable"
    assert decision.policy.id == "example-lender"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allows": ["extnd"]}, "unknown remedy 'extnd' (did you mean 'extend'?)"),
        ({"quadrant": "Q5"}, "unknown quadrant 'Q5'"),
        ({"allows": ["extend"], "blocks": ["extend"]}, "both allowed and blocked: extend"),
        ({"backend": "rete"}, "expected 'durable' or 'python'"),
    ],
    ids=["remedy", "quadrant", "both", "backend"],
)
def test_assert_decision_checks_its_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        assert_decision("default", case_data(), as_of=AS_OF, **kwargs)


def test_assert_decision_rejects_naive_as_of_and_bad_cases() -> None:
    with pytest.raises(InputError, match="naive"):
        assert_decision("default", case_data(), as_of="2026-04-03T12:00:00", quadrant="Q1")
    with pytest.raises(InputError, match="unknown signal kind 'promise_brokn'"):
        assert_decision("default", case_data(("promise_brokn", None)), as_of=AS_OF)


def test_engines_and_policies_are_cached(tmp_path: Path) -> None:
    one, two = load_policy("default"), load_policy("default")
    assert one is not two
    assert engine_for(one) is engine_for(two)
    assert engine_for(one) is not engine_for(one, "durable")
    assert resolve_policy("default") is resolve_policy("default")
    copy = tmp_path / "p.toml"
    copy.write_text('extends = "default"\nid = "copy"\n', encoding="utf-8")
    first = resolve_policy(copy)
    assert resolve_policy(copy) is first
    copy.write_text('extends = "default"\nid = "copy-edited"\n', encoding="utf-8")
    assert resolve_policy(copy).id == "copy-edited"  # an edited file is read again


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("policy", ["default", EXAMPLE], ids=["default", "example"])
def test_shipped_and_example_policies_hold_both_invariants(policy: str | Path) -> None:
    check_complete(policy, method="search")
    check_monotonic(policy, method="search")


def test_a_gap_is_found_and_reproduces() -> None:
    with pytest.raises(InvariantViolation) as info:
        check_complete(BROKEN / "incomplete.toml", method="search")
    (found,) = info.value.counterexamples
    assert found.kind == "gap"
    assert "layer 'quadrant'" in found.message
    assert found.facts == {
        "willingness": "willing",
        "ability": "temporarily_unable",
        "presumption": "none",
    }
    assert found.case is not None
    case = Case.from_dict(found.case)
    with pytest.raises(EngineError, match="quadrant"):
        Engine(BROKEN / "incomplete.toml", backend="python").decide(case, as_of=found.as_of)
    assert '"kind": "recovery_months"' in str(info.value)  # the case is in the message


def test_an_overlap_is_found_and_reproduces() -> None:
    with pytest.raises(InvariantViolation) as info:
        check_complete(BROKEN / "overlapping.toml", method="search")
    (found,) = info.value.counterexamples
    assert found.kind == "overlap"
    # The broken QUAD-Q1 reads only willingness: it overlaps the rules for a willing
    # debtor whose ability is impaired (QUAD-Q2) or not yet known.
    assert found.message.endswith(("QUAD-Q1, QUAD-Q2", "QUAD-Q1, QUAD-Q1-ABILITY-UNKNOWN"))
    assert found.case is not None
    engine = Engine(BROKEN / "overlapping.toml", backend="durable")
    with pytest.raises(EngineError, match="several rules matched"):
        engine.decide(Case.from_dict(found.case), as_of=found.as_of)


@pytest.mark.parametrize("name", ["non_monotonic", "non_monotonic_remedies"])
def test_a_monotonicity_violation_is_found_and_reproduces(name: str) -> None:
    path = BROKEN / f"{name}.toml"
    check_complete(path, method="search")  # complete, so only monotonicity fails
    with pytest.raises(InvariantViolation) as info:
        check_monotonic(path, method="search")
    assert info.value.exhaustive
    engine = Engine(path, backend="python")
    for found in info.value.counterexamples:
        assert found.kind == "monotonicity"
        assert found.case is not None
        assert found.worse is not None
        before = engine.decide(Case.from_dict(found.case), as_of=found.as_of)
        after = engine.decide(Case.from_dict(found.worse), as_of=found.as_of)
        lost = (before.allowed_remedies - after.allowed_remedies) & COERCIVE_REMEDIES
        softer = (after.quadrant.willing and not before.quadrant.willing) or (
            after.quadrant.able and not before.quadrant.able
        )
        assert softer or lost, found.message
        # The case after has exactly one more negative signal than the case before, or the
        # same signals with one measured value moved the bad way.
        worse, base = found.worse["signals"], found.case["signals"]
        if len(worse) != len(base) + 1:
            assert [x["kind"] for x in worse] == [x["kind"] for x in base]
            moved = [(a, b) for a, b in zip(base, worse, strict=True) if a != b]
            assert len(moved) == 1
            assert "value" in moved[0][1]


def test_the_broken_promise_policy_softens_the_quadrant() -> None:
    with pytest.raises(
        InvariantViolation,
        match=r"one more 'promise_broken' signal: "
        r"quadrant softens from Q3 to Q1",
    ):
        check_monotonic(BROKEN / "non_monotonic.toml", method="search")


@pytest.mark.parametrize("name", ["incomplete", "overlapping"])
def test_incomplete_policies_can_still_be_monotonic(name: str) -> None:
    check_monotonic(BROKEN / f"{name}.toml", method="search")


def test_measured_directions_are_used() -> None:
    # Told that more cash coverage is worse, the default policy is not monotonic:
    # coverage rising to 1.0 turns an unable debtor able.
    with pytest.raises(InvariantViolation, match="cash_coverage moves from"):
        check_monotonic("default", measured_worse={"cash_coverage": "higher"}, method="search")


def test_a_sampled_search_says_it_is_not_exhaustive() -> None:
    full = check_complete("default", method="search")
    assert full.exhaustive
    assert full.cells > 0
    sampled = check_complete("default", max_cells=4, method="search")
    assert not sampled.exhaustive
    assert sampled.cells < full.cells


def test_every_hit_policy_gap_and_overlap_is_found() -> None:
    path = BROKEN / "hit_policies.toml"
    with pytest.raises(InvariantViolation) as info:
        check_complete(path, method="search")
    found = {c.kind: c for c in info.value.counterexamples}
    assert set(found) == {"gap", "overlap"}
    assert "layer 'stage' (hit policy first)" in found["gap"].message
    assert "Z-SMALL, Z-BIG" in found["overlap"].message
    assert found["overlap"].facts == {"principal": "500"}  # major units, as written
    engine = Engine(path, backend="python")
    for kind, layer in (("gap", "stage"), ("overlap", "size")):
        case = found[kind].case
        assert case is not None
        with pytest.raises(EngineError, match=f"layer '{layer}'"):
            engine.decide(Case.from_dict(case), as_of=found[kind].as_of)
    check_monotonic(path, method="search")


@pytest.mark.parametrize(
    "name", ["hit_policies", "non_monotonic", "non_monotonic_remedies", "incomplete"]
)
def test_folding_a_layer_agrees_with_the_full_product(name: str) -> None:
    # The search folds a layer whose rules each read one group into a summary of the
    # matches; it must find exactly what the plain cell-by-cell product finds.
    from collectrules.testing import _space
    from collectrules.testing.invariants import _Search, _steps

    policy = load_policy(BROKEN / f"{name}.toml")
    steps = _steps(policy, _space.variables(policy), kit.MEASURED_WORSE)
    results = []
    for fold in (True, False):
        search = _Search(policy, steps=steps, final=True, max_cells=10**6, fold=fold)
        search.run()
        group = search.final_group
        assert group is not None
        results.append(
            (
                {(kind, layer.id) for kind, layer, *_ in search.findings},
                group.names,
                set(group.table),
                set(group.pairs),
                search.cells,
            )
        )
    folded, plain = results
    assert folded[:4] == plain[:4]
    assert folded[4] <= plain[4]


@pytest.mark.parametrize(
    ("check", "name", "kind"),
    [
        (check_complete, "incomplete", "gap"),
        (check_complete, "overlapping", "overlap"),
        (check_monotonic, "non_monotonic", "monotonicity"),
    ],
)
def test_the_verifier_agrees(check: Any, name: str, kind: str) -> None:
    with pytest.raises(InvariantViolation) as only_verifier:
        check(BROKEN / f"{name}.toml", method="verifier")
    assert {c.kind for c in only_verifier.value.counterexamples} == {kind}
    assert {c.source for c in only_verifier.value.counterexamples} == {"verify"}
    with pytest.raises(InvariantViolation) as both:
        check(BROKEN / f"{name}.toml")
    # Both searches find it; each finding is reported once, the kit's own first.
    assert both.value.counterexamples[0].source == "testing"
    assert {c.kind for c in both.value.counterexamples} == {kind}


def test_the_verifier_counterexamples_are_json_cases() -> None:
    with pytest.raises(InvariantViolation) as info:
        check_monotonic(BROKEN / "non_monotonic.toml", method="verifier")
    for found in info.value.counterexamples:
        assert found.case is not None
        assert found.worse is not None
        json.dumps(found.case)
        Case.from_dict(found.worse)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"method": "guess"}, "method"),
        ({"max_cells": 0}, "max_cells"),
        ({"as_of": "2026-04-03"}, "as_of"),
    ],
    ids=["method", "max-cells", "as-of"],
)
def test_invariant_checks_check_their_arguments(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as info:
        check_complete("default", **kwargs)
    assert path in info.value.paths
    with pytest.raises(InputError, match="expected 'lower' or 'higher'"):
        check_monotonic("default", measured_worse={"cash_coverage": "down"})  # type: ignore[dict-item]
