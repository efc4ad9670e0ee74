"""The fact model: cases, signals, events and guarantors, validated on construction.

Every class here is a frozen attrs class. ``Case.from_dict`` structures plain data (a
dict decoded from JSON, a CSV row turned into a dict) with cattrs and reports *every*
invalid field, each with its path, for example
``signals[2].observed_at: naive datetime; give an offset or a zone``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NewType

import attrs
import cattrs
import pendulum
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from collectrules.errors import FieldProblem, InputError, did_you_mean

__all__ = [
    "DEFAULT_SIGNAL_KINDS",
    "Case",
    "ContactOutcome",
    "Event",
    "EventKind",
    "Guarantor",
    "Product",
    "Signal",
    "currency_exponent",
    "parse_as_of",
    "to_minor_units",
    "zone",
]


class Product(enum.StrEnum):
    """The kind of credit a case is about."""

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


class EventKind(enum.StrEnum):
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


class ContactOutcome(enum.StrEnum):
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

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_ID_RE = re.compile(r"^\S(.*\S)?$")


@functools.lru_cache(maxsize=512)
def zone(name: str) -> pendulum.Timezone:
    """The pendulum time zone of an IANA name, loaded once per process."""
    return pendulum.timezone(name)


def currency_exponent(currency: str) -> int:
    """The number of minor-unit digits of an ISO 4217 currency (2 unless listed)."""
    return _EXPONENTS.get(currency, 2)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert an amount to integer minor units, rounding half up (cents, fen, …)."""
    scaled = amount.scaleb(currency_exponent(currency))
    return int(scaled.to_integral_value(rounding="ROUND_HALF_UP"))


# --------------------------------------------------------------------------- validators


def _aware(instance: object, attribute: attrs.Attribute[Any], value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime):
        msg = f"{attribute.name}: expected an aware datetime, got {type(value).__name__}"
        raise InputError([FieldProblem(attribute.name, msg.split(": ", 1)[1])])
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError([FieldProblem(attribute.name, "naive datetime; give an offset or a zone")])


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InputError(
            [FieldProblem(attribute.name, f"expected a decimal amount, got {value!r}")]
        )
    if value < 0:
        raise InputError([FieldProblem(attribute.name, f"must not be negative, got {value}")])


def _to_pendulum(value: dt.datetime) -> pendulum.DateTime:
    if isinstance(value, pendulum.DateTime):
        return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return pendulum.instance(value)
    return value  # type: ignore[return-value]  # rejected by the validator


def _to_decimal(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _timezone_name(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    try:
        pendulum.timezone(value)
    except Exception as exc:  # pendulum raises its own InvalidTimezone
        raise InputError(
            [FieldProblem(attribute.name, f"unknown IANA time zone {value!r}")]
        ) from exc


def _currency(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _CURRENCY_RE.match(value):
        raise InputError(
            [
                FieldProblem(
                    attribute.name, f"expected an ISO 4217 code such as 'CNY', got {value!r}"
                )
            ]
        )


def _identifier(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InputError(
            [FieldProblem(attribute.name, f"expected a non-empty string, got {value!r}")]
        )


def _signal_kind(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9_]*$", value):
        raise InputError(
            [FieldProblem(attribute.name, f"expected a snake_case signal kind, got {value!r}")]
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
    value: Decimal | None = attrs.field(default=None, converter=_to_decimal)
    note: str | None = None

    @value.validator
    def _check_value(self, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
        if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
            raise InputError([FieldProblem("value", f"expected a finite number, got {value!r}")])


def _unknown(name: str, value: object, known: list[str]) -> InputError:
    choices = ", ".join(repr(k) for k in known)
    hint = did_you_mean(value, known) if isinstance(value, str) else None
    message = f"unknown value {value!r}; expected one of {choices}"
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
    promised_date: dt.date | None = None
    channel: str | None = None
    party: str | None = None
    note: str | None = None
    retracts: str | None = None

    def __attrs_post_init__(self) -> None:
        missing = [
            FieldProblem(name, f"required for a {self.kind.value!r} event")
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
    name: str | None = None
    agreed_period_months: int | None = attrs.field(default=None)

    @agreed_period_months.validator
    def _check_period(self, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1200
        ):
            msg = f"expected a positive whole number of months up to 1200, got {value!r}"
            raise InputError([FieldProblem(attribute.name, msg)])


def _signals(items: Iterable[Signal]) -> tuple[Signal, ...]:
    return tuple(items)


def _events(items: Iterable[Event]) -> tuple[Event, ...]:
    return tuple(items)


def _guarantors(items: Iterable[Guarantor]) -> tuple[Guarantor, ...]:
    return tuple(items)


@attrs.frozen
class Case:
    """One overdue account: the amounts, the dates, and what is known of the debtor.

    ``due_date`` is the due date of the oldest unpaid instalment; ``timezone`` is the
    debtor's IANA zone, in which days past due and every stage are counted.
    """

    case_id: str = attrs.field(validator=_identifier)
    product: Product = attrs.field(converter=Product)
    currency: str = attrs.field(validator=_currency)
    principal: Decimal = attrs.field(converter=_to_decimal, validator=_non_negative)
    overdue_amount: Decimal = attrs.field(converter=_to_decimal, validator=_non_negative)
    due_date: dt.date = attrs.field()
    timezone: str = attrs.field(validator=_timezone_name)
    maturity_date: dt.date | None = None
    signals: tuple[Signal, ...] = attrs.field(default=(), converter=_signals)
    events: tuple[Event, ...] = attrs.field(default=(), converter=_events)
    guarantors: tuple[Guarantor, ...] = attrs.field(default=(), converter=_guarantors)
    sicr_rebutted: bool = False
    default_rebutted: bool = False

    @due_date.validator
    def _check_due(self, attribute: attrs.Attribute[Any], value: dt.date) -> None:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise InputError([FieldProblem("due_date", f"expected a date, got {value!r}")])

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        signal_kinds: Collection[str] | None = None,
        source: str | None = None,
    ) -> Case:
        """Structure a case from plain data, reporting every invalid field at once.

        ``signal_kinds`` is the vocabulary the signals must come from; it defaults to
        the default policy's kinds. ``source`` names the file the data came from, so
        that errors can say where.
        """
        return _structure_case(data, signal_kinds=signal_kinds, source=source)

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
        for key in ("signals", "events"):
            out[key] = [{k: v for k, v in item.items() if v is not None} for item in out[key]]
        out["guarantors"] = [
            {k: v for k, v in g.items() if v is not None} for g in out.get("guarantors", [])
        ]
        if not out["guarantors"]:
            del out["guarantors"]
        return out

    def local_date(self, at: dt.datetime) -> dt.date:
        """The calendar date of an instant in the case's time zone."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise InputError([FieldProblem("at", "naive datetime; give an offset or a zone")])
        return at.astimezone(zone(self.timezone)).date()


# --------------------------------------------------------------------------- structuring

_Money = NewType("_Money", Decimal)
_Number = NewType("_Number", Decimal)


def _structure_datetime(value: object, _: type) -> pendulum.DateTime:
    if isinstance(value, dt.datetime):
        parsed: dt.datetime = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            msg = f"expected an ISO 8601 datetime with an offset, got {value!r}"
            raise ValueError(msg) from None
    else:
        msg = f"expected an ISO 8601 datetime string, got {type(value).__name__}"
        raise TypeError(msg)
    if parsed.tzinfo is None:
        msg = "naive datetime; give an offset or a zone"
        raise ValueError(msg)
    return pendulum.instance(parsed)


def _structure_date(value: object, _: type) -> dt.date:
    if isinstance(value, dt.datetime):
        msg = f"expected a date, got a datetime {value.isoformat()!r}"
        raise TypeError(msg)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            msg = f"expected a date as YYYY-MM-DD, got {value!r}"
            raise ValueError(msg) from None
    msg = f"expected a date as YYYY-MM-DD, got {type(value).__name__}"
    raise TypeError(msg)


def _structure_number(value: object, _: type) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        msg = f"expected a number, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        msg = f"expected a number, got {value!r}"
        raise ValueError(msg) from None
    if not number.is_finite():
        msg = f"expected a finite number, got {value!r}"
        raise ValueError(msg)
    return number


def _structure_money(value: object, t: type) -> Decimal:
    number = _structure_number(value, t)
    if number < 0:
        msg = f"must not be negative, got {number}"
        raise ValueError(msg)
    return number


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    return value


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {value!r}"
        raise TypeError(msg)
    return value


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected a whole number, got {value!r}"
        raise TypeError(msg)
    return value


def _enum_hook(enum_type: type[enum.StrEnum]) -> Any:
    choices = ", ".join(repr(m.value) for m in enum_type)

    def hook(value: object, _: type) -> enum.StrEnum:
        try:
            if not isinstance(value, str):
                raise ValueError
            return enum_type(value)
        except ValueError:
            msg = f"unknown value {value!r}; expected one of {choices}"
            hint = (
                did_you_mean(value, [m.value for m in enum_type])
                if isinstance(value, str)
                else None
            )
            if hint is not None:
                msg += f" (did you mean {hint!r}?)"
            raise ValueError(msg) from None

    return hook


@attrs.frozen
class _SignalIn:
    kind: str
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
    channel: str | None = None
    party: str | None = None
    note: str | None = None
    retracts: str | None = None


@attrs.frozen
class _GuarantorIn:
    id: str
    name: str | None = None
    agreed_period_months: int | None = None


@attrs.frozen
class _CaseIn:
    case_id: str
    product: Product
    currency: str
    principal: _Money
    overdue_amount: _Money
    due_date: dt.date
    timezone: str
    maturity_date: dt.date | None = None
    signals: tuple[_SignalIn, ...] = ()
    events: tuple[_EventIn, ...] = ()
    guarantors: tuple[_GuarantorIn, ...] = ()
    sicr_rebutted: bool = False
    default_rebutted: bool = False


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    conv.register_structure_hook(pendulum.DateTime, _structure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(_Number, _structure_number)
    conv.register_structure_hook(_Money, _structure_money)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(Product, _enum_hook(Product))
    conv.register_structure_hook(EventKind, _enum_hook(EventKind))
    conv.register_structure_hook(ContactOutcome, _enum_hook(ContactOutcome))
    conv.register_unstructure_hook(pendulum.DateTime, lambda v: v.isoformat())
    conv.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    conv.register_unstructure_hook(Decimal, str)
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
            return "\0" + ",".join(sorted(err.extra_fields))
        return str(err)

    assert isinstance(exc, ClassValidationError | IterableValidationError)
    for line in cattrs.transform_error(exc, format_exception=fmt):
        message, _, path = line.rpartition(" @ ")
        path = _format_path(path)
        if message.startswith("\0"):
            for name in message[1:].split(","):
                problems.append(
                    FieldProblem(
                        f"{path}.{name}" if path else name,
                        "unknown field",
                        source=source,
                        suggestion=did_you_mean(name, _known_keys(path)),
                    )
                )
        else:
            problems.append(FieldProblem(path, message, source=source))
    return problems


def _known_keys(path: str) -> list[str]:
    leaf = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
    target: type = {"signals": _SignalIn, "events": _EventIn, "guarantors": _GuarantorIn}.get(
        leaf, _CaseIn
    )
    return [a.name for a in attrs.fields(target)]


def _structure_case(
    data: Mapping[str, Any],
    *,
    signal_kinds: Collection[str] | None,
    source: str | None,
) -> Case:
    if not isinstance(data, Mapping):
        raise InputError(
            [FieldProblem("", f"expected an object, got {type(data).__name__}", source=source)],
            subject="case",
        )
    problems: list[FieldProblem] = []
    raw: _CaseIn | None = None
    try:
        raw = _CONVERTER.structure(dict(data), _CaseIn)
    except (ClassValidationError, IterableValidationError) as exc:
        problems.extend(_cattrs_problems(exc, source))

    # Semantic checks that cattrs cannot make run on whatever structured, item by item.
    known = frozenset(signal_kinds) if signal_kinds is not None else _ALL_DEFAULT_KINDS
    for i, item in enumerate(_as_list(data.get("signals"))):
        kind = item.get("kind") if isinstance(item, Mapping) else None
        if isinstance(kind, str) and kind not in known:
            problems.append(
                FieldProblem(
                    f"signals[{i}].kind",
                    f"unknown signal kind {kind!r}; known kinds: {', '.join(sorted(known))}",
                    source=source,
                    suggestion=did_you_mean(kind, known),
                )
            )
    for i, item in enumerate(_as_list(data.get("events"))):
        if not isinstance(item, Mapping):
            continue
        try:
            kind = EventKind(str(item.get("kind")))
        except ValueError:
            continue
        for name in EVENT_REQUIRED_FIELDS.get(kind, ()):
            if item.get(name) is None:
                problems.append(
                    FieldProblem(
                        f"events[{i}].{name}",
                        f"required for a {kind.value!r} event",
                        source=source,
                    )
                )
    for name in ("timezone", "currency", "case_id"):
        value = data.get(name)
        if isinstance(value, str) and not any(p.path == name for p in problems):
            attribute = attrs.fields_dict(Case)[name]
            try:
                attribute.validator(None, attribute, value)  # type: ignore[misc]
            except InputError as exc:
                problems.extend(attrs.evolve(p, source=source) for p in exc.problems)

    if problems or raw is None:
        raise InputError(_dedupe(problems), subject=f"case {data.get('case_id', '?')!s}")
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
        )
    except InputError as exc:  # a last line of defence; the checks above should catch it
        raise InputError(
            [attrs.evolve(p, source=source) for p in exc.problems], subject="case"
        ) from None


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
    try:
        return _structure_datetime(value, pendulum.DateTime)
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem("as_of", str(exc))]) from None
