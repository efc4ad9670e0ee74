"""A stage's offset (``within``, ``after``, ``limit``) may name a policy parameter:
``within = { param = "regf_validation_days", unit = "business_days" }``.

The reference is resolved when the policy loads, so a step and the guardrail that read
the same parameter cannot disagree: us_regf's US-VALIDATION step and its
REGF-VALIDATION guardrail fall due at the same instant however a lender's policy sets
``regf_validation_days``. A reference to a missing parameter, or to one that is no
whole number of the unit within ten years, is refused with the file, line and key.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pendulum
import pytest

from collectrules import Case, Engine, Policy, PolicyError, load_policy
from collectrules.authoring.verify import FindingKind, verify
from collectrules.compliance.guardrails import Guardrails
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import policy_schema
from collectrules.timeline.evaluate import build_timeline
from collectrules.timeline.stages import Offset, OffsetUnit, Stage
from timeline_helpers import BAD_PARAMETER_OFFSETS, OFFSET_FORMS, refused_offset

NY = "America/New_York"
#: The first communication: a call that reached the consumer on Thursday 2 July 2026
#: (3 July is the federal holiday for Independence Day, a Saturday in 2026).
FIRST_CALL = "2026-07-02T10:00:00-04:00"
#: Five business days after the first call: 10 July; ten: 17 July.
DUE = {5: "2026-07-10T10:00:00-04:00", 10: "2026-07-17T10:00:00-04:00"}


def _case() -> Case:
    return Case.from_dict(
        {
            "case_id": "V-1",
            "product": "loan",
            "currency": "USD",
            "principal": "10000",
            "overdue_amount": "500",
            "due_date": "2026-06-01",
            "timezone": NY,
            "events": [
                {
                    "kind": "contact_attempt",
                    "at": FIRST_CALL,
                    "outcome": "reached",
                    "channel": "phone",
                    "party": "debtor",
                }
            ],
        }
    )


@cache
def _lender(days: int, folder: Path) -> Policy:
    if days == 5:
        return load_policy("us_regf")
    path = folder / f"lender_{days}.toml"
    path.write_text(
        'extends = "us_regf"\nid = "lender"\nversion = "1"\n\n'
        f"[parameters.regf_validation_days]\nvalue = {days}\n",
        encoding="utf-8",
    )
    return load_policy(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lender")


@pytest.mark.parametrize("days", [5, 10])
def test_the_validation_step_falls_due_with_the_guardrail(days: int, folder: Path) -> None:
    policy = _lender(days, folder)
    case = _case()
    as_of = pendulum.parse("2026-07-08T10:00:00-04:00")
    step = build_timeline(case, as_of=as_of, policy=policy).step("US-VALIDATION")
    (duty,) = (
        r
        for r in Guardrails(policy).obligations(case, as_of=as_of)
        if r.rule_id == "REGF-VALIDATION"
    )
    assert duty.due == pendulum.parse(DUE[days])
    assert step.due_at == duty.due
    assert step.deadline == duty.due


@pytest.mark.parametrize(("days", "status"), [(5, "breached"), (10, "open")])
def test_the_decision_reads_the_step_from_the_parameter(
    days: int, status: str, folder: Path
) -> None:
    # 14 July: past five business days from the first call, within ten. The decision's
    # step fact (the fast state facts) follows the parameter, as the guardrail does.
    policy = _lender(days, folder)
    decision = Engine(policy).decide(_case(), as_of="2026-07-14T10:00:00-04:00")
    assert decision.facts["step_us_validation"] == status


def _stage(policy: Policy, sid: str) -> Stage:
    section = policy.sections["timeline"]
    return next(s for plan in section.plans.values() for s in plan.stages if s.id == sid)


def test_the_shipped_step_reads_the_parameter_the_guardrail_reads() -> None:
    policy = load_policy("us_regf")
    stage = _stage(policy, "US-VALIDATION")
    assert stage.within == Offset(5, OffsetUnit.BUSINESS_DAYS)
    assert policy.data["timeline"]["plans"]["us_consumer"][0]["within"] == {
        "param": "regf_validation_days",
        "unit": "business_days",
    }


# --------------------------------------------------------------------------- loading

#: A policy of its own plan, one stage: ``{within}``, ``{after}`` and ``{limit}`` are
#: replaced by TOML lines (or nothing).
POLICY = """\
extends = "us_regf"
id = "offsets"
version = "1"

[parameters.wait_days]
value = {wait}

[parameters.wait_hours]
value = 48

[timeline.products]
loan = "lender"

[[timeline.plans.lender]]
id = "X-1"
anchor = "overdue_start"
{offsets}
action = "Write to the consumer."
channel = "letter"
owner = "collector"
completed_by = ["notice_sent"]
"""


def _write(folder: Path, offsets: str, wait: str = "10") -> Path:
    path = folder / "offsets.toml"
    path.write_text(POLICY.format(offsets=offsets, wait=wait), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("offsets", "within", "after", "limit"),
    [
        ('within = "10 days"', Offset(10, OffsetUnit.DAYS), None, None),
        ('within = "5bd"', Offset(5, OffsetUnit.BUSINESS_DAYS), None, None),
        (
            'within = { param = "wait_days", unit = "days" }',
            Offset(10, OffsetUnit.DAYS),
            None,
            None,
        ),
        (
            'after = { param = "wait_hours", unit = "hours" }',
            None,
            Offset(48, OffsetUnit.HOURS),
            None,
        ),
        (
            'within = "3 days"\nlimit = { param = "wait_days", unit = "weeks" }',
            Offset(3, OffsetUnit.DAYS),
            None,
            Offset(10, OffsetUnit.WEEKS),
        ),
    ],
)
def test_literal_and_parameter_offsets_load_to_plain_offsets(
    tmp_path: Path, offsets: str, within: Offset | None, after: Offset | None, limit: Offset | None
) -> None:
    stage = _stage(load_policy(_write(tmp_path, offsets)), "X-1")
    assert (stage.within, stage.after, stage.limit) == (within, after, limit)


def test_a_parameter_offset_gives_the_stage_a_literal_gives(tmp_path: Path) -> None:
    literal = _stage(load_policy(_write(tmp_path, 'within = "10 days"')), "X-1")
    named = _stage(
        load_policy(_write(tmp_path, 'within = { param = "wait_days", unit = "days" }')), "X-1"
    )
    assert literal == named
    assert hash(literal) == hash(named)


def test_a_whole_float_parameter_is_read_as_a_whole_number(tmp_path: Path) -> None:
    path = _write(tmp_path, 'within = { param = "wait_days", unit = "days" }', wait="10.0")
    assert _stage(load_policy(path), "X-1").within == Offset(10, OffsetUnit.DAYS)


BAD = [
    *BAD_PARAMETER_OFFSETS,
    pytest.param(
        'within = { param = "wait_days", unit = "days" }',
        "100000",
        "parameters.wait_days",
        "up to 3660, got 100000",
        id="huge",
    ),
    pytest.param(
        'within = { param = "wait_days", unit = "months" }',
        "121",
        "parameters.wait_days",
        "up to 120, got 121",
        id="huge-in-months",
    ),
    pytest.param(
        'within = "3 days"\nafter = { param = "wait_dayz", unit = "days" }',
        "10",
        "after",
        "expected 'param' to name a parameter",
        id="after",
    ),
]


@pytest.mark.parametrize(("offsets", "wait", "key", "message"), BAD)
def test_a_bad_parameter_offset_is_refused_with_file_line_and_key(
    tmp_path: Path, offsets: str, wait: str, key: str, message: str
) -> None:
    # A bad reference is reported at the stage's key; a bad value where the parameter
    # is set, naming the stage's key that reads it.
    path = _write(tmp_path, offsets, wait)
    problem = refused_offset(path, key, message, "timeline.plans.lender[X-1]")
    if key.startswith("parameters."):
        assert "by timeline.plans.lender[X-1].within" in problem.message


def test_a_bad_value_in_an_extending_policy_is_reported_where_it_is_set(tmp_path: Path) -> None:
    path = tmp_path / "lender.toml"
    path.write_text(
        'extends = "us_regf"\nid = "lender"\nversion = "1"\n\n'
        "[parameters.regf_validation_days]\nvalue = 10.5\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = (p for p in info.value.problems if "US-VALIDATION" in p.message)
    assert problem.path == "parameters.regf_validation_days"
    assert (problem.source, problem.line) == (str(path), 5)
    assert "read as business days by timeline.plans.us_consumer[US-VALIDATION].within" in (
        problem.message
    )
    assert problem.message.endswith("got 10.5")


def test_a_misspelt_parameter_gets_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, 'within = { param = "wait_dayz", unit = "days" }')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = (p for p in info.value.problems if p.path.endswith("].within"))
    assert problem.suggestion == "wait_days"


def test_a_parameter_read_only_by_an_offset_is_not_dead(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'within = { param = "wait_days", unit = "days" }\n'
        'after = { param = "wait_hours", unit = "hours" }',
    )
    report = verify(path)
    dead = [f for f in report.findings if f.kind is FindingKind.DEAD_PARAMETER]
    assert not any("wait_" in f.message for f in dead), [f.message for f in dead]


# --------------------------------------------------------------------------- schema

_STAGE: dict[str, Any] = {
    "id": "X-1",
    "anchor": "overdue_start",
    "action": "Write to the consumer.",
    "channel": "letter",
    "owner": "collector",
    "completed_by": ["notice_sent"],
}


@pytest.mark.parametrize(("form", "valid"), OFFSET_FORMS, ids=repr)
def test_the_schema_and_the_loader_accept_the_same_offsets(form: Any, valid: bool) -> None:
    schema = policy_schema()
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/stage"})
    stage = {**_STAGE, "within": form}
    by_schema = validator.is_valid(stage)
    data = copy.deepcopy(load_policy("us_regf").data)
    data["id"] = "offsets"
    data["parameters"]["wait_days"] = {"value": 10}
    data["timeline"]["plans"]["lender"] = [stage]
    data["timeline"]["products"] = {**data["timeline"]["products"], "loan": "lender"}
    problems: tuple[str, ...] = ()
    try:
        policy_from_dict(data)
    except PolicyError as exc:
        problems = tuple(p.path for p in exc.problems)
    # Refused by the loader for this offset, and for nothing else.
    assert set(problems) <= {"timeline.plans.lender[X-1].within"}, problems
    assert by_schema == (not problems) == valid
