"""An emergency step's offsets (``within``, ``limit``) may name a policy parameter, as a
stage's may: ``within = { param = "emergency_report_hours", unit = "hours" }``.

The reference is resolved when the policy loads, by the code that resolves a stage's,
so a policy that extends one and changes the parameter moves the step's due time on
the timeline, on the engine's timeline and on the worklist alike. A reference to a
missing parameter, or to one that is no whole number of the unit within ten years, is
refused with the file, line and key; a bad value where the parameter is set, naming the
emergency step that reads it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pendulum
import pytest

from collectrules import Case, Engine, Policy, PolicyError, load_policy
from collectrules.authoring.verify import FindingKind, verify
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import policy_schema
from collectrules.timeline.emergencies import (
    EmergencyKind,
    EmergencySection,
    EmergencyStepSpec,
    emergencies_of,
)
from collectrules.timeline.evaluate import StepStatus, build_timeline
from collectrules.timeline.stages import Offset, OffsetUnit
from timeline_helpers import BAD_PARAMETER_OFFSETS, OFFSET_FORMS, refused_offset

SHANGHAI = "Asia/Shanghai"
#: A threat to staff on Thursday 2 April 2026, 15:00 in Shanghai.
THREAT = "2026-04-02T15:00:00+08:00"
#: Four hours on: past a two-hour report, within a six-hour one.
AS_OF = "2026-04-02T19:00:00+08:00"
REPORT = "threat_to_staff:E-REPORT"

#: A lender's emergency plan, over the default policy: the report is due within
#: ``emergency_report_hours`` and the meeting within ``emergency_meeting_days``.
BASE = """\
extends = "default"
id = "emergency_base"
version = "1"

[parameters.emergency_report_hours]
value = 2
doc = "Hours within which an emergency is reported to the supervisor."

[parameters.emergency_meeting_days]
value = 2
doc = "Business days within which the supervisor's meeting is held."

[[emergencies.plans.response]]
id = "E-REPORT"
title = "report to the supervisor"
action = "Report the emergency to the supervisor at once."
role = "collector"
within = { param = "emergency_report_hours", unit = "hours" }
limit = "24 hours"
completed_by = ["emergency_reported"]

[[emergencies.plans.response]]
id = "E-MEETING"
title = "the supervisor's meeting"
action = "The supervisor convenes a meeting on the case and names a person responsible."
role = "supervisor"
within = { param = "emergency_meeting_days", unit = "business_days" }
limit = "14 days"
completed_by = ["emergency_meeting"]
"""


def _case() -> Case:
    return Case.from_dict(
        {
            "case_id": "E-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000.00",
            "overdue_amount": "20000.00",
            "due_date": "2026-04-01",
            "timezone": SHANGHAI,
            "events": [{"kind": "threat_to_staff", "at": THREAT, "staff": "wang"}],
        }
    )


def _lender(folder: Path, hours: object) -> Path:
    """A policy that extends the lender's base and sets ``emergency_report_hours``."""
    (folder / "emergency_base.toml").write_text(BASE, encoding="utf-8")
    path = folder / "lender.toml"
    path.write_text(
        'extends = "emergency_base.toml"\nid = "lender"\nversion = "1"\n\n'
        f"[parameters.emergency_report_hours]\nvalue = {hours}\n",
        encoding="utf-8",
    )
    return path


def _report(policy: Policy) -> EmergencyStepSpec:
    section = emergencies_of(policy)
    assert section is not None
    return section.kinds[EmergencyKind.THREAT_TO_STAFF].steps[0]


@pytest.mark.parametrize(("hours", "status"), [(2, StepStatus.LATE), (6, StepStatus.OPEN)])
def test_a_changed_parameter_moves_the_report_everywhere(
    tmp_path: Path, hours: int, status: StepStatus
) -> None:
    policy = load_policy(_lender(tmp_path, hours))
    case = _case()
    due = pendulum.parse(THREAT).add(hours=hours)
    assert _report(policy).within == Offset(hours, OffsetUnit.HOURS)

    step = build_timeline(case, as_of=AS_OF, policy=policy).step(REPORT)
    assert (step.due_at, step.status) == (due, status)
    assert step.limit_at == pendulum.parse(THREAT).add(hours=24)
    # Two business days from Thursday: Tuesday 7 April (Qingming, 4 to 6 April, is off).
    meeting = build_timeline(case, as_of=AS_OF, policy=policy).step("threat_to_staff:E-MEETING")
    assert meeting.due_at == pendulum.parse("2026-04-07T15:00:00+08:00")

    engine = Engine(policy)
    assert engine.timeline(case, as_of=AS_OF).step(REPORT) == step
    decision = engine.decide(case, as_of=AS_OF)
    assert decision.facts["emergency_open"] is True
    assert decision.facts["emergency_kind"] == "threat_to_staff"
    # The worklist joins the decision and the timeline: its line for the report is due
    # when the timeline says, with the timeline's status.
    (line,) = (x for x in engine.worklist([case], as_of=AS_OF) if x.step_id == REPORT)
    assert (line.due_at, line.status, line.emergency) == (due, status, True)


def test_the_base_policy_reads_its_own_value(tmp_path: Path) -> None:
    _lender(tmp_path, 6)
    policy = load_policy(tmp_path / "emergency_base.toml")
    assert _report(policy).within == Offset(2, OffsetUnit.HOURS)
    step = build_timeline(_case(), as_of=AS_OF, policy=policy).step(REPORT)
    assert step.due_at == pendulum.parse(THREAT).add(hours=2)


def test_a_parameter_offset_gives_the_section_a_literal_gives(tmp_path: Path) -> None:
    named = load_policy(_lender(tmp_path, 2))
    literal_text = BASE.replace(
        'within = { param = "emergency_report_hours", unit = "hours" }', 'within = "2 hours"'
    ).replace(
        'within = { param = "emergency_meeting_days", unit = "business_days" }',
        'within = "2 business days"',
    )
    (tmp_path / "literal.toml").write_text(literal_text, encoding="utf-8")
    literal = load_policy(tmp_path / "literal.toml")
    ours, theirs = emergencies_of(named), emergencies_of(literal)
    assert isinstance(ours, EmergencySection)
    assert isinstance(theirs, EmergencySection)
    assert ours.kinds == theirs.kinds


# --------------------------------------------------------------------------- loading

#: A policy with a plan of two steps: the offsets under test are the second step's
#: (``{offsets}``), after a first step that writes its own ``within``.
POLICY = """\
extends = "default"
id = "offsets"
version = "1"

[parameters.wait_days]
value = {wait}

[parameters.wait_hours]
value = 48

[[emergencies.plans.response]]
id = "E-REPORT"
action = "Report the emergency."
role = "collector"
within = "2 hours"
completed_by = ["emergency_reported"]

[[emergencies.plans.response]]
id = "E-MEETING"
action = "Hold the meeting."
role = "supervisor"
{offsets}
completed_by = ["emergency_meeting"]
"""
WHERE = "emergencies.plans.response[E-MEETING]"


def _write(folder: Path, offsets: str, wait: str = "10") -> Path:
    path = folder / "offsets.toml"
    path.write_text(POLICY.format(offsets=offsets, wait=wait), encoding="utf-8")
    return path


def _meeting(policy: Policy) -> EmergencyStepSpec:
    section = emergencies_of(policy)
    assert section is not None
    return section.kinds[EmergencyKind.THREAT_TO_STAFF].steps[1]


@pytest.mark.parametrize(
    ("offsets", "within", "limit"),
    [
        ('within = "10 days"', Offset(10, OffsetUnit.DAYS), None),
        (
            'within = { param = "wait_days", unit = "days" }',
            Offset(10, OffsetUnit.DAYS),
            None,
        ),
        (
            'within = { param = "wait_hours", unit = "hours" }\nlimit = "3 days"',
            Offset(48, OffsetUnit.HOURS),
            Offset(3, OffsetUnit.DAYS),
        ),
        (
            'within = "3 days"\nlimit = { param = "wait_days", unit = "weeks" }',
            Offset(3, OffsetUnit.DAYS),
            Offset(10, OffsetUnit.WEEKS),
        ),
        (
            'within = { param = "wait_days", unit = "business_days" }\n'
            'limit = { param = "wait_days", unit = "months" }',
            Offset(10, OffsetUnit.BUSINESS_DAYS),
            Offset(10, OffsetUnit.MONTHS),
        ),
    ],
)
def test_literal_and_parameter_offsets_load_to_plain_offsets(
    tmp_path: Path, offsets: str, within: Offset, limit: Offset | None
) -> None:
    step = _meeting(load_policy(_write(tmp_path, offsets)))
    assert (step.within, step.limit) == (within, limit)


def test_a_whole_float_parameter_is_read_as_a_whole_number(tmp_path: Path) -> None:
    path = _write(tmp_path, 'within = { param = "wait_days", unit = "days" }', wait="10.0")
    assert _meeting(load_policy(path)).within == Offset(10, OffsetUnit.DAYS)


def test_a_limit_from_a_parameter_before_the_due_time_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, 'within = "20 days"\nlimit = { param = "wait_days", unit = "days" }')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.path == f"{WHERE}.limit"
    assert "the limit 10 days comes before the due time 20 days" in problem.message


BAD = [
    *BAD_PARAMETER_OFFSETS,
    pytest.param(
        'within = { param = "wait_days", unit = "hours" }',
        "100000",
        "parameters.wait_days",
        "up to 87840, got 100000",
        id="huge",
    ),
    pytest.param('within = "five days"', "10", "within", "cannot read offset", id="bad-literal"),
    pytest.param(
        'within = "3 days"\nlimit = { param = "wait_days", unit = "months" }',
        "121",
        "parameters.wait_days",
        "up to 120, got 121",
        id="limit-value",
    ),
]


@pytest.mark.parametrize(("offsets", "wait", "key", "message"), BAD)
def test_a_bad_parameter_offset_is_refused_with_file_line_and_key(
    tmp_path: Path, offsets: str, wait: str, key: str, message: str
) -> None:
    # A bad reference is reported at the step's key, on its own line (not the first
    # step's ``within``); a bad value where the parameter is set, naming the step's key
    # that reads it.
    path = _write(tmp_path, offsets, wait)
    problem = refused_offset(path, key, message, WHERE)
    assert problem.line is not None
    if key.startswith("parameters."):
        reader = "limit" if "limit = {" in offsets else "within"
        assert f"by {WHERE}.{reader}" in problem.message
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert problem.line > lines.index('id = "E-MEETING"')


def test_a_bad_value_in_an_extending_policy_is_reported_where_it_is_set(tmp_path: Path) -> None:
    path = _lender(tmp_path, 2.5)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.path == "parameters.emergency_report_hours"
    assert (problem.source, problem.line) == (str(path), 5)
    assert problem.message == (
        "read as hours by emergencies.plans.response[E-REPORT].within (at most ten "
        "years): expected a non-negative whole number up to 87840, got 2.5"
    )


def test_a_misspelt_parameter_gets_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, 'within = { param = "wait_dayz", unit = "days" }')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.suggestion == "wait_days"


def test_a_parameter_read_only_by_an_emergency_offset_is_not_dead(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'within = { param = "wait_hours", unit = "hours" }\n'
        'limit = { param = "wait_days", unit = "days" }',
    )
    report = verify(path)
    assert not report.errors, [f.message for f in report.errors]
    dead = [f for f in report.findings if f.kind is FindingKind.DEAD_PARAMETER]
    assert not any("wait_" in f.message for f in dead), [f.message for f in dead]


# --------------------------------------------------------------------------- schema

_STEP: dict[str, Any] = {
    "id": "E-MEETING",
    "action": "Hold the meeting.",
    "role": "supervisor",
    "completed_by": ["emergency_meeting"],
}


@pytest.mark.parametrize("key", ["within", "limit"])
@pytest.mark.parametrize(("form", "valid"), OFFSET_FORMS, ids=repr)
def test_the_schema_and_the_loader_accept_the_same_offsets(
    form: Any, valid: bool, key: str
) -> None:
    schema = policy_schema()
    validator = jsonschema.Draft202012Validator(
        {"$defs": schema["$defs"], "$ref": "#/$defs/emergencies"}
    )
    data = copy.deepcopy(load_policy("default").data)
    data["id"] = "offsets"
    data["parameters"]["wait_days"] = {"value": 10}
    # A due time of none: any limit is not before it.
    step = {**_STEP, "within": form} if key == "within" else {**_STEP, "within": "0 hours"}
    step[key] = form
    section = copy.deepcopy(data["emergencies"])
    section["plans"]["response"] = [step]
    data["emergencies"] = section
    by_schema = validator.is_valid(section)
    problems: tuple[str, ...] = ()
    try:
        policy_from_dict(data)
    except PolicyError as exc:
        problems = tuple(p.path for p in exc.problems)
    # Refused by the loader for this offset, and for nothing else.
    assert set(problems) <= {f"emergencies.plans.response[E-MEETING].{key}"}, problems
    assert by_schema == (not problems) == valid
