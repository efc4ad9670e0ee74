"""durable_rules can never hang or diverge: limits counted after expansion, parts that
would break them evaluated on the Python side, numbers durable reads as meant, the
first error raised, and one ruleset per source.

A durable hang holds the GIL and cannot be interrupted, so every policy that once hung
is run in a subprocess with a timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from collectrules import Case, Engine, EngineError, EngineLimitError, Policy, Signal
from collectrules.conditions import parse
from collectrules.conditions.durable_json import shape, to_durable
from collectrules.engine import _durable
from collectrules.policy import load_policy, policy_from_dict
from collectrules.policy._limits import (
    MAX_GROUPS_PER_RULE,
    MAX_MATCHES_AT_ONCE,
    MAX_TOP_LEVEL_RULES,
    durable_plan,
)
from helpers import make_case
from strategies import AS_OF as H_AS_OF
from strategies import cases

LATE = "2026-09-01T12:00:00+08:00"  # dpd 154 for the helpers' case


def _block(rule_id: str, when: str) -> dict[str, Any]:
    return {"id": rule_id, "effect": "block", "remedy": "litigate", "reason": "r", "when": when}


def big_in() -> dict[str, Any]:
    values = ", ".join(str(i) for i in range(520))
    return {
        "extends": "default",
        "id": "big-in",
        "remedies": {"rules": [_block("B-IN", f"dpd in ({values})")]},
    }


def eight_by_seventy() -> dict[str, Any]:
    rules = [
        _block(f"B-{k}", "dpd in (" + ", ".join(str(i + 70 * k) for i in range(70)) + ")")
        for k in range(8)
    ]
    return {"extends": "default", "id": "eight-by-seventy", "remedies": {"rules": rules}}


def sixty_five_ors() -> dict[str, Any]:
    alternatives = " or ".join(f"dpd >= {i}" for i in range(65))
    return {
        "extends": "default",
        "id": "sixty-five-ors",
        "remedies": {"rules": [_block("B-OR", alternatives)]},
    }


def fourteen_groups() -> dict[str, Any]:
    # (a and b) or (c and d) …: 14 'and' groups in one 'or' is error 113 in durable.
    alternatives = " or ".join(f"(dpd >= {i} and guarantors >= 0)" for i in range(14))
    return {
        "extends": "default",
        "id": "fourteen-groups",
        "remedies": {"rules": [_block("B-GROUPS", alternatives)]},
    }


_BUILDERS = {
    "big_in": big_in,
    "eight_by_seventy": eight_by_seventy,
    "sixty_five_ors": sixty_five_ors,
    "fourteen_groups": fourteen_groups,
}

_RUNNER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    import test_durable_safety as t
    from collectrules import Engine
    from collectrules.policy import policy_from_dict
    from helpers import make_case
    policy = policy_from_dict(t._BUILDERS[{name!r}]())
    out = []
    for as_of in ("2026-04-03T12:00:00+08:00", t.LATE, "2027-09-01T12:00:00+08:00"):
        case = make_case(("cash_coverage", 0.5))
        pair = [Engine(policy, backend=b).decide(case, as_of=as_of).to_json() for b in
                ("durable", "python")]
        out.append(pair)
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_policies_that_hung_or_failed_in_durable_now_decide_like_python(name: str) -> None:
    """`dpd in (0, …, 519)` and 8 rules of 70 values hung Engine() for ever; 65 'or'
    alternatives gave error 303 on every case; 14 'and' groups in an 'or' gave error 113
    when the ruleset was created. Each now decides on durable, as python does."""
    code = _RUNNER.format(tests=str(Path(__file__).parent), name=name)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pairs = json.loads(done.stdout)
    for by_durable, by_python in pairs:
        assert by_durable == by_python
    blocked = [json.loads(p[0])["blocked"] for p in pairs]
    assert any(any(b["remedy"] == "litigate" for b in block) for block in blocked)


def test_the_plan_counts_alternatives_after_expansion() -> None:
    plan = durable_plan(policy_from_dict(big_in()))
    # The 520-value list went to the Python side; what durable gets fits the limits.
    assert len(plan.lowered) == 1
    assert plan.alternatives <= MAX_TOP_LEVEL_RULES
    assert all(n <= MAX_MATCHES_AT_ONCE for n in plan.at_once)
    assert "B-IN" in plan.notes[0]
    assert "Python side" in plan.notes[0]
    # The shipped policies run on durable exactly as written.
    for name in ("default", "cn_bank_loan", "us_regf", "uk", "ifrs9", "cn_credit_card"):
        assert durable_plan(load_policy(name)).lowered == {}


def test_shapes_are_measured_on_what_durable_gets() -> None:
    schema_free = frozenset({"cash_coverage"})
    in_list = to_durable(parse("dpd in (1, 2, 3, 3.0)"))
    assert shape(in_list).alternatives == 3  # repeats dropped: 3 and 3.0 are one value
    assert shape(in_list).at_once == 1  # one value can hold at a time
    ors = to_durable(parse("dpd >= 1 or dpd >= 2 or dpd >= 3"))
    assert (shape(ors).alternatives, shape(ors).at_once) == (3, 3)
    negated = to_durable(parse("not (cash_coverage >= 1 and dpd > 3)"), schema_free)
    # not (a and b) = (not a) or (not b); cash_coverage may be absent: one more.
    assert shape(negated).alternatives == 3
    assert shape(negated).at_once == 2
    nested = to_durable(parse(" or ".join(f"(dpd >= {i} and dpd < 99)" for i in range(3))))
    assert shape(nested).groups == 4


def test_groups_are_lowered_below_durable_error_113() -> None:
    plan = durable_plan(policy_from_dict(fourteen_groups()))
    optional = frozenset()
    body = to_durable(plan.conditions["B-GROUPS"], optional, plan.lowered)
    assert shape(body).groups + 1 <= MAX_GROUPS_PER_RULE


def test_too_many_rules_in_a_layer_is_refused_naming_the_rule_count_and_limit() -> None:
    rules = [_block(f"R-{i}", f"dpd >= {i}") for i in range(64)]
    data = {"extends": "default", "id": "crowded", "remedies": {"rules": rules}}
    shipped = len(load_policy("default").remedy_rules)
    with pytest.raises(EngineLimitError) as info:
        policy_from_dict(data)
    text = str(info.value)
    assert info.value.limit == "matches at once"
    assert info.value.value == 64 + shipped + 1
    # The resolver, the shipped remedy rules, then ours: the 64th condition is ours.
    assert f"from rule 'R-{MAX_MATCHES_AT_ONCE - 1 - shipped}' on" in text
    assert f"{64 + shipped + 1} times" in text
    assert f"more than {MAX_MATCHES_AT_ONCE}" in text


def test_check_reports_the_limit_with_the_rule(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from collectrules.cli import app

    lines = ['extends = "default"', 'id = "crowded"']
    for i in range(70):
        lines += [
            "[[remedies.rules]]",
            f'id = "R-{i}"',
            'effect = "block"',
            'remedy = "litigate"',
            'reason = "r"',
            f'when = "dpd >= {i}"',
        ]
    path = tmp_path / "crowded.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    shipped = len(load_policy("default").remedy_rules)
    assert f"'R-{MAX_MATCHES_AT_ONCE - 1 - shipped}'" in result.output
    assert "DURABLE_RULES.md #4" in result.output


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9e-05, "0.00009"),
        (1e-07, "0.0000001"),
        (1e16, "10000000000000000.0"),
        (-1.5e-05, "-0.000015"),
        (0.1, "0.1"),
        (3, "3"),
    ],
)
def test_numbers_are_written_in_plain_digits(value: float, text: str) -> None:
    assert _durable._json({"v": [value]}) == '{"v":[' + text + "]}"
    if abs(value) <= 2**53:
        assert _durable._json({"v": value}, clamp=True) == '{"v":' + text + "}"


def test_facts_past_2_53_are_clamped_beyond_every_constant() -> None:
    posted = json.loads(_durable._json({"a": 2**64, "b": -(10**30), "c": 1e300}, clamp=True))
    assert posted == {"a": 2**53 + 2, "b": -(2**53 + 2), "c": 2**53 + 2}


def test_a_tiny_measured_value_decides_on_both_back_ends() -> None:
    """0.00009 was posted as 9e-05: durable error 204, then error 309 ("could not
    delete state") from the cleanup hid it, while python decided."""
    case = make_case(("cash_coverage", 0.00009))
    policy = load_policy("default")
    by_durable = Engine(policy).decide(case, as_of=LATE)
    by_python = Engine(policy, backend="python").decide(case, as_of=LATE)
    assert by_durable.to_json() == by_python.to_json()


def test_tiny_constants_reach_durable_as_plain_digits() -> None:
    data = {
        "extends": "default",
        "id": "tiny",
        "remedies": {
            "rules": [
                {
                    "id": "R-TINY",
                    "effect": "allow",
                    "remedy": "visit",
                    "reason": "r",
                    "when": "cash_coverage < 0.00001 or cash_coverage > 123456789012.5",
                }
            ]
        },
    }
    policy = policy_from_dict(data)
    for value in (0.000001, 0.00002, 0.5):
        case = make_case(("cash_coverage", value))
        by_durable = Engine(policy).decide(case, as_of=LATE)
        by_python = Engine(policy, backend="python").decide(case, as_of=LATE)
        assert by_durable.to_json() == by_python.to_json()


def test_constants_past_2_53_are_refused_at_load() -> None:
    data = {
        "extends": "default",
        "id": "huge",
        "remedies": {"rules": [_block("R-HUGE", f"dpd > {2**64}")]},
    }
    with pytest.raises(Exception, match="2\\*\\*53") as info:
        policy_from_dict(data)
    assert "R-HUGE" in str(info.value)


def test_the_first_error_is_raised_not_the_cleanup_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(load_policy("default"))
    ruleset = engine._ruleset
    assert ruleset is not None
    durable_ruleset = _durable._HOLDER.get().get_ruleset(ruleset.name)
    core = sys.modules["durable_rules_engine"]

    def broken(fact: dict[str, Any]) -> Any:
        raise core.error("Could not assert fact, error code: 204")

    monkeypatch.setattr(durable_ruleset, "assert_fact", broken)
    with pytest.raises(EngineError) as info:
        engine.decide(make_case(), as_of=LATE)
    text = str(info.value)
    assert "204" in text
    assert "'T-1'" in text
    assert "309" not in text
    assert _durable.live_sessions(engine.policy) == 0


# --------------------------------------------------------------------------- the cache


def test_equal_files_from_two_places_each_get_their_own_trace(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        extends = "default"
        id = "twin"

        [[remedies.rules]]
        id = "R-TWIN"
        effect = "allow"
        remedy = "visit"
        reason = "twin"
        when = "dpd >= 0"
        """
    )
    origins = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "twin.toml"
        path.write_text(text, encoding="utf-8")
        decision = Engine(load_policy(path)).decide(make_case(), as_of=LATE)
        origins.append(next(f.origin for f in decision.trace if f.rule_id == "R-TWIN"))
    assert origins[0].endswith(str(Path("a") / "twin.toml"))
    assert origins[1].endswith(str(Path("b") / "twin.toml"))


# --------------------------------------------------------------------------- differential


def _lowered_policy() -> Policy:
    values = ", ".join(str(i) for i in range(0, 800, 3))
    coverage = " or ".join(f"cash_coverage >= {i / 10}" for i in range(70))
    rules = [
        {
            "id": "R-LOW-IN",
            "effect": "block",
            "remedy": "litigate",
            "reason": "r",
            "when": f"dpd in ({values}) and not (guarantors >= 1)",
        },
        {
            "id": "R-LOW-NOT-IN",
            "effect": "allow",
            "remedy": "visit",
            "reason": "r",
            "when": f"not (dpd in ({values})) or has_cash_coverage",
        },
        {
            "id": "R-LOW-OR",
            "effect": "allow",
            "remedy": "outsource",
            "reason": "r",
            "when": f"not ({coverage})",
        },
    ]
    return policy_from_dict({"extends": "default", "id": "lowered", "remedies": {"rules": rules}})


@pytest.fixture(scope="module")
def lowered_policy() -> Policy:
    policy = _lowered_policy()
    assert durable_plan(policy).lowered  # the test is about lowered parts
    return policy


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_lowered_policies_decide_the_same_on_both_back_ends(
    case: Case, lowered_policy: Policy
) -> None:
    by_durable = Engine(lowered_policy).decide(case, as_of=H_AS_OF)
    by_python = Engine(lowered_policy, backend="python").decide(case, as_of=H_AS_OF)
    assert by_durable.to_json() == by_python.to_json()


def test_measured_values_of_every_magnitude_agree() -> None:
    policy = load_policy("default")
    for text in ("0.00009", "0.0000001", "12345678.125", "99999999999.5", "0"):
        case = make_case()
        case = Case(
            case_id=case.case_id,
            product=case.product,
            currency=case.currency,
            principal=case.principal,
            overdue_amount=case.overdue_amount,
            due_date=case.due_date,
            timezone=case.timezone,
            signals=(
                Signal(
                    kind="cash_coverage", observed_at=H_AS_OF.subtract(days=1), value=Decimal(text)
                ),
            ),
        )
        by_durable = Engine(policy).decide(case, as_of=H_AS_OF)
        by_python = Engine(policy, backend="python").decide(case, as_of=H_AS_OF)
        assert by_durable.to_json() == by_python.to_json(), text
