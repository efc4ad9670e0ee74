"""The clause registry: every clause id that a rule may cite.

The registry holds the ids of the domain digest of the source manuals (``DOMAIN.md``:
the four quadrants, the phases, the timelines, the segments and the conduct rules) and
of the rules from law and regulation that the policy packs encode (``REGULATION.md``,
each with its status: ``V`` seen in the text of the law itself, ``S`` seen only in
secondary sources). Each built-in clause carries a short statement in English and in
Chinese, restated in the project's own words, and its source; the texts ship as package
data (``clauses.toml`` beside this module), read on first use, so that the package never
reads a file outside itself.

A policy may add clauses of its own, for the rules it invents, in a ``[clauses]`` table::

    [clauses.ACME-COURTESY-CALL]
    title = "A courtesy call before any demand letter"
    source = "Acme collections handbook"
    section = "4.2"

or, briefly, ``ACME-COURTESY-CALL = "A courtesy call before any demand letter"``.
:func:`registry` gives the built-in clauses plus the policy's own.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from collectrules._arguments import require_instance
from collectrules._choice import Choice
from collectrules._json import schema_pattern
from collectrules.errors import FieldProblem, PolicyError, did_you_mean, quote
from collectrules.policy.schema import TEXT, table
from collectrules.policy.section import BaseSection

if TYPE_CHECKING:
    from collectrules.conditions import FieldSpec, Scalar
    from collectrules.policy.model import Policy
    from collectrules.policy.section import SectionLoader

__all__ = [
    "CLAUSES",
    "LANGS",
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

CLAUSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
#: The keys of a policy's own clause (``collectrules.policy.schema`` builds its schema from them).
CLAUSE_KEYS = ("title", "source", "section")
#: The languages a built-in clause is stated in.
LANGS = ("en", "zh")


class ClauseKind(Choice):
    """Where a clause comes from."""

    DOMAIN = "domain"
    REGULATION = "regulation"
    POLICY = "policy"


@attrs.frozen
class Clause:
    """One citable clause: its id, a short title, where it is stated, and what it says.

    ``status`` is ``"V"`` or ``"S"`` for regulation clauses (see the module docstring)
    and ``None`` otherwise. ``en`` and ``zh`` are a short statement of the clause in
    English and in Chinese (the built-in clauses carry both; a policy's own clause has
    only its title).
    """

    id: str
    title: str
    source: str
    section: str = ""
    kind: ClauseKind = ClauseKind.DOMAIN
    status: str | None = None
    en: str = ""
    zh: str = ""

    def text(self, lang: str = "en") -> str:
        """The statement in ``lang`` (``"en"`` or ``"zh"``), else the title."""
        if lang not in LANGS:
            raise ValueError(f"unknown language {quote(lang)}; expected one of {', '.join(LANGS)}")
        return (self.zh if lang == "zh" else self.en) or self.title

    def to_dict(self) -> dict[str, Any]:
        """The clause as plain JSON-ready data."""
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "section": self.section,
            "kind": self.kind.value,
            "status": self.status,
            "en": self.en,
            "zh": self.zh,
        }


# --------------------------------------------------------------------------- the data

#: The package resource that holds the built-in clauses and their texts.
CLAUSES_RESOURCE = "clauses.toml"


def _clause_from_toml(cid: str, spec: Mapping[str, Any]) -> Clause:
    kind = ClauseKind(spec["kind"])
    status = spec.get("status")
    return Clause(
        cid,
        str(spec["title"]),
        str(spec["source"]),
        str(spec.get("section", "")),
        kind,
        str(status) if status is not None else None,
        en=str(spec.get("en", "")),
        zh=str(spec.get("zh", "")),
    )


@functools.cache
def builtin_clauses() -> Mapping[str, Clause]:
    """The clauses of DOMAIN.md and REGULATION.md, by id (a read-only mapping).

    The texts ship as package data (``collectrules/policy/clauses.toml``); they are read
    on first use and cached for the life of the process.
    """
    raw = resources.files(__package__).joinpath(CLAUSES_RESOURCE).read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return MappingProxyType({cid: _clause_from_toml(cid, spec) for cid, spec in data.items()})


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
        """The known id closest to ``clause_id``, for a did-you-mean hint.

        Case is not held against it: ids are written in capitals, and ``q1`` or
        ``cn-limitation`` got no hint at all (``difflib`` weighs each letter's case)."""
        hint = did_you_mean(clause_id, self.clauses)
        if hint is None and isinstance(clause_id, str):
            folded = {str(cid).casefold(): str(cid) for cid in self.clauses}
            hint = folded.get(clause_id.casefold())
            if hint is None:
                hint = did_you_mean(clause_id.upper(), self.clauses)
        return hint


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
        if cid in builtin_clauses():
            report(
                path,
                (
                    f"{quote(cid)} is already a built-in clause; "
                    "give the policy's own clause another id"
                ),
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
    merged = dict(builtin_clauses())
    if policy is not None:
        from collectrules.policy.model import Policy  # the model imports this module

        require_instance(policy, Policy, "policy", "a Policy or None")
        merged.update(policy_clauses(policy))
    return ClauseRegistry(merged)


def citations(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """Every citation in a policy's data: ``(key path, clause id, rule id or None)``.

    It walks every ``cites`` list anywhere in the data, and every list of a key ending
    in ``_cites`` (a pack's ``probation_cites``), the optional sections included, so that
    a section owned by another module is checked as well.
    """
    yield from _walk(data, "", None)


def _walk(node: object, path: str, rule_id: str | None) -> Iterator[tuple[str, str, str | None]]:
    if isinstance(node, Mapping):
        rid = node.get("id") if isinstance(node.get("id"), str) else rule_id
        for key, value in node.items():
            if key == "clauses" and not path:
                continue
            if key == "cites" or (isinstance(key, str) and key.endswith("_cites")):
                items = [value] if isinstance(value, str) else value
                if isinstance(items, list):
                    for cid in items:
                        if isinstance(cid, str):
                            yield (f"{path}.{key}" if path else str(key), cid, rid)
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
    "title": {**TEXT, "minLength": 1, "description": "What the clause says."},
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
            "propertyNames": {"pattern": schema_pattern(CLAUSE_ID)},
            "additionalProperties": {
                "oneOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/clause"}]
            },
            "description": self.doc,
        }

    def schema_defs(self) -> dict[str, Any]:
        """The ``clause`` table."""
        return {"clause": table(CLAUSE_KEYS, _CLAUSE, ["title"], "A clause of the policy's own.")}


#: The clauses section plug-in.
CLAUSES = ClausesSection()
