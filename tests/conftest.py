"""Shared fixtures: engines are built once per session (one durable host per process).

``--fuzz-long`` raises the fuzz suite (tests/test_fuzz.py) from a few hundred examples,
sized for CI, to thousands.

The verifier's reports of the shipped and broken policies are computed once per test run
(:func:`verified`): several tests read the same report, and under xdist the report one
worker computed is read from a file by the other (tests/verified_reports.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from collectrules import Engine, EngineUnavailableError, Policy, load_policy
from collectrules.engine._durable import unavailable_reason
from verified_reports import VerifiedReports

#: Why durable_rules does not import on this Python (empty when it does). On 3.13 it
#: imports only when built from source with the define in the README; where that build
#: failed, the tests that need it skip with this reason and the python back end runs all.
DURABLE_MISSING = unavailable_reason()

#: No property test has a deadline: what a test asserts is its answer, never its speed
#: (the benchmarks measure speed). Hypothesis' default of 200 ms an example failed a
#: Polars test that took 418 ms once on a loaded machine and 10 ms on the next call.
settings.register_profile("collectrules", deadline=None)
settings.load_profile("collectrules")

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


def _skip_without_durable() -> None:
    pytest.skip(f"durable back end unavailable: {DURABLE_MISSING}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if DURABLE_MISSING and item.get_closest_marker("durable") is not None:
        _skip_without_durable()
    try:
        return (yield)
    except EngineUnavailableError:
        if not DURABLE_MISSING:
            raise
        _skip_without_durable()
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except EngineUnavailableError:
        if not DURABLE_MISSING:
            raise  # durable imports: its failure is a real failure
        _skip_without_durable()
        raise


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "durable: needs the durable back end (skipped, with the reason, without it)"
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


@pytest.fixture(scope="session")
def verified(tmp_path_factory: pytest.TempPathFactory) -> VerifiedReports:
    """The verifier's reports, computed once per test run (see :class:`VerifiedReports`)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return VerifiedReports(None)
    folder = tmp_path_factory.getbasetemp().parent / "verified"
    folder.mkdir(exist_ok=True)
    return VerifiedReports(folder)
