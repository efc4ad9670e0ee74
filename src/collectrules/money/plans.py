"""Repayment plans for an allowed extension, replan or restructuring (DOMAIN.md §11).

:func:`propose_plan` builds the schedule of a remedy that the decision allows, checks
it against the policy's ``[money]`` caps, and refuses it with the rule, the figure and
the cap when it breaks one. A plan is data (:meth:`Plan.to_dict`), a CSV
(:meth:`Plan.to_csv`), and a bilingual agreement draft for written confirmation
(书面确认) in Markdown or HTML (:meth:`Plan.to_markdown`, :meth:`Plan.to_html`).

Conventions, each chosen so that a property can be proved rather than hoped for:

* money is an exact :class:`~decimal.Decimal`, rounded to the currency's minor unit;
* interest of an instalment is the balance × the annual rate / 12, rounded *down* to
  the minor unit, so the realised rate of a plan never exceeds its nominal rate;
* the rounding residue of the principal falls on the last instalment, so the
  principal of the schedule sums exactly to the financed principal;
* due date *k* is the start date plus *k* months, counted from the start (so Jan 31
  gives Feb 28 or 29, then Mar 31), then moved to the next working day when the
  ``[money]`` section names a business calendar.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
from collections.abc import Iterable, Mapping, Sequence, Set
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import attrs
import pendulum

from collectrules._arguments import require_date, require_instance, require_int
from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.calendars import BusinessCalendar
from collectrules.errors import CollectRulesError, FieldProblem, InputError, figure, quote
from collectrules.model.case import (
    Case,
    currency_problem,
)
from collectrules.model.decision import Decision, RemedyGrant
from collectrules.model.limits import (
    MAX_YEAR,
    MEASURE,
    MIN_YEAR,
    MONEY,
    NUMBER_TEXT,
    number_text_message,
)
from collectrules.model.remedies import Remedy
from collectrules.model.time import require_aware, require_case
from collectrules.money._units import SHOWN, quantum, require_minor_units, shown
from collectrules.money.terms import MoneySection
from collectrules.policy.loader import available_policies, load_policy
from collectrules.policy.model import Policy

__all__ = [
    "PLAN_KINDS",
    "CapCheck",
    "Instalment",
    "Method",
    "Plan",
    "PlanRefusedError",
    "PlanTerms",
    "add_months",
    "build_schedule",
    "money_section",
    "propose_plan",
    "quantum",
]

#: The remedies a plan can be built for.
PLAN_KINDS: tuple[Remedy, ...] = (Remedy.EXTEND, Remedy.REPLAN, Remedy.RESTRUCTURE)


class Method(Choice):
    """How the principal is repaid over the instalments."""

    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY = "interest_only"
    CUSTOM = "custom"

    @property
    def label_en(self) -> str:
        """English label."""
        return _METHOD_LABELS[self][0]

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return _METHOD_LABELS[self][1]


_METHOD_LABELS = {
    Method.ANNUITY: ("equal instalments (annuity)", "等额本息"),
    Method.EQUAL_PRINCIPAL: ("equal principal", "等额本金"),
    Method.INTEREST_ONLY: ("interest only, principal at the end", "先息后本"),
    Method.CUSTOM: ("custom principal per instalment", "自定义还款计划"),
}


class PlanRefusedError(CollectRulesError, ValueError):
    """A plan the decision or the policy does not allow.

    ``rule_id`` is the blocking rule or the cap's clause; ``figure`` is what the plan
    asked for and ``cap`` the most the rule allows (both ``None`` for a blocked remedy).
    ``term`` names the field of :class:`PlanTerms` whose figure is over the cap
    (``months``, ``annual_rate`` or ``penalty_rate``; ``None`` for a blocked remedy).
    """

    def __init__(
        self,
        message: str,
        *,
        rule_id: str | None,
        figure: Decimal | str | None = None,
        cap: Decimal | str | None = None,
        term: str | None = None,
    ) -> None:
        self.rule_id = rule_id
        self.figure = figure
        self.cap = cap
        self.term = term
        super().__init__(message)


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months`` calendar months; a missing day becomes the month's last.
    A date past the calendar's years 1 to 9999, or arguments of another kind, is an
    :class:`InputError`."""
    start = require_date(start, "start")
    require_int(months, "months")
    try:
        d = pendulum.Date(start.year, start.month, start.day).add(months=months)
        return dt.date(d.year, d.month, d.day)
    except (ValueError, OverflowError):
        msg = f"{start} plus {figure(months)} months is outside the calendar's years 1 to 9999"
        raise InputError([FieldProblem("months", msg)]) from None


def _method(value: object) -> Method:
    # The values are compared before the enum is asked: it writes the repr of a value it
    # does not know, which fails on one that has none (or one too deep to write).
    if isinstance(value, Method):
        return value
    if isinstance(value, str) and value in _METHOD_VALUES:
        return Method(value)
    choices = ", ".join(repr(m) for m in _METHOD_VALUES)
    raise _problem("method", f"expected one of {choices}, got {quote(value)}")


_METHOD_VALUES = tuple(m.value for m in Method)


def _decimal(value: object, name: str) -> Decimal:
    """``value`` as a decimal for the term ``name``; a negative zero as zero."""
    number: Decimal | None = None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and NUMBER_TEXT.fullmatch(value) is None:
        raise _problem(name, number_text_message(value))
    elif isinstance(value, int | str) and not isinstance(value, bool):
        with contextlib.suppress(ArithmeticError):
            number = Decimal(value)
    if number is None:
        raise _problem(name, f"expected a number, got {quote(value)}")
    # -0 is 0: written as "-0" in a schedule, a CSV and an agreement otherwise.
    return number.copy_abs() if number.is_zero() else number


def _rate_digits(rate: Decimal) -> str | None:
    """What is wrong with the digits of a finite rate, as a case's rate is checked
    (:data:`~collectrules.model.limits.MEASURE`), or ``None``."""
    if rate.is_zero():
        return None
    # The digits less the trailing zeros ("1.2300" has 3): bytes of values 0 to 9.
    significant = len(bytes(rate.as_tuple().digits).rstrip(b"\0"))
    if rate.adjusted() < MEASURE.smallest.adjusted():
        return f"expected a rate of 0 or of at least {MEASURE.smallest:E}, got {shown(rate)}"
    if significant > MEASURE.digits:
        return (
            f"expected at most {MEASURE.digits} significant digits, as a case's rate has,"
            f" got {figure(significant)}: {shown(rate)}"
        )
    return None


def _annual_rate(value: object) -> Decimal:
    return _decimal(value, "annual_rate")


def _principal(value: object) -> Decimal | None:
    return None if value is None else _decimal(value, "principal")


def _penalty_rate(value: object) -> Decimal | None:
    return None if value is None else _decimal(value, "penalty_rate")


def _amounts(values: Iterable[object]) -> tuple[Decimal, ...]:
    # A mapping or a set has no order of instalments (a mapping's keys were read).
    if isinstance(values, str | bytes | Mapping | Set) or not isinstance(values, Iterable):
        raise _problem("custom_principal", f"expected a list of amounts, got {quote(values)}")
    return tuple(_decimal(v, "custom_principal") for v in values)


def _problem(name: str, message: str) -> InputError:
    return InputError([FieldProblem(f"terms.{name}", message)], subject="plan terms")


@attrs.frozen
class PlanTerms:
    """What the lender proposes: the term, the rate, the method, and the principal.

    ``principal`` defaults by kind: the case's principal for ``extend``, its overdue
    amount for ``replan``; ``restructure`` needs one. ``start`` defaults to the local
    date of ``as_of``; instalment *k* falls due *k* months after it. Rates are annual
    fractions (``0.06`` is 6 %). ``penalty_rate`` is the annual rate on an overdue
    instalment, for the breach terms. ``custom_principal`` is the principal of each
    instalment of a custom plan; it must sum to the principal.
    """

    months: int
    annual_rate: Decimal = attrs.field(converter=_annual_rate)
    method: Method = attrs.field(default=Method.ANNUITY, converter=_method)
    principal: Decimal | None = attrs.field(default=None, converter=_principal)
    start: dt.date | None = None
    penalty_rate: Decimal | None = attrs.field(default=None, converter=_penalty_rate)
    custom_principal: tuple[Decimal, ...] = attrs.field(default=(), converter=_amounts)

    def __attrs_post_init__(self) -> None:
        problems: list[FieldProblem] = []

        def bad(name: str, message: str) -> None:
            problems.append(FieldProblem(f"terms.{name}", message))

        if isinstance(self.months, bool) or not isinstance(self.months, int):
            bad("months", f"expected a whole number of months, got {quote(self.months)}")
        elif not 1 <= self.months <= 600:
            bad("months", f"expected 1 to 600 months, got {figure(self.months)}")
        for name in ("annual_rate", "penalty_rate"):
            rate = getattr(self, name)
            if rate is not None and (not rate.is_finite() or not 0 <= rate < 10):
                msg = "expected an annual rate as a fraction from 0 (0.06 is 6 %)"
                bad(name, f"{msg}, got {shown(rate)}")
            elif rate is not None and (problem := _rate_digits(rate)) is not None:
                # The digits a case's rate may have: a rate of 1E-999999999 would read
                # as 0 % in the agreement, and one of 5,000 digits be written whole.
                bad(name, problem)
        if self.principal is not None and (
            not self.principal.is_finite() or not 0 < self.principal <= MONEY.maximum
        ):
            msg = f"expected a positive amount of at most {MONEY.maximum:,}"
            bad("principal", f"{msg}, got {shown(self.principal)}")
        if self.start is not None and (
            isinstance(self.start, dt.datetime) or not isinstance(self.start, dt.date)
        ):
            bad("start", f"expected a date, got {quote(self.start, limit=SHOWN)}")
        elif self.start is not None and not MIN_YEAR <= self.start.year <= MAX_YEAR:
            bad("start", f"date {self.start} is outside the years {MIN_YEAR}–{MAX_YEAR}")
        if self.method is Method.CUSTOM:
            if isinstance(self.months, int) and len(self.custom_principal) != self.months:
                bad(
                    "custom_principal",
                    f"expected {self.months} amounts (one per instalment), "
                    f"got {len(self.custom_principal)}",
                )
            if any(not a.is_finite() or not 0 <= a <= MONEY.maximum for a in self.custom_principal):
                bad("custom_principal", f"expected amounts from 0 to {MONEY.maximum:,}")
        elif self.custom_principal:
            bad("custom_principal", "only for method 'custom'")
        if problems:
            raise InputError(problems, subject="plan terms")


@attrs.frozen
class Instalment:
    """One instalment: when it falls due, and what it pays."""

    number: int
    due_date: dt.date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal
    #: The due date before it was moved to a working day.
    nominal_date: dt.date

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, amounts as decimal strings."""
        return {
            "number": self.number,
            "due_date": self.due_date.isoformat(),
            "nominal_date": self.nominal_date.isoformat(),
            "payment": str(self.payment),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "balance": str(self.balance),
        }


@exact
def build_schedule(
    principal: Decimal,
    annual_rate: Decimal,
    months: int,
    *,
    currency: str,
    start: dt.date,
    method: Method = Method.ANNUITY,
    custom_principal: Sequence[Decimal] = (),
    calendar: BusinessCalendar | None = None,
) -> tuple[Instalment, ...]:
    """The instalments of a plan (see the module docstring for the conventions).

    The principal of the instalments sums exactly to ``principal``. The arguments are
    checked as :class:`PlanTerms` checks them (1 to 600 months, a positive principal of
    at most :data:`~collectrules.model.limits.MONEY`'s maximum, a rate from 0 below
    10, a start within the supported years, custom amounts one per instalment); those
    and a principal with more decimals than the currency has, or a currency that is not
    an ISO 4217 code, are an :class:`InputError`.
    """
    if principal is None:
        raise _problem("principal", "required: the principal the instalments repay")
    if calendar is not None:
        require_instance(calendar, BusinessCalendar, "calendar", "a BusinessCalendar or None")
    terms = PlanTerms(
        months=months,
        annual_rate=annual_rate,
        method=method,
        principal=principal,
        start=start,
        custom_principal=_amounts(custom_principal),
    )
    problem = currency_problem(currency)
    if problem is not None:
        raise _problem("currency", problem)
    assert terms.principal is not None
    return _schedule(terms, terms.principal, start, currency, calendar)


@exact
def _schedule(
    terms: PlanTerms,
    principal: Decimal,
    start: dt.date,
    currency: str,
    calendar: BusinessCalendar | None,
) -> tuple[Instalment, ...]:
    """The instalments of checked ``terms`` on ``principal`` from ``start``."""
    months, method = terms.months, terms.method
    last = add_months(start, months)
    if last.year > MAX_YEAR:
        raise _past_the_years(months, start, last)
    q = _quantum_of(principal, currency)
    # Written with the currency's minor unit, however it was spelt ("1E+5", "1000.0"
    # yen): a schedule's amounts and its balances then show that unit and no other.
    principal = principal.quantize(q)
    monthly = terms.annual_rate / 12
    parts = _principal_parts(principal, monthly, months, method, terms.custom_principal, q)
    out: list[Instalment] = []
    balance = principal
    for k, part in enumerate(parts, start=1):
        with localcontext() as ctx:
            ctx.prec = 50
            interest = (balance * monthly).quantize(q, rounding=ROUND_DOWN)
        # A whole number of minor units already, written with them ("0.00", not "0").
        part = (min(part, balance) if k < months else balance).quantize(q)
        balance -= part
        nominal = add_months(start, k)
        due = calendar.next_working_day(nominal) if calendar is not None else nominal
        if due.year > MAX_YEAR:  # a holiday on the last days of the last year
            raise _past_the_years(months, start, due)
        out.append(Instalment(k, due, part + interest, part, interest, balance, nominal))
    return tuple(out)


def _past_the_years(months: int, start: dt.date, due: dt.date) -> InputError:
    # A due date the library could not read back: a case's dates lie within the years.
    msg = (
        f"an instalment of the {months} months from {start.isoformat()} falls due on"
        f" {due.isoformat()}, past the years {MIN_YEAR}–{MAX_YEAR}: expected a plan whose"
        f" instalments fall due by {MAX_YEAR}-12-31"
    )
    return _problem("months", msg)


def _quantum_of(
    principal: Decimal, currency: str, *, default_of: tuple[Case, str] | None = None
) -> Decimal:
    """The ``currency``'s quantum, once ``principal`` is found a whole number of it.

    ``default_of`` is the case and its field that the principal defaults to: the case's
    own amount, not a term the caller gave, is then the one at fault, and the error
    names that field of the case."""
    if default_of is None:
        return require_minor_units(principal, currency, "terms.principal", "plan terms")
    case, field = default_of
    return require_minor_units(
        principal,
        currency,
        field,
        f"case {quote(case.case_id)}",
        then=", and the plan's principal defaults to it; give terms.principal",
    )


@exact
def _principal_parts(
    principal: Decimal,
    monthly: Decimal,
    months: int,
    method: Method,
    custom: Sequence[Decimal],
    q: Decimal,
) -> list[Decimal]:
    """The principal of each instalment before the last (the last takes the rest)."""
    if method is Method.CUSTOM:
        parts = list(custom)
        if any(a != a.quantize(q) for a in parts):
            raise _problem("custom_principal", "an amount has more decimals than the currency")
        if sum(parts, Decimal(0)) != principal:
            total = sum(parts, Decimal(0))
            raise _problem(
                "custom_principal", f"the amounts sum to {shown(total)}, not {shown(principal)}"
            )
        return parts
    if method is Method.INTEREST_ONLY:
        return [Decimal(0)] * months
    if method is Method.EQUAL_PRINCIPAL:
        return [(principal / months).quantize(q, rounding=ROUND_DOWN)] * months
    # Annuity: the level payment, then each month's principal is payment - interest.
    with localcontext() as ctx:
        ctx.prec = 50
        growth = (1 + monthly) ** months if monthly != 0 else Decimal(1)
        # No rate, or one too small to move 50 digits (1e-400): an equal split.
        payment = principal / months if growth == 1 else principal * monthly * growth / (growth - 1)
        payment = payment.quantize(q, rounding=ROUND_HALF_UP)
        parts = []
        balance = principal
        for _ in range(months):
            interest = (balance * monthly).quantize(q, rounding=ROUND_DOWN)
            part = max(Decimal(0), min(payment - interest, balance))
            parts.append(part)
            balance -= part
    return parts


@attrs.frozen
class CapCheck:
    """A cap the plan was checked against: the figure, the cap, and the rule."""

    rule: str
    what: str
    figure: Decimal
    cap: Decimal
    detail: str
    status: str | None = None
    cites: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether the figure is within the cap."""
        return self.figure <= self.cap

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "rule": self.rule,
            "what": self.what,
            "figure": str(self.figure),
            "cap": str(self.cap),
            "detail": self.detail,
            "status": self.status,
            "cites": list(self.cites),
            "passed": self.passed,
        }


@attrs.frozen
class Plan:
    """An accepted plan: its terms, its schedule, the caps it was checked against."""

    case_id: str
    currency: str
    kind: Remedy
    method: Method
    principal: Decimal
    annual_rate: Decimal
    penalty_rate: Decimal | None
    start: dt.date
    as_of: pendulum.DateTime
    policy: str
    grant: RemedyGrant
    instalments: tuple[Instalment, ...]
    checks: tuple[CapCheck, ...] = ()
    acceleration_after_missed: int = 2
    guarantors: tuple[str, ...] = ()
    #: What the plan could not know for sure: each year whose due dates the business
    #: calendar computed by rule, without official data ("calendar CN for 2028 not
    #: published; computed by rule (instalment due dates)").
    warnings: tuple[str, ...] = ()

    @property
    def maturity(self) -> dt.date:
        """The due date of the last instalment."""
        return self.instalments[-1].due_date

    @property
    @exact
    def total_interest(self) -> Decimal:
        """The interest of every instalment."""
        return sum((i.interest for i in self.instalments), Decimal(0))

    @property
    @exact
    def total_payment(self) -> Decimal:
        """Principal plus interest."""
        return sum((i.payment for i in self.instalments), Decimal(0))

    @exact
    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {
            "case_id": self.case_id,
            "currency": self.currency,
            "kind": self.kind.value,
            "method": self.method.value,
            "principal": str(self.principal),
            "annual_rate": str(self.annual_rate),
            "penalty_rate": None if self.penalty_rate is None else str(self.penalty_rate),
            "start": self.start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "policy": self.policy,
            "grant": {
                "rule_id": self.grant.rule_id,
                "reason": self.grant.reason,
                "conditions": list(self.grant.conditions),
                "cites": list(self.grant.cites),
            },
            "maturity": self.maturity.isoformat(),
            "total_interest": str(self.total_interest),
            "total_payment": str(self.total_payment),
            "acceleration_after_missed": self.acceleration_after_missed,
            "checks": [c.to_dict() for c in self.checks],
            "instalments": [i.to_dict() for i in self.instalments],
            "warnings": list(self.warnings),
        }

    def to_csv(self) -> str:
        """The schedule as CSV, one row per instalment, with a header row."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["number", "due_date", "payment", "principal", "interest", "balance", "currency"]
        )
        for i in self.instalments:
            writer.writerow(
                [
                    i.number,
                    i.due_date.isoformat(),
                    i.payment,
                    i.principal,
                    i.interest,
                    i.balance,
                    self.currency,
                ]
            )
        return buffer.getvalue()

    def to_markdown(self) -> str:
        """The bilingual agreement draft, in Markdown (table cells escaped)."""
        return _render(_agreement(self), markdown=True)

    def to_html(self) -> str:
        """The bilingual agreement draft, as an HTML document (every value escaped)."""
        return _render(_agreement(self), markdown=False)


# --------------------------------------------------------------------------- the draft

_Block = tuple[str, Any]


@exact
def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


@exact
def _agreement(plan: Plan) -> list[_Block]:
    cur = plan.currency
    blocks: list[_Block] = [
        ("h1", "Repayment agreement (draft) / 还款协议（草稿）"),
        (
            "p",
            f"Case / 案件: {plan.case_id} · {plan.kind.label_en} / {plan.kind.label_zh} · "
            f"policy / 政策: {plan.policy} · prepared at / 制作时间: {plan.as_of.isoformat()}",
        ),
        ("h2", "Terms / 条款"),
        (
            "table",
            (
                ("term / 条款", "value / 内容"),
                [
                    ("principal / 本金", f"{plan.principal} {cur}"),
                    ("annual rate / 年利率", _pct(plan.annual_rate)),
                    ("method / 还款方式", f"{plan.method.label_en} / {plan.method.label_zh}"),
                    ("instalments / 期数", str(len(plan.instalments))),
                    ("start / 起始日", plan.start.isoformat()),
                    ("maturity / 到期日", plan.maturity.isoformat()),
                    ("total interest / 利息合计", f"{plan.total_interest} {cur}"),
                    ("total to pay / 应还合计", f"{plan.total_payment} {cur}"),
                ],
            ),
        ),
        ("h2", "Schedule / 还款计划"),
        (
            "table",
            (
                (
                    "# / 期次",
                    "due / 到期日",
                    f"payment / 应还 ({cur})",
                    "principal / 本金",
                    "interest / 利息",
                    "balance / 剩余本金",
                ),
                [
                    (
                        str(i.number),
                        i.due_date.isoformat(),
                        str(i.payment),
                        str(i.principal),
                        str(i.interest),
                        str(i.balance),
                    )
                    for i in plan.instalments
                ],
            ),
        ),
        ("h2", "Breach terms / 违约条款"),
        ("ul", _breach_terms(plan)),
    ]
    if plan.warnings:
        blocks.append(("h2", "Dates to confirm / 待确认日期"))
        blocks.append(("ul", list(plan.warnings)))
    if plan.checks:
        blocks.append(("h2", "Legal caps checked / 法定上限核对"))
        blocks.append(
            (
                "table",
                (
                    ("rule / 规则", "figure / 数值", "cap / 上限", "basis / 依据"),
                    [
                        (c.rule, str(c.figure), str(c.cap), f"{c.detail} [{c.status or '-'}]")
                        for c in plan.checks
                    ],
                ),
            )
        )
    blocks.append(("h2", "Written confirmation / 书面确认"))
    blocks.append(
        (
            "p",
            "Both sides confirm this agreement in writing by signing below (双方签字确认本协议).",
        )
    )
    parties = [
        "Lender / 贷款人",
        "Borrower / 借款人",
        *(f"Guarantor / 担保人 ({g})" for g in plan.guarantors),
    ]
    blocks.append(
        ("ul", [f"{p}: ____________________  Date / 日期: ____________" for p in parties])
    )
    return blocks


@exact
def _breach_terms(plan: Plan) -> list[str]:
    terms = []
    if plan.penalty_rate is not None:
        terms.append(
            f"An instalment unpaid on its due date bears penalty interest at "
            f"{_pct(plan.penalty_rate)} a year on the unpaid amount until paid / "
            f"逾期未还的款项按年利率 {_pct(plan.penalty_rate)} 计收罚息，直至清偿。"
        )
    n = plan.acceleration_after_missed
    terms.append(
        f"If {n} instalments are unpaid, the whole outstanding balance falls due at once / "
        f"累计 {n} 期未按时还款的，全部剩余款项立即到期。"
    )
    terms.append(
        "The remedy is granted under rule "
        f"{plan.grant.rule_id} ({', '.join(plan.grant.cites)}): {plan.grant.reason}"
    )
    terms.extend(f"Condition / 条件: {c}" for c in plan.grant.conditions)
    return terms


def _md_text(text: str) -> str:
    """Text for Markdown: HTML-significant characters as entities, so no markup leaks."""
    return html.escape(text, quote=False)


def _md_cell(text: str) -> str:
    return _md_text(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _render(blocks: list[_Block], *, markdown: bool) -> str:
    lines: list[str] = []
    if not markdown:
        lines += [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            '<head><meta charset="utf-8"><title>Repayment agreement / 还款协议</title></head>',
            "<body>",
        ]
    for kind, body in blocks:
        if kind in ("h1", "h2"):
            level = int(kind[1])
            if markdown:
                lines += ["#" * level + " " + _md_text(body), ""]
            else:
                lines.append(f"<h{level}>{html.escape(body)}</h{level}>")
        elif kind == "p":
            lines += [_md_text(body), ""] if markdown else [f"<p>{html.escape(body)}</p>"]
        elif kind == "ul":
            if markdown:
                lines += [f"- {_md_text(item)}" for item in body] + [""]
            else:
                lines.append("<ul>")
                lines += [f"<li>{html.escape(item)}</li>" for item in body]
                lines.append("</ul>")
        else:
            header, rows = body
            if markdown:
                lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
                lines.append("|" + "---|" * len(header))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
                lines.append("")
            else:
                lines.append("<table>")
                lines.append(
                    "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
                )
                lines += [
                    "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows
                ]
                lines.append("</table>")
    if not markdown:
        lines += ["</body>", "</html>"]
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- propose


def money_section(policy: Policy) -> MoneySection | None:
    """The policy's parsed ``[money]`` section, if it has one."""
    require_instance(policy, Policy, "policy", "a Policy")
    section = policy.sections.get("money")
    return section if isinstance(section, MoneySection) else None


def _policy_of(decision: Decision, policy: Policy | None) -> Policy:
    if policy is None:
        if decision.policy.id not in available_policies():
            msg = (
                f"the decision was made under policy {quote(decision.policy.id)}, which is not "
                "shipped; pass policy="
            )
            raise InputError([FieldProblem("policy", msg)])
        policy = load_policy(decision.policy.id)
    if policy.content_hash != decision.policy.content_hash:
        msg = (
            f"the decision was made under {decision.policy.id}@{decision.policy.version}"
            f"#{decision.policy.content_hash[:12]}, not under {policy.ref}"
        )
        raise InputError([FieldProblem("policy", msg)])
    return policy


def _months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end``, rounded up."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) < end:
        months += 1
    return months


@exact
def propose_plan(
    case: Case,
    decision: Decision,
    *,
    kind: Remedy | str,
    as_of: dt.datetime | str,
    terms: PlanTerms,
    policy: Policy | None = None,
) -> Plan:
    """Build the plan of an allowed ``extend``, ``replan`` or ``restructure``.

    ``as_of`` is an aware datetime or an ISO string with an offset; the plan starts on
    its local date unless ``terms.start`` says otherwise (that day or later: an earlier
    start is an :class:`InputError`). ``decision`` is the decision of ``case`` at that
    instant (one made at another instant is an :class:`InputError`: what it allows may
    be blocked at ``as_of``). ``policy`` is the policy the
    decision was made under (default: the shipped policy
    of that name; its content hash must match). Raises :class:`PlanRefusedError` when
    the decision blocks or does not allow the remedy, when the plan runs past the
    recovery horizon (Q2-SHORT) or a maximum number of instalments, or when the rate or
    the penalty rate exceeds a cap; :class:`InputError` for inconsistent input.
    """
    when = require_aware(as_of)
    case = require_case(case)
    require_instance(decision, Decision, "decision", "a Decision")
    require_instance(terms, PlanTerms, "terms", "PlanTerms")
    if policy is not None:
        require_instance(policy, Policy, "policy", "a Policy or None")
    # Compared before the enum is asked, which writes the repr of a value it does not
    # know (and fails on one that has none).
    remedy = next((k for k in PLAN_KINDS if isinstance(kind, str) and kind == k.value), None)
    if remedy not in PLAN_KINDS:
        choices = ", ".join(k.value for k in PLAN_KINDS)
        raise InputError([FieldProblem("kind", f"expected one of {choices}, got {quote(kind)}")])
    assert remedy is not None
    if decision.case_id != case.case_id:
        msg = f"the decision is about case {quote(decision.case_id)}, not {quote(case.case_id)}"
        raise InputError([FieldProblem("decision", msg)])
    made = decision.as_of
    if (
        not isinstance(made, dt.datetime)
        or made.utcoffset() is None
        or made.astimezone(dt.UTC) != when.astimezone(dt.UTC)
    ):
        # The plan is dated as_of and rests on the decision's grant: a decision made at
        # another instant may allow what the decision at as_of blocks (the quadrant, the
        # phase and the deadlines move with time).
        at = made.isoformat() if isinstance(made, dt.datetime) else quote(made)
        msg = (
            f"the decision was made at {at}, not at {when.isoformat()}: decide the case "
            "at the plan's as_of"
        )
        raise InputError([FieldProblem("decision", msg)])
    policy = _policy_of(decision, policy)
    block = decision.block(remedy)
    if block is not None:
        msg = f"{remedy.value} is blocked by rule {block.rule_id}: {block.reason}"
        raise PlanRefusedError(msg, rule_id=block.rule_id)
    grant = decision.grant(remedy)
    if grant is None:
        msg = f"the decision does not allow {remedy.value} for case {quote(case.case_id)}"
        raise PlanRefusedError(msg, rule_id=None)

    principal = terms.principal
    if principal is None:
        if remedy is Remedy.RESTRUCTURE:
            raise _problem("principal", "required for a restructuring: the new principal")
        field = "principal" if remedy is Remedy.EXTEND else "overdue_amount"
        principal = case.principal if remedy is Remedy.EXTEND else case.overdue_amount
        if principal <= 0:
            raise _problem("principal", f"the case's amount is {principal}; give a principal")
        _quantum_of(principal, case.currency, default_of=(case, field))
    today = case.local_date(when)
    if terms.start is not None and terms.start < today:
        # Every instalment of such a plan could fall due before it was proposed, and its
        # recovery horizon would count back from as_of.
        msg = (
            f"{terms.start.isoformat()} is before {today.isoformat()}, the date of as_of in"
            f" the case's zone: a plan proposed then starts on that day or later"
        )
        raise _problem("start", msg)
    start = terms.start or today
    money = money_section(policy) or MoneySection()
    calendar, by_rule = (None, set[int]()) if money.calendar is None else money.calendar.recording()
    instalments = _schedule(terms, principal, start, case.currency, calendar)
    warnings = tuple(
        f"calendar {calendar.name} for {year} not published; computed by rule "
        "(instalment due dates)"
        for year in sorted(by_rule)
        if calendar is not None
    )
    checks = _check(money, remedy, terms, today, instalments)
    return Plan(
        case_id=case.case_id,
        currency=case.currency,
        kind=remedy,
        method=terms.method,
        # The schedule found it a whole number of minor units: written with them.
        principal=principal.quantize(quantum(case.currency)),
        annual_rate=terms.annual_rate,
        penalty_rate=terms.penalty_rate,
        start=start,
        as_of=when,
        policy=policy.ref,
        grant=grant,
        instalments=instalments,
        checks=checks,
        acceleration_after_missed=money.acceleration_after_missed,
        guarantors=tuple(g.name or g.id for g in case.guarantors),
        warnings=warnings,
    )


def _check(
    money: MoneySection,
    remedy: Remedy,
    terms: PlanTerms,
    today: dt.date,
    instalments: Sequence[Instalment],
) -> tuple[CapCheck, ...]:
    checks: list[CapCheck] = []
    if money.max_months is not None:
        checks.append(
            CapCheck(
                money.max_months_rule,
                "instalments",
                Decimal(terms.months),
                money.max_months.value,
                f"at most {money.max_months.describe()} instalments",
            )
        )
    if money.horizon_months is not None and remedy in money.horizon_kinds:
        last = instalments[-1].nominal_date
        checks.append(
            CapCheck(
                money.horizon_rule,
                "months to the last instalment",
                Decimal(_months_between(today, last)),
                money.horizon_months.value,
                f"recovery within {money.horizon_months.describe()} months of as_of",
            )
        )
    cap = money.rate_cap
    if cap is not None:
        for what, rate in (
            ("annual rate", terms.annual_rate),
            ("penalty rate", terms.penalty_rate),
        ):
            if rate is not None:
                checks.append(
                    CapCheck(cap.rule, what, rate, cap.value, cap.describe(), cap.status, cap.cites)
                )
    pcap = money.penalty_cap
    if pcap is not None and terms.penalty_rate is not None:
        checks.append(
            CapCheck(
                pcap.rule,
                "penalty rate",
                terms.penalty_rate,
                pcap.cap_for(terms.annual_rate),
                f"contract rate × (1 + {pcap.excess.describe()})",
                pcap.status,
                pcap.cites,
            )
        )
    for check in checks:
        if not check.passed:
            msg = (
                f"the plan's {check.what} is {check.figure}, over the cap {check.cap} of rule "
                f"{check.rule} ({check.detail})"
            )
            term = _TERM_OF[check.what]
            raise PlanRefusedError(
                msg, rule_id=check.rule, figure=check.figure, cap=check.cap, term=term
            )
    return tuple(checks)


#: The field of :class:`PlanTerms` that each cap check's figure comes from.
_TERM_OF = {
    "instalments": "months",
    "months to the last instalment": "months",
    "annual rate": "annual_rate",
    "penalty rate": "penalty_rate",
}
