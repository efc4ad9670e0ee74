"""The engine: the default policy's decisions, both back ends, and durable_rules' pitfalls."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
import tomllib
from importlib import resources
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import (
    Case,
    Engine,
    EngineError,
    EngineLimitError,
    Policy,
    Quadrant,
    Remedy,
    RuleActionError,
    Signal,
)
from collectrules.engine import _durable
from collectrules.policy import load_policy, policy_from_dict
from helpers import AS_OF, make_case
from strategies import AS_OF as H_AS_OF
from strategies import NEGATIVE_WILLINGNESS, cases


def default_data() -> dict[str, Any]:
    text = (resources.files("collectrules") / "policies" / "default.toml").read_text("utf-8")
    return tomllib.loads(text)


# --------------------------------------------------------------------------- examples

EXAMPLES = [
    pytest.param(
        (),
        Quadrant.Q1,
        {Remedy.REMIND},
        {
            Remedy.LITIGATE: "Q12-NO-THREATS",
            Remedy.PRESSURE_GUARANTOR: "Q12-NO-THREATS",
            Remedy.PRESSURE_THIRD_PARTY: "Q12-NO-THREATS",
        },
        id="q1-no-signals",
    ),
    pytest.param(
        (("documents_provided", None), ("health_issue", None), ("recovery_months", 12)),
        Quadrant.Q2,
        {Remedy.EXTEND, Remedy.REPLAN, Remedy.RESTRUCTURE, Remedy.REFINANCE},
        {},
        id="q2-short",
    ),
    pytest.param(
        (("documents_provided", None), ("health_issue", None), ("recovery_months", 36)),
        Quadrant.Q2,
        {Remedy.DISPOSE_ASSETS},
        {Remedy.EXTEND: "Q2-LONG"},
        id="q2-long-36",
    ),
    pytest.param(
        (("documents_provided", None), ("health_issue", None)),
        Quadrant.Q2,
        {Remedy.DISPOSE_ASSETS},
        {Remedy.EXTEND: "Q2-LONG"},
        id="q2-no-recovery",
    ),
    pytest.param(
        (("refused_to_pay", None), ("cash_coverage", 1.5)),
        Quadrant.Q3,
        {Remedy.NEGOTIATE, Remedy.PRESSURE_GUARANTOR, Remedy.LITIGATE},
        {Remedy.EXTEND: None, Remedy.PRESSURE_THIRD_PARTY: "CONDUCT"},
        id="q3",
    ),
    pytest.param(
        (("asset_transfer", None), ("income_loss", None)),
        Quadrant.Q4,
        {Remedy.LITIGATE, Remedy.INVESTIGATE_ASSETS, Remedy.INTERNAL_REVIEW},
        {Remedy.EXTEND: None, Remedy.RESTRUCTURE: None},
        id="q4",
    ),
]


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize(("signals", "quadrant", "allowed", "blocked"), EXAMPLES)
def test_default_policy_examples(
    backend: str,
    signals: tuple[tuple[str, float | None], ...],
    quadrant: Quadrant,
    allowed: set[Remedy],
    blocked: dict[Remedy, str | None],
    default_policy: Policy,
) -> None:
    engine = Engine(default_policy, backend=backend)  # type: ignore[arg-type]
    decision = engine.decide(make_case(*signals), as_of=AS_OF)
    assert decision.facts["dpd"] == 3
    assert decision.quadrant is quadrant
    assert allowed <= decision.allowed_remedies
    assert not (decision.allowed_remedies & decision.blocked_remedies)
    for remedy, cite in blocked.items():
        block = decision.block(remedy)
        assert block is not None, f"{remedy} should be blocked"
        assert block.reason
        if cite is not None:
            assert cite in block.cites


def test_q2_short_extension_carries_its_conditions(durable_engine: Engine) -> None:
    case = make_case(("documents_provided", None), ("health_issue", None), ("recovery_months", 12))
    grant = durable_engine.decide(case, as_of=AS_OF).grant(Remedy.EXTEND)
    assert grant is not None
    assert grant.rule_id == "R-Q2-EXTEND"
    assert "Q2-SHORT" in grant.cites
    assert any("signed extension agreement" in c for c in grant.conditions)
    assert any("security" in c for c in grant.conditions)


def test_q2_long_disposal_is_by_agreement(durable_engine: Engine) -> None:
    case = make_case(("documents_provided", None), ("health_issue", None), ("recovery_months", 36))
    grant = durable_engine.decide(case, as_of=AS_OF).grant(Remedy.DISPOSE_ASSETS)
    assert grant is not None
    assert any("agreement" in c for c in grant.conditions)


def test_q3_litigation_is_the_escalation(durable_engine: Engine) -> None:
    decision = durable_engine.decide(
        make_case(("refused_to_pay", None), ("cash_coverage", 1.5)), as_of=AS_OF
    )
    grant = decision.grant(Remedy.LITIGATE)
    assert grant is not None
    assert any("escalation" in c for c in grant.conditions)


def test_levels_name_their_signals_and_rules(durable_engine: Engine) -> None:
    decision = durable_engine.decide(
        make_case(("refused_to_pay", None), ("cash_coverage", 1.5)), as_of=AS_OF
    )
    assert decision.willingness.value == "unwilling"
    assert decision.willingness.signals == ("refused_to_pay",)
    assert decision.willingness.rules == ("W-REFUSED-TO-PAY",)
    assert decision.willingness.score is None  # W-SIGNS: the first sign decides, no weights
    assert decision.willingness.in_force == {"refused_to_pay": "2026-04-02T10:30:00+08:00"}
    assert decision.ability.value == "able"
    assert decision.ability.rules == ("A-COVERED",)
    assert decision.ability.signals == ("cash_coverage",)
    assert decision.levels["quadrant"].rules == ("QUAD-Q3",)
    assert decision.quadrant.label_zh.startswith("第三类")


def test_trace_is_in_firing_order_with_citations(durable_engine: Engine) -> None:
    decision = durable_engine.decide(
        make_case(("asset_transfer", None), ("income_loss", None)), as_of=AS_OF
    )
    layers = [f.layer for f in decision.trace]
    # assessment, then quadrant, then remedies: the layers chain forward
    assert layers.index("quadrant") > max(i for i, x in enumerate(layers) if x == "ability")
    assert layers.index("remedies") > layers.index("quadrant")
    assert all(f.cites for f in decision.trace)
    ids = [f.rule_id for f in decision.trace]
    assert ids[:4] == [
        "evidence.asset_transfer",
        "presumption.default",
        "W-ASSET-TRANSFER",
        "A-LONG",
    ]
    assert "QUAD-Q4" in ids
    assert "R-Q4-LITIGATE" in ids


def test_decision_records_policy_and_as_of(durable_engine: Engine, default_policy: Policy) -> None:
    decision = durable_engine.decide(make_case(), as_of=AS_OF)
    assert decision.policy.id == "default"
    assert decision.policy.version == default_policy.version
    assert decision.policy.content_hash == default_policy.content_hash
    assert decision.as_of == pendulum.parse(AS_OF)
    data = json.loads(decision.to_json())
    assert data["schema_version"] == "2"
    assert data["quadrant"] == {
        "value": "Q1",
        "label_en": "willing and able",
        "label_zh": Quadrant.Q1.label_zh,
    }


def test_naive_as_of_is_refused(durable_engine: Engine) -> None:
    from collectrules import InputError

    with pytest.raises(InputError, match="naive"):
        durable_engine.decide(make_case(), as_of="2026-04-03T12:00:00")


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_every_case_gets_one_quadrant_and_backends_agree(
    case: Case, durable_engine: Engine, python_engine: Engine
) -> None:
    by_durable = durable_engine.decide(case, as_of=H_AS_OF)
    by_python = python_engine.decide(case, as_of=H_AS_OF)
    assert by_durable.quadrant in set(Quadrant)
    quadrant_firings = [f for f in by_durable.trace if f.layer == "quadrant"]
    assert len(quadrant_firings) == 1
    assert by_durable.to_json() == by_python.to_json()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), kind=st.sampled_from(NEGATIVE_WILLINGNESS))
def test_negative_willingness_never_makes_willing(
    case: Case, kind: str, python_engine: Engine
) -> None:
    before = python_engine.decide(case, as_of=H_AS_OF)
    worse = Case(
        **{**_fields(case), "signals": (*case.signals, Signal(kind=kind, observed_at=H_AS_OF))}
    )
    after = python_engine.decide(worse, as_of=H_AS_OF)
    if not before.quadrant.willing:
        assert not after.quadrant.willing
    # W-SIGNS: any negative sign in force impairs willingness, whatever else is known.
    assert after.willingness.value == "unwilling"


def _layer(data: dict[str, Any], layer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(x for x in data["layers"] if x["id"] == layer_id)
    return found


def _fields(case: Case) -> dict[str, Any]:
    return {a.name: getattr(case, a.name) for a in case.__attrs_attrs__}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_decisions_are_identical_across_fresh_engines(case: Case, default_policy: Policy) -> None:
    first = Engine(default_policy).decide(case, as_of=H_AS_OF).to_json()
    again = Engine(default_policy).decide(case, as_of=H_AS_OF).to_json()
    reloaded = Engine("default").decide(case, as_of=H_AS_OF).to_json()
    assert first == again == reloaded


def test_decision_json_is_byte_identical_in_a_fresh_process(durable_engine: Engine) -> None:
    case = make_case(("documents_provided", None), ("health_issue", None), ("recovery_months", 12))
    here = durable_engine.decide(case, as_of=AS_OF).to_json()
    script = (
        "import sys, json; sys.path.insert(0, 'tests'); from helpers import make_case, AS_OF; "
        "from collectrules import Engine; "
        "c = make_case(('documents_provided', None), ('health_issue', None), "
        "('recovery_months', 12)); "
        "sys.stdout.write(Engine().decide(c, as_of=AS_OF).to_json())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"TZ": "America/Los_Angeles", "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "12345"},
    )
    assert out.stdout == here


# --------------------------------------------------------------------------- isolation


def test_many_policies_live_in_one_process(default_policy: Policy) -> None:
    data = default_data()
    data["id"] = "strict"
    data["parameters"]["recovery_horizon_months"]["value"] = 6
    strict = policy_from_dict(data)
    case = make_case(("documents_provided", None), ("health_issue", None), ("recovery_months", 12))
    assert Engine(default_policy).decide(case, as_of=AS_OF).ability.value == "temporarily_unable"
    assert Engine(strict).decide(case, as_of=AS_OF).ability.value == "unable"
    assert Engine(default_policy).decide(case, as_of=AS_OF).ability.value == "temporarily_unable"


def test_content_hash_tracks_rules_and_parameters(default_policy: Policy) -> None:
    data = default_data()
    assert policy_from_dict(data).content_hash == default_policy.content_hash
    changed = copy.deepcopy(data)
    changed["parameters"]["lookback_days"]["value"] = 90
    assert policy_from_dict(changed).content_hash != default_policy.content_hash
    changed = copy.deepcopy(data)
    _layer(changed, "willingness")["rules"][0]["value"] = "willing"
    assert policy_from_dict(changed).content_hash != default_policy.content_hash


def test_same_policy_reuses_its_ruleset(default_policy: Policy) -> None:
    first = _durable.compile_ruleset(default_policy)
    again = _durable.compile_ruleset(load_policy("default"))
    assert first is again
    # Equal content from another source is another ruleset: rule origins show in traces.
    elsewhere = _durable.compile_ruleset(policy_from_dict(default_data()))
    assert elsewhere is not first


def test_no_session_state_is_left_behind(durable_engine: Engine, default_policy: Policy) -> None:
    for _ in range(3):
        durable_engine.decide(make_case(("refused_to_pay", None)), as_of=AS_OF)
    assert _durable.live_sessions(default_policy) == 0


# --------------------------------------------------------------------------- pitfalls


def test_session_limit_is_never_reached(python_engine: Engine, default_policy: Policy) -> None:
    """DURABLE_RULES.md #2: 1024 live sessions per ruleset; we decide 2,500 in a row."""
    engine = Engine(default_policy)
    case = make_case(("refused_to_pay", None), ("cash_coverage", 1.5))
    for _ in range(2500):
        assert engine.decide(case, as_of=AS_OF).quadrant is Quadrant.Q3
    assert _durable.live_sessions(default_policy) == 0


def test_identical_facts_get_unique_message_ids(durable_engine: Engine) -> None:
    """DURABLE_RULES.md #6: an identical fact would raise MessageObservedException."""
    case = make_case(("refused_to_pay", None))
    first = durable_engine.decide(case, as_of=AS_OF)
    second = durable_engine.decide(case, as_of=AS_OF)
    assert first.to_json() == second.to_json()


def test_errors_inside_actions_surface_with_the_rule() -> None:
    """DURABLE_RULES.md #8: durable swallows action exceptions; we raise them."""
    data = default_data()
    data["id"] = "overlapping"
    # Two quadrant rules that both match a case of which nothing is known, under 'unique'.
    _layer(data, "quadrant")["rules"].append(
        {"id": "QUAD-DUP", "when": "willingness == 'unknown'", "value": "Q1", "cites": ["Q1"]}
    )
    engine = Engine(policy_from_dict(data))
    # The layer's own error, raised inside durable's action, surfaces as it is: the
    # same class and message as on the python back end.
    with pytest.raises(EngineError) as info:
        engine.decide(make_case(), as_of=AS_OF)
    assert not isinstance(info.value, RuleActionError)
    assert "layer 'quadrant'" in str(info.value)
    assert "QUAD-P2-UNKNOWN, QUAD-DUP" in str(info.value)
    # The engine stays usable afterwards, and leaves no state behind.
    with pytest.raises(EngineError):
        engine.decide(make_case(), as_of=AS_OF)
    assert _durable.live_sessions(engine.policy) == 0
    with pytest.raises(EngineError) as on_python:
        Engine(engine.policy, backend="python").decide(make_case(), as_of=AS_OF)
    assert type(on_python.value) is type(info.value)
    assert str(on_python.value) == str(info.value)


@pytest.mark.parametrize(
    ("rules", "limit"),
    [(64, "matches at once"), (70, "matches at once")],
)
def test_engine_limits_are_checked_before_durable(rules: int, limit: str) -> None:
    """DURABLE_RULES.md #3–#4: refused at load with the limit named, never a hang."""
    data = default_data()
    data["id"] = f"wide{rules}"
    _layer(data, "ability")["rules"] = [
        {"id": f"A-{i}", "when": f"dpd >= {i}", "value": "able", "cites": ["A-ASSESS"]}
        for i in range(rules)
    ]
    with pytest.raises(EngineLimitError) as info:
        policy_from_dict(data)
    assert info.value.limit == limit
    assert info.value.maximum == 64
    assert "DURABLE_RULES.md #4" in str(info.value)


def test_63_rules_in_a_stage_run_in_durable() -> None:
    data = default_data()
    data["id"] = "wide63"
    _layer(data, "ability")["rules"] = [
        {"id": f"A-{i}", "when": f"dpd >= {i}", "value": "able", "cites": ["A-ASSESS"]}
        for i in range(63)
    ]
    decision = Engine(policy_from_dict(data)).decide(make_case(), as_of="2026-07-01T00:00:00+08:00")
    assert decision.ability.rules == ("A-0",)


def test_too_many_properties_are_refused() -> None:
    """DURABLE_RULES.md #5: about 253 properties per message."""
    data = default_data()
    data["id"] = "many-signals"
    for i in range(240):
        data["signals"][f"extra_{i}"] = {"dimension": "ability", "polarity": "negative"}
    with pytest.raises(EngineLimitError) as info:
        policy_from_dict(data)
    assert info.value.limit == "properties per fact"


@pytest.mark.durable
def test_first_use_from_many_threads_is_safe() -> None:
    """DURABLE_RULES.md #9: concurrent first use of a new ruleset."""
    data = default_data()
    data["id"] = "threads"
    policy = policy_from_dict(data)
    case = make_case(("refused_to_pay", None), ("cash_coverage", 1.5))
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        try:
            barrier.wait()
            engine = Engine(policy)
            for _ in range(50):
                results.append(engine.decide(case, as_of=AS_OF).quadrant.value)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["Q3"] * 400


def test_import_works_where_durable_does_not() -> None:
    """DURABLE_RULES.md #1: on Python 3.13 `import durable` fails; collectrules still imports."""
    script = (
        "import sys; sys.modules['durable'] = None\n"
        "import collectrules as cr\n"
        "from collectrules import EngineUnavailableError\n"
        "try:\n"
        "    cr.Engine()\n"
        "except EngineUnavailableError as exc:\n"
        "    print('unavailable:', exc)\n"
        "e = cr.Engine(backend='python')\n"
        "print(e.backend)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "unavailable: durable_rules cannot be imported on Python" in out.stdout
    assert "Python 3.11 and 3.12" in out.stdout
    assert out.stdout.strip().endswith("python")


NEGATED = [
    "not (recovery_months <= recovery_horizon_months)",
    "not has_cash_coverage",
    "recovery_months != 12",
    "not recovery_months in (12, 24)",
    "not (31 <= dpd <= 90) and overdue_amount > 1000.5",
    "cash_coverage < 1 or not (cash_coverage >= 0.5 and promise_broken >= 1)",
    "product in ('loan', 'credit_card') and not (currency == 'CNY')",
]


@pytest.fixture(scope="module")
def negation_policy() -> Policy:
    data = default_data()
    data["id"] = "negations"
    data["remedies"]["rules"] += [
        {
            "id": f"R-NEG-{i}",
            "effect": "allow",
            "remedies": ["outsource"],
            "when": text,
            "reason": "test",
            "cites": ["S-SEV"],
        }
        for i, text in enumerate(NEGATED)
    ]
    return policy_from_dict(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_negations_on_absent_fields_agree_across_backends(
    case: Case, negation_policy: Policy
) -> None:
    by_durable = Engine(negation_policy).decide(case, as_of=H_AS_OF)
    by_python = Engine(negation_policy, backend="python").decide(case, as_of=H_AS_OF)
    assert by_durable.to_json() == by_python.to_json()


def test_decide_many_reports_bad_rows_and_decides_the_rest(python_engine: Engine) -> None:
    from helpers import case_dict

    rows: list[Any] = [
        case_dict(("refused_to_pay", None)),
        case_dict(principal="-1"),
        make_case(("asset_transfer", None), ("income_loss", None), case_id="T-3"),
        "not a case",
    ]
    results = list(python_engine.decide_many(rows, as_of=AS_OF))
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.ok for r in results] == [True, False, True, False]
    assert results[0].decision is not None
    assert results[0].decision.quadrant is Quadrant.Q3
    assert results[1].error is not None
    assert "principal: must not be negative" in str(results[1].error)
    assert results[1].case_id == "T-1"
    assert results[3].error is not None
    assert "expected an object" in str(results[3].error)


def test_a_block_lists_every_blocking_rule_and_citation(durable_engine: Engine) -> None:
    decision = durable_engine.decide(make_case(), as_of=AS_OF)
    block = decision.block(Remedy.PRESSURE_THIRD_PARTY)
    assert block is not None
    assert block.rule_id == "R-Q12-NO-THREATS"
    assert block.rules == ("R-Q12-NO-THREATS", "R-CONDUCT-THIRD-PARTY")
    assert block.cites == ("Q12-NO-THREATS", "CONDUCT")
