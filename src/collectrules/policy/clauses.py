"""The clause registry: every clause id that a rule may cite.

The registry holds the ids of the domain digest of the source manuals (``DOMAIN.md``:
the four quadrants, the phases, the timelines, the segments and the conduct rules) and
of the rules from law and regulation that the policy packs encode (``REGULATION.md``,
each with its status: ``V`` seen in the text of the law itself, ``S`` seen only in
secondary sources). The data is embedded here, so that the package never reads a file
outside itself.

A policy may add clauses of its own, for the rules it invents, in a ``[clauses]`` table::

    [clauses.ACME-COURTESY-CALL]
    title = "A courtesy call before any demand letter"
    source = "Acme collections handbook"
    section = "4.2"

or, briefly, ``ACME-COURTESY-CALL = "A courtesy call before any demand letter"``.
:func:`registry` gives the built-in clauses plus the policy's own.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from collectrules.errors import FieldProblem, PolicyError, did_you_mean
from collectrules.policy.schema import TEXT, table
from collectrules.policy.section import BaseSection

if TYPE_CHECKING:
    from collectrules.conditions import FieldSpec, Scalar
    from collectrules.policy.model import Policy
    from collectrules.policy.section import SectionLoader

__all__ = [
    "CLAUSES",
    "Clause",
    "ClauseKind",
    "ClauseRegistry",
    "ClausesSection",
    "builtin_clauses",
    "citations",
    "parse_section",
    "policy_clauses",
    "registry",
]

CLAUSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
#: The keys of a policy's own clause (``collectrules.policy.schema`` builds its schema from them).
CLAUSE_KEYS = ("title", "source", "section")


class ClauseKind(enum.StrEnum):
    """Where a clause comes from."""

    DOMAIN = "domain"
    REGULATION = "regulation"
    POLICY = "policy"


@attrs.frozen
class Clause:
    """One citable clause: its id, a short title, and where it is stated.

    ``status`` is ``"V"`` or ``"S"`` for regulation clauses (see the module docstring)
    and ``None`` otherwise.
    """

    id: str
    title: str
    source: str
    section: str = ""
    kind: ClauseKind = ClauseKind.DOMAIN
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The clause as plain JSON-ready data."""
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "section": self.section,
            "kind": self.kind.value,
            "status": self.status,
        }


# --------------------------------------------------------------------------- the data

_DOMAIN_DOC = "DOMAIN.md (the source collection manuals)"

# (section, id, title)
_DOMAIN: tuple[tuple[str, str, str], ...] = (
    (
        "§1 The four types of overdue customer (逾期四类)",
        "Q1",
        "Willing and able (第一类): contact within 24 h and remind",
    ),
    (
        "§1 The four types of overdue customer (逾期四类)",
        "Q2",
        "Willing, ability impaired (第二类): verify the claims against evidence",
    ),
    (
        "§1 The four types of overdue customer (逾期四类)",
        "Q3",
        "Unwilling, able (第三类): negotiate first, then raise pressure, then sue",
    ),
    (
        "§1 The four types of overdue customer (逾期四类)",
        "Q4",
        "Unwilling and unable (第四类): start litigation promptly",
    ),
    (
        "§1 Rules within the types",
        "Q2-SHORT",
        "Ability recovers within a short horizon (two years): an extension may be granted",
    ),
    (
        "§1 Rules within the types",
        "Q2-LONG",
        "Recovery unlikely or beyond two years: no extension; control and dispose of assets",
    ),
    (
        "§1 Rules within the types",
        "Q2-DOWNGRADE",
        "Refusing a disposal and insisting on an extension impairs willingness",
    ),
    (
        "§1 Rules within the types",
        "Q2-NOT-EXTENSION",
        "Time to raise funds or sell assets is not an extension",
    ),
    (
        "§1 Rules within the types",
        "Q12-NO-THREATS",
        "For Q1 and Q2, agree the solution; never make unrealistic threats",
    ),
    ("§1 Rules within the types", "W-SIGNS", "Signs that willingness is impaired"),
    ("§1 Rules within the types", "W-GOOD-SIGNS", "Signs that willingness is good"),
    (
        "§1 Rules within the types",
        "A-ASSESS",
        "Ability is assessed from financial information, in three buckets",
    ),
    ("§2 Three phases of overdue management", "P1", "Before overdue: remind and educate"),
    (
        "§2 Three phases of overdue management",
        "P2",
        "Early overdue: understand and correct; negotiation first",
    ),
    (
        "§2 Three phases of overdue management",
        "P3",
        "Strong collection: pressure first; out-of-court before litigation",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-DUE",
        "On the due date: check the deposit and remind",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-24H",
        "Contact within 24 h of becoming overdue, 48 h at the latest",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-PROMISE3",
        "A promise to pay within three days lets a visit wait",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-UNREACHABLE",
        "An unreachable borrower: contact the other principals at once",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-3D",
        "Within 3 days: visit, and have a demand letter signed",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-4-7D",
        "Days 4-7: written report to the business and risk heads",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-2W",
        "Within 2 weeks: issue a recovery plan",
    ),
    (
        "§3 The loan timeline after a missed payment",
        "L-GRACE",
        "Willing and able customers may have a grace period; others: act at once",
    ),
    ("§4 The receivables timeline", "AR-1", "Within 1 week overdue: phone reminder"),
    ("§4 The receivables timeline", "AR-2", "Within 2 weeks overdue: written demand notice"),
    ("§4 The receivables timeline", "AR-3", "After 3 weeks overdue: lawyer's letter"),
    ("§4 The receivables timeline", "AR-4", "Over 1 month overdue: instruct a lawyer to sue"),
    (
        "§4 The receivables timeline",
        "AR-SEG",
        "Segment by amount and time overdue: internal collection or the legal route",
    ),
    ("§4 The receivables timeline", "AR-ROLES", "Roles of finance, sales and customer service"),
    ("§5 Property-fee collection", "PF-1", "Overdue reminder by SMS or phone"),
    ("§5 Property-fee collection", "PF-2", "Written notice with the amount and payment time"),
    ("§5 Property-fee collection", "PF-3", "On-site visit to find a solution"),
    ("§5 Property-fee collection", "PF-4", "The legal department sues"),
    (
        "§5 Property-fee collection",
        "PF-PRIN",
        "Fair, compliant and transparent; offer incentives or instalments",
    ),
    ("§6 Severity segments", "S-LIGHT", "Short and small: penalty interest and an incentive"),
    ("§6 Severity segments", "S-MOD", "Medium: negotiate a repayment plan; pursue late fees"),
    (
        "§6 Severity segments",
        "S-SEV",
        "Long and large, or evasive: visit, legal deterrence, outsourcing",
    ),
    ("§6 Severity segments", "CUST-STRAT", "Strategies by customer type: active, guided, forced"),
    (
        "§7 Bank non-performing loans",
        "NPL-1-3M",
        "Overdue 1-3 months: phone or SMS, deferral or extension, guarantee",
    ),
    (
        "§7 Bank non-performing loans",
        "NPL-3-6M",
        "Overdue 3-6 months: outsource, sell or transfer the loan",
    ),
    (
        "§7 Bank non-performing loans",
        "NPL-6M",
        "Overdue 6 months or more: legal recovery; reduction in hardship",
    ),
    (
        "§7 Bank non-performing loans",
        "NPL-DOUBT",
        "Doubtful: investigate assets, settle with assets, guarantor compensation",
    ),
    ("§7 Bank non-performing loans", "NPL-LOSS", "Loss: written off or disposed of"),
    (
        "§7 Bank non-performing loans",
        "NPL-5LEVEL",
        "Non-performing is the last three of the five risk classes",
    ),
    (
        "§8 Collection channels and conduct",
        "CH-PHONE",
        "Phone collection: polite, precise, firm but not offensive",
    ),
    (
        "§8 Collection channels and conduct",
        "CH-LETTER",
        "Letters and email: amount, deadline and consequences stated clearly",
    ),
    ("§8 Collection channels and conduct", "CH-VISIT", "Visits: lawful, arranged, polite"),
    (
        "§8 Collection channels and conduct",
        "CH-LAW",
        "Litigation: the last stage, by lawful procedure",
    ),
    (
        "§8 Collection channels and conduct",
        "CONDUCT",
        "No abuse or threats; never disclose the debt to unrelated third parties; keep records",
    ),
    (
        "§8 Collection channels and conduct",
        "CARD",
        "Credit-card collection: channels, credit-bureau reporting, data protection",
    ),
    ("§10 Emergencies", "E-REFUSE", "The customer refuses to pay"),
    ("§10 Emergencies", "E-ABSCOND", "The customer absconds or cannot be reached"),
    ("§10 Emergencies", "E-LITIGATION", "A court proceeding"),
    (
        "§10 Emergencies",
        "E-AGREEMENT-END",
        "A collection agreement ends because the customer cannot pay",
    ),
    ("§10 Emergencies", "E-THREAT", "Violence or threats against collectors"),
)

# (id, title, source document and section, status)
_REGULATION: tuple[tuple[str, str, str, str], ...] = (
    (
        "CN-5LVL",
        "Five-level risk class by days past due",
        "《商业银行金融资产风险分类办法》 (2023)",
        "S",
    ),
    (
        "CN-5LVL-NPL",
        "Over 90 DPD is non-performing even if fully collateralised",
        "《商业银行金融资产风险分类办法》 (2023)",
        "S",
    ),
    (
        "CN-5LVL-CROSS",
        "The whole debtor becomes non-performing past either threshold",
        "《商业银行金融资产风险分类办法》 (2023)",
        "S",
    ),
    (
        "CN-RESTRUCT-OBS",
        "Observation period of a restructured asset",
        "《商业银行金融资产风险分类办法》 (2023)",
        "S",
    ),
    (
        "CN-UPGRADE",
        "Leaving the non-performing classes",
        "《商业银行金融资产风险分类办法》 (2023)",
        "S",
    ),
    (
        "CN-CARD-CLASS",
        "Credit-card risk class by DPD",
        "《商业银行信用卡业务监督管理办法》 (2011) art. 92",
        "S",
    ),
    (
        "CN-CARD-CONDUCT",
        "Card debts are collected only from the debtor and guarantors",
        "《商业银行信用卡业务监督管理办法》 (2011) arts. 66, 68",
        "S",
    ),
    (
        "CN-CARD-HARDSHIP",
        "Hardship instalment plan for a cardholder",
        "《商业银行信用卡业务监督管理办法》 (2011) art. 70",
        "S",
    ),
    (
        "CN-CONTACT-HOURS",
        "No collection contact between 22:00 and 08:00 local time",
        "《金融机构个人消费类贷款催收工作指引（试行）》 (China Banking Association, 2026)",
        "S",
    ),
    (
        "CN-CONTACT-ATTEMPTS",
        "At most 6 unanswered call attempts a day per number",
        "《金融机构个人消费类贷款催收工作指引（试行）》 (China Banking Association, 2026)",
        "S",
    ),
    (
        "CN-THIRD-PARTY",
        "Third parties only when the debtor cannot be reached; never disclose",
        "《金融机构个人消费类贷款催收工作指引（试行）》 (China Banking Association, 2026)",
        "S",
    ),
    (
        "CN-LIMITATION",
        "Limitation period of 3 years; long-stop 20 years",
        "Civil Code art. 188",
        "V",
    ),
    (
        "CN-LIMITATION-INSTALMENT",
        "Instalment debts: the period runs from the last instalment",
        "Civil Code art. 189",
        "V",
    ),
    (
        "CN-LIMITATION-INTERRUPT",
        "Interruption of the limitation period",
        "Civil Code art. 195; SPC limitation rules (2020) arts. 8-9",
        "V",
    ),
    (
        "CN-LIMITATION-SUSPEND",
        "Suspension only in the last 6 months of the period",
        "Civil Code art. 194",
        "V",
    ),
    (
        "CN-LIMITATION-EXPIRED",
        "After the limitation period the debtor may refuse to pay",
        "Civil Code art. 192",
        "V",
    ),
    (
        "CN-PERIOD-CALC",
        "How periods in years, months or days are counted",
        "Civil Code arts. 200-204",
        "V",
    ),
    (
        "CN-GUARANTEE-PERIOD",
        "Guarantee period of 6 months where none is agreed",
        "Civil Code arts. 692-693; SPC guarantee interpretation art. 32",
        "V",
    ),
    (
        "CN-ENFORCEMENT",
        "Two years to apply to enforce a judgment",
        "Civil Procedure Law (2023) art. 250",
        "V",
    ),
    (
        "CN-PRIVATE-RATE-CAP",
        "Private lending rates capped at 4 x the 1-year LPR",
        "SPC private-lending rules (2020) arts. 25, 28, 29",
        "V",
    ),
    (
        "CN-PENALTY",
        "A penalty over 30% of the actual loss is generally excessive",
        "SPC contract interpretation (2023) art. 65",
        "V",
    ),
    (
        "US-REGF-7IN7",
        "Call-frequency presumption of harassment: 7 calls in 7 days",
        "12 CFR 1006.14(b)(2)",
        "S",
    ),
    (
        "US-REGF-HOURS",
        "No contact before 8:00 or after 21:00, consumer's local time",
        "12 CFR 1006.6(b)(1)(i)",
        "V",
    ),
    ("US-REGF-OPTOUT", "Electronic messages carry a clear opt-out", "12 CFR 1006.6(e)", "S"),
    (
        "US-REGF-VALIDATION",
        "Validation notice and the 30-day dispute window",
        "12 CFR 1006.34",
        "V",
    ),
    (
        "US-REGF-TIMEBARRED",
        "Never sue or threaten suit on time-barred debt",
        "12 CFR 1006.26(b)",
        "V",
    ),
    (
        "US-REGF-RECORDS",
        "Keep records 3 years after the last collection activity",
        "12 CFR 1006.100",
        "V",
    ),
    (
        "US-FFIEC",
        "Uniform retail credit classification and charge-off",
        "FFIEC policy, 65 FR 36903",
        "V",
    ),
    ("US-REAGE", "Re-ageing an open-end account", "FFIEC policy", "S"),
    (
        "IFRS9-STAGE2",
        "Significant increase in credit risk presumed at >30 DPD",
        "IFRS 9 ¶5.5.11",
        "S",
    ),
    ("IFRS9-STAGE3", "Default presumed at >90 DPD", "IFRS 9 ¶B5.5.37", "S"),
    ("EU-DEFAULT", "Default at >90 DPD on a material obligation", "CRR art. 178(1)(b)", "V"),
    (
        "EU-MATERIALITY",
        "Retail materiality: over EUR 100 and 1% of the exposure",
        "Delegated Reg. (EU) 2018/171 art. 1",
        "V",
    ),
    ("EU-PROBATION", "Probation before leaving default", "EBA GL/2016/07 ¶71-73", "V"),
    ("UK-FORBEARANCE", "Forbearance for customers in arrears", "FCA CONC 7.3", "V"),
    (
        "UK-NO-PRESSURE",
        "No pressure to pay in large sums, quickly, or by selling or borrowing",
        "FCA CONC 7.3.10R",
        "V",
    ),
    (
        "UK-LIMITATION",
        "Limitation period of 6 years for a simple contract",
        "Limitation Act 1980 s.5",
        "V",
    ),
)


def _build_builtin() -> dict[str, Clause]:
    out: dict[str, Clause] = {}
    for section, cid, title in _DOMAIN:
        out[cid] = Clause(cid, title, _DOMAIN_DOC, section, ClauseKind.DOMAIN)
    for cid, title, source, status in _REGULATION:
        out[cid] = Clause(cid, title, source, "REGULATION.md", ClauseKind.REGULATION, status)
    return out


_BUILTIN: Mapping[str, Clause] = _build_builtin()


def builtin_clauses() -> Mapping[str, Clause]:
    """The clauses of DOMAIN.md and REGULATION.md, by id (a read-only mapping)."""
    return _BUILTIN


# --------------------------------------------------------------------------- policies


@attrs.frozen
class ClauseRegistry:
    """The clauses a policy may cite: the built-in ones plus the policy's own."""

    clauses: Mapping[str, Clause]

    def __contains__(self, clause_id: object) -> bool:
        return clause_id in self.clauses

    def __len__(self) -> int:
        return len(self.clauses)

    def __iter__(self) -> Iterator[str]:
        return iter(self.clauses)

    def get(self, clause_id: str) -> Clause | None:
        """The clause with this id, or ``None``."""
        return self.clauses.get(clause_id)

    def suggest(self, clause_id: str) -> str | None:
        """The known id closest to ``clause_id``, for a did-you-mean hint."""
        return did_you_mean(clause_id, self.clauses)


def _parse_policy_clauses(
    table: object, report: Callable[[str, str, str | None], None], source: str | None
) -> dict[str, Clause]:
    out: dict[str, Clause] = {}
    if table is None:
        return out
    if not isinstance(table, Mapping):
        report("clauses", "expected a table of clause ids", None)
        return out
    allowed = CLAUSE_KEYS
    for cid, spec in table.items():
        path = f"clauses.{cid}"
        if not isinstance(cid, str) or not CLAUSE_ID.match(cid):
            report(path, "a clause id must be letters, digits, '.', '-' or '_'", None)
            continue
        if cid in _BUILTIN:
            report(
                path,
                f"{cid!r} is already a built-in clause; give the policy's own clause another id",
                None,
            )
            continue
        if isinstance(spec, str):
            spec = {"title": spec}
        if not isinstance(spec, Mapping):
            report(path, "expected a title or a table with 'title'", None)
            continue
        ok = True
        for key in spec:
            if key not in allowed:
                report(f"{path}.{key}", "unknown key", did_you_mean(str(key), allowed))
                ok = False
        values = {k: spec.get(k, "") for k in allowed}
        for key, value in values.items():
            if not isinstance(value, str):
                report(f"{path}.{key}", "expected a string", None)
                ok = False
        if ok and not values["title"]:
            report(f"{path}.title", "required; expected a string", None)
            ok = False
        if ok:
            out[cid] = Clause(
                cid,
                str(values["title"]),
                str(values["source"]) or (source or "the policy"),
                str(values["section"]),
                ClauseKind.POLICY,
            )
    return out


def parse_section(
    raw: object, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[dict[str, Clause], dict[str, FieldSpec]]:
    """Parse a policy's ``[clauses]`` table at load time, reporting every problem."""

    def report(path: str, message: str, suggestion: str | None) -> None:
        loader.fail(path, message, key=path.rsplit(".", 1)[-1], suggestion=suggestion)

    return _parse_policy_clauses(raw, report, None), {}


def policy_clauses(policy: Policy) -> dict[str, Clause]:
    """The clauses a policy declares in its own ``[clauses]`` table.

    A malformed table is a :class:`~collectrules.errors.PolicyError`.
    """
    parsed = policy.sections.get("clauses")
    if isinstance(parsed, Mapping):
        return dict(parsed)
    problems: list[FieldProblem] = []

    def report(path: str, message: str, suggestion: str | None) -> None:
        problems.append(FieldProblem(path, message, source=policy.source, suggestion=suggestion))

    out = _parse_policy_clauses(policy.data.get("clauses"), report, policy.source)
    if problems:
        raise PolicyError(problems, subject=f"policy {policy.source or policy.id}")
    return out


def registry(policy: Policy | None = None) -> ClauseRegistry:
    """The clauses that ``policy`` may cite (the built-in ones without a policy)."""
    merged = dict(_BUILTIN)
    if policy is not None:
        merged.update(policy_clauses(policy))
    return ClauseRegistry(merged)


def citations(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """Every citation in a policy's data: ``(key path, clause id, rule id or None)``.

    It walks every ``cites`` list anywhere in the data, the optional sections included,
    so that a section owned by another module is checked as well.
    """
    yield from _walk(data, "", None)


def _walk(node: object, path: str, rule_id: str | None) -> Iterator[tuple[str, str, str | None]]:
    if isinstance(node, Mapping):
        rid = node.get("id") if isinstance(node.get("id"), str) else rule_id
        for key, value in node.items():
            if key == "clauses" and not path:
                continue
            if key == "cites":
                items = [value] if isinstance(value, str) else value
                if isinstance(items, list):
                    for cid in items:
                        if isinstance(cid, str):
                            yield (f"{path}.cites" if path else "cites", cid, rid)
                continue
            yield from _walk(value, f"{path}.{key}" if path else str(key), rid)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            label = item.get("id") if isinstance(item, Mapping) else None
            where = f"{path}[{label if isinstance(label, str) else i}]"
            if where.startswith("remedies.rules["):
                where = "remedies" + where[len("remedies.rules") :]
            yield from _walk(item, where, rule_id)


_CLAUSE = {
    "title": {**TEXT, "description": "What the clause says."},
    "source": {**TEXT, "description": "The document it comes from (default: the policy file)."},
    "section": {**TEXT, "description": "Where in that document."},
}


class ClausesSection(BaseSection):
    """The ``[clauses]`` section: the policy's own clauses, which its rules may cite."""

    key = "clauses"
    doc = (
        "The policy's own clauses, which its rules may cite beside the ids of DOMAIN.md "
        "and REGULATION.md."
    )

    def parse(
        self, raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
    ) -> tuple[dict[str, Clause], dict[str, FieldSpec]]:
        """Parse the ``[clauses]`` table."""
        return parse_section(raw, loader, params)

    def schema_property(self) -> dict[str, Any]:
        """The ``clauses`` table: clause ids to a title, or to a clause table."""
        return {
            "type": "object",
            "propertyNames": {"pattern": CLAUSE_ID.pattern},
            "additionalProperties": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/clause"}]},
            "description": self.doc,
        }

    def schema_defs(self) -> dict[str, Any]:
        """The ``clause`` table."""
        return {"clause": table(CLAUSE_KEYS, _CLAUSE, ["title"], "A clause of the policy's own.")}


#: The clauses section plug-in.
CLAUSES = ClausesSection()
