"""Finding the debtor's assets for enforcement (被执行人财产线索, DOMAIN.md §9).

A policy's ``[assets]`` section states, as data with citations, the asset classes to
look for (movables, real estate, cash and deposits, shares and bonds, intangibles), the
sources to ask for each (banks, the housing authority, the vehicle registry …), and what
each source needs before it answers: a court order, the debtor's consent, or nothing.

Findings are events: ``asset_found`` with its ``asset_class`` and ``amount`` (the
estimated value). They become two facts that remedy rules read:
``assets_found_value`` (the total found, in the case's currency) and
``assets_cover_claim`` (that total reaches ``cover_pct`` per cent of the overdue
amount). :class:`AssetPlan` is the checklist for one case, with what was found in
each class; ``Engine.asset_plan`` gives it when the decision allows one of the
section's ``remedies`` (by default ``litigate`` and ``investigate_assets``).

The format::

    [assets]
    remedies = ["litigate", "investigate_assets"]
    cover_pct = 100
    cites = ["ASSET-CLASSES", "ASSET-SOURCES"]

    [assets.sources.bank]
    title = "banks"
    needs = "court_order"

    [assets.classes.cash_deposits]
    title = "cash and deposits"
    sources = ["bank", "employer"]
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules._arguments import require_indent, require_instance, require_text
from collectrules._choice import Choice
from collectrules._decimal import exact
from collectrules.conditions import MONEY_SCALE, FieldSpec, FieldType, Scalar
from collectrules.errors import FieldProblem, InputError, PolicyError, did_you_mean, quote
from collectrules.model.case import Case, Event, EventKind
from collectrules.model.remedies import Remedy
from collectrules.model.time import require_aware, require_case
from collectrules.policy._tables import TableReader
from collectrules.policy.model import Policy
from collectrules.policy.section import SectionLoader

__all__ = [
    "ASSET_FIELDS",
    "AssetClass",
    "AssetClassItem",
    "AssetFinding",
    "AssetPlan",
    "AssetSection",
    "AssetSource",
    "Need",
    "asset_facts",
    "asset_plan_of",
    "assets_of",
    "findings",
    "parse_assets",
]


class Need(Choice):
    """What a source needs before it answers."""

    COURT_ORDER = "court_order"
    DEBTOR_CONSENT = "debtor_consent"
    NONE = "none"


#: The fact fields the section adds.
ASSET_FIELDS: Mapping[str, FieldSpec] = {
    "assets_found_value": FieldSpec(
        "assets_found_value",
        FieldType.MONEY,
        "estimated value of the debtor's assets found (asset_found events), in major units",
    ),
    "assets_cover_claim": FieldSpec(
        "assets_cover_claim",
        FieldType.BOOL,
        "the assets found reach the section's cover_pct of the overdue amount",
    ),
}

_SECTION_KEYS = ("remedies", "cover_pct", "cites", "doc", "sources", "classes")
_SOURCE_KEYS = ("title", "title_zh", "needs", "provides", "cites", "doc")
_CLASS_KEYS = ("title", "title_zh", "examples", "sources", "cites", "doc")


@attrs.frozen
class AssetSource:
    """Somewhere to ask about the debtor's assets, and what it needs first."""

    id: str
    title: str
    needs: Need
    title_zh: str = ""
    provides: str = ""
    cites: tuple[str, ...] = ()

    @exact
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "id": self.id,
            "title": self.title,
            "title_zh": self.title_zh,
            "needs": self.needs.value,
            "provides": self.provides,
            "cites": list(self.cites),
        }


@attrs.frozen
class AssetClass:
    """A class of assets and the sources to ask for it."""

    id: str
    title: str
    sources: tuple[str, ...]
    title_zh: str = ""
    examples: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()


@attrs.frozen
class AssetSection:
    """The parsed ``[assets]`` section."""

    classes: Mapping[str, AssetClass] = attrs.field(hash=False)
    sources: Mapping[str, AssetSource] = attrs.field(hash=False)
    remedies: tuple[Remedy, ...] = (Remedy.LITIGATE, Remedy.INVESTIGATE_ASSETS)
    cover_pct: Decimal = Decimal(100)
    cites: tuple[str, ...] = ()


@attrs.frozen
class AssetFinding:
    """An asset found: its class, estimated value and when it was recorded."""

    asset_class: str
    value: Decimal
    at: pendulum.DateTime
    note: str | None = None

    @exact
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "asset_class": self.asset_class,
            "value": str(self.value),
            "at": self.at.isoformat(),
            "note": self.note,
        }


@attrs.frozen
class AssetClassItem:
    """One line of the checklist: a class, its sources, and what was found in it."""

    asset_class: AssetClass
    sources: tuple[AssetSource, ...]
    found: tuple[AssetFinding, ...] = ()

    @property
    @exact
    def found_value(self) -> Decimal:
        """The value found in this class."""
        return sum((f.value for f in self.found), Decimal(0))

    @exact
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        cls = self.asset_class
        return {
            "id": cls.id,
            "title": cls.title,
            "title_zh": cls.title_zh,
            "examples": list(cls.examples),
            "sources": [s.to_dict() for s in self.sources],
            "found": [f.to_dict() for f in self.found],
            "found_value": str(self.found_value),
            "cites": list(cls.cites),
        }


@attrs.frozen
class AssetPlan:
    """The asset checklist of one case at ``as_of`` (DOMAIN.md §9).

    ``applies`` says whether the decision allows one of the remedies that call for it
    (``allowed_by`` names them); when it does not, ``items`` is empty and ``reason``
    says why. ``found_value`` and ``covers_claim`` sum the findings so far.
    """

    case_id: str
    as_of: pendulum.DateTime
    policy: str
    applies: bool
    reason: str
    allowed_by: tuple[str, ...]
    items: tuple[AssetClassItem, ...]
    claim: Decimal
    found_value: Decimal
    covers_claim: bool
    cites: tuple[str, ...] = ()

    def item(self, class_id: str) -> AssetClassItem:
        """The checklist line of asset class ``class_id``."""
        require_text(class_id, "class_id", "an asset class id, a text")
        for item in self.items:
            if item.asset_class.id == class_id:
                return item
        known = [i.asset_class.id for i in self.items]
        msg = f"the asset plan has no class {quote(class_id)}"
        raise InputError(
            [FieldProblem("asset_class", msg, suggestion=did_you_mean(class_id, known))]
        )

    @exact
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, in a stable layout."""
        return {
            "case_id": self.case_id,
            "as_of": self.as_of.isoformat(),
            "policy": self.policy,
            "applies": self.applies,
            "reason": self.reason,
            "allowed_by": list(self.allowed_by),
            "claim": str(self.claim),
            "found_value": str(self.found_value),
            "covers_claim": self.covers_claim,
            "classes": [i.to_dict() for i in self.items],
            "cites": list(self.cites),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The plan as JSON: the same bytes for the same case, ``as_of`` and policy.

        ``indent`` is ``None`` (compact) or 0 to 16 spaces."""
        indent = require_indent(indent)
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------- parsing


def _ids(
    reader: TableReader, raw: object, path: str, what: str
) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(raw, Mapping) or not raw:
        reader.fail(path, f"expected a table of {what}: [{path}.ID]")
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    for key, body in raw.items():
        if not isinstance(body, Mapping):
            reader.fail(f"{path}.{key}", f"expected a table, got {type(body).__name__}")
            continue
        out.append((str(key), body))
    return out


def parse_assets(
    raw: Any, loader: SectionLoader, params: Mapping[str, Scalar]
) -> tuple[AssetSection, Mapping[str, FieldSpec]]:
    """Parse the ``[assets]`` table; every problem goes to the loader with its path."""
    reader = TableReader(loader, params)
    if not isinstance(raw, Mapping):
        reader.fail("assets", f"expected a table, got {type(raw).__name__}")
        return AssetSection({}, {}), ASSET_FIELDS
    reader.keys(raw, _SECTION_KEYS, "assets")
    reader.string(raw, "doc", "assets", default="")  # read for its type alone
    needs = [n.value for n in Need]
    sources: dict[str, AssetSource] = {}
    for sid, body in _ids(reader, raw.get("sources"), "assets.sources", "sources"):
        path = f"assets.sources.{sid}"
        reader.keys(body, _SOURCE_KEYS, path)
        reader.string(body, "doc", path, default="")  # read for its type alone
        need_text = body.get("needs")
        if need_text not in needs:
            reader.fail(
                f"{path}.needs",
                f"expected one of {', '.join(needs)}, got {quote(need_text)}",
                key="needs",
                suggestion=did_you_mean(str(need_text), needs),
            )
            continue
        sources[sid] = AssetSource(
            id=sid,
            title=reader.string(body, "title", path, default=sid),
            needs=Need(str(need_text)),
            title_zh=reader.string(body, "title_zh", path, default=""),
            provides=reader.string(body, "provides", path, default=""),
            cites=reader.texts(body, "cites", path),
        )
    classes: dict[str, AssetClass] = {}
    for cid, body in _ids(reader, raw.get("classes"), "assets.classes", "asset classes"):
        path = f"assets.classes.{cid}"
        reader.keys(body, _CLASS_KEYS, path)
        reader.string(body, "doc", path, default="")  # read for its type alone
        named = reader.texts(body, "sources", path)
        if not named:
            reader.fail(f"{path}.sources", "expected at least one source", key="sources")
        for name in named:
            if name not in sources:
                reader.fail(
                    f"{path}.sources",
                    (
                        f"unknown source {quote(name)}; the section's "
                        f"sources: {', '.join(sorted(sources))}"
                    ),
                    key="sources",
                    suggestion=did_you_mean(name, list(sources)),
                )
        classes[cid] = AssetClass(
            id=cid,
            title=reader.string(body, "title", path, default=cid),
            sources=tuple(n for n in named if n in sources),
            title_zh=reader.string(body, "title_zh", path, default=""),
            examples=reader.texts(body, "examples", path),
            cites=reader.texts(body, "cites", path),
        )
    known = [r.value for r in Remedy]
    remedies: list[Remedy] = []
    for name in reader.texts(raw, "remedies", "assets") or ("litigate", "investigate_assets"):
        if name in known:
            remedies.append(Remedy(name))
        else:
            reader.fail(
                "assets.remedies",
                f"unknown remedy {quote(name)}",
                key="remedies",
                suggestion=did_you_mean(name, known),
            )
    pct = raw.get("cover_pct", 100)
    if isinstance(pct, str) and pct in params:
        pct = params[pct]
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct <= 1000:
        reader.fail(
            "assets.cover_pct", f"expected a percentage above 0, up to 1000, got {quote(pct)}"
        )
        pct = 100
    section = AssetSection(
        classes=classes,
        sources=sources,
        remedies=tuple(remedies),
        cover_pct=Decimal(str(pct)),
        cites=reader.texts(raw, "cites", "assets"),
    )
    return section, ASSET_FIELDS


# --------------------------------------------------------------------------- use


def assets_of(policy: Policy) -> AssetSection | None:
    """The policy's parsed ``[assets]`` section, if it has one; ``policy`` of another
    kind is an :class:`~collectrules.errors.InputError` naming it."""
    require_instance(policy, Policy, "policy", "a Policy")
    section = policy.sections.get("assets")
    return section if isinstance(section, AssetSection) else None


def findings(case: Case, as_of: dt.datetime, section: AssetSection) -> tuple[AssetFinding, ...]:
    """The assets found at or before ``as_of``; an unknown class is an ``InputError``,
    and so is an argument of another kind (a naive ``as_of``, a section that is not an
    :class:`AssetSection`)."""
    case, as_of, section = _checked(case, as_of, section)
    out: list[AssetFinding] = []
    problems: list[FieldProblem] = []
    for i, event in enumerate(case.events):
        if event.kind is not EventKind.ASSET_FOUND or event.at > as_of:
            continue
        found = _finding(event, case.timezone)
        if found.asset_class not in section.classes:
            known = sorted(section.classes)
            problems.append(
                FieldProblem(
                    f"events[{i}].asset_class",
                    f"unknown asset class {quote(found.asset_class)}; expected one of "
                    + ", ".join(known),
                    suggestion=did_you_mean(found.asset_class, known),
                )
            )
            continue
        out.append(found)
    if problems:
        raise InputError(problems, subject=f"case {case.case_id}")
    return tuple(sorted(out, key=lambda f: (f.at, f.asset_class)))


def _checked(
    case: object, as_of: object, section: object
) -> tuple[Case, pendulum.DateTime, AssetSection]:
    """The arguments of :func:`findings` and :func:`asset_facts`, checked."""
    return (
        require_case(case),
        require_aware(as_of),
        require_instance(section, AssetSection, "section", "an AssetSection"),
    )


def _finding(event: Event, zone: str) -> AssetFinding:
    # asset_found events carry both (Event checks it).
    assert event.asset_class is not None
    assert event.amount is not None
    at = pendulum.instance(event.at).in_timezone(zone)
    return AssetFinding(event.asset_class, event.amount, at, event.note)


def _covers(found: Decimal, claim: Decimal, pct: Decimal) -> bool:
    return found > 0 and found * 100 >= claim * pct


@exact
def asset_facts(case: Case, as_of: dt.datetime, section: AssetSection) -> dict[str, Any]:
    """``assets_found_value`` (integer money units) and ``assets_cover_claim``; an
    argument of another kind is an :class:`~collectrules.errors.InputError`."""
    case, as_of, section = _checked(case, as_of, section)
    if not case.events:  # assets are found by events
        return {"assets_found_value": 0, "assets_cover_claim": False}
    total = sum((f.value for f in findings(case, as_of, section)), Decimal(0))
    return {
        "assets_found_value": int((total * MONEY_SCALE).to_integral_value()),
        "assets_cover_claim": _covers(total, case.overdue_amount, section.cover_pct),
    }


@exact
def asset_plan_of(
    case: Case,
    as_of: pendulum.DateTime,
    policy: Policy,
    allowed: frozenset[str],
    blocked: Mapping[str, str],
) -> AssetPlan:
    """The checklist of ``case`` given its decision's ``allowed`` and ``blocked`` remedies.

    ``allowed`` is a set of remedy names and ``blocked`` a mapping of remedy names to
    reasons; an argument of another kind is an :class:`~collectrules.errors.InputError`."""
    case = require_case(case)
    require_aware(as_of)  # checked; the plan keeps the instant as the decision wrote it
    if not isinstance(allowed, Set) or not all(isinstance(r, str) for r in allowed):
        msg = f"expected a set of remedy names, got {quote(allowed)}"
        raise InputError([FieldProblem("allowed", msg)])
    if not isinstance(blocked, Mapping) or not all(
        isinstance(r, str) and isinstance(why, str) for r, why in blocked.items()
    ):
        msg = f"expected a mapping of remedy names to reasons, got {quote(blocked)}"
        raise InputError([FieldProblem("blocked", msg)])
    section = assets_of(policy)
    if section is None:
        msg = (
            f"policy {quote(policy.id)} has no [assets] section: it needs the asset classes and "
            "sources to give an asset plan (see docs/howto-emergencies.md#assets)"
        )
        raise PolicyError([FieldProblem("assets", msg, source=policy.source)])
    found = findings(case, as_of, section)
    total = sum((f.value for f in found), Decimal(0))
    by = tuple(r.value for r in section.remedies if r in allowed)
    if by:
        reason = f"the decision allows {', '.join(by)}: look for the debtor's assets"
        items = tuple(
            AssetClassItem(
                cls,
                tuple(section.sources[s] for s in cls.sources),
                tuple(f for f in found if f.asset_class == cls.id),
            )
            for cls in section.classes.values()
        )
    else:
        why = [f"{r.value} is blocked: {blocked[r]}" for r in section.remedies if r in blocked]
        names = " or ".join(r.value for r in section.remedies)
        reason = f"the decision allows neither {names}" + (f" ({'; '.join(why)})" if why else "")
        items = ()
    return AssetPlan(
        case_id=case.case_id,
        as_of=as_of,
        policy=policy.ref,
        applies=bool(by),
        reason=reason,
        allowed_by=by,
        items=items,
        claim=case.overdue_amount,
        found_value=total,
        covers_claim=_covers(total, case.overdue_amount, section.cover_pct),
        cites=section.cites,
    )
