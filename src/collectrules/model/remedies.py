"""The remedies a lender may use on an overdue account: the standard catalogue.

Remedies are an open vocabulary. :class:`Remedy` names the standard catalogue, the one
every policy starts from (``Remedy.LITIGATE`` and friends); a policy may add remedies of
its own in ``[catalogue.remedies]``, each with labels, a :class:`RemedyCategory` and
citations (docs/policy-format.md). Wherever a remedy is held (a rule, a grant, a
decision read back from JSON), it is a ``str``: the :class:`Remedy` member for a
standard remedy (a ``StrEnum``, so it compares and hashes as its name), and the plain
name for a policy's own. :func:`remedy_name` gives that form for any name.

Adding a remedy to the standard catalogue is one change, here: a member of
:class:`Remedy` and its row in ``_STANDARD`` (labels, category, whether it coerces).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from collectrules._arguments import wrong_kind
from collectrules._choice import Choice

__all__ = [
    "CATEGORY_QUADRANTS",
    "CHANNELS",
    "COERCIVE_REMEDIES",
    "REMEDY_CHANNELS",
    "STANDARD_REMEDIES",
    "Remedy",
    "RemedyCategory",
    "RemedySpec",
    "remedy_name",
]


class Remedy(Choice):
    """One remedy of the standard catalogue.

    ``claim_guarantor`` is the lawful demand on a guarantor within the guarantee period
    (CN-GUARANTEE-PERIOD): a claim, not pressure, so it is open to every quadrant while
    the period runs. ``pressure_guarantor`` is pressure on the debtor through the
    guarantor, kept out of Q1 and Q2 (Q12-NO-THREATS). ``preserve_assets`` is the
    court's preservation of assets found (S-SEV: legal deterrence, suit and asset
    preservation).
    """

    REMIND = "remind"
    EXTEND = "extend"
    REPLAN = "replan"
    RESTRUCTURE = "restructure"
    REFINANCE = "refinance"
    DISPOSE_ASSETS = "dispose_assets"
    NEGOTIATE = "negotiate"
    PRESSURE_GUARANTOR = "pressure_guarantor"
    CLAIM_GUARANTOR = "claim_guarantor"
    PRESSURE_THIRD_PARTY = "pressure_third_party"
    LITIGATE = "litigate"
    INVESTIGATE_ASSETS = "investigate_assets"
    OUTSOURCE = "outsource"
    TRANSFER = "transfer"
    WRITE_OFF = "write_off"
    REDUCE = "reduce"
    INTERNAL_REVIEW = "internal_review"
    GRACE_PERIOD = "grace_period"
    FORBEAR = "forbear"
    VISIT = "visit"
    PRESERVE_ASSETS = "preserve_assets"

    @property
    def label_en(self) -> str:
        """English label."""
        return STANDARD_REMEDIES[self].label_en

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return STANDARD_REMEDIES[self].label_zh

    @property
    def category(self) -> RemedyCategory:
        """The remedy's category."""
        return STANDARD_REMEDIES[self].category

    @property
    def channel(self) -> str:
        """The channel the remedy is carried out through (one of :data:`CHANNELS`)."""
        return REMEDY_CHANNELS[self]


class RemedyCategory(Choice):
    """What kind of remedy it is; for a policy's own remedy, the category also gives
    the quadrant envelopes it belongs to by default (:data:`CATEGORY_QUADRANTS`)."""

    EXTENSION = "extension"
    RESTRUCTURING = "restructuring"
    PRESSURE = "pressure"
    LITIGATION = "litigation"
    OTHER = "other"


#: The quadrants whose envelope admits a policy's own remedy of each category, unless
#: the policy lists the remedy in ``[envelopes]`` or gives it ``envelopes = [...]``:
#: extension as for the grace period and the extension (Q1, Q2), restructuring as for
#: a plan change (Q2), pressure and litigation as for Q3 and Q4, other everywhere.
CATEGORY_QUADRANTS: Mapping[RemedyCategory, tuple[str, ...]] = {
    RemedyCategory.EXTENSION: ("Q1", "Q2"),
    RemedyCategory.RESTRUCTURING: ("Q2",),
    RemedyCategory.PRESSURE: ("Q3", "Q4"),
    RemedyCategory.LITIGATION: ("Q3", "Q4"),
    RemedyCategory.OTHER: ("Q1", "Q2", "Q3", "Q4"),
}


@attrs.frozen
class RemedySpec:
    """One remedy of a catalogue: its name, labels, category and citations.

    ``coercive`` marks a remedy that puts pressure on the debtor: the testing kit's
    severity invariants order decisions by it. ``standard`` is true for the remedies of
    :class:`Remedy`; ``envelopes`` (a policy's own remedy only) names the quadrants
    whose envelope admits it, when the policy says so instead of its category.
    """

    name: str
    label_en: str
    label_zh: str
    category: RemedyCategory
    cites: tuple[str, ...] = ()
    coercive: bool = False
    standard: bool = False
    envelopes: tuple[str, ...] | None = None


_E, _R, _P, _L, _O = (
    RemedyCategory.EXTENSION,
    RemedyCategory.RESTRUCTURING,
    RemedyCategory.PRESSURE,
    RemedyCategory.LITIGATION,
    RemedyCategory.OTHER,
)

# One row per standard remedy: English and Chinese labels, category, coercive.
_STANDARD: dict[Remedy, tuple[str, str, RemedyCategory, bool]] = {
    Remedy.REMIND: ("remind", "提醒", _O, False),
    Remedy.EXTEND: ("extension", "展期", _E, False),
    Remedy.REPLAN: ("repayment-plan change", "调整还款计划", _R, False),
    Remedy.RESTRUCTURE: ("restructuring", "债务重组", _R, False),
    Remedy.REFINANCE: ("refinancing help", "协助融资", _R, False),
    Remedy.DISPOSE_ASSETS: ("asset disposal", "处置财产", _R, False),
    Remedy.NEGOTIATE: ("negotiation", "协商", _O, False),
    Remedy.PRESSURE_GUARANTOR: ("pressure through guarantors", "向担保人施压", _P, True),
    Remedy.CLAIM_GUARANTOR: ("claim against the guarantor", "向保证人主张保证责任", _O, False),
    Remedy.PRESSURE_THIRD_PARTY: ("pressure through third parties", "通过第三方施压", _P, True),
    Remedy.LITIGATE: ("litigation", "诉讼", _L, True),
    Remedy.INVESTIGATE_ASSETS: ("asset investigation", "调查财产线索", _P, True),
    Remedy.OUTSOURCE: ("outsourcing", "委外催收", _P, True),
    Remedy.TRANSFER: ("transfer of the loan", "转让", _P, True),
    Remedy.WRITE_OFF: ("write-off", "核销", _O, True),
    Remedy.REDUCE: ("reduction", "减免", _R, False),
    Remedy.INTERNAL_REVIEW: ("internal review", "内部审查", _O, False),
    Remedy.GRACE_PERIOD: ("grace period", "宽限期", _E, False),
    Remedy.FORBEAR: ("forbearance", "宽容措施", _E, False),
    Remedy.VISIT: ("collection visit", "上门催收", _O, False),
    Remedy.PRESERVE_ASSETS: ("asset preservation", "财产保全", _L, True),
}
if set(_STANDARD) != set(Remedy):  # pragma: no cover - a guard for whoever adds one
    missing = ", ".join(sorted(set(Remedy) - set(_STANDARD)))
    raise RuntimeError(f"standard remedies without a catalogue row: {missing}")

#: The standard catalogue, in the order of :class:`Remedy`: every policy has it.
STANDARD_REMEDIES: Mapping[str, RemedySpec] = {
    remedy: RemedySpec(remedy, *_STANDARD[remedy][:3], coercive=_STANDARD[remedy][3], standard=True)
    for remedy in Remedy
}

#: Remedies that put pressure on the debtor; policy invariants order them by severity.
COERCIVE_REMEDIES: frozenset[Remedy] = frozenset(r for r in Remedy if _STANDARD[r][3])

_BY_NAME: Mapping[str, Remedy] = {r.value: r for r in Remedy}


def remedy_name(name: str) -> str:
    """``name`` as remedies are held: the :class:`Remedy` member for a standard one,
    the plain string for any other (a policy's own remedy). A value that cannot be a
    name (a list, a dict) is an :class:`~collectrules.errors.InputError`."""
    try:
        return _BY_NAME.get(name, name)
    except TypeError:  # unhashable: no dictionary lookup of it is possible
        raise wrong_kind("remedy", name, "a remedy's name") from None


#: The channels of DOMAIN.md §8 (CH-*), and ``internal`` for what the lender does
#: within its own walls (a review, a write-off, a transfer): how a step or remedy is
#: carried out.
CHANNELS: tuple[str, ...] = (
    "phone", "sms", "letter", "email", "visit", "lawyer_letter", "court", "internal",
)  # fmt: skip

#: The channel of each remedy. Written agreements (an extension, a new plan, a
#: reduction) are confirmed by letter, in writing signed by both sides (§11); a suit and
#: asset preservation go through the court (CH-LAW); asking the sources of §9 and
#: handing a case on are the lender's own work.
REMEDY_CHANNELS: dict[Remedy, str] = {
    Remedy.REMIND: "phone",
    Remedy.EXTEND: "letter",
    Remedy.REPLAN: "letter",
    Remedy.RESTRUCTURE: "letter",
    Remedy.REFINANCE: "internal",
    Remedy.DISPOSE_ASSETS: "letter",
    Remedy.NEGOTIATE: "phone",
    Remedy.PRESSURE_GUARANTOR: "phone",
    Remedy.CLAIM_GUARANTOR: "lawyer_letter",
    Remedy.PRESSURE_THIRD_PARTY: "phone",
    Remedy.LITIGATE: "court",
    Remedy.INVESTIGATE_ASSETS: "internal",
    Remedy.OUTSOURCE: "internal",
    Remedy.TRANSFER: "internal",
    Remedy.WRITE_OFF: "internal",
    Remedy.REDUCE: "letter",
    Remedy.INTERNAL_REVIEW: "internal",
    Remedy.GRACE_PERIOD: "letter",
    Remedy.FORBEAR: "letter",
    Remedy.VISIT: "visit",
    Remedy.PRESERVE_ASSETS: "court",
}
