"""The ``[money]`` policy section: caps, the LPR, allocation order, reductions, targets.

Every figure is written either as a literal or as the name of a policy parameter (so
that a figure whose status is S can be corrected in one place), and each cap carries
the clause it encodes, its citations and its status (``V`` or ``S``, REGULATION.md).
The LPR is a parameter with the date it was published: the library never fetches it.
Problems are reported through the policy loader, each with its key path and line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.calendars import BusinessCalendar
from collectrules.conditions import Scalar
from collectrules.errors import QUOTE_LIMIT, FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import parse_date
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.model.remedies import Remedy
from collectrules.policy._tables import TableReader
from collectrules.policy.model import SectionLoader

__all__ = [
    "ALLOCATION_PARTS",
    "MONEY_KEYS",
    "PENALTY_CAP_KEYS",
    "RATE_CAP_KEYS",
    "REDUCTION_KEYS",
    "TARGET_BASES",
    "TARGET_KEYS",
    "Component",
    "MoneyFigure",
    "MoneySection",
    "PenaltyCap",
    "RateCap",
    "Reduction",
    "Target",
    "parse_money_section",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*\Z")


class Component(Choice):
    """A component of the amount due, in the default allocation order of payments."""

    FEES = "fees"
    PENALTY_INTEREST = "penalty_interest"
    INTEREST = "interest"
    PRINCIPAL = "principal"


#: The components a payment is allocated to; ``allocation_order`` lists each once.
ALLOCATION_PARTS: tuple[str, ...] = tuple(c.value for c in Component)

#: The keys of ``[money]``.
MONEY_KEYS = (
    "allocation_order",
    "calendar",
    "horizon_months",
    "horizon_rule",
    "horizon_kinds",
    "max_months",
    "max_months_rule",
    "acceleration_after_missed",
    "rate_cap",
    "penalty_cap",
    "reductions",
    "targets",
)
#: The keys of ``[money.rate_cap]``.
RATE_CAP_KEYS = ("rule", "lpr", "lpr_date", "multiple", "status", "cites", "note")
#: The keys of ``[money.penalty_cap]``.
PENALTY_CAP_KEYS = ("rule", "excess", "status", "cites", "note")
#: The keys of one ``[money.reductions.<id>]`` table.
REDUCTION_KEYS = ("remedy", "max_share", "applies_to", "quadrants", "reason", "cites")
_QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
#: The keys of one ``[money.targets.<id>]`` table.
TARGET_KEYS = ("basis", "rate", "label_en", "label_zh", "cites")
#: What a target's rate is a share of.
TARGET_BASES = ("overdue_amount", "principal")
_PLAN_KINDS = (Remedy.EXTEND.value, Remedy.REPLAN.value, Remedy.RESTRUCTURE.value)


def _problem(attribute: attrs.Attribute[Any], expected: str, value: object) -> InputError:
    return InputError([FieldProblem(attribute.name, f"expected {expected}, got {quote(value)}")])


def _finite(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _problem(attribute, "a finite decimal number", value)


def _optional_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (type(value) is not str or not value):
        raise _problem(attribute, "a parameter's name, or None", value)


def _name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str or not value:
        raise _problem(attribute, "a non-empty text", value)


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str:
        raise _problem(attribute, "a text", value)


def _cites(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(type(c) is str for c in value):
        raise _problem(attribute, "a tuple of citations (texts)", value)


def _basis(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in TARGET_BASES:
        raise _problem(attribute, f"one of {', '.join(TARGET_BASES)}", value)


def _share(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not MoneyFigure or not Decimal(0) <= value.value <= Decimal(1):
        raise _problem(attribute, "a MoneyFigure from 0 to 1 (a share)", value)


@attrs.frozen
class MoneyFigure:
    """A figure of the section: its value, and the parameter it was read from (if any).

    ``value`` is a finite Decimal and ``param`` a parameter's name or ``None``; anything
    else is an :class:`~collectrules.errors.InputError` naming the field.
    """

    value: Decimal = attrs.field(validator=_finite)
    param: str | None = attrs.field(default=None, validator=_optional_name)

    @exact
    def describe(self) -> str:
        """``4 (parameter private_rate_multiple)`` or ``4``."""
        return f"{self.value} (parameter {self.param})" if self.param else str(self.value)


@attrs.frozen
class RateCap:
    """A cap on the annual rate: ``multiple`` × the one-year LPR (CN-PRIVATE-RATE-CAP)."""

    rule: str
    lpr: MoneyFigure
    lpr_date: dt.date
    multiple: MoneyFigure
    status: str | None = None
    cites: tuple[str, ...] = ()
    note: str = ""

    @property
    @exact
    def value(self) -> Decimal:
        """The cap, as an annual rate (a fraction: 0.138 is 13.8 %)."""
        return self.lpr.value * self.multiple.value

    @exact
    def describe(self) -> str:
        """``4 × LPR 0.0345 (2026-11-20) = 0.138``."""
        return (
            f"{self.multiple.value} × LPR {self.lpr.value} ({self.lpr_date.isoformat()})"
            f" = {self.value}"
        )


@attrs.frozen
class PenaltyCap:
    """A cap on penalty interest: at most ``excess`` above the loss (CN-PENALTY).

    The loss of late payment is read as interest at the contract rate on the overdue
    amount; the penalty rate may therefore be at most ``rate × (1 + excess)``.
    """

    rule: str
    excess: MoneyFigure
    status: str | None = None
    cites: tuple[str, ...] = ()
    note: str = ""

    @exact
    def cap_for(self, contract_rate: Decimal) -> Decimal:
        """The highest penalty rate allowed on a contract rate."""
        return contract_rate * (1 + self.excess.value)


@attrs.frozen
class Reduction:
    """An incentive or a reduction the lender may grant, with its maximum and envelope.

    It is offered only inside the decision's envelope: when the decision allows
    ``remedy`` and its quadrant is one of ``quadrants``. ``max_share`` bounds it as a
    share of the ``applies_to`` components of the amount due.
    """

    id: str
    remedy: Remedy
    max_share: MoneyFigure
    applies_to: tuple[Component, ...]
    quadrants: tuple[str, ...]
    reason: str
    cites: tuple[str, ...] = ()


@attrs.frozen
class Target:
    """A collection target (催收目标): a share of the opening ``basis`` to recover.

    ``basis`` is one of :data:`TARGET_BASES` and ``rate`` a share from 0 to 1; a field
    of another kind is an :class:`~collectrules.errors.InputError` naming it.
    """

    id: str = attrs.field(validator=_name)
    basis: str = attrs.field(validator=_basis)
    rate: MoneyFigure = attrs.field(validator=_share)
    label_en: str = attrs.field(default="", validator=_text)
    label_zh: str = attrs.field(default="", validator=_text)
    cites: tuple[str, ...] = attrs.field(default=(), validator=_cites)


@attrs.frozen
class MoneySection:
    """The parsed ``[money]`` section."""

    allocation_order: tuple[Component, ...] = tuple(Component)
    calendar: BusinessCalendar | None = None
    horizon_months: MoneyFigure | None = None
    horizon_rule: str = "Q2-SHORT"
    horizon_kinds: tuple[Remedy, ...] = (Remedy.EXTEND, Remedy.REPLAN)
    max_months: MoneyFigure | None = None
    max_months_rule: str = ""
    acceleration_after_missed: int = 2
    rate_cap: RateCap | None = None
    penalty_cap: PenaltyCap | None = None
    reductions: tuple[Reduction, ...] = ()
    targets: tuple[Target, ...] = ()

    @property
    def parameters(self) -> frozenset[str]:
        """The policy parameters the section's figures were read from."""
        figures = [self.horizon_months, self.max_months]
        if self.rate_cap is not None:
            figures += [self.rate_cap.lpr, self.rate_cap.multiple]
        if self.penalty_cap is not None:
            figures.append(self.penalty_cap.excess)
        figures += [r.max_share for r in self.reductions]
        figures += [t.rate for t in self.targets]
        return frozenset(f.param for f in figures if f is not None and f.param)


class _Reader(TableReader):
    def table(self, value: object, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a table, got {type(value).__name__}")
            return None
        return value

    def resolve(self, raw: object, path: str) -> tuple[object, str | None]:
        if isinstance(raw, str) and _NAME.match(raw):
            if raw not in self.params:
                self.fail(
                    path,
                    f"unknown parameter {quote(raw)}",
                    suggestion=did_you_mean(raw, self.params),
                )
                return None, None
            return self.params[raw], raw
        return raw, None

    def number(
        self,
        raw: object,
        path: str,
        *,
        minimum: Decimal = Decimal(0),
        maximum: Decimal | None = None,
        whole: bool = False,
    ) -> MoneyFigure | None:
        value, param = self.resolve(raw, path)
        if value is None and param is None and isinstance(raw, str) and _NAME.match(raw):
            return None
        where = f"parameter {quote(param)}" if param else "the value"
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if whole:
            ok = ok and isinstance(value, int)
        if not ok:
            what = "a whole number" if whole else "a number"
            self.fail(path, f"{where}: expected {what}, got {quote(value)}")
            return None
        assert isinstance(value, int | float)
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or number < minimum or (maximum is not None and number > maximum):
            bound = f"from {minimum}" + (f" to {maximum}" if maximum is not None else " up")
            self.fail(path, f"{where}: expected a number {bound}, got {quote(value)}")
            return None
        # -0.0 is 0: written "-0.0" in a cap's description and a plan's checks otherwise.
        return MoneyFigure(number.copy_abs() if number.is_zero() else number, param)

    def date(self, raw: object, path: str) -> dt.date | None:
        value, param = self.resolve(raw, path)
        if value is None and param is None and isinstance(raw, str) and _NAME.match(raw):
            return None  # an unknown parameter, reported once by resolve
        where = f"parameter {quote(param)}" if param else "the value"
        day: dt.date | None = None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day = value
        elif isinstance(value, str):
            # YYYY-MM-DD only, as a case's dates: date.fromisoformat also reads a week
            # date ('2025-W21-2' was 2025-05-20) and the basic form ('20250520').
            with contextlib.suppress(InputError):
                day = parse_date(value, path)
        if day is None:
            self.fail(path, f"{where}: expected a date as YYYY-MM-DD, got {quote(value)}")
            return None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            # The years a case's dates and a decision's as_of lie in, as a policy's
            # other dates: a cap "published" in year 1 or 9999 is a typing slip.
            msg = f"{where}: expected a date in the years {MIN_YEAR}–{MAX_YEAR}, got {day}"
            self.fail(path, msg)
            return None
        return day

    def status(self, table: Mapping[str, Any], path: str) -> str | None:
        value = table.get("status")
        if value is None:
            return None
        if value not in ("V", "S"):
            self.fail(f"{path}.status", f"expected 'V' or 'S', got {quote(value)}")
            return None
        return str(value)

    def rule_id(
        self, table: Mapping[str, Any], path: str, key: str = "rule", default: str | None = None
    ) -> str:
        """The clause id at ``key`` (required unless there is a ``default``)."""
        value = self.string(table, key, path, default=default)
        if value and not _ID.match(value):
            self.fail(
                f"{path}.{key}", f"expected a clause id such as 'CN-PENALTY', got {quote(value)}"
            )
        return value

    def components(self, raw: object, path: str, *, every: bool) -> tuple[Component, ...]:
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            self.fail(path, "expected a list of strings")
            return tuple(Component)
        out: list[Component] = []
        for value in raw:
            if value not in ALLOCATION_PARTS:
                self.fail(
                    path,
                    f"unknown component {quote(value)}; "
                    f"expected one of {', '.join(ALLOCATION_PARTS)}",
                    suggestion=did_you_mean(value, ALLOCATION_PARTS),
                )
            elif Component(value) in out:
                self.fail(path, f"{quote(value)} is listed twice")
            else:
                out.append(Component(value))
        if every and len(out) != len(ALLOCATION_PARTS) and len(out) == len(raw):
            missing = [p for p in ALLOCATION_PARTS if Component(p) not in out]
            self.fail(path, f"every component must be listed once; missing {', '.join(missing)}")
        if not out:
            self.fail(path, "expected at least one component")
            return tuple(Component)
        return tuple(out)


def _calendar(reader: _Reader, raw: object, path: str) -> BusinessCalendar | None:
    if isinstance(raw, str):
        raw = {"country": raw}
    table = reader.table(raw, path)
    if table is None:
        return None
    reader.keys(table, ("country", "subdivision"), path)
    country = reader.string(table, "country", path)
    sub = table.get("subdivision")
    if sub is not None and not isinstance(sub, str):
        reader.fail(f"{path}.subdivision", "expected a string")
        return None
    if not country:
        return None
    try:
        return BusinessCalendar(country=country, subdivision=sub)
    except Exception as exc:  # the holidays package raises its own errors
        reason = str(exc)  # which names the country again: cut short, as quote cuts it
        reason = reason if len(reason) <= QUOTE_LIMIT else reason[:QUOTE_LIMIT] + "…"
        reader.fail(f"{path}.country", f"unknown calendar {quote(country)}: {reason}")
        return None


def _rate_cap(reader: _Reader, raw: object, path: str) -> RateCap | None:
    table = reader.table(raw, path)
    if table is None:
        return None
    reader.keys(table, RATE_CAP_KEYS, path)
    rule = reader.rule_id(table, path)
    lpr = reader.number(table.get("lpr"), f"{path}.lpr", maximum=Decimal(1))
    lpr_date = reader.date(table.get("lpr_date"), f"{path}.lpr_date")
    multiple = reader.number(table.get("multiple"), f"{path}.multiple", maximum=Decimal(100))
    status = reader.status(table, path)
    cites = reader.texts(table, "cites", path)
    note = reader.string(table, "note", path, default="")
    if lpr is None or lpr_date is None or multiple is None or not rule:
        return None
    return RateCap(rule, lpr, lpr_date, multiple, status, cites, note)


def _penalty_cap(reader: _Reader, raw: object, path: str) -> PenaltyCap | None:
    table = reader.table(raw, path)
    if table is None:
        return None
    reader.keys(table, PENALTY_CAP_KEYS, path)
    rule = reader.rule_id(table, path)
    excess = reader.number(table.get("excess"), f"{path}.excess", maximum=Decimal(10))
    status = reader.status(table, path)
    cites = reader.texts(table, "cites", path)
    note = reader.string(table, "note", path, default="")
    if excess is None or not rule:
        return None
    return PenaltyCap(rule, excess, status, cites, note)


def _reductions(reader: _Reader, raw: object, path: str) -> tuple[Reduction, ...]:
    table = reader.table(raw, path)
    out: list[Reduction] = []
    for rid, body in (table or {}).items():
        rpath = f"{path}.{rid}"
        if not _ID.match(rid):
            reader.fail(
                rpath,
                "an id must start with a letter and hold only letters, digits, '.', '-' or '_'",
            )
            continue
        spec = reader.table(body, rpath)
        if spec is None:
            continue
        reader.keys(spec, REDUCTION_KEYS, rpath, rule_id=rid)
        remedy_text = reader.string(spec, "remedy", rpath, default=Remedy.REDUCE.value)
        remedy: Remedy | None = None
        if remedy_text in Remedy.__members__.values():
            remedy = Remedy(remedy_text)
        else:
            reader.fail(
                f"{rpath}.remedy",
                f"unknown remedy {quote(remedy_text)}",
                rule_id=rid,
                suggestion=did_you_mean(remedy_text, [r.value for r in Remedy]),
            )
        share = reader.number(spec.get("max_share"), f"{rpath}.max_share", maximum=Decimal(1))
        applies = reader.components(
            spec.get("applies_to", ["fees", "penalty_interest"]), f"{rpath}.applies_to", every=False
        )
        quadrants = reader.texts(spec, "quadrants", rpath, rule_id=rid) or _QUADRANTS
        for q in quadrants:
            if q not in _QUADRANTS:
                reader.fail(
                    f"{rpath}.quadrants",
                    f"unknown quadrant {quote(q)}; expected Q1, Q2, Q3 or Q4",
                    rule_id=rid,
                )
        reason = reader.string(spec, "reason", rpath, rule_id=rid)
        cites = reader.texts(spec, "cites", rpath, rule_id=rid)
        if remedy is None or share is None:
            continue
        out.append(Reduction(rid, remedy, share, applies, tuple(quadrants), reason, cites))
    return tuple(out)


def _targets(reader: _Reader, raw: object, path: str) -> tuple[Target, ...]:
    table = reader.table(raw, path)
    out: list[Target] = []
    for tid, body in (table or {}).items():
        tpath = f"{path}.{tid}"
        if not _ID.match(tid):
            reader.fail(
                tpath,
                "an id must start with a letter and hold only letters, digits, '.', '-' or '_'",
            )
            continue
        spec = reader.table(body, tpath)
        if spec is None:
            continue
        reader.keys(spec, TARGET_KEYS, tpath)
        basis = reader.string(spec, "basis", tpath, default="overdue_amount")
        if basis not in TARGET_BASES:
            reader.fail(
                f"{tpath}.basis",
                f"unknown basis {quote(basis)}; expected one of {', '.join(TARGET_BASES)}",
                suggestion=did_you_mean(basis, TARGET_BASES),
            )
        rate = reader.number(spec.get("rate"), f"{tpath}.rate", maximum=Decimal(1))
        label_en = reader.string(spec, "label_en", tpath, default="")
        label_zh = reader.string(spec, "label_zh", tpath, default="")
        cites = reader.texts(spec, "cites", tpath)
        if rate is None or basis not in TARGET_BASES:
            continue
        out.append(Target(tid, basis, rate, label_en, label_zh, cites))
    return tuple(out)


def parse_money_section(
    raw: Any,
    loader: SectionLoader,
    params: Mapping[str, Scalar],
) -> MoneySection | None:
    """Parse ``[money]``; every problem goes to ``loader`` with its key path."""
    reader = _Reader(loader, params)
    table = reader.table(raw, "money")
    if table is None:
        return None
    reader.keys(table, MONEY_KEYS, "money")
    order = tuple(Component)
    if "allocation_order" in table:
        order = reader.components(table["allocation_order"], "money.allocation_order", every=True)
    calendar = (
        _calendar(reader, table["calendar"], "money.calendar") if "calendar" in table else None
    )
    horizon = None
    if "horizon_months" in table:
        horizon = reader.number(
            table["horizon_months"], "money.horizon_months", minimum=Decimal(1), whole=True
        )
    horizon_rule = reader.rule_id(table, "money", "horizon_rule", default="Q2-SHORT")
    kinds: list[Remedy] = []
    for kind in (
        reader.texts(table, "horizon_kinds", "money")
        if "horizon_kinds" in table
        else (
            Remedy.EXTEND.value,
            Remedy.REPLAN.value,
        )
    ):
        if kind in _PLAN_KINDS:
            kinds.append(Remedy(kind))
        else:
            reader.fail(
                "money.horizon_kinds",
                f"unknown plan kind {quote(kind)}; expected one of {', '.join(_PLAN_KINDS)}",
                suggestion=did_you_mean(kind, _PLAN_KINDS),
            )
    max_months = None
    if "max_months" in table:
        max_months = reader.number(
            table["max_months"], "money.max_months", minimum=Decimal(1), whole=True
        )
    max_rule = reader.rule_id(table, "money", "max_months_rule", default="")
    if max_months is not None and not max_rule:
        reader.fail("money.max_months_rule", "required with max_months: the clause it encodes")
    accel = reader.number(
        table.get("acceleration_after_missed", 2),
        "money.acceleration_after_missed",
        minimum=Decimal(1),
        maximum=Decimal(120),
        whole=True,
    )
    rate_cap = (
        _rate_cap(reader, table["rate_cap"], "money.rate_cap") if "rate_cap" in table else None
    )
    penalty_cap = (
        _penalty_cap(reader, table["penalty_cap"], "money.penalty_cap")
        if "penalty_cap" in table
        else None
    )
    reductions = _reductions(reader, table.get("reductions", {}), "money.reductions")
    targets = _targets(reader, table.get("targets", {}), "money.targets")
    return MoneySection(
        allocation_order=order,
        calendar=calendar,
        horizon_months=horizon,
        horizon_rule=horizon_rule,
        horizon_kinds=tuple(kinds),
        max_months=max_months,
        max_months_rule=max_rule,
        acceleration_after_missed=int(accel.value) if accel is not None else 2,
        rate_cap=rate_cap,
        penalty_cap=penalty_cap,
        reductions=reductions,
        targets=targets,
    )
