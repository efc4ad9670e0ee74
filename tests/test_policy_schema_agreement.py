"""The policy JSON Schema accepts a policy exactly when the loader does.

Lenders check their policy files against the published schema in their editors and in
CI: what the schema accepts must load, and what loads must pass the schema. The
documents are the shipped policies, read from their TOML as an editor reads them; each
example changes one thing in one of them: a value anywhere in the document (every path
is taken from the data, so a key added to a policy is covered), a key dropped, misspelt
or added, a list emptied, cut or made long. The values are valid ones and near misses:
the wrong type, empty and blank text, a trailing line break, non-ASCII digits, numbers
out of range, NaN and infinity, days that are not in the calendar, 24:00 and 12:60.

The only disagreements allowed are the ones the schema's description and
docs/policy-format.md list (``POLICY_EXCEPTIONS``): the schema accepts, the loader
refuses, and every problem the loader reports is one of them: :func:`_excused` says
which, from the path that was changed and the problem reported, so that a problem of
one kind met after a change of another is no excuse.
The schema never refuses what the loader reads.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectrules import CollectRulesError, PolicyError, available_policies
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import POLICY_EXCEPTIONS, policy_schema
from strategies import schema_search

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "src" / "collectrules" / "policies"
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())
BASES: dict[str, dict[str, Any]] = {
    name: tomllib.loads((SHIPPED / f"{name}.toml").read_text(encoding="utf-8"))
    for name in available_policies()
}
# default and us_regf (a child policy) first: the others hold the sections they lack
# (money's rate cap, a materiality pack's currencies, buckets).
NAMES = ["default", "us_regf", *[n for n in BASES if n not in ("default", "us_regf")]]

Path_ = tuple[str | int, ...]


def _nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


NODES = {name: list(_nodes(BASES[name])) for name in NAMES}
STRINGS = {
    name: sorted({v for _, v in NODES[name] if isinstance(v, str) and len(v) <= 40})
    for name in NAMES
}


# ------------------------------------------------------------------ values and near misses

NEAR_TEXTS = [
    "", " ", "\t", "\n", "a", "A", "x y", "9x", "x-y", "x.y", "é", "客户", "R-1", "R-逾期-1",
    "x" * 201, "x" * 4001, "2026-02-28", "2026-02-30", "2024-02-29", "2100-02-29",
    "2000-02-29", "0000-01-01", "9999-12-31", "2026-1-1", "２０２６-01-01", "٢٠٢٦-01-01",
    "08:00", "8:00", "00:00", "23:59", "24:00", "24:30", "12:60", "1٣:00", "08:00\n",
    "3 days", "٣ days", "3 days\n", " 3 days ", "3\u00a0days", "3 business\tdays",
    "3 fortnights", "3660 days", "3661 days", "99999 days", "3d", "3 DAYS",
    "Q1", "Q5", "USD", "usd", "EUR", "XAU", "phone", "loan", "remind", "none", "1", "1.5",
    "-1", "nan", "inf", "true", "dpd > 30", "dpd >", "１２",
]  # fmt: skip
DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def _text_variants(text: str) -> list[str]:
    return [
        f"{text}\n", f" {text}", f"{text} ", f"{text}\u00a0", text.upper(), text.lower(),
        text.title(), text.replace("_", "-"), f"{text}x", text[:-1], text.translate(DIGITS),
        text.translate(WIDE), f"{text}\u200b",
    ]  # fmt: skip


NUMBERS = [0, -1, 1, 2, 23, 24, 59, 60, 99, 100, 101, 365, 366, 3660, 36500, 36501, 100000]
NUMBERS += [10**9, 10**15, 10**20, 2**63, 0.5, -0.5, 1.5, 1e300, -1e300, -0.0]
NUMBERS += [math.nan, math.inf, -math.inf]
WRONG_KINDS = [None, True, False, 0, 1.5, "x", [], {}, ["x"], {"x": 1}, [{}]]


def _number_variants(number: int | float) -> list[Any]:
    if isinstance(number, bool):
        return [not number, 0, 1, "true", "false"]
    out: list[Any] = [number + 1, number - 1, -number, number * 1000, str(number), True]
    out += [float(number), number + 0.5] if isinstance(number, int) else [int(number)]
    return out


def _values(node: Any, strings: list[str]) -> st.SearchStrategy[Any]:
    """Values for a node holding ``node``: near its own, and anything."""
    near: list[Any] = []
    if isinstance(node, str):
        near = _text_variants(node)
    elif isinstance(node, int | float):
        near = _number_variants(node)
    elif isinstance(node, list):
        near = [[], node[:1], [*node, *node[:1]], node * 2, [node]]
        if node:
            near += [node[0], node[:1] * 300, node[:1] * 1001]
    elif isinstance(node, dict):
        near = [{}, *({k: v for k, v in node.items() if k != drop} for drop in node)]
    common = st.sampled_from(NEAR_TEXTS) | st.sampled_from(NUMBERS) | st.sampled_from(strings)
    return (st.sampled_from(near) if near else common) | common | st.sampled_from(WRONG_KINDS)


def _key_variants(key: str) -> list[str]:
    out = {key[:-1], f"{key}s", key.upper(), f"{key}\n", key.replace("_", "-"), f" {key}"}
    out |= {key.replace("_", ""), "zzz_unknown"}
    return sorted(k for k in out if k and k != key)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, Path_, Any]:
    """(base, what, path, value): one change to one shipped policy."""
    name = draw(st.sampled_from(NAMES[:2]) | st.sampled_from(NAMES), label="base")
    path, node = draw(st.sampled_from(NODES[name]), label="node")
    whats = ["set", "set", "set"] if path else []
    if path and isinstance(path[-1], str):
        whats += ["drop", "rename"]
    if isinstance(node, dict):
        whats += ["add"]
    what = draw(st.sampled_from(whats or ["add"]), label="what")
    if what == "set":
        return name, what, path, draw(_values(node, STRINGS[name]), label="value")
    if what == "rename":
        return name, what, path, draw(st.sampled_from(_key_variants(str(path[-1]))))
    if what == "add":
        key = draw(st.sampled_from(["zzz_unknown", "Zzz", "id", "doc", "value", "kind"]))
        return name, what, (*path, key), draw(st.sampled_from(["x", {}, 1, []]))
    return name, what, path, None


def _changed(name: str, what: str, path: Path_, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASES[name])
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    key = path[-1]
    if what == "add" and isinstance(target, dict) and key in target:
        return doc  # the key is there: adding it changes nothing
    if what in ("set", "add"):
        target[key] = copy.deepcopy(value)
    elif what == "drop":
        del target[key]
    elif what == "rename":
        items = list(target.items())
        target.clear()
        target.update({value if k == key else k: v for k, v in items})
    return doc


# ------------------------------------------------------------------ the two judges


def _schema_accepts(doc: Any) -> bool:
    return bool(VALIDATOR.is_valid(doc))


def _loader_problems(doc: Any) -> list[str] | None:
    """The loader's problems with ``doc``, or None when it loads."""
    try:
        policy_from_dict(doc)
    except PolicyError as exc:
        # Past its limit the loader counts the problems it does not list.
        unlisted = re.compile(r"and [0-9]+ more problems, not listed")
        return [
            f"{p.path}: {p.message}"
            for p in exc.problems
            if p.path or not unlisted.fullmatch(p.message)
        ]
    except CollectRulesError as exc:
        return [str(exc)]
    return None


class _Excuse(NamedTuple):
    """A documented exception (``number``, as POLICY_EXCEPTIONS counts them) as the
    changes that can meet it and the problems the loader then reports: the changed path
    (keys and positions joined by dots) matches ``path``, the problem ``problem``; with
    ``child``, the changed policy extends another; with ``here``, the problem is at a
    key that was changed (:func:`_here`)."""

    number: int
    path: str
    problem: str
    child: bool = False
    here: bool = False


# A key that holds a condition, and a problem the loader reports at one.
_CONDITION_KEY = r"(^|\.)(when|or)$|^conditions\.[^.]+$"
_AT_CONDITION = r"^[^:]*\.(when|or)(\[\d+\])?: |^conditions\.[^.:]+: "
# Tables whose entries other parts of the policy name: changing or removing one leaves
# its name pointing at nothing (a parameter, a signal, a layer's output or values, a
# regulation pack's fact, classes and flags, a bucket, an asset source, the base, the
# rules that disable leaves in place, the fact fields a section gives).
_NAMED = (
    r"^(parameters|signals|regulation|buckets|conditions|catalogue|extends|disable|"
    r"guardrails|timeline|emergencies|money|assets)(\.|$)|"
    r"^layers(\.\d+)?$|^layers\.\d+\.(id|output|values|labels)(\.|$)|^assets\.sources(\.|$)"
)
_DANGLING = (
    r"unknown (parameter|name|field|source|remedy|product|plan|quadrant) '|unknown product$|"
    r"is not a value of '|"
    r"names no fact field or parameter|expected the name of a parameter|"
    r"to name a parameter of the policy|has no signal kind|expected one of the classes|"
    r"is not one of (the layer's|these) values|cannot read them|"
    r"expected a value of the layer mapped|every quadrant needs an envelope|no plan named|"
    r"no regulation pack '"
)
# A key whose figure the loader checks against others of its table or section.
_FIGURE = (
    r"(^|\.)(min_dpd|max_dpd|over_dpd|from_dpd|closed_end|open_end|start|end|max|days|"
    r"hours|years|relative|absolute|[A-Z]{3}|[a-z_]+_months|multiple|lpr|excess|rate|"
    r"max_share|[a-z_]+_share|ranges|classes|within|after|limit)(\.\d+)?$"
)
_AGREE = (
    r"overlaps|gap between|is greater than|begins at dpd|start before|"
    r"must be (below|above|less|more|at most|at least)|need both a start and an end|"
    r"only the last range may be open-ended|must be open-ended|"
    r"so they must list the same classes"
)
_EXCUSES: list[_Excuse] = [
    # 1. a condition's text: its grammar, the fields and values it names
    _Excuse(1, _CONDITION_KEY, _AT_CONDITION),
    # 2. names that must name something elsewhere in the policy or its base: a name
    # changed where it is used ...
    _Excuse(
        2,
        r".",
        _DANGLING + r"|no plan named|no shipped policy|no rule ['\"].*['\"] to disable|"
        r"expected one of [\s\S]+, got |unknown event kind|unknown product type|"
        r"unknown value '.*'; expected one of |"
        r"missing the threshold for|has no calendar for|has no subdivision|"
        r"expected a class (worse|after)",
        here=True,
    ),
    # ... or the thing it names changed or removed ...
    _Excuse(2, _NAMED, _DANGLING),
    # ... and, in a policy that extends another, an entry new to the base without the
    # keys a new entry needs
    _Excuse(2, r"^parameters\.[^.]+(\.value)?$", r"\.value: expected a finite number", True),
    _Excuse(
        2,
        r"^layers\.\d+(\.values)?$",
        r"\.values: a layer needs at least one|\.value: expected one of .*, got",
        True,
    ),
    _Excuse(2, r"^money(\.max_months_rule)?$", r"max_months_rule: required with max_", True),
    # 3. ids and names unique across a table or the policy
    _Excuse(
        3,
        r"(^|\.)(id|value|values|rule|rules|ranges|classes|layers|disable|fact|output)(\.\d+)?$|"
        r"^parameters\.[^.]+$|^(timeline|emergencies)\.plans\.[^.]+$",
        r"duplicate|listed twice|already|more than once|repeats|same id|has the name of a",
    ),
    # 4. a parameter's value, checked where the parameter is used ...
    _Excuse(
        4,
        r"^parameters\.[^.]+(\.value)?$",
        r"parameter '[^']+': |^parameters\.[^.:]+: |"
        r"^emergencies\.unreachable_attempts: expected a whole number|" + _AGREE,
    ),
    # ... and figures that must agree with each other
    _Excuse(4, _FIGURE, _AGREE, here=True),
    _Excuse(
        4, r"^regulation\.[^.]+\.classes\.\d+\.value$", r"must list the same classes", here=True
    ),
    _Excuse(4, r"^envelopes\.Q[1-4]$", r"every quadrant needs an envelope"),
    # 5. a rule id's characters, beyond its length, its ends and its line breaks
    _Excuse(5, r"(^|\.)id$", r"expected a (visible name|rule id) such as"),
]


_WHOLE = re.compile(r"expected a ([a-z-]+ )?whole number.*, got -?[0-9.e+]+")
_NOT_FINITE = re.compile(r"finite|got (nan|inf|-inf)\b")


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _stem(key: str) -> str:
    return key[:-3] + "y" if key.endswith("ies") else key.removesuffix("s")


def _here(path: Path_, problem: str) -> bool:
    """Whether ``problem`` is at a key of the changed ``path``: the two share a key below
    the top-level one (``remedies.rules.0.remedies.1`` and ``remedies[R-1].remedy``), or
    are the same top-level key (``disable.3`` and ``disable[3]``)."""
    where = problem.split(": ", 1)[0]
    theirs = [k for k in re.split(r"\[[^\]]*\]|\.", where) if k]
    ours = [k for k in path if isinstance(k, str)]
    if not theirs or theirs[0] != ours[0]:
        return False
    if len(ours) == 1 or len(theirs) == 1:
        return len(ours) == len(theirs) == 1
    return bool({_stem(k) for k in ours[1:]} & {_stem(k) for k in theirs[1:]})


def _excused(name: str, path: Path_, value: Any, problem: str) -> int | None:
    """The documented exception that ``problem`` falls under, given the change."""
    if isinstance(value, float) and value.is_integer() and _WHOLE.search(problem):
        return 7  # a whole number written with a decimal point
    if _non_finite(value):
        # 6. NaN and infinity, which JSON has not: what the loader reports once it has
        # refused the figure (a parameter it then does not know) follows from it, and
        # _check requires that it says so
        return 6
    where = ".".join(map(str, path))
    child = "extends" in BASES[name]
    return next(
        (
            e.number
            for e in _EXCUSES
            if (child or not e.child)
            and (not e.here or _here(path, problem))
            and re.search(e.path, where)
            and re.search(e.problem, problem)
        ),
        None,
    )


def _check(name: str, what: str, path: Path_, value: Any) -> None:
    doc = _changed(name, what, path, value)
    schema, problems = _schema_accepts(doc), _loader_problems(doc)
    shown = f"{name}: {what} {'.'.join(map(str, path))} = {value!r:.80}"
    if schema == (problems is None):
        return
    assert schema, f"{shown}: the schema refuses what the loader reads"
    assert problems is not None
    if _non_finite(value):
        assert any(_NOT_FINITE.search(p) for p in problems), f"{shown}: {problems}"
    undocumented = [p for p in problems if _excused(name, path, value, p) is None]
    assert not undocumented, f"{shown}: the schema accepts, the loader refuses: {undocumented}"


# The examples are drawn from a fixed seed (``derandomize``): every run, on every
# Python, checks the same 600 changes. A wider search, with fresh seeds, is
# ``COLLECTRULES_SCHEMA_SEARCH=4000 pytest tests/test_policy_schema_agreement.py``.
@schema_search(600)
@given(mutation=mutations())
def test_the_schema_accepts_a_policy_exactly_when_the_loader_does(
    mutation: tuple[str, str, Path_, Any],
) -> None:
    _check(*mutation)


def test_every_shipped_policy_passes_both() -> None:
    for name, doc in BASES.items():
        assert _schema_accepts(doc), name
        assert _loader_problems(json.loads(json.dumps(doc))) is None, name


# ------------------------------------------------------------------ what was wrong

GUARD_START = ("guardrails", "HOURS", "rules", 0, "start")
LPR_DATE = ("money", "rate_cap", "lpr_date")
WITHIN = ("timeline", "plans", "loan", 0, "within")
ABSOLUTE = ("regulation", "EU-DEFAULT", "absolute")
# Documents the schema accepted and the loader refused (or the reverse), each now
# judged alike: (base, what, path, value).
GAPS: list[tuple[str, str, Path_, Any]] = [
    ("ifrs9", "set", ("extends",), None),
    ("default", "add", ("assets", "classes", "shares_bonds", "doc"), {}),
    ("default", "add", ("assets", "doc"), 0),
    ("default", "set", GUARD_START, "24:30"),
    ("cn_credit_card", "drop", ("regulation", "CN-CARD-CLASS", "classes", 4, "over_dpd"), None),
    ("cn_bank_loan", "set", ("layers", 0, "rules", 0, "when"), None),
    ("default", "set", GUARD_START, "08:00\n"),
    ("default", "set", GUARD_START, "1٣:00"),
    ("cn_bank_loan", "set", LPR_DATE, "2026-02-30"),
    ("cn_bank_loan", "set", LPR_DATE, "2100-02-29"),
    ("cn_bank_loan", "set", LPR_DATE, "٢٠٢٦-01-01"),
    ("cn_bank_loan", "set", LPR_DATE, "2026-01-01\n"),
    ("cn_bank_loan", "set", LPR_DATE, "0000-01-01"),
    ("cn_bank_loan", "set", LPR_DATE, "2000-02-29"),
    ("ifrs9", "rename", (*ABSOLUTE, "EUR"), "EUR\n"),
    ("ifrs9", "rename", (*ABSOLUTE, "EUR"), "ÉUR"),
    ("ifrs9", "set", ("regulation", "EU-DEFAULT", "labels", "not_default", 1), -0.5),
    ("default", "set", ("layers", 2, "labels", "able", 1), False),
    ("us_regf", "set", ("version",), "1.0.0\n"),
    ("uk", "set", ("parameters", "contact_hours_end"), {}),
    ("default", "set", WITHIN, "٣ days"),
    ("default", "set", WITHIN, "3 business\tdays"),
    ("default", "set", WITHIN, "3\x1cdays"),
    ("default", "set", ("layers", 1, "rules", 1, "reason"), 0),
    ("default", "set", ("layers", 1, "rules", 1, "doc"), ["x"]),
    ("default", "set", ("layers", 0, "doc"), 0),
    ("default", "set", ("remedies", "rules", 0, "doc"), {}),
    ("default", "set", ("signals", "sales_decline", "label_en"), 0),
    ("default", "set", ("signals", "sales_decline", "doc"), 0),
    ("default", "set", ("parameters", "lookback_days", "doc"), {}),
    ("default", "set", ("parameters", "lookback_days", "chosen"), {"x": 1}),
    ("default", "set", ("remedies", "rules", 0, "id"), "12:60"),
    ("default", "set", ("layers", 0, "rules", 0, "id"), "R-逾期-1"),
    ("us_regf", "set", ("remedies", "rules", 0, "id"), "3 weeks"),
    # what every entry needs, required only in a policy that extends none
    ("default", "drop", ("layers", 1, "values"), None),
    ("default", "drop", ("signals", "sales_decline", "polarity"), None),
    ("uk", "set", ("signals",), {"sales_decline": {"doc": "x"}}),
    ("default", "drop", ("timeline", "calendar"), None),
    ("cn_credit_card", "drop", ("extends",), None),
    ("uk", "drop", ("extends",), None),
    ("default", "drop", ("emergencies", "kinds", "absconded"), None),
    # keys that go together
    ("cn_bank_loan", "drop", ("regulation", "CN-5LVL", "upgrade_from"), None),
    ("cn_bank_loan", "drop", ("regulation", "CN-5LVL", "restructured_months"), None),
    ("cn_bank_loan", "drop", ("regulation", "CN-5LVL", "cross_class"), None),
    ("ifrs9", "drop", ("regulation", "EU-DEFAULT", "absolute"), None),
    ("ifrs9", "drop", ("regulation", "EU-DEFAULT", "probation_months"), None),
    ("cn_bank_loan", "drop", ("guardrails", "CN", "rules", 2, "failed_attempts"), None),
    ("us_regf", "drop", ("timeline", "deadlines", "records", "cites"), None),
    ("default", "set", ("timeline", "plans", "credit_card", 3, "completed_by"), []),
    ("default", "set", ("timeline", "plans", "property_fee", 3, "action"), "\n"),
    ("default", "set", ("assets", "sources"), {}),
    # one text where the loader reads one or many
    ("default", "set", ("remedies", "rules", 12, "conditions"), "debtor_consent"),
    ("uk", "set", ("guardrails", "UK", "rules", 1, "conditions"), "x"),
    ("default", "set", ("assets", "sources", "bank", "cites"), "R-1"),
    ("cn_bank_loan", "set", ("money", "reductions", "hardship", "quadrants"), "Q2"),
    # a pack switched off, whose keys the loader does not read
    ("uk", "add", ("guardrails", "HOURS", "doc"), {}),
    # what the loader let through
    ("uk", "set", ("disable",), {}),
    ("default", "set", ("money", "horizon_rule"), "Q2-SHORT\n"),
    ("default", "set", ("envelopes", "Q1", "doc"), 0),
    ("us_regf", "rename", ("regulation", "US-FFIEC", "flags", "ffiec_chargeoff_due"), "FFIEC_X"),
    ("default", "rename", ("money", "targets", "overdue_recovery"), " overdue_recovery"),
    ("us_regf", "set", ("timeline", "deadlines"), None),
    ("us_regf", "set", ("layers",), 366),
    ("ifrs9", "set", ("regulation", "IFRS9", "classes", 2, "rebuttable_by"), None),
    ("us_regf", "set", ("timeline", "calendar"), ""),
    ("us_regf", "set", ("timeline", "calendar", "extra_holidays"), ["x"]),
    ("us_regf", "set", ("timeline", "calendar", "extra_holidays"), ["20260101"]),
    ("default", "set", ("envelopes",), None),
    # found by wider searches: an empty text where a class names a rule or a pack
    ("us_regf", "set", ("regulation", "US-FFIEC", "classes", 2, "rule"), ""),
    ("cn_bank_loan", "set", ("regulation", "CN-5LVL", "classes", 0, "rule"), ""),
    ("ifrs9", "set", ("regulation", "IFRS9", "classes", 2, "in_default", "pack"), ""),
    ("ifrs9", "set", ("regulation", "IFRS9", "classes", 2, "in_default", "rule"), ""),
]


@pytest.mark.parametrize(
    ("name", "what", "path", "value"),
    GAPS,
    ids=[f"{n}:{'.'.join(map(str, p))}={v!r:.20}" for n, _, p, v in GAPS],
)
def test_the_gaps_found_are_closed(name: str, what: str, path: Path_, value: Any) -> None:
    doc = _changed(name, what, path, value)
    assert _schema_accepts(doc) == (_loader_problems(doc) is None), (path, value)


# ------------------------------------------------------------------ the documented exceptions

_US_STAGES = BASES["us_regf"]["timeline"]["plans"]["us_consumer"]
_EMERGENCY_PLAN, _EMERGENCY_STEPS = next(iter(BASES["default"]["emergencies"]["plans"].items()))

# One example of each: (number, base, path, value); the schema accepts, the loader refuses.
EXCEPTIONS: list[tuple[int, str, Path_, Any]] = [
    (1, "default", ("layers", 1, "rules", 0, "when"), "lied_about_cause >="),
    (2, "default", ("remedies", "rules", 0, "remedies", 0), "no_such_remedy"),
    (3, "default", ("layers", 1, "rules", 1, "id"), "W-LIED-ABOUT-CAUSE"),
    (4, "default", ("parameters", "lookback_days", "value"), 1000000),
    (5, "default", ("remedies", "rules", 0, "id"), "R\u200b1"),
    (6, "default", ("parameters", "coverage_able", "value"), math.nan),
    (7, "default", ("parameters", "recovery_horizon_months", "value"), 24.0),
    # found by wider searches: a layer value with a line break, which the rules that give
    # the value without it no longer name (the choices are quoted as given)
    (2, "default", ("layers", 1, "values", 0), "willing\n"),
    # a plan's stages given whole, one of them twice
    (3, "us_regf", ("timeline", "plans", "us_consumer"), [*_US_STAGES, *_US_STAGES]),
    (3, "default", ("emergencies", "plans", _EMERGENCY_PLAN), [*_EMERGENCY_STEPS] * 2),
]


@pytest.mark.parametrize(("number", "name", "path", "value"), EXCEPTIONS)
def test_each_documented_exception_is_real(number: int, name: str, path: Path_, value: Any) -> None:
    doc = _changed(name, "set", path, value)
    problems = _loader_problems(doc)
    assert _schema_accepts(doc)
    assert problems
    assert {_excused(name, path, value, p) for p in problems} == {number}, problems


# Changes wider searches found the test judged wrong, each a documented exception (or
# more than one): (base, what, path, value).
FOUND: list[tuple[str, str, Path_, Any]] = [
    # a layer's output given the name of a named condition (3), whose rules' fields the
    # layers reading the output no longer find (2)
    ("default", "set", ("layers", 2, "output"), "impaired"),
    ("us_regf", "set", ("timeline", "plans", "us_consumer"), [*_US_STAGES, *_US_STAGES]),
    ("default", "set", ("layers", 1, "values", 0), "willing\n"),
]


@pytest.mark.parametrize(("name", "what", "path", "value"), FOUND)
def test_the_changes_wider_searches_found_are_judged(
    name: str, what: str, path: Path_, value: Any
) -> None:
    _check(name, what, path, value)


# Problems that look like a documented exception's, met after a change the exception is
# not about: each must count as undocumented.
NOT_EXCUSED: list[tuple[str, Path_, Any, str]] = [
    # a condition's problem, after a change to no condition
    ("default", ("remedies", "conditions"), "x", "remedies[R-1].when: unknown field 'x'"),
    # a parameter's value, in a base policy that left it out
    ("default", ("parameters", "lookback_days"), {}, "parameters.lookback_days.value: expected "
     "a finite number, a string or a boolean"),
    # a rule id's characters, after a change to no id
    ("default", ("layers", 0, "rules", 0, "reason"), "x", "layers[p].rules[1].id: expected a "
     "rule id such as 'R-Q2-EXTEND'"),
    # NaN's problem, after a change to a finite number
    ("default", ("remedies", "rules", 0, "doc"), 1.5, "parameters.lookback_days.value: "
     "expected a finite number, a string or a boolean"),
    # a whole number written with a point, after a change to no figure
    ("default", ("layers", 0, "doc"), "x", "buckets.M.ranges[M5].max_dpd: the value: expected "
     "a whole number, got 150.0"),
    # a name pointing at nothing, in another table than the one changed
    ("default", ("layers", 0, "doc"), "x", "remedies[R-1].remedy: unknown remedy 'x'"),
    # figures that disagree, after a change to a text
    ("default", ("layers", 0, "doc"), "x", "buckets.M.ranges[M2]: bucket 'M2' overlaps 'M1'"),
    # a stage given twice, after a change to a stage's title, not to its plan
    ("us_regf", ("timeline", "plans", "us_consumer", 0, "title"), "x", "timeline.plans."
     "us_consumer[US-VALIDATION]: duplicate stage id 'US-VALIDATION' in plan 'us_consumer'"),
    # a plan given whole, with a problem other than a stage given twice
    ("us_regf", ("timeline", "plans", "us_consumer"), [], "timeline.plans.us_consumer"
     "[US-VALIDATION].within: cannot read offset 'soon'"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "value", "problem"), NOT_EXCUSED)
def test_an_exception_excuses_only_the_changes_it_is_about(
    name: str, path: Path_, value: Any, problem: str
) -> None:
    assert _excused(name, path, value, problem) is None


def test_the_exceptions_are_documented_in_the_schema_and_the_docs() -> None:
    description = policy_schema()["description"]
    docs = " ".join((ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8").split())
    assert len(POLICY_EXCEPTIONS) == 7
    assert {e.number for e in _EXCUSES} == {1, 2, 3, 4, 5}
    for text in POLICY_EXCEPTIONS:
        assert text in description
        assert " ".join(text.split()) in docs, text
