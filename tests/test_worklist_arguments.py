"""The worklist's public functions and team files refuse what they cannot use, with a
CollectRulesError naming it, rather than a Python error or a silent empty list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from collectrules import CollectRulesError, Engine, Guardrails, InputError
from collectrules.model.case import Case
from collectrules.operations.team import Owner, team_from_dict
from collectrules.operations.worklist import (
    CHANNELS,
    URGENCY_CRITERIA,
    PlannedCase,
    urgency_key,
    urgency_order,
    work_items,
    worklist_channel,
)

ROOT = Path(__file__).parent.parent
AS_OF = "2026-05-01T09:00:00+08:00"


@pytest.fixture(scope="module")
def planned() -> PlannedCase:
    engine = Engine("cn_bank_loan", backend="python")
    raw = json.loads((ROOT / "examples/cases/q2_health_short.json").read_text())
    case = Case.from_dict(raw)
    return PlannedCase(case, engine.decide(case, as_of=AS_OF), engine.timeline(case, as_of=AS_OF))


def _call(name: str, planned: PlannedCase) -> Any:
    when = planned.decision.as_of
    calls = {
        "work_items(None)": lambda: work_items(None, as_of=when, guardrails=None),  # type: ignore[arg-type]
        "work_items(naive as_of)": lambda: work_items(
            planned, as_of=dt.datetime(2026, 5, 1), guardrails=None
        ),
        "work_items(guardrails=5)": lambda: work_items(planned, as_of=when, guardrails=5),  # type: ignore[arg-type]
        "work_items(team=5)": lambda: work_items(planned, as_of=when, guardrails=None, team=5),  # type: ignore[arg-type]
        "work_items(contact_hours=5)": lambda: work_items(
            planned,
            as_of=when,
            guardrails=None,
            contact_hours=5,  # type: ignore[arg-type]
        ),
        "work_items(order=[])": lambda: work_items(planned, as_of=when, guardrails=None, order=[]),
        "work_items(order='limit')": lambda: work_items(
            planned, as_of=when, guardrails=None, order="limit"
        ),
        "worklist_channel(None)": lambda: worklist_channel(None),  # type: ignore[arg-type]
        "urgency_order(None)": lambda: urgency_order(None),  # type: ignore[arg-type]
    }
    return calls[name]()


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("work_items(None)", "planned"),
        ("work_items(naive as_of)", "as_of"),
        ("work_items(guardrails=5)", "guardrails"),
        ("work_items(team=5)", "team"),
        ("work_items(contact_hours=5)", "contact_hours"),
        ("work_items(order=[])", "order"),
        ("work_items(order='limit')", "order"),
        ("worklist_channel(None)", "step"),
        ("urgency_order(None)", "policy"),
    ],
)
def test_a_wrong_argument_is_an_input_error_naming_it(
    planned: PlannedCase, name: str, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        _call(name, planned)
    assert caught.value.problems[0].path == field


def test_work_items_reads_an_as_of_given_as_text(planned: PlannedCase) -> None:
    as_text = work_items(planned, as_of=AS_OF, guardrails=None)  # type: ignore[arg-type]
    as_instant = work_items(planned, as_of=planned.decision.as_of, guardrails=None)
    assert as_text == as_instant
    assert as_text


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ([], "expected each of breached, limit, emergency, amount exactly once, got []"),
        (["limit"], "exactly once"),
        ([*URGENCY_CRITERIA, "limit"], "exactly once"),
        (["breached", "limit", "emergency", "amout"], "unknown urgency criterion 'amout'"),
        ("limit", "expected a sequence of urgency criteria, got str 'limit'"),
        (5, "expected a sequence of urgency criteria"),
        ([1, 2, 3, 4], "order[0]: expected a text"),
    ],
)
def test_urgency_key_refuses_an_order_that_would_drop_or_repeat_a_criterion(
    planned: PlannedCase, order: Any, message: str
) -> None:
    item = work_items(planned, as_of=planned.decision.as_of, guardrails=None)[0]
    with pytest.raises(InputError, match=None) as caught:
        urgency_key(item, order)
    assert message in str(caught.value)
    with pytest.raises(CollectRulesError):
        urgency_key(None, URGENCY_CRITERIA)  # type: ignore[arg-type]


def test_urgency_key_suggests_a_near_criterion(planned: PlannedCase) -> None:
    item = work_items(planned, as_of=planned.decision.as_of, guardrails=None)[0]
    with pytest.raises(InputError) as caught:
        urgency_key(item, ["breached", "limit", "emergency", "amout"])
    assert caught.value.problems[0].suggestion == "amount"
    reordered = ("amount", "limit", "breached", "emergency")
    assert urgency_key(item, reordered) == urgency_key(item, list(reordered))


def test_a_misspelt_channel_in_a_team_file_is_named_with_a_suggestion(tmp_path: Path) -> None:
    text = '[[owner]]\nid = "li.na"\nchannels = ["phon", "Visit", "sms"]\n'
    with pytest.raises(InputError) as caught:
        team_from_dict(_toml(text), source="team.toml", text=text)
    problems = {(p.path, p.line, p.suggestion) for p in caught.value.problems}
    assert problems == {("owner[0].channels", 3, "phone"), ("owner[0].channels", 3, "visit")}
    assert "unknown channel 'phon'; expected one of phone, sms" in str(caught.value)


def test_every_worklist_channel_is_accepted_in_a_team_file() -> None:
    names = ", ".join(f'"{c}"' for c in CHANNELS)
    text = f'[[owner]]\nid = "a"\nchannels = [{names}]\n'
    team = team_from_dict(_toml(text), source="team.toml", text=text)
    assert team.owners[0].channels == frozenset(CHANNELS)


def test_an_owner_built_in_python_with_an_unknown_channel_is_refused() -> None:
    with pytest.raises(InputError, match="channels among phone"):
        Owner(id="a", channels=frozenset({"phon"}))


def test_guardrails_are_still_taken(planned: PlannedCase) -> None:
    guardrails = Guardrails("cn_bank_loan")
    items = work_items(planned, as_of=planned.decision.as_of, guardrails=guardrails)
    assert items


def _toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)
