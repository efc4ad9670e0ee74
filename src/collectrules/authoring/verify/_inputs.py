"""Case inputs that the regulation packs read and no fact shows, and the values the
verifier gives them.

A pack's fact may turn on a case field that no condition reads: a ``reage`` pack reads
the account's opening date and its consecutive minimum payments, a ladder's
cross-default floor reads the debtor's shares, and a ladder's (or a default pack's)
restructuring hold reads a ``restructured`` event. Cases built from dpd and the product
alone never set them, so the values of the fact they alone give would never be
explored. :func:`pack_inputs` gives, for each such input, the values on either side of
the pack's figures, and every combination of them; the verifier probes each and keeps
one per outcome that the conditions tell apart (:meth:`._space._Context.breaks`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pendulum

from collectrules._decimal import exact
from collectrules.authoring.verify._cases import _CASE_INPUTS
from collectrules.compliance.regulatory import (
    LadderPack,
    MaterialityPack,
    ReagePack,
    regulation_of,
)
from collectrules.model.case import SHARE_FIELDS
from collectrules.model.limits import MAX_YEAR, MIN_YEAR
from collectrules.policy import Policy

#: The witness keys of the case inputs :func:`pack_inputs` sets, in the order the
#: verifier names them: a date (ISO text), a count, two shares (decimal text) and a
#: flag for a ``restructured`` event at ``as_of``.
INPUT_FIELDS = (*_CASE_INPUTS, "restructured")


def pack_inputs(policy: Policy, today: dt.date) -> tuple[Mapping[str, Any], ...]:
    """Every combination of the values of the case inputs the policy's packs read, the
    first setting none: each input is missing, or on either side of each figure of a
    pack that reads it.

    * ``opened_on``: the date ``today`` less one month short of a ``reage`` pack's
      ``min_account_months``, and the date that many months before ``today``;
    * ``consecutive_minimum_payments``: one fewer than its ``min_payments``, and that many;
    * ``debtor_npl_share``, ``debtor_90dpd_share_all_banks``: a ladder's ``cross_*``
      figure (not more than it) and a share just over it;
    * ``restructured``: a ``restructured`` event at ``as_of``, for a ladder with a
      restructuring hold or a default pack with a restructuring probation.
    """
    section = regulation_of(policy)
    if section is None:
        return ({},)
    axes: dict[str, list[Any]] = {}

    def add(name: str, *values: Any) -> None:
        kept = axes.setdefault(name, [])
        kept += [v for v in values if v is not None and v not in kept]

    for pack in section.packs:
        if isinstance(pack, ReagePack):
            months = pack.min_account_months.as_int
            add("opened_on", *(_months_before(today, m) for m in (months - 1, months)))
            least = pack.min_payments.as_int
            add("consecutive_minimum_payments", *(n for n in (least - 1, least) if n >= 0))
        elif isinstance(pack, LadderPack):
            if pack.cross_class is not None:
                figures = (pack.cross_npl_share, pack.cross_all_banks_share)
                for name, figure in zip(SHARE_FIELDS, figures, strict=True):
                    if figure is not None:
                        add(name, *_around(figure.as_decimal))
            if pack.restructured_class is not None and pack.restructured_months is not None:
                add("restructured", True)
        elif isinstance(pack, MaterialityPack) and pack.restructuring_months is not None:
            add("restructured", True)
    names = [n for n in INPUT_FIELDS if n in axes]
    out: list[Mapping[str, Any]] = []
    for combo in itertools.product(*([None, *axes[n]] for n in names)):
        out.append({n: v for n, v in zip(names, combo, strict=True) if v is not None})
    return tuple(out)


def _months_before(today: dt.date, months: int) -> str | None:
    """The day ``months`` whole months before ``today`` (ISO text), or None when that
    is after ``today`` or outside the years a case holds."""
    if months < 0:
        return None
    day = pendulum.Date(today.year, today.month, today.day).subtract(months=months)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return dt.date(day.year, day.month, day.day).isoformat()


@exact
def _around(figure: Decimal) -> tuple[str | None, str | None]:
    """A share at ``figure`` (not more than it) and one just over it, within 0 to 1
    (None: no such share)."""
    at = format(figure.normalize(), "f") if 0 <= figure <= 1 else None
    step = Decimal("0.01")
    over = figure + step if figure + step <= 1 else (figure + 1) / 2
    above = format(over.normalize(), "f") if figure < over <= 1 else None
    return at, above
