"""Hostile input to the compliance and assets entry points: each is refused with an
``InputError`` naming the field, never Python's own error, a hang, or a contact
allowed on a flag the caller never set.

Each test names what happened before: the exception raised, or the wrong answer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from decimal import Decimal
from functools import cache
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectrules as cr
from collectrules import AssetPlan, Contact, Guardrails, InputError
from collectrules.compliance.buckets import MAX_INSTANTS, dpd_at
from collectrules.errors import quote
from helpers import AS_OF, case_dict

SH = "Asia/Shanghai"
NY = "America/New_York"


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


#: Values of the wrong kind for an argument.
GARBAGE: tuple[Any, ...] = (
    None,
    b"\xff\xfe",
    [],
    {},
    object(),
    10**400,
    float("nan"),
    float("inf"),
    "",
    "\ud800",
    -1,
    _deep(10_000),
)


def _id(value: object) -> str:
    return quote(value, limit=30)


def _refused(exc: pytest.ExceptionInfo[InputError], field: str, expected: str) -> None:
    """The error names ``field`` and says what was expected."""
    assert exc.value.paths == (field,)
    assert expected in str(exc.value)
    assert str(exc.value).startswith(f"{field}: ")


@cache
def _guardrails(policy: str) -> Guardrails:
    return Guardrails(policy)


@cache
def _policy(name: str) -> cr.Policy:
    return cr.load_policy(name)


def _case(**overrides: Any) -> cr.Case:
    return cr.Case.from_dict(case_dict(**overrides))


# --------------------------------------------------------------------------- Contact

#: Truth values a caller may mean as false, and what else a flag cannot be.
NOT_FLAGS: tuple[Any, ...] = ("false", "no", "0", 0, 1, "true", *GARBAGE)


@pytest.mark.parametrize("value", NOT_FLAGS, ids=_id)
@pytest.mark.parametrize("field", ["consent", "mentions_suit", "opt_out"])
def test_a_contact_flag_that_is_not_true_or_false_is_refused(field: str, value: Any) -> None:
    # Before: any value was kept as given; a text or a number was read by its truth.
    if field == "opt_out" and value is None:
        assert Contact("email", "debtor", AS_OF, opt_out=None).opt_out is None
        return
    with pytest.raises(InputError) as exc:
        Contact("phone", "debtor", AS_OF, **{field: value})
    _refused(exc, field, "expected true")


@given(
    field=st.sampled_from(["consent", "mentions_suit", "opt_out"]),
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.binary(max_size=5),
        st.lists(st.booleans(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
    ),
)
@settings(max_examples=200, deadline=None)
def test_any_flag_that_is_no_bool_is_refused_naming_it(field: str, value: Any) -> None:
    with pytest.raises(InputError) as exc:
        Contact("phone", "debtor", AS_OF, **{field: value})
    assert exc.value.paths == (field,)


@pytest.mark.parametrize("field", ["consent", "mentions_suit", "opt_out"])
@pytest.mark.parametrize("value", [True, False])
def test_a_contact_flag_of_true_or_false_is_kept(field: str, value: bool) -> None:
    contact = Contact("phone", "debtor", AS_OF, **{field: value})
    assert getattr(contact, field) is value
    assert contact.to_dict()[field] is value


def test_an_opt_out_of_zero_no_longer_passes_as_an_opt_out() -> None:
    # Before: opt_out=0 is not False, so REGF-OPTOUT allowed the e-mail: "the message
    # carries an opt-out".
    case = _case(timezone=NY, currency="USD")
    with pytest.raises(InputError) as exc:
        _guardrails("us_regf").check(
            case, Contact("email", "debtor", "2026-07-14T10:00:00-04:00", opt_out=0), history=[]
        )
    _refused(exc, "opt_out", "expected true, false or None")
    blocked = _guardrails("us_regf").check(
        case, Contact("email", "debtor", "2026-07-14T10:00:00-04:00", opt_out=False), history=[]
    )
    assert not blocked.allowed


@pytest.mark.parametrize("consent", ["false", "no"])
def test_a_consent_written_as_text_no_longer_opens_the_night(consent: str) -> None:
    # Before: consent="false" is a true value, so the CN hours rule let a 23:30 call
    # through: "but the debtor consented to this time".
    guard = _guardrails("cn_bank_loan")
    case = _case()
    with pytest.raises(InputError) as exc:
        guard.check(case, Contact("phone", "debtor", "2026-04-03T23:30:00+08:00", consent=consent))
    _refused(exc, "consent", "expected true or false")
    with pytest.raises(InputError) as exc:
        guard.next_allowed(
            case, "phone", "debtor", after="2026-04-03T23:30:00+08:00", consent=consent, history=[]
        )
    _refused(exc, "consent", "expected true or false")
    late = Contact("phone", "debtor", "2026-04-03T23:30:00+08:00", consent=False)
    assert not guard.check(case, late, history=[]).allowed


# --------------------------------------------------------------------------- JSON


@cache
def _verdict() -> cr.Verdict:
    return _guardrails("cn_bank_loan").check(_case(), Contact("phone", "debtor", AS_OF), history=[])


@cache
def _plan() -> AssetPlan:
    data = case_dict(("refused_to_pay", None), ("cash_coverage", 1.5))
    data["events"] = [
        {
            "kind": "asset_found",
            "at": "2026-04-02T09:00:00+08:00",
            "asset_class": "real_estate",
            "amount": "5000",
        }
    ]
    return cr.Engine("default", backend="python").asset_plan(cr.Case.from_dict(data), as_of=AS_OF)


#: Indents json.dumps fails on (TypeError, OverflowError) or spends seconds on.
BAD_INDENTS: tuple[Any, ...] = (
    -1,
    17,
    10**9,
    10**400,
    "  ",
    b"x",
    2.0,
    float("nan"),
    [],
    {},
    object(),
    True,
    _deep(10_000),
)


@pytest.mark.parametrize("indent", BAD_INDENTS, ids=_id)
@pytest.mark.parametrize("what", ["verdict", "asset_plan"])
def test_an_indent_that_is_not_0_to_16_is_refused(what: str, indent: Any) -> None:
    # Before: TypeError "can't multiply sequence by non-int", OverflowError "cannot fit
    # 'int' into an index-sized integer", or a gigabyte of spaces for 10**9.
    made = _verdict() if what == "verdict" else _plan()
    started = time.process_time()
    with pytest.raises(InputError) as exc:
        made.to_json(indent=indent)
    assert time.process_time() - started < 1
    _refused(exc, "indent", "expected an integer")


@pytest.mark.parametrize("what", ["verdict", "asset_plan"])
def test_an_indent_from_0_to_16_or_none_writes_as_before(what: str) -> None:
    made = _verdict() if what == "verdict" else _plan()
    for indent in (None, 0, 2, 16):
        assert made.to_json(indent=indent).startswith("{")
    assert "\n" + " " * 16 + '"' in made.to_json(indent=16)


@pytest.mark.parametrize("class_id", [5, None, b"x", ["real_estate"], object(), 10**400], ids=_id)
def test_an_asset_class_id_that_is_no_text_is_refused(class_id: Any) -> None:
    # Before: TypeError from difflib ("'int' object is not iterable", "unhashable type").
    plan = _plan()
    with pytest.raises(InputError) as exc:
        plan.item(class_id)
    _refused(exc, "class_id", "expected an asset class id, a text")
    assert plan.item("real_estate").found_value == Decimal(5000)
    with pytest.raises(InputError) as unknown:
        plan.item("real_estat")
    assert unknown.value.problems[0].suggestion == "real_estate"


# --------------------------------------------------------------------------- buckets


def test_bucket_history_refuses_more_instants_than_its_limit() -> None:
    # Before: 200,000 instants took 7 s; with 1,000 payments, 1,000 instants took 4 s.
    case = _case()
    start = pendulum.datetime(2026, 1, 1, tz=SH)
    many = [start.add(hours=i) for i in range(MAX_INSTANTS + 1)]
    with pytest.raises(InputError) as exc:
        cr.bucket_history(case, many, policy=_policy("cn_bank_loan"), bucket_set="M")
    _refused(exc, "as_of", f"at most {MAX_INSTANTS:,}")
    history = cr.bucket_history(case, many[:-1], policy=_policy("cn_bank_loan"), bucket_set="M")
    assert len(history.observations) == MAX_INSTANTS


def test_bucket_history_of_an_endless_iterable_is_refused_at_once() -> None:
    # Before: itertools.repeat(AS_OF) never returned.
    started = time.process_time()
    with pytest.raises(InputError) as exc:
        cr.bucket_history(
            _case(), itertools.repeat(AS_OF), policy=_policy("cn_bank_loan"), bucket_set="M"
        )
    assert time.process_time() - started < 2
    _refused(exc, "as_of", "more than")


def test_bucket_history_of_many_payments_and_instants_is_quick() -> None:
    # Before: each instant summed every payment again: 1,000 payments and 1,000
    # instants took about 4 s.
    data = case_dict()
    data["events"] = [
        {
            "kind": "payment",
            "at": f"2026-0{1 + i % 3}-{1 + i % 28:02d}T10:00:00+08:00",
            "amount": "1",
        }
        for i in range(1000)
    ]
    case = cr.Case.from_dict(data)
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    instants = [start.add(hours=i) for i in range(1000)]
    started = time.process_time()
    history = cr.bucket_history(case, instants, policy=_policy("cn_bank_loan"), bucket_set="M")
    assert time.process_time() - started < 2
    sample = history.observations[::50]
    last = history.observations[-1].as_of
    assert [o.dpd for o in sample] == [dpd_at(case, o.as_of, recorded_at=last) for o in sample]


_DAYS = st.integers(min_value=0, max_value=400)


@given(
    overdue=st.sampled_from(["0", "1", "5000", "0.00000001"]),
    payments=st.lists(
        st.tuples(_DAYS, st.integers(0, 23), st.sampled_from(["1", "2500", "5000", "0.5"])),
        max_size=8,
    ),
    instants=st.lists(st.tuples(_DAYS, st.integers(0, 23)), min_size=1, max_size=8),
    zone=st.sampled_from([SH, NY, "UTC", "Pacific/Kiritimati"]),
)
@settings(max_examples=150, deadline=None)
def test_bucket_history_counts_dpd_as_dpd_at_does(
    overdue: str,
    payments: list[tuple[int, int, str]],
    instants: list[tuple[int, int]],
    zone: str,
) -> None:
    base = pendulum.datetime(2026, 1, 1, tz=zone)
    data = case_dict(overdue_amount=overdue, due_date="2026-02-15", timezone=zone, signals=[])
    data["events"] = [
        {"kind": "payment", "at": base.add(days=d, hours=h).isoformat(), "amount": amount}
        for d, h, amount in payments
    ]
    case = cr.Case.from_dict(data)
    # Each payment's own instant is among those asked: a payment counts as made after it.
    asked = [base.add(days=d, hours=h) for d, h in instants] + [
        base.add(days=d, hours=h) for d, h, _ in payments
    ]
    history = cr.bucket_history(case, asked, policy=_policy("cn_bank_loan"), bucket_set="M")
    last = history.observations[-1].as_of
    for obs in history.observations:
        assert obs.dpd == dpd_at(case, obs.as_of, recorded_at=last)


@pytest.mark.parametrize("case", GARBAGE, ids=_id)
def test_dpd_at_refuses_what_is_not_a_case(case: Any) -> None:
    # Before: AttributeError "'NoneType' object has no attribute 'overdue_amount'".
    with pytest.raises(InputError) as exc:
        dpd_at(case, AS_OF)
    _refused(exc, "case", "expected a Case")


def test_dpd_at_of_a_case_is_unchanged() -> None:
    case = _case()
    assert dpd_at(case, AS_OF) == 3
    assert dpd_at(case, dt.datetime(2026, 3, 31, 23, tzinfo=dt.UTC)) == 1
