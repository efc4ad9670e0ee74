"""Asset investigation (DOMAIN.md §9): the checklist of ``Engine.asset_plan``, findings
as facts, asset preservation, and the load errors of the ``[assets]`` section."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pendulum
import pytest

from collectrules import AssetPlan, Case, Engine, InputError, PolicyError, Remedy, load_policy
from collectrules.assets import Need
from collectrules.policy import policy_from_dict

SH = "Asia/Shanghai"
AS_OF = pendulum.datetime(2026, 4, 3, 12, tz=SH)
CLASSES = ["movables", "real_estate", "cash_deposits", "shares_bonds", "intangibles"]
SOURCES = {
    "bank",
    "housing_authority",
    "vehicle_registry",
    "business_registry",
    "securities_firm",
    "household_registration",
    "employer",
    "neighbourhood_committee",
}


@cache
def engine(backend: str = "python", policy: str = "default") -> Engine:
    return Engine(policy, backend=backend)  # type: ignore[arg-type]


def case(
    events: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *,
    willing: bool = False,
    overdue: str = "20000",
) -> Case:
    signals = (
        [{"kind": "documents_provided", "observed_at": "2026-04-01T10:00:00+08:00"}]
        if willing
        else [{"kind": "refused_to_pay", "observed_at": "2026-04-01T10:00:00+08:00"}]
    )
    signals.append(
        {"kind": "cash_coverage", "observed_at": "2026-04-01T10:00:00+08:00", "value": 1.5}
    )
    return Case.from_dict(
        {
            "case_id": "A-1",
            "product": "loan",
            "currency": "CNY",
            "principal": "100000",
            "overdue_amount": overdue,
            "due_date": "2026-01-10",
            "timezone": SH,
            "signals": signals,
            "events": list(events),
        }
    )


def found(asset_class: str, amount: str, when: str = "2026-04-02T09:00:00+08:00") -> dict[str, Any]:
    return {"kind": "asset_found", "at": when, "asset_class": asset_class, "amount": amount}


def test_the_checklist_when_litigation_is_allowed() -> None:
    plan = engine().asset_plan(case(), as_of=AS_OF)
    assert isinstance(plan, AssetPlan)
    assert plan.applies
    assert plan.allowed_by == ("litigate",)
    assert [i.asset_class.id for i in plan.items] == CLASSES
    named = {s.id for i in plan.items for s in i.sources}
    assert named >= SOURCES
    bank = next(s for s in plan.item("cash_deposits").sources if s.id == "bank")
    assert bank.needs is Need.COURT_ORDER
    employer = next(s for s in plan.item("cash_deposits").sources if s.id == "employer")
    assert employer.needs is Need.DEBTOR_CONSENT
    assert "vehicles" in plan.item("movables").asset_class.examples
    assert plan.cites == ("ASSET-CLASSES", "ASSET-SOURCES")
    assert plan.to_json() == engine().asset_plan(case(), as_of=AS_OF).to_json()


def test_no_checklist_when_neither_remedy_is_allowed() -> None:
    plan = engine().asset_plan(case(willing=True), as_of=AS_OF)
    assert not plan.applies
    assert plan.items == ()
    assert "litigate is blocked" in plan.reason
    with pytest.raises(InputError):
        plan.item("movables")


def test_findings_become_facts_and_cover_the_claim() -> None:
    c = case([found("real_estate", "15000"), found("movables", "5000")])
    facts = engine().decide(c, as_of=AS_OF).facts
    assert facts["assets_found_value"] == "20000"
    assert facts["assets_cover_claim"] is True
    plan = engine().asset_plan(c, as_of=AS_OF)
    assert plan.found_value == Decimal("20000")
    assert plan.covers_claim
    assert [f.value for f in plan.item("real_estate").found] == [Decimal("15000")]
    short = engine().decide(case([found("real_estate", "19999.99")]), as_of=AS_OF).facts
    assert short["assets_cover_claim"] is False
    later = case([found("real_estate", "90000", "2026-04-05T09:00:00+08:00")])
    assert engine().decide(later, as_of=AS_OF).facts["assets_found_value"] == "0"


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_found_assets_that_cover_the_claim_allow_preservation(backend: str) -> None:
    d = engine(backend).decide(case([found("real_estate", "800000")]), as_of=AS_OF)
    grant = d.grant(Remedy.PRESERVE_ASSETS)
    assert grant is not None
    assert grant.rule_id == "R-ASSETS-PRESERVE"
    assert "800000" in grant.reason
    assert "20000" in grant.reason
    assert "S-SEV" in grant.cites
    assert engine(backend).decide(case(), as_of=AS_OF).grant("preserve_assets") is None


def test_a_willing_customer_gets_no_preservation() -> None:
    d = engine().decide(case([found("real_estate", "800000")], willing=True), as_of=AS_OF)
    assert d.grant("preserve_assets") is None


def test_an_unknown_asset_class_names_the_event() -> None:
    with pytest.raises(InputError) as info:
        engine().decide(case([found("real-estate", "100")]), as_of=AS_OF)
    problem = info.value.problems[0]
    assert problem.path == "events[0].asset_class"
    assert problem.suggestion == "real_estate"


def test_a_policy_without_assets_is_refused_a_plan() -> None:
    data = {k: v for k, v in load_policy("default").data.items() if k != "assets"}
    data["remedies"] = {
        **data["remedies"],
        "rules": [
            r for r in data["remedies"]["rules"] if not r["id"].startswith("R-ASSETS-PRESERVE")
        ],
    }
    with pytest.raises(PolicyError, match="no \\[assets\\] section"):
        Engine(policy_from_dict(data), backend="python").asset_plan(case(), as_of=AS_OF)


def _with(change: dict[str, Any]) -> dict[str, Any]:
    section = {**load_policy("default").data["assets"], **change}
    return {"extends": "default", "id": "bad", "assets": section}


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"sources": {"bank": {"needs": "warrant"}}}, "assets.sources.bank.needs", "court_order"),
        (
            {"classes": {"movables": {"sources": ["vehicle_registy"]}}},
            "assets.classes.movables.sources",
            "unknown source",
        ),
        ({"classes": {"movables": {"sources": []}}}, "assets.classes.movables.sources", "at least"),
        ({"remedies": ["sue"]}, "assets.remedies", "unknown remedy"),
        ({"cover_pct": 0}, "assets.cover_pct", "percentage"),
        ({"source": {}}, "assets.source", "unknown key"),
    ],
)
def test_bad_asset_sections_are_refused_with_their_path(
    change: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(_with(change))
    problems = [p for p in info.value.problems if p.path == path]
    assert problems, [str(p) for p in info.value.problems]
    assert words in problems[0].message
