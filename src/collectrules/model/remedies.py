"""The remedies a lender may use on an overdue account, with bilingual labels."""

from __future__ import annotations

import enum

__all__ = ["CHANNELS", "COERCIVE_REMEDIES", "REMEDY_CHANNELS", "Remedy"]


class Remedy(enum.StrEnum):
    """One thing the lender may do about an overdue account.

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
        return _LABELS[self][0]

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return _LABELS[self][1]

    @property
    def channel(self) -> str:
        """The channel the remedy is carried out through (one of :data:`CHANNELS`)."""
        return REMEDY_CHANNELS[self]


_LABELS: dict[Remedy, tuple[str, str]] = {
    Remedy.REMIND: ("remind", "提醒"),
    Remedy.EXTEND: ("extension", "展期"),
    Remedy.REPLAN: ("repayment-plan change", "调整还款计划"),
    Remedy.RESTRUCTURE: ("restructuring", "债务重组"),
    Remedy.REFINANCE: ("refinancing help", "协助融资"),
    Remedy.DISPOSE_ASSETS: ("asset disposal", "处置财产"),
    Remedy.NEGOTIATE: ("negotiation", "协商"),
    Remedy.PRESSURE_GUARANTOR: ("pressure through guarantors", "向担保人施压"),
    Remedy.CLAIM_GUARANTOR: ("claim against the guarantor", "向保证人主张保证责任"),
    Remedy.PRESSURE_THIRD_PARTY: ("pressure through third parties", "通过第三方施压"),
    Remedy.LITIGATE: ("litigation", "诉讼"),
    Remedy.INVESTIGATE_ASSETS: ("asset investigation", "调查财产线索"),
    Remedy.OUTSOURCE: ("outsourcing", "委外催收"),
    Remedy.TRANSFER: ("transfer of the loan", "转让"),
    Remedy.WRITE_OFF: ("write-off", "核销"),
    Remedy.REDUCE: ("reduction", "减免"),
    Remedy.INTERNAL_REVIEW: ("internal review", "内部审查"),
    Remedy.GRACE_PERIOD: ("grace period", "宽限期"),
    Remedy.FORBEAR: ("forbearance", "宽容措施"),
    Remedy.VISIT: ("visit", "上门拜访"),
    Remedy.PRESERVE_ASSETS: ("asset preservation", "财产保全"),
}

#: Remedies that put pressure on the debtor; policy invariants order them by severity.
COERCIVE_REMEDIES: frozenset[Remedy] = frozenset(
    {
        Remedy.PRESSURE_GUARANTOR,
        Remedy.PRESSURE_THIRD_PARTY,
        Remedy.LITIGATE,
        Remedy.INVESTIGATE_ASSETS,
        Remedy.OUTSOURCE,
        Remedy.TRANSFER,
        Remedy.WRITE_OFF,
        Remedy.PRESERVE_ASSETS,
    }
)

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
