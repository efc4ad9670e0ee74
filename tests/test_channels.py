"""Channels and their conduct (DOMAIN.md §8): the golden channel cases, the record-keeping,
threat and credit-bureau obligations, every remedy's channel, and the load errors of
the new guardrail rule kinds."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pendulum
import pytest

from collectrules import (
    Case,
    Contact,
    Event,
    Guardrails,
    InputError,
    PolicyError,
    ReasonEffect,
    Remedy,
    load_policy,
)
from collectrules.model.remedies import CHANNELS
from collectrules.policy import policy_from_dict
from collectrules.timeline.stages import Channel

SH = "Asia/Shanghai"
CASES = tomllib.loads(
    (Path(__file__).parent / "fixtures" / "channels" / "cases.toml").read_text(encoding="utf-8")
)["cases"]


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz=SH)  # type: ignore[return-value]


@cache
def guard(name: str) -> Guardrails:
    return Guardrails(name)


def case(product: str = "loan", *, due: str = "2026-03-31", **extra: Any) -> Case:
    return Case.from_dict(
        {
            "case_id": "CH-1",
            "product": product,
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": "5000",
            "due_date": due,
            "timezone": SH,
            **extra,
        }
    )


def _event(raw: dict[str, Any]) -> Event:
    return Event(**{k: (pendulum.instance(v) if k == "at" else v) for k, v in raw.items()})


@pytest.mark.parametrize("spec", CASES, ids=[c["id"] for c in CASES])
def test_golden_channel_case(spec: dict[str, Any]) -> None:
    c = case(spec.get("product", "loan"))
    raw = dict(spec["contact"])
    when = pendulum.instance(raw.pop("at"))
    contact = Contact(raw.pop("channel"), raw.pop("party"), when, **raw)
    history = [_event(e) for e in spec.get("history", [])]
    g = guard(spec["policy"])
    verdict = g.check(c, contact, history=history)
    assert verdict.allowed is spec["allowed"], verdict.to_json(indent=2)
    if "blocked_by" in spec:
        assert [r.rule_id for r in verdict.blocks] == spec["blocked_by"]
    by_rule = {r.rule_id: r for r in verdict.reasons}
    for rule_id, (effect, words) in spec.get("reasons", {}).items():
        found = by_rule[rule_id]
        assert found.effect is ReasonEffect(effect), found
        assert words in found.message, found.message
    if "cites" in spec:
        first = next(iter(spec["reasons"]))
        assert by_rule[first].cites == tuple(spec["cites"])
    for rule_id in spec.get("absent", []):
        assert rule_id not in by_rule
    if spec.get("never"):
        found_at = g.next_allowed(
            c,
            contact.channel,
            contact.party,
            after=when,
            history=history,
            opt_out=True,
            staff=contact.staff,
        )
        assert found_at is None


def test_every_channel_rule_has_a_golden_case() -> None:
    rules = {r.id for p in guard("cn_credit_card").section.packs for r in p.rules}
    channel_rules = {r for r in rules if r.startswith(("CH-", "CARD-CHANNELS", "E-THREAT"))}
    covered = {rid for c in CASES for rid in (*c.get("reasons", {}), *c.get("blocked_by", []))}
    assert channel_rules <= covered | {"CONDUCT-RECORD"}
    assert "CONDUCT-RECORD" in covered


# --------------------------------------------------------------------------- obligations


def _by(reasons: Any, rule_id: str) -> list[Any]:
    return [r for r in reasons if r.rule_id == rule_id]


def test_every_contact_must_have_an_outcome_and_a_note() -> None:
    g = guard("default")
    history = [
        Event(kind="contact_attempt", at=at("2026-04-01 10:00"), outcome="reached", note="ok"),
        Event(kind="contact_attempt", at=at("2026-04-02 10:00"), outcome="no_answer"),
        Event(kind="visit", at=at("2026-04-02 15:00"), note="nobody home"),
    ]
    (early,) = _by(
        g.obligations(case(), as_of=at("2026-04-02 20:00"), history=history), "CONDUCT-RECORD"
    )
    assert early.effect is ReasonEffect.OBLIGATION
    assert early.due == at("2026-04-03 10:00")
    assert "2 contact(s) lack an outcome or a note" in early.message
    assert "overdue" not in early.message
    assert early.cites == ("CONDUCT",)
    (late,) = _by(
        g.obligations(case(), as_of=at("2026-04-04 12:00"), history=history), "CONDUCT-RECORD"
    )
    assert "overdue" in late.message
    recorded = [
        history[0],
        Event(kind="contact_attempt", at=at("2026-04-02 10:00"), outcome="no_answer", note="rang"),
        Event(kind="visit", at=at("2026-04-02 15:00"), outcome="no_answer", note="nobody home"),
    ]
    (done,) = _by(
        g.obligations(case(), as_of=at("2026-04-04 12:00"), history=recorded), "CONDUCT-RECORD"
    )
    assert done.effect is ReasonEffect.ALLOW


def test_a_threat_calls_for_a_record_and_a_report() -> None:
    g = guard("default")
    threat = Event(kind="threat_to_staff", at=at("2026-04-01 15:00"), staff="wang")
    (due,) = _by(
        g.obligations(case(), as_of=at("2026-04-01 18:00"), history=[threat]), "E-THREAT-VISITS"
    )
    assert due.effect is ReasonEffect.OBLIGATION
    assert due.due == at("2026-04-02 15:00")
    assert due.cites == ("E-THREAT", "E-RESPONSE")
    reported = [threat, Event(kind="emergency_reported", at=at("2026-04-01 16:00"))]
    (met,) = _by(
        g.obligations(case(), as_of=at("2026-04-01 18:00"), history=reported), "E-THREAT-VISITS"
    )
    assert met.effect is ReasonEffect.ALLOW
    assert (
        _by(g.obligations(case(), as_of=at("2026-04-01 18:00"), history=[]), "E-THREAT-VISITS")
        == []
    )


def test_a_card_reports_its_repayment_status_to_the_credit_bureau() -> None:
    g = guard("cn_credit_card")
    card = case("credit_card", due="2026-03-31")
    (due,) = _by(
        g.obligations(card, as_of=at("2026-04-03 12:00"), history=[]), "CARD-CREDIT-BUREAU"
    )
    assert due.effect is ReasonEffect.OBLIGATION
    assert due.due == at("2026-05-01 00:00")  # 30 days from the first overdue day
    assert due.cites == ("CARD",)
    sent = [Event(kind="credit_bureau_reported", at=at("2026-04-02 09:00"))]
    (met,) = _by(
        g.obligations(card, as_of=at("2026-04-03 12:00"), history=sent), "CARD-CREDIT-BUREAU"
    )
    assert met.effect is ReasonEffect.ALLOW
    assert (
        _by(
            g.obligations(case("loan"), as_of=at("2026-04-03 12:00"), history=[]),
            "CARD-CREDIT-BUREAU",
        )
        == []
    )
    before = g.obligations(card, as_of=at("2026-03-31 12:00"), history=[])
    assert _by(before, "CARD-CREDIT-BUREAU") == []


# --------------------------------------------------------------------------- channels


def test_every_remedy_names_its_channel() -> None:
    for remedy in Remedy:
        assert remedy.channel in CHANNELS, remedy
    assert Remedy.LITIGATE.channel == "court"
    assert Remedy.PRESERVE_ASSETS.channel == "court"
    assert Remedy.VISIT.channel == "visit"
    assert Remedy.CLAIM_GUARANTOR.channel == "lawyer_letter"


def test_steps_name_their_channels_from_the_channel_list() -> None:
    assert {"lawyer_letter", "court"} <= {c.value for c in Channel}
    for name in ("default", "cn_credit_card", "us_regf", "uk"):
        section = load_policy(name).sections["timeline"]
        for plan in section.plans.values():
            for stage in plan.stages:
                assert stage.channel.value in {c.value for c in Channel}


def test_card_steps_use_card_channels() -> None:
    plan = load_policy("cn_credit_card").sections["timeline"].plans["credit_card"]
    card = {"phone", "sms", "email", "app", "letter", "lawyer_letter", "court", "plan", "internal"}
    assert {s.channel.value for s in plan.stages} <= card


def test_a_contact_names_its_staff_or_none() -> None:
    assert Contact("visit", "debtor", at("2026-04-03 10:00")).to_dict().get("staff") is None
    named = Contact("visit", "debtor", at("2026-04-03 10:00"), staff="li")
    assert named.to_dict()["staff"] == "li"
    with pytest.raises(InputError) as info:
        Contact("visit", "debtor", at("2026-04-03 10:00"), staff="  ")
    assert info.value.problems[0].path == "staff"


# --------------------------------------------------------------------------- load errors


def _pack(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "extends": "default",
        "id": "bad",
        "guardrails": {"OWN": {"rules": [{"id": "X-1", **rule}]}},
    }


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({"kind": "contact_record"}, "guardrails.OWN.rules[X-1].hours", "required"),
        ({"kind": "threatened_staff", "hours": -1}, "guardrails.OWN.rules[X-1].hours", ""),
        ({"kind": "conduct"}, "guardrails.OWN.rules[X-1].conditions", "at least one"),
        (
            {"kind": "product_channels", "products": ["card"], "allowed": ["phone"]},
            "guardrails.OWN.rules[X-1].products",
            "card",
        ),
        (
            {"kind": "product_channels", "products": ["credit_card"], "allowed": ["fax"]},
            "guardrails.OWN.rules[X-1].allowed",
            "fax",
        ),
        (
            {"kind": "product_channels", "allowed": ["phone"]},
            "guardrails.OWN.rules[X-1].products",
            "required",
        ),
        (
            {"kind": "credit_bureau", "products": ["credit_card"]},
            "guardrails.OWN.rules[X-1].days",
            "required",
        ),
    ],
)
def test_bad_channel_rules_are_refused_with_their_path(
    rule: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(_pack(rule))
    problems = [p for p in info.value.problems if p.path == path]
    assert problems, [str(p) for p in info.value.problems]
    assert words in problems[0].message
