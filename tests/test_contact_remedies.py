"""A planned contact agrees with the case's decision (docs/howto-compliance.md).

The guardrails answer compliance only; a contact through the court, a lawyer's letter or
a visit performs a remedy (litigate, litigate, visit), and the decision may block it for
a reason of strategy (R-Q12-NO-SUIT, R-P1-REMIND-ONLY, R-P2-NO-LEGAL). No contact that
``collectrules contact`` or :func:`check_contact` reports allowed, and no worklist line
that proposes a contact time, performs a remedy the decision blocks; where one is
blocked, the decision's rule, reason and citations say why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, load_policy
from collectrules.cli import main
from collectrules.compliance.guardrails import Contact, Guardrails, guardrails_of
from collectrules.errors import CollectRulesError, InputError, PolicyError
from collectrules.operations import ContactRemedies, check_contact, contact_remedies
from collectrules.operations.contacts import DECISION_PACK, DEFAULT_CONTACT_REMEDIES
from collectrules.operations.worklist import PlannedCase, work_items
from collectrules.testing.strategies import cases
from helpers import make_case, shared_engine

SHIPPED = ["default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"]
AS_OF = pendulum.datetime(2026, 5, 6, 11, tz="Asia/Shanghai")
#: What each channel that performs a remedy performs under the default mapping.
PERFORMS = {"court": "litigate", "lawyer_letter": "litigate", "visit": "visit"}
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _at(case: Case) -> pendulum.DateTime:
    """11:00 on the as-of day in the case's own zone: inside every pack's hours."""
    return AS_OF.in_timezone(case.timezone).set(hour=11, minute=0, second=0)


def _guardrails(policy: str) -> Guardrails:
    return Guardrails(shared_engine(policy).policy)


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("policy", SHIPPED)
@SETTINGS
@given(data=st.data())
def test_no_allowed_contact_performs_a_remedy_the_decision_blocks(
    policy: str, data: st.DataObject
) -> None:
    case = data.draw(cases(policy, as_of=AS_OF, with_events=True))
    engine = shared_engine(policy)
    at = _at(case)
    decision = engine.decide(case, as_of=at)
    blocked = {str(b.remedy): b for b in decision.blocked}
    guardrails = _guardrails(policy)
    for channel, remedy in PERFORMS.items():
        verdict = check_contact(
            case, Contact(channel, "debtor", at), decision=decision, guardrails=guardrails
        )
        if remedy in blocked:
            assert not verdict.allowed, (channel, blocked[remedy])
            (reason,) = [r for r in verdict.blocks if r.pack == DECISION_PACK]
            assert reason.rule_id == blocked[remedy].rule_id
            assert reason.cites == blocked[remedy].cites
            assert blocked[remedy].reason in reason.message
            assert reason.until is None
        else:
            assert all(r.pack != DECISION_PACK for r in verdict.reasons)
            plain = guardrails.check(case, Contact(channel, "debtor", at))
            assert verdict == plain


@pytest.mark.parametrize("policy", SHIPPED)
# capsys is read (and so emptied) after every run of the command
@settings(
    SETTINGS,
    max_examples=8,
    suppress_health_check=[*SETTINGS.suppress_health_check, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_contact_command_never_allows_what_the_decision_blocks(
    policy: str,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = data.draw(cases(policy, as_of=AS_OF))
    channel = data.draw(st.sampled_from(sorted(PERFORMS)))
    at = _at(case)
    decision = shared_engine(policy).decide(case, as_of=at)
    blocked = {str(b.remedy): b for b in decision.blocked}
    path = tmp_path_factory.mktemp("case") / "case.json"
    path.write_text(json.dumps(case.to_dict()), encoding="utf-8")
    code = main(
        [
            "contact",
            str(path),
            "--channel",
            channel,
            "--at",
            at.isoformat(),
            "--policy",
            policy,
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr().out
    payload = json.loads(out)
    if PERFORMS[channel] in blocked:
        rule = blocked[PERFORMS[channel]]
        assert code == 1, out
        assert payload["verdict"]["allowed"] is False
        assert payload["next_allowed"] is None
        found = [r for r in payload["verdict"]["reasons"] if r["pack"] == DECISION_PACK]
        assert [(r["rule_id"], r["cites"]) for r in found] == [(rule.rule_id, list(rule.cites))]
    else:
        assert code == (0 if payload["verdict"]["allowed"] else 1)


@pytest.mark.parametrize("policy", SHIPPED)
@SETTINGS
@given(data=st.data())
def test_no_worklist_line_proposes_a_contact_whose_remedy_is_blocked(
    policy: str, data: st.DataObject
) -> None:
    case = data.draw(cases(policy, as_of=AS_OF, with_events=True))
    engine = shared_engine(policy)
    decision = engine.decide(case, as_of=AS_OF)
    section = guardrails_of(engine.policy)
    guardrails = _guardrails(policy) if section is not None and section.packs else None
    planned = PlannedCase(case, decision, engine.timeline(case, as_of=AS_OF))
    blocked = {str(b.remedy): b for b in decision.blocked}
    for item in work_items(planned, as_of=AS_OF, guardrails=guardrails):
        remedy = PERFORMS.get(item.channel)
        if remedy in blocked:
            assert item.next_contact_at is None, item
            assert blocked[remedy].rule_id in item.contact_note


# ------------------------------------------------------------------ the worklist


def _lawyer_letter_policy(tmp_path: Path, extra: str = "") -> Path:
    """The default policy with a legal step that sends a lawyer's letter and performs
    no remedy of its own: its worklist channel is ``lawyer_letter``."""
    path = tmp_path / "letters.toml"
    path.write_text(
        'extends = "default"\nid = "letters"\n\n'
        "[[timeline.plans.loan]]\n"
        'id = "L-LAWYER"\n'
        'title = "lawyer\'s letter"\n'
        'anchor = "overdue_start"\n'
        'within = "30 days"\n'
        'action = "Send a lawyer\'s letter."\n'
        'channel = "legal"\n'
        'owner = "account_manager"\n'
        'completed_by = ["lawyer_letter_sent"]\n' + extra,
        encoding="utf-8",
    )
    return path


def test_a_lawyers_letter_line_proposes_no_contact_while_the_decision_blocks_the_suit(
    tmp_path: Path,
) -> None:
    from collectrules import Engine

    engine = Engine(load_policy(_lawyer_letter_policy(tmp_path)), backend="python")
    # A willing debtor (a promise kept): R-Q12-NO-SUIT blocks litigate.
    case = make_case(("promise_kept", None))
    as_of = pendulum.datetime(2026, 4, 3, 12, tz="Asia/Shanghai")
    decision = engine.decide(case, as_of=as_of)
    rule = next(b for b in decision.blocked if b.remedy == "litigate")
    assert rule.rule_id == "R-Q12-NO-SUIT"
    planned = PlannedCase(case, decision, engine.timeline(case, as_of=as_of))
    items = work_items(planned, as_of=as_of, guardrails=Guardrails(engine.policy))
    (line,) = [i for i in items if i.step_id == "L-LAWYER"]
    assert line.channel == "lawyer_letter"
    assert line.next_contact_at is None
    assert line.remedy == "litigate"
    assert line.remedy_status == "blocked"
    assert line.blocking_rule == "R-Q12-NO-SUIT"
    assert "R-Q12-NO-SUIT" in line.contact_note
    assert "Q12-NO-THREATS" in line.contact_note
    # the lines on channels that perform no remedy are left as the guardrails say
    assert all("R-Q12-NO-SUIT" not in i.contact_note for i in items if i.channel not in PERFORMS)


def test_a_policy_that_says_a_lawyers_letter_performs_nothing_is_followed(
    tmp_path: Path,
) -> None:
    from collectrules import Engine

    extra = (
        "\n[parameters.contact_remedies]\n"
        'value = "court=litigate; visit=visit"\n'
        'doc = "A lawyer\'s letter here only reminds."\n'
    )
    policy = load_policy(_lawyer_letter_policy(tmp_path, extra))
    assert contact_remedies(policy).remedies_of("lawyer_letter") == ()
    engine = Engine(policy, backend="python")
    case = make_case(("promise_kept", None))
    as_of = pendulum.datetime(2026, 4, 3, 12, tz="Asia/Shanghai")
    decision = engine.decide(case, as_of=as_of)
    planned = PlannedCase(case, decision, engine.timeline(case, as_of=as_of))
    (line,) = [
        i
        for i in work_items(planned, as_of=as_of, guardrails=Guardrails(policy))
        if i.step_id == "L-LAWYER"
    ]
    assert line.next_contact_at is not None
    assert line.remedy is None
    at = as_of.set(hour=11)
    verdict = check_contact(
        case,
        Contact("lawyer_letter", "debtor", at),
        decision=decision,
        guardrails=Guardrails(policy),
    )
    assert all(r.pack != DECISION_PACK for r in verdict.reasons)


# ------------------------------------------------------------------ check_contact


def test_a_lawyers_letter_to_a_guarantor_is_the_claim_on_the_guarantee() -> None:
    mapping = ContactRemedies.parse(DEFAULT_CONTACT_REMEDIES)
    assert mapping.remedies_of("lawyer_letter", "guarantor") == ("claim_guarantor",)
    assert mapping.remedies_of("lawyer_letter", "debtor") == ("litigate",)
    assert mapping.remedies_of("court", "family") == ("litigate",)
    assert mapping.remedies_of("phone") == ()
    assert ContactRemedies.parse(mapping.to_text()) == mapping


def test_check_contact_refuses_the_decision_of_another_case() -> None:
    engine = shared_engine("cn_bank_loan")
    case = make_case(("promise_kept", None))
    other = make_case(("promise_kept", None), case_id="OTHER")
    decision = engine.decide(other, as_of=AS_OF)
    with pytest.raises(InputError) as info:
        check_contact(
            case,
            Contact("court", "debtor", AS_OF),
            decision=decision,
            guardrails=Guardrails(engine.policy),
        )
    assert info.value.problems[0].path == "decision"


@pytest.mark.parametrize(
    ("text", "needle", "suggestion"),
    [
        ("cort=litigate", "unknown channel 'cort'", "court"),
        ("court/famly=litigate", "unknown party 'famly'", "family"),
        ("court=litigat", "unknown remedy 'litigat'", "litigate"),
        ("court litigate", "expected channel=remedy", None),
        ("court=litigate; court=visit", "given twice", None),
        (3, "expected text", None),
    ],
)
def test_a_bad_mapping_is_a_policy_error_naming_the_parameter(
    tmp_path: Path, text: object, needle: str, suggestion: str | None
) -> None:
    value = json.dumps(text)
    path = tmp_path / "bad.toml"
    path.write_text(
        'extends = "default"\nid = "bad"\n\n'
        f"[parameters.contact_remedies]\nvalue = {value}\n"
        'doc = "which remedy a contact performs"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        contact_remedies(load_policy(path))
    (problem,) = info.value.problems
    assert problem.path == "parameters.contact_remedies"
    assert needle in problem.message
    assert problem.suggestion == suggestion
    assert "bad.toml" in str(info.value)
    assert isinstance(info.value, CollectRulesError)


def test_the_contact_command_checks_the_packs_only_when_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    data: dict[str, Any] = make_case(("promise_kept", None)).to_dict()
    path.write_text(json.dumps(data), encoding="utf-8")
    args = ["contact", str(path), "--channel", "court", "--at", "2026-04-03T11:00:00+08:00"]
    args += ["--policy", "cn_bank_loan"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "R-Q12-NO-SUIT" in out
    assert "none while the decision blocks this contact" in out
    assert main([*args, "--no-decision"]) == 0
    assert "R-Q12-NO-SUIT" not in capsys.readouterr().out


def test_the_verifier_counts_the_mapping_parameter_as_read(tmp_path: Path) -> None:
    """``contact_remedies`` is read by the library, by name: ``collectrules check`` does
    not report it as a dead parameter (before, an error: a misspelt
    ``contact_record_hours``)."""
    from collectrules.authoring.verify import FindingKind, verify

    path = tmp_path / "mapped.toml"
    path.write_text(
        'extends = "default"\nid = "mapped"\nversion = "1.0.0"\n\n'
        "[parameters.contact_remedies]\n"
        'value = "court=litigate; visit=visit"\n'
        'doc = "A lawyer\'s letter here only reminds."\n',
        encoding="utf-8",
    )
    report = verify(load_policy(path))
    dead = [f for f in report.findings if f.kind is FindingKind.DEAD_PARAMETER]
    assert dead == []
    assert main(["check", str(path)]) == 0
