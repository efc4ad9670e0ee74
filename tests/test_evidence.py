"""The evidence model (docs/evidence.md): unknown, presumed and cured evidence.

Properties run on both back ends, over the testing kit's strategies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, InputError, PolicyError, load_policy
from collectrules.model.case import ContactOutcome, Event, EventKind, Product, Signal
from collectrules.model.decision import Decision
from collectrules.policy import Policy, policy_from_dict
from collectrules.policy.derive import derive
from collectrules.testing import strategies as kit
from collectrules.timeline.evaluate import StepStatus, build_timeline

AS_OF = pendulum.parse("2026-08-20T12:00:00+08:00")
POLICY = load_policy("default")
ENGINES = {
    "python": Engine(POLICY, backend="python"),
    "durable": Engine(POLICY, backend="durable"),
}
BACKENDS = pytest.mark.parametrize("backend", ["python", "durable"])
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

W_SIGNS = tuple(
    k
    for k, spec in POLICY.signals.items()
    if spec.dimension == "willingness" and spec.negative and k != "refused_disposal"
)
GOOD_NOT_CURES = ("documents_provided", "raising_funds")
ABILITY = tuple(k for k, spec in POLICY.signals.items() if spec.dimension == "ability")


def _escalation_point(product: Product) -> int:
    """The last days-past-due figure before the timeline's phase turns P3 (the stage
    plan's escalation point), found by walking the timeline rather than restated."""
    for dpd in range(0, 400):
        if derive(loan(dpd + 1, product=product), AS_OF, POLICY).facts["phase"] == "P3":
            return dpd
    raise AssertionError(f"{product.value}: the plan never escalates")


def loan(
    dpd: int,
    signals: Iterable[Signal] = (),
    events: Iterable[Event] = (),
    product: Product = Product.LOAN,
) -> Case:
    return Case(
        case_id="EV",
        product=product,
        currency="CNY",
        principal=Decimal("100000"),
        overdue_amount=Decimal("5000"),
        due_date=AS_OF.date() - dt.timedelta(days=dpd),
        timezone="Asia/Shanghai",
        signals=tuple(signals),
        events=tuple(events),
    )


ESCALATION = {p: _escalation_point(p) for p in Product}


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text + "+08:00")  # type: ignore[return-value]


def signed(decision: Decision) -> tuple[object, ...]:
    """What a manager signs: the levels, the quadrant and the remedies."""
    return (
        decision.quadrant,
        {k: (v.value, v.rules, v.presumed) for k, v in decision.levels.items()},
        [(g.remedy, g.rule_id, g.conditions) for g in decision.allowed],
        [(b.remedy, b.rules) for b in decision.blocked],
    )


# --------------------------------------------------------------------------- unknown


@BACKENDS
def test_nothing_known_in_p2_means_find_out(backend: str) -> None:
    decision = ENGINES[backend].decide(loan(5), as_of=AS_OF)
    assert decision.willingness.value == "unknown"
    assert decision.willingness.label_zh == "还款意愿待查"
    assert decision.ability.value == "unknown"
    assert decision.quadrant.value == "Q1"
    assert decision.levels["quadrant"].presumed
    assert decision.grant("negotiate") is not None
    block = decision.block("litigate")
    assert block is not None
    assert "R-P2-NO-LEGAL" in block.rules
    grace = decision.block("grace_period")
    assert grace is not None
    assert grace.rule_id == "R-NO-GRACE-WITHOUT-EVIDENCE"


@BACKENDS
@pytest.mark.parametrize("product", list(Product))
def test_silence_is_presumed_unwilling_just_past_the_escalation_point(
    backend: str, product: Product
) -> None:
    point = ESCALATION[product]
    engine = ENGINES[backend]
    on = engine.decide(loan(point, product=product), as_of=AS_OF)
    past = engine.decide(loan(point + 1, product=product), as_of=AS_OF)
    late = int(POLICY.param("presume_over_dpd"))
    # Past presume_over_dpd days (before PF-4's six months), silence is presumed anyway.
    assert on.willingness.value == ("unknown" if point <= late else "unwilling")
    rule = "W-PRESUMED-P3" if point < late else "W-PRESUMED-LATE"
    assert (past.willingness.value, past.willingness.rules) == ("unwilling", (rule,))
    assert past.willingness.presumed
    assert past.willingness.label_en == "unwilling to pay (presumed)"
    assert past.willingness.label_zh == "还款意愿差（推定）"
    data = json.loads(past.to_json())
    assert data["levels"]["willingness"]["presumed"] is True


@BACKENDS
def test_contact_lifts_the_p3_presumption_until_90_days(backend: str) -> None:
    reached = Event(EventKind.CONTACT_ATTEMPT, AS_OF.subtract(days=5), ContactOutcome.REACHED)
    engine = ENGINES[backend]
    assert engine.decide(loan(20, events=[reached]), as_of=AS_OF).willingness.value == "unknown"
    day90 = engine.decide(loan(90, events=[reached]), as_of=AS_OF)
    day91 = engine.decide(loan(91, events=[reached]), as_of=AS_OF)
    assert (day90.willingness.value, day90.quadrant.value) == ("unknown", "Q1")
    assert day91.willingness.rules == ("W-PRESUMED-LATE",)
    assert day91.quadrant.value == "Q4"


@BACKENDS
def test_q1_past_90_days_needs_current_evidence_of_both(backend: str) -> None:
    recent = AS_OF.subtract(days=2)
    good = Signal("commitment_signed", recent)
    covered = Signal("cash_coverage", recent, Decimal("1.5"))
    engine = ENGINES[backend]
    assert engine.decide(loan(200, [good, covered]), as_of=AS_OF).quadrant.value == "Q1"
    only_willing = engine.decide(loan(200, [good]), as_of=AS_OF)
    assert only_willing.quadrant.value == "Q2"
    assert only_willing.levels["quadrant"].rules == ("QUAD-Q2-ABILITY-PRESUMED",)
    stale = [attrs.evolve(s, observed_at=AS_OF.subtract(days=181)) for s in (good, covered)]
    assert engine.decide(loan(200, stale), as_of=AS_OF).quadrant.value == "Q4"


@st.composite
def silent_cases(draw: st.DrawFn) -> Case:
    """Cases past their plan's escalation point whose only evidence is stale."""
    case = draw(kit.cases(POLICY, as_of=AS_OF, kinds=(*GOOD_NOT_CURES, *ABILITY), max_kinds=4))
    window = int(POLICY.param("lookback_days"))
    extra = draw(st.integers(min_value=1, max_value=400))
    stale = tuple(
        attrs.evolve(s, observed_at=s.observed_at.subtract(days=window + 1)) for s in case.signals
    )
    dpd = ESCALATION[case.product] + draw(st.integers(min_value=1, max_value=extra))
    today = AS_OF.in_timezone(case.timezone).date()
    silent = attrs.evolve(
        case,
        signals=stale,
        events=(),
        overdue_amount=max(case.overdue_amount, Decimal("0.01")),
        due_date=today - dt.timedelta(days=dpd),
    )
    # Past the point is what the timeline says: at local midnight of the first day past
    # it, the escalation step's deadline is only just reached (still P2).
    assume(derive(silent, AS_OF, POLICY).facts["phase"] == "P3")
    return silent


@BACKENDS
@PROPERTY
@given(case=silent_cases())
def test_no_case_past_escalation_with_no_current_evidence_is_q1(backend: str, case: Case) -> None:
    decision = ENGINES[backend].decide(case, as_of=AS_OF)
    assert decision.quadrant.value in ("Q3", "Q4")
    assert decision.willingness.value == "unwilling"
    assert decision.willingness.presumed


# --------------------------------------------------------------------------- cured


@BACKENDS
def test_an_old_refusal_stays_in_force_and_the_trace_says_since_when(backend: str) -> None:
    seen = at("2026-02-05T10:00:00")
    decision = ENGINES[backend].decide(loan(200, [Signal("refused_to_pay", seen)]), as_of=AS_OF)
    assert decision.facts["refused_to_pay"] == 1
    assert decision.willingness.rules == ("W-REFUSED-TO-PAY",)
    assert not decision.willingness.presumed
    assert decision.willingness.in_force == {"refused_to_pay": seen.isoformat()}
    first = decision.trace[0]
    assert (first.rule_id, first.layer) == ("evidence.refused_to_pay", "evidence")
    assert first.outcome == f"refused_to_pay in force since {seen.isoformat()}"


CURES = {
    "payment": lambda t: Event(EventKind.PAYMENT, t, amount=Decimal("100")),
    "commitment event": lambda t: Event(EventKind.COMMITMENT_SIGNED, t),
    "retraction": lambda t: Event(EventKind.RETRACTION, t),
}


@BACKENDS
@pytest.mark.parametrize("cure", sorted(CURES))
def test_each_cure_lifts_the_signs_before_it_and_only_those(backend: str, cure: str) -> None:
    before = Signal("asset_transfer", at("2026-05-01T10:00:00"))
    after = Signal("promise_broken", at("2026-07-01T10:00:00"))
    event = CURES[cure](at("2026-06-01T10:00:00"))
    decision = ENGINES[backend].decide(loan(150, [before, after], [event]), as_of=AS_OF)
    assert decision.facts["asset_transfer"] == 0
    assert decision.facts["promise_broken"] == 1
    assert decision.willingness.rules == ("W-PROMISE-BROKEN",)
    lifted = [f for f in decision.trace if f.rule_id == "evidence.asset_transfer"]
    assert lifted
    assert "cured by" in lifted[0].outcome


def test_a_kept_promise_is_a_cure() -> None:
    refusal = Signal("uncooperative", at("2026-07-01T10:00:00"))
    promise = Event(
        EventKind.PROMISE_MADE,
        at("2026-07-02T10:00:00"),
        amount=Decimal("5000"),
        promised_date=dt.date(2026, 7, 5),
    )
    paid = Event(EventKind.PAYMENT, at("2026-07-04T10:00:00"), amount=Decimal("5000"))
    facts = derive(loan(60, [refusal], [promise, paid]), AS_OF, POLICY).facts
    assert facts["uncooperative"] == 0
    assert facts["promise_kept"] == 1


def test_a_retraction_naming_a_kind_lifts_only_that_kind() -> None:
    signs = [Signal("refused_to_pay", at("2026-07-01T10:00:00"))]
    signs.append(Signal("uncooperative", at("2026-07-01T10:00:00")))
    retract = Event(EventKind.RETRACTION, at("2026-07-02T10:00:00"), retracts="uncooperative")
    facts = derive(loan(60, signs, [retract]), AS_OF, POLICY).facts
    assert (facts["refused_to_pay"], facts["uncooperative"]) == (1, 0)


def test_retracts_is_checked() -> None:
    with pytest.raises(InputError, match="retracts: only a 'retraction' event"):
        Event(EventKind.PAYMENT, AS_OF, amount=Decimal(1), retracts="refused_to_pay")
    bad = Event(EventKind.RETRACTION, AS_OF, retracts="refused_to_pai")
    with pytest.raises(InputError, match=r"events\[0\]\.retracts: unknown signal kind"):
        derive(loan(5, events=[bad]), AS_OF, POLICY)


NOT_CURES = st.sampled_from(
    [
        lambda t: Signal("documents_provided", t),
        lambda t: Signal("raising_funds", t),
        lambda t: Event(EventKind.CONTACT_ATTEMPT, t, ContactOutcome.REACHED),
        lambda t: Event(EventKind.VISIT, t),
        lambda t: Event(EventKind.NOTICE_SENT, t),
        lambda t: Event(EventKind.DEBTOR_ACKNOWLEDGED, t),
    ]
)


@BACKENDS
@PROPERTY
@given(
    kind=st.sampled_from(W_SIGNS),
    age=st.integers(min_value=0, max_value=3 * 365),
    later=st.lists(st.tuples(NOT_CURES, st.integers(min_value=0, max_value=3 * 365)), max_size=4),
    cure=st.sampled_from(sorted(CURES)),
)
def test_a_cure_is_needed_to_lift_a_negative_sign(
    backend: str, kind: str, age: int, later: list[tuple[object, int]], cure: str
) -> None:
    seen = AS_OF.subtract(days=age, minutes=1)
    noise_signals: list[Signal] = []
    noise_events: list[Event] = []
    for make, back in later:
        item = make(AS_OF.subtract(days=min(back, age)))  # type: ignore[operator]
        (noise_signals if isinstance(item, Signal) else noise_events).append(item)
    case = loan(age + 30, [Signal(kind, seen), *noise_signals], noise_events)
    engine = ENGINES[backend]
    held = engine.decide(case, as_of=AS_OF)
    assert held.facts[kind] == 1
    assert held.willingness.value == "unwilling"
    assert kind in held.willingness.in_force
    cured_case = attrs.evolve(case, events=(*case.events, CURES[cure](seen.add(seconds=1))))
    cured = engine.decide(cured_case, as_of=AS_OF)
    assert cured.facts[kind] == 0
    assert kind not in cured.willingness.in_force


# --------------------------------------------------------------------------- W-SIGNS


@BACKENDS
def test_three_good_signs_do_not_outweigh_a_broken_promise(backend: str) -> None:
    recent = AS_OF.subtract(days=3)
    signs = [Signal(k, recent) for k in ("documents_provided", "raising_funds", "promise_kept")]
    signs.append(Signal("promise_broken", AS_OF.subtract(days=1)))
    decision = ENGINES[backend].decide(loan(30, signs), as_of=AS_OF)
    assert decision.willingness.value == "unwilling"


def test_weighting_stays_an_option_a_policy_chooses() -> None:
    path = Path(__file__).parent / "policies" / "weighted_willingness.toml"
    weighted = load_policy(path)
    layer = weighted.layer("willingness")
    assert layer.hit_policy.value == "collect_sum"
    weighted_rules = [r for r in layer.rules if r.score and not r.presumed]
    assert all(r.chosen and r.doc for r in weighted_rules if r.id != "W-Q2-DOWNGRADE")
    recent = AS_OF.subtract(days=3)
    good = ("documents_provided", "raising_funds", "promise_kept", "commitment_signed")
    signs = [Signal(k, recent) for k in good]
    signs.append(Signal("promise_broken", AS_OF.subtract(days=1)))
    decision = Engine(weighted, backend="python").decide(loan(30, signs), as_of=AS_OF)
    assert decision.willingness.value == "willing"  # four good signs outweigh it there
    assert ENGINES["python"].decide(loan(30, signs), as_of=AS_OF).willingness.value == ("unwilling")


# --------------------------------------------------------------------------- unreachable


def test_unreachable_is_a_contact_matter_not_a_w_sign() -> None:
    spec = POLICY.signals["unreachable"]
    assert (spec.dimension, spec.cites) == ("contact", ("L-UNREACHABLE",))
    assert all("unreachable" not in r.when.fields() for r in POLICY.layer("willingness").rules)


def _no_answers(end: pendulum.DateTime, count: int, outcome: ContactOutcome) -> list[Event]:
    return [
        Event(EventKind.CONTACT_ATTEMPT, end.subtract(hours=count - 1 - i), outcome)
        for i in range(count)
    ]


@BACKENDS
@PROPERTY
@given(
    case=kit.cases(
        POLICY, as_of=AS_OF, kinds=[k for k in POLICY.signals if k != "unreachable"], max_kinds=4
    ),
    hours=st.integers(min_value=3, max_value=24 * 300),
    outcome=st.sampled_from([ContactOutcome.NO_ANSWER, ContactOutcome.UNREACHABLE]),
)
def test_a_manual_unreachable_note_and_unanswered_calls_decide_alike(
    backend: str, case: Case, hours: int, outcome: ContactOutcome
) -> None:
    when = AS_OF.in_timezone(case.timezone).subtract(hours=hours)
    attempts = int(POLICY.param("unreachable_attempts"))
    noted = attrs.evolve(case, signals=(*case.signals, Signal("unreachable", when)))
    called = attrs.evolve(case, events=(*case.events, *_no_answers(when, attempts, outcome)))
    engine = ENGINES[backend]
    by_note, by_calls = engine.decide(noted, as_of=AS_OF), engine.decide(called, as_of=AS_OF)
    assert by_note.facts["unreachable"] == by_calls.facts["unreachable"]
    assert by_note.facts["debtor_contacted"] == by_calls.facts["debtor_contacted"]
    assert signed(by_note) == signed(by_calls)
    # Unreachability alone never makes the debtor unwilling.
    plain = engine.decide(case, as_of=AS_OF)
    assert by_note.willingness.value == plain.willingness.value


def test_one_call_short_is_not_unreachable_and_reaching_the_debtor_ends_it() -> None:
    attempts = int(POLICY.param("unreachable_attempts"))
    end = AS_OF.subtract(days=2)
    short = _no_answers(end, attempts - 1, ContactOutcome.NO_ANSWER)
    assert derive(loan(10, events=short), AS_OF, POLICY).facts["unreachable"] == 0
    full = _no_answers(end, attempts, ContactOutcome.NO_ANSWER)
    assert derive(loan(10, events=full), AS_OF, POLICY).facts["unreachable"] == 1
    invalid = [Event(EventKind.CONTACT_ATTEMPT, end, ContactOutcome.INVALID_NUMBER)]
    assert derive(loan(10, events=invalid), AS_OF, POLICY).facts["unreachable"] == 1
    reached = Event(EventKind.CONTACT_ATTEMPT, end.add(hours=1), ContactOutcome.REACHED)
    noted = Signal("unreachable", end)
    facts = derive(loan(10, [noted], [reached]), AS_OF, POLICY).facts
    assert facts["unreachable"] == 0


# --------------------------------------------------------------------------- signals = events

PAIRS = {
    "commitment_signed": lambda t: Event(EventKind.COMMITMENT_SIGNED, t),
    "refused_disposal": lambda t: Event(EventKind.REFUSED_DISPOSAL, t),
    "partial_payment": lambda t: Event(EventKind.PAYMENT, t, amount=Decimal("10")),
}


@BACKENDS
@PROPERTY
@given(
    case=kit.cases(POLICY, as_of=AS_OF, max_kinds=4),
    kind=st.sampled_from(sorted(PAIRS)),
    hours=st.integers(min_value=1, max_value=24 * 170),
)
def test_the_same_facts_as_signals_or_as_events_decide_alike(
    backend: str, case: Case, kind: str, hours: int
) -> None:
    when = AS_OF.in_timezone(case.timezone).subtract(hours=hours)
    overdue_since = pendulum.datetime(
        case.due_date.year, case.due_date.month, case.due_date.day, tz=case.timezone
    )
    if when < overdue_since:
        when = overdue_since.add(minutes=1)  # a payment counts from the due date on
    if when > AS_OF:
        return
    as_signal = attrs.evolve(case, signals=(*case.signals, Signal(kind, when)))
    as_event = attrs.evolve(case, events=(*case.events, PAIRS[kind](when)))
    engine = ENGINES[backend]
    one, other = engine.decide(as_signal, as_of=AS_OF), engine.decide(as_event, as_of=AS_OF)
    shared = [*POLICY.signals, "debtor_contacted"]
    assert {k: one.facts.get(k) for k in shared} == {k: other.facts.get(k) for k in shared}
    assert signed(one) == signed(other)


# --------------------------------------------------------------------------- Q2


@BACKENDS
def test_the_q2_fraud_guard_conditions_an_unverified_extension(backend: str) -> None:
    recent = AS_OF.subtract(days=2)
    base = [
        Signal("raising_funds", recent),
        Signal("health_issue", recent),
        Signal("recovery_months", recent, Decimal(12)),
    ]
    engine = ENGINES[backend]
    unverified = engine.decide(loan(20, base), as_of=AS_OF)
    for remedy in ("extend", "replan", "restructure", "refinance"):
        grant = unverified.grant(remedy)
        assert grant is not None
        assert grant.conditions[0] == "verify the hardship evidence first"
    verified = engine.decide(loan(20, [*base, Signal("hardship_verified", recent)]), as_of=AS_OF)
    extend = verified.grant("extend")
    assert extend is not None
    assert extend.rule_id == "R-Q2-EXTEND"
    assert "verify the hardship evidence first" not in extend.conditions


@BACKENDS
def test_q2_downgrade_after_the_named_negotiation_rounds(backend: str) -> None:
    recent = AS_OF.subtract(days=2)
    base = [Signal("raising_funds", recent), Signal("sales_decline", recent)]
    rounds = int(POLICY.param("downgrade_refusals"))
    refusals = [Signal("refused_disposal", AS_OF.subtract(days=10 + i)) for i in range(rounds)]
    engine = ENGINES[backend]
    before = engine.decide(loan(60, [*base, *refusals[:-1]]), as_of=AS_OF)
    after = engine.decide(loan(60, [*base, *refusals]), as_of=AS_OF)
    assert (before.quadrant.value, after.quadrant.value) == ("Q2", "Q4")
    assert after.willingness.rules == ("W-Q2-DOWNGRADE",)
    assert "Q2-DOWNGRADE" in after.trace[-1].cites or any(
        "Q2-DOWNGRADE" in f.cites for f in after.trace
    )


# --------------------------------------------------------------------------- L-PROMISE3


def _promise(days: int) -> Event:
    made = at("2026-04-01T10:00:00")
    return Event(
        EventKind.PROMISE_MADE,
        made,
        amount=Decimal("5000"),
        promised_date=made.date() + dt.timedelta(days=days),
    )


@pytest.mark.parametrize(
    ("days", "deferred"),
    [(2, True), (3, True), (4, False), (7, False)],
)
def test_only_a_promise_within_three_days_defers_the_visit(days: int, deferred: bool) -> None:
    case = attrs.evolve(loan(0), due_date=dt.date(2026, 3, 31), events=(_promise(days),))
    step = build_timeline(case, as_of=at("2026-04-03T12:00:00"), policy=POLICY).step("L-3D")
    if deferred:
        assert step.status in (StepStatus.SKIPPED, StepStatus.PAUSED)
    else:
        assert step.status is StepStatus.OPEN
        assert step.due_at == at("2026-04-04T00:00:00")
    # The promise is recorded either way.
    facts = derive(case, at("2026-04-03T12:00:00"), POLICY).facts
    assert facts["promises_made"] == 1


def test_promise_wait_must_name_a_whole_day_parameter() -> None:
    data = json.loads(json.dumps(POLICY.data))
    data["timeline"]["plans"]["loan"][3]["promise_wait"] = "promise_wait_dayz"
    with pytest.raises(PolicyError, match="promise_wait: expected the name of a parameter"):
        policy_from_dict(data)


# --------------------------------------------------------------------------- honest labels


def test_labels() -> None:
    from collectrules import Quadrant, Remedy

    assert Quadrant.Q4.label_zh == "第四类：无还款意愿，还款能力减弱或丧失"
    assert "无还款能力" not in Quadrant.Q4.label_zh
    assert Remedy.VISIT.label_zh == "上门催收"
    ability = POLICY.layer("ability").labels
    assert ability["temporarily_unable"][1] == "暂时没有还款能力"


def test_policy_made_signals_and_rules_say_so() -> None:
    for kind in ("fraud_suspected", "promise_kept", "partial_payment", "income_loss"):
        spec = POLICY.signals[kind]
        assert spec.chosen, kind
        assert spec.doc, kind
    for layer in POLICY.layers:
        for rule in layer.rules:
            if rule.presumed and rule.id != "W-PRESUMED-P3":
                assert rule.chosen, rule.id
                assert rule.doc, rule.id


def test_the_policy_keys_are_checked(default_policy: Policy) -> None:
    data = json.loads(json.dumps(default_policy.data))
    data["layers"][0]["rules"][0]["presumed"] = "yes"
    with pytest.raises(PolicyError, match="presumed: expected true or false"):
        policy_from_dict(data)
