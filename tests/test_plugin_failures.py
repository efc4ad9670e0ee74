"""A section plug-in's own failure, met while deciding one case, reaches the caller of
every ``Engine`` entry point as a ``CollectRulesError`` (``EngineError``, worded
``internal error: RuntimeError: …`` as ``decide_many`` words a row's failure), on both
back ends; a plug-in's own ``CollectRulesError`` passes through as it is."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pendulum
import pytest

import collectrules.policy.loader as loader_module
from collectrules.cli import main
from collectrules.engine import Engine
from collectrules.errors import (
    CollectRulesError,
    EngineError,
    FieldProblem,
    InputError,
    OutOfMemoryError,
)
from collectrules.model.case import Case
from collectrules.policy import Policy, policy_from_dict
from collectrules.policy.section import BaseSection, Contribution, installed_sections

AS_OF = "2026-04-03T12:00:00+08:00"
ROW = {
    "case_id": "C1",
    "product": "loan",
    "currency": "CNY",
    "due_date": "2026-01-10",
    "principal": "10000",
    "overdue_amount": "2500",
    "timezone": "Asia/Shanghai",
}


def _default_text() -> str:
    return (resources.files("collectrules.policies") / "default.toml").read_text("utf-8")


class _Failing(BaseSection):
    """A third-party section whose ``facts`` or ``contribute`` hook raises ``error``."""

    doc = "a section that fails"

    def __init__(self, hook: str, error: BaseException) -> None:
        self.key = "failing"
        self.hook = hook
        self.error = error

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        return raw, {}

    def facts(
        self, case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if self.hook == "facts":
            raise self.error
        return {}

    def contribute(
        self, case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
    ) -> Contribution:
        if self.hook == "contribute":
            raise self.error
        return super().contribute(case, facts, as_of, policy)


def _policy(section: _Failing) -> Policy:
    data = tomllib.loads(_default_text())
    data["failing"] = {}
    return policy_from_dict(data, sections=[*installed_sections(), section])


#: The rules that fire for ROW under the default policy, which the replays name.
_FIRED = list(Engine().decide(Case.from_dict(ROW), as_of=AS_OF).outline().fired)

_CALLS: dict[str, Callable[[Engine, Case], object]] = {
    "derive": lambda e, c: e.derive(c, as_of=pendulum.parse(AS_OF)),
    "decide": lambda e, c: e.decide(c, as_of=AS_OF),
    "replay": lambda e, c: e.replay(c, as_of=AS_OF, fired=_FIRED),
    "timeline": lambda e, c: e.timeline(c, as_of=AS_OF),
    "urgency": lambda e, c: e.urgency(c, as_of=AS_OF),
    "asset_plan": lambda e, c: e.asset_plan(c, as_of=AS_OF),
    "session": lambda e, c: e.session(c).decide(as_of=AS_OF),
}
# contribute runs when the decision is made: derive and timeline do not reach it.
_CONTRIBUTE_CALLS = ("decide", "replay", "asset_plan", "session")


@pytest.mark.parametrize("backend", ["python", "durable"])
@pytest.mark.parametrize(
    ("hook", "call"),
    [("facts", name) for name in _CALLS] + [("contribute", name) for name in _CONTRIBUTE_CALLS],
)
def test_a_plugins_failure_is_an_engine_error(backend: str, hook: str, call: str) -> None:
    engine = Engine(_policy(_Failing(hook, RuntimeError("the plug-in's own bug"))), backend=backend)
    with pytest.raises(EngineError) as info:
        _CALLS[call](engine, Case.from_dict(ROW))
    assert str(info.value) == "internal error: RuntimeError: the plug-in's own bug"
    assert isinstance(info.value.__cause__, RuntimeError)  # kept for the traceback


@pytest.mark.parametrize("call", sorted(_CALLS))
def test_a_plugins_memory_error_is_out_of_memory(call: str) -> None:
    engine = Engine(_policy(_Failing("facts", MemoryError("no room"))), backend="python")
    with pytest.raises(OutOfMemoryError, match="out of memory"):
        _CALLS[call](engine, Case.from_dict(ROW))


@pytest.mark.parametrize("call", sorted(_CALLS))
def test_a_plugins_own_library_error_passes_through(call: str) -> None:
    own = InputError([FieldProblem("failing.limit", "the plug-in's own check")])
    engine = Engine(_policy(_Failing("facts", own)), backend="python")
    with pytest.raises(CollectRulesError) as info:
        _CALLS[call](engine, Case.from_dict(ROW))
    assert info.value is own


def test_the_same_failure_reads_alike_in_decide_and_decide_many() -> None:
    engine = Engine(_policy(_Failing("facts", RuntimeError("boom"))), backend="python")
    (failure,) = engine.decide_many([ROW], as_of=AS_OF)
    assert failure.error is not None
    with pytest.raises(EngineError) as info:
        engine.decide(Case.from_dict(ROW), as_of=AS_OF)
    assert str(failure.error) == str(info.value)


def test_the_timeline_command_reports_a_plugins_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins = (*installed_sections(), _Failing("facts", RuntimeError("the plug-in's own bug")))
    monkeypatch.setattr(loader_module, "installed_sections", lambda: plugins)
    policy = tmp_path / "policy.toml"
    policy.write_text(_default_text() + "\n[failing]\n", encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(ROW), encoding="utf-8")
    code = main(["timeline", str(case), "--policy", str(policy), "--as-of", AS_OF])
    _, err = capsys.readouterr()
    assert code != 0
    assert "internal error: RuntimeError: the plug-in's own bug" in err
    assert "Traceback" not in err


class _ParseOutOfMemory(BaseSection):
    key = "failing"
    doc = "a section whose parser runs out of memory"

    def parse(self, raw: Any, loader: Any, params: Any) -> tuple[Any, Mapping[str, Any]]:
        raise MemoryError("no room")


def test_a_plugin_parser_out_of_memory_is_out_of_memory() -> None:
    data = tomllib.loads(_default_text())
    data["failing"] = {}
    with pytest.raises(OutOfMemoryError, match="out of memory"):
        policy_from_dict(data, sections=[*installed_sections(), _ParseOutOfMemory()])
