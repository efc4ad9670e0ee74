"""The fact model: cases, signals, events and guarantors, validated on construction.

Every class here is a frozen attrs class. ``Case.from_dict`` structures plain data (a
dict decoded from JSON, a CSV row turned into a dict) with cattrs and reports *every*
invalid field, each with its path, for example
``signals[2].observed_at: naive datetime; give an offset or a zone``.

Well-formed data, the common case, takes a fast path (``_fast_case``, at the end of
this module) that makes the same checks in one pass and builds an identical case about
six times sooner. Data it does not accept goes to a reader of the common faults
(``_fast_problems``), which finds the problems the full path reports, with its hooks and
in its order, about five times sooner; what that reader cannot be sure of goes the full
way. Either way, errors are the same.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import operator
import re
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any, NewType, TypeGuard, TypeVar

import attrs
import cattrs
import pendulum
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from collectrules._arguments import wrong_kind
from collectrules._choice import Choice
from collectrules._decimal import CONTEXT, exact
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.model.limits import (
    MAX_AS_OF_YEAR,
    MAX_COUNT,
    MAX_EVENTS,
    MAX_FEES,
    MAX_GUARANTORS,
    MAX_ID_LENGTH,
    MAX_KEYS,
    MAX_KIND_LENGTH,
    MAX_NUMBER_TEXT,
    MAX_SIGNALS,
    MAX_TEXT_LENGTH,
    MAX_YEAR,
    MEASURE,
    MIN_AS_OF_YEAR,
    MIN_YEAR,
    MONEY,
    NO_DATE_SENTINELS,
    NUMBER_TEXT,
    NumberLimit,
    check_date,
    check_instant,
    check_nesting,
    check_number,
    check_text,
)

__all__ = [
    "COMMUNICATION_EVENTS",
    "CURRENCY_ALIASES",
    "DEFAULT_SIGNAL_KINDS",
    "SHARE_FIELDS",
    "STANDARD_PRODUCTS",
    "Case",
    "ContactOutcome",
    "Event",
    "EventKind",
    "Fee",
    "Guarantor",
    "Product",
    "ProductSpec",
    "Signal",
    "concerns_debtor",
    "currency_codes",
    "currency_exponent",
    "currency_problem",
    "currency_suggestion",
    "derived_signal",
    "is_communication",
    "is_promise",
    "minor_unit",
    "of_nothing",
    "parse_as_of",
    "parse_date",
    "pays",
    "product_name",
    "to_minor_units",
    "zone",
]


class Product(Choice):
    """The kind of credit a case is about: the standard catalogue.

    Products are an open vocabulary: a policy may add its own in
    ``[catalogue.products]`` (a ``mortgage``), and a case's ``product`` is then the
    plain name. A case is checked against its policy's catalogue when it is decided.
    """

    LOAN = "loan"
    CREDIT_CARD = "credit_card"
    RECEIVABLE = "receivable"
    PROPERTY_FEE = "property_fee"

    @property
    def label_en(self) -> str:
        """English label."""
        return _PRODUCT_LABELS[self][0]

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return _PRODUCT_LABELS[self][1]


_PRODUCT_LABELS = {
    Product.LOAN: ("loan", "贷款"),
    Product.CREDIT_CARD: ("credit card", "信用卡"),
    Product.RECEIVABLE: ("receivable", "应收账款"),
    Product.PROPERTY_FEE: ("property fee", "物业费"),
}


@attrs.frozen
class ProductSpec:
    """One product of a catalogue: its name, labels and citations.

    ``category`` is the standard product a policy's own product is a kind of (a
    ``mortgage`` is a ``loan``): the contact guardrails keyed by products (card
    channels, the credit-bureau duty) treat it as that product. ``None`` for a standard
    product, and for an own product that declares none, to which those guardrails
    apply their strictest default.
    """

    name: str
    label_en: str
    label_zh: str
    cites: tuple[str, ...] = ()
    standard: bool = False
    category: str | None = None


#: The standard product catalogue, in the order of :class:`Product`: every policy has it.
STANDARD_PRODUCTS: Mapping[str, ProductSpec] = {
    p: ProductSpec(p, *_PRODUCT_LABELS[p], standard=True) for p in Product
}
_PRODUCTS_BY_NAME: Mapping[str, Product] = {p.value: p for p in Product}


def product_name(name: str) -> str:
    """``name`` as products are held: the :class:`Product` member for a standard one,
    the plain string for a policy's own."""
    return _PRODUCTS_BY_NAME.get(name, name)


class EventKind(Choice):
    """What happened on a case, at a time: the input of the timeline."""

    PAYMENT = "payment"
    CONTACT_ATTEMPT = "contact_attempt"
    VISIT = "visit"
    DEMAND_LETTER_SIGNED = "demand_letter_signed"
    REPORT_FILED = "report_filed"
    PLAN_ISSUED = "plan_issued"
    NOTICE_SENT = "notice_sent"
    LAWYER_LETTER_SENT = "lawyer_letter_sent"
    DEMAND_DELIVERED = "demand_delivered"
    PROMISE_MADE = "promise_made"
    DEBTOR_ACKNOWLEDGED = "debtor_acknowledged"
    SUIT_FILED = "suit_filed"
    ARBITRATION_FILED = "arbitration_filed"
    JUDGMENT_EFFECTIVE = "judgment_effective"
    VALIDATION_NOTICE_SENT = "validation_notice_sent"
    COMMITMENT_SIGNED = "commitment_signed"
    REFUSED_DISPOSAL = "refused_disposal"
    RETRACTION = "retraction"
    # -- emergencies (DOMAIN.md §10), their escalation plan, channels and assets (§8, §9)
    #: E-REFUSE: the customer refuses to pay.
    EMERGENCY_REFUSAL = "emergency_refusal"
    #: E-ABSCOND: the customer absconds (prolonged unreachability derives it too).
    ABSCONDED = "absconded"
    #: E-LITIGATION: a court proceeding started by the debtor or a third party.
    COURT_PROCEEDING = "court_proceeding"
    #: E-AGREEMENT-END: a collection agreement ends because the customer cannot pay.
    AGREEMENT_ENDED = "agreement_ended"
    #: E-THREAT: violence or threats against collection staff (``staff`` names them).
    THREAT_TO_STAFF = "threat_to_staff"
    #: The emergency was reported to the supervisor.
    EMERGENCY_REPORTED = "emergency_reported"
    #: The supervisor's meeting on the emergency was held and named a person responsible.
    EMERGENCY_MEETING = "emergency_meeting"
    #: The decision whether to escalate to legal was taken.
    ESCALATION_DECIDED = "escalation_decided"
    #: A field visit was arranged in advance with the debtor (CH-VISIT).
    VISIT_ARRANGED = "visit_arranged"
    #: An asset of the debtor was found (``asset_class`` and ``amount``, its estimated value).
    ASSET_FOUND = "asset_found"
    #: The repayment status was reported to the credit bureau (CARD).
    CREDIT_BUREAU_REPORTED = "credit_bureau_reported"
    #: The debt was restructured because the debtor could not pay as agreed: a
    #: distressed restructuring (forbearance). A ``materiality_default`` pack with
    #: ``restructuring_months`` keeps the case in default for that long after it
    #: (EU-PROBATION).
    RESTRUCTURED = "restructured"
    #: A delinquent open-end account was re-aged: returned to current status, its past
    #: due amounts no longer counted past due (US-REAGE). A ``reage`` pack counts these
    #: events: at most one in 12 months and two in 5 years.
    REAGED = "reaged"


class ContactOutcome(Choice):
    """How a contact attempt ended."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    INVALID_NUMBER = "invalid_number"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


#: The fields an event of each kind must carry, beyond ``kind`` and ``at``.
EVENT_REQUIRED_FIELDS: Mapping[EventKind, tuple[str, ...]] = {
    EventKind.PAYMENT: ("amount",),
    EventKind.CONTACT_ATTEMPT: ("outcome",),
    EventKind.PROMISE_MADE: ("promised_date", "amount"),
    EventKind.ASSET_FOUND: ("asset_class", "amount"),
}

#: The signal kinds that the default policy knows, by dimension and polarity.
DEFAULT_SIGNAL_KINDS: Mapping[str, tuple[str, ...]] = {
    "willingness_negative": (
        "inconsistent_reasons",
        "no_commitment_date",
        "promise_broken",
        "lied_about_cause",
        "bribe_attempt",
        "uncooperative",
        "refused_to_pay",
        "asset_transfer",
        "fraud_suspected",
        "refused_disposal",
    ),
    "willingness_positive": (
        "documents_provided",
        "commitment_signed",
        "raising_funds",
        "promise_kept",
        "partial_payment",
    ),
    "contact_negative": ("unreachable",),
    "ability_positive": ("hardship_verified",),
    "ability_negative": (
        "receivables_delayed",
        "sales_decline",
        "health_issue",
        "accident",
        "disaster",
        "defrauded",
        "working_capital_decline",
        "income_loss",
    ),
    "ability_measured": ("cash_coverage", "recovery_months"),
}

_ALL_DEFAULT_KINDS: frozenset[str] = frozenset(
    kind for kinds in DEFAULT_SIGNAL_KINDS.values() for kind in kinds
)

#: Names in common use that are not ISO 4217 codes, and the code they mean.
CURRENCY_ALIASES: Mapping[str, str] = {
    "RMB": "CNY",  # renminbi: the currency's name; its code is CNY
    "NTD": "TWD",
    "NT$": "TWD",
    "YEN": "JPY",
    "STG": "GBP",
    "UKL": "GBP",
}
#: The longest guarantee period a contract may agree, in months (a century).
_MAX_GUARANTEE_MONTHS = 1200
_T = TypeVar("_T")
#: A case or guarantor id: on one line, without a space at either end.
ID_PATTERN = re.compile(r"^\S(.*\S)?\Z")


@functools.cache
def iana_zones() -> frozenset[str]:
    """The names of the IANA time zones (zones and links), as the ``tzdata`` package
    lists them: the names a case's ``timezone`` may hold.

    Python's zone loader also reads any file of the machine's own zone database, among
    them ``localtime`` (this machine's configured zone), ``posixrules`` and the
    ``posix/`` and ``right/`` copies. Those are not IANA names: ``localtime`` would make
    a decision depend on the machine it runs on, and the others exist on some machines
    and not on others. They are refused as unknown.
    """
    from importlib import resources  # read once, on the first zone checked

    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(text.split())


#: Files of a machine's zone database that are not IANA zones (``posix/`` and
#: ``right/`` hold copies of the zones).
_MACHINE_ZONE_FILES = ("localtime", "posixrules", "posix/", "right/")


def unknown_zone(field: str, value: object) -> FieldProblem:
    """The problem of a time zone name that :func:`iana_zones` does not list, in
    ``field``; a name only a machine's own zone database holds says so."""
    msg = f"unknown IANA time zone {quote(value)}"
    if isinstance(value, str) and value.startswith(_MACHINE_ZONE_FILES):
        msg += (
            " (a file of this machine's zone database, not an IANA zone: name the zone"
            " itself, such as 'Asia/Shanghai')"
        )
    return FieldProblem(field, msg)


@functools.lru_cache(maxsize=512)
def zone(name: str) -> pendulum.Timezone:
    """The pendulum time zone of an IANA name, loaded once per process; a name
    :func:`iana_zones` does not list raises pendulum's ``InvalidTimezone``."""
    if name not in iana_zones():
        raise pendulum.tz.exceptions.InvalidTimezone(name)
    return pendulum.timezone(name)


@functools.cache
def _iso4217() -> Mapping[str, int | None]:
    """Every current ISO 4217 code and its minor-unit exponent (None where ISO says N.A.).

    From the ``iso4217`` package, which ships the maintenance agency's published table;
    imported on the first currency checked, as it parses that table at import.
    """
    import iso4217  # loaded on first use, not at ``import collectrules``

    return {c.code: c.exponent for c in iso4217.Currency}


def currency_codes() -> frozenset[str]:
    """The current ISO 4217 currency codes, those without a minor unit among them
    (:func:`currency_problem` refuses those as the currency of an amount)."""
    return frozenset(_iso4217())


@functools.cache
def _with_minor_unit() -> frozenset[str]:
    """The ISO 4217 codes an amount may be in: those the table gives a minor unit.

    The others (ISO writes N.A.: gold, silver, platinum and palladium, the IMF's SDR,
    the European bond-market units, the Sucre, the ADB unit of account, the code for
    testing and the code for no currency) have no smallest amount to round a payment,
    an instalment or a fee to: a loan written in one is refused, not rounded to cents."""
    return frozenset(code for code, exponent in _iso4217().items() if exponent is not None)


def currency_exponent(currency: str) -> int:
    """The number of minor-unit digits of an ISO 4217 currency (``JPY`` 0, ``CNY`` 2,
    ``KWD`` 3, ``CLF`` 4), from the ISO table; 2 for a code without minor units (gold,
    ``XXX``) or unknown to it, which no case, plan, fee or target is in
    (:func:`currency_problem` refuses them). Anything but a text is an InputError."""
    if type(currency) is not str and not isinstance(currency, str):
        raise wrong_kind("currency", currency, "an ISO 4217 code such as 'CNY'")
    exponent = _iso4217().get(currency)
    return 2 if exponent is None else exponent


def minor_unit(currency: str) -> Decimal:
    """The currency's smallest amount: ``0.01`` for CNY, ``1`` for JPY, ``0.001`` for
    KWD (see :func:`currency_exponent`)."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def pays(event: Event, currency: str) -> bool:
    """Whether ``event`` is a payment of at least one minor unit of ``currency``.

    A payment of nothing, or of less than a fen or a yen (``0.004`` CNY), is no
    payment: it cures no sign of unwillingness, restarts no limitation period, keeps no
    promise and is not a partial payment. Its amount still counts in the sums of money
    paid (``paid_since_due``); the amounts due of a case with contract terms
    (:func:`~collectrules.money.charges.amounts_due`) refuse a payment of more decimals
    than the currency has.
    """
    return event.kind is EventKind.PAYMENT and _of_substance(event.amount, currency)


def concerns_debtor(event: Event) -> bool:
    """Whether ``event`` concerns the debtor: it names no ``party``, or ``"debtor"``.

    An event that names another party (a guarantor, by its ``id``) concerns that party:
    reaching a guarantor does not reach the debtor, and a notice sent to a guarantor is
    not a notice to the debtor. The evidence model, the stage plan and the contact
    guardrails read a party so.
    """
    party = event.party
    return party is None or party == "debtor"


#: The events that are a communication with the debtor, written as a policy writes an
#: event anchor (``kind`` or ``contact_attempt:outcome``): a call that reached the person
#: (``reached``, or ``refused``: the person answered and refused), a notice or letter
#: (a notice, a demand delivered, a lawyer's letter, a demand letter signed for), and the
#: validation notice itself. Regulation F's validation notice (US-REGF-VALIDATION) is due
#: in the first communication or within days of it: the REGF-VALIDATION guardrail reads
#: the first communication through :func:`is_communication`, and us_regf's US-VALIDATION
#: step is anchored on these very events (a test keeps the two equal).
COMMUNICATION_EVENTS: tuple[str, ...] = (
    "contact_attempt:reached",
    "contact_attempt:refused",
    "notice_sent",
    "demand_delivered",
    "lawyer_letter_sent",
    "demand_letter_signed",
    "validation_notice_sent",
)
_COMMUNICATION_KINDS = frozenset(
    EventKind(text) for text in COMMUNICATION_EVENTS if ":" not in text
)
_COMMUNICATION_OUTCOMES = frozenset(
    (EventKind(kind), ContactOutcome(outcome))
    for kind, _, outcome in (text.partition(":") for text in COMMUNICATION_EVENTS)
    if outcome
)


def is_communication(event: Event) -> bool:
    """Whether ``event`` is one of :data:`COMMUNICATION_EVENTS`, whichever party it
    concerns (:func:`concerns_debtor` tells whether it is a communication with the
    debtor)."""
    return event.kind in _COMMUNICATION_KINDS or (
        (event.kind, event.outcome) in _COMMUNICATION_OUTCOMES
    )


def is_promise(event: Event, currency: str) -> bool:
    """Whether ``event`` is a promise to pay at least one minor unit of ``currency``.

    A promise of less (``0`` or ``0.004`` CNY) is no promise: it is not judged kept or
    broken, gives no sign either way, pauses no step and is not counted in
    ``promises_made``. Nor is a promise recorded for another party (a guarantor's, see
    :func:`concerns_debtor`): the debtor's willingness is read from the debtor's own
    promises (W-SIGN, L-PROMISE3).
    """
    return (
        event.kind is EventKind.PROMISE_MADE
        and _of_substance(event.amount, currency)
        and concerns_debtor(event)
    )


def of_nothing(event: Event, currency: str) -> bool:
    """Whether ``event`` is a payment or a promise of less than one minor unit of
    ``currency`` (see :func:`pays` and :func:`is_promise`): it restarts no period."""
    kind = event.kind
    if kind is EventKind.PAYMENT:
        return not pays(event, currency)
    return kind is EventKind.PROMISE_MADE and not _of_substance(event.amount, currency)


def _of_substance(amount: Decimal | None, currency: str) -> bool:
    return amount is not None and amount >= minor_unit(currency)


def currency_problem(value: object) -> str | None:
    """Why ``value`` is not the current ISO 4217 code of a currency with a minor unit,
    or None when it is one. A code the ISO table gives no minor unit (``XAU``, ``XDR``,
    ``XTS``, ``XXX`` …) is refused: an amount in it has no smallest unit to round to."""
    if isinstance(value, str) and value in _with_minor_unit():
        return None
    if isinstance(value, str) and value in _iso4217():
        return (
            f"expected the ISO 4217 code of a currency with a minor unit, such as 'CNY', "
            f"got {quote(value)}, for which ISO 4217 gives none (a precious metal, a unit "
            "of account, or the code for testing or for no currency)"
        )
    return f"expected an ISO 4217 code such as 'CNY', got {quote(value)}"


def currency_suggestion(value: object) -> str | None:
    """The code a wrong currency probably meant: ``RMB`` gives ``CNY``, ``cny`` ``CNY``."""
    if not isinstance(value, str) or not _short(value):
        return None
    text = value.strip().upper()
    if text in CURRENCY_ALIASES:
        return CURRENCY_ALIASES[text]
    return text if text in _with_minor_unit() else None


@exact
def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert an amount to integer minor units, rounding half up (cents, fen, …)."""
    scaled = amount.scaleb(currency_exponent(currency))
    return int(scaled.to_integral_value(rounding="ROUND_HALF_UP"))


# --------------------------------------------------------------------------- validators


def _checked(name: str, check: Any, value: object, *args: Any, **kwargs: Any) -> Any:
    """Run a :mod:`~collectrules.model.limits` check; its error names field ``name``."""
    try:
        return check(value, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem(name, str(exc))]) from None


def _aware(instance: object, attribute: attrs.Attribute[Any], value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime):
        msg = f"expected an aware datetime, got {type(value).__name__}"
        raise InputError([FieldProblem(attribute.name, msg)])
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError([FieldProblem(attribute.name, "naive datetime; give an offset or a zone")])
    _checked(attribute.name, check_instant, value)


def _number_validator(limit: NumberLimit) -> Any:
    def validate(instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
        if value is None:
            return
        if not isinstance(value, Decimal):
            msg = f"expected a decimal number, got {type(value).__name__} {quote(value)}"
            raise InputError([FieldProblem(attribute.name, msg)])
        _checked(attribute.name, check_number, value, limit)

    return validate


_non_negative = _number_validator(MONEY)


def _required_amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An amount the case cannot go without: ``None`` is refused, as any non-number."""
    if value is None:
        raise InputError([FieldProblem(attribute.name, "expected a decimal number, got None")])
    _non_negative(instance, attribute, value)


#: The largest count a case field takes (``consecutive_minimum_payments``).
_MAX_COUNT = MAX_COUNT
#: A count written as text: ASCII digits, no sign, at most four of them.
_COUNT_TEXT = re.compile(r"[0-9]{1,4}")


def _optional_count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        msg = f"expected a whole number from 0 to {_MAX_COUNT}, got {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)])


def _optional_date(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"expected a date, got {type(value).__name__} {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)])
    _checked(attribute.name, check_date, value, what=attribute.name)


def _text_validator(maximum: int, *, optional: bool = True) -> Any:
    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        _checked(attribute.name, check_text, value, maximum=maximum)

    return validate


def _to_pendulum(value: dt.datetime) -> pendulum.DateTime:
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return fixed_offset(value)
    return value  # type: ignore[return-value]  # rejected by the validator


def fixed_offset(value: dt.datetime) -> pendulum.DateTime:
    """The instant ``value`` (aware) as a pendulum ``DateTime`` at its own UTC offset.

    Python compares and subtracts two datetimes that share one zone object by their
    wall clocks, not as instants: on the night a zone's clocks go back, 01:59-04:00
    reads as after 01:00-05:00, an hour later. Every instant of a case, and ``as_of``,
    is kept at a fixed offset, as JSON, CSV and Parquet give it, so that the same
    instant decides the same whatever zone object it came in.
    """
    tz = value.tzinfo
    if type(value) is pendulum.DateTime and (
        type(tz) is pendulum.FixedTimezone or tz is pendulum.UTC
    ):
        return value
    offset = value.utcoffset()
    assert offset is not None  # the callers take only aware datetimes
    fixed = _offset_zone(dt.timezone(offset))
    # The same wall clock at the same offset: the same instant, with no arithmetic.
    return pendulum.DateTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        fixed if fixed is not None else pendulum.FixedTimezone(int(offset.total_seconds())),
    )


def _to_decimal(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and not value and value.is_signed():
        # -0 is 0, as Case.from_dict reads it: a case built in Python gives the decision
        # its dict form gives (a share's note prints it).
        return Decimal(0)
    return value


@functools.lru_cache(maxsize=512)
def _zone_failure(name: str) -> Exception | None:
    """Why ``zone(name)`` fails, or None when it loads: remembered, as a batch's bad rows
    repeat an unknown zone row after row, and pendulum looks for it on disk each time."""
    try:
        zone(name)
    except Exception as exc:  # pendulum raises its own InvalidTimezone
        return exc
    return None


def _timezone_name(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _checked(attribute.name, check_text, value, maximum=MAX_KIND_LENGTH, what="time zone name")
    failure = _zone_failure(value)
    if failure is not None:
        raise InputError([unknown_zone(attribute.name, value)]) from failure


def _currency(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    problem = currency_problem(value)
    if problem is not None:
        hint = currency_suggestion(value)
        raise InputError([FieldProblem(attribute.name, problem, suggestion=hint)])


def _identifier(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _checked(attribute.name, check_text, value, maximum=MAX_ID_LENGTH, what="non-empty string")
    if not ID_PATTERN.match(value):
        raise InputError(
            [FieldProblem(attribute.name, f"expected a non-empty string, got {quote(value)}")]
        )


def _signal_kind(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _checked(attribute.name, check_text, value, maximum=MAX_KIND_LENGTH, what="signal kind")
    if not re.match(r"^[a-z][a-z0-9_]*\Z", value):
        raise InputError(
            [FieldProblem(attribute.name, f"expected a snake_case signal kind, got {quote(value)}")]
        )


# --------------------------------------------------------------------------- the model


@attrs.frozen
class Signal:
    """An observation about the debtor's willingness or ability to pay.

    ``value`` carries the measure of a measured kind such as ``cash_coverage``; it is
    ``None`` for kinds that are merely observed.
    """

    kind: str = attrs.field(validator=_signal_kind)
    observed_at: pendulum.DateTime = attrs.field(converter=_to_pendulum, validator=_aware)
    value: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=_number_validator(MEASURE)
    )
    note: str | None = attrs.field(default=None, validator=_text_validator(MAX_TEXT_LENGTH))


def _short(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a string short enough to look for a close match of."""
    return isinstance(value, str) and len(value) <= MAX_KIND_LENGTH


@functools.lru_cache(maxsize=1024)
def _remembered_suggestion(name: str, known: frozenset[str] | tuple[str, ...]) -> str | None:
    return did_you_mean(name, known)


def _suggest(name: str, known: Collection[str]) -> str | None:
    """``did_you_mean(name, known)``, remembered for a short name and a hashable
    ``known``: a batch's bad rows repeat a misspelling row after row, and each look-up
    costs 50–150 µs."""
    if type(name) is str and len(name) <= MAX_KIND_LENGTH and type(known) in (tuple, frozenset):
        return _remembered_suggestion(name, known)  # type: ignore[arg-type]
    return did_you_mean(name, known)


def _unknown(name: str, value: object, known: list[str]) -> InputError:
    choices = ", ".join(repr(k) for k in known)
    hint = _suggest(value, tuple(known)) if _short(value) else None
    message = f"unknown value {quote(value)}; expected one of {choices}"
    return InputError([FieldProblem(name, message, suggestion=hint)], subject="event")


def _event_kind(value: object) -> EventKind:
    """``value`` as an event kind; an unknown one is an ``InputError`` with a suggestion."""
    if isinstance(value, EventKind):
        return value
    if isinstance(value, str) and value in EventKind.__members__.values():
        return EventKind(value)
    raise _unknown("kind", value, [k.value for k in EventKind])


def _outcome(value: object) -> ContactOutcome | None:
    """``value`` as a contact outcome (or ``None``); an unknown one is an ``InputError``."""
    if value is None or isinstance(value, ContactOutcome):
        return value
    if isinstance(value, str) and value in ContactOutcome.__members__.values():
        return ContactOutcome(value)
    raise _unknown("outcome", value, [o.value for o in ContactOutcome])


@attrs.frozen
class Event:
    """Something that happened on a case: a payment, a contact attempt, a demand, a suit."""

    kind: EventKind = attrs.field(converter=_event_kind)
    at: pendulum.DateTime = attrs.field(converter=_to_pendulum, validator=_aware)
    outcome: ContactOutcome | None = attrs.field(default=None, converter=_outcome)
    amount: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=_non_negative
    )
    promised_date: dt.date | None = attrs.field(default=None, validator=_optional_date)
    channel: str | None = attrs.field(default=None, validator=_text_validator(MAX_KIND_LENGTH))
    party: str | None = attrs.field(default=None, validator=_text_validator(MAX_KIND_LENGTH))
    note: str | None = attrs.field(default=None, validator=_text_validator(MAX_TEXT_LENGTH))
    retracts: str | None = attrs.field(default=None, validator=_text_validator(MAX_KIND_LENGTH))
    #: The member of staff the event concerns: the collector threatened (E-THREAT), or
    #: the one who made a contact attempt or visit.
    staff: str | None = attrs.field(default=None, validator=_text_validator(MAX_KIND_LENGTH))
    #: The class of an asset found (``asset_found``): see ``collectrules.assets``.
    asset_class: str | None = attrs.field(default=None, validator=_text_validator(MAX_KIND_LENGTH))

    def __attrs_post_init__(self) -> None:
        missing = [
            FieldProblem(name, f"required for a {quote(self.kind.value)} event")
            for name in EVENT_REQUIRED_FIELDS.get(self.kind, ())
            if getattr(self, name) is None
        ]
        if self.retracts is not None and self.kind is not EventKind.RETRACTION:
            missing.append(FieldProblem("retracts", "only a 'retraction' event retracts a sign"))
        if missing:
            raise InputError(missing, subject="event")


@attrs.frozen
class Guarantor:
    """A guarantor of the debt: a party to it, whom the lender may pursue.

    ``agreed_period_months`` is the guarantee period agreed in the contract, if any; the
    statutory default applies otherwise (CN-GUARANTEE-PERIOD).
    """

    id: str = attrs.field(validator=_identifier)
    name: str | None = attrs.field(default=None, validator=_text_validator(MAX_TEXT_LENGTH))
    agreed_period_months: int | None = attrs.field(default=None)

    @agreed_period_months.validator
    def _check_period(self, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 < value <= _MAX_GUARANTEE_MONTHS
        ):
            msg = (
                f"expected a positive whole number of months up to {_MAX_GUARANTEE_MONTHS}, "
                f"got {quote(value)}"
            )
            raise InputError([FieldProblem(attribute.name, msg)])


@attrs.frozen
class Fee:
    """A fee of the contract's fee schedule: an amount charged on a date."""

    kind: str = attrs.field(validator=_signal_kind)
    amount: Decimal = attrs.field(converter=_to_decimal, validator=_non_negative)
    charged_on: dt.date = attrs.field()

    @charged_on.validator
    def _check_date(self, attribute: attrs.Attribute[Any], value: dt.date) -> None:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise InputError([FieldProblem("charged_on", f"expected a date, got {quote(value)}")])
        check_date(value, what="charged_on")


def _rate(instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value < 10:
        msg = (
            "expected an annual rate as a fraction from "
            f"0 up to 10 (0.06 is 6 %), got {quote(value)}"
        )
        raise InputError([FieldProblem(attribute.name, msg)])
    # The digits Case.from_dict reads, so that every case built round-trips.
    _checked(attribute.name, check_number, value, MEASURE)


#: The case fields that give a share of the debtor's debts (0 to 1), which a lender
#: supplies from its own books and the credit reference report: a case alone does not
#: know the debtor's other claims (CN-5LVL-CROSS, docs/packs/cn_bank_loan.md).
SHARE_FIELDS = ("debtor_npl_share", "debtor_90dpd_share_all_banks")


def _share(instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        shown = f"{value:f}" if isinstance(value, Decimal) and value.is_finite() else quote(value)
        msg = f"expected a share as a fraction from 0 to 1 (0.15 is 15 %), got {shown}"
        raise InputError([FieldProblem(attribute.name, msg)])
    # The digits Case.from_dict reads, so that every case built round-trips.
    _checked(attribute.name, check_number, value, MEASURE)


def _items(name: str, kind: type[_T], maximum: int) -> Callable[[Iterable[_T]], tuple[_T, ...]]:
    """A converter to a tuple of ``kind`` of at most ``maximum`` items."""

    def convert(items: Iterable[_T]) -> tuple[_T, ...]:
        if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
            msg = f"expected a list of {kind.__name__} objects, got {type(items).__name__}"
            raise InputError([FieldProblem(name, msg)])
        out: list[_T] = []
        for i, item in enumerate(items):
            if i >= maximum:
                raise InputError(
                    [FieldProblem(name, f"more than {maximum:,} items; at most {maximum:,}")]
                )
            if not isinstance(item, kind):
                article = "an" if kind.__name__[0] in "AEIOU" else "a"
                msg = f"expected {article} {kind.__name__}, got {type(item).__name__}"
                raise InputError([FieldProblem(f"{name}[{i}]", msg)])
            out.append(item)
        return tuple(out)

    return convert


_signal_items = _items("signals", Signal, MAX_SIGNALS)
_event_items = _items("events", Event, MAX_EVENTS)
_guarantor_items = _items("guarantors", Guarantor, MAX_GUARANTORS)
_fee_items = _items("fees", Fee, MAX_FEES)


def _fees(items: Iterable[Fee]) -> tuple[Fee, ...]:
    return _fee_items(items)


def _signals(items: Iterable[Signal]) -> tuple[Signal, ...]:
    return _signal_items(items)


def _events(items: Iterable[Event]) -> tuple[Event, ...]:
    return _event_items(items)


def _guarantors(items: Iterable[Guarantor]) -> tuple[Guarantor, ...]:
    return _guarantor_items(items)


_PRODUCT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
_PRODUCT_VALUES = tuple(p.value for p in Product)


def _product(value: object) -> str:
    if isinstance(value, Product):
        return value
    if isinstance(value, str) and _PRODUCT_NAME.match(value):
        return product_name(value)
    choices = ", ".join(repr(p.value) for p in Product)
    hint = _suggest(value, _PRODUCT_VALUES) if _short(value) else None
    msg = (
        f"unknown value {quote(value)}; expected one of {choices}, or a snake_case "
        "product of the policy's catalogue"
    )
    raise InputError([FieldProblem("product", msg, suggestion=hint)], subject="case")


def _structure_product(value: object, _: type) -> str:
    try:
        return _product(value)
    except InputError as exc:
        problem = exc.problems[0]
        hint = f" (did you mean {quote(problem.suggestion)}?)" if problem.suggestion else ""
        raise ValueError(f"{problem.message}{hint}") from None


def _flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {type(value).__name__} {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)])


@attrs.frozen
class Case:
    """One overdue account: the amounts, the dates, and what is known of the debtor.

    ``due_date`` is the due date of the oldest unpaid instalment; ``timezone`` is the
    debtor's IANA zone, in which days past due and every stage are counted.
    ``overdue_amount`` is the amount overdue at the instant the case is read at (a
    decision's ``as_of``), after the payments made up to then: a payment recorded after
    that instant is not read back into it (docs/howto-compliance.md).
    """

    case_id: str = attrs.field(validator=_identifier)
    #: A :class:`Product` member, or the name of a product of the policy's catalogue.
    product: str = attrs.field(converter=_product)
    currency: str = attrs.field(validator=_currency)
    principal: Decimal = attrs.field(converter=_to_decimal, validator=_required_amount)
    #: The amount overdue at ``as_of``, after the payments made up to then.
    overdue_amount: Decimal = attrs.field(converter=_to_decimal, validator=_required_amount)
    due_date: dt.date = attrs.field()
    timezone: str = attrs.field(validator=_timezone_name)
    maturity_date: dt.date | None = attrs.field(default=None, validator=_optional_date)
    signals: tuple[Signal, ...] = attrs.field(default=(), converter=_signals)
    events: tuple[Event, ...] = attrs.field(default=(), converter=_events)
    guarantors: tuple[Guarantor, ...] = attrs.field(default=(), converter=_guarantors)
    sicr_rebutted: bool = attrs.field(default=False, validator=_flag)
    default_rebutted: bool = attrs.field(default=False, validator=_flag)
    #: Contract terms, all optional (docs/charges.md): the annual contract rate, the
    #: annual rate on overdue amounts (罚息), the fee schedule, and the contract date.
    annual_rate: Decimal | None = attrs.field(default=None, converter=_to_decimal, validator=_rate)
    penalty_rate: Decimal | None = attrs.field(default=None, converter=_to_decimal, validator=_rate)
    fees: tuple[Fee, ...] = attrs.field(default=(), converter=_fees)
    contract_date: dt.date | None = attrs.field(default=None, validator=_optional_date)
    #: The day the account was opened (US-REAGE reads the account's age from it).
    opened_on: dt.date | None = attrs.field(default=None, validator=_optional_date)
    #: The minimum payments the debtor made in a row, up to ``as_of``, each paid in full
    #: and on time (US-REAGE); None when not recorded.
    consecutive_minimum_payments: int | None = attrs.field(default=None, validator=_optional_count)
    #: What the lender knows of the debtor's other debts, both optional (None: unknown):
    #: the share, by amount, of the debtor's claims at this bank that are
    #: non-performing, and the share of the debtor's debt at all banks more than 90
    #: days past due, as the credit reference report gives it; each from 0 to 1.
    debtor_npl_share: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=_share
    )
    debtor_90dpd_share_all_banks: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=_share
    )

    @property
    def has_contract_terms(self) -> bool:
        """Whether the case carries any contract term that charges are computed from."""
        return self.annual_rate is not None or self.penalty_rate is not None or bool(self.fees)

    @due_date.validator
    def _check_due(self, attribute: attrs.Attribute[Any], value: dt.date) -> None:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            msg = f"expected a date, got {type(value).__name__} {quote(value)}"
            raise InputError([FieldProblem("due_date", msg)])
        _checked("due_date", check_date, value, what="due_date")

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        signal_kinds: Collection[str] | None = None,
        source: str | None = None,
        no_date_sentinels: Collection[dt.date] = NO_DATE_SENTINELS,
        products: Collection[str] | None = None,
    ) -> Case:
        """Structure a case from plain data, reporting every invalid field at once.

        ``signal_kinds`` is the vocabulary the signals must come from; it defaults to
        the default policy's kinds. ``products`` is the product catalogue the product
        must come from (``policy.products``); without it, any snake_case name is read,
        and the engine checks it against its policy's catalogue when it decides.
        ``source`` names the file the data came from, so that errors can say where.
        ``no_date_sentinels`` are dates that mean "no date" in an optional date field
        (``maturity_date``): by default ``9999-12-31``; pass ``()`` to refuse them as out
        of range instead.

        Every value is checked against :mod:`collectrules.model.limits` first: years
        1900–2200, bounded numbers, strings, lists and nesting. Whatever the data, the
        only exception is an :class:`~collectrules.errors.InputError`.
        """
        if (
            signal_kinds is not None
            or products is not None
            or source is not None
            or no_date_sentinels is not NO_DATE_SENTINELS
        ):
            _check_options(signal_kinds, products, source, no_date_sentinels)
        case = _fast_case(
            data,
            signal_kinds=signal_kinds,
            no_date_sentinels=no_date_sentinels,
            products=products,
        )
        if case is not None:
            return case
        problems = _fast_problems(
            data,
            signal_kinds=signal_kinds,
            source=source,
            no_date_sentinels=no_date_sentinels,
            products=products,
        )
        if problems:
            raise InputError(problems, subject=f"case {_case_label(data)}")
        return _structure_case(
            data,
            signal_kinds=signal_kinds,
            source=source,
            no_date_sentinels=no_date_sentinels,
            products=products,
        )

    def to_dict(self) -> dict[str, Any]:
        """The case as plain JSON-ready data; ``Case.from_dict`` reads it back equal."""
        out: dict[str, Any] = _CONVERTER.unstructure(self)
        if not self.guarantors:
            del out["guarantors"]
        if not self.sicr_rebutted:
            del out["sicr_rebutted"]
        if not self.default_rebutted:
            del out["default_rebutted"]
        if self.maturity_date is None:
            del out["maturity_date"]
        for key in (
            "annual_rate",
            "penalty_rate",
            "contract_date",
            "opened_on",
            "consecutive_minimum_payments",
            *SHARE_FIELDS,
        ):
            if getattr(self, key) is None:
                del out[key]
        if not self.fees:
            del out["fees"]
        for key in ("signals", "events"):
            out[key] = [{k: v for k, v in item.items() if v is not None} for item in out[key]]
        out["guarantors"] = [
            {k: v for k, v in g.items() if v is not None} for g in out.get("guarantors", [])
        ]
        if not out["guarantors"]:
            del out["guarantors"]
        return out

    def local_date(self, at: dt.datetime) -> dt.date:
        """The calendar date of an instant in the case's time zone (an aware datetime;
        anything else is an :class:`~collectrules.errors.InputError`)."""
        if not isinstance(at, dt.datetime):
            raise wrong_kind("at", at, "an aware datetime")
        return _local_date(at, at.fold, self.timezone)


_CASE_ATTRIBUTES = attrs.fields_dict(Case)


@functools.lru_cache(maxsize=4096)
def _local_date(at: dt.datetime, fold: int, timezone: str) -> dt.date:
    """The date of ``at`` in ``timezone``; remembered for the most recent instants (equal
    instants have one date in a zone), as a batch asks it of one ``as_of`` again and
    again. A naive ``at`` is an error, never remembered.

    ``fold`` is in the key because two datetimes of one ``tzinfo`` compare by their wall
    time alone: 01:30 before and after a clock goes back are equal, yet an hour apart.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError([FieldProblem("at", "naive datetime; give an offset or a zone")])
    return at.astimezone(zone(timezone)).date()


# --------------------------------------------------------------------------- structuring

_Money = NewType("_Money", Decimal)
_Number = NewType("_Number", Decimal)
_Id = NewType("_Id", str)
_Kind = NewType("_Kind", str)
_ProductName = NewType("_ProductName", str)
_Months = NewType("_Months", int)
_Count = NewType("_Count", int)


def _parse_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed: dt.datetime = value
    elif isinstance(value, str):
        if len(value) > _MAX_DATE_TEXT:
            msg = f"expected an ISO 8601 datetime with an offset, got {quote(value, limit=40)}"
            raise ValueError(msg)
        try:
            if _INSTANT_TEXT.fullmatch(value) is None:
                raise ValueError(value)
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            msg = f"expected an ISO 8601 datetime with an offset, got {quote(value)}"
            raise ValueError(msg) from None
    else:
        msg = f"expected an ISO 8601 datetime string, got {type(value).__name__}"
        raise TypeError(msg)
    offset = parsed.utcoffset()
    if offset is None:
        msg = "naive datetime; give an offset or a zone"
        raise ValueError(msg)
    if offset.microseconds:  # a datetime built so: pendulum keeps whole seconds
        msg = f"expected an offset in whole seconds (±HH:MM or ±HH:MM:SS), got {offset}"
        raise ValueError(msg)
    return parsed


def _structure_datetime(value: object, _: type) -> pendulum.DateTime:
    return fixed_offset(check_instant(_parse_datetime(value)))


#: The longest text a date or datetime may be written as.
_MAX_DATE_TEXT = 64

#: A date as text: YYYY-MM-DD, in ASCII digits. ``date.fromisoformat`` reads more (a
#: week date such as ``2026-W13`` as its Monday, ``20260331``), which no lender's data
#: means: refused, as a number written ``1_000`` is.
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: An instant as text: a date as above, ``T`` (or a space), hours and minutes, seconds
#: and a fraction if given, and an offset ``Z`` or ``±HH:MM`` (seconds too, as a zone's
#: historical offsets have them; without an offset, the text is read, and refused as a
#: naive datetime). The offset's minutes and seconds run 00–59, with no fraction:
#: ``datetime.fromisoformat`` reads ``+08:60`` as ``+09:00`` and ``+00:00:00.1`` as
#: UTC, other instants than a feed writing them meant. ``datetime.fromisoformat``
#: reads more (week dates, the basic format ``20260402T103000+0800``, an hour alone, a
#: comma before the fraction), which is refused.
_INSTANT_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-5][0-9](?::[0-5][0-9])?)?"
)


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        msg = f"expected a date, got a datetime {quote(value.isoformat())}"
        raise TypeError(msg)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if len(value) > _MAX_DATE_TEXT:
            msg = f"expected a date as YYYY-MM-DD, got {quote(value, limit=40)}"
            raise ValueError(msg)
        try:
            if _DATE_TEXT.fullmatch(value) is None:
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            msg = f"expected a date as YYYY-MM-DD, got {quote(value)}"
            raise ValueError(msg) from None
    msg = f"expected a date as YYYY-MM-DD, got {type(value).__name__}"
    raise TypeError(msg)


def _structure_date(value: object, _: type) -> dt.date:
    return check_date(_parse_date(value))


def _structure_number(value: object, _: type) -> Decimal:
    return check_number(value, MEASURE)


def _structure_money(value: object, _: type) -> Decimal:
    return check_number(value, MONEY)


def _structure_str(value: object, _: type) -> str:
    return check_text(value, maximum=MAX_TEXT_LENGTH)


def _structure_id(value: object, _: type) -> str:
    return check_text(value, maximum=MAX_ID_LENGTH)


def _structure_kind(value: object, _: type) -> str:
    return check_text(value, maximum=MAX_KIND_LENGTH)


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        # The kind named: a Parquet string column's 'true' is not a boolean, and
        # "expected true or false, got 'true'" read as a contradiction.
        msg = f"expected true or false, got {type(value).__name__} {quote(value)}"
        raise TypeError(msg)
    return value


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number, got {quote(value)}"
        raise TypeError(msg)
    return value


def _structure_months(value: object, t: type) -> int:
    months = _structure_int(value, t)
    if not 0 < months <= _MAX_GUARANTEE_MONTHS:
        msg = (
            f"expected a positive whole number of months up to {_MAX_GUARANTEE_MONTHS}, "
            f"got {quote(months)}"
        )
        raise ValueError(msg)
    return months


def _count(value: object) -> int:
    """A count of ``0`` to :data:`_MAX_COUNT`: a whole number, or its ASCII digits as
    text (a CSV cell); ``ValueError``/``TypeError`` worded as cattrs reports them."""
    if isinstance(value, str) and _COUNT_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number from 0 to {_MAX_COUNT}, got {quote(value)}"
        raise TypeError(msg)
    if not 0 <= value <= _MAX_COUNT:
        msg = f"expected a whole number from 0 to {_MAX_COUNT}, got {quote(value)}"
        raise ValueError(msg)
    return value


def _structure_count(value: object, _: type) -> int:
    return _count(value)


def _check_object(value: object) -> None:
    """Refuse an item of a list that is not an object (a signal, an event, …)."""
    if not isinstance(value, Mapping):
        msg = f"expected an object, got {type(value).__name__}"
        raise TypeError(msg)


def _check_list(value: object, maximum: int) -> None:
    """Refuse a value that is not a list of at most ``maximum`` items."""
    if not isinstance(value, list | tuple):
        msg = f"expected a list, got {type(value).__name__}"
        raise TypeError(msg)
    if len(value) > maximum:
        msg = f"has {len(value):,} items; at most {maximum:,} are allowed"
        raise ValueError(msg)


def _object_hook(conv: cattrs.Converter, target: type) -> Any:
    """The converter's hook for ``target``, which first checks that it has an object."""
    inner = conv.get_structure_hook(target)

    def hook(value: object, t: type) -> Any:
        _check_object(value)
        return inner(value, t)

    return hook


def _list_hook(conv: cattrs.Converter, target: type, maximum: int) -> Any:
    """The converter's hook for a tuple of ``target``, which checks it is a list first."""
    inner = conv.get_structure_hook(tuple[target, ...])  # type: ignore[valid-type]

    def hook(value: object, t: type) -> Any:
        _check_list(value, maximum)
        return inner(value, t)

    return hook


def _enum_hook(enum_type: type[enum.StrEnum]) -> Any:
    choices = ", ".join(repr(m.value) for m in enum_type)
    values = tuple(m.value for m in enum_type)

    def hook(value: object, _: type) -> enum.StrEnum:
        try:
            if not isinstance(value, str):
                raise ValueError
            return enum_type(value)
        except ValueError:
            msg = f"unknown value {quote(value)}; expected one of {choices}"
            hint = _suggest(value, values) if _short(value) else None
            if hint is not None:
                msg += f" (did you mean {quote(hint)}?)"
            raise ValueError(msg) from None

    return hook


@attrs.frozen
class _SignalIn:
    kind: _Kind
    observed_at: pendulum.DateTime
    value: _Number | None = None
    note: str | None = None


@attrs.frozen
class _EventIn:
    kind: EventKind
    at: pendulum.DateTime
    outcome: ContactOutcome | None = None
    amount: _Money | None = None
    promised_date: dt.date | None = None
    channel: _Kind | None = None
    party: _Kind | None = None
    note: str | None = None
    retracts: _Kind | None = None
    staff: _Kind | None = None
    asset_class: _Kind | None = None


@attrs.frozen
class _GuarantorIn:
    id: _Id
    name: str | None = None
    agreed_period_months: _Months | None = None


@attrs.frozen
class _FeeIn:
    kind: _Kind
    amount: _Money
    charged_on: dt.date


@attrs.frozen
class _CaseIn:
    case_id: _Id
    product: _ProductName
    currency: _Kind
    principal: _Money
    overdue_amount: _Money
    due_date: dt.date
    timezone: _Kind
    maturity_date: dt.date | None = None
    signals: tuple[_SignalIn, ...] = ()
    events: tuple[_EventIn, ...] = ()
    guarantors: tuple[_GuarantorIn, ...] = ()
    sicr_rebutted: bool = False
    default_rebutted: bool = False
    annual_rate: _Number | None = None
    penalty_rate: _Number | None = None
    fees: tuple[_FeeIn, ...] = ()
    contract_date: dt.date | None = None
    opened_on: dt.date | None = None
    consecutive_minimum_payments: _Count | None = None
    debtor_npl_share: _Number | None = None
    debtor_90dpd_share_all_banks: _Number | None = None


#: The most items each list of a case may hold, by the class of its items.
_LIST_LIMITS: Mapping[type, int] = {
    _SignalIn: MAX_SIGNALS,
    _EventIn: MAX_EVENTS,
    _GuarantorIn: MAX_GUARANTORS,
    _FeeIn: MAX_FEES,
}


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    conv.register_structure_hook(pendulum.DateTime, _structure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(_Number, _structure_number)
    conv.register_structure_hook(_Money, _structure_money)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(_Id, _structure_id)
    conv.register_structure_hook(_Kind, _structure_kind)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(_Months, _structure_months)
    conv.register_structure_hook(_Count, _structure_count)
    conv.register_structure_hook(_ProductName, _structure_product)
    conv.register_structure_hook(EventKind, _enum_hook(EventKind))
    conv.register_structure_hook(ContactOutcome, _enum_hook(ContactOutcome))
    conv.register_unstructure_hook(pendulum.DateTime, lambda v: v.isoformat())
    conv.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    # as str() writes it in the default context (E, not e, for an exponent)
    conv.register_unstructure_hook(Decimal, CONTEXT.to_sci_string)
    for target, maximum in _LIST_LIMITS.items():
        conv.register_structure_hook(target, _object_hook(conv, target))
        conv.register_structure_hook_func(
            functools.partial(operator.eq, tuple[target, ...]),  # type: ignore[valid-type]
            _list_hook(conv, target, maximum),
        )
    return conv


_CONVERTER = _make_converter()


def _unstructure_signal(signal: Signal) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": signal.kind, "observed_at": signal.observed_at.isoformat()}
    if signal.value is not None:
        value = signal.value
        out["value"] = int(value) if value == value.to_integral_value() else float(value)
    if signal.note is not None:
        out["note"] = signal.note
    return out


_CONVERTER.register_unstructure_hook(Signal, _unstructure_signal)


def _format_path(path: str) -> str:
    # cattrs gives "$.signals[2].observed_at"; we give "signals[2].observed_at".
    if path.startswith("$."):
        return path[2:]
    return "" if path == "$" else path.lstrip("$")


def _cattrs_problems(exc: BaseException, source: str | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []

    def fmt(err: BaseException, _type: Any) -> str:
        if isinstance(err, KeyError):
            return "required field missing"
        if isinstance(err, ForbiddenExtraKeysError):
            # The names as JSON: a name may hold a comma, and need not be text.
            names = sorted(err.extra_fields, key=_name_order)
            return "\0" + json.dumps([n if isinstance(n, str) else str(n) for n in names])
        return str(err)

    assert isinstance(exc, ClassValidationError | IterableValidationError)
    for line in cattrs.transform_error(exc, format_exception=fmt):
        message, _, path = line.rpartition(" @ ")
        path = _format_path(path)
        if message.startswith("\0"):
            problems.extend(_unknown_field(path, n, source) for n in json.loads(message[1:]))
        else:
            problems.append(FieldProblem(path, message, source=source))
    return problems


def _unknown_field(path: str, name: str, source: str | None) -> FieldProblem:
    """The problem of the unknown key ``name`` at ``path``, with the known name it may
    be a misspelling of."""
    where = f"{path}.{name}" if path else name
    return FieldProblem(
        where, "unknown field", source=source, suggestion=_suggest(name, _known_keys(path))
    )


def _name_order(name: object) -> tuple[bool, str]:
    """Unknown names in order: text by itself, then any other key by its text."""
    return (not isinstance(name, str), name if isinstance(name, str) else str(name))


def _known_keys(path: str) -> tuple[str, ...]:
    leaf = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
    target: type = {
        "signals": _SignalIn,
        "events": _EventIn,
        "guarantors": _GuarantorIn,
        "fees": _FeeIn,
    }.get(leaf, _CaseIn)
    return tuple(a.name for a in attrs.fields(target))


def _structure_case(
    data: Mapping[str, Any],
    *,
    signal_kinds: Collection[str] | None,
    source: str | None,
    no_date_sentinels: Collection[dt.date] = NO_DATE_SENTINELS,
    products: Collection[str] | None = None,
) -> Case:
    if not isinstance(data, Mapping):
        raise InputError(
            [FieldProblem("", f"expected an object, got {type(data).__name__}", source=source)],
            subject="case",
        )
    # Shape first, without recursion: nothing below walks a deep or huge value.
    shape = [FieldProblem(path, message, source=source) for path, message in check_nesting(data)]
    if shape:
        raise InputError(shape, subject=f"case {_case_label(data)}")
    data = _without_sentinels(data, no_date_sentinels)
    problems: list[FieldProblem] = []
    raw: _CaseIn | None = None
    try:
        raw = _CONVERTER.structure(dict(data), _CaseIn)
    except (ClassValidationError, IterableValidationError) as exc:
        problems.extend(_cattrs_problems(exc, source))

    # Semantic checks that cattrs cannot make run on whatever structured, item by item.
    _semantic_problems(data, problems, signal_kinds=signal_kinds, products=products, source=source)

    if problems or raw is None:
        raise InputError(_dedupe(problems), subject=f"case {_case_label(data)}")
    try:
        return Case(
            case_id=raw.case_id,
            product=raw.product,
            currency=raw.currency,
            principal=raw.principal,
            overdue_amount=raw.overdue_amount,
            due_date=raw.due_date,
            timezone=raw.timezone,
            maturity_date=raw.maturity_date,
            signals=tuple(
                Signal(kind=s.kind, observed_at=s.observed_at, value=s.value, note=s.note)
                for s in raw.signals
            ),
            events=tuple(Event(**attrs.asdict(e, recurse=False)) for e in raw.events),
            guarantors=tuple(Guarantor(**attrs.asdict(g, recurse=False)) for g in raw.guarantors),
            sicr_rebutted=raw.sicr_rebutted,
            default_rebutted=raw.default_rebutted,
            annual_rate=raw.annual_rate,
            penalty_rate=raw.penalty_rate,
            fees=tuple(Fee(**attrs.asdict(f, recurse=False)) for f in raw.fees),
            contract_date=raw.contract_date,
            opened_on=raw.opened_on,
            consecutive_minimum_payments=raw.consecutive_minimum_payments,
            debtor_npl_share=raw.debtor_npl_share,
            debtor_90dpd_share_all_banks=raw.debtor_90dpd_share_all_banks,
        )
    except InputError as exc:  # a last line of defence; the checks above should catch it
        raise InputError(
            [attrs.evolve(p, source=source) for p in exc.problems], subject="case"
        ) from None


def _semantic_problems(
    data: Mapping[str, Any],
    problems: list[FieldProblem],
    *,
    signal_kinds: Collection[str] | None,
    products: Collection[str] | None,
    source: str | None,
) -> None:
    """Add to ``problems`` (those structuring found) what cattrs cannot check: the
    product catalogue, the signal vocabulary, the fields each event kind requires, the
    rates' and shares' ranges, the fee kinds, and the time zone, currency and case id
    themselves."""
    product = data.get("product")
    if (
        products is not None
        and isinstance(product, str)
        and _PRODUCT_NAME.match(product)
        and product not in products
    ):
        names = [str(p) for p in products]
        problems.append(
            FieldProblem(
                "product",
                f"unknown product {quote(product)}; known products: {', '.join(names)}",
                source=source,
                suggestion=_suggest(product, tuple(names)),
            )
        )
    known = frozenset(signal_kinds) if signal_kinds is not None else _ALL_DEFAULT_KINDS
    for i, item in enumerate(_as_list(data.get("signals"))):
        kind = item.get("kind") if isinstance(item, Mapping) else None
        if _short(kind) and kind not in known:
            problems.append(
                FieldProblem(
                    f"signals[{i}].kind",
                    f"unknown signal kind {quote(kind)}; known kinds: {', '.join(sorted(known))}",
                    source=source,
                    suggestion=_suggest(kind, known),
                )
            )
        elif _short(kind) and not _SNAKE.match(kind):  # known only as the row's own kind
            msg = f"expected a snake_case signal kind, got {quote(kind)}"
            problems.append(FieldProblem(f"signals[{i}].kind", msg, source=source))
    for i, item in enumerate(_as_list(data.get("events"))):
        if not isinstance(item, Mapping):
            continue
        raw_kind = item.get("kind")
        if not isinstance(raw_kind, str) or raw_kind not in EventKind.__members__.values():
            continue
        kind = EventKind(raw_kind)
        for name in EVENT_REQUIRED_FIELDS.get(kind, ()):
            if item.get(name) is None:
                problems.append(
                    FieldProblem(
                        f"events[{i}].{name}",
                        f"required for a {quote(kind.value)} event",
                        source=source,
                    )
                )
        if item.get("retracts") is not None and kind is not EventKind.RETRACTION:
            msg = "only a 'retraction' event retracts a sign"
            problems.append(FieldProblem(f"events[{i}].retracts", msg, source=source))
    for name, check in (
        ("annual_rate", _rate),
        ("penalty_rate", _rate),
        *((share, _share) for share in SHARE_FIELDS),
    ):
        value = data.get(name)
        if value is not None and not any(p.path == name for p in problems):
            try:
                check(None, _CASE_ATTRIBUTES[name], _structure_number(value, Decimal))
            except InputError as exc:
                problems.extend(attrs.evolve(p, source=source) for p in exc.problems)
            except (TypeError, ValueError):
                pass
    for i, item in enumerate(_as_list(data.get("fees"))):
        kind = item.get("kind") if isinstance(item, Mapping) else None
        if isinstance(kind, str) and not re.match(r"^[a-z][a-z0-9_]*\Z", kind):
            problems.append(
                FieldProblem(
                    f"fees[{i}].kind", f"expected a snake_case fee kind, got {quote(kind)}"
                )
            )
    for name in ("timezone", "currency", "case_id"):
        value = data.get(name)
        if isinstance(value, str) and not any(p.path == name for p in problems):
            attribute = _CASE_ATTRIBUTES[name]
            try:
                attribute.validator(None, attribute, value)  # type: ignore[misc]
            except InputError as exc:
                problems.extend(attrs.evolve(p, source=source) for p in exc.problems)


def _case_label(data: Mapping[str, Any]) -> str:
    """The case id for an error's subject: a short string, or ``?``."""
    case_id = data.get("case_id")
    return quote(case_id, limit=60) if isinstance(case_id, str) else "?"


def _without_sentinels(
    data: Mapping[str, Any], sentinels: Collection[dt.date]
) -> Mapping[str, Any]:
    """``data`` with an optional date that is a "no date" sentinel removed."""
    value = data.get("maturity_date")
    if value is None or not sentinels:
        return data
    try:
        day = _parse_date(value)
    except (TypeError, ValueError):
        return data  # the structuring reports it
    if day not in sentinels:
        return data
    return {k: v for k, v in data.items() if k != "maturity_date"}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _dedupe(problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    seen: set[tuple[str, str]] = set()
    out: list[FieldProblem] = []
    for p in problems:
        key = (p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def parse_as_of(value: str | dt.datetime) -> pendulum.DateTime:
    """Parse an ``as_of`` instant, which must carry an offset or a zone.

    A naive datetime is an :class:`~collectrules.errors.InputError`: the library never
    guesses a time zone.
    """
    if isinstance(value, str):  # equal strings are the same instant in the same zone
        return _parse_as_of_text(value)
    return _parse_as_of(value)


def _parse_as_of(value: str | dt.datetime) -> pendulum.DateTime:
    try:
        parsed = _parse_datetime(value)
        check_instant(parsed, what="instant", first=MIN_AS_OF_YEAR, last=MAX_AS_OF_YEAR)
        return fixed_offset(parsed)
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem("as_of", str(exc))]) from None


def parse_date(value: object, path: str = "date") -> dt.date:
    """A calendar date as a case's dates are read: a :class:`datetime.date`, or text
    written ``YYYY-MM-DD`` (not another ISO 8601 form ``date.fromisoformat`` reads, such
    as the week date ``2026-W23-1`` or the basic ``20260601``). Anything else, a
    datetime included, is an :class:`~collectrules.errors.InputError` naming ``path``."""
    try:
        return _parse_date(value)
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem(path, str(exc))]) from None


#: A batch decides every row at one ``as_of``: parse each text once (errors are not kept).
_parse_as_of_text = functools.lru_cache(maxsize=256)(_parse_as_of)


# --------------------------------------------------------------------------- the fast path
#
# Most data is well formed: a case from a loan system, a row of a batch. For it, the
# path above costs more than the decision itself: cattrs builds intermediate objects and
# the attrs validators check again what the structuring checked, and pendulum builds each
# instant through its general constructor. The fast path below reads such data in one
# pass, with the same checks, and builds the model objects without running the
# validators a second time. It accepts only what ``_structure_case`` accepts, and gives
# an equal case; anything else (a wrong type, a value out of range, an unknown key, a
# subclass of dict, a datetime object in a zone) it leaves to ``_structure_case``, which
# reports every problem. tests/test_case_fastpath.py holds it to both.


class _NotCommon(Exception):
    """Raised inside the fast path when data is not the common, well-formed case."""


#: The exceptions by which the fast path gives up, leaving the data to the full path.
_GIVE_UP = (_NotCommon, LookupError, TypeError, ValueError, ArithmeticError)

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*\Z")
_CASE_KEYS = frozenset(a.name for a in attrs.fields(_CaseIn))
_SIGNAL_KEYS = frozenset(a.name for a in attrs.fields(_SignalIn))
_EVENT_KEYS = frozenset(a.name for a in attrs.fields(_EventIn))
_GUARANTOR_KEYS = frozenset(a.name for a in attrs.fields(_GuarantorIn))
_FEE_KEYS = frozenset(a.name for a in attrs.fields(_FeeIn))
_EVENT_KINDS: Mapping[str, EventKind] = {k.value: k for k in EventKind}
_OUTCOMES: Mapping[str, ContactOutcome] = {o.value: o for o in ContactOutcome}
_EVENT_KIND_TYPES = (str, EventKind)
_OUTCOME_TYPES = (str, ContactOutcome)
_PRODUCT_TYPES = (str, Product)
_LIST_TYPES = (list, tuple)


def _trusted(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen attrs class ``cls`` that takes every field, in order,
    and sets them as its generated ``__init__`` does, without running the validators and
    converters: for values the fast path has already checked and converted."""
    setters = tuple(cls.__dict__[a.name].__set__ for a in attrs.fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def build(*values: Any) -> _T:
        instance = new(cls)
        for set_field, value in zip(setters, values, strict=True):
            set_field(instance, value)
        return instance

    return build


def _text(value: object, maximum: int) -> str:
    """``check_text(value, maximum=maximum)``, for a plain string."""
    if type(value) is not str or len(value) > maximum:
        raise _NotCommon
    if not value.isascii():
        value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


def _optional_text(value: object, maximum: int) -> str | None:
    return None if value is None else _text(value, maximum)


def _snake(value: object) -> str:
    """A kind of fee: what ``_signal_kind`` accepts."""
    text = _text(value, MAX_KIND_LENGTH)
    if not _SNAKE.match(text):
        raise _NotCommon
    return text


def _identifier_text(value: object) -> str:
    """A case or guarantor id: what ``_identifier`` accepts."""
    text = _text(value, MAX_ID_LENGTH)
    if not ID_PATTERN.match(text):
        raise _NotCommon
    return text


def _adjusted_range(limit: NumberLimit) -> tuple[int, int]:
    return limit.smallest.adjusted(), limit.maximum.adjusted()


_MONEY_RANGE = _adjusted_range(MONEY)
_MEASURE_RANGE = _adjusted_range(MEASURE)


_NUMBER_MATCH = NUMBER_TEXT.fullmatch


def _number(value: object, limit: NumberLimit, adjusted_range: tuple[int, int]) -> Decimal:
    """``check_number(value, limit)``: the common numbers are checked here, the rare ones
    (near a bound, with many digits, of another type) by ``check_number`` itself."""
    # A number written in at most ``limit.digits`` characters has no more digits.
    short = False
    if type(value) is str:
        if len(value) > MAX_NUMBER_TEXT:
            raise _NotCommon
        # NUMBER_TEXT, with the common texts (ASCII digits, one point) matched faster.
        if not (value.isascii() and value.replace(".", "", 1).isdigit()) and (
            _NUMBER_MATCH(value) is None
        ):
            raise _NotCommon
        number = Decimal(value)
        short = len(value) <= limit.digits
    elif type(value) is int:
        if value.bit_length() > 64:
            raise _NotCommon
        number = Decimal(value)
    elif type(value) is float:
        number = Decimal(repr(value))
    elif type(value) is Decimal:
        number = Decimal(value)
    else:
        return check_number(value, limit)
    if not number.is_finite():
        raise _NotCommon
    if not number:
        return Decimal(0) if number.is_signed() else number
    if number < 0 and not limit.negative:
        raise _NotCommon
    smallest, largest = adjusted_range
    if not smallest <= number.adjusted() < largest or (
        not short and len(number.as_tuple().digits) > limit.digits
    ):
        return check_number(value, limit)
    return number


def _money(value: object) -> Decimal:
    return _number(value, MONEY, _MONEY_RANGE)


def _optional_rate(value: object) -> Decimal | None:
    if value is None:
        return None
    rate = _number(value, MEASURE, _MEASURE_RANGE)
    if not 0 <= rate < 10:
        raise _NotCommon
    return rate


def _optional_share(value: object) -> Decimal | None:
    if value is None:
        return None
    share = _number(value, MEASURE, _MEASURE_RANGE)
    if not 0 <= share <= 1:
        raise _NotCommon
    return share


def _day(value: object) -> dt.date:
    """A date written as text, or a ``date`` (not a datetime), before its years are
    checked."""
    if type(value) is str and _DATE_TEXT.fullmatch(value) is not None:
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise _NotCommon


def _date(value: object) -> dt.date:
    day = _day(value)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _NotCommon
    return day


def _optional_date_value(value: object) -> dt.date | None:
    return None if value is None else _date(value)


def _optional_count_value(value: object) -> int | None:
    if value is None:
        return None
    try:
        return _count(value)
    except (TypeError, ValueError):
        raise _NotCommon from None


@functools.lru_cache(maxsize=256)
def _offset_zone(offset: dt.tzinfo) -> dt.tzinfo | None:
    """The time zone pendulum gives an instant written with the fixed UTC ``offset``
    (its ``FixedTimezone``, or its ``UTC``), or None when it gives anything else."""
    made = pendulum.instance(dt.datetime(2000, 1, 1, tzinfo=offset))
    tz = made.tzinfo
    if (
        isinstance(tz, pendulum.FixedTimezone) or tz is pendulum.UTC
    ) and made.utcoffset() == offset.utcoffset(None):
        return tz
    return None


def _instant(value: object) -> pendulum.DateTime:
    """``_structure_datetime(value)``: an ISO 8601 text with an offset, or an aware
    pendulum ``DateTime``, in the years ``MIN_YEAR``–``MAX_YEAR``."""
    if type(value) is str and _INSTANT_TEXT.fullmatch(value) is not None:
        parsed = dt.datetime.fromisoformat(value)
        offset = parsed.tzinfo
        if type(offset) is not dt.timezone:
            raise _NotCommon
        tz = _offset_zone(offset)
        if tz is None:
            raise _NotCommon
        # What pendulum.instance builds, in a single constructor call.
        at = pendulum.DateTime(
            parsed.year,
            parsed.month,
            parsed.day,
            parsed.hour,
            parsed.minute,
            parsed.second,
            parsed.microsecond,
            tz,
        )
    elif type(value) is pendulum.DateTime and value.utcoffset() is not None:
        at = fixed_offset(value)
    else:
        raise _NotCommon
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise _NotCommon
    return at


def _entries(value: object, maximum: int) -> Iterable[Any]:
    """The items of a list of at most ``maximum`` items."""
    if type(value) not in _LIST_TYPES or len(value) > maximum:  # type: ignore[arg-type]
        raise _NotCommon
    return value  # type: ignore[return-value]


def _record(value: object, keys: frozenset[str]) -> Mapping[str, Any]:
    """A plain dict whose keys are all among ``keys``."""
    if type(value) is not dict or not value.keys() <= keys:
        raise _NotCommon
    return value


@functools.lru_cache(maxsize=64)
def _accepted_kinds_of(signal_kinds: Collection[str]) -> frozenset[str]:
    return _accepted_kinds(signal_kinds)


def _accepted_kinds(signal_kinds: Collection[str]) -> frozenset[str]:
    """The signal kinds of ``signal_kinds`` that a signal's checks accept."""
    return frozenset(
        k
        for k in frozenset(signal_kinds)
        if isinstance(k, str) and len(k) <= MAX_KIND_LENGTH and _SNAKE.match(k)
    )


_DEFAULT_ACCEPTED_KINDS = _accepted_kinds(_ALL_DEFAULT_KINDS)


def _kinds_for(signal_kinds: Collection[str] | None) -> frozenset[str]:
    if signal_kinds is None:
        return _DEFAULT_ACCEPTED_KINDS
    if isinstance(signal_kinds, tuple | frozenset):
        return _accepted_kinds_of(signal_kinds)  # the same vocabulary, row after row
    return _accepted_kinds(signal_kinds)


def _trusted_signal() -> Callable[[str, pendulum.DateTime, Decimal | None, str | None], Signal]:
    """``_trusted(Signal)`` with its four fields set one by one rather than in a loop:
    signals are the most numerous objects of a case, and this halves their cost."""
    set_kind, set_observed_at, set_value, set_note = (
        Signal.__dict__[a.name].__set__ for a in attrs.fields(Signal)
    )
    new = object.__new__

    def build(
        kind: str, observed_at: pendulum.DateTime, value: Decimal | None, note: str | None
    ) -> Signal:
        signal = new(Signal)
        set_kind(signal, kind)
        set_observed_at(signal, observed_at)
        set_value(signal, value)
        set_note(signal, note)
        return signal

    return build


def _trusted_event() -> Callable[..., Event]:
    """``_trusted(Event)`` with its fields set one by one rather than in a loop: a case
    with events has several, and most of their fields are absent."""
    (
        set_kind,
        set_at,
        set_outcome,
        set_amount,
        set_promised_date,
        set_channel,
        set_party,
        set_note,
        set_retracts,
        set_staff,
        set_asset_class,
    ) = (Event.__dict__[a.name].__set__ for a in attrs.fields(Event))
    new = object.__new__

    def build(
        kind: EventKind,
        at: pendulum.DateTime,
        outcome: ContactOutcome | None,
        amount: Decimal | None,
        promised_date: dt.date | None,
        channel: str | None,
        party: str | None,
        note: str | None,
        retracts: str | None,
        staff: str | None,
        asset_class: str | None,
    ) -> Event:
        event = new(Event)
        set_kind(event, kind)
        set_at(event, at)
        set_outcome(event, outcome)
        set_amount(event, amount)
        set_promised_date(event, promised_date)
        set_channel(event, channel)
        set_party(event, party)
        set_note(event, note)
        set_retracts(event, retracts)
        set_staff(event, staff)
        set_asset_class(event, asset_class)
        return event

    return build


_new_signal = _trusted_signal()
_new_event = _trusted_event()
_new_guarantor = _trusted(Guarantor)
_new_fee = _trusted(Fee)
_new_case = _trusted(Case)


def derived_signal(kind: str, at: pendulum.DateTime, note: str) -> Signal:
    """``Signal(kind, at, note=note)``: a signal the library derives from a case's
    events (a payment, an unreachable streak, a promise kept or broken). When every
    validator would pass (a snake_case kind, an aware pendulum instant in the years a
    signal may have, a short ASCII note), it is built without running them; otherwise
    the constructor runs them, and raises what it raises."""
    if (
        type(kind) is str
        and type(at) is pendulum.DateTime
        and type(note) is str
        and _plain_kind(kind)
        and MIN_YEAR <= at.year <= MAX_YEAR
        and at.utcoffset() is not None
        and len(note) <= MAX_TEXT_LENGTH
        and note.isascii()
    ):
        return _new_signal(kind, at, None, note)
    return Signal(kind, at, note=note)


@functools.lru_cache(maxsize=256)
def _plain_kind(kind: str) -> bool:
    """Whether ``kind`` passes the signal kind's validator (remembered: the derived
    kinds are a handful)."""
    return len(kind) <= MAX_KIND_LENGTH and re.match(r"^[a-z][a-z0-9_]*\Z", kind) is not None


def _fast_signal(item: object, kinds: frozenset[str]) -> Signal:
    if type(item) is not dict or not item.keys() <= _SIGNAL_KEYS:
        raise _NotCommon
    kind = item["kind"]
    if type(kind) is not str or kind not in kinds:
        raise _NotCommon
    value = item.get("value")
    note = item.get("note")
    return _new_signal(
        kind,
        _instant(item["observed_at"]),
        None if value is None else _number(value, MEASURE, _MEASURE_RANGE),
        None if note is None else _text(note, MAX_TEXT_LENGTH),
    )


def _fast_event(data: object) -> Event:
    item = _record(data, _EVENT_KEYS)
    raw_kind = item["kind"]
    if type(raw_kind) not in _EVENT_KIND_TYPES:
        raise _NotCommon
    kind = _EVENT_KINDS[raw_kind]
    get = item.get
    outcome = get("outcome")
    if outcome is not None:
        if type(outcome) not in _OUTCOME_TYPES:
            raise _NotCommon
        outcome = _OUTCOMES[outcome]
    retracts = get("retracts")
    if retracts is not None and (kind is not EventKind.RETRACTION):
        raise _NotCommon
    at = _instant(item["at"])
    # The optional fields, each checked only when present (most are not).
    amount = get("amount")
    if amount is not None:
        amount = _number(amount, MONEY, _MONEY_RANGE)
    promised_date = get("promised_date")
    if promised_date is not None:
        promised_date = _date(promised_date)
    channel = get("channel")
    if channel is not None:
        channel = _text(channel, MAX_KIND_LENGTH)
    party = get("party")
    if party is not None:
        party = _text(party, MAX_KIND_LENGTH)
    note = get("note")
    if note is not None:
        note = _text(note, MAX_TEXT_LENGTH)
    if retracts is not None:
        retracts = _text(retracts, MAX_KIND_LENGTH)
    staff = get("staff")
    if staff is not None:
        staff = _text(staff, MAX_KIND_LENGTH)
    asset_class = get("asset_class")
    if asset_class is not None:
        asset_class = _text(asset_class, MAX_KIND_LENGTH)
    event = _new_event(
        kind,
        at,
        outcome,
        amount,
        promised_date,
        channel,
        party,
        note,
        retracts,
        staff,
        asset_class,
    )
    for name in EVENT_REQUIRED_FIELDS.get(kind, ()):
        if getattr(event, name) is None:
            raise _NotCommon
    return event


def _fast_guarantor(data: object) -> Guarantor:
    item = _record(data, _GUARANTOR_KEYS)
    months = item.get("agreed_period_months")
    if months is not None and (type(months) is not int or not 0 < months <= _MAX_GUARANTEE_MONTHS):
        raise _NotCommon
    return _new_guarantor(
        _identifier_text(item["id"]), _optional_text(item.get("name"), MAX_TEXT_LENGTH), months
    )


def _fast_fee(data: object) -> Fee:
    item = _record(data, _FEE_KEYS)
    return _new_fee(_snake(item["kind"]), _money(item["amount"]), _date(item["charged_on"]))


def _flag_value(value: object) -> bool:
    if type(value) is not bool:
        raise _NotCommon
    return value


#: The collection types an option of ``Case.from_dict`` is usually given as: checked by
#: their type alone, without the cost of an ``isinstance`` against an ABC.
_PLAIN_COLLECTIONS = (frozenset, tuple, set, list, dict)

#: The plain collections whose items are hashable: a name is looked up in them safely.
_HASHED_COLLECTIONS = (frozenset, set, dict, types.MappingProxyType)

#: The last immutable collection of names :func:`_check_options` found good: a batch
#: passes one policy's kinds with every row, and they need no second check.
_last_names: object = None


def _check_options(
    signal_kinds: object, products: object, source: object, no_date_sentinels: object
) -> None:
    """The options of ``Case.from_dict``, checked: collections of names (or ``None``),
    a text (or ``None``) and a collection of dates."""
    global _last_names
    for name, value in (("signal_kinds", signal_kinds), ("products", products)):
        if value is None or value is _last_names or type(value) in _HASHED_COLLECTIONS:
            continue  # a mapping's keys and a set's items are hashable: membership works
        if isinstance(value, str | bytes) or not isinstance(value, Collection):
            raise wrong_kind(name, value, "a collection of names or None")
        if isinstance(value, Mapping | AbstractSet):
            continue
        for item in value:
            if not isinstance(item, str):
                raise wrong_kind(f"{name}[]", item, "a name")
        if type(value) is tuple:
            _last_names = value
    if source is not None and not isinstance(source, str):
        raise wrong_kind("source", source, "a file's name or None")
    if type(no_date_sentinels) not in _PLAIN_COLLECTIONS and (
        isinstance(no_date_sentinels, str | bytes) or not isinstance(no_date_sentinels, Collection)
    ):
        raise wrong_kind("no_date_sentinels", no_date_sentinels, "a collection of dates")


def _fast_case(
    data: object,
    *,
    signal_kinds: Collection[str] | None,
    no_date_sentinels: Collection[dt.date],
    products: Collection[str] | None,
) -> Case | None:
    """The case ``_structure_case`` builds from ``data``, when ``data`` is the common,
    well-formed case; None otherwise, leaving it to ``_structure_case``."""
    try:
        record = _record(data, _CASE_KEYS)
        raw_product = record["product"]
        if type(raw_product) not in _PRODUCT_TYPES or not _PRODUCT_NAME.match(raw_product):
            raise _NotCommon
        if products is not None and raw_product not in products:
            raise _NotCommon
        currency = record["currency"]
        if type(currency) is not str or currency not in _with_minor_unit():
            raise _NotCommon
        timezone = _text(record["timezone"], MAX_KIND_LENGTH)
        if _zone_failure(timezone) is not None:
            raise _NotCommon
        maturity = record.get("maturity_date")
        if maturity is not None:
            day = _day(maturity)
            maturity = None if no_date_sentinels and day in no_date_sentinels else _date(day)
        kinds = _kinds_for(signal_kinds)
        return _new_case(
            _identifier_text(record["case_id"]),
            product_name(raw_product),
            currency,
            _money(record["principal"]),
            _money(record["overdue_amount"]),
            _date(record["due_date"]),
            timezone,
            maturity,
            tuple(
                [_fast_signal(s, kinds) for s in _entries(record.get("signals", ()), MAX_SIGNALS)]
            ),
            tuple([_fast_event(e) for e in _entries(record.get("events", ()), MAX_EVENTS)]),
            tuple(
                [_fast_guarantor(g) for g in _entries(record.get("guarantors", ()), MAX_GUARANTORS)]
            ),
            _flag_value(record.get("sicr_rebutted", False)),
            _flag_value(record.get("default_rebutted", False)),
            _optional_rate(record.get("annual_rate")),
            _optional_rate(record.get("penalty_rate")),
            tuple([_fast_fee(f) for f in _entries(record.get("fees", ()), MAX_FEES)]),
            _optional_date_value(record.get("contract_date")),
            _optional_date_value(record.get("opened_on")),
            _optional_count_value(record.get("consecutive_minimum_payments")),
            _optional_share(record.get("debtor_npl_share")),
            _optional_share(record.get("debtor_90dpd_share_all_banks")),
        )
    except _GIVE_UP:
        return None


# --------------------------------------------------------------------------- the fast error
#
# A row the fast path gives up on is mostly a row with a common fault: a negative
# amount, a date that is not one, an unknown signal kind, a field missing or misspelt.
# The full path finds its problems by structuring every field with cattrs, and every
# instant with pendulum, good ones too: some 80 µs a row, ten times the cost of a good
# row. The reader below finds the same problems in one pass over data of the shape
# JSON, CSV and Parquet rows have: each field checked by the hook the converter calls
# for it, in the converter's order, under the path cattrs gives, then the full path's
# own semantic checks (``_semantic_problems``). Where it cannot be sure (an object of
# another type, a key that is not a plain name, data it finds no fault in) it leaves
# the data to the full path. tests/test_bad_rows_fast.py holds it to the full path's
# errors, problem for problem.


class _Unsure(Exception):
    """Raised inside the fast error when only the full path can tell the problems."""


#: The types of the values a JSON, CSV or Parquet row holds, besides lists and objects.
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
#: Unknown keys this reader names as the full path does: that path joins their names
#: with commas and splits them again, after the last " @ " of cattrs' line, so a key
#: with a comma or an at sign (or an empty one) is left to it.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
#: Lists no longer than this are within ``check_nesting``'s limit on items (the largest
#: of the lists' maxima, so at least any one of them).
_FEWEST_MOST_ITEMS = min(MAX_SIGNALS, MAX_EVENTS, MAX_FEES)

#: The problem of one field's value, as cattrs words it; None when there is none.
_Check = Callable[[Any], "str | None"]
#: One field of an input class: its name, whether it is required, and its check; for a
#: list of objects, the fields of its items and their names, the most items, and a test
#: that passes the common items without a problem, if there is one.
_Field = tuple[str, bool, _Check | None, "_Items | None"]
_Items = tuple[tuple[_Field, ...], frozenset[str], int, Callable[[dict[str, Any]], bool] | None]
_MISSING = object()


def _shallow(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` holds only scalars and short lists of scalars and of flat plain
    dicts, with few keys: data in which ``check_nesting`` finds nothing."""
    if len(data) > MAX_KEYS:
        return False
    scalar = _SCALAR_TYPES
    for value in data.values():
        if type(value) in scalar:
            continue
        if type(value) not in _LIST_TYPES or len(value) > _FEWEST_MOST_ITEMS:
            return False
        for item in value:
            if type(item) in scalar:
                continue
            if type(item) is not dict or len(item) > MAX_KEYS:
                return False
            for inner in item.values():
                if type(inner) not in scalar:
                    return False
    return True


def _hook_check(
    hook: Callable[[Any, Any], Any],
    target: Any,
    *,
    optional: bool,
    accept: Callable[[Any], object] | None,
) -> _Check:
    """The check of a field the converter structures with ``hook``: its message is the
    text of the hook's ``TypeError`` or ``ValueError``, as cattrs reports it.

    ``accept``, a check of the fast path, passes the common values without the hook:
    what it accepts, the hook accepts too."""

    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if accept is not None:
            try:
                accept(value)
                return None
            except _GIVE_UP:
                pass
        try:
            hook(value, target)
        except (TypeError, ValueError) as exc:
            return str(exc)
        except Exception:  # anything else cattrs formats its own way
            raise _Unsure from None
        return None

    return check


def _instant_fine(value: Any) -> None:
    """``_instant(value)`` without building the instant: the same checks, the same
    exceptions."""
    if type(value) is str and _INSTANT_TEXT.fullmatch(value) is not None:
        parsed = dt.datetime.fromisoformat(value)
        offset = parsed.tzinfo
        if type(offset) is not dt.timezone or _offset_zone(offset) is None:
            raise _NotCommon
        year = parsed.year
    elif type(value) is pendulum.DateTime and value.utcoffset() is not None:
        year = value.year
    else:
        raise _NotCommon
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _NotCommon


def _signal_fine(item: dict[str, Any]) -> bool:
    """Whether cattrs finds no problem in the signal ``item``: the fast path's checks of
    a signal, but for its kind's vocabulary (a semantic check, made later)."""
    if not item.keys() <= _SIGNAL_KEYS:
        return False
    try:
        _text(item["kind"], MAX_KIND_LENGTH)
        _instant_fine(item["observed_at"])
        value = item.get("value")
        if value is not None:
            _number(value, MEASURE, _MEASURE_RANGE)
        note = item.get("note")
        if note is not None:
            _text(note, MAX_TEXT_LENGTH)
    except _GIVE_UP:
        return False
    return True


def _instant_check(value: Any) -> str | None:
    """The check of an instant: ``_structure_datetime`` without building the instant."""
    try:
        _instant_fine(value)  # what the fast path reads, the full path reads too
        return None
    except _GIVE_UP:
        pass
    try:
        check_instant(_parse_datetime(value))
    except (TypeError, ValueError) as exc:
        return str(exc)
    raise _Unsure  # valid, in a way only the full path reads


def _record_problems(
    item: Mapping[str, Any],
    fields: tuple[_Field, ...],
    known: frozenset[str],
    path: str,
    source: str | None,
    problems: list[FieldProblem],
) -> None:
    """Add the problems cattrs finds in the object ``item`` at ``path``: each field's,
    in the order of the class's fields, then the unknown keys', in name order."""
    for name, required, check, items in fields:
        value = item.get(name, _MISSING)
        if value is _MISSING:
            if required:
                where = f"{path}.{name}" if path else name
                problems.append(FieldProblem(where, "required field missing", source=source))
        elif items is not None:
            _items_problems(value, f"{path}.{name}" if path else name, items, source, problems)
        else:
            assert check is not None
            message = check(value)
            if message is not None:
                where = f"{path}.{name}" if path else name
                problems.append(FieldProblem(where, message, source=source))
    if item.keys() <= known:
        return
    extra = item.keys() - known
    if not all(type(k) is str and _PLAIN_KEY.fullmatch(k) for k in extra):
        raise _Unsure
    problems.extend(_unknown_field(path, name, source) for name in sorted(extra))


def _items_problems(
    value: Any, path: str, items: _Items, source: str | None, problems: list[FieldProblem]
) -> None:
    """Add the problems cattrs finds in a list of objects (signals, events, …)."""
    fields, known, maximum, fine = items
    try:
        _check_list(value, maximum)
    except (TypeError, ValueError) as exc:
        problems.append(FieldProblem(path, str(exc), source=source))
        return
    for i, item in enumerate(value):
        if type(item) is dict:
            if fine is not None and fine(item):
                continue
            _record_problems(item, fields, known, f"{path}[{i}]", source, problems)
            continue
        try:
            _check_object(item)
        except TypeError as exc:
            problems.append(FieldProblem(f"{path}[{i}]", str(exc), source=source))
            continue
        raise _Unsure  # a mapping of another type


def _texts(maximum: int) -> Callable[[Any], object]:
    return lambda value: _text(value, maximum)


def _choice(values: Collection[str]) -> Callable[[Any], object]:
    def accept(value: Any) -> object:
        if type(value) is not str or value not in values:
            raise _NotCommon
        return value

    return accept


def _product_text(value: Any) -> object:
    if type(value) is not str or not _PRODUCT_NAME.match(value):
        raise _NotCommon
    return value


#: For the type of each field, the check of the fast path that passes its common values.
_ACCEPT: Mapping[Any, Callable[[Any], object]] = {
    _Id: _texts(MAX_ID_LENGTH),
    _Kind: _texts(MAX_KIND_LENGTH),
    str: _texts(MAX_TEXT_LENGTH),
    _Money: _money,
    _Number: lambda value: _number(value, MEASURE, _MEASURE_RANGE),
    dt.date: _date,
    bool: _flag_value,
    _ProductName: _product_text,
    EventKind: _choice(_EVENT_KINDS),
    ContactOutcome: _choice(_OUTCOMES),
}
_FINE_ITEMS: Mapping[type, Callable[[dict[str, Any]], bool]] = {_SignalIn: _signal_fine}
_LIST_MAXIMA: Mapping[type, int] = {
    _SignalIn: MAX_SIGNALS,
    _EventIn: MAX_EVENTS,
    _GuarantorIn: MAX_GUARANTORS,
    _FeeIn: MAX_FEES,
}


def _class_fields(cls: type) -> tuple[_Field, ...]:
    """Each field of the input class ``cls``: its name, whether it is required, and its
    check, from the hook the converter structures its type with."""
    attrs.resolve_types(cls)
    out: list[_Field] = []
    for field in attrs.fields(cls):
        required = field.default is attrs.NOTHING
        target = field.type
        args = typing.get_args(target)
        optional = type(None) in args
        if optional:
            (target,) = (a for a in args if a is not type(None))
        if typing.get_origin(target) is tuple:
            item = args[0]
            fields = _class_fields(item)
            known = frozenset(f[0] for f in fields)
            items = (fields, known, _LIST_MAXIMA[item], _FINE_ITEMS.get(item))
            out.append((field.name, required, None, items))
            continue
        check = (
            _instant_check
            if target is pendulum.DateTime
            else _hook_check(
                _CONVERTER.get_structure_hook(target),
                target,
                optional=optional,
                accept=_ACCEPT.get(target),
            )
        )
        out.append((field.name, required, check, None))
    return tuple(out)


_CASE_FIELDS_IN = _class_fields(_CaseIn)


def _fast_problems(
    data: object,
    *,
    signal_kinds: Collection[str] | None,
    source: str | None,
    no_date_sentinels: Collection[dt.date],
    products: Collection[str] | None,
) -> list[FieldProblem] | None:
    """The problems ``_structure_case`` reports for ``data``, in its order; None when
    ``data`` is of a shape this does not read, or has no problem it finds."""
    if type(data) is not dict:
        return None
    try:
        if not _shallow(data):
            shape = [FieldProblem(p, m, source=source) for p, m in check_nesting(data)]
            if shape:
                return shape
        data = _without_sentinels(data, no_date_sentinels)
        problems: list[FieldProblem] = []
        _record_problems(data, _CASE_FIELDS_IN, _CASE_KEYS, "", source, problems)
        _semantic_problems(
            data, problems, signal_kinds=signal_kinds, products=products, source=source
        )
    except _Unsure:
        return None
    return _dedupe(problems) if problems else None
