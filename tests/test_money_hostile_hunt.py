"""Hostile values for plans, the ``[money]`` figures of a policy, assets and urgency.

Each test drives a public entry point with a value an attacker or a slip could give
(a rate of 1E-999999999, a start late in the last supported year, a ``-0.0`` cap, an
LPR dated in year 1, an argument of another kind) and checks that the library either
gives a sound result (exact, within the supported years, written without ``-0``) or
raises a :class:`~collectrules.errors.CollectRulesError` naming the field, in bounded
time. Each one once failed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, Engine, load_policy
from collectrules.assets.checklist import asset_facts, asset_plan_of, assets_of, findings
from collectrules.calendars import BusinessCalendar
from collectrules.cli import main
from collectrules.errors import CollectRulesError, InputError, PolicyError
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.money import Method, PlanTerms, build_schedule, propose_plan
from collectrules.money.plans import quantum
from collectrules.timeline.urgency import Urgency, urgency_of

T = TypeVar("T")

CASES = Path(__file__).parent.parent / "examples" / "cases"
AS_OF = "2026-05-01T09:00:00+08:00"
BOUNDED = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Values of every kind a caller could pass where an object of the library is expected.
WRONG_KINDS: tuple[object, ...] = ("x", None, 5, Decimal("NaN"), b"\xff", [], {}, object())


def _bounded(call: Callable[[], T]) -> T | None:
    """``call()``, which must return or raise a CollectRulesError, within a second of
    this process's own time; ``None`` when it raised."""
    started = time.process_time()
    try:
        return call()
    except CollectRulesError:
        return None
    finally:
        assert time.process_time() - started < 1.0


def _case() -> Case:
    return Case.from_dict(json.loads((CASES / "q2_health_short.json").read_text("utf-8")))


def _extension(policy: Any, terms: PlanTerms) -> Any:
    """The extension plan of the example case under ``policy``, decided at AS_OF."""
    case = _case()
    decision = Engine(policy, backend="python").decide(case, as_of=AS_OF)
    return propose_plan(case, decision, kind="extend", as_of=AS_OF, terms=terms, policy=policy)


def _policy(tmp_path: Path, money: str) -> Any:
    path = tmp_path / "lender.toml"
    path.write_text(f'extends = "cn_bank_loan"\nid = "lender"\nversion = "1"\n{money}\n')
    return load_policy(path)


# --------------------------------------------------------------------------- plan rates

#: Rates of every magnitude and length, valid or not, as Decimal, text and float.
RATES = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
        st.integers(min_value=1, max_value=10**60),
        st.integers(min_value=-1_000_000_000, max_value=2),
    ),
    st.floats(),
    st.sampled_from(["-0", "1e-999999999", "0." + "1" * 5000, "5e-324", "9.99999999999999999999"]),
)


@BOUNDED
@given(rate=RATES)
def test_a_plan_rate_is_one_a_case_could_hold_and_the_agreement_shows_it(rate: object) -> None:
    """A rate PlanTerms accepts has the digits a case's rate may have (20 significant,
    none below 1E-12 but zero), so that the agreement's "x %" is the rate itself: a rate
    of 1E-999999999 was once accepted and shown as "0 %", and one of 5,000 digits
    written whole in the plan."""
    terms = _bounded(lambda: PlanTerms(months=6, annual_rate=rate))
    if terms is None:
        return
    accepted = terms.annual_rate
    assert accepted.is_finite()
    assert 0 <= accepted < 10
    assert not accepted.is_signed()
    assert accepted.is_zero() or accepted.adjusted() >= -12
    assert len(bytes(accepted.as_tuple().digits).rstrip(b"\0")) <= 20
    # The rate as the agreement writes it reads back as the rate.
    schedule = build_schedule(
        Decimal("1200.00"), accepted, 6, currency="CNY", start=dt.date(2026, 1, 31)
    )
    assert sum((i.principal for i in schedule), Decimal(0)) == Decimal("1200.00")


@pytest.mark.parametrize("rate", ["1e-999999999", "1E-13", "0." + "1" * 21])
def test_a_rate_of_too_many_digits_or_too_small_names_the_rate(rate: str) -> None:
    with pytest.raises(InputError) as caught:
        PlanTerms(months=6, annual_rate="0.06", penalty_rate=rate)
    assert [p.path for p in caught.value.problems] == ["terms.penalty_rate"]
    assert "1E-12" in str(caught.value) or "20 significant digits" in str(caught.value)


def test_an_agreement_never_shows_a_non_zero_rate_as_zero() -> None:
    plan = _extension(load_policy("cn_bank_loan"), PlanTerms(months=6, annual_rate="1E-12"))
    assert "| annual rate / 年利率 | 0.0000000001 % |" in plan.to_markdown()


# --------------------------------------------------------------------------- the years


@BOUNDED
@given(
    start=st.dates(min_value=dt.date(MAX_YEAR - 60, 1, 1), max_value=dt.date(MAX_YEAR, 12, 31)),
    months=st.one_of(st.integers(min_value=1, max_value=600), st.just(10**12)),
    calendar=st.booleans(),
    currency=st.sampled_from(["CNY", "JPY", "BHD", "CLF", "XXX", "XTS", "ZZZ"]),
)
def test_every_instalment_falls_due_within_the_supported_years(
    start: dt.date, months: int, calendar: bool, currency: str
) -> None:
    """A schedule whose instalments would fall due after the last supported year (a
    start of 2200-12-31 and 600 months ran to 2250) is refused naming ``terms.months``:
    no case could hold such a date. What is built repays the principal exactly, in the
    currency's minor unit, and is the same twice."""
    cal = BusinessCalendar(country="CN") if calendar else None

    def build() -> Any:
        return build_schedule(
            Decimal("100000"), Decimal("0.06"), months, currency=currency, start=start, calendar=cal
        )

    schedule = _bounded(build)
    if schedule is None:
        with pytest.raises(InputError) as caught:
            build()
        assert {p.path for p in caught.value.problems} <= {"terms.months", "terms.currency"}
        return
    assert all(MIN_YEAR <= i.due_date.year <= MAX_YEAR for i in schedule)
    q = quantum(currency)
    assert sum((i.principal for i in schedule), Decimal(0)) == Decimal("100000")
    assert all(i.payment == i.payment.quantize(q) for i in schedule)
    assert not any(isinstance(v, float) for i in schedule for v in i.to_dict().values())
    assert [i.to_dict() for i in build()] == [i.to_dict() for i in schedule]


def test_a_plan_past_the_last_year_names_months_and_the_date() -> None:
    with pytest.raises(InputError) as caught:
        build_schedule(
            Decimal("1000"),
            Decimal("0.06"),
            600,
            currency="CNY",
            start=dt.date(MAX_YEAR, 12, 31),
            method=Method.EQUAL_PRINCIPAL,
        )
    assert [p.path for p in caught.value.problems] == ["terms.months"]
    assert "2250-12-31" in str(caught.value)


# --------------------------------------------------------------------------- policy figures


#: A negative zero as a number is written ("-0", "-0.0"), not a date's "-01".
NEGATIVE_ZERO = re.compile(r"(?<![\w-])-0(?:\.0*)?(?![\d.])")


@pytest.mark.parametrize("zero", ["-0.0", "0.0", "-0"])
def test_a_zero_money_figure_is_written_without_a_sign(tmp_path: Path, zero: str) -> None:
    """A ``-0.0`` in ``[money]`` was kept as ``-0.0``: a plan's cap checks read "cap
    -0.0" and "4 × LPR -0.0 … = -0.0"."""
    policy = _policy(
        tmp_path,
        f'[money.rate_cap]\nrule = "R"\nlpr = {zero}\nlpr_date = "2026-01-01"\nmultiple = 4\n'
        f'[money.penalty_cap]\nrule = "P"\nexcess = {zero}\n'
        f"[money.targets.t]\nrate = {zero}\n",
    )
    plan = _extension(policy, PlanTerms(months=6, annual_rate="0", penalty_rate="0"))
    written = json.dumps(plan.to_dict()) + plan.to_markdown() + plan.to_html()
    assert NEGATIVE_ZERO.search(written) is None
    assert NEGATIVE_ZERO.search(repr(policy.sections["money"].targets)) is None


@pytest.mark.parametrize(
    "lpr_date",
    ["0001-01-01", "9999-12-31", '"0001-01-01"', '"2201-01-01"', '"1899-12-31"', "2201-01-01"],
)
def test_an_lpr_date_outside_the_supported_years_is_refused(tmp_path: Path, lpr_date: str) -> None:
    with pytest.raises(PolicyError) as caught:
        _policy(
            tmp_path,
            f'[money.rate_cap]\nrule = "R"\nlpr = 0.03\nlpr_date = {lpr_date}\nmultiple = 4\n',
        )
    assert "money.rate_cap.lpr_date" in str(caught.value)
    assert f"{MIN_YEAR}–{MAX_YEAR}" in str(caught.value)
    assert "lender.toml:" in str(caught.value)


# --------------------------------------------------------------------------- assets, urgency


@pytest.mark.parametrize("value", WRONG_KINDS, ids=lambda v: type(v).__name__)
def test_the_asset_checklist_functions_refuse_arguments_of_another_kind(value: object) -> None:
    """``assets_of``, ``findings``, ``asset_facts`` and ``asset_plan_of`` raised
    ``AttributeError`` or ``TypeError`` on an argument of another kind."""
    policy = load_policy("cn_bank_loan")
    case = _case()
    when = pendulum.parse(AS_OF)
    section = assets_of(policy)
    assert section is not None
    calls: list[Callable[[], object]] = [
        lambda: assets_of(value),  # type: ignore[arg-type]
        lambda: findings(value, when, section),  # type: ignore[arg-type]
        lambda: findings(case, value, section),  # type: ignore[arg-type]
        lambda: findings(case, when, value),  # type: ignore[arg-type]
        lambda: asset_facts(case, value, section),  # type: ignore[arg-type]
        lambda: asset_facts(value, when, section),  # type: ignore[arg-type]
        lambda: asset_plan_of(value, when, policy, frozenset(), {}),  # type: ignore[arg-type]
        lambda: asset_plan_of(case, when, value, frozenset(), {}),  # type: ignore[arg-type]
        lambda: asset_plan_of(case, when, policy, value, {}),  # type: ignore[arg-type]
        lambda: asset_plan_of(case, when, policy, frozenset(), value),  # type: ignore[arg-type]
    ]
    if value == {} or value == []:
        calls = calls[:-2]  # an empty mapping or set is a valid "none"; [] is refused below
    for call in calls:
        with pytest.raises(InputError):
            call()


def test_findings_refuse_a_naive_as_of() -> None:
    policy = load_policy("cn_bank_loan")
    section = assets_of(policy)
    assert section is not None
    with pytest.raises(InputError) as caught:
        findings(_case(), dt.datetime(2026, 5, 1), section)
    assert [p.path for p in caught.value.problems] == ["as_of"]


@pytest.mark.parametrize("value", WRONG_KINDS, ids=lambda v: type(v).__name__)
def test_urgency_of_refuses_arguments_of_another_kind(value: object) -> None:
    engine = Engine(load_policy("cn_bank_loan"), backend="python")
    case = _case()
    timeline = engine.timeline(case, as_of=AS_OF)
    with pytest.raises(InputError, match="timeline"):
        urgency_of(value, case)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="case"):
        urgency_of(timeline, value)  # type: ignore[arg-type]


FIELDS = {
    "case_id": "C-1",
    "breached": 0,
    "hard_limit": None,
    "emergency": False,
    "amount_at_risk": Decimal("10.00"),
    "steps": (),
}


@BOUNDED
@given(
    name=st.sampled_from(sorted(FIELDS)),
    value=st.one_of(
        st.decimals(),
        st.integers(),
        st.floats(),
        st.text(max_size=5),
        st.none(),
        st.booleans(),
        st.datetimes(),
        st.sampled_from([Decimal("-0"), Decimal("sNaN"), Decimal("1e999999"), ("a", 1)]),
    ),
)
def test_an_urgency_has_a_total_order_or_is_an_input_error(name: str, value: object) -> None:
    """An :class:`Urgency` whose amount was a text or a NaN was built, then failed in
    its ``key`` (``TypeError``) or when sorted (``InvalidOperation``)."""
    built = _bounded(lambda: Urgency(**{**FIELDS, name: value}))
    if built is None:
        with pytest.raises(InputError) as caught:
            Urgency(**{**FIELDS, name: value})
        assert [p.path for p in caught.value.problems] == [name]
        return
    other = Urgency(**FIELDS)
    ordered = sorted([built, other], key=lambda u: u.key)
    assert sorted([other, built], key=lambda u: u.key) == ordered
    assert json.loads(json.dumps(built.to_dict())) == built.to_dict()


# --------------------------------------------------------------------------- the plan command

#: An extension of the example case, as JSON; the test adds ``--months``.
PLAN = [
    *("plan", str(CASES / "q2_health_short.json"), "--as-of", AS_OF),
    *["--policy", "cn_bank_loan", "--kind", "extend", "--rate", "0.06", "--format", "json"],
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(zeros=st.integers(min_value=0, max_value=20_000), months=st.integers(0, 10**7))
def test_plan_reads_months_with_any_number_of_leading_zeros(
    capsys: pytest.CaptureFixture[str], zeros: int, months: int
) -> None:
    """``--months`` of 4,300 characters or more, however many of them were leading
    zeros ("000…0006"), gave Python's ``ValueError`` (the limit of int-to-text
    conversion) instead of reading 6 or naming ``--months``."""
    capsys.readouterr()
    started = time.process_time()
    code = main([*PLAN, "--months", "0" * zeros + str(months)])
    out, err = capsys.readouterr()
    assert time.process_time() - started < 5.0
    if 1 <= months <= 24:  # within cn_bank_loan's recovery horizon
        assert code == 0, err
        assert len(json.loads(out)["instalments"]) == months
    else:
        assert code in (1, 2)
        assert err.startswith("error: --months: ")
        assert "Traceback" not in err
