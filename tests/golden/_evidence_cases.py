"""Write tests/golden/<policy>/golden_evidence.toml: the evidence clauses, case by case.

The expectations below are written from DOMAIN.md, clause by clause; every shipped policy
extends the default one and inherits its evidence model, so each gets the same cases
(the packs add remedies, never lift these). Run ``python tests/golden/_evidence_cases.py``
after changing a case; the files are committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

POLICIES = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
#: The currency and zone of each policy's cases (the EU pack's materiality is in EUR).
MONEY = {
    "us_regf": ("USD", "America/Chicago"),
    "uk": ("GBP", "Europe/London"),
    "ifrs9": ("EUR", "Europe/Berlin"),
}
#: Where a pack differs from the default, the pack's expectation (quadrant, allows,
#: blocks; ``None`` keeps the default's quadrant), and why.
US_NO_ESCALATION = (
    " The US consumer plan has no escalation stage (its timeline is the validation notice"
    " alone), so the phase stays P2 and nothing is presumed before presume_over_dpd days:"
    " still finding out, no legal step."
)
PACK: dict[tuple[str, str], tuple[str | None, list[str], list[str], str]] = {
    ("uk", "q2-first-refused-disposal-stays-q2"): (
        None,
        ["negotiate"],
        ["dispose_assets", "extend", "litigate"],
        " Under UK-NO-PRESSURE, pressure to sell property is blocked.",
    ),
    ("us_regf", "p3-silence-past-escalation-is-presumed-unwilling"): (
        "Q1",
        ["remind", "negotiate"],
        ["litigate", "grace_period"],
        US_NO_ESCALATION,
    ),
    ("us_regf", "receivable-p3-starts-after-a-month"): (
        "Q1",
        ["remind", "negotiate"],
        ["litigate", "grace_period"],
        US_NO_ESCALATION,
    ),
}
AS_OF = "2026-08-20T20:00:00+08:00"
HERE = Path(__file__).parent


def due(dpd: int) -> str:
    """The due date that makes a case ``dpd`` days past due at AS_OF (2026-08-20)."""
    import datetime as dt

    return (dt.date(2026, 8, 20) - dt.timedelta(days=dpd)).isoformat()


def sig(kind: str, at: str, value: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "observed_at": at}
    if value is not None:
        out["value"] = value
    return out


def ev(kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "at": at, **extra}


RECENT = "2026-08-18T10:00:00+08:00"
REACHED = ev("contact_attempt", "2026-08-18T09:00:00+08:00", outcome="reached")

# (id, description, dpd, product, signals, events, quadrant, allows, blocks)
CASES: list[tuple[str, str, int, str, list[Any], list[Any], str | None, list[str], list[str]]] = [
    # ---- P2: unknown willingness means find out (P2, L-24H)
    (
        "p2-unknown-finds-out",
        "P2, day 5, nothing known: willingness unknown means contact and verify; no legal "
        "step, and no grace period, which needs known willingness and ability (P2, L-GRACE).",
        5,
        "loan",
        [],
        [],
        "Q1",
        ["remind", "negotiate"],
        ["litigate", "grace_period"],
    ),
    (
        "p2-last-day-before-escalation-still-finds-out",
        "Day 14 is the loan plan's escalation point itself (L-2W): still P2, no presumption.",
        14,
        "loan",
        [],
        [],
        "Q1",
        ["remind", "negotiate"],
        ["litigate"],
    ),
    # ---- P3: presumed impaired past the escalation point with no contact (L-2W, P3)
    (
        "p3-silence-past-escalation-is-presumed-unwilling",
        "Day 15, never reached, nothing paid or agreed: willingness presumed impaired (L-2W, "
        "P3); ability unknown, so Q3 (negotiate first, then pressure, then sue).",
        15,
        "loan",
        [],
        [],
        "Q3",
        ["negotiate", "litigate"],
        ["grace_period", "extend"],
    ),
    (
        "p3-contact-past-escalation-stays-unknown",
        "Day 15, but the debtor was reached: no presumption; still finding out.",
        15,
        "loan",
        [],
        [REACHED],
        "Q1",
        ["negotiate"],
        ["litigate", "grace_period"],
    ),
    (
        "receivable-p3-starts-after-a-month",
        "A receivable at day 32, never reached: AR-4 (one calendar month after the first "
        "overdue day, 20 July) opened on 20 August, so P3, presumed unwilling.",
        32,
        "receivable",
        [],
        [],
        "Q3",
        ["litigate"],
        ["grace_period"],
    ),
    (
        "receivable-day-31-of-a-31-day-month-is-still-p2",
        "A receivable at day 31 whose first overdue day is 21 July: AR-4's calendar month "
        "ends on 21 August, so still P2, however many days it counts.",
        31,
        "receivable",
        [],
        [],
        "Q1",
        ["remind"],
        ["litigate"],
    ),
    (
        "receivable-day-30-is-still-p2",
        "A receivable at day 30, never reached: not yet past AR-4's month.",
        30,
        "receivable",
        [],
        [],
        "Q1",
        ["remind"],
        ["litigate"],
    ),
    # ---- no case over 90 days is Q1 without current evidence (W-PRESUMED-LATE)
    (
        "day-90-contacted-unknown-is-still-q1",
        "Day 90, reached, nothing else known: the 90-day line is not yet crossed.",
        90,
        "loan",
        [],
        [REACHED],
        "Q1",
        ["remind"],
        ["grace_period"],
    ),
    (
        "day-91-contacted-unknown-is-presumed-q4",
        "Day 91, reached, no sign and no evidence of ability: both presumed impaired, Q4.",
        91,
        "loan",
        [],
        [REACHED],
        "Q4",
        ["litigate", "investigate_assets"],
        ["extend"],
    ),
    (
        "day-200-silence-is-not-q1",
        "200 days past due, nothing known: never 'late for a passing reason'.",
        200,
        "loan",
        [],
        [],
        "Q4",
        ["litigate"],
        ["grace_period"],
    ),
    (
        "day-200-willing-and-able-on-current-evidence-is-q1",
        "200 days past due, but current evidence says willing and able: Q1.",
        200,
        "loan",
        [sig("commitment_signed", RECENT), sig("cash_coverage", RECENT, 1.5)],
        [],
        "Q1",
        ["remind", "grace_period"],
        ["litigate"],
    ),
    (
        "day-200-willing-ability-unknown-is-q2",
        "200 days past due, willing on current evidence, ability unknown: presumed impaired, Q2.",
        200,
        "loan",
        [sig("raising_funds", RECENT)],
        [],
        "Q2",
        ["negotiate"],
        ["litigate"],
    ),
    # ---- negative signs are cured, not forgotten (W-SIGNS)
    (
        "old-refusal-stays-in-force",
        "A refusal at day 5, 200 days ago by now: outside the window, but uncured.",
        200,
        "loan",
        [sig("refused_to_pay", "2026-02-05T10:00:00+08:00")],
        [],
        "Q4",
        ["litigate"],
        ["grace_period", "extend"],
    ),
    (
        "refusal-cured-by-a-payment",
        "The same refusal, then a payment: cured; the payment is current evidence of willingness.",
        200,
        "loan",
        [sig("refused_to_pay", "2026-02-05T10:00:00+08:00")],
        [ev("payment", "2026-07-01T09:00:00+08:00", amount="500")],
        "Q2",
        ["negotiate"],
        ["litigate"],
    ),
    (
        "asset-transfer-cured-by-a-signed-commitment",
        "Moving assets, then a signed commitment (承诺书): cured, and willing.",
        30,
        "loan",
        [sig("asset_transfer", "2026-07-25T10:00:00+08:00"), sig("cash_coverage", RECENT, 1.2)],
        [ev("commitment_signed", "2026-08-01T10:00:00+08:00")],
        "Q1",
        ["remind", "grace_period"],
        ["litigate"],
    ),
    (
        "broken-promise-retracted",
        "A broken promise recorded in error, then retracted: the sign is lifted.",
        30,
        "loan",
        [
            sig("promise_broken", "2026-07-25T10:00:00+08:00"),
            sig("documents_provided", RECENT),
            sig("cash_coverage", RECENT, 1.2),
        ],
        [ev("retraction", "2026-08-01T10:00:00+08:00", retracts="promise_broken")],
        "Q1",
        ["grace_period"],
        ["litigate"],
    ),
    (
        "retraction-of-another-kind-does-not-cure",
        "A retraction naming another kind leaves the broken promise in force.",
        30,
        "loan",
        [sig("promise_broken", "2026-07-25T10:00:00+08:00"), sig("cash_coverage", RECENT, 1.2)],
        [ev("retraction", "2026-08-01T10:00:00+08:00", retracts="uncooperative")],
        "Q3",
        ["litigate"],
        ["grace_period"],
    ),
    (
        "a-cure-before-the-sign-does-not-lift-it",
        "A payment before the refusal does not cure it.",
        30,
        "loan",
        [sig("refused_to_pay", "2026-08-01T10:00:00+08:00"), sig("cash_coverage", RECENT, 1.2)],
        [ev("payment", "2026-07-25T09:00:00+08:00", amount="500")],
        "Q3",
        ["litigate"],
        ["grace_period"],
    ),
    # ---- W-SIGNS: any uncured negative sign impairs willingness
    (
        "three-good-signs-do-not-outweigh-a-broken-promise",
        "Documents, raising funds and a signed commitment before the broken promise: the "
        "texts say any negative sign impairs willingness (W-SIGNS).",
        30,
        "loan",
        [
            sig("documents_provided", "2026-07-30T10:00:00+08:00"),
            sig("raising_funds", "2026-07-30T10:00:00+08:00"),
            sig("commitment_signed", "2026-07-30T10:00:00+08:00"),
            sig("promise_broken", RECENT),
            sig("cash_coverage", RECENT, 1.2),
        ],
        [],
        "Q3",
        ["litigate"],
        ["grace_period", "extend"],
    ),
    # ---- unreachable is a timeline matter, not a W-SIGN (L-UNREACHABLE)
    (
        "unreachable-signal-does-not-make-unwilling",
        "A travelling borrower with cash, noted unreachable by hand: not a sign of "
        "unwillingness; early on, still finding out.",
        10,
        "loan",
        [sig("unreachable", RECENT), sig("cash_coverage", RECENT, 2)],
        [],
        "Q1",
        ["remind"],
        ["litigate"],
    ),
    (
        "unreachable-events-give-the-same-decision",
        "Three unanswered calls recorded as events: the same facts, the same decision.",
        10,
        "loan",
        [sig("cash_coverage", RECENT, 2)],
        [
            ev("contact_attempt", "2026-08-16T10:00:00+08:00", outcome="no_answer"),
            ev("contact_attempt", "2026-08-17T10:00:00+08:00", outcome="no_answer"),
            ev("contact_attempt", RECENT, outcome="no_answer"),
        ],
        "Q1",
        ["remind"],
        ["litigate"],
    ),
    # ---- the Q2 fraud guard: verify the hardship evidence first
    (
        "q2-verified-hardship-may-extend",
        "Willing, a hardship recovering within the horizon, documents provided: extension open.",
        20,
        "loan",
        [
            sig("documents_provided", RECENT),
            sig("health_issue", RECENT),
            sig("recovery_months", RECENT, 12),
        ],
        [],
        "Q2",
        ["extend", "replan", "restructure"],
        ["litigate"],
    ),
    (
        "q2-unverified-hardship-extends-only-after-verifying",
        "Willing (raising funds), the same hardship, nothing verified: the extension stays "
        "open only on the condition to verify the hardship evidence first.",
        20,
        "loan",
        [
            sig("raising_funds", RECENT),
            sig("health_issue", RECENT),
            sig("recovery_months", RECENT, 12),
        ],
        [],
        "Q2",
        ["extend", "restructure"],
        ["litigate"],
    ),
    # ---- Q2-DOWNGRADE
    (
        "q2-first-refused-disposal-stays-q2",
        "Willing, lasting impairment, one refused disposal: negotiation goes on.",
        60,
        "loan",
        [
            sig("raising_funds", RECENT),
            sig("sales_decline", RECENT),
            sig("refused_disposal", "2026-08-10T10:00:00+08:00"),
        ],
        [],
        "Q2",
        ["dispose_assets", "negotiate"],
        ["extend", "litigate"],
    ),
    (
        "q2-refused-disposal-after-negotiation-downgrades",
        "The refusal repeated after a second round of negotiation: willingness counts as "
        "impaired, so Q4 (Q2-DOWNGRADE).",
        60,
        "loan",
        [
            sig("raising_funds", RECENT),
            sig("sales_decline", RECENT),
            sig("refused_disposal", "2026-08-10T10:00:00+08:00"),
        ],
        [ev("refused_disposal", RECENT)],
        "Q4",
        ["litigate"],
        ["extend"],
    ),
]


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def render(policy: str) -> str:
    lines = [
        "# The evidence model, clause by clause (DOMAIN.md §1–§3, docs/evidence.md):",
        "# unknown, presumed and cured evidence; W-SIGNS; unreachable; the Q2 fraud guard;",
        "# Q2-DOWNGRADE. Written by tests/golden/_evidence_cases.py; edit the cases there.",
        "",
        f'policy = "{policy}"',
        f'as_of = "{AS_OF}"',
        f'description = "The evidence clauses under the {policy} policy."',
    ]
    currency, zone = MONEY.get(policy, ("CNY", "Asia/Shanghai"))
    for cid, text, dpd, product, signals, events, quadrant, allows, blocks in CASES:
        if (policy, cid) in PACK:
            pack_quadrant, allows, blocks, why = PACK[policy, cid]
            quadrant = pack_quadrant or quadrant
            text += why
        lines += ["", "[[cases]]", f"id = {_toml_value(cid)}", f"description = {_toml_value(text)}"]
        if quadrant is not None:
            lines.append(f'quadrant = "{quadrant}"')
        lines.append(f"allows = {_toml_value(allows)}")
        lines.append(f"blocks = {_toml_value(blocks)}")
        lines += [
            "",
            "[cases.input]",
            f'product = "{product}"',
            f'currency = "{currency}"',
            'principal = "200000.00"',
            'overdue_amount = "8500.00"',
            f'due_date = "{due(dpd)}"',
            f'timezone = "{zone}"',
            f"signals = {_toml_value(signals)}",
            f"events = {_toml_value(events)}",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    for name in POLICIES:
        target = HERE / name / "golden_evidence.toml"
        target.parent.mkdir(exist_ok=True)
        target.write_text(render(name), encoding="utf-8")
