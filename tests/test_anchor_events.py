"""A stage anchored on several event kinds (docs/reference-stages.md, Anchors), and
us_regf's validation notice: its step and the REGF-VALIDATION guardrail count from the
same first communication with the debtor (US-REGF-VALIDATION)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pendulum
import pytest

from collectrules import Case
from collectrules.compliance.guardrails import Guardrails
from collectrules.errors import CollectRulesError, PolicyError
from collectrules.model.case import (
    COMMUNICATION_EVENTS,
    ContactOutcome,
    Event,
    EventKind,
    is_communication,
)
from collectrules.policy import Policy
from collectrules.policy.schema import policy_schema
from collectrules.timeline.evaluate import StepStatus, Timeline, build_timeline, timeline_section
from collectrules.timeline.stages import Anchor, AnchorKind, EventMatcher, Stage
from helpers import shared_engine
from timeline_helpers import NY, at, event, loan, stage, with_plan


def timeline(case: Case, when: str, policy: Policy) -> Timeline:
    return build_timeline(case, as_of=at(when), policy=policy)


def _stages(policy: Policy, plan: str = "loan") -> tuple[Stage, ...]:
    found = timeline_section(policy).plan_for(plan)
    assert found is not None
    return found.stages


def _problems(table: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyError) as info:
        with_plan(table)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- the loader


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ([], "anchor: expected at least one event kind in the list"),
        (
            ["notice_snet"],
            "anchor: item 1 of the anchor list: unknown event kind 'notice_snet' "
            "(did you mean 'notice_sent'?)",
        ),
        (
            ["notice_sent", "contact_attempt:reachd"],
            "anchor: item 2 of the anchor list: unknown contact outcome 'reachd' "
            "(did you mean 'reached'?)",
        ),
        (
            ["notice_sent", "visit:reached"],
            "anchor: item 2 of the anchor list: only contact_attempt events have an outcome",
        ),
        (
            ["notice_sent", "demand_delivered", "notice_sent"],
            "anchor: item 3 of the anchor list: duplicate event kind 'notice_sent'",
        ),
        (
            ["overdue_start", "notice_sent"],
            "anchor: item 1 of the anchor list: 'overdue_start' is an anchor of its own, "
            "not an event kind",
        ),
        ([7], "anchor: item 1 of the anchor list: expected an event kind, got 7"),
        ({"kind": "visit"}, "anchor: expected an anchor name or a list of event kinds"),
    ],
)
def test_a_bad_anchor_list_is_reported_with_its_key(anchor: object, expected: str) -> None:
    found = _problems(stage(anchor=anchor))
    assert any(p.startswith("variant.toml") for p in found), found
    assert any(f"timeline.plans.loan[S-1].{expected}" in p for p in found), found


def test_a_bad_anchor_list_in_a_file_names_the_file_and_line(tmp_path: Path) -> None:
    from collectrules import load_policy

    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "default"\nid = "mine"\n\n'
        "[[timeline.plans.loan]]\n"
        'id = "L-LETTER"\n'
        'anchor = ["notice_sent", "notice_sent"]\n'
        'within = "3 days"\n'
        'action = "Call."\nchannel = "phone"\nowner = "account_manager"\n'
        'completed_by = ["contact_attempt:reached"]\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert problem.line == 6
    assert problem.path == "timeline.plans.loan[L-LETTER].anchor"
    assert str(problem).endswith(
        "mine.toml:6: timeline.plans.loan[L-LETTER].anchor: item 2 of the anchor list: "
        "duplicate event kind 'notice_sent'"
    )


def test_an_anchor_list_loads_in_its_order() -> None:
    policy = with_plan(stage(anchor=["notice_sent", "contact_attempt:reached"]))
    (loaded,) = _stages(policy)
    assert loaded.anchor == Anchor(
        AnchorKind.EVENT,
        (
            EventMatcher(EventKind.NOTICE_SENT),
            EventMatcher(EventKind.CONTACT_ATTEMPT, ContactOutcome.REACHED),
        ),
    )
    assert str(loaded.anchor) == "notice_sent, contact_attempt:reached"


def test_a_list_of_one_is_the_single_anchor_byte_for_byte() -> None:
    single = with_plan(stage(anchor="contact_attempt:reached"))
    listed = with_plan(stage(anchor=["contact_attempt:reached"]))
    (one,) = _stages(single)
    (other,) = _stages(listed)
    assert (
        one.anchor
        == other.anchor
        == Anchor(AnchorKind.EVENT, EventMatcher(EventKind.CONTACT_ATTEMPT, ContactOutcome.REACHED))
    )
    for case in (
        loan(),
        loan(event("contact_attempt", "2026-04-01 10:00", outcome="reached")),
    ):
        a = timeline(case, "2026-04-03 12:00", single).to_dict()
        b = timeline(case, "2026-04-03 12:00", listed).to_dict()
        # The same timeline, but for the policy's fingerprint (its text differs).
        assert a.pop("policy") != b.pop("policy")
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    waiting = timeline(loan(), "2026-04-03 12:00", single).step("S-1")
    assert waiting.reason == "waits for the first contact_attempt:reached event"


# --------------------------------------------------------------------------- the step


def test_a_stage_counts_from_the_first_event_of_any_kind_it_names() -> None:
    policy = with_plan(stage(anchor=["contact_attempt:reached", "notice_sent"], within="3 days"))
    case = loan(
        event("notice_sent", "2026-04-01 09:00", party="G1"),  # a guarantor's: not the debtor's
        event("contact_attempt", "2026-04-01 10:00", outcome="no_answer"),
        event("notice_sent", "2026-04-02 11:00"),
        event("contact_attempt", "2026-04-03 10:00", outcome="reached"),
    )
    tl = timeline(case, "2026-04-05 12:00", policy)
    step = tl.step("S-1")
    assert step.anchor_at == pendulum.datetime(2026, 4, 2, 11, tz="Asia/Shanghai")
    assert step.due_at == pendulum.datetime(2026, 4, 5, 11, tz="Asia/Shanghai")
    # Completed by the reached call on 3 April, from the anchor on.
    assert step.status is StepStatus.DONE
    waiting = timeline(loan(), "2026-04-05 12:00", policy).step("S-1")
    assert waiting.status is StepStatus.UPCOMING
    assert waiting.reason == (
        "waits for the first of these events: contact_attempt:reached, notice_sent"
    )


# --------------------------------------------------------------------------- us_regf


def _us(*events: dict[str, Any]) -> Case:
    return Case.from_dict(
        {
            "case_id": "US-FIRST",
            "product": "loan",
            "currency": "USD",
            "principal": "20000.00",
            "overdue_amount": "850.00",
            "due_date": "2026-03-02",
            "timezone": NY,
            "guarantors": [{"id": "G1"}],
            "events": list(events),
        }
    )


def _at(day: int, hour: int) -> str:
    return pendulum.datetime(2026, 3, day, hour, tz=NY).isoformat()


def _both(case: Case, as_of: pendulum.DateTime) -> tuple[Any, Any, str]:
    engine = shared_engine("us_regf")
    step = build_timeline(case, as_of=as_of, policy=engine.policy).step("US-VALIDATION")
    (duty,) = (
        r
        for r in Guardrails("us_regf").obligations(case, as_of=as_of)
        if r.rule_id == "REGF-VALIDATION"
    )
    fact = engine.derive(case, as_of=as_of).facts["step_us_validation"]
    return step, duty, fact


@pytest.mark.parametrize(
    "first",
    [
        {"kind": "notice_sent"},
        {"kind": "demand_delivered"},
        {"kind": "lawyer_letter_sent"},
        {"kind": "demand_letter_signed"},
        {"kind": "contact_attempt", "outcome": "refused"},
    ],
)
def test_a_letter_or_a_refusal_is_the_first_communication_for_the_step_too(
    first: dict[str, Any],
) -> None:
    # Tuesday 3 March 2026, 09:00: due five business days later, Tuesday 10 March.
    case = _us(
        {**first, "at": _at(3, 9)},
        {"kind": "contact_attempt", "outcome": "reached", "at": _at(5, 9)},
    )
    for as_of, status in ((_at(9, 12), "open"), (_at(11, 12), "breached")):
        step, duty, fact = _both(case, pendulum.parse(as_of))
        assert duty.due == pendulum.datetime(2026, 3, 10, 9, tz=NY)
        assert step.deadline == duty.due
        assert step.status.value == fact == status, (step, duty.message)


@pytest.mark.parametrize(
    ("notice_at", "call_at"),
    [
        (_at(3, 9), _at(3, 9)),  # the notice in the first communication
        (_at(3, 9), _at(5, 9)),  # the notice before the first call: it is the first
        (_at(3, 9), None),  # the notice, and no call yet
    ],
)
def test_a_notice_with_or_before_the_first_communication_completes_the_step(
    notice_at: str, call_at: str | None
) -> None:
    events: list[dict[str, Any]] = [{"kind": "validation_notice_sent", "at": notice_at}]
    if call_at is not None:
        events.append({"kind": "contact_attempt", "outcome": "reached", "at": call_at})
    step, duty, fact = _both(_us(*events), pendulum.parse(_at(20, 12)))
    assert "was sent" in duty.message
    assert step.status is StepStatus.DONE
    assert fact == "done"
    assert step.on_time


def test_a_notice_to_a_guarantor_is_neither_the_debtors_notice_nor_communication() -> None:
    case = _us(
        {"kind": "validation_notice_sent", "at": _at(3, 9), "party": "G1"},
        {"kind": "notice_sent", "at": _at(4, 9)},
    )
    step, duty, fact = _both(case, pendulum.parse(_at(20, 12)))
    assert "was sent" not in duty.message
    assert duty.due == pendulum.datetime(2026, 3, 11, 9, tz=NY)
    assert step.deadline == duty.due
    assert step.status is StepStatus.BREACHED
    assert fact == "breached"


def test_the_us_validation_step_counts_from_the_guardrails_communications() -> None:
    # One definition: the us_regf stage names exactly COMMUNICATION_EVENTS, which the
    # guardrail reads through is_communication.
    stages = _stages(shared_engine("us_regf").policy)
    (validation,) = (s for s in stages if s.id == "US-VALIDATION")
    assert tuple(str(m) for m in validation.anchor.events) == COMMUNICATION_EVENTS
    when = pendulum.datetime(2026, 3, 3, 9, tz=NY)
    checked = 0
    for kind in EventKind:
        for outcome in (None, *ContactOutcome):
            if outcome is not None and kind is not EventKind.CONTACT_ATTEMPT:
                continue
            fields: dict[str, Any] = {"outcome": outcome} if outcome is not None else {}
            try:
                e = Event(kind=kind, at=when, **fields)
            except CollectRulesError:  # a kind that needs other fields (an amount)
                continue
            assert validation.anchor.matches(e) is is_communication(e), (kind, outcome)
            checked += 1
    assert checked > len(EventKind)


# --------------------------------------------------------------------------- the schema


@pytest.mark.parametrize(
    ("anchor", "valid"),
    [
        (["contact_attempt:reached", "notice_sent"], True),
        (["notice_sent"], True),
        ("notice_sent", True),
        ([], False),
        (["notice_sent", "notice_sent"], False),
        (["overdue_start"], False),
        (["notice_snet"], False),
    ],
)
def test_the_schema_reads_an_anchor_list_as_the_loader_does(anchor: object, valid: bool) -> None:
    data: dict[str, Any] = {
        "extends": "default",
        "id": "mine",
        "timeline": {"plans": {"loan": [stage(anchor=anchor)]}},
    }
    errors = list(jsonschema.Draft202012Validator(policy_schema()).iter_errors(data))
    assert (not errors) is valid, errors
    if valid:
        with_plan(stage(anchor=anchor))
    else:
        with pytest.raises(PolicyError):
            with_plan(stage(anchor=anchor))
