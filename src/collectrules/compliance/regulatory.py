"""Regulatory classification packs: China's five classes, card classes, IFRS 9, EU, FFIEC.

A policy names its packs in its ``[regulation]`` section, one table per pack, keyed by
the pack's id. Every figure (a dpd boundary, a materiality threshold) is a literal or,
for the shipped packs, the name of a policy parameter, so that a lender can correct a
figure without editing a rule. Two kinds of pack exist:

``dpd_ladder``
    Classes listed from best to worst. The first class has no threshold; every later
    class begins at ``over_dpd`` (dpd strictly greater than the figure) or ``from_dpd``
    (dpd equal or greater). A threshold may depend on the product type that
    ``product_types`` maps each product to (US FFIEC: closed-end 120, open-end 180).
    A class may be ``rebuttable_by`` a case field (``sicr_rebutted``,
    ``default_rebutted``): when the case sets it, the presumption does not apply and the
    decision says so. A class may hold ``in_default`` of a ``materiality_default`` pack:
    a case that pack puts in default is in the class (or a worse one) whatever its dpd
    threshold and its rebuttal, so that the ladder and the default definition never
    contradict each other (IFRS 9 stage 3 and the CRR default). ``flags`` adds boolean
    facts that hold from a class onwards. With ``upgrade_from`` and ``upgrade_months``, a
    class from ``upgrade_from`` on that a case held when its arrears were repaid in full
    is held for that many months after the payment (CN-UPGRADE). With
    ``restructured_class`` and ``restructured_months``, a case is classified no better
    than ``restructured_class`` for that many months after its latest distressed
    restructuring (a ``restructured`` event; CN-RESTRUCT-OBS's observation period); with
    ``restructured_npl_class`` too, a case whose days past due at the restructuring's
    instant gave that class or a worse one (non-performing then) is held no better than
    ``restructured_npl_class`` instead. With ``cross_class`` and one or both of
    ``cross_npl_share`` and ``cross_all_banks_share``, a case whose debtor-level share
    (the case's ``debtor_npl_share``, ``debtor_90dpd_share_all_banks``) is more than the
    figure is classified no better than ``cross_class`` (CN-5LVL-CROSS: the whole debtor
    is non-performing); a share the case does not give is unknown and sets no floor.
    Days past due that give a worse class always win.

``materiality_default``
    In default only when more than ``over_dpd`` days past due **and** the amount past
    due exceeds both the absolute threshold of the case's currency and ``relative``
    times the exposure (the principal). A currency without a threshold is an error.
    With ``probation_months``, a case also stays in default for a probation of that
    many months after the criteria last held (EU-PROBATION): the amount past due at an
    earlier instant is the amount past due now plus the payments made since, so the
    criteria can stop holding only at a payment, and the probation ends that many
    months after it, counted in the case's zone. With ``restructuring_months``, a case
    stays in default for that many months after its latest distressed restructuring (a
    ``restructured`` event; EU-PROBATION's year), whatever its days past due; of two
    probations running, the one that ends last holds the case.

``reage``
    Whether an open-end account may be re-aged (US-REAGE): it must be at least
    ``min_account_months`` old at ``as_of`` (from the case's ``opened_on``, in the
    case's zone), the debtor must have made at least ``min_payments`` consecutive
    minimum payments (``consecutive_minimum_payments``), no ``reaged`` event may lie
    within ``interval_months`` before ``as_of``, and fewer than ``max_in_window`` within
    ``window_months``. The fact is ``eligible``, ``not_eligible`` (a test fails; the
    reason names each, with its figure) or ``unknown`` (the opening date or the
    payments are not recorded, and no test fails); ``reason_fact``, when given, is a
    text fact holding that reason, for a remedy rule's reason to quote.

Each pack gives a fact that remedy rules can read (``cn5_class``, ``ifrs9_stage``,
``eu_default``, ``ffiec_class`` …). Ladder packs that give the same fact combine: the
worse class wins, so a stricter custom pack tightens the shipped one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import attrs
import pendulum

from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.compliance._packs import PARAM_NAME, Figure, PackReader
from collectrules.compliance.buckets import dpd_at
from collectrules.conditions import FieldSpec, FieldType, Scalar
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.model.case import STANDARD_PRODUCTS, Case, EventKind, fixed_offset
from collectrules.model.decision import Firing, RegulatoryClass
from collectrules.model.time import days_past_due, local_midnight
from collectrules.policy import Policy, base_fields
from collectrules.policy.section import SectionLoader

__all__ = [
    "IN_DEFAULT_KEYS",
    "LADDER_CLASS_KEYS",
    "LADDER_KEYS",
    "MATERIALITY_KEYS",
    "MAX_PROBATION_MONTHS",
    "REAGE_KEYS",
    "REBUTTAL_FIELDS",
    "Assessment",
    "DefaultLink",
    "LadderClass",
    "LadderPack",
    "MaterialityPack",
    "PackKind",
    "ReagePack",
    "RegulationSection",
    "Threshold",
    "classify",
    "extra_facts",
    "firing",
    "parse_section",
    "regulation_of",
]

#: The case fields that may rebut a class's presumption.
REBUTTAL_FIELDS = ("sicr_rebutted", "default_rebutted")
_ANY_TYPE = "*"


class PackKind(Choice):
    """The kinds of classification pack."""

    DPD_LADDER = "dpd_ladder"
    MATERIALITY_DEFAULT = "materiality_default"
    REAGE = "reage"


@attrs.frozen
class Threshold:
    """Where a class begins: dpd ``> figure`` (``strict``) or dpd ``>= figure``."""

    figure: Figure
    strict: bool

    @property
    def first_dpd(self) -> int:
        """The first dpd at which the class applies."""
        return self.figure.as_int + (1 if self.strict else 0)

    def met(self, dpd: int) -> bool:
        """Whether ``dpd`` reaches the threshold."""
        return dpd >= self.first_dpd

    def describe(self) -> str:
        """``more than 90 DPD`` or ``90 DPD or more``, with the parameter."""
        value = self.figure.value
        text = f"more than {value} DPD" if self.strict else f"{value} DPD or more"
        return f"{text} (parameter {self.figure.param})" if self.figure.param else text


@attrs.frozen
class DefaultLink:
    """A class that holds whenever the ``materiality_default`` pack ``pack`` puts the
    case in default, and the rule that gives the class then."""

    pack: str
    rule_id: str
    reason: str


@attrs.frozen
class LadderClass:
    """One class of a ladder pack and the rule that gives it."""

    value: str
    label_en: str
    label_zh: str
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    thresholds: Mapping[str, Threshold] = attrs.field(factory=dict)
    rebuttable_by: str | None = None
    in_default: DefaultLink | None = None

    def threshold_for(self, product_type: str) -> Threshold | None:
        """The threshold for a product type (``None`` for the first, base class)."""
        return self.thresholds.get(product_type, self.thresholds.get(_ANY_TYPE))


@attrs.frozen
class _Hold:
    """A class held by a ladder's upgrade rule or its restructuring hold (see
    :meth:`LadderPack.assess`)."""

    rule_id: str
    rank: int
    #: What the reason of a decision the hold gives begins with.
    lead: str
    #: Why the class is held, or, once the hold has ended, that it ended.
    reason: str
    cites: tuple[str, ...]
    end: pendulum.DateTime
    ended: bool
    #: Its name in a note, and what may end or prolong it, after its end.
    name: str
    unless: str


@attrs.frozen
class LadderPack:
    """Classes by days past due, best first."""

    id: str
    title: str
    fact: str
    classes: tuple[LadderClass, ...]
    products: tuple[str, ...] = ()
    product_types: Mapping[str, str] = attrs.field(factory=dict)
    flags: Mapping[str, str] = attrs.field(factory=dict)
    cites: tuple[str, ...] = ()
    doc: str = ""
    #: The class from which a class, once held, is held until ``upgrade_months`` after
    #: the payment that repaid the arrears in full (None: a case leaves a class as soon
    #: as its days past due do).
    upgrade_from: str | None = None
    #: Months of payment as agreed before a case leaves a class from ``upgrade_from`` on.
    upgrade_months: Figure | None = None
    #: The clauses a class held by the upgrade rule cites, after the class's.
    upgrade_cites: tuple[str, ...] = ()
    #: The class a case is classified no better than during the observation period after
    #: its latest distressed restructuring (None: a ``restructured`` event is not read).
    restructured_class: str | None = None
    #: The observation period after a distressed restructuring, in months.
    restructured_months: Figure | None = None
    #: The clauses a class held by the restructuring hold cites, after the pack's.
    restructured_cites: tuple[str, ...] = ()
    #: The first non-performing class, worse than ``restructured_class``: a case whose
    #: days past due at the restructuring's instant gave it or a worse class is held no
    #: better than it (None: every restructured case is held at ``restructured_class``).
    restructured_npl_class: str | None = None
    #: The class a case is classified no better than when a share of its debtor's debts
    #: passes a ``cross_*`` figure (None: the debtor's shares are not read).
    cross_class: str | None = None
    #: The case's ``debtor_npl_share`` must be more than this to set the floor.
    cross_npl_share: Figure | None = None
    #: The case's ``debtor_90dpd_share_all_banks`` must be more than this to set it.
    cross_all_banks_share: Figure | None = None
    #: The clauses a class set by the cross-default floor cites, after the pack's.
    cross_cites: tuple[str, ...] = ()

    kind = PackKind.DPD_LADDER

    @property
    def values(self) -> tuple[str, ...]:
        """The class values, best first."""
        return tuple(c.value for c in self.classes)

    def applies_to(self, case: Case) -> bool:
        """Whether the pack classifies cases of this product."""
        if self.products and str(case.product) not in self.products:
            return False
        return not self.product_types or str(case.product) in self.product_types

    def rank_at(self, case: Case, dpd: int) -> int:
        """The class, by its rank, that days past due alone give ``case`` at ``dpd``
        (a rebutted presumption does not count; no ``in_default`` link is read)."""
        ptype = self.product_types.get(str(case.product), _ANY_TYPE)
        rank = 0
        for index, klass in enumerate(self.classes[1:], start=1):
            threshold = klass.threshold_for(ptype)
            assert threshold is not None
            rebutted = bool(klass.rebuttable_by and getattr(case, klass.rebuttable_by))
            if threshold.met(dpd) and not rebutted:
                rank = index
        return rank

    def repaid(self, case: Case, as_of: dt.datetime) -> tuple[pendulum.DateTime, Decimal] | None:
        """The payment that repaid the arrears in full, at or before ``as_of``, with the
        amount past due just before it; None while something is past due, or when no
        payment is recorded.

        As for a probation (:meth:`MaterialityPack.last_held`), the amount past due at an
        instant is ``overdue_amount`` plus the payments made after it up to ``as_of``;
        with nothing past due now, the arrears were repaid in full by the last payment
        (those at its instant together), and days past due grew until it."""
        if case.overdue_amount > 0:
            return None
        last: dt.datetime | None = None
        paid = Decimal(0)
        for event in case.events:
            if event.kind is not EventKind.PAYMENT or event.amount is None or event.at > as_of:
                continue
            if last is None or event.at > last:
                last, paid = event.at, event.amount
            elif event.at == last:
                paid += event.amount
        if last is None or case.overdue_amount + paid <= 0:
            return None
        return fixed_offset(last), case.overdue_amount + paid

    def _upgrade_hold(self, case: Case, as_of: dt.datetime | None, rank: int) -> _Hold | None:
        """The class held by the upgrade rule, when the case held a class from
        ``upgrade_from`` on just before its arrears were repaid in full and days past
        due now give a better one: held while ``as_of`` is less than ``upgrade_months``
        after the payment (``ended`` false), else only said (``ended`` true)."""
        months = self.upgrade_months
        if months is None or self.upgrade_from is None or as_of is None:
            return None
        repaid = self.repaid(case, as_of)
        if repaid is None:
            return None
        at, owed = repaid
        last_day = case.local_date(at - dt.timedelta(microseconds=1))
        dpd_then = max((last_day - case.due_date).days, 0)
        held = self.rank_at(case, dpd_then)
        from_rank = self.values.index(self.upgrade_from)
        if held < from_rank or held <= rank:
            return None
        klass = self.classes[held]
        end = months_after(case, at, months.as_int)
        length = _months_text(months)
        local = fixed_offset(at).in_timezone(case.timezone)
        story = (
            f"{klass.label_en} on {last_day} (dpd {dpd_then}), until the payment at "
            f"{local.isoformat()} repaid the arrears in full ({owed:f} {case.currency} past "
            "due before it)"
        )
        ended = as_of >= end
        if ended:
            reason = f"{story}; the {length} of payment as agreed ended on {end.date()}"
        else:
            reason = (
                f"held at {klass.label_en} until {end.date()}: {story}, and a case leaves "
                f"{self.classes[from_rank].label_en} or a worse class "
                f"only after {length} of payment as agreed"
            )
        return _Hold(
            rule_id=f"{self.id}:upgrade_hold",
            rank=held,
            lead=klass.reason,
            reason=reason,
            cites=() if ended else tuple(dict.fromkeys((*klass.cites, *self.upgrade_cites))),
            end=end,
            ended=ended,
            name="the hold",
            unless="unless the case falls overdue again before",
        )

    def _restructured_hold(self, case: Case, as_of: dt.datetime | None) -> _Hold | None:
        """The class held by the restructuring hold, while ``as_of`` is less than
        ``restructured_months`` after the case's latest distressed restructuring
        (``ended`` false), else only said (``ended`` true): ``restructured_npl_class``
        when the class days past due gave at the restructuring's instant was that one or
        a worse one, else ``restructured_class``. Its rank may be no worse than the class
        days past due give now: :meth:`assess` compares them.

        Days past due at the restructuring's instant are read as :func:`dpd_at` reads
        them with the case recorded at ``as_of`` (a payment at that very instant counts
        as made); the class they give is :meth:`rank_at`'s, as the upgrade rule reads
        the class held when the arrears were repaid."""
        months, value = self.restructured_months, self.restructured_class
        if months is None or value is None or as_of is None:
            return None
        at = latest_restructuring(case, as_of)
        if at is None:
            return None
        dpd_then = dpd_at(case, at, recorded_at=as_of)
        then_rank = self.rank_at(case, dpd_then)
        then = self.classes[then_rank]
        local = at.in_timezone(case.timezone)
        story = (
            f"the debt was restructured at {local.isoformat()} because the debtor was in "
            "financial difficulty (a distressed restructuring), when days past due at that "
            f"instant gave {then.label_en} (dpd {dpd_then} on {local.date()})"
        )
        rank = self.values.index(value)
        state = ""
        npl = self.restructured_npl_class
        if npl is not None:
            npl_rank = self.values.index(npl)
            if then_rank >= npl_rank:
                rank, state = npl_rank, "non-performing"
            else:
                state = "performing"
            story = f"{story}: {state} before the restructuring"
        klass = self.classes[rank]
        end = months_after(case, at, months.as_int)
        length = _months_text(months)
        ended = as_of >= end
        debt = f"debt {state} before its restructuring" if state else "restructured debt"
        if ended:
            reason = f"{story}; its observation period of {length} ended on {end.date()}"
        else:
            reason = (
                f"held at {klass.label_en} until {end.date()}: {story}, and a {debt} is no "
                f"better than {klass.label_en} during an observation period of {length} "
                "after the restructuring"
            )
        when = f", {state} before it" if state else ""
        return _Hold(
            rule_id=f"{self.id}:restructured_hold",
            rank=rank,
            lead=(
                f"Restructured because the debtor was in financial difficulty{when}: no "
                f"better than {klass.label_en} during the observation period."
            ),
            reason=reason,
            cites=() if ended else tuple(dict.fromkeys((*self.cites, *self.restructured_cites))),
            end=end,
            ended=ended,
            name="the observation period after the restructuring",
            unless="unless the debt is restructured again before",
        )

    def cross_default(self, case: Case) -> tuple[list[str], list[str]]:
        """The debtor-level shares of ``case`` that pass the pack's ``cross_*`` figures,
        each said with its figure, and those given that do not. A share the case does not
        give is unknown: neither passed nor said."""
        passed: list[str] = []
        below: list[str] = []
        if self.cross_class is None:
            return passed, below
        for field, figure, what in (
            (
                "debtor_npl_share",
                self.cross_npl_share,
                "of the debtor's claims at this bank, by amount, are non-performing",
            ),
            (
                "debtor_90dpd_share_all_banks",
                self.cross_all_banks_share,
                "of the debtor's debt at all banks is more than 90 days past due",
            ),
        ):
            share: Decimal | None = getattr(case, field)
            if figure is None or share is None:
                continue
            if share > figure.as_decimal:
                passed.append(f"{field} {share:f}: more than {figure.describe()} {what}")
            else:
                below.append(f"{field} {share:f} is not more than {figure.describe()}")
        return passed, below

    @exact
    def assess(
        self,
        case: Case,
        dpd: int,
        defaults: Mapping[str, Assessment] | None = None,
        as_of: dt.datetime | None = None,
    ) -> Assessment:
        """The class of ``case`` at ``dpd``, and when the next, worse class begins.

        ``defaults`` holds the assessments of the ``materiality_default`` packs that
        apply to the case, by pack id: a class linked ``in_default`` of one of them holds
        while that pack says ``default``, and begins on the day that pack's default does.
        With ``upgrade_months`` and ``as_of``, a class from ``upgrade_from`` on that the
        case held when its arrears were repaid in full is held for that many months after
        the payment, unless days past due give a worse one. With ``restructured_months``
        and ``as_of``, the case is no better than ``restructured_class`` for that many
        months after its latest distressed restructuring (the observation period), or no
        better than ``restructured_npl_class`` if days past due at the restructuring's
        instant gave that class or a worse one, unless days past due give a worse class.
        Of two holds, the worse class wins; at the same class, the one that ends last
        (the restructuring's, on a tie). With ``cross_class``, a case whose debtor-level
        share is more than its ``cross_*`` figure is no better than ``cross_class``
        (:meth:`cross_default`), unless days past due or a hold give a worse class or
        the same one.
        """
        ptype = self.product_types.get(str(case.product), _ANY_TYPE)
        linked: dict[int, Assessment] = {}
        for index, klass in enumerate(self.classes):
            link = klass.in_default
            if link is not None and defaults and (held := defaults.get(link.pack)) is not None:
                linked[index] = held
        rank = 0
        by_default: Assessment | None = None
        notes: list[str] = []
        for index, klass in enumerate(self.classes[1:], start=1):
            threshold = klass.threshold_for(ptype)
            assert threshold is not None
            met = threshold.met(dpd)
            rebutted = bool(klass.rebuttable_by and getattr(case, klass.rebuttable_by))
            held = linked.get(index)
            if held is not None and held.value == "default" and not (met and not rebutted):
                if met:
                    notes.append(
                        f"{klass.rule_id}: the case sets {klass.rebuttable_by}, but it is in "
                        f"default under {held.pack_id} ({held.rule_id}); the rebuttal does "
                        f"not take a case in default out of {klass.label_en}"
                    )
                rank, by_default = index, held
                continue
            if not met:
                continue
            if rebutted:
                notes.append(
                    f"{klass.rule_id}: the presumption of {klass.label_en} at "
                    f"{threshold.describe()} is rebutted (the case sets {klass.rebuttable_by})"
                )
                continue
            rank, by_default = index, None
        holds = [
            h
            for h in (self._upgrade_hold(case, as_of, rank), self._restructured_hold(case, as_of))
            if h is not None
        ]
        notes.extend(h.reason for h in holds if h.ended)
        running = [h for h in holds if not h.ended and h.rank > rank]
        hold = max(reversed(running), key=lambda h: (h.rank, h.end)) if running else None
        if hold is not None:
            rank, by_default = hold.rank, None
        for other in holds:
            if not other.ended and other is not hold:
                notes.append(
                    f"{other.name} ({other.rule_id}) runs until {other.end.isoformat()} "
                    f"({case.timezone}), but gives no worse class than "
                    f"{self.classes[rank].label_en}"
                )
        passed, below = self.cross_default(case)
        notes.extend(f"{self.id}:cross_default: {text}" for text in below)
        cross: str | None = None
        if passed:
            assert self.cross_class is not None
            cross_rank = self.values.index(self.cross_class)
            if cross_rank > rank:
                if hold is not None:
                    notes.append(
                        f"{hold.name} ({hold.rule_id}) runs until {hold.end.isoformat()} "
                        f"({case.timezone}), but gives no worse class than "
                        f"{self.classes[cross_rank].label_en}"
                    )
                rank, by_default, hold, cross = cross_rank, None, None, "; ".join(passed)
            else:
                notes.append(
                    f"{self.id}:cross_default: {'; '.join(passed)}, but the cross-default "
                    f"floor gives no worse class than {self.classes[rank].label_en}"
                )
        current = self.classes[rank]
        next_class: LadderClass | None = None
        next_on: dt.date | None = None
        for index, klass in enumerate(self.classes[rank + 1 :], start=rank + 1):
            threshold = klass.threshold_for(ptype)
            assert threshold is not None
            begins: dt.date | None = None
            rebutted = bool(klass.rebuttable_by and getattr(case, klass.rebuttable_by))
            # a threshold met but rebutted cannot make the next class by dpd alone
            if case.overdue_amount > 0 and not threshold.met(dpd) and not rebutted:
                begins = case.due_date + dt.timedelta(days=threshold.first_dpd)
            held = linked.get(index)
            if held is not None and held.next_value == "default" and held.next_on is not None:
                begins = held.next_on if begins is None else min(begins, held.next_on)
            if begins is not None and (next_on is None or begins <= next_on):
                next_class, next_on = klass, begins
        if case.overdue_amount <= 0:
            notes.append("nothing is overdue, so no worse class follows")
        reason = current.reason
        rule_id, cites = current.rule_id, current.cites
        threshold = current.threshold_for(ptype)
        if cross is not None:
            rule_id = f"{self.id}:cross_default"
            cites = tuple(dict.fromkeys((*self.cites, *self.cross_cites)))
            reason = (
                f"Cross-default: the debtor as a whole is no better than {current.label_en}. "
                f"[{cross}; dpd now {dpd}]"
            )
        elif hold is not None:
            rule_id, cites = hold.rule_id, hold.cites
            reason = f"{hold.lead} [{hold.reason}; dpd now {dpd}]"
            notes.append(
                f"{hold.name} ends at {hold.end.isoformat()} ({case.timezone}), {hold.unless}"
            )
        elif by_default is not None and current.in_default is not None:
            link = current.in_default
            rule_id = link.rule_id
            cites = tuple(dict.fromkeys((*current.cites, *by_default.cites)))
            reason = (
                f"{link.reason} [dpd {dpd}; {by_default.pack_id}: {by_default.label_en} "
                f"({by_default.rule_id})]"
            ).strip()
        elif threshold is not None:
            reason = f"{reason} [dpd {dpd}: {threshold.describe()}]".strip()
        else:
            reason = f"{reason} [dpd {dpd}]".strip()
        if ptype != _ANY_TYPE:
            notes.append(f"product {case.product!s} is {ptype}")
        flags = {name: rank >= self.values.index(value) for name, value in self.flags.items()}
        return Assessment(
            pack_id=self.id,
            fact=self.fact,
            value=current.value,
            rank=rank,
            label_en=current.label_en,
            label_zh=current.label_zh,
            rule_id=rule_id,
            reason=reason,
            cites=cites,
            next_value=next_class.value if next_class is not None else None,
            next_on=next_on,
            notes=tuple(notes),
            facts={self.fact: current.value, **flags},
        )


@attrs.frozen
class MaterialityPack:
    """Default: past due for more than ``over_dpd`` days on a material amount."""

    id: str
    title: str
    fact: str
    over_dpd: Figure
    absolute: Mapping[str, Figure]
    relative: Figure
    products: tuple[str, ...] = ()
    labels: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    cites: tuple[str, ...] = ()
    doc: str = ""
    #: Months a case stays in default after the criteria last held (None: no probation).
    probation_months: Figure | None = None
    #: The clauses a decision in default by the probation cites, after the pack's.
    probation_cites: tuple[str, ...] = ()
    #: Months a case stays in default after a distressed restructuring (its latest
    #: ``restructured`` event), whatever its days past due (None: not read).
    restructuring_months: Figure | None = None
    #: The clauses a decision in default after a restructuring cites, after the pack's.
    restructuring_cites: tuple[str, ...] = ()

    kind = PackKind.MATERIALITY_DEFAULT
    values = ("not_default", "default")

    def applies_to(self, case: Case) -> bool:
        """Whether the pack classifies cases of this product."""
        return not self.products or str(case.product) in self.products

    def label(self, value: str) -> tuple[str, str]:
        """English and Chinese labels of a value."""
        default = {"default": ("default", "违约"), "not_default": ("not in default", "未违约")}
        return self.labels.get(value, default[value])

    def absolute_for(self, case: Case) -> Figure:
        """The absolute threshold in the case's currency; another currency is an error."""
        figure = self.absolute.get(case.currency)
        if figure is None:
            known = ", ".join(sorted(self.absolute))
            msg = (
                f"pack {self.id}: the materiality threshold is set in {known} only, and the "
                f"case is in {case.currency}; add a threshold for {case.currency} under "
                f"regulation.{self.id}.absolute"
            )
            raise InputError([FieldProblem("currency", msg)], subject=f"case {case.case_id}")
        return figure

    def material(self, case: Case, amount: Decimal) -> bool:
        """Whether ``amount`` past due exceeds both thresholds for ``case``."""
        absolute = self.absolute_for(case).as_decimal
        return amount > absolute and amount > self.relative.as_decimal * case.principal

    @exact
    def last_held(self, case: Case, as_of: dt.datetime) -> tuple[pendulum.DateTime, Decimal] | None:
        """The payment at which the default criteria last stopped holding, at or before
        ``as_of``, with the amount past due just before it; None when they never held
        before a payment.

        The amount past due at an instant is ``overdue_amount`` plus the payments made
        after it up to ``as_of`` (a payment after ``as_of`` is not read, as the decision's
        other facts at ``as_of`` do not read it). It only falls as time passes, and the
        days past due only grow, so the criteria hold from the first day past
        ``over_dpd`` until the payment that makes the amount immaterial.
        """
        payments = sorted(
            (e.at, e.amount)
            for e in case.events
            if e.kind is EventKind.PAYMENT and e.amount is not None and e.at <= as_of
        )
        if not payments:
            return None
        first_day = case.due_date + dt.timedelta(days=self.over_dpd.as_int + 1)
        past_due_from = local_midnight(first_day, case.timezone)
        owed = case.overdue_amount
        index = len(payments)
        while index:
            at = payments[index - 1][0]
            while index and payments[index - 1][0] == at:
                owed += payments[index - 1][1]
                index -= 1
            # just before ``at``: more than over_dpd days past due when a day past the
            # threshold began before it, and material
            if at > past_due_from and self.material(case, owed):
                return at, owed
        return None

    def restructured(self, case: Case, as_of: dt.datetime) -> pendulum.DateTime | None:
        """The instant of the case's latest distressed restructuring (a ``restructured``
        event) at or before ``as_of``; None when none is recorded."""
        return latest_restructuring(case, as_of)

    def _probations(self, case: Case, as_of: dt.datetime) -> list[_Probation]:
        """The probations the case has served or is serving at ``as_of``: after the
        criteria last held (``probation_months``), and after its latest distressed
        restructuring (``restructuring_months``)."""
        found = (self._after_payment(case, as_of), self._after_restructuring(case, as_of))
        return [p for p in found if p is not None]

    def _after_payment(self, case: Case, as_of: dt.datetime) -> _Probation | None:
        """The probation after the payment at which the criteria last held."""
        stopped = self.last_held(case, as_of) if self.probation_months is not None else None
        if stopped is None:
            return None
        at, owed = stopped
        local = fixed_offset(at).in_timezone(case.timezone)
        last_day = case.local_date(at - dt.timedelta(microseconds=1))
        months = _months_text(self.probation_months)
        held = (
            f"the default criteria last held on {last_day}, until the payment at "
            f"{local.isoformat()} ({owed:f} {case.currency} past due before it)"
        )
        rule = f"a case leaves default only after {months} in which they no longer hold"
        ended = f"{held}; the probation of {months} ended on"
        end = self.probation_end(case, at)
        return _Probation(
            end, f"{self.id}:probation", held, rule, "the probation", ended, self.probation_cites
        )

    def _after_restructuring(self, case: Case, as_of: dt.datetime) -> _Probation | None:
        """The probation after the latest distressed restructuring."""
        figure = self.restructuring_months
        at = self.restructured(case, as_of) if figure is not None else None
        if figure is None or at is None:
            return None
        months = _months_text(figure)
        story = (
            f"the debt was restructured at {at.in_timezone(case.timezone).isoformat()} "
            "because the debtor could not pay as agreed (a distressed restructuring)"
        )
        rule = f"a case leaves default only {months} after a distressed restructuring"
        name = "the probation after the restructuring"
        end = months_after(case, at, figure.as_int)
        return _Probation(
            end,
            f"{self.id}:restructured",
            story,
            rule,
            name,
            f"{story}; the {months} after it ended on",
            self.restructuring_cites,
        )

    def probation_end(self, case: Case, stopped: dt.datetime) -> pendulum.DateTime:
        """``probation_months`` after ``stopped``, counted in the case's zone (see
        :func:`months_after`)."""
        assert self.probation_months is not None
        return months_after(case, stopped, self.probation_months.as_int)

    @exact
    def assess(self, case: Case, dpd: int, as_of: dt.datetime | None = None) -> Assessment:
        """Default or not, with the reason and when default begins if nothing is paid.

        With a probation and ``as_of``, a case the criteria no longer hold for is still
        in default until the probation after they last held ends.
        """
        absolute = self.absolute_for(case)
        amount = case.overdue_amount
        relative_amount = (self.relative.as_decimal * case.principal).normalize()
        past_due = dpd > self.over_dpd.as_int
        over_abs = amount > absolute.as_decimal
        over_rel = amount > relative_amount
        material = over_abs and over_rel
        threshold = (
            f"the amount past due {amount} {case.currency} must exceed both "
            f"{absolute.describe()} {case.currency} and {self.relative.describe()} of the "
            f"exposure ({relative_amount:f} {case.currency})"
        )
        notes: list[str] = []
        if past_due and material:
            value, rule_id = "default", f"{self.id}:default"
            reason = (
                f"more than {self.over_dpd.describe()} days past due (dpd {dpd}) on a "
                f"material amount: {threshold}"
            )
        elif not material:
            value, rule_id = "not_default", f"{self.id}:immaterial"
            missing = [
                name
                for name, ok in (
                    ("the absolute threshold", over_abs),
                    ("the relative threshold", over_rel),
                )
                if not ok
            ]
            reason = f"not material: {threshold}; it does not exceed {' or '.join(missing)}"
        else:
            value, rule_id = "not_default", f"{self.id}:not_past_due"
            reason = (
                f"material, but not more than {self.over_dpd.describe()} days past due (dpd {dpd})"
            )
        cites = self.cites
        probations: list[_Probation] = []
        if value == "not_default" and as_of is not None:
            probations = self._probations(case, as_of)
        running = [p for p in probations if as_of is not None and as_of < p.end]
        # The probation that ends last holds the case; a tie goes to the restructuring's,
        # the later in the list.
        holding = max(reversed(running), key=lambda p: p.end) if running else None
        for probation in probations:
            if probation not in running:
                notes.append(f"{probation.ended} {probation.end.date()}")
            elif probation is not holding:
                notes.append(
                    f"{probation.name} ({probation.rule_id}) runs until "
                    f"{probation.end.isoformat()} ({case.timezone}): {probation.story}"
                )
        if value == "not_default" and holding is not None:
            value, rule_id = "default", holding.rule_id
            cites = tuple(dict.fromkeys((*self.cites, *holding.cites)))
            reason = (
                f"in default until {holding.name} ends on {holding.end.date()}: "
                f"{holding.story}, and {holding.rule} [now: {reason}]"
            )
            notes.append(
                f"{holding.name} ends at {holding.end.isoformat()} ({case.timezone}), unless "
                "the criteria hold again before"
            )
        next_value: str | None = None
        next_on: dt.date | None = None
        if value == "not_default":
            if material:
                next_value = "default"
                next_on = case.due_date + dt.timedelta(days=self.over_dpd.as_int + 1)
            else:
                notes.append(
                    "default cannot begin by days past due alone while the amount "
                    "past due is not material"
                )
        label_en, label_zh = self.label(value)
        return Assessment(
            pack_id=self.id,
            fact=self.fact,
            value=value,
            rank=self.values.index(value),
            label_en=label_en,
            label_zh=label_zh,
            rule_id=rule_id,
            reason=reason,
            cites=cites,
            next_value=next_value,
            next_on=next_on,
            notes=tuple(notes),
            facts={self.fact: value == "default"},
        )


@attrs.frozen
class _Probation:
    """A probation a case serves before it leaves default (see
    :meth:`MaterialityPack.assess`)."""

    end: pendulum.DateTime
    rule_id: str
    #: What began it, and the rule, for the reason of a decision it holds in default.
    story: str
    rule: str
    name: str
    #: The note when it has ended, before its end date.
    ended: str
    cites: tuple[str, ...]


def _months_text(figure: Figure | None) -> str:
    """``figure`` months, naming its parameter."""
    assert figure is not None
    return f"{figure.value} months" + (f" (parameter {figure.param})" if figure.param else "")


@attrs.frozen
class ReagePack:
    """Whether an open-end account may be re-aged: its age, its consecutive minimum
    payments, and its earlier re-ages (``reaged`` events)."""

    id: str
    title: str
    fact: str
    min_account_months: Figure
    min_payments: Figure
    interval_months: Figure
    window_months: Figure
    max_in_window: Figure
    products: tuple[str, ...] = ()
    #: A text fact holding the assessment's reason (None: no such fact).
    reason_fact: str | None = None
    cites: tuple[str, ...] = ()
    doc: str = ""

    kind = PackKind.REAGE
    values = ("eligible", "not_eligible", "unknown")
    _LABELS: ClassVar[Mapping[str, tuple[str, str]]] = {
        "eligible": ("may be re-aged", "可重新计龄"),
        "not_eligible": ("may not be re-aged", "不得重新计龄"),
        "unknown": ("re-ageing not established", "能否重新计龄未明"),
    }

    def applies_to(self, case: Case) -> bool:
        """Whether the pack assesses cases of this product."""
        return not self.products or str(case.product) in self.products

    def label(self, value: str) -> tuple[str, str]:
        """English and Chinese labels of a value."""
        return self._LABELS[value]

    def tests(self, case: Case, as_of: dt.datetime) -> tuple[list[str], list[str], list[str]]:
        """The tests of ``case`` at ``as_of``: those that fail, those that cannot be
        read (their input is not recorded), and those that pass, each as a sentence."""
        failed: list[str] = []
        unknown: list[str] = []
        passed: list[str] = []
        today = case.local_date(as_of)
        need = self.min_account_months
        if case.opened_on is None:
            unknown.append(
                "the account's opening date is not recorded (case field opened_on): it must "
                f"be at least {_figure_text(need, ' months old')}"
            )
        else:
            age = whole_months(case.opened_on, today)
            text = (
                f"the account was opened on {case.opened_on} and is {age} whole months old "
                f"on {today}"
                if age >= 0
                else f"the account is opened on {case.opened_on}, after {today}"
            )
            if age >= need.as_int:
                passed.append(f"{text} (at least {_figure_text(need, ' months')})")
            else:
                failed.append(f"{text}: it must be at least {_figure_text(need, ' months old')}")
        payments = case.consecutive_minimum_payments
        least = _figure_text(self.min_payments, "")
        if payments is None:
            unknown.append(
                "the consecutive minimum payments are not recorded (case field "
                f"consecutive_minimum_payments): at least {least} are needed"
            )
        elif payments >= self.min_payments.as_int:
            passed.append(f"{payments} consecutive minimum payments (at least {least})")
        else:
            failed.append(f"{payments} consecutive minimum payments: at least {least} are needed")
        reages = sorted(
            fixed_offset(e.at) for e in case.events if e.kind is EventKind.REAGED and e.at <= as_of
        )
        if reages:
            latest = reages[-1]
            again = months_after(case, latest, self.interval_months.as_int)
            local = latest.in_timezone(case.timezone).isoformat()
            if as_of < again:
                failed.append(
                    f"the account was re-aged at {local}, less than "
                    f"{_months_text(self.interval_months)} before: at most once in that "
                    f"period, so not again before {again.isoformat()} ({case.timezone})"
                )
            else:
                passed.append(
                    f"the latest re-age, at {local}, is at least "
                    f"{_months_text(self.interval_months)} old"
                )
        window = [at for at in reages if as_of < months_after(case, at, self.window_months.as_int)]
        most = self.max_in_window.as_int
        # as_of in the case's zone: the same instant, however it is written, gives the
        # same reason.
        now = fixed_offset(as_of).in_timezone(case.timezone).isoformat()
        within = f"{_months_text(self.window_months)} before {now}"
        if len(window) >= most:
            times = ", ".join(at.in_timezone(case.timezone).isoformat() for at in window)
            failed.append(
                f"the account was re-aged {len(window)} times in the {within} ({times}): at "
                f"most {_figure_text(self.max_in_window, '')} in that period"
            )
        else:
            passed.append(
                f"{len(window)} re-ages in the {within} (fewer than "
                f"{_figure_text(self.max_in_window, '')})"
            )
        return failed, unknown, passed

    def assess(self, case: Case, dpd: int, as_of: dt.datetime | None = None) -> Assessment:
        """Eligible, not eligible or unknown, with the reason naming every test that
        fails or cannot be read. Without ``as_of`` nothing can be counted: unknown."""
        failed: list[str] = []
        unknown: list[str] = ["no instant to count from"]
        passed: list[str] = []
        value = "unknown"
        if as_of is not None:
            failed, unknown, passed = self.tests(case, as_of)
            value = "not_eligible" if failed else "unknown" if unknown else "eligible"
        if value == "eligible":
            reason = "every test is met: " + "; ".join(passed)
        elif value == "not_eligible":
            reason = "not allowed: " + "; ".join(failed)
        else:
            reason = "not established, as an input is not recorded: " + "; ".join(unknown)
        notes = tuple(f"not recorded: {u}" for u in unknown) if failed else ()
        label_en, label_zh = self.label(value)
        facts: dict[str, Scalar] = {self.fact: value}
        if self.reason_fact is not None:
            facts[self.reason_fact] = reason
        return Assessment(
            pack_id=self.id,
            fact=self.fact,
            value=value,
            rank=self.values.index(value),
            label_en=label_en,
            label_zh=label_zh,
            rule_id=f"{self.id}:{value}",
            reason=reason,
            cites=self.cites,
            next_value=None,
            next_on=None,
            notes=notes,
            facts=facts,
        )


def whole_months(start: dt.date, day: dt.date) -> int:
    """The whole calendar months from ``start`` to ``day`` (negative when ``day`` is
    before ``start``): the most ``n`` with ``start`` plus ``n`` months on or before
    ``day``, a month from the 31st ending on the last day of a shorter month."""
    months = (day.year - start.year) * 12 + day.month - start.month
    if months > 0 and pendulum.Date(start.year, start.month, start.day).add(months=months) > day:
        months -= 1
    elif months <= 0 and day < start:
        months = min(months, -1)
    return months


def _figure_text(figure: Figure, unit: str) -> str:
    """``figure`` with its unit, naming its parameter."""
    text = f"{figure.value}{unit}"
    return text + (f" (parameter {figure.param})" if figure.param else "")


Pack: TypeAlias = LadderPack | MaterialityPack | ReagePack


def latest_restructuring(case: Case, as_of: dt.datetime) -> pendulum.DateTime | None:
    """The instant of the case's latest distressed restructuring (a ``restructured``
    event) at or before ``as_of``; None when none is recorded."""
    latest: dt.datetime | None = None
    for event in case.events:
        if (
            event.kind is EventKind.RESTRUCTURED
            and event.at <= as_of
            and (latest is None or event.at > latest)
        ):
            latest = event.at
    return None if latest is None else fixed_offset(latest)


def months_after(case: Case, at: dt.datetime, months: int) -> pendulum.DateTime:
    """``months`` after the instant ``at``, counted in the case's zone (as the timeline
    counts an offset in months: from a local midnight, to the first instant of the day
    landed on)."""
    local = fixed_offset(at).in_timezone(case.timezone)
    landed = local.add(months=months)
    if local.hour or local.minute or local.second or local.microsecond:
        return landed
    first = local_midnight(landed.date(), case.timezone)
    return first if first.timestamp() < landed.timestamp() else landed


@attrs.frozen
class Assessment:
    """What one pack says of one case: the class, the rule, and the next class."""

    pack_id: str
    fact: str
    value: str
    rank: int
    label_en: str
    label_zh: str
    rule_id: str
    reason: str
    cites: tuple[str, ...]
    next_value: str | None
    next_on: dt.date | None
    notes: tuple[str, ...]
    facts: Mapping[str, Scalar]

    def to_class(self) -> RegulatoryClass:
        """The decision's record of this assessment."""
        return RegulatoryClass(
            pack=self.pack_id,
            value=self.value,
            label_en=self.label_en,
            label_zh=self.label_zh,
            rule_id=self.rule_id,
            cites=self.cites,
            next_value=self.next_value,
            next_on=self.next_on.isoformat() if self.next_on is not None else None,
            notes=self.notes,
            reason=self.reason,
            fact=self.fact,
        )


@attrs.frozen
class RegulationSection:
    """The parsed ``[regulation]`` section: the packs, in the policy's order."""

    packs: tuple[Pack, ...]
    parameters: frozenset[str] = frozenset()

    def rule_ids(self) -> tuple[tuple[str, str], ...]:
        """The rule ids the packs' classes give, each with the key that names it (the
        loader refuses one that a layer or remedy rule has too)."""
        found: list[tuple[str, str]] = []
        for pack in self.packs:
            if isinstance(pack, LadderPack):
                for i, klass in enumerate(pack.classes):
                    found.append((klass.rule_id, f"regulation.{pack.id}.classes[{i}].rule"))
        return tuple(found)

    def pack(self, pack_id: str) -> Pack:
        """The pack with this id."""
        for pack in self.packs:
            if pack.id == pack_id:
                return pack
        msg = f"no regulation pack {quote(pack_id)}"
        raise InputError(
            [
                FieldProblem(
                    "pack", msg, suggestion=did_you_mean(pack_id, [p.id for p in self.packs])
                )
            ]
        )

    def fields(self, products: Iterable[str] = STANDARD_PRODUCTS) -> dict[str, FieldSpec]:
        """The fact fields the packs add, for conditions to read; a field is optional
        when some product of ``products`` (the policy's catalogue) has no pack for it."""
        out: dict[str, FieldSpec] = {}
        all_products = set(map(str, products))
        for fact, packs in _by_fact(self.packs).items():
            covered: set[str] = set()
            for pack in packs:
                covered |= {p for p in all_products if _covers(pack, p)}
            optional = covered != all_products
            first = packs[0]
            if isinstance(first, ReagePack):
                out[fact] = FieldSpec(
                    fact,
                    FieldType.ENUM,
                    f"{first.id}: whether the account may be re-aged",
                    optional=optional,
                    choices=first.values,
                )
                if first.reason_fact is not None:
                    doc = f"{first.id}: why the account may or may not be re-aged"
                    out[first.reason_fact] = FieldSpec(
                        first.reason_fact, FieldType.STR, doc, optional=optional
                    )
                continue
            if isinstance(first, MaterialityPack):
                out[fact] = FieldSpec(
                    fact, FieldType.BOOL, f"{first.id}: in default", optional=optional
                )
                continue
            ids = ", ".join(p.id for p in packs)
            out[fact] = FieldSpec(
                fact,
                FieldType.ENUM,
                f"class given by {ids}",
                optional=optional,
                choices=first.values,
            )
        for pack in self.packs:
            if isinstance(pack, LadderPack):
                for name, value in pack.flags.items():
                    covered = {p for p in all_products if _covers(pack, p)}
                    doc = f"{pack.id}: the class is {value} or worse"
                    spec = out.get(name)
                    optional = covered != all_products and (spec is None or spec.optional)
                    out[name] = FieldSpec(name, FieldType.BOOL, doc, optional=optional)
        return out

    def currencies(self) -> frozenset[str] | None:
        """The currencies a case may be in: those every materiality pack has an
        absolute threshold for (a case in another is an error), or None when no pack
        limits them."""
        out: frozenset[str] | None = None
        for pack in self.packs:
            if isinstance(pack, MaterialityPack):
                known = frozenset(pack.absolute)
                out = known if out is None else out & known
        return out

    @exact
    def assess(
        self, case: Case, dpd: int, as_of: dt.datetime | None = None
    ) -> tuple[Assessment, ...]:
        """Every applicable pack's assessment, in the policy's order. The materiality
        packs are assessed first, for the ladder classes linked ``in_default`` of them;
        ``as_of`` lets a materiality pack with a probation read the case's payments."""
        packs = [p for p in self.packs if p.applies_to(case)]
        defaults = {
            p.id: p.assess(case, dpd, as_of) for p in packs if isinstance(p, MaterialityPack)
        }
        return tuple(
            defaults[p.id]
            if isinstance(p, MaterialityPack)
            else p.assess(case, dpd, as_of)
            if isinstance(p, ReagePack)
            else p.assess(case, dpd, defaults, as_of)
            for p in packs
        )

    def facts(self, assessments: Sequence[Assessment]) -> dict[str, Scalar]:
        """The facts of the assessments; packs sharing a fact give the worse class."""
        out: dict[str, Scalar] = {}
        worst: dict[str, int] = {}
        for a in assessments:
            for name, value in a.facts.items():
                if name == a.fact:
                    if name not in worst or a.rank > worst[name]:
                        worst[name] = a.rank
                        out[name] = value
                elif isinstance(value, bool):
                    out[name] = bool(out.get(name, False)) or value
                else:  # a reage pack's reason: one pack gives it
                    out[name] = value
        return out


def _covers(pack: Pack, product: str) -> bool:
    if pack.products and product not in pack.products:
        return False
    if isinstance(pack, LadderPack) and pack.product_types:
        return product in pack.product_types
    return True


def _by_fact(packs: Sequence[Pack]) -> dict[str, list[Pack]]:
    out: dict[str, list[Pack]] = {}
    for pack in packs:
        out.setdefault(pack.fact, []).append(pack)
    return out


# --------------------------------------------------------------------------- parsing

#: The keys of a ``dpd_ladder`` pack.
LADDER_KEYS: tuple[str, ...] = (
    "kind",
    "title",
    "fact",
    "classes",
    "products",
    "product_types",
    "flags",
    "upgrade_from",
    "upgrade_months",
    "upgrade_cites",
    "restructured_class",
    "restructured_months",
    "restructured_cites",
    "restructured_npl_class",
    "cross_class",
    "cross_npl_share",
    "cross_all_banks_share",
    "cross_cites",
    "cites",
    "doc",
    "enabled",
)
#: The keys of a class of a ``dpd_ladder`` pack.
LADDER_CLASS_KEYS = (
    "value",
    "label_en",
    "label_zh",
    "rule",
    "reason",
    "cites",
    "over_dpd",
    "from_dpd",
    "rebuttable_by",
    "in_default",
)
#: The keys of a class's ``in_default`` table.
IN_DEFAULT_KEYS = ("pack", "rule", "reason")
#: The longest probation a ``materiality_default`` pack takes, in months (ten years).
MAX_PROBATION_MONTHS = 120
#: The keys of a ``materiality_default`` pack.
MATERIALITY_KEYS: tuple[str, ...] = (
    "kind",
    "title",
    "fact",
    "over_dpd",
    "absolute",
    "relative",
    "probation_months",
    "probation_cites",
    "restructuring_months",
    "restructuring_cites",
    "products",
    "labels",
    "cites",
    "doc",
    "enabled",
)


def parse_section(
    raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[RegulationSection, dict[str, FieldSpec]]:
    """Parse ``[regulation]``: one table per pack, keyed by the pack's id."""

    reader = PackReader(loader, params)
    packs: list[Pack] = []
    rule_ids: set[str] = set()
    for pack_id, body, path in reader.enabled_tables(raw, "regulation"):
        kind_text = body.get("kind")
        try:
            kind = PackKind(kind_text if isinstance(kind_text, str) else "")
        except ValueError:
            choices = [k.value for k in PackKind]
            reader.fail(
                f"{path}.kind",
                f"expected one of {', '.join(choices)}, got {quote(kind_text)}",
                suggestion=did_you_mean(str(kind_text), choices),
            )
            continue
        pack: Pack | None
        if kind is PackKind.DPD_LADDER:
            pack = _parse_ladder(pack_id, body, path, reader, rule_ids)
        elif kind is PackKind.REAGE:
            pack = _parse_reage(pack_id, body, path, reader)
        else:
            pack = _parse_materiality(pack_id, body, path, reader)
        if pack is not None:
            packs.append(pack)
    _check_links(raw, packs, reader)
    base = base_fields()
    for fact, group in _by_fact(packs).items():
        if fact in base:
            reader.fail(
                f"regulation.{group[0].id}.fact",
                f"{quote(fact)} is already a fact field of every case",
            )
        kinds = {p.kind for p in group}
        if len(kinds) > 1 or (not isinstance(group[0], LadderPack) and len(group) > 1):
            ids = ", ".join(p.id for p in group)
            reader.fail(
                f"regulation.{group[-1].id}.fact",
                f"packs {ids} all give {quote(fact)}; only ladder packs with the same "
                "classes may share a fact",
            )
            continue
        values = {p.values for p in group if isinstance(p, LadderPack)}
        if len(values) > 1:
            ids = ", ".join(p.id for p in group)
            reader.fail(
                f"regulation.{group[-1].id}.classes",
                f"packs {ids} share the fact {quote(fact)}, so they must list the same "
                "classes in the same order",
            )
    section = RegulationSection(tuple(packs), frozenset(reader.used))
    fields = section.fields(reader.products)
    flag_names = {n for p in packs if isinstance(p, LadderPack) for n in p.flags}
    for name in sorted(flag_names & ({p.fact for p in packs} | set(base))):
        reader.fail("regulation", f"the flag {quote(name)} has the name of another fact field")
    taken = {p.fact for p in packs} | flag_names | set(base)
    for pack in packs:
        if isinstance(pack, ReagePack) and pack.reason_fact in taken:
            reader.fail(
                f"regulation.{pack.id}.reason_fact",
                f"{quote(pack.reason_fact)} has the name of another fact field",
            )
    return section, fields


def _products(reader: PackReader, body: Mapping[str, Any], path: str) -> tuple[str, ...]:
    return reader.choices(body, "products", path, [str(p) for p in reader.products], default=())


def _parse_ladder(
    pack_id: str, body: Mapping[str, Any], path: str, reader: PackReader, rule_ids: set[str]
) -> LadderPack | None:
    mark = reader.failures
    reader.keys(body, LADDER_KEYS, path)
    title = reader.string(body, "title", path, default=pack_id)
    fact = reader.name(body, "fact", path)
    products = _products(reader, body, path)
    product_types: dict[str, str] = {}
    raw_types = body.get("product_types", {})
    types_table = reader.table(raw_types, f"{path}.product_types") or {}
    known_products = [str(p) for p in reader.products]
    for product, ptype in types_table.items():
        if product not in known_products:
            reader.fail(
                f"{path}.product_types.{product}",
                "unknown product",
                suggestion=did_you_mean(product, known_products),
            )
        elif not isinstance(ptype, str) or not ptype:
            reader.fail(f"{path}.product_types.{product}", "expected a product type name")
        else:
            product_types[product] = ptype
    types = sorted(set(product_types.values()))
    classes: list[LadderClass] = []
    raw_classes = body.get("classes")
    if not isinstance(raw_classes, list) or len(raw_classes) < 2:
        reader.fail(f"{path}.classes", "expected at least two classes: [[...classes]], best first")
        raw_classes = raw_classes if isinstance(raw_classes, list) else []
    seen_values: set[str] = set()
    for i, item in enumerate(raw_classes):
        cpath = f"{path}.classes[{i}]"
        ctable = reader.table(item, cpath)
        if ctable is None:
            continue
        rule_id = reader.string(ctable, "rule", cpath)
        _refuse_empty(reader, ctable, ("rule",), cpath)
        reader.keys(ctable, LADDER_CLASS_KEYS, cpath, rule_id=rule_id or None)
        if rule_id:
            if rule_id in rule_ids:
                reader.fail(f"{cpath}.rule", f"duplicate rule id {quote(rule_id)}", key="rule")
            rule_ids.add(rule_id)
        value = reader.name(ctable, "value", cpath)
        if value in seen_values:
            reader.fail(f"{cpath}.value", f"duplicate class {quote(value)}")
        seen_values.add(value)
        thresholds: dict[str, Threshold] = {}
        given = [k for k in ("over_dpd", "from_dpd") if k in ctable]
        if i == 0 and given:
            reader.fail(
                f"{cpath}.{given[0]}",
                "the first class is the base class: it has no threshold",
                rule_id=rule_id or None,
            )
        elif i > 0 and len(given) != 1:
            reader.fail(
                cpath,
                "give exactly one of over_dpd (dpd > figure) or from_dpd (dpd >= figure)",
                rule_id=rule_id or None,
            )
        elif i > 0:
            key = given[0]
            thresholds = _thresholds(
                reader, ctable[key], f"{cpath}.{key}", key == "over_dpd", types, rule_id or None
            )
        rebut = ctable.get("rebuttable_by")
        if "rebuttable_by" in ctable and rebut not in REBUTTAL_FIELDS:
            reader.fail(
                f"{cpath}.rebuttable_by",
                f"expected one of {', '.join(REBUTTAL_FIELDS)}, got {quote(rebut)}",
                rule_id=rule_id or None,
                key="rebuttable_by",
                suggestion=did_you_mean(str(rebut), REBUTTAL_FIELDS),
            )
            rebut = None
        link = _in_default(reader, ctable, cpath, rule_ids, rule_id or None)
        if i == 0 and link is not None:
            reader.fail(
                f"{cpath}.in_default",
                "the first class is the base class: no case is moved into it",
                rule_id=rule_id or None,
            )
        classes.append(
            LadderClass(
                value=value,
                label_en=reader.string(ctable, "label_en", cpath, default=value.replace("_", " ")),
                label_zh=reader.string(ctable, "label_zh", cpath, default=""),
                rule_id=rule_id,
                reason=reader.string(ctable, "reason", cpath, default=""),
                cites=reader.texts(ctable, "cites", cpath),
                thresholds=thresholds,
                rebuttable_by=rebut,
                in_default=link,
            )
        )
    for ptype in types or [_ANY_TYPE]:
        previous: LadderClass | None = None
        for klass in classes[1:]:
            threshold = klass.threshold_for(ptype)
            prior = previous.threshold_for(ptype) if previous is not None else None
            if (
                threshold is not None
                and previous is not None
                and prior is not None
                and (threshold.first_dpd <= prior.first_dpd)
            ):
                which = "" if ptype == _ANY_TYPE else f" for {ptype}"
                reader.fail(
                    f"{path}.classes",
                    f"class {quote(klass.value)} begins at dpd "
                    f"{threshold.first_dpd}{which}, not after {quote(previous.value)} "
                    f"(dpd {prior.first_dpd}); list classes best first, with "
                    "increasing thresholds",
                )
            if threshold is not None:
                previous = klass
    flags: dict[str, str] = {}
    raw_flags = reader.table(body.get("flags", {}), f"{path}.flags") or {}
    for name, value in raw_flags.items():
        if not isinstance(value, str) or value not in seen_values:
            reader.fail(
                f"{path}.flags.{name}",
                f"expected one of the classes, got {quote(value)}",
                suggestion=did_you_mean(str(value), sorted(seen_values)),
            )
        elif not PARAM_NAME.match(name):
            reader.fail(f"{path}.flags.{name}", "a flag name must be snake_case")
        else:
            flags[name] = value
    upgrade_from, upgrade_months, upgrade_cites = _hold_keys(
        reader, body, path, classes, "upgrade_from", "upgrade", "an upgrade rule"
    )
    restructured_class, restructured_months, restructured_cites = _hold_keys(
        reader, body, path, classes, "restructured_class", "restructured", "a restructuring hold"
    )
    restructured_npl_class = _restructured_npl(reader, body, path, classes, restructured_class)
    cross_class, cross_npl, cross_all, cross_cites = _cross_keys(reader, body, path, classes)
    if reader.failures > mark:
        return None
    return LadderPack(
        id=pack_id,
        title=title,
        fact=fact,
        classes=tuple(classes),
        products=products,
        product_types=product_types,
        flags=flags,
        cites=reader.texts(body, "cites", path),
        doc=reader.string(body, "doc", path, default=""),
        upgrade_from=upgrade_from,
        upgrade_months=upgrade_months,
        upgrade_cites=upgrade_cites,
        restructured_class=restructured_class,
        restructured_months=restructured_months,
        restructured_cites=restructured_cites,
        restructured_npl_class=restructured_npl_class,
        cross_class=cross_class,
        cross_npl_share=cross_npl,
        cross_all_banks_share=cross_all,
        cross_cites=cross_cites,
    )


def _cross_keys(
    reader: PackReader, body: Mapping[str, Any], path: str, classes: Sequence[LadderClass]
) -> tuple[str | None, Figure | None, Figure | None, tuple[str, ...]]:
    """A ladder's cross-default floor: ``cross_class`` (a class after the first) with one
    or both of ``cross_npl_share`` and ``cross_all_banks_share`` (shares from 0 to 1,
    literals or parameters), and ``cross_cites``; or none of them."""
    shares = [key for key in ("cross_npl_share", "cross_all_banks_share") if key in body]
    cites = reader.texts(body, "cross_cites", path)
    if "cross_class" not in body:
        for key in shares:
            reader.fail(f"{path}.{key}", "give cross_class with it", key=key)
        if cites:
            reader.fail(
                f"{path}.cross_cites",
                "cites a cross-default floor, but the pack has no cross_class",
                key="cross_cites",
            )
        return None, None, None, ()
    if not shares:
        reader.fail(
            f"{path}.cross_class",
            "give cross_npl_share or cross_all_banks_share (or both) with it",
            key="cross_class",
        )
        return None, None, None, ()
    values = [c.value for c in classes]
    raw = body["cross_class"]
    if not isinstance(raw, str) or raw not in values[1:]:
        reader.fail(
            f"{path}.cross_class",
            "expected one of the classes after the first, got " + quote(raw),
            key="cross_class",
            suggestion=did_you_mean(str(raw), values[1:]),
        )
        return None, None, None, ()
    figures = {
        key: reader.figure(body[key], f"{path}.{key}", kind="number", minimum=0, maximum=1)
        for key in shares
    }
    return raw, figures.get("cross_npl_share"), figures.get("cross_all_banks_share"), cites


def _restructured_npl(
    reader: PackReader,
    body: Mapping[str, Any],
    path: str,
    classes: Sequence[LadderClass],
    restructured_class: str | None,
) -> str | None:
    """A ladder's ``restructured_npl_class``: only with a restructuring hold, and a class
    worse than its ``restructured_class``."""
    key = "restructured_npl_class"
    if key not in body:
        return None
    if restructured_class is None:
        if all(k in body for k in ("restructured_class", "restructured_months")):
            return None  # the hold's own keys are wrong, and said so
        reader.fail(
            f"{path}.{key}",
            "gives the class of a debt non-performing before its restructuring, but the "
            "pack has no restructured_class and restructured_months",
            key=key,
        )
        return None
    values = [c.value for c in classes]
    worse = values[values.index(restructured_class) + 1 :]
    raw = body[key]
    if not isinstance(raw, str) or raw not in worse:
        reader.fail(
            f"{path}.{key}",
            f"expected a class worse than restructured_class {quote(restructured_class)} "
            f"({', '.join(quote(v) for v in worse) or 'there is none'}), got {quote(raw)}",
            key=key,
            suggestion=did_you_mean(str(raw), worse),
        )
        return None
    return raw


def _hold_keys(
    reader: PackReader,
    body: Mapping[str, Any],
    path: str,
    classes: Sequence[LadderClass],
    class_key: str,
    prefix: str,
    what: str,
) -> tuple[str | None, Figure | None, tuple[str, ...]]:
    """A ladder hold's class ``class_key`` (``upgrade_from``, ``restructured_class``),
    ``<prefix>_months`` and ``<prefix>_cites``: the first two together or neither, the
    class one of the pack's but its first."""
    months_key, cites_key = f"{prefix}_months", f"{prefix}_cites"
    given = [key for key in (class_key, months_key) if key in body]
    cites = reader.texts(body, cites_key, path)
    if len(given) == 1:
        other = months_key if given[0] == class_key else class_key
        reader.fail(f"{path}.{given[0]}", f"give {other} with it, or neither", key=given[0])
    if cites and len(given) < 2:
        reader.fail(
            f"{path}.{cites_key}",
            f"cites {what}, but the pack has no {class_key} and {months_key}",
            key=cites_key,
        )
    if len(given) < 2:
        return None, None, ()
    values = [c.value for c in classes]
    raw = body[class_key]
    if not isinstance(raw, str) or raw not in values[1:]:
        reader.fail(
            f"{path}.{class_key}",
            "expected one of the classes after the first, got " + quote(raw),
            key=class_key,
            suggestion=did_you_mean(str(raw), values[1:]),
        )
        return None, None, ()
    return raw, _months(reader, body, months_key, path), cites


def _probation_keys(
    reader: PackReader, body: Mapping[str, Any], path: str, prefix: str, what: str
) -> tuple[Figure | None, tuple[str, ...]]:
    """A probation's ``<prefix>_months`` (None when not given) and ``<prefix>_cites``,
    which need the months."""
    months = f"{prefix}_months"
    figure = _months(reader, body, months, path) if months in body else None
    cites = reader.texts(body, f"{prefix}_cites", path)
    if cites and months not in body:
        reader.fail(f"{path}.{prefix}_cites", f"cites {what}, but the pack has no {months}")
    return figure, cites


def _months(reader: PackReader, body: Mapping[str, Any], key: str, path: str) -> Figure | None:
    """A pack's count of months ``key`` (a probation, an upgrade): 1 to
    :data:`MAX_PROBATION_MONTHS`, a literal or a parameter."""
    return reader.figure(
        body[key], f"{path}.{key}", kind="int", minimum=1, maximum=MAX_PROBATION_MONTHS
    )


def _refuse_empty(
    reader: PackReader,
    table: Mapping[str, Any],
    keys: tuple[str, ...],
    path: str,
    rule_id: str | None = None,
) -> None:
    """An empty text where a class names a rule or a pack is refused (it names nothing,
    and the class would be read without it)."""
    for key in keys:
        if table.get(key) == "":
            what = "a pack's id" if key == "pack" else "a rule id"
            reader.fail(
                f"{path}.{key}", f"expected {what}, got an empty text", rule_id=rule_id, key=key
            )


def _in_default(
    reader: PackReader,
    ctable: Mapping[str, Any],
    cpath: str,
    rule_ids: set[str],
    rule_id: str | None,
) -> DefaultLink | None:
    """A class's ``in_default = { pack, rule, reason }``; the pack is checked once every
    pack is read (:func:`_check_links`)."""
    if "in_default" not in ctable:
        return None
    path = f"{cpath}.in_default"
    table = reader.table(ctable["in_default"], path)
    if table is None:
        return None
    reader.keys(table, IN_DEFAULT_KEYS, path, rule_id=rule_id)
    pack = reader.string(table, "pack", path, rule_id=rule_id)
    rule = reader.string(table, "rule", path, rule_id=rule_id)
    reason = reader.string(table, "reason", path, default="", rule_id=rule_id)
    _refuse_empty(reader, table, ("pack", "rule"), path, rule_id=rule_id)
    if rule:
        if rule in rule_ids:
            reader.fail(f"{path}.rule", f"duplicate rule id {quote(rule)}", key="rule")
        rule_ids.add(rule)
    if not pack or not rule:
        return None
    return DefaultLink(pack=pack, rule_id=rule, reason=reason)


def _check_links(raw: Any, packs: Sequence[Pack], reader: PackReader) -> None:
    """Each ``in_default`` names a ``materiality_default`` pack of the section. A pack
    switched off (``enabled = false``) is allowed: the link then never holds."""
    present = {p.id: p for p in packs}
    declared = [str(k) for k in raw] if isinstance(raw, Mapping) else []
    for pack in packs:
        if not isinstance(pack, LadderPack):
            continue
        for i, klass in enumerate(pack.classes):
            link = klass.in_default
            if link is None:
                continue
            path = f"regulation.{pack.id}.classes[{i}].in_default.pack"
            target = present.get(link.pack)
            if target is None and link.pack not in declared:
                reader.fail(
                    path,
                    f"no regulation pack {quote(link.pack)}",
                    rule_id=klass.rule_id or None,
                    key="pack",
                    suggestion=did_you_mean(
                        link.pack, [p.id for p in packs if isinstance(p, MaterialityPack)]
                    ),
                )
            elif target is not None and not isinstance(target, MaterialityPack):
                reader.fail(
                    path,
                    f"pack {quote(link.pack)} is a {target.kind.value} pack; expected a "
                    f"{PackKind.MATERIALITY_DEFAULT.value} pack",
                    rule_id=klass.rule_id or None,
                    key="pack",
                )


def _thresholds(
    reader: PackReader,
    raw: object,
    path: str,
    strict: bool,
    types: Sequence[str],
    rule_id: str | None,
) -> dict[str, Threshold]:
    out: dict[str, Threshold] = {}
    if isinstance(raw, Mapping):
        if not types:
            reader.fail(
                path, "a threshold by product type needs the pack's product_types", rule_id=rule_id
            )
            return out
        for ptype in types:
            if ptype not in raw:
                reader.fail(
                    f"{path}.{ptype}", f"missing the threshold for {ptype}", rule_id=rule_id
                )
        for ptype, value in raw.items():
            if ptype not in types:
                reader.fail(
                    f"{path}.{ptype}",
                    "unknown product type",
                    suggestion=did_you_mean(str(ptype), types),
                    rule_id=rule_id,
                )
                continue
            figure = reader.figure(value, f"{path}.{ptype}", kind="int", minimum=0, rule_id=rule_id)
            if figure is not None:
                out[ptype] = Threshold(figure, strict)
        return out
    figure = reader.figure(raw, path, kind="int", minimum=0, rule_id=rule_id)
    if figure is not None:
        out[_ANY_TYPE] = Threshold(figure, strict)
    return out


#: The keys of a ``reage`` pack.
REAGE_KEYS: tuple[str, ...] = (
    "kind",
    "title",
    "fact",
    "reason_fact",
    "min_account_months",
    "min_payments",
    "interval_months",
    "window_months",
    "max_in_window",
    "products",
    "cites",
    "doc",
    "enabled",
)


def _parse_reage(
    pack_id: str, body: Mapping[str, Any], path: str, reader: PackReader
) -> ReagePack | None:
    mark = reader.failures
    reader.keys(body, REAGE_KEYS, path)
    title = reader.string(body, "title", path, default=pack_id)
    fact = reader.name(body, "fact", path)
    reason_fact = reader.name(body, "reason_fact", path) if "reason_fact" in body else None
    products = _products(reader, body, path)
    figures: dict[str, Figure | None] = {}
    for key, minimum in (
        ("min_account_months", 0),
        ("min_payments", 0),
        ("interval_months", 1),
        ("window_months", 1),
        ("max_in_window", 1),
    ):
        figures[key] = reader.figure(
            body.get(key), f"{path}.{key}", kind="int", minimum=minimum, maximum=_MAX_REAGE_FIGURE
        )
    if reader.failures > mark or any(f is None for f in figures.values()):
        return None
    return ReagePack(
        id=pack_id,
        title=title,
        fact=fact,
        reason_fact=reason_fact,
        products=products,
        cites=reader.texts(body, "cites", path),
        doc=reader.string(body, "doc", path, default=""),
        **{k: f for k, f in figures.items() if f is not None},
    )


#: The largest figure of a ``reage`` pack: ten years of months or payments.
_MAX_REAGE_FIGURE = 120


def _parse_materiality(
    pack_id: str, body: Mapping[str, Any], path: str, reader: PackReader
) -> MaterialityPack | None:
    mark = reader.failures
    reader.keys(body, MATERIALITY_KEYS, path)
    title = reader.string(body, "title", path, default=pack_id)
    fact = reader.name(body, "fact", path)
    products = _products(reader, body, path)
    over = reader.figure(body.get("over_dpd"), f"{path}.over_dpd", kind="int", minimum=0)
    relative = reader.figure(
        body.get("relative"), f"{path}.relative", kind="number", minimum=0, maximum=1
    )
    absolute: dict[str, Figure] = {}
    table = reader.table(body.get("absolute"), f"{path}.absolute") or {}
    if not table and "absolute" in body:
        reader.fail(f"{path}.absolute", "give at least one currency's threshold")
    for currency, value in table.items():
        if not (len(currency) == 3 and all("A" <= c <= "Z" for c in currency)):
            reader.fail(f"{path}.absolute.{currency}", "expected an ISO 4217 code such as 'EUR'")
            continue
        figure = reader.figure(value, f"{path}.absolute.{currency}", kind="number", minimum=0)
        if figure is not None:
            absolute[currency] = figure
    labels: dict[str, tuple[str, str]] = {}
    for value, label in (reader.table(body.get("labels", {}), f"{path}.labels") or {}).items():
        if (
            value not in MaterialityPack.values
            or not isinstance(label, list)
            or len(label) != 2
            or not all(isinstance(text, str) for text in label)
        ):
            reader.fail(
                f"{path}.labels.{value}",
                "expected 'default' or 'not_default' mapped to [english, chinese]",
            )
            continue
        labels[value] = (str(label[0]), str(label[1]))
    probation, probation_cites = _probation_keys(reader, body, path, "probation", "a probation")
    restructuring, restructuring_cites = _probation_keys(
        reader, body, path, "restructuring", "a probation after a restructuring"
    )
    if reader.failures > mark or over is None or relative is None:
        return None
    return MaterialityPack(
        id=pack_id,
        title=title,
        fact=fact,
        over_dpd=over,
        absolute=absolute,
        relative=relative,
        products=products,
        labels=labels,
        cites=reader.texts(body, "cites", path),
        doc=reader.string(body, "doc", path, default=""),
        probation_months=probation,
        probation_cites=probation_cites,
        restructuring_months=restructuring,
        restructuring_cites=restructuring_cites,
    )


# --------------------------------------------------------------------------- use


def regulation_of(policy: Policy) -> RegulationSection | None:
    """The policy's parsed ``[regulation]`` section, if it has one."""
    section = policy.sections.get("regulation")
    return section if isinstance(section, RegulationSection) else None


def _dpd(facts: Mapping[str, Any], case: Case, as_of: pendulum.DateTime) -> int:
    dpd = facts.get("dpd")
    if isinstance(dpd, int) and not isinstance(dpd, bool):
        return dpd

    return days_past_due(case, as_of)


def extra_facts(
    case: Case, as_of: pendulum.DateTime, policy: Policy, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The class facts (``cn5_class``, ``eu_default`` …) of ``case`` at ``as_of``."""
    section = regulation_of(policy)
    if section is None:
        return {}
    return section.facts(section.assess(case, _dpd(facts, case, as_of), as_of))


def classify(
    case: Case, facts: Mapping[str, Any], as_of: pendulum.DateTime, policy: Policy
) -> tuple[RegulatoryClass, ...]:
    """The decision's regulatory classes of ``case``, one per applicable pack."""
    section = regulation_of(policy)
    if section is None:
        return ()
    return tuple(a.to_class() for a in section.assess(case, _dpd(facts, case, as_of), as_of))


def firing(result: RegulatoryClass) -> Firing:
    """The trace entry of one regulatory class."""
    outcome = f"{result.pack}: {result.fact or 'class'} = {result.value}"
    if result.next_on is not None:
        outcome += f"; {result.next_value} from {result.next_on}"
    reason = "; ".join(part for part in (result.reason, *result.notes) if part)
    return Firing(result.rule_id, "regulation", outcome, reason, result.cites, "")
