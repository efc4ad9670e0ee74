"""Hypothesis strategies for policy-aware facts: cases, signals, events and instants.

Every value they generate is valid: signal kinds come from the policy's catalogue,
every signal and event is observed within the policy's lookback window and at or
before ``as_of``, and every datetime is aware, in one of a few real IANA zones.

They aim at the edges. Each threshold a policy's conditions mention (``dpd > 30``,
``promise_broken >= 2``, ``cash_coverage >= coverage_able``, parameters resolved) is
hit exactly, one below and one above (and, for measured values and money, one cent
either side), and measured signals are often absent altogether. :func:`boundary_values`
shows which values a policy pins.

These strategies need hypothesis (``pip install 'collectrules[testing]'``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
from hypothesis import strategies as st

from collectrules._arguments import require_int, require_text, require_texts, wrong_kind
from collectrules._decimal import exact
from collectrules.assets.checklist import assets_of
from collectrules.compliance.regulatory import LadderPack, ReagePack, regulation_of
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import (
    EVENT_REQUIRED_FIELDS,
    SHARE_FIELDS,
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Guarantor,
    Signal,
    iana_zones,
    product_name,
    unknown_zone,
)
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.policy import Policy, SignalSpec
from collectrules.testing import _space
from collectrules.testing._policies import resolve_policy

__all__ = [
    "DEFAULT_AS_OF",
    "TIMEZONES",
    "as_ofs",
    "boundary_values",
    "cases",
    "dated_cases",
    "events",
    "signals",
]

#: The instant ``cases``, ``signals`` and ``events`` decide at when given none.
DEFAULT_AS_OF: pendulum.DateTime = _space.DEFAULT_AS_OF

#: The zones cases and instants are drawn from: whole, half-hour and DST-shifting offsets.
TIMEZONES: tuple[str, ...] = _space.TIMEZONES

PolicyLike = Policy | str | Path | None

_MAX_MONEY = Decimal(10**8)
_MAX_MEASURE = Decimal(100)


# --------------------------------------------------------------------------- helpers


def _as_of(value: dt.datetime | str | None) -> pendulum.DateTime:
    from collectrules.model.time import require_aware

    return DEFAULT_AS_OF if value is None else require_aware(value)


def _zones(timezones: Sequence[str]) -> tuple[str, ...]:
    zones = require_texts(timezones, "timezones", "a list of IANA zones' names")
    if not zones:
        raise InputError([FieldProblem("timezones", "give at least one IANA zone")])
    problems = []
    for name in zones:
        if name not in iana_zones():
            problems.append(unknown_zone("timezones", name))
    if problems:
        raise InputError(problems)
    return zones


def _wall_time(value: object, name: str) -> None:
    """Refuse a bound of :func:`as_ofs` that is not a naive datetime (a local wall time)
    in the supported years."""
    if not isinstance(value, dt.datetime):
        raise wrong_kind(name, value, "a naive datetime (a local wall time)")
    if value.tzinfo is not None:
        msg = (
            f"expected a naive datetime (a local wall time; the zones are given apart), got {value}"
        )
        raise InputError([FieldProblem(name, msg)])
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        msg = f"expected a time in the years {MIN_YEAR} to {MAX_YEAR}, got {value}"
        raise InputError([FieldProblem(name, msg)])


def _pinned(values: Sequence[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Either one of the pinned boundary values or a value from ``other``."""
    return st.one_of(st.sampled_from(values), other) if values else other


@exact
def boundary_values(policy: PolicyLike = None) -> dict[str, tuple[Any, ...]]:
    """The values the strategies pin for each numeric field the policy compares.

    Integers (``dpd``, signal counts, ``guarantors``, ``days_to_maturity``) get each
    threshold and one either side; money and measured values also get one cent either side. For a
    policy that reads the timeline's ``phase``, ``dpd`` also gets the days around each
    plan's escalation point at :data:`DEFAULT_AS_OF`. Money is in major units, as
    conditions write it. Values that cannot occur (a negative count) are left out.
    """
    resolved = resolve_policy(policy)
    schema = resolved.schema()
    out: dict[str, tuple[Any, ...]] = {}
    for field, field_cuts in sorted(_space.cuts(resolved).items()):
        spec = schema.get(field)
        if spec is None or not spec.numeric:
            continue
        integer = spec.type.value == "int"
        lower = None if field == "days_to_maturity" else Decimal(0)
        out[field] = _space.neighbours(field_cuts, integer=integer, lower=lower)
    # The escalation points of the timeline, where a policy that reads ``phase`` turns.
    points = _space.phase_points(resolved, DEFAULT_AS_OF)
    if points:
        near = {p + d for p in points for d in (-1, 0, 1) if p + d >= 0}
        out["dpd"] = tuple(sorted(set(out.get("dpd", ())) | near))
    return out


def _window(policy: Policy) -> int:
    """The largest age, in seconds, of an observation still inside the window."""
    # Kept an hour clear of the window's start, which moves with daylight saving.
    return _space.lookback_days(policy) * 86_400 - 3_601


def _observed(as_of: pendulum.DateTime, zone: str, max_age: int) -> st.SearchStrategy[Any]:
    ages = _pinned((0, max_age), st.integers(min_value=0, max_value=max_age))
    local = as_of.in_timezone(zone)
    return ages.map(lambda age: local.subtract(seconds=age))


def _measures(bounds: Sequence[Any]) -> st.SearchStrategy[Decimal]:
    return _pinned(
        [Decimal(b) for b in bounds],
        st.decimals(min_value=0, max_value=_MAX_MEASURE, places=2),
    )


def _kinds(
    policy: Policy,
    kinds: Collection[str] | None,
    known: Mapping[str, SignalSpec] | None = None,
) -> tuple[str, ...]:
    """``kinds``, each of ``known`` (default: the policy's signals), or all of them."""
    vocabulary = policy.signals if known is None else known
    if kinds is None:
        return tuple(vocabulary)
    chosen = require_texts(kinds, "kinds", "a collection of signal kinds or None")
    whose = f"policy {quote(policy.id)}" if known is None else "any of the policies"
    problems = [
        FieldProblem(
            "kinds",
            f"unknown signal kind {quote(k)} for {whose}",
            suggestion=did_you_mean(k, vocabulary),
        )
        for k in chosen
        if k not in vocabulary
    ]
    if problems or not chosen:
        raise InputError(problems or [FieldProblem("kinds", "give at least one signal kind")])
    return chosen


# --------------------------------------------------------------------------- strategies


def as_ofs(
    *,
    timezones: Sequence[str] = TIMEZONES,
    min_value: dt.datetime = dt.datetime(2020, 1, 1),
    max_value: dt.datetime = dt.datetime(2030, 12, 31),
) -> st.SearchStrategy[pendulum.DateTime]:
    """Aware instants between ``min_value`` and ``max_value`` (naive, local wall time).

    Each is in one of ``timezones``; times that a daylight-saving change skips are
    never generated, and times it repeats are. Each bound must be a naive datetime in
    the supported years, ``min_value`` at or before ``max_value``: anything else is an
    :class:`~collectrules.errors.InputError` when the strategy is made.
    """
    zones = [zoneinfo.ZoneInfo(z) for z in _zones(timezones)]
    _wall_time(min_value, "min_value")
    _wall_time(max_value, "max_value")
    if min_value > max_value:
        msg = f"expected a time at or before max_value ({max_value}), got {min_value}"
        raise InputError([FieldProblem("min_value", msg)])
    return st.datetimes(
        min_value=min_value,
        max_value=max_value,
        timezones=st.sampled_from(zones),
        allow_imaginary=False,
    ).map(pendulum.instance)


def signals(
    policy: PolicyLike = None,
    *,
    as_of: dt.datetime | str | None = None,
    kinds: Collection[str] | None = None,
    timezone: str = "Asia/Shanghai",
) -> st.SearchStrategy[Signal]:
    """Signals of the policy's kinds (or of ``kinds``), observed within its window.

    A measured kind carries a value, often one of the policy's thresholds or right
    next to one; a counted kind carries none.
    """
    resolved = resolve_policy(policy)
    when = _as_of(as_of)
    chosen = _kinds(resolved, kinds)
    (zone,) = _zones((require_text(timezone, "timezone", "an IANA zone's name"),))
    bounds = boundary_values(resolved)
    max_age = _window(resolved)
    if max_age < 0:
        msg = f"policy {quote(resolved.id)} has an empty lookback window; no signal can count"
        raise InputError([FieldProblem("lookback_days", msg)])

    @st.composite
    def build(draw: st.DrawFn) -> Signal:
        kind = draw(st.sampled_from(chosen))
        at = draw(_observed(when, zone, max_age))
        if resolved.signals[kind].measured:
            return Signal(kind=kind, observed_at=at, value=draw(_measures(bounds.get(kind, ()))))
        return Signal(kind=kind, observed_at=at)

    return build()


def events(
    policy: PolicyLike = None,
    *,
    as_of: dt.datetime | str | None = None,
    kinds: Collection[EventKind | str] | None = None,
    timezone: str = "Asia/Shanghai",
) -> st.SearchStrategy[Event]:
    """Events of any kind (or of ``kinds``), within the policy's window, with every
    field their kind requires: a payment's amount, a contact's outcome, a promise's
    date and amount."""
    resolved = resolve_policy(policy)
    when = _as_of(as_of)
    (zone,) = _zones((require_text(timezone, "timezone", "an IANA zone's name"),))
    if kinds is not None:
        kinds = require_texts(kinds, "kinds", "a collection of event kinds or None")
    try:
        chosen = tuple(EventKind(k) for k in (kinds if kinds is not None else EventKind))
    except ValueError as exc:
        raise InputError([FieldProblem("kinds", str(exc))]) from None
    if not chosen:
        raise InputError([FieldProblem("kinds", "give at least one event kind")])
    max_age = max(_window(resolved), 0)
    amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2)
    # An asset found is of a class the policy's [assets] section lists (DOMAIN.md §9).
    section = assets_of(resolved)
    asset_classes = (
        tuple(section.classes) if section is not None and section.classes else ("movables",)
    )

    @st.composite
    def build(draw: st.DrawFn) -> Event:
        kind = draw(st.sampled_from(chosen))
        at = draw(_observed(when, zone, max_age))
        needs = EVENT_REQUIRED_FIELDS.get(kind, ())
        extra: dict[str, Any] = {}
        if "amount" in needs:
            extra["amount"] = draw(amounts)
        if "outcome" in needs:
            extra["outcome"] = draw(st.sampled_from(ContactOutcome))
        if "asset_class" in needs:
            extra["asset_class"] = draw(st.sampled_from(asset_classes))
        if "promised_date" in needs:
            extra["promised_date"] = at.date() + dt.timedelta(
                days=draw(st.integers(min_value=0, max_value=60))
            )
        return Event(kind=kind, at=at, **extra)

    return build()


def cases(
    policy: PolicyLike = None,
    *,
    as_of: dt.datetime | str | None = None,
    timezones: Sequence[str] = TIMEZONES,
    kinds: Collection[str] | None = None,
    max_kinds: int = 5,
    with_events: bool = False,
    also: PolicyLike | Sequence[PolicyLike] = (),
) -> st.SearchStrategy[Case]:
    """Valid cases for ``policy`` (default: the shipped default policy) at ``as_of``.

    With ``also`` (another policy, or several), the cases are for comparing them with
    ``policy``, a champion and a challenger whose signal vocabularies may differ: their
    signals are of every kind that any of them knows, their values are drawn around
    every threshold of each, and their products are those that all of them know. Decide
    them with ``unknown_signals="ignore"`` (as ``impact`` and ``assert_decision`` do), so
    that each policy ignores the kinds it does not know; the lookback window is the
    shortest of theirs.

    Days past due, amounts, guarantors, the maturity date and the count or value of
    each signal kind are drawn around every threshold the policy mentions. For a policy
    with a ``reage`` pack, the account's ``opened_on`` and its
    ``consecutive_minimum_payments`` are drawn around the pack's figures, or left out;
    for one whose ladder has a cross-default floor, the debtor's shares
    (``debtor_npl_share``, ``debtor_90dpd_share_all_banks``) are drawn at each figure,
    just over it, anywhere from 0 to 1, or left out. Up to
    ``max_kinds`` signal kinds (of ``kinds``, default: the whole catalogue) are present
    in a case; the others, measured kinds included, are absent. With ``with_events``, a
    case also carries a few events (payments, contacts, promises …); they are off by
    default so that signals derived from events never move a count off the boundary it
    was drawn on.
    """
    resolved = resolve_policy(policy)
    every = (resolved, *_others(also))
    when = _as_of(as_of)
    zones = _zones(timezones)
    require_int(max_kinds, "max_kinds")
    if max_kinds < 0:
        raise InputError([FieldProblem("max_kinds", f"must not be negative, got {max_kinds}")])
    bounds = _merged(boundary_values(p) for p in every)
    max_age = min(_window(p) for p in every)
    specs: dict[str, SignalSpec] = {}
    for one in every:
        for kind, spec in one.signals.items():
            specs.setdefault(kind, spec)
    chosen = _kinds(resolved, kinds, specs if len(every) > 1 else None) if max_age >= 0 else ()
    named = [
        c
        for one in every
        for c in _space.mentioned(one, "currency")
        if isinstance(c, str) and len(c) == 3 and c.isupper() and c.isalpha()
    ]
    currencies = tuple(dict.fromkeys([*named, *_space.FALLBACK_CURRENCIES]))
    # A materiality pack refuses a case in a currency it has no threshold for: only
    # the currencies every policy's packs accept (ifrs9: EUR).
    for one in every:
        section = regulation_of(one)
        accepted = section.currencies() if section is not None else None
        if accepted:
            currencies = tuple(c for c in currencies if c in accepted) or tuple(sorted(accepted))
    # A signal one policy does not know is ignored by it; a product is not: only the
    # products every policy knows.
    products = tuple(
        product_name(p) for p in resolved.products if all(p in one.products for one in every)
    )
    money = st.decimals(min_value=Decimal("0.01"), max_value=_MAX_MONEY, places=2)
    # A reage pack reads the account's opening date and its minimum payments: drawn
    # (or left out) around the pack's figures, only for a policy with one.
    reage = [
        p
        for one in every
        if (section := regulation_of(one)) is not None
        for p in section.packs
        if isinstance(p, ReagePack)
    ]
    # A ladder's cross-default floor reads the debtor's shares: drawn (or left out) at
    # each figure, just over it and anywhere from 0 to 1, only for a policy with one.
    share_figures: dict[str, list[Decimal]] = {field: [] for field in SHARE_FIELDS}
    for one in every:
        section = regulation_of(one)
        for p in section.packs if section is not None else ():
            if isinstance(p, LadderPack) and p.cross_class is not None:
                for field, figure in zip(
                    SHARE_FIELDS, (p.cross_npl_share, p.cross_all_banks_share), strict=True
                ):
                    if figure is not None:
                        share_figures[field].append(figure.as_decimal)
    shares: dict[str, st.SearchStrategy[Decimal | None]] = {
        field: st.none() | _pinned(_around_shares(figures), _SHARES)
        for field, figures in share_figures.items()
        if figures
    }

    def ints(field: str, low: int, high: int, *, positive: bool = False) -> Any:
        pinned = [b for b in bounds.get(field, ()) if b >= (1 if positive else low)]
        return _pinned(
            pinned, st.integers(min_value=max(low, 1 if positive else low), max_value=high)
        )

    def amounts(field: str) -> Any:
        return _pinned(list(bounds.get(field, ())), money)

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        zone = draw(st.sampled_from(zones))
        today = when.in_timezone(zone).date()
        dpd = draw(ints("dpd", 0, 800))
        maturity = draw(st.none() | ints("days_to_maturity", -400, 3_650))
        present = draw(
            st.lists(st.sampled_from(chosen), unique=True, max_size=max_kinds)
            if chosen and max_kinds
            else st.just([])
        )
        found: list[Signal] = []
        for kind in present:
            if specs[kind].measured:
                history = draw(st.integers(min_value=0, max_value=1))
                ages = sorted(
                    draw(
                        st.lists(
                            _ages(max_age), min_size=1 + history, max_size=1 + history, unique=True
                        )
                    )
                )
                value = draw(_measures(bounds.get(kind, ())))
                local = when.in_timezone(zone)
                # The latest observation carries the drawn value; an older one may not.
                found.append(
                    Signal(kind=kind, observed_at=local.subtract(seconds=ages[0]), value=value)
                )
                for age in ages[1:]:
                    found.append(
                        Signal(
                            kind=kind,
                            observed_at=local.subtract(seconds=age),
                            value=draw(_measures(())),
                        )
                    )
            else:
                count = draw(ints(kind, 1, 3, positive=True))
                for _ in range(count):
                    at = draw(_observed(when, zone, max_age))
                    found.append(Signal(kind=kind, observed_at=at))
        opened_on: dt.date | None = None
        minimum_payments: int | None = None
        if reage:
            months = [p.min_account_months.as_int for p in reage]
            months_old = draw(
                st.none() | _pinned([m + d for m in months for d in (-1, 0)], _MONTHS)
            )
            if months_old is not None:
                start = pendulum.Date(today.year, today.month, today.day).subtract(
                    months=months_old
                )
                shift = draw(st.integers(min_value=-1, max_value=1))
                opened_on = dt.date(start.year, start.month, start.day) + dt.timedelta(days=shift)
            least = [p.min_payments.as_int for p in reage]
            minimum_payments = draw(
                st.none() | _pinned([m + d for m in least for d in (-1, 0) if m + d >= 0], _COUNTS)
            )
        happened: tuple[Event, ...] = ()
        if with_events:
            happened = tuple(
                draw(st.lists(events(resolved, as_of=when, timezone=zone), max_size=4))
            )
        return Case(
            case_id=f"HC-{draw(st.integers(min_value=0, max_value=999_999)):06d}",
            product=draw(st.sampled_from(products)),
            currency=draw(st.sampled_from(currencies)),
            principal=draw(amounts("principal")),
            overdue_amount=draw(amounts("overdue_amount")),
            due_date=today - dt.timedelta(days=dpd),
            timezone=zone,
            maturity_date=None if maturity is None else today + dt.timedelta(days=maturity),
            signals=tuple(draw(st.permutations(found))) if found else (),
            events=happened,
            guarantors=tuple(
                Guarantor(id=f"G{i + 1}") for i in range(draw(ints("guarantors", 0, 3)))
            ),
            opened_on=opened_on,
            consecutive_minimum_payments=minimum_payments,
            debtor_npl_share=draw(shares.get(SHARE_FIELDS[0], _NO_SHARE)),
            debtor_90dpd_share_all_banks=draw(shares.get(SHARE_FIELDS[1], _NO_SHARE)),
        )

    return build()


#: An account's age in months, and a count of minimum payments, away from the figures.
_MONTHS = st.integers(min_value=0, max_value=120)
_COUNTS = st.integers(min_value=0, max_value=24)
#: A debtor's share anywhere from 0 to 1, as a lender writes it.
_SHARES = st.decimals(min_value=0, max_value=1, places=4)
#: A share the policy does not read: never drawn.
_NO_SHARE: st.SearchStrategy[Decimal | None] = st.none()
#: How far over a share's figure the kit also draws it: the least step the columnar
#: engine reads exactly (twelve decimals).
_SHARE_STEP = Decimal("1E-12")


def _around_shares(figures: Iterable[Decimal]) -> list[Decimal]:
    """Each figure of a cross-default floor and the least share over it (a floor
    applies to a share *more than* its figure), those from 0 to 1."""
    return sorted({v for f in figures for v in (f, f + _SHARE_STEP) if 0 <= v <= 1})


def _others(also: PolicyLike | Sequence[PolicyLike]) -> tuple[Policy, ...]:
    """The policies of ``also``: one, or a sequence of them."""
    if also is None or isinstance(also, Policy | str | Path):
        return () if also is None else (resolve_policy(also),)
    if not isinstance(also, Iterable):
        raise wrong_kind("also", also, "a policy, its name or path, or a list of them")
    return tuple(resolve_policy(p) for p in also)


def _merged(tables: Iterable[Mapping[str, tuple[Any, ...]]]) -> dict[str, tuple[Any, ...]]:
    """Boundary values of several policies, field by field, each value once, sorted."""
    out: dict[str, set[Any]] = {}
    for table in tables:
        for field, values in table.items():
            out.setdefault(field, set()).update(values)
    return {field: tuple(sorted(values)) for field, values in out.items()}


def _ages(max_age: int) -> st.SearchStrategy[int]:
    return _pinned((0, max_age), st.integers(min_value=0, max_value=max_age))


def dated_cases(
    policy: PolicyLike = None,
    *,
    instants: st.SearchStrategy[pendulum.DateTime] | None = None,
    timezones: Sequence[str] = TIMEZONES,
    max_kinds: int = 5,
    also: PolicyLike | Sequence[PolicyLike] = (),
) -> st.SearchStrategy[tuple[Case, pendulum.DateTime]]:
    """Pairs ``(case, as_of)``: an instant from ``instants`` (default :func:`as_ofs`),
    then a case drawn by :func:`cases` at that instant (``also`` as there)."""
    resolved = resolve_policy(policy)
    others = _others(also)
    if instants is not None and not isinstance(instants, st.SearchStrategy):
        raise wrong_kind("instants", instants, "a hypothesis strategy of instants or None")
    require_int(max_kinds, "max_kinds", minimum=0)
    source = instants if instants is not None else as_ofs(timezones=timezones)
    return source.flatmap(
        lambda when: st.tuples(
            cases(resolved, as_of=when, timezones=timezones, max_kinds=max_kinds, also=others),
            st.just(when),
        )
    )
