"""Shared fixtures: engines are built once per session (one durable host per process)."""

from __future__ import annotations

import pytest

from collectrules import Engine, Policy, load_policy


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_policy("default")


@pytest.fixture(scope="session")
def durable_engine(default_policy: Policy) -> Engine:
    return Engine(default_policy)


@pytest.fixture(scope="session")
def python_engine(default_policy: Policy) -> Engine:
    return Engine(default_policy, backend="python")
