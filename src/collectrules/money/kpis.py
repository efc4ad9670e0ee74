"""Collection KPIs from batch decisions and payment events (docs/kpis.md).

The inputs are the JSON Lines files that ``collectrules batch`` writes (one decision
per line, as :meth:`~collectrules.model.decision.Decision.to_dict` gives it): the
*closing* decisions, optionally the *opening* ones of an earlier run (``previous``),
and optionally events (``case_id`` plus the fields of an event: ``kind``, ``at``,
``amount``, ``outcome``). Every KPI is a :class:`Ratio` that keeps its numerator and
denominator, so a figure can be checked by hand; a KPI whose input is missing is
``None`` with the reason in :attr:`Kpis.notes`. Amounts are never summed across
currencies: amount KPIs are given per currency.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import attrs

from collectrules._arguments import (
    require_mapping,
    require_optional_text,
    require_rows,
    wrong_kind,
)
from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.errors import FieldProblem, InputError, did_you_mean, figure, quote
from collectrules.model.case import (
    ID_PATTERN,
    ContactOutcome,
    Event,
    EventKind,
    concerns_debtor,
    currency_exponent,
    currency_problem,
    currency_suggestion,
    minor_unit,
    parse_as_of,
    parse_date,
)
from collectrules.model.limits import MAX_ID_LENGTH, MONEY, check_number, check_text
from collectrules.money.terms import Target

__all__ = [
    "GroupBy",
    "KpiReport",
    "Kpis",
    "PortfolioCase",
    "Ratio",
    "TargetResult",
    "UnmatchedEvent",
    "compute_kpis",
    "events_from_rows",
    "portfolio_from_rows",
    "timelines_from_rows",
]

#: The step statuses of a step whose time has come: it was done, or it is late or breached.
DUE_STATUSES = frozenset({"done", "late", "breached"})

#: The quadrants a decision puts a case in.
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")

#: The statuses a timeline's step may have (``StepStatus`` of the timeline).
STEP_STATUSES = frozenset({"upcoming", "open", "late", "breached", "done", "skipped", "paused"})

_STATUSES_TEXT = ", ".join(sorted(STEP_STATUSES))

#: The facts of a decision that count promises and contacts: each a whole number, or null.
COUNT_FACTS = ("promise_kept", "promise_broken", "contact_attempts", "contact_reached")

_RATE_PLACES = Decimal("0.0001")


class GroupBy(Choice):
    """How the portfolio is split."""

    QUADRANT = "quadrant"
    BUCKET = "bucket"
    OWNER = "owner"


def _part(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        msg = f"expected a finite decimal of 0 or more, got {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)], subject="ratio")


def _share(instance: Ratio, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    _part(instance, attribute, value)
    if instance.numerator > value:
        msg = (
            f"expected a denominator of at least the numerator ({quote(instance.numerator)}),"
            f" got {quote(value)}: a rate is a share of its denominator"
        )
        raise InputError([FieldProblem(attribute.name, msg)], subject="ratio")


@attrs.frozen
class Ratio:
    """A rate with the numerator and denominator it was computed from.

    Both are finite decimals of 0 or more, the numerator at most the denominator (each
    KPI is a share: of the cases, of the amount, of the attempts); anything else is an
    :class:`~collectrules.errors.InputError` naming the field.
    """

    numerator: Decimal = attrs.field(validator=_part)
    denominator: Decimal = attrs.field(validator=_share)

    @property
    @exact
    def value(self) -> Decimal | None:
        """numerator / denominator to 4 places; ``None`` when the denominator is 0."""
        if self.denominator == 0:
            return None
        return (self.numerator / self.denominator).quantize(_RATE_PLACES, ROUND_HALF_EVEN)

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: decimals as strings."""
        value = self.value
        return {
            "numerator": str(self.numerator),
            "denominator": str(self.denominator),
            "value": None if value is None else str(value),
        }


def _problem(attribute: attrs.Attribute[Any], message: str) -> InputError:
    return InputError([FieldProblem(attribute.name, message)], subject="decision")


def _case_id_problem(value: object) -> str | None:
    """Why ``value`` is not a case id as a :class:`~collectrules.model.case.Case` holds
    one (a non-empty text of at most :data:`~collectrules.model.limits.MAX_ID_LENGTH`
    characters, valid Unicode, without a space at either end), or ``None`` when it is.
    A value of another kind is named with its type, never turned into text."""
    if type(value) is not str:
        return f"expected a case id (a non-empty text), got {type(value).__name__} {quote(value)}"
    if not value:
        return "expected a case id (a non-empty text), got ''"
    try:
        check_text(value, maximum=MAX_ID_LENGTH, what="case id")
    except ValueError as exc:
        text = str(exc)
        return text if text.startswith("expected") else f"expected a case id: {text}"
    if not ID_PATTERN.match(value):
        return f"expected a case id on one line, without spaces at either end, got {quote(value)}"
    return None


def _case_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (problem := _case_id_problem(value)) is not None:
        raise _problem(attribute, problem)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise _problem(attribute, f"expected an aware datetime, got {quote(value)}")


def _quadrant(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in QUADRANTS:
        raise _problem(attribute, f"expected one of {', '.join(QUADRANTS)}, got {quote(value)}")


def _currency(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (problem := currency_problem(value)) is not None:
        hint = currency_suggestion(value)
        raise InputError(
            [FieldProblem(attribute.name, problem, suggestion=hint)], subject="decision"
        )


def _amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= MONEY.maximum:
        msg = f"expected an amount from 0 to {MONEY.maximum}, got {quote(value)}"
        raise _problem(attribute, msg)


def _whole(value: object) -> bool:
    """Whether ``value`` is a whole number of 0 or more (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _dpd(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not _whole(value):
        raise _problem(attribute, f"expected a whole number of 0 or more, got {quote(value)}")


def _buckets(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping) or not all(
        type(k) is str and type(v) is str for k, v in value.items()
    ):
        raise _problem(attribute, f"expected bucket names by bucket set, got {quote(value)}")


def _facts(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise _problem(attribute, f"expected facts by name, got {quote(value)}")
    for name in value:
        if type(name) is not str:
            raise _problem(attribute, f"expected facts named by texts, got the name {quote(name)}")
    for name in COUNT_FACTS:
        count = value.get(name)
        if count is not None and not _whole(count):
            msg = f"expected a whole number of 0 or more, or null, got {quote(count)}"
            raise InputError([FieldProblem(f"facts.{name}", msg)], subject="decision")
    attempts, reached = value.get("contact_attempts"), value.get("contact_reached")
    if attempts is not None and reached is not None and reached > attempts:
        # Each contact reached is one of the attempts: more would make a rate over 100 %.
        msg = f"expected at most contact_attempts ({figure(attempts)}), got {figure(reached)}"
        raise InputError([FieldProblem("facts.contact_reached", msg)], subject="decision")


@attrs.frozen
class PortfolioCase:
    """What the KPIs read of one decision.

    Each field is checked when the case is built: an aware ``as_of``, a ``quadrant`` of
    ``Q1`` to ``Q4``, an ISO 4217 ``currency``, amounts within the limits of a case's
    (:data:`~collectrules.model.limits.MONEY`), a ``dpd`` of 0 or more,
    ``buckets`` as texts by text, ``facts`` named by texts whose counts
    (:data:`COUNT_FACTS`) are whole numbers of 0 or more, or null. A field of another
    kind is an :class:`~collectrules.errors.InputError` naming it.
    """

    case_id: str = attrs.field(validator=_case_id)
    as_of: dt.datetime = attrs.field(validator=_aware)
    quadrant: str = attrs.field(validator=_quadrant)
    currency: str = attrs.field(validator=_currency)
    overdue_amount: Decimal = attrs.field(validator=_amount)
    principal: Decimal = attrs.field(validator=_amount)
    dpd: int = attrs.field(validator=_dpd)
    buckets: Mapping[str, str] = attrs.field(validator=_buckets)
    facts: Mapping[str, Any] = attrs.field(validator=_facts)


@attrs.frozen
class TargetResult:
    """A collection target (催收目标) against what was recovered, in one currency."""

    target: str
    currency: str
    target_amount: Decimal
    actual: Decimal
    label_en: str = ""
    label_zh: str = ""

    @property
    @exact
    def gap(self) -> Decimal:
        """How much is still to recover to meet the target (negative: exceeded)."""
        return self.target_amount - self.actual

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "target": self.target,
            "currency": self.currency,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "target_amount": str(self.target_amount),
            "actual": str(self.actual),
            "gap": str(self.gap),
        }


@attrs.frozen
class Kpis:
    """The KPIs of one group of cases (see docs/kpis.md for each formula)."""

    cases: int
    recovery_rate_amount: Mapping[str, Ratio] | None
    recovery_rate_count: Ratio | None
    cure_rate: Ratio | None
    roll_rates: Mapping[str, Mapping[str, Mapping[str, Ratio]]] | None
    promise_kept_rate: Ratio | None
    contact_rate: Ratio | None
    breached_step_rate: Ratio | None
    targets: tuple[TargetResult, ...]
    notes: tuple[str, ...] = ()

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""

        def opt(r: Ratio | None) -> dict[str, Any] | None:
            return None if r is None else r.to_dict()

        return {
            "cases": self.cases,
            "recovery_rate_amount": None
            if self.recovery_rate_amount is None
            else {c: r.to_dict() for c, r in sorted(self.recovery_rate_amount.items())},
            "recovery_rate_count": opt(self.recovery_rate_count),
            "cure_rate": opt(self.cure_rate),
            "roll_rates": None
            if self.roll_rates is None
            else {
                s: {f: {t: r.to_dict() for t, r in row.items()} for f, row in m.items()}
                for s, m in self.roll_rates.items()
            },
            "promise_kept_rate": opt(self.promise_kept_rate),
            "contact_rate": opt(self.contact_rate),
            "breached_step_rate": opt(self.breached_step_rate),
            "targets": [t.to_dict() for t in self.targets],
            "notes": list(self.notes),
        }


@attrs.frozen
class UnmatchedEvent:
    """An event of :func:`compute_kpis`' ``events`` that no KPI counts because no
    decision, closing or opening, has its case id: the event is
    ``events[case_id][index]``."""

    case_id: str
    index: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"case_id": self.case_id, "index": self.index}


@attrs.frozen
class KpiReport:
    """The KPIs of the whole portfolio and of each group, and the events left out
    because their case has no decision (``unmatched_events``, by case id and place)."""

    by: GroupBy | None
    total: Kpis
    groups: Mapping[str, Kpis]
    unmatched_events: tuple[UnmatchedEvent, ...] = ()

    @exact
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "by": None if self.by is None else self.by.value,
            "total": self.total.to_dict(),
            "groups": {k: v.to_dict() for k, v in sorted(self.groups.items())},
            "unmatched_events": [e.to_dict() for e in self.unmatched_events],
        }


@exact
def _in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """``amount`` written to the minor unit of ``currency``, whatever the inputs wrote:
    nothing is ``0.00`` yuan (never ``0``), a thousand ``1000.00`` yuan and ``1000``
    yen. An amount of more decimals than the currency has (a payment of ``0.004``
    yuan) keeps them: a KPI's figure is what was summed, never rounded."""
    with contextlib.suppress(InvalidOperation):  # more digits than the context holds
        written = amount.quantize(minor_unit(currency))
        if written == amount:
            return written
    return amount


# --------------------------------------------------------------------------- reading


def _money(value: object, path: str) -> Decimal:
    number = Decimal("NaN")
    # Only a number or a text is read: ``str`` of anything else may fail (a foreign
    # object) or recurse (a deeply nested list). An int is read as it is: the text of
    # one of more than 4,300 digits cannot be written.
    if isinstance(value, int | float | str | Decimal):
        with contextlib.suppress(InvalidOperation):
            number = Decimal(value if isinstance(value, int) else str(value))
    if isinstance(value, bool) or not number.is_finite() or number.copy_abs() > MONEY.maximum:
        msg = f"expected an amount of at most {MONEY.maximum:,} in magnitude, got {quote(value)}"
        raise InputError([FieldProblem(path, msg)])
    # The rest of a case's money limits: no amount a case could not hold ('1e-400' was
    # summed into a recovery of 5000.000000000000000000000000), no text past 64
    # characters, no negative amount. check_number refuses all the above too, but in its
    # own words ("money amount '1e13' is too large"), and takes a NumPy integer: the test
    # above is what names the maximum, and keeps to the builtin numbers and texts.
    try:
        return check_number(value, MONEY)
    except (TypeError, ValueError) as exc:
        raise InputError([FieldProblem(path, str(exc))]) from None


def _case_of(data: Mapping[str, Any], where: str) -> PortfolioCase:
    def need(mapping: Mapping[str, Any], key: str, prefix: str = "") -> Any:
        if key not in mapping:
            msg = "required field missing (is this a decision from collectrules batch?)"
            raise InputError([FieldProblem(prefix + key, msg, source=where)], subject="decision")
        return mapping[key]

    facts = need(data, "facts")
    quadrant = need(data, "quadrant")
    for name, value in (("facts", facts), ("quadrant", quadrant)):
        if not isinstance(value, Mapping):
            msg = f"expected an object, got {quote(value)}"
            raise InputError([FieldProblem(name, msg, source=where)], subject="decision")
    for name in facts:
        if type(name) is not str:
            msg = f"expected facts named by texts, got the name {quote(name)}"
            raise InputError([FieldProblem("facts", msg, source=where)], subject="decision")
    dpd = need(facts, "dpd", "facts.")
    if isinstance(dpd, bool) or not isinstance(dpd, int):
        msg = f"expected a whole number, got {quote(dpd)}"
        raise InputError([FieldProblem("facts.dpd", msg, source=where)], subject="decision")
    try:
        # Each field as it is: a value that is not text is refused by its check, named
        # with its kind, rather than read as the text of its repr (5 as '5').
        return PortfolioCase(
            case_id=need(data, "case_id"),
            as_of=parse_as_of(need(data, "as_of")),
            quadrant=need(quadrant, "value", "quadrant."),
            currency=need(facts, "currency", "facts."),
            overdue_amount=_money(need(facts, "overdue_amount", "facts."), "facts.overdue_amount"),
            principal=_money(need(facts, "principal", "facts."), "facts.principal"),
            dpd=dpd,
            buckets=_buckets_of(data.get("buckets", []), where),
            facts=facts,
        )
    except InputError as exc:
        raise InputError(
            [
                attrs.evolve(p, path=_ROW_PATHS.get(p.path, p.path), source=p.source or where)
                for p in exc.problems
            ],
            subject="decision",
        ) from None


#: Where in a decision's row each field of a PortfolioCase is read from.
_ROW_PATHS = {
    "quadrant": "quadrant.value",
    "currency": "facts.currency",
    "overdue_amount": "facts.overdue_amount",
    "principal": "facts.principal",
    "dpd": "facts.dpd",
}


def _buckets_of(value: object, where: str) -> dict[str, str]:
    """Each bucket set's bucket, from a decision's ``buckets``: a list of objects, each
    with a ``bucket_set`` and a ``bucket``."""
    expected = "a list of objects, each with a bucket_set and a bucket"
    if not isinstance(value, list | tuple):
        msg = f"expected {expected}, got {quote(value)}"
        raise InputError([FieldProblem("buckets", msg, source=where)], subject="decision")
    buckets: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(key), str) for key in ("bucket_set", "bucket")
        ):
            msg = f"expected an object with a bucket_set and a bucket, got {quote(item)}"
            problem = FieldProblem(f"buckets[{index}]", msg, source=where)
            raise InputError([problem], subject="decision")
        buckets[item["bucket_set"]] = item["bucket"]
    return buckets


def portfolio_from_rows(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, PortfolioCase]:
    """Decisions (``where``, decision dict) by case id; a repeated case id is an error."""
    out: dict[str, PortfolioCase] = {}
    for where, data in require_rows(rows, "rows"):
        case = _case_of(data, where)
        if case.case_id in out:
            msg = f"case {quote(case.case_id)} appears twice"
            raise InputError([FieldProblem("case_id", msg, source=where)], subject="decisions")
        out[case.case_id] = case
    return out


def events_from_rows(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[str, tuple[Event, ...]]:
    """Events (``where``, dict with ``case_id`` and the event's fields) by case id."""
    out: dict[str, list[Event]] = defaultdict(list)
    for where, data in require_rows(rows, "rows"):
        fields = dict(data)
        case_id = fields.pop("case_id", None)
        if case_id is None:
            msg = "required: the case the event is about"
            raise InputError([FieldProblem("case_id", msg, source=where)], subject="event")
        if (problem := _case_id_problem(case_id)) is not None:
            raise InputError([FieldProblem("case_id", problem, source=where)], subject="event")
        if problems := _event_field_problems(fields, where):
            raise InputError(problems, subject="event")
        try:
            try:
                at = parse_as_of(fields.pop("at"))
            except InputError as exc:
                raise InputError([attrs.evolve(p, path="at") for p in exc.problems]) from None
            amount = fields.pop("amount", None)
            promised = fields.pop("promised_date", None)
            if promised is not None:  # text in a JSON Lines or CSV row, as in a case's events
                promised = parse_date(promised, "promised_date")
            event = Event(
                at=at,
                amount=None if amount is None else _money(amount, "amount"),
                promised_date=promised,
                **fields,
            )
        except InputError as exc:
            raise InputError(
                [attrs.evolve(p, source=where) for p in exc.problems], subject="event"
            ) from None
        except TypeError as exc:
            raise InputError([FieldProblem("", str(exc), source=where)], subject="event") from None
        out[case_id].append(event)
    return {k: tuple(v) for k, v in out.items()}


#: The fields of an event row: the case it is about, then the fields of an Event.
_EVENT_FIELDS = ("case_id", *(a.name for a in attrs.fields(Event)))

#: The fields every event row has: an Event has no default for them.
_EVENT_REQUIRED = tuple(a.name for a in attrs.fields(Event) if a.default is attrs.NOTHING)


def _event_field_problems(fields: Mapping[Any, Any], where: str) -> list[FieldProblem]:
    """The fields of an event row (less its ``case_id``) that an Event does not have,
    each with the known field it may be a misspelling of, then those it requires and
    the row lacks."""
    problems = [
        FieldProblem(
            name if type(name) is str else quote(name),
            "unknown field",
            source=where,
            suggestion=did_you_mean(name, _EVENT_FIELDS)
            if type(name) is str and len(name) <= _SUGGESTED_LENGTH
            else None,
        )
        for name in sorted(
            (k for k in fields if k not in _EVENT_FIELDS),
            key=lambda k: (type(k) is not str, k if type(k) is str else quote(k)),
        )
    ]
    problems.extend(
        FieldProblem(name, "required", source=where)
        for name in _EVENT_REQUIRED
        if name not in fields
    )
    return problems


#: The longest unknown name a suggestion is looked for: difflib's work grows with it.
_SUGGESTED_LENGTH = 100


def timelines_from_rows(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[str, tuple[str, ...]]:
    """Timelines (``collectrules timeline --format json``) as step statuses by case id."""
    out: dict[str, tuple[str, ...]] = {}
    for where, data in require_rows(rows, "rows"):
        case_id, steps = data.get("case_id"), data.get("steps")
        if "case_id" in data and (problem := _case_id_problem(case_id)) is not None:
            raise InputError([FieldProblem("case_id", problem, source=where)], subject="timeline")
        if not isinstance(case_id, str) or not isinstance(steps, list):
            msg = "expected a timeline with case_id and steps (collectrules timeline --format json)"
            path = "steps" if isinstance(case_id, str) else "case_id"
            raise InputError([FieldProblem(path, msg, source=where)], subject="timeline")
        statuses = []
        for i, step in enumerate(steps):
            status = step.get("status") if isinstance(step, Mapping) else None
            if not isinstance(status, str) or status not in STEP_STATUSES:
                msg = f"expected a step with a status, one of {_STATUSES_TEXT}, got {quote(status)}"
                raise InputError(
                    [FieldProblem(f"steps[{i}].status", msg, source=where)], subject="timeline"
                )
            statuses.append(status)
        if case_id in out:
            msg = f"case {quote(case_id)} appears twice"
            raise InputError([FieldProblem("case_id", msg, source=where)], subject="timelines")
        out[case_id] = tuple(statuses)
    return out


# --------------------------------------------------------------------------- computing


def _group_of(case: PortfolioCase, by: GroupBy | None, owners: Mapping[str, str], bset: str) -> str:
    if by is None:
        return "all"
    if by is GroupBy.QUADRANT:
        return case.quadrant
    if by is GroupBy.BUCKET:
        return case.buckets.get(bset, "(no bucket)")
    return owners.get(case.case_id, "(no owner)")


@exact
def compute_kpis(
    decisions: Mapping[str, PortfolioCase],
    *,
    previous: Mapping[str, PortfolioCase] | None = None,
    events: Mapping[str, Sequence[Event]] | None = None,
    by: GroupBy | str | None = None,
    owners: Mapping[str, str] | None = None,
    bucket_set: str | None = None,
    targets: Sequence[Target] = (),
    timelines: Mapping[str, Sequence[str]] | None = None,
) -> KpiReport:
    """The KPIs of a portfolio, in total and by group (docs/kpis.md).

    ``decisions`` are the closing decisions and ``previous`` the opening ones, by case
    id; ``events`` are by case id, and ``timelines`` the step statuses of each case's
    timeline at the closing ``as_of`` (:func:`timelines_from_rows`). A case is grouped
    by its opening decision when there is one (the cohort), else by its closing one;
    ``by="bucket"`` uses ``bucket_set`` (default: the first bucket set of the first
    case); ``by="owner"`` uses ``owners``. An event whose case id no decision has,
    closing or opening, is counted by no KPI: the report lists each one in
    :attr:`KpiReport.unmatched_events`.
    """
    _require_cases(decisions, "decisions")
    if previous is not None:
        _require_cases(previous, "previous")
    if events is not None:
        _require_by_case(events, "events", Event, ("events", "an Event"))
    if timelines is not None:
        _require_by_case(timelines, "timelines", str, ("step statuses", "a step status"))
        _require_statuses(timelines)
    group_by = _group_by(by)
    if owners is not None:
        expected = "a mapping of case ids to owners, or None"
        for case_id, owner in require_mapping(owners, "owners", expected).items():
            _require_case_id(case_id, "owners")
            if type(owner) is not str:
                raise wrong_kind(f"owners[{quote(case_id)}]", owner, "an owner's id (a text)")
    require_optional_text(bucket_set, "bucket_set", "a bucket set's name")
    targets = _require_targets(targets)
    if group_by is GroupBy.OWNER and owners is None:
        message = (
            "grouping by owner needs the owners (--owners on the command line): expected a"
            " mapping of case ids to owners"
        )
        raise InputError([FieldProblem("owners", message)])
    owners = owners or {}
    cohort = previous if previous is not None else decisions
    if group_by is GroupBy.BUCKET and bucket_set is None:
        bucket_set = next((s for c in cohort.values() for s in c.buckets), "")
    elif group_by is GroupBy.BUCKET and cohort:
        _require_bucket_set(bucket_set or "", cohort)
    groups: dict[str, list[str]] = defaultdict(list)
    for case_id in sorted(cohort):
        groups[_group_of(cohort[case_id], group_by, owners, bucket_set or "")].append(case_id)
    args = (decisions, previous, events, targets, timelines, _period_close(decisions))
    total = _kpis(sorted(cohort), *args)
    return KpiReport(
        group_by,
        total,
        {g: _kpis(ids, *args) for g, ids in groups.items()} if group_by is not None else {},
        _unmatched(events, decisions, previous),
    )


def _unmatched(
    events: Mapping[str, Sequence[Event]] | None,
    decisions: Mapping[str, PortfolioCase],
    previous: Mapping[str, PortfolioCase] | None,
) -> tuple[UnmatchedEvent, ...]:
    """Each event whose case id no decision has (closing or opening), by case id and
    place: no KPI counts it, and it is reported rather than dropped without a word."""
    if events is None:
        return ()
    known = set(decisions) | set(previous or ())
    return tuple(
        UnmatchedEvent(case_id, index)
        for case_id in sorted(set(events) - known)
        for index in range(len(events[case_id]))
    )


def _group_by(value: object) -> GroupBy | None:
    """``by`` as a :class:`GroupBy`: a member, its value, or ``None``. Anything else is
    an InputError naming ``by``, checked before the enum is asked (which writes the
    ``repr`` of a value it does not know, and fails on one that has none)."""
    if value is None or isinstance(value, GroupBy):
        return value
    known = [g.value for g in GroupBy]
    if isinstance(value, str) and value in known:
        return GroupBy(value)
    suggestion = did_you_mean(value, known) if isinstance(value, str) and len(value) < 100 else None
    msg = f"expected one of {', '.join(known)}, or None, got {quote(value)}"
    raise InputError([FieldProblem("by", msg, suggestion=suggestion)])


def _require_bucket_set(name: str, cohort: Mapping[str, PortfolioCase]) -> None:
    """``name`` is the bucket set of at least one case of ``cohort``: a name no case
    has would put every case under "(no bucket)" without a word."""
    known = sorted({s for case in cohort.values() for s in case.buckets})
    if name in known:
        return
    listed = ", ".join(quote(k) for k in known[:20]) or "none"
    message = f"no case has the bucket set {quote(name)}: expected one of theirs ({listed})"
    raise InputError([FieldProblem("bucket_set", message, suggestion=did_you_mean(name, known))])


def _require_cases(value: object, name: str) -> None:
    """``value`` is decisions by case id, as :func:`portfolio_from_rows` gives them."""
    expected = "decisions by case id (the result of portfolio_from_rows)"
    for case_id, case in require_mapping(value, name, expected).items():
        _require_case_id(case_id, name)
        if type(case) is not PortfolioCase:
            raise wrong_kind(f"{name}[{quote(case_id)}]", case, "a PortfolioCase")


def _require_case_id(case_id: object, name: str) -> None:
    """``case_id``, a key of the mapping ``name``, is a case id: a text."""
    if type(case_id) is not str:
        raise wrong_kind(f"{name}[{quote(case_id)}]", case_id, "a case id (a text) as the key")


def _require_by_case(value: object, name: str, kind: type, what: tuple[str, str]) -> None:
    """``value`` is lists of ``kind`` by case id; ``what`` names a list and one item."""
    items_of, one = what
    for case_id, items in require_mapping(value, name, f"{items_of} by case id").items():
        _require_case_id(case_id, name)
        where = f"{name}[{quote(case_id)}]"
        if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
            raise wrong_kind(where, items, f"a list of {items_of}")
        for index, item in enumerate(items):
            if not isinstance(item, kind):
                raise wrong_kind(f"{where}[{index}]", item, one)


def _require_statuses(timelines: Mapping[str, Sequence[str]]) -> None:
    """Each step status of ``timelines`` is a known one: an unknown status is neither
    due nor not due, and is refused rather than counted as either."""
    for case_id, statuses in timelines.items():
        for index, status in enumerate(statuses):
            if status not in STEP_STATUSES:
                where = f"timelines[{quote(case_id)}][{index}]"
                raise wrong_kind(where, status, f"a step status, one of {_STATUSES_TEXT}")


def _require_targets(value: object) -> tuple[Target, ...]:
    """``value`` is a collection of Targets."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise wrong_kind("targets", value, "a list of Targets")
    targets = tuple(value)
    for index, target in enumerate(targets):
        if type(target) is not Target:
            raise wrong_kind(f"targets[{index}]", target, "a Target")
    return targets


def _period_close(decisions: Mapping[str, PortfolioCase]) -> dt.datetime | None:
    """The close of the period: the latest ``as_of`` of the closing decisions (one
    batch's decisions share theirs), or ``None`` when there are none."""
    return max((case.as_of for case in decisions.values()), default=None)


def _period_end(
    case_id: str, decisions: Mapping[str, PortfolioCase], close: dt.datetime | None
) -> dt.datetime | None:
    """The end of a case's period: its closing ``as_of``; for a case that left the
    portfolio (no closing decision), the period's ``close``."""
    closing = decisions.get(case_id)
    return closing.as_of if closing is not None else close


@exact
def _recovered(
    case_id: str,
    decisions: Mapping[str, PortfolioCase],
    previous: Mapping[str, PortfolioCase] | None,
    events: Mapping[str, Sequence[Event]] | None,
    close: dt.datetime | None,
) -> Decimal | None:
    """The amount recovered on a case in the period, or None when it cannot be known
    (from the overdue amounts, without a closing decision; from the events, without an
    end to the period: no closing decision at all)."""
    closing = decisions.get(case_id)
    opening = previous.get(case_id) if previous is not None else None
    if events is not None:
        end = _period_end(case_id, decisions, close)
        if end is None:
            return None
        start = opening.as_of if opening is not None else None
        return sum(
            (
                e.amount or Decimal(0)
                for e in events.get(case_id, ())
                if e.kind is EventKind.PAYMENT and (start is None or e.at > start) and e.at <= end
            ),
            Decimal(0),
        )
    if opening is not None and closing is not None:
        return max(Decimal(0), opening.overdue_amount - closing.overdue_amount)
    return None


@exact
def _kpis(
    ids: Sequence[str],
    decisions: Mapping[str, PortfolioCase],
    previous: Mapping[str, PortfolioCase] | None,
    events: Mapping[str, Sequence[Event]] | None,
    targets: Sequence[Target],
    timelines: Mapping[str, Sequence[str]] | None,
    close: dt.datetime | None,
) -> Kpis:
    notes: list[str] = []
    cohort = previous if previous is not None else decisions
    zero = Decimal(0)

    # Recovery, by amount (per currency) and by count.
    rec_num: dict[str, Decimal] = defaultdict(Decimal)
    rec_den: dict[str, Decimal] = defaultdict(Decimal)
    paid_total: dict[str, Decimal] = defaultdict(Decimal)
    count_num = count_den = 0
    unknown = 0
    switched: list[str] = []
    # The cases recovery counts: a target's basis is taken over these same cases.
    counted: list[str] = []
    for case_id in ids:
        base = cohort[case_id]
        closing_case = decisions.get(case_id)
        if events is None and closing_case is not None and closing_case.currency != base.currency:
            # Amounts in two currencies do not subtract: 5,000 CNY owed, then 10 JPY,
            # read as 4,990 CNY recovered.
            switched.append(case_id)
            continue
        got = _recovered(case_id, decisions, previous, events, close)
        if got is None:
            unknown += 1
            continue
        rec_num[base.currency] += min(got, base.overdue_amount)
        rec_den[base.currency] += base.overdue_amount
        paid_total[base.currency] += got
        counted.append(case_id)
        count_den += 1
        count_num += got > 0
    if events is None and previous is None:
        notes.append("recovery needs --events or --previous")
        recovery_amount: dict[str, Ratio] | None = None
        recovery_count: Ratio | None = None
    else:
        recovery_amount = {
            c: Ratio(_in_minor_units(rec_num[c], c), _in_minor_units(rec_den[c], c))
            for c in sorted(rec_den)
        }
        recovery_count = Ratio(Decimal(count_num), Decimal(count_den))
        if unknown:
            notes.append(f"{unknown} case(s) without a closing decision left out of recovery")
        if switched:
            notes.append(
                f"{len(switched)} case(s) whose currency differs between the opening and "
                f"closing decisions left out of recovery, first {switched[0]}"
            )

    # Cure and roll rates compare the opening and closing decisions.
    cure: Ratio | None = None
    rolls: dict[str, dict[str, dict[str, Ratio]]] | None = None
    if previous is None:
        notes.append("cure and roll rates need --previous")
    else:
        overdue = [i for i in ids if previous[i].dpd > 0 and i in decisions]
        cured = sum(decisions[i].dpd == 0 for i in overdue)
        cure = Ratio(Decimal(cured), Decimal(len(overdue)))
        missing = sum(i not in decisions for i in ids)
        if missing:
            notes.append(f"{missing} opening case(s) have no closing decision")
        counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        for i in ids:
            if i not in decisions:
                continue
            for bset, frm in previous[i].buckets.items():
                to = decisions[i].buckets.get(bset)
                if to is not None:
                    counts[bset][frm][to] += 1
        rolls = {}
        for bset in sorted(counts):
            rolls[bset] = {}
            for frm in sorted(counts[bset]):
                row = counts[bset][frm]
                total = sum(row.values())
                rolls[bset][frm] = {
                    to: Ratio(Decimal(n), Decimal(total)) for to, n in sorted(row.items())
                }

    # Promises and contacts, as the closing decisions' facts count them (or the events).
    closing = [decisions[i] for i in ids if i in decisions]
    kept = sum(int(c.facts.get("promise_kept", 0) or 0) for c in closing)
    broken = sum(int(c.facts.get("promise_broken", 0) or 0) for c in closing)
    promise = Ratio(Decimal(kept), Decimal(kept + broken))
    contact: Ratio | None
    if events is not None:
        # The attempts on the debtor, as the facts count them (a right-party contact
        # rate): reaching a guarantor is not reaching the debtor.
        attempts = [
            e
            for i in ids
            for e in events.get(i, ())
            if e.kind is EventKind.CONTACT_ATTEMPT
            and concerns_debtor(e)
            and _in_window(e, i, decisions, previous, close)
        ]
        reached = sum(e.outcome is ContactOutcome.REACHED for e in attempts)
        contact = Ratio(Decimal(reached), Decimal(len(attempts)))
    elif all("contact_attempts" in c.facts for c in closing) and closing:
        uncounted = [
            c.case_id
            for c in closing
            if c.facts["contact_attempts"] is None or c.facts.get("contact_reached", 0) is None
        ]
        if uncounted:  # missing evidence is unknown, not no contact
            contact = None
            notes.append(
                f"contact rate unknown: {len(uncounted)} decision(s) count no contacts"
                f" (null), first {uncounted[0]}"
            )
        else:
            reached = sum(int(c.facts.get("contact_reached", 0)) for c in closing)
            tried = sum(int(c.facts["contact_attempts"]) for c in closing)
            contact = Ratio(Decimal(reached), Decimal(tried))
    else:
        contact = None
        notes.append("contact rate needs --events or a policy with a [timeline] section")
    breached: Ratio | None = None
    if timelines is None:
        notes.append(
            "breached-step rate needs --timelines (collectrules timeline --format json): "
            "decisions do not carry step statuses"
        )
    else:
        statuses = [st for i in ids for st in timelines.get(i, ())]
        breached = Ratio(
            Decimal(sum(st == "breached" for st in statuses)),
            Decimal(sum(st in DUE_STATUSES for st in statuses)),
        )
        without = sum(i not in timelines for i in ids)
        if without:
            notes.append(f"{without} case(s) without a timeline left out of the breached-step rate")

    results: list[TargetResult] = []
    if recovery_amount is not None:
        for target in targets:
            for cur in sorted(rec_den):
                in_currency = [cohort[i] for i in counted if cohort[i].currency == cur]
                basis_amount: Decimal = sum(
                    (getattr(case, target.basis) for case in in_currency), zero
                )
                paid = rec_num[cur] if target.basis == "overdue_amount" else paid_total[cur]
                actual = _in_minor_units(paid, cur)
                results.append(
                    TargetResult(
                        target.id,
                        cur,
                        (basis_amount * target.rate.value).quantize(
                            Decimal(1).scaleb(-currency_exponent(cur)), ROUND_HALF_EVEN
                        ),
                        actual,
                        target.label_en,
                        target.label_zh,
                    )
                )
    return Kpis(
        cases=len(ids),
        recovery_rate_amount=recovery_amount,
        recovery_rate_count=recovery_count,
        cure_rate=cure,
        roll_rates=rolls,
        promise_kept_rate=promise,
        contact_rate=contact,
        breached_step_rate=breached,
        targets=tuple(results),
        notes=tuple(notes),
    )


def _in_window(
    event: Event,
    case_id: str,
    decisions: Mapping[str, PortfolioCase],
    previous: Mapping[str, PortfolioCase] | None,
    close: dt.datetime | None,
) -> bool:
    """Whether ``event`` falls in the case's period: after its opening ``as_of``, at or
    before the period's end (:func:`_period_end`; none is known without a closing
    decision, and then no event is in it)."""
    end = _period_end(case_id, decisions, close)
    if end is None or event.at > end:
        return False
    opening = previous.get(case_id) if previous is not None else None
    return opening is None or event.at > opening.as_of
