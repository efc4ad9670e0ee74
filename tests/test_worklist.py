"""The worklist (issue 13 §4): every actionable step once, by owner and urgency."""

from __future__ import annotations

import csv
import io
import json
import time
import tomllib
from collections import Counter
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import Engine, Guardrails, InputError, PolicyError, load_policy
from collectrules.cli import main
from collectrules.model.time import require_aware
from collectrules.operations.team import UNASSIGNED, Team, load_team, team_from_dict
from collectrules.operations.worklist import (
    ACTIONABLE,
    CHANNELS,
    CSV_FIELDS,
    EVERYONE,
    STEP_CHANNELS,
    URGENCY_CRITERIA,
    PlannedCase,
    WorkItem,
    Worklist,
    urgency_key,
    work_items,
    worklist_channel,
)
from collectrules.policy import Policy, policy_from_dict
from collectrules.timeline.evaluate import StepStatus, timeline_section
from collectrules.timeline.stages import Channel
from operations_helpers import OPENING, portfolio, write_jsonl

AS_OF = require_aware(OPENING)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine("cn_bank_loan", backend="python")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return portfolio(120)


def _actionable(engine: Engine, rows: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """The (case, step) pairs the timelines say are open, late or breached."""
    out: Counter[tuple[str, str]] = Counter()
    for row in rows:
        timeline = engine.timeline(engine_case(engine, row), as_of=AS_OF)
        out.update((timeline.case_id, s.id) for s in timeline.steps if s.status in ACTIONABLE)
    return out


def engine_case(engine: Engine, row: dict[str, Any]) -> Any:
    from collectrules import Case

    return Case.from_dict(row, signal_kinds=tuple(engine.policy.signals))


# --------------------------------------------------------------------------- channels


def test_every_stage_channel_maps_to_a_worklist_channel() -> None:
    for channel in Channel:
        mapped = channel.value if channel.value in CHANNELS else STEP_CHANNELS[channel.value]
        assert mapped in CHANNELS


def test_legal_steps_are_court_when_they_litigate_else_lawyer_letter(engine: Engine) -> None:
    section = engine.policy.sections["timeline"]
    legal = [s for p in section.plans.values() for s in p.stages if s.channel is Channel.LEGAL]
    assert legal, "the shipped plans have legal stages"
    timeline = engine.timeline(engine_case(engine, portfolio(1)[0]), as_of=AS_OF)
    step = timeline.steps[0]
    for stage in legal:
        mapped = worklist_channel(attrs.evolve(step, stage=stage))
        assert mapped == (
            "court"
            if stage.remedy is not None and stage.remedy.value == "litigate"
            else "lawyer_letter"
        )


# --------------------------------------------------------------------------- lines


def test_every_actionable_step_is_listed_once_with_its_decision(
    engine: Engine, cases: list[dict[str, Any]]
) -> None:
    wl = engine.worklist(cases, as_of=AS_OF)
    items = list(wl)
    assert Counter((i.case_id, i.step_id) for i in items) == _actionable(engine, cases)
    assert wl.summary.lines == len(items)
    assert wl.summary.cases == len(cases)
    assert [i.rank for i in items] == list(range(1, len(items) + 1))
    assert {i.owner for i in items} == {EVERYONE}
    by_case = {row["case_id"]: row for row in cases}
    for item in items[:60]:
        case = engine_case(engine, by_case[item.case_id])
        decision = engine.decide(case, as_of=AS_OF)
        assert item.quadrant == decision.quadrant.value
        assert item.amount == case.overdue_amount
        allowed = {g.remedy.value for g in decision.allowed}
        blocked = {b.remedy.value: b.rule_id for b in decision.blocked}
        if item.remedy is None:
            assert item.remedy_status == "none"
        elif item.remedy in blocked:
            assert (item.remedy_status, item.blocking_rule) == ("blocked", blocked[item.remedy])
        elif item.remedy in allowed:
            assert item.remedy_status == "allowed"
        else:
            assert item.remedy_status == "not_granted"


def test_a_blocked_remedy_is_shown_with_its_blocking_rule(engine: Engine) -> None:
    # Q3 blocks replan; a plan step that performs it shows the block.
    row = next(
        r for r in portfolio(50) if r["signals"] and r["signals"][0]["kind"] == "refused_to_pay"
    )
    case = engine_case(engine, row)
    decision = engine.decide(case, as_of=AS_OF)
    timeline = engine.timeline(case, as_of=AS_OF)
    blocked = {b.remedy: b for b in decision.blocked}
    target = next(iter(blocked))
    step = next(s for s in timeline.steps if s.status in ACTIONABLE)
    stage = attrs.evolve(step.stage, remedy=target)
    steps = tuple(attrs.evolve(s, stage=stage) if s is step else s for s in timeline.steps)
    planned = PlannedCase(case, decision, attrs.evolve(timeline, steps=steps))
    (line,) = [i for i in work_items(planned, as_of=AS_OF, guardrails=None) if i.step_id == step.id]
    assert line.remedy == target.value
    assert line.remedy_status == "blocked"
    assert line.blocking_rule == blocked[target].rule_id


def test_next_contact_is_the_guardrails_answer(engine: Engine, cases: list[dict[str, Any]]) -> None:
    guardrails = Guardrails(engine.policy)
    by_case = {row["case_id"]: row for row in cases}
    checked = 0
    for item in engine.worklist(cases[:40], as_of=AS_OF):
        case = engine_case(engine, by_case[item.case_id])
        if item.channel in ("phone", "sms", "visit", "letter", "email"):
            after = AS_OF if item.opens_at is None or item.opens_at <= AS_OF else item.opens_at
            expected = guardrails.next_allowed(case, item.channel, "debtor", after=after)
            assert item.next_contact_at == expected
            checked += 1
        else:
            assert item.next_contact_at is None
            assert item.contact_note
    assert checked > 10


def test_a_channel_blocked_with_no_end_says_which_rule_blocks_it(engine: Engine) -> None:
    # cn_bank_loan's visits are lawful only once arranged (CH-VISIT-ARRANGED), which no
    # time lifts: the note names that rule, not a horizon of days
    visits = [i for i in engine.worklist(portfolio(6), as_of=AS_OF) if i.channel == "visit"]
    assert visits
    for item in visits:
        assert item.next_contact_at is None
        assert item.contact_note.startswith("the guardrails block this channel until")
        assert "CH-VISIT-ARRANGED: no visit_arranged event with the debtor" in item.contact_note


def test_contact_hours_move_the_next_contact_past_the_night(engine: Engine) -> None:
    night = require_aware("2026-04-03T23:30:00+08:00")
    items = [i for i in engine.worklist(portfolio(20), as_of=night) if i.channel == "phone"]
    assert items
    for item in items:
        assert item.next_contact_at is not None
        assert item.next_contact_at > night


def test_both_back_ends_give_the_same_worklist(cases: list[dict[str, Any]]) -> None:
    lines = [
        [i.to_dict() for i in Engine("cn_bank_loan", backend=b).worklist(cases[:30], as_of=AS_OF)]
        for b in ("durable", "python")
    ]
    assert lines[0] == lines[1]


def test_same_inputs_give_the_same_lines(engine: Engine, cases: list[dict[str, Any]]) -> None:
    one = [json.dumps(i.to_dict(), sort_keys=True) for i in engine.worklist(cases, as_of=AS_OF)]
    two = [json.dumps(i.to_dict(), sort_keys=True) for i in engine.worklist(cases, as_of=AS_OF)]
    assert one == two


def test_a_bad_row_is_reported_and_the_others_listed(engine: Engine) -> None:
    rows = portfolio(5)
    rows.insert(2, {"case_id": "BAD-1", "product": "loan"})
    seen = []
    wl = engine.worklist(rows, as_of=AS_OF, on_failure=seen.append)
    items = list(wl)
    assert [f.case_id for f in wl.failures] == ["BAD-1"] == [f.case_id for f in seen]
    assert isinstance(wl.failures[0].error, InputError)
    assert wl.failures[0].index == 2
    assert {i.case_id for i in items} == {r["case_id"] for r in rows} - {"BAD-1"}


def test_a_case_listed_twice_is_a_failed_row_and_its_steps_are_listed_once(
    engine: Engine,
) -> None:
    rows = portfolio(4)
    again = {**rows[1], "overdue_amount": "1"}  # the same case id, other figures
    rows += [dict(rows[1]), again]
    wl = engine.worklist(rows, as_of=AS_OF)
    items = list(wl)
    once = list(engine.worklist(portfolio(4), as_of=AS_OF))
    # the lines are those of the four cases, each once, from each case's first row
    assert [i.to_dict() for i in items] == [i.to_dict() for i in once]
    repeated = rows[1]["case_id"]
    assert [(f.index, f.case_id) for f in wl.failures] == [(4, repeated), (5, repeated)]
    assert all(isinstance(f.error, InputError) for f in wl.failures)
    assert "listed again (first at row 1)" in str(wl.failures[0].error)
    summary = wl.summary
    assert (summary.cases, summary.failed_rows) == (4, 2)


def test_a_worklist_is_iterated_once(engine: Engine) -> None:
    wl = engine.worklist(portfolio(2), as_of=AS_OF)
    list(wl)
    with pytest.raises(Exception, match="only once"):
        list(wl)


def test_a_policy_without_a_timeline_is_a_clear_error() -> None:
    bare = {
        "id": "bare",
        "layers": [
            {
                "id": "quadrant",
                "values": ["Q1"],
                "default": "Q1",
                "hit_policy": "first",
                "rules": [],
            }
        ],
    }
    policy = policy_from_dict(bare, source="bare.toml")
    with pytest.raises(PolicyError, match=r"no \[timeline\] section"):
        Engine(policy, backend="python").worklist([], as_of=AS_OF)


# --------------------------------------------------------------------------- urgency


def test_breached_lines_come_first_then_by_hard_limit(
    engine: Engine, cases: list[dict[str, Any]]
) -> None:
    items = list(engine.worklist(cases, as_of=AS_OF))
    statuses = [i.status is StepStatus.BREACHED for i in items]
    assert statuses == sorted(statuses, reverse=True)
    assert not all(statuses)
    assert any(statuses)
    rest = [i for i in items if i.status is not StepStatus.BREACHED]
    limits = [(i.limit_at or i.due_at).timestamp() for i in rest if (i.limit_at or i.due_at)]
    assert limits == sorted(limits)


def _with_parameter(value: object) -> Policy:
    return policy_from_dict(
        {
            "extends": "cn_bank_loan",
            "id": "urgent",
            "version": "1",
            "parameters": {"worklist_urgency": {"value": value, "doc": "amount first"}},
        },
        source="urgent.toml",
    )


def test_a_policy_parameter_reorders_the_criteria(cases: list[dict[str, Any]]) -> None:
    policy = _with_parameter("amount, breached, limit, emergency")
    wl = Engine(policy, backend="python").worklist(cases, as_of=AS_OF)
    items = list(wl)
    assert wl.summary.urgency == ("amount", "breached", "limit", "emergency")
    amounts = [i.amount for i in items]
    assert amounts == sorted(amounts, reverse=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("amount, breeched, limit, emergency", "did you mean 'breached'"),
        ("amount, breached", "exactly once"),
        ("amount, amount, breached, limit", "exactly once"),
        (3, "as text"),
    ],
)
def test_a_bad_urgency_parameter_names_the_parameter(value: object, message: str) -> None:
    policy = _with_parameter(value)
    with pytest.raises(PolicyError) as info:
        Engine(policy, backend="python").worklist([], as_of=AS_OF)
    assert "parameters.worklist_urgency" in str(info.value)
    assert message in str(info.value) or message in repr(info.value.problems)


_ITEM_FIELDS = {
    "status": st.sampled_from(list(ACTIONABLE)),
    "limit_hours": st.one_of(st.none(), st.integers(-500, 500)),
    "due_hours": st.one_of(st.none(), st.integers(-500, 500)),
    "emergency": st.booleans(),
    "amount": st.integers(0, 10**7),
    "case": st.integers(0, 50),
}


def _item(template: WorkItem, f: dict[str, Any]) -> WorkItem:
    def hours(h: int | None) -> Any:
        return None if h is None else AS_OF.add(hours=h)

    return attrs.evolve(
        template,
        status=f["status"],
        limit_at=hours(f["limit_hours"]),
        due_at=hours(f["due_hours"]),
        emergency=f["emergency"],
        amount=Decimal(f["amount"]),
        case_id=f"C-{f['case']}",
    )


@pytest.fixture(scope="module")
def template(engine: Engine) -> WorkItem:
    return next(iter(engine.worklist(portfolio(3), as_of=AS_OF)))


@settings(max_examples=300, deadline=None)
@given(
    line=st.fixed_dictionaries(_ITEM_FIELDS),
    others=st.lists(st.fixed_dictionaries(_ITEM_FIELDS), max_size=12),
    order=st.permutations(URGENCY_CRITERIA),
)
def test_an_emergency_never_lowers_the_urgency(
    template: WorkItem, line: dict[str, Any], others: list[dict[str, Any]], order: list[str]
) -> None:
    calm = _item(template, {**line, "emergency": False})
    alarm = attrs.evolve(calm, emergency=True)
    assert urgency_key(alarm, order) <= urgency_key(calm, order)
    crowd = [_item(template, o) for o in others]
    rank_calm = sorted([*crowd, calm], key=lambda i: urgency_key(i, order)).index(calm)
    rank_alarm = sorted([*crowd, alarm], key=lambda i: urgency_key(i, order)).index(alarm)
    assert rank_alarm <= rank_calm


def test_emergency_steps_and_cases_are_marked(engine: Engine) -> None:
    case = engine_case(engine, portfolio(1)[0])
    decision = engine.decide(case, as_of=AS_OF)
    timeline = engine.timeline(case, as_of=AS_OF)
    step = next(s for s in timeline.steps if s.status in ACTIONABLE)
    # A step of an emergency's plan, as the emergencies section names it (with the
    # emergency itself closed in the facts: only the step says so).
    stage = attrs.evolve(
        step.stage, id="threat_to_staff:E-REPORT", plan="emergency:threat_to_staff"
    )
    renamed = attrs.evolve(step, stage=stage)
    steps = tuple(renamed if s is step else s for s in timeline.steps)
    items = work_items(
        PlannedCase(case, decision, attrs.evolve(timeline, steps=steps)),
        as_of=AS_OF,
        guardrails=None,
    )
    assert {i.step_id: i.emergency for i in items}["threat_to_staff:E-REPORT"] is True
    assert not any(i.emergency for i in items if i.step_id != "threat_to_staff:E-REPORT")
    flagged = attrs.evolve(decision, facts={**decision.facts, "emergency_open": True})
    items = work_items(PlannedCase(case, flagged, timeline), as_of=AS_OF, guardrails=None)
    assert items
    assert all(i.emergency for i in items)


# --------------------------------------------------------------------------- team


TEAM = """
[[owner]]
id = "legal.desk"
role = "legal"
step_roles = ["business_head, risk_head"]

[[owner]]
id = "li.na"
role = "collector"
capacity = 25
quadrants = ["Q1", "Q2"]
max_amount = "40000"

[[owner]]
id = "big.accounts"
capacity = 10
min_amount = "40000"

[[owner]]
id = "wang.wei"
capacity = 30
quadrants = ["Q3", "Q4"]
channels = ["phone", "visit"]
"""


def test_team_lines_go_to_the_first_matching_owner_and_overflow_is_counted(
    engine: Engine, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM, encoding="utf-8")
    team = load_team(path)
    wl = engine.worklist(cases, as_of=AS_OF, team=path)
    items = list(wl)
    assert Counter((i.case_id, i.step_id) for i in items) == _actionable(engine, cases)
    tallies = {t.owner: t for t in wl.summary.owners}
    assert list(tallies) == ["legal.desk", "li.na", "big.accounts", "wang.wei", UNASSIGNED]
    for item in items:
        owner = team.owner_for(
            quadrant=item.quadrant,
            buckets=dict(item.buckets),
            amount=item.amount,
            step_role=item.role,
            channel=item.channel,
        )
        assert item.owner == (UNASSIGNED if owner is None else owner.id)
    for name, tally in tallies.items():
        mine = [i for i in items if i.owner == name]
        listed = [i for i in mine if not i.overflow]
        assert tally.listed == len(listed)
        assert tally.overflow == len(mine) - len(listed)
        if tally.capacity is not None:
            assert len(listed) <= tally.capacity
            # The listed lines are the most urgent of the owner's lines.
            if mine and tally.overflow:
                worst_listed = max(i.urgency for i in listed) if listed else None
                assert worst_listed is None or all(
                    i.urgency > worst_listed for i in mine if i.overflow
                )
        assert [i.rank for i in listed] == list(range(1, len(listed) + 1))
        assert all(i.rank is None for i in mine if i.overflow)
    assert wl.summary.overflow > 0
    assert tallies["li.na"].overflow > 0


def test_capacity_zero_sends_every_line_to_overflow(engine: Engine) -> None:
    team = team_from_dict({"owner": [{"id": "nobody", "capacity": 0}]})
    wl = engine.worklist(portfolio(10), as_of=AS_OF, team=team)
    items = list(wl)
    assert items
    assert all(i.overflow for i in items)
    assert {i.owner for i in items} == {"nobody"}
    assert wl.summary.overflow == len(items)


@pytest.mark.parametrize(
    ("text", "path", "line", "message"),
    [
        ('[[owner]]\nid = "a"\ncapacty = 3\n', "owner[0].capacty", 3, "did you mean 'capacity'"),
        (
            '[[owner]]\nid = "a"\n\n[[owner]]\nid = "b"\ncapacity = -1\n',
            "owner[1].capacity",
            6,
            "whole number",
        ),
        ('[[owner]]\nid = "a"\nquadrants = ["Q5"]\n', "owner[0].quadrants", 3, "Q5"),
        ('[[owner]]\nid = "a"\n[[owner]]\nid = "a"\n', "owner[1].id", 4, "repeated"),
        (
            '[[owner]]\nid = "a"\nmin_amount = "9"\nmax_amount = "5"\n',
            "owner[0].max_amount",
            4,
            "more than",
        ),
        ('[[owner]]\nrole = "x"\n', "owner[0].id", 1, "non-empty"),
        ('[[owner]]\nid = "unassigned"\n', "owner[0].id", 2, "reserved"),
        ('[[ owner ]]\nid = "a"\ncapacty = 3\n', "owner[0].capacty", 3, "capacity"),
        ('[[ "owner" ]]\nid = "a"\n\n[[ "owner" ]]\nid = "a"\n', "owner[1].id", 5, "repeated"),
        ('owners = 3\n\n[[owner]]\nid = "a"\n', "owners", 1, "did you mean 'owner'"),
        ('[[owner]]\nid = "a"\n\n[segment]\nx = 1\n', "segment", 4, "only [[owner]]"),
        ('[[owner]]\nid = "a"\n\n[[ownr]]\nid = "b"\n', "ownr", 4, "did you mean 'owner'"),
    ],
)
def test_a_bad_team_file_names_the_file_field_and_line(
    tmp_path: Path, text: str, path: str, line: int, message: str
) -> None:
    file = tmp_path / "team.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_team(file)
    problems = {p.path: p for p in info.value.problems}
    assert path in problems, info.value.problems
    problem = problems[path]
    assert problem.source == str(file)
    assert problem.line == line
    assert message in f"{problem.message} (did you mean {problem.suggestion!r})"


MISSPELT_TEAM = """
[[owner]]
id = "legal.desk"
step_roles = ["business_head, risk_head", "legal_departmnt"]

[[owner]]
id = "li.na"
quadrants = ["Q1"]
step_roles = ["colector"]

[[owner]]
id = "wang.wei"
step_roles = ["supervisor", "telesales"]
"""

#: Each unknown role of MISSPELT_TEAM: its path, its line, the role, and the role it
#: may be a misspelling of.
MISSPELT = [
    ("owner[0].step_roles", 4, "legal_departmnt", "legal_department"),
    ("owner[1].step_roles", 9, "colector", "collector"),
    ("owner[2].step_roles", 13, "telesales", None),
]


def _step_role_problems(error: InputError) -> list[tuple[Any, ...]]:
    out = []
    expected = "expected the owner role of a stage of the policy: 'account_manager', "
    for p in error.problems:
        assert p.message.startswith("unknown step role '"), p.message
        assert expected in p.message
        role = p.message.split("'")[1]
        out.append((p.path, p.line, role, p.suggestion, p.source))
    return out


@pytest.mark.parametrize("given", ["path", "loaded"])
def test_a_step_role_the_policy_has_not_is_refused_at_its_line(
    engine: Engine, tmp_path: Path, given: str
) -> None:
    """A misspelt step role matched no line: its owner silently took none, and the lines
    went to the next owner or to unassigned. The team is checked against the policy's
    stage owners when a worklist is built with it, from a path or a team loaded before."""
    file = tmp_path / "team.toml"
    file.write_text(MISSPELT_TEAM, encoding="utf-8")
    team: Team | Path = file if given == "path" else load_team(file)
    with pytest.raises(InputError) as info:
        engine.worklist(portfolio(3), as_of=AS_OF, team=team)
    assert _step_role_problems(info.value) == [(*m, str(file)) for m in MISSPELT]
    assert str(info.value).startswith("3 problems in team file:")


def test_a_step_role_of_a_team_built_in_python_is_checked_too(engine: Engine) -> None:
    team = team_from_dict({"owner": [{"id": "a", "step_roles": ["colector"]}]})
    with pytest.raises(InputError) as info:
        engine.worklist(portfolio(3), as_of=AS_OF, team=team)
    assert _step_role_problems(info.value) == [
        ("owner[0].step_roles", None, "colector", "collector", None)
    ]


def test_the_step_roles_are_the_stage_and_emergency_step_owners(engine: Engine) -> None:
    from collectrules.operations.worklist import step_roles

    roles = step_roles(engine.policy)
    timeline = timeline_section(engine.policy)
    owners = {stage.owner for plan in timeline.plans.values() for stage in plan.stages}
    assert owners < set(roles)
    assert {"collector", "supervisor", "legal"} <= set(roles)  # the emergencies' steps
    assert "business_head, risk_head" in roles  # one role, its name holding a comma
    assert list(roles) == sorted(set(roles))


def test_a_team_file_of_many_bad_owners_names_each_line_in_time(tmp_path: Path) -> None:
    # Each owner's lines are found in one pass over the file, not one pass a problem.
    file = tmp_path / "team.toml"
    file.write_text("".join(f'[[owner]]\nid = "o{i}"\nx = 1\n' for i in range(10_000)), "utf-8")
    start = time.process_time()
    with pytest.raises(InputError) as info:
        load_team(file)
    assert time.process_time() - start < 3.0
    problems = info.value.problems
    assert len(problems) == 10_000
    assert [(p.path, p.line) for p in problems[::2_500]] == [
        (f"owner[{i}].x", 3 * i + 3) for i in range(0, 10_000, 2_500)
    ]


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("1e-400", "the number 1e-400 is not zero but too small to hold (it would read as 0)"),
        ("12345678901234567.89", "the number 12345678901234567.89 has more digits than a float"),
    ],
)
def test_a_team_amount_a_float_does_not_hold_is_refused_at_its_line(
    tmp_path: Path, amount: str, says: str
) -> None:
    """``max_amount = 1e-400`` read as 0, and 12345678901234567.89 as another number,
    where a policy file refuses both; the text forms were already read exactly."""
    file = tmp_path / "team.toml"
    file.write_text(f'[[owner]]\nid = "a"\n\n[[owner]]\nid = "b"\nmax_amount = {amount}\n')
    with pytest.raises(InputError) as info:
        load_team(file)
    (problem,) = info.value.problems
    assert (problem.source, problem.line) == (str(file), 6)
    assert problem.message.startswith(says)
    file.write_text('[[owner]]\nid = "a"\nmax_amount = 5000.50\n')
    assert load_team(file).owners[0].max_amount == Decimal("5000.5")


def test_unreadable_or_invalid_toml_team_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_team(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[owner]\nid=", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_team(broken)


# --------------------------------------------------------------------------- the portfolio


def _clone(obj: Any, **changes: Any) -> Any:
    """A copy of a frozen record with ``changes`` (cheaper than attrs.evolve, which
    validates every field again; the values here are valid by construction)."""
    cls = type(obj)
    new = object.__new__(cls)
    for field in attrs.fields(cls):
        name = field.name
        object.__setattr__(new, name, changes[name] if name in changes else getattr(obj, name))
    return new


def _no_guardrails() -> Policy:
    """The default policy without contact guardrails: contact times come from the
    timeline's contact hours (the guardrails' own times are tested above)."""
    text = (resources.files("collectrules") / "policies" / "default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    data.pop("guardrails")
    data["id"] = "default_without_guardrails"
    return policy_from_dict(data, source="default_without_guardrails.toml")


def test_without_guardrails_the_next_contact_is_within_the_contact_hours() -> None:
    policy = _no_guardrails()
    hours = policy.sections["timeline"].contact_hours
    assert hours is not None
    night = require_aware("2026-04-03T23:30:00+08:00")
    items = list(Engine(policy, backend="python").worklist(portfolio(20), as_of=night))
    contacts = [i for i in items if i.channel in ("phone", "visit", "sms")]
    assert contacts
    for item in contacts:
        assert item.next_contact_at == hours.next_allowed(night, "Asia/Shanghai")
        assert item.next_contact_at > night
        assert "contact hours" in item.contact_note


def test_a_portfolio_of_100000_cases_lists_every_due_step_exactly_once() -> None:
    """100,000 generated cases: 400 distinct profiles, each decided and planned by the
    engine, then repeated under new case ids and amounts (a case's steps depend on its
    dates and events, not on its id or amount). Every due step appears exactly once, and
    every line past an owner's capacity is counted and listed as overflow."""
    policy = _no_guardrails()
    engine = Engine(policy, backend="python")
    profiles = list(engine._planned(portfolio(400, seed=11), AS_OF))
    assert all(isinstance(p, PlannedCase) for p in profiles)
    due_per_profile = [
        [s.id for s in p.timeline.steps if s.status in ACTIONABLE]  # type: ignore[union-attr]
        for p in profiles
    ]
    total_cases = 100_000

    def generated() -> Any:
        for n in range(total_cases):
            base = profiles[n % len(profiles)]
            assert isinstance(base, PlannedCase)
            case_id = f"G-{n:06d}"
            amount = Decimal(1000 + (n * 7919) % 90_000)
            yield PlannedCase(
                _clone(base.case, case_id=case_id, overdue_amount=amount),
                _clone(base.decision, case_id=case_id),
                _clone(base.timeline, case_id=case_id),
            )

    team = team_from_dict(
        {
            "owner": [
                {"id": "q1", "capacity": 2_000, "quadrants": ["Q1"]},
                {"id": "q2.small", "capacity": 5_000, "quadrants": ["Q2"], "max_amount": "30000"},
                {"id": "q2.large", "capacity": 50, "quadrants": ["Q2"]},
                {"id": "q34", "capacity": 10_000, "quadrants": ["Q3", "Q4"]},
            ]
        }
    )
    wl = Worklist(generated(), as_of=AS_OF, policy=policy, team=team)
    seen: Counter[tuple[str, str]] = Counter()
    overflow = listed = 0
    biggest_rank: Counter[str] = Counter()
    for item in wl:
        seen[(item.case_id, item.step_id)] += 1
        if item.overflow:
            overflow += 1
        else:
            listed += 1
            biggest_rank[item.owner] = max(biggest_rank[item.owner], item.rank or 0)
    expected = sum(len(due_per_profile[n % len(profiles)]) for n in range(total_cases))
    assert len(seen) == expected
    assert set(seen.values()) == {1}
    for n in (0, 1, 399, 400, 99_999):
        for step_id in due_per_profile[n % len(profiles)]:
            assert seen[(f"G-{n:06d}", step_id)] == 1
    summary = wl.summary
    assert summary.cases == total_cases
    assert summary.lines == expected == listed + overflow
    assert summary.overflow == overflow > 0
    for tally in summary.owners:
        if tally.capacity is not None:
            assert tally.listed <= tally.capacity
            assert biggest_rank[tally.owner] == tally.listed


# --------------------------------------------------------------------------- command line


def test_cli_jsonl_csv_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = portfolio(15)
    cases_file = write_jsonl(tmp_path / "cases.jsonl", rows)
    team = tmp_path / "team.toml"
    team.write_text(TEAM, encoding="utf-8")
    out = tmp_path / "worklist.jsonl"
    args = ["worklist", str(cases_file), "--as-of", OPENING, "-p", "cn_bank_loan"]
    assert main([*args, "--team", str(team), "--format", "jsonl", "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    engine = Engine("cn_bank_loan", backend="python")
    expected = [i.to_dict() for i in engine.worklist(rows, as_of=AS_OF, team=team)]
    assert lines == expected
    err = capsys.readouterr().err
    assert f"{len(lines)} line(s) from" in err
    assert "li.na:" in err

    assert main([*args, "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(table[0]) == list(CSV_FIELDS)
    assert len(table) == len(lines)
    assert [r["rank"] for r in table] == [str(n) for n in range(1, len(table) + 1)]

    assert main([*args, "--team", str(team)]) == 0
    shown = capsys.readouterr().out
    for word in ("li.na", "legal.desk", "over"):
        assert word in shown


def test_cli_reports_bad_rows_and_lists_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = portfolio(3)
    path = tmp_path / "cases.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in rows[:1])
    text += '{"case_id": "BAD", "product": "loan"}\n{not json\n'
    text += "".join(json.dumps(r) + "\n" for r in rows[1:])
    path.write_text(text, encoding="utf-8")
    code = main(["worklist", str(path), "--as-of", OPENING, "--format", "jsonl"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{path}:2" in captured.err
    assert f"{path}:3" in captured.err
    assert "2 bad row(s)" in captured.err
    listed = {json.loads(line)["case_id"] for line in captured.out.splitlines()}
    assert listed == {r["case_id"] for r in rows}


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ('capacity = "many"', "owner[0].capacity: expected a whole number"),
        (  # a step role the policy has not: refused once the policy is known
            'step_roles = ["colector"]',
            "owner[0].step_roles: unknown step role 'colector'",
        ),
    ],
)
def test_cli_bad_team_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, says: str
) -> None:
    cases_file = write_jsonl(tmp_path / "cases.jsonl", portfolio(2))
    team = tmp_path / "team.toml"
    team.write_text(f'[[owner]]\nid = "a"\n{key}\n', encoding="utf-8")
    code = main(["worklist", str(cases_file), "--as-of", OPENING, "--team", str(team)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {team}:3: {says}")
    assert "\n" not in err.strip()


def test_load_policy_shipped_have_valid_urgency() -> None:
    from collectrules.operations.worklist import urgency_order

    for name in ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"):
        assert urgency_order(load_policy(name)) == URGENCY_CRITERIA


def test_team_type_is_exported() -> None:
    assert isinstance(team_from_dict({"owner": [{"id": "x"}]}), Team)
