"""Shared fixtures: engines are built once per session (one durable host per process).

``--fuzz-long`` raises the fuzz suite (tests/test_fuzz.py) from a few hundred examples,
sized for CI, to thousands.
"""

from __future__ import annotations

import pytest

from collectrules import Engine, Policy, load_policy

#: Examples per fuzz test: by default, and with ``--fuzz-long``.
FUZZ_EXAMPLES = 150
FUZZ_LONG_EXAMPLES = 3_000


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help=f"run {FUZZ_LONG_EXAMPLES:,} examples per fuzz test instead of {FUZZ_EXAMPLES}",
    )


@pytest.fixture(scope="session")
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    """How many examples each fuzz test runs."""
    return FUZZ_LONG_EXAMPLES if request.config.getoption("--fuzz-long") else FUZZ_EXAMPLES


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_policy("default")


@pytest.fixture(scope="session")
def durable_engine(default_policy: Policy) -> Engine:
    return Engine(default_policy)


@pytest.fixture(scope="session")
def python_engine(default_policy: Policy) -> Engine:
    return Engine(default_policy, backend="python")
