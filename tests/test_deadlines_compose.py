"""A policy that ``extends`` another merges ``[timeline.deadlines]`` by period.

A child's period table replaces the base's table of that period; the base's other
periods, and the keys of ``[timeline.deadlines]`` itself that the child does not give
(``extend_to_working_day``, ``warning_days``), stay. Before, a child's
``[timeline.deadlines]`` replaced the base's whole: a child of us_regf that changed its
records table switched China's limitation period back on and moved its periods' ends to
working days again.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from collectrules import DeadlineKind, Policy, build_timeline, load_policy
from collectrules.timeline.evaluate import timeline_section
from collectrules.timeline.stages import DeadlineRules
from timeline_helpers import NY, SH, at, event, loan


def child(tmp_path: Path, base: str, text: str) -> Policy:
    path = tmp_path / "child.toml"
    path.write_text(f'extends = "{base}"\nid = "child"\n\n{text}', encoding="utf-8")
    return load_policy(path)


def rules(policy: Policy | str) -> DeadlineRules:
    return timeline_section(load_policy(policy) if isinstance(policy, str) else policy).deadlines


def test_a_child_changing_one_period_keeps_the_bases_others_and_its_settings(
    tmp_path: Path,
) -> None:
    us = rules("us_regf")
    mine = child(tmp_path, "us_regf", "[timeline.deadlines.records]\nenabled = false\n")
    got = rules(mine)
    assert got.records.enabled is False
    # us_regf's China periods stay off, and its periods still end on their own day.
    assert (got.limitation, got.guarantee, got.enforcement) == (
        us.limitation,
        us.guarantee,
        us.enforcement,
    )
    assert got.limitation.enabled is False
    assert got.extend_to_working_day is False
    assert got.warning_days == us.warning_days


def test_the_childs_timeline_shows_only_what_the_base_left_on(tmp_path: Path) -> None:
    mine = child(tmp_path, "us_regf", "[timeline.deadlines.records]\nenabled = false\n")
    case = loan(event("contact_attempt", "2027-05-10 10:00", NY, outcome="no_answer"))
    case = attrs.evolve(case, timezone=NY, currency="USD")
    when = at("2027-07-01 12:00", NY)
    assert build_timeline(case, as_of=when, policy=mine).deadlines == ()
    base = build_timeline(case, as_of=when, policy=load_policy("us_regf")).deadlines
    assert [d.kind for d in base] == [DeadlineKind.RECORDS]


def test_a_key_of_the_deadlines_table_replaces_the_bases_and_keeps_its_periods(
    tmp_path: Path,
) -> None:
    default = rules("default")
    got = rules(child(tmp_path, "default", "[timeline.deadlines]\nwarning_days = 30\n"))
    assert got.warning_days == 30
    assert got == attrs.evolve(default, warning_days=30)
    # The default's own lists, not the built-in ones a table left out would give.
    assert "CN-LIMITATION-INTERRUPT" in got.limitation.cites
    assert [m.kind.value for m in got.limitation.interrupted_by][-2:] == [
        "suit_filed",
        "arbitration_filed",
    ]


def test_enabled_false_drops_a_bases_period(tmp_path: Path) -> None:
    default = rules("default")
    got = rules(child(tmp_path, "default", "[timeline.deadlines.guarantee]\nenabled = false\n"))
    assert got.guarantee.enabled is False
    assert (got.limitation, got.enforcement) == (default.limitation, default.enforcement)
    mine = child(tmp_path, "default", "[timeline.deadlines.guarantee]\nenabled = false\n")
    case = loan(event("demand_delivered", "2026-04-10 10:00", SH), guarantors=[{"id": "G-1"}])
    when = at("2026-06-01 12:00", SH)
    kinds = {d.kind for d in build_timeline(case, as_of=when, policy=mine).deadlines}
    assert kinds == {DeadlineKind.LIMITATION, DeadlineKind.ENFORCEMENT}
    base = build_timeline(case, as_of=when, policy=load_policy("default")).deadlines
    assert {d.kind for d in base} == kinds | {DeadlineKind.GUARANTEE}


#: What a period's table gives (its length comes from the policy's parameters).
TABLE_FIELDS = ("enabled", "interrupted_by", "satisfied_by", "activity", "cites", "products")


@pytest.mark.parametrize(
    ("period", "base"),
    [
        ("limitation", "uk"),  # uk: acknowledgments and payments interrupt it
        ("guarantee", "uk"),  # uk: switched off
        ("enforcement", "us_regf"),  # us_regf: switched off
        ("records", "us_regf"),  # us_regf: on, for 3 years
    ],
)
def test_a_childs_period_table_replaces_the_bases_table_whole(
    tmp_path: Path, period: str, base: str
) -> None:
    # The child names only `cites`: nothing else of the base's table stays, so the period
    # is what the same table makes over the default, whose tables differ from the base's.
    text = f'[timeline.deadlines.{period}]\ncites = ["MINE"]\n'
    got = getattr(rules(child(tmp_path, base, text)), period)
    plain = getattr(rules(child(tmp_path, "default", text)), period)
    assert [getattr(got, f) for f in TABLE_FIELDS] == [getattr(plain, f) for f in TABLE_FIELDS]
    assert got.cites == ("MINE",)
    theirs = getattr(rules(base), period)
    assert [getattr(theirs, f) for f in TABLE_FIELDS] != [getattr(got, f) for f in TABLE_FIELDS]


def test_the_card_pack_states_only_its_own_period() -> None:
    card, bank = rules("cn_credit_card"), rules("cn_bank_loan")
    assert attrs.evolve(card, records=bank.records) == bank
    text = (
        Path(__file__).parents[1] / "src" / "collectrules" / "policies" / "cn_credit_card.toml"
    ).read_text(encoding="utf-8")
    assert "[timeline.deadlines.limitation]" not in text
    assert "[timeline.deadlines.records]" in text
