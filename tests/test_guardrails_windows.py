"""The guardrails' window counts and the third-party reachability search, in one pass.

``CallsInWindowRule`` counted a window's calls with a pass over the history for each of
the window's days; ``CallsInWindowRule`` now makes one pass and searches it, and is held
to the rule as it was written before, kept here as the reference. ``ThirdPartyRule``
reads whether the debtor can be reached as the decision does (its ``unreachable``
fact), and is held to the decision. Both on generated histories with ties, every
outcome, every party and channel, and contacts before, among and after the events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectrules as cr
from collectrules.compliance import guardrails as gr
from collectrules.model.case import Case, ContactOutcome
from collectrules.policy import load_policy
from collectrules.policy.derive import derive

_ZONES = {"us_regf": ("America/New_York", "USD"), "cn_bank_loan": ("Asia/Shanghai", "CNY")}
_BASE = {"us_regf": pendulum.datetime(2026, 3, 2, 9, tz="America/New_York")}
_BASE["cn_bank_loan"] = pendulum.datetime(2026, 3, 2, 9, tz="Asia/Shanghai")


class _CallsBefore(gr.CallsInWindowRule):
    """The rule as it counted before: a pass over the prior events for each day."""

    def _count(self, ctx: gr._Ctx, events: Any, last_day: dt.date) -> int:
        first_day = last_day - dt.timedelta(days=self.days.as_int - 1)
        party = ctx.contact.party.value
        return sum(
            1
            for e in events
            if gr._is_call(e, self.channels)
            and gr._party(e) == party
            and first_day <= ctx.day(e.at) <= last_day
        )

    def assess(self, ctx: gr._Ctx) -> gr.Reason | None:
        today = ctx.day(ctx.contact.at)
        days, limit = self.days.as_int, self.max.as_int
        count = self._count(ctx, ctx.prior(), today)
        first = today - dt.timedelta(days=days - 1)
        what = (
            f"{count} call(s) to the {ctx.contact.party.value} from {first.isoformat()} to "
            f"{today.isoformat()}; at most {self.max.describe()} in "
            f"{self.days.describe()} consecutive days"
        )
        if count < limit:
            return self.reason_for(gr.ReasonEffect.ALLOW, what)
        until = ctx.day_start(today + dt.timedelta(days=days))
        for offset in range(1, days + 1):
            day = today + dt.timedelta(days=offset)
            start = ctx.day_start(day)
            if self._count(ctx, ctx.prior(start), day) < limit:
                until = start
                break
        return self.reason_for(
            gr.ReasonEffect.BLOCK, f"{what}; next allowed from {until.isoformat()}", until=until
        )


def _decision_unreachable(case: Case, at: pendulum.DateTime) -> bool:
    """Whether the decision at ``at`` counts the debtor unreachable."""
    facts = derive(case, at, load_policy("cn_bank_loan")).facts
    return bool(facts["unreachable"] >= 1)


def _until_by_decision(case: Case, ctx: gr._Ctx) -> pendulum.DateTime | None:
    """A second after the first instant, from the contact's on, at which the decision
    counts the debtor unreachable: tried at the contact and at every later event."""
    candidates = [ctx.contact.at, *(e.at for e in ctx.history if e.at > ctx.contact.at)]
    for at in candidates:
        if _decision_unreachable(case, pendulum.instance(at)):
            return pendulum.instance(at).add(seconds=1).in_timezone(ctx.zone)
    return None


def _rules(policy: str, kind: type[Any]) -> list[Any]:
    rules = [r for r in cr.Guardrails(policy).section.rules if isinstance(r, kind)]
    assert rules, f"{policy} has no {kind.__name__}"
    return rules


_Raw = list[tuple[int, str, str, str, str | None]]


def _events(days: int, min_size: int = 0) -> st.SearchStrategy[_Raw]:
    """Events on quarter hours over ``days`` days: ties, and days' edges."""
    event = st.tuples(
        st.integers(0, days * 24 * 4),
        st.sampled_from(["contact_attempt", "contact_attempt", "contact_attempt", "payment"]),
        st.sampled_from([o.value for o in ContactOutcome]),
        st.sampled_from(["debtor", "debtor", "guarantor", "third_party"]),
        st.sampled_from(["phone", "phone", "sms", "visit", None]),
    )
    return st.lists(event, min_size=min_size, max_size=80)


def _case(policy: str, raw: list[tuple[int, str, str, str, str | None]]) -> Case:
    zone, currency = _ZONES[policy]
    events: list[dict[str, Any]] = []
    for quarter, kind, outcome, party, channel in raw:
        at = _BASE[policy].add(minutes=15 * quarter).isoformat()
        if kind == "payment":
            events.append({"kind": "payment", "at": at, "amount": "10"})
            continue
        event = {"kind": kind, "at": at, "outcome": outcome, "party": party}
        if channel is not None:
            event["channel"] = channel
        events.append(event)
    return Case.from_dict(
        {
            "case_id": "W-1",
            "product": "credit_card",
            "principal": "10000",
            "overdue_amount": "1000",
            "currency": currency,
            "due_date": "2026-01-01",
            "timezone": zone,
            "events": events,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=_events(8, min_size=40),
    at=st.integers(-1 * 24 * 4, 12 * 24 * 4),
    party=st.sampled_from(["debtor", "guarantor", "third_party"]),
)
def test_calls_in_a_window_are_counted_as_before(
    raw: list[tuple[int, str, str, str, str | None]], at: int, party: str
) -> None:
    case = _case("us_regf", raw)
    contact = gr.Contact(channel="phone", party=party, at=_BASE["us_regf"].add(minutes=15 * at))
    ctx = gr._Ctx(case, contact, gr._history(case, None))
    for rule in _rules("us_regf", gr.CallsInWindowRule):
        before = _CallsBefore(**{a.name: getattr(rule, a.name) for a in rule.__attrs_attrs__})
        assert rule.assess(ctx) == before.assess(ctx)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_events(40), at=st.integers(-2 * 24 * 4, 42 * 24 * 4))
def test_third_party_reachability_is_the_decisions(
    raw: list[tuple[int, str, str, str, str | None]], at: int
) -> None:
    # The rule reads the history strictly before the contact as the decision reads the
    # case just before it; the instant it opens is a second after the first instant at
    # which the decision counts the debtor unreachable.
    case = _case("cn_bank_loan", raw)
    when = _BASE["cn_bank_loan"].add(minutes=15 * at)
    contact = gr.Contact(channel="phone", party="third_party", at=when, purpose="locate")
    ctx = gr._Ctx(case, contact, gr._history(case, None), load_policy("cn_bank_loan"))
    just_before = when.subtract(microseconds=1)
    for rule in _rules("cn_bank_loan", gr.ThirdPartyRule):
        assert (rule.unreachable(ctx) is not None) is _decision_unreachable(case, just_before)
        assert rule._unreachable_from(ctx) == _until_by_decision(case, ctx)


def test_calls_around_clocks_going_back_across_midnight_are_counted_as_before() -> None:
    # St John's, 29 October 2000: at 00:01 NDT the clocks went back to 23:01 NST of the
    # 28th, so a call at 00:30 on the 29th came before one at 23:30 on the 28th, and the
    # calls' local days were not in the order of their instants. The one-pass count
    # searched them as if they were (a window took a call of the 29th as of the 28th's
    # window, or left one out). Calls every 20 minutes from 21:00 NDT on the 28th to
    # 03:00 NST on the 29th; a contact every 15 minutes over the same hours, and over
    # the week after, each judged as the rule judged it before.
    zone = "America/St_Johns"
    start = pendulum.parse("2000-10-28T21:00:00-02:30")
    calls = [start.add(minutes=20 * n) for n in range(0, 22)]
    assert [c.in_timezone(zone).day for c in calls] != sorted(
        c.in_timezone(zone).day for c in calls
    )
    case = Case.from_dict(
        {
            "case_id": "W-2",
            "product": "credit_card",
            "principal": "10000",
            "overdue_amount": "1000",
            "currency": "USD",
            "due_date": "2000-10-01",
            "timezone": zone,
            "events": [
                {"kind": "contact_attempt", "at": c.isoformat(), "outcome": "no_answer",
                 "party": "debtor", "channel": "phone"}
                for c in calls
            ],
        }
    )  # fmt: skip
    contacts = [start.add(minutes=15 * n) for n in range(0, 30)]
    contacts += [start.add(hours=6 * n) for n in range(1, 30)]
    rules = _rules("us_regf", gr.CallsInWindowRule)
    for at in contacts:
        contact = gr.Contact(channel="phone", party="debtor", at=at)
        ctx = gr._Ctx(case, contact, gr._history(case, None))
        for rule in rules:
            before = _CallsBefore(**{a.name: getattr(rule, a.name) for a in rule.__attrs_attrs__})
            assert rule.assess(ctx) == before.assess(ctx), at.isoformat()
