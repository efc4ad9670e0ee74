"""Golden cases that could pass whatever their decision are refused, and a fact's flag
is only ever matched by a flag."""

from __future__ import annotations

import pytest
from tests.test_plugin import golden, run

from collectrules.testing._golden_checks import same_fact

pytest_plugins = ["pytester"]

KIND = "refused_to_pay"  # a case decided Q3: dpd 3, emergency_open false


@pytest.mark.parametrize(
    "expect",
    [
        "allows = []",
        "blocks = []",
        "allows = []\nblocks = []",
        "facts = {}",
        "steps = {}",
        "fired = {}",
        "obligations = {}",
        "contacts = []",
        "facts = {}\nsteps = {}",
    ],
)
def test_a_case_whose_expectations_are_all_empty_fails_collection(
    pytester: pytest.Pytester, expect: str
) -> None:
    pytester.makefile(".toml", golden_empty=golden(("a", expect, KIND)))
    result = run(pytester)
    result.stdout.fnmatch_lines(["*case 'a': expects nothing*an empty list or table expects*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_an_empty_list_beside_a_real_expectation_still_runs(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", golden_mixed=golden(("a", 'quadrant = "Q3"\nallows = []', KIND)))
    run(pytester).assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("facts", "passes"),
    [
        ("{ emergency_open = 0 }", False),
        ("{ emergency_open = false }", True),
        ("{ emergency_open = 1 }", False),
        ("{ dpd = 3 }", True),
        ("{ dpd = true }", False),
        ("{ dpd = 3.0 }", True),
        ("{ dpd = 4 }", False),
    ],
)
def test_a_flag_fact_is_matched_only_by_a_flag(
    pytester: pytest.Pytester, facts: str, passes: bool
) -> None:
    pytester.makefile(".toml", golden_facts=golden(("a", f"facts = {facts}", KIND)))
    result = run(pytester)
    if passes:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*fact *: expected *, got *"])


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        (False, 0, False),
        (True, 1, False),
        (0, False, False),
        (True, True, True),
        (3, 3.0, True),
        (0.5, 0.5, True),
        ("Q3", "Q3", True),
        ("3", 3, False),
    ],
)
def test_same_fact(actual: object, expected: object, same: bool) -> None:
    assert same_fact(actual, expected) is same


def test_a_misspelt_step_status_fails_collection_with_a_suggestion(
    pytester: pytest.Pytester,
) -> None:
    expect = 'steps = { "L-DUE" = { status = "brached" } }'
    pytester.makefile(".toml", golden_status=golden(("a", expect, KIND)))
    result = run(pytester)
    line = "*steps.L-DUE.status: expected one of upcoming, open, *got 'brached'*(did you mean*"
    result.stdout.fnmatch_lines([line])
    assert result.ret == pytest.ExitCode.INTERRUPTED
